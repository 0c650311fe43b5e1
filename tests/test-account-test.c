/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * End to end: "agendalinectl account test" through the real agendalined on
 * a private session bus (GTestDBus) against the test Exchange server
 * (tests/ews-server, its demo mailboxes, NTLM, TLS with the test CA).
 *
 * AGL_TEST_DAEMON, AGL_TEST_CTL and AGL_TEST_EWS_SERVER name the binaries,
 * AGL_EWS_SERVER_FIXTURES the server's certificates and seed, AGL_EWS_KIT
 * the schemas it validates against.  Every wait is on the main loop for the
 * event itself, with a timeout.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#define WAIT_TIMEOUT_SECONDS 30

typedef struct {
  GTestDBus       *bus;
  GDBusConnection *connection;
  guint            watch_id;
  gboolean         daemon_serving;
  char            *dir;
  GSubprocess     *server;
  char            *url;
  GSubprocess     *daemon;
  char            *daemon_log;
} Fixture;

typedef struct {
  int   status;
  char *out;
  char *err;
} CtlResult;

static void
ctl_result_free (CtlResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlResult, ctl_result_free)

static const char *
test_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL)
    g_error ("%s is not set; run this test with “meson test”", name);
  return value;
}

static char *
server_fixture (const char *name)
{
  return g_build_filename (test_env ("AGL_EWS_SERVER_FIXTURES"), name, NULL);
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *@flag or the timeout. */
static gboolean
wait_for_flag (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *flag;
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         user_data)
{
  ((Fixture *) user_data)->daemon_serving = TRUE;
}

static GSubprocessLauncher *
new_launcher (Fixture          *f,
              GSubprocessFlags  flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  g_autofree char *home = g_build_filename (f->dir, "home", NULL);
  g_autofree char *config = g_build_filename (home, ".config", NULL);
  g_autofree char *data = g_build_filename (home, ".local", "share", NULL);
  g_autofree char *cache = g_build_filename (home, ".cache", NULL);

  /* Nothing outside the scratch directory; passwords go to the daemon's
   * fallback file (no Secret Service on the test bus). */
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (f->bus), TRUE);
  g_subprocess_launcher_setenv (launcher, "SOUP_NTLM_AUTH_DEBUG", "", TRUE);
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "gc-friendly", TRUE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  return launcher;
}

typedef struct {
  char     *line;
  gboolean  done;
} LineRead;

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

/* The server prints its EWS URL once it listens. */
static void
start_server (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *seed = server_fixture ("demo-seed.json");
  g_autofree char *cert = server_fixture ("server.pem");
  g_autofree char *key = server_fixture ("server-key.pem");
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  LineRead read = { NULL, FALSE };

  f->server = g_subprocess_launcher_spawn (launcher, &error, test_env ("AGL_TEST_EWS_SERVER"),
                                           "--seed", seed, "--cert", cert, "--key", key,
                                           "--kit", test_env ("AGL_EWS_KIT"), "--port", "0",
                                           NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->server));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, line_read_cb, &read);
  if (!wait_for_flag (&read.done) || read.line == NULL)
    g_error ("agl-ews-server printed no URL within %d s", WAIT_TIMEOUT_SECONDS);
  g_assert_true (g_str_has_prefix (read.line, "https://127.0.0.1:"));
  f->url = read.line;
}

static void
start_daemon (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autofree char *db = g_build_filename (f->dir, "agenda.db", NULL);
  g_autoptr(GError) error = NULL;

  f->daemon_log = g_build_filename (f->dir, "agendalined.log", NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, f->daemon_log);
  /* The EWS client logs the RequestServerVersion of every request it
   * sends; the test server keeps no log of its own. */
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "agendalined-ews", TRUE);
  f->daemon = g_subprocess_launcher_spawn (launcher, &error, test_env ("AGL_TEST_DAEMON"),
                                           "--db", db, NULL);
  g_assert_no_error (error);
  if (!wait_for_flag (&f->daemon_serving))
    g_error ("agendalined did not come up on the bus within %d s", WAIT_TIMEOUT_SECONDS);
}

