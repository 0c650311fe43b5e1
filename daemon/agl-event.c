/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-error.h"
#include "agl-event.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalrecur_iterator, icalrecur_iterator_free)

#define AGL_PRODID "-//Agendaline//Agendaline 0.1//EN"

#define EVENT_MAX_BYTES ((gsize) 1 << 20)
#define FILE_MAX_BYTES ((gsize) 64 << 20)

/* Enough for an hourly series over eleven years; past that a series is
 * treated as endless rather than letting one import spin. */
#define RECURRENCE_MAX_STEPS 100000

/* RFC 5545 3.1: content lines are folded at 75 octets. */
#define FOLD_OCTETS 75

/* libical 3.0 does not give back X- and unknown properties as it got them:
 * it drops properties whose name it does not know, takes the backslash out
 * of "\," and "\;" in X- values without putting it back, writes
 * CATEGORIES and RESOURCES values with a comma unescaped, so that they
 * split on the next read, and mangles parameters holding a list.  Such
 * lines are therefore handed to libical as one opaque property holding
 * the whole line in base64, and written back byte for byte (see
 * protect_raw_lines() and serialize()). */
#define RAW_NAME "X-AGENDALINE-RAW"
#define RAW_PREFIX RAW_NAME ":"

#define SUMMARY_MAX_CHARS 60

/* Different VTIMEZONEs kept expanded per process; Exchange sends the same
 * few with every appointment. */
#define SHARED_ZONES_MAX 256

struct _AglEvent
{
  char     *text;
  char     *uid;
  char     *summary;
  gint64    start;
  gint64    end;
  gint64    range_end;
  gboolean  all_day;
  gboolean  recurring;
};

/* One appointment as libical sees it, for what computes with its
 * VEVENTs beyond the indexed fields (see agl-occurrences.c). */
struct _AglEventTree
{
  icalcomponent *root;       /* the parsed text; @zones may point into it */
  icalcomponent *vcalendar;  /* the VTIMEZONEs used, the master, its exceptions */
  GPtrArray     *vevents;    /* in @vcalendar, the master first */
  GArray        *spans;      /* of Span, one per VEVENT */
  GHashTable    *zones;      /* TZID → icaltimezone, see add_vtimezones() */
};

typedef enum
{
  SOURCE_EVENT,
  SOURCE_FILE,
} Source;

/* A VEVENT of the parsed text and its place among the text's VEVENTs, so
 * that an error can say which one of a file is wrong. */
typedef struct
{
  icalcomponent *vevent;
  guint          position;
} Entry;

/* When one VEVENT starts and ends, and how to find the end of any of its
 * occurrences.  RFC 5545 3.8.5.3: DTEND gives every occurrence the same
 * exact length (whole days for dates); DURATION is nominal in days and
 * weeks (a day across a DST change stays a calendar day) and exact in
 * hours, minutes and seconds. */
typedef struct
{
  struct icaltimetype     dtstart;
  gint64                  start;
  gint64                  end;
  gboolean                has_duration;
  struct icaldurationtype duration;
  gboolean                has_dtend;
  gint64                  dtend_days;
  gint64                  dtend_seconds;
} Span;

static void
ensure_libical (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      /* A daemon must neither abort nor print on a bad file: problems are
       * read back from the X-LIC-ERROR properties of the parsed tree. */
      icalerror_set_errors_are_fatal (0);
      /* Keep parameters libical has no name for (newer RFCs, vendors)
       * rather than dropping them. */
      ical_set_unknown_token_handling_setting (ICAL_ASSUME_IANA_TOKEN);
      g_once_init_leave (&initialised, 1);
    }
  icalerror_clear_errno ();
}

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

/* Reads the next content line from *cursor into @line, unfolding it
 * (RFC 5545 3.1: a line break followed by a space or tab continues the
 * line).  Blank lines are skipped.  Returns FALSE at the end of the text. */
static gboolean
read_content_line (const char **cursor,
                   GString     *line)
{
  const char *p = *cursor;

  g_string_truncate (line, 0);
  while (*p != '\0')
    {
      const char *eol = strchr (p, '\n');
      gsize len = eol != NULL ? (gsize) (eol - p) : strlen (p);

      if (len > 0 && p[len - 1] == '\r')
        g_string_append_len (line, p, len - 1);
      else
        g_string_append_len (line, p, len);
      p += len;
      if (*p == '\n')
        p++;

      if (*p == ' ' || *p == '\t')
        {
          p++;
          continue;
        }
      if (line->len > 0)
        break;
    }

  *cursor = p;
  return line->len > 0;
}

/* A parameter with a list of values (FEATURE=AUDIO,VIDEO or
 * MEMBER="a","b"): libical keeps only the first quoted value or quotes
 * the whole list as one. */
