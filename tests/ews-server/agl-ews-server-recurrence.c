/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agl-ews-server-faults.h"
#include "agl-ews-server-recurrence.h"
#include "agl-ews-server-xml.h"

typedef enum
{
  PATTERN_DAILY,
  PATTERN_WEEKLY,
  PATTERN_ABSOLUTE_MONTHLY,
  PATTERN_RELATIVE_MONTHLY,
  PATTERN_ABSOLUTE_YEARLY,
  PATTERN_RELATIVE_YEARLY,
} Pattern;

/* Day sets use bit (weekday - 1), GDateWeekday numbering (Monday = 1);
 * "Day", "Weekday" and "WeekendDay" are the RelativeMonthly pseudo days. */
#define DAYS_ALL      0x7f
#define DAYS_WEEKDAY  0x1f
#define DAYS_WEEKEND  0x60

struct _AglEwsRecurrence
{
  Pattern  pattern;
  guint    interval;
  guint    days;
  int      first_day_of_week;
  int      day_of_month;
  int      week_index;       /* 1..4, 5 = Last */
  int      month;
  GDate    start_date;
  GDate    end_date;         /* invalid when not EndDate */
  guint    count;            /* 0 when not Numbered */
};

static const char * const weekday_names[] = {
  NULL, "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
};

static guint
parse_days (const char *text)
{
  g_auto(GStrv) words = g_strsplit_set (text != NULL ? text : "", " \t\n", -1);
  guint days = 0;

  for (int i = 0; words[i] != NULL; i++)
    {
      if (g_strcmp0 (words[i], "Day") == 0)
        days |= DAYS_ALL;
      else if (g_strcmp0 (words[i], "Weekday") == 0)
        days |= DAYS_WEEKDAY;
      else if (g_strcmp0 (words[i], "WeekendDay") == 0)
        days |= DAYS_WEEKEND;
      for (int d = 1; d <= 7; d++)
        if (g_strcmp0 (words[i], weekday_names[d]) == 0)
          days |= 1u << (d - 1);
    }
  return days;
}

static int
parse_weekday (const char *text)
{
  for (int d = 1; d <= 7; d++)
    if (g_strcmp0 (text, weekday_names[d]) == 0)
      return d;
  return G_DATE_MONDAY;
}

static int
parse_month (const char *text)
{
  static const char * const months[] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
  };

  for (int m = 0; m < 12; m++)
    if (g_strcmp0 (text, months[m]) == 0)
      return m + 1;
  return 0;
}

static int
parse_week_index (const char *text)
{
  static const char * const names[] = { "First", "Second", "Third", "Fourth", "Last" };

  for (int i = 0; i < 5; i++)
    if (g_strcmp0 (text, names[i]) == 0)
      return i + 1;
  return 0;
}

static gboolean
parse_date (const char *text,
            GDate      *date)
{
  int y, m, d;

  g_date_clear (date, 1);
  /* xs:date may carry a zone suffix ("2026-01-05Z"); the day is what counts. */
  if (text == NULL || sscanf (text, "%d-%d-%d", &y, &m, &d) != 3 ||
      !g_date_valid_dmy (d, m, y))
    return FALSE;
  g_date_set_dmy (date, d, m, y);
  return TRUE;
}

void
agl_ews_recurrence_free (AglEwsRecurrence *recurrence)
{
  g_free (recurrence);
}

