/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * End to end: the real agendalined on a private session bus (GTestDBus),
 * driven through the real agendalinectl, checked by what a user sees (exit
 * status, standard output and error) and by what is on disk.
 *
 * AGL_TEST_DAEMON and AGL_TEST_CTL name the binaries, AGL_TEST_FIXTURES the
 * directory of the .ics fixtures.  Nothing waits by sleeping: every wait is
 * on the main loop for the event itself (a name owner, a process exit, a
 * line of output), with a timeout.
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#define WAIT_TIMEOUT_SECONDS 10

typedef struct {
  GSubprocess *process;
  char        *log_path;   /* its standard output and error */
  gboolean     exited;
} Daemon;

typedef struct {
  GTestDBus       *bus;
  GDBusConnection *connection;
  guint            watch_id;
  char            *name_owner;   /* io.github.agendaline.Daemon's, or NULL */
  char            *dir;          /* the test's scratch directory */
  char            *data_dir;     /* the database's directory */
  char            *db_path;
  Daemon          *daemon;       /* the one serving, if any */
  GPtrArray       *daemons;      /* every daemon started, to stop and free */
} Fixture;

typedef struct {
  int   status;   /* the exit status, or -1 when killed by a signal */
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
fixture_path (const char *name)
{
  return g_build_filename (test_env ("AGL_TEST_FIXTURES"), name, NULL);
}

static char *
read_file_or_empty (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

/* The daemon's log goes into the test's output only when something went
 * wrong: a passing run stays quiet. */
static void
dump_daemon_logs (Fixture *f)
{
  for (guint i = 0; i < f->daemons->len; i++)
    {
      Daemon *daemon = g_ptr_array_index (f->daemons, i);
      g_autofree char *log = read_file_or_empty (daemon->log_path);
      g_auto(GStrv) lines = g_strsplit (log, "\n", -1);

      g_test_message ("agendalined #%u (%s):", i + 1, daemon->log_path);
      for (guint l = 0; lines[l] != NULL; l++)
        if (*lines[l] != '\0')
          g_test_message ("  | %s", lines[l]);
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition) (Fixture  *f,
                               gpointer  data);

/* Runs the main loop until @condition holds or the timeout passes. */
static gboolean
wait_for (Fixture   *f,
          Condition  condition,
          gpointer   data)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!condition (f, data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  return condition (f, data);
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *name_owner,
                  gpointer         user_data)
{
  Fixture *f = user_data;

  g_free (f->name_owner);
  f->name_owner = g_strdup (name_owner);
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Fixture *f = user_data;

  g_clear_pointer (&f->name_owner, g_free);
}

static void
process_exited_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Daemon *daemon = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  daemon->exited = TRUE;
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

  /* Nothing outside the scratch directory: not the user's agenda, not the
   * user's session bus. */
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (f->bus), TRUE);
  g_subprocess_launcher_unsetenv (launcher, "AGENDALINE_DB");
  /* The daemon logs expected warnings (no Secret Service on the test bus:
   * passwords go to its fallback file); they must not abort it.  Its log
   * is checked where it matters. */
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "gc-friendly", TRUE);
  g_subprocess_launcher_set_cwd (launcher, f->dir);
  return launcher;
}

/* Starts agendalined without waiting for it to serve. */
static Daemon *
spawn_daemon (Fixture    *f,
              const char *db_path,
              const char *extra_argument)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  Daemon *daemon = g_new0 (Daemon, 1);
  g_autofree char *log_name = g_strdup_printf ("agendalined-%u.log", f->daemons->len + 1);

  daemon->log_path = g_build_filename (f->dir, log_name, NULL);
  launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, daemon->log_path);

  daemon->process = g_subprocess_launcher_spawn (launcher, &error,
                                                 test_env ("AGL_TEST_DAEMON"),
                                                 "--db", db_path, extra_argument, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (daemon->process, NULL, process_exited_cb, daemon);
  g_ptr_array_add (f->daemons, daemon);
  return daemon;
}

static gboolean
name_owned_or_exited (Fixture  *f,
                      gpointer  data)
{
  Daemon *daemon = data;

  return f->name_owner != NULL || daemon->exited;
}

static gboolean
has_exited (Fixture  *f,
            gpointer  data)
{
  Daemon *daemon = data;

  return daemon->exited;
}

static int
exit_status (GSubprocess *process)
{
  if (g_subprocess_get_if_exited (process))
    return g_subprocess_get_exit_status (process);
  return -1;
}

static char *
describe_exit (GSubprocess *process)
{
  if (g_subprocess_get_if_signaled (process))
    return g_strdup_printf ("was killed by signal %d", g_subprocess_get_term_sig (process));
  return g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (process));
}

/* Starts the daemon on @db_path and waits until it owns its bus name.  A
 * daemon that dies instead fails the test with its log in the message,
 * which meson shows even without the TAP output. */
static void
start_daemon (Fixture    *f,
              const char *db_path)
{
  Daemon *daemon = spawn_daemon (f, db_path, NULL);

  if (!wait_for (f, name_owned_or_exited, daemon))
    {
      dump_daemon_logs (f);
      g_error ("agendalined did not come up on the bus within %d s", WAIT_TIMEOUT_SECONDS);
    }
  if (daemon->exited)
    {
      g_autofree char *how = describe_exit (daemon->process);
      g_autofree char *log = read_file_or_empty (daemon->log_path);

      dump_daemon_logs (f);
      g_error ("agendalined %s before it owned its bus name; its output:\n%s", how, log);
    }
  f->daemon = daemon;
}

/* SIGTERM is how the session ends the daemon: it must exit, and cleanly. */
static void
stop_daemon (Fixture *f,
             Daemon  *daemon)
{
  if (!daemon->exited)
    g_subprocess_send_signal (daemon->process, SIGTERM);
  if (!wait_for (f, has_exited, daemon))
    {
      dump_daemon_logs (f);
      g_subprocess_force_exit (daemon->process);
      g_error ("agendalined did not exit within %d s of SIGTERM", WAIT_TIMEOUT_SECONDS);
    }
  if (exit_status (daemon->process) != 0)
    {
      g_autofree char *how = describe_exit (daemon->process);
      g_autofree char *log = read_file_or_empty (daemon->log_path);

      dump_daemon_logs (f);
      g_error ("agendalined %s on SIGTERM instead of 0; its output:\n%s", how, log);
    }
  if (f->daemon == daemon)
    f->daemon = NULL;
}

static void
daemon_free (Daemon *daemon)
{
  g_clear_object (&daemon->process);
  g_free (daemon->log_path);
  g_free (daemon);
}

static void
setup_bus (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus);

  /* A private connection, so that g_test_dbus_down() finds no shared
   * session bus connection of ours to wait for. */
  f->connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (f->bus),
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);
  f->watch_id = g_bus_watch_name_on_connection (f->connection, AGL_BUS_NAME,
                                                G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                name_appeared_cb, name_vanished_cb, f, NULL);

  f->dir = g_dir_make_tmp ("agl-cli-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->dir, "data", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->data_dir, 0700), ==, 0);
  f->db_path = g_build_filename (f->data_dir, "agenda.db", NULL);
  f->daemons = g_ptr_array_new_with_free_func ((GDestroyNotify) daemon_free);
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  setup_bus (f, data);
  start_daemon (f, f->db_path);
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
  for (guint i = 0; i < f->daemons->len; i++)
    {
      Daemon *daemon = g_ptr_array_index (f->daemons, i);

      if (!daemon->exited)
        stop_daemon (f, daemon);
    }

  g_bus_unwatch_name (f->watch_id);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);

  remove_recursively (f->dir);
  g_clear_pointer (&f->daemons, g_ptr_array_unref);
  g_free (f->name_owner);
  g_free (f->db_path);
  g_free (f->data_dir);
  g_free (f->dir);
}

/* Running agendalinectl */

