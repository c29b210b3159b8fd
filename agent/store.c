/* store: the SQLite database: runs, checks, policy versions, certificates, findings. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "store_int.h"
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
	/* 1 -> 2: alerts (their state per domain, the outbox, silences, receivers) and the
	 * scheduler's due times */
	"CREATE TABLE alert_state ("
	"  domain TEXT PRIMARY KEY,"
	"  state TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE outbox ("
	"  id TEXT PRIMARY KEY,"
	"  receiver TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  domain TEXT,"
	"  incident TEXT,"
	"  status TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  run_id INTEGER,"
	"  data TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  last_at INTEGER,"
	"  last_code INTEGER,"
	"  last_error TEXT,"
	"  sent_at INTEGER,"
	"  batch TEXT);"
	"CREATE INDEX outbox_due ON outbox(state, next_at);"
	"CREATE INDEX outbox_receiver ON outbox(receiver, created_at);"
	"CREATE INDEX outbox_domain ON outbox(domain, created_at);"
	"CREATE TABLE silences ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL,"
	"  code TEXT,"
	"  reason TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  until INTEGER NOT NULL,"
	"  ended_at INTEGER);"
	"CREATE INDEX silences_domain ON silences(domain, until);"
	"CREATE TABLE receiver_state ("
	"  name TEXT PRIMARY KEY,"
	"  disabled_at INTEGER,"
	"  disabled_reason TEXT,"
	"  last_digest_at INTEGER);"
	"CREATE TABLE schedule ("
	"  domain TEXT PRIMARY KEY,"
	"  next_due INTEGER NOT NULL,"
	"  retries INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL);",
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
	S_BUMP_RUN,
	S__COUNT
};
_Static_assert(S__COUNT <= STORE_STMTS, "STORE_STMTS is too small");

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
		"SELECT id, code, subject, severity FROM findings WHERE domain = ? AND closed_at IS NULL",
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
	[S_BUMP_RUN] =
		"UPDATE runs SET domains = domains + 1 WHERE id = ?",
};


const char *store_error(const struct store *st)
{
	return st->err;
}

const char *store_path(const struct store *st)
{
	return st->path;
}

/*
 * Put what went wrong into st->err in words that name the cause: SQLite's primary code
 * and the errno under it tell "disk full" from "permission denied" from "not a database".
 */
int store_explain(struct store *st, int rc, const char *what)
{
	int prim = rc & 0xff, sys = st->db ? sqlite3_system_errno(st->db) : 0;
	const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);

	if (prim == SQLITE_NOTADB)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: not an SQLite database (its header is "
			  "damaged, or it is another kind of file); keep it for recovery, move it "
			  "aside, and the next run starts a new database", st->path, what);
	else if (prim == SQLITE_CORRUPT)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: the database is damaged (%s); keep the "
			  "file for recovery (sqlite3 FILE .recover), move it aside, and the next run "
			  "starts a new database", st->path, what, msg);
	else if (prim == SQLITE_FULL || sys == ENOSPC || sys == EDQUOT)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: disk full (%s); nothing was written "
			  "half-way: free space on the file system and run again", st->path, what,
			  sys ? strerror(sys) : msg);
	else if (sys == EROFS)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: read-only file system; the database "
			  "must be on a writable file system (StateDirectory=)", st->path, what);
	else if (sys == EACCES || sys == EPERM || prim == SQLITE_PERM ||
		 (prim == SQLITE_READONLY && st->mode != STORE_READ))
		bsnprintf(st->err, sizeof(st->err), "%s: %s: permission denied for uid %u (%s); run "
			  "as the user that owns the database (stswatch), or give this user write "
			  "access to the file and its directory", st->path, what, (unsigned)geteuid(),
			  sys ? strerror(sys) : msg);
	else if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: another process is writing the "
			  "database and held it for more than %d ms; try again", st->path, what,
			  STORE_BUSY_MS);
	else if (prim == SQLITE_CANTOPEN)
		bsnprintf(st->err, sizeof(st->err), "%s: %s: cannot open the file%s%s", st->path,
			  what, sys ? ": " : "", sys ? strerror(sys) : "");
	else
		bsnprintf(st->err, sizeof(st->err), "%s: %s: %s", st->path, what, msg);
	return prim == SQLITE_BUSY || prim == SQLITE_LOCKED ? STORE_BUSY : STORE_ERROR;
}

static int exec(struct store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_explain(st, rc, what);
}

