/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-ews-response.h"
#include "agl-ews-xml.h"

#define M AGL_EWS_NS_MESSAGES
#define T AGL_EWS_NS_TYPES

static gboolean
invalid_response (GError    **error,
                  const char *message)
{
  agl_ews_error_set (error, AGL_EWS_ERROR_INVALID_RESPONSE, message);
  return FALSE;
}

/* xs:dateTime as Exchange sends it: with "Z" or an offset, or without a
 * zone (OOF durations), which EWS means as UTC. */
static GDateTime *
parse_date_time (const char *text)
{
  g_autoptr(GTimeZone) utc = NULL;
  g_autofree char *copy = NULL;

  if (text == NULL)
    return NULL;
  utc = g_time_zone_new_utc ();
  copy = g_strstrip (g_strdup (text));
  return g_date_time_new_from_iso8601 (copy, utc);
}

static char *
child_text_stripped (const xmlNode *parent,
                     const char    *ns_uri,
                     const char    *name)
{
  char *text = agl_ews_xml_child_text (parent, ns_uri, name);

  return text != NULL ? g_strstrip (text) : NULL;
}

/* Generic ResponseMessages */

/**
 * agl_ews_response_message_free:
 * @message: (nullable) (transfer full): a message
 */
void
agl_ews_response_message_free (AglEwsResponseMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->code_name);
  g_free (message->message_text);
  g_free (message);
}

/**
 * agl_ews_response_message_to_error:
 * @message: a message
 *
 * Returns: (transfer full) (nullable): the message's error when its
 *   ResponseClass is Error, else %NULL
 */
GError *
agl_ews_response_message_to_error (const AglEwsResponseMessage *message)
{
  GError *error = NULL;

  if (message->response_class != AGL_EWS_RESPONSE_CLASS_ERROR)
    return NULL;
  if (message->code == AGL_EWS_ERROR_INVALID_RESPONSE)
    /* A code newer than our schema: keep its name in the message. */
    g_set_error (&error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE, "%s: %s",
                 message->code_name != NULL ? message->code_name : "?",
                 message->message_text != NULL ? message->message_text : "");
  else
    agl_ews_error_set (&error, message->code, message->message_text);
  return error;
}

static AglEwsResponseMessage *
read_message (xmlNode    *node,
              const char *operation)
{
  AglEwsResponseMessage *message = g_new0 (AglEwsResponseMessage, 1);
  g_autofree char *response_class = agl_ews_xml_attr (node, "ResponseClass");

  message->node = node;
  message->code_name = child_text_stripped (node, M, "ResponseCode");
  message->message_text = agl_ews_xml_child_text (node, M, "MessageText");
  message->back_off_ms = agl_ews_xml_read_back_off_ms (node);

  if (g_strcmp0 (response_class, "Success") == 0)
    message->response_class = AGL_EWS_RESPONSE_CLASS_SUCCESS;
  else if (g_strcmp0 (response_class, "Warning") == 0)
    message->response_class = AGL_EWS_RESPONSE_CLASS_WARNING;
  else
    message->response_class = AGL_EWS_RESPONSE_CLASS_ERROR;

  if (message->code_name == NULL)
    message->code = message->response_class == AGL_EWS_RESPONSE_CLASS_ERROR ?
                    AGL_EWS_ERROR_INVALID_RESPONSE : AGL_EWS_ERROR_NO_ERROR;
  else if (!agl_ews_error_code_from_name (message->code_name, &message->code))
    message->code = AGL_EWS_ERROR_INVALID_RESPONSE;

  /* A Warning (e.g. ErrorBatchProcessingStopped on later items) still
   * carries a usable result; it is worth a line in the log. */
  if (message->response_class == AGL_EWS_RESPONSE_CLASS_WARNING)
    g_message ("EWS %s warning: %s: %s", operation,
               message->code_name != NULL ? message->code_name : "?",
               message->message_text != NULL ? message->message_text : "");
  return message;
}

/**
 * agl_ews_response_read_messages:
 * @doc: a parsed response
 * @operation: the operation, e.g. "GetFolder" (the body must be a
 *   m:GetFolderResponse)
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Reads every ResponseMessage of any operation's response (also the single
 * m:ResponseMessage of GetUserOofSettings).
 *
 * Returns: (transfer container) (element-type AglEwsResponseMessage): the
 *   messages, at least one; %NULL with @error set for a fault or a response
 *   that is not @operation's
 */
