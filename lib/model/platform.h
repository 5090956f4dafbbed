/* platform: model calls that start now and finish later.
 *
 * A struct call is one model call. The program fills in the model and the
 * input, hands the call to an engine with engine_start() (engine.h), and
 * waits with engine_wait(); when the call is done, c->done is set and the
 * result is in
 * c->output (a string) or c->error ({"kind","message"}). Calls finish in any
 * order; the program decides in which order to report them.
 *
 * A platform is a table of functions. start() begins a call and may finish
 * it at once (the dummy platform does); otherwise fds() says which file
 * descriptors the call waits on and when it must be looked at again (its
 * deadline), and step() moves it on after poll(2). This shape lets a call
 * be a computation, a child process or (with curl's socket interface) an
 * HTTP request, and many of them be in flight in one thread.
 *
 * Error kinds: timeout, exit (a program failed), spawn (a program could not
 * be started), bad_response (output unusable), injected (dummy failure),
 * cancelled; over HTTP also rate_limited, http_4xx, http_5xx, connection
 * (refused, reset or cut off), refused (the model declined: a safety
 * filter) and no_key.
 *
 * A call's timeout_ms bounds the whole call: the engine fails one still
 * unfinished at its deadline (kind timeout) and cancels what it holds. A
 * key the platform sent (secret) is masked in the output and the error
 * message, so an answer that quotes it never carries it further.
 *
 * jv ownership: call_init() consumes INPUT; the call owns input, output,
 * error and usage until call_clear().
 */
#ifndef PANIC_PLATFORM_H
#define PANIC_PLATFORM_H

#include <jv.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "base/id.h"

struct model;
struct call;

/* A tool the model may call: a model of the exec platform, and the JSON
 * schema of its arguments (borrowed; null: any object). */
struct tool {
	const char *name;
	struct model *model;
	jv params;
};

/* What the caller asks of a call beyond its input; every field optional. */
struct call_opts {
	const char *system;   /* system prompt */
	double temperature;   /* < 0: the model's default */
	long max_tokens;      /* 0: the model's default */
	jv schema;            /* borrowed JSON schema for the output, or null */
	int stream;           /* deliver text to on_delta as it arrives */
	void (*on_delta)(struct call *c, const char *text, size_t n);
	const struct tool *tools;
	int ntools;
	int tool_rounds;      /* model answers with tool calls allowed; 0: 8 */
	const char *base_url; /* override the catalogue's */
	const char *key_env;  /* the variable holding the key */
	int attempts;         /* HTTP attempts; 0: the default */
	int attempt_timeout_ms; /* each HTTP attempt; 0: the model's or 120 s */
	int allow_http_key;   /* send a key over plain http to another host */
	int no_strict;        /* the schema as it is, not completed for strict */
	const char *max_tokens_field; /* "max_tokens" for servers that want it */
	char *const *env;     /* exec: more "NAME=value" for the program, NULL-terminated */
};

struct call {
	struct model *model;
	jv input;   /* string */
	int timeout_ms; /* the whole call, retries and tools included; 0: the
	                 * model's or the platform's default */
	const struct call_opts *opts; /* borrowed, or NULL */
	/* Set when the call finishes: */
	int done;
	jv output;  /* string, or null if it failed */
	jv error;   /* null, or {"kind": K, "message": M} */
	jv usage;   /* object or null */
	double cost; /* US dollars, from the model's price; < 0: unknown */
	int64_t started_at; /* wall clock ms */
	int64_t t0;         /* monotonic ms at start */
	int64_t duration_ms;
	char id[ID_LEN + 1];
	char finish[24];    /* why the model stopped, if the platform says and it
	                     * is not the natural end ("length": cut off) */
	int64_t deadline;   /* monotonic ms the call must end by, or 0 */
	/* The platform's own: */
	const char *secret; /* the key it sent (borrowed): masked in what the
	                     * call gives back */
	void *priv;
	void *user; /* the caller's */
};

struct platform {
	const char *name;
	/* Checks the platform's parameters of a catalogue entry (borrowed). */
	int (*check)(jv entry);
	/* Begins C; may finish it (call_done/call_fail) before returning. */
	void (*start)(struct call *c);
	/* Fills at most MAX pollfds C waits on; returns how many. Sets
	 * *deadline (monotonic ms) if C must be stepped by then. */
	int (*fds)(struct call *c, struct pollfd *p, int max, int64_t *deadline);
	/* Moves C on after poll: P holds its fds with revents, NOW is the time. */
	void (*step)(struct call *c, struct pollfd *p, int n, int64_t now);
	/* Abandons an unfinished C, releasing what it holds. */
	void (*cancel)(struct call *c);
	/* Releases what the platform keeps in m->priv (optional). */
	void (*model_free)(struct model *m);
	/* Optional: what every call of the platform shares (HTTP's sockets),
	 * polled once per wait however many calls are in flight. fds and
	 * step above may then be NULL. */
	int (*shared_fds)(struct pollfd *p, int max, int64_t *deadline);
	void (*shared_step)(struct pollfd *p, int n, int64_t now);
	/* Whether its models can call the tools of struct call_opts. */
	int tools;
};

const struct platform *platform_find(const char *name);
/* C's cost (set when it finishes) as a JSON number, or null if unknown. */
jv call_cost(const struct call *c);

void call_init(struct call *c, struct model *m, jv input);
void call_clear(struct call *c);
/* For platforms: finish C with OUTPUT (consumed) or with an error. */
void call_done(struct call *c, jv output);
void call_fail(struct call *c, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
