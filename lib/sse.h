/* sse.h: Server-Sent Events framing (the text/event-stream format of the
 * HTML standard), for mls httpd's event and log streams.
 *
 * One event is: "id: N\n" (when id is not 0), "event: TYPE\n" (when type
 * is not NULL), one "data: LINE\n" per line of the data (split at "\r\n",
 * "\n" or "\r", as a client splits them, so any bytes frame safely and
 * come back joined by "\n"), then an empty line. A browser's EventSource
 * gets exactly `data` back (line ends normalised to "\n"), `type` as the
 * event name and `id` as lastEventId.
 *
 * Nothing here prints or exits. */
#ifndef MLS_SSE_H
#define MLS_SSE_H

#include <stddef.h>
#include <stdint.h>
#include "jbuf.h"

#define SSE_MAX_TYPE 64 /* bytes of an event type; longer is cut */

/* Appends one event to b. A type's bytes other than printable ASCII
 * (CR, LF, NUL, controls, non-ASCII) become '_' so they cannot end its
 * line; an empty type is left out. Check b->oom afterwards (jbuf.h). */
void sse_frame(struct jbuf *b, uint64_t id, const char *type, const char *data, size_t len);

/* A Last-Event-ID value (a header or ?last_event_id=): decimal digits
 * only, no sign or blank, at most UINT64_MAX. Returns 1 with *out, or 0
 * (NULL, empty, not a number, overflow). */
int sse_last_id(const char *s, uint64_t *out);

#endif
