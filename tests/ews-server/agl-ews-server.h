/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-ews-server-faults.h"
#include "agl-ews-server-mailbox.h"

G_BEGIN_DECLS

#define AGL_TYPE_EWS_SERVER (agl_ews_server_get_type ())
G_DECLARE_FINAL_TYPE (AglEwsServer, agl_ews_server, AGL, EWS_SERVER, GObject)

AglEwsServer  *agl_ews_server_new            (const char     *kit_dir,
                                              GError        **error);
gboolean       agl_ews_server_listen         (AglEwsServer   *self,
                                              GTlsCertificate *certificate,
                                              guint           port,
                                              GError        **error);
guint          agl_ews_server_get_port       (AglEwsServer   *self);
char          *agl_ews_server_get_url        (AglEwsServer   *self);
void           agl_ews_server_set_version    (AglEwsServer   *self,
                                              guint           major,
                                              guint           minor,
                                              guint           major_build,
                                              guint           minor_build,
                                              const char     *version);
void           agl_ews_server_set_minute_length (AglEwsServer *self,
                                                 guint         milliseconds);
void           agl_ews_server_set_keepalive_interval (AglEwsServer *self,
                                                      guint         milliseconds);
void           agl_ews_server_set_ntlm_domain (AglEwsServer *self,
                                               const char   *domain);
void           agl_ews_server_set_control_enabled (AglEwsServer *self,
                                                   gboolean      enabled);
AglEwsMailbox *agl_ews_server_add_mailbox    (AglEwsServer   *self,
                                              const char     *address,
                                              const char     *user,
                                              const char     *domain,
                                              const char     *password,
                                              const char     *display_name);
AglEwsMailbox *agl_ews_server_get_mailbox    (AglEwsServer   *self,
                                              const char     *address);
void           agl_ews_server_inject_fault   (AglEwsServer   *self,
                                              AglEwsFault     fault,
                                              guint           count,
                                              guint           parameter);
char          *agl_ews_server_create_item_xml (AglEwsServer  *self,
                                               const char    *address,
                                               const char    *calendar_item_xml,
                                               GError       **error);
gboolean       agl_ews_server_update_item_xml (AglEwsServer  *self,
                                               const char    *address,
                                               const char    *item_id,
                                               guint          occurrence_index,
                                               const char    *calendar_item_xml,
                                               GError       **error);
char          *agl_ews_server_create_item_of_class (AglEwsServer *self,
                                                    const char   *address,
                                                    const char   *item_class,
                                                    const char   *calendar_item_xml,
                                                    GError      **error);
gboolean       agl_ews_server_move_item      (AglEwsServer   *self,
                                              const char     *address,
                                              const char     *item_id,
                                              const char     *folder,
                                              GError        **error);
void           agl_ews_server_set_streaming_enabled (AglEwsServer *self,
                                                     gboolean      enabled);
guint          agl_ews_server_expire_subscriptions (AglEwsServer *self);
gboolean       agl_ews_server_delete_item    (AglEwsServer   *self,
                                              const char     *address,
                                              const char     *item_id,
                                              guint           occurrence_index,
                                              GError        **error);

G_END_DECLS
