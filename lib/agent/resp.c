/* resp: responsibilities, durations and retry delays; see spec.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agenti.h"
#include "agent/spec.h"
#include "agent/tz.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"

int agent_duration(const char *s, int64_t *ms)
{
	return time_duration(s, 1000, ms); /* a bare number: seconds */
}

int64_t agent_retry_delay(const struct retry *r, int attempt)
{
	if (r->type == RETRY_FIXED)
		return r->delay_ms;
	int64_t d = r->base_ms;
	for (int i = 1; i < attempt && d < r->max_ms; i++)
		d *= 2;
	return d < r->max_ms ? d : r->max_ms;
}

/* *DST = a copy of S; 0, or -1 with err_msg(). */
static int dup(char **dst, const char *s)
{
	free(*dst);
	return (*dst = strdup(s ? s : "")) ? 0 : err_errno("agent");
}

/* "watch:/DIR[:GLOB]": the glob is what follows the last ':' if it has no
 * '/'. */
static int watch_arg(struct resp *r, const char *arg)
{
	if (arg[0] != '/')
		return err_set("watch: '%s' is not an absolute directory path", arg);
	const char *colon = strrchr(arg, ':');
	if (colon && !strchr(colon, '/')) {
		if (!(r->dir = strndup(arg, (size_t)(colon - arg))) || dup(&r->glob, colon + 1) < 0)
			return err_errno("agent");
		if (!*r->glob)
			return err_set("watch: an empty pattern after ':'");
	} else if (dup(&r->dir, arg) < 0 || dup(&r->glob, "*") < 0) {
		return -1;
	}
	size_t n = strlen(r->dir);
	while (n > 1 && r->dir[n - 1] == '/')
		r->dir[--n] = 0;
	if (strlen(r->dir) > 4000)
		return err_set("watch: the directory path is too long");
	return 0;
}

/* Sets R's kind and arguments from its trigger TRIGGER. */
static int trigger(struct resp *r, const char *t, const struct agent_lookup *lk)
{
	const char *colon = strchr(t, ':');
	size_t kl = colon ? (size_t)(colon - t) : strlen(t);
	const char *arg = colon ? colon + 1 : "";
	if (dup(&r->arg, arg) < 0)
		return -1;
	if (kl == 5 && !strncmp(t, "stdin", 5)) {
		r->kind = RESP_STDIN;
		if (*arg)
			return err_set("'%s': stdin takes nothing after it", t);
		return 0;
	}
	if (!colon)
		goto unknown;
	if (kl == 4 && !strncmp(t, "cron", 4)) {
		r->kind = RESP_CRON;
		if (cron_parse(&r->cron, arg) < 0)
			return err_set("cron '%s': %s", arg, err_msg());
		return 0;
	}
	if (kl == 5 && !strncmp(t, "every", 5)) {
		r->kind = RESP_EVERY;
		if (agent_duration(arg, &r->every_ms) < 0)
			return err_set("every: %s", err_msg());
		if (r->every_ms < 1000)
			return err_set("every: '%s': at least 1s", arg);
		return 0;
	}
	if (kl == 5 && !strncmp(t, "event", 5)) {
		r->kind = RESP_EVENT;
		if (bus_check_topic(arg, strlen(arg)) < 0)
			return err_set("event: %s", err_msg());
		return 0;
	}
	if (kl == 5 && !strncmp(t, "watch", 5)) {
		r->kind = RESP_WATCH;
		return watch_arg(r, arg);
	}
unknown:
	(void)lk;
	return err_set("'%.60s': not a trigger (cron:EXPR, every:DURATION, event:TOPIC, "
	               "watch:/DIR[:GLOB] or stdin)", t);
}

static int resp_abilities(struct resp *r, jv list, const struct agent *a)
{
	if (jv_get_kind(list) != JV_KIND_ARRAY)
		return err_set("abilities: not an array of ability names");
	int n = jv_array_length(jv_copy(list));
	if (!(r->abilities = calloc((size_t)n + 1, sizeof *r->abilities)))
		return err_errno("agent");
	for (int i = 0; i < n; i++) {
		jv v = jv_array_get(jv_copy(list), i);
		int ok = jv_get_kind(v) == JV_KIND_STRING;
		int found = 0;
		for (int j = 0; ok && j < a->nabilities; j++)
			found |= !strcmp(a->abilities[j], jv_string_value(v));
		if (ok && found && dup(&r->abilities[r->nabilities++], jv_string_value(v)) < 0)
			ok = 0;
		jv_free(v);
		if (!ok)
			return err_set("abilities[%d]: not a string", i);
		if (!found)
			return err_set("abilities[%d]: not one of the agent's abilities", i);
	}
	if (!n)
		return err_set("abilities: empty");
	return 0;
}

