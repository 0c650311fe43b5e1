/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-ctl-state.h"
#include "agl-ctl-output.h"

/* At most this many summaries in one monitor line; a big import would
 * otherwise print a line as long as the calendar. */
#define MONITOR_MAX_SUMMARIES 3

/* The keys of GetState this file knows how to label; any other key is
 * still shown, under its own name. */
static const char * const known_state_keys[] = {
  "version", "database", "schema-version", "accounts", "enabled-accounts",
  "items", "started", "secret-storage", NULL
};

typedef struct {
  AglCtl          *ctl;
  GMainLoop       *loop;
  GDBusConnection *connection;
  AglDaemon       *daemon;
  guint            watch_id;
  guint            summary_id;
  gboolean         seen_daemon;
  gboolean         announced_absence;
  gboolean         event_since_state;  /* an event line since the last state */
  char            *last_state;         /* what the last state output said */
  int              status;
} Monitor;

static char *
format_count (GVariant   *state,
              const char *key)
{
  gint64 value = 0;

  if (!agl_ctl_get_integer (state, key, &value))
    return g_strdup ("?");
  return g_strdup_printf ("%" G_GINT64_FORMAT, value);
}

/* "2 accounts (1 enabled), 5 appointments": what changes as the daemon
 * works, in one line. */
static char *
format_state_summary (GVariant *state)
{
  gint64 accounts = 0, enabled = 0, items = 0;
  g_autofree char *accounts_text = NULL;
  g_autofree char *items_text = NULL;

  agl_ctl_get_integer (state, "accounts", &accounts);
  agl_ctl_get_integer (state, "enabled-accounts", &enabled);
  agl_ctl_get_integer (state, "items", &items);

  /* Plain %d: gettext cannot see through G_GINT64_FORMAT in a msgid, and
   * no one keeps two billion appointments. */
  accounts_text = g_strdup_printf (ngettext ("%d account (%d enabled)",
                                             "%d accounts (%d enabled)",
                                             (gulong) accounts),
                                   (int) accounts, (int) enabled);
  items_text = g_strdup_printf (ngettext ("%d appointment",
                                          "%d appointments",
                                          (gulong) items),
                                (int) items);
  /* TRANSLATORS: "2 accounts (1 enabled), 5 appointments" */
  return g_strdup_printf (_("%s, %s"), accounts_text, items_text);
}

static void
print_state_block (GVariant *state)
{
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *version = agl_ctl_dup_string (state, "version");
  g_autofree char *database = agl_ctl_dup_string (state, "database");
  g_autofree char *started = agl_ctl_dup_string (state, "started");
  g_autofree char *storage = agl_ctl_dup_string (state, "secret-storage");
  g_autofree char *schema = format_count (state, "schema-version");
  g_autofree char *accounts = format_count (state, "accounts");
  g_autofree char *enabled = format_count (state, "enabled-accounts");
  g_autofree char *items = format_count (state, "items");
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_ptr_array_add (fields, g_strdup (_("Daemon version")));
  g_ptr_array_add (fields, g_strdup (version != NULL ? version : "?"));
  g_ptr_array_add (fields, g_strdup (_("Database")));
  g_ptr_array_add (fields, g_strdup (database != NULL ? database : "?"));
  g_ptr_array_add (fields, g_strdup (_("Schema version")));
  g_ptr_array_add (fields, g_strdup (schema));
  g_ptr_array_add (fields, g_strdup (_("Accounts")));
  /* TRANSLATORS: accounts in "agendalinectl state": "2 (1 enabled)" */
  g_ptr_array_add (fields, g_strdup_printf (_("%s (%s enabled)"), accounts, enabled));
  g_ptr_array_add (fields, g_strdup (_("Appointments")));
  g_ptr_array_add (fields, g_strdup (items));
  g_ptr_array_add (fields, g_strdup (_("Running since")));
  g_ptr_array_add (fields, agl_ctl_format_time (started != NULL ? started : "?"));
  g_ptr_array_add (fields, g_strdup (_("Passwords")));
  if (g_strcmp0 (storage, "secret-service") == 0)
    g_ptr_array_add (fields, g_strdup (_("in the Secret Service")));
  else if (g_strcmp0 (storage, "file") == 0)
    g_ptr_array_add (fields, g_strdup (_("in a file beside the database (no Secret Service)")));
  else
    g_ptr_array_add (fields, g_strdup (storage != NULL ? storage : "?"));

  /* A newer daemon may say more than this client knows about. */
  g_variant_iter_init (&iter, state);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      if (!g_strv_contains (known_state_keys, key))
        {
          g_ptr_array_add (fields, g_strdup (key));
          if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
            g_ptr_array_add (fields, g_variant_dup_string (value, NULL));
          else
            g_ptr_array_add (fields, g_variant_print (value, FALSE));
        }
      g_variant_unref (value);
    }

  g_ptr_array_add (fields, NULL);
  agl_ctl_print_fields ((const char * const *) fields->pdata);
}

