/*
 * channel: one interface over the channel files (webhook.c, slack.c, teams.c, ntfy.c,
 * alertmanager.c, email.c), like OpenSMTPD's queue_backend.c over its backends: the
 * receiver check, the dispatch of channel_build(), the request's life and its redacted
 * description, and the small text helpers the channel files share.
 */
#include "channel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define DESCRIBE_BODY_MAX 4096

/* ---- text helpers ------------------------------------------------------------------- */

size_t chan_utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	/* back up over continuation bytes to the start of the character that was cut */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static bool is_ctl(unsigned char c, bool keep_lf)
{
	if (c == '\n')
		return !keep_lf;
	return c < 0x20 || c == 0x7f;
}

void chan_text_put(struct dynbuf *b, const char *s, size_t max, bool keep_lf)
{
	size_t len, n;
	bool cut;

	if (!s)
		return;
	len = strlen(s);
	cut = len > max;
	n = cut ? chan_utf8_prefix(s, len, max >= ELLIPSIS_LEN ? max - ELLIPSIS_LEN : 0) : len;
	for (size_t i = 0; i < n; i++) {
		char c = is_ctl((unsigned char)s[i], keep_lf) ? ' ' : s[i];

		dynbuf_append(b, &c, 1);
	}
	if (cut && max >= ELLIPSIS_LEN)
		dynbuf_append(b, ELLIPSIS, ELLIPSIS_LEN);
}

char *chan_text_cut(const char *s, size_t max)
{
	struct dynbuf b;

	dynbuf_init(&b, 0);
	chan_text_put(&b, s ? s : "", max, true);
	return dynbuf_steal(&b);
}

void chan_text_flatten(char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s, false))
			*s = ' ';
}

const char *chan_jstr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s && s[0] ? s : NULL;
}

/* ---- requests ----------------------------------------------------------------------- */

void chan_req_header(struct channel_request *r, const char *fmt, ...)
{
	va_list ap;
	char *h;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	h = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(h, (size_t)n + 1, fmt, ap);
	va_end(ap);
	chan_text_flatten(h);	/* a value can never end the header early */
	r->headers = xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
	r->headers[r->n_headers++] = h;
}

void chan_req_extra_headers(struct channel_request *r, const struct receiver *rc)
{
	for (size_t i = 0; i < rc->n_headers; i++)
		if (rc->headers[i])
			chan_req_header(r, "%s", rc->headers[i]);
}

void chan_req_post(struct channel_request *r, enum channel_kind kind, const char *url,
		   char *body, const char *content_type)
{
	r->kind = kind;
	r->url = xstrdup(url);
	r->method = xstrdup("POST");
	r->body = body;
	r->body_len = strlen(body);
	r->content_type = xstrdup(content_type);
	chan_req_header(r, "Content-Type: %s", content_type);
}

