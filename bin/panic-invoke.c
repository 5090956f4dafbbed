/* panic-invoke: one model call per record (DESIGN.md §6).
 *
 * Reads records (or plain lines) on stdin, calls the model on each record's
 * input, and writes the record back with model, output, output_type, state,
 * error, duration_ms, started_at, usage, cost and call_id added; every
 * other field passes through. Up to -j calls are in flight at once and
 * records still come out in input order. Each call is logged in the state
 * file's calls table (committed before output is flushed) unless --no-log.
 *
 * What is asked of a chat model (system prompt, temperature, max tokens,
 * schema, base URL, key variable) comes from the options, then the profile
 * chosen with -p (profiles.json in the config directory), then the
 * catalogue entry. --stream writes {"call_id","model","delta"} records as
 * text arrives; --tool lets an openai or gemini model run programs.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "http/url.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "model/profile.h"
#include "model/platform.h"
#include "state/db.h"

#define TOOL_PLATFORMS "only openai and gemini models can"

static const char usage[] =
	"usage: panic-invoke [-m MODEL] [OPTION]... [-- PROGRAM [ARG]...]\n"
	"Call a model once per record of stdin; write each record with the result.\n"
	"\n"
	"  -m, --model ID       the model (default: each record's \"model\" field);\n"
	"                       PLATFORM:NAME names any model of openai, replicate\n"
	"                       or gemini, as openai:gpt-4o-mini\n"
	"  -p, --profile NAME   settings from profiles.json in the config directory\n"
	"  -j, --jobs N         calls in flight at once (default 1); order is kept\n"
	"      --system TEXT    system prompt\n"
	"      --temperature T  sampling temperature (0 to 2)\n"
	"      --max-tokens N   longest answer, in tokens\n"
	"      --schema JSON    the answer must be JSON of this schema (@FILE reads it)\n"
	"      --no-strict      send the schema as it is (else completed for\n"
	"                       OpenAI's strict mode when it can be)\n"
	"      --stream         write {\"delta\"} records as the text arrives\n"
	"      --tool NAME=PROGRAM  a tool the model may call: PROGRAM gets the\n"
	"                       arguments JSON on stdin, its stdout is the answer\n"
	"      --tool-schema NAME=JSON  the JSON schema of tool NAME's arguments\n"
	"                       (@FILE reads it)\n"
	"      --tool-rounds N  tool-calling answers allowed per call (default 8)\n"
	"      --base-url URL   the API's address (an OpenAI-compatible server)\n"
	"      --allow-http-key send the key over plain http to a host that is\n"
	"                       not this machine (else refused)\n"
	"      --key-env NAME   the variable (or keys file entry) holding the key\n"
	"      --attempts N     HTTP attempts per request (default 4)\n"
	"      --from FIELD     take the input from FIELD (default \"input\")\n"
	"      --timeout SECS   fail a call after SECS seconds, retries, waits and\n"
	"                       tools included (exec: kill it)\n"
	"      --attempt-timeout SECS  each HTTP attempt (default 120)\n"
	"      --types IN:OUT   types of an ad-hoc PROGRAM or a PLATFORM:NAME model\n"
	"      --models FILE    user catalogue (default $PANIC_MODELS or\n"
	"                       ~/.config/panic/models.json)\n"
	"      --no-log         do not record calls in the state file\n"
	"      --db PATH        state file (default $PANIC_DB or\n"
	"                       ~/.local/state/panic/panic.db)\n"
	"      --bus DIR        the bus for llm events (default $PANIC_BUS or\n"
	"                       $XDG_RUNTIME_DIR/panic-$UID/bus)\n"
	PROG_INPUT_USAGE
	"  -l, --list           print the catalogue (a table on a terminal)\n"
	"      --json, --table  with --list, force its format; -q lists ids only\n"
	"  -q, --quiet          less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help           this help          --version      the version\n"
	"\n"
	"With -- PROGRAM [ARG]..., PROGRAM is the model: the input on its stdin,\n"
	"the output from its stdout, run by argv without a shell.\n"
	"Exit: 0 ok, 1 some input rejected or some call failed, 2 usage,\n"
	"3 configuration or state error.\n"
	"Keys: OPENAI_API_KEY, REPLICATE_API_TOKEN, GEMINI_API_KEY, or the 0600 file\n"
	"~/.config/panic/keys (NAME=VALUE lines).\n";

enum { O_FROM = 256, O_TIMEOUT, O_TYPES, O_MODELS, O_NOLOG,
       O_TABLE, O_SYSTEM, O_TEMP, O_MAXTOK, O_SCHEMA, O_STREAM, O_TOOL, O_ROUNDS,
       O_BASE, O_KEYENV, O_ATTEMPTS, O_ATTEMPT_TIMEOUT, O_ALLOW_HTTP, O_NOSTRICT,
       O_TOOLSCHEMA };

static const struct option longopts[] = {
	{ "model", required_argument, 0, 'm' },
	{ "profile", required_argument, 0, 'p' },
	{ "jobs", required_argument, 0, 'j' },
	{ "system", required_argument, 0, O_SYSTEM },
	{ "temperature", required_argument, 0, O_TEMP },
	{ "max-tokens", required_argument, 0, O_MAXTOK },
	{ "schema", required_argument, 0, O_SCHEMA },
	{ "stream", no_argument, 0, O_STREAM },
	{ "tool", required_argument, 0, O_TOOL },
	{ "tool-rounds", required_argument, 0, O_ROUNDS },
	{ "tool-schema", required_argument, 0, O_TOOLSCHEMA },
	{ "no-strict", no_argument, 0, O_NOSTRICT },
	{ "base-url", required_argument, 0, O_BASE },
	{ "key-env", required_argument, 0, O_KEYENV },
	{ "attempts", required_argument, 0, O_ATTEMPTS },
	{ "attempt-timeout", required_argument, 0, O_ATTEMPT_TIMEOUT },
	{ "allow-http-key", no_argument, 0, O_ALLOW_HTTP },
	{ "from", required_argument, 0, O_FROM },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "types", required_argument, 0, O_TYPES },
	{ "models", required_argument, 0, O_MODELS },
	{ "no-log", no_argument, 0, O_NOLOG },
	{ "list", no_argument, 0, 'l' },
	{ "table", no_argument, 0, O_TABLE },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	PROG_INPUT_OPTIONS,
	{ 0, 0, 0, 0 },
};

/* A record between input and output. */
struct slot {
	jv rec;
	char *raw; /* the record's text as read (nd_raw), or NULL */
	size_t rawlen;
	unsigned links; /* which of call_link_names the record has */
	int streamed;   /* --stream: a delta was written */
	int pass;       /* failed upstream: written back untouched */
	struct call call;
};

