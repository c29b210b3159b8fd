/*
 * deliver: the outbox delivered on the event loop: due notifications to their receivers
 * through libcurl multi, several at once, at least once with a stable id, retried as
 * alerts/outbox.c says; email rows of one receiver go out as one message; Alertmanager's
 * firing alerts are re-sent before they go stale.
 */
#ifndef STSWATCH_DELIVER_H
#define STSWATCH_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "store.h"
#include "lib/curlm.h"
#include "lib/loop.h"

struct deliver;

struct deliver_stats {
	size_t sent, retried, failed, expired, disabled;
};

/* A deliverer on lp sending through cm, reading and writing st, receivers from cfg. */
struct deliver *deliver_new(struct loop *lp, struct curlm *cm, struct store *st,
			    const struct config *cfg);
/* Stop: requests in flight are abandoned (their rows stay pending, resent later). */
void deliver_free(struct deliver *d);
/* Something was queued (or time passed): look at the outbox now. */
void deliver_kick(struct deliver *d);
/* Start nothing more (shutdown, reload); requests in flight may still end. */
void deliver_stop(struct deliver *d);
/* Requests in flight. */
unsigned deliver_in_flight(const struct deliver *d);
/* Nothing in flight and nothing due at now (run --once may exit). */
bool deliver_idle(struct deliver *d, time_t now);
/* Counters since deliver_new. */
const struct deliver_stats *deliver_stats(const struct deliver *d);
/* Re-send the firing alerts of every Alertmanager receiver now (its state-based sync). */
void deliver_alertmanager_sync(struct deliver *d);

/*
 * "stswatch alerts test RECEIVER": send one test notification now, outside the outbox,
 * and print what the receiver answered. The exit code: 0 when it took it.
 */
int deliver_test(const struct config *cfg, const char *receiver);

#endif
