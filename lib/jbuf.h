/* jbuf.h: a growing JSON text buffer, for replies, events and journal
 * records built in one pass (no tree).
 *
 * A zeroed struct jbuf is empty and ready. Every append either succeeds
 * or sets `oom` (the first allocation failure); after that appends do
 * nothing, so a caller builds the whole text and checks `oom` once. The
 * text is always NUL-terminated when p is not NULL. The size is bounded
 * only by what the caller appends: callers bound their input.
 *
 * Nothing here prints or exits. */
#ifndef MLS_JBUF_H
#define MLS_JBUF_H

#include <stddef.h>

struct jbuf {
	char *p;       /* malloc'd text, NULL until the first append */
	size_t len, cap;
	int oom;       /* an allocation failed: the text is incomplete */
};

/* n bytes as they are (the caller makes them valid JSON) */
void jb_raw(struct jbuf *b, const char *s, size_t n);
void jb_puts(struct jbuf *b, const char *s);
void jb_printf(struct jbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* a JSON string, quoted and escaped; NULL gives null */
void jb_str(struct jbuf *b, const char *s);
/* n bytes as a JSON string; invalid UTF-8 becomes U+FFFD, control bytes
 * are escaped, so any bytes (a service's output) give valid JSON */
void jb_strn(struct jbuf *b, const char *s, size_t n);
/* The length (1-4) of the valid UTF-8 sequence at p[0..n), n > 0; 0 when
 * it is not one (overlong, a surrogate, past U+10FFFF, cut short) */
int jb_utf8_len(const unsigned char *p, size_t n);
/* free the text; b is empty again */
void jb_free(struct jbuf *b);

#endif
