/* ability: the allow-list and an ability's child process; see ability.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/ability.h"
#include "agent/spec.h"
#include "base/err.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "json/json.h"

#define KILL_GRACE_MS 1000

static int add_dir(struct ability_dirs *d, const char *dir)
{
	if (d->n >= ABILITY_DIRS_MAX)
		return err_set("at most %d ability directories", ABILITY_DIRS_MAX - 2);
	if (!(d->dir[d->n] = strdup(dir)))
		return err_errno("abilities");
	d->n++;
	return 0;
}

int ability_dirs_init(struct ability_dirs *d, char *const extra[], int n)
{
	memset(d, 0, sizeof *d);
	for (int i = 0; i < n; i++) {
		if (extra[i][0] != '/')
			return err_set("--abilities %s: not an absolute path", extra[i]);
		if (add_dir(d, extra[i]) < 0)
			return -1;
	}
	char *conf = path_config("abilities");
	int rc = conf ? add_dir(d, conf) : 0;
	free(conf);
	if (rc < 0)
		return -1;
	/* The installed ones: PREFIX/share/panic/abilities beside PREFIX/bin. */
	char exe[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 64);
	if (k > 0) {
		exe[k] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			slash = strrchr(exe, '/');
			if (slash) {
				strcpy(slash, "/share/panic/abilities");
				return add_dir(d, exe);
			}
		}
	}
	return 0;
}

void ability_dirs_free(struct ability_dirs *d)
{
	for (int i = 0; i < d->n; i++)
		free(d->dir[i]);
	d->n = 0;
}

int ability_builtin(const char *name)
{
	return !strcmp(name, "echo") || !strcmp(name, "llm");
}

/* 1 if ST may be trusted: owned by us or root, not writable by others. */
static int trusted(const struct stat *st)
{
	return (st->st_uid == getuid() || st->st_uid == 0) && !(st->st_mode & 0022);
}

int ability_find(const struct ability_dirs *d, const char *name, char **path)
{
	*path = NULL;
	if (!agent_ability_name_ok(name))
		return err_set("'%.80s' is not an ability name (letters, digits, . _ -; no '/', not "
		               "starting with '.' or '-')", name);
	if (ability_builtin(name))
		return 0;
	for (int i = 0; i < d->n; i++) {
		int dfd = open(d->dir[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		struct stat ds, st;
		int fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			close(dfd);
			if (e == ENOENT)
				continue;
			errno = e;
			return err_set("ability '%s' in %s: %s", name, d->dir[i], strerror(e));
		}
		int rc = 0;
		if (fstat(dfd, &ds) < 0 || fstat(fd, &st) < 0)
			rc = err_set("ability '%s' in %s: %s", name, d->dir[i], strerror(errno));
		else if (!trusted(&ds))
			rc = err_set("ability '%s': refused: the directory %s is writable by others or "
			             "not owned by you", name, d->dir[i]);
		else if (S_ISLNK(st.st_mode))
			rc = err_set("ability '%s' in %s: refused: a symlink (put the program itself, "
			             "or a script that runs it, there)", name, d->dir[i]);
		else if (!S_ISREG(st.st_mode))
			rc = err_set("ability '%s' in %s: refused: not a regular file", name, d->dir[i]);
		else if (!trusted(&st))
			rc = err_set("ability '%s' in %s: refused: writable by others or not owned by "
			             "you", name, d->dir[i]);
		else if (!(st.st_mode & 0111))
			rc = err_set("ability '%s' in %s: not executable (chmod +x)", name, d->dir[i]);
		close(fd);
		close(dfd);
		if (rc < 0)
			return -1;
		if (asprintf(path, "%s/%s", d->dir[i], name) < 0) {
			*path = NULL;
			return err_errno("ability");
		}
		return 0;
	}
	char dirs[600] = "";
	for (int i = 0; i < d->n; i++)
		snprintf(dirs + strlen(dirs), sizeof dirs - strlen(dirs), "%s%s", i ? ", " : "",
		         d->dir[i]);
	return err_set("no ability '%s' (built in: echo, llm; searched %s)", name, dirs);
}

/* ---- the child ---- */

static void write_in(struct ability_proc *a)
{
	while (a->p.in >= 0 && a->inoff < a->inlen) {
		ssize_t k = write(a->p.in, a->in + a->inoff, a->inlen - a->inoff);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k < 0) { /* it does not read its payload: its business */
			proc_close_fd(&a->p.in);
			return;
		}
		a->inoff += (size_t)k;
	}
	if (a->inoff >= a->inlen)
		proc_close_fd(&a->p.in);
}

