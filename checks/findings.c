/*
 * findings: the catalogue of stable finding codes, severities, and the list of one check's
 * findings, each in parts (what, evidence, consequence, fix) and merged by identity.
 */
#include "findings.h"
#include "lib/defs.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[F__COUNT] = {
	[F_DNS_ERROR] = "dns.error",
	[F_STS_TXT_MISSING] = "sts.txt.missing",
	[F_STS_TXT_INVALID] = "sts.txt.invalid",
	[F_STS_TXT_MULTIPLE] = "sts.txt.multiple",
	[F_STS_TXT_NOTE] = "sts.txt.note",
	[F_STS_TXT_REMOVED] = "sts.txt.removed",
	[F_STS_ID_CHANGED] = "sts.id.changed",
	[F_STS_ID_STALE] = "sts.id.stale",
	[F_STS_ID_REUSED] = "sts.id.reused",
	[F_POLICY_FETCH] = "policy.fetch",
	[F_POLICY_HTTP_STATUS] = "policy.http_status",
	[F_POLICY_REDIRECT] = "policy.redirect",
	[F_POLICY_CONTENT_TYPE] = "policy.content_type",
	[F_POLICY_TOO_LARGE] = "policy.too_large",
	[F_POLICY_SLOW] = "policy.slow",
	[F_POLICY_INVALID] = "policy.invalid",
	[F_POLICY_VERSION] = "policy.version",
	[F_POLICY_MODE] = "policy.mode",
	[F_POLICY_MX_MISSING] = "policy.mx_missing",
	[F_POLICY_MAX_AGE] = "policy.max_age",
	[F_POLICY_LINE_ENDINGS] = "policy.line_endings",
	[F_POLICY_MODE_TESTING] = "policy.mode_testing",
	[F_POLICY_MODE_NONE] = "policy.mode_none",
	[F_POLICY_UNKNOWN_KEY] = "policy.unknown_key",
	[F_POLICY_NOTE] = "policy.note",
	[F_POLICY_GONE] = "policy.gone",
	[F_POLICY_CERT_EXPIRED] = "policy.cert.expired",
	[F_POLICY_CERT_EXPIRING] = "policy.cert.expiring",
	[F_POLICY_CERT_NAME] = "policy.cert.name",
	[F_POLICY_CERT_UNTRUSTED] = "policy.cert.untrusted",
	[F_POLICY_CERT_RENEWED] = "policy.cert.renewed",
	[F_MX_NONE] = "mx.none",
	[F_MX_NULL] = "mx.null",
	[F_MX_UNMATCHED] = "mx.unmatched",
	[F_MX_UNRESOLVABLE] = "mx.unresolvable",
	[F_MX_CONNECT] = "mx.connect",
	[F_MX_STARTTLS_MISSING] = "mx.starttls_missing",
	[F_MX_TLS_VERSION] = "mx.tls_version",
	[F_MX_CERT_EXPIRED] = "mx.cert.expired",
	[F_MX_CERT_EXPIRING] = "mx.cert.expiring",
	[F_MX_CERT_NAME] = "mx.cert.name",
	[F_MX_CERT_UNTRUSTED] = "mx.cert.untrusted",
	[F_MX_CERT_RENEWED] = "mx.cert.renewed",
	[F_MX_CHANGED] = "mx.changed",
	[F_CACHE_STALE_POLICY] = "cache.stale_policy",
	[F_TLSRPT_MISSING] = "tlsrpt.missing",
	[F_TLSRPT_INVALID] = "tlsrpt.invalid",
	[F_TLSRPT_MULTIPLE] = "tlsrpt.multiple",
	[F_CHECK_TIMEOUT] = "check.timeout",
	[F_MX_TLS_HANDSHAKE] = "mx.tls_handshake",
	[F_TLSRPT_NOTE] = "tlsrpt.note",
	[F_DNS_NXDOMAIN] = "dns.nxdomain",
	[F_MX_NOTE] = "mx.note",
	[F_CHECK_RESOURCES] = "check.resources",
	[F_CHECK_VANTAGE] = "check.vantage",
};

