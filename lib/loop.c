/* loop: the one event loop: file descriptors on epoll, timers on an injectable clock. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "defs.h"
#include "timeutil.h"
#include "xalloc.h"


struct loop_timer {
	uint64_t due;
	uint64_t seq;	/* tie-break so equal deadlines fire in order of creation */
	size_t idx;	/* position in the heap */
	loop_timer_fn fn;
	void *arg;
};

struct io_slot {
	loop_io_fn fn;
	void *arg;
	unsigned events;
};

struct loop {
	int epfd;
	struct loop_clock clock;
	uint64_t now;
	uint64_t seq;
	struct loop_timer **heap;
	size_t nheap, capheap;
	struct io_slot *io;	/* indexed by fd */
	size_t capio;
	unsigned nio;
};

static uint64_t real_mono(void *arg)
{
	(void)arg;
	return mono_ms();
}

static time_t real_wall(void *arg)
{
	(void)arg;
	return time(NULL);
}

static uint64_t clock_ms(struct loop *lp)
{
	return lp->clock.mono_ms(lp->clock.arg);
}

struct loop *loop_new(const struct loop_clock *clock)
{
	struct loop *lp = xcalloc(1, sizeof(*lp));

	if (clock) {
		lp->clock = *clock;
	} else {
		lp->clock.mono_ms = real_mono;
		lp->clock.wall = real_wall;
	}

	lp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->epfd < 0) {
		int e = errno;

		free(lp);
		errno = e;
		return NULL;
	}
	lp->now = clock_ms(lp);
	return lp;
}

void loop_free(struct loop *lp)
{
	if (!lp)
		return;
	for (size_t i = 0; i < lp->nheap; i++)
		free(lp->heap[i]);
	free(lp->heap);
	free(lp->io);
	close(lp->epfd);
	free(lp);
}

uint64_t loop_now(struct loop *lp)
{
	return lp->now;
}

time_t loop_wall(struct loop *lp)
{
	return lp->clock.wall(lp->clock.arg);
}

unsigned loop_pending(const struct loop *lp)
{
	return lp->nio + (unsigned)lp->nheap;
}

int loop_io(struct loop *lp, int fd, unsigned events, loop_io_fn fn, void *arg)
{
	struct epoll_event ev;
	struct io_slot *slot;
	int op;

	if (fd < 0)
		return -1;
	if ((size_t)fd >= lp->capio) {
		size_t ncap = lp->capio ? lp->capio : 64;

		while (ncap <= (size_t)fd)
			ncap *= 2;
		lp->io = xrealloc(lp->io, ncap * sizeof(*lp->io));
		memset(lp->io + lp->capio, 0, (ncap - lp->capio) * sizeof(*lp->io));
		lp->capio = ncap;
	}
	slot = &lp->io[fd];
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (events & LOOP_READ)
		ev.events |= EPOLLIN;
	if (events & LOOP_WRITE)
		ev.events |= EPOLLOUT;
	if (!events) {
		if (!slot->events)
			return 0;
		epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, &ev);
		slot->events = 0;
		slot->fn = NULL;
		lp->nio--;
		return 0;
	}
	op = slot->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(lp->epfd, op, fd, &ev) < 0)
		return -1;
	if (!slot->events)
		lp->nio++;
	slot->events = events;
	slot->fn = fn;
	slot->arg = arg;
	return 0;
}

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct loop *lp, size_t i, struct loop_timer *t)
{
	lp->heap[i] = t;
	t->idx = i;
}

static void heap_up(struct loop *lp, size_t i)
{
	struct loop_timer *t = lp->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, lp->heap[parent]))
			break;
		heap_set(lp, i, lp->heap[parent]);
		i = parent;
	}
	heap_set(lp, i, t);
}

static void heap_down(struct loop *lp, size_t i)
{
	struct loop_timer *t = lp->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct loop_timer *best = t;

		if (l < lp->nheap && timer_before(lp->heap[l], best)) {
			m = l;
			best = lp->heap[l];
		}
		if (r < lp->nheap && timer_before(lp->heap[r], best))
			m = r;
		if (m == i)
			break;
		heap_set(lp, i, lp->heap[m]);
		i = m;
	}
	heap_set(lp, i, t);
}

static void heap_remove(struct loop *lp, size_t i)
{
	struct loop_timer *last = lp->heap[--lp->nheap];

	if (i == lp->nheap)
		return;
	heap_set(lp, i, last);
	heap_down(lp, i);
	heap_up(lp, last->idx);
}

struct loop_timer *loop_timer_add(struct loop *lp, uint64_t ms, loop_timer_fn fn, void *arg)
{
	struct loop_timer *t = xmalloc(sizeof(*t));

	t->due = clock_ms(lp) + ms;
	t->seq = lp->seq++;
	t->fn = fn;
	t->arg = arg;
	if (lp->nheap == lp->capheap) {
		lp->capheap = lp->capheap ? lp->capheap * 2 : 32;
		lp->heap = xrealloc(lp->heap, lp->capheap * sizeof(*lp->heap));
	}
	heap_set(lp, lp->nheap++, t);
	heap_up(lp, t->idx);
	return t;
}

void loop_timer_cancel(struct loop *lp, struct loop_timer *t)
{
	if (!t)
		return;
	heap_remove(lp, t->idx);
	free(t);
}

static void fire_timers(struct loop *lp)
{
	/* Only timers that existed when this round began fire, so a callback that adds a
	 * zero-delay timer cannot starve file descriptors, whatever the clock does. A timer
	 * added later is due no earlier than now and, on a tie, sorts after the older ones. */
	uint64_t now = clock_ms(lp), seq_limit = lp->seq;

	lp->now = now;
	while (lp->nheap && lp->heap[0]->due <= now && lp->heap[0]->seq < seq_limit) {
		struct loop_timer *t = lp->heap[0];
		loop_timer_fn fn = t->fn;
		void *arg = t->arg;

		heap_remove(lp, 0);
		free(t);
		fn(arg);
	}
}

int loop_run_once(struct loop *lp, int max_ms)
{
	struct epoll_event evs[64];
	int timeout = max_ms, n;

	lp->now = clock_ms(lp);
	if (lp->nheap) {
		uint64_t due = lp->heap[0]->due;
		int wait = due <= lp->now ? 0 : (int)(due - lp->now > 60000 ? 60000 : due - lp->now);

		if (timeout < 0 || wait < timeout)
			timeout = wait;
	}
	n = epoll_wait(lp->epfd, evs, (int)ARRAY_LEN(evs), timeout);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -1;
	}
	lp->now = clock_ms(lp);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		unsigned ev = 0;
		struct io_slot *slot;

		if ((size_t)fd >= lp->capio)
			continue;
		slot = &lp->io[fd];
		if (!slot->events || !slot->fn)
			continue;	/* removed by an earlier callback in this round */
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			ev |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			ev |= LOOP_WRITE;
		if (evs[i].events & (EPOLLHUP | EPOLLERR))
			ev |= LOOP_ERROR;
		slot->fn(slot->arg, fd, ev);
	}
	fire_timers(lp);
	return 0;
}
