/* config: boards and installations from vesta.json; see config.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "json/json.h"
#include "vesta/board.h"
#include "vesta/config.h"

const char *vesta_api_name(int api)
{
	return api == VESTA_RW ? "rw" : api == VESTA_CLOUD ? "cloud" : "local";
}

int vesta_size_parse(const char *s, int *rows, int *cols)
{
	int r, c;
	char end;
	if (!strcmp(s, "flagship")) {
		r = 6, c = 22;
	} else if (!strcmp(s, "note")) {
		r = 3, c = 15;
	} else if (sscanf(s, "%dx%d%c", &r, &c, &end) != 2) {
		return err_set("size '%s': expected flagship, note or ROWSxCOLS", s);
	}
	if (r < 1 || r > VESTA_MAX_ROWS || c < 1 || c > VESTA_MAX_COLS)
		return err_set("size '%s': at most %dx%d", s, VESTA_MAX_ROWS, VESTA_MAX_COLS);
	*rows = r;
	*cols = c;
	return 0;
}

static int known(jv obj, const char *what, const char *keys)
{
	int rc = 0;
	jv_object_foreach(obj, k, v)
	{
		char pad[64];
		snprintf(pad, sizeof pad, " %s ", jv_string_value(k));
		if (strpbrk(jv_string_value(k), " ") || !*jv_string_value(k) ||
		    (size_t)jv_string_length_bytes(jv_copy(k)) != strlen(jv_string_value(k)))
			pad[0] = 0; /* no such field */
		if (!rc && !strcmp(jv_string_value(k), "key"))
			rc = err_set("%s: a key does not go in this file: name the variable or "
			             "keys-file entry that holds it with key_env", what);
		else if (!rc && (!pad[0] || !strstr(keys, pad)))
			rc = err_set("%s: unknown field \"%s\"", what, jv_string_value(k));
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

static char *str_field(jv obj, const char *key, const char *what, int *rc)
{
	jv v = json_get(obj, key);
	char *s = NULL;
	if (jv_get_kind(v) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v)) > 0)
		s = strdup(jv_string_value(v));
	else if (jv_is_valid(v) && !*rc)
		*rc = err_set("%s: %s: expected a string", what, key);
	jv_free(v);
	return s;
}

/* Board names make bus topics (vesta:NAME) and go in messages. */
static int name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	return n && n <= 64 && !s[n] && s[0] != '.';
}

