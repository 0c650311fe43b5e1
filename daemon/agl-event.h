/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libical/ical.h>

#include "agl-item.h"

G_BEGIN_DECLS

/**
 * AglEvent:
 *
 * One appointment as iCalendar: a VCALENDAR holding the VEVENT of one UID,
 * its RECURRENCE-ID exceptions and the VTIMEZONEs they use, checked to be
 * something the agenda can keep (see agl_event_new_from_string()).
 *
 * Times: a TZID resolves against a VTIMEZONE of the appointment first,
 * then against libical's builtin zones (the system zoneinfo, names such as
 * Europe/Oslo).  Floating date-times (no TZID, no Z) and all-day dates are
 * read in the process's local time zone (the TZ environment variable, else
 * the system's) each time an event is made, so the start, end and
 * range_end of such an appointment follow the zone the daemon runs in.
 *
 * The normalised text (agl_event_to_string()) is VERSION, PRODID, the
 * VTIMEZONEs, the master VEVENT, then its exceptions; METHOD and other
 * calendar-level properties are dropped, a missing UID or DTSTAMP is
 * added, X- and unknown properties are kept byte for byte, lines are folded
 * at 75 octets with CRLF.  Reading it back gives the same text.
 */
typedef struct _AglEvent AglEvent;

AglEvent   *agl_event_new_from_string (const char  *ical,
                                       GError     **error);
GPtrArray  *agl_event_list_from_ics   (const char  *ics,
                                       GError     **error);
void        agl_event_free            (AglEvent    *event);

const char *agl_event_get_uid         (AglEvent    *event);
const char *agl_event_get_summary     (AglEvent    *event);
gint64      agl_event_get_start       (AglEvent    *event);
gint64      agl_event_get_end         (AglEvent    *event);
gint64      agl_event_get_range_end   (AglEvent    *event);
gboolean    agl_event_get_all_day     (AglEvent    *event);
gboolean    agl_event_is_recurring    (AglEvent    *event);
char       *agl_event_to_string       (AglEvent    *event);
AglItem    *agl_event_to_item         (AglEvent    *event,
                                       const char  *account);

char       *agl_event_export          (GPtrArray   *icals,
                                       GError     **error);

AglEvent   *agl_event_new_from_string_with_uid (const char  *ical,
                                                const char  *default_uid,
                                                GError     **error);

/**
 * AglEventTree:
 *
 * One appointment as libical reads it, for the daemon's modules that
 * compute with its VEVENTs (the expansion of a series into occurrences)
 * rather than with the indexed fields of AglEvent: the master VEVENT, its
 * exceptions and, for each, its DTSTART with the zone attached and its
 * length.  Times are read as described for AglEvent, through the same
 * zones, so that both agree to the second.
 */
typedef struct _AglEventTree AglEventTree;

AglEventTree       *agl_event_tree_new            (const char          *ical,
                                                   GError             **error);
void                agl_event_tree_free           (AglEventTree        *tree);
guint               agl_event_tree_get_n_vevents  (AglEventTree        *tree);
icalcomponent      *agl_event_tree_get_vevent     (AglEventTree        *tree,
                                                   guint                index);
struct icaltimetype agl_event_tree_get_dtstart    (AglEventTree        *tree,
                                                   guint                index);
gint64              agl_event_tree_get_start      (AglEventTree        *tree,
                                                   guint                index);
gint64              agl_event_tree_get_end        (AglEventTree        *tree,
                                                   guint                index);
gboolean            agl_event_tree_end_of         (AglEventTree        *tree,
                                                   guint                index,
                                                   struct icaltimetype  start,
                                                   gint64              *out_end);
struct icaltimetype agl_event_tree_attach_zone    (AglEventTree        *tree,
                                                   icalproperty        *prop,
                                                   struct icaltimetype  time);
char               *agl_event_tree_dup_x_property (AglEventTree        *tree,
                                                   guint                index,
                                                   const char          *name);
char               *agl_event_tree_describe       (AglEventTree        *tree);

gboolean            agl_event_time_to_unix        (struct icaltimetype  time,
                                                   gint64              *out_unix);

gboolean    agl_event_rule_is_expandable (const struct icalrecurrencetype *rule);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEvent, agl_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEventTree, agl_event_tree_free)

G_END_DECLS