const char *finding_code_str(enum finding_code code)
{
	if ((unsigned)code >= F__COUNT || !code_names[code])
		return "internal.unknown_code";
	return code_names[code];
}

int finding_code_parse(const char *name)
{
	for (int i = 0; i < F__COUNT; i++)
		if (code_names[i] && strcmp(code_names[i], name) == 0)
			return i;
	return -1;
}

const char *severity_str(enum severity sev)
{
	switch (sev) {
	case SEV_INFO:
		return "INFO";
	case SEV_WARNING:
		return "WARNING";
	case SEV_UNKNOWN:
		return "UNKNOWN";
	case SEV_CRITICAL:
		return "CRITICAL";
	}
	return "UNKNOWN";
}

const char *status_str(enum status st)
{
	switch (st) {
	case STATUS_OK:
		return "OK";
	case STATUS_WARNING:
		return "WARNING";
	case STATUS_CRITICAL:
		return "CRITICAL";
	case STATUS_UNKNOWN:
		return "UNKNOWN";
	}
	return "UNKNOWN";
}

int status_parse(const char *s)
{
	static const enum status all[] = { STATUS_OK, STATUS_WARNING, STATUS_CRITICAL,
					   STATUS_UNKNOWN };

	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		if (ascii_strcasecmp(s, status_str(all[i])) == 0)
			return (int)all[i];
	return -1;
}

enum status severity_status(enum severity sev)
{
	switch (sev) {
	case SEV_INFO:
		return STATUS_OK;
	case SEV_WARNING:
		return STATUS_WARNING;
	case SEV_UNKNOWN:
		return STATUS_UNKNOWN;
	case SEV_CRITICAL:
		return STATUS_CRITICAL;
	}
	return STATUS_UNKNOWN;
}

int status_rank(enum status st)
{
	switch (st) {
	case STATUS_OK:
		return 0;
	case STATUS_WARNING:
		return 1;
	case STATUS_UNKNOWN:
		return 2;
	case STATUS_CRITICAL:
		return 3;
	}
	return 2;
}

enum status status_worst(enum status a, enum status b)
{
	return status_rank(a) >= status_rank(b) ? a : b;
}

enum severity status_severity(enum status st)
{
	switch (st) {
	case STATUS_OK:
		return SEV_INFO;
	case STATUS_WARNING:
		return SEV_WARNING;
	case STATUS_CRITICAL:
		return SEV_CRITICAL;
	case STATUS_UNKNOWN:
		return SEV_UNKNOWN;
	}
	return SEV_UNKNOWN;
}

enum severity severity_worst(enum severity a, enum severity b)
{
	return status_rank(severity_status(a)) >= status_rank(severity_status(b)) ? a : b;
}

/* ---- occurrences and merging -------------------------------------------------------- */

enum part {
	PART_WHAT,
	PART_EVIDENCE,
	PART_CONSEQUENCE,
	PART_FIX,
	PART__COUNT
};

/*
 * Severities only rise when a listed occurrence is replaced (see occurrence_new), so a
 * finding retires at most one occurrence per step from INFO to CRITICAL.
 */
#define RETIRED_MAX 3

/*
 * One occurrence. While a finding has a single one (the common case), the finding's own
 * fields hold its parts and part[] stays NULL; the second occurrence copies them here.
 */
struct finding_occurrence {
	struct findings *fs;
	enum finding_code code;
	const char *subject;	/* the finding's own string: with code, it finds the finding */
	enum severity sev;
	char *part[PART__COUNT];	/* NULL reads as "" */
	bool listed;		/* its parts show in the finding */
};

