/* panic-invoke: one model call per record (DESIGN.md §6).
 *
 * Reads records (or plain lines) on stdin, calls the model on each record's
 * input, and writes the record back with model, output, output_type, state,
 * error, duration_ms, started_at, usage and call_id added; every other
 * field passes through. Up to -j calls are in flight at once and records
 * still come out in input order. Each call is logged in the state file's
 * calls table (committed before output is flushed) unless --no-log.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "db.h"
#include "err.h"
#include "json.h"
#include "model.h"
#include "ndjson.h"
#include "path.h"
#include "platform.h"
#include "prog.h"
#include "timeutil.h"

static const char usage[] =
	"usage: panic-invoke [-m MODEL] [OPTION]... [-- PROGRAM [ARG]...]\n"
	"Call a model once per record of stdin; write each record with the result.\n"
	"\n"
	"  -m, --model ID       the model (default: each record's \"model\" field)\n"
	"  -j, --jobs N         calls in flight at once (default 1); order is kept\n"
	"      --from FIELD     take the input from FIELD (default \"input\")\n"
	"      --timeout SECS   fail a call after SECS seconds (exec: kill it)\n"
	"      --types IN:OUT   types of an ad-hoc PROGRAM (default text:text)\n"
	"      --models FILE    user catalogue (default $PANIC_MODELS or\n"
	"                       ~/.config/panic/models.json)\n"
	"      --no-log         do not record calls in the state file\n"
	"      --db PATH        state file (default $PANIC_DB or\n"
	"                       ~/.local/state/panic/panic.db)\n"
	"      --bus DIR        the bus for llm events (default $PANIC_BUS or\n"
	"                       $XDG_RUNTIME_DIR/panic-$UID/bus)\n"
	"      --max-line BYTES longest input line accepted (default 4194304)\n"
	"  -l, --list           print the catalogue (a table on a terminal)\n"
	"      --json, --table  force the --list format; -q lists ids only\n"
	"  -q, --quiet          less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help           this help          --version      the version\n"
	"\n"
	"With -- PROGRAM [ARG]..., PROGRAM is the model: the input on its stdin,\n"
	"the output from its stdout, run by argv without a shell.\n"
	"Exit: 0 ok, 1 some input rejected or some call failed, 2 usage,\n"
	"3 configuration or state error.\n";

enum { O_FROM = 256, O_TIMEOUT, O_TYPES, O_MODELS, O_NOLOG, O_MAXLINE, O_JSON,
       O_TABLE };

static const struct option longopts[] = {
	{ "model", required_argument, 0, 'm' },
	{ "jobs", required_argument, 0, 'j' },
	{ "from", required_argument, 0, O_FROM },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "types", required_argument, 0, O_TYPES },
	{ "models", required_argument, 0, O_MODELS },
	{ "no-log", no_argument, 0, O_NOLOG },
	{ "max-line", required_argument, 0, O_MAXLINE },
	{ "list", no_argument, 0, 'l' },
	{ "json", no_argument, 0, O_JSON },
	{ "table", no_argument, 0, O_TABLE },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

/* A record between input and output. */
struct slot {
	jv rec;
	char *raw; /* the record's text as read (nd_raw), or NULL */
	size_t rawlen;
	unsigned links; /* which of link_names the record has */
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
} g = { .from = "input" };

