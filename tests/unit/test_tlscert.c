/* Unit tests of certificate analysis: chains made here, verified at a chosen time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checks/tlscert.h"
#include "lib/dynbuf.h"

#define NOW ((time_t)1800000000)
#define DAY 86400L

struct ca {
	EVP_PKEY *key;
	X509 *cert;
};

static long serial = 1;

static X509 *make_cert(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer,
		       EVP_PKEY *issuer_key, long from, long to, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from, &(time_t){ NOW });
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to, &(time_t){ NOW });
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (ca) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	} else {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "serverAuth");
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (san) {
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	X509_NAME_free(name);
	return x;
}

static struct ca root, inter, other_root, other_inter;
static EVP_PKEY *leaf_key;
static char ca_path[64];
static struct tlscert_store *store;

static int setup(void **state)
{
	FILE *f;
	int fd;
	char err[256];

	(void)state;
	root.key = EVP_EC_gen("P-256");
	root.cert = make_cert("Test Root", NULL, root.key, NULL, NULL, -DAY * 1000, DAY * 3000, true);
	inter.key = EVP_EC_gen("P-256");
	inter.cert = make_cert("Test Intermediate", NULL, inter.key, root.cert, root.key,
			       -DAY * 500, DAY * 1000, true);
	other_root.key = EVP_EC_gen("P-256");
	other_root.cert = make_cert("Untrusted Root", NULL, other_root.key, NULL, NULL, -DAY, DAY * 300, true);
	other_inter.key = EVP_EC_gen("P-256");
	other_inter.cert = make_cert("Untrusted Intermediate", NULL, other_inter.key, other_root.cert,
				     other_root.key, -DAY, DAY * 300, true);
	leaf_key = EVP_EC_gen("P-256");
	strcpy(ca_path, "/tmp/stswatch-ca-XXXXXX");
	fd = mkstemp(ca_path);
	f = fdopen(fd, "w");
	PEM_write_X509(f, root.cert);
	fclose(f);
	store = tlscert_store_new(ca_path, err, sizeof(err));
	assert_non_null(store);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tlscert_store_free(store);
	unlink(ca_path);
	X509_free(root.cert);
	X509_free(inter.cert);
	X509_free(other_root.cert);
	X509_free(other_inter.cert);
	EVP_PKEY_free(root.key);
	EVP_PKEY_free(inter.key);
	EVP_PKEY_free(other_root.key);
	EVP_PKEY_free(other_inter.key);
	EVP_PKEY_free(leaf_key);
	return 0;
}

struct row {
	const char *what;
	const char *host;
	const char *san;	/* NULL: no SAN at all */
	long from, to;		/* validity relative to NOW, seconds */
	int kind;		/* 0 chain, 1 leaf only, 2 self-signed, 3 untrusted chain */
	unsigned want;
};

static const struct row rows[] = {
	{ "RFC 8461 4.2: good chain, name in SAN", "mx.example.org", "DNS:mx.example.org",
	  -DAY, 60 * DAY, 0, 0 },
	{ "missing intermediate: only the leaf is sent", "mx.example.org", "DNS:mx.example.org",
	  -DAY, 60 * DAY, 1, CERT_P_MISSING_INTERMEDIATE },
	{ "expired leaf", "mx.example.org", "DNS:mx.example.org", -90 * DAY, -2 * DAY, 0,
	  CERT_P_EXPIRED },
	{ "not yet valid", "mx.example.org", "DNS:mx.example.org", DAY, 60 * DAY, 0,
	  CERT_P_NOT_YET_VALID },
	{ "RFC 6125: wrong name", "mx.example.org", "DNS:www.example.org", -DAY, 60 * DAY, 0,
	  CERT_P_NAME_MISMATCH },
	{ "RFC 6125 6.4.4: the CN is not used when checking names", "mx.example.org", NULL,
	  -DAY, 60 * DAY, 0, CERT_P_NAME_MISMATCH },
	{ "self-signed leaf", "mx.example.org", "DNS:mx.example.org", -DAY, 60 * DAY, 2,
	  CERT_P_SELF_SIGNED },
	{ "chain to a root not in the bundle", "mx.example.org", "DNS:mx.example.org", -DAY,
	  60 * DAY, 3, CERT_P_UNTRUSTED_ROOT },
	{ "RFC 6125 6.4.3: wildcard covers one label", "mx1.example.org", "DNS:*.example.org",
	  -DAY, 60 * DAY, 0, 0 },
	{ "RFC 6125 6.4.3: wildcard does not cover two labels", "a.mx.example.org",
	  "DNS:*.example.org", -DAY, 60 * DAY, 0, CERT_P_NAME_MISMATCH },
	{ "names are case-insensitive", "MX.Example.ORG", "DNS:mx.example.org", -DAY, 60 * DAY, 0, 0 },
	{ "several problems are all reported", "mx.example.org", "DNS:other.example", -90 * DAY,
	  -DAY, 2, CERT_P_SELF_SIGNED | CERT_P_EXPIRED | CERT_P_NAME_MISMATCH },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		STACK_OF(X509) *chain = sk_X509_new_null();
		struct cert_facts cf;
		X509 *leaf;

		if (r->kind == 2)
			leaf = make_cert(r->host, r->san, leaf_key, NULL, NULL, r->from, r->to, false);
		else if (r->kind == 3)
			leaf = make_cert(r->host, r->san, leaf_key, other_inter.cert, other_inter.key,
					 r->from, r->to, false);
		else
			leaf = make_cert(r->host, r->san, leaf_key, inter.cert, inter.key, r->from,
					 r->to, false);
		sk_X509_push(chain, leaf);
		if (r->kind == 0)
			sk_X509_push(chain, inter.cert);
		if (r->kind == 3)
			sk_X509_push(chain, other_inter.cert);
		tlscert_analyze(store, chain, r->host, NOW, &cf);
		if (cf.problems != r->want)
			fail_msg("%s: problems 0x%x, want 0x%x (%s)", r->what, cf.problems, r->want,
				 cf.verify_text);
		assert_true(cf.present);
		assert_int_equal(strlen(cf.sha256), 64);
		assert_int_equal(cf.not_after, NOW + r->to);
		sk_X509_free(chain);
		X509_free(leaf);
	}
}

