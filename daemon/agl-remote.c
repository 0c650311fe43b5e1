/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "agl-remote.h"

typedef struct
{
  char *subscription_id;
  char *watermark;
} AglRemotePrivate;

enum {
  SIGNAL_CHANGED,
  SIGNAL_WATCH_STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (AglRemote, agl_remote, G_TYPE_OBJECT)

G_DEFINE_QUARK (agl-remote-error-quark, agl_remote_error)

static void
agl_remote_finalize (GObject *object)
{
  AglRemotePrivate *priv = agl_remote_get_instance_private (AGL_REMOTE (object));

  g_clear_pointer (&priv->subscription_id, g_free);
  g_clear_pointer (&priv->watermark, g_free);
  G_OBJECT_CLASS (agl_remote_parent_class)->finalize (object);
}

static void
agl_remote_class_init (AglRemoteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agl_remote_finalize;

  /**
   * AglRemote::changed:
   * @self: the remote backend
   *
   * The server hinted that the calendar changed (a push notification while
   * watch_async runs, or a replaced subscription whose events may have been
   * missed).  A hint only: the caller syncs to learn what changed.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * AglRemote::watch-state-changed:
   * @self: the remote backend
   *
   * agl_remote_get_subscription_id() or agl_remote_get_watermark() has a
   * new value: what the user sees of the push channel changed.
   */
  signals[SIGNAL_WATCH_STATE_CHANGED] =
    g_signal_new ("watch-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
agl_remote_init (AglRemote *self)
{
}

/**
 * agl_remote_change_free:
 * @change: (nullable) (transfer full): a change
 */
void
agl_remote_change_free (AglRemoteChange *change)
{
  if (change == NULL)
    return;
  g_free (change->id);
  g_free (change->change_key);
  g_free (change);
}

/**
 * agl_remote_sync_page_free:
 * @page: (nullable) (transfer full): a page
 */
void
agl_remote_sync_page_free (AglRemoteSyncPage *page)
{
  if (page == NULL)
    return;
  g_free (page->state);
  g_clear_pointer (&page->changes, g_ptr_array_unref);
  g_free (page);
}

/**
 * agl_remote_item_free:
 * @item: (nullable) (transfer full): an item
 */
void
agl_remote_item_free (AglRemoteItem *item)
{
  if (item == NULL)
    return;
  g_clear_error (&item->error);
  g_free (item->id);
  g_free (item->change_key);
  g_free (item->ical);
  g_free (item->local_identity);
  g_free (item);
}

/**
 * agl_remote_folder_free:
 * @folder: (nullable) (transfer full): a folder
 */
void
agl_remote_folder_free (AglRemoteFolder *folder)
{
  if (folder == NULL)
    return;
  g_free (folder->id);
  g_free (folder->change_key);
  g_free (folder);
}

/**
 * agl_remote_info_free:
 * @info: (nullable) (transfer full): connection test findings
 */
void
agl_remote_info_free (AglRemoteInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->url);
  g_free (info->product);
  g_free (info->server_version);
  g_free (info->mailbox);
  g_free (info->impersonation);
  g_free (info->calendar_folder);
  g_free (info);
}

/**
 * agl_remote_occurrence_free:
 * @occurrence: (nullable) (transfer full): an occurrence
 */
void
agl_remote_occurrence_free (AglRemoteOccurrence *occurrence)
{
  if (occurrence == NULL)
    return;
  g_free (occurrence->id);
  g_free (occurrence->summary);
  g_clear_pointer (&occurrence->start, g_date_time_unref);
  g_clear_pointer (&occurrence->end, g_date_time_unref);
  g_free (occurrence->free_busy);
  g_free (occurrence);
}

/**
 * agl_remote_oof_free:
 * @oof: (nullable) (transfer full): out-of-office settings
 */
void
agl_remote_oof_free (AglRemoteOof *oof)
{
  if (oof == NULL)
    return;
  g_clear_pointer (&oof->start, g_date_time_unref);
  g_clear_pointer (&oof->end, g_date_time_unref);
  g_free (oof->internal_reply);
  g_free (oof->external_reply);
  g_free (oof);
}

/**
 * agl_remote_subscription_free:
 * @subscription: (nullable) (transfer full): a subscription
 */
void
agl_remote_subscription_free (AglRemoteSubscription *subscription)
{
  if (subscription == NULL)
    return;
  g_free (subscription->id);
  g_free (subscription->watermark);
  g_free (subscription);
}

/**
 * agl_remote_events_free:
 * @events: (nullable) (transfer full): events
 */
void
agl_remote_events_free (AglRemoteEvents *events)
{
  if (events == NULL)
    return;
  g_free (events->watermark);
  g_free (events);
}

/**
 * agl_remote_test_connection_async:
 * @self: a remote backend
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.test_connection_async.
 */
void
agl_remote_test_connection_async (AglRemote           *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->test_connection_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->test_connection_async (self, cancellable, callback, user_data);
}

/**
 * agl_remote_test_connection_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the connection test's findings
 */
AglRemoteInfo *
agl_remote_test_connection_finish (AglRemote     *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->test_connection_finish (self, result, error);
}

/**
 * agl_remote_get_calendar_folder_async:
 * @self: a remote backend
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.get_calendar_folder_async.
 */
void
agl_remote_get_calendar_folder_async (AglRemote           *self,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->get_calendar_folder_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->get_calendar_folder_async (self, cancellable, callback, user_data);
}

/**
 * agl_remote_get_calendar_folder_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the calendar folder
 */
AglRemoteFolder *
agl_remote_get_calendar_folder_finish (AglRemote     *self,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->get_calendar_folder_finish (self, result, error);
}

/**
 * agl_remote_sync_folder_items_async:
 * @self: a remote backend
 * @state: (nullable): the stored sync state, %NULL for the first sync
 * @max_changes: the most changes in the page, 1 to 512
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.sync_folder_items_async.
 */
void
agl_remote_sync_folder_items_async (AglRemote           *self,
                                    const char          *state,
                                    guint                max_changes,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->sync_folder_items_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->sync_folder_items_async (self, state, max_changes, cancellable,
                                                        callback, user_data);
}

/**
 * agl_remote_sync_folder_items_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the page
 */
AglRemoteSyncPage *
agl_remote_sync_folder_items_finish (AglRemote     *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->sync_folder_items_finish (self, result, error);
}

/**
 * agl_remote_get_items_async:
 * @self: a remote backend
 * @ids: (array zero-terminated=1): the items to read
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.get_items_async.
 */
void
agl_remote_get_items_async (AglRemote           *self,
                            const char * const  *ids,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->get_items_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->get_items_async (self, ids, cancellable, callback, user_data);
}

/**
 * agl_remote_get_items_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable) (element-type AglRemoteItem): one result per id, in order
 */
GPtrArray *
agl_remote_get_items_finish (AglRemote     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->get_items_finish (self, result, error);
}

/**
 * agl_remote_create_item_async:
 * @self: a remote backend
 * @ical: the VCALENDAR to create
 * @local_identity: the local identity to store on the item
 * @send: whether attendees get invitations
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.create_item_async.
 */
void
agl_remote_create_item_async (AglRemote           *self,
                              const char          *ical,
                              const char          *local_identity,
                              AglRemoteSendMode    send,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->create_item_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->create_item_async (self, ical, local_identity, send, cancellable,
                                                  callback, user_data);
}

/**
 * agl_remote_create_item_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the created item
 */
AglRemoteItem *
agl_remote_create_item_finish (AglRemote     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->create_item_finish (self, result, error);
}

/**
 * agl_remote_update_item_async:
 * @self: a remote backend
 * @id: the item
 * @change_key: the version the change is based on
 * @old_ical: the VCALENDAR as last synced
 * @new_ical: the VCALENDAR wanted
 * @conflict: what to do when the item changed on the server meanwhile
 * @send: whether attendees get updates
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.update_item_async.
 */
void
agl_remote_update_item_async (AglRemote           *self,
                              const char          *id,
                              const char          *change_key,
                              const char          *old_ical,
                              const char          *new_ical,
                              AglRemoteConflict    conflict,
                              AglRemoteSendMode    send,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->update_item_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->update_item_async (self, id, change_key, old_ical, new_ical,
                                                  conflict, send, cancellable, callback, user_data);
}

/**
 * agl_remote_update_item_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the item with its new change key
 */
AglRemoteItem *
agl_remote_update_item_finish (AglRemote     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->update_item_finish (self, result, error);
}

/**
 * agl_remote_delete_item_async:
 * @self: a remote backend
 * @id: the item
 * @change_key: (nullable): the version deleted
 * @send: whether attendees get cancellations
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.delete_item_async.
 */
void
agl_remote_delete_item_async (AglRemote           *self,
                              const char          *id,
                              const char          *change_key,
                              AglRemoteSendMode    send,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->delete_item_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->delete_item_async (self, id, change_key, send, cancellable, callback,
                                                  user_data);
}

/**
 * agl_remote_delete_item_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: %TRUE when the item is gone
 */
gboolean
agl_remote_delete_item_finish (AglRemote     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), FALSE);
  return AGL_REMOTE_GET_CLASS (self)->delete_item_finish (self, result, error);
}

