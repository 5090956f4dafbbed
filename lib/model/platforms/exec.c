/* platform_exec: any program as a model (DESIGN.md §5).
 *
 * The entry's "command" is an argv (array of strings), run without a shell.
 * The input goes to its stdin, then stdin is closed; its stdout, less
 * trailing newlines, is the output. PANIC_MODEL, PANIC_INPUT_TYPE and
 * PANIC_OUTPUT_TYPE are in its environment, and the call's opts->env. A non-zero exit or a death by
 * signal fails the call (kind exit, with the last line the program wrote
 * to stderr); so does output that is not UTF-8 or over EXEC_MAX_OUTPUT
 * (bad_response). After "timeout_ms" (default EXEC_TIMEOUT_MS) the
 * program's process group is killed and the call fails (kind timeout).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/platform.h"

#define EXEC_TIMEOUT_MS 60000
#define EXEC_MAX_OUTPUT (16u << 20)
#define ERR_TAIL 1024

struct run {
	struct proc p;
	size_t inoff;
	char *out;
	size_t outlen, outcap;
	int too_big;
	char err[ERR_TAIL];
	size_t errlen;
	int exited, status;
	int64_t deadline;
};

static int check(jv entry)
{
	jv cmd = json_get(entry, "command");
	int ok = jv_get_kind(cmd) == JV_KIND_ARRAY && jv_array_length(jv_copy(cmd)) > 0;
	for (int i = 0; ok && i < jv_array_length(jv_copy(cmd)); i++) {
		jv a = jv_array_get(jv_copy(cmd), i);
		ok = jv_get_kind(a) == JV_KIND_STRING;
		jv_free(a);
	}
	jv_free(cmd);
	if (!ok)
		return err_set("\"command\" must be a non-empty array of strings");
	jv t = json_get(entry, "timeout_ms");
	ok = !jv_is_valid(t) || (jv_get_kind(t) == JV_KIND_NUMBER && jv_number_value(t) > 0);
	jv_free(t);
	return ok ? 0 : err_set("\"timeout_ms\" must be a positive number");
}

static void release(struct call *c)
{
	struct run *r = c->priv;
	if (!r)
		return;
	if (r->p.pid > 0) {
		int st;
		proc_kill(&r->p);
		proc_reap(&r->p, &st, 1);
	}
	proc_close(&r->p);
	free(r->out);
	free(r);
	c->priv = NULL;
}

static void start(struct call *c)
{
	struct model *m = c->model;
	jv cmd = json_get(m->entry, "command");
	int argc = jv_array_length(jv_copy(cmd));
	char **argv = calloc((size_t)argc + 1, sizeof *argv);
	struct run *r = calloc(1, sizeof *r);
	char *env[4 + 16] = { NULL };
	if (!argv || !r)
		goto nomem;
	for (int i = 0; i < argc; i++) {
		jv a = jv_array_get(jv_copy(cmd), i);
		argv[i] = strdup(jv_string_value(a));
		jv_free(a);
		if (!argv[i])
			goto nomem;
	}
	if (asprintf(&env[0], "PANIC_MODEL=%s", m->id) < 0 ||
	    asprintf(&env[1], "PANIC_INPUT_TYPE=%s", mtype_name(m->input)) < 0 ||
	    asprintf(&env[2], "PANIC_OUTPUT_TYPE=%s", mtype_name(m->output)) < 0)
		goto nomem;
	for (int i = 0; c->opts && c->opts->env && i < 16 && c->opts->env[i]; i++)
		env[3 + i] = c->opts->env[i]; /* borrowed: not freed below */

	jv t = json_get(m->entry, "timeout_ms");
	int64_t timeout = c->timeout_ms > 0 ? c->timeout_ms
	                                    : json_int(t, EXEC_TIMEOUT_MS, 1, INT32_MAX);
	jv_free(t);
	r->deadline = c->t0 + timeout;
	if (proc_spawn(&r->p, argv, env) < 0) {
		call_fail(c, "spawn", "%s", err_msg());
		free(r);
		r = NULL;
	} else {
		c->priv = r;
		r = NULL;
	}
	goto out;
nomem:
	call_fail(c, "cancelled", "out of memory");
out:
	free(r);
	for (int i = 0; argv && i < argc; i++)
		free(argv[i]);
	free(argv);
	for (int i = 0; i < 3; i++)
		free(env[i]);
	jv_free(cmd);
}

static int fds(struct call *c, struct pollfd *p, int max, int64_t *deadline)
{
	struct run *r = c->priv;
	int n = 0;
	(void)max; /* at most 4 */
	if (r->p.in >= 0)
		p[n++] = (struct pollfd){ .fd = r->p.in, .events = POLLOUT };
	if (r->p.out >= 0)
		p[n++] = (struct pollfd){ .fd = r->p.out, .events = POLLIN };
	if (r->p.err >= 0)
		p[n++] = (struct pollfd){ .fd = r->p.err, .events = POLLIN };
	if (r->p.pidfd >= 0 && !r->exited)
		p[n++] = (struct pollfd){ .fd = r->p.pidfd, .events = POLLIN };
	*deadline = r->deadline;
	/* Without a pidfd, look for the exit every 10 ms once the pipes close. */
	if (r->p.pidfd < 0 && !r->exited && r->p.out < 0 && r->p.err < 0) {
		int64_t soon = time_mono_ms() + 10;
		if (soon < *deadline)
			*deadline = soon;
	}
	return n;
}