/**
 * agl_ctl_state:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "state [--json]"
 *
 * Prints the daemon's GetState as a block of text or a JSON object.
 *
 * Returns: the exit status
 */
int
agl_ctl_state (AglCtl *ctl,
               int     argc,
               char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL,
                                        _("Show the daemon’s state: its database, accounts, appointments and where it keeps passwords."),
                                        _("Examples:\n"
                                          "  agendalinectl state\n"
                                          "  agendalinectl state --json | jq .items"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_get_state_sync (daemon, G_DBUS_CALL_FLAGS_NONE, -1, &state, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_from_vardict (state);

      agl_ctl_print_json (root, TRUE);
    }
  else
    print_state_block (state);
  return AGL_CTL_EXIT_SUCCESS;
}

/* Monitor output: every line starts with the time it was printed. */

static JsonObject *
monitor_event_new (const char *event)
{
  JsonObject *object = json_object_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);

  json_object_set_string_member (object, "event", event);
  json_object_set_string_member (object, "time", time);
  return object;
}

static void
monitor_print_event (JsonObject *object)
{
  g_autoptr(JsonNode) node = agl_ctl_json_take_object (object);

  agl_ctl_print_json (node, FALSE);
  /* A pipe is block-buffered; whoever reads the stream wants each line as
   * it happens. */
  fflush (stdout);
}

static void
monitor_print_line (const char *format,
                    ...) G_GNUC_PRINTF (1, 2);

static void
monitor_print_line (const char *format,
                    ...)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time = g_date_time_format (now, "%Y-%m-%d %H:%M:%S");
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("%s  %s\n", time, message);
  fflush (stdout);
}

static GVariant *
monitor_get_state (Monitor *monitor)
{
  g_autoptr(GError) error = NULL;
  GVariant *state = NULL;

  if (!agl_daemon_call_get_state_sync (monitor->daemon, G_DBUS_CALL_FLAGS_NONE, -1, &state,
                                       NULL, &error))
    {
      /* Gone again: the name watch says so in its own line. */
      if (!agl_ctl_error_is_unreachable (error))
        {
          g_autoptr(GError) copy = g_error_copy (error);

          g_dbus_error_strip_remote_error (copy);
          if (monitor->ctl->json)
            {
              JsonObject *object = monitor_event_new ("error");

              json_object_set_string_member (object, "message", copy->message);
              monitor_print_event (object);
            }
          else
            monitor_print_line (_("cannot read the daemon’s state: %s"), copy->message);
        }
      return NULL;
    }
  return state;
}

/* The state follows every event line; a StateChanged that changes
 * nothing shown (it often comes right after the event that caused it) does
 * not repeat it. */
static void
monitor_print_state (Monitor  *monitor,
                     gboolean  full)
{
  g_autoptr(GVariant) state = monitor_get_state (monitor);
  g_autofree char *text = NULL;

  if (state == NULL)
    return;

  if (monitor->ctl->json)
    {
      g_autoptr(JsonNode) node = agl_ctl_json_from_vardict (state);
      g_autoptr(JsonGenerator) generator = json_generator_new ();

      json_generator_set_root (generator, node);
      text = json_generator_to_data (generator, NULL);
    }
  else
    text = format_state_summary (state);

  if (!full && !monitor->event_since_state && g_strcmp0 (text, monitor->last_state) == 0)
    return;
  monitor->event_since_state = FALSE;
  g_free (monitor->last_state);
  monitor->last_state = g_steal_pointer (&text);

  if (monitor->ctl->json)
    {
      JsonObject *object = monitor_event_new ("state");

      json_object_set_member (object, "state", agl_ctl_json_from_vardict (state));
      monitor_print_event (object);
    }
  else if (full)
    {
      print_state_block (state);
      g_print ("\n");
      fflush (stdout);
    }
  else
    monitor_print_line ("%s", monitor->last_state);
}

static gboolean
print_summary_cb (gpointer user_data)
{
  Monitor *monitor = user_data;

  monitor->summary_id = 0;
  monitor_print_state (monitor, FALSE);
  return G_SOURCE_REMOVE;
}

