/* trig: an agent's triggers: cron and every: timers, the catch-up and
 * @reboot fires, watched directories, bus events; see runi.h.
 *
 * A cron fire time passed by up to LATE_SMALL_MS fires at once; by up to
 * LATE_MEDIUM_MS only a fixed-time job fires (cronie's rules); older ones
 * are missed. A fire that finds the last one of its responsibility still
 * queued is not queued twice.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/agents.h"

#define LATE_SMALL_MS (5 * 60000)    /* cronie: run everything missed */
#define LATE_MEDIUM_MS (3 * 3600000) /* cronie: run fixed-time jobs missed */

static void stamp(int64_t ms, char buf[static 32])
{
	time_rfc3339(ms, buf);
}


void trig_teardown(struct unit *u)
{
	for (int i = 0; i < u->ntrig; i++)
		if (u->trig[i].watch >= 0)
			watch_drop(u->r, u->trig[i].watch);
	free(u->trig);
	u->trig = NULL;
	u->ntrig = 0;
	u->due_wall = u->due_sched = 0;
	run_unindex(u->r);
}

/* The earliest fire times of the unit's timers, for unit_work()'s look. */
static void trig_due(struct unit *u)
{
	u->due_wall = u->due_sched = 0;
	for (int i = 0; i < u->ntrig; i++) {
		struct trig *t = &u->trig[i];
		int64_t *d = t->resp->kind == RESP_CRON ? &u->due_wall : &u->due_sched;
		if (t->next && (!*d || t->next < *d))
			*d = t->next;
	}
}

/* Cron's next fire time after wall ms AFTER, in wall ms (0: none). */
static int64_t cron_after(struct trig *t, int64_t after)
{
	int64_t s = cron_next(&t->resp->cron, t->tz, after >= 0 ? after / 1000 : (after - 999) / 1000);
	return s < 0 ? 0 : s * 1000;
}

/* Queues the catch-up of cron T: the fire times missed since its last. */
static void catch_up(struct unit *u, struct trig *t, int64_t wall)
{
	run_sync(u->r); /* the last fire may be queued still */
	char *last = db_agent_last_fire(u->r->db, u->id, t->resp->name);
	int64_t ms;
	if (!last || tz_parse_time(last, &ms) < 0) {
		free(last);
		return;
	}
	free(last);
	int64_t first = cron_after(t, ms), n = 0, at = first;
	while (at && at <= wall && n < 100000)
		n++, at = cron_after(t, at);
	if (!n)
		return;
	char s[32];
	jv p = jv_object();
	p = json_set(p, "responsibility", jv_string(t->resp->name));
	p = json_set(p, "scheduled_at", jv_string(time_rfc3339(first, s)));
	p = json_set(p, "catch_up", jv_true());
	p = json_set(p, "missed", jv_number((double)n));
	unit_enqueue(u, t->resp, p, jv_null(), first);
}

/* Sets the triggers up: 0, or -1 with err_msg() (a crash). */
int trig_setup(struct unit *u)
{
	struct runner *r = u->r;
	int64_t wall = rclock_wall(&r->clk), sched = rclock_sched(&r->clk);
	if (!(u->trig = calloc((size_t)u->a.nresp + 1, sizeof *u->trig)))
		return err_errno("agent");
	for (int i = 0; i < u->a.nresp; i++) {
		struct trig *t = &u->trig[u->ntrig++];
		t->resp = &u->a.resp[i];
		t->watch = -1;
		switch (t->resp->kind) {
		case RESP_CRON:
			if (!(t->tz = run_zone(r, t->resp->tz)))
				return err_set("%s: %s", t->resp->name, err_msg());
			if (t->resp->cron.flags & CRON_REBOOT) {
				run_sync(r);
				char *last = db_agent_last_fire(r->db, u->id, t->resp->name);
				int64_t at = -1;
				if (!last || tz_parse_time(last, &at) < 0 || at < r->boot) {
					char s[32];
					jv p = json_set(json_set(jv_object(), "responsibility",
					                         jv_string(t->resp->name)),
					                "scheduled_at", jv_string(time_rfc3339(r->boot, s)));
					unit_enqueue(u, t->resp, p, jv_null(), r->boot);
				}
				free(last);
				break;
			}
			if (t->resp->catch_up)
				catch_up(u, t, wall);
			t->next = cron_after(t, wall);
			break;
		case RESP_EVERY:
			t->next = sched + t->resp->every_ms;
			break;
		case RESP_WATCH:
			if ((t->watch = watch_add(r, t->resp->dir)) < 0)
				return -1;
			break;
		case RESP_EVENT:
			t->glob = strpbrk(t->resp->arg, "*?[\\") != NULL;
			break;
		default:
			break;
		}
	}
	trig_due(u);
	run_unindex(r);
	return 0;
}


