/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>

#include "agl-windows-zones.h"

#define EWS_TYPES_NS "http://schemas.microsoft.com/exchange/services/2006/types"

/* The CLDR file is about 50 kB; anything far larger is not it. */
#define CLDR_MAX_BYTES ((gsize) 8 << 20)

/* EWS's first transition group stands for "since ever".  libical expands a
 * zone year by year from its first onset, so the VTIMEZONEs built here start
 * their rules in 1970 (earlier instants take the first rule's offsets). */
#define FIRST_RULE_YEAR 1970

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

struct _AglWindowsZones
{
  GObject     parent_instance;

  /* Windows id -> IANA name (territory 001, made canonical) */
  GHashTable *to_iana;
  /* IANA name (as CLDR spells it, and canonical) -> Windows id */
  GHashTable *to_windows;
  /* tzdata backward link: alias -> canonical name */
  GHashTable *links;
};

G_DEFINE_TYPE (AglWindowsZones, agl_windows_zones, G_TYPE_OBJECT)

G_DEFINE_QUARK (agl-windows-zones-error-quark, agl_windows_zones_error)

static xmlNode *
first_child_element (xmlNode    *node,
                     const char *name)
{
  for (xmlNode *child = node != NULL ? node->children : NULL; child != NULL; child = child->next)
    if (child->type == XML_ELEMENT_NODE &&
        (name == NULL || strcmp ((const char *) child->name, name) == 0))
      return child;
  return NULL;
}

static char *
child_text (xmlNode    *node,
            const char *name)
{
  xmlNode *child = first_child_element (node, name);
  xmlChar *content;
  char *text;

  if (child == NULL)
    return NULL;
  content = xmlNodeGetContent (child);
  text = g_strstrip (g_strdup ((const char *) content));
  xmlFree (content);
  return text;
}

static char *
node_attribute (xmlNode    *node,
                const char *name)
{
  xmlChar *value = xmlGetProp (node, (const xmlChar *) name);
  char *text = value != NULL ? g_strdup ((const char *) value) : NULL;

  xmlFree (value);
  return text;
}

/* Follows the link chain (tzdata links point to canonical names, but a
 * bounded walk keeps a damaged file from looping). */
static const char *
resolve_link (GHashTable *links,
              const char *name)
{
  for (int i = 0; i < 8; i++)
    {
      const char *target = g_hash_table_lookup (links, name);

      if (target == NULL)
        break;
      name = target;
    }
  return name;
}

/* The backward links of tzdata ("L Asia/Kolkata Asia/Calcutta"): CLDR keeps
 * old names such as Asia/Calcutta while libical and the system know the
 * zone as Asia/Kolkata.  A missing file only loses this normalisation. */
static void
load_links (AglWindowsZones *self,
            const char      *tzdata_path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (tzdata_path, &contents, NULL, NULL))
    return;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;

      if (!g_str_has_prefix (lines[i], "L "))
        continue;
      fields = g_strsplit_set (lines[i], " \t", -1);
      if (g_strv_length (fields) >= 3 && *fields[1] != '\0' && *fields[2] != '\0')
        g_hash_table_replace (self->links, g_strdup (fields[2]), g_strdup (fields[1]));
    }
}

static gboolean
load_cldr (AglWindowsZones *self,
           const char      *path,
           GError         **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  xmlNode *root, *windows_zones, *map_timezones;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_MISSING,
                   _("The Windows time zone table “%s” cannot be read (%s); install the "
                     "unicode-cldr-core package."),
                   path, local_error->message);
      return FALSE;
    }
  if (length > CLDR_MAX_BYTES || length > G_MAXINT)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_CORRUPT,
                   _("The Windows time zone table “%s” is too large to be CLDR’s windowsZones.xml."),
                   path);
      return FALSE;
    }

  /* No network, no entity substitution and no DTD loading: the file names
   * ldmlSupplemental.dtd, which is neither needed nor to be fetched. */
  doc = xmlReadMemory (contents, (int) length, path, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  windows_zones = root != NULL && strcmp ((const char *) root->name, "supplementalData") == 0
                    ? first_child_element (root, "windowsZones") : NULL;
  map_timezones = first_child_element (windows_zones, "mapTimezones");
  if (map_timezones == NULL)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_CORRUPT,
                   _("The Windows time zone table “%s” is damaged: it is not CLDR’s "
                     "windowsZones.xml; reinstall the unicode-cldr-core package."),
                   path);
      return FALSE;
    }

  for (xmlNode *zone = map_timezones->children; zone != NULL; zone = zone->next)
    {
      g_autofree char *other = NULL;
      g_autofree char *territory = NULL;
      g_autofree char *type = NULL;
      g_auto(GStrv) names = NULL;

      if (zone->type != XML_ELEMENT_NODE || strcmp ((const char *) zone->name, "mapZone") != 0)
        continue;
      other = node_attribute (zone, "other");
      territory = node_attribute (zone, "territory");
      type = node_attribute (zone, "type");
      if (other == NULL || territory == NULL || type == NULL)
        continue;

      names = g_strsplit (type, " ", -1);
      if (strcmp (territory, "001") == 0 && names[0] != NULL)
        g_hash_table_replace (self->to_iana, g_strdup (other),
                              g_strdup (resolve_link (self->links, names[0])));
      for (guint i = 0; names[i] != NULL; i++)
        {
          if (*names[i] == '\0')
            continue;
          /* The first mapping wins: CLDR lists the 001 line of a Windows
           * zone first, and a name can only map to one Windows zone. */
          if (!g_hash_table_contains (self->to_windows, names[i]))
            g_hash_table_insert (self->to_windows, g_strdup (names[i]), g_strdup (other));
          if (!g_hash_table_contains (self->to_windows, resolve_link (self->links, names[i])))
            g_hash_table_insert (self->to_windows,
                                 g_strdup (resolve_link (self->links, names[i])),
                                 g_strdup (other));
        }
    }

  if (g_hash_table_size (self->to_iana) == 0)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_CORRUPT,
                   _("The Windows time zone table “%s” holds no zones; reinstall the "
                     "unicode-cldr-core package."),
                   path);
      return FALSE;
    }
  return TRUE;
}

