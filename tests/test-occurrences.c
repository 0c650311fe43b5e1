/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "agl-error.h"
#include "agl-event.h"
#include "agl-occurrences.h"
#include "agl-time.h"

#define VCAL_BEGIN "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Agendaline tests//EN\r\n"
#define VCAL_END "END:VCALENDAR\r\n"
#define VEVENT(body) "BEGIN:VEVENT\r\n" body "END:VEVENT\r\n"

/* Outlook's VTIMEZONE for Central Europe: only rules, no zone name a
 * builtin zone could stand in for. */
#define W_EUROPE_VTIMEZONE \
  "BEGIN:VTIMEZONE\r\n" \
  "TZID:W. Europe Standard Time\r\n" \
  "BEGIN:STANDARD\r\n" \
  "DTSTART:16010101T030000\r\n" \
  "TZOFFSETFROM:+0200\r\n" \
  "TZOFFSETTO:+0100\r\n" \
  "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n" \
  "END:STANDARD\r\n" \
  "BEGIN:DAYLIGHT\r\n" \
  "DTSTART:16010101T020000\r\n" \
  "TZOFFSETFROM:+0100\r\n" \
  "TZOFFSETTO:+0200\r\n" \
  "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\n" \
  "END:DAYLIGHT\r\n" \
  "END:VTIMEZONE\r\n"

/* A weekly standup on Mondays at 09:00 in Oslo, six times from
 * 2 November 2026 (CET, 08:00 UTC). */
#define STANDUP_MASTER \
  VEVENT ("UID:standup@agendaline.test\r\n" \
          "DTSTAMP:20261101T120000Z\r\n" \
          "SUMMARY:Standup\r\n" \
          "DTSTART;TZID=Europe/Oslo:20261102T090000\r\n" \
          "DTEND;TZID=Europe/Oslo:20261102T091500\r\n" \
          "RRULE:FREQ=WEEKLY;COUNT=6\r\n")

static void
set_local_zone (const char *tz)
{
  g_setenv ("TZ", tz, TRUE);
  tzset ();
}

static gint64
parse_time (const char *text)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  g_assert_true (agl_time_parse_iso8601 (text, &t, &error));
  g_assert_no_error (error);
  return t;
}

/* The text as the store keeps it: what agl-event.c made of @ical. */
static char *
normalise (const char *ical)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEvent) event = agl_event_new_from_string (ical, &error);

  g_assert_no_error (error);
  return agl_event_to_string (event);
}

static GPtrArray *
expand (const char *ical,
        const char *from,
        const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = normalise (ical);
  GPtrArray *occurrences = agl_occurrences_expand (stored, parse_time (from), parse_time (to),
                                                   &error);

  g_assert_no_error (error);
  g_assert_nonnull (occurrences);
  return occurrences;
}

static char *
format_time (gint64   t,
             gboolean all_day)
{
  return all_day ? agl_time_format_date (t) : agl_time_format_utc (t);
}

/* One line per occurrence, "START END SUMMARY", with " (exception)" for
 * an exception; dates for all-day ones. */
static char *
describe (GPtrArray *occurrences)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);
      g_autofree char *start = format_time (occurrence->start, occurrence->all_day);
      g_autofree char *end = format_time (occurrence->end, occurrence->all_day);

      g_string_append_printf (text, "%s %s %s%s\n", start, end, occurrence->summary,
                              occurrence->exception ? " (exception)" : "");
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The RECURRENCE-IDs, one per line, "-" for none. */
static char *
describe_recurrence_ids (GPtrArray *occurrences)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);
      g_autofree char *rid = occurrence->recurrence_id != 0
        ? agl_time_format_utc (occurrence->recurrence_id)
        : g_strdup ("-");

      g_string_append_printf (text, "%s\n", rid);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
assert_occurrences (const char *ical,
                    const char *from,
                    const char *to,
                    const char *expected)
{
  g_autoptr(GPtrArray) occurrences = expand (ical, from, to);
  g_autofree char *got = describe (occurrences);

  g_assert_cmpstr (got, ==, expected);
}

/* The local wall-clock time of @t in @zone, "HH:MM". */
static char *
wall_clock (gint64      t,
            const char *zone)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier (zone);
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (t);
  g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, tz);

  return g_date_time_format (local, "%H:%M");
}

/* Series */

