/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-ews-calendar-item.h"
#include "agl-ews-error.h"
#include "agl-ews-operations.h"
#include "agl-ews-series.h"

/* A series longer than this is not searched further for an occurrence:
 * daily for some 270 years. */
#define MAX_INSTANCES 100000

/* One OccurrenceItemId change: an UpdateItem (with @updates) or a
 * DeleteItem (without). */
typedef struct {
  char  *recurrence_id;   /* as libical writes it, for messages */
  guint  instance_index;
  char  *updates;         /* the children of t:Updates, written already */
} Step;

struct _AglEwsSeriesPlan
{
  GPtrArray *updates;     /* Step */
  GPtrArray *deletes;     /* Step */
};

typedef struct {
  char               *master_id;
  AglEwsSeriesPlan   *plan;
  AglEwsSendMode      send_updates;
  AglEwsSendMode      send_cancellations;
  GString            *failures;
  AglEwsError         failure_code;
} ApplyData;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)

static void
step_free (Step *step)
{
  g_free (step->recurrence_id);
  g_free (step->updates);
  g_free (step);
}

static void
apply_data_free (ApplyData *data)
{
  g_free (data->master_id);
  g_clear_pointer (&data->plan, agl_ews_series_plan_free);
  if (data->failures != NULL)
    g_string_free (data->failures, TRUE);
  g_free (data);
}

/* ---- time of a property ---- */

static const char *
property_tzid (icalproperty *prop)
{
  icalparameter *param = icalproperty_get_first_parameter (prop, ICAL_TZID_PARAMETER);

  return param != NULL ? icalparameter_get_tzid (param) : NULL;
}

/* The zone of a TZID as the mapping resolves it: the VTIMEZONE the item
 * carries, else an IANA or Windows name. */
static icaltimezone *
resolve_zone (icalcomponent   *vcalendar,
              AglWindowsZones *zones,
              const char      *tzid)
{
  icaltimezone *zone = icalcomponent_get_timezone (vcalendar, tzid);

  if (zone == NULL && (g_ascii_strcasecmp (tzid, "UTC") == 0 || strcmp (tzid, "Etc/UTC") == 0))
    zone = icaltimezone_get_utc_timezone ();
  if (zone == NULL && zones != NULL)
    {
      const char *iana = agl_windows_zones_to_iana (zones, tzid);

      zone = icaltimezone_get_builtin_timezone (iana != NULL ? iana :
                                                agl_windows_zones_canonical_iana (zones, tzid));
    }
  if (zone == NULL)
    zone = icaltimezone_get_builtin_timezone (tzid);
  icalerror_clear_errno ();
  return zone;
}

/* The value of a DTSTART, DTEND, RECURRENCE-ID or EXDATE with its zone
 * attached; a DATE and a floating time stay as they are. */
static gboolean
property_time (icalcomponent        *vcalendar,
               AglWindowsZones      *zones,
               icalproperty         *prop,
               struct icaltimetype  *out,
               GError              **error)
{
  const char *tzid = property_tzid (prop);
  struct icaltimetype t;

  switch (icalproperty_isa (prop))
    {
    case ICAL_DTSTART_PROPERTY:
      t = icalproperty_get_dtstart (prop);
      break;
    case ICAL_DTEND_PROPERTY:
      t = icalproperty_get_dtend (prop);
      break;
    case ICAL_RECURRENCEID_PROPERTY:
      t = icalproperty_get_recurrenceid (prop);
      break;
    case ICAL_EXDATE_PROPERTY:
      t = icalproperty_get_exdate (prop);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  if (icaltime_is_null_time (t))
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                   _("The event has a %s without a valid time."), icalproperty_get_property_name (prop));
      return FALSE;
    }
  if (!t.is_date && !icaltime_is_utc (t) && tzid != NULL)
    {
      icaltimezone *zone = resolve_zone (vcalendar, zones, tzid);

      if (zone == NULL)
        {
          g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE,
                       _("Exchange knows no time zone matching “%s”; choose a zone such as "
                         "Europe/Berlin for this appointment."), tzid);
          return FALSE;
        }
      t = icaltime_set_timezone (&t, zone);
    }
  *out = t;
  return TRUE;
}

/* Seconds since the epoch; a floating time counts as UTC (it is only
 * compared with times of the same item). */
static gint64
instant (struct icaltimetype t)
{
  const icaltimezone *zone = t.zone != NULL ? t.zone : icaltimezone_get_utc_timezone ();

  if (t.is_date)
    {
      t.is_date = 0;
      t.hour = t.minute = t.second = 0;
    }
  return (gint64) icaltime_as_timet_with_zone (t, (icaltimezone *) zone);
}

