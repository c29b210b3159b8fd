/* store: the SQLite database: runs, checks, policy versions, certificates, findings. */
#ifndef STSWATCH_STORE_H
#define STSWATCH_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "checks/facts.h"
#include "checks/judge.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_BUSY_MS 200	/* longest a call waits for another writer before STORE_BUSY */

struct store;

enum store_mode {
	STORE_READ,	/* status, history, check without --record: opened read-only */
	STORE_WRITE,	/* creates the file (mode 0640), migrates, checks it (quick_check) */
	STORE_RUNNER,	/* STORE_WRITE plus the runner lock: one run or daemon per database */
};

/* Results of the calls that can wait for another writer. */
enum {
	STORE_OK = 0,
	STORE_ERROR = -1,	/* store_error() says what, in words */
	STORE_BUSY = -2,	/* another writer held the database for STORE_BUSY_MS: retry later */
};

/* What recording one check changed, for logs and for the alert state machine. */
struct store_change {
	enum { STORE_OPENED, STORE_CLOSED, STORE_CHANGED } kind;
	char *code;
	char *subject;
	enum severity sev;	/* the new severity; for a closed finding, its last one */
	enum severity old_sev;	/* STORE_CHANGED: the severity before */
};

struct store_delta {
	char old_status[16];	/* "" when the domain was never checked */
	char new_status[16];
	size_t n;
	struct store_change *v;
};

/*
 * Open the database. STORE_READ opens read-only and fails when the file does not exist;
 * the others create it and its directory, migrate the schema and refuse a damaged file
 * (PRAGMA quick_check), and STORE_RUNNER also takes the runner lock (path + "-lock").
 * NULL with the real cause in err (not a database, damaged, disk full, permission denied,
 * read-only file system, locked by another run) on failure.
 */
struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen);
/* Close; a transaction still open is rolled back, the runner lock released. */
void store_close(struct store *st);
/* The last error in words. */
const char *store_error(const struct store *st);
/* The file the store was opened on. */
const char *store_path(const struct store *st);

/* Start a run (its row is committed at once); *run_id names it for store_record. */
int store_run_start(struct store *st, const char *kind, time_t now, int64_t *run_id);
/* Mark a run finished. */
int store_run_finish(struct store *st, int64_t run_id, time_t now);

/*
 * Write transactions, one per checked domain: begin waits at most STORE_BUSY_MS for
 * another writer (STORE_BUSY), commit makes everything since begin durable or nothing
 * (STORE_ERROR, rolled back, e.g. on a full disk).
 */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/*
 * Record one domain's check inside an open transaction: the check row, TXT id, policy
 * version, certificates, findings opened/updated/closed, the domain's state and status
 * change. delta (may be NULL) receives what changed; free it with store_delta_free.
 */
int store_record_check(struct store *st, int64_t run_id, const struct domain_facts *df,
		       const struct verdict *v, json_t *report, struct store_delta *delta);
/* store_begin + store_record_check + store_commit; rolled back on any failure. */
int store_record(struct store *st, int64_t run_id, const struct domain_facts *df,
		 const struct verdict *v, json_t *report, struct store_delta *delta);
/* Free what a delta holds. */
void store_delta_free(struct store_delta *d);

/* What earlier checks left for the judge; zeroed history when the domain is new. */
int store_load_history(struct store *st, const char *domain, struct history *h);

/* When the domain was last checked: 0 and *t (0 if never), or -1 on a read error. */
int store_last_checked(struct store *st, const char *domain, time_t *t);

/* Delete rows older than the retention in small transactions (readers never wait). */
int store_prune(struct store *st, unsigned retention_days, time_t now, long *deleted);

/* PRAGMA integrity_check and the schema version; 0 when sound, the report in out. */
int store_check(struct store *st, char *out, size_t outlen);

/* status: the current state of one domain as JSON; 0 with *out NULL when never checked. */
int store_domain_status(struct store *st, const char *domain, json_t **out);
/* Every domain the database knows (an array of names), for status without a configuration. */
int store_domains(struct store *st, json_t **out);
/* history: the timeline of one domain since a time (0: everything). */
int store_domain_history(struct store *st, const char *domain, time_t since, json_t **out);

#endif
