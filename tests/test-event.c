/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "agl-error.h"
#include "agl-event.h"
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

#define OUTLOOK_SERIES_UID \
  "040000008200E00074C5B7101A82E00800000000D0A1B2C3D4E5DA01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90"

static void
set_local_zone (const char *tz)
{
  g_setenv ("TZ", tz, TRUE);
  tzset ();
}

static char *
load_fixture (const char *name)
{
  const char *dir = g_getenv ("AGL_TEST_FIXTURES");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  if (dir != NULL)
    path = g_build_filename (dir, name, NULL);
  else
    path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static AglEvent *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  AglEvent *event = agl_event_new_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (event);
  return event;
}

/* The normalised text is a fixed point: read back, it gives itself and
 * the same indexed fields. */
static void
assert_roundtrip (AglEvent *event)
{
  g_autofree char *text = agl_event_to_string (event);
  g_autoptr(AglEvent) again = parse_ok (text);
  g_autofree char *text_again = agl_event_to_string (again);

  g_assert_cmpstr (text, ==, text_again);
  g_assert_cmpstr (agl_event_get_uid (event), ==, agl_event_get_uid (again));
  g_assert_cmpstr (agl_event_get_summary (event), ==, agl_event_get_summary (again));
  g_assert_cmpint (agl_event_get_start (event), ==, agl_event_get_start (again));
  g_assert_cmpint (agl_event_get_end (event), ==, agl_event_get_end (again));
  g_assert_cmpint (agl_event_get_range_end (event), ==, agl_event_get_range_end (again));
  g_assert_cmpint (agl_event_get_all_day (event), ==, agl_event_get_all_day (again));
  g_assert_cmpint (agl_event_is_recurring (event), ==, agl_event_is_recurring (again));

  g_assert_true (g_str_has_prefix (text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//Agendaline 0.1//EN\r\n"));
  g_assert_true (g_str_has_suffix (text, "END:VCALENDAR\r\n"));
  g_assert_null (strstr (text, "METHOD:"));
  g_assert_null (strstr (text, "X-LIC-ERROR"));
  g_assert_null (strstr (text, "X-AGENDALINE-RAW"));
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” not found in:\n%s", needle, haystack);
}

static guint
count_occurrences (const char *haystack,
                   const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* Asserts @text is refused and the message holds each of the fragments. */
static void
assert_invalid (const char *text,
                ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEvent) event = agl_event_new_from_string (text, &error);
  va_list args;

  g_assert_null (event);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_test_message ("%s", error->message);

  va_start (args, text);
  for (const char *fragment = va_arg (args, const char *); fragment != NULL; fragment = va_arg (args, const char *))
    assert_contains (error->message, fragment);
  va_end (args);
}

/* time */

static void
test_time_parse_utc (void)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  g_assert_true (agl_time_parse_iso8601 ("2026-11-23T09:00:00Z", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1795424400);
}

static void
test_time_parse_offset (void)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  g_assert_true (agl_time_parse_iso8601 ("2026-11-23T09:00:00+01:00", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1795420800);
}

static void
test_time_parse_fraction (void)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  g_assert_true (agl_time_parse_iso8601 ("2026-11-23T09:00:00.750Z", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1795424400);
}

static void
test_time_parse_date (void)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  /* Local midnight: 2026-11-23T00:00:00+01:00 in Oslo. */
  g_assert_true (agl_time_parse_iso8601 ("2026-11-23", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1795388400);

  set_local_zone ("America/New_York");
  g_assert_true (agl_time_parse_iso8601 ("2026-11-23", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1795388400 + 6 * 3600);
  set_local_zone ("Europe/Oslo");
}

static void
test_time_parse_local (void)
{
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  /* No zone designator: Oslo summer time, UTC+2. */
  g_assert_true (agl_time_parse_iso8601 ("2026-06-15T10:00:00", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, 1781510400);
}

static void
test_time_parse_invalid (void)
{
  const char *bad[] = {
    "", "   ", "tomorrow", "2026-13-01", "2026-02-30", "2026-11-23T25:00:00Z",
    "23.11.2026", "2026-11-23 nonsense", "2026-11", "09:00", NULL
  };

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 t = 42;

      g_assert_false (agl_time_parse_iso8601 (bad[i], &t, &error));
      g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
      assert_contains (error->message, "is not a date or time; use ISO 8601 such as 2026-11-23T09:00:00Z or 2026-11-23");
      g_assert_cmpint (t, ==, 42);
    }

  {
    g_autoptr(GError) error = NULL;
    gint64 t = 0;

    g_assert_false (agl_time_parse_iso8601 (NULL, &t, &error));
    g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_time_format_utc (void)
{
  g_autofree char *text = agl_time_format_utc (1795424400);
  g_autofree char *unbounded = agl_time_format_utc (AGL_ITEM_UNBOUNDED);

  g_assert_cmpstr (text, ==, "2026-11-23T09:00:00Z");
  g_assert_cmpstr (unbounded, ==, "9999-12-31T23:59:59Z");
}

static void
test_time_format_date (void)
{
  /* 23:30 UTC on the 22nd is already the 23rd in Oslo. */
  g_autofree char *text = agl_time_format_date (1795390200);

  g_assert_cmpstr (text, ==, "2026-11-23");
}

static void
test_time_roundtrip (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gint64 t = 0;

  g_assert_true (agl_time_parse_iso8601 ("1969-07-20T20:17:40Z", &t, &error));
  g_assert_no_error (error);
  g_assert_cmpint (t, ==, -14182940);
  text = agl_time_format_utc (t);
  g_assert_cmpstr (text, ==, "1969-07-20T20:17:40Z");
}

/* round trips */

static void
test_roundtrip_utc (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:utc@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Release call\r\n"
                                                           "DTSTART:20261123T090000Z\r\n"
                                                           "DTEND:20261123T100000Z\r\n") VCAL_END);

  g_assert_cmpstr (agl_event_get_uid (event), ==, "utc@example.com");
  g_assert_cmpstr (agl_event_get_summary (event), ==, "Release call");
  g_assert_cmpint (agl_event_get_start (event), ==, 1795424400);
  g_assert_cmpint (agl_event_get_end (event), ==, 1795428000);
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1795428000);
  g_assert_false (agl_event_get_all_day (event));
  g_assert_false (agl_event_is_recurring (event));
  assert_roundtrip (event);
}

static void
test_roundtrip_floating (void)
{
  const char *text = VCAL_BEGIN VEVENT ("UID:floating@example.com\r\n"
                                        "DTSTAMP:20260101T000000Z\r\n"
                                        "SUMMARY:Dentist\r\n"
                                        "DTSTART:20260615T100000\r\n"
                                        "DTEND:20260615T110000\r\n") VCAL_END;
  g_autoptr(AglEvent) event = parse_ok (text);
  g_autoptr(AglEvent) in_new_york = NULL;
  g_autofree char *normalised = agl_event_to_string (event);

  /* Floating: the wall time wherever the daemon runs. */
  g_assert_cmpint (agl_event_get_start (event), ==, 1781510400);
  g_assert_cmpint (agl_event_get_end (event), ==, 1781514000);
  assert_contains (normalised, "DTSTART:20260615T100000\r\n");
  assert_roundtrip (event);

  set_local_zone ("America/New_York");
  in_new_york = parse_ok (text);
  g_assert_cmpint (agl_event_get_start (in_new_york), ==, 1781510400 + 6 * 3600);
  set_local_zone ("Europe/Oslo");
}

static void
test_roundtrip_timezone_builtin (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:oslo@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Before the switch\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260327T090000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260327T100000\r\n") VCAL_END);
  g_autoptr(AglEvent) after = parse_ok (VCAL_BEGIN VEVENT ("UID:oslo-2@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:After the switch\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260330T090000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260330T100000\r\n") VCAL_END);
  g_autofree char *text = agl_event_to_string (event);

  g_assert_cmpint (agl_event_get_start (event), ==, 1774598400);
  g_assert_cmpint (agl_event_get_start (after), ==, 1774854000);
  /* Builtin zones are not copied into the stored text. */
  g_assert_null (strstr (text, "BEGIN:VTIMEZONE"));
  assert_contains (text, "DTSTART;TZID=Europe/Oslo:20260327T090000\r\n");
  assert_roundtrip (event);
  assert_roundtrip (after);
}

static void
test_roundtrip_timezone_vtimezone (void)
{
  const char *text = VCAL_BEGIN W_EUROPE_VTIMEZONE
    VEVENT ("UID:cet-1@example.com\r\n"
            "DTSTAMP:20260101T000000Z\r\n"
            "SUMMARY:Friday before DST\r\n"
            "DTSTART;TZID=W. Europe Standard Time:20260327T090000\r\n"
            "DTEND;TZID=W. Europe Standard Time:20260327T100000\r\n") VCAL_END;
  const char *after_text = VCAL_BEGIN W_EUROPE_VTIMEZONE
    VEVENT ("UID:cet-2@example.com\r\n"
            "DTSTAMP:20260101T000000Z\r\n"
            "SUMMARY:Monday after DST\r\n"
            "DTSTART;TZID=W. Europe Standard Time:20260330T090000\r\n"
            "DTEND;TZID=W. Europe Standard Time:20260330T100000\r\n") VCAL_END;
  g_autoptr(AglEvent) before = parse_ok (text);
  g_autoptr(AglEvent) after = parse_ok (after_text);
  g_autofree char *normalised = agl_event_to_string (before);

  /* 09:00 is 08:00Z in winter time and 07:00Z after 29 March. */
  g_assert_cmpint (agl_event_get_start (before), ==, 1774598400);
  g_assert_cmpint (agl_event_get_end (before), ==, 1774602000);
  g_assert_cmpint (agl_event_get_start (after), ==, 1774854000);
  assert_contains (normalised, "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n");
  g_assert_cmpuint (count_occurrences (normalised, "BEGIN:VTIMEZONE"), ==, 1);
  assert_roundtrip (before);
  assert_roundtrip (after);
}

static void
test_timezone_vtimezone_wins (void)
{
  /* A VTIMEZONE that calls itself Europe/Oslo but keeps UTC+5 all year:
   * the sender's definition is what the times mean. */
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN
                                        "BEGIN:VTIMEZONE\r\n"
                                        "TZID:Europe/Oslo\r\n"
                                        "BEGIN:STANDARD\r\n"
                                        "DTSTART:19700101T000000\r\n"
                                        "TZOFFSETFROM:+0500\r\n"
                                        "TZOFFSETTO:+0500\r\n"
                                        "END:STANDARD\r\n"
                                        "END:VTIMEZONE\r\n"
                                        VEVENT ("UID:odd@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "DTSTART;TZID=Europe/Oslo:20261123T090000\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_start (event), ==, 1795424400 - 5 * 3600);
  assert_roundtrip (event);
}

static void
test_timezone_same_tzid_other_rules (void)
{
  g_autoptr(AglEvent) outlook = parse_ok (VCAL_BEGIN W_EUROPE_VTIMEZONE
                                          VEVENT ("UID:cet@example.com\r\n"
                                                  "DTSTART;TZID=W. Europe Standard Time:20261123T090000\r\n") VCAL_END);
  /* Another sender's zone of the same name; zones are told apart by
   * their rules, not their name. */
  g_autoptr(AglEvent) other = parse_ok (VCAL_BEGIN
                                        "BEGIN:VTIMEZONE\r\n"
                                        "TZID:W. Europe Standard Time\r\n"
                                        "BEGIN:STANDARD\r\n"
                                        "DTSTART:19700101T000000\r\n"
                                        "TZOFFSETFROM:+0300\r\n"
                                        "TZOFFSETTO:+0300\r\n"
                                        "END:STANDARD\r\n"
                                        "END:VTIMEZONE\r\n"
                                        VEVENT ("UID:msk@example.com\r\n"
                                                "DTSTART;TZID=W. Europe Standard Time:20261123T090000\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_start (outlook), ==, 1795424400 - 3600);
  g_assert_cmpint (agl_event_get_start (other), ==, 1795424400 - 3 * 3600);
}

static gpointer
parse_outlook_thread (gpointer data)
{
  const char *ics = data;

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, &error);

      g_assert_no_error (error);
      g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 1)), ==, 1774854000);
      g_assert_cmpint (agl_event_get_range_end (g_ptr_array_index (events, 0)), ==, 1780039800);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autofree char *ics = load_fixture ("event-outlook.ics");
  GThread *threads[4];

  /* Zones are shared between calls; several threads at once must still
   * get the same answers. */
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("parse", parse_outlook_thread, ics);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

static void
test_roundtrip_timezone_unused_dropped (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN W_EUROPE_VTIMEZONE
                                        VEVENT ("UID:no-zone@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "DTSTART:20261123T090000Z\r\n") VCAL_END);
  g_autofree char *text = agl_event_to_string (event);

  g_assert_null (strstr (text, "VTIMEZONE"));
}

static void
test_roundtrip_all_day (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:holiday@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Labour Day\r\n"
                                                           "DTSTART;VALUE=DATE:20260501\r\n"
                                                           "DTEND;VALUE=DATE:20260502\r\n") VCAL_END);
  g_autoptr(AglEvent) no_end = parse_ok (VCAL_BEGIN VEVENT ("UID:holiday-2@example.com\r\n"
                                                            "DTSTAMP:20260101T000000Z\r\n"
                                                            "DTSTART;VALUE=DATE:20260501\r\n") VCAL_END);

  g_assert_true (agl_event_get_all_day (event));
  g_assert_cmpint (agl_event_get_start (event), ==, 1777586400);
  g_assert_cmpint (agl_event_get_end (event), ==, 1777672800);
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1777672800);
  assert_roundtrip (event);

  /* Without DTEND an all-day event lasts its day. */
  g_assert_true (agl_event_get_all_day (no_end));
  g_assert_cmpint (agl_event_get_end (no_end), ==, 1777672800);
  assert_roundtrip (no_end);
}

