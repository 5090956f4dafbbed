/* archive: panic-archive's tables; see archive.h. */
#include <sqlite3.h>

#include "json/json.h"
#include "state/archive.h"
#include "state/db.h"
#include "state/sqlite.h"

jv db_archive_file(struct db *db, const char *sha256)
{
	jv q = json_set(jv_object(), "sha256", jv_string(sha256));
	jv r = dbi_row(db, "SELECT sha256, path, bytes, content_type, created_at FROM archive_files"
	               " WHERE sha256 = :sha256", q, "");
	jv_free(q);
	return r;
}

int db_archive_file_put(struct db *db, jv file)
{
	return dbi_run(db, "INSERT OR REPLACE INTO archive_files (sha256, path, bytes, content_type,"
	                   " created_at) VALUES (:sha256, :path, :bytes, :content_type, :created_at)",
	               file, "archive_files");
}

jv db_archive_source(struct db *db, const char *source_sha256, const char *format)
{
	jv q = json_set(json_set(jv_object(), "source", jv_string(source_sha256)), "format",
	                jv_string(format));
	jv r = dbi_row(db, "SELECT s.sha256 FROM archive_sources s JOIN archive_files f"
	               " ON f.sha256 = s.sha256 WHERE s.source_sha256 = :source AND s.format = :format",
	               q, "");
	jv_free(q);
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return r;
	jv sha = json_get(r, "sha256");
	jv_free(r);
	return sha;
}

int db_archive_source_put(struct db *db, const char *source_sha256, const char *format,
                          const char *sha256)
{
	jv q = json_set(json_set(json_set(jv_object(), "source", jv_string(source_sha256)), "format",
	                         jv_string(format)),
	                "sha256", jv_string(sha256));
	int rc = dbi_run(db, "INSERT OR REPLACE INTO archive_sources (source_sha256, format, sha256)"
	                     " VALUES (:source, :format, :sha256)", q, "archive_sources");
	jv_free(q);
	return rc;
}

jv db_archive_upload(struct db *db, const char *sha256, const char *destination)
{
	jv q = json_set(json_set(jv_object(), "sha256", jv_string(sha256)), "destination",
	                jv_string(destination));
	jv r = dbi_row(db, "SELECT url FROM archive_uploads WHERE sha256 = :sha256"
	               " AND destination = :destination", q, "");
	jv_free(q);
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return r;
	jv url = json_get(r, "url");
	jv_free(r);
	return url;
}

int db_archive_upload_put(struct db *db, const char *sha256, const char *destination,
                          const char *url, const char *uploaded_at)
{
	jv q = jv_object();
	q = json_set(q, "sha256", jv_string(sha256));
	q = json_set(q, "destination", jv_string(destination));
	q = json_set(q, "url", jv_string(url));
	q = json_set(q, "at", jv_string(uploaded_at));
	int rc = dbi_run(db, "INSERT OR REPLACE INTO archive_uploads (sha256, destination, url,"
	                     " uploaded_at) VALUES (:sha256, :destination, :url, :at)", q,
	                 "archive_uploads");
	jv_free(q);
	return rc;
}

int db_archive_rewrite(struct db *db, const char *run_id, long seq, const char *from,
                       const char *to)
{
	jv q = jv_object();
	q = json_set(q, "run_id", jv_string(run_id));
	q = json_set(q, "seq", jv_number((double)seq));
	q = json_set(q, "from", jv_string(from));
	q = json_set(q, "to", jv_string(to));
	int n = 0;
	if (dbi_run(db, "UPDATE invocations SET output = :to WHERE run_id = :run_id AND seq = :seq"
	                " AND output = :from", q, "invocations") < 0)
		goto fail;
	n += sqlite3_changes(db->h);
	if (dbi_run(db, "UPDATE invocations SET input = :to WHERE run_id = :run_id"
	                " AND seq = :seq + 1 AND input = :from", q, "invocations") < 0)
		goto fail;
	n += sqlite3_changes(db->h);
	jv_free(q);
	return n;
fail:
	jv_free(q);
	return -1;
}
