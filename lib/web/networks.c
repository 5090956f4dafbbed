/* networks: the networks page (DESIGN.md §6): each network with its
 * runner's status (not running, idle, invoking, waiting and when the
 * next invocation is due, lockout and its seconds left) and a prompt box
 * that starts a run, refused during the lockout as the runner refuses it.
 *   GET  /networks                   the page
 *   POST /networks/NAME/prompt       the prompt box (form: prompt, csrf)
 *   GET  /api/networks[/NAME]        the records panic-net prints, with
 *                                    "status" as panic-loop --status
 *   POST /api/networks/NAME/prompt   {"input": PROMPT}
 *   GET  /api/events/networks        the statuses as they change (SSE,
 *                                    netlive.h), for the page's script
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"
#include "state/db.h"
#include "state/loop.h"
#include "web/html.h"
#include "web/netlive.h"
#include "web/serveri.h"

#define PROMPT_MAX 65536

static jv with_status(struct web_req *req, jv net)
{
	jv st = loop_status(req->db, net, time_now_ms());
	return json_set(net, "status", jv_is_valid(st) ? st : jv_null());
}

static int collect(jv net, void *ctx)
{
	jv *all = ctx;
	*all = jv_array_append(*all, net);
	return 0;
}

/* The networks as this thread read them last, for a generation of the
 * state file (the runners' notes are read every time: they are not in
 * it). */
static __thread long kept_gen = -1;
static __thread jv kept_nets;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void kept_free(void *p)
{
	(void)p;
	if (kept_gen >= 0)
		jv_free(kept_nets);
	kept_gen = -1;
}

static void kept_init(void)
{
	pthread_key_create(&kept_key, kept_free);
}

static jv all_networks(struct web_req *req)
{
	long gen = web_db_gen(req);
	jv all;
	if (kept_gen == gen) {
		all = jv_copy(kept_nets);
	} else {
		all = jv_array();
		if (db_net_list(req->db, collect, &all) < 0) {
			jv_free(all);
			return jv_invalid();
		}
		pthread_once(&kept_once, kept_init);
		pthread_setspecific(kept_key, &kept_gen);
		if (kept_gen >= 0)
			jv_free(kept_nets);
		kept_nets = jv_copy(all);
		kept_gen = gen;
	}
	jv out = jv_array();
	jv_array_foreach(all, i, net)
		out = jv_array_append(out, with_status(req, net));
	jv_free(all);
	return out;
}

/* The network named by REST up to the next '/' (or its end), or answers
 * 404 and returns jv_null(); jv_invalid() on a state error. */
static jv named(struct web_req *req, const char **after)
{
	size_t n = strcspn(req->rest, "/");
	char name[256];
	if (!n || n >= sizeof name) {
		web_error(req, 404, "no such network");
		return jv_null();
	}
	memcpy(name, req->rest, n);
	name[n] = 0;
	*after = req->rest + n;
	jv net = db_net_get(req->db, name);
	if (jv_get_kind(net) == JV_KIND_NULL)
		web_error(req, 404, "no network '%s'", name);
	return net;
}

/* ---- the status in words ---- */

static double num(jv o, const char *k, double def)
{
	jv v = json_get(o, k);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;
	jv_free(v);
	return d;
}

static void status_words(struct html *h, jv st)
{
	const char *state = json_str_or(st, "state", "unknown");
	html_puts(h, "<span class=\"status ");
	html_esc(h, state);
	html_puts(h, "\">");
	html_esc(h, state);
	if (!strcmp(state, "invoking") && json_has(st, "seq"))
		html_printf(h, " #%.0f", num(st, "seq", 0));
	if (json_has(st, "next_in_ms"))
		html_printf(h, ", next in %.1f s", num(st, "next_in_ms", 0) / 1000);
	html_puts(h, "</span>");
	if (num(st, "lockout_seconds_left", 0) > 0)
		html_printf(h, " <span class=lockout>lockout: %.0f s left</span>",
		            num(st, "lockout_seconds_left", 0));
}

