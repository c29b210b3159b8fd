/* alerting: from a recorded check to the alert state machine and the outbox, in the
 * check's own transaction, so an alert is never lost nor sent for an unrecorded check. */
#include "alerting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "alerts/alert_json.h"
#include "checks/finding_class.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

void alerting_conf(const struct config *cfg, struct alert_conf *out)
{
	alert_conf_defaults(out);
	out->confirm = cfg->alerts.confirm;
	out->n_remind = cfg->alerts.n_remind;
	memcpy(out->remind_days, cfg->alerts.remind_days, sizeof(out->remind_days));
	out->repeat_interval = cfg->alerts.repeat_interval;
	out->unknown_after = cfg->alerts.unknown_after;
}

void alerting_new_id(char out[33])
{
	unsigned char raw[16];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n > 0)
			got += (size_t)n;
		else {
			/* never here in practice; time and address still make it unique enough */
			uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;

			memcpy(raw, &t, sizeof(t));
			got = sizeof(raw);
		}
	}
	hex_encode(raw, sizeof(raw), out);
}

_Static_assert((int)ALERT_OK == (int)STATUS_OK && (int)ALERT_WARNING == (int)STATUS_WARNING &&
	       (int)ALERT_CRITICAL == (int)STATUS_CRITICAL && (int)ALERT_UNKNOWN == (int)STATUS_UNKNOWN,
	       "alert and judge statuses are numbered alike");

static enum alert_status alert_sev(enum severity s)
{
	switch (s) {
	case SEV_INFO:
		return ALERT_OK;
	case SEV_WARNING:
		return ALERT_WARNING;
	case SEV_UNKNOWN:
		return ALERT_UNKNOWN;
	case SEV_CRITICAL:
		return ALERT_CRITICAL;
	}
	return ALERT_UNKNOWN;
}

static int rank(enum alert_status s)
{
	return s == ALERT_CRITICAL ? 3 : s == ALERT_UNKNOWN ? 2 : s == ALERT_WARNING ? 1 : 0;
}

static json_t *keys_json(char (*keys)[ALERT_KEY_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_str(keys[i]));
	return a;
}

static json_t *incident_json(const struct alert_incident *in, enum alert_kind event)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(in->id));
	json_object_set_new(o, "cause", json_str(in->cause));
	json_object_set_new(o, "event", json_string(alert_kind_str(event)));
	json_object_set_new(o, "severity", json_string(alert_status_str(in->sev)));
	json_object_set_new(o, "opened_at", json_time(in->opened_at));
	json_object_set_new(o, "findings", keys_json(in->keys, in->n_keys));
	return o;
}

/*
 * The other open incidents receivers were told of, those without an event in this message
 * (not in listed): each finding of the data then has its own incident, so Alertmanager's
 * alerts carry their own incident and start, as their re-sends do.
 */
static json_t *open_incidents(const struct alert_state *next, const json_t *listed)
{
	json_t *out = json_array(), *x;
	size_t j;

	for (size_t i = 0; i < next->n; i++) {
		const struct alert_incident *in = &next->v[i];
		bool seen = false;

		if (!in->open || in->told == ALERT_OK)
			continue;
		json_array_foreach(listed, j, x)
			seen |= json_is_string(json_object_get(x, "id")) &&
				strcmp(json_string_value(json_object_get(x, "id")), in->id) == 0;
		if (seen)
			continue;
		x = incident_json(in, ALERT_NONE);
		json_object_del(x, "event");
		json_array_append_new(out, x);
	}
	return out;
}