static int board(struct vesta_target *t, const char *name, jv b)
{
	char what[300];
	snprintf(what, sizeof what, "board %s", name);
	if (jv_get_kind(b) != JV_KIND_OBJECT)
		return err_set("%s: expected an object", what);
	if (known(b, what, " api base_url key_env size interval allow_http ") < 0)
		return -1;
	int rc = 0;
	t->name = strdup(name);
	if (!name_ok(name))
		return err_set("%s: a board's name is 1 to 64 letters, digits, '.', '_' or '-', "
		               "not starting with '.'", what);
	char *api = str_field(b, "api", what, &rc);
	t->api = !api || !strcmp(api, "rw") ? VESTA_RW : !strcmp(api, "cloud") ? VESTA_CLOUD
	         : !strcmp(api, "local") ? VESTA_LOCAL : -1;
	if (t->api < 0 && !rc)
		rc = err_set("%s: api: expected rw, cloud or local", what);
	free(api);
	t->base_url = str_field(b, "base_url", what, &rc);
	t->key_env = str_field(b, "key_env", what, &rc);
	if (!t->key_env)
		t->key_env = strdup(t->api == VESTA_CLOUD ? "VESTABOARD_TOKEN"
		                    : t->api == VESTA_LOCAL ? "VESTABOARD_LOCAL_API_KEY"
		                                            : "VESTABOARD_READ_WRITE_KEY");
	t->rows = 6, t->cols = 22;
	jv size = json_get(b, "size");
	if (jv_get_kind(size) == JV_KIND_STRING) {
		if (!rc && vesta_size_parse(jv_string_value(size), &t->rows, &t->cols) < 0)
			rc = err_set("%s: %s", what, err_msg());
	} else if (jv_get_kind(size) == JV_KIND_ARRAY && jv_array_length(jv_copy(size)) == 2) {
		jv r = jv_array_get(jv_copy(size), 0), c = jv_array_get(jv_copy(size), 1);
		double dr = jv_get_kind(r) == JV_KIND_NUMBER ? jv_number_value(r) : 0;
		double dc = jv_get_kind(c) == JV_KIND_NUMBER ? jv_number_value(c) : 0;
		jv_free(r);
		jv_free(c);
		if ((dr != (int)dr || dc != (int)dc || dr < 1 || dc < 1 || dr > VESTA_MAX_ROWS ||
		     dc > VESTA_MAX_COLS) && !rc)
			rc = err_set("%s: size: at most [%d, %d]", what, VESTA_MAX_ROWS, VESTA_MAX_COLS);
		t->rows = (int)dr, t->cols = (int)dc;
	} else if (jv_is_valid(size) && !rc) {
		rc = err_set("%s: size: expected flagship, note, \"RxC\" or [R, C]", what);
	}
	jv_free(size);
	jv iv = json_get(b, "interval");
	t->interval = -1;
	if (jv_get_kind(iv) == JV_KIND_NUMBER && jv_number_value(iv) >= 0)
		t->interval = jv_number_value(iv);
	else if (jv_is_valid(iv) && !rc)
		rc = err_set("%s: interval: expected seconds", what);
	jv_free(iv);
	jv ah = json_get(b, "allow_http");
	t->allow_http = jv_get_kind(ah) == JV_KIND_TRUE;
	jv_free(ah);
	return rc;
}

static int route(struct vesta_config *c, struct vesta_route *r, const char *what, jv e)
{
	if (jv_get_kind(e) != JV_KIND_OBJECT)
		return err_set("%s: expected an object", what);
	if (known(e, what, " board stride offset initial_prompt ") < 0)
		return -1;
	int rc = 0;
	char *name = str_field(e, "board", what, &rc);
	if (!name)
		return rc ? rc : err_set("%s: no board", what);
	r->board = vesta_config_board(c, name);
	free(name);
	if (r->board < 0)
		return err_set("%s: %s", what, err_msg());
	jv p = json_get(e, "initial_prompt"), s = json_get(e, "stride"), o = json_get(e, "offset");
	r->prompt = jv_get_kind(p) == JV_KIND_TRUE;
	double ds = jv_get_kind(s) == JV_KIND_NUMBER ? jv_number_value(s) : jv_is_valid(s) ? -1 : 0;
	double dof = jv_get_kind(o) == JV_KIND_NUMBER ? jv_number_value(o) : jv_is_valid(o) ? -1 : 0;
	if (!jv_is_valid(s) && !r->prompt)
		ds = 1; /* a board with neither shows every invocation */
	jv_free(p);
	jv_free(s);
	jv_free(o);
	if (ds != (long)ds || ds < 0 || ds > 1e9 || (ds == 0 && !r->prompt))
		return err_set("%s: stride: expected a whole number of at least 1", what);
	if (dof != (long)dof || dof < 0 || (ds > 0 && dof >= ds))
		return err_set("%s: offset: expected a whole number from 0 to stride - 1", what);
	r->stride = (long)ds;
	r->offset = (long)dof;
	return 0;
}

