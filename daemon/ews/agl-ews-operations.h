/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-ews-connection.h"
#include "agl-ews-request.h"
#include "agl-ews-response.h"

G_BEGIN_DECLS

/*
 * One asynchronous function per EWS operation: the request is written with
 * the connection's headers, sent with its retries, and the response read by
 * the matching reader of agl-ews-response.h.  Every _finish returns the
 * reader's result (transfer full) or %NULL with an #AGL_EWS_ERROR or a
 * transport error.
 */

void                agl_ews_get_calendar_folder_async  (AglEwsConnection    *connection,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
AglEwsFolderInfo   *agl_ews_get_calendar_folder_finish (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_sync_folder_items_async    (AglEwsConnection    *connection,
                                                        const char          *sync_state,
                                                        guint                max_changes,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
AglEwsSyncResult   *agl_ews_sync_folder_items_finish   (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_get_items_async            (AglEwsConnection      *connection,
                                                        const AglEwsItemIdRef *ids,
                                                        guint                  n_ids,
                                                        GCancellable          *cancellable,
                                                        GAsyncReadyCallback    callback,
                                                        gpointer               user_data);
void                agl_ews_create_items_async         (AglEwsConnection    *connection,
                                                        AglEwsSendMode       send_invitations,
                                                        AglEwsWriteFunc      write_items,
                                                        gpointer             write_data,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
void                agl_ews_update_items_async         (AglEwsConnection        *connection,
                                                        AglEwsConflictResolution conflict_resolution,
                                                        AglEwsSendMode           send_invitations,
                                                        const AglEwsItemChange  *changes,
                                                        guint                    n_changes,
                                                        GCancellable            *cancellable,
                                                        GAsyncReadyCallback      callback,
                                                        gpointer                 user_data);
void                agl_ews_delete_items_async         (AglEwsConnection      *connection,
                                                        AglEwsDeleteType       delete_type,
                                                        AglEwsSendMode         send_cancellations,
                                                        const AglEwsItemIdRef *ids,
                                                        guint                  n_ids,
                                                        GCancellable          *cancellable,
                                                        GAsyncReadyCallback    callback,
                                                        gpointer               user_data);
GPtrArray          *agl_ews_items_finish               (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_find_calendar_view_async   (AglEwsConnection    *connection,
                                                        GDateTime           *start,
                                                        GDateTime           *end,
                                                        guint                max_entries,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
AglEwsCalendarView *agl_ews_find_calendar_view_finish  (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_find_by_local_identity_async  (AglEwsConnection    *connection,
                                                           const char          *local_identity,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
GPtrArray          *agl_ews_find_by_local_identity_finish (AglEwsConnection    *connection,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void                agl_ews_get_user_oof_settings_async  (AglEwsConnection    *connection,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
AglEwsOofSettings  *agl_ews_get_user_oof_settings_finish (AglEwsConnection    *connection,
                                                          GAsyncResult        *result,
                                                          GError             **error);

void                agl_ews_subscribe_async            (AglEwsConnection    *connection,
                                                        gboolean             streaming,
                                                        const char          *watermark,
                                                        guint                timeout_minutes,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
AglEwsSubscription *agl_ews_subscribe_finish           (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_get_events_async           (AglEwsConnection    *connection,
                                                        const char          *subscription_id,
                                                        const char          *watermark,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
AglEwsNotification *agl_ews_get_events_finish          (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

void                agl_ews_unsubscribe_async          (AglEwsConnection    *connection,
                                                        const char          *subscription_id,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean            agl_ews_unsubscribe_finish         (AglEwsConnection    *connection,
                                                        GAsyncResult        *result,
                                                        GError             **error);

G_END_DECLS
