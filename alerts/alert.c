/*
 * alert: the alert decision for one domain, pure like the judge: (previous alert state,
 * the new verdict, silences, configuration, now) -> (new state, one notification or none).
 *
 * An incident is one cause of trouble of one domain (an MX host, the policy, the TXT
 * record...), opened when a WARNING or CRITICAL finding of that cause appears and closed
 * when none is left on a check that could tell. It is told (a problem) at once when one of
 * its findings is a fact that does not flicker, after `confirm` consecutive checks when
 * every finding can be transient; then escalated when it gets worse or gains findings,
 * reminded at the remind marks before fails_at and every repeat_interval, and resolved.
 * Silences and flapping hold what would be told; their end releases it, collapsed to the
 * current truth (a problem still open is told, one told and since fixed is resolved).
 */
#include "alert.h"

#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/xalloc.h"

#define DAY 86400

void alert_conf_defaults(struct alert_conf *c)
{
	static const int remind[] = { 14, 7, 3, 1, 0 };

	memset(c, 0, sizeof(*c));
	c->confirm = 2;
	c->n_remind = sizeof(remind) / sizeof(remind[0]);
	memcpy(c->remind_days, remind, sizeof(remind));
	c->repeat_interval = DAY;
	c->unknown_after = 6 * 3600;
	c->flap_window = 21;
	c->flap_high = 0.5;
	c->flap_low = 0.25;
}

const char *alert_kind_str(enum alert_kind k)
{
	switch (k) {
	case ALERT_NONE:
		return "none";
	case ALERT_PROBLEM:
		return "problem";
	case ALERT_ESCALATED:
		return "escalated";
	case ALERT_REMINDER:
		return "reminder";
	case ALERT_RESOLVED:
		return "resolved";
	case ALERT_FLAPPING:
		return "flapping";
	case ALERT_INCONCLUSIVE:
		return "inconclusive";
	case ALERT_DIGEST:
		return "digest";
	case ALERT_TEST:
		return "test";
	}
	return "none";
}

const char *alert_status_str(enum alert_status s)
{
	switch (s) {
	case ALERT_OK:
		return "OK";
	case ALERT_WARNING:
		return "WARNING";
	case ALERT_CRITICAL:
		return "CRITICAL";
	case ALERT_UNKNOWN:
		return "UNKNOWN";
	}
	return "UNKNOWN";
}

static int rank(enum alert_status s)
{
	static const int r[] = { [ALERT_OK] = 0, [ALERT_WARNING] = 1, [ALERT_UNKNOWN] = 2,
				 [ALERT_CRITICAL] = 3 };

	return (unsigned)s < 4 ? r[s] : 2;
}

enum alert_status alert_status_worst(enum alert_status a, enum alert_status b)
{
	return rank(a) >= rank(b) ? a : b;
}

void alert_state_init(struct alert_state *s)
{
	memset(s, 0, sizeof(*s));
}

static void incident_free(struct alert_incident *in)
{
	free(in->keys);
	free(in->told_keys);
	in->keys = in->told_keys = NULL;
	in->n_keys = in->n_told = 0;
}

static void incident_copy(struct alert_incident *dst, const struct alert_incident *src)
{
	*dst = *src;
	dst->keys = NULL;
	dst->told_keys = NULL;
	if (src->n_keys) {
		dst->keys = xcalloc(src->n_keys, sizeof(*dst->keys));
		memcpy(dst->keys, src->keys, src->n_keys * sizeof(*dst->keys));
	}
	if (src->n_told) {
		dst->told_keys = xcalloc(src->n_told, sizeof(*dst->told_keys));
		memcpy(dst->told_keys, src->told_keys, src->n_told * sizeof(*dst->told_keys));
	}
}

void alert_state_free(struct alert_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		incident_free(&s->v[i]);
	free(s->v);
	alert_state_init(s);
}

