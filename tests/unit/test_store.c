/* Unit tests of the store: runs, history for the judge, finding identity, locking, pruning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "agent/output.h"
#include "agent/store.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/stswatch-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Judge facts at time now and record them as one run. */
static enum status record_run(struct store *st, struct domain_facts *df, time_t now)
{
	struct judge_opts o;
	struct history h;
	struct verdict v;
	json_t *report;
	enum status status;

	judge_opts_defaults(&o);
	df->checked_at = now;
	assert_int_equal(store_run_begin(st, "run", now), 0);
	assert_int_equal(store_load_history(st, df->domain, &h), 0);
	judge_domain(&o, df, &h, now, &v);
	report = output_json_domain(df, &v);
	assert_int_equal(store_record(st, df, &v, report), 0);
	assert_int_equal(store_run_commit(st, now), 0);
	status = v.status;
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
	return status;
}

static long count(struct store *st, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long n = -1;

	(void)st;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void expire_mx1(struct domain_facts *df)
{
	df->mx[0].smtp[0].cert.not_after = NOW - DAY;
	df->mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
}

static void test_lifecycle(void **state)
{
	char err[256];
	struct store *st;
	struct domain_facts df;
	struct history h;
	struct stat sb;
	json_t *status, *hist, *fs;

	(void)state;
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777 & ~0640, 0);	/* never world-readable */

	/* run 1: healthy */
	fixture_healthy(&df);
	assert_int_equal(record_run(st, &df, NOW), STATUS_OK);
	assert_int_equal(store_last_checked(st, "example.org"), NOW);
	assert_int_equal(store_load_history(st, "example.org", &h), 0);
	assert_true(h.known);
	assert_string_equal(h.txt_id, "20260101T000000");
	assert_int_equal(h.n_versions, 1);
	assert_int_equal(h.versions[0].mode, POLICY_MODE_ENFORCE);
	assert_int_equal(h.versions[0].n_mx, 2);
	assert_int_equal(h.versions[0].replaced_at, 0);
	assert_int_equal(h.n_mx, 2);
	assert_string_equal(h.mx[0], "mx1.example.org");
	assert_int_equal(h.n_certs, 3);	/* the policy host and two MX addresses */
	history_free(&h);

	/* run 2: an MX certificate expired: a finding opens, the status changes */
	expire_mx1(&df);
	assert_int_equal(record_run(st, &df, NOW + 3600), STATUS_WARNING);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"
			       " AND closed_at IS NULL"), 1);
	status = store_domain_status(st, "example.org");
	assert_non_null(status);
	assert_string_equal(json_string_value(json_object_get(status, "status")), "WARNING");
	fs = json_object_get(status, "findings");
	assert_true(json_array_size(fs) >= 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fs, 0), "code")),
			    "mx.cert.expired");
	json_decref(status);

	/* run 3: still expired: the same finding, not a new one */
	assert_int_equal(record_run(st, &df, NOW + 7200), STATUS_WARNING);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"), 1);

	/* run 4: the MX question times out: could not tell closes nothing */
	{
		struct domain_facts broken;

		fixture_healthy(&broken);
		for (size_t i = 0; i < broken.n_mx; i++)
			free(broken.mx[i].smtp);
		free(broken.mx);
		broken.mx = NULL;
		broken.n_mx = 0;
		broken.mx_rc = DNS_TIMEOUT;
		assert_int_equal(record_run(st, &broken, NOW + 10800), STATUS_UNKNOWN);
		domain_facts_free(&broken);
	}
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"
			       " AND closed_at IS NULL"), 1);

	/* run 5: renewed: the finding closes, a renewal note opens */
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 80 * DAY);
	assert_int_equal(record_run(st, &df, NOW + 14400), STATUS_OK);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"
			       " AND closed_at = 1800014400"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.renewed'"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM status_changes WHERE domain = 'example.org'"), 4);

	hist = store_domain_history(st, "example.org", 0);
	assert_int_equal(json_array_size(json_object_get(hist, "policy_versions")), 1);
	assert_int_equal(json_array_size(json_object_get(hist, "status_changes")), 4);
	assert_true(json_array_size(json_object_get(hist, "certificates")) >= 4);
	json_decref(hist);

	/* the policy changes under the same id: the old version is marked replaced */
	fixture_set_policy(&df, "version: STSv1\r\nmode: enforce\r\nmx: *.example.org\r\n"
				"max_age: 604800\r\n");
	record_run(st, &df, NOW + 18000);
	assert_int_equal(count(st, "SELECT count(*) FROM policy_versions WHERE replaced_at = 1800018000"), 1);
	assert_int_equal(store_load_history(st, "example.org", &h), 0);
	assert_int_equal(h.n_versions, 2);
	history_free(&h);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'sts.id.stale'"
			       " AND closed_at IS NULL"), 1);

	assert_int_equal(store_check(st, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "ok"));
	domain_facts_free(&df);
	store_close(st);
}

