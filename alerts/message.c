/*
 * message: the words of every notification, from its data (docs/ALERT-DATA.md), shared by
 * the channels so a webhook consumer, a chat channel and a mailbox read the same thing.
 *
 * Every domain message says what is wrong, the evidence, the consequence for senders and
 * the fix for each finding (the finding's what/evidence/consequence/fix, or its joined
 * message when the fields are absent), and the predicted failure with its cause and a
 * countdown. The special kinds say what they are about: resolved names what was fixed;
 * blind says the monitor could not tell (not that the domain is broken); flapping says
 * notifications are held until it settles; inconclusive says the monitor's own vantage
 * point failed; the digest lists the open problems by fails_at and what changed.
 */
#include "message.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define DAY 86400
#define HOUR 3600
#define SUMMARY_WHAT_MAX 200	/* bytes of a finding's text in the summary line */
#define INCIDENTS_MAX 20
#define DIGEST_FINDINGS_MAX 5
#define FACT_MAX 300

/* ---- small helpers ------------------------------------------------------------------ */

enum alert_status message_status_parse(const char *s)
{
	if (!s)
		return ALERT_UNKNOWN;
	if (strcasecmp(s, "OK") == 0)
		return ALERT_OK;
	if (strcasecmp(s, "WARNING") == 0)
		return ALERT_WARNING;
	if (strcasecmp(s, "CRITICAL") == 0)
		return ALERT_CRITICAL;
	return ALERT_UNKNOWN;
}

/* CRITICAL above UNKNOWN above WARNING, as everywhere in stswatch. */
static int sev_rank(const char *s)
{
	if (!s)
		return 0;
	if (strcasecmp(s, "CRITICAL") == 0)
		return 3;
	if (strcasecmp(s, "UNKNOWN") == 0)
		return 2;
	if (strcasecmp(s, "WARNING") == 0)
		return 1;
	return 0;
}

static void put(struct dynbuf *b, const char *s, size_t max)
{
	chan_text_put(b, s, max, false);
}

static const json_t *jarr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

static bool jtrue(const json_t *o, const char *key)
{
	return json_is_object(o) && json_is_true(json_object_get(o, key));
}

/* A time member as a time_t; 0 when absent or not RFC 3339. */
static time_t jtime(const json_t *o, const char *key)
{
	const char *s = chan_jstr(o, key);
	time_t t;

	return s && time_parse(s, &t) == 0 ? t : 0;
}

static void push(struct message *m, struct dynbuf *b)
{
	char *s = dynbuf_steal(b);
	size_t n = strlen(s);

	while (n && s[n - 1] == '\n')
		s[--n] = '\0';
	if (!n) {
		free(s);
		return;
	}
	m->parts = xrealloc(m->parts, (m->n_parts + 1) * sizeof(*m->parts));
	m->parts[m->n_parts++] = s;
}

static void fact(struct message *m, const char *name, const char *value)
{
	struct dynbuf b;

	if (!value || m->n_facts >= MESSAGE_FACTS_MAX)
		return;
	dynbuf_init(&b, 0);
	put(&b, value, FACT_MAX);
	m->facts[m->n_facts].name = xstrdup(name);
	m->facts[m->n_facts].value = dynbuf_steal(&b);
	m->n_facts++;
}

static void date_str(time_t t, const char *fmt, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, fmt, &tm))
		bsnprintf(buf, len, "?");
}

/* "in 6 days, on 2026-12-14", "in 5 hours, at 2026-12-14 02:57 UTC", "now". */
static void when_str(time_t t, time_t now, char *buf, size_t len)
{
	char d[40];
	long n;

	if (t <= now) {
		bsnprintf(buf, len, "now");
		return;
	}
	if (t - now < DAY) {
		date_str(t, "%Y-%m-%d %H:%M UTC", d, sizeof(d));
		n = (long)((t - now) / HOUR);
		if (n == 0)
			bsnprintf(buf, len, "within the hour, at %s", d);
		else
			bsnprintf(buf, len, "in %ld hour%s, at %s", n, n == 1 ? "" : "s", d);
		return;
	}
	/* calendar days in UTC, so the count matches the date shown */
	n = (long)(t / DAY - now / DAY);
	date_str(t, "%Y-%m-%d", d, sizeof(d));
	bsnprintf(buf, len, "in %ld day%s, on %s", n, n == 1 ? "" : "s", d);
}