static void
dump_daemon_log (Fixture *f)
{
  g_autofree char *log = NULL;

  if (g_file_get_contents (f->daemon_log, &log, NULL, NULL))
    g_test_message ("agendalined:\n%s", log);
}

static CtlResult *
run_ctl (Fixture    *f,
         const char *input,
         ...) G_GNUC_NULL_TERMINATED;

static CtlResult *
run_ctl (Fixture    *f,
         const char *input,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  CtlResult *result = g_new0 (CtlResult, 1);
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) test_env ("AGL_TEST_CTL"));
  va_start (ap, input);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                        : -1;
  g_test_message ("$ agendalinectl %s -> %d\nstdout: %s\nstderr: %s",
                  (const char *) argv->pdata[1], result->status, result->out, result->err);
  if (result->status != 0)
    dump_daemon_log (f);
  return result;
}

/* Alice of the demo seed, NTLM as EXAMPLE\alice, trusting the test CA. */
static void
add_alice (Fixture    *f,
           const char *password)
{
  g_autofree char *ca = server_fixture ("ca.pem");
  g_autofree char *input = g_strconcat (password, "\n", NULL);
  g_autoptr(CtlResult) result = NULL;

  result = run_ctl (f, input, "account", "add", "work", "--email", "alice@example.org",
                    "--url", f->url, "--auth", "ntlm", "--user", "alice", "--domain", "EXAMPLE",
                    "--ca-file", ca, "--password-stdin", NULL);
  g_assert_cmpint (result->status, ==, 0);
}

/* An account of the demo seed's service account (NTLM as
 * EXAMPLE\svc-agendaline) acting on @mailbox through impersonation. */
static void
add_service_account (Fixture    *f,
                     const char *name,
                     const char *mailbox)
{
  g_autofree char *ca = server_fixture ("ca.pem");
  g_autoptr(CtlResult) result = NULL;

  result = run_ctl (f, "Agendaline-service-1\n", "account", "add", name, "--email", mailbox,
                    "--url", f->url, "--auth", "ntlm", "--user", "svc-agendaline",
                    "--domain", "EXAMPLE", "--impersonate", "--ca-file", ca, "--password-stdin",
                    NULL);
  g_assert_cmpint (result->status, ==, 0);
}

static JsonObject *
list_account (Fixture    *f,
              JsonParser *parser,
              const char *name)
{
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "list", "--json", NULL);
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  g_assert_cmpint (result->status, ==, 0);
  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (object, "name"), name) == 0)
        return object;
    }
  g_error ("account list has no account %s", name);
  return NULL;
}

/* The RequestServerVersion of each request the daemon sent since @offset
 * bytes into its log, in order. */
static GStrv
requested_versions (Fixture *f,
                    gsize    offset)
{
  g_autofree char *log = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (f->daemon_log, &log, &length, NULL));
  g_assert_cmpuint (offset, <=, length);
  lines = g_strsplit (log + offset, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *sending = strstr (lines[i], "Sending GetFolder as ");
      g_auto(GStrv) words = NULL;

      if (sending == NULL)
        continue;
      words = g_strsplit (sending + strlen ("Sending GetFolder as "), " ", 2);
      g_strv_builder_add (builder, words[0]);
    }
  return g_strv_builder_end (builder);
}

static gsize
daemon_log_length (Fixture *f)
{
  g_autofree char *log = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (f->daemon_log, &log, &length, NULL));
  return length;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("agl-account-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus);
  f->connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (f->bus),
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  f->watch_id = g_bus_watch_name_on_connection (f->connection, AGL_BUS_NAME,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                name_appeared_cb, NULL, f, NULL);
  start_server (f);
  start_daemon (f);
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
stop_process (GSubprocess *process)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (process, NULL, process_exited_cb, &exited);
  g_subprocess_send_signal (process, SIGTERM);
  if (!wait_for_flag (&exited))
    {
      g_subprocess_force_exit (process);
      g_error ("%s did not exit on SIGTERM", g_subprocess_get_identifier (process));
    }
}

