/* runs: workflow runs that wait for a human (DESIGN.md §6, issue 15).
 *   GET  /runs                      runs waiting, each with its message, its
 *                                   metadata and a form made from its schema
 *   POST /runs/ID/resume            the form (csrf, step, f.FIELD...): checked
 *                                   as syn-run resume checks it (lib/flow/
 *                                   answer.h), errors next to their fields;
 *                                   then syn-run resume drives the run on
 *   GET  /runs/ID                   the run: status and its history
 *   GET  /api/runs                  the waiting runs (flow_waiting's records)
 *   GET  /api/runs/ID               syn-run inspect's record
 *   GET  /api/runs/ID/history       syn-run history's records, as an array
 *   POST /api/runs/ID/resume        the answer as a JSON object (?step=S)
 *
 * The form is made from the schema by runform.c. A run started by a
 * pipeline typed on the command line (no workflow file) has no form:
 * syn-run resume cannot drive it, so the page shows the command line that
 * resumes it and the API answers 409.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "flow/answer.h"
#include "flow/report.h"
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"
#include "web/agentform.h"
#include "web/html.h"
#include "web/runform.h"
#include "web/serveri.h"

#define ANSWER_MAX 100000 /* bytes of an answer: it goes to syn-run as an argument */
#define RESUME_WAIT_MS 10000

#define TYPED_MSG "run %s was started by a pipeline typed on the command line: " \
	"resume it there with syn-run resume --print RUN JSON | PIPELINE"

/* ---- the pages ---- */

/* 1 if run ID has no workflow file (a pipeline typed on the command line). */
static int typed(struct db *db, const char *id)
{
	jv run = db_flow_run_get(db, id);
	int t = jv_get_kind(run) == JV_KIND_OBJECT && !json_str(run, "workflow_file", NULL);
	jv_free(run);
	return t;
}

static void put_json(struct html *h, jv v)
{
	jv t = jv_dump_string(jv_copy(v), JV_PRINT_INDENT_FLAGS(2));
	html_puts(h, "<pre class=json>");
	html_esc(h, jv_string_value(t));
	html_puts(h, "</pre>");
	jv_free(t);
}

static void put_link(struct html *h, const char *id)
{
	html_puts(h, "<a href=\"/runs/");
	html_esc(h, id);
	html_puts(h, "\">");
	html_esc(h, id);
	html_puts(h, "</a>");
}

struct listing {
	struct web_req *req;
	struct html *h;
	const char *answered; /* the run whose form was sent, or NULL */
	jv values, errors;
	int n;
};

static int one_run(jv w, void *ctx)
{
	struct listing *l = ctx;
	struct html *h = l->h;
	const char *id = json_str_or(w, "id", "");
	int mine = l->answered && !strcmp(l->answered, id);
	jv values = mine ? l->values : jv_null(), errors = mine ? l->errors : jv_null();
	jv schema = json_get(w, "schema");
	char form_id[32];
	snprintf(form_id, sizeof form_id, "r%d", l->n++);
	html_puts(h, "<section class=run><h2>");
	html_esc(h, json_str_or(w, "workflow", "?"));
	html_puts(h, " · step ");
	html_esc(h, json_str_or(w, "step", "?"));
	html_puts(h, "</h2>\n<p class=meta>run ");
	put_link(h, id);
	html_puts(h, ", waiting since ");
	html_esc(h, json_str_or(w, "updated_at", ""));
	html_puts(h, "</p>\n<p class=message>");
	html_esc(h, json_str_or(w, "message", ""));
	html_puts(h, "</p>\n");
	jv md = json_get(w, "metadata");
	if (jv_get_kind(md) == JV_KIND_OBJECT && jv_object_length(jv_copy(md))) {
		html_puts(h, "<details open><summary>metadata</summary>");
		put_json(h, md);
		html_puts(h, "</details>\n");
	}
	jv_free(md);
	if (typed(l->req->db, id)) {
		html_puts(h, "<p class=typed>This run was started by a pipeline typed on the "
		             "command line: resume it there, with your answer as JSON, piping "
		             "into the rest of that pipeline:</p>\n<pre class=resume><code>"
		             "syn-run resume --print ");
		html_esc(h, id);
		html_puts(h, " &#39;JSON&#39; | PIPELINE</code></pre></section>\n");
		jv_free(schema);
		jv_free(w);
		return 0;
	}
	html_puts(h, "<form method=post novalidate class=answer action=\"/runs/");
	html_esc(h, id);
	html_puts(h, "/resume\"><input type=hidden name=csrf value=\"");
	html_esc(h, web_csrf(l->req));
	html_puts(h, "\"><input type=hidden name=step value=\"");
	html_esc(h, json_str_or(w, "step", ""));
	html_puts(h, "\">\n");
	runform_errors(h, schema, errors, NULL);
	int i = 0;
	if (jv_get_kind(schema) == JV_KIND_OBJECT) {
		jv_object_foreach(schema, k, t)
		{
			runform_field(h, form_id, i++, jv_string_value(k), t, values, schema,
			              errors);
			jv_free(k);
			jv_free(t);
		}
	}
	if (!i)
		html_puts(h, "<p class=meta>no fields asked for: resuming answers {}</p>\n");
	html_puts(h, "<button>resume</button></form></section>\n");
	jv_free(schema);
	jv_free(w);
	return 0;
}

