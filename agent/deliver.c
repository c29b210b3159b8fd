/*
 * deliver: the outbox delivered on the event loop: due notifications to their receivers
 * through libcurl multi, several at once, at least once with a stable id, retried as
 * alerts/outbox.c says; email rows of one receiver go out as one message; Alertmanager's
 * firing alerts are re-sent before they go stale.
 *
 * A row stays "pending" while its request is in flight and becomes "sent" only after the
 * receiver's 2xx (or the SMTP server's 250 to the end of DATA) has been written back: a
 * kill -9 at any moment re-sends at most the requests that were in flight, with the same
 * id, which is what lets a receiver drop a duplicate.
 */
#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alerting.h"
#include "alerts/channel.h"
#include "alerts/outbox.h"
#include "lib/dynbuf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#ifndef STSWATCH_VERSION
#define STSWATCH_VERSION "dev"
#endif
#define USER_AGENT "stswatch/" STSWATCH_VERSION " (MTA-STS monitor)"

#define MAX_IN_FLIGHT 16	/* requests at once, over every receiver */
#define BATCH_MAX 200		/* notifications in one email */
#define RESPONSE_KEEP 400	/* bytes of a response body kept for the error text */
#define SCAN_ROWS 64		/* due rows looked at per scan */
#define AM_CHUNK 500		/* alerts per Alertmanager POST */

struct request {
	struct deliver *d;
	struct request *prev, *next;
	CURL *easy;
	struct curl_slist *headers, *rcpt;
	struct channel_request req;
	struct store_outbox_row row;	/* a copy; row.data is ours */
	enum { REQ_ROW, REQ_AM_SYNC, REQ_TEST } what;	/* an outbox row, a re-send, a test */
	size_t upload_off;
	char errbuf[CURL_ERROR_SIZE];
	char retry_after[64];
	struct dynbuf resp;
};

struct deliver {
	struct loop *lp;
	struct curlm *cm;
	struct store *st;
	const struct config *cfg;
	struct loop_timer *timer;
	struct request *reqs;
	unsigned n;
	bool stopped;
	bool scanning;
	struct deliver_stats stats;
	/* deliver_test: what the receiver answered */
	bool test_done, test_ok;
	long test_code;
	char test_error[300];
};

static void schedule(struct deliver *d, uint64_t ms);

/* ---- receivers ------------------------------------------------------------------------ */

static int ntfy_priority(const char *p)
{
	static const char *const names[] = { "min", "low", "default", "high", "urgent" };

	if (!p)
		return 0;
	if (p[0] >= '1' && p[0] <= '5' && !p[1])
		return p[0] - '0';
	for (int i = 0; i < 5; i++)
		if (strcmp(p, names[i]) == 0)
			return i + 1;
	return 0;
}

/* The channel's view of a configured receiver; every pointer is borrowed from cfg. */
static void receiver_of(const struct config *cfg, const struct receiver_conf *rc,
			struct receiver *r)
{
	int kind = channel_kind_parse(rc->type);

	memset(r, 0, sizeof(*r));
	r->name = rc->name;
	r->kind = kind < 0 ? CHANNEL_WEBHOOK : (enum channel_kind)kind;
	r->url = rc->url;
	r->secret = rc->secret;
	r->headers = rc->headers;
	r->n_headers = rc->n_headers;
	r->from = rc->from;
	r->to = rc->to;
	r->n_to = rc->n_to;
	r->username = rc->username;
	r->password = rc->password;
	r->ca_file = rc->ca_file ? rc->ca_file : cfg->ca_file;
	r->timeout = rc->timeout_ms / 1000;
	r->ntfy_priority = ntfy_priority(rc->priority);
	r->ntfy_tags = rc->tags;
	r->n_ntfy_tags = rc->n_tags;
	r->am_validity = cfg->alerts.alertmanager_resend * 4;
}

static enum alert_kind kind_parse(const char *s)
{
	for (int k = ALERT_PROBLEM; k <= ALERT_TEST; k++)
		if (strcmp(s, alert_kind_str((enum alert_kind)k)) == 0)
			return (enum alert_kind)k;
	return ALERT_NONE;
}