/**
 * agl_remote_find_calendar_view_async:
 * @self: a remote backend
 * @start: the view's start
 * @end: the view's end
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.find_calendar_view_async.
 */
void
agl_remote_find_calendar_view_async (AglRemote           *self,
                                     GDateTime           *start,
                                     GDateTime           *end,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->find_calendar_view_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->find_calendar_view_async (self, start, end, cancellable, callback,
                                                         user_data);
}

/**
 * agl_remote_find_calendar_view_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable) (element-type AglRemoteOccurrence): the occurrences
 */
GPtrArray *
agl_remote_find_calendar_view_finish (AglRemote     *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->find_calendar_view_finish (self, result, error);
}

/**
 * agl_remote_get_oof_settings_async:
 * @self: a remote backend
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.get_oof_settings_async.
 */
void
agl_remote_get_oof_settings_async (AglRemote           *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->get_oof_settings_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->get_oof_settings_async (self, cancellable, callback, user_data);
}

/**
 * agl_remote_get_oof_settings_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the out-of-office settings
 */
AglRemoteOof *
agl_remote_get_oof_settings_finish (AglRemote     *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->get_oof_settings_finish (self, result, error);
}

/**
 * agl_remote_subscribe_async:
 * @self: a remote backend
 * @watermark: (nullable): resume after this watermark
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.subscribe_async.
 */
