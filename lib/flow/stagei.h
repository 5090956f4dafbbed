/* stagei: what the files of the stage share: stage.c (the queue and the
 * decision), stagekey.c (run keys), stagedb.c (the batch for the next
 * commit, the commit, the output), stagerun.c (a step's attempts) and
 * stageout.c (their outcome).
 *
 * Private to lib/flow.
 *
 * A slot is a record in the queue, in input order. Its phase: P_CALL (a
 * command, model or scorer call in flight on the engine), P_WAIT (a retry
 * due at `due`), P_DONE (its output line, if any, is ready). Invariant:
 * only the head's line is written out, and only once the head is done.
 */
#ifndef PANIC_FLOW_STAGEI_H
#define PANIC_FLOW_STAGEI_H

#include <jv.h>

#include "base/id.h"
#include "flow/context.h"
#include "flow/stage.h"
#include "flow/step.h"
#include "model/platform.h"
#include "state/flow.h"

enum { P_CALL, P_WAIT, P_DONE };
enum { C_STEP, C_SCORER }; /* what a slot's call is for */

struct slot {
	int phase;
	char run[ID_LEN + 1];
	jv ctx;          /* the run's context */
	jv human;        /* the human's input for this step, or null */
	const char *status; /* the run's status as this stage knows it */
	int seq;         /* the step's journal position */
	int attempt;     /* attempts made in this drive */
	int64_t due;     /* P_WAIT: monotonic ms */
	int64_t stop_check; /* when to look whether the run was stopped */
	char started_at[32];
	int can_complete; /* passing the run on from the last stage completes it */
	int failed_here;  /* the run failed at this stage */
	/* the call in flight */
	struct call call;
	int calling, what, scorer;
	struct call_opts opts;
	char *env[5];
	int streamed;
	jv stream_text;
	jv merge;        /* the step's merge while its scorers run */
	jv sys;          /* the filled system prompt while a model call runs, or null */
	jv err;          /* the run's error ({"step","kind","message"}) if it failed, or null */
	struct stage *st; /* its stage, for the call's callbacks */
	char *line;      /* P_DONE: the output line with its newline, or NULL */
	size_t linelen;
	char *text;      /* the context as compact JSON, if it is known, or NULL */
	size_t textlen;
};

/* A write held for the next commit; its strings live in the batch's arena. */
struct op {
	int kind; /* O_RUN_INSERT, O_STEP, O_RUN_SET, O_EVENT, O_SCORE */
	union {
		struct db_flow_run run;
		struct db_flow_step step;
		struct db_flow_set set;
	} u;
	jv v; /* O_EVENT, O_SCORE */
};
struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};
enum { O_RUN_INSERT, O_STEP, O_RUN_SET, O_EVENT, O_SCORE };

struct stage {
	struct stage_cfg cfg;
	const struct flow_step *step;
	struct model *model;        /* the step's model (command, llm, score) */
	struct model *scorers[FLOW_MAX_SCORERS];
	struct tool tools[FLOW_MAX_TOOLS];
	void *jq;                   /* jq_state of --jq, once compiled */
	int jq_failed;
	char jq_why[512];
	struct slot *q;
	int qcap, qhead, qlen;
	struct op *ops;
	int nops, opcap;
	struct chunk *arena;        /* the strings of ops */
	FILE *mem;                  /* for dumping values */
	char *membuf;
	size_t memlen;
	jv events;                  /* array: events to publish after the commit */
	int nevents;
	char *out;                  /* output lines, written out after the commit */
	size_t outlen, outcap;
	/* the occurrences of each record seen without _run (64-bit hashes) */
	uint64_t *bloom;            /* records seen, roughly */
	uint64_t *seen;
	uint32_t *seen_n;
	size_t seen_cap, seen_len;
	uint64_t *made;             /* keys of runs created in the batch not yet committed */
	size_t made_cap, made_len;
	int downstream;             /* 1, 0, -1 (unknown) */
	int scanned;
	int dup_named;
	long failed;
};