static gboolean
has_list_parameter (const char *params)
{
  gboolean quoted = FALSE;

  for (const char *p = params; *p != '\0'; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == ':')
        return FALSE;
      else if (!quoted && *p == ',')
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_raw_property (const char *line)
{
  static const char * const mangled[] = {
    "CATEGORIES", "RESOURCES", "POLL-PROPERTIES", "LOCATION-TYPE", NULL
  };
  /* What Agendaline computes with always goes through libical, so that
   * it is checked. */
  static const char * const needed[] = {
    "UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE",
    "EXDATE", "RECURRENCE-ID", "DTSTAMP", "TZID", "TZOFFSETFROM",
    "TZOFFSETTO", NULL
  };
  g_autofree char *name = NULL;
  gsize len;

  len = strspn (line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");
  if (len == 0 || (line[len] != ':' && line[len] != ';'))
    return FALSE;

  name = g_ascii_strup (line, (gssize) len);
  if (g_str_equal (name, "BEGIN") || g_str_equal (name, "END"))
    return FALSE;
  if (g_str_has_prefix (name, "X-") || g_strv_contains (mangled, name))
    return TRUE;
  if (icalproperty_string_to_kind (name) == ICAL_NO_PROPERTY)
    return TRUE;
  return !g_strv_contains (needed, name) && has_list_parameter (line + len);
}

static char *
protect_raw_lines (const char *text)
{
  g_autoptr(GString) line = g_string_new (NULL);
  GString *out = g_string_sized_new (strlen (text) + 256);
  const char *cursor = text;

  while (read_content_line (&cursor, line))
    {
      if (is_raw_property (line->str))
        {
          g_autofree char *encoded = g_base64_encode ((const guchar *) line->str, line->len);

          g_string_append (out, RAW_PREFIX);
          g_string_append (out, encoded);
        }
      else
        {
          g_string_append_len (out, line->str, line->len);
        }
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}

static void
append_folded (GString    *out,
               const char *line,
               gsize       len)
{
  gsize column = 0;

  for (gsize i = 0; i < len;)
    {
      gsize skip = (gsize) g_utf8_skip[(guchar) line[i]];

      skip = MIN (skip, len - i);
      /* Never split a UTF-8 sequence across a fold. */
      if (column + skip > FOLD_OCTETS)
        {
          g_string_append (out, "\r\n ");
          column = 1;
        }
      g_string_append_len (out, line + i, (gssize) skip);
      column += skip;
      i += skip;
    }
  g_string_append (out, "\r\n");
}

/* The iCalendar text of @component, with the lines protect_raw_lines()
 * wrapped given back as they were, folded the same way every time, so
 * that normalising a normalised text changes nothing. */
static char *
serialize (icalcomponent *component)
{
  g_autoptr(GString) line = g_string_new (NULL);
  char *ical = icalcomponent_as_ical_string_r (component);
  GString *out = g_string_sized_new (strlen (ical) + 256);
  const char *cursor = ical;

  while (read_content_line (&cursor, line))
    {
      if (g_str_has_prefix (line->str, RAW_PREFIX))
        {
          gsize len = 0;
          g_autofree guchar *raw = g_base64_decode (line->str + strlen (RAW_PREFIX), &len);

          append_folded (out, (const char *) raw, len);
        }
      else
        {
          append_folded (out, line->str, line->len);
        }
    }
  free (ical);
  return g_string_free (out, FALSE);
}

static GPtrArray *
list_components (icalcomponent      *parent,
                 icalcomponent_kind  kind)
{
  GPtrArray *list = g_ptr_array_new ();

  /* Collected first: libical keeps one iterator per component, so any
   * lookup on @parent inside such a loop would restart it. */
  for (icalcomponent *child = icalcomponent_get_first_component (parent, kind);
       child != NULL;
       child = icalcomponent_get_next_component (parent, kind))
    g_ptr_array_add (list, child);
  return list;
}

static GPtrArray *
list_properties (icalcomponent     *component,
                 icalproperty_kind  kind)
{
  GPtrArray *list = g_ptr_array_new ();

  for (icalproperty *prop = icalcomponent_get_first_property (component, kind);
       prop != NULL;
       prop = icalcomponent_get_next_property (component, kind))
    g_ptr_array_add (list, prop);
  return list;
}

static gboolean
is_ignored_kind (icalcomponent_kind kind)
{
  return kind == ICAL_VTODO_COMPONENT ||
         kind == ICAL_VJOURNAL_COMPONENT ||
         kind == ICAL_VFREEBUSY_COMPONENT;
}

/* The first X-LIC-ERROR libical left in @component itself, i.e. the text
 * of a line it could not read. */
static const char *
find_own_parse_error (icalcomponent *component)
{
  icalproperty *prop = icalcomponent_get_first_property (component, ICAL_XLICERROR_PROPERTY);

  return prop != NULL ? icalproperty_get_xlicerror (prop) : NULL;
}

static const char *
find_parse_error (icalcomponent *component)
{
  g_autoptr(GPtrArray) children = NULL;
  const char *problem = find_own_parse_error (component);

  if (problem != NULL)
    return problem;

  children = list_components (component, ICAL_ANY_COMPONENT);
  for (guint i = 0; i < children->len; i++)
    {
      icalcomponent *child = g_ptr_array_index (children, i);

      if (is_ignored_kind (icalcomponent_isa (child)))
        continue;
      problem = find_parse_error (child);
      if (problem != NULL)
        return problem;
    }
  return NULL;
}

static const char *
get_text_property (icalcomponent     *component,
                   icalproperty_kind  kind)
{
  icalproperty *prop = icalcomponent_get_first_property (component, kind);
  const char *text = NULL;

  if (prop != NULL)
    {
      icalvalue *value = icalproperty_get_value (prop);

      if (value != NULL)
        text = icalvalue_get_text (value);
    }
  return text != NULL && *text != '\0' ? text : NULL;
}

/* How an error message names a VEVENT, so that the user can find it in
 * the file: by SUMMARY and UID, whichever it has. */
static char *
describe_vevent (icalcomponent *vevent)
{
  const char *summary = get_text_property (vevent, ICAL_SUMMARY_PROPERTY);
  const char *uid = get_text_property (vevent, ICAL_UID_PROPERTY);
  g_autofree char *short_summary = NULL;

  if (summary != NULL && g_utf8_strlen (summary, -1) > SUMMARY_MAX_CHARS)
    {
      g_autofree char *head = g_utf8_substring (summary, 0, SUMMARY_MAX_CHARS - 1);

      short_summary = g_strconcat (head, "…", NULL);
    }
  else
    {
      short_summary = g_strdup (summary);
    }

  if (short_summary != NULL && uid != NULL)
    return g_strdup_printf (_("“%s” (UID %s)"), short_summary, uid);
  if (short_summary != NULL)
    return g_strdup_printf (_("“%s”"), short_summary);
  if (uid != NULL)
    return g_strdup_printf (_("with UID %s"), uid);
  return g_strdup (_("without UID or SUMMARY"));
}

static void
set_too_large_error (GError **error,
                     Source   source,
                     gsize    length)
{
  g_autofree char *size = g_format_size_full (length, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *limit = g_format_size_full (source == SOURCE_EVENT ? EVENT_MAX_BYTES : FILE_MAX_BYTES,
                                               G_FORMAT_SIZE_IEC_UNITS);

  if (source == SOURCE_EVENT)
    g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                 _("The appointment text is too large (%s); an appointment may be at most %s. Use import for a whole calendar."),
                 size, limit);
  else
    g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                 _("The calendar file is too large (%s); Agendaline reads files of at most %s."),
                 size, limit);
}

/* Parses @text, refusing what cannot be an iCalendar text before libical
 * sees it, and lines libical could not read outside the VEVENTs (those
 * inside are reported per VEVENT, by build_event()). */
static icalcomponent *
parse_text (const char  *text,
            Source       source,
            GError     **error)
{
  g_autofree char *wrapped = NULL;
  g_autoptr(GPtrArray) children = NULL;
  icalcomponent *root;
  icalcomponent_kind kind;
  const char *problem;
  const char *bad_byte = NULL;
  gsize length;

  if (text == NULL || is_blank (text))
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           source == SOURCE_EVENT ? _("The appointment text is empty.")
                                                  : _("The calendar file is empty."));
      return NULL;
    }

  length = strlen (text);
  if (length > (source == SOURCE_EVENT ? EVENT_MAX_BYTES : FILE_MAX_BYTES))
    {
      set_too_large_error (error, source, length);
      return NULL;
    }

  if (!g_utf8_validate_len (text, length, &bad_byte))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                   _("The calendar text is not valid UTF-8 (the first bad byte is at offset %lu); save it as UTF-8 and try again."),
                   (unsigned long) (bad_byte - text));
      return NULL;
    }

  wrapped = protect_raw_lines (text);
  icalerror_clear_errno ();
  root = icalparser_parse_string (wrapped);
  icalerror_clear_errno ();

  kind = root != NULL ? icalcomponent_isa (root) : ICAL_NO_COMPONENT;
  if (kind != ICAL_VCALENDAR_COMPONENT &&
      kind != ICAL_XROOT_COMPONENT &&
      kind != ICAL_VEVENT_COMPONENT &&
      !is_ignored_kind (kind))
    {
      g_clear_pointer (&root, icalcomponent_free);
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           _("The text is not iCalendar data: it must start with BEGIN:VCALENDAR (or BEGIN:VEVENT) and end with the matching END line."));
      return NULL;
    }

  problem = kind != ICAL_VEVENT_COMPONENT ? find_own_parse_error (root) : NULL;
  children = list_components (root, ICAL_VCALENDAR_COMPONENT);
  for (guint i = 0; problem == NULL && i < children->len; i++)
    problem = find_own_parse_error (g_ptr_array_index (children, i));
  if (problem != NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                   _("The calendar has a line that cannot be read: %s."), problem);
      g_clear_pointer (&root, icalcomponent_free);
      return NULL;
    }

  return root;
}

static void
collect_vevents (icalcomponent *component,
                 GArray        *entries)
{
  g_autoptr(GPtrArray) children = NULL;
  icalcomponent_kind kind = icalcomponent_isa (component);

  if (kind == ICAL_VEVENT_COMPONENT)
    {
      Entry entry = { component, entries->len + 1 };

      g_array_append_val (entries, entry);
      return;
    }
  if (kind != ICAL_VCALENDAR_COMPONENT && kind != ICAL_XROOT_COMPONENT)
    return;

  children = list_components (component, ICAL_ANY_COMPONENT);
  for (guint i = 0; i < children->len; i++)
    collect_vevents (g_ptr_array_index (children, i), entries);
}

/* Groups the VEVENTs by UID in the order each UID first appears; a VEVENT
 * without UID is an appointment of its own. */
static GPtrArray *
group_entries (GArray *entries)
{
  g_autoptr(GHashTable) by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *groups = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);

  for (guint i = 0; i < entries->len; i++)
    {
      Entry *entry = &g_array_index (entries, Entry, i);
      const char *uid = get_text_property (entry->vevent, ICAL_UID_PROPERTY);
      GArray *group = uid != NULL ? g_hash_table_lookup (by_uid, uid) : NULL;

      if (group == NULL)
        {
          group = g_array_new (FALSE, FALSE, sizeof (Entry));
          g_ptr_array_add (groups, group);
          if (uid != NULL)
            g_hash_table_insert (by_uid, (gpointer) uid, group);
        }
      g_array_append_val (group, *entry);
    }
  return groups;
}

