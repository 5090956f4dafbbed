/* tz: TZif data and POSIX TZ rules as values; see tz.h.
 *
 * The explicit transitions of a TZif file are kept with their offsets; a
 * span is found by binary search and widened over neighbours of the same
 * offset. Past the last transition (or always, for a POSIX string) the
 * rule's transitions are worked out for the years around the instant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/tz.h"
#include "base/err.h"

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int tz_weekday(int64_t days)
{
	int64_t w = (days + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_month_days(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void tz_fixed(struct tz *z, const char *name, int32_t off)
{
	memset(z, 0, sizeof *z);
	snprintf(z->name, sizeof z->name, "%s", name);
	z->off0 = off;
	z->has_rule = 1;
	z->rule.std = z->rule.dst = off;
}

void tz_free(struct tz *z)
{
	free(z->at);
	free(z->off);
	z->at = NULL;
	z->off = NULL;
	z->n = 0;
}

/* ---- POSIX TZ strings ---- */

static const char *posix_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e && e - s >= 4 ? e + 1 : NULL;
	}
	const char *p = s;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hours up to MAXH; *v in seconds. */
static const char *posix_hms(const char *s, int maxh, int32_t *v)
{
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	int part[3] = { 0, 0, 0 }, i = 0;
	for (;;) {
		if (*s < '0' || *s > '9')
			return NULL;
		int x = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 3)
			x = x * 10 + (*s++ - '0'), digits++;
		if ((i == 0 && x > maxh) || (i > 0 && (x > 59 || digits != 2)))
			return NULL;
		part[i++] = x;
		if (i == 3 || *s != ':')
			break;
		s++;
	}
	*v = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *posix_date(const char *s, struct tz_rule_date *r)
{
	char *e;
	r->time = 7200;
	if (*s == 'M') {
		r->kind = 'M';
		r->m = (int)strtol(s + 1, &e, 10);
		if (e == s + 1 || *e != '.' || r->m < 1 || r->m > 12)
			return NULL;
		s = e + 1;
		r->w = (int)strtol(s, &e, 10);
		if (e == s || *e != '.' || r->w < 1 || r->w > 5)
			return NULL;
		s = e + 1;
		r->d = (int)strtol(s, &e, 10);
		if (e == s || r->d < 0 || r->d > 6)
			return NULL;
	} else {
		r->kind = *s == 'J' ? 'J' : 'D';
		if (*s == 'J')
			s++;
		r->n = (int)strtol(s, &e, 10);
		if (e == s || r->n < (r->kind == 'J') || r->n > 365)
			return NULL;
	}
	s = e;
	if (*s == '/' && !(s = posix_hms(s + 1, 167, &r->time)))
		return NULL;
	return s;
}

int tz_parse_posix(struct tz *z, const char *s)
{
	const char *all = s;
	memset(z, 0, sizeof *z);
	snprintf(z->name, sizeof z->name, "%s", s);
	struct tz_rule *r = &z->rule;
	int32_t v;
	if (!(s = posix_name(s)) || !(s = posix_hms(s, 24, &v)))
		goto bad;
	r->std = r->dst = -v;
	if (*s) {
		if (!(s = posix_name(s)))
			goto bad;
		r->has_dst = 1;
		r->dst = r->std + 3600;
		if (*s && *s != ',') {
			if (!(s = posix_hms(s, 24, &v)))
				goto bad;
			r->dst = -v;
		}
		const char *rule = *s ? s : ",M3.2.0,M11.1.0";
		if (*rule != ',' || !(rule = posix_date(rule + 1, &r->start)) || *rule != ',' ||
		    !(rule = posix_date(rule + 1, &r->end)) || *rule)
			goto bad;
	}
	z->has_rule = 1;
	z->off0 = r->std;
	return 0;
bad:
	return err_set("'%s': not a time zone (a name such as Europe/Paris, or a POSIX TZ string)",
	               all);
}

/* The UTC instant of rule date D in year Y, local time at offset OFF. */
static int64_t rule_instant(const struct tz_rule_date *d, int64_t y, int32_t off)
{
	int64_t day;
	if (d->kind == 'J') {
		day = tz_days_from_civil(y, 1, 1) + d->n - 1 + (leap(y) && d->n >= 60);
	} else if (d->kind == 'D') {
		day = tz_days_from_civil(y, 1, 1) + d->n;
	} else {
		int64_t first = tz_days_from_civil(y, d->m, 1);
		int delta = (d->d - tz_weekday(first) + 7) % 7;
		int mday = 1 + delta + 7 * (d->w - 1);
		while (mday > tz_month_days(y, d->m))
			mday -= 7;
		day = first + mday - 1;
	}
	return day * 86400 + d->time - off;
}

