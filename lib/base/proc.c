/* proc: child processes by argv; see proc.h.
 *
 * proc_spawn_env() (the agents' abilities, started by the hundred a
 * second) does not go through posix_spawn: glibc's maps a fresh stack for
 * each child and unmaps it after, and the unmap of pages the child
 * touched flushes the TLB of every CPU the process runs on, by an
 * interrupt it waits for (a good part of agent-run's CPU per job, more in
 * a VM). Its child runs by clone(CLONE_VM | CLONE_VFORK) on one stack kept
 * for it (one child at a time, under a mutex), does what posix_spawn's
 * would by raw system calls (no libc state, nothing a sanitizer wraps),
 * and execs; the parent waits, as with vfork, until it has.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/proc.h"

extern char **environ;

/* environ with EXTRA added, an entry of EXTRA replacing one of the same name. */
static char **env_with(char *const extra[])
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	while (extra && extra[k])
		k++;
	char **env = malloc((n + k + 1) * sizeof *env);
	if (!env)
		return NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		int replaced = 0;
		for (size_t j = 0; j < k && !replaced; j++)
			replaced = !strncmp(extra[j], environ[i], len);
		if (!replaced)
			env[m++] = environ[i];
	}
	for (size_t j = 0; j < k; j++)
		env[m++] = extra[j];
	env[m] = NULL;
	return env;
}

/* ---- the vfork-like child of proc_spawn_env() ---- */

#define CHILD_STACK (64 * 1024)

static char child_stack[CHILD_STACK] __attribute__((aligned(64)));
static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;

struct child_args {
	const char *path;
	char *const *argv, *const *envp;
	int fd[3];      /* dup'd to 0, 1 and 2 */
	long maxfd;     /* for closing by hand where close_range is missing */
	volatile int err;
};

/* The kernel's struct sigaction (x86_64, aarch64 and most others). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* In the child, on memory it shares with its parent (which waits): only
 * system calls, nothing that keeps state in libc. */
__attribute__((no_sanitize("address", "undefined"))) static int child_main(void *p)
{
	struct child_args *a = p;
	/* A handler of the parent's would run here on the parent's memory:
	 * every signal with one goes back to its default (signals are
	 * blocked until then); SIGPIPE too, ignored by the parent. */
	for (long sig = 1; sig <= 64; sig++) {
		struct ksigaction old, dfl = { 0 };
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, 8) != 0)
			continue;
		if (sig == SIGPIPE || (old.handler != SIG_DFL && old.handler != SIG_IGN))
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	}
	if (syscall(SYS_setpgid, 0, 0) != 0)
		goto fail;
	for (long i = 0; i < 3; i++) {
		if (a->fd[i] == i) {
			if (syscall(SYS_fcntl, i, F_SETFD, 0) != 0)
				goto fail;
		} else if (syscall(SYS_dup3, a->fd[i], i, 0) != i) {
			goto fail;
		}
	}
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
#endif
		for (long fd = 3; fd < a->maxfd; fd++)
			syscall(SYS_close, fd);
	uint64_t none = 0;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	syscall(SYS_execve, a->path, a->argv, a->envp);
fail:
	a->err = errno ? errno : EINVAL;
	syscall(SYS_exit, 127);
	return 0;
}

/* Starts PATH (ARGV, exactly ENVP) with FD[0..2] as its standard fds, in
 * a process group of its own: its pid, or -1 with errno. */
static pid_t child_spawn(const char *path, char *const argv[], char *const envp[], int fd[3])
{
	struct rlimit rl;
	struct child_args a = { .path = path, .argv = argv, .envp = envp,
		                .fd = { fd[0], fd[1], fd[2] }, .maxfd = 1024 };
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		a.maxfd = (long)rl.rlim_cur;
	sigset_t all, old;
	sigfillset(&all);
	pthread_mutex_lock(&child_lock);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = clone(child_main, child_stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD,
	                  &a);
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&child_lock);
	if (pid < 0) {
		errno = e;
		return -1;
	}
	if (a.err) { /* it never ran: reap the 127 */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = a.err;
		return -1;
	}
	return pid;
}

/* Starts ARGV. With OUT < 0: pipes for all three standard fds and a
 * process group of its own; else stdin and stderr inherited, stdout OUT. */
static int spawn(struct proc *p, char *const argv[], char *const extra_env[], int out,
                 int exact)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int rc = -1, piped = out < 0;
	char **env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	p->pid = -1;
	p->in = p->out = p->err = p->pidfd = -1;

	if (piped && (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	              pipe2(perr, O_CLOEXEC) < 0)) {
		err_errno("pipe");
		goto out_pipes;
	}
	if (exact && piped) {
		int fd[3] = { pin[0], pout[1], perr[1] };
		if ((p->pid = child_spawn(argv[0], argv, extra_env, fd)) < 0) {
			err_errno(argv[0]);
			goto out_pipes;
		}
		goto started;
	}
	if (exact ? !(env = malloc(sizeof *env)) : !(env = env_with(extra_env))) {
		err_errno("spawn");
		goto out_pipes;
	}
	posix_spawn_file_actions_init(&fa);
	if (piped) {
		posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
		posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
		posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	} else {
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	}
	/* Nothing but the three standard fds reaches the child: not a
	 * socket of libcurl's, not another child's pipe, not the bus. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigset_t def, none;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, (piped ? POSIX_SPAWN_SETPGROUP : 0) |
	                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	int e = exact ? posix_spawn(&p->pid, argv[0], &fa, &at, argv, extra_env)
	              : posix_spawnp(&p->pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (e) {
		errno = e;
		err_errno(argv[0]);
		p->pid = -1;
		goto out_pipes;
	}
started:
	if (piped) {
		p->in = pin[1], pin[1] = -1;
		p->out = pout[0], pout[0] = -1;
		p->err = perr[0], perr[0] = -1;
		fcntl(p->in, F_SETFL, O_NONBLOCK);
		fcntl(p->out, F_SETFL, O_NONBLOCK);
		fcntl(p->err, F_SETFL, O_NONBLOCK);
	}
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
#endif
	rc = 0;
out_pipes:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0) close(pin[i]);
		if (pout[i] >= 0) close(pout[i]);
		if (perr[i] >= 0) close(perr[i]);
	}
	free(env);
	return rc;
}

int proc_spawn(struct proc *p, char *const argv[], char *const extra_env[])
{
	return spawn(p, argv, extra_env, -1, 0);
}

int proc_spawn_env(struct proc *p, char *const argv[], char *const env[])
{
	return spawn(p, argv, env, -1, 1);
}

int proc_run(struct proc *p, char *const argv[], int out)
{
	return spawn(p, argv, NULL, out, 0);
}

int proc_run_env(struct proc *p, char *const argv[], char *const env[], int out)
{
	return spawn(p, argv, (char *const *)env, out, 1);
}

int proc_reap(struct proc *p, int *status, int block)
{
	if (p->pid < 0)
		return 1;
	for (;;) {
		pid_t r = waitpid(p->pid, status, block ? 0 : WNOHANG);
		if (r == p->pid) {
			p->pid = -1;
			return 1;
		}
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return err_errno("waitpid");
	}
}

void proc_kill(struct proc *p)
{
	if (p->pid > 0)
		kill(-p->pid, SIGKILL);
}

void proc_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void proc_close(struct proc *p)
{
	proc_close_fd(&p->in);
	proc_close_fd(&p->out);
	proc_close_fd(&p->err);
	proc_close_fd(&p->pidfd);
}
