/* syn-step: one stage of a workflow (DESIGN.md §6, syn-step).
 *
 * Reads records (a run's context plus "_run"), runs step NAME on each run
 * that reaches it, or replays it from the journal, and writes the run on
 * with the step's result merged. Every result is journalled in the state
 * file before its record leaves the stage. See lib/flow/stage.h for the
 * journal and replay, and lib/flow/peer.h for how a stage knows its
 * workflow and whether it is the last.
 *
 * With SYN_DESCRIBE set in its environment, the stage runs nothing: it
 * copies the descriptions of the stages before it from stdin to stdout and
 * adds its own (what `syn-run describe` reads).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "flow/context.h"
#include "flow/peer.h"
#include "flow/schema.h"
#include "flow/stage.h"
#include "flow/step.h"
#include "flow/template.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "state/db.h"

static const char usage[] =
	"usage: syn-step NAME [OPTION]... [-- PROGRAM [ARG]...]\n"
	"A stage of a workflow: run step NAME on every run that reaches it, journal\n"
	"its result in the state file, and pass the run on with the result merged.\n"
	"Records are a run's context plus \"_run\"; one without \"_run\" starts a run\n"
	"(a line that is not a JSON object is the context {\"input\": LINE}).\n"
	"\n"
	"The step's action, one of:\n"
	"  -- PROGRAM [ARG]...  run PROGRAM by argv (no shell): the context on its\n"
	"                       stdin; it prints one JSON object to merge\n"
	"      --jq PROGRAM     a jq program: the context in, one object to merge out\n"
	"  -m, --model MODEL    call a catalogue model with --prompt; the answer\n"
	"                       goes into --to\n"
	"      --prompt TEXT    the prompt: {{field}} is the context's field\n"
	"      --to FIELD       the field for the answer (default: NAME)\n"
	"      --system TEXT    system prompt ({{field}} too)\n"
	"      --temperature T  sampling temperature (0 to 2)\n"
	"      --max-tokens N   longest answer, in tokens\n"
	"      --output-schema JSON  the answer must be JSON of this schema; it is\n"
	"                       merged parsed\n"
	"      --stream         publish the answer as it arrives (stream_chunk events)\n"
	"      --tool NAME=PROGRAM  a tool the model may call\n"
	"      --score          PROGRAM is a scorer: it prints {\"score\": N, ...};\n"
	"                       the score is stored, the context unchanged\n"
	"With none, the step only passes runs on (or only suspends them).\n"
	"\n"
	"Around it:\n"
	"      --suspend TEXT   hold each run for a human first, with this message\n"
	"                       ({{field}}); `syn-run resume` goes on with its input\n"
	"      --schema JSON    what that input must be: {\"field\": \"string\"|\"boolean\"|\n"
	"                       \"integer\"|\"float\"|\"map\"|\"list\", ...}; \"type?\" optional\n"
	"      --metadata JSON  shown with the suspension (string values: {{field}})\n"
	"      --retry N        attempts after a failed one (default 0)\n"
	"      --backoff SECS   before the first retry, doubling (default 1)\n"
	"      --timeout SECS   fail an attempt after SECS (a program is killed)\n"
	"      --fallback JSON  merged instead when every attempt has failed\n"
	"      --scorer NAME=PROGRAM  score the context once the step is done\n"
	"  -j, --jobs N         runs at once (default 1); the order is kept\n"
	"      --fresh          a record without \"_run\" always starts a new run (by\n"
	"                       default the same record again finds its run)\n"
	"      --workflow NAME  the workflow (default $SYN_WORKFLOW, which syn-run\n"
	"                       sets to the workflow file it runs)\n"
	"      --last           this is the last stage: runs it passes on are\n"
	"                       completed (default: found out)\n"
	"      --models FILE    user catalogue (default $PANIC_MODELS or\n"
	"                       ~/.config/panic/models.json)\n"
	"      --db PATH        state file (default $PANIC_DB or\n"
	"                       ~/.local/state/panic/panic.db)\n"
	"      --bus DIR        the bus for events (default $PANIC_BUS)\n"
	PROG_INPUT_USAGE
	"  -q, --quiet          less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help           this help          --version      the version\n"
	"\n"
	"A step's output may ask: {\"_suspend\": {\"message\": M, \"metadata\": {..},\n"
	"\"schema\": {..}}} holds the run for a human; {\"_stop\": \"why\"} merges the\n"
	"rest and stops the run. Programs see SYN_RUN, SYN_STEP, SYN_ATTEMPT and\n"
	"SYN_WORKFLOW in their environment.\n"
	"Exit: 0 ok, 1 some record rejected or some run failed here, 2 usage,\n"
	"3 configuration or state error (unknown model, a step name used twice).\n";

enum { O_JQ = 256, O_PROMPT, O_TO, O_SYSTEM, O_TEMP, O_MAXTOK, O_OSCHEMA, O_STREAM, O_TOOL,
       O_SCORE, O_SUSPEND, O_SCHEMA, O_METADATA, O_RETRY, O_BACKOFF, O_TIMEOUT, O_FALLBACK,
       O_SCORER, O_WORKFLOW, O_LAST, O_MODELS, O_FRESH };

static const struct option longopts[] = {
	{ "jq", required_argument, 0, O_JQ },
	{ "model", required_argument, 0, 'm' },
	{ "prompt", required_argument, 0, O_PROMPT },
	{ "to", required_argument, 0, O_TO },
	{ "system", required_argument, 0, O_SYSTEM },
	{ "temperature", required_argument, 0, O_TEMP },
	{ "max-tokens", required_argument, 0, O_MAXTOK },
	{ "output-schema", required_argument, 0, O_OSCHEMA },
	{ "stream", no_argument, 0, O_STREAM },
	{ "tool", required_argument, 0, O_TOOL },
	{ "score", no_argument, 0, O_SCORE },
	{ "suspend", required_argument, 0, O_SUSPEND },
	{ "schema", required_argument, 0, O_SCHEMA },
	{ "metadata", required_argument, 0, O_METADATA },
	{ "retry", required_argument, 0, O_RETRY },
	{ "backoff", required_argument, 0, O_BACKOFF },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "fallback", required_argument, 0, O_FALLBACK },
	{ "scorer", required_argument, 0, O_SCORER },
	{ "jobs", required_argument, 0, 'j' },
	{ "workflow", required_argument, 0, O_WORKFLOW },
	{ "last", no_argument, 0, O_LAST },
	{ "fresh", no_argument, 0, O_FRESH },
	{ "models", required_argument, 0, O_MODELS },
	PROG_INPUT_OPTIONS,
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

static struct {
	struct flow_step step;
	struct stage *stage;
	struct db *db;
	struct bus *bus;
	struct engine *eng;
	int sigfd;
	int status;
} g;

/* An option's JSON object (OPT names it in errors). */
static jv object(const char *opt, const char *s)
{
	jv v = jv_parse(s);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		char why[300] = "";
		if (!jv_is_valid(v))
			json_error_text(v, why, sizeof why);
		else
			jv_free(v);
		pusage("%s: expected a JSON object%s%s", opt, *why ? ": " : "", why);
	}
	return v;
}

