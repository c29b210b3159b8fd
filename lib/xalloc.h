/* xalloc: allocation that aborts on exhaustion, the one fatal run-time error. */
#ifndef STSWATCH_XALLOC_H
#define STSWATCH_XALLOC_H

#include <stddef.h>

#include "defs.h"

/* Allocate or abort with a message: running out of memory is the one fatal run-time error. */
void *xmalloc(size_t n);
/* Zeroed allocation of nmemb * size bytes, aborting on overflow or exhaustion. */
void *xcalloc(size_t nmemb, size_t size);
/* Resize or abort. */
void *xrealloc(void *p, size_t n);
/* Duplicate a string or abort; NULL stays NULL. */
char *xstrdup(const char *s);
/* Duplicate at most n bytes and terminate. */
char *xstrndup(const char *s, size_t n);
/* printf into a fresh allocation or abort. */
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