static sqlite3_stmt *stmt(struct store *st, enum stmt_id id)
{
	int rc;

	if (!st->stmts[id]) {
		rc = sqlite3_prepare_v2(st->db, stmt_sql[id], -1, &st->stmts[id], NULL);
		if (rc != SQLITE_OK) {
			store_explain(st, rc, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(st->stmts[id]);
	sqlite3_clear_bindings(st->stmts[id]);
	return st->stmts[id];
}

/* A one-off statement; NULL (st->err set) when it cannot be prepared. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		store_explain(st, rc, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Bind helpers: NULL and 0 become SQL NULL where the column means "none". */
void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

void store_bind_time(sqlite3_stmt *s, int i, time_t t)
{
	if (t)
		sqlite3_bind_int64(s, i, (sqlite3_int64)t);
	else
		sqlite3_bind_null(s, i);
}

/*
 * One step of a read: 1 a row, 0 done, -1 an error (st->err says which). Every loop over
 * rows goes through here, so a read error is an error and never a shorter answer.
 */
int store_step_row(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_explain(st, rc, what);
	return -1;
}

/* Run a write to its end: 0, or STORE_ERROR / STORE_BUSY with st->err. */
int store_step_write(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s), out = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		out = store_explain(st, rc, what);
	sqlite3_reset(s);
	return out;
}

const char *store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

/* An integer PRAGMA such as user_version: 0 and *out, or -1. */
static int pragma_int(struct store *st, const char *sql, int *out)
{
	sqlite3_stmt *s = store_prepare(st, sql, "schema version");
	int r;

	if (!s)
		return -1;
	r = store_step_row(st, s, "schema version");
	if (r == 1)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return r == 1 ? 0 : -1;
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
	int version = 0;

	if (pragma_int(st, "PRAGMA user_version", &version) < 0)
		return -1;
	if (version > (int)ARRAY_LEN(migrations)) {
		bsnprintf(st->err, sizeof(st->err), "%s: schema version %d is newer than this "
			  "stswatch knows (%zu); upgrade stswatch", st->path, version, ARRAY_LEN(migrations));
		return -1;
	}
	for (int v = version; v < (int)ARRAY_LEN(migrations); v++) {
		char sql[64];

		if (exec(st, "BEGIN IMMEDIATE", "migrate") < 0)
			return -1;
		bsnprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(st, migrations[v], "migrate") < 0 || exec(st, sql, "migrate") < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (exec(st, "COMMIT", "migrate") < 0)
			return -1;
		log_info("%s: schema migrated to version %d", st->path, v + 1);
	}
	return 0;
}

/* PRAGMA quick_check: a writer refuses a damaged file rather than write into it. */
static int quick_check(struct store *st)
{
	sqlite3_stmt *s = store_prepare(st, "PRAGMA quick_check(5)", "quick_check");
	struct dynbuf sb;
	int r, rc = -1;

	if (!s)
		return -1;
	dynbuf_init(&sb, 400);
	while ((r = store_step_row(st, s, "quick_check")) == 1) {
		const char *line = store_col_text(s, 0);

		if (strcmp(line, "ok") != 0)
			dynbuf_printf(&sb, "%s%s", sb.len ? "; " : "", line);
	}
	sqlite3_finalize(s);
	if (r == 0 && !sb.len)
		rc = 0;
	else if (r == 0)
		bsnprintf(st->err, sizeof(st->err), "%s: the database is damaged (quick_check: "
			  "%.300s); nothing was written: keep the file for recovery (sqlite3 FILE "
			  ".recover), move it aside, and the next run starts a new database",
			  st->path, sb.buf);
	dynbuf_free(&sb);
	return rc;
}

/*
 * The runner lock: one "run --once" or daemon per database, so two never check and alert
 * at once. flock(2) on path + "-lock", released by the kernel when the process dies (a
 * kill -9 never leaves it stale); the file says who holds it, for the message.
 */
static int take_runner_lock(struct store *st)
{
	char lpath[600], who[160] = "";
	ssize_t n;

	bsnprintf(lpath, sizeof(lpath), "%s-lock", st->path);
	st->lock_fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (st->lock_fd < 0) {
		bsnprintf(st->err, sizeof(st->err), "%s: cannot open the lock file: %s", lpath,
			  strerror(errno));
		return -1;
	}
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		n = pread(st->lock_fd, who, sizeof(who) - 1, 0);
		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		sanitize_printable(who);
		if (e == EWOULDBLOCK)
			bsnprintf(st->err, sizeof(st->err), "%s is in use by another stswatch run or "
				  "daemon (%s); only one may check and alert per database: stop it, "
				  "or wait until it ends", st->path, who[0] ? who : "unknown process");
		else
			bsnprintf(st->err, sizeof(st->err), "%s: cannot lock: %s", lpath, strerror(e));
		close(st->lock_fd);
		st->lock_fd = -1;
		return -1;
	}
	n = bsnprintf(who, sizeof(who), "pid %ld since %s\n", (long)getpid(),
		      time_rfc3339(time(NULL), (char[32]){ 0 }, 32));
	if (n > 0 && (ftruncate(st->lock_fd, 0) < 0 || pwrite(st->lock_fd, who, (size_t)n, 0) < 0))
		log_warning("%s: cannot write the lock holder: %s", lpath, strerror(errno));
	return 0;
}

static int open_writer(struct store *st)
{
	int one = 1, fd;

	/* the file is made here so that its mode is ours (SQLite copies it to -wal/-shm) */
	fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;

		bsnprintf(st->err, sizeof(st->err), "%s: cannot create or open it: %s%s", st->path,
			  strerror(e), e == EACCES ? "; run as the user that owns the database "
			  "(stswatch)" : e == EROFS ? "; the database must be on a writable file "
			  "system" : "");
		return -1;
	}
	close(fd);
	if (st->mode == STORE_RUNNER && take_runner_lock(st) < 0)
		return -1;
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		store_explain(st, st->db ? sqlite3_errcode(st->db) : SQLITE_NOMEM, "open");
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/*
	 * WAL: readers never wait for the writer; FULL: a commit survives a power cut; the
	 * -wal and -shm files persist after close, so a reader that may not create files in
	 * the directory (a member of the database's group) can still open it read-only.
	 */
	if (exec(st, "PRAGMA foreign_keys = ON", "open") < 0 ||
	    exec(st, "PRAGMA journal_mode = WAL", "open") < 0 ||
	    exec(st, "PRAGMA synchronous = FULL", "open") < 0)
		return -1;
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
	if (quick_check(st) < 0 || migrate(st) < 0)
		return -1;
	return 0;
}