static CtlResult *
run_ctlv (Fixture            *f,
          const char         *input,
          const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  CtlResult *result = g_new0 (CtlResult, 1);

  g_ptr_array_add (argv, (char *) test_env ("AGL_TEST_CTL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                              G_SUBPROCESS_FLAGS_STDERR_PIPE);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = exit_status (process);

  command = g_strjoinv (" ", (char **) args);
  g_test_message ("$ agendalinectl %s  -> %d", command, result->status);
  if (*result->out != '\0')
    g_test_message ("stdout: %s", result->out);
  if (*result->err != '\0')
    g_test_message ("stderr: %s", result->err);
  return result;
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
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  va_start (ap, input);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return run_ctlv (f, input, (const char * const *) args->pdata);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      n++;
  return n;
}

static void
assert_status (Fixture   *f,
               CtlResult *result,
               int        status)
{
  if (result->status != status)
    dump_daemon_logs (f);
  g_assert_cmpint (result->status, ==, status);
}

/* Success: exit 0 and nothing on standard error. */
static void
assert_ok (Fixture   *f,
           CtlResult *result)
{
  assert_status (f, result, 0);
  g_assert_cmpstr (result->err, ==, "");
}

/* A refused command: exit 1, nothing on standard output, and one line on
 * standard error saying what is wrong. */
static void
assert_refused (Fixture   *f,
                CtlResult *result)
{
  assert_status (f, result, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "agendalinectl: "));
  g_assert_cmpuint (count_lines (result->err), ==, 1);
  g_assert_true (g_str_has_suffix (result->err, "\n"));
  g_assert_cmpuint (strlen (result->err), >, strlen ("agendalinectl: \n") + 5);
}

/* A wrong command line: exit 2, the problem and where to find help. */
static void
assert_usage_error (Fixture   *f,
                    CtlResult *result)
{
  g_auto(GStrv) lines = NULL;

  assert_status (f, result, 2);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_cmpuint (count_lines (result->err), ==, 2);
  lines = g_strsplit (result->err, "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "agendalinectl"));
  g_assert_true (g_str_has_prefix (lines[1], "Try “agendalinectl"));
  g_assert_true (g_str_has_suffix (lines[1], "--help”."));
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not contain “%s”", haystack, needle);
}

static void
assert_not_contains (const char *haystack,
                     const char *needle)
{
  if (strstr (haystack, needle) != NULL)
    g_error ("“%s” contains “%s”", haystack, needle);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* "agenda list --json" with @args (NULL-terminated), parsed. */
static JsonNode *
list_items (Fixture    *f,
            const char *first_arg,
            ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(CtlResult) result = NULL;
  JsonNode *root;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, "agenda");
  g_ptr_array_add (args, "list");
  g_ptr_array_add (args, "--json");
  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  result = run_ctlv (f, NULL, (const char * const *) args->pdata);
  assert_ok (f, result);
  root = parse_json (result->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return root;
}

static JsonNode *
list_accounts (Fixture *f)
{
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "list", "--json", NULL);
  JsonNode *root;

  assert_ok (f, result);
  root = parse_json (result->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return root;
}

static JsonNode *
get_state (Fixture *f)
{
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "state", "--json", NULL);
  JsonNode *root;

  assert_ok (f, result);
  root = parse_json (result->out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return root;
}

/* The summaries of a listing, in order, joined by "|". */
static char *
summaries (JsonNode *list)
{
  JsonArray *array = json_node_get_array (list);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *item = json_array_get_object_element (array, i);

      if (i > 0)
        g_string_append_c (text, '|');
      g_string_append (text, json_object_get_string_member (item, "summary"));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static gint64
add_item (Fixture    *f,
          const char *fixture,
          const char *account)
{
  g_autofree char *path = fixture_path (fixture);
  g_autoptr(CtlResult) result = NULL;
  gint64 id = 0;

  if (account != NULL)
    result = run_ctl (f, NULL, "agenda", "add", "--account", account, path, NULL);
  else
    result = run_ctl (f, NULL, "agenda", "add", path, NULL);
  assert_ok (f, result);
  g_assert_true (g_str_has_suffix (result->out, "\n"));
  result->out[strlen (result->out) - 1] = '\0';
  g_assert_true (g_ascii_string_to_signed (result->out, 10, 1, G_MAXINT64, &id, NULL));
  return id;
}

static void
add_account (Fixture    *f,
             const char *name)
{
  g_autofree char *email = g_strdup_printf ("%s@example.invalid", name);
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "add", name, "--email", email,
                                         "--url", "https://mail.example.invalid/EWS/Exchange.asmx",
                                         NULL);

  assert_ok (f, result);
  g_assert_cmpstr (result->out, ==, "");
}

/* iCalendar folds long lines; unfold before looking for a property. */
static char *
unfold (const char *ical)
{
  g_autoptr(GString) text = g_string_new (ical);

  g_string_replace (text, "\r\n", "\n", 0);
  g_string_replace (text, "\n ", "", 0);
  g_string_replace (text, "\n\t", "", 0);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
hash_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return g_strdup ("absent");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
}

/* The database and its write-ahead log, byte for byte: a refused request
 * must leave both as they were. */
static char *
snapshot_store (Fixture *f)
{
  g_autofree char *wal_path = g_strconcat (f->db_path, "-wal", NULL);
  g_autofree char *db_hash = hash_file (f->db_path);
  g_autofree char *wal_hash = hash_file (wal_path);

  return g_strdup_printf ("db %s, wal %s", db_hash, wal_hash);
}

static void
assert_store_unchanged (Fixture    *f,
                        const char *before)
{
  g_autofree char *after = snapshot_store (f);

  g_assert_cmpstr (after, ==, before);
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

/* Tests: appointments */

static void
test_agenda_add_list_roundtrip (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(CtlResult) table = NULL;
  g_autofree char *ical = NULL;
  JsonObject *item;
  gint64 id;

  id = add_item (f, "cli-oslo.ics", NULL);

  list = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  item = json_array_get_object_element (json_node_get_array (list), 0);
  g_assert_cmpint (json_object_get_int_member (item, "id"), ==, id);
  g_assert_true (json_object_get_null_member (item, "account"));
  g_assert_cmpstr (json_object_get_string_member (item, "uid"), ==, "cli-oslo@agendaline.test");
  g_assert_cmpstr (json_object_get_string_member (item, "summary"), ==, "Planning in Oslo");
  /* 10:00 in Oslo in November (CET, +01:00) */
  g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-11-23T09:00:00Z");
  g_assert_cmpstr (json_object_get_string_member (item, "end"), ==, "2026-11-23T10:30:00Z");
  g_assert_false (json_object_get_boolean_member (item, "all_day"));
  g_assert_false (json_object_get_boolean_member (item, "recurring"));

  ical = unfold (json_object_get_string_member (item, "ical"));
  assert_contains (ical, "BEGIN:VCALENDAR");
  assert_contains (ical, "UID:cli-oslo@agendaline.test");
  assert_contains (ical, "SUMMARY:Planning in Oslo");
  assert_contains (ical, "LOCATION:Room Fjord");
  assert_contains (ical, "DESCRIPTION:Quarterly planning");
  assert_contains (ical, "X-AGENDALINE-TEST:kept-verbatim");
  assert_contains (ical, "DTSTART;TZID=Europe/Oslo:20261123T100000");
  assert_contains (ical, "TZID:Europe/Oslo");

  /* The same appointment in the table people read. */
  table = run_ctl (f, NULL, "agenda", "list", NULL);
  assert_ok (f, table);
  assert_contains (table->out, "Planning in Oslo");
  g_assert_cmpuint (count_lines (table->out), ==, 2);

  /* --json may come before the command too. */
  {
    g_autoptr(CtlResult) before = run_ctl (f, NULL, "--json", "agenda", "list", NULL);
    g_autoptr(CtlResult) after = run_ctl (f, NULL, "agenda", "list", "--json", NULL);

    assert_ok (f, before);
    g_assert_cmpstr (before->out, ==, after->out);
  }
}

static void
test_agenda_all_day (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(JsonNode) list = NULL;
  JsonObject *item;

  add_item (f, "cli-all-day.ics", NULL);

  list = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  item = json_array_get_object_element (json_node_get_array (list), 0);
  g_assert_cmpstr (json_object_get_string_member (item, "summary"), ==, "Christmas Eve");
  g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-12-24");
  g_assert_cmpstr (json_object_get_string_member (item, "end"), ==, "2026-12-25");
  g_assert_true (json_object_get_boolean_member (item, "all_day"));
}

static void
assert_add_refused (Fixture    *f,
                    const char *input,
                    const char *fixture,
                    const char *named)
{
  g_autofree char *path = fixture != NULL ? fixture_path (fixture) : g_strdup ("-");
  g_autoptr(CtlResult) result = run_ctl (f, input, "agenda", "add", path, NULL);
  g_autofree char *lower = NULL;

  assert_refused (f, result);
  if (named != NULL)
    {
      lower = g_ascii_strdown (result->err, -1);
      assert_contains (lower, named);
    }
}

static void
test_agenda_invalid_refused_store_unchanged (Fixture       *f,
                                             gconstpointer  data)
{
  g_autofree char *before = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing.ics", NULL);
  g_autoptr(JsonNode) list_before = NULL;
  g_autoptr(JsonNode) list_after = NULL;
  g_autoptr(CtlResult) result = NULL;

  add_item (f, "cli-oslo.ics", NULL);
  list_before = list_items (f, NULL);
  before = snapshot_store (f);

  assert_add_refused (f, "", NULL, NULL);
  assert_add_refused (f, "This is not iCalendar text.\n", NULL, NULL);
  assert_add_refused (f, NULL, "cli-no-dtstart.ics", "dtstart");
  assert_add_refused (f, NULL, "cli-end-before-start.ics", NULL);

  /* The CLI reads the file; a missing one is named. */
  result = run_ctl (f, NULL, "agenda", "add", missing, NULL);
  assert_refused (f, result);
  assert_contains (result->err, "missing.ics");
  g_clear_pointer (&result, ctl_result_free);

  /* Input is capped (64 MiB): a wrong file name fails at once. */
  result = run_ctl (f, NULL, "agenda", "add", "/dev/zero", NULL);
  assert_refused (f, result);
  assert_contains (result->err, "/dev/zero");

  assert_store_unchanged (f, before);
  list_after = list_items (f, NULL);
  g_assert_true (json_node_equal (list_before, list_after));
}

static void
test_agenda_update_remove (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-oslo.ics");
  g_autofree char *original = NULL;
  g_autofree char *changed = NULL;
  g_autofree char *other_uid = NULL;
  g_autofree char *id_text = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(CtlResult) added = NULL;
  gint64 id = 0;

  g_assert_true (g_file_get_contents (path, &original, NULL, NULL));

  /* Added from standard input this time. */
  added = run_ctl (f, original, "agenda", "add", "-", NULL);
  assert_ok (f, added);
  g_assert_true (g_ascii_string_to_signed (g_strchomp (added->out), 10, 1, G_MAXINT64, &id, NULL));
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  {
    g_autoptr(GString) text = g_string_new (original);
    g_autoptr(CtlResult) result = NULL;

    g_string_replace (text, "SUMMARY:Planning in Oslo", "SUMMARY:Planning moved", 0);
    g_string_replace (text, "DTSTART;TZID=Europe/Oslo:20261123T100000",
                      "DTSTART;TZID=Europe/Oslo:20261123T140000", 0);
    g_string_replace (text, "DTEND;TZID=Europe/Oslo:20261123T113000",
                      "DTEND;TZID=Europe/Oslo:20261123T150000", 0);
    changed = g_strdup (text->str);
    result = run_ctl (f, changed, "agenda", "update", id_text, "-", NULL);
    assert_ok (f, result);
    g_assert_cmpstr (result->out, ==, "");
  }

  list = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  {
    JsonObject *item = json_array_get_object_element (json_node_get_array (list), 0);

    g_assert_cmpint (json_object_get_int_member (item, "id"), ==, id);
    g_assert_cmpstr (json_object_get_string_member (item, "summary"), ==, "Planning moved");
    g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-11-23T13:00:00Z");
  }

  /* The UID may not change. */
  {
    g_autoptr(GString) text = g_string_new (changed);
    g_autoptr(CtlResult) result = NULL;
    g_autoptr(JsonNode) unchanged = NULL;

    g_string_replace (text, "UID:cli-oslo@agendaline.test", "UID:someone-else@agendaline.test", 0);
    other_uid = g_strdup (text->str);
    result = run_ctl (f, other_uid, "agenda", "update", id_text, "-", NULL);
    assert_refused (f, result);
    unchanged = list_items (f, NULL);
    g_assert_true (json_node_equal (list, unchanged));
  }

  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "remove", id_text, NULL);
    g_autoptr(CtlResult) table = NULL;
    g_autoptr(JsonNode) empty = NULL;

    assert_ok (f, result);
    empty = list_items (f, NULL);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (empty)), ==, 0);

    table = run_ctl (f, NULL, "agenda", "list", NULL);
    assert_ok (f, table);
    g_assert_cmpstr (table->out, ==, "No appointments.\n");
  }
}