/* libical's zone for an IANA name (from the system zoneinfo), also in
 * the "/freeassociation.sourceforge.net/Europe/Oslo" form Evolution
 * writes. */
static icaltimezone *
find_builtin_zone (const char *tzid)
{
  icaltimezone *zone = icaltimezone_get_builtin_timezone (tzid);

  if (zone == NULL)
    zone = icaltimezone_get_builtin_timezone_from_tzid (tzid);
  icalerror_clear_errno ();
  return zone;
}

/* The zone of @vtimezone, shared by every appointment that brings the
 * same VTIMEZONE text.  Expanding a zone's rules is the dearest part of
 * reading an appointment (libical walks Outlook's rules from 1601 on,
 * milliseconds per zone); libical locks a zone's expansion itself, so the
 * zones may be used from several threads.  NULL once the cache is full. */
static icaltimezone *
lookup_shared_zone (icalcomponent *vtimezone)
{
  static GMutex lock;
  static GHashTable *shared;
  char *ical = icalcomponent_as_ical_string_r (vtimezone);
  g_autofree char *key = g_strdup (ical);
  icaltimezone *zone;

  free (ical);
  g_mutex_lock (&lock);
  if (shared == NULL)
    shared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  zone = g_hash_table_lookup (shared, key);
  if (zone == NULL && g_hash_table_size (shared) < SHARED_ZONES_MAX)
    {
      icalcomponent *copy = icalcomponent_new_clone (vtimezone);

      zone = icaltimezone_new ();
      if (icaltimezone_set_component (zone, copy))
        {
          g_hash_table_insert (shared, g_steal_pointer (&key), zone);
        }
      else
        {
          icalcomponent_free (copy);
          icaltimezone_free (zone, 1);
          zone = NULL;
        }
    }
  g_mutex_unlock (&lock);
  icalerror_clear_errno ();
  return zone;
}

static const char *
get_tzid (icalproperty *prop)
{
  icalparameter *param = icalproperty_get_first_parameter (prop, ICAL_TZID_PARAMETER);

  return param != NULL ? icalparameter_get_tzid (param) : NULL;
}

/* @time as read from @prop, with the zone its TZID names attached; @zones
 * maps each TZID of the appointment to its zone (see add_vtimezones()). */
static struct icaltimetype
attach_zone (GHashTable          *zones,
             icalproperty        *prop,
             struct icaltimetype  time)
{
  const char *tzid;

  if (time.is_date)
    {
      time.zone = NULL;
      return time;
    }
  if (icaltime_is_utc (time))
    return time;

  tzid = get_tzid (prop);
  time.zone = tzid != NULL ? g_hash_table_lookup (zones, tzid) : NULL;
  return time;
}

static struct icaltimetype
property_time (GHashTable   *zones,
               icalproperty *prop)
{
  return attach_zone (zones, prop, icalvalue_get_datetime (icalproperty_get_value (prop)));
}

/* Zoned times go through libical's zone (a VTIMEZONE of the calendar or a
 * builtin one); floating times and dates are the process's local time,
 * which is what they mean to the user at this machine.  FALSE for times
 * outside the years 1–9999. */
static gboolean
time_to_unix (struct icaltimetype  time,
              gint64              *out_unix)
{
  g_autoptr(GDateTime) datetime = NULL;

  if (!time.is_date && time.zone != NULL)
    {
      time = icaltime_convert_to_zone (time, icaltimezone_get_utc_timezone ());
      datetime = g_date_time_new_utc (time.year, time.month, time.day,
                                      time.hour, time.minute, time.second);
    }
  else
    {
      time = icaltime_normalize (time);
      if (time.is_date)
        datetime = g_date_time_new_local (time.year, time.month, time.day, 0, 0, 0);
      else
        datetime = g_date_time_new_local (time.year, time.month, time.day,
                                          time.hour, time.minute, time.second);
    }

  if (datetime == NULL)
    return FALSE;
  *out_unix = g_date_time_to_unix (datetime);
  return TRUE;
}

static gboolean
span_end_of (const Span          *span,
             struct icaltimetype  occurrence,
             gint64              *out_end)
{
  struct icaldurationtype nominal = icaldurationtype_null_duration ();
  gint64 exact = 0;
  gint64 end;

  if (span->has_duration)
    {
      nominal.days = span->duration.days + 7 * span->duration.weeks;
      exact = (gint64) span->duration.hours * 3600 +
              (gint64) span->duration.minutes * 60 +
              (gint64) span->duration.seconds;
    }
  else if (span->has_dtend && occurrence.is_date)
    {
      nominal.days = (unsigned int) span->dtend_days;
    }
  else if (span->has_dtend)
    {
      exact = span->dtend_seconds;
    }
  else if (occurrence.is_date)
    {
      /* RFC 5545 3.6.1: an all-day event without end lasts the day. */
      nominal.days = 1;
    }

  if (!time_to_unix (icaltime_add (occurrence, nominal), &end))
    return FALSE;
  *out_end = end + exact;
  return TRUE;
}

static gboolean
set_out_of_range_error (GError        **error,
                        icalcomponent  *vevent)
{
  g_autofree char *label = describe_vevent (vevent);

  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
               _("The appointment %s has a date outside the years 1 to 9999."), label);
  return FALSE;
}

/**
 * agl_event_rule_is_expandable:
 * @rule: a recurrence rule
 *
 * libical 3.0 steps a rule more often than daily second by second, minute
 * by minute or hour by hour, testing each step against its day parts; a
 * rule no day can meet (BYMONTH=2;BYMONTHDAY=30) then runs for minutes
 * inside one step, out of reach of any step count.  Calendars do not write
 * such rules (Outlook's most frequent is daily), so they are refused where
 * text comes in, and again before expansion.
 *
 * Returns: %FALSE for a rule more often than daily that limits the days.
 */
gboolean
agl_event_rule_is_expandable (const struct icalrecurrencetype *rule)
{
  gboolean limits_days;

  if (rule->freq != ICAL_SECONDLY_RECURRENCE &&
      rule->freq != ICAL_MINUTELY_RECURRENCE &&
      rule->freq != ICAL_HOURLY_RECURRENCE)
    return TRUE;

  limits_days = rule->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                rule->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                rule->by_year_day[0] != ICAL_RECURRENCE_ARRAY_MAX ||
                rule->by_week_no[0] != ICAL_RECURRENCE_ARRAY_MAX;
  for (guint i = 0; !limits_days && rule->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
    limits_days = icalrecurrencetype_day_position (rule->by_day[i]) != 0;
  return !limits_days;
}

static gboolean
check_rrules (icalcomponent  *vevent,
              const Span     *span,
              GError        **error)
{
  g_autoptr(GPtrArray) rrules = list_properties (vevent, ICAL_RRULE_PROPERTY);

  for (guint i = 0; i < rrules->len; i++)
    {
      struct icalrecurrencetype rule = icalproperty_get_rrule (g_ptr_array_index (rrules, i));
      g_autoptr(icalrecur_iterator) iterator = NULL;

      if (rule.freq != ICAL_NO_RECURRENCE && agl_event_rule_is_expandable (&rule))
        iterator = icalrecur_iterator_new (rule, span->dtstart);
      icalerror_clear_errno ();
      if (iterator == NULL)
        {
          g_autofree char *label = describe_vevent (vevent);
          g_autofree char *text = icalproperty_get_value_as_string_r (g_ptr_array_index (rrules, i));

          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s has a repeat rule that cannot be used: RRULE:%s."),
                       label, text != NULL ? text : "");
          return FALSE;
        }
    }
  return TRUE;
}