static void list(int format)
{
	size_t n = catalogue_count(g.cat);
	if (format == 'T') {
		printf("%-24s %-10s %-16s %s\n", "ID", "PLATFORM", "TYPES", "NAME");
		for (size_t i = 0; i < n; i++) {
			struct model *m = catalogue_at(g.cat, i);
			char types[32];
			snprintf(types, sizeof types, "%s -> %s", mtype_name(m->input),
			         mtype_name(m->output));
			printf("%-24s %-10s %-16s %s\n", m->id, m->platform->name, types, m->name);
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
/* Fields of a record that link its call to what it was made for. */
static const char *const link_names[] = { "network", "run_id", "step", "agent" };

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
	for (int i = 0; i < 4; i++)
		if (s->links & (1u << i))
			d = json_set(d, link_names[i], json_get(s->rec, link_names[i]));
	if (strcmp(what, "start")) {
		d = json_set(d, "duration_ms", jv_number((double)c->duration_ms));
		d = json_set(d, "usage", jv_copy(c->usage));
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
	const char *links[4];
	for (int i = 0; i < 4; i++)
		links[i] = s->links & (1u << i) ? json_str(s->rec, link_names[i], NULL) : NULL;
	if (call_log(g.db, &s->call, links, 0) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
}

/* Writes the record of a finished call and frees the slot's contents. */
static void emit(struct slot *s)
{
	struct call *c = &s->call;
	char started[32];
	int ok = jv_get_kind(c->error) == JV_KIND_NULL;
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
		{ "call_id", none, c->id },
	};
	json_write_with(stdout, s->rec, s->raw, s->rawlen, f, sizeof f / sizeof *f);
	jv_free(s->rec);
	free(s->raw);
	s->raw = NULL;
	if (!ok) {
		g.status = PX_FAIL;
		if (prog_verbose >= 0) {
			jv m = json_get(c->error, "message");
			pwarn("%s: %s", c->model->id, jv_string_value(m));
			jv_free(m);
		}
	} else if (prog_verbose > 0) {
		pwarn("%s: completed in %lld ms", c->model->id, (long long)c->duration_ms);
	}
	call_clear(c);
}

static void emit_ready(void)
{
	while (g.qlen && g.q[g.qhead].call.done) {
		emit(&g.q[g.qhead]);
		g.qhead = (g.qhead + 1) % g.qcap;
		g.qlen--;
	}
}

/* Reports a rejected input line; the run will exit 1. */
static void __attribute__((format(printf, 2, 3))) bad(long lineno, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	pwarn("stdin:%ld: %s", lineno, why);
	g.status = PX_FAIL;
}

/* Starts the call for REC (consumed; RAW its text or NULL), or rejects it. */
static void take(jv rec, const char *raw, size_t rawlen, long lineno)
{
	struct model *m = g.model;
	if (!m) {
		const char *id = json_str(rec, "model", NULL);
		if (!id) {
			bad(lineno, "no model: give -m or a \"model\" field");
			jv_free(rec);
			return;
		}
		if (!(m = catalogue_find(g.cat, id))) {
			bad(lineno, "unknown model '%s' (see panic-invoke --list)", id);
			jv_free(rec);
			return;
		}
	}
	jv input = json_get(rec, g.from);
	if (jv_get_kind(input) != JV_KIND_STRING) {
		if (!jv_is_valid(input))
			bad(lineno, "missing \"%s\"", g.from);
		else
			bad(lineno, "\"%s\" must be a string, got %s", g.from,
			    jv_kind_name(jv_get_kind(input)));
		jv_free(input);
		jv_free(rec);
		return;
	}
	struct slot *s = &g.q[(g.qhead + g.qlen) % g.qcap];
	g.qlen++;
	s->rec = rec;
	s->links = json_key_mask(rec, link_names, 4);
	s->raw = raw ? malloc(rawlen) : NULL;
	s->rawlen = s->raw ? rawlen : 0;
	if (s->raw)
		memcpy(s->raw, raw, rawlen);
	call_init(&s->call, m, input);
	s->call.timeout_ms = g.timeout_ms;
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

/* Room for one more record: a call slot free and a place in the queue. */
static int room(int jobs)
{
	return engine_inflight(g.eng) < jobs && g.qlen < g.qcap;
}

/* Reads records while there is room, emits finished ones in input order,
 * and waits (after a flush) for a call to finish or for more input. */
static void run(struct nd_reader *r, int jobs)
{
	int eof = 0;
	for (;;) {
		while (!eof && room(jobs)) {
			jv rec;
			size_t rawlen;
			int rc = nd_next(r, &rec, 0);
			if (rc == ND_AGAIN)
				break;
			if (rc == ND_RECORD) {
				const char *raw = nd_raw(r, &rawlen);
				take(rec, raw, rawlen, nd_lineno(r));
			} else if (rc == ND_BAD) {
				bad(nd_lineno(r), "%s", err_msg());
			} else if (rc == ND_EOF) {
				eof = 1;
			} else {
				pdie(PX_FAIL, "stdin: %s", err_msg());
			}
			emit_ready();
		}
		if (eof && !g.qlen)
			break;
		/* Every unfinished record's call is in flight, so this waits for
		 * something: a call, or input if there is room for it. */
		flush();
		struct pollfd in = { .fd = nd_fd(r), .events = POLLIN };
		if (engine_wait(g.eng, &in, !eof && room(jobs), -1) < 0)
			pdie(PX_FAIL, "%s", err_msg());
		emit_ready();
	}
	flush();
}

int main(int argc, char **argv)
{
	prog_init("panic-invoke");
	const char *model = NULL, *types = NULL, *models = NULL;
	int jobs = 1, dolist = 0, format = isatty(1) ? 'T' : 'J', nolog = 0;
	long maxline = ND_MAXLINE_DEFAULT;
	int c;
	while ((c = getopt_long(argc, argv, "+m:j:lqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'j': jobs = (int)prog_atol("-j", optarg, 1, 4096); break;
		case O_FROM: g.from = optarg; break;
		case O_TIMEOUT: {
			char *end;
			double s = strtod(optarg, &end);
			if (end == optarg || *end || s <= 0 || s > 86400 * 7)
				pusage("--timeout: expected seconds, got '%s'", optarg);
			g.timeout_ms = (int)(s * 1000 + 0.5);
			if (!g.timeout_ms)
				g.timeout_ms = 1;
			break;
		}
		case O_TYPES: types = optarg; break;
		case O_MODELS: models = optarg; break;
		case O_NOLOG: nolog = 1; break;
		case O_MAXLINE: maxline = prog_atol("--max-line", optarg, 16, 1L << 30); break;
		case 'l': dolist = 1; break;
		case O_JSON: format = 'J'; break;
		case O_TABLE: format = 'T'; break;
		default: prog_option(c, usage);
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		pusage("unexpected argument '%s' (a program goes after --)", argv[optind]);
	if (optind < argc && model)
		pusage("-m and a program after -- are two models: give one");
	if (types && optind >= argc)
		pusage("--types is for a program given after --");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if (catalogue_load(&g.cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (dolist) {
		list(prog_verbose < 0 ? 'q' : format);
		catalogue_free(g.cat);
		return prog_finish(PX_OK);
	}
	if (optind < argc)
		g.model = adhoc(argv + optind, argc - optind, types);
	else if (model && !(g.model = catalogue_find(g.cat, model)))
		pdie(PX_CONFIG, "unknown model '%s' (see panic-invoke --list)", model);

	if (!nolog) {
		g.db = prog_state(DB_CREATE);
	}
	g.bus = prog_bus_open("no llm events"); /* the bus only tells: calls go on */
	struct nd_reader *r = nd_new(0, (size_t)maxline);
	g.eng = engine_new();
	g.qcap = jobs * 2 + 16;
	g.q = calloc((size_t)g.qcap, sizeof *g.q);
	if (!r || !g.eng || !g.q)
		pdie(PX_FAIL, "out of memory");

	run(r, jobs);

	nd_free(r);
	engine_free(g.eng);
	bus_close(g.bus);
	free(g.q);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
	catalogue_free(g.cat);
	return prog_finish(g.status);
}