void message_countdown(time_t fails_at, const char *reason, time_t now, char *buf, size_t len)
{
	struct dynbuf b;
	char when[80], since[40];

	dynbuf_init(&b, 0);
	if (fails_at <= now) {
		date_str(fails_at, "%Y-%m-%d %H:%M UTC", since, sizeof(since));
		dynbuf_printf(&b, "Delivery from compliant senders fails now (since %s", since);
		if (reason) {
			dynbuf_printf(&b, ", when ");
			put(&b, reason, FACT_MAX);
		}
		dynbuf_printf(&b, ").");
	} else {
		when_str(fails_at, now, when, sizeof(when));
		dynbuf_printf(&b, "Delivery from compliant senders fails %s", when);
		if (reason) {
			dynbuf_printf(&b, ", when ");
			put(&b, reason, FACT_MAX);
		}
		dynbuf_printf(&b, ".");
	}
	strlcpy_s(buf, b.buf ? b.buf : "", len);
	dynbuf_free(&b);
}

/* ---- findings ----------------------------------------------------------------------- */

static void finding_key(const json_t *f, struct dynbuf *b)
{
	put(b, chan_jstr(f, "code") ? chan_jstr(f, "code") : "?", 100);
	if (chan_jstr(f, "subject")) {
		dynbuf_printf(b, " ");
		put(b, chan_jstr(f, "subject"), 300);
	}
}

/* Is finding f one of the findings ("code subject") of the incident with this id? */
static bool in_incident(const json_t *data, const char *id, const json_t *f)
{
	const json_t *incs = jarr(data, "incidents"), *inc, *keys, *k;
	struct dynbuf key;
	size_t i, j;
	bool hit = false;

	if (!id || !incs)
		return false;
	dynbuf_init(&key, 0);
	finding_key(f, &key);
	for (i = 0; i < json_array_size(incs) && (inc = json_array_get(incs, i)); i++) {
		if (!chan_jstr(inc, "id") || strcmp(chan_jstr(inc, "id"), id) != 0 ||
		    !(keys = jarr(inc, "findings")))
			continue;
		for (j = 0; j < json_array_size(keys) && (k = json_array_get(keys, j)); j++)
			if (json_is_string(k) && key.buf &&
			    strcmp(json_string_value(k), key.buf) == 0)
				hit = true;
	}
	dynbuf_free(&key);
	return hit;
}

/* The finding the summary names: the worst of the main incident, else the worst. */
static const json_t *pick_finding(const json_t *data)
{
	const json_t *fs = jarr(data, "findings"), *f, *best = NULL;
	const char *main = chan_jstr(data, "incident");
	int best_score = -1;
	size_t i;

	if (!fs)
		return NULL;
	for (i = 0; i < json_array_size(fs) && (f = json_array_get(fs, i)); i++) {
		int score;

		if (!json_is_object(f))
			continue;
		score = sev_rank(chan_jstr(f, "severity")) + (in_incident(data, main, f) ? 10 : 0);
		if (score > best_score) {
			best = f;
			best_score = score;
		}
	}
	return best;
}

/* The short text of a finding: its what, else its joined message up to the first "; ". */
static void finding_what(const json_t *f, struct dynbuf *b, size_t max)
{
	const char *s = chan_jstr(f, "what"), *semi;
	char *copy;

	if (s) {
		put(b, s, max);
		return;
	}
	s = chan_jstr(f, "message");
	if (!s)
		return;
	semi = strstr(s, "; ");
	copy = semi ? xstrndup(s, (size_t)(semi - s)) : xstrdup(s);
	put(b, copy, max);
	free(copy);
}