struct finding_occurrences {
	struct finding_occurrence *listed[FINDING_OCC_MAX];
	size_t n_listed;
	struct finding_occurrence *retired[RETIRED_MAX];	/* replaced by a worse one */
	size_t n_retired;
	struct finding_occurrence first;	/* listed[0] */
	struct finding_occurrence spill;	/* the handle of every occurrence past the list */
	unsigned n_more;	/* occurrences not listed */
	char *evidence_listed;	/* the evidence of the listed ones, before "and N more" */
};

static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	char *s;
	int n;

	if (strcmp(fmt, "%s") == 0) {
		const char *arg = va_arg(ap, const char *);

		return xstrdup(arg ? arg : "");	/* the common case, without printf */
	}
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return xstrdup("");
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* Concatenate n strings (NULL ones skipped) into one allocation. */
static char *concat(const char *const *parts, size_t n)
{
	size_t len[2 * FINDING_OCC_MAX + 2], total = 0, o = 0;
	char *s;

	for (size_t i = 0; i < n && i < ARRAY_LEN(len); i++) {
		len[i] = parts[i] ? strlen(parts[i]) : 0;
		total += len[i];
	}
	s = xmalloc(total + 1);
	for (size_t i = 0; i < n && i < ARRAY_LEN(len); i++) {
		memcpy(s + o, parts[i] ? parts[i] : "", len[i]);
		o += len[i];
	}
	s[o] = '\0';
	return s;
}

static const char *occ_part(const struct finding_occurrence *o, enum part k)
{
	return o->part[k] ? o->part[k] : "";
}

static void occurrence_free(struct finding_occurrence *o)
{
	if (!o)
		return;
	for (int k = 0; k < PART__COUNT; k++)
		free(o->part[k]);
	free(o);
}

static int severity_rank(enum severity sev)
{
	return status_rank(severity_status(sev));
}

/* The finding an occurrence belongs to, wherever the list has moved it. */
static struct finding *occurrence_owner(const struct finding_occurrence *o)
{
	for (size_t i = 0; i < o->fs->n; i++)
		if (o->fs->v[i].subject == o->subject && o->fs->v[i].code == o->code)
			return &o->fs->v[i];
	return NULL;
}

/* What an empty part of a finding points to: shared, never freed, never written. */
static char empty[1];

static void release(char *s)
{
	if (s != empty)
		free(s);
}

static void replace(char **dst, char *src)
{
	release(*dst);
	*dst = src;
}

/* The finding's own copy of part k. */
static char **finding_part(struct finding *f, enum part k)
{
	switch (k) {
	case PART_WHAT:
		return &f->what;
	case PART_EVIDENCE:
		return &f->evidence;
	case PART_CONSEQUENCE:
		return &f->consequence;
	case PART_FIX:
	case PART__COUNT:
		break;
	}
	return &f->fix;
}

/* One occurrence and nothing counted: the finding's fields are the occurrence's parts. */
static bool finding_single(const struct finding *f)
{
	return f->occ->n_listed == 1 && !f->occ->n_more;
}

/* Append s to a list unless it is empty or already an entry of it. */
static void list_add(const char **entries, size_t *n, size_t max, const char *s)
{
	if (!s || !s[0] || *n == max)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(entries[i], s) == 0)
			return;
	entries[(*n)++] = s;
}

/* "a; b; c", then "; and N more" when more. */
static char *list_join(const char *const *entries, size_t n, unsigned more)
{
	const char *parts[2 * FINDING_OCC_MAX + 2];
	char tail[32] = "";
	size_t k = 0;

	for (size_t i = 0; i < n && i < FINDING_OCC_MAX; i++) {
		if (i)
			parts[k++] = "; ";
		parts[k++] = entries[i];
	}
	if (more) {
		snprintf(tail, sizeof(tail), "%sand %u more", n ? "; " : "", more);
		parts[k++] = tail;
	}
	return concat(parts, k);
}

static void finding_rejoin(struct finding *f)
{
	replace(&f->message, finding_join(f->what, f->evidence, f->consequence, f->fix));
}

