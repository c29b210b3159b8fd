/* Unit tests of the monitor's vantage point: port 25 blocked, the resolver mute, recovery. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "checks/judge.h"
#include "checks/vantage.h"

/* A healthy domain whose MX addresses are i and i+1, each refused at connect when bad. */
static void domain(struct domain_facts *df, int i, bool bad)
{
	fixture_healthy(df);
	for (size_t k = 0; k < df->n_mx; k++) {
		struct smtp_facts *s = &df->mx[k].smtp[0];

		snprintf(s->ip, sizeof(s->ip), "198.51.%d.%zu", i / 200, (size_t)(i % 200) + k);
		if (bad) {
			memset(&s->cert, 0, sizeof(s->cert));
			s->rc = k ? SMTP_TIMEOUT : SMTP_CONNECT;
			s->stage = SMTP_STAGE_CONNECT;
			s->tls_version[0] = '\0';
			s->tls_version_num = 0;
		}
	}
}

static void test_blocked_and_back(void **state)
{
	struct vantage v;
	struct domain_facts df;
	bool changed = false;
	int i;

	(void)state;
	vantage_init(&v);
	/* a few dead MX hosts among good ones: the view is sound */
	for (i = 0; i < 20; i++) {
		domain(&df, i * 2, i % 5 == 0);
		assert_false(vantage_feed(&v, &df));
		domain_facts_free(&df);
	}
	assert_false(v.smtp_blocked);
	/* then nothing connects: blocked, once enough addresses say so */
	for (i = 20; i < 60 && !changed; i++) {
		domain(&df, i * 2, true);
		changed = vantage_feed(&v, &df);
		domain_facts_free(&df);
	}
	assert_true(changed);
	assert_true(v.smtp_blocked);
	assert_non_null(strstr(v.why, "port 25 appear blocked"));
	/* the same dead addresses again change nothing */
	domain(&df, 100, true);
	assert_false(vantage_feed(&v, &df));
	domain_facts_free(&df);
	/* it connects again: sound once fewer than half of the window fail */
	changed = false;
	for (i = 200; i < 300 && !changed; i++) {
		domain(&df, i * 2, false);
		changed = vantage_feed(&v, &df);
		domain_facts_free(&df);
	}
	assert_true(changed);
	assert_false(v.smtp_blocked);
}

/* Too few addresses to tell: one domain with two dead MX hosts is that domain's problem. */
static void test_not_enough(void **state)
{
	struct vantage v;
	struct domain_facts df;

	(void)state;
	vantage_init(&v);
	for (int i = 0; i < 4; i++) {
		domain(&df, i * 2, true);
		assert_false(vantage_feed(&v, &df));
		domain_facts_free(&df);
	}
	assert_false(v.smtp_blocked);
}

static void test_dns_blind(void **state)
{
	struct vantage v;
	struct domain_facts df;

	(void)state;
	vantage_init(&v);
	for (int i = 0; i < 15; i++) {
		fixture_healthy(&df);
		df.sts_txt.rc = DNS_TIMEOUT;
		df.mx_rc = DNS_ERROR;
		vantage_feed(&v, &df);
		domain_facts_free(&df);
	}
	assert_true(v.dns_blind);
	assert_non_null(strstr(v.why, "resolver does not answer"));
}

