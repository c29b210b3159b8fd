/* dns_pace: how many DNS questions may be out at once, adapted to what the resolver answers. */
#include "dns_pace.h"

#define HOLD_MIN_MS 100

void dns_pace_init(struct dns_pace *p, unsigned initial, unsigned min, unsigned max)
{
	*p = (struct dns_pace){ 0 };
	p->min = min ? min : 1;
	p->max = max < p->min ? p->min : max;
	p->window = initial < p->min ? p->min : initial > p->max ? p->max : initial;
	p->ssthresh = p->max;
	p->lowest = p->highest = p->window;
}

bool dns_pace_may_send(const struct dns_pace *p)
{
	return p->outstanding < p->window;
}

void dns_pace_sent(struct dns_pace *p)
{
	p->outstanding++;
}

static void set_window(struct dns_pace *p, unsigned w)
{
	p->window = w < p->min ? p->min : w > p->max ? p->max : w;
	if (p->window < p->lowest)
		p->lowest = p->window;
	if (p->window > p->highest)
		p->highest = p->window;
}

static void grow(struct dns_pace *p)
{
	if (p->window < p->ssthresh) {
		set_window(p, p->window + 1);	/* one more per answer: doubles per round */
		return;
	}
	if (++p->acc >= p->window) {
		p->acc = 0;
		set_window(p, p->window + 1);
	}
}

void dns_pace_done(struct dns_pace *p, enum pace_outcome how, uint32_t rtt_ms, uint64_t now_ms,
		   bool waiting)
{
	bool limited = waiting || p->outstanding >= p->window;
	uint64_t hold;

	if (p->outstanding)
		p->outstanding--;
	switch (how) {
	case PACE_ANSWER:
		p->answered++;
		p->srtt_ms = p->srtt_ms ? (uint32_t)((7ull * p->srtt_ms + rtt_ms) / 8) :
			     (rtt_ms ? rtt_ms : 1);
		if (limited)
			grow(p);	/* more room helps only when the window held questions back */
		break;
	case PACE_LATE_ANSWER:
		p->answered++;
		p->lost++;
		p->last_loss = now_ms ? now_ms : 1;
		if (now_ms < p->hold_until)
			break;	/* the same burst of losses: one decrease is enough */
		hold = 4ull * p->srtt_ms;
		p->hold_until = now_ms + (hold < HOLD_MIN_MS ? HOLD_MIN_MS : hold);
		p->decreases++;
		p->ssthresh = p->window / 2 < p->min ? p->min : p->window / 2;
		p->acc = 0;
		set_window(p, p->ssthresh);
		break;
	case PACE_NO_ANSWER:
		p->unanswered++;
		break;
	}
}

bool dns_pace_lossy_since(const struct dns_pace *p, uint64_t since_ms)
{
	return p->last_loss && p->last_loss >= since_ms;
}