static void
test_agenda_unknown_id (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-oslo.ics");
  g_autoptr(CtlResult) update = NULL;
  g_autoptr(CtlResult) remove = NULL;
  g_autofree char *before = NULL;

  add_item (f, "cli-all-day.ics", NULL);
  before = snapshot_store (f);

  update = run_ctl (f, NULL, "agenda", "update", "999", path, NULL);
  assert_refused (f, update);
  remove = run_ctl (f, NULL, "agenda", "remove", "999", NULL);
  assert_refused (f, remove);

  assert_store_unchanged (f, before);
}

static void
test_agenda_bad_id_argument (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-oslo.ics");
  const char *bad_ids[] = { "abc", "0", "1x", "-3", "", "99999999999999999999" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autoptr(CtlResult) remove = run_ctl (f, NULL, "agenda", "remove", "--", bad_ids[i], NULL);
      g_autoptr(CtlResult) update = run_ctl (f, NULL, "agenda", "update", "--", bad_ids[i], path,
                                             NULL);
      g_autofree char *quoted = g_strdup_printf ("“%s”", bad_ids[i]);

      assert_usage_error (f, remove);
      assert_contains (remove->err, quoted);
      assert_usage_error (f, update);
      assert_contains (update->err, quoted);
    }

  /* Without "--", "-3" reads as an option; still a usage error naming it. */
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "remove", "-3", NULL);

    assert_usage_error (f, result);
    assert_contains (result->err, "-3");
  }
}

static void
test_agenda_range (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-range.ics");
  g_autoptr(CtlResult) imported = run_ctl (f, NULL, "agenda", "import", path, NULL);
  struct {
    const char *from;
    const char *to;
    const char *expected;
  } cases[] = {
    { NULL, NULL, "Range A|Range B|Range C" },
    { "2026-11-10T00:00:00Z", "2026-11-20T00:00:00Z", "Range B" },
    { "2026-11-10T00:00:00Z", NULL, "Range B|Range C" },
    { NULL, "2026-11-10T00:00:00Z", "Range A" },
    /* The end is exclusive: B starts at 10:00. */
    { NULL, "2026-11-15T10:00:00Z", "Range A" },
    /* A appointment that ends when the range starts is not in it. */
    { "2026-11-15T11:00:00Z", NULL, "Range C" },
    /* Offsets are accepted: 10:30Z to 11:00Z. */
    { "2026-11-15T11:30:00+01:00", "2026-11-15T12:00:00+01:00", "Range B" },
    { "2026-12-01T12:00:00Z", "2026-12-01T13:00:00Z", "Range C" },
    { "2027-01-01T00:00:00Z", NULL, "" },
  };

  assert_ok (f, imported);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) list = NULL;
      g_autofree char *got = NULL;

      if (cases[i].from != NULL && cases[i].to != NULL)
        list = list_items (f, "--from", cases[i].from, "--to", cases[i].to, NULL);
      else if (cases[i].from != NULL)
        list = list_items (f, "--from", cases[i].from, NULL);
      else if (cases[i].to != NULL)
        list = list_items (f, "--to", cases[i].to, NULL);
      else
        list = list_items (f, NULL);

      got = summaries (list);
      g_test_message ("from %s to %s: %s", cases[i].from, cases[i].to, got);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }

  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "list", "--from", "next tuesday",
                                           NULL);

    assert_refused (f, result);
  }
}

/* "agenda occurrences --json" with @args (NULL-terminated), parsed. */
static JsonNode *
list_occurrences (Fixture    *f,
                  const char *first_arg,
                  ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(CtlResult) result = NULL;
  JsonNode *root;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, "agenda");
  g_ptr_array_add (args, "occurrences");
  g_ptr_array_add (args, "--json");
  va_start (ap, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  result = run_ctlv (f, NULL, (const char * const *) args->pdata);
  assert_ok (f, result);
  root = parse_json (result->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return root;
}

/* "START END SUMMARY" per occurrence, one a line. */
static char *
describe_occurrences (JsonNode *list)
{
  JsonArray *array = json_node_get_array (list);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *occurrence = json_array_get_object_element (array, i);

      g_string_append_printf (text, "%s %s %s\n",
                              json_object_get_string_member (occurrence, "start"),
                              json_object_get_string_member (occurrence, "end"),
                              json_object_get_string_member (occurrence, "summary"));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_agenda_occurrences (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-occurrences.ics");
  g_autoptr(CtlResult) imported = run_ctl (f, NULL, "agenda", "import", path, NULL);
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(JsonNode) items = NULL;
  g_autofree char *got = NULL;
  JsonArray *array;
  JsonObject *occurrence;
  gint64 series_id = 0;

  assert_ok (f, imported);

  /* ListItems gives the endless series once ... */
  items = list_items (f, "--from", "2026-11-02T00:00:00Z", "--to", "2026-11-23T00:00:00Z", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (items)), ==, 2);
  series_id = json_object_get_int_member (json_array_get_object_element (json_node_get_array (items), 0),
                                          "id");

  /* ... ListOccurrences every time it takes place in three weeks: Mondays
   * and Thursdays at 09:00 in Oslo, less the EXDATE of Thursday the 12th,
   * with Monday the 9th moved to Tuesday the 10th at 10:00. */
  list = list_occurrences (f, "--from", "2026-11-02T00:00:00Z", "--to", "2026-11-23T00:00:00Z", NULL);
  got = describe_occurrences (list);
  g_assert_cmpstr (got, ==,
                   "2026-11-02T08:00:00Z 2026-11-02T08:15:00Z Standup\n"
                   "2026-11-05T08:00:00Z 2026-11-05T08:15:00Z Standup\n"
                   "2026-11-10T09:00:00Z 2026-11-10T09:30:00Z Standup on Tuesday\n"
                   "2026-11-11 2026-11-12 Company day\n"
                   "2026-11-16T08:00:00Z 2026-11-16T08:15:00Z Standup\n"
                   "2026-11-19T08:00:00Z 2026-11-19T08:15:00Z Standup\n");

  array = json_node_get_array (list);

  /* A regular occurrence: the RECURRENCE-ID is its own start. */
  occurrence = json_array_get_object_element (array, 0);
  g_assert_cmpuint (json_object_get_size (occurrence), ==, 10);
  g_assert_cmpint (json_object_get_int_member (occurrence, "id"), ==, series_id);
  g_assert_true (json_object_get_null_member (occurrence, "account"));
  g_assert_cmpstr (json_object_get_string_member (occurrence, "uid"), ==,
                   "cli-occurrences-weekly@agendaline.test");
  g_assert_false (json_object_get_boolean_member (occurrence, "all_day"));
  g_assert_cmpstr (json_object_get_string_member (occurrence, "recurrence_id"), ==,
                   "2026-11-02T08:00:00Z");
  g_assert_false (json_object_get_boolean_member (occurrence, "exception"));
  g_assert_cmpstr (json_object_get_string_member (occurrence, "busy_status"), ==, "BUSY");

  /* The moved one: its own summary and busy status, the original start. */
  occurrence = json_array_get_object_element (array, 2);
  g_assert_cmpint (json_object_get_int_member (occurrence, "id"), ==, series_id);
  g_assert_cmpstr (json_object_get_string_member (occurrence, "recurrence_id"), ==,
                   "2026-11-09T08:00:00Z");
  g_assert_true (json_object_get_boolean_member (occurrence, "exception"));
  g_assert_cmpstr (json_object_get_string_member (occurrence, "busy_status"), ==, "TENTATIVE");

  /* A single all-day appointment: dates, no RECURRENCE-ID, no status. */
  occurrence = json_array_get_object_element (array, 3);
  g_assert_cmpint (json_object_get_int_member (occurrence, "id"), !=, series_id);
  g_assert_true (json_object_get_boolean_member (occurrence, "all_day"));
  g_assert_true (json_object_get_null_member (occurrence, "recurrence_id"));
  g_assert_false (json_object_get_boolean_member (occurrence, "exception"));
  g_assert_true (json_object_get_null_member (occurrence, "busy_status"));

  /* The same in the table people read: a header and six rows. */
  {
    g_autoptr(CtlResult) table = run_ctl (f, NULL, "agenda", "occurrences",
                                          "--from", "2026-11-02T00:00:00Z",
                                          "--to", "2026-11-23T00:00:00Z", NULL);

    assert_ok (f, table);
    g_assert_cmpuint (count_lines (table->out), ==, 7);
    assert_contains (table->out, "Standup on Tuesday (changed)");
    assert_contains (table->out, "Company day");
  }

  /* The range is exclusive at its end, and an empty one holds nothing. */
  {
    g_autoptr(JsonNode) before = list_occurrences (f, "--from", "2026-11-02T00:00:00Z",
                                                   "--to", "2026-11-02T08:00:00Z", NULL);
    g_autoptr(JsonNode) empty = list_occurrences (f, "--from", "2026-11-05T08:00:00Z",
                                                  "--to", "2026-11-05T08:00:00Z", NULL);
    g_autoptr(CtlResult) table = run_ctl (f, NULL, "agenda", "occurrences",
                                          "--from", "2026-11-02T00:00:00Z",
                                          "--to", "2026-11-02T08:00:00Z", NULL);

    g_assert_cmpuint (json_array_get_length (json_node_get_array (before)), ==, 0);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (empty)), ==, 0);
    assert_ok (f, table);
    g_assert_cmpstr (table->out, ==, "No appointments.\n");
  }

  /* Another account's agenda is another filter. */
  {
    g_autoptr(CtlResult) unknown = run_ctl (f, NULL, "agenda", "occurrences",
                                            "--from", "2026-11-02T00:00:00Z",
                                            "--to", "2026-11-23T00:00:00Z",
                                            "--account", "nobody", NULL);
    g_autoptr(JsonNode) other = NULL;

    assert_refused (f, unknown);
    assert_contains (unknown->err, "nobody");
    add_account (f, "work");
    other = list_occurrences (f, "--from", "2026-11-02T00:00:00Z", "--to", "2026-11-23T00:00:00Z",
                              "--account", "work", NULL);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (other)), ==, 0);
  }
}

