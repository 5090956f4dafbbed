/* stage: one syn-step stage, records in and records out, with the state
 * file as its journal (DESIGN.md §6).
 *
 * A record is a run's context plus "_run" (context.h). A record without
 * "_run" starts a run, or finds the one it started before: its key is the
 * workflow (for a pipeline typed on the command line, this step's name),
 * the record's bytes and how many identical records came before it on this
 * stage's input (or the record's "_key", if it has one), so feeding a
 * workflow the same input again finds the same runs (unless fresh). Each run
 * that reaches the stage is decided by replay.h: replayed from the
 * journal, skipped, passed on, held, or run: the step's action runs (its
 * attempts, retries with backoff, fallback, scorers), and its result
 * becomes a journal row and the merged record.
 *
 * Journal rows, run changes and events are held and written together by
 * stage_commit(), in one short transaction; records come out in input
 * order into an output buffer that the program writes only after that
 * commit: a record never leaves the stage before its step's result is
 * stored. While input keeps coming, commits take many records at a time
 * (stage_full() says when a batch is big enough); when the program is
 * about to wait, it commits and writes what it has.
 *
 * The library never prints: what the user should hear of (a run failed, a
 * retry) goes to the program's note() callback.
 *
 * jv ownership: stage_take() consumes its record.
 */
#ifndef PANIC_FLOW_STAGE_H
#define PANIC_FLOW_STAGE_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

struct bus;
struct catalogue;
struct db;
struct engine;
struct flow_step;

struct stage_cfg {
	const struct flow_step *step;
	struct db *db;
	struct bus *bus;             /* or NULL */
	struct engine *eng;
	struct catalogue *cat;
	const char *workflow;        /* its name, or NULL (a pipeline typed on the command line) */
	const char *workflow_file;   /* its absolute path, or NULL */
	size_t maxline;              /* the longest record it writes */
	int last;                    /* 1: the last stage, 0: not, -1: find out (peer.h) */
	int fresh;                   /* a record without _run always starts a new run */
	const char *steps;           /* $SYN_STEPS: the workflow's steps, space-separated, or NULL */
	void *jqset;                 /* or NULL: the --jq program as program JQINDEX of a */
	int jqindex;                 /* set compiled together (flow_jqset_compile) */
	/* What the user hears of: LEVEL 0 warnings, 1 and 2 more detail; only
	 * levels up to VERBOSE are made. */
	void (*note)(void *ctx, int level, const char *msg);
	int verbose;
	void *ctx;
};

struct stage;

/* A stage for CFG, its models made; NULL with err_msg() (an unknown model). */
struct stage *stage_new(const struct stage_cfg *cfg);
/* Cancels what is in flight (nothing is journalled for it) and frees. */
void stage_free(struct stage *s);
/* 1 if the stage takes another record now (-j and its queue). */
int stage_room(const struct stage *s);
/* Takes REC (consumed; RAW its bytes as read, or NULL): 0, or -1 with why
 * in WHY (the record is rejected: a bad _run, an unknown run, a run of
 * another workflow), or -2 with err_msg() for a state error. */
int stage_take(struct stage *s, jv rec, const char *raw, size_t rawlen, char *why,
               size_t size);
/* Moves on after a wait: finished calls, retries due, runs stopped from
 * outside. Returns how long it may wait (ms, -1: for input only), or -2
 * with err_msg() on a state error. */
int stage_work(struct stage *s);
/* Records in the queue, not yet written out. */
int stage_busy(const struct stage *s);
/* 1 if enough is held that it should be committed and written now. */
int stage_full(const struct stage *s);
/* Writes what is held to the state file in one transaction. 0 or -1. */
int stage_commit(struct stage *s);
/* The output records committed so far (lines), to write now; then clear. */
const char *stage_output(const struct stage *s, size_t *n);
void stage_output_clear(struct stage *s);
/* Publishes the events of what was committed (the bus is flushed by the
 * program). */
void stage_publish(struct stage *s);
/* Compiles the N jq PROGRAMS together into *OUT, for stages in one
 * process (stage_cfg.jqset): libjq compiles its builtins with every
 * program, tens of ms each, and a set pays that once. 0, or -1 with
 * err_msg() (one does not compile; each stage then compiles its own, and
 * says what is wrong with it). Free it with flow_jq_free(). */
int flow_jqset_compile(const char *const *programs, int n, void **out);
/* Counts: runs that failed at this stage. */
long stage_failed(const struct stage *s);

#endif
