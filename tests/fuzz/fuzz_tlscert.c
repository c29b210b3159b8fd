/*
 * libFuzzer target: certificate chains as a peer sends them, analysed for one host at a
 * fixed time. Input: up to MAX_CERTS blobs, each a 2-byte big-endian length and that many
 * bytes of DER (a length past the end takes what is left); blobs that are no certificate
 * are dropped. Seeds and the trust anchor come from make_tlscert_seeds.py.
 */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/tlscert.h"
#include "lib/str.h"
#include "lib/timeutil.h"

#ifndef FUZZ_TLSCERT_CA
#define FUZZ_TLSCERT_CA "tests/fuzz/tlscert-ca.pem"
#endif
#define MAX_CERTS 5
#define HOST "mx.example.org"
#define NOW ((time_t)1800000000)	/* 2027-01-15T08:00:00Z, as in the seeds */
#define CERT_P_ALL ((unsigned)CERT_P_OTHER * 2 - 1)	/* every problem bit */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed invariant says which, then aborts: libFuzzer keeps the input. */
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static struct tlscert_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	store = tlscert_store_new(FUZZ_TLSCERT_CA, err, sizeof(err));
	if (!store) {
		fprintf(stderr, "fuzz_tlscert: %s\n", err);
		exit(1);
	}
	return 0;
}

/* Terminated inside its buffer and printable: certificate bytes never reach a terminal raw. */
static void check_text(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	CHECK(n < size);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
}

/* X509_cmp_time is OpenSSL's own reading of a validity date: ours must agree with it. */
static void check_dates(X509 *leaf, const struct cert_facts *cf)
{
	time_t now = NOW;
	int after = X509_cmp_time(X509_get0_notAfter(leaf), &now);
	int before = X509_cmp_time(X509_get0_notBefore(leaf), &now);

	if (after < 0) {	/* notAfter <= now */
		CHECK(cf->problems & CERT_P_EXPIRED);
		CHECK(cf->not_after && cf->not_after <= NOW && days_until(cf->not_after, NOW) <= 0);
	} else if (after > 0) {
		CHECK(!(cf->problems & CERT_P_EXPIRED));
		CHECK(cf->not_after > NOW && days_until(cf->not_after, NOW) >= 0);
	}
	/* (an intermediate not yet valid sets the bit too: only one way is certain) */
	if (before > 0) {	/* notBefore > now */
		CHECK(cf->problems & CERT_P_NOT_YET_VALID);
		CHECK(cf->not_before > NOW);
	} else if (before < 0) {
		CHECK(cf->not_before && cf->not_before <= NOW);
	}
}

/*
 * The DNS SANs as listed: "" when the leaf has none, else its first DNS name at the start
 * (one name always fits), and a cut list ends in "...".
 */
static void check_sans(X509 *leaf, const char *sans)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	char first[256] = "";
	int n_dns = 0;

	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type != GEN_DNS)
			continue;
		if (!n_dns++)
			printable_copy(first, sizeof(first),
				       (const char *)ASN1_STRING_get0_data(g->d.dNSName),
				       (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (!n_dns)
		CHECK(sans[0] == '\0');
	else
		CHECK(strncmp(sans, first, strlen(first)) == 0);
}

static void check_facts(STACK_OF(X509) *chain, const struct cert_facts *cf)
{
	int n = sk_X509_num(chain);
	char words[1024];

	check_text(cf->verify_text, sizeof(cf->verify_text));
	check_text(cf->subject, sizeof(cf->subject));
	check_text(cf->issuer, sizeof(cf->issuer));
	check_text(cf->sans, sizeof(cf->sans));
	CHECK(strcmp(cf->expected_name, HOST) == 0);
	CHECK((cf->problems & ~CERT_P_ALL) == 0);
	if (n <= 0) {
		CHECK(!cf->present && cf->problems == CERT_P_NONE_PRESENTED && cf->chain_len == 0);
		return;
	}
	CHECK(cf->present && cf->chain_len == n && !(cf->problems & CERT_P_NONE_PRESENTED));
	CHECK(strlen(cf->sha256) == 64 && strspn(cf->sha256, "0123456789abcdef") == 64);
	/* the names are checked against DNS SANs only: a match needs one */
	if (!(cf->problems & CERT_P_NAME_MISMATCH))
		CHECK(cf->sans[0]);
	if (cf->problems == 0)
		CHECK(!cf->verify_error && !cf->verify_text[0]);
	if (cf->verify_error || (cf->problems & (CERT_P_OTHER | CERT_P_NAME_MISMATCH)))
		CHECK(cf->verify_text[0]);
	if (n == 1)
		CHECK(cf->chain_not_after == 0);
	check_dates(sk_X509_value(chain, 0), cf);
	check_sans(sk_X509_value(chain, 0), cf->sans);
	/* the words shown for the problems */
	cert_problems_str(cf, words, sizeof(words));
	CHECK(strnlen(words, sizeof(words)) < sizeof(words));
	CHECK(!words[0] == !cf->problems);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct cert_facts cf;
	size_t off = 0;

	for (int i = 0; i < MAX_CERTS && off + 2 <= size; i++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		const unsigned char *p = data + off + 2;
		X509 *x;

		off += 2;
		if (len > size - off)
			len = size - off;
		x = d2i_X509(NULL, &p, (long)len);
		CHECK(!x || (p > data + off && p <= data + off + len));
		if (x && !sk_X509_push(chain, x))
			X509_free(x);
		off += len;
	}
	tlscert_analyze(store, chain, HOST, NOW, &cf);
	check_facts(chain, &cf);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return 0;
}
