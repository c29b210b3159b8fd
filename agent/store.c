/* store: the SQLite database: runs, checks, policy versions, certificates, findings. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define HISTORY_VERSIONS 32	/* policy versions the judge looks at */
#define PRUNE_BATCH 1000

/* Schema migrations: entry i takes user_version i to i + 1. Never edit a shipped entry. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  domains INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE checks ("
	"  id INTEGER PRIMARY KEY,"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  domain TEXT NOT NULL,"
	"  checked_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  mode TEXT,"
	"  txt_id TEXT,"
	"  fails_at INTEGER,"
	"  fails_reason TEXT,"
	"  valid_paths INTEGER,"
	"  mx_set TEXT,"
	"  report TEXT NOT NULL);"
	"CREATE INDEX checks_domain ON checks(domain, checked_at);"
	"CREATE INDEX checks_time ON checks(checked_at);"
	"CREATE INDEX checks_run ON checks(run_id);"
	"CREATE TABLE domains ("
	"  domain TEXT PRIMARY KEY,"
	"  status TEXT NOT NULL,"
	"  status_since INTEGER NOT NULL,"
	"  mode TEXT,"
	"  txt_id TEXT,"
	"  fails_at INTEGER,"
	"  fails_reason TEXT,"
	"  last_checked INTEGER NOT NULL,"
	"  last_check_id INTEGER,"
	"  txt_last_id TEXT,"
	"  txt_last_seen INTEGER,"
	"  policy_last_served INTEGER,"
	"  mx_set TEXT);"
	"CREATE TABLE txt_ids ("
	"  domain TEXT NOT NULL,"
	"  txt_id TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (domain, txt_id));"
	"CREATE TABLE policy_versions ("
	"  domain TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  txt_id TEXT NOT NULL,"
	"  mode TEXT,"
	"  max_age INTEGER,"
	"  mx TEXT NOT NULL,"
	"  body TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  replaced_at INTEGER,"
	"  PRIMARY KEY (domain, sha256, txt_id));"
	"CREATE TABLE certs ("
	"  domain TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  issuer TEXT,"
	"  not_before INTEGER,"
	"  not_after INTEGER,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (domain, subject, sha256));"
	"CREATE TABLE findings ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL,"
	"  code TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  message TEXT NOT NULL,"
	"  opened_at INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  closed_at INTEGER,"
	"  opened_check INTEGER,"
	"  last_check INTEGER,"
	"  closed_check INTEGER);"
	"CREATE UNIQUE INDEX findings_open ON findings(domain, code, subject) WHERE closed_at IS NULL;"
	"CREATE INDEX findings_domain ON findings(domain, opened_at);"
	"CREATE TABLE status_changes ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  old_status TEXT,"
	"  new_status TEXT NOT NULL,"
	"  check_id INTEGER);"
	"CREATE INDEX status_changes_domain ON status_changes(domain, at);",
};

enum stmt_id {
	S_INSERT_CHECK,
	S_UPSERT_TXT,
	S_UPSERT_VERSION,
	S_REPLACE_VERSIONS,
	S_UPSERT_CERT,
	S_OPEN_FINDINGS,
	S_INSERT_FINDING,
	S_UPDATE_FINDING,
	S_CLOSE_FINDING,
	S_GET_DOMAIN,
	S_UPSERT_DOMAIN,
	S_INSERT_STATUS_CHANGE,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_INSERT_CHECK] =
		"INSERT INTO checks(run_id, domain, checked_at, status, mode, txt_id, fails_at,"
		" fails_reason, valid_paths, mx_set, report) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[S_UPSERT_TXT] =
		"INSERT INTO txt_ids(domain, txt_id, first_seen, last_seen) VALUES (?1,?2,?3,?3)"
		" ON CONFLICT(domain, txt_id) DO UPDATE SET last_seen = excluded.last_seen",
	[S_UPSERT_VERSION] =
		"INSERT INTO policy_versions(domain, sha256, txt_id, mode, max_age, mx, body,"
		" first_seen, last_seen) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?8)"
		" ON CONFLICT(domain, sha256, txt_id) DO UPDATE SET last_seen = excluded.last_seen,"
		" replaced_at = NULL",
	[S_REPLACE_VERSIONS] =
		"UPDATE policy_versions SET replaced_at = ?4 WHERE domain = ?1 AND replaced_at IS NULL"
		" AND NOT (sha256 = ?2 AND txt_id = ?3)",
	[S_UPSERT_CERT] =
		"INSERT INTO certs(domain, subject, sha256, issuer, not_before, not_after, first_seen,"
		" last_seen) VALUES (?1,?2,?3,?4,?5,?6,?7,?7)"
		" ON CONFLICT(domain, subject, sha256) DO UPDATE SET last_seen = excluded.last_seen",
	[S_OPEN_FINDINGS] =
		"SELECT id, code, subject FROM findings WHERE domain = ? AND closed_at IS NULL",
	[S_INSERT_FINDING] =
		"INSERT INTO findings(domain, code, subject, severity, message, opened_at, last_seen,"
		" opened_check, last_check) VALUES (?1,?2,?3,?4,?5,?6,?6,?7,?7)",
	[S_UPDATE_FINDING] =
		"UPDATE findings SET severity = ?2, message = ?3, last_seen = ?4, last_check = ?5"
		" WHERE id = ?1",
	[S_CLOSE_FINDING] =
		"UPDATE findings SET closed_at = ?2, closed_check = ?3 WHERE id = ?1",
	[S_GET_DOMAIN] =
		"SELECT status, status_since FROM domains WHERE domain = ?",
	[S_UPSERT_DOMAIN] =
		"INSERT INTO domains(domain, status, status_since, mode, txt_id, fails_at, fails_reason,"
		" last_checked, last_check_id, txt_last_id, txt_last_seen, policy_last_served, mx_set)"
		" VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
		" ON CONFLICT(domain) DO UPDATE SET status = excluded.status,"
		" status_since = excluded.status_since, mode = excluded.mode,"
		" txt_id = excluded.txt_id, fails_at = excluded.fails_at,"
		" fails_reason = excluded.fails_reason, last_checked = excluded.last_checked,"
		" last_check_id = excluded.last_check_id,"
		" txt_last_id = coalesce(excluded.txt_last_id, txt_last_id),"
		" txt_last_seen = coalesce(excluded.txt_last_seen, txt_last_seen),"
		" policy_last_served = coalesce(excluded.policy_last_served, policy_last_served),"
		" mx_set = coalesce(excluded.mx_set, mx_set)",
	[S_INSERT_STATUS_CHANGE] =
		"INSERT INTO status_changes(domain, at, old_status, new_status, check_id)"
		" VALUES (?,?,?,?,?)",
};

struct store {
	sqlite3 *db;
	char path[512];
	char err[512];
	bool in_run;
	sqlite3_int64 run_id;
	size_t run_domains;
	sqlite3_stmt *stmts[S__COUNT];
};

const char *store_error(const struct store *st)
{
	return st->err;
}

static int fail(struct store *st, const char *what)
{
	bsnprintf(st->err, sizeof(st->err), "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
	return -1;
}

static int exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		bsnprintf(st->err, sizeof(st->err), "%s: %s", st->path, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *stmt(struct store *st, enum stmt_id id)
{
	if (!st->stmts[id] &&
	    sqlite3_prepare_v2(st->db, stmt_sql[id], -1, &st->stmts[id], NULL) != SQLITE_OK) {
		fail(st, "prepare");
		return NULL;
	}
	sqlite3_reset(st->stmts[id]);
	sqlite3_clear_bindings(st->stmts[id]);
	return st->stmts[id];
}

/* Bind helpers: NULL and 0 become SQL NULL where the column means "none". */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, time_t t)
{
	if (t)
		sqlite3_bind_int64(s, i, (sqlite3_int64)t);
	else
		sqlite3_bind_null(s, i);
}