/* Checks what the agenda relies on in one VEVENT and works out its span. */
static gboolean
check_vevent (GHashTable     *zones,
              icalcomponent  *vevent,
              Span           *span,
              GError        **error)
{
  icalproperty *dtstart_prop = icalcomponent_get_first_property (vevent, ICAL_DTSTART_PROPERTY);
  icalproperty *dtend_prop = icalcomponent_get_first_property (vevent, ICAL_DTEND_PROPERTY);
  icalproperty *duration_prop = icalcomponent_get_first_property (vevent, ICAL_DURATION_PROPERTY);
  g_autofree char *label = describe_vevent (vevent);

  memset (span, 0, sizeof *span);

  if (dtstart_prop == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                   _("The appointment %s has no start time (DTSTART)."), label);
      return FALSE;
    }
  if (dtend_prop != NULL && duration_prop != NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                   _("The appointment %s has both an end (DTEND) and a duration (DURATION); remove one of them."),
                   label);
      return FALSE;
    }

  span->dtstart = property_time (zones, dtstart_prop);
  if (!time_to_unix (span->dtstart, &span->start))
    return set_out_of_range_error (error, vevent);

  if (duration_prop != NULL)
    {
      span->has_duration = TRUE;
      span->duration = icalproperty_get_duration (duration_prop);
      if (span->duration.is_neg)
        {
          g_autofree char *text = icaldurationtype_as_ical_string_r (span->duration);

          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s has a negative duration (DURATION:%s)."),
                       label, text);
          return FALSE;
        }
      if (!span_end_of (span, span->dtstart, &span->end))
        return set_out_of_range_error (error, vevent);
    }
  else if (dtend_prop != NULL)
    {
      struct icaltimetype dtend = property_time (zones, dtend_prop);

      if (dtend.is_date != span->dtstart.is_date)
        {
          if (span->dtstart.is_date)
            g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                         _("The appointment %s starts on a date (all day) but ends at a date-time; DTSTART and DTEND must both be dates or both date-times."),
                         label);
          else
            g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                         _("The appointment %s starts at a date-time but ends on a date (all day); DTSTART and DTEND must both be dates or both date-times."),
                         label);
          return FALSE;
        }
      if (!time_to_unix (dtend, &span->end))
        return set_out_of_range_error (error, vevent);
      if (span->end < span->start)
        {
          g_autofree char *start_text = icaltime_as_ical_string_r (span->dtstart);
          g_autofree char *end_text = icaltime_as_ical_string_r (dtend);

          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s ends (DTEND %s) before it starts (DTSTART %s)."),
                       label, end_text, start_text);
          return FALSE;
        }
      span->has_dtend = TRUE;
      /* Rounded, as a local day across a DST change has 23 or 25 hours. */
      span->dtend_days = (span->end - span->start + 43200) / 86400;
      span->dtend_seconds = span->end - span->start;
    }
  else if (!span_end_of (span, span->dtstart, &span->end))
    {
      return set_out_of_range_error (error, vevent);
    }

  return check_rrules (vevent, span, error);
}

/* The end of the last occurrence of one RRULE, FALSE if the rule has no
 * end that bounded work can find. */
static gboolean
rrule_last_end (const Span                *span,
                struct icalrecurrencetype  rule,
                gint64                    *out_end)
{
  g_autoptr(icalrecur_iterator) iterator = NULL;
  struct icaltimetype last = icaltime_null_time ();
  guint steps;

  if (rule.count == 0 && icaltime_is_null_time (rule.until))
    return FALSE;

  iterator = icalrecur_iterator_new (rule, span->dtstart);
  if (iterator == NULL)
    return FALSE;

  for (steps = 0; steps <= RECURRENCE_MAX_STEPS; steps++)
    {
      struct icaltimetype next = icalrecur_iterator_next (iterator);

      if (icaltime_is_null_time (next))
        break;
      last = next;
    }
  icalerror_clear_errno ();
  if (steps > RECURRENCE_MAX_STEPS)
    return FALSE;

  if (icaltime_is_null_time (last))
    {
      *out_end = span->end;
      return TRUE;
    }
  last.zone = span->dtstart.zone;
  return span_end_of (span, last, out_end);
}

static gboolean
rdate_end (GHashTable    *zones,
           icalproperty  *prop,
           const Span    *span,
           gint64        *out_end)
{
  struct icaldatetimeperiodtype rdate = icalproperty_get_rdate (prop);

  if (!icalperiodtype_is_null_period (rdate.period))
    {
      struct icaltimetype start = attach_zone (zones, prop, rdate.period.start);
      gint64 start_unix;

      if (!icaltime_is_null_time (rdate.period.end))
        return time_to_unix (attach_zone (zones, prop, rdate.period.end), out_end);
      if (!time_to_unix (start, &start_unix))
        return FALSE;
      *out_end = start_unix + icaldurationtype_as_int (rdate.period.duration);
      return TRUE;
    }
  return span_end_of (span, attach_zone (zones, prop, rdate.time), out_end);
}

/* The end of the last occurrence of the series: RRULEs (bounded ones
 * expanded), RDATEs and exceptions moved later.  EXDATEs are not taken
 * off, so the result may be late but is never early. */
static gint64
compute_range_end (GHashTable *zones,
                   GPtrArray  *vevents,
                   GArray     *spans)
{
  icalcomponent *master = g_ptr_array_index (vevents, 0);
  const Span *master_span = &g_array_index (spans, Span, 0);
  g_autoptr(GPtrArray) rrules = list_properties (master, ICAL_RRULE_PROPERTY);
  g_autoptr(GPtrArray) rdates = list_properties (master, ICAL_RDATE_PROPERTY);
  gint64 range_end = master_span->end;
  gint64 shift = 0;

  for (guint i = 0; i < rrules->len; i++)
    {
      gint64 end;

      if (!rrule_last_end (master_span, icalproperty_get_rrule (g_ptr_array_index (rrules, i)), &end))
        return AGL_ITEM_UNBOUNDED;
      range_end = MAX (range_end, end);
    }

  for (guint i = 0; i < rdates->len; i++)
    {
      gint64 end;

      if (!rdate_end (zones, g_ptr_array_index (rdates, i), master_span, &end))
        return AGL_ITEM_UNBOUNDED;
      range_end = MAX (range_end, end);
    }

  for (guint i = 1; i < vevents->len; i++)
    {
      icalcomponent *exception = g_ptr_array_index (vevents, i);
      const Span *span = &g_array_index (spans, Span, i);
      icalproperty *rid = icalcomponent_get_first_property (exception, ICAL_RECURRENCEID_PROPERTY);
      icalparameter *range = icalproperty_get_first_parameter (rid, ICAL_RANGE_PARAMETER);
      gint64 rid_unix;

      range_end = MAX (range_end, span->end);

      /* RANGE=THISANDFUTURE moves every later occurrence too: move the
       * end by as much as this one moved and grew. */
      if (range != NULL && icalparameter_get_range (range) == ICAL_RANGE_THISANDFUTURE &&
          time_to_unix (property_time (zones, rid), &rid_unix))
        shift = MAX (shift,
                     MAX (0, span->start - rid_unix) +
                     MAX (0, (span->end - span->start) - (master_span->end - master_span->start)));
    }

  return MIN (range_end + shift, AGL_ITEM_UNBOUNDED);
}

static icalcomponent *
new_vcalendar (void)
{
  icalcomponent *vcalendar = icalcomponent_new (ICAL_VCALENDAR_COMPONENT);

  icalcomponent_add_property (vcalendar, icalproperty_new_version ("2.0"));
  icalcomponent_add_property (vcalendar, icalproperty_new_prodid (AGL_PRODID));
  return vcalendar;
}

static void
collect_tzids (icalcomponent *vevent,
               GPtrArray     *tzids)
{
  g_autoptr(GPtrArray) props = list_properties (vevent, ICAL_ANY_PROPERTY);

  for (guint i = 0; i < props->len; i++)
    {
      const char *tzid = get_tzid (g_ptr_array_index (props, i));

      if (tzid != NULL && !g_ptr_array_find_with_equal_func (tzids, tzid, g_str_equal, NULL))
        g_ptr_array_add (tzids, (gpointer) tzid);
    }
}

/* Finds the zone of each TZID of @entry's VEVENT, once per TZID, and
 * queues a copy of the VTIMEZONE defining it (from the VEVENT's own
 * VCALENDAR) for the appointment; builtin zones need none.  @zones maps
 * each TZID to the zone the times are computed with: a shared one (see
 * lookup_shared_zone()), else the one of the parsed text, which all the
 * appointments of a file use. */
