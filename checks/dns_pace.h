/* dns_pace: how many DNS questions may be out at once, adapted to what the resolver answers. */
#ifndef STSWATCH_DNS_PACE_H
#define STSWATCH_DNS_PACE_H

#include <stdbool.h>
#include <stdint.h>

/* How a question came back. */
enum pace_outcome {
	PACE_ANSWER,		/* answered at the first try (any rcode: the resolver spoke) */
	PACE_LATE_ANSWER,	/* answered only after a try went unanswered: one was lost */
	PACE_NO_ANSWER,		/* every try went unanswered */
};

/*
 * A congestion window on outstanding questions, as TCP keeps one on bytes in flight.
 * It doubles per round of answers until the first loss (slow start), then grows by one
 * per window of answers; it grows only while it is what holds questions back. A lost
 * question is one answered only at a retry: the resolver (or the path) dropped the first
 * try, and the name is fine. That halves the window, at most once per hold time (four
 * smoothed round trips, at least 100 ms), since the losses of one burst come to light
 * together. A question never answered says nothing of the load (a name whose servers do
 * not answer looks the same) and leaves the window as it is. Pure: the caller counts,
 * asks and passes its clock.
 */
struct dns_pace {
	unsigned window;	/* questions that may be out at once */
	unsigned ssthresh;	/* slow start up to here, then one more per window of answers */
	unsigned outstanding;	/* questions out now */
	unsigned acc;		/* answers since the window last grew (above ssthresh) */
	unsigned min, max;
	uint32_t srtt_ms;	/* smoothed round trip of first-try answers, 0 before the first */
	uint64_t hold_until;	/* no second decrease before this (ms) */
	uint64_t last_loss;	/* when the last lost question was answered (ms), 0: never */
	/* for the record */
	uint64_t answered, lost, unanswered, decreases, queued, reasked;
	unsigned lowest, highest;	/* the window's range so far */
};

void dns_pace_init(struct dns_pace *p, unsigned initial, unsigned min, unsigned max);
/* True when one more question may go out now. */
bool dns_pace_may_send(const struct dns_pace *p);
/* A question went out. */
void dns_pace_sent(struct dns_pace *p);
/*
 * A question came back: how, rtt_ms after it went out (its last try for a late answer),
 * at now_ms; waiting tells whether questions wait for room in the window.
 */
void dns_pace_done(struct dns_pace *p, enum pace_outcome how, uint32_t rtt_ms, uint64_t now_ms,
		   bool waiting);
/*
 * True when a question lost to the load came back since since_ms: a question that got no
 * answer in that time is worth asking again, not reported as "no answer".
 */
bool dns_pace_lossy_since(const struct dns_pace *p, uint64_t since_ms);

#endif
