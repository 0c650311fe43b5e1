/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-ctl-agenda.h"
#include "agl-ctl-output.h"

/* The arguments of "agenda update" and "agenda remove" start with the
 * appointment's ID; @max_args counts it. */
static gboolean
expect_id_argument (AglCtl  *ctl,
                    int      argc,
                    char   **argv,
                    int      max_args,
                    gint64  *id)
{
  return agl_ctl_expect_arguments (ctl, argc, argv, 1, max_args, _("Missing the appointment id")) &&
         agl_ctl_parse_id (ctl, argv[1], id);
}

static JsonNode *
ids_json (GVariant *ids)
{
  JsonArray *array = json_array_new ();
  GVariantIter iter;
  gint64 id;

  g_variant_iter_init (&iter, ids);
  while (g_variant_iter_next (&iter, "x", &id))
    json_array_add_int_element (array, id);
  return agl_ctl_json_take_array (array);
}

/* The members "agenda list --json" and "agenda occurrences --json" both
 * write, first and in this order; "account" is null for the local-only
 * agenda, which the daemon names "". */
static JsonObject *
appointment_json_new (GVariant *appointment)
{
  JsonObject *object = json_object_new ();
  g_autofree char *account = agl_ctl_dup_string (appointment, "account");
  g_autofree char *uid = agl_ctl_dup_string (appointment, "uid");
  g_autofree char *summary = agl_ctl_dup_string (appointment, "summary");
  g_autofree char *start = agl_ctl_dup_string (appointment, "start");
  g_autofree char *end = agl_ctl_dup_string (appointment, "end");
  gint64 id = 0;

  if (agl_ctl_get_integer (appointment, "id", &id))
    json_object_set_int_member (object, "id", id);
  else
    json_object_set_null_member (object, "id");
  json_object_set_member (object, "account", agl_ctl_json_string_or_null (account));
  json_object_set_string_member (object, "uid", uid != NULL ? uid : "");
  json_object_set_string_member (object, "summary", summary != NULL ? summary : "");
  json_object_set_member (object, "start", agl_ctl_json_string_or_null (start));
  json_object_set_member (object, "end", agl_ctl_json_string_or_null (end));
  json_object_set_boolean_member (object, "all_day",
                                  agl_ctl_get_boolean (appointment, "all-day", FALSE));
  return object;
}

/* A row of "agenda list" or "agenda occurrences", with the summary as
 * @summary_text shows it. */
static void
add_appointment_row (AglCtlTable *table,
                     GVariant    *appointment,
                     const char  *summary_text)
{
  g_autofree char *account = agl_ctl_dup_string (appointment, "account");
  g_autofree char *start_text = agl_ctl_dup_string (appointment, "start");
  g_autofree char *end_text = agl_ctl_dup_string (appointment, "end");
  g_autofree char *start = agl_ctl_format_time (start_text);
  g_autofree char *end = agl_ctl_format_time (end_text);
  g_autofree char *id_text = NULL;
  gint64 id = 0;

  agl_ctl_get_integer (appointment, "id", &id);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  agl_ctl_table_add_row (table, id_text, start, end,
                         account == NULL || *account == '\0' ? _("(local)") : account,
                         summary_text);
}

static JsonNode *
item_json (GVariant *item)
{
  JsonObject *object = appointment_json_new (item);
  g_autofree char *ical = agl_ctl_dup_string (item, "ical");

  json_object_set_boolean_member (object, "recurring",
                                  agl_ctl_get_boolean (item, "recurring", FALSE));
  json_object_set_string_member (object, "ical", ical != NULL ? ical : "");

  return agl_ctl_json_take_object (object);
}

static void
add_item_row (AglCtlTable *table,
              GVariant    *item)
{
  g_autofree char *summary = agl_ctl_dup_string (item, "summary");
  g_autofree char *summary_text = NULL;

  if (agl_ctl_get_boolean (item, "recurring", FALSE))
    /* TRANSLATORS: a recurring appointment in "agendalinectl agenda list" */
    summary_text = g_strdup_printf (_("%s (repeats)"), summary != NULL ? summary : "");
  else
    summary_text = g_strdup (summary != NULL ? summary : "");

  add_appointment_row (table, item, summary_text);
}