void channel_request_free(struct channel_request *req)
{
	free(req->url);
	free(req->method);
	for (size_t i = 0; i < req->n_headers; i++)
		free(req->headers[i]);
	free(req->headers);
	free(req->content_type);
	free(req->body);
	free(req->mail_from);
	for (size_t i = 0; i < req->n_rcpt; i++)
		free(req->rcpt[i]);
	free(req->rcpt);
	free(req->message);
	memset(req, 0, sizeof(*req));
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void receiver_free(struct receiver *r)
{
	free(r->name);
	free(r->url);
	if (r->secret)
		memset(r->secret, 0, strlen(r->secret));
	free(r->secret);
	strv_free(r->headers, r->n_headers);
	free(r->from);
	strv_free(r->to, r->n_to);
	free(r->username);
	if (r->password)
		memset(r->password, 0, strlen(r->password));
	free(r->password);
	free(r->ca_file);
	strv_free(r->ntfy_tags, r->n_ntfy_tags);
	free(r->generator_url);
	memset(r, 0, sizeof(*r));
}

/* ---- kinds -------------------------------------------------------------------------- */

static const char *const kind_names[] = {
	[CHANNEL_WEBHOOK] = "webhook",	 [CHANNEL_SLACK] = "slack",
	[CHANNEL_TEAMS] = "teams",	 [CHANNEL_NTFY] = "ntfy",
	[CHANNEL_ALERTMANAGER] = "alertmanager", [CHANNEL_EMAIL] = "email",
};

const char *channel_kind_str(enum channel_kind k)
{
	return (unsigned)k < ARRAY_LEN(kind_names) ? kind_names[k] : "unknown";
}

int channel_kind_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_LEN(kind_names); i++)
		if (s && strcmp(s, kind_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- the receiver check ------------------------------------------------------------- */

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Headers stswatch sets itself, which an extra header must not duplicate. */
static bool header_reserved(const char *name, size_t n)
{
	static const char *const v[] = { "host", "content-type", "content-length",
					 "transfer-encoding", "webhook-id", "webhook-timestamp",
					 "webhook-signature" };

	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		if (strlen(v[i]) == n && strncasecmp(name, v[i], n) == 0)
			return true;
	return false;
}

static int check_header(const struct receiver *r, const char *h, char *err, size_t errlen)
{
	const char *colon = h ? strchr(h, ':') : NULL;
	size_t n = colon ? (size_t)(colon - h) : 0;

	if (!colon || n == 0) {
		bsnprintf(err, errlen, "receiver %s: headers: an entry is not \"Name: value\"",
			  r->name);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)h[i])) {
			bsnprintf(err, errlen, "receiver %s: headers: \"%.*s\" is not a header name",
				  r->name, (int)(n > 64 ? 64 : n), h);
			return -1;
		}
	for (const char *p = colon + 1; *p; p++)
		if ((unsigned char)*p < 0x20 ? *p != '\t' : (unsigned char)*p == 0x7f) {
			/* the value may be a secret: name the header only */
			bsnprintf(err, errlen, "receiver %s: headers: the value of %.*s has a control "
				  "character", r->name, (int)(n > 64 ? 64 : n), h);
			return -1;
		}
	if (header_reserved(h, n)) {
		bsnprintf(err, errlen, "receiver %s: headers: %.*s is set by stswatch itself",
			  r->name, (int)n, h);
		return -1;
	}
	if (r->secret && (r->kind == CHANNEL_NTFY || r->kind == CHANNEL_ALERTMANAGER) &&
	    n == 13 && strncasecmp(h, "authorization", n) == 0) {
		bsnprintf(err, errlen, "receiver %s: set either secret (a bearer token) or an "
			  "Authorization header, not both", r->name);
		return -1;
	}
	return 0;
}

static int check_url(const struct receiver *r, char *err, size_t errlen)
{
	const char *u = r->url, *host;
	bool mail = r->kind == CHANNEL_EMAIL;

	if (!u || !u[0]) {
		bsnprintf(err, errlen, "receiver %s: url is missing", r->name);
		return -1;
	}
	if (mail ? strncmp(u, "smtp://", 7) != 0 && strncmp(u, "smtps://", 8) != 0
		 : strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) {
		bsnprintf(err, errlen, "receiver %s: url must start with %s", r->name,
			  mail ? "smtp:// (STARTTLS required) or smtps://" : "https:// or http://");
		return -1;
	}
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			bsnprintf(err, errlen, "receiver %s: url has a space, a control or a "
				  "non-ASCII character (percent-encode it)", r->name);
			return -1;
		}
	host = strstr(u, "://") + 3;
	if (!*host || *host == '/' || *host == '?' || *host == '#') {
		bsnprintf(err, errlen, "receiver %s: url names no host", r->name);
		return -1;
	}
	return 0;
}

