/* route: what a page module of panic-web sees of a request, and how it
 * answers (lib/web/README.md says how to add one).
 *
 * A module is a table of routes, ended by {0}, listed in pages.c. A
 * request goes to the first route whose method matches and whose PREFIX
 * its path starts with (a prefix ending in '/' takes the rest of the path
 * in req->rest; one without must match the whole path). Before a handler
 * runs the server has checked the token (if any), decoded the path (no
 * NUL, valid UTF-8), read the body (at most WEB_BODY_MAX bytes) and, for
 * a POST, the CSRF token unless the route says WEB_NO_CSRF.
 *
 * A handler answers with exactly one web_reply*() (or web_error()) and
 * returns 0; -1 (with err_msg()) makes a 500 with that message. It runs on
 * one of the server's threads: req->db is that thread's own connection to
 * the state file; nothing else in the request outlives the call.
 *
 * jv ownership: web_reply_json() consumes its jv; web_json_body() returns
 * a new one.
 */
#ifndef PANIC_WEB_ROUTE_H
#define PANIC_WEB_ROUTE_H

#include <jv.h>
#include <stddef.h>

#define WEB_BODY_MAX (1 << 20)

struct web_req;
struct web_server;
struct db;

enum { WEB_NO_CSRF = 1 }; /* route flags */

struct web_route {
	const char *method; /* "GET" (also answers HEAD) or "POST" */
	const char *prefix; /* "/display/" or "/api/networks" */
	int (*handler)(struct web_req *req);
	int flags;
};

struct web_req {
	const char *method;
	const char *path;  /* decoded, without the query */
	const char *rest;  /* what follows the route's prefix ("" if none) */
	const char *body;  /* the request body, NUL-terminated, or "" */
	size_t body_len;
	struct db *db;     /* this thread's state file connection */
	struct web_server *srv;
	void *conn;        /* private to lib/web */
	int answered;
};

/* Query argument NAME, or NULL. */
const char *web_arg(struct web_req *req, const char *name);
/* An integer query argument in [MIN, MAX], DEF if absent; -1 with
 * err_msg() ("rows: expected an integer from 1 to 16, got 'x'") if bad. */
int web_arg_long(struct web_req *req, const char *name, long def, long min, long max, long *out);
/* Field NAME of an application/x-www-form-urlencoded body, or NULL (the
 * body is parsed on first use; a field must be valid UTF-8 without NUL). */
const char *web_form(struct web_req *req, const char *name);
/* Request header NAME, or NULL. */
const char *web_header(struct web_req *req, const char *name);
/* The body as JSON (an object or any value), or jv_invalid() with a
 * message. */
jv web_json_body(struct web_req *req);
/* The CSRF token to put in a form, as the hidden field "csrf" (the server
 * checks it on every POST). */
const char *web_csrf(struct web_req *req);

/* The state file's generation as this thread sees it: it grows whenever
 * anyone has committed a change since the last call. A page that depends
 * only on the state file may keep what it made for a generation (use this,
 * not db_changed(), which the server's threads share with it). */
long web_db_gen(struct web_req *req);

/* Answers: each copies what it is given. */
int web_reply(struct web_req *req, int status, const char *ctype, const char *body, size_t n);
int web_reply_html(struct web_req *req, int status, const char *html, size_t n);
/* VAL (consumed) as compact JSON, a newline after it. */
int web_reply_json(struct web_req *req, int status, jv val);
/* {"error": MESSAGE} for /api/ paths, else a small HTML page with the
 * message escaped. */
int web_error(struct web_req *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 405 with an Allow: ALLOW header ("POST"), as web_error() answers. */
int web_not_allowed(struct web_req *req, const char *allow);
/* 303 See Other to WHERE (a path of this server). */
int web_redirect(struct web_req *req, const char *where);

#endif