/* ---- one transfer ----------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct request *q = userp;
	size_t n = size * nmemb, room = RESPONSE_KEEP - q->resp.len;

	if (room)
		dynbuf_append(&q->resp, data, n < room ? n : room);
	return n;	/* the rest is read and dropped: a receiver's page is not ours to keep */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct request *q = userp;
	size_t n = size * nmemb;

	if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		size_t v = n - 12 < sizeof(q->retry_after) - 1 ? n - 12 : sizeof(q->retry_after) - 1;

		memcpy(q->retry_after, data + 12, v);
		q->retry_after[v] = '\0';
		q->retry_after[strcspn(q->retry_after, "\r\n")] = '\0';
	}
	return n;
}

static size_t on_upload(char *buf, size_t size, size_t nmemb, void *userp)
{
	struct request *q = userp;
	size_t room = size * nmemb, left = q->req.message_len - q->upload_off;
	size_t n = left < room ? left : room;

	memcpy(buf, q->req.message + q->upload_off, n);
	q->upload_off += n;
	return n;
}

static void request_free(struct request *q)
{
	struct deliver *d = q->d;

	if (q->prev)
		q->prev->next = q->next;
	else if (d->reqs == q)
		d->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	d->n--;
	if (q->easy) {
		curlm_cancel(d->cm, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->headers);
	curl_slist_free_all(q->rcpt);
	channel_request_free(&q->req);
	free(q->row.data);
	dynbuf_free(&q->resp);
	free(q);
}

/* Write an attempt's outcome back to the row (nothing for an Alertmanager re-send). */
static void finish_row(struct deliver *d, struct request *q, enum outbox_result res, long code,
		       const char *error, time_t now)
{
	struct store_outbox_row *r = &q->row;
	long after = outbox_retry_after(q->retry_after[0] ? q->retry_after : NULL, now);

	r->attempts++;
	r->last_at = now;
	r->last_code = code;
	strlcpy_s(r->last_error, error ? error : "", sizeof(r->last_error));
	switch (res) {
	case OUTBOX_SENT:
		strlcpy_s(r->state, "sent", sizeof(r->state));
		r->sent_at = now;
		d->stats.sent++;
		log_info("%s %s%s%s sent to %s (%s%ld)", r->kind, r->domain, r->domain[0] ? " " : "",
			 r->id, r->receiver, q->req.kind == CHANNEL_EMAIL ? "SMTP " : "HTTP ", code);
		break;
	case OUTBOX_RETRY:
		r->next_at = outbox_next_attempt(r->id, r->attempts, now, after);
		d->stats.retried++;
		log_warning("%s %s for %s: attempt %u failed (%s); next try %s", r->kind, r->id,
			    r->receiver, r->attempts, r->last_error,
			    time_rfc3339(r->next_at, (char[32]){ 0 }, 32));
		break;
	case OUTBOX_DISABLED:
		strlcpy_s(r->state, "disabled", sizeof(r->state));
		d->stats.disabled++;
		if (store_receiver_disable(d->st, r->receiver, "HTTP 410 Gone: the receiver says "
					   "it is gone", now) < 0)
			log_error("%s", store_error(d->st));
		log_error("receiver %s answered 410 Gone: it is disabled, nothing more is sent to it "
			  "until it is configured anew (stswatch alerts shows the rows)", r->receiver);
		break;
	case OUTBOX_FAILED:
		strlcpy_s(r->state, "failed", sizeof(r->state));
		d->stats.failed++;
		log_error("%s %s for %s failed for good: %s", r->kind, r->id, r->receiver,
			  r->last_error);
		break;
	}
	if (store_outbox_update(d->st, r) < 0)
		log_error("%s (the attempt's outcome was not written; the row stays as it was)",
			  store_error(d->st));
}

static bool permanent_transport(CURLcode rc)
{
	switch (rc) {
	case CURLE_USE_SSL_FAILED:	/* STARTTLS required and not offered */
	case CURLE_LOGIN_DENIED:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_NOT_BUILT_IN:
	case CURLE_REMOTE_ACCESS_DENIED:
		return true;
	default:
		return false;
	}
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct request *q = arg;
	struct deliver *d = q->d;
	bool smtp = q->req.kind == CHANNEL_EMAIL;
	time_t now = loop_wall(d->lp);
	char error[300] = "", body[RESPONSE_KEEP + 1];
	long code = 0;
	enum outbox_result res;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	res = outbox_classify(smtp, rc == CURLE_OK, permanent_transport(rc), code);
	printable_copy(body, sizeof(body), q->resp.buf ? q->resp.buf : "", q->resp.len);
	if (rc == CURLE_USE_SSL_FAILED)
		bsnprintf(error, sizeof(error), "%s does not offer STARTTLS: stswatch never sends "
			  "alert mail in clear text (enable STARTTLS there, or use smtps://)",
			  q->req.url);
	else if (rc != CURLE_OK)
		bsnprintf(error, sizeof(error), "%s%s%s", curl_easy_strerror(rc),
			  q->errbuf[0] ? ": " : "", q->errbuf);
	else if (res != OUTBOX_SENT)
		bsnprintf(error, sizeof(error), "%s %ld%s%.200s", smtp ? "SMTP" : "HTTP", code,
			  body[0] ? ": " : "", body);
	sanitize_printable(error);
	q->easy = NULL;	/* curlm is done with it */
	curl_easy_cleanup(easy);
	if (q->what == REQ_AM_SYNC) {
		if (res != OUTBOX_SENT)
			log_warning("Alertmanager %s: re-sending the firing alerts failed (%s); the "
				    "next sync tries again", q->row.receiver, error);
	} else if (q->what == REQ_TEST) {
		d->test_done = true;
		d->test_ok = res == OUTBOX_SENT;
		d->test_code = code;
		strlcpy_s(d->test_error, error, sizeof(d->test_error));
	} else {
		finish_row(d, q, res, code, res == OUTBOX_SENT ? NULL : error, now);
	}
	request_free(q);
	if (d->st)
		schedule(d, 0);
}

static int start(struct deliver *d, struct request *q, const struct receiver *r,
		 const char *proxy)
{
	CURL *e = curl_easy_init();

	if (!e)
		return -1;
	q->easy = e;
	dynbuf_init(&q->resp, RESPONSE_KEEP);
	curl_easy_setopt(e, CURLOPT_URL, q->req.url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 (long)(r->timeout ? r->timeout : CHANNEL_TIMEOUT_DEFAULT) * 1000L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	/* a proxy only when the receiver names one: never from https_proxy and the like */
	curl_easy_setopt(e, CURLOPT_PROXY, proxy ? proxy : "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
	if (q->req.kind == CHANNEL_EMAIL) {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		/* STARTTLS is required, never "try": without it the mail is not sent */
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, q->req.mail_from);
		for (size_t i = 0; i < q->req.n_rcpt; i++)
			q->rcpt = curl_slist_append(q->rcpt, q->req.rcpt[i]);
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, q->rcpt);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(e, CURLOPT_READDATA, q);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->req.message_len);
		if (r->username) {
			curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
			curl_easy_setopt(e, CURLOPT_PASSWORD, r->password ? r->password : "");
		}
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
		for (size_t i = 0; i < q->req.n_headers; i++)
			q->headers = curl_slist_append(q->headers, q->req.headers[i]);
		q->headers = curl_slist_append(q->headers, "Expect:");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->headers);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->req.body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->req.body_len);
	}
	return curlm_add(d->cm, e, on_done, q);
}

