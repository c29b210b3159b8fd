/* https_probe: the policy fetch exactly as a sender does it, on libcurl's multi interface. */
#include "https_probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "lib/curlm.h"
#include "lib/dynbuf.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#ifndef STSWATCH_VERSION
#define STSWATCH_VERSION "dev"
#endif
#define USER_AGENT "stswatch/" STSWATCH_VERSION " (MTA-STS monitor)"

struct https_client {
	struct loop *lp;
	struct tlscert_store *store;
	struct curlm *cm;
	uint16_t port;
	struct https_req *reqs;	/* all transfers in flight */
	/*
	 * "-HOST:PORT" for every host pinned by a finished transfer, handed to the next one:
	 * libcurl keeps a CURLOPT_RESOLVE entry in the multi handle's DNS cache for good and
	 * walks the whole cache at every transfer, so without this a sweep's cost per domain
	 * grew with the number of domains done.
	 */
	struct curl_slist *forget;
};

struct https_req {
	struct https_client *hc;
	struct https_req *prev, *next;
	CURL *easy;
	struct curl_slist *resolve;
	struct curl_slist *connect_to;
	struct dynbuf body;
	bool too_large;
	bool pinned;		/* its host is in the multi handle's DNS cache */
	bool analyzed;		/* res.cert holds the handshake's verdict on the chain */
	/* how far the transfer got, for the step a failure or a timeout is named by */
	bool tls_started;	/* the TCP connection stood, the handshake began */
	bool request_sent;	/* the connection stood (TLS included), the request went out */
	bool head_done;		/* the final response head ended (its empty line came) */
	bool interim;		/* the head arriving is a 1xx one: another follows */
	size_t head_bytes;	/* bytes of response head lines seen */
	int socket_errno;	/* why opening a socket failed here, 0 when it did not */
	STACK_OF(X509) *chain;	/* as the peer sent it, captured during the handshake */
	char tls_version[16];
	char host[HOST_LEN];
	char errbuf[CURL_ERROR_SIZE];
	time_t now;
	https_done_fn fn;
	void *arg;
	struct policy_fetch res;
};

struct https_client *https_client_new(struct loop *lp, struct tlscert_store *st,
				      const struct https_client_opts *o, char *err, size_t errlen)
{
	struct https_client *hc = xcalloc(1, sizeof(*hc));

	hc->lp = lp;
	hc->store = st;
	hc->port = o && o->port ? o->port : 443;
	hc->cm = curlm_new(lp, err, errlen);
	if (!hc->cm) {
		free(hc);
		return NULL;
	}
	return hc;
}

static void req_free(struct https_req *r)
{
	struct https_client *hc = r->hc;

	if (r->prev)
		r->prev->next = r->next;
	else
		hc->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (r->easy) {
		curlm_cancel(hc->cm, r->easy);	/* nothing when it already ended */
		curl_easy_cleanup(r->easy);
	}
	if (r->pinned) {
		char entry[HOST_LEN + 16];
		struct curl_slist *l;

		bsnprintf(entry, sizeof(entry), "-%s:%u", r->host, (unsigned)hc->port);
		l = curl_slist_append(hc->forget, entry);
		if (l)
			hc->forget = l;
	}
	curl_slist_free_all(r->resolve);
	curl_slist_free_all(r->connect_to);
	dynbuf_free(&r->body);
	if (r->chain)
		sk_X509_pop_free(r->chain, X509_free);
	free(r->res.body);
	free(r);
}

void https_client_free(struct https_client *hc)
{
	if (!hc)
		return;
	while (hc->reqs)
		req_free(hc->reqs);
	curl_slist_free_all(hc->forget);
	curlm_free(hc->cm);
	free(hc);
}

void https_cancel(struct https_client *hc, struct https_req *req)
{
	(void)hc;
	if (req)
		req_free(req);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct https_req *r = userp;
	size_t n = size * nmemb;

	if (dynbuf_append(&r->body, data, n) < 0) {
		r->too_large = true;
		return 0;	/* abort: RFC 8461 3.3 lets senders cap the body at 64 KiB */
	}
	return n;
}

