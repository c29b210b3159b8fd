/* clients: the CA store and the DNS, HTTPS and SMTP clients a sweep probes with, built once. */
#ifndef STSWATCH_CLIENTS_H
#define STSWATCH_CLIENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "checks/dns_probe.h"
#include "checks/https_probe.h"
#include "checks/smtp_probe.h"
#include "checks/tlscert.h"
#include "lib/loop.h"

struct clients;

/*
 * What the sweep asks of the probes. Every start calls its fn once, from the loop and never
 * from inside the start, unless cancelled first; a handle is valid until then. A start may
 * return NULL only where it says so. Tests put a table of fakes here.
 */
struct probe_ops {
	void *(*txt)(struct clients *c, const char *name, dns_txt_fn fn, void *arg);
	void *(*mx)(struct clients *c, const char *name, dns_mx_fn fn, void *arg);
	void *(*addrs)(struct clients *c, const char *name, bool ipv6, dns_addr_fn fn, void *arg);
	void (*dns_cancel)(struct clients *c, void *query);
	/* NULL when the transfer cannot be set up (fn is then never called) */
	void *(*fetch)(struct clients *c, const char *domain, const struct addr_answer *addrs,
		       unsigned timeout_ms, time_t now, https_done_fn fn, void *arg);
	void (*fetch_cancel)(struct clients *c, void *req);
	void *(*smtp)(struct clients *c, const char *host, int family, const char *ip, time_t now,
		      smtp_done_fn fn, void *arg);
	void (*smtp_cancel)(struct clients *c, void *probe);
};

struct clients {
	const struct probe_ops *ops;	/* clients_open: the real probes below */
	struct tlscert_store *store;
	struct dns_client *dns;
	struct https_client *https;
	struct smtp_client *smtp;
	void *fake;			/* free for a test's own ops */
};

struct clients_opts {
	const char *resolver;	/* NULL: /etc/resolv.conf */
	const char *ca_file;	/* NULL: the system bundle */
	const char *ehlo_name;	/* NULL: this host's name when it is a FQDN */
	struct timeouts to;
	uint16_t https_port;	/* 443 */
	uint16_t smtp_port;	/* 25 */
};

/* The real probes, for a table that replaces only some of them. */
extern const struct probe_ops clients_real_ops;

/* Options from a configuration (ports 443 and 25). */
void clients_opts_from_config(struct clients_opts *o, const struct config *cfg);
/*
 * Load the CA store and make the DNS, HTTPS and SMTP clients on lp. -1 with err (and
 * nothing left to free) when one cannot be made: an unreadable CA file, a bad resolver.
 */
int clients_open(struct clients *c, struct loop *lp, const struct clients_opts *o, char *err,
		 size_t errlen);
/* Free the clients (their pending work ends without callbacks), then the store. */
void clients_close(struct clients *c);

#endif