static size_t n_findings(const json_t *data)
{
	const json_t *fs = jarr(data, "findings");

	return fs ? json_array_size(fs) : 0;
}

/* One finding in full: what is wrong, evidence, consequence for senders, fix. */
static void finding_part(struct message *m, const json_t *f)
{
	static const struct {
		const char *key, *label;
	} fields[] = {
		{ "what", "What is wrong" },
		{ "evidence", "Evidence" },
		{ "consequence", "Consequence for senders" },
		{ "fix", "Fix" },
	};
	struct dynbuf b;
	bool any = false;

	dynbuf_init(&b, 0);
	put(&b, chan_jstr(f, "severity") ? chan_jstr(f, "severity") : "UNKNOWN", 20);
	dynbuf_printf(&b, " ");
	finding_key(f, &b);
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		const char *v = chan_jstr(f, fields[i].key);

		if (!v)
			continue;
		dynbuf_printf(&b, "\n%s: ", fields[i].label);
		put(&b, v, MESSAGE_FIELD_MAX);
		any = true;
	}
	if (!any && chan_jstr(f, "message")) {
		dynbuf_printf(&b, "\nDetails: ");
		put(&b, chan_jstr(f, "message"), 2 * MESSAGE_FIELD_MAX);
	}
	push(m, &b);
}

static void findings_parts(struct message *m, const json_t *data)
{
	const json_t *fs = jarr(data, "findings"), *f;
	size_t i, shown = 0;
	struct dynbuf b;

	if (!fs)
		return;
	for (i = 0; i < json_array_size(fs) && (f = json_array_get(fs, i)); i++) {
		if (!json_is_object(f))
			continue;
		if (shown == MESSAGE_FINDINGS_MAX)
			break;
		finding_part(m, f);
		shown++;
	}
	if (json_array_size(fs) > shown) {
		dynbuf_init(&b, 0);
		dynbuf_printf(&b, "... and %zu more findings (`stswatch status ",
			      json_array_size(fs) - shown);
		put(&b, chan_jstr(data, "domain") ? chan_jstr(data, "domain") : "?", 253);
		dynbuf_printf(&b, "` lists them all).");
		push(m, &b);
	}
}

static void incidents_part(struct message *m, const json_t *data, bool closing)
{
	const json_t *incs = jarr(data, "incidents"), *inc;
	struct dynbuf b;
	size_t i, shown = 0;

	if (!incs || !json_array_size(incs))
		return;
	dynbuf_init(&b, 0);
	for (i = 0; i < json_array_size(incs) && (inc = json_array_get(incs, i)); i++) {
		if (!chan_jstr(inc, "id"))
			continue;
		if (shown == INCIDENTS_MAX) {
			dynbuf_printf(&b, "... and %zu more incidents.\n", json_array_size(incs) - i);
			break;
		}
		dynbuf_printf(&b, "Incident ");
		put(&b, chan_jstr(inc, "id"), 64);
		if (chan_jstr(inc, "cause")) {
			dynbuf_printf(&b, " (");
			put(&b, chan_jstr(inc, "cause"), 300);
			dynbuf_printf(&b, ")");
		}
		if (closing) {
			dynbuf_printf(&b, " is closed");
		} else if (chan_jstr(inc, "severity")) {
			dynbuf_printf(&b, ": ");
			put(&b, chan_jstr(inc, "severity"), 20);
		}
		if (chan_jstr(inc, "opened_at")) {
			dynbuf_printf(&b, ", opened ");
			put(&b, chan_jstr(inc, "opened_at"), 40);
		}
		dynbuf_printf(&b, ".\n");
		shown++;
	}
	push(m, &b);
}

/* ---- one domain: problem, escalated, reminder, resolved, flapping ------------------- */