static int install(struct vesta_config *c, struct vesta_install *in, const char *name, jv v)
{
	char what[300];
	snprintf(what, sizeof what, "installation %s", name);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return err_set("%s: expected an object", what);
	if (known(v, what, " network boards ") < 0)
		return -1;
	int rc = 0;
	in->name = strdup(name);
	in->network = str_field(v, "network", what, &rc);
	if (!in->network)
		return rc ? rc : err_set("%s: no network", what);
	jv bs = json_get(v, "boards");
	int n = jv_get_kind(bs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(bs)) : 0;
	if (n < 1)
		rc = err_set("%s: boards: expected a list of {board, stride, offset}", what);
	in->route = calloc(n ? (size_t)n : 1, sizeof *in->route);
	for (int i = 0; rc == 0 && i < n; i++) {
		char w[340];
		snprintf(w, sizeof w, "%s: boards[%d]", what, i);
		jv e = jv_array_get(jv_copy(bs), i);
		rc = route(c, &in->route[i], w, e);
		jv_free(e);
		in->nroute = i + 1;
	}
	jv_free(bs);
	return rc;
}

int vesta_config_load(struct vesta_config *c, const char *path)
{
	memset(c, 0, sizeof *c);
	const char *env = getenv("PANIC_VESTA");
	int dflt = !path && !(env && *env);
	c->path = path ? strdup(path) : env && *env ? strdup(env) : path_config("vesta.json");
	if (!c->path)
		return -1;
	if (dflt && access(c->path, F_OK) < 0 && errno == ENOENT)
		return 0;
	jv v = json_load_file(c->path);
	int rc = 0;
	if (!jv_is_valid(v)) {
		char why[200];
		json_error_text(v, why, sizeof why);
		return err_set("%s: %s", c->path, why);
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT || known(v, c->path, " boards installations ") < 0) {
		rc = jv_get_kind(v) != JV_KIND_OBJECT ? err_set("%s: expected one JSON object", c->path)
		                                      : -1;
		jv_free(v);
		return rc;
	}
	jv bs = json_get(v, "boards"), is = json_get(v, "installations");
	if (jv_is_valid(bs) && jv_get_kind(bs) != JV_KIND_OBJECT)
		rc = err_set("%s: boards: expected an object of boards by name", c->path);
	if (rc == 0 && jv_is_valid(bs)) {
		c->board = calloc((size_t)jv_object_length(jv_copy(bs)) + 1, sizeof *c->board);
		jv_object_foreach(bs, k, b)
		{
			if (rc == 0) {
				rc = board(&c->board[c->nboard], jv_string_value(k), b);
				c->nboard++;
			}
			jv_free(k);
			jv_free(b);
		}
	}
	if (rc == 0 && jv_is_valid(is) && jv_get_kind(is) != JV_KIND_OBJECT)
		rc = err_set("%s: installations: expected an object of installations by name", c->path);
	if (rc == 0 && jv_is_valid(is)) {
		c->inst = calloc((size_t)jv_object_length(jv_copy(is)) + 1, sizeof *c->inst);
		jv_object_foreach(is, k, b)
		{
			if (rc == 0) {
				rc = install(c, &c->inst[c->ninst], jv_string_value(k), b);
				c->ninst++;
			}
			jv_free(k);
			jv_free(b);
		}
	}
	jv_free(bs);
	jv_free(is);
	jv_free(v);
	if (rc < 0)
		err_set("%s: %s", c->path, err_msg());
	return rc;
}

void vesta_config_free(struct vesta_config *c)
{
	for (int i = 0; i < c->nboard; i++) {
		free(c->board[i].name);
		free(c->board[i].base_url);
		free(c->board[i].key_env);
	}
	for (int i = 0; i < c->ninst; i++) {
		free(c->inst[i].name);
		free(c->inst[i].network);
		free(c->inst[i].route);
	}
	free(c->board);
	free(c->inst);
	free(c->path);
	memset(c, 0, sizeof *c);
}

int vesta_config_board(const struct vesta_config *c, const char *name)
{
	for (int i = 0; i < c->nboard; i++)
		if (!strcmp(c->board[i].name, name))
			return i;
	return err_set("no board named '%s' in %s", name, c->path);
}

const struct vesta_install *vesta_config_install(const struct vesta_config *c, const char *name)
{
	for (int i = 0; i < c->ninst; i++)
		if (!strcmp(c->inst[i].name, name))
			return &c->inst[i];
	err_set("no installation named '%s' in %s", name, c->path);
	return NULL;
}