static void
test_roundtrip_all_day_multi (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:summer@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Summer holiday\r\n"
                                                           "DTSTART;VALUE=DATE:20260706\r\n"
                                                           "DTEND;VALUE=DATE:20260711\r\n") VCAL_END);

  g_assert_true (agl_event_get_all_day (event));
  g_assert_cmpint (agl_event_get_start (event), ==, 1783288800);
  g_assert_cmpint (agl_event_get_end (event), ==, 1783720800);
  assert_roundtrip (event);
}

static void
test_roundtrip_bare_vevent (void)
{
  g_autoptr(AglEvent) event = parse_ok (VEVENT ("UID:bare@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "SUMMARY:Bare\r\n"
                                                "DTSTART;TZID=Europe/Oslo:20260327T090000\r\n"
                                                "DURATION:PT45M\r\n"));
  g_autofree char *text = agl_event_to_string (event);

  g_assert_cmpint (agl_event_get_start (event), ==, 1774598400);
  g_assert_cmpint (agl_event_get_end (event), ==, 1774598400 + 45 * 60);
  assert_contains (text, "BEGIN:VCALENDAR\r\n");
  assert_roundtrip (event);
}

static void
test_roundtrip_properties (void)
{
  g_autofree char *ics = load_fixture ("event-properties.ics");
  g_autoptr(AglEvent) event = parse_ok (ics);
  g_autofree char *text = agl_event_to_string (event);
  g_autofree char *unfolded = NULL;
  g_auto(GStrv) lines = NULL;

  g_test_message ("%s", text);
  lines = g_strsplit (text, "\r\n ", -1);
  unfolded = g_strjoinv ("", lines);

  /* X- and unknown properties and parameters come back byte for byte. */
  assert_contains (unfolded, "\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n");
  assert_contains (unfolded, "\r\nX-ALT-DESC;FMTTYPE=text/html:<p style=\"margin:0\\;color:red\">a\\, b\\; c</p>\r\n");
  assert_contains (unfolded, "\r\nX-EXAMPLE-NOTE;X-SOURCE=\"crm:42\";LANGUAGE=nb:Ærlig talt\\, dette er en veldig lang merknad som må brettes over flere linjer når den skrives ut igjen\r\n");
  assert_contains (unfolded, "\r\nFUTURE-PROPERTY;FUTURE-PARAM=yes:some value\\; with\\, escapes\r\n");
  assert_contains (unfolded, "\r\nCATEGORIES:Work,Finance\\, Budget\r\n");
  assert_contains (unfolded, "\r\nRESOURCES:Projector\r\n");
  assert_contains (unfolded, "SUMMARY;X-LABEL=short;LANGUAGE=en:Quarterly review\\, Q2\r\n");
  assert_contains (unfolded, "X-NUM-GUESTS=0");
  assert_contains (unfolded, "EMAIL=per@example.no");
  assert_contains (unfolded, "\r\nATTENDEE;CUTYPE=GROUP;MEMBER=\"mailto:team-a@example.no\",\"mailto:team-b@example.no\":mailto:all@example.no\r\n");
  assert_contains (unfolded, "CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO;LABEL=Join:https://meet.example.com/abc\r\n");
  g_assert_cmpstr (agl_event_get_summary (event), ==, "Quarterly review, Q2");

  /* Folded at 75 octets, never inside a UTF-8 character. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) physical = g_strsplit (lines[i], "\r\n", -1);

      for (guint j = 0; physical[j] != NULL; j++)
        {
          g_assert_cmpuint (strlen (physical[j]), <=, 75);
          g_assert_true (g_utf8_validate (physical[j], -1, NULL));
        }
    }
  assert_roundtrip (event);
}

static void
test_roundtrip_outlook (void)
{
  g_autofree char *ics = load_fixture ("event-outlook.ics");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, &error);
  AglEvent *series;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 3);
  series = g_ptr_array_index (events, 0);
  text = agl_event_to_string (series);
  g_test_message ("%s", text);

  g_assert_cmpstr (agl_event_get_uid (series), ==, OUTLOOK_SERIES_UID);
  g_assert_cmpstr (agl_event_get_summary (series), ==, "Ukentlig planlegging – team Østfold");
  g_assert_cmpint (agl_event_get_start (series), ==, 1773993600);
  g_assert_cmpint (agl_event_get_end (series), ==, 1773995400);
  /* UNTIL 2026-05-29T07:00Z: the last Friday, 09:00–09:30 CEST. */
  g_assert_cmpint (agl_event_get_range_end (series), ==, 1780039800);
  g_assert_true (agl_event_is_recurring (series));

  assert_contains (text, "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n");
  assert_contains (text, "X-MICROSOFT-CDO-INSTTYPE:3\r\n");
  assert_contains (text, "BEGIN:VALARM\r\n");
  assert_contains (text, "RECURRENCE-ID;TZID=W. Europe Standard Time:20260424T090000\r\n");
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VEVENT"), ==, 2);
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VTIMEZONE"), ==, 1);
  g_assert_null (strstr (text, "X-WR-CALNAME"));
  assert_roundtrip (series);

  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 1)), ==, 1774854000);
  assert_roundtrip (g_ptr_array_index (events, 1));

  g_assert_true (agl_event_get_all_day (g_ptr_array_index (events, 2)));
  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 2)), ==, 1777586400);
  g_assert_cmpint (agl_event_get_end (g_ptr_array_index (events, 2)), ==, 1777672800);
  assert_roundtrip (g_ptr_array_index (events, 2));
}

