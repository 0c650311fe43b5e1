/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The test Exchange server of tests/ews-server, run in-process, behind names
 * of its own: its headers and the client's declare different types of the
 * same names (AglEwsFault, AglEwsSyncChange), so no file includes both.
 * The server is an AglEwsServer, handled here as a GObject.  Mailboxes are
 * in the NTLM domain EXAMPLE.
 */

#define EWS_HARNESS_NS_T "http://schemas.microsoft.com/exchange/services/2006/types"

GObject  *ews_harness_server_new          (const char  *kit_dir,
                                           const char  *fixtures_dir,
                                           guint        minute_ms,
                                           guint        keepalive_ms,
                                           GError     **error);
char     *ews_harness_get_url             (GObject     *server);
char     *ews_harness_get_autodiscover_url (GObject    *server);
void      ews_harness_add_mailbox         (GObject     *server,
                                           const char  *address,
                                           const char  *user,
                                           const char  *password);
void      ews_harness_allow_impersonation (GObject     *server,
                                           const char  *account,
                                           const char  *target);
void      ews_harness_set_oof             (GObject     *server,
                                           const char  *address,
                                           const char  *state,
                                           gint64       start,
                                           gint64       end,
                                           const char  *internal_reply,
                                           const char  *external_reply);
char     *ews_harness_get_folder_id       (GObject     *server,
                                           const char  *address,
                                           char       **out_change_key);
guint     ews_harness_count_items         (GObject     *server,
                                           const char  *address);
void      ews_harness_inject_fault        (GObject     *server,
                                           const char  *kind,
                                           guint        count,
                                           guint        parameter);
char     *ews_harness_create_item         (GObject     *server,
                                           const char  *address,
                                           const char  *fields_xml,
                                           GError     **error);
gboolean  ews_harness_update_item         (GObject     *server,
                                           const char  *address,
                                           const char  *item_id,
                                           guint        occurrence,
                                           const char  *fields_xml,
                                           GError     **error);
gboolean  ews_harness_delete_item         (GObject     *server,
                                           const char  *address,
                                           const char  *item_id,
                                           guint        occurrence,
                                           GError     **error);
char     *ews_harness_create_item_of_class (GObject    *server,
                                            const char *address,
                                            const char *item_class,
                                            const char *fields_xml,
                                            GError    **error);
gboolean  ews_harness_move_item           (GObject     *server,
                                           const char  *address,
                                           const char  *item_id,
                                           const char  *folder,
                                           GError     **error);
void      ews_harness_set_streaming_enabled (GObject   *server,
                                             gboolean   enabled);
guint     ews_harness_expire_subscriptions (GObject    *server);

G_END_DECLS
