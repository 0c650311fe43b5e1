/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-error.h"
#include "agl-event.h"
#include "agl-occurrences.h"

/*
 * The occurrences of one appointment in a range, for the agenda shown to
 * the user and, later, for the presence rules.
 *
 * RFC 5545 3.8.5: the series is DTSTART, every RRULE instance and every
 * RDATE, less the EXDATEs.  A RECURRENCE-ID VEVENT (an exception) takes
 * the place of the instance that starts at its RECURRENCE-ID, wherever it
 * moved; one with RANGE=THISANDFUTURE also moves and changes every later
 * instance as it moved and changed its own.  A VEVENT with
 * STATUS:CANCELLED gives no occurrence: the organiser called it off, so it
 * makes nobody busy, and an exception cancelled that way takes its
 * instance away as an EXDATE would.
 *
 * Instances of a zoned series keep their wall-clock time in that zone
 * across DST changes: libical's iterator counts in DTSTART's zone, and
 * each instance goes through that zone on its own.
 */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalrecur_iterator, icalrecur_iterator_free)

/* An exception of the series: VEVENT @index of the tree. */
typedef struct
{
  guint    index;
  gint64   recurrence_id;    /* Unix time */
  gboolean this_and_future;
  gint64   shift;            /* wall-clock seconds it moved (whole days for dates) */
} Override;

typedef struct
{
  AglEventTree        *tree;
  struct icaltimetype  dtstart;          /* the master's, zone attached */
  gboolean             recurring;
  gint64               from;
  gint64               to;
  /* Instances starting at or after this cannot reach the range, even moved
   * by a RANGE=THISANDFUTURE exception. */
  gint64               horizon;
  guint                steps;
  guint                max_steps;

  GArray              *overrides;        /* of Override, by RECURRENCE-ID */
  GHashTable          *overridden;       /* RECURRENCE-IDs (gint64 *) */
  GHashTable          *excluded;         /* EXDATEs as Unix time (gint64 *) */
  GHashTable          *excluded_days;    /* date EXDATEs of a timed series, "YYYYMMDD" */
  GHashTable          *seen;             /* starts of the instances taken (gint64 *) */
  GPtrArray           *occurrences;
} Expansion;

static void
expansion_clear (Expansion *expansion)
{
  g_clear_pointer (&expansion->overrides, g_array_unref);
  g_clear_pointer (&expansion->overridden, g_hash_table_unref);
  g_clear_pointer (&expansion->excluded, g_hash_table_unref);
  g_clear_pointer (&expansion->excluded_days, g_hash_table_unref);
  g_clear_pointer (&expansion->seen, g_hash_table_unref);
  g_clear_pointer (&expansion->occurrences, g_ptr_array_unref);
  g_clear_pointer (&expansion->tree, agl_event_tree_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Expansion, expansion_clear)

/* Collected first: libical keeps one property iterator per component,
 * which any lookup on it while looping (a SUMMARY, a STATUS) restarts. */
static GPtrArray *
list_properties (icalcomponent     *component,
                 icalproperty_kind  kind)
{
  GPtrArray *list = g_ptr_array_new ();

  for (icalproperty *prop = icalcomponent_get_first_property (component, kind);
       prop != NULL;
       prop = icalcomponent_get_next_property (component, kind))
    g_ptr_array_add (list, prop);
  return list;
}

static GHashTable *
new_int64_set (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
add_int64 (GHashTable *set,
           gint64      value)
{
  g_hash_table_add (set, g_memdup2 (&value, sizeof value));
}

static gboolean
has_int64 (GHashTable *set,
           gint64      value)
{
  return g_hash_table_contains (set, &value);
}

static char *
day_key (struct icaltimetype time)
{
  return g_strdup_printf ("%04d%02d%02d", time.year, time.month, time.day);
}

/* The time's calendar fields as a count of seconds, whatever its zone:
 * what a wall clock shows, for moving an instance by what an exception
 * moved without a DST change adding or taking an hour. */
static gint64
wall_seconds (struct icaltimetype time)
{
  GDate date;

  time = icaltime_normalize (time);
  if (!g_date_valid_dmy ((GDateDay) time.day, (GDateMonth) time.month, (GDateYear) time.year))
    return 0;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) time.day, (GDateMonth) time.month, (GDateYear) time.year);
  return (gint64) g_date_get_julian (&date) * 86400 +
         (time.is_date ? 0 : (gint64) time.hour * 3600 + time.minute * 60 + time.second);
}

