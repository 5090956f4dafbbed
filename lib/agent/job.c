/* job: one run of a responsibility's abilities; see runi.h and run.h.
 *
 * The abilities run in order, each one's result the next one's payload.
 * An ability that fails is tried again after the retry policy's delay,
 * up to max_retries times, unless its failure cannot pass by waiting (a
 * refused ability, a template that wants a field the payload lacks, no
 * key). A crash (death by signal) fails the attempt and crashes the unit:
 * the retry waits for the unit's restart. The end of a job, completed,
 * failed or cancelled, is reported once: an agent_events row, an event on
 * agent:NAME, last_error set or cleared, and a record for the program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/llm.h"
#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "state/db.h"

#define DEFAULT_TIMEOUT_MS 60000

struct job *job_new(struct unit *u, const struct resp *resp, jv payload, jv record,
                    int64_t scheduled)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j || !(j->resp = strdup(resp->name))) {
		free(j);
		jv_free(payload);
		jv_free(record);
		return NULL;
	}
	j->u = u;
	j->payload = payload;
	j->record = record;
	j->cur = jv_copy(payload);
	j->scheduled = scheduled;
	j->error = j->llm = j->out = jv_null();
	j->timer = resp->kind == RESP_CRON || resp->kind == RESP_EVERY;
	j->st = J_QUEUED;
	return j;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	if (j->st == J_RUNNING && j->kind == JK_EXTERNAL)
		ability_cancel(&j->ap);
	if (j->st == J_RUNNING && j->kind == JK_LLM) {
		engine_cancel(j->u->r->eng, &j->call);
		call_clear(&j->call);
	}
	ability_clear(&j->ap);
	jv_free(j->payload);
	jv_free(j->record);
	jv_free(j->cur);
	jv_free(j->error);
	jv_free(j->llm);
	jv_free(j->out);
	free(j->prompt);
	free(j->resp);
	free(j);
}

static const char *ability_name(struct job *j)
{
	const struct resp *r = agent_resp(&j->u->a, j->resp);
	return r && j->step < r->nabilities ? r->abilities[j->step] : NULL;
}

/* The job's end: reported; its record held in the job until those started
 * before it are done (unit_flush). */
static void finish(struct job *j, const char *state, jv result, jv error)
{
	struct unit *u = j->u;
	char at[32], sched[32];
	int64_t dur = j->t0 ? time_mono_ms() - j->t0 : 0;
	const struct resp *rs = agent_resp(&u->a, j->resp);
	const char *ab = ability_name(j);
	if (!ab && rs && rs->nabilities)
		ab = rs->abilities[rs->nabilities - 1];
	if (j->scheduled)
		time_rfc3339(j->scheduled, sched);
	jv ev = jv_object();
	ev = json_set(ev, "event", jv_string(state));
	ev = json_set(ev, "responsibility", jv_string(j->resp));
	ev = json_set(ev, "ability", ab ? jv_string(ab) : jv_null());
	ev = json_set(ev, "scheduled_at", j->scheduled ? jv_string(sched) : jv_null());
	ev = json_set(ev, "attempts", jv_number(j->attempts));
	ev = json_set(ev, "duration_ms", jv_number((double)dur));
	ev = json_set(ev, "payload", jv_copy(j->payload));
	ev = json_set(ev, "result", jv_copy(result));
	ev = json_set(ev, "error", jv_copy(error));
	unit_report(u, ev);
	if (!strcmp(state, "completed")) {
		unit_set_state(u, NULL, NULL);
	} else if (!strcmp(state, "failed")) {
		char msg[1500];
		jv m = json_get(error, "message");
		snprintf(msg, sizeof msg, "%s: %s: %s", j->resp, ab ? ab : "-",
		         jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "failed");
		jv_free(m);
		unit_set_state(u, NULL, msg);
		/* work asked for on stdin that failed: exit 1, as any filter */
		if (jv_get_kind(j->record) == JV_KIND_OBJECT && !u->r->status)
			u->r->status = RUNNER_FAIL;
	}
	jv rec = jv_get_kind(j->record) == JV_KIND_OBJECT ? jv_copy(j->record) : jv_object();
	rec = json_set(rec, "agent", jv_string(u->name));
	if (jv_get_kind(j->record) != JV_KIND_OBJECT) {
		rec = json_set(rec, "responsibility", jv_string(j->resp));
		rec = json_set(rec, "trigger", rs ? jv_string(rs->trigger) : jv_null());
		if (j->scheduled)
			rec = json_set(rec, "scheduled_at", jv_string(sched));
		rec = json_set(rec, "payload", jv_copy(j->payload));
	}
	rec = json_set(rec, "state", jv_string(state));
	rec = json_set(rec, "result", result);
	rec = json_set(rec, "error", error);
	rec = json_set(rec, "attempts", jv_number(j->attempts));
	rec = json_set(rec, "started_at",
	               j->started ? jv_string(time_rfc3339(j->started, at)) : jv_null());
	rec = json_set(rec, "duration_ms", jv_number((double)dur));
	jv_free(j->out);
	j->out = rec;
	j->st = J_DONE;
	u->nrun--;
	u->nheld++;
	u->note_due = 1;
}