AglEwsRecurrence *
agl_ews_recurrence_parse (const xmlNode *recurrence,
                          GError       **error)
{
  g_autoptr(AglEwsRecurrence) r = g_new0 (AglEwsRecurrence, 1);
  xmlNode *pattern = agl_ews_xml_first_element (recurrence);
  xmlNode *range = pattern != NULL ? agl_ews_xml_next_element (pattern) : NULL;
  const char *name;
  g_autofree char *interval = NULL;
  g_autofree char *start = NULL;

  if (pattern == NULL || range == NULL)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
      return NULL;
    }

  name = (const char *) pattern->name;
  g_date_clear (&r->end_date, 1);
  interval = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "Interval");
  r->interval = interval != NULL ? (guint) g_ascii_strtoull (interval, NULL, 10) : 1;
  r->first_day_of_week = G_DATE_SUNDAY;

  if (strcmp (name, "DailyRecurrence") == 0)
    r->pattern = PATTERN_DAILY;
  else if (strcmp (name, "WeeklyRecurrence") == 0)
    {
      g_autofree char *days = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "DaysOfWeek");
      g_autofree char *first = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "FirstDayOfWeek");

      r->pattern = PATTERN_WEEKLY;
      r->days = parse_days (days);
      if (first != NULL)
        r->first_day_of_week = parse_weekday (first);
    }
  else if (strcmp (name, "AbsoluteMonthlyRecurrence") == 0 ||
           strcmp (name, "AbsoluteYearlyRecurrence") == 0)
    {
      g_autofree char *dom = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "DayOfMonth");
      g_autofree char *month = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "Month");

      r->pattern = name[8] == 'M' ? PATTERN_ABSOLUTE_MONTHLY : PATTERN_ABSOLUTE_YEARLY;
      r->day_of_month = dom != NULL ? atoi (dom) : 0;
      r->month = parse_month (month);
      if (r->day_of_month < 1 || r->day_of_month > 31 ||
          (r->pattern == PATTERN_ABSOLUTE_YEARLY && r->month == 0))
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
          return NULL;
        }
    }
  else if (strcmp (name, "RelativeMonthlyRecurrence") == 0 ||
           strcmp (name, "RelativeYearlyRecurrence") == 0)
    {
      g_autofree char *days = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "DaysOfWeek");
      g_autofree char *index = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "DayOfWeekIndex");
      g_autofree char *month = agl_ews_server_xml_child_text (pattern, AGL_EWS_NS_TYPES, "Month");

      r->pattern = name[8] == 'M' ? PATTERN_RELATIVE_MONTHLY : PATTERN_RELATIVE_YEARLY;
      r->days = parse_days (days);
      r->week_index = parse_week_index (index);
      r->month = parse_month (month);
      if (r->week_index == 0 || (r->pattern == PATTERN_RELATIVE_YEARLY && r->month == 0))
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
          return NULL;
        }
    }
  else
    {
      /* Regenerating patterns (DailyRegeneration …) belong to tasks. */
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
      return NULL;
    }

  if (r->interval == 0 ||
      ((r->pattern == PATTERN_WEEKLY || r->pattern == PATTERN_RELATIVE_MONTHLY ||
        r->pattern == PATTERN_RELATIVE_YEARLY) && r->days == 0))
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
      return NULL;
    }

  start = agl_ews_server_xml_child_text (range, AGL_EWS_NS_TYPES, "StartDate");
  if (!parse_date (start, &r->start_date))
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
      return NULL;
    }
  if (strcmp ((const char *) range->name, "EndDateRecurrence") == 0)
    {
      g_autofree char *end = agl_ews_server_xml_child_text (range, AGL_EWS_NS_TYPES, "EndDate");

      if (!parse_date (end, &r->end_date) || g_date_compare (&r->end_date, &r->start_date) < 0)
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
          return NULL;
        }
    }
  else if (strcmp ((const char *) range->name, "NumberedRecurrence") == 0)
    {
      g_autofree char *count = agl_ews_server_xml_child_text (range, AGL_EWS_NS_TYPES, "NumberOfOccurrences");

      r->count = count != NULL ? (guint) g_ascii_strtoull (count, NULL, 10) : 0;
      if (r->count == 0)
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
          return NULL;
        }
    }
  else if (strcmp ((const char *) range->name, "NoEndRecurrence") != 0)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_RECURRENCE);
      return NULL;
    }

  return g_steal_pointer (&r);
}

gboolean
agl_ews_recurrence_is_bounded (const AglEwsRecurrence *recurrence)
{
  return recurrence->count > 0 || g_date_valid (&recurrence->end_date);
}

static gboolean
day_in_set (guint days,
            int   weekday)
{
  return (days & (1u << (weekday - 1))) != 0;
}