static int open_reader(struct store *st)
{
	int version = -1;
	struct stat sb;

	if (stat(st->path, &sb) < 0) {
		if (errno == ENOENT)
			bsnprintf(st->err, sizeof(st->err), "%s: no database yet (run \"stswatch run "
				  "--once\" first)", st->path);
		else
			bsnprintf(st->err, sizeof(st->err), "%s: %s", st->path, strerror(errno));
		return -1;
	}
	if (sb.st_size == 0) {
		bsnprintf(st->err, sizeof(st->err), "%s: the file is empty: no run has written "
			  "it yet (run \"stswatch run --once\")", st->path);
		return -1;
	}
	if (access(st->path, R_OK) < 0) {
		bsnprintf(st->err, sizeof(st->err), "%s: permission denied for uid %u: the "
			  "database is readable by its owner and group (add the user to the group "
			  "of the file, e.g. stswatch)", st->path, (unsigned)geteuid());
		return -1;
	}
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		store_explain(st, st->db ? sqlite3_errcode(st->db) : SQLITE_NOMEM, "open");
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (pragma_int(st, "PRAGMA user_version", &version) < 0) {
		/* a WAL database whose -shm this user may neither open nor create */
		if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_CANTOPEN)
			bsnprintf(st->err, sizeof(st->err), "%s: cannot read it: its -wal/-shm files "
				  "are missing and uid %u may not create them in the directory; run as "
				  "the database's owner, or let a run create them (they stay)",
				  st->path, (unsigned)geteuid());
		return -1;
	}
	if (version != STORE_SCHEMA_VERSION) {
		bsnprintf(st->err, sizeof(st->err), "%s: schema version %d, this stswatch reads "
			  "%d%s", st->path, version, STORE_SCHEMA_VERSION,
			  version < STORE_SCHEMA_VERSION ? " (a run migrates it)" : "; upgrade "
			  "stswatch");
		return -1;
	}
	return 0;
}

struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int rc;

	st->mode = mode;
	st->lock_fd = -1;
	if (strlcpy_s(st->path, path, sizeof(st->path)) >= sizeof(st->path)) {
		bsnprintf(err, errlen, "database path longer than %zu bytes", sizeof(st->path) - 1);
		goto fail;
	}
	if (mode != STORE_READ && make_dirs(path, err, errlen) < 0)
		goto fail;
	rc = mode == STORE_READ ? open_reader(st) : open_writer(st);
	if (rc < 0) {
		strlcpy_s(err, st->err, errlen);
		goto fail;
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->db && sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* releases the runner lock */
	free(st);
}

/* ---- runs and transactions ----------------------------------------------------------- */

int store_run_start(struct store *st, const char *kind, time_t now, int64_t *run_id)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO runs(kind, started_at) VALUES (?, ?)", "run");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = store_step_write(st, s, "start a run");
	sqlite3_finalize(s);
	if (rc == 0)
		*run_id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_run_finish(struct store *st, int64_t run_id, time_t now)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE runs SET finished_at = ? WHERE id = ?", "run");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, run_id);
	rc = store_step_write(st, s, "finish the run");
	sqlite3_finalize(s);
	return rc;
}

int store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "begin");
}

int store_commit(struct store *st)
{
	int rc = exec(st, "COMMIT", "commit");

	if (rc < 0)
		store_rollback(st);
	return rc;
}

void store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- one domain's check, one function per table ---------------------------------------- */

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

static int record_check_row(struct store *st, int64_t run_id, const struct domain_facts *df,
			    const struct verdict *v, json_t *report, const char *mx_set,
			    sqlite3_int64 *check_id)
{
	char *text = json_dumps(report, JSON_COMPACT | JSON_ENSURE_ASCII);
	sqlite3_stmt *s = stmt(st, S_INSERT_CHECK);
	int rc = STORE_ERROR;

	if (!text) {
		bsnprintf(st->err, sizeof(st->err), "%s: %s: cannot encode the report", st->path,
			  df->domain);
		goto out;
	}
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, run_id);
	store_bind_text(s, 2, df->domain);
	sqlite3_bind_int64(s, 3, df->checked_at);
	store_bind_text(s, 4, status_str(v->status));
	store_bind_text(s, 5, v->mode ? policy_mode_str(v->mode) : NULL);
	store_bind_text(s, 6, v->txt.valid ? v->txt.id : NULL);
	store_bind_time(s, 7, v->fails_at);
	store_bind_text(s, 8, v->fails_why);
	sqlite3_bind_int(s, 9, (int)v->valid_paths);
	if (mx_set)
		sqlite3_bind_text(s, 10, mx_set, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 11, text, -1, SQLITE_TRANSIENT);
	rc = store_step_write(st, s, "check");
	if (rc == 0)
		*check_id = sqlite3_last_insert_rowid(st->db);
out:
	free(text);
	return rc;
}

static int record_txt_id(struct store *st, const struct domain_facts *df, const struct verdict *v)
{
	sqlite3_stmt *s;

	if (!v->txt.valid)
		return 0;
	s = stmt(st, S_UPSERT_TXT);
	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, df->domain);
	store_bind_text(s, 2, v->txt.id);
	sqlite3_bind_int64(s, 3, df->checked_at);
	return store_step_write(st, s, "TXT id");
}

