/* https_probe: the policy fetch exactly as a sender does it, on libcurl's multi interface. */
#ifndef STSWATCH_HTTPS_PROBE_H
#define STSWATCH_HTTPS_PROBE_H

#include <time.h>

#include "facts.h"
#include "tlscert.h"
#include "lib/loop.h"

struct https_client;
struct https_req;

typedef void (*https_done_fn)(void *arg, struct policy_fetch *res);	/* callee may take body */

/* A fetcher on the loop; it trusts the CAs of st. NULL with err on failure. */
struct https_client *https_client_new(struct loop *lp, struct tlscert_store *st, char *err,
				      size_t errlen);
/* Abort every transfer (no callbacks) and free the client. */
void https_client_free(struct https_client *hc);
/*
 * PORT HOOK (issue 8, branch tiers; to be replaced by the policy fetch's own port
 * parameter): connect to port instead of 443 for every later fetch, so tests/fakes can
 * serve the policy from an unprivileged port. The URL shown stays the sender's.
 */
void https_client_set_port(struct https_client *hc, unsigned port);

/*
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt connected only to the given addresses
 * (no DNS of its own), no redirect followed, body capped at POLICY_MAX_BODY, timeout_ms for
 * the whole transfer, the certificate checked for mta-sts.DOMAIN at time now (its facts
 * kept even when verification fails). fn is called once, from the loop.
 */
struct https_req *https_fetch_policy(struct https_client *hc, const char *domain,
				     const struct addr_answer *addrs, unsigned timeout_ms,
				     time_t now, https_done_fn fn, void *arg);
/* Abort one transfer; its callback is not called. */
void https_cancel(struct https_client *hc, struct https_req *req);

#endif
