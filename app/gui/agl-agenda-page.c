/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-agenda-page"

#include <stdio.h>

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-agenda-page.h"
#include "agl-appointment-editor.h"
#include "agl-window.h"

/*
 * Agenda: the local appointments of one week, day by day, of every
 * account; each opens in the appointment editor, which also creates and
 * deletes them.  Above the week, the chosen account's conflicts (the
 * versions that lost a sync conflict), each of which can be restored.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

/* One appointment's time in the week shown: a single event, or one
 * occurrence of a recurring series as the daemon expanded it. */
typedef struct {
  gint64     id;
  GDateTime *start;   /* local */
  GDateTime *end;     /* local, exclusive */
  gboolean   all_day;
  gboolean   recurring;
  char      *summary;
  char      *account;
  char      *busy_status;
} AglOccurrence;

struct _AglAgendaPage
{
  AglPage              parent_instance;

  AglDaemon           *proxy;      /* whose ConnectionChanged is connected */

  GDateTime           *week_start; /* local Monday 00:00 */
  gboolean             clock_12h;

  /* A newer refresh cancels the older one, so answers cannot land out of
   * order; dispose cancels them all. */
  GCancellable        *agenda_cancellable;
  GCancellable        *conflicts_cancellable;
  GCancellable        *cancellable;

  GtkLabel            *week_label;
  GtkSpinner          *spinner;
  GtkScrolledWindow   *scroller;
  AdwPreferencesGroup *conflicts_group;
  GtkLabel            *error_label;
  GtkBox              *days_box;
  GtkWidget           *this_week_button;
  GtkWidget           *new_button;
  GPtrArray           *conflict_rows;   /* the rows in conflicts_group */
};

G_DEFINE_FINAL_TYPE (AglAgendaPage, agl_agenda_page, AGL_TYPE_PAGE)

static gboolean
daemon_ready (AglAgendaPage *self)
{
  AglDaemonClient *client = agl_page_get_client (AGL_PAGE (self));

  return client != NULL && agl_daemon_client_get_status (client) == AGL_DAEMON_CLIENT_READY;
}

static const char *
lookup_string (GVariant   *dict,
               const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

static gboolean
lookup_boolean (GVariant   *dict,
                const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (dict, key, "b", &value);
  return value;
}

static void
show_toast (AglAgendaPage *self,
            const char    *message)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), AGL_TYPE_WINDOW);

  if (window != NULL)
    agl_window_show_error (AGL_WINDOW (window), message);
}

/* Occurrences */

static void
occurrence_free (AglOccurrence *occurrence)
{
  g_date_time_unref (occurrence->start);
  g_date_time_unref (occurrence->end);
  g_free (occurrence->summary);
  g_free (occurrence->account);
  g_free (occurrence->busy_status);
  g_free (occurrence);
}

static GDateTime *
parse_item_time (const char *text,
                 gboolean    all_day)
{
  g_autoptr(GDateTime) instant = NULL;
  int year, month, day;

  /* A date names a day wherever the user is, not an instant. */
  if (all_day)
    {
      if (sscanf (text, "%4d-%2d-%2d", &year, &month, &day) != 3)
        return NULL;
      return g_date_time_new_local (year, month, day, 0, 0, 0);
    }

  instant = g_date_time_new_from_iso8601 (text, NULL);
  return instant != NULL ? g_date_time_to_local (instant) : NULL;
}

static AglOccurrence *
occurrence_new (GVariant *listed)
{
  gboolean all_day = lookup_boolean (listed, "all-day");
  GDateTime *start = parse_item_time (lookup_string (listed, "start"), all_day);
  GDateTime *end = parse_item_time (lookup_string (listed, "end"), all_day);
  AglOccurrence *occurrence;

  if (start == NULL)
    {
      g_clear_pointer (&end, g_date_time_unref);
      return NULL;
    }

  /* An end that cannot be read counts as none: an all-day event then
   * lasts its day and a timed one no time (RFC 5545, 3.6.1). */
  if (end == NULL || g_date_time_compare (end, start) < 0)
    {
      g_clear_pointer (&end, g_date_time_unref);
      end = all_day ? g_date_time_add_days (start, 1) : g_date_time_ref (start);
    }

  occurrence = g_new0 (AglOccurrence, 1);
  g_variant_lookup (listed, "id", "x", &occurrence->id);
  occurrence->start = start;
  occurrence->end = end;
  occurrence->all_day = all_day;
  occurrence->recurring = *lookup_string (listed, "recurrence-id") != '\0';
  occurrence->summary = g_strdup (lookup_string (listed, "summary"));
  occurrence->account = g_strdup (lookup_string (listed, "account"));
  occurrence->busy_status = g_strdup (lookup_string (listed, "busy-status"));
  return occurrence;
}

