/* tlsrpt: the TLS-RPT TXT record at _smtp._tls.DOMAIN (RFC 8460 section 3). */
#ifndef STSWATCH_TLSRPT_H
#define STSWATCH_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

#define TLSRPT_MAX 65535	/* longest joined record: what one DNS TXT record can carry */
#define TLSRPT_MAX_RUA 16

struct tlsrpt {
	bool valid;
	size_t n_rua;
	char *rua[TLSRPT_MAX_RUA];	/* mailto: or https: URIs */
};

/*
 * Parse one record by the RFC 8460 ABNF: v=TLSRPTv1 first, rua= with one or more
 * comma-separated mailto: or https: URIs, extensions allowed. Adds tlsrpt.invalid (WARNING,
 * naming the rule) to fs. Returns 0 when valid. tlsrpt_free() must be called either way.
 */
int tlsrpt_parse(const char *rec, size_t len, struct tlsrpt *out, struct findings *fs,
		 const char *subject);

/*
 * Evaluate every TXT record at _smtp._tls.DOMAIN as a reporting sender does: records not
 * starting with "v=TLSRPTv1" are discarded; none is tlsrpt.missing, more than one is
 * tlsrpt.multiple (both WARNING); one is parsed. Returns 0 when out->valid.
 */
int tlsrpt_select(const char *const *recs, const size_t *lens, size_t n, struct tlsrpt *out,
		  struct findings *fs, const char *subject);

/* Free the URIs. */
void tlsrpt_free(struct tlsrpt *t);

#endif
