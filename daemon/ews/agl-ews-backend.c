/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-ews-backend.h"
#include "agl-ews-calendar-item.h"
#include "agl-ews-operations.h"
#include "agl-ews-series.h"
#include "agl-ews-streaming.h"
#include "agl-windows-zones.h"

/* Pull subscriptions live this long on the server without a GetEvents. */
#define PULL_TIMEOUT_MINUTES 30

/* GetStreamingEvents ConnectionTimeout bounds (minutes). */
#define STREAMING_MIN_MINUTES 1
#define STREAMING_MAX_MINUTES 30

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

/* The subscription is gone on the server: a new one is needed. */
static gboolean
means_subscription_lost (const GError *error)
{
  return g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SUBSCRIPTION_NOT_FOUND) ||
         g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SUBSCRIPTION) ||
         g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_EXPIRED_SUBSCRIPTION);
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

/* ItemClass is compared as MAPI does, without regard to case; without one
 * (a shape that did not ask for it) the element tells. */
static gboolean
is_appointment (const AglEwsSyncChange *change)
{
  static const char prefix[] = "IPM.Appointment";
  const gsize len = sizeof prefix - 1;

  if (change->item_class == NULL)
    return change->element_name == NULL || g_strcmp0 (change->element_name, "CalendarItem") == 0;
  return g_ascii_strncasecmp (change->item_class, prefix, len) == 0 &&
         (change->item_class[len] == '\0' || change->item_class[len] == '.');
}

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
      AglRemoteChange *change;

      /* The calendar folder also holds meeting requests, cancellations and
       * free/busy data; only appointments are events.  A Delete names no
       * class and always passes: the caller ignores ids it never stored. */
      if (ews->kind != AGL_EWS_SYNC_DELETE && !is_appointment (ews))
        {
          g_debug ("Sync: skipping %s %s of class %s", ews->element_name, ews->item_id,
                   ews->item_class);
          continue;
        }
      change = g_new0 (AglRemoteChange, 1);
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

/* What a create or update hands to its completion: the occurrence steps
 * wait for the master's id (and, for an update, for the master's change,
 * which the conflict mode governs). */
typedef struct {
  gboolean          is_create;
  AglEwsSeriesPlan *plan;
  AglEwsSendMode    send_updates;
  AglEwsSendMode    send_cancellations;
  AglRemoteItem    *item;          /* the master as written */
} WrittenData;

static void
written_data_free (WrittenData *data)
{
  g_clear_pointer (&data->plan, agl_ews_series_plan_free);
  g_clear_pointer (&data->item, agl_remote_item_free);
  g_free (data);
}

static WrittenData *
written_data_new (gboolean          is_create,
                  AglRemoteSendMode send)
{
  WrittenData *data = g_new0 (WrittenData, 1);

  data->is_create = is_create;
  data->send_updates = send == AGL_REMOTE_SEND_TO_ALL ? AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY
                                                      : AGL_EWS_SEND_TO_NONE;
  data->send_cancellations = send_mode (send);
  return data;
}

static void
series_written_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WrittenData *data = g_task_get_task_data (task);
  g_autoptr(AglEwsSeriesResult) series = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteItem *item = g_steal_pointer (&data->item);

  /* The master exists whatever happened to its occurrences, and the
   * caller must learn its id and version: a create answered with an error
   * would be made a second time.  A failed occurrence step is logged; it
   * is written again by the next update that still finds it differing. */
  series = agl_ews_series_apply_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (series == NULL)
    g_warning ("The occurrences of Exchange item %s were not written: %s", item->id,
               error->message);
  else
    {
      if (series->error != NULL)
        g_warning ("Exchange item %s: %s", item->id, series->error->message);
      /* Without it, the master's older key stays: a later NeverOverwrite
       * update then conflicts and the engine reads the item again. */
      if (series->change_key != NULL)
        {
          g_free (item->change_key);
          item->change_key = g_steal_pointer (&series->change_key);
        }
    }
  g_task_return_pointer (task, item, (GDestroyNotify) agl_remote_item_free);
}

