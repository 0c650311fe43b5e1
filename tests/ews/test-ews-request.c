/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libxml/xmlschemas.h>

#include "agl-error.h"
#include "agl-ews-request.h"
#include "agl-ews-xml.h"

/* Microsoft's schemas behind the kit's strict SOAP wrapper, loaded once:
 * parsing types.xsd and messages.xsd takes most of a second. */
static xmlSchemaPtr schema;

static void
collect_error_cb (void       *user_data,
                  xmlErrorPtr error)
{
  GString *errors = user_data;

  if (errors != NULL && error != NULL && error->message != NULL)
    g_string_append_printf (errors, "line %d: %s", error->line, error->message);
}

static const char *
kit_dir (void)
{
  const char *kit = g_getenv ("AGL_EWS_KIT");

  /* A missing kit is a failure, never a skip: these checks are the point. */
  if (kit == NULL || !g_file_test (kit, G_FILE_TEST_IS_DIR))
    g_error ("AGL_EWS_KIT must name the EWS reference kit (shared/ews); it is “%s”",
             kit != NULL ? kit : "(unset)");
  return kit;
}

static xmlSchemaPtr
load_schema (void)
{
  g_autofree char *path = NULL;
  g_autoptr(GString) errors = g_string_new (NULL);
  xmlSchemaParserCtxtPtr ctxt;

  if (schema != NULL)
    return schema;
  path = g_build_filename (kit_dir (), "schemas", "ews-envelope.xsd", NULL);
  ctxt = xmlSchemaNewParserCtxt (path);
  g_assert_nonnull (ctxt);
  xmlSchemaSetParserStructuredErrors (ctxt, collect_error_cb, errors);
  schema = xmlSchemaParse (ctxt);
  xmlSchemaFreeParserCtxt (ctxt);
  if (schema == NULL)
    g_error ("%s does not compile: %s", path, errors->str);
  return schema;
}

/* Returns the validation errors, or NULL if @doc is valid. */
static char *
validate_doc (xmlDoc *doc)
{
  g_autoptr(GString) errors = g_string_new (NULL);
  xmlSchemaValidCtxtPtr vctxt = xmlSchemaNewValidCtxt (load_schema ());
  int rc;

  xmlSchemaSetValidStructuredErrors (vctxt, collect_error_cb, errors);
  rc = xmlSchemaValidateDoc (vctxt, doc);
  xmlSchemaFreeValidCtxt (vctxt);
  if (rc == 0)
    return NULL;
  if (errors->len == 0)
    g_string_append_printf (errors, "validation returned %d", rc);
  return g_string_free (g_steal_pointer (&errors), FALSE);
}