static void
test_daily_count (void)
{
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:daily@agendaline.test\r\n"
            "SUMMARY:Daily\r\n"
            "DTSTART;TZID=Europe/Oslo:20261102T090000\r\n"
            "DTEND;TZID=Europe/Oslo:20261102T093000\r\n"
            "RRULE:FREQ=DAILY;COUNT=5\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
  g_autofree char *got = describe (occurrences);
  g_autofree char *rids = describe_recurrence_ids (occurrences);

  g_assert_cmpstr (got, ==,
                   "2026-11-02T08:00:00Z 2026-11-02T08:30:00Z Daily\n"
                   "2026-11-03T08:00:00Z 2026-11-03T08:30:00Z Daily\n"
                   "2026-11-04T08:00:00Z 2026-11-04T08:30:00Z Daily\n"
                   "2026-11-05T08:00:00Z 2026-11-05T08:30:00Z Daily\n"
                   "2026-11-06T08:00:00Z 2026-11-06T08:30:00Z Daily\n");
  /* An instance that was not changed has its own start as RECURRENCE-ID. */
  g_assert_cmpstr (rids, ==,
                   "2026-11-02T08:00:00Z\n2026-11-03T08:00:00Z\n2026-11-04T08:00:00Z\n"
                   "2026-11-05T08:00:00Z\n2026-11-06T08:00:00Z\n");

  /* The end is exclusive; an occurrence running into the range counts. */
  assert_occurrences (ical, "2026-11-03T08:15:00Z", "2026-11-04T08:00:00Z",
                      "2026-11-03T08:00:00Z 2026-11-03T08:30:00Z Daily\n");
  assert_occurrences (ical, "2026-11-03T08:30:00Z", "2026-11-04T08:00:00Z", "");
}

static void
test_weekly_until_dst (void)
{
  /* Mondays and Wednesdays at 09:00 in Berlin; summer time starts on
   * 29 March 2026, when 09:00 moves from 08:00 to 07:00 UTC.  UNTIL is
   * the last start itself (09:00 CEST). */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:weekly-dst@agendaline.test\r\n"
            "SUMMARY:Sync\r\n"
            "DTSTART;TZID=Europe/Berlin:20260316T090000\r\n"
            "DTEND;TZID=Europe/Berlin:20260316T100000\r\n"
            "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260408T070000Z\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z");
  g_autofree char *got = describe (occurrences);

  g_assert_cmpstr (got, ==,
                   "2026-03-16T08:00:00Z 2026-03-16T09:00:00Z Sync\n"
                   "2026-03-18T08:00:00Z 2026-03-18T09:00:00Z Sync\n"
                   "2026-03-23T08:00:00Z 2026-03-23T09:00:00Z Sync\n"
                   "2026-03-25T08:00:00Z 2026-03-25T09:00:00Z Sync\n"
                   "2026-03-30T07:00:00Z 2026-03-30T08:00:00Z Sync\n"
                   "2026-04-01T07:00:00Z 2026-04-01T08:00:00Z Sync\n"
                   "2026-04-06T07:00:00Z 2026-04-06T08:00:00Z Sync\n"
                   "2026-04-08T07:00:00Z 2026-04-08T08:00:00Z Sync\n");
  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);
      g_autofree char *start = wall_clock (occurrence->start, "Europe/Berlin");
      g_autofree char *end = wall_clock (occurrence->end, "Europe/Berlin");

      g_assert_cmpstr (start, ==, "09:00");
      g_assert_cmpstr (end, ==, "10:00");
    }
}

static void
test_monthly_second_tuesday (void)
{
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:monthly@agendaline.test\r\n"
            "SUMMARY:Board\r\n"
            "DTSTART;TZID=Europe/Oslo:20260113T140000\r\n"
            "DTEND;TZID=Europe/Oslo:20260113T150000\r\n"
            "RRULE:FREQ=MONTHLY;BYDAY=2TU\r\n")
    VCAL_END;

  assert_occurrences (ical, "2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z",
                      "2026-01-13T13:00:00Z 2026-01-13T14:00:00Z Board\n"
                      "2026-02-10T13:00:00Z 2026-02-10T14:00:00Z Board\n"
                      "2026-03-10T13:00:00Z 2026-03-10T14:00:00Z Board\n"
                      "2026-04-14T12:00:00Z 2026-04-14T13:00:00Z Board\n"
                      "2026-05-12T12:00:00Z 2026-05-12T13:00:00Z Board\n"
                      "2026-06-09T12:00:00Z 2026-06-09T13:00:00Z Board\n");
}