/* ends and UIDs */

static void
test_end_duration (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:duration@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20261123T090000Z\r\n"
                                                           "DURATION:PT1H30M\r\n") VCAL_END);
  /* A nominal day across the switch to summer time is 23 hours. */
  g_autoptr(AglEvent) day = parse_ok (VCAL_BEGIN VEVENT ("UID:duration-2@example.com\r\n"
                                                         "DTSTAMP:20260101T000000Z\r\n"
                                                         "DTSTART;TZID=Europe/Oslo:20260328T120000\r\n"
                                                         "DURATION:P1D\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_end (event), ==, 1795424400 + 90 * 60);
  g_assert_cmpint (agl_event_get_end (day) - agl_event_get_start (day), ==, 23 * 3600);
  assert_roundtrip (event);
}

static void
test_end_missing (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:instant@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20261123T090000Z\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_end (event), ==, agl_event_get_start (event));
}

static void
test_end_equal_start (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:zero@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20261123T090000Z\r\n"
                                                           "DTEND:20261123T090000Z\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_end (event), ==, 1795424400);
}

static void
test_uid_generated (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("SUMMARY:No UID\r\n"
                                                           "DTSTART:20261123T090000Z\r\n") VCAL_END);
  g_autoptr(AglEvent) other = parse_ok (VCAL_BEGIN VEVENT ("SUMMARY:No UID\r\n"
                                                           "DTSTART:20261123T090000Z\r\n") VCAL_END);
  g_autofree char *text = agl_event_to_string (event);
  g_autofree char *uid_line = g_strdup_printf ("UID:%s\r\n", agl_event_get_uid (event));

  g_assert_true (g_str_has_suffix (agl_event_get_uid (event), "@agendaline"));
  g_assert_cmpuint (strlen (agl_event_get_uid (event)), ==, 36 + strlen ("@agendaline"));
  g_assert_cmpstr (agl_event_get_uid (event), !=, agl_event_get_uid (other));
  assert_contains (text, uid_line);
  /* RFC 5545 wants DTSTAMP; it is added once and then kept. */
  assert_contains (text, "DTSTAMP:");
  assert_roundtrip (event);
}

