/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-appointment-editor"

#include <string.h>

#include <glib/gi18n.h>

#include "agl-accessible.h"
#include "agl-appointment-editor.h"

/*
 * The dialog that creates, edits and deletes one appointment.  The daemon
 * speaks iCalendar; the app does not link libical, so the text is edited
 * here line by line: only the properties of the main VEVENT that the
 * dialog shows are rewritten, and only when the user changed them, so that
 * everything else (RRULE, EXDATE, exceptions, alarms, attendees, time
 * zones, X- properties) goes back to the daemon as it came.
 */

/* The "Show as" choices, in the order of the combo row's model, as
 * X-MICROSOFT-CDO-BUSYSTATUS writes them (see daemon/agl-rules-input.c). */
static const char * const busy_statuses[] = {
  "FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE",
};
#define BUSY_INDEX 2

/* What the fields held when the dialog opened, to tell what changed. */
typedef struct {
  char      *summary;
  char      *location;
  char      *description;
  guint      busy;
  gboolean   is_private;
  gboolean   all_day;
  GDateTime *start;   /* local; for all-day, midnight of the first day */
  GDateTime *end;     /* local; for all-day, midnight of the last day (inclusive) */
} AglFields;

struct _AglAppointmentEditor
{
  AdwWindow         parent_instance;

  AglDaemonClient  *client;
  GCancellable     *cancellable;

  gint64            id;            /* 0 for a new appointment */
  char             *item_account;
  char             *ical;          /* the stored text, for an edit */
  gboolean          recurring;
  AglFields         original;
  gboolean          busy;
  gboolean          updating;      /* fields are being set by the code */
  GTimeSpan         duration;      /* kept when the start moves */
  GStrv             account_names; /* the Account row's entries; "" for local */
  GtkWidget        *saved_focus;   /* weak: the focus while busy */

  AdwWindowTitle   *window_title;
  GtkWidget        *cancel_button;
  GtkButton        *save_button;
  GtkSpinner       *busy_spinner;
  GtkStack         *stack;
  GtkScrolledWindow *scroller;
  GtkWidget        *form_box;
  GtkLabel         *error_label;
  GtkLabel         *series_label;
  AdwEntryRow      *subject_row;
  AdwEntryRow      *location_row;
  GtkSwitch        *all_day_switch;
  GtkMenuButton    *start_date_button;
  GtkCalendar      *start_calendar;
  GtkWidget        *start_time_box;
  GtkSpinButton    *start_hour;
  GtkSpinButton    *start_minute;
  GtkMenuButton    *end_date_button;
  GtkCalendar      *end_calendar;
  GtkWidget        *end_time_box;
  GtkSpinButton    *end_hour;
  GtkSpinButton    *end_minute;
  GtkLabel         *time_error_label;
  AdwComboRow      *show_as_row;
  GtkSwitch        *private_switch;
  AdwComboRow      *account_row;
  GtkTextView      *description_view;
  GtkWidget        *delete_button;
};

G_DEFINE_FINAL_TYPE (AglAppointmentEditor, agl_appointment_editor, ADW_TYPE_WINDOW)

/* iCalendar text, RFC 5545 */

/* The content lines of @text, each unfolded (3.1). */
static GPtrArray *
ical_unfold (const char *text)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) raw = g_strsplit (text, "\n", -1);

  for (guint i = 0; raw[i] != NULL; i++)
    {
      char *line = raw[i];
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      if ((line[0] == ' ' || line[0] == '\t') && lines->len > 0)
        {
          char **last = (char **) &lines->pdata[lines->len - 1];
          char *joined = g_strconcat (*last, line + 1, NULL);

          g_free (*last);
          *last = joined;
        }
      else if (len > 0)
        g_ptr_array_add (lines, g_strdup (line));
    }
  return lines;
}

/* Appends @line to @out folded at 75 octets, never inside a character. */
static void
ical_append_folded (GString    *out,
                    const char *line)
{
  gsize width = 0;

  for (const char *p = line; *p != '\0'; p = g_utf8_next_char (p))
    {
      gsize size = g_utf8_next_char (p) - p;

      if (width + size > 75)
        {
          g_string_append (out, "\r\n ");
          width = 1;
        }
      g_string_append_len (out, p, size);
      width += size;
    }
  g_string_append (out, "\r\n");
}

static char *
ical_join (GPtrArray *lines)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    ical_append_folded (out, g_ptr_array_index (lines, i));
  return g_string_free (out, FALSE);
}

/* Where the name and parameters of @line end: its first colon outside a
 * quoted parameter value. */
static const char *
ical_find_value (const char *line)
{
  gboolean quoted = FALSE;

  for (const char *p = line; *p != '\0'; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (*p == ':' && !quoted)
        return p;
    }
  return NULL;
}

static gboolean
ical_line_is (const char *line,
              const char *name)
{
  gsize len = strlen (name);

  return g_ascii_strncasecmp (line, name, len) == 0 && (line[len] == ':' || line[len] == ';');
}

static const char *
ical_value (const char *line)
{
  const char *colon = ical_find_value (line);

  return colon != NULL ? colon + 1 : "";
}

