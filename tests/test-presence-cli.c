/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The presence rules of the issue, end to end, the way a user checks
 * them: appointments stored with `agendalinectl agenda add` as iCalendar,
 * rules set with `agendalinectl rules set`, the answer read from
 * `agendalinectl status NAME --at ISO --json` and `agendalinectl schedule
 * NAME --days 1 --json`, with the real agendalined on a private bus.
 *
 * tests/test-rules.c checks the engine with occurrences it builds itself;
 * here the same sentences go through what the engine never sees: the CLI,
 * the store, libical's expansion of series and exceptions, and
 * daemon/agl-rules-input.c's reading of X-MICROSOFT-CDO-BUSYSTATUS, TRANSP,
 * CLASS, ORGANIZER/ATTENDEE and X-AGL-EWS-MYRESPONSETYPE.
 *
 * The account's server cannot be reached: presence works from the local
 * agenda alone.  Automatic replies (rule 6) come from the server, so those
 * cases run against the test Exchange server instead.
 *
 * Every child runs with TZ=Europe/Berlin, the user's zone for all-day
 * appointments: their midnight is 23:00 UTC in March, which a UTC reading
 * would get wrong by an hour.
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agl-sync-harness.h"

#define ACCOUNT "work"
/* Nothing listens on the discard port: every connection is refused. */
#define UNREACHABLE_URL "https://127.0.0.1:9/EWS/Exchange.asmx"
#define HOUR 3600
#define MINUTE 60

/* A VEVENT on a day of March 2027 (2027-03-01 is a Monday), times in UTC
 * as "0301T090000"; EXTRA is more content lines, each ending in CRLF. */
#define EVENT(uid, start, end, summary, extra) \
  "BEGIN:VEVENT\r\nUID:" uid "\r\nDTSTAMP:20260101T000000Z\r\n" \
  "DTSTART:2027" start "Z\r\nDTEND:2027" end "Z\r\nSUMMARY:" summary "\r\n" \
  extra "END:VEVENT\r\n"
#define BUSY "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
#define FREE "X-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n"
#define TENTATIVE "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"
#define OOF "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"
#define WORKING_ELSEWHERE "X-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE\r\n"
/* An invitation from Bob to the user, with the user's response as the EWS
 * mapping stores it (MyResponseType).  Without it, the account's address
 * finds the user among the participants: see the local-* cases. */
#define INVITATION(response, partstat) \
  "ORGANIZER;CN=Bob:mailto:bob@example.test\r\n" \
  "ATTENDEE;PARTSTAT=" partstat ":mailto:alice@example.test\r\n" \
  "X-AGL-EWS-MYRESPONSETYPE:" response "\r\n"

#define TRIGGER_RULES \
  "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"lunch\"}," \
  " {\"word\": \"meeting\", \"reason\": \"meeting\"}," \
  " {\"word\": \"Reise\", \"reason\": \"travel\"}," \
  " {\"word\": \"day off\", \"reason\": \"vacation\"}]}"

#define MAX_EVENTS 4

typedef struct {
  const char *path;
  const char *rules;               /* JSON for `rules set`; NULL keeps the defaults */
  const char *events[MAX_EVENTS];  /* one `agenda add` each, up to the first NULL */
  const char *at;

  const char *presence;
  const char *action;
  gboolean    forward_internal;
  const char *reason;              /* NULL: JSON null */
  const char *text;                /* NULL: JSON null */
  const char *until;               /* NULL: JSON null */
  const char *because_kind;        /* a "because" line of this kind… */
  const char *because_uid;         /* …naming this UID (NULL: none) */
  const char *because_subject;     /* …and this subject (NULL: not checked) */
} Case;

