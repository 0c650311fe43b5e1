/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-ews-backend.h"
#include "agl-ews-calendar-item.h"
#include "agl-ews-operations.h"
#include "agl-windows-zones.h"

/* Pull subscriptions live this long on the server without a GetEvents. */
#define PULL_TIMEOUT_MINUTES 30

struct _AglEwsBackend
{
  AglRemote         parent_instance;

  AglEwsConnection *connection;
};

G_DEFINE_FINAL_TYPE (AglEwsBackend, agl_ews_backend, AGL_TYPE_REMOTE)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)

static const AglEwsLocalIdentity *
make_identity (AglEwsLocalIdentity *identity,
               const char          *value)
{
  identity->property_set_id = AGL_EWS_PROPERTY_SET_ID;
  identity->property_name = AGL_EWS_PROPERTY_LOCAL_ID;
  identity->value = value;
  return value != NULL ? identity : NULL;
}

static AglEwsSendMode
send_mode (AglRemoteSendMode send)
{
  return send == AGL_REMOTE_SEND_TO_ALL ? AGL_EWS_SEND_TO_ALL_AND_SAVE_COPY : AGL_EWS_SEND_TO_NONE;
}

static icalcomponent *
parse_vcalendar (const char *ical,
                 GError    **error)
{
  icalcomponent *component = ical != NULL ? icalcomponent_new_from_string (ical) : NULL;

  if (component == NULL || icalcomponent_isa (component) != ICAL_VCALENDAR_COMPONENT)
    {
      g_clear_pointer (&component, icalcomponent_free);
      g_set_error_literal (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                           _("The event to send is not an iCalendar VCALENDAR."));
    }
  return component;
}

static gpointer
propagate_pointer (AglRemote    *self,
                   GAsyncResult *result,
                   GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
propagate_boolean (AglRemote    *self,
                   GAsyncResult *result,
                   GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* test_connection */

static void
test_folder_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglEwsConnection *connection = AGL_EWS_CONNECTION (source);
  g_autoptr(AglEwsFolderInfo) folder = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteInfo *info;

  folder = agl_ews_get_calendar_folder_finish (connection, result, &error);
  if (folder == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Every Exchange answer carries ServerVersionInfo: without it, the URL
   * is something that merely speaks SOAP. */
  if (agl_ews_connection_get_server_build (connection) == NULL)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                               _("%s answered without ServerVersionInfo: it is not an Exchange EWS endpoint."),
                               agl_ews_connection_get_url (connection));
      return;
    }
  info = g_new0 (AglRemoteInfo, 1);
  info->url = g_strdup (agl_ews_connection_get_url (connection));
  info->product = g_strdup ("Microsoft Exchange");
  info->server_version = g_strdup (agl_ews_connection_get_server_build (connection));
  info->mailbox = g_strdup (agl_ews_connection_get_mailbox (connection));
  info->impersonation = g_strdup (agl_ews_connection_get_impersonation (connection) != NULL ?
                                  "works" : "not used");
  info->calendar_folder = g_strdup (folder->folder_id);
  g_task_return_pointer (task, info, (GDestroyNotify) agl_remote_info_free);
}

static void
test_connection_async (AglRemote           *remote,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  agl_ews_get_calendar_folder_async (self->connection, cancellable, test_folder_cb, task);
}

/* get_calendar_folder */

static void
folder_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(AglEwsFolderInfo) info = NULL;
  GError *error = NULL;
  AglRemoteFolder *folder;

  info = agl_ews_get_calendar_folder_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  folder = g_new0 (AglRemoteFolder, 1);
  folder->id = g_steal_pointer (&info->folder_id);
  folder->change_key = g_steal_pointer (&info->change_key);
  g_task_return_pointer (task, folder, (GDestroyNotify) agl_remote_folder_free);
}

static void
get_calendar_folder_async (AglRemote           *remote,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_get_calendar_folder_async (self->connection, cancellable, folder_cb,
                                     g_task_new (self, cancellable, callback, user_data));
}

/* sync_folder_items */

