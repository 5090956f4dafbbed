/* agents: the agents table and agent_events; see agents.h. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/id.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/agents.h"
#include "state/db.h"
#include "state/sqlite.h"

#define AGENT_COLS                                                                     \
	"id, name, status, llm_config, prompts, abilities, responsibilities, retry_policy," \
	" concurrency, last_error, inserted_at, updated_at, rev"

/* AGENT (borrowed) with :now, and id and times where absent. */
static jv with_defaults(jv agent, int create)
{
	char now[32], id[ID_LEN + 1];
	int64_t t = time_now_ms();
	jv a = json_set(jv_copy(agent), "now", jv_string(time_rfc3339(t, now)));
	if (create && !json_str(a, "id", NULL))
		a = json_set(a, "id", jv_string(id_new_at(t, id)));
	return a;
}

int db_agent_insert(struct db *db, jv agent)
{
	jv a = with_defaults(agent, 1);
	int rc = dbi_run(db, "INSERT INTO agents (id, name, status, llm_config, prompts, abilities,"
	                     " responsibilities, retry_policy, concurrency, last_error, inserted_at,"
	                     " updated_at)"
	                     " VALUES (:id, :name, coalesce(:status, 'inactive'),"
	                     " coalesce(:llm_config, '{}'), coalesce(:prompts, '{}'),"
	                     " coalesce(:abilities, '[]'), coalesce(:responsibilities, '[]'),"
	                     " coalesce(:retry_policy,"
	                     " '{\"type\":\"fixed\",\"max_retries\":3,\"delay_ms\":5000}'),"
	                     " :concurrency, :last_error, coalesce(:inserted_at, :now),"
	                     " coalesce(:updated_at, :now))", a, "agents");
	if (rc < 0 && sqlite3_errcode(db->h) == SQLITE_CONSTRAINT) {
		const char *msg = sqlite3_errmsg(db->h);
		rc = strstr(msg, "agents.id") ? err_set("an agent with id '%s' already exists",
		                                        json_str(a, "id", NULL))
		                              : err_set("agent '%s' already exists",
		                                        json_str(a, "name", NULL));
	}
	jv_free(a);
	return rc;
}

int db_agent_update(struct db *db, jv agent)
{
	jv a = with_defaults(agent, 0);
	int rc = dbi_run(db, "UPDATE agents SET name = :name, status = :status,"
	                     " llm_config = :llm_config, prompts = :prompts, abilities = :abilities,"
	                     " responsibilities = :responsibilities, retry_policy = :retry_policy,"
	                     " concurrency = :concurrency, last_error = :last_error,"
	                     " inserted_at = coalesce(:inserted_at, inserted_at),"
	                     " updated_at = coalesce(:updated_at, :now) WHERE id = :id", a, "agents");
	if (rc < 0 && sqlite3_errcode(db->h) == SQLITE_CONSTRAINT)
		rc = err_set("agent '%s' already exists", json_str(a, "name", NULL));
	else if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = err_set("no agent with id '%s'", json_str(a, "id", NULL));
	jv_free(a);
	return rc;
}

int db_agent_delete(struct db *db, const char *name)
{
	jv q = json_set(jv_object(), "name", jv_string(name));
	int rc = dbi_run(db, "DELETE FROM agents WHERE name = :name", q, "agents");
	jv_free(q);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		return err_set("no agent '%s'", name);
	return rc;
}

jv db_agent_get(struct db *db, const char *key, int by_id)
{
	jv q = json_set(jv_object(), "k", jv_string(key));
	jv r = by_id ? dbi_row(db, "SELECT " AGENT_COLS " FROM agents WHERE id = :k", q, "")
	             : dbi_row(db, "SELECT " AGENT_COLS " FROM agents WHERE name = :k", q, "");
	jv_free(q);
	return r;
}

int db_agent_list(struct db *db, const char *status, int (*fn)(jv row, void *ctx), void *ctx)
{
	jv q = json_set(jv_object(), "status", status ? jv_string(status) : jv_null());
	jv all = dbi_rows(db, "SELECT " AGENT_COLS " FROM agents WHERE :status IS NULL"
	                  " OR status = :status ORDER BY name", q, "");
	jv_free(q);
	if (!jv_is_valid(all))
		return -1;
	int n = jv_array_length(jv_copy(all));
	for (int i = 0; i < n && !fn(jv_array_get(jv_copy(all), i), ctx); i++)
		;
	jv_free(all);
	return 0;
}