static json_t *mx_json_list(char *const *mx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(mx[i]));
	return a;
}

/* The served policy body as a version (first/last seen), and older ones marked replaced. */
static int record_policy_version(struct store *st, const struct domain_facts *df,
				 const struct verdict *v)
{
	const char *id = v->txt.valid ? v->txt.id : "";
	json_t *mx;
	char *mxs;
	sqlite3_stmt *s;
	int rc = STORE_ERROR;

	if (!v->have_policy || !v->policy.valid)
		return 0;
	mx = mx_json_list(v->policy.mx, v->policy.n_mx);
	mxs = json_dumps(mx, JSON_COMPACT);
	json_decref(mx);
	s = stmt(st, S_UPSERT_VERSION);
	if (!s)
		goto out;
	store_bind_text(s, 1, df->domain);
	store_bind_text(s, 2, v->policy_sha256);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_TRANSIENT);
	store_bind_text(s, 4, policy_mode_str(v->policy.mode));
	sqlite3_bind_int64(s, 5, v->policy.max_age);
	sqlite3_bind_text(s, 6, mxs ? mxs : "[]", -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 7, df->fetch.body, (int)df->fetch.body_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 8, df->checked_at);
	if ((rc = store_step_write(st, s, "policy version")) < 0)
		goto out;
	rc = STORE_ERROR;
	s = stmt(st, S_REPLACE_VERSIONS);
	if (!s)
		goto out;
	store_bind_text(s, 1, df->domain);
	store_bind_text(s, 2, v->policy_sha256);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 4, df->checked_at);
	rc = store_step_write(st, s, "policy version");
out:
	free(mxs);
	return rc;
}

static int record_cert(struct store *st, const char *domain, const char *subject,
		       const struct cert_facts *cf, time_t now)
{
	sqlite3_stmt *s;

	if (!cf->present || !cf->sha256[0])
		return 0;
	s = stmt(st, S_UPSERT_CERT);
	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, domain);
	store_bind_text(s, 2, subject);
	store_bind_text(s, 3, cf->sha256);
	store_bind_text(s, 4, cf->issuer);
	store_bind_time(s, 5, cf->not_before);
	store_bind_time(s, 6, cf->not_after);
	sqlite3_bind_int64(s, 7, now);
	return store_step_write(st, s, "certificate");
}

/* The policy host's certificate and every MX address's, under their subjects. */
static int record_certs(struct store *st, const struct domain_facts *df)
{
	char subject[HOST_LEN + IP_STR_LEN + 4];
	int rc;

	bsnprintf(subject, sizeof(subject), "mta-sts.%s", df->domain);
	if ((rc = record_cert(st, df->domain, subject, &df->fetch.cert, df->checked_at)) < 0)
		return rc;
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++) {
			bsnprintf(subject, sizeof(subject), "%s[%s]", df->mx[i].name,
				  df->mx[i].smtp[a].ip);
			rc = record_cert(st, df->domain, subject, &df->mx[i].smtp[a].cert,
					 df->checked_at);
			if (rc < 0)
				return rc;
		}
	return 0;
}

static bool has_unknown(const struct verdict *v)
{
	for (size_t i = 0; i < v->findings.n; i++)
		if (v->findings.v[i].sev == SEV_UNKNOWN)
			return true;
	return false;
}

static enum severity severity_parse(const char *s)
{
	static const enum severity all[] = { SEV_INFO, SEV_WARNING, SEV_UNKNOWN, SEV_CRITICAL };

	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		if (strcmp(s, severity_str(all[i])) == 0)
			return all[i];
	return SEV_UNKNOWN;
}

static void delta_add(struct store_delta *d, int kind, const char *code, const char *subject,
		      enum severity sev, enum severity old_sev)
{
	struct store_change *c;

	if (!d)
		return;
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	c = &d->v[d->n++];
	c->kind = kind;
	c->code = xstrdup(code);
	c->subject = xstrdup(subject);
	c->sev = sev;
	c->old_sev = old_sev;
}

struct open_finding {
	sqlite3_int64 id;
	char *code, *subject;
	enum severity sev;
	bool seen;
};

static int load_open_findings(struct store *st, const char *domain, struct open_finding **out,
			      size_t *n_out)
{
	sqlite3_stmt *s = stmt(st, S_OPEN_FINDINGS);
	struct open_finding *open = NULL;
	size_t n = 0, cap = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, domain);
	while ((r = store_step_row(st, s, "open findings")) == 1) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			open = xrealloc(open, cap * sizeof(*open));
		}
		open[n].id = sqlite3_column_int64(s, 0);
		open[n].code = xstrdup(store_col_text(s, 1));
		open[n].subject = xstrdup(store_col_text(s, 2));
		open[n].sev = severity_parse(store_col_text(s, 3));
		open[n].seen = false;
		n++;
	}
	sqlite3_reset(s);
	*out = open;
	*n_out = n;
	return r < 0 ? STORE_ERROR : 0;
}

/*
 * Findings keep an identity (domain, code, subject) across checks: one seen again is
 * updated, a new one opened, one no longer seen closed, except that a check which could
 * not tell (an UNKNOWN finding) closes nothing.
 */
