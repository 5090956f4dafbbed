/* agents: Arboretum's admin (DESIGN.md §6, issue 15): the agents table
 * read and changed as agent-ctl does it (lib/agent/admin.h), with the same
 * checks; every change published on agents:changed.
 *   GET  /agents                     every agent: status, live state,
 *                                    abilities, responsibilities, last error
 *   GET  /agents/new, POST /agents/new     create (agentform.c)
 *   GET  /agents/NAME                the agent, its live status, its form
 *   POST /agents/NAME                save the form: errors next to fields
 *   POST /agents/NAME/activate, /deactivate
 *   GET  /api/agents[/NAME]          agent-ctl list's and show's records
 *   GET  /api/agents/NAME/status     agent-ctl status's record
 *   POST /api/agents                 create from a JSON object
 *   POST /api/agents/NAME            change: the object's fields replace
 *                                    the agent's (as agent-ctl set --fields)
 *   POST /api/agents/NAME/activate, /deactivate
 * A refused change answers 422 with {"error": the first, "errors": every
 * field's [{field, message}]}.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "agent/admin.h"
#include "agent/world.h"
#include "base/err.h"
#include "bus/bus.h"
#include "json/json.h"
#include "state/db.h"
#include "web/agentform.h"
#include "web/html.h"
#include "web/serveri.h"

/* The agent name of REST (up to '/') into NAME, what follows into *AFTER;
 * -1 if it is not a name. */
static int name_of(struct web_req *req, char name[static AGENT_NAME_MAX + 1], const char **after)
{
	size_t n = strcspn(req->rest, "/");
	if (!n || n > AGENT_NAME_MAX)
		return -1;
	memcpy(name, req->rest, n);
	name[n] = 0;
	*after = req->rest + n;
	return agent_name_ok(name) ? 0 : -1;
}

static void put_list(struct html *h, jv v)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY || !jv_array_length(jv_copy(v))) {
		html_puts(h, "<span class=meta>none</span>");
		return;
	}
	jv_array_foreach(v, i, x)
	{
		jv t = jv_get_kind(x) == JV_KIND_STRING ? x : jv_dump_string(x, 0);
		html_puts(h, i ? "<br><code>" : "<code>");
		html_esc(h, jv_string_value(t));
		html_puts(h, "</code>");
		jv_free(t);
	}
}

static void button(struct web_req *req, struct html *h, const char *name, const char *what)
{
	html_puts(h, "<form method=post class=inline action=\"/agents/");
	html_esc(h, name);
	html_printf(h, "/%s\"><input type=hidden name=csrf value=\"", what);
	html_esc(h, web_csrf(req));
	html_printf(h, "\"><button>%s</button></form>", what);
}

struct rows {
	struct web_req *req;
	struct html *h;
	int n;
};

static int row(jv a, void *ctx)
{
	struct rows *r = ctx;
	struct html *h = r->h;
	const char *name = json_str_or(a, "name", "");
	jv st = agent_status(r->req->db, a);
	html_puts(h, "<tr><td class=name><a href=\"/agents/");
	html_esc(h, name);
	html_puts(h, "\">");
	html_esc(h, name);
	html_puts(h, "</a></td><td class=status>");
	html_esc(h, json_str_or(a, "status", ""));
	html_puts(h, "</td><td class=state>");
	html_esc(h, json_str_or(st, "state", ""));
	html_puts(h, "</td><td>");
	jv ab = json_get(a, "abilities"), rs = json_get(a, "responsibilities");
	put_list(h, ab);
	html_puts(h, "</td><td>");
	put_list(h, rs);
	html_puts(h, "</td><td class=error>");
	html_esc(h, json_str_or(a, "last_error", ""));
	html_puts(h, "</td><td>");
	button(r->req, h, name,
	       strcmp(json_str_or(a, "status", ""), "active") ? "activate" : "deactivate");
	html_puts(h, "</td></tr>\n");
	jv_free(ab);
	jv_free(rs);
	jv_free(st);
	jv_free(a);
	r->n++;
	return 0;
}

