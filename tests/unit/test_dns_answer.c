/* Unit tests of DNS answer reading: packets built byte by byte, as a resolver sends them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "checks/dns_answer.h"

#define T_A 1
#define T_CNAME 5
#define T_MX 15
#define T_TXT 16
#define T_AAAA 28

struct pkt {
	unsigned char b[65535];
	size_t len;
	size_t rdlen_at;	/* where the open record's RDLENGTH goes */
};

static void put8(struct pkt *p, unsigned v)
{
	assert_true(p->len < sizeof(p->b));
	p->b[p->len++] = (unsigned char)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put_bytes(struct pkt *p, const void *data, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

/* A name as uncompressed labels; "" and "." are the root. */
static void put_name(struct pkt *p, const char *name)
{
	while (*name && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned)n);
		put_bytes(p, name, n);
		name += n + (dot ? 1 : 0);
	}
	put8(p, 0);
}

/* Header (a NOERROR response with RD and RA) and the question. */
static void pkt_start(struct pkt *p, const char *qname, unsigned qtype, unsigned ancount)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);
	put16(p, 0x8180);
	put16(p, 1);
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	put_name(p, qname);
	put16(p, qtype);
	put16(p, 1);
}

/* An answer record's fixed part; its RDATA follows, rr_end fills RDLENGTH. */
static void rr_start(struct pkt *p, const char *name, unsigned type)
{
	put_name(p, name);
	put16(p, type);
	put16(p, 1);
	put16(p, 0);
	put16(p, 300);
	p->rdlen_at = p->len;
	put16(p, 0);
}

static void rr_end(struct pkt *p)
{
	size_t n = p->len - p->rdlen_at - 2;

	p->b[p->rdlen_at] = (unsigned char)(n >> 8);
	p->b[p->rdlen_at + 1] = (unsigned char)(n & 0xff);
}

/* One TXT record made of the strings given (NULL-terminated list). */
static void txt_rr(struct pkt *p, const char *name, ...)
{
	va_list ap;
	const char *s;

	rr_start(p, name, T_TXT);
	va_start(ap, name);
	while ((s = va_arg(ap, const char *))) {
		put8(p, (unsigned)strlen(s));
		put_bytes(p, s, strlen(s));
	}
	va_end(ap);
	rr_end(p);
}

static void mx_rr(struct pkt *p, const char *name, unsigned pref, const char *host)
{
	rr_start(p, name, T_MX);
	put16(p, pref);
	put_name(p, host);
	rr_end(p);
}

static void a_rr(struct pkt *p, const char *name, unsigned last)
{
	rr_start(p, name, T_A);
	put_bytes(p, (const unsigned char[]){ 192, 0, 2, (unsigned char)last }, 4);
	rr_end(p);
}

static void cname_rr(struct pkt *p, const char *name, const char *target)
{
	rr_start(p, name, T_CNAME);
	put_name(p, target);
	rr_end(p);
}

static void aaaa_rr(struct pkt *p, const char *name, unsigned last)
{
	unsigned char ip[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	ip[15] = (unsigned char)last;
	rr_start(p, name, T_AAAA);
	put_bytes(p, ip, sizeof(ip));
	rr_end(p);
}

#define STS "_mta-sts.example.org"

/* RFC 8461 3.1 (via RFC 7208 3.3): the strings of one record are joined, no separator. */
static void test_txt_strings_joined(void **state)
{
	struct pkt p;
	struct txt_answer ta;

	(void)state;
	pkt_start(&p, STS, T_TXT, 1);
	txt_rr(&p, STS, "v=STSv1; ", "id=2024", "0101", NULL);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.n, 1);
	assert_string_equal(ta.recs[0], "v=STSv1; id=20240101");
	assert_int_equal(ta.lens[0], strlen("v=STSv1; id=20240101"));
	assert_false(ta.truncated);
	txt_answer_free(&ta);
}