static void test_empty(void **state)
{
	struct cert_facts cf;
	char words[256];

	(void)state;
	tlscert_analyze(store, NULL, "mx.example.org", NOW, &cf);
	assert_false(cf.present);
	assert_int_equal(cf.problems, CERT_P_NONE_PRESENTED);
	cert_problems_str(&cf, words, sizeof(words));
	assert_string_equal(words, "no certificate presented");
}

/*
 * The DNS SANs shown: a long list keeps the names that fit and ends in "..." (it used to
 * be "..." alone), and a leaf whose SANs are no DNS names shows none (it showed "...").
 */
static void test_sans_listed(void **state)
{
	struct dynbuf san;
	struct cert_facts cf;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *leaf;
	size_t n;

	(void)state;
	dynbuf_init(&san, 0);
	for (int i = 0; i < 40; i++)
		dynbuf_printf(&san, "%sDNS:host%02d.mx.example.org", i ? "," : "", i);
	leaf = make_cert("mx.example.org", san.buf, leaf_key, inter.cert, inter.key, -DAY,
			 60 * DAY, false);
	dynbuf_free(&san);
	sk_X509_push(chain, leaf);
	sk_X509_push(chain, inter.cert);
	tlscert_analyze(store, chain, "mx.example.org", NOW, &cf);
	assert_int_equal(cf.problems, CERT_P_NAME_MISMATCH);
	n = strlen(cf.sans);
	assert_true(n < sizeof(cf.sans) && n > 400);
	assert_memory_equal(cf.sans, "host00.mx.example.org,host01.mx.example.org,", 44);
	assert_string_equal(cf.sans + n - 3, "...");
	X509_free(sk_X509_shift(chain));

	leaf = make_cert("mx.example.org", "IP:192.0.2.1,email:postmaster@example.org", leaf_key,
			 inter.cert, inter.key, -DAY, 60 * DAY, false);
	sk_X509_unshift(chain, leaf);
	tlscert_analyze(store, chain, "mx.example.org", NOW, &cf);
	assert_int_equal(cf.problems, CERT_P_NAME_MISMATCH);
	assert_string_equal(cf.sans, "");
	sk_X509_free(chain);
	X509_free(leaf);
}

/* The leaf with its EC public point moved off the curve: OpenSSL cannot read the key. */
static X509 *broken_key(X509 *x)
{
	unsigned char *der = NULL, *p;
	const unsigned char *q;
	int len = i2d_X509(x, &der);
	X509 *y;

	assert_true(len > 0);
	p = memmem(der, (size_t)len, "\x03\x42\x00\x04", 4);
	assert_non_null(p);
	p[10] ^= 0x01;
	q = der;
	y = d2i_X509(NULL, &q, len);
	assert_non_null(y);
	OPENSSL_free(der);
	X509_free(x);
	return y;
}

/*
 * Found by fuzz_tlscert: with a key it cannot read, OpenSSL stops before checking the
 * dates, and an expired (or not yet valid) leaf was reported only as "unspecified".
 */
static void test_dates_despite_broken_key(void **state)
{
	static const struct {
		long from, to;
		unsigned want;
	} cases[] = {
		{ -90 * DAY, -2 * DAY, CERT_P_EXPIRED },
		{ DAY, 60 * DAY, CERT_P_NOT_YET_VALID },
		{ -DAY, 60 * DAY, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		STACK_OF(X509) *chain = sk_X509_new_null();
		struct cert_facts cf;
		X509 *leaf = broken_key(make_cert("mx.example.org", "DNS:mx.example.org", leaf_key,
						  inter.cert, inter.key, cases[i].from,
						  cases[i].to, false));

		sk_X509_push(chain, leaf);
		sk_X509_push(chain, inter.cert);
		tlscert_analyze(store, chain, "mx.example.org", NOW, &cf);
		assert_true(cf.problems & CERT_P_OTHER);
		assert_int_equal(cf.problems & (CERT_P_EXPIRED | CERT_P_NOT_YET_VALID), cases[i].want);
		assert_int_equal(cf.not_after, NOW + cases[i].to);
		sk_X509_free(chain);
		X509_free(leaf);
	}
}

static void test_store_errors(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(tlscert_store_new("/nonexistent/ca.pem", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sans_listed),
		cmocka_unit_test(test_dates_despite_broken_key),
		cmocka_unit_test(test_store_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
