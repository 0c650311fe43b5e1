/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * agendalinectl without agendalined: its usage errors with no bus at all
 * (a usage error never needs the daemon), and what the sync commands print
 * when a stand-in daemon, exported by this test on a private bus
 * (GTestDBus), answers as the contract says.
 *
 * AGL_TEST_CTL names the binary.  Nothing waits by sleeping: every wait is
 * on the main loop for the event itself, with a timeout.
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "agl-dbus-generated.h"

#define WAIT_TIMEOUT_SECONDS 10

#define ERROR_PREFIX "io.github.agendaline.Error."

typedef struct {
  GTestDBus       *bus;
  GDBusConnection *connection;
  AglDaemon       *daemon;          /* the stand-in, exported */
  guint            owner_id;
  gboolean         name_acquired;
  GVariant        *update_settings; /* what the last UpdateAccount got */
  GPtrArray       *status_calls;    /* "NAME@AT" of each GetStatus */
  guint            schedule_days;   /* what the last GetSchedule got */
  char            *override;        /* "PRESENCE|ACTION|TEXT" of the last SetOverride */
  char            *override_until;  /* what SetOverride answers for busy */
  char            *cleared;         /* the name of the last ClearOverride */
  char            *rules_set;       /* what the last SetRules got */
} Fixture;

typedef struct {
  int   status;   /* the exit status, or -1 when killed by a signal */
  char *out;
  char *err;
  gboolean done;
} CtlResult;

static void
ctl_result_free (CtlResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlResult, ctl_result_free)

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *@flag is set or the timeout passes. */
static gboolean
wait_for_flag (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  return *flag;
}

static int
exit_status (GSubprocess *process)
{
  if (!g_subprocess_get_if_exited (process))
    return -1;
  return g_subprocess_get_exit_status (process);
}

static GSubprocessLauncher *
new_launcher (GSubprocessFlags  flags,
              gboolean          with_bus)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  /* Times in the output are local: make local UTC. */
  g_subprocess_launcher_setenv (launcher, "TZ", "UTC", TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  if (!with_bus)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                  "unix:path=/nonexistent/agendaline-test-bus", TRUE);
  return launcher;
}

static GSubprocess *
spawn_ctl (GSubprocessLauncher *launcher,
           const char * const  *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, (char *) g_getenv ("AGL_TEST_CTL"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

static void
communicate_cb (GObject      *source,
                GAsyncResult *res,
                gpointer      user_data)
{
  CtlResult *result = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &result->out, &result->err,
                                        &error);
  g_assert_no_error (error);
  result->status = exit_status (G_SUBPROCESS (source));
  result->done = TRUE;
}

/* Runs agendalinectl with @args while the main loop serves the stand-in
 * daemon; @with_bus FALSE gives it a session bus that is not there. */
static CtlResult *
run_ctlv (gboolean            with_bus,
          const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *command = NULL;
  CtlResult *result = g_new0 (CtlResult, 1);

  launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           with_bus);
  process = spawn_ctl (launcher, args);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicate_cb, result);
  if (!wait_for_flag (&result->done))
    {
      g_subprocess_force_exit (process);
      g_error ("agendalinectl did not finish");
    }

  command = g_strjoinv (" ", (char **) args);
  g_test_message ("$ agendalinectl %s  -> %d", command, result->status);
  if (*result->out != '\0')
    g_test_message ("stdout: %s", result->out);
  if (*result->err != '\0')
    g_test_message ("stderr: %s", result->err);
  return result;
}

static CtlResult *
run_ctl (const char *first,
         ...) G_GNUC_NULL_TERMINATED;

static CtlResult *
run_ctl (const char *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  return run_ctlv (TRUE, (const char * const *) args->pdata);
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
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not contain “%s”", haystack, needle);
}

static void
assert_ok (CtlResult *result)
{
  g_assert_cmpint (result->status, ==, 0);
  g_assert_cmpstr (result->err, ==, "");
}

/* Exit 1 and one line on standard error that says @message. */
static void
assert_failure (CtlResult  *result,
                const char *message)
{
  g_assert_cmpint (result->status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_cmpuint (count_lines (result->err), ==, 1);
  g_assert_true (g_str_has_prefix (result->err, "agendalinectl: "));
  assert_contains (result->err, message);
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

/* The stand-in daemon */

/* Values parsed from text are not floating: the callers own them. */
static GVariant *
parse_value (const char *type,
             const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (G_VARIANT_TYPE (type), text, NULL, NULL, &error);

  g_assert_no_error (error);
  return value;
}

static gboolean
handle_list_accounts_cb (AglDaemon             *daemon,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  /* "old" is as a daemon that predates the policy and poll interval. */
  g_autoptr(GVariant) accounts =
    parse_value ("aa{sv}",
                 "[{'name': <'old'>, 'email': <'old@example.com'>, 'auth': <'ntlm'>, "
                 "  'user': <'old@example.com'>, 'autodiscover': <true>, 'enabled': <false>, "
                 "  'has-password': <false>},"
                 " {'name': <'work'>, 'email': <'anna@example.com'>, 'auth': <'basic'>, "
                 "  'user': <'anna'>, 'url': <'https://mail.example.com/EWS/Exchange.asmx'>, "
                 "  'enabled': <true>, 'has-password': <true>, "
                 "  'conflict-policy': <'newer-wins'>, 'poll-interval': <uint32 300>}]");

  agl_daemon_complete_list_accounts (daemon, invocation, accounts);
  return TRUE;
}

static gboolean
handle_update_account_cb (AglDaemon             *daemon,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          GVariant              *settings,
                          gpointer               user_data)
{
  Fixture *f = user_data;
  gboolean confirm = FALSE;

  g_variant_lookup (settings, "confirm", "b", &confirm);
  if (g_variant_lookup (settings, "email", "&s", NULL) && !confirm)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "ConfirmationNeeded",
                                                  "Changing the mailbox of work to team@example.com "
                                                  "removes 12 appointments of anna@example.com from the "
                                                  "local agenda and adds 30.");
      return TRUE;
    }

  g_clear_pointer (&f->update_settings, g_variant_unref);
  f->update_settings = g_variant_ref (settings);
  agl_daemon_complete_update_account (daemon, invocation);
  return TRUE;
}

