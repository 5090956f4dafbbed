/* cron: parsing five-field expressions, matching local minutes, and fire
 * times across local time changes; see cron.h.
 *
 * cron_next() walks the zone's spans of constant offset from AFTER on. In
 * a span, the first matching local minute is found on the calendar
 * (cron_next_local, day by day, whole months skipped); at the change that
 * ends a span it applies cronie's rule for the size of the jump (cron.c of
 * cronie: the small, medium, negative and large "wakeup kinds"), measured
 * as cronie measures it: the local minute it wakes to minus the last one
 * it had seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/cron.h"
#include "agent/tz.h"
#include "base/err.h"

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
	                                   "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

struct field {
	const char *name;
	int low, high;
	const char *const *names; /* names[i] is low + i */
	int star_flag;
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, CRON_MIN_STAR },
	{ "hour", 0, 23, NULL, CRON_HR_STAR },
	{ "day-of-month", 1, 31, NULL, CRON_DOM_STAR },
	{ "month", 1, 12, month_names, 0 },
	{ "day-of-week", 0, 7, day_names, CRON_DOW_STAR },
};

/* A number or a name at *P (alphanumerics, as cronie's get_number). */
static int number(const struct field *f, const char **p, int *v)
{
	char tok[16];
	size_t n = 0;
	const char *s = *p;
	while ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
		if (n + 1 < sizeof tok)
			tok[n] = *s;
		n++;
		s++;
	}
	if (!n)
		return err_set("%s: expected a number%s at '%.20s'", f->name,
		               f->names ? " or a name" : "", *p);
	if (n >= sizeof tok)
		return err_set("%s: '%.*s' is not a number%s", f->name, (int)n, *p,
		               f->names ? " or a name" : "");
	tok[n] = 0;
	char *end;
	long x = strtol(tok, &end, 10);
	if (*end) {
		int i;
		for (i = 0; f->names && f->names[i]; i++)
			if (!strcasecmp(tok, f->names[i]))
				break;
		if (!f->names || !f->names[i])
			return err_set("%s: '%s' is not a number%s", f->name, tok,
			               f->names == month_names ? " or a month name (Jan..Dec)"
			               : f->names       ? " or a day name (Sun..Sat)"
			                                : "");
		x = f->low + i;
	} else if (x < f->low || x > f->high) {
		return err_set("%s: %ld is out of range %d-%d", f->name, x, f->low, f->high);
	}
	*v = (int)x;
	*p = s;
	return 0;
}

/* One field: a comma-separated list of ranges, into the bits *BITS. */
static int parse_field(const struct field *f, const char *s, uint64_t *bits)
{
	*bits = 0;
	const char *p = s;
	for (;;) {
		int lo, hi, step = 1;
		const char *start = p;
		if (*p == '*') {
			lo = f->low, hi = f->high;
			p++;
		} else {
			if (number(f, &p, &lo) < 0)
				return -1;
			hi = lo;
			if (*p == '-') {
				p++;
				if (number(f, &p, &hi) < 0)
					return -1;
				if (f->names == day_names && hi == 0 && lo > 0)
					hi = 7; /* 5-0: Friday to Sunday */
				if (hi < lo)
					return err_set("%s: range %.*s is backwards", f->name,
					               (int)(p - start), start);
			} else if (*p == '/') {
				return err_set("%s: '%s': a step needs '*' or a range before it "
				               "(such as %d-%d%.*s)", f->name, s, lo, f->high,
				               (int)strcspn(p, ","), p);
			}
		}
		if (*p == '/') {
			p++;
			char *end;
			if (*p < '0' || *p > '9')
				return err_set("%s: '%s': expected a step after '/'", f->name, s);
			long x = strtol(p, &end, 10);
			if (x == 0)
				return err_set("%s: '%s': a step of 0", f->name, s);
			if (x > f->high)
				return err_set("%s: '%s': a step of %ld is more than %d", f->name, s, x,
				               f->high);
			step = (int)x;
			p = end;
		}
		for (int i = lo; i <= hi; i += step)
			*bits |= 1ull << i;
		if (!*p)
			return 0;
		if (*p != ',' || !p[1])
			return err_set("%s: '%s': unexpected '%c'", f->name, s, *p);
		p++;
	}
}

static int macro(struct cron *c, const char *name)
{
	memset(c, 0, sizeof *c);
	if (!strcmp(name, "reboot")) {
		c->flags = CRON_REBOOT;
		return 0;
	}
	c->min = 1;
	c->hour = 1;
	c->dom = 0xfffffffe;
	c->mon = 0x1ffe;
	c->dow = 0x7f;
	if (!strcmp(name, "yearly") || !strcmp(name, "annually")) {
		c->dom = 2, c->mon = 2, c->flags = CRON_DOW_STAR;
	} else if (!strcmp(name, "monthly")) {
		c->dom = 2, c->flags = CRON_DOW_STAR;
	} else if (!strcmp(name, "weekly")) {
		c->dow = 1, c->flags = CRON_DOM_STAR;
	} else if (!strcmp(name, "daily") || !strcmp(name, "midnight")) {
	} else if (!strcmp(name, "hourly")) {
		c->hour = 0xffffff, c->flags = CRON_HR_STAR;
	} else {
		return err_set("'@%s': unknown (@reboot @yearly @annually @monthly @weekly @daily "
		               "@midnight @hourly)", name);
	}
	return 0;
}

