/* Unit tests of the alert decision: every rule, with now as a parameter, over weeks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "alerts/alert.h"

#define T0 ((time_t)1800000000)
#define HOUR 3600
#define DAY 86400

/* A few findings as the agent would translate them. */
static const struct alert_finding EXPIRED = { "mx.cert.expired", "mx1.example.org[192.0.2.1]",
					      ALERT_CRITICAL, "mx:mx1.example.org", false };
static const struct alert_finding EXPIRED6 = { "mx.cert.expired", "mx1.example.org[2001:db8::1]",
					       ALERT_CRITICAL, "mx:mx1.example.org", false };
static const struct alert_finding EXPIRING = { "mx.cert.expiring", "mx1.example.org[192.0.2.1]",
					       ALERT_WARNING, "mx:mx1.example.org", false };
static const struct alert_finding EXPIRING_CRIT = { "mx.cert.expiring", "mx1.example.org[192.0.2.1]",
						    ALERT_CRITICAL, "mx:mx1.example.org", false };
static const struct alert_finding REFUSED = { "mx.connect", "mx2.example.org[192.0.2.2]",
					      ALERT_WARNING, "mx:mx2.example.org", true };
static const struct alert_finding NO_TLSRPT = { "tlsrpt.missing", "_smtp._tls.example.org",
						ALERT_WARNING, "tlsrpt", false };
static const struct alert_finding NOTE = { "sts.id.changed", "_mta-sts.example.org",
					   ALERT_OK, "txt", false };
static const struct alert_finding DNS_DOWN = { "dns.error", "example.org", ALERT_UNKNOWN, "dns",
					       true };

struct sim {
	struct alert_conf conf;
	struct alert_state st;
	struct alert_note note;
	struct alert_silence sil[4];
	size_t n_sil;
	char last_incident[ALERT_ID_LEN];
};

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	alert_conf_defaults(&s->conf);
	alert_state_init(&s->st);
}

static void sim_free(struct sim *s)
{
	alert_state_free(&s->st);
	alert_note_free(&s->note);
}

static enum alert_status status_of(const struct alert_finding *f, size_t n)
{
	enum alert_status st = ALERT_OK;

	for (size_t i = 0; i < n; i++)
		st = alert_status_worst(st, f[i].sev);
	return st;
}

/* One check with these findings at now; the kind of the note it gave. */
static enum alert_kind check(struct sim *s, time_t now, time_t fails_at, size_t n, ...)
{
	struct alert_finding f[8];
	struct alert_verdict v = { 0 };
	struct alert_state next;
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		f[i] = *va_arg(ap, const struct alert_finding *);
	va_end(ap);
	v.status = status_of(f, n);
	for (size_t i = 0; i < n; i++)
		v.could_not_tell |= f[i].sev == ALERT_UNKNOWN;
	v.fails_at = fails_at;
	v.n = n;
	v.v = f;
	alert_note_free(&s->note);
	assert_int_equal(alert_decide(&s->conf, "example.org", &s->st, &v, s->sil, s->n_sil, now,
				      &next, &s->note), 0);
	alert_state_free(&s->st);
	s->st = next;
	if (s->note.incident[0])
		strcpy(s->last_incident, s->note.incident);
	return s->note.kind;
}

/* A fact that does not flicker is told at once; seen again it is not told again. */
static void test_problem_at_once(void **state)
{
	struct sim s;
	char id[ALERT_ID_LEN];

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_PROBLEM);
	assert_int_equal(s.note.status, ALERT_CRITICAL);
	assert_int_equal(s.note.previous_status, ALERT_OK);
	assert_false(s.note.blind);
	strcpy(id, s.note.incident);
	assert_int_equal(strlen(id), 16);
	assert_int_equal(check(&s, T0 + HOUR, T0, 1, &EXPIRED), ALERT_NONE);
	/* the IPv6 address of the same host: the same cause, new findings: escalated */
	assert_int_equal(check(&s, T0 + 2 * HOUR, T0, 2, &EXPIRED, &EXPIRED6), ALERT_ESCALATED);
	assert_string_equal(s.note.incident, id);
	assert_int_equal(s.st.n, 1);
	sim_free(&s);
}

/* Ten findings of one cause are one incident; two causes are two. */
static void test_one_incident_per_cause(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, 0, 3, &EXPIRED, &EXPIRED6, &NO_TLSRPT), ALERT_PROBLEM);
	assert_int_equal(s.st.n, 2);
	assert_int_equal(s.note.n_events, 2);
	assert_string_not_equal(s.st.v[0].id, s.st.v[1].id);
	/* an INFO note makes no incident */
	assert_int_equal(check(&s, T0 + HOUR, 0, 4, &EXPIRED, &EXPIRED6, &NO_TLSRPT, &NOTE),
			 ALERT_NONE);
	assert_int_equal(s.st.n, 2);
	sim_free(&s);
}