static int
compare_occurrences (gconstpointer a,
                     gconstpointer b)
{
  const AglOccurrence *occurrence_a = *(AglOccurrence **) a;
  const AglOccurrence *occurrence_b = *(AglOccurrence **) b;
  int order = g_date_time_compare (occurrence_a->start, occurrence_b->start);

  if (order != 0)
    return order;
  if (occurrence_a->all_day != occurrence_b->all_day)
    return occurrence_a->all_day ? -1 : 1;
  return g_utf8_collate (occurrence_a->summary, occurrence_b->summary);
}

static GPtrArray *
collect_occurrences (GVariant *listed)
{
  GPtrArray *occurrences = g_ptr_array_new_with_free_func ((GDestroyNotify) occurrence_free);
  gsize n_listed = g_variant_n_children (listed);

  for (gsize i = 0; i < n_listed; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (listed, i);
      AglOccurrence *occurrence = occurrence_new (child);

      if (occurrence != NULL)
        g_ptr_array_add (occurrences, occurrence);
    }

  /* The daemon sorts by start only; within a start, all-day first and
   * then by summary, so that the order does not change between refreshes. */
  g_ptr_array_sort (occurrences, compare_occurrences);
  return occurrences;
}

/* The week */

static char *
format_clock (AglAgendaPage *self,
              GDateTime     *time)
{
  if (self->clock_12h)
    /* Translators: a time of day on the 12-hour clock, see g_date_time_format() */
    return g_date_time_format (time, _("%-l:%M %p"));
  /* Translators: a time of day on the 24-hour clock, see g_date_time_format() */
  return g_date_time_format (time, _("%H:%M"));
}

static char *
describe_time (AglAgendaPage       *self,
               const AglOccurrence *occurrence,
               GDateTime           *day_start,
               GDateTime           *day_end)
{
  gboolean from_before = g_date_time_compare (occurrence->start, day_start) < 0;
  gboolean until_after = g_date_time_compare (occurrence->end, day_end) >= 0;
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  if (occurrence->all_day || (from_before && until_after))
    return g_strdup (_("All day"));

  start = format_clock (self, occurrence->start);
  end = format_clock (self, occurrence->end);
  if (from_before)
    /* Translators: an appointment that began on an earlier day */
    return g_strdup_printf (_("Until %s"), end);
  if (until_after)
    /* Translators: an appointment that goes on past midnight */
    return g_strdup_printf (_("From %s"), start);
  if (g_date_time_equal (occurrence->start, occurrence->end))
    return g_steal_pointer (&start);
  /* Translators: a range of times, e.g. “09:00 – 10:30” */
  return g_strdup_printf (_("%s – %s"), start, end);
}

static const char *
describe_busy_status (const char *status)
{
  if (g_ascii_strcasecmp (status, "FREE") == 0)
    return _("Free");
  if (g_ascii_strcasecmp (status, "TENTATIVE") == 0)
    return _("Tentative");
  if (g_ascii_strcasecmp (status, "OOF") == 0)
    return _("Out of office");
  if (g_ascii_strcasecmp (status, "WORKINGELSEWHERE") == 0)
    return _("Working elsewhere");
  /* BUSY, and what an appointment without a status counts as. */
  return _("Busy");
}

static gboolean
occurs_on (const AglOccurrence *occurrence,
           GDateTime           *day_start,
           GDateTime           *day_end)
{
  /* An appointment of no length is on the day of its start. */
  if (g_date_time_equal (occurrence->start, occurrence->end))
    return g_date_time_compare (occurrence->start, day_start) >= 0 &&
           g_date_time_compare (occurrence->start, day_end) < 0;

  return g_date_time_compare (occurrence->start, day_end) < 0 &&
         g_date_time_compare (occurrence->end, day_start) > 0;
}

