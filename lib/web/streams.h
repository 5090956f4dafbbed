/* streams: the list of every live stream, and the thread that pings
 * them. Private to lib/web. */
#ifndef PANIC_WEB_STREAMS_H
#define PANIC_WEB_STREAMS_H

#include <stdint.h>

struct web_streams;
struct web_stream;

struct web_streams *streams_new(int64_t ping_ms);
void streams_add(struct web_streams *a, struct web_stream *s);
void streams_remove(struct web_streams *a, struct web_stream *s);
/* Ends the pings (before the daemon stops). */
void streams_stop(struct web_streams *a);
void streams_free(struct web_streams *a);

#endif
