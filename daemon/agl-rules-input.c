/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <libical/ical.h>

#include "agl-event.h"
#include "agl-item.h"
#include "agl-occurrences.h"
#include "agl-rules-input.h"

/*
 * What the presence rules see of an account's stored appointments: every
 * occurrence (Issue 5 rule 8: a series counts occurrence by occurrence,
 * exceptions as changed, deleted occurrences and STATUS:CANCELLED ones
 * left out, as agl-occurrences.c expands them), each with the properties
 * of its own VEVENT, read as the EWS mapping (ews/agl-ews-calendar-item.c)
 * writes them:
 *
 *   free_busy   X-MICROSOFT-CDO-BUSYSTATUS (FREE, TENTATIVE, BUSY, OOF,
 *               WORKINGELSEWHERE).  Without one (or with NODATA), TRANSP
 *               as [MS-OXCICAL] reads it into PidLidBusyStatus, which is
 *               what Outlook does on import: TRANSPARENT is Free, OPAQUE or
 *               no TRANSP is Busy.
 *   is_private  CLASS PRIVATE or CONFIDENTIAL (X-PERSONAL is not: Exchange
 *               shows a personal appointment's details to delegates).
 *   is_meeting  an ATTENDEE other than the ORGANIZER, or a
 *               X-AGL-EWS-MYRESPONSETYPE only an invitee has (Accept,
 *               Tentative, Decline, NoResponseReceived).  EWS's IsMeeting
 *               is not stored; the attendee list is how the mapping keeps
 *               it.  An ORGANIZER alone, or with only themselves as
 *               ATTENDEE (as some clients write a private appointment), is
 *               nobody else to meet.
 *   response    X-AGL-EWS-MYRESPONSETYPE (Organizer, Accept, Tentative,
 *               Decline, NoResponseReceived, Unknown), which Exchange's
 *               items carry; without one (an invitation made or imported
 *               here), the user organises what is not a meeting, and a
 *               meeting is the user's own when the ORGANIZER is the user's
 *               address, else the PARTSTAT of the user's ATTENDEE
 *               (ACCEPTED, TENTATIVE, DECLINED, NEEDS-ACTION: a retimed
 *               meeting is sent out again with NEEDS-ACTION, RFC 5546),
 *               else unknown.
 *
 * An exception's own property wins; one it lacks is the master's, as
 * agl-occurrences.c does for SUMMARY, TRANSP and the busy status.  For
 * the participants the exception's list counts when it has an ORGANIZER
 * or an ATTENDEE at all, since an attendee list is one property to the
 * user, not one per line.
 *
 * All-day occurrences run from midnight to midnight in the user's zone,
 * not in the process's zone that agl-occurrences.c reads dates in: the
 * user's day off is theirs wherever the daemon runs.
 */

#define BUSY_STATUS_PROPERTY "X-MICROSOFT-CDO-BUSYSTATUS"
#define MY_RESPONSE_PROPERTY "X-AGL-EWS-MYRESPONSETYPE"

/* More than any zone's offset from any other (UTC-12 to UTC+14) and a
 * DST change: an all-day occurrence that the process's zone puts outside
 * the range may overlap it in the user's. */
#define ALL_DAY_MARGIN ((gint64) 2 * 86400)

/* The public struct first, so that the list's elements are the
 * AglRulesOccurrence pointers the caller reads; @uid and @subject of it
 * point at the copies below. */
typedef struct
{
  AglRulesOccurrence  occurrence;
  char               *uid;
  char               *subject;
} OwnedOccurrence;

typedef struct
{
  const char  *name;
  AglFreeBusy  free_busy;
} BusyName;

static const BusyName busy_names[] = {
  { "FREE", AGL_FREE_BUSY_FREE },
  { "TENTATIVE", AGL_FREE_BUSY_TENTATIVE },
  { "BUSY", AGL_FREE_BUSY_BUSY },
  { "OOF", AGL_FREE_BUSY_OOF },
  { "WORKINGELSEWHERE", AGL_FREE_BUSY_WORKING_ELSEWHERE },
};

typedef struct
{
  const char  *name;
  AglResponse  response;
  gboolean     invitee;   /* only an invitation has it */
} ResponseName;

static const ResponseName response_names[] = {
  { "Organizer", AGL_RESPONSE_ORGANIZER, FALSE },
  { "Accept", AGL_RESPONSE_ACCEPTED, TRUE },
  { "Tentative", AGL_RESPONSE_TENTATIVE, TRUE },
  { "Decline", AGL_RESPONSE_DECLINED, TRUE },
  { "NoResponseReceived", AGL_RESPONSE_NOT_RESPONDED, TRUE },
  { "Unknown", AGL_RESPONSE_UNKNOWN, FALSE },
};