/* The notification's data (README "Alerts"): what changed, and the domain as it is now. */
static json_t *note_data(const struct domain_facts *df, const struct verdict *v, json_t *report,
			 const struct alert_state *next, const struct alert_note *note)
{
	json_t *o = json_object(), *incidents = json_array(), *findings = json_array();
	json_t *resolved = json_array(), *rf = json_object_get(report, "findings");
	json_t *unconfirmed = json_array();

	json_object_set_new(o, "domain", json_str(df->domain));
	json_object_set_new(o, "kind", json_string(alert_kind_str(note->kind)));
	json_object_set_new(o, "status", json_string(alert_status_str(note->status)));
	json_object_set_new(o, "previous_status",
			    json_string(alert_status_str(note->previous_status)));
	json_object_set_new(o, "fails_at", json_time(v->fails_at));
	json_object_set_new(o, "fails_reason", v->fails_at && v->fails_why[0] ?
			    json_str(v->fails_why) : json_null());
	json_object_set_new(o, "checked_at", json_time(df->checked_at));
	json_object_set_new(o, "mode", json_incref(json_object_get(report, "mode")));
	json_object_set_new(o, "incident", json_string(note->incident));
	json_object_set_new(o, "blind", json_boolean(note->blind));
	json_object_set_new(o, "flapping", json_boolean(next->flapping));
	for (size_t i = 0; i < note->n_events; i++) {
		const struct alert_event *e = &note->events[i];

		if (e->incident == SIZE_MAX)
			continue;
		if (e->kind == ALERT_RESOLVED)
			json_array_append_new(incidents, incident_json(&note->gone[e->incident],
								       e->kind));
		else if (e->kind != ALERT_REMINDER)
			json_array_append_new(incidents, incident_json(&next->v[e->incident], e->kind));
	}
	/* a reminder lists what is still open and was told */
	for (size_t i = 0; note->kind == ALERT_REMINDER && i < next->n; i++)
		if (next->v[i].open && next->v[i].told != ALERT_OK)
			json_array_append_new(incidents, incident_json(&next->v[i], ALERT_REMINDER));
	for (size_t i = 0; i < json_array_size(rf); i++) {
		json_t *f = json_array_get(rf, i);

		if (strcmp(json_string_value(json_object_get(f, "severity")) ? json_string_value(json_object_get(f, "severity")) : "", "INFO") != 0)
			json_array_append(findings, f);
	}
	for (size_t g = 0; g < note->n_gone; g++)
		for (size_t k = 0; k < note->gone[g].n_keys; k++) {
			const char *key = note->gone[g].keys[k], *sp = strchr(key, ' ');
			json_t *r = json_object();

			json_object_set_new(r, "code", sp ? json_stringn(key, (size_t)(sp - key)) :
					    json_str(key));
			json_object_set_new(r, "subject", json_str(sp ? sp + 1 : ""));
			json_array_append_new(resolved, r);
		}
	/* the findings of problems receivers were not told of (not confirmed yet, or held by
	 * a silence or flapping): they are among the findings, Alertmanager does not fire them */
	for (size_t i = 0; i < next->n; i++)
		for (size_t k = 0; next->v[i].open && next->v[i].told == ALERT_OK &&
				   k < next->v[i].n_keys; k++)
			json_array_append_new(unconfirmed, json_str(next->v[i].keys[k]));
	json_object_set_new(o, "incidents", incidents);
	json_object_set_new(o, "open_incidents", open_incidents(next, incidents));
	json_object_set_new(o, "findings", findings);
	json_object_set_new(o, "resolved", resolved);
	json_object_set_new(o, "unconfirmed", unconfirmed);
	return o;
}

/* ---- Alertmanager's re-send: the words of what receivers were told ----------------------- */

#define RESEND_KEY "resend"	/* the member of the stored alert state that holds them */

static int sev_rank_str(const char *s)
{
	return !s ? 0 : strcmp(s, "CRITICAL") == 0 ? 3 : strcmp(s, "UNKNOWN") == 0 ? 2 :
	       strcmp(s, "WARNING") == 0 ? 1 : 0;
}

static const char *jsev(const json_t *f)
{
	return json_string_value(json_object_get(f, "severity"));
}

/* The finding of an array whose "code subject" is key (made as alert.c makes its keys),
 * NULL when none; with skip_info, an INFO one counts as none. */
static const json_t *find_key(const json_t *findings, const char *key, bool skip_info)
{
	for (size_t i = 0; i < json_array_size(findings); i++) {
		const json_t *f = json_array_get(findings, i);
		const char *code = json_string_value(json_object_get(f, "code"));
		const char *subject = json_string_value(json_object_get(f, "subject"));
		char k[ALERT_KEY_LEN];

		if (!code)
			continue;
		bsnprintf(k, sizeof(k), "%s %s", code, subject ? subject : "");
		if (strcmp(k, key) == 0)
			return skip_info && sev_rank_str(jsev(f)) == 0 ? NULL : f;
	}
	return NULL;
}

/* The open, told incident that has key among its told findings, or NULL. */
static const struct alert_incident *told_in(const struct alert_state *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct alert_incident *in = &s->v[i];

		if (!in->open || in->told == ALERT_OK)
			continue;
		for (size_t k = 0; k < in->n_told; k++)
			if (strcmp(in->told_keys[k], key) == 0)
				return in;
	}
	return NULL;
}

