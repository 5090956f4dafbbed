/* tap: live streams straight to their sockets (tap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/err.h"
#include "web/tap.h"

struct tap {
	struct tap_log *log;
	int fd, epfd;
	char *first;    /* the head and the display, before the log */
	size_t flen, foff;
	uint64_t pos;   /* in the log, absolute */
	int out;        /* waiting for room (EPOLLOUT) */
	int dead;
	struct tap *next;
};

struct tap_log {
	char *buf;
	size_t len, cap;
	uint64_t base; /* the absolute offset of buf[0] */
	struct tap *taps;
	long n;
};

struct tap_log *tap_log_new(void)
{
	return calloc(1, sizeof(struct tap_log));
}

static void tap_close(struct tap *t)
{
	if (t->fd >= 0) {
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->fd, NULL);
		close(t->fd);
		t->fd = -1;
	}
	t->dead = 1;
}

void tap_log_free(struct tap_log *l)
{
	if (!l)
		return;
	for (struct tap *t = l->taps, *next; t; t = next) {
		next = t->next;
		tap_close(t);
		free(t->first);
		free(t);
	}
	free(l->buf);
	free(l);
}

int tap_log_append(struct tap_log *l, const char *p, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 65536;
		while (cap < l->len + n)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b)
			return err_set("out of memory");
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	return 0;
}

int tap_add(struct tap_log *l, int epfd, int fd, const char *first, size_t n)
{
	struct tap *t = calloc(1, sizeof *t);
	if (!t || !(t->first = malloc(n ? n : 1))) {
		free(t);
		return err_set("out of memory");
	}
	memcpy(t->first, first, n);
	t->flen = n;
	t->log = l;
	t->fd = fd;
	t->epfd = epfd;
	t->pos = l->base + l->len;
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = t };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		free(t->first);
		free(t);
		return err_errno("epoll");
	}
	t->next = l->taps;
	l->taps = t;
	l->n++;
	return 0;
}

/* Writes what T lacks; 0, or -1 if it is broken (closed). */
static void tap_write(struct tap *t)
{
	struct tap_log *l = t->log;
	while (!t->dead) {
		struct iovec v[2];
		int k = 0;
		if (t->foff < t->flen)
			v[k++] = (struct iovec){ t->first + t->foff, t->flen - t->foff };
		size_t at = (size_t)(t->pos - l->base);
		if (at < l->len)
			v[k++] = (struct iovec){ l->buf + at, l->len - at };
		if (!k)
			break;
		ssize_t w = writev(t->fd, v, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!t->out) { /* told when there is room */
				struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP | EPOLLOUT,
					                 .data.ptr = t };
				epoll_ctl(t->epfd, EPOLL_CTL_MOD, t->fd, &e);
				t->out = 1;
			}
			return;
		}
		if (w <= 0) {
			tap_close(t);
			return;
		}
		size_t m = (size_t)w;
		size_t f = t->flen - t->foff < m ? t->flen - t->foff : m;
		t->foff += f;
		t->pos += m - f;
	}
	if (t->out && !t->dead) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = t };
		epoll_ctl(t->epfd, EPOLL_CTL_MOD, t->fd, &e);
		t->out = 0;
	}
}

void tap_flush(struct tap_log *l)
{
	uint64_t low = l->base + l->len;
	for (struct tap *t = l->taps; t; t = t->next) {
		if (t->dead)
			continue;
		if (l->base + l->len - t->pos > TAP_BEHIND_MAX) { /* too far behind */
			tap_close(t);
			continue;
		}
		tap_write(t);
		if (!t->dead && t->pos < low)
			low = t->pos;
	}
	/* What every screen has is dropped. */
	size_t drop = (size_t)(low - l->base);
	if (drop && (drop == l->len || drop > l->cap / 2)) {
		memmove(l->buf, l->buf + drop, l->len - drop);
		l->len -= drop;
		l->base = low;
	}
}

void tap_ready(struct tap *t, uint32_t events)
{
	if (t->dead)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		char b[512];
		ssize_t r = recv(t->fd, b, sizeof b, MSG_DONTWAIT);
		/* A screen says nothing after its request: anything is its end. */
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
		    (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
			tap_close(t);
			return;
		}
	}
	if (events & EPOLLOUT)
		tap_write(t);
}

void tap_sweep(struct tap_log *l)
{
	for (struct tap **p = &l->taps; *p;) {
		struct tap *t = *p;
		if (t->dead) {
			*p = t->next;
			free(t->first);
			free(t);
			l->n--;
		} else {
			p = &t->next;
		}
	}
}

long tap_count(struct tap_log *l)
{
	long n = 0;
	for (struct tap *t = l->taps; t; t = t->next)
		n += !t->dead;
	return n;
}
