#include <config.h>

#include <string.h>

#include "conf.h"
#include "names.h"

int
zm_user_name_valid(const char *s)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	if (len == 0 || len >= ZM_NAME_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '@')
			continue;
		if (ch == '$' && i == len - 1)
			continue;
		return 0;
	}
	/* "." and ".." could name directories where a name becomes a path. */
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return 1;
}