static xmlDoc *
parse_request (GBytes *request)
{
  g_autoptr(GError) error = NULL;
  xmlDoc *doc;
  gsize len;
  const char *data = g_bytes_get_data (request, &len);

  doc = agl_ews_xml_parse (data, len, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

static void
assert_valid (GBytes *request)
{
  g_autoptr(xmlDoc) doc = parse_request (request);
  g_autofree char *errors = validate_doc (doc);

  if (errors != NULL)
    g_error ("request does not validate: %s\n%.*s", errors,
             (int) g_bytes_get_size (request), (const char *) g_bytes_get_data (request, NULL));
}

/* Header combinations */

static const AglEwsRequestHeaders header_sets[] = {
  { NULL, NULL, NULL },
  { "Exchange2013_SP1", NULL, NULL },
  { "Exchange2010_SP2", "alice@example.org", NULL },
  { "Exchange2016", "alice@example.org", "W. Europe Standard Time" },
};
static const char * const header_set_names[] = {
  "no-headers",
  "server-version",
  "impersonation",
  "time-zone",
};
G_STATIC_ASSERT (G_N_ELEMENTS (header_sets) == G_N_ELEMENTS (header_set_names));

/* Builders for every operation */

static void
write_calendar_item_cb (xmlTextWriterPtr w,
                        gpointer         user_data)
{
  xmlTextWriterStartElementNS (w, BAD_CAST "t", BAD_CAST "CalendarItem", NULL);
  xmlTextWriterWriteElementNS (w, BAD_CAST "t", BAD_CAST "Subject", NULL,
                               BAD_CAST "On call <&> \"quoted\"");
  xmlTextWriterWriteElementNS (w, BAD_CAST "t", BAD_CAST "Start", NULL,
                               BAD_CAST "2026-01-05T09:00:00Z");
  xmlTextWriterWriteElementNS (w, BAD_CAST "t", BAD_CAST "End", NULL,
                               BAD_CAST "2026-01-05T17:00:00Z");
  xmlTextWriterEndElement (w);
}

static void
write_updates_cb (xmlTextWriterPtr w,
                  gpointer         user_data)
{
  xmlTextWriterStartElementNS (w, BAD_CAST "t", BAD_CAST "SetItemField", NULL);
  xmlTextWriterStartElementNS (w, BAD_CAST "t", BAD_CAST "FieldURI", NULL);
  xmlTextWriterWriteAttribute (w, BAD_CAST "FieldURI", BAD_CAST "calendar:LegacyFreeBusyStatus");
  xmlTextWriterEndElement (w);
  xmlTextWriterStartElementNS (w, BAD_CAST "t", BAD_CAST "CalendarItem", NULL);
  xmlTextWriterWriteElementNS (w, BAD_CAST "t", BAD_CAST "LegacyFreeBusyStatus", NULL,
                               BAD_CAST "OOF");
  xmlTextWriterEndElement (w);
  xmlTextWriterEndElement (w);
}

static const AglEwsItemIdRef some_ids[] = {
  { AGL_EWS_ITEM_ID, "AAMkADkzNjJjODUzAAA=", "DwAAABYAAAA=", 0 },
  { AGL_EWS_RECURRING_MASTER_ITEM_ID, "AAMkADkzNjJjODUzAAB=", "DwAAABYAAAB=", 0 },
  { AGL_EWS_OCCURRENCE_ITEM_ID, "AAMkADkzNjJjODUzAAA=", NULL, 3 },
};

typedef GBytes *(*BuildFunc) (const AglEwsRequestHeaders *headers, GError **error);

static GBytes *
build_get_folder (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_get_folder (h, NULL, error);
}

static GBytes *
build_get_folder_mailbox (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_get_folder (h, "bob@example.org", error);
}

static GBytes *
build_sync_initial (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_sync_folder_items (h, NULL, 512, NULL, error);
}

static GBytes *
build_sync_incremental (const AglEwsRequestHeaders *h, GError **error)
{
  static const char * const fields[] = { "item:ItemClass", "calendar:CalendarItemType", NULL };

  return agl_ews_request_sync_folder_items (h, "H4sIAAAAAAAEAO29B2AcSZY=", 1, fields, error);
}

static GBytes *
build_get_item (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_get_item (h, some_ids, G_N_ELEMENTS (some_ids), NULL, error);
}

static GBytes *
build_create_item (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_create_item (h, AGL_EWS_SEND_TO_NONE, write_calendar_item_cb, NULL,
                                      error);
}

static GBytes *
build_update_item (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_update_item (h, AGL_EWS_CONFLICT_NEVER_OVERWRITE,
                                      AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY, &some_ids[0],
                                      write_updates_cb, NULL, error);
}

static GBytes *
build_update_occurrence (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_update_item (h, AGL_EWS_CONFLICT_AUTO_RESOLVE, AGL_EWS_SEND_TO_NONE,
                                      &some_ids[2], write_updates_cb, NULL, error);
}

static GBytes *
build_update_items_batch (const AglEwsRequestHeaders *h, GError **error)
{
  const AglEwsItemChange changes[] = {
    { some_ids[0], write_updates_cb, NULL },
    { some_ids[1], write_updates_cb, NULL },
    { some_ids[2], write_updates_cb, NULL },
  };

  return agl_ews_request_update_items (h, AGL_EWS_CONFLICT_ALWAYS_OVERWRITE,
                                       AGL_EWS_SEND_ONLY_TO_CHANGED, changes,
                                       G_N_ELEMENTS (changes), error);
}

static GBytes *
build_delete_item (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_delete_item (h, AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS,
                                      AGL_EWS_SEND_TO_ALL_AND_SAVE_COPY,
                                      AGL_EWS_AFFECTED_TASKS_UNSET,
                                      some_ids, G_N_ELEMENTS (some_ids), error);
}

static GBytes *
build_delete_item_tasks (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_delete_item (h, AGL_EWS_DELETE_HARD, AGL_EWS_SEND_TO_NONE,
                                      AGL_EWS_AFFECTED_TASKS_ALL, some_ids, 1, error);
}

static GBytes *
build_find_item (const AglEwsRequestHeaders *h, GError **error)
{
  g_autoptr(GDateTime) start = g_date_time_new_utc (2026, 1, 1, 0, 0, 0);
  g_autoptr(GDateTime) end = g_date_time_new_utc (2026, 2, 1, 0, 0, 0);

  return agl_ews_request_find_item_calendar_view (h, start, end, 1000, error);
}

static GBytes *
build_find_by_local_identity (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_find_item_by_local_identity (h, "agl-7f3e2c1d@example.org", error);
}

static GBytes *
build_get_user_oof_settings (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_get_user_oof_settings (h, "alice@example.org", error);
}

static GBytes *
build_subscribe_streaming (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_subscribe_streaming (h, AGL_EWS_EVENT_ALL, error);
}

static GBytes *
build_subscribe_pull (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_subscribe_pull (h, AGL_EWS_EVENT_CREATED | AGL_EWS_EVENT_MODIFIED |
                                         AGL_EWS_EVENT_DELETED, "AAAAAHgGAAAAAAAAAQ==", 30,
                                         error);
}

static GBytes *
build_get_streaming_events (const AglEwsRequestHeaders *h, GError **error)
{
  static const char * const ids[] = { "JgBjbzFwcjA2bWIyMjIu", "second-subscription", NULL };

  return agl_ews_request_get_streaming_events (h, ids, 30, error);
}

static GBytes *
build_get_events (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_get_events (h, "39ea5d0f-f062-455e-a1e9-89c0304390f4",
                                     "AAAAAHgGAAAAAAAAAQ==", error);
}

static GBytes *
build_unsubscribe (const AglEwsRequestHeaders *h, GError **error)
{
  return agl_ews_request_unsubscribe (h, "39ea5d0f-f062-455e-a1e9-89c0304390f4", error);
}

static const struct {
  const char *name;
  BuildFunc   build;
} operations[] = {
  { "get-folder", build_get_folder },
  { "get-folder-mailbox", build_get_folder_mailbox },
  { "sync-folder-items-initial", build_sync_initial },
  { "sync-folder-items-incremental", build_sync_incremental },
  { "get-item", build_get_item },
  { "create-item", build_create_item },
  { "update-item", build_update_item },
  { "update-item-occurrence", build_update_occurrence },
  { "update-items-batch", build_update_items_batch },
  { "delete-item", build_delete_item },
  { "delete-item-affected-tasks", build_delete_item_tasks },
  { "find-item-calendar-view", build_find_item },
  { "find-item-local-identity", build_find_by_local_identity },
  { "get-user-oof-settings", build_get_user_oof_settings },
  { "subscribe-streaming", build_subscribe_streaming },
  { "subscribe-pull", build_subscribe_pull },
  { "get-streaming-events", build_get_streaming_events },
  { "get-events", build_get_events },
  { "unsubscribe", build_unsubscribe },
};

typedef struct {
  guint operation;
  guint header_set;
} ValidateCase;

static void
test_request_validates (gconstpointer data)
{
  const ValidateCase *c = data;
  const AglEwsRequestHeaders *h = &header_sets[c->header_set];
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  xmlNode *header;

  request = operations[c->operation].build (c->header_set == 0 ? NULL : h, &error);
  g_assert_no_error (error);
  g_assert_nonnull (request);
  assert_valid (request);

  /* The headers asked for are there, and no others. */
  doc = parse_request (request);
  header = agl_ews_xml_first_child (xmlDocGetRootElement (doc), AGL_EWS_NS_SOAP, "Header");
  g_assert_true ((header != NULL) == (h->server_version != NULL));
  g_assert_true ((agl_ews_xml_first_child (header, AGL_EWS_NS_TYPES, "RequestServerVersion") != NULL) ==
                 (h->server_version != NULL));
  g_assert_true ((agl_ews_xml_first_child (header, AGL_EWS_NS_TYPES, "ExchangeImpersonation") != NULL) ==
                 (h->impersonate_smtp != NULL));
  g_assert_true ((agl_ews_xml_first_child (header, AGL_EWS_NS_TYPES, "TimeZoneContext") != NULL) ==
                 (h->time_zone_id != NULL));
}

/* Values the server must see exactly */

static xmlNode *
body_element (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  xmlNode *body = agl_ews_xml_get_body_element (doc, &error);

  g_assert_no_error (error);
  return body;
}

static void
test_request_meeting_flags_explicit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) create = build_create_item (NULL, &error);
  g_autoptr(GBytes) update = build_update_item (NULL, &error);
  g_autoptr(GBytes) delete = build_delete_item (NULL, &error);
  g_autoptr(xmlDoc) create_doc = parse_request (create);
  g_autoptr(xmlDoc) update_doc = parse_request (update);
  g_autoptr(xmlDoc) delete_doc = parse_request (delete);
  g_autofree char *send = agl_ews_xml_attr (body_element (create_doc), "SendMeetingInvitations");
  g_autofree char *conflict = agl_ews_xml_attr (body_element (update_doc), "ConflictResolution");
  g_autofree char *send_update = agl_ews_xml_attr (body_element (update_doc),
                                                   "SendMeetingInvitationsOrCancellations");
  g_autofree char *cancel = agl_ews_xml_attr (body_element (delete_doc),
                                              "SendMeetingCancellations");
  g_autofree char *delete_type = agl_ews_xml_attr (body_element (delete_doc), "DeleteType");

  g_assert_cmpstr (send, ==, "SendToNone");
  g_assert_cmpstr (conflict, ==, "NeverOverwrite");
  g_assert_cmpstr (send_update, ==, "SendToChangedAndSaveCopy");
  g_assert_cmpstr (cancel, ==, "SendToAllAndSaveCopy");
  g_assert_cmpstr (delete_type, ==, "MoveToDeletedItems");
}