static void row(struct web_req *req, struct html *h, jv net)
{
	const char *name = json_str_or(net, "name", "");
	char *enc = NULL;
	size_t el = 0;
	FILE *f = open_memstream(&enc, &el);
	for (const unsigned char *p = (const unsigned char *)name; f && *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	if (f)
		fclose(f);
	const char *e = enc ? enc : "";
	html_puts(h, "<tr data-network=\"");
	html_esc(h, name);
	html_puts(h, "\"><td class=name>");
	html_esc(h, name);
	html_puts(h, "</td><td class=models>");
	jv models = json_get(net, "models");
	if (jv_get_kind(models) == JV_KIND_ARRAY)
		jv_array_foreach(models, i, m) {
			if (i)
				html_puts(h, " → ");
			html_esc(h, jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
			jv_free(m);
		}
	jv_free(models);
	html_printf(h, "</td><td class=lockout-s>%.0f s</td><td class=state>", num(net, "lockout_seconds", 0));
	jv st = json_get(net, "status");
	status_words(h, st);
	jv_free(st);
	html_puts(h, "</td><td class=links><a href=\"/display/");
	html_esc(h, e);
	html_puts(h, "/grid?rows=2&amp;cols=3\">grid</a> <a href=\"/display/");
	html_esc(h, e);
	html_puts(h, "/single?offset=0&amp;stride=1\">single</a></td><td>"
	             "<form method=post class=prompt action=\"/networks/");
	html_esc(h, e);
	html_puts(h, "/prompt\"><input type=hidden name=csrf value=\"");
	html_esc(h, web_csrf(req));
	html_puts(h, "\"><input name=prompt required placeholder=\"a prompt\" aria-label=\"prompt for ");
	html_esc(h, name);
	html_puts(h, "\"><button>start</button></form></td></tr>\n");
	free(enc);
}

static int page_with(struct web_req *req, int status, const char *message, const char *klass)
{
	jv all = all_networks(req);
	if (!jv_is_valid(all))
		return web_error(req, 500, "state: %s", err_msg());
	struct html rows, msg, h;
	html_init(&rows);
	html_init(&msg);
	html_init(&h);
	jv_array_foreach(all, i, net) {
		row(req, &rows, net);
		jv_free(net);
	}
	jv_free(all);
	if (message) {
		html_printf(&msg, "<p class=\"%s\">", klass);
		html_esc(&msg, message);
		html_puts(&msg, "</p>");
	}
	const char *vars[] = { "rows", rows.s ? rows.s : "", "message", msg.s ? msg.s : "", NULL };
	int rc = html_template(req, &h, "networks.html", vars);
	if (rc == 0)
		rc = h.oom || rows.oom ? err_set("out of memory") : web_reply_html(req, status, h.s, h.n);
	html_free(&rows);
	html_free(&msg);
	html_free(&h);
	return rc;
}

static int page(struct web_req *req)
{
	const char *started = web_arg(req, "started");
	char m[400];
	if (started)
		snprintf(m, sizeof m, "started a run of %.300s", started);
	return page_with(req, 200, started ? m : NULL, "ok");
}

static int api_list(struct web_req *req)
{
	if (!strcmp(req->path, "/api/networks")) {
		jv all = all_networks(req);
		if (!jv_is_valid(all))
			return web_error(req, 500, "state: %s", err_msg());
		return web_reply_json(req, 200, all);
	}
	const char *after;
	jv net = named(req, &after);
	if (!jv_is_valid(net))
		return web_error(req, 500, "state: %s", err_msg());
	if (jv_get_kind(net) == JV_KIND_NULL)
		return 0;
	if (*after) {
		jv_free(net);
		if (!strcmp(after, "/prompt"))
			return web_not_allowed(req, "POST");
		return web_error(req, 404, "not found");
	}
	return web_reply_json(req, 200, with_status(req, net));
}

/* ---- starting a run ---- */

/* Starts a run of TEXT on NET, as a prompt to its runner: the status code
 * and the record to answer with (*OUT). */
static int start(struct web_req *req, jv net, const char *text, jv *out)
{
	const char *name = json_str_or(net, "name", "");
	jv st = loop_status(req->db, net, time_now_ms());
	if (!jv_is_valid(st)) {
		*out = json_set(jv_object(), "error", jv_string(err_msg()));
		return 500;
	}
	const char *state = json_str_or(st, "state", "");
	if (!strcmp(state, "not running")) {
		jv_free(st);
		*out = json_set(jv_object(), "error",
		                jv_string_fmt("network '%s' has no runner (start one: panic-loop %s)",
		                              name, name));
		return 503;
	}
	if (num(st, "lockout_seconds_left", 0) > 0) { /* the runner's refusal */
		jv r = json_set(jv_object(), "type", jv_string("lockout"));
		r = json_set(r, "network", jv_string(name));
		r = json_set(r, "run_id", json_get(st, "run_id"));
		r = json_set(r, "prompt", jv_string(text));
		r = json_set(r, "seconds_left", json_get(st, "lockout_seconds_left"));
		jv_free(st);
		*out = r;
		return 409;
	}
	jv_free(st);
	struct web_server *s = req->srv;
	if (!s->bus) {
		*out = json_set(jv_object(), "error", jv_string("the server runs without a bus"));
		return 503;
	}
	char topic[300];
	snprintf(topic, sizeof topic, "prompt:%s", name);
	jv data = json_set(jv_object(), "input", jv_string(text));
	pthread_mutex_lock(&s->bus_mu);
	int n = bus_check_topic(topic, strlen(topic)) < 0 ? -1 : bus_publish(s->bus, topic, data, req->db);
	bus_flush(s->bus);
	pthread_mutex_unlock(&s->bus_mu);
	jv_free(data);
	if (n < 0) {
		*out = json_set(jv_object(), "error", jv_string_fmt("bus: %s", err_msg()));
		return 500;
	}
	if (n == 0) {
		*out = json_set(jv_object(), "error",
		                jv_string_fmt("network '%s' has no runner listening (start one: panic-loop %s)",
		                              name, name));
		return 503;
	}
	jv r = json_set(jv_object(), "type", jv_string("prompt"));
	r = json_set(r, "network", jv_string(name));
	*out = json_set(r, "input", jv_string(text));
	return 202;
}

static const char *check_prompt(const char *text)
{
	if (!text)
		return "no prompt";
	if (!*text)
		return "the prompt is empty";
	if (strlen(text) > PROMPT_MAX)
		return "the prompt is too long (at most 65536 bytes)";
	return NULL;
}

static int prompt(struct web_req *req, int api)
{
	const char *after;
	jv net = named(req, &after);
	if (!jv_is_valid(net))
		return web_error(req, 500, "state: %s", err_msg());
	if (jv_get_kind(net) == JV_KIND_NULL)
		return 0;
	if (strcmp(after, "/prompt")) {
		jv_free(net);
		return web_error(req, 404, "not found");
	}
	jv body = jv_null();
	const char *text;
	if (api) {
		body = web_json_body(req);
		if (!jv_is_valid(body)) {
			jv msg = jv_invalid_get_msg(body);
			int rc = web_error(req, 400, "%s",
			                   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "bad body");
			jv_free(msg);
			jv_free(net);
			return rc;
		}
		text = jv_get_kind(body) == JV_KIND_OBJECT ? json_str(body, "input", NULL) : NULL;
		if (!text && jv_get_kind(body) == JV_KIND_OBJECT && !json_has(body, "input"))
			text = NULL;
	} else {
		text = web_form(req, "prompt");
	}
	const char *bad = check_prompt(text);
	if (bad) {
		int rc = api ? web_error(req, 400, "%s%s", bad,
		                         text || !api ? "" : " (\"input\" as a string)")
		             : page_with(req, 400, bad, "error");
		jv_free(body);
		jv_free(net);
		return rc;
	}
	jv out;
	int status = start(req, net, text, &out);
	int rc;
	if (api) {
		rc = web_reply_json(req, status, out);
	} else if (status == 202) {
		char where[600];
		const char *name = json_str_or(net, "name", "");
		size_t w = (size_t)snprintf(where, sizeof where, "/networks?started=");
		for (const unsigned char *p = (const unsigned char *)name; *p && w + 4 < sizeof where; p++)
			w += (size_t)snprintf(where + w, sizeof where - w,
			                      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			                              (*p >= '0' && *p <= '9') || strchr("-._~", *p)
			                          ? "%c" : "%%%02X",
			                      *p);
		jv_free(out);
		rc = web_redirect(req, where);
	} else {
		char m[800];
		if (status == 409)
			snprintf(m, sizeof m, "refused: network '%s' is in its lockout, %.0f s left",
			         json_str_or(net, "name", ""), num(out, "seconds_left", 0));
		else
			snprintf(m, sizeof m, "%s", json_str_or(out, "error", "failed"));
		jv_free(out);
		rc = page_with(req, status, m, "error");
	}
	jv_free(body);
	jv_free(net);
	return rc;
}

static int form_prompt(struct web_req *req)
{
	return prompt(req, 0);
}

static int api_prompt(struct web_req *req)
{
	return prompt(req, 1);
}

static int events(struct web_req *req)
{
	return netlive_join(req->srv->netlive, req);
}

const struct web_route web_networks_routes[] = {
	{ "GET", "/networks", page, 0 },
	{ "POST", "/networks/", form_prompt, 0 },
	{ "GET", "/api/networks", api_list, 0 },
	{ "GET", "/api/networks/", api_list, 0 },
	{ "POST", "/api/networks/", api_prompt, 0 },
	{ "GET", "/api/events/networks", events, 0 },
	{ 0 },
};