/* The judge: an unreachable MX under a blocked port 25 is UNKNOWN, with no failure date. */
static void test_judged(void **state)
{
	struct vantage v;
	struct domain_facts df;
	struct judge_opts o;
	struct verdict vd;

	(void)state;
	vantage_init(&v);
	judge_opts_defaults(&o);
	for (int i = 0; i < 10; i++) {
		domain(&df, i * 2, true);
		vantage_feed(&v, &df);
		domain_facts_free(&df);
	}
	assert_true(v.smtp_blocked);
	domain(&df, 50, true);
	judge_domain(&o, &df, NULL, NOW, &vd);
	assert_int_equal(vd.status, STATUS_CRITICAL);	/* without the vantage: no valid path */
	verdict_free(&vd);
	vantage_apply(&v, &df);
	judge_domain(&o, &df, NULL, NOW, &vd);
	assert_int_equal(vd.status, STATUS_UNKNOWN);
	assert_int_equal(vd.fails_at, 0);
	for (size_t k = 0; k < vd.findings.n; k++)
		assert_int_not_equal(vd.findings.v[k].code, F_MX_CONNECT);
	assert_int_equal(vd.findings.n > 0, 1);
	verdict_free(&vd);
	domain_facts_free(&df);
	/* a domain whose MX does connect is judged as ever, also while blocked */
	domain(&df, 60, false);
	vantage_apply(&v, &df);
	judge_domain(&o, &df, NULL, NOW, &vd);
	assert_int_equal(vd.status, STATUS_OK);
	verdict_free(&vd);
	domain_facts_free(&df);
}

/* One row of vantage_hold: a domain's MX addresses as tried, and whether it waits. */
struct hold_row {
	const char *what;
	enum smtp_result rc[2];
	enum smtp_stage stage[2];
	size_t n_mx;		/* 2 unless 0 */
	bool wait;
};

static void test_hold_rows(void **state)
{
	static const struct hold_row rows[] = {
		/* the sign of a blocked port 25: every address refused or dropped the SYN */
		{ "refused and timed out at connect", { SMTP_CONNECT, SMTP_TIMEOUT },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 2, true },
		{ "both refused", { SMTP_CONNECT, SMTP_CONNECT },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 2, true },
		/* one address connected: port 25 works from here for this domain */
		{ "one connected", { SMTP_OK, SMTP_CONNECT },
		  { SMTP_STAGE_DONE, SMTP_STAGE_CONNECT }, 2, false },
		{ "connected, then no banner", { SMTP_TIMEOUT, SMTP_CONNECT },
		  { SMTP_STAGE_BANNER, SMTP_STAGE_CONNECT }, 2, false },
		{ "connected, TLS failed", { SMTP_TLS, SMTP_TLS },
		  { SMTP_STAGE_HANDSHAKE, SMTP_STAGE_HANDSHAKE }, 2, false },
		/* nothing tried says nothing of port 25 */
		{ "not asked (deadline)", { SMTP_NOT_ASKED, SMTP_NOT_ASKED },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 2, false },
		{ "our own fd shortage", { SMTP_LOCAL, SMTP_LOCAL },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 2, false },
		{ "one refused, one not tried", { SMTP_CONNECT, SMTP_SKIPPED },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 2, true },
		{ "no MX", { SMTP_NOT_ASKED, SMTP_NOT_ASKED },
		  { SMTP_STAGE_CONNECT, SMTP_STAGE_CONNECT }, 0, false },
	};
	struct vantage v;

	(void)state;
	vantage_init(&v);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct domain_facts df;

		domain(&df, (int)r * 2, false);
		for (size_t k = 0; k < df.n_mx; k++) {
			df.mx[k].smtp[0].rc = rows[r].rc[k];
			df.mx[k].smtp[0].stage = rows[r].stage[k];
		}
		if (!rows[r].n_mx)
			df.n_mx = 0;	/* the array is still freed: domain_facts_free frees mx */
		if (vantage_hold(&v, &df, 0) != rows[r].wait)
			fail_msg("row %zu (%s): want wait=%d", r, rows[r].what, rows[r].wait);
		df.n_mx = 2;
		domain_facts_free(&df);
	}
}