static int reply_page(struct web_req *req, int status, const char *title, const char *body)
{
	struct html h;
	html_init(&h);
	const char *vars[] = { "title", title, "body", body ? body : "", NULL };
	int rc = html_template(req, &h, "agents.html", vars);
	if (rc == 0)
		rc = h.oom ? err_set("out of memory") : web_reply_html(req, status, h.s, h.n);
	html_free(&h);
	return rc;
}

static int list_page(struct web_req *req)
{
	struct html h;
	html_init(&h);
	const char *done = web_arg(req, "done");
	if (done && (!strcmp(done, "activated") || !strcmp(done, "deactivated") ||
	             !strcmp(done, "deleted"))) {
		const char *who = web_arg(req, "agent");
		html_puts(&h, "<p class=ok role=status>");
		html_esc(&h, who ? who : "");
		html_printf(&h, " %s</p>\n", done);
	}
	html_puts(&h,
	          "<p><a href=\"/agents/new\">new agent</a></p>\n<table class=agents><thead><tr>"
	          "<th>name</th><th>status</th><th>state</th><th>abilities</th>"
	          "<th>responsibilities</th><th>last error</th><th></th></tr></thead><tbody>\n");
	struct rows r = { req, &h, 0 };
	if (agent_list(req->db, row, &r) < 0) {
		html_free(&h);
		return web_error(req, 500, "state: %s", err_msg());
	}
	html_puts(&h, "</tbody></table>\n");
	if (!r.n)
		html_puts(&h, "<p class=meta>No agents yet.</p>\n");
	int rc = h.oom ? err_set("out of memory") : reply_page(req, 200, "Agents", h.s);
	html_free(&h);
	return rc;
}

/* The page of agent A (null: a new one), its form showing VALUES and
 * ERRORS. */
static int agent_page(struct web_req *req, int status, jv a, jv values, jv errors,
                      const char *message)
{
	struct html h;
	html_init(&h);
	int is_new = jv_get_kind(a) != JV_KIND_OBJECT;
	const char *name = is_new ? "" : json_str_or(a, "name", "");
	if (message) {
		html_puts(&h, "<p class=ok role=status>");
		html_esc(&h, message);
		html_puts(&h, "</p>\n");
	}
	char action[AGENT_NAME_MAX + 16];
	snprintf(action, sizeof action, "/agents/%s", is_new ? "new" : name);
	if (!is_new) {
		jv st = agent_status(req->db, a);
		html_puts(&h, "<h2>live status</h2>\n<table class=status><tbody>\n");
		jv_object_foreach(st, k, v)
		{
			html_puts(&h, "<tr><th>");
			html_esc(&h, jv_string_value(k));
			html_puts(&h, "</th><td>");
			jv t = jv_get_kind(v) == JV_KIND_STRING ? v : jv_dump_string(v, 0);
			html_esc(&h, jv_string_value(t));
			html_puts(&h, "</td></tr>\n");
			jv_free(t);
			jv_free(k);
		}
		html_puts(&h, "</tbody></table>\n<p>");
		jv_free(st);
		button(req, &h, name,
		       strcmp(json_str_or(a, "status", ""), "active") ? "activate" : "deactivate");
		html_puts(&h, "</p>\n<p class=meta>id ");
		html_esc(&h, json_str_or(a, "id", ""));
		html_puts(&h, ", inserted ");
		html_esc(&h, json_str_or(a, "inserted_at", ""));
		html_puts(&h, ", updated ");
		html_esc(&h, json_str_or(a, "updated_at", ""));
		html_puts(&h, "</p>\n<h2>edit</h2>\n");
	}
	agentform_put(req, &h, action, a, values, errors);
	char title[AGENT_NAME_MAX + 16];
	snprintf(title, sizeof title, is_new ? "New agent" : "Agent %s", name);
	int rc = h.oom ? err_set("out of memory") : reply_page(req, status, title, h.s);
	html_free(&h);
	return rc;
}

