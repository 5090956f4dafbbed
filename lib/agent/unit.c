/* unit: one agent under the runner: its lock, queue, jobs and
 * supervision; see runi.h and run.h.
 *
 * A unit is RUNNING (triggers set, up to unit_limit() jobs in flight),
 * BACKOFF (after a crash: triggers still queue jobs, none starts, nor does
 * a job's next ability or retry, until the restart; abilities running go
 * on), BLOCKED (another runner holds its lock: looked at again every
 * LOCK_RETRY_MS) or STOPPED. A restart reads the row again and sets the
 * triggers up anew; the queue and the jobs in flight carry over (a job
 * names its responsibility, found again in the new row at each step).
 *
 * Jobs start in the order they were queued, but a cron or every: job
 * waits while one of its own responsibility is in flight (a timer's runs
 * never overlap). Their records are given out in the order they started
 * (a reorder buffer: a finished job's record waits for those started
 * before it); their agent_events rows and agent:NAME events go out as
 * each ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"
#include "state/agents.h"
#include "state/db.h"

#define LOCK_RETRY_MS 5000
#define RESTART_MAX_MS 60000
#define SYNC_JOBS 64 /* jobs started at once per turn */

struct unit *unit_new(struct runner *r, const char *id, int64_t rev)
{
	struct unit *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->r = r;
	snprintf(u->id, sizeof u->id, "%s", id);
	u->rev = rev;
	u->state = U_STOPPED;
	u->a.row = u->a.llm = u->a.prompts = jv_null();
	return u;
}

void unit_gone(struct unit *u)
{
	u->gone = 1;
	u->r->reap = 1;
}

void unit_note(struct unit *u, const char *state)
{
	u->note_due = 0;
	if (!u->lock)
		return;
	struct runner *r = u->r;
	char since[32], next[32];
	jv n = jv_object();
	n = json_set(n, "pid", jv_number(getpid()));
	n = json_set(n, "mode", jv_string(r->o.only ? "single" : "manager"));
	n = json_set(n, "state", jv_string(state));
	n = json_set(n, "since", jv_string(time_rfc3339(u->since, since)));
	int64_t first = 0, wall = rclock_wall(&r->clk), sched = rclock_sched(&r->clk);
	for (int i = 0; i < u->ntrig; i++) {
		struct trig *t = &u->trig[i];
		int64_t at = !t->next ? 0 : t->resp->kind == RESP_CRON ? t->next : wall + (t->next - sched);
		if (at && (!first || at < first))
			first = at;
	}
	n = json_set(n, "next_fire", first ? jv_string(time_rfc3339(first, next)) : jv_null());
	n = json_set(n, "queued", jv_number(u->qlen));
	n = json_set(n, "running", jv_number(u->nrun));
	struct job *first_job = u->run;
	while (first_job && first_job->st == J_DONE)
		first_job = first_job->next;
	n = json_set(n, "job", first_job ? jv_string(first_job->resp) : jv_null());
	db_lock_note(u->lock, n);
	jv_free(n);
}

void unit_report(struct unit *u, jv ev)
{
	struct runner *r = u->r;
	jv row = json_set(json_set(jv_copy(ev), "agent_id", jv_string(u->id)), "agent",
	                  jv_string(u->name));
	int rc;
	if (r->log) {
		rc = db_agent_log_event(r->log, row);
	} else {
		run_tx(r);
		rc = db_agent_event(r->db, row);
	}
	if (rc < 0)
		run_warn(r, "agent %s: state: %s", u->name, err_msg());
	jv_free(row);
	if (r->bus) {
		char topic[300];
		snprintf(topic, sizeof topic, "agent:%s", u->name);
		jv data = json_set(jv_object_delete(jv_copy(ev), jv_string("payload")), "agent",
		                   jv_string(u->name));
		if (bus_publish(r->bus, topic, data, r->db) < 0)
			run_warn(r, "agent %s: bus: %s", u->name, err_msg());
		jv_free(data);
	}
	jv_free(ev);
}