static int step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail(st, what);
	return 0;
}

static int make_dirs(const char *path, char *err, size_t errlen)
{
	char *copy = xstrdup(path), *dir = dirname(copy);
	struct stat sb;
	int rc = 0;

	if (stat(dir, &sb) == 0) {
		free(copy);
		return 0;
	}
	if (strcmp(dir, path) != 0 && strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0)
		rc = make_dirs(dir, err, errlen);
	if (rc == 0 && mkdir(dir, 0750) < 0 && errno != EEXIST) {
		bsnprintf(err, errlen, "%s: cannot create the directory: %s", dir, strerror(errno));
		rc = -1;
	}
	free(copy);
	return rc;
}

static int migrate(struct store *st)
{
	sqlite3_stmt *s;
	int version = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return fail(st, "schema version");
	if (sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > (int)ARRAY_LEN(migrations)) {
		bsnprintf(st->err, sizeof(st->err), "%s: schema version %d is newer than this "
			  "stswatch knows (%zu); upgrade stswatch", st->path, version, ARRAY_LEN(migrations));
		return -1;
	}
	for (int v = version; v < (int)ARRAY_LEN(migrations); v++) {
		char sql[64];

		if (exec(st, "BEGIN IMMEDIATE") < 0)
			return -1;
		bsnprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(st, migrations[v]) < 0 || exec(st, sql) < 0) {
			exec(st, "ROLLBACK");
			return -1;
		}
		if (exec(st, "COMMIT") < 0)
			return -1;
		log_info("%s: schema migrated to version %d", st->path, v + 1);
	}
	return 0;
}

struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int flags = mode == STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE :
		    SQLITE_OPEN_READWRITE;

	strlcpy_s(st->path, path, sizeof(st->path));
	if (mode == STORE_READ && access(path, F_OK) < 0) {
		bsnprintf(err, errlen, "%s: no database yet (run \"stswatch run --once\" first)", path);
		goto fail;
	}
	if (mode == STORE_WRITE) {
		int fd;

		if (make_dirs(path, err, errlen) < 0)
			goto fail;
		/* the file is made here so that its mode is ours (SQLite copies it to -wal/-shm) */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			bsnprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			goto fail;
		}
		close(fd);
	}
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		bsnprintf(err, errlen, "%s: cannot open: %s", path,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	sqlite3_extended_result_codes(st->db, 1);
	if (exec(st, "PRAGMA foreign_keys = ON") < 0)
		goto fail_st;
	if (mode == STORE_WRITE) {
		/* WAL: readers never wait for the writer; FULL: a commit survives a power cut */
		if (exec(st, "PRAGMA journal_mode = WAL") < 0 ||
		    exec(st, "PRAGMA synchronous = FULL") < 0 || migrate(st) < 0)
			goto fail_st;
	} else {
		sqlite3_stmt *s;
		int version = -1;

		if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
		    sqlite3_step(s) == SQLITE_ROW)
			version = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
		if (version != STORE_SCHEMA_VERSION) {
			bsnprintf(st->err, sizeof(st->err), "%s: schema version %d, this stswatch "
				  "reads %d%s", path, version, STORE_SCHEMA_VERSION,
				  version < STORE_SCHEMA_VERSION ? " (a run migrates it)" : "");
			goto fail_st;
		}
	}
	return st;
fail_st:
	strlcpy_s(err, st->err, errlen);
fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->in_run)
		store_run_rollback(st);
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	free(st);
}

int store_run_begin(struct store *st, const char *kind, time_t now)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_BUSY || (rc & 0xff) == SQLITE_BUSY) {
		bsnprintf(st->err, sizeof(st->err), "%s: another stswatch run holds the database; "
			  "try again when it ends", st->path);
		return -1;
	}
	if (rc != SQLITE_OK)
		return fail(st, "begin");
	st->in_run = true;
	st->run_domains = 0;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO runs(kind, started_at) VALUES (?, ?)", -1, &s,
			       NULL) != SQLITE_OK) {
		store_run_rollback(st);
		return fail(st, "run");
	}
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		fail(st, "run");
		store_run_rollback(st);
		return -1;
	}
	st->run_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_run_commit(struct store *st, time_t now)
{
	sqlite3_stmt *s;

	if (!st->in_run)
		return 0;
	if (sqlite3_prepare_v2(st->db, "UPDATE runs SET finished_at = ?, domains = ? WHERE id = ?",
			       -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)st->run_domains);
		sqlite3_bind_int64(s, 3, st->run_id);
		sqlite3_step(s);
		sqlite3_finalize(s);
	}
	if (exec(st, "COMMIT") < 0) {
		char saved[512];

		strlcpy_s(saved, st->err, sizeof(saved));
		store_run_rollback(st);
		bsnprintf(st->err, sizeof(st->err), "%s (the run was rolled back; the previous "
			  "state is intact)", saved);
		return -1;
	}
	st->in_run = false;
	return 0;
}

void store_run_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_run = false;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Space-separated, sorted host names of the MX set ("" for none), or NULL when unknown. */
static char *mx_set_str(const struct domain_facts *df)
{
	const char **names;
	struct dynbuf sb;

	if (!dns_result_definite(df->mx_rc))
		return NULL;
	names = xcalloc(df->n_mx ? df->n_mx : 1, sizeof(*names));
	for (size_t i = 0; i < df->n_mx; i++)
		names[i] = df->mx[i].name;
	qsort(names, df->n_mx, sizeof(*names), str_cmp);
	dynbuf_init(&sb, 0);
	dynbuf_append(&sb, "", 0);
	for (size_t i = 0; i < df->n_mx; i++)
		dynbuf_printf(&sb, "%s%s", i ? " " : "", names[i]);
	free(names);
	return dynbuf_steal(&sb);
}

