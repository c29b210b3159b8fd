/* dns_probe: DNS questions (TXT, MX, A/AAAA) through c-ares on the event loop. */
#ifndef STSWATCH_DNS_PROBE_H
#define STSWATCH_DNS_PROBE_H

#include <stdbool.h>

#include "dns_answer.h"
#include "dns_pace.h"
#include "facts.h"
#include "lib/loop.h"

struct dns_client;
struct dns_query;

typedef void (*dns_txt_fn)(void *arg, struct txt_answer *ans);	/* callee may take recs */
typedef void (*dns_mx_fn)(void *arg, const struct mx_answer *ans);
typedef void (*dns_addr_fn)(void *arg, const struct addr_answer *ans);

/*
 * A resolver on the loop. servers is "ADDR[:PORT][,...]" or NULL for /etc/resolv.conf;
 * timeout_ms per attempt, tries attempts per server. NULL with err on failure.
 */
struct dns_client *dns_client_new(struct loop *lp, const char *servers, unsigned timeout_ms,
				  unsigned tries, char *err, size_t errlen);
/* Cancel every query (their callbacks are not called) and free the client. */
void dns_client_free(struct dns_client *dc);
/*
 * The questions below call fn once, from the loop, never from inside the call. The handle
 * they return is valid until fn is called or the query is cancelled.
 */
/* Ask for the TXT records of name; each record's strings are joined without separator. */
struct dns_query *dns_query_txt(struct dns_client *dc, const char *name, dns_txt_fn fn,
				void *arg);
/* Ask for the MX records of name, sorted by preference then name. */
struct dns_query *dns_query_mx(struct dns_client *dc, const char *name, dns_mx_fn fn,
			       void *arg);
/* Ask for A (and AAAA when ipv6) of name; one callback when both are answered. */
struct dns_query *dns_query_addrs(struct dns_client *dc, const char *name, bool ipv6,
				  dns_addr_fn fn, void *arg);
/*
 * Forget a query: its callback is not called. c-ares has no cancel for one query, so the
 * question may still run until its answer or timeout, and is then dropped.
 */
void dns_cancel(struct dns_client *dc, struct dns_query *q);
/* Queries still running. */
unsigned dns_pending(const struct dns_client *dc);
/*
 * The window on questions out at once and what moved it. Every question waits its turn
 * there: a resolver (or a network) that drops questions under load makes the client slow
 * down and retry, not report "no answer" for names that have one.
 */
const struct dns_pace *dns_client_pace(const struct dns_client *dc);

#endif
