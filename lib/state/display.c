/* display: the recent invocations a display starts from; see display.h. */
#include "json/json.h"
#include "state/display.h"
#include "state/sqlite.h"

jv db_display_run(struct db *db, const char *network_id)
{
	jv q = json_set(jv_object(), "network_id", jv_string(network_id));
	jv r = dbi_row(db, "SELECT id, network_id, prompt, state, started_at, stopped_at, reason"
	               " FROM runs WHERE network_id = :network_id"
	               " ORDER BY started_at DESC, id DESC LIMIT 1", q, "");
	jv_free(q);
	return r;
}

jv db_display_recent(struct db *db, const char *run_id, long limit)
{
	jv q = json_set(json_set(jv_object(), "run_id", jv_string(run_id)), "limit",
	                jv_number((double)limit));
	jv r = dbi_rows(db, "SELECT * FROM (SELECT id, network_id, run_id, seq, model, input, output,"
	                " state, error, started_at, finished_at, usage, metadata FROM invocations"
	                " WHERE run_id = :run_id ORDER BY seq DESC LIMIT :limit) ORDER BY seq",
	                q, "error usage metadata");
	jv_free(q);
	return r;
}