static JsonNode *
occurrence_json (GVariant *occurrence)
{
  JsonObject *object = appointment_json_new (occurrence);
  g_autofree char *recurrence_id = agl_ctl_dup_string (occurrence, "recurrence-id");
  g_autofree char *busy_status = agl_ctl_dup_string (occurrence, "busy-status");

  /* Null where the daemon says "none" with "". */
  json_object_set_member (object, "recurrence_id", agl_ctl_json_string_or_null (recurrence_id));
  json_object_set_boolean_member (object, "exception",
                                  agl_ctl_get_boolean (occurrence, "exception", FALSE));
  json_object_set_member (object, "busy_status", agl_ctl_json_string_or_null (busy_status));

  return agl_ctl_json_take_object (object);
}

static void
add_occurrence_row (AglCtlTable *table,
                    GVariant    *occurrence)
{
  g_autofree char *summary = agl_ctl_dup_string (occurrence, "summary");
  g_autofree char *summary_text = NULL;

  if (agl_ctl_get_boolean (occurrence, "exception", FALSE))
    /* TRANSLATORS: an occurrence of a series that was moved or changed on
     * its own, in "agendalinectl agenda occurrences" */
    summary_text = g_strdup_printf (_("%s (changed)"), summary != NULL ? summary : "");
  else
    summary_text = g_strdup (summary != NULL ? summary : "");

  add_appointment_row (table, occurrence, summary_text);
}

/* "agenda list" and "agenda occurrences" are one command but for these. */
typedef struct
{
  /* The help of --from and --to, marked with N_(). */
  const char      *from_help;
  const char      *to_help;
  const char      *summary;
  const char      *examples;
  /* Whether --from and --to must be given. */
  gboolean         range_required;
  /* The daemon's method: ListItems or ListOccurrences. */
  gboolean       (*call) (AglDaemon       *proxy,
                          const char      *from,
                          const char      *to,
                          const char      *account,
                          GDBusCallFlags   call_flags,
                          int              timeout_msec,
                          GVariant       **out_appointments,
                          GCancellable    *cancellable,
                          GError         **error);
  AglCtlJsonFunc   appointment_json;
  AglCtlRowFunc    add_row;
} AppointmentListing;

/* Prints what ListItems or ListOccurrences answered: a JSON array of what
 * @appointment_json makes of each, or a table of @add_row's rows. */
static void
print_appointments (AglCtl         *ctl,
                    GVariant       *appointments,
                    AglCtlJsonFunc  appointment_json,
                    AglCtlRowFunc   add_row)
{
  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_array_from_list (appointments, appointment_json);

      agl_ctl_print_json (root, TRUE);
    }
  else
    {
      /* TRANSLATORS: column headers of "agendalinectl agenda list" and
       * "agendalinectl agenda occurrences" */
      g_autoptr(AglCtlTable) table = agl_ctl_table_new (5, _("ID"), _("START"), _("END"),
                                                        _("ACCOUNT"), _("SUMMARY"));

      agl_ctl_table_add_rows (table, appointments, add_row);
      if (agl_ctl_table_get_n_rows (table) == 0)
        g_print ("%s\n", _("No appointments."));
      else
        agl_ctl_table_print (table);
    }
}

