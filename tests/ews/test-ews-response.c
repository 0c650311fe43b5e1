/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "agl-ews-response.h"
#include "agl-ews-xml.h"

#define M AGL_EWS_NS_MESSAGES
#define T AGL_EWS_NS_TYPES

static const char *
kit_dir (void)
{
  const char *kit = g_getenv ("AGL_EWS_KIT");

  /* A missing kit is a failure, never a skip. */
  if (kit == NULL || !g_file_test (kit, G_FILE_TEST_IS_DIR))
    g_error ("AGL_EWS_KIT must name the EWS reference kit (shared/ews); it is “%s”",
             kit != NULL ? kit : "(unset)");
  return kit;
}

/* Fed in small uneven chunks, as a network would deliver it, so every
 * sample also goes through the push parser's chunk boundaries. */
static xmlDoc *
parse_chunked (const char *data,
               gsize       len,
               gsize       chunk)
{
  g_autoptr(AglEwsParser) parser = agl_ews_parser_new (0);
  g_autoptr(GError) error = NULL;
  xmlDoc *doc;

  for (gsize off = 0; off < len; off += chunk)
    {
      agl_ews_parser_feed (parser, data + off, MIN (chunk, len - off), &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (agl_ews_parser_get_bytes_fed (parser), ==, len);
  doc = agl_ews_parser_finish (parser, &error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

static xmlDoc *
load_sample (const char *name)
{
  g_autofree char *path = g_build_filename (kit_dir (), "samples", name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return parse_chunked (contents, len, 13);
}

static xmlDoc *
parse_string (const char *xml)
{
  return parse_chunked (xml, strlen (xml), 4096);
}

static void
assert_server_version (xmlDoc     *doc,
                       int         major,
                       int         minor,
                       int         major_build,
                       int         minor_build,
                       const char *version)
{
  AglEwsServerVersion v;

  g_assert_true (agl_ews_xml_read_server_version (doc, &v));
  g_assert_cmpint (v.major_version, ==, major);
  g_assert_cmpint (v.minor_version, ==, minor);
  g_assert_cmpint (v.major_build, ==, major_build);
  g_assert_cmpint (v.minor_build, ==, minor_build);
  g_assert_cmpstr (v.version, ==, version);
  agl_ews_server_version_clear (&v);
}

static void
assert_date_time (GDateTime  *dt,
                  const char *expected_utc)
{
  g_autofree char *text = NULL;

  g_assert_nonnull (dt);
  text = g_date_time_format_iso8601 (dt);
  g_assert_cmpstr (text, ==, expected_utc);
}

static AglEwsItemResult *
item_at (GPtrArray *results,
         guint      i)
{
  g_assert_cmpuint (i, <, results->len);
  return g_ptr_array_index (results, i);
}

/* Samples: one check per response file of the kit */

static void
check_soapfault_schema_validation (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = agl_ews_response_read_messages (doc, "CreateFolder", &error);
  AglEwsServerVersion v;
  AglEwsFault fault;
  xmlNode *fault_node;

  g_assert_null (messages);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SCHEMA_VALIDATION);
  g_assert_true (g_str_has_prefix (error->message, "ErrorSchemaValidation: The request failed "
                                                   "schema validation: The 'Id' attribute"));
  g_assert_true (g_str_has_suffix (error->message, "(line 2, position 630)"));
  g_assert_false (agl_ews_xml_read_server_version (doc, &v));

  fault_node = agl_ews_xml_child_path (xmlDocGetRootElement (doc),
                                       AGL_EWS_NS_SOAP, "Body", AGL_EWS_NS_SOAP, "Fault", NULL);
  agl_ews_fault_read (fault_node, &fault);
  g_assert_cmpstr (fault.response_code, ==, "ErrorSchemaValidation");
  g_assert_cmpstr (fault.faultcode, ==, "a:ErrorSchemaValidation");
  g_assert_cmpstr (fault.message, ==, "The request failed schema validation.");
  g_assert_cmpint (fault.line_number, ==, 2);
  g_assert_cmpint (fault.line_position, ==, 630);
  g_assert_true (g_str_has_prefix (fault.violation, "The 'Id' attribute is invalid - The value "
                                                    "'invalidparentid' is invalid"));
  agl_ews_fault_clear (&fault);
}

static void
check_getfolder_calendar (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsFolderInfo) info = agl_ews_response_read_get_folder (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (info->folder_id, ==, "AAMk");
  g_assert_cmpstr (info->change_key, ==, "AgAA");
  g_assert_cmpint (info->total_count, ==, -1);
  assert_server_version (doc, 15, 0, 731, 10, "V2_3");
}

static void
check_getfolder_item_not_found (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsFolderInfo) info = agl_ews_response_read_get_folder (doc, &error);

  g_assert_null (info);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND);
  g_assert_cmpstr (error->message, ==,
                   "ErrorItemNotFound: The specified object was not found in the store.");
  g_assert_false (agl_ews_error_is_transient (error));
  assert_server_version (doc, 14, 2, 328, 9, "Exchange2010_SP2");
}

static void
check_getfolder_noerror_real (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsFolderInfo) info = agl_ews_response_read_get_folder (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (info->folder_id, ==,
                   "AAMkADhhNjgxMWMwLWFjMjAtNGMxYi1iMmVkLTYxN2ZjZjg0NjYxMwAuAAAAAABrjnF0sj+sSounzj9"
                   "c5qzwAQBPRrS+NgN2TLdvauFC2S+xAACqkvK4AAA=");
  g_assert_cmpstr (info->change_key, ==, "AQAAABYAAABPRrS+NgN2TLdvauFC2S+xAACqkvK6");
  assert_server_version (doc, 14, 2, 328, 9, "Exchange2010_SP2");
}

static void
check_sync_initial (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsSyncResult) sync = agl_ews_response_read_sync_folder_items (doc, &error);
  AglEwsSyncChange *first;

  g_assert_no_error (error);
  g_assert_cmpstr (sync->sync_state, ==, "H4sIAAA==");
  g_assert_true (sync->includes_last_item_in_range);
  g_assert_cmpuint (sync->changes->len, ==, 5);
  for (guint i = 0; i < sync->changes->len; i++)
    g_assert_cmpint (((AglEwsSyncChange *) g_ptr_array_index (sync->changes, i))->kind, ==,
                     AGL_EWS_SYNC_CREATE);
  first = g_ptr_array_index (sync->changes, 0);
  g_assert_cmpstr (first->item_id, ==, "q04QAAAA==");
  g_assert_cmpstr (first->change_key, ==, "CQAAABYAAABhFfgM7MNwSYx0VZ0GoBMJAAAATVdC");
  g_assert_cmpstr (first->element_name, ==, "Message");
  g_assert_cmpstr (((AglEwsSyncChange *) g_ptr_array_index (sync->changes, 4))->change_key, ==,
                   "CQAAABYAAABhFfgM7MNwSYx0VZ0GoBMJAAAATVc4");
  assert_server_version (doc, 15, 0, 785, 6, "V2_6");
}

static void
check_sync_update_create_delete (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsSyncResult) sync = agl_ews_response_read_sync_folder_items (doc, &error);
  AglEwsSyncChange *c;
  guint n[3] = { 0, 0, 0 };

  g_assert_no_error (error);
  g_assert_cmpstr (sync->sync_state, ==, "H4sIAAAAAAAEAO29B2AcSZY==");
  g_assert_true (sync->includes_last_item_in_range);
  /* Update, Create, Create, ReadFlagChange (left out), Delete. */
  g_assert_cmpuint (sync->changes->len, ==, 4);
  for (guint i = 0; i < sync->changes->len; i++)
    n[((AglEwsSyncChange *) g_ptr_array_index (sync->changes, i))->kind]++;
  g_assert_cmpuint (n[AGL_EWS_SYNC_CREATE], ==, 2);
  g_assert_cmpuint (n[AGL_EWS_SYNC_UPDATE], ==, 1);
  g_assert_cmpuint (n[AGL_EWS_SYNC_DELETE], ==, 1);

  c = g_ptr_array_index (sync->changes, 0);
  g_assert_cmpint (c->kind, ==, AGL_EWS_SYNC_UPDATE);
  g_assert_cmpstr (c->item_id, ==, "q04QAAAA==");
  g_assert_cmpstr (c->change_key, ==, "CQAAABYAAADZGACZQpSgSpyNkexYe2b7AAAAird/");
  g_assert_cmpstr (c->item_class, ==, "IPM.Note");
  c = g_ptr_array_index (sync->changes, 1);
  g_assert_cmpstr (c->item_id, ==, "AQMkAD+");
  g_assert_null (c->change_key);
  c = g_ptr_array_index (sync->changes, 2);
  g_assert_cmpstr (c->item_id, ==, "Q04AAAAA==");
  g_assert_cmpstr (c->change_key, ==, "AAAirbnd");
  c = g_ptr_array_index (sync->changes, 3);
  g_assert_cmpint (c->kind, ==, AGL_EWS_SYNC_DELETE);
  g_assert_cmpstr (c->item_id, ==, " q1AwAAAA==");   /* kept as sent */
  g_assert_null (c->element_name);
  assert_server_version (doc, 15, 0, 731, 10, "V2_3");
}

