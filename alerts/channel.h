/*
 * channel: turn one queued notification into the request a receiver takes (an HTTP POST
 * for webhook, Slack, Teams, ntfy and Alertmanager; an SMTP envelope and an RFC 5322
 * message for email). Pure: no network, no clock (now is a parameter), no secrets in any
 * error or log text. One file per channel behind channel_build(); the delivery engine
 * sends what it gets and never looks at the kind again.
 */
#ifndef STSWATCH_CHANNEL_H
#define STSWATCH_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "alert.h"

enum channel_kind {
	CHANNEL_WEBHOOK = 0,	/* Standard Webhooks envelope, signed when a secret is set */
	CHANNEL_SLACK,		/* Slack incoming webhook: text + blocks */
	CHANNEL_TEAMS,		/* Teams Workflows webhook: one Adaptive Card */
	CHANNEL_NTFY,		/* ntfy topic URL: text body, Title/Priority/Tags headers */
	CHANNEL_ALERTMANAGER,	/* Alertmanager API v2 client: POST <url>/api/v2/alerts */
	CHANNEL_EMAIL,		/* SMTP (libcurl): envelope + RFC 5322 message */
};

#define CHANNEL_TIMEOUT_DEFAULT 15		/* seconds per request */
#define CHANNEL_AM_VALIDITY_DEFAULT (4 * 3600)	/* endsAt of a firing alert: now + this */
#define CHANNEL_DATA_MAX (1024 * 1024)		/* the largest data JSON text taken */

/*
 * One configured receiver. The configuration owns the strings (receiver_free() frees
 * them); every pointer may be NULL and every count 0 where the kind does not use it.
 */
struct receiver {
	char *name;
	enum channel_kind kind;
	char *url;		/* https://... ; smtp://host:587 or smtps://host:465 for email */
	char *secret;		/* webhook: "whsec_<base64>"; ntfy/alertmanager: bearer token */
	char **headers;		/* extra HTTP headers, each "Name: value" */
	size_t n_headers;
	enum alert_status min_severity;	/* routing (the caller's business), not used here */
	char *from;		/* email: "addr@domain" or "Display Name <addr@domain>" */
	char **to;		/* email: recipients (addr-spec each) */
	size_t n_to;
	char *username, *password;	/* email: SMTP AUTH; never in a request or a text */
	char *ca_file;		/* TLS trust for this receiver; NULL: the global one */
	unsigned timeout;	/* seconds; 0: CHANNEL_TIMEOUT_DEFAULT */
	int ntfy_priority;	/* 1..5 fixed; 0: from the notification (see ntfy.c) */
	char **ntfy_tags;	/* added to the tags stswatch chooses */
	size_t n_ntfy_tags;
	unsigned am_validity;	/* seconds; 0: CHANNEL_AM_VALIDITY_DEFAULT */
	char *generator_url;	/* alertmanager: generatorURL of every alert (optional) */
};

/* One notification of the outbox: its stable id, its kind and its data (JSON text,
 * docs/ALERT-DATA.md). */
struct channel_item {
	const char *id;		/* 16+ characters of [A-Za-z0-9_-], stable across retries */
	enum alert_kind kind;
	const char *data;
};

/*
 * What goes to one receiver at once: one item for webhook and chat (one message per
 * domain), one or more for email (a batch) and Alertmanager (all alerts in one POST).
 * Slack, Teams and ntfy render several items one after the other.
 */
struct channel_msg {
	const char *id;		/* webhook-id, the email's stswatch.ID Message-ID */
	enum alert_kind kind;	/* webhook type "stswatch.<kind>" */
	time_t created_at;	/* when the notification was made (the webhook timestamp) */
	size_t n;
	const struct channel_item *items;
};

/* The request to send, owned by the caller after channel_build() (channel_request_free). */
struct channel_request {
	enum channel_kind kind;
	char *url;		/* where to send: the full HTTP URL, or the smtp(s):// URL */
	char *method;		/* "POST" for HTTP; NULL for email */
	char **headers;		/* HTTP headers "Name: value", Content-Type among them */
	size_t n_headers;
	char *content_type;
	char *body;		/* HTTP body (NUL-terminated; body_len bytes) */
	size_t body_len;
	char *mail_from;	/* email: the envelope sender (addr-spec) */
	char **rcpt;		/* email: the envelope recipients */
	size_t n_rcpt;
	char *message;		/* email: the RFC 5322 message, CRLF line ends */
	size_t message_len;
};

