/* Unit tests of the findings list: parts, the joined message, merging by identity, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/findings.h"
#include "lib/defs.h"

#define MAX_ADDS 4

/* One findings_add and the parts it is given (NULL: the setter is not called). */
struct add {
	enum finding_code code;
	enum severity sev;
	const char *subject;
	const char *what, *evidence, *consequence, *fix;
};

struct row {
	const char *name;
	struct add adds[MAX_ADDS];
	size_t n_findings;		/* in the list afterwards */
	/* the first finding (by insertion) afterwards */
	enum severity sev;
	unsigned n_occurrences;
	const char *what, *evidence, *consequence, *fix, *message;
};

#define A(c, s, subj, w, e, q, f) { (c), (s), (subj), (w), (e), (q), (f) }
#define X "mta-sts.example.org"

static const struct row rows[] = {
	/* the join: what (evidence); consequence; fix */
	{ "all_parts", { A(F_POLICY_SLOW, SEV_WARNING, X, "fetching took 12.0 s", "threshold 10.0 s",
			   "senders give up", "make it faster") },
	  1, SEV_WARNING, 1, "fetching took 12.0 s", "threshold 10.0 s", "senders give up",
	  "make it faster", "fetching took 12.0 s (threshold 10.0 s); senders give up; make it faster" },
	/* no evidence: no parentheses */
	{ "no_evidence", { A(F_MX_NULL, SEV_INFO, X, "null MX", NULL, "nothing to protect",
			     "remove MTA-STS") },
	  1, SEV_INFO, 1, "null MX", "", "nothing to protect", "remove MTA-STS",
	  "null MX; nothing to protect; remove MTA-STS" },
	/* what alone */
	{ "what_only", { A(F_STS_ID_CHANGED, SEV_INFO, X, "id changed", NULL, NULL, NULL) },
	  1, SEV_INFO, 1, "id changed", "", "", "", "id changed" },
	/* a fix without a consequence */
	{ "no_consequence", { A(F_MX_CHANGED, SEV_INFO, X, "MX set changed", "added a", NULL, "look") },
	  1, SEV_INFO, 1, "MX set changed", "added a", "", "look", "MX set changed (added a); look" },
	/* evidence without a what stands alone, no parentheses */
	{ "evidence_only", { A(F_MX_CHANGED, SEV_INFO, X, NULL, "added a", NULL, NULL) },
	  1, SEV_INFO, 1, "", "added a", "", "", "added a" },
	/* same identity, same what: one finding, the evidence lists both */
	{ "merge_same_what", { A(F_POLICY_INVALID, SEV_CRITICAL, X, "invalid line", "line 3", "c", "f"),
			       A(F_POLICY_INVALID, SEV_CRITICAL, X, "invalid line", "line 5", "c", "f") },
	  1, SEV_CRITICAL, 2, "invalid line", "line 3; line 5", "c", "f",
	  "invalid line (line 3; line 5); c; f" },
	/* another what: the occurrence brings it into the evidence; fixes are each listed */
	{ "merge_other_what", { A(F_POLICY_INVALID, SEV_CRITICAL, X, "line 3: no ':'", "rule A", "c",
				  "fix A"),
				A(F_POLICY_INVALID, SEV_CRITICAL, X, "line 5: bad key", "rule B", "c",
				  "fix B") },
	  1, SEV_CRITICAL, 2, "line 3: no ':'", "rule A; line 5: bad key (rule B)", "c",
	  "fix A; fix B", "line 3: no ':' (rule A; line 5: bad key (rule B)); c; fix A; fix B" },
	/* a worse occurrence later leads: worst severity, its what first */
	{ "merge_worse_leads", { A(F_POLICY_NOTE, SEV_INFO, X, "same value twice", "lines 2 and 3",
				   "senders agree", "remove it"),
				 A(F_POLICY_NOTE, SEV_WARNING, X, "values differ", "lines 2 and 4",
				   "senders disagree", "keep one") },
	  1, SEV_WARNING, 2, "values differ", "lines 2 and 4; same value twice (lines 2 and 3)",
	  "senders disagree; senders agree", "keep one; remove it",
	  "values differ (lines 2 and 4; same value twice (lines 2 and 3)); senders disagree; "
	  "senders agree; keep one; remove it" },
	/* the same occurrence twice says it once */
	{ "merge_identical", { A(F_TLSRPT_INVALID, SEV_WARNING, X, "w", "e", "c", "f"),
			       A(F_TLSRPT_INVALID, SEV_WARNING, X, "w", "e", "c", "f") },
	  1, SEV_WARNING, 2, "w", "e", "c", "f", "w (e); c; f" },
	/* another what with the lead's evidence: just the what */
	{ "merge_shared_evidence", { A(F_STS_TXT_NOTE, SEV_INFO, X, "space before ';'", "TXT record", "a",
				       NULL),
				     A(F_STS_TXT_NOTE, SEV_INFO, X, "trailing space", "TXT record", "b",
				       NULL) },
	  1, SEV_INFO, 2, "space before ';'", "TXT record; trailing space", "a; b", "",
	  "space before ';' (TXT record; trailing space); a; b" },
	/* identity is (code, subject): another subject is another finding */
	{ "other_subject", { A(F_MX_CONNECT, SEV_WARNING, "mx1[192.0.2.1]", "failed", NULL, NULL, NULL),
			     A(F_MX_CONNECT, SEV_CRITICAL, "mx2[192.0.2.2]", "failed", NULL, NULL,
			       NULL) },
	  2, SEV_WARNING, 1, "failed", "", "", "", "failed" },
	/* ...and another code is too */
	{ "other_code", { A(F_MX_CONNECT, SEV_WARNING, "mx1", "a", NULL, NULL, NULL),
			  A(F_MX_TLS_VERSION, SEV_WARNING, "mx1", "b", NULL, NULL, NULL) },
	  2, SEV_WARNING, 1, "a", "", "", "", "a" },
	/* a NULL subject is "" */
	{ "null_subject", { A(F_DNS_ERROR, SEV_UNKNOWN, NULL, "w", NULL, NULL, NULL),
			    A(F_DNS_ERROR, SEV_UNKNOWN, "", "w", "e", NULL, NULL) },
	  1, SEV_UNKNOWN, 2, "w", "e", "", "", "w (e)" },
	/* UNKNOWN ranks above WARNING (our order) and below CRITICAL */
	{ "unknown_over_warning", { A(F_DNS_ERROR, SEV_WARNING, X, "w", NULL, NULL, NULL),
				    A(F_DNS_ERROR, SEV_UNKNOWN, X, "u", NULL, NULL, NULL) },
	  1, SEV_UNKNOWN, 2, "u", "w", "", "", "u (w)" },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	const struct finding *f;
	struct findings fs;

	findings_init(&fs);
	for (size_t i = 0; i < MAX_ADDS && (r->adds[i].what || r->adds[i].evidence); i++) {
		const struct add *a = &r->adds[i];
		struct finding_occurrence *o = findings_add(&fs, a->code, a->sev, a->subject);

		assert_non_null(o);
		if (a->what)
			finding_set_what(o, "%s", a->what);
		if (a->evidence)
			finding_set_evidence(o, "%s", a->evidence);
		if (a->consequence)
			finding_set_consequence(o, "%s", a->consequence);
		if (a->fix)
			finding_set_fix(o, "%s", a->fix);
	}
	assert_int_equal(fs.n, r->n_findings);
	f = &fs.v[0];
	assert_int_equal(f->sev, r->sev);
	assert_int_equal(f->n_occurrences, r->n_occurrences);
	assert_string_equal(f->what, r->what);
	assert_string_equal(f->evidence, r->evidence);
	assert_string_equal(f->consequence, r->consequence);
	assert_string_equal(f->fix, r->fix);
	assert_string_equal(f->message, r->message);
	findings_free(&fs);
	assert_int_equal(fs.n, 0);
	assert_null(fs.v);
}

