/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "agl-sync-harness.h"

/* Longer than the session's own timeout, so that libsoup's error, which
 * says more, comes first. */
#define HTTP_WAIT_SECONDS    120
#define SESSION_TIMEOUT_S    60
#define CALL_TIMEOUT_MS      60000

typedef struct {
  char     *line;
  gboolean  done;
} LineRead;

typedef struct {
  GBytes   *bytes;
  GError   *error;
  gboolean  done;
} Reply;

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  ((AglSyncHarness *) user_data)->daemon_serving = TRUE;
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  ((AglSyncHarness *) user_data)->daemon_serving = FALSE;
}

/* The server and the daemon go with the program when it dies, even when an
 * assertion aborts it, so that nothing holds meson's pipes open (when
 * death_signal is set). */
static void
die_with_parent_cb (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, GPOINTER_TO_INT (user_data));
}

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineRead *read = user_data;

  read->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                          NULL, NULL);
  read->done = TRUE;
}

static void
process_exited_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Reply *reply = user_data;

  reply->bytes = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &reply->error);
  reply->done = TRUE;
}

/* libsoup 3 does not rewind a request body when authentication restarts
 * a message; set it again. */
static void
restarted_cb (SoupMessage *msg,
              gpointer     user_data)
{
  soup_message_set_request_body_from_bytes (msg, "text/xml; charset=utf-8", user_data);
}

void
agl_ctl_result_free (AglCtlResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result->command);
  g_free (result);
}

/**
 * agl_sync_harness_env:
 *
 * Returns: the value of the environment variable @name; a program run
 * outside meson, where it is not set, stops here.
 */
const char *
agl_sync_harness_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL)
    g_error ("%s is not set; run this with “meson test”", name);
  return value;
}

/* Returns: the path of the server's fixture @name (certificates). */
char *
agl_sync_harness_server_fixture (const char *name)
{
  return g_build_filename (agl_sync_harness_env ("AGL_EWS_SERVER_FIXTURES"), name, NULL);
}

/**
 * agl_sync_harness_wait_for_flag:
 *
 * Runs the main loop until *@flag or @seconds pass.
 *
 * Returns: *@flag
 */
