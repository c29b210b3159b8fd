/*
 * Unit tests of our own descriptor shortage (issue 11): with no descriptor left, the real
 * HTTPS and SMTP probes say so (FETCH_LOCAL, SMTP_LOCAL) instead of blaming the peer, and
 * the judge makes that UNKNOWN (check.resources), never a failure of the domain. The
 * probes run against loopback addresses they never reach: socket() fails first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "checks/https_probe.h"
#include "checks/judge.h"
#include "checks/smtp_probe.h"
#include "checks/tlscert.h"
#include "lib/loop.h"

struct got {
	bool fetched, probed;
	struct policy_fetch fetch;
	struct smtp_facts smtp;
};

static void on_fetch(void *arg, struct policy_fetch *res)
{
	struct got *g = arg;

	g->fetch = *res;
	res->body = NULL;
	g->fetched = true;
}

static void on_smtp(void *arg, const struct smtp_facts *res)
{
	struct got *g = arg;

	g->smtp = *res;
	g->probed = true;
}

/* Lower the soft limit to the next free descriptor, so the next socket() gets EMFILE. */
static struct rlimit exhaust_descriptors(void)
{
	struct rlimit old, low;
	int next = dup(0);

	assert_true(next >= 0);
	close(next);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)next;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	errno = 0;
	assert_true(socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EMFILE);
	return old;
}

static void probe_without_descriptors(struct got *g)
{
	struct loop *lp = loop_new(NULL);
	char err[256];
	struct tlscert_store *st = tlscert_store_new(NULL, err, sizeof(err));
	struct https_client_opts ho = { 4443 };
	struct smtp_client_opts so = { "probe.example.org", 1000, 1000, 2525, NULL };
	struct https_client *hc;
	struct smtp_client *sc;
	struct addr_answer addrs;
	struct rlimit old;

	assert_non_null(lp);
	assert_non_null(st);
	hc = https_client_new(lp, st, &ho, err, sizeof(err));
	sc = smtp_client_new(lp, st, &so, err, sizeof(err));
	assert_non_null(hc);
	assert_non_null(sc);
	memset(&addrs, 0, sizeof(addrs));
	addrs.rc4 = DNS_OK;
	addrs.n = 1;
	addrs.v[0].family = AF_INET;
	strcpy(addrs.v[0].ip, "127.0.0.1");

	old = exhaust_descriptors();
	assert_non_null(https_fetch_policy(hc, "example.org", &addrs, 1000, NOW, on_fetch, g));
	assert_non_null(smtp_probe_start(sc, "mx1.example.org", AF_INET, "127.0.0.1", NOW,
					 on_smtp, g));
	assert_false(g->probed);	/* from the loop, never from inside the start */
	for (int i = 0; i < 50 && !(g->fetched && g->probed); i++)
		assert_int_equal(loop_run_once(lp, 100), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);

	smtp_client_free(sc);
	https_client_free(hc);
	tlscert_store_free(st);
	loop_free(lp);
}

static void test_probes_say_local(void **state)
{
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	probe_without_descriptors(&g);
	assert_true(g.fetched);
	assert_int_equal(g.fetch.rc, FETCH_LOCAL);
	assert_non_null(strstr(g.fetch.error, "Too many open files"));
	assert_true(g.probed);
	assert_int_equal(g.smtp.rc, SMTP_LOCAL);
	assert_non_null(strstr(g.smtp.error, "Too many open files"));
	free(g.fetch.body);
}

static bool has(const struct verdict *v, const char *code, enum severity sev)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (strcmp(finding_code_str(v->findings.v[i].code), code) == 0 &&
		    v->findings.v[i].sev == sev)
			return true;
	return false;
}

static bool any_code(const struct verdict *v, const char *code)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (strcmp(finding_code_str(v->findings.v[i].code), code) == 0)
			return true;
	return false;
}

/* The judge: our shortage is "could not tell" for the domain, whichever probe met it. */
static void test_judge_unknown(void **state)
{
	struct judge_opts o;
	struct domain_facts df;
	struct verdict v;
	struct got g;

	(void)state;
	memset(&g, 0, sizeof(g));
	probe_without_descriptors(&g);
	judge_opts_defaults(&o);

	/* the policy fetch could not open a socket */
	fixture_healthy(&df);
	free(df.fetch.body);
	df.fetch = g.fetch;
	judge_domain(&o, &df, NULL, NOW, &v);
	assert_int_equal(v.status, STATUS_UNKNOWN);
	assert_true(has(&v, "check.resources", SEV_UNKNOWN));
	assert_false(any_code(&v, "policy.fetch"));
	for (size_t i = 0; i < v.findings.n; i++)
		assert_int_not_equal(v.findings.v[i].sev, SEV_CRITICAL);
	verdict_free(&v);
	df.fetch.body = NULL;
	domain_facts_free(&df);

	/* one STARTTLS probe could not: the other MX still gives a valid path */
	fixture_healthy(&df);
	df.mx[0].smtp[0] = g.smtp;
	judge_domain(&o, &df, NULL, NOW, &v);
	assert_int_equal(v.status, STATUS_UNKNOWN);
	assert_true(has(&v, "check.resources", SEV_UNKNOWN));
	assert_false(any_code(&v, "mx.connect"));
	assert_int_equal(v.valid_paths, 1);
	verdict_free(&v);
	domain_facts_free(&df);

	/* none could: still nothing the domain is blamed for */
	fixture_healthy(&df);
	df.mx[0].smtp[0] = g.smtp;
	df.mx[1].smtp[0] = g.smtp;
	judge_domain(&o, &df, NULL, NOW, &v);
	assert_int_equal(v.status, STATUS_UNKNOWN);
	assert_false(any_code(&v, "mx.connect"));
	for (size_t i = 0; i < v.findings.n; i++)
		assert_int_not_equal(v.findings.v[i].sev, SEV_CRITICAL);
	verdict_free(&v);
	domain_facts_free(&df);
	free(g.fetch.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_say_local),
		cmocka_unit_test(test_judge_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
