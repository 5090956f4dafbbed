/* tz: time zones as values (RFC 8536 TZif data and POSIX TZ rules), for
 * the cron scheduler.
 *
 * A struct tz is read from a zone's TZif bytes (tz_parse_tzif) or from a
 * POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", tz_parse_posix); both are
 * pure: bytes or text in, a value out, no clock, file or environment.
 * tz_load() (tzload.c) is the one part that reads files: the zone a name
 * or $TZ means, from $TZDIR or /usr/share/zoneinfo.
 *
 * The scheduler needs only the UTC offset of each instant and where it
 * changes: tz_span() gives the stretch of time around an instant in which
 * the offset is constant, with the offset before it. Transitions that
 * change only the abbreviation or the DST flag are not changes here. Past
 * a TZif file's last transition its footer rule (a POSIX TZ string)
 * decides, year by year, as in "slim" zone files.
 *
 * Times are seconds since the epoch, UTC; offsets are seconds east of UTC.
 */
#ifndef PANIC_AGENT_TZ_H
#define PANIC_AGENT_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX 64

/* One end of daylight time in a POSIX rule: the date and the local time
 * (seconds, may be negative or past 24 h) at which the change happens. */
struct tz_rule_date {
	char kind;      /* 'J' (Jn, 1-365, no leap day), 'D' (n, 0-365), 'M' */
	int n, m, w, d; /* J/D: n; M: month m, week w (5: last), weekday d */
	int32_t time;
};

struct tz_rule {
	int32_t std, dst; /* offsets, seconds east */
	int has_dst;
	struct tz_rule_date start, end;
};

struct tz {
	char name[TZ_NAME_MAX];
	int n;            /* explicit transitions */
	int64_t *at;      /* their instants, ascending */
	int32_t *off;     /* the offset from each on */
	int32_t off0;     /* the offset before the first */
	int has_rule;     /* the rule holds after the last (or always, if n == 0) */
	struct tz_rule rule;
};

/* The stretch [start, end) of constant offset OFF around an instant;
 * PREV is the offset before START. INT64_MIN / INT64_MAX: no end. */
struct tz_span {
	int64_t start, end;
	int32_t off, prev;
};

/* Fixed offset OFF (UTC is 0). */
void tz_fixed(struct tz *z, const char *name, int32_t off);
/* TZif bytes (version 1 to 4) into Z; 0, or -1 with err_msg(). */
int tz_parse_tzif(struct tz *z, const char *name, const unsigned char *buf, size_t n);
/* A POSIX TZ string into Z; 0, or -1 with err_msg(). */
int tz_parse_posix(struct tz *z, const char *s);
void tz_free(struct tz *z);

void tz_span(const struct tz *z, int64_t t, struct tz_span *s);
int32_t tz_offset(const struct tz *z, int64_t t);

/* 1 if NAME may name a zone file: letters, digits, "_+-" and "/"-separated
 * parts, none empty or starting with "." (no way out of the zone
 * directory). */
int tz_name_ok(const char *name);
/* The zone NAME, or with NAME NULL or empty the local zone ($TZ, else
 * /etc/localtime): a zone file, "UTC", or a POSIX TZ string. 0, or -1
 * with err_msg(). */
int tz_load(struct tz *z, const char *name);

/* An RFC 3339 time (YYYY-MM-DDTHH:MM[:SS[.fff]] and Z or +HH:MM) into
 * *MS since the epoch; 0, or -1 with err_msg(). */
int tz_parse_time(const char *s, int64_t *ms);
/* T (seconds, UTC) as RFC 3339 at offset OFF: 2026-03-08T03:00:00-04:00
 * (Z for offset 0). */
char *tz_format(int64_t t, int32_t off, char buf[static 40]);

/* Calendar arithmetic, proleptic Gregorian (after H. Hinnant). */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* 0 Sunday .. 6 Saturday */
int tz_weekday(int64_t days);
int tz_month_days(int64_t y, int m);

#endif
