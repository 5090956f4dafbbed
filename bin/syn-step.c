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
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "flow/context.h"
#include "flow/peer.h"
#include "flow/stage.h"
#include "flow/step.h"
#include "flow/stepargs.h"
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

static struct {
	struct flow_step step;
	struct stage *stage;
	struct db *db;
	struct bus *bus;
	struct engine *eng;
	int sigfd;
	int status;
} g;

static void note(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (prog_verbose >= level)
		pwarn("%s", msg);
}

/* SYN_DESCRIBE: the descriptions before this stage, then its own, or,
 * for a stage that cannot start (bad options, an unknown model), an
 * {"error"} line, so that syn-run refuses the workflow rather than list
 * the steps after it only; its reason is on stderr. */
static int described;
static void pass_descriptions(void)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
}

static void undescribed(void)
{
	if (described)
		return;
	pass_descriptions();
	fputs("{\"error\":\"a stage cannot start\"}\n", stdout);
	fflush(stdout);
}

static void describe(const struct flow_step *st)
{
	pass_descriptions();
	jv d = flow_step_describe(st);
	json_write(stdout, d);
	jv_free(d);
	described = 1;
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

static long maxline = ND_MAXLINE_DEFAULT;

/* flow/stepargs.c hands on the common options by these codes */
_Static_assert(PROG_OPT_VERSION == 1000 && PROG_OPT_DB == 1001 && PROG_OPT_BUS == 1002 &&
               PROG_OPT_JSON == 1003 && PROG_OPT_MAXLINE == 1004, "stepargs.c's codes");

/* An option of every program (cli/prog.h), or getopt's complaint. */
static void common(int c, const char *arg, void *ctx)
{
	(void)ctx;
	if (c == PROG_OPT_MAXLINE) /* the longest record written, too */
		maxline = prog_atol("--max-line", arg, 64, 1L << 30);
	prog_option(c, usage);
}

int main(int argc, char **argv)
{
	prog_init("syn-step");
	const char *desc = getenv("SYN_DESCRIBE");
	if (desc && *desc)
		atexit(undescribed);
	struct flow_step *st = &g.step;
	flow_step_init(st);
	struct flow_step_opts so;
	if (flow_step_parse(argc, argv, st, &so, common, NULL) < 0)
		pusage("%s", err_msg());
	const char *models = so.models;
	int last = so.last, fresh = so.fresh;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* A batch's records leave at once when it is committed: a pipe that
	 * holds a whole batch (FULL_OUT, lib/flow/stage.c) lets this stage go
	 * on while the next one reads, where 64 kB would make the two take
	 * turns. Best effort: the kernel's pipe-max-size may be smaller. */
	fcntl(1, F_SETPIPE_SZ, 1 << 20);
	/* SQLite drops its page cache whenever another stage has committed,
	 * and takes it again page by page: keep freed memory rather than give
	 * it back to the kernel and fault it in again at every batch. */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);

	struct catalogue *cat = NULL;
	if ((st->kind != FK_JQ && st->kind != FK_PASS) || st->nscorers)
		if (catalogue_load(&cat, models) < 0)
			pdie(PX_CONFIG, "%s", err_msg());
	if (cat && st->kind == FK_LLM && !catalogue_find(cat, st->model))
		pdie(PX_CONFIG, "unknown model '%s' (see panic-invoke --list)", st->model);
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
	flow_step_workflow(so.workflow, &wname, &wfile);
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
