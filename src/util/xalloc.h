/*
 * xalloc — allocation that never returns NULL.
 *
 * Every function here either succeeds or prints one line to stderr and exits
 * with status 71 (EX_OSERR).  Callers therefore never test for NULL.  Safe on
 * any thread.  Free functions elsewhere in simq take T ** and clear the
 * pointer; xfree() is the generic form of that.
 */
#ifndef SIMQ_UTIL_XALLOC_H
#define SIMQ_UTIL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Frees *pp and sets it to NULL; pp itself may not be NULL. */
void xfree_ptr(void **pp);
#define xfree(pp) xfree_ptr((void **)(pp))

#endif