static void
test_uid_default (void)
{
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglEvent) own = NULL;
  g_autoptr(GError) error = NULL;

  /* New text for a stored appointment: a master and exception without
   * UID both take the stored one, and stay one appointment. */
  event = agl_event_new_from_string_with_uid (VCAL_BEGIN
                                              VEVENT ("DTSTART:20261123T090000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n")
                                              VEVENT ("RECURRENCE-ID:20261124T090000Z\r\nDTSTART:20261124T100000Z\r\n")
                                              VCAL_END,
                                              "stored@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_event_get_uid (event), ==, "stored@example.com");
  assert_roundtrip (event);

  /* A UID of its own is kept; the caller compares. */
  own = agl_event_new_from_string_with_uid (VEVENT ("UID:other@example.com\r\nDTSTART:20261123T090000Z\r\n"),
                                            "stored@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_event_get_uid (own), ==, "other@example.com");
}

static void
test_summary_missing (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:nosummary@example.com\r\n"
                                                           "DTSTART:20261123T090000Z\r\n") VCAL_END);

  g_assert_cmpstr (agl_event_get_summary (event), ==, "");
}

static void
test_item_fields (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:item@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Standup\r\n"
                                                           "DTSTART:20261123T090000Z\r\n"
                                                           "DTEND:20261123T091500Z\r\n"
                                                           "RRULE:FREQ=DAILY\r\n") VCAL_END);
  g_autoptr(AglItem) item = agl_event_to_item (event, "work");
  g_autoptr(AglItem) local = agl_event_to_item (event, NULL);
  g_autofree char *text = agl_event_to_string (event);

  g_assert_cmpint (item->id, ==, 0);
  g_assert_cmpstr (item->account, ==, "work");
  g_assert_cmpstr (item->uid, ==, "item@example.com");
  g_assert_cmpstr (item->summary, ==, "Standup");
  g_assert_cmpint (item->start, ==, 1795424400);
  g_assert_cmpint (item->end, ==, 1795424400 + 900);
  g_assert_cmpint (item->range_end, ==, AGL_ITEM_UNBOUNDED);
  g_assert_false (item->all_day);
  g_assert_true (item->recurring);
  g_assert_cmpstr (item->ical, ==, text);
  g_assert_null (local->account);
}

/* recurrence */

static void
test_recurrence_count (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:daily@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Daily\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260105T090000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260105T100000\r\n"
                                                           "RRULE:FREQ=DAILY;COUNT=5\r\n") VCAL_END);

  g_assert_true (agl_event_is_recurring (event));
  g_assert_cmpint (agl_event_get_start (event), ==, 1767600000);
  g_assert_cmpint (agl_event_get_end (event), ==, 1767603600);
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1767949200);
  assert_roundtrip (event);
}

static void
test_recurrence_weekly_until (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:weekly@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20260302T080000Z\r\n"
                                                           "DTEND:20260302T090000Z\r\n"
                                                           "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20260320T235959Z\r\n") VCAL_END);

  /* Friday 20 March is the last. */
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1773997200);
  assert_roundtrip (event);
}

static void
test_recurrence_weekly_dst (void)
{
  /* Every Friday at 09:00 in Outlook's zone, across the DST change: the
   * last occurrence is in summer time, 07:00Z. */
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN W_EUROPE_VTIMEZONE
                                        VEVENT ("UID:friday@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "DTSTART;TZID=W. Europe Standard Time:20260320T090000\r\n"
                                                "DTEND;TZID=W. Europe Standard Time:20260320T093000\r\n"
                                                "RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=11\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_start (event), ==, 1773993600);
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1780039800);
}

static void
test_recurrence_monthly_byday (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:monthly@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260113T140000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260113T150000\r\n"
                                                           "RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=6\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_start (event), ==, 1768309200);
  /* The second Tuesday of June, 14:00–15:00 CEST. */
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1781010000);
  assert_roundtrip (event);
}

static void
test_recurrence_yearly (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:yearly@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "SUMMARY:Constitution Day\r\n"
                                                           "DTSTART;VALUE=DATE:20200517\r\n"
                                                           "DTEND;VALUE=DATE:20200518\r\n"
                                                           "RRULE:FREQ=YEARLY;COUNT=10\r\n") VCAL_END);

  g_assert_true (agl_event_get_all_day (event));
  g_assert_cmpint (agl_event_get_start (event), ==, 1589666400);
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1873749600);
  assert_roundtrip (event);
}

static void
test_recurrence_infinite (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:forever@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART;VALUE=DATE:19900412\r\n"
                                                           "RRULE:FREQ=YEARLY\r\n") VCAL_END);

  g_assert_true (agl_event_is_recurring (event));
  g_assert_cmpint (agl_event_get_range_end (event), ==, AGL_ITEM_UNBOUNDED);
  assert_roundtrip (event);
}

static void
test_recurrence_too_long (void)
{
  /* More occurrences than the expansion is allowed to walk. */
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:minutely@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20260101T000000Z\r\n"
                                                           "RRULE:FREQ=MINUTELY;COUNT=500000\r\n") VCAL_END);

  g_assert_cmpint (agl_event_get_range_end (event), ==, AGL_ITEM_UNBOUNDED);
}

static void
test_recurrence_exdate (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:exdate@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260105T090000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260105T100000\r\n"
                                                           "RRULE:FREQ=DAILY;COUNT=5\r\n"
                                                           "EXDATE;TZID=Europe/Oslo:20260106T090000,20260107T090000\r\n") VCAL_END);
  g_autofree char *text = agl_event_to_string (event);

  g_assert_cmpint (agl_event_get_range_end (event), ==, 1767949200);
  assert_contains (text, "20260106T090000");
  assert_contains (text, "20260107T090000");
  assert_roundtrip (event);
}

static void
test_recurrence_rdate (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:rdate@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART:20260901T120000Z\r\n"
                                                           "DTEND:20260901T130000Z\r\n"
                                                           "RDATE:20260915T120000Z\r\n") VCAL_END);

  g_assert_true (agl_event_is_recurring (event));
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1789045200 + 5 * 86400);
  assert_roundtrip (event);
}

