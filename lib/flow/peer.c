/* peer: a stage's place in its pipeline, from /proc; see peer.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "flow/peer.h"

enum { R_NONE, R_OTHER, R_SHELL, R_STAGE };

/* The whole small file PATH into BUF (NUL-terminated): its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t k;
	while (n < size - 1 && (k = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)k;
	close(fd);
	buf[n] = 0;
	return (ssize_t)n;
}

/* What process PID is: R_STAGE (a syn-step), R_SHELL or R_OTHER. */
static int what(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, exe, sizeof exe - 1);
	if (n <= 0)
		return R_OTHER;
	exe[n] = 0;
	char *sp = strstr(exe, " (deleted)");
	if (sp && !sp[10])
		*sp = 0;
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	if (!strcmp(base, "syn-step"))
		return R_STAGE;
	static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh",
		                              "ash", "busybox", "yash", "posh", "fish", NULL };
	for (int i = 0; shells[i]; i++)
		if (!strcmp(base, shells[i]))
			return R_SHELL;
	return R_OTHER;
}

/* 1 if PID holds the pipe (DEV, INO) open for reading. */
static int reads_pipe(pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char fd[300];
		struct stat st, ln;
		snprintf(fd, sizeof fd, "/proc/%d/fd/%s", (int)pid, e->d_name);
		if (stat(fd, &st) < 0 || st.st_ino != ino || st.st_dev != dev)
			continue;
		if (lstat(fd, &ln) == 0 && (ln.st_mode & S_IRUSR) && !(ln.st_mode & S_IWUSR))
			found = 1;
	}
	closedir(d);
	return found;
}

/* The parent and process group of PID, from /proc/PID/stat. */
static int stat_of(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, sizeof buf) <= 0)
		return -1;
	char *p = strrchr(buf, ')');
	int pp, pg;
	if (!p || sscanf(p + 1, " %*c %d %d", &pp, &pg) != 2)
		return -1;
	*ppid = pp;
	*pgrp = pg;
	return 0;
}

/* 1 if process PID is "syn-step NAME ...". */
static int named(pid_t pid, const char *name)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	ssize_t n = slurp(path, buf, sizeof buf);
	if (n <= 0)
		return 0;
	size_t a0 = strlen(buf);
	return (ssize_t)a0 + 1 < n && !strcmp(buf + a0 + 1, name);
}

/* The pids in /proc/PPID/task/PPID/children, or every pid if that cannot
 * be read (*ALL set): a malloc'd array of *N, or NULL. */
static pid_t *candidates(pid_t ppid, int *n, int *all)
{
	char path[96], buf[8192];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)ppid, (int)ppid);
	pid_t *v = NULL;
	int cap = 0;
	*n = 0;
	*all = slurp(path, buf, sizeof buf) < 0;
	if (!*all) {
		for (char *s = buf, *e; *s; s = e) {
			long p = strtol(s, &e, 10);
			if (e == s)
				break;
			if (*n == cap) {
				pid_t *w = realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *v);
				if (!w)
					break;
				v = w;
			}
			v[(*n)++] = (pid_t)p;
		}
		return v;
	}
	DIR *d = opendir("/proc");
	if (!d)
		return NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (*n == cap) {
			pid_t *w = realloc(v, (size_t)(cap = cap ? cap * 2 : 256) * sizeof *v);
			if (!w)
				break;
			v = w;
		}
		v[(*n)++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return v;
}

static pid_t *candidates(pid_t ppid, int *n, int *all);

/* The kind of the reader of the pipe (DEV, INO) among the N pids of V:
 * the most telling one found. A reader that is neither a stage nor a
 * shell may be a wrapper (time, perf, strace) whose child reads too: its
 * children are looked at, DEPTH levels down. */
static int readers(const pid_t *v, int n, pid_t self, dev_t dev, ino_t ino, int depth)
{
	int best = R_NONE;
	for (int i = 0; i < n && best != R_STAGE; i++) {
		if (v[i] == self || !reads_pipe(v[i], dev, ino))
			continue;
		int k = what(v[i]);
		if (k == R_OTHER && depth > 0) {
			int m, all;
			pid_t *w = candidates(v[i], &m, &all);
			int kk = all ? R_NONE : readers(w, m, self, dev, ino, depth - 1);
			free(w);
			if (kk > k)
				k = kk;
		}
		if (k > best)
			best = k;
	}
	return best;
}

int flow_peers_scan(const char *name, int wait_ms, struct flow_peers *out)
{
	pid_t self = getpid(), ppid = getppid(), pgrp = getpgrp();
	out->downstream = 0;
	out->dup = 0;
	struct stat so;
	int pipe_out = fstat(1, &so) == 0 && S_ISFIFO(so.st_mode);
	int n, all;
	pid_t *v = candidates(ppid, &n, &all);
	if (!v && n == 0 && access("/proc/self", F_OK) < 0)
		return err_set("no /proc: cannot tell where the stage sits in its pipeline");
	for (int i = 0; name && i < n; i++) {
		pid_t pp, pg;
		if (v[i] == self || stat_of(v[i], &pp, &pg) < 0 || pp != ppid || pg != pgrp)
			continue;
		if (what(v[i]) == R_STAGE && named(v[i], name)) {
			out->dup = v[i];
			break;
		}
	}
	if (!pipe_out) {
		free(v);
		return 0;
	}
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	for (int waited = 0;; waited += 2) {
		int k = readers(v, n, self, so.st_dev, so.st_ino, 2);
		if (k == R_NONE && ppid > 1 && reads_pipe(ppid, so.st_dev, so.st_ino))
			k = what(ppid) == R_SHELL ? R_SHELL : R_OTHER;
		if (k == R_NONE && !all) {
			int m, a2;
			pid_t *w = candidates(-1, &m, &a2); /* no such parent: every process */
			k = readers(w, m, self, so.st_dev, so.st_ino, 2);
			free(w);
		}
		if (k != R_SHELL || waited >= wait_ms) {
			out->downstream = k == R_STAGE ? 1 : k == R_SHELL ? -1 : 0;
			break;
		}
		nanosleep(&nap, NULL);
		free(v);
		v = candidates(ppid, &n, &all);
	}
	free(v);
	return 0;
}
