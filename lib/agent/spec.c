/* spec: checking an agent's fields and making the agent; see spec.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agenti.h"
#include "agent/spec.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"

static const char *const statuses[] = { "active", "inactive", "error", "disabled_flapping",
	                                NULL };

int agent_status_ok(const char *s)
{
	for (int i = 0; statuses[i]; i++)
		if (!strcmp(s, statuses[i]))
			return 1;
	return 0;
}

static int name_chars(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n && n <= max && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int agent_name_ok(const char *s)
{
	return name_chars(s, AGENT_NAME_MAX);
}

int agent_ability_name_ok(const char *s)
{
	return name_chars(s, 64);
}

/* An integer field of OBJ in [LO, HI] into *OUT; -1 names it. */
static int integer(jv obj, const char *key, long lo, long hi, int64_t *out, const char *what)
{
	jv v = json_get(obj, key);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;
	int kind = jv_get_kind(v);
	jv_free(v);
	if (kind == JV_KIND_INVALID)
		return err_set("%s needs %s", what, key);
	if (!(d >= lo && d <= hi) || d != floor(d))
		return err_set("%s: %s must be a whole number from %ld to %ld", what, key, lo, hi);
	*out = (int64_t)d;
	return 0;
}

/* Fails if OBJ has a key not in KEYS. */
static int only_keys(jv obj, const char *const keys[], const char *what)
{
	for (int i = jv_object_iter(obj); jv_object_iter_valid(obj, i);
	     i = jv_object_iter_next(obj, i)) {
		jv k = jv_object_iter_key(obj, i);
		int known = 0;
		char list[300] = "";
		for (int j = 0; keys[j]; j++) {
			known |= !strcmp(keys[j], jv_string_value(k));
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
			         keys[j]);
		}
		if (!known) {
			err_set("%s%s'%s': unknown field (%s)", what, *what ? ": " : "",
			        jv_string_value(k), list);
			jv_free(k);
			return -1;
		}
		jv_free(k);
	}
	return 0;
}

static int retry(jv v, struct retry *r)
{
	static const char *const fixed[] = { "type", "max_retries", "delay_ms", NULL };
	static const char *const expo[] = { "type", "max_retries", "base_delay_ms", "max_delay_ms",
		                            NULL };
	int64_t x;
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return err_set("retry_policy: not an object");
	const char *type = json_str(v, "type", NULL);
	if (!type || (strcmp(type, "fixed") && strcmp(type, "exponential_backoff")))
		return err_set("retry_policy: type must be \"fixed\" or \"exponential_backoff\"");
	r->type = !strcmp(type, "fixed") ? RETRY_FIXED : RETRY_EXPONENTIAL;
	if (only_keys(v, r->type == RETRY_FIXED ? fixed : expo, "retry_policy") < 0 ||
	    integer(v, "max_retries", 0, 100, &x, "retry_policy") < 0)
		return -1;
	r->max_retries = (int)x;
	if (r->type == RETRY_FIXED)
		return integer(v, "delay_ms", 0, 86400000, &r->delay_ms, "retry_policy: fixed");
	if (integer(v, "base_delay_ms", 0, 86400000, &r->base_ms,
	            "retry_policy: exponential_backoff") < 0 ||
	    integer(v, "max_delay_ms", 0, 86400000, &r->max_ms,
	            "retry_policy: exponential_backoff") < 0)
		return -1;
	if (r->max_ms < r->base_ms)
		return err_set("retry_policy: max_delay_ms is less than base_delay_ms");
	return 0;
}