/* NAME=PROGRAM of --tool and --scorer. */
static void pair(const char *opt, char *arg, const char **name, const char **prog)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		pusage("%s: expected NAME=PROGRAM, got '%s'", opt, arg);
	*eq = 0;
	if (flow_step_name_check(arg) < 0)
		pusage("%s: %s", opt, err_msg());
	*name = arg;
	*prog = eq + 1;
}

static void note(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (prog_verbose >= level)
		pwarn("%s", msg);
}

/* The workflow this stage belongs to: --workflow, else $SYN_WORKFLOW
 * (syn-run sets it to the workflow file it runs). A value with a '/' is a
 * file; none, a pipeline typed on the command line. */
static void workflow(const char *opt, char **name, char **file)
{
	const char *w = opt ? opt : getenv("SYN_WORKFLOW");
	char buf[PATH_MAX];
	*name = *file = NULL;
	if (!w || !*w)
		return;
	if (!strchr(w, '/')) {
		*name = strdup(w);
		return;
	}
	if (!realpath(w, buf))
		snprintf(buf, sizeof buf, "%s", w);
	*file = strdup(buf);
	const char *b = strrchr(*file, '/');
	*name = strdup(b ? b + 1 : *file);
}

/* SYN_DESCRIBE: the descriptions before this stage, then its own. */
static void describe(const struct flow_step *st)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	jv d = flow_step_describe(st);
	json_write(stdout, d);
	jv_free(d);
}

