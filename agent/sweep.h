/* sweep: probe many domains on one loop with bounded concurrency; results in input order. */
#ifndef STSWATCH_SWEEP_H
#define STSWATCH_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "checks/facts.h"

struct sweep_opts {
	const char *resolver;	/* NULL: /etc/resolv.conf */
	const char *ca_file;	/* NULL: the system bundle */
	const char *ehlo_name;	/* NULL: this host's name */
	struct timeouts to;
	unsigned concurrency;	/* domains in flight */
	bool ipv6;
	bool probe_policy;	/* TXT _mta-sts and the policy fetch */
	bool probe_mx;		/* MX and STARTTLS */
	bool probe_tlsrpt;
	unsigned deadline_ms;	/* stop everything after this long; 0: no deadline */
	uint16_t smtp_port;	/* 25 */
};

/* Fill in the options from a configuration (everything probed, no deadline). */
void sweep_opts_from_config(struct sweep_opts *o, const struct config *cfg);

/*
 * Called once per domain, in input order, with the gathered facts (the sweep frees them
 * after the call; take what you need). Return false to stop the sweep early.
 */
typedef bool (*sweep_result_fn)(void *arg, size_t idx, struct domain_facts *df);

/* Domain names are read through this, so a caller need not build an array. */
typedef const char *(*sweep_name_fn)(void *arg, size_t idx);

struct sweep_stats {
	size_t domains;
	size_t mx_hosts_probed;		/* distinct MX host names resolved */
	size_t smtp_probes;		/* STARTTLS probes run */
	size_t mx_cache_hits;		/* MX hosts served from a probe another domain caused */
	size_t peak_in_flight;
};

/*
 * Probe n domains. Returns 0 when the sweep ran (whatever the domains' states), -1 with err
 * when it could not start (resolver, CA bundle, event loop).
 */
int sweep_run(const struct sweep_opts *o, size_t n, sweep_name_fn name, void *name_arg,
	      sweep_result_fn fn, void *arg, struct sweep_stats *stats, char *err, size_t errlen);

#endif