GPtrArray *
agl_ews_response_read_messages (xmlDoc     *doc,
                                const char *operation,
                                GError    **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *expected = g_strconcat (operation, "Response", NULL);
  xmlNode *body;
  xmlNode *container;

  body = agl_ews_xml_get_body_element (doc, error);
  if (body == NULL)
    return NULL;
  if (!agl_ews_xml_node_is (body, M, expected))
    {
      g_autofree char *message =
        g_strdup_printf (_("The server answered with “%s” where a %s response was expected."),
                         (const char *) body->name, operation);
      invalid_response (error, message);
      return NULL;
    }

  messages = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_ews_response_message_free);
  container = agl_ews_xml_first_child (body, M, "ResponseMessages");
  if (container != NULL)
    {
      for (xmlNode *n = agl_ews_xml_first_child (container, M, NULL); n != NULL;
           n = agl_ews_xml_next_sibling (n, M, NULL))
        g_ptr_array_add (messages, read_message (n, operation));
    }
  else
    {
      xmlNode *n = agl_ews_xml_first_child (body, M, "ResponseMessage");

      if (n != NULL)
        g_ptr_array_add (messages, read_message (n, operation));
    }

  if (messages->len == 0)
    {
      g_autofree char *message =
        g_strdup_printf (_("The server’s %s response has no response message."), operation);
      invalid_response (error, message);
      return NULL;
    }
  return g_steal_pointer (&messages);
}

/* The first message of a one-message operation, or its error. */
static AglEwsResponseMessage *
read_single (xmlDoc     *doc,
             const char *operation,
             GPtrArray **out_messages,
             GError    **error)
{
  g_autoptr(GPtrArray) messages = agl_ews_response_read_messages (doc, operation, error);
  AglEwsResponseMessage *message;
  GError *message_error;

  if (messages == NULL)
    return NULL;
  message = g_ptr_array_index (messages, 0);
  message_error = agl_ews_response_message_to_error (message);
  if (message_error != NULL)
    {
      g_propagate_error (error, message_error);
      return NULL;
    }
  *out_messages = g_steal_pointer (&messages);
  return message;
}

/* GetFolder */

/**
 * agl_ews_folder_info_free:
 * @info: (nullable) (transfer full): folder information
 */
void
agl_ews_folder_info_free (AglEwsFolderInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->folder_id);
  g_free (info->change_key);
  g_free (info);
}

/**
 * agl_ews_response_read_get_folder:
 * @doc: a GetFolder response
 * @error: return location for an #AGL_EWS_ERROR (e.g. ErrorItemNotFound)
 *
 * Returns: (transfer full) (nullable): the calendar folder's id
 */
AglEwsFolderInfo *
agl_ews_response_read_get_folder (xmlDoc  *doc,
                                  GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "GetFolder", &messages, error);
  g_autoptr(AglEwsFolderInfo) info = NULL;
  g_autofree char *count = NULL;
  xmlNode *folder;
  xmlNode *folder_id;

  if (message == NULL)
    return NULL;
  /* CalendarFolder, or Folder as Exchange 2010 answers for some shapes. */
  folder = agl_ews_xml_first_child (agl_ews_xml_first_child (message->node, M, "Folders"),
                                    T, NULL);
  folder_id = agl_ews_xml_first_child (folder, T, "FolderId");
  info = g_new0 (AglEwsFolderInfo, 1);
  info->folder_id = agl_ews_xml_attr (folder_id, "Id");
  info->change_key = agl_ews_xml_attr (folder_id, "ChangeKey");
  count = agl_ews_xml_child_text (folder, T, "TotalCount");
  if (!agl_ews_xml_parse_int (count, 0, G_MAXINT64, &info->total_count))
    info->total_count = -1;
  if (info->folder_id == NULL)
    {
      invalid_response (error, _("The GetFolder response has no FolderId."));
      return NULL;
    }
  return g_steal_pointer (&info);
}

/* SyncFolderItems */

static void
sync_change_free (AglEwsSyncChange *change)
{
  g_free (change->item_id);
  g_free (change->change_key);
  g_free (change->element_name);
  g_free (change->item_class);
  g_free (change);
}

/**
 * agl_ews_sync_result_free:
 * @result: (nullable) (transfer full): a SyncFolderItems page
 */
void
agl_ews_sync_result_free (AglEwsSyncResult *result)
{
  if (result == NULL)
    return;
  g_free (result->sync_state);
  g_clear_pointer (&result->changes, g_ptr_array_unref);
  g_free (result);
}

/**
 * agl_ews_response_read_sync_folder_items:
 * @doc: a SyncFolderItems response
 * @error: return location for an #AGL_EWS_ERROR (e.g. ErrorInvalidSyncStateData)
 *
 * Returns: (transfer full) (nullable): one page of changes and the sync
 *   state that covers them
 */