int channel_receiver_check(const struct receiver *r, char *err, size_t errlen)
{
	unsigned char key[64];
	char addr[256], name[256];

	if (!r->name || !r->name[0]) {
		bsnprintf(err, errlen, "receiver: name is missing");
		return -1;
	}
	if (channel_kind_parse(channel_kind_str(r->kind)) < 0) {
		bsnprintf(err, errlen, "receiver %s: unknown type", r->name);
		return -1;
	}
	if (check_url(r, err, errlen) < 0)
		return -1;
	if (r->kind != CHANNEL_EMAIL)
		for (size_t i = 0; i < r->n_headers; i++)
			if (check_header(r, r->headers[i], err, errlen) < 0)
				return -1;
	if (r->kind == CHANNEL_WEBHOOK && r->secret &&
	    webhook_secret_decode(r->secret, key, sizeof(key)) < 0) {
		bsnprintf(err, errlen, "receiver %s: secret is not a Standard Webhooks secret: "
			  "\"whsec_\" and the base64 of 24 to 64 random bytes", r->name);
		return -1;
	}
	if ((r->kind == CHANNEL_NTFY || r->kind == CHANNEL_ALERTMANAGER) && r->secret)
		for (const char *p = r->secret; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
				bsnprintf(err, errlen, "receiver %s: secret (a bearer token) has a "
					  "space, control or non-ASCII character", r->name);
				return -1;
			}
	if (r->kind == CHANNEL_NTFY && (r->ntfy_priority < 0 || r->ntfy_priority > 5)) {
		bsnprintf(err, errlen, "receiver %s: priority must be 1 to 5", r->name);
		return -1;
	}
	if (r->kind == CHANNEL_ALERTMANAGER && r->generator_url &&
	    strncmp(r->generator_url, "https://", 8) != 0 &&
	    strncmp(r->generator_url, "http://", 7) != 0) {
		bsnprintf(err, errlen, "receiver %s: generator_url must be an http(s) URL", r->name);
		return -1;
	}
	if (r->kind == CHANNEL_EMAIL) {
		if (!r->from || email_addr_parse(r->from, addr, sizeof(addr), name,
						 sizeof(name)) < 0) {
			bsnprintf(err, errlen, "receiver %s: from must be an address "
				  "(addr@domain or \"Name <addr@domain>\", ASCII)", r->name);
			return -1;
		}
		if (r->n_to == 0) {
			bsnprintf(err, errlen, "receiver %s: to names no recipient", r->name);
			return -1;
		}
		for (size_t i = 0; i < r->n_to; i++)
			if (!r->to[i] || !email_addr_valid(r->to[i])) {
				bsnprintf(err, errlen, "receiver %s: to: entry %zu is not an address "
					  "(addr@domain, ASCII)", r->name, i + 1);
				return -1;
			}
	}
	return 0;
}

/* ---- the dispatch ------------------------------------------------------------------- */

static bool id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '_' || id[i] == '-'))
			return false;
	return true;
}

int channel_build(const struct receiver *r, const struct channel_msg *m, time_t now,
		  struct channel_request *out, char *err, size_t errlen)
{
	json_t **data = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (channel_receiver_check(r, err, errlen) < 0)
		return -1;
	if (!m->n || !m->items) {
		bsnprintf(err, errlen, "receiver %s: the message has no notification", r->name);
		return -1;
	}
	if (m->kind == ALERT_NONE) {
		bsnprintf(err, errlen, "receiver %s: the message has no kind", r->name);
		return -1;
	}
	if (!id_valid(m->id)) {
		bsnprintf(err, errlen, "receiver %s: the message id is not 1 to 128 characters of "
			  "[A-Za-z0-9_-]", r->name);
		return -1;
	}
	data = xcalloc(m->n, sizeof(*data));
	for (size_t i = 0; i < m->n; i++) {
		const char *d = m->items[i].data;
		json_error_t je;

		if (m->items[i].kind == ALERT_NONE || !id_valid(m->items[i].id)) {
			bsnprintf(err, errlen, "receiver %s: notification %zu: it has no kind, or "
				  "its id is not 1 to 128 characters of [A-Za-z0-9_-]", r->name,
				  i + 1);
			goto out;
		}
		if (!d || strlen(d) > CHANNEL_DATA_MAX) {
			bsnprintf(err, errlen, "receiver %s: notification %s: data is missing or "
				  "larger than %d bytes", r->name, m->items[i].id, CHANNEL_DATA_MAX);
			goto out;
		}
		data[i] = json_loads(d, JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(data[i])) {
			bsnprintf(err, errlen, "receiver %s: notification %s: data is not a JSON "
				  "object (%s, line %d)", r->name, m->items[i].id,
				  data[i] ? "another JSON value" : je.text, je.line);
			goto out;
		}
	}
	switch (r->kind) {
	case CHANNEL_WEBHOOK:
		rc = webhook_build(r, m, data, now, out, err, errlen);
		break;
	case CHANNEL_SLACK:
		rc = slack_build(r, m, data, now, out, err, errlen);
		break;
	case CHANNEL_TEAMS:
		rc = teams_build(r, m, data, now, out, err, errlen);
		break;
	case CHANNEL_NTFY:
		rc = ntfy_build(r, m, data, now, out, err, errlen);
		break;
	case CHANNEL_ALERTMANAGER:
		rc = alertmanager_build(r, m, data, now, out, err, errlen);
		break;
	case CHANNEL_EMAIL:
		rc = email_build(r, m, data, now, out, err, errlen);
		break;
	}
	if (rc != 0)
		channel_request_free(out);
out:
	for (size_t i = 0; i < m->n; i++)
		json_decref(data[i]);
	free(data);
	return rc;
}

