/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The presence and call-diversion rules: a pure function of (rules,
 * occurrences, OOF settings, override, time) -> status.  Nothing here
 * reads the clock; every instant is passed in as Unix seconds (UTC).
 */

/**
 * AglFreeBusy:
 *
 * The free/busy type of an appointment, as Exchange's LegacyFreeBusyStatus.
 * The order of the values is not the order of strength; see
 * agl_free_busy_strength().
 */
typedef enum {
  AGL_FREE_BUSY_FREE,
  AGL_FREE_BUSY_TENTATIVE,
  AGL_FREE_BUSY_BUSY,
  AGL_FREE_BUSY_OOF,
  AGL_FREE_BUSY_WORKING_ELSEWHERE,
} AglFreeBusy;

#define AGL_FREE_BUSY_N (AGL_FREE_BUSY_WORKING_ELSEWHERE + 1)

/**
 * AglPhoneAction:
 * @AGL_PHONE_ACTION_NONE: the phone rings as usual
 * @AGL_PHONE_ACTION_DND: do not disturb
 * @AGL_PHONE_ACTION_FORWARD: always-forwarding to the user's preset target
 * @AGL_PHONE_ACTION_DIVERT: diversion ("hänvisning"): callers are told the
 *   reason and until when
 * @AGL_PHONE_ACTION_KEEP: only in an #AglRulesOverride: the action the
 *   calendar rules give
 */
typedef enum {
  AGL_PHONE_ACTION_NONE,
  AGL_PHONE_ACTION_DND,
  AGL_PHONE_ACTION_FORWARD,
  AGL_PHONE_ACTION_DIVERT,
  AGL_PHONE_ACTION_KEEP,
} AglPhoneAction;

/**
 * AglResponse:
 *
 * The user's response to a meeting (Exchange's MyResponseType).  A
 * retimed meeting comes back as @AGL_RESPONSE_NOT_RESPONDED.
 */
typedef enum {
  AGL_RESPONSE_UNKNOWN,
  AGL_RESPONSE_ORGANIZER,
  AGL_RESPONSE_ACCEPTED,
  AGL_RESPONSE_TENTATIVE,
  AGL_RESPONSE_DECLINED,
  AGL_RESPONSE_NOT_RESPONDED,
} AglResponse;

typedef enum {
  AGL_PRESENCE_AVAILABLE,
  AGL_PRESENCE_BUSY,
  AGL_PRESENCE_DND,
  AGL_PRESENCE_AWAY,
  AGL_PRESENCE_OUT_OF_OFFICE,
} AglPresence;

typedef enum {
  AGL_OOF_DISABLED,
  AGL_OOF_ENABLED,
  AGL_OOF_SCHEDULED,
} AglOofState;

/**
 * AglBecauseKind:
 *
 * What one line of a status's explanation is about.
 */
typedef enum {
  AGL_BECAUSE_APPOINTMENT,
  AGL_BECAUSE_KEYWORD,
  AGL_BECAUSE_TRIGGER_WORD,
  AGL_BECAUSE_OOF,
  AGL_BECAUSE_OVERRIDE,
  AGL_BECAUSE_RULE,
} AglBecauseKind;

/* The names used in JSON and on the command line ("Busy", "divert",
 * "out-of-office", …); data, never translated. */
const char *agl_free_busy_to_string    (AglFreeBusy     free_busy);
gboolean    agl_free_busy_from_string  (const char     *text,
                                        AglFreeBusy    *free_busy);
const char *agl_phone_action_to_string (AglPhoneAction  action);
gboolean    agl_phone_action_from_string (const char   *text,
                                          AglPhoneAction *action);
const char *agl_presence_to_string     (AglPresence     presence);
gboolean    agl_presence_from_string   (const char     *text,
                                        AglPresence    *presence);
const char *agl_because_kind_to_string (AglBecauseKind  kind);
guint       agl_free_busy_strength     (AglFreeBusy     free_busy);