/* The page of waiting runs; ANSWERED's form (if not NULL) shows VALUES
 * and ERRORS; MESSAGE (or NULL) on top. */
static int list_page(struct web_req *req, int status, const char *answered, jv values, jv errors,
                     const char *message, const char *klass)
{
	struct html runs, msg, h;
	html_init(&runs);
	html_init(&msg);
	html_init(&h);
	struct listing l = { req, &runs, answered, values, errors, 0 };
	int rc = flow_waiting(req->db, 0, one_run, &l);
	if (rc < 0) {
		html_free(&runs);
		html_free(&msg);
		html_free(&h);
		return web_error(req, 500, "state: %s", err_msg());
	}
	if (!l.n)
		html_puts(&runs, "<p class=meta>No run waits for a human.</p>\n");
	if (message) {
		html_printf(&msg, "<p class=\"%s\" role=status>", klass);
		html_esc(&msg, message);
		html_puts(&msg, "</p>");
	}
	const char *vars[] = { "runs", runs.s ? runs.s : "", "message", msg.s ? msg.s : "", NULL };
	rc = html_template(req, &h, "runs.html", vars);
	if (rc == 0)
		rc = h.oom || runs.oom || msg.oom ? err_set("out of memory")
		                                  : web_reply_html(req, status, h.s, h.n);
	html_free(&runs);
	html_free(&msg);
	html_free(&h);
	return rc;
}

static int page(struct web_req *req)
{
	return list_page(req, 200, NULL, jv_null(), jv_null(), NULL, NULL);
}

/* The run ID of REST (up to '/') into ID; what follows into *AFTER. */
static int run_id(struct web_req *req, char id[static 65], const char **after)
{
	size_t n = strcspn(req->rest, "/");
	if (!n || n > 64)
		return -1;
	memcpy(id, req->rest, n);
	id[n] = 0;
	*after = req->rest + n;
	return 0;
}