static void
open_editor (AglAgendaPage        *self,
             AglAppointmentEditor *editor)
{
  gtk_window_present (GTK_WINDOW (editor));
}

static void
occurrence_row_activated_cb (AdwActionRow  *row,
                             AglAgendaPage *self)
{
  gint64 *id = g_object_get_data (G_OBJECT (row), "agl-id");
  gboolean recurring = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "agl-recurring"));
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  open_editor (self, agl_appointment_editor_new_edit (GTK_WINDOW (root),
                                                      agl_page_get_client (AGL_PAGE (self)),
                                                      *id, recurring));
}

static GtkWidget *
create_occurrence_row (AglAgendaPage       *self,
                       const AglOccurrence *occurrence,
                       GDateTime           *day_start,
                       GDateTime           *day_end)
{
  g_autofree char *time = describe_time (self, occurrence, day_start, day_end);
  g_autofree char *subtitle = NULL;
  GtkWidget *row;
  GtkWidget *label;
  gint64 *id;

  row = adw_action_row_new ();
  /* Summaries and account names are the user's text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 *occurrence->summary != '\0' ? occurrence->summary
                                                              : _("Untitled appointment"));
  /* Translators: an appointment's free/busy status and its account, e.g. “Busy · Work” */
  subtitle = g_strdup_printf (_("%s · %s"), describe_busy_status (occurrence->busy_status),
                              *occurrence->account != '\0' ? occurrence->account
                                                           : _("Local agenda"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  label = gtk_label_new (time);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_width_chars (GTK_LABEL (label), 13);
  gtk_widget_add_css_class (label, "numeric");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), label);

  if (occurrence->recurring)
    {
      GtkWidget *icon = gtk_image_new_from_icon_name ("media-playlist-repeat-symbolic");

      gtk_widget_set_tooltip_text (icon, _("Recurring"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Recurring"), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), icon);
    }
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));

  /* The time is part of what the row is, for a screen reader too. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, time, -1);

  id = g_new (gint64, 1);
  *id = occurrence->id;
  g_object_set_data_full (G_OBJECT (row), "agl-id", id, g_free);
  g_object_set_data (G_OBJECT (row), "agl-recurring", GINT_TO_POINTER (occurrence->recurring));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_signal_connect (row, "activated", G_CALLBACK (occurrence_row_activated_cb), self);
  return row;
}

static void
remove_children (GtkBox *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))) != NULL)
    gtk_box_remove (box, child);
}

static void
show_week (AglAgendaPage *self,
           GPtrArray     *occurrences)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  remove_children (self->days_box);

  for (int day = 0; day < 7; day++)
    {
      g_autoptr(GDateTime) day_start = g_date_time_add_days (self->week_start, day);
      g_autoptr(GDateTime) day_end = g_date_time_add_days (self->week_start, day + 1);
      /* Translators: a day's heading in the agenda, see g_date_time_format() */
      g_autofree char *title = g_date_time_format (day_start, _("%A %-d %B"));
      g_autofree char *escaped = g_markup_escape_text (title, -1);
      gboolean today = g_date_time_compare (now, day_start) >= 0 &&
                       g_date_time_compare (now, day_end) < 0;
      GtkWidget *group = adw_preferences_group_new ();
      guint n = 0;

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), escaped);
      gtk_accessible_update_property (GTK_ACCESSIBLE (group),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);

      if (occurrences != NULL)
        for (guint i = 0; i < occurrences->len; i++)
          {
            const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);

            if (!occurs_on (occurrence, day_start, day_end))
              continue;
            adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                       create_occurrence_row (self, occurrence, day_start, day_end));
            n++;
          }

      if (today && n == 0)
        adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                               _("Today · No appointments"));
      else if (today)
        adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), _("Today"));
      else if (n == 0)
        adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                               _("No appointments"));
      gtk_box_append (self->days_box, group);
    }
}

