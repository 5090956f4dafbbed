/* bus: the event bus, a fifodir (DESIGN.md §4, after skarnet's s6 ftrig).
 *
 * The bus is a directory. Each subscriber owns a fifo in it, "sub.PID.RAND",
 * with "sub.PID.RAND.info" beside it (one JSON line: pid, patterns, since)
 * and, once a publisher has had to drop events for it, "sub.PID.RAND.drops"
 * (one byte per dropped event, appended by any publisher, so the count is
 * the file's size).
 *
 * Subscribing: make the fifo and its info under hidden names (".tmp.PID.
 * RAND"), open the fifo for reading and also for writing (so publishers can
 * always open it and the reader never sees EOF), enlarge its buffer to
 * BUS_PIPE_SIZE, then rename the info and then the fifo into place: a
 * publisher that sees the fifo can read its patterns.
 *
 * Publishing: for each subscriber whose patterns (globs, fnmatch(3)) match
 * the topic, open its fifo O_WRONLY|O_NONBLOCK and queue the event for it.
 * Queued events are written whole, several to a write(2) but never more
 * than PIPE_BUF bytes, so no event is ever torn or merged with another:
 * when the queue would pass PIPE_BUF, when the program calls bus_flush()
 * (every program does whenever it is about to wait, as with stdout), and
 * on a publish BUS_FLUSH_MS after the oldest queued event. A burst costs a
 * system call (and a subscriber wake-up) per PIPE_BUF, not per event.
 * ENXIO or EPIPE: the subscriber is gone; its files are unlinked. EAGAIN:
 * its fifo is full. A reader that is merely busy (descheduled while a burst
 * arrives) gets BUS_GRACE_MS for room to appear; if none does, the events
 * of that write are dropped for it and counted, and for BUS_STALL_MS more
 * it gets no grace: a stopped subscriber costs a publisher at most
 * BUS_GRACE_MS a BUS_STALL_MS, and never blocks it. A long-lived publisher keeps the fifos open and learns of
 * subscribers coming and going with inotify, without scanning the directory
 * per event; with no subscriber a publish costs one non-blocking read(2).
 *
 * Events: {"topic":T,"at":TIME,"data":DATA}, one line. One that would not
 * fit in PIPE_BUF is stored in the state file and sent as
 * {"topic":T,"at":TIME,"ref":ID,"size":N}; bus_resolve() turns it back.
 *
 * Topics and patterns: 1 to 255 bytes of UTF-8 without white space or
 * control characters.
 *
 * A program that publishes must ignore SIGPIPE (prog_init() does): a
 * subscriber that dies is an EPIPE to handle, not a reason to die.
 *
 * jv ownership: parameters are borrowed.
 */
#ifndef PANIC_BUS_H
#define PANIC_BUS_H

#include <jv.h>
#include <stddef.h>
#include <sys/types.h>

#define BUS_PIPE_SIZE (1 << 20)
#define BUS_FLUSH_MS 10
#define BUS_GRACE_MS 5
#define BUS_STALL_MS 1000

struct bus;
struct db;

enum { BUS_SHARED = 1 }; /* directory 3770 and fifos 0660, for a group */

/* Opens the bus at DIR, creating it (0700, or shared) if need be. A
 * directory that is not ours or that others can write (shared: not sticky
 * or writable by the world), or whose parent is someone else's or open to
 * all without the sticky bit, is refused. */
int bus_open(struct bus **out, const char *dir, int flags);
/* Flushes, then closes. */
void bus_close(struct bus *b);

/* 0 if TOPIC (N bytes) may name a topic or pattern, else -1 with err_msg(). */
int bus_check_topic(const char *topic, size_t n);

/* 1 if some subscriber's patterns match TOPIC. */
int bus_wants(struct bus *b, const char *topic);
/* Publishes DATA on TOPIC to every matching subscriber. DB stores an event
 * too large for a fifo. Returns the number of subscribers it is queued for
 * (see bus_flush()), -1 on
 * error, or BUS_NEED_DB if the event is too large and DB is NULL (the caller
 * may open the state file and publish again). */
#define BUS_NEED_DB (-2)
/* The same, with the data already as compact JSON text (N bytes). */
int bus_publish_text(struct bus *b, const char *topic, const char *data, size_t n,
                     struct db *db);
int bus_publish(struct bus *b, const char *topic, jv data, struct db *db); /* DATA borrowed */
/* Writes every queued event now. */
void bus_flush(struct bus *b);

/* A subscription. */
struct bus_sub;
int bus_subscribe(struct bus *b, const char *const patterns[], int n, struct bus_sub **out);
/* The fifo's read end (non-blocking), to poll. */
int bus_sub_fd(const struct bus_sub *s);
/* Reads what has arrived and calls FN for each event line (without its
 * newline; LINE is valid during the call). Returns 0 when nothing more is
 * there now, or the first non-zero value FN returned (the lines after that
 * one wait for the next call, which takes them first), or -1. */
int bus_sub_read(struct bus_sub *s, int (*fn)(const char *line, size_t n, void *ctx), void *ctx);
/* Removes the fifo and its files. */
void bus_unsubscribe(struct bus_sub *s);

/* If LINE is an event sent by reference, sets *OUT to the whole event from
 * DB (malloc'd, *N its length) and returns 1. Returns 0 if LINE is a whole
 * event, -1 on error, BUS_NEED_DB if it is a reference and DB is NULL. */
int bus_resolve(struct db *db, const char *line, size_t len, char **out, size_t *n);

/* One subscriber, for bus_list(). */
struct bus_peer_info {
	const char *name;
	pid_t pid;
	jv patterns;  /* array of strings */
	long drops;
	long queued;  /* bytes waiting in its fifo, -1 if unknown */
	int alive;
};
/* Calls FN for each subscriber. */
int bus_list(struct bus *b, int (*fn)(const struct bus_peer_info *p, void *ctx), void *ctx);
/* Removes fifos nobody reads, hidden ones of dead processes, and files
 * left without a fifo. Returns how many subscribers were removed. */
int bus_clean(struct bus *b);

#endif
