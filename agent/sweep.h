/* sweep: check domains on a caller's loop, a bounded window in flight, MX hosts shared. */
#ifndef STSWATCH_SWEEP_H
#define STSWATCH_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clients.h"
#include "config.h"
#include "checks/facts.h"
#include "lib/loop.h"

struct sweep;

/*
 * A domain's check ended (complete, or at its deadline with df->deadline_hit and
 * df->pending). Called once per sweep_add, from the loop, in order of completion. The
 * callee may take what df owns (copy the struct and zero it); the sweep frees the rest.
 * It may call sweep_add, sweep_shutdown and even sweep_free.
 */
typedef void (*sweep_done_fn)(void *arg, struct domain_facts *df);

/*
 * There is room for up to room more domains in flight and none is waiting: add some now
 * (or none). Lets a caller stream a long list instead of queueing all of it.
 */
typedef void (*sweep_room_fn)(void *arg, struct sweep *sw, unsigned room);

struct sweep_opts {
	unsigned concurrency;	/* domains in flight at most (0 counts as 1) */
	bool ipv6;		/* probe IPv6 addresses of MX hosts */
	bool probe_policy;	/* TXT _mta-sts and the policy fetch */
	bool probe_mx;		/* MX and STARTTLS */
	bool probe_tlsrpt;
	unsigned policy_ms;	/* timeout of the whole policy fetch */
	/*
	 * How long a probed MX host serves the other domains that list it, from the end of
	 * its probe; 0: as long as the sweep lives (check and run --once: the whole run).
	 */
	uint64_t host_ttl_ms;
	size_t host_cache_max;	/* finished MX hosts kept for others; 0: 4096 */
	/*
	 * An MX host's address lookup that ends without an answer (timeout, SERVFAIL, ...)
	 * is asked again up to this many times, host_dns_retry_ms after the failure, before
	 * every domain that lists the host is handed "could not tell" (0: never again).
	 */
	unsigned host_dns_retries;
	unsigned host_dns_retry_ms;
};

struct sweep_domain_opts {
	/* 0: none; else the check ends this long after it starts (leaves the queue) */
	unsigned deadline_ms;
	/* probe the MX hosts anew instead of using results still within the TTL (a retry) */
	bool fresh;
};

struct sweep_stats {
	size_t domains;			/* added */
	size_t mx_hosts_probed;		/* MX host names resolved (and their addresses probed) */
	size_t smtp_probes;		/* STARTTLS probes run */
	size_t mx_cache_hits;		/* MX hosts served from a probe another domain caused */
	size_t deadlines;		/* domains ended by their deadline */
	size_t mx_dns_retries;		/* MX address lookups asked again after no answer */
	unsigned peak_in_flight;
};

/* Everything probed, the configuration's concurrency and timeouts, hosts kept for the sweep. */
void sweep_opts_from_config(struct sweep_opts *o, const struct config *cfg);
/*
 * A sweep on lp probing through c. Both are the caller's and must outlive the sweep; a
 * reload makes new clients and a new sweep (cached host results depend on the CA store).
 */
struct sweep *sweep_new(struct loop *lp, struct clients *c, const struct sweep_opts *o);
/*
 * Check domain (copied) with options d (NULL: none) and call fn(arg, facts) when done.
 * Never calls back from inside; beyond the window the name waits in a FIFO.
 */
void sweep_add(struct sweep *sw, const char *domain, const struct sweep_domain_opts *d,
	       sweep_done_fn fn, void *arg);
/* Call fn(arg, sw, room) from the loop whenever there is room and nothing waits; NULL stops. */
void sweep_on_room(struct sweep *sw, sweep_room_fn fn, void *arg);
/* Domains in flight at most (the options' concurrency, at least 1). */
unsigned sweep_concurrency(const struct sweep *sw);
/* Domains started and not yet handed back. */
unsigned sweep_in_flight(const struct sweep *sw);
/* Domains added and waiting for room. */
size_t sweep_queued(const struct sweep *sw);
/* Nothing in flight, waiting or to be handed back: the caller may stop running the loop. */
bool sweep_idle(const struct sweep *sw);
/* Counters since sweep_new. */
const struct sweep_stats *sweep_stats(const struct sweep *sw);
/*
 * End every domain in flight or waiting without calling back, and every probe of theirs.
 * Finished MX hosts stay cached; the sweep can be used again.
 */
void sweep_shutdown(struct sweep *sw);
/* Shut down and free (NULL is fine). */
void sweep_free(struct sweep *sw);

/*
 * The concurrency that fits fd_limit open files: what is left after a reserve for the
 * process, at a few sockets per domain in flight; at least 1, at most wanted.
 */
unsigned sweep_fit_concurrency(unsigned wanted, uint64_t fd_limit);
/* sweep_fit_concurrency for this process's RLIMIT_NOFILE, with a warning when it lowers. */
unsigned sweep_concurrency_for_limit(unsigned wanted);

#endif
