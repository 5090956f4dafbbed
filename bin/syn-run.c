/* syn-run: workflow runs, from outside (DESIGN.md §6, syn-run).
 *
 * start and resume drive a workflow file (lib/flow/drive.h) with a run's
 * record; the stages journal it (lib/flow/stage.h). inspect, history, ls
 * and export read the state file; stop changes it; describe runs the file
 * in describe mode, where no step's command runs; test drives cases
 * through the file and reports TAP.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/id.h"
#include "base/safe.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "flow/answer.h"
#include "flow/chain.h"
#include "flow/context.h"
#include "flow/drive.h"
#include "flow/events.h"
#include "flow/export.h"
#include "flow/report.h"
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"

static const char usage[] =
	"usage: syn-run COMMAND [ARG]... [OPTION]...\n"
	"       syn-run FILE [ARG]...\n"
	"Start, resume, stop and look into workflow runs.\n"
	"\n"
	"  FILE [ARG]...          run workflow FILE (a path) on stdin: what its\n"
	"                         first line `#!/usr/bin/env syn-run` does\n"
	"  start WORKFLOW [JSON]  start a run with the context JSON (default {}),\n"
	"                         print its id, and drive it through WORKFLOW\n"
	"      --at STEP          start at STEP: the steps before it are skipped\n"
	"  resume RUN JSON        answer the suspension RUN waits at with JSON (checked\n"
	"                         against its schema) and drive the run on\n"
	"      --print            write the run's record instead, to pipe into the\n"
	"                         pipeline that runs it\n"
	"      --step STEP        refuse unless the run waits at STEP\n"
	"  inspect RUN            status, current step, context, what it waits for\n"
	"  history RUN            the run's timeline, NDJSON\n"
	"  stop RUN               stop the run\n"
	"  ls                     runs, oldest first\n"
	"      --status STATUS    running, waiting_for_human, completed, failed, stopped\n"
	"      --workflow NAME    of this workflow (its name or file)\n"
	"  -n, --limit N          the last N only\n"
	"  describe WORKFLOW      its steps and their options, without running any\n"
	"  test WORKFLOW CASES    run each case of the file CASES (NDJSON: input,\n"
	"                         human_inputs, expect, status, name) and print TAP\n"
	"  export RUN|--all       eval records, one per run (Braintrust's experiment\n"
	"                         events); --all takes --status and --workflow\n"
	"\n"
	"WORKFLOW is an executable file of syn-step stages: a path, or a name in\n"
	"$SYN_PATH (default ~/.config/panic/workflows and the installed ones).\n"
	"      --json, --table    the format of ls, describe and inspect (default:\n"
	"                         a table or pretty JSON on a terminal, else NDJSON)\n"
	"      --db PATH          state file (default $PANIC_DB or\n"
	"                         ~/.local/state/panic/panic.db)\n"
	"      --bus DIR          the bus for events (default $PANIC_BUS)\n"
	"  -q, --quiet            less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help             this help          --version      the version\n"
	"\n"
	"Exit: 0 ok (a run completed or waits for a human), 1 a run failed or was\n"
	"stopped, a test failed, 2 usage, 3 unknown run or workflow, input that\n"
	"does not meet the schema, a state error, 4 refused (the run does not\n"
	"wait for that answer, or has already ended).\n";

enum { O_AT = 256, O_PRINT, O_STEP, O_STATUS, O_WORKFLOW, O_ALL, O_JSON, O_TABLE };

static const struct option longopts[] = {
	{ "at", required_argument, 0, O_AT },
	{ "print", no_argument, 0, O_PRINT },
	{ "step", required_argument, 0, O_STEP },
	{ "status", required_argument, 0, O_STATUS },
	{ "workflow", required_argument, 0, O_WORKFLOW },
	{ "limit", required_argument, 0, 'n' },
	{ "all", no_argument, 0, O_ALL },
	{ "json", no_argument, 0, O_JSON },
	{ "table", no_argument, 0, O_TABLE },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

static struct {
	const char *at, *step, *status, *workflow;
	int print, all, format; /* format: 'J' NDJSON, 'T' a table or pretty */
	long limit;
	struct db *db;
	struct bus *bus;
	int sigfd;
} o;

static const char *const statuses[] = { "running", "waiting_for_human", "completed", "failed",
	                                "stopped", NULL };

static void open_state(void)
{
	o.db = prog_state(DB_CREATE);
	o.bus = prog_bus_open("no events");
}

/* ---- events, published by syn-run itself ---- */