static void
remove_recursively (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_recursively (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  stop_process (f->daemon);
  stop_process (f->server);
  g_bus_unwatch_name (f->watch_id);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
  g_clear_object (&f->daemon);
  g_clear_object (&f->server);
  remove_recursively (f->dir);
  g_free (f->dir);
  g_free (f->url);
  g_free (f->daemon_log);
}

static void
test_connected (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(CtlResult) result = NULL;
  g_autofree char *expected = NULL;

  add_alice (f, "Agendaline-demo-1");
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 0);
  expected = g_strdup_printf ("Connected to Microsoft Exchange (v15.1.2507.39) at %s as "
                              "alice@example.org; impersonation not used.\n", f->url);
  g_assert_cmpstr (result->out, ==, expected);
  g_assert_cmpstr (result->err, ==, "");
}

static void
test_json (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(CtlResult) result = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  add_alice (f, "Agendaline-demo-1");
  result = run_ctl (f, NULL, "account", "test", "work", "--json", NULL);
  g_assert_cmpint (result->status, ==, 0);
  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "url"), ==, f->url);
  g_assert_cmpstr (json_object_get_string_member (object, "server_version"), ==, "15.1.2507.39");
  g_assert_cmpstr (json_object_get_string_member (object, "product"), ==, "Microsoft Exchange");
  g_assert_cmpstr (json_object_get_string_member (object, "mailbox"), ==, "alice@example.org");
  g_assert_cmpstr (json_object_get_string_member (object, "impersonation"), ==, "not used");
  g_assert_cmpstr (json_object_get_string_member (object, "calendar_folder"), !=, "");
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(CtlResult) result = NULL;

  add_alice (f, "not-the-password");
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_nonnull (strstr (result->err, "EXAMPLE\\alice"));
  g_assert_nonnull (strstr (result->err, "401"));
  g_assert_null (strstr (result->err, "not-the-password"));
}

static void
test_untrusted_certificate (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(CtlResult) update = NULL;
  g_autoptr(CtlResult) result = NULL;

  add_alice (f, "Agendaline-demo-1");
  update = run_ctl (f, NULL, "account", "update", "work", "--ca-file", "", NULL);
  g_assert_cmpint (update->status, ==, 0);
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 1);
  g_assert_nonnull (strstr (result->err, "TLS certificate"));
  g_assert_nonnull (strstr (result->err, "not signed by a trusted certificate authority"));
}

static void
test_impersonation_works (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(CtlResult) result = NULL;
  g_autoptr(CtlResult) json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  JsonObject *object;

  add_service_account (f, "alice-via-service", "alice@example.org");
  result = run_ctl (f, NULL, "account", "test", "alice-via-service", NULL);
  g_assert_cmpint (result->status, ==, 0);
  expected = g_strdup_printf ("Connected to Microsoft Exchange (v15.1.2507.39) at %s as "
                              "alice@example.org; impersonation works.\n", f->url);
  g_assert_cmpstr (result->out, ==, expected);
  g_assert_cmpstr (result->err, ==, "");

  json = run_ctl (f, NULL, "account", "test", "alice-via-service", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  json_parser_load_from_data (parser, json->out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "mailbox"), ==, "alice@example.org");
  g_assert_cmpstr (json_object_get_string_member (object, "impersonation"), ==, "works");
}

/* The server's refusal is the whole answer, in one line that names the
 * EWS code, and it is not mistaken for "works". */
static void
assert_impersonation_refused (Fixture    *f,
                              const char *name,
                              const char *code)
{
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "test", name, NULL);

  g_assert_cmpint (result->status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "agendalinectl: "));
  g_assert_nonnull (strstr (result->err, code));
  /* One line: its only newline ends it. */
  g_assert_true (strchr (result->err, '\n') == result->err + strlen (result->err) - 1);
  g_assert_null (strstr (result->err, "Agendaline-service-1"));
}