static void
test_yearly (void)
{
  /* 29 February happens in leap years only (RFC 5545: invalid dates are
   * skipped). */
  const char *leap = VCAL_BEGIN
    VEVENT ("UID:leap@agendaline.test\r\n"
            "SUMMARY:Leap day lunch\r\n"
            "DTSTART:20240229T110000Z\r\n"
            "DTEND:20240229T120000Z\r\n"
            "RRULE:FREQ=YEARLY\r\n")
    VCAL_END;
  const char *christmas = VCAL_BEGIN
    VEVENT ("UID:christmas@agendaline.test\r\n"
            "SUMMARY:Christmas Eve\r\n"
            "DTSTART;VALUE=DATE:20201224\r\n"
            "DTEND;VALUE=DATE:20201225\r\n"
            "RRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24\r\n")
    VCAL_END;

  set_local_zone ("Europe/Oslo");
  assert_occurrences (leap, "2024-01-01T00:00:00Z", "2029-01-01T00:00:00Z",
                      "2024-02-29T11:00:00Z 2024-02-29T12:00:00Z Leap day lunch\n"
                      "2028-02-29T11:00:00Z 2028-02-29T12:00:00Z Leap day lunch\n");
  assert_occurrences (christmas, "2026-01-01", "2028-01-01",
                      "2026-12-24 2026-12-25 Christmas Eve\n"
                      "2027-12-24 2027-12-25 Christmas Eve\n");
}

static void
test_infinite_windowed (void)
{
  /* Weekly since 2020 without end: only the two in the window, and the
   * window far from the first start costs a few hundred steps. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:forever@agendaline.test\r\n"
            "SUMMARY:Forever\r\n"
            "DTSTART:20200106T100000Z\r\n"
            "DTEND:20200106T110000Z\r\n"
            "RRULE:FREQ=WEEKLY\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z");
  g_autofree char *got = describe (occurrences);
  g_autofree char *far = NULL;

  g_assert_cmpstr (got, ==,
                   "2026-11-23T10:00:00Z 2026-11-23T11:00:00Z Forever\n"
                   "2026-11-30T10:00:00Z 2026-11-30T11:00:00Z Forever\n");

  {
    g_autoptr(GPtrArray) later = expand (ical, "2099-12-28T00:00:00Z", "2100-01-04T00:00:00Z");

    far = describe (later);
    g_assert_cmpstr (far, ==, "2099-12-28T10:00:00Z 2099-12-28T11:00:00Z Forever\n");
  }
}

static void
test_exdate (void)
{
  /* Two dates in one EXDATE, one in another, and a date EXDATE that takes
   * out that day of a timed series. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:exdate@agendaline.test\r\n"
            "SUMMARY:Daily\r\n"
            "DTSTART;TZID=Europe/Oslo:20260105T090000\r\n"
            "DTEND;TZID=Europe/Oslo:20260105T100000\r\n"
            "RRULE:FREQ=DAILY;COUNT=7\r\n"
            "EXDATE;TZID=Europe/Oslo:20260106T090000,20260107T090000\r\n"
            "EXDATE:20260110T080000Z\r\n"
            "EXDATE;VALUE=DATE:20260111\r\n")
    VCAL_END;

  assert_occurrences (ical, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z",
                      "2026-01-05T08:00:00Z 2026-01-05T09:00:00Z Daily\n"
                      "2026-01-08T08:00:00Z 2026-01-08T09:00:00Z Daily\n"
                      "2026-01-09T08:00:00Z 2026-01-09T09:00:00Z Daily\n");
}

static void
test_rdate (void)
{
  /* Two Mondays by the rule; an extra Wednesday, an extra period on Friday
   * that brings its own length, and an RDATE on a rule instance, which
   * counts once. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:rdate@agendaline.test\r\n"
            "SUMMARY:Review\r\n"
            "DTSTART;TZID=Europe/Oslo:20261123T090000\r\n"
            "DTEND;TZID=Europe/Oslo:20261123T100000\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=2\r\n"
            "RDATE;TZID=Europe/Oslo:20261125T120000\r\n"
            "RDATE;VALUE=PERIOD:20261127T100000Z/20261127T113000Z\r\n"
            "RDATE;TZID=Europe/Oslo:20261130T090000\r\n")
    VCAL_END;

  assert_occurrences (ical, "2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z",
                      "2026-11-23T08:00:00Z 2026-11-23T09:00:00Z Review\n"
                      "2026-11-25T11:00:00Z 2026-11-25T12:00:00Z Review\n"
                      "2026-11-27T10:00:00Z 2026-11-27T11:30:00Z Review\n"
                      "2026-11-30T08:00:00Z 2026-11-30T09:00:00Z Review\n");

  /* A single event with an RDATE repeats. */
  {
    g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z");
    const AglOccurrence *occurrence = g_ptr_array_index (occurrences, 0);

    g_assert_cmpuint (occurrences->len, ==, 1);
    g_assert_cmpint (occurrence->recurrence_id, ==, parse_time ("2026-11-25T11:00:00Z"));
  }
}

/* Exceptions */