static AglFreeBusy
read_free_busy (const AglOccurrence *occurrence)
{
  for (gsize i = 0; i < G_N_ELEMENTS (busy_names); i++)
    if (g_strcmp0 (occurrence->busy_status, busy_names[i].name) == 0)
      return busy_names[i].free_busy;
  return g_strcmp0 (occurrence->transp, "TRANSPARENT") == 0 ? AGL_FREE_BUSY_FREE
                                                           : AGL_FREE_BUSY_BUSY;
}

/* The VEVENT an occurrence comes from: the exception with its
 * RECURRENCE-ID, else the RANGE=THISANDFUTURE exception that governs it
 * (the last one at or before it), else the master. */
static guint
find_vevent (AglEventTree        *tree,
             const AglOccurrence *occurrence)
{
  guint n_vevents = agl_event_tree_get_n_vevents (tree);
  guint governing = 0;
  gint64 governing_id = G_MININT64;

  if (!occurrence->exception)
    return 0;

  for (guint i = 1; i < n_vevents; i++)
    {
      icalcomponent *vevent = agl_event_tree_get_vevent (tree, i);
      icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY);
      icalparameter *range;
      struct icaltimetype time;
      gint64 id;

      if (prop == NULL)
        continue;
      time = agl_event_tree_attach_zone (tree, prop, icalproperty_get_recurrenceid (prop));
      if (!agl_event_time_to_unix (time, &id))
        continue;
      if (id == occurrence->recurrence_id)
        return i;
      range = icalproperty_get_first_parameter (prop, ICAL_RANGE_PARAMETER);
      if (range != NULL && icalparameter_get_range (range) == ICAL_RANGE_THISANDFUTURE &&
          id <= occurrence->recurrence_id && id > governing_id)
        {
          governing = i;
          governing_id = id;
        }
    }
  return governing;
}

static gboolean
read_private (icalcomponent *vevent,
              gboolean      *out_private)
{
  icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_CLASS_PROPERTY);
  icalproperty_class class;

  if (prop == NULL)
    return FALSE;
  class = icalproperty_get_class (prop);
  *out_private = class == ICAL_CLASS_PRIVATE || class == ICAL_CLASS_CONFIDENTIAL;
  return TRUE;
}

static gboolean
has_participants (icalcomponent *vevent)
{
  return icalcomponent_get_first_property (vevent, ICAL_ORGANIZER_PROPERTY) != NULL ||
         icalcomponent_get_first_property (vevent, ICAL_ATTENDEE_PROPERTY) != NULL;
}

/* A calendar address without its "mailto:", for comparing the ORGANIZER
 * with an ATTENDEE. */
static const char *
skip_mailto (const char *address)
{
  if (address == NULL)
    return "";
  if (g_ascii_strncasecmp (address, "mailto:", 7) == 0)
    return address + 7;
  return address;
}

static gboolean
has_other_attendee (icalcomponent *vevent)
{
  icalproperty *organizer = icalcomponent_get_first_property (vevent, ICAL_ORGANIZER_PROPERTY);
  g_autofree char *organizer_address = NULL;
  gboolean found = FALSE;

  if (organizer != NULL)
    organizer_address = g_strdup (skip_mailto (icalproperty_get_organizer (organizer)));

  for (icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_ATTENDEE_PROPERTY);
       prop != NULL && !found;
       prop = icalcomponent_get_next_property (vevent, ICAL_ATTENDEE_PROPERTY))
    {
      const char *address = skip_mailto (icalproperty_get_attendee (prop));

      found = organizer_address == NULL || g_ascii_strcasecmp (address, organizer_address) != 0;
    }
  return found;
}

/* The user's response to a meeting from its participants, for an item
 * without Exchange's response: the organiser, or the PARTSTAT of the
 * user's ATTENDEE. */
static AglResponse
response_from_participants (icalcomponent *vevent,
                            const char    *user_address)
{
  icalproperty *organizer;

  if (user_address == NULL || *user_address == '\0')
    return AGL_RESPONSE_UNKNOWN;
  organizer = icalcomponent_get_first_property (vevent, ICAL_ORGANIZER_PROPERTY);
  if (organizer != NULL &&
      g_ascii_strcasecmp (skip_mailto (icalproperty_get_organizer (organizer)), user_address) == 0)
    return AGL_RESPONSE_ORGANIZER;

  for (icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_ATTENDEE_PROPERTY);
       prop != NULL;
       prop = icalcomponent_get_next_property (vevent, ICAL_ATTENDEE_PROPERTY))
    {
      icalparameter *partstat;

      if (g_ascii_strcasecmp (skip_mailto (icalproperty_get_attendee (prop)), user_address) != 0)
        continue;
      partstat = icalproperty_get_first_parameter (prop, ICAL_PARTSTAT_PARAMETER);
      switch (partstat != NULL ? icalparameter_get_partstat (partstat) : ICAL_PARTSTAT_NEEDSACTION)
        {
        case ICAL_PARTSTAT_ACCEPTED:
          return AGL_RESPONSE_ACCEPTED;
        case ICAL_PARTSTAT_TENTATIVE:
          return AGL_RESPONSE_TENTATIVE;
        case ICAL_PARTSTAT_DECLINED:
          return AGL_RESPONSE_DECLINED;
        case ICAL_PARTSTAT_NEEDSACTION:
          return AGL_RESPONSE_NOT_RESPONDED;
        default:
          return AGL_RESPONSE_UNKNOWN;
        }
    }
  return AGL_RESPONSE_UNKNOWN;
}

