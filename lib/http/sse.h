/* sse: a text/event-stream (server-sent events) cut into events.
 *
 * Bytes go in as they arrive, in pieces of any size; each event's data
 * lines ("data: ...", joined with "\n") come out, one call of the
 * callback per event, with the event's type ("event: ...", by default
 * "message"). Comment lines (":..."), the other fields (id:, retry:) and
 * CR before LF are dropped. OpenAI, Gemini and Replicate stream this way.
 */
#ifndef PANIC_SSE_H
#define PANIC_SSE_H

#include <jv.h>
#include <stddef.h>

/* Gets one event of TYPE with DATA (N bytes, NUL-terminated); returns -1
 * to stop. */
typedef int sse_event_fn(void *user, const char *type, const char *data, size_t n);

struct sse {
	char *line;
	size_t len, cap;
	jv data; /* the event's data so far, or invalid */
	char type[32];
};

void sse_init(struct sse *s);
/* Feeds N bytes at P. Returns 0, or -1 if FN stopped or memory ran out. */
int sse_feed(struct sse *s, const char *p, size_t n, sse_event_fn *fn, void *user);
/* The stream ended: a last line or event with no blank line after it. */
int sse_end(struct sse *s, sse_event_fn *fn, void *user);
void sse_free(struct sse *s);

#endif