static void flush(void)
{
	if (stage_commit(g.stage) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (db_flush(g.db) < 0)
		pdie(PX_CONFIG, "call log: %s", err_msg());
	/* Events before records: what a stage downstream publishes about a
	 * run then follows what this one did. */
	stage_publish(g.stage);
	if (g.bus)
		bus_flush(g.bus);
	size_t n;
	const char *out = stage_output(g.stage, &n);
	if (n && !prog_closed)
		fwrite(out, 1, n, stdout);
	stage_output_clear(g.stage);
	g.status = prog_flush(g.status);
}

static void on_record(struct loop *l, jv rec)
{
	size_t rawlen;
	const char *raw = nd_raw(l->in, &rawlen);
	char why[600];
	int rc = stage_take(g.stage, rec, raw, rawlen, why, sizeof why);
	if (rc == -1)
		loop_reject(l, "%s", why);
	else if (rc < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (stage_full(g.stage))
		flush();
	if (prog_closed)
		l->stop = 1;
}

static int on_room(struct loop *l)
{
	(void)l;
	return stage_room(g.stage);
}

static int on_work(struct loop *l)
{
	int ms = stage_work(g.stage);
	if (ms == -2)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (l->eof && !stage_busy(g.stage))
		return LOOP_END;
	return ms;
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	return engine_wait(g.eng, p, n, ms);
}

static void on_idle(struct loop *l)
{
	flush();
	if (prog_closed)
		l->stop = 1;
}

/* A signal, or the reader of stdout gone (POLLERR on a pipe's write end,
 * seen while waiting on a command, before any write fails): stop. */
static void on_woke(struct loop *l)
{
	for (int i = 0; i < l->nfds; i++) {
		if (!l->fds[i].revents)
			continue;
		if (l->fds[i].fd == g.sigfd && prog_signal_read(g.sigfd))
			l->stop = 1;
		if (l->fds[i].fd == 1) {
			prog_closed = 1;
			l->stop = 1;
		}
	}
}

int main(int argc, char **argv)
{
	prog_init("syn-step");
	struct flow_step *st = &g.step;
	flow_step_init(st);
	const char *wf = NULL, *models = NULL;
	int score = 0, last = -1, fresh = 0;
	long maxline = ND_MAXLINE_DEFAULT;
	if (argc < 2)
		pusage("a step needs a NAME");
	if (argv[1][0] != '-') {
		st->name = argv[1];
		if (flow_step_name_check(st->name) < 0)
			pusage("%s", err_msg());
		optind = 2;
	}
	int c;
	while ((c = getopt_long(argc, argv, "+m:j:Rqvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_JQ: st->jq = optarg; break;
		case 'm': st->model = optarg; break;
		case O_PROMPT: st->prompt = optarg; break;
		case O_TO: st->to = optarg; break;
		case O_SYSTEM: st->system = optarg; break;
		case O_TEMP: st->temperature = prog_double("--temperature", optarg, 0, 2, "a temperature"); break;
		case O_MAXTOK: st->max_tokens = prog_atol("--max-tokens", optarg, 1, 1 << 24); break;
		case O_OSCHEMA:
			jv_free(st->output_schema);
			st->output_schema = object("--output-schema", optarg);
			break;
		case O_STREAM: st->stream = 1; break;
		case O_TOOL:
			if (st->ntools == FLOW_MAX_TOOLS)
				pusage("--tool: at most %d tools", FLOW_MAX_TOOLS);
			pair("--tool", optarg, &st->tools[st->ntools].name, &st->tools[st->ntools].program);
			st->ntools++;
			break;
		case O_SCORE: score = 1; break;
		case O_SUSPEND: st->suspend = optarg; break;
		case O_SCHEMA: {
			jv_free(st->schema);
			st->schema = object("--schema", optarg);
			char why[400];
			if (flow_schema_check(st->schema, why, sizeof why) < 0)
				pusage("--schema: %s", why);
			break;
		}
		case O_METADATA:
			jv_free(st->metadata);
			st->metadata = object("--metadata", optarg);
			break;
		case O_RETRY: st->retry = (int)prog_atol("--retry", optarg, 0, 100); break;
		case O_BACKOFF: st->backoff = prog_ms("--backoff", optarg, 86400 * 30, 0) / 1000.0; break;
		case O_TIMEOUT: st->timeout = prog_ms("--timeout", optarg, 86400 * 30, 1) / 1000.0; break;
		case O_FALLBACK:
			jv_free(st->fallback);
			st->fallback = object("--fallback", optarg);
			break;
		case O_SCORER:
			if (st->nscorers == FLOW_MAX_SCORERS)
				pusage("--scorer: at most %d scorers", FLOW_MAX_SCORERS);
			pair("--scorer", optarg, &st->scorers[st->nscorers].name,
			     &st->scorers[st->nscorers].program);
			st->nscorers++;
			break;
		case 'j': st->jobs = (int)prog_atol("-j", optarg, 1, 1024); break;
		case O_WORKFLOW: wf = optarg; break;
		case O_LAST: last = 1; break;
		case O_FRESH: fresh = 1; break;
		case O_MODELS: models = optarg; break;
		case PROG_OPT_MAXLINE: /* the longest record written, too */
			maxline = prog_atol("--max-line", optarg, 64, 1L << 30);
			prog_option(c, usage);
			break;
		default: prog_option(c, usage);
		}
	}
	if (!st->name)
		pusage("a step needs a NAME, before its options");
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		pusage("unexpected argument '%s' (a program goes after --)", argv[optind]);
	int nactions = (optind < argc) + !!st->jq + !!st->model;
	if (nactions > 1)
		pusage("a step has one action: a program after --, --jq or --model");
	if (score && optind >= argc)
		pusage("--score: the scorer is the program after --");
	if (!st->model && (st->prompt || st->to || st->system || st->stream || st->ntools ||
	                   st->temperature >= 0 || st->max_tokens ||
	                   jv_get_kind(st->output_schema) != JV_KIND_NULL))
		pusage("--prompt, --to, --system, --stream, --tool and the like go with --model");
	if (st->model && !st->prompt)
		pusage("--model: give the --prompt");
	if (!st->suspend && (jv_get_kind(st->schema) != JV_KIND_NULL ||
	                     jv_get_kind(st->metadata) != JV_KIND_NULL))
		pusage("--schema and --metadata go with --suspend");
	if ((st->prompt && flow_fill_check(st->prompt) < 0) ||
	    (st->system && flow_fill_check(st->system) < 0) ||
	    (st->suspend && flow_fill_check(st->suspend) < 0))
		pusage("%s", err_msg());
	if (optind < argc) {
		st->argv = argv + optind;
		st->kind = score ? FK_SCORE : FK_COMMAND;
	} else if (st->jq) {
		st->kind = FK_JQ;
	} else if (st->model) {
		st->kind = FK_LLM;
		if (!st->to)
			st->to = st->name;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	struct catalogue *cat = NULL;
	if ((st->kind != FK_JQ && st->kind != FK_PASS) || st->nscorers)
		if (catalogue_load(&cat, models) < 0)
			pdie(PX_CONFIG, "%s", err_msg());
	if (cat && st->kind == FK_LLM && !catalogue_find(cat, st->model))
		pdie(PX_CONFIG, "unknown model '%s' (see panic-invoke --list)", st->model);
	const char *desc = getenv("SYN_DESCRIBE");
	if (desc && *desc) {
		void *jq = NULL;
		if (st->jq && flow_jq_compile(st->jq, &jq) < 0)
			pusage("--jq: %s", err_msg());
		flow_jq_free(jq);
		describe(st);
		catalogue_free(cat);
		flow_step_free(st);
		return prog_finish(PX_OK);
	}

	char *wname, *wfile;
	workflow(wf, &wname, &wfile);
	g.db = prog_state(DB_CREATE);
	g.bus = prog_bus_open("no events");
	g.eng = engine_new();
	struct stage_cfg cfg = {
		.step = st, .db = g.db, .bus = g.bus, .eng = g.eng, .cat = cat,
		.workflow = wname, .workflow_file = wfile, .maxline = (size_t)maxline,
		.last = last, .note = note, .verbose = prog_verbose, .steps = getenv("SYN_STEPS"),
		.fresh = fresh,
	};
	if (!g.eng || !(g.stage = stage_new(&cfg)))
		pdie(PX_CONFIG, "%s", g.eng ? err_msg() : "out of memory");
	struct nd_reader *r = prog_reader(0);
	struct loop l = { .in = r, .record = on_record, .bad = prog_loop_bad, .room = on_room,
		          .work = on_work, .wait = on_wait, .idle = on_idle, .woke = on_woke };
	g.sigfd = prog_signalfd();
	if (g.sigfd >= 0)
		l.fds[l.nfds++] = (struct pollfd){ .fd = g.sigfd, .events = POLLIN };
	l.fds[l.nfds++] = (struct pollfd){ .fd = 1, .events = 0 };
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	flush(); /* what is done is committed, even when stopping */
	if (l.nbad || stage_failed(g.stage))
		g.status = PX_FAIL;

	stage_free(g.stage); /* cancels what is still in flight: nothing journalled for it */
	nd_free(r);
	engine_free(g.eng);
	bus_close(g.bus);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	catalogue_free(cat);
	flow_step_free(st);
	free(wname);
	free(wfile);
	return prog_finish(g.status);
}