/* Two records stay two (RFC 8461 3.1 then says the name has no valid record). */
static void test_txt_two_records(void **state)
{
	struct pkt p;
	struct txt_answer ta;

	(void)state;
	pkt_start(&p, STS, T_TXT, 2);
	txt_rr(&p, STS, "v=STSv1; id=a", NULL);
	txt_rr(&p, STS, "v=STSv1; ", "id=b", NULL);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.n, 2);
	assert_string_equal(ta.recs[0], "v=STSv1; id=a");
	assert_string_equal(ta.recs[1], "v=STSv1; id=b");
	txt_answer_free(&ta);
}

/* A record of one empty string is a record, and a NUL byte inside one is kept. */
static void test_txt_empty_and_nul(void **state)
{
	struct pkt p;
	struct txt_answer ta;

	(void)state;
	pkt_start(&p, STS, T_TXT, 2);
	txt_rr(&p, STS, "", NULL);
	rr_start(&p, STS, T_TXT);
	put_bytes(&p, "\x03" "a\0b", 4);
	rr_end(&p);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.n, 2);
	assert_int_equal(ta.lens[0], 0);
	assert_string_equal(ta.recs[0], "");
	assert_int_equal(ta.lens[1], 3);
	assert_memory_equal(ta.recs[1], "a\0b", 4);
	txt_answer_free(&ta);
}

static void test_txt_nodata(void **state)
{
	struct pkt p;
	struct txt_answer ta;

	(void)state;
	pkt_start(&p, STS, T_TXT, 0);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_NODATA);
	assert_int_equal(ta.n, 0);
	/* an answer of other types only is no TXT record either */
	pkt_start(&p, STS, T_TXT, 1);
	a_rr(&p, STS, 1);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_NODATA);
	assert_int_equal(ta.n, 0);
}

static void test_txt_cap(void **state)
{
	struct pkt p;
	struct txt_answer ta;
	char rec[32];

	(void)state;
	pkt_start(&p, STS, T_TXT, FACTS_MAX_TXT + 1);
	for (int i = 0; i <= FACTS_MAX_TXT; i++) {
		snprintf(rec, sizeof(rec), "record %d", i);
		txt_rr(&p, STS, rec, NULL);
	}
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.n, FACTS_MAX_TXT);
	assert_true(ta.truncated);
	assert_string_equal(ta.recs[FACTS_MAX_TXT - 1], "record 15");
	txt_answer_free(&ta);
}

/* Every cut of a good answer is a malformed answer, said as such, with nothing kept. */
static void test_truncated_packets(void **state)
{
	struct pkt p;
	struct txt_answer ta;
	struct mx_answer ma;
	struct addr_answer aa;

	(void)state;
	pkt_start(&p, STS, T_TXT, 1);
	txt_rr(&p, STS, "v=STSv1; ", "id=1", NULL);
	for (size_t cut = 0; cut < p.len; cut++) {
		assert_int_equal(dns_answer_txt(p.b, (int)cut, &ta), DNS_ERROR);
		assert_int_equal(ta.n, 0);
		assert_non_null(strstr(ta.detail, "malformed TXT answer: "));
	}
	pkt_start(&p, "example.org", T_MX, 1);
	mx_rr(&p, "example.org", 10, "mx.example.org");
	for (size_t cut = 0; cut < p.len; cut++) {
		assert_int_equal(dns_answer_mx(p.b, (int)cut, &ma), DNS_ERROR);
		assert_int_equal(ma.n, 0);
		assert_non_null(strstr(ma.detail, "malformed MX answer: "));
	}
	pkt_start(&p, "mx.example.org", T_A, 1);
	a_rr(&p, "mx.example.org", 1);
	for (size_t cut = 0; cut < p.len; cut++) {
		memset(&aa, 0, sizeof(aa));
		assert_int_equal(dns_answer_addr(AF_INET, p.b, (int)cut, &aa), DNS_ERROR);
		assert_int_equal(aa.rc4, DNS_ERROR);
		assert_int_equal(aa.n, 0);
		assert_non_null(strstr(aa.detail, "A: malformed A answer: "));
	}
}