static void
test_recurrence_exception_moved (void)
{
  g_autofree char *ics = load_fixture ("event-outlook.ics");
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, NULL);
  AglEvent *series = g_ptr_array_index (events, 0);
  g_autofree char *text = agl_event_to_string (series);

  /* Master first, then the exception moved to 14:00. */
  g_assert_cmpint (agl_event_get_start (series), ==, 1773993600);
  g_assert_true (strstr (text, "RECURRENCE-ID") > strstr (text, "RRULE:"));
  assert_contains (text, "DTSTART;TZID=W. Europe Standard Time:20260424T140000\r\n");
  g_assert_cmpint (agl_event_get_range_end (series), ==, 1780039800);
}

static void
test_recurrence_exception_past_end (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN
                                        VEVENT ("UID:past-end@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "SUMMARY:Workshop\r\n"
                                                "DTSTART:20260901T120000Z\r\n"
                                                "DTEND:20260901T130000Z\r\n"
                                                "RRULE:FREQ=DAILY;COUNT=3\r\n")
                                        VEVENT ("UID:past-end@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "SUMMARY:Workshop (moved)\r\n"
                                                "RECURRENCE-ID:20260902T120000Z\r\n"
                                                "DTSTART:20260910T120000Z\r\n"
                                                "DTEND:20260910T130000Z\r\n") VCAL_END);

  /* The series alone ends on 3 September; the moved one on the 10th. */
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1789045200);
  g_assert_cmpstr (agl_event_get_summary (event), ==, "Workshop");
  assert_roundtrip (event);
}

static void
test_recurrence_exception_this_and_future (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN
                                        VEVENT ("UID:future@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "DTSTART:20260901T120000Z\r\n"
                                                "DTEND:20260901T130000Z\r\n"
                                                "RRULE:FREQ=DAILY;COUNT=3\r\n")
                                        VEVENT ("UID:future@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "RECURRENCE-ID;RANGE=THISANDFUTURE:20260902T120000Z\r\n"
                                                "DTSTART:20260902T140000Z\r\n"
                                                "DTEND:20260902T150000Z\r\n") VCAL_END);

  /* From the 2nd on, every occurrence is two hours later. */
  g_assert_cmpint (agl_event_get_range_end (event), ==, 1788440400 + 2 * 3600);
}

/* invalid input */

static void
test_invalid_empty (void)
{
  assert_invalid (NULL, "empty", NULL);
  assert_invalid ("", "empty", NULL);
  assert_invalid (" \r\n\t\n", "empty", NULL);
}

static void
test_invalid_not_icalendar (void)
{
  assert_invalid ("Hello, this is a letter, not a calendar.\n", "not iCalendar", NULL);
  assert_invalid ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kari Berg\r\nEND:VCARD\r\n", "not iCalendar", NULL);
  /* Cut off before its END lines. */
  assert_invalid (VCAL_BEGIN "BEGIN:VEVENT\r\nUID:cut@example.com\r\n", "not iCalendar", NULL);
}

static void
test_invalid_no_vevent (void)
{
  assert_invalid (VCAL_BEGIN "BEGIN:VTODO\r\nUID:todo@example.com\r\nSUMMARY:Chore\r\nEND:VTODO\r\n" VCAL_END,
                  "no appointment", NULL);
  assert_invalid (VCAL_BEGIN VCAL_END, "no appointment", NULL);
}

static void
test_invalid_several_uids (void)
{
  assert_invalid (VCAL_BEGIN
                  VEVENT ("UID:a@example.com\r\nSUMMARY:First\r\nDTSTART:20261123T090000Z\r\n")
                  VEVENT ("UID:b@example.com\r\nSUMMARY:Second\r\nDTSTART:20261124T090000Z\r\n")
                  VCAL_END,
                  "use import for several appointments", "a@example.com", "b@example.com", NULL);
}

static void
test_invalid_no_dtstart (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:nostart@example.com\r\nSUMMARY:Lunch\r\n") VCAL_END,
                  "“Lunch” (UID nostart@example.com)", "DTSTART", NULL);
}

static void
test_invalid_dtend_before_dtstart (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:backwards@example.com\r\n"
                                     "SUMMARY:Backwards\r\n"
                                     "DTSTART:20261123T100000Z\r\n"
                                     "DTEND:20261123T090000Z\r\n") VCAL_END,
                  "“Backwards”", "before it starts", "DTEND 20261123T090000Z", NULL);
}

static void
test_invalid_dtend_and_duration (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:both@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "DTEND:20261123T100000Z\r\n"
                                     "DURATION:PT1H\r\n") VCAL_END,
                  "UID both@example.com", "DTEND", "DURATION", NULL);
}

static void
test_invalid_negative_duration (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:negative@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "DURATION:-PT1H\r\n") VCAL_END,
                  "negative@example.com", "negative duration", NULL);
}

static void
test_invalid_date_mix (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:mix@example.com\r\n"
                                     "DTSTART;VALUE=DATE:20261123\r\n"
                                     "DTEND:20261124T090000Z\r\n") VCAL_END,
                  "mix@example.com", "must both be dates or both date-times", NULL);
  assert_invalid (VCAL_BEGIN VEVENT ("UID:mix-2@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "DTEND;VALUE=DATE:20261124\r\n") VCAL_END,
                  "mix-2@example.com", "ends on a date", NULL);
}

static void
test_invalid_unknown_tzid (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:zone@example.com\r\n"
                                     "SUMMARY:Somewhere\r\n"
                                     "DTSTART;TZID=Middle Earth/Shire:20261123T090000\r\n") VCAL_END,
                  "“Somewhere”", "“Middle Earth/Shire”", "VTIMEZONE", NULL);
  /* Outlook's zone name without Outlook's VTIMEZONE. */
  assert_invalid (VEVENT ("UID:zone-2@example.com\r\n"
                          "DTSTART;TZID=W. Europe Standard Time:20261123T090000\r\n"),
                  "W. Europe Standard Time", NULL);
  /* EXDATE and RECURRENCE-ID zones must resolve too. */
  assert_invalid (VCAL_BEGIN VEVENT ("UID:zone-3@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "RRULE:FREQ=DAILY;COUNT=3\r\n"
                                     "EXDATE;TZID=Nowhere:20261124T090000\r\n") VCAL_END,
                  "“Nowhere”", NULL);
}

static void
test_invalid_rrule (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:rule@example.com\r\n"
                                     "SUMMARY:Odd rule\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "RRULE:FREQ=FORTNIGHTLY;COUNT=3\r\n") VCAL_END,
                  "“Odd rule”", "RRULE", "FORTNIGHTLY", NULL);
  /* Readable, but libical cannot expand it. */
  assert_invalid (VCAL_BEGIN VEVENT ("UID:rule-2@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3\r\n") VCAL_END,
                  "rule-2@example.com", "RRULE:", NULL);
  /* More often than daily on days that never come: libical would spin for
   * minutes inside one step, so the rule is refused before any expansion. */
  assert_invalid (VCAL_BEGIN VEVENT ("UID:rule-3@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "RRULE:FREQ=MINUTELY;COUNT=2;BYMONTH=2;BYMONTHDAY=30\r\n") VCAL_END,
                  "rule-3@example.com", "RRULE:", NULL);
}

