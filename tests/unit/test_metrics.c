/*
 * Unit tests of the metrics: the families, their values from a recorded check, escaping;
 * only the configured domains exported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "agent/config.h"
#include "agent/metrics.h"
#include "agent/output.h"
#include "agent/store.h"

static void test_render(void **state)
{
	char dir[] = "/tmp/stswatch-metrics-XXXXXX", path[128], file[160], err[256], *text;
	struct store *st;
	struct domain_facts df;
	struct judge_opts o;
	struct verdict v;
	struct metrics_agent ag = { .checks = 3, .check_seconds = 1.5, .started = NOW };
	struct dynbuf out;
	json_t *report;
	int64_t run;
	FILE *f;
	long n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.db", dir);
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	fixture_healthy(&df);
	df.checked_at = NOW;
	judge_opts_defaults(&o);
	judge_domain(&o, &df, NULL, NOW, &v);
	report = output_json_domain(&df, &v);
	assert_int_equal(store_run_start(st, "run", NOW, &run), 0);
	assert_int_equal(store_record(st, run, &df, &v, report, NULL), 0);
	json_decref(report);
	verdict_free(&v);
	domain_facts_free(&df);
	/* a name that needs escaping in a label (never a real domain: the parser refuses it) */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "INSERT INTO domains(domain, status, status_since,"
					      " last_checked) VALUES ('q\"u\\o', 'CRITICAL', 1, 2)",
					      NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	dynbuf_init(&out, 0);
	assert_int_equal(metrics_render(st, NULL, &ag, &out), 0);
	text = out.buf;
	assert_non_null(strstr(text, "# TYPE stswatch_domain_status gauge\n"));
	assert_non_null(strstr(text, "stswatch_domain_status{domain=\"example.org\"} 0\n"));
	assert_non_null(strstr(text, "stswatch_domain_policy_max_age_seconds{domain=\"example.org\"} 604800\n"));
	assert_non_null(strstr(text, "stswatch_domain_policy_mode{domain=\"example.org\",mode=\"enforce\"} 1\n"));
	/* mx1's certificate expires at NOW + 60 days (the fixture) */
	snprintf(file, sizeof(file), "stswatch_mx_cert_not_after_timestamp_seconds{domain=\"example.org\","
		 "mx=\"mx1.example.org\"} %lld\n", (long long)(NOW + 60 * DAY));
	assert_non_null(strstr(text, file));
	assert_non_null(strstr(text, "stswatch_domains{status=\"OK\"} 1\n"));
	assert_non_null(strstr(text, "stswatch_domains{status=\"CRITICAL\"} 1\n"));
	assert_non_null(strstr(text, "stswatch_domain_status{domain=\"q\\\"u\\\\o\"} 2\n"));
	assert_non_null(strstr(text, "stswatch_checks_total 3\n"));
	assert_non_null(strstr(text, "stswatch_build_info{version=\""));
	/* each family's HELP once */
	n = 0;
	for (const char *p = text; (p = strstr(p, "# HELP stswatch_domain_status ")); p++)
		n++;
	assert_int_equal(n, 1);

	/* written atomically: no temporary file left, the whole text there */
	snprintf(file, sizeof(file), "%s/stswatch.prom", dir);
	assert_int_equal(metrics_write_file(file, text, err, sizeof(err)), 0);
	f = fopen(file, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	assert_int_equal(ftell(f), (long)strlen(text));
	fclose(f);
	assert_int_equal(metrics_write_file("/nonexistent/dir/x.prom", text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.prom"));
	/* render and write in one (the daemon's cycle and run --once): the same text */
	unlink(file);
	assert_int_equal(metrics_update_file(st, NULL, &ag, file, err, sizeof(err)), 0);
	f = fopen(file, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	assert_int_equal(ftell(f), (long)strlen(text));
	fclose(f);
	assert_int_equal(metrics_update_file(st, NULL, &ag, "/nonexistent/dir/x.prom", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/dir/x.prom"));
	dynbuf_free(&out);
	store_close(st);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* Records a check of the fixture (its MX certificates included) under the name domain. */
static void record_as(struct store *st, int64_t run, const char *domain)
{
	struct domain_facts df;
	struct judge_opts o;
	struct verdict v;
	json_t *report;

	fixture_healthy(&df);
	snprintf(df.domain, sizeof(df.domain), "%s", domain);
	judge_opts_defaults(&o);
	judge_domain(&o, &df, NULL, NOW, &v);
	report = output_json_domain(&df, &v);
	assert_int_equal(store_record(st, run, &df, &v, report, NULL), 0);
	json_decref(report);
	verdict_free(&v);
	domain_facts_free(&df);
}

/*
 * A domain removed from the configuration keeps its rows in the database, but no series:
 * a frozen value would look like a domain still watched. Without a configuration (NULL)
 * every recorded domain is exported.
 */
static void test_configured_only(void **state)
{
	char dir[] = "/tmp/stswatch-metrics-XXXXXX", path[128], err[256], cmd[200];
	struct store *st;
	struct config cfg;
	struct metrics_agent ag = { .started = NOW };
	struct dynbuf out;
	int64_t run;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.db", dir);
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_run_start(st, "run", NOW, &run), 0);
	record_as(st, run, "example.org");
	record_as(st, run, "gone.example");
	config_defaults(&cfg);
	assert_int_equal(config_add_domain(&cfg, "Example.ORG", err, sizeof(err)), 0);
	assert_int_equal(config_add_domain(&cfg, "never.example", err, sizeof(err)), 0);

	dynbuf_init(&out, 0);
	assert_int_equal(metrics_render(st, &cfg, &ag, &out), 0);
	assert_non_null(strstr(out.buf, "stswatch_domain_status{domain=\"example.org\"} 0\n"));
	assert_non_null(strstr(out.buf, "stswatch_mx_cert_not_after_timestamp_seconds{domain=\""
			       "example.org\",mx=\"mx1.example.org\"}"));
	assert_null(strstr(out.buf, "gone.example"));
	assert_null(strstr(out.buf, "never.example"));	/* no row yet: nothing to tell */
	assert_non_null(strstr(out.buf, "stswatch_domains{status=\"OK\"} 1\n"));
	dynbuf_free(&out);

	/* the daemon's file, written on each cycle: the same rule */
	snprintf(path, sizeof(path), "%s/stswatch.prom", dir);
	assert_int_equal(metrics_update_file(st, &cfg, &ag, path, err, sizeof(err)), 0);
	{
		char text[65536];
		FILE *f = fopen(path, "r");
		size_t n;

		assert_non_null(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		assert_non_null(strstr(text, "{domain=\"example.org\"}"));
		assert_null(strstr(text, "gone.example"));
	}

	dynbuf_init(&out, 0);
	assert_int_equal(metrics_render(st, NULL, &ag, &out), 0);
	assert_non_null(strstr(out.buf, "stswatch_domain_status{domain=\"gone.example\"} 0\n"));
	assert_non_null(strstr(out.buf, "stswatch_mx_cert_not_after_timestamp_seconds{domain=\""
			       "gone.example\",mx=\"mx1.example.org\"}"));
	assert_non_null(strstr(out.buf, "stswatch_domains{status=\"OK\"} 2\n"));
	dynbuf_free(&out);
	config_free(&cfg);
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_configured_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