static void
test_agenda_occurrences_bad_range (Fixture       *f,
                                   gconstpointer  data)
{
  struct {
    const char *from;
    const char *to;
    const char *expected;   /* in the message */
  } refused[] = {
    { "2026-11-23T00:00:00Z", "2026-11-02T00:00:00Z", "is before its start" },
    /* 2026 is no leap year: 366 days, and one second more. */
    { "2026-01-01T00:00:00Z", "2027-01-02T00:00:01Z", "longer than 366 days" },
    { "2026-01-01", "2028-01-01", "longer than 366 days" },
    { "next monday", "2026-11-30", "next monday" },
  };

  add_item (f, "cli-oslo.ics", NULL);

  /* Both ends are required; the CLI names the missing one. */
  {
    g_autoptr(CtlResult) no_to = run_ctl (f, NULL, "agenda", "occurrences",
                                          "--from", "2026-11-02T00:00:00Z", NULL);
    g_autoptr(CtlResult) no_from = run_ctl (f, NULL, "agenda", "occurrences",
                                            "--to", "2026-11-02T00:00:00Z", NULL);
    g_autoptr(CtlResult) neither = run_ctl (f, NULL, "agenda", "occurrences", NULL);

    assert_usage_error (f, no_to);
    assert_contains (no_to->err, "Missing --to");
    assert_usage_error (f, no_from);
    assert_contains (no_from->err, "Missing --from");
    assert_usage_error (f, neither);
  }

  /* The daemon refuses an empty bound itself, for other clients. */
  {
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *remote_name = NULL;

    reply = g_dbus_connection_call_sync (f->connection, AGL_BUS_NAME, AGL_OBJECT_PATH,
                                         "io.github.agendaline.Daemon", "ListOccurrences",
                                         g_variant_new ("(sss)", "2026-11-02T00:00:00Z", "", ""),
                                         G_VARIANT_TYPE ("(aa{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                         -1, NULL, &error);
    g_assert_null (reply);
    g_assert_true (g_dbus_error_is_remote_error (error));
    remote_name = g_dbus_error_get_remote_error (error);
    g_assert_cmpstr (remote_name, ==, "io.github.agendaline.Error.InvalidArgument");
  }

  for (gsize i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "occurrences",
                                             "--from", refused[i].from,
                                             "--to", refused[i].to, NULL);

      assert_refused (f, result);
      assert_contains (result->err, refused[i].expected);
    }

  /* 366 days is the longest range there is. */
  {
    g_autoptr(JsonNode) year = list_occurrences (f, "--from", "2026-01-01T00:00:00Z",
                                                 "--to", "2027-01-02T00:00:00Z", NULL);

    g_assert_cmpuint (json_array_get_length (json_node_get_array (year)), ==, 1);
  }
}

/* An appointment whose text went bad in the store is left out and named
 * in the log; the others are listed. */
static void
test_agenda_occurrences_bad_item (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *update = NULL;
  g_autofree char *warning = NULL;
  g_autoptr(JsonNode) list = NULL;
  sqlite3 *db = NULL;
  gint64 good, bad;

  good = add_item (f, "cli-oslo.ics", NULL);
  bad = add_item (f, "cli-all-day.ics", NULL);

  /* Changed behind the daemon's back, as a damaged disk or an older
   * version's bug would. */
  update = g_strdup_printf ("UPDATE items SET ical = 'BEGIN:VCALENDAR' WHERE id = %" G_GINT64_FORMAT,
                            bad);
  g_assert_cmpint (sqlite3_open (f->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, WAIT_TIMEOUT_SECONDS * 1000);
  g_assert_cmpint (sqlite3_exec (db, update, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  list = list_occurrences (f, "--from", "2026-11-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (list), 0),
                                               "id"), ==, good);

  warning = g_strdup_printf ("Leaving appointment %" G_GINT64_FORMAT " (UID cli-all-day@agendaline.test) out of ListOccurrences",
                             bad);
  if (!file_contains (f->daemon->log_path, warning))
    {
      dump_daemon_logs (f);
      g_error ("the daemon's log does not name the bad appointment (“%s”)", warning);
    }
}

/* The listing without ids, which differ from one database to the next. */
static JsonNode *
strip_ids (JsonNode *list)
{
  JsonNode *copy = json_node_copy (list);
  JsonArray *array = json_node_get_array (copy);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *item = json_array_get_object_element (array, i);

      json_object_remove_member (item, "id");
      json_object_remove_member (item, "ical");
    }
  return copy;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* "1,2,3": the ids of a listing (@objects) or of an id array, in ascending
 * order, to compare them as sets. */
static char *
id_set (JsonArray *array,
        gboolean   objects)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gint64 id = objects
        ? json_object_get_int_member (json_array_get_object_element (array, i), "id")
        : json_array_get_int_element (array, i);

      g_array_append_val (ids, id);
    }
  g_array_sort (ids, compare_ids);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                            g_array_index (ids, gint64, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_agenda_import_export (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-import.ics");
  g_autofree char *export_path = g_build_filename (f->dir, "export.ics", NULL);
  g_autofree char *second_db = g_build_filename (f->data_dir, "second.db", NULL);
  g_autofree char *exported = NULL;
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(JsonNode) reimported = NULL;
  g_autoptr(JsonNode) first_stripped = NULL;
  g_autoptr(JsonNode) reimported_stripped = NULL;
  JsonArray *items;
  gboolean saw_series = FALSE;

  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "import", path, NULL);

    assert_ok (f, result);
    g_assert_cmpstr (result->out, ==, "Imported 3 appointments (3 new, 0 updated).\n");
  }

  first = list_items (f, NULL);
  items = json_node_get_array (first);
  g_assert_cmpuint (json_array_get_length (items), ==, 3);
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member (item, "uid"),
                     "cli-import-weekly@agendaline.test") == 0)
        {
          g_autofree char *ical = unfold (json_object_get_string_member (item, "ical"));

          saw_series = TRUE;
          g_assert_true (json_object_get_boolean_member (item, "recurring"));
          g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-11-02T08:00:00Z");
          assert_contains (ical, "RRULE:FREQ=WEEKLY;COUNT=6");
          assert_contains (ical, "RECURRENCE-ID;TZID=Europe/Oslo:20261109T090000");
          assert_contains (ical, "SUMMARY:Standup (moved)");
        }
    }
  g_assert_true (saw_series);

  /* A series is in every range between its first start and its last end. */
  {
    g_autoptr(JsonNode) middle = list_items (f, "--from", "2026-11-20T12:00:00Z",
                                             "--to", "2026-11-20T13:00:00Z", NULL);
    g_autofree char *got = summaries (middle);

    g_assert_cmpstr (got, ==, "Standup");
  }

  /* Importing again replaces by UID instead of duplicating. */
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "import", "--json", path, NULL);
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *updated = NULL;
    g_autofree char *expected = NULL;
    JsonObject *object;

    assert_ok (f, result);
    root = parse_json (result->out);
    object = json_node_get_object (root);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "created")), ==, 0);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "updated")), ==, 3);

    updated = id_set (json_object_get_array_member (object, "updated"), FALSE);
    expected = id_set (json_node_get_array (first), TRUE);
    g_assert_cmpstr (updated, ==, expected);
  }
  again = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (again)), ==, 3);
  {
    g_autofree char *first_ids = id_set (json_node_get_array (first), TRUE);
    g_autofree char *again_ids = id_set (json_node_get_array (again), TRUE);

    g_assert_cmpstr (first_ids, ==, again_ids);
  }

  /* Export to a file and to standard output: the same calendar. */
  {
    g_autoptr(CtlResult) to_file = run_ctl (f, NULL, "agenda", "export", "export.ics", NULL);
    g_autoptr(CtlResult) to_stdout = run_ctl (f, NULL, "agenda", "export", NULL);

    assert_ok (f, to_file);
    g_assert_cmpstr (to_file->out, ==, "");
    assert_ok (f, to_stdout);
    g_assert_true (g_file_get_contents (export_path, &exported, NULL, NULL));
    g_assert_cmpstr (exported, ==, to_stdout->out);
    assert_contains (exported, "BEGIN:VCALENDAR");
    assert_contains (exported, "cli-import-single@agendaline.test");
    assert_contains (exported, "cli-import-all-day@agendaline.test");
    assert_contains (exported, "cli-import-weekly@agendaline.test");
  }

  /* Into a fresh daemon with a fresh database: the same agenda. */
  stop_daemon (f, f->daemon);
  start_daemon (f, second_db);
  {
    g_autoptr(JsonNode) empty = list_items (f, NULL);
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "agenda", "import", "export.ics", NULL);

    g_assert_cmpuint (json_array_get_length (json_node_get_array (empty)), ==, 0);
    assert_ok (f, result);
    g_assert_cmpstr (result->out, ==, "Imported 3 appointments (3 new, 0 updated).\n");
  }
  reimported = list_items (f, NULL);
  first_stripped = strip_ids (first);
  reimported_stripped = strip_ids (reimported);
  g_assert_true (json_node_equal (first_stripped, reimported_stripped));
}