static void
agl_windows_zones_finalize (GObject *object)
{
  AglWindowsZones *self = AGL_WINDOWS_ZONES (object);

  g_clear_pointer (&self->to_iana, g_hash_table_unref);
  g_clear_pointer (&self->to_windows, g_hash_table_unref);
  g_clear_pointer (&self->links, g_hash_table_unref);
  G_OBJECT_CLASS (agl_windows_zones_parent_class)->finalize (object);
}

static void
agl_windows_zones_class_init (AglWindowsZonesClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = agl_windows_zones_finalize;
}

static void
agl_windows_zones_init (AglWindowsZones *self)
{
  self->to_iana = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->to_windows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * agl_windows_zones_new_from_file:
 * @cldr_path: CLDR's windowsZones.xml
 * @tzdata_path: (nullable): tzdata's tzdata.zi for the backward links, or
 *   %NULL for %AGL_WINDOWS_ZONES_TZDATA_PATH
 * @error: return location for an error
 *
 * Reads the Windows <-> IANA mapping.  Windows ids map to the zone CLDR
 * gives for territory "001", made canonical through tzdata's links
 * (Asia/Calcutta becomes Asia/Kolkata, the name libical knows); IANA names,
 * aliases and canonical names alike, map to the Windows zone of any
 * mapZone listing them.
 *
 * Returns: (transfer full): the mapping, or %NULL with
 *   %AGL_WINDOWS_ZONES_ERROR_MISSING or %AGL_WINDOWS_ZONES_ERROR_CORRUPT
 */
AglWindowsZones *
agl_windows_zones_new_from_file (const char *cldr_path,
                                 const char *tzdata_path,
                                 GError    **error)
{
  g_autoptr(AglWindowsZones) self = g_object_new (AGL_TYPE_WINDOWS_ZONES, NULL);

  g_return_val_if_fail (cldr_path != NULL, NULL);

  load_links (self, tzdata_path != NULL ? tzdata_path : AGL_WINDOWS_ZONES_TZDATA_PATH);
  if (!load_cldr (self, cldr_path, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * agl_windows_zones_get_default:
 * @error: return location for an error
 *
 * The process-wide mapping, read once from the file named by the
 * AGL_WINDOWS_ZONES_FILE environment variable (tests) or else from
 * %AGL_WINDOWS_ZONES_DEFAULT_PATH.  A failed load is not remembered, so
 * installing the package fixes a running daemon.
 *
 * Returns: (transfer none): the shared mapping, or %NULL with an error
 */
AglWindowsZones *
agl_windows_zones_get_default (GError **error)
{
  static GMutex lock;
  static AglWindowsZones *shared;
  AglWindowsZones *zones;

  g_mutex_lock (&lock);
  if (shared == NULL)
    {
      const char *path = g_getenv ("AGL_WINDOWS_ZONES_FILE");

      if (path == NULL)
        path = AGL_WINDOWS_ZONES_DEFAULT_PATH;
      shared = agl_windows_zones_new_from_file (path, NULL, error);
    }
  zones = shared;
  g_mutex_unlock (&lock);
  return zones;
}

/**
 * agl_windows_zones_to_iana:
 * @self: the mapping
 * @windows_id: a Windows time zone id such as "W. Europe Standard Time"
 *
 * Returns: (nullable): the canonical IANA name, or %NULL when CLDR does
 *   not know @windows_id
 */
const char *
agl_windows_zones_to_iana (AglWindowsZones *self,
                           const char      *windows_id)
{
  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (self), NULL);

  return windows_id != NULL ? g_hash_table_lookup (self->to_iana, windows_id) : NULL;
}

/**
 * agl_windows_zones_to_windows:
 * @self: the mapping
 * @iana_id: an IANA zone name, canonical or a backward alias
 *
 * Returns: (nullable): the Windows id, or %NULL when no Windows zone
 *   covers @iana_id
 */
const char *
agl_windows_zones_to_windows (AglWindowsZones *self,
                              const char      *iana_id)
{
  const char *windows_id;

  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (self), NULL);

  if (iana_id == NULL)
    return NULL;
  windows_id = g_hash_table_lookup (self->to_windows, iana_id);
  if (windows_id == NULL)
    windows_id = g_hash_table_lookup (self->to_windows, resolve_link (self->links, iana_id));
  return windows_id;
}

/**
 * agl_windows_zones_canonical_iana:
 * @self: the mapping
 * @iana_id: an IANA zone name
 *
 * Returns: the canonical tzdata name of @iana_id (itself when it is not a
 *   backward alias)
 */
const char *
agl_windows_zones_canonical_iana (AglWindowsZones *self,
                                  const char      *iana_id)
{
  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (self), iana_id);

  return resolve_link (self->links, iana_id);
}

/**
 * agl_ews_parse_duration:
 * @text: an xs:duration as EWS writes biases and offsets ("PT8H",
 *   "-PT1H", "P0DT7H0M0.0S")
 * @seconds: (out): the duration in seconds
 *
 * Years and months are refused: no time zone bias uses them.
 *
 * Returns: whether @text is such a duration
 */
gboolean
agl_ews_parse_duration (const char *text,
                        gint64     *seconds)
{
  const char *p = text;
  gboolean negative = FALSE, in_time = FALSE, any = FALSE;
  double total = 0;

  if (p == NULL)
    return FALSE;
  while (g_ascii_isspace (*p))
    p++;
  if (*p == '-')
    {
      negative = TRUE;
      p++;
    }
  if (*p++ != 'P')
    return FALSE;
  while (*p != '\0' && !g_ascii_isspace (*p))
    {
      char *end = NULL;
      double value;

      if (*p == 'T')
        {
          in_time = TRUE;
          p++;
          continue;
        }
      value = g_ascii_strtod (p, &end);
      if (end == p || value < 0 || value > 1e7)
        return FALSE;
      switch (*end)
        {
        case 'D':
          if (in_time)
            return FALSE;
          total += value * 86400;
          break;
        case 'H':
          if (!in_time)
            return FALSE;
          total += value * 3600;
          break;
        case 'M':
          if (!in_time)
            return FALSE;
          total += value * 60;
          break;
        case 'S':
          if (!in_time)
            return FALSE;
          total += value;
          break;
        default:
          return FALSE;
        }
      any = TRUE;
      p = end + 1;
    }
  if (!any)
    return FALSE;
  *seconds = (gint64) (negative ? -total : total);
  return TRUE;
}

static const char * const day_names[] = {
  "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
static const char * const ical_days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
static const char * const month_names[] = {
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December"
};
static const char * const index_names[] = { "First", "Second", "Third", "Fourth", "Last" };

static int
lookup_name (const char * const *names,
             int                 n_names,
             const char         *name)
{
  for (int i = 0; name != NULL && i < n_names; i++)
    if (strcmp (names[i], name) == 0)
      return i;
  return -1;
}

/* One yearly onset: the @occurrence-th (1..4, or -1/5 for the last)
 * @weekday (0 = Sunday) of @month, or a fixed @day of @month. */
typedef struct
{
  int  month;
  int  weekday;
  int  occurrence;
  int  day;
  int  seconds;          /* local time of day, before the change */
  int  offset_to;        /* UTC offset in seconds after the change */
  int  offset_from;
  gboolean daylight;
} Onset;

static int
onset_day (const Onset *onset,
           int          year)
{
  int days = g_date_get_days_in_month (onset->month, year);
  int first_weekday, day;
  g_autoptr(GDate) date = NULL;

  if (onset->weekday < 0)
    return MIN (onset->day, days);
  date = g_date_new_dmy (1, onset->month, year);
  first_weekday = g_date_get_weekday (date) % 7;  /* GDate: Monday 1 .. Sunday 7 */
  day = 1 + (onset->weekday - first_weekday + 7) % 7;
  if (onset->occurrence < 0 || onset->occurrence >= 5)
    {
      while (day + 7 <= days)
        day += 7;
    }
  else
    {
      day += 7 * (onset->occurrence - 1);
    }
  return day;
}

static void
append_offset (GString *out,
               int      seconds)
{
  int magnitude = ABS (seconds);

  g_string_append_printf (out, "%c%02d%02d", seconds < 0 ? '-' : '+',
                          magnitude / 3600, magnitude / 60 % 60);
  if (magnitude % 60 != 0)
    g_string_append_printf (out, "%02d", magnitude % 60);
}

/* One STANDARD or DAYLIGHT block: yearly from @first_year, up to (not
 * including) the UTC instant @until_utc when it is not 0. */
static void
append_onset (GString     *out,
              const Onset *onset,
              int          first_year,
              gint64       until_utc,
              gboolean     yearly)
{
  const char *kind = onset->daylight ? "DAYLIGHT" : "STANDARD";

  g_string_append_printf (out, "BEGIN:%s\r\n", kind);
  g_string_append_printf (out, "DTSTART:%04d%02d%02dT%02d%02d%02d\r\n",
                          first_year, onset->month, onset_day (onset, first_year),
                          onset->seconds / 3600, onset->seconds / 60 % 60, onset->seconds % 60);
  g_string_append (out, "TZOFFSETFROM:");
  append_offset (out, onset->offset_from);
  g_string_append (out, "\r\nTZOFFSETTO:");
  append_offset (out, onset->offset_to);
  g_string_append (out, "\r\n");
  if (yearly)
    {
      g_string_append_printf (out, "RRULE:FREQ=YEARLY;BYMONTH=%d", onset->month);
      if (onset->weekday >= 0)
        g_string_append_printf (out, ";BYDAY=%d%s",
                                onset->occurrence >= 5 ? -1 : onset->occurrence,
                                ical_days[onset->weekday]);
      else
        g_string_append_printf (out, ";BYMONTHDAY=%d", onset->day);
      if (until_utc != 0)
        {
          g_autoptr(GDateTime) until = g_date_time_new_from_unix_utc (until_utc);
          g_autofree char *text = g_date_time_format (until, "%Y%m%dT%H%M%SZ");

          g_string_append_printf (out, ";UNTIL=%s", text);
        }
      g_string_append (out, "\r\n");
    }
  g_string_append_printf (out, "TZNAME:%s\r\nEND:%s\r\n",
                          onset->daylight ? "Daylight" : "Standard", kind);
}

static gint64
onset_utc (const Onset *onset,
           int          year)
{
  g_autoptr(GDateTime) local = g_date_time_new_utc (year, onset->month, onset_day (onset, year),
                                                    0, 0, 0);

  return g_date_time_to_unix (local) + onset->seconds - onset->offset_from;
}

static icalcomponent *
parse_vtimezone (GString  *text,
                 GError  **error)
{
  icalcomponent *vtimezone = icalcomponent_new_from_string (text->str);

  icalerror_clear_errno ();
  if (vtimezone == NULL || icalcomponent_isa (vtimezone) != ICAL_VTIMEZONE_COMPONENT)
    {
      g_clear_pointer (&vtimezone, icalcomponent_free);
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The server’s time zone definition cannot be used."));
    }
  return vtimezone;
}

static void
append_tzid (GString    *out,
             const char *tzid)
{
  g_autofree char *clean = g_strdup (tzid);

  /* TZID is text up to the line end; no control characters in it. */
  g_strdelimit (clean, "\r\n\t", ' ');
  g_string_append_printf (out, "BEGIN:VTIMEZONE\r\nTZID:%s\r\n", clean);
}

typedef struct
{
  char  *id;
  int    offset;        /* UTC offset, seconds (minus the bias) */
  gboolean daylight;
} Period;

static void
period_free (Period *period)
{
  g_free (period->id);
  g_free (period);
}

/* A RecurringDayTransition / RecurringDateTransition of a group. */
static gboolean
read_recurring_transition (xmlNode    *transition,
                           GHashTable *periods,
                           Onset      *onset,
                           Period    **target)
{
  g_autofree char *to = child_text (transition, "To");
  g_autofree char *time_offset = child_text (transition, "TimeOffset");
  g_autofree char *month = child_text (transition, "Month");
  gint64 seconds;

  *target = to != NULL ? g_hash_table_lookup (periods, to) : NULL;
  if (*target == NULL || month == NULL || !agl_ews_parse_duration (time_offset, &seconds))
    return FALSE;
  onset->month = atoi (month);
  onset->seconds = (int) seconds;
  onset->offset_to = (*target)->offset;
  onset->daylight = (*target)->daylight;
  if (onset->month < 1 || onset->month > 12 || seconds < 0 || seconds >= 86400)
    return FALSE;

  if (strcmp ((const char *) transition->name, "RecurringDayTransition") == 0)
    {
      g_autofree char *day = child_text (transition, "DayOfWeek");
      g_autofree char *occurrence = child_text (transition, "Occurrence");

      onset->weekday = lookup_name (day_names, 7, day);
      onset->occurrence = occurrence != NULL ? atoi (occurrence) : 0;
      onset->day = 0;
      return onset->weekday >= 0 && onset->occurrence != 0 &&
             onset->occurrence >= -1 && onset->occurrence <= 5;
    }
  else
    {
      g_autofree char *day = child_text (transition, "Day");

      onset->weekday = -1;
      onset->day = day != NULL ? atoi (day) : 0;
      return onset->day >= 1 && onset->day <= 31;
    }
}

/* When a top-level transition takes effect (UTC seconds), 0 for "always". */
static gint64
transition_start (xmlNode *transition)
{
  g_autofree char *when = child_text (transition, "DateTime");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) date = NULL;

  if (when == NULL)
    return 0;
  /* The kit's samples write both "2007-01-01T00:00:00" and
   * "2007-01-01T08:00:00.000Z"; only the date matters for a year's rules. */
  date = g_date_time_new_from_iso8601 (when, utc);
  return date != NULL ? g_date_time_to_unix (date) : 0;
}

/**
 * agl_windows_zones_vtimezone_from_definition:
 * @definition: a TimeZoneDefinition (or StartTimeZone / EndTimeZone)
 *   element with Periods, TransitionsGroups and Transitions (EWS 2010+)
 * @error: return location for an error
 *
 * Builds a VTIMEZONE whose TZID is the definition's Id from its own rules,
 * for a Windows zone CLDR does not know.  Each group reached by a
 * Transition or AbsoluteDateTransition becomes yearly STANDARD/DAYLIGHT
 * rules bounded by the next transition's date; a transition straight to a
 * Period becomes a fixed offset.
 *
 * Returns: (transfer full): the VTIMEZONE, or %NULL with
 *   %AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION
 */
icalcomponent *
agl_windows_zones_vtimezone_from_definition (xmlNode  *definition,
                                             GError  **error)
{
  g_autoptr(GHashTable) periods = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) period_free);
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *id = node_attribute (definition, "Id");
  xmlNode *transitions;
  g_autoptr(GPtrArray) tops = g_ptr_array_new ();
  int blocks = 0;

  for (xmlNode *p = first_child_element (first_child_element (definition, "Periods"), NULL);
       p != NULL; p = p->next)
    {
      g_autofree char *bias = NULL;
      g_autofree char *name = NULL;
      Period *period;
      gint64 seconds;

      if (p->type != XML_ELEMENT_NODE)
        continue;
      bias = node_attribute (p, "Bias");
      name = node_attribute (p, "Name");
      if (!agl_ews_parse_duration (bias, &seconds))
        continue;
      period = g_new0 (Period, 1);
      period->id = node_attribute (p, "Id");
      period->offset = (int) -seconds;
      period->daylight = name != NULL && strcmp (name, "Daylight") == 0;
      if (period->id == NULL)
        {
          period_free (period);
          continue;
        }
      g_hash_table_replace (periods, period->id, period);
    }
  for (xmlNode *g = first_child_element (first_child_element (definition, "TransitionsGroups"), NULL);
       g != NULL; g = g->next)
    {
      char *group_id;

      if (g->type != XML_ELEMENT_NODE)
        continue;
      group_id = node_attribute (g, "Id");
      if (group_id != NULL)
        g_hash_table_replace (groups, group_id, g);
    }

  if (id == NULL || g_hash_table_size (periods) == 0)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The server sent a time zone without an id or periods."));
      return NULL;
    }

  transitions = first_child_element (definition, "Transitions");
  for (xmlNode *t = first_child_element (transitions, NULL); t != NULL; t = t->next)
    if (t->type == XML_ELEMENT_NODE)
      g_ptr_array_add (tops, t);

  append_tzid (out, id);
  for (guint i = 0; i < tops->len; i++)
    {
      xmlNode *top = tops->pdata[i];
      xmlNode *to_node = first_child_element (top, "To");
      g_autofree char *kind = to_node != NULL ? node_attribute (to_node, "Kind") : NULL;
      g_autofree char *to = child_text (top, "To");
      gint64 start = transition_start (top);
      gint64 end = i + 1 < tops->len ? transition_start (tops->pdata[i + 1]) : 0;
      g_autoptr(GDateTime) start_date = g_date_time_new_from_unix_utc (start);
      int first_year = start == 0 ? FIRST_RULE_YEAR : g_date_time_get_year (start_date);

      if (kind == NULL || to == NULL)
        continue;
      if (strcmp (kind, "Period") == 0)
        {
          Period *period = g_hash_table_lookup (periods, to);
          Onset onset = { 1, -1, 0, 1, 0, 0, 0, FALSE };

          if (period == NULL)
            continue;
          if (start != 0)
            {
              onset.month = g_date_time_get_month (start_date);
              onset.day = g_date_time_get_day_of_month (start_date);
            }
          onset.offset_to = onset.offset_from = period->offset;
          onset.daylight = period->daylight;
          append_onset (out, &onset, first_year, 0, FALSE);
          blocks++;
        }
      else
        {
          xmlNode *group = g_hash_table_lookup (groups, to);
          Onset onsets[2];
          int n_onsets = 0;

          for (xmlNode *r = first_child_element (group, NULL); r != NULL; r = r->next)
            {
              Period *target;

              if (r->type != XML_ELEMENT_NODE ||
                  (strcmp ((const char *) r->name, "RecurringDayTransition") != 0 &&
                   strcmp ((const char *) r->name, "RecurringDateTransition") != 0))
                continue;
              if (n_onsets == 2 || !read_recurring_transition (r, periods, &onsets[n_onsets], &target))
                {
                  g_set_error (error, AGL_WINDOWS_ZONES_ERROR,
                               AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                               _("The server’s time zone “%s” has a transition rule that cannot be read."),
                               id);
                  return NULL;
                }
              n_onsets++;
            }
          if (n_onsets == 1)
            {
              /* One rule a year to the same period: a fixed offset. */
              onsets[0].offset_from = onsets[0].offset_to;
              append_onset (out, &onsets[0], first_year, 0, FALSE);
              blocks++;
            }
          else if (n_onsets == 2)
            {
              onsets[0].offset_from = onsets[1].offset_to;
              onsets[1].offset_from = onsets[0].offset_to;
              for (int k = 0; k < 2; k++)
                {
                  int year = first_year;

                  /* The rules start with the first onset on or after the
                   * group's own start. */
                  if (start != 0 && onset_utc (&onsets[k], year) < start)
                    year++;
                  append_onset (out, &onsets[k], year, end != 0 ? end - 1 : 0, TRUE);
                  blocks++;
                }
            }
        }
    }
  if (blocks == 0)
    {
      /* No transitions: the first period holds for ever. */
      GHashTableIter iter;
      Period *period = NULL;
      Onset onset = { 1, -1, 0, 1, 0, 0, 0, FALSE };

      g_hash_table_iter_init (&iter, periods);
      g_hash_table_iter_next (&iter, NULL, (gpointer *) &period);
      onset.offset_to = onset.offset_from = period->offset;
      append_onset (out, &onset, FIRST_RULE_YEAR, 0, FALSE);
    }
  g_string_append (out, "END:VTIMEZONE\r\n");
  return parse_vtimezone (out, error);
}

