/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-secrets.h"
#include "agl-store.h"
#include "agl-sync-engine.h"

G_BEGIN_DECLS

#define AGL_TYPE_SYNC_MANAGER (agl_sync_manager_get_type ())
G_DECLARE_FINAL_TYPE (AglSyncManager, agl_sync_manager, AGL, SYNC_MANAGER, GObject)

AglSyncManager *agl_sync_manager_new        (AglStore       *store,
                                             AglSecrets     *secrets);
void            agl_sync_manager_start      (AglSyncManager *self);
void            agl_sync_manager_stop       (AglSyncManager *self);
void            agl_sync_manager_reload     (AglSyncManager *self,
                                             const char     *name);
AglSyncEngine  *agl_sync_manager_get_engine (AglSyncManager *self,
                                             const char     *name);
void            agl_sync_manager_wake       (AglSyncManager *self,
                                             const char     *name);
void            agl_sync_manager_connect_async  (AglSyncManager      *self,
                                                 const AglAccount    *account,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
AglRemote      *agl_sync_manager_connect_finish (AglSyncManager      *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

void            agl_sync_manager_count_remote_async  (AglSyncManager      *self,
                                                      const AglAccount    *account,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean        agl_sync_manager_count_remote_finish (AglSyncManager      *self,
                                                      GAsyncResult        *result,
                                                      guint               *n_items,
                                                      GError             **error);

G_END_DECLS
