/* tlscert: certificate facts and chain verification, shared by the HTTPS and SMTP probes. */
#include "tlscert.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <string.h>


struct tlscert_store {
	X509_STORE *store;
};

struct tlscert_store *tlscert_store_new(const char *ca_file, char *err, size_t errlen)
{
	struct tlscert_store *st = xcalloc(1, sizeof(*st));

	st->store = X509_STORE_new();
	if (!st->store)
		goto fail;
	if (ca_file) {
		if (X509_STORE_load_file(st->store, ca_file) != 1) {
			unsigned long e = ERR_get_error();

			const char *why = e ? ERR_reason_error_string(e) : NULL;

			bsnprintf(err, errlen, "%s: cannot load CA certificates: %s", ca_file,
				  why ? why : e ? "not a file of PEM certificates" :
				  "no certificate found");
			goto fail;
		}
	} else if (X509_STORE_set_default_paths(st->store) != 1) {
		bsnprintf(err, errlen, "cannot load the system CA certificates");
		goto fail;
	}
	ERR_clear_error();
	return st;
fail:
	ERR_clear_error();
	tlscert_store_free(st);
	return NULL;
}

void tlscert_store_free(struct tlscert_store *st)
{
	if (!st)
		return;
	X509_STORE_free(st->store);
	free(st);
}

X509_STORE *tlscert_store_x509(struct tlscert_store *st)
{
	return st->store;
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void name_entry(X509_NAME *name, int nid, char *buf, size_t len)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	X509_NAME_ENTRY *e;
	ASN1_STRING *d;
	unsigned char *utf8 = NULL;
	int n;

	buf[0] = '\0';
	if (idx < 0 || !(e = X509_NAME_get_entry(name, idx)) || !(d = X509_NAME_ENTRY_get_data(e)))
		return;
	n = ASN1_STRING_to_UTF8(&utf8, d);
	if (n > 0)
		printable_copy(buf, len, (const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
}

static void describe_name(X509_NAME *name, char *buf, size_t len)
{
	char cn[128], org[128];

	name_entry(name, NID_commonName, cn, sizeof(cn));
	name_entry(name, NID_organizationName, org, sizeof(org));
	if (cn[0] && org[0] && !strstr(cn, org))
		bsnprintf(buf, len, "%s (%s)", cn, org);
	else if (cn[0])
		bsnprintf(buf, len, "%s", cn);
	else if (org[0])
		bsnprintf(buf, len, "%s", org);
	else {
		char *line = X509_NAME_oneline(name, NULL, 0);

		printable_copy(buf, len, line ? line : "?", line ? strlen(line) : 1);
		OPENSSL_free(line);
	}
}

static void collect_sans(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	struct dynbuf sb;
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	dynbuf_init(&sb, len > 4 ? len - 4 : 0);
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char name[256];

		if (g->type != GEN_DNS)
			continue;
		printable_copy(name, sizeof(name), (const char *)ASN1_STRING_get0_data(g->d.dNSName),
			       (size_t)ASN1_STRING_length(g->d.dNSName));
		if (dynbuf_printf(&sb, "%s%s", sb.len ? "," : "", name) < 0)
			break;	/* keep the names that fit; "..." says there are more */
	}
	bsnprintf(buf, len, "%s%s", sb.buf ? sb.buf : "", sb.toobig ? "..." : "");
	dynbuf_free(&sb);
	GENERAL_NAMES_free(gens);
}

static bool self_issued(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

struct verify_state {
	struct cert_facts *out;
	int chain_len;
	bool leaf_self_signed;
};

static int verify_index = -1;

static unsigned classify(int err, int depth, const struct verify_state *vs)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return depth == 0 ? CERT_P_EXPIRED : CERT_P_CHAIN_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CERT_P_NOT_YET_VALID;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return CERT_P_SELF_SIGNED;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return CERT_P_UNTRUSTED_ROOT;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		if (vs->leaf_self_signed)
			return CERT_P_SELF_SIGNED;
		/* Only the leaf was sent: its issuer (an intermediate) is missing. With
		 * intermediates sent, the top of the chain is an unknown CA. */
		return vs->chain_len <= 1 ? CERT_P_MISSING_INTERMEDIATE : CERT_P_UNTRUSTED_ROOT;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return CERT_P_NAME_MISMATCH;
	default:
		return CERT_P_OTHER;
	}
}

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify_state *vs = X509_STORE_CTX_get_ex_data(ctx, verify_index);
	int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);

	if (ok || !vs)
		return ok;
	vs->out->problems |= classify(err, depth, vs);
	if (!vs->out->verify_error) {
		vs->out->verify_error = err;
		bsnprintf(vs->out->verify_text, sizeof(vs->out->verify_text), "%s (depth %d)",
			  X509_verify_cert_error_string(err), depth);
	}
	return 1;	/* go on: every problem is recorded, the verdict is ours */
}

