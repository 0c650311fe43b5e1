/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "agl-ews-calendar-item.h"

/*
 * How a CalendarItem maps to iCalendar (both ways):
 *
 *   Subject               SUMMARY
 *   Body Text             DESCRIPTION
 *   Body HTML             DESCRIPTION (the HTML as plain text) and
 *                         X-ALT-DESC;FMTTYPE=text/html (the HTML itself,
 *                         as Outlook writes it); the HTML is what goes back
 *   Location              LOCATION
 *   Start, End            DTSTART, DTEND with TZID = the item's own zone
 *                         (StartTimeZoneId / StartTimeZone / MeetingTimeZone
 *                         / TimeZone; EndTimeZone for DTEND), a VTIMEZONE for
 *                         it in the VCALENDAR; UTC when the item names none.
 *                         Windows ids go through CLDR; a zone CLDR does not
 *                         know is built from the item's own definition,
 *                         which the VTIMEZONE keeps (X-AGL-EWS-TIMEZONE-*)
 *                         to send back unchanged
 *   IsAllDayEvent         VALUE=DATE; the zone whose midnight Exchange means
 *                         is kept in X-AGL-EWS-TZID (a DATE takes no TZID)
 *   LegacyFreeBusyStatus  X-MICROSOFT-CDO-BUSYSTATUS (the value upper-cased,
 *                         as [MS-OXCICAL] writes FREE, TENTATIVE, BUSY, OOF,
 *                         WORKINGELSEWHERE; NoData becomes NODATA) and TRANSP
 *                         (Free TRANSPARENT, the others OPAQUE)
 *   Sensitivity           CLASS: Normal PUBLIC, Private PRIVATE, Confidential
 *                         CONFIDENTIAL, Personal X-PERSONAL ([MS-OXCICAL]'s
 *                         value for it)
 *   Organizer             ORGANIZER;CN=name:mailto:address
 *   Required/Optional     ATTENDEE;ROLE=REQ-PARTICIPANT / OPT-PARTICIPANT
 *   Resources             ATTENDEE;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT
 *   ResponseType          PARTSTAT: Accept ACCEPTED, Tentative TENTATIVE,
 *                         Decline DECLINED, NoResponseReceived NEEDS-ACTION;
 *                         Unknown (NEEDS-ACTION) and Organizer (ACCEPTED) keep
 *                         their name in X-AGL-EWS-RESPONSETYPE, as PARTSTAT
 *                         alone would merge them with the others
 *   MyResponseType        X-AGL-EWS-MYRESPONSETYPE (Microsoft defines no
 *                         iCalendar property for it, so it is not given a
 *                         Microsoft-looking name)
 *   UID                   UID (Exchange 2010 SP1+); an item without one (2007)
 *                         gets "ews-" + its ItemId, which stays the same while
 *                         the item stays in its folder
 *   ItemId                X-AGL-EWS-ITEMID, on the master and on each
 *                         override: an occurrence edit or deletion is sent to
 *                         Exchange under the occurrence's id
 *   Recurrence            RRULE (see recurrence_to_rrule(), rrule_write())
 *   ModifiedOccurrences   RECURRENCE-ID overrides
 *   DeletedOccurrences    EXDATE
 */

#define AGL_PRODID "-//Agendaline//Agendaline EWS 0.1//EN"

#define X_ALL_DAY_TZID "X-AGL-EWS-TZID"
#define X_ITEM_ID "X-AGL-EWS-ITEMID"
#define X_MY_RESPONSE "X-AGL-EWS-MYRESPONSETYPE"
#define X_RESPONSE_PARAM "X-AGL-EWS-RESPONSETYPE"
#define X_BUSY_STATUS "X-MICROSOFT-CDO-BUSYSTATUS"
#define X_ALT_DESC "X-ALT-DESC"
/* Marks a VTIMEZONE built from Exchange's own definition: its TZID is the
 * Windows id Exchange knows, so it may be sent back as is. */
#define X_TIMEZONE_ID "X-AGL-EWS-TIMEZONE-ID"
/* ... and the definition itself (base64 of its XML), written back with
 * the item so that Exchange gets the rules along with the Id. */
#define X_TIMEZONE_DEFINITION "X-AGL-EWS-TIMEZONE-DEFINITION"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalproperty, icalproperty_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)

G_DEFINE_QUARK (agl-ews-calendar-error-quark, agl_ews_calendar_error)

typedef struct
{
  const char *ews;
  const char *ical;
} NamePair;

static const NamePair busy_names[] = {
  { "Free", "FREE" },
  { "Tentative", "TENTATIVE" },
  { "Busy", "BUSY" },
  { "OOF", "OOF" },
  { "WorkingElsewhere", "WORKINGELSEWHERE" },
  { "NoData", "NODATA" },
};

static const NamePair sensitivity_names[] = {
  { "Normal", "PUBLIC" },
  { "Personal", "X-PERSONAL" },
  { "Private", "PRIVATE" },
  { "Confidential", "CONFIDENTIAL" },
};

static const NamePair response_names[] = {
  { "NoResponseReceived", "NEEDS-ACTION" },
  { "Unknown", "NEEDS-ACTION" },
  { "Accept", "ACCEPTED" },
  { "Tentative", "TENTATIVE" },
  { "Decline", "DECLINED" },
  { "Organizer", "ACCEPTED" },
};

static const char * const ews_days[] = {
  "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
static const char * const ical_days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };
static const char * const ews_months[] = {
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December"
};
static const char * const ews_indexes[] = { "First", "Second", "Third", "Fourth", "Last" };

static const char *
ews_to_ical_name (const NamePair *pairs,
                  gsize           n_pairs,
                  const char     *ews)
{
  for (gsize i = 0; ews != NULL && i < n_pairs; i++)
    if (strcmp (pairs[i].ews, ews) == 0)
      return pairs[i].ical;
  return NULL;
}

static const char *
ical_to_ews_name (const NamePair *pairs,
                  gsize           n_pairs,
                  const char     *ical)
{
  for (gsize i = 0; ical != NULL && i < n_pairs; i++)
    if (g_ascii_strcasecmp (pairs[i].ical, ical) == 0)
      return pairs[i].ews;
  return NULL;
}

static int
name_index (const char * const *names,
            int                 n_names,
            const char         *name)
{
  for (int i = 0; name != NULL && i < n_names; i++)
    if (strcmp (names[i], name) == 0)
      return i;
  return -1;
}

/* ---- reading XML ---- */

static gboolean
is_ews_element (xmlNode    *node,
                const char *name)
{
  return node != NULL && node->type == XML_ELEMENT_NODE &&
         node->ns != NULL && strcmp ((const char *) node->ns->href, AGL_EWS_TYPES_NAMESPACE) == 0 &&
         (name == NULL || strcmp ((const char *) node->name, name) == 0);
}

static xmlNode *
ews_child (xmlNode    *node,
           const char *name)
{
  for (xmlNode *child = node != NULL ? node->children : NULL; child != NULL; child = child->next)
    if (is_ews_element (child, name))
      return child;
  return NULL;
}

static char *
node_text (xmlNode *node)
{
  xmlChar *content;
  char *text;

  if (node == NULL)
    return NULL;
  content = xmlNodeGetContent (node);
  text = g_strdup (content != NULL ? (const char *) content : "");
  xmlFree (content);
  return text;
}

/* The trimmed text of a child, NULL when absent or empty. */
static char *
ews_child_text (xmlNode    *node,
                const char *name)
{
  char *text = node_text (ews_child (node, name));

  if (text != NULL && *g_strstrip (text) == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

static char *
ews_attribute (xmlNode    *node,
               const char *name)
{
  xmlChar *value = node != NULL ? xmlGetProp (node, (const xmlChar *) name) : NULL;
  char *text = value != NULL ? g_strdup ((const char *) value) : NULL;

  xmlFree (value);
  return text;
}

/* An xs:dateTime as EWS writes it ("2006-06-16T00:30:00Z",
 * "2014-03-08T13:21:32.868-08:00"); no offset means UTC, which is what
 * Exchange means without a TimeZoneContext. */
static gboolean
parse_ews_time (const char *text,
                gint64     *out_unix)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) time = NULL;

  if (text == NULL)
    return FALSE;
  time = g_date_time_new_from_iso8601 (text, utc);
  if (time == NULL)
    return FALSE;
  *out_unix = g_date_time_to_unix (time);
  return TRUE;
}

static gboolean
child_time (xmlNode    *node,
            const char *name,
            gint64     *out_unix)
{
  g_autofree char *text = ews_child_text (node, name);

  return parse_ews_time (text, out_unix);
}

/* ---- HTML bodies ---- */

static gboolean
is_block_element (const char *name)
{
  static const char * const blocks[] = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "ul", "ol", "blockquote", "pre", "hr", NULL
  };

  return g_strv_contains (blocks, name);
}

static void
append_html_text (GString *out,
                  xmlNode *node)
{
  for (; node != NULL; node = node->next)
    {
      if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE)
        {
          /* HTML whitespace collapses to one space. */
          for (const char *p = (const char *) node->content; p != NULL && *p != '\0'; p++)
            {
              if (g_ascii_isspace (*p))
                {
                  if (out->len > 0 && out->str[out->len - 1] != ' ' &&
                      out->str[out->len - 1] != '\n')
                    g_string_append_c (out, ' ');
                }
              else
                {
                  g_string_append_c (out, *p);
                }
            }
        }
      else if (node->type == XML_ELEMENT_NODE)
        {
          const char *name = (const char *) node->name;

          if (strcmp (name, "script") == 0 || strcmp (name, "style") == 0 ||
              strcmp (name, "head") == 0 || strcmp (name, "title") == 0)
            continue;
          if (is_block_element (name) && out->len > 0 && out->str[out->len - 1] != '\n')
            {
              if (out->str[out->len - 1] == ' ')
                g_string_truncate (out, out->len - 1);
              g_string_append_c (out, '\n');
            }
          append_html_text (out, node->children);
          if (is_block_element (name) && out->len > 0 && out->str[out->len - 1] != '\n')
            {
              if (out->str[out->len - 1] == ' ')
                g_string_truncate (out, out->len - 1);
              g_string_append_c (out, '\n');
            }
        }
    }
}

/* Plain text for DESCRIPTION, from a body Exchange gives as HTML; parsed
 * without network access, the text of the block elements on lines. */
static char *
html_to_text (const char *html)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  size_t length = strlen (html);

  if (length > G_MAXINT)
    return g_strdup ("");
  doc = htmlReadMemory (html, (int) length, NULL, "UTF-8",
                        HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                        HTML_PARSE_NOIMPLIED);
  if (doc != NULL)
    append_html_text (out, doc->children);
  return g_strdup (g_strstrip (out->str));
}

static void
add_x_property (icalcomponent *component,
                const char    *name,
                const char    *value)
{
  icalproperty *prop = icalproperty_new_x (value);

  icalproperty_set_x_name (prop, name);
  icalcomponent_add_property (component, prop);
}

static const char *
get_x_property (icalcomponent *component,
                const char    *name)
{
  for (icalproperty *prop = icalcomponent_get_first_property (component, ICAL_X_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (component, ICAL_X_PROPERTY))
    if (g_ascii_strcasecmp (icalproperty_get_x_name (prop), name) == 0)
      return icalproperty_get_x (prop);
  return NULL;
}

/* ---- copying EWS elements ---- */

/* Writes @node's attributes and EWS children (as t:…) and text, so a
 * TimeZoneDefinition goes out under the t prefix whatever prefix it came
 * with. */
static int
copy_contents (xmlTextWriter *writer,
               xmlNode       *node)
{
  int rc = 0;

  for (xmlAttr *attr = node->properties; attr != NULL; attr = attr->next)
    {
      xmlChar *value;

      if (attr->ns != NULL)
        continue;
      value = xmlNodeListGetString (node->doc, attr->children, 1);
      rc |= xmlTextWriterWriteAttribute (writer, attr->name, value != NULL ? value : BAD_CAST "");
      xmlFree (value);
    }
  for (xmlNode *child = node->children; child != NULL; child = child->next)
    {
      if (is_ews_element (child, NULL))
        {
          g_autofree char *name = g_strconcat ("t:", (const char *) child->name, NULL);

          rc |= xmlTextWriterStartElement (writer, BAD_CAST name);
          rc |= copy_contents (writer, child);
          rc |= xmlTextWriterEndElement (writer);
        }
      else if (child->type == XML_TEXT_NODE && !xmlIsBlankNode (child))
        {
          rc |= xmlTextWriterWriteString (writer, child->content);
        }
    }
  return rc < 0 ? -1 : 0;
}

static char *
definition_to_base64 (xmlNode *definition)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);
  int rc = 0;

  if (writer == NULL)
    return NULL;
  rc |= xmlTextWriterStartElement (writer, BAD_CAST "t:TimeZoneDefinition");
  rc |= xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:t", BAD_CAST AGL_EWS_TYPES_NAMESPACE);
  rc |= copy_contents (writer, definition);
  rc |= xmlTextWriterEndElement (writer);
  rc |= xmlTextWriterFlush (writer);
  if (rc < 0)
    return NULL;
  return g_base64_encode (xmlBufferContent (buffer), (gsize) xmlBufferLength (buffer));
}

