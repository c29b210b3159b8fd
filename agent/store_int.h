/* store_int: what store.c and store_alerts.c share inside the store (not an API). */
#ifndef STSWATCH_STORE_INT_H
#define STSWATCH_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

#define STORE_STMTS 32	/* statements store.c keeps prepared */

struct store {
	sqlite3 *db;
	enum store_mode mode;
	int lock_fd;		/* the runner lock, -1 when not held */
	char path[512];
	char err[640];
	sqlite3_stmt *stmts[STORE_STMTS];
};

/* Put SQLite's error (and the errno under it) into st->err in words; STORE_ERROR or
 * STORE_BUSY. */
int store_explain(struct store *st, int rc, const char *what);
/* A one-off statement; NULL (st->err set) when it cannot be prepared. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, const char *what);
/* Bind text, NULL for NULL or "". */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Bind a time, NULL for 0. */
void store_bind_time(sqlite3_stmt *s, int i, time_t t);
/* One step of a read: 1 a row, 0 done, -1 an error. */
int store_step_row(struct store *st, sqlite3_stmt *s, const char *what);
/* A write to its end: 0, STORE_ERROR or STORE_BUSY. */
int store_step_write(struct store *st, sqlite3_stmt *s, const char *what);
/* A column as JSON (a time as RFC 3339 when is_time). */
json_t *store_col_json(sqlite3_stmt *s, int i, bool is_time);
/* A query with one text parameter (and an optional second, a time) into an array of
 * objects named by names; 0, or -1 with st->err. */
int store_query_rows(struct store *st, const char *sql, const char *arg, time_t since,
		     const char *const *names, const bool *is_time, int ncols, json_t **out);
/* A text column, "" for NULL. */
const char *store_col_text(sqlite3_stmt *s, int i);

#endif