static void event(const char *name, const char *run, const char *step, jv extra, int store)
{
	jv d = flow_event(name, run, step, extra);
	if (store && flow_event_store(o.db, d) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (flow_event_publish(o.bus, o.db, d) < 0 && prog_verbose > 0)
		pwarn("bus: %s", err_msg());
	jv_free(d);
	if (o.bus)
		bus_flush(o.bus);
}

static jv get_run(const char *id)
{
	jv r = db_flow_run_get(o.db, id);
	if (!jv_is_valid(r))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(r) == JV_KIND_NULL)
		pdie(PX_CONFIG, "unknown run '%s'", id);
	return r;
}

static jv context_arg(const char *what, const char *s, int code)
{
	jv v = jv_parse(s);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		char why[300];
		int parsed = jv_is_valid(v);
		json_error_text(v, why, sizeof why);
		pdie(code, "%s: expected a JSON object%s%s", what, parsed ? ", " : ": ", why);
	}
	return v;
}

/* ---- driving ---- */

static jv steps_of(const char *file);

struct driven {
	jv out; /* run id -> its last record out of the workflow */
};

static void on_line(const char *s, size_t n, void *ctx)
{
	struct driven *d = ctx;
	jv v = json_parse(s, n);
	const char *run = json_str(v, "_run", NULL);
	if (jv_get_kind(v) == JV_KIND_OBJECT && run)
		d->out = jv_object_set(d->out, jv_string(run), jv_copy(v));
	else if (prog_verbose > 0)
		pwarn("the workflow wrote a line that is not a run's record");
	jv_free(v);
}

static jv settle(struct driven *d);

/* Drives the runs of RECORDS (NDJSON text) through FILE; returns what came
 * out, by run. A run that came out whole is completed if no stage said so. */
