/* findings: the catalogue of stable finding codes, severities, and a growable finding list. */
#include "findings.h"
#include "lib/defs.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <stdarg.h>
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

void findings_init(struct findings *fs)
{
	fs->v = NULL;
	fs->n = 0;
	fs->cap = 0;
}

void findings_free(struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].subject);
		free(fs->v[i].message);
	}
	free(fs->v);
	findings_init(fs);
}

void findings_add(struct findings *fs, enum finding_code code, enum severity sev,
		  const char *subject, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;
	int n;

	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 8;
		fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	f = &fs->v[fs->n++];
	f->code = code;
	f->sev = sev;
	f->subject = xstrdup(subject ? subject : "");
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	f->message = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	f->message[0] = '\0';
	if (n > 0) {
		va_start(ap, fmt);
		vsnprintf(f->message, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
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
