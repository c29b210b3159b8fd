/* Unit tests of the judge: one row per rule, each a change to a healthy domain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fixture.h"
#include "agent/output.h"
#include "checks/judge.h"

/* ---- mutations ------------------------------------------------------------------------ */

/* Move a certificate's expiry and keep its 90-day lifetime (the fraction rule uses it). */
static void expire_in(struct cert_facts *cf, long days)
{
	cf->not_after = NOW + days * DAY;
	cf->not_before = cf->not_after - 90 * DAY;
}

static void m_none(struct domain_facts *df) { (void)df; }
static void m_txt_missing(struct domain_facts *df)
{
	txt_answer_free(&df->sts_txt);
	df->sts_txt.rc = DNS_NXDOMAIN;
}
static void m_txt_servfail(struct domain_facts *df)
{
	txt_answer_free(&df->sts_txt);
	df->sts_txt.rc = DNS_SERVFAIL;
}
static void m_txt_timeout(struct domain_facts *df)
{
	txt_answer_free(&df->sts_txt);
	df->sts_txt.rc = DNS_TIMEOUT;
}
static void m_txt_two(struct domain_facts *df)
{
	df->sts_txt.recs[1] = strdup("v=STSv1; id=2");
	df->sts_txt.lens[1] = strlen(df->sts_txt.recs[1]);
	df->sts_txt.n = 2;
}
static void m_txt_bad_id(struct domain_facts *df)
{
	fixture_set_txt(&df->sts_txt, "v=STSv1; id=not valid");
}
static void m_txt_odd_id(struct domain_facts *df)
{
	fixture_set_txt(&df->sts_txt, "v=STSv1; id=not-alnum!");
}
static void m_mx1_expired(struct domain_facts *df)
{
	df->mx[0].smtp[0].cert.not_after = NOW - 2 * DAY;
	df->mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
}
static void m_both_expired(struct domain_facts *df)
{
	m_mx1_expired(df);
	df->mx[1].smtp[0].cert.not_after = NOW - DAY;
	df->mx[1].smtp[0].cert.problems = CERT_P_EXPIRED;
}
static void m_mx1_name(struct domain_facts *df)
{
	df->mx[0].smtp[0].cert.problems = CERT_P_NAME_MISMATCH;
	strcpy(df->mx[0].smtp[0].cert.sans, "other.example.net");
}
static void m_mx_self_signed(struct domain_facts *df)
{
	df->mx[0].smtp[0].cert.problems = CERT_P_SELF_SIGNED;
	df->mx[1].smtp[0].cert.problems = CERT_P_MISSING_INTERMEDIATE;
}
static void m_mx1_nostarttls(struct domain_facts *df)
{
	df->mx[0].smtp[0].rc = SMTP_NO_STARTTLS;
	df->mx[0].smtp[0].starttls_offered = false;
	memset(&df->mx[0].smtp[0].cert, 0, sizeof(df->mx[0].smtp[0].cert));
}
static void m_mx1_refused(struct domain_facts *df)
{
	df->mx[0].smtp[0].rc = SMTP_CONNECT;
	strcpy(df->mx[0].smtp[0].error, "connect: Connection refused");
	memset(&df->mx[0].smtp[0].cert, 0, sizeof(df->mx[0].smtp[0].cert));
}
static void m_mx1_tls10(struct domain_facts *df)
{
	strcpy(df->mx[0].smtp[0].tls_version, "TLSv1");
	df->mx[0].smtp[0].tls_version_num = TLS1_VERSION;
}
static void m_mx1_expiring5(struct domain_facts *df)
{
	expire_in(&df->mx[0].smtp[0].cert, 5);
}
static void m_all_expiring5(struct domain_facts *df)
{
	expire_in(&df->mx[0].smtp[0].cert, 5);
	expire_in(&df->mx[1].smtp[0].cert, 4);
}
static void m_mx1_expiring15(struct domain_facts *df)
{
	expire_in(&df->mx[0].smtp[0].cert, 15);
}
static void m_short_lived(struct domain_facts *df)
{
	/* a 6-day certificate with 3 days left: fine for its lifetime, not for 21 days */
	for (int i = 0; i < 2; i++) {
		df->mx[i].smtp[0].cert.not_before = NOW - 3 * DAY;
		df->mx[i].smtp[0].cert.not_after = NOW + 3 * DAY;
	}
	df->fetch.cert.not_before = NOW - 3 * DAY;
	df->fetch.cert.not_after = NOW + 3 * DAY;
}
static void m_mx_unmatched(struct domain_facts *df)
{
	strcpy(df->mx[1].name, "mx9.example.net");
	strcpy(df->mx[1].smtp[0].cert.expected_name, "mx9.example.net");
}
static void m_mx_unresolvable(struct domain_facts *df)
{
	df->mx[1].addrs.n = 0;
	df->mx[1].addrs.rc4 = DNS_NXDOMAIN;
	df->mx[1].addrs.rc6 = DNS_NXDOMAIN;
	df->mx[1].n_smtp = 0;
}
static void m_mx_host_timeout(struct domain_facts *df)
{
	df->mx[1].addrs.n = 0;
	df->mx[1].addrs.rc4 = DNS_TIMEOUT;
	df->mx[1].n_smtp = 0;
}
static void m_no_mx(struct domain_facts *df)
{
	for (size_t i = 0; i < df->n_mx; i++)
		free(df->mx[i].smtp);
	free(df->mx);
	df->mx = NULL;
	df->n_mx = 0;
	df->mx_rc = DNS_NODATA;
}
static void m_null_mx(struct domain_facts *df)
{
	m_no_mx(df);
	df->mx_rc = DNS_OK;
	df->mx_null = true;
}
static void m_mx_servfail(struct domain_facts *df)
{
	m_no_mx(df);
	df->mx_rc = DNS_SERVFAIL;
}
static void m_nxdomain(struct domain_facts *df)
{
	m_no_mx(df);
	df->mx_rc = DNS_NXDOMAIN;
	for (size_t i = 0; i < df->sts_txt.n; i++)
		free(df->sts_txt.recs[i]);
	df->sts_txt.n = 0;
	df->sts_txt.rc = DNS_NXDOMAIN;
}
static void m_many_mx(struct domain_facts *df)
{
	df->mx_truncated = true;
}
static void m_policy_404(struct domain_facts *df)
{
	df->fetch.http_status = 404;
}
static void m_policy_redirect(struct domain_facts *df)
{
	df->fetch.http_status = 301;
	strcpy(df->fetch.location, "https://www.example.org/mta-sts.txt");
}
static void m_policy_html(struct domain_facts *df)
{
	strcpy(df->fetch.content_type, "text/html; charset=utf-8");
}
static void m_policy_charset(struct domain_facts *df)
{
	strcpy(df->fetch.content_type, "text/plain; charset=utf-8");
}
static void m_policy_slow(struct domain_facts *df)
{
	df->fetch.total_ms = 15000;
}
static void m_policy_refused(struct domain_facts *df)
{
	df->fetch.rc = FETCH_CONNECT;
	df->fetch.http_status = 0;
	strcpy(df->fetch.error, "Failed to connect");
}
static void m_policy_no_host(struct domain_facts *df)
{
	df->fetch.rc = FETCH_DNS;
	df->policy_addrs.n = 0;
	df->policy_addrs.rc4 = DNS_NXDOMAIN;
	df->policy_addrs.rc6 = DNS_NXDOMAIN;
	memset(&df->fetch.cert, 0, sizeof(df->fetch.cert));
}
static void m_policy_host_timeout(struct domain_facts *df)
{
	m_policy_no_host(df);
	df->policy_addrs.rc4 = DNS_TIMEOUT;
}
static void m_no_mta_sts_at_all(struct domain_facts *df)
{
	m_txt_missing(df);
	m_policy_no_host(df);
}
static void m_policy_too_large(struct domain_facts *df)
{
	df->fetch.rc = FETCH_TOO_LARGE;
}
static void m_policy_cert_expired(struct domain_facts *df)
{
	df->fetch.rc = FETCH_CERT;
	df->fetch.cert.problems = CERT_P_EXPIRED;
	df->fetch.cert.not_after = NOW - DAY;
}
static void m_policy_cert_name(struct domain_facts *df)
{
	df->fetch.rc = FETCH_CERT;
	df->fetch.cert.problems = CERT_P_NAME_MISMATCH;
}
static void m_policy_cert_untrusted(struct domain_facts *df)
{
	df->fetch.rc = FETCH_CERT;
	df->fetch.cert.problems = CERT_P_SELF_SIGNED;
}
static void m_policy_cert_expiring5(struct domain_facts *df)
{
	expire_in(&df->fetch.cert, 5);
}
static void m_policy_cert_expiring15(struct domain_facts *df)
{
	expire_in(&df->fetch.cert, 15);
}
static void m_testing_bad_mx(struct domain_facts *df)
{
	fixture_set_policy(df, "version: STSv1\r\nmode: testing\r\nmx: mx1.example.org\r\n"
		       "mx: mx2.example.org\r\nmax_age: 604800\r\n");
	m_both_expired(df);
}
static void m_none_mode(struct domain_facts *df)
{
	fixture_set_policy(df, "version: STSv1\r\nmode: none\r\nmx: *.example.org\r\n"
			   "max_age: 86400\r\n");
	m_both_expired(df);
}
static void m_none_mode_no_mx(struct domain_facts *df)
{
	fixture_set_policy(df, "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n");
	m_both_expired(df);
}
static void m_wildcard(struct domain_facts *df)
{
	fixture_set_policy(df, "version: STSv1\r\nmode: enforce\r\nmx: *.EXAMPLE.org\r\n"
		       "max_age: 604800\r\n");
}
static void m_tlsrpt_missing(struct domain_facts *df)
{
	txt_answer_free(&df->tlsrpt_txt);
	df->tlsrpt_txt.rc = DNS_NODATA;
}
static void m_deadline(struct domain_facts *df)
{
	df->deadline_hit = true;
	strcpy(df->pending, "DNS MX");
}
static void m_mixed_addresses(struct domain_facts *df)
{
	/* mx1 has a second address that refuses: the host stays valid */
	struct mx_host_facts *m = &df->mx[0];

	m->smtp = realloc(m->smtp, 2 * sizeof(*m->smtp));
	m->smtp[1] = m->smtp[0];
	strcpy(m->smtp[1].ip, "2001:db8::1");
	m->smtp[1].family = AF_INET6;
	m->smtp[1].rc = SMTP_CONNECT;
	memset(&m->smtp[1].cert, 0, sizeof(m->smtp[1].cert));
	m->n_smtp = 2;
	m->addrs.n = 2;
}

