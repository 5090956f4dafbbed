/* req: what a handler reads of its request and how it answers (route.h). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/utf8.h"
#include "json/json.h"
#include "web/html.h"
#include "web/serveri.h"

static struct MHD_Connection *conn(struct web_req *req)
{
	return ((struct web_conn *)req->conn)->c;
}

const char *web_arg(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(conn(req), MHD_GET_ARGUMENT_KIND, name);
}

int web_arg_long(struct web_req *req, const char *name, long def, long min, long max, long *out)
{
	const char *v = web_arg(req, name);
	if (!v) {
		*out = def;
		return 0;
	}
	char *end;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max)
		return err_set("%s: expected an integer from %ld to %ld, got '%.40s'", name, min, max, v);
	*out = n;
	return 0;
}

const char *web_header(struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(conn(req), MHD_HEADER_KIND, name);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A urlencoded piece decoded into a jv string, or jv_invalid() if it
 * holds a NUL or invalid UTF-8. */
static jv decode(const char *s, size_t n)
{
	char *b = malloc(n + 1);
	if (!b)
		return jv_invalid();
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '+')
			b[w++] = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		         (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			b[w++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			b[w++] = s[i];
	}
	jv v = memchr(b, 0, w) || utf8_check(b, w) != w ? jv_invalid()
	                                                 : jv_string_sized(b, (int)w);
	free(b);
	return v;
}

const char *web_form(struct web_req *req, const char *name)
{
	struct web_conn *wc = req->conn;
	if (!jv_is_valid(wc->form)) {
		jv_free(wc->form);
		wc->form = jv_object();
		const char *p = req->body, *end = req->body + req->body_len;
		while (p < end) {
			const char *amp = memchr(p, '&', (size_t)(end - p));
			const char *e = amp ? amp : end;
			const char *eq = memchr(p, '=', (size_t)(e - p));
			jv k = decode(p, (size_t)((eq ? eq : e) - p));
			jv v = eq ? decode(eq + 1, (size_t)(e - eq - 1)) : jv_string("");
			if (jv_is_valid(k) && jv_is_valid(v) && !json_has(wc->form, jv_string_value(k)))
				wc->form = jv_object_set(wc->form, k, v);
			else {
				jv_free(k);
				jv_free(v);
			}
			p = e + 1;
		}
	}
	return json_str(wc->form, name, NULL);
}

jv web_json_body(struct web_req *req)
{
	if (!req->body_len)
		return jv_invalid_with_msg(jv_string("the request has no body (a JSON object)"));
	if (memchr(req->body, 0, req->body_len))
		return jv_invalid_with_msg(jv_string("the body holds a NUL byte"));
	jv v = json_parse(req->body, req->body_len);
	if (!jv_is_valid(v)) {
		char why[300];
		json_error_text(v, why, sizeof why);
		return jv_invalid_with_msg(jv_string_fmt("the body is not JSON: %s", why));
	}
	return v;
}

const char *web_csrf(struct web_req *req)
{
	return req->srv->csrf;
}

void web_headers(struct MHD_Response *r, const char *ctype)
{
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(
		r, "Content-Security-Policy",
		"default-src 'self'; img-src 'self' data: blob: http: https:; "
		"media-src 'self' data: blob: http: https:; script-src 'self'; "
		"style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

int web_reply(struct web_req *req, int status, const char *ctype, const char *body, size_t n)
{
	struct web_conn *wc = req->conn;
	if (req->answered)
		return err_set("answered twice");
	struct MHD_Response *r =
		MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return err_set("out of memory");
	web_headers(r, ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == 405 && wc->allow)
		MHD_add_response_header(r, "Allow", wc->allow);
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"panic-web\"");
	if (wc->set_cookie && req->srv->token) {
		char c[600];
		snprintf(c, sizeof c, "panic_token=%s; Path=/; HttpOnly; SameSite=Strict",
		         req->srv->token);
		MHD_add_response_header(r, "Set-Cookie", c);
	}
	MHD_queue_response(wc->c, (unsigned)status, r);
	MHD_destroy_response(r);
	req->answered = 1;
	return 0;
}

int web_reply_html(struct web_req *req, int status, const char *html, size_t n)
{
	return web_reply(req, status, "text/html; charset=utf-8", html, n);
}

int web_reply_json(struct web_req *req, int status, jv val)
{
	size_t n;
	char *s = json_dump(val, &n);
	jv_free(val);
	if (!s)
		return err_set("out of memory");
	s[n] = '\n'; /* json_dump leaves room for the NUL: it becomes the newline */
	int rc = web_reply(req, status, "application/json", s, n + 1);
	free(s);
	return rc;
}

int web_error(struct web_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!strncmp(req->path, "/api/", 5))
		return web_reply_json(req, status, json_set(jv_object(), "error", jv_string(msg)));
	struct html h;
	html_init(&h);
	html_puts(&h, "<!doctype html><meta charset=utf-8><title>panic-web</title>"
	              "<link rel=stylesheet href=/static/panic.css><main class=page><p class=error>");
	html_esc(&h, msg);
	html_puts(&h, "</p><p><a href=/>panic-web</a></p></main>\n");
	int rc = h.oom ? err_set("out of memory") : web_reply_html(req, status, h.s, h.n);
	html_free(&h);
	return rc;
}

int web_not_allowed(struct web_req *req, const char *allow)
{
	((struct web_conn *)req->conn)->allow = allow;
	return web_error(req, 405, "method not allowed: %s takes %s", req->path, allow);
}

int web_take_socket(struct web_req *req)
{
	struct web_conn *wc = req->conn;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(wc->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return err_set("no socket");
	int fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return err_errno("socket");
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return err_errno("socket");
	}
	wc->taken = 1;
	req->answered = 1;
	return fd;
}

int web_redirect(struct web_req *req, const char *where)
{
	struct web_conn *wc = req->conn;
	if (where[0] != '/' || where[1] == '/' || strpbrk(where, "\r\n"))
		return err_set("redirect to a foreign place refused");
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return err_set("out of memory");
	web_headers(r, "text/plain");
	MHD_add_response_header(r, "Location", where);
	MHD_queue_response(wc->c, 303, r);
	MHD_destroy_response(r);
	req->answered = 1;
	return 0;
}
