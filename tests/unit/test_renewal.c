/* Unit tests of the renewal habit: regular renewals, irregular ones, late repairs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "checks/renewal.h"

#define T0 ((time_t)1800000000)
#define DAY 86400

/* 90-day certificates renewed at about 30 days left, as an ACME client does. */
static size_t acme_history(struct renewal_cert *c, size_t n, int left_days)
{
	time_t nb = T0;

	for (size_t i = 0; i < n; i++) {
		c[i].not_before = nb;
		c[i].not_after = nb + 90 * DAY;
		c[i].first_seen = nb + 3600;	/* seen at the next hourly check */
		nb = c[i].not_after - left_days * DAY;
	}
	return n;
}

static void test_regular(void **state)
{
	struct renewal_cert c[6];
	struct renewal_habit h;

	(void)state;
	renewal_habit_of(c, acme_history(c, 4, 30), &h);
	assert_true(h.known);
	assert_int_equal(h.renewals, 3);
	assert_true(h.left_days > 29.9 && h.left_days < 30.1);
	assert_int_equal(h.due, c[3].not_after - 30 * DAY);
	/* overdue a few days after due (6 days of slack for a 30-day habit) */
	assert_true(h.overdue > h.due && h.overdue <= h.due + 7 * DAY);
	/* a short-lived habit: 10 days left */
	renewal_habit_of(c, acme_history(c, 5, 10), &h);
	assert_true(h.known);
	assert_true(h.left_days > 9.9 && h.left_days < 10.1);
}

static void test_not_enough(void **state)
{
	struct renewal_cert c[4];
	struct renewal_habit h;

	(void)state;
	renewal_habit_of(c, acme_history(c, 1, 30), &h);
	assert_false(h.known);
	renewal_habit_of(c, acme_history(c, 2, 30), &h);
	assert_false(h.known);	/* one renewal is no habit */
	assert_int_equal(h.renewals, 1);
	renewal_habit_of(c, 0, &h);
	assert_false(h.known);
}

static void test_irregular(void **state)
{
	struct renewal_cert c[4];
	struct renewal_habit h;

	(void)state;
	acme_history(c, 4, 30);
	/* the last renewal came at 5 days left: renewed at no regular time */
	c[3].not_before = c[2].not_after - 5 * DAY;
	c[3].not_after = c[3].not_before + 90 * DAY;
	c[3].first_seen = c[3].not_before + 3600;
	renewal_habit_of(c, 4, &h);
	assert_false(h.known);
}

static void test_late_repair(void **state)
{
	struct renewal_cert c[4];
	struct renewal_habit h;

	(void)state;
	acme_history(c, 3, 30);
	/* expired, then replaced: not a renewal */
	c[3].not_before = c[2].not_after + 2 * DAY;
	c[3].not_after = c[3].not_before + 90 * DAY;
	c[3].first_seen = c[3].not_before + 3600;
	renewal_habit_of(c, 4, &h);
	assert_int_equal(h.renewals, 2);
	assert_true(h.known);
	/* a backdated or bogus notBefore: the first sighting stands in */
	acme_history(c, 4, 30);
	c[3].not_before = T0 - 1000 * DAY;
	renewal_habit_of(c, 4, &h);
	assert_true(h.known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_not_enough),
		cmocka_unit_test(test_irregular),
		cmocka_unit_test(test_late_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
