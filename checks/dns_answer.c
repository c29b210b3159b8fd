/* dns_answer: a raw DNS answer (TXT, MX, A, AAAA) read into facts. Pure: no I/O, no clock. */
#include "dns_answer.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


#define TXT_RECORD_MAX 65535	/* a TXT record's data cannot be longer (RDLENGTH is 16 bits) */
#define T_CNAME 5
#define CNAME_CHAIN_MAX 32	/* CNAME records of one answer looked at for a loop */

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

/* One name of a message, lower case, without the root dot; -1 when it cannot be read. */
static int read_name(const unsigned char *at, const unsigned char *abuf, int alen, char *out,
		     size_t outlen, long *used)
{
	char *name = NULL;
	size_t n;

	if (ares_expand_name(at, abuf, alen, &name, used) != ARES_SUCCESS)
		return -1;
	bsnprintf(out, outlen, "%s", name);
	ares_free_string(name);
	ascii_lower(out);
	n = strlen(out);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
	return 0;
}

struct cname {
	char from[HOST_LEN], to[HOST_LEN];
};

size_t dns_answer_cnames(const unsigned char *abuf, int alen, char (*names)[HOST_LEN],
			 size_t max, bool *looped)
{
	struct cname cn[CNAME_CHAIN_MAX];
	bool taken[CNAME_CHAIN_MAX] = { false };
	const unsigned char *p = abuf + 12, *end = abuf + alen;
	size_t n = 0, k = 0;
	unsigned qd, an;
	long used;

	*looped = false;
	if (alen < 12 || max == 0)
		return 0;
	qd = (unsigned)abuf[4] << 8 | abuf[5];
	an = (unsigned)abuf[6] << 8 | abuf[7];
	if (qd != 1 || read_name(p, abuf, alen, names[0], HOST_LEN, &used) < 0 ||
	    used + 4 > end - p)
		return 0;
	p += used + 4;
	for (unsigned i = 0; i < an && p < end; i++) {
		char owner[HOST_LEN];
		unsigned type, rdlen;

		if (read_name(p, abuf, alen, owner, sizeof(owner), &used) < 0 || used + 10 > end - p)
			return 0;
		p += used;
		type = (unsigned)p[0] << 8 | p[1];
		rdlen = (unsigned)p[8] << 8 | p[9];
		p += 10;
		if (rdlen > (size_t)(end - p))
			return 0;
		if (type == T_CNAME && k < CNAME_CHAIN_MAX) {
			strlcpy_s(cn[k].from, owner, sizeof(cn[k].from));
			if (read_name(p, abuf, alen, cn[k].to, sizeof(cn[k].to), &used) < 0)
				return 0;
			k++;
		}
		p += rdlen;
	}
	/* follow the links from the question; taking one a second time means it went round */
	for (n = 1; n < max;) {
		size_t i;

		for (i = 0; i < k && strcmp(cn[i].from, names[n - 1]) != 0; i++)
			;
		if (i == k)
			break;
		if (taken[i]) {
			*looped = true;
			break;
		}
		taken[i] = true;
		strlcpy_s(names[n++], cn[i].to, HOST_LEN);
	}
	return n;
}

/* The chain as words: "CNAME loop: a -> b -> a". */
void dns_cname_chain_str(const char (*names)[HOST_LEN], size_t n, const char *what, char *buf,
			 size_t len)
{
	struct dynbuf sb;

	dynbuf_init(&sb, len ? len - 1 : 0);
	dynbuf_printf(&sb, "%s: ", what);
	for (size_t i = 0; i < n; i++)
		dynbuf_printf(&sb, "%s%s", i ? " -> " : "", names[i]);
	bsnprintf(buf, len, "%s", sb.buf ? sb.buf : what);
	dynbuf_free(&sb);
}

