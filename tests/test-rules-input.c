/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "agl-event.h"
#include "agl-item.h"
#include "agl-rules-input.h"
#include "agl-rules.h"

#define VCAL_BEGIN "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Agendaline tests//EN\r\n"
#define VCAL_END "END:VCALENDAR\r\n"
#define VEVENT(body) "BEGIN:VEVENT\r\n" body "END:VEVENT\r\n"

/* Monday 23 November 2026, 00:00 UTC; AT (d, h, m) is h:m UTC d days
 * later.  Oslo is UTC+1 then, New York UTC-5. */
#define DAY ((gint64) 1795392000)
/* The account's address: the user among a meeting's participants. */
#define USER_ADDRESS "Me@Example.com"
#define AT(d, h, m) (DAY + (gint64) (d) * 86400 + (gint64) (h) * 3600 + (gint64) (m) * 60)

/* An appointment of one hour on 23 November, 10:00 Oslo (09:00 UTC). */
#define ONE_HOUR(uid, extra) \
  VCAL_BEGIN \
  VEVENT ("UID:" uid "\r\n" \
          "SUMMARY:" uid "\r\n" \
          "DTSTART;TZID=Europe/Oslo:20261123T100000\r\n" \
          "DTEND;TZID=Europe/Oslo:20261123T110000\r\n" \
          extra) \
  VCAL_END

static void
add_item (GPtrArray  *items,
          const char *ical)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEvent) event = agl_event_new_from_string (ical, &error);

  g_assert_no_error (error);
  g_assert_nonnull (event);
  g_ptr_array_add (items, agl_event_to_item (event, "work"));
}

static GPtrArray *
new_items (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
}

static GPtrArray *
expand (GPtrArray  *items,
        gint64      from,
        gint64      to,
        const char *zone_name)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_identifier (zone_name);
  g_autoptr(GError) error = NULL;
  GPtrArray *occurrences;

  g_assert_nonnull (zone);
  occurrences = agl_rules_input_from_items (items, USER_ADDRESS, from, to, zone, &error);
  g_assert_no_error (error);
  g_assert_nonnull (occurrences);
  return occurrences;
}

static const AglRulesOccurrence *
get (GPtrArray *occurrences,
     guint      index)
{
  g_assert_cmpuint (index, <, occurrences->len);
  return g_ptr_array_index (occurrences, index);
}

/* The only occurrence of @uid. */
static const AglRulesOccurrence *
find (GPtrArray  *occurrences,
      const char *uid)
{
  const AglRulesOccurrence *found = NULL;

  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglRulesOccurrence *occurrence = g_ptr_array_index (occurrences, i);

      if (strcmp (occurrence->uid, uid) == 0)
        {
          g_assert_null (found);
          found = occurrence;
        }
    }
  g_assert_nonnull (found);
  return found;
}

static void
assert_occurrence (const AglRulesOccurrence *occurrence,
                   const char               *uid,
                   const char               *subject,
                   gint64                    start,
                   gint64                    end)
{
  g_assert_cmpstr (occurrence->uid, ==, uid);
  g_assert_cmpstr (occurrence->subject, ==, subject);
  g_assert_cmpint (occurrence->start, ==, start);
  g_assert_cmpint (occurrence->end, ==, end);
}

/* Mondays and Wednesdays at 09:00 Oslo; Wednesday 25 November taken out,
 * Monday 30 November moved to Tuesday 14:00 and renamed. */
