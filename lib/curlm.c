/* curlm: libcurl's multi interface on the event loop, shared by every HTTP(S) or SMTP client. */
#include "curlm.h"

#include <stdlib.h>

#include "str.h"
#include "xalloc.h"

/* One running transfer: what to call when it ends. */
struct xfer {
	struct curlm *cm;
	struct xfer *prev, *next;
	CURL *easy;
	curlm_done_fn fn;
	void *arg;
};

struct curlm {
	struct loop *lp;
	CURLM *multi;
	struct loop_timer *timer;
	struct xfer *xfers;
	unsigned n;
};

static void xfer_unlink(struct curlm *cm, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		cm->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	cm->n--;
}

/* Hand every finished transfer to its owner. */
static void check_done(struct curlm *cm)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(cm->multi, &left))) {
		struct xfer *x = NULL;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		curlm_done_fn fn;
		void *arg;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		fn = x->fn;
		arg = x->arg;
		xfer_unlink(cm, x);
		curl_multi_remove_handle(cm->multi, easy);	/* msg is invalid from here */
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		fn(arg, easy, rc);
	}
}

static void on_timer(void *arg)
{
	struct curlm *cm = arg;
	int running;

	cm->timer = NULL;
	curl_multi_socket_action(cm->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(cm);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlm *cm = userp;

	(void)multi;
	loop_timer_cancel(cm->lp, cm->timer);
	cm->timer = NULL;
	if (timeout_ms >= 0)
		cm->timer = loop_timer_add(cm->lp, (uint64_t)timeout_ms, on_timer, cm);
	return 0;
}

static void on_io(void *arg, int fd, unsigned events)
{
	struct curlm *cm = arg;
	int running, ev = 0;

	if (events & LOOP_READ)
		ev |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		ev |= CURL_CSELECT_ERR;
	curl_multi_socket_action(cm->multi, fd, ev, &running);
	check_done(cm);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct curlm *cm = userp;
	unsigned ev = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= LOOP_WRITE;
	if (loop_io(cm->lp, s, what == CURL_POLL_REMOVE ? 0 : ev, on_io, cm) < 0)
		return -1;	/* libcurl fails the transfers on this socket */
	return 0;
}

struct curlm *curlm_new(struct loop *lp, char *err, size_t errlen)
{
	struct curlm *cm = xcalloc(1, sizeof(*cm));

	cm->lp = lp;
	cm->multi = curl_multi_init();
	if (!cm->multi) {
		bsnprintf(err, errlen, "cannot start libcurl");
		free(cm);
		return NULL;
	}
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(cm->multi, CURLMOPT_SOCKETDATA, cm);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cm->multi, CURLMOPT_TIMERDATA, cm);
	return cm;
}

void curlm_free(struct curlm *cm)
{
	if (!cm)
		return;
	while (cm->xfers)
		curlm_cancel(cm, cm->xfers->easy);
	curl_multi_cleanup(cm->multi);	/* closes what it kept open; socket_cb removes the fds */
	loop_timer_cancel(cm->lp, cm->timer);
	free(cm);
}

int curlm_add(struct curlm *cm, CURL *easy, curlm_done_fn fn, void *arg)
{
	struct xfer *x = xcalloc(1, sizeof(*x));

	x->cm = cm;
	x->easy = easy;
	x->fn = fn;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(cm->multi, easy) != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return -1;
	}
	x->next = cm->xfers;
	if (cm->xfers)
		cm->xfers->prev = x;
	cm->xfers = x;
	cm->n++;
	return 0;
}

void curlm_cancel(struct curlm *cm, CURL *easy)
{
	struct xfer *x = NULL;

	if (!easy)
		return;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (!x || x->cm != cm)
		return;
	xfer_unlink(cm, x);
	curl_multi_remove_handle(cm->multi, easy);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
	free(x);
}

unsigned curlm_running(const struct curlm *cm)
{
	return cm->n;
}
