/* calls: the call log, every model call any program makes (DESIGN.md §3).
 *
 * Rows that come in streams are batched and written by a thread of this
 * module with its own connection (see db.h): db_call_log() packs a row
 * into the current batch; the writer commits a batch in one short BEGIN
 * IMMEDIATE transaction; db_flush() waits until every row given so far is
 * committed. db_call_log_now() inserts on the program's own connection,
 * inside its transaction. db_call_list() and db_call_totals() read it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/db.h"
#include "state/sqlite.h"

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


/* What the call log keeps in a struct db. */
struct calls {
	struct writer *w;  /* started on the first batched row */
	sqlite3_stmt *ins; /* db_call_log_now()'s, on the program's connection */
	struct batch now;  /* its one row */
};

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

static int writer_start(struct calls *cl, const char *path)
{
	struct writer *w = calloc(1, sizeof *w);
	if (!w)
		return err_errno("call log");
	if (dbi_connect(&w->h, path) < 0)
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
	cl->w = w;
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
	struct writer *w = db && db->calls ? db->calls->w : NULL;
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

int dbi_calls_close(struct db *db)
{
	struct calls *cl = db->calls;
	if (!cl)
		return 0;
	int rc = db_flush(db);
	sqlite3_finalize(cl->ins);
	free(cl->now.rows);
	free(cl->now.arena);
	struct writer *w = cl->w;
	free(cl);
	db->calls = NULL;
	if (!w)
		return rc;
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
	return rc;
}

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
	int64_t n = json_int(v, -1, 0, INT64_MAX);
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

/* The call log's part of DB, made on first use. */
static struct calls *calls_of(struct db *db)
{
	if (!db->calls && !(db->calls = calloc(1, sizeof *db->calls)))
		err_errno("call log");
	return db->calls;
}

int db_call_log(struct db *db, const struct db_call *c)
{
	struct calls *cl = calls_of(db);
	if (!cl || (!cl->w && writer_start(cl, db->path) < 0))
		return -1;
	struct writer *w = cl->w;
	if (pack_row(w->cur, c) < 0)
		return -1;
	if (w->cur->n >= DB_BATCH_ROWS || time_mono_ms() - w->cur->first_ms >= DB_BATCH_MS)
		return submit(w);
	return 0;
}

int db_call_log_now(struct db *db, const struct db_call *c)
{
	char why[512];
	struct calls *cl = calls_of(db);
	if (!cl)
		return -1;
	if (!cl->ins && sqlite3_prepare_v3(db->h, insert_call_sql, -1, SQLITE_PREPARE_PERSISTENT,
	                                   &cl->ins, NULL) != SQLITE_OK)
		return dbi_fail(db, "call log");
	cl->now.n = cl->now.used = 0;
	if (pack_row(&cl->now, c) < 0)
		return -1;
	if (insert_rows(db->h, cl->ins, &cl->now, why, sizeof why) < 0)
		return err_set("%s", why);
	return 0;
}

/* The calls a filter picks: parameters ?1 to ?5 (see bind_filter()). */
#define CALL_WHERE \
	" (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR network = ?2)" \
	" AND (?3 IS NULL OR run_id = ?3) AND (?4 IS NULL OR agent = ?4)" \
	" AND (?5 IS NULL OR instr(lower(prompt), lower(?5))" \
	"  OR instr(lower(response), lower(?5)) OR instr(lower(error_message), lower(?5)))"

static void bind_filter(sqlite3_stmt *st, const struct db_call_filter *f)
{
	const char *v[] = { f->model, f->network, f->run_id, f->agent, f->search };
	for (int i = 0; i < 5; i++)
		if (v[i])
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
}

int db_call_list(struct db *db, const struct db_call_filter *f,
                 int (*fn)(jv row, void *ctx), void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT id AS n, id, started_at, model, platform,"
		" input_type, output_type, state, prompt AS input, response AS output,"
		" error_kind, error_message, usage, cost, duration_ms, network, run_id, step,"
		" agent FROM calls WHERE" CALL_WHERE
		" ORDER BY id DESC LIMIT ?6) ORDER BY n";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "call log");
	bind_filter(st, f);
	sqlite3_bind_int64(st, 6, f->limit > 0 ? f->limit : -1);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* The error's two columns become one object, as in records. */
		jv r = jv_object_delete(jv_object_delete(dbi_row_object(st, "usage"), jv_string("n")),
		                        jv_string("error_kind"));
		r = jv_object_delete(r, jv_string("error_message"));
		jv err = jv_null();
		if (sqlite3_column_type(st, 10) != SQLITE_NULL)
			err = json_set(json_set(jv_object(), "kind", dbi_column(st, 10)),
			               "message", dbi_column(st, 11));
		stop = fn(json_set(r, "error", err), ctx) != 0;
	}
	return dbi_rows_done(db, st, rc, stop, "call log");
}

int db_call_totals(struct db *db, const struct db_call_filter *f,
                   int (*fn)(jv row, void *ctx), void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT model, count(*) AS calls,"
		" sum(state = 'failed') AS failed, sum(input_tokens) AS input_tokens,"
		" sum(output_tokens) AS output_tokens, sum(cost) AS cost,"
		" sum(duration_ms) AS duration_ms"
		" FROM calls WHERE" CALL_WHERE " GROUP BY model ORDER BY model)"
		" UNION ALL SELECT NULL, count(*), coalesce(sum(state = 'failed'), 0),"
		" sum(input_tokens), sum(output_tokens), sum(cost), sum(duration_ms)"
		" FROM calls WHERE" CALL_WHERE;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "call log");
	bind_filter(st, f);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(dbi_row_object(st, ""), ctx) != 0;
	return dbi_rows_done(db, st, rc, stop, "call log");
}