static const Case cases[] = {
  /* 1. An action per free/busy type, and the forward_internal switch. */
  { "/presence-cli/1/action-per-type-tentative-forward",
    "{\"actions\": {\"Tentative\": \"forward\"}, \"forward_internal\": false}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Maybe workshop", TENTATIVE) },
    "2027-03-01T10:00:00Z",
    "available", "forward", FALSE, NULL, "Maybe workshop", "2027-03-01T11:00:00Z",
    "appointment", "a@cli", "Maybe workshop" },
  { "/presence-cli/1/action-per-type-free-dnd",
    "{\"actions\": {\"Free\": \"dnd\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Reading", FREE) },
    "2027-03-01T10:00:00Z",
    "dnd", "dnd", TRUE, NULL, "Reading", "2027-03-01T11:00:00Z",
    "appointment", "a@cli", "Reading" },
  { "/presence-cli/1/forward-internal-default-on", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "will return", "Planning", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Planning" },
  { "/presence-cli/1/forward-internal-off", "{\"forward_internal\": false}",
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", FALSE, "will return", "Planning", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Planning" },
  /* 2. Presence follows the type; a dnd action makes it dnd. */
  { "/presence-cli/2/presence-busy", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", BUSY) },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Planning", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Planning" },
  { "/presence-cli/2/presence-busy-from-opaque", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", "TRANSP:OPAQUE\r\n") },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Planning", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Planning" },
  { "/presence-cli/2/presence-free-from-transparent", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Reading", "TRANSP:TRANSPARENT\r\n") },
    "2027-03-01T09:30:00Z",
    "available", "none", TRUE, NULL, "Reading", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Reading" },
  { "/presence-cli/2/presence-tentative", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Maybe", TENTATIVE) },
    "2027-03-01T09:30:00Z",
    "available", "none", TRUE, NULL, "Maybe", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Maybe" },
  { "/presence-cli/2/presence-dnd-action", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", BUSY) },
    "2027-03-01T09:30:00Z",
    "dnd", "dnd", TRUE, NULL, "Planning", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Planning" },
  { "/presence-cli/2/presence-oof-type", NULL,
    { EVENT ("a@cli", "0301T080000", "0301T170000", "Trade fair", OOF) },
    "2027-03-01T09:30:00Z",
    "out-of-office", "divert", TRUE, "will return", "Trade fair", "2027-03-01T17:00:00Z",
    "appointment", "a@cli", "Trade fair" },
  { "/presence-cli/2/presence-working-elsewhere", NULL,
    { EVENT ("a@cli", "0301T080000", "0301T160000", "Home office", WORKING_ELSEWHERE) },
    "2027-03-01T09:30:00Z",
    "available", "none", TRUE, NULL, "Home office", "2027-03-01T16:00:00Z",
    "appointment", "a@cli", "Home office" },
  /* 3. The first trigger word in the subject gives the reason; none
   * gives the default. */
  { "/presence-cli/3/trigger-word", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T113000", "0301T123000", "Lunch with Anna", BUSY) },
    "2027-03-01T12:00:00Z",
    "busy", "divert", TRUE, "lunch", "Lunch with Anna", "2027-03-01T12:30:00Z",
    "trigger-word", "a@cli", NULL },
  { "/presence-cli/3/trigger-word-leftmost-in-subject", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Meeting before lunch", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "meeting", "Meeting before lunch", "2027-03-01T10:00:00Z",
    "trigger-word", "a@cli", NULL },
  { "/presence-cli/3/trigger-word-whole-word", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Lunchroom tour\\, post-lunch nap", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "lunch", "Lunchroom tour, post-lunch nap", "2027-03-01T10:00:00Z",
    "trigger-word", "a@cli", NULL },
  { "/presence-cli/3/trigger-word-any-case", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Dienstliche REISE nach Bergen", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "travel", "Dienstliche REISE nach Bergen", "2027-03-01T10:00:00Z",
    "trigger-word", "a@cli", NULL },
  { "/presence-cli/3/no-trigger-word-default-reason", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Lunchroom meetings\\, then Brunch", BUSY) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "will return", "Lunchroom meetings, then Brunch", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Lunchroom meetings, then Brunch" },
  /* 4. Keywords at the end of the subject, English and German; never in
   * the text. */
  { "/presence-cli/4/keyword/dnd-english", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Focus time (DND)", BUSY) },
    "2027-03-01T10:00:00Z",
    "dnd", "dnd", TRUE, NULL, "Focus time", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Focus time (DND)" },
  { "/presence-cli/4/keyword/dnd-german", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Konzentration (Ruhe)", BUSY) },
    "2027-03-01T10:00:00Z",
    "dnd", "dnd", TRUE, NULL, "Konzentration", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Konzentration (Ruhe)" },
  { "/presence-cli/4/keyword/dnd-case-sensitive", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Focus time (dnd)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "divert", TRUE, "will return", "Focus time (dnd)", "2027-03-01T11:00:00Z",
    "appointment", "a@cli", "Focus time (dnd)" },
  { "/presence-cli/4/keyword/no-dnd-english", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Review (No DND)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "none", TRUE, NULL, "Review", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Review (No DND)" },
  { "/presence-cli/4/keyword/no-dnd-german", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Durchsicht (Keine Ruhe)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "none", TRUE, NULL, "Durchsicht", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Durchsicht (Keine Ruhe)" },
  { "/presence-cli/4/keyword/call-forwarding-english", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Offsite (Call forwarding)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "forward", TRUE, NULL, "Offsite", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Offsite (Call forwarding)" },
  { "/presence-cli/4/keyword/call-forwarding-german", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Klausur (Anrufe weiterleiten)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "forward", TRUE, NULL, "Klausur", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Klausur (Anrufe weiterleiten)" },
  { "/presence-cli/4/keyword/no-call-forwarding-english", "{\"actions\": {\"Busy\": \"forward\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Desk work (No call forwarding)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "none", TRUE, NULL, "Desk work", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Desk work (No call forwarding)" },
  { "/presence-cli/4/keyword/no-call-forwarding-german", "{\"actions\": {\"Busy\": \"forward\"}}",
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Schreibtisch (Keine Anrufe weiterleiten)", BUSY) },
    "2027-03-01T10:00:00Z",
    "busy", "none", TRUE, NULL, "Schreibtisch", "2027-03-01T11:00:00Z",
    "keyword", "a@cli", "Schreibtisch (Keine Anrufe weiterleiten)" },
  { "/presence-cli/4/keyword/no-action-english", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Gym (No action)", BUSY) },
    "2027-03-01T10:00:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "keyword", "a@cli", "Gym (No action)" },
  { "/presence-cli/4/keyword/no-action-german", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T110000", "Sport (Keine Aktion)", BUSY),
      EVENT ("b@cli", "0301T103000", "0301T113000", "Planung", BUSY) },
    "2027-03-01T10:00:00Z",
    "available", "none", TRUE, NULL, NULL, "2027-03-01T10:30:00Z",
    "keyword", "a@cli", "Sport (Keine Aktion)" },
  /* 5. A meeting diverts only when the user organises it or has accepted
   * it; a retimed meeting comes back unanswered. */
  { "/presence-cli/5/meeting-accepted", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY INVITATION ("Accept", "ACCEPTED")) },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T10:00:00Z",
    "appointment", "m@cli", "Budget" },
  { "/presence-cli/5/meeting-organizer", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY
             "ORGANIZER:mailto:alice@example.test\r\n"
             "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.test\r\n"
             "X-AGL-EWS-MYRESPONSETYPE:Organizer\r\n") },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T10:00:00Z",
    "appointment", "m@cli", "Budget" },
  /* Invitations made or imported here carry no MyResponseType: the
   * account's address (alice@example.test) is the ORGANIZER, or the
   * ATTENDEE whose PARTSTAT is the response. */
  { "/presence-cli/5/local-meeting-organizer", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY
             "ORGANIZER:mailto:Alice@Example.test\r\n"
             "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.test\r\n") },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T10:00:00Z",
    "appointment", "m@cli", "Budget" },
  { "/presence-cli/5/local-invitation-accepted", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY
             "ORGANIZER;CN=Bob:mailto:bob@example.test\r\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test\r\n") },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T10:00:00Z",
    "appointment", "m@cli", "Budget" },
  { "/presence-cli/5/local-invitation-unanswered", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY
             "ORGANIZER;CN=Bob:mailto:bob@example.test\r\n"
             "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:alice@example.test\r\n") },
    "2027-03-01T09:30:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "rule", "m@cli", "Budget" },
  { "/presence-cli/5/not-a-meeting-organizer-alone", NULL,
    { EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY
             "ORGANIZER:mailto:alice@example.test\r\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.test\r\n") },
    "2027-03-01T09:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T10:00:00Z",
    "appointment", "m@cli", "Budget" },
  { "/presence-cli/5/meeting-not-responded", NULL,
    { EVENT ("m@cli", "0301T130000", "0301T140000", "Budget",
             BUSY INVITATION ("NoResponseReceived", "NEEDS-ACTION")) },
    "2027-03-01T13:30:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "rule", "m@cli", "Budget" },
  { "/presence-cli/5/meeting-tentative-response", NULL,
    { EVENT ("m@cli", "0301T130000", "0301T140000", "Budget", TENTATIVE INVITATION ("Tentative", "TENTATIVE")) },
    "2027-03-01T13:30:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "rule", "m@cli", "Budget" },
  { "/presence-cli/5/meeting-declined", NULL,
    { EVENT ("m@cli", "0301T130000", "0301T140000", "Budget", BUSY INVITATION ("Decline", "DECLINED")) },
    "2027-03-01T13:30:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "rule", "m@cli", "Budget" },
  { "/presence-cli/5/meeting-declined-switch-off", "{\"only_accepted_meetings\": false}",
    { EVENT ("m@cli", "0301T130000", "0301T140000", "Budget", BUSY INVITATION ("Decline", "DECLINED")) },
    "2027-03-01T13:30:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    "rule", "m@cli", "Budget" },
  { "/presence-cli/5/switch-off-unanswered-diverts", "{\"only_accepted_meetings\": false}",
    { EVENT ("m@cli", "0301T130000", "0301T140000", "Budget",
             BUSY INVITATION ("NoResponseReceived", "NEEDS-ACTION")) },
    "2027-03-01T13:30:00Z",
    "busy", "divert", TRUE, "will return", "Budget", "2027-03-01T14:00:00Z",
    "appointment", "m@cli", "Budget" },
  /* Times with a TZID come out in UTC: 10:00 in Berlin is 09:00Z. */
  { "/presence-cli/10/until-from-zoned-times", NULL,
    { "BEGIN:VEVENT\r\nUID:z@cli\r\nDTSTAMP:20260101T000000Z\r\n"
      "DTSTART;TZID=Europe/Berlin:20270301T100000\r\nDTEND;TZID=Europe/Berlin:20270301T110000\r\n"
      "SUMMARY:Zoned\r\n" BUSY "END:VEVENT\r\n" },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "will return", "Zoned", "2027-03-01T10:00:00Z",
    "appointment", "z@cli", "Zoned" },
  /* 7. Parallel appointments: the strongest type wins; privacy. */
  { "/presence-cli/7/parallel-strongest-wins", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T120000", "Workshop", TENTATIVE),
      EVENT ("b@cli", "0301T100000", "0301T110000", "Call with Bo", BUSY),
      EVENT ("c@cli", "0301T090000", "0301T120000", "Reading", FREE) },
    "2027-03-01T10:30:00Z",
    "busy", "divert", TRUE, "will return", "Call with Bo", "2027-03-01T11:00:00Z",
    "appointment", "b@cli", "Call with Bo" },
  { "/presence-cli/7/parallel-oof-over-busy", NULL,
    { EVENT ("a@cli", "0301T080000", "0301T170000", "Trade fair", OOF),
      EVENT ("b@cli", "0301T100000", "0301T110000", "Call with Bo", BUSY) },
    "2027-03-01T10:30:00Z",
    "out-of-office", "divert", TRUE, "will return", "Trade fair", "2027-03-01T17:00:00Z",
    "appointment", "a@cli", "Trade fair" },
  { "/presence-cli/7/parallel-joined-subjects", "{\"join_parallel_subjects\": true}",
    { EVENT ("a@cli", "0301T090000", "0301T120000", "Workshop", TENTATIVE),
      EVENT ("b@cli", "0301T100000", "0301T110000", "Call with Bo (DND)", BUSY),
      EVENT ("c@cli", "0301T101500", "0301T104500", "Dentist", FREE "CLASS:PRIVATE\r\n") },
    "2027-03-01T10:30:00Z",
    "dnd", "dnd", TRUE, NULL, "Call with Bo, Workshop, Private appointment", "2027-03-01T10:45:00Z",
    "keyword", "b@cli", "Call with Bo (DND)" },
  { "/presence-cli/7/private", TRIGGER_RULES,
    { EVENT ("a@cli", "0301T120000", "0301T130000", "Lunch with the lawyer", BUSY "CLASS:PRIVATE\r\n") },
    "2027-03-01T12:00:00Z",
    "busy", "divert", TRUE, "lunch", "Private appointment", "2027-03-01T13:00:00Z",
    "appointment", "a@cli", "Private appointment" },
  { "/presence-cli/7/confidential", NULL,
    { EVENT ("a@cli", "0301T120000", "0301T130000", "Health check", BUSY "CLASS:CONFIDENTIAL\r\n") },
    "2027-03-01T12:00:00Z",
    "busy", "divert", TRUE, "will return", "Private appointment", "2027-03-01T13:00:00Z",
    "appointment", "a@cli", "Private appointment" },
  /* 8. A series counts occurrence by occurrence: a deleted occurrence
   * (EXDATE, or an exception with STATUS:CANCELLED) not at all, a moved
   * one (RECURRENCE-ID) where it is now. */
#define STANDUP_SERIES \
  "BEGIN:VEVENT\r\nUID:standup@cli\r\nDTSTAMP:20260101T000000Z\r\n" \
  "DTSTART:20270227T090000Z\r\nDTEND:20270227T091500Z\r\nSUMMARY:Standup\r\n" \
  BUSY "RRULE:FREQ=DAILY;COUNT=6\r\nEXDATE:20270301T090000Z\r\nEND:VEVENT\r\n" \
  "BEGIN:VEVENT\r\nUID:standup@cli\r\nDTSTAMP:20260101T000000Z\r\n" \
  "RECURRENCE-ID:20270302T090000Z\r\n" \
  "DTSTART:20270302T100000Z\r\nDTEND:20270302T101500Z\r\nSUMMARY:Standup moved\r\n" \
  "END:VEVENT\r\n" \
  "BEGIN:VEVENT\r\nUID:standup@cli\r\nDTSTAMP:20260101T000000Z\r\n" \
  "RECURRENCE-ID:20270303T090000Z\r\n" \
  "DTSTART:20270303T090000Z\r\nDTEND:20270303T091500Z\r\nSUMMARY:Standup\r\n" \
  "STATUS:CANCELLED\r\nEND:VEVENT\r\n"
  { "/presence-cli/8/series-occurrence", NULL,
    { STANDUP_SERIES },
    "2027-02-28T09:05:00Z",
    "busy", "divert", TRUE, "will return", "Standup", "2027-02-28T09:15:00Z",
    "appointment", "standup@cli", "Standup" },
  { "/presence-cli/8/series-deleted-occurrence", NULL,
    { STANDUP_SERIES },
    "2027-03-01T09:05:00Z",
    "available", "none", TRUE, NULL, NULL, "2027-03-02T10:00:00Z",
    NULL, NULL, NULL },
  { "/presence-cli/8/series-exception-moved-away", NULL,
    { STANDUP_SERIES },
    "2027-03-02T09:05:00Z",
    "available", "none", TRUE, NULL, NULL, "2027-03-02T10:00:00Z",
    NULL, NULL, NULL },
  { "/presence-cli/8/series-exception-where-it-is-now", NULL,
    { STANDUP_SERIES },
    "2027-03-02T10:05:00Z",
    "busy", "divert", TRUE, "will return", "Standup moved", "2027-03-02T10:15:00Z",
    "appointment", "standup@cli", "Standup moved" },
  { "/presence-cli/8/series-cancelled-occurrence", NULL,
    { STANDUP_SERIES },
    "2027-03-03T09:05:00Z",
    "available", "none", TRUE, NULL, NULL, "2027-03-04T09:00:00Z",
    NULL, NULL, NULL },
  { "/presence-cli/8/series-after-exceptions", NULL,
    { STANDUP_SERIES },
    "2027-03-04T09:00:00Z",
    "busy", "divert", TRUE, "will return", "Standup", "2027-03-04T09:15:00Z",
    "appointment", "standup@cli", "Standup" },
#undef STANDUP_SERIES
  /* All day is midnight to midnight in Berlin: 23:00 UTC the day before. */
#define CONFERENCE \
  "BEGIN:VEVENT\r\nUID:conf@cli\r\nDTSTAMP:20260101T000000Z\r\n" \
  "DTSTART;VALUE=DATE:20270301\r\nDTEND;VALUE=DATE:20270302\r\nSUMMARY:Conference\r\n" \
  BUSY "END:VEVENT\r\n"
  { "/presence-cli/8/all-day-starts-at-local-midnight", NULL,
    { CONFERENCE },
    "2027-02-28T23:00:00Z",
    "busy", "divert", TRUE, "will return", "Conference", "2027-03-01T23:00:00Z",
    "appointment", "conf@cli", "Conference" },
  { "/presence-cli/8/all-day-before-local-midnight", NULL,
    { CONFERENCE },
    "2027-02-28T22:59:59Z",
    "available", "none", TRUE, NULL, NULL, "2027-02-28T23:00:00Z",
    NULL, NULL, NULL },
  { "/presence-cli/8/all-day-ends-at-local-midnight", NULL,
    { CONFERENCE },
    "2027-03-01T23:00:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    NULL, NULL, NULL },
#undef CONFERENCE
  /* 10. until: back-to-back appointments with the same status count as
   * one; a stronger one starting ends the status. */
  { "/presence-cli/10/until-back-to-back", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Interviews", BUSY),
      EVENT ("b@cli", "0301T100000", "0301T110000", "Interviews", BUSY),
      EVENT ("c@cli", "0301T110000", "0301T120000", "Interviews", TENTATIVE) },
    "2027-03-01T09:00:00Z",
    "busy", "divert", TRUE, "will return", "Interviews", "2027-03-01T11:00:00Z",
    "appointment", "a@cli", "Interviews" },
  { "/presence-cli/10/until-stronger-starts", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T120000", "Workshop", TENTATIVE),
      EVENT ("b@cli", "0301T100000", "0301T110000", "Call", BUSY) },
    "2027-03-01T09:00:00Z",
    "available", "none", TRUE, NULL, "Workshop", "2027-03-01T10:00:00Z",
    "appointment", "a@cli", "Workshop" },
  { "/presence-cli/10/end-exclusive", NULL,
    { EVENT ("a@cli", "0301T090000", "0301T100000", "Planning", BUSY) },
    "2027-03-01T10:00:00Z",
    "available", "none", TRUE, NULL, NULL, NULL,
    NULL, NULL, NULL },
};

typedef struct {
  AglSyncHarness h;
  guint          signal_id;
  GPtrArray     *presences; /* char *, of each StatusChanged */
} Fixture;

static void
status_changed_cb (GDBusConnection *connection,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *parameters,
                   gpointer         user_data)
{
  Fixture *f = user_data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *name, *json;
  JsonObject *status;

  g_variant_get (parameters, "(&s&s)", &name, &json);
  if (g_strcmp0 (name, ACCOUNT) != 0 || !json_parser_load_from_data (parser, json, -1, NULL))
    return;
  status = json_node_get_object (json_parser_get_root (parser));
  g_ptr_array_add (f->presences, g_strdup (json_object_get_string_member (status, "presence")));
}

static gint64
parse_iso (const char *text)
{
  g_autoptr(GDateTime) datetime = g_date_time_new_from_iso8601 (text, NULL);

  g_assert_nonnull (datetime);
  return g_date_time_to_unix (datetime);
}

/* Runs agendalinectl, which must succeed; returns what it printed. */
static char *
run_ctl (Fixture    *f,
         const char *input,
         ...)
{
  g_autoptr(AglCtlResult) result = NULL;
  va_list ap;

  va_start (ap, input);
  result = agl_sync_harness_run_ctl_valist (&f->h, input, ap);
  va_end (ap);
  g_test_message ("%s\n%s%s", result->command, result->out, result->err);
  if (result->status != 0)
    {
      agl_sync_harness_dump_daemon_log (&f->h);
      g_error ("%s exited with %d: %s", result->command, result->status, result->err);
    }
  return g_steal_pointer (&result->out);
}

static JsonNode *
parse_json (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
add_event (Fixture    *f,
           const char *vevents)
{
  g_autofree char *ical = g_strconcat ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                       "PRODID:-//Agendaline//presence CLI test//EN\r\n",
                                       vevents, "END:VCALENDAR\r\n", NULL);
  g_autofree char *out = run_ctl (f, ical, "agenda", "add", "--account", ACCOUNT, "--json", "-", NULL);
  g_autoptr(JsonNode) root = parse_json (out);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "id"), >, 0);
}

static void
set_rules (Fixture    *f,
           const char *rules)
{
  g_autofree char *path = g_build_filename (f->h.dir, "rules.json", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, rules, -1, &error);
  g_assert_no_error (error);
  out = run_ctl (f, NULL, "rules", "set", ACCOUNT, path, NULL);
}

static JsonObject *
ctl_status (Fixture    *f,
            const char *at)
{
  g_autofree char *out = at != NULL ? run_ctl (f, NULL, "status", ACCOUNT, "--at", at, "--json", NULL)
                                    : run_ctl (f, NULL, "status", ACCOUNT, "--json", NULL);
  g_autoptr(JsonNode) root = parse_json (out);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

/* A string member that may be JSON null. */
static const char *
get_nullable (JsonObject *object,
              const char *member)
{
  g_assert_true (json_object_has_member (object, member));
  if (json_object_get_null_member (object, member))
    return NULL;
  return json_object_get_string_member (object, member);
}

static JsonObject *
phone (JsonObject *status)
{
  return json_object_get_object_member (status, "phone");
}

static JsonObject *
find_because (JsonObject *status,
              const char *kind,
              const char *uid)
{
  JsonArray *because = json_object_get_array_member (status, "because");

  for (guint i = 0; i < json_array_get_length (because); i++)
    {
      JsonObject *line = json_array_get_object_element (because, i);

      if (g_strcmp0 (get_nullable (line, "kind"), kind) == 0 &&
          (uid == NULL || g_strcmp0 (get_nullable (line, "uid"), uid) == 0))
        return line;
    }
  return NULL;
}

/* No "because" line names an appointment: the calendar had no say. */
static void
assert_no_appointment_because (JsonObject *status)
{
  JsonArray *because = json_object_get_array_member (status, "because");

  for (guint i = 0; i < json_array_get_length (because); i++)
    {
      JsonObject *line = json_array_get_object_element (because, i);
      const char *kind = get_nullable (line, "kind");

      if (g_strcmp0 (kind, "appointment") == 0 || g_strcmp0 (kind, "trigger-word") == 0)
        g_error ("unexpected “because” line of kind %s for %s", kind, get_nullable (line, "uid"));
    }
}

static void
assert_status (JsonObject *status,
               const char *at,
               const char *presence,
               const char *action,
               gboolean    forward_internal,
               const char *reason,
               const char *text,
               const char *until)
{
  g_assert_cmpstr (get_nullable (status, "account"), ==, ACCOUNT);
  if (at != NULL)
    g_assert_cmpstr (get_nullable (status, "at"), ==, at);
  g_assert_cmpstr (get_nullable (status, "presence"), ==, presence);
  g_assert_cmpstr (get_nullable (phone (status), "action"), ==, action);
  g_assert_cmpint (json_object_get_boolean_member (phone (status), "forward_internal"), ==,
                   forward_internal);
  g_assert_cmpstr (get_nullable (phone (status), "reason"), ==, reason);
  g_assert_cmpstr (get_nullable (status, "text"), ==, text);
  g_assert_cmpstr (get_nullable (status, "until"), ==, until);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "because")), >, 0);
}