/* A record whose RDLENGTH runs past the end of the message. */
static void test_rdlength_past_end(void **state)
{
	struct pkt p;
	struct txt_answer ta;

	(void)state;
	pkt_start(&p, STS, T_TXT, 1);
	txt_rr(&p, STS, "v=STSv1; id=1", NULL);
	p.b[p.rdlen_at + 1] += 10;
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_ERROR);
	assert_int_equal(ta.n, 0);
	/* and a string whose length byte runs past its record */
	pkt_start(&p, STS, T_TXT, 1);
	rr_start(&p, STS, T_TXT);
	put_bytes(&p, "\x09" "v=STS", 6);
	rr_end(&p);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_ERROR);
	assert_int_equal(ta.n, 0);
}

/* Names are lower-cased without the root dot, duplicates dropped, sorted by preference. */
static void test_mx_dedupe_sort(void **state)
{
	struct pkt p;
	struct mx_answer ma;

	(void)state;
	pkt_start(&p, "example.org", T_MX, 5);
	mx_rr(&p, "example.org", 20, "MX2.Example.ORG");
	mx_rr(&p, "example.org", 10, "mx1.example.org");
	mx_rr(&p, "example.org", 20, "mx2.example.org");
	mx_rr(&p, "example.org", 10, "mx0.example.org");
	mx_rr(&p, "example.org", 10, "MX1.EXAMPLE.ORG");
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_OK);
	assert_int_equal(ma.n, 3);
	assert_false(ma.truncated);
	assert_string_equal(ma.v[0].host, "mx0.example.org");
	assert_int_equal(ma.v[0].preference, 10);
	assert_string_equal(ma.v[1].host, "mx1.example.org");
	assert_int_equal(ma.v[1].preference, 10);
	assert_string_equal(ma.v[2].host, "mx2.example.org");
	assert_int_equal(ma.v[2].preference, 20);
}

/* RFC 7505: the null MX "0 ." is one record with an empty host. */
static void test_mx_null(void **state)
{
	struct pkt p;
	struct mx_answer ma;

	(void)state;
	pkt_start(&p, "example.org", T_MX, 1);
	mx_rr(&p, "example.org", 0, ".");
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_OK);
	assert_int_equal(ma.n, 1);
	assert_string_equal(ma.v[0].host, "");
	assert_int_equal(ma.v[0].preference, 0);
	pkt_start(&p, "example.org", T_MX, 0);
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_NODATA);
	assert_int_equal(ma.n, 0);
}

static void test_mx_cap(void **state)
{
	struct pkt p;
	struct mx_answer ma;
	char host[64];

	(void)state;
	pkt_start(&p, "example.org", T_MX, FACTS_MAX_MX + 2);
	for (int i = 0; i < FACTS_MAX_MX + 2; i++) {
		snprintf(host, sizeof(host), "mx%02d.example.org", i);
		mx_rr(&p, "example.org", (unsigned)(100 - i), host);
	}
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_OK);
	assert_int_equal(ma.n, FACTS_MAX_MX);
	assert_true(ma.truncated);
	for (size_t i = 1; i < ma.n; i++)
		assert_true(ma.v[i - 1].preference < ma.v[i].preference);
}

/* A then AAAA into one answer; more than FACTS_MAX_ADDRS of a family sets truncated. */
static void test_addrs(void **state)
{
	struct pkt p;
	struct addr_answer aa;

	(void)state;
	memset(&aa, 0, sizeof(aa));
	pkt_start(&p, "mx.example.org", T_A, FACTS_MAX_ADDRS + 1);
	for (unsigned i = 0; i <= FACTS_MAX_ADDRS; i++)
		a_rr(&p, "mx.example.org", i + 1);
	assert_int_equal(dns_answer_addr(AF_INET, p.b, (int)p.len, &aa), DNS_OK);
	assert_int_equal(aa.rc4, DNS_OK);
	assert_int_equal(aa.n, FACTS_MAX_ADDRS);
	assert_true(aa.truncated);
	assert_string_equal(aa.v[0].ip, "192.0.2.1");
	assert_int_equal(aa.v[0].family, AF_INET);
	pkt_start(&p, "mx.example.org", T_AAAA, 2);
	aaaa_rr(&p, "mx.example.org", 1);
	aaaa_rr(&p, "mx.example.org", 2);
	assert_int_equal(dns_answer_addr(AF_INET6, p.b, (int)p.len, &aa), DNS_OK);
	assert_int_equal(aa.rc6, DNS_OK);
	assert_int_equal(aa.n, FACTS_MAX_ADDRS + 2);
	assert_string_equal(aa.v[FACTS_MAX_ADDRS + 1].ip, "2001:db8::2");
	assert_int_equal(aa.v[FACTS_MAX_ADDRS + 1].family, AF_INET6);
	/* no AAAA at all */
	memset(&aa, 0, sizeof(aa));
	pkt_start(&p, "mx.example.org", T_AAAA, 0);
	assert_int_equal(dns_answer_addr(AF_INET6, p.b, (int)p.len, &aa), DNS_NODATA);
	assert_int_equal(aa.n, 0);
	assert_string_equal(aa.detail, "");
}