int cron_parse(struct cron *c, const char *s)
{
	memset(c, 0, sizeof *c);
	char buf[256];
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= sizeof buf)
		return err_set("longer than %zu bytes", sizeof buf - 1);
	if (!n)
		return err_set("empty (5 fields: minute hour day-of-month month day-of-week)");
	memcpy(buf, s, n);
	buf[n] = 0;
	if (buf[0] == '@')
		return macro(c, buf + 1);
	char *f[6];
	int k = 0;
	for (char *p = strtok(buf, " \t"); p; p = strtok(NULL, " \t"))
		if (k < 6)
			f[k++] = p;
		else
			k++;
	if (k != 5)
		return err_set("%d field%s (5: minute hour day-of-month month day-of-week)", k,
		               k == 1 ? "" : "s");
	uint64_t bits[5];
	for (int i = 0; i < 5; i++) {
		if (parse_field(&fields[i], f[i], &bits[i]) < 0)
			return -1;
		if (f[i][0] == '*')
			c->flags |= (unsigned)fields[i].star_flag;
	}
	c->min = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->mon = (uint32_t)bits[3];
	c->dow = (uint32_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is Sunday */
	if (!cron_possible(c))
		return err_set("never fires: no month it names has the day-of-month it names");
	return 0;
}

int cron_possible(const struct cron *c)
{
	if (c->flags & CRON_REBOOT)
		return 1;
	if (!(c->flags & (CRON_DOM_STAR | CRON_DOW_STAR)))
		return 1; /* either day field: any month has every weekday */
	static const int maxdays[] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (int m = 1; m <= 12; m++)
		if (c->mon & (1u << m))
			for (int d = 1; d <= maxdays[m]; d++)
				if (c->dom & (1u << d))
					return 1;
	return 0;
}

int cron_wild(const struct cron *c)
{
	return (c->flags & (CRON_MIN_STAR | CRON_HR_STAR)) != 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int day_ok(const struct cron *c, int dom, int dow)
{
	int a = (c->dom >> dom) & 1, b = (c->dow >> dow) & 1;
	return (c->flags & (CRON_DOM_STAR | CRON_DOW_STAR)) ? a && b : a || b;
}

int cron_match(const struct cron *c, int64_t lm)
{
	if (c->flags & CRON_REBOOT)
		return 0;
	int64_t day = floor_div(lm, 1440), y;
	int tod = (int)(lm - day * 1440), m, d;
	tz_civil_from_days(day, &y, &m, &d);
	return (c->min >> (tod % 60) & 1) && (c->hour >> (tod / 60) & 1) && (c->mon >> m & 1) &&
	       day_ok(c, d, tz_weekday(day));
}

int64_t cron_next_local(const struct cron *c, int64_t lm, int64_t limit)
{
	if (c->flags & CRON_REBOOT)
		return -1;
	int64_t day = floor_div(lm, 1440);
	int tod = (int)(lm - day * 1440);
	while (day * 1440 < limit) {
		int64_t y;
		int m, d;
		tz_civil_from_days(day, &y, &m, &d);
		if (!(c->mon >> m & 1)) { /* on to the 1st of the next month */
			day += tz_month_days(y, m) - d + 1;
			tod = 0;
			continue;
		}
		if (day_ok(c, d, tz_weekday(day))) {
			for (int h = tod / 60; h < 24; h++) {
				if (!(c->hour >> h & 1))
					continue;
				for (int mi = h == tod / 60 ? tod % 60 : 0; mi < 60; mi++)
					if (c->min >> mi & 1) {
						int64_t r = day * 1440 + h * 60 + mi;
						return r < limit ? r : -1;
					}
			}
		}
		day++;
		tod = 0;
	}
	return -1;
}

/* 1 if C fires at the change at E from offset FROM to TO; *LAG is set to
 * the last local minute before E if the clock went back (fixed-time jobs
 * do not fire again until it passes), else INT64_MIN. */
static int at_change(const struct cron *c, int64_t e, int32_t from, int32_t to, int64_t *lag)
{
	int64_t v = floor_div(e - 1 + from, 60), l = floor_div(e + to, 60);
	int64_t diff = l - v;
	int wild = cron_wild(c);
	*lag = INT64_MIN;
	if (diff == 1 || diff > 180 || diff < -180) /* normal, or a new time */
		return cron_match(c, l);
	if (diff > 5 && wild) /* a gap: wildcard jobs run for now only */
		return cron_match(c, l);
	if (diff > 0) /* a gap: the skipped minutes' jobs run now */
		return cron_next_local(c, v + 1, l + 1) >= 0;
	*lag = v; /* the clock went back: wildcard jobs only */
	return wild && cron_match(c, l);
}

int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after)
{
	if (c->flags & CRON_REBOOT)
		return -1;
	int64_t horizon = after + 400ll * 366 * 86400, t = after, lag = INT64_MIN;
	int wild = cron_wild(c);
	struct tz_span sp;
	tz_span(z, t, &sp);
	if (sp.start != INT64_MIN)
		at_change(c, sp.start, sp.prev, sp.off, &lag);
	for (;;) {
		int64_t m = floor_div(t + sp.off, 60) + 1;
		if (!wild && lag != INT64_MIN && m <= lag)
			m = lag + 1;
		int64_t limit = INT64_MAX;
		if (sp.end != INT64_MAX)
			limit = floor_div(sp.end + sp.off - 1, 60) + 1;
		int64_t r = cron_next_local(c, m, limit < horizon / 60 ? limit : horizon / 60);
		if (r >= 0)
			return r * 60 - sp.off;
		if (sp.end == INT64_MAX || sp.end > horizon)
			return -1;
		int64_t e = sp.end;
		int32_t from = sp.off;
		tz_span(z, e, &sp);
		if (at_change(c, e, from, sp.off, &lag))
			return e;
		t = e;
	}
}
