/* smtp_reply: parse one SMTP reply (RFC 5321 4.2) and the EHLO keywords; pure. */
#include "smtp_reply.h"
#include "lib/str.h"

#include <string.h>
#include <strings.h>


int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char *msg, size_t msglen)
{
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll, textlen;
		int code;
		char sep;

		if (!nl) {
			if (len - pos > SMTP_LINE_MAX) {
				bsnprintf(msg, msglen, "reply line longer than %d bytes", SMTP_LINE_MAX);
				return -1;
			}
			return 0;
		}
		ll = (size_t)(nl - line);	/* without LF */
		if (ll > SMTP_LINE_MAX) {
			bsnprintf(msg, msglen, "reply line longer than %d bytes", SMTP_LINE_MAX);
			return -1;
		}
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9') {
			char shown[64];

			printable_copy(shown, sizeof(shown), line, ll < 40 ? ll : 40);
			bsnprintf(msg, msglen, "not an SMTP reply: \"%s\"", shown);
			return -1;
		}
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		sep = ll > 3 ? line[3] : ' ';
		if (sep != ' ' && sep != '-') {
			bsnprintf(msg, msglen, "reply code %d followed by '%c', not ' ' or '-'", code,
				  sep);
			return -1;
		}
		if (r->nlines && code != r->code) {
			bsnprintf(msg, msglen, "multi-line reply changes code from %d to %d", r->code,
				  code);
			return -1;
		}
		r->code = code;
		textlen = ll > 4 ? ll - 4 : 0;
		if (r->nlines == 0)
			printable_copy(r->first, sizeof(r->first), textlen ? line + 4 : "", textlen);
		/* RFC 3207: the EHLO keyword STARTTLS, alone on its line (case-insensitive) */
		if (textlen >= 8 && strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
		    (textlen == 8 || line[12] == ' '))
			r->starttls = true;
		if (++r->nlines > SMTP_REPLY_LINES) {
			bsnprintf(msg, msglen, "reply of more than %d lines", SMTP_REPLY_LINES);
			return -1;
		}
		pos = (size_t)(nl - buf) + 1;
		if (sep == ' ') {
			r->used = pos;
			return 1;
		}
	}
}
