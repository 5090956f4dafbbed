/* runi: what the runner's files share; see run.h.
 *
 * Private to lib/agent.
 *
 * Files: run.c (the runner: the table followed, the loop's parts, the bus,
 * stdin records), unit.c (one agent: its lock, jobs, supervision), trig.c
 * (its triggers), sub.c (the bus subscription, events to units),
 * job.c (a job: its abilities in order, retries, its end reported),
 * watch.c (inotify on watched directories), clock.c (the wall clock, real
 * or $PANIC_CLOCK's, and clock changes).
 *
 * Clocks: "wall" ms since the epoch (cron), "sched" ms (every: the
 * monotonic clock, or the test clock), "mono" ms (timeouts, retries,
 * restarts: always the real monotonic clock).
 */
#ifndef PANIC_AGENT_RUNI_H
#define PANIC_AGENT_RUNI_H

#include <jv.h>
#include <poll.h>
#include <stdint.h>

#include "agent/ability.h"
#include "agent/run.h"
#include "agent/spec.h"
#include "agent/tz.h"
#include "agent/world.h"
#include "model/platform.h"

struct db_lock;
struct db_agent_log;
struct bus_sub;

/* ---- clock.c ---- */

struct rclock {
	char *path;   /* the test clock file, or NULL */
	int fd;       /* inotify on its directory (test), or a timerfd that a
	               * clock change cancels (real); -1 if none */
	int64_t fake; /* the test clock's time */
	int changed;  /* the clock was set (either kind) since last asked */
};

int rclock_init(struct rclock *c, const char *path);
void rclock_free(struct rclock *c);
int64_t rclock_wall(const struct rclock *c);
int64_t rclock_sched(const struct rclock *c);
/* After a wait in which C's fd was readable. */
void rclock_woke(struct rclock *c);

/* ---- watch.c ---- */

struct watch {
	char *dir;
	int wd;        /* -1 while missing */
	int refs;
	int64_t lost;  /* wall ms when it went missing, for the scan on return */
	int64_t retry; /* mono ms of the next look */
};

struct watches {
	int fd; /* inotify */
	struct watch *w;
	int n;
};

/* Adds a reference to DIR's watch; its index, or -1 with err_msg() (the
 * directory may not be read: permission, not a directory). A missing
 * directory is not an error: it is looked for until it comes. */
int watch_add(struct runner *r, const char *dir);
void watch_drop(struct runner *r, int i);
/* Reads inotify and calls unit_watched() for each file that arrived. */
void watch_read(struct runner *r);
/* Looks again for missing directories that are due; *MS lowered to the
 * next look. */
void watch_work(struct runner *r, int64_t *ms);

/* Lowers the wait *MS (-1: none yet) to V ms (at least 0). */
static inline void run_lower(int64_t *ms, int64_t v)
{
	if (v < 0)
		v = 0;
	if (*ms < 0 || v < *ms)
		*ms = v;
}

/* ---- unit.c ---- */

enum ustate { U_STOPPED, U_RUNNING, U_BACKOFF, U_BLOCKED };

struct trig {
	struct resp *resp; /* in the unit's agent */
	struct tz *tz;     /* cron: its zone */
	int64_t next;      /* cron: wall ms; every: sched ms; 0: none */
	int64_t last;      /* cron: wall ms of the last fire */
	int watch;         /* watch: index in the runner's watches, or -1 */
	int glob;          /* event: the pattern has wildcards (else: the topic) */
};

struct job;