/* -1, 0, 1: @a before, at, after @b; an all-day side compares days. */
static int
compare_occurrences (struct icaltimetype a,
                     struct icaltimetype b)
{
  gint64 x, y;

  if (a.is_date || b.is_date)
    return icaltime_compare_date_only (a, b);
  x = instant (a);
  y = instant (b);
  return x < y ? -1 : x > y;
}

/* ---- the VEVENTs of a VCALENDAR ---- */

static icalcomponent *
find_master (icalcomponent *vcalendar)
{
  for (icalcomponent *c = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       c != NULL; c = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    if (icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY) == NULL)
      return c;
  return NULL;
}

static GPtrArray *
list_overrides (icalcomponent *vcalendar)
{
  GPtrArray *overrides = g_ptr_array_new ();

  for (icalcomponent *c = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       c != NULL; c = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    if (icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY) != NULL)
      g_ptr_array_add (overrides, c);
  return overrides;
}

static GPtrArray *
list_exdates (icalcomponent *master)
{
  GPtrArray *exdates = g_ptr_array_new ();

  for (icalproperty *p = master != NULL ? icalcomponent_get_first_property (master, ICAL_EXDATE_PROPERTY) : NULL;
       p != NULL; p = icalcomponent_get_next_property (master, ICAL_EXDATE_PROPERTY))
    g_ptr_array_add (exdates, p);
  return exdates;
}

static const char *
summary_of (icalcomponent *vevent)
{
  const char *summary = vevent != NULL ? icalcomponent_get_summary (vevent) : NULL;

  return summary != NULL && *summary != '\0' ? summary : _("(no title)");
}

/* ---- instance index ---- */

/* Whether DTSTART itself is a day of the pattern.  RFC 5545 counts DTSTART
 * as the first instance whatever the rule says; Exchange expands its
 * pattern from the range's StartDate and counts only the days the pattern
 * gives.  The cases checked are the ones the mapping writes as patterns:
 * plain weekdays (Weekly, Daily on weekdays) and days of the month. */
static gboolean
dtstart_in_pattern (struct icalrecurrencetype *rule,
                    struct icaltimetype        dtstart)
{
  if (rule->by_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&
      (rule->freq == ICAL_WEEKLY_RECURRENCE || rule->freq == ICAL_DAILY_RECURRENCE))
    {
      int weekday = icaltime_day_of_week (dtstart);
      gboolean found = FALSE;

      for (int i = 0; i < ICAL_BY_DAY_SIZE && rule->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        {
          if (icalrecurrencetype_day_position (rule->by_day[i]) != 0)
            return TRUE;
          if ((int) icalrecurrencetype_day_day_of_week (rule->by_day[i]) == weekday)
            found = TRUE;
        }
      if (!found)
        return FALSE;
    }
  if (rule->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX &&
      (rule->freq == ICAL_MONTHLY_RECURRENCE || rule->freq == ICAL_YEARLY_RECURRENCE))
    {
      int last = icaltime_days_in_month (dtstart.month, dtstart.year);
      gboolean found = FALSE;

      for (int i = 0; i < ICAL_BY_MONTHDAY_SIZE && rule->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
        {
          int day = rule->by_month_day[i];

          if (day == dtstart.day || (day < 0 && last + day + 1 == dtstart.day))
            found = TRUE;
        }
      if (!found)
        return FALSE;
    }
  return TRUE;
}

/* The 1-based InstanceIndex of the occurrence originally at @target, and
 * that occurrence's start in the zone of the master's DTSTART. */
static gboolean
find_instance (icalcomponent        *vcalendar,
               AglWindowsZones      *zones,
               icalcomponent        *master,
               struct icaltimetype   target,
               guint                *out_index,
               struct icaltimetype  *out_start,
               GError              **error)
{
  icalproperty *rrule = master != NULL ? icalcomponent_get_first_property (master, ICAL_RRULE_PROPERTY) : NULL;
  icalproperty *dtstart_prop = master != NULL ? icalcomponent_get_first_property (master, ICAL_DTSTART_PROPERTY) : NULL;
  struct icalrecurrencetype rule;
  struct icaltimetype dtstart, next;
  icalrecur_iterator *iterator;
  gboolean skip_dtstart;
  guint index = 0;

  if (rrule == NULL || dtstart_prop == NULL)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                   _("The event “%s” is not recurring, so it cannot have changed or deleted "
                     "occurrences on Exchange."), summary_of (master));
      return FALSE;
    }
  if (!property_time (vcalendar, zones, dtstart_prop, &dtstart, error))
    return FALSE;
  rule = icalproperty_get_rrule (rrule);
  skip_dtstart = !dtstart_in_pattern (&rule, dtstart);
  iterator = icalrecur_iterator_new (rule, dtstart);
  icalerror_clear_errno ();
  if (iterator == NULL)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE,
                   _("The recurrence rule of “%s” cannot be expanded."), summary_of (master));
      return FALSE;
    }
  for (next = icalrecur_iterator_next (iterator);
       !icaltime_is_null_time (next) && index < MAX_INSTANCES;
       next = icalrecur_iterator_next (iterator))
    {
      int order;

      next.zone = dtstart.zone;
      if (skip_dtstart && icaltime_compare (next, dtstart) == 0)
        continue;
      index++;
      order = compare_occurrences (next, target);
      if (order == 0)
        {
          icalrecur_iterator_free (iterator);
          *out_index = index;
          *out_start = next;
          return TRUE;
        }
      if (order > 0)
        break;
    }
  icalrecur_iterator_free (iterator);
  icalerror_clear_errno ();
  g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
               _("%s is not an occurrence of the series “%s”: Exchange can only change or "
                 "delete the occurrences its recurrence pattern gives."),
               icaltime_as_ical_string (target), summary_of (master));
  return FALSE;
}