static int record_cert(struct store *st, const char *domain, const char *subject,
		       const struct cert_facts *cf, time_t now)
{
	sqlite3_stmt *s;

	if (!cf->present || !cf->sha256[0])
		return 0;
	s = stmt(st, S_UPSERT_CERT);
	if (!s)
		return -1;
	bind_text(s, 1, domain);
	bind_text(s, 2, subject);
	bind_text(s, 3, cf->sha256);
	bind_text(s, 4, cf->issuer);
	bind_time(s, 5, cf->not_before);
	bind_time(s, 6, cf->not_after);
	sqlite3_bind_int64(s, 7, now);
	return step_done(st, s, "certificate");
}

static bool has_unknown(const struct verdict *v)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (v->findings.v[i].sev == SEV_UNKNOWN)
			return true;
	return false;
}

static int record_findings(struct store *st, const char *domain, const struct verdict *v,
			   sqlite3_int64 check_id, time_t now)
{
	sqlite3_stmt *s = stmt(st, S_OPEN_FINDINGS);
	struct open_finding {
		sqlite3_int64 id;
		char *code, *subject;
		bool seen;
	} *open = NULL;
	size_t n_open = 0, cap = 0;
	int rc = -1;

	if (!s)
		return -1;
	bind_text(s, 1, domain);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (n_open == cap) {
			cap = cap ? cap * 2 : 16;
			open = xrealloc(open, cap * sizeof(*open));
		}
		open[n_open].id = sqlite3_column_int64(s, 0);
		open[n_open].code = xstrdup((const char *)sqlite3_column_text(s, 1));
		open[n_open].subject = xstrdup((const char *)sqlite3_column_text(s, 2));
		open[n_open].seen = false;
		n_open++;
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];
		const char *code = finding_code_str(f->code);
		struct open_finding *match = NULL;

		for (size_t k = 0; k < n_open && !match; k++)
			if (!open[k].seen && strcmp(open[k].code, code) == 0 &&
			    strcmp(open[k].subject, f->subject) == 0)
				match = &open[k];
		if (match) {
			match->seen = true;
			s = stmt(st, S_UPDATE_FINDING);
			if (!s)
				goto out;
			sqlite3_bind_int64(s, 1, match->id);
			bind_text(s, 2, severity_str(f->sev));
			bind_text(s, 3, f->message);
			sqlite3_bind_int64(s, 4, now);
			sqlite3_bind_int64(s, 5, check_id);
		} else {
			s = stmt(st, S_INSERT_FINDING);
			if (!s)
				goto out;
			bind_text(s, 1, domain);
			bind_text(s, 2, code);
			sqlite3_bind_text(s, 3, f->subject, -1, SQLITE_TRANSIENT);
			bind_text(s, 4, severity_str(f->sev));
			sqlite3_bind_text(s, 5, f->message, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, 6, now);
			sqlite3_bind_int64(s, 7, check_id);
		}
		if (step_done(st, s, "finding") < 0)
			goto out;
	}
	/* "could not tell" closes nothing: an open finding stays open until seen resolved */
	if (!has_unknown(v)) {
		for (size_t k = 0; k < n_open; k++) {
			if (open[k].seen)
				continue;
			s = stmt(st, S_CLOSE_FINDING);
			if (!s)
				goto out;
			sqlite3_bind_int64(s, 1, open[k].id);
			sqlite3_bind_int64(s, 2, now);
			sqlite3_bind_int64(s, 3, check_id);
			if (step_done(st, s, "finding") < 0)
				goto out;
		}
	}
	rc = 0;
out:
	for (size_t k = 0; k < n_open; k++) {
		free(open[k].code);
		free(open[k].subject);
	}
	free(open);
	return rc;
}

static json_t *mx_json_list(char *const *mx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(mx[i]));
	return a;
}

