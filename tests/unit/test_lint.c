/*
 * Unit tests of "stswatch lint" (agent/cmd_lint.c): the exit codes of the strict default
 * and of --lenient where senders differ (RFC 8461 3.1, 3.2; checks/senders.h), the JSON
 * senders field, and U-labels (RFC 5890: a host given as U-labels is its A-label; a
 * pattern must be written in A-labels).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "lib/defs.h"

#define OUT_MAX 65536

static char out[OUT_MAX];

/* Run cmd_lint on argv (NULL-terminated) with stdout captured in out; the exit code. */
static int lint(const char *const *args)
{
	char *argv[16];
	char path[] = "/tmp/stswatch-test-lint-XXXXXX";
	int argc = 0, fd, saved, rc;
	ssize_t n;

	argv[argc++] = (char *)"lint";
	for (; args[argc - 1] && argc < 15; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	/*
	 * glibc's getopt keeps its permutation state between calls; optind = 0 and one empty
	 * scan start it afresh, as for the first command of a process
	 */
	optind = 0;
	getopt_long(1, (char *[]){ (char *)"lint", NULL }, "", (struct option[]){ { 0 } }, NULL);
	fflush(stdout);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	rc = cmd_lint(argc, argv);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

/* A policy in a temporary file; the path is the caller's to unlink. */
static void policy_file(char *path, const char *body)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
}

struct row {
	const char *name;
	const char *kind;	/* "txt" or "policy" */
	const char *input;	/* the record, or the policy body */
	int strict, lenient;	/* exit codes */
	const char *words;	/* the strict output holds these */
};

static const struct row rows[] = {
	/* RFC 8461 3.1: the first example; postfix-mta-sts-resolver accepts it */
	{ "txt_trailing_ws", "txt", "v=STSv1; id=policy1 ", 2, 0,
	  "rejected by the RFC 8461 grammar, postfix-tlspol and mox; accepted by "
	  "postfix-mta-sts-resolver, maddy (go-mtasts), Stalwart, mailauth and Halon" },
	/* RFC 8461 3.1: a valid record passes both */
	{ "txt_valid", "txt", "v=STSv1; id=20260101T000000", 0, 0, "valid, id 20260101T000000" },
	/* RFC 8461 3.1: an empty id breaks the record in both readings */
	{ "txt_id_empty", "txt", "v=STSv1; id=", 2, 2, "the id is empty" },
	/* RFC 8461 3.2: the second example */
	{ "policy_blank_line", "policy",
	  "version: STSv1\n\nmode: enforce\nmx: mail.example.com\nmax_age: 86400\n", 2, 0,
	  "rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts) and mox" },
	/* RFC 8461 3.2, RFC 1123 2.1: the third example */
	{ "policy_mx_ip", "policy",
	  "version: STSv1\r\nmode: enforce\r\nmx: 1.2.3.4\r\nmax_age: 86400\r\n", 2, 0,
	  "rejected by postfix-tlspol and mox" },
	/* RFC 8461 3.2: a duplicate with another value: nobody rejects, senders disagree */
	{ "policy_dup_mode", "policy",
	  "version: STSv1\r\nmode: enforce\r\nmode: testing\r\nmx: mail.example.com\r\n"
	  "max_age: 86400\r\n", 1, 1, "read otherwise by postfix-mta-sts-resolver" },
	/* RFC 8461 3.2: a valid policy passes both */
	{ "policy_valid", "policy",
	  "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 86400\r\n", 0, 0,
	  "valid, mode enforce" },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	char path[] = "/tmp/stswatch-test-lint-policy-XXXXXX";
	const char *in = r->input;
	int rc;

	if (strcmp(r->kind, "policy") == 0) {
		policy_file(path, r->input);
		in = path;
	}
	rc = lint((const char *[]){ r->kind, in, NULL });
	if (rc != r->strict || !strstr(out, r->words))
		fail_msg("%s strict: exit %d (want %d), output:\n%s", r->name, rc, r->strict, out);
	rc = lint((const char *[]){ r->kind, "--lenient", in, NULL });
	if (rc != r->lenient)
		fail_msg("%s --lenient: exit %d (want %d), output:\n%s", r->name, rc, r->lenient,
			 out);
	if (in == path)
		unlink(path);
}

/* lint --format json: the finding names the columns; valid and strict say the reading */
static void test_json_senders(void **state)
{
	json_t *j, *f, *sn;
	json_error_t err;

	(void)state;
	assert_int_equal(lint((const char *[]){ "txt", "--format", "json", "v=STSv1;; id=x ",
						NULL }), 2);
	j = json_loads(out, 0, &err);
	assert_non_null(j);
	assert_false(json_is_true(json_object_get(j, "valid")));
	assert_true(json_is_true(json_object_get(j, "strict")));
	f = json_array_get(json_object_get(j, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "code")), "sts.txt.note");
	assert_string_equal(json_string_value(json_object_get(f, "severity")), "CRITICAL");
	sn = json_object_get(f, "senders");
	assert_non_null(sn);
	/* two differences, one finding: trailing whitespace and an empty field reject alike */
	assert_int_equal(json_array_size(json_object_get(sn, "rules")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(sn, "reject"), 0)),
			    "rfc");
	assert_int_equal(json_array_size(json_object_get(sn, "reject")), 3);
	assert_int_equal(json_array_size(json_object_get(sn, "accept")), 5);
	assert_int_equal(json_array_size(json_object_get(sn, "unknown")), 2);
	json_decref(j);
	/* --lenient: valid, the same profile, the note's own severity */
	assert_int_equal(lint((const char *[]){ "txt", "--lenient", "--format", "json",
						"v=STSv1;; id=x ", NULL }), 0);
	j = json_loads(out, 0, &err);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "valid")));
	assert_false(json_is_true(json_object_get(j, "strict")));
	f = json_array_get(json_object_get(j, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "severity")), "INFO");
	assert_non_null(json_object_get(f, "senders"));
	json_decref(j);
}

