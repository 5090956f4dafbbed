/* context: a run's context between stages, and what a step's output asks.
 *
 * A record between stages is the run's context (an object) plus fields the
 * pipeline owns, all starting with "_":
 *   _run     the run's id (every record a stage writes has it);
 *   _key     on a record without _run: the run's key (see stage.h);
 *   _status  "failed" or "stopped" on the record of a run that ended;
 *   _error   {"step","kind","message"} on the record of a failed run.
 * They are taken off the context as a record comes in and put back as it
 * goes out; a step never sees them.
 *
 * A step's output is one JSON object, shallow-merged into the context (as
 * Synaptic merges a step's map). Two fields of it are requests, not data:
 *   "_suspend": {"message": TEXT, "metadata": {...}, "schema": {...}}
 *       hold the run for a human (message required; metadata and schema
 *       optional objects, the schema as schema.h); the rest of the output
 *       is not merged: the step runs again, with human_input in its
 *       context, when the run is resumed;
 *   "_stop": true or "why"
 *       merge the rest, then end the run here with status stopped.
 * Any other field starting with "_" that the pipeline owns is an error.
 *
 * Pure. jv ownership: as each function says.
 */
#ifndef PANIC_FLOW_CONTEXT_H
#define PANIC_FLOW_CONTEXT_H

#include <jv.h>
#include <stddef.h>

/* A run's context: its INPUT (consumed) with the merges ("result") of
 * the completed and skipped rows of its journal STEPS (borrowed, an array
 * in seq order) applied in turn. */
jv flow_context_of(jv input, jv steps);
/* Which of the pipeline's own fields record REC (borrowed) has: */
enum { FLOW_OWN_RUN = 1, FLOW_OWN_KEY = 2, FLOW_OWN_STATUS = 4, FLOW_OWN_ERROR = 8 };
unsigned flow_owned(jv rec);
/* REC (consumed) less the pipeline's fields, MASK as flow_owned() gave
 * it; *RUN and *KEY get the values of _run and _key (jv_invalid() if
 * absent; the caller frees them). */
jv flow_split(jv rec, unsigned mask, jv *run, jv *key);
/* CTX (consumed) with every field of MERGE (consumed) set: a shallow merge. */
jv flow_merge(jv ctx, jv merge);

enum flow_out_kind { FO_MERGE, FO_SUSPEND, FO_STOP, FO_BAD };
struct flow_outcome {
	int kind;
	jv merge;    /* FO_MERGE, FO_STOP: the object to merge; else null */
	jv suspend;  /* FO_SUSPEND: {"message","metadata","schema"}; else null */
	char why[512]; /* FO_BAD: what is wrong; FO_STOP: the reason */
};
/* Reads a step's output OUT (consumed) into O. */
void flow_outcome(jv out, struct flow_outcome *o);
/* The same from the text S (N bytes) a command printed: exactly one JSON
 * value, white space around it allowed. */
void flow_outcome_text(const char *s, size_t n, struct flow_outcome *o);
void flow_outcome_free(struct flow_outcome *o);
/* Checks a suspension request SUSP (borrowed) as "_suspend" takes it:
 * 0, or -1 with why. */
int flow_suspend_check(jv susp, char *why, size_t size);

#endif