static gboolean
is_cancelled (icalcomponent *vevent)
{
  return icalcomponent_get_status (vevent) == ICAL_STATUS_CANCELLED;
}

static char *
dup_summary (icalcomponent *vevent)
{
  icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_SUMMARY_PROPERTY);
  const char *summary = prop != NULL ? icalproperty_get_summary (prop) : NULL;

  return prop != NULL ? g_strdup (summary != NULL ? summary : "") : NULL;
}

static char *
dup_transp (icalcomponent *vevent)
{
  icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_TRANSP_PROPERTY);
  char *value;
  char *upper;

  if (prop == NULL)
    return NULL;
  value = icalproperty_get_value_as_string_r (prop);
  upper = g_ascii_strup (value != NULL ? value : "", -1);
  free (value);
  return upper;
}

#define BUSY_STATUS_PROPERTY "X-MICROSOFT-CDO-BUSYSTATUS"

static char *
dup_busy_status (AglEventTree *tree,
                 guint         index)
{
  g_autofree char *value = agl_event_tree_dup_x_property (tree, index, BUSY_STATUS_PROPERTY);

  return value != NULL ? g_ascii_strup (g_strstrip (value), -1) : NULL;
}

/* An occurrence with the properties of VEVENT @index, those it lacks
 * taken from the master. */
static AglOccurrence *
occurrence_new (Expansion *expansion,
                guint      index,
                gint64     start,
                gint64     end,
                gboolean   all_day,
                gint64     recurrence_id)
{
  icalcomponent *vevent = agl_event_tree_get_vevent (expansion->tree, index);
  icalcomponent *master = agl_event_tree_get_vevent (expansion->tree, 0);
  AglOccurrence *occurrence = g_new0 (AglOccurrence, 1);

  occurrence->start = start;
  occurrence->end = end;
  occurrence->all_day = all_day;
  occurrence->recurrence_id = expansion->recurring ? recurrence_id : 0;
  occurrence->exception = index > 0;

  occurrence->summary = dup_summary (vevent);
  if (occurrence->summary == NULL && index > 0)
    occurrence->summary = dup_summary (master);
  if (occurrence->summary == NULL)
    occurrence->summary = g_strdup ("");

  occurrence->busy_status = dup_busy_status (expansion->tree, index);
  if (occurrence->busy_status == NULL && index > 0)
    occurrence->busy_status = dup_busy_status (expansion->tree, 0);
  if (occurrence->busy_status == NULL)
    occurrence->busy_status = g_strdup ("");

  occurrence->transp = dup_transp (vevent);
  if (occurrence->transp == NULL && index > 0)
    occurrence->transp = dup_transp (master);
  if (occurrence->transp == NULL)
    occurrence->transp = g_strdup ("");

  return occurrence;
}

/* As the store counts overlap: an appointment of no length at t is in
 * [from, to) when from <= t < to. */
static gboolean
overlaps_range (Expansion *expansion,
                gint64     start,
                gint64     end)
{
  if (start == end)
    return start >= expansion->from && start < expansion->to;
  return start < expansion->to && end > expansion->from;
}

static gboolean
count_step (Expansion  *expansion,
            GError    **error)
{
  g_autofree char *label = NULL;

  if (++expansion->steps <= expansion->max_steps)
    return TRUE;

  label = agl_event_tree_describe (expansion->tree);
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
               _("The appointment %s repeats too often: it has more than %u occurrences between its first start and the end of the range, more than Agendaline works out for one appointment."),
               label, expansion->max_steps);
  return FALSE;
}

/* The RANGE=THISANDFUTURE exception that governs an instance starting at
 * @original: the last one at or before it. */