AglEwsSyncResult *
agl_ews_response_read_sync_folder_items (xmlDoc  *doc,
                                         GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "SyncFolderItems", &messages, error);
  g_autoptr(AglEwsSyncResult) result = NULL;
  g_autofree char *last = NULL;
  xmlNode *changes;

  if (message == NULL)
    return NULL;
  result = g_new0 (AglEwsSyncResult, 1);
  result->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) sync_change_free);
  result->sync_state = child_text_stripped (message->node, M, "SyncState");
  last = agl_ews_xml_child_text (message->node, M, "IncludesLastItemInRange");
  if (result->sync_state == NULL || *result->sync_state == '\0' ||
      !agl_ews_xml_parse_boolean (last, &result->includes_last_item_in_range))
    {
      invalid_response (error, _("The SyncFolderItems response has no SyncState or "
                                 "IncludesLastItemInRange."));
      return NULL;
    }

  changes = agl_ews_xml_first_child (message->node, M, "Changes");
  for (xmlNode *n = agl_ews_xml_first_child (changes, T, NULL); n != NULL;
       n = agl_ews_xml_next_sibling (n, T, NULL))
    {
      AglEwsSyncChange *change;
      xmlNode *item = NULL;
      xmlNode *item_id;

      change = g_new0 (AglEwsSyncChange, 1);
      if (agl_ews_xml_node_is (n, T, "Create") || agl_ews_xml_node_is (n, T, "Update"))
        {
          change->kind = agl_ews_xml_node_is (n, T, "Create") ? AGL_EWS_SYNC_CREATE
                                                               : AGL_EWS_SYNC_UPDATE;
          item = agl_ews_xml_first_child (n, T, NULL);
          item_id = agl_ews_xml_first_child (item, T, "ItemId");
          if (item != NULL)
            change->element_name = g_strdup ((const char *) item->name);
          change->item_class = child_text_stripped (item, T, "ItemClass");
        }
      else if (agl_ews_xml_node_is (n, T, "Delete"))
        {
          change->kind = AGL_EWS_SYNC_DELETE;
          item_id = agl_ews_xml_first_child (n, T, "ItemId");
        }
      else
        {
          /* ReadFlagChange: nothing an appointment keeps. */
          sync_change_free (change);
          continue;
        }
      change->item_id = agl_ews_xml_attr (item_id, "Id");
      change->change_key = agl_ews_xml_attr (item_id, "ChangeKey");
      if (change->item_id == NULL)
        {
          sync_change_free (change);
          invalid_response (error, _("A SyncFolderItems change has no ItemId."));
          return NULL;
        }
      g_ptr_array_add (result->changes, change);
    }
  return g_steal_pointer (&result);
}

/* GetItem, CreateItem, UpdateItem, DeleteItem */

/**
 * agl_ews_item_result_free:
 * @result: (nullable) (transfer full): one item's outcome
 */
void
agl_ews_item_result_free (AglEwsItemResult *result)
{
  if (result == NULL)
    return;
  g_clear_error (&result->error);
  g_free (result->item_id);
  g_free (result->change_key);
  g_free (result->element_name);
  g_clear_pointer (&result->item, xmlFreeDoc);
  g_free (result);
}

static xmlDoc *
copy_item (xmlNode *item)
{
  xmlDoc *doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNode *copy;

  if (doc == NULL)
    return NULL;
  /* Namespaces declared on ancestors are redeclared on the copy. */
  copy = xmlDocCopyNode (item, doc, 1);
  if (copy == NULL)
    {
      xmlFreeDoc (doc);
      return NULL;
    }
  xmlDocSetRootElement (doc, copy);
  return doc;
}

static GPtrArray *
read_item_results (xmlDoc     *doc,
                   const char *operation,
                   gboolean    keep_items,
                   GError    **error)
{
  g_autoptr(GPtrArray) messages = agl_ews_response_read_messages (doc, operation, error);
  g_autoptr(GPtrArray) results = NULL;

  if (messages == NULL)
    return NULL;
  results = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_ews_item_result_free);
  for (guint i = 0; i < messages->len; i++)
    {
      AglEwsResponseMessage *message = g_ptr_array_index (messages, i);
      AglEwsItemResult *result = g_new0 (AglEwsItemResult, 1);
      xmlNode *item;
      xmlNode *item_id;
      g_autofree char *count = NULL;

      result->conflict_count = -1;
      result->error = agl_ews_response_message_to_error (message);
      count = agl_ews_xml_child_text (agl_ews_xml_first_child (message->node, M,
                                                               "ConflictResults"),
                                      T, "Count");
      if (!agl_ews_xml_parse_int (count, 0, G_MAXINT64, &result->conflict_count))
        result->conflict_count = -1;

      item = agl_ews_xml_first_child (agl_ews_xml_first_child (message->node, M, "Items"),
                                      T, NULL);
      if (result->error == NULL && item != NULL)
        {
          item_id = agl_ews_xml_first_child (item, T, "ItemId");
          result->element_name = g_strdup ((const char *) item->name);
          result->item_id = agl_ews_xml_attr (item_id, "Id");
          result->change_key = agl_ews_xml_attr (item_id, "ChangeKey");
          if (keep_items)
            result->item = copy_item (item);
        }
      else if (result->error == NULL && keep_items)
        /* A successful GetItem message without its item is unusable. */
        agl_ews_error_set (&result->error, AGL_EWS_ERROR_INVALID_RESPONSE,
                           _("The GetItem response message has no item."));
      g_ptr_array_add (results, result);
    }
  return g_steal_pointer (&results);
}

