/* web: panic-web's server (DESIGN.md §6): libmicrohttpd, a thread pool,
 * the routes of pages.c, static files and templates from share/panic/web/
 * (or their compiled-in copies), the token and CSRF checks, and the live
 * streams (Server-Sent Events) fed from the bus.
 *
 * The library never prints: the program reports what web_start() says.
 */
#ifndef PANIC_WEB_WEB_H
#define PANIC_WEB_WEB_H

struct web_server;
struct catalogue;

struct web_config {
	const char *listen;  /* "ADDR:PORT", "[ADDR6]:PORT" (port 0: any) */
	const char *token;   /* required of every request if not NULL */
	const char *root;    /* share/panic/web/ to serve; NULL or missing: built in */
	const char *db_path; /* the state file */
	const char *bus_dir; /* the bus, NULL: no live updates, no prompts */
	struct catalogue *cat; /* borrowed, for models' output types */
	int threads;         /* the pool, 1 or more */
	long ping_ms;        /* between pings of live streams (0: 15 s) */
};

/* 1 if LISTEN's address is a loopback one (127.0.0.0/8, ::1,
 * "localhost"), 0 if not, -1 with err_msg() if LISTEN does not parse. */
int web_listen_is_loopback(const char *listen);
/* Starts serving; 0, or -1 with err_msg(). */
int web_start(struct web_server **out, const struct web_config *c);
/* The address served, as "http://ADDR:PORT" (the port bound, if 0 was
 * asked). */
const char *web_url(struct web_server *s);
/* Stops (the live streams end) and frees. */
void web_stop(struct web_server *s);

#endif
