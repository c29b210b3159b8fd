/* store_alerts: the alert tables of the database: state per domain, outbox, silences. */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int store_alert_state_get(struct store *st, const char *domain, char **json)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT state FROM alert_state WHERE domain = ?",
					"alert state");
	int r;

	*json = NULL;
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "alert state");
	if (r == 1)
		*json = xstrdup(store_col_text(s, 0));
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_alert_state_put(struct store *st, const char *domain, const char *json, time_t now)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO alert_state(domain, state, updated_at)"
					" VALUES (?1, ?2, ?3) ON CONFLICT(domain) DO UPDATE SET"
					" state = excluded.state, updated_at = excluded.updated_at",
					"alert state");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = store_step_write(st, s, "alert state");
	sqlite3_finalize(s);
	return rc;
}

int store_outbox_add(struct store *st, const struct store_outbox_row *r)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO outbox(id, receiver, kind, domain,"
					" incident, status, created_at, run_id, data, state,"
					" attempts, next_at) VALUES (?,?,?,?,?,?,?,?,?,?,0,?)",
					"outbox");
	int rc;

	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, r->id);
	store_bind_text(s, 2, r->receiver);
	store_bind_text(s, 3, r->kind);
	store_bind_text(s, 4, r->domain);
	store_bind_text(s, 5, r->incident);
	store_bind_text(s, 6, r->status);
	sqlite3_bind_int64(s, 7, r->created_at);
	if (r->run_id)
		sqlite3_bind_int64(s, 8, r->run_id);
	sqlite3_bind_text(s, 9, r->data ? r->data : "{}", -1, SQLITE_STATIC);
	store_bind_text(s, 10, r->state[0] ? r->state : "pending");
	sqlite3_bind_int64(s, 11, r->next_at);
	rc = store_step_write(st, s, "outbox");
	sqlite3_finalize(s);
	return rc;
}

#define ROW_COLS "id, receiver, kind, domain, incident, status, created_at, run_id, data," \
		 " state, attempts, next_at, last_at, last_code, last_error, sent_at, batch"

static void read_row(sqlite3_stmt *s, struct store_outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	strlcpy_s(r->id, store_col_text(s, 0), sizeof(r->id));
	strlcpy_s(r->receiver, store_col_text(s, 1), sizeof(r->receiver));
	strlcpy_s(r->kind, store_col_text(s, 2), sizeof(r->kind));
	strlcpy_s(r->domain, store_col_text(s, 3), sizeof(r->domain));
	strlcpy_s(r->incident, store_col_text(s, 4), sizeof(r->incident));
	strlcpy_s(r->status, store_col_text(s, 5), sizeof(r->status));
	r->created_at = (time_t)sqlite3_column_int64(s, 6);
	r->run_id = sqlite3_column_int64(s, 7);
	r->data = xstrdup(store_col_text(s, 8));
	strlcpy_s(r->state, store_col_text(s, 9), sizeof(r->state));
	r->attempts = (unsigned)sqlite3_column_int(s, 10);
	r->next_at = (time_t)sqlite3_column_int64(s, 11);
	r->last_at = (time_t)sqlite3_column_int64(s, 12);
	r->last_code = (long)sqlite3_column_int64(s, 13);
	strlcpy_s(r->last_error, store_col_text(s, 14), sizeof(r->last_error));
	r->sent_at = (time_t)sqlite3_column_int64(s, 15);
	strlcpy_s(r->batch, store_col_text(s, 16), sizeof(r->batch));
}

int store_outbox_due(struct store *st, const char *receiver, time_t now, size_t max,
		     struct store_outbox_row **rows, size_t *n)
{
	sqlite3_stmt *s = store_prepare(st, receiver ?
		"SELECT " ROW_COLS " FROM outbox WHERE state = 'pending' AND next_at <= ?1"
		" AND receiver = ?3 ORDER BY created_at, id LIMIT ?2" :
		"SELECT " ROW_COLS " FROM outbox WHERE state = 'pending' AND next_at <= ?1"
		" ORDER BY next_at, created_at LIMIT ?2", "outbox");
	int r;