void alert_state_copy(struct alert_state *dst, const struct alert_state *src)
{
	*dst = *src;
	dst->v = src->n ? xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++)
		incident_copy(&dst->v[i], &src->v[i]);
}

void alert_note_free(struct alert_note *n)
{
	for (size_t i = 0; i < n->n_gone; i++)
		incident_free(&n->gone[i]);
	free(n->gone);
	free(n->events);
	memset(n, 0, sizeof(*n));
}

enum alert_status alert_state_told(const struct alert_state *s)
{
	enum alert_status st = ALERT_OK;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].told != ALERT_OK)
			st = alert_status_worst(st, s->v[i].told);
	return st;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* 64-bit FNV-1a over the domain, the cause and the opening time: a stable incident id. */
static void incident_id(const char *domain, const char *cause, time_t opened, char out[ALERT_ID_LEN])
{
	uint64_t h = 1469598103934665603ull;
	char when[24];
	const char *parts[] = { domain, "\n", cause, "\n", when };

	bsnprintf(when, sizeof(when), "%lld", (long long)opened);
	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
		for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++)
			h = (h ^ *c) * 1099511628211ull;
	bsnprintf(out, ALERT_ID_LEN, "%016llx", (unsigned long long)h);
}

static void finding_key(const struct alert_finding *f, char out[ALERT_KEY_LEN])
{
	bsnprintf(out, ALERT_KEY_LEN, "%s %s", f->code, f->subject);
}

static bool has_key(char (*keys)[ALERT_KEY_LEN], size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

/* Is every key of a told already? (A new finding in an open incident escalates.) */
static bool keys_told(const struct alert_incident *in)
{
	for (size_t i = 0; i < in->n_keys; i++)
		if (!has_key(in->told_keys, in->n_told, in->keys[i]))
			return false;
	return true;
}

static void tell_keys(struct alert_incident *in)
{
	free(in->told_keys);
	in->told_keys = NULL;
	in->n_told = in->n_keys;
	if (in->n_keys) {
		in->told_keys = xcalloc(in->n_keys, sizeof(*in->told_keys));
		memcpy(in->told_keys, in->keys, in->n_keys * sizeof(*in->keys));
	}
}

/* Is a silence in force for an incident (a silence of its code, or of the domain)? */
static bool silenced(const struct alert_incident *in, const struct alert_silence *s, size_t n,
		     time_t now)
{
	for (size_t i = 0; i < n; i++) {
		size_t cl;

		if (s[i].until <= now)
			continue;
		if (!s[i].code || !s[i].code[0])
			return true;
		cl = strlen(s[i].code);
		for (size_t k = 0; k < in->n_keys; k++)
			if (strncmp(in->keys[k], s[i].code, cl) == 0 && in->keys[k][cl] == ' ')
				return true;
		for (size_t k = 0; k < in->n_told; k++)
			if (strncmp(in->told_keys[k], s[i].code, cl) == 0 && in->told_keys[k][cl] == ' ')
				return true;
	}
	return false;
}

/* The remind marks that have passed at now for a failure at fails_at, as bits. */
static uint32_t marks_passed(const struct alert_conf *c, time_t fails_at, time_t now)
{
	uint32_t bits = 0;

	if (!fails_at)
		return 0;
	for (size_t i = 0; i < c->n_remind && i < ALERT_REMIND_MAX; i++)
		if (now >= fails_at - (time_t)c->remind_days[i] * DAY)
			bits |= 1u << i;
	return bits;
}

/*
 * The weighted rate of status changes over the window (Nagios's flap detection: the most
 * recent change weighs 1.2, the oldest 0.8); -1 until half the window has been seen.
 */
static double flap_rate(uint32_t bits, unsigned n, unsigned window)
{
	double sum = 0, total = 0;

	if (window < 2 || n < window / 2 || n < 2)
		return -1;
	for (unsigned i = 0; i + 1 < n; i++) {
		double w = 1.2 - 0.4 * (double)i / (double)(window - 2 > 0 ? window - 2 : 1);

		total += w;
		if (bits & (1u << i))
			sum += w;
	}
	return total > 0 ? sum / total : -1;
}

static void add_event(struct alert_note *note, enum alert_kind kind, size_t incident)
{
	note->events = xrealloc(note->events, (note->n_events + 1) * sizeof(*note->events));
	note->events[note->n_events].kind = kind;
	note->events[note->n_events].incident = incident;
	note->n_events++;
}

/* Precedence of one kind over another in the note: the most important event names it. */
static int importance(enum alert_kind k)
{
	switch (k) {
	case ALERT_FLAPPING:
		return 6;
	case ALERT_ESCALATED:
		return 5;
	case ALERT_PROBLEM:
		return 4;
	case ALERT_RESOLVED:
		return 3;
	case ALERT_REMINDER:
		return 2;
	default:
		return 0;
	}
}

/* ---- the decision ---------------------------------------------------------------------- */

struct group {
	const char *cause;
	enum alert_status sev;
	bool transient;
	size_t n_keys;
	char (*keys)[ALERT_KEY_LEN];
};

/* The WARNING and CRITICAL findings of a verdict, grouped by cause. */
static size_t group_findings(const struct alert_verdict *v, struct group **out)
{
	struct group *g = NULL;
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++) {
		const struct alert_finding *f = &v->v[i];
		struct group *cur = NULL;

		if (f->sev != ALERT_WARNING && f->sev != ALERT_CRITICAL)
			continue;
		for (size_t k = 0; k < n && !cur; k++)
			if (strcmp(g[k].cause, f->cause) == 0)
				cur = &g[k];
		if (!cur) {
			g = xrealloc(g, (n + 1) * sizeof(*g));
			cur = &g[n++];
			memset(cur, 0, sizeof(*cur));
			cur->cause = f->cause;
			cur->sev = ALERT_OK;
			cur->transient = true;
		}
		cur->sev = alert_status_worst(cur->sev, f->sev);
		cur->transient &= f->transient;
		if (cur->n_keys < ALERT_KEYS_MAX) {
			cur->keys = xrealloc(cur->keys, (cur->n_keys + 1) * sizeof(*cur->keys));
			finding_key(f, cur->keys[cur->n_keys++]);
		}
	}
	*out = g;
	return n;
}

