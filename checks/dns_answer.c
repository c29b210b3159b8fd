/* dns_answer: a raw DNS answer (TXT, MX, A, AAAA) read into facts. Pure: no I/O, no clock. */
#include "dns_answer.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


#define TXT_RECORD_MAX 65535	/* a DNS message cannot carry more */

enum dns_result dns_answer_status(int ares_status, char *detail, size_t len)
{
	switch (ares_status) {
	case ARES_SUCCESS:
		return DNS_OK;
	case ARES_ENODATA:
		return DNS_NODATA;
	case ARES_ENOTFOUND:
		return DNS_NXDOMAIN;
	case ARES_ESERVFAIL:
		bsnprintf(detail, len, "the resolver answered SERVFAIL");
		return DNS_SERVFAIL;
	case ARES_EREFUSED:
		bsnprintf(detail, len, "the resolver refused the query");
		return DNS_REFUSED;
	case ARES_ETIMEOUT:
		bsnprintf(detail, len, "no answer from the resolver before the timeout");
		return DNS_TIMEOUT;
	case ARES_ECONNREFUSED:
		/* with NOCHECKRESP only a socket error gets here: no resolver took the query */
		bsnprintf(detail, len, "no resolver could be reached: connection refused or a "
			  "socket error");
		return DNS_ERROR;
	default:
		bsnprintf(detail, len, "%s", ares_strerror(ares_status));
		return DNS_ERROR;
	}
}

/* A parse error: its dns_result, and the words of a malformed answer saying which type. */
static enum dns_result parse_failed(int ares_status, const char *type, char *detail, size_t len)
{
	enum dns_result rc = dns_answer_status(ares_status, detail, len);

	if (rc == DNS_ERROR)
		bsnprintf(detail, len, "malformed %s answer: %s", type, ares_strerror(ares_status));
	return rc;
}

static void txt_push(struct txt_answer *ta, struct dynbuf *sb)
{
	if (ta->n < FACTS_MAX_TXT) {
		ta->lens[ta->n] = sb->len;
		ta->recs[ta->n++] = dynbuf_steal(sb);
	} else {
		ta->truncated = true;
		dynbuf_reset(sb);
	}
}

enum dns_result dns_answer_txt(const unsigned char *abuf, int alen, struct txt_answer *out)
{
	struct ares_txt_ext *head = NULL;
	struct dynbuf sb;
	bool open = false;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ares_parse_txt_reply_ext(abuf, alen, &head);
	if (rc != ARES_SUCCESS)
		return out->rc = parse_failed(rc, "TXT", out->detail, sizeof(out->detail));
	/* RFC 8461 3.1: the strings of one record are joined without separator. */
	dynbuf_init(&sb, TXT_RECORD_MAX);
	for (struct ares_txt_ext *t = head; t; t = t->next) {
		if (t->record_start || !open) {
			if (open)
				txt_push(out, &sb);
			dynbuf_append(&sb, "", 0);
			open = true;
		}
		if (dynbuf_append(&sb, t->txt, t->length) < 0)
			out->truncated = true;
	}
	if (open)
		txt_push(out, &sb);
	dynbuf_free(&sb);
	ares_free_data(head);
	return out->rc = out->n ? DNS_OK : DNS_NODATA;
}

static void host_from_dns(char *dst, size_t len, const char *src)
{
	size_t n;

	printable_copy(dst, len, src, strlen(src));
	ascii_lower(dst);
	n = strlen(dst);
	if (n && dst[n - 1] == '.')
		dst[n - 1] = '\0';
}

static int mx_cmp(const void *pa, const void *pb)
{
	const struct mx_record *a = pa, *b = pb;

	if (a->preference != b->preference)
		return a->preference - b->preference;
	return strcmp(a->host, b->host);
}

enum dns_result dns_answer_mx(const unsigned char *abuf, int alen, struct mx_answer *out)
{
	struct ares_mx_reply *head = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ares_parse_mx_reply(abuf, alen, &head);
	if (rc != ARES_SUCCESS)
		return out->rc = parse_failed(rc, "MX", out->detail, sizeof(out->detail));
	for (struct ares_mx_reply *m = head; m; m = m->next) {
		bool dup = false;
		char host[HOST_LEN];

		host_from_dns(host, sizeof(host), m->host ? m->host : "");
		for (size_t i = 0; i < out->n; i++)
			dup |= strcmp(out->v[i].host, host) == 0;
		if (dup)
			continue;
		if (out->n == FACTS_MAX_MX) {
			out->truncated = true;
			continue;
		}
		strlcpy_s(out->v[out->n].host, host, sizeof(out->v[out->n].host));
		out->v[out->n++].preference = m->priority;
	}
	ares_free_data(head);
	qsort(out->v, out->n, sizeof(out->v[0]), mx_cmp);
	return out->rc = out->n ? DNS_OK : DNS_NODATA;
}

/* Append one address while the answer has room; 1 when it was kept. */
static int addr_push(struct addr_answer *out, int family, const void *ip, int kept)
{
	if (kept >= FACTS_MAX_ADDRS || out->n >= ARRAY_LEN(out->v))
		return 0;
	out->v[out->n].family = family;
	inet_ntop(family, ip, out->v[out->n++].ip, IP_STR_LEN);
	return 1;
}

enum dns_result dns_answer_addr(int family, const unsigned char *abuf, int alen,
				struct addr_answer *out)
{
	enum dns_result *rcp = family == AF_INET ? &out->rc4 : &out->rc6;
	const char *type = family == AF_INET ? "A" : "AAAA";
	int rc, n = FACTS_MAX_ADDRS + 1, kept = 0;

	/* n in: room for one more than is kept, so that more can be told; n out: found */
	if (family == AF_INET) {
		struct ares_addrttl t[FACTS_MAX_ADDRS + 1];

		rc = ares_parse_a_reply(abuf, alen, NULL, t, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
			kept += addr_push(out, family, &t[i].ipaddr, kept);
	} else {
		struct ares_addr6ttl t[FACTS_MAX_ADDRS + 1];

		rc = ares_parse_aaaa_reply(abuf, alen, NULL, t, &n);
		for (int i = 0; rc == ARES_SUCCESS && i < n; i++)
			kept += addr_push(out, family, &t[i].ip6addr, kept);
	}
	if (rc != ARES_SUCCESS) {
		char detail[128] = "";

		*rcp = parse_failed(rc, type, detail, sizeof(detail));
		if (detail[0] && !out->detail[0])
			bsnprintf(out->detail, sizeof(out->detail), "%s: %s", type, detail);
		return *rcp;
	}
	if (n > kept)
		out->truncated = true;
	return *rcp = kept ? DNS_OK : DNS_NODATA;
}