void
agl_remote_subscribe_async (AglRemote           *self,
                            const char          *watermark,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->subscribe_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->subscribe_async (self, watermark, cancellable, callback, user_data);
}

/**
 * agl_remote_subscribe_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the subscription
 */
AglRemoteSubscription *
agl_remote_subscribe_finish (AglRemote     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->subscribe_finish (self, result, error);
}

/**
 * agl_remote_get_events_async:
 * @self: a remote backend
 * @subscription: the subscription; its watermark is advanced
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.get_events_async.
 */
void
agl_remote_get_events_async (AglRemote             *self,
                             AglRemoteSubscription *subscription,
                             GCancellable          *cancellable,
                             GAsyncReadyCallback    callback,
                             gpointer               user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->get_events_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->get_events_async (self, subscription, cancellable, callback,
                                                 user_data);
}

/**
 * agl_remote_get_events_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable): the events
 */
AglRemoteEvents *
agl_remote_get_events_finish (AglRemote     *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->get_events_finish (self, result, error);
}

/**
 * agl_remote_unsubscribe_async:
 * @self: a remote backend
 * @subscription_id: the subscription to end
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.unsubscribe_async.
 */
void
agl_remote_unsubscribe_async (AglRemote           *self,
                              const char          *subscription_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->unsubscribe_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->unsubscribe_async (self, subscription_id, cancellable, callback,
                                                  user_data);
}

/**
 * agl_remote_unsubscribe_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: %TRUE when ended
 */
gboolean
agl_remote_unsubscribe_finish (AglRemote     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), FALSE);
  return AGL_REMOTE_GET_CLASS (self)->unsubscribe_finish (self, result, error);
}

/**
 * agl_remote_find_by_local_identity_async:
 * @self: a remote backend
 * @local_identity: the identity Agendaline stored on the item it created
 * @cancellable: (nullable): cancels the call
 * @callback: called when done
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.find_by_local_identity_async.
 */
void
agl_remote_find_by_local_identity_async (AglRemote           *self,
                                         const char          *local_identity,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (local_identity != NULL);
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->find_by_local_identity_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->find_by_local_identity_async (self, local_identity, cancellable,
                                                             callback, user_data);
}

/**
 * agl_remote_find_by_local_identity_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full) (nullable) (element-type AglRemoteItem): the
 *   items carrying the identity (id, change key, identity), possibly none
 */
GPtrArray *
agl_remote_find_by_local_identity_finish (AglRemote     *self,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  return AGL_REMOTE_GET_CLASS (self)->find_by_local_identity_finish (self, result, error);
}

