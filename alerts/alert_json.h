/* alert_json: an alert state as JSON text, the way the database keeps it between checks. */
#ifndef STSWATCH_ALERT_JSON_H
#define STSWATCH_ALERT_JSON_H

#include <jansson.h>

#include "alert.h"

/* The state as a JSON object (caller owns the reference). */
json_t *alert_state_to_json(const struct alert_state *s);
/*
 * Read a state back; 0, or -1 with err when the JSON is not a state (the caller then
 * starts from an empty one and says so: a damaged row must not stop alerting). Members
 * it does not know are ignored: the agent keeps its "resend" beside (docs/ALERT-DATA.md).
 */
int alert_state_from_json(const json_t *j, struct alert_state *s, char *err, size_t errlen);

#endif
