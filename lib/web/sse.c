/* sse: live streams (sse.h) on libmicrohttpd: a stream's response reads
 * from its buffer; with nothing there it suspends the connection, and a
 * send resumes it. A thread pings every stream now and then. (The
 * displays do not use these: the hub writes their sockets itself, tap.h.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "web/serveri.h"
#include "web/sse.h"
#include "web/streams.h"

struct web_stream {
	pthread_mutex_t mu;
	struct web_streams *all;
	struct web_stream *prev, *next; /* in all's list */
	struct MHD_Connection *conn;
	char *buf;
	size_t off, len, cap;
	int refs;      /* connection and owner */
	int suspended; /* the connection waits for data */
	int closing;   /* end the response once the buffer is out */
	int gone;      /* the connection is over */
	void (*on_gone)(void *ctx);
	void *ctx;
};

static void unref(struct web_stream *s)
{
	pthread_mutex_lock(&s->mu);
	int left = --s->refs;
	pthread_mutex_unlock(&s->mu);
	if (left)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->buf);
	free(s);
}

/* libmicrohttpd asks for the next bytes: a copy of what is queued. */
static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct web_stream *s = cls;
	pthread_mutex_lock(&s->mu);
	size_t n = s->len - s->off;
	if (n) {
		if (n > max)
			n = max;
		memcpy(out, s->buf + s->off, n);
		s->off += n;
		if (s->off == s->len)
			s->off = s->len = 0;
	} else if (s->closing) {
		pthread_mutex_unlock(&s->mu);
		return MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		s->suspended = 1;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
	return (ssize_t)n;
}

/* The response is done with: the client went away or the server stops. */
static void reader_free(void *cls)
{
	struct web_stream *s = cls;
	pthread_mutex_lock(&s->mu);
	s->gone = 1;
	s->suspended = 0;
	void (*fn)(void *) = s->on_gone;
	s->on_gone = NULL;
	pthread_mutex_unlock(&s->mu);
	streams_remove(s->all, s);
	if (fn)
		fn(s->ctx);
	unref(s);
}

int web_stream_open(struct web_req *req, struct web_stream **out, void (*gone)(void *ctx),
                    void *ctx)
{
	struct web_conn *wc = req->conn;
	struct web_stream *s = calloc(1, sizeof *s);
	if (!s)
		return err_set("out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->conn = wc->c;
	s->refs = 2;
	s->on_gone = gone;
	s->ctx = ctx;
	s->all = req->srv->streams;
	struct MHD_Response *r =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, s, reader_free);
	if (!r) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return err_set("cannot make a response");
	}
	web_headers(r, "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	streams_add(s->all, s);
	/* Before the response is queued: it may be read at once. */
	web_stream_raw(s, "retry: 1000\n\n", 13);
	MHD_queue_response(wc->c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	req->answered = 1;
	*out = s;
	return 0;
}

/* Appends under the lock; with WAKE, resumes a waiting connection. */
static int put(struct web_stream *s, const char *const parts[], const size_t lens[], int n,
               int wake)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += lens[i];
	pthread_mutex_lock(&s->mu);
	if (s->gone || s->closing) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->len - s->off + total > WEB_STREAM_MAX) { /* too far behind: close */
		s->closing = 1;
		s->off = s->len = 0;
	} else {
		if (s->len + total > s->cap) {
			if (s->off) { /* slide down first */
				memmove(s->buf, s->buf + s->off, s->len - s->off);
				s->len -= s->off;
				s->off = 0;
			}
			size_t cap = s->cap ? s->cap : 4096;
			while (cap < s->len + total)
				cap *= 2;
			if (cap > s->cap) {
				char *b = realloc(s->buf, cap);
				if (!b) {
					s->closing = 1;
					goto wake;
				}
				s->buf = b;
				s->cap = cap;
			}
		}
		for (int i = 0; i < n; i++) {
			memcpy(s->buf + s->len, parts[i], lens[i]);
			s->len += lens[i];
		}
	}
