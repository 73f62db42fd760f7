/* Path normalisation for the stores' names: see kv.h. */
#include <ingot/kv.h>
#include <string.h>

int kv_path_normalise(const char *path, size_t len, char *out, size_t outlen)
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		size_t plen = i - start;
		if (plen == 0 || (plen == 1 && path[start] == '.'))
			continue;
		if (plen == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (n == 0)
				return -1; /* above the root */
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* the '/' before the part dropped */
			continue;
		}
		if (n + (n ? 1 : 0) + plen + 1 > outlen)
			return -1;
		if (n)
			out[n++] = '/';
		memcpy(out + n, path + start, plen);
		n += plen;
	}
	if (n == 0 || memchr(out, '\0', n))
		return -1;
	out[n] = '\0';
	return (int)n;
}