static gboolean
handle_sync_account_cb (AglDaemon             *daemon,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        gboolean               wait,
                        gpointer               user_data)
{
  g_autoptr(GVariant) result = NULL;

  if (strcmp (name, "work") != 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "NotFound",
                                                  "There is no account called “nope”.");
      return TRUE;
    }
  if (wait)
    result = parse_value ("a{sv}",
                          "{'received': <uint32 3>, 'sent': <uint32 1>, 'conflicts': <uint32 0>, "
                          " 'items': <uint32 214>, 'seconds': <1.84>}");
  else
    result = parse_value ("a{sv}", "{}");
  agl_daemon_complete_sync_account (daemon, invocation, result);
  return TRUE;
}

static gboolean
handle_list_connections_cb (AglDaemon             *daemon,
                            GDBusMethodInvocation *invocation,
                            gpointer               user_data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_seconds (now, -42);
  g_autofree char *last_sync = g_date_time_format_iso8601 (then);
  g_autofree char *text =
    g_strdup_printf ("[{'name': <'old'>, 'enabled': <false>, 'status': <'disabled'>, "
                     "  'notifications': <''>, 'subscription-id': <''>, 'watermark': <''>, "
                     "  'last-sync': <''>, 'sync-state-age': <int64 -1>, 'items': <uint32 0>, "
                     "  'pending': <uint32 0>, 'conflicts': <uint32 0>, 'last-error': <''>, "
                     "  'server-version': <''>},"
                     " {'name': <'work'>, 'enabled': <true>, 'status': <'online'>, "
                     "  'notifications': <'streaming'>, 'subscription-id': <'FgBtYWlsMDE='>, "
                     "  'watermark': <'AQAAAAxk'>, 'last-sync': <'%s'>, "
                     "  'sync-state-age': <int64 42>, 'items': <uint32 214>, "
                     "  'pending': <uint32 2>, 'conflicts': <uint32 1>, 'last-error': <''>, "
                     "  'server-version': <'15.1.2507.39'>}]",
                     last_sync);
  g_autoptr(GVariant) connections = parse_value ("aa{sv}", text);

  agl_daemon_complete_list_connections (daemon, invocation, connections);
  return TRUE;
}

static gboolean
handle_list_conflicts_cb (AglDaemon             *daemon,
                          GDBusMethodInvocation *invocation,
                          const char            *account,
                          gpointer               user_data)
{
  g_autoptr(GVariant) conflicts = NULL;

  if (*account != '\0' && strcmp (account, "work") != 0)
    conflicts = parse_value ("aa{sv}", "[]");
  else
    conflicts = parse_value ("aa{sv}",
                             "[{'id': <int64 7>, 'account': <'work'>, "
                             "  'uid': <'abc@example.com'>, 'summary': <'Standup'>, "
                             "  'reason': <'changed on both sides; Exchange won'>, "
                             "  'created': <'2026-11-21T09:15:00Z'>, "
                             "  'ical': <'BEGIN:VCALENDAR\\r\\nEND:VCALENDAR\\r\\n'>}]");
  agl_daemon_complete_list_conflicts (daemon, invocation, conflicts);
  return TRUE;
}

static gboolean
handle_restore_conflict_cb (AglDaemon             *daemon,
                            GDBusMethodInvocation *invocation,
                            gint64                 id,
                            gpointer               user_data)
{
  if (id != 7)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "NotFound",
                                                  "There is no conflict record 8.");
      return TRUE;
    }
  agl_daemon_complete_restore_conflict (daemon, invocation, 42);
  return TRUE;
}

static const char *log_lines =
  "[{'time': <'2026-11-21T09:00:00.042Z'>, 'level': <'message'>, 'account': <''>, "
  "  'message': <'Serving io.github.agendaline.Daemon'>},"
  " {'time': <'2026-11-21T09:00:01.500Z'>, 'level': <'warning'>, 'account': <'work'>, "
  "  'message': <'Exchange is busy; retrying in 30 s'>}]";

static gboolean
handle_get_log_cb (AglDaemon             *daemon,
                   GDBusMethodInvocation *invocation,
                   guint                  max,
                   gpointer               user_data)
{
  g_autoptr(GVariant) lines = parse_value ("aa{sv}", log_lines);

  if (max == 1)
    {
      g_autoptr(GVariant) last = g_variant_get_child_value (lines, 1);

      agl_daemon_complete_get_log (daemon, invocation,
                                   g_variant_new_array (G_VARIANT_TYPE_VARDICT, &last, 1));
      return TRUE;
    }
  agl_daemon_complete_get_log (daemon, invocation, lines);
  return TRUE;
}

static gboolean
handle_verify_account_cb (AglDaemon             *daemon,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          gpointer               user_data)
{
  g_autoptr(GVariant) result = NULL;

  if (strcmp (name, "work") != 0)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "TimedOut",
                                                  "The test appointment did not reach Exchange "
                                                  "within 5 minutes; it was removed again.");
      return TRUE;
    }

  /* Another account's progress is not this command's; the last leg comes
   * only in the answer. */
  agl_daemon_emit_verify_progress (daemon, "home", "local-to-exchange", 9.0);
  agl_daemon_emit_verify_progress (daemon, "work", "local-to-exchange", 0.42);
  agl_daemon_emit_verify_progress (daemon, "work", "exchange-to-local", 3.1);
  result = parse_value ("a{sv}",
                        "{'uid': <'check@agendaline'>, 'local-to-exchange': <0.42>, "
                        " 'exchange-to-local': <3.1>, 'delete': <0.8>}");
  agl_daemon_complete_verify_account (daemon, invocation, result);
  return TRUE;
}

/* Presence and call diversion: statuses and rules are JSON text. */

#define STATUS_BUSY \
  "{\"account\": \"work\", \"at\": \"2026-11-23T13:05:00Z\", \"presence\": \"busy\"," \
  " \"phone\": {\"action\": \"divert\", \"forward_internal\": false, \"reason\": \"meeting\"}," \
  " \"text\": \"Quarterly planning meeting\", \"until\": \"2026-11-23T14:30:00Z\"," \
  " \"because\": [" \
  "  {\"kind\": \"appointment\", \"uid\": \"q1\", \"subject\": \"Quarterly planning meeting\"," \
  "   \"free_busy\": \"Busy\", \"detail\": null}," \
  "  {\"kind\": \"rule\", \"uid\": null, \"subject\": null, \"free_busy\": null," \
  "   \"detail\": \"The action for Busy appointments is divert (actions.Busy).\"}," \
  "  {\"kind\": \"trigger-word\", \"uid\": \"q1\", \"subject\": \"Quarterly planning meeting\"," \
  "   \"free_busy\": \"Busy\", \"detail\": \"The trigger word “meeting” gives the reason “meeting”.\"}]}"