/* The value of parameter @name in @line, or NULL. */
static char *
ical_parameter (const char *line,
                const char *name)
{
  const char *colon = ical_find_value (line);
  g_autofree char *head = g_strndup (line, colon != NULL ? (gsize) (colon - line) : strlen (line));
  g_auto(GStrv) parts = g_strsplit (head, ";", -1);
  gsize len = strlen (name);

  /* A quoted value holding ';' is rare enough in TZID and VALUE. */
  for (guint i = 1; parts[i] != NULL; i++)
    if (g_ascii_strncasecmp (parts[i], name, len) == 0 && parts[i][len] == '=')
      {
        char *value = parts[i] + len + 1;
        gsize value_len = strlen (value);

        if (value_len >= 2 && value[0] == '"' && value[value_len - 1] == '"')
          return g_strndup (value + 1, value_len - 2);
        return g_strdup (value);
      }
  return NULL;
}

static char *
ical_unescape (const char *value)
{
  GString *out = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '\\' && p[1] != '\0')
        {
          p++;
          g_string_append_c (out, (*p == 'n' || *p == 'N') ? '\n' : *p);
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static char *
ical_escape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\': g_string_append (out, "\\\\"); break;
        case ';': g_string_append (out, "\\;"); break;
        case ',': g_string_append (out, "\\,"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': break;
        default: g_string_append_c (out, *p);
        }
    }
  return g_string_free (out, FALSE);
}

/* Finds the VEVENT the dialog edits: the one without RECURRENCE-ID (the
 * series or single appointment), else the first.  @begin and @end are the
 * indexes of its BEGIN and END lines. */
static gboolean
ical_find_event (GPtrArray *lines,
                 guint     *begin,
                 guint     *end)
{
  gboolean found = FALSE;

  for (guint i = 0; i < lines->len; i++)
    {
      guint depth = 0;
      gboolean exception = FALSE;
      guint j;

      if (g_ascii_strcasecmp (g_ptr_array_index (lines, i), "BEGIN:VEVENT") != 0)
        continue;

      for (j = i + 1; j < lines->len; j++)
        {
          const char *line = g_ptr_array_index (lines, j);

          if (g_ascii_strncasecmp (line, "BEGIN:", 6) == 0)
            depth++;
          else if (g_ascii_strncasecmp (line, "END:", 4) == 0)
            {
              if (depth == 0)
                break;
              depth--;
            }
          else if (depth == 0 && ical_line_is (line, "RECURRENCE-ID"))
            exception = TRUE;
        }
      if (j >= lines->len)
        break;

      if (!found || !exception)
        {
          *begin = i;
          *end = j;
          found = TRUE;
        }
      if (!exception)
        return TRUE;
      i = j;
    }
  return found;
}

/* The line of property @name of the event itself (not of an alarm inside
 * it), or NULL. */
static const char *
ical_get (GPtrArray  *lines,
          guint       begin,
          guint       end,
          const char *name)
{
  guint depth = 0;

  for (guint i = begin + 1; i < end; i++)
    {
      const char *line = g_ptr_array_index (lines, i);

      if (g_ascii_strncasecmp (line, "BEGIN:", 6) == 0)
        depth++;
      else if (g_ascii_strncasecmp (line, "END:", 4) == 0)
        depth--;
      else if (depth == 0 && ical_line_is (line, name))
        return line;
    }
  return NULL;
}

/* Replaces property @name of the event with @line (taken), or removes it
 * when @line is NULL. */
static void
ical_set (GPtrArray  *lines,
          guint       begin,
          guint      *end,
          const char *name,
          char       *line)
{
  guint depth = 0;

  for (guint i = begin + 1; i < *end;)
    {
      const char *current = g_ptr_array_index (lines, i);

      if (g_ascii_strncasecmp (current, "BEGIN:", 6) == 0)
        depth++;
      else if (g_ascii_strncasecmp (current, "END:", 4) == 0)
        depth--;
      else if (depth == 0 && ical_line_is (current, name))
        {
          g_ptr_array_remove_index (lines, i);
          (*end)--;
          continue;
        }
      i++;
    }

  if (line != NULL)
    {
      /* Before any alarm, with the event's other properties. */
      guint at = begin + 1;

      while (at < *end && g_ascii_strncasecmp (g_ptr_array_index (lines, at), "BEGIN:", 6) != 0)
        at++;
      g_ptr_array_insert (lines, at, line);
      (*end)++;
    }
}

static char *
ical_text_line (const char *name,
                const char *text)
{
  g_autofree char *escaped = NULL;

  if (*text == '\0')
    return NULL;
  escaped = ical_escape (text);
  return g_strconcat (name, ":", escaped, NULL);
}

/* A DTSTART or DTEND line for @time (local): a date for all-day events,
 * otherwise in the zone @tzid where GLib knows it (so that a series
 * keeps its wall-clock time across daylight saving), else in UTC. */