/* Only the count of unlisted occurrences changed: the evidence's tail and the message. */
static void finding_render_count(struct finding *f)
{
	const char *listed = f->occ->evidence_listed;

	replace(&f->evidence, list_join(listed && listed[0] ? &listed : NULL,
					listed && listed[0] ? 1 : 0, f->occ->n_more));
	finding_rejoin(f);
}

/*
 * Rebuild the parts of a merged finding from its listed occurrences. The lead is the first
 * of the worst severity: its what is the finding's. The evidence lists the lead's evidence,
 * then each other occurrence's: its evidence when its what is the lead's, else its what
 * (with its evidence when that differs from the lead's); then how many more there were.
 * The consequence and the fix list each distinct text, the lead's first.
 */
static void finding_render(struct finding *f)
{
	struct finding_occurrences *oc = f->occ;
	const struct finding_occurrence *lead = NULL;
	const char *ev[FINDING_OCC_MAX], *cons[FINDING_OCC_MAX], *fixes[FINDING_OCC_MAX];
	char *owned[FINDING_OCC_MAX];
	size_t n_ev = 0, n_cons = 0, n_fix = 0, n_owned = 0;

	if (finding_single(f)) {
		finding_rejoin(f);	/* the fields hold the parts already */
		return;
	}
	for (size_t i = 0; i < oc->n_listed; i++)
		if (!lead || severity_rank(oc->listed[i]->sev) > severity_rank(lead->sev))
			lead = oc->listed[i];
	if (!lead)
		return;
	list_add(ev, &n_ev, ARRAY_LEN(ev), occ_part(lead, PART_EVIDENCE));
	list_add(cons, &n_cons, ARRAY_LEN(cons), occ_part(lead, PART_CONSEQUENCE));
	list_add(fixes, &n_fix, ARRAY_LEN(fixes), occ_part(lead, PART_FIX));
	for (size_t i = 0; i < oc->n_listed; i++) {
		const struct finding_occurrence *o = oc->listed[i];
		const char *w = occ_part(o, PART_WHAT), *e = occ_part(o, PART_EVIDENCE);

		if (o == lead)
			continue;
		if (strcmp(w, occ_part(lead, PART_WHAT)) == 0) {
			list_add(ev, &n_ev, ARRAY_LEN(ev), e);
		} else if (e[0] && strcmp(e, occ_part(lead, PART_EVIDENCE)) != 0) {
			const char *p[] = { w, " (", e, ")" };

			owned[n_owned] = concat(p, ARRAY_LEN(p));
			list_add(ev, &n_ev, ARRAY_LEN(ev), owned[n_owned++]);
		} else {
			list_add(ev, &n_ev, ARRAY_LEN(ev), w);
		}
		list_add(cons, &n_cons, ARRAY_LEN(cons), occ_part(o, PART_CONSEQUENCE));
		list_add(fixes, &n_fix, ARRAY_LEN(fixes), occ_part(o, PART_FIX));
	}
	replace(&f->what, xstrdup(occ_part(lead, PART_WHAT)));
	replace(&oc->evidence_listed, list_join(ev, n_ev, 0));
	replace(&f->consequence, list_join(cons, n_cons, 0));
	replace(&f->fix, list_join(fixes, n_fix, 0));
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	finding_render_count(f);
}

static struct finding_occurrence *occurrence_alloc(struct findings *fs, const struct finding *f,
						   enum severity sev)
{
	struct finding_occurrence *o = xcalloc(1, sizeof(*o));

	o->fs = fs;
	o->code = f->code;
	o->subject = f->subject;
	o->sev = sev;
	o->listed = true;
	return o;
}

/*
 * The handle for a new occurrence of f: listed while there is room; past that, a worse
 * occurrence takes the place of the last listed one (which is then counted with the rest,
 * its handle kept alive), and any other shares the spill handle, counted only.
 */
