/* inorder: stream a list of domains into a sweep and take the results back in list order. */
#ifndef STSWATCH_INORDER_H
#define STSWATCH_INORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "sweep.h"

/*
 * The name of domain idx of the list, asked for once, in order, when it is added to the
 * sweep; NULL ends the list there (a list read as it goes, of a length not known).
 */
typedef const char *(*inorder_name_fn)(void *arg, size_t idx);
/*
 * Domain idx is done, called in list order; the callee may take what df owns. Return
 * false to stop: the sweep is shut down and nothing more is called.
 */
typedef bool (*inorder_result_fn)(void *arg, size_t idx, struct domain_facts *df);

/*
 * Check the n domains of a list on sw (SIZE_MAX: until name gives NULL), running lp until
 * each was handed to fn in order or fn said stop. At most window domains are added and
 * not yet handed back (a reorder buffer of that size; 0: four times the sweep's
 * concurrency), so memory follows the window, not the list. 0, or -1 when the loop
 * failed.
 */
int inorder_run(struct loop *lp, struct sweep *sw, size_t n, inorder_name_fn name,
		inorder_result_fn fn, void *arg, size_t window);

#endif
