/* serveri: the server's insides, shared by its files. Private to lib/web. */
#ifndef PANIC_WEB_SERVERI_H
#define PANIC_WEB_SERVERI_H

#include <microhttpd.h>
#include <pthread.h>

#include "web/route.h"
#include "web/web.h"

struct bus;
struct hub;
struct netlive;

struct web_server {
	struct MHD_Daemon *mhd;
	struct web_config cfg;
	char *token, *root, *db_path, *bus_dir;
	char url[128];
	char csrf[65];     /* hex HMAC of a secret made at start */
	char epoch[16];    /* this start, in live event ids */
	pthread_key_t dbkey;
	pthread_mutex_t bus_mu; /* the bus handle below, for publishing */
	struct bus *bus;
	struct hub *hub;   /* live displays */
	struct netlive *netlive; /* the networks page's live status */
	struct web_streams *streams;
};

/* What a connection carries from call to call of the access handler. */
struct web_conn {
	struct MHD_Connection *c;
	char *body;
	size_t len, cap;
	int too_big;
	int set_cookie; /* the token came in the query: send it as a cookie */
	int taken;      /* its socket was taken (web_take_socket()) */
	const char *allow; /* an Allow header for the answer (a 405), or NULL */
	jv form; /* parsed on first use, or jv_invalid() */
};

/* This thread's state file connection (opened on first use). */
struct db *web_thread_db(struct web_server *s);
/* Serves file NAME of the web root (or built in) for REQ; 404 if none. */
int web_static(struct web_req *req, const char *name);
/* A copy of REQ's socket (non-blocking), for a handler that answers on
 * it by itself from now on: libmicrohttpd lets go of the connection
 * without a word. -1 with err_msg(). */
int web_take_socket(struct web_req *req);
/* Pages.c's routes, in order. */
extern const struct web_route *const web_pages[];
/* The built-in copies of share/panic/web/ (generated). */
struct web_file {
	const char *name;
	const unsigned char *data;
	unsigned long len;
};
extern const struct web_file web_builtin[];
/* The content type for NAME's extension. */
const char *web_ctype(const char *name);
/* The content of file NAME (web root, else built in), malloc'd with a
 * NUL after it, or NULL with err_msg(). */
char *web_file_read(struct web_server *s, const char *name, size_t *n);
/* Adds the headers every answer gets. */
void web_headers(struct MHD_Response *r, const char *ctype);

#endif
