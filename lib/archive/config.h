/* config: an archive's settings from a file, the environment and the keys
 * file, under what the command line gave.
 *
 * The file (archive.json in the config directory, or $PANIC_ARCHIVE_CONFIG,
 * or the path given) is one JSON object:
 *
 *   {"dir": "/srv/panic/archive", "image_format": "webp",
 *    "audio_format": "ogg", "max_bytes": 104857600, "timeout_seconds": 120,
 *    "base_url": "https://gallery.example/archive",
 *    "s3": {"endpoint": "https://fly.storage.tigris.dev", "bucket": "panic",
 *           "region": "auto", "prefix": "outputs/",
 *           "public_url": "https://panic.fly.storage.tigris.dev/"}}
 *
 * Every field is optional. Credentials are never in it: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN come from the environment or
 * the 0600 keys file (base/keys.h); the endpoint may come from
 * AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL and the region from AWS_REGION
 * or AWS_DEFAULT_REGION.
 *
 * jv ownership: *DOC receives the parsed file, which the strings set in O
 * point into; the caller frees it after O's last use.
 */
#ifndef PANIC_ARCHIVE_CONFIG_H
#define PANIC_ARCHIVE_CONFIG_H

#include <jv.h>

struct archive_opts;

/* Fills the fields of O still unset (NULL or 0) from the file PATH (NULL:
 * the default file, if there is one), the environment and the keys file.
 * 0, or -1 with err_msg() (a file that does not parse, a field of the
 * wrong type, an unknown field, missing credentials for a bucket). */
int archive_settings(struct archive_opts *o, const char *path, jv *doc);

#endif
