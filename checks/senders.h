/*
 * senders: the sender profile, how the RFC 8461 grammar and known MTA-STS senders read the
 * records, policies and responses on which they disagree (the research: docs/SENDERS.md,
 * docs/senders.json), and the one rule that turns such a difference into a severity.
 */
#ifndef STSWATCH_SENDERS_H
#define STSWATCH_SENDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

/* The columns of the table: the strict grammar, then the implementations, in this order. */
enum sender {
	S_RFC,		/* RFC 8461 read strictly: the ABNF and the text */
	S_PMSR,		/* postfix-mta-sts-resolver */
	S_TLSPOL,	/* postfix-tlspol */
	S_GOMTASTS,	/* go-mtasts, as maddy uses it */
	S_MOX,
	S_STALWART,
	S_MAILAUTH,	/* mailauth (ZoneMTA) */
	S_HALON,	/* the Halon mta-sts extra */
	S_GOOGLE,	/* no documented behaviour: unknown throughout */
	S_MICROSOFT,	/* documented as validating, not how it parses: unknown throughout */
	S__COUNT
};

#define SENDER_BIT(s) (1u << (s))
#define SENDERS_ALL ((1u << S__COUNT) - 1u)
/* The implementations with evidence: every column but the RFC and the two providers. */
#define SENDERS_KNOWN (SENDERS_ALL & ~(SENDER_BIT(S_RFC) | SENDER_BIT(S_GOOGLE) | \
				       SENDER_BIT(S_MICROSOFT)))

/*
 * The rows of the table this tool implements: each is a reading where the strict grammar
 * and the senders, or the senders among themselves, differ. The dotted id of a row is the
 * rule's id in docs/senders.json.
 */
enum sender_rule {
	SR_NONE = 0,
	SR_TXT_TRAILING_WS,
	SR_TXT_WS_BEFORE_SEMI,
	SR_TXT_EMPTY_FIELD,
	SR_TXT_ID_NON_ALNUM,
	SR_TXT_ID_TOO_LONG,
	SR_TXT_ID_EMPTY,
	SR_TXT_ID_MISSING,
	SR_TXT_TWO_IDS,
	SR_TXT_EXT_BAD_NAME,
	SR_TXT_EXT_BAD_VALUE,
	SR_TXT_EXT_VALUE_COLON,
	SR_TXT_UNRELATED_RECORD,
	SR_TXT_VERSION_NOT_FIRST,
	SR_TXT_VERSION_CASE,
	SR_TXT_ID_KEY_CASE,
	SR_POL_BLANK_LINE,
	SR_POL_TRAILING_BLANK_LINE,
	SR_POL_CR_ONLY,
	SR_POL_WS_BEFORE_KEY,
	SR_POL_WS_BEFORE_COLON,
	SR_POL_KEY_CASE,
	SR_POL_MODE_VALUE_CASE,
	SR_POL_DUP_MODE,
	SR_POL_DUP_MAX_AGE,
	SR_POL_VERSION_MISSING,
	SR_POL_VERSION_CASE,
	SR_POL_UNKNOWN_KEY_COLON,
	SR_POL_EXT_BAD_NAME,
	SR_POL_EXT_EMPTY_VALUE,
	SR_POL_LINE_WITHOUT_COLON,
	SR_POL_MAX_AGE_ABOVE_MAX,
	SR_POL_MAX_AGE_SIGN,
	SR_POL_MAX_AGE_11_DIGITS,
	SR_POL_MX_IPV4,
	SR_POL_MX_WILDCARD_IPV4,
	SR_POL_MX_ULABEL,
	SR_POL_MX_STAR_ALONE,
	SR_POL_MX_INNER_WILDCARD,
	SR_POL_MX_DOUBLE_WILDCARD,
	SR_POL_MX_TRAILING_DOT,
	SR_POL_MX_EMPTY,
	SR_POL_NONE_WITHOUT_MX,
	SR_FETCH_CTYPE_OTHER,
	SR_FETCH_CTYPE_MISSING,
	SR_FETCH_STATUS_2XX,
	SR_FETCH_BODY_OVER_64K,
	SR_FETCH_SLOW_10S,
	SR__COUNT
};

/*
 * One row. Every column is in at most one of accept, reject and other (lenient-other: the
 * note says what it does instead); a column in none of them is unknown. lenient says how
 * this tool reads it: as the accepting senders do (the record or policy stays in force and
 * the MX hosts are judged under it) when more known implementations accept it than reject
 * it, else as invalid, as the grammar does.
 */
struct sender_profile {
	const char *id;		/* "txt.trailing_ws_no_semicolon", as in docs/senders.json */
	const char *rfc;	/* the RFC 8461 section: "3.1" */
	bool lenient;
	unsigned accept, reject, other;	/* bitmasks of SENDER_BIT(enum sender) */
	const char *note;	/* what the other readings do, or what the difference costs */
};

/* The row of a rule; NULL for SR_NONE and out of range. */
const struct sender_profile *sender_profile(enum sender_rule rule);
/* The rule whose id is this dotted name, or SR_NONE. */
enum sender_rule sender_rule_parse(const char *id);
/* The column's id in docs/senders.json: "rfc", "pmsr", "gomtasts"... */
const char *sender_id(enum sender s);
/* The name in words: "the RFC 8461 grammar", "postfix-mta-sts-resolver", "maddy (go-mtasts)". */
const char *sender_name(enum sender s);

/*
 * Who reads it how, in words, for a finding: "rejected by the RFC 8461 grammar,
 * postfix-tlspol and mox; accepted by postfix-mta-sts-resolver, maddy (go-mtasts),
 * Stalwart, mailauth and Halon; Google and Microsoft: unknown", with "read otherwise by
 * ..." for the lenient-other columns. The masks may be a merged finding's.
 */
void senders_str(unsigned accept, unsigned reject, unsigned other, char *buf, size_t len);

/*
 * The severity of a finding about this rule under a view, given the severity of this
 * tool's own reading (base). LINT_LENIENT: base. LINT_STRICT: CRITICAL when the grammar
 * or a listed sender rejects it, else base. LIVE: for a rule read leniently, at least
 * WARNING when a listed sender rejects it ("some senders ignore your policy"); else base
 * (a rule read as invalid stays as the parser says, CRITICAL).
 */
enum severity senders_severity(enum sender_rule rule, enum severity base, enum findings_view view);

/*
 * Add one occurrence of a finding about rule: its severity from senders_severity under the
 * list's view, the rule and its masks attached, and the consequence in words (who ignores
 * it and who reads it; the row's note). The caller sets what, evidence and fix.
 */
struct finding_occurrence *senders_add(struct findings *fs, enum finding_code code,
				       enum severity base, const char *subject,
				       enum sender_rule rule);

/* Does the list hold a finding with a sender profile at CRITICAL (lint: rejected)? */
bool senders_rejected(const struct findings *fs);

#endif