static char *
ical_time_line (const char *name,
                GDateTime  *time,
                gboolean    all_day,
                const char *tzid)
{
  g_autoptr(GTimeZone) zone = NULL;
  g_autofree char *text = NULL;

  if (all_day)
    {
      text = g_date_time_format (time, "%Y%m%d");
      return g_strdup_printf ("%s;VALUE=DATE:%s", name, text);
    }

  if (tzid != NULL)
    zone = g_time_zone_new_identifier (tzid);
  if (zone != NULL)
    {
      g_autoptr(GDateTime) zoned = g_date_time_to_timezone (time, zone);

      text = g_date_time_format (zoned, "%Y%m%dT%H%M%S");
      return g_strdup_printf ("%s;TZID=%s:%s", name, tzid, text);
    }
  else
    {
      g_autoptr(GDateTime) utc = g_date_time_to_utc (time);

      text = g_date_time_format (utc, "%Y%m%dT%H%M%SZ");
      return g_strdup_printf ("%s:%s", name, text);
    }
}

static guint
busy_index (const char *status)
{
  for (guint i = 0; i < G_N_ELEMENTS (busy_statuses); i++)
    if (g_ascii_strcasecmp (status, busy_statuses[i]) == 0)
      return i;
  return G_MAXUINT;
}

/* Helpers */

static void
fields_clear (AglFields *fields)
{
  g_clear_pointer (&fields->summary, g_free);
  g_clear_pointer (&fields->location, g_free);
  g_clear_pointer (&fields->description, g_free);
  g_clear_pointer (&fields->start, g_date_time_unref);
  g_clear_pointer (&fields->end, g_date_time_unref);
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

static void
show_error (AglAppointmentEditor *self,
            const char           *message)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);

  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  /* Where the user is looking after pressing Save: the top. */
  if (message != NULL)
    gtk_adjustment_set_value (adjustment, 0);
}

static void
set_busy (AglAppointmentEditor *self,
          gboolean              busy)
{
  /* The field with the focus gives it up first and gets it back after:
   * GTK 4.8 does not tell a text field that turns insensitive that it
   * lost the focus, and then warns when the field goes. */
  if (busy && !self->busy)
    {
      g_set_weak_pointer (&self->saved_focus, gtk_window_get_focus (GTK_WINDOW (self)));
      gtk_window_set_focus (GTK_WINDOW (self), NULL);
    }
  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->busy_spinner), busy);
  gtk_spinner_set_spinning (self->busy_spinner, busy);
  gtk_widget_set_sensitive (self->form_box, !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.delete", !busy && self->id != 0);
  if (!busy && self->saved_focus != NULL)
    {
      gtk_widget_grab_focus (self->saved_focus);
      g_clear_weak_pointer (&self->saved_focus);
    }
}

/* The time fields */

static GDateTime *
read_time (GtkCalendar   *calendar,
           GtkSpinButton *hour,
           GtkSpinButton *minute,
           gboolean       all_day)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (calendar);

  return g_date_time_new_local (g_date_time_get_year (date),
                                g_date_time_get_month (date),
                                g_date_time_get_day_of_month (date),
                                all_day ? 0 : gtk_spin_button_get_value_as_int (hour),
                                all_day ? 0 : gtk_spin_button_get_value_as_int (minute),
                                0);
}

static GDateTime *
read_start (AglAppointmentEditor *self)
{
  return read_time (self->start_calendar, self->start_hour, self->start_minute,
                    gtk_switch_get_active (self->all_day_switch));
}

static GDateTime *
read_end (AglAppointmentEditor *self)
{
  return read_time (self->end_calendar, self->end_hour, self->end_minute,
                    gtk_switch_get_active (self->all_day_switch));
}

static void
update_date_label (GtkMenuButton *button,
                   GtkCalendar   *calendar)
{
  g_autoptr(GDateTime) date = gtk_calendar_get_date (calendar);
  /* Translators: a date on the editor's date buttons, see g_date_time_format() */
  g_autofree char *label = g_date_time_format (date, _("%a %-d %b %Y"));

  gtk_menu_button_set_label (button, label);
}

static gboolean
times_valid (AglAppointmentEditor *self)
{
  g_autoptr(GDateTime) start = read_start (self);
  g_autoptr(GDateTime) end = read_end (self);

  /* An all-day appointment's last day may be its first. */
  if (gtk_switch_get_active (self->all_day_switch))
    return g_date_time_compare (end, start) >= 0;
  return g_date_time_compare (end, start) > 0;
}

static void
validate (AglAppointmentEditor *self)
{
  gboolean valid = times_valid (self);

  gtk_widget_set_visible (GTK_WIDGET (self->time_error_label), !valid);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", valid && !self->busy);
}

static void
write_time (AglAppointmentEditor *self,
            GtkCalendar          *calendar,
            GtkMenuButton        *button,
            GtkSpinButton        *hour,
            GtkSpinButton        *minute,
            GDateTime            *time)
{
  gboolean updating = self->updating;

  self->updating = TRUE;
  gtk_calendar_select_day (calendar, time);
  gtk_spin_button_set_value (hour, g_date_time_get_hour (time));
  gtk_spin_button_set_value (minute, g_date_time_get_minute (time));
  update_date_label (button, calendar);
  self->updating = updating;
}

static void
set_times (AglAppointmentEditor *self,
           GDateTime            *start,
           GDateTime            *end)
{
  write_time (self, self->start_calendar, self->start_date_button,
              self->start_hour, self->start_minute, start);
  write_time (self, self->end_calendar, self->end_date_button,
              self->end_hour, self->end_minute, end);
  self->duration = g_date_time_difference (end, start);
  validate (self);
}

