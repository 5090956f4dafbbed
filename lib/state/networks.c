/* networks: PANIC!'s cycles of models, as objects {id, name, models,
 * lockout_seconds, description, created_at, updated_at}; see db.h. */
#include "base/err.h"
#include "base/id.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/db.h"
#include "state/sqlite.h"

#define NET_SELECT \
	"SELECT id, name, models, lockout_seconds, description, created_at, updated_at" \
	" FROM networks"

jv db_net_get(struct db *db, const char *name)
{
	jv q = json_set(jv_object(), "name", jv_string(name));
	jv n = dbi_row(db, NET_SELECT " WHERE name = :name", q, "models");
	jv_free(q);
	return n;
}

int db_net_list(struct db *db, int (*fn)(jv net, void *ctx), void *ctx)
{
	jv all = dbi_rows(db, NET_SELECT " ORDER BY name", jv_null(), "models");
	if (!jv_is_valid(all))
		return -1;
	int n = jv_array_length(jv_copy(all));
	for (int i = 0; i < n && !fn(jv_array_get(jv_copy(all), i), ctx); i++)
		;
	jv_free(all);
	return 0;
}

/* Runs SQL with the fields of NET (borrowed) and a new :id and the time
 * as :now bound; returns the rows changed, or -1. */
static int net_write(struct db *db, const char *sql, jv net)
{
	char now[32], id[ID_LEN + 1];
	int64_t t = time_now_ms();
	jv p = json_set(json_set(jv_copy(net), "id", jv_string(id_new_at(t, id))), "now",
	                jv_string(time_rfc3339(t, now)));
	int rc = dbi_run(db, sql, p, "networks");
	jv_free(p);
	if (rc < 0 && sqlite3_errcode(db->h) == SQLITE_CONSTRAINT)
		return err_set("network '%s' already exists", json_str(net, "name", NULL));
	return rc < 0 ? -1 : sqlite3_changes(db->h);
}

int db_net_create(struct db *db, jv net)
{
	int rc = net_write(db, "INSERT INTO networks (id, name, models, lockout_seconds,"
	                       " description, created_at, updated_at) VALUES (:id, :name,"
	                       " :models, coalesce(:lockout_seconds, 30), :description, :now, :now)",
	                   net);
	return rc < 0 ? -1 : 0;
}

int db_net_update(struct db *db, jv net)
{
	/* Only the fields NET has change; a description of "" clears it. */
	int rc = net_write(db, "UPDATE networks SET models = coalesce(:models, models),"
	                       " lockout_seconds = coalesce(:lockout_seconds, lockout_seconds),"
	                       " description = CASE WHEN :description IS NULL THEN description"
	                       " WHEN :description = '' THEN NULL ELSE :description END,"
	                       " updated_at = :now WHERE name = :name",
	                   net);
	if (rc == 0)
		return err_set("no network '%s'", json_str(net, "name", NULL));
	return rc < 0 ? -1 : 0;
}

int db_net_delete(struct db *db, const char *name, int force)
{
	sqlite3_stmt *st;
	if (dbi_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (sqlite3_prepare_v2(db->h, "SELECT (SELECT count(*) FROM runs WHERE network_id = n.id)"
	                              " FROM networks n WHERE name = ?", -1, &st, NULL) != SQLITE_OK) {
		dbi_fail(db, "networks");
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	long runs = rc == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		err_set("no network '%s'", name);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		dbi_fail(db, "networks");
		goto fail;
	}
	if (runs > 0 && !force) {
		err_set("network '%s' has %ld run%s: --force deletes them and their invocations too",
		        name, runs, runs == 1 ? "" : "s");
		goto fail;
	}
	if (sqlite3_prepare_v2(db->h, "DELETE FROM networks WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		dbi_fail(db, "networks");
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		dbi_fail(db, "networks");
		goto fail;
	}
	return dbi_exec(db, "COMMIT");
fail:
	return dbi_rollback_keep(db);
}
