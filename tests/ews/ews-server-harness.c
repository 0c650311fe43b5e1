/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "agl-ews-server.h"
#include "ews-server-harness.h"

static AglEwsMailbox *
require_mailbox (GObject    *server,
                 const char *address)
{
  AglEwsMailbox *mailbox = agl_ews_server_get_mailbox (AGL_EWS_SERVER (server), address);

  g_assert_nonnull (mailbox);
  return mailbox;
}

/* A t:CalendarItem holding @fields_xml, as the server's API takes it. */
static char *
wrap_item (const char *fields_xml)
{
  return g_strconcat ("<t:CalendarItem xmlns:t=\"" EWS_HARNESS_NS_T "\">", fields_xml,
                      "</t:CalendarItem>", NULL);
}

/**
 * ews_harness_server_new:
 * @kit_dir: the EWS reference kit (its schemas)
 * @fixtures_dir: tests/ews-server/fixtures (server.pem, server-key.pem)
 * @minute_ms: how long an EWS minute lasts (streaming and pull timeouts)
 * @keepalive_ms: how often an open streaming connection gets a keep-alive
 *
 * Returns: (transfer full): the server, listening over HTTPS on 127.0.0.1
 */
GObject *
ews_harness_server_new (const char *kit_dir,
                        const char *fixtures_dir,
                        guint       minute_ms,
                        guint       keepalive_ms,
                        GError    **error)
{
  g_autofree char *cert_path = g_build_filename (fixtures_dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (fixtures_dir, "server-key.pem", NULL);
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(AglEwsServer) server = NULL;

  server = agl_ews_server_new (kit_dir, error);
  if (server == NULL)
    return NULL;
  agl_ews_server_set_minute_length (server, minute_ms);
  agl_ews_server_set_keepalive_interval (server, keepalive_ms);
  cert = g_tls_certificate_new_from_files (cert_path, key_path, error);
  if (cert == NULL || !agl_ews_server_listen (server, cert, 0, error))
    return NULL;
  return G_OBJECT (g_steal_pointer (&server));
}

char *
ews_harness_get_url (GObject *server)
{
  return agl_ews_server_get_url (AGL_EWS_SERVER (server));
}

char *
ews_harness_get_autodiscover_url (GObject *server)
{
  return g_strdup_printf ("https://127.0.0.1:%u/autodiscover/autodiscover.xml",
                          agl_ews_server_get_port (AGL_EWS_SERVER (server)));
}

void
ews_harness_add_mailbox (GObject    *server,
                         const char *address,
                         const char *user,
                         const char *password)
{
  g_autofree char *display_name = g_strdup_printf ("Test user %s", user);

  agl_ews_server_add_mailbox (AGL_EWS_SERVER (server), address, user, "EXAMPLE", password,
                              display_name);
}

/* Gives @account ApplicationImpersonation on @target. */
void
ews_harness_allow_impersonation (GObject    *server,
                                 const char *account,
                                 const char *target)
{
  g_ptr_array_add (require_mailbox (server, account)->may_impersonate, g_strdup (target));
}

/**
 * ews_harness_set_oof:
 * @state: Disabled, Enabled or Scheduled
 * @start: the scheduled start, Unix time
 * @end: the scheduled end, Unix time
 *
 * Sets the mailbox's automatic replies as the user would in Outlook.
 */
void
ews_harness_set_oof (GObject    *server,
                     const char *address,
                     const char *state,
                     gint64      start,
                     gint64      end,
                     const char *internal_reply,
                     const char *external_reply)
{
  AglEwsMailbox *mailbox = require_mailbox (server, address);

  g_free (mailbox->oof_state);
  mailbox->oof_state = g_strdup (state);
  mailbox->oof_start = start;
  mailbox->oof_end = end;
  g_free (mailbox->oof_internal_reply);
  mailbox->oof_internal_reply = g_strdup (internal_reply);
  g_free (mailbox->oof_external_reply);
  mailbox->oof_external_reply = g_strdup (external_reply);
}

char *
ews_harness_get_folder_id (GObject     *server,
                           const char  *address,
                           char       **out_change_key)
{
  AglEwsMailbox *mailbox = require_mailbox (server, address);

  if (out_change_key != NULL)
    *out_change_key = g_strdup (mailbox->folder_change_key);
  return g_strdup (mailbox->folder_id);
}

guint
ews_harness_count_items (GObject    *server,
                         const char *address)
{
  return agl_ews_mailbox_count_items (require_mailbox (server, address));
}

/**
 * ews_harness_inject_fault:
 * @kind: a fault name of the control endpoint ("http-500", "server-busy" …)
 *
 * The next @count EWS requests get the fault.
 */
void
ews_harness_inject_fault (GObject    *server,
                          const char *kind,
                          guint       count,
                          guint       parameter)
{
  AglEwsFault fault;

  g_assert_true (agl_ews_fault_from_string (kind, &fault));
  agl_ews_server_inject_fault (AGL_EWS_SERVER (server), fault, count, parameter);
}

/* Creates an item of t:CalendarItem children @fields_xml, as in Outlook. */
char *
ews_harness_create_item (GObject     *server,
                         const char  *address,
                         const char  *fields_xml,
                         GError     **error)
{
  g_autofree char *xml = wrap_item (fields_xml);

  return agl_ews_server_create_item_xml (AGL_EWS_SERVER (server), address, xml, error);
}

/* Sets fields of the item, or of its 1-based @occurrence, as in Outlook. */
gboolean
ews_harness_update_item (GObject     *server,
                         const char  *address,
                         const char  *item_id,
                         guint        occurrence,
                         const char  *fields_xml,
                         GError     **error)
{
  g_autofree char *xml = wrap_item (fields_xml);

  return agl_ews_server_update_item_xml (AGL_EWS_SERVER (server), address, item_id, occurrence,
                                         xml, error);
}

gboolean
ews_harness_delete_item (GObject     *server,
                         const char  *address,
                         const char  *item_id,
                         guint        occurrence,
                         GError     **error)
{
  return agl_ews_server_delete_item (AGL_EWS_SERVER (server), address, item_id, occurrence, error);
}

/* Files an item of message class @item_class (a meeting request …) in the
 * calendar folder, as a transport agent does. */
char *
ews_harness_create_item_of_class (GObject     *server,
                                  const char  *address,
                                  const char  *item_class,
                                  const char  *fields_xml,
                                  GError     **error)
{
  g_autofree char *xml = wrap_item (fields_xml);

  return agl_ews_server_create_item_of_class (AGL_EWS_SERVER (server), address, item_class, xml,
                                              error);
}

/* Moves the item to the distinguished folder @folder, as in Outlook. */
gboolean
ews_harness_move_item (GObject     *server,
                       const char  *address,
                       const char  *item_id,
                       const char  *folder,
                       GError     **error)
{
  return agl_ews_server_move_item (AGL_EWS_SERVER (server), address, item_id, folder, error);
}

/* While %FALSE, Subscribe with StreamingSubscriptionRequest is refused. */
void
ews_harness_set_streaming_enabled (GObject  *server,
                                   gboolean  enabled)
{
  agl_ews_server_set_streaming_enabled (AGL_EWS_SERVER (server), enabled);
}

/* Forgets every subscription; returns how many there were. */
guint
ews_harness_expire_subscriptions (GObject *server)
{
  return agl_ews_server_expire_subscriptions (AGL_EWS_SERVER (server));
}
