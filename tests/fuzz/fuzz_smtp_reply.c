/* Fuzz the SMTP reply parser: whatever a server sends, the parser answers 1, 0 or -1. */
#include <stdint.h>
#include <string.h>

#include "checks/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	char msg[160];
	int rc = smtp_reply_parse((const char *)data, size, &r, msg, sizeof(msg));

	if (rc == 1) {
		/* a complete reply: a valid code, consumed bytes within the input */
		if (r.code < 200 || r.code > 599 || r.used == 0 || r.used > size || !r.nlines)
			__builtin_trap();
		if (strlen(r.first) >= sizeof(r.first))
			__builtin_trap();
	} else if (rc == -1) {
		if (!msg[0])
			__builtin_trap();
	} else if (rc != 0) {
		__builtin_trap();
	}
	return 0;
}
