/* drive: finding, describing and driving workflow files; see drive.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "flow/drive.h"
#include "json/json.h"

#define DESCRIBE_MS 30000

/* 0 if PATH is a regular executable file; its real path in BUF. */
static int usable(const char *path, char *buf, size_t size)
{
	struct stat st;
	char real[PATH_MAX];
	if (stat(path, &st) < 0)
		return err_errno(path);
	if (!S_ISREG(st.st_mode))
		return err_set("%s: not a regular file", path);
	if (access(path, X_OK) < 0)
		return err_set("%s: not executable (chmod +x it)", path);
	if (!realpath(path, real))
		return err_errno(path);
	if (strlen(real) >= size)
		return err_set("%s: path too long", path);
	strcpy(buf, real);
	return 0;
}

int flow_find(const char *arg, char *buf, size_t size)
{
	if (!*arg)
		return err_set("no workflow named");
	if (strchr(arg, '/'))
		return usable(arg, buf, size);
	if (!strcmp(arg, ".") || !strcmp(arg, ".."))
		return err_set("'%s' is not a workflow", arg);
	const char *env = getenv("SYN_PATH");
	char *dirs = NULL;
	if (env && *env) {
		dirs = strdup(env);
	} else {
		char *cfg = path_config("workflows");
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = 0;
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = 0;
		if (asprintf(&dirs, "%s:%s/../share/panic/workflows", cfg ? cfg : "", exe) < 0)
			dirs = NULL;
		free(cfg);
	}
	if (!dirs)
		return err_errno("workflow");
	int rc = -1, seen = 0;
	char why[600] = "";
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", d, arg);
		if (access(p, F_OK) < 0)
			continue;
		seen = 1;
		if (usable(p, buf, size) == 0) {
			rc = 0;
			break;
		}
		snprintf(why, sizeof why, "%s", err_msg());
	}
	free(dirs);
	if (rc < 0 && seen)
		err_set("%s", why);
	else if (rc < 0)
		err_set("%s: no such workflow (give its path, as ./%s, or put it in a directory of "
		        "$SYN_PATH or ~/.config/panic/workflows)", arg, arg);
	return rc;
}

struct run {
	struct proc p;
	const char *in;
	size_t inlen, inoff;
	char *buf;
	size_t len, cap;
	void (*line)(const char *s, size_t n, void *ctx);
	void *ctx;
};

static void lines(struct run *r, int final)
{
	size_t start = 0;
	for (size_t i = 0; i < r->len; i++)
		if (r->buf[i] == '\n') {
			r->line(r->buf + start, i - start, r->ctx);
			start = i + 1;
		}
	if (final && start < r->len) {
		r->line(r->buf + start, r->len - start, r->ctx);
		start = r->len;
	}
	if (start) {
		memmove(r->buf, r->buf + start, r->len - start);
		r->len -= start;
	}
}

static int drain(struct run *r, int fd, int out)
{
	char chunk[65536];
	for (;;) {
		ssize_t k = read(fd, chunk, sizeof chunk);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 1;
		if (k <= 0)
			return 0;
		if (!out) {
			ssize_t w = write(2, chunk, (size_t)k);
			(void)w;
			continue;
		}
		if (r->len + (size_t)k > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 65536;
			while (cap < r->len + (size_t)k)
				cap *= 2;
			char *b = realloc(r->buf, cap);
			if (!b)
				return 0;
			r->buf = b;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, chunk, (size_t)k);
		r->len += (size_t)k;
		lines(r, 0);
	}
}

/* 1 if FILE's first line hands it to syn-run ("#!/usr/bin/env syn-run",
 * or "#!" and a path ending in "/syn-run"): syn-run FILE would run its
 * body with /bin/sh, which the caller can then do itself, saving the start
 * of env and of syn-run. */
