/* chain: a run taken on from the step it waits at, in this process; see
 * chain.h. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "bus/bus.h"
#include "flow/chain.h"
#include "flow/context.h"
#include "flow/script.h"
#include "flow/stage.h"
#include "flow/stepargs.h"
#include "json/json.h"
#include "json/ndjson.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "state/db.h"

struct flow_chain {
	struct flow_script sc;
	int parsed;               /* stages whose step is parsed (to free) */
	int from;                 /* the waiting step's stage */
	struct flow_step *steps;  /* one per stage */
	struct flow_step_opts *opts;
	struct catalogue **cats;  /* per stage, or NULL; freed once each */
	char *names;              /* the steps' names, space-separated */
	char *file;
	char *record;             /* the record as it reaches the waiting step */
	size_t reclen;
	/* the jq programs of the stages from the waiting one, compiled
	 * together on a thread while the caller stores the answer */
	const char **progs;
	int np, *index;           /* index: each stage's program in the set */
	void *jqset;              /* once joined: the set, or NULL */
	pthread_t thread;
	int compiling;            /* the thread is started and not joined */
};

static void *compile(void *arg)
{
	struct flow_chain *c = arg;
	if (flow_jqset_compile(c->progs, c->np, &c->jqset) < 0)
		c->jqset = NULL; /* each stage compiles its own, and says what is wrong */
	return NULL;
}

static void join(struct flow_chain *c)
{
	if (c->compiling) {
		pthread_join(c->thread, NULL);
		c->compiling = 0;
	}
}

int flow_chain_steps(const struct flow_chain *c)
{
	return c->sc.n - c->from;
}

void flow_chain_free(struct flow_chain *c)
{
	if (!c)
		return;
	join(c);
	flow_jq_free(c->jqset);
	free(c->progs);
	free(c->index);
	for (int i = 0; i < c->parsed; i++) {
		flow_step_free(&c->steps[i]);
		int first = 1; /* a catalogue shared by stages is freed once */
		for (int j = 0; j < i && first; j++)
			first = c->cats[j] != c->cats[i];
		if (first)
			catalogue_free(c->cats[i]);
	}
	flow_script_free(&c->sc);
	free(c->steps);
	free(c->opts);
	free(c->cats);
	free(c->names);
	free(c->file);
	free(c->record);
	free(c);
}

/* 1 if CMD (a stage's argv[0]) is the syn-step at STEP_BIN: by PATH, as
 * the shell would find it, or a path. */