int store_record(struct store *st, const struct domain_facts *df, const struct verdict *v,
		 json_t *report)
{
	const time_t now = df->checked_at;
	const char *status = status_str(v->status);
	const char *mode = v->mode ? policy_mode_str(v->mode) : NULL;
	char *mx_set = mx_set_str(df), *text = NULL, prev[16] = "";
	char subject[HOST_LEN + IP_STR_LEN + 4];
	sqlite3_int64 check_id;
	time_t since = now;
	sqlite3_stmt *s;
	int rc = -1;

	if (!st->in_run) {
		bsnprintf(st->err, sizeof(st->err), "%s: no run is open", st->path);
		goto out;
	}
	text = json_dumps(report, JSON_COMPACT | JSON_ENSURE_ASCII);
	s = stmt(st, S_INSERT_CHECK);
	if (!s || !text)
		goto out;
	sqlite3_bind_int64(s, 1, st->run_id);
	bind_text(s, 2, df->domain);
	sqlite3_bind_int64(s, 3, now);
	bind_text(s, 4, status);
	bind_text(s, 5, mode);
	bind_text(s, 6, v->txt.valid ? v->txt.id : NULL);
	bind_time(s, 7, v->fails_at);
	bind_text(s, 8, v->fails_why);
	sqlite3_bind_int(s, 9, (int)v->valid_paths);
	if (mx_set)
		sqlite3_bind_text(s, 10, mx_set, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 11, text, -1, SQLITE_TRANSIENT);
	if (step_done(st, s, "check") < 0)
		goto out;
	check_id = sqlite3_last_insert_rowid(st->db);

	if (v->txt.valid) {
		s = stmt(st, S_UPSERT_TXT);
		if (!s)
			goto out;
		bind_text(s, 1, df->domain);
		bind_text(s, 2, v->txt.id);
		sqlite3_bind_int64(s, 3, now);
		if (step_done(st, s, "TXT id") < 0)
			goto out;
	}
	if (v->have_policy && v->policy.valid) {
		json_t *mx = mx_json_list(v->policy.mx, v->policy.n_mx);
		char *mxs = json_dumps(mx, JSON_COMPACT);

		json_decref(mx);
		s = stmt(st, S_UPSERT_VERSION);
		if (!s) {
			free(mxs);
			goto out;
		}
		bind_text(s, 1, df->domain);
		bind_text(s, 2, v->policy_sha256);
		sqlite3_bind_text(s, 3, v->txt.valid ? v->txt.id : "", -1, SQLITE_TRANSIENT);
		bind_text(s, 4, policy_mode_str(v->policy.mode));
		sqlite3_bind_int64(s, 5, v->policy.max_age);
		sqlite3_bind_text(s, 6, mxs ? mxs : "[]", -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(s, 7, df->fetch.body, (int)df->fetch.body_len, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 8, now);
		free(mxs);
		if (step_done(st, s, "policy version") < 0)
			goto out;
		s = stmt(st, S_REPLACE_VERSIONS);
		if (!s)
			goto out;
		bind_text(s, 1, df->domain);
		bind_text(s, 2, v->policy_sha256);
		sqlite3_bind_text(s, 3, v->txt.valid ? v->txt.id : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 4, now);
		if (step_done(st, s, "policy version") < 0)
			goto out;
	}
	bsnprintf(subject, sizeof(subject), "mta-sts.%s", df->domain);
	if (record_cert(st, df->domain, subject, &df->fetch.cert, now) < 0)
		goto out;
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			bsnprintf(subject, sizeof(subject), "%s[%s]", df->mx[i].name, df->mx[i].smtp[a].ip);
			if (record_cert(st, df->domain, subject, &df->mx[i].smtp[a].cert, now) < 0)
				goto out;
		}
	if (record_findings(st, df->domain, v, check_id, now) < 0)
		goto out;

	s = stmt(st, S_GET_DOMAIN);
	if (!s)
		goto out;
	bind_text(s, 1, df->domain);
	if (sqlite3_step(s) == SQLITE_ROW) {
		strlcpy_s(prev, (const char *)sqlite3_column_text(s, 0), sizeof(prev));
		since = (time_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (strcmp(prev, status) != 0) {
		since = now;
		s = stmt(st, S_INSERT_STATUS_CHANGE);
		if (!s)
			goto out;
		bind_text(s, 1, df->domain);
		sqlite3_bind_int64(s, 2, now);
		bind_text(s, 3, prev[0] ? prev : NULL);
		bind_text(s, 4, status);
		sqlite3_bind_int64(s, 5, check_id);
		if (step_done(st, s, "status change") < 0)
			goto out;
	}
	s = stmt(st, S_UPSERT_DOMAIN);
	if (!s)
		goto out;
	bind_text(s, 1, df->domain);
	bind_text(s, 2, status);
	sqlite3_bind_int64(s, 3, since);
	bind_text(s, 4, mode);
	bind_text(s, 5, v->txt.valid ? v->txt.id : NULL);
	bind_time(s, 6, v->fails_at);
	bind_text(s, 7, v->fails_why);
	sqlite3_bind_int64(s, 8, now);
	sqlite3_bind_int64(s, 9, check_id);
	bind_text(s, 10, v->txt.valid ? v->txt.id : NULL);
	bind_time(s, 11, v->txt.valid ? now : 0);
	bind_time(s, 12, v->have_policy && v->policy.valid && v->policy_usable ? now : 0);
	if (mx_set)
		sqlite3_bind_text(s, 13, mx_set, -1, SQLITE_TRANSIENT);
	if (step_done(st, s, "domain") < 0)
		goto out;
	st->run_domains++;
	rc = 0;
out:
	free(text);
	free(mx_set);
	return rc;
}

static char **split_words(const char *s, size_t *n)
{
	char **v = NULL, *copy, *tok, *save = NULL;
	size_t cap = 0;

	*n = 0;
	if (!s || !*s)
		return NULL;
	copy = xstrdup(s);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = xstrdup(tok);
	}
	free(copy);
	return v;
}

static enum policy_mode mode_parse(const char *s)
{
	if (!s)
		return POLICY_MODE_UNSET;
	if (strcmp(s, "enforce") == 0)
		return POLICY_MODE_ENFORCE;
	if (strcmp(s, "testing") == 0)
		return POLICY_MODE_TESTING;
	if (strcmp(s, "none") == 0)
		return POLICY_MODE_NONE;
	return POLICY_MODE_UNSET;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

int store_load_history(struct store *st, const char *domain, struct history *h)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (sqlite3_prepare_v2(st->db, "SELECT last_checked, txt_last_id, txt_last_seen,"
			       " policy_last_served, mx_set FROM domains WHERE domain = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return fail(st, "history");
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		h->known = true;
		h->last_checked = (time_t)sqlite3_column_int64(s, 0);
		strlcpy_s(h->txt_id, col_text(s, 1), sizeof(h->txt_id));
		h->txt_last_seen = (time_t)sqlite3_column_int64(s, 2);
		h->policy_last_served = (time_t)sqlite3_column_int64(s, 3);
		h->policy_served = h->policy_last_served != 0;
		h->mx = split_words(col_text(s, 4), &h->n_mx);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!h->known)
		return 0;

	if (sqlite3_prepare_v2(st->db, "SELECT txt_id, sha256, mode, max_age, mx, first_seen,"
			       " last_seen, replaced_at FROM policy_versions WHERE domain = ?"
			       " ORDER BY last_seen DESC, first_seen DESC LIMIT ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, HISTORY_VERSIONS);
	h->versions = xcalloc(HISTORY_VERSIONS, sizeof(*h->versions));
	while (sqlite3_step(s) == SQLITE_ROW && h->n_versions < HISTORY_VERSIONS) {
		struct policy_version *pv = &h->versions[h->n_versions++];
		json_t *mx = json_loads(col_text(s, 4), 0, NULL);

		strlcpy_s(pv->txt_id, col_text(s, 0), sizeof(pv->txt_id));
		strlcpy_s(pv->sha256, col_text(s, 1), sizeof(pv->sha256));
		pv->mode = mode_parse((const char *)sqlite3_column_text(s, 2));
		pv->max_age = (long)sqlite3_column_int64(s, 3);
		pv->first_seen = (time_t)sqlite3_column_int64(s, 5);
		pv->last_seen = (time_t)sqlite3_column_int64(s, 6);
		pv->replaced_at = (time_t)sqlite3_column_int64(s, 7);
		if (json_is_array(mx)) {
			pv->mx = xcalloc(json_array_size(mx) + 1, sizeof(char *));
			for (size_t i = 0; i < json_array_size(mx); i++)
				if (json_is_string(json_array_get(mx, i)))
					pv->mx[pv->n_mx++] = xstrdup(json_string_value(json_array_get(mx, i)));
		}
		json_decref(mx);
	}
	sqlite3_finalize(s);
	s = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT subject, sha256, not_after FROM certs c"
			       " WHERE domain = ?1 AND last_seen = (SELECT max(last_seen) FROM certs"
			       " WHERE domain = ?1 AND subject = c.subject)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct cert_seen *cs;

		h->certs = xrealloc(h->certs, (h->n_certs + 1) * sizeof(*h->certs));
		cs = &h->certs[h->n_certs++];
		strlcpy_s(cs->subject, col_text(s, 0), sizeof(cs->subject));
		strlcpy_s(cs->sha256, col_text(s, 1), sizeof(cs->sha256));
		cs->not_after = (time_t)sqlite3_column_int64(s, 2);
	}
	rc = 0;
	goto out;
fail:
	fail(st, "history");
	history_free(h);
out:
	sqlite3_finalize(s);
	return rc;
}

time_t store_last_checked(struct store *st, const char *domain)
{
	sqlite3_stmt *s;
	time_t t = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT last_checked FROM domains WHERE domain = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = (time_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return t;
}

int store_prune(struct store *st, unsigned retention_days, time_t now, long *deleted)
{
	static const char *const sql[] = {
		"DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE checked_at < ?1 LIMIT ?2)",
		"DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE closed_at < ?1 LIMIT ?2)",
		"DELETE FROM status_changes WHERE id IN (SELECT id FROM status_changes WHERE at < ?1 LIMIT ?2)",
		"DELETE FROM policy_versions WHERE rowid IN (SELECT rowid FROM policy_versions"
		" WHERE last_seen < ?1 AND replaced_at IS NOT NULL LIMIT ?2)",
		"DELETE FROM certs WHERE rowid IN (SELECT rowid FROM certs WHERE last_seen < ?1 LIMIT ?2)",
		"DELETE FROM txt_ids WHERE rowid IN (SELECT rowid FROM txt_ids WHERE last_seen < ?1 LIMIT ?2)",
		"DELETE FROM runs WHERE id IN (SELECT id FROM runs r WHERE started_at < ?1 AND NOT"
		" EXISTS (SELECT 1 FROM checks WHERE run_id = r.id) LIMIT ?2)",
	};
	time_t cutoff = now - (time_t)retention_days * 86400;

	*deleted = 0;
	for (size_t i = 0; i < ARRAY_LEN(sql); i++) {
		for (;;) {
			sqlite3_stmt *s;
			int changes;

			/* each batch is its own short transaction: readers (WAL) never wait */
			if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK)
				return fail(st, "prune");
			sqlite3_bind_int64(s, 1, cutoff);
			sqlite3_bind_int(s, 2, PRUNE_BATCH);
			if (sqlite3_step(s) != SQLITE_DONE) {
				sqlite3_finalize(s);
				return fail(st, "prune");
			}
			sqlite3_finalize(s);
			changes = sqlite3_changes(st->db);
			*deleted += changes;
			if (changes < PRUNE_BATCH)
				break;
		}
	}
	return 0;
}

int store_check(struct store *st, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	struct dynbuf sb;
	int rc = 0, version = -1, rows = 0;

	dynbuf_init(&sb, outlen ? outlen - 1 : 0);
	if (sqlite3_prepare_v2(st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		return fail(st, "integrity_check");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *line = col_text(s, 0);

		rows++;
		if (strcmp(line, "ok") != 0) {
			rc = -1;
			dynbuf_printf(&sb, "integrity: %s\n", line);
		}
	}
	sqlite3_finalize(s);
	if (rows == 0) {
		rc = -1;
		dynbuf_printf(&sb, "integrity_check returned nothing\n");
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW) {
			rc = -1;
			dynbuf_printf(&sb, "foreign key: table %s row %lld\n", col_text(s, 0),
				      (long long)sqlite3_column_int64(s, 1));
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			version = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	if (version != STORE_SCHEMA_VERSION) {
		rc = -1;
		dynbuf_printf(&sb, "schema version %d, expected %d\n", version, STORE_SCHEMA_VERSION);
	}
	if (rc == 0)
		dynbuf_printf(&sb, "ok: integrity, foreign keys and schema version %d\n", version);
	bsnprintf(out, outlen, "%s", sb.buf ? sb.buf : "");
	dynbuf_free(&sb);
	return rc;
}

/* ---- reading for status and history -------------------------------------------------- */

static json_t *col_json(sqlite3_stmt *s, int i, bool is_time)
{
	char buf[32];

	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		if (is_time)
			return json_string(time_rfc3339((time_t)sqlite3_column_int64(s, i), buf, sizeof(buf)));
		return json_integer(sqlite3_column_int64(s, i));
	default:
		return json_str(col_text(s, i));
	}
}

/* Run a query with one text parameter (and an optional time) into an array of objects. */
static json_t *query_rows(struct store *st, const char *sql, const char *arg, time_t since,
			  const char *const *names, const bool *is_time, int ncols)
{
	sqlite3_stmt *s;
	json_t *arr = json_array();

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fail(st, "query");
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, since);
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *o = json_object();

		for (int i = 0; i < ncols; i++)
			json_object_set_new(o, names[i], col_json(s, i, is_time[i]));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(s);
	return arr;
}

json_t *store_domain_status(struct store *st, const char *domain)
{
	static const char *const dn[] = { "domain", "status", "since", "mode", "txt_id",
					  "fails_at", "fails_reason", "checked_at" };
	static const bool dt[] = { false, false, true, false, false, true, false, true };
	static const char *const fn[] = { "code", "severity", "subject", "message", "opened_at" };
	static const bool ft[] = { false, false, false, false, true };
	json_t *rows, *o, *findings;

	rows = query_rows(st, "SELECT domain, status, status_since, mode, txt_id, fails_at,"
			  " fails_reason, last_checked FROM domains WHERE domain = ?", domain, 0,
			  dn, dt, 8);
	if (!rows || json_array_size(rows) == 0) {
		json_decref(rows);
		return NULL;
	}
	o = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	findings = query_rows(st, "SELECT code, severity, subject, message, opened_at FROM findings"
			      " WHERE domain = ? AND closed_at IS NULL ORDER BY CASE severity"
			      " WHEN 'CRITICAL' THEN 0 WHEN 'UNKNOWN' THEN 1 WHEN 'WARNING' THEN 2"
			      " ELSE 3 END, code, subject", domain, 0, fn, ft, 5);
	json_object_set_new(o, "findings", findings ? findings : json_array());
	return o;
}

json_t *store_domains(struct store *st)
{
	sqlite3_stmt *s;
	json_t *arr = json_array();

	if (sqlite3_prepare_v2(st->db, "SELECT domain FROM domains ORDER BY domain", -1, &s,
			       NULL) != SQLITE_OK) {
		json_decref(arr);
		fail(st, "query");
		return NULL;
	}
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_str(col_text(s, 0)));
	sqlite3_finalize(s);
	return arr;
}

json_t *store_domain_history(struct store *st, const char *domain, time_t since)
{
	static const char *const tn[] = { "txt_id", "first_seen", "last_seen" };
	static const bool tt[] = { false, true, true };
	static const char *const pn[] = { "sha256", "txt_id", "mode", "max_age", "mx",
					  "first_seen", "last_seen", "replaced_at" };
	static const bool pt[] = { false, false, false, false, false, true, true, true };
	static const char *const cn[] = { "subject", "sha256", "issuer", "not_before",
					  "not_after", "first_seen", "last_seen" };
	static const bool ct[] = { false, false, false, true, true, true, true };
	static const char *const sn[] = { "at", "old_status", "new_status" };
	static const bool stt[] = { true, false, false };
	static const char *const fn[] = { "code", "severity", "subject", "message", "opened_at",
					  "closed_at", "last_seen" };
	static const bool ft[] = { false, false, false, false, true, true, true };
	json_t *o = json_object(), *versions;

	json_object_set_new(o, "domain", json_str(domain));
	json_object_set_new(o, "since", json_time(since));
	json_object_set_new(o, "txt_ids", query_rows(st,
		"SELECT txt_id, first_seen, last_seen FROM txt_ids WHERE domain = ?1 AND last_seen >= ?2"
		" ORDER BY first_seen", domain, since, tn, tt, 3));
	versions = query_rows(st,
		"SELECT sha256, txt_id, mode, max_age, mx, first_seen, last_seen, replaced_at"
		" FROM policy_versions WHERE domain = ?1 AND last_seen >= ?2 ORDER BY first_seen",
		domain, since, pn, pt, 8);
	/* the mx list is stored as JSON text: hand it out as an array */
	for (size_t i = 0; versions && i < json_array_size(versions); i++) {
		json_t *v = json_array_get(versions, i);
		json_t *mx = json_loads(json_string_value(json_object_get(v, "mx")) ?
					json_string_value(json_object_get(v, "mx")) : "[]", 0, NULL);

		json_object_set_new(v, "mx", mx ? mx : json_array());
	}
	json_object_set_new(o, "policy_versions", versions);
	json_object_set_new(o, "certificates", query_rows(st,
		"SELECT subject, sha256, issuer, not_before, not_after, first_seen, last_seen FROM certs"
		" WHERE domain = ?1 AND last_seen >= ?2 ORDER BY subject, first_seen",
		domain, since, cn, ct, 7));
	json_object_set_new(o, "status_changes", query_rows(st,
		"SELECT at, old_status, new_status FROM status_changes WHERE domain = ?1 AND at >= ?2"
		" ORDER BY at", domain, since, sn, stt, 3));
	json_object_set_new(o, "findings", query_rows(st,
		"SELECT code, severity, subject, message, opened_at, closed_at, last_seen FROM findings"
		" WHERE domain = ?1 AND (closed_at IS NULL OR closed_at >= ?2) ORDER BY opened_at, code",
		domain, since, fn, ft, 7));
	return o;
}
