/* curlm: libcurl's multi interface on the event loop, shared by every HTTP(S) or SMTP client. */
#ifndef STSWATCH_CURLM_H
#define STSWATCH_CURLM_H

#include <curl/curl.h>
#include <stddef.h>

#include "loop.h"

struct curlm;

/*
 * A transfer ended with rc. The handle is already out of the multi: the callee may read
 * its info, clean it up, set it up again or add it anew. Called from the loop only.
 */
typedef void (*curlm_done_fn)(void *arg, CURL *easy, CURLcode rc);

/* A multi handle driven by lp (socket and timer callbacks). NULL with err on failure. */
struct curlm *curlm_new(struct loop *lp, char *err, size_t errlen);
/*
 * Take every transfer out (no callbacks) and free the multi. The easy handles stay the
 * callers'; never call from a done callback.
 */
void curlm_free(struct curlm *cm);
/*
 * Run easy on the loop and call fn(arg, easy, rc) once when it ends. curlm owns the
 * handle's CURLOPT_PRIVATE while it runs. 0, or -1 when libcurl refuses the handle.
 */
int curlm_add(struct curlm *cm, CURL *easy, curlm_done_fn fn, void *arg);
/* Stop a transfer that has not ended; its callback is not called. Unknown handles are ignored. */
void curlm_cancel(struct curlm *cm, CURL *easy);
/* Transfers running. */
unsigned curlm_running(const struct curlm *cm);

#endif
