/* libFuzzer target: the MTA-STS TXT record parser (RFC 8461 3.1) on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/sts_txt.h"

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

static void check_out(const struct sts_txt *t, int rc)
{
	size_t n = strnlen(t->id, sizeof(t->id));

	if (n == sizeof(t->id) || (rc == 0) != t->valid)
		__builtin_trap();
	/* most senders take any id (checks/senders.h): 1 to STS_ID_MAX characters, no WSP */
	if (t->valid && (n == 0 || n > STS_ID_MAX))
		__builtin_trap();
	for (size_t i = 0; t->valid && i < n; i++)
		if ((unsigned char)t->id[i] <= 0x20 || (unsigned char)t->id[i] >= 0x7f ||
		    t->id[i] == ';')
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *recs[MAX_RECS];
	size_t lens[MAX_RECS], n = 0, start = 0;
	struct findings fs;
	struct sts_txt out;
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
	/* the severities where senders differ follow the view; the reading does not */
	fs.view = (enum findings_view)(size % 3);
	for (size_t i = 0; i < n; i++)
		(void)sts_txt_is_sts(recs[i], lens[i]);
	rc = sts_txt_select((const char *const *)recs, lens, n, &out, &fs, "_mta-sts.example.org");
	check_out(&out, rc);
	rc = sts_txt_parse(recs[0], lens[0], &out, &fs, "_mta-sts.example.org");
	check_out(&out, rc);
	check_printable(&fs);
	findings_free(&fs);
	for (size_t i = 0; i < n; i++)
		free(recs[i]);
	return 0;
}
