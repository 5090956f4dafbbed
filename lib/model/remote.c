/* remote: request building, keys, answers and jq for the HTTP platforms;
 * see remote.h. */
#include <jq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/keys.h"
#include "http/http.h"
#include "http/url.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/remote.h"

const char *remote_str(const struct call *c, const char *key, const char *def)
{
	return json_str_or(c->model->entry, key, def);
}

const char *remote_name(const struct call *c)
{
	const char *id = c->model->id, *pf = c->model->platform->name;
	size_t n = strlen(pf);
	if (!strncmp(id, pf, n) && id[n] == ':')
		id += n + 1;
	return remote_str(c, "model", id);
}

int remote_check(jv entry)
{
	static const char *const strs[] = { "model", "base_url", "key_env", "output_jq",
	                                    "request_jq", "prompt", "system", "max_tokens_field" };
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		jv v = json_get(entry, strs[i]);
		int ok = !jv_is_valid(v) || jv_get_kind(v) == JV_KIND_STRING;
		jv_free(v);
		if (!ok)
			return err_set("\"%s\" must be a string", strs[i]);
	}
	const char *base = json_str(entry, "base_url", NULL);
	if (base && url_check(base) < 0)
		return err_set("\"base_url\": %s", err_msg());
	jv t = json_get(entry, "timeout_ms");
	int ok = !jv_is_valid(t) || (jv_get_kind(t) == JV_KIND_NUMBER && jv_number_value(t) > 0);
	jv_free(t);
	if (!ok)
		return err_set("\"timeout_ms\" must be a positive number");
	static const char *const flags[] = { "allow_http_key", "strict" };
	for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
		jv a = json_get(entry, flags[i]);
		ok = !jv_is_valid(a) || jv_get_kind(a) == JV_KIND_TRUE ||
		     jv_get_kind(a) == JV_KIND_FALSE;
		jv_free(a);
		if (!ok)
			return err_set("\"%s\" must be true or false", flags[i]);
	}
	jv price = json_get(entry, "price");
	ok = !jv_is_valid(price) || jv_get_kind(price) == JV_KIND_OBJECT;
	jv_free(price);
	return ok ? 0 : err_set("\"price\" must be an object");
}

int remote_request(struct call *c, struct http_req *r, const char *base_env,
                   const char *def_base, const char *path, const char *key_env,
                   const char *header, jv body)
{
	const struct call_opts *o = c->opts;
	const char *base = o && o->base_url ? o->base_url : remote_str(c, "base_url", NULL);
	if (!base)
		base = getenv(base_env);
	if (!base || !*base)
		base = def_base;
	memset(r, 0, sizeof *r);
	if (url_check(base) < 0) {
		jv_free(body);
		call_fail(c, "config", "%s: base URL: %s", c->model->id, err_msg());
		return -1;
	}
	int bad = jv_get_kind(body) != JV_KIND_NULL && !(r->body = json_dump(body, &r->bodylen));
	jv_free(body);
	if (bad)
		goto nomem;
	if (strstr(path, "://")) {
		/* An address the API gave (a poll URL): the key goes only to the
		 * API's own origin, or a host under it (Replicate streams from
		 * streaming.api.replicate.com). */
		if (url_check(path) < 0 || !url_same_origin(path, base)) {
			http_free(r);
			call_fail(c, "bad_response", "%s: will not send the key to %.200s",
			          c->model->id, path);
			return -1;
		}
		r->url = strdup(path);
	} else {
		r->url = url_join(base, path);
	}
	if (!r->url)
		goto nomem;
	const char *var = o && o->key_env ? o->key_env : remote_str(c, "key_env", key_env);
	const char *key = keys_get(var);
	/* Without a key only a server of one's own (a base URL not the
	 * platform's) may be called; a keys file refused is an error
	 * whatever the server. */
	if (!key && (keys_refused() || !strcmp(base, def_base))) {
		http_free(r);
		call_fail(c, "no_key", "%s", err_msg());
		return -1;
	}
	if (key && !url_is_https(r->url) && !url_is_loopback(r->url) &&
	    !(o && o->allow_http_key) && !remote_flag(c, "allow_http_key")) {
		call_fail(c, "insecure", "%s: will not send the key over plain http to %.120s"
		          " (use https, or --allow-http-key)", c->model->id, r->url);
		http_free(r);
		return -1;
	}
	if (key) {
		char *auth = NULL;
		r->secret = c->secret = key;
		if (!header && asprintf(&auth, "Bearer %s", key) < 0)
			goto nomem;
		int rc = http_header(r, header ? header : "Authorization", header ? key : auth);
		free(auth);
		if (rc < 0)
			goto nomem;
	}
	remote_bound(c, r);
	if (r->body && http_header(r, "Content-Type", "application/json") < 0)
		goto nomem;
	return 0;
nomem:
	http_free(r);
	call_fail(c, "cancelled", "out of memory");
	return -1;
}