static int record_findings(struct store *st, const char *domain, const struct verdict *v,
			   sqlite3_int64 check_id, time_t now, struct store_delta *delta)
{
	struct open_finding *open = NULL;
	size_t n_open = 0;
	sqlite3_stmt *s;
	int rc;

	if ((rc = load_open_findings(st, domain, &open, &n_open)) < 0)
		goto out;
	for (size_t i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];
		const char *code = finding_code_str(f->code);
		struct open_finding *match = NULL;

		for (size_t k = 0; k < n_open && !match; k++)
			if (!open[k].seen && strcmp(open[k].code, code) == 0 &&
			    strcmp(open[k].subject, f->subject) == 0)
				match = &open[k];
		rc = STORE_ERROR;
		if (match) {
			match->seen = true;
			if (!(s = stmt(st, S_UPDATE_FINDING)))
				goto out;
			sqlite3_bind_int64(s, 1, match->id);
			store_bind_text(s, 2, severity_str(f->sev));
			store_bind_text(s, 3, f->message);
			sqlite3_bind_int64(s, 4, now);
			sqlite3_bind_int64(s, 5, check_id);
			if (match->sev != f->sev)
				delta_add(delta, STORE_CHANGED, code, f->subject, f->sev, match->sev);
		} else {
			if (!(s = stmt(st, S_INSERT_FINDING)))
				goto out;
			store_bind_text(s, 1, domain);
			store_bind_text(s, 2, code);
			sqlite3_bind_text(s, 3, f->subject, -1, SQLITE_TRANSIENT);
			store_bind_text(s, 4, severity_str(f->sev));
			sqlite3_bind_text(s, 5, f->message, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, 6, now);
			sqlite3_bind_int64(s, 7, check_id);
			delta_add(delta, STORE_OPENED, code, f->subject, f->sev, f->sev);
		}
		if ((rc = store_step_write(st, s, "finding")) < 0)
			goto out;
	}
	/* "could not tell" closes nothing: an open finding stays open until seen resolved */
	for (size_t k = 0; k < n_open && !has_unknown(v); k++) {
		if (open[k].seen)
			continue;
		rc = STORE_ERROR;
		if (!(s = stmt(st, S_CLOSE_FINDING)))
			goto out;
		sqlite3_bind_int64(s, 1, open[k].id);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_int64(s, 3, check_id);
		if ((rc = store_step_write(st, s, "finding")) < 0)
			goto out;
		delta_add(delta, STORE_CLOSED, open[k].code, open[k].subject, open[k].sev,
			  open[k].sev);
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

/* The domain's current state, and a status change row when its status moved. */
static int record_domain(struct store *st, const struct domain_facts *df, const struct verdict *v,
			 const char *mx_set, sqlite3_int64 check_id, struct store_delta *delta)
{
	const char *status = status_str(v->status);
	char prev[16] = "";
	time_t since = df->checked_at;
	sqlite3_stmt *s = stmt(st, S_GET_DOMAIN);
	int r;

	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, df->domain);
	r = store_step_row(st, s, "domain");
	if (r == 1) {
		strlcpy_s(prev, store_col_text(s, 0), sizeof(prev));
		since = (time_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (r < 0)
		return STORE_ERROR;
	if (delta) {
		strlcpy_s(delta->old_status, prev, sizeof(delta->old_status));
		strlcpy_s(delta->new_status, status, sizeof(delta->new_status));
	}
	if (strcmp(prev, status) != 0) {
		since = df->checked_at;
		if (!(s = stmt(st, S_INSERT_STATUS_CHANGE)))
			return STORE_ERROR;
		store_bind_text(s, 1, df->domain);
		sqlite3_bind_int64(s, 2, df->checked_at);
		store_bind_text(s, 3, prev[0] ? prev : NULL);
		store_bind_text(s, 4, status);
		sqlite3_bind_int64(s, 5, check_id);
		if ((r = store_step_write(st, s, "status change")) < 0)
			return r;
	}
	if (!(s = stmt(st, S_UPSERT_DOMAIN)))
		return STORE_ERROR;
	store_bind_text(s, 1, df->domain);
	store_bind_text(s, 2, status);
	sqlite3_bind_int64(s, 3, since);
	store_bind_text(s, 4, v->mode ? policy_mode_str(v->mode) : NULL);
	store_bind_text(s, 5, v->txt.valid ? v->txt.id : NULL);
	store_bind_time(s, 6, v->fails_at);
	store_bind_text(s, 7, v->fails_why);
	sqlite3_bind_int64(s, 8, df->checked_at);
	sqlite3_bind_int64(s, 9, check_id);
	store_bind_text(s, 10, v->txt.valid ? v->txt.id : NULL);
	store_bind_time(s, 11, v->txt.valid ? df->checked_at : 0);
	store_bind_time(s, 12, v->have_policy && v->policy.valid && v->policy_usable ? df->checked_at : 0);
	if (mx_set)
		sqlite3_bind_text(s, 13, mx_set, -1, SQLITE_TRANSIENT);
	return store_step_write(st, s, "domain");
}

static int bump_run(struct store *st, int64_t run_id)
{
	sqlite3_stmt *s = stmt(st, S_BUMP_RUN);

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, run_id);
	return store_step_write(st, s, "run");
}

void store_delta_free(struct store_delta *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].code);
		free(d->v[i].subject);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int store_record_check(struct store *st, int64_t run_id, const struct domain_facts *df,
		       const struct verdict *v, json_t *report, struct store_delta *delta)
{
	char *mx_set = mx_set_str(df);
	sqlite3_int64 check_id = 0;
	int rc = STORE_ERROR;

	if (delta)
		memset(delta, 0, sizeof(*delta));
	if (sqlite3_get_autocommit(st->db)) {
		bsnprintf(st->err, sizeof(st->err), "%s: %s: no transaction is open", st->path,
			  df->domain);
		goto out;
	}
	if ((rc = record_check_row(st, run_id, df, v, report, mx_set, &check_id)) < 0 ||
	    (rc = record_txt_id(st, df, v)) < 0 ||
	    (rc = record_policy_version(st, df, v)) < 0 ||
	    (rc = record_certs(st, df)) < 0 ||
	    (rc = record_findings(st, df->domain, v, check_id, df->checked_at, delta)) < 0 ||
	    (rc = record_domain(st, df, v, mx_set, check_id, delta)) < 0 ||
	    (rc = bump_run(st, run_id)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		store_delta_free(delta);
	free(mx_set);
	return rc;
}

int store_record(struct store *st, int64_t run_id, const struct domain_facts *df,
		 const struct verdict *v, json_t *report, struct store_delta *delta)
{
	int rc = store_begin(st);

	if (rc < 0)
		return rc;
	rc = store_record_check(st, run_id, df, v, report, delta);
	if (rc < 0) {
		char saved[sizeof(st->err)];

		strlcpy_s(saved, st->err, sizeof(saved));
		store_rollback(st);
		bsnprintf(st->err, sizeof(st->err), "%s (this check of %s was not recorded)", saved,
			  df->domain);
		return rc;
	}
	rc = store_commit(st);
	if (rc < 0)
		store_delta_free(delta);
	return rc;
}

/* ---- reading the history for the judge ---------------------------------------------- */

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

static int load_domain_row(struct store *st, const char *domain, struct history *h)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT last_checked, txt_last_id, txt_last_seen,"
				  " policy_last_served, mx_set FROM domains WHERE domain = ?",
				  "history");
	int r;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "history");
	if (r == 1) {
		h->known = true;
		h->last_checked = (time_t)sqlite3_column_int64(s, 0);
		strlcpy_s(h->txt_id, store_col_text(s, 1), sizeof(h->txt_id));
		h->txt_last_seen = (time_t)sqlite3_column_int64(s, 2);
		h->policy_last_served = (time_t)sqlite3_column_int64(s, 3);
		h->policy_served = h->policy_last_served != 0;
		h->mx = split_words(store_col_text(s, 4), &h->n_mx);
	}
	sqlite3_finalize(s);
	return r < 0 ? -1 : 0;
}

