/* Unit tests of alerting: routes and minimum severities, digests, the operator, the data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "agent/alerting.h"
#include "agent/config.h"
#include "agent/output.h"
#include "agent/store.h"

static char dir[64], db[128], conf[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/stswatch-alerting-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/a.db", dir);
	snprintf(conf, sizeof(conf), "%s/s.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = (\n"
		"  { name = \"all\"; type = \"webhook\"; url = \"https://h.example/all\"; },\n"
		"  { name = \"crit\"; type = \"slack\"; url = \"https://h.example/crit\";\n"
		"    min_severity = \"CRITICAL\"; },\n"
		"  { name = \"daily\"; type = \"webhook\"; url = \"https://h.example/daily\";\n"
		"    digest = \"08:00\"; timezone = \"UTC\"; },\n"
		"  { name = \"op\"; type = \"webhook\"; url = \"https://h.example/op\"; }\n"
		");\n"
		"notify = [ \"all\", \"crit\", \"daily\" ];\n"
		"alerts = { operator = \"op\"; };\n"
		"groups = ( { name = \"quiet\"; notify = [ ]; domains = ( \"quiet.example\" ); } );\n"
		"domains = ( \"example.org\" );\n", db);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long count(const char *where)
{
	char sql[300], out[64];
	FILE *p;

	snprintf(sql, sizeof(sql), "sqlite3 '%s' \"SELECT count(*) FROM outbox WHERE %s\"", db,
		 where);
	p = popen(sql, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atol(out);
}

/* Judge, record and alert one domain's facts at now. */
static struct alerting_result check(struct config *cfg, struct store *st, const char *domain,
				    struct domain_facts *df, time_t now)
{
	const struct domain_conf *d = config_find_domain(cfg, domain);
	struct verdict v;
	struct history h;
	struct alerting_result ar;
	json_t *report;
	int64_t run;

	assert_non_null(d);
	strcpy(df->domain, domain);
	df->checked_at = now;
	assert_int_equal(store_run_start(st, "run", now, &run), 0);
	assert_int_equal(store_load_history(st, domain, &h), 0);
	judge_domain(&d->judge, df, &h, now, &v);
	report = output_json_domain(df, &v);
	assert_int_equal(alerting_record(cfg, st, run, d, df, &v, report, now, 0, NULL, &ar), 0);
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
	return ar;
}

static void test_routes(void **state)
{
	struct config cfg;
	struct store *st;
	struct domain_facts df;
	struct alerting_result ar;
	char err[512];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
	st = store_open(db, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	/* a WARNING (an MX certificate expiring in 15 days): "all" only; "crit" wants
	 * CRITICAL, "daily" takes it with its digest */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
	ar = check(&cfg, st, "example.org", &df, NOW);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 1);
	assert_int_equal(count("receiver = 'all' AND kind = 'problem'"), 1);
	assert_int_equal(count("receiver IN ('crit', 'daily')"), 0);
	domain_facts_free(&df);

	/* both MX certificates expired: no valid path, CRITICAL, escalated, to all three */
	fixture_healthy(&df);
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "mx%d.example.org", i + 1);
		fixture_good_cert(&df.mx[i].smtp[0].cert, name, NOW - DAY);
		df.mx[i].smtp[0].cert.problems = CERT_P_EXPIRED;
	}
	ar = check(&cfg, st, "example.org", &df, NOW + 3600);
	assert_int_equal(ar.kind, ALERT_ESCALATED);
	assert_int_equal(ar.queued, 3);
	domain_facts_free(&df);

	/* resolved: a resolution of a CRITICAL goes to every one told, "daily" at once too */
	fixture_healthy(&df);
	ar = check(&cfg, st, "example.org", &df, NOW + 7200);
	assert_int_equal(ar.kind, ALERT_RESOLVED);
	assert_int_equal(ar.queued, 3);
	domain_facts_free(&df);

	/* notify = [] silences a group on purpose */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.quiet.example", NOW - DAY);
	df.mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
	ar = check(&cfg, st, "quiet.example", &df, NOW + 7300);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 0);
	domain_facts_free(&df);

	/* the operator hears of an inconclusive run, nobody else */
	assert_int_equal(alerting_inconclusive(&cfg, st, 0, "port 25 appears blocked", NOW), 0);
	assert_int_equal(count("receiver = 'op' AND kind = 'inconclusive'"), 1);
	store_close(st);
	config_free(&cfg);
}

static void test_digests(void **state)
{
	struct config cfg;
	struct store *st;
	size_t n = 9;
	char err[512];
	/* NOW is 2027-01-15T08:00:00Z: the digest moment itself */
	time_t day = NOW - 8 * 3600;	/* midnight */

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
	st = store_open(db, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	/* the first call only starts the clock: no digest of everything ever */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 3600, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 7 * 3600, &n), 0);
	assert_int_equal(n, 0);
	/* at 08:00 UTC: one digest, once */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 8 * 3600, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 9 * 3600, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 31 * 3600, &n), 0);
	assert_int_equal(n, 0);
	/* the next day at 08:00 */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 32 * 3600 + 60, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(count("receiver = 'daily' AND kind = 'digest'"), 2);
	/* the digest lists what changed since the last one (from test_routes' checks) */
	{
		char sql[300], out[4096];
		FILE *p;

		snprintf(sql, sizeof(sql), "sqlite3 '%s' \"SELECT data FROM outbox WHERE kind ="
			 " 'digest' ORDER BY created_at LIMIT 1\"", db);
		p = popen(sql, "r");
		assert_non_null(p);
		assert_non_null(fgets(out, sizeof(out), p));
		pclose(p);
		assert_non_null(strstr(out, "\"receiver\":\"daily\""));
		assert_non_null(strstr(out, "\"open\":"));
		assert_non_null(strstr(out, "\"changed\":"));
	}
	store_close(st);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_digests),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
