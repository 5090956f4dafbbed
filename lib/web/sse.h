/* sse: live streams to browsers (Server-Sent Events), for any page
 * module: open one in a handler, send events to it from any thread.
 *
 * A stream is held by two: the connection (until the client goes away or
 * the server stops) and its owner (until web_stream_release()). When the
 * client goes away GONE(CTX) is called, on a server thread, once; after
 * that, sends fail. Each stream buffers what the client has not taken yet;
 * one that falls WEB_STREAM_MAX bytes behind is closed (its browser
 * reconnects and catches up). Every stream gets a comment line every
 * ping interval, which is also how a client gone quiet is found out.
 */
#ifndef PANIC_WEB_SSE_H
#define PANIC_WEB_SSE_H

#include <stddef.h>

#define WEB_STREAM_MAX (4 << 20)

struct web_req;
struct web_stream;
struct web_server;

/* Answers REQ with a text/event-stream; *OUT is the owner's hold. */
int web_stream_open(struct web_req *req, struct web_stream **out,
                    void (*gone)(void *ctx), void *ctx);
/* Queues an event: "id: ID" (if not NULL), "event: EVENT" (if not NULL)
 * and DATA (N bytes, one line) as "data: ...". 0, or -1 if the stream is
 * gone or fell too far behind (it is then closed). */
int web_stream_send(struct web_stream *s, const char *id, const char *event,
                    const char *data, size_t n);
/* The same, without waking the connection: a burst of events queued one
 * by one goes out with one web_stream_flush(). */
int web_stream_queue(struct web_stream *s, const char *id, const char *event,
                     const char *data, size_t n);
void web_stream_flush(struct web_stream *s);
/* Queues bytes as they are (several events already in SSE form). */
int web_stream_raw(struct web_stream *s, const char *text, size_t n);
/* Ends the owner's hold (the stream is closed if still open). */
void web_stream_release(struct web_stream *s);
/* Streams open now, for /api/status. */
long web_streams_open(struct web_server *srv);

#endif