static void
list_occurrences_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  AglAgendaPage *self = user_data;
  g_autoptr(GVariant) listed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) occurrences = NULL;

  listed = agl_daemon_client_list_occurrences_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (listed == NULL)
    {
      /* Cancelled by a newer refresh or by dispose, when self may be gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_spinner_stop (self->spinner);
      gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
      /* What is listed belongs to another week or an older agenda. */
      show_week (self, NULL);
      gtk_label_set_text (self->error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }

  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  occurrences = collect_occurrences (listed);
  show_week (self, occurrences);
}

static void
refresh_agenda (AglAgendaPage *self)
{
  g_autoptr(GDateTime) week_end = g_date_time_add_weeks (self->week_start, 1);

  if (!daemon_ready (self))
    return;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  agl_daemon_client_list_occurrences_async (agl_page_get_client (AGL_PAGE (self)),
                                            self->week_start, week_end,
                                            agl_cancellable_restart (&self->agenda_cancellable),
                                            list_occurrences_cb, self);
}

static GDateTime *
this_week_start (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) today = NULL;

  today = g_date_time_new_local (g_date_time_get_year (now),
                                 g_date_time_get_month (now),
                                 g_date_time_get_day_of_month (now),
                                 0, 0, 0);
  return g_date_time_add_days (today, 1 - g_date_time_get_day_of_week (today));
}

/* Takes @week_start. */
static void
set_week (AglAgendaPage *self,
          GDateTime     *week_start)
{
  g_autoptr(GDateTime) current = this_week_start ();
  g_autoptr(GDateTime) sunday = g_date_time_add_days (week_start, 6);
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  g_autofree char *label = NULL;

  g_clear_pointer (&self->week_start, g_date_time_unref);
  self->week_start = week_start;

  /* Translators: the first day of the week shown, see g_date_time_format() */
  first = g_date_time_format (week_start, _("%-d %B"));
  /* Translators: the last day of the week shown, see g_date_time_format() */
  last = g_date_time_format (sunday, _("%-d %B %Y"));
  /* Translators: the week shown, e.g. “23 November – 29 November 2026” */
  label = g_strdup_printf (_("%s – %s"), first, last);
  gtk_label_set_text (self->week_label, label);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "agenda.this-week",
                                 !g_date_time_equal (current, week_start));
}

/* Takes @week_start. */
static void
go_to_week (AglAgendaPage *self,
            GDateTime     *week_start)
{
  set_week (self, week_start);
  refresh_agenda (self);
}

/* Conflicts */

typedef struct {
  AglAgendaPage *self;
  GtkWidget     *button;
} AglRestoreCall;

static void
restore_conflict_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  AglRestoreCall *call = user_data;
  g_autoptr(GError) error = NULL;
  gint64 item = 0;

  if (!agl_daemon_call_restore_conflict_finish (AGL_DAEMON (object), &item, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          agl_daemon_client_strip_error (error);
          gtk_widget_set_sensitive (call->button, TRUE);
          adw_preferences_group_set_description (call->self->conflicts_group, error->message);
          show_toast (call->self, error->message);
        }
    }
  else
    show_toast (call->self, _("Conflict restored"));
  g_object_unref (call->button);
  g_free (call);
}

static void
restore_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     GtkWidget        *button)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (gtk_widget_get_ancestor (button, AGL_TYPE_AGENDA_PAGE));
  gint64 *id = g_object_get_data (G_OBJECT (button), "agl-id");
  AglDaemon *proxy;
  AglRestoreCall *call;

  if (self == NULL || !g_str_equal (response, "restore"))
    return;
  proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));
  if (proxy == NULL)
    return;

  gtk_widget_set_sensitive (button, FALSE);
  call = g_new0 (AglRestoreCall, 1);
  call->self = self;
  call->button = g_object_ref (button);
  agl_daemon_call_restore_conflict (proxy, *id, G_DBUS_CALL_FLAGS_NONE, -1,
                                    self->cancellable, restore_conflict_cb, call);
}