static void
test_agenda_import_all_or_nothing (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *path = fixture_path ("cli-import-bad.ics");
  g_autofree char *before = NULL;
  g_autoptr(JsonNode) list_before = NULL;
  g_autoptr(JsonNode) list_after = NULL;
  g_autoptr(CtlResult) result = NULL;

  add_item (f, "cli-oslo.ics", NULL);
  list_before = list_items (f, NULL);
  before = snapshot_store (f);

  result = run_ctl (f, NULL, "agenda", "import", path, NULL);
  assert_refused (f, result);
  /* It names the bad appointment, by UID or by summary. */
  if (strstr (result->err, "cli-bad-missing-start@agendaline.test") == NULL &&
      strstr (result->err, "Broken event") == NULL)
    g_error ("The refusal does not name the bad appointment: %s", result->err);

  assert_store_unchanged (f, before);
  list_after = list_items (f, NULL);
  g_assert_true (json_node_equal (list_before, list_after));
}

/* Tests: accounts */

static void
test_account_add_list (Fixture       *f,
                       gconstpointer  data)
{
  const char *password = "Agl-Pa55-Add-List-q8Wz";
  g_autoptr(CtlResult) work = NULL;
  g_autoptr(CtlResult) home = NULL;
  g_autoptr(CtlResult) table = NULL;
  g_autoptr(CtlResult) json_first = NULL;
  g_autoptr(CtlResult) json_last = NULL;
  g_autoptr(JsonNode) accounts = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autofree char *password_line = g_strdup_printf ("%s\n", password);
  JsonObject *object;
  static const char * const members[] = {
    "name", "email", "url", "autodiscover", "auth", "user", "domain", "server_version",
    "ca_file", "impersonate", "detected_server_version", "server_build", "enabled",
    "has_password", "created", "conflict_policy", "poll_interval", NULL
  };

  work = run_ctl (f, password_line, "account", "add", "work",
                  "--email", "anna@example.invalid",
                  "--url", "https://mail.example.invalid/EWS/Exchange.asmx",
                  "--auth", "basic", "--user", "anna", "--password-stdin", NULL);
  assert_ok (f, work);
  g_assert_cmpstr (work->out, ==, "");
  home = run_ctl (f, NULL, "account", "add", "home", "--email", "bob@home.invalid", NULL);
  assert_ok (f, home);

  accounts = list_accounts (f);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (accounts)), ==, 2);

  /* Sorted by name. */
  object = json_array_get_object_element (json_node_get_array (accounts), 0);
  g_assert_cmpuint (json_object_get_size (object), ==, g_strv_length ((GStrv) members));
  for (guint i = 0; members[i] != NULL; i++)
    g_assert_true (json_object_has_member (object, members[i]));
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "home");
  g_assert_cmpstr (json_object_get_string_member (object, "email"), ==, "bob@home.invalid");
  g_assert_true (json_object_get_null_member (object, "url"));
  g_assert_true (json_object_get_boolean_member (object, "autodiscover"));
  g_assert_cmpstr (json_object_get_string_member (object, "auth"), ==, "ntlm");
  g_assert_cmpstr (json_object_get_string_member (object, "user"), ==, "bob@home.invalid");
  g_assert_true (json_object_get_null_member (object, "domain"));
  g_assert_cmpstr (json_object_get_string_member (object, "server_version"), ==, "auto");
  g_assert_true (json_object_get_null_member (object, "ca_file"));
  g_assert_false (json_object_get_boolean_member (object, "impersonate"));
  /* Learnt by "account test"; nothing is known before. */
  g_assert_true (json_object_get_null_member (object, "detected_server_version"));
  g_assert_true (json_object_get_null_member (object, "server_build"));
  g_assert_true (json_object_get_boolean_member (object, "enabled"));
  g_assert_false (json_object_get_boolean_member (object, "has_password"));

  object = json_array_get_object_element (json_node_get_array (accounts), 1);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "work");
  g_assert_cmpstr (json_object_get_string_member (object, "email"), ==, "anna@example.invalid");
  g_assert_cmpstr (json_object_get_string_member (object, "url"), ==,
                   "https://mail.example.invalid/EWS/Exchange.asmx");
  g_assert_false (json_object_get_boolean_member (object, "autodiscover"));
  g_assert_cmpstr (json_object_get_string_member (object, "auth"), ==, "basic");
  g_assert_cmpstr (json_object_get_string_member (object, "user"), ==, "anna");
  g_assert_true (json_object_get_boolean_member (object, "enabled"));
  g_assert_true (json_object_get_boolean_member (object, "has_password"));
  {
    g_autoptr(GDateTime) created = g_date_time_new_from_iso8601 (json_object_get_string_member (object, "created"), NULL);

    g_assert_nonnull (created);
  }

  table = run_ctl (f, NULL, "account", "list", NULL);
  assert_ok (f, table);
  assert_contains (table->out, "work");
  assert_contains (table->out, "home");
  g_assert_cmpuint (count_lines (table->out), ==, 3);

  /* --json before or after the command. */
  json_first = run_ctl (f, NULL, "--json", "account", "list", NULL);
  json_last = run_ctl (f, NULL, "account", "list", "--json", NULL);
  assert_ok (f, json_first);
  g_assert_cmpstr (json_first->out, ==, json_last->out);

  /* The password is nowhere in what the CLI says. */
  assert_not_contains (work->err, password);
  assert_not_contains (table->out, password);
  assert_not_contains (json_last->out, password);

  state = get_state (f);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "accounts"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "enabled_accounts"), ==, 2);
}

static void
test_account_duplicate_name (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(CtlResult) again = NULL;
  g_autoptr(JsonNode) accounts = NULL;

  add_account (f, "work");
  again = run_ctl (f, NULL, "account", "add", "work", "--email", "other@example.invalid", NULL);
  assert_refused (f, again);
  assert_contains (again->err, "work");

  accounts = list_accounts (f);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (accounts)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (accounts), 0), "email"),
                   ==, "work@example.invalid");
}

static void
test_account_unknown (Fixture       *f,
                      gconstpointer  data)
{
  const char *commands[] = { "remove", "enable", "disable" };
  g_autofree char *before = snapshot_store (f);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", commands[i], "nobody", NULL);

      assert_refused (f, result);
      assert_contains (result->err, "nobody");
    }
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "update", "nobody",
                                           "--auth", "basic", NULL);

    assert_refused (f, result);
    assert_contains (result->err, "nobody");
  }
  assert_store_unchanged (f, before);
}