static void
check_create_batch (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_create_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      AglEwsItemResult *r = item_at (results, i);

      g_assert_no_error (r->error);
      g_assert_cmpstr (r->item_id, ==, "AAMkA");
      g_assert_cmpstr (r->change_key, ==, "DwAAA");
      g_assert_cmpstr (r->element_name, ==, "CalendarItem");
      g_assert_null (r->item);
    }
  assert_server_version (doc, 15, 0, 847, 12, "V2_8");
}

static void
check_create_ex2007 (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_create_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "AAAlAFV");
  g_assert_cmpstr (item_at (results, 0)->change_key, ==, "DwAAABYA");
  /* Exchange 2007 sends no Version attribute. */
  assert_server_version (doc, 8, 0, 685, 8, NULL);
}

static void
check_create_recurring (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_create_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "AAMkAD");
  g_assert_cmpstr (item_at (results, 0)->change_key, ==, "DwAAAB");
  assert_server_version (doc, 15, 0, 893, 10, "V2_10");
}

static void
check_delete_appointment (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_delete_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_no_error (item_at (results, 0)->error);
  assert_server_version (doc, 15, 0, 800, 5, "V2_6");
}

static void
check_delete_batch (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_delete_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_no_error (item_at (results, i)->error);
  assert_server_version (doc, 15, 0, 859, 13, "V2_8");
}