/* The answer never outgrows its array, however often it is filled. */
static void test_addrs_full(void **state)
{
	struct pkt p;
	struct addr_answer aa;

	(void)state;
	memset(&aa, 0, sizeof(aa));
	pkt_start(&p, "mx.example.org", T_A, FACTS_MAX_ADDRS);
	for (unsigned i = 0; i < FACTS_MAX_ADDRS; i++)
		a_rr(&p, "mx.example.org", i + 1);
	for (int round = 0; round < 3; round++)
		dns_answer_addr(AF_INET, p.b, (int)p.len, &aa);
	assert_int_equal(aa.n, 2 * FACTS_MAX_ADDRS);
	assert_true(aa.truncated);
}

/*
 * issue 11: a valid 3,031-byte record was CRITICAL ("this tool reads at most 2048"). A TXT
 * record's data holds up to 65535 bytes (in strings of 255), and it is read whole.
 */
static void test_txt_long_record(void **state)
{
	static struct pkt p;
	struct txt_answer ta;
	char chunk[256], want[3100];
	size_t len = 0;

	(void)state;
	pkt_start(&p, STS, T_TXT, 1);
	rr_start(&p, STS, T_TXT);
	for (int i = 0; len < 3031; i++) {
		size_t n = 3031 - len > 250 ? 250 : 3031 - len;

		memset(chunk, 'a' + i % 26, n);
		if (i == 0)
			memcpy(chunk, "v=STSv1; id=1; x=", 17);
		put8(&p, (unsigned)n);
		put_bytes(&p, chunk, n);
		memcpy(want + len, chunk, n);
		len += n;
	}
	rr_end(&p);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.n, 1);
	assert_int_equal(ta.lens[0], 3031);
	assert_memory_equal(ta.recs[0], want, 3031);
	assert_false(ta.truncated);
	txt_answer_free(&ta);

	/* as long as a DNS message (65535 bytes, over TCP) can carry: still read whole */
	pkt_start(&p, STS, T_TXT, 1);
	rr_start(&p, STS, T_TXT);
	memset(chunk, 'x', 255);
	len = 0;
	while (p.len + 256 <= sizeof(p.b)) {
		put8(&p, 255);
		put_bytes(&p, chunk, 255);
		len += 255;
	}
	rr_end(&p);
	assert_true(len > 65000);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_int_equal(ta.lens[0], len);
	assert_false(ta.truncated);
	txt_answer_free(&ta);
}

/*
 * issue 11: a CNAME loop at _mta-sts came out as NODATA (sts.txt.missing, mx.none). The
 * answer is the chain and no record of the type: a CNAME loop, with the chain as detail.
 */
