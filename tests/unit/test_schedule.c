/* Unit tests of the schedule: spread, slots, catch-up after a stop, retries, reloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "agent/schedule.h"

#define T0 ((time_t)1800000000)

/* 10,000 domains hourly: never a crowd in one second, about as many in every minute. */
static void test_spread(void **state)
{
	static unsigned per_sec[3600], per_min[60];
	char name[32];
	unsigned max_sec = 0, min_min = 100000, max_min = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		unsigned p;

		snprintf(name, sizeof(name), "d%05d.example", i);
		p = schedule_phase(name, 3600);
		assert_true(p < 3600);
		assert_int_equal(schedule_phase(name, 3600), p);	/* stable */
		per_sec[p]++;
		per_min[p / 60]++;
	}
	for (int s = 0; s < 3600; s++)
		max_sec = per_sec[s] > max_sec ? per_sec[s] : max_sec;
	for (int m = 0; m < 60; m++) {
		min_min = per_min[m] < min_min ? per_min[m] : min_min;
		max_min = per_min[m] > max_min ? per_min[m] : max_min;
	}
	/* 2.8 per second on average */
	assert_true(max_sec <= 14);
	/* 167 per minute on average */
	assert_true(min_min >= 110 && max_min <= 230);
	/* the phase does not care for case */
	assert_int_equal(schedule_phase("Example.ORG", 600), schedule_phase("example.org", 600));
}

static void test_slots(void **state)
{
	(void)state;
	for (time_t t = T0; t < T0 + 7200; t += 97) {
		time_t n = schedule_next_slot("example.org", 600, t);

		assert_true(n > t);
		assert_true(n <= t + 600);
		assert_int_equal(n % 600, schedule_phase("example.org", 600));
	}
	/* exactly on a slot: the next one */
	{
		time_t s = schedule_next_slot("example.org", 600, T0);

		assert_int_equal(schedule_next_slot("example.org", 600, s), s + 600);
	}
}

/* A restart resumes: a due time ahead stays; a backlog is spread; new ones come soon. */
static void test_first_due(void **state)
{
	struct schedule_opts o;
	struct schedule_entry kept = { 0 };
	char name[32];
	unsigned buckets[10] = { 0 };

	(void)state;
	schedule_opts_defaults(&o);
	kept.next_due = T0 + 100;
	assert_int_equal(schedule_first_due(&o, "a.example", 3600, &kept, T0), T0 + 100);
	/* the interval became shorter than the wait: the next slot of the new interval */
	kept.next_due = T0 + 3000;
	assert_true(schedule_first_due(&o, "a.example", 600, &kept, T0) <= T0 + 600);
	/* a day's stop: 1,000 overdue domains spread over the 10-minute catch-up window */
	for (int i = 0; i < 1000; i++) {
		time_t d;

		snprintf(name, sizeof(name), "late%04d.example", i);
		kept.next_due = T0 - 86400;
		d = schedule_first_due(&o, name, 3600, &kept, T0);
		assert_true(d >= T0 && d < T0 + 600);
		buckets[(d - T0) / 60]++;
	}
	for (int b = 0; b < 10; b++)
		assert_true(buckets[b] >= 60 && buckets[b] <= 140);
	/* never checked: within the minute */
	for (int i = 0; i < 100; i++) {
		time_t d;

		snprintf(name, sizeof(name), "new%03d.example", i);
		d = schedule_first_due(&o, name, 3600, NULL, T0);
		assert_true(d >= T0 && d < T0 + 60);
	}
}

/*
 * 2,000 domains starting at now (kept: their next check before a stop, NULL: never checked)
 * at interval iv: each first check is in the first interval, on the domain's phase, the
 * following ones an interval apart, so the first interval holds one check per domain; and
 * the first checks are spread, each fifth of the interval with about its share.
 */
static void first_interval(const struct schedule_opts *o, unsigned iv,
			   const struct schedule_entry *kept, time_t now)
{
	unsigned per_part[5] = { 0 }, in_first = 0;
	char name[32];

	for (int i = 0; i < 2000; i++) {
		struct schedule_entry e = { 0 };
		time_t t;

		snprintf(name, sizeof(name), "f%04d.example", i);
		t = schedule_first_due(o, name, iv, kept, now);
		assert_true(t >= now && t < now + (time_t)iv);
		assert_int_equal(t % iv, schedule_phase(name, iv));
		per_part[(t - now) * 5 / iv]++;
		for (int c = 0; c < 3; c++) {
			in_first += t < now + (time_t)iv;
			schedule_after_check(o, name, iv, false, t, &e);
			assert_int_equal(e.next_due, t + (time_t)iv);
			t = e.next_due;
		}
	}
	assert_int_equal(in_first, 2000);
	for (int p = 0; p < 5; p++)
		assert_true(per_part[p] >= 300 && per_part[p] <= 500);
}

/*
 * A window as long as the interval (new domains at an interval of a minute or less, a
 * backlog at ten minutes or less): no second check less than an interval after the first.
 */
static void test_first_interval(void **state)
{
	static const unsigned ivs[] = { 5, 30, 60, 300, 600 };
	struct schedule_opts o;
	struct schedule_entry late = { T0 - 86400, 0 };

	(void)state;
	schedule_opts_defaults(&o);
	for (size_t k = 0; k < sizeof(ivs) / sizeof(ivs[0]); k++) {
		/* now on a multiple of the interval, and off it */
		for (time_t now = T0; now < T0 + 3 * 17; now += 17) {
			first_interval(&o, ivs[k], &late, now);
			if (ivs[k] <= o.new_window)
				first_interval(&o, ivs[k], NULL, now);
		}
	}
}

/* Turned bad: re-checked after retry_interval, confirm times, then the normal interval. */
static void test_retries(void **state)
{
	struct schedule_opts o;
	struct schedule_entry e = { 0 };
	time_t t = T0;

	(void)state;
	schedule_opts_defaults(&o);
	assert_true(schedule_after_check(&o, "a.example", 3600, true, t, &e));
	assert_int_equal(e.next_due, t + 300);
	assert_int_equal(e.retries, 1);
	t = e.next_due;
	assert_true(schedule_after_check(&o, "a.example", 3600, true, t, &e));
	assert_int_equal(e.next_due, t + 300);
	t = e.next_due;
	/* still unsettled after confirm re-checks: back to the interval, no more quick ones */
	assert_false(schedule_after_check(&o, "a.example", 3600, true, t, &e));
	assert_int_equal(e.next_due, schedule_next_slot("a.example", 3600, t));
	assert_int_equal(e.retries, 2);
	t = e.next_due;
	assert_false(schedule_after_check(&o, "a.example", 3600, true, t, &e));
	/* settled: the counter starts over, a new problem gets its quick re-checks */
	t = e.next_due;
	assert_false(schedule_after_check(&o, "a.example", 3600, false, t, &e));
	assert_int_equal(e.retries, 0);
	assert_true(schedule_after_check(&o, "a.example", 3600, true, e.next_due, &e));
	/* an interval shorter than the retry interval: no quick re-check */
	e.retries = 0;
	assert_false(schedule_after_check(&o, "a.example", 120, true, T0, &e));
	assert_true(e.next_due <= T0 + 120);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_first_due),
		cmocka_unit_test(test_first_interval),
		cmocka_unit_test(test_retries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