/* ---- building the VCALENDAR ---- */

typedef struct
{
  icalcomponent   *vcalendar;
  AglWindowsZones *zones;
} ReadContext;

/* A VTIMEZONE named @tzid in the VCALENDAR, made from libical's zone for
 * the IANA name; FALSE when the system does not know the zone. */
static gboolean
add_builtin_zone (ReadContext *ctx,
                  const char  *tzid)
{
  icaltimezone *builtin;
  icalcomponent *component;
  icalcomponent *clone;
  icalproperty *prop;

  if (icalcomponent_get_timezone (ctx->vcalendar, tzid) != NULL)
    return TRUE;
  builtin = icaltimezone_get_builtin_timezone (tzid);
  icalerror_clear_errno ();
  component = builtin != NULL ? icaltimezone_get_component (builtin) : NULL;
  if (component == NULL)
    return FALSE;
  clone = icalcomponent_new_clone (component);
  /* libical names its zones "/freeassociation.sourceforge.net/…"; the
   * appointment names them as the world does. */
  prop = icalcomponent_get_first_property (clone, ICAL_TZID_PROPERTY);
  if (prop != NULL)
    icalproperty_set_tzid (prop, tzid);
  else
    icalcomponent_add_property (clone, icalproperty_new_tzid (tzid));
  icalcomponent_add_component (ctx->vcalendar, clone);
  return TRUE;
}

static const char *
add_vtimezone (ReadContext   *ctx,
               icalcomponent *vtimezone,
               const char    *windows_id,
               xmlNode       *definition)
{
  icalproperty *prop = icalcomponent_get_first_property (vtimezone, ICAL_TZID_PROPERTY);
  const char *tzid = prop != NULL ? icalproperty_get_tzid (prop) : NULL;

  if (tzid == NULL)
    {
      icalcomponent_free (vtimezone);
      return NULL;
    }
  if (icalcomponent_get_timezone (ctx->vcalendar, tzid) != NULL)
    {
      /* The same zone for Start and End: the first copy serves both. */
      const char *existing = icaltimezone_get_tzid (icalcomponent_get_timezone (ctx->vcalendar, tzid));

      icalcomponent_free (vtimezone);
      return existing;
    }
  if (windows_id != NULL)
    {
      icalproperty *marker = icalproperty_new_x (windows_id);

      icalproperty_set_x_name (marker, X_TIMEZONE_ID);
      icalcomponent_add_property (vtimezone, marker);
    }
  if (windows_id != NULL && definition != NULL)
    {
      g_autofree char *encoded = definition_to_base64 (definition);

      if (encoded != NULL)
        add_x_property (vtimezone, X_TIMEZONE_DEFINITION, encoded);
    }
  icalcomponent_add_component (ctx->vcalendar, vtimezone);
  return icaltimezone_get_tzid (icalcomponent_get_timezone (ctx->vcalendar, tzid));
}

/* The TZID (with its VTIMEZONE added) for a Windows zone id, or NULL. */
static const char *
zone_from_windows_id (ReadContext *ctx,
                      const char  *windows_id)
{
  const char *iana = agl_windows_zones_to_iana (ctx->zones, windows_id);

  if (iana == NULL && windows_id != NULL && strchr (windows_id, '/') != NULL)
    iana = agl_windows_zones_canonical_iana (ctx->zones, windows_id);
  /* Exchange's "UTC" is CLDR's Etc/UTC: plain UTC times say it better. */
  if (iana != NULL && (strcmp (iana, "Etc/UTC") == 0 || strcmp (iana, "Etc/GMT") == 0))
    return NULL;
  if (iana != NULL && add_builtin_zone (ctx, iana))
    return icaltimezone_get_tzid (icalcomponent_get_timezone (ctx->vcalendar, iana));
  return NULL;
}

/* The item's zone for its Start (@end FALSE) or End, in the order the
 * Exchange versions introduced them: StartTimeZoneId (2013), StartTimeZone
 * (2010, with its full definition), MeetingTimeZone (2007), TimeZone (the
 * display name 2007 reports).  NULL for UTC. */
static gboolean
resolve_item_zone (ReadContext  *ctx,
                   xmlNode      *item,
                   gboolean      end,
                   const char  **out_tzid,
                   GError      **error)
{
  g_autofree char *zone_id = ews_child_text (item, end ? "EndTimeZoneId" : "StartTimeZoneId");
  xmlNode *definition = ews_child (item, end ? "EndTimeZone" : "StartTimeZone");
  xmlNode *legacy = ews_child (item, "MeetingTimeZone");
  g_autofree char *display = ews_child_text (item, "TimeZone");
  const char *tzid = NULL;

  *out_tzid = NULL;
  if (zone_id != NULL)
    tzid = zone_from_windows_id (ctx, zone_id);
  if (tzid == NULL && definition != NULL)
    {
      g_autofree char *id = ews_attribute (definition, "Id");

      tzid = zone_from_windows_id (ctx, id);
      if (tzid == NULL && ews_child (definition, "Periods") != NULL)
        {
          icalcomponent *vtimezone = agl_windows_zones_vtimezone_from_definition (definition, error);

          if (vtimezone == NULL)
            return FALSE;
          tzid = add_vtimezone (ctx, vtimezone, id, definition);
        }
    }
  if (tzid == NULL && legacy != NULL)
    {
      g_autofree char *name = ews_attribute (legacy, "TimeZoneName");

      tzid = zone_from_windows_id (ctx, name);
      if (tzid == NULL && ews_child (legacy, "BaseOffset") != NULL)
        {
          icalcomponent *vtimezone = agl_windows_zones_vtimezone_from_legacy (legacy, error);

          if (vtimezone == NULL)
            return FALSE;
          tzid = add_vtimezone (ctx, vtimezone, NULL, NULL);
        }
    }
  if (tzid == NULL && display != NULL)
    tzid = zone_from_windows_id (ctx, display);
  if (tzid == NULL && end)
    return resolve_item_zone (ctx, item, FALSE, out_tzid, error);

  *out_tzid = tzid;
  return TRUE;
}

/* @when in the zone @tzid of the calendar (UTC when NULL), as a property
 * value with its TZID parameter set by hand: libical 3.0 would name its
 * own zone. */
static icalproperty *
time_property (ReadContext    *ctx,
               icalproperty_kind kind,
               gint64          when,
               const char     *tzid,
               gboolean        is_date)
{
  icaltimezone *zone = tzid != NULL ? icalcomponent_get_timezone (ctx->vcalendar, tzid) : NULL;
  struct icaltimetype time;
  icalproperty *prop = icalproperty_new (kind);

  time = icaltime_from_timet_with_zone ((time_t) when, 0,
                                        zone != NULL ? zone : icaltimezone_get_utc_timezone ());
  if (is_date)
    {
      time.is_date = 1;
      time.hour = time.minute = time.second = 0;
      time.zone = NULL;
      icalproperty_set_value (prop, icalvalue_new_date (time));
      return prop;
    }
  if (zone == NULL)
    {
      icalproperty_set_value (prop, icalvalue_new_datetime (time));
      return prop;
    }
  time.zone = NULL;
  icalproperty_set_value (prop, icalvalue_new_datetime (time));
  icalproperty_add_parameter (prop, icalparameter_new_tzid (tzid));
  return prop;
}

static char *
mailto (const char *address)
{
  return g_strconcat ("mailto:", address != NULL ? address : "", NULL);
}

static void
add_organizer (icalcomponent *vevent,
               xmlNode       *item)
{
  xmlNode *mailbox = ews_child (ews_child (item, "Organizer"), "Mailbox");
  g_autofree char *name = ews_child_text (mailbox, "Name");
  g_autofree char *address = ews_child_text (mailbox, "EmailAddress");
  g_autofree char *uri = NULL;
  icalproperty *prop;

  if (mailbox == NULL || (name == NULL && address == NULL))
    return;
  uri = mailto (address);
  prop = icalproperty_new_organizer (uri);
  if (name != NULL)
    icalproperty_add_parameter (prop, icalparameter_new_cn (name));
  icalcomponent_add_property (vevent, prop);
}

static void
add_attendees (icalcomponent        *vevent,
               xmlNode              *item,
               const char           *list,
               icalparameter_role    role,
               gboolean              resource)
{
  for (xmlNode *attendee = ews_child (ews_child (item, list), "Attendee"); attendee != NULL;
       attendee = attendee->next)
    {
      xmlNode *mailbox = ews_child (attendee, "Mailbox");
      g_autofree char *name = ews_child_text (mailbox, "Name");
      g_autofree char *address = ews_child_text (mailbox, "EmailAddress");
      g_autofree char *response = ews_child_text (attendee, "ResponseType");
      g_autofree char *uri = NULL;
      const char *partstat;
      icalproperty *prop;

      if (!is_ews_element (attendee, "Attendee"))
        continue;
      uri = mailto (address);
      prop = icalproperty_new_attendee (uri);
      if (name != NULL)
        icalproperty_add_parameter (prop, icalparameter_new_cn (name));
      if (resource)
        icalproperty_add_parameter (prop, icalparameter_new_cutype (ICAL_CUTYPE_RESOURCE));
      icalproperty_add_parameter (prop, icalparameter_new_role (role));
      partstat = ews_to_ical_name (response_names, G_N_ELEMENTS (response_names), response);
      if (partstat != NULL)
        {
          icalparameter *param = icalparameter_new_from_value_string (ICAL_PARTSTAT_PARAMETER,
                                                                      partstat);

          icalproperty_add_parameter (prop, param);
          if (strcmp (response, "Unknown") == 0 || strcmp (response, "Organizer") == 0)
            {
              icalparameter *x = icalparameter_new_x (response);

              icalparameter_set_xname (x, X_RESPONSE_PARAM);
              icalproperty_add_parameter (prop, x);
            }
        }
      icalcomponent_add_property (vevent, prop);
    }
}

static int
index_to_position (const char *index)
{
  int i = name_index (ews_indexes, 5, index);

  return i < 0 ? 0 : (i == 4 ? -1 : i + 1);
}

/* Exchange's DayOfMonth 29, 30 or 31 and RRULE's BYMONTHDAY part ways in
 * shorter months.  Microsoft's EWS reference (the DayOfMonth and
 * AbsoluteMonthlyRecurrence element pages on learn.microsoft.com, also
 * AbsoluteMonthlyRecurrencePatternType.DayOfMonth for Exchange 2010) says
 * a DayOfMonth beyond the length of a month stands for that month's last
 * day: DayOfMonth 31 is 30 April and 28 or 29 February, for monthly and
 * yearly patterns alike; Outlook's IRecurrencePattern.DayOfMonth is
 * documented the same way.  RFC 5545 instead drops a BYMONTHDAY a month
 * does not have, so BYMONTHDAY=31 skips April.  The faithful RRULE takes
 * the last of the days 28 to D that the month has:
 * BYMONTHDAY=28,29,30,31;BYSETPOS=-1 for D = 31.  Back the other way only
 * that shape (and BYMONTHDAY=-1, always the last day) becomes DayOfMonth
 * D; a plain BYMONTHDAY=D that would land in a shorter month is refused,
 * as Exchange would add the occurrences the rule skips. */

