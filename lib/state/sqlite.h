/* sqlite: what the SQLite implementation of db.h shares between its files.
 *
 * Private to lib/state: nothing outside this folder includes it, so a
 * second backend can replace SQLite without the programs knowing.
 *
 * Files: open.c (open, close, migrations, transactions), schema.c (the
 * migrations), query.c (objects in, objects out), calls.c (the call log and
 * its writer thread), payloads.c, networks.c, runs.c (runs and
 * invocations), locks.c.
 *
 * jv ownership: as in db.h, jv parameters are borrowed; returned jv are
 * owned by the caller.
 */
#ifndef PANIC_STATE_SQLITE_H
#define PANIC_STATE_SQLITE_H

#include <jv.h>
#include <sqlite3.h>

struct calls;

struct db {
	sqlite3 *h;
	char *path;
	struct calls *calls; /* the call log's writer and statements, or NULL */
	long long data_version; /* PRAGMA data_version when db_changed() last looked */
	int lockfd; /* the state file, open once for every named lock (locks.c), + 1; 0: none */
	struct {
		const char *sql; /* a static string: the key is its address */
		sqlite3_stmt *st;
	} cache[16];
};

/* migrations[i] takes the schema from version i to i+1 (schema.c). */
extern const char *const dbi_migrations[];
extern const int dbi_nmigrations;

/* Opens a connection to PATH with the pragmas every connection has. */
int dbi_connect(sqlite3 **h, const char *path);
/* Records "WHAT: sqlite's message"; returns -1. */
int dbi_fail(struct db *db, const char *what);
/* Runs SQL (any number of statements); -1 with err_msg() on error. */
int dbi_exec(struct db *db, const char *sql);
/* The prepared statement of SQL (a static string), kept for reuse; reset
 * and unbound. NULL on error. */
sqlite3_stmt *dbi_cached(struct db *db, const char *sql);
/* Runs the one statement SQL (a static string), cached; -1 on error. */
int dbi_step(struct db *db, const char *sql);
/* Rolls back, keeping the reason err_msg() held; returns -1. */
int dbi_rollback_keep(struct db *db);

/* A column as a jv value: text, integer, real or null. */
jv dbi_column(sqlite3_stmt *st, int i);
/* Binds the fields of OBJ to ST's named parameters :KEY; an object or
 * array value is bound as its JSON text. */
void dbi_bind(sqlite3_stmt *st, jv obj);
/* Runs SQL (a static string) with OBJ bound; -1 on error. */
int dbi_run(struct db *db, const char *sql, jv obj, const char *what);
/* The current row of ST as an object of its columns; the text of the
 * columns named in JSONCOLS (space-separated) is parsed as JSON. */
jv dbi_row_object(sqlite3_stmt *st, const char *jsoncols);
/* The rows of SQL (OBJ bound) as objects: an array, or jv_invalid(). */
jv dbi_rows(struct db *db, const char *sql, jv obj, const char *jsoncols);
/* The first of them, jv_null() if none. */
jv dbi_row(struct db *db, const char *sql, jv obj, const char *jsoncols);
/* Ends a walk over the rows of ST that stopped with RC (or because its
 * callback said STOP): 0, or -1 if the walk failed. */
int dbi_rows_done(struct db *db, sqlite3_stmt *st, int rc, int stop, const char *what);

/* Releases the descriptor the named locks use (locks.c). */
void dbi_locks_close(struct db *db);

/* Commits what the call log holds and releases it (calls.c). */
int dbi_calls_close(struct db *db);

#endif
