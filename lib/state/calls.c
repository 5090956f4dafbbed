/* db: the SQLite state file; see db.h.
 *
 * migrations[i] takes the schema from version i to i+1. They only ever
 * grow: a released step is never edited.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/id.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/db.h"

static const char *const migrations[] = {
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
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof *migrations))

/* A batch of call-log rows, packed: each text field is (offset, length)
 * into the arena, length -1 for NULL. */
enum { F_ID, F_MODEL, F_PLATFORM, F_ITYPE, F_OTYPE, F_PROMPT, F_RESPONSE, F_STATE,
       F_EKIND, F_EMSG, F_USAGE, F_STARTED, F_FINISHED, F_NETWORK, F_RUN, F_STEP,
       F_AGENT, NFIELDS };
struct row {
	size_t off[NFIELDS];
	int len[NFIELDS];
	int64_t duration_ms, in_tokens, out_tokens; /* tokens -1: NULL */
	double cost; /* < 0: NULL */
};
struct batch {
	struct row *rows;
	size_t n, cap;
	char *arena;
	size_t used, acap;
	int64_t first_ms;
};

/* The call-log writer: its own connection and thread. The main thread fills
 * `cur`; a full (or flushed) batch becomes `pending`, which the writer
 * inserts and commits in one BEGIN IMMEDIATE transaction, then returns as
 * `spare`. Invariant: at most one batch is pending; db_flush() returns once
 * nothing is pending. */
struct writer {
	sqlite3 *h;
	sqlite3_stmt *ins;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct batch bufs[2], *cur, *pending, *spare;
	int quit;
	char error[512]; /* the first failure, sticky */
};

struct db {
	sqlite3 *h;
	char *path;
	struct writer *w;
	sqlite3_stmt *ins; /* db_call_log_now()'s, on h */
	struct {
		const char *sql; /* a static string: the key is its address */
		sqlite3_stmt *st;
	} cache[16];
	struct batch now;  /* its one row */
};


static int fail(struct db *db, const char *what)
{
	return err_set("%s: %s", what, sqlite3_errmsg(db->h));
}

static int exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set("%s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The prepared statement of SQL (a static string), kept for reuse; reset
 * and unbound. NULL on error. */
static sqlite3_stmt *cached(struct db *db, const char *sql)
{
	int i;
	for (i = 0; i < 16 && db->cache[i].sql; i++)
		if (db->cache[i].sql == sql) {
			sqlite3_reset(db->cache[i].st);
			sqlite3_clear_bindings(db->cache[i].st);
			return db->cache[i].st;
		}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v3(db->h, sql, -1, i < 16 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
	                       NULL) != SQLITE_OK)
		return NULL;
	if (i < 16) {
		db->cache[i].sql = sql;
		db->cache[i].st = st;
	}
	return st;
}

static int user_version(struct db *db, int *v)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(db, "schema version");
	int rc = sqlite3_step(st);
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(db, "schema version");
}

static int migrate(struct db *db)
{
	int v;
	if (user_version(db, &v) < 0)
		return -1;
	if (v > NMIGRATIONS)
		return err_set("schema version %d is newer than this program knows (%d)",
		               v, NMIGRATIONS);
	if (v == NMIGRATIONS)
		return 0;
	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (user_version(db, &v) < 0)
		goto fail;
	for (; v < NMIGRATIONS; v++) {
		char set[64];
		if (exec(db, migrations[v]) < 0)
			goto fail;
		snprintf(set, sizeof set, "PRAGMA user_version = %d", v + 1);
		if (exec(db, set) < 0)
			goto fail;
	}
	return exec(db, "COMMIT");
fail:;
	char why[512];
	snprintf(why, sizeof why, "%s", err_msg());
	exec(db, "ROLLBACK");
	return err_set("migrating to schema version %d: %s", v + 1, why);
}