/**
 * agl_ews_response_read_get_item:
 * @doc: a GetItem response
 * @error: return location for an #AGL_EWS_ERROR of the whole response
 *
 * Returns: (transfer container) (element-type AglEwsItemResult) (nullable):
 *   one result per requested item, each with its copied item or its error
 */
GPtrArray *
agl_ews_response_read_get_item (xmlDoc  *doc,
                                GError **error)
{
  return read_item_results (doc, "GetItem", TRUE, error);
}

/**
 * agl_ews_response_read_create_item:
 * @doc: a CreateItem response
 * @error: return location for an #AGL_EWS_ERROR of the whole response
 *
 * Returns: (transfer container) (element-type AglEwsItemResult) (nullable):
 *   one result per created item, with the new ItemId and ChangeKey
 */
GPtrArray *
agl_ews_response_read_create_item (xmlDoc  *doc,
                                   GError **error)
{
  return read_item_results (doc, "CreateItem", FALSE, error);
}

/**
 * agl_ews_response_read_update_item:
 * @doc: an UpdateItem response
 * @error: return location for an #AGL_EWS_ERROR of the whole response
 *
 * Returns: (transfer container) (element-type AglEwsItemResult) (nullable):
 *   one result per change, with the new ChangeKey and ConflictResults count
 *   (a stale ChangeKey with NeverOverwrite is ErrorIrresolvableConflict)
 */
GPtrArray *
agl_ews_response_read_update_item (xmlDoc  *doc,
                                   GError **error)
{
  return read_item_results (doc, "UpdateItem", FALSE, error);
}

/**
 * agl_ews_response_read_delete_item:
 * @doc: a DeleteItem response
 * @error: return location for an #AGL_EWS_ERROR of the whole response
 *
 * Returns: (transfer container) (element-type AglEwsItemResult) (nullable):
 *   one result per deleted item (only @error is meaningful)
 */
GPtrArray *
agl_ews_response_read_delete_item (xmlDoc  *doc,
                                   GError **error)
{
  return read_item_results (doc, "DeleteItem", FALSE, error);
}

/* FindItem with CalendarView */

static void
calendar_view_item_free (AglEwsCalendarViewItem *item)
{
  g_free (item->item_id);
  g_free (item->change_key);
  g_free (item->subject);
  g_clear_pointer (&item->start, g_date_time_unref);
  g_clear_pointer (&item->end, g_date_time_unref);
  g_free (item->legacy_free_busy_status);
  g_free (item->calendar_item_type);
  g_free (item);
}

/**
 * agl_ews_calendar_view_free:
 * @view: (nullable) (transfer full): a calendar view
 */
void
agl_ews_calendar_view_free (AglEwsCalendarView *view)
{
  if (view == NULL)
    return;
  g_clear_pointer (&view->items, g_ptr_array_unref);
  g_free (view);
}

/**
 * agl_ews_response_read_find_item_calendar_view:
 * @doc: a FindItem response to a CalendarView request
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Returns: (transfer full) (nullable): the occurrences in the view
 */
AglEwsCalendarView *
agl_ews_response_read_find_item_calendar_view (xmlDoc  *doc,
                                               GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "FindItem", &messages, error);
  g_autoptr(AglEwsCalendarView) view = NULL;
  g_autofree char *total = NULL;
  g_autofree char *last = NULL;
  xmlNode *root_folder;

  if (message == NULL)
    return NULL;
  root_folder = agl_ews_xml_first_child (message->node, M, "RootFolder");
  if (root_folder == NULL)
    {
      invalid_response (error, _("The FindItem response has no RootFolder."));
      return NULL;
    }
  view = g_new0 (AglEwsCalendarView, 1);
  view->items = g_ptr_array_new_with_free_func ((GDestroyNotify) calendar_view_item_free);
  total = agl_ews_xml_attr (root_folder, "TotalItemsInView");
  if (!agl_ews_xml_parse_int (total, 0, G_MAXINT64, &view->total_items_in_view))
    view->total_items_in_view = -1;
  last = agl_ews_xml_attr (root_folder, "IncludesLastItemInRange");
  if (!agl_ews_xml_parse_boolean (last, &view->includes_last_item_in_range))
    view->includes_last_item_in_range = TRUE;

  for (xmlNode *n = agl_ews_xml_first_child (agl_ews_xml_first_child (root_folder, T, "Items"),
                                             T, "CalendarItem");
       n != NULL; n = agl_ews_xml_next_sibling (n, T, "CalendarItem"))
    {
      AglEwsCalendarViewItem *item = g_new0 (AglEwsCalendarViewItem, 1);
      xmlNode *item_id = agl_ews_xml_first_child (n, T, "ItemId");
      g_autofree char *start_text = agl_ews_xml_child_text (n, T, "Start");
      g_autofree char *end_text = agl_ews_xml_child_text (n, T, "End");

      item->item_id = agl_ews_xml_attr (item_id, "Id");
      item->change_key = agl_ews_xml_attr (item_id, "ChangeKey");
      item->subject = agl_ews_xml_child_text (n, T, "Subject");
      item->start = parse_date_time (start_text);
      item->end = parse_date_time (end_text);
      item->legacy_free_busy_status = child_text_stripped (n, T, "LegacyFreeBusyStatus");
      item->calendar_item_type = child_text_stripped (n, T, "CalendarItemType");
      g_ptr_array_add (view->items, item);
    }
  return g_steal_pointer (&view);
}