static const ResponseName *
read_response (AglEventTree *tree,
               guint         index)
{
  g_autofree char *value = agl_event_tree_dup_x_property (tree, index, MY_RESPONSE_PROPERTY);

  if (value == NULL && index > 0)
    value = agl_event_tree_dup_x_property (tree, 0, MY_RESPONSE_PROPERTY);
  if (value == NULL)
    return NULL;
  g_strstrip (value);
  for (gsize i = 0; i < G_N_ELEMENTS (response_names); i++)
    if (g_ascii_strcasecmp (value, response_names[i].name) == 0)
      return &response_names[i];
  return &response_names[G_N_ELEMENTS (response_names) - 1];
}

/* The local midnight @local_midnight of the process's zone (how
 * agl-occurrences.c gives a date) as the same day's midnight in @zone. */
static gint64
move_midnight (gint64     local_midnight,
               GTimeZone *zone)
{
  g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (local_midnight);
  g_autoptr(GDateTime) there = NULL;

  if (local == NULL)
    return local_midnight;
  there = g_date_time_new (zone, g_date_time_get_year (local), g_date_time_get_month (local),
                           g_date_time_get_day_of_month (local), 0, 0, 0);
  return there != NULL ? g_date_time_to_unix (there) : local_midnight;
}

/* As agl-occurrences.c counts overlap. */
static gboolean
overlaps (gint64 start,
          gint64 end,
          gint64 from,
          gint64 to)
{
  if (start == end)
    return start >= from && start < to;
  return start < to && end > from;
}

static AglRulesOccurrence *
occurrence_new (const AglItem       *item,
                AglEventTree        *tree,
                const AglOccurrence *expanded,
                const char          *user_address,
                gint64               start,
                gint64               end)
{
  OwnedOccurrence *owned = g_new0 (OwnedOccurrence, 1);
  AglRulesOccurrence *occurrence = &owned->occurrence;
  guint index = find_vevent (tree, expanded);
  icalcomponent *vevent = agl_event_tree_get_vevent (tree, index);
  icalcomponent *master = agl_event_tree_get_vevent (tree, 0);
  icalcomponent *people = has_participants (vevent) ? vevent : master;
  const ResponseName *response = read_response (tree, index);
  gboolean is_private = FALSE;

  owned->uid = g_strdup (item->uid != NULL ? item->uid : "");
  owned->subject = g_strdup (expanded->summary != NULL ? expanded->summary : "");
  occurrence->uid = owned->uid;
  occurrence->subject = owned->subject;
  occurrence->start = start;
  occurrence->end = end;
  occurrence->free_busy = read_free_busy (expanded);

  if (!read_private (vevent, &is_private) && index > 0)
    read_private (master, &is_private);
  occurrence->is_private = is_private;

  occurrence->is_meeting = has_other_attendee (people) ||
                           (response != NULL && response->invitee);
  if (response != NULL)
    occurrence->response = response->response;
  else
    occurrence->response = occurrence->is_meeting
                           ? response_from_participants (people, user_address)
                           : AGL_RESPONSE_ORGANIZER;
  return occurrence;
}

static int
compare_occurrences (gconstpointer a,
                     gconstpointer b)
{
  const AglRulesOccurrence *x = *(const AglRulesOccurrence * const *) a;
  const AglRulesOccurrence *y = *(const AglRulesOccurrence * const *) b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->uid, y->uid);
}

/* The occurrences of one item in [@from, @to), added to @list; FALSE with
 * @error set when its text cannot be expanded. */
