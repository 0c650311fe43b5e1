/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>

#include "agl-windows-zones.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

static char *
fixture_path (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_TEST_FIXTURES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static char *
kit_path (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_KIT");

  /* The kit is part of the test's contract: fail, do not skip. */
  g_assert_nonnull (dir);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  return g_build_filename (dir, name, NULL);
}

static AglWindowsZones *
load_zones (void)
{
  g_autoptr(GError) error = NULL;
  AglWindowsZones *zones = agl_windows_zones_get_default (&error);

  g_assert_no_error (error);
  g_assert_nonnull (zones);
  return zones;
}

static void
test_to_iana (void)
{
  AglWindowsZones *zones = load_zones ();

  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "W. Europe Standard Time"), ==, "Europe/Berlin");
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "Pacific Standard Time"), ==, "America/Los_Angeles");
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "AUS Eastern Standard Time"), ==, "Australia/Sydney");
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "New Zealand Standard Time"), ==, "Pacific/Auckland");
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "E. South America Standard Time"), ==, "America/Sao_Paulo");
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "Tokyo Standard Time"), ==, "Asia/Tokyo");
  g_assert_null (agl_windows_zones_to_iana (zones, "Agendaline Test Standard Time"));
}

/* CLDR still says Asia/Calcutta and Europe/Kiev; tzdata's backward links
 * make them the names libical and the system use. */
static void
test_aliases (void)
{
  AglWindowsZones *zones = load_zones ();

  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "India Standard Time"), ==, "Asia/Kolkata");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Asia/Kolkata"), ==, "India Standard Time");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Asia/Calcutta"), ==, "India Standard Time");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Europe/Kyiv"), ==, "FLE Standard Time");
  g_assert_cmpstr (agl_windows_zones_canonical_iana (zones, "Asia/Calcutta"), ==, "Asia/Kolkata");
}

/* Any mapZone listing a zone counts, not only territory 001. */
static void
test_to_windows (void)
{
  AglWindowsZones *zones = load_zones ();

  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Europe/Berlin"), ==, "W. Europe Standard Time");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Europe/Oslo"), ==, "W. Europe Standard Time");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "Australia/Melbourne"), ==, "AUS Eastern Standard Time");
  g_assert_cmpstr (agl_windows_zones_to_windows (zones, "America/Sao_Paulo"), ==, "E. South America Standard Time");
  g_assert_null (agl_windows_zones_to_windows (zones, "Mars/Olympus_Mons"));
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglWindowsZones) zones = NULL;

  zones = agl_windows_zones_new_from_file ("/nonexistent/windowsZones.xml", NULL, &error);
  g_assert_null (zones);
  g_assert_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "/nonexistent/windowsZones.xml"));
  g_assert_nonnull (strstr (error->message, "unicode-cldr-core"));
}

static void
test_corrupt_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglWindowsZones) zones = NULL;
  g_autofree char *path = fixture_path ("calendar-windowszones-corrupt.xml");

  zones = agl_windows_zones_new_from_file (path, NULL, &error);
  g_assert_null (zones);
  g_assert_error (error, AGL_WINDOWS_ZONES_ERROR, AGL_WINDOWS_ZONES_ERROR_CORRUPT);
}

/* The DTD the file names is neither fetched nor needed: a copy of the
 * real file beside a directory without the DTD still loads. */
static void
test_no_dtd_loaded (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglWindowsZones) zones = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_dir_make_tmp ("agl-zones-XXXXXX", &error);
  g_autofree char *copy = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (AGL_WINDOWS_ZONES_DEFAULT_PATH, &contents, NULL, &error));
  copy = g_build_filename (dir, "windowsZones.xml", NULL);
  g_assert_true (g_file_set_contents (copy, contents, -1, &error));
  zones = agl_windows_zones_new_from_file (copy, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_windows_zones_to_iana (zones, "Romance Standard Time"), ==, "Europe/Paris");
  g_unlink (copy);
  g_rmdir (dir);
}

static gint64
local_to_utc (icalcomponent *vtimezone,
              const char    *local)
{
  icaltimezone *zone = icaltimezone_new ();
  struct icaltimetype time = icaltime_from_string (local);
  gint64 result;

  g_assert_true (icaltimezone_set_component (zone, icalcomponent_new_clone (vtimezone)));
  result = icaltime_as_timet_with_zone (time, zone);
  icaltimezone_free (zone, 1);
  return result;
}

static gint64
utc (const char *iso)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601 (iso, NULL);

  g_assert_nonnull (time);
  return g_date_time_to_unix (time);
}