static struct finding_occurrence *occurrence_new(struct findings *fs, struct finding *f,
						 enum severity sev)
{
	struct finding_occurrences *oc = f->occ;
	struct finding_occurrence *o;
	bool worse = true;

	if (finding_single(f))
		/* a second occurrence: the first one's parts move out of the finding's fields */
		for (int k = 0; k < PART__COUNT; k++)
			replace(&oc->listed[0]->part[k], xstrdup(*finding_part(f, (enum part)k)));
	if (oc->n_listed < FINDING_OCC_MAX) {
		o = occurrence_alloc(fs, f, sev);
		oc->listed[oc->n_listed++] = o;
		return o;
	}
	for (size_t i = 0; i < oc->n_listed; i++)
		worse &= severity_rank(sev) > severity_rank(oc->listed[i]->sev);
	oc->n_more++;
	if (worse && oc->n_retired < RETIRED_MAX) {
		struct finding_occurrence *old = oc->listed[FINDING_OCC_MAX - 1];

		old->listed = false;
		oc->retired[oc->n_retired++] = old;
		o = occurrence_alloc(fs, f, sev);
		oc->listed[FINDING_OCC_MAX - 1] = o;
		return o;
	}
	o = &oc->spill;
	o->fs = fs;
	o->code = f->code;
	o->subject = f->subject;
	o->sev = sev;
	o->listed = false;
	return o;
}

static void finding_free(struct finding *f)
{
	struct finding_occurrences *oc = f->occ;

	if (oc) {
		for (int k = 0; k < PART__COUNT; k++)
			free(oc->first.part[k]);
		for (size_t i = 1; i < oc->n_listed; i++)
			occurrence_free(oc->listed[i]);
		for (size_t i = 0; i < oc->n_retired; i++)
			occurrence_free(oc->retired[i]);
		free(oc->evidence_listed);
		free(oc);
	}
	free(f->subject);
	release(f->what);
	release(f->evidence);
	release(f->consequence);
	release(f->fix);
	release(f->message);
}

void findings_init(struct findings *fs)
{
	fs->v = NULL;
	fs->n = 0;
	fs->cap = 0;
	fs->view = VIEW_LIVE;
}

void findings_free(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		finding_free(&fs->v[i]);
	free(fs->v);
	findings_init(fs);
}

struct finding_occurrence *findings_add(struct findings *fs, enum finding_code code,
					enum severity sev, const char *subject)
{
	struct finding_occurrence *o;
	struct finding *f = NULL;

	if (!subject)
		subject = "";
	for (size_t i = 0; i < fs->n && !f; i++)
		if (fs->v[i].code == code && strcmp(fs->v[i].subject, subject) == 0)
			f = &fs->v[i];
	if (!f) {
		if (fs->n == fs->cap) {
			fs->cap = fs->cap ? fs->cap * 2 : 8;
			fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
		}
		f = &fs->v[fs->n++];
		memset(f, 0, sizeof(*f));
		f->code = code;
		f->sev = sev;
		f->subject = xstrdup(subject);
		f->what = f->evidence = f->consequence = f->fix = f->message = empty;
		f->occ = xcalloc(1, sizeof(*f->occ));
	}
	f->sev = severity_worst(f->sev, sev);
	if (f->n_occurrences++ == 0) {
		/* the first occurrence: its parts are the finding's (empty) fields */
		o = &f->occ->first;
		o->fs = fs;
		o->code = f->code;
		o->subject = f->subject;
		o->sev = sev;
		o->listed = true;
		f->occ->listed[f->occ->n_listed++] = o;
		return o;
	}
	o = occurrence_new(fs, f, sev);
	if (o->listed)
		finding_render(f);
	else
		finding_render_count(f);	/* past the list: one more to count */
	return o;
}