static void
test_request_get_item_extended_property (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = build_get_item (NULL, &error);
  g_autoptr(xmlDoc) doc = parse_request (request);
  xmlNode *props = agl_ews_xml_child_path (body_element (doc), AGL_EWS_NS_MESSAGES, "ItemShape",
                                           AGL_EWS_NS_TYPES, "AdditionalProperties", NULL);
  xmlNode *ext = agl_ews_xml_first_child (props, AGL_EWS_NS_TYPES, "ExtendedFieldURI");
  g_autofree char *set = agl_ews_xml_attr (ext, "PropertySetId");
  g_autofree char *name = agl_ews_xml_attr (ext, "PropertyName");
  g_autofree char *type = agl_ews_xml_attr (ext, "PropertyType");
  xmlNode *ids = agl_ews_xml_first_child (body_element (doc), AGL_EWS_NS_MESSAGES, "ItemIds");
  xmlNode *occurrence = agl_ews_xml_first_child (ids, AGL_EWS_NS_TYPES, "OccurrenceItemId");
  g_autofree char *index = agl_ews_xml_attr (occurrence, "InstanceIndex");

  g_assert_cmpstr (set, ==, AGL_EWS_PROPERTY_SET_ID);
  g_assert_cmpstr (name, ==, "AgendalineLocalId");
  g_assert_cmpstr (type, ==, "String");
  g_assert_cmpstr (index, ==, "3");
}