static void
test_exception_moved_in (void)
{
  /* The 9 November standup moved to Tuesday 17th at 10:00; a window on
   * the 16th and 17th shows it beside the regular 16th. */
  const char *ical = VCAL_BEGIN STANDUP_MASTER
    VEVENT ("UID:standup@agendaline.test\r\n"
            "DTSTAMP:20261101T120000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Oslo:20261109T090000\r\n"
            "DTSTART;TZID=Europe/Oslo:20261117T100000\r\n"
            "DTEND;TZID=Europe/Oslo:20261117T103000\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-16T00:00:00Z", "2026-11-18T00:00:00Z");
  g_autofree char *got = describe (occurrences);
  g_autofree char *rids = describe_recurrence_ids (occurrences);

  /* Without its own SUMMARY the exception keeps the series'. */
  g_assert_cmpstr (got, ==,
                   "2026-11-16T08:00:00Z 2026-11-16T08:15:00Z Standup\n"
                   "2026-11-17T09:00:00Z 2026-11-17T09:30:00Z Standup (exception)\n");
  g_assert_cmpstr (rids, ==, "2026-11-16T08:00:00Z\n2026-11-09T08:00:00Z\n");
}

static void
test_exception_moved_out (void)
{
  const char *ical = VCAL_BEGIN STANDUP_MASTER
    VEVENT ("UID:standup@agendaline.test\r\n"
            "DTSTAMP:20261101T120000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Oslo:20261109T090000\r\n"
            "DTSTART;TZID=Europe/Oslo:20261117T100000\r\n"
            "DTEND;TZID=Europe/Oslo:20261117T103000\r\n")
    VCAL_END;

  /* The 9th is empty: its occurrence is on the 17th. */
  assert_occurrences (ical, "2026-11-09T00:00:00Z", "2026-11-10T00:00:00Z", "");
  assert_occurrences (ical, "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z",
                      "2026-11-02T08:00:00Z 2026-11-02T08:15:00Z Standup\n"
                      "2026-11-16T08:00:00Z 2026-11-16T08:15:00Z Standup\n"
                      "2026-11-17T09:00:00Z 2026-11-17T09:30:00Z Standup (exception)\n"
                      "2026-11-23T08:00:00Z 2026-11-23T08:15:00Z Standup\n"
                      "2026-11-30T08:00:00Z 2026-11-30T08:15:00Z Standup\n"
                      "2026-12-07T08:00:00Z 2026-12-07T08:15:00Z Standup\n");
}

static void
test_exception_summary (void)
{
  const char *ical = VCAL_BEGIN STANDUP_MASTER
    VEVENT ("UID:standup@agendaline.test\r\n"
            "DTSTAMP:20261101T120000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Oslo:20261123T090000\r\n"
            "SUMMARY:Standup with the auditors\r\n"
            "DTSTART;TZID=Europe/Oslo:20261123T090000\r\n"
            "DTEND;TZID=Europe/Oslo:20261123T100000\r\n")
    VCAL_END;

  assert_occurrences (ical, "2026-11-16T00:00:00Z", "2026-12-01T00:00:00Z",
                      "2026-11-16T08:00:00Z 2026-11-16T08:15:00Z Standup\n"
                      "2026-11-23T08:00:00Z 2026-11-23T09:00:00Z Standup with the auditors (exception)\n"
                      "2026-11-30T08:00:00Z 2026-11-30T08:15:00Z Standup\n");
}

static void
test_exception_this_and_future (void)
{
  /* From 23 March on, the Monday meeting is on Tuesdays at 10:00 and
   * lasts an hour: it keeps 10:00 after summer time starts on the 29th. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:future@agendaline.test\r\n"
            "SUMMARY:Planning\r\n"
            "DTSTART;TZID=Europe/Berlin:20260316T090000\r\n"
            "DTEND;TZID=Europe/Berlin:20260316T093000\r\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\r\n")
    VEVENT ("UID:future@agendaline.test\r\n"
            "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260323T090000\r\n"
            "SUMMARY:Planning (Tuesdays)\r\n"
            "DTSTART;TZID=Europe/Berlin:20260324T100000\r\n"
            "DTEND;TZID=Europe/Berlin:20260324T110000\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z");
  g_autofree char *got = describe (occurrences);
  g_autofree char *rids = describe_recurrence_ids (occurrences);

  g_assert_cmpstr (got, ==,
                   "2026-03-16T08:00:00Z 2026-03-16T08:30:00Z Planning\n"
                   "2026-03-24T09:00:00Z 2026-03-24T10:00:00Z Planning (Tuesdays) (exception)\n"
                   "2026-03-31T08:00:00Z 2026-03-31T09:00:00Z Planning (Tuesdays) (exception)\n"
                   "2026-04-07T08:00:00Z 2026-04-07T09:00:00Z Planning (Tuesdays) (exception)\n");
  g_assert_cmpstr (rids, ==,
                   "2026-03-16T08:00:00Z\n2026-03-23T08:00:00Z\n"
                   "2026-03-30T07:00:00Z\n2026-04-06T07:00:00Z\n");

  /* An instance the change moved into the window from after it. */
  assert_occurrences (ical, "2026-03-31T00:00:00Z", "2026-03-31T12:00:00Z",
                      "2026-03-31T08:00:00Z 2026-03-31T09:00:00Z Planning (Tuesdays) (exception)\n");
}