static void
restore_clicked_cb (GtkButton     *button,
                    AglAgendaPage *self)
{
  const char *summary = g_object_get_data (G_OBJECT (button), "agl-summary");
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  /* Translators: the question before restoring a conflict's version */
  heading = g_strdup_printf (_("Restore “%s”?"), summary);
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   heading,
                                   _("This version becomes the account’s appointment again: it "
                                     "replaces the current version with the same UID (or is "
                                     "added when there is none) and is sent to Exchange like any "
                                     "local change. The conflict record is removed."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "restore", _("_Restore"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "restore",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "restore");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (restore_response_cb), button, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static GtkWidget *
create_conflict_row (AglAgendaPage *self,
                     GVariant      *conflict)
{
  const char *summary = lookup_string (conflict, "summary");
  const char *shown = *summary != '\0' ? summary : _("Untitled appointment");
  g_autoptr(GDateTime) created = g_date_time_new_from_iso8601 (lookup_string (conflict, "created"), NULL);
  g_autofree char *when = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *name = NULL;
  GtkWidget *row;
  GtkWidget *button;
  gint64 *id = g_new0 (gint64, 1);

  if (created != NULL)
    {
      g_autoptr(GDateTime) local = g_date_time_to_local (created);

      when = g_date_time_format (local, "%c");
    }
  else
    when = g_strdup (lookup_string (conflict, "created"));

  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), shown);
  /* Translators: a conflict's reason and when it was settled */
  subtitle = g_strdup_printf (_("%s\nSettled %s"), lookup_string (conflict, "reason"), when);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  /* The label is the button's child rather than its "label": GTK would
   * add the visible word to the accessible name set below. */
  button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (button), gtk_label_new (_("Restore")));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  /* Translators: the accessible name of a conflict's Restore button */
  name = g_strdup_printf (_("Restore conflict %s"), shown);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  g_variant_lookup (conflict, "id", "x", id);
  g_object_set_data_full (G_OBJECT (button), "agl-id", id, g_free);
  g_object_set_data_full (G_OBJECT (button), "agl-summary", g_strdup (shown), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (restore_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  return row;
}

static void
list_conflicts_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  AglAgendaPage *self = user_data;
  g_autoptr(GVariant) conflicts = NULL;
  g_autoptr(GError) error = NULL;
  gsize n;

  if (!agl_daemon_call_list_conflicts_finish (AGL_DAEMON (object), &conflicts, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      agl_daemon_client_strip_error (error);
      show_toast (self, error->message);
      return;
    }

  for (guint i = 0; i < self->conflict_rows->len; i++)
    adw_preferences_group_remove (self->conflicts_group, g_ptr_array_index (self->conflict_rows, i));
  g_ptr_array_set_size (self->conflict_rows, 0);
  adw_preferences_group_set_description (self->conflicts_group,
                                         _("The versions of appointments that lost when both "
                                           "sides had changed them. Restore one to make it the "
                                           "appointment again."));

  n = g_variant_n_children (conflicts);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) conflict = g_variant_get_child_value (conflicts, i);
      GtkWidget *row = create_conflict_row (self, conflict);

      adw_preferences_group_add (self->conflicts_group, row);
      g_ptr_array_add (self->conflict_rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->conflicts_group), n > 0);
}

static void
refresh_conflicts (AglAgendaPage *self)
{
  AglDaemon *proxy;

  if (!daemon_ready (self) ||
      (proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)))) == NULL)
    return;
  if (agl_page_get_account (AGL_PAGE (self)) == NULL)
    {
      g_cancellable_cancel (self->conflicts_cancellable);
      gtk_widget_set_visible (GTK_WIDGET (self->conflicts_group), FALSE);
      return;
    }
  agl_daemon_call_list_conflicts (proxy, agl_page_get_account (AGL_PAGE (self)),
                                  G_DBUS_CALL_FLAGS_NONE, -1,
                                  agl_cancellable_restart (&self->conflicts_cancellable),
                                  list_conflicts_cb, self);
}

/* The daemon comes and goes */

static void
connection_changed_cb (AglDaemon  *proxy,
                       const char *name,
                       gpointer    user_data)
{
  AglAgendaPage *self = user_data;

  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
    refresh_conflicts (self);
}

static void
connect_proxy (AglAgendaPage *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (proxy == self->proxy)
    return;
  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_set_object (&self->proxy, proxy);
  if (proxy != NULL)
    g_signal_connect (proxy, "connection-changed", G_CALLBACK (connection_changed_cb), self);
}

static void
agl_agenda_page_client_ready (AglPage *page)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (page);

  connect_proxy (self);
  refresh_agenda (self);
  refresh_conflicts (self);
}