#define STATUS_FREE_FORMAT \
  "{\"account\": \"work\", \"at\": \"%s\", \"presence\": \"available\"," \
  " \"phone\": {\"action\": \"none\", \"forward_internal\": false, \"reason\": null}," \
  " \"text\": null, \"until\": \"2026-11-24T08:00:00Z\"," \
  " \"because\": [{\"kind\": \"rule\", \"uid\": null, \"subject\": null, \"free_busy\": null," \
  "               \"detail\": \"No appointment is active.\"}]}"

#define SCHEDULE \
  "[" STATUS_BUSY "," \
  " {\"account\": \"work\", \"at\": \"2026-11-23T14:30:00Z\", \"presence\": \"available\"," \
  "  \"phone\": {\"action\": \"none\", \"forward_internal\": true, \"reason\": null}," \
  "  \"text\": null, \"until\": \"2026-11-24T08:00:00Z\", \"because\": []}," \
  " {\"account\": \"work\", \"at\": \"2026-11-24T08:00:00Z\", \"presence\": \"out-of-office\"," \
  "  \"phone\": {\"action\": \"forward\", \"forward_internal\": true, \"reason\": null}," \
  "  \"text\": \"On leave\", \"until\": null, \"because\": []}]"

#define RULES \
  "{\"actions\": {\"Free\": \"none\", \"Tentative\": \"none\", \"Busy\": \"divert\"," \
  "              \"OOF\": \"forward\", \"WorkingElsewhere\": \"none\"}," \
  " \"forward_internal\": false," \
  " \"trigger_words\": [{\"word\": \"meeting\", \"reason\": \"meeting\"}," \
  "                    {\"word\": \"lunch\", \"reason\": \"lunch\"}]," \
  " \"default_reason\": \"will return\", \"only_accepted_meetings\": true," \
  " \"join_parallel_subjects\": false," \
  " \"publishers\": {\"webhook\": {\"url\": \"https://hooks.example.com/presence\"}}}"

static gboolean
return_not_found (GDBusMethodInvocation *invocation,
                  const char            *name)
{
  g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "NotFound",
                                              "There is no account called “nope”.");
  return TRUE;
}

static gboolean
handle_get_status_cb (AglDaemon             *daemon,
                      GDBusMethodInvocation *invocation,
                      const char            *name,
                      const char            *at,
                      gpointer               user_data)
{
  Fixture *f = user_data;
  g_autofree char *status = NULL;

  g_ptr_array_add (f->status_calls, g_strdup_printf ("%s@%s", name, at));
  if (strcmp (name, "work") != 0)
    return return_not_found (invocation, name);
  status = *at == '\0' ? g_strdup (STATUS_BUSY) : g_strdup_printf (STATUS_FREE_FORMAT, at);
  agl_daemon_complete_get_status (daemon, invocation, status);
  return TRUE;
}

static gboolean
handle_get_schedule_cb (AglDaemon             *daemon,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        const char            *from,
                        guint                  days,
                        gpointer               user_data)
{
  Fixture *f = user_data;

  if (strcmp (name, "work") != 0)
    return return_not_found (invocation, name);
  f->schedule_days = days;
  agl_daemon_complete_get_schedule (daemon, invocation, SCHEDULE);
  return TRUE;
}

static gboolean
handle_set_override_cb (AglDaemon             *daemon,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        const char            *presence,
                        const char            *action,
                        const char            *text,
                        gpointer               user_data)
{
  Fixture *f = user_data;

  if (strcmp (name, "work") != 0)
    return return_not_found (invocation, name);
  g_free (f->override);
  f->override = g_strdup_printf ("%s|%s|%s", presence, action, text);
  /* "away" as if no appointment were ahead. */
  agl_daemon_complete_set_override (daemon, invocation,
                                    strcmp (presence, "away") == 0 ? "" : f->override_until);
  return TRUE;
}

static gboolean
handle_clear_override_cb (AglDaemon             *daemon,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          gpointer               user_data)
{
  Fixture *f = user_data;

  if (strcmp (name, "work") != 0)
    return return_not_found (invocation, name);
  g_free (f->cleared);
  f->cleared = g_strdup (name);
  agl_daemon_complete_clear_override (daemon, invocation);
  return TRUE;
}

static gboolean
handle_get_rules_cb (AglDaemon             *daemon,
                     GDBusMethodInvocation *invocation,
                     const char            *name,
                     gpointer               user_data)
{
  if (strcmp (name, "broken") == 0)
    {
      agl_daemon_complete_get_rules (daemon, invocation, "{\"actions\": ");
      return TRUE;
    }
  if (strcmp (name, "work") != 0)
    return return_not_found (invocation, name);
  agl_daemon_complete_get_rules (daemon, invocation, RULES);
  return TRUE;
}