/* The fewest days @month (1 to 12) has in any year. */
static int
shortest_month_length (int month)
{
  static const int lengths[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  return lengths[month - 1];
}

/* ";BYMONTHDAY=…" for DayOfMonth @mday in months at least @shortest days
 * long: the day itself where every such month has it, else the last of
 * the days 28 to @mday the month has. */
static void
append_month_day (GString *rule,
                  int      mday,
                  int      shortest)
{
  if (mday <= shortest)
    {
      g_string_append_printf (rule, ";BYMONTHDAY=%d", mday);
      return;
    }
  g_string_append (rule, ";BYMONTHDAY=28");
  for (int day = 29; day <= mday; day++)
    g_string_append_printf (rule, ",%d", day);
  g_string_append (rule, ";BYSETPOS=-1");
}

/* "BYDAY=…" for a RelativeMonthly/RelativeYearly DaysOfWeek and
 * DayOfWeekIndex: one weekday becomes "2TU"; Day, Weekday and WeekendDay
 * become the day set with BYSETPOS, the RFC 5545 form of "the second
 * weekday of the month". */
static gboolean
append_relative_days (GString    *rule,
                      const char *days,
                      const char *index)
{
  int position = index_to_position (index);
  int day = name_index (ews_days, 7, days);

  if (position == 0 || days == NULL)
    return FALSE;
  if (day >= 0)
    g_string_append_printf (rule, ";BYDAY=%d%s", position, ical_days[day]);
  else if (strcmp (days, "Day") == 0)
    g_string_append_printf (rule, ";BYDAY=SU,MO,TU,WE,TH,FR,SA;BYSETPOS=%d", position);
  else if (strcmp (days, "Weekday") == 0)
    g_string_append_printf (rule, ";BYDAY=MO,TU,WE,TH,FR;BYSETPOS=%d", position);
  else if (strcmp (days, "WeekendDay") == 0)
    g_string_append_printf (rule, ";BYDAY=SU,SA;BYSETPOS=%d", position);
  else
    return FALSE;
  return TRUE;
}

static gboolean
append_interval (GString *rule,
                 xmlNode *pattern)
{
  g_autofree char *interval = ews_child_text (pattern, "Interval");
  int value = interval != NULL ? atoi (interval) : 0;

  if (value < 1 || value > 999)
    return FALSE;
  if (value > 1)
    g_string_append_printf (rule, ";INTERVAL=%d", value);
  return TRUE;
}

/* The RRULE text of a Recurrence element; @start_tzid and @all_day say how
 * EndDateRecurrence's EndDate (a date in the item's zone, inclusive)
 * becomes UNTIL: the DTSTART time of day on that date, in UTC. */
static char *
recurrence_to_rrule (ReadContext *ctx,
                     xmlNode     *recurrence,
                     gint64       start,
                     const char  *start_tzid,
                     gboolean     all_day,
                     GError     **error)
{
  static const char * const range_names[] = {
    "NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence", NULL
  };
  g_autoptr(GString) rule = g_string_new ("FREQ=");
  xmlNode *pattern = NULL, *range = NULL;
  gboolean ok = FALSE;

  for (xmlNode *child = recurrence->children; child != NULL; child = child->next)
    {
      if (!is_ews_element (child, NULL))
        continue;
      if (g_strv_contains (range_names, (const char *) child->name))
        range = child;
      else if (pattern == NULL)
        pattern = child;
    }
  if (pattern != NULL)
    {
      const char *kind = (const char *) pattern->name;
      g_autofree char *days = ews_child_text (pattern, "DaysOfWeek");
      g_autofree char *index = ews_child_text (pattern, "DayOfWeekIndex");
      g_autofree char *day_of_month = ews_child_text (pattern, "DayOfMonth");
      g_autofree char *month = ews_child_text (pattern, "Month");
      int month_number = name_index (ews_months, 12, month) + 1;
      int mday = day_of_month != NULL ? atoi (day_of_month) : 0;

      if (strcmp (kind, "DailyRecurrence") == 0)
        {
          g_string_append (rule, "DAILY");
          ok = append_interval (rule, pattern);
        }
      else if (strcmp (kind, "WeeklyRecurrence") == 0)
        {
          g_autofree char *first = ews_child_text (pattern, "FirstDayOfWeek");
          g_auto(GStrv) list = g_strsplit (days != NULL ? days : "", " ", -1);
          int wkst = name_index (ews_days, 7, first);
          guint n = 0;

          g_string_append (rule, "WEEKLY");
          ok = append_interval (rule, pattern);
          int mask = 0;

          for (guint i = 0; ok && list[i] != NULL; i++)
            {
              int day = name_index (ews_days, 7, list[i]);

              if (*list[i] == '\0')
                continue;
              if (day >= 0)
                mask |= 1 << day;
              else if (strcmp (list[i], "Day") == 0)
                mask |= 0x7f;
              else if (strcmp (list[i], "Weekday") == 0)
                mask |= 0x3e;
              else if (strcmp (list[i], "WeekendDay") == 0)
                mask |= 0x41;
              else
                ok = FALSE;
            }
          for (int day = 0; day < 7; day++)
            if ((mask & (1 << day)) != 0)
              {
                g_string_append (rule, n++ == 0 ? ";BYDAY=" : ",");
                g_string_append (rule, ical_days[day]);
              }
          ok = ok && n > 0;
          if (wkst >= 0)
            g_string_append_printf (rule, ";WKST=%s", ical_days[wkst]);
        }
      else if (strcmp (kind, "AbsoluteMonthlyRecurrence") == 0)
        {
          g_string_append (rule, "MONTHLY");
          ok = append_interval (rule, pattern) && mday >= 1 && mday <= 31;
          /* Any month of the series may be a February. */
          if (ok)
            append_month_day (rule, mday, shortest_month_length (2));
        }
      else if (strcmp (kind, "RelativeMonthlyRecurrence") == 0)
        {
          g_string_append (rule, "MONTHLY");
          ok = append_interval (rule, pattern) && append_relative_days (rule, days, index);
        }
      else if (strcmp (kind, "AbsoluteYearlyRecurrence") == 0)
        {
          g_string_append_printf (rule, "YEARLY;BYMONTH=%d", month_number);
          ok = month_number >= 1 && mday >= 1 && mday <= 31;
          if (ok)
            append_month_day (rule, mday, shortest_month_length (month_number));
        }
      else if (strcmp (kind, "RelativeYearlyRecurrence") == 0)
        {
          g_string_append_printf (rule, "YEARLY;BYMONTH=%d", month_number);
          ok = month_number >= 1 && append_relative_days (rule, days, index);
        }
    }

  if (ok && range != NULL && strcmp ((const char *) range->name, "NumberedRecurrence") == 0)
    {
      g_autofree char *count = ews_child_text (range, "NumberOfOccurrences");

      ok = count != NULL && atoi (count) >= 1;
      g_string_append_printf (rule, ";COUNT=%d", count != NULL ? atoi (count) : 0);
    }
  else if (ok && range != NULL && strcmp ((const char *) range->name, "EndDateRecurrence") == 0)
    {
      g_autofree char *end_date = ews_child_text (range, "EndDate");
      int year = 0, month = 0, day = 0;

      ok = end_date != NULL && sscanf (end_date, "%d-%d-%d", &year, &month, &day) == 3 &&
           g_date_valid_dmy (day, month, year);
      if (ok && all_day)
        {
          g_string_append_printf (rule, ";UNTIL=%04d%02d%02d", year, month, day);
        }
      else if (ok)
        {
          icaltimezone *zone = start_tzid != NULL
                                 ? icalcomponent_get_timezone (ctx->vcalendar, start_tzid)
                                 : icaltimezone_get_utc_timezone ();
          struct icaltimetype first = icaltime_from_timet_with_zone ((time_t) start, 0, zone);
          struct icaltimetype until = first;
          time_t until_unix;
          g_autoptr(GDateTime) until_utc = NULL;
          g_autofree char *text = NULL;

          until.year = year;
          until.month = month;
          until.day = day;
          until_unix = icaltime_as_timet_with_zone (until, zone);
          until_utc = g_date_time_new_from_unix_utc (until_unix);
          text = g_date_time_format (until_utc, "%Y%m%dT%H%M%SZ");
          g_string_append_printf (rule, ";UNTIL=%s", text);
        }
    }
  else if (ok)
    {
      ok = range != NULL;
    }

  if (!ok)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                   _("The server sent a recurrence (“%s”) that cannot be read."),
                   pattern != NULL ? (const char *) pattern->name : "");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&rule), FALSE);
}

/* Start and End; a RecurringMaster asked for only some properties may
 * carry them in FirstOccurrence alone (the kit's ex2013 sample does). */
static gboolean
item_times (xmlNode *item,
            gint64  *start,
            gint64  *end)
{
  xmlNode *first = ews_child (item, "FirstOccurrence");

  if (!child_time (item, "Start", start))
    {
      if (!child_time (first, "Start", start))
        return FALSE;
      if (!child_time (first, "End", end))
        *end = *start;
    }
  else if (!child_time (item, "End", end))
    {
      *end = *start;
    }
  if (*end < *start)
    *end = *start;
  return TRUE;
}

/* The properties of one VEVENT (a master or an occurrence) from @item. */
static gboolean
map_item (ReadContext    *ctx,
          xmlNode        *item,
          icalcomponent  *vevent,
          const char     *uid,
          GError        **error)
{
  g_autofree char *subject = ews_child_text (item, "Subject");
  g_autofree char *location = ews_child_text (item, "Location");
  g_autofree char *all_day_text = ews_child_text (item, "IsAllDayEvent");
  g_autofree char *busy = ews_child_text (item, "LegacyFreeBusyStatus");
  g_autofree char *sensitivity = ews_child_text (item, "Sensitivity");
  g_autofree char *my_response = ews_child_text (item, "MyResponseType");
  g_autofree char *item_id = ews_attribute (ews_child (item, "ItemId"), "Id");
  xmlNode *body = ews_child (item, "Body");
  const char *start_tzid = NULL, *end_tzid = NULL;
  gboolean all_day = g_strcmp0 (all_day_text, "true") == 0 || g_strcmp0 (all_day_text, "1") == 0;
  gint64 start, end, modified;

  if (!item_times (item, &start, &end))
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                   _("The server sent the appointment “%s” without a start time."),
                   subject != NULL ? subject : uid);
      return FALSE;
    }
  if (!resolve_item_zone (ctx, item, FALSE, &start_tzid, error) ||
      !resolve_item_zone (ctx, item, TRUE, &end_tzid, error))
    return FALSE;

  icalcomponent_add_property (vevent, icalproperty_new_uid (uid));
  if (item_id != NULL)
    add_x_property (vevent, X_ITEM_ID, item_id);
  if (subject != NULL)
    icalcomponent_add_property (vevent, icalproperty_new_summary (subject));
  /* When Exchange last changed it: the "newer wins" conflict policy
   * compares it with the time of the local edit. */
  if (child_time (item, "LastModifiedTime", &modified))
    icalcomponent_add_property (vevent,
                                icalproperty_new_lastmodified (
                                  icaltime_from_timet_with_zone ((time_t) modified, FALSE,
                                                                 icaltimezone_get_utc_timezone ())));

  if (body != NULL)
    {
      g_autofree char *type = ews_attribute (body, "BodyType");
      g_autofree char *text = node_text (body);

      if (text != NULL && *text != '\0' && g_strcmp0 (type, "HTML") == 0)
        {
          g_autofree char *plain = html_to_text (text);
          icalproperty *alt = icalproperty_new_x (text);

          icalcomponent_add_property (vevent, icalproperty_new_description (plain));
          icalproperty_set_x_name (alt, X_ALT_DESC);
          icalproperty_add_parameter (alt, icalparameter_new_fmttype ("text/html"));
          icalcomponent_add_property (vevent, alt);
        }
      else if (text != NULL && *text != '\0')
        {
          icalcomponent_add_property (vevent, icalproperty_new_description (text));
        }
    }
  if (location != NULL)
    icalcomponent_add_property (vevent, icalproperty_new_location (location));

  icalcomponent_add_property (vevent, time_property (ctx, ICAL_DTSTART_PROPERTY, start,
                                                     start_tzid, all_day));
  icalcomponent_add_property (vevent, time_property (ctx, ICAL_DTEND_PROPERTY, end,
                                                     all_day ? start_tzid : end_tzid, all_day));
  if (all_day && start_tzid != NULL)
    add_x_property (vevent, X_ALL_DAY_TZID, start_tzid);

  if (busy != NULL)
    {
      const char *value = ews_to_ical_name (busy_names, G_N_ELEMENTS (busy_names), busy);

      if (value == NULL)
        {
          g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                       _("The server sent an unknown free/busy status “%s”."), busy);
          return FALSE;
        }
      add_x_property (vevent, X_BUSY_STATUS, value);
      icalcomponent_add_property (vevent,
                                  icalproperty_new_transp (strcmp (busy, "Free") == 0
                                                             ? ICAL_TRANSP_TRANSPARENT
                                                             : ICAL_TRANSP_OPAQUE));
    }
  if (sensitivity != NULL)
    {
      const char *value = ews_to_ical_name (sensitivity_names, G_N_ELEMENTS (sensitivity_names),
                                            sensitivity);

      if (value == NULL)
        {
          g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                       _("The server sent an unknown sensitivity “%s”."), sensitivity);
          return FALSE;
        }
      g_autofree char *line = g_strconcat ("CLASS:", value, NULL);

      icalcomponent_add_property (vevent, icalproperty_new_from_string (line));
    }
  if (my_response != NULL)
    add_x_property (vevent, X_MY_RESPONSE, my_response);
  add_organizer (vevent, item);
  add_attendees (vevent, item, "RequiredAttendees", ICAL_ROLE_REQPARTICIPANT, FALSE);
  add_attendees (vevent, item, "OptionalAttendees", ICAL_ROLE_OPTPARTICIPANT, FALSE);
  add_attendees (vevent, item, "Resources", ICAL_ROLE_NONPARTICIPANT, TRUE);
  return TRUE;
}