/* 1 if S looks like a key rather than the name of a variable. */
static int looks_like_key(const char *s)
{
	static const char *const prefixes[] = { "sk-", "sk_", "r8_", "AIza", "xox", "ghp_",
		                                "github_pat_", "Bearer", "key-", NULL };
	for (int i = 0; prefixes[i]; i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return 1;
	size_t n = strlen(s);
	if (!n || n > 128 || (s[0] >= '0' && s[0] <= '9') ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return 1;
	int lower = 0, digit = 0;
	for (const char *p = s; *p; p++)
		lower |= *p >= 'a' && *p <= 'z', digit |= *p >= '0' && *p <= '9';
	return n >= 24 && lower && digit; /* random-looking, not a NAME_LIKE_THIS */
}

static int llm_config(jv v, const struct agent_lookup *lk)
{
	static const char *const keys[] = { "api_key_env_var", "model", "base_url",
		                            "base_prompt_override", "temperature", "max_tokens",
		                            NULL };
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return err_set("llm_config: not an object");
	if (only_keys(v, keys, "llm_config") < 0)
		return -1;
	static const char *const strs[] = { "api_key_env_var", "model", "base_url",
		                            "base_prompt_override", NULL };
	for (int i = 0; strs[i]; i++) {
		jv x = json_get(v, strs[i]);
		int bad = jv_is_valid(x) && (jv_get_kind(x) != JV_KIND_STRING ||
		                             jv_string_length_bytes(jv_copy(x)) > 65536);
		jv_free(x);
		if (bad)
			return err_set("llm_config.%s: not a string", strs[i]);
	}
	const char *var = json_str(v, "api_key_env_var", NULL);
	if (var && looks_like_key(var))
		return err_set("llm_config.api_key_env_var: give the name of the environment variable "
		               "that holds the key (such as OPENAI_API_KEY), never the key itself");
	const char *model = json_str(v, "model", NULL);
	if (model && (!*model || (lk && lk->model && lk->model(model, lk->ctx) < 0)))
		return err_set("llm_config.model: %s", *model ? err_msg() : "empty");
	const char *url = json_str(v, "base_url", NULL);
	if (url && ((strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) ||
	            strpbrk(url, " \t\r\n") || strlen(url) > 2048))
		return err_set("llm_config.base_url: '%.80s' is not an http:// or https:// URL", url);
	jv t = json_get(v, "temperature");
	int bad = jv_is_valid(t) && !(jv_get_kind(t) == JV_KIND_NUMBER &&
	                              jv_number_value(t) >= 0 && jv_number_value(t) <= 2);
	jv_free(t);
	if (bad)
		return err_set("llm_config.temperature: a number from 0 to 2");
	int64_t x;
	if (json_has(v, "max_tokens") &&
	    integer(v, "max_tokens", 1, 1000000, &x, "llm_config") < 0)
		return -1;
	return 0;
}

static int prompts(jv v)
{
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return err_set("prompts: not an object of task type -> template");
	for (int i = jv_object_iter(v); jv_object_iter_valid(v, i);
	     i = jv_object_iter_next(v, i)) {
		jv k = jv_object_iter_key(v, i), t = jv_object_iter_value(v, i);
		int bad = !jv_string_length_bytes(jv_copy(k)) || jv_get_kind(t) != JV_KIND_STRING;
		if (bad)
			err_set("prompts.%s: not a template string", jv_string_value(k));
		jv_free(k);
		jv_free(t);
		if (bad)
			return -1;
	}
	return 0;
}

static int abilities(jv v, struct agent *a, const struct agent_lookup *lk)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return err_set("abilities: not an array of ability names");
	int n = jv_array_length(jv_copy(v));
	a->abilities = calloc((size_t)n + 1, sizeof *a->abilities);
	if (!a->abilities)
		return err_errno("abilities");
	for (int i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(v), i);
		if (jv_get_kind(x) != JV_KIND_STRING) {
			jv_free(x);
			return err_set("abilities[%d]: not a string", i);
		}
		const char *s = jv_string_value(x);
		int rc = 0;
		if (!agent_ability_name_ok(s))
			rc = err_set("abilities[%d]: '%.80s' is not an ability name (letters, digits, "
			             ". _ -; no '/', not starting with '.' or '-')", i, s);
		for (int j = 0; !rc && j < a->nabilities; j++)
			if (!strcmp(a->abilities[j], s))
				rc = err_set("abilities[%d]: '%s' twice", i, s);
		if (!rc && lk && lk->ability && lk->ability(s, lk->ctx) < 0)
			rc = err_set("abilities[%d]: %s", i, err_msg());
		if (!rc && !(a->abilities[a->nabilities++] = strdup(s)))
			rc = err_errno("abilities");
		jv_free(x);
		if (rc)
			return -1;
	}
	return 0;
}