/* A Standard or Daylight element of the Exchange 2007 TimeZoneType. */
static gboolean
read_legacy_change (xmlNode *change,
                    gint64   base_bias,
                    Onset   *onset)
{
  xmlNode *relative = first_child_element (change, "RelativeYearlyRecurrence");
  g_autofree char *offset = child_text (change, "Offset");
  g_autofree char *time = child_text (change, "Time");
  g_autofree char *day = child_text (relative, "DaysOfWeek");
  g_autofree char *index = child_text (relative, "DayOfWeekIndex");
  g_autofree char *month = child_text (relative, "Month");
  gint64 bias;
  int h = 0, m = 0, s = 0, idx;

  if (!agl_ews_parse_duration (offset, &bias) || time == NULL ||
      sscanf (time, "%d:%d:%d", &h, &m, &s) < 2)
    return FALSE;
  onset->offset_to = (int) -(base_bias + bias);
  onset->seconds = h * 3600 + m * 60 + s;
  onset->weekday = lookup_name (day_names, 7, day);
  onset->month = lookup_name (month_names, 12, month) + 1;
  idx = lookup_name (index_names, 5, index);
  onset->occurrence = idx == 4 ? -1 : idx + 1;
  onset->day = 0;
  return onset->weekday >= 0 && onset->month >= 1 && idx >= 0 &&
         onset->seconds >= 0 && onset->seconds < 86400;
}