static void
check_update_appointment (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_update_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "AAMkA");
  g_assert_cmpstr (item_at (results, 0)->change_key, ==, "DwAAA");
  g_assert_cmpint (item_at (results, 0)->conflict_count, ==, 0);
  assert_server_version (doc, 15, 0, 815, 6, "V2_7");
}

static void
check_update_ex2007 (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_update_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "AAAtAEFkbW...");
  g_assert_cmpstr (item_at (results, 0)->change_key, ==, "CQAAABYAAA...");
  g_assert_cmpstr (item_at (results, 0)->element_name, ==, "Message");
  g_assert_cmpint (item_at (results, 0)->conflict_count, ==, -1);
  assert_server_version (doc, 8, 0, 664, 0, NULL);
}

static void
check_oof_duration (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsOofSettings) oof = agl_ews_response_read_get_user_oof_settings (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpint (oof->state, ==, AGL_EWS_OOF_DISABLED);
  g_assert_cmpstr (oof->external_audience, ==, "All");
  assert_date_time (oof->start, "2006-11-03T23:00:00Z");
  assert_date_time (oof->end, "2006-11-04T23:00:00Z");
  g_assert_cmpstr (oof->internal_reply, ==, "I am out of office. This is my internal reply.");
  g_assert_cmpstr (oof->external_reply, ==, "I am out of office. This is my external reply.");
  assert_server_version (doc, 8, 0, 685, 8, NULL);
}

static void
check_subscribe_affinity (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsSubscription) sub = agl_ews_response_read_subscribe (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (sub->subscription_id, ==,
                   "JgBjbzFwcjA2bWIyMjIubmFtcHJkMDYucHJvZC5vdXRsb29rLmNvbRAAAAAUeGk+7JFdSaFM8/NI/"
                   "gQQpVdgZX6H0Ag=");
  g_assert_null (sub->watermark);
  assert_server_version (doc, 15, 0, 775, 7, "V2_4");
}

#define STREAM_SUBSCRIPTION_ID \
  "JgBibjFwcjAzbWIyMDIubmFtcHJkMDMucHJvZC5vdXRsb29rLmNvbRAAAADwXxVesOnHS5BxUHKwAW88SHjwd1iB0Ag="

static void
check_subscribe_streaming (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsSubscription) sub = agl_ews_response_read_subscribe (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (sub->subscription_id, ==, STREAM_SUBSCRIPTION_ID);
  assert_server_version (doc, 15, 0, 785, 6, "V2_6");
}

static void
check_streaming_events (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsStreamingEvents) events =
    agl_ews_response_read_get_streaming_events (doc, &error);
  AglEwsNotification *n;
  AglEwsEvent *e;

  g_assert_no_error (error);
  g_assert_cmpint (events->connection_status, ==, AGL_EWS_CONNECTION_STATUS_NONE);
  g_assert_null (events->error_subscription_ids);
  /* The server's m:Notification, not the schema's t:Notification. */
  g_assert_cmpuint (events->notifications->len, ==, 1);
  n = g_ptr_array_index (events->notifications, 0);
  g_assert_cmpstr (n->subscription_id, ==, STREAM_SUBSCRIPTION_ID);
  g_assert_cmpuint (n->events->len, ==, 3);

  e = g_ptr_array_index (n->events, 0);
  g_assert_cmpint (e->kind, ==, AGL_EWS_EVENT_KIND_CREATED);
  assert_date_time (e->timestamp, "2013-09-16T04:31:29Z");
  g_assert_false (e->is_folder);
  g_assert_cmpstr (e->id, ==,
                   "AAMkADkzNjJjODUzLWZhMDMtNDVkMS05ZDdjLWVmMDlkYjQ1Zjc4MwBGAAAAAABSSWVKrmGUTJE+"
                   "MVIvofglBwDZGACZQpSgSpyNkexYe2b7AAAAAAENAADZGACZQpSgSpyNkexYe2b7AAANGFYwAAA=");
  g_assert_cmpstr (e->change_key, ==, "CQAAAA==");
  g_assert_cmpstr (e->parent_folder_id, ==,
                   "AQMkADkzNjJjODUzLWZhMDMtNDVkMS05ZDdjLWVmMDlkYjQ1Zjc4MwAuAAADUkllSq5hlEyRPjFSL6"
                   "H4JQEA2RgAmUKUoEqcjZHsWHtm+wAAAgENAAAA");
  g_assert_null (e->old_id);
  g_assert_null (e->watermark);

  e = g_ptr_array_index (n->events, 1);
  g_assert_cmpint (e->kind, ==, AGL_EWS_EVENT_KIND_NEW_MAIL);

  e = g_ptr_array_index (n->events, 2);
  g_assert_cmpint (e->kind, ==, AGL_EWS_EVENT_KIND_MODIFIED);
  g_assert_true (e->is_folder);
  g_assert_cmpstr (e->id, ==,
                   "AQMkADkzNjJjODUzLWZhMDMtNDVkMS05ZDdjLWVmMDlkYjQ1Zjc4MwAuAAADUkllSq5hlEyRPjFSL6"
                   "H4JQEA2RgAmUKUoEqcjZHsWHtm+wAAAgENAAAA");
  g_assert_true (g_str_has_suffix (e->parent_folder_id, "AAAgEJAAAA"));
  assert_server_version (doc, 15, 0, 785, 6, "V2_6");
}