static void
sync_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(AglEwsSyncResult) sync = NULL;
  GError *error = NULL;
  AglRemoteSyncPage *page;

  sync = agl_ews_sync_folder_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (sync == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  page = g_new0 (AglRemoteSyncPage, 1);
  page->state = g_steal_pointer (&sync->sync_state);
  page->includes_last = sync->includes_last_item_in_range;
  page->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_remote_change_free);
  for (guint i = 0; i < sync->changes->len; i++)
    {
      AglEwsSyncChange *ews = g_ptr_array_index (sync->changes, i);
      AglRemoteChange *change = g_new0 (AglRemoteChange, 1);

      change->kind = ews->kind == AGL_EWS_SYNC_CREATE ? AGL_REMOTE_CHANGE_CREATE :
                     ews->kind == AGL_EWS_SYNC_UPDATE ? AGL_REMOTE_CHANGE_UPDATE :
                                                        AGL_REMOTE_CHANGE_DELETE;
      change->id = g_steal_pointer (&ews->item_id);
      change->change_key = g_steal_pointer (&ews->change_key);
      g_ptr_array_add (page->changes, change);
    }
  g_task_return_pointer (task, page, (GDestroyNotify) agl_remote_sync_page_free);
}

static void
sync_folder_items_async (AglRemote           *remote,
                         const char          *state,
                         guint                max_changes,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_sync_folder_items_async (self->connection, state, max_changes, cancellable, sync_cb,
                                   g_task_new (self, cancellable, callback, user_data));
}

/* get_items */

static AglRemoteItem *
map_item (AglEwsItemResult *ews,
          GPtrArray        *occurrences,
          AglWindowsZones  *zones,
          const GError     *zones_error)
{
  AglRemoteItem *item = g_new0 (AglRemoteItem, 1);
  g_autoptr(icalcomponent) vcalendar = NULL;
  xmlNode *root;

  item->id = g_steal_pointer (&ews->item_id);
  item->change_key = g_steal_pointer (&ews->change_key);
  if (ews->error != NULL)
    {
      item->error = g_steal_pointer (&ews->error);
      return item;
    }
  if (zones == NULL)
    {
      item->error = g_error_copy (zones_error);
      return item;
    }
  root = ews->item != NULL ? xmlDocGetRootElement (ews->item) : NULL;
  if (root == NULL)
    {
      g_set_error_literal (&item->error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                           _("The server returned no item."));
      return item;
    }
  vcalendar = agl_ews_calendar_item_to_vcalendar (root, (xmlNode * const *) occurrences->pdata,
                                                  occurrences->len, zones, &item->error);
  if (vcalendar != NULL)
    item->ical = g_strdup (icalcomponent_as_ical_string (vcalendar));
  item->local_identity = agl_ews_calendar_item_get_local_identity (root, AGL_EWS_PROPERTY_SET_ID,
                                                                   AGL_EWS_PROPERTY_LOCAL_ID);
  return item;
}

typedef struct {
  GStrv      ids;          /* as requested */
  GPtrArray *masters;      /* AglEwsItemResult, in request order */
  GPtrArray *occurrences;  /* AglEwsItemResult of their modified occurrences */
} GetItemsData;

static void
get_items_data_free (GetItemsData *data)
{
  g_strfreev (data->ids);
  g_clear_pointer (&data->masters, g_ptr_array_unref);
  g_clear_pointer (&data->occurrences, g_ptr_array_unref);
  g_free (data);
}

/* The ItemIds of the modified occurrences of the series read: a master
 * lists only their ItemId, Start, End and OriginalStart, so their own
 * subject, location, body … need a GetItem of their own. */
static GPtrArray *
collect_occurrence_ids (GPtrArray *masters)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < masters->len; i++)
    {
      AglEwsItemResult *ews = g_ptr_array_index (masters, i);
      xmlNode *root = ews->item != NULL ? xmlDocGetRootElement (ews->item) : NULL;
      xmlNode *modified = agl_ews_xml_first_child (root, AGL_EWS_NS_TYPES, "ModifiedOccurrences");

      for (xmlNode *o = agl_ews_xml_first_child (modified, AGL_EWS_NS_TYPES, "Occurrence");
           o != NULL; o = agl_ews_xml_next_sibling (o, AGL_EWS_NS_TYPES, "Occurrence"))
        {
          char *id = agl_ews_xml_attr (agl_ews_xml_first_child (o, AGL_EWS_NS_TYPES, "ItemId"), "Id");

          if (id != NULL)
            g_ptr_array_add (ids, id);
        }
    }
  return ids;
}