	*rows = NULL;
	*n = 0;
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	if (receiver)
		sqlite3_bind_text(s, 3, receiver, -1, SQLITE_STATIC);
	while ((r = store_step_row(st, s, "outbox")) == 1) {
		*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
		read_row(s, &(*rows)[(*n)++]);
	}
	sqlite3_finalize(s);
	if (r < 0) {
		store_outbox_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
		return STORE_ERROR;
	}
	return 0;
}

void store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].data);
	free(rows);
}

int store_outbox_update(struct store *st, const struct store_outbox_row *r)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE outbox SET state = ?2, attempts = ?3,"
					" next_at = ?4, last_at = ?5, last_code = ?6, last_error = ?7,"
					" sent_at = ?8, batch = ?9 WHERE id = ?1", "outbox");
	int rc;

	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, r->id);
	store_bind_text(s, 2, r->state);
	sqlite3_bind_int(s, 3, (int)r->attempts);
	sqlite3_bind_int64(s, 4, r->next_at);
	store_bind_time(s, 5, r->last_at);
	if (r->last_code)
		sqlite3_bind_int64(s, 6, r->last_code);
	store_bind_text(s, 7, r->last_error);
	store_bind_time(s, 8, r->sent_at);
	store_bind_text(s, 9, r->batch);
	rc = store_step_write(st, s, "outbox");
	sqlite3_finalize(s);
	return rc;
}

int store_outbox_next(struct store *st, time_t *next)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT min(next_at) FROM outbox WHERE state ="
					" 'pending'", "outbox");
	int r;

	*next = 0;
	if (!s)
		return STORE_ERROR;
	r = store_step_row(st, s, "outbox");
	if (r == 1)
		*next = (time_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_outbox_counts(struct store *st, size_t *pending, size_t *failed)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT coalesce(sum(state = 'pending'), 0),"
					" coalesce(sum(state IN ('failed', 'expired', 'disabled')), 0)"
					" FROM outbox", "outbox");
	int r;

	*pending = *failed = 0;
	if (!s)
		return STORE_ERROR;
	r = store_step_row(st, s, "outbox");
	if (r == 1) {
		*pending = (size_t)sqlite3_column_int64(s, 0);
		*failed = (size_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_outbox_list(struct store *st, const char *domain, const char *state, size_t limit,
		      json_t **out)
{
	static const char *const names[] = { "id", "receiver", "kind", "domain", "incident",
					     "status", "created_at", "state", "attempts",
					     "next_at", "last_at", "last_code", "last_error",
					     "sent_at", "batch" };
	static const bool is_time[] = { false, false, false, false, false, false, true, false,
					false, true, true, false, false, true, false };
	sqlite3_stmt *s = store_prepare(st,
		"SELECT id, receiver, kind, domain, incident, status, created_at, state, attempts,"
		" next_at, last_at, last_code, last_error, sent_at, batch FROM outbox"
		" WHERE (?1 IS NULL OR domain = ?1) AND (?2 IS NULL OR state = ?2)"
		" ORDER BY created_at DESC, id LIMIT ?3", "outbox");
	json_t *arr;
	int r;

	*out = NULL;
	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, domain);
	store_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	arr = json_array();
	while ((r = store_step_row(st, s, "outbox")) == 1) {
		json_t *o = json_object();

		for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
			json_object_set_new(o, names[i], store_col_json(s, i, is_time[i]));
		json_array_append_new(arr, o);
	}
	sqlite3_finalize(s);
	if (r < 0) {
		json_decref(arr);
		return STORE_ERROR;
	}
	*out = arr;
	return 0;
}

int store_silence_add(struct store *st, const char *domain, const char *code, time_t until,
		      const char *reason, time_t now, int64_t *id)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO silences(domain, code, reason, created_at,"
					" until) VALUES (?,?,?,?,?)", "silence");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	store_bind_text(s, 2, code);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, until);
	rc = store_step_write(st, s, "silence");
	sqlite3_finalize(s);
	if (rc == 0 && id)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

