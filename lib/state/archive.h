/* archive: panic-archive's tables in the state file (DESIGN.md §3, §6).
 *
 *   archive_files    a file stored by the SHA-256 of its bytes: its path,
 *                    size and media type;
 *   archive_sources  what a downloaded source (by its SHA-256) was stored
 *                    as, per format ("keep", "webp", "mp3", "ogg"), so the
 *                    same content is converted and stored once;
 *   archive_uploads  where a file was uploaded, per destination (endpoint,
 *                    bucket and prefix), so it is uploaded once.
 *
 * jv ownership: parameters are borrowed; returned jv are the caller's.
 */
#ifndef PANIC_STATE_ARCHIVE_H
#define PANIC_STATE_ARCHIVE_H

#include <jv.h>

struct db;

/* The file SHA256: {sha256, path, bytes, content_type, created_at}, or
 * jv_null(); jv_invalid() with err_msg() on error. */
jv db_archive_file(struct db *db, const char *sha256);
/* Records FILE (the fields above); an existing row is replaced. */
int db_archive_file_put(struct db *db, jv file);
/* The sha256 the source SOURCE_SHA256 was stored as in FORMAT, as a
 * string, or jv_null(). */
jv db_archive_source(struct db *db, const char *source_sha256, const char *format);
int db_archive_source_put(struct db *db, const char *source_sha256, const char *format,
                          const char *sha256);
/* The URL file SHA256 was uploaded to at DESTINATION, or jv_null(). */
jv db_archive_upload(struct db *db, const char *sha256, const char *destination);
int db_archive_upload_put(struct db *db, const char *sha256, const char *destination,
                          const char *url, const char *uploaded_at);
/* Rewrites the stored invocation (RUN_ID, SEQ)'s output, and the input of
 * the invocation after it, from FROM to TO, where they still hold FROM.
 * Returns how many rows changed, or -1. */
int db_archive_rewrite(struct db *db, const char *run_id, long seq, const char *from,
                       const char *to);

#endif
