/* toolrun: the tools a chat model asks for, run as programs.
 *
 * When a model answers with tool calls, the platform hands them over as
 * [{"name": N, "arguments": JSON text}]. Each runs in turn as the exec
 * model of its --tool (the arguments on its stdin, its stdout the answer),
 * driven by the engine's poll loop like any call, so other calls in
 * flight go on. An unknown tool, arguments that are not a JSON object, or
 * a failed program give an answer that says so, for the model to read;
 * the program does not run on arguments it could not read. A model that keeps calling tools is
 * stopped after the call's tool_rounds (default 8) rounds.
 */
#ifndef PANIC_TOOLRUN_H
#define PANIC_TOOLRUN_H

#include <jv.h>

#include "model/platform.h"

struct toolrun {
	struct call sub; /* the program running now, if busy */
	int busy;
	int rounds;
	jv calls;   /* this round's calls */
	jv answers; /* their answers so far (strings) */
};

/* The declaration of tool T for a model: {name, description, KEY:
 * its arguments' schema}. */
jv toolrun_declaration(const struct tool *t, const char *key);
void toolrun_init(struct toolrun *t);
void toolrun_free(struct toolrun *t);
/* A new round of CALLS (consumed) for C. Returns 0, or -1 with err_msg()
 * if C has used up its rounds. */
int toolrun_begin(struct toolrun *t, const struct call *c, jv calls);
/* Runs the round on: 1 when every call has its answer (in t->answers), 0
 * while a program runs (see toolrun_fds and toolrun_step). */
int toolrun_go(struct toolrun *t, const struct call *c);
/* The platform's fds() and step() while a program runs; step returns as
 * toolrun_go does, and 0 if nothing runs. */
int toolrun_fds(struct toolrun *t, struct pollfd *p, int max, int64_t *deadline);
int toolrun_step(struct toolrun *t, const struct call *c, struct pollfd *p, int n, int64_t now);

#endif
