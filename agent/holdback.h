/*
 * holdback: checked domains that wait, in memory, for the verdict on the monitor's port 25
 * (checks/vantage.c, vantage_hold) before they are judged; oldest first, at most
 * VANTAGE_HOLD_MAX. Nothing here is written anywhere: a domain still held when its
 * command ends was never recorded, so it is due and checked again at the next run.
 */
#ifndef STSWATCH_HOLDBACK_H
#define STSWATCH_HOLDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/facts.h"
#include "checks/vantage.h"

struct held {
	size_t key;		/* the caller's: which domain */
	uint64_t since_ms;	/* when it began to wait, on the caller's clock */
	struct domain_facts df;
};

struct holdback {
	struct held *v[VANTAGE_HOLD_MAX];	/* a ring, v[(head + i) % VANTAGE_HOLD_MAX] */
	size_t head, n;
};

/* Hold nothing. */
void holdback_init(struct holdback *hb);
/* Domains waiting. */
size_t holdback_count(const struct holdback *hb);
/*
 * Keep domain key's facts (taken: df is zeroed) from since_ms on; -1 when VANTAGE_HOLD_MAX
 * already wait (df is left as it was).
 */
int holdback_put(struct holdback *hb, size_t key, struct domain_facts *df, uint64_t since_ms);
/* The domain that has waited longest, NULL when none. */
const struct held *holdback_oldest(const struct holdback *hb);
/* Take the oldest out into *out (the caller frees out->df); false when none waits. */
bool holdback_take(struct holdback *hb, struct held *out);
/* Drop every domain still waiting (their facts freed, nothing recorded); how many. */
size_t holdback_free(struct holdback *hb);

#endif