/**
 * agl_ews_series_instance_index:
 * @vcalendar: the item: a VCALENDAR with its master VEVENT (RRULE, DTSTART)
 *   and the VTIMEZONEs it uses
 * @zones: (nullable): the Windows zone mapping, for TZIDs no VTIMEZONE
 *   defines
 * @occurrence: a RECURRENCE-ID or EXDATE property of one of its VEVENTs
 * @error: return location for an error
 *
 * The InstanceIndex of an OccurrenceItemId as Exchange counts it: the
 * 1-based position of the occurrence among all the occurrences of the
 * series' pattern from its start, deleted and changed ones included (an
 * index names an occurrence of the pattern, not of what is left of it:
 * Exchange answers ErrorCalendarOccurrenceIsDeletedFromRecurrence for the
 * index of a deleted occurrence).  The pattern is expanded with libical in
 * the zone of the master's DTSTART; a DTSTART that is not a day of the
 * pattern is not counted, as Exchange's pattern never gives it.
 *
 * Returns: the index from 1, or 0 with %AGL_EWS_CALENDAR_ERROR_INVALID_EVENT
 *   naming the time when it is not an occurrence of the pattern
 */
guint
agl_ews_series_instance_index (icalcomponent   *vcalendar,
                               AglWindowsZones *zones,
                               icalproperty    *occurrence,
                               GError         **error)
{
  struct icaltimetype target, start;
  guint index = 0;

  g_return_val_if_fail (vcalendar != NULL, 0);
  g_return_val_if_fail (occurrence != NULL, 0);

  if (!property_time (vcalendar, zones, occurrence, &target, error) ||
      !find_instance (vcalendar, zones, find_master (vcalendar), target, &index, &start, error))
    return 0;
  return index;
}

/* ---- the plan ---- */

/* A VCALENDAR holding a copy of @vevent with RECURRENCE-ID @rid, and the
 * VTIMEZONEs of @source: what the mapping compares an override with. */
static icalcomponent *
wrap_override (icalcomponent *source,
               icalcomponent *vevent,
               icalproperty  *rid)
{
  icalcomponent *vcalendar = icalcomponent_new_vcalendar ();
  icalcomponent *copy = icalcomponent_new_clone (vevent);
  icalproperty *prop;

  for (icalcomponent *z = icalcomponent_get_first_component (source, ICAL_VTIMEZONE_COMPONENT);
       z != NULL; z = icalcomponent_get_next_component (source, ICAL_VTIMEZONE_COMPONENT))
    icalcomponent_add_component (vcalendar, icalcomponent_new_clone (z));
  while ((prop = icalcomponent_get_first_property (copy, ICAL_RECURRENCEID_PROPERTY)) != NULL)
    {
      icalcomponent_remove_property (copy, prop);
      icalproperty_free (prop);
    }
  icalcomponent_add_property (copy, icalproperty_new_clone (rid));
  icalcomponent_add_component (vcalendar, copy);
  return vcalendar;
}

/* The master's description at one occurrence (starting at @start, its
 * length), as an override at @rid: what the occurrence is while the
 * pattern alone defines it. */
