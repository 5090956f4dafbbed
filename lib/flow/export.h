/* export: a run as an eval record, for Braintrust.
 *
 * One JSON object per run, in the shape of Braintrust's experiment event
 * (the events of POST /v1/experiment/{id}/insert, and of its SDKs' log
 * calls): id, span_id and root_span_id (the run's id), created (its
 * start), input (the context it started with), output (its context now),
 * error (a failed run's), scores ({scorer: score}; a scorer used by two
 * steps is "STEP.SCORER"), metrics (start and end as Unix seconds;
 * prompt_tokens, completion_tokens and tokens summed over its model
 * calls), span_attributes ({"name": the workflow, "type": "task"}), tags
 * (its status) and metadata: the workflow, the status, the steps of its
 * journal, its model calls (model, step, prompt, response, usage, cost,
 * duration), its scores in full, and the total cost in US dollars.
 * Braintrust takes scores from 0 to 1; others are passed on as they are.
 *
 * Pure. jv ownership: parameters are borrowed.
 */
#ifndef PANIC_FLOW_EXPORT_H
#define PANIC_FLOW_EXPORT_H

#include <jv.h>

/* RUN (a workflow_runs row), its journal STEPS, model CALLS and SCORES. */
jv flow_export(jv run, jv steps, jv calls, jv scores);

#endif