/* Once enough addresses were tried, or when the hold is full, nothing waits. */
static void test_hold_known_and_full(void **state)
{
	struct vantage v;
	struct domain_facts df;
	int i;

	(void)state;
	vantage_init(&v);
	domain(&df, 0, true);
	assert_false(vantage_smtp_known(&v));
	assert_true(vantage_hold(&v, &df, 0));
	assert_true(vantage_hold(&v, &df, VANTAGE_HOLD_MAX - 1));
	assert_false(vantage_hold(&v, &df, VANTAGE_HOLD_MAX));
	domain_facts_free(&df);
	/* four domains, two addresses each: 8 of the 10 needed */
	for (i = 0; i < 4; i++) {
		domain(&df, i * 2, true);
		vantage_feed(&v, &df);
		assert_false(vantage_smtp_known(&v));
		assert_true(vantage_hold(&v, &df, (size_t)i));
		domain_facts_free(&df);
	}
	/* the same addresses again count once: still not known */
	domain(&df, 0, true);
	vantage_feed(&v, &df);
	assert_true(vantage_hold(&v, &df, 4));
	domain_facts_free(&df);
	domain(&df, 8, true);
	vantage_feed(&v, &df);
	assert_true(vantage_smtp_known(&v));
	assert_false(vantage_hold(&v, &df, 5));
	domain_facts_free(&df);
	/* a run that starts wary (the last one found port 25 blocked) waits for evidence too */
	vantage_init(&v);
	v.smtp_blocked = true;
	domain(&df, 0, true);
	vantage_feed(&v, &df);
	assert_true(v.smtp_blocked);
	assert_true(vantage_hold(&v, &df, 0));
	domain_facts_free(&df);
}

/* Judge one domain under the verdict as it stands, count its status, free its facts. */
static void judge_count(const struct vantage *v, struct domain_facts *df, size_t *critical,
			size_t *unknown)
{
	struct judge_opts o;
	struct verdict vd;

	judge_opts_defaults(&o);
	vantage_apply(v, df);
	judge_domain(&o, df, NULL, NOW, &vd);
	*critical += vd.status == STATUS_CRITICAL;
	*unknown += vd.status == STATUS_UNKNOWN;
	verdict_free(&vd);
	domain_facts_free(df);
}

/*
 * A run as agent/cmd_run.c does it: feed each domain as it ends, hold what vantage_hold
 * says, judge what waited once vantage_smtp_known, the rest at the end. n domains, two
 * addresses each, every one refused; returns how many came out CRITICAL.
 */
static size_t run_blocked(int n, size_t *unknown)
{
	struct domain_facts held[VANTAGE_HOLD_MAX], df;
	struct vantage v;
	size_t n_held = 0, critical = 0;

	vantage_init(&v);
	*unknown = 0;
	for (int i = 0; i < n; i++) {
		domain(&df, i * 2, true);
		vantage_feed(&v, &df);
		if (vantage_hold(&v, &df, n_held)) {
			held[n_held++] = df;
			continue;
		}
		if (vantage_smtp_known(&v)) {
			for (size_t k = 0; k < n_held; k++)
				judge_count(&v, &held[k], &critical, unknown);
			n_held = 0;
		}
		judge_count(&v, &df, &critical, unknown);
	}
	for (size_t k = 0; k < n_held; k++)	/* the end of the run: with what is known */
		judge_count(&v, &held[k], &critical, unknown);
	return critical;
}

static void test_hold_run(void **state)
{
	size_t unknown;

	(void)state;
	/* twelve domains (the lab's), port 25 blocked: none judged CRITICAL on its own */
	assert_int_equal(run_blocked(12, &unknown), 0);
	assert_int_equal(unknown, 12);
	/* three: six addresses cannot tell a blocked port 25 from three dead domains, so they
	 * are judged on their own, as before */
	assert_int_equal(run_blocked(3, &unknown), 3);
	assert_int_equal(unknown, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocked_and_back),
		cmocka_unit_test(test_not_enough),
		cmocka_unit_test(test_dns_blind),
		cmocka_unit_test(test_judged),
		cmocka_unit_test(test_hold_rows),
		cmocka_unit_test(test_hold_known_and_full),
		cmocka_unit_test(test_hold_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