static int open_conn(sqlite3 **h, const char *path)
{
	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return err_set("%s: %s", path, *h ? sqlite3_errmsg(*h) : "cannot open");
	sqlite3_busy_timeout(*h, 10000);
	char *msg = NULL;
	if (sqlite3_exec(*h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                     "PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK) {
		err_set("%s: %s", path, msg ? msg : sqlite3_errmsg(*h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_open(struct db **out, const char *path, int flags)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !(flags & DB_CREATE))
			return err_errno(path);
		if (path_mkparents(path, 0700) < 0)
			return -1;
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_errno(path);
		close(fd);
	} else if (!S_ISREG(st.st_mode)) {
		return err_set("%s: not a regular file", path);
	}

	struct db *db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return err_errno("db");
	}
	if (open_conn(&db->h, path) < 0)
		goto fail;
	if (migrate(db) < 0) {
		char why[512];
		snprintf(why, sizeof why, "%s", err_msg());
		err_set("%s: %s", path, why);
		goto fail;
	}
	*out = db;
	return 0;
fail:
	sqlite3_close(db->h);
	free(db->path);
	free(db);
	return -1;
}

static void bind_field(sqlite3_stmt *st, int i, const struct batch *b, const struct row *r, int f)
{
	if (r->len[f] < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, b->arena + r->off[f], r->len[f], SQLITE_STATIC);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, v);
}

static const char insert_call_sql[] =
	"INSERT INTO calls (id, model, platform, input_type, output_type, prompt, response,"
	" state, error_kind, error_message, input_tokens, output_tokens, usage, duration_ms,"
	" started_at, finished_at, network, run_id, step, agent, cost)"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* Inserts the rows of batch B with ST (on connection H); no transaction of
 * its own. Returns 0, or -1 with the reason in ERR. */
static int insert_rows(sqlite3 *h, sqlite3_stmt *st, struct batch *b, char *err, size_t size)
{
	static const int order[] = { F_ID, F_MODEL, F_PLATFORM, F_ITYPE, F_OTYPE, F_PROMPT,
		                     F_RESPONSE, F_STATE, F_EKIND, F_EMSG };
	for (size_t k = 0; k < b->n; k++) {
		const struct row *r = &b->rows[k];
		int i = 1;
		for (size_t j = 0; j < sizeof order / sizeof *order; j++)
			bind_field(st, i++, b, r, order[j]);
		bind_int(st, i++, r->in_tokens);
		bind_int(st, i++, r->out_tokens);
		bind_field(st, i++, b, r, F_USAGE);
		sqlite3_bind_int64(st, i++, r->duration_ms);
		bind_field(st, i++, b, r, F_STARTED);
		bind_field(st, i++, b, r, F_FINISHED);
		bind_field(st, i++, b, r, F_NETWORK);
		bind_field(st, i++, b, r, F_RUN);
		bind_field(st, i++, b, r, F_STEP);
		bind_field(st, i++, b, r, F_AGENT);
		if (r->cost < 0)
			sqlite3_bind_null(st, i++);
		else
			sqlite3_bind_double(st, i++, r->cost);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			snprintf(err, size, "call log: %s", sqlite3_errmsg(h));
			return -1;
		}
	}
	return 0;
}

