/* server: panic-web's HTTP server on libmicrohttpd: the daemon and its
 * thread pool, the checks every request passes (URL, token, size, CSRF),
 * and the dispatch to the routes of pages.c. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/err.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "bus/bus.h"
#include "state/db.h"
#include "web/hub.h"
#include "web/netlive.h"
#include "web/serveri.h"
#include "web/streams.h"

#define BAD_URL "\x01"

/* ---- the listen address ---- */

struct addr {
	struct sockaddr_storage ss;
	int v6, loopback;
};

static int parse_listen(const char *listen, struct addr *a)
{
	memset(a, 0, sizeof *a);
	char host[128];
	const char *colon, *h = listen;
	size_t hl;
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');
		if (!end || end[1] != ':')
			return err_set("--listen: expected ADDR:PORT or [ADDR6]:PORT, got '%s'", listen);
		h = listen + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return err_set("--listen: expected ADDR:PORT, got '%s'", listen);
		hl = (size_t)(colon - listen);
	}
	if (hl >= sizeof host)
		return err_set("--listen: address too long");
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || port < 0 || port > 65535)
		return err_set("--listen: bad port in '%s' (0 to 65535)", listen);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		a->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->v6 = 1;
		a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
		return err_set("--listen: '%s' is not a numeric IPv4 or IPv6 address", host);
	}
	return 0;
}

int web_listen_is_loopback(const char *listen)
{
	struct addr a;
	if (parse_listen(listen, &a) < 0)
		return -1;
	return a.loopback;
}

/* ---- per thread ---- */

static void db_done(void *p)
{
	db_close(p);
}

struct db *web_thread_db(struct web_server *s)
{
	struct db *db = pthread_getspecific(s->dbkey);
	if (db)
		return db;
	if (db_open(&db, s->db_path, DB_CREATE) < 0)
		return NULL;
	pthread_setspecific(s->dbkey, db);
	return db;
}

static __thread long db_gen;

long web_db_gen(struct web_req *req)
{
	int c = db_changed(req->db);
	if (c != 0) /* changed, or cannot tell: a new generation */
		db_gen++;
	return db_gen;
}

/* ---- checks ---- */

/* Constant time in the length of A. */
static int same(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	unsigned d = n != m;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)(i < m ? b[i] : 0);
	return d == 0;
}

static const char *cookie(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, name);
}

/* The token, from "Authorization: Bearer T", the cookie or ?token=T. */
static int token_ok(struct web_server *s, struct MHD_Connection *c, int *from_query)
{
	*from_query = 0;
	if (!s->token)
		return 1;
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (h && !strncasecmp(h, "Bearer ", 7) && same(h + 7, s->token))
		return 1;
	const char *k = cookie(c, "panic_token");
	if (k && same(k, s->token))
		return 1;
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (q && same(q, s->token)) {
		*from_query = 1;
		return 1;
	}
	return 0;
}

/* Origin (if sent) must be this server: the Host the request names. */
static int origin_ok(struct MHD_Connection *c)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (!o || !strcmp(o, "null"))
		return o == NULL;
	const char *p = strstr(o, "://");
	return p && host && !strcmp(p + 3, host);
}