int store_silence_end(struct store *st, const char *domain, const char *code, time_t now,
		      size_t *ended)
{
	sqlite3_stmt *s = store_prepare(st, "UPDATE silences SET ended_at = ?3, until = ?3"
					" WHERE domain = ?1 AND (?2 IS NULL OR code = ?2)"
					" AND ended_at IS NULL AND until > ?3", "silence");
	int rc;

	*ended = 0;
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	store_bind_text(s, 2, code);
	sqlite3_bind_int64(s, 3, now);
	rc = store_step_write(st, s, "silence");
	sqlite3_finalize(s);
	if (rc == 0)
		*ended = (size_t)sqlite3_changes(st->db);
	return rc;
}

int store_silences_active(struct store *st, const char *domain, time_t now,
			  struct store_silence **v, size_t *n)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT id, domain, code, reason, created_at, until"
					" FROM silences WHERE (?1 IS NULL OR domain = ?1)"
					" AND until > ?2 AND ended_at IS NULL ORDER BY domain, until",
					"silence");
	int r;

	*v = NULL;
	*n = 0;
	if (!s)
		return STORE_ERROR;
	store_bind_text(s, 1, domain);
	sqlite3_bind_int64(s, 2, now);
	while ((r = store_step_row(st, s, "silence")) == 1) {
		struct store_silence *x;

		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		x = &(*v)[(*n)++];
		memset(x, 0, sizeof(*x));
		x->id = sqlite3_column_int64(s, 0);
		strlcpy_s(x->domain, store_col_text(s, 1), sizeof(x->domain));
		strlcpy_s(x->code, store_col_text(s, 2), sizeof(x->code));
		strlcpy_s(x->reason, store_col_text(s, 3), sizeof(x->reason));
		x->created_at = (time_t)sqlite3_column_int64(s, 4);
		x->until = (time_t)sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	if (r < 0) {
		free(*v);
		*v = NULL;
		*n = 0;
		return STORE_ERROR;
	}
	return 0;
}

int store_receiver_get(struct store *st, const char *name, time_t *disabled_at, char *reason,
		       size_t reason_len, time_t *last_digest)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT disabled_at, disabled_reason, last_digest_at"
					" FROM receiver_state WHERE name = ?", "receiver");
	int r;

	*disabled_at = 0;
	*last_digest = 0;
	if (reason_len)
		reason[0] = '\0';
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "receiver");
	if (r == 1) {
		*disabled_at = (time_t)sqlite3_column_int64(s, 0);
		if (reason_len)
			strlcpy_s(reason, store_col_text(s, 1), reason_len);
		*last_digest = (time_t)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_receiver_disable(struct store *st, const char *name, const char *reason, time_t now)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO receiver_state(name, disabled_at,"
					" disabled_reason) VALUES (?1, ?2, ?3) ON CONFLICT(name)"
					" DO UPDATE SET disabled_at = excluded.disabled_at,"
					" disabled_reason = excluded.disabled_reason", "receiver");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (reason) {
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	}
	rc = store_step_write(st, s, "receiver");
	sqlite3_finalize(s);
	return rc;
}

int store_receiver_digested(struct store *st, const char *name, time_t at)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO receiver_state(name, last_digest_at)"
					" VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET"
					" last_digest_at = excluded.last_digest_at", "receiver");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, at);
	rc = store_step_write(st, s, "receiver");
	sqlite3_finalize(s);
	return rc;
}

int store_meta_get(struct store *st, const char *key, char *out, size_t len, bool *found)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT value FROM meta WHERE key = ?", "meta");
	int r;

	*found = false;
	if (len)
		out[0] = '\0';
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "meta");
	if (r == 1) {
		*found = true;
		if (len)
			strlcpy_s(out, store_col_text(s, 0), len);
	}
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_meta_set(struct store *st, const char *key, const char *value, time_t now)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO meta(key, value, updated_at) VALUES"
					" (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET"
					" value = excluded.value, updated_at = excluded.updated_at",
					"meta");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = store_step_write(st, s, "meta");
	sqlite3_finalize(s);
	return rc;
}