/**
 * agl_ews_response_read_find_item:
 * @doc: a FindItem response to a request without a view
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Reads the items of the RootFolder whatever their element (CalendarItem,
 * MeetingRequest, Item …).
 *
 * Returns: (transfer container) (element-type AglEwsItemResult) (nullable):
 *   one result per item found, each with its ItemId and a copy of the item
 */
GPtrArray *
agl_ews_response_read_find_item (xmlDoc  *doc,
                                 GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "FindItem", &messages, error);
  g_autoptr(GPtrArray) results = NULL;
  xmlNode *root_folder;

  if (message == NULL)
    return NULL;
  root_folder = agl_ews_xml_first_child (message->node, M, "RootFolder");
  if (root_folder == NULL)
    {
      invalid_response (error, _("The FindItem response has no RootFolder."));
      return NULL;
    }
  results = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_ews_item_result_free);
  for (xmlNode *n = agl_ews_xml_first_child (agl_ews_xml_first_child (root_folder, T, "Items"),
                                             T, NULL);
       n != NULL; n = agl_ews_xml_next_sibling (n, T, NULL))
    {
      AglEwsItemResult *result = g_new0 (AglEwsItemResult, 1);
      xmlNode *item_id = agl_ews_xml_first_child (n, T, "ItemId");

      result->conflict_count = -1;
      result->element_name = g_strdup ((const char *) n->name);
      result->item_id = agl_ews_xml_attr (item_id, "Id");
      result->change_key = agl_ews_xml_attr (item_id, "ChangeKey");
      result->item = copy_item (n);
      if (result->item_id == NULL)
        {
          agl_ews_item_result_free (result);
          invalid_response (error, _("An item of the FindItem response has no ItemId."));
          return NULL;
        }
      g_ptr_array_add (results, result);
    }
  return g_steal_pointer (&results);
}

/* GetUserOofSettings */

/**
 * agl_ews_oof_settings_free:
 * @settings: (nullable) (transfer full): OOF settings
 */
void
agl_ews_oof_settings_free (AglEwsOofSettings *settings)
{
  if (settings == NULL)
    return;
  g_free (settings->external_audience);
  g_clear_pointer (&settings->start, g_date_time_unref);
  g_clear_pointer (&settings->end, g_date_time_unref);
  g_free (settings->internal_reply);
  g_free (settings->external_reply);
  g_free (settings);
}

/**
 * agl_ews_response_read_get_user_oof_settings:
 * @doc: a GetUserOofSettings response
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Returns: (transfer full) (nullable): the mailbox's automatic replies
 */
AglEwsOofSettings *
agl_ews_response_read_get_user_oof_settings (xmlDoc  *doc,
                                             GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "GetUserOofSettings", &messages, error);
  g_autoptr(AglEwsOofSettings) settings = NULL;
  g_autofree char *state = NULL;
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;
  xmlNode *oof;
  xmlNode *duration;

  if (message == NULL)
    return NULL;
  /* OofSettings is a sibling of the ResponseMessage, in the types namespace. */
  oof = agl_ews_xml_first_child (message->node->parent, T, "OofSettings");
  state = child_text_stripped (oof, T, "OofState");
  settings = g_new0 (AglEwsOofSettings, 1);
  if (g_strcmp0 (state, "Disabled") == 0)
    settings->state = AGL_EWS_OOF_DISABLED;
  else if (g_strcmp0 (state, "Enabled") == 0)
    settings->state = AGL_EWS_OOF_ENABLED;
  else if (g_strcmp0 (state, "Scheduled") == 0)
    settings->state = AGL_EWS_OOF_SCHEDULED;
  else
    {
      invalid_response (error, _("The GetUserOofSettings response has no valid OofState."));
      return NULL;
    }
  settings->external_audience = child_text_stripped (oof, T, "ExternalAudience");
  duration = agl_ews_xml_first_child (oof, T, "Duration");
  start_text = agl_ews_xml_child_text (duration, T, "StartTime");
  end_text = agl_ews_xml_child_text (duration, T, "EndTime");
  settings->start = parse_date_time (start_text);
  settings->end = parse_date_time (end_text);
  settings->internal_reply =
    agl_ews_xml_child_text (agl_ews_xml_first_child (oof, T, "InternalReply"), T, "Message");
  settings->external_reply =
    agl_ews_xml_child_text (agl_ews_xml_first_child (oof, T, "ExternalReply"), T, "Message");
  if (settings->state == AGL_EWS_OOF_SCHEDULED && (settings->start == NULL || settings->end == NULL))
    {
      invalid_response (error, _("A scheduled OOF has no valid Duration."));
      return NULL;
    }
  return g_steal_pointer (&settings);
}

