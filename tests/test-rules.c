/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "agl-error.h"
#include "agl-rules.h"

/* Monday 23 November 2026, 00:00 UTC; AT (9, 30) is 09:30 UTC that day. */
#define DAY ((gint64) 1795392000)
#define AT(h, m) (DAY + (gint64) (h) * 3600 + (gint64) (m) * 60)

#define APPT(uid, subject, sh, sm, eh, em, fb) \
  { uid, subject, AT (sh, sm), AT (eh, em), AGL_FREE_BUSY_##fb, FALSE, FALSE, AGL_RESPONSE_UNKNOWN }
#define PRIVATE_APPT(uid, subject, sh, sm, eh, em, fb) \
  { uid, subject, AT (sh, sm), AT (eh, em), AGL_FREE_BUSY_##fb, TRUE, FALSE, AGL_RESPONSE_UNKNOWN }
#define MEETING(uid, subject, sh, sm, eh, em, fb, response) \
  { uid, subject, AT (sh, sm), AT (eh, em), AGL_FREE_BUSY_##fb, FALSE, TRUE, AGL_RESPONSE_##response }

#define TRIGGER_RULES \
  "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"lunch\"}," \
  " {\"word\": \"meeting\", \"reason\": \"meeting\"}," \
  " {\"word\": \"Reise\", \"reason\": \"travel\"}," \
  " {\"word\": \"day off\", \"reason\": \"vacation\"}]}"

#define MAX_OCCURRENCES 6

typedef struct {
  const char         *path;
  const char         *rules;      /* JSON; NULL for the defaults */
  AglRulesOccurrence  occurrences[MAX_OCCURRENCES];   /* up to the first without uid */
  AglRulesOof         oof;
  gboolean            has_override;
  AglRulesOverride    override;   /* expires is worked out by agl_rules_override_expiry() */
  gint64              now;

  AglPresence         presence;
  AglPhoneAction      action;
  const char         *reason;
  const char         *text;
  gint64              until;
} Case;

static const Case cases[] = {
  /* 1. An action per free/busy type, and the forward_internal switch. */
  { "/rules/1/action-per-type",
    "{\"actions\": {\"Tentative\": \"forward\"}, \"forward_internal\": false}",
    { APPT ("a", "Maybe workshop", 9, 0, 11, 0, TENTATIVE) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_FORWARD, NULL, "Maybe workshop", AT (11, 0) },
  /* 2. Presence follows the type; a dnd action makes it dnd. */
  { "/rules/2/presence-busy", NULL,
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Planning", AT (10, 0) },
  { "/rules/2/presence-dnd-action", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, NULL, "Planning", AT (10, 0) },
  { "/rules/2/presence-oof-type", NULL,
    { APPT ("a", "Trade fair", 8, 0, 17, 0, OOF) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_OUT_OF_OFFICE, AGL_PHONE_ACTION_DIVERT, "will return", "Trade fair", AT (17, 0) },
  { "/rules/2/presence-working-elsewhere", NULL,
    { APPT ("a", "Home office", 8, 0, 16, 0, WORKING_ELSEWHERE) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, "Home office", AT (16, 0) },
  /* 3. The trigger word gives the reason. */
  { "/rules/3/trigger-word", TRIGGER_RULES,
    { APPT ("a", "Lunch with Anna", 11, 30, 12, 30, BUSY) }, { 0 }, FALSE, { 0 }, AT (12, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "lunch", "Lunch with Anna", AT (12, 30) },
  /* 4. Keywords, each in English and German. */
  { "/rules/4/keyword/dnd-english", NULL,
    { APPT ("a", "Focus time (DND)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, NULL, "Focus time", AT (11, 0) },
  { "/rules/4/keyword/dnd-german", NULL,
    { APPT ("a", "Konzentration (Ruhe)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, NULL, "Konzentration", AT (11, 0) },
  { "/rules/4/keyword/no-dnd-english", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { APPT ("a", "Review (No DND)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_NONE, NULL, "Review", AT (11, 0) },
  { "/rules/4/keyword/no-dnd-german", "{\"actions\": {\"Busy\": \"dnd\"}}",
    { APPT ("a", "Durchsicht (Keine Ruhe)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_NONE, NULL, "Durchsicht", AT (11, 0) },
  { "/rules/4/keyword/call-forwarding-english", NULL,
    { APPT ("a", "Offsite (Call forwarding)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_FORWARD, NULL, "Offsite", AT (11, 0) },
  { "/rules/4/keyword/call-forwarding-german", NULL,
    { APPT ("a", "Klausur (Anrufe weiterleiten)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_FORWARD, NULL, "Klausur", AT (11, 0) },
  { "/rules/4/keyword/no-call-forwarding-english", NULL,
    { APPT ("a", "Desk work (No call forwarding)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_NONE, NULL, "Desk work", AT (11, 0) },
  { "/rules/4/keyword/no-call-forwarding-german", "{\"actions\": {\"Busy\": \"forward\"}}",
    { APPT ("a", "Schreibtisch (Keine Anrufe weiterleiten)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 },
    AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_NONE, NULL, "Schreibtisch", AT (11, 0) },
  { "/rules/4/keyword/no-action-english", NULL,
    { APPT ("a", "Gym (No action)", 9, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  { "/rules/4/keyword/no-action-german", NULL,
    { APPT ("a", "Sport (Keine Aktion)", 9, 0, 11, 0, BUSY),
      APPT ("b", "Planung", 10, 30, 11, 30, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, AT (10, 30) },
  /* 5. A meeting diverts only when organised or accepted. */
  { "/rules/5/meeting-accepted", NULL,
    { MEETING ("a", "Budget", 9, 0, 10, 0, BUSY, ACCEPTED) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Budget", AT (10, 0) },
  { "/rules/5/meeting-organizer", NULL,
    { MEETING ("a", "Budget", 9, 0, 10, 0, BUSY, ORGANIZER) }, { 0 }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Budget", AT (10, 0) },
  { "/rules/5/meeting-retimed-not-responded", NULL,
    { MEETING ("a", "Budget", 13, 0, 14, 0, BUSY, NOT_RESPONDED) }, { 0 }, FALSE, { 0 }, AT (13, 30),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  { "/rules/5/meeting-tentative-response", NULL,
    { MEETING ("a", "Budget", 13, 0, 14, 0, BUSY, TENTATIVE) }, { 0 }, FALSE, { 0 }, AT (13, 30),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  { "/rules/5/meeting-declined", NULL,
    { MEETING ("a", "Budget", 13, 0, 14, 0, BUSY, DECLINED) }, { 0 }, FALSE, { 0 }, AT (13, 30),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  { "/rules/5/meeting-declined-switch-off", "{\"only_accepted_meetings\": false}",
    { MEETING ("a", "Budget", 13, 0, 14, 0, BUSY, DECLINED) }, { 0 }, FALSE, { 0 }, AT (13, 30),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  { "/rules/5/switch-off-tentative-invitation-diverts", "{\"only_accepted_meetings\": false}",
    { MEETING ("a", "Budget", 13, 0, 14, 0, BUSY, TENTATIVE) }, { 0 }, FALSE, { 0 }, AT (13, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Budget", AT (14, 0) },
  /* 6. Automatic replies. */
  { "/rules/6/oof-enabled", NULL,
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) },
    { AGL_OOF_ENABLED, 0, 0, "I am away." }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_OUT_OF_OFFICE, AGL_PHONE_ACTION_DIVERT, "will return", "I am away.", 0 },
  { "/rules/6/oof-scheduled-inside", TRIGGER_RULES,
    { { NULL } },
    { AGL_OOF_SCHEDULED, AT (-24, 0), AT (48, 0), "On a day off; back on Wednesday." }, FALSE, { 0 },
    AT (9, 30),
    AGL_PRESENCE_OUT_OF_OFFICE, AGL_PHONE_ACTION_DIVERT, "vacation", "On a day off; back on Wednesday.",
    AT (48, 0) },
  { "/rules/6/oof-scheduled-outside", NULL,
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) },
    { AGL_OOF_SCHEDULED, AT (12, 0), AT (48, 0), "Away." }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Planning", AT (10, 0) },
  { "/rules/6/oof-scheduled-ended", NULL,
    { { NULL } },
    { AGL_OOF_SCHEDULED, AT (-48, 0), AT (9, 0), "Away." }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
  /* 7. Parallel appointments. */
  { "/rules/7/parallel-strongest-wins", NULL,
    { APPT ("a", "Workshop", 9, 0, 12, 0, TENTATIVE),
      APPT ("b", "Call with Bo", 10, 0, 11, 0, BUSY),
      APPT ("c", "Reading", 9, 0, 12, 0, FREE) }, { 0 }, FALSE, { 0 }, AT (10, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Call with Bo", AT (11, 0) },
  { "/rules/7/parallel-same-type-latest-start", NULL,
    { APPT ("a", "Workshop", 9, 0, 12, 0, BUSY),
      APPT ("b", "Call inside the workshop", 10, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 30),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Call inside the workshop", AT (11, 0) },
  { "/rules/7/parallel-joined-subjects", "{\"join_parallel_subjects\": true}",
    { APPT ("a", "Workshop", 9, 0, 12, 0, TENTATIVE),
      APPT ("b", "Call with Bo (DND)", 10, 0, 11, 0, BUSY),
      PRIVATE_APPT ("c", "Dentist", 10, 15, 10, 45, FREE) }, { 0 }, FALSE, { 0 }, AT (10, 30),
    AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, NULL, "Call with Bo, Workshop, Private appointment",
    AT (10, 45) },
  { "/rules/7/private", TRIGGER_RULES,
    { PRIVATE_APPT ("a", "Lunch with the lawyer", 12, 0, 13, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (12, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "lunch", "Private appointment", AT (13, 0) },
  /* 8. Occurrence by occurrence: a moved exception counts where it is now,
   * a deleted occurrence not at all; all-day is midnight to midnight in
   * the user's zone (Oslo: 23:00 UTC). */
  { "/rules/8/series-exception", NULL,
    { APPT ("standup", "Standup", -15, 0, -14, 45, BUSY),
      APPT ("standup", "Standup moved", 10, 0, 10, 15, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 5),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, AT (10, 0) },
  { "/rules/8/all-day", NULL,
    { APPT ("conf", "Conference", -1, 0, 23, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (-1, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Conference", AT (23, 0) },
  { "/rules/8/all-day-before", NULL,
    { APPT ("conf", "Conference", -1, 0, 23, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (-2, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, AT (-1, 0) },
  /* 9. The override holds until the next start or end, then the rules. */
  { "/rules/9/override-holds", NULL,
    { APPT ("a", "Planning", 10, 0, 11, 0, BUSY) }, { 0 },
    TRUE, { AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_DND, "Back soon", AT (9, 30), 0 }, AT (9, 45),
    AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_DND, NULL, "Back soon", AT (10, 0) },
  { "/rules/9/override-expired", NULL,
    { APPT ("a", "Planning", 10, 0, 11, 0, BUSY) }, { 0 },
    TRUE, { AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_DND, "Back soon", AT (9, 30), 0 }, AT (10, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Planning", AT (11, 0) },
  { "/rules/9/override-keep-action", TRIGGER_RULES,
    { APPT ("a", "Lunch", 11, 0, 12, 0, BUSY) }, { 0 },
    TRUE, { AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_KEEP, NULL, AT (11, 10), 0 }, AT (11, 15),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_DIVERT, "lunch", NULL, AT (12, 0) },
  { "/rules/9/override-divert-over-oof", TRIGGER_RULES,
    { APPT ("a", "Planning", 14, 0, 15, 0, BUSY) }, { AGL_OOF_ENABLED, 0, 0, "Away." },
    TRUE, { AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Meeting downstairs", AT (9, 0), 0 }, AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "meeting", "Meeting downstairs", AT (14, 0) },
  /* 10. until: back-to-back appointments showing the same status count
   * as one; the end of the OOF schedule; the start of a stronger one. */
  { "/rules/10/until-back-to-back", NULL,
    { APPT ("a", "Interviews", 9, 0, 10, 0, BUSY),
      APPT ("b", "Interviews", 10, 0, 11, 0, BUSY),
      APPT ("c", "Interviews", 11, 0, 12, 0, TENTATIVE) }, { 0 }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Interviews", AT (11, 0) },
  { "/rules/10/until-stronger-starts", NULL,
    { APPT ("a", "Workshop", 9, 0, 12, 0, TENTATIVE),
      APPT ("b", "Call", 10, 0, 11, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, "Workshop", AT (10, 0) },
  { "/rules/10/until-oof-schedule-end", NULL,
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) },
    { AGL_OOF_SCHEDULED, AT (8, 0), AT (13, 30), NULL }, FALSE, { 0 }, AT (9, 30),
    AGL_PRESENCE_OUT_OF_OFFICE, AGL_PHONE_ACTION_DIVERT, "will return", NULL, AT (13, 30) },
  /* Trigger words: the first in the text wins, whole words, any case. */
  { "/rules/trigger-word/leftmost-in-text-not-list", TRIGGER_RULES,
    { APPT ("a", "Meeting before lunch", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "meeting", "Meeting before lunch", AT (10, 0) },
  { "/rules/trigger-word/whole-word", TRIGGER_RULES,
    { APPT ("a", "Lunchroom meetings, then Brunch", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 },
    AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "will return", "Lunchroom meetings, then Brunch",
    AT (10, 0) },
  { "/rules/trigger-word/whole-word-later", TRIGGER_RULES,
    { APPT ("a", "Lunchroom tour, post-lunch nap", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 },
    AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "lunch", "Lunchroom tour, post-lunch nap", AT (10, 0) },
  { "/rules/trigger-word/any-case", TRIGGER_RULES,
    { APPT ("a", "Dienstliche REISE nach Bergen", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "travel", "Dienstliche REISE nach Bergen", AT (10, 0) },
  { "/rules/trigger-word/none-default-reason", "{\"default_reason\": \"back-later\"," \
    " \"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"lunch\"}]}",
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (9, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "back-later", "Planning", AT (10, 0) },
  { "/rules/trigger-word/only-for-divert", TRIGGER_RULES,
    { APPT ("a", "Lunch (Call forwarding)", 12, 0, 13, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (12, 0),
    AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_FORWARD, NULL, "Lunch", AT (13, 0) },
  /* Active means start <= now < end. */
  { "/rules/active/end-exclusive", NULL,
    { APPT ("a", "Planning", 9, 0, 10, 0, BUSY) }, { 0 }, FALSE, { 0 }, AT (10, 0),
    AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, NULL, 0 },
};

static guint
count_occurrences (const Case *c)
{
  guint n = 0;

  while (n < MAX_OCCURRENCES && c->occurrences[n].uid != NULL)
    n++;
  return n;
}

static AglRules *
load_rules (const char *json)
{
  g_autoptr(GError) error = NULL;
  AglRules *rules;

  if (json == NULL)
    return agl_rules_new_default ();
  rules = agl_rules_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rules);
  return rules;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(AglRules) rules = load_rules (c->rules);
  guint n = count_occurrences (c);
  AglRulesOverride override = c->override;
  g_autoptr(AglStatus) status = NULL;
  g_autofree char *json = NULL;

  if (c->has_override)
    override.expires = agl_rules_override_expiry (c->occurrences, n, override.set_at);

  status = agl_rules_evaluate (rules, c->occurrences, n, &c->oof,
                               c->has_override ? &override : NULL, c->now);
  json = agl_status_to_json (status, "work", status->at);
  g_test_message ("%s", json);

  g_assert_cmpint (status->at, ==, c->now);
  g_assert_cmpstr (agl_presence_to_string (status->presence), ==,
                   agl_presence_to_string (c->presence));
  g_assert_cmpstr (agl_phone_action_to_string (status->action), ==,
                   agl_phone_action_to_string (c->action));
  g_assert_cmpstr (status->reason, ==, c->reason);
  g_assert_cmpstr (status->text, ==, c->text);
  g_assert_cmpint (status->until, ==, c->until);
  g_assert_cmpuint (status->because->len, >, 0);
}

/* Rule 1's switch reaches the status. */
static void
test_forward_internal (void)
{
  g_autoptr(AglRules) rules = load_rules ("{\"forward_internal\": false}");
  g_autoptr(AglRules) defaults = agl_rules_new_default ();
  AglRulesOccurrence occurrence = APPT ("a", "Planning", 9, 0, 10, 0, BUSY);
  g_autoptr(AglStatus) status = agl_rules_evaluate (rules, &occurrence, 1, NULL, NULL, AT (9, 0));
  g_autoptr(AglStatus) default_status = agl_rules_evaluate (defaults, &occurrence, 1, NULL, NULL,
                                                            AT (9, 0));

  g_assert_false (status->forward_internal);
  g_assert_true (default_status->forward_internal);
}

/* The status JSON has the shape, with UTC times and an
 * explanation naming the appointment, its keyword and trigger word. */
static void
test_status_json (void)
{
  g_autoptr(AglRules) rules = load_rules (TRIGGER_RULES);
  AglRulesOccurrence occurrences[] = {
    APPT ("lunch@x", "Lunch with Anna (DND)", 11, 30, 12, 30, BUSY),
  };
  g_autoptr(AglStatus) status = NULL;
  g_autofree char *json = NULL;
  AglRulesOccurrence divert = APPT ("lunch@x", "Lunch with Anna", 11, 30, 14, 30, BUSY);
  g_autoptr(AglStatus) divert_status = NULL;
  g_autofree char *divert_json = NULL;

  status = agl_rules_evaluate (rules, occurrences, 1, NULL, NULL, AT (12, 0));
  json = agl_status_to_json (status, "work", status->at);
  g_assert_cmpstr (json, ==,
                   "{\"account\":\"work\",\"at\":\"2026-11-23T12:00:00Z\",\"presence\":\"dnd\","
                   "\"phone\":{\"action\":\"dnd\",\"forward_internal\":true,\"reason\":null},"
                   "\"text\":\"Lunch with Anna\",\"until\":\"2026-11-23T12:30:00Z\",\"because\":["
                   "{\"kind\":\"appointment\",\"uid\":\"lunch@x\",\"subject\":\"Lunch with Anna (DND)\","
                   "\"free_busy\":\"Busy\",\"detail\":null},"
                   "{\"kind\":\"keyword\",\"uid\":\"lunch@x\",\"subject\":\"Lunch with Anna (DND)\","
                   "\"free_busy\":\"Busy\",\"detail\":\"(DND) at the end of the subject: do not disturb on.\"},"
                   "{\"kind\":\"rule\",\"uid\":null,\"subject\":null,\"free_busy\":null,"
                   "\"detail\":\"The action for Busy appointments is divert (actions.Busy).\"},"
                   "{\"kind\":\"rule\",\"uid\":null,\"subject\":null,\"free_busy\":null,"
                   "\"detail\":\"Do not disturb makes the presence dnd.\"}]}");

  divert_status = agl_rules_evaluate (rules, &divert, 1, NULL, NULL, AT (12, 0));
  divert_json = agl_status_to_json (divert_status, NULL, AT (12, 0));
  g_assert_nonnull (strstr (divert_json, "\"account\":null"));
  g_assert_nonnull (strstr (divert_json, "\"phone\":{\"action\":\"divert\",\"forward_internal\":true,"
                                         "\"reason\":\"lunch\"}"));
  g_assert_nonnull (strstr (divert_json, "\"until\":\"2026-11-23T14:30:00Z\""));
  g_assert_nonnull (strstr (divert_json, "{\"kind\":\"trigger-word\",\"uid\":\"lunch@x\""));
}

/* A status that will never change has "until": null. */
static void
test_status_json_until_null (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  AglRulesOof oof = { AGL_OOF_ENABLED, 0, 0, "Away." };
  g_autoptr(AglStatus) status = agl_rules_evaluate (rules, NULL, 0, &oof, NULL, AT (9, 0));
  g_autofree char *json = agl_status_to_json (status, "work", AT (9, 0));

  g_assert_nonnull (strstr (json, "\"until\":null"));
  g_assert_nonnull (strstr (json, "\"presence\":\"out-of-office\""));
  g_assert_nonnull (strstr (json, "{\"kind\":\"oof\""));
}

/* A day with overlapping appointments: the schedule lists each change
 * once, and nothing where the status stays (12:00, Lunch goes on while
 * the workshop under it ends; 15:00 to 16:00, a declined invitation). */
static const AglRulesOccurrence day[] = {
  APPT ("standup", "Standup", 9, 0, 9, 15, BUSY),
  APPT ("workshop", "Workshop", 10, 0, 12, 0, TENTATIVE),
  APPT ("call", "Call with Bo", 10, 30, 11, 0, BUSY),
  APPT ("lunch", "Lunch", 11, 30, 12, 30, BUSY),
  APPT ("reading", "Reading", 14, 0, 15, 0, FREE),
  MEETING ("other", "Other team's review", 15, 0, 16, 0, BUSY, DECLINED),
};

static char *
describe_schedule (GPtrArray *schedule)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < schedule->len; i++)
    {
      const AglStatus *status = g_ptr_array_index (schedule, i);
      g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc (status->at);
      g_autoptr(GDateTime) until = g_date_time_new_from_unix_utc (status->until);
      g_autofree char *at_text = g_date_time_format (at, "%H:%M");
      g_autofree char *until_text = status->until != 0
        ? g_date_time_format (until, "%H:%M") : g_strdup ("-");

      g_string_append_printf (text, "%s %s %s %s %s until %s\n", at_text,
                              agl_presence_to_string (status->presence),
                              agl_phone_action_to_string (status->action),
                              status->reason != NULL ? status->reason : "-",
                              status->text != NULL ? status->text : "-", until_text);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_schedule_day (void)
{
  g_autoptr(AglRules) rules = load_rules (TRIGGER_RULES);
  g_autoptr(GPtrArray) schedule = agl_rules_schedule (rules, day, G_N_ELEMENTS (day), NULL, NULL,
                                                      AT (0, 0), AT (24, 0));
  g_autofree char *got = describe_schedule (schedule);

  g_assert_cmpstr (got, ==,
                   "00:00 available none - - until 09:00\n"
                   "09:00 busy divert will return Standup until 09:15\n"
                   "09:15 available none - - until 10:00\n"
                   "10:00 available none - Workshop until 10:30\n"
                   "10:30 busy divert will return Call with Bo until 11:00\n"
                   "11:00 available none - Workshop until 11:30\n"
                   "11:30 busy divert lunch Lunch until 12:30\n"
                   "12:30 available none - - until 14:00\n"
                   "14:00 available none - Reading until 15:00\n"
                   "15:00 available none - - until -\n");

  /* Each entry is what evaluate() says at its instant. */
  for (guint i = 0; i < schedule->len; i++)
    {
      const AglStatus *entry = g_ptr_array_index (schedule, i);
      g_autoptr(AglStatus) status = agl_rules_evaluate (rules, day, G_N_ELEMENTS (day), NULL, NULL,
                                                        entry->at);

      g_assert_true (agl_status_equal (entry, status));
    }
}

/* The range is [from, to); a range starting inside an appointment starts
 * with it; an override and an OOF schedule bring their own edges. */
static void
test_schedule_override_oof (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  AglRulesOof oof = { AGL_OOF_SCHEDULED, AT (17, 0), AT (33, 0), "Away until tomorrow." };
  AglRulesOverride override = { AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, NULL, AT (10, 40), 0 };
  g_autoptr(GPtrArray) schedule = NULL;
  g_autofree char *got = NULL;

  override.expires = agl_rules_override_expiry (day, G_N_ELEMENTS (day), override.set_at);
  g_assert_cmpint (override.expires, ==, AT (11, 0));

  schedule = agl_rules_schedule (rules, day, G_N_ELEMENTS (day), &oof, &override,
                                 AT (10, 35), AT (17, 0));
  got = describe_schedule (schedule);
  g_assert_cmpstr (got, ==,
                   "10:35 busy divert will return Call with Bo until 10:40\n"
                   "10:40 dnd dnd - - until 11:00\n"
                   "11:00 available none - Workshop until 11:30\n"
                   "11:30 busy divert will return Lunch until 12:30\n"
                   "12:30 available none - - until 14:00\n"
                   "14:00 available none - Reading until 15:00\n"
                   "15:00 available none - - until 17:00\n");

  g_clear_pointer (&schedule, g_ptr_array_unref);
  schedule = agl_rules_schedule (rules, day, G_N_ELEMENTS (day), &oof, NULL, AT (16, 0), AT (48, 0));
  g_clear_pointer (&got, g_free);
  got = describe_schedule (schedule);
  g_assert_cmpstr (got, ==,
                   "16:00 available none - - until 17:00\n"
                   "17:00 out-of-office divert will return Away until tomorrow. until 09:00\n"
                   "09:00 available none - - until -\n");
}

static void
test_next_boundary (void)
{
  AglRulesOof oof = { AGL_OOF_SCHEDULED, AT (17, 0), AT (33, 0), NULL };
  AglRulesOof enabled = { AGL_OOF_ENABLED, AT (18, 0), AT (19, 0), NULL };
  AglRulesOverride override = { AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_KEEP, NULL, AT (9, 5), AT (9, 15) };
  guint n = G_N_ELEMENTS (day);

  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, NULL, AT (0, 0)), ==, AT (9, 0));
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, NULL, AT (9, 0)), ==, AT (9, 15));
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, NULL, AT (10, 45)), ==, AT (11, 0));
  /* A declined invitation's edges count too: "could change". */
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, NULL, AT (15, 0)), ==, AT (16, 0));
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, NULL, AT (16, 0)), ==, 0);
  g_assert_cmpint (agl_rules_next_boundary (day, n, &oof, NULL, AT (16, 0)), ==, AT (17, 0));
  g_assert_cmpint (agl_rules_next_boundary (day, n, &oof, NULL, AT (17, 0)), ==, AT (33, 0));
  g_assert_cmpint (agl_rules_next_boundary (day, n, &oof, NULL, AT (33, 0)), ==, 0);
  /* Enabled replies have no edges: their times are not a schedule. */
  g_assert_cmpint (agl_rules_next_boundary (day, n, &enabled, NULL, AT (16, 0)), ==, 0);
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, &override, AT (9, 0)), ==, AT (9, 5));
  g_assert_cmpint (agl_rules_next_boundary (day, n, NULL, &override, AT (9, 5)), ==, AT (9, 15));
  g_assert_cmpint (agl_rules_next_boundary (NULL, 0, NULL, NULL, AT (0, 0)), ==, 0);
}

static void
test_override_expiry (void)
{
  guint n = G_N_ELEMENTS (day);

  g_assert_cmpint (agl_rules_override_expiry (day, n, AT (8, 0)), ==, AT (9, 0));
  g_assert_cmpint (agl_rules_override_expiry (day, n, AT (9, 0)), ==, AT (9, 15));
  g_assert_cmpint (agl_rules_override_expiry (day, n, AT (10, 40)), ==, AT (11, 0));
  g_assert_cmpint (agl_rules_override_expiry (day, n, AT (16, 0)), ==, 0);
}

/* An override with no expiry holds until cleared. */
static void
test_override_no_expiry (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  AglRulesOverride override = { AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_NONE, "Gone fishing",
                                AT (16, 0), 0 };
  g_autoptr(AglStatus) status = NULL;

  override.expires = agl_rules_override_expiry (day, G_N_ELEMENTS (day), override.set_at);
  status = agl_rules_evaluate (rules, day, G_N_ELEMENTS (day), NULL, &override, AT (40, 0));
  g_assert_cmpint (status->presence, ==, AGL_PRESENCE_AWAY);
  g_assert_cmpstr (status->text, ==, "Gone fishing");
  g_assert_cmpint (status->until, ==, 0);
}

static void
test_rules_defaults (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();

  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_FREE], ==, AGL_PHONE_ACTION_NONE);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_TENTATIVE], ==, AGL_PHONE_ACTION_NONE);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_WORKING_ELSEWHERE], ==, AGL_PHONE_ACTION_NONE);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_BUSY], ==, AGL_PHONE_ACTION_DIVERT);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_OOF], ==, AGL_PHONE_ACTION_DIVERT);
  g_assert_true (rules->forward_internal);
  g_assert_cmpuint (rules->trigger_words->len, ==, 0);
  g_assert_cmpstr (rules->default_reason, ==, "will return");
  g_assert_true (rules->only_accepted_meetings);
  g_assert_false (rules->join_parallel_subjects);
  g_assert_cmpuint (json_object_get_size (rules->publishers), ==, 0);
}

static void
test_rules_json_round_trip (void)
{
  const char *json =
    "{\"actions\": {\"Free\": \"none\", \"Tentative\": \"dnd\", \"Busy\": \"forward\","
    " \"OOF\": \"divert\", \"WorkingElsewhere\": \"divert\"},"
    " \"forward_internal\": false,"
    " \"trigger_words\": [{\"word\": \"Lunch\", \"reason\": \"lunch\"},"
    "   {\"word\": \"Mittagspause\", \"reason\": \"lunch\"}, {\"word\": \"sick leave\", \"reason\": \"ill\"}],"
    " \"default_reason\": \"back soon\","
    " \"only_accepted_meetings\": false,"
    " \"join_parallel_subjects\": true,"
    " \"publishers\": {\"webhook\": {\"url\": \"https://example.com/hook\", \"retries\": [1, 2, 4]},"
    "   \"sip\": {\"enabled\": false}}}";
  g_autoptr(GError) error = NULL;
  g_autoptr(AglRules) rules = agl_rules_from_json (json, &error);
  g_autoptr(AglRules) again = NULL;
  g_autoptr(AglRules) copy = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  g_autofree char *text_copy = NULL;
  g_autofree char *defaults_text = NULL;
  g_autoptr(AglRules) defaults = agl_rules_new_default ();
  g_autoptr(AglRules) defaults_again = NULL;
  g_autofree char *defaults_text_again = NULL;
  const AglTriggerWord *word;
  JsonObject *webhook;

  g_assert_no_error (error);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_TENTATIVE], ==, AGL_PHONE_ACTION_DND);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_BUSY], ==, AGL_PHONE_ACTION_FORWARD);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_WORKING_ELSEWHERE], ==, AGL_PHONE_ACTION_DIVERT);
  g_assert_false (rules->forward_internal);
  g_assert_cmpuint (rules->trigger_words->len, ==, 3);
  word = g_ptr_array_index (rules->trigger_words, 2);
  g_assert_cmpstr (word->word, ==, "sick leave");
  g_assert_cmpstr (word->reason, ==, "ill");
  g_assert_cmpstr (rules->default_reason, ==, "back soon");
  g_assert_false (rules->only_accepted_meetings);
  g_assert_true (rules->join_parallel_subjects);
  webhook = json_object_get_object_member (rules->publishers, "webhook");
  g_assert_cmpstr (json_object_get_string_member (webhook, "url"), ==, "https://example.com/hook");

  text = agl_rules_to_json (rules);
  again = agl_rules_from_json (text, &error);
  g_assert_no_error (error);
  text_again = agl_rules_to_json (again);
  g_assert_cmpstr (text, ==, text_again);
  g_assert_nonnull (strstr (text, "\"retries\" : [\n"));

  copy = agl_rules_copy (rules);
  json_object_set_string_member (json_object_get_object_member (rules->publishers, "webhook"), "url",
                                 "https://changed.example.com/");
  g_clear_pointer (&rules, agl_rules_free);
  text_copy = agl_rules_to_json (copy);
  g_assert_cmpstr (text_copy, ==, text_again);

  defaults_text = agl_rules_to_json (defaults);
  defaults_again = agl_rules_from_json (defaults_text, &error);
  g_assert_no_error (error);
  defaults_text_again = agl_rules_to_json (defaults_again);
  g_assert_cmpstr (defaults_text, ==, defaults_text_again);
}

/* Settings left out keep their defaults. */
static void
test_rules_json_partial (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglRules) rules = agl_rules_from_json ("{\"actions\": {\"Free\": \"dnd\"}}", &error);

  g_assert_no_error (error);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_FREE], ==, AGL_PHONE_ACTION_DND);
  g_assert_cmpint (rules->actions[AGL_FREE_BUSY_BUSY], ==, AGL_PHONE_ACTION_DIVERT);
  g_assert_cmpstr (rules->default_reason, ==, "will return");
}

typedef struct {
  const char *path;
  const char *json;
  const char *named;   /* what the message must name */
} BadJson;

static const BadJson bad_json[] = {
  { "/rules/json/bad/unknown-key", "{\"actions\": {}, \"colour\": \"blue\"}", "“colour”" },
  { "/rules/json/bad/wrong-type-boolean", "{\"forward_internal\": \"yes\"}", "“forward_internal”" },
  { "/rules/json/bad/wrong-type-string", "{\"default_reason\": 3}", "“default_reason”" },
  { "/rules/json/bad/empty-default-reason", "{\"default_reason\": \"\"}", "“default_reason”" },
  { "/rules/json/bad/wrong-type-object", "{\"actions\": [\"divert\"]}", "“actions”" },
  { "/rules/json/bad/action", "{\"actions\": {\"Busy\": \"jump\"}}", "“actions.Busy”: “jump”" },
  { "/rules/json/bad/action-keep", "{\"actions\": {\"Busy\": \"keep\"}}", "“actions.Busy”" },
  { "/rules/json/bad/action-type", "{\"actions\": {\"Busy\": true}}", "“actions.Busy”" },
  { "/rules/json/bad/free-busy-type", "{\"actions\": {\"busy\": \"none\"}}", "“actions.busy”" },
  { "/rules/json/bad/trigger-words-not-list", "{\"trigger_words\": {\"lunch\": \"lunch\"}}",
    "“trigger_words”" },
  { "/rules/json/bad/trigger-word-not-object", "{\"trigger_words\": [\"lunch\"]}",
    "“trigger_words[0]”" },
  { "/rules/json/bad/trigger-word-missing-reason",
    "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"lunch\"}, {\"word\": \"trip\"}]}",
    "“trigger_words[1].reason”" },
  { "/rules/json/bad/trigger-word-unknown-key",
    "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"lunch\", \"weight\": 2}]}",
    "“trigger_words[0].weight”" },
  { "/rules/json/bad/trigger-word-not-a-word",
    "{\"trigger_words\": [{\"word\": \" lunch\", \"reason\": \"lunch\"}]}",
    "“trigger_words[0].word”" },
  { "/rules/json/bad/trigger-word-twice",
    "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": \"a\"}, {\"word\": \"LUNCH\", \"reason\": \"b\"}]}",
    "“trigger_words[1].word”" },
  { "/rules/json/bad/trigger-word-reason-type",
    "{\"trigger_words\": [{\"word\": \"lunch\", \"reason\": null}]}",
    "“trigger_words[0].reason”" },
  { "/rules/json/bad/publishers-not-object", "{\"publishers\": [1]}", "“publishers”" },
  { "/rules/json/bad/not-an-object", "[{\"actions\": {}}]", "JSON object" },
  { "/rules/json/bad/not-json", "{\"actions\": ", "not JSON" },
};

static void
test_bad_json (gconstpointer data)
{
  const BadJson *bad = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(AglRules) rules = agl_rules_from_json (bad->json, &error);

  g_assert_null (rules);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  if (strstr (error->message, bad->named) == NULL)
    g_error ("“%s” does not name %s", error->message, bad->named);
}

static void
test_add_trigger_word (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_rules_add_trigger_word (rules, "lunch", "lunch", &error));
  g_assert_no_error (error);
  g_assert_false (agl_rules_add_trigger_word (rules, "lunch!", "lunch", &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“trigger_words[1].word”"));
  g_clear_error (&error);
  g_assert_false (agl_rules_add_trigger_word (rules, "trip", "", &error));
  g_assert_nonnull (strstr (error->message, "“trigger_words[1].reason”"));
  g_assert_cmpuint (rules->trigger_words->len, ==, 1);
}

/* Equality for change detection ignores at and the explanation. */
static void
test_status_equal (void)
{
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  AglRulesOccurrence series[] = {
    APPT ("one", "Interviews", 9, 0, 10, 0, BUSY),
    APPT ("two", "Interviews", 10, 0, 11, 0, BUSY),
    APPT ("three", "Interviews", 11, 0, 11, 30, BUSY),
  };
  g_autoptr(AglStatus) a = agl_rules_evaluate (rules, series, 2, NULL, NULL, AT (9, 30));
  g_autoptr(AglStatus) b = agl_rules_evaluate (rules, series, 2, NULL, NULL, AT (10, 30));
  g_autoptr(AglStatus) c = agl_rules_evaluate (rules, series, 3, NULL, NULL, AT (10, 30));

  g_assert_true (agl_status_equal (a, b));
  /* A third interview moves until. */
  g_assert_false (agl_status_equal (b, c));
  g_assert_cmpint (c->until, ==, AT (11, 30));
}

/* The engine reads no clock: the same arguments give the same status. */
static void
test_pure (void)
{
  g_autoptr(AglRules) rules = load_rules (TRIGGER_RULES);
  g_autoptr(AglStatus) a = agl_rules_evaluate (rules, day, G_N_ELEMENTS (day), NULL, NULL, AT (11, 45));
  g_autoptr(AglStatus) b = agl_rules_evaluate (rules, day, G_N_ELEMENTS (day), NULL, NULL, AT (11, 45));
  g_autofree char *json_a = agl_status_to_json (a, "work", a->at);
  g_autofree char *json_b = agl_status_to_json (b, "work", b->at);

  g_assert_cmpstr (json_a, ==, json_b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], test_case);
  for (guint i = 0; i < G_N_ELEMENTS (bad_json); i++)
    g_test_add_data_func (bad_json[i].path, &bad_json[i], test_bad_json);

  g_test_add_func ("/rules/1/forward-internal", test_forward_internal);
  g_test_add_func ("/rules/status/json", test_status_json);
  g_test_add_func ("/rules/status/json-until-null", test_status_json_until_null);
  g_test_add_func ("/rules/status/equal", test_status_equal);
  g_test_add_func ("/rules/status/pure", test_pure);
  g_test_add_func ("/rules/schedule/day", test_schedule_day);
  g_test_add_func ("/rules/schedule/override-and-oof", test_schedule_override_oof);
  g_test_add_func ("/rules/next-boundary", test_next_boundary);
  g_test_add_func ("/rules/override/expiry", test_override_expiry);
  g_test_add_func ("/rules/override/no-expiry", test_override_no_expiry);
  g_test_add_func ("/rules/json/defaults", test_rules_defaults);
  g_test_add_func ("/rules/json/round-trip", test_rules_json_round_trip);
  g_test_add_func ("/rules/json/partial", test_rules_json_partial);
  g_test_add_func ("/rules/json/add-trigger-word", test_add_trigger_word);

  return g_test_run ();
}