static void
test_invalid_unreadable_line (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:garbage@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "DTEND:next tuesday\r\n") VCAL_END,
                  "garbage@example.com", "cannot be read", "DTEND", "next tuesday", NULL);
  assert_invalid (VCAL_BEGIN VEVENT ("UID:garbage-2@example.com\r\n"
                                     "DTSTART:20261123T090000Z\r\n"
                                     "this line has no colon\r\n") VCAL_END,
                  "garbage-2@example.com", "this line has no colon", NULL);
}

static void
test_invalid_exception_without_master (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:orphan@example.com\r\n"
                                     "SUMMARY:Orphan\r\n"
                                     "RECURRENCE-ID:20261124T090000Z\r\n"
                                     "DTSTART:20261124T100000Z\r\n") VCAL_END,
                  "“Orphan”", "RECURRENCE-ID", NULL);
}

static void
test_invalid_two_masters (void)
{
  assert_invalid (VCAL_BEGIN
                  VEVENT ("UID:twice@example.com\r\nDTSTART:20261123T090000Z\r\n")
                  VEVENT ("UID:twice@example.com\r\nDTSTART:20261124T090000Z\r\n")
                  VCAL_END,
                  "twice@example.com", "no RECURRENCE-ID", NULL);
}

static void
test_invalid_duplicate_exception (void)
{
  assert_invalid (VCAL_BEGIN
                  VEVENT ("UID:dup@example.com\r\nDTSTART:20261123T090000Z\r\nRRULE:FREQ=DAILY\r\n")
                  VEVENT ("UID:dup@example.com\r\nRECURRENCE-ID:20261124T090000Z\r\nDTSTART:20261124T100000Z\r\n")
                  VEVENT ("UID:dup@example.com\r\nRECURRENCE-ID:20261124T090000Z\r\nDTSTART:20261124T110000Z\r\n")
                  VCAL_END,
                  "dup@example.com", "RECURRENCE-ID", NULL);
}

static void
test_invalid_too_large (void)
{
  g_autoptr(GString) text = g_string_new (VCAL_BEGIN "BEGIN:VEVENT\r\nUID:big@example.com\r\nDTSTART:20261123T090000Z\r\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEvent) event = NULL;

  while (text->len <= 1024 * 1024)
    g_string_append (text, "COMMENT:a long comment to make the appointment larger than a mebibyte\r\n");
  g_string_append (text, "END:VEVENT\r\n" VCAL_END);

  event = agl_event_new_from_string (text->str, &error);
  g_assert_null (event);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  assert_contains (error->message, "too large");
}

static void
test_invalid_utf8 (void)
{
  assert_invalid (VCAL_BEGIN VEVENT ("UID:latin1@example.com\r\n"
                                     "SUMMARY:M\xf8te\r\n"
                                     "DTSTART:20261123T090000Z\r\n") VCAL_END,
                  "UTF-8", NULL);
}

static void
test_invalid_vtimezone (void)
{
  assert_invalid (VCAL_BEGIN
                  "BEGIN:VTIMEZONE\r\nTZID:Empty Zone\r\nEND:VTIMEZONE\r\n"
                  VEVENT ("UID:emptyzone@example.com\r\nDTSTART;TZID=Empty Zone:20261123T090000\r\n")
                  VCAL_END,
                  "“Empty Zone”", "emptyzone@example.com", "STANDARD", NULL);
}

/* import */

static void
test_import_groups (void)
{
  g_autofree char *ics = load_fixture ("event-import-groups.ics");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, &error);
  const char *uids[] = {
    "series-1@example.com", "single-2@example.com", "floating-3@example.com", "utc-4@example.com"
  };

  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, G_N_ELEMENTS (uids));
  for (guint i = 0; i < events->len; i++)
    {
      g_autofree char *text = agl_event_to_string (g_ptr_array_index (events, i));

      g_assert_cmpstr (agl_event_get_uid (g_ptr_array_index (events, i)), ==, uids[i]);
      g_assert_null (strstr (text, "VTODO"));
      g_assert_null (strstr (text, "Mozilla"));
      assert_roundtrip (g_ptr_array_index (events, i));
    }

  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 2)), ==, 1781510400);
  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 3)), ==, 1795424400);
}

static void
test_import_exceptions_first (void)
{
  g_autofree char *ics = load_fixture ("event-import-groups.ics");
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, NULL);
  AglEvent *series = g_ptr_array_index (events, 0);
  g_autofree char *text = agl_event_to_string (series);

  /* The exception came first in the file; the master leads the event. */
  g_assert_cmpstr (agl_event_get_summary (series), ==, "Stand-up");
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VEVENT"), ==, 2);
  g_assert_true (strstr (text, "RRULE:") < strstr (text, "RECURRENCE-ID"));
  g_assert_cmpint (agl_event_get_start (series), ==, 1771837200);
  g_assert_cmpint (agl_event_get_end (series), ==, 1771838100);
  g_assert_cmpint (agl_event_get_range_end (series), ==, 1773652500);
}

static void
test_import_shared_vtimezone (void)
{
  g_autofree char *ics = load_fixture ("event-import-groups.ics");
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, NULL);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *text = agl_event_to_string (g_ptr_array_index (events, i));

      g_assert_cmpuint (count_occurrences (text, "BEGIN:VTIMEZONE"), ==, 1);
      assert_contains (text, "TZID:Europe/Berlin\r\n");
      assert_contains (text, "X-LIC-LOCATION:Europe/Berlin\r\n");
    }
  for (guint i = 2; i < 4; i++)
    {
      g_autofree char *text = agl_event_to_string (g_ptr_array_index (events, i));

      g_assert_null (strstr (text, "VTIMEZONE"));
    }
  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (events, 1)), ==, 1772712000);
  g_assert_cmpint (agl_event_get_end (g_ptr_array_index (events, 1)), ==, 1772715600);
}

static void
test_import_bad_event (void)
{
  g_autofree char *ics = load_fixture ("event-import-bad.ics");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, &error);

  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_test_message ("%s", error->message);
  assert_contains (error->message, "Event 3 ");
  assert_contains (error->message, "“Budget review” (UID bad-3@example.com)");
  assert_contains (error->message, "before it starts");
}