static void
start_changed_cb (AglAppointmentEditor *self)
{
  g_autoptr(GDateTime) start = NULL;
  g_autoptr(GDateTime) end = NULL;

  update_date_label (self->start_date_button, self->start_calendar);
  if (self->updating)
    return;

  /* Moving the start moves the end with it, as calendars do. */
  start = read_start (self);
  end = g_date_time_add (start, self->duration);
  write_time (self, self->end_calendar, self->end_date_button,
              self->end_hour, self->end_minute, end);
  validate (self);
}

static void
end_changed_cb (AglAppointmentEditor *self)
{
  g_autoptr(GDateTime) start = NULL;
  g_autoptr(GDateTime) end = NULL;

  update_date_label (self->end_date_button, self->end_calendar);
  if (self->updating)
    return;

  start = read_start (self);
  end = read_end (self);
  if (g_date_time_compare (end, start) >= 0)
    self->duration = g_date_time_difference (end, start);
  validate (self);
}

static void
day_selected_cb (GtkCalendar *calendar,
                 gpointer     user_data)
{
  AglAppointmentEditor *self = user_data;
  GtkWidget *popover = gtk_widget_get_ancestor (GTK_WIDGET (calendar), GTK_TYPE_POPOVER);

  if (calendar == self->start_calendar)
    start_changed_cb (self);
  else
    end_changed_cb (self);
  if (!self->updating && popover != NULL)
    gtk_popover_popdown (GTK_POPOVER (popover));
}

static void
all_day_changed_cb (AglAppointmentEditor *self)
{
  gboolean all_day = gtk_switch_get_active (self->all_day_switch);

  gtk_widget_set_visible (self->start_time_box, !all_day);
  gtk_widget_set_visible (self->end_time_box, !all_day);
  if (!self->updating)
    {
      g_autoptr(GDateTime) start = read_start (self);
      g_autoptr(GDateTime) end = read_end (self);

      self->duration = g_date_time_difference (end, start);
      /* A timed appointment made from an all-day one gets an hour. */
      if (!all_day && self->duration <= 0)
        {
          g_autoptr(GDateTime) new_end = g_date_time_add_hours (start, 1);

          set_times (self, start, new_end);
        }
    }
  validate (self);
}

/* Two digits, as a clock shows minutes. */
static gboolean
spin_output_cb (GtkSpinButton *spin)
{
  g_autofree char *text = g_strdup_printf ("%02d", gtk_spin_button_get_value_as_int (spin));

  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

/* Fields */

static char *
get_description (AglAppointmentEditor *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->description_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
show_fields (AglAppointmentEditor *self)
{
  AglFields *fields = &self->original;

  self->updating = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), fields->summary);
  gtk_editable_set_text (GTK_EDITABLE (self->location_row), fields->location);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->description_view),
                            fields->description, -1);
  adw_combo_row_set_selected (self->show_as_row, fields->busy);
  gtk_switch_set_active (self->private_switch, fields->is_private);
  gtk_switch_set_active (self->all_day_switch, fields->all_day);
  gtk_widget_set_visible (self->start_time_box, !fields->all_day);
  gtk_widget_set_visible (self->end_time_box, !fields->all_day);
  set_times (self, fields->start, fields->end);
  self->updating = FALSE;
  validate (self);
}