static struct request *request_new(struct deliver *d)
{
	struct request *q = xcalloc(1, sizeof(*q));

	q->d = d;
	q->next = d->reqs;
	if (d->reqs)
		d->reqs->prev = q;
	d->reqs = q;
	d->n++;
	return q;
}

/* ---- rows -------------------------------------------------------------------------------- */

static void mark(struct deliver *d, struct store_outbox_row *r, const char *state,
		 const char *why, time_t now)
{
	strlcpy_s(r->state, state, sizeof(r->state));
	strlcpy_s(r->last_error, why, sizeof(r->last_error));
	r->last_at = now;
	if (store_outbox_update(d->st, r) < 0)
		log_error("%s", store_error(d->st));
}

static bool receiver_busy(const struct deliver *d, const char *name)
{
	for (const struct request *q = d->reqs; q; q = q->next)
		if (q->what == REQ_ROW && strcmp(q->row.receiver, name) == 0)
			return true;
	return false;
}

/*
 * Email: every due row of the receiver goes out as one message, a new row of kind
 * "batch" whose data lists them; the members point at it. Made in one transaction, so a
 * crash leaves either the members pending or the batch pending, never both.
 */
static int make_batch(struct deliver *d, struct store_outbox_row *row, time_t now)
{
	struct store_outbox_row *rows = NULL, batch;
	size_t n = 0;
	json_t *items;
	char *text;
	int rc = -1;

	if (store_outbox_due(d->st, row->receiver, now, BATCH_MAX, &rows, &n) < 0)
		return -1;
	if (n < 2) {
		store_outbox_rows_free(rows, n);
		return 0;	/* alone: it goes as it is */
	}
	items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_object();

		json_object_set_new(it, "id", json_string(rows[i].id));
		json_object_set_new(it, "kind", json_string(rows[i].kind));
		json_object_set_new(it, "data", json_string(rows[i].data));
		json_array_append_new(items, it);
	}
	{
		json_t *o = json_object();

		json_object_set_new(o, "items", items);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	memset(&batch, 0, sizeof(batch));
	alerting_new_id(batch.id);
	strlcpy_s(batch.receiver, row->receiver, sizeof(batch.receiver));
	strlcpy_s(batch.kind, "batch", sizeof(batch.kind));
	batch.created_at = now;
	batch.next_at = now;
	batch.data = text;
	if (store_begin(d->st) < 0)
		goto out;
	if (store_outbox_add(d->st, &batch) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		strlcpy_s(rows[i].state, "batched", sizeof(rows[i].state));
		strlcpy_s(rows[i].batch, batch.id, sizeof(rows[i].batch));
		if (store_outbox_update(d->st, &rows[i]) < 0)
			goto fail;
	}
	if (store_commit(d->st) < 0)
		goto out;
	free(row->data);
	*row = batch;
	row->data = text;
	text = NULL;
	rc = 1;
	goto out;
fail:
	store_rollback(d->st);
out:
	if (rc < 0)
		log_error("%s: cannot batch the mail: %s", row->receiver, store_error(d->st));
	free(text);
	store_outbox_rows_free(rows, n);
	return rc;
}

