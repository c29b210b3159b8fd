/*
 * channel_impl: what the channel files share behind channel.h (text bounds, request
 * building, the per-channel builders channel_build() dispatches to). Not for callers
 * outside alerts/.
 */
#ifndef STSWATCH_CHANNEL_IMPL_H
#define STSWATCH_CHANNEL_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "channel.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"

/* "…" (U+2026), what a cut text ends with: 3 bytes. */
#define ELLIPSIS "\xe2\x80\xa6"
#define ELLIPSIS_LEN 3

/* The longest prefix of s (len bytes) of at most max bytes that ends on a character. */
size_t chan_utf8_prefix(const char *s, size_t len, size_t max);
/*
 * Append s, at most max bytes of it (ending with "…" when cut, within max), with every
 * control character (C0, DEL; LF too unless keep_lf) replaced by a space.
 */
void chan_text_put(struct dynbuf *b, const char *s, size_t max, bool keep_lf);
/* A copy of s cut to at most max bytes on a character, ending with "…" when cut. */
char *chan_text_cut(const char *s, size_t max);
/* Replace control characters (CR, LF, NUL-free C0, DEL) by spaces, in place. */
void chan_text_flatten(char *s);

/* The string member key of o, or NULL when absent, not a string or empty. */
const char *chan_jstr(const json_t *o, const char *key);

/* Add the header "Name: value" (printf-like) to a request. */
void chan_req_header(struct channel_request *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Add the receiver's extra headers. */
void chan_req_extra_headers(struct channel_request *r, const struct receiver *rc);
/* Start an HTTP POST of this body (taken over) to url, with this Content-Type. */
void chan_req_post(struct channel_request *r, enum channel_kind kind, const char *url,
		   char *body, const char *content_type);

/*
 * The per-channel builders. data[i] is the parsed data of m->items[i] (an object).
 * Same contract as channel_build().
 */
int webhook_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		  time_t now, struct channel_request *out, char *err, size_t errlen);
int slack_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen);
int teams_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen);
int ntfy_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
	       time_t now, struct channel_request *out, char *err, size_t errlen);
int alertmanager_build(const struct receiver *r, const struct channel_msg *m,
		       json_t *const *data, time_t now, struct channel_request *out, char *err,
		       size_t errlen);
int email_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen);

/*
 * Append s (UTF-8) as RFC 2047 "B" encoded-words of whole characters: the first at most
 * first_avail characters long, the others at most avail, each of those after sep (" ",
 * or "\r\n " to fold a mail header). Decoders join adjacent encoded-words exactly.
 */
void chan_mime_words(struct dynbuf *b, const char *s, size_t first_avail, size_t avail,
		     const char *sep);

/* Email helpers channel.c's check uses: split "Name <addr>" or "addr"; 0 when valid. */
int email_addr_parse(const char *s, char *addr, size_t addrlen, char *name, size_t namelen);
/* Is s an addr-spec stswatch can put in an envelope (printable ASCII dot-atom@domain)? */
bool email_addr_valid(const char *s);
/* Decode a "whsec_<base64>" secret into key (keylen >= 64); its length, or -1. */
int webhook_secret_decode(const char *secret, unsigned char *key, size_t keylen);

#endif
