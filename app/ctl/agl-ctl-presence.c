/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-ctl-presence.h"
#include "agl-ctl-output.h"

/* The values SetOverride takes; data, never translated. */
static const char * const presences[] = {
  "available", "busy", "dnd", "away", "out-of-office", NULL
};
static const char * const actions[] = {
  "none", "dnd", "forward", "divert", NULL
};

#define DEFAULT_SCHEDULE_DAYS 7
#define MAX_SCHEDULE_DAYS     31

/* Statuses and rules travel as JSON text; a reply that is not what the
 * contract says is the daemon's fault, reported as such. */
static JsonNode *
parse_reply (const char    *text,
             JsonNodeType   expected,
             GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &local_error);

  if (node == NULL && local_error != NULL)
    {
      g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                   _("The daemon sent JSON that cannot be read: %s"), local_error->message);
      return NULL;
    }
  if (node == NULL || JSON_NODE_TYPE (node) != expected)
    {
      g_set_error_literal (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                           expected == JSON_NODE_ARRAY
                           ? _("The daemon sent JSON that is not an array.")
                           : _("The daemon sent JSON that is not an object."));
      return NULL;
    }
  return g_steal_pointer (&node);
}

/* The string member @name of @object, or NULL when it is missing, null or
 * not a string. */
static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_boolean (JsonObject *object,
             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;
  return json_node_get_boolean (node);
}

