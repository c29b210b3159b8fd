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
#include "agent/store_int.h"

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

/* Judge facts at time now and record them (delta may be NULL); the status judged. */
static enum status record_delta(struct store *st, struct domain_facts *df, time_t now,
				struct store_delta *delta)
{
	struct judge_opts o;
	struct history h;
	struct verdict v;
	json_t *report;
	enum status status;
	int64_t run_id = 0;

	judge_opts_defaults(&o);
	df->checked_at = now;
	assert_int_equal(store_run_start(st, "run", now, &run_id), 0);
	assert_int_equal(store_load_history(st, df->domain, &h), 0);
	judge_domain(&o, df, &h, now, &v);
	report = output_json_domain(df, &v);
	assert_int_equal(store_record(st, run_id, df, &v, report, delta), 0);
	assert_int_equal(store_run_finish(st, run_id, now), 0);
	status = v.status;
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
	return status;
}

static enum status record_run(struct store *st, struct domain_facts *df, time_t now)
{
	return record_delta(st, df, now, NULL);
}

static const struct store_change *change(const struct store_delta *d, int kind, const char *code)
{
	for (size_t i = 0; i < d->n; i++)
		if ((int)d->v[i].kind == kind && strcmp(d->v[i].code, code) == 0)
			return &d->v[i];
	return NULL;
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

static void write_file(const char *p, const char *data, size_t n)
{
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
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
	{
		time_t last = 1;

		assert_int_equal(store_last_checked(st, "example.org", &last), 0);
		assert_int_equal(last, NOW);
		assert_int_equal(store_last_checked(st, "never.example", &last), 0);
		assert_int_equal(last, 0);
	}
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
	{
		struct store_delta d;

		assert_int_equal(record_delta(st, &df, NOW + 3600, &d), STATUS_WARNING);
		assert_string_equal(d.old_status, "OK");
		assert_string_equal(d.new_status, "WARNING");
		assert_non_null(change(&d, STORE_OPENED, "mx.cert.expired"));
		assert_null(change(&d, STORE_CLOSED, "mx.cert.expired"));
		store_delta_free(&d);
	}
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"
			       " AND closed_at IS NULL"), 1);
	assert_int_equal(store_domain_status(st, "example.org", &status), 0);
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
	{
		struct store_delta d;
		const struct store_change *c;

		assert_int_equal(record_delta(st, &df, NOW + 14400, &d), STATUS_OK);
		c = change(&d, STORE_CLOSED, "mx.cert.expired");
		assert_non_null(c);
		assert_string_equal(c->subject, "mx1.example.org[192.0.2.1]");
		assert_non_null(change(&d, STORE_OPENED, "mx.cert.renewed"));
		assert_string_equal(d.old_status, "UNKNOWN");	/* run 4 could not tell */
		assert_string_equal(d.new_status, "OK");
		store_delta_free(&d);
	}
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.expired'"
			       " AND closed_at = 1800014400"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE code = 'mx.cert.renewed'"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM status_changes WHERE domain = 'example.org'"), 4);

	assert_int_equal(store_domain_history(st, "example.org", 0, &hist), 0);
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

/*
 * Each domain is its own transaction: a check that cannot be recorded (here one whose
 * report cannot be encoded) is rolled back alone, and the next domain of the same run is
 * recorded.
 */
static void test_domain_alone(void **state)
{
	char err[256];
	struct store *st;
	struct domain_facts a, b;
	struct judge_opts o;
	struct verdict v;
	json_t *report;
	int64_t run_id;
	long before;

	(void)state;
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	before = count(st, "SELECT count(*) FROM checks");
	assert_int_equal(store_run_start(st, "run", NOW + 500, &run_id), 0);
	judge_opts_defaults(&o);

	fixture_healthy(&a);
	strcpy(a.domain, "broken.example");
	a.checked_at = NOW + 500;
	judge_domain(&o, &a, NULL, NOW + 500, &v);
	assert_int_equal(store_record(st, run_id, &a, &v, NULL, NULL), STORE_ERROR);
	assert_non_null(strstr(store_error(st), "broken.example was not recorded"));
	verdict_free(&v);

	fixture_healthy(&b);
	strcpy(b.domain, "fine.example");
	b.checked_at = NOW + 501;
	judge_domain(&o, &b, NULL, NOW + 501, &v);
	report = output_json_domain(&b, &v);
	assert_int_equal(store_record(st, run_id, &b, &v, report, NULL), 0);
	json_decref(report);
	verdict_free(&v);

	assert_int_equal(count(st, "SELECT count(*) FROM checks"), before + 1);
	assert_int_equal(count(st, "SELECT count(*) FROM checks WHERE domain = 'broken.example'"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM findings WHERE domain = 'broken.example'"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM domains WHERE domain = 'fine.example'"), 1);
	/* the run counts what was recorded, also without a finish */
	{
		char q[96];

		snprintf(q, sizeof(q), "SELECT domains FROM runs WHERE id = %lld", (long long)run_id);
		assert_int_equal(count(st, q), 1);
	}
	domain_facts_free(&a);
	domain_facts_free(&b);
	store_close(st);
}