static void groups_free(struct group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].keys);
	free(g);
}

static struct alert_incident *push_incident(struct alert_state *s)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static void move_to_gone(struct alert_note *note, const struct alert_incident *in)
{
	note->gone = xrealloc(note->gone, (note->n_gone + 1) * sizeof(*note->gone));
	incident_copy(&note->gone[note->n_gone], in);
	note->n_gone++;
}

/* The incident of a cause in the previous state, open or resolved-but-held. */
static const struct alert_incident *find_prev(const struct alert_state *prev, const char *cause)
{
	for (size_t i = 0; i < prev->n; i++)
		if (strcmp(prev->v[i].cause, cause) == 0)
			return &prev->v[i];
	return NULL;
}

/* One current cause: carry its incident on (or open one) and say what it did. */
static void update_incident(const struct alert_conf *c, const char *domain,
			    const struct alert_incident *old, const struct group *g, bool held,
			    time_t now, struct alert_state *next, struct alert_note *note)
{
	struct alert_incident *in = push_incident(next);
	size_t idx = next->n - 1;
	bool confirmed;

	if (old) {
		incident_copy(in, old);
		free(in->keys);
	} else {
		strlcpy_s(in->cause, g->cause, sizeof(in->cause));
		in->opened_at = now;
		in->told = ALERT_OK;
		incident_id(domain, g->cause, now, in->id);
	}
	in->open = true;
	in->sev = g->sev;
	in->transient = g->transient;
	in->n_keys = g->n_keys;
	in->keys = g->n_keys ? xcalloc(g->n_keys, sizeof(*in->keys)) : NULL;
	if (g->n_keys)
		memcpy(in->keys, g->keys, g->n_keys * sizeof(*in->keys));
	/* a failure that can be transient is confirmed by consecutive checks first */
	in->soft = old && old->open ? old->soft + 1 : 1;
	confirmed = !g->transient || in->soft >= (c->confirm ? c->confirm : 1) ||
		    in->told != ALERT_OK;
	if (!confirmed || held)
		return;
	if (in->told == ALERT_OK) {
		add_event(note, ALERT_PROBLEM, idx);
	} else if (rank(in->sev) > rank(in->told) || !keys_told(in)) {
		add_event(note, ALERT_ESCALATED, idx);
	} else {
		in->told = in->sev;	/* better, not fixed: said with the next message */
		return;
	}
	in->told = in->sev;
	in->told_at = now;
	tell_keys(in);
}

