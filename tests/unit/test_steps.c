/*
 * Unit tests of the judge's words for a check that stopped part-way: the step an SMTP
 * session or the policy fetch stalled in, the cause of a protocol error, and what the
 * plugin's deadline left pending (issue 11: each is named for what it is).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "checks/judge.h"

static const struct finding *find(const struct verdict *v, enum finding_code code,
				  const char *subject)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (v->findings.v[i].code == code &&
		    (!subject || strcmp(v->findings.v[i].subject, subject) == 0))
			return &v->findings.v[i];
	return NULL;
}

static void judge(struct domain_facts *df, struct verdict *v)
{
	struct judge_opts o;

	judge_opts_defaults(&o);
	judge_domain(&o, df, NULL, NOW, v);
}

/* ---- SMTP: "timed out during STEP", filed where the step belongs --------------------- */

struct smtp_row {
	enum smtp_stage stage;
	enum finding_code code;
	const char *words;	/* in the message */
	const char *fix;	/* in the fix */
};

static const struct smtp_row smtp_rows[] = {
	{ SMTP_STAGE_CONNECT, F_MX_CONNECT, "timed out during connect", "TCP connection is not "
	  "answered" },
	{ SMTP_STAGE_BANNER, F_MX_CONNECT, "timed out during banner", "220 greeting" },
	{ SMTP_STAGE_EHLO, F_MX_CONNECT, "timed out during EHLO", "answer EHLO" },
	{ SMTP_STAGE_STARTTLS, F_MX_CONNECT, "timed out during STARTTLS", "answer STARTTLS" },
	/* issue 11: a stalled handshake was mx.connect, "make the MX answer SMTP here" */
	{ SMTP_STAGE_HANDSHAKE, F_MX_TLS_HANDSHAKE, "timed out during TLS handshake",
	  "stalled in the TLS handshake" },
};

static void test_smtp_timeout_steps(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(smtp_rows) / sizeof(smtp_rows[0]); r++) {
		const struct smtp_row *row = &smtp_rows[r];
		struct domain_facts df;
		struct verdict v;
		const struct finding *f;
		struct smtp_facts *s;

		fixture_healthy(&df);
		s = &df.mx[0].smtp[0];
		s->rc = SMTP_TIMEOUT;
		s->stage = row->stage;
		snprintf(s->error, sizeof(s->error), "timed out during %s (no progress within 500 "
			 "ms)", smtp_stage_str(row->stage));
		memset(&s->cert, 0, sizeof(s->cert));
		judge(&df, &v);
		f = find(&v, row->code, "mx1.example.org[192.0.2.1]");
		if (!f)
			fail_msg("stage %s: no %s", smtp_stage_str(row->stage),
				 finding_code_str(row->code));
		/* DESIGN: one failing MX beside a valid one under enforce is a WARNING */
		assert_int_equal(f->sev, SEV_WARNING);
		if (!strstr(f->what, row->words) || !strstr(f->fix, row->fix))
			fail_msg("stage %s: \"%s\" / fix \"%s\"", smtp_stage_str(row->stage), f->what,
				 f->fix);
		assert_null(strstr(f->fix, "answer SMTP here"));
		if (row->stage == SMTP_STAGE_HANDSHAKE)
			assert_null(find(&v, F_MX_CONNECT, NULL));
		verdict_free(&v);
		domain_facts_free(&df);
	}
}

/* Both MX hosts stall in the handshake: no valid path left, CRITICAL as DESIGN says. */
static void test_smtp_timeout_severity(void **state)
{
	struct domain_facts df;
	struct verdict v;
	const struct finding *f;

	(void)state;
	fixture_healthy(&df);
	for (int i = 0; i < 2; i++) {
		df.mx[i].smtp[0].rc = SMTP_TIMEOUT;
		df.mx[i].smtp[0].stage = SMTP_STAGE_HANDSHAKE;
		memset(&df.mx[i].smtp[0].cert, 0, sizeof(df.mx[i].smtp[0].cert));
	}
	judge(&df, &v);
	f = find(&v, F_MX_TLS_HANDSHAKE, "mx2.example.org[192.0.2.2]");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_CRITICAL);
	assert_int_equal(v.status, STATUS_CRITICAL);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* ---- the policy fetch: the step, and a fix that speaks of the cause ------------------ */

struct fetch_row {
	enum fetch_result rc;
	enum fetch_step step;
	bool headers_too_large;
	const char *what;	/* in the what, NULL: "failed" */
	const char *fix;	/* in the fix */
};

static const struct fetch_row fetch_rows[] = {
	{ FETCH_TIMEOUT, FETCH_STEP_CONNECT, false, "timed out during TCP connect",
	  "TCP connection is not answered" },
	{ FETCH_TIMEOUT, FETCH_STEP_TLS, false, "timed out during TLS handshake",
	  "stalls in the TLS handshake" },
	{ FETCH_TIMEOUT, FETCH_STEP_WAIT, false, "timed out during the wait for the response "
	  "headers", "does not answer it in time" },
	{ FETCH_TIMEOUT, FETCH_STEP_HEADERS, false, "timed out during the response headers",
	  "does not answer it in time" },
	{ FETCH_TIMEOUT, FETCH_STEP_BODY, false, "timed out during the body", "too slowly" },
	/* libcurl's "Too large response headers" */
	{ FETCH_PROTOCOL, FETCH_STEP_HEADERS, true, NULL, "response headers without end" },
	{ FETCH_PROTOCOL, FETCH_STEP_HEADERS, false, NULL, "malformed HTTP response head" },
	{ FETCH_PROTOCOL, FETCH_STEP_WAIT, false, NULL, "without an HTTP response" },
	{ FETCH_PROTOCOL, FETCH_STEP_BODY, false, NULL, "garbles the body" },
	{ FETCH_TLS, FETCH_STEP_TLS, false, NULL, "TLS set-up" },
	{ FETCH_CONNECT, FETCH_STEP_CONNECT, false, NULL, "accept HTTPS connections on port 443" },
};