int ability_start(struct ability_proc *a, const char *path, char *const env[],
                  const char *payload, size_t n, int64_t timeout_ms, size_t max)
{
	memset(a, 0, sizeof *a);
	a->p.pid = -1;
	a->p.in = a->p.out = a->p.err = a->p.pidfd = -1;
	a->max = max;
	char *argv[] = { (char *)path, NULL };
	if (!(a->in = malloc(n ? n : 1))) {
		a->done = 1;
		return err_errno("ability");
	}
	memcpy(a->in, payload, n);
	a->inlen = n;
	if (proc_spawn_env(&a->p, argv, env) < 0) {
		a->done = 1;
		return -1;
	}
	a->pgid = a->p.pid;
	a->timeout_ms = timeout_ms;
	a->deadline = time_mono_ms() + timeout_ms;
	write_in(a); /* now, into the pipe's buffer: no turn of the loop waits for POLLOUT */
	return 0;
}

int ability_fds(struct ability_proc *a, struct pollfd *p, int max, int64_t *deadline)
{
	int k = 0;
	if (a->done || max < 4)
		return 0;
	if (a->p.in >= 0)
		p[k++] = (struct pollfd){ .fd = a->p.in, .events = POLLOUT };
	if (a->p.out >= 0)
		p[k++] = (struct pollfd){ .fd = a->p.out, .events = POLLIN };
	if (a->p.err >= 0)
		p[k++] = (struct pollfd){ .fd = a->p.err, .events = POLLIN };
	if (a->p.pidfd >= 0 && !a->exited)
		p[k++] = (struct pollfd){ .fd = a->p.pidfd, .events = POLLIN };
	int64_t d = a->killed ? a->killed + KILL_GRACE_MS : a->deadline;
	if (a->p.pidfd < 0 && !a->exited) /* no pidfd: look every 50 ms */
		d = time_mono_ms() + 50 < d ? time_mono_ms() + 50 : d;
	if (d < *deadline)
		*deadline = d;
	return k;
}

static void read_out(struct ability_proc *a)
{
	while (a->p.out >= 0) {
		if (a->outcap - a->outlen < 65536) {
			size_t cap = a->outcap ? a->outcap * 2 : 65536;
			char *nb = realloc(a->out, cap);
			if (!nb)
				break;
			a->out = nb;
			a->outcap = cap;
		}
		ssize_t k = read(a->p.out, a->out + a->outlen, a->outcap - a->outlen);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			proc_close_fd(&a->p.out);
			return;
		}
		a->outlen += (size_t)k;
		if (a->outlen > a->max) { /* a flood: stop it now */
			a->flooded = 1;
			proc_kill(&a->p);
			proc_close_fd(&a->p.out);
			return;
		}
	}
}

static void read_err(struct ability_proc *a)
{
	char buf[4096];
	while (a->p.err >= 0) {
		ssize_t k = read(a->p.err, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			proc_close_fd(&a->p.err);
			return;
		}
		/* Keep the last ABILITY_ERR_TAIL bytes. */
		size_t n = (size_t)k;
		if (n >= sizeof a->err) {
			memcpy(a->err, buf + n - sizeof a->err, sizeof a->err);
			a->errlen = sizeof a->err;
		} else {
			if (a->errlen + n > sizeof a->err) {
				size_t drop = a->errlen + n - sizeof a->err;
				memmove(a->err, a->err + drop, a->errlen - drop);
				a->errlen -= drop;
			}
			memcpy(a->err + a->errlen, buf, n);
			a->errlen += n;
		}
	}
}