static void domain_summary(struct message *m, enum alert_kind kind, const json_t *data,
			   time_t now)
{
	const char *status = chan_jstr(data, "status") ? chan_jstr(data, "status") : "UNKNOWN";
	const char *prev = chan_jstr(data, "previous_status");
	const json_t *f = pick_finding(data), *res = jarr(data, "resolved");
	time_t fails_at = jtime(data, "fails_at");
	size_t nf = n_findings(data);
	struct dynbuf b;
	char when[80];

	dynbuf_init(&b, 0);
	put(&b, kind == ALERT_RESOLVED ? "RESOLVED" : kind == ALERT_FLAPPING ? "FLAPPING" : status,
	    20);
	dynbuf_printf(&b, " ");
	put(&b, chan_jstr(data, "domain") ? chan_jstr(data, "domain") : "?", 253);
	if (kind == ALERT_ESCALATED && prev && strcmp(prev, status) != 0) {
		dynbuf_printf(&b, " (was ");
		put(&b, prev, 20);
		dynbuf_printf(&b, ")");
	}
	if (kind == ALERT_FLAPPING) {
		dynbuf_printf(&b, ": status changes too often; notifications held until it "
			      "settles");
	} else if (kind == ALERT_RESOLVED) {
		const json_t *r0 = res && json_array_size(res) ? json_array_get(res, 0) : NULL;

		if (jtrue(data, "blind"))
			dynbuf_printf(&b, ": the monitor can tell again");
		if (r0) {
			dynbuf_printf(&b, ": ");
			finding_key(r0, &b);
			dynbuf_printf(&b, " fixed");
			if (json_array_size(res) > 1)
				dynbuf_printf(&b, " (+%zu more)", json_array_size(res) - 1);
		} else if (!jtrue(data, "blind")) {
			dynbuf_printf(&b, ": fixed");
		}
		if (strcmp(status, "OK") != 0) {
			dynbuf_printf(&b, "; still ");
			put(&b, status, 20);
		}
	} else {
		if (jtrue(data, "blind"))
			dynbuf_printf(&b, ": the monitor could not tell");
		if (f) {
			dynbuf_printf(&b, jtrue(data, "blind") ? "; " : ": ");
			finding_key(f, &b);
			if (chan_jstr(f, "what") || chan_jstr(f, "message")) {
				dynbuf_printf(&b, ": ");
				finding_what(f, &b, SUMMARY_WHAT_MAX);
			}
			if (nf > 1)
				dynbuf_printf(&b, " (+%zu more)", nf - 1);
		}
		if (kind == ALERT_REMINDER) {
			if (fails_at) {
				when_str(fails_at, now, when, sizeof(when));
				dynbuf_printf(&b, " (reminder: fails %s)", when);
			} else {
				dynbuf_printf(&b, " (reminder)");
			}
		}
	}
	m->summary = dynbuf_steal(&b);
}

/* A cleaned, bounded copy of a field into a fixed buffer ("" when absent). */
static void clean(char *dst, size_t len, const char *src)
{
	char *c = chan_text_cut(src ? src : "", len - 1);

	chan_text_flatten(c);
	strlcpy_s(dst, c, len);
	free(c);
}