/* A reader sees the last commit during a write; a second writer waits briefly, then BUSY. */
static void test_busy_and_readers(void **state)
{
	char err[256];
	struct store *a, *b, *r;
	struct domain_facts df;
	struct judge_opts o;
	struct verdict v;
	json_t *report, *status;
	int64_t run_id;
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
	assert_int_equal(store_run_start(a, "run", NOW + 99999, &run_id), 0);
	assert_int_equal(store_begin(a), 0);
	assert_int_equal(store_record_check(a, run_id, &df, &v, report, NULL), 0);

	r = store_open(path, STORE_READ, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(store_domain_status(r, "example.org", &status), 0);
	assert_non_null(status);
	json_decref(status);
	store_close(r);

	/* the other writer is told within STORE_BUSY_MS, not after seconds */
	assert_int_equal(store_begin(b), STORE_BUSY);
	assert_non_null(strstr(store_error(b), "another process is writing"));

	store_rollback(a);
	assert_int_equal(count(a, "SELECT count(*) FROM checks"), before);
	assert_int_equal(store_begin(b), 0);
	store_rollback(b);
	json_decref(report);
	verdict_free(&v);
	domain_facts_free(&df);
	store_close(a);
	store_close(b);
}

/* One runner per database: the second is refused, naming the holder; close releases. */
static void test_runner_lock(void **state)
{
	char err[400];
	struct store *a, *b;

	(void)state;
	a = store_open(path, STORE_RUNNER, err, sizeof(err));
	assert_non_null(a);
	b = store_open(path, STORE_RUNNER, err, sizeof(err));
	assert_null(b);
	assert_non_null(strstr(err, "in use by another stswatch run or daemon"));
	assert_non_null(strstr(err, "pid "));
	/* a plain writer (check --record, alerts silence) is not a runner */
	b = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(b);
	store_close(b);
	store_close(a);
	b = store_open(path, STORE_RUNNER, err, sizeof(err));
	assert_non_null(b);
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

	/* an empty file is not "schema version 0" */
	snprintf(p2, sizeof(p2), "%s/empty.db", dir);
	write_file(p2, "", 0);
	assert_null(store_open(p2, STORE_READ, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));

	/* another kind of file */
	snprintf(p2, sizeof(p2), "%s/garbage.db", dir);
	{
		static const char text[] = "this is not a database at all, just some text that is "
					   "long enough to fill more than the hundred bytes of an "
					   "SQLite header, and then some more\n";

		write_file(p2, text, sizeof(text) - 1);
	}
	assert_null(store_open(p2, STORE_READ, err, sizeof(err)));
	assert_non_null(strstr(err, "not an SQLite database"));
	assert_null(store_open(p2, STORE_WRITE, err, sizeof(err)));
	assert_non_null(strstr(err, "not an SQLite database"));
}

/* Garbage in the middle of the file: a writer refuses it and leaves the file as it was. */
static void test_damaged(void **state)
{
	char err[640], p2[160];
	struct store *st;
	struct domain_facts df;
	struct stat before, after;
	FILE *f;

	(void)state;
	snprintf(p2, sizeof(p2), "%s/damaged.db", dir);
	st = store_open(p2, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	fixture_healthy(&df);
	for (int i = 0; i < 40; i++) {
		snprintf(df.domain, sizeof(df.domain), "d%02d.example", i);
		record_run(st, &df, NOW + i);
	}
	domain_facts_free(&df);
	store_close(st);
	/* fold the WAL into the file, then damage a page of a table's b-tree */
	{
		sqlite3 *db;

		assert_int_equal(sqlite3_open(p2, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
					      NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(stat(p2, &before), 0);
	assert_true(before.st_size > 8 * 4096);
	/* a whole page in the middle of the file, its b-tree header included */
	f = fopen(p2, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, (before.st_size / 4096 / 2) * 4096, SEEK_SET), 0);
	for (int i = 0; i < 4096; i++)
		fputc(0xA5, f);
	fclose(f);
	assert_int_equal(stat(p2, &before), 0);
	assert_null(store_open(p2, STORE_WRITE, err, sizeof(err)));
	assert_non_null(strstr(err, "damaged"));
	assert_non_null(strstr(err, "keep the file for recovery"));
	assert_null(store_open(p2, STORE_RUNNER, err, sizeof(err)));
	assert_int_equal(stat(p2, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_true(after.st_mtime == before.st_mtime);
}

/* The alert tables: state per domain, the outbox's life cycle, silences, receivers, meta. */
static void test_alert_tables(void **state)
{
	char err[256], *json = NULL, buf[64];
	struct store *st = store_open(path, STORE_WRITE, err, sizeof(err));
	struct store_outbox_row row, *rows = NULL;
	struct store_silence *sil = NULL;
	size_t n = 0, pending, failed, ended;
	time_t next, disabled, digest;
	int64_t id;
	bool found;
	json_t *list;

	(void)state;
	assert_non_null(st);
	assert_int_equal(store_alert_state_get(st, "a.example", &json), 0);
	assert_null(json);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_alert_state_put(st, "a.example", "{\"v\":1}", NOW), 0);
	assert_int_equal(store_alert_state_put(st, "a.example", "{\"v\":2}", NOW), 0);
	memset(&row, 0, sizeof(row));
	strcpy(row.id, "n1");
	strcpy(row.receiver, "ops");
	strcpy(row.kind, "problem");
	strcpy(row.domain, "a.example");
	row.created_at = NOW;
	row.next_at = NOW;
	row.data = "{\"domain\":\"a.example\"}";
	assert_int_equal(store_outbox_add(st, &row), 0);
	strcpy(row.id, "n2");
	row.next_at = NOW + 60;
	assert_int_equal(store_outbox_add(st, &row), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_alert_state_get(st, "a.example", &json), 0);
	assert_string_equal(json, "{\"v\":2}");
	free(json);

	assert_int_equal(store_outbox_due(st, NULL, NOW, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].id, "n1");
	assert_string_equal(rows[0].state, "pending");
	assert_string_equal(rows[0].data, "{\"domain\":\"a.example\"}");
	strcpy(rows[0].state, "sent");
	rows[0].attempts = 1;
	rows[0].last_code = 204;
	rows[0].sent_at = NOW + 1;
	assert_int_equal(store_outbox_update(st, &rows[0]), 0);
	store_outbox_rows_free(rows, n);
	assert_int_equal(store_outbox_next(st, &next), 0);
	assert_int_equal(next, NOW + 60);
	assert_int_equal(store_outbox_counts(st, &pending, &failed), 0);
	assert_int_equal(pending, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(store_outbox_due(st, "ops", NOW + 60, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	strcpy(rows[0].state, "failed");
	strcpy(rows[0].last_error, "HTTP 400");
	assert_int_equal(store_outbox_update(st, &rows[0]), 0);
	store_outbox_rows_free(rows, n);
	assert_int_equal(store_outbox_counts(st, &pending, &failed), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(store_outbox_next(st, &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(store_outbox_list(st, "a.example", NULL, 10, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	assert_int_equal(store_outbox_list(st, NULL, "failed", 10, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "last_error")),
			    "HTTP 400");
	json_decref(list);

	assert_int_equal(store_silence_add(st, "a.example", NULL, NOW + 3600, "maintenance", NOW,
					   &id), 0);
	assert_int_equal(store_silence_add(st, "a.example", "tlsrpt.missing", NOW + 7200, "known",
					   NOW, &id), 0);
	assert_int_equal(store_silences_active(st, "a.example", NOW + 10, &sil, &n), 0);
	assert_int_equal(n, 2);
	free(sil);
	assert_int_equal(store_silences_active(st, "a.example", NOW + 3600, &sil, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(sil[0].code, "tlsrpt.missing");
	free(sil);
	assert_int_equal(store_silence_end(st, "a.example", NULL, NOW + 20, &ended), 0);
	assert_int_equal(ended, 2);
	assert_int_equal(store_silences_active(st, NULL, NOW + 21, &sil, &n), 0);
	assert_int_equal(n, 0);
	free(sil);

	assert_int_equal(store_receiver_disable(st, "ops", "HTTP 410 Gone", NOW), 0);
	assert_int_equal(store_receiver_get(st, "ops", &disabled, buf, sizeof(buf), &digest), 0);
	assert_int_equal(disabled, NOW);
	assert_string_equal(buf, "HTTP 410 Gone");
	assert_int_equal(store_receiver_digested(st, "ops", NOW + 5), 0);
	assert_int_equal(store_receiver_disable(st, "ops", NULL, NOW), 0);
	assert_int_equal(store_receiver_get(st, "ops", &disabled, buf, sizeof(buf), &digest), 0);
	assert_int_equal(disabled, 0);
	assert_int_equal(digest, NOW + 5);

	assert_int_equal(store_meta_get(st, "vantage", buf, sizeof(buf), &found), 0);
	assert_false(found);
	assert_int_equal(store_meta_set(st, "vantage", "ok", NOW), 0);
	assert_int_equal(store_meta_get(st, "vantage", buf, sizeof(buf), &found), 0);
	assert_true(found);
	assert_string_equal(buf, "ok");
	store_close(st);
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

/* A progress handler that lets *arg more callbacks pass, then interrupts the statement. */
static int interrupt_after(void *arg)
{
	long *left = arg;

	return (*left)-- <= 0;
}

/*
 * A read that fails part-way is an error, never a shorter answer: interrupted at every
 * point in turn, store_load_history and store_last_checked either fail (saying why) or
 * give the whole answer; "while (sqlite3_step(s) == SQLITE_ROW)" gave a shorter history,
 * which the judge read as fewer cached policies, and "never checked".
 */
static void test_read_error_is_error(void **state)
{
	static const char *const bodies[] = {
		"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\n"
		"max_age: 604800\r\n",
		"version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\n"
		"max_age: 1209600\r\n",
		"version: STSv1\r\nmode: testing\r\nmx: mx1.example.org\r\nmx: mx2.example.org\r\n"
		"max_age: 86400\r\n",
	};
	char err[256], saved[sizeof(path)], name[sizeof(((struct domain_facts *)0)->domain)];
	struct store *st;
	struct domain_facts df;
	struct history base, h;
	time_t last_base, last;
	long left;
	unsigned failed = 0, whole = 0;

	(void)state;
	memcpy(saved, path, sizeof(path));
	snprintf(path, sizeof(path), "%s/read-error.db", dir);
	st = store_open(path, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		fixture_healthy(&df);
		fixture_set_policy(&df, bodies[i]);
		record_run(st, &df, NOW + (time_t)i * 3600);
		if (i + 1 == sizeof(bodies) / sizeof(bodies[0]))
			snprintf(name, sizeof(name), "%s", df.domain);
		domain_facts_free(&df);
	}
	assert_int_equal(store_load_history(st, name, &base), 0);
	assert_true(base.known && base.n_versions == 3 && base.n_certs >= 2);
	assert_int_equal(store_last_checked(st, name, &last_base), 0);
	assert_true(last_base == NOW + 2 * 3600);

	for (long budget = 0;; budget++) {
		left = budget;
		sqlite3_progress_handler(st->db, 1, interrupt_after, &left);
		if (store_load_history(st, name, &h) < 0) {
			assert_non_null(strstr(store_error(st), "interrupted"));
			failed++;
		} else {
			assert_true(h.known);
			assert_int_equal(h.n_versions, base.n_versions);
			assert_int_equal(h.n_certs, base.n_certs);
			assert_int_equal(h.n_mx, base.n_mx);
			history_free(&h);
			whole++;
		}
		sqlite3_progress_handler(st->db, 0, NULL, NULL);
		if (left >= 0)	/* the handler never interrupted: every point was tried */
			break;
		assert_true(budget < 1000000);
	}
	/* interrupted inside each of the three reads at least, and once whole at the end */
	assert_true(failed >= 3);
	assert_true(whole >= 1);

	failed = 0;
	for (long budget = 0;; budget++) {
		left = budget;
		sqlite3_progress_handler(st->db, 1, interrupt_after, &left);
		if (store_last_checked(st, name, &last) < 0)
			failed++;
		else
			assert_true(last == last_base);
		sqlite3_progress_handler(st->db, 0, NULL, NULL);
		if (left >= 0)
			break;
	}
	assert_true(failed >= 1);
	history_free(&base);
	store_close(st);
	memcpy(path, saved, sizeof(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_domain_alone),
		cmocka_unit_test(test_busy_and_readers),
		cmocka_unit_test(test_runner_lock),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_alert_tables),
		cmocka_unit_test(test_same_identity_recorded),
		cmocka_unit_test(test_read_error_is_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
