/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "agl-ews-server.h"
#include "agl-ews-server-xml.h"

#define ITEM_OPEN "<t:CalendarItem xmlns:t=\"" AGL_EWS_NS_TYPES "\">"
#define ITEM_CLOSE "</t:CalendarItem>"

/* Seeds name dates relative to today ({{monday+2}}, {{nextmonth+0}}) so
 * the demo mailbox always shows the current week. */
static char *
expand_dates (const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) monday = g_date_time_add_days (now, 1 - g_date_time_get_day_of_week (now));
  g_autoptr(GDateTime) next_month = NULL;
  g_autoptr(GDateTime) month_start = g_date_time_new_local (g_date_time_get_year (now),
                                                            g_date_time_get_month (now), 1, 0, 0, 0);
  GString *out = g_string_new (NULL);
  const char *p = text;

  next_month = g_date_time_add_months (month_start, 1);
  while (*p != '\0')
    {
      const char *end;
      g_autofree char *token = NULL;
      GDateTime *base = NULL;
      const char *offset = NULL;

      if (!g_str_has_prefix (p, "{{") || (end = strstr (p, "}}")) == NULL)
        {
          g_string_append_c (out, *p++);
          continue;
        }
      token = g_strndup (p + 2, end - p - 2);
      if (g_str_has_prefix (token, "monday"))
        base = monday, offset = token + 6;
      else if (g_str_has_prefix (token, "nextmonth"))
        base = next_month, offset = token + 9;
      if (base == NULL)
        {
          g_string_append_len (out, p, end + 2 - p);
        }
      else
        {
          g_autoptr(GDateTime) day = g_date_time_add_days (base, (int) g_ascii_strtoll (offset, NULL, 10));
          g_autofree char *date = g_date_time_format (day, "%Y-%m-%d");

          g_string_append (out, date);
        }
      p = end + 2;
    }
  return g_string_free (out, FALSE);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  return json_object_has_member (object, name) ? json_object_get_string_member (object, name) : NULL;
}

static gint64
parse_instant (const char *text)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = text != NULL ? g_date_time_new_from_iso8601 (text, utc) : NULL;

  return dt != NULL ? g_date_time_to_unix (dt) : 0;
}

static gboolean
seed_items (AglEwsServer  *server,
            AglEwsMailbox *mailbox,
            JsonArray     *items,
            GError       **error)
{
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);
      g_autofree char *xml = g_strconcat (ITEM_OPEN, member_string (item, "xml"), ITEM_CLOSE, NULL);
      g_autofree char *id = agl_ews_server_create_item_xml (server, mailbox->address, xml, error);
      JsonArray *list;

      if (id == NULL)
        return FALSE;
      list = json_object_has_member (item, "exceptions") ? json_object_get_array_member (item, "exceptions") : NULL;
      for (guint k = 0; list != NULL && k < json_array_get_length (list); k++)
        {
          JsonObject *ex = json_array_get_object_element (list, k);
          g_autofree char *ex_xml = g_strconcat (ITEM_OPEN, member_string (ex, "xml"), ITEM_CLOSE, NULL);

          if (!agl_ews_server_update_item_xml (server, mailbox->address, id,
                                               (guint) json_object_get_int_member (ex, "index"),
                                               ex_xml, error))
            return FALSE;
        }
      list = json_object_has_member (item, "deleted_occurrences")
             ? json_object_get_array_member (item, "deleted_occurrences") : NULL;
      for (guint k = 0; list != NULL && k < json_array_get_length (list); k++)
        if (!agl_ews_server_delete_item (server, mailbox->address, id,
                                         (guint) json_array_get_int_element (list, k), error))
          return FALSE;
    }
  return TRUE;
}