static void lead_domain(struct message *m, enum alert_kind kind, const json_t *data)
{
	char domain[260], status[24], prev[24], mode[24], checked[44];
	bool blind = jtrue(data, "blind"), changed;
	struct dynbuf b;

	clean(domain, sizeof(domain), chan_jstr(data, "domain"));
	clean(status, sizeof(status),
	      chan_jstr(data, "status") ? chan_jstr(data, "status") : "UNKNOWN");
	clean(prev, sizeof(prev), chan_jstr(data, "previous_status"));
	clean(mode, sizeof(mode), chan_jstr(data, "mode"));
	clean(checked, sizeof(checked), chan_jstr(data, "checked_at"));
	changed = prev[0] && strcmp(prev, status) != 0;
	dynbuf_init(&b, 0);
	if (kind == ALERT_FLAPPING) {
		dynbuf_printf(&b, "%s is flapping: its status changed too often over its recent "
			      "checks (now %s%s%s). stswatch holds the notifications about it until "
			      "it settles; then you get one message with the state at that time.",
			      domain, status, prev[0] ? ", receivers were last told " : "", prev);
	} else if (kind == ALERT_RESOLVED && blind) {
		dynbuf_printf(&b, "The monitor can tell the state of %s again: it is %s.", domain,
			      status);
	} else if (kind == ALERT_RESOLVED && strcmp(status, "OK") == 0) {
		dynbuf_printf(&b, "Resolved: %s is OK again%s%s%s.", domain,
			      prev[0] ? " (it was " : "", prev, prev[0] ? ")" : "");
	} else if (kind == ALERT_RESOLVED) {
		dynbuf_printf(&b, "Partly resolved: some problems of %s are fixed, but it is still "
			      "%s%s%s%s.", domain, status, prev[0] ? " (it was " : "", prev,
			      prev[0] ? ")" : "");
	} else if (blind) {
		dynbuf_printf(&b, "The monitor could not tell the state of %s for a while (status "
			      "%s). This does not mean the domain is broken: stswatch could not "
			      "finish its checks, for the reasons below, and tells you when it can "
			      "see the domain again. Until then a real failure would go unnoticed.",
			      domain, status);
	} else if (kind == ALERT_ESCALATED && changed) {
		dynbuf_printf(&b, "The problem got worse: %s is now %s (it was %s).", domain,
			      status, prev);
	} else if (kind == ALERT_ESCALATED) {
		dynbuf_printf(&b, "More is wrong: %s is still %s and has new findings.", domain,
			      status);
	} else if (kind == ALERT_REMINDER) {
		dynbuf_printf(&b, "Reminder: %s is still %s; the problem is not fixed.", domain,
			      status);
	} else {
		dynbuf_printf(&b, "New problem: %s is %s%s%s%s.", domain, status,
			      changed ? " (it was " : "", changed ? prev : "", changed ? ")" : "");
	}
	if (mode[0])
		dynbuf_printf(&b, " MTA-STS mode: %s.", mode);
	if (checked[0])
		dynbuf_printf(&b, " Checked at %s.", checked);
	push(m, &b);
}

static void fixed_part(struct message *m, const json_t *data)
{
	const json_t *res = jarr(data, "resolved"), *r;
	struct dynbuf b;
	size_t i;

	if (!res || !json_array_size(res))
		return;
	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "Fixed:");
	for (i = 0; i < json_array_size(res) && (r = json_array_get(res, i)); i++) {
		if (i == MESSAGE_LIST_MAX) {
			dynbuf_printf(&b, "\n... and %zu more", json_array_size(res) - i);
			break;
		}
		dynbuf_printf(&b, "\n- ");
		finding_key(r, &b);
	}
	push(m, &b);
}

static void prediction_part(struct message *m, const json_t *data, time_t now)
{
	time_t fails_at = jtime(data, "fails_at");
	char buf[512];
	struct dynbuf b;

	if (!fails_at)
		return;
	message_countdown(fails_at, chan_jstr(data, "fails_reason"), now, buf, sizeof(buf));
	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "%s", buf);
	push(m, &b);
}

static void domain_facts(struct message *m, const json_t *data, time_t now)
{
	time_t fails_at = jtime(data, "fails_at");
	struct dynbuf b;
	char when[80];

	fact(m, "Domain", chan_jstr(data, "domain"));
	dynbuf_init(&b, 0);
	put(&b, chan_jstr(data, "status") ? chan_jstr(data, "status") : "UNKNOWN", 20);
	if (chan_jstr(data, "previous_status")) {
		dynbuf_printf(&b, " (last told ");
		put(&b, chan_jstr(data, "previous_status"), 20);
		dynbuf_printf(&b, ")");
	}
	fact(m, "Status", b.buf);
	dynbuf_free(&b);
	if (fails_at) {
		when_str(fails_at, now, when, sizeof(when));
		fact(m, "Fails", when);
	}
	fact(m, "Mode", chan_jstr(data, "mode"));
	fact(m, "Checked", chan_jstr(data, "checked_at"));
	fact(m, "Incident", chan_jstr(data, "incident"));
}