void unit_set_state(struct unit *u, const char *status, const char *last_error)
{
	struct runner *r = u->r;
	if (!status && r->log) {
		if (db_agent_log_error(r->log, u->id, last_error) < 0)
			run_warn(r, "agent %s: state: %s", u->name, err_msg());
		return;
	}
	run_sync(r); /* its last_error queued before this one */
	run_tx(r);
	int rc = db_agent_set_state(r->db, u->id, status, last_error);
	if (rc < 0)
		run_warn(r, "agent %s: state: %s", u->name, err_msg());
	if (rc == 1 && status && r->bus) {
		jv row = db_agent_get(r->db, u->id, 1);
		if (jv_get_kind(row) == JV_KIND_OBJECT) {
			jv o = agent_row_object(row);
			agent_publish_changed(r->bus, r->db, "updated", o);
			jv_free(o);
		}
		jv_free(row);
	}
}

static jv error_obj(const char *kind, const char *msg)
{
	return json_set(json_set(jv_object(), "kind", jv_string(kind)), "message", jv_string(msg));
}

/* The row cannot make an agent: status error, with why. */
static void config_error(struct unit *u, const char *why)
{
	struct runner *r = u->r;
	run_warn(r, "agent %s: %s", u->name, why);
	unit_set_state(u, "error", why);
	unit_report(u, json_set(json_set(jv_object(), "event", jv_string("error")), "error",
	                        error_obj("config", why)));
	unit_gone(u);
	if (r->o.only) {
		r->done = 1;
		r->status = RUNNER_CONFIG;
	}
}

/* Reads the row: 0, or -1 (gone, or a configuration error handled). */
static int load(struct unit *u)
{
	struct runner *r = u->r;
	jv row = db_agent_get(r->db, u->id, 1);
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		if (!jv_is_valid(row))
			run_warn(r, "agent %s: state: %s", u->name, err_msg());
		jv_free(row);
		unit_gone(u);
		return -1;
	}
	snprintf(u->name, sizeof u->name, "%s", json_str_or(row, "name", "?"));
	jv rev = json_get(row, "rev");
	if (jv_get_kind(rev) == JV_KIND_NUMBER)
		u->rev = (int64_t)jv_number_value(rev);
	jv_free(rev);
	agent_free(&u->a);
	u->have_agent = 0;
	int rc = agent_from_row(row, &r->world.lk, &u->a);
	jv_free(row);
	if (rc < 0) {
		char why[1024];
		snprintf(why, sizeof why, "%s", err_msg());
		config_error(u, why);
		return -1;
	}
	u->have_agent = 1;
	return 0;
}

int unit_start(struct unit *u)
{
	struct runner *r = u->r;
	trig_teardown(u);
	if (load(u) < 0)
		return -1;
	if (!u->lock) {
		char name[80];
		if (db_lock(r->db, agent_lock_name(u->id, name), &u->lock) < 0) {
			if (r->o.only)
				err_set("agent '%s' is run by another runner (%s)", u->name, err_msg());
			else if (u->state != U_BLOCKED)
				run_warn(r, "agent %s: not run here: another runner has it (%s)", u->name,
				         err_msg());
			u->state = U_BLOCKED;
			u->lock_retry = time_mono_ms() + LOCK_RETRY_MS;
			return -1;
		}
	}
	trig_teardown(u);
	u->since = time_now_ms();
	if (trig_setup(u) < 0) {
		char why[1024];
		snprintf(why, sizeof why, "%s", err_msg());
		trig_teardown(u);
		u->state = U_RUNNING;
		unit_crash(u, why);
		return -1;
	}
	int restart = u->state == U_BACKOFF;
	u->state = U_RUNNING;
	unit_report(u, json_set(jv_object(), "event", jv_string(restart ? "restarted" : "started")));
	unit_note(u, "running");
	run_resubscribe(r);
	return 0;
}

static void drop_queue(struct unit *u)
{
	while (u->qhead) {
		struct job *j = u->qhead;
		u->qhead = j->next;
		job_free(j);
	}
	u->qtail = NULL;
	u->qlen = 0;
}