static void
test_series_exception_exdate (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:standup@agendaline.test\r\n"
                    "SUMMARY:Standup\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T090000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T100000\r\n"
                    "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8\r\n"
                    "EXDATE;TZID=Europe/Oslo:20261125T090000\r\n")
            VEVENT ("UID:standup@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261130T090000\r\n"
                    "SUMMARY:Standup moved\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261201T140000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261201T150000\r\n")
            VCAL_END);

  /* Two weeks: the Monday 7 December instance is after the end. */
  occurrences = expand (items, AT (0, 0, 0), AT (14, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, 3);
  assert_occurrence (get (occurrences, 0), "standup@agendaline.test", "Standup",
                     AT (0, 8, 0), AT (0, 9, 0));
  assert_occurrence (get (occurrences, 1), "standup@agendaline.test", "Standup moved",
                     AT (8, 13, 0), AT (8, 14, 0));
  assert_occurrence (get (occurrences, 2), "standup@agendaline.test", "Standup",
                     AT (9, 8, 0), AT (9, 9, 0));
  for (guint i = 0; i < occurrences->len; i++)
    {
      g_assert_cmpint (get (occurrences, i)->free_busy, ==, AGL_FREE_BUSY_BUSY);
      g_assert_false (get (occurrences, i)->is_private);
      g_assert_false (get (occurrences, i)->is_meeting);
    }
}

#define ALL_DAY_ITEMS(items) \
  G_STMT_START { \
    add_item (items, \
              VCAL_BEGIN \
              VEVENT ("UID:day-off@agendaline.test\r\n" \
                      "SUMMARY:Day off\r\n" \
                      "DTSTART;VALUE=DATE:20261124\r\n" \
                      "DTEND;VALUE=DATE:20261125\r\n" \
                      "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n") \
              VCAL_END); \
    add_item (items, \
              VCAL_BEGIN \
              VEVENT ("UID:sunday@agendaline.test\r\n" \
                      "SUMMARY:Sunday\r\n" \
                      "DTSTART;VALUE=DATE:20261122\r\n" \
                      "DTEND;VALUE=DATE:20261123\r\n") \
              VCAL_END); \
  } G_STMT_END

/* The process runs in Tokyo (see main()), so the dates are read there
 * first: the user's midnights must be made of them. */
static void
test_all_day_oslo (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  ALL_DAY_ITEMS (items);
  occurrences = expand (items, AT (0, 0, 0), AT (7, 0, 0), "Europe/Oslo");
  /* Sunday ends at 23:00 UTC on the 22nd, before the range. */
  g_assert_cmpuint (occurrences->len, ==, 1);
  assert_occurrence (get (occurrences, 0), "day-off@agendaline.test", "Day off",
                     AT (0, 23, 0), AT (1, 23, 0));
  g_assert_cmpint (get (occurrences, 0)->free_busy, ==, AGL_FREE_BUSY_OOF);
}

static void
test_all_day_new_york (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  ALL_DAY_ITEMS (items);
  occurrences = expand (items, AT (0, 0, 0), AT (7, 0, 0), "America/New_York");
  /* Sunday in New York lasts until 05:00 UTC on Monday, in the range,
   * although Sunday in Tokyo ended before it. */
  g_assert_cmpuint (occurrences->len, ==, 2);
  assert_occurrence (get (occurrences, 0), "sunday@agendaline.test", "Sunday",
                     AT (-1, 5, 0), AT (0, 5, 0));
  assert_occurrence (get (occurrences, 1), "day-off@agendaline.test", "Day off",
                     AT (1, 5, 0), AT (2, 5, 0));
}