static void
check_autodiscover_ewsurl (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsAutodiscover) ad = agl_ews_response_read_autodiscover (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpint (ad->action, ==, AGL_EWS_AUTODISCOVER_SETTINGS);
  g_assert_cmpstr (ad->ews_url, ==, "https://mail.contoso.com/EWS/Exchange.asmx");
  g_assert_cmpstr (ad->display_name, ==, "Mara Whitley");
  g_assert_cmpstr (ad->smtp_address, ==, "mara@contoso.com");
  g_assert_null (ad->redirect);
}

static char *
item_text (AglEwsItemResult *r,
           const char       *name)
{
  g_assert_nonnull (r->item);
  return agl_ews_xml_child_text (xmlDocGetRootElement (r->item), T, name);
}

static void
check_getitem_batch (xmlDoc *doc)
{
  static const char * const subjects[] = {
    "Review current quarterly deliverables", "Food bank delivery", "Code Blast",
  };
  static const char * const types[] = { "Single", "RecurringMaster", "Single" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_get_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      AglEwsItemResult *r = item_at (results, i);
      g_autofree char *subject = item_text (r, "Subject");
      g_autofree char *type = item_text (r, "CalendarItemType");

      g_assert_no_error (r->error);
      g_assert_cmpstr (r->element_name, ==, "CalendarItem");
      g_assert_true (agl_ews_xml_node_is (xmlDocGetRootElement (r->item), T, "CalendarItem"));
      g_assert_cmpstr (subject, ==, subjects[i]);
      g_assert_cmpstr (type, ==, types[i]);
    }
  {
    g_autofree char *start = item_text (item_at (results, 2), "Start");
    g_autofree char *location = item_text (item_at (results, 2), "Location");

    g_assert_cmpstr (start, ==, "2014-01-20T18:59:08Z");
    g_assert_cmpstr (location, ==, "The lounge");
  }
  assert_server_version (doc, 15, 0, 847, 16, "V2_8");
}

static void
check_getitem_full (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_get_item (doc, &error);
  AglEwsItemResult *r;
  g_autofree char *busy = NULL;
  g_autofree char *tz = NULL;
  g_autofree char *duration = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  r = item_at (results, 0);
  g_assert_cmpstr (r->item_id, ==, "ASUAdT");
  g_assert_cmpstr (r->change_key, ==, "otlIqB==");
  busy = item_text (r, "LegacyFreeBusyStatus");
  tz = item_text (r, "TimeZone");
  duration = item_text (r, "Duration");
  g_assert_cmpstr (busy, ==, "Busy");
  g_assert_cmpstr (tz, ==, "Pacific Standard Time");
  g_assert_cmpstr (duration, ==, "PT30M");
  assert_server_version (doc, 8, 0, 602, 0, NULL);
}

static void
check_getitem_recurring_master (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_get_item (doc, &error);
  AglEwsItemResult *r;
  xmlNode *weekly;
  g_autofree char *days = NULL;
  g_autofree char *count = NULL;

  g_assert_no_error (error);
  r = item_at (results, 0);
  g_assert_cmpstr (r->item_id, ==, "AAMkAD");
  g_assert_cmpstr (r->change_key, ==, "DwAAAB");
  weekly = agl_ews_xml_child_path (xmlDocGetRootElement (r->item), T, "Recurrence",
                                   T, "WeeklyRecurrence", NULL);
  days = agl_ews_xml_child_text (weekly, T, "DaysOfWeek");
  g_assert_cmpstr (days, ==, "Saturday");
  count = agl_ews_xml_child_text (agl_ews_xml_child_path (xmlDocGetRootElement (r->item),
                                                          T, "Recurrence",
                                                          T, "NumberedRecurrence", NULL),
                                  T, "NumberOfOccurrences");
  g_assert_cmpstr (count, ==, "10");
  assert_server_version (doc, 15, 0, 893, 10, "V2_10");
}

static void
check_finditem_calendar_view (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsCalendarView) view = agl_ews_response_read_find_item_calendar_view (doc, &error);
  AglEwsCalendarViewItem *first;
  AglEwsCalendarViewItem *last;

  g_assert_no_error (error);
  g_assert_cmpint (view->total_items_in_view, ==, 33);
  g_assert_false (view->includes_last_item_in_range);
  g_assert_cmpuint (view->items->len, ==, 5);
  first = g_ptr_array_index (view->items, 0);
  g_assert_cmpstr (first->item_id, ==, "AAMk");
  g_assert_cmpstr (first->change_key, ==, "DwAA");
  g_assert_cmpstr (first->subject, ==, "Contoso devs team meeting");
  assert_date_time (first->start, "2013-08-21T19:30:00Z");
  assert_date_time (first->end, "2013-08-21T20:00:00Z");
  g_assert_null (first->legacy_free_busy_status);
  last = g_ptr_array_index (view->items, 4);
  g_assert_cmpstr (last->item_id, ==, "AAMkA");
  g_assert_cmpstr (last->subject, ==, "Online training webcast");
  assert_server_version (doc, 15, 0, 731, 10, "V2_3");
}

