/* tap: live streams written straight to their sockets, for the hub's
 * displays. Private to lib/web.
 *
 * A screen's connection is taken from libmicrohttpd once its request is
 * checked: the hub's thread writes the answer's head and then every event
 * to the socket itself, one write per screen per burst, and learns from
 * epoll when the screen goes away. Each display has a log, the bytes of
 * its events once for all its screens; each screen is a place in it. One
 * that falls TAP_BEHIND_MAX bytes behind is let go (it reconnects and
 * catches up). Everything here runs under the hub's lock.
 */
#ifndef PANIC_WEB_TAP_H
#define PANIC_WEB_TAP_H

#include <stddef.h>
#include <stdint.h>

#define TAP_BEHIND_MAX (4 << 20)

struct tap_log;
struct tap;

struct tap_log *tap_log_new(void);
/* Closes its screens. */
void tap_log_free(struct tap_log *l);
int tap_log_append(struct tap_log *l, const char *p, size_t n);
/* A screen on socket FD (taken over), watched by EPFD, that first gets
 * the N bytes at FIRST, then the log from its end now. */
int tap_add(struct tap_log *l, int epfd, int fd, const char *first, size_t n);
/* Writes to each screen what it lacks; lets the broken and the laggards
 * go; forgets what every screen has. */
void tap_flush(struct tap_log *l);
/* Epoll said EVENTS of the screen T (the data.ptr of its fd). */
void tap_ready(struct tap *t, uint32_t events);
/* Frees the screens that went away (after a batch of epoll events). */
void tap_sweep(struct tap_log *l);
long tap_count(struct tap_log *l);

#endif