static void feed(struct call *c, struct run *r)
{
	const char *s = jv_string_value(c->input);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(c->input));
	while (r->inoff < n) {
		ssize_t k = write(r->p.in, s + r->inoff, n - r->inoff);
		if (k > 0) {
			r->inoff += (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		break; /* EPIPE: the program does not want the rest */
	}
	proc_close_fd(&r->p.in);
}

/* Reads what FD has; returns 0 at EOF or on error, 1 if it may have more. */
static int drain(int fd, struct run *r, int is_out)
{
	char buf[65536];
	for (;;) {
		ssize_t k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 1;
		if (k <= 0)
			return 0;
		if (!is_out) {
			/* Keep the last ERR_TAIL bytes: the last line is the reason. */
			size_t add = (size_t)k;
			const char *from = buf;
			if (add > ERR_TAIL) {
				from += add - ERR_TAIL;
				add = ERR_TAIL;
			}
			if (r->errlen + add > ERR_TAIL) {
				size_t drop = r->errlen + add - ERR_TAIL;
				memmove(r->err, r->err + drop, r->errlen - drop);
				r->errlen -= drop;
			}
			memcpy(r->err + r->errlen, from, add);
			r->errlen += add;
			continue;
		}
		if (r->outlen + (size_t)k > EXEC_MAX_OUTPUT) {
			r->too_big = 1;
			continue;
		}
		if (r->outlen + (size_t)k > r->outcap) {
			size_t cap = r->outcap ? r->outcap * 2 : 65536;
			while (cap < r->outlen + (size_t)k)
				cap *= 2;
			char *o = realloc(r->out, cap);
			if (!o) {
				r->too_big = 1;
				continue;
			}
			r->out = o;
			r->outcap = cap;
		}
		memcpy(r->out + r->outlen, buf, (size_t)k);
		r->outlen += (size_t)k;
	}
}

/* The last non-empty line of what the program wrote to stderr. */
static void last_line(struct run *r, char *buf, size_t size)
{
	size_t end = r->errlen;
	while (end && (r->err[end - 1] == '\n' || r->err[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && r->err[start - 1] != '\n')
		start--;
	size_t n = end - start < size - 1 ? end - start : size - 1;
	memcpy(buf, r->err + start, n);
	buf[n] = 0;
	if (utf8_check(buf, n) != n)
		snprintf(buf, size, "(stderr not UTF-8)");
}

static void conclude(struct call *c, struct run *r)
{
	char tail[300];
	const char *prog = c->model->id;
	last_line(r, tail, sizeof tail);
	if (WIFSIGNALED(r->status)) {
		call_fail(c, "exit", "%s: killed by signal %d%s%s", prog, WTERMSIG(r->status),
		          *tail ? ": " : "", tail);
	} else if (WEXITSTATUS(r->status) != 0) {
		call_fail(c, "exit", "%s: exited with status %d%s%s", prog,
		          WEXITSTATUS(r->status), *tail ? ": " : "", tail);
	} else if (r->too_big) {
		call_fail(c, "bad_response", "%s: output larger than %u bytes", prog,
		          EXEC_MAX_OUTPUT);
	} else {
		size_t n = r->outlen;
		while (n && r->out[n - 1] == '\n')
			n--;
		size_t bad = utf8_check(r->out ? r->out : "", n);
		if (bad != n)
			call_fail(c, "bad_response", "%s: output is not UTF-8 (byte %zu)", prog,
			          bad + 1);
		else
			call_done(c, jv_string_sized(r->out ? r->out : "", (int)n));
	}
}

static void step(struct call *c, struct pollfd *p, int n, int64_t now)
{
	struct run *r = c->priv;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == r->p.in)
			feed(c, r);
		else if (p[i].fd == r->p.out && !drain(r->p.out, r, 1))
			proc_close_fd(&r->p.out);
		else if (p[i].fd == r->p.err && !drain(r->p.err, r, 0))
			proc_close_fd(&r->p.err);
	}
	if (!r->exited && proc_reap(&r->p, &r->status, 0) == 1)
		r->exited = 1;
	if (r->exited && r->p.out < 0 && r->p.err < 0) {
		conclude(c, r);
		release(c);
		return;
	}
	if (now >= r->deadline) {
		char tail[300];
		last_line(r, tail, sizeof tail);
		call_fail(c, "timeout", "%s: no answer after %lld ms%s%s", c->model->id,
		          (long long)(now - c->t0), *tail ? ": " : "", tail);
		release(c);
	}
}

const struct platform platform_exec = {
	.name = "exec",
	.check = check,
	.start = start,
	.fds = fds,
	.step = step,
	.cancel = release,
};
