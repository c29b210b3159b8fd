/* Unit tests of the DNS window: slow start, halving on loss once per period, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "checks/dns_pace.h"

/* Send while the window has room; returns how many went out. */
static unsigned fill(struct dns_pace *p)
{
	unsigned n = 0;

	while (dns_pace_may_send(p)) {
		dns_pace_sent(p);
		n++;
	}
	return n;
}

static void test_slow_start_doubles(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 8, 4, 100);
	assert_int_equal(fill(&p), 8);
	assert_false(dns_pace_may_send(&p));
	for (int i = 0; i < 8; i++)
		dns_pace_done(&p, 0, 10, 5000);
	assert_int_equal(p.window, 16);	/* one round of answers doubled it */
	assert_int_equal(fill(&p), 16);
	for (int i = 0; i < 16; i++)
		dns_pace_done(&p, 0, 20, 5000);
	assert_int_equal(p.window, 32);
	for (int r = 0; r < 10; r++) {
		fill(&p);
		while (p.outstanding)
			dns_pace_done(&p, 0, 30, 5000);
	}
	assert_int_equal(p.window, 100);	/* capped at max */
	assert_int_equal(p.highest, 100);
}

static void test_loss_halves_once_per_period(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 64, 4, 1000);
	fill(&p);
	/* a burst of losses seen over one period is one decrease */
	dns_pace_done(&p, 1, 1000, 5000);
	assert_int_equal(p.window, 32);
	dns_pace_done(&p, 2, 2000, 5000);
	dns_pace_done(&p, 1, 5999, 5000);
	assert_int_equal(p.window, 32);
	assert_int_equal(p.decreases, 1);
	assert_int_equal(p.retried, 3);
	/* the window is below what is out: nothing more goes until answers come back */
	assert_false(dns_pace_may_send(&p));
	/* a loss after the period halves again */
	dns_pace_done(&p, 1, 6000, 5000);
	assert_int_equal(p.window, 16);
	assert_int_equal(p.decreases, 2);
	assert_int_equal(p.lowest, 16);
}

static void test_congestion_avoidance_is_linear(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 40, 4, 1000);
	fill(&p);
	dns_pace_done(&p, 1, 0, 5000);	/* ssthresh 20, window 20 */
	assert_int_equal(p.ssthresh, 20);
	while (p.outstanding)
		dns_pace_done(&p, 0, 100, 5000);
	/* 39 answers above ssthresh: one window's worth (20) grew it by one */
	assert_int_equal(p.window, 21);
	for (int i = 0; i < 21; i++) {
		dns_pace_sent(&p);
		dns_pace_done(&p, 0, 200, 5000);
	}
	assert_int_equal(p.window, 22);
}

static void test_floor_and_bounds(void **state)
{
	struct dns_pace p;
	uint64_t now = 0;

	(void)state;
	dns_pace_init(&p, 2, 16, 8);	/* max below min: min wins, initial raised */
	assert_int_equal(p.min, 16);
	assert_int_equal(p.max, 16);
	assert_int_equal(p.window, 16);
	dns_pace_init(&p, 256, 16, 4096);
	for (int i = 0; i < 50; i++) {
		dns_pace_sent(&p);
		dns_pace_done(&p, 3, now, 5000);	/* a resolver that answers nothing */
		now += 5000;
	}
	assert_int_equal(p.window, 16);	/* a sweep still moves */
	assert_true(dns_pace_may_send(&p));
	/* an answer with nothing out does not wrap the count */
	dns_pace_done(&p, 0, now, 5000);
	assert_int_equal(p.outstanding, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_start_doubles),
		cmocka_unit_test(test_loss_halves_once_per_period),
		cmocka_unit_test(test_congestion_avoidance_is_linear),
		cmocka_unit_test(test_floor_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
