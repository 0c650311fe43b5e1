/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Times are Unix seconds (UTC).  A date, or a date-time without zone
 * designator, is read and a date is formatted in the process's local time
 * zone: the TZ environment variable, else the system's. */

gboolean  agl_time_parse_iso8601 (const char  *text,
                                  gint64      *out_unix,
                                  GError     **error);
char     *agl_time_format_utc    (gint64       unix_time);
char     *agl_time_format_date   (gint64       unix_time);

G_END_DECLS