/* Runs "agenda list" or "agenda occurrences", as @listing says. */
static int
list_appointments (AglCtl                   *ctl,
                   int                       argc,
                   char                    **argv,
                   const AppointmentListing *listing)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) appointments = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autofree char *account = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, listing->from_help, N_("TIME") },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, listing->to_help, N_("TIME") },
    { "account", 0, 0, G_OPTION_ARG_STRING, &account,
      N_("Only the appointments of account NAME"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL, listing->summary, listing->examples, entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;
  /* Refused here rather than by the daemon, so that the message names
   * the option. */
  if (listing->range_required && (from == NULL || to == NULL))
    return agl_ctl_usage_error (ctl, _("Missing --%s: occurrences are listed between --from and --to, at most 366 days apart"),
                                from == NULL ? "from" : "to");

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!listing->call (daemon,
                      from != NULL ? from : "",
                      to != NULL ? to : "",
                      account != NULL ? account : "",
                      G_DBUS_CALL_FLAGS_NONE, -1, &appointments, NULL, &error))
    return agl_ctl_fail (ctl, error);

  print_appointments (ctl, appointments, listing->appointment_json, listing->add_row);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_agenda_list:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "list [--from TIME] [--to TIME] [--account NAME] [--json]"
 *
 * Lists the appointments in a range, sorted by start, as a table with local
 * times or as a JSON array with the times as the daemon gives them.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_list (AglCtl *ctl,
                     int     argc,
                     char  **argv)
{
  const AppointmentListing listing = {
    .from_help = N_("Only appointments that end after TIME (ISO 8601)"),
    .to_help = N_("Only appointments that start before TIME (ISO 8601)"),
    .summary = _("List the appointments whose time overlaps the range, sorted by start."),
    .examples = _("Examples:\n"
                  "  agendalinectl agenda list\n"
                  "  agendalinectl agenda list --from 2026-11-23T00:00:00+01:00 --to 2026-11-24T00:00:00+01:00\n"
                  "  agendalinectl agenda list --account work --json"),
    .range_required = FALSE,
    .call = agl_daemon_call_list_items_sync,
    .appointment_json = item_json,
    .add_row = add_item_row,
  };

  return list_appointments (ctl, argc, argv, &listing);
}

/**
 * agl_ctl_agenda_occurrences:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "occurrences --from TIME --to TIME [--account NAME] [--json]"
 *
 * Lists every occurrence in a range, a repeating appointment once per
 * occurrence, sorted by start, as a table with local times or as a JSON
 * array with the times as the daemon gives them.  The daemon works the
 * occurrences out; the range is required, as an endless series has no
 * last one.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_occurrences (AglCtl *ctl,
                            int     argc,
                            char  **argv)
{
  const AppointmentListing listing = {
    .from_help = N_("The start of the range (ISO 8601); required"),
    .to_help = N_("The end of the range (ISO 8601), at most 366 days after --from; required"),
    .summary = _("List every occurrence in the range, sorted by start: a repeating appointment once for each time it takes place, moved and changed occurrences where they are now, cancelled ones left out."),
    .examples = _("Examples:\n"
                  "  agendalinectl agenda occurrences --from 2026-11-23 --to 2026-11-30\n"
                  "  agendalinectl agenda occurrences --from 2026-11-23T00:00:00+01:00 --to 2026-12-01T00:00:00+01:00 --account work --json"),
    .range_required = TRUE,
    .call = agl_daemon_call_list_occurrences_sync,
    .appointment_json = occurrence_json,
    .add_row = add_occurrence_row,
  };

  return list_appointments (ctl, argc, argv, &listing);
}

/**
 * agl_ctl_agenda_add:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "add [--account NAME] FILE|-"
 *
 * Adds the appointment in FILE (or standard input) and prints its id.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_add (AglCtl *ctl,
                    int     argc,
                    char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *ical = NULL;
  AglDaemon *daemon;
  gint64 id = 0;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account,
      N_("Add to the agenda of account NAME (default: the local-only agenda)"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print the id as a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("FILE|-"),
                                        _("Add the appointment in FILE, an iCalendar VEVENT (with its exceptions and time zones), and print its id.  “-” reads standard input."),
                                        _("Examples:\n"
                                          "  agendalinectl agenda add meeting.ics\n"
                                          "  agendalinectl agenda add --account work - < meeting.ics"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1,
                                 _("Missing the iCalendar file (or “-” for standard input)")))
    return AGL_CTL_EXIT_USAGE;

  ical = agl_ctl_read_text (argv[1], &error);
  if (ical == NULL)
    return agl_ctl_fail (ctl, error);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_create_item_sync (daemon, account != NULL ? account : "", ical,
                                         G_DBUS_CALL_FLAGS_NONE, -1, &id, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_take_object (json_object_new ());

      json_object_set_int_member (json_node_get_object (root), "id", id);
      agl_ctl_print_json (root, TRUE);
    }
  else
    g_print ("%" G_GINT64_FORMAT "\n", id);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_agenda_update:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "update ID FILE|-"
 *
 * Replaces appointment ID with the iCalendar text in FILE.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_update (AglCtl *ctl,
                       int     argc,
                       char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ical = NULL;
  AglDaemon *daemon;
  gint64 id = 0;

  context = agl_ctl_option_context_new (ctl, _("ID FILE|-"),
                                        _("Replace appointment ID with the iCalendar text in FILE; its UID must stay the same.  “-” reads standard input."),
                                        _("Example:\n  agendalinectl agenda update 12 meeting.ics"),
                                        NULL);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!expect_id_argument (ctl, argc, argv, 2, &id))
    return AGL_CTL_EXIT_USAGE;
  if (argc < 3)
    return agl_ctl_usage_error (ctl, _("Missing the iCalendar file (or “-” for standard input)"));

  ical = agl_ctl_read_text (argv[2], &error);
  if (ical == NULL)
    return agl_ctl_fail (ctl, error);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_update_item_sync (daemon, id, ical, G_DBUS_CALL_FLAGS_NONE, -1,
                                         NULL, &error))
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_agenda_remove:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "remove ID"
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_remove (AglCtl *ctl,
                       int     argc,
                       char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  gint64 id = 0;

  context = agl_ctl_option_context_new (ctl, _("ID"), _("Remove appointment ID."),
                                        _("Example:\n  agendalinectl agenda remove 12"), NULL);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!expect_id_argument (ctl, argc, argv, 1, &id))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_delete_item_sync (daemon, id, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_agenda_import:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "import [--account NAME] [--json] FILE"
 *
 * Imports a whole iCalendar file, all or nothing, and says how many
 * appointments were added and how many replaced.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_import (AglCtl *ctl,
                       int     argc,
                       char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) created = NULL;
  g_autoptr(GVariant) updated = NULL;
  g_autofree char *account = NULL;
  g_autofree char *ics = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account,
      N_("Import into the agenda of account NAME (default: the local-only agenda)"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
      N_("Print the ids created and updated as a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("FILE|-"),
                                        _("Import every appointment of an iCalendar file; appointments whose UID is already in the agenda are replaced.  One bad appointment refuses the whole file."),
                                        _("Examples:\n"
                                          "  agendalinectl agenda import holidays.ics\n"
                                          "  agendalinectl agenda import --account work --json export.ics"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1,
                                 _("Missing the iCalendar file (or “-” for standard input)")))
    return AGL_CTL_EXIT_USAGE;

  ics = agl_ctl_read_text (argv[1], &error);
  if (ics == NULL)
    return agl_ctl_fail (ctl, error);

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_import_calendar_sync (daemon, account != NULL ? account : "", ics,
                                             G_DBUS_CALL_FLAGS_NONE, AGL_CTL_IMPORT_TIMEOUT_MSEC,
                                             &created, &updated, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = agl_ctl_json_take_object (json_object_new ());
      JsonObject *object = json_node_get_object (root);

      json_object_set_member (object, "created", ids_json (created));
      json_object_set_member (object, "updated", ids_json (updated));
      agl_ctl_print_json (root, TRUE);
    }
  else
    {
      /* Plain %u: gettext cannot see through G_GSIZE_FORMAT in a msgid. */
      guint n_created = (guint) g_variant_n_children (created);
      guint n_updated = (guint) g_variant_n_children (updated);
      guint total = n_created + n_updated;

      g_print (ngettext ("Imported %u appointment (%u new, %u updated).",
                         "Imported %u appointments (%u new, %u updated).",
                         total),
               total, n_created, n_updated);
      g_print ("\n");
    }
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_agenda_export:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "export [--account NAME] [FILE]"
 *
 * Writes the appointments as one iCalendar file to FILE (replaced
 * atomically, so that a failed export never leaves half a calendar) or to
 * standard output.
 *
 * Returns: the exit status
 */
int
agl_ctl_agenda_export (AglCtl *ctl,
                       int     argc,
                       char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *account = NULL;
  g_autofree char *ics = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account,
      N_("Only the appointments of account NAME (default: all)"), N_("NAME") },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("[FILE]"),
                                        _("Export the appointments as one iCalendar file to FILE, or to standard output."),
                                        _("Examples:\n"
                                          "  agendalinectl agenda export backup.ics\n"
                                          "  agendalinectl agenda export --account work > work.ics"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 1, NULL))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_export_calendar_sync (daemon, account != NULL ? account : "",
                                             G_DBUS_CALL_FLAGS_NONE, AGL_CTL_IMPORT_TIMEOUT_MSEC,
                                             &ics, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (argc == 2 && strcmp (argv[1], "-") != 0)
    {
      if (!g_file_set_contents (argv[1], ics, -1, &error))
        {
          g_autofree char *display_name = g_filename_display_name (argv[1]);

          g_prefix_error (&error, _("cannot write “%s”: "), display_name);
          return agl_ctl_fail (ctl, error);
        }
    }
  else
    fputs (ics, stdout);
  return AGL_CTL_EXIT_SUCCESS;
}