static void
check_getservertimezones (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = agl_ews_response_read_messages (doc, "GetServerTimeZones",
                                                                  &error);
  AglEwsResponseMessage *m;
  xmlNode *tz;
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  m = g_ptr_array_index (messages, 0);
  g_assert_cmpint (m->response_class, ==, AGL_EWS_RESPONSE_CLASS_SUCCESS);
  g_assert_cmpint (m->code, ==, AGL_EWS_ERROR_NO_ERROR);
  tz = agl_ews_xml_child_path (m->node, M, "TimeZoneDefinitions", T, "TimeZoneDefinition", NULL);
  id = agl_ews_xml_attr (tz, "Id");
  g_assert_cmpstr (id, ==, "Eastern Standard Time");
  assert_server_version (doc, 14, 0, 639, 11, "Exchange2010");
}

static void
check_resolvenames (xmlDoc *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = agl_ews_response_read_messages (doc, "ResolveNames", &error);
  AglEwsResponseMessage *m;
  g_autofree char *total = NULL;
  g_autofree char *email = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 1);
  m = g_ptr_array_index (messages, 0);
  g_assert_cmpstr (m->code_name, ==, "NoError");
  total = agl_ews_xml_attr (agl_ews_xml_first_child (m->node, M, "ResolutionSet"),
                            "TotalItemsInView");
  g_assert_cmpstr (total, ==, "1");
  email = agl_ews_xml_child_text (agl_ews_xml_child_path (m->node, M, "ResolutionSet",
                                                          T, "Resolution", T, "Mailbox", NULL),
                                  T, "EmailAddress");
  g_assert_cmpstr (email, ==, "User2@example.com");
  assert_server_version (doc, 8, 0, 685, 8, NULL);
}

typedef void (*CheckFunc) (xmlDoc *doc);

static const struct {
  const char *file;
  CheckFunc   check;
} response_samples[] = {
  { "soapfault-errorschemavalidation-real-ex2010sp2.xml", check_soapfault_schema_validation },
  { "getfolder-response-calendar-msdoc-ex2013.xml", check_getfolder_calendar },
  { "getfolder-response-erroritemnotfound-real-ex2010sp2.xml", check_getfolder_item_not_found },
  { "getfolder-response-noerror-real-ex2010sp2.xml", check_getfolder_noerror_real },
  { "syncfolderitems-response-initial-msdoc-ex2013.xml", check_sync_initial },
  { "syncfolderitems-response-update-create-delete-msdoc-ex2013.xml",
    check_sync_update_create_delete },
  { "createitem-response-batch-changekeys-msdoc-ex2013.xml", check_create_batch },
  { "createitem-response-calendaritem-msdoc-ex2007.xml", check_create_ex2007 },
  { "createitem-response-recurring-msdoc-ex2013.xml", check_create_recurring },
  { "deleteitem-response-appointment-msdoc-ex2013.xml", check_delete_appointment },
  { "deleteitem-response-batch-calendar-msdoc-ex2013.xml", check_delete_batch },
  { "updateitem-response-appointment-msdoc-ex2013.xml", check_update_appointment },
  { "updateitem-response-msdoc-ex2007.xml", check_update_ex2007 },
  { "getuseroofsettings-response-duration-msdoc-ex2007.xml", check_oof_duration },
  { "subscribe-streaming-affinity-response-msdoc-exo.xml", check_subscribe_affinity },
  { "subscribe-streaming-response-msdoc-ex2013.xml", check_subscribe_streaming },
  { "getstreamingevents-response-created-modified-msdoc-ex2013.xml", check_streaming_events },
  { "autodiscover-pox-response-ewsurl-msdoc.xml", check_autodiscover_ewsurl },
  { "getitem-response-batch-calendar-msdoc-ex2013.xml", check_getitem_batch },
  { "getitem-response-calendaritem-full-msdoc-ex2007.xml", check_getitem_full },
  { "getitem-response-recurring-master-msdoc-ex2013.xml", check_getitem_recurring_master },
  { "finditem-calendarview-response-msdoc-ex2013.xml", check_finditem_calendar_view },
  { "getservertimezones-response-tzdefinition-msdoc-ex2010.xml", check_getservertimezones },
  { "resolvenames-response-msdoc-ex2007.xml", check_resolvenames },
};

static void
test_sample (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autoptr(xmlDoc) doc = load_sample (response_samples[i].file);

  response_samples[i].check (doc);
}

/* Every file of samples/ is either checked above or a request, and every
 * request is well-formed under the same safe parser. */
static void
test_samples_all_covered (void)
{
  g_autofree char *dir_path = g_build_filename (kit_dir (), "samples", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint requests = 0;
  guint responses = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gboolean known = FALSE;

      if (!g_str_has_suffix (name, ".xml"))
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (response_samples); i++)
        known |= g_str_equal (name, response_samples[i].file);
      if (known)
        responses++;
      else if (strstr (name, "-request-") != NULL)
        {
          g_autoptr(xmlDoc) doc = load_sample (name);
          xmlNode *root = xmlDocGetRootElement (doc);

          g_assert_true (agl_ews_xml_node_is (root, AGL_EWS_NS_SOAP, "Envelope") ||
                         agl_ews_xml_node_is (root, AGL_EWS_NS_AUTODISCOVER_REQUEST,
                                              "Autodiscover"));
          requests++;
        }
      else
        g_error ("sample %s is neither checked nor a request", name);
    }
  g_assert_cmpuint (responses, ==, G_N_ELEMENTS (response_samples));
  g_assert_cmpuint (requests, ==, 20);
}

