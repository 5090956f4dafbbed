/* ability: what an agent can do, found only in allow-listed directories
 * and run as a child process by argv.
 *
 * The allow-list, searched in order: the directories given (agent-run
 * --abilities), ${XDG_CONFIG_HOME:-~/.config}/panic/abilities, and the
 * installed share/panic/abilities (beside the program's bin/). The
 * built-in abilities "echo" and "llm" come first and cannot be shadowed.
 * A name with "/", a leading "." or "-", or other than letters, digits,
 * "._-" is refused; so is a directory others can write to, and a file
 * that is a symlink, not a regular file, not executable, or writable by
 * others.
 *
 * Running: the payload (JSON) on stdin, then stdin closed; the result is
 * the one JSON value it prints on stdout. A non-zero exit (kind "exit",
 * with the end of its stderr), a death by signal (kind "crash"), more than
 * MAX bytes of output (kind "flood": killed at once), no JSON or more
 * than one value (kind "bad_output") and the timeout (kind "timeout": its
 * process group gets SIGTERM, then SIGKILL a second later) fail. The whole
 * process group is killed when the ability ends, so nothing it started
 * lives on.
 *
 * jv ownership: ability_result() gives the caller its jv.
 */
#ifndef PANIC_AGENT_ABILITY_H
#define PANIC_AGENT_ABILITY_H

#include <jv.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/proc.h"

#define ABILITY_DIRS_MAX 8
#define ABILITY_ERR_TAIL 2048

struct ability_dirs {
	char *dir[ABILITY_DIRS_MAX];
	int n;
};

/* The allow-list: EXTRA (N directories) first. 0, or -1 with err_msg(). */
int ability_dirs_init(struct ability_dirs *d, char *const extra[], int n);
void ability_dirs_free(struct ability_dirs *d);
/* 1 for "echo" and "llm". */
int ability_builtin(const char *name);
/* Finds the ability NAME: 0 with *PATH (malloc'd; NULL for a built-in),
 * or -1 with err_msg() saying why it is refused or not found. */
int ability_find(const struct ability_dirs *d, const char *name, char **path);

struct ability_proc {
	struct proc p;
	char *in;
	size_t inlen, inoff;
	char *out;
	size_t outlen, outcap, max;
	char err[ABILITY_ERR_TAIL];
	size_t errlen;
	int64_t deadline, killed; /* monotonic ms; killed: SIGTERM sent at */
	int64_t timeout_ms;
	pid_t pgid; /* its process group, kept after it is reaped */
	int exited, status, timed_out, flooded;
	int done;
};

/* Starts PATH with the environment ENV (exactly), PAYLOAD (N bytes) for
 * its stdin, TIMEOUT_MS and at most MAX bytes of output. 0, or -1 with
 * err_msg() (the ability is then done, its error a "spawn" failure). */
int ability_start(struct ability_proc *a, const char *path, char *const env[],
                  const char *payload, size_t n, int64_t timeout_ms, size_t max);
/* Fills at most MAX pollfds; returns how many. *DEADLINE (monotonic ms)
 * is lowered to when it must be stepped at the latest. */
int ability_fds(struct ability_proc *a, struct pollfd *p, int max, int64_t *deadline);
/* Moves A on after a poll (P: its fds with revents). Sets done. */
void ability_step(struct ability_proc *a, struct pollfd *p, int n, int64_t now);
/* When done: 0 with *RESULT, or -1 with *ERROR ({"kind","message"}). */
int ability_result(struct ability_proc *a, jv *result, jv *error);
/* Kills it (its process group) at once and releases everything. */
void ability_cancel(struct ability_proc *a);
void ability_clear(struct ability_proc *a);

#endif
