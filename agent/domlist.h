/* domlist: a file of domain names, one per line, read as the sweep has room for them. */
#ifndef STSWATCH_DOMLIST_H
#define STSWATCH_DOMLIST_H

#include <stdbool.h>
#include <stddef.h>

#define DOMLIST_LINE_MAX 1024	/* bytes of one line, newline included */

struct domlist;

/*
 * Open path ("-": standard input) for reading, one name per line; '#' starts a comment,
 * blank lines are skipped. NULL with err when it cannot be opened.
 */
struct domlist *domlist_open(const char *path, char *err, size_t errlen);
/*
 * Read a regular file through once and go back to its start, so that a bad line stops
 * the command before anything is checked: -1 with err (file, line and reason) at the
 * first bad line, else 1 and *count the domains in it. A stream that cannot be read
 * twice (stdin, a pipe) is not read: 0, *count 0, and a bad line ends domlist_next.
 */
int domlist_validate(struct domlist *dl, size_t *count, char *err, size_t errlen);
/*
 * The next domain, lower case without the root dot, valid until the next call; NULL at
 * the end of the file or at a bad line, which domlist_error then says.
 */
const char *domlist_next(struct domlist *dl);
/*
 * Why the list ended early ("FILE:LINE: a NUL byte in the line"): never the content of
 * the line, which may be a file that is not a domain list at all. NULL at a clean end.
 */
const char *domlist_error(const struct domlist *dl);
/* Close the file (not stdin) and free. NULL is fine. */
void domlist_close(struct domlist *dl);

#endif