/* The span of T under rule R alone. */
static void rule_span(const struct tz_rule *r, int64_t t, struct tz_span *s)
{
	if (!r->has_dst || r->std == r->dst) {
		*s = (struct tz_span){ INT64_MIN, INT64_MAX, r->std, r->std };
		return;
	}
	/* The changes of five years around T, in order. */
	int64_t at[10];
	int32_t to[10];
	int n = 0;
	int64_t y0;
	int m, d;
	tz_civil_from_days(floor_div(t + r->std, 86400), &y0, &m, &d);
	for (int64_t y = y0 - 2; y <= y0 + 2; y++) {
		at[n] = rule_instant(&r->start, y, r->std), to[n++] = r->dst;
		at[n] = rule_instant(&r->end, y, r->dst), to[n++] = r->std;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
			int64_t ta = at[j];
			at[j] = at[j - 1], at[j - 1] = ta;
			int32_t tt = to[j];
			to[j] = to[j - 1], to[j - 1] = tt;
		}
	/* The offset in force after each change, changes of nothing dropped. */
	int32_t cur = to[0] == r->dst ? r->std : r->dst;
	int64_t cat[10];
	int32_t cto[10];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (to[i] != (k ? cto[k - 1] : cur))
			cat[k] = at[i], cto[k++] = to[i];
	int i = -1;
	while (i + 1 < k && cat[i + 1] <= t)
		i++;
	s->off = i >= 0 ? cto[i] : cur;
	s->prev = i > 0 ? cto[i - 1] : i == 0 ? cur : s->off;
	s->start = i >= 0 ? cat[i] : INT64_MIN;
	s->end = i + 1 < k ? cat[i + 1] : INT64_MAX;
}

/* The span of T by the explicit transitions (and, past the last, the rule). */
static void explicit_span(const struct tz *z, int64_t t, struct tz_span *s)
{
	int n = z->n;
	int lo = 0, hi = n; /* the last transition at or before t: lo - 1 */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	int i = lo - 1;
	int32_t off = i >= 0 ? z->off[i] : z->off0;
	int j = i;
	while (j >= 0 && (j ? z->off[j - 1] : z->off0) == off)
		j--;
	int k = i + 1;
	while (k < n && z->off[k] == off)
		k++;
	s->off = off;
	s->start = j >= 0 ? z->at[j] : INT64_MIN;
	s->prev = j > 0 ? z->off[j - 1] : j == 0 ? z->off0 : off;
	s->end = INT64_MAX;
	if (k < n) {
		s->end = z->at[k];
	} else if (z->has_rule && n) {
		struct tz_span r;
		rule_span(&z->rule, z->at[n - 1], &r);
		s->end = r.off == off ? r.end : z->at[n - 1];
		if (s->end <= t)
			s->end = INT64_MAX;
	}
}

void tz_span(const struct tz *z, int64_t t, struct tz_span *s)
{
	int n = z->n;
	if (n && (t < z->at[n - 1] || !z->has_rule)) {
		explicit_span(z, t, s);
		return;
	}
	rule_span(&z->rule, t, s);
	if (!n || s->start >= z->at[n - 1])
		return;
	/* The rule's span reaches back past the last transition: the
	 * explicit data says where it began. */
	struct tz_span e;
	explicit_span(z, z->at[n - 1], &e);
	if (e.off == s->off) {
		s->start = e.start;
		s->prev = e.prev;
	} else {
		s->start = z->at[n - 1];
		s->prev = e.off;
	}
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
	struct tz_span s;
	tz_span(z, t, &s);
	return s.off;
}

/* ---- TZif ---- */

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int64_t)(int32_t)(uint32_t)v;
	return (int64_t)v;
}