static icalcomponent *
master_as_occurrence (icalcomponent        *source,
                      AglWindowsZones      *zones,
                      icalcomponent        *master,
                      struct icaltimetype   start,
                      icalproperty         *rid,
                      GError              **error)
{
  static const icalproperty_kind dropped[] = {
    ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY, ICAL_EXRULE_PROPERTY,
  };
  g_autoptr(icalcomponent) vevent = icalcomponent_new_clone (master);
  icalproperty *dtstart = icalcomponent_get_first_property (vevent, ICAL_DTSTART_PROPERTY);
  icalproperty *dtend = icalcomponent_get_first_property (vevent, ICAL_DTEND_PROPERTY);
  struct icaltimetype old_start, old_end, end;
  icalproperty *prop;

  for (gsize i = 0; i < G_N_ELEMENTS (dropped); i++)
    while ((prop = icalcomponent_get_first_property (vevent, dropped[i])) != NULL)
      {
        icalcomponent_remove_property (vevent, prop);
        icalproperty_free (prop);
      }
  if (dtend != NULL)
    {
      if (!property_time (source, zones, dtstart, &old_start, error) ||
          !property_time (source, zones, dtend, &old_end, error))
        return NULL;
      if (old_start.is_date)
        {
          end = start;
          icaltime_adjust (&end, icaltime_compare_date_only (old_end, old_start) == 0 ? 0 :
                           (int) ((instant (old_end) - instant (old_start)) / 86400), 0, 0, 0);
        }
      else
        {
          const icaltimezone *end_zone = old_end.zone != NULL ? old_end.zone : start.zone;

          end = icaltime_from_timet_with_zone ((time_t) (instant (start) + instant (old_end) - instant (old_start)),
                                               0, (icaltimezone *) end_zone);
          if (old_end.zone == NULL && start.zone == NULL)
            end.zone = NULL;
        }
      icalproperty_set_dtend (dtend, end);
    }
  icalproperty_set_dtstart (dtstart, start);
  return wrap_override (source, vevent, rid);
}

/* The t:Updates children turning @old (at @rid) into @new_vcalendar's
 * override at @rid, written now so that an empty change can be left out
 * and a refused event refuses the whole plan. */
static char *
render_updates (icalcomponent    *old,
                icalcomponent    *new_vcalendar,
                const char       *rid,
                AglWindowsZones  *zones,
                guint            *n_changes,
                GError          **error)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);

  if (writer == NULL ||
      !agl_ews_calendar_item_write_updates (writer, old, new_vcalendar, rid, zones, NULL,
                                            n_changes, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                             _("The calendar item could not be written."));
      return NULL;
    }
  xmlTextWriterFlush (writer);
  return g_strdup ((const char *) xmlBufferContent (buffer));
}

static char *
rid_text (icalproperty *rid)
{
  return g_strdup (icaltime_as_ical_string (icalproperty_get_recurrenceid (rid)));
}

static icalcomponent *
find_override_at (icalcomponent        *vcalendar,
                  AglWindowsZones      *zones,
                  GPtrArray            *overrides,
                  struct icaltimetype   when)
{
  for (guint i = 0; i < overrides->len; i++)
    {
      icalcomponent *o = g_ptr_array_index (overrides, i);
      struct icaltimetype t;

      if (property_time (vcalendar, zones, icalcomponent_get_first_property (o, ICAL_RECURRENCEID_PROPERTY),
                         &t, NULL) &&
          compare_occurrences (t, when) == 0)
        return o;
    }
  return NULL;
}

