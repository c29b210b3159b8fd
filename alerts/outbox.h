/*
 * outbox: the delivery policy of queued notifications, pure: what an answer means
 * (sent, try again, failed for good, receiver gone), when to try again (exponential
 * backoff with jitter, Retry-After honoured) and when a pending one expires.
 */
#ifndef STSWATCH_OUTBOX_H
#define STSWATCH_OUTBOX_H

#include <stdbool.h>
#include <time.h>

#define OUTBOX_BACKOFF_BASE 30		/* seconds before the first retry */
#define OUTBOX_BACKOFF_MAX 3600		/* the longest wait between two tries */
#define OUTBOX_RETRY_AFTER_MAX 86400	/* a Retry-After beyond a day is read as a day */

enum outbox_result {
	OUTBOX_SENT,		/* 2xx, or 250 to the end of the SMTP DATA */
	OUTBOX_RETRY,		/* 429, 5xx, 4xx SMTP, or no answer: try again later */
	OUTBOX_FAILED,		/* another answer: this notification will not go through */
	OUTBOX_DISABLED,	/* 410 Gone: the receiver is gone; stop sending to it */
};

/* "sent", "retry", "failed", "disabled". */
const char *outbox_result_str(enum outbox_result r);

/*
 * What the answer to one attempt means. transport_ok: an answer was read (for SMTP: the
 * whole transaction); code: the HTTP status or the last SMTP reply code (0: none);
 * permanent_transport: a failure that no retry fixes (a receiver that refuses STARTTLS,
 * a rejected login, a malformed URL).
 */
enum outbox_result outbox_classify(bool smtp, bool transport_ok, bool permanent_transport,
				   long code);

/*
 * Parse a Retry-After header value: delta-seconds or an HTTP-date (RFC 9110 10.2.3), as
 * seconds from now (0 for a date in the past); -1 when empty or not parseable.
 */
long outbox_retry_after(const char *value, time_t now);

/*
 * When to try again after `attempts` failed tries (1 after the first): 30 s doubling to at
 * most an hour, spread by +-20% of jitter derived from the notification id (the same id
 * and attempt give the same time, so the policy is testable and restarts keep it), and
 * never before a Retry-After (retry_after_s >= 0).
 */
time_t outbox_next_attempt(const char *id, unsigned attempts, time_t now, long retry_after_s);

/* Has a notification created at created been pending for longer than max_pending? */
bool outbox_expired(time_t created, time_t now, unsigned max_pending);

#endif