/* The restriction and the shape name the same property, the one create
 * writes, and the value goes in an attribute escaped. */
static void
test_request_find_by_local_identity (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request =
    agl_ews_request_find_item_by_local_identity (NULL, "id\"<&>'", &error);
  g_autoptr(xmlDoc) doc = parse_request (request);
  xmlNode *find = body_element (doc);
  xmlNode *props = agl_ews_xml_child_path (find, AGL_EWS_NS_MESSAGES, "ItemShape",
                                           AGL_EWS_NS_TYPES, "AdditionalProperties", NULL);
  xmlNode *equal = agl_ews_xml_child_path (find, AGL_EWS_NS_MESSAGES, "Restriction",
                                           AGL_EWS_NS_TYPES, "IsEqualTo", NULL);
  xmlNode *constant = agl_ews_xml_child_path (equal, AGL_EWS_NS_TYPES, "FieldURIOrConstant",
                                              AGL_EWS_NS_TYPES, "Constant", NULL);
  xmlNode *folder = agl_ews_xml_child_path (find, AGL_EWS_NS_MESSAGES, "ParentFolderIds",
                                            AGL_EWS_NS_TYPES, "DistinguishedFolderId", NULL);
  xmlNode *uris[2];
  g_autofree char *traversal = agl_ews_xml_attr (find, "Traversal");
  g_autofree char *base = agl_ews_xml_child_text (agl_ews_xml_first_child (find, AGL_EWS_NS_MESSAGES,
                                                                           "ItemShape"),
                                                  AGL_EWS_NS_TYPES, "BaseShape");
  g_autofree char *value = agl_ews_xml_attr (constant, "Value");
  g_autofree char *folder_id = agl_ews_xml_attr (folder, "Id");

  g_assert_no_error (error);
  g_assert_cmpstr (traversal, ==, "Shallow");
  g_assert_cmpstr (base, ==, "IdOnly");
  g_assert_null (agl_ews_xml_first_child (find, AGL_EWS_NS_MESSAGES, "CalendarView"));
  g_assert_cmpstr (folder_id, ==, "calendar");
  g_assert_cmpstr (value, ==, "id\"<&>'");
  uris[0] = agl_ews_xml_first_child (props, AGL_EWS_NS_TYPES, "ExtendedFieldURI");
  uris[1] = agl_ews_xml_first_child (equal, AGL_EWS_NS_TYPES, "ExtendedFieldURI");
  for (guint i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      g_autofree char *set = agl_ews_xml_attr (uris[i], "PropertySetId");
      g_autofree char *name = agl_ews_xml_attr (uris[i], "PropertyName");
      g_autofree char *type = agl_ews_xml_attr (uris[i], "PropertyType");

      g_assert_cmpstr (set, ==, AGL_EWS_PROPERTY_SET_ID);
      g_assert_cmpstr (name, ==, AGL_EWS_PROPERTY_LOCAL_ID);
      g_assert_cmpstr (type, ==, "String");
    }

  /* No identity, nothing to look for. */
  g_clear_pointer (&request, g_bytes_unref);
  request = agl_ews_request_find_item_by_local_identity (NULL, "", &error);
  g_assert_null (request);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
}