/* The items of a row: itself, or the members a batch row lists. */
static size_t row_items(const struct store_outbox_row *r, json_t **hold, struct channel_item *v,
			size_t max)
{
	json_t *j, *items;
	size_t n = 0;

	*hold = NULL;
	if (strcmp(r->kind, "batch") != 0) {
		v[0].id = r->id;
		v[0].kind = kind_parse(r->kind);
		v[0].data = r->data;
		return 1;
	}
	j = json_loads(r->data, 0, NULL);
	items = json_object_get(j, "items");
	for (size_t i = 0; i < json_array_size(items) && n < max; i++) {
		json_t *it = json_array_get(items, i);

		v[n].id = json_string_value(json_object_get(it, "id"));
		v[n].kind = kind_parse(json_string_value(json_object_get(it, "kind")) ?
				       json_string_value(json_object_get(it, "kind")) : "");
		v[n].data = json_string_value(json_object_get(it, "data"));
		if (v[n].id && v[n].data)
			n++;
	}
	*hold = j;
	return n;
}

/* One due row: to its receiver, or to its end (expired, receiver gone or disabled). */
static void send_row(struct deliver *d, struct store_outbox_row *row, time_t now)
{
	const struct receiver_conf *rc = config_find_receiver(d->cfg, row->receiver);
	struct channel_item items[BATCH_MAX];
	struct channel_msg msg;
	struct receiver r;
	struct request *q;
	time_t disabled = 0, digest = 0;
	char why[300] = "";
	json_t *hold = NULL;
	int built;

	if (!rc) {
		mark(d, row, "failed", "the receiver is no longer in the configuration", now);
		log_error("%s %s: receiver %s is no longer configured: not sent", row->kind, row->id,
			  row->receiver);
		return;
	}
	if (outbox_expired(row->created_at, now, d->cfg->alerts.max_pending)) {
		mark(d, row, "expired", "pending for longer than alerts.max_pending", now);
		d->stats.expired++;
		log_error("%s %s for %s expired after %u s pending (last error: %s): it will not "
			  "be sent", row->kind, row->id, row->receiver, d->cfg->alerts.max_pending,
			  row->last_error[0] ? row->last_error : "none");
		return;
	}
	if (store_receiver_get(d->st, rc->name, &disabled, why, sizeof(why), &digest) < 0) {
		log_error("%s", store_error(d->st));
		return;
	}
	if (disabled) {
		mark(d, row, "disabled", why, now);
		d->stats.disabled++;
		return;
	}
	if (strcmp(rc->type, "email") == 0 && strcmp(row->kind, "batch") != 0 &&
	    make_batch(d, row, now) < 0)
		return;
	receiver_of(d->cfg, rc, &r);
	memset(&msg, 0, sizeof(msg));
	msg.id = row->id;
	msg.created_at = row->created_at;
	msg.items = items;
	msg.n = row_items(row, &hold, items, BATCH_MAX);
	msg.kind = msg.n ? items[0].kind : ALERT_NONE;
	q = request_new(d);
	q->row = *row;
	row->data = NULL;	/* the request owns it now */
	built = msg.n ? channel_build(&r, &msg, now, &q->req, why, sizeof(why)) : -1;
	json_decref(hold);
	if (built != 0) {
		if (built > 0)
			mark(d, &q->row, "sent", "nothing to send to this kind of receiver", now);
		else
			mark(d, &q->row, "failed", msg.n ? why : "no notification in the batch", now);
		if (built < 0)
			log_error("%s %s for %s cannot be built: %s", q->row.kind, q->row.id,
				  q->row.receiver, why);
		request_free(q);
		return;
	}
	if (start(d, q, &r, rc->proxy) < 0) {
		log_error("%s %s for %s: libcurl refused the transfer", q->row.kind, q->row.id,
			  q->row.receiver);
		request_free(q);
	}
}