static void
test_private_exception (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:lunch@agendaline.test\r\n"
                    "SUMMARY:Lunch\r\n"
                    "CLASS:PUBLIC\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T120000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T130000\r\n"
                    "RRULE:FREQ=DAILY;COUNT=3\r\n")
            VEVENT ("UID:lunch@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261124T120000\r\n"
                    "SUMMARY:Doctor\r\n"
                    "CLASS:PRIVATE\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261124T120000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261124T130000\r\n")
            VCAL_END);
  /* A confidential series: an exception without CLASS is the master's. */
  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:therapy@agendaline.test\r\n"
                    "SUMMARY:Therapy\r\n"
                    "CLASS:CONFIDENTIAL\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T160000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T170000\r\n"
                    "RRULE:FREQ=DAILY;COUNT=2\r\n")
            VEVENT ("UID:therapy@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261124T160000\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261124T180000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261124T190000\r\n")
            VCAL_END);

  occurrences = expand (items, AT (0, 0, 0), AT (7, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, 5);
  assert_occurrence (get (occurrences, 0), "lunch@agendaline.test", "Lunch",
                     AT (0, 11, 0), AT (0, 12, 0));
  g_assert_false (get (occurrences, 0)->is_private);
  assert_occurrence (get (occurrences, 1), "therapy@agendaline.test", "Therapy",
                     AT (0, 15, 0), AT (0, 16, 0));
  g_assert_true (get (occurrences, 1)->is_private);
  assert_occurrence (get (occurrences, 2), "lunch@agendaline.test", "Doctor",
                     AT (1, 11, 0), AT (1, 12, 0));
  g_assert_true (get (occurrences, 2)->is_private);
  assert_occurrence (get (occurrences, 3), "therapy@agendaline.test", "Therapy",
                     AT (1, 17, 0), AT (1, 18, 0));
  g_assert_true (get (occurrences, 3)->is_private);
  assert_occurrence (get (occurrences, 4), "lunch@agendaline.test", "Lunch",
                     AT (2, 11, 0), AT (2, 12, 0));
  g_assert_false (get (occurrences, 4)->is_private);
}