/* Inserts and commits batch B; called on the writer thread. */
static int write_batch(struct writer *w, struct batch *b)
{
	char *msg = NULL;
	if (sqlite3_exec(w->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (insert_rows(w->h, w->ins, b, w->error, sizeof w->error) < 0) {
		sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(w->h, "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
		return 0;
fail:
	snprintf(w->error, sizeof w->error, "call log: %s", msg ? msg : sqlite3_errmsg(w->h));
	sqlite3_free(msg);
	sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->pending && !w->quit)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->pending)
			break;
		struct batch *b = w->pending;
		int failed = w->error[0] != 0;
		pthread_mutex_unlock(&w->mu);
		if (!failed)
			write_batch(w, b);
		b->n = b->used = 0;
		pthread_mutex_lock(&w->mu);
		w->spare = b;
		w->pending = NULL;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int writer_start(struct db *db)
{
	struct writer *w = calloc(1, sizeof *w);
	if (!w)
		return err_errno("call log");
	if (open_conn(&w->h, db->path) < 0)
		goto fail;
	/* Fewer, larger checkpoints: rows arrive in streams. */
	sqlite3_wal_autocheckpoint(w->h, 4000);
	if (sqlite3_prepare_v3(w->h, insert_call_sql, -1, SQLITE_PREPARE_PERSISTENT, &w->ins,
	                       NULL) != SQLITE_OK) {
		err_set("call log: %s", sqlite3_errmsg(w->h));
		goto fail;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	w->cur = &w->bufs[0];
	w->spare = &w->bufs[1];
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		err_set("call log: cannot start the writer thread");
		goto fail;
	}
	db->w = w;
	return 0;
fail:
	sqlite3_finalize(w->ins);
	sqlite3_close(w->h);
	free(w);
	return -1;
}

/* Hands the current batch to the writer (waiting while one is pending).
 * Returns -1 if an earlier batch failed. */
static int submit(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->done, &w->mu);
	w->pending = w->cur;
	w->cur = w->spare;
	w->spare = NULL;
	pthread_cond_signal(&w->work);
	int rc = w->error[0] ? err_set("%s", w->error) : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int db_flush(struct db *db)
{
	struct writer *w = db ? db->w : NULL;
	if (!w)
		return 0;
	if (w->cur->n)
		(void)submit(w);
	pthread_mutex_lock(&w->mu);
	while (w->pending)
		pthread_cond_wait(&w->done, &w->mu);
	int rc = w->error[0] ? err_set("%s", w->error) : 0;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int writer_stop(struct db *db)
{
	struct writer *w = db->w;
	if (!w)
		return 0;
	int rc = db_flush(db);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	sqlite3_finalize(w->ins);
	sqlite3_close(w->h);
	for (int i = 0; i < 2; i++) {
		free(w->bufs[i].rows);
		free(w->bufs[i].arena);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	free(w);
	db->w = NULL;
	return rc;
}

int db_close(struct db *db)
{
	if (!db)
		return 0;
	int rc = writer_stop(db);
	sqlite3_finalize(db->ins);
	for (int i = 0; i < 16; i++)
		sqlite3_finalize(db->cache[i].st);
	free(db->now.rows);
	free(db->now.arena);
	sqlite3_close(db->h);
	free(db->path);
	free(db);
	return rc;
}

/* Copies S (N bytes, or -1 for strlen; NULL for NULL) into B's arena. */
static int pack(struct batch *b, struct row *r, int f, const char *s, int n)
{
	if (!s) {
		r->len[f] = -1;
		return 0;
	}
	size_t len = n < 0 ? strlen(s) : (size_t)n;
	if (b->used + len > b->acap) {
		size_t cap = b->acap ? b->acap * 2 : 1 << 20;
		while (cap < b->used + len)
			cap *= 2;
		char *a = realloc(b->arena, cap);
		if (!a)
			return err_errno("call log");
		b->arena = a;
		b->acap = cap;
	}
	memcpy(b->arena + b->used, s, len);
	r->off[f] = b->used;
	r->len[f] = (int)len;
	b->used += len;
	return 0;
}

static int64_t usage_int(jv usage, const char *key)
{
	jv v = json_get(usage, key);
	int64_t n = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) : -1;
	jv_free(v);
	return n;
}

/* Appends C to batch B. */
static int pack_row(struct batch *b, const struct db_call *c)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct row *rows = realloc(b->rows, cap * sizeof *rows);
		if (!rows)
			return err_errno("call log");
		b->rows = rows;
		b->cap = cap;
	}
	if (!b->n)
		b->first_ms = time_mono_ms();
	struct row *r = &b->rows[b->n];
	jv usage = jv_get_kind(c->usage) == JV_KIND_OBJECT ? jv_dump_string(jv_copy(c->usage), 0)
	                                                   : jv_null();
	int rc = pack(b, r, F_ID, c->id, -1) | pack(b, r, F_MODEL, c->model, -1) |
	         pack(b, r, F_PLATFORM, c->platform, -1) |
	         pack(b, r, F_ITYPE, c->input_type, -1) |
	         pack(b, r, F_OTYPE, c->output_type, -1) |
	         pack(b, r, F_PROMPT, c->prompt, c->prompt_len) |
	         pack(b, r, F_RESPONSE, c->response, c->response_len) |
	         pack(b, r, F_STATE, c->state, -1) |
	         pack(b, r, F_EKIND, c->error_kind, -1) |
	         pack(b, r, F_EMSG, c->error_message, -1) |
	         pack(b, r, F_USAGE, jv_get_kind(usage) == JV_KIND_STRING
	                                     ? jv_string_value(usage) : NULL, -1) |
	         pack(b, r, F_STARTED, c->started_at, -1) |
	         pack(b, r, F_FINISHED, c->finished_at, -1) |
	         pack(b, r, F_NETWORK, c->network, -1) | pack(b, r, F_RUN, c->run_id, -1) |
	         pack(b, r, F_STEP, c->step, -1) | pack(b, r, F_AGENT, c->agent, -1);
	r->duration_ms = c->duration_ms;
	r->in_tokens = usage_int(c->usage, "input_tokens");
	r->out_tokens = usage_int(c->usage, "output_tokens");
	r->cost = c->cost;
	jv_free(usage);
	if (rc)
		return -1;
	b->n++;
	return 0;
}

int db_call_log(struct db *db, const struct db_call *c)
{
	if (!db->w && writer_start(db) < 0)
		return -1;
	struct writer *w = db->w;
	if (pack_row(w->cur, c) < 0)
		return -1;
	if (w->cur->n >= DB_BATCH_ROWS || time_mono_ms() - w->cur->first_ms >= DB_BATCH_MS)
		return submit(w);
	return 0;
}

int db_call_log_now(struct db *db, const struct db_call *c)
{
	char why[512];
	if (!db->ins && sqlite3_prepare_v3(db->h, insert_call_sql, -1, SQLITE_PREPARE_PERSISTENT,
	                                   &db->ins, NULL) != SQLITE_OK)
		return fail(db, "call log");
	db->now.n = db->now.used = 0;
	if (pack_row(&db->now, c) < 0)
		return -1;
	if (insert_rows(db->h, db->ins, &db->now, why, sizeof why) < 0)
		return err_set("%s", why);
	return 0;
}

/* A column as a jv value: text, integer, real or null; usage as JSON. */
static jv column(sqlite3_stmt *st, int i)
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

/* ---- queries: objects in, objects out ---- */

/* Binds the fields of OBJ (borrowed) to ST's named parameters :KEY; an
 * object or array value is bound as its JSON text. */
static void bind_obj(sqlite3_stmt *st, jv obj)
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

/* Runs SQL (a static string) with OBJ bound; -1 on error. */
static int run_sql(struct db *db, const char *sql, jv obj, const char *what)
{
	sqlite3_stmt *st = cached(db, sql);
	if (!st)
		return fail(db, what);
	bind_obj(st, obj);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(db, what);
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

/* The current row of ST as an object of its columns; the text of the
 * columns named in JSONCOLS is parsed as JSON. */
static jv row_object(sqlite3_stmt *st, const char *jsoncols)
{
	jv r = jv_object();
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);
		jv v = column(st, i);
		if (jv_get_kind(v) == JV_KIND_STRING && in_list(jsoncols, name)) {
			jv parsed = jv_parse(jv_string_value(v));
			jv_free(v);
			v = parsed;
		}
		r = json_set(r, name, v);
	}
	return r;
}

/* The rows of SQL (OBJ bound) as objects (see row_object()). An array, or
 * jv_invalid() on error. */
static jv rows(struct db *db, const char *sql, jv obj, const char *jsoncols)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, "query"), jv_invalid();
	bind_obj(st, obj);
	jv out = jv_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		out = jv_array_append(out, row_object(st, jsoncols));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jv_free(out);
		return fail(db, "query"), jv_invalid();
	}
	return out;
}