static gboolean
exdate_at (icalcomponent        *vcalendar,
           AglWindowsZones      *zones,
           GPtrArray            *exdates,
           struct icaltimetype   when)
{
  for (guint i = 0; i < exdates->len; i++)
    {
      struct icaltimetype t;

      if (property_time (vcalendar, zones, g_ptr_array_index (exdates, i), &t, NULL) &&
          compare_occurrences (t, when) == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
same_property (icalcomponent     *a,
               icalcomponent     *b,
               icalproperty_kind  kind)
{
  icalproperty *pa = icalcomponent_get_first_property (a, kind);
  icalproperty *pb = icalcomponent_get_first_property (b, kind);
  g_autofree char *sa = pa != NULL ? g_strdup (icalproperty_as_ical_string (pa)) : NULL;
  g_autofree char *sb = pb != NULL ? g_strdup (icalproperty_as_ical_string (pb)) : NULL;

  return g_strcmp0 (sa, sb) == 0;
}

static gboolean
add_update (AglEwsSeriesPlan  *plan,
            icalcomponent     *old,
            icalcomponent     *new_vcalendar,
            icalproperty      *rid,
            guint              index,
            AglWindowsZones   *zones,
            GError           **error)
{
  g_autofree char *text = rid_text (rid);
  g_autofree char *updates = NULL;
  guint n_changes = 0;
  Step *step;

  updates = render_updates (old, new_vcalendar, text, zones, &n_changes, error);
  if (updates == NULL)
    return FALSE;
  if (n_changes == 0)
    return TRUE;
  step = g_new0 (Step, 1);
  step->recurrence_id = g_steal_pointer (&text);
  step->instance_index = index;
  step->updates = g_steal_pointer (&updates);
  g_ptr_array_add (plan->updates, step);
  return TRUE;
}

/* The overrides of @new_vcalendar that are new or changed since @old:
 * each compared with the old override, else with the master's own
 * description at that occurrence. */
static gboolean
plan_overrides (AglEwsSeriesPlan  *plan,
                icalcomponent     *old,
                icalcomponent     *new_vcalendar,
                icalcomponent     *master,
                AglWindowsZones   *zones,
                GError           **error)
{
  g_autoptr(GPtrArray) overrides = list_overrides (new_vcalendar);
  g_autoptr(GPtrArray) old_overrides = old != NULL ? list_overrides (old) : g_ptr_array_new ();

  for (guint i = 0; i < overrides->len; i++)
    {
      icalcomponent *override = g_ptr_array_index (overrides, i);
      icalproperty *rid = icalcomponent_get_first_property (override, ICAL_RECURRENCEID_PROPERTY);
      icalcomponent *old_override;
      g_autoptr(icalcomponent) base = NULL;
      struct icaltimetype when, start;
      guint index;

      if (!property_time (new_vcalendar, zones, rid, &when, error) ||
          !find_instance (new_vcalendar, zones, master, when, &index, &start, error))
        return FALSE;
      old_override = old != NULL ? find_override_at (old, zones, old_overrides, when) : NULL;
      if (old_override != NULL)
        base = wrap_override (old, old_override, rid);
      else
        base = master_as_occurrence (new_vcalendar, zones, master, start, rid, error);
      if (base == NULL || !add_update (plan, base, new_vcalendar, rid, index, zones, error))
        return FALSE;
    }
  return TRUE;
}

/* The overrides of @old that @new_vcalendar dropped without deleting the
 * occurrence: EWS cannot make an exception an occurrence again, so the
 * fields the override changed are set back to the series' values. */
static gboolean
plan_reverts (AglEwsSeriesPlan  *plan,
              icalcomponent     *old,
              icalcomponent     *new_vcalendar,
              icalcomponent     *master,
              AglWindowsZones   *zones,
              GError           **error)
{
  g_autoptr(GPtrArray) old_overrides = list_overrides (old);
  g_autoptr(GPtrArray) overrides = list_overrides (new_vcalendar);
  g_autoptr(GPtrArray) exdates = list_exdates (master);

  for (guint i = 0; i < old_overrides->len; i++)
    {
      icalcomponent *old_override = g_ptr_array_index (old_overrides, i);
      icalproperty *rid = icalcomponent_get_first_property (old_override, ICAL_RECURRENCEID_PROPERTY);
      g_autoptr(icalcomponent) base = NULL;
      g_autoptr(icalcomponent) target = NULL;
      struct icaltimetype when, start;
      guint index;

      if (!property_time (old, zones, rid, &when, error))
        return FALSE;
      if (find_override_at (new_vcalendar, zones, overrides, when) != NULL ||
          exdate_at (new_vcalendar, zones, exdates, when))
        continue;
      if (!find_instance (new_vcalendar, zones, master, when, &index, &start, error))
        return FALSE;
      base = wrap_override (old, old_override, rid);
      target = master_as_occurrence (new_vcalendar, zones, master, start, rid, error);
      if (target == NULL || !add_update (plan, base, target, rid, index, zones, error))
        return FALSE;
    }
  return TRUE;
}

/* DeleteItem of the occurrences @new_vcalendar's EXDATEs name and @old's
 * do not (all of them without @old); an EXDATE @new_vcalendar dropped
 * would restore an occurrence, which EWS cannot. */
static gboolean
plan_deletes (AglEwsSeriesPlan  *plan,
              icalcomponent     *old,
              icalcomponent     *new_vcalendar,
              icalcomponent     *master,
              AglWindowsZones   *zones,
              GError           **error)
{
  icalcomponent *old_master = old != NULL ? find_master (old) : NULL;
  g_autoptr(GPtrArray) exdates = list_exdates (master);
  g_autoptr(GPtrArray) old_exdates = list_exdates (old_master);

  for (guint i = 0; i < old_exdates->len; i++)
    {
      icalproperty *exdate = g_ptr_array_index (old_exdates, i);
      struct icaltimetype when;

      if (!property_time (old, zones, exdate, &when, error))
        return FALSE;
      if (!exdate_at (new_vcalendar, zones, exdates, when))
        {
          g_set_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_CALENDAR_OCCURRENCE_IS_DELETED_FROM_RECURRENCE,
                       _("Exchange cannot restore the deleted occurrence %s of “%s”: delete it "
                         "again, or recreate the series."),
                       icaltime_as_ical_string (when), summary_of (master));
          return FALSE;
        }
    }
  for (guint i = 0; i < exdates->len; i++)
    {
      icalproperty *exdate = g_ptr_array_index (exdates, i);
      struct icaltimetype when, start;
      guint index;
      Step *step;

      if (!property_time (new_vcalendar, zones, exdate, &when, error))
        return FALSE;
      if (old != NULL && exdate_at (old, zones, old_exdates, when))
        continue;
      if (!find_instance (new_vcalendar, zones, master, when, &index, &start, error))
        return FALSE;
      step = g_new0 (Step, 1);
      step->recurrence_id = g_strdup (icaltime_as_ical_string (when));
      step->instance_index = index;
      g_ptr_array_add (plan->deletes, step);
    }
  return TRUE;
}

/**
 * agl_ews_series_plan_new:
 * @old_vcalendar: (nullable): the item as Exchange last had it; %NULL for
 *   a new item, or when no base is known
 * @new_vcalendar: the item as it is now
 * @zones: the Windows zone mapping
 * @error: return location for an error
 *
 * What the occurrences of @new_vcalendar's series need on Exchange once its
 * master is created or updated:
 *
 * - an override that is new, or differs from @old_vcalendar's override at
 *   the same RECURRENCE-ID, is an UpdateItem of that occurrence with the
 *   fields that differ from the old override, else from the master's own
 *   description at that occurrence (so the occurrence becomes an
 *   exception, not a new item);
 * - an override of @old_vcalendar that is gone (and not now an EXDATE) is
 *   an UpdateItem setting the fields it changed back to the master's: EWS
 *   cannot turn an exception back into a plain occurrence;
 * - an EXDATE that is new is a DeleteItem of that occurrence.
 *
 * Without @old_vcalendar, or when the master's RRULE or DTSTART changed
 * (Exchange drops the exceptions of a series whose pattern changes), every
 * override and every EXDATE of @new_vcalendar is written, and nothing else
 * is deleted.
 *
 * Returns: (transfer full): the plan (maybe empty), or %NULL with
 *   %AGL_EWS_CALENDAR_ERROR_INVALID_EVENT for a RECURRENCE-ID or EXDATE
 *   that is not an occurrence of the pattern (or of a series without
 *   RRULE), or %AGL_EWS_ERROR_CALENDAR_OCCURRENCE_IS_DELETED_FROM_RECURRENCE
 *   when an EXDATE of @old_vcalendar was removed: Exchange cannot restore
 *   a deleted occurrence, and the whole change is refused before anything
 *   is sent
 */
AglEwsSeriesPlan *
agl_ews_series_plan_new (icalcomponent    *old_vcalendar,
                         icalcomponent    *new_vcalendar,
                         AglWindowsZones  *zones,
                         GError          **error)
{
  g_autoptr(AglEwsSeriesPlan) plan = NULL;
  icalcomponent *master, *old_master;
  icalcomponent *old = old_vcalendar;

  g_return_val_if_fail (new_vcalendar != NULL, NULL);

  master = find_master (new_vcalendar);
  old_master = old_vcalendar != NULL ? find_master (old_vcalendar) : NULL;
  plan = g_new0 (AglEwsSeriesPlan, 1);
  plan->updates = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  plan->deletes = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  if (master == NULL)
    return g_steal_pointer (&plan);
  if (old_master == NULL ||
      !same_property (old_master, master, ICAL_RRULE_PROPERTY) ||
      !same_property (old_master, master, ICAL_DTSTART_PROPERTY))
    old = NULL;

  if (!plan_overrides (plan, old, new_vcalendar, master, zones, error) ||
      (old != NULL && !plan_reverts (plan, old, new_vcalendar, master, zones, error)) ||
      !plan_deletes (plan, old, new_vcalendar, master, zones, error))
    return NULL;
  return g_steal_pointer (&plan);
}

void
agl_ews_series_plan_free (AglEwsSeriesPlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer (&plan->updates, g_ptr_array_unref);
  g_clear_pointer (&plan->deletes, g_ptr_array_unref);
  g_free (plan);
}

/**
 * agl_ews_series_plan_is_empty:
 * @plan: a plan
 *
 * Returns: %TRUE when no occurrence needs a change
 */
gboolean
agl_ews_series_plan_is_empty (AglEwsSeriesPlan *plan)
{
  g_return_val_if_fail (plan != NULL, TRUE);
  return plan->updates->len == 0 && plan->deletes->len == 0;
}

/**
 * agl_ews_series_plan_get_n_updates:
 * @plan: a plan
 *
 * Returns: how many occurrences get an UpdateItem
 */
guint
agl_ews_series_plan_get_n_updates (AglEwsSeriesPlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->updates->len;
}

/**
 * agl_ews_series_plan_get_n_deletes:
 * @plan: a plan
 *
 * Returns: how many occurrences get a DeleteItem
 */
guint
agl_ews_series_plan_get_n_deletes (AglEwsSeriesPlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->deletes->len;
}

/**
 * agl_ews_series_plan_get_index:
 * @plan: a plan
 * @deletes: %TRUE for the deletions, %FALSE for the updates
 * @i: which one, in the plan's order
 *
 * Returns: the InstanceIndex of that step
 */
guint
agl_ews_series_plan_get_index (AglEwsSeriesPlan *plan,
                               gboolean          deletes,
                               guint             i)
{
  GPtrArray *steps;

  g_return_val_if_fail (plan != NULL, 0);
  steps = deletes ? plan->deletes : plan->updates;
  g_return_val_if_fail (i < steps->len, 0);
  return ((Step *) g_ptr_array_index (steps, i))->instance_index;
}

/* ---- applying it ---- */

static void
write_step_cb (xmlTextWriterPtr writer,
               gpointer         user_data)
{
  Step *step = user_data;

  xmlTextWriterWriteRaw (writer, (const xmlChar *) step->updates);
}

static void
add_failure (ApplyData    *data,
             Step         *step,
             const GError *error)
{
  if (data->failures->len == 0)
    data->failure_code = error->domain == AGL_EWS_ERROR ? (AglEwsError) error->code
                                                       : AGL_EWS_ERROR_INVALID_RESPONSE;
  else
    g_string_append (data->failures, "; ");
  g_string_append_printf (data->failures, _("occurrence %s: %s"), step->recurrence_id, error->message);
}

/* Records every step of @steps that failed, each by its result or, when
 * the whole request failed, by @error. */
static void
collect_failures (ApplyData    *data,
                  GPtrArray    *steps,
                  GPtrArray    *results,
                  const GError *error,
                  gboolean      deleting)
{
  for (guint i = 0; i < steps->len; i++)
    {
      Step *step = g_ptr_array_index (steps, i);
      AglEwsItemResult *ews = results != NULL && i < results->len ? g_ptr_array_index (results, i) : NULL;
      const GError *failure = results == NULL ? error : ews != NULL ? ews->error : NULL;

      if (results != NULL && ews == NULL)
        {
          g_autoptr(GError) missing = g_error_new_literal (AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                                                          _("The server did not answer for it."));

          add_failure (data, step, missing);
          continue;
        }
      /* Already deleted is what was wanted. */
      if (failure == NULL ||
          (deleting && g_error_matches (failure, AGL_EWS_ERROR,
                                        AGL_EWS_ERROR_CALENDAR_OCCURRENCE_IS_DELETED_FROM_RECURRENCE)))
        continue;
      add_failure (data, step, failure);
    }
}

static void
master_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ApplyData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  AglEwsSeriesResult *out = g_new0 (AglEwsSeriesResult, 1);

  results = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (results != NULL && results->len > 0)
    {
      AglEwsItemResult *ews = g_ptr_array_index (results, 0);

      if (ews->error == NULL)
        out->change_key = g_steal_pointer (&ews->change_key);
    }
  if (data->failures->len > 0)
    out->error = g_error_new (AGL_EWS_ERROR, data->failure_code,
                              _("The series was saved on Exchange, but not all its changed or "
                                "deleted occurrences: %s."), data->failures->str);
  g_task_return_pointer (task, out, (GDestroyNotify) agl_ews_series_result_free);
}

static void
read_master (GTask *task)
{
  ApplyData *data = g_task_get_task_data (task);
  AglEwsItemIdRef ref = { AGL_EWS_ITEM_ID, data->master_id, NULL, 0 };

  /* Changing or deleting an occurrence gives the master a new ChangeKey,
   * which only a DeleteItem's caller cannot see: read it back. */
  agl_ews_get_items_async (AGL_EWS_CONNECTION (g_task_get_source_object (task)), &ref, 1,
                           g_task_get_cancellable (task), master_read_cb, task);
}

static void
deleted_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  ApplyData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  results = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  collect_failures (data, data->plan->deletes, results, error, TRUE);
  read_master (task);
}