/* RFC 5890: --mx with U-labels is matched as its A-label, exactly and under a wildcard */
static void test_mx_ulabel_host(void **state)
{
	char path[] = "/tmp/stswatch-test-lint-policy-XXXXXX";

	(void)state;
	policy_file(path, "version: STSv1\r\nmode: enforce\r\nmx: *.xn--aca-6ma.com\r\n"
		    "mx: mail.xn--mnchen-3ya.example\r\nmax_age: 86400\r\n");
	assert_int_equal(lint((const char *[]){ "policy", path, "--mx", "x.\xc3\xb1" "aca.com",
						"--mx", "mail.m\xc3\xbcnchen.example", NULL }), 0);
	assert_non_null(strstr(out, "(as x.xn--aca-6ma.com): covered by \"*.xn--aca-6ma.com\""));
	assert_non_null(strstr(out, "(as mail.xn--mnchen-3ya.example): covered by "
			       "\"mail.xn--mnchen-3ya.example\""));
	/* a U-label host no pattern covers is named as its A-label */
	assert_int_equal(lint((const char *[]){ "policy", path, "--mx", "mail.\xc3\xb1" "aca.org",
						NULL }), 2);
	assert_non_null(strstr(out, "mx.unmatched  mail.xn--aca-6ma.org"));
	/* what is no internationalized name is still refused */
	assert_int_equal(lint((const char *[]){ "policy", path, "--mx", "a b.example", NULL }), 3);
	unlink(path);
}

/* RFC 8461 3.2: a U-label pattern is invalid, the fix names the A-label to write */
static void test_mx_ulabel_pattern(void **state)
{
	char path[] = "/tmp/stswatch-test-lint-policy-XXXXXX";

	(void)state;
	policy_file(path, "version: STSv1\r\nmode: enforce\r\nmx: *.\xc3\xb1" "aca.com\r\n"
		    "max_age: 86400\r\n");
	assert_int_equal(lint((const char *[]){ "policy", path, "--lenient", NULL }), 2);
	assert_non_null(strstr(out, "INVALID"));
	assert_non_null(strstr(out, "is not in A-labels"));
	assert_non_null(strstr(out, "write \"mx: *.xn--aca-6ma.com\""));
	unlink(path);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows) + 3];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		tests[n++] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL,
						  (void *)&rows[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_json_senders);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mx_ulabel_host);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mx_ulabel_pattern);
	return _cmocka_run_group_tests("lint", tests, n, NULL, NULL);
}