static jv drive(const char *file, const char *records, size_t n)
{
	struct driven d = { .out = jv_object() };
	jv steps = steps_of(file);
	char *names = flow_steps_env(steps);
	jv_free(steps);
	int st = flow_drive(file, names, records, n, o.sigfd, on_line, &d);
	free(names);
	if (st < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (st && prog_verbose >= 0)
		pwarn("%s: the workflow %s %d", file, WIFSIGNALED(st) ? "was killed by signal" : "exited with status",
		      WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return settle(&d);
}

/* The runs that came out of the workflow whole: completed, if no stage
 * said so. Returns what came out, by run. */
static jv settle(struct driven *d)
{
	jv_object_foreach(d->out, k, rec)
	{
		if (!json_has(rec, "_status")) {
			char at[32];
			time_rfc3339(time_now_ms(), at);
			struct db_flow_set c = { .id = jv_string_value(k), .status = "completed",
				                 .only_if = "running", .finished_at = at, .updated_at = at };
			int changed = db_flow_run_set(o.db, &c);
			if (changed < 0)
				pdie(PX_CONFIG, "state: %s", err_msg());
			if (changed)
				event("completed", jv_string_value(k), NULL, jv_null(), 0);
		}
		jv_free(k);
		jv_free(rec);
	}
	return d->out;
}

/* The exit status for run ID after driving it. */
static int verdict(const char *id)
{
	jv r = get_run(id);
	const char *st = json_str_or(r, "status", "");
	int rc = PX_OK;
	if (!strcmp(st, "failed") || !strcmp(st, "stopped")) {
		rc = PX_FAIL;
	} else if (!strcmp(st, "running")) {
		if (prog_verbose >= 0)
			pwarn("run %s did not finish: it left the workflow still running", id);
		rc = PX_FAIL;
	}
	if (prog_verbose > 0)
		pwarn("run %s: %s", id, st);
	jv_free(r);
	return rc;
}

static jv describe_or_die(const char *file)
{
	jv steps = flow_describe(file, o.sigfd);
	if (!jv_is_valid(steps)) {
		jv_free(steps);
		pdie(PX_CONFIG, "%s", err_msg());
	}
	return steps;
}

/* The steps of FILE: as described while it is unchanged (the state
 * file keeps them), else described now; jv_invalid() with err_msg(). */
static jv try_steps(const char *file)
{
	struct stat st;
	if (stat(file, &st) < 0)
		return err_errno(file), jv_invalid();
	int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
	jv steps = db_flow_file_get(o.db, file, m, (int64_t)st.st_size, (int64_t)st.st_ino);
	if (!jv_is_valid(steps) || jv_get_kind(steps) == JV_KIND_ARRAY)
		return steps;
	steps = flow_describe(file, o.sigfd);
	char at[32];
	if (jv_is_valid(steps) &&
	    db_flow_file_put(o.db, file, m, (int64_t)st.st_size, (int64_t)st.st_ino, steps,
	                     time_rfc3339(time_now_ms(), at)) < 0) {
		jv_free(steps);
		return jv_invalid();
	}
	return steps;
}

static jv steps_of(const char *file)
{
	jv steps = try_steps(file);
	if (!jv_is_valid(steps)) {
		jv_free(steps);
		pdie(PX_CONFIG, "%s", err_msg());
	}
	return steps;
}

static void find_or_die(const char *arg, char file[static PATH_MAX])
{
	if (flow_find(arg, file, PATH_MAX) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
}

/* A new run of FILE with context CTX (consumed), started at AT (or NULL):
 * its id in ID. */
static void new_run(const char *file, jv ctx, const char *at, char id[static ID_LEN + 1])
{
	char now[32];
	const char *base = strrchr(file, '/');
	id_new(id);
	time_rfc3339(time_now_ms(), now);
	size_t n;
	char *input = json_dump(ctx, &n);
	jv_free(ctx);
	struct db_flow_run r = { .id = id, .workflow = base ? base + 1 : file, .workflow_file = file,
		                 .status = "running", .input = input, .at_step = at,
		                 .started_at = now, .updated_at = now };
	if (!input || db_flow_run_insert(o.db, &r) < 0)
		pdie(PX_CONFIG, "state: %s", input ? err_msg() : "out of memory");
	free(input);
	event("started", id, NULL,
	      json_set(jv_object(), "workflow", jv_string(base ? base + 1 : file)), 0);
}

/* The record of run ID with context CTX (consumed), as one NDJSON line. */
static char *record_line(jv ctx, const char *id, size_t *n)
{
	jv rec = json_set(ctx, "_run", jv_string(id));
	char *s = json_dump(rec, n);
	jv_free(rec);
	char *line = s ? realloc(s, *n + 2) : NULL;
	if (!line)
		pdie(PX_FAIL, "out of memory");
	line[(*n)++] = '\n';
	line[*n] = 0;
	return line;
}

static int has_step(jv steps, const char *name)
{
	int found = 0;
	jv_array_foreach(steps, i, d)
	{
		found |= !strcmp(json_str_or(d, "step", ""), name);
		jv_free(d);
	}
	return found;
}

static int cmd_start(int argc, char **argv)
{
	if (argc < 1 || argc > 2)
		pusage("start: expected WORKFLOW [JSON]");
	char file[PATH_MAX], id[ID_LEN + 1];
	find_or_die(argv[0], file);
	jv ctx = argc > 1 ? context_arg("start", argv[1], PX_USAGE) : jv_object();
	open_state();
	jv steps = steps_of(file);
	if (o.at && !has_step(steps, o.at)) {
		char names[2048];
		flow_step_names(steps, names, sizeof names);
		pdie(PX_CONFIG, "--at: no step '%s' in %s (its steps: %s)", o.at, file, names);
	}
	jv_free(steps);
	new_run(file, jv_copy(ctx), o.at, id);
	printf("%s\n", id);
	prog_flush(PX_OK);
	size_t n;
	char *line = record_line(ctx, id, &n);
	jv out = drive(file, line, n);
	free(line);
	jv_free(out);
	return verdict(id);
}

/* Answers the suspension of run ID at STEP with INPUT (borrowed): 0; or
 * PX_CONFIG (WHY: the input does not meet the schema) or PX_REFUSED
 * (already answered). */
static int answer(const char *id, const char *step, jv input, char *why, size_t size)
{
	int rc = flow_answer(o.db, o.bus, id, step, input, NULL);
	if (rc < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	snprintf(why, size, "%s", err_msg());
	return rc == FLOW_ANSWERED ? 0 : rc == FLOW_REFUSED ? PX_REFUSED : PX_CONFIG;
}

static void note(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (prog_verbose >= level)
		pwarn("%s", msg);
}

/* The plan to take run ID of workflow FILE on from STEP, where it waits,
 * by its stages run here (lib/flow/chain.h), or NULL if the file must be
 * driven whole instead. */
static struct flow_chain *plan(const char *file, const char *id, const char *step, jv run)
{
	char real[PATH_MAX];
	if (flow_chain_step_bin(real, sizeof real) < 0)
		return NULL;
	char why[600];
	/* the plan first (its jq programs compile from then on), the journal
	 * next */
	struct flow_chain *c = flow_chain_plan(file, step, real, why, sizeof why);
	if (c) {
		jv journal = db_flow_steps(o.db, id);
		if (!jv_is_valid(journal))
			pdie(PX_CONFIG, "state: %s", err_msg());
		jv input = json_get(run, "input");
		if (flow_chain_replay(c, id, input, journal, why, sizeof why) < 0) {
			flow_chain_free(c);
			c = NULL;
		}
		jv_free(input);
		jv_free(journal);
	}
	if (!c && !why[0])
		pdie(PX_FAIL, "%s", err_msg());
	if (!c && prog_verbose > 0)
		pwarn("%s: the workflow is driven whole", why);
	return c;
}

/* Run ID, just resumed at STEP, taken on by plan C (freed): what came
 * out, by run. */
static jv taken_on(struct flow_chain *c, const char *file, const char *id, const char *step)
{
	if (prog_verbose > 0)
		pwarn("run %s: its last %d steps run here, from step %s", id, flow_chain_steps(c), step);
	struct driven d = { .out = jv_object() };
	struct flow_chain_cfg cfg = { .db = o.db, .bus = o.bus, .sigfd = o.sigfd, .note = note,
		                      .verbose = prog_verbose, .line = on_line, .ctx = &d };
	int sig;
	int rc = flow_chain_run(c, &cfg, &sig);
	flow_chain_free(c);
	if (rc < 0 && !sig)
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (rc < 0 && prog_verbose >= 0)
		pwarn("%s: the workflow was killed by signal %d", file, sig);
	return settle(&d);
}

static int cmd_resume(int argc, char **argv)
{
	if (argc != 2)
		pusage("resume: expected RUN JSON");
	open_state();
	const char *id = argv[0];
	jv run = get_run(id);
	const char *step = flow_waits_at(run, o.step);
	if (!step)
		pdie(PX_REFUSED, "%s", err_msg());
	jv input = context_arg("resume", argv[1], PX_CONFIG);
	const char *file = json_str(run, "workflow_file", NULL);
	char real[PATH_MAX];
	if (!o.print && !file)
		pdie(PX_CONFIG, "run %s was started by a pipeline typed on the command line: "
		                "resume it with --print and pipe that into the pipeline", id);
	if (!o.print && flow_find(file, real, sizeof real) < 0)
		pdie(PX_CONFIG, "run %s: %s", id, err_msg());
	/* the plan first: its jq programs compile while the answer is stored */
	struct flow_chain *c = o.print ? NULL : plan(real, id, step, run);
	char why[600];
	int rc = answer(id, step, input, why, sizeof why);
	if (rc) {
		flow_chain_free(c);
		pdie(rc, "run %s, step %s: %s", id, step, why);
	}
	jv_free(input);
	size_t n;
	char *line = record_line(json_get(run, "input"), id, &n);
	if (o.print) {
		fwrite(line, 1, n, stdout);
	} else {
		jv out = c ? taken_on(c, real, id, step) : drive(real, line, n);
		jv rec = json_get(out, id);
		if (jv_is_valid(rec))
			json_write(stdout, rec);
		jv_free(rec);
		jv_free(out);
		rc = verdict(id);
	}
	free(line);
	jv_free(run);
	return rc;
}

/* ---- reading ---- */

static void put(jv v)
{
	if (o.format == 'T') {
		jv_dumpf(jv_copy(v), stdout, JV_PRINT_PRETTY | JV_PRINT_SPACE2);
		putchar('\n');
	} else {
		json_write(stdout, v);
	}
}

/* A text field for a table, made harmless for the terminal. */
static void cell(const char *s, int width)
{
	size_t n = strlen(s);
	if (width > 0 && n > (size_t)width)
		n = (size_t)width;
	prog_put_safe(stdout, s, n, 0);
	for (int i = (int)n; i < width; i++)
		putchar(' ');
}

static jv rows_or_die(jv v)
{
	if (!jv_is_valid(v))
		pdie(PX_CONFIG, "state: %s", err_msg());
	return v;
}

static int cmd_inspect(int argc, char **argv)
{
	if (argc != 1)
		pusage("inspect: expected RUN");
	open_state();
	jv run = get_run(argv[0]);
	jv steps = rows_or_die(db_flow_steps(o.db, argv[0]));
	jv r = flow_inspect(run, steps);
	put(r);
	jv_free(r);
	jv_free(steps);
	jv_free(run);
	return PX_OK;
}

static int cmd_history(int argc, char **argv)
{
	if (argc != 1)
		pusage("history: expected RUN");
	open_state();
	jv h = flow_run_history(o.db, argv[0]);
	if (!jv_is_valid(h))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(h) != JV_KIND_ARRAY)
		pdie(PX_CONFIG, "unknown run '%s'", argv[0]);
	jv_array_foreach(h, i, e)
	{
		json_write(stdout, e);
		jv_free(e);
	}
	jv_free(h);
	return PX_OK;
}

static int cmd_stop(int argc, char **argv)
{
	if (argc != 1)
		pusage("stop: expected RUN");
	open_state();
	jv run = get_run(argv[0]);
	const char *st = json_str_or(run, "status", "");
	if (strcmp(st, "running") && strcmp(st, "waiting_for_human"))
		pdie(PX_REFUSED, "run %s has already ended: it is %s", argv[0], st);
	char at[32];
	time_rfc3339(time_now_ms(), at);
	struct db_flow_set c = {
		.id = argv[0], .status = "stopped", .only_if = "live", .finished_at = at, .updated_at = at,
		.error = "{\"kind\":\"stopped\",\"message\":\"stopped by syn-run stop\"}",
	};
	if (db_begin(o.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	int changed = db_flow_run_set(o.db, &c);
	if (changed < 0) {
		db_rollback(o.db);
		pdie(PX_CONFIG, "state: %s", err_msg());
	}
	if (!changed) {
		db_rollback(o.db);
		pdie(PX_REFUSED, "run %s has already ended", argv[0]);
	}
	jv d = flow_event("stopped", argv[0], json_str(run, "waiting_step", NULL),
	                  json_set(jv_object(), "reason", jv_string("stopped by syn-run stop")));
	if (flow_event_store(o.db, d) < 0 || db_commit(o.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	flow_event_publish(o.bus, o.db, d);
	jv_free(d);
	jv_free(run);
	return PX_OK;
}

static int ls_row(jv r, void *ctx)
{
	(void)ctx;
	jv row = jv_object();
	static const char *const f[] = { "id", "workflow", "status" };
	for (int i = 0; i < 3; i++)
		row = json_set(row, f[i], json_get(r, f[i]));
	jv w = json_get(r, "waiting_step");
	row = json_set(row, "step", jv_get_kind(w) == JV_KIND_STRING ? w : (jv_free(w), json_get(r, "last_step")));
	static const char *const t[] = { "started_at", "updated_at", "finished_at" };
	for (int i = 0; i < 3; i++)
		row = json_set(row, t[i], json_get(r, t[i]));
	if (o.format == 'T') {
		cell(json_str_or(row, "id", ""), 37);
		cell(json_str_or(row, "workflow", "-"), 17);
		cell(json_str_or(row, "status", ""), 18);
		cell(json_str_or(row, "step", "-"), 17);
		cell(json_str_or(row, "started_at", ""), 0);
		putchar('\n');
	} else {
		json_write(stdout, row);
	}
	jv_free(row);
	jv_free(r);
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	(void)argv;
	if (argc)
		pusage("ls: no arguments (filter with --status and --workflow)");
	open_state();
	if (o.format == 'T')
		printf("%-37s%-17s%-18s%-17s%s\n", "RUN", "WORKFLOW", "STATUS", "STEP", "STARTED");
	if (db_flow_run_list(o.db, o.status, o.workflow, o.limit, ls_row, NULL) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return PX_OK;
}

static int cmd_describe(int argc, char **argv)
{
	if (argc != 1)
		pusage("describe: expected WORKFLOW");
	char file[PATH_MAX];
	find_or_die(argv[0], file);
	jv steps = describe_or_die(file);
	if (o.format == 'T')
		printf("%-17s%-9s%s\n", "STEP", "KIND", "WHAT");
	jv_array_foreach(steps, i, d)
	{
		if (o.format != 'T') {
			json_write(stdout, d);
			jv_free(d);
			continue;
		}
		cell(json_str_or(d, "step", ""), 17);
		cell(json_str_or(d, "kind", ""), 9);
		jv what = json_get(d, "command");
		if (!jv_is_valid(what)) {
			jv_free(what);
			what = json_get(d, "jq");
		}
		if (!jv_is_valid(what)) {
			jv_free(what);
			what = json_get(d, "model");
		}
		jv t = jv_is_valid(what) ? jv_dump_string(what, 0) : (jv_free(what), jv_string(""));
		cell(jv_string_value(t), 60);
		jv_free(t);
		jv sp = json_get(d, "suspend");
		if (jv_get_kind(sp) == JV_KIND_OBJECT) {
			fputs(" [suspends: ", stdout);
			cell(json_str_or(sp, "message", ""), 40);
			putchar(']');
		}
		jv_free(sp);
		putchar('\n');
		jv_free(d);
	}
	jv_free(steps);
	return PX_OK;
}

static int export_one(jv run, void *ctx)
{
	(void)ctx;
	const char *id = json_str_or(run, "id", "");
	jv full = db_flow_run_get(o.db, id); /* with its input */
	jv steps = rows_or_die(db_flow_steps(o.db, id));
	jv calls = rows_or_die(db_flow_calls(o.db, id));
	jv scores = rows_or_die(db_flow_scores(o.db, id));
	if (jv_get_kind(full) == JV_KIND_OBJECT) {
		jv e = flow_export(full, steps, calls, scores);
		json_write(stdout, e);
		jv_free(e);
	}
	jv_free(full);
	jv_free(steps);
	jv_free(calls);
	jv_free(scores);
	jv_free(run);
	return 0;
}

static int cmd_export(int argc, char **argv)
{
	if (o.all ? argc != 0 : argc != 1)
		pusage("export: expected RUN or --all");
	open_state();
	if (!o.all)
		return export_one(get_run(argv[0]), NULL), PX_OK;
	if (db_flow_run_list(o.db, o.status, o.workflow, o.limit, export_one, NULL) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return PX_OK;
}

/* ---- test ---- */

struct tcase {
	char name[200];
	jv input, humans, expect;
	const char *status;
	int used;
	char id[ID_LEN + 1];
	char bad[700];
};

/* Reads the cases of PATH; *N of them. */
static struct tcase *read_cases(const char *path, int *n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		pdie(PX_CONFIG, "%s: %s", path, strerror(errno));
	struct tcase *v = NULL;
	int cap = 0;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	long lineno = 0;
	*n = 0;
	while ((len = getline(&line, &size, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len || line[0] == '#')
			continue;
		if (*n == cap && !(v = realloc(v, (size_t)(cap = cap ? cap * 2 : 16) * sizeof *v)))
			pdie(PX_FAIL, "out of memory");
		struct tcase *c = &v[(*n)++];
		memset(c, 0, sizeof *c);
		c->input = c->humans = c->expect = jv_null();
		c->status = "completed";
		jv k = jv_parse_sized(line, (int)len);
		snprintf(c->name, sizeof c->name, "case %d (line %ld)", *n, lineno);
		if (jv_get_kind(k) != JV_KIND_OBJECT) {
			char why[300];
			json_error_text(k, why, sizeof why);
			snprintf(c->bad, sizeof c->bad, "%s:%ld: not a case (a JSON object): %s", path, lineno, why);
			continue;
		}
		const char *name = json_str(k, "name", NULL);
		if (name)
			snprintf(c->name, sizeof c->name, "%s", name);
		c->input = json_get(k, "input");
		c->humans = json_get(k, "human_inputs");
		c->expect = json_get(k, "expect");
		const char *st = json_str(k, "status", NULL);
		for (int i = 0; st && statuses[i]; i++)
			if (!strcmp(st, statuses[i]))
				c->status = statuses[i];
		if (!jv_is_valid(c->input))
			c->input = jv_object();
		if (!jv_is_valid(c->humans))
			c->humans = jv_array();
		if (!jv_is_valid(c->expect))
			c->expect = jv_object();
		char bad[200] = "";
		if (jv_get_kind(c->input) != JV_KIND_OBJECT)
			snprintf(bad, sizeof bad, "\"input\" must be an object");
		else if (jv_get_kind(c->humans) != JV_KIND_ARRAY)
			snprintf(bad, sizeof bad, "\"human_inputs\" must be an array of objects");
		else if (jv_get_kind(c->expect) != JV_KIND_OBJECT)
			snprintf(bad, sizeof bad, "\"expect\" must be an object of fields");
		else if (st && strcmp(st, c->status))
			snprintf(bad, sizeof bad, "\"status\" must be a run's status, got '%.80s'", st);
		if (bad[0]) /* placed as a line that is not JSON is */
			snprintf(c->bad, sizeof c->bad, "%s:%ld: %s", path, lineno, bad);
		jv_free(k);
	}
	free(line);
	fclose(f);
	return v;
}

static void add_line(char **buf, size_t *len, jv ctx, const char *id)
{
	size_t n;
	char *line = record_line(ctx, id, &n);
	char *b = realloc(*buf, *len + n + 1);
	if (!b)
		pdie(PX_FAIL, "out of memory");
	memcpy(b + *len, line, n + 1);
	*len += n;
	*buf = b;
	free(line);
}

/* The failures of case C, as TAP comment lines; 1 if it passed. */
static int judge(struct tcase *c, FILE *out)
{
	if (c->bad[0]) {
		fprintf(out, "# %s\n", c->bad);
		return 0;
	}
	jv run = get_run(c->id);
	jv steps = rows_or_die(db_flow_steps(o.db, c->id));
	jv ctx = flow_context_of(json_get(run, "input"), steps);
	int ok = 1;
	const char *st = json_str_or(run, "status", "");
	if (strcmp(st, c->status)) {
		jv err = json_get(run, "error");
		fprintf(out, "# run %s: status %s, expected %s", c->id, st, c->status);
		if (jv_get_kind(err) == JV_KIND_OBJECT)
			fprintf(out, " (step %s: %s)", json_str_or(err, "step", "?"), json_str_or(err, "message", "?"));
		fputc('\n', out);
		jv_free(err);
		ok = 0;
	}
	jv_object_foreach(c->expect, k, want)
	{
		jv got = jv_object_get(jv_copy(ctx), jv_copy(k));
		if (!jv_equal(jv_copy(got), jv_copy(want))) {
			jv w = jv_dump_string(jv_copy(want), 0);
			jv g2 = jv_is_valid(got) ? jv_dump_string(jv_copy(got), 0) : jv_string("(missing)");
			fprintf(out, "# run %s: .%s: expected %s, got %s\n", c->id, jv_string_value(k),
			       jv_string_value(w), jv_string_value(g2));
			jv_free(w);
			jv_free(g2);
			ok = 0;
		}
		jv_free(got);
		jv_free(want);
		jv_free(k);
	}
	int nh = jv_array_length(jv_copy(c->humans));
	if (c->used < nh) {
		fprintf(out, "# run %s: %d of its %d human inputs were not asked for\n", c->id, nh - c->used, nh);
		ok = 0;
	}
	jv_free(ctx);
	jv_free(steps);
	jv_free(run);
	return ok;
}

static int cmd_test(int argc, char **argv)
{
	if (argc != 2)
		pusage("test: expected WORKFLOW CASES");
	char file[PATH_MAX];
	find_or_die(argv[0], file);
	int n;
	struct tcase *cs = read_cases(argv[1], &n);
	open_state();
	jv_free(steps_of(file));
	char *buf = NULL;
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		if (cs[i].bad[0])
			continue;
		new_run(file, jv_copy(cs[i].input), NULL, cs[i].id);
		add_line(&buf, &len, jv_copy(cs[i].input), cs[i].id);
	}
	for (int round = 0; len && round < 1000; round++) {
		jv_free(drive(file, buf, len));
		len = 0;
		for (int i = 0; i < n; i++) {
			struct tcase *c = &cs[i];
			if (c->bad[0] || c->used >= jv_array_length(jv_copy(c->humans)))
				continue;
			jv run = get_run(c->id);
			const char *step = json_str(run, "waiting_step", NULL);
			if (step && !strcmp(json_str_or(run, "status", ""), "waiting_for_human")) {
				jv in = jv_array_get(jv_copy(c->humans), c->used++);
				char why[600];
				if (jv_get_kind(in) != JV_KIND_OBJECT)
					snprintf(c->bad, sizeof c->bad, "run %s: human input %d is not an object",
					         c->id, c->used);
				else if (answer(c->id, step, in, why, sizeof why))
					snprintf(c->bad, sizeof c->bad, "run %s: human input %d at step %s: %s",
					         c->id, c->used, step, why);
				else
					add_line(&buf, &len, json_get(run, "input"), c->id);
				jv_free(in);
			}
			jv_free(run);
		}
	}
	free(buf);
	printf("1..%d\n", n);
	int failed = 0;
	for (int i = 0; i < n; i++) {
		/* the verdict first, then what went wrong: gather it */
		char *diag = NULL;
		size_t dlen = 0;
		FILE *mem = open_memstream(&diag, &dlen);
		if (!mem)
			pdie(PX_FAIL, "out of memory");
		int ok = judge(&cs[i], mem);
		fclose(mem);
		printf("%sok %d - ", ok ? "" : "not ", i + 1);
		prog_put_safe(stdout, cs[i].name, strlen(cs[i].name), 0);
		putchar('\n');
		prog_put_safe(stdout, diag, dlen, SAFE_KEEP_NL); /* it quotes the cases and the runs */
		free(diag);
		failed += !ok;
		jv_free(cs[i].input);
		jv_free(cs[i].humans);
		jv_free(cs[i].expect);
	}
	free(cs);
	if (failed && prog_verbose >= 0)
		pwarn("%d of %d cases failed", failed, n);
	return failed ? PX_FAIL : PX_OK;
}

/* ---- running a workflow file ---- */

/* syn-run FILE [ARG]...: FILE's body run by /bin/sh, its stages told the
 * workflow (SYN_WORKFLOW) and its steps (SYN_STEPS). */
static int run_file(int argc, char **argv)
{
	char file[PATH_MAX];
	if (flow_find(argv[0], file, sizeof file) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	const char *desc = getenv("SYN_DESCRIBE");
	if (!desc || !*desc) {
		open_state();
		o.sigfd = -1;
		jv steps = try_steps(file);
		if (jv_is_valid(steps)) {
			char *names = flow_steps_env(steps);
			if (names)
				setenv("SYN_STEPS", names, 1);
			free(names);
		} else if (jv_invalid_has_msg(jv_copy(steps))) { /* a stage cannot start */
			jv_free(steps);
			pdie(PX_CONFIG, "%s", err_msg());
		} else if (prog_verbose >= 0) {
			pwarn("%s (its stages will look for each other)", err_msg());
		}
		jv_free(steps);
		bus_close(o.bus);
		db_close(o.db);
	}
	setenv("SYN_WORKFLOW", file, 1);
	char **args = calloc((size_t)argc + 2, sizeof *args);
	if (!args)
		pdie(PX_FAIL, "out of memory");
	args[0] = "sh";
	args[1] = file;
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	fflush(NULL);
	execv("/bin/sh", args);
	pdie(PX_CONFIG, "/bin/sh: %s", strerror(errno));
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	prog_init("syn-run");
	if (argc > 1 && argv[1][0] != '-' && strchr(argv[1], '/'))
		return run_file(argc - 1, argv + 1);
	o.format = isatty(1) ? 'T' : 'J';
	o.sigfd = -1;
	int c;
	while ((c = getopt_long(argc, argv, "n:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_AT: o.at = optarg; break;
		case O_PRINT: o.print = 1; break;
		case O_STEP: o.step = optarg; break;
		case O_STATUS: {
			int ok = 0;
			for (int i = 0; statuses[i]; i++)
				ok |= !strcmp(statuses[i], optarg);
			if (!ok)
				pusage("--status: expected running, waiting_for_human, completed, failed or stopped, got '%s'",
				       optarg);
			o.status = optarg;
			break;
		}
		case O_WORKFLOW: {
			/* a file is known by its full path, as its stages journal it */
			static char full[PATH_MAX];
			o.workflow = strchr(optarg, '/') && realpath(optarg, full) ? full : optarg;
			break;
		}
		case 'n': o.limit = prog_atol("-n", optarg, 0, 1L << 30); break;
		case O_ALL: o.all = 1; break;
		case O_JSON: o.format = 'J'; break;
		case O_TABLE: o.format = 'T'; break;
		default: prog_option(c, usage);
		}
	}
	if (optind >= argc)
		pusage("a command: start, resume, inspect, history, stop, ls, describe, test or export");
	const char *cmd = argv[optind];
	int n = argc - optind - 1;
	char **args = argv + optind + 1;
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "start", cmd_start }, { "resume", cmd_resume }, { "inspect", cmd_inspect },
		{ "history", cmd_history }, { "stop", cmd_stop }, { "ls", cmd_ls },
		{ "describe", cmd_describe }, { "test", cmd_test }, { "export", cmd_export },
	};
	int (*fn)(int, char **) = NULL;
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (!strcmp(cmd, cmds[i].name))
			fn = cmds[i].fn;
	if (!fn)
		pusage("unknown command '%s'", cmd);
	if (o.at && strcmp(cmd, "start"))
		pusage("--at goes with start");
	if ((o.print || o.step) && strcmp(cmd, "resume"))
		pusage("--print and --step go with resume");
	if (o.all && strcmp(cmd, "export"))
		pusage("--all goes with export");
	if (!strcmp(cmd, "start") || !strcmp(cmd, "resume") || !strcmp(cmd, "test") ||
	    !strcmp(cmd, "describe"))
		o.sigfd = prog_signalfd();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	int rc = fn(n, args);
	bus_close(o.bus);
	if (db_close(o.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(rc);
}