/*
 * The words of one told finding (a new object). The check's (seen) when this check's
 * notification posted them, or when its severity is not above the one receivers heard of
 * (kept's, else the incident's): a drop is re-sent at once, a rise only once it is told
 * (a silence or flapping holds it). Else the words kept from before; else the check's at
 * the told severity; else, with no words anywhere, code, subject and severity.
 */
static json_t *told_words(const struct alert_incident *in, const char *key, const json_t *seen,
			  const json_t *kept, bool noted)
{
	const char *sp = strchr(key, ' ');
	json_t *w;

	if (seen && (noted || sev_rank_str(jsev(seen)) <=
		     (kept ? sev_rank_str(jsev(kept)) : rank(in->told))))
		return json_deep_copy(seen);
	if (kept)
		return json_deep_copy(kept);
	if (seen) {
		w = json_deep_copy(seen);
		json_object_set_new(w, "severity", json_string(alert_status_str(in->told)));
		return w;
	}
	w = json_object();
	json_object_set_new(w, "code", sp ? json_stringn(key, (size_t)(sp - key)) : json_str(key));
	json_object_set_new(w, "subject", json_str(sp ? sp + 1 : ""));
	json_object_set_new(w, "severity", json_string(alert_status_str(in->told)));
	return w;
}

static void copy_member(json_t *dst, const json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	json_object_set_new(dst, key, v ? json_deep_copy(v) : json_null());
}

/* status, fails_at, fails_reason, checked_at, mode: from src (a report or earlier re-send
 * data), or what the state knows when there is neither (the last check pruned). */
static void resend_domain(json_t *o, const json_t *src, const struct alert_state *s)
{
	const json_t *fa = json_object_get(src, "fails_at");

	if (!src) {
		json_object_set_new(o, "status", json_string(alert_status_str(alert_state_told(s))));
		json_object_set_new(o, "fails_at", json_time(s->fails_at));
		return;
	}
	copy_member(o, src, "status");
	copy_member(o, src, "fails_at");
	if (json_is_string(fa))
		copy_member(o, src, "fails_reason");
	else
		json_object_set_new(o, "fails_reason", json_null());
	copy_member(o, src, "checked_at");
	copy_member(o, src, "mode");
}

/* kind and previous_status, for the summary: those of the last notification that told of
 * the problem itself (a resolution of a part, flapping, blindness leave them). */
static void resend_kind(json_t *o, const struct alert_note *note, const json_t *prev)
{
	if (note && !note->blind && (note->kind == ALERT_PROBLEM ||
				     note->kind == ALERT_ESCALATED || note->kind == ALERT_REMINDER)) {
		json_object_set_new(o, "kind", json_string(alert_kind_str(note->kind)));
		json_object_set_new(o, "previous_status",
				    json_string(alert_status_str(note->previous_status)));
	} else if (json_is_string(json_object_get(prev, "kind"))) {
		copy_member(o, prev, "kind");
		copy_member(o, prev, "previous_status");
	} else {
		json_object_set_new(o, "kind", json_string(alert_kind_str(ALERT_PROBLEM)));
	}
}

/* The told findings of the open incidents with their words: in the check's order first, as
 * its notification lists them, then those it did not show. */
static json_t *resend_findings(const struct alert_state *s, const json_t *rf, const json_t *kf,
			       bool noted)
{
	json_t *out = json_array();
	const struct alert_incident *in;
	char key[ALERT_KEY_LEN];

	for (size_t i = 0; i < json_array_size(rf); i++) {
		const json_t *f = json_array_get(rf, i);
		const char *code = json_string_value(json_object_get(f, "code"));
		const char *subject = json_string_value(json_object_get(f, "subject"));

		if (!code || sev_rank_str(jsev(f)) == 0)
			continue;
		bsnprintf(key, sizeof(key), "%s %s", code, subject ? subject : "");
		if ((in = told_in(s, key)) && !find_key(out, key, false))
			json_array_append_new(out, told_words(in, key, f, find_key(kf, key, true),
							      noted));
	}
	for (size_t i = 0; i < s->n; i++) {
		in = &s->v[i];
		for (size_t k = 0; in->open && in->told != ALERT_OK && k < in->n_told; k++) {
			const char *tk = in->told_keys[k];

			if (!find_key(out, tk, false))
				json_array_append_new(out, told_words(in, tk, NULL,
								      find_key(kf, tk, true), noted));
		}
	}
	return out;
}

