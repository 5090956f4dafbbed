/* cron: five-field cron expressions as Vixie cron and cronie read them,
 * and their fire times, pure: values in, values out.
 *
 * Syntax (crontab(5)): MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK, each a
 * comma-separated list of "*", N, N-M, with an optional "/STEP" after "*"
 * or a range; months Jan..Dec and days Sun..Sat by name (any case, in
 * ranges too); day of week 0 or 7 is Sunday, and a range ending in 0 (5-0)
 * ends on Sunday. Macros: @yearly (@annually), @monthly, @weekly, @daily
 * (@midnight), @hourly, @reboot. Stricter than cronie where cronie
 * silently makes a job that never runs: a backwards range (10-5) and a
 * date that never comes ("0 0 31 2 *") are errors.
 *
 * Matching (cronie's find_jobs): minute, hour and month must match; if
 * either day field starts with "*", the day must match both, else either
 * ("0 0 1,15 * Sun": the 1st, the 15th and every Sunday).
 *
 * Fire times in a zone (cron_next) follow cronie's handling of local
 * time changes (cron(8), "Daylight Saving Time"): the clock is read in
 * local minutes at each minute; when it jumps forward by 6 minutes to 3
 * hours (a daylight-saving gap), jobs at a fixed time in the skipped
 * minutes run at the jump and "wildcard" jobs (minute or hour field
 * starting with "*", @hourly) skip them; a jump forward of up to 5
 * minutes runs every job of the skipped minutes at the jump; when it goes
 * back by up to 3 hours (a repeated hour), only wildcard jobs run again
 * until the clock passes the time it had reached; a change of more than 3
 * hours is a new time, taken as it is.
 */
#ifndef PANIC_AGENT_CRON_H
#define PANIC_AGENT_CRON_H

#include <stdint.h>

struct tz;

enum {
	CRON_MIN_STAR = 1,
	CRON_HR_STAR = 2,
	CRON_DOM_STAR = 4,
	CRON_DOW_STAR = 8,
	CRON_REBOOT = 16, /* @reboot: once per boot, when the agent starts */
};

struct cron {
	uint64_t min;  /* bit i: minute i, 0-59 */
	uint32_t hour; /* 0-23 */
	uint32_t dom;  /* 1-31 */
	uint32_t mon;  /* 1-12 */
	uint32_t dow;  /* 0-6, Sunday 0 */
	unsigned flags;
};

/* Parses the expression S (without "cron:"). 0, or -1 with err_msg()
 * naming the field and the rule. */
int cron_parse(struct cron *c, const char *s);
/* 1 if C fires on some day at all (the day and month fields can meet). */
int cron_possible(const struct cron *c);
/* 1 if the minute or hour field is a wildcard (cronie's MIN_STAR|HR_STAR). */
int cron_wild(const struct cron *c);
/* 1 if local minute LM (minutes since 1970-01-01 00:00 local) matches. */
int cron_match(const struct cron *c, int64_t lm);
/* The first local minute >= LM that matches and is < LIMIT, or -1. */
int64_t cron_next_local(const struct cron *c, int64_t lm, int64_t limit);
/* The first fire time after AFTER (seconds since the epoch, UTC) in zone
 * Z, by the rules above; -1 if there is none within 400 years. */
int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after);

#endif
