/* payloads: bus events too large for a fifo, kept for DB_PAYLOAD_MS so
 * that subscribers can resolve the reference they were sent; see db.h. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "state/db.h"
#include "state/sqlite.h"

int db_payload_put(struct db *db, const char *id, const char *topic, const char *event,
                   size_t n)
{
	sqlite3_stmt *st = NULL;
	int64_t now = time_now_ms();
	/* Keep payloads for DB_PAYLOAD_MS: subscribers resolve them at once. */
	if (sqlite3_prepare_v2(db->h, "DELETE FROM bus_payloads WHERE at < ?", -1, &st,
	                       NULL) != SQLITE_OK)
		return dbi_fail(db, "bus payload");
	sqlite3_bind_int64(st, 1, now - DB_PAYLOAD_MS);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return dbi_fail(db, "bus payload");
	if (sqlite3_prepare_v2(db->h, "INSERT INTO bus_payloads (id, at, topic, event)"
	                              " VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "bus payload");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dbi_fail(db, "bus payload");
}

char *db_payload_get(struct db *db, const char *id, size_t *n)
{
	sqlite3_stmt *st;
	char *out = NULL;
	if (sqlite3_prepare_v2(db->h, "SELECT event FROM bus_payloads WHERE id = ?", -1, &st,
	                       NULL) != SQLITE_OK) {
		dbi_fail(db, "bus payload");
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
		dbi_fail(db, "bus payload");
	}
	sqlite3_finalize(st);
	return out;
}