/* A fresh finding has empty parts, never NULL, and no sender masks. */
static void test_empty_parts(void **state)
{
	struct findings fs;

	(void)state;
	findings_init(&fs);
	findings_add(&fs, F_MX_NOTE, SEV_INFO, "example.org");
	assert_int_equal(fs.n, 1);
	assert_string_equal(fs.v[0].subject, "example.org");
	assert_string_equal(fs.v[0].what, "");
	assert_string_equal(fs.v[0].evidence, "");
	assert_string_equal(fs.v[0].consequence, "");
	assert_string_equal(fs.v[0].fix, "");
	assert_string_equal(fs.v[0].message, "");
	assert_int_equal(fs.v[0].senders_accept, 0);
	assert_int_equal(fs.v[0].senders_reject, 0);
	findings_free(&fs);
}

/* Printf formats fill the parts; a setter called again replaces its part. */
static void test_formats(void **state)
{
	struct finding_occurrence *o;
	struct findings fs;

	(void)state;
	findings_init(&fs);
	o = findings_add(&fs, F_POLICY_MAX_AGE, SEV_WARNING, "u");
	finding_set_what(o, "line %u: max_age %llu is under one day", 4u, 3600ULL);
	finding_set_evidence(o, "%d s", 86400);
	finding_set_evidence(o, "%s", "86400 s; RFC 8461 3.2");
	finding_set_fix(o, "write %s", "\"max_age: 604800\"");
	assert_string_equal(fs.v[0].message, "line 4: max_age 3600 is under one day (86400 s; RFC "
			    "8461 3.2); write \"max_age: 604800\"");
	findings_free(&fs);
}