/* Reads the fields the dialog shows from the stored item. */
static gboolean
read_item (AglAppointmentEditor *self,
           GVariant             *item)
{
  g_autoptr(GPtrArray) lines = NULL;
  AglFields *fields = &self->original;
  gboolean all_day = FALSE;
  const char *line;
  guint begin, end;

  g_variant_lookup (item, "all-day", "b", &all_day);
  g_variant_lookup (item, "recurring", "b", &self->recurring);
  self->item_account = g_strdup (lookup_string (item, "account"));
  self->ical = g_strdup (lookup_string (item, "ical"));

  lines = ical_unfold (self->ical);
  if (!ical_find_event (lines, &begin, &end))
    return FALSE;

  line = ical_get (lines, begin, end, "SUMMARY");
  fields->summary = line != NULL ? ical_unescape (ical_value (line)) : g_strdup ("");
  line = ical_get (lines, begin, end, "LOCATION");
  fields->location = line != NULL ? ical_unescape (ical_value (line)) : g_strdup ("");
  line = ical_get (lines, begin, end, "DESCRIPTION");
  fields->description = line != NULL ? ical_unescape (ical_value (line)) : g_strdup ("");

  /* As the daemon reads it: the exact status, else TRANSP. */
  fields->busy = G_MAXUINT;
  line = ical_get (lines, begin, end, "X-MICROSOFT-CDO-BUSYSTATUS");
  if (line != NULL)
    fields->busy = busy_index (ical_value (line));
  if (fields->busy == G_MAXUINT)
    {
      line = ical_get (lines, begin, end, "TRANSP");
      fields->busy = line != NULL && g_ascii_strcasecmp (ical_value (line), "TRANSPARENT") == 0
                     ? 0 : BUSY_INDEX;
    }

  line = ical_get (lines, begin, end, "CLASS");
  fields->is_private = line != NULL &&
                       (g_ascii_strcasecmp (ical_value (line), "PRIVATE") == 0 ||
                        g_ascii_strcasecmp (ical_value (line), "CONFIDENTIAL") == 0);

  fields->all_day = all_day;
  fields->start = parse_item_time (lookup_string (item, "start"), all_day);
  fields->end = parse_item_time (lookup_string (item, "end"), all_day);
  if (fields->start == NULL)
    return FALSE;
  /* A series' "end" is the end of its last occurrence; its own end is its
   * DTEND, which the dialog reads as the start plus the first length. */
  if (self->recurring || fields->end == NULL)
    {
      const char *dtstart = ical_get (lines, begin, end, "DTSTART");
      const char *dtend = ical_get (lines, begin, end, "DTEND");

      g_clear_pointer (&fields->end, g_date_time_unref);
      if (dtstart != NULL && dtend != NULL)
        {
          g_autofree char *tz_start = ical_parameter (dtstart, "TZID");
          g_autofree char *tz_end = ical_parameter (dtend, "TZID");
          g_autoptr(GTimeZone) zone_start = NULL;
          g_autoptr(GTimeZone) zone_end = NULL;
          g_autoptr(GDateTime) first = NULL;
          g_autoptr(GDateTime) last = NULL;

          /* Only the length matters, so both are read in one zone unless
           * each names its own. */
          zone_start = tz_start != NULL ? g_time_zone_new_identifier (tz_start) : NULL;
          zone_end = tz_end != NULL ? g_time_zone_new_identifier (tz_end) : NULL;
          first = g_date_time_new_from_iso8601 (ical_value (dtstart), zone_start ? zone_start : NULL);
          last = g_date_time_new_from_iso8601 (ical_value (dtend), zone_end ? zone_end : NULL);
          if (first == NULL || last == NULL)
            {
              /* Basic format: "20261123T090000[Z]" or a date. */
              const char *a = ical_value (dtstart);
              const char *b = ical_value (dtend);
              int y1, m1, d1, H1 = 0, M1 = 0, S1 = 0, y2, m2, d2, H2 = 0, M2 = 0, S2 = 0;

              if (sscanf (a, "%4d%2d%2dT%2d%2d%2d", &y1, &m1, &d1, &H1, &M1, &S1) >= 3 &&
                  sscanf (b, "%4d%2d%2dT%2d%2d%2d", &y2, &m2, &d2, &H2, &M2, &S2) >= 3)
                {
                  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

                  g_clear_pointer (&first, g_date_time_unref);
                  g_clear_pointer (&last, g_date_time_unref);
                  first = g_date_time_new (utc, y1, m1, d1, H1, M1, S1);
                  last = g_date_time_new (utc, y2, m2, d2, H2, M2, S2);
                }
            }
          if (first != NULL && last != NULL && g_date_time_compare (last, first) >= 0)
            fields->end = g_date_time_add (fields->start, g_date_time_difference (last, first));
        }
      if (fields->end == NULL)
        fields->end = all_day ? g_date_time_add_days (fields->start, 1)
                              : g_date_time_add_hours (fields->start, 1);
    }

  /* The dialog shows an all-day appointment's last day, not the day after. */
  if (all_day)
    {
      GDateTime *last_day = g_date_time_add_days (fields->end, -1);

      g_date_time_unref (fields->end);
      fields->end = g_date_time_compare (last_day, fields->start) >= 0
                    ? last_day : g_date_time_ref (fields->start);
      if (fields->end != last_day)
        g_date_time_unref (last_day);
    }
  return TRUE;
}

/* The new text: the stored one with the changed fields rewritten, or a
 * new VCALENDAR. */