/* Takes @task and @item: returns @item, once the plan's occurrence steps
 * are made when there are any. */
static void
write_series (GTask            *task,
              AglEwsConnection *connection,
              AglRemoteItem    *item)
{
  WrittenData *data = g_task_get_task_data (task);

  if (data->plan == NULL || agl_ews_series_plan_is_empty (data->plan))
    {
      g_task_return_pointer (task, item, (GDestroyNotify) agl_remote_item_free);
      g_object_unref (task);
      return;
    }
  data->item = item;
  agl_ews_series_apply_async (connection, item->id, g_steal_pointer (&data->plan),
                              data->send_updates, data->send_cancellations,
                              g_task_get_cancellable (task), series_written_cb, task);
}

static void
item_written_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WrittenData *data = g_task_get_task_data (task);
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GPtrArray) results = NULL;
  GError *error = NULL;
  AglEwsItemResult *ews;
  AglRemoteItem *item;

  doc = agl_ews_connection_send_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (doc != NULL)
    results = data->is_create ? agl_ews_response_read_create_item (doc, &error)
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
  write_series (g_steal_pointer (&task), AGL_EWS_CONNECTION (source), item);
}

/* The master with CreateItem, then its overrides and EXDATEs as changed
 * and deleted occurrences (agl-ews-series.h): one UpdateItem and one
 * DeleteItem batch, and the master's final ChangeKey read back.  When an
 * occurrence step fails the series still exists: the new item is returned
 * all the same (its id must reach the caller) and the failure is logged. */
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
  WrittenData *written = written_data_new (TRUE, send);
  g_auto(WriteData) data = { 0 };
  g_autoptr(GBytes) request = NULL;
  AglEwsRequestHeaders headers;
  GError *error = NULL;

  g_task_set_task_data (task, written, (GDestroyNotify) written_data_free);
  data.local_identity = local_identity;
  data.vcalendar = parse_vcalendar (ical, &error);
  if (data.vcalendar != NULL)
    data.zones = agl_windows_zones_get_default (&error);
  /* Planned before anything is sent: an override Exchange cannot take
   * refuses the event, not half of it. */
  if (data.zones != NULL)
    written->plan = agl_ews_series_plan_new (NULL, data.vcalendar, data.zones, &error);
  if (written->plan != NULL)
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

/* The master's changed fields with the caller's conflict mode, then the
 * occurrence steps agl_ews_series_plan_new() finds between @old_ical and
 * @new_ical (%NULL @old_ical: no base known, the master is written whole
 * and every override and EXDATE of @new_ical is applied); the returned
 * change key is the master's after all of them.  A removed EXDATE is
 * refused before anything is sent: Exchange cannot restore an occurrence. */
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
  WrittenData *written = written_data_new (FALSE, send);
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

  g_task_set_task_data (task, written, (GDestroyNotify) written_data_free);
  if (old_ical != NULL)
    data.old_vcalendar = parse_vcalendar (old_ical, &error);
  if (old_ical == NULL || data.old_vcalendar != NULL)
    data.vcalendar = parse_vcalendar (new_ical, &error);
  if (data.vcalendar != NULL)
    data.zones = agl_windows_zones_get_default (&error);
  if (data.zones != NULL)
    written->plan = agl_ews_series_plan_new (data.old_vcalendar, data.vcalendar, data.zones,
                                             &error);
  if (written->plan != NULL)
    {
      agl_ews_connection_get_headers (self->connection, &headers);
      request = agl_ews_request_update_item (&headers, resolutions[conflict],
                                             written->send_updates, &ref, write_updates_cb,
                                             &data, &error);
    }
  if (return_write_error (task, &request, &data, error))
    return;
  if (data.n_changes == 0)
    {
      /* Nothing Exchange keeps of the master differs: it stays as it is,
       * but its occurrences may have changed. */
      AglRemoteItem *item = g_new0 (AglRemoteItem, 1);

      item->id = g_strdup (id);
      item->change_key = g_strdup (change_key);
      write_series (g_steal_pointer (&task), self->connection, item);
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
  AglRemote *remote = g_task_get_source_object (task);
  const char *id = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean ended;

  ended = agl_ews_unsubscribe_finish (AGL_EWS_CONNECTION (source), result, &error);
  /* The watched subscription ended, or was already gone: watch_async
   * subscribes anew next time. */
  if ((ended || means_subscription_lost (error)) &&
      g_strcmp0 (id, agl_remote_get_subscription_id (remote)) == 0)
    agl_remote_set_watch_state (remote, NULL, NULL);
  if (ended)
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

  GTask *task = g_task_new (self, cancellable, callback, user_data);

  /* A copy: @subscription_id may be the string agl_remote_get_subscription_id()
   * returned, which unsubscribe_cb replaces. */
  g_task_set_task_data (task, g_strdup (subscription_id), g_free);
  agl_ews_unsubscribe_async (self->connection, subscription_id, cancellable, unsubscribe_cb,
                             task);
}

