/* events: a run's events on the bus, topic "synaptic:run:RUN" (DESIGN.md
 * §4), as Synaptic publishes them on its PubSub.
 *
 * An event's data is {"event": E, "run_id": RUN, "step": STEP or null,
 * "at": TIME, ...}: E is started, step_completed, retrying, step_error,
 * waiting_for_human, resumed, completed, failed, stopped, scorer,
 * stream_chunk or stream_done. The state file is the truth: a run's rare
 * events (all but started, step_completed, completed, stream_chunk and
 * stream_done, which its rows already tell) are also rows of
 * workflow_events, for `syn-run history`.
 *
 * jv ownership: flow_event consumes EXTRA; the others borrow.
 */
#ifndef PANIC_FLOW_EVENTS_H
#define PANIC_FLOW_EVENTS_H

#include <jv.h>

struct bus;
struct db;

#define FLOW_TOPIC_MAX 64

/* The data of event EVENT of run RUN at STEP (may be NULL), with the
 * fields of EXTRA (an object, or null) added. */
jv flow_event(const char *event, const char *run, const char *step, jv extra);
/* Writes "synaptic:run:RUN" into TOPIC. */
char *flow_topic(const char *run, char topic[static FLOW_TOPIC_MAX]);
/* 1 if events of kind EVENT are kept in workflow_events. */
int flow_event_stored(const char *event);
/* Publishes DATA (an event of flow_event()) on its run's topic; DB stores
 * one too large for a fifo. 0, or -1 with err_msg(). */
int flow_event_publish(struct bus *b, struct db *db, jv data);
/* Stores DATA in workflow_events (in the caller's transaction). */
int flow_event_store(struct db *db, jv data);

#endif