void unit_flush(struct unit *u)
{
	struct runner *r = u->r;
	while (u->run && u->run->st == J_DONE) {
		struct job *j = u->run;
		if (!(u->run = j->next))
			u->runtail = NULL;
		u->nheld--;
		jv rec = j->out;
		j->out = jv_null();
		if (r->io.record)
			r->io.record(r->io.ctx, rec);
		else
			jv_free(rec);
		job_free(j);
	}
	if (u->note_due && (u->state == U_RUNNING || u->state == U_BACKOFF))
		unit_note(u, u->state == U_RUNNING ? "running" : "backoff");
}

int unit_limit(const struct unit *u)
{
	if (u->have_agent && u->a.concurrency > 0)
		return u->a.concurrency;
	return u->r->o.jobs > 0 ? u->r->o.jobs : 1;
}

void unit_stop(struct unit *u, const char *why)
{
	if (u->state == U_STOPPED)
		return;
	int was = u->state != U_BLOCKED;
	for (struct job *j = u->run; j; j = j->next) /* in the order they started */
		if (j->st != J_DONE)
			job_cancel(j, why);
	unit_flush(u);
	int dropped = u->qlen;
	drop_queue(u);
	trig_teardown(u);
	u->state = U_STOPPED;
	if (was && u->have_agent) {
		jv ev = json_set(json_set(jv_object(), "event", jv_string("stopped")), "detail",
		                 jv_string(why));
		if (dropped)
			ev = json_set(ev, "dropped", jv_number(dropped));
		unit_report(u, ev);
	}
	if (u->lock) {
		db_unlock(u->lock);
		u->lock = NULL;
	}
	free(u->crash);
	u->crash = NULL;
	run_resubscribe(u->r);
}

void unit_free(struct unit *u)
{
	if (!u)
		return;
	unit_stop(u, "the runner ends");
	agent_free(&u->a);
	free(u);
}

void unit_crash(struct unit *u, const char *why)
{
	struct runner *r = u->r;
	int64_t now = time_mono_ms();
	int k = 0;
	for (int i = 0; i < u->ncrash; i++)
		if (now - u->crashes[i] < r->o.flap_window_ms)
			u->crashes[k++] = u->crashes[i];
	if (k == 64)
		memmove(u->crashes, u->crashes + 1, --k * sizeof *u->crashes);
	u->crashes[k++] = now;
	u->ncrash = k;
	if (u->ncrash > r->o.flap_count) {
		char msg[1200];
		snprintf(msg, sizeof msg, "crashed %d times in %lld s, more than %d: disabled "
		         "(flapping); last: %s", u->ncrash, (long long)(r->o.flap_window_ms / 1000),
		         r->o.flap_count, why);
		run_warn(r, "agent %s: %s", u->name, msg);
		unit_set_state(u, "disabled_flapping", msg);
		unit_report(u, json_set(json_set(jv_object(), "event", jv_string("flapping")), "error",
		                        error_obj("flapping", msg)));
		unit_stop(u, "flapping");
		unit_gone(u);
		if (r->o.only) {
			r->done = 1;
			r->status = RUNNER_FAIL;
		}
		return;
	}
	int64_t delay = r->o.restart_ms;
	for (int i = 1; i < u->ncrash && delay < RESTART_MAX_MS; i++)
		delay *= 2;
	if (delay > RESTART_MAX_MS)
		delay = RESTART_MAX_MS;
	run_warn(r, "agent %s: crashed: %s (restart in %lld ms)", u->name, why, (long long)delay);
	u->state = U_BACKOFF;
	u->restart_at = now + delay;
	u->since = time_now_ms();
	jv ev = json_set(json_set(jv_object(), "event", jv_string("crashed")), "error",
	                 error_obj("crash", why));
	unit_report(u, json_set(ev, "restart_in_ms", jv_number((double)delay)));
	unit_set_state(u, NULL, why);
	unit_note(u, "backoff");
}

void unit_changed(struct unit *u, int64_t rev)
{
	u->rev = rev;
	if (u->nrun) {
		u->reload = 1;
		return;
	}
	if (u->state == U_RUNNING || u->state == U_BACKOFF)
		unit_start(u);
}