static void
test_request_escapes_text (void)
{
  const char *nasty = "</m:SyncState><m:Injected/>&amp;\"'";
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = agl_ews_request_sync_folder_items (NULL, nasty, 10, NULL, &error);
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  assert_valid (request);
  doc = parse_request (request);
  state = agl_ews_xml_child_text (body_element (doc), AGL_EWS_NS_MESSAGES, "SyncState");
  g_assert_cmpstr (state, ==, nasty);
  g_assert_null (agl_ews_xml_first_child (body_element (doc), AGL_EWS_NS_MESSAGES, "Injected"));
}

static void
test_request_find_item_dates_utc (void)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("+02:00");
  g_autoptr(GDateTime) start = g_date_time_new (tz, 2026, 3, 1, 2, 0, 0);
  g_autoptr(GDateTime) end = g_date_time_new (tz, 2026, 3, 2, 2, 0, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = agl_ews_request_find_item_calendar_view (NULL, start, end, 0,
                                                                        &error);
  g_autoptr(xmlDoc) doc = parse_request (request);
  xmlNode *view = agl_ews_xml_first_child (body_element (doc), AGL_EWS_NS_MESSAGES,
                                           "CalendarView");
  g_autofree char *start_text = agl_ews_xml_attr (view, "StartDate");
  g_autofree char *max = agl_ews_xml_attr (view, "MaxEntriesReturned");

  g_assert_cmpstr (start_text, ==, "2026-03-01T00:00:00Z");
  g_assert_null (max);
}