/* After each change the state line follows; at low priority, so that the
 * signals of one transaction (AgendaChanged, StateChanged) that arrive
 * together are followed by one line, not one each. */
static void
monitor_schedule_summary (Monitor *monitor)
{
  if (monitor->summary_id == 0)
    monitor->summary_id = g_idle_add_full (G_PRIORITY_LOW, print_summary_cb, monitor, NULL);
}

/* @message is what people read; @name is the account as the daemon named
 * it, for JSON. */
static void
monitor_account_event (Monitor    *monitor,
                       const char *event,
                       const char *name,
                       const char *message)
{
  if (monitor->ctl->json)
    {
      JsonObject *object = monitor_event_new (event);

      json_object_set_string_member (object, "account", name);
      monitor_print_event (object);
    }
  else
    monitor_print_line ("%s", message);
  monitor->event_since_state = TRUE;
  monitor_schedule_summary (monitor);
}

static void
account_added_cb (AglDaemon  *daemon,
                  const char *name,
                  gpointer    user_data)
{
  g_autofree char *clean = agl_ctl_sanitize (name);
  g_autofree char *message = g_strdup_printf (_("account added: %s"), clean);

  monitor_account_event (user_data, "account-added", name, message);
}

static void
account_changed_cb (AglDaemon  *daemon,
                    const char *name,
                    gpointer    user_data)
{
  g_autofree char *clean = agl_ctl_sanitize (name);
  g_autofree char *message = g_strdup_printf (_("account changed: %s"), clean);

  monitor_account_event (user_data, "account-changed", name, message);
}

static void
account_removed_cb (AglDaemon  *daemon,
                    const char *name,
                    gpointer    user_data)
{
  g_autofree char *clean = agl_ctl_sanitize (name);
  g_autofree char *message = g_strdup_printf (_("account removed: %s"), clean);

  monitor_account_event (user_data, "account-removed", name, message);
}

/* The summary of appointment @id, or NULL when it is gone again (deleted
 * by the time the signal is handled). */
static char *
fetch_summary (Monitor *monitor,
               gint64   id)
{
  g_autoptr(GVariant) item = NULL;

  if (!agl_daemon_call_get_item_sync (monitor->daemon, id, G_DBUS_CALL_FLAGS_NONE, -1, &item,
                                      NULL, NULL))
    return NULL;
  return agl_ctl_dup_string (item, "summary");
}

static JsonNode *
items_with_summaries_json (Monitor  *monitor,
                           GVariant *ids)
{
  JsonArray *array = json_array_new ();
  GVariantIter iter;
  gint64 id;

  g_variant_iter_init (&iter, ids);
  while (g_variant_iter_next (&iter, "x", &id))
    {
      JsonObject *object = json_object_new ();
      g_autofree char *summary = fetch_summary (monitor, id);

      json_object_set_int_member (object, "id", id);
      if (summary != NULL)
        json_object_set_string_member (object, "summary", summary);
      else
        json_object_set_null_member (object, "summary");
      json_array_add_object_element (array, object);
    }
  return agl_ctl_json_take_array (array);
}

