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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocked_and_back),
		cmocka_unit_test(test_not_enough),
		cmocka_unit_test(test_dns_blind),
		cmocka_unit_test(test_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