/* A failure that can flicker is told only after `confirm` consecutive checks. */
static void test_transient_confirmed(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, 0, 1, &REFUSED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 300, 0, 1, &REFUSED), ALERT_PROBLEM);
	assert_int_equal(s.note.status, ALERT_WARNING);
	sim_free(&s);

	/* once, then gone: nobody hears of it */
	sim_init(&s);
	assert_int_equal(check(&s, T0, 0, 1, &REFUSED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 300, 0, 0), ALERT_NONE);
	assert_int_equal(s.st.n, 0);
	assert_int_equal(check(&s, T0 + 600, 0, 1, &REFUSED), ALERT_NONE);
	sim_free(&s);

	/* confirm = 3 */
	sim_init(&s);
	s.conf.confirm = 3;
	assert_int_equal(check(&s, T0, 0, 1, &REFUSED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 300, 0, 1, &REFUSED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 600, 0, 1, &REFUSED), ALERT_PROBLEM);
	sim_free(&s);
}

/* WARNING to CRITICAL escalates; a better but unfixed state is not a message. */
static void test_escalated(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0 + 10 * DAY, 1, &EXPIRING), ALERT_PROBLEM);
	assert_int_equal(check(&s, T0 + HOUR, T0 + 10 * DAY, 1, &EXPIRING_CRIT), ALERT_ESCALATED);
	assert_int_equal(s.note.previous_status, ALERT_WARNING);
	assert_int_equal(s.note.status, ALERT_CRITICAL);
	assert_int_equal(check(&s, T0 + 2 * HOUR, T0 + 10 * DAY, 1, &EXPIRING), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 3 * HOUR, T0 + 10 * DAY, 1, &EXPIRING_CRIT), ALERT_ESCALATED);
	/* a new cause while failing is a problem of its own */
	assert_int_equal(check(&s, T0 + 4 * HOUR, T0 + 10 * DAY, 2, &EXPIRING_CRIT, &NO_TLSRPT),
			 ALERT_PROBLEM);
	sim_free(&s);
}

/* Resolved names the incident that was fixed; a new problem later has a new id. */
static void test_resolved(void **state)
{
	struct sim s;
	char id[ALERT_ID_LEN];

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0, 2, &EXPIRED, &NO_TLSRPT), ALERT_PROBLEM);
	for (size_t i = 0; i < s.st.n; i++)
		if (strcmp(s.st.v[i].cause, "mx:mx1.example.org") == 0)
			strcpy(id, s.st.v[i].id);
	assert_int_equal(check(&s, T0 + HOUR, 0, 1, &NO_TLSRPT), ALERT_RESOLVED);
	assert_string_equal(s.note.incident, id);
	assert_int_equal(s.note.n_gone, 1);
	assert_string_equal(s.note.gone[0].cause, "mx:mx1.example.org");
	assert_int_equal(s.note.gone[0].n_keys, 1);
	assert_string_equal(s.note.gone[0].keys[0], "mx.cert.expired mx1.example.org[192.0.2.1]");
	assert_int_equal(s.note.status, ALERT_WARNING);
	assert_int_equal(s.note.previous_status, ALERT_CRITICAL);
	assert_int_equal(check(&s, T0 + 2 * HOUR, 0, 0), ALERT_RESOLVED);
	assert_int_equal(s.note.status, ALERT_OK);
	assert_int_equal(s.st.n, 0);
	assert_int_equal(check(&s, T0 + 3 * HOUR, T0, 1, &EXPIRED), ALERT_PROBLEM);
	assert_string_not_equal(s.note.incident, id);
	sim_free(&s);
}

/* "Could not tell" resolves nothing and opens nothing; it is told after unknown_after. */
static void test_unknown(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_PROBLEM);
	for (int h = 1; h < 6; h++)
		assert_int_equal(check(&s, T0 + h * HOUR, 0, 1, &DNS_DOWN), ALERT_NONE);
	assert_int_equal(s.st.n, 1);	/* the expired certificate is still open */
	assert_int_equal(check(&s, T0 + 7 * HOUR, 0, 1, &DNS_DOWN), ALERT_PROBLEM);
	assert_true(s.note.blind);
	assert_int_equal(s.note.status, ALERT_UNKNOWN);
	assert_int_equal(check(&s, T0 + 8 * HOUR, 0, 1, &DNS_DOWN), ALERT_NONE);
	/* it can tell again and the certificate was fixed meanwhile */
	assert_int_equal(check(&s, T0 + 9 * HOUR, 0, 0), ALERT_RESOLVED);
	assert_int_equal(s.note.n_gone, 1);
	sim_free(&s);

	/* a short blackout is never told */
	sim_init(&s);
	assert_int_equal(check(&s, T0, 0, 1, &DNS_DOWN), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 5 * HOUR, 0, 1, &DNS_DOWN), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 6 * HOUR - 1, 0, 0), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 13 * HOUR, 0, 1, &DNS_DOWN), ALERT_NONE);
	sim_free(&s);
}