static int our_step(const char *cmd, const char *step_bin)
{
	char real[PATH_MAX];
	if (strchr(cmd, '/'))
		return realpath(cmd, real) && !strcmp(real, step_bin);
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	for (const char *p = path;;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char cand[PATH_MAX];
		struct stat st;
		if (snprintf(cand, sizeof cand, "%.*s/%s", (int)n, n ? p : ".", cmd) < (int)sizeof cand &&
		    stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return realpath(cand, real) && !strcmp(real, step_bin);
		if (!e)
			return 0;
		p = e + 1;
	}
}

int flow_chain_step_bin(char *buf, size_t size)
{
	char bin[PATH_MAX], real[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", bin, sizeof bin - 16);
	char *slash = k > 0 ? memrchr(bin, '/', (size_t)k) : NULL;
	if (!slash)
		return -1;
	strcpy(slash, "/syn-step");
	if (!realpath(bin, real) || strlen(real) >= size)
		return -1;
	strcpy(buf, real);
	return 0;
}

struct other {
	int c;
};

static void other(int c, const char *arg, void *ctx)
{
	(void)arg;
	struct other *o = ctx;
	if (!o->c)
		o->c = c;
}

static struct flow_chain *refuse(struct flow_chain *c, char *why, size_t size, const char *fmt,
                                 const char *a, const char *b)
{
	snprintf(why, size, fmt, a, b);
	flow_chain_free(c);
	return NULL;
}

/* The journal row of STEP in JOURNAL (borrowed), or null. */
static jv row_of(jv journal, const char *step)
{
	jv found = jv_null();
	jv_array_foreach(journal, i, r)
	{
		if (!strcmp(json_str_or(r, "step", ""), step)) {
			jv_free(found);
			found = r;
		} else {
			jv_free(r);
		}
	}
	return found;
}

struct flow_chain *flow_chain_plan(const char *file, const char *waiting, const char *step_bin,
                                   char *why, size_t size)
{
	why[0] = 0;
	struct flow_chain *c = calloc(1, sizeof *c);
	if (!c || !(c->file = strdup(file))) {
		free(c);
		err_set("out of memory");
		return NULL;
	}
	/* the file's text, which the shell would read */
	FILE *f = fopen(file, "r");
	if (!f)
		return refuse(c, why, size, "%s: %s", file, strerror(errno));
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8192;
			char *t = cap <= (1u << 24) ? realloc(text, cap) : NULL;
			if (!t)
				break;
			text = t;
		}
		size_t k = fread(text + len, 1, cap - len, f);
		len += k;
		if (k == 0)
			break;
	}
	int bad = ferror(f) || len == cap;
	fclose(f);
	int plain = bad ? 0 : flow_script_parse(text, len, &c->sc);
	free(text);
	if (bad)
		return refuse(c, why, size, "%s: not read whole%s", file, "");
	if (plain < 0) {
		flow_chain_free(c);
		return NULL;
	}
	if (!plain)
		return refuse(c, why, size, "%s is not a plain pipeline of syn-steps: %s", file, c->sc.why);
	int n = c->sc.n;
	c->steps = calloc((size_t)n, sizeof *c->steps);
	c->opts = calloc((size_t)n, sizeof *c->opts);
	c->cats = calloc((size_t)n, sizeof *c->cats);
	if (!c->steps || !c->opts || !c->cats) {
		flow_chain_free(c);
		err_set("out of memory");
		return NULL;
	}
	/* every stage as syn-step reads its command line */
	int saved = opterr;
	opterr = 0;
	jv names = jv_string("");
	c->from = -1;
	for (int i = 0; i < n; i++) {
		struct flow_script_stage *s = &c->sc.stage[i];
		if ((i == 0 || strcmp(s->argv[0], c->sc.stage[i - 1].argv[0])) &&
		    !our_step(s->argv[0], step_bin)) {
			opterr = saved;
			jv_free(names);
			return refuse(c, why, size, "%s is not the syn-step beside this program (%s)",
			              s->argv[0], step_bin);
		}
		flow_step_init(&c->steps[i]);
		c->parsed = i + 1;
		struct other o = { 0 };
		if (flow_step_parse(s->argc, s->argv, &c->steps[i], &c->opts[i], other, &o) < 0 || o.c) {
			opterr = saved;
			jv_free(names);
			return refuse(c, why, size, "stage %s of the file has options of its own, or bad ones%s",
			              s->argc > 1 ? s->argv[1] : "?", "");
		}
		const char *name = c->steps[i].name;
		for (int j = 0; j < i; j++)
			if (!strcmp(c->steps[j].name, name)) {
				opterr = saved;
				jv_free(names);
				return refuse(c, why, size, "step name '%s' is used twice%s", name, "");
			}
		if (!strcmp(name, waiting))
			c->from = i;
		names = jv_string_append_str(names, i ? " " : "");
		names = jv_string_append_str(names, name);
	}
	opterr = saved;
	c->names = strdup(jv_string_value(names));
	jv_free(names);
	if (!c->names) {
		flow_chain_free(c);
		err_set("out of memory");
		return NULL;
	}
	if (c->from < 0)
		return refuse(c, why, size, "no step '%s' in %s", waiting, file);
	/* libjq takes tens of ms to compile (its builtins, with every program):
	 * one set for all, started as soon as the stages are known, on a
	 * thread, to be ready by the first stage that runs a program */
	c->progs = calloc((size_t)n, sizeof *c->progs);
	c->index = calloc((size_t)n, sizeof *c->index);
	if (!c->progs || !c->index) {
		flow_chain_free(c);
		err_set("out of memory");
		return NULL;
	}
	for (int i = c->from; i < n; i++)
		if (c->steps[i].kind == FK_JQ) {
			c->index[i] = c->np;
			c->progs[c->np++] = c->steps[i].jq;
		}
	if (c->np && pthread_create(&c->thread, NULL, compile, c) == 0)
		c->compiling = 1;
	else if (c->np)
		compile(c);
	return c;
}

