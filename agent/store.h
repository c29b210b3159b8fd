/* store: the SQLite database: runs, checks, policy versions, certificates, findings. */
#ifndef STSWATCH_STORE_H
#define STSWATCH_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "checks/facts.h"
#include "checks/judge.h"

#define STORE_SCHEMA_VERSION 2
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
/* The report (check --format json) of a domain's last check, JSON text the caller frees;
 * 0 with *json NULL when there is none (never checked, or pruned). */
int store_domain_report(struct store *st, const char *domain, char **json);
/* Every domain the database knows (an array of names), for status without a configuration. */
int store_domains(struct store *st, json_t **out);
/* history: the timeline of one domain since a time (0: everything). */
int store_domain_history(struct store *st, const char *domain, time_t since, json_t **out);

/* ---- alerts and the schedule (store_alerts.c) -------------------------------------------- */

/* The alert state of a domain as JSON text (caller frees); 0 with *json NULL when none. */
int store_alert_state_get(struct store *st, const char *domain, char **json);
/* Replace it (inside the domain's transaction). */
int store_alert_state_put(struct store *st, const char *domain, const char *json, time_t now);

/* One queued notification to one receiver. */
struct store_outbox_row {
	char id[40];		/* stable across retries and restarts */
	char receiver[80];
	char kind[24];		/* problem, escalated, ..., batch (an email of several) */
	char domain[HOST_LEN];	/* "" when not about one domain */
	char incident[24];
	char status[16];
	time_t created_at, next_at, last_at, sent_at;
	int64_t run_id;
	char *data;		/* JSON text (owned) */
	char state[16];		/* pending, sent, failed, expired, batched, disabled */
	unsigned attempts;
	long last_code;
	char last_error[300];
	char batch[40];		/* batched: the id of the row it went out in */
};

/* Queue one (inside a transaction, or on its own). */
int store_outbox_add(struct store *st, const struct store_outbox_row *r);
/* Pending rows due at now (next_at <= now), oldest first, at most max; free the array
 * with store_outbox_rows_free. receiver NULL for every receiver. */
int store_outbox_due(struct store *st, const char *receiver, time_t now, size_t max,
		     struct store_outbox_row **rows, size_t *n);
/* Write an attempt's outcome: state, attempts, next_at, last_*, sent_at, batch. */
int store_outbox_update(struct store *st, const struct store_outbox_row *r);
/* The earliest next_at among pending rows, 0 when none. */
int store_outbox_next(struct store *st, time_t *next);
/* Rows pending and failed (not yet seen by an admin). */
int store_outbox_counts(struct store *st, size_t *pending, size_t *failed);
/* For "stswatch alerts": the newest rows first, optionally of one domain or state. */
int store_outbox_list(struct store *st, const char *domain, const char *state, size_t limit,
		      json_t **out);
/* Free rows from store_outbox_due. */
void store_outbox_rows_free(struct store_outbox_row *rows, size_t n);

struct store_silence {
	int64_t id;
	char domain[HOST_LEN];
	char code[64];		/* "" for every finding of the domain */
	char reason[300];
	time_t created_at, until;
};

/* Hold notifications for a domain (and code, or NULL) until a time. */
int store_silence_add(struct store *st, const char *domain, const char *code, time_t until,
		      const char *reason, time_t now, int64_t *id);
/* End the silences of a domain (and code, or NULL for all) now; *ended says how many. */
int store_silence_end(struct store *st, const char *domain, const char *code, time_t now,
		      size_t *ended);
/* The silences in force for a domain at now (domain NULL: every domain). */
int store_silences_active(struct store *st, const char *domain, time_t now,
			  struct store_silence **v, size_t *n);

/* A receiver's state: disabled (after 410 Gone) and its last digest. */
int store_receiver_get(struct store *st, const char *name, time_t *disabled_at, char *reason,
		       size_t reason_len, time_t *last_digest);
/* Disable (reason) or, with reason NULL, enable a receiver. */
int store_receiver_disable(struct store *st, const char *name, const char *reason, time_t now);
/* The time of a receiver's last digest. */
int store_receiver_digested(struct store *st, const char *name, time_t at);

/* One domain's current state, for metrics. */
struct store_domain_row {
	const char *domain, *status, *mode;	/* mode NULL when none */
	time_t fails_at, last_checked;
	long max_age;				/* of the policy served now, -1 when none */
};
/* Call fn for every domain the database knows (stops at fn's non-zero answer). */
int store_each_domain(struct store *st, int (*fn)(void *arg, const struct store_domain_row *r),
		      void *arg);
/* Call fn with the earliest certificate expiry seen on each MX host of each domain at
 * its last check. */
int store_each_mx_expiry(struct store *st,
			 int (*fn)(void *arg, const char *domain, const char *host, time_t not_after),
			 void *arg);

/* Call fn with every domain's alert state (JSON text). */
int store_each_alert_state(struct store *st,
			   int (*fn)(void *arg, const char *domain, const char *json), void *arg);

/* The scheduler's due time and quick re-checks of a domain; 0 and zeros when none kept. */
int store_schedule_get(struct store *st, const char *domain, time_t *next_due,
		       unsigned *retries);
/* Keep them (inside the domain's transaction). */
int store_schedule_put(struct store *st, const char *domain, time_t next_due, unsigned retries,
		       time_t now);

/*
 * One small step of pruning (a batch of one table): 1 when more is left, 0 when done.
 * *table carries the position between calls (start at 0); *deleted adds up.
 */
int store_prune_step(struct store *st, unsigned retention_days, time_t now, unsigned *table,
		     long *deleted);
/* Fold the WAL into the database without waiting for readers (PRAGMA wal_checkpoint). */
int store_checkpoint(struct store *st);

/* Call fn with every status change since a time, oldest first. */
int store_each_status_change(struct store *st, time_t since,
			     int (*fn)(void *arg, const char *domain, time_t at, const char *old_status,
				       const char *new_status), void *arg);

/* A small key/value setting of the agent (the last vantage verdict, the last cycle). */
int store_meta_get(struct store *st, const char *key, char *out, size_t len, bool *found);
/* Set one. */
int store_meta_set(struct store *st, const char *key, const char *value, time_t now);

#endif
