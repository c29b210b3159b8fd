/* smtp_probe: STARTTLS on port 25 of one MX address, as a non-blocking state machine. */
#include "smtp_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smtp_reply.h"
#include "lib/defs.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/xalloc.h"

struct smtp_client {
	struct loop *lp;
	struct tlscert_store *store;
	SSL_CTX *ctx;
	char ehlo[HOST_LEN];
	unsigned connect_ms, step_ms;
	uint16_t port;
	FILE *keylog;		/* --tls-keylog, or NULL */
	struct smtp_probe *probes;
};

struct smtp_probe {
	struct smtp_client *sc;
	struct smtp_probe *prev, *next;
	int fd;
	SSL *ssl;
	enum smtp_stage stage;
	struct loop_timer *deadline;
	struct loop_timer *later;	/* defers the callback out of smtp_probe_start */
	char host[HOST_LEN];
	time_t now;
	uint64_t started;
	char in[SMTP_REPLY_MAX + 1];
	size_t inlen;
	char out[HOST_LEN + 16];
	size_t outlen, outoff;
	smtp_done_fn fn;
	void *arg;
	struct smtp_facts res;
};

static void on_io(void *arg, int fd, unsigned events);

/* OpenSSL hands over each secret of a session: one line of the key log. */
static void keylog_line(const SSL *ssl, const char *line)
{
	struct smtp_client *sc = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (sc && sc->keylog) {
		fprintf(sc->keylog, "%s\n", line);
		fflush(sc->keylog);
	}
}