/* Reminders: a remind mark before fails_at passed, or repeat_interval since the last. */
static void maybe_remind(const struct alert_conf *c, const struct alert_state *prev,
			 time_t fails_at, time_t now, const struct alert_silence *sil, size_t n_sil,
			 bool flapping, struct alert_state *next, struct alert_note *note)
{
	uint32_t passed = marks_passed(c, fails_at, now);
	size_t worst = SIZE_MAX;

	for (size_t i = 0; i < next->n; i++) {
		const struct alert_incident *in = &next->v[i];

		if (!in->open || in->told == ALERT_OK || silenced(in, sil, n_sil, now))
			continue;
		if (worst == SIZE_MAX || rank(in->told) > rank(next->v[worst].told))
			worst = i;
	}
	if (worst == SIZE_MAX || flapping)
		return;
	if (passed & ~next->reminded) {
		next->reminded |= passed;
		add_event(note, ALERT_REMINDER, worst);
	} else if (c->repeat_interval && prev->last_sent &&
		   now - prev->last_sent >= (time_t)c->repeat_interval) {
		add_event(note, ALERT_REMINDER, worst);
	}
}

int alert_decide(const struct alert_conf *c, const char *domain, const struct alert_state *prev,
		 const struct alert_verdict *v, const struct alert_silence *sil, size_t n_sil,
		 time_t now, struct alert_state *next, struct alert_note *note)
{
	bool blind = v->status == ALERT_UNKNOWN && !v->inconclusive;
	bool keep_all = blind || v->could_not_tell || v->inconclusive;
	bool changed, had_told = alert_state_told(prev) != ALERT_OK;
	unsigned window = c->flap_window > 32 ? 32 : c->flap_window;
	struct group *groups = NULL;
	size_t n_groups = 0;
	double rate;

	alert_state_init(next);
	memset(note, 0, sizeof(*note));
	next->flap_bits = prev->flap_bits;
	next->flap_n = prev->flap_n;
	next->flapping = prev->flapping;
	next->flap_told = prev->flap_told;
	next->unknown_since = prev->unknown_since;
	next->blind_told = prev->blind_told;
	next->fails_at = prev->fails_at;
	next->reminded = prev->reminded;
	next->last_sent = prev->last_sent;
	note->status = v->status;
	note->previous_status = alert_state_told(prev);
	if (prev->blind_told)
		note->previous_status = alert_status_worst(note->previous_status, ALERT_UNKNOWN);
	note->fails_at = v->fails_at;

	/* flapping: the weighted rate of status changes, with hysteresis */
	changed = prev->flap_n > 0 && v->status != prev->last_status;
	next->flap_bits = (prev->flap_bits << 1) | (changed ? 1u : 0u);
	if (window < 32)
		next->flap_bits &= (1u << window) - 1;
	next->flap_n = prev->flap_n < window ? prev->flap_n + 1 : window;
	next->last_status = v->status;
	rate = flap_rate(next->flap_bits, next->flap_n, window);
	if (!next->flapping && rate >= c->flap_high && c->flap_high > 0)
		next->flapping = true;
	else if (next->flapping && rate >= 0 && rate < c->flap_low)
		next->flapping = false;
	if (next->flapping && !next->flap_told) {
		next->flap_told = true;
		add_event(note, ALERT_FLAPPING, SIZE_MAX);
	} else if (!next->flapping) {
		next->flap_told = false;
	}

	/* "could not tell": nothing opens or resolves; told once it has lasted */
	if (blind) {
		if (!next->unknown_since)
			next->unknown_since = now;
		if (!next->blind_told && now - next->unknown_since >= (time_t)c->unknown_after) {
			next->blind_told = true;
			note->blind = true;
			add_event(note, ALERT_PROBLEM, SIZE_MAX);
		}
	} else if (!v->inconclusive) {
		if (next->blind_told)
			add_event(note, ALERT_RESOLVED, SIZE_MAX);
		next->unknown_since = 0;
		next->blind_told = false;
	}

	if (!blind && !v->inconclusive)
		n_groups = group_findings(v, &groups);
	for (size_t k = 0; k < n_groups; k++) {
		const struct alert_incident *old = find_prev(prev, groups[k].cause);
		struct alert_incident probe = { 0 };
		bool held;

		/* a silence is matched on the findings the incident has now */
		probe.n_keys = groups[k].n_keys;
		probe.keys = groups[k].keys;
		held = next->flapping || silenced(&probe, sil, n_sil, now) ||
		       (old && silenced(old, sil, n_sil, now));
		update_incident(c, domain, old, &groups[k], held, now, next, note);
	}
	/* causes no longer seen: resolved when the check could tell, else kept as they were */
	for (size_t i = 0; i < prev->n; i++) {
		const struct alert_incident *old = &prev->v[i];
		bool seen = false, held;

		for (size_t k = 0; k < n_groups && !seen; k++)
			seen = strcmp(groups[k].cause, old->cause) == 0;
		if (seen)
			continue;
		held = next->flapping || silenced(old, sil, n_sil, now);
		if (keep_all || (old->told != ALERT_OK && held)) {
			struct alert_incident *in = push_incident(next);

			incident_copy(in, old);
			if (!keep_all)
				in->open = false;	/* resolved; told when the hold ends */
			continue;
		}
		if (old->told == ALERT_OK)
			continue;	/* never told: it goes as quietly as it came */
		move_to_gone(note, old);
		add_event(note, ALERT_RESOLVED, note->n_gone - 1);
	}
	groups_free(groups, n_groups);

	/* the remind marks follow the predicted failure; a first problem starts them */
	if (v->fails_at != next->fails_at || !had_told) {
		next->reminded = had_told ? next->reminded & marks_passed(c, v->fails_at, now) :
				 marks_passed(c, v->fails_at, now);
		next->fails_at = v->fails_at;
	}
	if (!note->n_events)
		maybe_remind(c, prev, v->fails_at, now, sil, n_sil, next->flapping, next, note);
	if (alert_state_told(next) == ALERT_OK) {
		next->reminded = 0;
		next->fails_at = 0;
	}

	/* the note is named by its most important event */
	for (size_t i = 0; i < note->n_events; i++) {
		const struct alert_event *e = &note->events[i];

		if (importance(e->kind) <= importance(note->kind))
			continue;
		note->kind = e->kind;
		note->blind = e->incident == SIZE_MAX && e->kind != ALERT_FLAPPING &&
			      (e->kind == ALERT_PROBLEM || e->kind == ALERT_RESOLVED);
		if (e->incident == SIZE_MAX)
			note->incident[0] = '\0';
		else if (e->kind == ALERT_RESOLVED)
			strlcpy_s(note->incident, note->gone[e->incident].id, sizeof(note->incident));
		else
			strlcpy_s(note->incident, next->v[e->incident].id, sizeof(note->incident));
	}
	if (note->kind != ALERT_NONE)
		next->last_sent = now;
	return 0;
}
