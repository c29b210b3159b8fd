/*
 * outbox: the delivery policy of queued notifications, pure: what an answer means
 * (sent, try again, failed for good, receiver gone), when to try again (exponential
 * backoff with jitter, Retry-After honoured) and when a pending one expires.
 */
#include "outbox.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *outbox_result_str(enum outbox_result r)
{
	switch (r) {
	case OUTBOX_SENT:
		return "sent";
	case OUTBOX_RETRY:
		return "retry";
	case OUTBOX_FAILED:
		return "failed";
	case OUTBOX_DISABLED:
		return "disabled";
	}
	return "failed";
}

enum outbox_result outbox_classify(bool smtp, bool transport_ok, bool permanent_transport,
				   long code)
{
	if (permanent_transport)
		return OUTBOX_FAILED;
	if (smtp) {
		/* the reply to the end of DATA; 4xx is "try again", 5xx is "never" (RFC 5321) */
		if (transport_ok && code >= 200 && code < 300)
			return OUTBOX_SENT;
		if (code >= 500 && code < 600)
			return OUTBOX_FAILED;
		return OUTBOX_RETRY;
	}
	if (!transport_ok || code == 0)
		return OUTBOX_RETRY;
	if (code >= 200 && code < 300)
		return OUTBOX_SENT;
	if (code == 410)
		return OUTBOX_DISABLED;
	if (code == 429 || code == 408 || (code >= 500 && code < 600))
		return OUTBOX_RETRY;
	/* a redirect (never followed: the URL is wrong) or another client error */
	return OUTBOX_FAILED;
}

static int month_index(const char *m)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	for (int i = 0; i < 12; i++)
		if (strncmp(m, names[i], 3) == 0)
			return i;
	return -1;
}

/* IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT" (the form RFC 9110 senders must use). */
static int parse_http_date(const char *s, time_t *out)
{
	struct tm tm;
	char wday[4], mon[4], zone[4];
	int day, year, h, m, sec, mi;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wday, &day, mon, &year, &h, &m, &sec,
		   zone) != 8 || strcmp(zone, "GMT") != 0)
		return -1;
	mi = month_index(mon);
	if (mi < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || m > 59 || sec > 60)
		return -1;
	tm.tm_mday = day;
	tm.tm_mon = mi;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

long outbox_retry_after(const char *value, time_t now)
{
	char *end;
	long v;
	time_t t;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (!*value)
		return -1;
	if (isdigit((unsigned char)*value)) {
		v = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end || v < 0)
			return -1;
		return v > OUTBOX_RETRY_AFTER_MAX ? OUTBOX_RETRY_AFTER_MAX : v;
	}
	if (parse_http_date(value, &t) < 0)
		return -1;
	if (t <= now)
		return 0;
	return t - now > OUTBOX_RETRY_AFTER_MAX ? OUTBOX_RETRY_AFTER_MAX : (long)(t - now);
}

time_t outbox_next_attempt(const char *id, unsigned attempts, time_t now, long retry_after_s)
{
	uint64_t h = 1469598103934665603ull;
	double wait = OUTBOX_BACKOFF_BASE, jitter;

	for (unsigned i = 1; i < attempts && wait < OUTBOX_BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > OUTBOX_BACKOFF_MAX)
		wait = OUTBOX_BACKOFF_MAX;
	for (const unsigned char *c = (const unsigned char *)(id ? id : ""); *c; c++)
		h = (h ^ *c) * 1099511628211ull;
	h = (h ^ attempts) * 1099511628211ull;
	jitter = ((double)(h % 4001) / 4000.0 - 0.5) * 0.4;	/* -20% .. +20% */
	wait *= 1.0 + jitter;
	if (retry_after_s >= 0 && (double)retry_after_s > wait)
		wait = (double)retry_after_s;
	return now + (time_t)(wait + 0.5);
}

bool outbox_expired(time_t created, time_t now, unsigned max_pending)
{
	return max_pending && now - created >= (time_t)max_pending;
}
