/* spec: an agent's fields, checked, and the agent they make.
 *
 * Every field is checked on the way in, with an error naming the field and
 * the rule ("responsibilities[0]: cron '61 * * * *': minute: 61 is out of
 * range 0-59"). The checks are pure; what needs the world (is there such
 * an ability, model, time zone) is asked through struct agent_lookup.
 *
 * Fields (Arboretum's table): name; status (active, inactive, error,
 * disabled_flapping); llm_config {api_key_env_var, model, base_url,
 * base_prompt_override, temperature, max_tokens}; prompts {TASK: template};
 * abilities [NAME]; responsibilities [RESP]; retry_policy {"type":"fixed",
 * "max_retries", "delay_ms"} or {"type":"exponential_backoff",
 * "max_retries", "base_delay_ms", "max_delay_ms"}; concurrency (jobs of the
 * agent in flight at once, 1 to AGENT_JOBS_MAX, or null for the runner's
 * default: not Arboretum's, panic's own); last_error; and, kept as given on
 * import, id, inserted_at and updated_at.
 *
 * A responsibility is a string "KIND:ARG" or an object {"trigger":
 * "KIND:ARG", "name", "task", "abilities", "catch_up", "tz", "timeout"}:
 *   cron:MIN HOUR DOM MON DOW (or @daily ...), every:DURATION,
 *   event:TOPIC-PATTERN, watch:/DIR[:GLOB], stdin.
 * Its name is "name", else the trigger; its task type (which prompt the
 * llm ability fills) is "task", else for event: the topic, else the name.
 * Its abilities run in order, each one's result the next one's payload:
 * "abilities", else all of the agent's.
 *
 * jv ownership: parameters are borrowed; struct agent owns its jv.
 */
#ifndef PANIC_AGENT_SPEC_H
#define PANIC_AGENT_SPEC_H

#include <jv.h>
#include <stdint.h>

#include "agent/cron.h"
#include "base/id.h"

#define AGENT_NAME_MAX 64
#define AGENT_MAX_BYTES (96 * 1024)
#define AGENT_JOBS_MAX 256 /* jobs of one agent in flight at once */

enum resp_kind { RESP_CRON, RESP_EVERY, RESP_EVENT, RESP_WATCH, RESP_STDIN };

struct resp {
	enum resp_kind kind;
	char *name, *task, *trigger, *arg; /* arg: what follows "KIND:" */
	struct cron cron;
	char *tz;       /* cron: the zone, or NULL for local */
	int catch_up;   /* cron: fire once at start for times missed while down */
	int64_t every_ms;
	char *dir, *glob; /* watch */
	char **abilities; /* NULL-terminated */
	int nabilities;
	int64_t timeout_ms; /* 0: the runner's default */
};

enum { RETRY_FIXED, RETRY_EXPONENTIAL };

struct retry {
	int type, max_retries;
	int64_t delay_ms, base_ms, max_ms;
};

struct agent {
	char id[ID_LEN + 1];
	char name[AGENT_NAME_MAX + 1];
	char status[24];
	jv row;     /* the canonical fields, as agent-ctl export prints them */
	jv llm;     /* llm_config */
	jv prompts;
	char **abilities;
	int nabilities;
	struct resp *resp;
	int nresp;
	struct retry retry;
	int concurrency; /* 0: the runner's */
};

/* What the checks ask of the world: each returns 0, or -1 with err_msg()
 * saying why not; a NULL one is not asked. */
struct agent_lookup {
	int (*ability)(const char *name, void *ctx);
	int (*model)(const char *id, void *ctx);
	int (*zone)(const char *name, void *ctx);
	void *ctx;
};

/* Checks the fields of AGENT (an object; missing fields take their
 * defaults) and makes *OUT. 0, or -1 with err_msg(). */
int agent_check(jv agent, const struct agent_lookup *lk, struct agent *out);
/* Every field's error of AGENT, for a form that shows each next to its
 * field: an array (empty if AGENT is valid) of {"field": KEY, "message":
 * WHY}, KEY the top-level field ("responsibilities" for
 * "responsibilities[0]: cron ..."), WHY as agent_check gives it, the
 * first of each field; field is null for what is no one field's (AGENT
 * is not an object, or too large). */
jv agent_errors(jv agent, const struct agent_lookup *lk);
/* The same from a row of the agents table (its JSON columns as text);
 * an invalid column is named ("responsibilities: not JSON: ..."). */
int agent_from_row(jv row, const struct agent_lookup *lk, struct agent *out);
void agent_free(struct agent *a);

/* The fields of a row (JSON columns as text) as an agent object, for
 * export: the JSON columns parsed (an unparsable one stays text). */
jv agent_row_object(jv row);
/* The columns of A for the agents table (JSON columns as text). */
jv agent_columns(const struct agent *a);

/* 1 if S is a valid agent name; an ability name; a status. */
int agent_name_ok(const char *s);
int agent_ability_name_ok(const char *s);
int agent_status_ok(const char *s);
/* A duration ("500ms", "30s", "5m", "1h", "2d", "1h30m", or a number of
 * seconds) into *MS; 0, or -1 with err_msg(). See time_duration(). */
int agent_duration(const char *s, int64_t *ms);
/* The responsibility of A named NAME (or whose trigger is NAME), or NULL. */
const struct resp *agent_resp(const struct agent *a, const char *name);
/* The delay before retry ATTEMPT (1 for the first) under R, in ms. */
int64_t agent_retry_delay(const struct retry *r, int attempt);

#endif
