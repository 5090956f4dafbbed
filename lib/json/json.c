/* json: helpers over libjq's jv; see json.h for ownership. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

/* Interned keys: a key string is made (and its hash computed by jq) once;
 * each use is then a reference count. Up to KEYS distinct keys are kept,
 * per thread: jq's reference counts are not atomic, so threads must not
 * share a key (the table goes when its thread ends). */
#define KEYS 128
static __thread struct {
	char *name;
	jv key;
} keys[KEYS];
static __thread int keys_used;
static pthread_key_t keys_key;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static void keys_free(void *p)
{
	(void)p;
	for (unsigned i = 0; i < KEYS; i++)
		if (keys[i].name) {
			free(keys[i].name);
			jv_free(keys[i].key);
			keys[i].name = NULL;
		}
	keys_used = 0;
}

static void keys_init(void)
{
	pthread_key_create(&keys_key, keys_free);
}

static jv key(const char *name)
{
	if (!keys_used) { /* freed with the thread */
		keys_used = 1;
		pthread_once(&keys_once, keys_init);
		pthread_setspecific(keys_key, &keys_used);
	}
	unsigned h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (unsigned i = 0; i < KEYS; i++) {
		unsigned k = (h + i) % KEYS;
		if (!keys[k].name) {
			char *copy = strdup(name);
			if (!copy)
				return jv_string(name);
			keys[k].name = copy;
			keys[k].key = jv_string(name);
			return jv_copy(keys[k].key);
		}
		if (!strcmp(keys[k].name, name))
			return jv_copy(keys[k].key);
	}
	return jv_string(name);
}

jv json_get(jv obj, const char *name)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(obj), key(name));
}

int json_has(jv obj, const char *name)
{
	jv v = json_get(obj, name);
	int has = jv_is_valid(v);
	jv_free(v);
	return has;
}

const char *json_str(jv obj, const char *name, int *len)
{
	jv v = json_get(obj, name);
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return NULL;
	}
	/* OBJ still holds a reference, so the bytes outlive V. */
	const char *s = jv_string_value(v);
	if (len)
		*len = jv_string_length_bytes(jv_copy(v));
	jv_free(v);
	return s;
}

int64_t json_int(jv v, int64_t def, int64_t min, int64_t max)
{
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		return def;
	double d = jv_number_value(v);
	if (d != d)
		return def;
	if (d <= (double)min)
		return min;
	if (d >= (double)max)
		return max;
	return (int64_t)d;
}

jv json_first(jv obj, const char *key)
{
	jv a = json_get(obj, key);
	jv v = jv_get_kind(a) == JV_KIND_ARRAY && jv_array_length(jv_copy(a)) > 0
	       ? jv_array_get(jv_copy(a), 0) : jv_null();
	jv_free(a);
	return v;
}

const char *json_str_or(jv obj, const char *key, const char *def)
{
	const char *s = json_str(obj, key, NULL);
	return s ? s : def;
}

jv json_set(jv obj, const char *name, jv val)
{
	if (!jv_is_valid(val)) { /* an absent value leaves the field absent */
		jv_free(val);
		return obj;
	}
	return jv_object_set(obj, key(name), val);
}

/* Bytes a JSON string must escape: controls, '"', '\\' and DEL, as jq does. */
static unsigned char needs_escape[256];

static void init_escape(void)
{
	for (int i = 0; i < 32; i++)
		needs_escape[i] = 1;
	needs_escape['"'] = needs_escape['\\'] = needs_escape[127] = 1;
}

void json_put_string(FILE *f, const char *s, size_t n)
{
	if (!needs_escape[0])
		init_escape();
	putc_unlocked('"', f);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!needs_escape[c])
			continue;
		fwrite_unlocked(s + run, 1, i - run, f);
		run = i + 1;
		switch (c) {
		case '"': fputs_unlocked("\\\"", f); break;
		case '\\': fputs_unlocked("\\\\", f); break;
		case '\b': fputs_unlocked("\\b", f); break;
		case '\f': fputs_unlocked("\\f", f); break;
		case '\n': fputs_unlocked("\\n", f); break;
		case '\r': fputs_unlocked("\\r", f); break;
		case '\t': fputs_unlocked("\\t", f); break;
		default: fprintf(f, "\\u%04x", c); break;
		}
	}
	fwrite_unlocked(s + run, 1, n - run, f);
	putc_unlocked('"', f);
}