/* The first row of rows(), jv_null() if none. */
static jv row(struct db *db, const char *sql, jv obj, const char *jsoncols)
{
	jv all = rows(db, sql, obj, jsoncols);
	if (!jv_is_valid(all))
		return all;
	jv r = jv_array_length(jv_copy(all)) ? jv_array_get(jv_copy(all), 0) : jv_null();
	jv_free(all);
	return r;
}

/* Ends a walk over the rows of ST that stopped with RC (or because its
 * callback said STOP): 0, or -1 if the walk failed. */
static int rows_done(struct db *db, sqlite3_stmt *st, int rc, int stop)
{
	int bad = !stop && rc != SQLITE_DONE;
	if (bad)
		fail(db, "call log");
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

int db_call_list(struct db *db, const struct db_call_filter *f,
                 int (*fn)(jv row, void *ctx), void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT id AS n, id, started_at, model, platform,"
		" input_type, output_type, state, prompt AS input, response AS output,"
		" error_kind, error_message, usage, cost, duration_ms, network, run_id, step,"
		" agent FROM calls WHERE (?1 IS NULL OR model = ?1)"
		" ORDER BY id DESC LIMIT ?2) ORDER BY n";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, "call log");
	if (f->model)
		sqlite3_bind_text(st, 1, f->model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, f->limit > 0 ? f->limit : -1);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* The error's two columns become one object, as in records. */
		jv r = jv_object_delete(jv_object_delete(row_object(st, "usage"), jv_string("n")),
		                        jv_string("error_kind"));
		r = jv_object_delete(r, jv_string("error_message"));
		jv err = jv_null();
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			err = json_set(json_set(jv_object(), "kind", column(st, 10)),
			               "message", column(st, 11));
		stop = fn(json_set(r, "error", err), ctx) != 0;
	}
	return rows_done(db, st, rc, stop);
}