int tz_parse_tzif(struct tz *z, const char *name, const unsigned char *buf, size_t len)
{
	memset(z, 0, sizeof *z);
	snprintf(z->name, sizeof z->name, "%s", name);
	const unsigned char *p = buf, *end = buf + len;
	if (len < 44 || memcmp(p, "TZif", 4))
		return err_set("%s: not a TZif zone file", name);
	int version = p[4];
	int tsize = 4;
	for (int pass = 0;; pass++) {
		if (end - p < 44 || memcmp(p, "TZif", 4))
			return err_set("%s: a damaged zone file", name);
		int64_t isut = be(p + 20, 4), isstd = be(p + 24, 4), leapcnt = be(p + 28, 4);
		int64_t timecnt = be(p + 32, 4), typecnt = be(p + 36, 4), charcnt = be(p + 40, 4);
		p += 44;
		if (isut < 0 || isstd < 0 || leapcnt < 0 || timecnt < 0 || typecnt < 1 ||
		    charcnt < 0 || timecnt > 100000 || typecnt > 256)
			return err_set("%s: a damaged zone file", name);
		int64_t size = timecnt * tsize + timecnt + typecnt * 6 + charcnt +
		               leapcnt * (tsize + 4) + isstd + isut;
		if (end - p < size)
			return err_set("%s: a damaged zone file", name);
		if (pass == 0 && version >= '2') { /* skip the 32-bit data */
			p += size;
			tsize = 8;
			continue;
		}
		const unsigned char *times = p, *idx = p + timecnt * tsize;
		const unsigned char *types = idx + timecnt;
		tz_free(z);
		z->at = malloc((size_t)(timecnt ? timecnt : 1) * sizeof *z->at);
		z->off = malloc((size_t)(timecnt ? timecnt : 1) * sizeof *z->off);
		if (!z->at || !z->off) {
			tz_free(z);
			return err_errno("tz");
		}
		for (int64_t i = 0; i < timecnt; i++) {
			if (idx[i] >= typecnt) {
				tz_free(z);
				return err_set("%s: a damaged zone file", name);
			}
			int64_t at = be(times + i * tsize, tsize);
			if (z->n && at <= z->at[z->n - 1])
				continue;
			z->at[z->n] = at;
			z->off[z->n++] = (int32_t)be(types + idx[i] * 6, 4);
		}
		z->off0 = (int32_t)be(types, 4);
		p += size;
		break;
	}
	/* The footer: "\nTZSTRING\n", v2 and later. */
	if (version >= '2' && p < end && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		if (nl && nl > p + 1 && nl - p - 1 < 200) {
			char rule[200];
			memcpy(rule, p + 1, (size_t)(nl - p - 1));
			rule[nl - p - 1] = 0;
			struct tz r;
			if (tz_parse_posix(&r, rule) == 0) {
				z->rule = r.rule;
				z->has_rule = 1;
			}
		}
	}
	return 0;
}

int tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n >= TZ_NAME_MAX)
		return 0;
	const char *p = name;
	for (;;) {
		if (*p == '.' || *p == '/' || !*p)
			return 0;
		while (*p && *p != '/') {
			char c = *p++;
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '_' || c == '+' || c == '-' || c == '.'))
				return 0;
		}
		if (!*p)
			return 1;
		p++;
	}
}

/* ---- RFC 3339 text ---- */

static const char *digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, s++) {
		if (*s < '0' || *s > '9')
			return NULL;
		*v = *v * 10 + (*s - '0');
	}
	return s;
}

int tz_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec = 0, frac = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;
	if (!(p = digits(p, 4, &y)) || *p++ != '-' || !(p = digits(p, 2, &mo)) || *p++ != '-' ||
	    !(p = digits(p, 2, &d)) || (*p != 'T' && *p != 't' && *p != ' ') ||
	    !(p = digits(p + 1, 2, &h)) || *p++ != ':' || !(p = digits(p, 2, &mi)))
		goto bad;
	if (*p == ':' && !(p = digits(p + 1, 2, &sec)))
		goto bad;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				frac = frac * 10 + (*p - '0');
		if (!n)
			goto bad;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!(p = digits(p + 1, 2, &oh)) || *p++ != ':' || !(p = digits(p, 2, &om)))
			goto bad;
	} else {
		goto bad;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > tz_month_days(y, mo) || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		goto bad;
	int64_t t = tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
bad:
	return err_set("'%.60s' is not an RFC 3339 time (such as 2026-03-08T01:59:00-05:00 or "
	               "2026-03-08T06:59:00Z)", s);
}

char *tz_format(int64_t t, int32_t off, char buf[static 40])
{
	int64_t local = t + off, y;
	int64_t day = floor_div(local, 86400);
	int sod = (int)(local - day * 86400), m, d;
	tz_civil_from_days(day, &y, &m, &d);
	int n = snprintf(buf, 40, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d, sod / 3600,
	                 sod / 60 % 60, sod % 60);
	if (off == 0) {
		snprintf(buf + n, 40 - (size_t)n, "Z");
	} else {
		int a = off < 0 ? -off : off;
		snprintf(buf + n, 40 - (size_t)n, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600,
		         a / 60 % 60);
	}
	return buf;
}