/* WHY, formatted, for flow_chain_replay: -1. */
static int unfit(char *why, size_t size, const char *fmt, const char *a, const char *b)
{
	snprintf(why, size, fmt, a, b);
	return -1;
}

int flow_chain_replay(struct flow_chain *c, const char *id, jv input, jv journal, char *why,
                      size_t size)
{
	why[0] = 0;
	int n = c->sc.n;
	/* the record as the stages before would replay it */
	jv ctx = jv_get_kind(input) == JV_KIND_OBJECT ? jv_copy(input) : jv_object();
	for (int i = 0; i < c->from; i++) {
		jv row = row_of(journal, c->steps[i].name);
		const char *st = json_str_or(row, "state", "");
		if (strcmp(st, "completed") && strcmp(st, "skipped")) {
			jv_free(row);
			jv_free(ctx);
			return unfit(why, size, "step %s has no completed row: it would run%s",
			             c->steps[i].name, "");
		}
		jv res = json_get(row, "result");
		if (jv_get_kind(res) == JV_KIND_OBJECT && jv_object_length(jv_copy(res)))
			ctx = flow_merge(ctx, res);
		else
			jv_free(res);
		jv_free(row);
	}
	ctx = json_set(ctx, "_run", jv_string(id));
	c->record = json_dump(ctx, &c->reclen);
	jv_free(ctx);
	if (!c->record)
		return err_set("out of memory");
	/* the models of the stages that will run, as syn-step loads them */
	struct catalogue *shared = NULL;
	for (int i = c->from; i < n; i++) {
		const struct flow_step *st = &c->steps[i];
		if ((st->kind == FK_JQ || st->kind == FK_PASS) && !st->nscorers)
			continue;
		if (!c->opts[i].models && shared) {
			c->cats[i] = shared;
		} else if (catalogue_load(&c->cats[i], c->opts[i].models) < 0) {
			return unfit(why, size, "step %s: %s", st->name, err_msg());
		} else if (!c->opts[i].models) {
			shared = c->cats[i];
		}
		if (st->kind == FK_LLM && !catalogue_find(c->cats[i], st->model))
			return unfit(why, size, "step %s: unknown model '%s'", st->name, st->model);
	}
	return 0;
}

/* Commits what stage S holds, publishes its events, and appends its
 * output to *OUT. */
static int flush(struct stage *s, const struct flow_chain_cfg *cfg, char **out, size_t *outlen)
{
	if (stage_commit(s) < 0 || db_flush(cfg->db) < 0)
		return -1;
	stage_publish(s);
	if (cfg->bus)
		bus_flush(cfg->bus);
	size_t n;
	const char *o = stage_output(s, &n);
	if (n) {
		char *b = realloc(*out, *outlen + n + 1);
		if (!b)
			return err_set("out of memory");
		memcpy(b + *outlen, o, n);
		*outlen += n;
		b[*outlen] = 0;
		*out = b;
	}
	stage_output_clear(s);
	return 0;
}

