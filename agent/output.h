/* output: a domain's verdict as readable text or as one JSON object per line. */
#ifndef STSWATCH_OUTPUT_H
#define STSWATCH_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "checks/facts.h"
#include "checks/judge.h"

enum output_format {
	OUT_TEXT = 0,
	OUT_JSON,
};

/* "text" or "json"; -1 when neither. */
int output_format_parse(const char *s);

/* One finding: code, severity, subject, message, and its parts what, evidence,
 * consequence, fix (caller owns the reference). */
json_t *output_json_finding(const struct finding *f);
/* The sender profile of a finding that has one: {accept, reject, other, unknown, rules}. */
json_t *output_json_senders(const struct finding *f);
/* The JSON object DESIGN.md promises for one domain (caller owns the reference). */
json_t *output_json_domain(const struct domain_facts *df, const struct verdict *v);
/* Write a JSON value as one compact line. 0 or -1 (write error). */
int output_json_line(FILE *f, json_t *j);
/* A JSON string that is valid UTF-8 whatever the input (bad bytes become '?'). */
json_t *json_str(const char *s);
/* RFC 3339 string, or null for 0. */
json_t *json_time(time_t t);

/* The readable verdict of one domain: header, policy, MX paths, findings. */
void output_text_domain(FILE *f, const struct domain_facts *df, const struct verdict *v,
			time_t now, bool verbose);
#define SUMMARY_NAMES 8	/* domains named per status line */

/* Counts per status and the first few domains of each, for the closing summary. */
struct summary {
	size_t counts[4];
	char *names[4][SUMMARY_NAMES];
	enum status worst;
};

/* Count one domain. */
void summary_add(struct summary *s, enum status st, const char *domain);
/* One line per status: "CRITICAL    2  a.example, b.example". */
void output_text_summary(FILE *f, const struct summary *s);
/* Free the names. */
void summary_free(struct summary *s);

#endif