/* Many occurrences: FINDING_OCC_MAX are listed, the rest counted; every one is counted. */
static void test_bounded_evidence(void **state)
{
	struct findings fs;
	char want[512] = "";
	size_t o = 0;

	(void)state;
	findings_init(&fs);
	for (int i = 1; i <= 20; i++) {
		struct finding_occurrence *oc = findings_add(&fs, F_POLICY_INVALID, SEV_CRITICAL, "u");

		finding_set_what(oc, "an invalid line");
		finding_set_evidence(oc, "line %d", i);
		finding_set_fix(oc, "fix %d", i);
		if (i <= FINDING_OCC_MAX)
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%sline %d", i > 1 ? "; " : "",
					      i);
	}
	snprintf(want + o, sizeof(want) - o, "; and %d more", 20 - FINDING_OCC_MAX);
	assert_int_equal(fs.n, 1);
	assert_int_equal(fs.v[0].n_occurrences, 20);
	assert_string_equal(fs.v[0].evidence, want);
	/* the fixes of the listed occurrences only */
	assert_non_null(strstr(fs.v[0].fix, "fix 8"));
	assert_null(strstr(fs.v[0].fix, "fix 9"));
	findings_free(&fs);
}

/* Past the bound a worse occurrence still leads: it takes the last listed place. */
static void test_bounded_worse_leads(void **state)
{
	struct finding_occurrence *late;
	struct findings fs;

	(void)state;
	findings_init(&fs);
	for (int i = 1; i <= 10; i++)
		finding_set_what(findings_add(&fs, F_POLICY_NOTE, SEV_INFO, "u"), "note %d", i);
	late = findings_add(&fs, F_POLICY_NOTE, SEV_WARNING, "u");
	finding_set_what(late, "the warning");
	finding_set_consequence(late, "senders differ");
	assert_int_equal(fs.n, 1);
	assert_int_equal(fs.v[0].sev, SEV_WARNING);
	assert_int_equal(fs.v[0].n_occurrences, 11);
	assert_string_equal(fs.v[0].what, "the warning");
	assert_string_equal(fs.v[0].consequence, "senders differ");
	/* notes 1-7 listed, note 8 gave its place, 9 and 10 counted with it */
	assert_string_equal(fs.v[0].evidence, "note 1; note 2; note 3; note 4; note 5; note 6; "
			    "note 7; and 3 more");
	/* a CRITICAL past the bound does the same, and still a worse one leads */
	finding_set_what(findings_add(&fs, F_POLICY_NOTE, SEV_CRITICAL, "u"), "the critical");
	assert_int_equal(fs.v[0].sev, SEV_CRITICAL);
	assert_string_equal(fs.v[0].what, "the critical");
	assert_int_equal(fs.v[0].n_occurrences, 12);
	assert_string_equal(fs.v[0].evidence, "note 1; note 2; note 3; note 4; note 5; note 6; "
			    "note 7; and 4 more");
	findings_free(&fs);
}

