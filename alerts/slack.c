/*
 * slack: a Slack incoming webhook message: "text" (the summary; what notifications and
 * clients without blocks show) and "blocks": a header, sections of mrkdwn with the body,
 * a context line with the facts. Within Slack's documented limits (docs.slack.dev):
 *   - a message holds up to 50 blocks (reference/block-kit/blocks);
 *   - a header block's plain_text is at most 150 characters (.../blocks/header-block);
 *   - a section block's text is 1 to 3000 characters (.../blocks/section-block);
 *   - a context block holds at most 10 elements (.../blocks/context-block);
 *   - the top-level text is truncated past 40,000 characters (api.slack.com changelog
 *     2018-04 "Truncating really long messages"); ours is the summary, far shorter.
 * Slack counts characters; these limits are applied to bytes of UTF-8, which are never
 * fewer, so a text that fits here fits there. &, < and > are Slack's control characters
 * in mrkdwn and in "text" and are written &amp; &lt; &gt; (reference/surfaces/formatting,
 * "Escaping text"); the header is plain_text and is not parsed.
 */
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "message.h"

#define SLACK_BLOCKS_MAX 50
#define SLACK_HEADER_MAX 150
#define SLACK_SECTION_MAX 3000
#define SLACK_CONTEXT_MAX 10
#define SLACK_CONTEXT_TEXT_MAX 300	/* ours, to keep the line short */
#define SLACK_TEXT_MAX 3000		/* ours: the fallback summary, well under 40,000 */

/* Escape &, <, > (Slack's control characters) into b. */
static void slack_escape(struct dynbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			dynbuf_printf(b, "&amp;");
		else if (*s == '<')
			dynbuf_printf(b, "&lt;");
		else if (*s == '>')
			dynbuf_printf(b, "&gt;");
		else
			dynbuf_append(b, s, 1);
	}
}

/*
 * Where to cut an escaped text of len bytes to at most max: at the last line break that
 * keeps it within max if there is one in its second half, else on a character, and never
 * inside an entity (&amp; &lt; &gt;).
 */
static size_t slack_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	for (n = max; n > max / 2; n--)
		if (s[n - 1] == '\n')
			return n;
	n = chan_utf8_prefix(s, len, max);
	for (size_t back = 1; back <= 4 && back <= n; back++) {
		if (s[n - back] == ';')
			break;
		if (s[n - back] == '&') {
			n -= back;
			break;
		}
	}
	return n;
}

static json_t *text_obj(const char *type, const char *text)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "text", json_string(text));
	return o;
}

static json_t *section(const char *text)
{
	json_t *b = json_object();

	json_object_set_new(b, "type", json_string("section"));
	json_object_set_new(b, "text", text_obj("mrkdwn", text));
	return b;
}

/* Append a part as sections of at most SLACK_SECTION_MAX bytes, within room blocks. */
static void add_sections(json_t *blocks, const char *part, size_t room)
{
	struct dynbuf e;
	size_t off = 0;

	dynbuf_init(&e, 0);
	slack_escape(&e, part);
	while (e.len > off && json_array_size(blocks) < room) {
		bool last = json_array_size(blocks) + 1 == room;
		size_t n = slack_cut(e.buf + off, e.len - off,
				     last ? SLACK_SECTION_MAX - ELLIPSIS_LEN : SLACK_SECTION_MAX);
		char *chunk;

		if (n == 0)
			break;
		chunk = xstrndup(e.buf + off, n);
		if (last && off + n < e.len) {
			char *c2 = xasprintf("%s%s", chunk, ELLIPSIS);

			free(chunk);
			chunk = c2;
		}
		json_array_append_new(blocks, section(chunk));
		free(chunk);
		off += n;
		while (off < e.len && e.buf[off] == '\n')
			off++;
	}
	dynbuf_free(&e);
}

int slack_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen)
{
	json_t *root = NULL, *blocks, *ctx, *elems, *hdr;
	struct message *msgs = xcalloc(m->n, sizeof(*msgs));
	struct dynbuf text, line;
	char *header = NULL, *dumped = NULL, why[200];
	size_t room = SLACK_BLOCKS_MAX - 1;	/* the context block goes last */
	int rc = -1;

	dynbuf_init(&text, 0);
	for (size_t i = 0; i < m->n; i++)
		if (message_render(m->items[i].kind, data[i], now, &msgs[i], why,
				   sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: notification %s: %s", r->name,
				  m->items[i].id, why);
			goto out;
		}
	root = json_object();
	blocks = json_array();
	json_object_set_new(root, "blocks", blocks);

	/* text: the summaries, escaped; the fallback for notifications */
	for (size_t i = 0; i < m->n && text.len < SLACK_TEXT_MAX; i++) {
		if (i)
			dynbuf_printf(&text, "\n");
		slack_escape(&text, msgs[i].summary);
	}
	if (text.len > SLACK_TEXT_MAX) {
		text.len = slack_cut(text.buf, text.len, SLACK_TEXT_MAX - ELLIPSIS_LEN);
		text.buf[text.len] = '\0';
		dynbuf_printf(&text, "%s", ELLIPSIS);
	}
	json_object_set_new(root, "text", json_string(text.buf));

	for (size_t i = 0; i < m->n && json_array_size(blocks) < room; i++) {
		header = chan_text_cut(msgs[i].summary, SLACK_HEADER_MAX);
		hdr = json_object();
		json_object_set_new(hdr, "type", json_string("header"));
		json_object_set_new(hdr, "text", text_obj("plain_text", header));
		json_array_append_new(blocks, hdr);
		free(header);
		header = NULL;
		for (size_t p = 0; p < msgs[i].n_parts; p++)
			add_sections(blocks, msgs[i].parts[p], room);
	}

	ctx = json_object();
	elems = json_array();
	json_object_set_new(ctx, "type", json_string("context"));
	json_object_set_new(ctx, "elements", elems);
	dynbuf_init(&line, 0);
	for (size_t f = 0; f < msgs[0].n_facts && json_array_size(elems) < SLACK_CONTEXT_MAX - 1;
	     f++) {
		char *cut;

		dynbuf_reset(&line);
		dynbuf_printf(&line, "*");
		slack_escape(&line, msgs[0].facts[f].name);
		dynbuf_printf(&line, ":* ");
		slack_escape(&line, msgs[0].facts[f].value);
		cut = xstrndup(line.buf, slack_cut(line.buf, line.len, SLACK_CONTEXT_TEXT_MAX));
		json_array_append_new(elems, text_obj("mrkdwn", cut));
		free(cut);
	}
	dynbuf_reset(&line);
	dynbuf_printf(&line, "stswatch %s", STSWATCH_VERSION);
	if (m->n > 1)
		dynbuf_printf(&line, ", %zu notifications", m->n);
	json_array_append_new(elems, text_obj("mrkdwn", line.buf));
	dynbuf_free(&line);
	json_array_append_new(blocks, ctx);

	dumped = json_dumps(root, JSON_COMPACT);
	if (!dumped) {
		bsnprintf(err, errlen, "receiver %s: the Slack message could not be written",
			  r->name);
		goto out;
	}
	chan_req_post(out, CHANNEL_SLACK, r->url, xstrdup(dumped), "application/json; charset=utf-8");
	chan_req_extra_headers(out, r);
	rc = 0;
out:
	for (size_t i = 0; i < m->n; i++)
		message_free(&msgs[i]);
	free(msgs);
	free(header);
	free(dumped);
	dynbuf_free(&text);
	json_decref(root);
	return rc;
}