static void
start_daemon (Fixture *f)
{
  /* The daemon warns that no Secret Service runs on the test bus. */
  static const char * const child_env[] = { "G_DEBUG=gc-friendly", "TZ=Europe/Berlin", NULL };

  f->h.timeout_seconds = 30;
  f->h.child_env = child_env;
  f->h.death_signal = SIGTERM;
  agl_sync_harness_init (&f->h, "agl-presence-cli-XXXXXX");
  agl_sync_harness_start_daemon (&f->h, "agendalined.log", "all");
  f->presences = g_ptr_array_new_with_free_func (g_free);
  f->signal_id = g_dbus_connection_signal_subscribe (f->h.connection, NULL, AGL_BUS_NAME,
                                                     "StatusChanged", AGL_OBJECT_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     status_changed_cb, f, NULL);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *out = NULL;

  start_daemon (f);
  out = run_ctl (f, "secret\n", "account", "add", ACCOUNT, "--email", "alice@example.test",
                 "--url", UNREACHABLE_URL, "--password-stdin", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (g_test_failed ())
    agl_sync_harness_dump_daemon_log (&f->h);
  g_dbus_connection_signal_unsubscribe (f->h.connection, f->signal_id);
  g_clear_pointer (&f->presences, g_ptr_array_unref);
  agl_sync_harness_clear (&f->h, !g_test_failed ());
}

/* One rule sentence: its appointments and rules through the CLI, then
 * `status --at` through the CLI. */
static void
test_case (Fixture       *f,
           gconstpointer  data)
{
  const Case *c = data;
  g_autoptr(JsonObject) status = NULL;

  if (c->rules != NULL)
    set_rules (f, c->rules);
  for (guint i = 0; i < MAX_EVENTS && c->events[i] != NULL; i++)
    add_event (f, c->events[i]);

  status = ctl_status (f, c->at);
  assert_status (status, c->at, c->presence, c->action, c->forward_internal, c->reason, c->text,
                 c->until);

  /* With no text nothing governs: no line may claim an appointment did. */
  if (c->text == NULL)
    assert_no_appointment_because (status);
  if (c->because_kind != NULL)
    {
      JsonObject *line = find_because (status, c->because_kind, c->because_uid);

      if (line == NULL)
        g_error ("no “because” line of kind %s for %s", c->because_kind, c->because_uid);
      if (c->because_subject != NULL)
        g_assert_cmpstr (get_nullable (line, "subject"), ==, c->because_subject);
    }
}

/* A meeting the user had accepted, retimed by its organiser: Exchange
 * sends it back unanswered, and it no longer diverts, at the old time or
 * the new. */
static void
test_meeting_retimed (Fixture       *f,
                      gconstpointer  data)
{
  static const char accepted[] =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//presence CLI test//EN\r\n"
    EVENT ("m@cli", "0301T090000", "0301T100000", "Budget", BUSY INVITATION ("Accept", "ACCEPTED"))
    "END:VCALENDAR\r\n";
  static const char retimed[] =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//presence CLI test//EN\r\n"
    EVENT ("m@cli", "0301T130000", "0301T140000", "Budget",
           BUSY "SEQUENCE:1\r\n" INVITATION ("NoResponseReceived", "NEEDS-ACTION"))
    "END:VCALENDAR\r\n";
  g_autofree char *out = run_ctl (f, accepted, "agenda", "add", "--account", ACCOUNT, "--json", "-", NULL);
  g_autoptr(JsonNode) root = parse_json (out);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT,
                                         json_object_get_int_member (json_node_get_object (root), "id"));
  g_autoptr(JsonObject) before = ctl_status (f, "2027-03-01T09:30:00Z");
  g_autofree char *updated = NULL;
  g_autoptr(JsonObject) old_time = NULL;
  g_autoptr(JsonObject) new_time = NULL;

  assert_status (before, "2027-03-01T09:30:00Z", "busy", "divert", TRUE, "will return", "Budget",
                 "2027-03-01T10:00:00Z");

  updated = run_ctl (f, retimed, "agenda", "update", id, "-", NULL);
  old_time = ctl_status (f, "2027-03-01T09:30:00Z");
  assert_status (old_time, NULL, "available", "none", TRUE, NULL, NULL, NULL);
  assert_no_appointment_because (old_time);
  new_time = ctl_status (f, "2027-03-01T13:30:00Z");
  assert_status (new_time, NULL, "available", "none", TRUE, NULL, NULL, NULL);
  assert_no_appointment_because (new_time);
}