static void
test_cancelled (void)
{
  /* A cancelled exception takes its occurrence away; a cancelled series
   * has none. */
  const char *ical = VCAL_BEGIN STANDUP_MASTER
    VEVENT ("UID:standup@agendaline.test\r\n"
            "DTSTAMP:20261101T120000Z\r\n"
            "RECURRENCE-ID;TZID=Europe/Oslo:20261116T090000\r\n"
            "STATUS:CANCELLED\r\n"
            "DTSTART;TZID=Europe/Oslo:20261116T090000\r\n"
            "DTEND;TZID=Europe/Oslo:20261116T091500\r\n")
    VCAL_END;
  const char *cancelled = VCAL_BEGIN
    VEVENT ("UID:off@agendaline.test\r\n"
            "SUMMARY:Called off\r\n"
            "STATUS:CANCELLED\r\n"
            "DTSTART:20261116T080000Z\r\n"
            "DTEND:20261116T090000Z\r\n"
            "RRULE:FREQ=DAILY;COUNT=3\r\n")
    VCAL_END;

  assert_occurrences (ical, "2026-11-09T00:00:00Z", "2026-11-24T00:00:00Z",
                      "2026-11-09T08:00:00Z 2026-11-09T08:15:00Z Standup\n"
                      "2026-11-23T08:00:00Z 2026-11-23T08:15:00Z Standup\n");
  assert_occurrences (cancelled, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "");
}

/* All-day and single appointments */

static void
test_all_day_single (void)
{
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:eve@agendaline.test\r\n"
            "SUMMARY:Christmas Eve\r\n"
            "DTSTART;VALUE=DATE:20261224\r\n"
            "DTEND;VALUE=DATE:20261225\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = NULL;
  g_autoptr(GDateTime) midnight = NULL;
  const AglOccurrence *occurrence;

  /* Local midnight to local midnight, in the zone the daemon runs in. */
  set_local_zone ("America/New_York");
  occurrences = expand (ical, "2026-12-24T12:00:00Z", "2026-12-25T00:00:00Z");
  g_assert_cmpuint (occurrences->len, ==, 1);
  occurrence = g_ptr_array_index (occurrences, 0);
  g_assert_true (occurrence->all_day);
  g_assert_false (occurrence->exception);
  g_assert_cmpint (occurrence->recurrence_id, ==, 0);
  g_assert_cmpstr (occurrence->summary, ==, "Christmas Eve");
  midnight = g_date_time_new_local (2026, 12, 24, 0, 0, 0);
  g_assert_cmpint (occurrence->start, ==, g_date_time_to_unix (midnight));
  g_assert_cmpint (occurrence->end - occurrence->start, ==, 24 * 3600);
  g_assert_cmpint (occurrence->start, ==, parse_time ("2026-12-24T05:00:00Z"));

  /* Midnight on the 25th in New York is 05:00 UTC. */
  assert_occurrences (ical, "2026-12-25T04:59:00Z", "2026-12-26", "2026-12-24 2026-12-25 Christmas Eve\n");
  assert_occurrences (ical, "2026-12-25T05:00:00Z", "2026-12-26", "");
  set_local_zone ("Europe/Oslo");
}

static void
test_all_day_multi_day (void)
{
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:holiday@agendaline.test\r\n"
            "SUMMARY:Holiday\r\n"
            "DTSTART;VALUE=DATE:20261228\r\n"
            "DTEND;VALUE=DATE:20270102\r\n")
    VCAL_END;
  /* Daily all-day across the start of summer time: the 29th has 23 hours. */
  const char *daily = VCAL_BEGIN
    VEVENT ("UID:days@agendaline.test\r\n"
            "SUMMARY:Course\r\n"
            "DTSTART;VALUE=DATE:20260328\r\n"
            "DTEND;VALUE=DATE:20260329\r\n"
            "RRULE:FREQ=DAILY;COUNT=3\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = NULL;

  set_local_zone ("Europe/Oslo");
  /* Any window touching one of its days has it, once. */
  assert_occurrences (ical, "2026-12-30", "2026-12-31", "2026-12-28 2027-01-02 Holiday\n");
  assert_occurrences (ical, "2026-11-01", "2027-02-01", "2026-12-28 2027-01-02 Holiday\n");
  assert_occurrences (ical, "2027-01-02", "2027-01-03", "");

  occurrences = expand (daily, "2026-03-01", "2026-04-01");
  g_assert_cmpuint (occurrences->len, ==, 3);
  g_assert_cmpint (((AglOccurrence *) g_ptr_array_index (occurrences, 0))->start, ==,
                   parse_time ("2026-03-27T23:00:00Z"));
  g_assert_cmpint (((AglOccurrence *) g_ptr_array_index (occurrences, 1))->start, ==,
                   parse_time ("2026-03-28T23:00:00Z"));
  g_assert_cmpint (((AglOccurrence *) g_ptr_array_index (occurrences, 1))->end, ==,
                   parse_time ("2026-03-29T22:00:00Z"));
  g_assert_cmpint (((AglOccurrence *) g_ptr_array_index (occurrences, 2))->start, ==,
                   parse_time ("2026-03-29T22:00:00Z"));
}