int store_each_domain(struct store *st, int (*fn)(void *arg, const struct store_domain_row *r),
		      void *arg)
{
	sqlite3_stmt *s = store_prepare(st,
		"SELECT d.domain, d.status, d.mode, d.fails_at, d.last_checked,"
		" (SELECT max_age FROM policy_versions p WHERE p.domain = d.domain AND"
		"  p.replaced_at IS NULL ORDER BY last_seen DESC LIMIT 1)"
		" FROM domains d ORDER BY d.domain", "metrics");
	int r;

	if (!s)
		return STORE_ERROR;
	while ((r = store_step_row(st, s, "metrics")) == 1) {
		struct store_domain_row row;

		row.domain = store_col_text(s, 0);
		row.status = store_col_text(s, 1);
		row.mode = sqlite3_column_type(s, 2) == SQLITE_NULL ? NULL : store_col_text(s, 2);
		row.fails_at = (time_t)sqlite3_column_int64(s, 3);
		row.last_checked = (time_t)sqlite3_column_int64(s, 4);
		row.max_age = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 :
			      (long)sqlite3_column_int64(s, 5);
		if (fn(arg, &row))
			break;
	}
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_each_mx_expiry(struct store *st,
			 int (*fn)(void *arg, const char *domain, const char *host, time_t not_after),
			 void *arg)
{
	/* MX subjects are "host[ip]"; the policy host's has no '[' */
	sqlite3_stmt *s = store_prepare(st,
		"SELECT c.domain, substr(c.subject, 1, instr(c.subject, '[') - 1) AS host,"
		" min(c.not_after) FROM certs c JOIN domains d ON d.domain = c.domain"
		" AND c.last_seen = d.last_checked WHERE instr(c.subject, '[') > 0"
		" AND c.not_after IS NOT NULL GROUP BY c.domain, host ORDER BY c.domain, host",
		"metrics");
	int r;

	if (!s)
		return STORE_ERROR;
	while ((r = store_step_row(st, s, "metrics")) == 1)
		if (fn(arg, store_col_text(s, 0), store_col_text(s, 1),
		       (time_t)sqlite3_column_int64(s, 2)))
			break;
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_each_alert_state(struct store *st,
			   int (*fn)(void *arg, const char *domain, const char *json), void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT domain, state FROM alert_state ORDER BY domain",
					"alert state");
	int r;

	if (!s)
		return STORE_ERROR;
	while ((r = store_step_row(st, s, "alert state")) == 1)
		if (fn(arg, store_col_text(s, 0), store_col_text(s, 1)))
			break;
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_schedule_get(struct store *st, const char *domain, time_t *next_due,
		       unsigned *retries)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT next_due, retries FROM schedule WHERE domain = ?",
					"schedule");
	int r;

	*next_due = 0;
	*retries = 0;
	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	r = store_step_row(st, s, "schedule");
	if (r == 1) {
		*next_due = (time_t)sqlite3_column_int64(s, 0);
		*retries = (unsigned)sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	return r < 0 ? STORE_ERROR : 0;
}

int store_schedule_put(struct store *st, const char *domain, time_t next_due, unsigned retries,
		       time_t now)
{
	sqlite3_stmt *s = store_prepare(st, "INSERT INTO schedule(domain, next_due, retries,"
					" updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(domain) DO"
					" UPDATE SET next_due = excluded.next_due, retries ="
					" excluded.retries, updated_at = excluded.updated_at",
					"schedule");
	int rc;

	if (!s)
		return STORE_ERROR;
	sqlite3_bind_text(s, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, next_due);
	sqlite3_bind_int(s, 3, (int)retries);
	sqlite3_bind_int64(s, 4, now);
	rc = store_step_write(st, s, "schedule");
	sqlite3_finalize(s);
	return rc;
}

int store_checkpoint(struct store *st)
{
	int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_explain(st, rc, "checkpoint");
}