static const Override *
find_this_and_future (Expansion *expansion,
                      gint64     original)
{
  const Override *found = NULL;

  for (guint i = 0; i < expansion->overrides->len; i++)
    {
      const Override *override = &g_array_index (expansion->overrides, Override, i);

      if (override->recurrence_id > original)
        break;
      if (override->this_and_future)
        found = override;
    }
  return found;
}

static gboolean
is_excluded (Expansion           *expansion,
             struct icaltimetype  original,
             gint64               original_unix)
{
  g_autofree char *day = NULL;

  if (has_int64 (expansion->excluded, original_unix))
    return TRUE;
  if (original.is_date || g_hash_table_size (expansion->excluded_days) == 0)
    return FALSE;
  day = day_key (original);
  return g_hash_table_contains (expansion->excluded_days, day);
}

/* Takes one instance of the series (from DTSTART, an RRULE or an RDATE)
 * unless an EXDATE or an exception has it, or it misses the range.
 * @end is its end when the instance brings one (an RDATE period), else
 * G_MININT64 for the master's length. */
static void
take_instance (Expansion           *expansion,
               struct icaltimetype  original,
               gint64               original_unix,
               gint64               end)
{
  const Override *governing;
  struct icaltimetype start_time = original;
  guint index = 0;
  gint64 start = original_unix;

  if (is_excluded (expansion, original, original_unix) ||
      has_int64 (expansion->overridden, original_unix) ||
      has_int64 (expansion->seen, original_unix))
    return;

  governing = find_this_and_future (expansion, original_unix);
  if (governing != NULL)
    {
      gint64 days = governing->shift / 86400;
      gint64 seconds = governing->shift % 86400;

      index = governing->index;
      if (start_time.is_date)
        icaltime_adjust (&start_time, (int) days, 0, 0, 0);
      else
        icaltime_adjust (&start_time, (int) days, 0, 0, (int) seconds);
      if (!agl_event_time_to_unix (start_time, &start))
        return;
      end = G_MININT64;
    }

  if (end == G_MININT64 &&
      !agl_event_tree_end_of (expansion->tree, index, start_time, &end))
    return;
  end = MAX (end, start);

  if (is_cancelled (agl_event_tree_get_vevent (expansion->tree, index)) ||
      !overlaps_range (expansion, start, end))
    return;

  add_int64 (expansion->seen, original_unix);
  g_ptr_array_add (expansion->occurrences,
                   occurrence_new (expansion, index, start, end, start_time.is_date,
                                   original_unix));
}

/* See agl_event_rule_is_expandable(): stored text was checked on the way
 * in, but a database written by hand or by an older version may hold such a
 * rule. */
static gboolean
check_rule_bounded (Expansion                       *expansion,
                    icalproperty                    *prop,
                    const struct icalrecurrencetype *rule,
                    GError                         **error)
{
  g_autofree char *label = NULL;
  char *text;

  if (agl_event_rule_is_expandable (rule))
    return TRUE;

  label = agl_event_tree_describe (expansion->tree);
  text = icalproperty_get_value_as_string_r (prop);
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
               _("The appointment %s repeats more often than daily on certain days only (RRULE:%s); Agendaline cannot work out the occurrences of such a rule."),
               label, text != NULL ? text : "");
  free (text);
  return FALSE;
}