static void
test_single (void)
{
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:dentist@agendaline.test\r\n"
            "SUMMARY:Dentist\r\n"
            "DTSTART:20261124T080000Z\r\n"
            "DTEND:20261124T090000Z\r\n")
    VCAL_END;
  const char *instant = VCAL_BEGIN
    VEVENT ("UID:deadline@agendaline.test\r\n"
            "SUMMARY:Deadline\r\n"
            "DTSTART:20261124T120000Z\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
  const AglOccurrence *occurrence = g_ptr_array_index (occurrences, 0);

  g_assert_cmpuint (occurrences->len, ==, 1);
  g_assert_cmpint (occurrence->start, ==, parse_time ("2026-11-24T08:00:00Z"));
  g_assert_cmpint (occurrence->end, ==, parse_time ("2026-11-24T09:00:00Z"));
  g_assert_false (occurrence->all_day);
  g_assert_false (occurrence->exception);
  g_assert_cmpint (occurrence->recurrence_id, ==, 0);
  g_assert_cmpstr (occurrence->busy_status, ==, "");
  g_assert_cmpstr (occurrence->transp, ==, "");

  assert_occurrences (ical, "2026-11-24T09:00:00Z", "2026-11-25T00:00:00Z", "");
  assert_occurrences (ical, "2026-11-23T00:00:00Z", "2026-11-24T08:00:00Z", "");

  /* No length: in the window when its instant is, the start included. */
  assert_occurrences (instant, "2026-11-24T12:00:00Z", "2026-11-24T13:00:00Z",
                      "2026-11-24T12:00:00Z 2026-11-24T12:00:00Z Deadline\n");
  assert_occurrences (instant, "2026-11-24T11:00:00Z", "2026-11-24T12:00:00Z", "");
}

static void
test_floating (void)
{
  /* Floating times are the local wall clock: 09:00 in Tokyo is 00:00 UTC.
   * UNTIL in UTC is the 25th's 09:00 in Tokyo, which it includes, though
   * its digits are earlier. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:floating@agendaline.test\r\n"
            "SUMMARY:Morning\r\n"
            "DTSTART:20261123T090000\r\n"
            "DTEND:20261123T093000\r\n"
            "RRULE:FREQ=DAILY;UNTIL=20261125T000000Z\r\n")
    VCAL_END;

  set_local_zone ("Asia/Tokyo");
  assert_occurrences (ical, "2026-11-20T00:00:00Z", "2026-11-30T00:00:00Z",
                      "2026-11-23T00:00:00Z 2026-11-23T00:30:00Z Morning\n"
                      "2026-11-24T00:00:00Z 2026-11-24T00:30:00Z Morning\n"
                      "2026-11-25T00:00:00Z 2026-11-25T00:30:00Z Morning\n");
  set_local_zone ("Europe/Oslo");
}

/* Time zones and Outlook */

static void
test_vtimezone_outlook (void)
{
  /* Exchange's weekly Friday meeting in "W. Europe Standard Time", a zone
   * only the VTIMEZONE defines: the EXDATE on 10 April, the 24 April one
   * moved to 14:00, 09:00 local throughout and 07:00 UTC after 29 March. */
  const char *ical = VCAL_BEGIN W_EUROPE_VTIMEZONE
    VEVENT ("UID:outlook-weekly@agendaline.test\r\n"
            "SUMMARY;LANGUAGE=nb-NO:Ukentlig planlegging\r\n"
            "DTSTART;TZID=W. Europe Standard Time:20260320T090000\r\n"
            "DTEND;TZID=W. Europe Standard Time:20260320T093000\r\n"
            "RRULE:FREQ=WEEKLY;UNTIL=20260529T070000Z;INTERVAL=1;BYDAY=FR;WKST=MO\r\n"
            "EXDATE;TZID=W. Europe Standard Time:20260410T090000\r\n"
            "TRANSP:OPAQUE\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
            "X-MICROSOFT-CDO-INSTTYPE:1\r\n")
    VEVENT ("UID:outlook-weekly@agendaline.test\r\n"
            "RECURRENCE-ID;TZID=W. Europe Standard Time:20260424T090000\r\n"
            "SUMMARY;LANGUAGE=nb-NO:Ukentlig planlegging\r\n"
            "DTSTART;TZID=W. Europe Standard Time:20260424T140000\r\n"
            "DTEND;TZID=W. Europe Standard Time:20260424T143000\r\n"
            "TRANSP:OPAQUE\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"
            "X-MICROSOFT-CDO-INSTTYPE:3\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-03-16T00:00:00Z", "2026-06-01T00:00:00Z");
  g_autofree char *got = describe (occurrences);

  g_assert_cmpstr (got, ==,
                   "2026-03-20T08:00:00Z 2026-03-20T08:30:00Z Ukentlig planlegging\n"
                   "2026-03-27T08:00:00Z 2026-03-27T08:30:00Z Ukentlig planlegging\n"
                   "2026-04-03T07:00:00Z 2026-04-03T07:30:00Z Ukentlig planlegging\n"
                   "2026-04-17T07:00:00Z 2026-04-17T07:30:00Z Ukentlig planlegging\n"
                   "2026-04-24T12:00:00Z 2026-04-24T12:30:00Z Ukentlig planlegging (exception)\n"
                   "2026-05-01T07:00:00Z 2026-05-01T07:30:00Z Ukentlig planlegging\n"
                   "2026-05-08T07:00:00Z 2026-05-08T07:30:00Z Ukentlig planlegging\n"
                   "2026-05-15T07:00:00Z 2026-05-15T07:30:00Z Ukentlig planlegging\n"
                   "2026-05-22T07:00:00Z 2026-05-22T07:30:00Z Ukentlig planlegging\n"
                   "2026-05-29T07:00:00Z 2026-05-29T07:30:00Z Ukentlig planlegging\n");

  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);

      g_assert_cmpstr (occurrence->transp, ==, "OPAQUE");
      g_assert_cmpstr (occurrence->busy_status, ==, occurrence->exception ? "TENTATIVE" : "BUSY");
    }
}

