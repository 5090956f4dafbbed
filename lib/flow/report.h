/* report: what syn-run shows of a run, built from its rows.
 *
 * inspect: {id, workflow, workflow_file, status, current_step, context,
 * waiting, error, at_step, started_at, updated_at, finished_at, steps}:
 * current_step is the step it waits at, or else the last step of its
 * journal; waiting is {step, message, metadata, schema} while it waits for
 * a human; steps lists its journal ({step, state, attempts}).
 *
 * history: the timeline, oldest first: started, then from the journal and
 * workflow_events step_completed (or step_skipped), step_error, retrying,
 * waiting_for_human, resumed, scorer, and the end (completed, failed,
 * stopped), each {at, event, run_id, step, ...}. Events of one millisecond
 * keep the order of the steps they are about.
 *
 * Pure. jv ownership: parameters are borrowed.
 */
#ifndef PANIC_FLOW_REPORT_H
#define PANIC_FLOW_REPORT_H

#include <jv.h>

jv flow_inspect(jv run, jv steps);
jv flow_history(jv run, jv steps, jv events);

#endif
