/* step: one stage's step, as its options define it, and its description.
 *
 * A step has a name (1 to 64 letters, digits, '_', '-' or '.') and one
 * action: a command (argv, never a shell), a jq program, a model call, a
 * scorer, or none (the step only passes the run on, or only suspends).
 * Around the action: a suspension before it (--suspend), retries with
 * backoff, a timeout, a fallback merge when every attempt has failed,
 * and scorers that look at the context once the step is done.
 *
 * jv ownership: a struct flow_step owns its jv fields.
 */
#ifndef PANIC_FLOW_STEP_H
#define PANIC_FLOW_STEP_H

#include <jv.h>

enum flow_kind { FK_PASS, FK_COMMAND, FK_JQ, FK_LLM, FK_SCORE };

#define FLOW_NAME_MAX 64
#define FLOW_MAX_SCORERS 8
#define FLOW_MAX_TOOLS 16

struct flow_scorer {
	const char *name;
	const char *program; /* run by argv: the program alone */
};

struct flow_tool {
	const char *name, *program;
};

struct flow_step {
	const char *name;
	int kind;
	char **argv;         /* FK_COMMAND, FK_SCORE: NULL-terminated */
	const char *jq;      /* FK_JQ */
	const char *model, *prompt, *to, *system; /* FK_LLM */
	double temperature;  /* < 0: the model's */
	long max_tokens;     /* 0: the model's */
	int stream;
	jv output_schema;    /* null, or the JSON schema of the answer */
	struct flow_tool tools[FLOW_MAX_TOOLS];
	int ntools;
	const char *suspend; /* the message (a template), or NULL */
	jv schema;           /* the resume schema, or null */
	jv metadata;         /* the suspension's metadata (string values are templates), or null */
	jv fallback;         /* merged when every attempt failed, or null */
	int retry;           /* attempts after the first */
	double backoff;      /* seconds before the first retry, doubling */
	double timeout;      /* seconds per attempt; 0: none of our own */
	struct flow_scorer scorers[FLOW_MAX_SCORERS];
	int nscorers;
	int jobs;
};

/* Initialises S with no action and the defaults. */
void flow_step_init(struct flow_step *s);
void flow_step_free(struct flow_step *s);
/* 0 if NAME may name a step, else -1 with err_msg(). */
int flow_step_name_check(const char *name);
const char *flow_kind_name(int kind);
/* Compiles the jq PROGRAM into *OUT (a jq_state), to check it or run it:
 * 0, or -1 with err_msg(). */
int flow_jq_compile(const char *program, void **out);
void flow_jq_free(void *jq);
/* The step as a description: {"step", "kind", and its options}. */
jv flow_step_describe(const struct flow_step *s);

#endif