static gboolean
expand_rrule (Expansion     *expansion,
              icalproperty  *prop,
              GError       **error)
{
  struct icalrecurrencetype rule = icalproperty_get_rrule (prop);
  struct icaltimetype dtstart = expansion->dtstart;
  g_autoptr(icalrecur_iterator) iterator = NULL;

  if (!check_rule_bounded (expansion, prop, &rule, error))
    return FALSE;

  /* A floating series ends at an UNTIL in UTC as it reads in the local
   * zone, where its instances are; libical would compare the digits. */
  if (!dtstart.is_date && dtstart.zone == NULL &&
      !icaltime_is_null_time (rule.until) && icaltime_is_utc (rule.until))
    {
      gint64 until;

      if (agl_event_time_to_unix (rule.until, &until))
        {
          g_autoptr(GDateTime) local = g_date_time_new_from_unix_local (until);

          if (local != NULL)
            {
              rule.until = icaltime_null_time ();
              rule.until.year = g_date_time_get_year (local);
              rule.until.month = g_date_time_get_month (local);
              rule.until.day = g_date_time_get_day_of_month (local);
              rule.until.hour = g_date_time_get_hour (local);
              rule.until.minute = g_date_time_get_minute (local);
              rule.until.second = g_date_time_get_second (local);
            }
        }
    }

  iterator = icalrecur_iterator_new (rule, dtstart);
  icalerror_clear_errno ();
  /* agl-event.c made sure the rule can be used when it stored it. */
  if (iterator == NULL)
    return TRUE;

  for (;;)
    {
      struct icaltimetype next;
      gint64 start;

      if (!count_step (expansion, error))
        return FALSE;
      next = icalrecur_iterator_next (iterator);
      if (icaltime_is_null_time (next))
        break;
      next.zone = dtstart.zone;
      next.is_date = dtstart.is_date;
      if (!agl_event_time_to_unix (next, &start) || start >= expansion->horizon)
        break;
      take_instance (expansion, next, start, G_MININT64);
    }
  icalerror_clear_errno ();
  return TRUE;
}

static gboolean
expand_rdate (Expansion     *expansion,
              icalproperty  *prop,
              GError       **error)
{
  struct icaldatetimeperiodtype rdate = icalproperty_get_rdate (prop);
  struct icaltimetype time;
  gint64 start;
  gint64 end = G_MININT64;

  if (!count_step (expansion, error))
    return FALSE;

  if (!icalperiodtype_is_null_period (rdate.period))
    {
      time = agl_event_tree_attach_zone (expansion->tree, prop, rdate.period.start);
      if (!agl_event_time_to_unix (time, &start))
        return TRUE;
      if (!icaltime_is_null_time (rdate.period.end))
        {
          struct icaltimetype period_end = agl_event_tree_attach_zone (expansion->tree, prop,
                                                                       rdate.period.end);

          if (!agl_event_time_to_unix (period_end, &end))
            return TRUE;
        }
      else
        {
          end = start + icaldurationtype_as_int (rdate.period.duration);
        }
    }
  else
    {
      time = agl_event_tree_attach_zone (expansion->tree, prop, rdate.time);
      if (!agl_event_time_to_unix (time, &start))
        return TRUE;
    }

  take_instance (expansion, time, start, end);
  return TRUE;
}

static void
collect_exdates (Expansion *expansion)
{
  icalcomponent *master = agl_event_tree_get_vevent (expansion->tree, 0);
  g_autoptr(GPtrArray) exdates = list_properties (master, ICAL_EXDATE_PROPERTY);

  for (guint i = 0; i < exdates->len; i++)
    {
      icalproperty *prop = g_ptr_array_index (exdates, i);
      struct icaltimetype time = agl_event_tree_attach_zone (expansion->tree, prop,
                                                             icalproperty_get_exdate (prop));
      gint64 when;

      /* A date takes out every instance of a timed series on that day, in
       * the series' own zone. */
      if (time.is_date && !expansion->dtstart.is_date)
        g_hash_table_add (expansion->excluded_days, day_key (time));
      else if (agl_event_time_to_unix (time, &when))
        add_int64 (expansion->excluded, when);
    }
}

static int
compare_overrides (gconstpointer a,
                   gconstpointer b)
{
  const Override *x = a;
  const Override *y = b;

  return (x->recurrence_id > y->recurrence_id) - (x->recurrence_id < y->recurrence_id);
}

/* How far exception @index moved from its RECURRENCE-ID, on the wall
 * clock of the series' zone, so that instances it moves along keep their
 * time of day across a DST change. */
static gint64
measure_shift (Expansion           *expansion,
               guint                index,
               struct icaltimetype  recurrence_id)
{
  struct icaltimetype start = agl_event_tree_get_dtstart (expansion->tree, index);
  icaltimezone *zone = (icaltimezone *) expansion->dtstart.zone;