static char *
build_ical (AglAppointmentEditor *self)
{
  AglFields *old = &self->original;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GDateTime) start = read_start (self);
  g_autoptr(GDateTime) end = read_end (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *description = get_description (self);
  const char *summary = gtk_editable_get_text (GTK_EDITABLE (self->subject_row));
  const char *location = gtk_editable_get_text (GTK_EDITABLE (self->location_row));
  guint busy = adw_combo_row_get_selected (self->show_as_row);
  gboolean is_private = gtk_switch_get_active (self->private_switch);
  gboolean all_day = gtk_switch_get_active (self->all_day_switch);
  gboolean new_item = self->ical == NULL;
  guint begin, event_end;

  if (busy >= G_N_ELEMENTS (busy_statuses))
    busy = BUSY_INDEX;

  if (new_item)
    {
      g_autofree char *uid = g_uuid_string_random ();

      lines = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (lines, g_strdup ("BEGIN:VCALENDAR"));
      g_ptr_array_add (lines, g_strdup ("VERSION:2.0"));
      g_ptr_array_add (lines, g_strdup ("PRODID:-//Agendaline//Agendaline " PACKAGE_VERSION "//EN"));
      g_ptr_array_add (lines, g_strdup ("BEGIN:VEVENT"));
      g_ptr_array_add (lines, g_strdup_printf ("UID:%s@agendaline", uid));
      g_ptr_array_add (lines, g_strdup_printf ("DTSTAMP:%s", stamp));
      g_ptr_array_add (lines, g_strdup_printf ("CREATED:%s", stamp));
      g_ptr_array_add (lines, g_strdup ("END:VEVENT"));
      g_ptr_array_add (lines, g_strdup ("END:VCALENDAR"));
    }
  else
    lines = ical_unfold (self->ical);

  if (!ical_find_event (lines, &begin, &event_end))
    return NULL;

  if (new_item || g_strcmp0 (summary, old->summary) != 0)
    ical_set (lines, begin, &event_end, "SUMMARY", ical_text_line ("SUMMARY", summary));
  if (new_item || g_strcmp0 (location, old->location) != 0)
    ical_set (lines, begin, &event_end, "LOCATION", ical_text_line ("LOCATION", location));
  if (new_item || g_strcmp0 (description, old->description) != 0)
    ical_set (lines, begin, &event_end, "DESCRIPTION", ical_text_line ("DESCRIPTION", description));

  if (new_item || busy != old->busy)
    {
      ical_set (lines, begin, &event_end, "X-MICROSOFT-CDO-BUSYSTATUS",
                g_strconcat ("X-MICROSOFT-CDO-BUSYSTATUS:", busy_statuses[busy], NULL));
      ical_set (lines, begin, &event_end, "TRANSP",
                g_strdup (busy == 0 ? "TRANSP:TRANSPARENT" : "TRANSP:OPAQUE"));
    }
  if (new_item ? is_private : is_private != old->is_private)
    ical_set (lines, begin, &event_end, "CLASS",
              g_strdup (is_private ? "CLASS:PRIVATE" : "CLASS:PUBLIC"));

  if (new_item || all_day != old->all_day ||
      !g_date_time_equal (start, old->start) || !g_date_time_equal (end, old->end))
    {
      const char *dtstart = ical_get (lines, begin, event_end, "DTSTART");
      g_autofree char *tzid = dtstart != NULL ? ical_parameter (dtstart, "TZID") : NULL;
      g_autoptr(GDateTime) exclusive_end = all_day ? g_date_time_add_days (end, 1)
                                                   : g_date_time_ref (end);

      ical_set (lines, begin, &event_end, "DURATION", NULL);
      g_autofree char *start_line = ical_time_line ("DTSTART", start, all_day, tzid);

      /* @dtstart points into the line that is replaced here. */
      ical_set (lines, begin, &event_end, "DTSTART", g_steal_pointer (&start_line));
      ical_set (lines, begin, &event_end, "DTEND",
                ical_time_line ("DTEND", exclusive_end, all_day, tzid));
    }

  if (!new_item)
    {
      ical_set (lines, begin, &event_end, "DTSTAMP", g_strdup_printf ("DTSTAMP:%s", stamp));
      ical_set (lines, begin, &event_end, "LAST-MODIFIED",
                g_strdup_printf ("LAST-MODIFIED:%s", stamp));
    }

  return ical_join (lines);
}

/* Loading */

static void
get_item_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  AglAppointmentEditor *self = user_data;
  g_autoptr(GVariant) item = NULL;
  g_autoptr(GError) error = NULL;

  if (!agl_daemon_call_get_item_finish (AGL_DAEMON (object), &item, result, &error))
    {
      /* Cancelled by dispose, when self may be gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      agl_daemon_client_strip_error (error);
      gtk_stack_set_visible_child_name (self->stack, "form");
      gtk_widget_set_visible (self->form_box, TRUE);
      show_error (self, error->message);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", FALSE);
      return;
    }

  if (!read_item (self, item))
    {
      gtk_stack_set_visible_child_name (self->stack, "form");
      show_error (self, _("This appointment’s iCalendar text cannot be read, so it cannot be edited here."));
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", FALSE);
      return;
    }

  if (self->recurring)
    {
      adw_window_title_set_subtitle (self->window_title, _("All occurrences of the series"));
      gtk_widget_set_visible (GTK_WIDGET (self->series_label), TRUE);
    }
  else
    adw_window_title_set_subtitle (self->window_title,
                                   *self->item_account != '\0' ? self->item_account
                                                               : _("Local agenda"));
  gtk_widget_set_visible (self->delete_button, TRUE);
  set_busy (self, FALSE);
  show_fields (self);
  gtk_stack_set_visible_child_name (self->stack, "form");
  gtk_widget_grab_focus (GTK_WIDGET (self->subject_row));
}

static void
list_accounts_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglAppointmentEditor *self = user_data;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkStringList) model = NULL;
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  const char *wanted = g_object_get_data (G_OBJECT (self), "agl-account");
  guint selected = 0, n = 0;
  GVariantIter iter;
  GVariant *account;

  accounts = agl_daemon_client_list_accounts_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (accounts == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      show_error (self, error->message);
      return;
    }

  model = gtk_string_list_new (NULL);
  g_variant_iter_init (&iter, accounts);
  while ((account = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *name = lookup_string (account, "name");

      if (g_strcmp0 (name, wanted) == 0)
        selected = n;
      gtk_string_list_append (model, name);
      g_strv_builder_add (names, name);
      n++;
      g_variant_unref (account);
    }
  /* The agenda that no account syncs. */
  gtk_string_list_append (model, _("Local agenda only"));
  g_strv_builder_add (names, "");
  if (wanted != NULL && *wanted == '\0')
    selected = n;

  g_strfreev (self->account_names);
  self->account_names = g_strv_builder_end (names);
  adw_combo_row_set_model (self->account_row, G_LIST_MODEL (model));
  adw_combo_row_set_selected (self->account_row, selected);
  gtk_widget_set_visible (GTK_WIDGET (self->account_row), TRUE);
}