static jv failure(const char *kind, const char *msg)
{
	return json_set(json_set(jv_object(), "kind", jv_string(kind)), "message", jv_string(msg));
}

/* The current ability gave RESULT or ERROR (consumed). */
static void step_done(struct job *j, jv result, jv error)
{
	struct unit *u = j->u;
	const struct resp *rs = agent_resp(&u->a, j->resp);
	j->st = J_QUEUED;
	if (jv_get_kind(error) == JV_KIND_NULL) {
		jv_free(error);
		jv_free(j->cur);
		j->cur = result;
		j->step++;
		j->attempt = 0;
		if (rs && j->step < rs->nabilities) {
			if (u->state == U_RUNNING) {
				job_start(j);
			} else { /* none starts until the restart */
				j->st = J_WAITING;
				j->retry_at = 0;
			}
			return;
		}
		finish(j, "completed", jv_copy(j->cur), jv_null());
		return;
	}
	jv_free(result);
	const char *kind = json_str_or(error, "kind", "");
	int final = !strcmp(kind, "refused") || !strcmp(kind, "template") ||
	            !strcmp(kind, "config") || !strcmp(kind, "no_key");
	if (!strcmp(kind, "crash") && !u->crash) {
		char why[1200];
		snprintf(why, sizeof why, "%s: %s: %s", j->resp, ability_name(j),
		         json_str_or(error, "message", "crashed"));
		u->crash = strdup(why);
	}
	jv_free(j->error);
	j->error = error;
	if (!final && rs && j->attempt <= u->a.retry.max_retries) {
		j->st = J_WAITING;
		j->retry_at = time_mono_ms() + agent_retry_delay(&u->a.retry, j->attempt);
		return;
	}
	jv e = j->error;
	j->error = jv_null();
	finish(j, "failed", jv_null(), e);
}

static void llm_done(struct job *j);

static void llm_start(struct job *j, const struct resp *rs)
{
	struct unit *u = j->u;
	struct runner *r = u->r;
	free(j->prompt);
	j->prompt = agent_llm_prompt(&u->a, rs, j->cur);
	if (!j->prompt) {
		step_done(j, jv_null(), failure("template", err_msg()));
		return;
	}
	const char *id = json_str(u->a.llm, "model", NULL);
	struct model *m = id ? catalogue_find(r->cat, id) : NULL;
	if (!m) {
		char msg[300];
		snprintf(msg, sizeof msg, "llm_config.model: unknown model '%s'", id ? id : "");
		step_done(j, jv_null(), failure("config", msg));
		return;
	}
	jv_free(j->llm); /* its strings outlive a restart that reloads the agent */
	j->llm = jv_copy(u->a.llm);
	agent_llm_opts(j->llm, &j->copts);
	call_init(&j->call, m, jv_string(j->prompt));
	j->call.opts = &j->copts;
	j->call.timeout_ms = (int)(rs->timeout_ms ? rs->timeout_ms : r->o.timeout_ms);
	j->kind = JK_LLM;
	j->st = J_RUNNING;
	engine_start(r->eng, &j->call);
	if (j->call.done) /* an offline model answers at once */
		llm_done(j);
}

