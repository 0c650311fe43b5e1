/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>
#include <libical/ical.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

G_BEGIN_DECLS

/* Where Debian's unicode-cldr-core puts the Windows zone mapping. */
#define AGL_WINDOWS_ZONES_DEFAULT_PATH \
  "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml"
/* tzdata's compiled source; its "L target alias" lines are the backward links. */
#define AGL_WINDOWS_ZONES_TZDATA_PATH "/usr/share/zoneinfo/tzdata.zi"

#define AGL_WINDOWS_ZONES_ERROR (agl_windows_zones_error_quark ())

/**
 * AglWindowsZonesError:
 * @AGL_WINDOWS_ZONES_ERROR_MISSING: the CLDR file cannot be read
 * @AGL_WINDOWS_ZONES_ERROR_CORRUPT: the CLDR file is not a windowsZones mapping
 * @AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION: an EWS time zone definition
 *   cannot be turned into a VTIMEZONE
 */
typedef enum {
  AGL_WINDOWS_ZONES_ERROR_MISSING,
  AGL_WINDOWS_ZONES_ERROR_CORRUPT,
  AGL_WINDOWS_ZONES_ERROR_INVALID_DEFINITION,
} AglWindowsZonesError;

#define AGL_TYPE_WINDOWS_ZONES (agl_windows_zones_get_type ())
G_DECLARE_FINAL_TYPE (AglWindowsZones, agl_windows_zones, AGL, WINDOWS_ZONES, GObject)

GQuark           agl_windows_zones_error_quark    (void);

AglWindowsZones *agl_windows_zones_new_from_file  (const char       *cldr_path,
                                                   const char       *tzdata_path,
                                                   GError          **error);
AglWindowsZones *agl_windows_zones_get_default    (GError          **error);

const char      *agl_windows_zones_to_iana        (AglWindowsZones  *self,
                                                   const char       *windows_id);
const char      *agl_windows_zones_to_windows     (AglWindowsZones  *self,
                                                   const char       *iana_id);
const char      *agl_windows_zones_canonical_iana (AglWindowsZones  *self,
                                                   const char       *iana_id);

icalcomponent   *agl_windows_zones_vtimezone_from_definition (xmlNode  *definition,
                                                              GError  **error);
icalcomponent   *agl_windows_zones_vtimezone_from_legacy     (xmlNode  *meeting_time_zone,
                                                              GError  **error);
gboolean         agl_windows_zones_write_definition          (xmlTextWriter  *writer,
                                                              const char     *element,
                                                              const char     *id,
                                                              icalcomponent  *vtimezone,
                                                              GError        **error);

gboolean         agl_ews_parse_duration           (const char       *text,
                                                   gint64           *seconds);

G_END_DECLS