static int responsibilities(jv v, struct agent *a, const struct agent_lookup *lk)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return err_set("responsibilities: not an array");
	int n = jv_array_length(jv_copy(v));
	a->resp = calloc((size_t)n + 1, sizeof *a->resp);
	if (!a->resp)
		return err_errno("responsibilities");
	for (int i = 0; i < n; i++) {
		jv x = jv_array_get(jv_copy(v), i);
		int rc = agenti_resp(&a->resp[i], x, a, lk);
		a->nresp = i + 1;
		jv_free(x);
		if (rc < 0)
			return err_set("responsibilities[%d]: %s", i, err_msg());
		for (int j = 0; j < i; j++)
			if (!strcmp(a->resp[j].name, a->resp[i].name))
				return err_set("responsibilities[%d]: the name '%s' is taken by "
				               "responsibilities[%d]", i, a->resp[i].name, j);
	}
	return 0;
}

static int stamp(jv in, const char *key)
{
	jv v = json_get(in, key);
	int bad = jv_is_valid(v) && (jv_get_kind(v) != JV_KIND_STRING ||
	                             time_parse_rfc3339(jv_string_value(v)) < 0);
	jv_free(v);
	return bad ? err_set("%s: not an RFC 3339 time such as 2026-01-02T03:04:05.678Z", key) : 0;
}

/* FIELD of IN, or the default DEF (JSON text) if absent. */
static jv field(jv in, const char *key, const char *def)
{
	jv v = json_get(in, key);
	return jv_is_valid(v) ? v : jv_parse(def);
}

/* Where agent_check puts what it finds: with ERRORS valid, every field's
 * error as {field, message} (the first of each field), and the check goes
 * on; without, it stops at the first. */
struct found {
	jv errors;
	int n;
};

/* The check of FIELD failed (err_msg() says why): -1 if it stops here. */
static int failed(struct found *f, const char *field)
{
	f->n++;
	if (!jv_is_valid(f->errors))
		return -1;
	int seen = 0;
	jv_array_foreach(f->errors, i, e)
	{
		const char *x = json_str(e, "field", NULL);
		seen |= field && x && !strcmp(x, field);
		jv_free(e);
	}
	if (!seen)
		f->errors = jv_array_append(
			f->errors, json_set(json_set(jv_object(), "field",
			                             field ? jv_string(field) : jv_null()),
			                    "message", jv_string(err_msg())));
	return 0;
}

/* The fields of IN not among KEYS, each an error. */
static int unknown_keys(jv in, const char *const keys[], struct found *f)
{
	for (int i = jv_object_iter(in); jv_object_iter_valid(in, i);
	     i = jv_object_iter_next(in, i)) {
		jv k = jv_object_iter_key(in, i);
		jv one = json_set(jv_object(), jv_string_value(k), jv_null());
		int rc = only_keys(one, keys, "") < 0 ? failed(f, jv_string_value(k)) : 0;
		jv_free(one);
		jv_free(k);
		if (rc)
			return -1;
	}
	return 0;
}

static int check_name(jv in, struct agent *a)
{
	const char *name = json_str(in, "name", NULL);
	if (!name)
		return err_set("name: required, a string");
	if (!agent_name_ok(name))
		return err_set("name: '%.80s' is not a name (1 to %d of A-Z a-z 0-9 . _ -, not "
		               "starting with . or -)", name, AGENT_NAME_MAX);
	snprintf(a->name, sizeof a->name, "%s", name);
	return 0;
}

static int check_id(jv in, struct agent *a)
{
	jv id = json_get(in, "id");
	if (!jv_is_valid(id))
		return 0;
	int ok = jv_get_kind(id) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(id)) == ID_LEN &&
	         strspn(jv_string_value(id), "0123456789abcdef-") == ID_LEN;
	if (ok)
		snprintf(a->id, sizeof a->id, "%s", jv_string_value(id));
	jv_free(id);
	return ok ? 0 : err_set("id: not an id (a UUID in lower case)");
}

static int check_status(jv in, struct agent *a)
{
	jv st = field(in, "status", "\"inactive\"");
	int ok = jv_get_kind(st) == JV_KIND_STRING && agent_status_ok(jv_string_value(st));
	if (ok)
		snprintf(a->status, sizeof a->status, "%s", jv_string_value(st));
	jv_free(st);
	return ok ? 0 : err_set("status: must be active, inactive, error or disabled_flapping");
}

