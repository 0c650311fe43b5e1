/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  agl_time_parse_iso8601 (const char  *text,
                                  gint64      *out_unix,
                                  GError     **error);
char     *agl_time_format_utc    (gint64       unix_time);
char     *agl_time_format_date   (gint64       unix_time);

G_END_DECLS