static void scan(struct deliver *d)
{
	struct store_outbox_row *rows = NULL;
	time_t now = loop_wall(d->lp), next = 0;
	size_t n = 0;

	if (d->stopped || d->scanning)
		return;
	d->scanning = true;
	if (d->n < MAX_IN_FLIGHT &&
	    store_outbox_due(d->st, NULL, now, SCAN_ROWS, &rows, &n) < 0)
		log_error("%s", store_error(d->st));
	for (size_t i = 0; i < n && d->n < MAX_IN_FLIGHT; i++) {
		/* one message at a time per receiver: an email batch gathers the rest */
		if (receiver_busy(d, rows[i].receiver))
			continue;
		send_row(d, &rows[i], now);
	}
	store_outbox_rows_free(rows, n);
	d->scanning = false;
	if (store_outbox_next(d->st, &next) < 0)
		next = now + 60;
	/* look again when the next row is due (a minute at most, for expiries) */
	if (!d->n)
		schedule(d, next && next > now ? (uint64_t)(next - now < 60 ? next - now : 60) * 1000 :
			 next ? 1000 : 60000);
}

static void on_timer(void *arg)
{
	struct deliver *d = arg;

	d->timer = NULL;
	scan(d);
}

static void schedule(struct deliver *d, uint64_t ms)
{
	if (d->stopped)
		return;
	loop_timer_cancel(d->lp, d->timer);
	d->timer = loop_timer_add(d->lp, ms, on_timer, d);
}