static gboolean
add_vtimezones (const Entry    *entry,
                GHashTable     *zones,
                GPtrArray      *vtimezones,
                GError        **error)
{
  g_autoptr(GPtrArray) tzids = g_ptr_array_new ();
  icalcomponent *source = icalcomponent_get_parent (entry->vevent);

  collect_tzids (entry->vevent, tzids);
  for (guint i = 0; i < tzids->len; i++)
    {
      const char *tzid = g_ptr_array_index (tzids, i);
      icaltimezone *zone = NULL;

      if (g_hash_table_contains (zones, tzid))
        continue;

      if (source != NULL && icalcomponent_isa (source) == ICAL_VCALENDAR_COMPONENT)
        zone = icalcomponent_get_timezone (source, tzid);
      icalerror_clear_errno ();

      if (zone != NULL)
        {
          icalcomponent *vtimezone = icaltimezone_get_component (zone);
          const char *problem = find_parse_error (vtimezone);
          g_autoptr(GPtrArray) standard = list_components (vtimezone, ICAL_XSTANDARD_COMPONENT);
          g_autoptr(GPtrArray) daylight = list_components (vtimezone, ICAL_XDAYLIGHT_COMPONENT);
          icaltimezone *shared;

          if (problem != NULL || standard->len + daylight->len == 0)
            {
              g_autofree char *label = describe_vevent (entry->vevent);

              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           _("The time zone “%s” (VTIMEZONE) used by the appointment %s cannot be used: %s."),
                           tzid, label,
                           problem != NULL ? problem : _("it has no STANDARD or DAYLIGHT rules"));
              return FALSE;
            }
          g_ptr_array_add (vtimezones, icalcomponent_new_clone (vtimezone));
          shared = lookup_shared_zone (vtimezone);
          if (shared != NULL)
            zone = shared;
        }
      else
        {
          zone = find_builtin_zone (tzid);
        }

      if (zone == NULL)
        {
          g_autofree char *label = describe_vevent (entry->vevent);

          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s uses the time zone “%s”, which is neither a known zone name (such as Europe/Oslo) nor defined by a VTIMEZONE in its calendar."),
                       label, tzid);
          return FALSE;
        }
      g_hash_table_insert (zones, g_strdup (tzid), zone);
    }
  return TRUE;
}

static void
add_components_in_order (icalcomponent *vcalendar,
                         GPtrArray     *vtimezones)
{
  /* libical puts each VTIMEZONE added first; add them backwards so that
   * they come out in the order they were found. */
  for (guint i = vtimezones->len; i > 0; i--)
    icalcomponent_add_component (vcalendar, g_ptr_array_steal_index (vtimezones, i - 1));
}

static gboolean
check_occurrences_unique (GHashTable     *zones,
                          GPtrArray      *vevents,
                          GArray         *ordered,
                          guint          *out_position,
                          GError        **error)
{
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 1; i < vevents->len; i++)
    {
      icalcomponent *vevent = g_ptr_array_index (vevents, i);
      icalproperty *rid = icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY);
      struct icaltimetype time = property_time (zones, rid);
      gint64 when;

      if (!time_to_unix (time, &when))
        {
          *out_position = g_array_index (ordered, Entry, i).position;
          return set_out_of_range_error (error, vevent);
        }
      for (guint j = 0; j < seen->len; j++)
        if (g_array_index (seen, gint64, j) == when)
          {
            g_autofree char *label = describe_vevent (vevent);
            g_autofree char *text = icaltime_as_ical_string_r (time);

            *out_position = g_array_index (ordered, Entry, i).position;
            g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                         _("The appointment %s changes the occurrence %s twice (two VEVENTs with the same RECURRENCE-ID)."),
                         label, text);
            return FALSE;
          }
      g_array_append_val (seen, when);
    }
  return TRUE;
}

static AglEventTree *
tree_new (void)
{
  AglEventTree *tree = g_new0 (AglEventTree, 1);

  tree->vcalendar = new_vcalendar ();
  tree->vevents = g_ptr_array_new ();
  tree->spans = g_array_new (FALSE, TRUE, sizeof (Span));
  tree->zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return tree;
}

/* Puts the VEVENTs of one UID (@group, in file order) together as one
 * appointment: the VTIMEZONEs they use, the master, then its exceptions,
 * each checked and with its span worked out.  On error *out_position is
 * the VEVENT at fault. */
static AglEventTree *
assemble_tree (GArray  *group,
               guint   *out_position,
               GError **error)
{
  g_autoptr(AglEventTree) tree = tree_new ();
  g_autoptr(GArray) ordered = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_autoptr(GPtrArray) vtimezones = g_ptr_array_new_with_free_func ((GDestroyNotify) icalcomponent_free);
  const Entry *master = NULL;

  /* The master first, then its exceptions in file order. */
  for (guint i = 0; i < group->len; i++)
    {
      const Entry *entry = &g_array_index (group, Entry, i);

      if (icalcomponent_get_first_property (entry->vevent, ICAL_RECURRENCEID_PROPERTY) != NULL)
        continue;
      if (master != NULL)
        {
          g_autofree char *label = describe_vevent (entry->vevent);

          *out_position = entry->position;
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s is there twice: two VEVENTs have its UID and no RECURRENCE-ID. Give one of them another UID."),
                       label);
          return NULL;
        }
      master = entry;
    }
  if (master == NULL)
    {
      const Entry *entry = &g_array_index (group, Entry, 0);
      g_autofree char *label = describe_vevent (entry->vevent);

      *out_position = entry->position;
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                   _("The appointment %s changes one occurrence (RECURRENCE-ID) of a series that is not there; add the series’ VEVENT with the same UID and no RECURRENCE-ID."),
                   label);
      return NULL;
    }
  g_array_append_val (ordered, *master);
  for (guint i = 0; i < group->len; i++)
    if (&g_array_index (group, Entry, i) != master)
      g_array_append_val (ordered, g_array_index (group, Entry, i));

  for (guint i = 0; i < ordered->len; i++)
    {
      const Entry *entry = &g_array_index (ordered, Entry, i);
      const char *problem = find_parse_error (entry->vevent);

      *out_position = entry->position;
      if (problem != NULL)
        {
          g_autofree char *label = describe_vevent (entry->vevent);

          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                       _("The appointment %s has a line that cannot be read: %s."),
                       label, problem);
          return NULL;
        }
      if (!add_vtimezones (entry, tree->zones, vtimezones, error))
        return NULL;
    }
  add_components_in_order (tree->vcalendar, vtimezones);

  for (guint i = 0; i < ordered->len; i++)
    {
      icalcomponent *clone = icalcomponent_new_clone (g_array_index (ordered, Entry, i).vevent);
      Span span;

      icalcomponent_add_component (tree->vcalendar, clone);
      g_ptr_array_add (tree->vevents, clone);
      *out_position = g_array_index (ordered, Entry, i).position;
      if (!check_vevent (tree->zones, clone, &span, error))
        return NULL;
      g_array_append_val (tree->spans, span);
    }
  if (!check_occurrences_unique (tree->zones, tree->vevents, ordered, out_position, error))
    return NULL;

  return g_steal_pointer (&tree);
}

/* Makes one appointment of the VEVENTs of one UID (@group, in file
 * order).  On error *out_position is the VEVENT at fault. */
