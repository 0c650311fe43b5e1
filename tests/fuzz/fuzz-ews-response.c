/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "agl-ews-response.h"
#include "agl-ews-xml.h"

/* libFuzzer entry points; the prototypes are libFuzzer's. */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
drop_log_cb (const char    *log_domain,
             GLogLevelFlags log_level,
             const char    *message,
             gpointer       user_data)
{
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* ResponseClass="Warning" is logged; thousands of lines a second would
   * only slow the fuzzer down.  Criticals stay fatal (libFuzzer sees the
   * abort). */
  g_log_set_handler (NULL, G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
                     drop_log_cb, NULL);
  return 0;
}

static void
read_everything (xmlDoc *doc)
{
  AglEwsServerVersion version;
  GError *error = NULL;
  GPtrArray *array;

  if (agl_ews_xml_read_server_version (doc, &version))
    agl_ews_server_version_clear (&version);
  else
    g_free (version.version);

#define TRY(call, free_func) \
  G_STMT_START { \
    gpointer result_ = (call); \
    g_assert ((result_ == NULL) == (error != NULL)); \
    if (result_ != NULL) \
      free_func (result_); \
    g_clear_error (&error); \
  } G_STMT_END

  TRY (agl_ews_response_read_messages (doc, "GetItem", &error), g_ptr_array_unref);
  TRY (agl_ews_response_read_get_folder (doc, &error), agl_ews_folder_info_free);
  TRY (agl_ews_response_read_sync_folder_items (doc, &error), agl_ews_sync_result_free);
  TRY (agl_ews_response_read_get_item (doc, &error), g_ptr_array_unref);
  TRY (agl_ews_response_read_create_item (doc, &error), g_ptr_array_unref);
  TRY (agl_ews_response_read_update_item (doc, &error), g_ptr_array_unref);
  TRY (agl_ews_response_read_delete_item (doc, &error), g_ptr_array_unref);
  TRY (agl_ews_response_read_find_item_calendar_view (doc, &error), agl_ews_calendar_view_free);
  TRY (agl_ews_response_read_get_user_oof_settings (doc, &error), agl_ews_oof_settings_free);
  TRY (agl_ews_response_read_subscribe (doc, &error), agl_ews_subscription_free);
  TRY (agl_ews_response_read_get_streaming_events (doc, &error), agl_ews_streaming_events_free);
  TRY (agl_ews_response_read_get_events (doc, &error), agl_ews_notification_free);
  TRY (agl_ews_response_read_autodiscover (doc, &error), agl_ews_autodiscover_free);
#undef TRY

  if (!agl_ews_response_read_unsubscribe (doc, &error))
    g_assert_nonnull (error);
  g_clear_error (&error);

  /* Every message of whatever operation the body claims to answer. */
  {
    xmlNode *body = agl_ews_xml_get_body_element (doc, NULL);

    if (body != NULL && g_str_has_suffix ((const char *) body->name, "Response"))
      {
        g_autofree char *operation = g_strndup ((const char *) body->name,
                                                strlen ((const char *) body->name) -
                                                strlen ("Response"));

        array = agl_ews_response_read_messages (doc, operation, NULL);
        if (array != NULL)
          {
            for (guint i = 0; i < array->len; i++)
              {
                GError *message_error = agl_ews_response_message_to_error (g_ptr_array_index (array, i));

                g_clear_error (&message_error);
              }
            g_ptr_array_unref (array);
          }
      }
  }
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(AglEwsParser) parser = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  gsize chunk;
  gboolean ok = TRUE;

  if (size < 1)
    return 0;
  /* The first byte also chooses how the network splits the input, so the
   * kit's samples (all starting with '<') stay valid seeds. */
  chunk = 1 + data[0] * 7;

  /* A small cap keeps runs fast and exercises the refusal path. */
  parser = agl_ews_parser_new (256 * 1024);
  for (gsize off = 0; off < size && ok; off += chunk)
    ok = agl_ews_parser_feed (parser, data + off, MIN (chunk, size - off), NULL);
  doc = agl_ews_parser_finish (parser, NULL);
  if (doc == NULL)
    return 0;
  read_everything (doc);
  return 0;
}
