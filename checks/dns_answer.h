/* dns_answer: a raw DNS answer (TXT, MX, A, AAAA) read into facts. Pure: no I/O, no clock. */
#ifndef STSWATCH_DNS_ANSWER_H
#define STSWATCH_DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

struct mx_record {
	char host[HOST_LEN];	/* lower case, trailing dot removed; "" for a null MX */
	int preference;
};

struct mx_answer {
	enum dns_result rc;
	char detail[128];
	size_t n;
	struct mx_record v[FACTS_MAX_MX];
	size_t n_total;		/* distinct hosts in the answer; n of them are kept */
	bool truncated;		/* more MX hosts than FACTS_MAX_MX */
};

#define DNS_CNAME_HOPS 8	/* CNAME targets asked for, at most, when an answer stops short */

/*
 * The CNAME chain an answer follows from its question's name: names[0] is the question,
 * then each target in turn, up to max names. It stops at a name the answer holds no CNAME
 * for (the last name: where the records are, or should be), or when a link would be taken
 * a second time (*looped; the last name is then the one it came back to). Returns how
 * many names, 0 when the packet cannot be read. Pure.
 */
size_t dns_answer_cnames(const unsigned char *abuf, int alen, char (*names)[HOST_LEN],
			 size_t max, bool *looped);
/* "WHAT: a -> b -> c" into buf. */
void dns_cname_chain_str(const char (*names)[HOST_LEN], size_t n, const char *what, char *buf,
			 size_t len);

/* The dns_result of a c-ares status; for an error, the resolver's words go to detail. */
enum dns_result dns_answer_status(int ares_status, char *detail, size_t len);

/*
 * The TXT records of an answer of alen bytes into out (overwritten; free it with
 * txt_answer_free). The strings of one record are joined without separator, at most
 * FACTS_MAX_TXT records are kept (truncated beyond). Returns out->rc: DNS_OK with n > 0,
 * DNS_NODATA with n == 0, or an error (a malformed packet is DNS_ERROR) with detail.
 */
enum dns_result dns_answer_txt(const unsigned char *abuf, int alen, struct txt_answer *out);
/*
 * The MX records into out (overwritten): names lower-cased without the trailing dot,
 * duplicate names dropped (the lowest preference kept), sorted by preference then name,
 * the first FACTS_MAX_MX of them kept and all of them counted in n_total. Returns
 * out->rc: DNS_OK with n > 0, DNS_NODATA, or an error with detail.
 *
 * For each type, an answer that holds no record of it but a chain of CNAMEs that comes
 * back to a name already in it is DNS_CNAME_LOOP, with the chain in detail.
 */
enum dns_result dns_answer_mx(const unsigned char *abuf, int alen, struct mx_answer *out);
/*
 * The addresses of an A (family AF_INET) or AAAA (AF_INET6) answer, appended to out->v
 * (at most FACTS_MAX_ADDRS per call, truncated beyond). Sets and returns out->rc4 or
 * out->rc6: DNS_OK when an address was added; an error's words go to out->detail when
 * it is still empty.
 */
enum dns_result dns_answer_addr(int family, const unsigned char *abuf, int alen,
				struct addr_answer *out);

#endif