static gboolean
add_item (GPtrArray      *list,
          const AglItem  *item,
          const char     *user_address,
          gint64          from,
          gint64          to,
          GTimeZone      *zone,
          GError        **error)
{
  g_autoptr(AglEventTree) tree = NULL;
  g_autoptr(GPtrArray) expanded = NULL;
  gint64 wide_from = from > G_MININT64 + ALL_DAY_MARGIN ? from - ALL_DAY_MARGIN : G_MININT64;
  gint64 wide_to = to < G_MAXINT64 - ALL_DAY_MARGIN ? to + ALL_DAY_MARGIN : G_MAXINT64;

  expanded = agl_occurrences_expand (item->ical, wide_from, wide_to, error);
  if (expanded == NULL)
    return FALSE;
  if (expanded->len == 0)
    return TRUE;
  /* Read again for the properties agl-occurrences.c does not give; it
   * read the same text a moment ago, so this cannot fail but for memory. */
  tree = agl_event_tree_new (item->ical, error);
  if (tree == NULL)
    return FALSE;

  for (guint i = 0; i < expanded->len; i++)
    {
      const AglOccurrence *occurrence = g_ptr_array_index (expanded, i);
      gint64 start = occurrence->start;
      gint64 end = occurrence->end;

      if (occurrence->all_day)
        {
          start = move_midnight (start, zone);
          end = MAX (start, move_midnight (end, zone));
        }
      if (overlaps (start, end, from, to))
        g_ptr_array_add (list, occurrence_new (item, tree, occurrence, user_address, start, end));
    }
  return TRUE;
}

/**
 * agl_rules_input_occurrence_free:
 * @occurrence: (nullable): an occurrence from agl_rules_input_from_items(),
 *   and only such a one: it owns the strings it points to
 */
void
agl_rules_input_occurrence_free (AglRulesOccurrence *occurrence)
{
  OwnedOccurrence *owned = (OwnedOccurrence *) occurrence;

  if (owned == NULL)
    return;
  g_free (owned->uid);
  g_free (owned->subject);
  g_free (owned);
}

/**
 * agl_rules_input_from_items:
 * @items: (element-type AglItem): an account's stored appointments
 * @user_address: (nullable): the account's e-mail address, which finds
 *   the user among a meeting's ORGANIZER and ATTENDEEs when Exchange's
 *   own response is not stored
 * @from: the start of the range, Unix time
 * @to: the end of the range (exclusive), Unix time
 * @zone: the user's time zone, whose midnights all-day occurrences run
 *   between
 * @error: return location for an error; kept for callers' sake, it is
 *   never set today: an item whose text cannot be expanded (a series too
 *   dense, a zone libical no longer knows) is left out with a warning
 *   naming its UID, as ListOccurrences does, so that one bad appointment
 *   does not take the user's presence with it
 *
 * Works out the occurrences of @items that overlap [@from, @to), as
 * agl_rules_evaluate() takes them; the top of agl-rules-input.c says how
 * each field is read.  An appointment of no length at t overlaps when
 * @from <= t < @to.
 *
 * Returns: (transfer container) (element-type AglRulesOccurrence): the
 *   occurrences sorted by start, then end, then UID.  Each element owns
 *   its @uid and @subject and is freed with
 *   agl_rules_input_occurrence_free(), which the array does on
 *   g_ptr_array_unref(); see agl_rules_input_to_array() for the flat array
 *   agl_rules_evaluate() reads
 */
GPtrArray *
agl_rules_input_from_items (GPtrArray  *items,
                            const char *user_address,
                            gint64      from,
                            gint64      to,
                            GTimeZone  *zone,
                            GError    **error)
{
  g_autoptr(GPtrArray) list = NULL;

  g_return_val_if_fail (items != NULL, NULL);
  g_return_val_if_fail (zone != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  list = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_rules_input_occurrence_free);
  if (from >= to)
    return g_steal_pointer (&list);

  for (guint i = 0; i < items->len; i++)
    {
      const AglItem *item = g_ptr_array_index (items, i);
      g_autoptr(GError) item_error = NULL;
      guint before = list->len;

      if (item == NULL || item->ical == NULL)
        continue;
      if (!add_item (list, item, user_address, from, to, zone, &item_error))
        {
          g_ptr_array_remove_range (list, before, list->len - before);
          g_warning ("Leaving appointment %" G_GINT64_FORMAT " (UID %s) out of the presence rules: %s",
                     item->id, item->uid != NULL ? item->uid : "", item_error->message);
        }
    }

  g_ptr_array_sort (list, compare_occurrences);
  return g_steal_pointer (&list);
}

/**
 * agl_rules_input_to_array:
 * @occurrences: (element-type AglRulesOccurrence): a list from
 *   agl_rules_input_from_items()
 *
 * Returns: (transfer container) (element-type AglRulesOccurrence): the
 *   same occurrences side by side, for agl_rules_evaluate() and its kin.
 *   Their strings still belong to @occurrences, which must outlive it.
 */
GArray *
agl_rules_input_to_array (GPtrArray *occurrences)
{
  GArray *array;

  g_return_val_if_fail (occurrences != NULL, NULL);

  array = g_array_sized_new (FALSE, FALSE, sizeof (AglRulesOccurrence), occurrences->len);
  for (guint i = 0; i < occurrences->len; i++)
    g_array_append_val (array, *(const AglRulesOccurrence *) g_ptr_array_index (occurrences, i));
  return array;
}
