/* open: opening and closing the state file, its migrations, statements
 * kept for reuse, and transactions; see db.h and sqlite.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "state/db.h"
#include "state/sqlite.h"

int dbi_fail(struct db *db, const char *what)
{
	return err_set("%s: %s", what, sqlite3_errmsg(db->h));
}

int dbi_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set("%s", msg ? msg : sqlite3_errmsg(db->h));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int dbi_rollback_keep(struct db *db)
{
	char why[512];
	snprintf(why, sizeof why, "%s", err_msg());
	dbi_exec(db, "ROLLBACK");
	return err_set("%s", why);
}

sqlite3_stmt *dbi_cached(struct db *db, const char *sql)
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

int dbi_step(struct db *db, const char *sql)
{
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, sql);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : dbi_fail(db, sql);
}

static int user_version(struct db *db, int *v)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "schema version");
	int rc = sqlite3_step(st);
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : dbi_fail(db, "schema version");
}

static int migrate(struct db *db)
{
	int v;
	if (user_version(db, &v) < 0)
		return -1;
	if (v > dbi_nmigrations)
		return err_set("schema version %d is newer than this program knows (%d)",
		               v, dbi_nmigrations);
	if (v == dbi_nmigrations)
		return 0;
	if (dbi_exec(db, "BEGIN IMMEDIATE") < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (user_version(db, &v) < 0)
		goto fail;
	for (; v < dbi_nmigrations; v++) {
		char set[64];
		if (dbi_exec(db, dbi_migrations[v]) < 0)
			goto fail;
		snprintf(set, sizeof set, "PRAGMA user_version = %d", v + 1);
		if (dbi_exec(db, set) < 0)
			goto fail;
	}
	return dbi_exec(db, "COMMIT");
fail:
	dbi_rollback_keep(db);
	return err_set("migrating to schema version %d: %s", v + 1, err_msg());
}

int dbi_connect(sqlite3 **h, const char *path)
{
	if (sqlite3_open_v2(path, h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return err_set("%s: %s", path, *h ? sqlite3_errmsg(*h) : "cannot open");
	sqlite3_busy_timeout(*h, 10000);
	char *msg = NULL;
	/* Turning a new file to WAL takes a lock the busy handler does not wait
	 * for: when several programs open a new state file at once (the stages
	 * of a pipeline), all but one are told "database is locked". Wait. */
	int rc;
	for (int i = 0; (rc = sqlite3_exec(*h, "PRAGMA journal_mode=WAL", NULL, NULL, &msg)) ==
	                        SQLITE_BUSY && i < 2000; i++) {
		sqlite3_free(msg);
		msg = NULL;
		struct timespec t = { 0, 5 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	if (rc != SQLITE_OK || sqlite3_exec(*h, "PRAGMA synchronous=NORMAL;"
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
	int rc = -1;
	if (dbi_connect(&db->h, path) < 0) {
		if (db->h && (sqlite3_errcode(db->h) & 0xff) == SQLITE_READONLY)
			rc = DB_READONLY;
		goto fail;
	}
	if (migrate(db) < 0) {
		err_set("%s: %s", path, err_msg());
		goto fail;
	}
	if ((flags & DB_WRITE) && (sqlite3_db_readonly(db->h, "main") == 1 ||
	                           dbi_exec(db, "BEGIN IMMEDIATE; ROLLBACK") < 0)) {
		int ro = sqlite3_db_readonly(db->h, "main") == 1;
		err_set("%s: cannot be written%s%s", path, ro ? "" : ": ", ro ? "" : err_msg());
		rc = ro || (sqlite3_errcode(db->h) & 0xff) == SQLITE_READONLY ? DB_READONLY : -1;
		goto fail;
	}
	*out = db;
	return 0;
fail:
	sqlite3_close(db->h);
	dbi_locks_close(db);
	free(db->path);
	free(db);
	return rc;
}

int db_close(struct db *db)
{
	if (!db)
		return 0;
	int rc = dbi_calls_close(db);
	for (int i = 0; i < 16; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close(db->h);
	dbi_locks_close(db); /* after SQLite: closing it drops the process's POSIX locks */
	free(db->path);
	free(db);
	return rc;
}

int db_changed(struct db *db)
{
	static const char sql[] = "PRAGMA data_version";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return dbi_fail(db, "data version");
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	int changed = v != db->data_version;
	db->data_version = v;
	return changed;
}

int db_begin(struct db *db)
{
	static const char sql[] = "BEGIN IMMEDIATE";
	return dbi_step(db, sql);
}

int db_commit(struct db *db)
{
	static const char sql[] = "COMMIT";
	if (dbi_step(db, sql) == 0)
		return 0;
	dbi_rollback_keep(db);
	return err_set("commit: %s", err_msg());
}

void db_rollback(struct db *db)
{
	dbi_exec(db, "ROLLBACK");
}