gboolean
agl_sync_harness_wait_for_flag (gboolean *flag,
                                guint     seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

/* Runs the main loop for @ms milliseconds: a poll's interval, or a delay
 * that is itself the point. */
void
agl_sync_harness_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Removes @path and everything under it, without following symlinks. */
void
agl_sync_harness_remove_dir (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            agl_sync_harness_remove_dir (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

/**
 * agl_sync_harness_init:
 * @dir_template: for g_dir_make_tmp()
 *
 * Makes the scratch directory, brings up the private bus and watches the
 * daemon's name on it.  The options at the top of @h are the caller's.
 */
void
agl_sync_harness_init (AglSyncHarness *h,
                       const char     *dir_template)
{
  g_autoptr(GError) error = NULL;

  h->dir = g_dir_make_tmp (dir_template, &error);
  g_assert_no_error (error);
  h->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (h->bus);
  h->connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (h->bus),
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  h->watch_id = g_bus_watch_name_on_connection (h->connection, AGL_BUS_NAME,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                name_appeared_cb, name_vanished_cb, h, NULL);
}

/**
 * agl_sync_harness_clear:
 * @remove_dir: whether the scratch directory goes too
 *
 * Stops the daemon and the server that run, takes the bus down and frees
 * what @h holds.
 */
void
agl_sync_harness_clear (AglSyncHarness *h,
                        gboolean        remove_dir)
{
  agl_sync_harness_stop_process (h, h->daemon);
  agl_sync_harness_stop_process (h, h->server);
  g_bus_unwatch_name (h->watch_id);
  g_dbus_connection_close_sync (h->connection, NULL, NULL);
  g_clear_object (&h->connection);
  g_clear_object (&h->session);
  g_test_dbus_down (h->bus);
  g_clear_object (&h->bus);
  g_clear_object (&h->daemon);
  g_clear_object (&h->server);
  if (remove_dir)
    agl_sync_harness_remove_dir (h->dir);
  g_clear_pointer (&h->dir, g_free);
  g_clear_pointer (&h->url, g_free);
  g_clear_pointer (&h->base, g_free);
  g_clear_pointer (&h->daemon_log, g_free);
}

/**
 * agl_sync_harness_new_launcher:
 *
 * Returns: a launcher for a child that sees nothing outside the scratch
 * directory (passwords go to the daemon's fallback file: there is no
 * Secret Service on the test bus), talks to the private bus, and dies
 * with this process.
 */
GSubprocessLauncher *
agl_sync_harness_new_launcher (AglSyncHarness   *h,
                               GSubprocessFlags  flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  g_autofree char *home = g_build_filename (h->dir, "home", NULL);
  g_autofree char *config = g_build_filename (home, ".config", NULL);
  g_autofree char *data = g_build_filename (home, ".local", "share", NULL);
  g_autofree char *cache = g_build_filename (home, ".cache", NULL);

  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (h->bus), TRUE);
  for (guint i = 0; h->child_env != NULL && h->child_env[i] != NULL; i++)
    {
      const char *equals = strchr (h->child_env[i], '=');

      if (equals != NULL)
        {
          g_autofree char *name = g_strndup (h->child_env[i], equals - h->child_env[i]);

          g_subprocess_launcher_setenv (launcher, name, equals + 1, TRUE);
        }
      else
        g_subprocess_launcher_unsetenv (launcher, h->child_env[i]);
    }
  g_subprocess_launcher_set_cwd (launcher, h->dir);
  if (h->death_signal != 0)
    g_subprocess_launcher_set_child_setup (launcher, die_with_parent_cb,
                                           GINT_TO_POINTER (h->death_signal), NULL);
  return launcher;
}

/**
 * agl_sync_harness_start_server:
 * @seed: the path of the server's seed (its mailboxes)
 *
 * Starts agl-ews-server on a port of its choosing and waits for the EWS
 * URL it prints once it listens; sets url, base, port and a session that
 * trusts the test CA.
 */
void
agl_sync_harness_start_server (AglSyncHarness *h,
                               const char     *seed)
{
  g_autoptr(GSubprocessLauncher) launcher =
    agl_sync_harness_new_launcher (h, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *cert = agl_sync_harness_server_fixture ("server.pem");
  g_autofree char *key = agl_sync_harness_server_fixture ("server-key.pem");
  g_autofree char *ca_path = agl_sync_harness_server_fixture ("ca.pem");
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  LineRead read = { NULL, FALSE };
  const char *path;

  h->server = g_subprocess_launcher_spawn (launcher, &error,
                                           agl_sync_harness_env ("AGL_TEST_EWS_SERVER"),
                                           "--seed", seed, "--cert", cert, "--key", key,
                                           "--kit", agl_sync_harness_env ("AGL_EWS_KIT"),
                                           "--port", "0", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (h->server));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, line_read_cb, &read);
  if (!agl_sync_harness_wait_for_flag (&read.done, h->timeout_seconds) || read.line == NULL)
    g_error ("agl-ews-server printed no URL within %u s", h->timeout_seconds);
  g_assert_true (g_str_has_prefix (read.line, "https://127.0.0.1:"));
  h->url = read.line;
  path = strchr (h->url + strlen ("https://"), '/');
  g_assert_nonnull (path);
  h->base = g_strndup (h->url, path - h->url);
  h->port = (guint) g_ascii_strtoull (h->url + strlen ("https://127.0.0.1:"), NULL, 10);
  g_assert_cmpuint (h->port, >, 0);

  ca = g_tls_file_database_new (ca_path, &error);
  g_assert_no_error (error);
  g_clear_object (&h->session);
  h->session = g_object_new (SOUP_TYPE_SESSION, "tls-database", ca, "proxy-resolver", NULL,
                             "timeout", SESSION_TIMEOUT_S, "idle-timeout", 0, NULL);
}

/**
 * agl_sync_harness_start_daemon:
 * @log_name: the daemon's log (stdout and stderr), in the scratch directory
 * @messages_debug: (nullable): G_MESSAGES_DEBUG for it
 *
 * Starts agendalined on the database of the scratch directory and waits
 * until it owns its name on the bus.
 */
void
agl_sync_harness_start_daemon (AglSyncHarness *h,
                               const char     *log_name,
                               const char     *messages_debug)
{
  g_autoptr(GSubprocessLauncher) launcher =
    agl_sync_harness_new_launcher (h, G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *db = g_build_filename (h->dir, "agenda.db", NULL);
  g_autoptr(GError) error = NULL;

  g_free (h->daemon_log);
  h->daemon_log = g_build_filename (h->dir, log_name, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, h->daemon_log);
  if (messages_debug != NULL)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", messages_debug, TRUE);
  h->daemon = g_subprocess_launcher_spawn (launcher, &error,
                                           agl_sync_harness_env ("AGL_TEST_DAEMON"),
                                           "--db", db, NULL);
  g_assert_no_error (error);
  if (!agl_sync_harness_wait_for_flag (&h->daemon_serving, h->timeout_seconds))
    g_error ("agendalined did not come up on the bus within %u s", h->timeout_seconds);
}

/* SIGTERM to @process (nothing when NULL), and waits until it is gone. */
void
agl_sync_harness_stop_process (AglSyncHarness *h,
                               GSubprocess    *process)
{
  gboolean exited = FALSE;

  if (process == NULL)
    return;
  g_subprocess_wait_async (process, NULL, process_exited_cb, &exited);
  g_subprocess_send_signal (process, SIGTERM);
  if (!agl_sync_harness_wait_for_flag (&exited, h->timeout_seconds))
    {
      g_subprocess_force_exit (process);
      g_error ("%s did not exit on SIGTERM", g_subprocess_get_identifier (process));
    }
}

/* The daemon's log on stderr (g_test_message() is silent in a test
 * subprocess), for a failure. */
void
agl_sync_harness_dump_daemon_log (AglSyncHarness *h)
{
  g_autofree char *log = NULL;

  if (h->daemon_log != NULL && g_file_get_contents (h->daemon_log, &log, NULL, NULL))
    g_printerr ("---- agendalined's log ----\n%s---- end of agendalined's log ----\n", log);
}

/**
 * agl_sync_harness_run_ctl_valist:
 * @input: (nullable): its standard input
 * @args: its arguments, up to a NULL
 *
 * Runs agendalinectl and captures what it did; reports nothing.
 */
AglCtlResult *
agl_sync_harness_run_ctl_valist (AglSyncHarness *h,
                                 const char     *input,
                                 va_list         args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GString) line = g_string_new ("$ agendalinectl");
  g_autoptr(GError) error = NULL;
  AglCtlResult *result = g_new0 (AglCtlResult, 1);
  const char *arg;

  g_ptr_array_add (argv, (char *) agl_sync_harness_env ("AGL_TEST_CTL"));
  while ((arg = va_arg (args, const char *)) != NULL)
    {
      g_ptr_array_add (argv, (char *) arg);
      g_string_append_printf (line, " %s", arg);
    }
  g_ptr_array_add (argv, NULL);

  launcher = agl_sync_harness_new_launcher (h, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                        : -1;
  result->command = g_string_free (g_steal_pointer (&line), FALSE);
  return result;
}

/* As agl_sync_harness_run_ctl_valist(), with the arguments up to a NULL. */
AglCtlResult *
agl_sync_harness_run_ctl (AglSyncHarness *h,
                          const char     *input,
                          ...)
{
  AglCtlResult *result;
  va_list ap;

  va_start (ap, input);
  result = agl_sync_harness_run_ctl_valist (h, input, ap);
  va_end (ap);
  return result;
}

/* @method of the daemon's object over the private bus; no auto-start. */
GVariant *
agl_sync_harness_call_daemon (AglSyncHarness      *h,
                              const char          *method,
                              GVariant            *parameters,
                              const GVariantType  *reply_type,
                              GError             **error)
{
  return g_dbus_connection_call_sync (h->connection, AGL_BUS_NAME, AGL_OBJECT_PATH,
                                      AGL_BUS_NAME, method, parameters, reply_type,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL,
                                      error);
}

/**
 * agl_sync_harness_http:
 * @path: on the server's origin ("/control/…", "/EWS/…")
 * @body: (nullable): XML to send
 * @status: (out): the HTTP status
 *
 * @method @path on the server, waiting on the main loop; a request to
 * /EWS/ logs in with ews_login.  A transport error stops the program.
 *
 * Returns: the answer's text
 */
char *
agl_sync_harness_http (AglSyncHarness *h,
                       const char     *method,
                       const char     *path,
                       const char     *body,
                       guint          *status)
{
  g_autofree char *uri = g_strconcat (h->base, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, uri);
  Reply reply = { NULL, NULL, FALSE };
  char *text;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "text/xml; charset=utf-8", bytes);
      g_signal_connect_data (msg, "restarted", G_CALLBACK (restarted_cb), g_bytes_ref (bytes),
                             (GClosureNotify) (void (*) (void)) g_bytes_unref, 0);
    }
  if (g_str_has_prefix (path, "/EWS/") && h->ews_login != NULL)
    {
      g_autofree char *encoded = g_base64_encode ((const guchar *) h->ews_login,
                                                  strlen (h->ews_login));
      g_autofree char *value = g_strconcat ("Basic ", encoded, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
  soup_session_send_and_read_async (h->session, msg, G_PRIORITY_DEFAULT, NULL, sent_cb, &reply);
  if (!agl_sync_harness_wait_for_flag (&reply.done, HTTP_WAIT_SECONDS))
    g_error ("%s %s: no answer within %d s", method, path, HTTP_WAIT_SECONDS);
  if (reply.error != NULL)
    g_error ("%s %s: %s", method, path, reply.error->message);
  *status = soup_message_get_status (msg);
  text = g_strndup (g_bytes_get_data (reply.bytes, NULL), g_bytes_get_size (reply.bytes));
  g_bytes_unref (reply.bytes);
  return text;
}

/* @body (an EWS operation) in a SOAP envelope for Exchange 2013 SP1,
 * posted to the server's EWS endpoint as ews_login; see
 * agl_sync_harness_http(). */
char *
agl_sync_harness_ews_call (AglSyncHarness *h,
                           const char     *body,
                           guint          *status)
{
  g_autofree char *request =
    g_strconcat ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                 "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                 "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" "
                 "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">"
                 "<soap:Header><t:RequestServerVersion "
                 "Version=\"Exchange2013_SP1\"/></soap:Header>"
                 "<soap:Body>", body, "</soap:Body></soap:Envelope>", NULL);

  return agl_sync_harness_http (h, "POST", "/EWS/Exchange.asmx", request, status);
}

/**
 * agl_sync_harness_iso:
 * @t: Unix time
 *
 * Returns: (transfer full): @t as ISO 8601 UTC, "2027-03-01T09:00:00Z"
 */
char *
agl_sync_harness_iso (gint64 t)
{
  g_autoptr(GDateTime) datetime = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (datetime, "%Y-%m-%dT%H:%M:%SZ");
}

/**
 * agl_sync_harness_ical_time:
 * @t: Unix time
 *
 * Returns: (transfer full): @t as an iCalendar UTC time, "20270301T090000Z"
 */
char *
agl_sync_harness_ical_time (gint64 t)
{
  g_autoptr(GDateTime) datetime = g_date_time_new_from_unix_utc (t);

  return g_date_time_format (datetime, "%Y%m%dT%H%M%SZ");
}

/**
 * agl_sync_harness_parse_object:
 * @json: JSON text that must be an object (the test fails otherwise)
 *
 * Returns: (transfer full): the object
 */
JsonObject *
agl_sync_harness_parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}