/* Every line of a response head: how far the response got (a 1xx head is not the last). */
static size_t on_header(char *data, size_t size, size_t nitems, void *userp)
{
	struct https_req *r = userp;
	size_t n = size * nitems;

	if (r->head_done)
		return n;	/* trailers */
	if (n >= 7 && memcmp(data, "HTTP/", 5) == 0) {
		const char *sp = memchr(data, ' ', n);

		r->interim = sp && (size_t)(sp - data) + 1 < n && sp[1] == '1';
	} else if ((n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n')) {
		if (!r->interim)
			r->head_done = true;
		r->interim = false;
	}
	r->head_bytes += n;
	return n;
}

/* The connection (TLS included) stands and the request is about to go out. */
static int on_prereq(void *userp, char *primary_ip, char *local_ip, int primary_port,
		     int local_port)
{
	struct https_req *r = userp;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	r->request_sent = true;
	return CURL_PREREQFUNC_OK;
}

/*
 * OpenSSL calls this instead of its own chain verification, once per handshake: keep the
 * chain as the peer sent it and judge it with tlscert_analyze, the one verification of
 * the fetch (classify uses the facts): the chain to a trusted root, the dates and the
 * name (a DNS-ID for mta-sts.DOMAIN, RFC 8461 3.3). The handshake goes on only when all
 * hold, as a sender's would; libcurl's own name check is off, since it would decode the
 * names a third time for the same answer.
 */
static int verify_chain(X509_STORE_CTX *ctx, void *arg)
{
	struct https_req *r = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	STACK_OF(X509) *sent = X509_STORE_CTX_get0_untrusted(ctx);
	struct cert_facts *c = &r->res.cert;

	if (r->chain)
		sk_X509_pop_free(r->chain, X509_free);
	r->chain = sent ? X509_chain_up_ref(sent) : NULL;
	if (ssl)
		strlcpy_s(r->tls_version, SSL_get_version(ssl), sizeof(r->tls_version));
	tlscert_analyze(r->hc->store, r->chain, r->host, r->now, c);
	r->analyzed = true;
	if (!c->problems)
		return 1;
	X509_STORE_CTX_set_error(ctx, c->verify_error ? c->verify_error :
				 c->problems & CERT_P_EXPIRED ? X509_V_ERR_CERT_HAS_EXPIRED :
				 c->problems & CERT_P_NOT_YET_VALID ? X509_V_ERR_CERT_NOT_YET_VALID :
				 c->problems & CERT_P_NAME_MISMATCH ? X509_V_ERR_HOSTNAME_MISMATCH :
				 X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

/*
 * libcurl makes an SSL_CTX per connection and hands it over before the handshake: verify
 * there with verify_chain and the sweep's CA store (loaded once), not with one libcurl
 * would load from a CA file for every connection, and let OpenSSL free its buffers while
 * a connection waits (hundreds of them wait at once).
 */
static CURLcode ssl_ctx_cb(CURL *easy, void *sslctx, void *userp)
{
	SSL_CTX *ctx = sslctx;
	struct https_req *r = userp;

	(void)easy;
	r->tls_started = true;	/* libcurl sets TLS up once the TCP connection stands */
	SSL_CTX_set1_cert_store(ctx, tlscert_store_x509(r->hc->store));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_chain, r);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return CURLE_OK;
}

/*
 * libcurl opens its sockets here, so a socket this host cannot open (its descriptor limit
 * reached) is told apart from a policy host that does not answer.
 */
static curl_socket_t open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct https_req *r = userp;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0) {
		r->socket_errno = errno;
		return CURL_SOCKET_BAD;
	}
	return fd;
}

