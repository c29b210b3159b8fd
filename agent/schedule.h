/*
 * schedule: when each domain is due, pure: the phase of a domain in its interval (a stable
 * hash of its name, so a fleet never starts at once and a restart keeps the phases), the
 * next slot after a check, quick re-checks of a domain that turned bad, and a gradual
 * catch-up of domains overdue after a stop. No clock: now is a parameter.
 */
#ifndef STSWATCH_SCHEDULE_H
#define STSWATCH_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct schedule_opts {
	unsigned retry_interval;	/* seconds before re-checking a domain that turned bad */
	unsigned confirm;		/* re-checks at retry_interval before the normal interval */
	unsigned catchup_window;	/* overdue domains are spread over this many seconds */
	unsigned new_window;		/* a domain never checked is due within this many seconds */
};

/* Defaults: retry after 5 minutes up to 2 times, catch up over 10 minutes, new within 60 s. */
void schedule_opts_defaults(struct schedule_opts *o);

/* The domain's phase in [0, interval): the same for the same name and interval. */
unsigned schedule_phase(const char *domain, unsigned interval);

/* The first slot of the domain (its phase plus a multiple of interval) after t. */
time_t schedule_next_slot(const char *domain, unsigned interval, time_t t);

/* What the scheduler keeps per domain between checks (in the database's schedule table). */
struct schedule_entry {
	time_t next_due;	/* 0: never scheduled */
	unsigned retries;	/* quick re-checks done since it turned bad */
};

/*
 * When a domain is first due, after a start or a reload: a kept next_due in the future
 * stays; one in the past (the daemon was stopped) is spread over the catch-up window by
 * the phase, so a restart after a long stop checks the backlog gradually; a domain never
 * scheduled is due within new_window, spread the same way. When the window is as long as
 * the interval or longer, the first due time is the domain's first slot from now on (the
 * phase spreads it over the interval), so the second check is an interval after the first.
 */
time_t schedule_first_due(const struct schedule_opts *o, const char *domain, unsigned interval,
			  const struct schedule_entry *kept, time_t now);

/*
 * After a check at now: unsettled (it turned bad, or an alert still waits to be confirmed)
 * means a re-check after retry_interval, at most confirm times in a row; otherwise the
 * next slot of the interval. Updates e and returns whether the next check is a re-check
 * (the sweep then probes MX hosts afresh instead of using results shared by others).
 */
bool schedule_after_check(const struct schedule_opts *o, const char *domain, unsigned interval,
			  bool unsettled, time_t now, struct schedule_entry *e);

#endif
