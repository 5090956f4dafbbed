/* prog: what every program shares when it talks to its user.
 *
 * This is the one module of lib/ that prints and exits; the rest of lib/
 * never calls it. It holds the exit table of DESIGN.md §2, the
 * "PROG: what: why" reporters, and the careful close of stdout.
 */
#ifndef PANIC_PROG_H
#define PANIC_PROG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	PX_OK = 0,      /* success */
	PX_FAIL = 1,    /* some input rejected or some work failed */
	PX_USAGE = 2,   /* usage error */
	PX_CONFIG = 3,  /* configuration or state error */
	PX_REFUSED = 4, /* refused for now (lockout, rate limit) */
};

extern const char *prog_name;
extern int prog_verbose; /* -v count; -q makes it -1 */
extern const char *prog_db;  /* --db, or NULL */
extern const char *prog_bus; /* --bus, or NULL */

/* The options every program takes (-q -v -h --version --db): end a
 * program's getopt_long table with PROG_OPTIONS and {0}, put "qvh" in its
 * short options, and hand every option it does not know to prog_option().
 * Programs that use the bus add PROG_BUS_OPTION; filters add
 * PROG_INPUT_OPTIONS (and "R" to their short options): -R/--raw-input,
 * --json and --max-line, which prog_reader() applies. */
enum { PROG_OPT_VERSION = 1000, PROG_OPT_DB, PROG_OPT_BUS, PROG_OPT_JSON, PROG_OPT_MAXLINE };
#define PROG_OPTIONS                                                    \
	{ "quiet", no_argument, 0, 'q' }, { "verbose", no_argument, 0, 'v' }, \
	{ "help", no_argument, 0, 'h' },                                  \
	{ "version", no_argument, 0, PROG_OPT_VERSION },                  \
	{ "db", required_argument, 0, PROG_OPT_DB }
#define PROG_BUS_OPTION { "bus", required_argument, 0, PROG_OPT_BUS }
#define PROG_INPUT_OPTIONS                                                  \
	{ "raw-input", no_argument, 0, 'R' }, { "json", no_argument, 0, PROG_OPT_JSON }, \
	{ "max-line", required_argument, 0, PROG_OPT_MAXLINE }
/* The usage lines of PROG_INPUT_OPTIONS. */
#define PROG_INPUT_USAGE                                                        \
	"  -R, --raw-input      every line is text, {\"input\": LINE}\n"             \
	"      --json           every line must be a JSON object\n"                  \
	"      --max-line BYTES longest input line accepted (default 4194304)\n"
/* Handles a common option C (printing USAGE for -h), or a getopt error. */
void prog_option(int c, const char *usage);

void prog_init(const char *name);
/* "PROG: fmt\n" on stderr. */
void pwarn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* pwarn(), then exit(code). */
void pdie(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* "PROG: usage error\nTry 'PROG --help'." and exit 2. */
void pusage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Prints "PROG VERSION" and exits 0. */
void prog_version(void) __attribute__((noreturn));
/* Flushes stdout; a write error other than EPIPE is reported and makes
 * the result PX_FAIL. EPIPE (the reader went away) ends quietly and sets
 * prog_closed. Returns the status to exit with, given the one the program
 * had. */
int prog_flush(int status);
/* Stopping (DESIGN.md §2): when stdout's reader has gone (prog_closed) or
 * SIGINT, SIGTERM or SIGHUP arrives (prog_signalfd()), a filter stops
 * reading, cancels what is in flight, commits what it holds and exits
 * quietly, as grep and jq do. */
extern int prog_closed;
struct loop;
/* Blocks SIGINT, SIGTERM and SIGHUP and returns a non-blocking signalfd
 * that is readable once one arrives (the same one on every call): add it
 * to what the program polls (children started through base/proc get the
 * signals back). -1 if it cannot be made; the signals are then left as
 * they were. */
int prog_signalfd(void);
/* The signal waiting on FD (from prog_signalfd()), or 0 if none. */
int prog_signal_read(int fd);
/* The stop signal that arrived, or 0. SIGTERM and SIGHUP stop a program
 * gracefully, with its usual exit status; after SIGINT prog_finish()
 * raises it again, so a shell sees the program interrupted and stops its
 * script, as it expects. */
extern int prog_signalled;
/* For a filter's record loop: adds to L's fds the stop signals' fd and
 * stdout, whose reader going away the loop then sees at once, not at the
 * next write (no paid call is made for nobody). */
void prog_loop_watch(struct loop *l);
/* In the loop's woke() and idle(): sets L's stop, and returns 1, once a
 * stop signal has arrived or stdout's reader has gone. */
int prog_loop_stopping(struct loop *l);
/* Writes the N bytes at S to F made harmless for a terminal (base/safe.h):
 * anything from outside that a terminal shows goes through here. */
void prog_put_safe(FILE *f, const char *s, size_t n, int flags);
/* prog_flush() then fclose(stdout); returns the status to exit with (or,
 * after SIGINT, dies by it). */
int prog_finish(int status);
struct db;
/* Opens the state file (--db, $PANIC_DB or the XDG default) with the
 * db_open() FLAGS, or dies with "PROG: state: why" and exit 3;
 * prog_state_hint() adds HINT to the message ("(HINT)") when the file
 * cannot be written. */
struct db *prog_state(int flags);
struct db *prog_state_hint(int flags, const char *hint);
struct bus;
/* Opens the bus (--bus, $PANIC_BUS or the default), or reports why not on
 * stderr ("PROG: bus: why (WITHOUT)") and returns NULL: the bus only
 * tells, so a program goes on without it. */
struct bus *prog_bus_open(const char *without);
struct nd_reader;
/* A record reader of FD with the input options given (--raw-input,
 * --json, --max-line), or dies. */
struct nd_reader *prog_reader(int fd);
extern int prog_input_mode; /* enum nd_mode, from -R and --json */
struct loop;
/* The record loop's report of a bad line (loop.h's bad()): "PROG:
 * stdin:LINE: why" on stderr. */
void prog_loop_bad(struct loop *l, long lineno, const char *why);
/* Parses a duration option in seconds (a decimal, "0.2"), from 0 (or a
 * millisecond at least, if POSITIVE) to MAX_S, as milliseconds; dies with
 * a usage error on anything else (inf, nan, negative, too long). */
int64_t prog_ms(const char *opt, const char *s, double max_s, int positive);
/* A decimal from MIN to MAX, or a usage error saying it expected WHAT. */
double prog_double(const char *opt, const char *s, double min, double max, const char *what);
/* Parses a non-negative integer option value or dies with a usage error. */
long prog_atol(const char *opt, const char *s, long min, long max);

#endif
