/*
 * schedule: when each domain is due, pure: the phase of a domain in its interval (a stable
 * hash of its name, so a fleet never starts at once and a restart keeps the phases), the
 * next slot after a check, quick re-checks of a domain that turned bad, and a gradual
 * catch-up of domains overdue after a stop. No clock: now is a parameter.
 */
#include "schedule.h"

void schedule_opts_defaults(struct schedule_opts *o)
{
	o->retry_interval = 300;
	o->confirm = 2;
	o->catchup_window = 600;
	o->new_window = 60;
}

/* 64-bit FNV-1a of the lower-cased name: spread evenly, the same on every start. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 1099511628211ull;
	}
	/* FNV's low bits are weak for short keys: fold the high half in */
	return h ^ (h >> 29);
}

unsigned schedule_phase(const char *domain, unsigned interval)
{
	return interval ? (unsigned)(name_hash(domain) % interval) : 0;
}

time_t schedule_next_slot(const char *domain, unsigned interval, time_t t)
{
	time_t phase = (time_t)schedule_phase(domain, interval), iv = (time_t)interval, k;

	if (!interval)
		return t + 1;
	/* the slots are phase + k * interval; the first strictly after t */
	k = (t - phase) / iv;
	if (phase + k * iv <= t)
		k++;
	while (phase + k * iv <= t)
		k++;
	return phase + k * iv;
}

time_t schedule_first_due(const struct schedule_opts *o, const char *domain, unsigned interval,
			  const struct schedule_entry *kept, time_t now)
{
	uint64_t h = name_hash(domain);
	unsigned window;

	if (kept && kept->next_due > now) {
		/* a next check further away than an interval means the interval was shortened */
		if (interval && kept->next_due > now + (time_t)interval)
			return schedule_next_slot(domain, interval, now);
		return kept->next_due;
	}
	window = kept && kept->next_due ? o->catchup_window : o->new_window;
	/*
	 * A window that covers the interval: the phase is the spread. The first check is the
	 * domain's first slot from now on, so the next one comes an interval later; a point
	 * of the window by the hash would be off the slots, and the next slot would follow
	 * less than an interval after it (two checks in the first interval).
	 */
	if (interval && window >= interval)
		return schedule_next_slot(domain, interval, now - 1);
	return now + (window ? (time_t)(h % window) : 0);
}

bool schedule_after_check(const struct schedule_opts *o, const char *domain, unsigned interval,
			  bool unsettled, time_t now, struct schedule_entry *e)
{
	if (unsettled && e->retries < o->confirm && o->retry_interval &&
	    o->retry_interval < interval) {
		e->retries++;
		e->next_due = now + (time_t)o->retry_interval;
		return true;
	}
	e->retries = unsettled ? e->retries : 0;
	e->next_due = schedule_next_slot(domain, interval, now);
	return false;
}
