/* sseclients: many Server-Sent Events clients at once, for bench/web.
 *
 *   sseclients HOST PORT PATH N EXPECT TIMEOUT_MS
 *
 * Opens N connections to PATH, then reads every stream (epoll). Each
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
	static char day[10];
	static double day_ms;
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

static double *lat;
static size_t nlat, caplat;

static void event(struct client *c, const char *ev, size_t n, double t)
{
	(void)n;
	if (!strstr(ev, "\ndata: ") && strncmp(ev, "data: ", 6))
		return; /* a comment (ping) or the retry line */
	c->events++;
	const char *a = strstr(ev, "\"at\":\"");
	if (a) {
		double p = at_ms(a + 6);
		if (p >= 0) {
			if (nlat == caplat) {
				caplat = caplat ? caplat * 2 : 65536;
				lat = realloc(lat, caplat * sizeof *lat);
			}
			lat[nlat++] = t - p;
		}
	}
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
	struct client *cl = calloc((size_t)n, sizeof *cl);
	int ep = epoll_create1(0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	char req[1024];
	int rl = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n\r\n",
	                  argv[3], argv[1], argv[2]);
	int connected = 0;
	for (int i = 0; i < n; i++) {
		cl[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(cl[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		    write(cl[i].fd, req, (size_t)rl) != rl) {
			close(cl[i].fd);
			cl[i].fd = -1;
			continue;
		}
		connected++;
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = &cl[i] };
		epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &e);
	}
	int ready = 0, done = 0;
	struct epoll_event evs[256];
	while (done < connected) {
		int k = epoll_wait(ep, evs, 256, quiet);
		if (k <= 0)
			break;
		for (int j = 0; j < k; j++) {
			struct client *c = evs[j].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1);
			double t = now_ms(); /* arrival: when this read got the bytes */
			if (r <= 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
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
				int was = c->first;
				if (strstr(p, "data: ")) {
					if (was == -1) {
						c->first = 1;
						if (++ready == connected)
							fprintf(stderr, "ready\n");
					} else {
						event(c, p, (size_t)(end - p), t);
					}
				}
				p = end + 2;
			}
			c->len -= (size_t)(p - c->buf);
			memmove(c->buf, p, c->len + 1);
			if (c->events >= expect && c->fd >= 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				done++;
			}
		}
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
