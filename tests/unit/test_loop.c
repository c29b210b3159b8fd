/* Unit tests of the event loop: timers in order on an injected clock, cancellation, fds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "lib/loop.h"

/* A clock the test moves by hand: no test here sleeps or waits for real time. */
struct fake_clock {
	uint64_t ms;
	time_t wall;
};

static uint64_t fake_mono(void *arg)
{
	return ((struct fake_clock *)arg)->ms;
}

static time_t fake_wall(void *arg)
{
	return ((struct fake_clock *)arg)->wall;
}

static struct loop *fake_loop(struct fake_clock *fc)
{
	const struct loop_clock c = { fake_mono, fake_wall, fc };

	return loop_new(&c);
}

struct rec {
	int order[16];
	int n;
};

struct tick {
	struct rec *r;
	int id;
};

static void on_tick(void *arg)
{
	struct tick *t = arg;

	t->r->order[t->r->n++] = t->id;
}

static void test_timer_order(void **state)
{
	struct fake_clock fc = { 1000, 1700000000 };
	struct loop *lp = fake_loop(&fc);
	struct rec r = { { 0 }, 0 };
	struct tick t[5];
	struct loop_timer *cancel;

	(void)state;
	assert_non_null(lp);
	for (int i = 0; i < 5; i++) {
		t[i].r = &r;
		t[i].id = i;
	}
	loop_timer_add(lp, 30, on_tick, &t[3]);
	loop_timer_add(lp, 10, on_tick, &t[1]);
	cancel = loop_timer_add(lp, 20, on_tick, &t[4]);
	loop_timer_add(lp, 10, on_tick, &t[2]);	/* same deadline: in order of creation */
	loop_timer_add(lp, 0, on_tick, &t[0]);
	loop_timer_cancel(lp, cancel);
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 1);	/* only the zero-delay timer is due */
	assert_int_equal(r.order[0], 0);
	fc.ms += 9;
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 1);	/* 1 ms early: nothing */
	assert_int_equal(loop_now(lp), 1009);
	fc.ms += 1;
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.order[1], 1);
	assert_int_equal(r.order[2], 2);
	fc.ms += 100;	/* late rounds still fire what is overdue */
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.order[3], 3);
	assert_int_equal(loop_pending(lp), 0);
	assert_int_equal(loop_wall(lp), 1700000000);
	fc.wall += 5;
	assert_int_equal(loop_wall(lp), 1700000005);
	loop_free(lp);
}

struct chain {
	struct loop *lp;
	int fired;
};

static void on_chain(void *arg)
{
	struct chain *c = arg;

	c->fired++;
	loop_timer_add(c->lp, 0, on_chain, c);
}

/* A timer that re-adds itself at zero delay fires once per round, never in a tight loop. */
static void test_zero_delay_next_round(void **state)
{
	struct fake_clock fc = { 5, 0 };
	struct loop *lp = fake_loop(&fc);
	struct chain c = { lp, 0 };

	(void)state;
	loop_timer_add(lp, 0, on_chain, &c);
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(c.fired, 1);
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(c.fired, 2);
	assert_int_equal(loop_pending(lp), 1);
	loop_free(lp);	/* frees the pending timer */
}

/* Timers are measured on the loop's clock from the moment they are added. */
static void test_timer_from_clock(void **state)
{
	struct fake_clock fc = { 0, 0 };
	struct loop *lp = fake_loop(&fc);
	struct rec r = { { 0 }, 0 };
	struct tick t = { &r, 7 };

	(void)state;
	assert_int_equal(loop_run_once(lp, 0), 0);
	fc.ms = 500;	/* time passes between rounds; the timer counts from here */
	loop_timer_add(lp, 100, on_tick, &t);
	fc.ms = 599;
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 0);
	fc.ms = 600;
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(r.n, 1);
	loop_free(lp);
}

struct io_state {
	struct loop *lp;
	int fd;
	int reads;
};

static void on_read(void *arg, int fd, unsigned events)
{
	struct io_state *s = arg;
	char c;

	assert_true(events & LOOP_READ);
	assert_int_equal(read(fd, &c, 1), 1);
	s->reads++;
	loop_io(s->lp, fd, 0, NULL, NULL);
}

static void test_io(void **state)
{
	struct fake_clock fc = { 0, 0 };
	struct loop *lp = fake_loop(&fc);
	struct io_state s = { lp, -1, 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_io(lp, p[0], LOOP_READ, on_read, &s), 0);
	assert_int_equal(loop_pending(lp), 1);
	assert_int_equal(write(p[1], "x", 1), 1);	/* ready before the round: no waiting */
	assert_int_equal(loop_run_once(lp, 0), 0);
	assert_int_equal(s.reads, 1);
	assert_int_equal(loop_pending(lp), 0);
	close(p[0]);
	close(p[1]);
	loop_free(lp);
}

/* Many timers, cancelled out of order: the heap stays consistent. */
static void test_heap(void **state)
{
	struct fake_clock fc = { 0, 0 };
	struct loop *lp = fake_loop(&fc);
	struct loop_timer *ts[200];
	struct rec r = { { 0 }, 0 };
	struct tick t = { &r, 1 };

	(void)state;
	for (int i = 0; i < 200; i++)
		ts[i] = loop_timer_add(lp, (uint64_t)(100000 + (i * 7919) % 1000), on_tick, &t);
	for (int i = 0; i < 200; i += 3)
		loop_timer_cancel(lp, ts[i]);
	for (int i = 1; i < 200; i += 3)
		loop_timer_cancel(lp, ts[i]);
	assert_int_equal(loop_pending(lp), 200 - 67 - 67);
	for (int i = 2; i < 200; i += 3)
		loop_timer_cancel(lp, ts[i]);
	assert_int_equal(loop_pending(lp), 0);
	loop_free(lp);
}

/* Without a clock of its own the loop runs on the real clocks. */
static void test_real_clock(void **state)
{
	struct loop *lp = loop_new(NULL);
	time_t before = time(NULL);

	(void)state;
	assert_non_null(lp);
	assert_true(loop_wall(lp) >= before);
	assert_true(loop_now(lp) > 0);
	loop_free(lp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_zero_delay_next_round),
		cmocka_unit_test(test_timer_from_clock),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_heap),
		cmocka_unit_test(test_real_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