static void test_cname_loop(void **state)
{
	struct pkt p;
	struct txt_answer ta;
	struct mx_answer ma;
	struct addr_answer aa;

	(void)state;
	pkt_start(&p, STS, T_TXT, 2);
	cname_rr(&p, STS, "a.example.org");
	cname_rr(&p, "a.example.org", STS);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_CNAME_LOOP);
	assert_int_equal(ta.n, 0);
	assert_string_equal(ta.detail, "CNAME loop: _mta-sts.example.org -> a.example.org -> "
			    "_mta-sts.example.org");
	assert_false(dns_result_definite(ta.rc));

	/* a loop further down the chain, and upper case that is the same name */
	pkt_start(&p, "example.org", T_MX, 3);
	cname_rr(&p, "example.org", "b.example.org");
	cname_rr(&p, "b.example.org", "c.example.org");
	cname_rr(&p, "C.Example.ORG", "b.example.org");
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_CNAME_LOOP);
	assert_non_null(strstr(ma.detail, "example.org -> b.example.org -> c.example.org -> "
			       "b.example.org"));

	memset(&aa, 0, sizeof(aa));
	pkt_start(&p, "mx.example.org", T_A, 1);
	cname_rr(&p, "mx.example.org", "mx.example.org");
	assert_int_equal(dns_answer_addr(AF_INET, p.b, (int)p.len, &aa), DNS_CNAME_LOOP);
	assert_int_equal(aa.rc4, DNS_CNAME_LOOP);
	assert_non_null(strstr(aa.detail, "A: CNAME loop: mx.example.org -> mx.example.org"));

	/* a chain that ends at a name without the type is NODATA, as before */
	pkt_start(&p, STS, T_TXT, 2);
	cname_rr(&p, STS, "a.example.org");
	cname_rr(&p, "a.example.org", "b.example.org");
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_NODATA);
	/* and a chain that ends at the record is the record */
	pkt_start(&p, STS, T_TXT, 2);
	cname_rr(&p, STS, "a.example.org");
	txt_rr(&p, "a.example.org", "v=STSv1; id=1", NULL);
	assert_int_equal(dns_answer_txt(p.b, (int)p.len, &ta), DNS_OK);
	assert_string_equal(ta.recs[0], "v=STSv1; id=1");
	txt_answer_free(&ta);
}

/* issue 11: "16 of 16 MX hosts valid" with 200 MX hosts: every host counted, the first
 * 16 by preference kept (not the first 16 of the packet). */
static void test_mx_total(void **state)
{
	static struct pkt p;
	struct mx_answer ma;
	char host[64];

	(void)state;
	pkt_start(&p, "example.org", T_MX, 201);
	for (int i = 0; i < 200; i++) {
		snprintf(host, sizeof(host), "mx%03d.example.org", i);
		mx_rr(&p, "example.org", (unsigned)(1000 - i), host);
	}
	mx_rr(&p, "example.org", 5, "MX100.example.org");	/* a duplicate, lower preference */
	assert_int_equal(dns_answer_mx(p.b, (int)p.len, &ma), DNS_OK);
	assert_int_equal(ma.n_total, 200);
	assert_int_equal(ma.n, FACTS_MAX_MX);
	assert_true(ma.truncated);
	assert_string_equal(ma.v[0].host, "mx100.example.org");
	assert_int_equal(ma.v[0].preference, 5);
	assert_string_equal(ma.v[1].host, "mx199.example.org");
	assert_int_equal(ma.v[1].preference, 801);
	for (size_t i = 2; i < ma.n; i++)
		assert_true(ma.v[i - 1].preference < ma.v[i].preference);
}

static void test_status(void **state)
{
	char detail[128] = "";

	(void)state;
	assert_int_equal(dns_answer_status(ARES_SUCCESS, detail, sizeof(detail)), DNS_OK);
	assert_int_equal(dns_answer_status(ARES_ESERVFAIL, detail, sizeof(detail)),
			 DNS_SERVFAIL);
	assert_string_equal(detail, "the resolver answered SERVFAIL");
	assert_int_equal(dns_answer_status(ARES_ECONNREFUSED, detail, sizeof(detail)), DNS_ERROR);
	assert_non_null(strstr(detail, "could be reached"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_strings_joined),
		cmocka_unit_test(test_txt_two_records),
		cmocka_unit_test(test_txt_empty_and_nul),
		cmocka_unit_test(test_txt_nodata),
		cmocka_unit_test(test_txt_cap),
		cmocka_unit_test(test_truncated_packets),
		cmocka_unit_test(test_rdlength_past_end),
		cmocka_unit_test(test_mx_dedupe_sort),
		cmocka_unit_test(test_mx_null),
		cmocka_unit_test(test_mx_cap),
		cmocka_unit_test(test_addrs),
		cmocka_unit_test(test_addrs_full),
		cmocka_unit_test(test_txt_long_record),
		cmocka_unit_test(test_cname_loop),
		cmocka_unit_test(test_mx_total),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