jv db_agent_revs(struct db *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "SELECT id, rev, status FROM agents", -1, &st, NULL) !=
	    SQLITE_OK)
		return dbi_fail(db, "agents"), jv_invalid();
	jv out = jv_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jv v = jv_array_append(jv_array_append(jv_array(), dbi_column(st, 1)),
		                       dbi_column(st, 2));
		out = jv_object_set(out, dbi_column(st, 0), v);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jv_free(out);
		return dbi_fail(db, "agents"), jv_invalid();
	}
	return out;
}

int db_agent_set_state(struct db *db, const char *id, const char *status,
                       const char *last_error)
{
	static const char sql[] =
		"UPDATE agents SET status = coalesce(:status, status), last_error = :last_error"
		" WHERE id = :id AND (status IS NOT coalesce(:status, status)"
		" OR last_error IS NOT :last_error)";
	jv q = json_set(json_set(json_set(jv_object(), "id", jv_string(id)), "status",
	                         status ? jv_string(status) : jv_null()),
	                "last_error", last_error ? jv_string(last_error) : jv_null());
	int rc = dbi_run(db, sql, q, "agents");
	jv_free(q);
	return rc < 0 ? -1 : sqlite3_changes(db->h) > 0;
}

/* ---- agent_events ---- */

/* The largest payload or result kept whole in an event row. */
#define EVENT_VALUE_MAX (64 * 1024)

/* EV (borrowed) as its agent_events row: an id, at (now if absent), and
 * payload, result, error and detail as JSON text (truncated past
 * EVENT_VALUE_MAX). */
static jv event_row(jv ev)
{
	char now[32], id[ID_LEN + 1];
	int64_t t = time_now_ms();
	jv e = json_set(jv_copy(ev), "id", jv_string(id_new_at(t, id)));
	if (!json_str(e, "at", NULL))
		e = json_set(e, "at", jv_string(time_rfc3339(t, now)));
	static const char *const values[] = { "payload", "result", "error", "detail" };
	for (int i = 0; i < 4; i++) {
		jv v = json_get(e, values[i]);
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
			size_t n;
			char *text = json_dump(v, &n);
			jv s = !text ? jv_null()
			       : n > EVENT_VALUE_MAX
			               ? jv_dump_string(json_set(json_set(jv_object(), "truncated",
			                                                  jv_true()),
			                                         "bytes", jv_number((double)n)),
			                                0)
			               : jv_string_sized(text, (int)n);
			free(text);
			e = json_set(e, values[i], s);
		}
		jv_free(v);
	}
	return e;
}

int db_agent_event(struct db *db, jv ev)
{
	static const char sql[] =
		"INSERT INTO agent_events (id, agent_id, agent, at, event, responsibility, ability,"
		" scheduled_at, attempts, duration_ms, payload, result, error, detail) VALUES (:id,"
		" :agent_id, :agent, :at, :event, :responsibility, :ability, :scheduled_at,"
		" :attempts, :duration_ms, :payload, :result, :error, :detail)";
	jv e = event_row(ev);
	int rc = dbi_run(db, sql, e, "agent_events");
	jv_free(e);
	return rc;
}

jv db_agent_events(struct db *db, const char *id, const char *events, long limit)
{
	jv q = jv_object();
	q = json_set(q, "id", id ? jv_string(id) : jv_null());
	q = json_set(q, "events", events ? jv_string(events) : jv_null());
	q = json_set(q, "limit", jv_number(limit > 0 ? (double)limit : -1));
	jv r = dbi_rows(db, "SELECT * FROM (SELECT id, agent_id, agent, at, event,"
	                " responsibility, ability, scheduled_at, attempts, duration_ms, payload,"
	                " result, error, detail FROM agent_events WHERE (:id IS NULL OR agent_id = :id)"
	                " AND (:events IS NULL OR instr(' ' || :events || ' ', ' ' || event || ' '))"
	                " ORDER BY at DESC, id DESC LIMIT :limit) ORDER BY at, id", q,
	                "payload result error detail");
	jv_free(q);
	return r;
}

