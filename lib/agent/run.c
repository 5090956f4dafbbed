/* run: the runner: the agents table followed, the record loop's parts and
 * stdin records; see run.h and runi.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"
#include "model/engine.h"
#include "state/agents.h"
#include "state/db.h"

#define PRUNE_EVERY_MS 3600000

void run_warn(struct runner *r, const char *fmt, ...)
{
	char buf[1500];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (r->io.notice)
		r->io.notice(r->io.ctx, buf);
}

void run_tx(struct runner *r)
{
	if (r->tx)
		return;
	if (db_begin(r->db) < 0) {
		run_warn(r, "state: %s", err_msg());
		return;
	}
	r->tx = 1;
}

void run_sync(struct runner *r)
{
	if (r->tx) {
		r->tx = 0;
		if (db_commit(r->db) < 0)
			run_warn(r, "state: %s", err_msg());
	}
	if (r->log && db_agent_log_sync(r->log) < 0)
		run_warn(r, "state: %s", err_msg());
}

struct tz *run_zone(struct runner *r, const char *name)
{
	const char *key = name ? name : "";
	for (int i = 0; i < r->nzones; i++)
		if (!strcmp(r->zones[i]->name, key))
			return r->zones[i];
	struct tz *z = calloc(1, sizeof *z), **v = realloc(r->zones, (size_t)(r->nzones + 1) * sizeof *v);
	if (!z || !v) {
		free(z);
		if (v)
			r->zones = v;
		return err_errno("zone"), NULL;
	}
	r->zones = v;
	if (tz_load(z, name) < 0) {
		free(z);
		return NULL;
	}
	snprintf(z->name, sizeof z->name, "%s", key);
	r->zones[r->nzones++] = z;
	return z;
}

/* ---- the table ---- */

static struct unit *find(struct runner *r, const char *id)
{
	for (int i = 0; i < r->nu; i++)
		if (!strcmp(r->u[i]->id, id))
			return r->u[i];
	return NULL;
}

static struct unit *add_unit(struct runner *r, const char *id, int64_t rev)
{
	if (r->nu == r->capu) {
		int cap = r->capu ? r->capu * 2 : 16;
		struct unit **v = realloc(r->u, (size_t)cap * sizeof *v);
		if (!v)
			return NULL;
		r->u = v;
		r->capu = cap;
	}
	struct unit *u = unit_new(r, id, rev);
	if (u)
		r->u[r->nu++] = u;
	return u;
}

static void reap_units(struct runner *r)
{
	if (!r->reap)
		return;
	r->reap = 0;
	int k = 0;
	for (int i = 0; i < r->nu; i++) {
		if (r->u[i]->gone) {
			unit_free(r->u[i]);
			run_unindex(r);
			continue;
		}
		r->u[k++] = r->u[i];
	}
	r->nu = k;
}

/* The single agent's end: deleted, or no longer active. */
static void only_ended(struct runner *r, const char *status)
{
	if (!r->o.only)
		return;
	r->done = 1;
	if (!status || !strcmp(status, "inactive"))
		return;
	r->status = !strcmp(status, "error") ? RUNNER_CONFIG : RUNNER_FAIL;
}

static int secret_of(jv row, void *ctx)
{
	struct runner *r = ctx;
	const char *text = json_str(row, "llm_config", NULL);
	jv llm = text ? json_parse(text, strlen(text)) : jv_invalid();
	const char *var = json_str(llm, "api_key_env_var", NULL);
	if (var)
		r->secrets = jv_array_append(r->secrets, jv_string(var));
	jv_free(llm);
	jv_free(row);
	return 0;
}

/* The variables every agent names as its key's: no other agent's ability
 * may see them. */
static void collect_secrets(struct runner *r)
{
	jv_free(r->secrets);
	r->secrets = jv_array();
	if (db_agent_list(r->db, NULL, secret_of, r) < 0)
		run_warn(r, "state: %s", err_msg());
}

