/* panic-loop: the runner of one network (DESIGN.md §6).
 *
 * A prompt (a record or line on stdin, or an event on prompt:NETWORK)
 * starts a run: invocation 0 takes the prompt, invocation n+1 takes
 * invocation n's output and uses model models[(n+1) mod len], until the run
 * is stopped or replaced. Each invocation goes ready -> invoking ->
 * completed | failed; every change is stored (one short transaction),
 * published on invocation:NETWORK and written to stdout, in that order.
 *
 * Invariants:
 *   - one runner per network (a lock in the state file);
 *   - the running run's invocations have seq 0..n with no gap, n the only
 *     one that may be unfinished; a restart carries on from there;
 *   - at most one call is in flight, and it belongs to the current run and
 *     invocation: a new run cancels it first, and a result is taken only if
 *     its run and seq are still the current ones (no stale step fires).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "archive/config.h"
#include "base/err.h"
#include "base/id.h"
#include "base/notify.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "model/platform.h"
#include "state/db.h"
#include "state/loop.h"

static const char usage[] =
	"usage: panic-loop [OPTION]... NETWORK\n"
	"       panic-loop --status NETWORK\n"
	"       panic-loop --stop NETWORK\n"
	"Run a network: each prompt starts a run in which every output is the\n"
	"next model's input, until it is stopped or a new prompt replaces it.\n"
	"Prompts come from stdin (records or lines) and from the bus topic\n"
	"prompt:NETWORK; {\"command\":\"stop\"} on run:NETWORK stops the run.\n"
	"\n"
	"      --pace SECS      between invocations (default PANIC!'s: 1 s for a\n"
	"                       run's first 10 min, 15 s to 1 h, then 10 min)\n"
	"      --max N          end after N invocations have completed\n"
	"      --retries N      retry a failed invocation N times (default 3)\n"
	"      --backoff SECS   before the first retry, doubling (default 1)\n"
	"      --archive[=FILE] archive image and audio outputs (panic-archive's\n"
	"                       settings, from FILE or ~/.config/panic/archive.json):\n"
	"                       the next model and the stored invocation get the\n"
	"                       archived URL\n"
	"      --exit-on-eof    at the end of stdin, finish the invocation in\n"
	"                       flight, stop the run and exit\n"
	"      --status         print the runner's state as JSON and exit\n"
	"      --stop           end the network's run (its runner's, or one a\n"
	"                       signal left for the next runner) and exit\n"
	PROG_INPUT_USAGE
	"      --models FILE    user catalogue (default $PANIC_MODELS or\n"
	"                       ~/.config/panic/models.json)\n"
	"      --db PATH        state file (default $PANIC_DB)\n"
	"      --bus DIR        the bus (default $PANIC_BUS)\n"
	"  -q, --quiet          less on stderr    -v, --verbose  more on stderr\n"
	"  -h, --help           this help         --version      the version\n"
	"\n"
	"Exit: 0 ok, 1 some input rejected or a run failed, 2 usage, 3 unknown\n"
	"or invalid network, another runner, or a state error.\n";

enum { O_PACE = 256, O_MAX, O_RETRIES, O_BACKOFF, O_EOF, O_STATUS, O_STOP, O_MODELS, O_ARCHIVE };

static const struct option longopts[] = {
	{ "pace", required_argument, 0, O_PACE },
	{ "max", required_argument, 0, O_MAX },
	{ "retries", required_argument, 0, O_RETRIES },
	{ "backoff", required_argument, 0, O_BACKOFF },
	{ "exit-on-eof", no_argument, 0, O_EOF },
	{ "status", no_argument, 0, O_STATUS },
	{ "stop", no_argument, 0, O_STOP },
	{ "models", required_argument, 0, O_MODELS },
	{ "archive", optional_argument, 0, O_ARCHIVE },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	PROG_INPUT_OPTIONS,
	{ 0, 0, 0, 0 },
};

#define LOOK_MS 10

#define DAY_MS (86400 * 1000LL)

static struct {
	int64_t pace_ms; /* < 0: PANIC!'s schedule */
	long max, retries;
	int64_t backoff_ms;
	int exit_on_eof;
} opt = { .pace_ms = -1, .retries = 3, .backoff_ms = 1000 };

