/*
 * findings: the catalogue of stable finding codes, severities, and the list of one check's
 * findings, each in parts (what, evidence, consequence, fix) and merged by identity.
 */
#ifndef STSWATCH_FINDINGS_H
#define STSWATCH_FINDINGS_H

#include <stddef.h>

#include "lib/defs.h"


/*
 * Severity of one finding, and the status of a domain (the worst of its findings).
 * INFO findings leave the status OK. "Worst" ranks CRITICAL above UNKNOWN above WARNING,
 * which is this project's choice (monitoring-plugins' max_state_alt ranks UNKNOWN below
 * WARNING): a known failure outranks "could not tell", and "could not tell" outranks a
 * mere warning.
 */
enum severity {
	SEV_INFO = 0,	/* a note; the status stays OK */
	SEV_WARNING,
	SEV_UNKNOWN,
	SEV_CRITICAL,
};

/* Exit codes and status names follow the Monitoring Plugins guidelines. */
enum status {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
	STATUS_UNKNOWN = 3,
};

/*
 * Stable dotted codes. Once shipped, a code keeps its meaning; new codes go at the end of
 * their group. finding_code_str() gives the dotted name, finding_code_parse() the reverse.
 */
enum finding_code {
	F_DNS_ERROR,		/* dns.error */
	F_STS_TXT_MISSING,	/* sts.txt.missing */
	F_STS_TXT_INVALID,	/* sts.txt.invalid */
	F_STS_TXT_MULTIPLE,	/* sts.txt.multiple */
	F_STS_TXT_NOTE,		/* sts.txt.note: strict ABNF and real senders differ */
	F_STS_TXT_REMOVED,	/* sts.txt.removed: the record existed and is gone */
	F_STS_ID_CHANGED,	/* sts.id.changed */
	F_STS_ID_STALE,		/* sts.id.stale: body changed, id not */
	F_STS_ID_REUSED,	/* sts.id.reused: an id seen before now serves another body */
	F_POLICY_FETCH,		/* policy.fetch */
	F_POLICY_HTTP_STATUS,	/* policy.http_status */
	F_POLICY_REDIRECT,	/* policy.redirect */
	F_POLICY_CONTENT_TYPE,	/* policy.content_type */
	F_POLICY_TOO_LARGE,	/* policy.too_large */
	F_POLICY_SLOW,		/* policy.slow */
	F_POLICY_INVALID,	/* policy.invalid */
	F_POLICY_VERSION,	/* policy.version */
	F_POLICY_MODE,		/* policy.mode */
	F_POLICY_MX_MISSING,	/* policy.mx_missing */
	F_POLICY_MAX_AGE,	/* policy.max_age */
	F_POLICY_LINE_ENDINGS,	/* policy.line_endings */
	F_POLICY_MODE_TESTING,	/* policy.mode_testing */
	F_POLICY_MODE_NONE,	/* policy.mode_none */
	F_POLICY_UNKNOWN_KEY,	/* policy.unknown_key */
	F_POLICY_NOTE,		/* policy.note: strict ABNF and real senders differ */
	F_POLICY_GONE,		/* policy.gone: the host served a policy before and no longer does */
	F_POLICY_CERT_EXPIRED,	/* policy.cert.expired */
	F_POLICY_CERT_EXPIRING,	/* policy.cert.expiring */
	F_POLICY_CERT_NAME,	/* policy.cert.name */
	F_POLICY_CERT_UNTRUSTED,	/* policy.cert.untrusted */
	F_POLICY_CERT_RENEWED,	/* policy.cert.renewed */
	F_MX_NONE,		/* mx.none */
	F_MX_NULL,		/* mx.null: RFC 7505 null MX, the domain takes no mail */
	F_MX_UNMATCHED,		/* mx.unmatched */
	F_MX_UNRESOLVABLE,	/* mx.unresolvable */
	F_MX_CONNECT,		/* mx.connect */
	F_MX_STARTTLS_MISSING,	/* mx.starttls_missing */
	F_MX_TLS_VERSION,	/* mx.tls_version */
	F_MX_CERT_EXPIRED,	/* mx.cert.expired */
	F_MX_CERT_EXPIRING,	/* mx.cert.expiring */
	F_MX_CERT_NAME,		/* mx.cert.name */
	F_MX_CERT_UNTRUSTED,	/* mx.cert.untrusted */
	F_MX_CERT_RENEWED,	/* mx.cert.renewed */
	F_MX_CHANGED,		/* mx.changed: the MX set differs from the last run */
	F_CACHE_STALE_POLICY,	/* cache.stale_policy */
	F_TLSRPT_MISSING,	/* tlsrpt.missing */
	F_TLSRPT_INVALID,	/* tlsrpt.invalid */
	F_TLSRPT_MULTIPLE,	/* tlsrpt.multiple */
	F_CHECK_TIMEOUT,	/* check.timeout: our own deadline ended the check */
	F_MX_TLS_HANDSHAKE,	/* mx.tls_handshake: STARTTLS accepted, the handshake failed */
	F_TLSRPT_NOTE,		/* tlsrpt.note: strict ABNF and real senders differ */
	F_DNS_NXDOMAIN,		/* dns.nxdomain: the mail domain itself does not exist */
	F_MX_NOTE,		/* mx.note: more MX hosts than are probed */
	F_CHECK_RESOURCES,	/* check.resources: stswatch ran short of descriptors, not the domain */
	F_CHECK_VANTAGE,	/* check.vantage: the monitor's port 25 or resolver fails, not the domain */
	F__COUNT
};

#define FINDING_OCC_MAX 8	/* occurrences listed in a merged finding's evidence */

struct finding_occurrence;	/* one time a finding was added: the handle that fills it */
struct finding_occurrences;	/* the occurrences behind a finding (internal) */