/* "2 created (Standup, Lunch)" */
static char *
format_ids_with_summaries (Monitor    *monitor,
                           GVariant   *ids,
                           const char *count_text)
{
  g_autoptr(GString) text = g_string_new (count_text);
  gsize n = g_variant_n_children (ids);

  if (n == 0)
    return g_string_free (g_steal_pointer (&text), FALSE);

  g_string_append (text, " (");
  for (gsize i = 0; i < n && i < MONITOR_MAX_SUMMARIES; i++)
    {
      gint64 id = 0;
      g_autofree char *summary = NULL;
      g_autofree char *clean = NULL;

      g_variant_get_child (ids, i, "x", &id);
      summary = fetch_summary (monitor, id);
      if (i > 0)
        g_string_append (text, ", ");
      if (summary != NULL && *summary != '\0')
        {
          clean = agl_ctl_sanitize (summary);
          g_string_append (text, clean);
        }
      else
        g_string_append_printf (text, "#%" G_GINT64_FORMAT, id);
    }
  if (n > MONITOR_MAX_SUMMARIES)
    g_string_append (text, ", …");
  g_string_append (text, ")");
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
agenda_changed_cb (AglDaemon  *daemon,
                   const char *account,
                   GVariant   *created,
                   GVariant   *updated,
                   GVariant   *deleted,
                   gpointer    user_data)
{
  Monitor *monitor = user_data;

  if (monitor->ctl->json)
    {
      JsonObject *object = monitor_event_new ("agenda-changed");
      JsonArray *deleted_ids = json_array_new ();
      GVariantIter iter;
      gint64 id;

      json_object_set_member (object, "account", agl_ctl_json_string_or_null (account));
      json_object_set_member (object, "created", items_with_summaries_json (monitor, created));
      json_object_set_member (object, "updated", items_with_summaries_json (monitor, updated));
      g_variant_iter_init (&iter, deleted);
      while (g_variant_iter_next (&iter, "x", &id))
        json_array_add_int_element (deleted_ids, id);
      json_object_set_array_member (object, "deleted", deleted_ids);
      monitor_print_event (object);
    }
  else
    {
      guint n_created = (guint) g_variant_n_children (created);
      guint n_updated = (guint) g_variant_n_children (updated);
      guint n_deleted = (guint) g_variant_n_children (deleted);
      g_autofree char *created_count = g_strdup_printf (ngettext ("%u created", "%u created",
                                                                  n_created), n_created);
      g_autofree char *updated_count = g_strdup_printf (ngettext ("%u updated", "%u updated",
                                                                  n_updated), n_updated);
      g_autofree char *deleted_count = g_strdup_printf (ngettext ("%u deleted", "%u deleted",
                                                                  n_deleted), n_deleted);
      g_autofree char *created_text = format_ids_with_summaries (monitor, created, created_count);
      g_autofree char *updated_text = format_ids_with_summaries (monitor, updated, updated_count);
      g_autofree char *clean_account = agl_ctl_sanitize (account);

      if (*account == '\0')
        /* TRANSLATORS: "local agenda changed: 1 created (Standup), 0 updated, 0 deleted" */
        monitor_print_line (_("local agenda changed: %s, %s, %s"),
                            created_text, updated_text, deleted_count);
      else
        /* TRANSLATORS: "agenda of work changed: 1 created (Standup), 0 updated, 0 deleted" */
        monitor_print_line (_("agenda of %s changed: %s, %s, %s"),
                            clean_account, created_text, updated_text, deleted_count);
    }
  monitor->event_since_state = TRUE;
  monitor_schedule_summary (monitor);
}

static void
state_changed_cb (AglDaemon *daemon,
                  gpointer   user_data)
{
  monitor_schedule_summary (user_data);
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *name_owner,
                  gpointer         user_data)
{
  Monitor *monitor = user_data;

  /* Running from the start: the state is the first thing shown. */
  if (!monitor->seen_daemon && !monitor->announced_absence)
    {
      monitor->seen_daemon = TRUE;
      monitor_print_state (monitor, TRUE);
      return;
    }

  /* Started, or back, after we said it was missing. */
  monitor->seen_daemon = TRUE;
  if (monitor->ctl->json)
    monitor_print_event (monitor_event_new ("daemon-appeared"));
  else
    monitor_print_line ("%s", _("the daemon is running"));
  monitor->event_since_state = TRUE;
  monitor_print_state (monitor, !monitor->ctl->json);
}

static void
name_vanished_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Monitor *monitor = user_data;

  if (monitor->ctl->json)
    monitor_print_event (monitor_event_new ("daemon-vanished"));
  else if (!monitor->seen_daemon)
    monitor_print_line ("%s", _("the daemon is not running; waiting for it to start"));
  else
    monitor_print_line ("%s", _("the daemon has gone away; waiting for it to come back"));
  monitor->announced_absence = TRUE;
}

static void
connection_closed_cb (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      gpointer         user_data)
{
  Monitor *monitor = user_data;

  /* Without the bus the daemon can never be seen again. */
  g_printerr (_("%s: lost the connection to the session bus: %s\n"), AGL_CTL_PROGRAM,
              error != NULL ? error->message : _("closed"));
  monitor->status = AGL_CTL_EXIT_FAILURE;
  g_main_loop_quit (monitor->loop);
}

/**
 * agl_ctl_monitor:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "monitor [--json]"
 *
 * Prints the daemon's state, then a line for each change as its signal
 * arrives, until SIGINT or SIGTERM.  A daemon that stops is waited for, not
 * given up on: it may be restarting.
 *
 * Returns: the exit status
 */
