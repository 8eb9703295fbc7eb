/* Growable byte buffer with a hard size cap (curl's dynbuf, git's strbuf).
 *
 * Invariants: data is NULL or NUL-terminated at data[len]; len < cap; len never exceeds max.
 * An append that would pass max fails with EMB_ETOOBIG and leaves the buffer unchanged, which
 * is how request bodies and responses are bounded (413). Memory is owned by the buf_t and
 * freed by buf_release(); buf_detach() is the only way to take it.
 */
#ifndef EMBER_BASE_BUF_H
#define EMBER_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited */
} buf_t;

#define BUF_INIT { NULL, 0, 0, 0 }

/* Initialises an empty buffer capped at max bytes (0 = no cap). Allocates nothing. */
void buf_init(buf_t *b, size_t max);
/* Frees the contents; the buffer is empty and reusable afterwards. Double release is a no-op. */
void buf_release(buf_t *b);
/* Empties the buffer, keeping its capacity. */
void buf_reset(buf_t *b);
/* Ensures room for n more bytes and returns a pointer to the writable tail (valid until the
 * next append); follow with buf_setlen. Returns NULL past max. */
char *buf_reserve(buf_t *b, size_t n) __attribute__((warn_unused_result));
/* Sets len after writing into the tail returned by buf_reserve. */
void buf_setlen(buf_t *b, size_t len);
int buf_append(buf_t *b, const void *p, size_t n) __attribute__((warn_unused_result));
int buf_puts(buf_t *b, const char *s) __attribute__((warn_unused_result));
int buf_putc(buf_t *b, char c) __attribute__((warn_unused_result));
int buf_printf(buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0), warn_unused_result));
/* Appends a JSON string literal (quotes included) with escapes; invalid UTF-8 bytes become
 * U+FFFD so the output is always valid JSON. */
int buf_json_str(buf_t *b, const char *s, size_t n) __attribute__((warn_unused_result));
/* Returns the data (owned by the caller, free()) and leaves the buffer empty. Never NULL. */
char *buf_detach(buf_t *b, size_t *out_len);

#endif
