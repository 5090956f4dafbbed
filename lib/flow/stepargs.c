/* stepargs: a syn-step stage's command line; see stepargs.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "flow/schema.h"
#include "flow/stepargs.h"
#include "flow/template.h"
#include "json/json.h"

enum { O_JQ = 256, O_PROMPT, O_TO, O_SYSTEM, O_TEMP, O_MAXTOK, O_OSCHEMA, O_STREAM, O_TOOL,
       O_SCORE, O_SUSPEND, O_SCHEMA, O_METADATA, O_RETRY, O_BACKOFF, O_TIMEOUT, O_FALLBACK,
       O_SCORER, O_WORKFLOW, O_LAST, O_MODELS, O_FRESH };

/* The common options' codes are cli/prog.h's (1000 on); the flow layer
 * only hands them on. */
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
	{ "raw-input", no_argument, 0, 'R' },
	{ "json", no_argument, 0, 1003 },
	{ "max-line", required_argument, 0, 1004 },
	{ "quiet", no_argument, 0, 'q' },
	{ "verbose", no_argument, 0, 'v' },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 1000 },
	{ "db", required_argument, 0, 1001 },
	{ "bus", required_argument, 0, 1002 },
	{ 0, 0, 0, 0 },
};

/* SECS of --backoff and --timeout: seconds, or a duration with units
 * (base/timeutil.h), as every program takes them. */
static int seconds(const char *opt, const char *s, int positive, double *out)
{
	int64_t ms;
	double max_s = 86400 * 30;
	if (time_duration(s, 1000, &ms) < 0 || ms > max_s * 1000 || (positive && ms <= 0))
		return err_set("%s: expected seconds (or 500ms, 30s, 5m, 1h) from %s to %.0f s, got '%s'",
		               opt, positive ? "0.001" : "0", max_s, s);
	*out = (double)ms / 1000.0;
	return 0;
}

static int number(const char *opt, const char *s, double min, double max, const char *what,
                  double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= min && v <= max))
		return err_set("%s: expected %s from %g to %g, got '%s'", opt, what, min, max, s);
	*out = v;
	return 0;
}

static int whole(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return err_set("%s: expected a whole number from %ld to %ld, got '%s'", opt, min, max, s);
	*out = v;
	return 0;
}

/* An option's JSON object (OPT names it in errors) into *OUT (freed first). */
static int object(const char *opt, const char *s, jv *out)
{
	jv v = jv_parse(s);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		char why[300] = "";
		if (!jv_is_valid(v))
			json_error_text(v, why, sizeof why);
		else
			jv_free(v);
		return err_set("%s: expected a JSON object%s%s", opt, *why ? ": " : "", why);
	}
	jv_free(*out);
	*out = v;
	return 0;
}

/* NAME=PROGRAM of --tool and --scorer, split in place. */
static int pair(const char *opt, char *arg, const char **name, const char **prog)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return err_set("%s: expected NAME=PROGRAM, got '%s'", opt, arg);
	*eq = 0;
	if (flow_step_name_check(arg) < 0)
		return err_set("%s: %s", opt, err_msg());
	*name = arg;
	*prog = eq + 1;
	return 0;
}