/* The zone and all-day flag the master's DTSTART was given, for the
 * RECURRENCE-IDs, EXDATEs and UNTIL that must match it. */
static const char *
dtstart_tzid (icalcomponent *vevent,
              gboolean      *all_day)
{
  icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_DTSTART_PROPERTY);
  icalparameter *param = prop != NULL ? icalproperty_get_first_parameter (prop, ICAL_TZID_PARAMETER) : NULL;

  *all_day = prop != NULL && icalproperty_get_dtstart (prop).is_date;
  if (*all_day)
    return get_x_property (vevent, X_ALL_DAY_TZID);
  return param != NULL ? icalparameter_get_tzid (param) : NULL;
}

static gboolean
same_instant (xmlNode    *node,
              const char *name,
              gint64      when)
{
  gint64 other;

  return child_time (node, name, &other) && other == when;
}

/* The separately fetched occurrence item for a ModifiedOccurrences entry:
 * the same ItemId, else the same original start. */
static xmlNode *
find_occurrence (xmlNode * const *occurrences,
                 guint            n_occurrences,
                 const char      *item_id,
                 gint64           original_start)
{
  for (guint i = 0; i < n_occurrences; i++)
    {
      g_autofree char *id = ews_attribute (ews_child (occurrences[i], "ItemId"), "Id");

      if (item_id != NULL && g_strcmp0 (id, item_id) == 0)
        return occurrences[i];
    }
  for (guint i = 0; i < n_occurrences; i++)
    if (same_instant (occurrences[i], "OriginalStart", original_start) ||
        same_instant (occurrences[i], "RecurrenceId", original_start))
      return occurrences[i];
  return NULL;
}

/* An override made from the master's description with the occurrence's
 * own times, when only the ModifiedOccurrences entry is known: the
 * occurrence keeps the series' subject and attendees instead of showing
 * up empty. */
static icalcomponent *
override_from_master (ReadContext   *ctx,
                      icalcomponent *master,
                      xmlNode       *occurrence,
                      const char    *item_id,
                      GError       **error)
{
  static const icalproperty_kind dropped[] = {
    ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY, ICAL_EXDATE_PROPERTY,
    ICAL_DTSTART_PROPERTY, ICAL_DTEND_PROPERTY,
  };
  g_autoptr(icalcomponent) vevent = icalcomponent_new_clone (master);
  const char *start_tzid, *end_tzid = NULL;
  icalproperty *end_prop = icalcomponent_get_first_property (master, ICAL_DTEND_PROPERTY);
  icalparameter *end_param = NULL;
  gboolean all_day;
  gint64 start, end;
  icalproperty *prop;

  if (!child_time (occurrence, "Start", &start))
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                   _("The server sent a changed occurrence without a start time."));
      return NULL;
    }
  if (!child_time (occurrence, "End", &end) || end < start)
    end = start;
  for (gsize i = 0; i < G_N_ELEMENTS (dropped); i++)
    while ((prop = icalcomponent_get_first_property (vevent, dropped[i])) != NULL)
      {
        icalcomponent_remove_property (vevent, prop);
        icalproperty_free (prop);
      }
  for (prop = icalcomponent_get_first_property (vevent, ICAL_X_PROPERTY); prop != NULL;)
    {
      icalproperty *next = icalcomponent_get_next_property (vevent, ICAL_X_PROPERTY);

      if (g_ascii_strcasecmp (icalproperty_get_x_name (prop), X_ITEM_ID) == 0)
        {
          icalcomponent_remove_property (vevent, prop);
          icalproperty_free (prop);
        }
      prop = next;
    }
  if (item_id != NULL)
    add_x_property (vevent, X_ITEM_ID, item_id);
  start_tzid = dtstart_tzid (master, &all_day);
  if (end_prop != NULL)
    end_param = icalproperty_get_first_parameter (end_prop, ICAL_TZID_PARAMETER);
  if (end_param != NULL)
    end_tzid = icalparameter_get_tzid (end_param);
  icalcomponent_add_property (vevent, time_property (ctx, ICAL_DTSTART_PROPERTY, start,
                                                     start_tzid, all_day));
  icalcomponent_add_property (vevent, time_property (ctx, ICAL_DTEND_PROPERTY, end,
                                                     all_day ? start_tzid : end_tzid, all_day));
  return g_steal_pointer (&vevent);
}

/**
 * agl_ews_calendar_item_to_vcalendar:
 * @item: a CalendarItem element (EWS types namespace) from a GetItem or
 *   FindItem response
 * @occurrences: (array length=n_occurrences) (nullable): the occurrence
 *   CalendarItems of the master's ModifiedOccurrences, fetched separately
 *   (the master lists only their ItemId, Start, End and OriginalStart)
 * @n_occurrences: the number of @occurrences
 * @zones: the Windows zone mapping
 * @error: return location for an error
 *
 * Maps a CalendarItem to an appointment: a VCALENDAR holding the VTIMEZONEs
 * it uses, the VEVENT and one RECURRENCE-ID override per modified
 * occurrence (see the table at the top of this file).  An override whose
 * occurrence item was not given is made from the master's properties with
 * the occurrence's own Start and End.
 *
 * Returns: (transfer full): the VCALENDAR, or %NULL with an
 *   %AGL_EWS_CALENDAR_ERROR or %AGL_WINDOWS_ZONES_ERROR
 */
icalcomponent *
agl_ews_calendar_item_to_vcalendar (xmlNode         *item,
                                    xmlNode * const *occurrences,
                                    guint            n_occurrences,
                                    AglWindowsZones *zones,
                                    GError         **error)
{
  g_autoptr(icalcomponent) vcalendar = NULL;
  g_autoptr(icalcomponent) vevent = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *item_id = NULL;
  xmlNode *recurrence, *deleted, *modified;
  ReadContext ctx;
  icalcomponent *master;
  const char *start_tzid;
  gboolean all_day;

  g_return_val_if_fail (item != NULL, NULL);
  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (zones), NULL);

  if (!is_ews_element (item, "CalendarItem"))
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                   _("The server sent “%s” where a calendar item was expected."),
                   (const char *) item->name);
      return NULL;
    }
  uid = ews_child_text (item, "UID");
  item_id = ews_attribute (ews_child (item, "ItemId"), "Id");
  if (uid == NULL && item_id != NULL)
    uid = g_strconcat ("ews-", item_id, NULL);
  if (uid == NULL)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                   _("The server sent a calendar item with neither a UID nor an item id."));
      return NULL;
    }

  vcalendar = icalcomponent_new_vcalendar ();
  icalcomponent_add_property (vcalendar, icalproperty_new_version ("2.0"));
  icalcomponent_add_property (vcalendar, icalproperty_new_prodid (AGL_PRODID));
  ctx.vcalendar = vcalendar;
  ctx.zones = zones;

  vevent = icalcomponent_new_vevent ();
  if (!map_item (&ctx, item, vevent, uid, error))
    return NULL;
  start_tzid = dtstart_tzid (vevent, &all_day);

  recurrence = ews_child (item, "Recurrence");
  if (recurrence != NULL)
    {
      gint64 start = 0, unused = 0;
      g_autofree char *rule = NULL;
      struct icalrecurrencetype recur;

      item_times (item, &start, &unused);
      rule = recurrence_to_rrule (&ctx, recurrence, start, start_tzid, all_day, error);
      if (rule == NULL)
        return NULL;
      recur = icalrecurrencetype_from_string (rule);
      icalerror_clear_errno ();
      icalcomponent_add_property (vevent, icalproperty_new_rrule (recur));
    }

  deleted = ews_child (item, "DeletedOccurrences");
  for (xmlNode *occurrence = ews_child (deleted, "DeletedOccurrence"); occurrence != NULL;
       occurrence = occurrence->next)
    {
      gint64 when;

      if (is_ews_element (occurrence, "DeletedOccurrence") && child_time (occurrence, "Start", &when))
        icalcomponent_add_property (vevent, time_property (&ctx, ICAL_EXDATE_PROPERTY, when,
                                                           start_tzid, all_day));
    }

  /* An occurrence or exception fetched on its own (FindItem's
   * CalendarView, a GetItem of its id) is an override of its series. */
  if (ews_child (item, "Recurrence") == NULL)
    {
      g_autofree char *kind = ews_child_text (item, "CalendarItemType");
      gint64 original_start;

      if ((g_strcmp0 (kind, "Occurrence") == 0 || g_strcmp0 (kind, "Exception") == 0) &&
          (child_time (item, "OriginalStart", &original_start) ||
           child_time (item, "RecurrenceId", &original_start)))
        icalcomponent_add_property (vevent, time_property (&ctx, ICAL_RECURRENCEID_PROPERTY,
                                                           original_start, start_tzid, all_day));
    }

  master = vevent;
  icalcomponent_add_component (vcalendar, g_steal_pointer (&vevent));

  modified = ews_child (item, "ModifiedOccurrences");
  for (xmlNode *occurrence = ews_child (modified, "Occurrence"); occurrence != NULL;
       occurrence = occurrence->next)
    {
      g_autofree char *occurrence_id = NULL;
      g_autoptr(icalcomponent) override = NULL;
      xmlNode *full;
      gint64 original_start;

      if (!is_ews_element (occurrence, "Occurrence"))
        continue;
      if (!child_time (occurrence, "OriginalStart", &original_start))
        {
          g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM,
                       _("The server sent a changed occurrence without its original start."));
          return NULL;
        }
      occurrence_id = ews_attribute (ews_child (occurrence, "ItemId"), "Id");
      full = find_occurrence (occurrences, n_occurrences, occurrence_id, original_start);
      if (full != NULL)
        {
          override = icalcomponent_new_vevent ();
          if (!map_item (&ctx, full, override, uid, error))
            return NULL;
        }
      else
        {
          override = override_from_master (&ctx, master, occurrence, occurrence_id, error);
          if (override == NULL)
            return NULL;
        }
      icalcomponent_add_property (override, time_property (&ctx, ICAL_RECURRENCEID_PROPERTY,
                                                           original_start, start_tzid, all_day));
      icalcomponent_add_component (vcalendar, g_steal_pointer (&override));
    }

  return g_steal_pointer (&vcalendar);
}

/* ---- writing a CalendarItem ---- */

typedef struct
{
  icalcomponent            *vcalendar;
  icalcomponent            *vevent;
  AglWindowsZones          *zones;
  const AglEwsLocalIdentity *identity;
  AglEwsWriteFlags          flags;
  gboolean                  occurrence;
  gboolean                  failed;      /* the writer refused to write */
} WriteContext;

static void
check (WriteContext *ctx,
       int           rc)
{
  if (rc < 0)
    ctx->failed = TRUE;
}

static void
write_element (xmlTextWriter *writer,
               WriteContext  *ctx,
               const char    *name,
               const char    *text)
{
  check (ctx, xmlTextWriterWriteElement (writer, BAD_CAST name, BAD_CAST text));
}

static void
write_int_element (xmlTextWriter *writer,
                   WriteContext  *ctx,
                   const char    *name,
                   int            value)
{
  char text[16];

  g_snprintf (text, sizeof text, "%d", value);
  write_element (writer, ctx, name, text);
}

static void
start_element (xmlTextWriter *writer,
               WriteContext  *ctx,
               const char    *name)
{
  check (ctx, xmlTextWriterStartElement (writer, BAD_CAST name));
}

static void
end_element (xmlTextWriter *writer,
             WriteContext  *ctx)
{
  check (ctx, xmlTextWriterEndElement (writer));
}

static void
write_attribute (xmlTextWriter *writer,
                 WriteContext  *ctx,
                 const char    *name,
                 const char    *value)
{
  check (ctx, xmlTextWriterWriteAttribute (writer, BAD_CAST name, BAD_CAST value));
}

static char *
format_utc (gint64 when)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (when);

  return time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

static const char *
strip_libical_prefix (const char *tzid)
{
  static const char prefix[] = "/freeassociation.sourceforge.net/";

  if (tzid != NULL && g_str_has_prefix (tzid, prefix))
    return tzid + strlen (prefix);
  return tzid;
}

/* The process's own zone, for floating times and dates without a zone of
 * their own (they mean the user's wall clock). */
static const char *
local_iana_zone (void)
{
  static char *name;
  static gsize initialised;

  if (g_once_init_enter (&initialised))
    {
      g_autoptr(GTimeZone) local = g_time_zone_new_local ();
      const char *id = g_time_zone_get_identifier (local);

      if (id != NULL && g_str_has_prefix (id, "/usr/share/zoneinfo/"))
        id += strlen ("/usr/share/zoneinfo/");
      if (id != NULL && *id == ':')
        id++;
      name = g_strdup (id != NULL && strchr (id, '/') != NULL ? id : "UTC");
      g_once_init_leave (&initialised, 1);
    }
  return name;
}