static int check_last_error(jv in)
{
	jv le = json_get(in, "last_error");
	int ok = !jv_is_valid(le) || jv_get_kind(le) == JV_KIND_NULL ||
	         jv_get_kind(le) == JV_KIND_STRING;
	jv_free(le);
	return ok ? 0 : err_set("last_error: a string or null");
}

static int check_concurrency(jv in, struct agent *a)
{
	jv cc = json_get(in, "concurrency");
	int64_t jobs = 0;
	int ok = !jv_is_valid(cc) || jv_get_kind(cc) == JV_KIND_NULL ||
	         integer(in, "concurrency", 1, AGENT_JOBS_MAX, &jobs, "concurrency") == 0;
	jv_free(cc);
	if (!ok)
		return err_set("concurrency: a whole number from 1 to %d (jobs of the agent at "
		               "once), or null for agent-run's --jobs", AGENT_JOBS_MAX);
	a->concurrency = (int)jobs;
	return 0;
}

static int check(jv in, const struct agent_lookup *lk, struct agent *a, struct found *f)
{
	static const char *const keys[] = { "id", "name", "status", "llm_config", "prompts",
		                            "abilities", "responsibilities", "retry_policy",
		                            "concurrency", "last_error", "inserted_at",
		                            "updated_at", NULL };
	memset(a, 0, sizeof *a);
	a->row = a->llm = a->prompts = jv_null();
	if (jv_get_kind(in) != JV_KIND_OBJECT)
		return err_set("an agent is a JSON object"), failed(f, NULL), -1;
	if (unknown_keys(in, keys, f) < 0 || (check_name(in, a) < 0 && failed(f, "name")) ||
	    (check_id(in, a) < 0 && failed(f, "id")) ||
	    (check_status(in, a) < 0 && failed(f, "status")) ||
	    (check_last_error(in) < 0 && failed(f, "last_error")) ||
	    (stamp(in, "inserted_at") < 0 && failed(f, "inserted_at")) ||
	    (stamp(in, "updated_at") < 0 && failed(f, "updated_at")) ||
	    (check_concurrency(in, a) < 0 && failed(f, "concurrency")))
		return -1;
	a->llm = field(in, "llm_config", "{}");
	a->prompts = field(in, "prompts", "{}");
	jv ab = field(in, "abilities", "[]"), rs = field(in, "responsibilities", "[]");
	jv rp = field(in, "retry_policy", "{\"type\":\"fixed\",\"max_retries\":3,\"delay_ms\":5000}");
	int rc = (llm_config(a->llm, lk) < 0 && failed(f, "llm_config")) ||
	                         (prompts(a->prompts) < 0 && failed(f, "prompts")) ||
	                         (abilities(ab, a, lk) < 0 && failed(f, "abilities")) ||
	                         (responsibilities(rs, a, lk) < 0 && failed(f, "responsibilities")) ||
	                         (retry(rp, &a->retry) < 0 && failed(f, "retry_policy"))
	                 ? -1
	                 : 0;
	for (int i = 0; rc == 0 && i < a->nabilities; i++)
		if (!strcmp(a->abilities[i], "llm") && !json_str(a->llm, "model", NULL))
			rc = err_set("abilities[%d]: llm needs llm_config.model", i), failed(f, "abilities");
	if (rc == 0 && !f->n) {
		jv row = jv_object();
		if (*a->id)
			row = json_set(row, "id", jv_string(a->id));
		row = json_set(row, "name", jv_string(a->name));
		row = json_set(row, "status", jv_string(a->status));
		row = json_set(row, "llm_config", jv_copy(a->llm));
		row = json_set(row, "prompts", jv_copy(a->prompts));
		row = json_set(row, "abilities", jv_copy(ab));
		row = json_set(row, "responsibilities", jv_copy(rs));
		row = json_set(row, "retry_policy", jv_copy(rp));
		row = json_set(row, "concurrency", a->concurrency ? jv_number(a->concurrency) : jv_null());
		row = json_set(row, "last_error", field(in, "last_error", "null"));
		row = json_set(row, "inserted_at", json_get(in, "inserted_at"));
		row = json_set(row, "updated_at", json_get(in, "updated_at"));
		a->row = row;
		size_t n = 0;
		free(json_dump(row, &n));
		if (n > AGENT_MAX_BYTES)
			rc = err_set("the agent is %zu bytes, over %d KiB", n, AGENT_MAX_BYTES / 1024),
			failed(f, NULL);
	}
	jv_free(ab);
	jv_free(rs);
	jv_free(rp);
	return rc || f->n ? -1 : 0;
}

