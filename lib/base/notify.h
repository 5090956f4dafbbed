/* notify: the systemd notification protocol (sd_notify(3)), without
 * libsystemd: datagrams to $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Outside systemd (no NOTIFY_SOCKET) every call is a
 * no-op that succeeds.
 */
#ifndef PANIC_NOTIFY_H
#define PANIC_NOTIFY_H

#include <stdint.h>

/* Sends STATE ("READY=1", "STATUS=...", "WATCHDOG=1", "STOPPING=1"). */
int notify(const char *state);
/* Half the watchdog interval in ms ($WATCHDOG_USEC, for this process if
 * $WATCHDOG_PID allows), or 0 if there is no watchdog. */
int64_t notify_watchdog_ms(void);

/* The watchdog's pings for a loop: init reads the interval (none: every
 * call is a no-op) and counts the first ping from now; tick sends
 * WATCHDOG=1 if one is due and returns WAIT (ms, -1: forever) lowered to
 * when the next is due. */
struct watchdog {
	int64_t ms, pinged; /* half the interval (0: none); mono ms of the last ping */
};
void watchdog_init(struct watchdog *w);
int watchdog_tick(struct watchdog *w, int wait);

#endif