/* find_by_local_identity */

static void
found_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const char *wanted = g_task_get_task_data (task);
  g_autoptr(GPtrArray) results = NULL;
  GPtrArray *items;
  GError *error = NULL;

  results = agl_ews_find_by_local_identity_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (results == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_remote_item_free);
  for (guint i = 0; i < results->len; i++)
    {
      AglEwsItemResult *ews = g_ptr_array_index (results, i);
      xmlNode *root = ews->item != NULL ? xmlDocGetRootElement (ews->item) : NULL;
      g_autofree char *identity = NULL;
      AglRemoteItem *item;

      identity = agl_ews_calendar_item_get_local_identity (root, AGL_EWS_PROPERTY_SET_ID,
                                                           AGL_EWS_PROPERTY_LOCAL_ID);
      /* Exchange's IsEqualTo ignores case; identities do not. */
      if (g_strcmp0 (identity, wanted) != 0)
        continue;
      item = g_new0 (AglRemoteItem, 1);
      item->id = g_steal_pointer (&ews->item_id);
      item->change_key = g_steal_pointer (&ews->change_key);
      item->local_identity = g_steal_pointer (&identity);
      g_ptr_array_add (items, item);
    }
  g_task_return_pointer (task, items, (GDestroyNotify) g_ptr_array_unref);
}

static void
find_by_local_identity_async (AglRemote           *remote,
                              const char          *local_identity,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_task_data (task, g_strdup (local_identity), g_free);
  agl_ews_find_by_local_identity_async (self->connection, local_identity, cancellable, found_cb,
                                        task);
}

/* watch: a streaming subscription read with GetStreamingEvents */

typedef struct {
  AglEwsStreaming *streaming;
  gulong           notification_id;
  guint            minutes;
  gboolean         renewed;   /* the subscription was replaced in this call */
} WatchData;

static void
watch_data_free (WatchData *data)
{
  if (data->streaming != NULL)
    {
      g_clear_signal_handler (&data->notification_id, data->streaming);
      g_object_unref (data->streaming);
    }
  g_free (data);
}

/* How servers without streaming notifications refuse a
 * StreamingSubscriptionRequest: Exchange 2007 does not know the element
 * (a schema validation fault), others refuse the request itself. */
static gboolean
means_not_supported (const GError *error)
{
  static const AglEwsError codes[] = {
    AGL_EWS_ERROR_INVALID_REQUEST,
    AGL_EWS_ERROR_INVALID_SUBSCRIPTION_REQUEST,
    AGL_EWS_ERROR_INVALID_SERVER_VERSION,
    AGL_EWS_ERROR_SCHEMA_VALIDATION,
  };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (g_error_matches (error, AGL_EWS_ERROR, codes[i]))
      return TRUE;
  return g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SOAP_FAULT) &&
         strstr (error->message, "StreamingSubscriptionRequest") != NULL;
}