static void test_fetch_steps(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(fetch_rows) / sizeof(fetch_rows[0]); r++) {
		const struct fetch_row *row = &fetch_rows[r];
		struct domain_facts df;
		struct verdict v;
		const struct finding *f;

		fixture_healthy(&df);
		free(df.fetch.body);
		df.fetch.body = NULL;
		df.fetch.body_len = 0;
		df.fetch.rc = row->rc;
		df.fetch.step = row->step;
		df.fetch.headers_too_large = row->headers_too_large;
		df.fetch.http_status = 0;
		strcpy(df.fetch.error, "what the probe said");
		judge(&df, &v);
		f = find(&v, F_POLICY_FETCH, "mta-sts.example.org");
		if (!f)
			fail_msg("row %zu: no policy.fetch", r);
		assert_int_equal(f->sev, SEV_CRITICAL);	/* DESIGN: not fetchable is CRITICAL */
		if (!strstr(f->what, row->what ? row->what : "failed") || !strstr(f->fix, row->fix))
			fail_msg("row %zu (%s, %s): \"%s\" / fix \"%s\"", r, fetch_result_str(row->rc),
				 fetch_step_str(row->step), f->what, f->fix);
		/* the old words for every failure: "make mta-sts.D answer HTTPS on port 443" */
		assert_null(strstr(f->fix, "answer HTTPS on port 443"));
		verdict_free(&v);
		domain_facts_free(&df);
	}
}

/* ---- DNS: what the answer really was ------------------------------------------------- */

/* issue 11: a valid 3,031-byte record was CRITICAL, "this tool reads at most 2048". */
static void test_long_txt_valid(void **state)
{
	struct domain_facts df;
	struct verdict v;
	char rec[3032];

	(void)state;
	memset(rec, 'a', sizeof(rec) - 1);
	rec[sizeof(rec) - 1] = '\0';
	memcpy(rec, "v=STSv1; id=20260101T000000; x=", 31);
	fixture_healthy(&df);
	fixture_set_txt(&df.sts_txt, rec);
	judge(&df, &v);
	assert_null(find(&v, F_STS_TXT_INVALID, NULL));
	assert_true(v.txt.valid);
	assert_string_equal(v.txt.id, "20260101T000000");
	assert_int_equal(v.status, STATUS_OK);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* issue 11: a CNAME loop read as NODATA (sts.txt.missing, mx.none): it is a DNS error. */
static void test_cname_loop_is_dns_error(void **state)
{
	struct domain_facts df;
	struct verdict v;
	const struct finding *f;

	(void)state;
	fixture_healthy(&df);
	txt_answer_free(&df.sts_txt);
	df.sts_txt.rc = DNS_CNAME_LOOP;
	strcpy(df.sts_txt.detail, "CNAME loop: _mta-sts.example.org -> a.example.org -> "
	       "_mta-sts.example.org");
	for (size_t i = 0; i < df.n_mx; i++)
		free(df.mx[i].smtp);
	free(df.mx);
	df.mx = NULL;
	df.n_mx = 0;
	df.mx_rc = DNS_CNAME_LOOP;
	strcpy(df.mx_detail, "CNAME loop: example.org -> b.example.org -> example.org");
	judge(&df, &v);
	assert_null(find(&v, F_STS_TXT_MISSING, NULL));
	assert_null(find(&v, F_MX_NONE, NULL));
	f = find(&v, F_DNS_ERROR, "_mta-sts.example.org");
	assert_non_null(f);
	assert_int_equal(f->sev, SEV_UNKNOWN);
	assert_non_null(strstr(f->what, "CNAME loop"));
	assert_non_null(strstr(f->evidence, "-> a.example.org ->"));
	assert_non_null(strstr(f->fix, "break the loop"));
	f = find(&v, F_DNS_ERROR, "example.org");
	assert_non_null(f);
	assert_non_null(strstr(f->what, "CNAME loop"));
	assert_int_equal(v.status, STATUS_UNKNOWN);
	verdict_free(&v);
	domain_facts_free(&df);
}

/* issue 11: 200 MX hosts, 16 probed: the note says how many there are. */
static void test_mx_total_note(void **state)
{
	struct domain_facts df;
	struct verdict v;
	const struct finding *f;

	(void)state;
	fixture_healthy(&df);
	df.mx_truncated = true;
	df.mx_total = 200;
	judge(&df, &v);
	f = find(&v, F_MX_NOTE, NULL);
	assert_non_null(f);
	assert_non_null(strstr(f->what, "200 MX hosts"));
	assert_non_null(strstr(f->consequence, "only the first 2 (by preference) were probed"));
	verdict_free(&v);
	domain_facts_free(&df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_timeout_steps),
		cmocka_unit_test(test_smtp_timeout_severity),
		cmocka_unit_test(test_fetch_steps),
		cmocka_unit_test(test_long_txt_valid),
		cmocka_unit_test(test_cname_loop_is_dns_error),
		cmocka_unit_test(test_mx_total_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
