/*
 * libFuzzer target: a raw DNS message, as a resolver might send it, read as a TXT, an MX,
 * an A and an AAAA answer. Whatever the bytes, counts stay within their caps, every string
 * is terminated inside its buffer, and the result code agrees with what was kept.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/dns_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed invariant says which, then aborts: libFuzzer keeps the input. */
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* ANCOUNT from the header: no answer can hold more records than it declares. */
static size_t ancount(const uint8_t *data, size_t size)
{
	return size >= 12 ? (size_t)data[6] << 8 | data[7] : 0;
}

static void check_detail(const char *detail, size_t len, enum dns_result rc)
{
	CHECK(strnlen(detail, len) < len);
	/* an error always says what went wrong; an answer says nothing */
	if (rc == DNS_ERROR || rc == DNS_SERVFAIL || rc == DNS_REFUSED || rc == DNS_TIMEOUT)
		CHECK(detail[0]);
	if (rc == DNS_OK || rc == DNS_NODATA || rc == DNS_NXDOMAIN)
		CHECK(!detail[0]);
}

static void check_txt(const uint8_t *data, size_t size, int alen)
{
	struct txt_answer ta;
	enum dns_result rc = dns_answer_txt(data, alen, &ta);
	size_t total = 0;

	CHECK(rc == ta.rc && rc != DNS_NOT_ASKED);
	CHECK(ta.n <= FACTS_MAX_TXT && ta.n <= ancount(data, size));
	CHECK((rc == DNS_OK) == (ta.n > 0));
	check_detail(ta.detail, sizeof(ta.detail), rc);
	for (size_t i = 0; i < ta.n; i++) {
		CHECK(ta.recs[i]);
		CHECK(ta.recs[i][ta.lens[i]] == '\0');
		total += ta.lens[i];
	}
	/* the joined strings are bytes of the message: they cannot add up to more */
	CHECK(total <= size);
	CHECK(!ta.truncated || ta.n == FACTS_MAX_TXT);
	txt_answer_free(&ta);
}

static void check_mx(const uint8_t *data, size_t size, int alen)
{
	struct mx_answer ma;
	enum dns_result rc = dns_answer_mx(data, alen, &ma);

	CHECK(rc == ma.rc && rc != DNS_NOT_ASKED);
	CHECK(ma.n <= FACTS_MAX_MX && ma.n <= ancount(data, size));
	CHECK((rc == DNS_OK) == (ma.n > 0));
	CHECK(!ma.truncated || ma.n == FACTS_MAX_MX);
	check_detail(ma.detail, sizeof(ma.detail), rc);
	for (size_t i = 0; i < ma.n; i++) {
		const struct mx_record *m = &ma.v[i];
		size_t len = strnlen(m->host, sizeof(m->host));

		CHECK(len < sizeof(m->host));
		CHECK(m->preference >= 0 && m->preference <= 65535);
		/* a name c-ares did not have to escape is a plain name, without the root dot
		 * (an escaped one, such as a label ending in a literal dot, is shown as it is) */
		if (!strchr(m->host, '\\'))
			CHECK(len <= 253 && (!len || m->host[len - 1] != '.'));
		for (size_t j = 0; j < len; j++)
			CHECK(m->host[j] >= 0x20 && m->host[j] < 0x7f &&
			      !(m->host[j] >= 'A' && m->host[j] <= 'Z'));
		/* sorted by preference then name, and no name twice */
		if (i > 0) {
			const struct mx_record *p = &ma.v[i - 1];

			CHECK(p->preference < m->preference ||
			      (p->preference == m->preference && strcmp(p->host, m->host) < 0));
		}
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(ma.v[j].host, m->host) != 0);
	}
}

/* A then AAAA into one answer, as the probe does. */
static void check_addrs(const uint8_t *data, size_t size, int alen)
{
	struct addr_answer aa;
	enum dns_result rc4, rc6;
	size_t n4;

	memset(&aa, 0, sizeof(aa));
	rc4 = dns_answer_addr(AF_INET, data, alen, &aa);
	n4 = aa.n;
	CHECK(rc4 == aa.rc4 && aa.rc6 == DNS_NOT_ASKED);
	CHECK(n4 <= FACTS_MAX_ADDRS && n4 <= ancount(data, size));
	CHECK((rc4 == DNS_OK) == (n4 > 0));
	rc6 = dns_answer_addr(AF_INET6, data, alen, &aa);
	CHECK(rc6 == aa.rc6 && aa.rc4 == rc4);
	CHECK(aa.n - n4 <= FACTS_MAX_ADDRS && aa.n - n4 <= ancount(data, size));
	CHECK((rc6 == DNS_OK) == (aa.n > n4));
	CHECK(strnlen(aa.detail, sizeof(aa.detail)) < sizeof(aa.detail));
	if (rc4 == DNS_ERROR || rc6 == DNS_ERROR)
		CHECK(aa.detail[0]);
	for (size_t i = 0; i < aa.n; i++) {
		unsigned char buf[16];
		int family = i < n4 ? AF_INET : AF_INET6;

		CHECK(aa.v[i].family == family);
		CHECK(strnlen(aa.v[i].ip, sizeof(aa.v[i].ip)) < sizeof(aa.v[i].ip));
		CHECK(inet_pton(family, aa.v[i].ip, buf) == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* c-ares takes an int length; a DNS message over TCP is at most 65535 bytes */
	int alen = size > 65535 ? 65535 : (int)size;

	check_txt(data, size, alen);
	check_mx(data, size, alen);
	check_addrs(data, size, alen);
	return 0;
}