void json_put(FILE *f, jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: fputs_unlocked("null", f); break;
	case JV_KIND_TRUE: fputs_unlocked("true", f); break;
	case JV_KIND_FALSE: fputs_unlocked("false", f); break;
	case JV_KIND_STRING:
		json_put_string(f, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		/* In range before the cast: 1e300 as a long long is undefined. */
		if (d > -1e17 && d < 1e17 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
			fprintf(f, "%lld", (long long)d);
		} else { /* jq's own shortest form, for exactly jq's output */
			jv s = jv_dump_string(jv_copy(v), 0);
			fputs_unlocked(jv_string_value(s), f);
			jv_free(s);
		}
		break;
	}
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));
		putc_unlocked('[', f);
		for (int i = 0; i < n; i++) {
			if (i)
				putc_unlocked(',', f);
			jv e = jv_array_get(jv_copy(v), i);
			json_put(f, e);
			jv_free(e);
		}
		putc_unlocked(']', f);
		break;
	}
	case JV_KIND_OBJECT: {
		int first = 1;
		putc_unlocked('{', f);
		for (int i = jv_object_iter(v); jv_object_iter_valid(v, i);
		     i = jv_object_iter_next(v, i)) {
			if (!first)
				putc_unlocked(',', f);
			first = 0;
			jv k = jv_object_iter_key(v, i), e = jv_object_iter_value(v, i);
			json_put(f, k);
			putc_unlocked(':', f);
			json_put(f, e);
			jv_free(k);
			jv_free(e);
		}
		putc_unlocked('}', f);
		break;
	}
	default: fputs_unlocked("null", f); break;
	}
}


char *json_dump(jv v, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return NULL;
	json_put(f, v);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

void json_write(FILE *f, jv obj)
{
	json_put(f, obj);
	putc_unlocked('\n', f);
}

unsigned json_key_mask(jv obj, const char *const names[], int n)
{
	unsigned mask = 0;
	size_t len[32];
	unsigned char first[256] = { 0 }; /* a key that starts otherwise is none of them */
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	for (int j = 0; j < n && j < 32; j++) {
		len[j] = strlen(names[j]);
		first[(unsigned char)names[j][0]] = 1;
	}
	for (int i = jv_object_iter(obj); jv_object_iter_valid(obj, i);
	     i = jv_object_iter_next(obj, i)) {
		jv k = jv_object_iter_key(obj, i);
		const char *s = jv_string_value(k);
		if (first[(unsigned char)s[0]]) {
			size_t kl = (size_t)jv_string_length_bytes(jv_copy(k));
			for (int j = 0; j < n && j < 32; j++)
				if (kl == len[j] && !memcmp(s, names[j], kl))
					mask |= 1u << j;
		}
		jv_free(k);
	}
	return mask;
}

void json_write_with(FILE *f, jv rec, const char *raw, size_t rawlen,
                     struct json_field *fields, int n)
{
	const char *names[32];
	for (int i = 0; i < n && i < 32; i++)
		names[i] = fields[i].key;
	int splice = raw && rawlen >= 2 && raw[rawlen - 1] == '}' && n <= 32 &&
	             json_key_mask(rec, names, n) == 0;
	if (!splice) {
		jv r = jv_copy(rec);
		for (int i = 0; i < n; i++)
			r = json_set(r, fields[i].key,
			             fields[i].str ? jv_string(fields[i].str) : fields[i].val);
		json_write(f, r);
		jv_free(r);
		return;
	}
	fwrite_unlocked(raw, 1, rawlen - 1, f);
	int empty = rawlen == 2;
	for (int i = 0; i < n; i++) {
		if (!empty || i)
			putc_unlocked(',', f);
		json_put_string(f, fields[i].key, strlen(fields[i].key));
		putc_unlocked(':', f);
		if (fields[i].str) {
			json_put_string(f, fields[i].str, strlen(fields[i].str));
		} else {
			json_put(f, fields[i].val);
			jv_free(fields[i].val);
		}
	}
	fputs_unlocked("}\n", f);
}

jv json_load_file(const char *path)
{
	/* Read whole and parsed in one buffer: jq 1.6's jv_load_file() feeds
	 * its parser in pieces and can fail an assertion on some inputs. */
	FILE *f = fopen(path, "re");
	if (!f)
		return jv_invalid_with_msg(jv_string_fmt("Could not open %s: %s", path,
		                                         strerror(errno)));
	char *buf = NULL;
	size_t n = 0, cap = 0, k;
	do {
		if (n == cap) {
			char *b = cap < JSON_FILE_MAX ? realloc(buf, cap = cap ? cap * 2 : 65536) : NULL;
			if (!b) {
				free(buf);
				fclose(f);
				return jv_invalid_with_msg(jv_string_fmt("%s: too large", path));
			}
			buf = b;
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	jv all = jv_array();
	struct jv_parser *p = jv_parser_new(0);
	jv_parser_set_buf(p, buf, (int)n, 0);
	for (jv v; jv_is_valid(v = jv_parser_next(p)) || jv_invalid_has_msg(jv_copy(v));) {
		if (!jv_is_valid(v)) { /* a parse error: it is the answer */
			jv_free(all);
			all = v;
			break;
		}
		all = jv_array_append(all, v);
	}
	jv_parser_free(p);
	free(buf);
	if (jv_get_kind(all) == JV_KIND_ARRAY && jv_array_length(jv_copy(all)) == 1)
		return jv_array_get(all, 0);
	return all;
}

void json_error_text(jv val, char *buf, size_t size)
{
	if (jv_is_valid(val)) {
		snprintf(buf, size, "got %s", jv_kind_name(jv_get_kind(val)));
		jv_free(val);
		return;
	}
	jv msg = jv_invalid_get_msg(val);
	const char *s = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
	                                                    : "invalid value";
	const char *echo = strstr(s, " (while parsing '");
	size_t n = echo ? (size_t)(echo - s) : strlen(s);
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	jv_free(msg);
}
