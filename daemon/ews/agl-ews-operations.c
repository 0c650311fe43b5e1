/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include "agl-ews-operations.h"

typedef gpointer (*ReadFunc) (xmlDoc  *doc,
                              GError **error);

typedef struct {
  ReadFunc       read;
  GDestroyNotify free_result;
} Operation;

static gpointer
read_unsubscribe (xmlDoc  *doc,
                  GError **error)
{
  /* Any non-NULL pointer stands for success. */
  return agl_ews_response_read_unsubscribe (doc, error) ? GINT_TO_POINTER (1) : NULL;
}

static void
free_nothing (gpointer data)
{
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const Operation *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  gpointer value;

  doc = agl_ews_connection_send_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (doc == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  value = op->read (doc, &error);
  if (value == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, value, op->free_result);
}

/* Takes @request; a %NULL @request with @error set fails the task at once
 * (an argument the request writer refused). */
static void
run (AglEwsConnection    *connection,
     const char          *operation,
     GBytes              *request,
     GError              *error,
     const Operation     *op,
     gpointer             source_tag,
     GCancellable        *cancellable,
     GAsyncReadyCallback  callback,
     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (connection, cancellable, callback, user_data);
  g_autoptr(GBytes) owned = request;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, (gpointer) op, NULL);
  if (request == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  agl_ews_connection_send_async (connection, operation, request, cancellable, sent_cb,
                                 g_steal_pointer (&task));
}

static gpointer
finish (AglEwsConnection *connection,
        GAsyncResult     *result,
        gpointer          source_tag,
        GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, connection), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static const Operation get_folder_op = {
  (ReadFunc) agl_ews_response_read_get_folder, (GDestroyNotify) agl_ews_folder_info_free
};
static const Operation sync_op = {
  (ReadFunc) agl_ews_response_read_sync_folder_items, (GDestroyNotify) agl_ews_sync_result_free
};
static const Operation get_item_op = {
  (ReadFunc) agl_ews_response_read_get_item, (GDestroyNotify) g_ptr_array_unref
};
static const Operation create_item_op = {
  (ReadFunc) agl_ews_response_read_create_item, (GDestroyNotify) g_ptr_array_unref
};
static const Operation update_item_op = {
  (ReadFunc) agl_ews_response_read_update_item, (GDestroyNotify) g_ptr_array_unref
};
static const Operation delete_item_op = {
  (ReadFunc) agl_ews_response_read_delete_item, (GDestroyNotify) g_ptr_array_unref
};
static const Operation find_item_op = {
  (ReadFunc) agl_ews_response_read_find_item_calendar_view,
  (GDestroyNotify) agl_ews_calendar_view_free
};
static const Operation find_items_op = {
  (ReadFunc) agl_ews_response_read_find_item, (GDestroyNotify) g_ptr_array_unref
};
static const Operation oof_op = {
  (ReadFunc) agl_ews_response_read_get_user_oof_settings,
  (GDestroyNotify) agl_ews_oof_settings_free
};
static const Operation subscribe_op = {
  (ReadFunc) agl_ews_response_read_subscribe, (GDestroyNotify) agl_ews_subscription_free
};
static const Operation get_events_op = {
  (ReadFunc) agl_ews_response_read_get_events, (GDestroyNotify) agl_ews_notification_free
};
static const Operation unsubscribe_op = { read_unsubscribe, free_nothing };

/* The item operations share one finish; their tags tell them apart. */
static void agl_ews_items_tag (void);

/**
 * agl_ews_get_calendar_folder_async:
 * @connection: a connection
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * GetFolder of the mailbox's calendar (the impersonated one if set).
 */
void
agl_ews_get_calendar_folder_async (AglEwsConnection    *connection,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_get_folder (&headers, NULL, &error);
  run (connection, "GetFolder", request, error, &get_folder_op,
       agl_ews_get_calendar_folder_async, cancellable, callback, user_data);
}

/**
 * agl_ews_get_calendar_folder_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the folder's id and change key
 */
AglEwsFolderInfo *
agl_ews_get_calendar_folder_finish (AglEwsConnection *connection,
                                    GAsyncResult     *result,
                                    GError          **error)
{
  return finish (connection, result, agl_ews_get_calendar_folder_async, error);
}

/**
 * agl_ews_sync_folder_items_async:
 * @connection: a connection
 * @sync_state: (nullable): the stored state, %NULL for a first sync
 * @max_changes: MaxChangesReturned, 1 to 512
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * One page of SyncFolderItems of the calendar.  The caller stores the page's
 * changes together with its new state and asks again until
 * includes_last_item_in_range.
 */
void
agl_ews_sync_folder_items_async (AglEwsConnection    *connection,
                                 const char          *sync_state,
                                 guint                max_changes,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  static const char * const fields[] = { "item:ItemClass", NULL };
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_sync_folder_items (&headers, sync_state, max_changes, fields, &error);
  run (connection, "SyncFolderItems", request, error, &sync_op,
       agl_ews_sync_folder_items_async, cancellable, callback, user_data);
}

/**
 * agl_ews_sync_folder_items_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location (ErrorInvalidSyncStateData among others)
 *
 * Returns: (transfer full) (nullable): the page
 */
AglEwsSyncResult *
agl_ews_sync_folder_items_finish (AglEwsConnection *connection,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  return finish (connection, result, agl_ews_sync_folder_items_async, error);
}

/**
 * agl_ews_get_items_async:
 * @connection: a connection
 * @ids: (array length=n_ids): the items to read in one batch
 * @n_ids: their number
 * @cancellable: (nullable): cancels the request
 * @callback: called when done; finish with agl_ews_items_finish()
 * @user_data: for @callback
 *
 * GetItem of every calendar field the mapping uses.
 */
void
agl_ews_get_items_async (AglEwsConnection      *connection,
                         const AglEwsItemIdRef *ids,
                         guint                  n_ids,
                         GCancellable          *cancellable,
                         GAsyncReadyCallback    callback,
                         gpointer               user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_get_item (&headers, ids, n_ids, NULL, &error);
  run (connection, "GetItem", request, error, &get_item_op, agl_ews_items_tag,
       cancellable, callback, user_data);
}

/**
 * agl_ews_create_items_async:
 * @connection: a connection
 * @send_invitations: SendMeetingInvitations, always written
 * @write_items: writes the t:CalendarItem elements
 * @write_data: for @write_items, used before this returns
 * @cancellable: (nullable): cancels the request
 * @callback: called when done; finish with agl_ews_items_finish()
 * @user_data: for @callback
 *
 * CreateItem in the calendar.
 */
void
agl_ews_create_items_async (AglEwsConnection    *connection,
                            AglEwsSendMode       send_invitations,
                            AglEwsWriteFunc      write_items,
                            gpointer             write_data,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_create_item (&headers, send_invitations, write_items, write_data,
                                         &error);
  run (connection, "CreateItem", request, error, &create_item_op, agl_ews_items_tag,
       cancellable, callback, user_data);
}

/**
 * agl_ews_update_items_async:
 * @connection: a connection
 * @conflict_resolution: ConflictResolution, the caller's choice
 * @send_invitations: SendMeetingInvitationsOrCancellations, always written
 * @changes: (array length=n_changes): the changes, each with its ChangeKey
 * @n_changes: their number
 * @cancellable: (nullable): cancels the request
 * @callback: called when done; finish with agl_ews_items_finish()
 * @user_data: for @callback
 *
 * UpdateItem in one batch.
 */
void
agl_ews_update_items_async (AglEwsConnection        *connection,
                            AglEwsConflictResolution conflict_resolution,
                            AglEwsSendMode           send_invitations,
                            const AglEwsItemChange  *changes,
                            guint                    n_changes,
                            GCancellable            *cancellable,
                            GAsyncReadyCallback      callback,
                            gpointer                 user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_update_items (&headers, conflict_resolution, send_invitations,
                                          changes, n_changes, &error);
  run (connection, "UpdateItem", request, error, &update_item_op, agl_ews_items_tag,
       cancellable, callback, user_data);
}

/**
 * agl_ews_delete_items_async:
 * @connection: a connection
 * @delete_type: DeleteType
 * @send_cancellations: SendMeetingCancellations, always written
 * @ids: (array length=n_ids): the items (with their ChangeKey)
 * @n_ids: their number
 * @cancellable: (nullable): cancels the request
 * @callback: called when done; finish with agl_ews_items_finish()
 * @user_data: for @callback
 *
 * DeleteItem in one batch.
 */
void
agl_ews_delete_items_async (AglEwsConnection      *connection,
                            AglEwsDeleteType       delete_type,
                            AglEwsSendMode         send_cancellations,
                            const AglEwsItemIdRef *ids,
                            guint                  n_ids,
                            GCancellable          *cancellable,
                            GAsyncReadyCallback    callback,
                            gpointer               user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_delete_item (&headers, delete_type, send_cancellations,
                                         AGL_EWS_AFFECTED_TASKS_UNSET, ids, n_ids, &error);
  run (connection, "DeleteItem", request, error, &delete_item_op, agl_ews_items_tag,
       cancellable, callback, user_data);
}

/**
 * agl_ews_items_finish:
 * @connection: a connection
 * @result: the result of GetItem, CreateItem, UpdateItem or DeleteItem
 * @error: return location (for the request as a whole)
 *
 * Returns: (transfer full) (nullable) (element-type AglEwsItemResult): one
 *   result per item in request order, each with its own error if it failed
 */
GPtrArray *
agl_ews_items_finish (AglEwsConnection *connection,
                      GAsyncResult     *result,
                      GError          **error)
{
  return finish (connection, result, agl_ews_items_tag, error);
}

/* Only its address is used, as the item operations' source tag. */
static void
agl_ews_items_tag (void)
{
}

/**
 * agl_ews_find_calendar_view_async:
 * @connection: a connection
 * @start: the view's start
 * @end: the view's end
 * @max_entries: MaxEntriesReturned, 0 for no limit
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * FindItem with a CalendarView: the occurrences in [@start, @end).
 */
void
agl_ews_find_calendar_view_async (AglEwsConnection    *connection,
                                  GDateTime           *start,
                                  GDateTime           *end,
                                  guint                max_entries,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_find_item_calendar_view (&headers, start, end, max_entries, &error);
  run (connection, "FindItem", request, error, &find_item_op,
       agl_ews_find_calendar_view_async, cancellable, callback, user_data);
}

/**
 * agl_ews_find_calendar_view_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the view
 */
AglEwsCalendarView *
agl_ews_find_calendar_view_finish (AglEwsConnection *connection,
                                   GAsyncResult     *result,
                                   GError          **error)
{
  return finish (connection, result, agl_ews_find_calendar_view_async, error);
}

/**
 * agl_ews_find_by_local_identity_async:
 * @connection: a connection
 * @local_identity: the value of Agendaline's extended property
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * FindItem of the calendar folder restricted to the items carrying
 * @local_identity in Agendaline's extended property (compared by the
 * server without regard to case).
 */
void
agl_ews_find_by_local_identity_async (AglEwsConnection    *connection,
                                      const char          *local_identity,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_find_item_by_local_identity (&headers, local_identity, &error);
  run (connection, "FindItem", request, error, &find_items_op,
       agl_ews_find_by_local_identity_async, cancellable, callback, user_data);
}

/**
 * agl_ews_find_by_local_identity_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable) (element-type AglEwsItemResult): the
 *   items found, each with its ItemId and a copy of the item (with the
 *   extended property), possibly none
 */
GPtrArray *
agl_ews_find_by_local_identity_finish (AglEwsConnection *connection,
                                       GAsyncResult     *result,
                                       GError          **error)
{
  return finish (connection, result, agl_ews_find_by_local_identity_async, error);
}

/**
 * agl_ews_get_user_oof_settings_async:
 * @connection: a connection
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * GetUserOofSettings of the connection's mailbox.
 */
void
agl_ews_get_user_oof_settings_async (AglEwsConnection    *connection,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_get_user_oof_settings (&headers,
                                                   agl_ews_connection_get_mailbox (connection),
                                                   &error);
  run (connection, "GetUserOofSettings", request, error, &oof_op,
       agl_ews_get_user_oof_settings_async, cancellable, callback, user_data);
}

/**
 * agl_ews_get_user_oof_settings_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the settings
 */
AglEwsOofSettings *
agl_ews_get_user_oof_settings_finish (AglEwsConnection *connection,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  return finish (connection, result, agl_ews_get_user_oof_settings_async, error);
}

/**
 * agl_ews_subscribe_async:
 * @connection: a connection
 * @streaming: %TRUE for a streaming subscription, %FALSE for pull
 * @watermark: (nullable): pull only: resume after this watermark
 * @timeout_minutes: pull only: how long the server keeps it unpolled
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * Subscribe to every event of the calendar folder.
 */
void
agl_ews_subscribe_async (AglEwsConnection    *connection,
                         gboolean             streaming,
                         const char          *watermark,
                         guint                timeout_minutes,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  if (streaming)
    request = agl_ews_request_subscribe_streaming (&headers, AGL_EWS_EVENT_ALL, &error);
  else
    request = agl_ews_request_subscribe_pull (&headers, AGL_EWS_EVENT_ALL, watermark,
                                              timeout_minutes, &error);
  run (connection, "Subscribe", request, error, &subscribe_op, agl_ews_subscribe_async,
       cancellable, callback, user_data);
}

/**
 * agl_ews_subscribe_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the subscription
 */
AglEwsSubscription *
agl_ews_subscribe_finish (AglEwsConnection *connection,
                          GAsyncResult     *result,
                          GError          **error)
{
  return finish (connection, result, agl_ews_subscribe_async, error);
}

/**
 * agl_ews_get_events_async:
 * @connection: a connection
 * @subscription_id: a pull subscription
 * @watermark: the last watermark seen
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * GetEvents of a pull subscription.
 */
void
agl_ews_get_events_async (AglEwsConnection    *connection,
                          const char          *subscription_id,
                          const char          *watermark,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_get_events (&headers, subscription_id, watermark, &error);
  run (connection, "GetEvents", request, error, &get_events_op, agl_ews_get_events_async,
       cancellable, callback, user_data);
}

/**
 * agl_ews_get_events_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location (ErrorExpiredSubscription among others)
 *
 * Returns: (transfer full) (nullable): the notification
 */
AglEwsNotification *
agl_ews_get_events_finish (AglEwsConnection *connection,
                           GAsyncResult     *result,
                           GError          **error)
{
  return finish (connection, result, agl_ews_get_events_async, error);
}

/**
 * agl_ews_unsubscribe_async:
 * @connection: a connection
 * @subscription_id: the subscription to end
 * @cancellable: (nullable): cancels the request
 * @callback: called when done
 * @user_data: for @callback
 *
 * Unsubscribe.
 */
void
agl_ews_unsubscribe_async (AglEwsConnection    *connection,
                           const char          *subscription_id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  AglEwsRequestHeaders headers;
  GError *error = NULL;
  GBytes *request;

  agl_ews_connection_get_headers (connection, &headers);
  request = agl_ews_request_unsubscribe (&headers, subscription_id, &error);
  run (connection, "Unsubscribe", request, error, &unsubscribe_op, agl_ews_unsubscribe_async,
       cancellable, callback, user_data);
}

/**
 * agl_ews_unsubscribe_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location
 *
 * Returns: %TRUE when the subscription ended
 */
gboolean
agl_ews_unsubscribe_finish (AglEwsConnection *connection,
                            GAsyncResult     *result,
                            GError          **error)
{
  return finish (connection, result, agl_ews_unsubscribe_async, error) != NULL;
}