/* stage.c */
void stage_note(struct stage *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* stagekey.c: the key of a run started by a record without _run: a
 * 64-bit hash of the workflow and KEY (its _key, if a string), or of the
 * workflow, the record (TEXT, N bytes, or CTX dumped) and how many of the
 * same came before it on this input. */
int64_t stage_run_key(struct stage *s, jv ctx, jv key, const char *text, size_t n);
/* Whether a run of KEY was created in the batch not yet committed; ADD
 * notes it. -1 when out of memory. */
int stage_made(struct stage *s, int64_t key, int add);
/* Forgets the batch's keys, once it is committed. */
void stage_made_clear(struct stage *s);

/* stagedb.c */
/* A write held for the next commit (its jv null). */
struct op *stage_new_op(struct stage *s, int kind);
/* A copy of S (or NULL) that lives until the next commit. */
const char *stage_keep(struct stage *s, const char *str);
const char *stage_keepn(struct stage *s, const char *str, size_t n);
/* V (consumed) as compact JSON text kept until the next commit; NULL for
 * jv_null() or an invalid V. */
const char *stage_keep_json(struct stage *s, jv v);
/* A malloc'd dump of V (borrowed), *N its length. */
char *stage_dump(struct stage *s, jv v, size_t *n);
void stage_op(struct stage *s, int kind, jv v);
/* 1 if an event EVENT of SL's run is stored or someone listens for it. */
int stage_wants_event(struct stage *s, const char *event, struct slot *sl);
void stage_emit_event(struct stage *s, const char *event, struct slot *sl, jv extra);
/* Journals the step's row for SL: STATE, and RESULT, ERROR and WAITING
 * (consumed; jv_null() for none). The row, to be added to before the
 * commit, or NULL when out of memory. */
struct db_flow_step *stage_journal(struct stage *s, struct slot *sl, const char *state, jv result,
                                   jv error, jv waiting);
/* Sets the run's status (ONLY_IF as db_flow_run_set), with WAITING_STEP
 * and ERROR (consumed; jv_null() for none). */
void stage_run_set(struct stage *s, struct slot *sl, const char *status, const char *only_if,
                   const char *waiting_step, jv error);
/* SL goes on: its record is made (with _status and _error for a run that
 * ended), and the run completes if this is the last stage. */
void stage_forward(struct stage *s, struct slot *sl);
/* SL is done with no record: the run left the pipeline. */
void stage_leave(struct stage *s, struct slot *sl);

/* stageout.c */
/* Takes the outcome O of SL's attempt (its jv are consumed). */
void stage_outcome(struct stage *s, struct slot *sl, struct flow_outcome *o);
/* SL's attempt failed with KIND and MSG: retried (if RETRYABLE and any
 * retry is left), the fallback merged, or the run failed. */
void stage_failure(struct stage *s, struct slot *sl, const char *kind, const char *msg,
                   int retryable);
/* A call of SL finished: take its result. */
void stage_call_done(struct stage *s, struct slot *sl);

/* stagerun.c */
int stage_models(struct stage *s);
void stage_run_free(struct stage *s);
/* Starts the next attempt of the step for SL (it may finish at once). */
void stage_attempt(struct stage *s, struct slot *sl);
/* Starts a call of model M on INPUT (consumed) for SL, for WHAT (C_STEP,
 * C_SCORER); SYSTEM (borrowed, kept by SL) is the filled system prompt. */
void stage_start_call(struct stage *s, struct slot *sl, struct model *m, jv input, int what,
                      jv system);
/* A piece of a streamed answer: kept, and a stream_chunk event. */
void stage_stream_piece(struct slot *sl, const char *text, size_t n);
/* Publishes an llm event (start, stop, exception) for SL's model call. */
void stage_llm_event(struct stage *s, struct slot *sl, const char *what);
/* Clears SL's finished call and what it held. */
void stage_call_clear(struct slot *sl);
/* Abandons SL's call (nothing is journalled for it). */
void stage_call_cancel(struct stage *s, struct slot *sl);

#endif
