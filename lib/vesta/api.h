/* api: Vestaboard's three APIs, the request for a board and what its
 * answer means.
 *
 *   rw     POST https://rw.vestaboard.com/ with X-Vestaboard-Read-Write-Key,
 *          the rows of codes as the body;
 *   cloud  POST https://cloud.vestaboard.com/ with X-Vestaboard-Token,
 *          {"characters": rows};
 *   local  POST http://vestaboard.local:7000/local-api/message with
 *          X-Vestaboard-Local-Api-Key, the rows as the body.
 *
 * A board's base_url replaces the API's address (the local API's path is
 * added to it). Only http and https; a key goes over plain http only to a
 * loopback address, or on the local API (a board on the LAN speaks only
 * http), or where the board says allow_http. Requests are made once
 * (max_attempts 1): the pacer decides what to do after 429 and 503.
 */
#ifndef PANIC_VESTA_API_H
#define PANIC_VESTA_API_H

#include <stdint.h>

#include "http/http.h"
#include "vesta/board.h"
#include "vesta/config.h"

/* 0 if board T's address may carry its key (see above), else -1 with
 * err_msg(). */
int vesta_check_url(const struct vesta_target *t);
/* Fills R (zeroed by the caller) to send B to board T with KEY (borrowed:
 * it must outlive R), TIMEOUT_MS per request. 0, or -1 with err_msg(). */
int vesta_request(struct http_req *r, const struct vesta_target *t, const char *key,
                  const struct vesta_board *b, int timeout_ms);

enum {
	VESTA_SENT,      /* the board took it */
	VESTA_DUPLICATE, /* the board shows it already: delivered */
	VESTA_BUSY,      /* 429, 503 or no connection: try again later */
	VESTA_FAILED,    /* anything else */
};
/* What the answer of the finished request R means. */
int vesta_answer(const struct http_req *r);

/* Pacing, one board: at most one message every INTERVAL ms; after a busy
 * answer, wait the server's Retry-After or a backoff that doubles from
 * the interval (at least 1 s) up to 10 minutes, whichever is longer. */
struct vesta_pace {
	int64_t interval, ready_at, backoff;
};
/* Milliseconds until a message may go, 0 if now. */
int64_t vesta_pace_wait(const struct vesta_pace *p, int64_t now);
/* A message was answered (sent, duplicate or failed) at NOW. */
void vesta_pace_done(struct vesta_pace *p, int64_t now);
/* The board was busy at NOW, asking RETRY_AFTER ms (0 if it did not say);
 * returns the wait chosen. */
int64_t vesta_pace_busy(struct vesta_pace *p, int64_t now, int64_t retry_after);

#endif
