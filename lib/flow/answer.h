/* answer: a person's answer to a run that waits for a human, the part
 * that syn-run resume and panic-web's forms share.
 *
 * A run suspended at a step waits with {message, metadata, schema} in
 * that step's journal row. flow_waiting lists such runs with what they
 * wait for; flow_answer checks an answer against the schema
 * (flow/schema.h: every field's error, for a form, the first for a
 * command line), stores it, sets the run running again and records and
 * publishes the "resumed" event, in one transaction. flow_run_history is
 * a run's page. Driving the run on
 * through its workflow file is the caller's (syn-run drives it; panic-web
 * checks with flow_answer_check and runs syn-run resume).
 *
 * jv ownership: parameters are borrowed; what comes back is the caller's.
 */
#ifndef PANIC_FLOW_ANSWER_H
#define PANIC_FLOW_ANSWER_H

#include <jv.h>

struct bus;
struct db;

/* flow_answer's results besides -1 (a state error). */
enum { FLOW_ANSWERED = 0, FLOW_UNKNOWN = 1, FLOW_INVALID = 2, FLOW_REFUSED = 3 };

/* The step RUN (a row of db_flow_run_get) waits at for a human, if it
 * waits there and at WANT (NULL: at any step); else NULL with err_msg()
 * ("run R does not wait for a human: it is completed", "run R waits at
 * step a, not b"). The string is RUN's. */
const char *flow_waits_at(jv run, const char *want);
/* What run ID waits for at STEP: {step, message, metadata, schema} from
 * its journal; jv_null() if it has no such suspension; jv_invalid() with
 * err_msg() on a state error. */
jv flow_suspension(struct db *db, const char *id, const char *step);
/* The runs waiting for a human, oldest first, the last LIMIT (0: all):
 * FN gets each as {id, workflow, step, message, metadata, schema,
 * started_at, updated_at} (owning it) and returns 0 to go on. 0, or -1
 * with err_msg(). */
int flow_waiting(struct db *db, long limit, int (*fn)(jv w, void *ctx), void *ctx);
/* The timeline of run ID, as syn-run history prints it (flow/report.h):
 * an array, jv_null() if there is no such run, jv_invalid() with
 * err_msg() on a state error. */
jv flow_run_history(struct db *db, const char *id);
/* Answers the suspension run ID waits at with INPUT, if it waits at STEP
 * (NULL: wherever it waits). FLOW_ANSWERED, or:
 *   FLOW_UNKNOWN   no such run ("unknown run 'R'")
 *   FLOW_REFUSED   it does not wait (flow_waits_at's message), or no
 *                  longer at STEP ("the suspension at step S was already
 *                  answered")
 *   FLOW_INVALID   INPUT is not an object that meets the schema: the first
 *                  error ("field 'n': expected integer, got string"), and
 *                  all of them in *ERRORS if ERRORS is not NULL
 *                  ([{field, message}], see flow_schema_errors)
 * each with err_msg() saying why; -1 with err_msg() on a state error.
 * BUS (or NULL) gets the "resumed" event. */
int flow_answer(struct db *db, struct bus *bus, const char *id, const char *step, jv input,
                jv *errors);
/* The checks of flow_answer, with the same results, without storing:
 * what a form asks before it hands the answer to syn-run resume. */
int flow_answer_check(struct db *db, const char *id, const char *step, jv input, jv *errors);

#endif
