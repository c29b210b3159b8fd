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

long days_until(time_t t, time_t now)
{
	double d = difftime(t, now) / 86400.0;

	return d < 0 ? -(long)((-d) + 0.999999999) : (long)d;
}