static gboolean
load_seed (AglEwsServer *server,
           const char   *path,
           GError      **error)
{
  g_autofree char *raw = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *mailboxes;

  if (!g_file_get_contents (path, &raw, NULL, error))
    return FALSE;
  text = expand_dates (raw);
  if (!json_parser_load_from_data (parser, text, -1, error))
    return FALSE;
  root = json_node_get_object (json_parser_get_root (parser));
  mailboxes = root != NULL && json_object_has_member (root, "mailboxes")
              ? json_object_get_array_member (root, "mailboxes") : NULL;
  if (mailboxes == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s has no \"mailboxes\" array.", path);
      return FALSE;
    }

  for (guint i = 0; i < json_array_get_length (mailboxes); i++)
    {
      JsonObject *m = json_array_get_object_element (mailboxes, i);
      AglEwsMailbox *mailbox;

      if (member_string (m, "address") == NULL || member_string (m, "password") == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "Mailbox %u in %s needs an address and a password.", i + 1, path);
          return FALSE;
        }
      mailbox = agl_ews_server_add_mailbox (server, member_string (m, "address"),
                                            member_string (m, "user"), member_string (m, "domain"),
                                            member_string (m, "password"), member_string (m, "display_name"));
      if (json_object_has_member (m, "impersonate"))
        {
          JsonArray *list = json_object_get_array_member (m, "impersonate");

          for (guint k = 0; k < json_array_get_length (list); k++)
            g_ptr_array_add (mailbox->may_impersonate, g_strdup (json_array_get_string_element (list, k)));
        }
      if (json_object_has_member (m, "oof"))
        {
          JsonObject *oof = json_object_get_object_member (m, "oof");

          g_free (mailbox->oof_state);
          mailbox->oof_state = g_strdup (member_string (oof, "state") != NULL ? member_string (oof, "state") : "Disabled");
          if (member_string (oof, "audience") != NULL)
            {
              g_free (mailbox->oof_audience);
              mailbox->oof_audience = g_strdup (member_string (oof, "audience"));
            }
          mailbox->oof_start = parse_instant (member_string (oof, "start"));
          mailbox->oof_end = parse_instant (member_string (oof, "end"));
          g_free (mailbox->oof_internal_reply);
          mailbox->oof_internal_reply = g_strdup (member_string (oof, "internal_reply") != NULL
                                                  ? member_string (oof, "internal_reply") : "");
          g_free (mailbox->oof_external_reply);
          mailbox->oof_external_reply = g_strdup (member_string (oof, "external_reply") != NULL
                                                  ? member_string (oof, "external_reply") : "");
        }
      if (json_object_has_member (m, "items") &&
          !seed_items (server, mailbox, json_object_get_array_member (m, "items"), error))
        {
          g_prefix_error (error, "%s, mailbox %s: ", path, mailbox->address);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsServer) server = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *url = NULL;
  g_autofree char *seed = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *kit = NULL;
  g_autofree char *version = NULL;
  g_autofree char *ntlm_domain = NULL;
  int port = 0;
  int minute_ms = 60000;
  gboolean insecure_http = FALSE;
  gboolean no_control = FALSE;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "Port on 127.0.0.1 (0: any free one)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_FILENAME, &seed, "JSON file of mailboxes and items", "FILE" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "TLS certificate (PEM)", "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "TLS private key (PEM)", "FILE" },
    { "kit", 0, 0, G_OPTION_ARG_FILENAME, &kit, "EWS reference kit (default: $AGL_EWS_KIT)", "DIR" },
    { "server-version", 0, 0, G_OPTION_ARG_STRING, &version,
      "ServerVersionInfo as MAJOR.MINOR.BUILD.REV:VERSION (default 15.1.2507.39:V2017_07_11)", "V" },
    { "ntlm-domain", 0, 0, G_OPTION_ARG_STRING, &ntlm_domain,
      "NetBIOS domain the NTLM challenge names (default EXAMPLE)", "DOMAIN" },
    { "minute-ms", 0, 0, G_OPTION_ARG_INT, &minute_ms, "Length of an EWS minute in milliseconds", "MS" },
    { "insecure-http", 0, 0, G_OPTION_ARG_NONE, &insecure_http, "Plain HTTP, for debugging only", NULL },
    { "no-control", 0, 0, G_OPTION_ARG_NONE, &no_control, "Disable the /control/ endpoint", NULL },
    { NULL }
  };

  context = g_option_context_new ("- a test Exchange (EWS) server");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (kit == NULL)
    kit = g_strdup (g_getenv ("AGL_EWS_KIT"));
  if (kit == NULL)
    {
      g_printerr ("Give --kit DIR or set AGL_EWS_KIT to the EWS reference kit (shared/ews).\n");
      return 2;
    }
  if (!insecure_http && (cert == NULL || key == NULL))
    {
      g_printerr ("Give --cert and --key (e.g. tests/ews-server/fixtures/server.pem and server-key.pem), "
                  "or --insecure-http.\n");
      return 2;
    }

  server = agl_ews_server_new (kit, &error);
  if (server == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (version != NULL)
    {
      guint a, b, c, d;
      char name[64];

      if (sscanf (version, "%u.%u.%u.%u:%63s", &a, &b, &c, &d, name) != 5)
        {
          g_printerr ("--server-version wants MAJOR.MINOR.BUILD.REV:VERSION, e.g. 15.1.2507.39:V2017_07_11.\n");
          return 2;
        }
      agl_ews_server_set_version (server, a, b, c, d, name);
    }
  if (ntlm_domain != NULL)
    agl_ews_server_set_ntlm_domain (server, ntlm_domain);
  agl_ews_server_set_minute_length (server, (guint) MAX (minute_ms, 1));
  agl_ews_server_set_keepalive_interval (server, (guint) MAX (minute_ms / 4, 1));
  agl_ews_server_set_control_enabled (server, !no_control);
  if (seed != NULL && !load_seed (server, seed, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (!insecure_http)
    {
      certificate = g_tls_certificate_new_from_files (cert, key, &error);
      if (certificate == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  if (!agl_ews_server_listen (server, certificate, (guint) port, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  url = agl_ews_server_get_url (server);
  g_print ("%s\n", url);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);
  return 0;
}
