/* display: slots and what they show; see display.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "display/display.h"
#include "json/json.h"

int display_parse_grid(const char *s, struct display_spec *d)
{
	char *end;
	long r = strtol(s, &end, 10), c;
	if (end == s || (*end != 'x' && *end != 'X'))
		return err_set("--grid: expected ROWSxCOLUMNS, as 2x3, got '%s'", s);
	const char *p = end + 1;
	c = strtol(p, &end, 10);
	if (end == p || *end)
		return err_set("--grid: expected ROWSxCOLUMNS, as 2x3, got '%s'", s);
	if (r < 1 || c < 1 || r > DISPLAY_MAX_SIDE || c > DISPLAY_MAX_SIDE)
		return err_set("--grid: %ldx%ld: rows and columns go from 1 to %d", r, c,
		               DISPLAY_MAX_SIDE);
	memset(d, 0, sizeof *d);
	d->mode = DISPLAY_GRID;
	d->rows = (int)r;
	d->cols = (int)c;
	return 0;
}

int display_parse_single(const char *s, struct display_spec *d, int show_invoking)
{
	char *end;
	long o = strtol(s, &end, 10), n;
	if (end == s || *end != '/' || *s == '-' || *s == '+')
		return err_set("--single: expected OFFSET/STRIDE, as 0/3, got '%s'", s);
	const char *p = end + 1;
	n = strtol(p, &end, 10);
	if (end == p || *end || *p == '-' || *p == '+')
		return err_set("--single: expected OFFSET/STRIDE, as 0/3, got '%s'", s);
	if (n < 1 || n > DISPLAY_MAX_STRIDE)
		return err_set("--single: the stride goes from 1 to %d, got %ld", DISPLAY_MAX_STRIDE, n);
	if (o < 0 || o >= n)
		return err_set("--single: the offset must be less than the stride (%ld), got %ld", n, o);
	memset(d, 0, sizeof *d);
	d->mode = DISPLAY_SINGLE;
	d->offset = o;
	d->stride = n;
	d->show_invoking = show_invoking;
	return 0;
}

int display_nslots(const struct display_spec *d)
{
	return d->mode == DISPLAY_GRID ? d->rows * d->cols : 1;
}

int display_slot(const struct display_spec *d, long seq)
{
	if (seq < 0)
		return -1;
	if (d->mode == DISPLAY_GRID)
		return (int)(seq % (d->rows * d->cols));
	return seq % d->stride == d->offset ? 0 : -1;
}

long display_backlog(const struct display_spec *d)
{
	/* The latest n invocations cover every residue mod n; twice that
	 * finds the last finished one behind one that is hidden. */
	return 2 * (d->mode == DISPLAY_GRID ? (long)d->rows * d->cols : d->stride);
}

int display_init(struct display *d, const struct display_spec *spec)
{
	d->spec = *spec;
	d->run_id[0] = 0;
	int n = display_nslots(spec);
	d->slots = malloc((size_t)n * sizeof *d->slots);
	if (!d->slots)
		return err_errno("display");
	for (int i = 0; i < n; i++)
		d->slots[i] = jv_null();
	return 0;
}

void display_free(struct display *d)
{
	if (!d->slots)
		return;
	for (int i = 0; i < display_nslots(&d->spec); i++)
		jv_free(d->slots[i]);
	free(d->slots);
	d->slots = NULL;
}

static int rank(const char *state)
{
	if (!state || !strcmp(state, "ready"))
		return 0;
	return !strcmp(state, "invoking") ? 1 : 2;
}

static double number(jv obj, const char *key, double def)
{
	jv v = json_get(obj, key);
	double n = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;
	jv_free(v);
	return n;
}

static double attempt(jv inv)
{
	jv m = json_get(inv, "metadata");
	double a = jv_get_kind(m) == JV_KIND_OBJECT ? number(m, "attempt", 0) : 0;
	jv_free(m);
	return a;
}

/* -1, 0 or 1 as invocation A is older than, as old as, or newer than B. */
static int compare(jv a, jv b)
{
	double x = number(a, "seq", -1), y = number(b, "seq", -1);
	if (x != y)
		return x < y ? -1 : 1;
	x = attempt(a), y = attempt(b);
	if (x != y)
		return x < y ? -1 : 1;
	int r = rank(json_str(a, "state", NULL)), s = rank(json_str(b, "state", NULL));
	return r < s ? -1 : r > s;
}

int display_take(struct display *d, jv inv)
{
	const char *run = json_str(inv, "run_id", NULL), *state = json_str(inv, "state", NULL);
	double seq = number(inv, "seq", -1);
	if (!run || !state || seq < 0 || seq != (double)(long)seq || strlen(run) >= sizeof d->run_id)
		return -1;
	int reset = 0, cmp = strcmp(run, d->run_id);
	if (cmp < 0)
		return -1; /* an older run */
	if (cmp > 0) {
		for (int i = 0; i < display_nslots(&d->spec); i++) {
			jv_free(d->slots[i]);
			d->slots[i] = jv_null();
		}
		snprintf(d->run_id, sizeof d->run_id, "%s", run);
		reset = 1;
	}
	int slot = display_slot(&d->spec, (long)seq);
	if (slot < 0 || (d->spec.mode == DISPLAY_SINGLE && !d->spec.show_invoking && rank(state) < 2))
		return reset ? DISPLAY_RESET : -1;
	if (jv_get_kind(d->slots[slot]) == JV_KIND_OBJECT && compare(inv, d->slots[slot]) < 0)
		return reset ? DISPLAY_RESET : -1;
	jv_free(d->slots[slot]);
	d->slots[slot] = jv_copy(inv);
	return reset ? DISPLAY_RESET : slot;
}

jv display_view(const struct display *d, int i, const char *output_type)
{
	jv v = json_set(jv_object(), "slot", jv_number(i));
	jv inv = d->slots[i];
	if (jv_get_kind(inv) != JV_KIND_OBJECT)
		return json_set(v, "kind", jv_string("empty"));
	const char *state = json_str_or(inv, "state", "");
	const char *kind = !strcmp(state, "ready")      ? "ready"
	                   : !strcmp(state, "invoking") ? "invoking"
	                   : strcmp(state, "completed") ? "failed"
	                   : output_type && !strcmp(output_type, "image") ? "image"
	                   : output_type && !strcmp(output_type, "audio") ? "audio"
	                                                                  : "text";
	v = json_set(v, "kind", jv_string(kind));
	v = json_set(v, "seq", json_get(inv, "seq"));
	v = json_set(v, "model", json_get(inv, "model"));
	v = json_set(v, "state", jv_string(state));
	v = json_set(v, "run_id", json_get(inv, "run_id"));
	v = json_set(v, "id", json_get(inv, "id"));
	jv text = jv_null();
	if (!strcmp(kind, "failed")) {
		jv e = json_get(inv, "error");
		text = jv_get_kind(e) == JV_KIND_OBJECT ? json_get(e, "message") : jv_copy(e);
		jv_free(e);
	} else if (strcmp(kind, "ready") && strcmp(kind, "invoking")) {
		text = json_get(inv, "output");
	}
	if (jv_get_kind(text) != JV_KIND_STRING) {
		jv_free(text);
		text = jv_string("");
	}
	return json_set(v, "text", text);
}
