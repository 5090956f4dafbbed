/* proc: child processes by argv; see proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
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
