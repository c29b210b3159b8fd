/*
 * alertmanager: stswatch as an Alertmanager client. POST <url>/api/v2/alerts with a JSON
 * array of postableAlert (api/v2/openapi.yaml of prometheus/alertmanager: "labels" is
 * required, a labelSet of strings; "annotations" a labelSet; "startsAt", "endsAt" date-time;
 * "generatorURL" a uri), Content-Type application/json (docs/alerts_api.md).
 *
 * Labels, the alert's identity in Alertmanager: alertname="MTASTS" for every finding, then
 * domain, code (the finding code), severity (critical, warning, unknown, info) and subject
 * (the host, "host[ip]" or record the finding is about). Special notifications use their
 * own alertname: "MTASTSMonitorInconclusive" (the operator's: the monitor's vantage point
 * failed) and "MTASTSTest" (lives 5 minutes). A digest has no alert (build returns 1).
 * Annotations: summary, description, fails_at, fails_reason, incident.
 *
 * Alertmanager is state-based (alerts_api.md, "Expectations from clients"): firing alerts
 * are re-sent before their endsAt (now + am_validity here) until resolved, and resolved
 * alerts are sent with endsAt in the past for a few minutes. channel_build() turns one
 * notification into alerts: its open findings fire (but those listed as "unconfirmed",
 * whose problem receivers were not told of yet), its resolved findings end. The caller
 * re-sends with channel_alertmanager_resend(), from data it kept of what it told, through
 * the same code as the notification it repeats, so a re-send never strips the annotations
 * Alertmanager keeps from the latest post (channel_alertmanager_build() takes ready alerts).
 *
 * The severity is a label, so a finding that changes severity is a new alert there. An
 * escalated notification therefore also ends the same finding at the other severities,
 * and a resolved finding whose severity the data does not give is ended at each of
 * warning, critical and unknown (Alertmanager does not notify the end of an alert it never
 * notified as firing). A severity that drops without a notification lets the old alert
 * expire at its endsAt.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"
#include "message.h"

#define AM_ALERTS_MAX 1000
#define AM_DESCRIPTION_MAX 4000
#define AM_SUMMARY_MAX 300
#define AM_LABEL_MAX 300
#define AM_TEST_LIFE 300

static const char *sev_label(enum alert_status s)
{
	switch (s) {
	case ALERT_CRITICAL:
		return "critical";
	case ALERT_WARNING:
		return "warning";
	case ALERT_UNKNOWN:
		return "unknown";
	case ALERT_OK:
		break;
	}
	return "info";
}

static json_t *clean_str(const char *s, size_t max)
{
	char *c = chan_text_cut(s, max);
	json_t *j;

	chan_text_flatten(c);
	j = json_string(c);
	free(c);
	return j ? j : json_string("?");
}

static void set_time(json_t *o, const char *key, time_t t)
{
	char buf[32];

	json_object_set_new(o, key, json_string(time_rfc3339(t, buf, sizeof(buf))));
}

static json_t *alert_json(const struct receiver *r, const struct am_alert *a, time_t now)
{
	json_t *o = json_object(), *labels = json_object(), *ann = json_object();
	unsigned validity = r->am_validity ? r->am_validity : CHANNEL_AM_VALIDITY_DEFAULT;
	time_t ends;

	json_object_set_new(labels, "alertname",
			    clean_str(a->alertname ? a->alertname : "MTASTS", AM_LABEL_MAX));
	if (a->domain && a->domain[0])
		json_object_set_new(labels, "domain", clean_str(a->domain, AM_LABEL_MAX));
	if (a->code && a->code[0])
		json_object_set_new(labels, "code", clean_str(a->code, AM_LABEL_MAX));
	json_object_set_new(labels, "severity", json_string(sev_label(a->sev)));
	if (a->subject && a->subject[0])
		json_object_set_new(labels, "subject", clean_str(a->subject, AM_LABEL_MAX));
	json_object_set_new(o, "labels", labels);

	if (a->summary)
		json_object_set_new(ann, "summary", clean_str(a->summary, AM_SUMMARY_MAX));
	if (a->description) {
		char *d = chan_text_cut(a->description, AM_DESCRIPTION_MAX);

		json_object_set_new(ann, "description", json_string(d));
		free(d);
	}
	if (a->fails_at)
		set_time(ann, "fails_at", a->fails_at);
	if (a->fails_reason)
		json_object_set_new(ann, "fails_reason", clean_str(a->fails_reason, AM_LABEL_MAX));
	if (a->incident && a->incident[0])
		json_object_set_new(ann, "incident", clean_str(a->incident, 64));
	json_object_set_new(o, "annotations", ann);

	if (a->starts_at)
		set_time(o, "startsAt", a->starts_at > now ? now : a->starts_at);
	ends = a->ends_at ? a->ends_at : a->resolved ? now : now + (time_t)validity;
	set_time(o, "endsAt", ends);
	if (r->generator_url)
		json_object_set_new(o, "generatorURL", json_string(r->generator_url));
	return o;
}

int channel_alertmanager_build(const struct receiver *r, const struct am_alert *v, size_t n,
			       time_t now, struct channel_request *out, char *err,
			       size_t errlen)
{
	json_t *arr;
	char *dumped, *url;
	size_t ul;

	memset(out, 0, sizeof(*out));
	if (channel_receiver_check(r, err, errlen) < 0)
		return -1;
	if (r->kind != CHANNEL_ALERTMANAGER) {
		bsnprintf(err, errlen, "receiver %s: not an alertmanager receiver", r->name);
		return -1;
	}
	if (n == 0 || n > AM_ALERTS_MAX) {
		bsnprintf(err, errlen, "receiver %s: %zu alerts in one POST (1 to %d)", r->name, n,
			  AM_ALERTS_MAX);
		return -1;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, alert_json(r, &v[i], now));
	dumped = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!dumped) {
		bsnprintf(err, errlen, "receiver %s: the alerts could not be written", r->name);
		return -1;
	}
	ul = strlen(r->url);
	while (ul && r->url[ul - 1] == '/')
		ul--;
	url = xasprintf("%.*s/api/v2/alerts", (int)ul, r->url);
	chan_req_post(out, CHANNEL_ALERTMANAGER, url, xstrdup(dumped), "application/json");
	free(url);
	free(dumped);
	if (r->secret)
		chan_req_header(out, "Authorization: Bearer %s", r->secret);
	chan_req_extra_headers(out, r);
	return 0;
}

/* ---- from a notification ------------------------------------------------------------ */