/* The libical zone and Windows id of a TZID (NULL: the local zone). */
static gboolean
resolve_event_zone (WriteContext  *ctx,
                    const char    *tzid,
                    icaltimezone **out_zone,
                    const char   **out_windows_id,
                    GError       **error)
{
  const char *name = strip_libical_prefix (tzid != NULL ? tzid : local_iana_zone ());
  icaltimezone *zone = NULL;
  const char *windows_id;

  if (tzid != NULL)
    zone = icalcomponent_get_timezone (ctx->vcalendar, tzid);
  if (zone == NULL && (g_ascii_strcasecmp (name, "UTC") == 0 || strcmp (name, "Etc/UTC") == 0))
    zone = icaltimezone_get_utc_timezone ();
  if (zone == NULL)
    zone = icaltimezone_get_builtin_timezone (agl_windows_zones_canonical_iana (ctx->zones, name));
  icalerror_clear_errno ();

  windows_id = agl_windows_zones_to_windows (ctx->zones, name);
  if (windows_id == NULL && g_ascii_strcasecmp (name, "UTC") == 0)
    windows_id = "UTC";
  if (windows_id == NULL && agl_windows_zones_to_iana (ctx->zones, name) != NULL)
    {
      windows_id = name;
      if (zone == NULL)
        zone = icaltimezone_get_builtin_timezone (agl_windows_zones_to_iana (ctx->zones, name));
      icalerror_clear_errno ();
    }
  if (windows_id == NULL && zone != NULL && icaltimezone_get_component (zone) != NULL)
    windows_id = get_x_property (icaltimezone_get_component (zone), X_TIMEZONE_ID);
  /* A zone of its own (a VTIMEZONE CLDR does not name) has no Windows id:
   * write_zone() sends its rules instead. */
  if (zone == NULL)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE,
                   _("Exchange knows no time zone matching “%s”; choose a zone such as "
                     "Europe/Berlin for this appointment."),
                   name);
      return FALSE;
    }
  *out_zone = zone;
  *out_windows_id = windows_id;
  return TRUE;
}

static const char *
property_tzid (icalproperty *prop)
{
  icalparameter *param = icalproperty_get_first_parameter (prop, ICAL_TZID_PARAMETER);

  return param != NULL ? icalparameter_get_tzid (param) : NULL;
}

/* A DTSTART/DTEND/RECURRENCE-ID/EXDATE value as a UTC instant, with the
 * Windows id of the zone it is meant in: a DATE is midnight in the zone
 * the item came with (X-AGL-EWS-TZID) or the local one. */
static gboolean
time_to_instant (WriteContext         *ctx,
                 icalproperty         *prop,
                 struct icaltimetype   time,
                 gint64               *out_unix,
                 const char          **out_windows_id,
                 GError              **error)
{
  icaltimezone *zone;
  const char *windows_id;
  const char *tzid;

  if (time.is_date)
    tzid = get_x_property (ctx->vevent, X_ALL_DAY_TZID);
  else if (icaltime_is_utc (time))
    tzid = "UTC";
  else
    tzid = property_tzid (prop);
  if (!resolve_event_zone (ctx, tzid, &zone, &windows_id, error))
    return FALSE;
  if (time.is_date)
    {
      time.is_date = 0;
      time.hour = time.minute = time.second = 0;
    }
  time.zone = NULL;
  *out_unix = icaltime_as_timet_with_zone (time, zone);
  if (out_windows_id != NULL)
    *out_windows_id = windows_id;
  return TRUE;
}

static gboolean
event_instant (WriteContext      *ctx,
               icalproperty_kind  kind,
               gint64            *out_unix,
               const char       **out_windows_id,
               GError           **error)
{
  icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, kind);

  if (prop == NULL && kind == ICAL_DTEND_PROPERTY)
    {
      struct icaltimetype end = icalcomponent_get_dtend (ctx->vevent);

      prop = icalcomponent_get_first_property (ctx->vevent, ICAL_DTSTART_PROPERTY);
      return prop != NULL && time_to_instant (ctx, prop, end, out_unix, out_windows_id, error);
    }
  if (prop == NULL)
    {
      g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                   _("The appointment has no start time."));
      return FALSE;
    }
  return time_to_instant (ctx, prop, icalvalue_get_datetime (icalproperty_get_value (prop)),
                          out_unix, out_windows_id, error);
}

static gboolean
write_item_id (xmlTextWriter *writer,
               WriteContext  *ctx,
               GError       **error)
{
  const char *item_id = get_x_property (ctx->vevent, X_ITEM_ID);

  if (item_id != NULL)
    {
      start_element (writer, ctx, "t:ItemId");
      write_attribute (writer, ctx, "Id", item_id);
      end_element (writer, ctx);
    }
  return TRUE;
}

static gboolean
write_subject (xmlTextWriter *writer,
               WriteContext  *ctx,
               GError       **error)
{
  const char *summary = icalcomponent_get_summary (ctx->vevent);

  if (summary != NULL && *summary != '\0')
    write_element (writer, ctx, "t:Subject", summary);
  return TRUE;
}

static gboolean
write_sensitivity (xmlTextWriter *writer,
                   WriteContext  *ctx,
                   GError       **error)
{
  icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, ICAL_CLASS_PROPERTY);
  const char *value = prop != NULL ? icalproperty_get_value_as_string (prop) : NULL;
  const char *sensitivity = ical_to_ews_name (sensitivity_names, G_N_ELEMENTS (sensitivity_names),
                                              value);

  /* Other X- classes have no Exchange counterpart; Normal is the default. */
  if (sensitivity != NULL)
    write_element (writer, ctx, "t:Sensitivity", sensitivity);
  return TRUE;
}

static icalproperty *
find_alt_description (icalcomponent *vevent)
{
  for (icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_X_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (vevent, ICAL_X_PROPERTY))
    {
      icalparameter *fmttype = icalproperty_get_first_parameter (prop, ICAL_FMTTYPE_PARAMETER);

      if (g_ascii_strcasecmp (icalproperty_get_x_name (prop), X_ALT_DESC) == 0 &&
          fmttype != NULL && g_ascii_strcasecmp (icalparameter_get_fmttype (fmttype), "text/html") == 0)
        return prop;
    }
  return NULL;
}

static gboolean
write_body (xmlTextWriter *writer,
            WriteContext  *ctx,
            GError       **error)
{
  icalproperty *html = find_alt_description (ctx->vevent);
  const char *description = icalcomponent_get_description (ctx->vevent);
  g_autofree char *html_text = NULL;

  /* The HTML goes back only while DESCRIPTION is still its text: a
   * description edited here (X-ALT-DESC left stale) wins as a Text body. */
  if (html != NULL && icalproperty_get_x (html) != NULL && *icalproperty_get_x (html) != '\0')
    html_text = html_to_text (icalproperty_get_x (html));
  if (html_text != NULL && g_strcmp0 (html_text, description != NULL ? description : "") == 0)
    {
      start_element (writer, ctx, "t:Body");
      write_attribute (writer, ctx, "BodyType", "HTML");
      check (ctx, xmlTextWriterWriteString (writer, BAD_CAST icalproperty_get_x (html)));
      end_element (writer, ctx);
    }
  else if (description != NULL && *description != '\0')
    {
      start_element (writer, ctx, "t:Body");
      write_attribute (writer, ctx, "BodyType", "Text");
      check (ctx, xmlTextWriterWriteString (writer, BAD_CAST description));
      end_element (writer, ctx);
    }
  return TRUE;
}

static void
write_extended_field_uri (xmlTextWriter *writer,
                          WriteContext  *ctx)
{
  start_element (writer, ctx, "t:ExtendedFieldURI");
  write_attribute (writer, ctx, "PropertySetId", ctx->identity->property_set_id);
  write_attribute (writer, ctx, "PropertyName", ctx->identity->property_name);
  write_attribute (writer, ctx, "PropertyType", "String");
  end_element (writer, ctx);
}

static gboolean
write_extended_property (xmlTextWriter *writer,
                         WriteContext  *ctx,
                         GError       **error)
{
  if (ctx->identity == NULL || ctx->identity->value == NULL)
    return TRUE;
  start_element (writer, ctx, "t:ExtendedProperty");
  write_extended_field_uri (writer, ctx);
  write_element (writer, ctx, "t:Value", ctx->identity->value);
  end_element (writer, ctx);
  return TRUE;
}

static gboolean
write_uid (xmlTextWriter *writer,
           WriteContext  *ctx,
           GError       **error)
{
  const char *uid = icalcomponent_get_uid (ctx->vevent);

  if (uid != NULL && *uid != '\0' && !ctx->occurrence)
    write_element (writer, ctx, "t:UID", uid);
  return TRUE;
}

static gboolean
write_time (xmlTextWriter     *writer,
            WriteContext      *ctx,
            icalproperty_kind  kind,
            const char        *name,
            GError           **error)
{
  g_autofree char *text = NULL;
  gint64 when;

  if (!event_instant (ctx, kind, &when, NULL, error))
    return FALSE;
  text = format_utc (when);
  write_element (writer, ctx, name, text);
  return TRUE;
}

static gboolean
write_start (xmlTextWriter *writer,
             WriteContext  *ctx,
             GError       **error)
{
  return write_time (writer, ctx, ICAL_DTSTART_PROPERTY, "t:Start", error);
}

static gboolean
write_end (xmlTextWriter *writer,
           WriteContext  *ctx,
           GError       **error)
{
  return write_time (writer, ctx, ICAL_DTEND_PROPERTY, "t:End", error);
}

static gboolean
is_all_day (icalcomponent *vevent)
{
  return icalcomponent_get_dtstart (vevent).is_date;
}

static gboolean
write_all_day (xmlTextWriter *writer,
               WriteContext  *ctx,
               GError       **error)
{
  write_element (writer, ctx, "t:IsAllDayEvent", is_all_day (ctx->vevent) ? "true" : "false");
  return TRUE;
}

static gboolean
write_busy_status (xmlTextWriter *writer,
                   WriteContext  *ctx,
                   GError       **error)
{
  const char *status = ical_to_ews_name (busy_names, G_N_ELEMENTS (busy_names),
                                         get_x_property (ctx->vevent, X_BUSY_STATUS));
  icalproperty *transp = icalcomponent_get_first_property (ctx->vevent, ICAL_TRANSP_PROPERTY);

  /* The exact status wins; an event from elsewhere has only TRANSP. */
  if (status == NULL && transp != NULL)
    status = icalproperty_get_transp (transp) == ICAL_TRANSP_TRANSPARENT ? "Free" : "Busy";
  if (status != NULL)
    write_element (writer, ctx, "t:LegacyFreeBusyStatus", status);
  return TRUE;
}

static gboolean
write_location (xmlTextWriter *writer,
                WriteContext  *ctx,
                GError       **error)
{
  const char *location = icalcomponent_get_location (ctx->vevent);

  if (location != NULL && *location != '\0')
    write_element (writer, ctx, "t:Location", location);
  return TRUE;
}

static gboolean
write_my_response (xmlTextWriter *writer,
                   WriteContext  *ctx,
                   GError       **error)
{
  const char *response = get_x_property (ctx->vevent, X_MY_RESPONSE);

  if (response != NULL && name_index ((const char * const[]) { "Unknown", "Organizer", "Tentative",
                                                               "Accept", "Decline",
                                                               "NoResponseReceived" },
                                      6, response) >= 0)
    write_element (writer, ctx, "t:MyResponseType", response);
  return TRUE;
}

static void
write_mailbox (xmlTextWriter *writer,
               WriteContext  *ctx,
               icalproperty  *prop,
               const char    *address)
{
  icalparameter *cn = icalproperty_get_first_parameter (prop, ICAL_CN_PARAMETER);

  if (address != NULL && g_ascii_strncasecmp (address, "mailto:", 7) == 0)
    address += 7;
  start_element (writer, ctx, "t:Mailbox");
  if (cn != NULL)
    write_element (writer, ctx, "t:Name", icalparameter_get_cn (cn));
  if (address != NULL && *address != '\0')
    {
      write_element (writer, ctx, "t:EmailAddress", address);
      write_element (writer, ctx, "t:RoutingType", "SMTP");
    }
  end_element (writer, ctx);
}

static gboolean
write_organizer (xmlTextWriter *writer,
                 WriteContext  *ctx,
                 GError       **error)
{
  icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, ICAL_ORGANIZER_PROPERTY);

  if (prop == NULL)
    return TRUE;
  start_element (writer, ctx, "t:Organizer");
  write_mailbox (writer, ctx, prop, icalproperty_get_organizer (prop));
  end_element (writer, ctx);
  return TRUE;
}

typedef enum
{
  LIST_REQUIRED,
  LIST_OPTIONAL,
  LIST_RESOURCES,
} AttendeeList;

