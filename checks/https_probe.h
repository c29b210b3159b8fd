/* https_probe: the policy fetch exactly as a sender does it, on libcurl's multi interface. */
#ifndef STSWATCH_HTTPS_PROBE_H
#define STSWATCH_HTTPS_PROBE_H

#include <stdint.h>
#include <time.h>

#include "facts.h"
#include "tlscert.h"
#include "lib/loop.h"

struct https_client;
struct https_req;

typedef void (*https_done_fn)(void *arg, struct policy_fetch *res);	/* callee may take body */

struct https_client_opts {
	uint16_t port;	/* 0 or 443; another port only for tests against servers on loopback */
};

/*
 * A fetcher on the loop (libcurl multi through lib/curlm); it trusts the CAs of st, which
 * must outlive it. o may be NULL for the defaults. NULL with err on failure.
 */
struct https_client *https_client_new(struct loop *lp, struct tlscert_store *st,
				      const struct https_client_opts *o, char *err, size_t errlen);
/* Abort every transfer (no callbacks) and free the client. */
void https_client_free(struct https_client *hc);
/*
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt connected only to the given addresses
 * (no DNS of its own, no proxy whatever the environment says), no redirect followed, body capped at POLICY_MAX_BODY, timeout_ms for
 * the whole transfer, the certificate checked for mta-sts.DOMAIN at time now (its facts
 * kept even when verification fails). With another port than 443 the URL, Host header and
 * SNI stay the same and only the connection goes to that port. fn is called once, from
 * the loop, never from inside this call; NULL when the transfer cannot be set up.
 */
struct https_req *https_fetch_policy(struct https_client *hc, const char *domain,
				     const struct addr_answer *addrs, unsigned timeout_ms,
				     time_t now, https_done_fn fn, void *arg);
/* Abort one transfer; its callback is not called. */
void https_cancel(struct https_client *hc, struct https_req *req);

#endif
