/* media: files told apart by their magic numbers; see media.h. */
#include <string.h>
#include <strings.h>

#include "archive/media.h"

static const struct {
	const char *ext, *type;
	enum media_kind kind;
} known[] = {
	{ "png", "image/png", MEDIA_IMAGE },     { "jpg", "image/jpeg", MEDIA_IMAGE },
	{ "gif", "image/gif", MEDIA_IMAGE },     { "webp", "image/webp", MEDIA_IMAGE },
	{ "avif", "image/avif", MEDIA_IMAGE },   { "bmp", "image/bmp", MEDIA_IMAGE },
	{ "tiff", "image/tiff", MEDIA_IMAGE },   { "mp3", "audio/mpeg", MEDIA_AUDIO },
	{ "ogg", "audio/ogg", MEDIA_AUDIO },     { "wav", "audio/wav", MEDIA_AUDIO },
	{ "flac", "audio/flac", MEDIA_AUDIO },   { "m4a", "audio/mp4", MEDIA_AUDIO },
	{ "aac", "audio/aac", MEDIA_AUDIO },     { "webm", "audio/webm", MEDIA_AUDIO },
	{ "mp4", "video/mp4", MEDIA_VIDEO },
};

struct media media_of_ext(const char *ext)
{
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (!strcmp(known[i].ext, ext))
			return (struct media){ known[i].kind, known[i].type, known[i].ext };
	return (struct media){ MEDIA_UNKNOWN, NULL, NULL };
}

struct media media_of_type(const char *type)
{
	for (size_t i = 0; type && i < sizeof known / sizeof *known; i++)
		if (!strcmp(known[i].type, type))
			return (struct media){ known[i].kind, known[i].type, known[i].ext };
	return (struct media){ MEDIA_UNKNOWN, NULL, NULL };
}

static int at(const unsigned char *p, size_t n, size_t off, const char *magic, size_t len)
{
	return n >= off + len && !memcmp(p + off, magic, len);
}

/* Text that starts like markup: '<' after a BOM and white space. */
static int markup(const unsigned char *p, size_t n)
{
	size_t i = 0;
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < n && p[i] == '<';
}

/* Printable text (UTF-8 or ASCII) with no control bytes but white space. */
static int text(const unsigned char *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

struct media media_sniff(const unsigned char *p, size_t n)
{
	const char *ext = NULL;
	if (at(p, n, 0, "\x89PNG\r\n\x1a\n", 8))
		ext = "png";
	else if (at(p, n, 0, "\xff\xd8\xff", 3))
		ext = "jpg";
	else if (at(p, n, 0, "GIF87a", 6) || at(p, n, 0, "GIF89a", 6))
		ext = "gif";
	else if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WEBP", 4))
		ext = "webp";
	else if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WAVE", 4))
		ext = "wav";
	else if (at(p, n, 4, "ftypavif", 8) || at(p, n, 4, "ftypavis", 8))
		ext = "avif";
	else if (at(p, n, 4, "ftypM4A ", 8))
		ext = "m4a";
	else if (at(p, n, 4, "ftyp", 4))
		ext = "mp4";
	else if (at(p, n, 0, "BM", 2) && n >= 26 && p[14] && !p[15] && !p[16] && !p[17])
		ext = "bmp"; /* the DIB header's size, a small little-endian number */
	else if (at(p, n, 0, "II*\0", 4) || at(p, n, 0, "MM\0*", 4))
		ext = "tiff";
	else if (at(p, n, 0, "OggS", 4))
		ext = "ogg";
	else if (at(p, n, 0, "fLaC", 4))
		ext = "flac";
	else if (at(p, n, 0, "ID3", 3))
		ext = "mp3";
	else if (at(p, n, 0, "\x1a\x45\xdf\xa3", 4))
		ext = "webm";
	else if (n >= 2 && p[0] == 0xff && (p[1] & 0xf6) == 0xf0)
		ext = "aac"; /* ADTS: sync, layer 0 */
	else if (n >= 2 && p[0] == 0xff && (p[1] & 0xe0) == 0xe0 && (p[1] & 0x06))
		ext = "mp3"; /* an MPEG audio frame: sync, a layer */
	if (ext)
		return media_of_ext(ext);
	if (markup(p, n))
		return (struct media){ MEDIA_MARKUP, "text/html", NULL };
	if (text(p, n))
		return (struct media){ MEDIA_TEXT, "text/plain", NULL };
	return (struct media){ MEDIA_UNKNOWN, NULL, NULL };
}

const char *media_kind_name(enum media_kind k)
{
	switch (k) {
	case MEDIA_IMAGE: return "image";
	case MEDIA_AUDIO: return "audio";
	case MEDIA_VIDEO: return "video";
	case MEDIA_MARKUP: return "HTML or XML";
	case MEDIA_TEXT: return "text";
	default: return "unknown data";
	}
}
