/* display: the display pages of gallery screens (DESIGN.md §6):
 *   /display/NET/grid?rows=R&cols=C
 *   /display/NET/single?offset=O&stride=S&show_invoking=1
 * the same slots and rules as panic-watch (lib/display); the page holds
 * the display as it is, and its script follows
 *   /api/display/NET/grid/events?... (Server-Sent Events, hub.h)
 * while /api/display/NET/grid?... is the same display as JSON. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "display/display.h"
#include "json/json.h"
#include "state/db.h"
#include "web/html.h"
#include "web/hub.h"
#include "web/serveri.h"

/* REST is "NET/MODE" or "NET/MODE/events": the network, the spec from
 * the query, and whether it is the event stream. 0, or -1 after
 * answering. */
static int parse(struct web_req *req, jv *net, struct display_spec *spec, int *events)
{
	const char *slash = strchr(req->rest, '/');
	if (!slash || slash == req->rest || slash - req->rest > 255) {
		web_error(req, 404, "expected /display/NETWORK/grid or /display/NETWORK/single");
		return -1;
	}
	char name[256];
	memcpy(name, req->rest, (size_t)(slash - req->rest));
	name[slash - req->rest] = 0;
	const char *mode = slash + 1;
	*events = 0;
	size_t ml = strcspn(mode, "/");
	if (mode[ml]) {
		if (strcmp(mode + ml, "/events") || strncmp(req->path, "/api/", 5)) {
			web_error(req, 404, "not found");
			return -1;
		}
		*events = 1;
	}
	char text[64];
	long a, b, show = 0;
	int rc;
	if (ml == 4 && !strncmp(mode, "grid", 4)) {
		if (web_arg_long(req, "rows", 2, 1, DISPLAY_MAX_SIDE, &a) < 0 ||
		    web_arg_long(req, "cols", 3, 1, DISPLAY_MAX_SIDE, &b) < 0) {
			web_error(req, 400, "%s", err_msg());
			return -1;
		}
		snprintf(text, sizeof text, "%ldx%ld", a, b);
		rc = display_parse_grid(text, spec);
	} else if (ml == 6 && !strncmp(mode, "single", 6)) {
		if (web_arg_long(req, "offset", 0, 0, DISPLAY_MAX_STRIDE - 1, &a) < 0 ||
		    web_arg_long(req, "stride", 1, 1, DISPLAY_MAX_STRIDE, &b) < 0 ||
		    web_arg_long(req, "show_invoking", 0, 0, 1, &show) < 0) {
			web_error(req, 400, "%s", err_msg());
			return -1;
		}
		snprintf(text, sizeof text, "%ld/%ld", a, b);
		rc = display_parse_single(text, spec, (int)show);
	} else {
		web_error(req, 404, "no display '%.*s' (grid or single)", (int)(ml > 40 ? 40 : ml),
		          mode);
		return -1;
	}
	if (rc < 0) {
		web_error(req, 400, "%s", err_msg());
		return -1;
	}
	*net = db_net_get(req->db, name);
	if (!jv_is_valid(*net))
		return web_error(req, 500, "state: %s", err_msg()), -1;
	if (jv_get_kind(*net) == JV_KIND_NULL) {
		web_error(req, 404, "no network '%s'", name);
		return -1;
	}
	return 0;
}

/* 1 if URL may be an image's or a player's source. */
static int media_url(const char *url, const char *kind)
{
	if (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7))
		return 1;
	char data[32];
	snprintf(data, sizeof data, "data:%s/", kind);
	return !strncmp(url, data, strlen(data));
}

/* One slot as HTML, as display.js draws it. */
static void slot_html(struct html *h, jv v)
{
	const char *kind = json_str_or(v, "kind", "empty"), *text = json_str_or(v, "text", "");
	html_printf(h, "<div class=\"slot %s\">", strcmp(kind, "empty") ? kind : "empty");
	if (strcmp(kind, "empty")) {
		jv seq = json_get(v, "seq");
		html_printf(h, "<div class=head>#%ld ", (long)json_int(seq, 0, 0, 1L << 52));
		jv_free(seq);
		html_esc(h, json_str_or(v, "model", ""));
		html_puts(h, " <span class=state>");
		html_esc(h, json_str_or(v, "state", ""));
		html_puts(h, "</span></div><div class=body>");
		if (!strcmp(kind, "image") && media_url(text, "image")) {
			html_puts(h, "<img alt=\"\" src=\"");
			html_esc(h, text);
			html_puts(h, "\">");
		} else if (!strcmp(kind, "audio") && media_url(text, "audio")) {
			html_puts(h, "<audio controls autoplay src=\"");
			html_esc(h, text);
			html_puts(h, "\"></audio>");
		} else {
			html_puts(h, "<p>");
			html_esc(h, text);
			html_puts(h, "</p>");
		}
		html_puts(h, "</div>");
	}
	html_puts(h, "</div>");
}

