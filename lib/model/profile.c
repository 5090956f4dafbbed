/* profile: profiles.json's settings of chat calls; see profile.h. */
#include <stdio.h>

#include "base/err.h"
#include "http/url.h"
#include "json/json.h"
#include "model/platform.h"
#include "model/profile.h"

jv profile_load(const char *path)
{
	jv all = json_load_file(path);
	if (jv_get_kind(all) == JV_KIND_OBJECT)
		return all;
	char why[300];
	int valid = jv_is_valid(all);
	json_error_text(all, why, sizeof why);
	err_set("%s: %s%s", path, valid ? "expected an object of profiles, " : "", why);
	return jv_invalid();
}

/* The boolean KEY of P: 1 true, 0 false, -1 absent; -2 another type. */
static int flag(jv p, const char *key)
{
	jv v = json_get(p, key);
	int k = jv_get_kind(v), rc = k == JV_KIND_TRUE ? 1 : k == JV_KIND_FALSE ? 0
	                             : !jv_is_valid(v) ? -1 : -2;
	jv_free(v);
	return rc;
}

int profile_apply(jv doc, const char *name, struct call_opts *o, const char **model)
{
	/* The strings taken below live in DOC, which holds P too. */
	jv p = json_get(doc, name);
	if (jv_get_kind(p) != JV_KIND_OBJECT) {
		jv_free(p);
		return err_set("no profile '%s'", name);
	}
	static const char *const strs[] = { "model", "system", "base_url", "key_env",
		                            "max_tokens_field" };
	const char **dst[] = { model, &o->system, &o->base_url, &o->key_env, &o->max_tokens_field };
	int rc = 0;
	for (int i = 0; i < 5 && rc == 0; i++) {
		jv v = json_get(p, strs[i]);
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_STRING)
			rc = err_set("profile '%s': \"%s\" must be a string", name, strs[i]);
		else if (!*dst[i] && jv_is_valid(v))
			*dst[i] = json_str(p, strs[i], NULL);
		jv_free(v);
	}
	if (rc == 0 && o->base_url && url_check(o->base_url) < 0)
		rc = err_set("profile '%s': \"base_url\": %s", name, err_msg());
	int ah = flag(p, "allow_http_key"), st = flag(p, "strict");
	if (rc == 0 && (ah == -2 || st == -2))
		rc = err_set("profile '%s': \"%s\" must be true or false", name,
		             ah == -2 ? "allow_http_key" : "strict");
	if (ah == 1)
		o->allow_http_key = 1;
	if (st == 0)
		o->no_strict = 1;
	jv t = json_get(p, "temperature");
	if (rc == 0 && jv_is_valid(t) &&
	    (jv_get_kind(t) != JV_KIND_NUMBER || !(jv_number_value(t) >= 0) || jv_number_value(t) > 2))
		rc = err_set("profile '%s': \"temperature\" must be a number from 0 to 2", name);
	else if (o->temperature < 0 && jv_get_kind(t) == JV_KIND_NUMBER)
		o->temperature = jv_number_value(t);
	jv_free(t);
	jv mt = json_get(p, "max_tokens");
	if (!o->max_tokens && jv_get_kind(mt) == JV_KIND_NUMBER)
		o->max_tokens = (long)json_int(mt, 0, 1, 1 << 24);
	jv_free(mt);
	jv sc = json_get(p, "schema");
	if (jv_get_kind(o->schema) == JV_KIND_NULL && jv_get_kind(sc) == JV_KIND_OBJECT)
		o->schema = jv_copy(sc);
	jv_free(sc);
	jv_free(p);
	return rc;
}