/* Takes the records of IN (lines) through stage S: its output in *OUT. */
static int through(const char *name, struct stage *s, struct engine *eng, const char *in,
                   size_t inlen, const struct flow_chain_cfg *cfg, char **out, size_t *outlen,
                   int *signo)
{
	for (const char *p = in; p < in + inlen;) {
		const char *e = memchr(p, '\n', (size_t)(in + inlen - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(in + inlen - p);
		char why[600];
		jv rec = json_parse(p, n);
		int rc = stage_take(s, rec, p, n, why, sizeof why);
		if (rc == -1 && cfg->note) {
			char msg[700];
			snprintf(msg, sizeof msg, "step %s: %s", name, why);
			cfg->note(cfg->ctx, 0, msg);
		} else if (rc < -1) {
			return -1;
		}
		p = e ? e + 1 : in + inlen;
	}
	for (;;) {
		int ms = stage_work(s);
		if (ms == -2)
			return -1;
		if (!stage_busy(s))
			break;
		if (flush(s, cfg, out, outlen) < 0) /* before a wait, as syn-step does */
			return -1;
		struct pollfd p[1];
		int np = 0;
		if (cfg->sigfd >= 0)
			p[np++] = (struct pollfd){ .fd = cfg->sigfd, .events = POLLIN };
		engine_wait(eng, p, np, ms);
		if (np && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			if (read(cfg->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
				*signo = (int)si.ssi_signo;
				flush(s, cfg, out, outlen); /* what is done is committed */
				return err_set("stopped by signal %d", *signo);
			}
		}
	}
	return flush(s, cfg, out, outlen);
}

int flow_chain_run(struct flow_chain *c, const struct flow_chain_cfg *cfg, int *signo)
{
	*signo = 0;
	if (setenv("SYN_WORKFLOW", c->file, 1) < 0 || setenv("SYN_STEPS", c->names, 1) < 0 ||
	    setenv("SYN_DESCRIBE", "", 1) < 0)
		return err_errno("environment");
	int n = c->sc.n, rc = 0;
	struct engine *eng = engine_new();
	char *in = malloc(c->reclen + 2), *out = NULL;
	size_t inlen = c->reclen + 1, outlen = 0;
	if (!eng || !in) {
		rc = err_set("out of memory");
		goto done;
	}
	memcpy(in, c->record, c->reclen);
	in[c->reclen] = '\n';
	in[inlen] = 0;
	for (int i = c->from; i < n && inlen; i++) {
		if (c->steps[i].kind == FK_JQ)
			join(c); /* the stages before it ran while the set compiled */
		char *wname, *wfile;
		flow_step_workflow(c->opts[i].workflow, &wname, &wfile);
		struct stage_cfg sc = {
			.step = &c->steps[i], .db = cfg->db, .bus = cfg->bus, .eng = eng,
			.cat = c->cats[i], .workflow = wname, .workflow_file = wfile,
			.maxline = ND_MAXLINE_DEFAULT, .last = c->opts[i].last, .fresh = c->opts[i].fresh,
			.steps = c->names, .note = cfg->note, .verbose = cfg->verbose, .ctx = cfg->ctx,
			.jqset = c->steps[i].kind == FK_JQ ? c->jqset : NULL, .jqindex = c->index[i],
		};
		struct stage *s = stage_new(&sc);
		if (!s) {
			rc = -1;
		} else {
			rc = through(c->steps[i].name, s, eng, in, inlen, cfg, &out, &outlen, signo);
			stage_free(s); /* cancels what is in flight: nothing journalled for it */
		}
		free(wname);
		free(wfile);
		free(in);
		in = out;
		inlen = outlen;
		out = NULL;
		outlen = 0;
		if (rc < 0)
			goto done;
	}
	for (const char *p = in; p && p < in + inlen;) {
		const char *e = memchr(p, '\n', (size_t)(in + inlen - p));
		size_t k = e ? (size_t)(e - p) : (size_t)(in + inlen - p);
		if (cfg->line)
			cfg->line(p, k, cfg->ctx);
		p = e ? e + 1 : in + inlen;
	}
done:
	free(in);
	free(out);
	engine_free(eng);
	return rc;
}