struct am_list {
	struct am_alert *v;
	size_t n;
	char **owned;		/* strings the alerts point to */
	size_t n_owned;
};

static const char *own(struct am_list *l, char *s)
{
	l->owned = xrealloc(l->owned, (l->n_owned + 1) * sizeof(*l->owned));
	l->owned[l->n_owned++] = s;
	return s;
}

static struct am_alert *add(struct am_list *l)
{
	if (l->n >= AM_ALERTS_MAX)
		return NULL;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void list_free(struct am_list *l)
{
	for (size_t i = 0; i < l->n_owned; i++)
		free(l->owned[i]);
	free(l->owned);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static time_t jtime(const json_t *o, const char *key)
{
	const char *s = chan_jstr(o, key);
	time_t t;

	return s && time_parse(s, &t) == 0 ? t : 0;
}

/* A finding's identity as the data's incident and unconfirmed lists name it: "code subject". */
static char *finding_key_of(const char *code, const char *subject)
{
	return xasprintf("%s %s", code ? code : "", subject ? subject : "");
}

/* The incident (object) whose findings name "code subject", or NULL: one of the message's
 * (incidents), else another open one (open_incidents). */
static const json_t *incident_of(const json_t *data, const char *code, const char *subject)
{
	static const char *const lists[] = { "incidents", "open_incidents" };
	const json_t *incs, *inc, *keys, *k;
	char *key = finding_key_of(code, subject);
	const json_t *hit = NULL;
	size_t i, j;

	for (size_t l = 0; l < ARRAY_LEN(lists) && !hit; l++) {
		incs = json_object_get(data, lists[l]);
		for (i = 0; i < json_array_size(incs) && (inc = json_array_get(incs, i)); i++) {
			keys = json_object_get(inc, "findings");
			if (!json_is_array(keys) || hit)
				continue;
			for (j = 0; j < json_array_size(keys) && (k = json_array_get(keys, j)); j++)
				if (json_is_string(k) && strcmp(json_string_value(k), key) == 0)
					hit = inc;
		}
	}
	free(key);
	return hit;
}

static char *finding_description(const json_t *f, const json_t *data, time_t now)
{
	static const struct {
		const char *key, *label;
	} fields[] = {
		{ "what", "What is wrong" },
		{ "evidence", "Evidence" },
		{ "consequence", "Consequence for senders" },
		{ "fix", "Fix" },
	};
	time_t fails_at = jtime(data, "fails_at");
	struct dynbuf b;
	bool any = false;
	char cd[512];

	dynbuf_init(&b, 0);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (chan_jstr(f, fields[i].key)) {
			dynbuf_printf(&b, "%s%s: ", any ? "\n" : "", fields[i].label);
			chan_text_put(&b, chan_jstr(f, fields[i].key), MESSAGE_FIELD_MAX, false);
			any = true;
		}
	if (!any && chan_jstr(f, "message")) {
		chan_text_put(&b, chan_jstr(f, "message"), 2 * MESSAGE_FIELD_MAX, false);
		any = true;
	}
	if (fails_at) {
		message_countdown(fails_at, chan_jstr(data, "fails_reason"), now, cd, sizeof(cd));
		dynbuf_printf(&b, "%s%s", any ? "\n" : "", cd);
	}
	return dynbuf_steal(&b);
}

static void add_finding(struct am_list *l, const json_t *data, const json_t *f, bool resolved,
			enum alert_status sev, const char *summary, time_t now)
{
	const char *code = chan_jstr(f, "code"), *subject = chan_jstr(f, "subject");
	const json_t *inc = incident_of(data, code, subject);
	struct am_alert *a = add(l);

	if (!a)
		return;
	a->domain = chan_jstr(data, "domain");
	a->code = code;
	a->subject = subject;
	a->sev = sev;
	a->resolved = resolved;
	a->starts_at = jtime(inc, "opened_at") ? jtime(inc, "opened_at")
					      : jtime(data, "checked_at");
	a->incident = chan_jstr(inc, "id") ? chan_jstr(inc, "id") : chan_jstr(data, "incident");
	a->summary = summary;
	if (!resolved) {
		a->fails_at = jtime(data, "fails_at");
		a->fails_reason = chan_jstr(data, "fails_reason");
		a->description = own(l, finding_description(f, data, now));
	}
}

static enum alert_status sev_parse(const char *s)
{
	return s && strcasecmp(s, "INFO") == 0 ? ALERT_OK : message_status_parse(s);
}

/*
 * The data Alertmanager is told of: without the findings the data lists as "unconfirmed"
 * (problems not told yet: confirm, a silence, flapping), so that a notification fires
 * what its re-sends between checks fire (those keep only what was told), and an
 * unconfirmed alert neither fires early nor expires before it is confirmed. A new
 * reference: the data itself when there is nothing to leave out.
 */
static json_t *told_only(json_t *data)
{
	const json_t *u = json_object_get(data, "unconfirmed");
	const json_t *fs = json_object_get(data, "findings"), *f, *k;
	json_t *copy, *kept;
	size_t i, j;

	if (!json_is_array(u) || !json_array_size(u) || !json_is_array(fs))
		return json_incref(data);
	copy = json_deep_copy(data);
	kept = json_array();
	for (i = 0; i < json_array_size(fs) && (f = json_array_get(fs, i)); i++) {
		const char *code = chan_jstr(f, "code"), *subject = chan_jstr(f, "subject");
		char *key = finding_key_of(code, subject);
		bool hit = false;

		for (j = 0; j < json_array_size(u) && !hit && (k = json_array_get(u, j)); j++)
			hit = json_is_string(k) && strcmp(json_string_value(k), key) == 0;
		free(key);
		if (!hit)
			json_array_append(kept, (json_t *)f);
	}
	json_object_set_new(copy, "findings", kept);
	return copy;
}

static void from_domain(struct am_list *l, enum alert_kind kind, const json_t *data,
			const char *summary, time_t now)
{
	static const enum alert_status all[] = { ALERT_WARNING, ALERT_CRITICAL, ALERT_UNKNOWN };
	const json_t *fs = json_object_get(data, "findings"), *res, *f;
	size_t i;

	if (json_is_array(fs))
		for (i = 0; i < json_array_size(fs) && (f = json_array_get(fs, i)); i++) {
			enum alert_status sev = sev_parse(chan_jstr(f, "severity"));

			if (!json_is_object(f) || sev == ALERT_OK)
				continue;
			add_finding(l, data, f, false, sev, summary, now);
			if (kind == ALERT_ESCALATED)
				for (size_t s = 0; s < ARRAY_LEN(all); s++)
					if (all[s] != sev)
						add_finding(l, data, f, true, all[s], summary, now);
		}
	res = json_object_get(data, "resolved");
	if (json_is_array(res))
		for (i = 0; i < json_array_size(res) && (f = json_array_get(res, i)); i++) {
			if (!json_is_object(f))
				continue;
			if (chan_jstr(f, "severity")) {
				add_finding(l, data, f, true, sev_parse(chan_jstr(f, "severity")),
					    summary, now);
				continue;
			}
			for (size_t s = 0; s < ARRAY_LEN(all); s++)
				add_finding(l, data, f, true, all[s], summary, now);
		}
}

int alertmanager_build(const struct receiver *r, const struct channel_msg *m,
		       json_t *const *data, time_t now, struct channel_request *out, char *err,
		       size_t errlen)
{
	struct am_list l = { 0 };
	struct message *msgs = xcalloc(m->n, sizeof(*msgs));
	json_t **told = xcalloc(m->n, sizeof(*told));
	char why[200];
	int rc = -1;

	for (size_t i = 0; i < m->n; i++) {
		enum alert_kind kind = m->items[i].kind;
		struct am_alert *a;

		if (kind == ALERT_DIGEST)
			continue;
		told[i] = told_only(data[i]);
		if (message_render(kind, told[i], now, &msgs[i], why, sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: notification %s: %s", r->name,
				  m->items[i].id, why);
			goto out;
		}
		if (kind == ALERT_INCONCLUSIVE || kind == ALERT_TEST) {
			char *body = message_body(&msgs[i]);

			a = add(&l);
			if (!a) {
				free(body);
				continue;
			}
			own(&l, body);
			a->alertname = kind == ALERT_TEST ? "MTASTSTest"
							  : "MTASTSMonitorInconclusive";
			a->code = kind == ALERT_TEST ? "test" : "monitor.inconclusive";
			a->subject = kind == ALERT_TEST ? chan_jstr(data[i], "receiver")
							: chan_jstr(data[i], "host");
			a->sev = kind == ALERT_TEST ? ALERT_OK : ALERT_WARNING;
			a->starts_at = kind == ALERT_TEST ? now : jtime(data[i], "since");
			a->ends_at = kind == ALERT_TEST ? now + AM_TEST_LIFE : 0;
			a->summary = msgs[i].summary;
			a->description = body;
			continue;
		}
		from_domain(&l, kind, told[i], msgs[i].summary, now);
	}
	if (l.n == 0) {
		rc = 1;		/* a digest, or nothing that is an alert */
		goto out;
	}
	rc = channel_alertmanager_build(r, l.v, l.n, now, out, err, errlen);
out:
	list_free(&l);
	for (size_t i = 0; i < m->n; i++) {
		message_free(&msgs[i]);
		json_decref(told[i]);
	}
	free(msgs);
	free(told);
	return rc;
}

/* The kind whose summary a re-send repeats: escalated or reminder as data says, else problem. */
static enum alert_kind resend_kind(const json_t *data)
{
	const char *k = chan_jstr(data, "kind");

	if (k && strcmp(k, alert_kind_str(ALERT_ESCALATED)) == 0)
		return ALERT_ESCALATED;
	if (k && strcmp(k, alert_kind_str(ALERT_REMINDER)) == 0)
		return ALERT_REMINDER;
	return ALERT_PROBLEM;
}

int channel_alertmanager_resend(const struct receiver *r, const char *const *data, size_t n,
				time_t now, struct channel_request *out, char *err, size_t errlen)
{
	struct am_list l = { 0 };
	struct message *msgs = xcalloc(n ? n : 1, sizeof(*msgs));
	json_t **d = xcalloc(n ? n : 1, sizeof(*d));
	char why[200];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		json_error_t je;

		if (data[i] && strlen(data[i]) <= CHANNEL_DATA_MAX)
			d[i] = json_loads(data[i], JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(d[i])) {
			bsnprintf(err, errlen, "receiver %s: re-send %zu: the data is not a JSON "
				  "object of at most %d bytes", r->name, i + 1, CHANNEL_DATA_MAX);
			goto out;
		}
		/* what the notification of this kind posted, word for word; only its firing
		 * alerts (an escalation's ends are not repeated) */
		if (message_render(resend_kind(d[i]), d[i], now, &msgs[i], why, sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: re-send %zu: %s", r->name, i + 1, why);
			goto out;
		}
		from_domain(&l, ALERT_PROBLEM, d[i], msgs[i].summary, now);
	}
	if (l.n == 0) {
		rc = 1;		/* nothing fires */
		goto out;
	}
	rc = channel_alertmanager_build(r, l.v, l.n, now, out, err, errlen);
out:
	list_free(&l);
	for (size_t i = 0; i < n; i++) {
		message_free(&msgs[i]);
		json_decref(d[i]);
	}
	free(msgs);
	free(d);
	return rc;
}