/* Shapes the kit has no capture of, written by hand from the schemas
 * (messages.xsd, types.xsd) and Microsoft's ResponseCode reference. */

#define ENVELOPE_START \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
#define ENVELOPE_END "</s:Body></s:Envelope>"
#define MT_NS \
  " xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"" \
  " xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\""

static void
test_handmade_getitem_per_item_error (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:GetItemResponse" MT_NS "><m:ResponseMessages>"
    "<m:GetItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "<m:Items><t:CalendarItem><t:ItemId Id=\"A1\" ChangeKey=\"K1\"/><t:Subject>x</t:Subject>"
    "</t:CalendarItem></m:Items></m:GetItemResponseMessage>"
    "<m:GetItemResponseMessage ResponseClass=\"Error\">"
    "<m:MessageText>The specified object was not found in the store.</m:MessageText>"
    "<m:ResponseCode>ErrorItemNotFound</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
    "<m:Items/></m:GetItemResponseMessage>"
    "<m:GetItemResponseMessage ResponseClass=\"Error\">"
    "<m:ResponseCode>ErrorFromTheFuture</m:ResponseCode><m:Items/></m:GetItemResponseMessage>"
    "</m:ResponseMessages></m:GetItemResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_get_item (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  g_assert_no_error (item_at (results, 0)->error);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "A1");
  g_assert_error (item_at (results, 1)->error, AGL_EWS_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND);
  g_assert_null (item_at (results, 1)->item);
  g_assert_error (item_at (results, 2)->error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_assert_true (g_str_has_prefix (item_at (results, 2)->error->message, "ErrorFromTheFuture"));
}

/* An indexed FindItem of the calendar, IdOnly + Agendaline's property:
 * every item element is read, whatever its kind, with a copy of it. */
static void
test_handmade_find_item_items (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:FindItemResponse" MT_NS "><m:ResponseMessages>"
    "<m:FindItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "<m:RootFolder IndexedPagingOffset=\"2\" TotalItemsInView=\"2\" IncludesLastItemInRange=\"true\">"
    "<t:Items><t:CalendarItem><t:ItemId Id=\"A1\" ChangeKey=\"K1\"/><t:ExtendedProperty>"
    "<t:ExtendedFieldURI PropertySetId=\"86dc477f-65a3-4bc8-99a6-47a3f13320bd\" "
    "PropertyName=\"AgendalineLocalId\" PropertyType=\"String\"/><t:Value>local-1</t:Value>"
    "</t:ExtendedProperty></t:CalendarItem>"
    "<t:MeetingRequest><t:ItemId Id=\"M1\" ChangeKey=\"K2\"/></t:MeetingRequest>"
    "</t:Items></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages>"
    "</m:FindItemResponse>" ENVELOPE_END);
  g_autoptr(xmlDoc) no_id = parse_string (
    ENVELOPE_START "<m:FindItemResponse" MT_NS "><m:ResponseMessages>"
    "<m:FindItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "<m:RootFolder TotalItemsInView=\"1\" IncludesLastItemInRange=\"true\">"
    "<t:Items><t:CalendarItem><t:Subject>?</t:Subject></t:CalendarItem></t:Items>"
    "</m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages>"
    "</m:FindItemResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_find_item (doc, &error);
  g_autoptr(GPtrArray) refused = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpstr (item_at (results, 0)->item_id, ==, "A1");
  g_assert_cmpstr (item_at (results, 0)->change_key, ==, "K1");
  g_assert_cmpstr (item_at (results, 0)->element_name, ==, "CalendarItem");
  g_assert_nonnull (item_at (results, 0)->item);
  g_assert_cmpstr ((const char *) xmlDocGetRootElement (item_at (results, 0)->item)->children->next->name,
                   ==, "ExtendedProperty");
  g_assert_cmpstr (item_at (results, 1)->item_id, ==, "M1");
  g_assert_cmpstr (item_at (results, 1)->element_name, ==, "MeetingRequest");

  refused = agl_ews_response_read_find_item (no_id, &error);
  g_assert_null (refused);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
}

static void
test_handmade_update_conflict (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:UpdateItemResponse" MT_NS "><m:ResponseMessages>"
    "<m:UpdateItemResponseMessage ResponseClass=\"Error\">"
    "<m:MessageText>An irresolvable conflict was detected.</m:MessageText>"
    "<m:ResponseCode>ErrorIrresolvableConflict</m:ResponseCode>"
    "<m:Items/><m:ConflictResults><t:Count>1</t:Count></m:ConflictResults>"
    "</m:UpdateItemResponseMessage></m:ResponseMessages></m:UpdateItemResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_update_item (doc, &error);

  g_assert_no_error (error);
  g_assert_error (item_at (results, 0)->error, AGL_EWS_ERROR,
                  AGL_EWS_ERROR_IRRESOLVABLE_CONFLICT);
  g_assert_cmpint (item_at (results, 0)->conflict_count, ==, 1);
}

static void
test_handmade_warning_is_success (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:DeleteItemResponse" MT_NS "><m:ResponseMessages>"
    "<m:DeleteItemResponseMessage ResponseClass=\"Warning\">"
    "<m:MessageText>Processing stopped.</m:MessageText>"
    "<m:ResponseCode>ErrorBatchProcessingStopped</m:ResponseCode>"
    "</m:DeleteItemResponseMessage></m:ResponseMessages></m:DeleteItemResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = agl_ews_response_read_delete_item (doc, &error);

  g_assert_no_error (error);
  g_assert_no_error (item_at (results, 0)->error);
}

static void
test_handmade_streaming_closed_schema_form (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:GetStreamingEventsResponse" MT_NS "><m:ResponseMessages>"
    "<m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">"
    "<m:ResponseCode>NoError</m:ResponseCode><m:Notifications><t:Notification>"
    "<t:SubscriptionId>S1</t:SubscriptionId>"
    "<t:DeletedEvent><t:TimeStamp>2026-01-05T10:00:00Z</t:TimeStamp>"
    "<t:ItemId Id=\"I1\" ChangeKey=\"C1\"/><t:ParentFolderId Id=\"F1\"/></t:DeletedEvent>"
    "<t:MovedEvent><t:TimeStamp>2026-01-05T10:00:01Z</t:TimeStamp><t:ItemId Id=\"I3\"/>"
    "<t:ParentFolderId Id=\"F2\"/><t:OldItemId Id=\"I2\"/><t:OldParentFolderId Id=\"F1\"/>"
    "</t:MovedEvent></t:Notification></m:Notifications>"
    "<m:ConnectionStatus>Closed</m:ConnectionStatus>"
    "</m:GetStreamingEventsResponseMessage></m:ResponseMessages>"
    "</m:GetStreamingEventsResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsStreamingEvents) events = agl_ews_response_read_get_streaming_events (doc,
                                                                                        &error);
  AglEwsNotification *n;
  AglEwsEvent *moved;

  g_assert_no_error (error);
  g_assert_cmpint (events->connection_status, ==, AGL_EWS_CONNECTION_STATUS_CLOSED);
  n = g_ptr_array_index (events->notifications, 0);
  g_assert_cmpstr (n->subscription_id, ==, "S1");
  g_assert_cmpuint (n->events->len, ==, 2);
  g_assert_cmpint (((AglEwsEvent *) g_ptr_array_index (n->events, 0))->kind, ==,
                   AGL_EWS_EVENT_KIND_DELETED);
  moved = g_ptr_array_index (n->events, 1);
  g_assert_cmpint (moved->kind, ==, AGL_EWS_EVENT_KIND_MOVED);
  g_assert_cmpstr (moved->id, ==, "I3");
  g_assert_cmpstr (moved->old_id, ==, "I2");
  g_assert_cmpstr (moved->old_parent_folder_id, ==, "F1");
}

