/* smtp_probe: STARTTLS on port 25 of one MX address, as a non-blocking state machine. */
#ifndef STSWATCH_SMTP_PROBE_H
#define STSWATCH_SMTP_PROBE_H

#include <stdint.h>
#include <time.h>

#include "facts.h"
#include "tlscert.h"
#include "lib/loop.h"

struct smtp_client;
struct smtp_probe;

typedef void (*smtp_done_fn)(void *arg, const struct smtp_facts *res);

struct smtp_client_opts {
	const char *ehlo_name;	/* what we say in EHLO */
	unsigned connect_ms;	/* TCP connect deadline */
	unsigned step_ms;	/* deadline for each later step */
	uint16_t port;		/* 25 */
	const char *keylog_file;	/* debugging: append the TLS session keys here (NSS key
					 * log format, as SSLKEYLOGFILE does for libcurl); NULL: no */
};

/* A prober on the loop; one TLS context shared by every probe. NULL with err on failure. */
struct smtp_client *smtp_client_new(struct loop *lp, struct tlscert_store *st,
				    const struct smtp_client_opts *o, char *err, size_t errlen);
/* Abort every probe (no callbacks) and free the client. */
void smtp_client_free(struct smtp_client *sc);
/*
 * Probe host (the MX name, sent as SNI and checked in the certificate) at ip: banner,
 * EHLO, STARTTLS, handshake, chain verification at time now. fn is called once, from the
 * loop, never from inside this call.
 */
struct smtp_probe *smtp_probe_start(struct smtp_client *sc, const char *host, int family,
				    const char *ip, time_t now, smtp_done_fn fn, void *arg);
/* Abort one probe; its callback is not called. */
void smtp_probe_cancel(struct smtp_probe *p);

#endif