int db_call_totals(struct db *db, const char *model, int (*fn)(jv row, void *ctx),
                   void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT model, count(*) AS calls,"
		" sum(state = 'failed') AS failed, sum(input_tokens) AS input_tokens,"
		" sum(output_tokens) AS output_tokens, sum(cost) AS cost,"
		" sum(duration_ms) AS duration_ms"
		" FROM calls WHERE ?1 IS NULL OR model = ?1 GROUP BY model ORDER BY model)"
		" UNION ALL SELECT NULL, count(*), coalesce(sum(state = 'failed'), 0),"
		" sum(input_tokens), sum(output_tokens), sum(cost), sum(duration_ms)"
		" FROM calls WHERE ?1 IS NULL OR model = ?1";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, "call log");
	if (model)
		sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(row_object(st, ""), ctx) != 0;
	return rows_done(db, st, rc, stop);
}

int db_payload_put(struct db *db, const char *id, const char *topic, const char *event,
                   size_t n)
{
	sqlite3_stmt *st = NULL;
	int64_t now = time_now_ms();
	/* Keep payloads for DB_PAYLOAD_MS: subscribers resolve them at once. */
	if (sqlite3_prepare_v2(db->h, "DELETE FROM bus_payloads WHERE at < ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return fail(db, "bus payload");
	sqlite3_bind_int64(st, 1, now - DB_PAYLOAD_MS);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(db, "bus payload");
	if (sqlite3_prepare_v2(db->h, "INSERT INTO bus_payloads (id, at, topic, event)"
	                              " VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return fail(db, "bus payload");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(db, "bus payload");
}

char *db_payload_get(struct db *db, const char *id, size_t *n)
{
	sqlite3_stmt *st;
	char *out = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT event FROM bus_payloads WHERE id = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		fail(db, "bus payload");
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_bytes(st, 0);
		if ((out = malloc(*n + 1))) {
			memcpy(out, sqlite3_column_text(st, 0), *n);
			out[*n] = 0;
		} else {
			err_errno("bus payload");
		}
	} else if (rc == SQLITE_DONE) {
		err_set("bus payload %s: not found (expired or never stored)", id);
	} else {
		fail(db, "bus payload");
	}
	sqlite3_finalize(st);
	return out;
}

/* ---- networks ---- */

#define NET_SELECT \
	"SELECT id, name, models, lockout_seconds, description, created_at, updated_at" \
	" FROM networks"

jv db_net_get(struct db *db, const char *name)
{
	jv q = json_set(jv_object(), "name", jv_string(name));
	jv n = row(db, NET_SELECT " WHERE name = :name", q, "models");
	jv_free(q);
	return n;
}

int db_net_list(struct db *db, int (*fn)(jv net, void *ctx), void *ctx)
{
	jv all = rows(db, NET_SELECT " ORDER BY name", jv_null(), "models");
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
	int rc = run_sql(db, sql, p, "networks");
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
	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (sqlite3_prepare_v2(db->h, "SELECT (SELECT count(*) FROM runs WHERE network_id = n.id)"
	                              " FROM networks n WHERE name = ?", -1, &st, NULL) != SQLITE_OK) {
		fail(db, "networks");
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
		fail(db, "networks");
		goto fail;
	}
	if (runs > 0 && !force) {
		err_set("network '%s' has %ld run%s: --force deletes them and their invocations too",
		        name, runs, runs == 1 ? "" : "s");
		goto fail;
	}
	if (sqlite3_prepare_v2(db->h, "DELETE FROM networks WHERE name = ?", -1, &st, NULL) !=
	    SQLITE_OK) {
		fail(db, "networks");
		goto fail;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(db, "networks");
		goto fail;
	}
	return exec(db, "COMMIT");
fail:;
	char why[512];
	snprintf(why, sizeof why, "%s", err_msg());
	exec(db, "ROLLBACK");
	return err_set("%s", why);
}

/* ---- runs and invocations ---- */

static int step_sql(struct db *db, const char *sql)
{
	sqlite3_stmt *st = cached(db, sql);
	if (!st)
		return fail(db, sql);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(db, sql);
}

int db_begin(struct db *db)
{
	static const char sql[] = "BEGIN IMMEDIATE";
	return step_sql(db, sql);
}

int db_commit(struct db *db)
{
	static const char sql[] = "COMMIT";
	if (step_sql(db, sql) == 0)
		return 0;
	char why[512];
	snprintf(why, sizeof why, "%s", err_msg());
	exec(db, "ROLLBACK");
	return err_set("commit: %s", why);
}

void db_rollback(struct db *db)
{
	exec(db, "ROLLBACK");
}

int db_run_put(struct db *db, jv run)
{
	return run_sql(db, "INSERT INTO runs (id, network_id, prompt, state, started_at, stopped_at,"
	                   " reason) VALUES (:id, :network_id, :prompt, :state, :started_at,"
	                   " :stopped_at, :reason) ON CONFLICT (id) DO UPDATE SET"
	                   " state = excluded.state, stopped_at = excluded.stopped_at,"
	                   " reason = excluded.reason", run, "runs");
}

jv db_run_current(struct db *db, const char *network_id)
{
	jv q = json_set(jv_object(), "network_id", jv_string(network_id));
	jv r = row(db, "SELECT id, network_id, prompt, state, started_at, stopped_at, reason"
	               " FROM runs WHERE network_id = :network_id AND state = 'running'"
	               " ORDER BY started_at DESC LIMIT 1", q, "");
	jv_free(q);
	return r;
}

int db_inv_put(struct db *db, jv inv)
{
	return run_sql(db, "INSERT INTO invocations (id, network_id, run_id, seq, model, input,"
	                   " output, state, error, started_at, finished_at, usage, metadata)"
	                   " VALUES (:id, :network_id, :run_id, :seq, :model, :input, :output,"
	                   " :state, :error, :started_at, :finished_at, :usage, :metadata)"
	                   " ON CONFLICT (run_id, seq) DO UPDATE SET output = excluded.output,"
	                   " state = excluded.state, error = excluded.error,"
	                   " started_at = excluded.started_at, finished_at = excluded.finished_at,"
	                   " usage = excluded.usage, metadata = excluded.metadata", inv,
	               "invocations");
}

jv db_inv_last(struct db *db, const char *run_id)
{
	jv q = json_set(jv_object(), "run_id", jv_string(run_id));
	jv r = row(db, "SELECT id, network_id, run_id, seq, model, input, output, state, error,"
	               " started_at, finished_at, usage, metadata FROM invocations"
	               " WHERE run_id = :run_id ORDER BY seq DESC LIMIT 1", q,
	           "error usage metadata");
	jv_free(q);
	return r;
}


/* ---- locks ---- */

/* A lock is a file beside the state file, held with flock(2); its content
 * is the holder's note (one JSON line). The kernel drops the lock when the
 * holder dies, however it dies. */
struct db_lock {
	int fd;
};

static char *lock_path(struct db *db, const char *name)
{
	char *p;
	if (asprintf(&p, "%s-lock-%s", db->path, name) < 0)
		return NULL;
	return p;
}

int db_lock(struct db *db, const char *name, struct db_lock **out)
{
	*out = NULL;
	char *path = lock_path(db, name);
	if (!path)
		return err_errno("lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return err_errno("lock");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char buf[DB_NOTE_MAX] = "";
		ssize_t k = pread(fd, buf, sizeof buf, 0);
		close(fd);
		jv note = jv_parse_sized(buf, k > 0 ? (int)k : 0);
		jv pid = json_get(note, "pid");
		int rc = jv_get_kind(pid) == JV_KIND_NUMBER
		                 ? err_set("held by process %.0f", jv_number_value(pid))
		                 : err_set("held by another process");
		jv_free(pid);
		jv_free(note);
		return rc;
	}
	if (!(*out = malloc(sizeof **out))) {
		close(fd);
		return err_errno("lock");
	}
	(*out)->fd = fd;
	return 0;
}

int db_lock_note(struct db_lock *l, jv note)
{
	/* Padded with spaces to a fixed size: rewritten in place, never
	 * truncated, so a reader sees the old note or the new one. */
	char buf[DB_NOTE_MAX];
	jv t = jv_dump_string(jv_copy(note), 0);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(t));
	if (n >= sizeof buf) {
		jv_free(t);
		return err_set("lock note: over %d bytes", DB_NOTE_MAX);
	}
	memcpy(buf, jv_string_value(t), n);
	memset(buf + n, ' ', sizeof buf - n - 1);
	buf[sizeof buf - 1] = '\n';
	jv_free(t);
	if (pwrite(l->fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf)
		return err_errno("lock note");
	return 0;
}

void db_unlock(struct db_lock *l)
{
	if (!l)
		return;
	ftruncate(l->fd, 0);
	close(l->fd);
	free(l);
}

jv db_lock_peek(struct db *db, const char *name)
{
	char *path = lock_path(db, name);
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	free(path);
	if (fd < 0)
		return jv_null();
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) { /* nobody holds it */
		close(fd);
		return jv_null();
	}
	char buf[DB_NOTE_MAX];
	ssize_t k = pread(fd, buf, sizeof buf, 0);
	close(fd);
	jv note = jv_parse_sized(buf, k > 0 ? (int)k : 0);
	if (jv_get_kind(note) != JV_KIND_OBJECT) {
		jv_free(note);
		return jv_object();
	}
	return note;
}
