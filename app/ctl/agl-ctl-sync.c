/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-ctl-sync.h"
#include "agl-ctl-output.h"

/* A first sync of a large mailbox moves thousands of appointments; a sync
 * that takes longer than this has hung. */
#define SYNC_WAIT_TIMEOUT_MSEC (30 * 60 * 1000)

/* The daemon gives VerifyAccount 5 minutes; the call waits one more, so
 * that the daemon's TimedOut arrives, with its message, rather than a D-Bus
 * timeout. */
#define VERIFY_TIMEOUT_MSEC (6 * 60 * 1000)

/* The legs of VerifyAccount, in the order they run. */
static const struct {
  const char *leg;
  const char *label;
} verify_legs[] = {
  { "local-to-exchange", N_("Local → Exchange") },
  { "exchange-to-local", N_("Exchange → local") },
  { "delete",            N_("Deleted on both sides") },
};

static guint
get_count (GVariant   *dict,
           const char *key)
{
  gint64 value = 0;

  agl_ctl_get_integer (dict, key, &value);
  return (guint) CLAMP (value, 0, G_MAXUINT);
}

/* "" and missing keys are shown as "-". */
static char *
dup_string_or_dash (GVariant   *dict,
                    const char *key)
{
  g_autofree char *value = agl_ctl_dup_string (dict, key);

  if (value == NULL || *value == '\0')
    return g_strdup ("-");
  return g_steal_pointer (&value);
}

/* sync */

static void
print_sync_result (const char *name,
                   GVariant   *result)
{
  guint received = get_count (result, "received");
  guint sent = get_count (result, "sent");
  guint conflicts = get_count (result, "conflicts");
  guint items = get_count (result, "items");
  double seconds = 0.0;
  g_autofree char *clean_name = agl_ctl_sanitize (name);
  g_autofree char *received_text = NULL;
  g_autofree char *sent_text = NULL;
  g_autofree char *conflicts_text = NULL;
  g_autofree char *items_text = NULL;

  agl_ctl_get_double (result, "seconds", &seconds);
  received_text = g_strdup_printf (ngettext ("%u received", "%u received", received), received);
  sent_text = g_strdup_printf (ngettext ("%u sent", "%u sent", sent), sent);
  conflicts_text = g_strdup_printf (ngettext ("%u conflict settled", "%u conflicts settled",
                                              conflicts), conflicts);
  items_text = g_strdup_printf (ngettext ("%u appointment", "%u appointments", items), items);

  /* TRANSLATORS: "Synced work in 1.84 s: 3 received, 1 sent, 0 conflicts
   * settled; 214 appointments." */
  g_print (_("Synced %s in %.2f s: %s, %s, %s; %s.\n"), clean_name, seconds,
           received_text, sent_text, conflicts_text, items_text);
}

/**
 * agl_ctl_sync:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "sync NAME [--wait] [--json]"
 *
 * Starts a sync of the account now; with --wait, waits for it and says
 * what it did.
 *
 * Returns: the exit status
 */