json_t *alerting_resend_data(const char *domain, const struct alert_state *s, const json_t *report,
			     const json_t *prev, bool could_tell, const struct alert_note *note)
{
	const struct alert_incident *main = NULL;
	bool noted = note && note->kind != ALERT_NONE;
	const char *lead;
	json_t *o, *incidents;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].open && s->v[i].told != ALERT_OK &&
		    (!main || rank(s->v[i].told) > rank(main->told)))
			main = &s->v[i];
	if (!main)
		return NULL;
	/* the summary a re-send repeats is led by the incident its notification was about:
	 * this check's, else the one the last re-send named, while it is open and told */
	lead = noted && note->incident[0] ? note->incident :
	       json_string_value(json_object_get(prev, "incident"));
	for (size_t i = 0; lead && i < s->n; i++)
		if (s->v[i].open && s->v[i].told != ALERT_OK && strcmp(s->v[i].id, lead) == 0)
			main = &s->v[i];
	o = json_object();
	json_object_set_new(o, "domain", json_str(domain));
	resend_domain(o, could_tell || !prev ? report : prev, s);
	resend_kind(o, note, prev);
	json_object_set_new(o, "incident", json_string(main->id));
	json_object_set_new(o, "blind", json_false());
	incidents = json_array();
	for (size_t i = 0; i < s->n; i++) {
		const struct alert_incident *in = &s->v[i];
		json_t *j;

		if (!in->open || in->told == ALERT_OK)
			continue;
		j = json_object();
		json_object_set_new(j, "id", json_string(in->id));
		json_object_set_new(j, "cause", json_str(in->cause));
		json_object_set_new(j, "severity", json_string(alert_status_str(in->told)));
		json_object_set_new(j, "opened_at", json_time(in->opened_at));
		json_object_set_new(j, "findings", keys_json(in->told_keys, in->n_told));
		json_array_append_new(incidents, j);
	}
	json_object_set_new(o, "incidents", incidents);
	json_object_set_new(o, "findings", resend_findings(s, json_object_get(report, "findings"),
							   json_object_get(prev, "findings"), noted));
	return o;
}

/* The least severe status a receiver is told of (its min_severity). */
static enum alert_status receiver_min(const struct receiver_conf *r)
{
	return r->min_status == STATUS_CRITICAL ? ALERT_CRITICAL :
	       r->min_status == STATUS_UNKNOWN ? ALERT_UNKNOWN : ALERT_WARNING;
}

static bool routes_to(const struct config *cfg, const struct domain_conf *d, size_t receiver)
{
	const struct route *rt = config_domain_route(cfg, d);

	for (size_t i = 0; i < rt->n; i++)
		if (rt->idx[i] == receiver)
			return true;
	return false;
}

struct resend_collect {
	const struct config *cfg;
	struct store *st;
	size_t receiver;
	json_t *out;
	size_t from_report;
	bool failed;
};

static int resend_one(void *arg, const char *domain, const char *text)
{
	struct resend_collect *c = arg;
	const struct domain_conf *dc = config_find_domain(c->cfg, domain);
	struct alert_state s;
	json_t *j, *data, *report = NULL;
	char err[128], *rtext = NULL;

	if (!dc || !routes_to(c->cfg, dc, c->receiver))
		return 0;
	j = json_loads(text, 0, NULL);
	if (!j || alert_state_from_json(j, &s, err, sizeof(err)) < 0) {
		json_decref(j);
		return 0;	/* the next check of the domain says so and starts afresh */
	}
	/* as its notifications: a receiver below whose min_severity the problem is was never
	 * told of it, and a re-send must not tell it either */
	if (rank(alert_state_told(&s)) < rank(receiver_min(&c->cfg->receivers[c->receiver])))
		goto out;
	data = json_object_get(j, RESEND_KEY);
	if (json_is_object(data)) {
		json_array_append(c->out, data);
	} else if (alert_state_told(&s) != ALERT_OK) {
		/* a state written before the words were kept: those of the last check */
		if (store_domain_report(c->st, domain, &rtext) < 0) {
			c->failed = true;
			goto out;
		}
		report = rtext ? json_loads(rtext, 0, NULL) : NULL;
		data = alerting_resend_data(domain, &s, report, NULL, true, NULL);
		if (data) {
			json_array_append_new(c->out, data);
			c->from_report++;
		}
	}
out:
	json_decref(report);
	free(rtext);
	json_decref(j);
	alert_state_free(&s);
	return c->failed;
}