static void
test_meeting_responses (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;
  const struct {
    const char  *uid;
    gboolean     is_meeting;
    AglResponse  response;
  } expected[] = {
    { "accepted", TRUE, AGL_RESPONSE_ACCEPTED },
    { "declined", TRUE, AGL_RESPONSE_DECLINED },
    { "tentative", TRUE, AGL_RESPONSE_TENTATIVE },
    { "no-response", TRUE, AGL_RESPONSE_NOT_RESPONDED },
    { "organised", TRUE, AGL_RESPONSE_ORGANIZER },
    { "local-invitation", TRUE, AGL_RESPONSE_NOT_RESPONDED },
    { "local-accepted", TRUE, AGL_RESPONSE_ACCEPTED },
    { "local-declined", TRUE, AGL_RESPONSE_DECLINED },
    { "local-organised", TRUE, AGL_RESPONSE_ORGANIZER },
    { "local-not-invited", TRUE, AGL_RESPONSE_UNKNOWN },
    { "invitee-list-hidden", TRUE, AGL_RESPONSE_ACCEPTED },
    { "organizer-alone", FALSE, AGL_RESPONSE_ORGANIZER },
    { "plain", FALSE, AGL_RESPONSE_ORGANIZER },
  };

#define INVITATION(response) \
  "ORGANIZER;CN=Boss:mailto:boss@example.com\r\n" \
  "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:me@example.com\r\n" \
  "X-AGL-EWS-MYRESPONSETYPE:" response "\r\n"

  add_item (items, ONE_HOUR ("accepted", INVITATION ("Accept")));
  add_item (items, ONE_HOUR ("declined", INVITATION ("Decline")));
  add_item (items, ONE_HOUR ("tentative", INVITATION ("Tentative")));
  add_item (items, ONE_HOUR ("no-response", INVITATION ("NoResponseReceived")));
  add_item (items, ONE_HOUR ("organised",
                             "ORGANIZER:mailto:me@example.com\r\n"
                             "ATTENDEE:mailto:colleague@example.com\r\n"
                             "X-AGL-EWS-MYRESPONSETYPE:Organizer\r\n"));
  add_item (items, ONE_HOUR ("local-invitation",
                             "ORGANIZER:mailto:boss@example.com\r\n"
                             "ATTENDEE:mailto:me@example.com\r\n"));
  add_item (items, ONE_HOUR ("local-accepted",
                             "ORGANIZER:mailto:boss@example.com\r\n"
                             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com\r\n"));
  add_item (items, ONE_HOUR ("local-declined",
                             "ORGANIZER:mailto:boss@example.com\r\n"
                             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:colleague@example.com\r\n"
                             "ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com\r\n"));
  add_item (items, ONE_HOUR ("local-organised",
                             "ORGANIZER:mailto:me@example.com\r\n"
                             "ATTENDEE:mailto:colleague@example.com\r\n"));
  add_item (items, ONE_HOUR ("local-not-invited",
                             "ORGANIZER:mailto:boss@example.com\r\n"
                             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:colleague@example.com\r\n"));
  add_item (items, ONE_HOUR ("invitee-list-hidden",
                             "ORGANIZER:mailto:boss@example.com\r\n"
                             "X-AGL-EWS-MYRESPONSETYPE:Accept\r\n"));
  add_item (items, ONE_HOUR ("organizer-alone",
                             "ORGANIZER:mailto:me@example.com\r\n"
                             "ATTENDEE:MAILTO:Me@Example.com\r\n"));
  add_item (items, ONE_HOUR ("plain", ""));
#undef INVITATION

  occurrences = expand (items, AT (0, 0, 0), AT (1, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const AglRulesOccurrence *occurrence = find (occurrences, expected[i].uid);

      g_test_message ("%s", expected[i].uid);
      g_assert_cmpint (occurrence->is_meeting, ==, expected[i].is_meeting);
      g_assert_cmpint (occurrence->response, ==, expected[i].response);
      g_assert_cmpint (occurrence->start, ==, AT (0, 9, 0));
      g_assert_cmpint (occurrence->end, ==, AT (0, 10, 0));
    }
}

/* An exception declined on its own, and one that lists no participants
 * (the master's hold for it). */
static void
test_meeting_exception (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:weekly@agendaline.test\r\n"
                    "SUMMARY:Weekly\r\n"
                    "ORGANIZER:mailto:boss@example.com\r\n"
                    "ATTENDEE:mailto:me@example.com\r\n"
                    "X-AGL-EWS-MYRESPONSETYPE:Accept\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T100000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T110000\r\n"
                    "RRULE:FREQ=DAILY;COUNT=3\r\n")
            VEVENT ("UID:weekly@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261124T100000\r\n"
                    "ORGANIZER:mailto:boss@example.com\r\n"
                    "ATTENDEE:mailto:me@example.com\r\n"
                    "X-AGL-EWS-MYRESPONSETYPE:Decline\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261124T100000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261124T110000\r\n")
            VEVENT ("UID:weekly@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261125T100000\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261125T120000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261125T130000\r\n")
            VCAL_END);

  /* A focus block of the user's own; on Tuesday a colleague joins it. */
  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:focus@agendaline.test\r\n"
                    "SUMMARY:Focus\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T150000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T160000\r\n"
                    "RRULE:FREQ=DAILY;COUNT=2\r\n")
            VEVENT ("UID:focus@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261124T150000\r\n"
                    "ORGANIZER:mailto:me@example.com\r\n"
                    "ATTENDEE:mailto:colleague@example.com\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261124T150000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261124T160000\r\n")
            VCAL_END);

  occurrences = expand (items, AT (0, 0, 0), AT (7, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, 5);
  assert_occurrence (get (occurrences, 1), "focus@agendaline.test", "Focus",
                     AT (0, 14, 0), AT (0, 15, 0));
  g_assert_false (get (occurrences, 1)->is_meeting);
  g_assert_cmpint (get (occurrences, 1)->response, ==, AGL_RESPONSE_ORGANIZER);
  assert_occurrence (get (occurrences, 3), "focus@agendaline.test", "Focus",
                     AT (1, 14, 0), AT (1, 15, 0));
  /* The user organises Tuesday's meeting: their address is the ORGANIZER. */
  g_assert_true (get (occurrences, 3)->is_meeting);
  g_assert_cmpint (get (occurrences, 3)->response, ==, AGL_RESPONSE_ORGANIZER);
  g_ptr_array_remove_index (occurrences, 3);
  g_ptr_array_remove_index (occurrences, 1);

  g_assert_cmpuint (occurrences->len, ==, 3);
  g_assert_true (get (occurrences, 0)->is_meeting);
  g_assert_cmpint (get (occurrences, 0)->response, ==, AGL_RESPONSE_ACCEPTED);
  g_assert_true (get (occurrences, 1)->is_meeting);
  g_assert_cmpint (get (occurrences, 1)->response, ==, AGL_RESPONSE_DECLINED);
  assert_occurrence (get (occurrences, 2), "weekly@agendaline.test", "Weekly",
                     AT (2, 11, 0), AT (2, 12, 0));
  g_assert_true (get (occurrences, 2)->is_meeting);
  g_assert_cmpint (get (occurrences, 2)->response, ==, AGL_RESPONSE_ACCEPTED);
}

static void
test_free_busy (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;
  const struct {
    const char  *uid;
    AglFreeBusy  free_busy;
  } expected[] = {
    { "free", AGL_FREE_BUSY_FREE },
    { "tentative", AGL_FREE_BUSY_TENTATIVE },
    { "oof", AGL_FREE_BUSY_OOF },
    { "elsewhere", AGL_FREE_BUSY_WORKING_ELSEWHERE },
    { "transparent", AGL_FREE_BUSY_FREE },
    { "opaque", AGL_FREE_BUSY_BUSY },
    { "nothing", AGL_FREE_BUSY_BUSY },
    { "status-wins", AGL_FREE_BUSY_TENTATIVE },
    { "nodata-transparent", AGL_FREE_BUSY_FREE },
  };

  add_item (items, ONE_HOUR ("free", "X-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n"));
  add_item (items, ONE_HOUR ("tentative", "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"));
  add_item (items, ONE_HOUR ("oof", "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"));
  add_item (items, ONE_HOUR ("elsewhere", "X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE\r\n"));
  add_item (items, ONE_HOUR ("transparent", "TRANSP:TRANSPARENT\r\n"));
  add_item (items, ONE_HOUR ("opaque", "TRANSP:OPAQUE\r\n"));
  add_item (items, ONE_HOUR ("nothing", ""));
  add_item (items, ONE_HOUR ("status-wins",
                             "TRANSP:TRANSPARENT\r\n"
                             "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"));
  add_item (items, ONE_HOUR ("nodata-transparent",
                             "TRANSP:TRANSPARENT\r\n"
                             "X-MICROSOFT-CDO-BUSYSTATUS:NODATA\r\n"));

  occurrences = expand (items, AT (0, 0, 0), AT (1, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_test_message ("%s", expected[i].uid);
      g_assert_cmpint (find (occurrences, expected[i].uid)->free_busy, ==, expected[i].free_busy);
    }
}

static void
test_cancelled (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;

  add_item (items, ONE_HOUR ("called-off", "STATUS:CANCELLED\r\n"));
  add_item (items, ONE_HOUR ("kept", "STATUS:CONFIRMED\r\n"));
  add_item (items,
            VCAL_BEGIN
            VEVENT ("UID:daily@agendaline.test\r\n"
                    "SUMMARY:Daily\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T130000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T140000\r\n"
                    "RRULE:FREQ=DAILY;COUNT=2\r\n")
            VEVENT ("UID:daily@agendaline.test\r\n"
                    "RECURRENCE-ID;TZID=Europe/Oslo:20261123T130000\r\n"
                    "STATUS:CANCELLED\r\n"
                    "DTSTART;TZID=Europe/Oslo:20261123T130000\r\n"
                    "DTEND;TZID=Europe/Oslo:20261123T140000\r\n")
            VCAL_END);

  occurrences = expand (items, AT (0, 0, 0), AT (7, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, 2);
  assert_occurrence (get (occurrences, 0), "kept", "kept", AT (0, 9, 0), AT (0, 10, 0));
  assert_occurrence (get (occurrences, 1), "daily@agendaline.test", "Daily",
                     AT (1, 12, 0), AT (1, 13, 0));
}

static void
test_unreadable_skipped (void)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;
  AglItem *broken = agl_item_new ();

  add_item (items, ONE_HOUR ("before", ""));
  broken->id = 42;
  broken->uid = g_strdup ("broken@agendaline.test");
  broken->summary = g_strdup ("Broken");
  broken->ical = g_strdup ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n");
  g_ptr_array_add (items, broken);
  add_item (items, ONE_HOUR ("after", ""));

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*42*broken@agendaline.test*");
  occurrences = expand (items, AT (0, 0, 0), AT (1, 0, 0), "Europe/Oslo");
  g_test_assert_expected_messages ();
  g_assert_cmpuint (occurrences->len, ==, 2);
  find (occurrences, "before");
  find (occurrences, "after");
}

static AglStatus *
evaluate_at (const char *ical,
             gint64      now)
{
  g_autoptr(GPtrArray) items = new_items ();
  g_autoptr(GPtrArray) occurrences = NULL;
  g_autoptr(GArray) array = NULL;
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  AglRulesOof oof = { AGL_OOF_DISABLED, 0, 0, NULL };

  add_item (items, ical);
  occurrences = expand (items, AT (0, 0, 0), AT (1, 0, 0), "Europe/Oslo");
  g_assert_cmpuint (occurrences->len, ==, 1);
  array = agl_rules_input_to_array (occurrences);
  g_assert_cmpuint (array->len, ==, 1);
  return agl_rules_evaluate (rules, (const AglRulesOccurrence *) (void *) array->data, array->len,
                             &oof, NULL, now);
}

#define BUSY_MEETING(uid, response) \
  ONE_HOUR (uid, \
            "ORGANIZER;CN=Boss:mailto:boss@example.com\r\n" \
            "ATTENDEE:mailto:me@example.com\r\n" \
            "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n" \
            "TRANSP:OPAQUE\r\n" \
            "X-AGL-EWS-MYRESPONSETYPE:" response "\r\n")

static void
test_evaluate_accepted_diverts (void)
{
  g_autoptr(AglStatus) status = evaluate_at (BUSY_MEETING ("review", "Accept"), AT (0, 9, 30));

  g_assert_cmpint (status->presence, ==, AGL_PRESENCE_BUSY);
  g_assert_cmpint (status->action, ==, AGL_PHONE_ACTION_DIVERT);
  g_assert_cmpstr (status->text, ==, "review");
  g_assert_cmpint (status->until, ==, AT (0, 10, 0));
}

static void
test_evaluate_declined_nothing (void)
{
  g_autoptr(AglStatus) status = evaluate_at (BUSY_MEETING ("review", "Decline"), AT (0, 9, 30));

  g_assert_cmpint (status->presence, ==, AGL_PRESENCE_AVAILABLE);
  g_assert_cmpint (status->action, ==, AGL_PHONE_ACTION_NONE);
}

int
main (int    argc,
      char **argv)
{
  /* Dates are read in the process's zone first; one far from the users'
   * shows whether they are moved to the user's midnights. */
  g_setenv ("TZ", "Asia/Tokyo", TRUE);
  tzset ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rules-input/series/exception-exdate", test_series_exception_exdate);
  g_test_add_func ("/rules-input/all-day/oslo", test_all_day_oslo);
  g_test_add_func ("/rules-input/all-day/new-york", test_all_day_new_york);
  g_test_add_func ("/rules-input/private/exception", test_private_exception);
  g_test_add_func ("/rules-input/meeting/responses", test_meeting_responses);
  g_test_add_func ("/rules-input/meeting/exception", test_meeting_exception);
  g_test_add_func ("/rules-input/free-busy", test_free_busy);
  g_test_add_func ("/rules-input/cancelled", test_cancelled);
  g_test_add_func ("/rules-input/unreadable-skipped", test_unreadable_skipped);
  g_test_add_func ("/rules-input/evaluate/accepted-diverts", test_evaluate_accepted_diverts);
  g_test_add_func ("/rules-input/evaluate/declined-nothing", test_evaluate_declined_nothing);
  return g_test_run ();
}