/* Saving */

static void
save_done (AglAppointmentEditor *self,
           GError               *error)
{
  if (error != NULL)
    {
      /* Cancelled by dispose, when self may be gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, FALSE);
      validate (self);
      agl_daemon_client_strip_error (error);
      show_error (self, error->message);
      return;
    }
  /* The agenda shows the change once the daemon announces it. */
  gtk_window_close (GTK_WINDOW (self));
}

static void
create_item_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gint64 id = 0;

  agl_daemon_call_create_item_finish (AGL_DAEMON (object), &id, result, &error);
  save_done (user_data, error);
}

static void
update_item_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  agl_daemon_call_update_item_finish (AGL_DAEMON (object), result, &error);
  save_done (user_data, error);
}

static void
delete_item_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  agl_daemon_call_delete_item_finish (AGL_DAEMON (object), result, &error);
  save_done (user_data, error);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AglAppointmentEditor *self = AGL_APPOINTMENT_EDITOR (widget);
  AglDaemon *proxy = agl_daemon_client_get_proxy (self->client);
  g_autofree char *ical = NULL;

  if (self->busy || !times_valid (self))
    return;
  if (proxy == NULL)
    {
      show_error (self, _("The Agendaline service is not running; your appointment is not saved yet."));
      return;
    }

  ical = build_ical (self);
  if (ical == NULL)
    {
      show_error (self, _("This appointment’s iCalendar text cannot be read, so it cannot be edited here."));
      return;
    }

  show_error (self, NULL);
  set_busy (self, TRUE);
  gtk_widget_action_set_enabled (widget, "editor.save", FALSE);

  if (self->id == 0)
    {
      guint selected = adw_combo_row_get_selected (self->account_row);
      const char *account = "";

      if (self->account_names != NULL && selected < g_strv_length (self->account_names))
        account = self->account_names[selected];
      agl_daemon_call_create_item (proxy, account, ical, G_DBUS_CALL_FLAGS_NONE, -1,
                                   self->cancellable, create_item_cb, self);
    }
  else
    agl_daemon_call_update_item (proxy, self->id, ical, G_DBUS_CALL_FLAGS_NONE, -1,
                                 self->cancellable, update_item_cb, self);
}