static void render_domain(struct message *m, enum alert_kind kind, const json_t *data,
			  time_t now)
{
	struct dynbuf b;

	domain_summary(m, kind, data, now);
	lead_domain(m, kind, data);
	if (kind == ALERT_RESOLVED) {
		fixed_part(m, data);
		if (n_findings(data)) {
			dynbuf_init(&b, 0);
			dynbuf_printf(&b, "Still open:");
			push(m, &b);
			prediction_part(m, data, now);
			findings_parts(m, data);
		}
		incidents_part(m, data, true);
	} else {
		if (kind != ALERT_FLAPPING && !jtrue(data, "blind"))
			prediction_part(m, data, now);
		findings_parts(m, data);
		incidents_part(m, data, false);
	}
	domain_facts(m, data, now);
}

/* ---- inconclusive, digest, test ----------------------------------------------------- */

static void render_inconclusive(struct message *m, const json_t *data)
{
	const char *host = chan_jstr(data, "host") ? chan_jstr(data, "host") : "this host";
	const json_t *nd = json_object_get(data, "domains");
	struct dynbuf b;
	char n[32] = "";

	if (json_is_integer(nd))
		bsnprintf(n, sizeof(n), "%lld", (long long)json_integer_value(nd));
	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "INCONCLUSIVE run on ");
	put(&b, host, 253);
	if (chan_jstr(data, "reason")) {
		dynbuf_printf(&b, ": ");
		put(&b, chan_jstr(data, "reason"), SUMMARY_WHAT_MAX);
	}
	m->summary = dynbuf_steal(&b);

	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "This run of stswatch on ");
	put(&b, host, 253);
	dynbuf_printf(&b, " was inconclusive: the monitor's own vantage point failed, not (as far "
		      "as it can tell) the domains it checks. Domain owners were not notified "
		      "about this run, and nothing was resolved by it.");
	push(m, &b);
	if (chan_jstr(data, "reason")) {
		dynbuf_init(&b, 0);
		dynbuf_printf(&b, "Reason: ");
		put(&b, chan_jstr(data, "reason"), MESSAGE_FIELD_MAX);
		push(m, &b);
	}
	dynbuf_init(&b, 0);
	if (n[0])
		dynbuf_printf(&b, "Domains in the run: %s. ", n);
	if (chan_jstr(data, "since")) {
		dynbuf_printf(&b, "Since: ");
		put(&b, chan_jstr(data, "since"), 40);
		dynbuf_printf(&b, ".");
	}
	push(m, &b);
	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "What to do: check the monitor host (its DNS resolver, its outbound "
		      "connections to port 25, its network), then run `stswatch check` on a "
		      "domain known to be good.");
	push(m, &b);
	fact(m, "Host", host);
	fact(m, "Domains", n[0] ? n : NULL);
	fact(m, "Since", chan_jstr(data, "since"));
}

/* Order of the digest's open problems: by fails_at, those without a date last. */
static int open_cmp(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	time_t tx = jtime(x, "fails_at"), ty = jtime(y, "fails_at");

	if (tx && ty && tx != ty)
		return tx < ty ? -1 : 1;
	if (!tx != !ty)
		return tx ? -1 : 1;
	return 0;
}

