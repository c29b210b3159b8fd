/* sts_txt: the MTA-STS TXT record at _mta-sts.DOMAIN, parsed as RFC 8461 section 3.1 says. */
#ifndef STSWATCH_STS_TXT_H
#define STSWATCH_STS_TXT_H

#include <stdbool.h>
#include <stddef.h>

#include "findings.h"

/* Longest joined record: what one DNS TXT record can carry (its data is at most 65535
 * bytes), so every record DNS delivers is read whole; only lint input can be longer. */
#define STS_TXT_MAX 65535
/*
 * Longest id this tool keeps and compares. The RFC allows 32 letters and digits; most
 * senders take longer ids and other characters, and so does this tool, with a note.
 */
#define STS_ID_MAX 64

struct sts_txt {
	bool valid;	/* exactly one STS record and it parses */
	char id[STS_ID_MAX + 1];	/* the id, "" when none */
	unsigned n_ext;	/* extension fields seen */
};

/*
 * Does this record count as an MTA-STS record? RFC 8461 3.1: records that do not begin
 * with "v=STSv1;" are discarded. Records that begin "v=STSv1" followed by WSP and ";"
 * (allowed by the ABNF's sts-sep) also count, with a note from sts_txt_parse.
 */
bool sts_txt_is_sts(const char *rec, size_t len);

/*
 * Parse one record by the ABNF, read as most senders read it where they differ from it
 * (checks/senders.h). Adds sts.txt.invalid (CRITICAL, naming the rule) or sts.txt.note
 * (where senders differ; its severity from the rule and fs->view) to fs, with the given
 * subject. Returns 0 when the record is valid in this tool's reading.
 */
int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out, struct findings *fs,
		  const char *subject);

/*
 * Evaluate every TXT record found at _mta-sts.DOMAIN as a sender does: discard records
 * that are not STS records, then none is sts.txt.missing (CRITICAL), more than one is
 * sts.txt.multiple (CRITICAL), one is parsed. recs[i] holds lens[i] bytes (strings of one
 * record already joined, may hold NUL bytes). Returns 0 when out->valid.
 */
int sts_txt_select(const char *const *recs, const size_t *lens, size_t n, struct sts_txt *out,
		   struct findings *fs, const char *subject);

#endif