static void sync_table(struct runner *r)
{
	r->fp = db_agent_fingerprint(r->db);
	collect_secrets(r);
	jv revs = db_agent_revs(r->db);
	if (!jv_is_valid(revs)) {
		run_warn(r, "state: %s", err_msg());
		return;
	}
	for (int i = 0; i < r->nu; i++) {
		struct unit *u = r->u[i];
		jv v = jv_object_get(jv_copy(revs), jv_string(u->id));
		if (!jv_is_valid(v)) {
			unit_stop(u, "deleted");
			unit_gone(u);
			only_ended(r, NULL);
		}
		jv_free(v);
	}
	for (int i = jv_object_iter(revs); jv_object_iter_valid(revs, i);
	     i = jv_object_iter_next(revs, i)) {
		jv k = jv_object_iter_key(revs, i), v = jv_object_iter_value(revs, i);
		const char *id = jv_string_value(k);
		jv rv = jv_array_get(jv_copy(v), 0), st = jv_array_get(jv_copy(v), 1);
		int64_t rev = (int64_t)jv_number_value(rv);
		const char *status = jv_get_kind(st) == JV_KIND_STRING ? jv_string_value(st) : "";
		int active = !strcmp(status, "active") || (r->o.only && r->o.force);
		struct unit *u = find(r, id);
		if (r->o.only && strcmp(id, r->only_id)) {
			/* not ours */
		} else if (!u) {
			if (active && (u = add_unit(r, id, rev)))
				unit_start(u);
		} else if (rev != u->rev && !u->gone) {
			if (!active) {
				unit_stop(u, !strcmp(status, "inactive") ? "deactivated" : status);
				unit_gone(u);
				only_ended(r, status);
			} else {
				unit_changed(u, rev);
			}
		}
		jv_free(rv);
		jv_free(st);
		jv_free(k);
		jv_free(v);
	}
	jv_free(revs);
	reap_units(r);
	run_resubscribe(r);
}

/* ---- the runner ---- */

static int64_t boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long bt = 0;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	if (f)
		fclose(f);
	return bt * 1000;
}

int runner_new(struct runner **out, struct db *db, struct bus *bus, struct catalogue *cat,
               const struct runner_opts *o, const struct runner_io *io)
{
	struct runner *r = calloc(1, sizeof *r);
	if (!r)
		return err_errno("runner");
	r->db = db;
	r->bus = bus;
	r->cat = cat;
	r->o = *o;
	r->io = *io;
	r->pats = r->dedupe = r->secrets = jv_null();
	r->w.fd = -1;
	r->clk.fd = -1;
	r->pid = getpid();
	if (!(r->eng = engine_new())) {
		free(r);
		return err_errno("runner");
	}
	/* A lock, and perhaps a watch, for each of many agents. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	*out = r;
	return 0;
}

static int start(struct runner *r);

int runner_start(struct runner *r)
{
	if (db_agent_log_open(r->db, &r->log) < 0)
		run_warn(r, "state: %s (agent events are written as the loop goes)", err_msg());
	int rc = start(r);
	if (rc != RUNNER_OK)
		run_sync(r);
	return rc;
}

static int start(struct runner *r)
{
	if (agent_world_init(&r->world, r->o.dirs, r->o.ndirs, r->cat) < 0 ||
	    rclock_init(&r->clk, r->o.clock_file) < 0)
		return RUNNER_CONFIG;
	r->boot = boot_time();
	r->last_wall = rclock_wall(&r->clk);
	db_changed(r->db);
	r->polled = time_mono_ms();
	r->pruned = r->polled - PRUNE_EVERY_MS; /* the first turn prunes */
	if (!r->o.only) {
		sync_table(r);
		return RUNNER_OK;
	}
	jv row = db_agent_get(r->db, r->o.only, 0);
	if (!jv_is_valid(row))
		return RUNNER_CONFIG;
	if (jv_get_kind(row) == JV_KIND_NULL) {
		err_set("no agent '%s' (see agent-ctl list)", r->o.only);
		return RUNNER_CONFIG;
	}
	snprintf(r->only_id, sizeof r->only_id, "%s", json_str_or(row, "id", ""));
	collect_secrets(r);
	const char *status = json_str_or(row, "status", "");
	jv rev = json_get(row, "rev");
	int64_t rv = jv_get_kind(rev) == JV_KIND_NUMBER ? (int64_t)jv_number_value(rev) : 0;
	jv_free(rev);
	if (!r->o.force && strcmp(status, "active")) {
		err_set("agent '%s' is %s (agent-ctl activate %s, or --force)", r->o.only, status,
		        r->o.only);
		jv_free(row);
		return RUNNER_REFUSED;
	}
	jv_free(row);
	struct unit *u = add_unit(r, r->only_id, rv);
	if (!u)
		return err_errno("runner"), RUNNER_FAIL;
	int rc = unit_start(u);
	if (rc < 0 && u->state == U_BLOCKED)
		return RUNNER_REFUSED;
	if (rc < 0 && u->gone) {
		err_set("agent '%s' cannot run: see its last_error (agent-ctl status)", r->o.only);
		return RUNNER_CONFIG;
	}
	run_resubscribe(r);
	return RUNNER_OK;
}