static gboolean
handle_set_rules_cb (AglDaemon             *daemon,
                     GDBusMethodInvocation *invocation,
                     const char            *name,
                     const char            *rules,
                     gpointer               user_data)
{
  Fixture *f = user_data;

  if (strstr (rules, "\"bogus\"") != NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_PREFIX "InvalidArgument",
                                                  "Unknown key “bogus” in the rules; the old rules stay.");
      return TRUE;
    }
  g_free (f->rules_set);
  f->rules_set = g_strdup (rules);
  agl_daemon_complete_set_rules (daemon, invocation);
  return TRUE;
}

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Fixture *f = user_data;

  f->name_acquired = TRUE;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus);
  f->connection = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (f->bus),
                                                          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                          NULL, NULL, &error);
  g_assert_no_error (error);

  f->daemon = agl_daemon_skeleton_new ();
  agl_daemon_set_version (f->daemon, PACKAGE_VERSION);
  g_signal_connect (f->daemon, "handle-list-accounts", G_CALLBACK (handle_list_accounts_cb), f);
  g_signal_connect (f->daemon, "handle-update-account", G_CALLBACK (handle_update_account_cb), f);
  g_signal_connect (f->daemon, "handle-sync-account", G_CALLBACK (handle_sync_account_cb), f);
  g_signal_connect (f->daemon, "handle-list-connections", G_CALLBACK (handle_list_connections_cb), f);
  g_signal_connect (f->daemon, "handle-list-conflicts", G_CALLBACK (handle_list_conflicts_cb), f);
  g_signal_connect (f->daemon, "handle-restore-conflict", G_CALLBACK (handle_restore_conflict_cb), f);
  g_signal_connect (f->daemon, "handle-get-log", G_CALLBACK (handle_get_log_cb), f);
  g_signal_connect (f->daemon, "handle-verify-account", G_CALLBACK (handle_verify_account_cb), f);
  g_signal_connect (f->daemon, "handle-get-status", G_CALLBACK (handle_get_status_cb), f);
  g_signal_connect (f->daemon, "handle-get-schedule", G_CALLBACK (handle_get_schedule_cb), f);
  g_signal_connect (f->daemon, "handle-set-override", G_CALLBACK (handle_set_override_cb), f);
  g_signal_connect (f->daemon, "handle-clear-override", G_CALLBACK (handle_clear_override_cb), f);
  g_signal_connect (f->daemon, "handle-get-rules", G_CALLBACK (handle_get_rules_cb), f);
  g_signal_connect (f->daemon, "handle-set-rules", G_CALLBACK (handle_set_rules_cb), f);
  f->status_calls = g_ptr_array_new_with_free_func (g_free);
  g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (f->daemon), f->connection,
                                    AGL_OBJECT_PATH, &error);
  g_assert_no_error (error);

  f->owner_id = g_bus_own_name_on_connection (f->connection, AGL_BUS_NAME,
                                              G_BUS_NAME_OWNER_FLAGS_NONE,
                                              name_acquired_cb, NULL, f, NULL);
  g_assert_true (wait_for_flag (&f->name_acquired));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_bus_unown_name (f->owner_id);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (f->daemon));
  g_clear_object (&f->daemon);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_clear_pointer (&f->update_settings, g_variant_unref);
  g_clear_pointer (&f->status_calls, g_ptr_array_unref);
  g_clear_pointer (&f->override, g_free);
  g_clear_pointer (&f->override_until, g_free);
  g_clear_pointer (&f->cleared, g_free);
  g_clear_pointer (&f->rules_set, g_free);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
}

/* Tests */

static void
test_usage_errors (void)
{
  /* Each with the words its one line must say. */
  const struct {
    const char *args[8];
    const char *message;
  } cases[] = {
    { { "account", "add", "work", "--email", "a@example.com", "--conflict-policy", "server-wins", NULL },
      "Unknown conflict policy “server-wins”: use exchange-wins, local-wins or newer-wins" },
    { { "account", "update", "work", "--conflict-policy", "", NULL },
      "Unknown conflict policy" },
    { { "account", "update", "work", "--poll-interval", "5", NULL },
      "“5” is not a poll interval: give a whole number of seconds from 10 to 86400" },
    { { "account", "update", "work", "--poll-interval", "1m", NULL },
      "“1m” is not a poll interval" },
    { { "account", "update", "work", "--poll-interval", "86401", NULL },
      "is not a poll interval" },
    { { "account", "add", "work", "--email", "a@example.com", "--confirm", NULL },
      "--confirm" },
    { { "sync", NULL }, "Missing the account name" },
    { { "sync", "work", "extra", NULL }, "Unexpected argument “extra”" },
    { { "sync", "work", "--frobnicate", NULL }, "--frobnicate" },
    { { "verify", NULL }, "Missing the account name" },
    { { "connections", "work", "home", NULL }, "Unexpected argument “home”" },
    { { "log", "--lines", "x", NULL }, "“x” is not a number of lines" },
    { { "log", "--lines", "0", NULL }, "“0” is not a number of lines" },
    { { "log", "extra", NULL }, "Unexpected argument “extra”" },
    { { "conflicts", "restore", NULL }, "Missing the conflict id" },
    { { "conflicts", "restore", "notanumber", NULL },
      "“notanumber” is not a conflict id; ids are whole numbers from 1 up" },
    { { "conflicts", "restore", "0", NULL }, "“0” is not a conflict id" },
    { { "conflicts", "work", "home", NULL }, "Unexpected argument “home”" },
    { { "conflicts", "--frobnicate", NULL }, "--frobnicate" },
    { { "status", "work", "--at", "tomorrow", NULL },
      "“tomorrow” is not a time: give ISO 8601, e.g. 2026-11-23T14:00" },
    { { "status", "work", "--at", "2026-11-23", NULL }, "“2026-11-23” is not a time" },
    { { "status", "work", "home", NULL }, "Unexpected argument “home”" },
    { { "schedule", "--days", "0", NULL },
      "“0” is not a number of days: give a whole number from 1 to 31" },
    { { "schedule", "work", "--days", "32", NULL }, "“32” is not a number of days" },
    { { "schedule", "work", "--days", "x", NULL }, "“x” is not a number of days" },
    { { "override", NULL }, "Missing the account name" },
    { { "override", "work", NULL }, "Give --presence to set an override, or --clear to remove it" },
    { { "override", "work", "--presence", "foo", NULL },
      "Unknown presence “foo”: use available, busy, dnd, away or out-of-office" },
    { { "override", "work", "--presence", "busy", "--action", "ring", NULL },
      "Unknown action “ring”: use none, dnd, forward or divert" },
    { { "override", "work", "--clear", "--presence", "busy", NULL },
      "--clear cannot be combined with --presence, --action or --text" },
    { { "override", "work", "--text", "Lunch", NULL }, "Give --presence" },
    { { "rules", NULL }, "Missing the account name" },
    { { "rules", "work", "home", NULL }, "Unexpected argument “home”" },
    { { "rules", "set", "work", NULL }, "Missing the rules file (or “-” for standard input)" },
    { { "rules", "set", NULL }, "Missing the account name" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CtlResult) result = run_ctlv (FALSE, cases[i].args);
      g_auto(GStrv) lines = NULL;

      /* Exit 2, nothing on standard output, the problem in one line and
       * where to find help in the other; the missing bus was never tried
       * (that would be exit 1). */
      g_assert_cmpint (result->status, ==, 2);
      g_assert_cmpstr (result->out, ==, "");
      g_assert_cmpuint (count_lines (result->err), ==, 2);
      lines = g_strsplit (result->err, "\n", -1);
      g_assert_true (g_str_has_prefix (lines[0], "agendalinectl "));
      assert_contains (lines[0], cases[i].message);
      g_assert_true (g_str_has_prefix (lines[1], "Try “agendalinectl"));
    }
}