/* Responsibility V (a string or an object) of agent A into R. */
int agenti_resp(struct resp *r, jv v, const struct agent *a, const struct agent_lookup *lk)
{
	static const char *const keys[] = { "trigger", "name", "task", "abilities", "catch_up",
		                            "tz", "timeout", NULL };
	jv t = jv_invalid();
	memset(r, 0, sizeof *r);
	int rc = -1;
	if (jv_get_kind(v) == JV_KIND_STRING) {
		t = jv_copy(v);
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		for (int i = jv_object_iter(v); jv_object_iter_valid(v, i);
		     i = jv_object_iter_next(v, i)) {
			jv k = jv_object_iter_key(v, i);
			int known = 0;
			for (int j = 0; keys[j]; j++)
				known |= !strcmp(keys[j], jv_string_value(k));
			if (!known) {
				err_set("unknown field '%s' (trigger, name, task, abilities, catch_up, tz, "
				        "timeout)", jv_string_value(k));
				jv_free(k);
				goto out;
			}
			jv_free(k);
		}
		t = json_get(v, "trigger");
		if (jv_get_kind(t) != JV_KIND_STRING) {
			err_set("trigger: required, a string such as \"cron:0 9 * * *\"");
			goto out;
		}
	} else {
		err_set("not a string (\"cron:0 9 * * *\") or an object with a trigger");
		goto out;
	}
	const char *ts = jv_string_value(t);
	if (strlen(ts) > 4096 || strchr(ts, '\n')) {
		err_set("the trigger is too long or has a line break");
		goto out;
	}
	if (dup(&r->trigger, ts) < 0 || trigger(r, ts, lk) < 0 ||
	    dup(&r->name, json_str_or(v, "name", ts)) < 0)
		goto out;
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv x = json_get(v, "name");
		int bad = jv_is_valid(x) && (jv_get_kind(x) != JV_KIND_STRING || !*r->name ||
		                             strlen(r->name) > 200);
		jv_free(x);
		if (bad) {
			err_set("name: not a string of 1 to 200 bytes");
			goto out;
		}
		x = json_get(v, "task");
		bad = jv_is_valid(x) && (jv_get_kind(x) != JV_KIND_STRING ||
		                         !jv_string_length_bytes(jv_copy(x)));
		jv_free(x);
		if (bad) {
			err_set("task: not a non-empty string");
			goto out;
		}
		x = json_get(v, "abilities");
		if (jv_is_valid(x) && resp_abilities(r, x, a) < 0) {
			jv_free(x);
			goto out;
		}
		jv_free(x);
		x = json_get(v, "catch_up");
		bad = jv_is_valid(x) && jv_get_kind(x) != JV_KIND_TRUE && jv_get_kind(x) != JV_KIND_FALSE;
		r->catch_up = jv_get_kind(x) == JV_KIND_TRUE;
		jv_free(x);
		if (bad || (r->catch_up && r->kind != RESP_CRON)) {
			err_set(bad ? "catch_up: not true or false" : "catch_up: for cron only");
			goto out;
		}
		x = json_get(v, "tz");
		if (jv_is_valid(x)) {
			if (jv_get_kind(x) != JV_KIND_STRING || r->kind != RESP_CRON) {
				jv_free(x);
				err_set(r->kind != RESP_CRON ? "tz: for cron only"
				                             : "tz: not a string such as \"Europe/Paris\"");
				goto out;
			}
			if (dup(&r->tz, jv_string_value(x)) < 0) {
				jv_free(x);
				goto out;
			}
			if (!tz_name_ok(r->tz) || (lk && lk->zone && lk->zone(r->tz, lk->ctx) < 0)) {
				if (!tz_name_ok(r->tz))
					err_set("'%s' is not a time zone name (such as Europe/Paris)", r->tz);
				jv_free(x);
				err_set("tz: %s", err_msg());
				goto out;
			}
		}
		jv_free(x);
		x = json_get(v, "timeout");
		if (jv_is_valid(x)) {
			int ok = 0;
			if (jv_get_kind(x) == JV_KIND_NUMBER && jv_number_value(x) >= 1 &&
			    jv_number_value(x) <= 86400000)
				r->timeout_ms = (int64_t)jv_number_value(x), ok = 1;
			else if (jv_get_kind(x) == JV_KIND_STRING &&
			         agent_duration(jv_string_value(x), &r->timeout_ms) == 0 &&
			         r->timeout_ms >= 1 && r->timeout_ms <= 86400000)
				ok = 1;
			jv_free(x);
			if (!ok) {
				err_set("timeout: not a duration from 1ms to 1d (\"30s\" or ms)");
				goto out;
			}
		}
	}
	const char *task = json_str(v, "task", NULL);
	if (dup(&r->task, task ? task : r->kind == RESP_EVENT ? r->arg : r->name) < 0)
		goto out;
	if (!r->abilities) {
		if (!(r->abilities = calloc((size_t)a->nabilities + 1, sizeof *r->abilities))) {
			err_errno("agent");
			goto out;
		}
		for (int i = 0; i < a->nabilities; i++)
			if (dup(&r->abilities[r->nabilities++], a->abilities[i]) < 0)
				goto out;
	}
	rc = 0;
out:
	jv_free(t);
	return rc;
}

void agenti_resp_free(struct resp *r)
{
	free(r->name);
	free(r->task);
	free(r->trigger);
	free(r->arg);
	free(r->tz);
	free(r->dir);
	free(r->glob);
	for (int i = 0; i < r->nabilities; i++)
		free(r->abilities[i]);
	free(r->abilities);
	memset(r, 0, sizeof *r);
}
