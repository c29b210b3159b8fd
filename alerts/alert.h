/*
 * alert: the alert decision for one domain, pure like the judge: (previous alert state,
 * the new verdict, silences, configuration, now) -> (new state, one notification or none).
 * No I/O, no clock, no globals. Problems are incidents, one per (domain, cause): ten
 * findings from one expired MX certificate are one incident.
 */
#ifndef STSWATCH_ALERT_H
#define STSWATCH_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ALERT_REMIND_MAX 8	/* remind marks (days before fails_at) */
#define ALERT_ID_LEN 17		/* 16 hex digits and NUL */
#define ALERT_CAUSE_LEN 300
#define ALERT_KEY_LEN 400	/* "code subject" of a finding */
#define ALERT_KEYS_MAX 64	/* findings remembered per incident */

/* The four states, numbered as the plugin's exit codes. */
enum alert_status {
	ALERT_OK = 0,
	ALERT_WARNING = 1,
	ALERT_CRITICAL = 2,
	ALERT_UNKNOWN = 3,
};

/* What a notification is about; the webhook type is "stswatch." + alert_kind_str(). */
enum alert_kind {
	ALERT_NONE = 0,
	ALERT_PROBLEM,		/* an incident is confirmed (or the monitor has been blind) */
	ALERT_ESCALATED,	/* WARNING to CRITICAL, or new findings in an open incident */
	ALERT_REMINDER,		/* a remind mark before fails_at, or repeat_interval passed */
	ALERT_RESOLVED,		/* an incident is gone (the domain OK again, or part of it) */
	ALERT_FLAPPING,		/* the domain flaps; its notifications are held until it settles */
	ALERT_INCONCLUSIVE,	/* a run saw the monitor's own vantage point fail (operator) */
	ALERT_DIGEST,		/* a receiver's daily digest */
	ALERT_TEST,		/* "stswatch alerts test" */
};

/* "ok", "warning", "critical", "unknown" are not used; these are the kinds. */
const char *alert_kind_str(enum alert_kind k);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *alert_status_str(enum alert_status s);
/* The worse of two statuses, CRITICAL > UNKNOWN > WARNING > OK as everywhere in stswatch. */
enum alert_status alert_status_worst(enum alert_status a, enum alert_status b);

/* One finding of the new verdict, as the caller (the agent) translated it. */
struct alert_finding {
	const char *code;	/* "mx.cert.expired" */
	const char *subject;	/* "mx1.example.org[192.0.2.1]" */
	enum alert_status sev;	/* OK for an INFO note (notes make no incident) */
	const char *cause;	/* what it is one symptom of: "mx:mx1.example.org" */
	bool transient;		/* can flicker (a refused connection): confirmed first */
};

struct alert_verdict {
	enum alert_status status;	/* the domain's status */
	bool could_not_tell;		/* an UNKNOWN finding: nothing resolves on this check */
	bool inconclusive;		/* the monitor's own view failed (vantage): nothing opens,
					 * resolves or counts as the domain being unknown */
	time_t fails_at;		/* 0: no failure predicted */
	size_t n;
	const struct alert_finding *v;
};

/* A silence of the domain (code "" for every finding) until a time. */
struct alert_silence {
	const char *code;
	time_t until;
};

struct alert_conf {
	unsigned confirm;		/* consecutive checks that confirm a transient failure */
	size_t n_remind;
	int remind_days[ALERT_REMIND_MAX];	/* days before fails_at, e.g. 14 7 3 1 0 */
	unsigned repeat_interval;	/* seconds between reminders of an open problem; 0 off */
	unsigned unknown_after;		/* seconds of "could not tell" before it is told */
	unsigned flap_window;		/* checks looked at for flapping (at most 32) */
	double flap_high, flap_low;	/* start and stop thresholds of the state change rate */
};

/* Defaults: confirm 2, remind 14 7 3 1 0 days, repeat 24 h, unknown after 6 h, flapping
 * over 21 checks between 25% and 50% (as Nagios). */
void alert_conf_defaults(struct alert_conf *c);

/* One problem of the domain, from its first sight to its resolution. */
struct alert_incident {
	char id[ALERT_ID_LEN];		/* stable: from domain, cause and the time it opened */
	char cause[ALERT_CAUSE_LEN];
	enum alert_status sev;		/* its worst finding now */
	enum alert_status told;		/* the severity receivers were told; OK: not yet */
	unsigned soft;			/* checks seen while not yet confirmed */
	bool transient;			/* every finding of it can flicker */
	bool open;			/* false: resolved, the resolution not yet told (held) */
	time_t opened_at, told_at;
	size_t n_keys;
	char (*keys)[ALERT_KEY_LEN];	/* "code subject" of its findings, the last seen */
	size_t n_told;
	char (*told_keys)[ALERT_KEY_LEN];	/* the findings receivers were told of */
};

/* The alert state of one domain, kept between checks (alert_json.c stores it). */
struct alert_state {
	uint32_t flap_bits;		/* bit 0: the last check changed status from the one before */
	unsigned flap_n;		/* checks recorded in flap_bits */
	enum alert_status last_status;	/* of the last check */
	bool flapping;
	bool flap_told;
	time_t unknown_since;		/* 0: the last check could tell */
	bool blind_told;		/* "could not tell" for unknown_after was notified */
	time_t fails_at;		/* as of the last check, for the remind marks */
	uint32_t reminded;		/* bit i: remind_days[i] was told (or had passed) */
	time_t last_sent;		/* the last notification about the domain */
	size_t n;
	struct alert_incident *v;
};

/* What one incident did in this evaluation. */
struct alert_event {
	enum alert_kind kind;
	size_t incident;	/* index in the new state's incidents, or in gone[] when resolved */
};

/* The one notification of a domain for this check (kind ALERT_NONE: nothing to say). */
struct alert_note {
	enum alert_kind kind;		/* the most important event */
	char incident[ALERT_ID_LEN];	/* the incident of that event */
	enum alert_status status, previous_status;	/* now, and as last told */
	bool blind;			/* about "could not tell", not about the domain */
	time_t fails_at;
	size_t n_events;
	struct alert_event *events;
	size_t n_gone;
	struct alert_incident *gone;	/* incidents resolved by this check (owned here) */
};

/* Start an empty state. */
void alert_state_init(struct alert_state *s);
/* Free what a state owns. */
void alert_state_free(struct alert_state *s);
/* Deep copy. */
void alert_state_copy(struct alert_state *dst, const struct alert_state *src);
/* Free what a note owns. */
void alert_note_free(struct alert_note *n);

/*
 * Decide. prev may be an empty state (a domain never seen). next receives the new state
 * (freshly initialised by the call), note the notification (kind ALERT_NONE when there is
 * none). The domain name goes into the incident ids only. Returns 0.
 */
int alert_decide(const struct alert_conf *c, const char *domain, const struct alert_state *prev,
		 const struct alert_verdict *v, const struct alert_silence *silences,
		 size_t n_silences, time_t now, struct alert_state *next, struct alert_note *note);

/* The status receivers were last told of, over every incident (OK when none). */
enum alert_status alert_state_told(const struct alert_state *s);

#endif