static void
test_help (void)
{
  const char *commands[][3] = {
    { "sync", NULL }, { "connections", NULL }, { "log", NULL }, { "verify", NULL },
    { "conflicts", NULL }, { "conflicts", "list" }, { "conflicts", "restore" },
    { "status", NULL }, { "schedule", NULL }, { "override", NULL },
    { "rules", NULL }, { "rules", "show" }, { "rules", "set" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *args[] = { commands[i][0], commands[i][1] != NULL ? commands[i][1] : "--help",
                             commands[i][1] != NULL ? "--help" : NULL, NULL };
      g_autoptr(CtlResult) result = run_ctlv (FALSE, args);
      g_autofree char *usage = commands[i][1] != NULL
                               ? g_strdup_printf ("agendalinectl %s %s", commands[i][0], commands[i][1])
                               : g_strdup_printf ("agendalinectl %s", commands[i][0]);

      assert_ok (result);
      assert_contains (result->out, "Usage:");
      assert_contains (result->out, usage);
    }
}

static void
test_unreachable (void)
{
  const char *args[] = { "connections", NULL };
  g_autoptr(CtlResult) result = run_ctlv (FALSE, args);

  assert_failure (result, "cannot reach the Agendaline daemon");
}

static void
test_sync (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(CtlResult) started = run_ctl ("sync", "work", NULL);
  g_autoptr(CtlResult) waited = run_ctl ("sync", "work", "--wait", NULL);
  g_autoptr(CtlResult) json = run_ctl ("sync", "work", "--wait", "--json", NULL);
  g_autoptr(CtlResult) unknown = run_ctl ("sync", "nope", NULL);
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  assert_ok (started);
  g_assert_cmpstr (started->out, ==, "");

  assert_ok (waited);
  g_assert_cmpstr (waited->out, ==,
                   "Synced work in 1.84 s: 3 received, 1 sent, 0 conflicts settled; 214 appointments.\n");

  assert_ok (json);
  root = parse_json (json->out);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "received"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (object, "items"), ==, 214);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (object, "seconds"), 1.84, 1e-9);

  assert_failure (unknown, "There is no account called “nope”.");
}

static void
test_connections (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(CtlResult) all = run_ctl ("connections", NULL);
  g_autoptr(CtlResult) one = run_ctl ("connections", "work", NULL);
  g_autoptr(CtlResult) json_all = run_ctl ("connections", "--json", NULL);
  g_autoptr(CtlResult) json_one = run_ctl ("connections", "work", "--json", NULL);
  g_autoptr(CtlResult) unknown = run_ctl ("connections", "nope", NULL);
  g_autoptr(JsonNode) array = NULL;
  g_autoptr(JsonNode) work = NULL;
  JsonObject *object;

  assert_ok (all);
  assert_contains (all->out, "Account:          old\n");
  assert_contains (all->out, "Status:           disabled\n");
  assert_contains (all->out, "Last sync:        never\n");
  assert_contains (all->out, "\n\nAccount:          work\n");
  assert_contains (all->out, "Status:           online\n");
  assert_contains (all->out, "Notifications:    streaming (Exchange pushes changes)\n");
  assert_contains (all->out, " s ago)\n");
  assert_contains (all->out, "Pending changes:  2\n");
  assert_contains (all->out, "Subscription:     FgBtYWlsMDE=\n");
  assert_contains (all->out, "Sync state:       stored 42 s ago\n");
  assert_contains (all->out, "Server version:   15.1.2507.39\n");

  assert_ok (one);
  g_assert_true (g_str_has_prefix (one->out, "Account:          work\n"));
  g_assert_null (strstr (one->out, "old"));

  assert_ok (json_all);
  array = parse_json (json_all->out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (array)), ==, 2);
  object = json_array_get_object_element (json_node_get_array (array), 0);
  g_assert_true (json_object_get_null_member (object, "sync_state_age"));
  g_assert_true (json_object_get_null_member (object, "last_sync"));

  assert_ok (json_one);
  work = parse_json (json_one->out);
  object = json_node_get_object (work);
  g_assert_cmpstr (json_object_get_string_member (object, "notifications"), ==, "streaming");
  g_assert_cmpint (json_object_get_int_member (object, "sync_state_age"), ==, 42);
  g_assert_cmpint (json_object_get_int_member (object, "conflicts"), ==, 1);
  g_assert_true (json_object_get_null_member (object, "last_error"));

  assert_failure (unknown, "There is no account called “nope”.");
}

static void
test_log (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(CtlResult) text = run_ctl ("log", NULL);
  g_autoptr(CtlResult) last = run_ctl ("log", "--lines", "1", NULL);
  g_autoptr(CtlResult) json = run_ctl ("log", "--json", NULL);
  g_auto(GStrv) json_lines = NULL;
  g_autoptr(JsonNode) first = NULL;

  assert_ok (text);
  g_assert_cmpstr (text->out, ==,
                   "2026-11-21 09:00:00.042  message  Serving io.github.agendaline.Daemon\n"
                   "2026-11-21 09:00:01.500  warning  [work] Exchange is busy; retrying in 30 s\n");

  assert_ok (last);
  g_assert_cmpstr (last->out, ==,
                   "2026-11-21 09:00:01.500  warning  [work] Exchange is busy; retrying in 30 s\n");

  /* One object per line. */
  assert_ok (json);
  json_lines = g_strsplit (json->out, "\n", -1);
  g_assert_cmpuint (g_strv_length (json_lines), ==, 3);
  first = parse_json (json_lines[0]);
  g_assert_true (json_object_get_null_member (json_node_get_object (first), "account"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "time"), ==,
                   "2026-11-21T09:00:00.042Z");
}

typedef struct {
  GDataInputStream *stream;
  GQueue            lines;
  gboolean          got_line;
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
  g_test_message ("log --follow: %s", line);
  g_queue_push_tail (&reader->lines, line);
  reader->got_line = TRUE;
  read_next_line (reader);
}