int alerting_resend_collect(const struct config *cfg, struct store *st, size_t receiver,
			    json_t **out, size_t *from_report)
{
	struct resend_collect c = { .cfg = cfg, .st = st, .receiver = receiver,
				    .out = json_array() };

	*out = NULL;
	*from_report = 0;
	if (store_each_alert_state(st, resend_one, &c) < 0 || c.failed) {
		json_decref(c.out);
		return STORE_ERROR;
	}
	*out = c.out;
	*from_report = c.from_report;
	return 0;
}

/* Is a receiver told of this note: its minimum severity against now or, for a
 * resolution, what it was told before. */
static bool receiver_wants(const struct receiver_conf *r, const struct alert_note *note)
{
	enum alert_status worst = note->status, min = receiver_min(r);

	if (rank(note->previous_status) > rank(worst))
		worst = note->previous_status;
	return rank(worst) >= rank(min);
}

static int queue(const struct config *cfg, struct store *st, int64_t run_id,
		 const struct domain_conf *d, const char *data, const struct alert_note *note,
		 time_t now, unsigned batch_delay, struct alerting_result *res)
{
	const struct route *rt = config_domain_route(cfg, d);

	for (size_t i = 0; i < rt->n; i++) {
		const struct receiver_conf *r = &cfg->receivers[rt->idx[i]];
		struct store_outbox_row row;
		time_t disabled = 0, digest = 0;
		char why[128];
		int rc;

		if (!receiver_wants(r, note))
			continue;
		/* a receiver of daily digests hears at once only of what is or was CRITICAL */
		if (r->digest_min >= 0 && note->status != ALERT_CRITICAL &&
		    note->previous_status != ALERT_CRITICAL && note->kind != ALERT_INCONCLUSIVE)
			continue;
		if (store_receiver_get(st, r->name, &disabled, why, sizeof(why), &digest) < 0)
			return STORE_ERROR;
		memset(&row, 0, sizeof(row));
		alerting_new_id(row.id);
		strlcpy_s(row.receiver, r->name, sizeof(row.receiver));
		strlcpy_s(row.kind, alert_kind_str(note->kind), sizeof(row.kind));
		strlcpy_s(row.domain, d->name, sizeof(row.domain));
		strlcpy_s(row.incident, note->incident, sizeof(row.incident));
		strlcpy_s(row.status, alert_status_str(note->status), sizeof(row.status));
		row.created_at = now;
		row.next_at = now + (strcmp(r->type, "email") == 0 ? (time_t)batch_delay : 0);
		row.run_id = run_id;
		row.data = (char *)data;
		/* a receiver gone (410) is not written to; the row says so, it is not dropped */
		strlcpy_s(row.state, disabled ? "disabled" : "pending", sizeof(row.state));
		if ((rc = store_outbox_add(st, &row)) < 0)
			return rc;
		if (disabled)
			log_warning("%s: %s not queued for %s: the receiver was disabled (%s)",
				    d->name, row.kind, r->name, why);
		else
			res->queued++;
	}
	return 0;
}

int alerting_evaluate(const struct config *cfg, struct store *st, int64_t run_id,
		      const struct domain_conf *d, const struct domain_facts *df,
		      const struct verdict *v, json_t *report, time_t now, unsigned batch_delay,
		      struct alerting_result *res)
{
	struct alert_conf conf;
	struct alert_finding *af = NULL;
	char (*causes)[ALERT_CAUSE_LEN] = NULL;
	struct alert_verdict av;
	struct alert_state prev, next;
	struct alert_note note;
	struct store_silence *sil = NULL;
	struct alert_silence *as = NULL;
	size_t n_sil = 0;
	char *json = NULL, err[160];
	json_t *j, *pj = NULL, *resend;
	int rc = STORE_ERROR;

	memset(res, 0, sizeof(*res));
	memset(&av, 0, sizeof(av));
	alert_state_init(&prev);
	alert_state_init(&next);
	memset(&note, 0, sizeof(note));
	alerting_conf(cfg, &conf);
	if (v->findings.n) {
		af = xcalloc(v->findings.n, sizeof(*af));
		causes = xcalloc(v->findings.n, sizeof(*causes));
	}
	for (size_t i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];