int
agl_ctl_sync (AglCtl *ctl,
              int     argc,
              char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean wait = FALSE;
  AglDaemon *daemon;
  int status;
  const GOptionEntry entries[] = {
    { "wait", 0, 0, G_OPTION_ARG_NONE, &wait,
      N_("Wait until the sync has finished and say what it did"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("NAME"),
                                        _("Sync the account NAME now: the changes on Exchange first, then the local ones.  Without --wait the sync runs in the daemon and the command returns at once."),
                                        _("Examples:\n"
                                          "  agendalinectl sync work\n"
                                          "  agendalinectl sync work --wait\n"
                                          "  agendalinectl sync work --wait --json | jq .received"),
                                        entries);
  daemon = agl_ctl_start_command (ctl, context, &argc, &argv, 1, 1, _("Missing the account name"),
                                  &status);
  if (daemon == NULL)
    return status;

  if (!agl_daemon_call_sync_account_sync (daemon, argv[1], wait, G_DBUS_CALL_FLAGS_NONE,
                                          wait ? SYNC_WAIT_TIMEOUT_MSEC : -1, &result,
                                          NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_from_vardict (result);

      agl_ctl_print_json (root, TRUE);
    }
  else if (wait)
    print_sync_result (argv[1], result);
  return AGL_CTL_EXIT_SUCCESS;
}

/* connections */

static JsonNode *
publisher_json (GVariant *publisher)
{
  JsonObject *object = json_object_new ();
  gint64 attempts = 0;

  agl_ctl_json_set_string (object, "kind", publisher, "kind", FALSE);
  agl_ctl_json_set_string (object, "target", publisher, "target", FALSE);
  agl_ctl_json_set_string (object, "state", publisher, "state", FALSE);
  agl_ctl_json_set_string (object, "last_attempt", publisher, "last-attempt", TRUE);
  agl_ctl_json_set_string (object, "last_success", publisher, "last-success", TRUE);
  agl_ctl_get_integer (publisher, "attempts", &attempts);
  json_object_set_int_member (object, "attempts", attempts);
  agl_ctl_json_set_string (object, "message", publisher, "message", TRUE);
  return agl_ctl_json_take_object (object);
}

static JsonNode *
connection_json (GVariant *connection)
{
  g_autoptr(GVariant) publishers = NULL;

  JsonObject *object = json_object_new ();
  gint64 age = -1;

  agl_ctl_json_set_string (object, "name", connection, "name", FALSE);
  json_object_set_boolean_member (object, "enabled",
                                  agl_ctl_get_boolean (connection, "enabled", FALSE));
  agl_ctl_json_set_string (object, "status", connection, "status", FALSE);
  agl_ctl_json_set_string (object, "notifications", connection, "notifications", TRUE);
  agl_ctl_json_set_string (object, "last_sync", connection, "last-sync", TRUE);
  agl_ctl_json_set_integer (object, "items", connection, "items");
  agl_ctl_json_set_integer (object, "pending", connection, "pending");
  agl_ctl_json_set_integer (object, "conflicts", connection, "conflicts");
  agl_ctl_json_set_string (object, "subscription_id", connection, "subscription-id", TRUE);
  agl_ctl_json_set_string (object, "watermark", connection, "watermark", TRUE);
  /* null without a sync state, as the daemon's -1 means */
  if (agl_ctl_get_integer (connection, "sync-state-age", &age) && age >= 0)
    json_object_set_int_member (object, "sync_state_age", age);
  else
    json_object_set_null_member (object, "sync_state_age");
  agl_ctl_json_set_string (object, "last_error", connection, "last-error", TRUE);
  agl_ctl_json_set_string (object, "server_version", connection, "server-version", TRUE);
  /* An older daemon sends none: an empty list. */
  publishers = g_variant_lookup_value (connection, "publishers", G_VARIANT_TYPE ("aa{sv}"));
  if (publishers != NULL)
    json_object_set_member (object, "publishers",
                            agl_ctl_json_array_from_list (publishers, publisher_json));
  else
    json_object_set_array_member (object, "publishers", json_array_new ());
  return agl_ctl_json_take_object (object);
}

static char *
describe_status (const char *status)
{
  if (g_strcmp0 (status, "disabled") == 0)
    return g_strdup (_("disabled"));
  if (g_strcmp0 (status, "connecting") == 0)
    return g_strdup (_("connecting"));
  if (g_strcmp0 (status, "syncing") == 0)
    return g_strdup (_("syncing"));
  if (g_strcmp0 (status, "online") == 0)
    return g_strdup (_("online"));
  if (g_strcmp0 (status, "offline") == 0)
    return g_strdup (_("offline (the last attempt failed; retrying)"));
  if (g_strcmp0 (status, "needs-confirmation") == 0)
    return g_strdup (_("waiting for a confirmation (agendalinectl account update --confirm)"));
  /* A newer daemon's status, as it says it. */
  return g_strdup (status != NULL ? status : "?");
}

static char *
describe_notifications (const char *notifications)
{
  if (g_strcmp0 (notifications, "streaming") == 0)
    return g_strdup (_("streaming (Exchange pushes changes)"));
  if (g_strcmp0 (notifications, "pull") == 0)
    return g_strdup (_("pull (the daemon asks for changes)"));
  if (g_strcmp0 (notifications, "polling") == 0)
    return g_strdup (_("polling (the server sends none)"));
  if (notifications == NULL || *notifications == '\0')
    return g_strdup ("-");
  return g_strdup (notifications);
}

/* "2026-11-23 10:00:05 (42 s ago)", or "never". */
static char *
describe_last_sync (const char *last_sync)
{
  g_autoptr(GDateTime) then = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *local = NULL;
  g_autofree char *age = NULL;

  if (last_sync == NULL || *last_sync == '\0')
    return g_strdup (_("never"));
  then = g_date_time_new_from_iso8601 (last_sync, NULL);
  if (then == NULL)
    return agl_ctl_sanitize (last_sync);

  now = g_date_time_new_now_utc ();
  local = agl_ctl_format_time (last_sync);
  age = agl_ctl_format_duration (g_date_time_difference (now, then) / G_TIME_SPAN_SECOND);
  /* TRANSLATORS: the last sync in "agendalinectl connections":
   * "2026-11-23 10:00:05 (42 s ago)" */
  return g_strdup_printf (_("%s (%s ago)"), local, age);
}

/* "delivered 2026-11-23 10:00:05", "retrying (3 attempts)", … */
static char *
describe_publisher_state (GVariant *publisher)
{
  g_autofree char *state = agl_ctl_dup_string (publisher, "state");
  g_autofree char *last_attempt = agl_ctl_dup_string (publisher, "last-attempt");
  g_autofree char *last_success = agl_ctl_dup_string (publisher, "last-success");
  g_autofree char *success = NULL;
  g_autofree char *attempt = NULL;
  gint64 attempts = 0;

  agl_ctl_get_integer (publisher, "attempts", &attempts);
  if (last_success != NULL && *last_success != '\0')
    success = agl_ctl_format_time (last_success);
  if (last_attempt != NULL && *last_attempt != '\0')
    attempt = agl_ctl_format_time (last_attempt);

  if (g_strcmp0 (state, "delivered") == 0)
    /* TRANSLATORS: a publisher's state: "delivered 2026-11-23 10:00:05" */
    return g_strdup_printf (_("delivered %s"), success != NULL ? success : "");
  if (g_strcmp0 (state, "retrying") == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         /* TRANSLATORS: a publisher's state: "retrying (3 attempts failed, the last at 2026-11-23 10:00:05)" */
                                         "retrying (%u attempt failed, at %s)",
                                         "retrying (%u attempts failed, the last at %s)",
                                         (gulong) attempts),
                            (guint) attempts, attempt != NULL ? attempt : "?");
  if (g_strcmp0 (state, "failed") == 0)
    return g_strdup (_("failed (refused; waits for the next status)"));
  if (g_strcmp0 (state, "pending") == 0)
    return g_strdup (_("pending (a delivery is under way)"));
  return g_strdup (state != NULL ? state : "?");
}

static void
add_publisher_fields (GPtrArray *fields,
                      GVariant  *publisher)
{
  g_autofree char *kind = agl_ctl_dup_string (publisher, "kind");
  g_autofree char *target = agl_ctl_dup_string (publisher, "target");
  g_autofree char *message = agl_ctl_dup_string (publisher, "message");
  g_autofree char *state = describe_publisher_state (publisher);
  GString *value = g_string_new (NULL);

  /* TRANSLATORS: a label in "agendalinectl connections": "Publisher webhook" */
  g_ptr_array_add (fields, g_strdup_printf (_("Publisher %s"), kind != NULL ? kind : "?"));
  g_string_append_printf (value, "%s: %s", target != NULL && *target != '\0' ? target : "-", state);
  if (message != NULL && *message != '\0')
    g_string_append_printf (value, " — %s", message);
  g_ptr_array_add (fields, g_string_free (value, FALSE));
}

static void
print_connection_block (GVariant *connection)
{
  g_autoptr(GVariant) publishers = g_variant_lookup_value (connection, "publishers",
                                                           G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *publisher;
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *status = agl_ctl_dup_string (connection, "status");
  g_autofree char *notifications = agl_ctl_dup_string (connection, "notifications");
  g_autofree char *last_sync = agl_ctl_dup_string (connection, "last-sync");
  g_autofree char *server_version = agl_ctl_dup_string (connection, "server-version");
  gint64 age = -1;

  g_ptr_array_add (fields, g_strdup (_("Account")));
  g_ptr_array_add (fields, dup_string_or_dash (connection, "name"));
  g_ptr_array_add (fields, g_strdup (_("Status")));
  g_ptr_array_add (fields, describe_status (status));
  g_ptr_array_add (fields, g_strdup (_("Notifications")));
  g_ptr_array_add (fields, describe_notifications (notifications));
  g_ptr_array_add (fields, g_strdup (_("Last sync")));
  g_ptr_array_add (fields, describe_last_sync (last_sync));
  g_ptr_array_add (fields, g_strdup (_("Appointments")));
  g_ptr_array_add (fields, g_strdup_printf ("%u", get_count (connection, "items")));
  g_ptr_array_add (fields, g_strdup (_("Pending changes")));
  g_ptr_array_add (fields, g_strdup_printf ("%u", get_count (connection, "pending")));
  g_ptr_array_add (fields, g_strdup (_("Conflicts")));
  g_ptr_array_add (fields, g_strdup_printf ("%u", get_count (connection, "conflicts")));
  g_ptr_array_add (fields, g_strdup (_("Subscription")));
  g_ptr_array_add (fields, dup_string_or_dash (connection, "subscription-id"));
  g_ptr_array_add (fields, g_strdup (_("Watermark")));
  g_ptr_array_add (fields, dup_string_or_dash (connection, "watermark"));
  g_ptr_array_add (fields, g_strdup (_("Sync state")));
  if (agl_ctl_get_integer (connection, "sync-state-age", &age) && age >= 0)
    {
      g_autofree char *duration = agl_ctl_format_duration (age);

      /* TRANSLATORS: the age of the sync state: "stored 5 min ago" */
      g_ptr_array_add (fields, g_strdup_printf (_("stored %s ago"), duration));
    }
  else
    g_ptr_array_add (fields, g_strdup (_("none (the next sync starts afresh)")));
  g_ptr_array_add (fields, g_strdup (_("Last error")));
  g_ptr_array_add (fields, dup_string_or_dash (connection, "last-error"));
  g_ptr_array_add (fields, g_strdup (_("Server version")));
  g_ptr_array_add (fields, server_version != NULL && *server_version != '\0'
                           ? g_strdup (server_version) : g_strdup (_("not known yet")));
  if (publishers != NULL)
    {
      g_variant_iter_init (&iter, publishers);
      while ((publisher = g_variant_iter_next_value (&iter)) != NULL)
        {
          add_publisher_fields (fields, publisher);
          g_variant_unref (publisher);
        }
    }
  g_ptr_array_add (fields, NULL);

  agl_ctl_print_fields ((const char * const *) fields->pdata);
}

/* The element of @connections whose "name" is @name, or NULL. */
static GVariant *
find_connection (GVariant   *connections,
                 const char *name)
{
  GVariantIter iter;
  GVariant *connection;

  g_variant_iter_init (&iter, connections);
  while ((connection = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autofree char *connection_name = agl_ctl_dup_string (connection, "name");

      if (g_strcmp0 (connection_name, name) == 0)
        return connection;
      g_variant_unref (connection);
    }
  return NULL;
}

/**
 * agl_ctl_connections:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "connections [NAME] [--json]"
 *
 * Shows how each account (or the account NAME) is connected to Exchange:
 * a block of text per account, a JSON array, or with NAME a JSON object.
 *
 * Returns: the exit status
 */
int
agl_ctl_connections (AglCtl *ctl,
                     int     argc,
                     char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) connections = NULL;
  g_autoptr(GVariant) connection = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  GVariantIter iter;
  GVariant *element;
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
      N_("Print a JSON array, or an object with NAME"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("[NAME]"),
                                        _("Show how each account, or the account NAME, is connected to Exchange: its status, how it learns of changes, its last sync and what waits to be sent; and where its presence is published, with each publisher’s last delivery."),
                                        _("Examples:\n"
                                          "  agendalinectl connections\n"
                                          "  agendalinectl connections work\n"
                                          "  agendalinectl connections --json | jq -r '.[] | select(.status == \"offline\") | .name'\n"
                                          "  agendalinectl connections work --json | jq '.publishers[] | select(.state != \"delivered\")'"),
                                        entries);
  daemon = agl_ctl_start_command (ctl, context, &argc, &argv, 0, 1, NULL, &status);
  if (daemon == NULL)
    return status;
  if (!agl_daemon_call_list_connections_sync (daemon, G_DBUS_CALL_FLAGS_NONE, -1,
                                              &connections, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (argc == 2)
    {
      connection = find_connection (connections, argv[1]);
      if (connection == NULL)
        {
          g_autofree char *clean = agl_ctl_sanitize (argv[1]);

          g_set_error (&error, AGL_CTL_ERROR, AGL_CTL_ERROR_NOT_FOUND,
                       _("There is no account called “%s”."), clean);
          return agl_ctl_fail (ctl, error);
        }
    }

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = NULL;

      if (connection != NULL)
        root = connection_json (connection);
      else
        root = agl_ctl_json_array_from_list (connections, connection_json);
      agl_ctl_print_json (root, TRUE);
      return AGL_CTL_EXIT_SUCCESS;
    }

  if (connection != NULL)
    {
      print_connection_block (connection);
      return AGL_CTL_EXIT_SUCCESS;
    }

  if (g_variant_n_children (connections) == 0)
    g_print ("%s\n", _("No accounts."));
  g_variant_iter_init (&iter, connections);
  for (gboolean first = TRUE; (element = g_variant_iter_next_value (&iter)) != NULL; first = FALSE)
    {
      if (!first)
        g_print ("\n");
      print_connection_block (element);
      g_variant_unref (element);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/* log */

typedef struct {
  AglCtl     *ctl;
  GHashTable *printed;   /* keys of the lines GetLog gave, while LogLine may repeat them */
} LogFollower;

/* What tells two lines apart: the time has milliseconds. */
static char *
log_line_key (GVariant *line)
{
  g_autofree char *time = agl_ctl_dup_string (line, "time");
  g_autofree char *level = agl_ctl_dup_string (line, "level");
  g_autofree char *account = agl_ctl_dup_string (line, "account");
  g_autofree char *message = agl_ctl_dup_string (line, "message");

  return g_strjoin ("\x1f", time != NULL ? time : "", level != NULL ? level : "",
                    account != NULL ? account : "", message != NULL ? message : "", NULL);
}

/* "2026-11-23 10:00:05.123" in local time. */
static char *
format_log_time (const char *iso8601)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *seconds = NULL;

  utc = iso8601 != NULL ? g_date_time_new_from_iso8601 (iso8601, NULL) : NULL;
  if (utc == NULL)
    return agl_ctl_sanitize (iso8601);
  local = g_date_time_to_local (utc);
  seconds = g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%03d", seconds, g_date_time_get_microsecond (local) / 1000);
}

static JsonNode *
log_line_json (GVariant *line)
{
  JsonObject *object = json_object_new ();

  agl_ctl_json_set_string (object, "time", line, "time", FALSE);
  agl_ctl_json_set_string (object, "level", line, "level", FALSE);
  agl_ctl_json_set_string (object, "account", line, "account", TRUE);
  agl_ctl_json_set_string (object, "message", line, "message", FALSE);
  return agl_ctl_json_take_object (object);
}

/* One line of text, or one JSON object per line, flushed: whoever reads a
 * pipe wants each line as it comes. */
static void
print_log_line (AglCtl   *ctl,
                GVariant *line)
{
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = log_line_json (line);

      agl_ctl_print_json (node, FALSE);
    }
  else
    {
      g_autofree char *time_text = agl_ctl_dup_string (line, "time");
      g_autofree char *level_text = agl_ctl_dup_string (line, "level");
      g_autofree char *account_text = agl_ctl_dup_string (line, "account");
      g_autofree char *message_text = agl_ctl_dup_string (line, "message");
      g_autofree char *time = format_log_time (time_text);
      g_autofree char *level = agl_ctl_sanitize (level_text);
      g_autofree char *account = agl_ctl_sanitize (account_text);
      g_autofree char *message = agl_ctl_sanitize (message_text);

      /* "warning" is the longest level. */
      if (*account != '\0')
        g_print ("%s  %-7s  [%s] %s\n", time, level, account, message);
      else
        g_print ("%s  %-7s  %s\n", time, level, message);
    }
  fflush (stdout);
}

static void
log_line_cb (AglDaemon *daemon,
             GVariant  *line,
             gpointer   user_data)
{
  LogFollower *follower = user_data;

  /* The lines logged between connecting and GetLog's answer come both
   * ways; the signals of those come first, in order. */
  if (follower->printed != NULL)
    {
      g_autofree char *key = log_line_key (line);

      if (g_hash_table_contains (follower->printed, key))
        return;
      g_clear_pointer (&follower->printed, g_hash_table_unref);
    }
  print_log_line (follower->ctl, line);
}

static void
name_owner_changed_cb (GObject    *object,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  if (owner == NULL)
    g_printerr (_("%s: the daemon has gone away; waiting for it to come back\n"), AGL_CTL_PROGRAM);
  else
    g_printerr (_("%s: the daemon is running again\n"), AGL_CTL_PROGRAM);
}

/**
 * agl_ctl_log:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "log [--follow] [--lines N] [--json]"
 *
 * Prints the daemon's recent log, oldest first; with --follow, then each
 * new line as it is logged, until SIGINT or SIGTERM.
 *
 * Returns: the exit status
 */
int
agl_ctl_log (AglCtl *ctl,
             int     argc,
             char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *lines_text = NULL;
  LogFollower follower = { ctl, NULL };
  gboolean follow = FALSE;
  guint64 max_lines = 0;
  AglDaemon *daemon;
  GVariantIter iter;
  GVariant *line;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
      N_("Then print each new line as it is logged, until interrupted (Ctrl+C)"), NULL },
    { "lines", 'n', 0, G_OPTION_ARG_STRING, &lines_text,
      N_("Only the last N lines (default: all the daemon keeps)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print one JSON object per line"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL,
                                        _("Show the daemon’s recent log, oldest first: the local time, the level, the account in brackets and the message."),
                                        _("With --json, each line is an object with “time” (ISO 8601), “level”, "
                                          "“account” (null when none) and “message”.\n"
                                          "\n"
                                          "Examples:\n"
                                          "  agendalinectl log --lines 50\n"
                                          "  agendalinectl log --follow\n"
                                          "  agendalinectl log --json | jq -r 'select(.level == \"warning\") | .message'"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv) ||
      !agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;
  if (lines_text != NULL &&
      !g_ascii_string_to_unsigned (lines_text, 10, 1, G_MAXUINT32, &max_lines, NULL))
    return agl_ctl_usage_error (ctl, _("“%s” is not a number of lines: give a whole number from 1 up"),
                                lines_text);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);

  /* Connected before GetLog, so that no line falls between the two. */
  if (follow)
    {
      g_signal_connect (daemon, "log-line", G_CALLBACK (log_line_cb), &follower);
      g_signal_connect (daemon, "notify::g-name-owner", G_CALLBACK (name_owner_changed_cb), NULL);
    }

  if (!agl_daemon_call_get_log_sync (daemon, (guint) max_lines, G_DBUS_CALL_FLAGS_NONE, -1,
                                     &lines, NULL, &error))
    {
      g_signal_handlers_disconnect_by_data (daemon, &follower);
      g_signal_handlers_disconnect_by_func (daemon, name_owner_changed_cb, NULL);
      return agl_ctl_fail (ctl, error);
    }

  if (follow)
    follower.printed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_variant_iter_init (&iter, lines);
  while ((line = g_variant_iter_next_value (&iter)) != NULL)
    {
      print_log_line (ctl, line);
      if (follower.printed != NULL)
        g_hash_table_add (follower.printed, log_line_key (line));
      g_variant_unref (line);
    }

  if (follow)
    {
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

      agl_ctl_run_until_signal (loop);
      g_signal_handlers_disconnect_by_data (daemon, &follower);
      g_signal_handlers_disconnect_by_func (daemon, name_owner_changed_cb, NULL);
      g_clear_pointer (&follower.printed, g_hash_table_unref);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/* verify */

typedef struct {
  AglCtl       *ctl;
  const char   *name;
  GMainLoop    *loop;
  GVariant     *result;
  GError       *error;
  gboolean      printed[G_N_ELEMENTS (verify_legs)];
} Verify;

static void
verify_print_leg (Verify *verify,
                  gsize   leg,
                  double  seconds)
{
  verify->printed[leg] = TRUE;
  if (verify->ctl->json)
    return;
  /* TRANSLATORS: a leg of "agendalinectl verify": "Local → Exchange: 0.42 s" */
  g_print (_("%s: %.2f s\n"), _(verify_legs[leg].label), seconds);
  fflush (stdout);
}

static void
verify_progress_cb (AglDaemon  *daemon,
                    const char *name,
                    const char *leg,
                    double      seconds,
                    gpointer    user_data)
{
  Verify *verify = user_data;

  if (g_strcmp0 (name, verify->name) != 0)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (verify_legs); i++)
    if (strcmp (leg, verify_legs[i].leg) == 0 && !verify->printed[i])
      verify_print_leg (verify, i, seconds);
}

static void
verify_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Verify *verify = user_data;

  agl_daemon_call_verify_account_finish (AGL_DAEMON (source), &verify->result, result,
                                         &verify->error);
  g_main_loop_quit (verify->loop);
}

/**
 * agl_ctl_verify:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "verify NAME [--json]"
 *
 * Has the daemon send a test appointment to Exchange, change it there and
 * delete it, and prints each leg as it is done.
 *
 * Returns: the exit status
 */
int
agl_ctl_verify (AglCtl *ctl,
                int     argc,
                char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *clean_name = NULL;
  Verify verify = { ctl, NULL, NULL, NULL, NULL, { FALSE, } };
  AglDaemon *daemon;
  double total = 0.0;
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON object at the end"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("NAME"),
                                        _("Check that the account NAME syncs both ways: an appointment “Agendaline sync check” is made tomorrow in the local agenda, waited for on Exchange, changed there, waited for here, then deleted.  It takes up to 5 minutes."),
                                        _("Examples:\n"
                                          "  agendalinectl verify work\n"
                                          "  agendalinectl verify work --json | jq .exchange_to_local"),
                                        entries);
  daemon = agl_ctl_start_command (ctl, context, &argc, &argv, 1, 1, _("Missing the account name"),
                                  &status);
  if (daemon == NULL)
    return status;

  verify.name = argv[1];
  clean_name = agl_ctl_sanitize (argv[1]);
  loop = g_main_loop_new (NULL, FALSE);
  verify.loop = loop;
  if (!ctl->json)
    {
      g_print (_("Checking %s; this can take a few minutes…\n"), clean_name);
      fflush (stdout);
    }

  g_signal_connect (daemon, "verify-progress", G_CALLBACK (verify_progress_cb), &verify);
  agl_daemon_call_verify_account (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, VERIFY_TIMEOUT_MSEC,
                                  NULL, verify_done_cb, &verify);
  g_main_loop_run (loop);
  g_signal_handlers_disconnect_by_data (daemon, &verify);

  if (verify.error != NULL)
    {
      status = agl_ctl_fail (ctl, verify.error);
      g_error_free (verify.error);
      return status;
    }

  /* The answer has every leg; a signal that did not arrive (another
   * daemon's filter, a lost match rule) is no reason to leave one out. */
  for (gsize i = 0; i < G_N_ELEMENTS (verify_legs); i++)
    {
      double seconds = 0.0;

      if (agl_ctl_get_double (verify.result, verify_legs[i].leg, &seconds))
        {
          if (!verify.printed[i])
            verify_print_leg (&verify, i, seconds);
          total += seconds;
        }
    }

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_from_vardict (verify.result);

      agl_ctl_print_json (root, TRUE);
    }
  else
    /* TRANSLATORS: the last line of "agendalinectl verify" */
    g_print (_("%s syncs both ways with Exchange (%.2f s in all).\n"), clean_name, total);
  g_variant_unref (verify.result);
  return AGL_CTL_EXIT_SUCCESS;
}

/* conflicts */

static JsonNode *
conflict_json (GVariant *conflict)
{
  JsonObject *object = json_object_new ();

  agl_ctl_json_set_integer (object, "id", conflict, "id");
  agl_ctl_json_set_string (object, "account", conflict, "account", TRUE);
  agl_ctl_json_set_string (object, "uid", conflict, "uid", FALSE);
  agl_ctl_json_set_string (object, "summary", conflict, "summary", FALSE);
  agl_ctl_json_set_string (object, "reason", conflict, "reason", FALSE);
  agl_ctl_json_set_string (object, "created", conflict, "created", FALSE);
  agl_ctl_json_set_string (object, "ical", conflict, "ical", FALSE);
  return agl_ctl_json_take_object (object);
}

static void
add_conflict_row (AglCtlTable *table,
                  GVariant    *conflict)
{
  g_autofree char *account = agl_ctl_dup_string (conflict, "account");
  g_autofree char *created = agl_ctl_dup_string (conflict, "created");
  g_autofree char *summary = agl_ctl_dup_string (conflict, "summary");
  g_autofree char *reason = agl_ctl_dup_string (conflict, "reason");
  g_autofree char *when = agl_ctl_format_time (created);
  g_autofree char *id_text = NULL;
  gint64 id = 0;

  agl_ctl_get_integer (conflict, "id", &id);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  agl_ctl_table_add_row (table, id_text,
                         account == NULL || *account == '\0' ? _("(local)") : account,
                         when, summary, reason);
}

/**
 * agl_ctl_conflicts_list:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "list [NAME] [--json]", or "conflicts [NAME] [--json]"
 *
 * Lists the versions that lost a conflict, newest first.
 *
 * Returns: the exit status
 */
int
agl_ctl_conflicts_list (AglCtl *ctl,
                        int     argc,
                        char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) conflicts = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("[NAME]"),
                                        _("List the versions of appointments that lost a sync conflict, newest first: of every account, or of the account NAME.  “conflicts restore ID” brings one back."),
                                        _("Examples:\n"
                                          "  agendalinectl conflicts\n"
                                          "  agendalinectl conflicts work --json | jq -r '.[].summary'\n"
                                          "  agendalinectl conflicts list restore   (an account called “restore”)"),
                                        entries);
  daemon = agl_ctl_start_command (ctl, context, &argc, &argv, 0, 1, NULL, &status);
  if (daemon == NULL)
    return status;
  if (!agl_daemon_call_list_conflicts_sync (daemon, argc == 2 ? argv[1] : "",
                                            G_DBUS_CALL_FLAGS_NONE, -1, &conflicts, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_array_from_list (conflicts, conflict_json);

      agl_ctl_print_json (root, TRUE);
    }
  else
    {
      /* TRANSLATORS: column headers of "agendalinectl conflicts" */
      g_autoptr(AglCtlTable) table = agl_ctl_table_new (5, _("ID"), _("ACCOUNT"), _("WHEN"),
                                                        _("SUMMARY"), _("REASON"));

      agl_ctl_table_add_rows (table, conflicts, add_conflict_row);
      if (agl_ctl_table_get_n_rows (table) == 0)
        g_print ("%s\n", _("No conflicts."));
      else
        agl_ctl_table_print (table);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_conflicts_restore:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "restore ID [--json]"
 *
 * Brings the losing version back as the appointment and prints the
 * appointment's id.
 *
 * Returns: the exit status
 */
int
agl_ctl_conflicts_restore (AglCtl *ctl,
                           int     argc,
                           char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gint64 conflict_id = 0;
  gint64 item_id = 0;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print the id as a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("ID"),
                                        _("Bring the version of conflict ID back as the account’s appointment (it replaces the current one) and send it to Exchange; print the appointment’s id."),
                                        _("Example:\n  agendalinectl conflicts restore 7"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1, _("Missing the conflict id")) ||
      !agl_ctl_parse_conflict_id (ctl, argv[1], &conflict_id))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_restore_conflict_sync (daemon, conflict_id, G_DBUS_CALL_FLAGS_NONE, -1,
                                              &item_id, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_take_object (json_object_new ());

      json_object_set_int_member (json_node_get_object (root), "id", item_id);
      agl_ctl_print_json (root, TRUE);
    }
  else
    g_print ("%" G_GINT64_FORMAT "\n", item_id);
  return AGL_CTL_EXIT_SUCCESS;
}