static void
test_busy_status (void)
{
  /* An exception without its own busy status or TRANSP has the series'. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:busy@agendaline.test\r\n"
            "SUMMARY:Focus\r\n"
            "DTSTART:20261123T080000Z\r\n"
            "DTEND:20261123T090000Z\r\n"
            "RRULE:FREQ=DAILY;COUNT=3\r\n"
            "TRANSP:TRANSPARENT\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n")
    VEVENT ("UID:busy@agendaline.test\r\n"
            "RECURRENCE-ID:20261124T080000Z\r\n"
            "SUMMARY:Focus\r\n"
            "DTSTART:20261124T100000Z\r\n"
            "DTEND:20261124T110000Z\r\n"
            "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n")
    VEVENT ("UID:busy@agendaline.test\r\n"
            "RECURRENCE-ID:20261125T080000Z\r\n"
            "SUMMARY:Focus\r\n"
            "DTSTART:20261125T090000Z\r\n"
            "DTEND:20261125T100000Z\r\n"
            "TRANSP:OPAQUE\r\n")
    VCAL_END;
  g_autoptr(GPtrArray) occurrences = expand (ical, "2026-11-23T00:00:00Z", "2026-11-26T00:00:00Z");
  const char *busy[] = { "FREE", "OOF", "FREE" };
  const char *transp[] = { "TRANSPARENT", "TRANSPARENT", "OPAQUE" };

  g_assert_cmpuint (occurrences->len, ==, 3);
  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);

      g_assert_cmpstr (occurrence->busy_status, ==, busy[i]);
      g_assert_cmpstr (occurrence->transp, ==, transp[i]);
      g_assert_cmpint (occurrence->exception, ==, i > 0);
    }
}

/* Bounds and bad input */

static void
test_iteration_cap (void)
{
  /* Every minute since 2025: reaching 2026 takes half a million steps. */
  const char *minutely = VCAL_BEGIN
    VEVENT ("UID:minutely@agendaline.test\r\n"
            "SUMMARY:Tick\r\n"
            "DTSTART:20250101T000000Z\r\n"
            "RRULE:FREQ=MINUTELY\r\n")
    VCAL_END;
  const char *daily = VCAL_BEGIN
    VEVENT ("UID:daily-cap@agendaline.test\r\n"
            "SUMMARY:Daily\r\n"
            "DTSTART:20260101T080000Z\r\n"
            "DTEND:20260101T090000Z\r\n"
            "RRULE:FREQ=DAILY\r\n")
    VCAL_END;
  g_autofree char *stored_minutely = normalise (minutely);
  g_autofree char *stored_daily = normalise (daily);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) occurrences = NULL;

  occurrences = agl_occurrences_expand (stored_minutely, parse_time ("2026-06-01T00:00:00Z"),
                                        parse_time ("2026-06-01T00:10:00Z"), &error);
  g_assert_null (occurrences);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“Tick” (UID minutely@agendaline.test)"));
  g_assert_nonnull (strstr (error->message, "repeats too often"));
  g_assert_nonnull (strstr (error->message, "100000"));
  g_clear_error (&error);

  /* The limit counts steps from the first start: ten reach 9 January. */
  occurrences = agl_occurrences_expand_full (stored_daily, parse_time ("2026-01-05T00:00:00Z"),
                                             parse_time ("2026-01-06T00:00:00Z"), 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (occurrences->len, ==, 1);
  g_clear_pointer (&occurrences, g_ptr_array_unref);

  occurrences = agl_occurrences_expand_full (stored_daily, parse_time ("2026-01-20T00:00:00Z"),
                                             parse_time ("2026-01-21T00:00:00Z"), 10, &error);
  g_assert_null (occurrences);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
}

static void
test_sub_daily_refused (void)
{
  /* Every minute on 30 February: libical would look for centuries. */
  const char *ical = VCAL_BEGIN
    VEVENT ("UID:never@agendaline.test\r\n"
            "SUMMARY:Never\r\n"
            "DTSTART:20260101T000000Z\r\n"
            "RRULE:FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30\r\n")
    VCAL_END;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) occurrences = NULL;

  /* Refused on the way in... */
  event = agl_event_new_from_string (ical, &error);
  g_assert_null (event);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_clear_error (&error);

  /* ...and in text stored by other means (an older version, by hand). */
  occurrences = agl_occurrences_expand (ical, parse_time ("2026-02-01T00:00:00Z"),
                                        parse_time ("2026-03-01T00:00:00Z"), &error);
  g_assert_null (occurrences);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_assert_nonnull (strstr (error->message, "RRULE:FREQ=MINUTELY"));
}