/*
 * Handles stay valid while the list grows (realloc), is sorted, and merges; a handle of
 * an occurrence past the bound is safe to fill. Run under ASan (make check) to see it.
 */
static void test_handle_stability(void **state)
{
	struct finding_occurrence *first, *spill = NULL;
	struct findings fs;
	const struct finding *f;

	(void)state;
	findings_init(&fs);
	first = findings_add(&fs, F_MX_CHANGED, SEV_INFO, "keep.example");
	for (int i = 0; i < 200; i++) {
		char subj[32];

		snprintf(subj, sizeof(subj), "h%03d.example", i);
		finding_set_what(findings_add(&fs, F_MX_CONNECT, SEV_CRITICAL, subj), "x");
	}
	findings_sort(&fs);
	for (int i = 0; i < FINDING_OCC_MAX + 3; i++) {
		spill = findings_add(&fs, F_MX_CONNECT, SEV_CRITICAL, "h000.example");
		finding_set_what(spill, "x");
	}
	finding_set_what(spill, "past the bound");
	finding_set_senders(spill, 1, 4, 0, 0);
	finding_set_what(first, "set %s", "late");	/* after 200 adds, a sort and merges */
	finding_set_evidence(first, "still");
	f = findings_find(&fs, F_MX_CHANGED);
	assert_non_null(f);
	assert_string_equal(f->message, "set late (still)");
	assert_int_equal(fs.n, 201);
	for (size_t i = 0; i < fs.n; i++)
		if (strcmp(fs.v[i].subject, "h000.example") == 0) {
			assert_int_equal(fs.v[i].n_occurrences, FINDING_OCC_MAX + 4);
			assert_null(strstr(fs.v[i].evidence, "past the bound"));
			assert_int_equal(fs.v[i].senders_accept, 4);
		}
	findings_free(&fs);
}

/*
 * The sender masks of a merged finding: a column that rejects one difference rejects the
 * whole (the union), one that reads one otherwise and rejects none reads it otherwise, and
 * only a column that accepts every one accepts it; the rules are the union.
 */
static void test_senders(void **state)
{
	struct findings fs;

	(void)state;
	findings_init(&fs);
	/* columns 0..4: 0 accepts both, 1 accepts then rejects, 2 accepts then other,
	 * 3 other then rejects, 4 accepts then unknown */
	finding_set_senders(findings_add(&fs, F_STS_TXT_NOTE, SEV_INFO, "s"), 3, 0x17, 0, 0x8);
	finding_set_senders(findings_add(&fs, F_STS_TXT_NOTE, SEV_INFO, "s"), 5, 0x1, 0xa, 0x4);
	finding_set_senders(findings_add(&fs, F_STS_TXT_NOTE, SEV_INFO, "other"), 2, 0x10, 0, 0);
	/* no rule: nothing is attached */
	finding_set_senders(findings_add(&fs, F_STS_TXT_NOTE, SEV_INFO, "none"), 0, 0x1, 0, 0);
	assert_int_equal(fs.n, 3);
	assert_int_equal(fs.v[0].senders_accept, 0x1);
	assert_int_equal(fs.v[0].senders_reject, 0xa);
	assert_int_equal(fs.v[0].senders_other, 0x4);
	assert_true(fs.v[0].senders_rules == ((1ULL << 3) | (1ULL << 5)));
	assert_int_equal(fs.v[1].senders_accept, 0x10);
	assert_int_equal(fs.v[1].senders_reject, 0);
	assert_true(fs.v[1].senders_rules == 1ULL << 2);
	assert_true(fs.v[2].senders_rules == 0);
	assert_int_equal(fs.v[2].senders_accept, 0);
	findings_free(&fs);
}