static struct {
	struct catalogue *cat;
	struct model *model; /* -m or the ad-hoc program, else NULL */
	const char *from;
	int timeout_ms;
	struct db *db;
	struct bus *bus; /* NULL if it could not be opened */
	struct engine *eng;
	struct slot *q; /* ring of pending records, in input order */
	int qcap, qhead, qlen;
	int status;
	int jobs; /* -j */
	struct call_opts opts;
	struct tool tools[16];
	const char *toolprog[16];
	struct tool toolschema[16]; /* --tool-schema: name and params */
	int ntoolschemas;
} g = { .from = "input", .jobs = 1, .opts = { .temperature = -1 } };

static void list(int format)
{
	size_t n = catalogue_count(g.cat);
	if (format == 'T') { /* the id column as wide as the longest id */
		int w = 2;
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(catalogue_at(g.cat, i)->id) > w)
				w = (int)strlen(catalogue_at(g.cat, i)->id);
		printf("%-*s %-10s %-16s %s\n", w, "ID", "PLATFORM", "TYPES", "NAME");
		for (size_t i = 0; i < n; i++) {
			struct model *m = catalogue_at(g.cat, i);
			char types[32];
			snprintf(types, sizeof types, "%s -> %s", mtype_name(m->input),
			         mtype_name(m->output));
			printf("%-*s %-10s %-16s %s\n", w, m->id, m->platform->name, types, m->name);
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct model *m = catalogue_at(g.cat, i);
		if (format == 'q') {
			puts(m->id);
			continue;
		}
		jv o = jv_object();
		o = json_set(o, "id", jv_string(m->id));
		o = json_set(o, "name", jv_string(m->name));
		o = json_set(o, "platform", jv_string(m->platform->name));
		o = json_set(o, "input", jv_string(mtype_name(m->input)));
		o = json_set(o, "output", jv_string(mtype_name(m->output)));
		jv price = json_get(m->entry, "price");
		if (jv_is_valid(price))
			o = json_set(o, "price", price);
		json_write(stdout, o);
		jv_free(o);
	}
}

