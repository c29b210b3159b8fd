/*
 * teams: a Microsoft Teams Workflows ("When a Teams webhook request is received") message
 * with one Adaptive Card, in the shape Microsoft documents for webhooks
 * (msteams-platform/webhooks-and-connectors/how-to/connectors-using.md, "Send Adaptive
 * Cards using an Incoming Webhook"):
 *     {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
 *      "contentUrl":null,"content":{"$schema":...,"type":"AdaptiveCard","version":"1.2",
 *      "body":[...]}}]}
 * "type" must be "message", "attachments" holds the card, "contentType" must be the
 * Adaptive Card type, "content" is the card. In the card, "type" and "version" are required
 * (Adaptive Cards schema explorer, AdaptiveCard: "version ... is required for the top-level
 * card"); Teams renders versions up to 1.5, and this card uses only TextBlock and FactSet,
 * which exist since 1.0, so it says 1.2 as Microsoft's example does. fallbackText carries
 * the summary for clients that cannot render it.
 *
 * Size: "The message size limit is 28 KB" (add-incoming-webhook.md; the Power Automate Teams
 * connector says about 28 KB too). Users report 413 answers from about 14 KB when the
 * service counts the body as UTF-16, so the whole body is kept within 14,000 bytes of
 * UTF-8: even counted as UTF-16 that is under 28 KB. The text is cut until it fits.
 */
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "message.h"

#define TEAMS_BODY_MAX 14000
#define TEAMS_TEXT_MIN 400	/* below this much text the card is not worth sending */
#define CARD_VERSION "1.2"
#define CARD_SCHEMA "http://adaptivecards.io/schemas/adaptive-card.json"

static json_t *text_block(const char *text, bool title, const char *color, bool separator)
{
	json_t *t = json_object();

	json_object_set_new(t, "type", json_string("TextBlock"));
	json_object_set_new(t, "text", json_string(text));
	json_object_set_new(t, "wrap", json_true());
	if (title) {
		json_object_set_new(t, "weight", json_string("Bolder"));
		json_object_set_new(t, "size", json_string("Medium"));
	}
	if (color)
		json_object_set_new(t, "color", json_string(color));
	if (separator)
		json_object_set_new(t, "separator", json_true());
	return t;
}

static const char *status_color(const struct message *msg)
{
	if (msg->kind == ALERT_RESOLVED || msg->kind == ALERT_TEST)
		return "Good";
	switch (msg->status) {
	case ALERT_CRITICAL:
		return "Attention";
	case ALERT_WARNING:
	case ALERT_UNKNOWN:
		return "Warning";
	case ALERT_OK:
		return "Good";
	}
	return NULL;
}

/* The whole message with at most budget bytes of body text (summaries and facts apart). */
static json_t *teams_message(const struct message *msgs, size_t n, size_t budget,
			     bool *cut, size_t *used_out)
{
	json_t *root = json_object(), *atts = json_array(), *att = json_object();
	json_t *card = json_object(), *body = json_array();
	size_t used = 0;

	*cut = false;
	json_object_set_new(root, "type", json_string("message"));
	json_object_set_new(root, "attachments", atts);
	json_array_append_new(atts, att);
	json_object_set_new(att, "contentType",
			    json_string("application/vnd.microsoft.card.adaptive"));
	json_object_set_new(att, "contentUrl", json_null());
	json_object_set_new(att, "content", card);
	json_object_set_new(card, "$schema", json_string(CARD_SCHEMA));
	json_object_set_new(card, "type", json_string("AdaptiveCard"));
	json_object_set_new(card, "version", json_string(CARD_VERSION));
	json_object_set_new(card, "fallbackText", json_string(msgs[0].summary));
	json_object_set_new(card, "body", body);

	for (size_t i = 0; i < n; i++) {
		const struct message *msg = &msgs[i];
		json_t *facts;

		json_array_append_new(body, text_block(msg->summary, true, status_color(msg),
						       i > 0));
		if (msg->n_facts) {
			json_t *fs = json_object();

			facts = json_array();
			json_object_set_new(fs, "type", json_string("FactSet"));
			json_object_set_new(fs, "facts", facts);
			for (size_t f = 0; f < msg->n_facts; f++) {
				json_t *o = json_object();

				json_object_set_new(o, "title", json_string(msg->facts[f].name));
				json_object_set_new(o, "value", json_string(msg->facts[f].value));
				json_array_append_new(facts, o);
			}
			json_array_append_new(body, fs);
		}
		for (size_t p = 0; p < msg->n_parts; p++) {
			size_t len = strlen(msg->parts[p]);
			char *t;

			if (used >= budget) {
				*cut = true;
				break;
			}
			t = chan_text_cut(msg->parts[p], budget - used);
			if (strlen(t) < len)
				*cut = true;
			used += strlen(t);
			json_array_append_new(body, text_block(t, false, NULL, false));
			free(t);
		}
	}
	if (*cut)
		json_array_append_new(body, text_block("(The message was shortened to fit Teams; "
						       "`stswatch status` has everything.)",
						       false, NULL, true));
	*used_out = used;
	return root;
}

int teams_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen)
{
	struct message *msgs = xcalloc(m->n, sizeof(*msgs));
	size_t budget = TEAMS_BODY_MAX;
	char *dumped = NULL, why[200];
	int rc = -1;

	for (size_t i = 0; i < m->n; i++)
		if (message_render(m->items[i].kind, data[i], now, &msgs[i], why,
				   sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: notification %s: %s", r->name,
				  m->items[i].id, why);
			goto out;
		}
	for (;;) {
		bool cut;
		size_t len, used, excess;
		json_t *root = teams_message(msgs, m->n, budget, &cut, &used);


		free(dumped);
		dumped = json_dumps(root, JSON_COMPACT);
		json_decref(root);
		if (!dumped) {
			bsnprintf(err, errlen, "receiver %s: the Teams card could not be written",
				  r->name);
			goto out;
		}
		len = strlen(dumped);
		if (len <= TEAMS_BODY_MAX)
			break;
		if (budget <= TEAMS_TEXT_MIN) {
			bsnprintf(err, errlen, "receiver %s: the Teams card stays over %d bytes "
				  "(%zu) even with its text cut", r->name, TEAMS_BODY_MAX, len);
			goto out;
		}
		/* JSON escaping makes text cost more than its bytes: cut by the excess, and more */
		excess = len - TEAMS_BODY_MAX + 200;
		budget = used > excess + TEAMS_TEXT_MIN ? used - excess : TEAMS_TEXT_MIN;
	}
	chan_req_post(out, CHANNEL_TEAMS, r->url, xstrdup(dumped), "application/json; charset=utf-8");
	chan_req_extra_headers(out, r);
	rc = 0;
out:
	for (size_t i = 0; i < m->n; i++)
		message_free(&msgs[i]);
	free(msgs);
	free(dumped);
	return rc;
}