static void
delete_response_cb (AdwMessageDialog     *dialog,
                    const char           *response,
                    AglAppointmentEditor *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (self->client);

  if (!g_str_equal (response, "delete") || self->busy)
    return;
  if (proxy == NULL)
    {
      show_error (self, _("The Agendaline service is not running; the appointment is not deleted."));
      return;
    }
  show_error (self, NULL);
  set_busy (self, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", FALSE);
  agl_daemon_call_delete_item (proxy, self->id, G_DBUS_CALL_FLAGS_NONE, -1,
                               self->cancellable, delete_item_cb, self);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AglAppointmentEditor *self = AGL_APPOINTMENT_EDITOR (widget);
  const char *summary = self->original.summary;
  g_autofree char *heading = NULL;
  GString *body = g_string_new (NULL);
  GtkWidget *dialog;

  if (self->id == 0 || self->busy)
    return;

  heading = summary != NULL && *summary != '\0'
            /* Translators: the question before deleting an appointment */
            ? g_strdup_printf (_("Delete “%s”?"), summary)
            : g_strdup (_("Delete this appointment?"));
  if (self->item_account != NULL && *self->item_account != '\0')
    g_string_append (body, _("The appointment is also deleted in Exchange."));
  else
    g_string_append (body, _("The appointment is deleted from the local agenda."));
  if (self->recurring)
    {
      g_string_append_c (body, ' ');
      g_string_append (body, _("Every occurrence of the series is deleted."));
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body->str);
  g_string_free (body, TRUE);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* GObject */

static void
agl_appointment_editor_dispose (GObject *object)
{
  AglAppointmentEditor *self = AGL_APPOINTMENT_EDITOR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_pointer (&self->item_account, g_free);
  g_clear_pointer (&self->ical, g_free);
  g_clear_pointer (&self->account_names, g_strfreev);
  g_clear_weak_pointer (&self->saved_focus);
  fields_clear (&self->original);

  gtk_widget_dispose_template (GTK_WIDGET (self), AGL_TYPE_APPOINTMENT_EDITOR);

  G_OBJECT_CLASS (agl_appointment_editor_parent_class)->dispose (object);
}

static gboolean
agl_appointment_editor_close_request (GtkWindow *window)
{
  /* GTK 4.8 warns when a focused text field goes with its window. */
  gtk_window_set_focus (window, NULL);
  return GTK_WINDOW_CLASS (agl_appointment_editor_parent_class)->close_request (window);
}

static void
agl_appointment_editor_class_init (AglAppointmentEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = agl_appointment_editor_dispose;
  window_class->close_request = agl_appointment_editor_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-appointment-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, window_title);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, save_button);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, stack);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, scroller);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, form_box);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, error_label);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, series_label);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, subject_row);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, location_row);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, all_day_switch);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, start_date_button);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, start_calendar);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, start_time_box);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, start_hour);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, start_minute);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, end_date_button);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, end_calendar);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, end_time_box);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, end_hour);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, end_minute);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, time_error_label);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, show_as_row);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, private_switch);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, account_row);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, description_view);
  gtk_widget_class_bind_template_child (widget_class, AglAppointmentEditor, delete_button);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "editor.delete", NULL, delete_action);
  /* Escape cancels, as in any dialog. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "editor.save", NULL);
}

static void
agl_appointment_editor_init (AglAppointmentEditor *self)
{
  GtkSpinButton *spins[4];

  gtk_widget_init_template (GTK_WIDGET (self));
  agl_accessible_name_buttons (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  spins[0] = self->start_hour;
  spins[1] = self->start_minute;
  spins[2] = self->end_hour;
  spins[3] = self->end_minute;
  for (guint i = 0; i < G_N_ELEMENTS (spins); i++)
    g_signal_connect (spins[i], "output", G_CALLBACK (spin_output_cb), NULL);

  g_signal_connect_swapped (self->start_hour, "value-changed", G_CALLBACK (start_changed_cb), self);
  g_signal_connect_swapped (self->start_minute, "value-changed", G_CALLBACK (start_changed_cb), self);
  g_signal_connect_swapped (self->end_hour, "value-changed", G_CALLBACK (end_changed_cb), self);
  g_signal_connect_swapped (self->end_minute, "value-changed", G_CALLBACK (end_changed_cb), self);
  g_signal_connect (self->start_calendar, "day-selected", G_CALLBACK (day_selected_cb), self);
  g_signal_connect (self->end_calendar, "day-selected", G_CALLBACK (day_selected_cb), self);
  g_signal_connect_swapped (self->all_day_switch, "notify::active",
                            G_CALLBACK (all_day_changed_cb), self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.delete", FALSE);
}

static AglAppointmentEditor *
editor_new (GtkWindow       *parent,
            AglDaemonClient *client)
{
  AglAppointmentEditor *self = g_object_new (AGL_TYPE_APPOINTMENT_EDITOR,
                                             "transient-for", parent,
                                             NULL);

  self->client = g_object_ref (client);
  return self;
}

/**
 * agl_appointment_editor_new_create:
 * @parent: the window the dialog belongs to
 * @client: the connection to the daemon
 * @account: (nullable): the account preselected in the Account row, "" for
 *   the local agenda
 * @start: the suggested start (local); the appointment lasts an hour
 *
 * Returns: (transfer none): a dialog that creates an appointment; present it.
 */
AglAppointmentEditor *
agl_appointment_editor_new_create (GtkWindow       *parent,
                                   AglDaemonClient *client,
                                   const char      *account,
                                   GDateTime       *start)
{
  AglAppointmentEditor *self = editor_new (parent, client);

  gtk_window_set_title (GTK_WINDOW (self), _("New Appointment"));
  adw_window_title_set_title (self->window_title, _("New Appointment"));
  g_object_set_data_full (G_OBJECT (self), "agl-account", g_strdup (account), g_free);

  self->original.summary = g_strdup ("");
  self->original.location = g_strdup ("");
  self->original.description = g_strdup ("");
  self->original.busy = BUSY_INDEX;
  self->original.start = g_date_time_ref (start);
  self->original.end = g_date_time_add_hours (start, 1);
  show_fields (self);
  gtk_stack_set_visible_child_name (self->stack, "form");

  agl_daemon_client_list_accounts_async (client, self->cancellable, list_accounts_cb, self);
  gtk_widget_grab_focus (GTK_WIDGET (self->subject_row));
  return self;
}

/**
 * agl_appointment_editor_new_edit:
 * @parent: the window the dialog belongs to
 * @client: the connection to the daemon
 * @id: the appointment
 * @from_occurrence: the user chose one occurrence of a series, which the
 *   dialog edits as a whole
 *
 * Returns: (transfer none): a dialog that loads, edits and can delete
 *   appointment @id; present it.
 */
AglAppointmentEditor *
agl_appointment_editor_new_edit (GtkWindow       *parent,
                                 AglDaemonClient *client,
                                 gint64           id,
                                 gboolean         from_occurrence)
{
  AglAppointmentEditor *self = editor_new (parent, client);
  AglDaemon *proxy = agl_daemon_client_get_proxy (client);

  self->id = id;
  gtk_window_set_title (GTK_WINDOW (self), _("Edit Appointment"));
  adw_window_title_set_title (self->window_title, _("Edit Appointment"));
  if (from_occurrence)
    adw_window_title_set_subtitle (self->window_title, _("All occurrences of the series"));
  gtk_stack_set_visible_child_name (self->stack, "loading");
  set_busy (self, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", FALSE);

  if (proxy == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "form");
      show_error (self, _("The Agendaline service is not running."));
      return self;
    }
  agl_daemon_call_get_item (proxy, id, G_DBUS_CALL_FLAGS_NONE, -1,
                            self->cancellable, get_item_cb, self);
  return self;
}
