/*
 * vantage: is the monitor's own view sound? Pure: learns from every checked domain's facts
 * whether outbound port 25 works from here (a cloud host that blocks it makes every MX
 * look dead) and whether the resolver answers, so that such a run is inconclusive: the
 * domains' owners are not told their MX hosts fail when it is the monitor that cannot see.
 */
#ifndef STSWATCH_VANTAGE_H
#define STSWATCH_VANTAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

#define VANTAGE_WINDOW 64	/* recent MX addresses and DNS answers looked at */
#define VANTAGE_MIN_SMTP 10	/* distinct MX addresses before port 25 is judged */
#define VANTAGE_MIN_DNS 20	/* DNS answers before the resolver is judged */
#define VANTAGE_HOLD_MAX VANTAGE_WINDOW	/* domains that wait for the verdict at most */

struct vantage {
	struct {
		char ip[IP_STR_LEN];
		bool ok;
	} smtp[VANTAGE_WINDOW];
	size_t n_smtp, next_smtp;
	bool dns[VANTAGE_WINDOW];
	size_t n_dns, next_dns;
	bool smtp_blocked;	/* 90% of recent MX addresses refused or dropped the connection */
	bool dns_blind;		/* 90% of recent DNS questions got no answer from the resolver */
	char why[240];		/* in words, for the finding, the operator and status */
};

/* Start knowing nothing (and so assuming the view is sound). */
void vantage_init(struct vantage *v);

/*
 * Learn from one domain's facts: each MX address's connection (it connected, or the
 * connect itself failed) and the resolver's answers to the domain's questions. Returns
 * true when the verdict on the vantage point changed.
 */
bool vantage_feed(struct vantage *v, const struct domain_facts *df);

/* Put the current verdict into a domain's facts before it is judged. */
void vantage_apply(const struct vantage *v, struct domain_facts *df);

/* Have enough distinct MX addresses been tried (VANTAGE_MIN_SMTP) for port 25 to be judged? */
bool vantage_smtp_known(const struct vantage *v);

/*
 * Should this domain wait for the verdict on port 25 before it is judged? Call after
 * vantage_feed. True when every MX address it tried failed at the TCP connect (what a
 * blocked port 25 looks like) while too few addresses were tried to tell the monitor's
 * network from the domain's hosts, and fewer than VANTAGE_HOLD_MAX domains (n_held)
 * already wait. A domain that connected to any MX address, or had none to try, never
 * waits; nor does any once the verdict is known.
 */
bool vantage_hold(const struct vantage *v, const struct domain_facts *df, size_t n_held);

#endif
