/*
 * ntfy: publish to a topic URL (POST https://host/topic) with the text as the body and
 * ntfy's headers (docs/publish.md of ntfy): Title (alias of X-Title), Priority (X-Priority:
 * 1 min, 2 low, 3 default, 4 high, 5 max/urgent), Tags (X-Tags, comma-separated; tags that
 * are emoji short codes show as emoji) and, with a token, "Authorization: Bearer <token>"
 * (access tokens, "tk_..."). "Each message can be up to 4,096 bytes long. Longer messages
 * are treated as attachments" (publish.md, limits), so the body is cut to 4,096 bytes. A
 * header with non-ASCII text is sent as RFC 2047 encoded-words, which ntfy documents for
 * the title ("you may also encode any header ... as RFC 2047").
 *
 * Priority when the receiver sets none: CRITICAL 5, WARNING 3, UNKNOWN (blind) 3,
 * flapping 3, resolved 2 (seen, not rung), inconclusive 4 (the operator must act),
 * digest 2, test 3; a batch takes its highest.
 */
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "message.h"

#define NTFY_BODY_MAX 4096
#define NTFY_TITLE_MAX 250
#define NTFY_TAGS_MAX 16

static int priority_of(const struct message *msg)
{
	switch (msg->kind) {
	case ALERT_RESOLVED:
	case ALERT_DIGEST:
		return 2;
	case ALERT_INCONCLUSIVE:
		return 4;
	case ALERT_FLAPPING:
	case ALERT_TEST:
		return 3;
	default:
		break;
	}
	return msg->status == ALERT_CRITICAL ? 5 : 3;
}

static const char *emoji_of(const struct message *msg)
{
	switch (msg->kind) {
	case ALERT_RESOLVED:
		return "white_check_mark";
	case ALERT_FLAPPING:
		return "repeat";
	case ALERT_INCONCLUSIVE:
		return "satellite";
	case ALERT_DIGEST:
		return "calendar";
	case ALERT_TEST:
		return "test_tube";
	default:
		break;
	}
	switch (msg->status) {
	case ALERT_CRITICAL:
		return "rotating_light";
	case ALERT_WARNING:
		return "warning";
	case ALERT_UNKNOWN:
		return "question";
	case ALERT_OK:
		break;
	}
	return "white_check_mark";
}

/* Append one tag: printable ASCII without commas or spaces; "" tags are dropped. */
static void add_tag(struct dynbuf *tags, size_t *n, const char *t)
{
	char tag[65];
	size_t k = 0;

	if (!t || *n >= NTFY_TAGS_MAX)
		return;
	for (size_t i = 0; t[i] && k < sizeof(tag) - 1; i++)
		if ((unsigned char)t[i] > 0x20 && (unsigned char)t[i] < 0x7f && t[i] != ',')
			tag[k++] = t[i];
	tag[k] = '\0';
	if (!k)
		return;
	dynbuf_printf(tags, "%s%s", *n ? "," : "", tag);
	(*n)++;
}

static bool ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int ntfy_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
	       time_t now, struct channel_request *out, char *err, size_t errlen)
{
	struct message *msgs = xcalloc(m->n, sizeof(*msgs));
	struct dynbuf body, tags, title;
	char *full = NULL, *cut = NULL, *t = NULL, why[200];
	size_t n_tags = 0;
	int prio = 1, rc = -1;

	dynbuf_init(&body, 0);
	dynbuf_init(&tags, 0);
	dynbuf_init(&title, 0);
	for (size_t i = 0; i < m->n; i++) {
		if (message_render(m->items[i].kind, data[i], now, &msgs[i], why,
				   sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: notification %s: %s", r->name,
				  m->items[i].id, why);
			goto out;
		}
		if (priority_of(&msgs[i]) > prio)
			prio = priority_of(&msgs[i]);
	}
	if (r->ntfy_priority >= 1 && r->ntfy_priority <= 5)
		prio = r->ntfy_priority;

	if (m->n > 1) {
		dynbuf_printf(&body, "%zu notifications:\n", m->n);
		for (size_t i = 0; i < m->n; i++)
			dynbuf_printf(&body, "- %s\n", msgs[i].summary);
	}
	for (size_t i = 0; i < m->n && body.len < NTFY_BODY_MAX; i++) {
		full = message_body(&msgs[i]);
		dynbuf_printf(&body, "%s%s", body.len ? "\n" : "", full);
		free(full);
		full = NULL;
	}
	cut = chan_text_cut(body.buf ? body.buf : "", NTFY_BODY_MAX);

	add_tag(&tags, &n_tags, emoji_of(&msgs[0]));
	for (size_t i = 0; i < m->n; i++)
		if (chan_jstr(data[i], "domain"))
			add_tag(&tags, &n_tags, chan_jstr(data[i], "domain"));
	for (size_t i = 0; i < r->n_ntfy_tags; i++)
		add_tag(&tags, &n_tags, r->ntfy_tags[i]);

	if (m->n > 1)
		t = xasprintf("stswatch: %zu notifications, first: %s", m->n, msgs[0].summary);
	else
		t = xstrdup(msgs[0].summary);
	free(full);
	full = chan_text_cut(t, NTFY_TITLE_MAX);
	chan_text_flatten(full);
	if (ascii(full))
		dynbuf_printf(&title, "%s", full);
	else
		chan_mime_words(&title, full, 75, 75, " ");

	chan_req_post(out, CHANNEL_NTFY, r->url, cut, "text/plain; charset=utf-8");
	cut = NULL;
	chan_req_header(out, "Title: %s", title.buf);
	chan_req_header(out, "Priority: %d", prio);
	if (n_tags)
		chan_req_header(out, "Tags: %s", tags.buf);
	if (r->secret)
		chan_req_header(out, "Authorization: Bearer %s", r->secret);
	chan_req_extra_headers(out, r);
	rc = 0;
out:
	for (size_t i = 0; i < m->n; i++)
		message_free(&msgs[i]);
	free(msgs);
	free(full);
	free(cut);
	free(t);
	dynbuf_free(&body);
	dynbuf_free(&tags);
	dynbuf_free(&title);
	return rc;
}
