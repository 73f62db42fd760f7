/* Media types by extension (the usual web types, as nginx's mime.types
 * names them); text types say their charset.  Shared by tools/dir2c (on
 * the host, at build time) and apps/http (for files from a tar disk). */
#include <string.h>

#include "media.h"

static const struct {
	const char *ext, *type;
	bool compressible;
} types[] = {
    {"html", "text/html; charset=utf-8", true},
    {"htm", "text/html; charset=utf-8", true},
    {"css", "text/css; charset=utf-8", true},
    {"js", "text/javascript; charset=utf-8", true},
    {"mjs", "text/javascript; charset=utf-8", true},
    {"json", "application/json", true},
    {"map", "application/json", true},
    {"webmanifest", "application/manifest+json", true},
    {"xml", "application/xml", true},
    {"atom", "application/atom+xml", true},
    {"rss", "application/rss+xml", true},
    {"txt", "text/plain; charset=utf-8", true},
    {"md", "text/markdown; charset=utf-8", true},
    {"csv", "text/csv; charset=utf-8", true},
    {"svg", "image/svg+xml", true},
    {"ico", "image/x-icon", true},
    {"wasm", "application/wasm", true},
    {"ttf", "font/ttf", true},
    {"otf", "font/otf", true},
    {"woff", "font/woff", false},
    {"woff2", "font/woff2", false},
    {"png", "image/png", false},
    {"jpg", "image/jpeg", false},
    {"jpeg", "image/jpeg", false},
    {"gif", "image/gif", false},
    {"webp", "image/webp", false},
    {"avif", "image/avif", false},
    {"pdf", "application/pdf", false},
    {"zip", "application/zip", false},
    {"gz", "application/gzip", false},
    {"mp3", "audio/mpeg", false},
    {"ogg", "audio/ogg", false},
    {"wav", "audio/wav", false},
    {"mp4", "video/mp4", false},
    {"webm", "video/webm", false},
};

const char *http_media_type(const char *name, bool *compressible)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');
	if (dot)
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0) {
				*compressible = types[i].compressible;
				return types[i].type;
			}
	*compressible = false;
	return "application/octet-stream";
}
