/* env: the environment an ability runs in; see runi.h.
 *
 * The runner's own, less every key variable (the platforms' and the one
 * every running agent names in llm_config.api_key_env_var), with the job's
 * PANIC_AGENT (the row as JSON, less last_error), PANIC_AGENT_NAME,
 * PANIC_AGENT_ID, PANIC_RESPONSIBILITY, PANIC_TASK, PANIC_TRIGGER,
 * PANIC_ATTEMPT, PANIC_SCHEDULED_AT, PANIC_DB, PANIC_BUS, and the agent's
 * own key under its variable's name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runi.h"
#include "base/keys.h"
#include "base/timeutil.h"
#include "json/json.h"

extern char **environ;

static int secret(struct runner *r, const char *var, size_t n)
{
	static const char *const known[] = { "OPENAI_API_KEY", "REPLICATE_API_TOKEN",
		                             "GEMINI_API_KEY", NULL };
	for (int i = 0; known[i]; i++)
		if (strlen(known[i]) == n && !strncmp(var, known[i], n))
			return 1;
	if (n > 11 && !strncmp(var, "VESTABOARD_", 11))
		return 1;
	if (n > 6 && !strncmp(var, "PANIC_", 6) &&
	    (!strncmp(var, "PANIC_AGENT", 11) || !strncmp(var, "PANIC_RESPONSIBILITY", 20) ||
	     !strncmp(var, "PANIC_TASK", 10) || !strncmp(var, "PANIC_TRIGGER", 13) ||
	     !strncmp(var, "PANIC_ATTEMPT", 13) || !strncmp(var, "PANIC_SCHEDULED_AT", 18) ||
	     (n == 8 && !strncmp(var, "PANIC_DB", 8)) || (n == 9 && !strncmp(var, "PANIC_BUS", 9))))
		return 1; /* set for the job below */
	int m = jv_get_kind(r->secrets) == JV_KIND_ARRAY ? jv_array_length(jv_copy(r->secrets)) : 0;
	for (int i = 0; i < m; i++) {
		jv k = jv_array_get(jv_copy(r->secrets), i);
		int same = (size_t)jv_string_length_bytes(jv_copy(k)) == n &&
		           !strncmp(var, jv_string_value(k), n);
		jv_free(k);
		if (same)
			return 1;
	}
	return 0;
}

static int add_env(char ***env, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_env(char ***env, int *n, const char *fmt, ...)
{
	char **v = realloc(*env, (size_t)(*n + 2) * sizeof *v);
	if (!v)
		return -1;
	*env = v;
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&v[*n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	v[++*n] = NULL;
	return 0;
}

void run_env_free(char **env)
{
	for (int i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

char **run_env(struct runner *r, struct unit *u, struct job *j)
{
	char **env = NULL;
	int n = 0, bad = 0;
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		if (!eq || secret(r, *e, (size_t)(eq - *e)))
			continue;
		bad |= add_env(&env, &n, "%s", *e);
	}
	const struct resp *rs = agent_resp(&u->a, j->resp);
	jv row = jv_object_delete(jv_copy(u->a.row), jv_string("last_error"));
	size_t len;
	char *text = json_dump(row, &len);
	jv_free(row);
	bad |= !text || add_env(&env, &n, "PANIC_AGENT=%s", text);
	free(text);
	bad |= add_env(&env, &n, "PANIC_AGENT_NAME=%s", u->name);
	bad |= add_env(&env, &n, "PANIC_AGENT_ID=%s", u->id);
	bad |= add_env(&env, &n, "PANIC_RESPONSIBILITY=%s", j->resp);
	bad |= add_env(&env, &n, "PANIC_TASK=%s", rs ? rs->task : "");
	bad |= add_env(&env, &n, "PANIC_TRIGGER=%s", rs ? rs->trigger : "");
	bad |= add_env(&env, &n, "PANIC_ATTEMPT=%d", j->attempt);
	if (j->scheduled) {
		char s[32];
		bad |= add_env(&env, &n, "PANIC_SCHEDULED_AT=%s", time_rfc3339(j->scheduled, s));
	}
	if (r->o.db_path)
		bad |= add_env(&env, &n, "PANIC_DB=%s", r->o.db_path);
	if (r->o.bus_path)
		bad |= add_env(&env, &n, "PANIC_BUS=%s", r->o.bus_path);
	const char *var = json_str(u->a.llm, "api_key_env_var", NULL);
	const char *key = var ? keys_get(var) : NULL;
	if (key)
		bad |= add_env(&env, &n, "%s=%s", var, key);
	if (bad || !env) {
		run_env_free(env);
		return NULL;
	}
	return env;
}