struct unit {
	/* What every turn looks at for every unit, together (one cache line:
	 * a thousand idle units cost a thousand lines, not pages): */
	enum ustate state;
	int nrun;                  /* in flight (running, or waiting to retry) */
	int reload;                /* the row changed: restart once no job is in flight */
	int gone;                  /* stopped for good: the runner frees it */
	int note_due;              /* its note is to be written again (unit_flush) */
	char *crash;               /* a crash to handle, outside the job that saw it */
	struct job *qhead;         /* queued, not started */
	struct job *run;           /* started, in the order they started: in
	                            * flight, or done with their record held
	                            * until those before them are done */
	int64_t due_wall;          /* the earliest cron fire (wall ms), 0: none */
	int64_t due_sched;         /* the earliest every: fire (sched ms), 0: none */
	/* The rest: */
	struct job *qtail, *runtail;
	int qlen;
	int nheld;                 /* done, their records held */
	struct runner *r;
	char id[ID_LEN + 1];
	char name[AGENT_NAME_MAX + 1];
	int64_t rev;
	struct agent a;
	int have_agent;
	struct db_lock *lock;
	int64_t lock_retry; /* mono */
	struct trig *trig;
	int ntrig;
	int64_t crashes[64]; /* mono ms of the crashes in the window */
	int ncrash;
	int64_t restart_at; /* mono, in backoff */
	int64_t since;      /* wall ms of its last state change */
};

/* U is stopped for good: the runner frees it at the end of the turn. */
void unit_gone(struct unit *u);
/* A unit for agent ID (rev REV); its row is loaded by unit_start(). */
struct unit *unit_new(struct runner *r, const char *id, int64_t rev);
/* Loads the row, takes the lock, sets up the triggers: 0; -1 if it cannot
 * run (the unit says why: error status, blocked, or crashed). */
int unit_start(struct unit *u);
/* Stops it: the jobs in flight are cancelled (their records given out),
 * the queue dropped, the triggers and the lock released. WHY says why (an
 * event). */
void unit_stop(struct unit *u, const char *why);
void unit_free(struct unit *u);
/* Work due at MONO / WALL / SCHED: fires, restarts, the next job. *MS is
 * lowered to the next thing due. */
void unit_work(struct unit *u, int64_t *ms);
/* Starts the jobs queued that may start now (the limit, the order, no
 * restart pending). *MS lowered to 0 if more are left for the next turn. */
void unit_start_jobs(struct unit *u, int64_t *ms);
/* A crash: WHY (an event), then a restart after a backoff, or flapping. */
void unit_crash(struct unit *u, const char *why);
/* The row changed: restart (now, or once no job is in flight; none
 * starts meanwhile). */
void unit_changed(struct unit *u, int64_t rev);
/* A job for responsibility RESP (borrowed) with PAYLOAD (consumed);
 * RECORD (consumed) is the stdin record or null. 0, or -1 (queue full). */
int unit_enqueue(struct unit *u, const struct resp *resp, jv payload, jv record,
                 int64_t scheduled);
/* A file arrived in watched directory W. */
void unit_watched(struct unit *u, int w, const char *dir, const char *name, const char *how);
/* A bus event on TOPIC with DATA (borrowed). */
void unit_event(struct unit *u, const char *topic, jv data);
/* Writes the unit's note in its lock (for agent-ctl status). */
void unit_note(struct unit *u, const char *state);
/* Gives out the records of the jobs done at the head of the started list
 * (in the order the jobs started), frees those jobs, and writes the note
 * if it is due. */
void unit_flush(struct unit *u);
/* How many jobs the unit may have in flight at once. */
int unit_limit(const struct unit *u);
/* Records the agent's status and last_error (NULL clears) in the table. */
void unit_set_state(struct unit *u, const char *status, const char *last_error);
/* An event EV (consumed: {event, ...}) of the unit: an agent_events row
 * and the bus's agent:NAME. */
void unit_report(struct unit *u, jv ev);
/* Clock set: cron fire times worked out again. */
void unit_clock_set(struct unit *u);

/* ---- trig.c ---- */

/* Sets U's triggers up from its agent: 0, or -1 with err_msg() (a crash). */
int trig_setup(struct unit *u);
/* Releases them (watches dropped). */
void trig_teardown(struct unit *u);
/* Fires what is due at the turn's clocks; *MS lowered to the next fire. */
void trig_work(struct unit *u, int64_t *ms);

/* ---- job.c ---- */

enum jstate { J_QUEUED, J_RUNNING, J_WAITING, J_DONE };
enum jkind { JK_EXTERNAL, JK_ECHO, JK_LLM };