static JsonObject *
get_object (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object,
           const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static const char *
yes_no (gboolean value)
{
  return value ? _("yes") : _("no");
}

static gboolean
is_one_of (const char         *value,
           const char * const *values)
{
  return g_strv_contains (values, value);
}

/* @iso8601 given by the user, in local time unless it says otherwise;
 * sent to the daemon as UTC. */
static char *
parse_instant (const char *iso8601)
{
  g_autoptr(GTimeZone) local_tz = g_time_zone_new_local ();
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (iso8601, local_tz);
  g_autoptr(GDateTime) utc = NULL;

  if (time == NULL)
    return NULL;
  utc = g_date_time_to_utc (time);
  return g_date_time_format_iso8601 (utc);
}

static GDateTime *
local_time_from_iso8601 (const char *iso8601)
{
  g_autoptr(GDateTime) time = NULL;

  if (iso8601 == NULL || *iso8601 == '\0')
    return NULL;
  time = g_date_time_new_from_iso8601 (iso8601, NULL);
  return time != NULL ? g_date_time_to_local (time) : NULL;
}

/* "14:30" when @until is on the local day of @reference (the instant the
 * status is for), else "2026-11-24 14:30", so that "until 14:30" is never
 * read as the wrong day. */
static char *
format_until (const char *until,
              const char *reference)
{
  g_autoptr(GDateTime) local_until = local_time_from_iso8601 (until);
  g_autoptr(GDateTime) local_reference = local_time_from_iso8601 (reference);

  if (local_until == NULL)
    return agl_ctl_format_time (until);
  if (local_reference == NULL)
    local_reference = g_date_time_new_now_local ();

  if (g_date_time_get_year (local_until) == g_date_time_get_year (local_reference) &&
      g_date_time_get_day_of_year (local_until) == g_date_time_get_day_of_year (local_reference))
    return g_date_time_format (local_until, "%H:%M");
  return agl_ctl_format_time (until);
}

static const char *
describe_presence (const char *presence)
{
  if (g_strcmp0 (presence, "available") == 0)
    return C_("presence", "available");
  if (g_strcmp0 (presence, "busy") == 0)
    return C_("presence", "busy");
  if (g_strcmp0 (presence, "dnd") == 0)
    return C_("presence", "do not disturb");
  if (g_strcmp0 (presence, "away") == 0)
    return C_("presence", "away");
  if (g_strcmp0 (presence, "out-of-office") == 0)
    return C_("presence", "out of office");
  /* A newer daemon's presence, as it says it. */
  return presence != NULL ? presence : "?";
}

/* What happens to a call, in words: "callers are diverted (reason
 * “meeting”)". */
static char *
describe_phone (JsonObject *phone)
{
  const char *action = get_string (phone, "action");
  const char *reason = get_string (phone, "reason");

  if (g_strcmp0 (action, "none") == 0)
    return g_strdup (_("calls ring as usual"));
  if (g_strcmp0 (action, "dnd") == 0)
    return g_strdup (_("calls are held back (do not disturb)"));
  if (g_strcmp0 (action, "forward") == 0)
    return g_strdup (get_boolean (phone, "forward_internal")
                     ? _("all calls are forwarded")
                     : _("external calls are forwarded"));
  if (g_strcmp0 (action, "divert") == 0 && reason != NULL)
    /* TRANSLATORS: the reason is a code callers are told, e.g. "meeting" */
    return g_strdup_printf (_("callers are diverted (reason “%s”)"), reason);
  if (g_strcmp0 (action, "divert") == 0)
    return g_strdup (_("callers are diverted"));
  return g_strdup (action != NULL ? action : "?");
}

/* One line of the explanation; the daemon's detail is a sentence. */
static char *
describe_because (JsonObject *because)
{
  const char *kind = get_string (because, "kind");
  const char *subject = get_string (because, "subject");
  const char *free_busy = get_string (because, "free_busy");
  const char *detail = get_string (because, "detail");

  if (g_strcmp0 (kind, "appointment") == 0 && subject != NULL)
    {
      g_autofree char *appointment =
        /* TRANSLATORS: an appointment and its free/busy type (a name from the
         * rules file, e.g. Busy): "appointment “Quarterly planning” (Busy)" */
        g_strdup_printf (_("appointment “%s” (%s)"), subject, free_busy != NULL ? free_busy : "?");

      if (detail != NULL)
        /* TRANSLATORS: an appointment, then the daemon's sentence about it */
        return g_strdup_printf (_("%s: %s"), appointment, detail);
      /* TRANSLATORS: "appointment “Quarterly planning” (Busy) is on" */
      return g_strdup_printf (_("%s is on"), appointment);
    }
  if (detail != NULL)
    return g_strdup (detail);
  return g_strdup (kind != NULL ? kind : "?");
}

static void
print_status (JsonObject *status,
              gboolean    show_at)
{
  const char *account = get_string (status, "account");
  const char *at = get_string (status, "at");
  const char *text = get_string (status, "text");
  const char *until = get_string (status, "until");
  JsonArray *because = get_array (status, "because");
  g_autofree char *clean_account = agl_ctl_sanitize (account != NULL ? account : "?");
  g_autofree char *phone = describe_phone (get_object (status, "phone"));
  g_autoptr(GString) line = g_string_new (NULL);

  /* TRANSLATORS: "work: busy — callers are diverted (reason “meeting”)" */
  g_string_append_printf (line, _("%s: %s — %s"), clean_account,
                          describe_presence (get_string (status, "presence")), phone);
  if (until != NULL)
    {
      g_autofree char *until_text = format_until (until, at);

      /* TRANSLATORS: appended to the status line: " until 14:30" */
      g_string_append_printf (line, _(" until %s"), until_text);
    }
  g_print ("%s\n", line->str);

  if (show_at)
    {
      g_autofree char *at_text = agl_ctl_format_time (at);

      /* TRANSLATORS: the instant a status is shown for (status --at) */
      g_print ("  %s %s\n", _("At:"), at_text);
    }
  if (text != NULL)
    {
      g_autofree char *clean_text = agl_ctl_sanitize (text);

      /* TRANSLATORS: the status text, e.g. the appointment's subject */
      g_print ("  %s %s\n", _("Text:"), clean_text);
    }
  if (because != NULL && json_array_get_length (because) > 0)
    {
      /* TRANSLATORS: followed by one line per thing that produced the
       * status */
      g_print ("  %s\n", _("Because:"));
      for (guint i = 0; i < json_array_get_length (because); i++)
        {
          JsonNode *element = json_array_get_element (because, i);
          g_autofree char *reason = NULL;
          g_autofree char *clean = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          reason = describe_because (json_node_get_object (element));
          clean = agl_ctl_sanitize (reason);
          g_print ("    %s\n", clean);
        }
    }
}

/* The names of the enabled accounts, for the commands whose NAME is
 * optional. */
static GPtrArray *
list_enabled_accounts (AglDaemon  *daemon,
                       GError    **error)
{
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  GVariant *account;

  if (!agl_daemon_call_list_accounts_sync (daemon, G_DBUS_CALL_FLAGS_NONE, -1,
                                           &accounts, NULL, error))
    return NULL;

  g_variant_iter_init (&iter, accounts);
  while ((account = g_variant_iter_next_value (&iter)) != NULL)
    {
      char *name = agl_ctl_dup_string (account, "name");

      if (name != NULL && agl_ctl_get_boolean (account, "enabled", TRUE))
        g_ptr_array_add (names, name);
      else
        g_free (name);
      g_variant_unref (account);
    }
  return g_steal_pointer (&names);
}

/* NAME, or every enabled account without it. */
static GPtrArray *
accounts_to_show (AglDaemon  *daemon,
                  int         argc,
                  char      **argv,
                  GError    **error)
{
  GPtrArray *names;

  if (argc < 2)
    return list_enabled_accounts (daemon, error);
  names = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (names, g_strdup (argv[1]));
  return names;
}

/* status */

/**
 * agl_ctl_status:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "status [NAME] [--at ISO8601] [--json]"
 *
 * Explains the presence and phone status of the account NAME, or of every
 * enabled account, now or at the instant given.
 *
 * Returns: the exit status
 */
int
agl_ctl_status (AglCtl *ctl,
                int     argc,
                char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *at_text = NULL;
  g_autofree char *at = NULL;
  JsonArray *array = json_array_new ();
  g_autoptr(JsonNode) all = agl_ctl_json_take_array (array);
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at_text,
      N_("The status at this instant (ISO 8601, local time unless it gives an offset) instead of now"),
      N_("TIME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
      N_("Print the daemon’s JSON: an object with NAME, else an array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("[NAME]"),
                                        _("Show the presence and the phone status of the account NAME, or of every enabled account, and explain what produced them: the appointment, its keywords and trigger words, automatic replies, an override and the rules."),
                                        _("Examples:\n"
                                          "  agendalinectl status\n"
                                          "  agendalinectl status work --at 2026-11-23T14:00\n"
                                          "  agendalinectl status work --json | jq -r .phone.action"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv) ||
      !agl_ctl_expect_arguments (ctl, argc, argv, 0, 1, NULL))
    return AGL_CTL_EXIT_USAGE;
  if (at_text != NULL)
    {
      at = parse_instant (at_text);
      if (at == NULL)
        return agl_ctl_usage_error (ctl, _("“%s” is not a time: give ISO 8601, e.g. 2026-11-23T14:00 or 2026-11-23T14:00:00+01:00"),
                                    at_text);
    }

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  names = accounts_to_show (daemon, argc, argv, &error);
  if (names == NULL)
    return agl_ctl_fail (ctl, error);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *text = NULL;
      JsonNode *status;

      if (!agl_daemon_call_get_status_sync (daemon, g_ptr_array_index (names, i),
                                            at != NULL ? at : "", G_DBUS_CALL_FLAGS_NONE, -1,
                                            &text, NULL, &error))
        return agl_ctl_fail (ctl, error);
      status = parse_reply (text, JSON_NODE_OBJECT, &error);
      if (status == NULL)
        return agl_ctl_fail (ctl, error);
      json_array_add_element (array, status);
    }

  if (ctl->json)
    {
      agl_ctl_print_json (argc == 2 ? json_array_get_element (array, 0) : all, TRUE);
      return AGL_CTL_EXIT_SUCCESS;
    }

  if (names->len == 0)
    g_print ("%s\n", _("No enabled accounts."));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (i > 0)
        g_print ("\n");
      print_status (json_array_get_object_element (array, i), at != NULL);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/* schedule */

/* "divert (meeting)", "forward (internal calls too)", "none". */
static char *
describe_action (JsonObject *phone)
{
  const char *action = get_string (phone, "action");
  const char *reason = get_string (phone, "reason");

  if (action == NULL)
    return g_strdup ("-");
  if (reason != NULL)
    return g_strdup_printf ("%s (%s)", action, reason);
  if (g_strcmp0 (action, "forward") == 0 && get_boolean (phone, "forward_internal"))
    /* TRANSLATORS: the phone action in "agendalinectl schedule"; "forward"
     * is a name from the rules file */
    return g_strdup_printf (_("%s (internal calls too)"), action);
  return g_strdup (action);
}

static void
add_schedule_row (AglCtlTable *table,
                  JsonObject  *status,
                  gboolean     with_account)
{
  const char *at = get_string (status, "at");
  const char *until = get_string (status, "until");
  const char *text = get_string (status, "text");
  g_autofree char *when = agl_ctl_format_time (at);
  g_autofree char *phone = describe_action (get_object (status, "phone"));
  g_autofree char *until_text = until != NULL ? format_until (until, at) : g_strdup ("-");
  const char *presence = describe_presence (get_string (status, "presence"));

  if (with_account)
    agl_ctl_table_add_row (table, get_string (status, "account"), when, presence, phone,
                           until_text, text != NULL ? text : "");
  else
    agl_ctl_table_add_row (table, when, presence, phone, until_text, text != NULL ? text : "");
}

/**
 * agl_ctl_schedule:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "schedule [NAME] [--days N] [--json]"
 *
 * Lists the status now and every change of it in the coming days.
 *
 * Returns: the exit status
 */
int
agl_ctl_schedule (AglCtl *ctl,
                  int     argc,
                  char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AglCtlTable) table = NULL;
  g_autofree char *days_text = NULL;
  guint64 days = DEFAULT_SCHEDULE_DAYS;
  JsonArray *all = json_array_new ();
  g_autoptr(JsonNode) root = agl_ctl_json_take_array (all);
  gboolean with_account;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "days", 0, 0, G_OPTION_ARG_STRING, &days_text,
      N_("How many days ahead, from 1 to 31 (default: 7)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print the daemon’s JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("[NAME]"),
                                        _("List the status of the account NAME, or of every enabled account, now and at each instant it changes in the coming days, in local time."),
                                        _("Examples:\n"
                                          "  agendalinectl schedule work\n"
                                          "  agendalinectl schedule --days 1\n"
                                          "  agendalinectl schedule work --json | jq -r '.[] | [.at, .presence] | @tsv'"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv) ||
      !agl_ctl_expect_arguments (ctl, argc, argv, 0, 1, NULL))
    return AGL_CTL_EXIT_USAGE;
  if (days_text != NULL &&
      !g_ascii_string_to_unsigned (days_text, 10, 1, MAX_SCHEDULE_DAYS, &days, NULL))
    return agl_ctl_usage_error (ctl, _("“%s” is not a number of days: give a whole number from 1 to %d"),
                                days_text, MAX_SCHEDULE_DAYS);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  names = accounts_to_show (daemon, argc, argv, &error);
  if (names == NULL)
    return agl_ctl_fail (ctl, error);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(JsonNode) schedule = NULL;
      JsonArray *changes;

      if (!agl_daemon_call_get_schedule_sync (daemon, g_ptr_array_index (names, i), "",
                                              (guint) days, G_DBUS_CALL_FLAGS_NONE, -1,
                                              &text, NULL, &error))
        return agl_ctl_fail (ctl, error);
      schedule = parse_reply (text, JSON_NODE_ARRAY, &error);
      if (schedule == NULL)
        return agl_ctl_fail (ctl, error);
      changes = json_node_get_array (schedule);
      for (guint j = 0; j < json_array_get_length (changes); j++)
        json_array_add_element (all, json_node_copy (json_array_get_element (changes, j)));
    }

  if (ctl->json)
    {
      agl_ctl_print_json (root, TRUE);
      return AGL_CTL_EXIT_SUCCESS;
    }

  /* The account is a column only when there can be more than one. */
  with_account = argc < 2;
  if (with_account)
    /* TRANSLATORS: column headers of "agendalinectl schedule" */
    table = agl_ctl_table_new (6, _("ACCOUNT"), _("WHEN"), _("PRESENCE"), _("PHONE"),
                               _("UNTIL"), _("TEXT"));
  else
    table = agl_ctl_table_new (5, _("WHEN"), _("PRESENCE"), _("PHONE"), _("UNTIL"), _("TEXT"));

  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonNode *element = json_array_get_element (all, i);

      if (JSON_NODE_HOLDS_OBJECT (element))
        add_schedule_row (table, json_node_get_object (element), with_account);
    }

  if (names->len == 0)
    g_print ("%s\n", _("No enabled accounts."));
  else if (agl_ctl_table_get_n_rows (table) == 0)
    g_print ("%s\n", _("No status changes."));
  else
    agl_ctl_table_print (table);
  return AGL_CTL_EXIT_SUCCESS;
}