void tlscert_analyze(struct tlscert_store *st, STACK_OF(X509) *chain, const char *host,
		     time_t now, struct cert_facts *out)
{
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	struct verify_state vs;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *leaf;
	int n = chain ? sk_X509_num(chain) : 0;

	memset(out, 0, sizeof(*out));
	strlcpy_s(out->expected_name, host, sizeof(out->expected_name));
	if (n <= 0) {
		out->problems = CERT_P_NONE_PRESENTED;
		return;
	}
	leaf = sk_X509_value(chain, 0);
	out->present = true;
	out->chain_len = n;
	describe_name(X509_get_subject_name(leaf), out->subject, sizeof(out->subject));
	describe_name(X509_get_issuer_name(leaf), out->issuer, sizeof(out->issuer));
	collect_sans(leaf, out->sans, sizeof(out->sans));
	out->not_before = asn1_to_time(X509_get0_notBefore(leaf));
	out->not_after = asn1_to_time(X509_get0_notAfter(leaf));
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen) == 1)
		hex_encode(md, mdlen, out->sha256);
	for (int i = 1; i < n; i++) {
		time_t t = asn1_to_time(X509_get0_notAfter(sk_X509_value(chain, i)));

		if (t && (!out->chain_not_after || t < out->chain_not_after))
			out->chain_not_after = t;
	}

	/* RFC 8461 4.2 via RFC 6125: a DNS-ID must name the host; the subject CN is not used. */
	if (X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
			    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) != 1)
		out->problems |= CERT_P_NAME_MISMATCH;

	if (verify_index < 0)
		verify_index = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	vs.out = out;
	vs.chain_len = n;
	vs.leaf_self_signed = self_issued(leaf);
	ctx = X509_STORE_CTX_new();
	if (!ctx || X509_STORE_CTX_init(ctx, st->store, leaf, chain) != 1) {
		out->problems |= CERT_P_OTHER;
		bsnprintf(out->verify_text, sizeof(out->verify_text), "cannot set up verification");
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	X509_STORE_CTX_set_ex_data(ctx, verify_index, &vs);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (X509_verify_cert(ctx) != 1 && !out->problems) {
		int e = X509_STORE_CTX_get_error(ctx);

		out->problems |= CERT_P_OTHER;
		out->verify_error = e;
		bsnprintf(out->verify_text, sizeof(out->verify_text), "%s",
			  X509_verify_cert_error_string(e));
	}
	/*
	 * The leaf's dates are facts of their own: OpenSSL can stop before it looks at them
	 * (a public key it cannot read), and an expired leaf must still be reported as such.
	 */
	if (X509_cmp_time(X509_get0_notAfter(leaf), &now) < 0)
		out->problems |= CERT_P_EXPIRED;
	if (X509_cmp_time(X509_get0_notBefore(leaf), &now) > 0)
		out->problems |= CERT_P_NOT_YET_VALID;
	if (out->problems & CERT_P_NAME_MISMATCH && !out->verify_text[0])
		bsnprintf(out->verify_text, sizeof(out->verify_text), "no DNS name matches %s", host);
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}