static AttendeeList
attendee_list (icalproperty *prop)
{
  icalparameter *role = icalproperty_get_first_parameter (prop, ICAL_ROLE_PARAMETER);
  icalparameter *cutype = icalproperty_get_first_parameter (prop, ICAL_CUTYPE_PARAMETER);

  if ((cutype != NULL && icalparameter_get_cutype (cutype) == ICAL_CUTYPE_RESOURCE) ||
      (role != NULL && icalparameter_get_role (role) == ICAL_ROLE_NONPARTICIPANT))
    return LIST_RESOURCES;
  if (role != NULL && icalparameter_get_role (role) == ICAL_ROLE_OPTPARTICIPANT)
    return LIST_OPTIONAL;
  return LIST_REQUIRED;
}

static const char *
attendee_response (icalproperty *prop)
{
  icalparameter *partstat = icalproperty_get_first_parameter (prop, ICAL_PARTSTAT_PARAMETER);

  for (icalparameter *param = icalproperty_get_first_parameter (prop, ICAL_X_PARAMETER);
       param != NULL; param = icalproperty_get_next_parameter (prop, ICAL_X_PARAMETER))
    if (g_ascii_strcasecmp (icalparameter_get_xname (param), X_RESPONSE_PARAM) == 0)
      return icalparameter_get_xvalue (param);
  if (partstat == NULL)
    return NULL;
  switch (icalparameter_get_partstat (partstat))
    {
    case ICAL_PARTSTAT_ACCEPTED:
      return "Accept";
    case ICAL_PARTSTAT_TENTATIVE:
      return "Tentative";
    case ICAL_PARTSTAT_DECLINED:
      return "Decline";
    case ICAL_PARTSTAT_NEEDSACTION:
      return "NoResponseReceived";
    default:
      return "Unknown";
    }
}

static void
write_attendee_list (xmlTextWriter *writer,
                     WriteContext  *ctx,
                     AttendeeList   list,
                     const char    *name)
{
  gboolean started = FALSE;

  for (icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, ICAL_ATTENDEE_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (ctx->vevent, ICAL_ATTENDEE_PROPERTY))
    {
      const char *response = attendee_response (prop);

      if (attendee_list (prop) != list)
        continue;
      if (!started)
        start_element (writer, ctx, name);
      started = TRUE;
      start_element (writer, ctx, "t:Attendee");
      write_mailbox (writer, ctx, prop, icalproperty_get_attendee (prop));
      if ((ctx->flags & AGL_EWS_WRITE_SERVER_FIELDS) != 0 && response != NULL)
        write_element (writer, ctx, "t:ResponseType", response);
      end_element (writer, ctx);
    }
  if (started)
    end_element (writer, ctx);
}

static gboolean
write_required (xmlTextWriter *writer,
                WriteContext  *ctx,
                GError       **error)
{
  write_attendee_list (writer, ctx, LIST_REQUIRED, "t:RequiredAttendees");
  return TRUE;
}

static gboolean
write_optional (xmlTextWriter *writer,
                WriteContext  *ctx,
                GError       **error)
{
  write_attendee_list (writer, ctx, LIST_OPTIONAL, "t:OptionalAttendees");
  return TRUE;
}

static gboolean
write_resources (xmlTextWriter *writer,
                 WriteContext  *ctx,
                 GError       **error)
{
  write_attendee_list (writer, ctx, LIST_RESOURCES, "t:Resources");
  return TRUE;
}

static int
recur_array_length (const short *array,
                    int          max)
{
  int n = 0;

  while (n < max && array[n] != ICAL_RECURRENCE_ARRAY_MAX)
    n++;
  return n;
}

static gboolean
refuse_rule (const struct icalrecurrencetype *recur,
             const char                      *part,
             GError                         **error)
{
  struct icalrecurrencetype copy = *recur;
  char *text = icalrecurrencetype_as_string_r (&copy);

  g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE,
               _("Exchange cannot store the repeat rule “%s”: it has no equivalent for %s."),
               text != NULL ? text : "", part);
  free (text);
  return FALSE;
}

/* The weekday set of BYDAY as a mask (bit 0 Sunday), FALSE when a day
 * carries a position. */
static gboolean
plain_weekdays (const struct icalrecurrencetype *recur,
                int                             *mask)
{
  int n = recur_array_length (recur->by_day, ICAL_BY_DAY_SIZE);

  *mask = 0;
  for (int i = 0; i < n; i++)
    {
      if (icalrecurrencetype_day_position (recur->by_day[i]) != 0)
        return FALSE;
      *mask |= 1 << (icalrecurrencetype_day_day_of_week (recur->by_day[i]) - 1);
    }
  return TRUE;
}

static const char *
position_index (int position)
{
  if (position >= 1 && position <= 4)
    return ews_indexes[position - 1];
  if (position == -1)
    return ews_indexes[4];
  return NULL;
}

/* The DaysOfWeek and DayOfWeekIndex of a relative monthly or yearly rule,
 * from BYDAY=2TU or BYDAY=<set>;BYSETPOS=n (BYMONTHDAY=-1, the last day,
 * is DayOfMonth 31: see last_day_of_month_form()). */
static gboolean
relative_days (const struct icalrecurrencetype *recur,
               const char                     **days,
               const char                     **index)
{
  int n_days = recur_array_length (recur->by_day, ICAL_BY_DAY_SIZE);
  int n_setpos = recur_array_length (recur->by_set_pos, ICAL_BY_SETPOS_SIZE);
  int n_mday = recur_array_length (recur->by_month_day, ICAL_BY_MONTHDAY_SIZE);
  int mask;

  if (n_days == 1 && n_setpos == 0 && n_mday == 0)
    {
      *index = position_index (icalrecurrencetype_day_position (recur->by_day[0]));
      *days = ews_days[icalrecurrencetype_day_day_of_week (recur->by_day[0]) - 1];
      return *index != NULL;
    }
  if (n_days > 0 && n_setpos == 1 && n_mday == 0 && plain_weekdays (recur, &mask))
    {
      *index = position_index (recur->by_set_pos[0]);
      if (mask == 0x7f)
        *days = "Day";
      else if (mask == 0x3e)
        *days = "Weekday";
      else if (mask == 0x41)
        *days = "WeekendDay";
      else if (n_days == 1)
        *days = ews_days[icalrecurrencetype_day_day_of_week (recur->by_day[0]) - 1];
      else
        return FALSE;
      return *index != NULL;
    }
  return FALSE;
}

/* The DayOfMonth that stands for BYMONTHDAY=-1 (31: the last day of any
 * month) or for BYMONTHDAY=28,…,D;BYSETPOS=-1 with D from 29 to 31 (the
 * form append_month_day() writes, days in any order), 0 for other rules. */
static int
last_day_of_month_form (const struct icalrecurrencetype *recur)
{
  int n_days = recur_array_length (recur->by_day, ICAL_BY_DAY_SIZE);
  int n_setpos = recur_array_length (recur->by_set_pos, ICAL_BY_SETPOS_SIZE);
  int n_mday = recur_array_length (recur->by_month_day, ICAL_BY_MONTHDAY_SIZE);
  guint seen = 0;
  int last = 0;

  if (n_days != 0)
    return 0;
  if (n_setpos == 0 && n_mday == 1 && recur->by_month_day[0] == -1)
    return 31;
  if (n_setpos != 1 || recur->by_set_pos[0] != -1 || n_mday < 2 || n_mday > 4)
    return 0;
  for (int i = 0; i < n_mday; i++)
    {
      int day = recur->by_month_day[i];

      if (day < 28 || day > 31 || (seen & (1u << (day - 28))) != 0)
        return 0;
      seen |= 1u << (day - 28);
      last = MAX (last, day);
    }
  /* Each of the days 28 to the last once: no gap. */
  return seen == (1u << (last - 27)) - 1 ? last : 0;
}

/* Whether a monthly series on day @mday, starting in @month and repeating
 * every @interval months, meets a month that lacks that day in some year. */
static gboolean
monthly_meets_shorter_month (int month,
                             int interval,
                             int mday)
{
  for (int i = 0; i < 12; i++)
    if (shortest_month_length ((month - 1 + i * interval) % 12 + 1) < mday)
      return TRUE;
  return FALSE;
}

/* A plain BYMONTHDAY=@mday (or the DTSTART day) skips the months without
 * that day, where Exchange's DayOfMonth would fall on their last day. */
static gboolean
refuse_skipped_day (const struct icalrecurrencetype *recur,
                    int                              mday,
                    GError                         **error)
{
  /* Translators: completes “it has no equivalent for …”; %d is a day of
   * the month (29, 30 or 31). */
  g_autofree char *part = g_strdup_printf (_("skipping the months that have no day %d"), mday);

  return refuse_rule (recur, part, error);
}