/* ---- the table ---------------------------------------------------------------------- */

struct expect {
	const char *code;
	enum severity sev;
};

struct row {
	const char *what;	/* the rule, with its source */
	void (*mutate)(struct domain_facts *df);
	enum status status;
	struct expect has[4];	/* findings that must be there */
	const char *absent[3];	/* codes that must not be */
	long fails_in_days;	/* -1: no fails_at; 0: now; N: about N days */
	unsigned valid_paths;
};

static const struct row rows[] = {
	{ "healthy enforce domain: OK, fails when the later MX cert expires", m_none, STATUS_OK,
	  { { NULL, 0 } }, { "mx.unmatched", "sts.txt.missing", NULL }, 70, 2 },
	{ "RFC 8461 3.1: no TXT record: no MTA-STS for new senders", m_txt_missing, STATUS_CRITICAL,
	  { { "sts.txt.missing", SEV_CRITICAL } }, { NULL }, -1, 2 },
	/* the TXT cannot be read but the policy can: senders most likely hold it (enforce),
	 * so the MX paths are still judged and fails_at predicted */
	{ "DESIGN: SERVFAIL on the TXT is 'could not tell', never 'no record'", m_txt_servfail,
	  STATUS_UNKNOWN, { { "dns.error", SEV_UNKNOWN } }, { "sts.txt.missing", NULL }, 70, 2 },
	{ "DESIGN: a DNS timeout on the TXT is UNKNOWN", m_txt_timeout, STATUS_UNKNOWN,
	  { { "dns.error", SEV_UNKNOWN } }, { "sts.txt.missing", NULL }, 70, 2 },
	{ "RFC 8461 3.1: two STS records mean no policy", m_txt_two, STATUS_CRITICAL,
	  { { "sts.txt.multiple", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.1: id is 1*32(ALPHA / DIGIT); a space in it breaks the record",
	  m_txt_bad_id, STATUS_CRITICAL, { { "sts.txt.invalid", SEV_CRITICAL } }, { NULL }, -1,
	  2 },
	/* most senders take other characters (txt.id_non_alnum): the record stays in force,
	 * the MX paths are judged under the policy, and the difference is a WARNING */
	{ "RFC 8461 3.1 + senders: an id with '-' and '!' is read by most, WARNING",
	  m_txt_odd_id, STATUS_WARNING, { { "sts.txt.note", SEV_WARNING } },
	  { "sts.txt.invalid", NULL }, 70, 2 },
	{ "RFC 8461 4.2 + DESIGN: one of two MX certs expired under enforce: WARNING",
	  m_mx1_expired, STATUS_WARNING, { { "mx.cert.expired", SEV_WARNING } }, { NULL }, 70, 1 },
	{ "RFC 8461 5: every MX fails under enforce: mail fails now, CRITICAL",
	  m_both_expired, STATUS_CRITICAL, { { "mx.cert.expired", SEV_CRITICAL } }, { NULL }, 0, 0 },
	{ "RFC 8461 4.2: certificate must name the MX host", m_mx1_name, STATUS_WARNING,
	  { { "mx.cert.name", SEV_WARNING } }, { NULL }, 70, 1 },
	{ "RFC 8461 4.2: self-signed and missing intermediate are untrusted", m_mx_self_signed,
	  STATUS_CRITICAL, { { "mx.cert.untrusted", SEV_CRITICAL } }, { NULL }, 0, 0 },
	{ "RFC 8461 5: no STARTTLS on one MX under enforce", m_mx1_nostarttls, STATUS_WARNING,
	  { { "mx.starttls_missing", SEV_WARNING } }, { NULL }, 70, 1 },
	{ "DESIGN: an MX that refuses port 25 is a failed path", m_mx1_refused, STATUS_WARNING,
	  { { "mx.connect", SEV_WARNING } }, { NULL }, 70, 1 },
	{ "RFC 8996: TLS 1.0 is refused by current senders", m_mx1_tls10, STATUS_WARNING,
	  { { "mx.tls_version", SEV_WARNING } }, { NULL }, 70, 1 },
	{ "DESIGN: a cert within 7 days that is not the last path: WARNING", m_mx1_expiring5,
	  STATUS_WARNING, { { "mx.cert.expiring", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "DESIGN: the last valid path's cert within 7 days: CRITICAL", m_all_expiring5,
	  STATUS_CRITICAL, { { "mx.cert.expiring", SEV_CRITICAL } }, { NULL }, 5, 2 },
	{ "DESIGN: a cert within the 21-day warning threshold", m_mx1_expiring15,
	  STATUS_WARNING, { { "mx.cert.expiring", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "DESIGN: short-lived certs are judged by a fraction of their lifetime", m_short_lived,
	  STATUS_OK, { { NULL, 0 } }, { "mx.cert.expiring", "policy.cert.expiring", NULL }, 3, 2 },
	{ "RFC 8461 4.1: an MX outside the policy under enforce is CRITICAL", m_mx_unmatched,
	  STATUS_CRITICAL, { { "mx.unmatched", SEV_CRITICAL } }, { NULL }, 60, 1 },
	{ "an MX host without address is a failed path", m_mx_unresolvable, STATUS_WARNING,
	  { { "mx.unresolvable", SEV_WARNING } }, { NULL }, 60, 1 },
	{ "DESIGN: a timeout resolving an MX host is UNKNOWN, not unresolvable",
	  m_mx_host_timeout, STATUS_UNKNOWN, { { "dns.error", SEV_UNKNOWN } },
	  { "mx.unresolvable", NULL }, 60, 1 },
	{ "RFC 5321 5.1: no MX records leaves no path MTA-STS can cover", m_no_mx,
	  STATUS_CRITICAL, { { "mx.none", SEV_CRITICAL } }, { NULL }, -1, 0 },
	{ "RFC 7505: a null MX takes no mail: a note", m_null_mx, STATUS_OK,
	  { { "mx.null", SEV_INFO } }, { "mx.none", NULL }, -1, 0 },
	{ "DESIGN: SERVFAIL on the MX question is UNKNOWN", m_mx_servfail, STATUS_UNKNOWN,
	  { { "dns.error", SEV_UNKNOWN } }, { "mx.none", NULL }, -1, 0 },
	{ "RFC 1035 / 8020: NXDOMAIN for the domain: it does not exist, one finding says so",
	  m_nxdomain, STATUS_CRITICAL, { { "dns.nxdomain", SEV_CRITICAL } },
	  { "sts.txt.missing", "tlsrpt.missing", "mx.none" }, -1, 0 },
	{ "more MX hosts than are probed: a note, not a change", m_many_mx, STATUS_OK,
	  { { "mx.note", SEV_INFO } }, { "mx.changed", NULL }, 70, 2 },
	{ "RFC 8461 3.3: only HTTP 200 counts", m_policy_404, STATUS_CRITICAL,
	  { { "policy.http_status", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.3: redirects are not followed", m_policy_redirect, STATUS_CRITICAL,
	  { { "policy.redirect", SEV_CRITICAL } }, { NULL }, -1, 2 },
	/* fetch.ctype_other: postfix-mta-sts-resolver, postfix-tlspol and maddy refuse it,
	 * mox, Stalwart, mailauth and Halon use it: in force for them, a WARNING */
	{ "RFC 8461 3.3 + senders: media type text/html, WARNING", m_policy_html,
	  STATUS_WARNING, { { "policy.content_type", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "RFC 8461 3.3: text/plain with a charset parameter is fine", m_policy_charset,
	  STATUS_OK, { { NULL, 0 } }, { "policy.content_type", NULL }, 70, 2 },
	{ "DESIGN: a slow policy host is a warning", m_policy_slow, STATUS_WARNING,
	  { { "policy.slow", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "RFC 8461 3.3: a policy host that refuses connections", m_policy_refused,
	  STATUS_CRITICAL, { { "policy.fetch", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.2: mta-sts.DOMAIN without address", m_policy_no_host, STATUS_CRITICAL,
	  { { "policy.fetch", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "DESIGN: a timeout resolving the policy host is UNKNOWN", m_policy_host_timeout,
	  STATUS_UNKNOWN, { { "dns.error", SEV_UNKNOWN } }, { "policy.fetch", NULL }, -1, 2 },
	{ "no MTA-STS at all: only the missing TXT is reported", m_no_mta_sts_at_all,
	  STATUS_CRITICAL, { { "sts.txt.missing", SEV_CRITICAL } }, { "policy.fetch", NULL }, -1, 2 },
	{ "RFC 8461 3.3: a body over 64 KiB", m_policy_too_large, STATUS_CRITICAL,
	  { { "policy.too_large", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.3: the policy host's certificate expired", m_policy_cert_expired,
	  STATUS_CRITICAL, { { "policy.cert.expired", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.3: the policy host's certificate names another host", m_policy_cert_name,
	  STATUS_CRITICAL, { { "policy.cert.name", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "RFC 8461 3.3: the policy host's certificate is self-signed", m_policy_cert_untrusted,
	  STATUS_CRITICAL, { { "policy.cert.untrusted", SEV_CRITICAL } }, { NULL }, -1, 2 },
	{ "DESIGN: the policy cert within the critical threshold", m_policy_cert_expiring5,
	  STATUS_CRITICAL, { { "policy.cert.expiring", SEV_CRITICAL } }, { NULL }, 70, 2 },
	{ "DESIGN: the policy cert within the warning threshold", m_policy_cert_expiring15,
	  STATUS_WARNING, { { "policy.cert.expiring", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "DESIGN: testing mode with MX that would fail under enforce: WARNING",
	  m_testing_bad_mx, STATUS_WARNING, { { "mx.cert.expired", SEV_WARNING },
	  { "policy.mode_testing", SEV_INFO } }, { NULL }, -1, 0 },
	{ "DESIGN: mode none is OK with notes", m_none_mode, STATUS_OK,
	  { { "policy.mode_none", SEV_INFO }, { "mx.cert.expired", SEV_INFO } }, { NULL }, -1, 0 },
	/* pol.none_without_mx: the RFC allows it, Stalwart refuses it and keeps its cache */
	{ "RFC 8461 3.2 + senders: mode none without mx, Stalwart refuses it: WARNING",
	  m_none_mode_no_mx, STATUS_WARNING, { { "policy.mode_none", SEV_INFO },
	  { "policy.note", SEV_WARNING } }, { NULL }, -1, 0 },
	{ "RFC 8461 4.1: wildcard and upper-case patterns match", m_wildcard, STATUS_OK,
	  { { NULL, 0 } }, { "mx.unmatched", NULL }, 70, 2 },
	{ "RFC 8460 3: no TLS-RPT record is a warning", m_tlsrpt_missing, STATUS_WARNING,
	  { { "tlsrpt.missing", SEV_WARNING } }, { NULL }, 70, 2 },
	{ "DESIGN: the check's own deadline is UNKNOWN", m_deadline, STATUS_UNKNOWN,
	  { { "check.timeout", SEV_UNKNOWN } }, { NULL }, 70, 2 },
	{ "RFC 5321 5.1: one bad address beside a good one on the same MX: WARNING",
	  m_mixed_addresses, STATUS_WARNING, { { "mx.connect", SEV_WARNING } }, { NULL }, 70, 2 },
};

static const struct finding *find_code(const struct verdict *v, const char *code)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (strcmp(finding_code_str(v->findings.v[i].code), code) == 0)
			return &v->findings.v[i];
	return NULL;
}

static void dump(const struct verdict *v)
{
	for (size_t i = 0; i < v->findings.n; i++)
		fprintf(stderr, "    %s %s %s: %s\n", severity_str(v->findings.v[i].sev),
			finding_code_str(v->findings.v[i].code), v->findings.v[i].subject,
			v->findings.v[i].message);
}

/*
 * Every finding says what is wrong; a problem also says what it means for senders and the
 * fix; and no two findings share an identity (the store's findings index is unique).
 */
static bool parts_ok(const struct findings *fs, const char *what)
{
	bool ok = true;

	for (size_t i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (!f->what[0] || (f->sev != SEV_INFO && (!f->consequence[0] || !f->fix[0]))) {
			fprintf(stderr, "%s: %s %s lacks a part: what \"%s\" consequence \"%s\" "
				"fix \"%s\"\n", what, severity_str(f->sev),
				finding_code_str(f->code), f->what, f->consequence, f->fix);
			ok = false;
		}
		for (size_t k = i + 1; k < fs->n; k++)
			if (f->code == fs->v[k].code && strcmp(f->subject, fs->v[k].subject) == 0) {
				fprintf(stderr, "%s: two %s findings for %s\n", what,
					finding_code_str(f->code), f->subject);
				ok = false;
			}
	}
	return ok;
}

static void test_rows(void **state)
{
	struct judge_opts o;
	int failures = 0;

	(void)state;
	judge_opts_defaults(&o);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *row = &rows[r];
		struct domain_facts df;
		struct verdict v;
		bool ok = true;

		fixture_healthy(&df);
		row->mutate(&df);
		judge_domain(&o, &df, NULL, NOW, &v);
		if (v.status != row->status) {
			fprintf(stderr, "row %zu (%s): status %s, want %s\n", r, row->what,
				status_str(v.status), status_str(row->status));
			ok = false;
		}
		for (size_t k = 0; k < 4 && row->has[k].code; k++) {
			const struct finding *f = find_code(&v, row->has[k].code);

			if (!f || f->sev != row->has[k].sev) {
				fprintf(stderr, "row %zu (%s): want %s %s, got %s\n", r, row->what,
					severity_str(row->has[k].sev), row->has[k].code,
					f ? severity_str(f->sev) : "none");
				ok = false;
			}
		}
		for (size_t k = 0; k < 3 && row->absent[k]; k++)
			if (find_code(&v, row->absent[k])) {
				fprintf(stderr, "row %zu (%s): %s must not be reported\n", r, row->what,
					row->absent[k]);
				ok = false;
			}
		if (row->fails_in_days < 0 && v.fails_at) {
			fprintf(stderr, "row %zu (%s): fails_at set, want none\n", r, row->what);
			ok = false;
		} else if (row->fails_in_days >= 0) {
			long d = v.fails_at ? (long)((v.fails_at - NOW) / DAY) : -1;

			if (!v.fails_at || d != row->fails_in_days) {
				fprintf(stderr, "row %zu (%s): fails in %ld days, want %ld\n", r, row->what,
					d, row->fails_in_days);
				ok = false;
			}
		}
		if (v.valid_paths != row->valid_paths) {
			fprintf(stderr, "row %zu (%s): %u valid paths, want %u\n", r, row->what,
				v.valid_paths, row->valid_paths);
			ok = false;
		}
		for (size_t i = 0; i < v.findings.n; i++)
			if (!v.findings.v[i].message[0] || strlen(v.findings.v[i].message) < 40) {
				fprintf(stderr, "row %zu: finding %s has no real message\n", r,
					finding_code_str(v.findings.v[i].code));
				ok = false;
			}
		if (!parts_ok(&v.findings, row->what))
			ok = false;
		if (!ok) {
			dump(&v);
			failures++;
		}
		verdict_free(&v);
		domain_facts_free(&df);
	}
	assert_int_equal(failures, 0);
}

/* ---- history: sender caches (DESIGN "what a sender does") ------------------------------ */

static char *mxdup(const char *s)
{
	return strdup(s);
}

static void add_version(struct history *h, const char *id, const char *sha, const char *mx,
			time_t first, time_t last, time_t replaced, long max_age)
{
	struct policy_version *pv;

	h->versions = realloc(h->versions, (h->n_versions + 1) * sizeof(*h->versions));
	pv = &h->versions[h->n_versions++];
	memset(pv, 0, sizeof(*pv));
	strcpy(pv->txt_id, id);
	strcpy(pv->sha256, sha);
	pv->mode = POLICY_MODE_ENFORCE;
	pv->max_age = max_age;
	pv->n_mx = 1;
	pv->mx = malloc(sizeof(char *));
	pv->mx[0] = mxdup(mx);
	pv->first_seen = first;
	pv->last_seen = last;
	pv->replaced_at = replaced;
}

static void history_base(struct history *h)
{
	memset(h, 0, sizeof(*h));
	h->known = true;
	h->last_checked = NOW - 3600;
	strcpy(h->txt_id, "20260101T000000");
	h->txt_last_seen = NOW - 3600;
	h->policy_served = true;
	h->policy_last_served = NOW - 3600;
	h->n_mx = 2;
	h->mx = malloc(2 * sizeof(char *));
	h->mx[0] = strdup("mx1.example.org");
	h->mx[1] = strdup("mx2.example.org");
}

/* RFC 8461 3.3: body changed, id kept; the old body still covers the MX: WARNING stale id */
static void test_id_stale_covered(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	add_version(&h, "20260101T000000", "aaaa", "*.example.org", NOW - 30 * DAY,
		    NOW - 3600, NOW - 1800, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "sts.id.stale"));
	assert_int_equal(find_code(&v, "sts.id.stale")->sev, SEV_WARNING);
	assert_null(find_code(&v, "cache.stale_policy"));
	assert_int_equal(v.status, STATUS_WARNING);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 3.3 + 5: MX moved, policy updated, id kept: senders with the old policy fail */
static void test_cache_stale_critical(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	add_version(&h, "20260101T000000", "bbbb", "oldmx.example.org", NOW - 30 * DAY,
		    NOW - 3600, NOW - 1800, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "cache.stale_policy"));
	assert_int_equal(find_code(&v, "cache.stale_policy")->sev, SEV_CRITICAL);
	assert_int_equal(v.status, STATUS_CRITICAL);
	assert_int_equal(v.fails_at, NOW);
	assert_non_null(strstr(find_code(&v, "cache.stale_policy")->message, "20260101T000000"));
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 3.3: once the id is bumped and the new policy fetchable, old caches do not matter */
static void test_cache_replaced_by_new_id(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	strcpy(h.txt_id, "20251201T000000");
	add_version(&h, "20251201T000000", "cccc", "oldmx.example.org", NOW - 60 * DAY,
		    NOW - 3600, NOW - 1800, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_null(find_code(&v, "cache.stale_policy"));
	assert_non_null(find_code(&v, "sts.id.changed"));
	assert_int_equal(v.status, STATUS_OK);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 3.3: an expired cache (max_age passed) no longer counts */
static void test_cache_expired(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	add_version(&h, "20260101T000000", "dddd", "oldmx.example.org", NOW - 60 * DAY,
		    NOW - 20 * DAY, NOW - 20 * DAY, 86400);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_null(find_code(&v, "cache.stale_policy"));
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 5.1: the policy host is down: senders keep their cached copy, judged on the MX */
static void test_cache_kept_when_fetch_fails(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	m_policy_refused(&df);
	history_base(&h);
	add_version(&h, "20251201T000000", "eeee", "oldmx.example.org", NOW - 60 * DAY,
		    NOW - 3600, 0, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	/* RFC 8461 5.1: senders keep the cached policy, the MX hosts are judged under it */
	assert_true(v.under_cache);
	assert_string_equal(v.cached_id, "20251201T000000");
	assert_int_equal(v.protection_ends, NOW - 3600 + 604800);
	assert_non_null(find_code(&v, "mx.unmatched"));
	assert_int_equal(find_code(&v, "mx.unmatched")->sev, SEV_CRITICAL);
	assert_null(find_code(&v, "cache.stale_policy"));	/* said once, by mx.unmatched */
	assert_non_null(find_code(&v, "policy.gone"));
	assert_non_null(strstr(find_code(&v, "policy.gone")->message, "keep enforcing it until"));
	assert_int_equal(v.fails_at, NOW);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* change detection: the TXT record is gone after it existed */
static void test_txt_removed(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	m_txt_missing(&df);
	history_base(&h);
	add_version(&h, "20260101T000000", "ffff", "*.example.org", NOW - 60 * DAY,
		    NOW - 3600, 0, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "sts.txt.removed"));
	assert_non_null(find_code(&v, "sts.txt.missing"));
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* change detection: a renewed certificate is a note, and the MX set change is noted */
static void test_renewed_and_mx_changed(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	free(h.mx[1]);
	h.mx[1] = strdup("mx0.example.org");
	h.certs = calloc(1, sizeof(*h.certs));
	h.n_certs = 1;
	strcpy(h.certs[0].subject, "mx1.example.org[192.0.2.1]");
	strcpy(h.certs[0].sha256, "0123");
	h.certs[0].not_after = NOW + 2 * DAY;
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "mx.cert.renewed"));
	assert_non_null(find_code(&v, "mx.changed"));
	assert_non_null(strstr(find_code(&v, "mx.changed")->message, "mx0.example.org"));
	assert_int_equal(v.status, STATUS_OK);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* A history of 90-day certificates of mx1 renewed at left_days before expiry, the last
 * one (the current) expiring at current_end. */
static void renewal_history(struct history *h, int left_days, time_t current_end)
{
	struct cert_seen *cs;
	time_t end = current_end;

	h->certs = calloc(1, sizeof(*h->certs));
	h->n_certs = 1;
	cs = &h->certs[0];
	strcpy(cs->subject, "mx1.example.org[192.0.2.1]");
	snprintf(cs->sha256, sizeof(cs->sha256), "%064lx", (unsigned long)current_end);
	cs->not_after = current_end;
	cs->n_hist = 4;
	/* newest last: each began left_days before the previous one ended */
	for (int i = 3; i >= 0; i--) {
		cs->hist[i].not_after = end;
		cs->hist[i].not_before = end - 90 * DAY;
		cs->hist[i].first_seen = cs->hist[i].not_before + 600;
		end = cs->hist[i].not_before + left_days * DAY;
	}
}

/* The renewal habit: quiet before it is due, a warning once it is overdue, critical stays. */
static void test_renewal_habit(void **state)
{
	static const struct {
		int habit, left;	/* days left at renewal, days left now */
		enum severity want;	/* of mx1's mx.cert.expiring, INFO for a note, -1 none */
		const char *words;
	} habits[] = {
		/* renewed at 30 days left, 25 left now: overdue, weeks before 21 days */
		{ 30, 25, SEV_WARNING, "renewal is overdue" },
		{ 30, 30, -1, NULL },		/* due today, not yet overdue: quiet */
		{ 30, 40, -1, NULL },
		/* renewed at 10 days left: 15 left is inside 21 days, but not due: a note */
		{ 10, 15, SEV_INFO, "not due yet" },
		{ 10, 6, SEV_WARNING, "renewal is overdue" },	/* 6 days: overdue */
		/* the critical threshold stays the backstop */
		{ 3, 2, SEV_WARNING, "expires in" },	/* mx2 still valid: not the last path */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(habits) / sizeof(habits[0]); i++) {
		struct judge_opts o;
		struct domain_facts df;
		struct history h;
		struct verdict v;
		const struct finding *f = NULL;

		judge_opts_defaults(&o);
		fixture_healthy(&df);
		history_base(&h);
		fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org",
				  NOW + habits[i].left * DAY);
		renewal_history(&h, habits[i].habit, NOW + habits[i].left * DAY);
		judge_domain(&o, &df, &h, NOW, &v);
		for (size_t k = 0; k < v.findings.n; k++)
			if (v.findings.v[k].code == F_MX_CERT_EXPIRING &&
			    strncmp(v.findings.v[k].subject, "mx1.", 4) == 0)
				f = &v.findings.v[k];
		if ((int)habits[i].want < 0) {
			if (f)
				fail_msg("row %zu: unexpected %s %s", i, severity_str(f->sev), f->message);
		} else {
			if (!f)
				fail_msg("row %zu: no mx.cert.expiring for mx1", i);
			if (f->sev != habits[i].want || !strstr(f->message, habits[i].words))
				fail_msg("row %zu: %s %s", i, severity_str(f->sev), f->message);
		}
		verdict_free(&v);
		history_free(&h);
		domain_facts_free(&df);
	}
}

/* Severities are the judge's: the plugin's --timeout-result is the judge option timeout_sev. */
static void test_timeout_severity(void **state)
{
	static const enum severity sevs[] = { SEV_UNKNOWN, SEV_CRITICAL, SEV_WARNING, SEV_INFO };
	static const enum status want[] = { STATUS_UNKNOWN, STATUS_CRITICAL, STATUS_WARNING,
					    STATUS_OK };
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	assert_int_equal(o.timeout_sev, SEV_UNKNOWN);
	for (size_t i = 0; i < sizeof(sevs) / sizeof(sevs[0]); i++) {
		const struct finding *f;

		o.timeout_sev = sevs[i];
		fixture_healthy(&df);
		m_deadline(&df);
		judge_domain(&o, &df, NULL, NOW, &v);
		f = find_code(&v, "check.timeout");
		assert_non_null(f);
		assert_int_equal(f->sev, sevs[i]);
		assert_int_equal(v.status, want[i]);
		assert_string_equal(f->what, "the check did not finish before its deadline");
		assert_string_equal(f->evidence, "still pending: DNS MX");
		verdict_free(&v);
		domain_facts_free(&df);
	}
}

/* One rule for mx.unmatched, called by the live judge and by lint: the mode decides. */
static void test_mx_unmatched_rule(void **state)
{
	static const char body[] = "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\n"
				   "mx: *.example.org\r\nmax_age: 604800\r\n";
	static const struct {
		enum policy_mode mode;
		enum severity sev;
	} modes[] = {
		{ POLICY_MODE_ENFORCE, SEV_CRITICAL },
		{ POLICY_MODE_TESTING, SEV_WARNING },
		{ POLICY_MODE_NONE, SEV_INFO },
		{ POLICY_MODE_UNSET, SEV_INFO },
	};
	struct findings fs, scratch;
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	struct policy p;

	(void)state;
	findings_init(&scratch);
	assert_int_equal(policy_parse(body, strlen(body), &p, &scratch, "u"), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		findings_init(&fs);
		judge_mx_unmatched(&p, modes[i].mode, "mx9.example.net", &fs);
		assert_int_equal(fs.n, 1);
		assert_int_equal(fs.v[0].code, F_MX_UNMATCHED);
		assert_int_equal(fs.v[0].sev, modes[i].sev);
		assert_string_equal(fs.v[0].subject, "mx9.example.net");
		assert_string_equal(fs.v[0].what, "MX mx9.example.net is not covered by any policy "
				    "mx pattern");
		assert_non_null(strstr(fs.v[0].evidence, "2 patterns; different name"));
		assert_string_equal(fs.v[0].fix, "add \"mx: mx9.example.net\" to the policy and "
				    "bump the id");
		findings_free(&fs);
	}
	/* the live judge says exactly what the rule says for the same policy and mode */
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_policy(&df, body);
	m_mx_unmatched(&df);
	judge_domain(&o, &df, NULL, NOW, &v);
	findings_init(&fs);
	judge_mx_unmatched(&p, POLICY_MODE_ENFORCE, "mx9.example.net", &fs);
	assert_non_null(find_code(&v, "mx.unmatched"));
	assert_string_equal(find_code(&v, "mx.unmatched")->message, fs.v[0].message);
	findings_free(&fs);
	verdict_free(&v);
	domain_facts_free(&df);
	policy_free(&p);
	findings_free(&scratch);
}

/*
 * The days shown for a past date agree between the judge's message and the text output:
 * 2.3 days ago is "2 days ago" in both (the judge rounded, the output counted 3).
 */
static void test_days_agree(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	const struct finding *f;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	df.mx[0].smtp[0].cert.not_after = NOW - (time_t)(2.3 * DAY);
	df.mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
	judge_domain(&o, &df, NULL, NOW, &v);
	f = find_code(&v, "mx.cert.expired");
	assert_non_null(f);
	assert_string_equal(f->what, "certificate expired 2 days ago");
	out = open_memstream(&text, &len);
	assert_non_null(out);
	output_text_domain(out, &df, &v, NOW, true);
	fclose(out);
	assert_non_null(strstr(text, "(expired 2 days ago)"));
	assert_null(strstr(text, "3 days"));
	free(text);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* check --format json: each finding has its parts next to the joined message. */
static void test_json_parts(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	json_t *j, *fs;
	size_t n = 0;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	df.mx[0].smtp[0].cert.not_after = NOW - 3 * DAY;
	df.mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
	judge_domain(&o, &df, NULL, NOW, &v);
	j = output_json_domain(&df, &v);
	fs = json_object_get(j, "findings");
	assert_true(json_array_size(fs) == v.findings.n && v.findings.n > 0);
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);
		const struct finding *e = &v.findings.v[i];
		const char *code = json_string_value(json_object_get(f, "code"));

		assert_string_equal(code, finding_code_str(e->code));
		assert_string_equal(json_string_value(json_object_get(f, "what")), e->what);
		assert_string_equal(json_string_value(json_object_get(f, "evidence")), e->evidence);
		assert_string_equal(json_string_value(json_object_get(f, "consequence")),
				    e->consequence);
		assert_string_equal(json_string_value(json_object_get(f, "fix")), e->fix);
		assert_string_equal(json_string_value(json_object_get(f, "message")), e->message);
		if (strcmp(code, "mx.cert.expired") == 0) {
			n++;
			assert_string_equal(json_string_value(json_object_get(f, "message")),
					    "certificate expired 3 days ago (notAfter "
					    "2027-01-12T08:00:00Z, issuer Lab Intermediate CA); compliant "
					    "senders skip this path and use the other MX hosts; renew "
					    "it and check the renewal job");
		}
	}
	assert_int_equal(n, 1);
	json_decref(j);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* A body with repeated and invalid lines, judged: one finding per identity, all named. */
static void test_policy_duplicates_merge(void **state)
{
	static const char body[] = "version: STSv1\r\nmode: enforce\r\nmode: enforce\r\n"
				   "mx: mx1.example.org\r\nmx: mx2.example.org\r\n"
				   "max_age: 604800\r\nmax_age: 86400\r\nmax_age: 604800\r\n"
				   "one bad line\r\nanother bad line\r\n";
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	const struct finding *f;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_policy(&df, body);
	judge_domain(&o, &df, NULL, NOW, &v);
	assert_true(parts_ok(&v.findings, "duplicates"));
	f = find_code(&v, "policy.invalid");
	assert_non_null(f);
	assert_int_equal(f->n_occurrences, 2);
	assert_non_null(strstr(f->message, "line 9: \"one bad line\" has no ':'"));
	assert_non_null(strstr(f->message, "line 10: \"another bad line\" has no ':'"));
	f = find_code(&v, "policy.note");
	assert_non_null(f);
	assert_int_equal(f->n_occurrences, 3);	/* mode once, max_age twice */
	assert_int_equal(f->sev, SEV_WARNING);
	assert_int_equal(v.status, STATUS_CRITICAL);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* ---- the sender model over history (RFC 8461 3.3, 5.1), now a parameter ------------- */

/* The version's patterns replaced by these (the store keeps them as a list). */
static void version_mx(struct policy_version *pv, const char *a, const char *b)
{
	for (size_t i = 0; i < pv->n_mx; i++)
		free(pv->mx[i]);
	free(pv->mx);
	pv->mx = malloc(2 * sizeof(char *));
	pv->mx[0] = strdup(a);
	pv->mx[1] = strdup(b);
	pv->n_mx = 2;
}

/* The healthy policy with its lines reordered and LF line ends: new bytes, same meaning. */
static const char reordered_policy[] = "max_age: 604800\nmx: mx2.example.org\n"
				       "version: STSv1\nmode: enforce\nmx: mx1.example.org\n";

/* RFC 8461 3.3: a sender that holds the old body behaves the same: a note, not stale */
static void test_history_same_meaning(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;
	const struct finding *f;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_policy(&df, reordered_policy);
	history_base(&h);
	add_version(&h, "20260101T000000", "aaaa", "x", NOW - 30 * DAY, NOW - 3600, 0, 604800);
	/* the same set, another order, case and a trailing dot: names compare as in 4.1 */
	version_mx(&h.versions[0], "MX1.example.org.", "mx2.example.org");
	judge_domain(&o, &df, &h, NOW, &v);
	assert_null(find_code(&v, "sts.id.stale"));
	assert_null(find_code(&v, "cache.stale_policy"));
	f = find_code(&v, "policy.note");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_INFO);
	assert_non_null(strstr(f->message, "the policy body changed under id 20260101T000000, "
				"its meaning did not"));
	assert_int_equal(v.status, STATUS_OK);
	verdict_free(&v);
	/* the same change of bytes with another max_age is stale */
	h.versions[0].max_age = 86400;
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "sts.id.stale"));
	assert_int_equal(find_code(&v, "sts.id.stale")->sev, SEV_WARNING);
	verdict_free(&v);
	/* ...and so is one with another mx set */
	h.versions[0].max_age = 604800;
	version_mx(&h.versions[0], "mx1.example.org", "mx3.example.org");
	judge_domain(&o, &df, &h, NOW, &v);
	assert_non_null(find_code(&v, "sts.id.stale"));
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/*
 * RFC 8461 5.1: the policy host answers 404 under the same id; senders that fetched it
 * (last seen 2 days ago, max_age 7 days) enforce it 5 more days: the MX hosts are judged
 * under it and protection ends then; the certificates outlive that, so mail never fails.
 */
static void test_cache_held_when_404(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;
	json_t *j, *c;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	df.fetch.http_status = 404;
	history_base(&h);
	add_version(&h, "20260101T000000", "aaaa", "*.example.org", NOW - 30 * DAY,
		    NOW - 2 * DAY, 0, 7 * DAY);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_true(v.under_cache);
	assert_int_equal(v.protection_ends, NOW + 5 * DAY);
	assert_int_equal(v.cached_fetched, NOW - 2 * DAY);
	assert_int_equal(v.valid_paths, 2);
	assert_true(v.mx[0].matched && v.mx[1].matched);
	assert_int_equal(v.fails_at, 0);
	assert_int_equal(v.status, STATUS_CRITICAL);	/* policy.http_status, as before */
	assert_non_null(strstr(find_code(&v, "policy.gone")->message, "keep enforcing it until "
			       "in 5 days (2027-01-20T08:00:00Z) (the last good fetch plus its "
			       "max_age), and it is judged below; senders without a cached copy "
			       "deliver without MTA-STS (RFC 8461 5.1)"));
	j = output_json_domain(&df, &v);
	assert_string_equal(json_string_value(json_object_get(j, "protection_ends_at")),
			    "2027-01-20T08:00:00Z");
	c = json_object_get(j, "cached_policy");
	assert_string_equal(json_string_value(json_object_get(c, "txt_id")), "20260101T000000");
	assert_string_equal(json_string_value(json_object_get(c, "mode")), "enforce");
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "mx"), 0)),
			    "*.example.org");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(j, "mx"), 0), "pattern")), "*.example.org");
	json_decref(j);
	verdict_free(&v);
	/* a week later the copies have expired: nothing is enforced, no date is promised */
	judge_domain(&o, &df, &h, NOW + 6 * DAY, &v);
	assert_false(v.under_cache);
	assert_int_equal(v.protection_ends, 0);
	assert_int_equal(v.fails_at, 0);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 5.1: the id was bumped but the new policy cannot be fetched: the same */
static void test_cache_held_id_bumped(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_txt(&df.sts_txt, "v=STSv1; id=20270101T000000");
	df.fetch.rc = FETCH_CONNECT;
	strcpy(df.fetch.error, "connection refused");
	history_base(&h);
	add_version(&h, "20260101T000000", "aaaa", "mx1.example.org", NOW - 30 * DAY,
		    NOW - DAY, 0, 30 * DAY);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_true(v.under_cache);
	assert_string_equal(v.cached_id, "20260101T000000");
	assert_int_equal(v.protection_ends, NOW + 29 * DAY);
	/* mx2 is outside the cached policy: those senders refuse it, mx1 remains */
	assert_int_equal(v.valid_paths, 1);
	assert_non_null(find_code(&v, "mx.unmatched"));
	/* mx1's certificate (60 days) outlives the cache: no failure is predicted */
	assert_int_equal(v.fails_at, 0);
	verdict_free(&v);
	/* with 90 days of max_age the cache outlives mx1's certificate: that is fails_at */
	h.versions[0].max_age = 90 * DAY;
	judge_domain(&o, &df, &h, NOW, &v);
	assert_int_equal(v.fails_at, df.mx[0].smtp[0].cert.not_after);
	assert_non_null(strstr(v.fails_why, "while senders hold the cached policy"));
	assert_int_equal(find_code(&v, "mx.cert.expiring") ?
			 (int)find_code(&v, "mx.cert.expiring")->sev : -1, -1);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* RFC 8461 5.1: an invalid policy served now is no policy: the cached one stays in force */
static void test_cache_held_when_invalid(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_policy(&df, "version: STSv1\r\nmode: enforcing\r\nmx: mx1.example.org\r\n"
			   "max_age: 604800\r\n");
	history_base(&h);
	add_version(&h, "20260101T000000", "aaaa", "*.example.org", NOW - 30 * DAY,
		    NOW - 3600, 0, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_true(v.under_cache);
	assert_non_null(find_code(&v, "policy.mode"));
	assert_non_null(find_code(&v, "policy.gone"));
	assert_int_equal(v.protection_ends, NOW - 3600 + 604800);
	assert_int_equal(v.valid_paths, 2);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* --format json: a finding with a sender profile names the columns; others carry none */
static void test_json_senders(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	json_t *j, *fs, *sn = NULL;
	size_t i, plain = 0;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	fixture_set_txt(&df.sts_txt, "v=STSv1; id=policy1 ");
	df.mx[0].smtp[0].cert.not_after = NOW - 3 * DAY;
	df.mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
	judge_domain(&o, &df, NULL, NOW, &v);
	assert_int_equal(v.status, STATUS_WARNING);
	j = output_json_domain(&df, &v);
	fs = json_object_get(j, "findings");
	for (i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);

		if (strcmp(json_string_value(json_object_get(f, "code")), "sts.txt.note") == 0) {
			sn = json_object_get(f, "senders");
			assert_string_equal(json_string_value(json_object_get(f, "severity")),
					    "WARNING");
		} else {
			assert_null(json_object_get(f, "senders"));
			plain++;
		}
	}
	assert_non_null(sn);
	assert_true(plain > 0);
#define IDS(key, want) do { \
		char got[256] = ""; \
		json_t *a = json_object_get(sn, key); \
		for (size_t k = 0; k < json_array_size(a); k++) \
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? "," : "", \
				 json_string_value(json_array_get(a, k))); \
		assert_string_equal(got, want); \
	} while (0)
	IDS("accept", "pmsr,gomtasts,stalwart,mailauth,halon");
	IDS("reject", "rfc,tlspol,mox");
	IDS("other", "");
	IDS("unknown", "google,microsoft");
	IDS("rules", "txt.trailing_ws_no_semicolon");
#undef IDS
	json_decref(j);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* Two cached versions that both leave the MX out: one cache.stale_policy, both in it. */
static void test_cache_two_versions_merge(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct history h;
	struct verdict v;
	const struct finding *f;

	(void)state;
	judge_opts_defaults(&o);
	fixture_healthy(&df);
	history_base(&h);
	add_version(&h, "20260101T000000", "bbbb", "oldmx.example.org", NOW - 30 * DAY,
		    NOW - 3600, NOW - 1800, 604800);
	add_version(&h, "20260101T000000", "cccc", "older.example.org", NOW - 60 * DAY,
		    NOW - 30 * DAY, NOW - 2 * DAY, 604800);
	judge_domain(&o, &df, &h, NOW, &v);
	assert_true(parts_ok(&v.findings, "two versions"));
	f = find_code(&v, "cache.stale_policy");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_CRITICAL);
	assert_int_equal(f->n_occurrences, 2);
	assert_non_null(strstr(f->evidence, "sha256 bbbb"));
	assert_non_null(strstr(f->evidence, "sha256 cccc"));
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
}

/* the thresholds: the smaller of days and a fraction of the lifetime */
static void test_thresholds(void **state)
{
	struct judge_opts o;
	double w, c;

	(void)state;
	judge_opts_defaults(&o);
	judge_cert_thresholds(&o, NOW, NOW + 90 * DAY, &w, &c);
	assert_true(w == 21.0 * DAY && c == 7.0 * DAY);
	judge_cert_thresholds(&o, NOW, NOW + 6 * DAY, &w, &c);
	assert_true(w == 2.0 * DAY);
	assert_true(c > 0.59 * DAY && c < 0.61 * DAY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_id_stale_covered),
		cmocka_unit_test(test_cache_stale_critical),
		cmocka_unit_test(test_cache_replaced_by_new_id),
		cmocka_unit_test(test_cache_expired),
		cmocka_unit_test(test_cache_kept_when_fetch_fails),
		cmocka_unit_test(test_txt_removed),
		cmocka_unit_test(test_renewed_and_mx_changed),
		cmocka_unit_test(test_renewal_habit),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_timeout_severity),
		cmocka_unit_test(test_mx_unmatched_rule),
		cmocka_unit_test(test_days_agree),
		cmocka_unit_test(test_json_parts),
		cmocka_unit_test(test_policy_duplicates_merge),
		cmocka_unit_test(test_cache_two_versions_merge),
		cmocka_unit_test(test_history_same_meaning),
		cmocka_unit_test(test_cache_held_when_404),
		cmocka_unit_test(test_cache_held_id_bumped),
		cmocka_unit_test(test_cache_held_when_invalid),
		cmocka_unit_test(test_json_senders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