static bool local_fault(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

/* The step the transfer ended in. */
static enum fetch_step step_reached(const struct https_req *r, CURLcode rc)
{
	curl_off_t t = 0;

	if (rc == CURLE_OK)
		return FETCH_STEP_DONE;
	if (r->head_done)
		return FETCH_STEP_BODY;
	if (r->head_bytes)
		return FETCH_STEP_HEADERS;
	if (r->request_sent)
		return FETCH_STEP_WAIT;
	if (curl_easy_getinfo(r->easy, CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK && t > 0)
		return FETCH_STEP_WAIT;
	if (r->tls_started)
		return FETCH_STEP_TLS;
	if (curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK && t > 0)
		return FETCH_STEP_TLS;
	return FETCH_STEP_CONNECT;
}

/* A timeout in words that name the step, instead of libcurl's "Operation timed out". */
static void timeout_words(const struct https_req *r, struct policy_fetch *pf, unsigned ms)
{
	curl_off_t len = -1;
	char got[96] = "";

	if (pf->step == FETCH_STEP_BODY) {
		curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		if (len >= 0)
			bsnprintf(got, sizeof(got), " (%zu of %lld bytes received)", r->body.len,
				  (long long)len);
		else
			bsnprintf(got, sizeof(got), " (%zu bytes received)", r->body.len);
	} else if (pf->step == FETCH_STEP_HEADERS) {
		bsnprintf(got, sizeof(got), " (%zu bytes of headers received, the head not "
			  "complete)", r->head_bytes);
	}
	bsnprintf(pf->error, sizeof(pf->error), "timed out during %s after %u ms%s",
		  fetch_step_str(pf->step), ms, got);
}

static void classify(struct https_req *r, CURLcode rc)
{
	struct policy_fetch *pf = &r->res;
	long status = 0;
	char *ctype = NULL, *redirect = NULL, *ip = NULL;
	curl_off_t t;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ctype);
	curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &redirect);
	curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip);
	pf->http_status = status;
	if (ctype)
		printable_copy(pf->content_type, sizeof(pf->content_type), ctype, strlen(ctype));
	if (redirect)
		printable_copy(pf->location, sizeof(pf->location), redirect, strlen(redirect));
	if (ip)
		strlcpy_s(pf->ip, ip, sizeof(pf->ip));
	if (curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &t) == CURLE_OK)
		pf->total_ms = (uint32_t)(t / 1000);
	if (curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK)
		pf->connect_ms = (uint32_t)(t / 1000);
	if (curl_easy_getinfo(r->easy, CURLINFO_APPCONNECT_TIME_T, &t) == CURLE_OK)
		pf->tls_ms = (uint32_t)(t / 1000);
	strlcpy_s(pf->tls_version, r->tls_version, sizeof(pf->tls_version));
	if (!r->analyzed)	/* no certificate came */
		tlscert_analyze(r->hc->store, r->chain, r->host, r->now, &pf->cert);
	if (!r->chain)
		pf->cert.present = false;

	switch (rc) {
	case CURLE_OK:
		pf->rc = FETCH_OK;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		pf->rc = r->too_large || rc == CURLE_FILESIZE_EXCEEDED ? FETCH_TOO_LARGE : FETCH_PROTOCOL;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		pf->rc = FETCH_DNS;
		break;
	case CURLE_COULDNT_CONNECT:
		pf->rc = FETCH_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		pf->rc = FETCH_TIMEOUT;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		pf->rc = FETCH_CERT;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		/* a certificate rejected during the handshake surfaces here too */
		pf->rc = r->chain && (pf->cert.problems & ~CERT_P_NAME_MISMATCH) ? FETCH_CERT : FETCH_TLS;
		break;
	default:
		pf->rc = FETCH_PROTOCOL;
		break;
	}
	if (rc != CURLE_OK && local_fault(r->socket_errno)) {
		pf->rc = FETCH_LOCAL;
		bsnprintf(pf->error, sizeof(pf->error), "this host cannot open a socket: %s",
			  strerror(r->socket_errno));
		return;
	}
	pf->step = step_reached(r, rc);
	/* libcurl's words for a response head it will not take (300 KiB in 7.88) */
	pf->headers_too_large = rc != CURLE_OK && pf->step == FETCH_STEP_HEADERS &&
				strstr(r->errbuf, "Too large response headers") != NULL;
	if (pf->rc == FETCH_TOO_LARGE)
		bsnprintf(pf->error, sizeof(pf->error), "body larger than %d bytes", POLICY_MAX_BODY);
	else if (pf->rc == FETCH_TIMEOUT)
		timeout_words(r, pf, pf->total_ms);
	else if (rc != CURLE_OK)
		bsnprintf(pf->error, sizeof(pf->error), "%s", r->errbuf[0] ? r->errbuf :
			  curl_easy_strerror(rc));
	sanitize_printable(pf->error);
	if (rc == CURLE_OK) {
		pf->body_len = r->body.len;
		pf->body = dynbuf_steal(&r->body);
	}
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct https_req *r = arg;

	(void)easy;
	classify(r, rc);
	r->fn(r->arg, &r->res);
	req_free(r);
}