static int load_versions(struct store *st, const char *domain, struct history *h)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT txt_id, sha256, mode, max_age, mx, first_seen,"
				  " last_seen, replaced_at FROM policy_versions WHERE domain = ?"
				  " ORDER BY last_seen DESC, first_seen DESC LIMIT ?", "history");
	int r;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, HISTORY_VERSIONS);
	h->versions = xcalloc(HISTORY_VERSIONS, sizeof(*h->versions));
	while ((r = store_step_row(st, s, "history")) == 1 && h->n_versions < HISTORY_VERSIONS) {
		struct policy_version *pv = &h->versions[h->n_versions++];
		json_t *mx = json_loads(store_col_text(s, 4), 0, NULL);

		strlcpy_s(pv->txt_id, store_col_text(s, 0), sizeof(pv->txt_id));
		strlcpy_s(pv->sha256, store_col_text(s, 1), sizeof(pv->sha256));
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
	return r < 0 ? -1 : 0;
}

/*
 * The certificates seen for each subject of the domain: the last one seen (for renewal
 * notes) and the last RENEWAL_HISTORY of them, oldest first (for the renewal habit).
 */
static int load_certs(struct store *st, const char *domain, struct history *h)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT subject, sha256, not_before, not_after,"
					" first_seen, last_seen FROM certs WHERE domain = ?1"
					" ORDER BY subject, first_seen, last_seen", "history");
	struct cert_seen *cs = NULL;
	time_t best_seen = 0;
	int r;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	while ((r = store_step_row(st, s, "history")) == 1) {
		const char *subject = store_col_text(s, 0);
		time_t last_seen = (time_t)sqlite3_column_int64(s, 5);
		struct renewal_cert rc;

		if (!cs || strcmp(cs->subject, subject) != 0) {
			h->certs = xrealloc(h->certs, (h->n_certs + 1) * sizeof(*h->certs));
			cs = &h->certs[h->n_certs++];
			memset(cs, 0, sizeof(*cs));
			strlcpy_s(cs->subject, subject, sizeof(cs->subject));
			best_seen = 0;
		}
		if (last_seen >= best_seen) {
			best_seen = last_seen;
			strlcpy_s(cs->sha256, store_col_text(s, 1), sizeof(cs->sha256));
			cs->not_after = (time_t)sqlite3_column_int64(s, 3);
		}
		rc.not_before = (time_t)sqlite3_column_int64(s, 2);
		rc.not_after = (time_t)sqlite3_column_int64(s, 3);
		rc.first_seen = (time_t)sqlite3_column_int64(s, 4);
		if (cs->n_hist == RENEWAL_HISTORY) {
			memmove(cs->hist, cs->hist + 1, (RENEWAL_HISTORY - 1) * sizeof(cs->hist[0]));
			cs->n_hist--;
		}
		cs->hist[cs->n_hist++] = rc;
	}
	sqlite3_finalize(s);
	return r < 0 ? -1 : 0;
}