wake:
	if (s->suspended && (wake || s->closing)) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
	}
	int rc = s->closing ? -1 : 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int web_stream_raw(struct web_stream *s, const char *text, size_t n)
{
	const char *parts[] = { text };
	size_t lens[] = { n };
	return put(s, parts, lens, 1, 1);
}

static int send_event(struct web_stream *s, const char *id, const char *event,
                      const char *data, size_t n, int wake)
{
	const char *parts[10];
	size_t lens[10];
	int k = 0;
#define PART(p, l) (parts[k] = (p), lens[k] = (l), k++)
	if (id) {
		PART("id: ", 4);
		PART(id, strcspn(id, "\r\n"));
		PART("\n", 1);
	}
	if (event) {
		PART("event: ", 7);
		PART(event, strcspn(event, "\r\n"));
		PART("\n", 1);
	}
	/* DATA is one line (JSON): a newline in it would end the field. */
	size_t m = 0;
	while (m < n && data[m] != '\n' && data[m] != '\r')
		m++;
	PART("data: ", 6);
	PART(data, m);
	PART("\n\n", 2);
#undef PART
	return put(s, parts, lens, k, wake);
}

int web_stream_send(struct web_stream *s, const char *id, const char *event, const char *data,
                    size_t n)
{
	return send_event(s, id, event, data, n, 1);
}

int web_stream_queue(struct web_stream *s, const char *id, const char *event, const char *data,
                     size_t n)
{
	return send_event(s, id, event, data, n, 0);
}

void web_stream_flush(struct web_stream *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->suspended && s->len > s->off) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
}

void web_stream_release(struct web_stream *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->on_gone = NULL;
	if (!s->gone) {
		s->closing = 1;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_mutex_unlock(&s->mu);
	unref(s);
}

/* ---- every stream, for the pings ---- */

struct web_streams {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	struct web_stream *head;
	long n;
	int64_t ping_ms;
	int stop, started;
};

void streams_add(struct web_streams *a, struct web_stream *s)
{
	pthread_mutex_lock(&a->mu);
	s->next = a->head;
	if (a->head)
		a->head->prev = s;
	a->head = s;
	a->n++;
	pthread_mutex_unlock(&a->mu);
}

void streams_remove(struct web_streams *a, struct web_stream *s)
{
	pthread_mutex_lock(&a->mu);
	if (s->prev)
		s->prev->next = s->next;
	else if (a->head == s)
		a->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	a->n--;
	pthread_mutex_unlock(&a->mu);
}

long web_streams_open(struct web_server *srv)
{
	pthread_mutex_lock(&srv->streams->mu);
	long n = srv->streams->n;
	pthread_mutex_unlock(&srv->streams->mu);
	return n;
}

static void *pinger(void *arg)
{
	struct web_streams *a = arg;
	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t ns = ts.tv_nsec + (a->ping_ms % 1000) * 1000000;
		ts.tv_sec += a->ping_ms / 1000 + ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		if (pthread_cond_timedwait(&a->cv, &a->mu, &ts) != ETIMEDOUT)
			continue;
		for (struct web_stream *s = a->head; s; s = s->next)
			web_stream_raw(s, ":\n\n", 3);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

struct web_streams *streams_new(int64_t ping_ms)
{
	struct web_streams *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->ping_ms = ping_ms > 0 ? ping_ms : 15000;
	if (pthread_create(&a->th, NULL, pinger, a) == 0)
		a->started = 1;
	return a;
}

void streams_stop(struct web_streams *a)
{
	if (!a)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->th, NULL);
		a->started = 0;
	}
	/* Every stream ends, and none stays suspended: libmicrohttpd cannot
	 * stop with a connection suspended. */
	pthread_mutex_lock(&a->mu);
	for (struct web_stream *s = a->head; s; s = s->next) {
		pthread_mutex_lock(&s->mu);
		s->closing = 1;
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_unlock(&a->mu);
	for (int i = 0; i < 500; i++) { /* each ends as its thread gets to it */
		pthread_mutex_lock(&a->mu);
		long n = a->n;
		pthread_mutex_unlock(&a->mu);
		if (!n)
			break;
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

void streams_free(struct web_streams *a)
{
	if (!a)
		return;
	streams_stop(a);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