static gboolean
write_recurrence (xmlTextWriter *writer,
                  WriteContext  *ctx,
                  GError       **error)
{
  icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, ICAL_RRULE_PROPERTY);
  icalproperty *start_prop = icalcomponent_get_first_property (ctx->vevent, ICAL_DTSTART_PROPERTY);
  struct icalrecurrencetype recur;
  struct icaltimetype first;
  icaltimezone *zone;
  const char *windows_id;
  const char *days = NULL, *index = NULL;
  int n_mday, n_month, n_day, n_setpos, mask, interval, month, mday, absolute;
  g_autofree char *start_date = NULL;
  gint64 start;

  if (prop == NULL || ctx->occurrence)
    return TRUE;
  recur = icalproperty_get_rrule (prop);
  if (icalcomponent_count_properties (ctx->vevent, ICAL_RRULE_PROPERTY) > 1)
    return refuse_rule (&recur, _("a second RRULE"), error);
  if (icalcomponent_get_first_property (ctx->vevent, ICAL_RDATE_PROPERTY) != NULL)
    return refuse_rule (&recur, "RDATE", error);
  if (start_prop == NULL || !event_instant (ctx, ICAL_DTSTART_PROPERTY, &start, &windows_id, error))
    return start_prop != NULL ? FALSE : refuse_rule (&recur, _("a rule without DTSTART"), error);

  /* The first occurrence's wall clock date gives the defaults RFC 5545
   * takes from DTSTART (weekday, day of month, month) and StartDate. */
  if (is_all_day (ctx->vevent))
    {
      first = icalcomponent_get_dtstart (ctx->vevent);
    }
  else
    {
      const char *tzid = icaltime_is_utc (icalcomponent_get_dtstart (ctx->vevent))
                           ? "UTC" : property_tzid (start_prop);

      if (!resolve_event_zone (ctx, tzid, &zone, &windows_id, error))
        return FALSE;
      first = icaltime_from_timet_with_zone ((time_t) start, 0, zone);
    }

  switch (recur.freq)
    {
    case ICAL_DAILY_RECURRENCE:
    case ICAL_WEEKLY_RECURRENCE:
    case ICAL_MONTHLY_RECURRENCE:
    case ICAL_YEARLY_RECURRENCE:
      break;
    case ICAL_SECONDLY_RECURRENCE:
      return refuse_rule (&recur, "FREQ=SECONDLY", error);
    case ICAL_MINUTELY_RECURRENCE:
      return refuse_rule (&recur, "FREQ=MINUTELY", error);
    case ICAL_HOURLY_RECURRENCE:
      return refuse_rule (&recur, "FREQ=HOURLY", error);
    case ICAL_NO_RECURRENCE:
    default:
      return refuse_rule (&recur, "FREQ", error);
    }
  if (recur_array_length (recur.by_second, ICAL_BY_SECOND_SIZE) > 0)
    return refuse_rule (&recur, "BYSECOND", error);
  if (recur_array_length (recur.by_minute, ICAL_BY_MINUTE_SIZE) > 0)
    return refuse_rule (&recur, "BYMINUTE", error);
  if (recur_array_length (recur.by_hour, ICAL_BY_HOUR_SIZE) > 0)
    return refuse_rule (&recur, "BYHOUR", error);
  if (recur_array_length (recur.by_year_day, ICAL_BY_YEARDAY_SIZE) > 0)
    return refuse_rule (&recur, "BYYEARDAY", error);
  if (recur_array_length (recur.by_week_no, ICAL_BY_WEEKNO_SIZE) > 0)
    return refuse_rule (&recur, "BYWEEKNO", error);
  if (recur.interval > 999)
    return refuse_rule (&recur, "INTERVAL", error);

  n_mday = recur_array_length (recur.by_month_day, ICAL_BY_MONTHDAY_SIZE);
  n_month = recur_array_length (recur.by_month, ICAL_BY_MONTH_SIZE);
  n_day = recur_array_length (recur.by_day, ICAL_BY_DAY_SIZE);
  n_setpos = recur_array_length (recur.by_set_pos, ICAL_BY_SETPOS_SIZE);
  interval = MAX (recur.interval, 1);
  month = n_month == 1 ? recur.by_month[0] : first.month;
  mday = n_mday == 1 ? recur.by_month_day[0] : first.day;

  start_element (writer, ctx, "t:Recurrence");
  switch (recur.freq)
    {
    case ICAL_DAILY_RECURRENCE:
      if (n_mday + n_month + n_day + n_setpos > 0)
        return refuse_rule (&recur, _("a daily rule limited to some days"), error);
      start_element (writer, ctx, "t:DailyRecurrence");
      write_int_element (writer, ctx, "t:Interval", interval);
      end_element (writer, ctx);
      break;

    case ICAL_WEEKLY_RECURRENCE:
      {
        g_autoptr(GString) list = g_string_new (NULL);

        if (n_mday + n_month + n_setpos > 0)
          return refuse_rule (&recur, _("a weekly rule limited to some months or days of the month"),
                              error);
        if (!plain_weekdays (&recur, &mask))
          return refuse_rule (&recur, _("numbered weekdays in a weekly rule"), error);
        if (mask == 0)
          mask = 1 << (icaltime_day_of_week (first) - 1);
        for (int day = 0; day < 7; day++)
          if ((mask & (1 << day)) != 0)
            g_string_append_printf (list, "%s%s", list->len > 0 ? " " : "", ews_days[day]);
        start_element (writer, ctx, "t:WeeklyRecurrence");
        write_int_element (writer, ctx, "t:Interval", interval);
        write_element (writer, ctx, "t:DaysOfWeek", list->str);
        write_element (writer, ctx, "t:FirstDayOfWeek",
                       ews_days[(recur.week_start != ICAL_NO_WEEKDAY ? recur.week_start
                                                                     : ICAL_MONDAY_WEEKDAY) - 1]);
        end_element (writer, ctx);
      }
      break;

    case ICAL_MONTHLY_RECURRENCE:
      if (n_month > 0)
        return refuse_rule (&recur, _("a monthly rule limited to some months"), error);
      absolute = last_day_of_month_form (&recur);
      if (absolute == 0 && n_day == 0 && n_setpos == 0 && n_mday <= 1 && mday >= 1)
        {
          if (monthly_meets_shorter_month (first.month, interval, mday))
            return refuse_skipped_day (&recur, mday, error);
          absolute = mday;
        }
      if (absolute > 0)
        {
          start_element (writer, ctx, "t:AbsoluteMonthlyRecurrence");
          write_int_element (writer, ctx, "t:Interval", interval);
          write_int_element (writer, ctx, "t:DayOfMonth", absolute);
          end_element (writer, ctx);
        }
      else if (relative_days (&recur, &days, &index))
        {
          start_element (writer, ctx, "t:RelativeMonthlyRecurrence");
          write_int_element (writer, ctx, "t:Interval", interval);
          write_element (writer, ctx, "t:DaysOfWeek", days);
          write_element (writer, ctx, "t:DayOfWeekIndex", index);
          end_element (writer, ctx);
        }
      else
        {
          return refuse_rule (&recur, n_mday > 1 ? _("several BYMONTHDAY values")
                                                 : _("this combination of BYDAY, BYMONTHDAY and BYSETPOS"),
                              error);
        }
      break;

    case ICAL_YEARLY_RECURRENCE:
      /* Exchange's yearly patterns have no interval. */
      if (interval != 1)
        return refuse_rule (&recur, _("a yearly rule with an INTERVAL"), error);
      if (n_month > 1)
        return refuse_rule (&recur, _("several BYMONTH values"), error);
      /* Without BYMONTH, RFC 5545 applies BYMONTHDAY to every month of
       * the year and BYSETPOS to the whole year: not the set form. */
      absolute = last_day_of_month_form (&recur);
      if (absolute > 0 && n_setpos > 0 && n_month == 0)
        absolute = 0;
      if (absolute == 0 && n_day == 0 && n_setpos == 0 && n_mday <= 1 && mday >= 1)
        {
          if (mday > shortest_month_length (month))
            return refuse_skipped_day (&recur, mday, error);
          absolute = mday;
        }
      if (absolute > 0)
        {
          start_element (writer, ctx, "t:AbsoluteYearlyRecurrence");
          write_int_element (writer, ctx, "t:DayOfMonth", absolute);
          write_element (writer, ctx, "t:Month", ews_months[month - 1]);
          end_element (writer, ctx);
        }
      else if (relative_days (&recur, &days, &index))
        {
          start_element (writer, ctx, "t:RelativeYearlyRecurrence");
          write_element (writer, ctx, "t:DaysOfWeek", days);
          write_element (writer, ctx, "t:DayOfWeekIndex", index);
          write_element (writer, ctx, "t:Month", ews_months[month - 1]);
          end_element (writer, ctx);
        }
      else
        {
          return refuse_rule (&recur, n_mday > 1 ? _("several BYMONTHDAY values")
                                                 : _("this combination of BYDAY, BYMONTHDAY and BYSETPOS"),
                              error);
        }
      break;

    default:
      g_assert_not_reached ();
    }

  start_date = g_strdup_printf ("%04d-%02d-%02d", first.year, first.month, first.day);
  if (recur.count > 0)
    {
      start_element (writer, ctx, "t:NumberedRecurrence");
      write_element (writer, ctx, "t:StartDate", start_date);
      write_int_element (writer, ctx, "t:NumberOfOccurrences", recur.count);
      end_element (writer, ctx);
    }
  else if (!icaltime_is_null_time (recur.until))
    {
      struct icaltimetype until = recur.until;
      g_autofree char *end_date = NULL;

      /* EndDate is the last day in the item's own zone. */
      if (!until.is_date && !is_all_day (ctx->vevent))
        {
          icaltimezone *until_zone = NULL;
          const char *unused;
          const char *tzid = icaltime_is_utc (until) ? "UTC" : property_tzid (start_prop);
          const char *start_tzid = icaltime_is_utc (icalcomponent_get_dtstart (ctx->vevent))
                                     ? "UTC" : property_tzid (start_prop);
          icaltimezone *start_zone = NULL;

          if (!resolve_event_zone (ctx, tzid, &until_zone, &unused, error) ||
              !resolve_event_zone (ctx, start_tzid, &start_zone, &unused, error))
            return FALSE;
          until.zone = NULL;
          until = icaltime_from_timet_with_zone (icaltime_as_timet_with_zone (until, until_zone), 0,
                                                 start_zone);
        }
      end_date = g_strdup_printf ("%04d-%02d-%02d", until.year, until.month, until.day);
      start_element (writer, ctx, "t:EndDateRecurrence");
      write_element (writer, ctx, "t:StartDate", start_date);
      write_element (writer, ctx, "t:EndDate", end_date);
      end_element (writer, ctx);
    }
  else
    {
      start_element (writer, ctx, "t:NoEndRecurrence");
      write_element (writer, ctx, "t:StartDate", start_date);
      end_element (writer, ctx);
    }
  end_element (writer, ctx);
  return TRUE;
}

static gboolean
write_modified_occurrences (xmlTextWriter *writer,
                            WriteContext  *ctx,
                            GError       **error)
{
  const char *uid = icalcomponent_get_uid (ctx->vevent);
  gboolean started = FALSE;

  if (ctx->occurrence)
    return TRUE;
  for (icalcomponent *other = icalcomponent_get_first_component (ctx->vcalendar, ICAL_VEVENT_COMPONENT);
       other != NULL; other = icalcomponent_get_next_component (ctx->vcalendar, ICAL_VEVENT_COMPONENT))
    {
      icalproperty *rid = icalcomponent_get_first_property (other, ICAL_RECURRENCEID_PROPERTY);
      WriteContext occurrence = *ctx;
      const char *item_id = get_x_property (other, X_ITEM_ID);
      g_autofree char *start_text = NULL, *end_text = NULL, *original_text = NULL;
      gint64 start, end, original;

      if (rid == NULL || g_strcmp0 (icalcomponent_get_uid (other), uid) != 0)
        continue;
      occurrence.vevent = other;
      if (!event_instant (&occurrence, ICAL_DTSTART_PROPERTY, &start, NULL, error) ||
          !event_instant (&occurrence, ICAL_DTEND_PROPERTY, &end, NULL, error) ||
          !time_to_instant (ctx, rid, icalproperty_get_recurrenceid (rid), &original, NULL, error))
        return FALSE;
      start_text = format_utc (start);
      end_text = format_utc (end);
      original_text = format_utc (original);
      if (!started)
        start_element (writer, ctx, "t:ModifiedOccurrences");
      started = TRUE;
      start_element (writer, ctx, "t:Occurrence");
      start_element (writer, ctx, "t:ItemId");
      write_attribute (writer, ctx, "Id", item_id != NULL ? item_id : "");
      end_element (writer, ctx);
      write_element (writer, ctx, "t:Start", start_text);
      write_element (writer, ctx, "t:End", end_text);
      write_element (writer, ctx, "t:OriginalStart", original_text);
      end_element (writer, ctx);
    }
  if (started)
    end_element (writer, ctx);
  return TRUE;
}

static gboolean
write_deleted_occurrences (xmlTextWriter *writer,
                           WriteContext  *ctx,
                           GError       **error)
{
  g_autoptr(GPtrArray) exdates = g_ptr_array_new ();
  gboolean started = FALSE;

  if (ctx->occurrence)
    return TRUE;
  /* Collected first: reading a date's zone walks the same component's
   * properties, which would move libical's one iterator. */
  for (icalproperty *prop = icalcomponent_get_first_property (ctx->vevent, ICAL_EXDATE_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (ctx->vevent, ICAL_EXDATE_PROPERTY))
    g_ptr_array_add (exdates, prop);
  for (guint i = 0; i < exdates->len; i++)
    {
      icalproperty *prop = exdates->pdata[i];
      g_autofree char *text = NULL;
      gint64 when;

      if (!time_to_instant (ctx, prop, icalproperty_get_exdate (prop), &when, NULL, error))
        return FALSE;
      text = format_utc (when);
      if (!started)
        start_element (writer, ctx, "t:DeletedOccurrences");
      started = TRUE;
      start_element (writer, ctx, "t:DeletedOccurrence");
      write_element (writer, ctx, "t:Start", text);
      end_element (writer, ctx);
    }
  if (started)
    end_element (writer, ctx);
  return TRUE;
}

static gboolean
write_zone (xmlTextWriter     *writer,
            WriteContext      *ctx,
            icalproperty_kind  kind,
            const char        *name,
            GError           **error)
{
  const char *windows_id;
  const char *tzid = NULL;
  const char *encoded = NULL;
  icalproperty *prop;
  icaltimezone *zone;
  gint64 unused;

  if (!event_instant (ctx, kind, &unused, &windows_id, error))
    return FALSE;

  /* A zone built from Exchange's own definition goes back with it. */
  prop = icalcomponent_get_first_property (ctx->vevent, kind);
  if (prop == NULL)
    prop = icalcomponent_get_first_property (ctx->vevent, ICAL_DTSTART_PROPERTY);
  if (prop != NULL && icalvalue_get_datetime (icalproperty_get_value (prop)).is_date)
    tzid = get_x_property (ctx->vevent, X_ALL_DAY_TZID);
  else if (prop != NULL)
    tzid = property_tzid (prop);
  zone = tzid != NULL ? icalcomponent_get_timezone (ctx->vcalendar, tzid) : NULL;
  if (zone == NULL && tzid != NULL)
    zone = icaltimezone_get_builtin_timezone (strip_libical_prefix (tzid));
  icalerror_clear_errno ();
  if (zone != NULL && icaltimezone_get_component (zone) != NULL)
    encoded = get_x_property (icaltimezone_get_component (zone), X_TIMEZONE_DEFINITION);
  if (encoded != NULL)
    {
      gsize length = 0;
      g_autofree guchar *xml = g_base64_decode (encoded, &length);
      g_autoptr(xmlDoc) doc = NULL;
      xmlNode *root;

      if (length > 0 && length < G_MAXINT)
        doc = xmlReadMemory ((const char *) xml, (int) length, NULL, NULL, XML_PARSE_NONET);
      root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
      if (root != NULL && is_ews_element (root, "TimeZoneDefinition"))
        {
          start_element (writer, ctx, name);
          check (ctx, copy_contents (writer, root));
          end_element (writer, ctx);
          return TRUE;
        }
    }
  if (windows_id == NULL)
    {
      g_autoptr(GError) local_error = NULL;

      if (zone == NULL || icaltimezone_get_component (zone) == NULL ||
          !agl_windows_zones_write_definition (writer, name, tzid, icaltimezone_get_component (zone),
                                               &local_error))
        {
          g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE,
                       _("Exchange knows no time zone matching “%s”; choose a zone such as "
                         "Europe/Berlin for this appointment."),
                       tzid != NULL ? tzid : "");
          return FALSE;
        }
      return TRUE;
    }
  start_element (writer, ctx, name);
  write_attribute (writer, ctx, "Id", windows_id);
  end_element (writer, ctx);
  return TRUE;
}

