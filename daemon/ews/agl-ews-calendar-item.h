/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libical/ical.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#include "agl-windows-zones.h"

G_BEGIN_DECLS

#define AGL_EWS_TYPES_NAMESPACE "http://schemas.microsoft.com/exchange/services/2006/types"

#define AGL_EWS_CALENDAR_ERROR (agl_ews_calendar_error_quark ())

/**
 * AglEwsCalendarError:
 * @AGL_EWS_CALENDAR_ERROR_INVALID_ITEM: the CalendarItem lacks what an
 *   appointment needs (an identity, a start) or holds values EWS never sends
 * @AGL_EWS_CALENDAR_ERROR_INVALID_EVENT: the iCalendar side lacks what a
 *   CalendarItem needs (a VEVENT, a DTSTART)
 * @AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE: an RRULE (or a
 *   recurrence part) that Exchange's recurrence patterns cannot express; the
 *   message names the rule
 * @AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE: a time zone neither CLDR nor
 *   the item itself defines
 */
typedef enum {
  AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
  AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
  AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE,
  AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE,
} AglEwsCalendarError;

/**
 * AglEwsWriteFlags:
 * @AGL_EWS_WRITE_DEFAULT: the fields a client may set (CreateItem)
 * @AGL_EWS_WRITE_SERVER_FIELDS: also the fields only Exchange sets
 *   (MyResponseType, Organizer, attendees' ResponseType, ModifiedOccurrences,
 *   DeletedOccurrences), as a GetItem response carries them: for a test
 *   server and for round-trip checks
 */
typedef enum {
  AGL_EWS_WRITE_DEFAULT = 0,
  AGL_EWS_WRITE_SERVER_FIELDS = 1 << 0,
} AglEwsWriteFlags;

/**
 * AglEwsLocalIdentity:
 * @property_set_id: the GUID of the caller's named-property set
 * @property_name: the property's name in that set
 * @value: the local identity (for example the local UID)
 *
 * The local identity written as a String ExtendedProperty, so that the
 * item can be found again after Exchange gives it a new ItemId.
 */
typedef struct
{
  const char *property_set_id;
  const char *property_name;
  const char *value;
} AglEwsLocalIdentity;

GQuark         agl_ews_calendar_error_quark         (void);

icalcomponent *agl_ews_calendar_item_to_vcalendar   (xmlNode                    *item,
                                                     xmlNode * const            *occurrences,
                                                     guint                       n_occurrences,
                                                     AglWindowsZones            *zones,
                                                     GError                    **error);

gboolean       agl_ews_calendar_item_write          (xmlTextWriter              *writer,
                                                     icalcomponent              *vcalendar,
                                                     const char                 *recurrence_id,
                                                     AglWindowsZones            *zones,
                                                     const AglEwsLocalIdentity  *identity,
                                                     AglEwsWriteFlags            flags,
                                                     GError                    **error);

gboolean       agl_ews_calendar_item_write_updates  (xmlTextWriter              *writer,
                                                     icalcomponent              *old_vcalendar,
                                                     icalcomponent              *new_vcalendar,
                                                     const char                 *recurrence_id,
                                                     AglWindowsZones            *zones,
                                                     const AglEwsLocalIdentity  *identity,
                                                     guint                      *n_changes,
                                                     GError                    **error);

char          *agl_ews_calendar_item_get_local_identity (xmlNode    *item,
                                                         const char *property_set_id,
                                                         const char *property_name);

G_END_DECLS