/**
 * AglTriggerWord:
 * @word: a word (or words) looked for in the subject, whole, in any case
 * @reason: the diversion reason code it gives, as the phone system knows it
 */
typedef struct {
  char *word;
  char *reason;
} AglTriggerWord;

/**
 * AglRules:
 * @actions: the phone action per free/busy type of the governing
 *   appointment (never %AGL_PHONE_ACTION_KEEP)
 * @forward_internal: forwarding and diversion apply to internal calls too
 * @trigger_words: (element-type AglTriggerWord): in the order given
 * @default_reason: the reason of a diversion when no trigger word matches
 * @only_accepted_meetings: a meeting counts only when the user organises
 *   it or has accepted it
 * @join_parallel_subjects: the status text is every active subject
 *   joined, not only the governing one
 * @publishers: the publishers' settings, kept as given; never %NULL
 *
 * The rules of one account.  agl_rules_new_default() gives a demanding
 * user's defaults:
 *
 * - Free, Tentative, WorkingElsewhere: none.  Free time is free; a
 *   tentative appointment is not a commitment; someone working elsewhere
 *   still takes calls on the same number.
 * - Busy: divert.  The user is in a meeting: callers hear why and until
 *   when ("in a meeting, back at 14:30") instead of ringing out, and are
 *   not dropped without a word as do-not-disturb would.
 * - OOF: divert.  Callers hear that the user is away and when they are
 *   back, which forwarding cannot tell them.
 * - forward_internal: %TRUE.  An action the user chose holds for every
 *   caller; letting colleagues through is the exception one switches on.
 * - trigger_words: none.  Reason codes belong to the phone system (each
 *   has its own list), so words are only useful once the user names codes
 *   their system knows; an unknown code would break the greeting.
 * - default_reason: "will return".
 * - only_accepted_meetings: %TRUE (the rule of the issue: an invitation
 *   the user has not accepted does not divert their phone).
 * - join_parallel_subjects: %FALSE (one subject reads better in a
 *   greeting).
 * - publishers: an empty object.
 */
typedef struct {
  AglPhoneAction  actions[AGL_FREE_BUSY_N];
  gboolean        forward_internal;
  GPtrArray      *trigger_words;
  char           *default_reason;
  gboolean        only_accepted_meetings;
  gboolean        join_parallel_subjects;
  JsonObject     *publishers;
} AglRules;

#define AGL_RULES_DEFAULT_REASON "will return"

AglRules *agl_rules_new_default (void);
AglRules *agl_rules_copy        (const AglRules *rules);
void      agl_rules_free        (AglRules       *rules);
AglRules *agl_rules_from_json   (const char     *json,
                                 GError        **error);
char     *agl_rules_to_json     (const AglRules *rules);
gboolean  agl_rules_add_trigger_word (AglRules   *rules,
                                      const char *word,
                                      const char *reason,
                                      GError    **error);

/**
 * AglRulesOccurrence:
 * @uid: the appointment's UID
 * @subject: its subject (%NULL or "" for none)
 * @start: Unix time
 * @end: Unix time, exclusive.  The caller gives an all-day occurrence
 *   as the local midnights it runs between.
 * @free_busy: its free/busy type
 * @is_private: CLASS is PRIVATE or CONFIDENTIAL
 * @is_meeting: it has attendees (an invitation or one the user organises)
 * @response: the user's response, for a meeting
 *
 * One occurrence.  A series counts occurrence by occurrence: the caller
 * passes each one (exceptions as changed, deleted ones left out).
 */
typedef struct {
  const char  *uid;
  const char  *subject;
  gint64       start;
  gint64       end;
  AglFreeBusy  free_busy;
  gboolean     is_private;
  gboolean     is_meeting;
  AglResponse  response;
} AglRulesOccurrence;

