/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many recurrence steps (RRULE instances from the first start on,
 * RDATEs) one appointment may take to reach the end of a range: an hourly
 * series over eleven years, as agl-event.c allows for a series' end. */
#define AGL_OCCURRENCES_MAX_STEPS 100000

/**
 * AglOccurrence:
 * @start: the start, Unix time (seconds, UTC)
 * @end: the end (exclusive), Unix time; equal to @start for an
 *   appointment of no length
 * @all_day: the occurrence's DTSTART is a date: @start and @end are
 *   local midnights
 * @recurrence_id: the start the occurrence has in the series before any
 *   change (its RECURRENCE-ID) as Unix time, or 0 when the appointment
 *   does not repeat
 * @summary: the SUMMARY, "" when there is none
 * @exception: the occurrence was changed on its own (a RECURRENCE-ID
 *   VEVENT, possibly moved, or one with RANGE=THISANDFUTURE before it)
 * @busy_status: X-MICROSOFT-CDO-BUSYSTATUS as written (FREE, TENTATIVE,
 *   BUSY, OOF, WORKINGELSEWHERE), "" when the VEVENT has none
 * @transp: TRANSP (OPAQUE or TRANSPARENT), "" when the VEVENT has none
 *
 * One occurrence of an appointment.  An exception's own SUMMARY, TRANSP
 * and busy status apply to it; where it lacks one, the master's does.
 */
typedef struct {
  gint64    start;
  gint64    end;
  gboolean  all_day;
  gint64    recurrence_id;
  char     *summary;
  gboolean  exception;
  char     *busy_status;
  char     *transp;
} AglOccurrence;

void       agl_occurrence_free         (AglOccurrence *occurrence);

GPtrArray *agl_occurrences_expand      (const char    *ical,
                                        gint64         from,
                                        gint64         to,
                                        GError       **error);
GPtrArray *agl_occurrences_expand_full (const char    *ical,
                                        gint64         from,
                                        gint64         to,
                                        guint          max_steps,
                                        GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglOccurrence, agl_occurrence_free)

G_END_DECLS