/* 1 if a job of responsibility NAME is in flight. */
static int in_flight(struct unit *u, const char *name)
{
	for (struct job *j = u->run; j; j = j->next)
		if (j->st != J_DONE && !strcmp(j->resp, name))
			return 1;
	return 0;
}

/* Takes the next job that may start out of the queue, or NULL. */
static struct job *next_job(struct unit *u)
{
	struct job *prev = NULL, *j = u->qhead;
	while (j && j->timer && in_flight(u, j->resp))
		prev = j, j = j->next;
	if (!j)
		return NULL;
	if (prev)
		prev->next = j->next;
	else
		u->qhead = j->next;
	if (u->qtail == j)
		u->qtail = prev;
	u->qlen--;
	j->next = NULL;
	return j;
}

int unit_enqueue(struct unit *u, const struct resp *resp, jv payload, jv record,
                 int64_t scheduled)
{
	struct runner *r = u->r;
	if (u->qlen >= r->o.max_queue) {
		run_warn(r, "agent %s: %s: %d jobs wait already: this one is dropped", u->name,
		         resp->name, u->qlen);
		jv_free(payload);
		jv_free(record);
		return err_set("agent %s: %d jobs wait already", u->name, u->qlen);
	}
	struct job *j = job_new(u, resp, payload, record, scheduled);
	if (!j)
		return err_errno("job");
	if (u->qtail)
		u->qtail->next = j;
	else
		u->qhead = j;
	u->qtail = j;
	u->qlen++;
	u->note_due = 1;
	return 0;
}

void unit_work(struct unit *u, int64_t *ms)
{
	struct runner *r = u->r;
	/* Most units, most turns: nothing to do, nothing due. */
	if (u->state == U_RUNNING && !u->crash && !u->run && !u->qhead && !u->reload &&
	    !u->note_due && (!u->due_wall || r->t_wall < u->due_wall) &&
	    (!u->due_sched || r->t_sched < u->due_sched)) {
		if (!r->clk.path) {
			if (u->due_wall)
				run_lower(ms, u->due_wall - r->t_wall);
			if (u->due_sched)
				run_lower(ms, u->due_sched - r->t_sched);
		}
		return;
	}
	int64_t now = r->t_mono;
	if (u->crash) {
		char *why = u->crash;
		u->crash = NULL;
		unit_crash(u, why);
		free(why);
		if (u->gone)
			return;
	}
	switch (u->state) {
	case U_BLOCKED:
		if (now >= u->lock_retry)
			unit_start(u);
		else
			run_lower(ms, u->lock_retry - now);
		return;
	case U_BACKOFF:
		if (now < u->restart_at) {
			run_lower(ms, u->restart_at - now);
			unit_flush(u);
			return;
		}
		if (unit_start(u) < 0 || u->state != U_RUNNING)
			return;
		break;
	case U_STOPPED:
		return;
	case U_RUNNING:
		break;
	}
	trig_work(u, ms);
	for (struct job *j = u->run; j && u->state == U_RUNNING; j = j->next)
		if (j->st != J_DONE)
			job_work(j, ms);
	unit_flush(u);
	if (u->state != U_RUNNING)
		return;
	if (u->reload) {
		if (u->nrun)
			return; /* none starts until the restart */
		u->reload = 0;
		if (unit_start(u) < 0)
			return;
	}
	unit_start_jobs(u, ms);
}

void unit_start_jobs(struct unit *u, int64_t *ms)
{
	int limit = unit_limit(u), n = 0;
	while (u->state == U_RUNNING && !u->reload && !u->crash && u->nrun < limit &&
	       u->nheld < u->r->o.max_queue && u->qhead) {
		if (n++ == SYNC_JOBS) {
			run_lower(ms, 0); /* more to do: come back at once */
			break;
		}
		struct job *j = next_job(u);
		if (!j)
			break;
		if (u->runtail)
			u->runtail->next = j;
		else
			u->run = j;
		u->runtail = j;
		u->nrun++;
		job_start(j);
		u->note_due = 1;
	}
	unit_flush(u);
}