static void
test_handmade_get_events_more (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<m:GetEventsResponse" MT_NS "><m:ResponseMessages>"
    "<m:GetEventsResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "<m:Notification><t:SubscriptionId>P1</t:SubscriptionId>"
    "<t:PreviousWatermark>W0</t:PreviousWatermark><t:MoreEvents>true</t:MoreEvents>"
    "<t:StatusEvent><t:Watermark>W1</t:Watermark></t:StatusEvent>"
    "<t:CreatedEvent><t:Watermark>W2</t:Watermark><t:TimeStamp>2026-01-05T10:00:00Z</t:TimeStamp>"
    "<t:ItemId Id=\"I1\" ChangeKey=\"C1\"/><t:ParentFolderId Id=\"F1\"/></t:CreatedEvent>"
    "</m:Notification></m:GetEventsResponseMessage></m:ResponseMessages>"
    "</m:GetEventsResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsNotification) n = agl_ews_response_read_get_events (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (n->subscription_id, ==, "P1");
  g_assert_cmpstr (n->previous_watermark, ==, "W0");
  g_assert_true (n->more_events);
  g_assert_cmpuint (n->events->len, ==, 2);
  g_assert_cmpint (((AglEwsEvent *) g_ptr_array_index (n->events, 0))->kind, ==,
                   AGL_EWS_EVENT_KIND_STATUS);
  g_assert_cmpstr (((AglEwsEvent *) g_ptr_array_index (n->events, 1))->watermark, ==, "W2");
}

