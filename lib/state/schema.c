/* schema: the state file's migrations (DESIGN.md §3).
 *
 * dbi_migrations[i] takes the schema from version i to i+1 (PRAGMA
 * user_version). They only ever grow: a released step is never edited;
 * a subsystem's tables come as a new step at the end.
 */
#include "state/sqlite.h"

const char *const dbi_migrations[] = {
	/* 0 -> 1: the call log */
	"CREATE TABLE calls ("
	"  id TEXT PRIMARY KEY,"
	"  model TEXT NOT NULL,"
	"  platform TEXT NOT NULL,"
	"  input_type TEXT, output_type TEXT,"
	"  prompt TEXT, response TEXT,"
	"  state TEXT NOT NULL,"
	"  error_kind TEXT, error_message TEXT,"
	"  input_tokens INTEGER, output_tokens INTEGER, usage TEXT,"
	"  duration_ms INTEGER,"
	"  started_at TEXT NOT NULL, finished_at TEXT,"
	"  network TEXT, run_id TEXT, step TEXT, agent TEXT);"
	"CREATE INDEX calls_run ON calls(run_id) WHERE run_id IS NOT NULL;",
	/* 1 -> 2: bus events too large for a fifo, sent by reference */
	"CREATE TABLE bus_payloads ("
	"  id TEXT PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  topic TEXT NOT NULL,"
	"  event TEXT NOT NULL);"
	"CREATE INDEX bus_payloads_at ON bus_payloads(at);",
	/* 2 -> 3: networks, their runs and invocations */
	"CREATE TABLE networks ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  models TEXT NOT NULL,"
	"  lockout_seconds INTEGER NOT NULL DEFAULT 30,"
	"  description TEXT,"
	"  created_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY,"
	"  network_id TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,"
	"  prompt TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  started_at TEXT NOT NULL,"
	"  stopped_at TEXT,"
	"  reason TEXT);"
	"CREATE INDEX runs_network ON runs(network_id, started_at);"
	/* Keyed by (run_id, seq), clustered: an invocation is one b-tree
	 * entry and one index entry, as a runner writes one per step. */
	"CREATE TABLE invocations ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  id TEXT NOT NULL,"
	"  network_id TEXT NOT NULL,"
	"  model TEXT NOT NULL,"
	"  input TEXT NOT NULL,"
	"  output TEXT,"
	"  state TEXT NOT NULL,"
	"  error TEXT,"
	"  started_at TEXT, finished_at TEXT,"
	"  usage TEXT, metadata TEXT,"
	"  PRIMARY KEY (run_id, seq)) WITHOUT ROWID;",
	/* 3 -> 4: what a call cost, from the catalogue's prices */
	"ALTER TABLE calls ADD COLUMN cost REAL;",
	/* 4 -> 5: panic-archive: files stored by the SHA-256 of their bytes,
	 * the stored form of each source (as downloaded, or converted), and
	 * where each file was uploaded */
	"CREATE TABLE archive_files ("
	"  sha256 TEXT PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  content_type TEXT NOT NULL,"
	"  created_at TEXT NOT NULL);"
	"CREATE TABLE archive_sources ("
	"  source_sha256 TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL REFERENCES archive_files(sha256) ON DELETE CASCADE,"
	"  PRIMARY KEY (source_sha256, format)) WITHOUT ROWID;"
	"CREATE TABLE archive_uploads ("
	"  sha256 TEXT NOT NULL REFERENCES archive_files(sha256) ON DELETE CASCADE,"
	"  destination TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  uploaded_at TEXT NOT NULL,"
	"  PRIMARY KEY (sha256, destination)) WITHOUT ROWID;",
	/* 5 -> 6: agents (Arboretum's): rows that make agents, their event log, and
	 * rev, moved by a trigger when a column that makes the agent changes
	 * (by hand in sqlite3 too), for runners to follow */
	"CREATE TABLE agents ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  status TEXT NOT NULL DEFAULT 'inactive',"
	"  llm_config TEXT NOT NULL DEFAULT '{}',"
	"  prompts TEXT NOT NULL DEFAULT '{}',"
	"  abilities TEXT NOT NULL DEFAULT '[]',"
	"  responsibilities TEXT NOT NULL DEFAULT '[]',"
	"  retry_policy TEXT NOT NULL"
	"    DEFAULT '{\"type\":\"fixed\",\"max_retries\":3,\"delay_ms\":5000}',"
	"  last_error TEXT,"
	"  inserted_at TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL,"
	"  rev INTEGER NOT NULL DEFAULT 0);"
	"CREATE TRIGGER agents_rev AFTER UPDATE ON agents"
	"  WHEN old.name IS NOT new.name OR old.status IS NOT new.status"
	"    OR old.llm_config IS NOT new.llm_config OR old.prompts IS NOT new.prompts"
	"    OR old.abilities IS NOT new.abilities"
	"    OR old.responsibilities IS NOT new.responsibilities"
	"    OR old.retry_policy IS NOT new.retry_policy"
	"  BEGIN UPDATE agents SET rev = new.rev + 1 WHERE id = new.id; END;"
	"CREATE TABLE agent_events ("
	"  id TEXT PRIMARY KEY,"
	"  agent_id TEXT NOT NULL,"
	"  agent TEXT NOT NULL,"
	"  at TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  responsibility TEXT, ability TEXT, scheduled_at TEXT,"
	"  attempts INTEGER, duration_ms INTEGER,"
	"  payload TEXT, result TEXT, error TEXT, detail TEXT);"
	"CREATE INDEX agent_events_agent ON agent_events(agent_id, at);"
	"CREATE INDEX agent_events_at ON agent_events(at);"
	"CREATE INDEX agent_events_fire ON agent_events(agent_id, responsibility, scheduled_at)"
	"  WHERE scheduled_at IS NOT NULL;",
	/* 6 -> 7: agents: concurrency, the jobs of an agent in flight at once
	 * (null: agent-run's --jobs), which moves rev too */
	"ALTER TABLE agents ADD COLUMN concurrency INTEGER;"
	"DROP TRIGGER agents_rev;"
	"CREATE TRIGGER agents_rev AFTER UPDATE ON agents"
	"  WHEN old.name IS NOT new.name OR old.status IS NOT new.status"
	"    OR old.llm_config IS NOT new.llm_config OR old.prompts IS NOT new.prompts"
	"    OR old.abilities IS NOT new.abilities"
	"    OR old.responsibilities IS NOT new.responsibilities"
	"    OR old.retry_policy IS NOT new.retry_policy"
	"    OR old.concurrency IS NOT new.concurrency"
	"  BEGIN UPDATE agents SET rev = new.rev + 1 WHERE id = new.id; END;",
};
const int dbi_nmigrations = (int)(sizeof dbi_migrations / sizeof *dbi_migrations);