static void
return_items (GTask *task)
{
  GetItemsData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GPtrArray) occurrences = g_ptr_array_new ();
  g_autoptr(GError) zones_error = NULL;
  AglWindowsZones *zones;

  for (guint i = 0; data->occurrences != NULL && i < data->occurrences->len; i++)
    {
      AglEwsItemResult *ews = g_ptr_array_index (data->occurrences, i);

      if (ews->error == NULL && ews->item != NULL)
        g_ptr_array_add (occurrences, xmlDocGetRootElement (ews->item));
    }
  zones = agl_windows_zones_get_default (&zones_error);
  items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_remote_item_free);
  for (guint i = 0; i < data->masters->len; i++)
    {
      AglRemoteItem *item = map_item (g_ptr_array_index (data->masters, i), occurrences, zones,
                                      zones_error);

      /* A failed item's response message has no ItemId (ErrorItemNotFound
       * carries no item): the caller still needs to know which one failed. */
      if (item->id == NULL && data->ids != NULL && i < g_strv_length (data->ids))
        item->id = g_strdup (data->ids[i]);
      g_ptr_array_add (items, item);
    }
  g_task_return_pointer (task, g_steal_pointer (&items), (GDestroyNotify) g_ptr_array_unref);
}

static void
get_occurrences_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GetItemsData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->occurrences = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (data->occurrences == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  return_items (task);
}

static void
get_items_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GetItemsData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) occurrence_ids = NULL;
  g_autofree AglEwsItemIdRef *refs = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  data->masters = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (data->masters == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  occurrence_ids = collect_occurrence_ids (data->masters);
  if (occurrence_ids->len == 0)
    {
      return_items (task);
      return;
    }
  refs = g_new0 (AglEwsItemIdRef, occurrence_ids->len);
  for (guint i = 0; i < occurrence_ids->len; i++)
    {
      refs[i].kind = AGL_EWS_ITEM_ID;
      refs[i].id = g_ptr_array_index (occurrence_ids, i);
    }
  cancellable = g_task_get_cancellable (task);
  agl_ews_get_items_async (AGL_EWS_CONNECTION (source), refs, occurrence_ids->len, cancellable,
                           get_occurrences_cb, g_steal_pointer (&task));
}

static void
get_items_async (AglRemote           *remote,
                 const char * const  *ids,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  guint n_ids = ids != NULL ? g_strv_length ((char **) ids) : 0;
  g_autofree AglEwsItemIdRef *refs = g_new0 (AglEwsItemIdRef, MAX (n_ids, 1));
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GetItemsData *data = g_new0 (GetItemsData, 1);

  for (guint i = 0; i < n_ids; i++)
    {
      refs[i].kind = AGL_EWS_ITEM_ID;
      refs[i].id = ids[i];
    }
  data->ids = g_strdupv ((char **) ids);
  g_task_set_task_data (task, data, (GDestroyNotify) get_items_data_free);
  agl_ews_get_items_async (self->connection, refs, n_ids, cancellable, get_items_cb, task);
}

/* create_item and update_item: the request is written here, since the
 * mapping may refuse the event before anything is sent */

typedef struct {
  icalcomponent       *old_vcalendar;
  icalcomponent       *vcalendar;
  AglWindowsZones     *zones;     /* the shared mapping, not owned */
  AglEwsLocalIdentity  identity;
  const char          *local_identity;
  guint                n_changes;
  GError              *error;
} WriteData;

static void
write_data_clear (WriteData *data)
{
  g_clear_pointer (&data->old_vcalendar, icalcomponent_free);
  g_clear_pointer (&data->vcalendar, icalcomponent_free);
  g_clear_error (&data->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WriteData, write_data_clear)

/* Takes @error, set when no *@request was written.  A request written
 * around an event the mapping refused is dropped: the mapping's error
 * wins.  Returns: %TRUE when @task failed with either. */
static gboolean
return_write_error (GTask      *task,
                    GBytes    **request,
                    WriteData  *data,
                    GError     *error)
{
  if (*request != NULL && data->error != NULL)
    {
      g_clear_pointer (request, g_bytes_unref);
      error = g_steal_pointer (&data->error);
    }
  if (*request == NULL)
    {
      g_task_return_error (task, error);
      return TRUE;
    }
  return FALSE;
}

static void
write_item_cb (xmlTextWriterPtr writer,
               gpointer         user_data)
{
  WriteData *data = user_data;

  if (data->error == NULL)
    agl_ews_calendar_item_write (writer, data->vcalendar, NULL, data->zones,
                                 make_identity (&data->identity, data->local_identity),
                                 AGL_EWS_WRITE_DEFAULT, &data->error);
}

static void
write_updates_cb (xmlTextWriterPtr writer,
                  gpointer         user_data)
{
  WriteData *data = user_data;

  if (data->error == NULL)
    agl_ews_calendar_item_write_updates (writer, data->old_vcalendar, data->vcalendar, NULL,
                                         data->zones, NULL, &data->n_changes, &data->error);
}

static void
item_written_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GPtrArray) results = NULL;
  GError *error = NULL;
  AglEwsItemResult *ews;
  AglRemoteItem *item;
  gboolean is_create = GPOINTER_TO_INT (g_task_get_task_data (task));

  doc = agl_ews_connection_send_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (doc != NULL)
    results = is_create ? agl_ews_response_read_create_item (doc, &error)
                        : agl_ews_response_read_update_item (doc, &error);
  if (results == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ews = g_ptr_array_index (results, 0);
  if (ews->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&ews->error));
      return;
    }
  item = g_new0 (AglRemoteItem, 1);
  item->id = g_steal_pointer (&ews->item_id);
  item->change_key = g_steal_pointer (&ews->change_key);
  g_task_return_pointer (task, item, (GDestroyNotify) agl_remote_item_free);
}