static void
test_import_invalid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;

  events = agl_event_list_from_ics (VCAL_BEGIN "BEGIN:VTODO\r\nUID:t@example.com\r\nEND:VTODO\r\n" VCAL_END, &error);
  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  assert_contains (error->message, "holds no appointments");
  g_clear_error (&error);

  events = agl_event_list_from_ics ("", &error);
  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_clear_error (&error);

  events = agl_event_list_from_ics ("not a calendar", &error);
  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_clear_error (&error);

  /* The position counts VEVENTs, wherever their UID's group starts. */
  events = agl_event_list_from_ics (VCAL_BEGIN
                                    VEVENT ("UID:a@example.com\r\nDTSTART:20261123T090000Z\r\n")
                                    VEVENT ("UID:b@example.com\r\nSUMMARY:No start\r\n")
                                    VCAL_END, &error);
  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  assert_contains (error->message, "Event 2 ");
  assert_contains (error->message, "“No start”");
  g_clear_error (&error);
}

static void
test_import_too_large (void)
{
  gsize size = 64 * 1024 * 1024 + 1;
  g_autofree char *text = g_malloc (size + 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;

  memset (text, 'A', size);
  text[size] = '\0';
  events = agl_event_list_from_ics (text, &error);
  g_assert_null (events);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  assert_contains (error->message, "too large");
}

static void
test_import_ignores_other_components (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (VCAL_BEGIN
                                                         "BEGIN:VTODO\r\nUID:t@example.com\r\nDUE:garbage\r\nEND:VTODO\r\n"
                                                         "BEGIN:VJOURNAL\r\nUID:j@example.com\r\nEND:VJOURNAL\r\n"
                                                         "BEGIN:VFREEBUSY\r\nUID:f@example.com\r\nEND:VFREEBUSY\r\n"
                                                         VEVENT ("UID:e@example.com\r\nDTSTART:20261123T090000Z\r\n")
                                                         VCAL_END, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpstr (agl_event_get_uid (g_ptr_array_index (events, 0)), ==, "e@example.com");
}

static void
test_import_no_uid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (VCAL_BEGIN
                                                         VEVENT ("SUMMARY:One\r\nDTSTART:20261123T090000Z\r\n")
                                                         VEVENT ("SUMMARY:Two\r\nDTSTART:20261124T090000Z\r\n")
                                                         VCAL_END, &error);

  /* Each VEVENT without UID is an appointment of its own. */
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 2);
  g_assert_cmpstr (agl_event_get_uid (g_ptr_array_index (events, 0)), !=,
                   agl_event_get_uid (g_ptr_array_index (events, 1)));
}

/* export */

static GPtrArray *
stored_texts (GPtrArray *events)
{
  GPtrArray *icals = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (icals, agl_event_to_string (g_ptr_array_index (events, i)));
  return icals;
}

static void
test_export_empty (void)
{
  g_autoptr(GPtrArray) icals = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = agl_event_export (icals, &error);
  g_autoptr(GPtrArray) events = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//Agendaline 0.1//EN\r\nEND:VCALENDAR\r\n");

  events = agl_event_list_from_ics (text, &error);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  g_assert_null (events);
}

static void
test_export_dedup_vtimezones (void)
{
  g_autofree char *ics = load_fixture ("event-import-groups.ics");
  g_autofree char *outlook = load_fixture ("event-outlook.ics");
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, NULL);
  g_autoptr(GPtrArray) outlook_events = agl_event_list_from_ics (outlook, NULL);
  g_autoptr(GPtrArray) icals = stored_texts (events);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_ptr_array_extend_and_steal (icals, stored_texts (outlook_events));
  text = agl_event_export (icals, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);

  g_assert_cmpuint (count_occurrences (text, "TZID:Europe/Berlin\r\n"), ==, 1);
  g_assert_cmpuint (count_occurrences (text, "TZID:W. Europe Standard Time\r\n"), ==, 1);
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VTIMEZONE"), ==, 2);
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VEVENT"), ==, 5 + 4);
  g_assert_null (strstr (text, "METHOD"));
  g_assert_true (strstr (text, "BEGIN:VTIMEZONE") < strstr (text, "BEGIN:VEVENT"));
}

static void
test_export_reimport (void)
{
  g_autofree char *ics = load_fixture ("event-import-groups.ics");
  g_autofree char *outlook = load_fixture ("event-outlook.ics");
  g_autoptr(GPtrArray) events = agl_event_list_from_ics (ics, NULL);
  GPtrArray *outlook_events = agl_event_list_from_ics (outlook, NULL);
  g_autoptr(GPtrArray) icals = stored_texts (events);
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_ptr_array_extend_and_steal (icals, stored_texts (outlook_events));
  g_ptr_array_extend_and_steal (events, outlook_events);

  text = agl_event_export (icals, &error);
  g_assert_no_error (error);
  again = agl_event_list_from_ics (text, &error);
  g_assert_no_error (error);

  /* Same appointments, same order, each with the same stored text. */
  g_assert_cmpuint (again->len, ==, events->len);
  for (guint i = 0; i < events->len; i++)
    {
      AglEvent *a = g_ptr_array_index (events, i);
      AglEvent *b = g_ptr_array_index (again, i);
      g_autofree char *text_a = agl_event_to_string (a);
      g_autofree char *text_b = agl_event_to_string (b);

      g_assert_cmpstr (agl_event_get_uid (a), ==, agl_event_get_uid (b));
      g_assert_cmpint (agl_event_get_start (a), ==, agl_event_get_start (b));
      g_assert_cmpint (agl_event_get_end (a), ==, agl_event_get_end (b));
      g_assert_cmpint (agl_event_get_range_end (a), ==, agl_event_get_range_end (b));
      g_assert_cmpstr (text_a, ==, text_b);
    }
}

static void
test_export_builtin_vtimezone (void)
{
  g_autoptr(AglEvent) event = parse_ok (VCAL_BEGIN VEVENT ("UID:oslo@example.com\r\n"
                                                           "DTSTAMP:20260101T000000Z\r\n"
                                                           "DTSTART;TZID=Europe/Oslo:20260330T090000\r\n"
                                                           "DTEND;TZID=Europe/Oslo:20260330T100000\r\n") VCAL_END);
  g_autoptr(GPtrArray) icals = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) again = NULL;

  g_autoptr(AglEvent) other = parse_ok (VEVENT ("UID:oslo-2@example.com\r\n"
                                                "DTSTAMP:20260101T000000Z\r\n"
                                                "DTSTART;TZID=Europe/Oslo:20260331T090000\r\n"));

  g_ptr_array_add (icals, agl_event_to_string (event));
  g_ptr_array_add (icals, agl_event_to_string (other));
  text = agl_event_export (icals, &error);
  g_assert_no_error (error);

  /* RFC 5545 wants a VTIMEZONE for every TZID, for readers without a
   * zone database; it carries the name the VEVENTs use. */
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VTIMEZONE\r\nTZID:Europe/Oslo\r\n"), ==, 1);
  g_assert_cmpuint (count_occurrences (text, "BEGIN:VEVENT"), ==, 2);

  again = agl_event_list_from_ics (text, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, 2);
  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (again, 0)), ==, 1774854000);
  g_assert_cmpint (agl_event_get_start (g_ptr_array_index (again, 1)), ==, 1774854000 + 86400);
}