/* override */

/**
 * agl_ctl_override:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "override NAME --presence P [--action A] [--text T]" or
 *   "override NAME --clear"
 *
 * Sets a manual status that holds until the next appointment starts or
 * ends, or clears it.
 *
 * Returns: the exit status
 */
int
agl_ctl_override (AglCtl *ctl,
                  int     argc,
                  char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *presence = NULL;
  g_autofree char *action = NULL;
  g_autofree char *text = NULL;
  g_autofree char *until = NULL;
  g_autofree char *clean_name = NULL;
  gboolean clear = FALSE;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "presence", 0, 0, G_OPTION_ARG_STRING, &presence,
      N_("available, busy, dnd, away or out-of-office"), N_("PRESENCE") },
    { "action", 0, 0, G_OPTION_ARG_STRING, &action,
      N_("The phone action: none, dnd, forward or divert (default: what the calendar says)"),
      N_("ACTION") },
    { "text", 0, 0, G_OPTION_ARG_STRING, &text, N_("The status text"), N_("TEXT") },
    { "clear", 0, 0, G_OPTION_ARG_NONE, &clear,
      N_("Remove the override: the calendar rules apply again at once"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("NAME"),
                                        _("Set the status of the account NAME by hand.  The override holds until the next appointment starts or ends; then the calendar rules apply again."),
                                        _("Examples:\n"
                                          "  agendalinectl override work --presence dnd\n"
                                          "  agendalinectl override work --presence away --action divert --text \"Lunch\"\n"
                                          "  agendalinectl override work --clear"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv) ||
      !agl_ctl_expect_arguments (ctl, argc, argv, 1, 1, _("Missing the account name")))
    return AGL_CTL_EXIT_USAGE;
  if (clear && (presence != NULL || action != NULL || text != NULL))
    return agl_ctl_usage_error (ctl, _("--clear cannot be combined with --presence, --action or --text"));
  if (!clear && presence == NULL)
    return agl_ctl_usage_error (ctl, _("Give --presence to set an override, or --clear to remove it"));
  if (presence != NULL && !is_one_of (presence, presences))
    return agl_ctl_usage_error (ctl, _("Unknown presence “%s”: use available, busy, dnd, away or out-of-office"),
                                presence);
  if (action != NULL && !is_one_of (action, actions))
    return agl_ctl_usage_error (ctl, _("Unknown action “%s”: use none, dnd, forward or divert"),
                                action);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);

  clean_name = agl_ctl_sanitize (argv[1]);
  if (clear)
    {
      if (!agl_daemon_call_clear_override_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, -1,
                                                NULL, &error))
        return agl_ctl_fail (ctl, error);
      g_print (_("Override for %s cleared: the calendar rules apply again.\n"), clean_name);
      return AGL_CTL_EXIT_SUCCESS;
    }

  if (!agl_daemon_call_set_override_sync (daemon, argv[1], presence,
                                          action != NULL ? action : "", text != NULL ? text : "",
                                          G_DBUS_CALL_FLAGS_NONE, -1, &until, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (until == NULL || *until == '\0')
    g_print (_("Override for %s holds until you clear it.\n"), clean_name);
  else
    {
      g_autofree char *until_text = format_until (until, NULL);

      g_print (_("Override for %s holds until %s (the next appointment start or end).\n"),
               clean_name, until_text);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/* rules */

static void
print_rules (JsonObject *rules)
{
  JsonObject *actions_object = get_object (rules, "actions");
  JsonArray *trigger_words = get_array (rules, "trigger_words");
  JsonNode *publishers = json_object_get_member (rules, "publishers");
  const char *default_reason = get_string (rules, "default_reason");
  g_autofree char *publishers_text = publishers != NULL ? json_to_string (publishers, FALSE)
                                                        : g_strdup ("-");
  /* TRANSLATORS: column headers of "agendalinectl rules" */
  g_autoptr(AglCtlTable) actions_table = agl_ctl_table_new (2, _("FREE/BUSY"), _("PHONE ACTION"));
  g_autoptr(AglCtlTable) words_table = agl_ctl_table_new (2, _("TRIGGER WORD"), _("REASON"));
  const char *fields[] = {
    _("Forward internal calls"), yes_no (get_boolean (rules, "forward_internal")),
    _("Default reason"), default_reason != NULL ? default_reason : "-",
    _("Only accepted meetings"), yes_no (get_boolean (rules, "only_accepted_meetings")),
    _("Join parallel subjects"), yes_no (get_boolean (rules, "join_parallel_subjects")),
    _("Publishers"), publishers_text,
    NULL
  };

  agl_ctl_print_fields (fields);

  /* In the daemon's order, which json_object_get_members() keeps. */
  if (actions_object != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (actions_object);

      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *action = get_string (actions_object, l->data);

          agl_ctl_table_add_row (actions_table, l->data, action != NULL ? action : "?");
        }
    }
  g_print ("\n");
  agl_ctl_table_print (actions_table);

  for (guint i = 0; trigger_words != NULL && i < json_array_get_length (trigger_words); i++)
    {
      JsonNode *element = json_array_get_element (trigger_words, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;

      agl_ctl_table_add_row (words_table, get_string (entry, "word"), get_string (entry, "reason"));
    }
  g_print ("\n");
  if (agl_ctl_table_get_n_rows (words_table) == 0)
    g_print ("%s\n", _("No trigger words: every diversion gives the default reason."));
  else
    agl_ctl_table_print (words_table);
}

/**
 * agl_ctl_rules_show:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "rules [show] NAME [--json]"
 *
 * Shows the rules that turn the account's appointments into a status.
 *
 * Returns: the exit status
 */
int
agl_ctl_rules_show (AglCtl *ctl,
                    int     argc,
                    char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) rules = NULL;
  AglDaemon *daemon;
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
      N_("Print the rules as JSON, as “rules set” takes them"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("NAME"),
                                        _("Show the rules that turn the appointments of the account NAME into a presence and a phone action: the action per free/busy type, the trigger words and their reasons, the switches and the publishers."),
                                        _("Examples:\n"
                                          "  agendalinectl rules work\n"
                                          "  agendalinectl rules work --json > rules.json"),
                                        entries);
  daemon = agl_ctl_start_command (ctl, context, &argc, &argv, 1, 1, _("Missing the account name"),
                                  &status);
  if (daemon == NULL)
    return status;

  if (!agl_daemon_call_get_rules_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, -1, &text,
                                       NULL, &error))
    return agl_ctl_fail (ctl, error);
  rules = parse_reply (text, JSON_NODE_OBJECT, &error);
  if (rules == NULL)
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    agl_ctl_print_json (rules, TRUE);
  else
    print_rules (json_node_get_object (rules));
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_rules_set:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "rules set NAME FILE|-"
 *
 * Replaces the account's rules with the JSON in FILE; the daemon checks
 * them and keeps the old ones when it refuses.
 *
 * Returns: the exit status
 */
int
agl_ctl_rules_set (AglCtl *ctl,
                   int     argc,
                   char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rules = NULL;
  AglDaemon *daemon;

  context = agl_ctl_option_context_new (ctl, _("NAME FILE|-"),
                                        _("Replace the rules of the account NAME with the JSON object in FILE (as “rules NAME --json” prints it); keys left out take their defaults.  “-” reads standard input.  Rules the daemon refuses change nothing."),
                                        _("Examples:\n"
                                          "  agendalinectl rules work --json > rules.json\n"
                                          "  agendalinectl rules set work rules.json\n"
                                          "  jq '.forward_internal = true' rules.json | agendalinectl rules set work -"),
                                        NULL);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 2, _("Missing the account name")) ||
      !agl_ctl_expect_arguments (ctl, argc, argv, 2, 2,
                                 _("Missing the rules file (or “-” for standard input)")))
    return AGL_CTL_EXIT_USAGE;

  rules = agl_ctl_read_text (argv[2], &error);
  if (rules == NULL)
    return agl_ctl_fail (ctl, error);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_set_rules_sync (daemon, argv[1], rules, G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error))
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}