int store_load_history(struct store *st, const char *domain, struct history *h)
{
	memset(h, 0, sizeof(*h));
	if (load_domain_row(st, domain, h) < 0)
		goto fail;
	if (!h->known)
		return 0;
	if (load_versions(st, domain, h) < 0 || load_certs(st, domain, h) < 0)
		goto fail;
	return 0;
fail:
	history_free(h);
	return -1;
}

int store_last_checked(struct store *st, const char *domain, time_t *t)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT last_checked FROM domains WHERE domain = ?",
				  "last check");
	int r;

	*t = 0;
	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "last check");
	if (r == 1)
		*t = (time_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r < 0 ? -1 : 0;
}

/* ---- maintenance ----------------------------------------------------------------------- */

static const char *const prune_sql[] = {
	"DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE checked_at < ?1 LIMIT ?2)",
	"DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE closed_at < ?1 LIMIT ?2)",
	"DELETE FROM status_changes WHERE id IN (SELECT id FROM status_changes WHERE at < ?1 LIMIT ?2)",
	"DELETE FROM policy_versions WHERE rowid IN (SELECT rowid FROM policy_versions"
	" WHERE last_seen < ?1 AND replaced_at IS NOT NULL LIMIT ?2)",
	"DELETE FROM certs WHERE rowid IN (SELECT rowid FROM certs WHERE last_seen < ?1 LIMIT ?2)",
	"DELETE FROM txt_ids WHERE rowid IN (SELECT rowid FROM txt_ids WHERE last_seen < ?1 LIMIT ?2)",
	"DELETE FROM runs WHERE id IN (SELECT id FROM runs r WHERE started_at < ?1 AND NOT"
	" EXISTS (SELECT 1 FROM checks WHERE run_id = r.id) LIMIT ?2)",
	/* notifications delivered, failed or expired long ago; pending ones stay */
	"DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox WHERE created_at < ?1"
	" AND state != 'pending' LIMIT ?2)",
	"DELETE FROM silences WHERE id IN (SELECT id FROM silences WHERE until < ?1 LIMIT ?2)",
};

int store_prune_step(struct store *st, unsigned retention_days, time_t now, unsigned *table,
		     long *deleted)
{
	time_t cutoff = now - (time_t)retention_days * 86400;
	sqlite3_stmt *s;
	int changes, rc;

	if (*table >= ARRAY_LEN(prune_sql))
		return 0;
	/* each batch is its own short transaction: readers (WAL) never wait */
	s = store_prepare(st, prune_sql[*table], "prune");
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, cutoff);
	sqlite3_bind_int(s, 2, PRUNE_BATCH);
	rc = store_step_write(st, s, "prune");
	sqlite3_finalize(s);
	if (rc < 0)
		return rc;
	changes = sqlite3_changes(st->db);
	*deleted += changes;
	if (changes < PRUNE_BATCH)
		(*table)++;
	return *table < ARRAY_LEN(prune_sql) ? 1 : 0;
}

int store_prune(struct store *st, unsigned retention_days, time_t now, long *deleted)
{
	unsigned table = 0;
	int rc;

	*deleted = 0;
	while ((rc = store_prune_step(st, retention_days, now, &table, deleted)) > 0)
		;
	return rc;
}

int store_check(struct store *st, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	struct dynbuf sb;
	int rc = 0, version = -1, rows = 0, r;

	dynbuf_init(&sb, outlen ? outlen - 1 : 0);
	if (!(s = store_prepare(st, "PRAGMA integrity_check", "integrity_check"))) {
		rc = -1;
		dynbuf_printf(&sb, "%s\n", st->err);
		goto out;
	}
	while ((r = store_step_row(st, s, "integrity_check")) == 1) {
		const char *line = store_col_text(s, 0);

		rows++;
		if (strcmp(line, "ok") != 0) {
			rc = -1;
			dynbuf_printf(&sb, "integrity: %s\n", line);
		}
	}
	sqlite3_finalize(s);
	if (r < 0) {
		rc = -1;
		dynbuf_printf(&sb, "%s\n", st->err);
	} else if (rows == 0) {
		rc = -1;
		dynbuf_printf(&sb, "integrity_check returned nothing\n");
	}
	if ((s = store_prepare(st, "PRAGMA foreign_key_check", "foreign_key_check"))) {
		while ((r = store_step_row(st, s, "foreign_key_check")) == 1) {
			rc = -1;
			dynbuf_printf(&sb, "foreign key: table %s row %lld\n", store_col_text(s, 0),
				      (long long)sqlite3_column_int64(s, 1));
		}
		sqlite3_finalize(s);
		if (r < 0) {
			rc = -1;
			dynbuf_printf(&sb, "%s\n", st->err);
		}
	}
	if (pragma_int(st, "PRAGMA user_version", &version) < 0 || version != STORE_SCHEMA_VERSION) {
		rc = -1;
		dynbuf_printf(&sb, "schema version %d, expected %d\n", version, STORE_SCHEMA_VERSION);
	}
	if (rc == 0)
		dynbuf_printf(&sb, "ok: integrity, foreign keys and schema version %d\n", version);
out:
	bsnprintf(out, outlen, "%s", sb.buf ? sb.buf : "");
	dynbuf_free(&sb);
	return rc;
}

/* ---- reading for status and history -------------------------------------------------- */