static void
test_account_bad_settings (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *before = snapshot_store (f);
  g_autofree char *missing_ca = g_build_filename (f->dir, "missing-ca.pem", NULL);
  struct {
    const char *args[8];
    int status;
    const char *named;
  } cases[] = {
    { { "--email", "anna@example.invalid", "--url", "http://mail.example.invalid/EWS/Exchange.asmx" }, 1, "https" },
    { { "--email", "not-an-address" }, 1, "not-an-address" },
    { { "--email", "anna@example.invalid", "--auth", "kerberos" }, 1, "kerberos" },
    { { "--email", "anna@example.invalid", "--server-version", "Exchange2003" }, 1, "Exchange2003" },
    { { "--email", "anna@example.invalid", "--url", "https://mail.example.invalid/EWS/Exchange.asmx", "--autodiscover" }, 2, "--autodiscover" },
    /* Relative: the CLI makes it absolute against its own directory. */
    { { "--email", "anna@example.invalid", "--ca-file", "missing-ca.pem" }, 1, missing_ca },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_autoptr(CtlResult) result = NULL;

      g_ptr_array_add (args, "account");
      g_ptr_array_add (args, "add");
      g_ptr_array_add (args, "bad");
      for (guint a = 0; cases[i].args[a] != NULL; a++)
        g_ptr_array_add (args, (char *) cases[i].args[a]);
      g_ptr_array_add (args, NULL);

      result = run_ctlv (f, NULL, (const char * const *) args->pdata);
      if (cases[i].status == 2)
        assert_usage_error (f, result);
      else
        assert_refused (f, result);
      assert_contains (result->err, cases[i].named);
    }

  assert_store_unchanged (f, before);
  {
    g_autoptr(JsonNode) accounts = list_accounts (f);

    g_assert_cmpuint (json_array_get_length (json_node_get_array (accounts)), ==, 0);
  }

  /* A refused update leaves the account as it was. */
  add_account (f, "work");
  {
    g_autoptr(JsonNode) accounts_before = list_accounts (f);
    g_autoptr(JsonNode) accounts_after = NULL;
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "update", "work",
                                           "--url", "http://mail.example.invalid/EWS/Exchange.asmx",
                                           NULL);

    assert_refused (f, result);
    accounts_after = list_accounts (f);
    g_assert_true (json_node_equal (accounts_before, accounts_after));
  }
}

static JsonObject *
account_named (JsonNode   *accounts,
               const char *name)
{
  JsonArray *array = json_node_get_array (accounts);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (object, "name"), name) == 0)
        return object;
    }
  g_error ("No account %s", name);
  return NULL;
}

/* --impersonate / --no-impersonate switch the setting on add and update,
 * each leaving it alone when not given; both at once is a usage error that
 * changes nothing. */
static void
test_account_impersonate (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(CtlResult) add = NULL;
  g_autoptr(CtlResult) off = NULL;
  g_autoptr(CtlResult) other = NULL;
  g_autoptr(CtlResult) both = NULL;
  g_autoptr(CtlResult) both_add = NULL;
  g_autoptr(CtlResult) help = NULL;
  g_autoptr(JsonNode) accounts = NULL;
  g_autofree char *before = NULL;

  add = run_ctl (f, NULL, "account", "add", "alice", "--email", "alice@example.invalid",
                 "--url", "https://mail.example.invalid/EWS/Exchange.asmx",
                 "--user", "svc-agendaline", "--domain", "EXAMPLE", "--impersonate", NULL);
  assert_ok (f, add);
  add_account (f, "bob");
  accounts = list_accounts (f);
  g_assert_true (json_object_get_boolean_member (account_named (accounts, "alice"), "impersonate"));
  g_assert_cmpstr (json_object_get_string_member (account_named (accounts, "alice"), "user"), ==,
                   "svc-agendaline");
  g_assert_false (json_object_get_boolean_member (account_named (accounts, "bob"), "impersonate"));
  g_clear_pointer (&accounts, json_node_unref);

  /* Another setting leaves it on. */
  other = run_ctl (f, NULL, "account", "update", "alice", "--server-version", "Exchange2016", NULL);
  assert_ok (f, other);
  accounts = list_accounts (f);
  g_assert_true (json_object_get_boolean_member (account_named (accounts, "alice"), "impersonate"));
  g_clear_pointer (&accounts, json_node_unref);

  off = run_ctl (f, NULL, "account", "update", "alice", "--no-impersonate", NULL);
  assert_ok (f, off);
  accounts = list_accounts (f);
  g_assert_false (json_object_get_boolean_member (account_named (accounts, "alice"), "impersonate"));
  g_clear_pointer (&accounts, json_node_unref);

  before = snapshot_store (f);
  both = run_ctl (f, NULL, "account", "update", "alice", "--impersonate", "--no-impersonate", NULL);
  assert_usage_error (f, both);
  assert_contains (both->err, "--no-impersonate");
  both_add = run_ctl (f, NULL, "account", "add", "carol", "--email", "carol@example.invalid",
                      "--no-impersonate", "--impersonate", NULL);
  assert_usage_error (f, both_add);
  assert_store_unchanged (f, before);

  help = run_ctl (f, NULL, "account", "add", "--help", NULL);
  assert_ok (f, help);
  assert_contains (help->out, "--impersonate");
  assert_contains (help->out, "--no-impersonate");
}

static void
test_account_enable_disable (Fixture       *f,
                             gconstpointer  data)
{
  add_account (f, "work");

  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "disable", "work", NULL);
    g_autoptr(JsonNode) accounts = NULL;
    g_autoptr(JsonNode) state = NULL;

    assert_ok (f, result);
    g_assert_cmpstr (result->out, ==, "");
    accounts = list_accounts (f);
    g_assert_false (json_object_get_boolean_member (account_named (accounts, "work"), "enabled"));
    state = get_state (f);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "enabled_accounts"), ==, 0);
  }
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "enable", "work", NULL);
    g_autoptr(JsonNode) accounts = NULL;
    g_autoptr(JsonNode) state = NULL;

    assert_ok (f, result);
    accounts = list_accounts (f);
    g_assert_true (json_object_get_boolean_member (account_named (accounts, "work"), "enabled"));
    state = get_state (f);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "enabled_accounts"), ==, 1);
  }

  /* Switching between a URL and autodiscover, in both directions. */
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "update", "work", "--autodiscover",
                                           NULL);
    g_autoptr(JsonNode) accounts = NULL;
    JsonObject *object;

    assert_ok (f, result);
    accounts = list_accounts (f);
    object = account_named (accounts, "work");
    g_assert_true (json_object_get_boolean_member (object, "autodiscover"));
    g_assert_true (json_object_get_null_member (object, "url"));
  }
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "account", "update", "work", "--url",
                                           "https://ews.example.invalid/EWS/Exchange.asmx", NULL);
    g_autoptr(JsonNode) accounts = NULL;
    JsonObject *object;

    assert_ok (f, result);
    accounts = list_accounts (f);
    object = account_named (accounts, "work");
    g_assert_false (json_object_get_boolean_member (object, "autodiscover"));
    g_assert_cmpstr (json_object_get_string_member (object, "url"), ==,
                     "https://ews.example.invalid/EWS/Exchange.asmx");
    /* Only the options given change. */
    g_assert_cmpstr (json_object_get_string_member (object, "email"), ==, "work@example.invalid");
    g_assert_true (json_object_get_boolean_member (object, "enabled"));
  }
}

static void
test_account_remove_removes_its_agenda (Fixture       *f,
                                        gconstpointer  data)
{
  g_autoptr(JsonNode) before = NULL;
  g_autoptr(JsonNode) after = NULL;
  g_autoptr(JsonNode) accounts = NULL;
  g_autoptr(CtlResult) removed = NULL;
  g_autoptr(CtlResult) gone = NULL;
  g_autofree char *work_id = NULL;
  gint64 local_id;

  add_account (f, "work");
  work_id = g_strdup_printf ("%" G_GINT64_FORMAT, add_item (f, "cli-oslo.ics", "work"));
  local_id = add_item (f, "cli-all-day.ics", NULL);

  before = list_items (f, "--account", "work", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (before)), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (json_node_get_array (before), 0), "account"),
                   ==, "work");

  removed = run_ctl (f, NULL, "account", "remove", "work", NULL);
  assert_ok (f, removed);

  after = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (after)), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (after), 0), "id"),
                   ==, local_id);
  accounts = list_accounts (f);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (accounts)), ==, 0);

  gone = run_ctl (f, NULL, "agenda", "remove", work_id, NULL);
  assert_refused (f, gone);
}

static void
assert_password_absent (Fixture    *f,
                        const char *password)
{
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (f->db_path, suffixes[i], NULL);

      if (file_contains (path, password))
        g_error ("%s holds the password", path);
    }
  for (guint i = 0; i < f->daemons->len; i++)
    {
      Daemon *daemon = g_ptr_array_index (f->daemons, i);

      if (file_contains (daemon->log_path, password))
        g_error ("The daemon's log %s holds the password", daemon->log_path);
    }
}