static void
test_empty_range (void)
{
  g_autofree char *stored = normalise (VCAL_BEGIN STANDUP_MASTER VCAL_END);
  gint64 t = parse_time ("2026-11-02T08:00:00Z");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) empty = agl_occurrences_expand (stored, t, t, &error);
  g_autoptr(GPtrArray) reversed = agl_occurrences_expand (stored, t + 3600, t, &error);

  g_assert_no_error (error);
  g_assert_nonnull (empty);
  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_nonnull (reversed);
  g_assert_cmpuint (reversed->len, ==, 0);
}

static void
test_invalid_text (void)
{
  const char *bad[] = {
    "",
    "This is not iCalendar text.",
    VCAL_BEGIN VEVENT ("UID:nostart@agendaline.test\r\nSUMMARY:No start\r\n") VCAL_END,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) occurrences = agl_occurrences_expand (bad[i], 0, G_MAXINT64, &error);

      g_assert_null (occurrences);
      g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
    }
}

int
main (int    argc,
      char **argv)
{
  /* Floating times and dates are read in the local zone; each test that
   * depends on it says which. */
  set_local_zone ("Europe/Oslo");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/occurrences/series/daily-count", test_daily_count);
  g_test_add_func ("/occurrences/series/weekly-until-dst", test_weekly_until_dst);
  g_test_add_func ("/occurrences/series/monthly-second-tuesday", test_monthly_second_tuesday);
  g_test_add_func ("/occurrences/series/yearly", test_yearly);
  g_test_add_func ("/occurrences/series/infinite-windowed", test_infinite_windowed);
  g_test_add_func ("/occurrences/series/exdate", test_exdate);
  g_test_add_func ("/occurrences/series/rdate", test_rdate);
  g_test_add_func ("/occurrences/exception/moved-in", test_exception_moved_in);
  g_test_add_func ("/occurrences/exception/moved-out", test_exception_moved_out);
  g_test_add_func ("/occurrences/exception/summary", test_exception_summary);
  g_test_add_func ("/occurrences/exception/this-and-future", test_exception_this_and_future);
  g_test_add_func ("/occurrences/exception/cancelled", test_cancelled);
  g_test_add_func ("/occurrences/all-day/single", test_all_day_single);
  g_test_add_func ("/occurrences/all-day/multi-day", test_all_day_multi_day);
  g_test_add_func ("/occurrences/single", test_single);
  g_test_add_func ("/occurrences/floating-local", test_floating);
  g_test_add_func ("/occurrences/timezone/vtimezone-outlook", test_vtimezone_outlook);
  g_test_add_func ("/occurrences/busy-status", test_busy_status);
  g_test_add_func ("/occurrences/bounds/iteration-cap", test_iteration_cap);
  g_test_add_func ("/occurrences/bounds/sub-daily-refused", test_sub_daily_refused);
  g_test_add_func ("/occurrences/bounds/empty-range", test_empty_range);
  g_test_add_func ("/occurrences/invalid-text", test_invalid_text);

  return g_test_run ();
}
