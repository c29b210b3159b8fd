/* Unit tests of the log: JOURNAL_STREAM's "device:inode" read and compared, the line prefixes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* One row per value systemd might set, or a shell might leave behind. */
static void test_stream_matches(void **state)
{
	static const struct {
		const char *value;
		bool want;
	} rows[] = {
		{ "64769:1234567", true },		/* as systemd writes it: decimal dev:ino */
		{ "64769:1234568", false },		/* another stream (inode) */
		{ "64770:1234567", false },		/* another stream (device) */
		{ "1234567:64769", false },		/* the wrong way round */
		{ "64769:1234567 ", false },		/* trailing rubbish */
		{ " 64769:1234567", false },
		{ "64769:1234567:1", false },
		{ "+64769:1234567", false },		/* no sign */
		{ "64769:-1234567", false },
		{ "0xfd01:1234567", false },		/* not hex */
		{ "64769", false },			/* no inode */
		{ "64769:", false },
		{ ":1234567", false },
		{ "", false },
		{ "99999999999999999999:1234567", false },	/* overflows 64 bits */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got = log_journal_stream_matches(rows[i].value, 64769, 1234567);

		if (got != rows[i].want)
			fail_msg("JOURNAL_STREAM=\"%s\": %d, want %d", rows[i].value, got,
				 rows[i].want);
	}
	assert_false(log_journal_stream_matches(NULL, 64769, 1234567));
	/* the largest values a 64-bit dev_t and ino_t can have */
	assert_true(log_journal_stream_matches("18446744073709551615:18446744073709551615",
					       UINT64_MAX, UINT64_MAX));
	assert_true(log_journal_stream_matches("0:0", 0, 0));
}

/* Reads the file at path into buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
}

/*
 * stderr on a file: JOURNAL_STREAM naming that file's device and inode is the journal's
 * stream (prefixes); one naming another stream (a shell attached to the journal whose
 * daemon's stderr was redirected) or none is not.
 */
static void test_stderr_is_journal(void **state)
{
	char path[] = "/tmp/stswatch-log-XXXXXX", v[64], text[512];
	struct stat st;
	int fd, saved;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);

	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_true(log_stderr_is_journal());
	log_init(LOG_LVL_INFO, false);
	log_journal_prefix(log_stderr_is_journal());
	log_info("to the journal");
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(log_stderr_is_journal());
	log_journal_prefix(log_stderr_is_journal());
	log_warning("to a file");
	fflush(stderr);

	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_journal_prefix(false);
	slurp(path, text, sizeof(text));
	unlink(path);
	assert_string_equal(text, "<6>to the journal\nstswatch: warning: to a file\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_matches),
		cmocka_unit_test(test_stderr_is_journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