static void
create_item_async (AglRemote           *remote,
                   const char          *ical,
                   const char          *local_identity,
                   AglRemoteSendMode    send,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_auto(WriteData) data = { 0 };
  g_autoptr(GBytes) request = NULL;
  AglEwsRequestHeaders headers;
  GError *error = NULL;

  g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL);
  data.local_identity = local_identity;
  data.vcalendar = parse_vcalendar (ical, &error);
  if (data.vcalendar != NULL)
    data.zones = agl_windows_zones_get_default (&error);
  if (data.zones != NULL)
    {
      agl_ews_connection_get_headers (self->connection, &headers);
      request = agl_ews_request_create_item (&headers, send_mode (send), write_item_cb, &data,
                                             &error);
    }
  if (return_write_error (task, &request, &data, error))
    return;
  agl_ews_connection_send_async (self->connection, "CreateItem", request, cancellable,
                                 item_written_cb, g_steal_pointer (&task));
}

static void
update_item_async (AglRemote           *remote,
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
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_auto(WriteData) data = { 0 };
  g_autoptr(GBytes) request = NULL;
  AglEwsRequestHeaders headers;
  AglEwsItemIdRef ref = { AGL_EWS_ITEM_ID, id, change_key, 0 };
  GError *error = NULL;
  static const AglEwsConflictResolution resolutions[] = {
    [AGL_REMOTE_CONFLICT_NEVER_OVERWRITE] = AGL_EWS_CONFLICT_NEVER_OVERWRITE,
    [AGL_REMOTE_CONFLICT_AUTO_RESOLVE] = AGL_EWS_CONFLICT_AUTO_RESOLVE,
    [AGL_REMOTE_CONFLICT_ALWAYS_OVERWRITE] = AGL_EWS_CONFLICT_ALWAYS_OVERWRITE,
  };

  g_task_set_task_data (task, GINT_TO_POINTER (FALSE), NULL);
  data.old_vcalendar = parse_vcalendar (old_ical, &error);
  if (data.old_vcalendar != NULL)
    data.vcalendar = parse_vcalendar (new_ical, &error);
  if (data.vcalendar != NULL)
    data.zones = agl_windows_zones_get_default (&error);
  if (data.zones != NULL)
    {
      agl_ews_connection_get_headers (self->connection, &headers);
      request = agl_ews_request_update_item (&headers, resolutions[conflict],
                                             send == AGL_REMOTE_SEND_TO_ALL ?
                                             AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY :
                                             AGL_EWS_SEND_TO_NONE,
                                             &ref, write_updates_cb, &data, &error);
    }
  if (return_write_error (task, &request, &data, error))
    return;
  if (data.n_changes == 0)
    {
      /* Nothing Exchange keeps differs: the item stays as it is. */
      AglRemoteItem *item = g_new0 (AglRemoteItem, 1);

      item->id = g_strdup (id);
      item->change_key = g_strdup (change_key);
      g_task_return_pointer (task, item, (GDestroyNotify) agl_remote_item_free);
      return;
    }
  agl_ews_connection_send_async (self->connection, "UpdateItem", request, cancellable,
                                 item_written_cb, g_steal_pointer (&task));
}

/* delete_item */