struct smtp_client *smtp_client_new(struct loop *lp, struct tlscert_store *st,
				    const struct smtp_client_opts *o, char *err, size_t errlen)
{
	struct smtp_client *sc = xcalloc(1, sizeof(*sc));

	sc->lp = lp;
	sc->store = st;
	strlcpy_s(sc->ehlo, o->ehlo_name, sizeof(sc->ehlo));
	sc->connect_ms = o->connect_ms;
	sc->step_ms = o->step_ms;
	sc->port = o->port ? o->port : 25;
	sc->ctx = SSL_CTX_new(TLS_client_method());
	if (!sc->ctx) {
		bsnprintf(err, errlen, "cannot create a TLS context");
		free(sc);
		return NULL;
	}
	/*
	 * Accept what the server offers so the probe can report it: old TLS versions and weak
	 * keys are findings (mx.tls_version), not reasons to learn nothing. Verification is
	 * done afterwards by tlscert_analyze, the way a sender does it.
	 */
	SSL_CTX_set_security_level(sc->ctx, 0);
	SSL_CTX_set_min_proto_version(sc->ctx, TLS1_VERSION);
	SSL_CTX_set_cipher_list(sc->ctx, "ALL:@SECLEVEL=0");
	SSL_CTX_set_verify(sc->ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(sc->ctx, SSL_SESS_CACHE_OFF);
	/* hundreds of handshakes wait on the network at once: no idle 16 KiB buffers */
	SSL_CTX_set_mode(sc->ctx, SSL_MODE_RELEASE_BUFFERS);
	if (o->keylog_file && (sc->keylog = fopen(o->keylog_file, "ae"))) {
		SSL_CTX_set_app_data(sc->ctx, sc);
		SSL_CTX_set_keylog_callback(sc->ctx, keylog_line);
	}
	return sc;
}

static void probe_free(struct smtp_probe *p)
{
	struct smtp_client *sc = p->sc;

	if (p->prev)
		p->prev->next = p->next;
	else
		sc->probes = p->next;
	if (p->next)
		p->next->prev = p->prev;
	loop_timer_cancel(sc->lp, p->deadline);
	loop_timer_cancel(sc->lp, p->later);
	if (p->fd >= 0) {
		loop_io(sc->lp, p->fd, 0, NULL, NULL);
		close(p->fd);
	}
	SSL_free(p->ssl);
	free(p);
}

void smtp_client_free(struct smtp_client *sc)
{
	if (!sc)
		return;
	while (sc->probes)
		probe_free(sc->probes);
	SSL_CTX_free(sc->ctx);
	if (sc->keylog)
		fclose(sc->keylog);
	free(sc);
}

void smtp_probe_cancel(struct smtp_probe *p)
{
	if (p)
		probe_free(p);
}

static void finish(struct smtp_probe *p, enum smtp_result rc, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void finish(struct smtp_probe *p, enum smtp_result rc, const char *fmt, ...)
{
	va_list ap;

	p->res.rc = rc;
	p->res.stage = p->stage;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(p->res.error, sizeof(p->res.error), fmt, ap);
		va_end(ap);
		sanitize_printable(p->res.error);
	}
	p->res.time_ms = (uint32_t)(loop_now(p->sc->lp) - p->started);
	/* polite, best effort, never waited for */
	if (p->ssl && rc == SMTP_OK) {
		SSL_write(p->ssl, "QUIT\r\n", 6);
		SSL_shutdown(p->ssl);
	} else if (!p->ssl && p->fd >= 0 && p->stage > SMTP_STAGE_BANNER) {
		(void)!send(p->fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	p->fn(p->arg, &p->res);
	probe_free(p);
}

static void on_deadline(void *arg)
{
	struct smtp_probe *p = arg;

	p->deadline = NULL;
	finish(p, SMTP_TIMEOUT, "timed out during %s (no progress within %u ms)",
	       smtp_stage_str(p->stage),
	       p->stage == SMTP_STAGE_CONNECT ? p->sc->connect_ms : p->sc->step_ms);
}

static void enter(struct smtp_probe *p, enum smtp_stage st)
{
	struct smtp_client *sc = p->sc;

	p->stage = st;
	loop_timer_cancel(sc->lp, p->deadline);
	p->deadline = loop_timer_add(sc->lp, st == SMTP_STAGE_CONNECT ? sc->connect_ms : sc->step_ms,
				     on_deadline, p);
}

static void want(struct smtp_probe *p, unsigned ev)
{
	loop_io(p->sc->lp, p->fd, ev, on_io, p);
}

static void send_line(struct smtp_probe *p, const char *line)
{
	p->outlen = (size_t)bsnprintf(p->out, sizeof(p->out), "%s\r\n", line);
	p->outoff = 0;
	p->inlen = 0;
	want(p, LOOP_WRITE);
}

static void after_handshake(struct smtp_probe *p)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(p->ssl);
	const char *cipher = SSL_get_cipher_name(p->ssl);

	strlcpy_s(p->res.tls_version, SSL_get_version(p->ssl), sizeof(p->res.tls_version));
	p->res.tls_version_num = SSL_version(p->ssl);
	strlcpy_s(p->res.cipher, cipher ? cipher : "", sizeof(p->res.cipher));
	tlscert_analyze(p->sc->store, chain, p->host, p->now, &p->res.cert);
	p->stage = SMTP_STAGE_DONE;
	finish(p, SMTP_OK, NULL);
}

static void do_handshake(struct smtp_probe *p)
{
	int rc = SSL_do_handshake(p->ssl);
	int e;
	unsigned long ossl;

	if (rc == 1) {
		after_handshake(p);
		return;
	}
	e = SSL_get_error(p->ssl, rc);
	if (e == SSL_ERROR_WANT_READ) {
		want(p, LOOP_READ);
		return;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		want(p, LOOP_WRITE);
		return;
	}
	ossl = ERR_peek_last_error();
	{
		char why[160];

		if (ossl)
			ERR_error_string_n(ossl, why, sizeof(why));
		else if (e == SSL_ERROR_SYSCALL)
			bsnprintf(why, sizeof(why), "connection closed during the handshake%s%s",
				  errno ? ": " : "", errno ? strerror(errno) : "");
		else
			bsnprintf(why, sizeof(why), "handshake failed (SSL error %d)", e);
		ERR_clear_error();
		finish(p, SMTP_TLS, "TLS handshake with %s failed: %s", p->host, why);
	}
}

static void start_tls(struct smtp_probe *p)
{
	enter(p, SMTP_STAGE_HANDSHAKE);
	p->ssl = SSL_new(p->sc->ctx);
	if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1) {
		finish(p, SMTP_TLS, "cannot set up TLS");
		return;
	}
	SSL_set_tlsext_host_name(p->ssl, p->host);	/* SNI: the MX host name */
	SSL_set_connect_state(p->ssl);
	do_handshake(p);
}

/* A complete reply arrived for the current stage. */
static void on_reply(struct smtp_probe *p, const struct smtp_reply *r)
{
	switch (p->stage) {
	case SMTP_STAGE_BANNER:
		strlcpy_s(p->res.banner, r->first, sizeof(p->res.banner));
		if (r->code != 220) {
			finish(p, SMTP_REJECTED, "greeting is %d %s (not 220): the server refuses "
			       "connections from here", r->code, r->first);
			return;
		}
		enter(p, SMTP_STAGE_EHLO);
		{
			char line[HOST_LEN + 8];

			bsnprintf(line, sizeof(line), "EHLO %s", p->sc->ehlo);
			send_line(p, line);
		}
		return;
	case SMTP_STAGE_EHLO:
		if (r->code != 250) {
			finish(p, SMTP_REJECTED, "EHLO answered %d %s", r->code, r->first);
			return;
		}
		p->res.starttls_offered = r->starttls;
		if (!r->starttls) {
			finish(p, SMTP_NO_STARTTLS, "EHLO reply does not offer STARTTLS");
			return;
		}
		enter(p, SMTP_STAGE_STARTTLS);
		send_line(p, "STARTTLS");
		return;
	case SMTP_STAGE_STARTTLS:
		if (r->code != 220) {
			finish(p, SMTP_REJECTED, "STARTTLS answered %d %s", r->code, r->first);
			return;
		}
		if (p->inlen > r->used) {
			/* CVE-2011-0411 style: plaintext after the 220 would be injected into TLS */
			finish(p, SMTP_PROTOCOL, "the server sent data after 220 to STARTTLS");
			return;
		}
		p->inlen = 0;
		start_tls(p);
		return;
	default:
		return;
	}
}

static void do_read(struct smtp_probe *p)
{
	struct smtp_reply r;
	char msg[160];
	ssize_t n;
	int rc;

	n = recv(p->fd, p->in + p->inlen, SMTP_REPLY_MAX - p->inlen, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		finish(p, SMTP_PROTOCOL, "read failed during %s: %s", smtp_stage_str(p->stage),
		       strerror(errno));
		return;
	}
	if (n == 0) {
		finish(p, SMTP_PROTOCOL, "connection closed by the server during %s",
		       smtp_stage_str(p->stage));
		return;
	}
	p->inlen += (size_t)n;
	p->in[p->inlen] = '\0';
	rc = smtp_reply_parse(p->in, p->inlen, &r, msg, sizeof(msg));
	if (rc < 0) {
		finish(p, SMTP_PROTOCOL, "%s during %s", msg, smtp_stage_str(p->stage));
		return;
	}
	if (rc == 0) {
		if (p->inlen >= SMTP_REPLY_MAX)
			finish(p, SMTP_PROTOCOL, "reply longer than %d bytes during %s",
			       SMTP_REPLY_MAX, smtp_stage_str(p->stage));
		return;
	}
	on_reply(p, &r);
}

static void do_write(struct smtp_probe *p)
{
	ssize_t n = send(p->fd, p->out + p->outoff, p->outlen - p->outoff, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		finish(p, SMTP_PROTOCOL, "write failed during %s: %s", smtp_stage_str(p->stage),
		       strerror(errno));
		return;
	}
	p->outoff += (size_t)n;
	if (p->outoff == p->outlen)
		want(p, LOOP_READ);
}

static void on_connected(struct smtp_probe *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		finish(p, SMTP_CONNECT, "connect to %s port %u: %s", p->res.ip, p->sc->port,
		       strerror(err));
		return;
	}
	enter(p, SMTP_STAGE_BANNER);
	want(p, LOOP_READ);
}