void remote_bound(const struct call *c, struct http_req *r)
{
	const struct call_opts *o = c->opts;
	int64_t ms = o && o->attempt_timeout_ms ? o->attempt_timeout_ms : 0;
	if (!ms) {
		jv t = json_get(c->model->entry, "timeout_ms");
		ms = json_int(t, 0, 1, INT32_MAX);
		jv_free(t);
	}
	r->timeout_ms = (int)ms;
	r->deadline = c->deadline;
	r->max_attempts = o ? o->attempts : 0;
}

int remote_flag(const struct call *c, const char *key)
{
	jv v = json_get(c->model->entry, key);
	int on = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	return on;
}

int remote_flag_false(const struct call *c, const char *key)
{
	jv v = json_get(c->model->entry, key);
	int off = jv_get_kind(v) == JV_KIND_FALSE;
	jv_free(v);
	return off;
}

void remote_give_up(struct call *c, const char *kind, const char *why)
{
	call_fail(c, kind, "%s: %s", c->model->id, why);
	c->model->platform->cancel(c);
}

void remote_done(struct call *c, jv output)
{
	const struct call_opts *op = c->opts;
	if (op && jv_get_kind(op->schema) == JV_KIND_OBJECT && c->model->output == MT_TEXT) {
		jv v = jv_parse(jv_string_value(output));
		int ok = jv_is_valid(v);
		jv_free(v);
		if (!ok) {
			jv_free(output);
			remote_give_up(c, "bad_response", "the answer is not the JSON asked for");
			return;
		}
	}
	call_done(c, output);
	c->model->platform->cancel(c);
}

jv remote_answer(struct call *c, struct http_req *r)
{
	char why[400];
	if (r->kind) {
		snprintf(why, sizeof why, "%s", r->msg);
		remote_give_up(c, r->kind, why);
		return jv_invalid();
	}
	jv v = json_parse(r->resp ? r->resp : "", r->resplen);
	http_free(r);
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return v;
	if (jv_is_valid(v))
		snprintf(why, sizeof why, "expected a JSON object, got %s",
		         jv_kind_name(jv_get_kind(v)));
	else
		snprintf(why, sizeof why, "the answer is not JSON");
	jv_free(v);
	remote_give_up(c, "bad_response", why);
	return jv_invalid();
}

jv remote_event(struct http_req *r, const char *data, size_t n)
{
	jv ev = json_parse(data, n);
	if (jv_get_kind(ev) != JV_KIND_OBJECT) {
		jv_free(ev);
		r->kind = "bad_response";
		snprintf(r->msg, sizeof r->msg, "malformed stream chunk: %.60s", data);
		return jv_invalid();
	}
	jv err = json_get(ev, "error");
	if (!jv_is_valid(err) || jv_get_kind(err) == JV_KIND_NULL) {
		jv_free(err);
		return ev;
	}
	jv m = jv_get_kind(err) == JV_KIND_OBJECT ? json_get(err, "message") : jv_copy(err);
	r->kind = "http_5xx";
	snprintf(r->msg, sizeof r->msg, "error in the stream: %s",
	         jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "(no message)");
	jv_free(m);
	jv_free(err);
	jv_free(ev);
	return jv_invalid();
}

jv remote_delta(struct call *c, jv text, jv piece)
{
	size_t n = (size_t)jv_string_length_bytes(jv_copy(piece));
	if (!n) {
		jv_free(piece);
		return text;
	}
	if (c->opts && c->opts->on_delta)
		c->opts->on_delta(c, jv_string_value(piece), n);
	return jv_string_concat(text, piece);
}

