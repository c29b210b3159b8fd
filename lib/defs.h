/* defs: the few macros every module of stswatch uses. */
#ifndef STSWATCH_DEFS_H
#define STSWATCH_DEFS_H

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#endif