static int busy(struct runner *r)
{
	for (int i = 0; i < r->nu; i++)
		if (r->u[i]->nrun || r->u[i]->nheld || r->u[i]->qhead)
			return 1;
	return 0;
}

int runner_work(struct runner *r)
{
	if (r->done)
		return -2;
	int64_t mono = time_mono_ms(), wall = rclock_wall(&r->clk), ms = -1;
	r->t_mono = mono;
	r->t_wall = wall;
	r->t_sched = rclock_sched(&r->clk);
	if (r->clk.changed) {
		r->clk.changed = 0;
		if (wall < r->last_wall)
			for (int i = 0; i < r->nu; i++)
				unit_clock_set(r->u[i]);
	}
	r->last_wall = wall;
	if (!r->stopping && (r->poll_now || mono - r->polled >= r->o.poll_ms)) {
		r->polled = mono;
		/* Changed: by another program, or by r->log's writes, which move
		 * no agent's rev or status, so the fingerprint tells them apart. */
		if (r->poll_now || (db_changed(r->db) != 0 && db_agent_fingerprint(r->db) != r->fp)) {
			r->poll_now = 0;
			sync_table(r);
		}
	}
	if (!r->stopping) {
		int64_t left = r->polled + r->o.poll_ms - mono;
		ms = left < 0 ? 0 : left;
	}
	watch_work(r, &ms);
	for (int i = 0; i < r->nu; i++)
		unit_work(r->u[i], &ms);
	reap_units(r);
	if (r->o.keep_events_ms > 0 && mono - r->pruned >= PRUNE_EVERY_MS) {
		char before[32];
		r->pruned = mono;
		run_tx(r);
		if (db_agent_prune(r->db, time_rfc3339(time_now_ms() - r->o.keep_events_ms, before)) < 0)
			run_warn(r, "state: %s", err_msg());
	}
	if (r->o.only && !r->nu)
		r->done = 1;
	if (r->eof && r->drain && !busy(r))
		r->done = 1;
	if (r->done)
		return 0; /* idle() commits, then the next work() ends it */
	return (int)(ms > 86400000 ? 86400000 : ms);
}

int runner_wait(struct runner *r, struct pollfd *p, int n, int ms)
{
	int extra = 3;
	for (int i = 0; i < r->nu; i++)
		extra += 4 * r->u[i]->nrun;
	if (n + extra > r->cappfd) {
		struct pollfd *v = realloc(r->pfd, (size_t)(n + extra) * sizeof *v);
		if (!v)
			return -1;
		r->pfd = v;
		r->cappfd = n + extra;
	}
	memcpy(r->pfd, p, (size_t)n * sizeof *p);
	int k = n;
	r->next_extra = n;
	r->pfd[k++] = (struct pollfd){ .fd = r->sub ? bus_sub_fd(r->sub) : -1, .events = POLLIN };
	r->pfd[k++] = (struct pollfd){ .fd = r->w.fd, .events = POLLIN };
	r->pfd[k++] = (struct pollfd){ .fd = r->clk.fd, .events = POLLIN };
	int64_t now = time_mono_ms(), deadline = ms < 0 ? INT64_MAX : now + ms;
	for (int i = 0; i < r->nu; i++) {
		for (struct job *j = r->u[i]->run; j; j = j->next) {
			if (j->st == J_DONE)
				continue;
			j->pfd = k;
			k += job_fds(j, &r->pfd[k], 4, &deadline);
		}
	}
	if (deadline != INT64_MAX)
		ms = deadline <= now ? 0 : (int)(deadline - now);
	r->npfd = k;
	int rc = engine_wait(r->eng, r->pfd, k, ms);
	for (int i = 0; i < n; i++)
		p[i].revents = r->pfd[i].revents;
	return rc;
}