/**
 * agl_windows_zones_vtimezone_from_legacy:
 * @meeting_time_zone: a MeetingTimeZone element (Exchange 2007's
 *   TimeZoneType: BaseOffset, optional Standard and Daylight)
 * @error: return location for an error
 *
 * Builds a VTIMEZONE from Exchange 2007's zone description; its TZID is the
 * TimeZoneName attribute, else a name made from the base offset.
 *
 * Returns: (transfer full): the VTIMEZONE, or %NULL with
 *   %AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION
 */
icalcomponent *
agl_windows_zones_vtimezone_from_legacy (xmlNode  *meeting_time_zone,
                                         GError  **error)
{
  g_autofree char *base = child_text (meeting_time_zone, "BaseOffset");
  g_autofree char *name = node_attribute (meeting_time_zone, "TimeZoneName");
  g_autoptr(GString) out = g_string_new (NULL);
  xmlNode *standard = first_child_element (meeting_time_zone, "Standard");
  xmlNode *daylight = first_child_element (meeting_time_zone, "Daylight");
  gint64 base_bias;

  if (!agl_ews_parse_duration (base, &base_bias))
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The server sent a meeting time zone without a base offset."));
      return NULL;
    }
  if (name == NULL || *name == '\0')
    {
      g_free (name);
      name = g_strdup_printf ("UTC%+03d:%02d", (int) (-base_bias / 3600),
                              (int) (ABS (base_bias) / 60 % 60));
    }

  append_tzid (out, name);
  if (standard != NULL && daylight != NULL)
    {
      Onset onsets[2];

      if (!read_legacy_change (standard, base_bias, &onsets[0]) ||
          !read_legacy_change (daylight, base_bias, &onsets[1]))
        {
          g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                       _("The server’s meeting time zone “%s” has a rule that cannot be read."),
                       name);
          return NULL;
        }
      onsets[0].daylight = FALSE;
      onsets[1].daylight = TRUE;
      onsets[0].offset_from = onsets[1].offset_to;
      onsets[1].offset_from = onsets[0].offset_to;
      append_onset (out, &onsets[0], FIRST_RULE_YEAR, 0, TRUE);
      append_onset (out, &onsets[1], FIRST_RULE_YEAR, 0, TRUE);
    }
  else
    {
      Onset onset = { 1, -1, 0, 1, 0, 0, 0, FALSE };

      onset.offset_to = onset.offset_from = (int) -base_bias;
      append_onset (out, &onset, FIRST_RULE_YEAR, 0, FALSE);
    }
  g_string_append (out, "END:VTIMEZONE\r\n");
  return parse_vtimezone (out, error);
}

