/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-account.h"
#include "agl-remote.h"
#include "agl-store.h"

G_BEGIN_DECLS

/**
 * AglSyncStatus:
 * @AGL_SYNC_STATUS_CONNECTING: signing in, nothing synced in this run yet
 * @AGL_SYNC_STATUS_SYNCING: a sync is running
 * @AGL_SYNC_STATUS_ONLINE: in step; waiting for the next change
 * @AGL_SYNC_STATUS_OFFLINE: the last attempt failed; retried with backoff
 */
typedef enum {
  AGL_SYNC_STATUS_CONNECTING,
  AGL_SYNC_STATUS_SYNCING,
  AGL_SYNC_STATUS_ONLINE,
  AGL_SYNC_STATUS_OFFLINE,
} AglSyncStatus;

/**
 * AglSyncNotify:
 * @AGL_SYNC_NOTIFY_NONE: not yet known
 * @AGL_SYNC_NOTIFY_STREAMING: a push channel (EWS streaming subscription)
 * @AGL_SYNC_NOTIFY_PULL: a pull subscription asked every few seconds
 * @AGL_SYNC_NOTIFY_POLLING: a sync every poll interval
 *
 * How the engine learns of changes on the server.
 */
typedef enum {
  AGL_SYNC_NOTIFY_NONE,
  AGL_SYNC_NOTIFY_STREAMING,
  AGL_SYNC_NOTIFY_PULL,
  AGL_SYNC_NOTIFY_POLLING,
} AglSyncNotify;

/**
 * AglSyncReport:
 * @received: changes stored from the server
 * @sent: local changes sent to it
 * @conflicts: conflicts settled
 * @seconds: how long the sync took
 *
 * What one complete sync did.
 */
typedef struct {
  guint  received;
  guint  sent;
  guint  conflicts;
  double seconds;
} AglSyncReport;

/**
 * AglSyncConnection:
 * @status: where the engine stands
 * @notify: how it learns of changes
 * @subscription_id: (nullable): the push or pull subscription
 * @watermark: (nullable): its last watermark
 * @last_sync: Unix time of the last complete sync, 0 before one
 * @last_error: (nullable): the last failure, %NULL after a success
 * @server_version: (nullable): the server's build
 *
 * The engine's side of `agendalinectl connections`; the store adds the
 * counts.
 */
typedef struct {
  AglSyncStatus  status;
  AglSyncNotify  notify;
  char          *subscription_id;
  char          *watermark;
  gint64         last_sync;
  char          *last_error;
  char          *server_version;
} AglSyncConnection;

void agl_sync_connection_clear (AglSyncConnection *connection);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AglSyncConnection, agl_sync_connection_clear)

/**
 * AglSyncConnector:
 * @connect_async: make the account's remote backend (look up the password,
 *   run Autodiscover …)
 * @connect_finish: its result, a new #AglRemote
 * @data: passed to both
 *
 * How an engine reaches its server; the service provides it, so that the
 * engine knows nothing of passwords or protocols.
 */
typedef struct {
  void       (*connect_async)  (const AglAccount    *account,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data,
                                gpointer             data);
  AglRemote *(*connect_finish) (GAsyncResult        *result,
                                GError             **error,
                                gpointer             data);
  gpointer     data;
} AglSyncConnector;

#define AGL_TYPE_SYNC_ENGINE (agl_sync_engine_get_type ())
G_DECLARE_FINAL_TYPE (AglSyncEngine, agl_sync_engine, AGL, SYNC_ENGINE, GObject)

AglSyncEngine *agl_sync_engine_new            (AglStore               *store,
                                               const AglAccount       *account,
                                               const AglSyncConnector *connector);
const AglAccount *agl_sync_engine_get_account (AglSyncEngine          *self);
void           agl_sync_engine_start          (AglSyncEngine          *self);
void           agl_sync_engine_stop           (AglSyncEngine          *self);
void           agl_sync_engine_wake           (AglSyncEngine          *self);
void           agl_sync_engine_sync_async     (AglSyncEngine          *self,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data);
gboolean       agl_sync_engine_sync_finish    (AglSyncEngine          *self,
                                               GAsyncResult           *result,
                                               AglSyncReport          *report,
                                               GError                **error);
void           agl_sync_engine_get_connection (AglSyncEngine          *self,
                                               AglSyncConnection      *connection);
AglRemote     *agl_sync_engine_get_remote     (AglSyncEngine          *self);
const char    *agl_sync_engine_get_identity   (AglSyncEngine          *self);
char          *agl_sync_engine_local_identity (const AglItem          *item);

G_END_DECLS
