/* timeutil: the monotonic clock for durations, RFC 3339 for what is shown or stored. */
#ifndef STSWATCH_TIMEUTIL_H
#define STSWATCH_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC, for deadlines and durations only. */
uint64_t mono_ms(void);
/* Format a UTC time as RFC 3339 ("2026-11-28T19:34:17Z") into buf (at least 21 bytes). */
const char *time_rfc3339(time_t t, char *buf, size_t len);
/* Parse "YYYY-MM-DD" or RFC 3339 UTC ("...T..:..:..Z"); 0 on success. */
int time_parse(const char *s, time_t *out);
/*
 * Whole days from now to t, cut toward zero: 2.9 days ahead is 2, 2.9 days past is -2.
 * The one rule for a count of days shown anywhere (time_span_str uses it too).
 */
long days_until(time_t t, time_t now);
/*
 * The distance between t and now in whole units, cut toward zero like days_until: days
 * from two days on, else hours from two hours on, else minutes from two minutes on, else
 * seconds ("15 days", "47 hours", "1 second"). Callers add "in", "ago", "left". Returns buf.
 */
const char *time_span_str(time_t t, time_t now, char *buf, size_t len);
/* "in 15 days", "3 days ago", "now": time_span_str with its direction. Returns buf. */
const char *time_distance_str(time_t t, time_t now, char *buf, size_t len);

#endif
