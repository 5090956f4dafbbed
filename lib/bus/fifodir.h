/* fifodir: what the files of the fifodir bus share; see bus.h for the
 * protocol.
 *
 * Private to lib/bus. Files: dir.c (the directory: opening it, topics,
 * subscriber names and files), publish.c (the publisher's peer cache and
 * batched writes), subscribe.c (a subscriber's fifo, resolving events sent
 * by reference), admin.c (listing and sweeping subscribers).
 *
 * A subscriber's files are "sub.PID.RAND" (the fifo), with ".info" and
 * ".drops" beside it; hidden ".tmp.PID.RAND" while it is being made.
 */
#ifndef PANIC_BUS_FIFODIR_H
#define PANIC_BUS_FIFODIR_H

#include <jv.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define NAME_MAX_LEN 64

struct peer {
	char name[NAME_MAX_LEN];
	int fd; /* write end, -1 until first needed */
	char **pat;
	int npat;
	int match; /* its patterns match b->topic */
	char *out;  /* whole events waiting to be written, at most PIPE_BUF */
	size_t outlen;
	int outn;   /* how many events that is */
	int64_t stalled; /* until when it gets no grace (monotonic ms), or 0 */
};

struct bus {
	char *dir;
	int dfd;
	int shared;
	int watch;   /* inotify fd, -1 if none */
	int watched; /* inotify was set up, or tried (watch -1: failed) */
	int scanned; /* the peer cache is filled */
	struct peer *peers;
	int n, cap;
	int64_t checked; /* last POLLERR check, monotonic ms */
	uint64_t *gen;   /* the directory's generation counter (mmap'd), or NULL */
	uint64_t seen;   /* its value when the cache was last brought up to date */
	uint64_t read_at; /* its value when inotify was last read */
	FILE *mem;       /* event lines are built here */
	char *membuf;
	size_t memsize;
	char topic[256];  /* the topic every peer's match flag is for */
	char prefix[600]; /* {"topic":TOPIC,"at":"  for that topic */
	size_t prefixlen;
	char *line;       /* the event line being sent */
	size_t linecap;
	int matched;      /* peers whose flag is set */
	int64_t pending;  /* when the oldest unwritten event was queued, or 0 */
};

struct bus_sub {
	struct bus *b;
	char name[NAME_MAX_LEN];
	int rfd, wfd;
	char *buf;
	size_t len, cap;
};

/* Opens the entry NAME of the bus with FLAGS, never through a symlink, and
 * only if it is of TYPE (S_IFIFO, S_IFREG) and, on a private bus, ours: a
 * planted file is never written. The fd, or -1 with errno (EPERM for the
 * wrong kind of entry). */
int busi_open_entry(struct bus *b, const char *name, int flags, int type);
/* 1 if S names a subscriber's fifo ("sub.PID.RAND"). */
int busi_fifo_name(const char *s);
/* "sub.PID.RAND[.suffix]" or ".tmp.PID.RAND[.suffix]": the PID. */
pid_t busi_name_pid(const char *s);
int busi_pid_alive(pid_t pid);
/* The info of subscriber NAME (its JSON object), or jv_invalid(). */
jv busi_read_info(struct bus *b, const char *name);
/* Removes subscriber NAME's fifo and files. */
void busi_unlink_sub(int dfd, const char *name);
/* Calls FN for each directory entry name (collected first: FN may unlink). */
int busi_each_entry(struct bus *b, void (*fn)(struct bus *b, const char *name, void *ctx),
                    void *ctx);
/* Tells publishers that subscribers came or went. */
void busi_bump(struct bus *b);
/* Releases the publisher's peer cache (publish.c). */
void busi_peers_free(struct bus *b);

#endif
