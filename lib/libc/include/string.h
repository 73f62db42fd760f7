/* String and memory functions, with their C (and strlcpy's BSD) semantics. */
#ifndef _STRING_H
#define _STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
char *strerror(int code);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
/* Copies at most size - 1 bytes and terminates; returns strlen(src). */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);
char *strdup(const char *s);
char *strndup(const char *s, size_t n);
char *strtok_r(char *restrict s, const char *restrict sep,
	       char **restrict save);

#endif