/* A check with a definite CRITICAL and an UNKNOWN part opens but resolves nothing. */
static void test_partly_blind(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, 0, 1, &NO_TLSRPT), ALERT_PROBLEM);
	assert_int_equal(check(&s, T0 + HOUR, T0, 2, &EXPIRED, &DNS_DOWN), ALERT_PROBLEM);
	assert_int_equal(s.st.n, 2);	/* tlsrpt not seen, but the check could not tell */
	assert_int_equal(check(&s, T0 + 2 * HOUR, T0, 1, &EXPIRED), ALERT_RESOLVED);
	assert_int_equal(s.st.n, 1);
	sim_free(&s);
}

/* An inconclusive check (the monitor's own port 25 or resolver): nothing changes at all. */
static void test_inconclusive(void **state)
{
	struct sim s;
	struct alert_verdict v = { 0 };
	struct alert_state next;
	struct alert_finding f = REFUSED;

	(void)state;
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_PROBLEM);
	f.sev = ALERT_UNKNOWN;
	v.status = ALERT_UNKNOWN;
	v.could_not_tell = true;
	v.inconclusive = true;
	v.n = 1;
	v.v = &f;
	for (int h = 1; h < 48; h++) {
		alert_note_free(&s.note);
		alert_decide(&s.conf, "example.org", &s.st, &v, NULL, 0, T0 + h * HOUR, &next, &s.note);
		alert_state_free(&s.st);
		s.st = next;
		/* neither blind after unknown_after nor resolved: the monitor could not see */
		assert_true(s.note.kind == ALERT_NONE || s.note.kind == ALERT_REMINDER);
		assert_false(s.note.blind);
	}
	assert_int_equal(s.st.n, 1);
	assert_int_equal(s.st.unknown_since, 0);
	sim_free(&s);
}

/* Weeks of a certificate expiring: the exact sequence of messages at daily checks. */
static void test_weeks_remind(void **state)
{
	struct sim s;
	time_t fails = T0 + 20 * DAY + 1800;
	char seq[512] = "";

	(void)state;
	sim_init(&s);
	s.conf.repeat_interval = 0;	/* the remind marks alone first */
	for (int d = 0; d <= 21; d++) {
		enum alert_kind k = check(&s, T0 + d * DAY, d <= 20 ? fails : 0,
					  d <= 20 ? 1 : 0, &EXPIRING);
		char one[16];

		if (k != ALERT_NONE) {
			snprintf(one, sizeof(one), "%d:%c ", d, alert_kind_str(k)[0]);
			strcat(seq, one);
		}
	}
	/*
	 * told at day 0; the marks 14, 7, 3 and 1 days before day 20.02 are told at the first
	 * daily check after them (days 7, 14, 18, 20); the 0-day mark would come after day 20,
	 * but the certificate is renewed at day 21: resolved
	 */
	assert_string_equal(seq, "0:p 7:r 14:r 18:r 20:r 21:r ");
	sim_free(&s);

	/* with repeat_interval 24 h and hourly checks: one message per day, never two */
	sim_init(&s);
	{
		int per_day[12] = { 0 };

		for (int h = 0; h < 10 * 24; h++)
			if (check(&s, T0 + h * HOUR, T0 + 40 * DAY, 1, &EXPIRING) != ALERT_NONE)
				per_day[h / 24]++;
		for (int d = 0; d < 10; d++)
			assert_int_equal(per_day[d], 1);
	}
	sim_free(&s);
}

/* A problem found late does not send the reminders of marks already past. */
static void test_late_problem(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	s.conf.repeat_interval = 0;
	assert_int_equal(check(&s, T0, T0 + 2 * DAY + 60, 1, &EXPIRING_CRIT), ALERT_PROBLEM);
	assert_int_equal(check(&s, T0 + HOUR, T0 + 2 * DAY + 60, 1, &EXPIRING_CRIT), ALERT_NONE);
	assert_int_equal(check(&s, T0 + DAY + 120, T0 + 2 * DAY + 60, 1, &EXPIRING_CRIT),
			 ALERT_REMINDER);
	/* fails_at moves later: nothing new is due */
	assert_int_equal(check(&s, T0 + DAY + 130, T0 + 2 * DAY + 500, 1, &EXPIRING_CRIT),
			 ALERT_NONE);
	/* fails_at moves earlier, past the 0-day mark: it is told once */
	assert_int_equal(check(&s, T0 + DAY + 200, T0 + DAY + 150, 1, &EXPIRING_CRIT),
			 ALERT_REMINDER);
	assert_int_equal(check(&s, T0 + DAY + 400, T0 + DAY + 150, 1, &EXPIRING_CRIT), ALERT_NONE);
	sim_free(&s);
}