static void
delete_occurrences (GTask *task)
{
  ApplyData *data = g_task_get_task_data (task);
  GPtrArray *steps = data->plan->deletes;
  g_autofree AglEwsItemIdRef *refs = NULL;

  if (steps->len == 0)
    {
      read_master (task);
      return;
    }
  refs = g_new0 (AglEwsItemIdRef, steps->len);
  for (guint i = 0; i < steps->len; i++)
    {
      refs[i].kind = AGL_EWS_OCCURRENCE_ITEM_ID;
      refs[i].id = data->master_id;
      refs[i].instance_index = ((Step *) g_ptr_array_index (steps, i))->instance_index;
    }
  agl_ews_delete_items_async (AGL_EWS_CONNECTION (g_task_get_source_object (task)),
                              AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS, data->send_cancellations,
                              refs, steps->len, g_task_get_cancellable (task), deleted_cb, task);
}

static void
updated_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  ApplyData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  results = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &error);
  collect_failures (data, data->plan->updates, results, error, FALSE);
  delete_occurrences (task);
}

/**
 * agl_ews_series_apply_async:
 * @connection: a connection
 * @master_id: the ItemId of the series' master on Exchange
 * @plan: (transfer full): what agl_ews_series_plan_new() planned
 * @send_updates: SendMeetingInvitationsOrCancellations of the UpdateItem
 * @send_cancellations: SendMeetingCancellations of the DeleteItem
 * @cancellable: (nullable): cancels the requests
 * @callback: called when done; finish with agl_ews_series_apply_finish()
 * @user_data: for @callback
 *
 * One UpdateItem batch for the changed occurrences, then one DeleteItem
 * batch for the deleted ones, each naming its occurrence with an
 * OccurrenceItemId (RecurringMasterId and InstanceIndex, no ChangeKey:
 * the master's change key was checked by the change that came before),
 * then a GetItem of the master for its final ChangeKey.  A step that fails
 * does not stop the others.
 */