/* The day of month the relative rule picks ("second Tuesday", "last
 * weekday"), 0 when the month has no such day. */
static int
relative_day (int   year,
              int   month,
              guint days,
              int   week_index)
{
  int n_days = g_date_get_days_in_month (month, year);
  int found = 0, last = 0;

  for (int d = 1; d <= n_days; d++)
    {
      GDate date;

      g_date_clear (&date, 1);
      g_date_set_dmy (&date, d, month, year);
      if (!day_in_set (days, g_date_get_weekday (&date)))
        continue;
      last = d;
      if (++found == week_index && week_index < 5)
        return d;
    }
  return week_index == 5 ? last : 0;
}

static gboolean
matches (const AglEwsRecurrence *r,
         const GDate            *day)
{
  int months = (g_date_get_year (day) - g_date_get_year (&r->start_date)) * 12 +
               (g_date_get_month (day) - g_date_get_month (&r->start_date));
  int mday = g_date_get_day (day);
  int last = g_date_get_days_in_month (g_date_get_month (day), g_date_get_year (day));

  switch (r->pattern)
    {
    case PATTERN_DAILY:
      return (g_date_get_julian (day) - g_date_get_julian (&r->start_date)) % r->interval == 0;

    case PATTERN_WEEKLY:
      {
        /* Weeks are counted from the start of the week holding StartDate,
         * as FirstDayOfWeek defines it. */
        int back = (g_date_get_weekday (&r->start_date) - r->first_day_of_week + 7) % 7;
        guint32 week0 = g_date_get_julian (&r->start_date) - back;

        return day_in_set (r->days, g_date_get_weekday (day)) &&
               ((g_date_get_julian (day) - week0) / 7) % r->interval == 0;
      }

    case PATTERN_ABSOLUTE_MONTHLY:
      /* The 31st in a 30-day month falls on its last day, as in Outlook. */
      return months % r->interval == 0 && mday == MIN (r->day_of_month, last);

    case PATTERN_RELATIVE_MONTHLY:
      return months % r->interval == 0 &&
             mday == relative_day (g_date_get_year (day), g_date_get_month (day),
                                   r->days, r->week_index);

    case PATTERN_ABSOLUTE_YEARLY:
      return (int) g_date_get_month (day) == r->month && mday == MIN (r->day_of_month, last);

    case PATTERN_RELATIVE_YEARLY:
      return (int) g_date_get_month (day) == r->month &&
             mday == relative_day (g_date_get_year (day), g_date_get_month (day),
                                   r->days, r->week_index);

    default:
      g_assert_not_reached ();
    }
}

/* The occurrence start times (Unix seconds), in order, at the local time
 * of day of @first_start in its own zone, so a series keeps its wall-clock
 * time across daylight-saving changes. */
GArray *
agl_ews_recurrence_expand (const AglEwsRecurrence *recurrence,
                           GDateTime              *first_start,
                           gint64                  until,
                           guint                   max_count)
{
  GArray *starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  GTimeZone *tz = g_date_time_get_timezone (first_start);
  GDate day = recurrence->start_date;
  /* Bounded so a NoEnd series asked about the far future cannot spin. */
  guint limit_days = 366 * 200;

  for (guint i = 0; i < limit_days; i++, g_date_add_days (&day, 1))
    {
      g_autoptr(GDateTime) occurrence = NULL;
      gint64 t;

      if (g_date_valid (&recurrence->end_date) && g_date_compare (&day, &recurrence->end_date) > 0)
        break;
      if (recurrence->count > 0 && starts->len >= recurrence->count)
        break;
      if (starts->len >= max_count)
        break;
      if (!matches (recurrence, &day))
        continue;

      occurrence = g_date_time_new (tz, g_date_get_year (&day), g_date_get_month (&day),
                                    g_date_get_day (&day), g_date_time_get_hour (first_start),
                                    g_date_time_get_minute (first_start),
                                    g_date_time_get_seconds (first_start));
      if (occurrence == NULL)
        continue;
      t = g_date_time_to_unix (occurrence);
      if (t > until)
        break;
      g_array_append_val (starts, t);
    }
  return starts;
}
