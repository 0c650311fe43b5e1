/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The end of time for a series without an end (9999-12-31T23:59:59Z). */
#define AGL_ITEM_UNBOUNDED G_GINT64_CONSTANT (253402300799)

/**
 * AglItem:
 * @id: the store's row id (0 before it is stored)
 * @account: the account's name, or %NULL for the local-only agenda
 * @uid: the iCalendar UID
 * @summary: the SUMMARY, "" when there is none
 * @start: the first start, Unix time (seconds, UTC)
 * @end: the end of the first occurrence, Unix time
 * @range_end: the end of the last occurrence (@end for a single event,
 *   %AGL_ITEM_UNBOUNDED for a series without an end)
 * @all_day: DTSTART is a date
 * @recurring: the event has RRULE or RDATE
 * @ical: the VCALENDAR text: the VEVENT, its RECURRENCE-ID exceptions and
 *   the VTIMEZONEs they use
 *
 * One appointment of the local agenda as the store keeps it: the iCalendar
 * text is the truth, the other fields are indexed copies of it (made by
 * agl-event.c).
 */
typedef struct {
  gint64    id;
  char     *account;
  char     *uid;
  char     *summary;
  gint64    start;
  gint64    end;
  gint64    range_end;
  gboolean  all_day;
  gboolean  recurring;
  char     *ical;
} AglItem;

AglItem *agl_item_new  (void);
AglItem *agl_item_copy (const AglItem *item);
void     agl_item_free (AglItem *item);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglItem, agl_item_free)

G_END_DECLS