static void
read_next_line (LineReader *reader)
{
  g_data_input_stream_read_line_async (reader->stream, G_PRIORITY_DEFAULT, NULL,
                                       line_read_cb, reader);
}

static char *
next_line (LineReader *reader)
{
  while (g_queue_is_empty (&reader->lines))
    {
      reader->got_line = FALSE;
      if (!wait_for_flag (&reader->got_line))
        g_error ("agendalinectl log --follow printed no line");
    }
  return g_queue_pop_head (&reader->lines);
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *exited = user_data;

  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL));
  *exited = TRUE;
}

static void
test_log_follow (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = new_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE, TRUE);
  const char *args[] = { "log", "--follow", NULL };
  g_autoptr(GSubprocess) process = spawn_ctl (launcher, args);
  g_autoptr(GVariant) lines = parse_value ("aa{sv}", log_lines);
  g_autoptr(GVariant) repeated = g_variant_get_child_value (lines, 1);
  g_autoptr(GVariant) new_line = parse_value ("a{sv}",
                                              "{'time': <'2026-11-21T09:00:02.007Z'>, "
                                              " 'level': <'info'>, 'account': <'work'>, "
                                              " 'message': <'Synced: 3 received'>}");
  LineReader reader = { NULL, G_QUEUE_INIT, FALSE, FALSE };
  gboolean exited = FALSE;
  g_autofree char *line1 = NULL;
  g_autofree char *line2 = NULL;
  g_autofree char *line3 = NULL;

  reader.stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  read_next_line (&reader);

  line1 = next_line (&reader);
  line2 = next_line (&reader);
  assert_contains (line1, "Serving");
  assert_contains (line2, "[work] Exchange is busy");

  /* The last line of GetLog again (as when it was logged while GetLog
   * answered), then a new one: only the new one is printed. */
  agl_daemon_emit_log_line (f->daemon, repeated);
  agl_daemon_emit_log_line (f->daemon, new_line);
  line3 = next_line (&reader);
  g_assert_cmpstr (line3, ==, "2026-11-21 09:00:02.007  info     [work] Synced: 3 received");

  /* Interrupted: a normal end. */
  g_subprocess_send_signal (process, SIGINT);
  g_subprocess_wait_async (process, NULL, wait_cb, &exited);
  g_assert_true (wait_for_flag (&exited));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  while (!reader.eof)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_queue_is_empty (&reader.lines));
  g_queue_clear_full (&reader.lines, g_free);
  g_clear_object (&reader.stream);
}

static void
test_verify (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(CtlResult) text = run_ctl ("verify", "work", NULL);
  g_autoptr(CtlResult) json = run_ctl ("verify", "work", "--json", NULL);
  g_autoptr(CtlResult) failed = run_ctl ("verify", "slow", NULL);
  g_autoptr(JsonNode) root = NULL;

  assert_ok (text);
  g_assert_cmpstr (text->out, ==,
                   "Checking work; this can take a few minutes…\n"
                   "Local → Exchange: 0.42 s\n"
                   "Exchange → local: 3.10 s\n"
                   "Deleted on both sides: 0.80 s\n"
                   "work syncs both ways with Exchange (4.32 s in all).\n");

  assert_ok (json);
  root = parse_json (json->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "uid"), ==,
                   "check@agendaline");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_node_get_object (root),
                                                                 "exchange_to_local"), 3.1, 1e-9);

  /* The daemon's message, on its own line; the progress line was said. */
  g_assert_cmpint (failed->status, ==, 1);
  g_assert_cmpstr (failed->err, ==,
                   "agendalinectl: The test appointment did not reach Exchange within 5 minutes; "
                   "it was removed again.\n");
}

static void
test_conflicts (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(CtlResult) lone = run_ctl ("conflicts", NULL);
  g_autoptr(CtlResult) listed = run_ctl ("conflicts", "list", NULL);
  g_autoptr(CtlResult) named = run_ctl ("conflicts", "work", NULL);
  g_autoptr(CtlResult) other = run_ctl ("conflicts", "home", NULL);
  g_autoptr(CtlResult) json = run_ctl ("conflicts", "--json", NULL);
  g_autoptr(CtlResult) json_after = run_ctl ("conflicts", "work", "--json", NULL);
  g_autoptr(CtlResult) restored = run_ctl ("conflicts", "restore", "7", NULL);
  g_autoptr(CtlResult) restored_json = run_ctl ("conflicts", "restore", "7", "--json", NULL);
  g_autoptr(CtlResult) missing = run_ctl ("conflicts", "restore", "8", NULL);
  g_autoptr(JsonNode) array = NULL;
  g_autoptr(JsonNode) id = NULL;
  JsonObject *object;

  assert_ok (lone);
  g_assert_cmpstr (lone->out, ==,
                   "ID  ACCOUNT  WHEN              SUMMARY  REASON\n"
                   "7   work     2026-11-21 09:15  Standup  changed on both sides; Exchange won\n");
  assert_ok (listed);
  g_assert_cmpstr (listed->out, ==, lone->out);
  assert_ok (named);
  g_assert_cmpstr (named->out, ==, lone->out);
  assert_ok (other);
  g_assert_cmpstr (other->out, ==, "No conflicts.\n");

  assert_ok (json);
  assert_ok (json_after);
  g_assert_cmpstr (json->out, ==, json_after->out);
  array = parse_json (json->out);
  object = json_array_get_object_element (json_node_get_array (array), 0);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (object, "reason"), ==,
                   "changed on both sides; Exchange won");
  assert_contains (json_object_get_string_member (object, "ical"), "BEGIN:VCALENDAR");

  assert_ok (restored);
  g_assert_cmpstr (restored->out, ==, "42\n");
  assert_ok (restored_json);
  id = parse_json (restored_json->out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (id), "id"), ==, 42);

  assert_failure (missing, "There is no conflict record 8.");
}

