/*
 * holdback: checked domains that wait, in memory, for the verdict on the monitor's port 25
 * (checks/vantage.c, vantage_hold) before they are judged; oldest first, at most
 * VANTAGE_HOLD_MAX.
 */
#include "holdback.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void holdback_init(struct holdback *hb)
{
	memset(hb, 0, sizeof(*hb));
}

size_t holdback_count(const struct holdback *hb)
{
	return hb->n;
}

int holdback_put(struct holdback *hb, size_t key, struct domain_facts *df, uint64_t since_ms)
{
	struct held *h;

	if (hb->n >= VANTAGE_HOLD_MAX)
		return -1;
	h = xmalloc(sizeof(*h));
	h->key = key;
	h->since_ms = since_ms;
	h->df = *df;
	memset(df, 0, sizeof(*df));	/* taken */
	hb->v[(hb->head + hb->n) % VANTAGE_HOLD_MAX] = h;
	hb->n++;
	return 0;
}

const struct held *holdback_oldest(const struct holdback *hb)
{
	return hb->n ? hb->v[hb->head] : NULL;
}

bool holdback_take(struct holdback *hb, struct held *out)
{
	struct held *h;

	if (!hb->n)
		return false;
	h = hb->v[hb->head];
	hb->v[hb->head] = NULL;
	hb->head = (hb->head + 1) % VANTAGE_HOLD_MAX;
	hb->n--;
	*out = *h;
	free(h);
	return true;
}

size_t holdback_free(struct holdback *hb)
{
	size_t dropped = hb->n;
	struct held h;

	while (holdback_take(hb, &h))
		domain_facts_free(&h.df);
	hb->head = 0;
	return dropped;
}