static AglEvent *
build_event (GArray  *group,
             guint   *out_position,
             GError **error)
{
  g_autoptr(AglEventTree) tree = assemble_tree (group, out_position, error);
  GPtrArray *vevents;
  GArray *spans;
  const Span *master_span;
  icalcomponent *master_vevent;
  AglEvent *event;

  if (tree == NULL)
    return NULL;
  vevents = tree->vevents;
  spans = tree->spans;
  master_vevent = g_ptr_array_index (vevents, 0);
  master_span = &g_array_index (spans, Span, 0);

  if (get_text_property (master_vevent, ICAL_UID_PROPERTY) == NULL)
    {
      g_autofree char *random = g_uuid_string_random ();
      g_autofree char *uid = g_strconcat (random, "@agendaline", NULL);
      icalproperty *prop = icalcomponent_get_first_property (master_vevent, ICAL_UID_PROPERTY);

      if (prop != NULL)
        icalproperty_set_uid (prop, uid);
      else
        icalcomponent_add_property (master_vevent, icalproperty_new_uid (uid));
    }
  /* RFC 5545 requires DTSTAMP in every VEVENT; Exchange and other
   * clients check it. */
  for (guint i = 0; i < vevents->len; i++)
    {
      icalcomponent *vevent = g_ptr_array_index (vevents, i);

      if (icalcomponent_get_first_property (vevent, ICAL_DTSTAMP_PROPERTY) == NULL)
        icalcomponent_add_property (vevent,
                                    icalproperty_new_dtstamp (icaltime_current_time_with_zone (icaltimezone_get_utc_timezone ())));
    }

  event = g_new0 (AglEvent, 1);
  event->uid = g_strdup (get_text_property (master_vevent, ICAL_UID_PROPERTY));
  event->summary = g_strdup (get_text_property (master_vevent, ICAL_SUMMARY_PROPERTY));
  if (event->summary == NULL)
    event->summary = g_strdup ("");
  event->start = master_span->start;
  event->end = master_span->end;
  event->all_day = master_span->dtstart.is_date;
  event->recurring = icalcomponent_get_first_property (master_vevent, ICAL_RRULE_PROPERTY) != NULL ||
                     icalcomponent_get_first_property (master_vevent, ICAL_RDATE_PROPERTY) != NULL;
  if (event->recurring)
    {
      event->range_end = compute_range_end (tree->zones, vevents, spans);
    }
  else
    {
      /* An exception of a single event is odd but harmless; the range
       * still covers it. */
      event->range_end = event->end;
      for (guint i = 1; i < spans->len; i++)
        event->range_end = MAX (event->range_end, g_array_index (spans, Span, i).end);
    }
  event->text = serialize (tree->vcalendar);
  icalerror_clear_errno ();
  return event;
}

/* A group by its UID, or by SUMMARY when it has none. */
static char *
name_group (GArray *group)
{
  icalcomponent *vevent = g_array_index (group, Entry, 0).vevent;
  const char *uid = get_text_property (vevent, ICAL_UID_PROPERTY);

  return uid != NULL ? g_strdup_printf ("“%s”", uid) : describe_vevent (vevent);
}

static GArray *
collect_entries (icalcomponent *root)
{
  GArray *entries = g_array_new (FALSE, FALSE, sizeof (Entry));

  collect_vevents (root, entries);
  return entries;
}

static gboolean
check_single_group (GPtrArray  *groups,
                    GError    **error)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  if (groups->len <= 1)
    return TRUE;

  first = name_group (g_ptr_array_index (groups, 0));
  second = name_group (g_ptr_array_index (groups, 1));
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
               _("The text holds several appointments with different UIDs (such as %s and %s); add one at a time, or use import for several appointments."),
               first, second);
  return FALSE;
}

static AglEvent *
event_new_from_string (const char  *ical,
                       const char  *fallback_uid,
                       GError     **error)
{
  g_autoptr(icalcomponent) root = NULL;
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  guint position = 0;

  ensure_libical ();
  root = parse_text (ical, SOURCE_EVENT, error);
  if (root == NULL)
    return NULL;

  entries = collect_entries (root);
  if (entries->len == 0)
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           _("The text holds no appointment (no VEVENT)."));
      return NULL;
    }

  /* Before grouping, so that a master and exceptions without UID stay
   * one appointment. */
  for (guint i = 0; fallback_uid != NULL && i < entries->len; i++)
    {
      icalcomponent *vevent = g_array_index (entries, Entry, i).vevent;
      icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_UID_PROPERTY);

      if (get_text_property (vevent, ICAL_UID_PROPERTY) != NULL)
        continue;
      if (prop != NULL)
        icalproperty_set_uid (prop, fallback_uid);
      else
        icalcomponent_add_property (vevent, icalproperty_new_uid (fallback_uid));
    }

  groups = group_entries (entries);
  if (!check_single_group (groups, error))
    return NULL;

  return build_event (g_ptr_array_index (groups, 0), &position, error);
}

/**
 * agl_event_new_from_string:
 * @ical: iCalendar text: a VCALENDAR holding one appointment (one UID: the
 *   VEVENT and its RECURRENCE-ID exceptions, with VTIMEZONEs), or a bare
 *   VEVENT
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * Checks and normalises one appointment.  A VEVENT without UID gets a new
 * one; properties Agendaline does not know, X- properties included, are
 * kept as they were.
 *
 * Returns: (transfer full) (nullable): the appointment, or %NULL with
 *   @error naming the problem and the VEVENT (SUMMARY, UID)
 */
AglEvent *
agl_event_new_from_string (const char  *ical,
                           GError     **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return event_new_from_string (ical, NULL, error);
}

/**
 * agl_event_new_from_string_with_uid:
 * @ical: iCalendar text, as for agl_event_new_from_string()
 * @default_uid: the UID to give VEVENTs that have none
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * As agl_event_new_from_string(), for new text of an appointment that
 * already has @default_uid: VEVENTs without UID take it rather than a new
 * one.  A UID the text does have is kept; comparing it with @default_uid
 * is the caller's business.
 *
 * Returns: (transfer full) (nullable): the appointment
 */
AglEvent *
agl_event_new_from_string_with_uid (const char  *ical,
                                    const char  *default_uid,
                                    GError     **error)
{
  g_return_val_if_fail (default_uid != NULL && *default_uid != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return event_new_from_string (ical, default_uid, error);
}

/**
 * agl_event_list_from_ics:
 * @ics: the text of an .ics file: one or more VCALENDARs with any number
 *   of VEVENTs and VTIMEZONEs
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * Splits a calendar file into appointments, one per UID (its VEVENT and
 * RECURRENCE-ID exceptions, wherever they are in the file), each with the
 * VTIMEZONEs it uses, in the order the UIDs first appear.  VTODO, VJOURNAL
 * and VFREEBUSY are skipped.  All or nothing: the first bad appointment
 * fails the call, and the message names its place ("event 3") and the
 * problem.
 *
 * Returns: (transfer container) (element-type AglEvent) (nullable): the
 *   appointments, never empty
 */
GPtrArray *
agl_event_list_from_ics (const char  *ics,
                         GError     **error)
{
  g_autoptr(icalcomponent) root = NULL;
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) events = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_libical ();
  root = parse_text (ics, SOURCE_FILE, error);
  if (root == NULL)
    return NULL;

  entries = collect_entries (root);
  if (entries->len == 0)
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           _("The calendar file holds no appointments (no VEVENT)."));
      return NULL;
    }

  groups = group_entries (entries);
  events = g_ptr_array_new_full (groups->len, (GDestroyNotify) agl_event_free);
  for (guint i = 0; i < groups->len; i++)
    {
      guint position = 0;
      AglEvent *event = build_event (g_ptr_array_index (groups, i), &position, error);

      if (event == NULL)
        {
          g_prefix_error (error, _("Event %u of the file cannot be imported: "), position);
          return NULL;
        }
      g_ptr_array_add (events, event);
    }
  return g_steal_pointer (&events);
}

/**
 * agl_event_free:
 * @event: (nullable): an appointment
 */
void
agl_event_free (AglEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->text);
  g_free (event->uid);
  g_free (event->summary);
  g_free (event);
}

/**
 * agl_event_get_uid:
 * @event: an appointment
 *
 * Returns: the UID of the master VEVENT (made up if the text had none)
 */
const char *
agl_event_get_uid (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  return event->uid;
}

/**
 * agl_event_get_summary:
 * @event: an appointment
 *
 * Returns: the master VEVENT's SUMMARY, "" when it has none
 */
const char *
agl_event_get_summary (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  return event->summary;
}

/**
 * agl_event_get_start:
 * @event: an appointment
 *
 * Returns: the master's DTSTART as Unix time; see agl-event.h for how
 *   floating times and dates are read
 */
gint64
agl_event_get_start (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);
  return event->start;
}

/**
 * agl_event_get_end:
 * @event: an appointment
 *
 * Returns: the end of the first occurrence as Unix time: DTEND, else
 *   DTSTART + DURATION, else DTSTART (a date-time) or the day's end (a date)
 */
