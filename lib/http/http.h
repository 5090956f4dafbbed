/* http: HTTP requests on libcurl's multi interface (DESIGN.md §5).
 *
 * One multi handle per process keeps the connections alive between
 * requests and carries every request in flight. The engine polls its
 * sockets (http_fds) and moves it on (http_step); see platform.h.
 *
 * A request is retried, up to max_attempts, on 429, 5xx and on connection
 * errors, after an exponential backoff with jitter (base
 * $PANIC_HTTP_BACKOFF_MS, default 500 ms, capped at 30 s), or after the
 * server's Retry-After if that is longer. A request whose on_data took
 * bytes (a stream) is not retried: its consumer has seen them. A timeout is
 * not retried either, so a call ends within its timeout.
 *
 * Only http and https are spoken (url.h checks addresses). A request
 * follows no redirect unless it asks to (FOLLOW, for downloads that carry
 * no key): an API key goes only where it was sent. An answer, streamed or
 * not, is cut off past MAX_BODY bytes. DEADLINE bounds the whole request,
 * retries and their waits included.
 *
 * When the request ends, on_done runs with kind NULL (a 2xx answer) or
 * one of: timeout, rate_limited, http_4xx, http_5xx, connection, redirect
 * (a 3xx not followed), bad_response (too large), and msg saying what
 * happened. msg never holds a request header, and SECRET, if set, is
 * blanked out of it.
 */
#ifndef PANIC_HTTP_H
#define PANIC_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct curl_slist;

#define HTTP_HEADERS 8
#define HTTP_MAX_BODY ((size_t)64 << 20)

struct http_req {
	/* The request; the request owns url, header and body. */
	char *url;
	char *header[HTTP_HEADERS]; /* "Name: value", added by http_header() */
	int nheaders;
	char *body; /* NULL: GET, else POST */
	size_t bodylen;
	const char *method;     /* another method ("PUT", "DELETE"), or NULL */
	int timeout_ms;         /* per attempt; 0: 120 s */
	int64_t deadline;       /* monotonic ms for the whole request, or 0 */
	int max_attempts;       /* 0: 4 */
	int follow;             /* follow redirects (no key in the request) */
	size_t max_body;        /* the largest answer; 0: HTTP_MAX_BODY */
	const char *secret;     /* borrowed; never shown in msg */
	/* Streaming: gets the body as it arrives (2xx answers only) instead of
	 * resp; returns 0 to go on, -1 to abort (the request ends with kind
	 * "aborted" unless the callback set kind itself). */
	int (*on_data)(struct http_req *r, const char *p, size_t n);
	void (*on_done)(struct http_req *r);
	void *user;
	/* The answer. */
	long status;
	char *resp; /* the body, NUL-terminated */
	size_t resplen;
	char ctype[96]; /* Content-Type */
	const char *kind;
	char msg[300];
	int attempts;
	size_t delivered;
	/* The engine's. */
	struct curl_slist *headers;
	void *easy;
	int64_t retry_at;
	int64_t retry_after_ms;
	size_t respcap;
	struct http_req *next;
};

/* Starts R; on_done runs from a later http_step() (or at once if R could
 * not be started). R must stay put until then. */
void http_start(struct http_req *r);
/* Abandons R, if it is in flight or waiting for a retry, without calling
 * on_done, and frees what it owns. Safe on a request that has ended or
 * never started. */
void http_cancel(struct http_req *r);
/* Frees what R owns (url, headers, body, resp) once it is done. */
void http_free(struct http_req *r);
/* Starts R (malloc'd, filled as for http_start; on_done unused) and lets
 * it go: it frees itself when it ends. For requests whose answer nobody
 * waits for, such as cancelling work at a server. */
void http_fire(struct http_req *r);
/* Moves requests let go with http_fire() on for up to MS milliseconds or
 * until they are all done, so that they reach the server before exit. */
void http_drain(int ms);
/* Requests in flight or waiting for a retry. */
int http_active(void);
/* For the engine: the sockets to poll and the next deadline. */
int http_fds(struct pollfd *p, int max, int64_t *deadline);
void http_step(struct pollfd *p, int n, int64_t now);

/* Adds the header "NAME: VALUE" to R; -1 if out of memory or R has
 * HTTP_HEADERS already. */
int http_header(struct http_req *r, const char *name, const char *value);

#endif