static void set_part(struct finding_occurrence *o, enum part k, const char *fmt, va_list ap)
{
	struct finding *f;

	if (!o->listed || !(f = occurrence_owner(o)))
		return;	/* counted only: its parts are never shown */
	if (finding_single(f)) {
		/* the finding holds the parts: only this one and the message change */
		replace(finding_part(f, k), vformat(fmt, ap));
		finding_rejoin(f);
		return;
	}
	replace(&o->part[k], vformat(fmt, ap));
	finding_render(f);
}

void finding_set_what(struct finding_occurrence *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(o, PART_WHAT, fmt, ap);
	va_end(ap);
}

void finding_set_evidence(struct finding_occurrence *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(o, PART_EVIDENCE, fmt, ap);
	va_end(ap);
}

void finding_set_consequence(struct finding_occurrence *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(o, PART_CONSEQUENCE, fmt, ap);
	va_end(ap);
}

void finding_set_fix(struct finding_occurrence *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_part(o, PART_FIX, fmt, ap);
	va_end(ap);
}

void finding_set_senders(struct finding_occurrence *o, unsigned rule, unsigned accept,
			 unsigned reject, unsigned other)
{
	struct finding *f = occurrence_owner(o);

	/* every occurrence counts, listed or not */
	if (!f || rule == 0 || rule >= 64)
		return;
	if (!f->senders_rules) {
		f->senders_accept = accept;
		f->senders_reject = reject;
		f->senders_other = other;
	} else {
		/* rejecting one difference rejects the policy; accepting all is accepting */
		f->senders_reject |= reject;
		f->senders_other = (f->senders_other | other) & ~f->senders_reject;
		f->senders_accept &= accept;
	}
	f->senders_accept &= ~(f->senders_reject | f->senders_other);
	f->senders_rules |= 1ULL << rule;
}

char *finding_join(const char *what, const char *evidence, const char *consequence,
		   const char *fix)
{
	const char *parts[8];
	size_t k = 0;

	if (what && what[0])
		parts[k++] = what;
	if (evidence && evidence[0]) {
		if (k) {
			parts[k++] = " (";
			parts[k++] = evidence;
			parts[k++] = ")";
		} else {
			parts[k++] = evidence;
		}
	}
	if (consequence && consequence[0]) {
		if (k)
			parts[k++] = "; ";
		parts[k++] = consequence;
	}
	if (fix && fix[0]) {
		if (k)
			parts[k++] = "; ";
		parts[k++] = fix;
	}
	return concat(parts, k);
}

void finding_headline(const struct finding *f, char *buf, size_t len)
{
	char *s;
	size_t n;

	if (!len)
		return;
	s = finding_join(f->what, f->evidence, NULL, NULL);
	n = strlen(s);
	if (n < len) {
		memcpy(buf, s, n + 1);
	} else if (len < 4) {
		buf[0] = '\0';
	} else {
		n = len - 4;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* not inside a UTF-8 sequence */
		memcpy(buf, s, n);
		memcpy(buf + n, "...", 4);
	}
	free(s);
}

const struct finding *findings_find(const struct findings *fs, enum finding_code code)
{
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].code == code)
			return &fs->v[i];
	return NULL;
}

enum status findings_status(const struct findings *fs)
{
	enum status st = STATUS_OK;

	for (size_t i = 0; i < fs->n; i++)
		st = status_worst(st, severity_status(fs->v[i].sev));
	return st;
}

static int finding_cmp(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	int ra = status_rank(severity_status(a->sev)), rb = status_rank(severity_status(b->sev));
	int c;

	if (ra != rb)
		return rb - ra;
	if (a->sev != b->sev)
		return (int)b->sev - (int)a->sev;
	c = strcmp(finding_code_str(a->code), finding_code_str(b->code));
	return c ? c : strcmp(a->subject, b->subject);
}

void findings_sort(struct findings *fs)
{
	if (fs->n > 1)
		qsort(fs->v, fs->n, sizeof(*fs->v), finding_cmp);
}