struct https_req *https_fetch_policy(struct https_client *hc, const char *domain,
				     const struct addr_answer *addrs, unsigned timeout_ms,
				     time_t now, https_done_fn fn, void *arg)
{
	struct https_req *r = xcalloc(1, sizeof(*r));
	struct dynbuf pin;
	char url[HOST_LEN + 64];

	r->hc = hc;
	r->fn = fn;
	r->arg = arg;
	r->now = now;
	bsnprintf(r->host, sizeof(r->host), "mta-sts.%s", domain);
	bsnprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", r->host);
	strlcpy_s(r->res.url, url, sizeof(r->res.url));
	dynbuf_init(&r->body, POLICY_MAX_BODY);

	/*
	 * Pin the addresses c-ares found, so one resolver configuration holds everywhere,
	 * after the entries of the hosts done since the last fetch are taken out.
	 */
	dynbuf_init(&pin, 0);
	dynbuf_printf(&pin, "%s:%u:", r->host, (unsigned)hc->port);
	for (size_t i = 0; i < addrs->n; i++)
		dynbuf_printf(&pin, addrs->v[i].family == AF_INET6 ? "%s[%s]" : "%s%s",
			      i ? "," : "", addrs->v[i].ip);
	r->resolve = curl_slist_append(hc->forget, pin.buf);
	if (r->resolve)
		hc->forget = NULL;	/* this transfer's list now, freed with it */
	if (hc->port != 443) {
		/* the URL (so Host and SNI) stays a sender's; only the connection moves */
		dynbuf_reset(&pin);
		dynbuf_printf(&pin, "%s:443:%s:%u", r->host, r->host, (unsigned)hc->port);
		r->connect_to = curl_slist_append(NULL, pin.buf);
	}
	dynbuf_free(&pin);
	r->next = hc->reqs;
	if (hc->reqs)
		hc->reqs->prev = r;
	hc->reqs = r;

	r->easy = curl_easy_init();
	if (!r->easy || !r->resolve || (hc->port != 443 && !r->connect_to)) {
		req_free(r);
		return NULL;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_RESOLVE, r->resolve);
	r->pinned = true;
	if (r->connect_to)
		curl_easy_setopt(r->easy, CURLOPT_CONNECT_TO, r->connect_to);
	curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(r->easy, CURLOPT_OPENSOCKETDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "https");
	/* senders fetch the policy directly: https_proxy, ALL_PROXY and the like are not
	 * ours to obey (they would send the watch list to a proxy, and a dead one would make
	 * every domain CRITICAL) */
	curl_easy_setopt(r->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);	/* verify_chain checks it */
	curl_easy_setopt(r->easy, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	/* every policy host is fetched once per sweep: close the connection when done, or
	 * the multi handle keeps up to 4 x concurrency idle TLS connections open (their
	 * sockets, and a few hundred KiB of TLS state each) that nothing will reuse */
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* no CA file or path for libcurl to load per connection (with the system bundle that
	 * was about 30 ms of CPU per fetch): ssl_ctx_cb puts the sweep's store in place */
	curl_easy_setopt(r->easy, CURLOPT_CAINFO, NULL);
	curl_easy_setopt(r->easy, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(r->easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(r->easy, CURLOPT_SSL_CTX_DATA, r);
	curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)POLICY_MAX_BODY);
	/* a policy is a few hundred bytes: a 4 KiB read buffer instead of 16 KiB for each of
	 * the hundreds of transfers at once (OpenSSL keeps its own record buffer) */
	curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, 4096L);
	/* libcurl 7.88 copies the request of every TLS transfer into an upload buffer, 64 KiB
	 * unless told: the request is a few hundred bytes, and 16 KiB is the least it takes */
	curl_easy_setopt(r->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(r->easy, CURLOPT_PREREQDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	if (curlm_add(hc->cm, r->easy, on_done, r) < 0) {
		req_free(r);
		return NULL;
	}
	return r;
}