/* Subscribe, notifications, Unsubscribe */

/**
 * agl_ews_subscription_free:
 * @subscription: (nullable) (transfer full): a subscription
 */
void
agl_ews_subscription_free (AglEwsSubscription *subscription)
{
  if (subscription == NULL)
    return;
  g_free (subscription->subscription_id);
  g_free (subscription->watermark);
  g_free (subscription);
}

/**
 * agl_ews_response_read_subscribe:
 * @doc: a Subscribe response
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Returns: (transfer full) (nullable): the new subscription
 */
AglEwsSubscription *
agl_ews_response_read_subscribe (xmlDoc  *doc,
                                 GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "Subscribe", &messages, error);
  g_autoptr(AglEwsSubscription) subscription = NULL;

  if (message == NULL)
    return NULL;
  subscription = g_new0 (AglEwsSubscription, 1);
  subscription->subscription_id = child_text_stripped (message->node, M, "SubscriptionId");
  subscription->watermark = child_text_stripped (message->node, M, "Watermark");
  if (subscription->subscription_id == NULL || *subscription->subscription_id == '\0')
    {
      invalid_response (error, _("The Subscribe response has no SubscriptionId."));
      return NULL;
    }
  return g_steal_pointer (&subscription);
}

static const struct {
  const char     *element;
  AglEwsEventKind kind;
} event_elements[] = {
  { "CopiedEvent", AGL_EWS_EVENT_KIND_COPIED },
  { "CreatedEvent", AGL_EWS_EVENT_KIND_CREATED },
  { "DeletedEvent", AGL_EWS_EVENT_KIND_DELETED },
  { "ModifiedEvent", AGL_EWS_EVENT_KIND_MODIFIED },
  { "MovedEvent", AGL_EWS_EVENT_KIND_MOVED },
  { "NewMailEvent", AGL_EWS_EVENT_KIND_NEW_MAIL },
  { "FreeBusyChangedEvent", AGL_EWS_EVENT_KIND_FREE_BUSY_CHANGED },
  { "StatusEvent", AGL_EWS_EVENT_KIND_STATUS },
};

static void
event_free (AglEwsEvent *event)
{
  g_free (event->watermark);
  g_clear_pointer (&event->timestamp, g_date_time_unref);
  g_free (event->id);
  g_free (event->change_key);
  g_free (event->parent_folder_id);
  g_free (event->old_id);
  g_free (event->old_parent_folder_id);
  g_free (event);
}

/**
 * agl_ews_notification_free:
 * @notification: (nullable) (transfer full): a notification
 */
void
agl_ews_notification_free (AglEwsNotification *notification)
{
  if (notification == NULL)
    return;
  g_free (notification->subscription_id);
  g_free (notification->previous_watermark);
  g_clear_pointer (&notification->events, g_ptr_array_unref);
  g_free (notification);
}

static AglEwsNotification *
read_notification (xmlNode *node)
{
  AglEwsNotification *notification = g_new0 (AglEwsNotification, 1);
  g_autofree char *more = NULL;

  notification->events = g_ptr_array_new_with_free_func ((GDestroyNotify) event_free);
  notification->subscription_id = child_text_stripped (node, T, "SubscriptionId");
  notification->previous_watermark = child_text_stripped (node, T, "PreviousWatermark");
  more = agl_ews_xml_child_text (node, T, "MoreEvents");
  if (!agl_ews_xml_parse_boolean (more, &notification->more_events))
    notification->more_events = FALSE;

  for (xmlNode *n = agl_ews_xml_first_child (node, T, NULL); n != NULL;
       n = agl_ews_xml_next_sibling (n, T, NULL))
    {
      AglEwsEvent *event;
      g_autofree char *timestamp = NULL;
      xmlNode *id;
      xmlNode *old_id;
      guint i;

      for (i = 0; i < G_N_ELEMENTS (event_elements); i++)
        if (g_str_equal ((const char *) n->name, event_elements[i].element))
          break;
      if (i == G_N_ELEMENTS (event_elements))
        continue;

      event = g_new0 (AglEwsEvent, 1);
      event->kind = event_elements[i].kind;
      event->watermark = child_text_stripped (n, T, "Watermark");
      timestamp = agl_ews_xml_child_text (n, T, "TimeStamp");
      event->timestamp = parse_date_time (timestamp);
      id = agl_ews_xml_first_child (n, T, "ItemId");
      old_id = agl_ews_xml_first_child (n, T, "OldItemId");
      if (id == NULL)
        {
          id = agl_ews_xml_first_child (n, T, "FolderId");
          old_id = agl_ews_xml_first_child (n, T, "OldFolderId");
          event->is_folder = id != NULL;
        }
      event->id = agl_ews_xml_attr (id, "Id");
      event->change_key = agl_ews_xml_attr (id, "ChangeKey");
      event->old_id = agl_ews_xml_attr (old_id, "Id");
      event->parent_folder_id =
        agl_ews_xml_attr (agl_ews_xml_first_child (n, T, "ParentFolderId"), "Id");
      event->old_parent_folder_id =
        agl_ews_xml_attr (agl_ews_xml_first_child (n, T, "OldParentFolderId"), "Id");
      g_ptr_array_add (notification->events, event);
    }
  return notification;
}