/* One option C with ARG. */
static int option(struct flow_step *st, struct flow_step_opts *o, int *score, int c, char *arg,
                  void (*other)(int, const char *, void *), void *ctx)
{
	long n;
	switch (c) {
	case O_JQ: st->jq = arg; return 0;
	case 'm': st->model = arg; return 0;
	case O_PROMPT: st->prompt = arg; return 0;
	case O_TO: st->to = arg; return 0;
	case O_SYSTEM: st->system = arg; return 0;
	case O_TEMP: return number("--temperature", arg, 0, 2, "a temperature", &st->temperature);
	case O_MAXTOK:
		if (whole("--max-tokens", arg, 1, 1 << 24, &n) < 0)
			return -1;
		st->max_tokens = n;
		return 0;
	case O_OSCHEMA: return object("--output-schema", arg, &st->output_schema);
	case O_STREAM: st->stream = 1; return 0;
	case O_TOOL:
		if (st->ntools == FLOW_MAX_TOOLS)
			return err_set("--tool: at most %d tools", FLOW_MAX_TOOLS);
		if (pair("--tool", arg, &st->tools[st->ntools].name, &st->tools[st->ntools].program) < 0)
			return -1;
		st->ntools++;
		return 0;
	case O_SCORE: *score = 1; return 0;
	case O_SUSPEND: st->suspend = arg; return 0;
	case O_SCHEMA: {
		if (object("--schema", arg, &st->schema) < 0)
			return -1;
		char why[400];
		if (flow_schema_check(st->schema, why, sizeof why) < 0)
			return err_set("--%s", why); /* why begins "schema: " */
		return 0;
	}
	case O_METADATA: return object("--metadata", arg, &st->metadata);
	case O_RETRY:
		if (whole("--retry", arg, 0, 100, &n) < 0)
			return -1;
		st->retry = (int)n;
		return 0;
	case O_BACKOFF: return seconds("--backoff", arg, 0, &st->backoff);
	case O_TIMEOUT: return seconds("--timeout", arg, 1, &st->timeout);
	case O_FALLBACK: return object("--fallback", arg, &st->fallback);
	case O_SCORER:
		if (st->nscorers == FLOW_MAX_SCORERS)
			return err_set("--scorer: at most %d scorers", FLOW_MAX_SCORERS);
		if (pair("--scorer", arg, &st->scorers[st->nscorers].name,
		         &st->scorers[st->nscorers].program) < 0)
			return -1;
		st->nscorers++;
		return 0;
	case 'j':
		if (whole("-j", arg, 1, 1024, &n) < 0)
			return -1;
		st->jobs = (int)n;
		return 0;
	case O_WORKFLOW: o->workflow = arg; return 0;
	case O_LAST: o->last = 1; return 0;
	case O_FRESH: o->fresh = 1; return 0;
	case O_MODELS: o->models = arg; return 0;
	default:
		if (other)
			other(c, arg, ctx);
		return 0;
	}
}

int flow_step_parse(int argc, char **argv, struct flow_step *st, struct flow_step_opts *o,
                    void (*other)(int c, const char *arg, void *ctx), void *ctx)
{
	int score = 0;
	o->workflow = o->models = NULL;
	o->last = -1;
	o->fresh = 0;
	if (argc < 2)
		return err_set("a step needs a NAME");
	if (argv[1][0] != '-') {
		st->name = argv[1];
		if (flow_step_name_check(st->name) < 0)
			return -1;
	}
	/* getopt from the start (optind 0), over ARGV less NAME */
	int skip = !!st->name, n = argc - skip;
	char **a = malloc(((size_t)n + 1) * sizeof *a);
	if (!a)
		return err_errno("step");
	a[0] = argv[0];
	for (int i = 1; i < n; i++)
		a[i] = argv[i + skip];
	a[n] = NULL;
	optind = 0;
	int c, rc = 0;
	while (rc == 0 && (c = getopt_long(n, a, "+m:j:Rqvh", longopts, NULL)) != -1)
		rc = option(st, o, &score, c, optarg, other, ctx);
	int at = optind + skip; /* the first operand, in ARGV */
	int dashes = optind > 1 && !strcmp(a[optind - 1], "--");
	free(a);
	if (rc < 0)
		return -1;
	if (!st->name)
		return err_set("a step needs a NAME, before its options");
	if (at < argc && !dashes)
		return err_set("unexpected argument '%s' (a program goes after --)", argv[at]);
	int nactions = (at < argc) + !!st->jq + !!st->model;
	if (nactions > 1)
		return err_set("a step has one action: a program after --, --jq or --model");
	if (score && at >= argc)
		return err_set("--score: the scorer is the program after --");
	if (!st->model && (st->prompt || st->to || st->system || st->stream || st->ntools ||
	                   st->temperature >= 0 || st->max_tokens ||
	                   jv_get_kind(st->output_schema) != JV_KIND_NULL))
		return err_set("--prompt, --to, --system, --stream, --tool and the like go with --model");
	if (st->model && !st->prompt)
		return err_set("--model: give the --prompt");
	if (!st->suspend && (jv_get_kind(st->schema) != JV_KIND_NULL ||
	                     jv_get_kind(st->metadata) != JV_KIND_NULL))
		return err_set("--schema and --metadata go with --suspend");
	if ((st->prompt && flow_fill_check(st->prompt) < 0) ||
	    (st->system && flow_fill_check(st->system) < 0) ||
	    (st->suspend && flow_fill_check(st->suspend) < 0))
		return -1;
	if (at < argc) {
		st->argv = argv + at;
		st->kind = score ? FK_SCORE : FK_COMMAND;
	} else if (st->jq) {
		st->kind = FK_JQ;
	} else if (st->model) {
		st->kind = FK_LLM;
		if (!st->to)
			st->to = st->name;
	}
	return 0;
}

void flow_step_workflow(const char *opt, char **name, char **file)
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
