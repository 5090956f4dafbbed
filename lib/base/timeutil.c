/* timeutil: clocks and RFC 3339 time stamps; see timeutil.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/timeutil.h"

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t time_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

char *time_rfc3339(int64_t ms, char buf[static 32])
{
	/* The date and time of day change once a second: format them then. */
	static int64_t last_s = INT64_MIN;
	static char head[24];
	int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	unsigned milli = (unsigned)(ms - sec * 1000);
	if (sec != last_s) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(head, sizeof head, "%04u-%02u-%02uT%02u:%02u:%02u",
		         (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
		         (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100,
		         (unsigned)tm.tm_min % 100, (unsigned)tm.tm_sec % 100);
		last_s = sec;
	}
	memcpy(buf, head, 19);
	buf[19] = '.';
	buf[20] = (char)('0' + milli / 100);
	buf[21] = (char)('0' + milli / 10 % 10);
	buf[22] = (char)('0' + milli % 10);
	buf[23] = 'Z';
	buf[24] = 0;
	return buf;
}

int64_t time_parse_rfc3339(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

int time_duration(const char *s, double bare_ms, int64_t *ms)
{
	static const struct { const char *name; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *p = s;
	double total = 0;
	if (!*p)
		return err_set("an empty duration");
	while (*p) {
		if ((*p < '0' || *p > '9') && *p != '.')
			goto bad;
		char *end;
		double n = strtod(p, &end);
		if (end == p || n > 1e12)
			goto bad;
		p = end;
		double unit = -1;
		for (size_t i = 0; i < sizeof units / sizeof *units && unit < 0; i++) {
			size_t k = strlen(units[i].name);
			if (!strncmp(p, units[i].name, k)) { /* "ms" is tried before "m" */
				unit = units[i].ms;
				p += k;
			}
		}
		if (unit < 0 && !*p && p != s && total == 0 && end != s &&
		    strspn(s, "0123456789.") == strlen(s))
			unit = bare_ms; /* one bare number */
		if (unit < 0)
			goto bad;
		total += n * unit;
		if (total > 400.0 * 86400000)
			return err_set("'%s': longer than 400 days", s);
	}
	*ms = (int64_t)(total + 0.5);
	return 0;
bad:
	return err_set("'%s' is not a duration (such as 500ms, 30s, 5m, 1h, 1h30m)", s);
}
