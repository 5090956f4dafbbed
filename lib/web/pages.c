/* pages: every page module's routes, in the order they are tried, and
 * the server's own: the front page, static files, /api/status. A new
 * module adds its table here (lib/web/README.md). */
#include <string.h>

#include "json/json.h"
#include "web/hub.h"
#include "web/serveri.h"
#include "web/sse.h"

extern const struct web_route web_display_routes[];
extern const struct web_route web_networks_routes[];
extern const struct web_route web_runs_routes[];
extern const struct web_route web_agents_routes[];

static int front(struct web_req *req)
{
	return web_redirect(req, "/networks");
}

static int file(struct web_req *req)
{
	return web_static(req, req->rest);
}

static int status(struct web_req *req)
{
	long n = web_streams_open(req->srv) + hub_screens(req->srv->hub);
	jv o = json_set(jv_object(), "streams", jv_number((double)n));
	o = json_set(o, "live", jv_bool(req->srv->hub != NULL));
	return web_reply_json(req, 200, o);
}

static int csrf(struct web_req *req)
{
	return web_reply_json(req, 200, json_set(jv_object(), "csrf", jv_string(web_csrf(req))));
}

static const struct web_route own[] = {
	{ "GET", "/", front, 0 },
	{ "GET", "/static/", file, 0 },
	{ "GET", "/api/status", status, 0 },
	{ "GET", "/api/csrf", csrf, 0 },
	{ 0 },
};

const struct web_route *const web_pages[] = {
	own,
	web_display_routes,
	web_networks_routes,
	web_runs_routes,
	web_agents_routes,
	NULL,
};