json_t *store_col_json(sqlite3_stmt *s, int i, bool is_time)
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
		return json_str(store_col_text(s, i));
	}
}

/* Run a query with one text parameter (and an optional time) into an array of objects. */
int store_query_rows(struct store *st, const char *sql, const char *arg, time_t since,
		      const char *const *names, const bool *is_time, int ncols, json_t **out)
{
	sqlite3_stmt *s = store_prepare(st, sql, "query");
	json_t *arr;
	int r;

	*out = NULL;
	if (!s)
		return -1;
	arr = json_array();
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, since);
	while ((r = store_step_row(st, s, "query")) == 1) {
		json_t *o = json_object();

		for (int i = 0; i < ncols; i++)
			json_object_set_new(o, names[i], store_col_json(s, i, is_time[i]));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(s);
	if (r < 0) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int store_domain_status(struct store *st, const char *domain, json_t **out)
{
	static const char *const dn[] = { "domain", "status", "since", "mode", "txt_id",
					  "fails_at", "fails_reason", "checked_at" };
	static const bool dt[] = { false, false, true, false, false, true, false, true };
	static const char *const fn[] = { "code", "severity", "subject", "message", "opened_at" };
	static const bool ft[] = { false, false, false, false, true };
	json_t *rows, *o, *findings;

	*out = NULL;
	if (store_query_rows(st, "SELECT domain, status, status_since, mode, txt_id, fails_at,"
		       " fails_reason, last_checked FROM domains WHERE domain = ?", domain, 0,
		       dn, dt, 8, &rows) < 0)
		return -1;
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return 0;
	}
	o = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	if (store_query_rows(st, "SELECT code, severity, subject, message, opened_at FROM findings"
		       " WHERE domain = ? AND closed_at IS NULL ORDER BY CASE severity"
		       " WHEN 'CRITICAL' THEN 0 WHEN 'UNKNOWN' THEN 1 WHEN 'WARNING' THEN 2"
		       " ELSE 3 END, code, subject", domain, 0, fn, ft, 5, &findings) < 0) {
		json_decref(o);
		return -1;
	}
	json_object_set_new(o, "findings", findings);
	*out = o;
	return 0;
}

int store_domain_report(struct store *st, const char *domain, char **json)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT c.report FROM domains d JOIN checks c ON"
					" c.id = d.last_check_id WHERE d.domain = ?", "report");
	int r;

	*json = NULL;
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "report");
	if (r == 1 && store_col_text(s, 0)[0])
		*json = xstrdup(store_col_text(s, 0));
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_domains(struct store *st, json_t **out)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT domain FROM domains ORDER BY domain", "query");
	json_t *arr;
	int r;

	*out = NULL;
	if (!s)
		return -1;
	arr = json_array();
	while ((r = store_step_row(st, s, "query")) == 1)
		json_array_append_new(arr, json_str(store_col_text(s, 0)));
	sqlite3_finalize(s);
	if (r < 0) {
		json_decref(arr);
		return -1;
	}
	*out = arr;
	return 0;
}

int store_domain_history(struct store *st, const char *domain, time_t since, json_t **out)
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
	json_t *o = json_object(), *a;

	*out = NULL;
	json_object_set_new(o, "domain", json_str(domain));
	json_object_set_new(o, "since", json_time(since));
	if (store_query_rows(st, "SELECT txt_id, first_seen, last_seen FROM txt_ids WHERE domain = ?1"
		       " AND last_seen >= ?2 ORDER BY first_seen", domain, since, tn, tt, 3, &a) < 0)
		goto fail;
	json_object_set_new(o, "txt_ids", a);
	if (store_query_rows(st, "SELECT sha256, txt_id, mode, max_age, mx, first_seen, last_seen,"
		       " replaced_at FROM policy_versions WHERE domain = ?1 AND last_seen >= ?2"
		       " ORDER BY first_seen", domain, since, pn, pt, 8, &a) < 0)
		goto fail;
	/* the mx list is stored as JSON text: hand it out as an array */
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *v = json_array_get(a, i);
		const char *text = json_string_value(json_object_get(v, "mx"));
		json_t *mx = json_loads(text ? text : "[]", 0, NULL);

		json_object_set_new(v, "mx", mx ? mx : json_array());
	}
	json_object_set_new(o, "policy_versions", a);
	if (store_query_rows(st, "SELECT subject, sha256, issuer, not_before, not_after, first_seen,"
		       " last_seen FROM certs WHERE domain = ?1 AND last_seen >= ?2 ORDER BY"
		       " subject, first_seen", domain, since, cn, ct, 7, &a) < 0)
		goto fail;
	json_object_set_new(o, "certificates", a);
	if (store_query_rows(st, "SELECT at, old_status, new_status FROM status_changes WHERE"
		       " domain = ?1 AND at >= ?2 ORDER BY at", domain, since, sn, stt, 3, &a) < 0)
		goto fail;
	json_object_set_new(o, "status_changes", a);
	if (store_query_rows(st, "SELECT code, severity, subject, message, opened_at, closed_at,"
		       " last_seen FROM findings WHERE domain = ?1 AND (closed_at IS NULL OR"
		       " closed_at >= ?2) ORDER BY opened_at, code", domain, since, fn, ft, 7, &a) < 0)
		goto fail;
	json_object_set_new(o, "findings", a);
	*out = o;
	return 0;
fail:
	json_decref(o);
	return -1;
}