/* The rule still in force among a VTIMEZONE's STANDARD or DAYLIGHT blocks:
 * the latest one whose RRULE has no end, else the latest onset. */
static icalcomponent *
current_block (icalcomponent      *vtimezone,
               icalcomponent_kind  kind,
               gboolean           *recurring)
{
  icalcomponent *best = NULL;
  struct icaltimetype best_start = icaltime_null_time ();
  gboolean best_recurring = FALSE;

  for (icalcomponent *block = icalcomponent_get_first_component (vtimezone, kind); block != NULL;
       block = icalcomponent_get_next_component (vtimezone, kind))
    {
      icalproperty *rrule = icalcomponent_get_first_property (block, ICAL_RRULE_PROPERTY);
      struct icaltimetype start = icalcomponent_get_dtstart (block);
      gboolean open = rrule != NULL && icalproperty_get_rrule (rrule).count == 0 &&
                      icaltime_is_null_time (icalproperty_get_rrule (rrule).until);

      if (best == NULL || (open && !best_recurring) ||
          (open == best_recurring && icaltime_compare (start, best_start) > 0))
        {
          best = block;
          best_start = start;
          best_recurring = open;
        }
    }
  *recurring = best_recurring;
  return best;
}

static void
format_bias (char   *buffer,
             gsize   size,
             int     utc_offset)
{
  int bias = -utc_offset;
  int magnitude = ABS (bias);

  g_snprintf (buffer, size, "%sPT%dH%dM%dS", bias < 0 ? "-" : "",
              magnitude / 3600, magnitude / 60 % 60, magnitude % 60);
}