void
agl_ews_series_apply_async (AglEwsConnection    *connection,
                            const char          *master_id,
                            AglEwsSeriesPlan    *plan,
                            AglEwsSendMode       send_updates,
                            AglEwsSendMode       send_cancellations,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  ApplyData *data;
  GPtrArray *steps;
  g_autofree AglEwsItemChange *changes = NULL;

  g_return_if_fail (AGL_IS_EWS_CONNECTION (connection));
  g_return_if_fail (master_id != NULL);
  g_return_if_fail (plan != NULL);

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_ews_series_apply_async);
  data = g_new0 (ApplyData, 1);
  data->master_id = g_strdup (master_id);
  data->plan = plan;
  data->send_updates = send_updates;
  data->send_cancellations = send_cancellations;
  data->failures = g_string_new (NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) apply_data_free);

  steps = plan->updates;
  if (steps->len == 0)
    {
      delete_occurrences (task);
      return;
    }
  changes = g_new0 (AglEwsItemChange, steps->len);
  for (guint i = 0; i < steps->len; i++)
    {
      Step *step = g_ptr_array_index (steps, i);

      changes[i].id.kind = AGL_EWS_OCCURRENCE_ITEM_ID;
      changes[i].id.id = data->master_id;
      changes[i].id.instance_index = step->instance_index;
      changes[i].write_updates = write_step_cb;
      changes[i].user_data = step;
    }
  /* The occurrences carry no ChangeKey: AutoResolve is what applies. */
  agl_ews_update_items_async (connection, AGL_EWS_CONFLICT_AUTO_RESOLVE, send_updates, changes,
                              steps->len, cancellable, updated_cb, task);
}

/**
 * agl_ews_series_apply_finish:
 * @connection: a connection
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the master's change key and the failed steps,
 *   or %NULL when cancelled
 */
AglEwsSeriesResult *
agl_ews_series_apply_finish (AglEwsConnection  *connection,
                             GAsyncResult      *result,
                             GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, connection), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
agl_ews_series_result_free (AglEwsSeriesResult *result)
{
  if (result == NULL)
    return;
  g_free (result->change_key);
  g_clear_error (&result->error);
  g_free (result);
}