/* Ends it: what is left is read, the process group killed, fds closed. */
static void finish(struct ability_proc *a)
{
	read_out(a);
	read_err(a);
	if (a->pgid > 0)
		kill(-a->pgid, SIGKILL); /* anything it left behind */
	proc_close(&a->p);
	a->done = 1;
}

void ability_step(struct ability_proc *a, struct pollfd *p, int n, int64_t now)
{
	if (a->done)
		return;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == a->p.in)
			write_in(a);
		else if (p[i].fd == a->p.out)
			read_out(a);
		else if (p[i].fd == a->p.err)
			read_err(a);
	}
	if (!a->exited && proc_reap(&a->p, &a->status, 0) == 1)
		a->exited = 1;
	if (a->exited) {
		finish(a);
		return;
	}
	if (a->flooded && !a->killed) {
		a->killed = now;
	} else if (!a->killed && now >= a->deadline) {
		a->timed_out = 1;
		a->killed = now;
		kill(-a->pgid, SIGTERM);
	} else if (a->killed && now >= a->killed + KILL_GRACE_MS) {
		proc_kill(&a->p);
		if (proc_reap(&a->p, &a->status, 1) == 1)
			a->exited = 1;
		finish(a);
	}
}

/* The last line of what it wrote to stderr, for an error message. */
static void err_line(struct ability_proc *a, char *buf, size_t size)
{
	size_t n = a->errlen;
	while (n && (a->err[n - 1] == '\n' || a->err[n - 1] == '\r'))
		n--;
	size_t s = n;
	while (s && a->err[s - 1] != '\n')
		s--;
	snprintf(buf, size, "%.*s", (int)(n - s), a->err + s);
}

static jv failure(const char *kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static jv failure(const char *kind, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return json_set(json_set(jv_object(), "kind", jv_string(kind)), "message", jv_string(msg));
}

int ability_result(struct ability_proc *a, jv *result, jv *error)
{
	*result = jv_null();
	*error = jv_null();
	char tail[600];
	err_line(a, tail, sizeof tail);
	const char *sep = *tail ? ": " : "";
	if (a->flooded) {
		*error = failure("flood", "printed more than %zu bytes (killed)", a->max);
	} else if (a->timed_out) {
		*error = failure("timeout", "still running after %lld ms (killed)%s%s",
		                 (long long)a->timeout_ms, sep, tail);
	} else if (!a->exited) {
		*error = failure("spawn", "could not be run");
	} else if (WIFSIGNALED(a->status)) {
		*error = failure("crash", "killed by signal %d (%s)%s%s", WTERMSIG(a->status),
		                 strsignal(WTERMSIG(a->status)), sep, tail);
	} else if (WEXITSTATUS(a->status)) {
		*error = failure("exit", "exit status %d%s%s", WEXITSTATUS(a->status), sep, tail);
	} else {
		jv v = a->outlen ? json_parse(a->out, a->outlen) : jv_invalid();
		if (!jv_is_valid(v)) {
			char why[300];
			if (a->outlen)
				json_error_text(v, why, sizeof why);
			else
				jv_free(v);
			*error = failure("bad_output", "%s", a->outlen ? why : "printed nothing (an "
			                 "ability prints one JSON value, such as {})");
			if (a->outlen) {
				jv m = json_get(*error, "message");
				char full[400];
				snprintf(full, sizeof full, "not JSON: %s", jv_string_value(m));
				jv_free(m);
				*error = json_set(*error, "message", jv_string(full));
			}
		} else {
			*result = v;
		}
	}
	return jv_get_kind(*error) == JV_KIND_NULL ? 0 : -1;
}

void ability_clear(struct ability_proc *a)
{
	free(a->in);
	free(a->out);
	a->in = a->out = NULL;
	a->inlen = a->outlen = a->outcap = 0;
}

void ability_cancel(struct ability_proc *a)
{
	if (!a->done) {
		if (a->pgid > 0)
			kill(-a->pgid, SIGKILL);
		if (a->p.pid > 0)
			proc_reap(&a->p, &a->status, 1);
		proc_close(&a->p);
		a->done = 1;
	}
	ability_clear(a);
}
