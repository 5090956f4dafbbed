/* config: an archive's settings; see config.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/archive.h"
#include "archive/config.h"
#include "base/err.h"
#include "base/keys.h"
#include "base/path.h"
#include "json/json.h"

/* Sets *DST to the string field KEY of OBJ if *DST is unset. */
static int take(jv obj, const char *key, const char **dst, const char *where)
{
	jv v = json_get(obj, key);
	int kind = jv_get_kind(v);
	jv_free(v);
	if (kind == JV_KIND_INVALID || kind == JV_KIND_NULL)
		return 0;
	if (kind != JV_KIND_STRING)
		return err_set("%s: \"%s\" must be a string", where, key);
	if (!*dst)
		*dst = json_str(obj, key, NULL);
	return 0;
}

static int known_keys(jv obj, const char *const keys[], const char *where)
{
	for (int i = jv_object_iter(obj); jv_object_iter_valid(obj, i); i = jv_object_iter_next(obj, i)) {
		jv k = jv_object_iter_key(obj, i);
		int found = 0;
		for (int j = 0; keys[j] && !found; j++)
			found = !strcmp(keys[j], jv_string_value(k));
		if (!found) {
			err_set("%s: unknown field \"%s\"", where, jv_string_value(k));
			jv_free(k);
			return -1;
		}
		jv_free(k);
	}
	return 0;
}

static int from_file(struct archive_opts *o, const char *path, int must, jv *doc)
{
	struct stat st;
	if (!must && stat(path, &st) < 0 && errno == ENOENT)
		return 0;
	jv v = json_load_file(path);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		char why[300];
		int valid = jv_is_valid(v);
		json_error_text(v, why, sizeof why);
		return err_set("%s: %s%s", path, valid ? "expected an object, " : "", why);
	}
	static const char *const top[] = { "dir", "image_format", "audio_format", "max_bytes",
		                           "timeout_seconds", "base_url", "s3", NULL };
	static const char *const s3k[] = { "endpoint", "bucket", "region", "prefix", "public_url",
		                           NULL };
	*doc = v;
	if (known_keys(v, top, path) < 0 || take(v, "dir", &o->dir, path) < 0 ||
	    take(v, "image_format", &o->image_format, path) < 0 ||
	    take(v, "audio_format", &o->audio_format, path) < 0 ||
	    take(v, "base_url", &o->base_url, path) < 0)
		return -1;
	jv n = json_get(v, "max_bytes"), t = json_get(v, "timeout_seconds"), s3 = json_get(v, "s3");
	int rc = 0;
	if (jv_is_valid(n) && (jv_get_kind(n) != JV_KIND_NUMBER || jv_number_value(n) < 1))
		rc = err_set("%s: \"max_bytes\" must be a positive number", path);
	else if (jv_is_valid(n) && !o->max_bytes)
		o->max_bytes = (size_t)jv_number_value(n);
	if (!rc && jv_is_valid(t) && (jv_get_kind(t) != JV_KIND_NUMBER || jv_number_value(t) <= 0))
		rc = err_set("%s: \"timeout_seconds\" must be a positive number", path);
	else if (!rc && jv_is_valid(t) && o->timeout_ms <= 0)
		o->timeout_ms = (int)(jv_number_value(t) * 1000);
	if (!rc && jv_is_valid(s3) && jv_get_kind(s3) != JV_KIND_OBJECT)
		rc = err_set("%s: \"s3\" must be an object", path);
	else if (!rc && jv_is_valid(s3)) {
		/* The strings are borrowed from DOC, which holds s3 too. */
		if (known_keys(s3, s3k, path) < 0 || take(s3, "endpoint", &o->s3.endpoint, path) < 0 ||
		    take(s3, "bucket", &o->s3.bucket, path) < 0 ||
		    take(s3, "region", &o->s3.region, path) < 0 ||
		    take(s3, "prefix", &o->s3.prefix, path) < 0 ||
		    take(s3, "public_url", &o->s3.public_url, path) < 0)
			rc = -1;
	}
	jv_free(n);
	jv_free(t);
	jv_free(s3);
	return rc;
}

static const char *env(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

int archive_settings(struct archive_opts *o, const char *path, jv *doc)
{
	*doc = jv_null();
	const char *e = getenv("PANIC_ARCHIVE_CONFIG");
	char *def = NULL;
	int rc;
	if (path)
		rc = from_file(o, path, 1, doc);
	else if (e && *e)
		rc = from_file(o, e, 1, doc);
	else
		rc = (def = path_config("archive.json")) ? from_file(o, def, 0, doc) : 0;
	free(def);
	if (rc < 0)
		return -1;
	/* The s3 strings of DOC live as long as DOC: it is not changed. */
	if (!o->s3.endpoint && o->s3.bucket)
		o->s3.endpoint = env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
	if (!o->s3.region)
		o->s3.region = env("AWS_REGION", "AWS_DEFAULT_REGION");
	if (!o->s3.endpoint && !o->s3.bucket)
		return 0;
	if (!o->s3.endpoint)
		return err_set("S3 bucket '%s' but no endpoint (--endpoint or AWS_ENDPOINT_URL)",
		               o->s3.bucket);
	if (!o->s3.bucket)
		return err_set("S3 endpoint '%s' but no bucket", o->s3.endpoint);
	if (!o->s3.key_id && !(o->s3.key_id = keys_get("AWS_ACCESS_KEY_ID")))
		return err_set("S3: no AWS_ACCESS_KEY_ID: %s", err_msg());
	if (!o->s3.secret && !(o->s3.secret = keys_get("AWS_SECRET_ACCESS_KEY")))
		return err_set("S3: no AWS_SECRET_ACCESS_KEY: %s", err_msg());
	if (!o->s3.token)
		o->s3.token = keys_get("AWS_SESSION_TOKEN");
	return 0;
}
