/* inorder: stream a list of domains into a sweep and take the results back in list order. */
#include "inorder.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

struct inorder;

/*
 * One domain in flight or done and waiting for those before it. Its facts are kept on
 * the heap only once it is done, so the ring costs a pointer or two per place and the
 * memory follows what waits, not the ring's size.
 */
struct slot {
	struct inorder *io;
	struct domain_facts *df;	/* NULL until done */
};

struct inorder {
	struct sweep *sw;
	size_t n, window;
	size_t next_add, next_out;
	struct slot *ring;	/* slot of idx: ring[idx % window] */
	inorder_name_fn name;
	inorder_result_fn fn;
	void *arg;
	bool stopped;
};

/* Hand back the finished prefix of the list. */
static void flush(struct inorder *io)
{
	while (io->next_out < io->next_add) {
		struct slot *s = &io->ring[io->next_out % io->window];
		struct domain_facts *df = s->df;

		if (!df)
			return;
		s->df = NULL;
		io->next_out++;
		if (!io->stopped && !io->fn(io->arg, io->next_out - 1, df)) {
			io->stopped = true;
			sweep_shutdown(io->sw);	/* no more callbacks of the sweep */
		}
		domain_facts_free(df);
		free(df);
	}
}

static void on_done(void *arg, struct domain_facts *df)
{
	struct slot *s = arg;

	s->df = xmalloc(sizeof(*s->df));
	*s->df = *df;
	memset(df, 0, sizeof(*df));	/* taken */
	flush(s->io);
}

static void on_room(void *arg, struct sweep *sw, unsigned room)
{
	struct inorder *io = arg;

	while (room && !io->stopped && io->next_add < io->n &&
	       io->next_add - io->next_out < io->window) {
		struct slot *s = &io->ring[io->next_add % io->window];
		const char *name = io->name(io->arg, io->next_add);

		if (!name) {
			io->n = io->next_add;	/* the list ends here */
			return;
		}
		s->io = io;
		s->df = NULL;
		sweep_add(sw, name, NULL, on_done, s);
		io->next_add++;
		room--;
	}
}

int inorder_run(struct loop *lp, struct sweep *sw, size_t n, inorder_name_fn name,
		inorder_result_fn fn, void *arg, size_t window)
{
	struct inorder io;
	int rc = -1;

	memset(&io, 0, sizeof(io));
	io.sw = sw;
	io.n = n;
	io.name = name;
	io.fn = fn;
	io.arg = arg;
	io.window = window;
	if (!io.window)
		io.window = (size_t)sweep_concurrency(sw) * 4;
	io.ring = xcalloc(io.window, sizeof(*io.ring));
	sweep_on_room(sw, on_room, &io);
	/* io.n shrinks to the list's end when name says it */
	while (!io.stopped && io.next_out < io.n)
		if (loop_run_once(lp, 1000) < 0)
			goto out;
	rc = 0;
out:
	sweep_on_room(sw, NULL, NULL);
	if (io.next_out < io.next_add)
		sweep_shutdown(sw);	/* stopped early or the loop failed: nothing may call back */
	for (size_t k = io.next_out; k < io.next_add; k++) {
		struct domain_facts *df = io.ring[k % io.window].df;

		if (df) {
			domain_facts_free(df);
			free(df);
		}
	}
	free(io.ring);
	return rc;
}
