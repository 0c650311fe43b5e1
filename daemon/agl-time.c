/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-time.h"

/* Reads exactly YYYY-MM-DD.  GDate's own g_date_set_parse() follows the
 * locale and guesses, which would make "03-04-2026" mean different days
 * on different machines. */
static gboolean
parse_calendar_date (const char *text,
                     GDate      *date)
{
  unsigned int year = 0, month = 0, day = 0;

  if (strlen (text) != 10 || text[4] != '-' || text[7] != '-')
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (text[i]))
      return FALSE;

  for (int i = 0; i < 4; i++)
    year = year * 10 + (unsigned int) g_ascii_digit_value (text[i]);
  month = (unsigned int) (g_ascii_digit_value (text[5]) * 10 + g_ascii_digit_value (text[6]));
  day = (unsigned int) (g_ascii_digit_value (text[8]) * 10 + g_ascii_digit_value (text[9]));

  if (year < 1 || month < 1 || month > 12 ||
      !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    return FALSE;

  g_date_clear (date, 1);
  g_date_set_dmy (date, (GDateDay) day, (GDateMonth) month, (GDateYear) year);
  return TRUE;
}

/**
 * agl_time_parse_iso8601:
 * @text: an ISO 8601 date-time ("2026-11-23T09:00:00Z", "…+01:00", with
 *   or without fractional seconds) or a date ("2026-11-23")
 * @out_unix: (out): the time as Unix seconds (UTC); fractions are dropped
 * @error: return location for an %AGL_ERROR_INVALID_ARGUMENT error
 *
 * A date-time without a zone designator and a bare date (its midnight)
 * are read in the process's local time zone (the TZ environment variable,
 * else the system's), as a user typing them means.  Surrounding white
 * space is ignored.
 *
 * Returns: %TRUE if @text was understood
 */
gboolean
agl_time_parse_iso8601 (const char  *text,
                        gint64      *out_unix,
                        GError     **error)
{
  g_autofree char *stripped = NULL;
  g_autoptr(GDateTime) datetime = NULL;
  GDate date;

  g_return_val_if_fail (out_unix != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (text != NULL && g_utf8_validate (text, -1, NULL))
    {
      stripped = g_strstrip (g_strdup (text));

      if (parse_calendar_date (stripped, &date))
        {
          datetime = g_date_time_new_local (g_date_get_year (&date),
                                            g_date_get_month (&date),
                                            g_date_get_day (&date),
                                            0, 0, 0);
        }
      else if (*stripped != '\0')
        {
          g_autoptr(GTimeZone) local = g_time_zone_new_local ();

          datetime = g_date_time_new_from_iso8601 (stripped, local);
        }
    }

  if (datetime == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a date or time; use ISO 8601 such as 2026-11-23T09:00:00Z or 2026-11-23."),
                   stripped != NULL ? stripped : (text == NULL ? "" : "?"));
      return FALSE;
    }

  *out_unix = g_date_time_to_unix (datetime);
  return TRUE;
}

/**
 * agl_time_format_utc:
 * @unix_time: Unix seconds
 *
 * Returns: (transfer full) (nullable): @unix_time as ISO 8601 in UTC,
 *   "2026-11-23T09:00:00Z"; %NULL if it lies outside the years 1–9999
 *   (%AGL_ITEM_UNBOUNDED is the last second that can be formatted).
 */
char *
agl_time_format_utc (gint64 unix_time)
{
  g_autoptr(GDateTime) datetime = g_date_time_new_from_unix_utc (unix_time);

  if (datetime == NULL)
    return NULL;

  /* Not g_date_time_format()'s %Y, which does not pad years below 1000. */
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ",
                          g_date_time_get_year (datetime),
                          g_date_time_get_month (datetime),
                          g_date_time_get_day_of_month (datetime),
                          g_date_time_get_hour (datetime),
                          g_date_time_get_minute (datetime),
                          g_date_time_get_second (datetime));
}

/**
 * agl_time_format_date:
 * @unix_time: Unix seconds
 *
 * Returns: (transfer full) (nullable): the local date of @unix_time,
 *   "2026-11-23" (the process's local time zone); %NULL if it lies outside
 *   the years 1–9999.
 */
char *
agl_time_format_date (gint64 unix_time)
{
  g_autoptr(GDateTime) datetime = g_date_time_new_from_unix_local (unix_time);

  if (datetime == NULL)
    return NULL;

  return g_strdup_printf ("%04d-%02d-%02d",
                          g_date_time_get_year (datetime),
                          g_date_time_get_month (datetime),
                          g_date_time_get_day_of_month (datetime));
}