/* What this thread made last, per display: served again while the state
 * file has not changed. */
#define KEPT 8
static __thread struct {
	char key[320];
	long gen;
	int json;
	char *body;
	size_t n;
} kept[KEPT];
static __thread int kept_next;

static int keep(int json, const char *key, long gen, const char *body, size_t n)
{
	int i = kept_next++ % KEPT;
	free(kept[i].body);
	kept[i].body = malloc(n);
	if (kept[i].body) {
		memcpy(kept[i].body, body, n);
		kept[i].n = n;
		kept[i].gen = gen;
		kept[i].json = json;
		snprintf(kept[i].key, sizeof kept[i].key, "%s", key);
	}
	return 0;
}

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void kept_free(void *p)
{
	(void)p;
	for (int i = 0; i < KEPT; i++) {
		free(kept[i].body);
		kept[i].body = NULL;
	}
}

static void kept_init(void)
{
	pthread_key_create(&kept_key, kept_free);
}

static int page(struct web_req *req)
{
	int api = !strncmp(req->path, "/api/", 5);
	/* The answer depends on the path, these arguments and the state file
	 * only: kept per generation of the state file. */
	char key[320];
	const char *a[] = { "rows", "cols", "offset", "stride", "show_invoking" };
	int k = snprintf(key, sizeof key, "%s", req->path);
	for (int i = 0; i < 5 && k < (int)sizeof key; i++) {
		const char *v = web_arg(req, a[i]);
		k += snprintf(key + k, sizeof key - (size_t)k, "&%.40s", v ? v : "-");
	}
	int cacheable = k < (int)sizeof key && strcmp(req->path + strlen(req->path) - 7, "/events");
	long gen = 0;
	if (cacheable) {
		pthread_once(&kept_once, kept_init);
		pthread_setspecific(kept_key, kept); /* so that the thread's exit frees them */
		gen = web_db_gen(req);
		for (int i = 0; i < KEPT; i++)
			if (kept[i].body && kept[i].gen == gen && !strcmp(kept[i].key, key))
				return web_reply(req, 200,
				                 api ? "application/json" : "text/html; charset=utf-8",
				                 kept[i].body, kept[i].n);
	}
	jv net;
	struct display_spec spec;
	int events;
	if (parse(req, &net, &spec, &events) < 0)
		return 0;
	const char *name = json_str(net, "name", NULL), *id = json_str(net, "id", NULL);
	if (events) {
		int rc = hub_join(req->srv->hub, req, name, id, &spec);
		jv_free(net);
		return rc;
	}
	jv snap = hub_snapshot(req, name, id, &spec);
	if (!jv_is_valid(snap)) {
		jv_free(net);
		return web_error(req, 500, "state: %s", err_msg());
	}
	if (api) {
		jv_free(net);
		size_t n;
		char *body = json_dump(snap, &n);
		jv_free(snap);
		if (!body)
			return err_set("out of memory");
		body[n++] = '\n';
		if (cacheable)
			keep(1, key, gen, body, n);
		int rc = web_reply(req, 200, "application/json", body, n);
		free(body);
		return rc;
	}
	struct html slots, h;
	html_init(&slots);
	html_init(&h);
	jv list = json_get(snap, "slots");
	jv_array_foreach(list, i, v) {
		slot_html(&slots, v);
		jv_free(v);
	}
	jv_free(list);
	/* The stream's address: display.js puts /api/display/NET/ before it. */
	char shape[64], stream[128];
	if (spec.mode == DISPLAY_GRID)
		snprintf(shape, sizeof shape, "grid rows-%d cols-%d", spec.rows, spec.cols);
	else
		snprintf(shape, sizeof shape, "single");
	if (spec.mode == DISPLAY_GRID)
		snprintf(stream, sizeof stream, "grid/events?rows=%d&cols=%d", spec.rows, spec.cols);
	else
		snprintf(stream, sizeof stream, "single/events?offset=%ld&stride=%ld&show_invoking=%d",
		         spec.offset, spec.stride, spec.show_invoking);
	const char *prompt = json_str(snap, "prompt", NULL);
	const char *vars[] = { "network", name,      "prompt", prompt ? prompt : "",
		               "shape",   shape,     "stream", stream,
		               "slots",   slots.s ? slots.s : "", NULL };
	int rc = html_template(req, &h, "display.html", vars);
	if (rc == 0 && !h.oom && !slots.oom && cacheable)
		keep(0, key, gen, h.s, h.n);
	if (rc == 0)
		rc = h.oom || slots.oom ? err_set("out of memory") : web_reply_html(req, 200, h.s, h.n);
	html_free(&slots);
	html_free(&h);
	jv_free(snap);
	jv_free(net);
	return rc;
}

const struct web_route web_display_routes[] = {
	{ "GET", "/display/", page, 0 },
	{ "GET", "/api/display/", page, 0 },
	{ 0 },
};