/* ---- describe ----------------------------------------------------------------------- */

/* Does a header's name say its value is (or carries) a credential? */
static bool header_secret(const char *h)
{
	static const char *const words[] = { "auth", "token", "secret", "key", "signature",
					     "password", "cookie", "session", "credential" };
	const char *colon = strchr(h, ':');
	size_t n = colon ? (size_t)(colon - h) : strlen(h);

	for (size_t w = 0; w < ARRAY_LEN(words); w++) {
		size_t wl = strlen(words[w]);

		for (size_t i = 0; i + wl <= n; i++)
			if (strncasecmp(h + i, words[w], wl) == 0)
				return true;
	}
	return false;
}

/*
 * scheme://host[:port] and then the path, unless the path is a secret of its own (a Slack
 * or Teams webhook URL, an ntfy topic, a generic webhook's token): userinfo, query and
 * fragment always go.
 */
static void describe_url(struct dynbuf *b, const char *url, enum channel_kind kind)
{
	const char *s = strstr(url, "://"), *host, *end, *at, *path_end;

	if (!s) {
		dynbuf_printf(b, "[redacted]");
		return;
	}
	host = s + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	dynbuf_printf(b, "%.*s%.*s", (int)(s + 3 - url), url, (int)(end - host), host);
	if (!*end)
		return;
	if (kind == CHANNEL_ALERTMANAGER || kind == CHANNEL_EMAIL) {
		path_end = end + strcspn(end, "?#");
		dynbuf_printf(b, "%.*s%s", (int)(path_end - end), end,
			      *path_end ? "?[redacted]" : "");
	} else {
		dynbuf_printf(b, "/[redacted]");
	}
}

static void describe_text(struct dynbuf *b, const char *s, size_t len)
{
	size_t n = len > DESCRIBE_BODY_MAX ? chan_utf8_prefix(s, len, DESCRIBE_BODY_MAX) : len;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r')
			dynbuf_append(b, &s[i], 1);
	if (n < len)
		dynbuf_printf(b, "\n[%zu more bytes]", len - n);
	dynbuf_printf(b, "\n");
}

char *channel_request_describe(const struct channel_request *req)
{
	struct dynbuf b;

	dynbuf_init(&b, 0);
	if (req->kind == CHANNEL_EMAIL) {
		dynbuf_printf(&b, "SMTP ");
		describe_url(&b, req->url ? req->url : "", req->kind);
		dynbuf_printf(&b, "\nMAIL FROM:<%s>\n", req->mail_from ? req->mail_from : "");
		for (size_t i = 0; i < req->n_rcpt; i++)
			dynbuf_printf(&b, "RCPT TO:<%s>\n", req->rcpt[i]);
		dynbuf_printf(&b, "\n");
		if (req->message)
			describe_text(&b, req->message, req->message_len);
		return dynbuf_steal(&b);
	}
	dynbuf_printf(&b, "%s ", req->method ? req->method : "POST");
	describe_url(&b, req->url ? req->url : "", req->kind);
	dynbuf_printf(&b, " (%s)\n", channel_kind_str(req->kind));
	for (size_t i = 0; i < req->n_headers; i++) {
		const char *h = req->headers[i], *colon = strchr(h, ':');

		if (header_secret(h) && colon)
			dynbuf_printf(&b, "%.*s: [redacted]\n", (int)(colon - h), h);
		else
			dynbuf_printf(&b, "%s\n", h);
	}
	dynbuf_printf(&b, "\n");
	if (req->body)
		describe_text(&b, req->body, req->body_len);
	return dynbuf_steal(&b);
}
