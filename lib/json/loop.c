/* loop: the record loop every filter runs; see loop.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/err.h"
#include "json/loop.h"
#include "json/ndjson.h"

static int room(struct loop *l)
{
	return !l->stop && (!l->room || l->room(l));
}

/* Reads what input there is now: 0, or -1 if it could not be read. */
static int read_input(struct loop *l)
{
	while (l->in && !l->eof && room(l)) {
		jv rec;
		switch (nd_next(l->in, &rec, 0)) {
		case ND_AGAIN:
			return 0;
		case ND_RECORD:
			l->record(l, rec);
			break;
		case ND_BAD:
			l->nbad++;
			l->bad(l, nd_lineno(l->in), err_msg());
			break;
		case ND_EOF:
			l->eof = 1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* Waits for up to MS ms; returns 1 if anything was ready. */
static int wait_for(struct loop *l, struct pollfd *p, int n, int ms)
{
	int rc = l->wait ? l->wait(l, p, n, ms) : poll(p, (nfds_t)n, ms);
	if (rc < 0 && errno != EINTR)
		return -1;
	for (int i = 0; i < n; i++)
		if (p[i].revents)
			return 1;
	return rc > 0;
}

int loop_run(struct loop *l)
{
	struct pollfd p[LOOP_FDS + 1];
	for (;;) {
		if (read_input(l) < 0)
			return -1;
		int ms = l->work ? l->work(l) : l->eof ? LOOP_END : -1;
		if (ms == LOOP_END || l->stop)
			return 0;
		int want_in = l->in && !l->eof && room(l);
		p[0] = (struct pollfd){ .fd = want_in ? nd_fd(l->in) : -1, .events = POLLIN };
		for (int i = 0; i < l->nfds; i++) {
			p[i + 1] = l->fds[i];
			p[i + 1].revents = 0;
		}
		int n = l->nfds + 1;
		int ready = wait_for(l, p, n, 0);
		if (ready == 0 && ms != 0) {
			if (l->idle)
				l->idle(l);
			if (l->stop)
				return 0;
			ready = wait_for(l, p, n, ms);
		}
		if (ready < 0)
			return err_errno("wait");
		for (int i = 0; i < l->nfds; i++)
			l->fds[i].revents = p[i + 1].revents;
		if (l->woke)
			l->woke(l);
	}
}

void loop_reject(struct loop *l, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	l->nbad++;
	l->bad(l, l->in ? nd_lineno(l->in) : 0, why);
}