  if (zone != NULL && !expansion->dtstart.is_date)
    {
      if (recurrence_id.zone != NULL && !recurrence_id.is_date)
        recurrence_id = icaltime_convert_to_zone (recurrence_id, zone);
      if (start.zone != NULL && !start.is_date)
        start = icaltime_convert_to_zone (start, zone);
    }
  if (expansion->dtstart.is_date)
    return (wall_seconds (start) - wall_seconds (recurrence_id)) / 86400 * 86400;
  return wall_seconds (start) - wall_seconds (recurrence_id);
}

static void
collect_overrides (Expansion *expansion)
{
  guint n_vevents = agl_event_tree_get_n_vevents (expansion->tree);
  gint64 lookahead = 0;

  for (guint i = 1; i < n_vevents; i++)
    {
      icalcomponent *vevent = agl_event_tree_get_vevent (expansion->tree, i);
      icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY);
      icalparameter *range = icalproperty_get_first_parameter (prop, ICAL_RANGE_PARAMETER);
      struct icaltimetype time = agl_event_tree_attach_zone (expansion->tree, prop,
                                                             icalproperty_get_recurrenceid (prop));
      Override override = { i, 0, FALSE, 0 };

      /* agl-event.c checked that every RECURRENCE-ID has a Unix time. */
      if (!agl_event_time_to_unix (time, &override.recurrence_id))
        continue;
      override.this_and_future = range != NULL &&
                                 icalparameter_get_range (range) == ICAL_RANGE_THISANDFUTURE;
      if (override.this_and_future)
        {
          override.shift = measure_shift (expansion, i, time);
          /* A day more for a DST change between the instances. */
          lookahead = MAX (lookahead, MAX (0, -override.shift) + 86400);
        }
      g_array_append_val (expansion->overrides, override);
      add_int64 (expansion->overridden, override.recurrence_id);
    }
  g_array_sort (expansion->overrides, compare_overrides);

  expansion->horizon = expansion->to > G_MAXINT64 - lookahead ? G_MAXINT64
                                                              : expansion->to + lookahead;
}

/* Exceptions stand on their own: each is where it moved to, whether or
 * not its RECURRENCE-ID falls in the range. */
static void
take_exceptions (Expansion *expansion)
{
  for (guint i = 0; i < expansion->overrides->len; i++)
    {
      const Override *override = &g_array_index (expansion->overrides, Override, i);
      guint index = override->index;
      icalcomponent *vevent = agl_event_tree_get_vevent (expansion->tree, index);
      gint64 start = agl_event_tree_get_start (expansion->tree, index);
      gint64 end = agl_event_tree_get_end (expansion->tree, index);
      gboolean all_day = agl_event_tree_get_dtstart (expansion->tree, index).is_date;

      if (is_cancelled (vevent) || !overlaps_range (expansion, start, end))
        continue;
      g_ptr_array_add (expansion->occurrences,
                       occurrence_new (expansion, index, start, end, all_day,
                                       override->recurrence_id));
    }
}

static int
compare_occurrences (gconstpointer a,
                     gconstpointer b)
{
  const AglOccurrence *x = *(const AglOccurrence * const *) a;
  const AglOccurrence *y = *(const AglOccurrence * const *) b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return (x->recurrence_id > y->recurrence_id) - (x->recurrence_id < y->recurrence_id);
}

/**
 * agl_occurrence_free:
 * @occurrence: (nullable): an occurrence
 */
void
agl_occurrence_free (AglOccurrence *occurrence)
{
  if (occurrence == NULL)
    return;
  g_free (occurrence->summary);
  g_free (occurrence->busy_status);
  g_free (occurrence->transp);
  g_free (occurrence);
}

/**
 * agl_occurrences_expand_full:
 * @ical: an appointment's VCALENDAR text as the store keeps it (AglItem.ical):
 *   the master VEVENT, its RECURRENCE-ID exceptions and their VTIMEZONEs
 * @from: the start of the range, Unix time
 * @to: the end of the range (exclusive), Unix time
 * @max_steps: how many recurrence steps the appointment may take, counted
 *   from its first start to @to (see %AGL_OCCURRENCES_MAX_STEPS)
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error
 *
 * As agl_occurrences_expand(), with a step limit of the caller's choice.
 *
 * Returns: (transfer container) (element-type AglOccurrence) (nullable):
 *   the occurrences, or %NULL with @error set
 */