/* "webhook", "slack", "teams", "ntfy", "alertmanager", "email". */
const char *channel_kind_str(enum channel_kind k);
/* Parse a kind name; -1 when unknown. */
int channel_kind_parse(const char *s);

/*
 * Check a receiver the way channel_build() will need it (URL scheme, secret format,
 * header syntax, email addresses), for `config check`. 0 when usable; -1 with the reason
 * in err (naming the receiver and the setting, never a secret's value).
 */
int channel_receiver_check(const struct receiver *r, char *err, size_t errlen);

/*
 * Build the request for one message to one receiver. Returns 0 with *out filled, 1 when
 * this channel has nothing to send for the message (Alertmanager and a digest), -1 with
 * the reason in err (no secret in it). *out is zeroed first and empty unless 0 is returned.
 */
int channel_build(const struct receiver *r, const struct channel_msg *m, time_t now,
		  struct channel_request *out, char *err, size_t errlen);

/* Free what a request owns and zero it. */
void channel_request_free(struct channel_request *req);

/*
 * The request as text for --verbose: method, URL (path and query of chat and webhook URLs,
 * which are secrets of their own, and any userinfo removed), headers with Authorization,
 * signatures and other secret-looking values redacted, then the start of the body or
 * message. The caller frees the string.
 */
char *channel_request_describe(const struct channel_request *req);

/* Free what a receiver owns (every string and list) and zero it. */
void receiver_free(struct receiver *r);

/*
 * The Standard Webhooks signature: "v1," + base64(HMAC-SHA256(key, "<id>.<ts>.<body>"))
 * where key is the base64-decoded part of secret after "whsec_" (24 to 64 bytes). For the
 * webhook channel and for a receiver that verifies (the lab's). 0, or -1 with err.
 */
int channel_webhook_sign(const char *secret, const char *id, long long ts, const char *body,
			 size_t body_len, char *out, size_t outlen, char *err, size_t errlen);

/*
 * Alertmanager is state-based: the caller re-sends firing alerts before their endsAt and
 * resolves them with endsAt in the past. One alert of a POST /api/v2/alerts; its labels
 * (alertname, domain, code, severity, subject) are its identity there, so a resolve must
 * carry the same labels as the alert it ends (see alertmanager.c on severity).
 */
struct am_alert {
	const char *alertname;	/* NULL: "MTASTS" */
	const char *domain, *code, *subject;	/* labels; NULL or "" leaves a label out */
	enum alert_status sev;	/* severity label: critical, warning, unknown; OK is "info" */
	bool resolved;		/* endsAt = now; else endsAt = now + validity */
	time_t ends_at;		/* overrides both when set (a test alert lives 5 minutes) */
	time_t starts_at;	/* 0: left out (Alertmanager uses its receive time) */
	time_t fails_at;	/* annotation fails_at; 0: none */
	const char *fails_reason, *incident;	/* annotations (optional) */
	const char *summary, *description;	/* annotations (optional) */
};

/* Build POST <url>/api/v2/alerts with these alerts (n >= 1). 0, or -1 with err. */
int channel_alertmanager_build(const struct receiver *r, const struct am_alert *v, size_t n,
			       time_t now, struct channel_request *out, char *err,
			       size_t errlen);

/*
 * Alertmanager's periodic re-send: POST <url>/api/v2/alerts with the firing alerts of n
 * domains, each given as data (JSON text, docs/ALERT-DATA.md "The re-send") whose findings
 * are the ones that fire. Each alert is the firing one a notification of data's kind
 * (problem, escalated or reminder; problem when absent) makes of that data, by the same
 * code: the same labels, summary, description (its countdown from now), fails_at,
 * fails_reason, incident and startsAt. 0, 1 when nothing fires, or -1 with err.
 */
int channel_alertmanager_resend(const struct receiver *r, const char *const *data, size_t n,
				time_t now, struct channel_request *out, char *err,
				size_t errlen);

#endif
