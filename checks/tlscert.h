/* tlscert: certificate facts and chain verification, shared by the HTTPS and SMTP probes. */
#ifndef STSWATCH_TLSCERT_H
#define STSWATCH_TLSCERT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <time.h>

#include "facts.h"

struct tlscert_store;

/*
 * Load the trust anchors: ca_file, or the system's default paths when NULL. NULL with a
 * message in err when the file cannot be read or holds no certificate.
 */
struct tlscert_store *tlscert_store_new(const char *ca_file, char *err, size_t errlen);
/* Free the store. */
void tlscert_store_free(struct tlscert_store *st);
/* The OpenSSL store, for a probe that hands it to a TLS library. */
X509_STORE *tlscert_store_x509(struct tlscert_store *st);

/*
 * Verify a chain as the peer sent it (leaf first) for host at time now, the way a sender
 * does (a public-root chain, valid now, a DNS-ID naming host; RFC 8461 4.2), and record
 * every problem found rather than the first: out->problems is a set of CERT_P_* bits.
 * A NULL or empty chain gives CERT_P_NONE_PRESENTED.
 */
void tlscert_analyze(struct tlscert_store *st, STACK_OF(X509) *chain, const char *host,
		     time_t now, struct cert_facts *out);

#endif