static struct {
	struct db *db;
	struct db_lock *lock;
	struct bus *bus;
	struct bus_sub *sub;
	struct catalogue *cat;
	struct engine *eng;
	struct archive *arch; /* --archive */
	jv arch_doc;
	const char *name;
	char net_id[ID_LEN + 1];
	struct model **models;
	int nmodels;
	long lockout_s;
	jv run;            /* the running run, or null */
	int64_t run_start; /* its start, wall ms */
	jv inv;            /* its current invocation, or null */
	struct call call;  /* the call in flight for inv, if calling */
	int calling;
	int retrying;      /* inv failed and waits for its retry */
	int start;         /* inv is stored as invoking: call its model */
	int64_t due;       /* monotonic ms when inv is to be invoked, 0: not */
	long finished;     /* invocations completed by this process */
	int in_type;       /* inv's input type (enum mtype) */
	int refused;       /* a prompt of stdin was refused: exit 4 */
	int eof, stopping;
	int status;
} g;

static char *now_text(char buf[static 32])
{
	return time_rfc3339(time_now_ms(), buf);
}

/* ---- reporting: stored first, then published and printed ---- */

static void note(const char *state)
{
	/* Rewritten when the state changes, else at most every 100 ms. */
	static const char *last;
	static int64_t at;
	int64_t t = time_mono_ms();
	if (last == state && t - at < 100)
		return;
	last = state;
	at = t;
	jv n = jv_object();
	n = json_set(n, "pid", jv_number(getpid()));
	n = json_set(n, "network", jv_string(g.name));
	n = json_set(n, "state", jv_string(state));
	if (jv_get_kind(g.run) == JV_KIND_OBJECT) {
		n = json_set(n, "run_id", json_get(g.run, "id"));
		n = json_set(n, "run_started_ms", jv_number((double)g.run_start));
		n = json_set(n, "lockout_seconds", jv_number((double)g.lockout_s));
	}
	if (jv_get_kind(g.inv) == JV_KIND_OBJECT)
		n = json_set(n, "seq", json_get(g.inv, "seq"));
	if (g.due)
		n = json_set(n, "next_at_ms",
		             jv_number((double)(time_now_ms() + (g.due - time_mono_ms()))));
	n = json_set(n, "updated_ms", jv_number((double)time_now_ms()));
	db_lock_note(g.lock, n);
	char status[128];
	snprintf(status, sizeof status, "STATUS=%s", state);
	notify(status);
	jv_free(n);
}

/* Prints REC (consumed), a record of TYPE, and publishes it on TOPIC:NAME. */
static void report(const char *type, const char *topic, jv rec)
{
	char t[300];
	jv out = json_set(json_set(jv_object(), "type", jv_string(type)), "network",
	                  jv_string(g.name));
	for (int i = jv_object_iter(rec); jv_object_iter_valid(rec, i);
	     i = jv_object_iter_next(rec, i))
		out = jv_object_set(out, jv_object_iter_key(rec, i), jv_object_iter_value(rec, i));
	jv_free(rec);
	/* Written out once, for stdout and for the bus. */
	static FILE *mem;
	static char *buf;
	static size_t size;
	if (!mem && !(mem = open_memstream(&buf, &size)))
		pdie(PX_FAIL, "out of memory");
	rewind(mem);
	json_put(mem, out);
	fflush(mem);
	size_t n = (size_t)ftell(mem);
	fwrite(buf, 1, n, stdout);
	putchar('\n');
	snprintf(t, sizeof t, "%s:%s", topic, g.name);
	if (g.bus && bus_publish_text(g.bus, t, buf, n, g.db) < 0 && prog_verbose > 0)
		pwarn("bus: %s", err_msg());
	jv_free(out);
}

static void write_failed(const char *what) __attribute__((noreturn));
static void follow_network(void);

