/* smtp_reply: parse one SMTP reply (RFC 5321 4.2) and the EHLO keywords; pure. */
#ifndef STSWATCH_SMTP_REPLY_H
#define STSWATCH_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_LINE_MAX 2048	/* RFC 5321 says 512; real servers send longer EHLO lines */
#define SMTP_REPLY_MAX 16384	/* one multi-line reply */
#define SMTP_REPLY_LINES 100

struct smtp_reply {
	int code;
	unsigned nlines;
	bool starttls;		/* an EHLO line says STARTTLS (RFC 3207) */
	char first[256];	/* first line's text, printable */
	size_t used;		/* bytes of the input that belonged to this reply */
};

/*
 * Feed the bytes received so far: returns 1 when a complete reply is in r, 0 when more is
 * needed, -1 on a protocol error (msg says which, in words).
 */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char *msg,
		     size_t msglen);

#endif
