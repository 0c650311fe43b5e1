/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * Words for what the daemon's presence JSON says (see the comment before
 * GetStatus in data/io.github.agendaline.Daemon.xml), and times in the
 * user's zone and clock format, shared by the status and rules pages.
 */

const char *agl_json_get_string           (JsonObject *object,
                                           const char *member);
gboolean    agl_json_get_boolean          (JsonObject *object,
                                           const char *member);
JsonObject *agl_json_get_object           (JsonObject *object,
                                           const char *member);
JsonArray  *agl_json_get_array            (JsonObject *object,
                                           const char *member);

GDateTime  *agl_format_parse_local        (const char *iso8601);
char       *agl_format_clock              (GDateTime  *time);
char       *agl_format_day                (GDateTime  *time);
char       *agl_format_when               (GDateTime  *time);
char       *agl_format_at                 (GDateTime  *time);

const char *agl_format_presence           (const char *presence);
const char *agl_format_presence_icon      (const char *presence);
const char *agl_format_presence_css_class (const char *presence);
const char *agl_format_free_busy          (const char *free_busy);
char       *agl_format_phone              (JsonObject *phone);
char       *agl_format_because            (JsonObject *because,
                                           const char *until);

G_END_DECLS