/* Streaming notifications came with Exchange 2010 SP1; the version the
 * connection requests is the server's (or the account's pinned one). */
static gboolean
version_lacks_streaming (AglEwsConnection *connection)
{
  static const char * const versions[] = { "Exchange2007", "Exchange2007_SP1", "Exchange2010", NULL };
  AglEwsRequestHeaders headers;

  agl_ews_connection_get_headers (connection, &headers);
  return headers.server_version != NULL && g_strv_contains (versions, headers.server_version);
}

static void watch_subscribe (GTask *task);

static void
notification_cb (AglEwsStreaming    *streaming,
                 AglEwsNotification *notification,
                 gpointer            user_data)
{
  AglRemote *remote = AGL_REMOTE (user_data);
  const char *watermark = NULL;
  gboolean about_items = FALSE;

  for (guint i = 0; i < notification->events->len; i++)
    {
      AglEwsEvent *event = g_ptr_array_index (notification->events, i);

      if (event->watermark != NULL)
        watermark = event->watermark;
      /* A StatusEvent only keeps the subscription alive; a folder's
       * ModifiedEvent follows item events and adds nothing. */
      if (event->kind != AGL_EWS_EVENT_KIND_STATUS && !event->is_folder)
        about_items = TRUE;
    }
  if (watermark != NULL)
    agl_remote_set_watch_state (remote, agl_remote_get_subscription_id (remote), watermark);
  if (about_items)
    agl_remote_emit_changed (remote);
}

static void
watch_ran_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglRemote *remote = g_task_get_source_object (task);
  WatchData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (agl_ews_streaming_run_finish (AGL_EWS_STREAMING (source), result, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  /* Renewed once per call: a server that loses every subscription at
   * once would otherwise be asked forever. */
  if (means_subscription_lost (error) && !data->renewed &&
      !g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_debug ("Streaming subscription %s lost (%s): subscribing anew",
               agl_remote_get_subscription_id (remote), error->message);
      data->renewed = TRUE;
      agl_remote_set_watch_state (remote, NULL, NULL);
      watch_subscribe (g_steal_pointer (&task));
      return;
    }
  g_task_return_error (task, g_steal_pointer (&error));
}

static void
watch_run (GTask *task)
{
  AglEwsBackend *self = g_task_get_source_object (task);
  WatchData *data = g_task_get_task_data (task);
  const char *ids[] = { agl_remote_get_subscription_id (AGL_REMOTE (self)), NULL };

  if (data->streaming == NULL)
    {
      data->streaming = agl_ews_streaming_new (self->connection);
      data->notification_id = g_signal_connect (data->streaming, "notification",
                                                G_CALLBACK (notification_cb), self);
    }
  agl_ews_streaming_run_async (data->streaming, ids, data->minutes, g_task_get_cancellable (task),
                               watch_ran_cb, task);
}

static void
watch_subscribed_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglRemote *remote = g_task_get_source_object (task);
  WatchData *data = g_task_get_task_data (task);
  g_autoptr(AglEwsSubscription) subscription = NULL;
  g_autoptr(GError) error = NULL;

  subscription = agl_ews_subscribe_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (subscription == NULL)
    {
      if (means_not_supported (error))
        g_task_return_new_error (task, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED,
                                 _("The server does not offer streaming notifications (%s)."),
                                 error->message);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  agl_remote_set_watch_state (remote, subscription->subscription_id, subscription->watermark);
  /* What happened between the old subscription's end and the new one's
   * start is in no notification. */
  if (data->renewed)
    agl_remote_emit_changed (remote);
  watch_run (g_steal_pointer (&task));
}

static void
watch_subscribe (GTask *task)
{
  AglEwsBackend *self = g_task_get_source_object (task);

  agl_ews_subscribe_async (self->connection, TRUE, NULL, 0, g_task_get_cancellable (task),
                           watch_subscribed_cb, task);
}

static void
watch_start (GTask *task)
{
  AglEwsBackend *self = g_task_get_source_object (task);

  if (version_lacks_streaming (self->connection))
    {
      AglEwsRequestHeaders headers;

      agl_ews_connection_get_headers (self->connection, &headers);
      g_task_return_new_error (task, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED,
                               _("Streaming notifications need Exchange 2010 SP1 or later; the account uses %s."),
                               headers.server_version);
      g_object_unref (task);
      return;
    }
  if (agl_remote_get_subscription_id (AGL_REMOTE (self)) == NULL)
    watch_subscribe (task);
  else
    watch_run (task);
}

static void
watch_probed_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(AglEwsFolderInfo) folder = NULL;
  GError *error = NULL;

  folder = agl_ews_get_calendar_folder_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (folder == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  watch_start (task);
}

static void
watch_async (AglRemote           *remote,
             guint                minutes,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  AglEwsBackend *self = AGL_EWS_BACKEND (remote);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  WatchData *data = g_new0 (WatchData, 1);

  g_task_set_source_tag (task, watch_async);
  data->minutes = CLAMP (minutes, STREAMING_MIN_MINUTES, STREAMING_MAX_MINUTES);
  g_task_set_task_data (task, data, (GDestroyNotify) watch_data_free);
  /* A new connection set to "auto" asks as Exchange 2007 SP1 until an
   * answer told the server's version: one cheap request first, or the
   * StreamingSubscriptionRequest could not even be written. */
  if (agl_ews_connection_get_server_build (self->connection) == NULL)
    agl_ews_get_calendar_folder_async (self->connection, cancellable, watch_probed_cb, task);
  else
    watch_start (task);
}

/* same_content: the update from one to the other would be empty */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)