struct job {
	struct job *next;
	struct unit *u;
	char *resp;          /* the responsibility's name */
	jv payload, record;  /* the trigger's payload; the stdin record or null */
	jv cur;              /* the current ability's payload */
	int64_t scheduled;   /* wall ms of a cron or every fire, or 0 */
	int timer;           /* of a cron or every: responsibility (never two at once) */
	int step, attempt, attempts;
	int64_t started, t0; /* wall, mono */
	int64_t retry_at;    /* mono */
	enum jstate st;
	enum jkind kind;
	struct ability_proc ap;
	struct call call;
	struct call_opts copts;
	char *prompt;
	int pfd, npfd; /* its pollfds in the runner's last wait */
	jv error;      /* the last attempt's */
	jv llm;        /* the llm_config its call's options point into */
	jv out;        /* done: its record, until it is given out */
};

struct job *job_new(struct unit *u, const struct resp *resp, jv payload, jv record,
                    int64_t scheduled);
void job_free(struct job *j);
/* Starts the current ability of J (its attempt). */
void job_start(struct job *j);
/* Looks at J after a wait: an ability done, a retry due. *MS lowered. */
void job_work(struct job *j, int64_t *ms);
/* Cancels J (in flight): its end is recorded as cancelled with WHY. */
void job_cancel(struct job *j, const char *why);
/* J's pollfds, for the wait; returns how many were added at P. */
int job_fds(struct job *j, struct pollfd *p, int max, int64_t *deadline);

/* ---- run.c ---- */

struct runner {
	struct db *db;
	struct bus *bus;
	struct catalogue *cat;
	struct engine *eng;
	struct runner_opts o;
	struct runner_io io;
	struct agent_world world;
	struct unit **u;
	int nu, capu;
	char only_id[ID_LEN + 1]; /* agent-run NAME: its id */
	struct rclock clk;
	struct watches w;
	int64_t polled;     /* mono ms of the last look at the table */
	int poll_now;
	struct bus_sub *sub;
	jv pats;        /* the patterns it is subscribed to */
	struct topic_ix { const char *topic; struct unit *u; } *ix; /* units by the
	                 * exact topics they wait for, sorted (sub.c) */
	int nix, capix;
	struct unit **globs; /* units with a pattern with wildcards */
	int nglobs, capglobs;
	int ix_ok;      /* ix and globs are up to date */
	jv dedupe;      /* lines seen on the old subscription while switching */
	int64_t dedupe_until;
	struct tz **zones;
	int nzones;
	jv secrets;     /* names of variables no ability sees but its own */
	int tx;         /* a transaction is open */
	struct db_agent_log *log; /* agent_events and last_error, written off
	                           * the loop's thread; NULL: on r->db */
	uint64_t fp;    /* the agents table's fingerprint when last followed */
	int stopping, eof, drain, done, status, pid;
	int reap;       /* a unit is gone (unit_gone): free it this turn */
	int64_t pruned;
	int64_t boot;   /* wall ms of this boot */
	int64_t last_wall;
	int64_t t_mono, t_wall, t_sched; /* the clocks at the start of this turn
	                                  * (runner_work), read once for all units */
	struct pollfd *pfd;
	int npfd, cappfd, next_extra;
};

/* Opens the runner's transaction if it has none (writes are committed by
 * runner_idle()). */
void run_tx(struct runner *r);
/* Commits the runner's transaction, then waits until what r->log holds is
 * written: before the runner writes or reads those rows itself. */
void run_sync(struct runner *r);
void run_warn(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The zone NAME (NULL: local), loaded once. */
struct tz *run_zone(struct runner *r, const char *name);
/* The environment for job J's ability: the runner's, less every key but
 * the agent's own, with the agent's row and the job's names added. */
char **run_env(struct runner *r, struct unit *u, struct job *j);
void run_env_free(char **env);
/* The patterns changed: subscribe again (sub.c); the units' topics are
 * indexed again on the next event. */
void run_resubscribe(struct runner *r);
/* A unit's agent or state changed, or a unit is gone: the index of topics
 * is made again before the next event. */
void run_unindex(struct runner *r);
void run_index_free(struct runner *r);
/* An event line from the subscription (bus_sub_read's callback). */
int run_bus_line(const char *line, size_t n, void *ctx);

#endif
