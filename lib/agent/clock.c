/* clock: the runner's clocks, real or the tests' ($PANIC_CLOCK), and the
 * lock names of agents; see runi.h and run.h.
 *
 * The real wall clock is watched with a timerfd armed far in the future
 * with TFD_TIMER_CANCEL_ON_SET: setting the clock wakes the runner, which
 * works its cron fire times out again. The test clock is a file holding an
 * RFC 3339 time, watched with inotify on its directory (tests write it or
 * rename a new one into place).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"

char *agent_lock_name(const char *id, char buf[static 80])
{
	snprintf(buf, 80, "agent-%s", id);
	return buf;
}

int agent_clock_read(const char *path, int64_t *ms)
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(path);
	ssize_t k = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (k < 0)
		return err_errno(path);
	while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == ' ' || buf[k - 1] == '\r'))
		k--;
	buf[k] = 0;
	if (tz_parse_time(buf, ms) < 0)
		return err_set("%s: %s", path, err_msg());
	return 0;
}

static void arm(struct rclock *c)
{
	/* Far ahead: only a change of the clock ends it early. */
	struct itimerspec its = { .it_value = { .tv_sec = time(NULL) + 10 * 365 * 86400L } };
	if (timerfd_settime(c->fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0) {
		close(c->fd);
		c->fd = -1;
	}
}

int rclock_init(struct rclock *c, const char *path)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (!path || !*path) {
		c->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
		if (c->fd >= 0)
			arm(c);
		return 0;
	}
	if (!(c->path = strdup(path)))
		return err_errno("clock");
	if (agent_clock_read(path, &c->fake) < 0)
		return err_set("PANIC_CLOCK: %s", err_msg());
	char *copy = strdup(path);
	c->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!copy || c->fd < 0 ||
	    inotify_add_watch(c->fd, dirname(copy), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		free(copy);
		return err_errno("PANIC_CLOCK");
	}
	free(copy);
	return 0;
}

void rclock_free(struct rclock *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	c->path = NULL;
	c->fd = -1;
}

int64_t rclock_wall(const struct rclock *c)
{
	return c->path ? c->fake : time_now_ms();
}

int64_t rclock_sched(const struct rclock *c)
{
	return c->path ? c->fake : time_mono_ms();
}

void rclock_woke(struct rclock *c)
{
	if (c->fd < 0)
		return;
	if (!c->path) {
		uint64_t n;
		if (read(c->fd, &n, sizeof n) < 0 && errno == ECANCELED) {
			c->changed = 1;
			arm(c);
		}
		return;
	}
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int seen = 0;
	while (read(c->fd, buf, sizeof buf) > 0)
		seen = 1;
	int64_t t;
	if (seen && agent_clock_read(c->path, &t) == 0 && t != c->fake) {
		c->changed = t < c->fake; /* forward is time passing; back is a setting */
		c->fake = t;
	}
}