/* A flapping domain is told once as flapping, then quiet until it settles. */
static void test_flapping(void **state)
{
	struct sim s;
	int told = 0, flapping_at = -1, i;

	(void)state;
	sim_init(&s);
	for (i = 0; i < 40; i++) {
		enum alert_kind k = i % 2 ? check(&s, T0 + i * 300, T0, 0) :
					    check(&s, T0 + i * 300, T0, 1, &EXPIRED);

		if (k == ALERT_FLAPPING) {
			assert_int_equal(flapping_at, -1);
			flapping_at = i;
		} else if (k != ALERT_NONE && flapping_at >= 0) {
			fail_msg("check %d told %s while flapping", i, alert_kind_str(k));
		} else if (k != ALERT_NONE) {
			told++;
		}
	}
	assert_true(flapping_at >= 9 && flapping_at <= 12);
	assert_true(told <= flapping_at);
	assert_true(s.st.flapping);
	/* it settles CRITICAL: once the rate drops below 25%, the truth is told once */
	told = 0;
	for (; i < 80; i++) {
		enum alert_kind k = check(&s, T0 + i * 300, T0, 1, &EXPIRED);

		if (k != ALERT_NONE) {
			told++;
			assert_false(s.st.flapping);
		}
	}
	assert_false(s.st.flapping);
	assert_true(told <= 1);
	assert_int_equal(alert_state_told(&s.st), ALERT_CRITICAL);
	sim_free(&s);
}

/* A silence holds what would be told; its end releases it as the current truth. */
static void test_silence(void **state)
{
	struct sim s;

	(void)state;
	sim_init(&s);
	s.sil[0].code = "";
	s.sil[0].until = T0 + 2 * DAY;
	s.n_sil = 1;
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + DAY, T0, 1, &EXPIRED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + 2 * DAY, T0, 1, &EXPIRED), ALERT_PROBLEM);
	sim_free(&s);

	/* told before, fixed during the silence: the resolution comes when it ends */
	sim_init(&s);
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_PROBLEM);
	s.sil[0].code = "mx.cert.expired";
	s.sil[0].until = T0 + DAY;
	s.n_sil = 1;
	assert_int_equal(check(&s, T0 + HOUR, 0, 0), ALERT_NONE);
	assert_int_equal(s.st.n, 1);
	assert_false(s.st.v[0].open);
	assert_int_equal(check(&s, T0 + DAY + 1, 0, 0), ALERT_RESOLVED);
	assert_int_equal(s.st.n, 0);
	sim_free(&s);

	/* a problem that comes and goes within a silence is never told */
	sim_init(&s);
	s.sil[0].code = "";
	s.sil[0].until = T0 + DAY;
	s.n_sil = 1;
	assert_int_equal(check(&s, T0, T0, 1, &EXPIRED), ALERT_NONE);
	assert_int_equal(check(&s, T0 + HOUR, 0, 0), ALERT_NONE);
	assert_int_equal(check(&s, T0 + DAY + 1, 0, 0), ALERT_NONE);
	sim_free(&s);

	/* a silence of one code does not hold another cause */
	sim_init(&s);
	s.sil[0].code = "tlsrpt.missing";
	s.sil[0].until = T0 + DAY;
	s.n_sil = 1;
	assert_int_equal(check(&s, T0, T0, 2, &EXPIRED, &NO_TLSRPT), ALERT_PROBLEM);
	assert_int_equal(s.note.n_events, 1);
	assert_int_equal(check(&s, T0 + DAY, T0, 2, &EXPIRED, &NO_TLSRPT), ALERT_PROBLEM);
	sim_free(&s);
}

/* The state survives a copy (as it survives the database), ids stay. */
static void test_copy(void **state)
{
	struct sim s;
	struct alert_state copy;

	(void)state;
	sim_init(&s);
	check(&s, T0, T0, 2, &EXPIRED, &NO_TLSRPT);
	alert_state_copy(&copy, &s.st);
	assert_int_equal(copy.n, 2);
	assert_string_equal(copy.v[0].id, s.st.v[0].id);
	assert_string_equal(copy.v[0].keys[0], s.st.v[0].keys[0]);
	assert_ptr_not_equal(copy.v[0].keys, s.st.v[0].keys);
	alert_state_free(&copy);
	sim_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_at_once),
		cmocka_unit_test(test_one_incident_per_cause),
		cmocka_unit_test(test_transient_confirmed),
		cmocka_unit_test(test_escalated),
		cmocka_unit_test(test_resolved),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_partly_blind),
		cmocka_unit_test(test_inconclusive),
		cmocka_unit_test(test_weeks_remind),
		cmocka_unit_test(test_late_problem),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_silence),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