/* The model of the ad-hoc PROGRAM ARGS... */
static struct model *adhoc(char **argv, int argc, const char *types)
{
	char in[16] = "text", out[16] = "text";
	if (types && sscanf(types, "%15[a-z]:%15[a-z]", in, out) != 2)
		pusage("--types: expected IN:OUT, as text:image, got '%s'", types);
	jv cmd = jv_array();
	for (int i = 0; i < argc; i++)
		cmd = jv_array_append(cmd, jv_string(argv[i]));
	char id[128];
	snprintf(id, sizeof id, "exec:%s", argv[0]);
	for (char *p = id; *p; p++) /* ids have no white space */
		if (*p == ' ' || *p == '\t' || *p == '\n')
			*p = '_';
	jv e = jv_object();
	e = json_set(e, "id", jv_string(id));
	e = json_set(e, "platform", jv_string("exec"));
	e = json_set(e, "input", jv_string(in));
	e = json_set(e, "output", jv_string(out));
	e = json_set(e, "command", cmd);
	struct model *m = catalogue_add(g.cat, e, "command line");
	if (!m)
		pdie(PX_USAGE, "%s", err_msg());
	return m;
}

/* Publishes an "llm" event for the call of S: start, stop or exception.
 * Nothing is built unless someone subscribes to it. */
static void llm_event(const struct slot *s, const char *what)
{
	if (!g.bus || !bus_wants(g.bus, "llm"))
		return;
	const struct call *c = &s->call;
	jv d = jv_object();
	d = json_set(d, "event", jv_string(what));
	d = json_set(d, "call_id", jv_string(c->id));
	d = json_set(d, "model", jv_string(c->model->id));
	d = json_set(d, "platform", jv_string(c->model->platform->name));
	for (int i = 0; i < CALL_LINKS; i++)
		if (s->links & (1u << i))
			d = json_set(d, call_link_names[i], json_get(s->rec, call_link_names[i]));
	if (strcmp(what, "start")) {
		d = json_set(d, "duration_ms", jv_number((double)c->duration_ms));
		d = json_set(d, "usage", jv_copy(c->usage));
		d = json_set(d, "cost", call_cost(c));
		if (jv_get_kind(c->error) != JV_KIND_NULL)
			d = json_set(d, "error", jv_copy(c->error));
	}
	if (bus_publish(g.bus, "llm", d, g.db) < 0 && prog_verbose > 0)
		pwarn("bus: %s", err_msg());
	jv_free(d);
}

