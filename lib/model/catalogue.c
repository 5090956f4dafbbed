/* catalogue: the model catalogue; see catalogue.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/platform.h"

extern const char catalogue_builtin[]; /* generated from share/panic/models.json */

struct catalogue {
	struct model **v;
	size_t n, cap;
};

static const char *const mtypes[] = { "text", "image", "audio" };

const char *mtype_name(int t)
{
	return t >= 0 && t < 3 ? mtypes[t] : "?";
}

int mtype_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, mtypes[i]))
			return i;
	return -1;
}

static void model_free(struct model *m)
{
	if (!m)
		return;
	if (m->priv && m->platform && m->platform->model_free)
		m->platform->model_free(m);
	free(m->id);
	free(m->name);
	jv_free(m->entry);
	free(m);
}

static struct model *lookup(struct catalogue *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i]->id, id))
			return c->v[i];
	return NULL;
}

struct model *catalogue_platform_model(struct catalogue *c, const char *id, int in, int out)
{
	const char *colon = strchr(id, ':');
	char pf[32];
	if (!colon || colon == id || (size_t)(colon - id) >= sizeof pf || !colon[1]) {
		err_set("'%s' is not PLATFORM:NAME", id);
		return NULL;
	}
	snprintf(pf, sizeof pf, "%.*s", (int)(colon - id), id);
	const struct platform *p = platform_find(pf);
	if (!p || !p->shared_fds) {
		err_set("'%s': no platform '%s' serves models by name (openai, replicate, gemini)",
		        id, pf);
		return NULL;
	}
	if (in < 0)
		in = MT_TEXT;
	if (out < 0) /* Replicate's models are mostly image makers */
		out = !strcmp(pf, "replicate") ? MT_IMAGE : MT_TEXT;
	jv e = jv_object();
	e = json_set(e, "id", jv_string(id));
	e = json_set(e, "platform", jv_string(pf));
	e = json_set(e, "input", jv_string(mtype_name(in)));
	e = json_set(e, "output", jv_string(mtype_name(out)));
	return catalogue_add(c, e, "model name");
}

struct model *catalogue_find(struct catalogue *c, const char *id)
{
	struct model *m = lookup(c, id);
	if (!m && strchr(id, ':'))
		m = catalogue_platform_model(c, id, -1, -1);
	return m;
}

size_t catalogue_count(const struct catalogue *c)
{
	return c->n;
}

struct model *catalogue_at(struct catalogue *c, size_t i)
{
	return i < c->n ? c->v[i] : NULL;
}

static int check_type(jv entry, const char *key, int *out)
{
	const char *s = json_str(entry, key, NULL);
	if (!s)
		return err_set("\"%s\" must be one of text, image, audio", key);
	if ((*out = mtype_parse(s)) < 0)
		return err_set("\"%s\": unknown type '%s' (text, image or audio)", key, s);
	return 0;
}