void unit_clock_set(struct unit *u)
{
	int64_t wall = rclock_wall(&u->r->clk);
	for (int i = 0; i < u->ntrig; i++) {
		struct trig *t = &u->trig[i];
		if (t->resp->kind != RESP_CRON || (t->resp->cron.flags & CRON_REBOOT))
			continue;
		/* Back in time: fixed-time jobs do not run twice (cronie). */
		int64_t from = wall;
		if (!cron_wild(&t->resp->cron) && t->last > wall && t->last - wall <= LATE_MEDIUM_MS)
			from = t->last;
		t->next = cron_after(t, from);
	}
	trig_due(u);
	unit_note(u, u->state == U_RUNNING ? "running" : "backoff");
}

/* 1 if a job of responsibility NAME waits in the queue (not started). */
static int queued(struct unit *u, const char *name)
{
	for (struct job *j = u->qhead; j; j = j->next)
		if (!strcmp(j->resp, name))
			return 1;
	return 0;
}


/* Fires trigger T, due at AT (wall or sched ms). */
static void fire(struct unit *u, struct trig *t, int64_t at)
{
	if (queued(u, t->resp->name)) /* still waiting from the last fire: one is enough */
		return;
	char s[32];
	int64_t wall = t->resp->kind == RESP_CRON
	                       ? at
	                       : rclock_wall(&u->r->clk) - (rclock_sched(&u->r->clk) - at);
	jv p = json_set(json_set(jv_object(), "responsibility", jv_string(t->resp->name)),
	                "scheduled_at", jv_string(time_rfc3339(wall, s)));
	unit_enqueue(u, t->resp, p, jv_null(), wall);
}

void trig_work(struct unit *u, int64_t *ms)
{
	struct runner *r = u->r;
	int64_t wall = r->t_wall, sched = r->t_sched;
	int fake = r->clk.path != NULL, changed = 0;
	for (int i = 0; i < u->ntrig; i++) {
		struct trig *t = &u->trig[i];
		if (!t->next)
			continue;
		if (t->resp->kind == RESP_CRON && wall >= t->next) {
			int64_t late = wall - t->next;
			if (late <= LATE_SMALL_MS ||
			    (late <= LATE_MEDIUM_MS && !cron_wild(&t->resp->cron))) {
				fire(u, t, t->next);
				t->last = t->next;
			} else if (r->o.verbose > 0) {
				char s[32];
				stamp(t->next, s);
				run_warn(r, "agent %s: %s: missed the fire time %s", u->name, t->resp->name, s);
			}
			t->next = cron_after(t, wall > t->next ? wall : t->next);
			changed = 1;
		} else if (t->resp->kind == RESP_EVERY && sched >= t->next) {
			fire(u, t, t->next);
			t->next += t->resp->every_ms;
			if (t->next <= sched)
				t->next = sched + t->resp->every_ms;
			changed = 1;
		}
		if (!fake && t->next)
			run_lower(ms, t->next - (t->resp->kind == RESP_CRON ? wall : sched));
	}
	if (changed) {
		trig_due(u);
		unit_note(u, "running");
	}
}


void unit_watched(struct unit *u, int w, const char *dir, const char *name, const char *how)
{
	if (u->state != U_RUNNING && u->state != U_BACKOFF)
		return;
	for (int i = 0; i < u->ntrig; i++) {
		struct trig *t = &u->trig[i];
		if (t->watch != w || fnmatch(t->resp->glob, name, FNM_PERIOD))
			continue;
		char path[8192];
		snprintf(path, sizeof path, "%s/%s", dir, name);
		jv p = jv_object();
		p = json_set(p, "path", jv_string(path));
		p = json_set(p, "name", jv_string(name));
		p = json_set(p, "dir", jv_string(dir));
		p = json_set(p, "event", jv_string(how));
		unit_enqueue(u, t->resp, p, jv_null(), 0);
	}
}

void unit_event(struct unit *u, const char *topic, jv data)
{
	if ((u->state != U_RUNNING && u->state != U_BACKOFF) || !u->have_agent)
		return;
	/* Its own events never trigger it: no loop. */
	if (!strncmp(topic, "agent:", 6) && !strcmp(topic + 6, u->name))
		return;
	for (int i = 0; i < u->ntrig; i++) {
		struct resp *rs = u->trig[i].resp;
		if (rs->kind != RESP_EVENT)
			continue;
		int match = u->trig[i].glob ? !fnmatch(rs->arg, topic, 0) : !strcmp(rs->arg, topic);
		if (match)
			unit_enqueue(u, rs, jv_is_valid(data) ? jv_copy(data) : jv_null(), jv_null(), 0);
	}
}