		finding_cause(f->code, f->subject, causes[i], sizeof(causes[i]));
		af[i].code = finding_code_str(f->code);
		af[i].subject = f->subject;
		af[i].sev = alert_sev(f->sev);
		af[i].cause = causes[i];
		af[i].transient = finding_transient(f->code);
		av.could_not_tell |= f->sev == SEV_UNKNOWN;
		av.inconclusive |= f->code == F_CHECK_VANTAGE;
	}
	av.status = (enum alert_status)v->status;
	av.fails_at = v->fails_at;
	av.n = v->findings.n;
	av.v = af;

	if (store_alert_state_get(st, d->name, &json) < 0)
		goto out;
	pj = json ? json_loads(json, 0, NULL) : NULL;
	if (json && (!pj || alert_state_from_json(pj, &prev, err, sizeof(err)) < 0)) {
		/* a damaged state must not stop alerting: start over and say so */
		log_warning("%s: the alert state in the database is unreadable (%s); starting "
			    "afresh", d->name, pj ? err : "not JSON");
		alert_state_init(&prev);
		json_decref(pj);
		pj = NULL;
	}
	if (store_silences_active(st, d->name, now, &sil, &n_sil) < 0)
		goto out;
	if (n_sil) {
		as = xcalloc(n_sil, sizeof(*as));
		for (size_t i = 0; i < n_sil; i++) {
			as[i].code = sil[i].code;
			as[i].until = sil[i].until;
		}
	}
	alert_decide(&conf, d->name, &prev, &av, as, n_sil, now, &next, &note);
	free(json);
	j = alert_state_to_json(&next);
	/* what Alertmanager's re-send posts until the next check: the words of this one */
	resend = alerting_resend_data(d->name, &next, report, json_object_get(pj, RESEND_KEY),
				      !av.could_not_tell && !av.inconclusive, &note);
	if (resend)
		json_object_set_new(j, RESEND_KEY, resend);
	json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!json || (rc = store_alert_state_put(st, d->name, json, now)) < 0) {
		rc = STORE_ERROR;
		goto out;
	}
	for (size_t i = 0; i < next.n; i++)
		res->unconfirmed |= next.v[i].open && next.v[i].told == ALERT_OK;
	res->kind = note.kind;
	res->status = note.status;
	res->previous = note.previous_status;
	strlcpy_s(res->incident, note.incident, sizeof(res->incident));
	if (note.kind != ALERT_NONE) {
		json_t *data = note_data(df, v, report, &next, &note);
		char *text = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);

		json_decref(data);
		rc = text ? queue(cfg, st, run_id, d, text, &note, now, batch_delay, res) :
			    STORE_ERROR;
		free(text);
		if (rc < 0)
			goto out;
	}
	rc = 0;
out:
	free(json);
	json_decref(pj);
	free(af);
	free(causes);
	free(sil);
	free(as);
	alert_state_free(&prev);
	alert_state_free(&next);
	alert_note_free(&note);
	return rc;
}

void alerting_log(const char *domain, const struct store_delta *d,
		  const struct alerting_result *ar)
{
	if (d->old_status[0] && strcmp(d->old_status, d->new_status) != 0)
		log_msg(strcmp(d->new_status, "OK") == 0 ? LOG_LVL_INFO : LOG_LVL_WARNING,
			"%s: %s -> %s", domain, d->old_status, d->new_status);
	else if (!d->old_status[0] && strcmp(d->new_status, "OK") != 0)
		log_warning("%s: first check: %s", domain, d->new_status);
	if (ar->kind != ALERT_NONE)
		log_info("%s: %s %s (incident %s) queued for %zu receiver%s", domain,
			 alert_kind_str(ar->kind), alert_status_str(ar->status),
			 ar->incident[0] ? ar->incident : "-", ar->queued, ar->queued == 1 ? "" : "s");
	else if (strcmp(d->new_status, "OK") == 0)
		log_debug("%s: OK", domain);
}

int alerting_record(const struct config *cfg, struct store *st, int64_t run_id,
		    const struct domain_conf *d, const struct domain_facts *df,
		    const struct verdict *v, json_t *report, time_t now, unsigned batch_delay,
		    struct store_delta *delta, struct alerting_result *res)
{
	int rc = store_begin(st);

	memset(res, 0, sizeof(*res));
	if (rc < 0)
		return rc;
	if ((rc = store_record_check(st, run_id, df, v, report, delta)) < 0 ||
	    (rc = alerting_evaluate(cfg, st, run_id, d, df, v, report, now, batch_delay, res)) < 0) {
		store_rollback(st);
		store_delta_free(delta);
		memset(res, 0, sizeof(*res));
		return rc;
	}
	rc = store_commit(st);
	if (rc < 0) {
		store_delta_free(delta);
		memset(res, 0, sizeof(*res));
	}
	return rc;
}

