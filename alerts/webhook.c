/*
 * webhook: the generic channel, Standard Webhooks (spec/standard-webhooks.md of the
 * standard-webhooks project). The body is the envelope
 *     {"type":"stswatch.<kind>","timestamp":"<RFC 3339, when it happened>","data":<data>}
 * and the headers are webhook-id (the notification id, stable across retries, so the
 * consumer can drop duplicates), webhook-timestamp (unix seconds of this attempt) and,
 * with a secret, webhook-signature: "v1," and the base64 of HMAC-SHA256 over
 * "<id>.<timestamp>.<body>", keyed with the base64-decoded part of "whsec_<base64>". The
 * spec wants that key to be 24 to 64 random bytes; anything else is refused, clearly.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define SECRET_PREFIX "whsec_"
#define KEY_MIN 24
#define KEY_MAX 64

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int webhook_secret_decode(const char *secret, unsigned char *key, size_t keylen)
{
	const char *s;
	size_t n, pad = 0;
	unsigned char buf[3 * 96 / 4 + 3];
	int got;

	if (!secret || strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0)
		return -1;
	s = secret + strlen(SECRET_PREFIX);
	n = strlen(s);
	/* 24..64 bytes are 32..88 base64 characters, padded to a multiple of 4 */
	if (n < 32 || n > 88 || n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (!b64_char(s[i]) || pad)
			return -1;
	}
	if (pad == 1 && s[n - 1] != '=')
		return -1;
	got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad)
		return -1;
	got -= (int)pad;
	if (got < KEY_MIN || got > KEY_MAX || (size_t)got > keylen) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	memcpy(key, buf, (size_t)got);
	OPENSSL_cleanse(buf, sizeof(buf));
	return got;
}

int channel_webhook_sign(const char *secret, const char *id, long long ts, const char *body,
			 size_t body_len, char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char key[KEY_MAX], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char prefix[160], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned char *content = NULL;
	size_t plen;
	int keylen, rc = -1;

	keylen = webhook_secret_decode(secret, key, sizeof(key));
	if (keylen < 0) {
		bsnprintf(err, errlen, "the secret is not \"whsec_\" and the base64 of 24 to 64 "
			  "bytes (Standard Webhooks)");
		goto out;
	}
	if (!id || strchr(id, '.') ||
	    bsnprintf(prefix, sizeof(prefix), "%s.%lld.", id, ts) < 0) {
		bsnprintf(err, errlen, "the webhook id is empty, too long or has a \".\"");
		goto out;
	}
	plen = strlen(prefix);
	content = xmalloc(plen + body_len);
	memcpy(content, prefix, plen);
	memcpy(content + plen, body, body_len);
	if (!HMAC(EVP_sha256(), key, keylen, content, plen + body_len, mac, &maclen)) {
		bsnprintf(err, errlen, "HMAC-SHA256 failed");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)maclen);
	if (bsnprintf(out, outlen, "v1,%s", b64) < 0) {
		bsnprintf(err, errlen, "no room for the signature");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	free(content);
	return rc;
}

int webhook_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		  time_t now, struct channel_request *out, char *err, size_t errlen)
{
	json_t *env = NULL;
	char type[64], ts[32], sig[128], why[160];
	char *dumped = NULL;
	int rc = -1;

	if (m->n != 1) {
		bsnprintf(err, errlen, "receiver %s: a webhook message carries one notification, "
			  "not %zu", r->name, m->n);
		goto out;
	}
	bsnprintf(type, sizeof(type), "stswatch.%s", alert_kind_str(m->kind));
	time_rfc3339(m->created_at ? m->created_at : now, ts, sizeof(ts));
	env = json_object();
	json_object_set_new(env, "type", json_string(type));
	json_object_set_new(env, "timestamp", json_string(ts));
	json_object_set(env, "data", data[0]);
	dumped = json_dumps(env, JSON_COMPACT);
	if (!dumped) {
		bsnprintf(err, errlen, "receiver %s: the webhook body could not be written",
			  r->name);
		goto out;
	}
	chan_req_post(out, CHANNEL_WEBHOOK, r->url, xstrdup(dumped), "application/json");
	chan_req_header(out, "webhook-id: %s", m->id);
	chan_req_header(out, "webhook-timestamp: %lld", (long long)now);
	if (r->secret) {
		if (channel_webhook_sign(r->secret, m->id, (long long)now, out->body,
					 out->body_len, sig, sizeof(sig), why, sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: %s", r->name, why);
			goto out;
		}
		chan_req_header(out, "webhook-signature: %s", sig);
		OPENSSL_cleanse(sig, sizeof(sig));
	}
	chan_req_extra_headers(out, r);
	rc = 0;
out:
	free(dumped);
	json_decref(env);
	return rc;
}