/**
 * AglRulesOof:
 * @state: the mailbox's automatic replies
 * @start: for %AGL_OOF_SCHEDULED, the schedule's start (Unix time)
 * @end: for %AGL_OOF_SCHEDULED, its end (exclusive)
 * @internal_reply: the reply to internal senders as plain text, or %NULL
 */
typedef struct {
  AglOofState  state;
  gint64       start;
  gint64       end;
  const char  *internal_reply;
} AglRulesOof;

/**
 * AglRulesOverride:
 * @presence: the presence the user set
 * @action: the phone action, or %AGL_PHONE_ACTION_KEEP for the one the
 *   calendar rules give
 * @text: the status text, or %NULL for none
 * @set_at: when the user set it
 * @expires: agl_rules_override_expiry() of @set_at, 0 for never (no
 *   appointment starts or ends after @set_at)
 *
 * A manual override: it holds from @set_at until @expires.
 */
typedef struct {
  AglPresence     presence;
  AglPhoneAction  action;
  const char     *text;
  gint64          set_at;
  gint64          expires;
} AglRulesOverride;

gint64 agl_rules_override_expiry (const AglRulesOccurrence *occurrences,
                                  guint                     n_occurrences,
                                  gint64                    set_at);

/**
 * AglStatusBecause:
 * @kind: what the line is about
 * @uid: the appointment's UID, or %NULL
 * @subject: the appointment's subject as given ("Private appointment" for
 *   a private one), or %NULL
 * @free_busy: the appointment's free/busy type, or -1
 * @detail: a sentence for the user, translated, or %NULL
 */
typedef struct {
  AglBecauseKind  kind;
  char           *uid;
  char           *subject;
  int             free_busy;
  char           *detail;
} AglStatusBecause;

/**
 * AglStatus:
 * @at: the instant it was worked out for
 * @presence: the presence
 * @action: the phone action (never %AGL_PHONE_ACTION_KEEP)
 * @forward_internal: the rules' switch
 * @reason: the diversion reason code when @action is divert, else %NULL
 * @text: the status text, or %NULL
 * @until: when the status is next expected to change, 0 for not at all
 * @because: (element-type AglStatusBecause): what produced it
 *
 * @until is the first later instant at which presence, action,
 * forward_internal, reason or text would be different, from what the
 * calendar, the OOF settings and the override say now: the end of the
 * governing appointment, the start of a stronger one, the end of the OOF
 * schedule or the override's expiry, whichever comes first and really
 * changes something.  Back-to-back appointments that show the same status
 * count as one, so a greeting says when the user is really back.
 */
typedef struct {
  gint64          at;
  AglPresence     presence;
  AglPhoneAction  action;
  gboolean        forward_internal;
  char           *reason;
  char           *text;
  gint64          until;
  GPtrArray      *because;
} AglStatus;

void      agl_status_free    (AglStatus       *status);
gboolean  agl_status_equal   (const AglStatus *a,
                              const AglStatus *b);
char     *agl_status_to_json (const AglStatus *status,
                              const char      *account,
                              gint64           at);
JsonNode *agl_status_to_json_node (const AglStatus *status,
                                   const char      *account,
                                   gint64           at);

AglStatus *agl_rules_evaluate      (const AglRules           *rules,
                                    const AglRulesOccurrence *occurrences,
                                    guint                     n_occurrences,
                                    const AglRulesOof        *oof,
                                    const AglRulesOverride   *override,
                                    gint64                    now);
gint64     agl_rules_next_boundary (const AglRulesOccurrence *occurrences,
                                    guint                     n_occurrences,
                                    const AglRulesOof        *oof,
                                    const AglRulesOverride   *override,
                                    gint64                    after);
GPtrArray *agl_rules_schedule      (const AglRules           *rules,
                                    const AglRulesOccurrence *occurrences,
                                    guint                     n_occurrences,
                                    const AglRulesOof        *oof,
                                    const AglRulesOverride   *override,
                                    gint64                    from,
                                    gint64                    to);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRules, agl_rules_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglStatus, agl_status_free)

G_END_DECLS