static void
test_account_password_not_stored_in_database (Fixture       *f,
                                              gconstpointer  data)
{
  const char *password = "Agl-Distinctive-Pa55-7f3a9c";
  const char *second = "Agl-Second-Pa55-Kr4Wm2";
  g_autofree char *line = g_strdup_printf ("%s\n", password);
  g_autofree char *second_line = g_strdup_printf ("%s\n", second);
  g_autoptr(CtlResult) added = NULL;
  g_autoptr(CtlResult) updated = NULL;
  g_autoptr(CtlResult) empty = NULL;
  g_autoptr(JsonNode) accounts = NULL;
  g_autoptr(JsonNode) state = NULL;
  const char *storage;
  GDir *dir;
  const char *name;
  guint secret_files = 0;

  added = run_ctl (f, line, "account", "add", "work", "--email", "anna@example.invalid",
                   "--url", "https://mail.example.invalid/EWS/Exchange.asmx",
                   "--password-stdin", NULL);
  assert_ok (f, added);
  accounts = list_accounts (f);
  g_assert_true (json_object_get_boolean_member (account_named (accounts, "work"), "has_password"));

  updated = run_ctl (f, second_line, "account", "update", "work", "--password-stdin", NULL);
  assert_ok (f, updated);

  /* An empty line is no password. */
  empty = run_ctl (f, "\n", "account", "update", "work", "--password-stdin", NULL);
  assert_refused (f, empty);
  assert_contains (empty->err, "no password on standard input");

  assert_password_absent (f, password);
  assert_password_absent (f, second);

  /* No Secret Service on the test bus: passwords go to the fallback file
   * beside the database, which only its owner may read. */
  state = get_state (f);
  storage = json_object_get_string_member (json_node_get_object (state), "secret_storage");
  g_assert_cmpstr (storage, ==, "file");

  dir = g_dir_open (f->data_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->data_dir, name, NULL);
      GStatBuf buf;

      if (g_str_has_prefix (name, "agenda.db"))
        continue;
      g_assert_cmpint (g_stat (path, &buf), ==, 0);
      if (S_ISREG (buf.st_mode))
        {
          g_test_message ("%s: mode %o", name, (unsigned) (buf.st_mode & 0777));
          g_assert_cmpuint (buf.st_mode & 0077, ==, 0);
          secret_files++;
        }
    }
  g_dir_close (dir);
  g_assert_cmpuint (secret_files, >=, 1);

  /* After a clean stop (the WAL checkpointed into the database) too. */
  stop_daemon (f, f->daemon);
  assert_password_absent (f, password);
  assert_password_absent (f, second);
}

/* Tests: the daemon itself */

static void
test_daemon_second_instance_refused (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *first_owner = g_strdup (f->name_owner);
  g_autofree char *log = NULL;
  g_autoptr(JsonNode) state = NULL;
  Daemon *second;

  second = spawn_daemon (f, f->db_path, NULL);
  if (!wait_for (f, has_exited, second))
    {
      dump_daemon_logs (f);
      g_error ("A second agendalined is still running after %d s", WAIT_TIMEOUT_SECONDS);
    }
  if (exit_status (second->process) == 0)
    dump_daemon_logs (f);
  g_assert_cmpint (exit_status (second->process), !=, 0);
  log = read_file_or_empty (second->log_path);
  assert_contains (log, "agendalined");

  /* The first one goes on serving. */
  g_assert_false (f->daemon->exited);
  g_assert_cmpstr (f->name_owner, ==, first_owner);
  state = get_state (f);
  add_item (f, "cli-oslo.ics", NULL);
}

static gboolean
owner_changed (Fixture  *f,
               gpointer  data)
{
  const char *old_owner = data;

  return f->name_owner != NULL && g_strcmp0 (f->name_owner, old_owner) != 0;
}

static void
test_daemon_replace (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *old_owner = g_strdup (f->name_owner);
  g_autoptr(JsonNode) list = NULL;
  Daemon *old = f->daemon;
  Daemon *replacement;

  add_item (f, "cli-oslo.ics", NULL);

  replacement = spawn_daemon (f, f->db_path, "--replace");
  if (!wait_for (f, owner_changed, old_owner))
    {
      dump_daemon_logs (f);
      g_error ("agendalined --replace did not take the name over");
    }
  g_assert_false (replacement->exited);
  f->daemon = replacement;

  /* The old one leaves by itself, cleanly. */
  if (!wait_for (f, has_exited, old))
    {
      dump_daemon_logs (f);
      g_error ("The replaced agendalined did not exit");
    }
  if (exit_status (old->process) != 0)
    dump_daemon_logs (f);
  g_assert_cmpint (exit_status (old->process), ==, 0);

  list = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
}

static gboolean
name_unowned (Fixture  *f,
              gpointer  data)
{
  return f->name_owner == NULL;
}

static void
test_daemon_sigterm_clean (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(JsonNode) list = NULL;
  gint64 id;

  id = add_item (f, "cli-oslo.ics", NULL);

  stop_daemon (f, f->daemon);
  g_assert_true (wait_for (f, name_unowned, NULL));

  /* What was stored is there after a restart. */
  start_daemon (f, f->db_path);
  list = list_items (f, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (list), 0), "id"),
                   ==, id);
}

static void
assert_database_refused (Fixture    *f,
                         const char *path)
{
  g_autofree char *before = hash_file (path);
  g_autofree char *after = NULL;
  g_autofree char *log = NULL;
  Daemon *daemon;

  daemon = spawn_daemon (f, path, NULL);
  if (!wait_for (f, has_exited, daemon))
    {
      dump_daemon_logs (f);
      g_error ("agendalined is still running on a bad database after %d s", WAIT_TIMEOUT_SECONDS);
    }
  if (exit_status (daemon->process) == 0)
    dump_daemon_logs (f);
  g_assert_cmpint (exit_status (daemon->process), !=, 0);
  g_assert_null (f->name_owner);

  log = read_file_or_empty (daemon->log_path);
  assert_contains (log, path);

  after = hash_file (path);
  g_assert_cmpstr (after, ==, before);
}

static void
test_daemon_bad_database (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *garbage = g_build_filename (f->data_dir, "garbage.db", NULL);
  g_autofree char *foreign = g_build_filename (f->data_dir, "foreign.db", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  sqlite3 *db = NULL;

  for (guint i = 0; i < 200; i++)
    g_string_append (text, "This is not an SQLite database, just text.\n");
  g_assert_true (g_file_set_contents (garbage, text->str, text->len, NULL));
  assert_database_refused (f, garbage);

  /* A real SQLite database, but someone else's. */
  g_assert_cmpint (sqlite3_open (foreign, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
                                     "INSERT INTO notes (text) VALUES ('keep me');",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  assert_database_refused (f, foreign);
}

static void
test_daemon_unreachable (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(CtlResult) result = run_ctl (f, NULL, "state", NULL);

  assert_refused (f, result);
  g_assert_true (g_str_has_prefix (result->err, "agendalinectl: cannot reach the Agendaline daemon: "));
}

/* Tests: the rest of the CLI */

static void
test_state (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(JsonNode) state = get_state (f);
  g_autoptr(JsonNode) later = NULL;
  g_autoptr(GDateTime) started = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(CtlResult) text = NULL;
  g_autoptr(CtlResult) version = NULL;
  g_autoptr(JsonNode) versions = NULL;
  JsonObject *object = json_node_get_object (state);

  g_assert_cmpstr (json_object_get_string_member (object, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpstr (json_object_get_string_member (object, "database"), ==, f->db_path);
  g_assert_cmpint (json_object_get_int_member (object, "schema_version"), >, 0);
  g_assert_cmpint (json_object_get_int_member (object, "accounts"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "enabled_accounts"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "items"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (object, "secret_storage"), ==, "file");
  started = g_date_time_new_from_iso8601 (json_object_get_string_member (object, "started"), NULL);
  g_assert_nonnull (started);
  g_assert_cmpint (g_date_time_difference (now, started), >=, -G_TIME_SPAN_SECOND);
  g_assert_cmpint (g_date_time_difference (now, started), <, 5 * G_TIME_SPAN_MINUTE);

  add_item (f, "cli-oslo.ics", NULL);
  later = get_state (f);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (later), "items"), ==, 1);

  text = run_ctl (f, NULL, "state", NULL);
  assert_ok (f, text);
  assert_contains (text->out, f->db_path);
  assert_contains (text->out, PACKAGE_VERSION);

  version = run_ctl (f, NULL, "version", "--json", NULL);
  assert_ok (f, version);
  versions = parse_json (version->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (versions), "agendalinectl"),
                   ==, PACKAGE_VERSION);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (versions), "agendalined"),
                   ==, PACKAGE_VERSION);
}

static void
test_help (Fixture       *f,
           gconstpointer  data)
{
  const char *commands[][2] = {
    { "account", NULL }, { "agenda", NULL },
    { "account", "add" }, { "account", "list" }, { "account", "update" },
    { "account", "remove" }, { "account", "enable" }, { "account", "disable" },
    { "agenda", "list" }, { "agenda", "add" }, { "agenda", "update" },
    { "agenda", "remove" }, { "agenda", "import" }, { "agenda", "export" },
    { "state", NULL }, { "monitor", NULL }, { "version", NULL },
  };

  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "--help", NULL);

    assert_ok (f, result);
    assert_contains (result->out, "Usage:");
    for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
      assert_contains (result->out, commands[i][0]);
  }
  {
    g_autoptr(CtlResult) result = run_ctl (f, NULL, "--version", NULL);

    assert_ok (f, result);
    g_assert_cmpstr (result->out, ==, "agendalinectl " PACKAGE_VERSION "\n");
  }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr(CtlResult) result = NULL;
      g_autofree char *usage = NULL;

      if (commands[i][1] != NULL)
        {
          result = run_ctl (f, NULL, commands[i][0], commands[i][1], "--help", NULL);
          usage = g_strdup_printf ("agendalinectl %s %s", commands[i][0], commands[i][1]);
        }
      else
        {
          result = run_ctl (f, NULL, commands[i][0], "--help", NULL);
          usage = g_strdup_printf ("agendalinectl %s", commands[i][0]);
        }
      assert_ok (f, result);
      assert_contains (result->out, "Usage:");
      assert_contains (result->out, usage);
    }
}