static enum MHD_Result check_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	(void)kind;
	int *bad = cls;
	if ((key && strchr(key, BAD_URL[0])) || (value && strchr(value, BAD_URL[0]))) {
		*bad = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoding: a NUL or invalid UTF-8 after it makes the whole string
 * BAD_URL, refused before any handler sees it. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (*r == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
			if (!w[-1])
				goto bad;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	if (utf8_check(s, (size_t)(w - s)) != (size_t)(w - s))
		goto bad;
	return (size_t)(w - s);
bad:
	strcpy(s, BAD_URL);
	return 1;
}

/* ---- dispatch ---- */

static const struct web_route *find(const char *method, const char *path, const char **rest)
{
	int head = !strcmp(method, "HEAD");
	for (int m = 0; web_pages[m]; m++) {
		for (const struct web_route *r = web_pages[m]; r->method; r++) {
			if (strcmp(r->method, method) && !(head && !strcmp(r->method, "GET")))
				continue;
			size_t n = strlen(r->prefix);
			if (strncmp(path, r->prefix, n))
				continue;
			if ((r->prefix[n - 1] != '/' || n == 1) && path[n]) /* "/" is the front page only */
				continue;
			*rest = path + n;
			return r;
		}
	}
	return NULL;
}

/* What libmicrohttpd is told of an answer queued (0) or not (-1). */
static enum MHD_Result mhd(int rc)
{
	return rc == 0 ? MHD_YES : MHD_NO;
}

/* The methods some route takes PATH with ("GET, HEAD, POST"), or NULL. */
static const char *allowed(const char *path)
{
	const char *rest;
	int get = find("GET", path, &rest) != NULL, post = find("POST", path, &rest) != NULL;
	return get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : post ? "POST" : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	(void)version;
	struct web_server *s = cls;
	struct web_conn *wc = *con_cls;
	if (!wc) {
		if (!(wc = calloc(1, sizeof *wc)))
			return MHD_NO;
		wc->c = c;
		wc->form = jv_invalid();
		/* Answers go out whole and at once: no Nagle wait on a short
		 * last segment (the client's delayed ACK would stall it). */
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		int one = 1;
		if (ci)
			setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		*con_cls = wc;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (wc->too_big || wc->len + n > WEB_BODY_MAX) {
			wc->too_big = 1;
			return MHD_YES;
		}
		if (wc->len + n + 1 > wc->cap) {
			size_t cap = wc->cap ? wc->cap : 4096;
			while (cap < wc->len + n + 1)
				cap *= 2;
			char *b = realloc(wc->body, cap);
			if (!b)
				return MHD_NO;
			wc->body = b;
			wc->cap = cap;
		}
		memcpy(wc->body + wc->len, upload, n);
		wc->len += n;
		wc->body[wc->len] = 0;
		return MHD_YES;
	}
	struct web_req req = {
		.method = method,
		.path = url,
		.body = wc->body ? wc->body : "",
		.body_len = wc->len,
		.srv = s,
		.conn = wc,
	};
	if (!strcmp(url, BAD_URL))
		return mhd(web_error(&req, 400, "bad request: the URL holds a NUL or invalid UTF-8"));
	int bad = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_value, &bad);
	if (bad)
		return mhd(web_error(&req, 400, "bad request: a query argument holds a NUL or invalid UTF-8"));
	int from_query;
	if (!token_ok(s, c, &from_query))
		return mhd(web_error(&req, 401, "unauthorized: this server needs its token"));
	if (wc->too_big)
		return mhd(web_error(&req, 413, "request body too large"));
	if (url[0] != '/')
		return mhd(web_error(&req, 400, "bad request: the path must start with '/'"));
	const struct web_route *r = find(method, url, &req.rest);
	if (!r) {
		if (!(wc->allow = allowed(url)))
			return mhd(web_error(&req, 404, "not found"));
		return mhd(web_not_allowed(&req, wc->allow));
	}
	if (!strcmp(method, "POST") && !(r->flags & WEB_NO_CSRF)) {
		const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!t)
			t = web_form(&req, "csrf");
		if (!origin_ok(c)) {
			const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
			return mhd(web_error(&req, 403,
			                     "forbidden: the request's origin '%.100s' is not this server",
			                     o ? o : ""));
		}
		if (!t || !same(t, s->csrf))
			return mhd(web_error(&req, 403,
			                "forbidden: the form's CSRF token is missing or stale (reload the page)"));
	}
	if (!(req.db = web_thread_db(s)))
		return mhd(web_error(&req, 500, "state: %s", err_msg()));
	wc->set_cookie = from_query; /* a screen given ?token= keeps it for its scripts */
	if (r->handler(&req) < 0 && !req.answered)
		web_error(&req, 500, "%s", err_msg());
	if (wc->taken) /* the handler answers on the socket: MHD closes its copy */
		return MHD_NO;
	if (!req.answered)
		web_error(&req, 500, "the page gave no answer");
	return MHD_YES;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct web_conn *wc = *con_cls;
	if (!wc)
		return;
	jv_free(wc->form);
	free(wc->body);
	free(wc);
	*con_cls = NULL;
}