static int runs_in_sh(const char *file)
{
	char line[256];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = 0;
	char *end = strchr(line, '\n');
	if (!end)
		return 0;
	while (end > line + 2 && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = 0;
	const char *cmd = line + 2;
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	size_t len = strlen(cmd);
	return !strcmp(cmd, "/usr/bin/env syn-run") ||
	       (len > 8 && !strcmp(cmd + len - 8, "/syn-run") && !strpbrk(cmd, " \t"));
}

/* Runs FILE (with EXTRA environment) as drive.h says; TIMEOUT_MS 0: none. */
static int run(const char *file, char *const extra[], const char *in, size_t n, int sigfd,
               int timeout_ms, void (*line)(const char *, size_t, void *), void *ctx)
{
	struct run r = { .in = in, .inlen = n, .line = line, .ctx = ctx };
	char *argv[] = { (char *)file, NULL, NULL };
	if (runs_in_sh(file)) {
		argv[0] = "/bin/sh";
		argv[1] = (char *)file;
	}
	if (proc_spawn(&r.p, argv, extra) < 0)
		return -1;
	int64_t deadline = timeout_ms ? time_mono_ms() + timeout_ms : 0;
	int status = 0, exited = 0, killed = 0;
	while (!exited || r.p.out >= 0 || r.p.err >= 0) {
		struct pollfd p[5];
		int np = 0;
		if (r.p.in >= 0 && r.inoff >= r.inlen)
			proc_close_fd(&r.p.in);
		if (r.p.in >= 0)
			p[np++] = (struct pollfd){ .fd = r.p.in, .events = POLLOUT };
		if (r.p.out >= 0)
			p[np++] = (struct pollfd){ .fd = r.p.out, .events = POLLIN };
		if (r.p.err >= 0)
			p[np++] = (struct pollfd){ .fd = r.p.err, .events = POLLIN };
		if (!exited && r.p.pidfd >= 0)
			p[np++] = (struct pollfd){ .fd = r.p.pidfd, .events = POLLIN };
		if (sigfd >= 0)
			p[np++] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		int wait = r.p.pidfd < 0 && !exited ? 20 : -1;
		if (deadline) {
			int64_t left = deadline - time_mono_ms();
			wait = left < 0 ? 0 : (wait < 0 || left < wait) ? (int)left : wait;
		}
		if (poll(p, (nfds_t)np, wait) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < np; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == r.p.in) {
				ssize_t k = write(r.p.in, r.in + r.inoff, r.inlen - r.inoff);
				if (k > 0)
					r.inoff += (size_t)k;
				else if (k < 0 && errno != EAGAIN && errno != EINTR)
					proc_close_fd(&r.p.in); /* the workflow does not want the rest */
			} else if (p[i].fd == r.p.out && !drain(&r, r.p.out, 1)) {
				proc_close_fd(&r.p.out);
			} else if (p[i].fd == r.p.err && !drain(&r, r.p.err, 0)) {
				proc_close_fd(&r.p.err);
			} else if (p[i].fd == sigfd) {
				struct signalfd_siginfo si;
				if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si && r.p.pid > 0) {
					kill(-r.p.pid, (int)si.ssi_signo);
					killed = 1;
				}
			}
		}
		if (!exited && proc_reap(&r.p, &status, 0) == 1)
			exited = 1;
		if (deadline && time_mono_ms() >= deadline && !exited) {
			proc_kill(&r.p);
			killed = 2;
			deadline = 0;
		}
	}
	lines(&r, 1);
	if (!exited)
		proc_reap(&r.p, &status, 1);
	proc_close(&r.p);
	free(r.buf);
	if (killed == 2)
		return err_set("%s: no answer after %d ms: killed", file, timeout_ms);
	return status;
}

int flow_drive(const char *file, const char *steps, const char *input, size_t n, int sigfd,
               void (*line)(const char *s, size_t n, void *ctx), void *ctx)
{
	char *env[] = { NULL, NULL, "SYN_DESCRIBE=", NULL };
	if (asprintf(&env[0], "SYN_WORKFLOW=%s", file) < 0 ||
	    asprintf(&env[1], "SYN_STEPS=%s", steps ? steps : "") < 0)
		return err_errno("drive");
	int rc = run(file, env, input, n, sigfd, 0, line, ctx);
	free(env[0]);
	free(env[1]);
	return rc;
}

char *flow_steps_env(jv desc)
{
	jv s = jv_string("");
	jv_array_foreach(desc, i, d)
	{
		if (i)
			s = jv_string_append_str(s, " ");
		s = jv_string_append_str(s, json_str_or(d, "step", "?"));
		jv_free(d);
	}
	char *out = strdup(jv_string_value(s));
	jv_free(s);
	return out;
}

struct desc {
	jv steps;
	char bad[300];
	int cannot; /* a stage cannot start */
};

static void desc_line(const char *s, size_t n, void *ctx)
{
	struct desc *d = ctx;
	if (d->bad[0] || n == 0)
		return;
	jv v = json_parse(s, n);
	if (jv_get_kind(v) == JV_KIND_OBJECT && json_str(v, "error", NULL)) {
		snprintf(d->bad, sizeof d->bad, "%s (its reason is above)", json_str(v, "error", NULL));
		d->cannot = 1;
		jv_free(v);
		return;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT || !json_str(v, "step", NULL)) {
		snprintf(d->bad, sizeof d->bad, "it printed a line that is not a step: %.*s",
		         (int)(n > 80 ? 80 : n), s);
		jv_free(v);
		return;
	}
	d->steps = jv_array_append(d->steps, v);
}

jv flow_describe(const char *file, int sigfd)
{
	struct desc d = { .steps = jv_array() };
	char *env[] = { "SYN_DESCRIBE=1", "SYN_STEPS=", NULL };
	int st = run(file, env, "", 0, sigfd, DESCRIBE_MS, desc_line, &d);
	if (st < 0 || (st && !d.bad[0])) {
		if (st > 0)
			err_set("%s: describing it failed (%s %d)", file,
			        WIFSIGNALED(st) ? "killed by signal" : "exit status",
			        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		jv_free(d.steps);
		return jv_invalid();
	}
	if (d.bad[0]) {
		err_set("%s: %s", file, d.bad);
		jv_free(d.steps);
		return d.cannot ? jv_invalid_with_msg(jv_string("cannot start")) : jv_invalid();
	}
	int n = jv_array_length(jv_copy(d.steps));
	if (n == 0) {
		jv_free(d.steps);
		err_set("%s: no steps (is its pipeline made of syn-step stages?)", file);
		return jv_invalid();
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++) {
			jv a = jv_array_get(jv_copy(d.steps), i), b = jv_array_get(jv_copy(d.steps), j);
			int same = !strcmp(json_str_or(a, "step", ""), json_str_or(b, "step", ""));
			if (same)
				err_set("%s: step name '%s' is used twice", file, json_str_or(a, "step", ""));
			jv_free(a);
			jv_free(b);
			if (same) {
				jv_free(d.steps);
				return jv_invalid();
			}
		}
	return d.steps;
}

void flow_step_names(jv desc, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = 0;
	int n = jv_array_length(jv_copy(desc));
	for (int i = 0; i < n && used < size; i++) {
		jv a = jv_array_get(jv_copy(desc), i);
		int k = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", json_str_or(a, "step", "?"));
		jv_free(a);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}
