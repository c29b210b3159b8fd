/* dns_pace: how many DNS questions may be out at once, adapted to what the resolver answers. */
#ifndef STSWATCH_DNS_PACE_H
#define STSWATCH_DNS_PACE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A congestion window on outstanding questions, as TCP keeps one on bytes in flight: it
 * doubles per round of answers until the first sign of loss (slow start), then grows by
 * one per window of answers; a question that needed a retry (the resolver or the network
 * dropped one) halves it, once per timeout period, since the losses of one burst come to
 * light over that long. The window never goes below min or above max. Pure: the caller
 * counts, asks and passes its clock.
 */
struct dns_pace {
	unsigned window;	/* questions that may be out at once */
	unsigned ssthresh;	/* slow start up to here, then one more per window of answers */
	unsigned outstanding;	/* questions out now */
	unsigned acc;		/* answers since the window last grew (above ssthresh) */
	unsigned min, max;
	uint64_t hold_until;	/* no second decrease before this (ms) */
	/* for the record */
	uint64_t answered, retried, decreases, queued;
	unsigned lowest, highest;	/* the window's range so far */
};

void dns_pace_init(struct dns_pace *p, unsigned initial, unsigned min, unsigned max);
/* True when one more question may go out now. */
bool dns_pace_may_send(const struct dns_pace *p);
/* A question went out. */
void dns_pace_sent(struct dns_pace *p);
/*
 * A question came back after timeouts retries (c-ares's count: 0 for an answer to the
 * first try; a question that got no answer at all has timed out every try), at now_ms;
 * period_ms is the resolver's timeout per try.
 */
void dns_pace_done(struct dns_pace *p, unsigned timeouts, uint64_t now_ms, uint64_t period_ms);

#endif