static void log_call(const struct slot *s)
{
	if (!g.db)
		return;
	const char *links[CALL_LINKS];
	for (int i = 0; i < CALL_LINKS; i++)
		links[i] = s->links & (1u << i) ? json_str(s->rec, call_link_names[i], NULL) : NULL;
	if (call_log(g.db, &s->call, links, 0) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
}

/* --stream: a record for each piece of text as it arrives. */
static void on_delta(struct call *c, const char *text, size_t n)
{
	((struct slot *)c->user)->streamed = 1;
	fputs("{\"call_id\":", stdout);
	json_put_string(stdout, c->id, strlen(c->id));
	fputs(",\"model\":", stdout);
	json_put_string(stdout, c->model->id, strlen(c->model->id));
	fputs(",\"delta\":", stdout);
	json_put_string(stdout, text, n);
	fputs("}\n", stdout);
}

/* Writes the record of a finished call and frees the slot's contents. */
static void emit(struct slot *s)
{
	struct call *c = &s->call;
	if (s->pass) {
		json_write_with(stdout, s->rec, s->raw, s->rawlen, NULL, 0);
		jv_free(s->rec);
		free(s->raw);
		s->raw = NULL;
		return;
	}
	char started[32];
	int ok = jv_get_kind(c->error) == JV_KIND_NULL;
	if (ok && g.opts.stream && !s->streamed && c->model->output == MT_TEXT)
		on_delta(c, jv_string_value(c->output), /* it did not stream: all at once */
		         (size_t)jv_string_length_bytes(jv_copy(c->output)));
	log_call(s);
	llm_event(s, ok ? "stop" : "exception");
	jv none = jv_null();
	struct json_field f[] = {
		{ "model", none, c->model->id },
		{ "output", jv_copy(c->output), NULL },
		{ "output_type", none, mtype_name(c->model->output) },
		{ "state", none, ok ? "completed" : "failed" },
		{ "error", jv_copy(c->error), NULL },
		{ "duration_ms", jv_number((double)c->duration_ms), NULL },
		{ "started_at", none, time_rfc3339(c->started_at, started) },
		{ "usage", jv_copy(c->usage), NULL },
		{ "cost", call_cost(c), NULL },
		{ "call_id", none, c->id },
		{ "finish_reason", none, c->finish }, /* only when it is news */
	};
	int nf = sizeof f / sizeof *f - !c->finish[0];
	json_write_with(stdout, s->rec, s->raw, s->rawlen, f, nf);
	jv_free(s->rec);
	free(s->raw);
	s->raw = NULL;
	if (!ok && !strcmp(json_str_or(c->error, "kind", ""), "cancelled")) {
		/* stopped by a signal or a closed reader: not a failure */
	} else if (!ok) {
		g.status = PX_FAIL;
		if (prog_verbose >= 0) {
			/* Platforms' messages may start with the model already. */
			const char *m = json_str_or(c->error, "message", "failed");
			size_t k = strlen(c->model->id);
			if (!strncmp(m, c->model->id, k) && m[k] == ':')
				pwarn("%s", m);
			else
				pwarn("%s: %s", c->model->id, m);
		}
	} else if (prog_verbose > 0) {
		pwarn("%s: completed in %lld ms", c->model->id, (long long)c->duration_ms);
	}
	call_clear(c);
}

/* The loop stopped early (a signal, a closed reader): the calls still
 * queued are cancelled, and every record is logged and written in order
 * (a closed stdout takes nothing more, quietly). */
static void drain(void)
{
	while (g.qlen) {
		struct slot *s = &g.q[g.qhead];
		if (!s->pass && !s->call.done)
			engine_cancel(g.eng, &s->call);
		emit(s);
		g.qhead = (g.qhead + 1) % g.qcap;
		g.qlen--;
	}
}

static void emit_ready(void)
{
	while (g.qlen && g.q[g.qhead].call.done) {
		emit(&g.q[g.qhead]);
		g.qhead = (g.qhead + 1) % g.qcap;
		g.qlen--;
	}
}

/* A record an earlier stage failed ("state":"failed") whose input field
 * is empty: it goes on, untouched and in its place, so a chain of calls
 * keeps every record (a failed input is not bad input). A failed record
 * that still has its input is called again: that is how one retries. */
static int failed_upstream(jv rec, jv input)
{
	jv_kind k = jv_get_kind(input);
	return (k == JV_KIND_NULL || k == JV_KIND_INVALID) &&
	       !strcmp(json_str_or(rec, "state", ""), "failed");
}

/* Puts REC (consumed) and its text as read at the end of the queue. */
static struct slot *queue(jv rec, const char *raw, size_t rawlen)
{
	struct slot *s = &g.q[(g.qhead + g.qlen) % g.qcap];
	g.qlen++;
	s->rec = rec;
	s->links = json_key_mask(rec, call_link_names, CALL_LINKS);
	s->raw = raw ? malloc(rawlen) : NULL;
	s->rawlen = s->raw ? rawlen : 0;
	if (s->raw)
		memcpy(s->raw, raw, rawlen);
	return s;
}

/* Starts the call for REC (consumed; its text as read, if it was a JSON
 * object, from nd_raw()), or rejects it. */
static void take(struct loop *l, jv rec)
{
	size_t rawlen;
	const char *raw = nd_raw(l->in, &rawlen);
	struct model *m = g.model;
	if (!m) {
		const char *id = json_str(rec, "model", NULL);
		if (!id) {
			loop_reject(l, "no model: give -m or a \"model\" field");
			jv_free(rec);
			return;
		}
		if (!(m = catalogue_find(g.cat, id))) {
			loop_reject(l, "unknown model '%s' (see panic-invoke --list)", id);
			jv_free(rec);
			return;
		}
		if (g.opts.ntools && !m->platform->tools) {
			loop_reject(l, "model '%s' cannot call tools (%s)", id, TOOL_PLATFORMS);
			jv_free(rec);
			return;
		}
	}
	jv input = json_get(rec, g.from);
	if (jv_get_kind(input) != JV_KIND_STRING && failed_upstream(rec, input)) {
		jv_free(input);
		struct slot *s = queue(rec, raw, rawlen);
		s->pass = 1;
		memset(&s->call, 0, sizeof s->call);
		s->call.done = 1;
		if (prog_verbose > 0)
			pwarn("stdin:%ld: failed upstream, passed on", nd_lineno(l->in));
		return;
	}
	if (jv_get_kind(input) != JV_KIND_STRING) {
		if (!jv_is_valid(input))
			loop_reject(l, "missing \"%s\"", g.from);
		else
			loop_reject(l, "\"%s\" must be a string, got %s", g.from,
			            jv_kind_name(jv_get_kind(input)));
		jv_free(input);
		jv_free(rec);
		return;
	}
	struct slot *s = queue(rec, raw, rawlen);
	s->pass = 0;
	call_init(&s->call, m, input);
	s->call.timeout_ms = g.timeout_ms;
	s->call.opts = &g.opts;
	s->call.user = s;
	s->streamed = 0;
	engine_start(g.eng, &s->call);
	llm_event(s, "start");
}

/* Commits the call log, then flushes stdout and the bus: what a reader
 * sees is stored. */
static void flush(void)
{
	if (g.db && db_flush(g.db) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
	g.status = prog_flush(g.status);
	if (g.bus)
		bus_flush(g.bus);
}

/* The record loop's callbacks: a record starts a call while there is room
 * (a call slot free and a place in the queue); finished calls are written
 * in input order; the loop waits in the engine. */
static void on_record(struct loop *l, jv rec)
{
	take(l, rec);
	emit_ready();
}

static int on_room(struct loop *l)
{
	if (prog_loop_stopping(l))
		return 0; /* a signal, or the reader has gone: read no more */
	return engine_inflight(g.eng) < g.jobs && g.qlen < g.qcap;
}

static int on_work(struct loop *l)
{
	emit_ready();
	prog_loop_stopping(l);
	return l->eof && !g.qlen ? LOOP_END : -1;
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	return engine_wait(g.eng, p, n, ms);
}

/* Output is flushed (and the call log committed) only when nothing is
 * ready now: calls in flight that keep finishing are a batch. */
static void on_idle(struct loop *l)
{
	flush();
	prog_loop_stopping(l);
}

/* --schema JSON or @FILE: the schema object (kept for the whole run). */
static jv schema(const char *opt, const char *arg)
{
	jv v = arg[0] == '@' ? json_load_file(arg + 1) : jv_parse(arg);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		char why[300] = "";
		if (!jv_is_valid(v))
			json_error_text(v, why, sizeof why);
		pusage("%s: expected a JSON object%s%s", opt, *why ? ": " : "", why);
	}
	return v;
}

static double temperature(const char *what, const char *arg)
{
	char *end;
	double t = strtod(arg, &end);
	if (end == arg || *end || t < 0 || t > 2)
		pusage("%s: expected a temperature from 0 to 2, got '%s'", what, arg);
	return t;
}

/* Fills what the options left unset from the profile NAME of
 * profiles.json; *MODEL too. The file is kept: the strings point into it. */
static jv profile_doc = { 0 };
static void profile(const char *name, const char **model)
{
	const char *env = getenv("PANIC_PROFILES");
	char *path = env && *env ? strdup(env) : path_config("profiles.json");
	if (!path)
		pdie(PX_CONFIG, "profiles: %s", err_msg());
	profile_doc = profile_load(path);
	int rc = jv_is_valid(profile_doc) ? profile_apply(profile_doc, name, &g.opts, model) : -1;
	if (rc < 0 && jv_is_valid(profile_doc))
		err_set("%s: %s", path, err_msg());
	free(path); /* before dying: nothing left to look like a leak */
	if (rc < 0)
		pdie(PX_CONFIG, "%s", err_msg());
}

/* --tool NAME=PROGRAM, as an exec model taking the arguments JSON. */
static void add_tool(int i, const char *name, const char *prog)
{
	jv e = jv_object();
	char id[160];
	snprintf(id, sizeof id, "tool:%s", name);
	e = json_set(e, "id", jv_string(id));
	e = json_set(e, "platform", jv_string("exec"));
	e = json_set(e, "input", jv_string("text"));
	e = json_set(e, "output", jv_string("text"));
	e = json_set(e, "command", jv_array_append(jv_array(), jv_string(prog)));
	struct model *m = catalogue_add(g.cat, e, "--tool");
	if (!m)
		pdie(PX_USAGE, "%s", err_msg());
	g.tools[i].name = name;
	g.tools[i].model = m;
	g.tools[i].params = jv_null();
	for (int k = 0; k < g.ntoolschemas; k++)
		if (!strcmp(g.toolschema[k].name, name))
			g.tools[i].params = g.toolschema[k].params; /* borrowed, freed at exit */
}

int main(int argc, char **argv)
{
	prog_init("panic-invoke");
	const char *model = NULL, *types = NULL, *models = NULL, *prof = NULL;
	int dolist = 0, format = isatty(1) ? 'T' : 'J', nolog = 0;
	g.opts.schema = jv_null();
	int c;
	while ((c = getopt_long(argc, argv, "+m:p:j:lRqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'p': prof = optarg; break;
		case O_SYSTEM: g.opts.system = optarg; break;
		case O_TEMP: g.opts.temperature = temperature("--temperature", optarg); break;
		case O_MAXTOK: g.opts.max_tokens = prog_atol("--max-tokens", optarg, 1, 1 << 24); break;
		case O_SCHEMA:
			jv_free(g.opts.schema);
			g.opts.schema = schema("--schema", optarg);
			break;
		case O_STREAM: g.opts.stream = 1; break;
		case O_NOSTRICT: g.opts.no_strict = 1; break;
		case O_TOOLSCHEMA: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				pusage("--tool-schema: expected NAME=JSON, got '%s'", optarg);
			if (g.ntoolschemas == 16)
				pusage("--tool-schema: at most 16");
			*eq = 0;
			g.toolschema[g.ntoolschemas].name = optarg;
			g.toolschema[g.ntoolschemas++].params = schema("--tool-schema", eq + 1);
			break;
		}
		case O_TOOL: {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1])
				pusage("--tool: expected NAME=PROGRAM, got '%s'", optarg);
			if (g.opts.ntools == 16)
				pusage("--tool: at most 16 tools");
			*eq = 0;
			for (const char *q = optarg; *q; q++)
				if (!(*q == '_' || *q == '-' || (*q >= '0' && *q <= '9') ||
				      ((*q | 32) >= 'a' && (*q | 32) <= 'z')))
					pusage("--tool: a tool name is letters, digits, _ and -, got '%s'",
					       optarg);
			g.tools[g.opts.ntools].name = optarg;
			g.toolprog[g.opts.ntools++] = eq + 1;
			break;
		}
		case O_ROUNDS: g.opts.tool_rounds = (int)prog_atol("--tool-rounds", optarg, 1, 100); break;
		case O_BASE:
			if (url_check(optarg) < 0)
				pusage("--base-url: %s", err_msg());
			g.opts.base_url = optarg;
			break;
		case O_ALLOW_HTTP: g.opts.allow_http_key = 1; break;
		case O_ATTEMPT_TIMEOUT:
			g.opts.attempt_timeout_ms = (int)prog_ms("--attempt-timeout", optarg, 86400, 1);
			break;
		case O_KEYENV: g.opts.key_env = optarg; break;
		case O_ATTEMPTS: g.opts.attempts = (int)prog_atol("--attempts", optarg, 1, 20); break;
		case 'j': g.jobs = (int)prog_atol("-j", optarg, 1, 4096); break;
		case O_FROM: g.from = optarg; break;
		case O_TIMEOUT: g.timeout_ms = (int)prog_ms("--timeout", optarg, 86400 * 7, 1); break;
		case O_TYPES: types = optarg; break;
		case O_MODELS: models = optarg; break;
		case O_NOLOG: nolog = 1; break;
		case 'l': dolist = 1; break;
		case PROG_OPT_JSON: /* input objects only; with --list, list as JSON */
			format = 'J';
			prog_option(c, usage);
			break;
		case O_TABLE: format = 'T'; break;
		default: prog_option(c, usage);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		pusage("unexpected argument '%s' (a program goes after --)", argv[optind]);
	if (optind < argc && model)
		pusage("-m and a program after -- are two models: give one");
	if (types && optind >= argc && !(model && strchr(model, ':')))
		pusage("--types is for a program given after -- or a PLATFORM:NAME model");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (catalogue_load(&g.cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (prof)
		profile(prof, &model);
	for (int i = 0; i < g.opts.ntools; i++)
		add_tool(i, g.tools[i].name, g.toolprog[i]);
	for (int k = 0; k < g.ntoolschemas; k++) {
		int i;
		for (i = 0; i < g.opts.ntools && strcmp(g.tools[i].name, g.toolschema[k].name); i++)
			;
		if (i == g.opts.ntools)
			pusage("--tool-schema: no --tool named '%s'", g.toolschema[k].name);
	}
	g.opts.tools = g.tools;
	if (g.opts.stream)
		g.opts.on_delta = on_delta;
	if (dolist) {
		list(prog_verbose < 0 ? 'q' : format);
		catalogue_free(g.cat);
		return prog_finish(PX_OK);
	}
	if (optind < argc) {
		g.model = adhoc(argv + optind, argc - optind, types);
	} else if (model && types) {
		char in[16], out[16];
		if (sscanf(types, "%15[a-z]:%15[a-z]", in, out) != 2 || mtype_parse(in) < 0 ||
		    mtype_parse(out) < 0)
			pusage("--types: expected IN:OUT, as text:image, got '%s'", types);
		if (!(g.model = catalogue_platform_model(g.cat, model, mtype_parse(in),
		                                         mtype_parse(out))))
			pdie(PX_CONFIG, "%s", err_msg());
	} else if (model && !(g.model = catalogue_find(g.cat, model))) {
		pdie(PX_CONFIG, "unknown model '%s' (see panic-invoke --list)", model);
	}
	if (g.model && g.opts.ntools && !g.model->platform->tools)
		pusage("--tool: model '%s' cannot call tools (%s)", g.model->id, TOOL_PLATFORMS);

	if (!nolog) {
		g.db = prog_state_hint(DB_CREATE | DB_WRITE, "--no-log calls without it");
	}
	g.bus = prog_bus_open("no llm events"); /* the bus only tells: calls go on */
	struct nd_reader *r = prog_reader(0);
	g.eng = engine_new();
	g.qcap = g.jobs * 2 + 16;
	g.q = calloc((size_t)g.qcap, sizeof *g.q);
	if (!r || !g.eng || !g.q)
		pdie(PX_FAIL, "out of memory");

	struct loop l = { .in = r, .record = on_record, .bad = prog_loop_bad, .room = on_room,
		          .work = on_work, .wait = on_wait, .idle = on_idle };
	prog_loop_watch(&l);
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	drain();
	flush();
	if (l.nbad)
		g.status = PX_FAIL;

	nd_free(r);
	engine_free(g.eng);
	bus_close(g.bus);
	free(g.q);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
	catalogue_free(g.cat);
	jv_free(g.opts.schema);
	for (int k = 0; k < g.ntoolschemas; k++)
		jv_free(g.toolschema[k].params);
	if (jv_get_kind(profile_doc) == JV_KIND_OBJECT)
		jv_free(profile_doc);
	return prog_finish(g.status);
}