static void digest_open_line(struct dynbuf *b, const json_t *o, time_t now)
{
	const json_t *fs = jarr(o, "findings"), *f;
	time_t fails_at = jtime(o, "fails_at");
	char when[80];
	size_t i;

	dynbuf_printf(b, "\n- ");
	put(b, chan_jstr(o, "status") ? chan_jstr(o, "status") : "UNKNOWN", 20);
	dynbuf_printf(b, " ");
	put(b, chan_jstr(o, "domain") ? chan_jstr(o, "domain") : "?", 253);
	if (fails_at) {
		when_str(fails_at, now, when, sizeof(when));
		dynbuf_printf(b, ": fails %s", when);
		if (chan_jstr(o, "fails_reason")) {
			dynbuf_printf(b, ", when ");
			put(b, chan_jstr(o, "fails_reason"), FACT_MAX);
		}
	} else {
		dynbuf_printf(b, ": no failure date predicted");
	}
	if (fs && json_array_size(fs)) {
		dynbuf_printf(b, "; findings: ");
		for (i = 0; i < json_array_size(fs) && (f = json_array_get(fs, i)); i++) {
			if (i == DIGEST_FINDINGS_MAX) {
				dynbuf_printf(b, " (+%zu more)", json_array_size(fs) - i);
				break;
			}
			if (i)
				dynbuf_printf(b, ", ");
			if (json_is_string(f))
				put(b, json_string_value(f), 300);
			else
				finding_key(f, b);
		}
	}
}

static void render_digest(struct message *m, const json_t *data, time_t now)
{
	const json_t *open = jarr(data, "open"), *changed = jarr(data, "changed"), *o;
	size_t n_open = open ? json_array_size(open) : 0;
	size_t n_changed = changed ? json_array_size(changed) : 0, i;
	const json_t **sorted = NULL;
	enum alert_status worst = ALERT_OK;
	struct dynbuf b;
	char counts[64];

	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "DIGEST ");
	put(&b, chan_jstr(data, "receiver") ? chan_jstr(data, "receiver") : "stswatch", 100);
	dynbuf_printf(&b, ": %zu open problem%s, %zu change%s", n_open, n_open == 1 ? "" : "s",
		      n_changed, n_changed == 1 ? "" : "s");
	m->summary = dynbuf_steal(&b);

	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "Daily digest for receiver ");
	put(&b, chan_jstr(data, "receiver") ? chan_jstr(data, "receiver") : "?", 100);
	if (chan_jstr(data, "period_start") && chan_jstr(data, "period_end")) {
		dynbuf_printf(&b, ", from ");
		put(&b, chan_jstr(data, "period_start"), 40);
		dynbuf_printf(&b, " to ");
		put(&b, chan_jstr(data, "period_end"), 40);
	}
	dynbuf_printf(&b, ".");
	push(m, &b);

	dynbuf_init(&b, 0);
	if (n_open) {
		sorted = xcalloc(n_open, sizeof(*sorted));
		for (i = 0; i < json_array_size(open) && (o = json_array_get(open, i)); i++)
			sorted[i] = o;
		/* qsort is not stable; the input order breaks ties through the index below */
		for (i = 1; i < n_open; i++)
			for (size_t j = i; j > 0 && open_cmp(&sorted[j - 1], &sorted[j]) > 0; j--) {
				const json_t *t = sorted[j];

				sorted[j] = sorted[j - 1];
				sorted[j - 1] = t;
			}
		dynbuf_printf(&b, "Open problems (%zu), by predicted failure:", n_open);
		for (i = 0; i < n_open && i < MESSAGE_LIST_MAX; i++) {
			digest_open_line(&b, sorted[i], now);
			enum alert_status st = message_status_parse(chan_jstr(sorted[i], "status"));

			worst = alert_status_worst(worst, st);
		}
		if (n_open > MESSAGE_LIST_MAX)
			dynbuf_printf(&b, "\n... and %zu more", n_open - MESSAGE_LIST_MAX);
		free(sorted);
	} else {
		dynbuf_printf(&b, "No open problems.");
	}
	push(m, &b);

	dynbuf_init(&b, 0);
	if (n_changed) {
		dynbuf_printf(&b, "What changed (%zu):", n_changed);
		for (i = 0; i < json_array_size(changed) && (o = json_array_get(changed, i)); i++) {
			if (i == MESSAGE_LIST_MAX) {
				dynbuf_printf(&b, "\n... and %zu more", n_changed - i);
				break;
			}
			dynbuf_printf(&b, "\n- ");
			put(&b, chan_jstr(o, "at") ? chan_jstr(o, "at") : "?", 40);
			dynbuf_printf(&b, " ");
			put(&b, chan_jstr(o, "domain") ? chan_jstr(o, "domain") : "?", 253);
			dynbuf_printf(&b, ": ");
			put(&b, chan_jstr(o, "kind") ? chan_jstr(o, "kind") : "?", 20);
			if (chan_jstr(o, "status")) {
				dynbuf_printf(&b, ", ");
				put(&b, chan_jstr(o, "status"), 20);
			}
		}
	} else {
		dynbuf_printf(&b, "Nothing changed in the period.");
	}
	push(m, &b);
	m->status = worst;
	fact(m, "Receiver", chan_jstr(data, "receiver"));
	bsnprintf(counts, sizeof(counts), "%zu", n_open);
	fact(m, "Open problems", counts);
	fact(m, "Period end", chan_jstr(data, "period_end"));
}