static void
delete_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) results = NULL;
  GError *error = NULL;
  AglEwsItemResult *ews;

  results = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (results == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ews = g_ptr_array_index (results, 0);
  /* Already gone is what the caller wanted. */
  if (ews->error != NULL && !g_error_matches (ews->error, AGL_EWS_ERROR,
                                              AGL_EWS_ERROR_ITEM_NOT_FOUND))
    {
      g_task_return_error (task, g_steal_pointer (&ews->error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
delete_item_async (AglRemote           *remote,
                   const char          *id,
                   const char          *change_key,
                   AglRemoteSendMode    send,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  AglEwsItemIdRef ref = { AGL_EWS_ITEM_ID, id, change_key, 0 };

  agl_ews_delete_items_async (self->connection, AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS,
                              send_mode (send), &ref, 1, cancellable, delete_cb,
                              g_task_new (self, cancellable, callback, user_data));
}

/* find_calendar_view */

static void
view_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(AglEwsCalendarView) view = NULL;
  GPtrArray *occurrences;
  GError *error = NULL;

  view = agl_ews_find_calendar_view_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (view == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  occurrences = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_remote_occurrence_free);
  for (guint i = 0; i < view->items->len; i++)
    {
      AglEwsCalendarViewItem *ews = g_ptr_array_index (view->items, i);
      AglRemoteOccurrence *occurrence = g_new0 (AglRemoteOccurrence, 1);

      occurrence->id = g_steal_pointer (&ews->item_id);
      occurrence->summary = g_steal_pointer (&ews->subject);
      occurrence->start = g_steal_pointer (&ews->start);
      occurrence->end = g_steal_pointer (&ews->end);
      occurrence->free_busy = g_steal_pointer (&ews->legacy_free_busy_status);
      g_ptr_array_add (occurrences, occurrence);
    }
  g_task_return_pointer (task, occurrences, (GDestroyNotify) g_ptr_array_unref);
}

static void
find_calendar_view_async (AglRemote           *remote,
                          GDateTime           *start,
                          GDateTime           *end,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_find_calendar_view_async (self->connection, start, end, 0, cancellable, view_cb,
                                    g_task_new (self, cancellable, callback, user_data));
}

/* get_oof_settings */

static void
oof_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(AglEwsOofSettings) settings = NULL;
  AglRemoteOof *oof;
  GError *error = NULL;

  settings = agl_ews_get_user_oof_settings_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (settings == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  oof = g_new0 (AglRemoteOof, 1);
  oof->state = settings->state == AGL_EWS_OOF_ENABLED ? AGL_REMOTE_OOF_ENABLED :
               settings->state == AGL_EWS_OOF_SCHEDULED ? AGL_REMOTE_OOF_SCHEDULED :
                                                          AGL_REMOTE_OOF_DISABLED;
  oof->start = g_steal_pointer (&settings->start);
  oof->end = g_steal_pointer (&settings->end);
  oof->internal_reply = g_steal_pointer (&settings->internal_reply);
  oof->external_reply = g_steal_pointer (&settings->external_reply);
  g_task_return_pointer (task, oof, (GDestroyNotify) agl_remote_oof_free);
}

static void
get_oof_settings_async (AglRemote           *remote,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_get_user_oof_settings_async (self->connection, cancellable, oof_cb,
                                       g_task_new (self, cancellable, callback, user_data));
}

/* subscribe, get_events, unsubscribe: pull notifications (the streaming
 * form is EWS-only, see agl-ews-streaming.h) */

static void
subscribe_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(AglEwsSubscription) ews = NULL;
  AglRemoteSubscription *subscription;
  GError *error = NULL;

  ews = agl_ews_subscribe_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (ews == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  subscription = g_new0 (AglRemoteSubscription, 1);
  subscription->id = g_steal_pointer (&ews->subscription_id);
  subscription->watermark = g_steal_pointer (&ews->watermark);
  g_task_return_pointer (task, subscription, (GDestroyNotify) agl_remote_subscription_free);
}

static void
subscribe_async (AglRemote           *remote,
                 const char          *watermark,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_subscribe_async (self->connection, FALSE, watermark, PULL_TIMEOUT_MINUTES, cancellable,
                           subscribe_cb, g_task_new (self, cancellable, callback, user_data));
}

static void
events_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglRemoteSubscription *subscription = g_task_get_task_data (task);
  g_autoptr(AglEwsNotification) notification = NULL;
  AglRemoteEvents *events;
  GError *error = NULL;

  notification = agl_ews_get_events_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (notification == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  events = g_new0 (AglRemoteEvents, 1);
  events->more = notification->more_events;
  for (guint i = 0; i < notification->events->len; i++)
    {
      AglEwsEvent *event = g_ptr_array_index (notification->events, i);

      if (event->watermark != NULL)
        {
          g_free (events->watermark);
          events->watermark = g_strdup (event->watermark);
        }
      /* A StatusEvent only keeps the subscription alive. */
      if (event->kind != AGL_EWS_EVENT_KIND_STATUS)
        events->n_events++;
    }
  if (events->watermark != NULL)
    {
      g_free (subscription->watermark);
      subscription->watermark = g_strdup (events->watermark);
    }
  g_task_return_pointer (task, events, (GDestroyNotify) agl_remote_events_free);
}

static void
get_events_async (AglRemote             *remote,
                  AglRemoteSubscription *subscription,
                  GCancellable          *cancellable,
                  GAsyncReadyCallback    callback,
                  gpointer               user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  /* The caller keeps @subscription alive until the call completes. */
  g_task_set_task_data (task, subscription, NULL);
  agl_ews_get_events_async (self->connection, subscription->id, subscription->watermark,
                            cancellable, events_cb, task);
}

static void
unsubscribe_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (agl_ews_unsubscribe_finish (AGL_EWS_CONNECTION (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
unsubscribe_async (AglRemote           *remote,
                   const char          *subscription_id,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);

  agl_ews_unsubscribe_async (self->connection, subscription_id, cancellable, unsubscribe_cb,
                             g_task_new (self, cancellable, callback, user_data));
}

/* GObject */

static void
agl_ews_backend_finalize (GObject *object)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (object);

  g_clear_object (&self->connection);
  G_OBJECT_CLASS (agl_ews_backend_parent_class)->finalize (object);
}

static void
agl_ews_backend_class_init (AglEwsBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AglRemoteClass *remote_class = AGL_REMOTE_CLASS (klass);

  object_class->finalize = agl_ews_backend_finalize;

  remote_class->test_connection_async = test_connection_async;
  remote_class->test_connection_finish = (gpointer) propagate_pointer;
  remote_class->get_calendar_folder_async = get_calendar_folder_async;
  remote_class->get_calendar_folder_finish = (gpointer) propagate_pointer;
  remote_class->sync_folder_items_async = sync_folder_items_async;
  remote_class->sync_folder_items_finish = (gpointer) propagate_pointer;
  remote_class->get_items_async = get_items_async;
  remote_class->get_items_finish = (gpointer) propagate_pointer;
  remote_class->create_item_async = create_item_async;
  remote_class->create_item_finish = (gpointer) propagate_pointer;
  remote_class->update_item_async = update_item_async;
  remote_class->update_item_finish = (gpointer) propagate_pointer;
  remote_class->delete_item_async = delete_item_async;
  remote_class->delete_item_finish = propagate_boolean;
  remote_class->find_calendar_view_async = find_calendar_view_async;
  remote_class->find_calendar_view_finish = (gpointer) propagate_pointer;
  remote_class->get_oof_settings_async = get_oof_settings_async;
  remote_class->get_oof_settings_finish = (gpointer) propagate_pointer;
  remote_class->subscribe_async = subscribe_async;
  remote_class->subscribe_finish = (gpointer) propagate_pointer;
  remote_class->get_events_async = get_events_async;
  remote_class->get_events_finish = (gpointer) propagate_pointer;
  remote_class->unsubscribe_async = unsubscribe_async;
  remote_class->unsubscribe_finish = propagate_boolean;
}

static void
agl_ews_backend_init (AglEwsBackend *self)
{
}

/**
 * agl_ews_backend_new:
 * @connection: the account's connection
 *
 * Returns: (transfer full): the EWS implementation of #AglRemote
 */
AglRemote *
agl_ews_backend_new (AglEwsConnection *connection)
{
  AglEwsBackend *self;

  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (connection), NULL);
  self = g_object_new (AGL_TYPE_EWS_BACKEND, NULL);
  self->connection = g_object_ref (connection);
  return AGL_REMOTE (self);
}

/**
 * agl_ews_backend_get_connection:
 * @self: an EWS backend
 *
 * Returns: (transfer none): its connection (for streaming notifications)
 */
AglEwsConnection *
agl_ews_backend_get_connection (AglEwsBackend *self)
{
  g_return_val_if_fail (AGL_IS_EWS_BACKEND (self), NULL);
  return self->connection;
}
