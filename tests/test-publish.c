/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Publishing presence, end to end: the real agendalined on a private bus
 * with an account whose server cannot be reached (presence works from the
 * local agenda alone), its publishers set with `agendalinectl rules set`
 * or SetRules, and real receivers: an HTTP server in this process that
 * checks the webhook's signature, and shell scripts as command hooks.  The
 * Statuses property, the publishers' results in `agendalinectl
 * connections`, bad publisher settings refused naming the key, and the
 * webhook's secret kept out of every reply, the log and the database.
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "agl-sync-harness.h"

#define ACCOUNT "work"
/* Nothing listens on the discard port: every connection is refused. */
#define UNREACHABLE_URL "https://127.0.0.1:9/EWS/Exchange.asmx"
#define UNREACHABLE_HOOK "http://127.0.0.1:9/presence"
#define SECRET "S3cret-never-shown-8f2a"
/* From a change to its webhook POST or command run, at most. */
#define DELIVERY_SECONDS 10

/* One request the receiver got. */
typedef struct {
  gint64  received;   /* g_get_real_time() on arrival */
  char   *body;
  char   *signature;
  char   *account;
  char   *user_agent;
  char   *content_type;
} Request;

typedef struct {
  AglSyncHarness h;
  guint          connection_signal_id;
  guint          properties_signal_id;
  guint          connection_changes;   /* ConnectionChanged seen */
  GPtrArray     *statuses_seen;        /* PropertiesChanged: StatusSeen */

  SoupServer    *server;
  SoupServer    *tls_server;           /* only for the test of a private CA */
  char          *hook_url;
  guint          answers[4];           /* the statuses to answer, in order; then 204 */
  guint          n_answers;
  GPtrArray     *requests;             /* Request */
  char          *fixtures;             /* the scripts, copied to the scratch directory */
  char          *records;              /* where publish-record.sh writes */
} Fixture;

typedef struct {
  gint64      received;
  JsonObject *status;
} StatusSeen;

static void
request_free (Request *request)
{
  g_free (request->body);
  g_free (request->signature);
  g_free (request->account);
  g_free (request->user_agent);
  g_free (request->content_type);
  g_free (request);
}

static void
status_seen_free (StatusSeen *seen)
{
  json_object_unref (seen->status);
  g_free (seen);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The receiver: checks nothing itself, records everything, answers from
 * the script. */
static void
hook_cb (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  Fixture *f = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  Request *request = g_new0 (Request, 1);
  guint index = f->requests->len;

  request->received = g_get_real_time ();
  request->body = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  request->signature = g_strdup (soup_message_headers_get_one (headers, "X-Agendaline-Signature"));
  request->account = g_strdup (soup_message_headers_get_one (headers, "X-Agendaline-Account"));
  request->user_agent = g_strdup (soup_message_headers_get_one (headers, "User-Agent"));
  request->content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  g_ptr_array_add (f->requests, request);

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
  else
    soup_server_message_set_status (msg, index < f->n_answers ? f->answers[index]
                                                              : SOUP_STATUS_NO_CONTENT, NULL);
}

/* A receiver on a port of its own; with @certificate, over TLS.
 * Returns its URL. */
static char *
start_server (Fixture         *f,
              SoupServer     **server,
              GTlsCertificate *certificate)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);

  *server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (*server, "/presence", hook_cb, f, NULL);
  /* A socket of our own, whose port we read: libsoup 3.2's listener
   * leaks the address it looks up for soup_server_listen_local() and
   * soup_server_get_uris(). */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  soup_server_listen_socket (*server, socket,
                             certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_strdup_printf ("%s://127.0.0.1:%u/presence", certificate != NULL ? "https" : "http",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

/* The signature the receiver expects of @body. */
static char *
expected_signature (const char *body)
{
  g_autofree char *hex = g_compute_hmac_for_string (G_CHECKSUM_SHA256, (const guchar *) SECRET,
                                                    strlen (SECRET), body, -1);

  return g_strconcat ("sha256=", hex, NULL);
}

static void
assert_request_signed (const Request *request)
{
  g_autofree char *signature = expected_signature (request->body);

  g_assert_cmpstr (request->signature, ==, signature);
  g_assert_cmpstr (request->account, ==, ACCOUNT);
  g_assert_cmpstr (request->content_type, ==, "application/json; charset=utf-8");
  g_assert_true (g_str_has_prefix (request->user_agent, "Agendaline/"));
}

static void
connection_changed_cb (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  ((Fixture *) user_data)->connection_changes++;
}

static void
properties_changed_cb (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  Fixture *f = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) statuses = NULL;
  const char *json;

  g_variant_get (parameters, "(s@a{sv}as)", NULL, &changed, NULL);
  statuses = g_variant_lookup_value (changed, "Statuses", G_VARIANT_TYPE ("a{ss}"));
  if (statuses != NULL && g_variant_lookup (statuses, ACCOUNT, "&s", &json))
    {
      StatusSeen *seen = g_new0 (StatusSeen, 1);

      seen->received = g_get_real_time ();
      seen->status = agl_sync_harness_parse_object (json);
      g_ptr_array_add (f->statuses_seen, seen);
    }
}

static GVariant *
call (Fixture            *f,
      const char         *method,
      GVariant           *parameters,
      const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = agl_sync_harness_call_daemon (&f->h, method, parameters, reply_type, &error);

  if (error != NULL)
    agl_sync_harness_dump_daemon_log (&f->h);
  g_assert_no_error (error);
  return reply;
}

/* Calls @method expecting the daemon's error @code; returns its message. */
static char *
call_fails (Fixture    *f,
            const char *method,
            GVariant   *parameters,
            const char *code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = agl_sync_harness_call_daemon (&f->h, method, parameters, NULL, &error);
  g_autofree char *remote = NULL;
  g_autofree char *expected = g_strconcat ("io.github.agendaline.Error.", code, NULL);

  g_assert_null (reply);
  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (remote, expected) != 0)
    g_error ("%s: expected %s, got %s: %s", method, expected, remote, error->message);
  g_dbus_error_strip_remote_error (error);
  return g_strdup (error->message);
}

static void
set_rules (Fixture    *f,
           const char *rules)
{
  g_autoptr(GVariant) reply = call (f, "SetRules", g_variant_new ("(ss)", ACCOUNT, rules), NULL);
}

static char *
get_rules (Fixture *f)
{
  g_autoptr(GVariant) reply =
    call (f, "GetRules", g_variant_new ("(s)", ACCOUNT), G_VARIANT_TYPE ("(s)"));
  char *json;

  g_variant_get (reply, "(s)", &json);
  return json;
}

/* agendalinectl ARGS… must succeed; returns what it printed. */
static char *
ctl (Fixture    *f,
     const char *input,
     ...)
{
  g_autoptr(AglCtlResult) result = NULL;
  va_list ap;

  va_start (ap, input);
  result = agl_sync_harness_run_ctl_valist (&f->h, input, ap);
  va_end (ap);
  if (result->status != 0)
    {
      agl_sync_harness_dump_daemon_log (&f->h);
      g_error ("%s: exit status %d: %s", result->command, result->status, result->err);
    }
  return g_steal_pointer (&result->out);
}

static gint64
create_appointment (Fixture    *f,
                    const char *uid,
                    const char *subject,
                    gint64      start,
                    gint64      end)
{
  g_autofree char *dtstart = agl_sync_harness_ical_time (start);
  g_autofree char *dtend = agl_sync_harness_ical_time (end);
  g_autofree char *ical = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 id;

  ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//publish test//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n"
                          "TRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, dtstart, dtend, subject);
  reply = call (f, "CreateItem", g_variant_new ("(ss)", ACCOUNT, ical), G_VARIANT_TYPE ("(x)"));
  g_variant_get (reply, "(x)", &id);
  return id;
}

/* The account's publisher of @kind in ListConnections, or NULL. */
static GVariant *
find_publisher (Fixture    *f,
                const char *kind)
{
  g_autoptr(GVariant) reply = call (f, "ListConnections", NULL, G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariant) connections = g_variant_get_child_value (reply, 0);
  GVariantIter iter;
  GVariant *connection;

  g_variant_iter_init (&iter, connections);
  while ((connection = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = connection;
      g_autoptr(GVariant) publishers = NULL;
      const char *name;
      GVariantIter publisher_iter;
      GVariant *publisher;

      if (!g_variant_lookup (connection, "name", "&s", &name) || g_strcmp0 (name, ACCOUNT) != 0)
        continue;
      publishers = g_variant_lookup_value (connection, "publishers", G_VARIANT_TYPE ("aa{sv}"));
      g_assert_nonnull (publishers);
      g_variant_iter_init (&publisher_iter, publishers);
      while ((publisher = g_variant_iter_next_value (&publisher_iter)) != NULL)
        {
          const char *publisher_kind;

          if (g_variant_lookup (publisher, "kind", "&s", &publisher_kind) &&
              g_strcmp0 (publisher_kind, kind) == 0)
            return publisher;
          g_variant_unref (publisher);
        }
    }
  return NULL;
}

/* Runs the main loop until the publisher of @kind is in @state with at
 * least @min_attempts attempts; looks again at each ConnectionChanged. */
static GVariant *
wait_for_publisher (Fixture    *f,
                    const char *kind,
                    const char *state,
                    guint       min_attempts,
                    guint       seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);
  guint seen = G_MAXUINT;

  for (;;)
    {
      if (seen != f->connection_changes)
        {
          g_autoptr(GVariant) publisher = NULL;
          const char *publisher_state = NULL;
          guint attempts = 0;

          seen = f->connection_changes;
          publisher = find_publisher (f, kind);
          if (publisher != NULL && g_variant_lookup (publisher, "state", "&s", &publisher_state) &&
              g_variant_lookup (publisher, "attempts", "u", &attempts) &&
              g_strcmp0 (publisher_state, state) == 0 && attempts >= min_attempts)
            {
              g_source_remove (id);
              return g_steal_pointer (&publisher);
            }
        }
      if (timed_out)
        {
          agl_sync_harness_dump_daemon_log (&f->h);
          g_error ("the %s publisher was not %s after %u attempts within %u s", kind, state,
                   min_attempts, seconds);
        }
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Runs the main loop until the receiver has @n requests. */
static void
wait_for_requests (Fixture *f,
                   guint    n,
                   guint    seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);

  while (f->requests->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    {
      agl_sync_harness_dump_daemon_log (&f->h);
      g_error ("the receiver got %u requests, not %u, within %u s", f->requests->len, n, seconds);
    }
  g_source_remove (id);
}

/* Runs the main loop until a request whose status has @presence came,
 * from the @from-th on; returns its index. */
static guint
wait_for_posted_presence (Fixture    *f,
                          guint       from,
                          const char *presence,
                          guint       seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);

  for (;;)
    {
      for (guint i = from; i < f->requests->len; i++)
        {
          Request *request = g_ptr_array_index (f->requests, i);
          g_autoptr(JsonObject) status = agl_sync_harness_parse_object (request->body);

          if (g_strcmp0 (json_object_get_string_member (status, "presence"), presence) == 0)
            {
              g_source_remove (id);
              return i;
            }
        }
      if (timed_out)
        {
          agl_sync_harness_dump_daemon_log (&f->h);
          g_error ("no POST with presence %s within %u s", presence, seconds);
        }
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
copy_fixture (Fixture    *f,
              const char *name)
{
  g_autofree char *source = g_build_filename (agl_sync_harness_env ("AGL_TEST_PUBLISH_FIXTURES"),
                                              name, NULL);
  g_autofree char *target = g_build_filename (f->fixtures, name, NULL);
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (source, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents_full (target, contents, length, G_FILE_SET_CONTENTS_NONE, 0755, &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  /* The daemon warns that no Secret Service runs on the test bus. */
  static const char * const child_env[] = { "G_DEBUG=gc-friendly", NULL };
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder settings;

  f->h.timeout_seconds = 30;
  f->h.child_env = child_env;
  f->h.death_signal = SIGTERM;
  agl_sync_harness_init (&f->h, "agl-publish-XXXXXX");
  agl_sync_harness_start_daemon (&f->h, "agendalined.log", "all");
  f->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  f->statuses_seen = g_ptr_array_new_with_free_func ((GDestroyNotify) status_seen_free);
  f->connection_signal_id =
    g_dbus_connection_signal_subscribe (f->h.connection, NULL, AGL_BUS_NAME, "ConnectionChanged",
                                        AGL_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        connection_changed_cb, f, NULL);
  f->properties_signal_id =
    g_dbus_connection_signal_subscribe (f->h.connection, NULL, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", AGL_OBJECT_PATH, AGL_BUS_NAME,
                                        G_DBUS_SIGNAL_FLAGS_NONE, properties_changed_cb, f, NULL);
  f->hook_url = start_server (f, &f->server, NULL);

  f->fixtures = g_build_filename (f->h.dir, "hooks", NULL);
  f->records = g_build_filename (f->h.dir, "records", NULL);
  g_assert_cmpint (g_mkdir (f->fixtures, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->records, 0755), ==, 0);
  copy_fixture (f, "publish-record.sh");
  copy_fixture (f, "publish-fail.sh");
  copy_fixture (f, "publish-sleep.sh");

  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "email", g_variant_new_string ("alice@example.test"));
  g_variant_builder_add (&settings, "{sv}", "url", g_variant_new_string (UNREACHABLE_URL));
  g_variant_builder_add (&settings, "{sv}", "password", g_variant_new_string ("account-password"));
  reply = call (f, "AddAccount", g_variant_new ("(s@a{sv})", ACCOUNT, g_variant_builder_end (&settings)),
                NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (g_test_failed ())
    agl_sync_harness_dump_daemon_log (&f->h);
  g_dbus_connection_signal_unsubscribe (f->h.connection, f->connection_signal_id);
  g_dbus_connection_signal_unsubscribe (f->h.connection, f->properties_signal_id);
  agl_sync_harness_clear (&f->h, !g_test_failed ());
  soup_server_disconnect (f->server);
  g_clear_object (&f->server);
  if (f->tls_server != NULL)
    soup_server_disconnect (f->tls_server);
  g_clear_object (&f->tls_server);
  /* The server's connections let go of it once their closing is
   * dispatched. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_pointer (&f->hook_url, g_free);
  g_clear_pointer (&f->requests, g_ptr_array_unref);
  g_clear_pointer (&f->statuses_seen, g_ptr_array_unref);
  g_clear_pointer (&f->fixtures, g_free);
  g_clear_pointer (&f->records, g_free);
}

static char *
webhook_rules (const char *url,
               const char *extra)
{
  return g_strdup_printf ("{\"publishers\": {\"webhook\": {\"url\": \"%s\", \"secret\": \"%s\"%s}}}",
                          url, SECRET, extra != NULL ? extra : "");
}

/* `agendalinectl connections NAME --json`, the publisher of @kind. */
static JsonObject *
ctl_publisher (Fixture    *f,
               const char *kind)
{
  g_autofree char *out = ctl (f, NULL, "connections", ACCOUNT, "--json", NULL);
  g_autoptr(JsonObject) connection = agl_sync_harness_parse_object (out);
  JsonArray *publishers = json_object_get_array_member (connection, "publishers");

  g_test_message ("connections --json: %s", out);
  for (guint i = 0; i < json_array_get_length (publishers); i++)
    {
      JsonObject *publisher = json_array_get_object_element (publishers, i);

      if (g_strcmp0 (json_object_get_string_member (publisher, "kind"), kind) == 0)
        return json_object_ref (publisher);
    }
  g_error ("no %s publisher in: %s", kind, out);
}

/* A status change reaches the webhook within a second of the boundary,
 * signed with the secret, the body the status exactly. */
static void
test_webhook_signed_at_boundary (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (f->hook_url, NULL);
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) busy = NULL;
  g_autoptr(JsonObject) shown = NULL;
  gint64 start, end;
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;
  Request *request;
  guint i;

  set_rules (f, rules);
  /* The current status, as soon as the webhook is set. */
  wait_for_requests (f, 1, DELIVERY_SECONDS);
  request = g_ptr_array_index (f->requests, 0);
  g_test_message ("first POST: %s", request->body);
  assert_request_signed (request);
  first = agl_sync_harness_parse_object (request->body);
  g_assert_cmpstr (json_object_get_string_member (first, "account"), ==, ACCOUNT);
  g_assert_cmpstr (json_object_get_string_member (first, "presence"), ==, "available");

  start = g_get_real_time () / G_USEC_PER_SEC + 3;
  end = start + 2;
  start_text = agl_sync_harness_iso (start);
  end_text = agl_sync_harness_iso (end);
  create_appointment (f, "soon@publish.test", "Stand-up", start, end);

  i = wait_for_posted_presence (f, 1, "busy", 10);
  request = g_ptr_array_index (f->requests, i);
  g_test_message ("busy POSTed %" G_GINT64_FORMAT " µs after the start",
                  request->received - start * G_USEC_PER_SEC);
  g_assert_cmpint (request->received, >=, start * G_USEC_PER_SEC);
  g_assert_cmpint (request->received, <, (start + 1) * G_USEC_PER_SEC);
  assert_request_signed (request);
  busy = agl_sync_harness_parse_object (request->body);
  g_assert_cmpstr (json_object_get_string_member (busy, "at"), ==, start_text);
  g_assert_cmpstr (json_object_get_string_member (busy, "until"), ==, end_text);

  i = wait_for_posted_presence (f, i + 1, "available", 10);
  request = g_ptr_array_index (f->requests, i);
  g_assert_cmpint (request->received, >=, end * G_USEC_PER_SEC);
  g_assert_cmpint (request->received, <, (end + 1) * G_USEC_PER_SEC);
  assert_request_signed (request);

  g_variant_unref (wait_for_publisher (f, "webhook", "delivered", 1, DELIVERY_SECONDS));
  shown = ctl_publisher (f, "webhook");
  g_assert_cmpstr (json_object_get_string_member (shown, "target"), ==, f->hook_url);
  g_assert_cmpstr (json_object_get_string_member (shown, "message"), ==, "HTTP 204 No Content");
  g_assert_cmpint (json_object_get_int_member (shown, "attempts"), ==, 1);
  g_assert_false (json_object_get_null_member (shown, "last_success"));
}

/* A receiver with a certificate of a private CA: refused without its
 * CA (the certificate is always checked), delivered with "ca_file". */
static void
test_webhook_private_ca (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *cert = agl_sync_harness_server_fixture ("server.pem");
  g_autofree char *key = agl_sync_harness_server_fixture ("server-key.pem");
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autofree char *missing = g_build_filename (f->h.dir, "no-such-ca.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) publisher = NULL;
  g_autofree char *url = NULL;
  g_autofree char *untrusted = NULL;
  g_autofree char *trusted = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *message = NULL;
  g_autofree char *refused = NULL;
  const char *text;

  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);
  url = start_server (f, &f->tls_server, certificate);

  untrusted = webhook_rules (url, NULL);
  set_rules (f, untrusted);
  publisher = wait_for_publisher (f, "webhook", "retrying", 1, DELIVERY_SECONDS);
  g_assert_true (g_variant_lookup (publisher, "message", "&s", &text));
  g_test_message ("without the CA: %s", text);
  g_assert_nonnull (strstr (text, url));
  g_assert_cmpuint (f->requests->len, ==, 0);

  extra = g_strdup_printf (", \"ca_file\": \"%s\"", ca);
  trusted = webhook_rules (url, extra);
  set_rules (f, trusted);
  wait_for_requests (f, 1, DELIVERY_SECONDS);
  assert_request_signed (g_ptr_array_index (f->requests, 0));
  g_clear_pointer (&publisher, g_variant_unref);
  publisher = wait_for_publisher (f, "webhook", "delivered", 1, DELIVERY_SECONDS);

  g_free (extra);
  extra = g_strdup_printf (", \"ca_file\": \"%s\"", missing);
  refused = webhook_rules (url, extra);
  message = call_fails (f, "SetRules", g_variant_new ("(ss)", ACCOUNT, refused), "InvalidArgument");
  g_assert_true (g_str_has_prefix (message, "publishers.webhook.ca_file"));
}

/* 500 twice, then 204: delivered on the third attempt, the same status
 * each time, and `connections` says so. */
static void
test_webhook_retries_after_500 (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (f->hook_url, NULL);
  g_autoptr(JsonObject) shown = NULL;
  g_autofree char *text = NULL;

  f->answers[0] = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  f->answers[1] = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  f->n_answers = 2;
  set_rules (f, rules);

  g_variant_unref (wait_for_publisher (f, "webhook", "delivered", 3, 20));
  g_assert_cmpuint (f->requests->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      Request *request = g_ptr_array_index (f->requests, i);

      assert_request_signed (request);
      g_assert_cmpstr (request->body, ==, ((Request *) g_ptr_array_index (f->requests, 0))->body);
    }
  /* Backoff: a second or more between the attempts. */
  g_assert_cmpint (((Request *) g_ptr_array_index (f->requests, 1))->received -
                   ((Request *) g_ptr_array_index (f->requests, 0))->received, >=, 800000);

  shown = ctl_publisher (f, "webhook");
  g_assert_cmpstr (json_object_get_string_member (shown, "state"), ==, "delivered");
  g_assert_cmpint (json_object_get_int_member (shown, "attempts"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (shown, "message"), ==, "HTTP 204 No Content");

  text = ctl (f, NULL, "connections", ACCOUNT, NULL);
  g_test_message ("connections: %s", text);
  g_assert_nonnull (strstr (text, "Publisher webhook"));
  g_assert_nonnull (strstr (text, f->hook_url));
  g_assert_nonnull (strstr (text, "delivered"));
}

/* A newer status replaces one being retried: the older one is never
 * sent again, the newer one is retried until delivered. */
static void
test_webhook_newer_supersedes (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (f->hook_url, NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) publisher = NULL;
  guint attempts = 0;

  f->answers[0] = SOUP_STATUS_SERVICE_UNAVAILABLE;
  f->answers[1] = SOUP_STATUS_SERVICE_UNAVAILABLE;
  f->n_answers = 2;
  set_rules (f, rules);
  wait_for_requests (f, 1, DELIVERY_SECONDS);

  reply = call (f, "SetOverride", g_variant_new ("(ssss)", ACCOUNT, "dnd", "dnd", "Focus"),
                G_VARIANT_TYPE ("(s)"));
  publisher = wait_for_publisher (f, "webhook", "delivered", 1, 20);
  g_assert_cmpuint (f->requests->len, ==, 3);
  for (guint i = 0; i < f->requests->len; i++)
    {
      Request *request = g_ptr_array_index (f->requests, i);
      g_autoptr(JsonObject) status = agl_sync_harness_parse_object (request->body);

      assert_request_signed (request);
      g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==,
                       i == 0 ? "available" : "dnd");
    }
  g_assert_true (g_variant_lookup (publisher, "attempts", "u", &attempts));
  g_assert_cmpuint (attempts, ==, 2);
}

/* A receiver that cannot be reached: retrying, the message naming the
 * URL, the failure in the log; the daemon still answers at once. */
static void
test_webhook_unreachable_retrying (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (UNREACHABLE_HOOK, NULL);
  g_autoptr(GVariant) publisher = NULL;
  g_autoptr(JsonObject) shown = NULL;
  g_autofree char *log = NULL;
  const char *message;

  set_rules (f, rules);
  publisher = wait_for_publisher (f, "webhook", "retrying", 2, 20);
  g_assert_true (g_variant_lookup (publisher, "message", "&s", &message));
  g_test_message ("message: %s", message);
  g_assert_nonnull (strstr (message, UNREACHABLE_HOOK));

  shown = ctl_publisher (f, "webhook");
  g_assert_cmpstr (json_object_get_string_member (shown, "state"), ==, "retrying");
  g_assert_nonnull (strstr (json_object_get_string_member (shown, "message"), UNREACHABLE_HOOK));
  g_assert_true (json_object_get_null_member (shown, "last_success"));

  log = ctl (f, NULL, "log", NULL);
  g_assert_nonnull (strstr (log, UNREACHABLE_HOOK));
  g_assert_nonnull (strstr (log, "[" ACCOUNT "]"));
}

/* 401 is a refusal: failed after one attempt, and no retries follow. */
static void
test_webhook_refused_failed (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (f->hook_url, NULL);
  g_autoptr(GVariant) publisher = NULL;
  const char *message;

  for (guint i = 0; i < G_N_ELEMENTS (f->answers); i++)
    f->answers[i] = SOUP_STATUS_UNAUTHORIZED;
  f->n_answers = G_N_ELEMENTS (f->answers);
  set_rules (f, rules);

  publisher = wait_for_publisher (f, "webhook", "failed", 1, DELIVERY_SECONDS);
  g_assert_true (g_variant_lookup (publisher, "message", "&s", &message));
  g_assert_nonnull (strstr (message, "401"));
  /* Longer than the first two retries would take: the point is that
   * nothing comes. */
  agl_sync_harness_run_for (3500);
  g_assert_cmpuint (f->requests->len, ==, 1);
  g_clear_pointer (&publisher, g_variant_unref);
  publisher = find_publisher (f, "webhook");
  g_assert_true (g_variant_lookup (publisher, "state", "&s", &message));
  g_assert_cmpstr (message, ==, "failed");
}

/* One record of publish-record.sh: its environment, keyed by name. */
typedef struct {
  GHashTable *env;
  JsonObject *input;
} Record;

static void
record_free (Record *record)
{
  g_hash_table_unref (record->env);
  json_object_unref (record->input);
  g_free (record);
}

static GPtrArray *
read_records (Fixture *f)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  g_autoptr(GDir) dir = g_dir_open (f->records, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".env"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *env_path = g_build_filename (f->records, names->pdata[i], NULL);
      g_autofree char *json_path = g_strndup (env_path, strlen (env_path) - strlen (".env"));
      g_autofree char *json_file = g_strconcat (json_path, ".json", NULL);
      g_autofree char *env_text = NULL;
      g_autofree char *json = NULL;
      g_auto(GStrv) lines = NULL;
      Record *record = g_new0 (Record, 1);

      g_assert_true (g_file_get_contents (env_path, &env_text, NULL, NULL));
      g_assert_true (g_file_get_contents (json_file, &json, NULL, NULL));
      record->env = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      lines = g_strsplit (env_text, "\n", -1);
      for (guint l = 0; lines[l] != NULL; l++)
        {
          const char *equals = strchr (lines[l], '=');

          if (equals != NULL)
            g_hash_table_insert (record->env, g_strndup (lines[l], equals - lines[l]),
                                 g_strdup (equals + 1));
        }
      record->input = agl_sync_harness_parse_object (json);
      g_ptr_array_add (records, record);
    }
  return g_steal_pointer (&records);
}

/* Runs the main loop until publish-record.sh recorded a run with
 * @presence, looking at each ConnectionChanged (sent once the run ended). */
static Record *
wait_for_record (Fixture    *f,
                 const char *presence,
                 guint       seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);
  guint seen = G_MAXUINT;

  for (;;)
    {
      if (seen != f->connection_changes)
        {
          g_autoptr(GPtrArray) records = NULL;

          seen = f->connection_changes;
          records = read_records (f);
          for (guint i = 0; i < records->len; i++)
            {
              Record *record = g_ptr_array_index (records, i);

              if (g_strcmp0 (g_hash_table_lookup (record->env, "AGL_PRESENCE"), presence) == 0)
                {
                  g_source_remove (id);
                  return g_ptr_array_steal_index (records, i);
                }
            }
        }
      if (timed_out)
        {
          agl_sync_harness_dump_daemon_log (&f->h);
          g_error ("the command did not record presence %s within %u s", presence, seconds);
        }
      g_main_context_iteration (NULL, TRUE);
    }
}

static char *
command_rules (Fixture    *f,
               const char *script,
               const char *extra)
{
  g_autofree char *program = g_build_filename (f->fixtures, script, NULL);

  return g_strdup_printf ("{\"publishers\": {\"command\": {\"argv\": [\"%s\", \"%s\"]%s}}}",
                          program, f->records, extra != NULL ? extra : "");
}

/* The command runs within a second of the boundary with the status in its
 * environment and, as JSON, on its standard input. */
static void
test_command_env_and_stdin (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *rules = command_rules (f, "publish-record.sh", NULL);
  gint64 start, end, run_at;
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;
  Record *available, *busy;
  JsonObject *phone;

  set_rules (f, rules);
  available = wait_for_record (f, "available", DELIVERY_SECONDS);
  g_assert_cmpstr (g_hash_table_lookup (available->env, "AGL_ACCOUNT"), ==, ACCOUNT);
  g_assert_cmpstr (g_hash_table_lookup (available->env, "AGL_ACTION"), ==, "none");
  g_assert_cmpstr (g_hash_table_lookup (available->env, "AGL_REASON"), ==, "");
  g_assert_cmpstr (g_hash_table_lookup (available->env, "AGL_TEXT"), ==, "");
  g_assert_cmpstr (json_object_get_string_member (available->input, "presence"), ==, "available");
  record_free (available);

  start = g_get_real_time () / G_USEC_PER_SEC + 3;
  end = start + 2;
  start_text = agl_sync_harness_iso (start);
  end_text = agl_sync_harness_iso (end);
  create_appointment (f, "soon@publish.test", "Stand-up", start, end);

  busy = wait_for_record (f, "busy", 10);
  run_at = g_ascii_strtoll (g_hash_table_lookup (busy->env, "RUN_AT"), NULL, 10) / 1000;
  g_test_message ("the command ran %" G_GINT64_FORMAT " µs after the start",
                  run_at - start * G_USEC_PER_SEC);
  g_assert_cmpint (run_at, >=, start * G_USEC_PER_SEC);
  g_assert_cmpint (run_at, <, (start + 1) * G_USEC_PER_SEC);

  phone = json_object_get_object_member (busy->input, "phone");
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_ACCOUNT"), ==, ACCOUNT);
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_AT"), ==, start_text);
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_UNTIL"), ==, end_text);
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_ACTION"), ==, "divert");
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_FORWARD_INTERNAL"), ==, "true");
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_REASON"), ==,
                   json_object_get_string_member (phone, "reason"));
  g_assert_cmpstr (g_hash_table_lookup (busy->env, "AGL_TEXT"), ==,
                   json_object_get_string_member (busy->input, "text"));
  g_assert_cmpstr (json_object_get_string_member (busy->input, "account"), ==, ACCOUNT);
  g_assert_cmpstr (json_object_get_string_member (busy->input, "presence"), ==, "busy");
  g_assert_cmpstr (json_object_get_string_member (busy->input, "at"), ==, start_text);
  g_assert_cmpstr (json_object_get_string_member (phone, "action"), ==, "divert");
  record_free (busy);

  g_variant_unref (wait_for_publisher (f, "command", "delivered", 1, DELIVERY_SECONDS));
}

/* Exit status 3: retried, the message naming the program, the status and
 * the last line it wrote on stderr. */
static void
test_command_exit_status (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *rules = command_rules (f, "publish-fail.sh", NULL);
  g_autofree char *program = g_build_filename (f->fixtures, "publish-fail.sh", NULL);
  g_autoptr(JsonObject) shown = NULL;
  const char *message;

  set_rules (f, rules);
  g_variant_unref (wait_for_publisher (f, "command", "retrying", 2, 20));
  shown = ctl_publisher (f, "command");
  message = json_object_get_string_member (shown, "message");
  g_assert_nonnull (strstr (message, program));
  g_assert_nonnull (strstr (message, "exited with status 3"));
  g_assert_true (g_str_has_suffix (message, ": the phone system said no"));
  g_assert_null (strstr (message, "connecting to the phone system"));
}

/* A command that outlives its timeout is stopped, and it says so. */
static void
test_command_timeout (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *rules = command_rules (f, "publish-sleep.sh", ", \"timeout\": 1");
  g_autoptr(GVariant) publisher = NULL;
  g_autoptr(GVariant) reply = NULL;
  const char *message;
  gint64 started = g_get_real_time ();

  set_rules (f, rules);
  publisher = wait_for_publisher (f, "command", "retrying", 1, 20);
  g_assert_true (g_variant_lookup (publisher, "message", "&s", &message));
  g_test_message ("message: %s", message);
  g_assert_nonnull (strstr (message, "publish-sleep.sh"));
  g_assert_nonnull (strstr (message, "timed out"));
  /* Stopped after its second, not after the sleep's minute. */
  g_assert_cmpint (g_get_real_time () - started, <, 15 * G_USEC_PER_SEC);
  /* The daemon kept serving while the command ran. */
  reply = call (f, "GetStatus", g_variant_new ("(ss)", ACCOUNT, ""), G_VARIANT_TYPE ("(s)"));
}

/* Bad publishers are refused naming the key; the old rules stay. */
static void
test_rules_bad_publishers (Fixture       *f,
                           gconstpointer  data)
{
  static const struct {
    const char *rules;
    const char *key;
  } bad[] = {
    { "{\"publishers\": {\"fax\": {\"number\": \"+4712345678\"}}}", "publishers.fax" },
    { "{\"publishers\": {\"webhook\": {\"url\": \"ftp://x\", \"secret\": \"k\"}}}",
      "publishers.webhook.url: “ftp://x” is not an http or https URL" },
    { "{\"publishers\": {\"webhook\": {\"url\": \"https://x.test/\", \"secret\": \"k\", \"colour\": 1}}}",
      "publishers.webhook.colour" },
    { "{\"publishers\": {\"webhook\": {\"url\": \"https://x.test/\", \"secret\": \"k\", \"timeout\": 0}}}",
      "publishers.webhook.timeout" },
    { "{\"publishers\": {\"command\": {}}}", "publishers.command.argv" },
    { "{\"publishers\": {\"command\": {\"argv\": []}}}", "publishers.command.argv" },
    { "{\"publishers\": {\"command\": {\"argv\": [\"bin/hook\"]}}}", "publishers.command.argv[0]" },
    { "{\"publishers\": {\"webhook\": {\"url\": \"https://x.test/\", \"secret\": null}}}",
      "publishers.webhook.secret" },
  };
  g_autofree char *no_secret = NULL;
  g_autofree char *good = NULL;
  g_autofree char *before = NULL;
  g_autofree char *bad_file = g_build_filename (f->h.dir, "bad-rules.json", NULL);
  g_autoptr(AglCtlResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* No secret stored and none given. */
  no_secret = call_fails (f, "SetRules",
                          g_variant_new ("(ss)", ACCOUNT,
                                         "{\"publishers\": {\"webhook\": {\"url\": \"https://x.test/\"}}}"),
                          "InvalidArgument");
  g_assert_cmpstr (no_secret, ==, "publishers.webhook.secret: a webhook needs a secret to sign its requests.");

  good = g_strdup_printf ("{\"actions\": {\"Busy\": \"dnd\"}, \"publishers\": {\"webhook\": "
                          "{\"url\": \"%s\", \"secret\": \"%s\"}}}", f->hook_url, SECRET);
  set_rules (f, good);
  before = get_rules (f);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *message = call_fails (f, "SetRules", g_variant_new ("(ss)", ACCOUNT, bad[i].rules),
                                             "InvalidArgument");
      g_autofree char *after = NULL;

      g_test_message ("refused: %s", message);
      g_assert_true (g_str_has_prefix (message, bad[i].key));
      after = get_rules (f);
      g_assert_cmpstr (after, ==, before);
    }

  /* From agendalinectl, the message on stderr and a failure status. */
  g_file_set_contents (bad_file, bad[0].rules, -1, &error);
  g_assert_no_error (error);
  result = agl_sync_harness_run_ctl (&f->h, NULL, "rules", "set", ACCOUNT, bad_file, NULL);
  g_assert_cmpint (result->status, !=, 0);
  g_assert_nonnull (strstr (result->err, "publishers.fax is not a publisher; use webhook, command or sip"));
  {
    g_autofree char *after = get_rules (f);

    g_assert_cmpstr (after, ==, before);
  }
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  return memmem (contents, length, needle, strlen (needle)) != NULL;
}

/* The secret is never shown nor stored with the rules; `rules --json`
 * then `rules set` keeps it; removing the account forgets it. */
static void
test_secret_never_shown (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *rules = webhook_rules (f->hook_url, NULL);
  g_autofree char *shown = NULL;
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;
  g_autofree char *connections = NULL;
  g_autofree char *edited = NULL;
  g_autofree char *db = g_build_filename (f->h.dir, "agenda.db", NULL);
  g_autofree char *db_wal = g_build_filename (f->h.dir, "agenda.db-wal", NULL);
  g_autofree char *passwords = g_build_filename (f->h.dir, "passwords", NULL);
  g_autofree char *message = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GVariant) reply = NULL;
  JsonObject *webhook;
  Request *request;

  g_free (ctl (f, rules, "rules", "set", ACCOUNT, "-", NULL));
  wait_for_requests (f, 1, DELIVERY_SECONDS);

  shown = ctl (f, NULL, "rules", ACCOUNT, "--json", NULL);
  g_test_message ("rules --json: %s", shown);
  g_assert_null (strstr (shown, SECRET));
  object = agl_sync_harness_parse_object (shown);
  webhook = json_object_get_object_member (json_object_get_object_member (object, "publishers"),
                                           "webhook");
  g_assert_true (json_object_get_boolean_member (webhook, "has_secret"));
  g_assert_false (json_object_has_member (webhook, "secret"));

  text = ctl (f, NULL, "rules", ACCOUNT, NULL);
  connections = ctl (f, NULL, "connections", "--json", NULL);
  log = ctl (f, NULL, "log", NULL);
  g_assert_null (strstr (text, SECRET));
  g_assert_null (strstr (connections, SECRET));
  g_assert_null (strstr (log, SECRET));
  g_assert_false (file_contains (db, SECRET));
  g_assert_false (file_contains (db_wal, SECRET));
  /* Nor in what the daemon wrote, every debug message included. */
  g_assert_false (file_contains (f->h.daemon_log, SECRET));

  /* What `rules --json` printed, edited, goes back: the secret stays (the
   * webhook, made anew for its new timeout, still signs with it). */
  {
    g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);

    json_object_set_int_member (webhook, "timeout", 11);
    json_node_set_object (root, object);
    edited = json_to_string (root, TRUE);
  }
  g_free (ctl (f, edited, "rules", "set", ACCOUNT, "-", NULL));
  wait_for_requests (f, 2, DELIVERY_SECONDS);
  request = g_ptr_array_index (f->requests, 1);
  assert_request_signed (request);

  /* The secret lives in the fallback file of the test bus, apart from
   * the account's password. */
  g_assert_true (file_contains (passwords, SECRET));
  /* null removes it, and a webhook without one is refused. */
  message = call_fails (f, "SetRules",
                        g_variant_new ("(ss)", ACCOUNT,
                                       "{\"publishers\": {\"webhook\": {\"url\": \"https://x.test/\", \"secret\": null}}}"),
                        "InvalidArgument");
  g_assert_nonnull (strstr (message, "publishers.webhook.secret"));
  g_assert_true (file_contains (passwords, SECRET));

  reply = call (f, "RemoveAccount", g_variant_new ("(s)", ACCOUNT), NULL);
  g_assert_false (file_contains (passwords, SECRET));
  g_assert_false (file_contains (f->h.daemon_log, SECRET));
}

static GVariant *
get_statuses (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply =
    g_dbus_connection_call_sync (f->h.connection, AGL_BUS_NAME, AGL_OBJECT_PATH,
                                 "org.freedesktop.DBus.Properties", "Get",
                                 g_variant_new ("(ss)", AGL_BUS_NAME, "Statuses"),
                                 G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_autoptr(GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE ("a{ss}")));
  return g_steal_pointer (&value);
}

/* Statuses has every enabled account's status, and PropertiesChanged
 * says when it changes, within a second of the boundary. */
static void
test_statuses_property (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GVariant) statuses = get_statuses (f);
  g_autoptr(JsonObject) status = NULL;
  g_autoptr(JsonObject) shown = NULL;
  g_autoptr(GVariant) reply = NULL;
  gboolean timed_out = FALSE;
  const char *json;
  gint64 start;
  g_autofree char *start_text = NULL;
  StatusSeen *busy = NULL;
  guint id;

  g_assert_true (g_variant_lookup (statuses, ACCOUNT, "&s", &json));
  status = agl_sync_harness_parse_object (json);
  g_assert_cmpstr (json_object_get_string_member (status, "account"), ==, ACCOUNT);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "available");

  start = g_get_real_time () / G_USEC_PER_SEC + 3;
  start_text = agl_sync_harness_iso (start);
  create_appointment (f, "soon@publish.test", "Stand-up", start, start + 60);

  id = g_timeout_add_seconds (10, timeout_cb, &timed_out);
  while (busy == NULL && !timed_out)
    {
      g_main_context_iteration (NULL, TRUE);
      for (guint i = 0; i < f->statuses_seen->len && busy == NULL; i++)
        {
          StatusSeen *seen = g_ptr_array_index (f->statuses_seen, i);

          if (g_strcmp0 (json_object_get_string_member (seen->status, "presence"), "busy") == 0)
            busy = seen;
        }
    }
  if (busy == NULL)
    g_error ("no PropertiesChanged with Statuses busy within 10 s");
  g_source_remove (id);
  g_test_message ("PropertiesChanged %" G_GINT64_FORMAT " µs after the start",
                  busy->received - start * G_USEC_PER_SEC);
  g_assert_cmpint (busy->received, >=, start * G_USEC_PER_SEC);
  g_assert_cmpint (busy->received, <, (start + 1) * G_USEC_PER_SEC);
  g_assert_cmpstr (json_object_get_string_member (busy->status, "at"), ==, start_text);

  g_clear_pointer (&statuses, g_variant_unref);
  statuses = get_statuses (f);
  g_assert_true (g_variant_lookup (statuses, ACCOUNT, "&s", &json));
  g_clear_pointer (&status, json_object_unref);
  status = agl_sync_harness_parse_object (json);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "busy");

  /* The signal is a publisher too, and `connections` lists it. */
  shown = ctl_publisher (f, "dbus");
  g_assert_cmpstr (json_object_get_string_member (shown, "state"), ==, "delivered");

  /* A disabled account has no status. */
  reply = call (f, "DisableAccount", g_variant_new ("(s)", ACCOUNT), NULL);
  g_clear_pointer (&statuses, g_variant_unref);
  statuses = get_statuses (f);
  g_assert_false (g_variant_lookup (statuses, ACCOUNT, "&s", &json));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/publish/webhook/signed-within-a-second-of-boundaries", test_webhook_signed_at_boundary);
  ADD ("/publish/webhook/https-private-ca", test_webhook_private_ca);
  ADD ("/publish/webhook/retries-after-500", test_webhook_retries_after_500);
  ADD ("/publish/webhook/newer-status-supersedes-retry", test_webhook_newer_supersedes);
  ADD ("/publish/webhook/unreachable-retrying", test_webhook_unreachable_retrying);
  ADD ("/publish/webhook/401-failed-no-retries", test_webhook_refused_failed);
  ADD ("/publish/command/env-and-stdin-within-a-second", test_command_env_and_stdin);
  ADD ("/publish/command/exit-status-with-stderr", test_command_exit_status);
  ADD ("/publish/command/timeout-stopped", test_command_timeout);
  ADD ("/publish/rules/bad-publishers-refused-old-stay", test_rules_bad_publishers);
  ADD ("/publish/secrets/never-shown-kept-removed", test_secret_never_shown);
  ADD ("/publish/dbus/statuses-property", test_statuses_property);
#undef ADD

  return g_test_run ();
}