static void tx_begin(void)
{
	if (db_begin(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
}

static void tx_commit(void)
{
	if (db_commit(g.db) < 0)
		write_failed("state");
}

/* Writes the current invocation in the open transaction. */
static void put_inv(void)
{
	if (db_inv_put(g.db, g.inv) < 0)
		write_failed("state");
}

static void store_inv(void)
{
	tx_begin();
	put_inv();
	tx_commit();
	report("invocation", "invocation", jv_copy(g.inv));
}

static void store_run(const char *event)
{
	tx_begin();
	if (db_run_put(g.db, g.run) < 0)
		write_failed("state");
	tx_commit();
	report("run", "run", json_set(jv_copy(g.run), "event", jv_string(event)));
}

/* ---- invocations ---- */

static struct model *model_at(long seq)
{
	return g.models[seq % g.nmodels];
}

/* Makes invocation SEQ of the current run, ready, with INPUT (consumed)
 * of TYPE (enum mtype); the caller stores it. */
static void new_inv(long seq, jv input, int type)
{
	g.in_type = type;
	char id[ID_LEN + 1];
	jv_free(g.inv);
	g.inv = jv_object();
	g.inv = json_set(g.inv, "id", jv_string(id_new(id)));
	g.inv = json_set(g.inv, "network_id", jv_string(g.net_id));
	g.inv = json_set(g.inv, "run_id", json_get(g.run, "id"));
	g.inv = json_set(g.inv, "seq", jv_number((double)seq));
	g.inv = json_set(g.inv, "model", jv_string(model_at(seq)->id));
	g.inv = json_set(g.inv, "input", input);
	g.inv = json_set(g.inv, "output", jv_null());
	g.inv = json_set(g.inv, "state", jv_string("ready"));
	g.inv = json_set(g.inv, "error", jv_null());
	g.inv = json_set(g.inv, "metadata", json_set(jv_object(), "attempt", jv_number(0)));
}

static void make_inv(long seq, jv input, int type)
{
	new_inv(seq, input, type);
	store_inv();
}

static long inv_seq(void)
{
	jv s = json_get(g.inv, "seq");
	long n = (long)json_int(s, 0, 0, INT64_MAX);
	jv_free(s);
	return n;
}

static long inv_attempt(void)
{
	jv m = json_get(g.inv, "metadata");
	jv a = json_get(m, "attempt");
	long n = (long)json_int(a, 0, 0, INT32_MAX);
	jv_free(a);
	jv_free(m);
	return n;
}

/* The pause before the next invocation, by the run's age (PANIC!'s). */
static int64_t pace_ms(void)
{
	if (opt.pace_ms >= 0)
		return opt.pace_ms;
	int64_t age = time_now_ms() - g.run_start;
	return age < 600000 ? 1000 : age < 3600000 ? 15000 : 600000;
}

static void complete(void);

/* Marks the current invocation invoking (the caller stores it). */
static void mark_invoking(void)
{
	char at[32];
	g.due = 0;
	g.retrying = 0;
	g.inv = json_set(g.inv, "state", jv_string("invoking"));
	g.inv = json_set(g.inv, "started_at", jv_string(now_text(at)));
	g.inv = json_set(g.inv, "error", jv_null());
	g.inv = json_set(g.inv, "metadata",
	                 json_set(jv_object(), "attempt", jv_number((double)inv_attempt() + 1)));
}

/* Calls the model of the current invocation, stored as invoking. */
static void call(void)
{
	g.start = 0;
	note("invoking");
	call_init(&g.call, model_at(inv_seq()), json_get(g.inv, "input"));
	g.calling = 1;
	engine_start(g.eng, &g.call);
	if (g.call.done)
		complete();
}

static void end_run(const char *state, const char *reason);

/* The model of invocation SEQ, whose input is of g.in_type, after an edit
 * of the network; NULL (the run ended, failed) if the models no longer
 * chain from there. */
static struct model *chained(long seq)
{
	struct model *m = model_at(seq);
	if (m->input == g.in_type)
		return m;
	char reason[300];
	snprintf(reason, sizeof reason,
	         "the network changed: model %ld (%s) takes %s, but invocation %ld's input is %s",
	         seq % g.nmodels + 1, m->id, mtype_name(m->input), seq, mtype_name(g.in_type));
	g.inv = json_set(g.inv, "state", jv_string("failed"));
	g.inv = json_set(g.inv, "error", json_set(json_set(jv_object(), "kind",
	                                                   jv_string("network_changed")),
	                                          "message", jv_string(reason)));
	store_inv();
	end_run("failed", reason);
	g.status = PX_FAIL;
	return NULL;
}

/* Invokes the current invocation (due after a pause or a retry), with the
 * network's model of now. */
static void invoke(void)
{
	follow_network();
	struct model *m = chained(inv_seq());
	if (!m)
		return;
	g.inv = json_set(g.inv, "model", jv_string(m->id));
	mark_invoking();
	store_inv();
	call();
}

/* Ends the run: STATE stopped, failed or superseded, with REASON. */
/* Abandons what the run has going: the call (its result must never land),
 * the wait for the next invocation, a retry. */
static void halt(void)
{
	if (g.calling) {
		engine_cancel(g.eng, &g.call);
		call_clear(&g.call);
		g.calling = 0;
	}
	g.due = 0;
	g.retrying = 0;
	g.start = 0;
}

/* The runner holds no run now. */
static void drop_run(void)
{
	jv_free(g.run);
	jv_free(g.inv);
	g.run = g.inv = jv_null();
	note("idle");
}

static void end_run(const char *state, const char *reason)
{
	char at[32];
	if (jv_get_kind(g.run) != JV_KIND_OBJECT)
		return;
	int unfinished = g.calling || g.start; /* stored as invoking */
	halt();
	if (unfinished) {
		g.inv = json_set(g.inv, "state", jv_string("failed"));
		g.inv = json_set(g.inv, "finished_at", jv_string(now_text(at)));
		g.inv = json_set(g.inv, "error",
		                 json_set(json_set(jv_object(), "kind", jv_string(state)), "message",
		                          jv_string(reason)));
		store_inv();
	}
	g.run = json_set(g.run, "state", jv_string(state));
	g.run = json_set(g.run, "stopped_at", jv_string(now_text(at)));
	g.run = json_set(g.run, "reason", jv_string(reason));
	store_run(state);
	drop_run();
}

/* The runner goes and the run stays (a signal, a closed reader): the call
 * in flight is abandoned, and its invocation, stored as invoking, is
 * invoked again by the next runner, as after a crash. A restart under
 * systemd carries on the gallery's run. */
static void leave(const char *reason)
{
	if (jv_get_kind(g.run) != JV_KIND_OBJECT)
		return;
	halt();
	report("run", "run", json_set(json_set(jv_copy(g.run), "event", jv_string("paused")),
	                              "reason", jv_string(reason)));
	drop_run();
}

/* A call finished: take its result into the current invocation. Its
 * calls row, its end, and the next invocation (ready) are one transaction. */
static void complete(void)
{
	char at[32];
	g.calling = 0;
	int ok = jv_get_kind(g.call.error) == JV_KIND_NULL;
	if (ok)
		follow_network(); /* the next invocation uses the models of now */
	g.inv = json_set(g.inv, "state", jv_string(ok ? "completed" : "failed"));
	g.inv = json_set(g.inv, "output", jv_copy(g.call.output));
	if (ok && g.arch) /* the stored output and the next input: the archived URL */
		g.inv = archive_invocation(g.arch, mtype_name(g.call.model->output), g.inv);
	g.inv = json_set(g.inv, "error", jv_copy(g.call.error));
	g.inv = json_set(g.inv, "usage", jv_copy(g.call.usage));
	g.inv = json_set(g.inv, "finished_at", jv_string(now_text(at)));
	const char *links[CALL_LINKS] = { g.name, json_str(g.run, "id", NULL), NULL, NULL };
	tx_begin();
	if (call_log(g.db, &g.call, links, 1) < 0)
		write_failed("call log");
	call_clear(&g.call);
	put_inv();
	int out_type = g.call.model->output;
	int more = ok && !(opt.max && ++g.finished >= opt.max) && !(g.eof && opt.exit_on_eof);
	char broken[300] = "";
	if (more && model_at(inv_seq() + 1)->input != out_type) {
		struct model *m = model_at(inv_seq() + 1);
		snprintf(broken, sizeof broken,
		         "the network changed: model %ld (%s) takes %s, but invocation %ld gave %s",
		         (inv_seq() + 1) % g.nmodels + 1, m->id, mtype_name(m->input), inv_seq(),
		         mtype_name(out_type));
		more = 0;
	}
	jv done = jv_copy(g.inv), ready = jv_null();
	int64_t pace = more ? pace_ms() : 0;
	if (more) {
		new_inv(inv_seq() + 1, json_get(g.inv, "output"), out_type);
		put_inv();
		if (!pace) { /* due now: invoking goes in the same transaction */
			ready = jv_copy(g.inv);
			mark_invoking();
			put_inv();
		}
	}
	tx_commit();
	report("invocation", "invocation", done);
	if (jv_get_kind(ready) == JV_KIND_OBJECT)
		report("invocation", "invocation", ready);
	if (more) {
		report("invocation", "invocation", jv_copy(g.inv));
		if (pace) {
			g.due = time_mono_ms() + pace;
			note("waiting");
		} else {
			g.start = 1; /* the loop calls it: no recursion through complete() */
		}
		return;
	}
	if (ok && *broken) {
		end_run("failed", broken);
		g.status = PX_FAIL;
		return;
	}
	if (ok) {
		end_run("stopped", opt.max && g.finished >= opt.max ? "max" : "end of input");
		g.stopping = 1;
		return;
	}
	long attempt = inv_attempt();
	if (attempt <= opt.retries) {
		g.retrying = 1;
		/* Doubling from --backoff, at most a day between tries. */
		int64_t wait = opt.backoff_ms;
		for (long k = 1; k < attempt && wait < DAY_MS; k++)
			wait *= 2;
		g.due = time_mono_ms() + (wait < DAY_MS ? wait : DAY_MS);
		note("waiting");
		return;
	}
	jv m = json_get(g.inv, "error");
	jv msg = json_get(m, "message");
	char reason[600];
	snprintf(reason, sizeof reason, "invocation %ld failed %ld times: %s", inv_seq(), attempt,
	         jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "?");
	jv_free(msg);
	jv_free(m);
	end_run("failed", reason);
	g.status = PX_FAIL;
	if (opt.exit_on_eof && g.eof)
		g.stopping = 1;
}

/* ---- prompts ---- */

/* Starts a run of TEXT; 1 if the prompt was refused (lockout). */
static int prompt(const char *text)
{
	char at[32], id[ID_LEN + 1];
	follow_network(); /* its lockout and models of now */
	if (jv_get_kind(g.run) == JV_KIND_OBJECT) {
		int64_t left = g.run_start + g.lockout_s * 1000 - time_now_ms();
		if (left > 0) {
			jv r = jv_object();
			r = json_set(r, "run_id", json_get(g.run, "id"));
			r = json_set(r, "prompt", jv_string(text));
			r = json_set(r, "seconds_left", jv_number(ceil((double)left / 1000)));
			report("lockout", "run", r);
			return 1;
		}
		end_run("superseded", "a new prompt");
	}
	g.run_start = time_now_ms();
	g.run = jv_object();
	g.run = json_set(g.run, "id", jv_string(id_new_at(g.run_start, id)));
	g.run = json_set(g.run, "network_id", jv_string(g.net_id));
	g.run = json_set(g.run, "prompt", jv_string(text));
	g.run = json_set(g.run, "state", jv_string("running"));
	g.run = json_set(g.run, "started_at", jv_string(time_rfc3339(g.run_start, at)));
	g.run = json_set(g.run, "stopped_at", jv_null());
	g.run = json_set(g.run, "reason", jv_null());
	store_run("started");
	make_inv(0, jv_string(text), MT_TEXT);
	invoke();
	return 0;
}

static int bus_event(const char *line, size_t n, void *ctx)
{
	(void)ctx;
	jv ev = jv_parse_sized(line, (int)n);
	const char *topic = json_str(ev, "topic", NULL);
	jv data = json_get(ev, "data");
	if (topic && !strncmp(topic, "prompt:", 7)) {
		const char *text = json_str(data, "input", NULL);
		if (text)
			prompt(text);
		else if (prog_verbose >= 0)
			pwarn("bus: prompt:%s event without \"input\" (the prompt) as a string", g.name);
	} else if (topic && !strncmp(topic, "run:", 4)) {
		/* run:NETWORK carries the runners' own reports too ("type"). */
		const char *cmd = json_str(data, "command", NULL);
		if (cmd && !strcmp(cmd, "stop"))
			end_run("stopped", "a stop request");
		else if (!json_has(data, "type") && prog_verbose >= 0)
			pwarn("bus: run:%s: %s%s%s (the command is \"stop\")", g.name,
			      cmd ? "unknown command '" : "no \"command\" as a string",
			      cmd ? cmd : "", cmd ? "'" : "");
	}
	jv_free(data);
	jv_free(ev);
	return 0;
}

/* ---- start-up: the network, its lock, a run to carry on ---- */

/* The network g.name, or exit 3. */
static jv network(void)
{
	jv net = db_net_get(g.db, g.name);
	if (!jv_is_valid(net))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(net) == JV_KIND_NULL)
		pdie(PX_CONFIG, "no network '%s' (see panic-net list)", g.name);
	return net;
}

static char *lock_name(jv net, char buf[static 80])
{
	return loop_lock_name(net, buf);
}

/* Takes NET's models and lockout (NET borrowed); -1 with err_msg() if its
 * models do not make a network. */
static int take_network(jv net)
{
	jv models = json_get(net, "models");
	int rc = catalogue_chain(g.cat, models);
	int n = rc < 0 ? 0 : jv_array_length(jv_copy(models));
	struct model **v = rc < 0 ? NULL : calloc((size_t)n, sizeof *v);
	if (rc == 0 && !v)
		pdie(PX_FAIL, "out of memory");
	for (int i = 0; v && i < n; i++) {
		jv id = jv_array_get(jv_copy(models), i);
		v[i] = catalogue_find(g.cat, jv_string_value(id));
		jv_free(id);
	}
	jv_free(models);
	if (rc < 0)
		return -1;
	free(g.models);
	g.models = v;
	g.nmodels = n;
	jv lock = json_get(net, "lockout_seconds");
	g.lockout_s = (long)json_int(lock, 30, 0, 86400L * 365 * 100);
	jv_free(lock);
	return 0;
}

static void load_network(void)
{
	jv net = network();
	if (take_network(net) < 0)
		pdie(PX_CONFIG, "network '%s' is invalid: %s", g.name, err_msg());
	snprintf(g.net_id, sizeof g.net_id, "%s", json_str(net, "id", NULL));
	char name[80];
	if (db_lock(g.db, lock_name(net, name), &g.lock) < 0)
		pdie(PX_CONFIG, "network '%s' already has a runner: %s", g.name, err_msg());
	jv_free(net);
	db_changed(g.db); /* what was read is current */
}

/* The network was deleted (with its runs) while the runner ran: nothing
 * of it may be written any more, so the runner says so and stops. */
static void __attribute__((noreturn)) gone(void)
{
	db_rollback(g.db);
	if (g.calling)
		engine_cancel(g.eng, &g.call);
	pwarn("network '%s' was deleted: the runner stops", g.name);
	notify("STOPPING=1");
	exit(prog_finish(g.status));
}

/* Follows edits of the network, as PANIC! re-reads it at every step: when
 * anyone has changed the state file since the last look, its models and
 * lockout are read again (a model list that no longer makes a network is
 * reported and ignored). A deleted network stops the runner. */
static void follow_network(void)
{
	int changed = db_changed(g.db);
	if (changed < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (!changed)
		return;
	jv net = db_net_get(g.db, g.name);
	if (!jv_is_valid(net))
		pdie(PX_CONFIG, "state: %s", err_msg());
	const char *id = json_str(net, "id", NULL);
	if (!id || strcmp(id, g.net_id)) {
		jv_free(net);
		gone();
	}
	if (take_network(net) < 0 && prog_verbose >= 0)
		pwarn("network '%s' changed into an invalid one, ignored: %s", g.name, err_msg());
	jv_free(net);
}

/* A write failed: if the network is gone, stop cleanly; else die. */
static void __attribute__((noreturn)) write_failed(const char *what)
{
	char why[512];
	snprintf(why, sizeof why, "%s", err_msg());
	db_rollback(g.db);
	jv net = db_net_get(g.db, g.name);
	int exists = jv_get_kind(net) == JV_KIND_OBJECT &&
	             !strcmp(json_str_or(net, "id", ""), g.net_id);
	jv_free(net);
	if (!exists)
		gone();
	pdie(PX_CONFIG, "%s: %s", what, why);
}

/* Carries on the run a killed runner left, from what the state file holds. */
static void resume(void)
{
	g.run = db_run_current(g.db, g.net_id);
	if (jv_get_kind(g.run) != JV_KIND_OBJECT) {
		jv_free(g.run);
		g.run = jv_null();
		return;
	}
	g.run_start = time_parse_rfc3339(json_str(g.run, "started_at", NULL));
	if (g.run_start < 0)
		g.run_start = time_now_ms();
	store_run("resumed");
	jv_free(g.inv);
	g.inv = db_inv_last(g.db, json_str(g.run, "id", NULL));
	const char *state = json_str(g.inv, "state", NULL);
	if (!state) { /* killed before invocation 0 was stored */
		jv_free(g.inv);
		g.inv = jv_null();
		make_inv(0, json_get(g.run, "prompt"), MT_TEXT);
		invoke();
	} else if (!strcmp(state, "completed")) {
		struct model *m = catalogue_find(g.cat, json_str_or(g.inv, "model", ""));
		make_inv(inv_seq() + 1, json_get(g.inv, "output"),
		         m ? m->output : model_at(inv_seq())->output);
		g.due = time_mono_ms() + pace_ms();
	} else if (!strcmp(state, "failed") && inv_attempt() > opt.retries) {
		end_run("failed", "its last invocation had failed");
	} else { /* ready, invoking (its result lost with the runner), failed */
		long seq = inv_seq();
		g.in_type = seq ? model_at(seq - 1)->output : MT_TEXT;
		g.due = time_mono_ms();
	}
}

static int status(void)
{
	jv net = network();
	jv n = loop_status(g.db, net, time_now_ms());
	jv_free(net);
	if (!jv_is_valid(n))
		pdie(PX_CONFIG, "state: %s", err_msg());
	json_write(stdout, n);
	jv_free(n);
	return PX_OK;
}

/* --stop: ends the network's run. Its runner, if one runs, gets the stop
 * request on the bus; a run no runner holds (paused by a signal, or left
 * by a crash) is ended here, in the state file, as its runner would. */
static int stop(void)
{
	jv net = network();
	snprintf(g.net_id, sizeof g.net_id, "%s", json_str(net, "id", NULL));
	char name[80];
	lock_name(net, name);
	jv_free(net);
	g.bus = prog_bus_open("no events");
	jv held = db_lock_peek(g.db, name);
	int running = jv_get_kind(held) != JV_KIND_NULL;
	jv_free(held);
	if (running) {
		char topic[300];
		snprintf(topic, sizeof topic, "run:%s", g.name);
		jv cmd = json_set(jv_object(), "command", jv_string("stop"));
		int rc = g.bus ? bus_publish(g.bus, topic, cmd, g.db) : -1;
		jv_free(cmd);
		if (rc < 0)
			pdie(PX_CONFIG, "network '%s' has a runner, and the stop request cannot "
			     "reach it: bus: %s", g.name, g.bus ? err_msg() : "not open");
		if (prog_verbose > 0)
			pwarn("%s: the stop request went to its runner", g.name);
		return PX_OK;
	}
	if (db_lock(g.db, name, &g.lock) < 0) /* a runner came up just now */
		pdie(PX_CONFIG, "network '%s' has a runner: %s; try again", g.name, err_msg());
	g.run = db_run_current(g.db, g.net_id);
	if (jv_get_kind(g.run) != JV_KIND_OBJECT) {
		if (prog_verbose > 0)
			pwarn("%s: no run to stop", g.name);
		return PX_OK;
	}
	jv_free(g.inv);
	g.inv = db_inv_last(g.db, json_str(g.run, "id", NULL));
	const char *state = json_str(g.inv, "state", NULL);
	g.start = state && (!strcmp(state, "invoking") || !strcmp(state, "ready"));
	end_run("stopped", "a stop request");
	return PX_OK;
}

/* ---- the loop ---- */

/* The record loop's callbacks. Prompts come from stdin (records) and the
 * bus; work() starts what is due and says how long the runner may wait;
 * the loop waits in the engine, on stdin, the bus and the signals. */
static struct {
	struct watchdog wd;
	int64_t looked;
} w;

static void on_record(struct loop *l, jv rec)
{
	const char *text = json_str(rec, "input", NULL);
	if (text)
		g.refused |= prompt(text);
	else
		loop_reject(l, "no \"input\" (the prompt) as a string");
	jv_free(rec);
}

static int on_room(struct loop *l)
{
	(void)l;
	return !g.stopping;
}

static int on_work(struct loop *l)
{
	if (l->eof && !g.eof) {
		g.eof = 1;
		/* An invocation in flight (or awaiting a retry) finishes first. */
		if (opt.exit_on_eof && !g.calling && !g.retrying) {
			end_run("stopped", "end of input");
			g.stopping = 1;
		}
	}
	if (g.sub && bus_sub_read(g.sub, bus_event, NULL) < 0)
		pdie(PX_CONFIG, "bus: %s", err_msg());
	/* Invocations back to back (pace 0): look at stdin, the bus and
	 * signals every LOOK_MS, not between every two calls. */
	w.looked = time_mono_ms();
	while (!g.stopping && !g.calling && g.start && time_mono_ms() - w.looked < LOOK_MS)
		call();
	if (!g.calling && !g.start && g.due && time_mono_ms() >= g.due)
		invoke();
	if (g.stopping)
		return LOOP_END;
	int64_t now = time_mono_ms();
	int wait = g.start ? 0 : -1;
	if (!g.calling && g.due) /* a pace of months: wake within a day */
		wait = (int)(g.due <= now ? 0 : g.due - now < DAY_MS ? g.due - now : DAY_MS);
	return watchdog_tick(&w.wd, wait);
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	return engine_wait(g.eng, p, n, ms);
}

/* A signal or a closed reader stops the runner; the run stays. */
static void stopping(struct loop *l)
{
	if (!l->stop && prog_loop_stopping(l))
		leave(prog_signalled ? "signal" : "output closed");
}

/* About to wait: show what we have. */
static void on_idle(struct loop *l)
{
	g.status = prog_flush(g.status);
	if (g.bus)
		bus_flush(g.bus);
	stopping(l);
}

static void on_woke(struct loop *l)
{
	if (g.calling && g.call.done)
		complete();
	stopping(l);
}

static void on_archive_tick(void *ctx)
{
	(void)ctx;
	watchdog_tick(&w.wd, -1);
}

static void run(void)
{
	struct nd_reader *r = prog_reader(0);
	watchdog_init(&w.wd);
	if (g.arch) /* an archive in progress gives up on a stop signal */
		archive_hooks(g.arch, prog_signalfd(), on_archive_tick, NULL);
	struct loop l = { .in = r, .record = on_record, .bad = prog_loop_bad, .room = on_room,
		          .work = on_work, .wait = on_wait, .idle = on_idle, .woke = on_woke,
		          .nfds = 1 };
	l.fds[0] = (struct pollfd){ .fd = g.sub ? bus_sub_fd(g.sub) : -1, .events = POLLIN };
	prog_loop_watch(&l);
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	if (l.nbad)
		g.status = PX_FAIL;
	if (g.refused && g.status == PX_OK)
		g.status = PX_REFUSED;
	notify("STOPPING=1");
	nd_free(r);
}

int main(int argc, char **argv)
{
	prog_init("panic-loop");
	const char *models = NULL, *archive = NULL;
	int want_status = 0, want_stop = 0, c;
	while ((c = getopt_long(argc, argv, "Rqvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_PACE: opt.pace_ms = prog_ms("--pace", optarg, 86400 * 365, 0); break;
		case O_MAX: opt.max = prog_atol("--max", optarg, 1, 1L << 40); break;
		case O_RETRIES: opt.retries = prog_atol("--retries", optarg, 0, 1000); break;
		case O_BACKOFF: opt.backoff_ms = prog_ms("--backoff", optarg, 86400, 0); break;
		case O_EOF: opt.exit_on_eof = 1; break;
		case O_STATUS: want_status = 1; break;
		case O_STOP: want_stop = 1; break;
		case O_MODELS: models = optarg; break;
		case O_ARCHIVE: archive = optarg ? optarg : ""; break;
		default: prog_option(c, usage);
		}
	}
	if (optind != argc - 1)
		pusage(optind >= argc ? "no network" : "one network at a time");
	if (want_status && want_stop)
		pusage("--status or --stop, not both");
	g.name = argv[optind];
	g.run = g.inv = jv_null();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	g.db = prog_state(want_status ? DB_CREATE : DB_CREATE | DB_WRITE);
	if (want_status)
		return prog_finish(status());
	if (want_stop) {
		int rc = stop();
		bus_close(g.bus); /* and what it published goes out */
		return prog_finish(rc);
	}

	if (catalogue_load(&g.cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	load_network(); /* and take its runner's lock */
	g.bus = prog_bus_open("no events, no bus prompts");
	if (g.bus) {
		char p1[300], p2[300];
		snprintf(p1, sizeof p1, "prompt:%s", g.name);
		snprintf(p2, sizeof p2, "run:%s", g.name);
		const char *pats[] = { p1, p2 };
		if (bus_subscribe(g.bus, pats, 2, &g.sub) < 0)
			pdie(PX_CONFIG, "bus: %s", err_msg());
	}
	g.eng = engine_new();
	g.arch_doc = jv_null();
	if (archive) {
		struct archive_opts ao = { 0 };
		if (archive_settings(&ao, *archive ? archive : NULL, &g.arch_doc) < 0 ||
		    archive_open(&g.arch, &ao, g.db) < 0)
			pdie(PX_CONFIG, "archive: %s", err_msg());
	}
	notify("READY=1");
	note("idle");
	resume();

	run();

	if (g.calling) {
		engine_cancel(g.eng, &g.call);
		call_clear(&g.call);
	}
	engine_free(g.eng);
	archive_close(g.arch);
	jv_free(g.arch_doc);
	bus_unsubscribe(g.sub);
	bus_close(g.bus);
	db_unlock(g.lock);
	jv_free(g.run);
	jv_free(g.inv);
	free(g.models);
	catalogue_free(g.cat);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(g.status);
}