/**
 * agl_ews_streaming_events_free:
 * @events: (nullable) (transfer full): one streaming envelope's content
 */
void
agl_ews_streaming_events_free (AglEwsStreamingEvents *events)
{
  if (events == NULL)
    return;
  g_clear_pointer (&events->notifications, g_ptr_array_unref);
  g_strfreev (events->error_subscription_ids);
  g_free (events);
}

/**
 * agl_ews_response_read_get_streaming_events:
 * @doc: one envelope of a GetStreamingEvents response
 * @error: return location for an #AGL_EWS_ERROR (e.g. ErrorExpiredSubscription)
 *
 * Accepts m:Notification as Exchange sends it as well as t:Notification as
 * the schema declares it.
 *
 * Returns: (transfer full) (nullable): the notifications and the
 *   connection's status
 */
AglEwsStreamingEvents *
agl_ews_response_read_get_streaming_events (xmlDoc  *doc,
                                            GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "GetStreamingEvents", &messages, error);
  g_autoptr(AglEwsStreamingEvents) events = NULL;
  g_autofree char *status = NULL;
  g_autoptr(GStrvBuilder) ids = NULL;
  xmlNode *notifications;
  xmlNode *error_ids;

  if (message == NULL)
    return NULL;
  events = g_new0 (AglEwsStreamingEvents, 1);
  events->notifications =
    g_ptr_array_new_with_free_func ((GDestroyNotify) agl_ews_notification_free);
  status = child_text_stripped (message->node, M, "ConnectionStatus");
  if (g_strcmp0 (status, "OK") == 0)
    events->connection_status = AGL_EWS_CONNECTION_STATUS_OK;
  else if (g_strcmp0 (status, "Closed") == 0)
    events->connection_status = AGL_EWS_CONNECTION_STATUS_CLOSED;

  notifications = agl_ews_xml_first_child (message->node, M, "Notifications");
  for (xmlNode *n = agl_ews_xml_first_child (notifications, NULL, "Notification"); n != NULL;
       n = agl_ews_xml_next_sibling (n, NULL, "Notification"))
    if (agl_ews_xml_node_is (n, M, NULL) || agl_ews_xml_node_is (n, T, NULL))
      g_ptr_array_add (events->notifications, read_notification (n));

  error_ids = agl_ews_xml_first_child (message->node, M, "ErrorSubscriptionIds");
  if (error_ids != NULL)
    {
      ids = g_strv_builder_new ();
      for (xmlNode *n = agl_ews_xml_first_child (error_ids, NULL, "SubscriptionId"); n != NULL;
           n = agl_ews_xml_next_sibling (n, NULL, "SubscriptionId"))
        {
          g_autofree char *id = agl_ews_xml_text (n);

          g_strv_builder_add (ids, g_strstrip (id));
        }
      events->error_subscription_ids = g_strv_builder_end (ids);
    }
  return g_steal_pointer (&events);
}

/**
 * agl_ews_response_read_get_events:
 * @doc: a GetEvents response
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Returns: (transfer full) (nullable): the pull subscription's notification
 *   (events and MoreEvents)
 */
AglEwsNotification *
agl_ews_response_read_get_events (xmlDoc  *doc,
                                  GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  AglEwsResponseMessage *message = read_single (doc, "GetEvents", &messages, error);
  xmlNode *notification;

  if (message == NULL)
    return NULL;
  notification = agl_ews_xml_first_child (message->node, M, "Notification");
  if (notification == NULL)
    notification = agl_ews_xml_first_child (message->node, T, "Notification");
  if (notification == NULL)
    {
      invalid_response (error, _("The GetEvents response has no Notification."));
      return NULL;
    }
  return read_notification (notification);
}

/**
 * agl_ews_response_read_unsubscribe:
 * @doc: an Unsubscribe response
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Returns: %TRUE if the subscription ended
 */