int agent_check(jv in, const struct agent_lookup *lk, struct agent *a)
{
	struct found f = { .errors = jv_invalid() };
	return check(in, lk, a, &f);
}

jv agent_errors(jv in, const struct agent_lookup *lk)
{
	struct found f = { .errors = jv_array() };
	struct agent a;
	check(in, lk, &a, &f);
	agent_free(&a);
	return f.errors;
}

static const char *const json_cols[] = { "llm_config", "prompts", "abilities",
	                                 "responsibilities", "retry_policy", NULL };

jv agent_row_object(jv row)
{
	static const char *const order[] = { "id", "name", "status", "llm_config", "prompts",
		                             "abilities", "responsibilities", "retry_policy",
		                             "concurrency", "last_error", "inserted_at",
		                             "updated_at", NULL };
	jv out = jv_object();
	for (int i = 0; order[i]; i++) {
		jv v = json_get(row, order[i]);
		for (int j = 0; json_cols[j]; j++)
			if (!strcmp(order[i], json_cols[j]) && jv_get_kind(v) == JV_KIND_STRING) {
				jv p = jv_parse(jv_string_value(v));
				if (jv_is_valid(p)) {
					jv_free(v);
					v = p;
				} else {
					jv_free(p);
				}
			}
		out = json_set(out, order[i], v);
	}
	return out;
}

int agent_from_row(jv row, const struct agent_lookup *lk, struct agent *a)
{
	memset(a, 0, sizeof *a);
	a->row = a->llm = a->prompts = jv_null();
	jv in = jv_object();
	static const char *const plain[] = { "id", "name", "status", "concurrency", "last_error",
		                             "inserted_at", "updated_at", NULL };
	for (int i = 0; plain[i]; i++)
		in = json_set(in, plain[i], json_get(row, plain[i]));
	for (int i = 0; json_cols[i]; i++) {
		const char *text = json_str(row, json_cols[i], NULL);
		jv v = text ? json_parse(text, strlen(text)) : jv_invalid();
		if (!jv_is_valid(v)) {
			char why[200];
			json_error_text(v, why, sizeof why);
			jv_free(in);
			return err_set("%s: not JSON: %s", json_cols[i], text ? why : "missing");
		}
		in = json_set(in, json_cols[i], v);
	}
	int rc = agent_check(in, lk, a);
	jv_free(in);
	if (rc == 0)
		snprintf(a->id, sizeof a->id, "%s", json_str_or(row, "id", ""));
	return rc;
}

jv agent_columns(const struct agent *a)
{
	jv c = jv_copy(a->row);
	for (int i = 0; json_cols[i]; i++) {
		jv v = json_get(c, json_cols[i]);
		size_t n;
		char *text = json_dump(v, &n);
		jv_free(v);
		c = json_set(c, json_cols[i], text ? jv_string_sized(text, (int)n) : jv_invalid());
		free(text);
	}
	return c;
}

void agent_free(struct agent *a)
{
	jv_free(a->row);
	jv_free(a->llm);
	jv_free(a->prompts);
	for (int i = 0; i < a->nabilities; i++)
		free(a->abilities[i]);
	free(a->abilities);
	for (int i = 0; i < a->nresp; i++)
		agenti_resp_free(&a->resp[i]);
	free(a->resp);
	memset(a, 0, sizeof *a);
	a->row = a->llm = a->prompts = jv_null();
}

const struct resp *agent_resp(const struct agent *a, const char *name)
{
	for (int i = 0; i < a->nresp; i++)
		if (!strcmp(a->resp[i].name, name))
			return &a->resp[i];
	for (int i = 0; i < a->nresp; i++)
		if (!strcmp(a->resp[i].trigger, name))
			return &a->resp[i];
	return NULL;
}