/* `schedule --days 1` counts from now: a day of appointments a few hours
 * ahead (test-rules.c's /rules/schedule/day, moved to the next hours) and
 * exactly the changes it makes, with their times, statuses and until. */
static void
test_schedule_day (Fixture       *f,
                   gconstpointer  data)
{
  static const struct {
    const char *uid;
    const char *subject;
    gint64      start;   /* minutes after T */
    gint64      end;
    const char *extra;
  } day[] = {
    { "standup@cli", "Standup", 0, 15, BUSY },
    { "workshop@cli", "Workshop", 60, 180, TENTATIVE },
    { "call@cli", "Call with Bo", 90, 120, BUSY },
    { "lunch@cli", "Lunch", 150, 210, BUSY },
    { "reading@cli", "Reading", 300, 360, FREE },
    { "other@cli", "Other team's review", 360, 420, BUSY INVITATION ("Decline", "DECLINED") },
  };
  static const struct {
    gint64      at;      /* minutes after T; -1: now */
    const char *presence;
    const char *action;
    const char *reason;
    const char *text;
    gint64      until;   /* minutes after T; -1: null */
  } expected[] = {
    { -1, "available", "none", NULL, NULL, 0 },
    { 0, "busy", "divert", "will return", "Standup", 15 },
    { 15, "available", "none", NULL, NULL, 60 },
    { 60, "available", "none", NULL, "Workshop", 90 },
    { 90, "busy", "divert", "will return", "Call with Bo", 120 },
    { 120, "available", "none", NULL, "Workshop", 150 },
    { 150, "busy", "divert", "lunch", "Lunch", 210 },
    { 210, "available", "none", NULL, NULL, 300 },
    { 300, "available", "none", NULL, "Reading", 360 },
    { 360, "available", "none", NULL, NULL, -1 },
  };
  /* Two hours ahead on the hour, so that "now" comes first and the day
   * ends well inside the 24 hours. */
  gint64 t = (g_get_real_time () / G_USEC_PER_SEC / HOUR + 2) * HOUR;
  gint64 before, after;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *schedule;

  set_rules (f, TRIGGER_RULES);
  for (guint i = 0; i < G_N_ELEMENTS (day); i++)
    {
      g_autofree char *start = agl_sync_harness_ical_time (t + day[i].start * MINUTE);
      g_autofree char *end = agl_sync_harness_ical_time (t + day[i].end * MINUTE);
      g_autofree char *vevent = g_strdup_printf ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                                                 "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n%s"
                                                 "END:VEVENT\r\n",
                                                 day[i].uid, start, end, day[i].subject, day[i].extra);

      add_event (f, vevent);
    }

  before = g_get_real_time () / G_USEC_PER_SEC;
  out = run_ctl (f, NULL, "schedule", ACCOUNT, "--days", "1", "--json", NULL);
  after = g_get_real_time () / G_USEC_PER_SEC;
  root = parse_json (out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  schedule = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (schedule), ==, G_N_ELEMENTS (expected));

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      JsonObject *status = json_array_get_object_element (schedule, i);
      g_autofree char *at =
        expected[i].at >= 0 ? agl_sync_harness_iso (t + expected[i].at * MINUTE) : NULL;
      g_autofree char *until =
        expected[i].until >= 0 ? agl_sync_harness_iso (t + expected[i].until * MINUTE) : NULL;

      if (at == NULL)
        {
          gint64 now = parse_iso (get_nullable (status, "at"));

          g_assert_cmpint (now, >=, before);
          g_assert_cmpint (now, <=, after);
        }
      assert_status (status, at, expected[i].presence, expected[i].action, TRUE, expected[i].reason,
                     expected[i].text, until);
    }
  g_assert_nonnull (find_because (json_array_get_object_element (schedule, 6), "trigger-word",
                                  "lunch@cli"));
}

