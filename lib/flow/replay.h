/* replay: what a stage does with a run that reaches it.
 *
 * The journal (the state file's workflow_steps) holds a row per run and
 * step that has been through a stage: completed (its merge), skipped
 * (before the step a run was started at), suspended (waiting for a human),
 * resumed (the human's input stored, the step to run again with it) or
 * failed (its last error). From the run's status and this step's row:
 *
 *   row completed or skipped       REPLAY: merge from the journal; the
 *                                  command does not run again
 *   run stopped                    PASS: the record goes on untouched
 *   run failed, no row             PASS: the run failed upstream
 *   row failed                     RUN: a run driven again retries the
 *                                  step that failed
 *   row resumed                    RUN, with the human's input
 *   row suspended, or no row of a  HOLD: the run waits for a human; it
 *   run waiting for a human        leaves the pipeline
 *   no row, started --at a later   SKIP: journalled as skipped, the
 *   step not reached yet           record goes on untouched
 *   otherwise                      RUN
 *
 * Pure: the facts in, the action out.
 */
#ifndef PANIC_FLOW_REPLAY_H
#define PANIC_FLOW_REPLAY_H

enum flow_action { FA_RUN, FA_REPLAY, FA_SKIP, FA_HOLD, FA_PASS };

struct flow_seen {
	const char *status; /* the run's: running, waiting_for_human, completed, failed, stopped */
	const char *state;  /* this step's row: completed, skipped, suspended, resumed, failed; NULL: none */
	int skipping;       /* the run was started --at a step it has not reached */
	int is_at;          /* this step is that step */
};

enum flow_action flow_decide(const struct flow_seen *s);
const char *flow_action_name(enum flow_action a);

#endif
