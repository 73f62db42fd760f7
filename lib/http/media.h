/* Media types by extension: see media.c. */
#ifndef LIB_HTTP_MEDIA_H
#define LIB_HTTP_MEDIA_H

#include <stdbool.h>

/* The Content-Type for a file name (or path) by its extension, any case;
 * application/octet-stream if unknown.  *compressible: whether the type
 * is worth a compressed variant. */
const char *http_media_type(const char *name, bool *compressible);

#endif