static void on_io(void *arg, int fd, unsigned events)
{
	struct smtp_probe *p = arg;

	(void)fd;
	switch (p->stage) {
	case SMTP_STAGE_CONNECT:
		on_connected(p);
		return;
	case SMTP_STAGE_HANDSHAKE:
		do_handshake(p);
		return;
	default:
		if (p->outoff < p->outlen && (events & LOOP_WRITE))
			do_write(p);
		else if (events & LOOP_READ)
			do_read(p);
		return;
	}
}

/* Immediate outcomes (bad address, no route) still reach the caller from the loop. */
static void report_later(void *arg)
{
	struct smtp_probe *p = arg;

	p->later = NULL;
	finish(p, p->res.rc, NULL);
}

struct smtp_probe *smtp_probe_start(struct smtp_client *sc, const char *host, int family,
				    const char *ip, time_t now, smtp_done_fn fn, void *arg)
{
	struct smtp_probe *p = xcalloc(1, sizeof(*p));
	struct sockaddr_storage ss;
	socklen_t sslen;

	p->sc = sc;
	p->fd = -1;
	p->fn = fn;
	p->arg = arg;
	p->now = now;
	p->started = loop_now(sc->lp);
	strlcpy_s(p->host, host, sizeof(p->host));
	p->res.family = family;
	strlcpy_s(p->res.ip, ip, sizeof(p->res.ip));
	p->next = sc->probes;
	if (sc->probes)
		sc->probes->prev = p;
	sc->probes = p;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(sc->port);
		sslen = sizeof(*s6);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			goto bad_addr;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(sc->port);
		sslen = sizeof(*s4);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			goto bad_addr;
	}
	p->fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* our descriptor limit, not the MX: the judge must not blame the domain */
		p->res.rc = SMTP_LOCAL;
		bsnprintf(p->res.error, sizeof(p->res.error), "this host cannot open a socket: %s",
			  strerror(errno));
		p->later = loop_timer_add(sc->lp, 0, report_later, p);
		return p;
	}
	if (p->fd < 0 || (connect(p->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS)) {
		int e = errno;
		bool v6_unroutable = family == AF_INET6 &&
			(e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL || e == EAFNOSUPPORT);

		p->res.rc = v6_unroutable ? SMTP_SKIPPED : SMTP_CONNECT;
		if (v6_unroutable)
			bsnprintf(p->res.error, sizeof(p->res.error),
				  "not probed: no IPv6 route from this host (%s)", strerror(e));
		else
			bsnprintf(p->res.error, sizeof(p->res.error), "connect to %s port %u: %s",
				  ip, sc->port, strerror(e));
		p->later = loop_timer_add(sc->lp, 0, report_later, p);
		return p;
	}
	enter(p, SMTP_STAGE_CONNECT);
	want(p, LOOP_WRITE);
	return p;
bad_addr:
	p->res.rc = SMTP_CONNECT;
	bsnprintf(p->res.error, sizeof(p->res.error), "\"%s\" is not an address", ip);
	p->later = loop_timer_add(sc->lp, 0, report_later, p);
	return p;
}