/* ---- Alertmanager: the firing alerts, re-sent ------------------------------------------- */

static size_t firing(const json_t *data)
{
	size_t n = json_array_size(json_object_get(data, "findings"));

	return n ? n : 1;
}

/* One POST of the firing alerts of the domains off .. off + n - 1 of all (n >= 1). */
static void resend_post(struct deliver *d, const struct receiver_conf *rc,
			const struct receiver *r, const json_t *all, size_t off, size_t n,
			time_t now)
{
	struct request *q = request_new(d);
	char **texts = xcalloc(n, sizeof(*texts)), why[200] = "";
	int built;

	q->what = REQ_AM_SYNC;
	strlcpy_s(q->row.receiver, rc->name, sizeof(q->row.receiver));
	for (size_t i = 0; i < n; i++)
		texts[i] = json_dumps(json_array_get(all, off + i),
				      JSON_COMPACT | JSON_ENSURE_ASCII);
	built = channel_alertmanager_resend(r, (const char *const *)texts, n, now, &q->req, why,
					    sizeof(why));
	if (built == 0 && start(d, q, r, rc->proxy) == 0)
		goto out;	/* on its way; on_done ends it */
	if (built <= 0)
		log_warning("Alertmanager %s: cannot re-send the firing alerts: %s", rc->name,
			    built < 0 ? why : "libcurl refused the transfer");
	request_free(q);
out:
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

void deliver_alertmanager_sync(struct deliver *d)
{
	time_t now = loop_wall(d->lp);

	for (size_t ri = 0; !d->stopped && ri < d->cfg->n_receivers; ri++) {
		const struct receiver_conf *rc = &d->cfg->receivers[ri];
		json_t *all = NULL;
		size_t n, from_report = 0, off, k, alerts;
		struct receiver r;

		if (strcmp(rc->type, "alertmanager") != 0)
			continue;
		/* what each domain's last check kept of what receivers were told, words and all,
		 * so a re-send carries the annotations of the notification (Alertmanager keeps
		 * those of the latest post) */
		if (alerting_resend_collect(d->cfg, d->st, ri, &all, &from_report) < 0) {
			log_error("Alertmanager %s: cannot re-send the firing alerts: %s", rc->name,
				  store_error(d->st));
			continue;
		}
		if (from_report)
			log_info("Alertmanager %s: the alert state of %zu domain%s predates the "
				 "re-send's words: they are taken from the last check until the next",
				 rc->name, from_report, from_report == 1 ? "" : "s");
		receiver_of(d->cfg, rc, &r);
		n = json_array_size(all);
		/* whole domains per POST, AM_CHUNK alerts at most (a bigger domain goes alone) */
		for (off = 0; off < n; off += k) {
			for (k = 0, alerts = 0; off + k < n; k++) {
				size_t f = firing(json_array_get(all, off + k));

				if (k && alerts + f > AM_CHUNK)
					break;
				alerts += f;
			}
			resend_post(d, rc, &r, all, off, k, now);
		}
		json_decref(all);
	}
}

/* ---- the object ---------------------------------------------------------------------- */

struct deliver *deliver_new(struct loop *lp, struct curlm *cm, struct store *st,
			    const struct config *cfg)
{
	struct deliver *d = xcalloc(1, sizeof(*d));

	d->lp = lp;
	d->cm = cm;
	d->st = st;
	d->cfg = cfg;
	schedule(d, 0);
	return d;
}

void deliver_free(struct deliver *d)
{
	if (!d)
		return;
	d->stopped = true;
	loop_timer_cancel(d->lp, d->timer);
	while (d->reqs)
		request_free(d->reqs);
	free(d);
}

void deliver_kick(struct deliver *d)
{
	if (!d->n)
		schedule(d, 0);
}

void deliver_stop(struct deliver *d)
{
	d->stopped = true;
	loop_timer_cancel(d->lp, d->timer);
	d->timer = NULL;
}

unsigned deliver_in_flight(const struct deliver *d)
{
	return d->n;
}

bool deliver_idle(struct deliver *d, time_t now)
{
	time_t next = 0;

	if (d->n)
		return false;
	if (store_outbox_next(d->st, &next) < 0)
		return true;	/* cannot tell: logged by the scan; do not spin */
	return !next || next > now;
}

const struct deliver_stats *deliver_stats(const struct deliver *d)
{
	return &d->stats;
}

/* ---- stswatch alerts test ----------------------------------------------------------- */

int deliver_test(const struct config *cfg, const char *name)
{
	const struct receiver_conf *rc = config_find_receiver(cfg, name);
	struct deliver d;
	struct request *q;
	struct receiver r;
	struct channel_item item;
	struct channel_msg msg;
	struct loop *lp = NULL;
	char host[256] = "", id[33], why[300] = "", *data = NULL, *desc;
	json_t *j;
	time_t now = time(NULL);
	uint64_t until;
	int rc_ = 1;

	memset(&d, 0, sizeof(d));
	if (!rc) {
		fprintf(stderr, "stswatch alerts: \"%s\" is not a receiver of %s\n", name,
			cfg->path ? cfg->path : "the configuration");
		return 1;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		strlcpy_s(host, "this host", sizeof(host));
	j = json_pack("{s:s, s:s, s:s}", "receiver", name, "host", host, "message",
		      "test notification from stswatch: if you read this, alerts reach you");
	data = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	alerting_new_id(id);
	item.id = id;
	item.kind = ALERT_TEST;
	item.data = data;
	memset(&msg, 0, sizeof(msg));
	msg.id = id;
	msg.kind = ALERT_TEST;
	msg.created_at = now;
	msg.n = 1;
	msg.items = &item;
	receiver_of(cfg, rc, &r);
	lp = loop_new(NULL);
	d.lp = lp;
	d.cfg = cfg;
	d.cm = lp ? curlm_new(lp, why, sizeof(why)) : NULL;
	if (!d.cm) {
		fprintf(stderr, "stswatch alerts: cannot start libcurl: %s\n", why);
		goto out;
	}
	q = request_new(&d);
	q->what = REQ_TEST;
	strlcpy_s(q->row.receiver, name, sizeof(q->row.receiver));
	if (channel_build(&r, &msg, now, &q->req, why, sizeof(why)) != 0) {
		fprintf(stderr, "stswatch alerts: %s: cannot build the test message: %s\n", name,
			why[0] ? why : "nothing to send");
		request_free(q);
		goto out;
	}
	desc = channel_request_describe(&q->req);
	printf("sending a test notification (id %s) to %s (%s):\n%s\n", id, name, rc->type,
	       desc ? desc : "");
	free(desc);
	if (start(&d, q, &r, rc->proxy) < 0) {
		fprintf(stderr, "stswatch alerts: libcurl refused the transfer\n");
		request_free(q);
		goto out;
	}
	until = loop_now(lp) + (uint64_t)(r.timeout ? r.timeout : CHANNEL_TIMEOUT_DEFAULT) * 1000 +
		5000;
	while (!d.test_done && loop_now(lp) < until)
		if (loop_run_once(lp, 1000) < 0)
			break;
	if (!d.test_done) {
		fprintf(stderr, "stswatch alerts: %s did not answer in time\n", name);
		goto out;
	}
	if (d.test_ok)
		printf("%s took it: %s %ld\n", name, r.kind == CHANNEL_EMAIL ? "SMTP" : "HTTP",
		       d.test_code);
	else
		printf("%s refused it: %s\n", name, d.test_error);
	rc_ = d.test_ok ? 0 : 1;
out:
	while (d.reqs)
		request_free(d.reqs);
	if (d.cm)
		curlm_free(d.cm);
	loop_free(lp);
	free(data);
	return rc_;
}
