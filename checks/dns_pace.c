/* dns_pace: how many DNS questions may be out at once, adapted to what the resolver answers. */
#include "dns_pace.h"

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

void dns_pace_done(struct dns_pace *p, unsigned timeouts, uint64_t now_ms, uint64_t period_ms)
{
	if (p->outstanding)
		p->outstanding--;
	p->answered++;
	if (timeouts) {
		p->retried++;
		if (now_ms < p->hold_until)
			return;	/* the same burst of losses: one decrease is enough */
		p->hold_until = now_ms + period_ms;
		p->decreases++;
		p->ssthresh = p->window / 2 < p->min ? p->min : p->window / 2;
		p->acc = 0;
		set_window(p, p->ssthresh);
		return;
	}
	if (p->window < p->ssthresh) {
		set_window(p, p->window + 1);	/* one more per answer: doubles per round */
		return;
	}
	if (++p->acc >= p->window) {
		p->acc = 0;
		set_window(p, p->window + 1);
	}
}