static int run_page(struct web_req *req, const char *id)
{
	jv run = db_flow_run_get(req->db, id);
	if (jv_get_kind(run) == JV_KIND_NULL)
		return web_error(req, 404, "unknown run '%s'", id);
	jv steps = jv_is_valid(run) ? db_flow_steps(req->db, id) : jv_invalid();
	jv hist = jv_is_valid(steps) ? flow_run_history(req->db, id) : jv_invalid();
	if (!jv_is_valid(hist)) {
		jv_free(run);
		jv_free(steps);
		jv_free(hist);
		return web_error(req, 500, "state: %s", err_msg());
	}
	jv in = flow_inspect(run, steps);
	struct html body, h;
	html_init(&body);
	html_init(&h);
	html_puts(&body, "<p>status <span class=\"status\" id=status>");
	html_esc(&body, json_str_or(in, "status", "?"));
	html_puts(&body, "</span>, workflow ");
	html_esc(&body, json_str_or(in, "workflow", "?"));
	html_puts(&body, ", step ");
	html_esc(&body, json_str_or(in, "current_step", "-"));
	html_puts(&body, "</p>\n");
	if (!strcmp(json_str_or(in, "status", ""), "waiting_for_human"))
		html_puts(&body, "<p><a href=\"/runs\">answer it on the runs page</a></p>\n");
	html_puts(&body, "<h2>context</h2>");
	jv ctx = json_get(in, "context");
	put_json(&body, ctx);
	jv_free(ctx);
	html_puts(&body, "<h2>history</h2>\n<table class=history><thead><tr><th>at</th><th>event"
	                 "</th><th>step</th><th>details</th></tr></thead><tbody>\n");
	jv_array_foreach(hist, i, e)
	{
		html_puts(&body, "<tr><td>");
		html_esc(&body, json_str_or(e, "at", ""));
		html_puts(&body, "</td><td class=event>");
		html_esc(&body, json_str_or(e, "event", ""));
		html_puts(&body, "</td><td>");
		html_esc(&body, json_str_or(e, "step", ""));
		html_puts(&body, "</td><td>");
		jv rest = jv_copy(e);
		static const char *const own[] = { "at", "event", "step", "run_id" };
		for (int k = 0; k < 4; k++)
			rest = jv_object_delete(rest, jv_string(own[k]));
		if (jv_object_length(jv_copy(rest))) {
			jv t = jv_dump_string(rest, 0);
			html_puts(&body, "<code>");
			html_esc(&body, jv_string_value(t));
			html_puts(&body, "</code>");
			jv_free(t);
		} else {
			jv_free(rest);
		}
		html_puts(&body, "</td></tr>\n");
		jv_free(e);
	}
	html_puts(&body, "</tbody></table>\n");
	const char *vars[] = { "id", id, "body", body.s ? body.s : "", NULL };
	int rc = html_template(req, &h, "run.html", vars);
	if (rc == 0)
		rc = h.oom || body.oom ? err_set("out of memory")
		                       : web_reply_html(req, 200, h.s, h.n);
	html_free(&body);
	html_free(&h);
	jv_free(in);
	jv_free(hist);
	jv_free(steps);
	jv_free(run);
	return rc;
}

static int get_run(struct web_req *req)
{
	char id[65];
	const char *after;
	int ok = run_id(req, id, &after) == 0;
	if (ok && !strcmp(after, "/resume"))
		return web_not_allowed(req, "POST");
	if (!ok || *after)
		return web_error(req, 404, "not found");
	return run_page(req, id);
}

/* ---- resuming ---- */

static void *reap(void *arg)
{
	struct proc *p = arg;
	int st;
	proc_reap(p, &st, 1);
	proc_close(p);
	free(p);
	return NULL;
}

/* syn-run beside this program, else in PATH, into PROG. */
static int find_syn_run(char *prog, size_t size)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	self[k > 0 ? k : 0] = 0;
	char *slash = strrchr(self, '/');
	if (slash) {
		*slash = 0;
		snprintf(prog, size, "%s/syn-run", self);
		if (access(prog, X_OK) == 0)
			return 0;
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : ""; *p;) {
		size_t n = strcspn(p, ":");
		if (n && (size_t)snprintf(prog, size, "%.*s/syn-run", (int)n, p) < size &&
		    access(prog, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return err_set("syn-run: not found beside panic-web nor in PATH");
}

/* The environment for syn-run: this one without the server's token, which
 * is not the workflow's to see. Free the array (not its strings). */
static char **child_env(void)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof *env);
	for (size_t i = 0, j = 0; env && i < n; i++)
		if (strncmp(environ[i], "PANIC_WEB_TOKEN=", 16))
			env[j++] = environ[i];
	return env;
}

/* 1 if run ID no longer waits at STEP, 0 if it does, -1 on error. */
static int answered(struct web_req *req, const char *id, const char *step)
{
	jv run = db_flow_run_get(req->db, id);
	if (!jv_is_valid(run))
		return -1;
	int done = !flow_waits_at(run, step);
	jv_free(run);
	return done;
}

/* Hands the checked answer INPUT for run ID at STEP to syn-run resume, as
 * the command line would, and waits until it is stored (or syn-run ends):
 * 0, or -1 with err_msg(). syn-run goes on driving the run on its own. */