/* The agent NAME, or answers 404 (jv_null()) or 500 (jv_invalid()). */
static jv find(struct web_req *req, const char *name)
{
	jv a = agent_get(req->db, name);
	if (!jv_is_valid(a))
		web_error(req, 500, "state: %s", err_msg());
	else if (jv_get_kind(a) == JV_KIND_NULL)
		web_error(req, 404, "no agent '%s'", name);
	return a;
}

/* Checks and stores IN (create or update), publishing the change: the
 * stored agent, or jv_invalid() with *ERRORS. */
static jv save(struct web_req *req, jv in, int create, jv *errors)
{
	struct agent_world w;
	struct web_server *s = req->srv;
	if (agent_world_init(&w, NULL, 0, s->cfg.cat) < 0) {
		*errors = json_set(json_set(jv_object(), "field", jv_null()), "message",
		                   jv_string(err_msg()));
		*errors = jv_array_append(jv_array(), *errors);
		return jv_invalid();
	}
	jv o = agent_save(req->db, NULL, &w.lk, in, create, errors);
	agent_world_free(&w);
	if (jv_is_valid(o) && s->bus) {
		pthread_mutex_lock(&s->bus_mu);
		agent_publish_changed(s->bus, req->db, create ? "created" : "updated", o);
		bus_flush(s->bus);
		pthread_mutex_unlock(&s->bus_mu);
	}
	return o;
}

/* ERRORS (of fields of the form that do not parse) with the errors of
 * the other fields of IN. */
static jv more_errors(struct web_req *req, jv in, jv errors)
{
	struct agent_world w;
	if (agent_world_init(&w, NULL, 0, req->srv->cfg.cat) < 0)
		return errors;
	jv more = agent_errors(in, &w.lk);
	agent_world_free(&w);
	jv_array_foreach(more, i, e)
	{
		int seen = 0;
		const char *f = json_str_or(e, "field", "");
		jv_array_foreach(errors, k, x)
		{
			seen |= !strcmp(json_str_or(x, "field", ""), f);
			jv_free(x);
		}
		errors = seen ? errors : jv_array_append(errors, jv_copy(e));
		jv_free(e);
	}
	jv_free(more);
	return errors;
}

/* 1 if AFTER (what follows an agent's name) is an action only a POST does. */
static int post_only(const char *after)
{
	return !strcmp(after, "/activate") || !strcmp(after, "/deactivate");
}

static int get(struct web_req *req)
{
	char name[AGENT_NAME_MAX + 1];
	const char *after;
	if (!strcmp(req->rest, "new"))
		return agent_page(req, 200, jv_null(), jv_null(), jv_null(), NULL);
	int ok = name_of(req, name, &after) == 0;
	if (ok && post_only(after))
		return web_not_allowed(req, "POST");
	if (!ok || *after)
		return web_error(req, 404, "not found");
	jv a = find(req, name);
	if (jv_get_kind(a) != JV_KIND_OBJECT)
		return 0;
	int rc = agent_page(req, 200, a, jv_null(), jv_null(),
	                    web_arg(req, "saved") ? "saved" : NULL);
	jv_free(a);
	return rc;
}