char *db_agent_last_fire(struct db *db, const char *id, const char *resp)
{
	jv q = json_set(json_set(jv_object(), "id", jv_string(id)), "r", jv_string(resp));
	jv r = dbi_row(db, "SELECT max(scheduled_at) AS s FROM agent_events WHERE agent_id = :id"
	               " AND responsibility = :r AND scheduled_at IS NOT NULL", q, "");
	jv_free(q);
	const char *s = jv_get_kind(r) == JV_KIND_OBJECT ? json_str(r, "s", NULL) : NULL;
	char *out = s ? strdup(s) : NULL;
	jv_free(r);
	return out;
}

long db_agent_prune(struct db *db, const char *before)
{
	jv q = json_set(jv_object(), "before", jv_string(before));
	int rc = dbi_run(db, "DELETE FROM agent_events WHERE at < :before", q, "agent_events");
	jv_free(q);
	return rc < 0 ? -1 : (long)sqlite3_changes(db->h);
}

uint64_t db_agent_fingerprint(struct db *db)
{
	sqlite3_stmt *st = dbi_cached(db, "SELECT id, rev, status FROM agents ORDER BY id");
	if (!st)
		return 0;
	uint64_t h = 14695981039346656037u;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int c = 0; c < 3; c++) {
			const unsigned char *t = sqlite3_column_text(st, c);
			for (; t && *t; t++)
				h = (h ^ *t) * 1099511628211u;
			h = (h ^ 0xff) * 1099511628211u; /* a separator no text has */
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? h | 1 : 0;
}

/* ---- the runner's writer ---- */

/* The columns of an agent_events row, in the INSERT's order; attempts and
 * duration_ms are numbers, the rest text. */
static const char *const ev_cols[] = { "id", "agent_id", "agent", "at", "event",
	                               "responsibility", "ability", "scheduled_at", "attempts",
	                               "duration_ms", "payload", "result", "error", "detail" };
#define EV_NCOLS ((int)(sizeof ev_cols / sizeof *ev_cols))
#define LOG_LINGER_MS 50

/* One write for the writer: an agent_events row, or an agent's last_error.
 * Plain C values only: jv is not shared between threads. */
struct op {
	struct op *next;
	int kind;               /* OP_EVENT, OP_ERROR */
	char *text[EV_NCOLS];   /* event: by ev_cols; error: id, last_error */
	int64_t num[EV_NCOLS];
	unsigned char isnum[EV_NCOLS];
};
enum { OP_EVENT, OP_ERROR };

struct db_agent_log {
	sqlite3 *h;
	sqlite3_stmt *ins, *err;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct op *head, *tail; /* queued, in order */
	int writing;            /* the writer holds a batch */
	int idle;               /* the writer waits for work (only then is it woken
	                         * for more: a lingering one takes it anyway) */
	int urgent, quit;
	char error[512];        /* the first failure, sticky */
};

static void op_free(struct op *o)
{
	for (int i = 0; i < EV_NCOLS; i++)
		free(o->text[i]);
	free(o);
}

