/* run: agents at work (agent-run), one or all of them in one process.
 *
 * The runner follows the agents table: with `only` it runs that agent,
 * else every active agent. It reads the table at start and again whenever
 * agents:changed arrives on the bus or, at most every poll_ms, when
 * another connection has committed (db_changed) and a row's rev has
 * moved, so a row changed by hand in sqlite3 is noticed within seconds. A
 * created active agent is started, an updated one restarted if active and
 * stopped if not, a deleted one stopped. A row that cannot make an agent
 * (invalid JSON, a field that fails its check) sets the agent to "error"
 * with last_error saying why; the others go on.
 *
 * Each agent is a unit: its lock in the state file (one runner per agent:
 * agent-run NAME and agent-run --all never run it twice), its triggers
 * (cron and every timers, event patterns, inotify watches, stdin
 * records), a queue of jobs of which up to its concurrency (the agent's,
 * else o.jobs) run at once, their records given out in the order they
 * started, and its supervision. A job
 * runs the responsibility's abilities in order, each one's result the
 * next one's payload; a failed ability (non-zero exit, timeout, not JSON,
 * a flood) is retried by the agent's retry policy; the job's end is an
 * agent_events row, an event on agent:NAME, a record for the program, and
 * last_error set (failed) or cleared (completed). An ability that dies of
 * a signal has crashed the agent: the unit is restarted after a backoff
 * (restart_ms doubling, at most a minute), and an agent that crashes more
 * than flap_count times within flap_window_ms is set to
 * disabled_flapping. So is one whose triggers cannot be set up (a watched
 * directory it may not read), after its restarts.
 *
 * Time: cron fire times come from the wall clock, every: intervals from
 * the monotonic clock, or both from the file $PANIC_CLOCK (an RFC 3339
 * time) when the tests set it, which the runner watches: time moves only
 * when the file changes. A fire time passed by more than LATE_MS (a
 * suspend, a clock set forward) is missed, not replayed, unless the
 * responsibility asks for catch_up, which also runs a fire time missed
 * while no runner ran, once, when the agent starts.
 *
 * The library never prints: the program gets records and warnings through
 * struct runner_io, and drives the runner from its record loop (loop.h):
 * work(), wait(), woke(), idle() and record() map onto runner_*.
 *
 * jv ownership: runner_record() consumes its record; io->record() owns
 * the record it is given.
 */
#ifndef PANIC_AGENT_RUN_H
#define PANIC_AGENT_RUN_H

#include <jv.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_LATE_MS 60000

struct db;
struct bus;
struct catalogue;
struct runner;

struct runner_opts {
	const char *only;       /* agent-run NAME; NULL: every active agent */
	int force;              /* run `only` whatever its status says */
	char **dirs;            /* --abilities */
	int ndirs;
	int64_t timeout_ms;     /* an ability's, unless its responsibility says */
	size_t max_output;      /* bytes an ability may print */
	int64_t restart_ms;     /* the first restart's delay after a crash */
	int flap_count;         /* crashes allowed ... */
	int64_t flap_window_ms; /* ... within this long */
	int64_t poll_ms;        /* how often the table may be looked at */
	int64_t keep_events_ms; /* agent_events older than this are deleted */
	int max_queue;          /* jobs waiting per agent */
	int jobs;               /* jobs in flight per agent, unless it says */
	const char *clock_file; /* $PANIC_CLOCK */
	const char *db_path, *bus_path; /* for abilities: PANIC_DB, PANIC_BUS */
	int verbose;            /* > 0: say more (missed fire times) */
};

struct runner_io {
	void (*record)(void *ctx, jv rec);      /* a finished job */
	void (*notice)(void *ctx, const char *msg); /* "agent NAME: what: why" */
	void *ctx;
};

enum { RUNNER_OK = 0, RUNNER_FAIL = 1, RUNNER_CONFIG = 3, RUNNER_REFUSED = 4 };

/* A runner over DB, BUS (may be NULL) and the catalogue CAT (borrowed). */
int runner_new(struct runner **out, struct db *db, struct bus *bus, struct catalogue *cat,
               const struct runner_opts *o, const struct runner_io *io);
/* Loads the table and starts the agents. RUNNER_OK, or with `only`:
 * RUNNER_CONFIG (no such agent, or it cannot run) or RUNNER_REFUSED (not
 * active, or another runner has it), with err_msg(). */
int runner_start(struct runner *r);
/* The record loop's parts. work(): start what is due; the ms the loop may
 * wait (-1: no limit), or -2 when the runner is done (`only` deleted,
 * deactivated or flapping, or runner_stop() and nothing left). */
int runner_work(struct runner *r);
int runner_wait(struct runner *r, struct pollfd *p, int n, int ms);
void runner_woke(struct runner *r);
void runner_idle(struct runner *r);
/* A record from stdin (consumed): a job for the responsibility it names
 * ("responsibility"; with --all also "agent"). 0, or -1 with err_msg()
 * saying why it was rejected. */
int runner_record(struct runner *r, jv rec);
/* Stop: cancel what runs (its jobs recorded as cancelled), stop every
 * agent. */
void runner_stop(struct runner *r);
/* At the end of stdin: with DRAIN, finish the jobs queued, then be done. */
void runner_eof(struct runner *r, int drain);
/* What the program should exit with. */
int runner_status(const struct runner *r);
void runner_free(struct runner *r);

/* The name of agent ID's lock in the state file (db_lock), whose note
 * says what its runner is doing: {pid, mode, state, since, next_fire,
 * queued, running, job}. */
char *agent_lock_name(const char *id, char buf[static 80]);
/* The time in the clock file PATH (an RFC 3339 time), in ms. */
int agent_clock_read(const char *path, int64_t *ms);

#endif
