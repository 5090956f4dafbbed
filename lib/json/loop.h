/* loop: the one record loop every filter runs (after mblaze's
 * blaze822_loop).
 *
 * A filter fills a struct loop with its input (an nd_reader), its
 * callbacks and its own descriptors, and calls loop_run(), which turns:
 *
 *   1. read: every record there is now, while room() says the program
 *      takes more, goes to record(); every bad line to bad(), with its
 *      number and why, and is counted in nbad;
 *   2. work(): the program moves on (starts what is due) and says how long
 *      it may wait (ms, -1 for as long as it takes), or LOOP_END;
 *   3. wait: for input (if there is room for it) and the program's fds,
 *      with wait() (poll(2) by default; the model engine's, which also
 *      drives calls in flight). It first only looks (timeout 0); if
 *      nothing is ready and work() allowed a wait, it calls idle() — the
 *      one place a program flushes its output and commits before it
 *      blocks: live when input trickles, batched when it pours — and then
 *      waits;
 *   4. woke(): the program takes what the wait brought (fds' revents).
 *
 * Without work(), the loop ends at the end of input. A program ends it at
 * once by setting stop (a closed reader, a signal). The library never
 * prints: bad() is the program's (cli/prog.h has the standard one).
 *
 * jv ownership: record() owns the record it is given.
 */
#ifndef PANIC_JSON_LOOP_H
#define PANIC_JSON_LOOP_H

#include <jv.h>
#include <poll.h>

#define LOOP_END (-2)
#define LOOP_FDS 8

struct nd_reader;

struct loop {
	struct nd_reader *in; /* the records, or NULL for none */
	void *ctx;            /* the program's, for its callbacks */
	/* A record (consumed); nd_raw() and nd_lineno() of `in` describe it. */
	void (*record)(struct loop *l, jv rec);
	/* A bad line or rejected record: its line number and why. */
	void (*bad)(struct loop *l, long lineno, const char *why);
	/* Optional: 1 if the program takes another record now. */
	int (*room)(struct loop *l);
	/* Optional: see above. */
	int (*work)(struct loop *l);
	/* Optional: after each wait. */
	void (*woke)(struct loop *l);
	/* Optional: about to block. */
	void (*idle)(struct loop *l);
	/* Optional: waits on the N pollfds P for up to MS ms (-1: no limit),
	 * setting their revents; > 0 if something else happened. */
	int (*wait)(struct loop *l, struct pollfd *p, int n, int ms);
	/* The program's own descriptors; their revents are set by each wait. */
	struct pollfd fds[LOOP_FDS];
	int nfds;
	/* Set by the loop: */
	int eof;   /* the input has ended */
	long nbad; /* bad lines and rejected records */
	/* Set by the program: */
	int stop;  /* end the loop now */
};

/* Runs L until work() says LOOP_END, the input ends (no work()), or
 * stop is set. 0, or -1 with err_msg() if the input could not be read. */
int loop_run(struct loop *l);
/* Rejects the record last handed to record(): counts it and reports it
 * to bad() with its line number and the formatted reason. */
void loop_reject(struct loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