/* Does the answer hold a chain of CNAMEs that comes back to a name already in it? */
static bool cname_loop(const unsigned char *abuf, int alen, char *detail, size_t len)
{
	char names[CNAME_CHAIN_MAX + 2][HOST_LEN];
	bool looped;
	size_t n = dns_answer_cnames(abuf, alen, names, CNAME_CHAIN_MAX + 1, &looped);

	if (!looped)
		return false;
	/* names ends with the one it came back to: "a -> b -> a" */
	dns_cname_chain_str((const char (*)[HOST_LEN])names, n, "CNAME loop", detail, len);
	return true;
}

/* A parse error: its dns_result, and the words of a malformed answer saying which type. */
static enum dns_result parse_failed(int ares_status, const char *type, char *detail, size_t len)
{
	enum dns_result rc = dns_answer_status(ares_status, detail, len);

	if (rc == DNS_ERROR)
		bsnprintf(detail, len, "malformed %s answer: %s", type, ares_strerror(ares_status));
	return rc;
}

/* No record of the type: NODATA, or a CNAME loop when the answer holds one. */
static enum dns_result no_records(int ares_status, const unsigned char *abuf, int alen,
				  const char *type, char *detail, size_t len)
{
	if (ares_status == ARES_ENODATA && cname_loop(abuf, alen, detail, len))
		return DNS_CNAME_LOOP;
	return parse_failed(ares_status, type, detail, len);
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
		return out->rc = no_records(rc, abuf, alen, "TXT", out->detail, sizeof(out->detail));
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
	if (!out->n)
		return out->rc = no_records(ARES_ENODATA, abuf, alen, "TXT", out->detail,
					    sizeof(out->detail));
	return out->rc = DNS_OK;
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

/* By host, then preference: duplicates of a host side by side, the lowest first. */
static int mx_host_cmp(const void *pa, const void *pb)
{
	const struct mx_record *a = pa, *b = pb;
	int c = strcmp(a->host, b->host);

	return c ? c : a->preference - b->preference;
}

enum dns_result dns_answer_mx(const unsigned char *abuf, int alen, struct mx_answer *out)
{
	struct ares_mx_reply *head = NULL;
	struct mx_record *all = NULL;
	size_t n = 0, cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ares_parse_mx_reply(abuf, alen, &head);
	if (rc != ARES_SUCCESS)
		return out->rc = no_records(rc, abuf, alen, "MX", out->detail, sizeof(out->detail));
	/* all of them first: the ones probed are the first by preference, not by position */
	for (struct ares_mx_reply *m = head; m; m = m->next) {
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			all = xrealloc(all, cap * sizeof(*all));
		}
		host_from_dns(all[n].host, sizeof(all[n].host), m->host ? m->host : "");
		all[n++].preference = m->priority;
	}
	ares_free_data(head);
	/* the same host under two preferences is one host, at the lower one */
	if (n)
		qsort(all, n, sizeof(*all), mx_host_cmp);
	for (size_t i = 0; i < n; i++)
		if (!out->n_total || strcmp(all[out->n_total - 1].host, all[i].host) != 0)
			all[out->n_total++] = all[i];
	if (out->n_total)
		qsort(all, out->n_total, sizeof(*all), mx_cmp);
	out->n = out->n_total < FACTS_MAX_MX ? out->n_total : FACTS_MAX_MX;
	out->truncated = out->n_total > out->n;
	if (out->n)
		memcpy(out->v, all, out->n * sizeof(*all));
	free(all);
	if (!out->n)
		return out->rc = no_records(ARES_ENODATA, abuf, alen, "MX", out->detail,
					    sizeof(out->detail));
	return out->rc = DNS_OK;
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
	if (rc == ARES_SUCCESS && n == 0)
		rc = ARES_ENODATA;
	if (rc != ARES_SUCCESS) {
		char detail[128] = "";

		*rcp = no_records(rc, abuf, alen, type, detail, sizeof(detail));
		if (detail[0] && !out->detail[0])
			bsnprintf(out->detail, sizeof(out->detail), "%s: %s", type, detail);
		return *rcp;
	}
	if (n > kept)
		out->truncated = true;
	return *rcp = kept ? DNS_OK : DNS_NODATA;
}