static void
test_request_autodiscover (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = agl_ews_request_autodiscover ("mara@contoso.com", &error);
  g_autoptr(xmlDoc) doc = NULL;
  xmlNode *root;
  xmlNode *req;
  g_autofree char *email = NULL;
  g_autofree char *schema_text = NULL;

  g_assert_no_error (error);
  doc = parse_request (request);
  root = xmlDocGetRootElement (doc);
  g_assert_true (agl_ews_xml_node_is (root, AGL_EWS_NS_AUTODISCOVER_REQUEST, "Autodiscover"));
  req = agl_ews_xml_first_child (root, AGL_EWS_NS_AUTODISCOVER_REQUEST, "Request");
  email = agl_ews_xml_child_text (req, AGL_EWS_NS_AUTODISCOVER_REQUEST, "EMailAddress");
  schema_text = agl_ews_xml_child_text (req, AGL_EWS_NS_AUTODISCOVER_REQUEST,
                                        "AcceptableResponseSchema");
  g_assert_cmpstr (email, ==, "mara@contoso.com");
  g_assert_cmpstr (schema_text, ==, AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE);
}

/* Refused before any XML is written */

/* A macro, so that the call is made before its error is looked at. */
#define assert_refused(call, error) \
  G_STMT_START { \
    GBytes *refused_ = (call); \
    g_assert_null (refused_); \
    g_assert_error ((error), AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT); \
  } G_STMT_END

static void
test_request_refuses_max_changes_513 (void)
{
  g_autoptr(GError) error = NULL;
  assert_refused (agl_ews_request_sync_folder_items (NULL, NULL, 513, NULL, &error), error);
  g_assert_nonnull (strstr (error->message, "513"));
  g_clear_error (&error);
  assert_refused (agl_ews_request_sync_folder_items (NULL, NULL, 0, NULL, &error), error);
}

static void
test_request_refuses_connection_timeout_31 (void)
{
  static const char * const ids[] = { "abc", NULL };
  g_autoptr(GError) error = NULL;

  assert_refused (agl_ews_request_get_streaming_events (NULL, ids, 31, &error), error);
  g_assert_nonnull (strstr (error->message, "31"));
  g_clear_error (&error);
  assert_refused (agl_ews_request_get_streaming_events (NULL, ids, 0, &error), error);
}