gint64
agl_event_get_end (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);
  return event->end;
}

/**
 * agl_event_get_range_end:
 * @event: an appointment
 *
 * Returns: the end of the last occurrence (RRULE, RDATE and exceptions
 *   considered, EXDATE not), the end for a single event, or
 *   %AGL_ITEM_UNBOUNDED for a series without end
 */
gint64
agl_event_get_range_end (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, 0);
  return event->range_end;
}

/**
 * agl_event_get_all_day:
 * @event: an appointment
 *
 * Returns: whether the master's DTSTART is a date
 */
gboolean
agl_event_get_all_day (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, FALSE);
  return event->all_day;
}

/**
 * agl_event_is_recurring:
 * @event: an appointment
 *
 * Returns: whether the master has an RRULE or RDATE
 */
gboolean
agl_event_is_recurring (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, FALSE);
  return event->recurring;
}

/**
 * agl_event_to_string:
 * @event: an appointment
 *
 * Returns: (transfer full): the normalised VCALENDAR text; reading it back
 *   with agl_event_new_from_string() gives the same text
 */
char *
agl_event_to_string (AglEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);
  return g_strdup (event->text);
}

/**
 * agl_event_to_item:
 * @event: an appointment
 * @account: (nullable): the account's name, %NULL for the local agenda
 *
 * Returns: (transfer full): a new item (id 0) with @event's indexed fields
 *   and normalised text
 */
AglItem *
agl_event_to_item (AglEvent   *event,
                   const char *account)
{
  AglItem *item;

  g_return_val_if_fail (event != NULL, NULL);

  item = agl_item_new ();
  item->id = 0;
  item->account = g_strdup (account);
  item->uid = g_strdup (event->uid);
  item->summary = g_strdup (event->summary);
  item->start = event->start;
  item->end = event->end;
  item->range_end = event->range_end;
  item->all_day = event->all_day;
  item->recurring = event->recurring;
  item->ical = g_strdup (event->text);
  return item;
}

static void
collect_vcalendars (icalcomponent *root,
                    GPtrArray     *vcalendars)
{
  g_autoptr(GPtrArray) children = NULL;

  if (icalcomponent_isa (root) == ICAL_VCALENDAR_COMPONENT)
    {
      g_ptr_array_add (vcalendars, root);
      return;
    }
  children = list_components (root, ICAL_VCALENDAR_COMPONENT);
  g_ptr_array_extend (vcalendars, children, NULL, NULL);
}

/**
 * agl_event_export:
 * @icals: (element-type utf8): stored VCALENDAR texts (AglItem.ical)
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * Joins appointments into one VCALENDAR for other calendar programs: all
 * their VEVENTs, each VTIMEZONE once (the first of a TZID wins), and a
 * VTIMEZONE for each builtin zone they name, as RFC 5545 wants one for
 * every TZID.  No METHOD: this is a calendar, not an invitation.  An empty
 * array gives a VCALENDAR without components.
 *
 * Returns: (transfer full) (nullable): the iCalendar text
 */
char *
agl_event_export (GPtrArray  *icals,
                  GError    **error)
{
  g_autoptr(icalcomponent) vcalendar = NULL;
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) icalcomponent_free);
  g_autoptr(GPtrArray) vtimezones = g_ptr_array_new_with_free_func ((GDestroyNotify) icalcomponent_free);
  g_autoptr(GPtrArray) vevents = g_ptr_array_new ();
  g_autoptr(GPtrArray) referenced = g_ptr_array_new ();
  g_autoptr(GHashTable) defined = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_val_if_fail (icals != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_libical ();

  for (guint i = 0; i < icals->len; i++)
    {
      icalcomponent *root = parse_text (g_ptr_array_index (icals, i), SOURCE_FILE, error);
      g_autoptr(GPtrArray) vcalendars = g_ptr_array_new ();
      g_autoptr(GArray) entries = NULL;

      if (root == NULL)
        {
          g_prefix_error (error, _("Appointment %u cannot be exported: "), i + 1);
          return NULL;
        }
      g_ptr_array_add (roots, root);

      collect_vcalendars (root, vcalendars);
      for (guint j = 0; j < vcalendars->len; j++)
        {
          g_autoptr(GPtrArray) zones = list_components (g_ptr_array_index (vcalendars, j),
                                                        ICAL_VTIMEZONE_COMPONENT);

          for (guint k = 0; k < zones->len; k++)
            {
              icalcomponent *zone = g_ptr_array_index (zones, k);
              const char *tzid = get_text_property (zone, ICAL_TZID_PROPERTY);

              if (tzid == NULL || g_hash_table_contains (defined, tzid))
                continue;
              g_hash_table_add (defined, (gpointer) tzid);
              g_ptr_array_add (vtimezones, icalcomponent_new_clone (zone));
            }
        }

      entries = collect_entries (root);
      for (guint j = 0; j < entries->len; j++)
        {
          icalcomponent *vevent = g_array_index (entries, Entry, j).vevent;

          collect_tzids (vevent, referenced);
          g_ptr_array_add (vevents, vevent);
        }
    }

  for (guint i = 0; i < referenced->len; i++)
    {
      const char *tzid = g_ptr_array_index (referenced, i);
      icaltimezone *zone;
      icalcomponent *builtin;
      icalcomponent *clone;

      if (g_hash_table_contains (defined, tzid))
        continue;
      zone = find_builtin_zone (tzid);
      builtin = zone != NULL ? icaltimezone_get_component (zone) : NULL;
      icalerror_clear_errno ();
      /* UTC has no VTIMEZONE; every reader knows it. */
      if (builtin == NULL)
        continue;

      /* libical names its zones "/freeassociation.sourceforge.net/…";
       * the copy must carry the name the VEVENTs use. */
      clone = icalcomponent_new_clone (builtin);
      icalproperty_set_tzid (icalcomponent_get_first_property (clone, ICAL_TZID_PROPERTY), tzid);
      g_ptr_array_add (vtimezones, clone);
      g_hash_table_add (defined, (gpointer) tzid);
    }

  vcalendar = new_vcalendar ();
  add_components_in_order (vcalendar, vtimezones);
  for (guint i = 0; i < vevents->len; i++)
    icalcomponent_add_component (vcalendar, icalcomponent_new_clone (g_ptr_array_index (vevents, i)));

  icalerror_clear_errno ();
  return serialize (vcalendar);
}

/* The value of @vevent's X- property @name, unescaped as TEXT; NULL when
 * it has none.  protect_raw_lines() keeps X- lines as the base64 of the
 * whole line, so that is where they are looked for. */
static char *
dup_x_property (icalcomponent *vevent,
                const char    *name)
{
  g_autoptr(GPtrArray) props = list_properties (vevent, ICAL_X_PROPERTY);
  gsize name_len = strlen (name);

  for (guint i = 0; i < props->len; i++)
    {
      icalproperty *prop = g_ptr_array_index (props, i);
      const char *encoded = icalproperty_get_x (prop);
      g_autofree guchar *raw = NULL;
      g_autofree char *line = NULL;
      gboolean quoted = FALSE;
      const char *p;
      gsize len = 0;
      GString *value;

      if (g_strcmp0 (icalproperty_get_x_name (prop), RAW_NAME) != 0 || encoded == NULL)
        continue;
      raw = g_base64_decode (encoded, &len);
      line = g_strndup ((const char *) raw, len);
      if (g_ascii_strncasecmp (line, name, name_len) != 0 ||
          (line[name_len] != ':' && line[name_len] != ';'))
        continue;

      /* The value starts after the first colon outside a quoted
       * parameter value. */
      for (p = line + name_len; *p != '\0' && (quoted || *p != ':'); p++)
        if (*p == '"')
          quoted = !quoted;
      if (*p != ':')
        continue;

      value = g_string_new (NULL);
      for (p++; *p != '\0'; p++)
        {
          if (*p == '\\' && p[1] != '\0')
            {
              p++;
              g_string_append_c (value, (*p == 'n' || *p == 'N') ? '\n' : *p);
            }
          else
            {
              g_string_append_c (value, *p);
            }
        }
      return g_string_free (value, FALSE);
    }
  return NULL;
}

