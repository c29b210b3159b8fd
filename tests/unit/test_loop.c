/* Unit tests of the event loop: timers in order, cancellation, fd readiness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <unistd.h>

#include "lib/loop.h"


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
	struct loop *lp = loop_new();
	struct rec r = { { 0 }, 0 };
	struct tick t[5];
	struct loop_timer *cancel;
	int spins = 0;

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
	while (loop_pending(lp) && spins++ < 100)
		assert_int_equal(loop_run_once(lp, 1000), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 1);
	assert_int_equal(r.order[2], 2);
	assert_int_equal(r.order[3], 3);
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
	struct loop *lp = loop_new();
	struct io_state s = { lp, -1, 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_io(lp, p[0], LOOP_READ, on_read, &s), 0);
	assert_int_equal(loop_pending(lp), 1);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(lp, 1000), 0);
	assert_int_equal(s.reads, 1);
	assert_int_equal(loop_pending(lp), 0);
	close(p[0]);
	close(p[1]);
	loop_free(lp);
}

/* Many timers, cancelled out of order: the heap stays consistent. */
static void test_heap(void **state)
{
	struct loop *lp = loop_new();
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
