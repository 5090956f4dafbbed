/* engine: calls in flight, driven by one poll(2) loop.
 *
 * The engine holds the calls that have started and not finished (struct
 * call, platform.h). Each wait gathers every call's descriptors and
 * deadline, and those the program adds (stdin, the bus, a signalfd),
 * polls once, and steps the calls whose descriptors are ready or whose
 * deadline has passed. Calls finish in any order.
 */
#ifndef PANIC_MODEL_ENGINE_H
#define PANIC_MODEL_ENGINE_H

#include <poll.h>

struct call;
struct engine;

struct engine *engine_new(void);
void engine_free(struct engine *e); /* cancels calls still in flight */
/* Starts C (initialised with call_init); C must stay put until done. */
int engine_start(struct engine *e, struct call *c);
/* Waits until a call finishes, one of the N pollfds EXTRA is ready (their
 * revents are set), or TIMEOUT_MS passes (-1: no limit). Returns how many
 * calls finished. */
int engine_wait(struct engine *e, struct pollfd *extra, int n, int timeout_ms);
int engine_inflight(const struct engine *e);
/* Abandons C if it is still in flight (marks it failed, kind cancelled). */
void engine_cancel(struct engine *e, struct call *c);

#endif