static void render_test(struct message *m, const json_t *data)
{
	const char *msg = chan_jstr(data, "message") ? chan_jstr(data, "message")
						: "test notification from stswatch";
	struct dynbuf b;

	dynbuf_init(&b, 0);
	dynbuf_printf(&b, "TEST ");
	put(&b, chan_jstr(data, "receiver") ? chan_jstr(data, "receiver") : "stswatch", 100);
	dynbuf_printf(&b, ": ");
	put(&b, msg, SUMMARY_WHAT_MAX);
	m->summary = dynbuf_steal(&b);
	dynbuf_init(&b, 0);
	put(&b, msg, MESSAGE_FIELD_MAX);
	dynbuf_printf(&b, ". This is a test; nothing is wrong. If you read this, receiver ");
	put(&b, chan_jstr(data, "receiver") ? chan_jstr(data, "receiver") : "?", 100);
	dynbuf_printf(&b, " works.");
	push(m, &b);
	m->status = ALERT_OK;
	fact(m, "Receiver", chan_jstr(data, "receiver"));
}

/* ---- the entry points --------------------------------------------------------------- */

int message_render(enum alert_kind kind, const json_t *data, time_t now, struct message *m,
		   char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (!json_is_object(data)) {
		bsnprintf(err, errlen, "notification data is not a JSON object");
		return -1;
	}
	m->kind = kind;
	m->status = message_status_parse(chan_jstr(data, "status"));
	switch (kind) {
	case ALERT_PROBLEM:
	case ALERT_ESCALATED:
	case ALERT_REMINDER:
	case ALERT_RESOLVED:
	case ALERT_FLAPPING:
		if (!chan_jstr(data, "domain")) {
			bsnprintf(err, errlen, "%s notification without a domain",
				  alert_kind_str(kind));
			return -1;
		}
		render_domain(m, kind, data, now);
		break;
	case ALERT_INCONCLUSIVE:
		m->status = ALERT_UNKNOWN;
		render_inconclusive(m, data);
		break;
	case ALERT_DIGEST:
		render_digest(m, data, now);
		break;
	case ALERT_TEST:
		render_test(m, data);
		break;
	case ALERT_NONE:
	default:
		bsnprintf(err, errlen, "notification of no known kind");
		return -1;
	}
	return 0;
}

char *message_body(const struct message *m)
{
	struct dynbuf b;

	dynbuf_init(&b, 0);
	for (size_t i = 0; i < m->n_parts; i++)
		dynbuf_printf(&b, "%s%s", i ? "\n\n" : "", m->parts[i]);
	dynbuf_printf(&b, "\n");
	return dynbuf_steal(&b);
}

void message_free(struct message *m)
{
	free(m->summary);
	for (size_t i = 0; i < m->n_parts; i++)
		free(m->parts[i]);
	free(m->parts);
	for (size_t i = 0; i < m->n_facts; i++) {
		free(m->facts[i].name);
		free(m->facts[i].value);
	}
	memset(m, 0, sizeof(*m));
}