struct model *catalogue_add(struct catalogue *c, jv entry, const char *where)
{
	struct model *m = calloc(1, sizeof *m);
	if (!m) {
		jv_free(entry);
		err_errno("catalogue");
		return NULL;
	}
	m->entry = entry;
	char why[400];
	const char *id = json_str(entry, "id", NULL);
	const char *pf = json_str(entry, "platform", NULL);
	const char *name = json_str(entry, "name", NULL);
	if (jv_get_kind(entry) != JV_KIND_OBJECT) {
		err_set("%s: expected an object", where);
		goto fail;
	}
	if (!id || !*id || strpbrk(id, " \t\n")) {
		err_set("%s: \"id\" must be a non-empty string without spaces", where);
		goto fail;
	}
	if (!pf) {
		err_set("%s (%s): \"platform\" must be a string", where, id);
		goto fail;
	}
	if (!(m->platform = platform_find(pf))) {
		err_set("%s (%s): unknown platform '%s'", where, id, pf);
		goto fail;
	}
	if (check_type(entry, "input", &m->input) < 0 ||
	    check_type(entry, "output", &m->output) < 0 ||
	    (m->platform->check && m->platform->check(entry) < 0)) {
		snprintf(why, sizeof why, "%s", err_msg());
		err_set("%s (%s): %s", where, id, why);
		goto fail;
	}
	m->id = strdup(id);
	m->name = strdup(name ? name : id);
	if (!m->id || !m->name) {
		err_errno("catalogue");
		goto fail;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!strcmp(c->v[i]->id, m->id)) {
			model_free(c->v[i]);
			c->v[i] = m;
			return m;
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct model **v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			err_errno("catalogue");
			goto fail;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = m;
	return m;
fail:
	model_free(m);
	return NULL;
}

/* Adds every entry of the JSON array in TEXT; WHERE names the source. */
static int add_all(struct catalogue *c, jv list, const char *where)
{
	char at[512];
	if (jv_get_kind(list) == JV_KIND_INVALID) {
		char why[300];
		json_error_text(list, why, sizeof why);
		return err_set("%s: %s", where, why);
	}
	if (jv_get_kind(list) != JV_KIND_ARRAY) {
		jv_free(list);
		return err_set("%s: expected an array of model entries", where);
	}
	int n = jv_array_length(jv_copy(list));
	for (int i = 0; i < n; i++) {
		snprintf(at, sizeof at, "%s: entry %d", where, i + 1);
		if (!catalogue_add(c, jv_array_get(jv_copy(list), i), at)) {
			jv_free(list);
			return -1;
		}
	}
	jv_free(list);
	return 0;
}

int catalogue_load(struct catalogue **out, const char *user_file)
{
	struct catalogue *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return err_errno("catalogue");
	if (add_all(c, json_parse(catalogue_builtin, strlen(catalogue_builtin)), "built-in catalogue") < 0)
		goto fail;

	const char *env = getenv("PANIC_MODELS");
	char *path = NULL;
	int must_exist = 1;
	if (user_file)
		path = strdup(user_file);
	else if (env && *env)
		path = strdup(env);
	else if ((path = path_config("models.json")))
		must_exist = 0;
	if (!path)
		goto fail;
	if (must_exist || access(path, F_OK) == 0) {
		/* One array of entries, or the entries one by one. */
		jv list = json_load_file(path);
		if (jv_get_kind(list) == JV_KIND_OBJECT)
			list = jv_array_append(jv_array(), list);
		int rc = add_all(c, list, path);
		free(path);
		if (rc < 0)
			goto fail;
	} else {
		free(path);
	}
	*out = c;
	return 0;
fail:
	catalogue_free(c);
	return -1;
}

void catalogue_free(struct catalogue *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		model_free(c->v[i]);
	free(c->v);
	free(c);
}

int catalogue_chain(struct catalogue *c, jv ids)
{
	int n = jv_get_kind(ids) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ids)) : -1;
	if (n < 0)
		return err_set("the models must be an array of model ids");
	if (n == 0)
		return err_set("a network needs at least one model");
	struct model *first = NULL, *prev = NULL;
	for (int i = 0; i < n; i++) {
		jv id = jv_array_get(jv_copy(ids), i);
		struct model *m = jv_get_kind(id) == JV_KIND_STRING
		                          ? catalogue_find(c, jv_string_value(id)) : NULL;
		if (!m) {
			int rc = jv_get_kind(id) == JV_KIND_STRING
			                 ? err_set("model %d: unknown model '%s'", i + 1, jv_string_value(id))
			                 : err_set("model %d: not a model id", i + 1);
			jv_free(id);
			return rc;
		}
		jv_free(id);
		if (!prev && m->input != MT_TEXT)
			return err_set("model 1 (%s) takes %s: the first model must take text (the prompt)",
			               m->id, mtype_name(m->input));
		if (prev && prev->output != m->input)
			return err_set("model %d (%s) gives %s but model %d (%s) takes %s", i, prev->id,
			               mtype_name(prev->output), i + 1, m->id, mtype_name(m->input));
		if (!first)
			first = m;
		prev = m;
	}
	if (prev->output != first->input)
		return err_set("model %d (%s) gives %s but the cycle goes back to model 1 (%s), "
		               "which takes %s", n, prev->id, mtype_name(prev->output), first->id,
		               mtype_name(first->input));
	return 0;
}