int alerting_inconclusive(const struct config *cfg, struct store *st, int64_t run_id,
			  const char *why, time_t now)
{
	const struct receiver_conf *r;
	struct store_outbox_row row;
	char host[256] = "";
	json_t *data;
	char *text;
	int rc;

	if (cfg->alerts.operator_receiver < 0)
		return 0;
	r = &cfg->receivers[cfg->alerts.operator_receiver];
	if (gethostname(host, sizeof(host) - 1) < 0)
		strlcpy_s(host, "this host", sizeof(host));
	data = json_object();
	json_object_set_new(data, "reason", json_str(why));
	json_object_set_new(data, "domains", json_integer((json_int_t)cfg->n_domains));
	json_object_set_new(data, "since", json_time(now));
	json_object_set_new(data, "host", json_str(host));
	text = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(data);
	memset(&row, 0, sizeof(row));
	alerting_new_id(row.id);
	strlcpy_s(row.receiver, r->name, sizeof(row.receiver));
	strlcpy_s(row.kind, alert_kind_str(ALERT_INCONCLUSIVE), sizeof(row.kind));
	strlcpy_s(row.status, "UNKNOWN", sizeof(row.status));
	row.created_at = now;
	row.next_at = now;
	row.run_id = run_id;
	row.data = text;
	rc = text ? store_outbox_add(st, &row) : STORE_ERROR;
	free(text);
	return rc;
}

int alerting_vantage(const struct config *cfg, struct store *st, int64_t run_id,
		     const struct vantage *v, time_t now)
{
	char value[300], prev[300];
	bool found, bad = v->smtp_blocked || v->dns_blind;
	int rc;

	if (store_meta_get(st, "vantage", prev, sizeof(prev), &found) < 0)
		return STORE_ERROR;
	if (bad && (!found || strncmp(prev, "bad", 3) != 0)) {
		log_error("this run is inconclusive for the domains it cannot see: %s; their "
			  "owners are not told, the operator receiver is", v->why);
		bsnprintf(value, sizeof(value), "bad %lld %s", (long long)now, v->why);
		if ((rc = store_meta_set(st, "vantage", value, now)) < 0 ||
		    (rc = alerting_inconclusive(cfg, st, run_id, v->why, now)) < 0)
			return rc;
	} else if (!bad && found && strncmp(prev, "bad", 3) == 0) {
		log_info("the monitor's view is sound again (port 25 and the resolver answer)");
		return store_meta_set(st, "vantage", "ok", now);
	}
	return 0;
}

void alerting_vantage_seed(struct store *st, struct vantage *v)
{
	char prev[300];
	bool found;

	/* a run that starts after an inconclusive one starts wary: the first domains then do
	 * not look dead before the window has seen enough addresses to tell */
	if (store_meta_get(st, "vantage", prev, sizeof(prev), &found) == 0 && found &&
	    strncmp(prev, "bad", 3) == 0 && strstr(prev, "port 25")) {
		v->smtp_blocked = true;
		strlcpy_s(v->why, strchr(prev + 4, ' ') ? strchr(prev + 4, ' ') + 1 : prev,
			  sizeof(v->why));
	}
}

/* ---- daily digests -------------------------------------------------------------------- */

/*
 * The last digest moment at or before now: minute_of_day local time in tz (NULL: the
 * system's), today or yesterday. TZ is switched around the conversion (one thread).
 */
static time_t digest_moment(const char *tz, int minute_of_day, time_t now)
{
	const char *old = getenv("TZ");
	char *saved = old ? xstrdup(old) : NULL;
	struct tm tm;
	time_t t;

	if (tz)
		setenv("TZ", tz, 1);
	tzset();
	localtime_r(&now, &tm);
	tm.tm_hour = minute_of_day / 60;
	tm.tm_min = minute_of_day % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t > now) {
		tm.tm_mday -= 1;
		tm.tm_hour = minute_of_day / 60;
		tm.tm_min = minute_of_day % 60;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (saved)
		setenv("TZ", saved, 1);
	else if (tz)
		unsetenv("TZ");
	tzset();
	free(saved);
	return t;
}

struct digest_build {
	const struct config *cfg;
	size_t receiver;
	json_t *changed;
};

