/* store: the SQLite database: runs, checks, policy versions, certificates, findings. */
#ifndef STSWATCH_STORE_H
#define STSWATCH_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "checks/facts.h"
#include "checks/judge.h"

#define STORE_SCHEMA_VERSION 1

struct store;

enum store_mode {
	STORE_READ,	/* status, history, check without --record: never writes */
	STORE_WRITE,	/* creates the file (mode 0640) and migrates the schema */
};

/*
 * Open the database. STORE_READ fails when the file does not exist (err says so);
 * STORE_WRITE creates it and its directory. NULL with err on failure.
 */
struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen);
/* Close; a run still open is rolled back. */
void store_close(struct store *st);
/* The last error in words. */
const char *store_error(const struct store *st);

/*
 * Begin a run: one write transaction for all of it, so a crash leaves the previous run
 * intact and no part of this one. -1 when another process holds the write lock.
 */
int store_run_begin(struct store *st, const char *kind, time_t now);
/* Record one domain's check in the open run. */
int store_record(struct store *st, const struct domain_facts *df, const struct verdict *v,
		 json_t *report);
/* Commit the run. -1 (rolled back) on failure, e.g. a full disk. */
int store_run_commit(struct store *st, time_t now);
/* Abandon the run. */
void store_run_rollback(struct store *st);

/* What earlier checks left for the judge; zeroed history when the domain is new. */
int store_load_history(struct store *st, const char *domain, struct history *h);

/* When the domain was last checked, 0 if never. */
time_t store_last_checked(struct store *st, const char *domain);

/* Delete rows older than the retention in small transactions (readers never wait). */
int store_prune(struct store *st, unsigned retention_days, time_t now, long *deleted);

/* PRAGMA integrity_check and the schema version; 0 when sound, the report in out. */
int store_check(struct store *st, char *out, size_t outlen);

/* status: the current state of one domain as JSON (NULL when never checked). */
json_t *store_domain_status(struct store *st, const char *domain);
/* Every domain the database knows, for status without a configuration. */
json_t *store_domains(struct store *st);
/* history: the timeline of one domain since a time (0: everything). */
json_t *store_domain_history(struct store *st, const char *domain, time_t since);

#endif
