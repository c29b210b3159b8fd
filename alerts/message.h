/*
 * message: the words of a notification, shared by every channel: a one-line summary and
 * the full text (what is wrong, the evidence, the consequence for senders, the fix, the
 * predicted failure with its cause and a countdown), rendered from the notification's
 * data (docs/ALERT-DATA.md). Pure: now is a parameter. Text from the network has its
 * control characters replaced and each field bounded; the result is UTF-8 plain text
 * with LF line ends, each channel escapes or encodes it for its own format.
 */
#ifndef STSWATCH_MESSAGE_H
#define STSWATCH_MESSAGE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "alert.h"

#define MESSAGE_FACTS_MAX 8
#define MESSAGE_FIELD_MAX 1000		/* bytes of one field from the network */
#define MESSAGE_FINDINGS_MAX 40		/* findings written out in full */
#define MESSAGE_LIST_MAX 100		/* digest lines of each list */

/* A short label and value ("Domain", "example.org"), for card facts and chat context. */
struct message_fact {
	char *name;
	char *value;
};

struct message {
	enum alert_kind kind;
	enum alert_status status;	/* data.status (UNKNOWN when absent) */
	char *summary;			/* one line, no LF */
	size_t n_parts;
	char **parts;			/* the body's paragraphs in order (LF inside) */
	size_t n_facts;
	struct message_fact facts[MESSAGE_FACTS_MAX];
};

/* Render data (an object) for a notification of this kind. 0, or -1 with err. */
int message_render(enum alert_kind kind, const json_t *data, time_t now, struct message *m,
		   char *err, size_t errlen);
/* The full text: the parts separated by blank lines (caller frees). */
char *message_body(const struct message *m);
/* Free what a message owns and zero it. */
void message_free(struct message *m);

/* "OK", "WARNING", "CRITICAL", "UNKNOWN" (any case) to a status; UNKNOWN otherwise. */
enum alert_status message_status_parse(const char *s);

/*
 * The predicted failure as a sentence: "Delivery from compliant senders fails in 6 days,
 * on 2026-12-14, when the last valid MX certificate expires." (calendar days in UTC, hours
 * under a day, "fails now (since ...)" when past). reason may be NULL.
 */
void message_countdown(time_t fails_at, const char *reason, time_t now, char *buf,
		       size_t len);

#endif
