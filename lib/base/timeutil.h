/* timeutil: clocks and RFC 3339 time stamps.
 *
 * Records carry UTC RFC 3339 times with milliseconds ("2026-11-22T01:50:36.123Z");
 * durations are measured on the monotonic clock, in ms.
 */
#ifndef PANIC_TIMEUTIL_H
#define PANIC_TIMEUTIL_H

#include <stdint.h>

int64_t time_now_ms(void);   /* wall clock, ms since the epoch */
int64_t time_mono_ms(void);  /* monotonic clock, ms */
/* Writes the RFC 3339 form of MS into BUF (at least 32 bytes). */
char *time_rfc3339(int64_t ms, char buf[static 32]);

/* The time in ms of a stamp as time_rfc3339() writes it, or -1. */
int64_t time_parse_rfc3339(const char *s);

/* A duration into *MS: numbers with units ("500ms", "30s", "1.5m", "1h",
 * "2d", "1h30m"), or one bare number worth BARE_MS each (1000: seconds,
 * fractions allowed). At most 400 days. 0, or -1 with err_msg(). */
int time_duration(const char *s, double bare_ms, int64_t *ms);

#endif