static void
test_account_settings (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(CtlResult) list = run_ctl ("account", "list", NULL);
  g_autoptr(CtlResult) json = run_ctl ("account", "list", "--json", NULL);
  g_autoptr(CtlResult) update = run_ctl ("account", "update", "work", "--conflict-policy",
                                         "local-wins", "--poll-interval", "600", NULL);
  g_autoptr(CtlResult) unconfirmed = NULL;
  g_autoptr(CtlResult) confirmed = NULL;
  g_autoptr(JsonNode) array = NULL;
  JsonObject *object;
  const char *policy = NULL;
  guint32 poll_interval = 0;
  gboolean confirm = FALSE;

  assert_ok (list);
  assert_contains (list->out, "ON CONFLICT  POLL");
  assert_contains (list->out, "newer-wins   300 s");
  assert_contains (list->out, "-            -");

  assert_ok (json);
  array = parse_json (json->out);
  object = json_array_get_object_element (json_node_get_array (array), 0);
  g_assert_true (json_object_get_null_member (object, "conflict_policy"));
  g_assert_true (json_object_get_null_member (object, "poll_interval"));
  object = json_array_get_object_element (json_node_get_array (array), 1);
  g_assert_cmpstr (json_object_get_string_member (object, "conflict_policy"), ==, "newer-wins");
  g_assert_cmpint (json_object_get_int_member (object, "poll_interval"), ==, 300);

  assert_ok (update);
  g_assert_true (g_variant_lookup (f->update_settings, "conflict-policy", "&s", &policy));
  g_assert_cmpstr (policy, ==, "local-wins");
  g_assert_true (g_variant_lookup (f->update_settings, "poll-interval", "u", &poll_interval));
  g_assert_cmpuint (poll_interval, ==, 600);
  g_assert_false (g_variant_lookup (f->update_settings, "confirm", "b", &confirm));

  /* The daemon's message and how to go ahead, in one line. */
  unconfirmed = run_ctl ("account", "update", "work", "--email", "team@example.com", NULL);
  assert_failure (unconfirmed, "removes 12 appointments of anna@example.com");
  assert_contains (unconfirmed->err, "again with --confirm");

  confirmed = run_ctl ("account", "update", "work", "--email", "team@example.com", "--confirm",
                       NULL);
  assert_ok (confirmed);
  g_assert_true (g_variant_lookup (f->update_settings, "confirm", "b", &confirm));
  g_assert_true (confirm);
}

static void
test_status (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(CtlResult) text = run_ctl ("status", "work", NULL);
  g_autoptr(CtlResult) all = run_ctl ("status", NULL);
  g_autoptr(CtlResult) json = run_ctl ("status", "work", "--json", NULL);
  g_autoptr(CtlResult) all_json = run_ctl ("status", "--json", NULL);
  g_autoptr(CtlResult) at = run_ctl ("status", "work", "--at", "2026-11-23T09:00:00+01:00", NULL);
  g_autoptr(CtlResult) unknown = run_ctl ("status", "nope", NULL);
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) expected = parse_json (STATUS_BUSY);
  JsonArray *array;

  assert_ok (text);
  g_assert_cmpstr (text->out, ==,
                   "work: busy — callers are diverted (reason “meeting”) until 14:30\n"
                   "  Text: Quarterly planning meeting\n"
                   "  Because:\n"
                   "    appointment “Quarterly planning meeting” (Busy) is on\n"
                   "    The action for Busy appointments is divert (actions.Busy).\n"
                   "    The trigger word “meeting” gives the reason “meeting”.\n");

  /* Without NAME: every enabled account ("old" is disabled), now. */
  assert_ok (all);
  g_assert_cmpstr (all->out, ==, text->out);

  assert_ok (json);
  root = parse_json (json->out);
  g_assert_true (json_node_equal (root, expected));
  g_clear_pointer (&root, json_node_unref);

  assert_ok (all_json);
  root = parse_json (all_json->out);
  array = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  g_assert_true (json_node_equal (json_array_get_element (array, 0), expected));

  /* --at in the given offset reaches the daemon as UTC; "until" on another
   * day shows the date; a null text shows no line. */
  assert_ok (at);
  g_assert_cmpstr (at->out, ==,
                   "work: available — calls ring as usual until 2026-11-24 08:00\n"
                   "  At: 2026-11-23 08:00\n"
                   "  Because:\n"
                   "    No appointment is active.\n");

  assert_failure (unknown, "There is no account called “nope”.");

  g_assert_cmpuint (f->status_calls->len, ==, 6);
  g_assert_cmpstr (g_ptr_array_index (f->status_calls, 0), ==, "work@");
  g_assert_cmpstr (g_ptr_array_index (f->status_calls, 1), ==, "work@");
  g_assert_cmpstr (g_ptr_array_index (f->status_calls, 4), ==, "work@2026-11-23T08:00:00Z");
}

static void
test_schedule (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(CtlResult) text = NULL;
  g_autoptr(CtlResult) all = NULL;
  g_autoptr(CtlResult) json = NULL;
  g_autoptr(CtlResult) unknown = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) expected = parse_json (SCHEDULE);

  text = run_ctl ("schedule", "work", NULL);
  assert_ok (text);
  g_assert_cmpstr (text->out, ==,
                   "WHEN              PRESENCE       PHONE                         UNTIL             TEXT\n"
                   "2026-11-23 13:05  busy           divert (meeting)              14:30             Quarterly planning meeting\n"
                   "2026-11-23 14:30  available      none                          2026-11-24 08:00\n"
                   "2026-11-24 08:00  out of office  forward (internal calls too)  -                 On leave\n");
  g_assert_cmpuint (f->schedule_days, ==, 7);

  all = run_ctl ("schedule", "--days", "3", NULL);
  assert_ok (all);
  g_assert_cmpuint (f->schedule_days, ==, 3);
  g_assert_true (g_str_has_prefix (all->out, "ACCOUNT  WHEN  "));
  assert_contains (all->out, "\nwork     2026-11-23 13:05  busy");
  g_assert_cmpuint (count_lines (all->out), ==, 4);

  json = run_ctl ("schedule", "work", "--days", "31", "--json", NULL);
  assert_ok (json);
  g_assert_cmpuint (f->schedule_days, ==, 31);
  root = parse_json (json->out);
  g_assert_true (json_node_equal (root, expected));

  unknown = run_ctl ("schedule", "nope", NULL);
  assert_failure (unknown, "There is no account called “nope”.");
}

