/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Private to the store (agl-store.c and agl-store-schema.c): the schema,
 * its migrations, and the SQLite helpers both files share. */

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

void     agl_store_set_sqlite_error (GError     **error,
                                     int          rc,
                                     sqlite3     *db,
                                     const char  *path);
gboolean agl_store_exec             (sqlite3     *db,
                                     const char  *sql,
                                     const char  *path,
                                     GError     **error);
gboolean agl_store_query_int        (sqlite3     *db,
                                     const char  *sql,
                                     const char  *path,
                                     gint64      *value,
                                     GError     **error);

gboolean agl_store_schema_check     (sqlite3     *db,
                                     const char  *path,
                                     GError     **error);
gboolean agl_store_schema_migrate   (sqlite3     *db,
                                     const char  *path,
                                     int         *version,
                                     GError     **error);

G_END_DECLS