/*
 * One finding. Its identity is (code, subject): a list never holds two findings with the
 * same identity; adding one again merges it (see findings_add). The parts are never NULL
 * ("" when not given), are kept up to date by the finding_set_* calls, and are read-only
 * (an empty part may be a shared string).
 */
struct finding {
	enum finding_code code;
	enum severity sev;	/* the worst of its occurrences */
	char *subject;		/* what the finding is about: a host, "host[ip]", a record name */
	char *what;		/* what is wrong */
	char *evidence;		/* the header, date, pattern or host that shows it; merged:
				 * each occurrence's, "; "-separated, then "and N more" */
	char *consequence;	/* what it means for senders; merged: each distinct one */
	char *fix;		/* what to do; merged: each distinct one */
	char *message;		/* the parts joined (finding_join): kept for compatibility */
	/*
	 * Where senders read it differently (checks/senders.h): the rules of its occurrences
	 * (bit r for enum sender_rule r; 0: no profile) and, over all of them, the columns
	 * that accept every one, that reject one at least, and that read one otherwise (the
	 * rest are unknown). A sender that rejects one difference ignores the whole policy.
	 */
	unsigned long long senders_rules;
	unsigned senders_accept, senders_reject, senders_other;
	unsigned n_occurrences;	/* times it was added */
	struct finding_occurrences *occ;
};

/*
 * How findings about a difference between senders are graded (senders_severity in
 * checks/senders.c): the judge picks the view from its options, lint from --lenient.
 */
enum findings_view {
	VIEW_LIVE = 0,		/* check, run, the plugin: WARNING where some senders ignore it */
	VIEW_LINT_STRICT,	/* lint: CRITICAL when the grammar or a listed sender rejects it */
	VIEW_LINT_LENIENT,	/* lint --lenient: this tool's own reading */
};

struct findings {
	struct finding *v;
	size_t n, cap;
	enum findings_view view;	/* VIEW_LIVE after findings_init */
};

/* The dotted name of a code ("policy.cert.expiring"). */
const char *finding_code_str(enum finding_code code);
/* Look a dotted name up; -1 when unknown. */
int finding_code_parse(const char *name);
/* "INFO", "WARNING", "UNKNOWN", "CRITICAL". */
const char *severity_str(enum severity sev);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *status_str(enum status st);
/* Parse a status name (case-insensitive); -1 when unknown. */
int status_parse(const char *s);
/* The status one finding of this severity gives a domain. */
enum status severity_status(enum severity sev);
/* The severity that gives a domain this status (OK gives INFO). */
enum severity status_severity(enum status st);
/* Rank for "worst of": OK 0, WARNING 1, UNKNOWN 2, CRITICAL 3. */
int status_rank(enum status st);
/* The worse of two statuses. */
enum status status_worst(enum status a, enum status b);
/* The worse of two severities, in the same order (CRITICAL > UNKNOWN > WARNING > INFO). */
enum severity severity_worst(enum severity a, enum severity b);

/* Start an empty list. */
void findings_init(struct findings *fs);
/* Free every finding, its occurrences (every handle) and the list. */
void findings_free(struct findings *fs);
/*
 * Add one occurrence of the finding (code, subject) with this severity and return the
 * handle that fills its parts with the finding_set_* calls. A finding with the same
 * identity already in the list is not repeated: the occurrence merges into it (the worst
 * severity; the what of the first occurrence of that severity, the lead; every occurrence
 * in the evidence, up to FINDING_OCC_MAX, then a count of the rest; each distinct
 * consequence and fix, the lead's first). The handle stays valid until findings_free,
 * whatever is added, merged or sorted meanwhile; the list's struct finding entries move
 * when it grows or is sorted, so keep the handle, not a pointer into fs->v.
 */
struct finding_occurrence *findings_add(struct findings *fs, enum finding_code code,
					enum severity sev, const char *subject);
/* What is wrong: "line 3: mode \"enforcing\" is not one of enforce, testing, none". */
void finding_set_what(struct finding_occurrence *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The evidence: the record, header, date, pattern, host (shown in parentheses). */
void finding_set_evidence(struct finding_occurrence *o, const char *fmt, ...)
	PRINTF_LIKE(2, 3);
/* The consequence for senders. */
void finding_set_consequence(struct finding_occurrence *o, const char *fmt, ...)
	PRINTF_LIKE(2, 3);
/* The fix. */
void finding_set_fix(struct finding_occurrence *o, const char *fmt, ...) PRINTF_LIKE(2, 3);
/*
 * Attach a sender-profile rule (its index in enum sender_rule, 1..63) and the columns that
 * accept, reject and read it otherwise (bitmasks); merged as struct finding says.
 */
void finding_set_senders(struct finding_occurrence *o, unsigned rule, unsigned accept,
			 unsigned reject, unsigned other);

/*
 * Join parts into one message: what, then " (evidence)" when there is evidence, then
 * "; consequence" and "; fix" when given. Returns a string the caller frees.
 */
char *finding_join(const char *what, const char *evidence, const char *consequence,
		   const char *fix);
/*
 * "what (evidence)" of a finding in at most len - 1 bytes, cut with "..." (never inside a
 * UTF-8 sequence), for one-line summaries such as a mail subject.
 */
void finding_headline(const struct finding *f, char *buf, size_t len);

/* Does the list hold a finding of this code (any subject)? */
const struct finding *findings_find(const struct findings *fs, enum finding_code code);
/* The worst status of the list (OK when empty or only INFO). */
enum status findings_status(const struct findings *fs);
/* Sort by severity, worst first, then code and subject, so output is stable. */
void findings_sort(struct findings *fs);

#endif
