/* finding_class: what a finding means for alerting: the cause it is a symptom of, and
 * whether it can flicker (a refused connection) or is a fact that does not (a date). */
#ifndef STSWATCH_FINDING_CLASS_H
#define STSWATCH_FINDING_CLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

/*
 * The cause of a finding, so that every symptom of one problem is one incident: the MX
 * host ("mx:mx1.example.org" for any of its addresses), the policy host's certificate,
 * the policy, the TXT record, the cached policies, TLS-RPT, the MX set, the domain.
 */
void finding_cause(enum finding_code code, const char *subject, char *buf, size_t len);

/* Can this finding come and go between two checks without anything being changed? */
bool finding_transient(enum finding_code code);

#endif