/* Writes the ops of LIST in one transaction; on the writer thread. */
static int write_ops(struct db_agent_log *l, struct op *list)
{
	char *msg = NULL;
	if (sqlite3_exec(l->h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	for (struct op *o = list; o; o = o->next) {
		sqlite3_stmt *st = o->kind == OP_EVENT ? l->ins : l->err;
		int n = o->kind == OP_EVENT ? EV_NCOLS : 2;
		for (int i = 0; i < n; i++) {
			if (o->isnum[i])
				sqlite3_bind_int64(st, i + 1, o->num[i]);
			else if (o->text[i])
				sqlite3_bind_text(st, i + 1, o->text[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
		}
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (sqlite3_exec(l->h, "COMMIT", NULL, NULL, &msg) == SQLITE_OK)
		return 0;
fail:
	snprintf(l->error, sizeof l->error, "agent events: %s", msg ? msg : sqlite3_errmsg(l->h));
	sqlite3_free(msg);
	sqlite3_exec(l->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void *log_main(void *arg)
{
	struct db_agent_log *l = arg;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		l->idle = 1;
		while (!l->head && !l->quit)
			pthread_cond_wait(&l->work, &l->mu);
		l->idle = 0;
		if (!l->head)
			break;
		/* Linger a little, so a burst is one transaction, unless someone
		 * waits for it. */
		if (!l->urgent && !l->quit) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += LOG_LINGER_MS * 1000000L;
			t.tv_sec += t.tv_nsec / 1000000000L;
			t.tv_nsec %= 1000000000L;
			while (!l->urgent && !l->quit &&
			       pthread_cond_timedwait(&l->work, &l->mu, &t) == 0)
				;
		}
		struct op *list = l->head;
		l->head = l->tail = NULL;
		l->writing = 1;
		int failed = l->error[0] != 0;
		pthread_mutex_unlock(&l->mu);
		if (!failed)
			write_ops(l, list);
		while (list) {
			struct op *o = list;
			list = o->next;
			op_free(o);
		}
		pthread_mutex_lock(&l->mu);
		l->writing = 0;
		l->urgent = 0;
		pthread_cond_broadcast(&l->done);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int db_agent_log_open(struct db *db, struct db_agent_log **out)
{
	*out = NULL;
	struct db_agent_log *l = calloc(1, sizeof *l);
	if (!l)
		return err_errno("agent events");
	if (dbi_connect(&l->h, db->path) < 0)
		goto fail;
	if (sqlite3_prepare_v3(l->h, "INSERT INTO agent_events (id, agent_id, agent, at, event,"
	                       " responsibility, ability, scheduled_at, attempts, duration_ms,"
	                       " payload, result, error, detail)"
	                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
	                       SQLITE_PREPARE_PERSISTENT, &l->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(l->h, "UPDATE agents SET last_error = ?2 WHERE id = ?1"
	                       " AND last_error IS NOT ?2", -1, SQLITE_PREPARE_PERSISTENT, &l->err,
	                       NULL) != SQLITE_OK) {
		err_set("agent events: %s", sqlite3_errmsg(l->h));
		goto fail;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->done, NULL);
	/* The thread takes no signal: the program's signalfd, if it makes
	 * one later, is for its main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&l->thread, NULL, log_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->work);
		pthread_cond_destroy(&l->done);
		err_set("agent events: cannot start the writer thread");
		goto fail;
	}
	*out = l;
	return 0;
fail:
	sqlite3_finalize(l->ins);
	sqlite3_finalize(l->err);
	sqlite3_close(l->h);
	free(l);
	return -1;
}

static int queue(struct db_agent_log *l, struct op *o)
{
	pthread_mutex_lock(&l->mu);
	if (l->tail)
		l->tail->next = o;
	else
		l->head = o;
	l->tail = o;
	if (l->idle)
		pthread_cond_signal(&l->work);
	int rc = l->error[0] ? err_set("%s", l->error) : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int db_agent_log_event(struct db_agent_log *l, jv ev)
{
	struct op *o = calloc(1, sizeof *o);
	if (!o)
		return err_errno("agent events");
	o->kind = OP_EVENT;
	jv e = event_row(ev);
	int bad = 0;
	for (int i = 0; i < EV_NCOLS; i++) {
		jv v = json_get(e, ev_cols[i]);
		switch (jv_get_kind(v)) {
		case JV_KIND_STRING:
			bad |= !(o->text[i] = strdup(jv_string_value(v)));
			break;
		case JV_KIND_NUMBER:
			o->num[i] = (int64_t)jv_number_value(v);
			o->isnum[i] = 1;
			break;
		case JV_KIND_INVALID:
		case JV_KIND_NULL:
			break;
		default: {
			size_t n;
			bad |= !(o->text[i] = json_dump(v, &n));
		}
		}
		jv_free(v);
	}
	jv_free(e);
	if (bad) {
		op_free(o);
		return err_errno("agent events");
	}
	return queue(l, o);
}

int db_agent_log_error(struct db_agent_log *l, const char *id, const char *last_error)
{
	struct op *o = calloc(1, sizeof *o);
	if (!o || !(o->text[0] = strdup(id)) ||
	    (last_error && !(o->text[1] = strdup(last_error)))) {
		if (o)
			op_free(o);
		return err_errno("agent events");
	}
	o->kind = OP_ERROR;
	return queue(l, o);
}

int db_agent_log_sync(struct db_agent_log *l)
{
	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	l->urgent = 1;
	pthread_cond_signal(&l->work);
	while (l->head || l->writing)
		pthread_cond_wait(&l->done, &l->mu);
	int rc = l->error[0] ? err_set("%s", l->error) : 0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int db_agent_log_close(struct db_agent_log *l)
{
	if (!l)
		return 0;
	int rc = db_agent_log_sync(l);
	pthread_mutex_lock(&l->mu);
	l->quit = 1;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	sqlite3_finalize(l->ins);
	sqlite3_finalize(l->err);
	sqlite3_close(l->h);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->done);
	free(l);
	return rc;
}
