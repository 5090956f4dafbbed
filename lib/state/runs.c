/* runs: a network's runs and their invocations, as objects whose fields
 * are the columns; see db.h. */
#include "json/json.h"
#include "state/db.h"
#include "state/sqlite.h"

int db_run_put(struct db *db, jv run)
{
	return dbi_run(db, "INSERT INTO runs (id, network_id, prompt, state, started_at, stopped_at,"
	                   " reason) VALUES (:id, :network_id, :prompt, :state, :started_at,"
	                   " :stopped_at, :reason) ON CONFLICT (id) DO UPDATE SET"
	                   " state = excluded.state, stopped_at = excluded.stopped_at,"
	                   " reason = excluded.reason", run, "runs");
}

jv db_run_current(struct db *db, const char *network_id)
{
	jv q = json_set(jv_object(), "network_id", jv_string(network_id));
	jv r = dbi_row(db, "SELECT id, network_id, prompt, state, started_at, stopped_at, reason"
	               " FROM runs WHERE network_id = :network_id AND state = 'running'"
	               " ORDER BY started_at DESC LIMIT 1", q, "");
	jv_free(q);
	return r;
}

int db_inv_put(struct db *db, jv inv)
{
	return dbi_run(db, "INSERT INTO invocations (id, network_id, run_id, seq, model, input,"
	                   " output, state, error, started_at, finished_at, usage, metadata)"
	                   " VALUES (:id, :network_id, :run_id, :seq, :model, :input, :output,"
	                   " :state, :error, :started_at, :finished_at, :usage, :metadata)"
	                   " ON CONFLICT (run_id, seq) DO UPDATE SET model = excluded.model,"
	                   " output = excluded.output,"
	                   " state = excluded.state, error = excluded.error,"
	                   " started_at = excluded.started_at, finished_at = excluded.finished_at,"
	                   " usage = excluded.usage, metadata = excluded.metadata", inv,
	               "invocations");
}

jv db_inv_last(struct db *db, const char *run_id)
{
	jv q = json_set(jv_object(), "run_id", jv_string(run_id));
	jv r = dbi_row(db, "SELECT id, network_id, run_id, seq, model, input, output, state, error,"
	               " started_at, finished_at, usage, metadata FROM invocations"
	               " WHERE run_id = :run_id ORDER BY seq DESC LIMIT 1", q,
	           "error usage metadata");
	jv_free(q);
	return r;
}
