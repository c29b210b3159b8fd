/* libFuzzer target: the MTA-STS policy parser (RFC 8461 3.2) on arbitrary bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/mx_match.h"
#include "checks/policy.h"

#define SUBJECT "https://mta-sts.example.org/.well-known/mta-sts.txt"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every message must be printable: network bytes never reach a terminal raw. */
static void check_printable(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		for (const char *p = fs->v[i].message; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				__builtin_trap();
	/* one finding per identity (code, subject), each saying what is wrong */
	for (size_t i = 0; i < fs->n; i++) {
		if (!fs->v[i].what[0])
			__builtin_trap();
		for (size_t k = i + 1; k < fs->n; k++)
			if (fs->v[i].code == fs->v[k].code &&
			    strcmp(fs->v[i].subject, fs->v[k].subject) == 0)
				__builtin_trap();
	}
}

/* What a valid policy promises its users (the judge relies on it). */
static void check_policy(const struct policy *p, int rc)
{
	if ((rc == 0) != p->valid || p->n_mx > POLICY_MAX_MX)
		__builtin_trap();
	for (size_t i = 0; i < p->n_mx; i++)
		if (!p->mx[i] || !mx_pattern_valid(p->mx[i], NULL, 0))
			__builtin_trap();
	if (!p->valid)
		return;
	if (!p->version_ok || p->mode == POLICY_MODE_UNSET || p->max_age < 0 ||
	    p->max_age > POLICY_MAX_AGE_MAX || (p->mode != POLICY_MODE_NONE && !p->n_mx))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an allocation of exactly the body's length: no terminator to lean on */
	char *body = malloc(size ? size : 1);
	struct findings fs;
	struct policy p, q;
	int rc;

	if (size)
		memcpy(body, data, size);
	findings_init(&fs);
	/* the severities where senders differ follow the view; the reading must not */
	fs.view = (enum findings_view)(size % 3);
	rc = policy_parse(body, size, &p, &fs, SUBJECT);
	check_policy(&p, rc);
	check_printable(&fs);
	if (p.valid && findings_status(&fs) == STATUS_CRITICAL && fs.view != VIEW_LINT_STRICT)
		__builtin_trap();	/* a CRITICAL finding makes the policy invalid */
	policy_copy(&q, &p);
	policy_free(&p);
	if (q.n_mx && mx_match_any(q.mx, q.n_mx, q.mx[q.n_mx - 1]) < 0)
		__builtin_trap();	/* a kept pattern matches its own text */
	policy_free(&q);
	findings_free(&fs);
	free(body);
	return 0;
}
