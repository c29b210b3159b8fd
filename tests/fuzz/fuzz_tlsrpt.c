/* libFuzzer target: the TLS-RPT record parser (RFC 8460 3) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks/tlsrpt.h"

#define MAX_RECS 8
#define REC_SEP 0x1e	/* ASCII record separator splits the input into TXT records */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every message must be printable: network bytes never reach a terminal raw. */
static void check_printable(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		for (const char *p = fs->v[i].message; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				__builtin_trap();
	/* one finding per identity (code, subject), each saying what is wrong */
	for (size_t i = 0; i < fs->n; i++) {
		if (!fs->v[i].what[0])
			__builtin_trap();
		for (size_t k = i + 1; k < fs->n; k++)
			if (fs->v[i].code == fs->v[k].code &&
			    strcmp(fs->v[i].subject, fs->v[k].subject) == 0)
				__builtin_trap();
	}
}

/* A valid record has a usable URI; every kept URI is mailto: or https:. */
static void check_out(const struct tlsrpt *t, int rc)
{
	if ((rc == 0) != t->valid || t->n_rua > TLSRPT_MAX_RUA || (t->valid && !t->n_rua))
		__builtin_trap();
	for (size_t i = 0; i < t->n_rua; i++)
		if (!t->rua[i] || (strncasecmp(t->rua[i], "mailto:", 7) != 0 &&
				   strncasecmp(t->rua[i], "https://", 8) != 0))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *recs[MAX_RECS];
	size_t lens[MAX_RECS], n = 0, start = 0;
	struct findings fs;
	struct tlsrpt out;
	int rc;

	/* each record in its own allocation of exactly its length: over-reads are caught */
	for (size_t i = 0; i <= size && n < MAX_RECS; i++) {
		if (i < size && data[i] != REC_SEP)
			continue;
		lens[n] = i - start;
		recs[n] = malloc(lens[n] ? lens[n] : 1);
		if (lens[n])
			memcpy(recs[n], data + start, lens[n]);
		n++;
		start = i + 1;
	}
	findings_init(&fs);
	rc = tlsrpt_select((const char *const *)recs, lens, n, &out, &fs, "_smtp._tls.example.org");
	check_out(&out, rc);
	tlsrpt_free(&out);
	rc = tlsrpt_parse(recs[0], lens[0], &out, &fs, "_smtp._tls.example.org");
	check_out(&out, rc);
	tlsrpt_free(&out);
	check_printable(&fs);
	findings_free(&fs);
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
	return 0;
}