/* 9. `agendalinectl override` holds until the next start or end of an
 * appointment, then the calendar rules apply again; --clear ends it. */
static void
test_override (Fixture       *f,
               gconstpointer  data)
{
  gint64 start = g_get_real_time () / G_USEC_PER_SEC + 2 * HOUR;
  g_autofree char *start_text = agl_sync_harness_iso (start);
  g_autofree char *dtstart = agl_sync_harness_ical_time (start);
  g_autofree char *dtend = agl_sync_harness_ical_time (start + HOUR);
  g_autofree char *end_text = agl_sync_harness_iso (start + HOUR);
  g_autofree char *vevent = g_strdup_printf ("BEGIN:VEVENT\r\nUID:later@cli\r\nDTSTAMP:20260101T000000Z\r\n"
                                             "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Planning\r\n" BUSY
                                             "END:VEVENT\r\n", dtstart, dtend);
  g_autofree char *inside_override = agl_sync_harness_iso (start - 60);
  g_autofree char *inside_appointment = agl_sync_harness_iso (start + 60);
  g_autofree char *set = NULL, *cleared = NULL;
  g_autoptr(JsonObject) now = NULL;
  g_autoptr(JsonObject) later = NULL;
  g_autoptr(JsonObject) after = NULL;
  g_autoptr(JsonObject) again = NULL;

  add_event (f, vevent);

  set = run_ctl (f, NULL, "override", ACCOUNT, "--presence", "away", "--action", "dnd",
                 "--text", "Back soon", NULL);
  now = ctl_status (f, NULL);
  assert_status (now, NULL, "away", "dnd", TRUE, NULL, "Back soon", start_text);
  g_assert_nonnull (find_because (now, "override", NULL));

  /* Until the appointment starts, the override holds… */
  later = ctl_status (f, inside_override);
  assert_status (later, inside_override, "away", "dnd", TRUE, NULL, "Back soon", start_text);

  /* …then the calendar rules apply again. */
  after = ctl_status (f, inside_appointment);
  assert_status (after, inside_appointment, "busy", "divert", TRUE, "will return", "Planning",
                 end_text);
  g_assert_null (find_because (after, "override", NULL));

  cleared = run_ctl (f, NULL, "override", ACCOUNT, "--clear", NULL);
  again = ctl_status (f, NULL);
  assert_status (again, NULL, "available", "none", TRUE, NULL, NULL, start_text);
  g_assert_null (find_because (again, "override", NULL));
}