/**
 * agl_event_tree_new:
 * @ical: the text of one appointment, normally as agl_event_to_string()
 *   made it (AglItem.ical)
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * Reads an appointment for code that computes with its VEVENTs, such as
 * the expansion of a series into occurrences.  The text is checked as
 * agl_event_new_from_string() checks it, and the times are read the same
 * way: TZIDs through the same (shared) zones, floating times and dates in
 * the process's local time zone.
 *
 * Returns: (transfer full) (nullable): the appointment's tree
 */
AglEventTree *
agl_event_tree_new (const char  *ical,
                    GError     **error)
{
  g_autoptr(icalcomponent) root = NULL;
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  AglEventTree *tree;
  guint position = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ensure_libical ();
  root = parse_text (ical, SOURCE_EVENT, error);
  if (root == NULL)
    return NULL;

  entries = collect_entries (root);
  if (entries->len == 0)
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                           _("The text holds no appointment (no VEVENT)."));
      return NULL;
    }
  groups = group_entries (entries);
  if (!check_single_group (groups, error))
    return NULL;

  tree = assemble_tree (g_ptr_array_index (groups, 0), &position, error);
  if (tree != NULL)
    tree->root = g_steal_pointer (&root);
  icalerror_clear_errno ();
  return tree;
}

/**
 * agl_event_tree_free:
 * @tree: (nullable): an appointment's tree
 */
void
agl_event_tree_free (AglEventTree *tree)
{
  if (tree == NULL)
    return;
  g_hash_table_unref (tree->zones);
  g_array_unref (tree->spans);
  g_ptr_array_unref (tree->vevents);
  icalcomponent_free (tree->vcalendar);
  g_clear_pointer (&tree->root, icalcomponent_free);
  g_free (tree);
}

/**
 * agl_event_tree_get_n_vevents:
 * @tree: an appointment's tree
 *
 * Returns: the number of VEVENTs: the master and its exceptions
 */
guint
agl_event_tree_get_n_vevents (AglEventTree *tree)
{
  g_return_val_if_fail (tree != NULL, 0);
  return tree->vevents->len;
}

/**
 * agl_event_tree_get_vevent:
 * @tree: an appointment's tree
 * @index: 0 for the master, 1 and up for its exceptions (RECURRENCE-ID)
 *
 * Returns: (transfer none): the VEVENT, owned by @tree.  Its X- and
 *   unknown properties are not readable through libical; see
 *   agl_event_tree_dup_x_property().
 */
icalcomponent *
agl_event_tree_get_vevent (AglEventTree *tree,
                           guint         index)
{
  g_return_val_if_fail (tree != NULL && index < tree->vevents->len, NULL);
  return g_ptr_array_index (tree->vevents, index);
}

/**
 * agl_event_tree_get_dtstart:
 * @tree: an appointment's tree
 * @index: a VEVENT, as for agl_event_tree_get_vevent()
 *
 * Returns: the VEVENT's DTSTART with its zone attached (none for floating
 *   times and dates), ready for icalrecur_iterator_new()
 */
struct icaltimetype
agl_event_tree_get_dtstart (AglEventTree *tree,
                            guint         index)
{
  g_return_val_if_fail (tree != NULL && index < tree->spans->len, icaltime_null_time ());
  return g_array_index (tree->spans, Span, index).dtstart;
}

/**
 * agl_event_tree_get_start:
 * @tree: an appointment's tree
 * @index: a VEVENT, as for agl_event_tree_get_vevent()
 *
 * Returns: the VEVENT's DTSTART as Unix time
 */
gint64
agl_event_tree_get_start (AglEventTree *tree,
                          guint         index)
{
  g_return_val_if_fail (tree != NULL && index < tree->spans->len, 0);
  return g_array_index (tree->spans, Span, index).start;
}

/**
 * agl_event_tree_get_end:
 * @tree: an appointment's tree
 * @index: a VEVENT, as for agl_event_tree_get_vevent()
 *
 * Returns: the end of the VEVENT as it stands (not of later occurrences)
 *   as Unix time, as agl_event_get_end() gives it for the master
 */
gint64
agl_event_tree_get_end (AglEventTree *tree,
                        guint         index)
{
  g_return_val_if_fail (tree != NULL && index < tree->spans->len, 0);
  return g_array_index (tree->spans, Span, index).end;
}

/**
 * agl_event_tree_end_of:
 * @tree: an appointment's tree
 * @index: the VEVENT whose length applies
 * @start: the start of one occurrence, in the zone of the VEVENT's DTSTART
 * @out_end: (out): the end of that occurrence as Unix time
 *
 * Gives an occurrence the VEVENT's length as RFC 5545 3.8.5.3 wants it:
 * DTEND keeps every occurrence equally long (whole days for dates),
 * DURATION counts days and weeks on the calendar (a day across a DST
 * change stays a day) and hours, minutes and seconds exactly.
 *
 * Returns: %FALSE when the end lies outside the years 1–9999
 */
gboolean
agl_event_tree_end_of (AglEventTree        *tree,
                       guint                index,
                       struct icaltimetype  start,
                       gint64              *out_end)
{
  g_return_val_if_fail (tree != NULL && index < tree->spans->len, FALSE);
  g_return_val_if_fail (out_end != NULL, FALSE);
  return span_end_of (&g_array_index (tree->spans, Span, index), start, out_end);
}

/**
 * agl_event_tree_attach_zone:
 * @tree: an appointment's tree
 * @prop: a property of one of @tree's VEVENTs (RDATE, EXDATE,
 *   RECURRENCE-ID, ...)
 * @time: a time read from @prop
 *
 * Returns: @time with the zone @prop's TZID names attached, the zone
 *   agl_event_new_from_string() checked; floating times and dates get
 *   none, UTC times stay UTC
 */
struct icaltimetype
agl_event_tree_attach_zone (AglEventTree        *tree,
                            icalproperty        *prop,
                            struct icaltimetype  time)
{
  g_return_val_if_fail (tree != NULL && prop != NULL, time);
  return attach_zone (tree->zones, prop, time);
}

/**
 * agl_event_tree_dup_x_property:
 * @tree: an appointment's tree
 * @index: a VEVENT, as for agl_event_tree_get_vevent()
 * @name: the name of an X- property, such as "X-MICROSOFT-CDO-BUSYSTATUS"
 *   (compared without regard to case)
 *
 * Returns: (transfer full) (nullable): the value of the first such
 *   property of the VEVENT, with TEXT escapes undone, or %NULL when it has
 *   none
 */
char *
agl_event_tree_dup_x_property (AglEventTree *tree,
                               guint         index,
                               const char   *name)
{
  g_return_val_if_fail (tree != NULL && index < tree->vevents->len, NULL);
  g_return_val_if_fail (name != NULL && g_ascii_strncasecmp (name, "X-", 2) == 0, NULL);
  return dup_x_property (g_ptr_array_index (tree->vevents, index), name);
}

/**
 * agl_event_tree_describe:
 * @tree: an appointment's tree
 *
 * Returns: (transfer full): how error messages name the appointment: its
 *   SUMMARY and UID, quoted, as “Planning” (UID 1234@example.com)
 */
char *
agl_event_tree_describe (AglEventTree *tree)
{
  g_return_val_if_fail (tree != NULL, NULL);
  return describe_vevent (g_ptr_array_index (tree->vevents, 0));
}

/**
 * agl_event_time_to_unix:
 * @time: a time from an appointment, with its zone attached (see
 *   agl_event_tree_attach_zone())
 * @out_unix: (out): the time as Unix seconds
 *
 * Zoned and UTC times go through their zone; floating times and dates
 * (their midnight) are read in the process's local time zone, as
 * agl-event.h describes.
 *
 * Returns: %FALSE for times outside the years 1–9999
 */
gboolean
agl_event_time_to_unix (struct icaltimetype  time,
                        gint64              *out_unix)
{
  g_return_val_if_fail (out_unix != NULL, FALSE);
  return time_to_unix (time, out_unix);
}