static gboolean
same_content (AglRemote  *remote,
              const char *ical,
              const char *other_ical)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlBuffer) buffer = NULL;
  g_autoptr(xmlTextWriter) writer = NULL;
  g_autoptr(AglEwsSeriesPlan) plan = NULL;
  icalcomponent *old_vcalendar = parse_vcalendar (ical, NULL);
  icalcomponent *new_vcalendar = parse_vcalendar (other_ical, NULL);
  AglWindowsZones *zones = agl_windows_zones_get_default (NULL);
  guint n_changes = 1;
  gboolean same = FALSE;

  if (old_vcalendar == NULL || new_vcalendar == NULL || zones == NULL)
    goto out;
  buffer = xmlBufferCreate ();
  writer = xmlNewTextWriterMemory (buffer, 0);
  if (writer == NULL ||
      xmlTextWriterStartElement (writer, BAD_CAST "t:Updates") < 0 ||
      xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:t",
                                   BAD_CAST AGL_EWS_TYPES_NAMESPACE) < 0 ||
      !agl_ews_calendar_item_write_updates (writer, old_vcalendar, new_vcalendar, NULL, zones,
                                            NULL, &n_changes, &error))
    goto out;
  plan = agl_ews_series_plan_new (old_vcalendar, new_vcalendar, zones, &error);
  same = n_changes == 0 && plan != NULL && agl_ews_series_plan_is_empty (plan);

out:
  g_clear_pointer (&old_vcalendar, icalcomponent_free);
  g_clear_pointer (&new_vcalendar, icalcomponent_free);
  return same;
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
  remote_class->find_by_local_identity_async = find_by_local_identity_async;
  remote_class->find_by_local_identity_finish = (gpointer) propagate_pointer;
  remote_class->watch_async = watch_async;
  remote_class->watch_finish = propagate_boolean;
  remote_class->same_content = same_content;
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