/* Month, weekday (0 = Sunday) and occurrence (1..4, -1) of a yearly
 * onset rule: BYMONTH with BYDAY=2SU, or BYDAY=SU with a seven-day
 * BYMONTHDAY window as some generators write it. */
static gboolean
read_onset_rule (icalcomponent *block,
                 int           *month,
                 int           *weekday,
                 int           *occurrence)
{
  icalproperty *prop = icalcomponent_get_first_property (block, ICAL_RRULE_PROPERTY);
  struct icalrecurrencetype recur;
  int position;

  if (prop == NULL)
    return FALSE;
  recur = icalproperty_get_rrule (prop);
  if (recur.freq != ICAL_YEARLY_RECURRENCE || recur.by_month[0] == ICAL_RECURRENCE_ARRAY_MAX ||
      recur.by_day[0] == ICAL_RECURRENCE_ARRAY_MAX || recur.by_day[1] != ICAL_RECURRENCE_ARRAY_MAX ||
      recur.by_month[1] != ICAL_RECURRENCE_ARRAY_MAX)
    return FALSE;
  *month = recur.by_month[0];
  *weekday = icalrecurrencetype_day_day_of_week (recur.by_day[0]) - 1;
  position = icalrecurrencetype_day_position (recur.by_day[0]);
  if (position == 0 && recur.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX)
    {
      int first = recur.by_month_day[0];

      for (int i = 1; i < ICAL_BY_MONTHDAY_SIZE && recur.by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        first = MIN (first, recur.by_month_day[i]);
      position = first + 6 >= g_date_get_days_in_month (*month, 2001) ? -1 : (first - 1) / 7 + 1;
    }
  *occurrence = position == 5 ? -1 : position;
  return *weekday >= 0 && *weekday < 7 && *month >= 1 && *month <= 12 &&
         (*occurrence == -1 || (*occurrence >= 1 && *occurrence <= 4));
}

static int
write_recurring_transition (xmlTextWriter *writer,
                            const char    *to,
                            icalcomponent *block,
                            int            month,
                            int            weekday,
                            int            occurrence)
{
  struct icaltimetype start = icalcomponent_get_dtstart (block);
  char text[32];
  int rc = 0;

  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:RecurringDayTransition");
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:To");
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Kind", BAD_CAST "Period");
  rc |= xmlTextWriterWriteString (writer, BAD_CAST to);
  rc |= xmlTextWriterEndElement (writer);
  g_snprintf (text, sizeof text, "PT%dH%dM%dS", start.hour, start.minute, start.second);
  rc |= xmlTextWriterWriteElement (writer, BAD_CAST "t:TimeOffset", BAD_CAST text);
  g_snprintf (text, sizeof text, "%d", month);
  rc |= xmlTextWriterWriteElement (writer, BAD_CAST "t:Month", BAD_CAST text);
  rc |= xmlTextWriterWriteElement (writer, BAD_CAST "t:DayOfWeek", BAD_CAST day_names[weekday]);
  g_snprintf (text, sizeof text, "%d", occurrence);
  rc |= xmlTextWriterWriteElement (writer, BAD_CAST "t:Occurrence", BAD_CAST text);
  rc |= xmlTextWriterEndElement (writer);
  return rc < 0 ? -1 : 0;
}

static int
write_period (xmlTextWriter *writer,
              int            utc_offset,
              const char    *name,
              const char    *id)
{
  char bias[32];
  int rc = 0;

  format_bias (bias, sizeof bias, utc_offset);
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:Period");
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Bias", BAD_CAST bias);
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Name", BAD_CAST name);
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Id", BAD_CAST id);
  rc |= xmlTextWriterEndElement (writer);
  return rc < 0 ? -1 : 0;
}

/**
 * agl_windows_zones_write_definition:
 * @writer: where to write, with the prefix t bound to the EWS types namespace
 * @element: the element to write, e.g. "t:StartTimeZone"
 * @id: the Id to give the definition
 * @vtimezone: the zone's VTIMEZONE
 * @error: return location for an error
 *
 * Writes a zone CLDR does not know (one from an invitation, or Exchange
 * 2007's MeetingTimeZone) as a full TimeZoneDefinition of the rules in
 * force now: a Standard and a Daylight period with their yearly
 * RecurringDayTransitions, or one fixed period.
 *
 * Returns: %TRUE, or %FALSE with %AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION
 *   when the rules are not yearly "n-th weekday of a month" rules
 */
gboolean
agl_windows_zones_write_definition (xmlTextWriter  *writer,
                                    const char     *element,
                                    const char     *id,
                                    icalcomponent  *vtimezone,
                                    GError        **error)
{
  gboolean standard_recurring = FALSE, daylight_recurring = FALSE;
  icalcomponent *standard = current_block (vtimezone, ICAL_XSTANDARD_COMPONENT, &standard_recurring);
  icalcomponent *daylight = current_block (vtimezone, ICAL_XDAYLIGHT_COMPONENT, &daylight_recurring);
  int std_month = 0, std_day = 0, std_occurrence = 0;
  int dst_month = 0, dst_day = 0, dst_occurrence = 0;
  gboolean with_daylight;
  icalcomponent *fixed;
  icalproperty *offset;
  int rc = 0;

  with_daylight = standard != NULL && daylight != NULL && standard_recurring && daylight_recurring;
  if (with_daylight &&
      (!read_onset_rule (standard, &std_month, &std_day, &std_occurrence) ||
       !read_onset_rule (daylight, &dst_month, &dst_day, &dst_occurrence)))
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The time zone “%s” changes its clocks by a rule Exchange cannot store."), id);
      return FALSE;
    }
  fixed = standard != NULL ? standard : daylight;
  offset = fixed != NULL ? icalcomponent_get_first_property (fixed, ICAL_TZOFFSETTO_PROPERTY) : NULL;
  if (offset == NULL)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The time zone “%s” has no offset from UTC."), id);
      return FALSE;
    }

  rc |= xmlTextWriterStartElement (writer, BAD_CAST element);
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Id", BAD_CAST id);
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:Periods");
  rc |= write_period (writer, icalproperty_get_tzoffsetto (offset), "Standard", "Std");
  if (with_daylight)
    rc |= write_period (writer,
                        icalproperty_get_tzoffsetto (icalcomponent_get_first_property (daylight, ICAL_TZOFFSETTO_PROPERTY)),
                        "Daylight", "Dlt");
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:TransitionsGroups");
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:TransitionsGroup");
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Id", BAD_CAST "0");
  if (with_daylight)
    {
      rc |= write_recurring_transition (writer, "Dlt", daylight, dst_month, dst_day, dst_occurrence);
      rc |= write_recurring_transition (writer, "Std", standard, std_month, std_day, std_occurrence);
    }
  else
    {
      rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:Transition");
      rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:To");
      rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Kind", BAD_CAST "Period");
      rc |= xmlTextWriterWriteString (writer, BAD_CAST "Std");
      rc |= xmlTextWriterEndElement (writer);
      rc |= xmlTextWriterEndElement (writer);
    }
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:Transitions");
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:Transition");
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:To");
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "Kind", BAD_CAST "Group");
  rc |= xmlTextWriterWriteString (writer, BAD_CAST "0");
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterEndElement (writer);
  if (rc < 0)
    {
      g_set_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
                   _("The time zone “%s” could not be written."), id);
      return FALSE;
    }
  return TRUE;
}