/* The headline "what (evidence)" fits the buffer, cut with "..." on a UTF-8 boundary. */
static void test_headline(void **state)
{
	struct finding_occurrence *o;
	struct findings fs;
	char buf[64];

	(void)state;
	findings_init(&fs);
	o = findings_add(&fs, F_STS_TXT_INVALID, SEV_CRITICAL, "_mta-sts.example.org");
	finding_set_what(o, "id \"bad!\" contains '!'");
	finding_set_evidence(o, "TXT record \"v=STSv1; id=bad!\"");
	finding_set_consequence(o, "not in the headline");
	finding_headline(&fs.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "id \"bad!\" contains '!' (TXT record \"v=STSv1; id=bad!\")");
	finding_headline(&fs.v[0], buf, 16);
	assert_string_equal(buf, "id \"bad!\" co...");
	/* "caf\xc3\xa9": a cut that would split the e-acute stops before it */
	finding_set_what(o, "caf\xc3\xa9 caf\xc3\xa9");
	finding_set_evidence(o, "%s", "");
	finding_headline(&fs.v[0], buf, 9);
	assert_string_equal(buf, "caf\xc3\xa9...");
	finding_headline(&fs.v[0], buf, 8);
	assert_string_equal(buf, "caf...");
	finding_headline(&fs.v[0], buf, 3);
	assert_string_equal(buf, "");
	findings_free(&fs);
}

/* The status order is ours: CRITICAL > UNKNOWN > WARNING > OK, for severities alike. */
static void test_order(void **state)
{
	(void)state;
	assert_int_equal(status_worst(STATUS_WARNING, STATUS_UNKNOWN), STATUS_UNKNOWN);
	assert_int_equal(status_worst(STATUS_CRITICAL, STATUS_UNKNOWN), STATUS_CRITICAL);
	assert_int_equal(severity_worst(SEV_WARNING, SEV_UNKNOWN), SEV_UNKNOWN);
	assert_int_equal(severity_worst(SEV_CRITICAL, SEV_UNKNOWN), SEV_CRITICAL);
	assert_int_equal(severity_worst(SEV_INFO, SEV_WARNING), SEV_WARNING);
	for (int st = STATUS_OK; st <= STATUS_UNKNOWN; st++)
		assert_int_equal(severity_status(status_severity((enum status)st)), st);
	assert_int_equal(status_severity(STATUS_OK), SEV_INFO);
}

/* Sorting orders by severity, then code and subject, and keeps one finding per identity. */
static void test_sort(void **state)
{
	struct findings fs;

	(void)state;
	findings_init(&fs);
	finding_set_what(findings_add(&fs, F_MX_CHANGED, SEV_INFO, "b"), "1");
	finding_set_what(findings_add(&fs, F_MX_CONNECT, SEV_WARNING, "b"), "2");
	finding_set_what(findings_add(&fs, F_MX_CONNECT, SEV_WARNING, "a"), "3");
	finding_set_what(findings_add(&fs, F_DNS_ERROR, SEV_UNKNOWN, "a"), "4");
	finding_set_what(findings_add(&fs, F_MX_CONNECT, SEV_CRITICAL, "b"), "5");
	findings_sort(&fs);
	assert_int_equal(fs.n, 4);
	assert_string_equal(fs.v[0].what, "5");	/* mx.connect b, CRITICAL by its worst */
	assert_string_equal(fs.v[1].what, "4");
	assert_string_equal(fs.v[2].what, "3");
	assert_string_equal(fs.v[3].what, "1");
	assert_int_equal(findings_status(&fs), STATUS_CRITICAL);
	findings_free(&fs);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_LEN(rows) + 10];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		tests[n].name = rows[i].name;
		tests[n].test_func = run_row;
		tests[n].setup_func = NULL;
		tests[n].teardown_func = NULL;
		tests[n++].initial_state = (void *)&rows[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_empty_parts);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_formats);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bounded_evidence);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bounded_worse_leads);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_handle_stability);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_senders);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_headline);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_order);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_sort);
	return _cmocka_run_group_tests("findings", tests, n, NULL, NULL);
}
