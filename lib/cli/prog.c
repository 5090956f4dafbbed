/* prog: reporting, exit table and stdout checks for programs; see prog.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "base/path.h"
#include "base/safe.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "state/db.h"

#ifndef PANIC_VERSION
#define PANIC_VERSION "0.1.0"
#endif

const char *prog_name = "panic";
int prog_verbose;
const char *prog_db;
const char *prog_bus;
int prog_input_mode = ND_DETECT;
static long max_line;

void prog_init(const char *name)
{
	prog_name = name;
	/* A closed pipe is a write error we handle, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	/* A stdout left non-blocking by whoever made the pipe would fail
	 * writes with EAGAIN: records are written whole, so block. */
	int fl = fcntl(1, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(1, F_SETFL, fl & ~O_NONBLOCK);
}

static void vwarn(const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	/* One line, always: a reason may quote input. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s: %s\n", prog_name, buf);
}

void pwarn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void pdie(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	prog_finish(code);
	exit(code);
}

void pusage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog_name);
	exit(PX_USAGE);
}

void prog_version(void)
{
	printf("%s %s\n", prog_name, PANIC_VERSION);
	exit(prog_finish(PX_OK));
}

int prog_closed, prog_signalled;

int prog_flush(int status)
{
	static int failed; /* a write error is reported once */
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	if (prog_closed || errno == EPIPE) {
		prog_closed = 1;
		return status;
	}
	if (!failed++)
		pwarn("stdout: %s", strerror(errno ? errno : EIO));
	return status ? status : PX_FAIL;
}

int prog_finish(int status)
{
	status = prog_flush(status);
	if (fclose(stdout) != 0 && errno != EPIPE && !prog_closed && status == PX_OK) {
		pwarn("stdout: %s", strerror(errno));
		status = PX_FAIL;
	}
	if (prog_signalled == SIGINT) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, prog_signalled);
		signal(prog_signalled, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(prog_signalled);
	}
	return status;
}

int prog_signalfd(void)
{
	static int fd = -1;
	if (fd >= 0)
		return fd;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	return fd;
}

int prog_signal_read(int fd)
{
	struct signalfd_siginfo si;
	return fd >= 0 && read(fd, &si, sizeof si) == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}

static int loop_sigfd = -1, loop_slot = -1;

void prog_loop_watch(struct loop *l)
{
	loop_sigfd = prog_signalfd();
	if (l->nfds + 2 > LOOP_FDS)
		return;
	loop_slot = l->nfds;
	l->fds[l->nfds++] = (struct pollfd){ .fd = loop_sigfd, .events = POLLIN };
	/* No events asked: a pipe whose reader has gone shows POLLERR. */
	l->fds[l->nfds++] = (struct pollfd){ .fd = 1, .events = 0 };
}

int prog_loop_stopping(struct loop *l)
{
	struct pollfd *w = loop_slot >= 0 ? &l->fds[loop_slot] : NULL;
	if (w && !prog_signalled && w[0].fd >= 0 && (w[0].revents & POLLIN))
		prog_signalled = prog_signal_read(loop_sigfd);
	if (w && (w[1].revents & (POLLERR | POLLHUP)))
		prog_closed = 1;
	if (!prog_closed && ferror(stdout))
		prog_flush(PX_OK); /* learns whether the reader has gone */
	if (prog_signalled || prog_closed)
		l->stop = 1;
	return l->stop;
}

void prog_put_safe(FILE *f, const char *s, size_t n, int flags)
{
	char buf[3 * 1024];
	while (n) {
		size_t k = n > 1024 ? 1024 : n;
		/* Never cut a UTF-8 sequence: back up to its first byte. */
		while (k < n && k > 1020 && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		fwrite(buf, 1, safe_text(s, k, buf, flags), f);
		s += k;
		n -= k;
	}
}

void prog_option(int c, const char *usage)
{
	switch (c) {
	case 'q': prog_verbose = -1; return;
	case 'v': prog_verbose++; return;
	case PROG_OPT_DB: prog_db = optarg; return;
	case PROG_OPT_BUS: prog_bus = optarg; return;
	case 'R': prog_input_mode = ND_RAW; return;
	case PROG_OPT_JSON: prog_input_mode = ND_JSON; return;
	case PROG_OPT_MAXLINE: max_line = prog_atol("--max-line", optarg, 16, 1L << 30); return;
	case 'h':
		fputs(usage, stdout);
		exit(prog_finish(PX_OK));
	case PROG_OPT_VERSION: prog_version();
	default:
		fprintf(stderr, "Try '%s --help'.\n", prog_name);
		exit(PX_USAGE);
	}
}

struct db *prog_state_hint(int flags, const char *hint)
{
	struct db *db;
	char *path = path_db(prog_db);
	int rc = path ? db_open(&db, path, flags) : -1;
	free(path);
	if (rc == DB_READONLY && hint)
		pdie(PX_CONFIG, "state: %s (%s)", err_msg(), hint);
	if (rc < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return db;
}

struct db *prog_state(int flags)
{
	return prog_state_hint(flags, NULL);
}

struct bus *prog_bus_open(const char *without)
{
	struct bus *b = NULL;
	char *dir = path_bus(prog_bus);
	if (!dir || bus_open(&b, dir, 0) < 0) {
		if (prog_verbose >= 0)
			pwarn("bus: %s (%s)", err_msg(), without);
		b = NULL;
	}
	free(dir);
	return b;
}

struct nd_reader *prog_reader(int fd)
{
	struct nd_reader *r = nd_new(fd, (size_t)max_line, prog_input_mode);
	if (!r)
		pdie(PX_FAIL, "out of memory");
	return r;
}

void prog_loop_bad(struct loop *l, long lineno, const char *why)
{
	(void)l;
	pwarn("stdin:%ld: %s", lineno, why);
}

int64_t prog_ms(const char *opt, const char *s, double max_s, int positive)
{
	int64_t ms;
	if (time_duration(s, 1000, &ms) < 0 || ms > max_s * 1000 || (positive && ms <= 0))
		pusage("%s: expected seconds (or 500ms, 30s, 5m, 1h) from %s to %.0f s, got '%s'",
		       opt, positive ? "0.001" : "0", max_s, s);
	return ms;
}

double prog_double(const char *opt, const char *s, double min, double max, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= min && v <= max))
		pusage("%s: expected %s from %g to %g, got '%s'", opt, what, min, max, s);
	return v;
}

long prog_atol(const char *opt, const char *s, long min, long max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		pusage("%s: expected a whole number from %ld to %ld, got '%s'",
		       opt, min, max, s);
	return v;
}