void runner_woke(struct runner *r)
{
	int b = r->next_extra;
	int64_t ms = -1;
	if (r->npfd > b + 2) {
		int heard = 0;
		if (r->pfd[b].revents && r->sub) {
			heard = 1;
			if (bus_sub_read(r->sub, run_bus_line, r) < 0)
				run_warn(r, "bus: %s", err_msg());
		}
		if (r->pfd[b + 1].revents) {
			heard = 1;
			watch_read(r);
		}
		if (r->pfd[b + 2].revents)
			rclock_woke(&r->clk);
		/* What an event or a file asks for starts first, before the
		 * jobs that ended are reported (state writes). */
		for (int i = 0; heard && i < r->nu; i++)
			if (r->u[i]->qhead)
				unit_start_jobs(r->u[i], &ms);
	}
	for (int i = 0; i < r->nu; i++) {
		struct unit *u = r->u[i];
		if (!u->nrun)
			continue;
		for (struct job *j = u->run; j; j = j->next)
			if (j->st != J_DONE)
				job_work(j, &ms);
		unit_flush(u);
	}
	r->npfd = 0;
}

void runner_idle(struct runner *r)
{
	if (r->tx) {
		r->tx = 0;
		if (db_commit(r->db) < 0)
			run_warn(r, "state: %s", err_msg());
	}
	if (r->bus)
		bus_flush(r->bus);
}

int runner_record(struct runner *r, jv rec)
{
	struct unit *u = NULL;
	const char *name = r->o.only ? r->o.only : json_str(rec, "agent", NULL);
	if (!name) {
		jv_free(rec);
		return err_set("no \"agent\" (the agent's name)");
	}
	for (int i = 0; i < r->nu && !u; i++) /* agent-run NAME: its one agent, renamed or not */
		if ((r->o.only || !strcasecmp(r->u[i]->name, name)) && r->u[i]->have_agent)
			u = r->u[i];
	if (!u || (u->state != U_RUNNING && u->state != U_BACKOFF)) {
		jv_free(rec);
		return err_set("agent '%s' is not running here", name);
	}
	const char *rname = json_str(rec, "responsibility", NULL);
	const struct resp *rs = NULL;
	if (rname) {
		rs = agent_resp(&u->a, rname);
	} else {
		for (int i = 0; i < u->a.nresp; i++)
			if (u->a.resp[i].kind == RESP_STDIN)
				rs = rs ? (const struct resp *)-1 : &u->a.resp[i];
		if (rs == (const struct resp *)-1)
			rs = NULL;
	}
	if (!rs) {
		char names[600] = "";
		for (int i = 0; i < u->a.nresp; i++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
			         u->a.resp[i].name);
		int rc = rname ? err_set("agent '%s' has no responsibility '%s' (%s)", u->name, rname,
		                         names)
		               : err_set("no \"responsibility\" (which one: %s)", names);
		jv_free(rec);
		return rc;
	}
	return unit_enqueue(u, rs, jv_copy(rec), rec, 0);
}

void runner_stop(struct runner *r)
{
	r->stopping = 1;
	for (int i = 0; i < r->nu; i++)
		unit_stop(r->u[i], "the runner was stopped");
	r->done = 1;
}

void runner_eof(struct runner *r, int drain)
{
	r->eof = 1;
	r->drain = drain;
}

int runner_status(const struct runner *r)
{
	return r->status;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	r->stopping = 1;
	for (int i = 0; i < r->nu; i++)
		unit_free(r->u[i]);
	free(r->u);
	runner_idle(r);
	if (db_agent_log_close(r->log) < 0)
		run_warn(r, "state: %s", err_msg());
	r->log = NULL;
	if (r->sub)
		bus_unsubscribe(r->sub);
	engine_free(r->eng);
	for (int i = 0; i < r->nzones; i++) {
		tz_free(r->zones[i]);
		free(r->zones[i]);
	}
	free(r->zones);
	for (int i = 0; i < r->w.n; i++)
		free(r->w.w[i].dir);
	free(r->w.w);
	if (r->w.fd >= 0)
		close(r->w.fd);
	rclock_free(&r->clk);
	agent_world_free(&r->world);
	run_index_free(r);
	jv_free(r->pats);
	jv_free(r->dedupe);
	jv_free(r->secrets);
	free(r->pfd);
	free(r);
}