static void
test_override (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(CtlResult) busy = NULL;
  g_autoptr(CtlResult) away = NULL;
  g_autoptr(CtlResult) cleared = NULL;
  g_autoptr(CtlResult) unknown = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *hh_mm = g_date_time_format (now, "%H:%M");

  /* An until later today shows as HH:MM (the test runs in UTC). */
  f->override_until = g_date_time_format_iso8601 (now);
  expected = g_strdup_printf ("Override for work holds until %s (the next appointment start or end).\n",
                              hh_mm);

  busy = run_ctl ("override", "work", "--presence", "busy", NULL);
  assert_ok (busy);
  g_assert_cmpstr (busy->out, ==, expected);
  /* No --action: what the calendar says. */
  g_assert_cmpstr (f->override, ==, "busy||");

  away = run_ctl ("override", "work", "--presence", "away", "--action", "divert", "--text", "Lunch",
                  NULL);
  assert_ok (away);
  g_assert_cmpstr (away->out, ==, "Override for work holds until you clear it.\n");
  g_assert_cmpstr (f->override, ==, "away|divert|Lunch");

  g_assert_null (f->cleared);
  cleared = run_ctl ("override", "work", "--clear", NULL);
  assert_ok (cleared);
  g_assert_cmpstr (cleared->out, ==, "Override for work cleared: the calendar rules apply again.\n");
  g_assert_cmpstr (f->cleared, ==, "work");

  unknown = run_ctl ("override", "nope", "--presence", "dnd", NULL);
  assert_failure (unknown, "There is no account called “nope”.");
}

static void
test_rules (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("agl-ctl-rules-XXXXXX", &error);
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *missing_message = NULL;
  g_autoptr(CtlResult) text = run_ctl ("rules", "work", NULL);
  g_autoptr(CtlResult) shown = run_ctl ("rules", "show", "work", NULL);
  g_autoptr(CtlResult) json = run_ctl ("rules", "work", "--json", NULL);
  g_autoptr(CtlResult) broken = run_ctl ("rules", "broken", NULL);
  g_autoptr(CtlResult) unknown = run_ctl ("rules", "nope", NULL);
  g_autoptr(CtlResult) set = NULL;
  g_autoptr(CtlResult) refused = NULL;
  g_autoptr(CtlResult) unreadable = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) expected = parse_json (RULES);

  g_assert_no_error (error);

  assert_ok (text);
  g_assert_cmpstr (text->out, ==,
                   "Forward internal calls:  no\n"
                   "Default reason:          will return\n"
                   "Only accepted meetings:  yes\n"
                   "Join parallel subjects:  no\n"
                   "Publishers:              {\"webhook\":{\"url\":\"https://hooks.example.com/presence\"}}\n"
                   "\n"
                   "FREE/BUSY         PHONE ACTION\n"
                   "Free              none\n"
                   "Tentative         none\n"
                   "Busy              divert\n"
                   "OOF               forward\n"
                   "WorkingElsewhere  none\n"
                   "\n"
                   "TRIGGER WORD  REASON\n"
                   "meeting       meeting\n"
                   "lunch         lunch\n");
  assert_ok (shown);
  g_assert_cmpstr (shown->out, ==, text->out);

  assert_ok (json);
  root = parse_json (json->out);
  g_assert_true (json_node_equal (root, expected));

  assert_failure (broken, "The daemon sent JSON that cannot be read");
  assert_failure (unknown, "There is no account called “nope”.");

  good = g_build_filename (dir, "rules.json", NULL);
  g_file_set_contents (good, json->out, -1, &error);
  g_assert_no_error (error);
  set = run_ctl ("rules", "set", "work", good, NULL);
  assert_ok (set);
  g_assert_cmpstr (set->out, ==, "");
  g_assert_cmpstr (f->rules_set, ==, json->out);

  /* The daemon's refusal, as it says it; the rules it had stay. */
  bad = g_build_filename (dir, "bad.json", NULL);
  g_file_set_contents (bad, "{\"bogus\": 1}\n", -1, &error);
  g_assert_no_error (error);
  refused = run_ctl ("rules", "set", "work", bad, NULL);
  assert_failure (refused, "Unknown key “bogus” in the rules; the old rules stay.");
  g_assert_cmpstr (refused->err, ==,
                   "agendalinectl: Unknown key “bogus” in the rules; the old rules stay.\n");
  g_assert_cmpstr (f->rules_set, ==, json->out);

  missing = g_build_filename (dir, "missing.json", NULL);
  missing_message = g_strdup_printf ("cannot read “%s”: No such file or directory", missing);
  unreadable = run_ctl ("rules", "set", "work", missing, NULL);
  assert_failure (unreadable, missing_message);

  g_assert_no_errno (g_remove (good));
  g_assert_no_errno (g_remove (bad));
  g_assert_no_errno (g_rmdir (dir));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("AGL_TEST_CTL") == NULL)
    g_error ("AGL_TEST_CTL is not set; run this test with “meson test”");

  g_test_add_func ("/ctl-offline/usage-errors", test_usage_errors);
  g_test_add_func ("/ctl-offline/help", test_help);
  g_test_add_func ("/ctl-offline/unreachable", test_unreachable);
  g_test_add ("/ctl-offline/sync", Fixture, NULL, fixture_set_up, test_sync, fixture_tear_down);
  g_test_add ("/ctl-offline/connections", Fixture, NULL, fixture_set_up, test_connections,
              fixture_tear_down);
  g_test_add ("/ctl-offline/log", Fixture, NULL, fixture_set_up, test_log, fixture_tear_down);
  g_test_add ("/ctl-offline/log-follow", Fixture, NULL, fixture_set_up, test_log_follow,
              fixture_tear_down);
  g_test_add ("/ctl-offline/verify", Fixture, NULL, fixture_set_up, test_verify,
              fixture_tear_down);
  g_test_add ("/ctl-offline/conflicts", Fixture, NULL, fixture_set_up, test_conflicts,
              fixture_tear_down);
  g_test_add ("/ctl-offline/account-settings", Fixture, NULL, fixture_set_up,
              test_account_settings, fixture_tear_down);
  g_test_add ("/ctl-offline/status", Fixture, NULL, fixture_set_up, test_status, fixture_tear_down);
  g_test_add ("/ctl-offline/schedule", Fixture, NULL, fixture_set_up, test_schedule,
              fixture_tear_down);
  g_test_add ("/ctl-offline/override", Fixture, NULL, fixture_set_up, test_override,
              fixture_tear_down);
  g_test_add ("/ctl-offline/rules", Fixture, NULL, fixture_set_up, test_rules, fixture_tear_down);

  return g_test_run ();
}
