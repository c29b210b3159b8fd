/* policy: the MTA-STS policy file, parsed as RFC 8461 section 3.2 says. */
#ifndef STSWATCH_POLICY_H
#define STSWATCH_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

#define POLICY_MAX_BODY 65536	/* RFC 8461 3.3: senders may cap the body at 64 KiB */
#define POLICY_MAX_MX 256	/* patterns kept; more is noted, never silently dropped */
#define POLICY_MAX_AGE_MAX 31557600L	/* RFC 8461 3.2 */

enum policy_mode {
	POLICY_MODE_UNSET = 0,
	POLICY_MODE_NONE,
	POLICY_MODE_TESTING,
	POLICY_MODE_ENFORCE,
};

enum policy_eol {
	POLICY_EOL_NONE = 0,	/* a single line without terminator */
	POLICY_EOL_CRLF,
	POLICY_EOL_LF,
	POLICY_EOL_MIXED,
};

struct policy {
	bool valid;		/* a sender following the RFC would use it */
	enum policy_mode mode;	/* POLICY_MODE_UNSET when missing or invalid */
	long max_age;		/* seconds; -1 when missing or invalid */
	size_t n_mx;
	char **mx;		/* patterns in file order, as written */
	enum policy_eol eol;
	unsigned n_unknown;	/* unknown keys (ignored, RFC 8461 3.2) */
	bool version_ok;	/* "version: STSv1" present */
};

/* "none", "testing", "enforce", or "unset". */
const char *policy_mode_str(enum policy_mode mode);

/*
 * Parse a policy body of len bytes (may hold NUL bytes; len <= POLICY_MAX_BODY expected).
 * Adds findings with the given subject (the policy URL): policy.invalid (the message names
 * the rule and the line), policy.version, policy.mode, policy.mx_missing, policy.max_age
 * (CRITICAL when missing or out of range, WARNING when under one day), policy.line_endings
 * (INFO, LF-only or mixed), policy.unknown_key (INFO), policy.mode_testing and
 * policy.mode_none (INFO), policy.note (where senders read the policy differently). Where
 * the grammar and senders differ (checks/senders.h) the policy is read as most senders read
 * it and the finding carries the rule: its severity follows the rule and fs->view. Returns
 * 0 when out->valid (this tool's reading). policy_free() must be called either way.
 */
int policy_parse(const char *body, size_t len, struct policy *out, struct findings *fs,
		 const char *subject);

/* Free what policy_parse allocated; the struct is left empty. */
void policy_free(struct policy *p);

/* Deep copy. */
void policy_copy(struct policy *dst, const struct policy *src);

#endif