static void
test_export_invalid (void)
{
  g_autoptr(GPtrArray) icals = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_ptr_array_add (icals, (gpointer) (VCAL_BEGIN VEVENT ("UID:x@example.com\r\nDTSTART:20261123T090000Z\r\n") VCAL_END));
  g_ptr_array_add (icals, (gpointer) "garbage");
  text = agl_event_export (icals, &error);
  g_assert_null (text);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR);
  assert_contains (error->message, "Appointment 2 ");
}

int
main (int    argc,
      char **argv)
{
  set_local_zone ("Europe/Oslo");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/time/parse/utc", test_time_parse_utc);
  g_test_add_func ("/time/parse/offset", test_time_parse_offset);
  g_test_add_func ("/time/parse/fraction", test_time_parse_fraction);
  g_test_add_func ("/time/parse/date-local-midnight", test_time_parse_date);
  g_test_add_func ("/time/parse/no-zone-is-local", test_time_parse_local);
  g_test_add_func ("/time/parse/invalid", test_time_parse_invalid);
  g_test_add_func ("/time/format/utc", test_time_format_utc);
  g_test_add_func ("/time/format/date-local", test_time_format_date);
  g_test_add_func ("/time/roundtrip/before-1970", test_time_roundtrip);

  g_test_add_func ("/event/roundtrip/utc", test_roundtrip_utc);
  g_test_add_func ("/event/roundtrip/floating", test_roundtrip_floating);
  g_test_add_func ("/event/roundtrip/timezone-builtin", test_roundtrip_timezone_builtin);
  g_test_add_func ("/event/roundtrip/timezone-vtimezone", test_roundtrip_timezone_vtimezone);
  g_test_add_func ("/event/roundtrip/timezone-unused-dropped", test_roundtrip_timezone_unused_dropped);
  g_test_add_func ("/event/roundtrip/all-day", test_roundtrip_all_day);
  g_test_add_func ("/event/roundtrip/all-day-multi", test_roundtrip_all_day_multi);
  g_test_add_func ("/event/roundtrip/bare-vevent", test_roundtrip_bare_vevent);
  g_test_add_func ("/event/roundtrip/x-and-unknown-properties", test_roundtrip_properties);
  g_test_add_func ("/event/roundtrip/outlook", test_roundtrip_outlook);
  g_test_add_func ("/event/timezone/vtimezone-wins-over-builtin", test_timezone_vtimezone_wins);
  g_test_add_func ("/event/timezone/same-tzid-other-rules", test_timezone_same_tzid_other_rules);
  g_test_add_func ("/event/threads/parse-concurrently", test_threads);

  g_test_add_func ("/event/end/duration", test_end_duration);
  g_test_add_func ("/event/end/missing", test_end_missing);
  g_test_add_func ("/event/end/equal-start", test_end_equal_start);
  g_test_add_func ("/event/uid/generated", test_uid_generated);
  g_test_add_func ("/event/uid/default-for-update", test_uid_default);
  g_test_add_func ("/event/summary/missing", test_summary_missing);
  g_test_add_func ("/event/item/fields", test_item_fields);

  g_test_add_func ("/event/recurrence/count-range-end", test_recurrence_count);
  g_test_add_func ("/event/recurrence/weekly-until-byday", test_recurrence_weekly_until);
  g_test_add_func ("/event/recurrence/weekly-across-dst", test_recurrence_weekly_dst);
  g_test_add_func ("/event/recurrence/monthly-2tu", test_recurrence_monthly_byday);
  g_test_add_func ("/event/recurrence/yearly", test_recurrence_yearly);
  g_test_add_func ("/event/recurrence/infinite", test_recurrence_infinite);
  g_test_add_func ("/event/recurrence/too-many-is-unbounded", test_recurrence_too_long);
  g_test_add_func ("/event/recurrence/exdate", test_recurrence_exdate);
  g_test_add_func ("/event/recurrence/rdate", test_recurrence_rdate);
  g_test_add_func ("/event/recurrence/exception-moved", test_recurrence_exception_moved);
  g_test_add_func ("/event/recurrence/exception-past-end", test_recurrence_exception_past_end);
  g_test_add_func ("/event/recurrence/exception-this-and-future", test_recurrence_exception_this_and_future);

  g_test_add_func ("/event/invalid/empty", test_invalid_empty);
  g_test_add_func ("/event/invalid/not-icalendar", test_invalid_not_icalendar);
  g_test_add_func ("/event/invalid/no-vevent", test_invalid_no_vevent);
  g_test_add_func ("/event/invalid/several-uids", test_invalid_several_uids);
  g_test_add_func ("/event/invalid/no-dtstart", test_invalid_no_dtstart);
  g_test_add_func ("/event/invalid/dtend-before-dtstart", test_invalid_dtend_before_dtstart);
  g_test_add_func ("/event/invalid/dtend-and-duration", test_invalid_dtend_and_duration);
  g_test_add_func ("/event/invalid/negative-duration", test_invalid_negative_duration);
  g_test_add_func ("/event/invalid/date-and-date-time", test_invalid_date_mix);
  g_test_add_func ("/event/invalid/unknown-tzid", test_invalid_unknown_tzid);
  g_test_add_func ("/event/invalid/rrule", test_invalid_rrule);
  g_test_add_func ("/event/invalid/unreadable-line", test_invalid_unreadable_line);
  g_test_add_func ("/event/invalid/exception-without-master", test_invalid_exception_without_master);
  g_test_add_func ("/event/invalid/two-masters", test_invalid_two_masters);
  g_test_add_func ("/event/invalid/duplicate-exception", test_invalid_duplicate_exception);
  g_test_add_func ("/event/invalid/too-large", test_invalid_too_large);
  g_test_add_func ("/event/invalid/utf8", test_invalid_utf8);
  g_test_add_func ("/event/invalid/vtimezone-without-rules", test_invalid_vtimezone);

  g_test_add_func ("/event/import/groups", test_import_groups);
  g_test_add_func ("/event/import/exceptions-before-master", test_import_exceptions_first);
  g_test_add_func ("/event/import/shared-vtimezone", test_import_shared_vtimezone);
  g_test_add_func ("/event/import/bad-event-in-the-middle", test_import_bad_event);
  g_test_add_func ("/event/import/invalid", test_import_invalid);
  g_test_add_func ("/event/import/ignores-vtodo-vjournal-vfreebusy", test_import_ignores_other_components);
  g_test_add_func ("/event/import/no-uid", test_import_no_uid);
  g_test_add_func ("/event/import/too-large", test_import_too_large);

  g_test_add_func ("/event/export/empty", test_export_empty);
  g_test_add_func ("/event/export/dedup-vtimezones", test_export_dedup_vtimezones);
  g_test_add_func ("/event/export/reimport", test_export_reimport);
  g_test_add_func ("/event/export/builtin-vtimezone", test_export_builtin_vtimezone);
  g_test_add_func ("/event/export/invalid", test_export_invalid);

  return g_test_run ();
}