gboolean
agl_ews_response_read_unsubscribe (xmlDoc  *doc,
                                   GError **error)
{
  g_autoptr(GPtrArray) messages = NULL;

  return read_single (doc, "Unsubscribe", &messages, error) != NULL;
}

/* Autodiscover (POX) */

/**
 * agl_ews_autodiscover_free:
 * @autodiscover: (nullable) (transfer full): an Autodiscover result
 */
void
agl_ews_autodiscover_free (AglEwsAutodiscover *autodiscover)
{
  if (autodiscover == NULL)
    return;
  g_free (autodiscover->ews_url);
  g_free (autodiscover->redirect);
  g_free (autodiscover->display_name);
  g_free (autodiscover->smtp_address);
  g_free (autodiscover);
}

static char *
protocol_ews_url (xmlNode    *account,
                  const char *type)
{
  for (xmlNode *p = agl_ews_xml_first_child (account, AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE,
                                             "Protocol");
       p != NULL; p = agl_ews_xml_next_sibling (p, AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE,
                                                "Protocol"))
    {
      g_autofree char *protocol_type =
        child_text_stripped (p, AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE, "Type");

      if (g_strcmp0 (protocol_type, type) == 0)
        {
          char *url = child_text_stripped (p, AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE, "EwsUrl");

          if (url != NULL && *url != '\0')
            return url;
          g_free (url);
        }
    }
  return NULL;
}

/**
 * agl_ews_response_read_autodiscover:
 * @doc: a POX Autodiscover response
 * @error: return location for an #AGL_EWS_ERROR (%AGL_EWS_ERROR_AUTODISCOVER
 *   for an Error element)
 *
 * Returns: (transfer full) (nullable): the EWS URL, or a redirect to follow
 */
AglEwsAutodiscover *
agl_ews_response_read_autodiscover (xmlDoc  *doc,
                                    GError **error)
{
#define AD AGL_EWS_NS_AUTODISCOVER_RESPONSE
#define OL AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE
  xmlNode *root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  xmlNode *response;
  xmlNode *ad_error;
  xmlNode *account;
  xmlNode *user;
  g_autoptr(AglEwsAutodiscover) result = NULL;
  g_autofree char *action = NULL;

  if (!agl_ews_xml_node_is (root, AD, "Autodiscover"))
    {
      invalid_response (error, _("The server’s answer is not an Autodiscover response."));
      return NULL;
    }
  /* Errors come in the generic response namespace, settings in the Outlook one. */
  response = agl_ews_xml_first_child (root, NULL, "Response");
  ad_error = agl_ews_xml_first_child (response, NULL, "Error");
  if (ad_error != NULL)
    {
      g_autofree char *code = child_text_stripped (ad_error, NULL, "ErrorCode");
      g_autofree char *text = agl_ews_xml_child_text (ad_error, NULL, "Message");
      g_autofree char *message = g_strdup_printf ("%s %s", code != NULL ? code : "?",
                                                  text != NULL ? text : "");

      agl_ews_error_set (error, AGL_EWS_ERROR_AUTODISCOVER, g_strstrip (message));
      return NULL;
    }
  account = agl_ews_xml_first_child (response, OL, "Account");
  if (account == NULL)
    {
      invalid_response (error, _("The Autodiscover response has no Account."));
      return NULL;
    }

  result = g_new0 (AglEwsAutodiscover, 1);
  user = agl_ews_xml_first_child (response, OL, "User");
  result->display_name = agl_ews_xml_child_text (user, OL, "DisplayName");
  result->smtp_address = child_text_stripped (user, OL, "AutoDiscoverSMTPAddress");
  action = child_text_stripped (account, OL, "Action");
  if (g_strcmp0 (action, "redirectAddr") == 0)
    {
      result->action = AGL_EWS_AUTODISCOVER_REDIRECT_ADDR;
      result->redirect = child_text_stripped (account, OL, "RedirectAddr");
    }
  else if (g_strcmp0 (action, "redirectUrl") == 0)
    {
      result->action = AGL_EWS_AUTODISCOVER_REDIRECT_URL;
      result->redirect = child_text_stripped (account, OL, "RedirectUrl");
    }
  else
    {
      result->action = AGL_EWS_AUTODISCOVER_SETTINGS;
      result->ews_url = protocol_ews_url (account, "EXCH");
      if (result->ews_url == NULL)
        result->ews_url = protocol_ews_url (account, "EXPR");
      if (result->ews_url == NULL)
        {
          invalid_response (error, _("The Autodiscover response names no EWS URL."));
          return NULL;
        }
      return g_steal_pointer (&result);
    }
  if (result->redirect == NULL || *result->redirect == '\0')
    {
      invalid_response (error, _("The Autodiscover redirect names no target."));
      return NULL;
    }
  return g_steal_pointer (&result);
#undef AD
#undef OL
}