static int digest_change(void *arg, const char *domain, time_t at, const char *old_status,
			 const char *new_status)
{
	struct digest_build *b = arg;
	const struct domain_conf *d = config_find_domain(b->cfg, domain);
	json_t *o;

	if (!d || !routes_to(b->cfg, d, b->receiver) || json_array_size(b->changed) >= 1000)
		return 0;
	o = json_object();
	json_object_set_new(o, "domain", json_str(domain));
	json_object_set_new(o, "kind", json_string(strcmp(new_status, "OK") == 0 ? "resolved" :
						   "problem"));
	json_object_set_new(o, "at", json_time(at));
	json_object_set_new(o, "status", json_str(new_status));
	json_object_set_new(o, "previous_status", old_status[0] ? json_str(old_status) :
			    json_null());
	json_array_append_new(b->changed, o);
	return 0;
}

static int fails_cmp(const void *pa, const void *pb)
{
	const char *a = json_string_value(json_object_get(*(json_t *const *)pa, "fails_at"));
	const char *b = json_string_value(json_object_get(*(json_t *const *)pb, "fails_at"));

	if (!a || !b)
		return a ? -1 : b ? 1 : 0;	/* undated last */
	return strcmp(a, b);	/* RFC 3339 UTC sorts as time */
}

/* One receiver's digest: its domains' open problems by fails_at, what changed. */
static int digest_for(const struct config *cfg, struct store *st, size_t ri, time_t since,
		      time_t now, json_t **out)
{
	struct digest_build b = { .cfg = cfg, .receiver = ri, .changed = json_array() };
	json_t *data = json_object(), *open = json_array(), **v = NULL;
	size_t n = 0;
	int rc = STORE_ERROR;

	for (size_t i = 0; i < cfg->n_domains; i++) {
		json_t *o = NULL;
		const char *status;

		if (!routes_to(cfg, &cfg->domains[i], ri))
			continue;
		if (store_domain_status(st, cfg->domains[i].name, &o) < 0)
			goto out;
		status = o ? json_string_value(json_object_get(o, "status")) : NULL;
		if (!status || strcmp(status, "OK") == 0) {
			json_decref(o);
			continue;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = o;
	}
	if (n)
		qsort(v, n, sizeof(*v), fails_cmp);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(open, v[i]);
	if (store_each_status_change(st, since, digest_change, &b) < 0)
		goto out;
	json_object_set_new(data, "receiver", json_str(cfg->receivers[ri].name));
	json_object_set_new(data, "period_start", json_time(since));
	json_object_set_new(data, "period_end", json_time(now));
	json_object_set_new(data, "open", open);
	json_object_set_new(data, "changed", b.changed);
	open = b.changed = NULL;
	*out = data;
	data = NULL;
	rc = 0;
out:
	free(v);
	json_decref(open);
	json_decref(b.changed);
	json_decref(data);
	return rc;
}

int alerting_digests(const struct config *cfg, struct store *st, int64_t run_id, time_t now,
		     size_t *queued)
{
	*queued = 0;
	for (size_t ri = 0; ri < cfg->n_receivers; ri++) {
		const struct receiver_conf *r = &cfg->receivers[ri];
		time_t disabled, last, moment;
		struct store_outbox_row row;
		char why[64], *text;
		json_t *data = NULL;
		int rc;

		if (r->digest_min < 0)
			continue;
		if (store_receiver_get(st, r->name, &disabled, why, sizeof(why), &last) < 0)
			return STORE_ERROR;
		moment = digest_moment(r->timezone ? r->timezone : cfg->alerts.timezone,
				       r->digest_min, now);
		if (!last) {
			/* the first digest comes at the next moment, covering from now */
			if ((rc = store_receiver_digested(st, r->name, now)) < 0)
				return rc;
			continue;
		}
		if (last >= moment || disabled)
			continue;
		if ((rc = digest_for(cfg, st, ri, last, now, &data)) < 0)
			return rc;
		text = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(data);
		memset(&row, 0, sizeof(row));
		alerting_new_id(row.id);
		strlcpy_s(row.receiver, r->name, sizeof(row.receiver));
		strlcpy_s(row.kind, alert_kind_str(ALERT_DIGEST), sizeof(row.kind));
		row.created_at = now;
		row.next_at = now;
		row.run_id = run_id;
		row.data = text;
		rc = text ? store_begin(st) : STORE_ERROR;
		if (rc == 0 && ((rc = store_outbox_add(st, &row)) < 0 ||
				(rc = store_receiver_digested(st, r->name, now)) < 0))
			store_rollback(st);
		else if (rc == 0)
			rc = store_commit(st);
		free(text);
		if (rc < 0)
			return rc;
		(*queued)++;
		log_info("digest for %s queued", r->name);
	}
	return 0;
}