/* Whether V (borrowed) is a token count a server could mean: a whole
 * number from 0 to 2^40. Anything else (1e300, -5, 2.5) is not counted. */
static int token_count(jv v)
{
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return 0;
	double d = jv_number_value(v);
	return d >= 0 && d <= 1099511627776.0 && d == (double)(int64_t)d;
}

void remote_tokens_add(struct remote_tokens *t, jv in, jv out)
{
	int a = token_count(in), b = token_count(out);
	t->any |= a || b;
	t->in += a ? (long)jv_number_value(in) : 0;
	t->out += b ? (long)jv_number_value(out) : 0;
	jv_free(in);
	jv_free(out);
}

void remote_tokens_put(const struct remote_tokens *t, struct call *c)
{
	if (!t->any)
		return;
	jv_free(c->usage);
	c->usage = remote_usage(jv_number((double)t->in), jv_number((double)t->out));
}

jv remote_usage(jv in, jv out)
{
	int a = token_count(in), b = token_count(out);
	if (!a && !b) {
		jv_free(in);
		jv_free(out);
		return jv_null();
	}
	jv u = jv_object();
	u = json_set(u, "input_tokens", a ? in : (jv_free(in), jv_number(0)));
	u = json_set(u, "output_tokens", b ? out : (jv_free(out), jv_number(0)));
	return u;
}

/* Compiled jq programs of one model, by entry key. */
struct progs {
	struct prog {
		char *key;
		jq_state *jq;
	} v[4];
	int n;
	char err[200];
};

static void on_jq_error(void *u, jv msg)
{
	struct progs *p = u;
	jv s = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);
	snprintf(p->err, sizeof p->err, "%s", jv_string_value(s));
	jv_free(s);
	jv_free(msg);
}

jv remote_jq(struct model *m, const char *key, jv input)
{
	struct progs *p = m->priv;
	if (!p && !(p = m->priv = calloc(1, sizeof *p))) {
		jv_free(input);
		err_set("out of memory");
		return jv_invalid();
	}
	struct prog *g = NULL;
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].key, key))
			g = &p->v[i];
	if (!g) {
		const char *src = json_str(m->entry, key, NULL);
		if (!src || p->n == 4) {
			jv_free(input);
			err_set("no jq program \"%s\"", key);
			return jv_invalid();
		}
		g = &p->v[p->n];
		g->jq = jq_init();
		g->key = strdup(key);
		if (!g->jq || !g->key) {
			jv_free(input);
			err_set("out of memory");
			return jv_invalid();
		}
		p->n++;
		jq_set_error_cb(g->jq, on_jq_error, p);
		p->err[0] = 0;
		if (!jq_compile(g->jq, src)) {
			jq_teardown(&g->jq);
			g->jq = NULL;
		}
	}
	if (!g->jq) {
		jv_free(input);
		err_set("\"%s\" does not compile%s%s", key, *p->err ? ": " : "", p->err);
		return jv_invalid();
	}
	jq_start(g->jq, input, 0);
	jv v = jq_next(g->jq);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		if (jv_get_kind(msg) == JV_KIND_STRING)
			err_set("\"%s\": %s", key, jv_string_value(msg));
		else
			err_set("\"%s\" gave no result", key);
		jv_free(msg);
		return jv_invalid();
	}
	return v;
}

void remote_model_free(struct model *m)
{
	struct progs *p = m->priv;
	for (int i = 0; p && i < p->n; i++) {
		if (p->v[i].jq)
			jq_teardown(&p->v[i].jq);
		free(p->v[i].key);
	}
	free(p);
	m->priv = NULL;
}

char *remote_base64(const char *s, size_t n)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
	if (!o)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*q++ = t[v >> 18];
		*q++ = t[v >> 12 & 63];
		*q++ = t[v >> 6 & 63];
		*q++ = t[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		*q++ = t[v >> 18];
		*q++ = t[v >> 12 & 63];
		*q++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*q++ = '=';
	}
	*q = 0;
	return o;
}
