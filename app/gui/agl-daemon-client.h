/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-dbus-generated.h"

G_BEGIN_DECLS

/**
 * AglDaemonClientStatus:
 * @AGL_DAEMON_CLIENT_CONNECTING: the bus or the daemon is being reached
 * @AGL_DAEMON_CLIENT_READY: the daemon answers; calls can be made
 * @AGL_DAEMON_CLIENT_UNAVAILABLE: the daemon could not be reached or went
 *   away; agl_daemon_client_get_error_message() says why
 */
typedef enum {
  AGL_DAEMON_CLIENT_CONNECTING,
  AGL_DAEMON_CLIENT_READY,
  AGL_DAEMON_CLIENT_UNAVAILABLE,
} AglDaemonClientStatus;

#define AGL_TYPE_DAEMON_CLIENT (agl_daemon_client_get_type ())

G_DECLARE_FINAL_TYPE (AglDaemonClient, agl_daemon_client, AGL, DAEMON_CLIENT, GObject)

AglDaemonClient       *agl_daemon_client_new                      (void);
void                   agl_daemon_client_connect                  (AglDaemonClient      *self);
AglDaemonClientStatus  agl_daemon_client_get_status               (AglDaemonClient      *self);
const char            *agl_daemon_client_get_error_message        (AglDaemonClient      *self);
AglDaemon             *agl_daemon_client_get_proxy                (AglDaemonClient      *self);
void                   agl_daemon_client_strip_error              (GError               *error);

void                   agl_daemon_client_get_state_async          (AglDaemonClient      *self,
                                                                   GCancellable         *cancellable,
                                                                   GAsyncReadyCallback   callback,
                                                                   gpointer              user_data);
GVariant              *agl_daemon_client_get_state_finish         (AglDaemonClient      *self,
                                                                   GAsyncResult         *result,
                                                                   GError              **error);

void                   agl_daemon_client_list_accounts_async      (AglDaemonClient      *self,
                                                                   GCancellable         *cancellable,
                                                                   GAsyncReadyCallback   callback,
                                                                   gpointer              user_data);
GVariant              *agl_daemon_client_list_accounts_finish     (AglDaemonClient      *self,
                                                                   GAsyncResult         *result,
                                                                   GError              **error);

void                   agl_daemon_client_list_items_async         (AglDaemonClient      *self,
                                                                   GDateTime            *from,
                                                                   GDateTime            *to,
                                                                   GCancellable         *cancellable,
                                                                   GAsyncReadyCallback   callback,
                                                                   gpointer              user_data);
GVariant              *agl_daemon_client_list_items_finish        (AglDaemonClient      *self,
                                                                   GAsyncResult         *result,
                                                                   GError              **error);

void                   agl_daemon_client_list_occurrences_async   (AglDaemonClient      *self,
                                                                   GDateTime            *from,
                                                                   GDateTime            *to,
                                                                   GCancellable         *cancellable,
                                                                   GAsyncReadyCallback   callback,
                                                                   gpointer              user_data);
GVariant              *agl_daemon_client_list_occurrences_finish  (AglDaemonClient      *self,
                                                                   GAsyncResult         *result,
                                                                   GError              **error);

void                   agl_daemon_client_set_account_enabled_async  (AglDaemonClient    *self,
                                                                     const char         *name,
                                                                     gboolean            enabled,
                                                                     GCancellable       *cancellable,
                                                                     GAsyncReadyCallback callback,
                                                                     gpointer            user_data);
gboolean               agl_daemon_client_set_account_enabled_finish (AglDaemonClient    *self,
                                                                     GAsyncResult       *result,
                                                                     GError            **error);

G_END_DECLS