/**
 * agl_remote_watch_async:
 * @self: a remote backend
 * @minutes: how long the server keeps the channel open, 1 to 30
 * @cancellable: (nullable): ends the channel
 * @callback: called when the channel has ended
 * @user_data: for @callback
 *
 * Calls the backend's #AglRemoteClass.watch_async.
 */
void
agl_remote_watch_async (AglRemote           *self,
                        guint                minutes,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_return_if_fail (AGL_REMOTE_GET_CLASS (self)->watch_async != NULL);
  AGL_REMOTE_GET_CLASS (self)->watch_async (self, minutes, cancellable, callback, user_data);
}

/**
 * agl_remote_watch_finish:
 * @self: a remote backend
 * @result: the result
 * @error: return location; %AGL_REMOTE_ERROR_NOT_SUPPORTED when the server
 *   refuses push subscriptions, %G_IO_ERROR_CANCELLED when cancelled
 *
 * Returns: %TRUE when the server closed the channel at its timeout
 */
gboolean
agl_remote_watch_finish (AglRemote     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), FALSE);
  return AGL_REMOTE_GET_CLASS (self)->watch_finish (self, result, error);
}

/**
 * agl_remote_get_subscription_id:
 * @self: a remote backend
 *
 * Returns: (nullable): the push subscription watch_async uses, %NULL when
 *   there is none (yet, or any more)
 */
const char *
agl_remote_get_subscription_id (AglRemote *self)
{
  AglRemotePrivate *priv;

  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  priv = agl_remote_get_instance_private (self);
  return priv->subscription_id;
}

/**
 * agl_remote_get_watermark:
 * @self: a remote backend
 *
 * Returns: (nullable): the newest watermark the push channel delivered
 */
const char *
agl_remote_get_watermark (AglRemote *self)
{
  AglRemotePrivate *priv;

  g_return_val_if_fail (AGL_IS_REMOTE (self), NULL);
  priv = agl_remote_get_instance_private (self);
  return priv->watermark;
}

/**
 * agl_remote_set_watch_state:
 * @self: a remote backend
 * @subscription_id: (nullable): the push subscription, %NULL to forget it
 * @watermark: (nullable): the newest watermark
 *
 * For backends: where the push channel stands.  Emits
 * #AglRemote::watch-state-changed when it differs from before.
 */
void
agl_remote_set_watch_state (AglRemote  *self,
                            const char *subscription_id,
                            const char *watermark)
{
  AglRemotePrivate *priv;
  gboolean changed;

  g_return_if_fail (AGL_IS_REMOTE (self));
  priv = agl_remote_get_instance_private (self);
  changed = g_strcmp0 (priv->subscription_id, subscription_id) != 0 ||
            g_strcmp0 (priv->watermark, watermark) != 0;
  /* The arguments may be the strings kept here. */
  if (priv->subscription_id != subscription_id)
    {
      g_free (priv->subscription_id);
      priv->subscription_id = g_strdup (subscription_id);
    }
  if (priv->watermark != watermark)
    {
      g_free (priv->watermark);
      priv->watermark = g_strdup (watermark);
    }
  if (changed)
    g_signal_emit (self, signals[SIGNAL_WATCH_STATE_CHANGED], 0);
}

/**
 * agl_remote_emit_changed:
 * @self: a remote backend
 *
 * For backends: emits #AglRemote::changed.
 */
void
agl_remote_emit_changed (AglRemote *self)
{
  g_return_if_fail (AGL_IS_REMOTE (self));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/**
 * agl_remote_same_content:
 * @self: a remote backend
 * @ical: a VCALENDAR
 * @other_ical: another
 *
 * Whether the server would hold @ical and @other_ical alike: what it keeps
 * of an appointment (subject, times, recurrence, exceptions …) is the same
 * in both.  The sync engine uses it to tell its own write, come back after
 * a crash, from a real conflict.
 *
 * Returns: %TRUE when they are alike; %FALSE when they differ or the
 *   backend cannot tell
 */
gboolean
agl_remote_same_content (AglRemote  *self,
                         const char *ical,
                         const char *other_ical)
{
  g_return_val_if_fail (AGL_IS_REMOTE (self), FALSE);

  if (ical == NULL || other_ical == NULL || AGL_REMOTE_GET_CLASS (self)->same_content == NULL)
    return FALSE;
  return AGL_REMOTE_GET_CLASS (self)->same_content (self, ical, other_ical);
}