static void
test_impersonation_denied (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *ca = server_fixture ("ca.pem");
  g_autoptr(CtlResult) add = NULL;

  /* Alice may not act for Bob: only the service account has the right. */
  add = run_ctl (f, "Agendaline-demo-1\n", "account", "add", "bob-via-alice",
                 "--email", "bob@example.org", "--url", f->url, "--auth", "ntlm",
                 "--user", "alice", "--domain", "EXAMPLE", "--impersonate", "--ca-file", ca,
                 "--password-stdin", NULL);
  g_assert_cmpint (add->status, ==, 0);
  assert_impersonation_refused (f, "bob-via-alice", "ErrorImpersonateUserDenied");

  add_service_account (f, "nobody-via-service", "nobody@example.org");
  assert_impersonation_refused (f, "nobody-via-service", "ErrorNonExistentMailbox");
}

/* "auto" learns the server's version from the first answer; the account
 * remembers it, and the next connection asks for it at once. */
static void
test_server_version_remembered (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(CtlResult) first = NULL;
  g_autoptr(CtlResult) second = NULL;
  g_autoptr(CtlResult) update = NULL;
  g_autoptr(CtlResult) table = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) versions = NULL;
  JsonObject *object;
  gsize offset;

  add_alice (f, "Agendaline-demo-1");
  object = list_account (f, parser, "work");
  g_assert_true (json_object_get_null_member (object, "server_build"));
  g_assert_true (json_object_get_null_member (object, "detected_server_version"));

  offset = daemon_log_length (f);
  first = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (first->status, ==, 0);
  versions = requested_versions (f, offset);
  g_assert_cmpuint (g_strv_length (versions), >=, 1);
  g_assert_cmpstr (versions[0], ==, "Exchange2007_SP1");
  g_clear_pointer (&versions, g_strfreev);

  object = list_account (f, parser, "work");
  g_assert_cmpstr (json_object_get_string_member (object, "server_build"), ==, "15.1.2507.39");
  g_assert_cmpstr (json_object_get_string_member (object, "detected_server_version"), ==,
                   "Exchange2016");
  g_assert_cmpstr (json_object_get_string_member (object, "server_version"), ==, "auto");
  table = run_ctl (f, NULL, "account", "list", NULL);
  g_assert_cmpint (table->status, ==, 0);
  g_assert_nonnull (strstr (table->out, "15.1.2507.39 (Exchange2016)"));

  offset = daemon_log_length (f);
  second = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (second->status, ==, 0);
  versions = requested_versions (f, offset);
  g_assert_cmpuint (g_strv_length (versions), >=, 1);
  for (guint i = 0; versions[i] != NULL; i++)
    g_assert_cmpstr (versions[i], ==, "Exchange2016");
  g_clear_pointer (&versions, g_strfreev);

  /* Another user may sign in to another server: forgotten. */
  update = run_ctl (f, NULL, "account", "update", "work", "--user", "Alice", NULL);
  g_assert_cmpint (update->status, ==, 0);
  object = list_account (f, parser, "work");
  g_assert_true (json_object_get_null_member (object, "server_build"));
  g_assert_true (json_object_get_null_member (object, "detected_server_version"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/account-test/connected", Fixture, NULL, setup, test_connected, teardown);
  g_test_add ("/account-test/json", Fixture, NULL, setup, test_json, teardown);
  g_test_add ("/account-test/wrong-password-names-user", Fixture, NULL, setup,
              test_wrong_password, teardown);
  g_test_add ("/account-test/untrusted-certificate", Fixture, NULL, setup,
              test_untrusted_certificate, teardown);
  g_test_add ("/account-test/impersonation-works", Fixture, NULL, setup,
              test_impersonation_works, teardown);
  g_test_add ("/account-test/impersonation-denied-one-line", Fixture, NULL, setup,
              test_impersonation_denied, teardown);
  g_test_add ("/account-test/server-version-remembered", Fixture, NULL, setup,
              test_server_version_remembered, teardown);

  return g_test_run ();
}
