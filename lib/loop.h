/* loop: the one event loop: file descriptors on epoll, timers on an injectable clock. */
#ifndef STSWATCH_LOOP_H
#define STSWATCH_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct loop;
struct loop_timer;

#define LOOP_READ 1u
#define LOOP_WRITE 2u
#define LOOP_ERROR 4u	/* hang-up or error; reported with READ so reads see it */

typedef void (*loop_io_fn)(void *arg, int fd, unsigned events);
typedef void (*loop_timer_fn)(void *arg);

/*
 * The loop's clock: monotonic milliseconds for timers and deadlines, wall time for what
 * is shown or stored. Tests hand in their own to move time without sleeping.
 */
struct loop_clock {
	uint64_t (*mono_ms)(void *arg);
	time_t (*wall)(void *arg);
	void *arg;
};

/* Create a loop on clock (NULL: CLOCK_MONOTONIC and time()); NULL with errno on failure. */
struct loop *loop_new(const struct loop_clock *clock);
/* Free the loop; every fd must have been removed and timers cancelled or fired. */
void loop_free(struct loop *lp);
/* Watch fd for events (LOOP_READ|LOOP_WRITE); 0 events stops watching. 0 or -1. */
int loop_io(struct loop *lp, int fd, unsigned events, loop_io_fn fn, void *arg);
/*
 * Call fn(arg) once, ms milliseconds on the loop's clock from now; the handle stays valid
 * until it fires or is cancelled. A timer added while timers fire waits for the next round.
 */
struct loop_timer *loop_timer_add(struct loop *lp, uint64_t ms, loop_timer_fn fn, void *arg);
/* Cancel a pending timer (NULL is fine); never call on a timer that has fired. */
void loop_timer_cancel(struct loop *lp, struct loop_timer *t);
/* Run one round: wait at most max_ms (or until the next timer) and dispatch. -1 on error. */
int loop_run_once(struct loop *lp, int max_ms);
/* Milliseconds on the loop's monotonic clock, cached per round. */
uint64_t loop_now(struct loop *lp);
/* Wall-clock time from the loop's clock (read now), for checked_at and certificate checks. */
time_t loop_wall(struct loop *lp);
/* Number of fds watched and timers pending, so callers can tell when work is done. */
unsigned loop_pending(const struct loop *lp);

#endif