static void
test_request_refuses_bad_server_version (void)
{
  AglEwsRequestHeaders h = { "Exchange2013SP1", NULL, NULL };
  g_autoptr(GError) error = NULL;

  assert_refused (agl_ews_request_get_user_oof_settings (&h, "alice@example.org", &error), error);
  g_clear_error (&error);
  h.server_version = "auto";
  assert_refused (agl_ews_request_get_folder (&h, NULL, &error), error);
  g_assert_false (agl_ews_request_server_version_is_valid ("Exchange2019"));
  g_assert_true (agl_ews_request_server_version_is_valid ("Exchange2007_SP1"));
}

static void
test_request_refuses_bad_arguments (void)
{
  g_autoptr(GDateTime) t = g_date_time_new_utc (2026, 1, 1, 0, 0, 0);
  AglEwsItemIdRef bad_occurrence = { AGL_EWS_OCCURRENCE_ITEM_ID, "AAMk", NULL, 0 };
  g_autoptr(GError) error = NULL;

  assert_refused (agl_ews_request_find_item_calendar_view (NULL, t, t, 10, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_subscribe_pull (NULL, AGL_EWS_EVENT_CREATED, NULL, 1441,
                                                  &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_subscribe_streaming (NULL, 0, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_get_item (NULL, &bad_occurrence, 1, NULL, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_get_item (NULL, NULL, 0, NULL, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_create_item (NULL, AGL_EWS_SEND_ONLY_TO_CHANGED,
                                               write_calendar_item_cb, NULL, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_update_items (NULL, AGL_EWS_CONFLICT_NEVER_OVERWRITE,
                                                AGL_EWS_SEND_TO_NONE, NULL, 0, &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_update_item (NULL, AGL_EWS_CONFLICT_NEVER_OVERWRITE,
                                               AGL_EWS_SEND_TO_NONE, &some_ids[0], NULL, NULL,
                                               &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_unsubscribe (NULL, "bad\001id", &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_get_events (NULL, "id", "\xff\xfe", &error), error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_autodiscover ("", &error), error);
}

static void
test_request_version_gates (void)
{
  static const char * const ids[] = { "abc", NULL };
  AglEwsRequestHeaders ex2007_tz = { "Exchange2007_SP1", NULL, "W. Europe Standard Time" };
  AglEwsRequestHeaders ex2010 = { "Exchange2010", NULL, NULL };
  AglEwsRequestHeaders ex2010_sp1 = { "Exchange2010_SP1", NULL, "UTC" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) streaming = NULL;

  assert_refused (agl_ews_request_get_folder (&ex2007_tz, NULL, &error), error);
  g_assert_nonnull (strstr (error->message, "TimeZoneContext"));
  g_clear_error (&error);
  assert_refused (agl_ews_request_subscribe_streaming (&ex2010, AGL_EWS_EVENT_CREATED, &error),
                  error);
  g_clear_error (&error);
  assert_refused (agl_ews_request_get_streaming_events (&ex2010, ids, 10, &error), error);
  g_clear_error (&error);
  streaming = agl_ews_request_subscribe_streaming (&ex2010_sp1, AGL_EWS_EVENT_CREATED, &error);
  g_assert_no_error (error);
  assert_valid (streaming);
}

static void
test_request_get_item_exchange2007_fields (void)
{
  AglEwsRequestHeaders ex2007 = { "Exchange2007_SP1", NULL, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) request = agl_ews_request_get_item (&ex2007, some_ids, 1, NULL, &error);
  const char *text;

  g_assert_no_error (error);
  assert_valid (request);
  text = g_bytes_get_data (request, NULL);
  g_assert_nonnull (g_strstr_len (text, g_bytes_get_size (request), "\"calendar:TimeZone\""));
  g_assert_null (g_strstr_len (text, g_bytes_get_size (request), "calendar:StartTimeZone"));
}

static void
test_request_version_for_server (void)
{
  static const struct {
    int         major, minor, build;
    const char *expected;
  } cases[] = {
    { 8, 0, 685, NULL },                   /* Exchange 2007 RTM */
    { 8, 3, 83, "Exchange2007_SP1" },
    { 14, 0, 639, "Exchange2010" },
    { 14, 1, 218, "Exchange2010_SP1" },
    { 14, 2, 328, "Exchange2010_SP2" },
    { 14, 3, 123, "Exchange2010_SP2" },
    { 15, 0, 731, "Exchange2013" },
    { 15, 0, 847, "Exchange2013_SP1" },
    { 15, 1, 2507, "Exchange2016" },
    { 15, 2, 1118, "Exchange2016" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      AglEwsServerVersion v = { cases[i].major, cases[i].minor, cases[i].build, 0, NULL };

      g_assert_cmpstr (agl_ews_request_version_for_server (&v), ==, cases[i].expected);
    }
}

/* The validator itself: the kit's hand-made files decide */

static void
validate_dir (const char *subdir,
              gboolean    expect_valid)
{
  g_autofree char *dir_path = g_build_filename (kit_dir (), subdir, NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(xmlDoc) doc = NULL;
      g_autofree char *errors = NULL;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      path = g_build_filename (dir_path, name, NULL);
      doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
      g_assert_nonnull (doc);
      errors = validate_doc (doc);
      if (expect_valid && errors != NULL)
        g_error ("%s should validate: %s", name, errors);
      if (!expect_valid && errors == NULL)
        g_error ("%s should not validate", name);
      n++;
    }
  g_assert_cmpuint (n, >, 0);
}

static void
test_validator_accepts_handmade (void)
{
  validate_dir ("handmade", TRUE);
}

static void
test_validator_rejects_handmade_invalid (void)
{
  validate_dir ("handmade/invalid", FALSE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ews/request/validator/accepts-handmade", test_validator_accepts_handmade);
  g_test_add_func ("/ews/request/validator/rejects-handmade-invalid",
                   test_validator_rejects_handmade_invalid);
  for (guint op = 0; op < G_N_ELEMENTS (operations); op++)
    for (guint hs = 0; hs < G_N_ELEMENTS (header_sets); hs++)
      {
        ValidateCase *c = g_new (ValidateCase, 1);
        g_autofree char *path = NULL;

        c->operation = op;
        c->header_set = hs;
        path = g_strdup_printf ("/ews/request/validates/%s/%s", operations[op].name,
                                header_set_names[hs]);
        g_test_add_data_func_full (path, c, test_request_validates, g_free);
      }
  g_test_add_func ("/ews/request/meeting-flags-explicit", test_request_meeting_flags_explicit);
  g_test_add_func ("/ews/request/get-item/extended-property",
                   test_request_get_item_extended_property);
  g_test_add_func ("/ews/request/find-item/local-identity", test_request_find_by_local_identity);
  g_test_add_func ("/ews/request/escapes-text", test_request_escapes_text);
  g_test_add_func ("/ews/request/find-item/dates-in-utc", test_request_find_item_dates_utc);
  g_test_add_func ("/ews/request/autodiscover", test_request_autodiscover);
  g_test_add_func ("/ews/request/refuses/max-changes-513", test_request_refuses_max_changes_513);
  g_test_add_func ("/ews/request/refuses/connection-timeout-31",
                   test_request_refuses_connection_timeout_31);
  g_test_add_func ("/ews/request/refuses/bad-server-version",
                   test_request_refuses_bad_server_version);
  g_test_add_func ("/ews/request/refuses/bad-arguments", test_request_refuses_bad_arguments);
  g_test_add_func ("/ews/request/refuses/older-server-version", test_request_version_gates);
  g_test_add_func ("/ews/request/get-item/exchange2007-fields",
                   test_request_get_item_exchange2007_fields);
  g_test_add_func ("/ews/request/version-for-server", test_request_version_for_server);

  {
    int rc = g_test_run ();

    g_clear_pointer (&schema, xmlSchemaFree);
    return rc;
  }
}
