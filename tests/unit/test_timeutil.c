/* Unit tests of the time helpers: the one rule for "N days" shown anywhere, at its edges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "lib/defs.h"
#include "lib/timeutil.h"

#define T0 ((time_t)1800000000)	/* 2027-01-15T08:00:00Z */
#define MIN 60
#define HOUR 3600
#define DAY 86400

struct row {
	long offset;		/* t - now, seconds */
	long days;		/* days_until */
	const char *span;	/* time_span_str */
	const char *distance;	/* time_distance_str */
};

/* Whole units cut toward zero, the same on both sides of now. */
static const struct row rows[] = {
	{ 0, 0, "0 seconds", "now" },
	{ 1, 0, "1 second", "in 1 second" },
	{ -1, 0, "1 second", "1 second ago" },
	{ 2 * MIN - 1, 0, "119 seconds", "in 119 seconds" },
	{ 2 * MIN, 0, "2 minutes", "in 2 minutes" },
	{ -2 * MIN, 0, "2 minutes", "2 minutes ago" },
	{ 2 * HOUR - 1, 0, "119 minutes", "in 119 minutes" },
	{ 2 * HOUR, 0, "2 hours", "in 2 hours" },
	{ -(2 * HOUR - 1), 0, "119 minutes", "119 minutes ago" },
	{ DAY - 1, 0, "23 hours", "in 23 hours" },
	{ -(DAY - 1), 0, "23 hours", "23 hours ago" },
	{ DAY, 1, "24 hours", "in 24 hours" },
	{ -DAY, -1, "24 hours", "24 hours ago" },
	{ 2 * DAY - 1, 1, "47 hours", "in 47 hours" },
	{ -(2 * DAY - 1), -1, "47 hours", "47 hours ago" },
	{ 2 * DAY, 2, "2 days", "in 2 days" },
	{ -2 * DAY, -2, "2 days", "2 days ago" },
	/* 2.9 days: 2 on both sides (days_until used to say -3 in the past, judge.c 3) */
	{ 3 * DAY - 1, 2, "2 days", "in 2 days" },
	{ -(3 * DAY - 1), -2, "2 days", "2 days ago" },
	{ 3 * DAY - 1 - DAY / 2, 2, "2 days", "in 2 days" },
	{ -(3 * DAY - 1 - DAY / 2), -2, "2 days", "2 days ago" },
	{ 3 * DAY, 3, "3 days", "in 3 days" },
	{ -3 * DAY, -3, "3 days", "3 days ago" },
	{ 400L * DAY + 5, 400, "400 days", "in 400 days" },
	{ -400L * DAY - 5, -400, "400 days", "400 days ago" },
};

static void test_rows(void **state)
{
	char span[48], dist[48];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		time_t t = T0 + r->offset;

		if (days_until(t, T0) != r->days)
			fail_msg("offset %ld: days_until %ld, want %ld", r->offset, days_until(t, T0),
				 r->days);
		assert_string_equal(time_span_str(t, T0, span, sizeof(span)), r->span);
		assert_string_equal(time_distance_str(t, T0, dist, sizeof(dist)), r->distance);
	}
}

/* A short buffer is cut, never overrun. */
static void test_short_buffer(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	time_distance_str(T0 + 400L * DAY, T0, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