static int resume(struct web_req *req, const char *id, const char *step, jv input)
{
	size_t n;
	char *json = json_dump(input, &n);
	if (!json)
		return err_set("out of memory");
	if (n > ANSWER_MAX) {
		free(json);
		return err_set("the answer is too large (at most %d bytes of JSON)", ANSWER_MAX);
	}
	char prog[4200];
	if (find_syn_run(prog, sizeof prog) < 0) {
		free(json);
		return -1;
	}
	struct web_server *s = req->srv;
	char *argv[16];
	int a = 0;
	argv[a++] = prog;
	argv[a++] = "--db";
	argv[a++] = s->db_path;
	if (s->bus_dir) {
		argv[a++] = "--bus";
		argv[a++] = s->bus_dir;
	}
	argv[a++] = "resume";
	argv[a++] = "--step";
	argv[a++] = (char *)step;
	argv[a++] = "--";
	argv[a++] = (char *)id;
	argv[a++] = json;
	argv[a] = NULL;
	struct proc *p = calloc(1, sizeof *p);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char **env = child_env();
	int rc = p && out >= 0 && env ? proc_run_env(p, argv, env, out) : err_errno("syn-run");
	free(env);
	if (out >= 0)
		close(out);
	free(json);
	if (rc < 0) {
		free(p);
		return -1;
	}
	int st = 0, done = 0;
	for (int64_t until = time_now_ms() + RESUME_WAIT_MS; !done && time_now_ms() < until;) {
		int ended = proc_reap(p, &st, 0);
		done = answered(req, id, step);
		if (ended == 1) {
			proc_close(p);
			free(p);
			p = NULL;
			if (done == 1)
				return 0;
			if (done == 0)
				done = -1,
				err_set("syn-run resume ended with status %d before storing the "
				        "answer (see the server's log)",
				        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
			break;
		}
		if (!done)
			poll(NULL, 0, 10);
	}
	if (p) {
		pthread_t t;
		if (pthread_create(&t, NULL, reap, p) == 0)
			pthread_detach(t);
		else
			proc_reap(p, &st, 1), proc_close(p), free(p);
	}
	if (done == 1)
		return 0;
	return done == 0 ? err_set("syn-run resume has not stored the answer after %d s",
	                           RESUME_WAIT_MS / 1000)
	                 : -1;
}

/* The answer to run ID, from the form (API 0) or the JSON body (API 1). */
static int answer(struct web_req *req, int api)
{
	char id[65];
	const char *after;
	if (run_id(req, id, &after) < 0 || strcmp(after, "/resume"))
		return web_error(req, 404, "not found");
	const char *step = api ? web_arg(req, "step") : web_form(req, "step");
	jv run = db_flow_run_get(req->db, id);
	if (!jv_is_valid(run))
		return web_error(req, 500, "state: %s", err_msg());
	if (jv_get_kind(run) == JV_KIND_NULL)
		return web_error(req, 404, "unknown run '%s'", id);
	const char *at = flow_waits_at(run, step && *step ? step : NULL);
	int piped = at && !json_str(run, "workflow_file", NULL);
	if (piped) {
		err_set(TYPED_MSG, id);
		at = NULL;
	}
	char stepbuf[80];
	snprintf(stepbuf, sizeof stepbuf, "%s", at ? at : "");
	jv_free(run);
	jv input;
	if (!at) {
		input = jv_null();
	} else if (api) {
		input = web_json_body(req);
		if (!jv_is_valid(input)) {
			jv msg = jv_invalid_get_msg(input);
			int rc = web_error(req, 400, "%s",
			                   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
			                                                      : "bad body");
			jv_free(msg);
			return rc;
		}
	} else {
		jv s = flow_suspension(req->db, id, stepbuf);
		jv schema = json_get(s, "schema");
		input = runform_answer(req, schema);
		jv_free(schema);
		jv_free(s);
	}
	jv errors = jv_null();
	int rc = at ? flow_answer_check(req->db, id, stepbuf, input, &errors) : FLOW_REFUSED;
	if (rc == FLOW_ANSWERED && resume(req, id, stepbuf, input) < 0)
		rc = -2;
	int status = rc == FLOW_ANSWERED  ? 202
	             : rc == FLOW_UNKNOWN ? 404
	             : rc == FLOW_REFUSED ? 409
	             : rc == FLOW_INVALID ? 422
	                                  : 500;
	char msg[1200];
	snprintf(msg, sizeof msg, "%s", rc == -1 ? "state: " : "");
	snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s", err_msg());
	int out;
	if (api) {
		jv r = rc == FLOW_ANSWERED
		               ? json_set(json_set(json_set(jv_object(), "run_id", jv_string(id)),
		                                   "step", jv_string(stepbuf)),
		                          "human_input", jv_copy(input))
		               : json_set(jv_object(), "error", jv_string(msg));
		if (rc == FLOW_INVALID)
			r = json_set(r, "errors", jv_copy(errors));
		out = web_reply_json(req, status, r);
	} else if (rc == FLOW_ANSWERED) {
		char where[120];
		snprintf(where, sizeof where, "/runs/%s", id);
		out = web_redirect(req, where);
	} else {
		jv values = jv_null();
		if (rc == FLOW_INVALID) { /* the form as it was sent */
			values = jv_object();
			jv s = flow_suspension(req->db, id, stepbuf);
			jv schema = json_get(s, "schema");
			if (jv_get_kind(schema) == JV_KIND_OBJECT)
				jv_object_foreach(schema, k, t)
				{
					char name[300];
					snprintf(name, sizeof name, "f.%s", jv_string_value(k));
					const char *v = web_form(req, name);
					if (v)
						values = json_set(values, name, agentform_text(v));
					jv_free(k);
					jv_free(t);
				}
			jv_free(schema);
			jv_free(s);
		}
		char top[1300];
		snprintf(top, sizeof top, "run %s: %s", id,
		         rc == FLOW_INVALID ? "the answer was refused (see below)" : msg);
		out = list_page(req, status, id, values, errors, top, "error");
		jv_free(values);
	}
	jv_free(errors);
	jv_free(input);
	return out;
}

static int form_resume(struct web_req *req)
{
	return answer(req, 0);
}

static int api_resume(struct web_req *req)
{
	return answer(req, 1);
}

/* ---- /api ---- */

static int collect(jv w, void *ctx)
{
	jv *all = ctx;
	*all = jv_array_append(*all, w);
	return 0;
}

static int api_get(struct web_req *req)
{
	if (!strcmp(req->path, "/api/runs")) {
		jv all = jv_array();
		if (flow_waiting(req->db, 0, collect, &all) < 0) {
			jv_free(all);
			return web_error(req, 500, "state: %s", err_msg());
		}
		return web_reply_json(req, 200, all);
	}
	char id[65];
	const char *after;
	int ok = run_id(req, id, &after) == 0;
	if (ok && !strcmp(after, "/resume"))
		return web_not_allowed(req, "POST");
	if (!ok || (*after && strcmp(after, "/history")))
		return web_error(req, 404, "not found");
	if (*after) {
		jv h = flow_run_history(req->db, id);
		if (!jv_is_valid(h))
			return web_error(req, 500, "state: %s", err_msg());
		if (jv_get_kind(h) == JV_KIND_NULL)
			return web_error(req, 404, "unknown run '%s'", id);
		return web_reply_json(req, 200, h);
	}
	jv run = db_flow_run_get(req->db, id);
	if (jv_get_kind(run) == JV_KIND_NULL)
		return web_error(req, 404, "unknown run '%s'", id);
	jv steps = jv_is_valid(run) ? db_flow_steps(req->db, id) : jv_invalid();
	if (!jv_is_valid(steps)) {
		jv_free(run);
		jv_free(steps);
		return web_error(req, 500, "state: %s", err_msg());
	}
	jv r = flow_inspect(run, steps);
	jv_free(run);
	jv_free(steps);
	return web_reply_json(req, 200, r);
}

const struct web_route web_runs_routes[] = {
	{ "GET", "/runs", page, 0 },
	{ "GET", "/runs/", get_run, 0 },
	{ "POST", "/runs/", form_resume, 0 },
	{ "GET", "/api/runs", api_get, 0 },
	{ "GET", "/api/runs/", api_get, 0 },
	{ "POST", "/api/runs/", api_resume, 0 },
	{ 0 },
};
