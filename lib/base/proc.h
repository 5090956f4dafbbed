/* proc: child processes run by argv, never through a shell.
 *
 * proc_spawn() starts ARGV[0] (searched in PATH) in a process group of its
 * own, with pipes for stdin, stdout and stderr (the parent's ends are
 * non-blocking and close-on-exec), SIGPIPE restored to its default, and
 * EXTRA_ENV ("NAME=value" strings, NULL-terminated) added to the
 * environment. A pidfd (Linux 5.3+) says when it exits; -1 where there is
 * none.
 */
#ifndef PANIC_PROC_H
#define PANIC_PROC_H

#include <sys/types.h>

struct proc {
	pid_t pid;
	int in, out, err; /* the parent's ends; -1 once closed */
	int pidfd;
};

/* 0, or -1 with err_msg() (e.g. the program does not exist). */
int proc_spawn(struct proc *p, char *const argv[], char *const extra_env[]);
/* The same with exactly the environment ENV (NULL-terminated), ARGV[0] a
 * path (not searched), for a child that must not see the parent's secrets. */
int proc_spawn_env(struct proc *p, char *const argv[], char *const env[]);
/* Starts ARGV in the caller's process group with stdin and stderr
 * inherited and stdout on OUT; p->in, p->out and p->err stay -1. */
int proc_run(struct proc *p, char *const argv[], int out);
/* The same with exactly the environment ENV, ARGV[0] a path. */
int proc_run_env(struct proc *p, char *const argv[], char *const env[], int out);
/* Reaps the child; BLOCK waits for it. 1 if reaped (*status as from
 * waitpid), 0 if still running, -1 on error. */
int proc_reap(struct proc *p, int *status, int block);
/* Kills the child's whole process group with SIGKILL. */
void proc_kill(struct proc *p);
/* Closes every fd still open. */
void proc_close(struct proc *p);
/* Closes one of p's fds and marks it closed. */
void proc_close_fd(int *fd);

#endif