int
agl_ctl_monitor (AglCtl *ctl,
                 int     argc,
                 char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  Monitor monitor = { ctl, NULL, NULL, NULL, 0, 0, FALSE, FALSE, FALSE, NULL, AGL_CTL_EXIT_SUCCESS };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print one JSON object per line"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL,
                                        _("Show the daemon’s state, then one line for each change as it happens, until interrupted (Ctrl+C)."),
                                        _("With --json, each line is an object with “time” and “event”: "
                                          "state (with “state”), account-added, account-changed, account-removed "
                                          "(with “account”), agenda-changed (with “account”, “created”, “updated”, "
                                          "“deleted”), daemon-vanished or daemon-appeared.\n"
                                          "\n"
                                          "Examples:\n"
                                          "  agendalinectl monitor\n"
                                          "  agendalinectl monitor --json | jq -c 'select(.event == \"agenda-changed\")'"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;

  monitor.connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (monitor.connection == NULL)
    {
      g_autoptr(GError) unreachable = g_error_new_literal (AGL_CTL_ERROR,
                                                           AGL_CTL_ERROR_UNREACHABLE,
                                                           error->message);
      return agl_ctl_fail (ctl, unreachable);
    }
  /* By default GDBus raises SIGTERM when the bus goes; say why instead. */
  g_dbus_connection_set_exit_on_close (monitor.connection, FALSE);
  g_signal_connect (monitor.connection, "closed", G_CALLBACK (connection_closed_cb), &monitor);

  /* Without G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START: an installed daemon that
   * is not running is started by the bus.  The proxy follows the name, so
   * its signals keep coming from a daemon that restarts. */
  monitor.daemon = agl_daemon_proxy_new_sync (monitor.connection, G_DBUS_PROXY_FLAGS_NONE,
                                              AGL_BUS_NAME, AGL_OBJECT_PATH, NULL, &error);
  if (monitor.daemon == NULL)
    {
      g_autoptr(GError) unreachable = g_error_new_literal (AGL_CTL_ERROR,
                                                           AGL_CTL_ERROR_UNREACHABLE,
                                                           error->message);
      g_clear_object (&monitor.connection);
      return agl_ctl_fail (ctl, unreachable);
    }

  g_signal_connect (monitor.daemon, "account-added", G_CALLBACK (account_added_cb), &monitor);
  g_signal_connect (monitor.daemon, "account-changed", G_CALLBACK (account_changed_cb), &monitor);
  g_signal_connect (monitor.daemon, "account-removed", G_CALLBACK (account_removed_cb), &monitor);
  g_signal_connect (monitor.daemon, "agenda-changed", G_CALLBACK (agenda_changed_cb), &monitor);
  g_signal_connect (monitor.daemon, "state-changed", G_CALLBACK (state_changed_cb), &monitor);

  monitor.loop = g_main_loop_new (NULL, FALSE);
  monitor.watch_id = g_bus_watch_name_on_connection (monitor.connection, AGL_BUS_NAME,
                                                     G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     name_appeared_cb, name_vanished_cb,
                                                     &monitor, NULL);

  agl_ctl_run_until_signal (monitor.loop);

  g_bus_unwatch_name (monitor.watch_id);
  if (monitor.summary_id != 0)
    g_source_remove (monitor.summary_id);
  g_signal_handlers_disconnect_by_data (monitor.daemon, &monitor);
  g_signal_handlers_disconnect_by_data (monitor.connection, &monitor);
  g_clear_object (&monitor.daemon);
  g_clear_object (&monitor.connection);
  g_main_loop_unref (monitor.loop);
  g_free (monitor.last_state);
  return monitor.status;
}

/**
 * agl_ctl_version:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "version [--json]"
 *
 * Prints the versions of agendalinectl and of the daemon it talks to; they
 * can differ after an upgrade until the daemon restarts.
 *
 * Returns: the exit status
 */
int
agl_ctl_version (AglCtl *ctl,
                 int     argc,
                 char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *daemon_version = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL,
                                        _("Show the versions of agendalinectl and of the running daemon."),
                                        _("Example:\n  agendalinectl version --json"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon != NULL)
    {
      daemon_version = agl_daemon_dup_version (daemon);
      if (daemon_version == NULL)
        g_set_error_literal (&error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                             _("the daemon does not report its version"));
    }

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_take_object (json_object_new ());
      JsonObject *object = json_node_get_object (root);

      json_object_set_string_member (object, "agendalinectl", PACKAGE_VERSION);
      json_object_set_member (object, "agendalined",
                              agl_ctl_json_string_or_null (daemon_version));
      agl_ctl_print_json (root, TRUE);
    }
  else
    {
      g_print ("%s %s\n", AGL_CTL_PROGRAM, PACKAGE_VERSION);
      if (daemon_version != NULL)
        g_print ("agendalined %s\n", daemon_version);
    }

  if (error != NULL)
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}
