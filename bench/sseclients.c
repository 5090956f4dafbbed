/* sseclients: many Server-Sent Events clients at once, for bench/web.
 *
 *   sseclients HOST PORT PATH N EXPECT TIMEOUT_MS
 *
 * Opens N connections to PATH, then reads every stream (epoll), shared
 * among SSE_THREADS threads (default: one per CPU; 200 screens are 200
 * browsers, not one loop that reads them in turn). Each
 * client's first event (the display as it is) is not counted; each later
 * event counts, and one whose data has "at":"...Z" (the time the runner
 * published it, RFC 3339 with ms) gives a latency: arrival minus "at".
 * Stops when every client has EXPECT counted events or after TIMEOUT_MS
 * of quiet. Prints one line:
 *   clients N connected C min_events A max_events B p50_ms X p99_ms Y max_ms Z
 * It prints "ready" on stderr once every client has its first event. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct client {
	int fd;
	char buf[1 << 16];
	size_t len;
	long events; /* after the first */
	int first;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "2026-11-23T18:15:03.988Z" as ms since the epoch, or -1. Parsed by
 * hand, the day's start kept (timegm() and sscanf() per event made this
 * client slower than the server it measures). */
static double at_ms(const char *s)
{
	static __thread char day[10];
	static __thread double day_ms;
	if (strlen(s) < 24 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
	    s[23] != 'Z')
		return -1;
	if (memcmp(s, day, 10)) {
		struct tm tm = { 0 };
		tm.tm_year = num(s, 4) - 1900;
		tm.tm_mon = num(s + 5, 2) - 1;
		tm.tm_mday = num(s + 8, 2);
		if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mday < 0)
			return -1;
		day_ms = (double)timegm(&tm) * 1e3;
		memcpy(day, s, 10);
	}
	int h = num(s + 11, 2), m = num(s + 14, 2), sec = num(s + 17, 2), ms = num(s + 20, 3);
	if (h < 0 || m < 0 || sec < 0 || ms < 0)
		return -1;
	return day_ms + ((h * 60 + m) * 60 + sec) * 1e3 + ms;
}

/* A thread and the clients it reads. */
struct worker {
	pthread_t th;
	int ep;
	long expect;
	int quiet, n; /* clients */
	double *lat;
	size_t nlat, caplat;
};

static int connected;
static int ready; /* clients with their first event (atomic) */

static void event(struct worker *w, struct client *c, const char *ev, double t)
{
	if (!strstr(ev, "\ndata: ") && strncmp(ev, "data: ", 6))
		return; /* a comment (ping) or the retry line */
	c->events++;
	const char *a = strstr(ev, "\"at\":\"");
	if (a) {
		double p = at_ms(a + 6);
		if (p >= 0) {
			if (w->nlat == w->caplat) {
				w->caplat = w->caplat ? w->caplat * 2 : 65536;
				w->lat = realloc(w->lat, w->caplat * sizeof *w->lat);
			}
			w->lat[w->nlat++] = t - p;
		}
	}
}

static void *reader(void *arg)
{
	struct worker *w = arg;
	int done = 0;
	struct epoll_event evs[256];
	while (done < w->n) {
		int k = epoll_wait(w->ep, evs, 256, w->quiet);
		if (k <= 0)
			break;
		for (int j = 0; j < k; j++) {
			struct client *c = evs[j].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1);
			double t = now_ms(); /* arrival: when this read got the bytes */
			if (r <= 0) {
				epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				done++;
				continue;
			}
			c->len += (size_t)r;
			c->buf[c->len] = 0;
			char *p = c->buf, *end;
			if (!c->first) { /* past the response head */
				char *h = strstr(p, "\r\n\r\n");
				if (!h)
					continue;
				memmove(c->buf, h + 4, c->len - (size_t)(h + 4 - c->buf) + 1);
				c->len -= (size_t)(h + 4 - p);
				c->first = -1;
			}
			/* HTTP/1.0: the stream as it is, no chunks */
			while ((end = strstr(p, "\n\n"))) {
				*end = 0;
				if (strstr(p, "data: ")) {
					if (c->first == -1) {
						c->first = 1;
						if (__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST) == connected)
							fprintf(stderr, "ready\n");
					} else {
						event(w, c, p, t);
					}
				}
				p = end + 2;
			}
			c->len -= (size_t)(p - c->buf);
			memmove(c->buf, p, c->len + 1);
			if (c->events >= w->expect && c->fd >= 0) {
				epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				done++;
			}
		}
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: sseclients HOST PORT PATH N EXPECT TIMEOUT_MS\n");
		return 2;
	}
	int n = atoi(argv[4]);
	long expect = atol(argv[5]);
	int quiet = atoi(argv[6]);
	const char *nt = getenv("SSE_THREADS");
	int nw = nt ? atoi(nt) : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nw < 1)
		nw = 1;
	if (nw > n && n > 0)
		nw = n;
	struct client *cl = calloc((size_t)n, sizeof *cl);
	struct worker *ws = calloc((size_t)nw, sizeof *ws);
	/* Every page touched before the clock runs: a page fault in the
	 * middle of a burst (costly in a VM) is not the server's delay. */
	memset(cl, 0, (size_t)n * sizeof *cl);
	for (int i = 0; i < nw; i++) {
		ws[i].ep = epoll_create1(0);
		ws[i].expect = expect;
		ws[i].quiet = quiet;
		ws[i].caplat = (size_t)(n / nw + 1) * (size_t)(expect > 0 ? expect : 1);
		ws[i].lat = malloc(ws[i].caplat * sizeof(double));
		memset(ws[i].lat, 0, ws[i].caplat * sizeof(double));
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	char req[1024];
	int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n\r\n",
	                  argv[3], argv[1], argv[2]);
	/* All connect before any is read: "ready" counts them all. */
	for (int i = 0; i < n; i++) {
		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cl[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    write(cl[i].fd, req, (size_t)rl) != rl) {
			close(cl[i].fd);
			cl[i].fd = -1;
			continue;
		}
		connected++;
	}
	for (int i = 0, k = 0; i < n; i++) {
		if (cl[i].fd < 0)
			continue;
		struct worker *w = &ws[k++ % nw];
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cl[i] };
		epoll_ctl(w->ep, EPOLL_CTL_ADD, cl[i].fd, &e);
		w->n++;
	}
	for (int i = 0; i < nw; i++)
		pthread_create(&ws[i].th, NULL, reader, &ws[i]);
	size_t nlat = 0;
	for (int i = 0; i < nw; i++) {
		pthread_join(ws[i].th, NULL);
		nlat += ws[i].nlat;
	}
	double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
	for (int i = 0, k = 0; i < nw; i++) {
		memcpy(lat + k, ws[i].lat, ws[i].nlat * sizeof *lat);
		k += (int)ws[i].nlat;
	}
	long mn = -1, mx = 0;
	for (int i = 0; i < n; i++) {
		if (mn < 0 || cl[i].events < mn)
			mn = cl[i].events;
		if (cl[i].events > mx)
			mx = cl[i].events;
	}
	qsort(lat, nlat, sizeof *lat, cmp);
	double p50 = nlat ? lat[nlat / 2] : -1, p99 = nlat ? lat[(size_t)(nlat * 0.99)] : -1;
	double max = nlat ? lat[nlat - 1] : -1;
	printf("clients %d connected %d min_events %ld max_events %ld p50_ms %.0f p99_ms %.0f max_ms %.0f\n",
	       n, connected, mn, mx, p50, p99, max);
	return 0;
}
