/* timeutil: the monotonic clock for durations, RFC 3339 for what is shown or stored. */
#include "timeutil.h"

#include <string.h>
#include <time.h>

#include "str.h"

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *time_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		bsnprintf(buf, len, "?");
	return buf;
}

int time_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return -1;
	}
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

#define MINUTE 60.0
#define HOUR 3600.0
#define DAY 86400.0

long days_until(time_t t, time_t now)
{
	/* a conversion to long cuts toward zero, on both sides of now */
	return (long)(difftime(t, now) / DAY);
}

const char *time_span_str(time_t t, time_t now, char *buf, size_t len)
{
	double d = difftime(t, now), ad = d < 0 ? -d : d;
	const char *unit;
	long n;

	if (ad >= 2 * DAY) {
		n = days_until(t, now);
		n = n < 0 ? -n : n;
		unit = "day";
	} else if (ad >= 2 * HOUR) {
		n = (long)(ad / HOUR);
		unit = "hour";
	} else if (ad >= 2 * MINUTE) {
		n = (long)(ad / MINUTE);
		unit = "minute";
	} else {
		n = (long)ad;
		unit = "second";
	}
	bsnprintf(buf, len, "%ld %s%s", n, unit, n == 1 ? "" : "s");
	return buf;
}

const char *time_distance_str(time_t t, time_t now, char *buf, size_t len)
{
	char span[48];

	if (t == now)
		bsnprintf(buf, len, "now");
	else if (t > now)
		bsnprintf(buf, len, "in %s", time_span_str(t, now, span, sizeof(span)));
	else
		bsnprintf(buf, len, "%s ago", time_span_str(t, now, span, sizeof(span)));
	return buf;
}
