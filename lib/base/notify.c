/* notify: sd_notify(3) datagrams; see notify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/err.h"
#include "base/notify.h"
#include "base/timeutil.h"

int notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
		return err_set("NOTIFY_SOCKET: not a socket path: %s", path);
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_errno("notify");
	ssize_t k = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	int e = errno;
	close(fd);
	errno = e;
	return k < 0 ? err_errno("notify") : 0;
}

int64_t notify_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	long long us = strtoll(usec, NULL, 10);
	return us > 0 ? us / 2000 : 0;
}

void watchdog_init(struct watchdog *w)
{
	w->ms = notify_watchdog_ms();
	w->pinged = time_mono_ms();
}

int watchdog_tick(struct watchdog *w, int wait)
{
	if (!w->ms)
		return wait;
	int64_t now = time_mono_ms();
	if (now - w->pinged >= w->ms) {
		notify("WATCHDOG=1");
		w->pinged = now;
	}
	int left = (int)(w->pinged + w->ms - now);
	return wait < 0 || left < wait ? left : wait;
}