/* A rolled-back run leaves nothing; a second writer is told the database is busy. */
static void test_rollback_and_lock(void **state)
{
	char err[256];
	struct store *a, *b, *r;
	struct domain_facts df;
	struct judge_opts o;
	struct verdict v;
	json_t *report, *status;
	long before;

	(void)state;
	a = store_open(path, STORE_WRITE, err, sizeof(err));
	b = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	before = count(a, "SELECT count(*) FROM checks");
	fixture_healthy(&df);
	judge_opts_defaults(&o);
	judge_domain(&o, &df, NULL, NOW + 99999, &v);
	report = output_json_domain(&df, &v);
	assert_int_equal(store_run_begin(a, "run", NOW + 99999), 0);
	assert_int_equal(store_record(a, &df, &v, report), 0);

	/* a reader sees the last committed state while the run is open (WAL) */
	r = store_open(path, STORE_READ, err, sizeof(err));
	assert_non_null(r);
	status = store_domain_status(r, "example.org");
	assert_non_null(status);
	json_decref(status);
	store_close(r);

	/* a second run cannot start; it says why, quickly enough for a timer */
	sqlite3 *raw;

	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	sqlite3_busy_timeout(raw, 100);
	assert_int_not_equal(sqlite3_exec(raw, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);

	store_run_rollback(a);
	assert_int_equal(count(a, "SELECT count(*) FROM checks"), before);
	assert_int_equal(store_run_begin(b, "run", NOW), 0);
	store_run_rollback(b);
	json_decref(report);
	verdict_free(&v);
	domain_facts_free(&df);
	store_close(a);
	store_close(b);
}

static void test_prune(void **state)
{
	char err[256];
	struct store *st = store_open(path, STORE_WRITE, err, sizeof(err));
	long deleted = 0, checks;

	(void)state;
	assert_non_null(st);
	checks = count(st, "SELECT count(*) FROM checks");
	assert_true(checks > 0);
	/* nothing is older than 400 days at NOW */
	assert_int_equal(store_prune(st, 400, NOW + DAY, &deleted), 0);
	assert_int_equal(deleted, 0);
	/* a year and a half later everything checked back then goes */
	assert_int_equal(store_prune(st, 400, NOW + 550 * DAY, &deleted), 0);
	assert_true(deleted >= checks);
	assert_int_equal(count(st, "SELECT count(*) FROM checks"), 0);
	store_close(st);
}

static void test_open_errors(void **state)
{
	char err[256] = "", p2[160];
	sqlite3 *db;

	(void)state;
	snprintf(p2, sizeof(p2), "%s/missing.db", dir);
	assert_null(store_open(p2, STORE_READ, err, sizeof(err)));
	assert_non_null(strstr(err, "no database yet"));

	/* a database from a newer stswatch is refused, not damaged */
	snprintf(p2, sizeof(p2), "%s/newer.db", dir);
	assert_int_equal(sqlite3_open(p2, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(p2, STORE_WRITE, err, sizeof(err)));
	assert_non_null(strstr(err, "newer than this stswatch"));

	/* an unwritable place is named */
	assert_null(store_open("/proc/stswatch/x.db", STORE_WRITE, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/stswatch"));
}

/*
 * Findings with the same identity merge before they reach the store: a policy with two
 * invalid lines, repeated max_age and mode lines, or an HTML page used to give the same
 * (code, subject) twice, which the findings index refused, and no run was recorded.
 */
static void test_same_identity_recorded(void **state)
{
	static const char *const bodies[] = {
		"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\n"
		"max_age: 604800\r\nbad line one\r\nbad line two\r\n",
		"version: STSv1\r\nmode: enforce\r\nmode: testing\r\nmode: none\r\n"
		"mx: mx1.example.org\r\nmx: mx2.example.org\r\nmax_age: 604800\r\n"
		"max_age: 60\r\nmax_age: 86400\r\n",
		"<html>\n<head><title>Welcome</title></head>\n<body>\n<a href=\"x\">x</a>: y\n"
		"</body>\n</html>\n",
	};
	char err[256], saved[sizeof(path)];
	struct store *st;
	struct domain_facts df;

	(void)state;
	memcpy(saved, path, sizeof(path));
	snprintf(path, sizeof(path), "%s/same-identity.db", dir);	/* a database of its own */
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		fixture_healthy(&df);
		fixture_set_policy(&df, bodies[i]);
		record_run(st, &df, NOW + (time_t)i * 3600);	/* asserts each write succeeds */
		domain_facts_free(&df);
		/* the duplicates are one open finding each: policy.note in the second run */
		assert_int_equal(count(st, i == 1 ?
				       "SELECT count(*) FROM findings WHERE closed_at IS NULL AND "
				       "code = 'policy.note'" :
				       "SELECT count(*) FROM findings WHERE closed_at IS NULL AND "
				       "code = 'policy.invalid'"), 1);
	}
	assert_int_equal(count(st, "SELECT count(*) FROM runs"), 3);
	assert_int_equal(count(st, "SELECT count(*) FROM checks"), 3);
	store_close(st);
	memcpy(path, saved, sizeof(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_rollback_and_lock),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_same_identity_recorded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