static gboolean
write_start_zone (xmlTextWriter *writer,
                  WriteContext  *ctx,
                  GError       **error)
{
  return write_zone (writer, ctx, ICAL_DTSTART_PROPERTY, "t:StartTimeZone", error);
}

static gboolean
write_end_zone (xmlTextWriter *writer,
                WriteContext  *ctx,
                GError       **error)
{
  return write_zone (writer, ctx, ICAL_DTEND_PROPERTY, "t:EndTimeZone", error);
}

typedef gboolean (*FieldWriter) (xmlTextWriter *writer,
                                 WriteContext  *ctx,
                                 GError       **error);

typedef enum
{
  FIELD_SERVER = 1 << 0,     /* only Exchange sets it */
  FIELD_CREATE = 1 << 1,     /* set when the item is made, never changed */
  FIELD_DELETABLE = 1 << 2,  /* DeleteItemField when it becomes empty */
} FieldFlags;

/* The mapped fields in the order types.xsd's ItemType and CalendarItemType
 * sequences require them, with their FieldURI. */
static const struct
{
  const char  *uri;
  FieldWriter  write;
  FieldFlags   flags;
} fields[] = {
  { "item:ItemId", write_item_id, FIELD_SERVER },
  { "item:Subject", write_subject, FIELD_DELETABLE },
  { "item:Sensitivity", write_sensitivity, 0 },
  { "item:Body", write_body, FIELD_DELETABLE },
  { NULL, write_extended_property, 0 },
  { "calendar:UID", write_uid, FIELD_CREATE },
  { "calendar:Start", write_start, 0 },
  { "calendar:End", write_end, 0 },
  { "calendar:IsAllDayEvent", write_all_day, 0 },
  { "calendar:LegacyFreeBusyStatus", write_busy_status, 0 },
  { "calendar:Location", write_location, FIELD_DELETABLE },
  { "calendar:MyResponseType", write_my_response, FIELD_SERVER },
  { "calendar:Organizer", write_organizer, FIELD_SERVER },
  { "calendar:RequiredAttendees", write_required, FIELD_DELETABLE },
  { "calendar:OptionalAttendees", write_optional, FIELD_DELETABLE },
  { "calendar:Resources", write_resources, FIELD_DELETABLE },
  { "calendar:Recurrence", write_recurrence, FIELD_DELETABLE },
  { "calendar:ModifiedOccurrences", write_modified_occurrences, FIELD_SERVER },
  { "calendar:DeletedOccurrences", write_deleted_occurrences, FIELD_SERVER },
  { "calendar:StartTimeZone", write_start_zone, 0 },
  { "calendar:EndTimeZone", write_end_zone, 0 },
};

static gboolean
init_write_context (WriteContext               *ctx,
                    icalcomponent              *vcalendar,
                    const char                 *recurrence_id,
                    AglWindowsZones            *zones,
                    const AglEwsLocalIdentity  *identity,
                    AglEwsWriteFlags            flags,
                    GError                    **error)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->vcalendar = vcalendar;
  ctx->zones = zones;
  ctx->identity = identity;
  ctx->flags = flags;
  ctx->occurrence = recurrence_id != NULL;

  if (icalcomponent_isa (vcalendar) == ICAL_VEVENT_COMPONENT)
    {
      ctx->vevent = vcalendar;
      return TRUE;
    }
  for (icalcomponent *vevent = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       vevent != NULL; vevent = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    {
      icalproperty *rid = icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY);

      if (recurrence_id == NULL && rid == NULL)
        ctx->vevent = vevent;
      else if (recurrence_id != NULL && rid != NULL &&
               strcmp (icaltime_as_ical_string (icalproperty_get_recurrenceid (rid)), recurrence_id) == 0)
        ctx->vevent = vevent;
      if (ctx->vevent != NULL)
        break;
    }
  if (ctx->vevent == NULL)
    {
      if (recurrence_id != NULL)
        g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                     _("The appointment has no changed occurrence at %s."), recurrence_id);
      else
        g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
                     _("The appointment holds no event."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
writer_failed (WriteContext *ctx,
               GError      **error)
{
  if (!ctx->failed)
    return FALSE;
  g_set_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT,
               _("The calendar item could not be written."));
  return TRUE;
}

/**
 * agl_ews_calendar_item_write:
 * @writer: a writer inside a CreateItem's Items element (or wherever a
 *   CalendarItem goes), with the prefix t bound to the EWS types namespace
 * @vcalendar: the appointment (a VCALENDAR, or one VEVENT)
 * @recurrence_id: (nullable): the RECURRENCE-ID (as libical writes it,
 *   e.g. "20240305T090000") of the override to write, %NULL for the master
 * @zones: the Windows zone mapping
 * @identity: (nullable): the local identity to store as an ExtendedProperty
 * @flags: whether to write the fields only the server sets
 * @error: return location for an error
 *
 * Writes one t:CalendarItem with the fields in types.xsd's order: the
 * ItemType fields, then the CalendarItemType ones.  Times are written as UTC
 * instants with StartTimeZone/EndTimeZone naming their Windows zone
 * (Exchange 2010 and later); a zone CLDR does not name goes with its rules:
 * the definition Exchange sent for it, else one made from the VTIMEZONE.  EXDATEs and overrides are not part of a new
 * item for Exchange: they are DeleteItem and UpdateItem calls on the
 * occurrences once the series exists; only %AGL_EWS_WRITE_SERVER_FIELDS
 * writes them, as DeletedOccurrences and ModifiedOccurrences.
 *
 * Returns: %TRUE, or %FALSE with
 *   %AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE for a rule Exchange
 *   cannot store, %AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE or
 *   %AGL_EWS_CALENDAR_ERROR_INVALID_EVENT; the writer then holds a partial
 *   element and must be discarded
 */
gboolean
agl_ews_calendar_item_write (xmlTextWriter              *writer,
                             icalcomponent              *vcalendar,
                             const char                 *recurrence_id,
                             AglWindowsZones            *zones,
                             const AglEwsLocalIdentity  *identity,
                             AglEwsWriteFlags            flags,
                             GError                    **error)
{
  WriteContext ctx;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (vcalendar != NULL, FALSE);
  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (zones), FALSE);

  if (!init_write_context (&ctx, vcalendar, recurrence_id, zones, identity, flags, error))
    return FALSE;
  start_element (writer, &ctx, "t:CalendarItem");
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if ((fields[i].flags & FIELD_SERVER) != 0 && (flags & AGL_EWS_WRITE_SERVER_FIELDS) == 0)
        continue;
      if (!fields[i].write (writer, &ctx, error))
        return FALSE;
    }
  end_element (writer, &ctx);
  return !writer_failed (&ctx, error);
}

/* One field as XML text, "" when the event leaves it empty. */
static char *
render_field (WriteContext *ctx,
              gsize         field,
              GError      **error)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);

  if (writer == NULL || !fields[field].write (writer, ctx, error))
    return NULL;
  xmlTextWriterFlush (writer);
  if (writer_failed (ctx, error))
    return NULL;
  return g_strdup ((const char *) xmlBufferContent (buffer));
}

/**
 * agl_ews_calendar_item_write_updates:
 * @writer: a writer inside an ItemChange's t:Updates element
 * @old_vcalendar: (nullable): the appointment as Exchange last had it, or
 *   %NULL to set every field
 * @new_vcalendar: the appointment as it is now
 * @recurrence_id: (nullable): the override to update (the caller names the
 *   occurrence with OccurrenceItemId), %NULL for the master
 * @zones: the Windows zone mapping
 * @identity: (nullable): the local identity, set as an ExtendedProperty
 * @n_changes: (out) (optional): how many changes were written; Updates
 *   may not be empty, so with 0 the caller drops the ItemChange
 * @error: return location for an error
 *
 * Writes a SetItemField (FieldURI calendar:Start, item:Subject, …) for each
 * mapped field that differs from @old_vcalendar and a DeleteItemField for
 * each deletable field that became empty, plus the local identity when
 * anything changed.  UID is never changed and the server-only fields are
 * never sent.
 *
 * Returns: %TRUE, or %FALSE with an error as for
 *   agl_ews_calendar_item_write()
 */
gboolean
agl_ews_calendar_item_write_updates (xmlTextWriter              *writer,
                                     icalcomponent              *old_vcalendar,
                                     icalcomponent              *new_vcalendar,
                                     const char                 *recurrence_id,
                                     AglWindowsZones            *zones,
                                     const AglEwsLocalIdentity  *identity,
                                     guint                      *n_changes,
                                     GError                    **error)
{
  WriteContext new_ctx, old_ctx;
  guint changes = 0;

  g_return_val_if_fail (writer != NULL, FALSE);
  g_return_val_if_fail (new_vcalendar != NULL, FALSE);
  g_return_val_if_fail (AGL_IS_WINDOWS_ZONES (zones), FALSE);

  if (!init_write_context (&new_ctx, new_vcalendar, recurrence_id, zones, identity, 0, error))
    return FALSE;
  if (old_vcalendar != NULL &&
      !init_write_context (&old_ctx, old_vcalendar, recurrence_id, zones, NULL, 0, error))
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *new_xml = NULL;
      g_autofree char *old_xml = NULL;

      if ((fields[i].flags & (FIELD_SERVER | FIELD_CREATE)) != 0)
        continue;
      if (fields[i].uri == NULL)
        continue;
      new_xml = render_field (&new_ctx, i, error);
      if (new_xml == NULL)
        return FALSE;
      if (old_vcalendar != NULL)
        {
          old_xml = render_field (&old_ctx, i, error);
          if (old_xml == NULL)
            return FALSE;
          if (strcmp (old_xml, new_xml) == 0)
            continue;
        }
      if (*new_xml == '\0')
        {
          if ((fields[i].flags & FIELD_DELETABLE) == 0 || (old_xml != NULL && *old_xml == '\0'))
            continue;
          start_element (writer, &new_ctx, "t:DeleteItemField");
          start_element (writer, &new_ctx, "t:FieldURI");
          write_attribute (writer, &new_ctx, "FieldURI", fields[i].uri);
          end_element (writer, &new_ctx);
          end_element (writer, &new_ctx);
          changes++;
          continue;
        }
      start_element (writer, &new_ctx, "t:SetItemField");
      start_element (writer, &new_ctx, "t:FieldURI");
      write_attribute (writer, &new_ctx, "FieldURI", fields[i].uri);
      end_element (writer, &new_ctx);
      start_element (writer, &new_ctx, "t:CalendarItem");
      if (!fields[i].write (writer, &new_ctx, error))
        return FALSE;
      end_element (writer, &new_ctx);
      end_element (writer, &new_ctx);
      changes++;
    }
  /* The identity rides along with any change (it repairs an item that
   * lost it) but is no change of its own, so an unchanged appointment
   * gives no ItemChange at all. */
  if (identity != NULL && identity->value != NULL && (changes > 0 || old_vcalendar == NULL))
    {
      start_element (writer, &new_ctx, "t:SetItemField");
      write_extended_field_uri (writer, &new_ctx);
      start_element (writer, &new_ctx, "t:CalendarItem");
      write_extended_property (writer, &new_ctx, error);
      end_element (writer, &new_ctx);
      end_element (writer, &new_ctx);
      changes++;
    }
  if (n_changes != NULL)
    *n_changes = changes;
  return !writer_failed (&new_ctx, error);
}

/**
 * agl_ews_calendar_item_get_local_identity:
 * @item: a CalendarItem element
 * @property_set_id: the GUID of the caller's named-property set
 * @property_name: the property's name in that set
 *
 * Finds the local identity agl_ews_calendar_item_write() stored, in an item
 * fetched with that ExtendedFieldURI among its additional properties.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL when the item
 *   carries none
 */
char *
agl_ews_calendar_item_get_local_identity (xmlNode    *item,
                                          const char *property_set_id,
                                          const char *property_name)
{
  g_return_val_if_fail (property_set_id != NULL, NULL);
  g_return_val_if_fail (property_name != NULL, NULL);

  for (xmlNode *child = item != NULL ? item->children : NULL; child != NULL; child = child->next)
    {
      xmlNode *uri = ews_child (child, "ExtendedFieldURI");
      g_autofree char *set_id = NULL;
      g_autofree char *name = NULL;

      if (!is_ews_element (child, "ExtendedProperty") || uri == NULL)
        continue;
      set_id = ews_attribute (uri, "PropertySetId");
      name = ews_attribute (uri, "PropertyName");
      /* GUIDs compare without regard to case. */
      if (set_id != NULL && g_ascii_strcasecmp (set_id, property_set_id) == 0 &&
          g_strcmp0 (name, property_name) == 0)
        return node_text (ews_child (child, "Value"));
    }
  return NULL;
}