static void
test_usage_errors (Fixture       *f,
                   gconstpointer  data)
{
  const char *cases[][6] = {
    { NULL },
    { "frobnicate", NULL },
    { "--frobnicate", "state", NULL },
    { "account", NULL },
    { "account", "frobnicate", NULL },
    { "account", "add", NULL },
    { "account", "add", "work", NULL },
    { "account", "list", "--frobnicate", NULL },
    { "account", "add", "work", "--email", NULL },
    { "account", "update", "work", NULL },
    { "agenda", "add", NULL },
    { "agenda", "list", "extra", NULL },
    { "state", "extra", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtlResult) result = run_ctlv (f, NULL, cases[i]);

      assert_usage_error (f, result);
    }
}

/* Tests: monitor */

typedef struct {
  GDataInputStream *stream;
  GQueue            lines;
  gboolean          eof;
} LineReader;

static void read_next_line (LineReader *reader);

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  LineReader *reader = user_data;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                          NULL, NULL);

  if (line == NULL)
    {
      reader->eof = TRUE;
      return;
    }
  g_test_message ("monitor: %s", line);
  g_queue_push_tail (&reader->lines, line);
  read_next_line (reader);
}

static void
read_next_line (LineReader *reader)
{
  g_data_input_stream_read_line_async (reader->stream, G_PRIORITY_DEFAULT, NULL,
                                       line_read_cb, reader);
}

static gboolean
has_line (Fixture  *f,
          gpointer  data)
{
  LineReader *reader = data;

  return !g_queue_is_empty (&reader->lines) || reader->eof;
}

static gboolean
reader_at_eof (Fixture  *f,
               gpointer  data)
{
  LineReader *reader = data;

  return reader->eof;
}

static char *
next_line (Fixture    *f,
           LineReader *reader,
           const char *waiting_for)
{
  if (!wait_for (f, has_line, reader) || g_queue_is_empty (&reader->lines))
    {
      dump_daemon_logs (f);
      g_error ("agendalinectl monitor printed no “%s”", waiting_for);
    }
  return g_queue_pop_head (&reader->lines);
}

/* Skips lines until one with "event": @event; returns it parsed. */
static JsonNode *
wait_for_event (Fixture    *f,
                LineReader *reader,
                const char *event)
{
  for (;;)
    {
      g_autofree char *line = next_line (f, reader, event);
      JsonNode *node = parse_json (line);

      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      g_assert_true (json_object_has_member (json_node_get_object (node), "time"));
      if (g_strcmp0 (json_object_get_string_member (json_node_get_object (node), "event"), event) == 0)
        return node;
      json_node_unref (node);
    }
}

/* Skips lines until one that contains @text. */
static void
wait_for_text (Fixture    *f,
               LineReader *reader,
               const char *text)
{
  for (;;)
    {
      g_autofree char *line = next_line (f, reader, text);

      if (strstr (line, text) != NULL)
        return;
    }
}

typedef struct {
  GSubprocess *process;
  gboolean     exited;
  LineReader   reader;
} Monitor;

static void
monitor_exited_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Monitor *monitor = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  monitor->exited = TRUE;
}

static gboolean
monitor_exited (Fixture  *f,
                gpointer  data)
{
  Monitor *monitor = data;

  return monitor->exited;
}

static void
start_monitor (Fixture    *f,
               Monitor    *monitor,
               const char *option)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;

  monitor->process = g_subprocess_launcher_spawn (launcher, &error, test_env ("AGL_TEST_CTL"),
                                                  "monitor", option, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (monitor->process, NULL, monitor_exited_cb, monitor);
  monitor->reader.stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (monitor->process));
  read_next_line (&monitor->reader);
}

/* SIGTERM (or Ctrl-C) is how a monitor ends: exit 0. */
static void
stop_monitor (Fixture *f,
              Monitor *monitor)
{
  g_assert_false (monitor->exited);
  g_subprocess_send_signal (monitor->process, SIGTERM);
  g_assert_true (wait_for (f, monitor_exited, monitor));
  g_assert_cmpint (exit_status (monitor->process), ==, 0);
  g_assert_true (wait_for (f, reader_at_eof, &monitor->reader));

  g_queue_clear_full (&monitor->reader.lines, g_free);
  g_clear_object (&monitor->reader.stream);
  g_clear_object (&monitor->process);
}

static void
test_monitor_json (Fixture       *f,
                   gconstpointer  data)
{
  Monitor monitor = { NULL, FALSE, { NULL, G_QUEUE_INIT, FALSE } };
  LineReader *reader = &monitor.reader;

  start_monitor (f, &monitor, "--json");
  {
    g_autoptr(JsonNode) state = wait_for_event (f, reader, "state");
    JsonObject *object = json_object_get_object_member (json_node_get_object (state), "state");

    g_assert_cmpint (json_object_get_int_member (object, "accounts"), ==, 0);
  }

  add_account (f, "work");
  {
    g_autoptr(JsonNode) added = wait_for_event (f, reader, "account-added");
    g_autoptr(JsonNode) state = NULL;

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "account"), ==, "work");
    state = wait_for_event (f, reader, "state");
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_node_get_object (state), "state"), "accounts"), ==, 1);
  }

  add_item (f, "cli-oslo.ics", NULL);
  {
    g_autoptr(JsonNode) changed = wait_for_event (f, reader, "agenda-changed");
    JsonObject *object = json_node_get_object (changed);
    JsonArray *created = json_object_get_array_member (object, "created");

    g_assert_true (json_object_get_null_member (object, "account"));
    g_assert_cmpuint (json_array_get_length (created), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (created, 0), "summary"),
                     ==, "Planning in Oslo");
  }

  /* The daemon going away and coming back is reported, not fatal, and the
   * new daemon's changes are followed too. */
  stop_daemon (f, f->daemon);
  json_node_unref (wait_for_event (f, reader, "daemon-vanished"));
  start_daemon (f, f->db_path);
  json_node_unref (wait_for_event (f, reader, "daemon-appeared"));
  add_account (f, "home");
  {
    g_autoptr(JsonNode) added = wait_for_event (f, reader, "account-added");

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "account"), ==, "home");
  }

  stop_monitor (f, &monitor);
}

static void
test_monitor_text (Fixture       *f,
                   gconstpointer  data)
{
  Monitor monitor = { NULL, FALSE, { NULL, G_QUEUE_INIT, FALSE } };
  LineReader *reader = &monitor.reader;

  start_monitor (f, &monitor, NULL);
  wait_for_text (f, reader, f->db_path);

  add_account (f, "work");
  wait_for_text (f, reader, "account added: work");
  wait_for_text (f, reader, "1 account (1 enabled), 0 appointments");

  add_item (f, "cli-oslo.ics", NULL);
  wait_for_text (f, reader, "local agenda changed: 1 created (Planning in Oslo), 0 updated, 0 deleted");
  wait_for_text (f, reader, "1 account (1 enabled), 1 appointment");

  stop_monitor (f, &monitor);
}

int
main (int    argc,
      char **argv)
{
  /* Messages from the programs are UTF-8; so is what the test prints. */
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, setup_func, test_func) \
  g_test_add (path, Fixture, NULL, setup_func, test_func, teardown)

  ADD ("/cli/agenda/add-list-roundtrip", setup, test_agenda_add_list_roundtrip);
  ADD ("/cli/agenda/all-day", setup, test_agenda_all_day);
  ADD ("/cli/agenda/invalid-refused-store-unchanged", setup, test_agenda_invalid_refused_store_unchanged);
  ADD ("/cli/agenda/update-remove", setup, test_agenda_update_remove);
  ADD ("/cli/agenda/unknown-id", setup, test_agenda_unknown_id);
  ADD ("/cli/agenda/bad-id-argument", setup, test_agenda_bad_id_argument);
  ADD ("/cli/agenda/range", setup, test_agenda_range);
  ADD ("/cli/agenda/occurrences", setup, test_agenda_occurrences);
  ADD ("/cli/agenda/occurrences-bad-range", setup, test_agenda_occurrences_bad_range);
  ADD ("/cli/agenda/occurrences-bad-item", setup, test_agenda_occurrences_bad_item);
  ADD ("/cli/agenda/import-export", setup, test_agenda_import_export);
  ADD ("/cli/agenda/import-all-or-nothing", setup, test_agenda_import_all_or_nothing);
  ADD ("/cli/account/add-list", setup, test_account_add_list);
  ADD ("/cli/account/duplicate-name", setup, test_account_duplicate_name);
  ADD ("/cli/account/unknown", setup, test_account_unknown);
  ADD ("/cli/account/bad-settings", setup, test_account_bad_settings);
  ADD ("/cli/account/impersonate", setup, test_account_impersonate);
  ADD ("/cli/account/enable-disable", setup, test_account_enable_disable);
  ADD ("/cli/account/remove-removes-its-agenda", setup, test_account_remove_removes_its_agenda);
  ADD ("/cli/account/password-not-stored-in-database", setup, test_account_password_not_stored_in_database);
  ADD ("/cli/daemon/second-instance-refused", setup, test_daemon_second_instance_refused);
  ADD ("/cli/daemon/replace", setup, test_daemon_replace);
  ADD ("/cli/daemon/sigterm-clean", setup, test_daemon_sigterm_clean);
  ADD ("/cli/daemon/bad-database", setup_bus, test_daemon_bad_database);
  ADD ("/cli/daemon/unreachable", setup_bus, test_daemon_unreachable);
  ADD ("/cli/state", setup, test_state);
  ADD ("/cli/monitor/json", setup, test_monitor_json);
  ADD ("/cli/monitor/text", setup, test_monitor_text);
  ADD ("/cli/help", setup_bus, test_help);
  ADD ("/cli/usage-errors", setup_bus, test_usage_errors);

#undef ADD

  return g_test_run ();
}