GPtrArray *
agl_occurrences_expand_full (const char  *ical,
                             gint64       from,
                             gint64       to,
                             guint        max_steps,
                             GError     **error)
{
  g_auto(Expansion) expansion = { 0 };
  g_autoptr(GPtrArray) rrules = NULL;
  g_autoptr(GPtrArray) rdates = NULL;
  icalcomponent *master;

  g_return_val_if_fail (ical != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  expansion.occurrences = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_occurrence_free);
  if (from >= to)
    return g_steal_pointer (&expansion.occurrences);

  expansion.tree = agl_event_tree_new (ical, error);
  if (expansion.tree == NULL)
    return NULL;

  master = agl_event_tree_get_vevent (expansion.tree, 0);
  rrules = list_properties (master, ICAL_RRULE_PROPERTY);
  rdates = list_properties (master, ICAL_RDATE_PROPERTY);
  expansion.dtstart = agl_event_tree_get_dtstart (expansion.tree, 0);
  expansion.recurring = rrules->len > 0 || rdates->len > 0;
  expansion.from = from;
  expansion.to = to;
  expansion.max_steps = max_steps;
  expansion.overrides = g_array_new (FALSE, FALSE, sizeof (Override));
  expansion.overridden = new_int64_set ();
  expansion.excluded = new_int64_set ();
  expansion.excluded_days = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  expansion.seen = new_int64_set ();

  collect_exdates (&expansion);
  collect_overrides (&expansion);

  /* DTSTART is the first instance even where the rule would not give it
   * (RFC 5545 3.8.5.3). */
  if (!count_step (&expansion, error))
    return NULL;
  take_instance (&expansion, expansion.dtstart,
                 agl_event_tree_get_start (expansion.tree, 0), G_MININT64);

  for (guint i = 0; i < rrules->len; i++)
    if (!expand_rrule (&expansion, g_ptr_array_index (rrules, i), error))
      return NULL;
  for (guint i = 0; i < rdates->len; i++)
    if (!expand_rdate (&expansion, g_ptr_array_index (rdates, i), error))
      return NULL;

  take_exceptions (&expansion);

  g_ptr_array_sort (expansion.occurrences, compare_occurrences);
  return g_steal_pointer (&expansion.occurrences);
}

/**
 * agl_occurrences_expand:
 * @ical: an appointment's VCALENDAR text as the store keeps it (AglItem.ical)
 * @from: the start of the range, Unix time
 * @to: the end of the range (exclusive), Unix time
 * @error: return location for an %AGL_ERROR_INVALID_CALENDAR error: the
 *   text cannot be read, or the series needs more than
 *   %AGL_OCCURRENCES_MAX_STEPS steps to reach @to, or repeats more often
 *   than daily on certain days only
 *
 * Works out the occurrences of one appointment that overlap [@from, @to):
 * RRULE (COUNT, UNTIL or endless), RDATE and DTSTART, less EXDATE, with
 * exceptions where they moved to (into the range or out of it) and
 * RANGE=THISANDFUTURE applied; VEVENTs with STATUS:CANCELLED give none.
 * Zoned times keep their wall-clock time across DST changes; dates run
 * from local midnight to local midnight, and floating times are local,
 * in the process's time zone as agl-event.h describes.  An appointment
 * of no length at t overlaps when @from <= t < @to.  An empty or reversed
 * range gives no occurrences.
 *
 * Returns: (transfer container) (element-type AglOccurrence) (nullable):
 *   the occurrences sorted by start, then end, or %NULL with @error set
 */
GPtrArray *
agl_occurrences_expand (const char  *ical,
                        gint64       from,
                        gint64       to,
                        GError     **error)
{
  return agl_occurrences_expand_full (ical, from, to, AGL_OCCURRENCES_MAX_STEPS, error);
}