static void llm_done(struct job *j)
{
	struct unit *u = j->u;
	struct runner *r = u->r;
	const char *links[CALL_LINKS] = { NULL, NULL, NULL, u->name };
	run_tx(r);
	if (call_log(r->db, &j->call, links, 1) < 0)
		run_warn(r, "agent %s: call log: %s", u->name, err_msg());
	jv result = jv_null(), error = jv_copy(j->call.error);
	if (jv_get_kind(error) == JV_KIND_NULL) {
		result = jv_object();
		result = json_set(result, "output", jv_copy(j->call.output));
		result = json_set(result, "model", jv_string(j->call.model->id));
		result = json_set(result, "call_id", jv_string(j->call.id));
		result = json_set(result, "usage", jv_copy(j->call.usage));
		result = json_set(result, "cost", call_cost(&j->call));
	}
	call_clear(&j->call);
	j->st = J_QUEUED;
	step_done(j, result, error);
}

static void external_start(struct job *j, const char *name, const struct resp *rs)
{
	struct unit *u = j->u;
	struct runner *r = u->r;
	char *path = NULL;
	if (ability_find(&r->world.dirs, name, &path) < 0) {
		step_done(j, jv_null(), failure("refused", err_msg()));
		return;
	}
	size_t n;
	char *text = json_dump(j->cur, &n);
	char **env = run_env(r, u, j);
	j->kind = JK_EXTERNAL;
	j->st = J_RUNNING;
	ability_clear(&j->ap);
	if (!text || !env || ability_start(&j->ap, path, env, text, n,
	                                   rs->timeout_ms ? rs->timeout_ms : r->o.timeout_ms,
	                                   r->o.max_output) < 0) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s", text && env ? err_msg() : "out of memory");
		j->ap.done = 1;
		free(text);
		free(path);
		run_env_free(env);
		ability_clear(&j->ap);
		j->st = J_QUEUED;
		step_done(j, jv_null(), failure("spawn", msg));
		return;
	}
	free(text);
	free(path);
	run_env_free(env);
}

void job_start(struct job *j)
{
	struct unit *u = j->u;
	const struct resp *rs = agent_resp(&u->a, j->resp);
	if (!j->t0) {
		j->t0 = time_mono_ms();
		j->started = time_now_ms();
	}
	if (!rs || j->step >= rs->nabilities) {
		char msg[300];
		snprintf(msg, sizeof msg, "the agent has no responsibility '%s' (any more)", j->resp);
		finish(j, "failed", jv_null(), failure("config", msg));
		return;
	}
	j->attempt++;
	j->attempts++;
	const char *name = rs->abilities[j->step];
	if (!strcmp(name, "echo"))
		step_done(j, jv_copy(j->cur), jv_null());
	else if (!strcmp(name, "llm"))
		llm_start(j, rs);
	else
		external_start(j, name, rs);
}

int job_fds(struct job *j, struct pollfd *p, int max, int64_t *deadline)
{
	j->npfd = 0;
	if (j->st != J_RUNNING || j->kind != JK_EXTERNAL)
		return 0;
	j->npfd = ability_fds(&j->ap, p, max, deadline);
	return j->npfd;
}

void job_work(struct job *j, int64_t *ms)
{
	struct unit *u = j->u;
	int64_t now = time_mono_ms();
	if (j->st == J_WAITING) {
		if (u->state != U_RUNNING)
			return;
		if (now >= j->retry_at) {
			j->st = J_QUEUED;
			job_start(j);
			return;
		}
		if (*ms < 0 || j->retry_at - now < *ms)
			*ms = j->retry_at - now;
		return;
	}
	if (j->st != J_RUNNING)
		return;
	if (j->kind == JK_LLM) {
		if (j->call.done)
			llm_done(j);
		return;
	}
	struct pollfd *p = j->npfd ? &u->r->pfd[j->pfd] : NULL;
	ability_step(&j->ap, p, j->npfd, now);
	j->npfd = 0;
	if (!j->ap.done)
		return;
	jv result, error;
	ability_result(&j->ap, &result, &error);
	ability_clear(&j->ap);
	j->st = J_QUEUED;
	step_done(j, result, error);
}

void job_cancel(struct job *j, const char *why)
{
	struct unit *u = j->u;
	if (j->st == J_RUNNING && j->kind == JK_EXTERNAL)
		ability_cancel(&j->ap);
	if (j->st == J_RUNNING && j->kind == JK_LLM) {
		engine_cancel(u->r->eng, &j->call);
		call_clear(&j->call);
	}
	j->st = J_QUEUED;
	char msg[300];
	snprintf(msg, sizeof msg, "cancelled: %s", why);
	finish(j, "cancelled", jv_null(), failure("cancelled", msg));
}