/* POST /agents/new, /agents/NAME[/activate|/deactivate], and their /api twins. */
static int change(struct web_req *req, int api)
{
	char name[AGENT_NAME_MAX + 1] = "";
	const char *after = "";
	int create = api ? !strcmp(req->path, "/api/agents") : !strcmp(req->rest, "new");
	if (!create && (name_of(req, name, &after) < 0 ||
	                (*after && strcmp(after, "/activate") && strcmp(after, "/deactivate"))))
		return web_error(req, 404, "not found");
	jv cur = create ? jv_object() : find(req, name);
	if (jv_get_kind(cur) != JV_KIND_OBJECT)
		return 0;
	jv errors = jv_array(), in;
	if (*after) {
		in = agent_with_status(cur, !strcmp(after, "/activate") ? "active" : "inactive");
	} else if (api) {
		jv body = web_json_body(req);
		if (jv_get_kind(body) != JV_KIND_OBJECT) {
			jv msg = jv_is_valid(body)
			                 ? jv_string("expected a JSON object (an agent's fields)")
			                 : jv_invalid_get_msg(body);
			int rc = web_error(req, 400, "%s",
			                   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
			                                                      : "bad body");
			jv_free(msg);
			jv_free(cur);
			jv_free(errors);
			return rc;
		}
		in = jv_object_merge(jv_object_delete(jv_copy(cur), jv_string("updated_at")), body);
	} else {
		jv_free(errors);
		jv base = jv_object_delete(jv_copy(cur), jv_string("updated_at"));
		in = agentform_read(req, base, &errors);
		jv_free(base);
	}
	jv saved = jv_invalid();
	if (jv_array_length(jv_copy(errors)))
		errors = more_errors(req, in, errors);
	else {
		jv_free(errors);
		errors = jv_array();
		saved = save(req, in, create, &errors);
	}
	int rc;
	if (jv_is_valid(saved)) {
		char where[AGENT_NAME_MAX * 2 + 64];
		const char *n = json_str_or(saved, "name", name);
		if (api)
			rc = web_reply_json(req, create ? 201 : 200, jv_copy(saved));
		else if (*after)
			snprintf(where, sizeof where, "/agents?done=%s&agent=%s",
			         !strcmp(after, "/activate") ? "activated" : "deactivated", n),
				rc = web_redirect(req, where);
		else
			snprintf(where, sizeof where, "/agents/%s?saved=1", n),
				rc = web_redirect(req, where);
	} else {
		jv first = jv_array_length(jv_copy(errors)) ? jv_array_get(jv_copy(errors), 0)
		                                            : jv_null();
		const char *msg = json_str_or(first, "message", "refused");
		if (api) {
			jv r = json_set(jv_object(), "error", jv_string(msg));
			rc = web_reply_json(req, 422, json_set(r, "errors", jv_copy(errors)));
		} else if (*after) {
			rc = web_error(req, 422, "%s: %s", name, msg);
		} else {
			jv values = agentform_values(req);
			rc = agent_page(req, 422, create ? jv_null() : cur, values, errors, NULL);
			jv_free(values);
		}
		jv_free(first);
	}
	jv_free(saved);
	jv_free(errors);
	jv_free(in);
	jv_free(cur);
	return rc;
}

static int form_change(struct web_req *req)
{
	return change(req, 0);
}

static int api_change(struct web_req *req)
{
	return change(req, 1);
}

static int collect(jv a, void *ctx)
{
	jv *all = ctx;
	*all = jv_array_append(*all, a);
	return 0;
}

static int api_get(struct web_req *req)
{
	if (!strcmp(req->path, "/api/agents")) {
		jv all = jv_array();
		if (agent_list(req->db, collect, &all) < 0) {
			jv_free(all);
			return web_error(req, 500, "state: %s", err_msg());
		}
		return web_reply_json(req, 200, all);
	}
	char name[AGENT_NAME_MAX + 1];
	const char *after;
	int ok = name_of(req, name, &after) == 0;
	if (ok && post_only(after))
		return web_not_allowed(req, "POST");
	if (!ok || (*after && strcmp(after, "/status")))
		return web_error(req, 404, "not found");
	jv a = find(req, name);
	if (jv_get_kind(a) != JV_KIND_OBJECT)
		return 0;
	if (!*after)
		return web_reply_json(req, 200, a);
	jv st = agent_status(req->db, a);
	jv_free(a);
	return web_reply_json(req, 200, st);
}

const struct web_route web_agents_routes[] = {
	{ "GET", "/agents", list_page, 0 },        { "GET", "/agents/", get, 0 },
	{ "POST", "/agents/", form_change, 0 },    { "GET", "/api/agents", api_get, 0 },
	{ "GET", "/api/agents/", api_get, 0 },     { "POST", "/api/agents", api_change, 0 },
	{ "POST", "/api/agents/", api_change, 0 }, { 0 },
};
