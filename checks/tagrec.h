/*
 * tagrec: the tokenizer of "v=VERSION; name=value; ..." TXT records, shared by the MTA-STS
 * record (RFC 8461 3.1) and the TLS-RPT record (RFC 8460 3), with the checks both grammars
 * make the same way. Each parser keeps only what is its own (the id, the rua URIs).
 */
#ifndef STSWATCH_TAGREC_H
#define STSWATCH_TAGREC_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/defs.h"

#define TAGREC_SHOW_LEN 96	/* bytes of a record quoted in a message */
#define TAGREC_SHOW_BUF (TAGREC_SHOW_LEN * 4 + 4)

/* What differs between the two grammars. */
struct tagrec_syntax {
	const char *version;		/* "v=STSv1" */
	const char *rfc;		/* "RFC 8461 3.1" */
	const char *rule;		/* prefix of the ABNF rule names: "sts", "tlsrpt" */
	const char *shorten_fix;	/* the fix for a record longer than the parser reads */
	const char *non_ascii_fix;	/* the fix for a byte outside ASCII */
	bool skip_empty;		/* read ";;" as senders that split on ';' do, counted in
					 * n_empty, instead of breaking the record */
};

/* The first rule a record breaks, in finding parts. */
struct tagrec_error {
	char what[512];		/* "field \"noequals\" has no '='" */
	char rule[384];		/* the rule, for the evidence: "RFC 8461 3.1: fields are ..." */
	char fix[200];
	unsigned sender_rule;	/* the checks/senders.h row of the break; 0 none */
};

/* One name=value field, pointing into the record. */
struct tagrec_field {
	const char *name;
	size_t name_len;
	const char *value;	/* WSP before the next ';' trimmed */
	size_t value_len;
	size_t offset;		/* of the name */
};

/* A record being read. */
struct tagrec {
	const struct tagrec_syntax *syn;
	const char *rec;
	size_t len, pos;
	bool wsp_before_sep;	/* "v=STSv1 ;": the ABNF allows it, the RFC text's prefix not */
	bool trailing_wsp;	/* WSP after the last field without a final ';' */
	bool done;
	size_t n_fields;
	size_t n_empty, first_empty;	/* empty fields skipped (skip_empty), offset of the first */
	struct tagrec_error err;
};

/*
 * Length of the prefix VERSION *WSP ";" of rec, or 0. The RFC text discards records that
 * do not begin with "VERSION;", its ABNF also lets WSP stand before the ';': such a
 * record counts and *wsp (when not NULL) says so, for a note.
 */
size_t tagrec_prefix(const struct tagrec_syntax *syn, const char *rec, size_t len, bool *wsp);

/*
 * A record a human meant as one of this kind that senders discard: leading WSP, the wrong
 * case (the version is case-sensitive) or no ';' after the version. why says which.
 */
bool tagrec_near_miss(const struct tagrec_syntax *syn, const char *rec, size_t len, char *why,
		      size_t whylen);

/* rec made printable and bounded for a message (TAGREC_SHOW_LEN bytes, "..." when cut). */
void tagrec_show(char *dst, size_t dstlen, const char *s, size_t n);

/*
 * Start reading rec (len bytes, NUL bytes allowed): refuses a record longer than max, a
 * byte other than printable ASCII and WSP, and a record without the prefix. 0, or -1 with
 * t->err set.
 */
int tagrec_open(struct tagrec *t, const struct tagrec_syntax *syn, const char *rec, size_t len,
		size_t max);

/*
 * The next field, by the ABNF VERSION 1*(sep field) [sep]: 1 with *f set, 0 after the last
 * field, -1 when the record breaks a rule (an empty field, a field without '=') or a rule
 * was recorded before (t->err).
 */
int tagrec_next(struct tagrec *t, struct tagrec_field *f);

/* Record the rule a record breaks, unless one is recorded already: the first is reported. */
void tagrec_fail(struct tagrec *t, const char *rule, const char *fix, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* Has the record broken a rule? */
bool tagrec_failed(const struct tagrec *t);

/*
 * Check an extension field: PREFIX-ext-name (abnf_ext_name_valid) and PREFIX-ext-value
 * = 1*(%x21-3A / %x3C / %x3E-7E), no ';', '=' or space. A break is recorded in t->err.
 */
void tagrec_check_ext(struct tagrec *t, const struct tagrec_field *f);

#endif
