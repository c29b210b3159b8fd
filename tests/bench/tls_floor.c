/*
 * tls_floor: the least CPU a policy fetch can cost on this machine with this OpenSSL, to
 * set the benchmark's figures against (docs/BENCHMARKS.md).
 *
 *   tls_floor [--new-ctx] N CA_FILE ADDR HOST_FORMAT [NAMES]
 *
 * N fetches one after the other, each as a sender makes it and nothing more: a TCP
 * connection to ADDR port 443, a TLS handshake with SNI and verification of the chain
 * and the name against CA_FILE (one SSL_CTX and one store for all, or a new SSL_CTX per
 * fetch with --new-ctx, as libcurl 7.88 makes one per connection), a GET of
 * /.well-known/mta-sts.txt, the whole answer read, the connection closed. The host of
 * fetch i is HOST_FORMAT with i % NAMES + 1 (e.g. "mta-sts.b%05d.test"; NAMES default 10000). No DNS, no
 * parsing, no event loop, no MX, no output per fetch: whatever stswatch spends above
 * this per domain is its own work. Prints one JSON line: fetches, failures, CPU seconds
 * (user + system of this process, so also the kernel's TCP work done on its behalf) and
 * CPU ms per fetch. Exit 1 when a fetch failed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static SSL_CTX *ctx_new(X509_STORE *store)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set1_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

/* One fetch; false when any step failed. */
static bool fetch(SSL_CTX *ctx, const struct sockaddr_in *sa, const char *host)
{
	char req[512], buf[4096];
	bool ok = false;
	SSL *ssl = NULL;
	int fd, n, len;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
		goto out;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1 ||
	    SSL_set1_host(ssl, host) != 1)
		goto out;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_connect(ssl) != 1)
		goto out;
	len = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: %s\r\n"
		       "User-Agent: tls_floor\r\nConnection: close\r\n\r\n", host);
	if (len <= 0 || (size_t)len >= sizeof(req) || SSL_write(ssl, req, len) != len)
		goto out;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		ok = true;
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return ok;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(443) };
	bool new_ctx = false;
	X509_STORE *store;
	SSL_CTX *ctx = NULL;
	long n, names = 10000, failed = 0;
	double t0, t;
	int i = 1;

	if (argc > 1 && strcmp(argv[1], "--new-ctx") == 0) {
		new_ctx = true;
		i++;
	}
	if (argc - i == 5)
		names = strtol(argv[i + 4], NULL, 10);
	if ((argc - i != 4 && argc - i != 5) || (n = strtol(argv[i], NULL, 10)) <= 0 ||
	    names <= 0 || inet_pton(AF_INET, argv[i + 2], &sa.sin_addr) != 1 || !strstr(argv[i + 3], "%")) {
		fprintf(stderr, "usage: tls_floor [--new-ctx] N CA_FILE ADDR HOST_FORMAT [NAMES]\n");
		return 2;
	}
	store = X509_STORE_new();
	if (!store || X509_STORE_load_file(store, argv[i + 1]) != 1) {
		fprintf(stderr, "tls_floor: %s: cannot load CA certificates\n", argv[i + 1]);
		return 2;
	}
	t0 = cpu_seconds();
	for (long k = 0; k < n; k++) {
		char host[256];

		if (!ctx || new_ctx) {
			SSL_CTX_free(ctx);
			ctx = ctx_new(store);
			if (!ctx) {
				fprintf(stderr, "tls_floor: cannot create a TLS context\n");
				return 2;
			}
		}
		snprintf(host, sizeof(host), argv[i + 3], (int)(k % names + 1));
		if (!fetch(ctx, &sa, host))
			failed++;
	}
	t = cpu_seconds() - t0;
	printf("{\"fetches\": %ld, \"failed\": %ld, \"new_ctx\": %s, \"cpu\": %.3f, "
	       "\"cpu_ms_per_fetch\": %.3f}\n", n, failed, new_ctx ? "true" : "false", t,
	       1000 * t / (double)n);
	SSL_CTX_free(ctx);
	X509_STORE_free(store);
	return failed ? 1 : 0;
}