/* 6. The test Exchange server with one mailbox whose automatic replies
 * are on (Enabled), or Scheduled from yesterday until the end of the day
 * a week ahead.  The daemon reads them only while it syncs, and knows
 * them once the current presence turns out-of-office, so unlike the
 * other cases these run on days counted from today. */
typedef struct {
  gboolean scheduled;
} OofSeed;

static const OofSeed oof_enabled = { FALSE };
static const OofSeed oof_scheduled = { TRUE };

/* Midnight UTC a week from today. */
static gint64
oof_day (void)
{
  return (g_get_real_time () / G_USEC_PER_SEC / 86400 + 7) * 86400;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The daemon has read the automatic replies when the current presence
 * turns out-of-office. */
static void
wait_for_out_of_office (Fixture *f,
                        guint    seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);

  for (;;)
    {
      for (guint i = 0; i < f->presences->len; i++)
        if (g_strcmp0 (g_ptr_array_index (f->presences, i), "out-of-office") == 0)
          {
            g_source_remove (id);
            return;
          }
      if (timed_out)
        g_error ("no StatusChanged with presence out-of-office within %u s", seconds);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
fixture_set_up_oof (Fixture       *f,
                    gconstpointer  data)
{
  const OofSeed *oof = data;
  g_autofree char *yesterday = agl_sync_harness_iso (g_get_real_time () / G_USEC_PER_SEC - 86400);
  g_autofree char *day_end = agl_sync_harness_iso (oof_day () + 86400);
  g_autofree char *schedule = NULL;
  g_autofree char *seed_json = NULL;
  g_autofree char *seed = NULL;
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;

  start_daemon (f);
  schedule = oof->scheduled
             ? g_strdup_printf ("\"state\": \"Scheduled\", \"start\": \"%s\", \"end\": \"%s\", ",
                                yesterday, day_end)
             : g_strdup ("\"state\": \"Enabled\", ");
  seed_json = g_strdup_printf ("{\"mailboxes\": [{\"address\": \"alice@example.org\", \"user\": \"alice\", "
                               "\"domain\": \"EXAMPLE\", \"password\": \"Agendaline-test-1\", "
                               "\"display_name\": \"Alice\", "
                               "\"oof\": {%s\"audience\": \"All\", "
                               "\"internal_reply\": \"<html><body><p>On a day off;</p><p>back soon.</p></body></html>\", "
                               "\"external_reply\": \"Away.\"}, \"items\": []}]}",
                               schedule);
  seed = g_build_filename (f->h.dir, "seed.json", NULL);
  g_file_set_contents (seed, seed_json, -1, &error);
  g_assert_no_error (error);
  agl_sync_harness_start_server (&f->h, seed);

  out = run_ctl (f, "Agendaline-test-1\n", "account", "add", ACCOUNT, "--email", "alice@example.org",
                 "--url", f->h.url, "--auth", "ntlm", "--user", "alice", "--domain", "EXAMPLE",
                 "--ca-file", ca, "--password-stdin", NULL);
}

static void
add_busy (Fixture    *f,
          const char *uid,
          const char *subject,
          gint64      start,
          gint64      end)
{
  g_autofree char *dtstart = agl_sync_harness_ical_time (start);
  g_autofree char *dtend = agl_sync_harness_ical_time (end);
  g_autofree char *vevent = g_strdup_printf ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                                             "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n" BUSY
                                             "END:VEVENT\r\n", uid, dtstart, dtend, subject);

  add_event (f, vevent);
}

/* While the automatic replies are on, presence is out-of-office over a
 * Busy appointment, the action is the OOF one (forward here, not the Busy
 * one), the text is the internal reply and a trigger word in it gives
 * the reason; until is the end of the schedule, or null when enabled.
 * The next day, after the schedule, the calendar rules apply again. */
static void
test_oof (Fixture       *f,
          gconstpointer  data)
{
  const OofSeed *oof = data;
  gint64 day = oof_day ();
  g_autofree char *inside_at = agl_sync_harness_iso (day + 9 * HOUR + 1800);
  g_autofree char *after_at = agl_sync_harness_iso (day + 33 * HOUR + 1800);
  g_autofree char *schedule_end = oof->scheduled ? agl_sync_harness_iso (day + 24 * HOUR) : NULL;
  g_autofree char *review_end = agl_sync_harness_iso (day + 34 * HOUR);
  const char *greeting = "On a day off; back soon.";
  g_autoptr(JsonObject) inside = NULL;
  g_autoptr(JsonObject) divert = NULL;
  g_autoptr(JsonObject) after = NULL;

  wait_for_out_of_office (f, 30);
  add_busy (f, "planning@cli", "Planning", day + 9 * HOUR, day + 10 * HOUR);
  add_busy (f, "review@cli", "Review", day + 33 * HOUR, day + 34 * HOUR);

  set_rules (f, "{\"actions\": {\"OOF\": \"forward\", \"Busy\": \"dnd\"}, \"forward_internal\": false}");
  inside = ctl_status (f, inside_at);
  assert_status (inside, inside_at, "out-of-office", "forward", FALSE, NULL, greeting, schedule_end);
  g_assert_nonnull (find_because (inside, "oof", NULL));

  set_rules (f, TRIGGER_RULES);
  divert = ctl_status (f, inside_at);
  assert_status (divert, inside_at, "out-of-office", "divert", TRUE, "vacation", greeting, schedule_end);
  g_assert_nonnull (find_because (divert, "oof", NULL));

  after = ctl_status (f, after_at);
  if (oof->scheduled)
    {
      assert_status (after, after_at, "busy", "divert", TRUE, "will return", "Review", review_end);
      g_assert_null (find_because (after, "oof", NULL));
      g_assert_nonnull (find_because (after, "appointment", "review@cli"));
    }
  else
    assert_status (after, after_at, "out-of-office", "divert", TRUE, "vacation", greeting, NULL);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add (cases[i].path, Fixture, &cases[i], fixture_set_up, test_case, fixture_tear_down);
  g_test_add ("/presence-cli/5/meeting-retimed-needs-acceptance-again", Fixture, NULL, fixture_set_up,
              test_meeting_retimed, fixture_tear_down);
  g_test_add ("/presence-cli/6/oof-enabled", Fixture, &oof_enabled, fixture_set_up_oof, test_oof,
              fixture_tear_down);
  g_test_add ("/presence-cli/6/oof-scheduled", Fixture, &oof_scheduled, fixture_set_up_oof, test_oof,
              fixture_tear_down);
  g_test_add ("/presence-cli/9/override-until-next-boundary", Fixture, NULL, fixture_set_up,
              test_override, fixture_tear_down);
  g_test_add ("/presence-cli/schedule/day-of-changes", Fixture, NULL, fixture_set_up,
              test_schedule_day, fixture_tear_down);

  return g_test_run ();
}
