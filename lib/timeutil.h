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
/* Whole days from now to t, rounded down (negative when t is past). */
long days_until(time_t t, time_t now);

#endif
