/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-presence-format"

#include <glib/gi18n.h>
#include <gio/gio.h>

#include "agl-presence-format.h"

/* JSON */

/**
 * agl_json_get_string:
 * @object: (nullable): a JSON object
 * @member: a member name
 *
 * Returns: (nullable): the string member, or %NULL when it is missing,
 *   null or not a string
 */
const char *
agl_json_get_string (JsonObject *object,
                     const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/**
 * agl_json_get_boolean:
 * @object: (nullable): a JSON object
 * @member: a member name
 *
 * Returns: the boolean member, %FALSE when it is missing or not a boolean
 */
gboolean
agl_json_get_boolean (JsonObject *object,
                      const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;
  return json_node_get_boolean (node);
}

/**
 * agl_json_get_object:
 * @object: (nullable): a JSON object
 * @member: a member name
 *
 * Returns: (nullable) (transfer none): the object member, or %NULL
 */
JsonObject *
agl_json_get_object (JsonObject *object,
                     const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/**
 * agl_json_get_array:
 * @object: (nullable): a JSON object
 * @member: a member name
 *
 * Returns: (nullable) (transfer none): the array member, or %NULL
 */
JsonArray *
agl_json_get_array (JsonObject *object,
                    const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Times */

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

/**
 * agl_format_parse_local:
 * @iso8601: (nullable): an ISO 8601 instant as the daemon sends it
 *
 * Returns: (transfer full) (nullable): the instant in the user's zone, or
 *   %NULL for %NULL, "" or text that is not ISO 8601
 */
GDateTime *
agl_format_parse_local (const char *iso8601)
{
  g_autoptr(GDateTime) time = NULL;

  if (iso8601 == NULL || *iso8601 == '\0')
    return NULL;
  time = g_date_time_new_from_iso8601 (iso8601, NULL);
  return time != NULL ? g_date_time_to_local (time) : NULL;
}

/**
 * agl_format_clock:
 * @time: a local time
 *
 * Returns: (transfer full): the time of day on the clock GNOME is set to
 */
char *
agl_format_clock (GDateTime *time)
{
  static int clock_12h = -1;

  /* The setting is read once: a change while the app runs shows at the
   * next start, which is what the old agenda did too. */
  if (clock_12h < 0)
    clock_12h = read_clock_12h ();
  if (clock_12h)
    /* Translators: a time of day on the 12-hour clock, see g_date_time_format() */
    return g_date_time_format (time, _("%-l:%M %p"));
  /* Translators: a time of day on the 24-hour clock, see g_date_time_format() */
  return g_date_time_format (time, _("%H:%M"));
}

/* Days from today to @time's day, in the local calendar. */
static int
days_from_today (GDateTime *time)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDate) today = g_date_new_dmy (g_date_time_get_day_of_month (now),
                                          g_date_time_get_month (now),
                                          g_date_time_get_year (now));
  g_autoptr(GDate) day = g_date_new_dmy (g_date_time_get_day_of_month (time),
                                        g_date_time_get_month (time),
                                        g_date_time_get_year (time));

  return g_date_days_between (today, day);
}

/**
 * agl_format_day:
 * @time: a local time
 *
 * Returns: (transfer full): its day as a heading: "Today", "Tomorrow",
 *   else the weekday and the date
 */
char *
agl_format_day (GDateTime *time)
{
  int days = days_from_today (time);

  if (days == 0)
    return g_strdup (_("Today"));
  if (days == 1)
    return g_strdup (_("Tomorrow"));
  if (days == -1)
    return g_strdup (_("Yesterday"));
  /* Translators: a day's heading in the status timeline, see g_date_time_format() */
  return g_date_time_format (time, _("%A %-d %B"));
}

/**
 * agl_format_when:
 * @time: a local time
 *
 * Returns: (transfer full): the instant relative to today: "14:30" today,
 *   "tomorrow at 09:00", "Monday at 09:00" within the week, else the date
 */
char *
agl_format_when (GDateTime *time)
{
  g_autofree char *clock = agl_format_clock (time);
  g_autofree char *date = NULL;
  int days = days_from_today (time);

  if (days == 0)
    return g_steal_pointer (&clock);
  if (days == 1)
    /* Translators: an instant tomorrow, e.g. "tomorrow at 09:00" */
    return g_strdup_printf (_("tomorrow at %s"), clock);
  if (days == -1)
    /* Translators: an instant yesterday, e.g. "yesterday at 09:00" */
    return g_strdup_printf (_("yesterday at %s"), clock);
  if (days > 1 && days < 7)
    {
      /* Translators: a weekday, see g_date_time_format() */
      date = g_date_time_format (time, _("%A"));
      /* Translators: an instant this week, e.g. "Monday at 09:00" */
      return g_strdup_printf (_("%s at %s"), date, clock);
    }
  /* Translators: a date, see g_date_time_format() */
  date = g_date_time_format (time, _("%-d %B %Y"));
  /* Translators: an instant on a date, e.g. "24 November 2026 at 09:00" */
  return g_strdup_printf (_("%s at %s"), date, clock);
}

/* Presence */

/**
 * agl_format_presence:
 * @presence: (nullable): a presence as the daemon names it
 *
 * Returns: the presence in words
 */
const char *
agl_format_presence (const char *presence)
{
  if (g_strcmp0 (presence, "available") == 0)
    return C_("presence", "Available");
  if (g_strcmp0 (presence, "busy") == 0)
    return C_("presence", "Busy");
  if (g_strcmp0 (presence, "dnd") == 0)
    return C_("presence", "Do not disturb");
  if (g_strcmp0 (presence, "away") == 0)
    return C_("presence", "Away");
  if (g_strcmp0 (presence, "out-of-office") == 0)
    return C_("presence", "Out of office");
  /* A newer daemon's presence, as it says it. */
  return presence != NULL ? presence : C_("presence", "Unknown");
}

/**
 * agl_format_presence_icon:
 * @presence: (nullable): a presence as the daemon names it
 *
 * Returns: an icon name for it
 */
const char *
agl_format_presence_icon (const char *presence)
{
  if (g_strcmp0 (presence, "available") == 0)
    return "emblem-ok-symbolic";
  if (g_strcmp0 (presence, "dnd") == 0)
    return "action-unavailable-symbolic";
  if (g_strcmp0 (presence, "out-of-office") == 0 || g_strcmp0 (presence, "away") == 0)
    return "airplane-mode-symbolic";
  return "x-office-calendar-symbolic";
}

/**
 * agl_format_presence_css_class:
 * @presence: (nullable): a presence as the daemon names it
 *
 * Returns: the style class its icon is drawn in: success (available),
 *   error (do not disturb) or warning (the others)
 */
const char *
agl_format_presence_css_class (const char *presence)
{
  if (g_strcmp0 (presence, "available") == 0)
    return "success";
  if (g_strcmp0 (presence, "dnd") == 0)
    return "error";
  return "warning";
}

/**
 * agl_format_free_busy:
 * @free_busy: (nullable): a free/busy type as the rules name it ("OOF")
 *
 * Returns: the type in words
 */
const char *
agl_format_free_busy (const char *free_busy)
{
  if (g_strcmp0 (free_busy, "Free") == 0)
    return C_("free/busy", "Free");
  if (g_strcmp0 (free_busy, "Tentative") == 0)
    return C_("free/busy", "Tentative");
  if (g_strcmp0 (free_busy, "Busy") == 0)
    return C_("free/busy", "Busy");
  if (g_strcmp0 (free_busy, "OOF") == 0)
    return C_("free/busy", "Out of office");
  if (g_strcmp0 (free_busy, "WorkingElsewhere") == 0)
    return C_("free/busy", "Working elsewhere");
  return free_busy != NULL ? free_busy : "?";
}

/**
 * agl_format_phone:
 * @phone: (nullable): the status's "phone" object
 *
 * Returns: (transfer full): what happens to a call, e.g. "Diverted:
 *   meeting" or "Rings as usual"
 */
char *
agl_format_phone (JsonObject *phone)
{
  const char *action = agl_json_get_string (phone, "action");
  const char *reason = agl_json_get_string (phone, "reason");

  if (g_strcmp0 (action, "none") == 0)
    return g_strdup (_("Rings as usual"));
  if (g_strcmp0 (action, "dnd") == 0)
    return g_strdup (_("Do not disturb"));
  if (g_strcmp0 (action, "forward") == 0)
    return g_strdup (agl_json_get_boolean (phone, "forward_internal")
                     ? _("Forwarded (internal calls too)")
                     : _("Forwarded (external calls)"));
  if (g_strcmp0 (action, "divert") == 0 && reason != NULL)
    /* Translators: the reason is a code callers are told, e.g. "meeting" */
    return g_strdup_printf (_("Diverted: %s"), reason);
  if (g_strcmp0 (action, "divert") == 0)
    return g_strdup (_("Diverted"));
  return g_strdup (action != NULL ? action : "?");
}

/**
 * agl_format_because:
 * @because: one element of the status's "because" list
 * @until: (nullable): the status's "until"
 *
 * Returns: (transfer full): what produced the status, in a sentence; the
 *   daemon's "detail" where it already is one
 */
char *
agl_format_because (JsonObject *because,
                    const char *until)
{
  const char *kind = agl_json_get_string (because, "kind");
  const char *subject = agl_json_get_string (because, "subject");
  const char *free_busy = agl_json_get_string (because, "free_busy");
  const char *detail = agl_json_get_string (because, "detail");

  if (g_strcmp0 (kind, "appointment") == 0 && subject != NULL)
    /* Translators: an appointment and its free/busy type, e.g.
     * Appointment “Budget review” (Busy) */
    return g_strdup_printf (_("Appointment “%s” (%s)"), subject,
                            agl_format_free_busy (free_busy));
  if (g_strcmp0 (kind, "override") == 0 && until != NULL)
    {
      g_autoptr(GDateTime) local = agl_format_parse_local (until);

      if (local != NULL)
        {
          g_autofree char *when = agl_format_when (local);

          /* Translators: a status set in the app, e.g. "Set by hand until 14:30" */
          return g_strdup_printf (_("Set by hand until %s"), when);
        }
    }
  if (detail != NULL)
    return g_strdup (detail);
  if (g_strcmp0 (kind, "oof") == 0)
    return g_strdup (_("Automatic replies are on"));
  if (g_strcmp0 (kind, "override") == 0)
    return g_strdup (_("Set by hand"));
  return g_strdup (kind != NULL ? kind : "?");
}

/**
 * agl_format_at:
 * @time: a local time
 *
 * Returns: (transfer full): the instant to follow a verb: "at 14:30"
 *   today, "yesterday at 09:00", "Monday at 09:00" within the week,
 *   else "on 24 November 2026 at 09:00"
 */
char *
agl_format_at (GDateTime *time)
{
  g_autofree char *clock = NULL;
  g_autofree char *date = NULL;
  int days = days_from_today (time);

  if (days >= -1 && days < 7)
    {
      g_autofree char *when = agl_format_when (time);

      if (days != 0)
        return g_steal_pointer (&when);
      /* Translators: an instant today after a verb, e.g. "(synced) at 14:30" */
      return g_strdup_printf (_("at %s"), when);
    }
  clock = agl_format_clock (time);
  /* Translators: a date, see g_date_time_format() */
  date = g_date_time_format (time, _("%-d %B %Y"));
  /* Translators: an instant on a date after a verb, e.g. "(synced) on 24 November 2026 at 09:00" */
  return g_strdup_printf (_("on %s at %s"), date, clock);
}