static void
test_handmade_unsubscribe (void)
{
  g_autoptr(xmlDoc) ok = parse_string (
    ENVELOPE_START "<m:UnsubscribeResponse" MT_NS "><m:ResponseMessages>"
    "<m:UnsubscribeResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "</m:UnsubscribeResponseMessage></m:ResponseMessages></m:UnsubscribeResponse>" ENVELOPE_END);
  g_autoptr(xmlDoc) wrong = parse_string (
    ENVELOPE_START "<m:SubscribeResponse" MT_NS "><m:ResponseMessages>"
    "<m:SubscribeResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "</m:SubscribeResponseMessage></m:ResponseMessages></m:SubscribeResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_ews_response_read_unsubscribe (ok, &error));
  g_assert_no_error (error);
  g_assert_false (agl_ews_response_read_unsubscribe (wrong, &error));
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
}

static void
test_handmade_oof_scheduled (void)
{
  g_autoptr(xmlDoc) doc = parse_string (
    ENVELOPE_START "<GetUserOofSettingsResponse "
    "xmlns=\"http://schemas.microsoft.com/exchange/services/2006/messages\">"
    "<ResponseMessage ResponseClass=\"Success\"><ResponseCode>NoError</ResponseCode></ResponseMessage>"
    "<OofSettings xmlns=\"http://schemas.microsoft.com/exchange/services/2006/types\">"
    "<OofState>Scheduled</OofState><ExternalAudience>Known</ExternalAudience>"
    "<Duration><StartTime>2026-07-01T07:00:00Z</StartTime><EndTime>2026-07-20T16:00:00Z</EndTime>"
    "</Duration><InternalReply><Message>Away</Message></InternalReply>"
    "<ExternalReply><Message/></ExternalReply></OofSettings>"
    "</GetUserOofSettingsResponse>" ENVELOPE_END);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsOofSettings) oof = agl_ews_response_read_get_user_oof_settings (doc, &error);

  g_assert_no_error (error);
  g_assert_cmpint (oof->state, ==, AGL_EWS_OOF_SCHEDULED);
  g_assert_cmpstr (oof->external_audience, ==, "Known");
  assert_date_time (oof->start, "2026-07-01T07:00:00Z");
  assert_date_time (oof->end, "2026-07-20T16:00:00Z");
  g_assert_cmpstr (oof->internal_reply, ==, "Away");
  g_assert_cmpstr (oof->external_reply, ==, "");
}

#define AD_START \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">"

static void
test_handmade_autodiscover_redirect_and_error (void)
{
  g_autoptr(xmlDoc) redirect = parse_string (
    AD_START "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a\"><Account><Action>redirectAddr</Action>"
    "<RedirectAddr>mara@mail.contoso.com</RedirectAddr></Account></Response></Autodiscover>");
  g_autoptr(xmlDoc) redirect_url = parse_string (
    AD_START "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a\"><Account><Action>redirectUrl</Action>"
    "<RedirectUrl>https://autodiscover.contoso.com/autodiscover/autodiscover.xml</RedirectUrl>"
    "</Account></Response></Autodiscover>");
  g_autoptr(xmlDoc) failed = parse_string (
    AD_START "<Response><Error Time=\"10:00:00\" Id=\"1\"><ErrorCode>500</ErrorCode>"
    "<Message>The e-mail address cannot be found.</Message><DebugData/></Error></Response>"
    "</Autodiscover>");
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsAutodiscover) a = agl_ews_response_read_autodiscover (redirect, &error);
  g_autoptr(AglEwsAutodiscover) b = NULL;
  g_autoptr(AglEwsAutodiscover) c = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (a->action, ==, AGL_EWS_AUTODISCOVER_REDIRECT_ADDR);
  g_assert_cmpstr (a->redirect, ==, "mara@mail.contoso.com");
  b = agl_ews_response_read_autodiscover (redirect_url, &error);
  g_assert_no_error (error);
  g_assert_cmpint (b->action, ==, AGL_EWS_AUTODISCOVER_REDIRECT_URL);
  g_assert_true (g_str_has_prefix (b->redirect, "https://autodiscover.contoso.com/"));
  c = agl_ews_response_read_autodiscover (failed, &error);
  g_assert_null (c);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER);
  g_assert_cmpstr (error->message, ==, "Autodiscover: 500 The e-mail address cannot be found.");
}

static void
test_wrong_operation_refused (void)
{
  g_autoptr(xmlDoc) doc = load_sample ("getfolder-response-calendar-msdoc-ex2013.xml");
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsSyncResult) sync = agl_ews_response_read_sync_folder_items (doc, &error);

  g_assert_null (sync);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (response_samples); i++)
    {
      g_autofree char *base = g_strndup (response_samples[i].file,
                                         strlen (response_samples[i].file) - strlen (".xml"));
      g_autofree char *path = g_strdup_printf ("/ews/response/sample/%s", base);

      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_sample);
    }
  g_test_add_func ("/ews/response/samples/all-covered", test_samples_all_covered);
  g_test_add_func ("/ews/response/get-item/per-item-error", test_handmade_getitem_per_item_error);
  g_test_add_func ("/ews/response/find-item/items-of-any-kind", test_handmade_find_item_items);
  g_test_add_func ("/ews/response/update-item/irresolvable-conflict",
                   test_handmade_update_conflict);
  g_test_add_func ("/ews/response/warning-is-success", test_handmade_warning_is_success);
  g_test_add_func ("/ews/response/get-streaming-events/closed-t-notification",
                   test_handmade_streaming_closed_schema_form);
  g_test_add_func ("/ews/response/get-events/more-events", test_handmade_get_events_more);
  g_test_add_func ("/ews/response/unsubscribe", test_handmade_unsubscribe);
  g_test_add_func ("/ews/response/get-user-oof-settings/scheduled", test_handmade_oof_scheduled);
  g_test_add_func ("/ews/response/autodiscover/redirect-and-error",
                   test_handmade_autodiscover_redirect_and_error);
  g_test_add_func ("/ews/response/wrong-operation-refused", test_wrong_operation_refused);

  return g_test_run ();
}
