/* query: objects in, objects out: binding a record's fields to a
 * statement's named parameters and turning rows back into objects; see
 * sqlite.h. */
#include <string.h>

#include "json/json.h"
#include "state/sqlite.h"

jv dbi_column(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return jv_number((double)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return jv_number(sqlite3_column_double(st, i));
	case SQLITE_NULL:
		return jv_null();
	default:
		return jv_string_sized((const char *)sqlite3_column_text(st, i),
		                       sqlite3_column_bytes(st, i));
	}
}

void dbi_bind(sqlite3_stmt *st, jv obj)
{
	int n = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		jv v = json_get(obj, name + 1);
		switch (jv_get_kind(v)) {
		case JV_KIND_STRING:
			sqlite3_bind_text(st, i, jv_string_value(v), jv_string_length_bytes(jv_copy(v)),
			                  SQLITE_TRANSIENT);
			break;
		case JV_KIND_NUMBER:
			sqlite3_bind_int64(st, i, (sqlite3_int64)jv_number_value(v));
			break;
		case JV_KIND_OBJECT:
		case JV_KIND_ARRAY: {
			jv t = jv_dump_string(jv_copy(v), 0);
			sqlite3_bind_text(st, i, jv_string_value(t), -1, SQLITE_TRANSIENT);
			jv_free(t);
			break;
		}
		default:
			sqlite3_bind_null(st, i);
		}
		jv_free(v);
	}
}

int dbi_run(struct db *db, const char *sql, jv obj, const char *what)
{
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, what);
	dbi_bind(st, obj);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : dbi_fail(db, what);
}

/* 1 if NAME is a word of the space-separated LIST. */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return 1;
	return 0;
}

jv dbi_row_object(sqlite3_stmt *st, const char *jsoncols)
{
	jv r = jv_object();
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);
		jv v = dbi_column(st, i);
		if (jv_get_kind(v) == JV_KIND_STRING && in_list(jsoncols, name)) {
			jv parsed = jv_parse(jv_string_value(v));
			jv_free(v);
			v = parsed;
		}
		r = json_set(r, name, v);
	}
	return r;
}

jv dbi_rows(struct db *db, const char *sql, jv obj, const char *jsoncols)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "query"), jv_invalid();
	dbi_bind(st, obj);
	jv out = jv_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		out = jv_array_append(out, dbi_row_object(st, jsoncols));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jv_free(out);
		return dbi_fail(db, "query"), jv_invalid();
	}
	return out;
}

jv dbi_row(struct db *db, const char *sql, jv obj, const char *jsoncols)
{
	jv all = dbi_rows(db, sql, obj, jsoncols);
	if (!jv_is_valid(all))
		return all;
	jv r = jv_array_length(jv_copy(all)) ? jv_array_get(jv_copy(all), 0) : jv_null();
	jv_free(all);
	return r;
}

int dbi_rows_done(struct db *db, sqlite3_stmt *st, int rc, int stop, const char *what)
{
	int bad = !stop && rc != SQLITE_DONE;
	if (bad)
		dbi_fail(db, what);
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}