static void
client_agenda_changed_cb (AglAgendaPage *self,
                          const char    *account)
{
  refresh_agenda (self);
  refresh_conflicts (self);
}

static void
agl_agenda_page_client_changed (AglPage *page)
{
  AglDaemonClient *client = agl_page_get_client (page);

  g_signal_connect_swapped (client, "agenda-changed",
                            G_CALLBACK (client_agenda_changed_cb), page);
  /* A removed account takes its appointments and conflicts with it. */
  g_signal_connect_swapped (client, "accounts-changed",
                            G_CALLBACK (client_agenda_changed_cb), page);
}

static void
agl_agenda_page_account_changed (AglPage *page)
{
  refresh_conflicts (AGL_AGENDA_PAGE (page));
}

/* Actions */

static void
previous_week_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (widget);

  go_to_week (self, g_date_time_add_weeks (self->week_start, -1));
}

static void
next_week_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (widget);

  go_to_week (self, g_date_time_add_weeks (self->week_start, 1));
}

static void
this_week_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  go_to_week (AGL_AGENDA_PAGE (widget), this_week_start ());
}

static void
new_appointment_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (widget);
  const char *account = agl_page_get_account (AGL_PAGE (self));
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) week_end = g_date_time_add_weeks (self->week_start, 1);
  g_autoptr(GDateTime) start = NULL;

  if (agl_page_get_client (AGL_PAGE (self)) == NULL)
    return;

  /* The next full hour in the week shown, or its Monday morning. */
  if (g_date_time_compare (now, self->week_start) >= 0 && g_date_time_compare (now, week_end) < 0)
    {
      g_autoptr(GDateTime) hour = g_date_time_new_local (g_date_time_get_year (now),
                                                          g_date_time_get_month (now),
                                                          g_date_time_get_day_of_month (now),
                                                          g_date_time_get_hour (now), 0, 0);

      start = g_date_time_add_hours (hour, 1);
    }
  else
    start = g_date_time_add_hours (self->week_start, 9);

  open_editor (self, agl_appointment_editor_new_create (GTK_WINDOW (gtk_widget_get_root (widget)),
                                                        agl_page_get_client (AGL_PAGE (self)),
                                                        account != NULL ? account : "",
                                                        start));
}

/* GObject */

static gboolean
read_clock_12h (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *format = NULL;

  /* GNOME's clock setting, where there is one; 24-hour otherwise. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "org.gnome.desktop.interface", TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, "clock-format"))
    return FALSE;

  settings = g_settings_new_full (schema, NULL, NULL);
  format = g_settings_get_string (settings, "clock-format");
  return g_str_equal (format, "12h");
}

static void
agl_agenda_page_dispose (GObject *object)
{
  AglAgendaPage *self = AGL_AGENDA_PAGE (object);

  g_cancellable_cancel (self->agenda_cancellable);
  g_cancellable_cancel (self->conflicts_cancellable);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->agenda_cancellable);
  g_clear_object (&self->conflicts_cancellable);
  g_clear_object (&self->cancellable);

  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->week_start, g_date_time_unref);
  g_clear_pointer (&self->conflict_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (agl_agenda_page_parent_class)->dispose (object);
}

static void
agl_agenda_page_class_init (AglAgendaPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_agenda_page_dispose;
  page_class->client_changed = agl_agenda_page_client_changed;
  page_class->client_ready = agl_agenda_page_client_ready;
  page_class->account_changed = agl_agenda_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-agenda-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, week_label);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, scroller);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, conflicts_group);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, days_box);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, this_week_button);
  gtk_widget_class_bind_template_child (widget_class, AglAgendaPage, new_button);

  gtk_widget_class_install_action (widget_class, "agenda.previous-week", NULL, previous_week_action);
  gtk_widget_class_install_action (widget_class, "agenda.next-week", NULL, next_week_action);
  gtk_widget_class_install_action (widget_class, "agenda.this-week", NULL, this_week_action);
  gtk_widget_class_install_action (widget_class, "agenda.new-appointment", NULL,
                                   new_appointment_action);
}

static void
agl_agenda_page_init (AglAgendaPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->conflict_rows = g_ptr_array_new ();
  self->clock_12h = read_clock_12h ();
  set_week (self, this_week_start ());
  show_week (self, NULL);
}
