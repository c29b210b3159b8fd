/* Unit tests of the DNS window: slow start, halving on loss, growth only when limited. */
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

/* Every question out comes back answered at the first try, with more waiting. */
static void answer_all(struct dns_pace *p, uint64_t now)
{
	while (p->outstanding)
		dns_pace_done(p, PACE_ANSWER, 10, now, true);
}

static void test_slow_start_doubles(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 8, 4, 100);
	assert_int_equal(fill(&p), 8);
	assert_false(dns_pace_may_send(&p));
	answer_all(&p, 10);
	assert_int_equal(p.window, 16);	/* one round of answers doubled it */
	assert_int_equal(p.srtt_ms, 10);
	assert_int_equal(fill(&p), 16);
	answer_all(&p, 20);
	assert_int_equal(p.window, 32);
	for (int r = 0; r < 10; r++) {
		fill(&p);
		answer_all(&p, 30);
	}
	assert_int_equal(p.window, 100);	/* capped at max */
	assert_int_equal(p.highest, 100);
}

static void test_grows_only_when_limited(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 64, 4, 1000);
	/* a sweep that never has more than 10 questions out: the window stays */
	for (int i = 0; i < 1000; i++) {
		dns_pace_sent(&p);
		dns_pace_done(&p, PACE_ANSWER, 5, (uint64_t)i, false);
	}
	assert_int_equal(p.window, 64);
	assert_int_equal(p.answered, 1000);
}

static void test_loss_halves_once_per_hold(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 64, 4, 1000);
	fill(&p);
	dns_pace_done(&p, PACE_ANSWER, 50, 1000, true);	/* srtt 50 ms: hold 200 ms */
	dns_pace_done(&p, PACE_LATE_ANSWER, 5050, 1000, true);
	assert_int_equal(p.window, 32);
	assert_int_equal(p.ssthresh, 32);
	/* the same burst, within the hold: no second decrease */
	dns_pace_done(&p, PACE_LATE_ANSWER, 5050, 1100, true);
	dns_pace_done(&p, PACE_LATE_ANSWER, 5050, 1199, true);
	assert_int_equal(p.window, 32);
	assert_int_equal(p.decreases, 1);
	assert_int_equal(p.lost, 3);
	/* more is out than the window holds: nothing goes until answers come back */
	assert_false(dns_pace_may_send(&p));
	/* after the hold, a loss halves again */
	dns_pace_done(&p, PACE_LATE_ANSWER, 5050, 1200, true);
	assert_int_equal(p.window, 16);
	assert_int_equal(p.decreases, 2);
	assert_int_equal(p.lowest, 16);
}

static void test_unanswered_says_nothing_of_load(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 64, 4, 1000);
	fill(&p);
	for (int i = 0; i < 20; i++)
		dns_pace_done(&p, PACE_NO_ANSWER, 15000, 20000 + (uint64_t)i, true);
	assert_int_equal(p.window, 64);
	assert_int_equal(p.unanswered, 20);
	assert_false(dns_pace_lossy_since(&p, 0));	/* a dead name: no reason to ask again */
	dns_pace_done(&p, PACE_LATE_ANSWER, 5000, 30000, true);
	assert_true(dns_pace_lossy_since(&p, 15000));
	assert_false(dns_pace_lossy_since(&p, 30001));
}

static void test_congestion_avoidance_is_linear(void **state)
{
	struct dns_pace p;

	(void)state;
	dns_pace_init(&p, 40, 4, 1000);
	fill(&p);
	dns_pace_done(&p, PACE_LATE_ANSWER, 5000, 1, true);	/* ssthresh 20, window 20 */
	assert_int_equal(p.ssthresh, 20);
	answer_all(&p, 100);
	/* 39 answers above ssthresh: one window's worth (20) grew it by one */
	assert_int_equal(p.window, 21);
	for (int i = 0; i < 21; i++) {
		fill(&p);
		dns_pace_done(&p, PACE_ANSWER, 10, 200, true);
	}
	assert_int_equal(p.window, 22);
}

static void test_floor_and_bounds(void **state)
{
	struct dns_pace p;
	uint64_t now = 1;

	(void)state;
	dns_pace_init(&p, 2, 16, 8);	/* max below min: min wins, initial raised */
	assert_int_equal(p.min, 16);
	assert_int_equal(p.max, 16);
	assert_int_equal(p.window, 16);
	dns_pace_init(&p, 256, 16, 4096);
	for (int i = 0; i < 50; i++) {
		dns_pace_sent(&p);
		dns_pace_done(&p, PACE_LATE_ANSWER, 5000, now, true);	/* a very lossy path */
		now += 1000;
	}
	assert_int_equal(p.window, 16);	/* a sweep still moves */
	assert_true(dns_pace_may_send(&p));
	/* an answer with nothing out does not wrap the count */
	dns_pace_done(&p, PACE_ANSWER, 1, now, false);
	assert_int_equal(p.outstanding, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_start_doubles),
		cmocka_unit_test(test_grows_only_when_limited),
		cmocka_unit_test(test_loss_halves_once_per_hold),
		cmocka_unit_test(test_unanswered_says_nothing_of_load),
		cmocka_unit_test(test_congestion_avoidance_is_linear),
		cmocka_unit_test(test_floor_and_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