static void quiet(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	(void)fmt;
	(void)ap;
}

int web_start(struct web_server **out, const struct web_config *cfg)
{
	struct addr a;
	if (parse_listen(cfg->listen, &a) < 0)
		return -1;
	if (!a.loopback && !cfg->token)
		return err_set("listening on %s needs a token (PANIC_WEB_TOKEN, in the environment or the keys file)",
		               cfg->listen);
	struct web_server *s = calloc(1, sizeof *s);
	if (!s)
		return err_set("out of memory");
	s->cfg = *cfg;
	s->token = cfg->token ? strdup(cfg->token) : NULL;
	s->root = cfg->root ? strdup(cfg->root) : NULL;
	s->db_path = strdup(cfg->db_path);
	s->bus_dir = cfg->bus_dir ? strdup(cfg->bus_dir) : NULL;
	pthread_key_create(&s->dbkey, db_done);
	pthread_mutex_init(&s->bus_mu, NULL);
	unsigned char secret[32], mac[SHA256_LEN];
	if (getrandom(secret, sizeof secret, 0) != sizeof secret) {
		web_stop(s);
		return err_errno("getrandom");
	}
	hmac_sha256(secret, sizeof secret, "csrf", 4, mac);
	sha256_hex(mac, s->csrf);
	snprintf(s->epoch, sizeof s->epoch, "%02x%02x%02x%02x", secret[0] ^ mac[31],
	         secret[1] ^ mac[30], secret[2] ^ mac[29], secret[3] ^ mac[28]);
	if (!(s->streams = streams_new(cfg->ping_ms))) {
		web_stop(s);
		return err_set("out of memory");
	}
	if (s->bus_dir && bus_open(&s->bus, s->bus_dir, 0) < 0) {
		web_stop(s);
		return -1;
	}
	if (s->bus && (hub_start(&s->hub, s) < 0 || netlive_start(&s->netlive, s) < 0)) {
		web_stop(s);
		return -1;
	}
	/* Turbo: among others, a connection let go is closed without a
	 * shutdown(), so a socket taken from it lives on (web_take_socket()). */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
	                 MHD_USE_ERROR_LOG | (a.v6 ? MHD_USE_IPv6 : 0);
	int threads = cfg->threads > 0 ? cfg->threads : 1;
	s->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a.ss,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
		MHD_OPTION_EXTERNAL_LOGGER, quiet, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_LISTEN_BACKLOG_SIZE,
		(unsigned)1024, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
		threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (unsigned)threads,
		MHD_OPTION_END);
	if (!s->mhd) {
		web_stop(s);
		return err_set("cannot listen on %s (in use, or not an address of this machine)",
		               cfg->listen);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : 0;
	char host[INET6_ADDRSTRLEN];
	if (a.v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&a.ss)->sin6_addr, host, sizeof host);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&a.ss)->sin_addr, host, sizeof host);
	snprintf(s->url, sizeof s->url, a.v6 ? "http://[%s]:%u" : "http://%s:%u", host, port);
	*out = s;
	return 0;
}

const char *web_url(struct web_server *s)
{
	return s->url;
}

void web_stop(struct web_server *s)
{
	if (!s)
		return;
	netlive_free(s->netlive);
	streams_stop(s->streams);
	hub_stop(s->hub);
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	hub_free(s->hub);
	streams_free(s->streams);
	bus_close(s->bus);
	struct db *db = pthread_getspecific(s->dbkey);
	if (db)
		db_close(db);
	pthread_key_delete(s->dbkey);
	pthread_mutex_destroy(&s->bus_mu);
	free(s->token);
	free(s->root);
	free(s->db_path);
	free(s->bus_dir);
	free(s);
}