static xmlNode *
find_element (xmlNode    *node,
              const char *name)
{
  for (; node != NULL; node = node->next)
    {
      xmlNode *found;

      if (node->type == XML_ELEMENT_NODE && strcmp ((const char *) node->name, name) == 0)
        return node;
      found = find_element (node->children, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Eastern time as the kit's GetServerTimeZones sample defines it: the
 * 2006 rules (April/October) before 2007, the 2007 ones after. */
static void
test_definition_from_sample (void)
{
  g_autofree char *path = kit_path ("samples/getservertimezones-response-tzdefinition-msdoc-ex2010.xml");
  g_autoptr(xmlDoc) doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
  g_autoptr(GError) error = NULL;
  g_autoptr(icalcomponent) vtimezone = NULL;
  xmlNode *definition;

  g_assert_nonnull (doc);
  definition = find_element (xmlDocGetRootElement (doc), "TimeZoneDefinition");
  vtimezone = agl_windows_zones_vtimezone_from_definition (definition, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (icalcomponent_get_first_property (vtimezone, ICAL_TZID_PROPERTY) != NULL
                     ? icalproperty_get_tzid (icalcomponent_get_first_property (vtimezone, ICAL_TZID_PROPERTY))
                     : NULL, ==, "Eastern Standard Time");

  /* 2024: daylight from the second Sunday of March (the 10th). */
  g_assert_cmpint (local_to_utc (vtimezone, "20240309T090000"), ==, utc ("2024-03-09T14:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20240311T090000"), ==, utc ("2024-03-11T13:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241102T090000"), ==, utc ("2024-11-02T13:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241104T090000"), ==, utc ("2024-11-04T14:00:00Z"));
  /* 2006: the old rules, daylight from the first Sunday of April. */
  g_assert_cmpint (local_to_utc (vtimezone, "20060320T090000"), ==, utc ("2006-03-20T14:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20060403T090000"), ==, utc ("2006-04-03T13:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20061031T090000"), ==, utc ("2006-10-31T14:00:00Z"));
}

/* A zone CLDR does not know, with Sydney's real rules (southern
 * hemisphere: daylight across the new year). */
static void
test_definition_invented_id (void)
{
  g_autofree char *path = fixture_path ("calendar-item-invented-zone.xml");
  g_autoptr(xmlDoc) doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
  g_autoptr(GError) error = NULL;
  g_autoptr(icalcomponent) vtimezone = NULL;

  g_assert_nonnull (doc);
  vtimezone = agl_windows_zones_vtimezone_from_definition (find_element (xmlDocGetRootElement (doc),
                                                                         "StartTimeZone"),
                                                           &error);
  g_assert_no_error (error);
  g_assert_cmpint (local_to_utc (vtimezone, "20240406T090000"), ==, utc ("2024-04-05T22:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20240407T090000"), ==, utc ("2024-04-06T23:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241005T090000"), ==, utc ("2024-10-04T23:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241006T090000"), ==, utc ("2024-10-05T22:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20250115T090000"), ==, utc ("2025-01-14T22:00:00Z"));
}

static void
test_legacy_zone (void)
{
  g_autofree char *path = fixture_path ("calendar-item-legacy-zone.xml");
  g_autoptr(xmlDoc) doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
  g_autoptr(GError) error = NULL;
  g_autoptr(icalcomponent) vtimezone = NULL;

  g_assert_nonnull (doc);
  vtimezone = agl_windows_zones_vtimezone_from_legacy (find_element (xmlDocGetRootElement (doc),
                                                                     "MeetingTimeZone"),
                                                       &error);
  g_assert_no_error (error);
  g_assert_cmpint (local_to_utc (vtimezone, "20240308T090000"), ==, utc ("2024-03-08T17:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20240312T090000"), ==, utc ("2024-03-12T16:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241101T090000"), ==, utc ("2024-11-01T16:00:00Z"));
  g_assert_cmpint (local_to_utc (vtimezone, "20241105T090000"), ==, utc ("2024-11-05T17:00:00Z"));
}

static void
test_durations (void)
{
  gint64 seconds = 0;

  g_assert_true (agl_ews_parse_duration ("PT8H", &seconds));
  g_assert_cmpint (seconds, ==, 8 * 3600);
  g_assert_true (agl_ews_parse_duration ("-PT1H", &seconds));
  g_assert_cmpint (seconds, ==, -3600);
  g_assert_true (agl_ews_parse_duration ("P0DT7H0M0.0S", &seconds));
  g_assert_cmpint (seconds, ==, 7 * 3600);
  g_assert_true (agl_ews_parse_duration ("-PT5H30M", &seconds));
  g_assert_cmpint (seconds, ==, -(5 * 3600 + 1800));
  g_assert_false (agl_ews_parse_duration ("8 hours", &seconds));
  g_assert_false (agl_ews_parse_duration ("P1Y", &seconds));
  g_assert_false (agl_ews_parse_duration ("PT", &seconds));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/windows-zones/to-iana", test_to_iana);
  g_test_add_func ("/windows-zones/to-windows", test_to_windows);
  g_test_add_func ("/windows-zones/tzdata-aliases", test_aliases);
  g_test_add_func ("/windows-zones/missing-file", test_missing_file);
  g_test_add_func ("/windows-zones/corrupt-file", test_corrupt_file);
  g_test_add_func ("/windows-zones/no-dtd-loaded", test_no_dtd_loaded);
  g_test_add_func ("/windows-zones/duration", test_durations);
  g_test_add_func ("/windows-zones/definition/server-sample-eastern", test_definition_from_sample);
  g_test_add_func ("/windows-zones/definition/invented-id-sydney-rules", test_definition_invented_id);
  g_test_add_func ("/windows-zones/legacy/meeting-time-zone-pacific", test_legacy_zone);

  return g_test_run ();
}
