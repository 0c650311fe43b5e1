/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agl-event.h"
#include "agl-ews-calendar-item.h"
#include "agl-occurrences.h"

#define SOAP_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define MESSAGES_NS "http://schemas.microsoft.com/exchange/services/2006/messages"
#define TYPES_NS AGL_EWS_TYPES_NAMESPACE

/* An invented GUID for the tests' named-property set. */
#define TEST_PROPERTY_SET "6e0a3e4b-8d2f-4c51-9a57-3f8a3c2d9b10"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (icalcomponent, icalcomponent_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)

/* ---- helpers ---- */

static char *
kit_path (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_KIT");

  /* The kit is part of the test's contract: a missing kit fails. */
  g_assert_nonnull (dir);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  return g_build_filename (dir, name, NULL);
}

static char *
fixture_path (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_TEST_FIXTURES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static AglWindowsZones *
zones (void)
{
  g_autoptr(GError) error = NULL;
  AglWindowsZones *shared = agl_windows_zones_get_default (&error);

  g_assert_no_error (error);
  return shared;
}

static xmlDoc *
read_xml_file (const char *path)
{
  xmlDoc *doc = xmlReadFile (path, NULL, XML_PARSE_NONET);

  g_assert_nonnull (doc);
  return doc;
}

static xmlDoc *
read_xml_string (const char *text)
{
  xmlDoc *doc = xmlReadMemory (text, (int) strlen (text), "test.xml", NULL, XML_PARSE_NONET);

  g_assert_nonnull (doc);
  return doc;
}

static xmlXPathObject *
xpath (xmlDoc     *doc,
       const char *expression)
{
  g_autoptr(xmlXPathContext) context = xmlXPathNewContext (doc);
  xmlXPathObject *result;

  xmlXPathRegisterNs (context, BAD_CAST "t", BAD_CAST TYPES_NS);
  xmlXPathRegisterNs (context, BAD_CAST "m", BAD_CAST MESSAGES_NS);
  xmlXPathRegisterNs (context, BAD_CAST "soap", BAD_CAST SOAP_NS);
  result = xmlXPathEvalExpression (BAD_CAST expression, context);
  g_assert_nonnull (result);
  return result;
}

static char *
xpath_string (xmlDoc     *doc,
              const char *expression)
{
  g_autofree char *wrapped = g_strdup_printf ("string(%s)", expression);
  g_autoptr(xmlXPathObject) result = xpath (doc, wrapped);

  return g_strdup ((const char *) result->stringval);
}

static int
xpath_count (xmlDoc     *doc,
             const char *expression)
{
  g_autoptr(xmlXPathObject) result = xpath (doc, expression);

  return result->nodesetval != NULL ? result->nodesetval->nodeNr : 0;
}

/* The top-level CalendarItems of a response (not those inside
 * ConflictingMeetings), in document order. */
static GPtrArray *
calendar_items (xmlDoc *doc)
{
  g_autoptr(xmlXPathObject) result = xpath (doc, "//m:Items/t:CalendarItem | //t:Items/t:CalendarItem"
                                                 " | /t:CalendarItem | //m:Items/t:CalendarItem");
  GPtrArray *items = g_ptr_array_new ();

  for (int i = 0; result->nodesetval != NULL && i < result->nodesetval->nodeNr; i++)
    g_ptr_array_add (items, result->nodesetval->nodeTab[i]);
  return items;
}

static icalcomponent *
map_item (xmlNode *item)
{
  g_autoptr(GError) error = NULL;
  icalcomponent *vcalendar = agl_ews_calendar_item_to_vcalendar (item, NULL, 0, zones (), &error);

  g_assert_no_error (error);
  g_assert_nonnull (vcalendar);
  return vcalendar;
}

static icalcomponent *
map_item_text (const char *fields)
{
  g_autofree char *text = g_strdup_printf ("<t:CalendarItem xmlns:t=\"" TYPES_NS "\">%s</t:CalendarItem>",
                                           fields);
  g_autoptr(xmlDoc) doc = read_xml_string (text);

  return map_item (xmlDocGetRootElement (doc));
}

static icalcomponent *
master (icalcomponent *vcalendar)
{
  for (icalcomponent *vevent = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       vevent != NULL; vevent = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    if (icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY) == NULL)
      return vevent;
  g_assert_not_reached ();
}

static int
count_components (icalcomponent      *parent,
                  icalcomponent_kind  kind)
{
  return icalcomponent_count_components (parent, kind);
}

/* The property's line without the name, e.g. ";TZID=Europe/Berlin:20240101T090000". */
static char *
property_text (icalcomponent     *component,
               icalproperty_kind  kind)
{
  icalproperty *prop = icalcomponent_get_first_property (component, kind);
  g_autofree char *line = NULL;
  char *text;
  size_t length;

  if (prop == NULL)
    return NULL;
  line = icalproperty_as_ical_string_r (prop);
  length = strlen (line);
  while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
    line[--length] = '\0';
  text = strpbrk (line, ";:");
  return g_strdup (text);
}

/* The property as one unfolded line without its line end. */
static char *
unfolded_line (icalproperty *prop)
{
  g_autofree char *line = icalproperty_as_ical_string_r (prop);
  GString *unfolded = g_string_new (NULL);

  for (const char *p = line; *p != '\0'; p++)
    {
      if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ')
        {
          p += 2;
          continue;
        }
      if (*p != '\r' && *p != '\n')
        g_string_append_c (unfolded, *p);
    }
  return g_string_free (unfolded, FALSE);
}

static char *
x_property (icalcomponent *component,
            const char    *name)
{
  for (icalproperty *prop = icalcomponent_get_first_property (component, ICAL_X_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (component, ICAL_X_PROPERTY))
    if (strcmp (icalproperty_get_x_name (prop), name) == 0)
      return g_strdup (icalproperty_get_x (prop));
  return NULL;
}

static char *
normalised_rule (const char *rule)
{
  struct icalrecurrencetype recur = icalrecurrencetype_from_string (rule);
  char *text = icalrecurrencetype_as_string_r (&recur);
  char *copy = g_strdup (text);

  free (text);
  return copy;
}

static char *
rrule_of (icalcomponent *vevent)
{
  icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_RRULE_PROPERTY);
  struct icalrecurrencetype recur;
  char *text, *copy;

  if (prop == NULL)
    return NULL;
  recur = icalproperty_get_rrule (prop);
  text = icalrecurrencetype_as_string_r (&recur);
  copy = g_strdup (text);
  free (text);
  return copy;
}

static icalcomponent *
parse_ical (const char *text)
{
  icalcomponent *component = icalparser_parse_string (text);

  g_assert_nonnull (component);
  return component;
}

/* ---- schema validation ---- */

static xmlSchema *
envelope_schema (void)
{
  static xmlSchema *schema;

  if (schema == NULL)
    {
      g_autofree char *path = kit_path ("schemas/ews-envelope.xsd");
      xmlSchemaParserCtxt *parser = xmlSchemaNewParserCtxt (path);

      g_assert_nonnull (parser);
      schema = xmlSchemaParse (parser);
      xmlSchemaFreeParserCtxt (parser);
      g_assert_nonnull (schema);
    }
  return schema;
}

static void
collect_error_cb (void        *data,
                  xmlError    *error)
{
  g_string_append_printf (data, "line %d: %s", error->line, error->message);
}

static void
assert_valid (xmlDoc *doc)
{
  xmlSchemaValidCtxt *validator = xmlSchemaNewValidCtxt (envelope_schema ());
  g_autoptr(GString) errors = g_string_new (NULL);
  int result;

  xmlSchemaSetValidStructuredErrors (validator, (xmlStructuredErrorFunc) collect_error_cb, errors);
  result = xmlSchemaValidateDoc (validator, doc);
  xmlSchemaFreeValidCtxt (validator);
  if (result != 0)
    {
      xmlChar *text = NULL;
      int size = 0;

      xmlDocDumpFormatMemory (doc, &text, &size, 1);
      g_test_message ("%s", (const char *) text);
      xmlFree (text);
      g_test_message ("schema errors: %s", errors->str);
    }
  g_assert_cmpint (result, ==, 0);
}

static xmlTextWriter *
start_envelope (xmlBuffer *buffer)
{
  xmlTextWriter *writer = xmlNewTextWriterMemory (buffer, 0);

  xmlTextWriterStartDocument (writer, NULL, "utf-8", NULL);
  xmlTextWriterStartElement (writer, BAD_CAST "soap:Envelope");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:soap", BAD_CAST SOAP_NS);
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:t", BAD_CAST TYPES_NS);
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:m", BAD_CAST MESSAGES_NS);
  xmlTextWriterStartElement (writer, BAD_CAST "soap:Header");
  xmlTextWriterStartElement (writer, BAD_CAST "t:RequestServerVersion");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "Version", BAD_CAST "Exchange2013_SP1");
  xmlTextWriterEndElement (writer);
  xmlTextWriterEndElement (writer);
  xmlTextWriterStartElement (writer, BAD_CAST "soap:Body");
  return writer;
}

static const AglEwsLocalIdentity test_identity = {
  TEST_PROPERTY_SET, "AgendalineLocalId", "local-uid-0001@agendaline"
};

/* @vcalendar written as the CalendarItem of a CreateItem request, checked
 * against Microsoft's schemas. */
static xmlDoc *
write_create_item (icalcomponent     *vcalendar,
                   const char        *recurrence_id,
                   AglEwsWriteFlags   flags)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = start_envelope (buffer);
  g_autoptr(GError) error = NULL;
  gboolean written;
  xmlDoc *doc;

  xmlTextWriterStartElement (writer, BAD_CAST "m:CreateItem");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "SendMeetingInvitations", BAD_CAST "SendToNone");
  xmlTextWriterStartElement (writer, BAD_CAST "m:SavedItemFolderId");
  xmlTextWriterStartElement (writer, BAD_CAST "t:DistinguishedFolderId");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "Id", BAD_CAST "calendar");
  xmlTextWriterEndElement (writer);
  xmlTextWriterEndElement (writer);
  xmlTextWriterStartElement (writer, BAD_CAST "m:Items");
  written = agl_ews_calendar_item_write (writer, vcalendar, recurrence_id, zones (),
                                         &test_identity, flags, &error);
  g_assert_no_error (error);
  g_assert_true (written);
  xmlTextWriterEndDocument (writer);
  g_clear_pointer (&writer, xmlFreeTextWriter);

  doc = read_xml_string ((const char *) xmlBufferContent (buffer));
  assert_valid (doc);
  return doc;
}

/* The VCALENDAR made from the CalendarItem that was written for @vcalendar. */
static icalcomponent *
round_trip (icalcomponent    *vcalendar,
            AglEwsWriteFlags  flags)
{
  g_autoptr(xmlDoc) doc = write_create_item (vcalendar, NULL, flags);
  g_autoptr(GPtrArray) items = calendar_items (doc);

  g_assert_cmpuint (items->len, ==, 1);
  return map_item (items->pdata[0]);
}

/* EWS -> VCALENDAR -> EWS -> VCALENDAR gives the same appointment, with
 * the server's fields (Organizer, responses, occurrences) and without. */
static void
assert_round_trip (icalcomponent *vcalendar)
{
  g_autoptr(icalcomponent) full = round_trip (vcalendar, AGL_EWS_WRITE_SERVER_FIELDS);
  g_autoptr(icalcomponent) client = round_trip (vcalendar, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *expected = icalcomponent_as_ical_string_r (vcalendar);
  g_autofree char *got = icalcomponent_as_ical_string_r (full);
  g_autofree char *rule = rrule_of (master (vcalendar));
  g_autofree char *client_rule = rrule_of (master (client));
  g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);
  g_autofree char *client_start = property_text (master (client), ICAL_DTSTART_PROPERTY);
  g_autofree char *end = property_text (master (vcalendar), ICAL_DTEND_PROPERTY);
  g_autofree char *client_end = property_text (master (client), ICAL_DTEND_PROPERTY);

  g_assert_cmpstr (got, ==, expected);
  g_assert_cmpstr (client_rule, ==, rule);
  g_assert_cmpstr (client_start, ==, start);
  g_assert_cmpstr (client_end, ==, end);
}

/* ---- the kit's real samples ---- */

static void
test_sample_full_ex2007 (void)
{
  g_autofree char *path = kit_path ("samples/getitem-response-calendaritem-full-msdoc-ex2007.xml");
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);
  g_autoptr(icalcomponent) vcalendar = NULL;
  icalcomponent *vevent;
  g_autofree char *start = NULL, *end = NULL, *organizer = NULL, *busy = NULL, *mine = NULL;
  g_autofree char *transp = NULL, *klass = NULL;

  /* The two ConflictingMeetings items are not appointments of their own. */
  g_assert_cmpuint (items->len, ==, 1);
  vcalendar = map_item (items->pdata[0]);
  vevent = master (vcalendar);

  /* Exchange 2007 has no UID element: the ItemId stands in. */
  g_assert_cmpstr (icalcomponent_get_uid (vevent), ==, "ews-ASUAdT");
  g_assert_null (icalcomponent_get_first_property (vevent, ICAL_SUMMARY_PROPERTY));
  g_assert_null (icalcomponent_get_first_property (vevent, ICAL_DESCRIPTION_PROPERTY));
  /* TimeZone "Pacific Standard Time": 00:30 UTC is 17:30 the day before. */
  start = property_text (vevent, ICAL_DTSTART_PROPERTY);
  end = property_text (vevent, ICAL_DTEND_PROPERTY);
  g_assert_cmpstr (start, ==, ";TZID=America/Los_Angeles:20060615T173000");
  g_assert_cmpstr (end, ==, ";TZID=America/Los_Angeles:20060615T180000");
  g_assert_nonnull (icalcomponent_get_timezone (vcalendar, "America/Los_Angeles"));
  organizer = property_text (vevent, ICAL_ORGANIZER_PROPERTY);
  g_assert_cmpstr (organizer, ==, ";CN=Bob:mailto:someone@example.com");
  busy = x_property (vevent, "X-MICROSOFT-CDO-BUSYSTATUS");
  g_assert_cmpstr (busy, ==, "BUSY");
  transp = property_text (vevent, ICAL_TRANSP_PROPERTY);
  g_assert_cmpstr (transp, ==, ":OPAQUE");
  klass = property_text (vevent, ICAL_CLASS_PROPERTY);
  g_assert_cmpstr (klass, ==, ":PUBLIC");
  mine = x_property (vevent, "X-AGL-EWS-MYRESPONSETYPE");
  g_assert_cmpstr (mine, ==, "Organizer");
  g_assert_null (icalcomponent_get_first_property (vevent, ICAL_RRULE_PROPERTY));

  assert_round_trip (vcalendar);
}

static void
test_sample_recurring_master (void)
{
  g_autofree char *path = kit_path ("samples/getitem-response-recurring-master-msdoc-ex2013.xml");
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);
  g_autoptr(icalcomponent) vcalendar = NULL;
  g_autofree char *rule = NULL, *expected = normalised_rule ("FREQ=WEEKLY;COUNT=10;BYDAY=SA");
  icalcomponent *vevent;

  g_assert_cmpuint (items->len, ==, 1);
  vcalendar = map_item (items->pdata[0]);
  vevent = master (vcalendar);
  g_assert_cmpstr (icalcomponent_get_summary (vevent), ==, "Weekly Update Meeting");
  g_assert_cmpstr (icalcomponent_get_uid (vevent), ==, "ews-AAMkAD");
  rule = rrule_of (vevent);
  g_assert_cmpstr (rule, ==, expected);
  /* FirstOccurrence and LastOccurrence are facts of the expansion, not
   * data: the tenth Saturday from 8 March 2014 is 10 May. */
  {
    icalrecur_iterator *iterator = icalrecur_iterator_new (icalproperty_get_rrule (
                                                             icalcomponent_get_first_property (vevent, ICAL_RRULE_PROPERTY)),
                                                           icalcomponent_get_dtstart (vevent));
    struct icaltimetype last = icaltime_null_time ();

    for (struct icaltimetype next = icalrecur_iterator_next (iterator); !icaltime_is_null_time (next);
         next = icalrecur_iterator_next (iterator))
      last = next;
    icalrecur_iterator_free (iterator);
    g_assert_cmpint (last.year, ==, 2014);
    g_assert_cmpint (last.month, ==, 5);
    g_assert_cmpint (last.day, ==, 10);
  }
  assert_round_trip (vcalendar);
}

static void
test_sample_batch (void)
{
  g_autofree char *path = kit_path ("samples/getitem-response-batch-calendar-msdoc-ex2013.xml");
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);
  g_autoptr(icalcomponent) first = NULL, second = NULL, third = NULL;
  g_autofree char *start = NULL, *html = NULL;
  icalcomponent *vevent;
  int n_attendees = 0;

  g_assert_cmpuint (items->len, ==, 3);
  first = map_item (items->pdata[0]);
  second = map_item (items->pdata[1]);
  third = map_item (items->pdata[2]);

  g_assert_cmpstr (icalcomponent_get_summary (master (first)), ==, "Review current quarterly deliverables");
  g_assert_cmpstr (icalcomponent_get_location (master (first)), ==, "Local food bank");
  start = property_text (master (first), ICAL_DTSTART_PROPERTY);
  g_assert_cmpstr (start, ==, ":20140119T185907Z");
  /* An HTML body: readable text in DESCRIPTION, the HTML kept. */
  g_assert_nonnull (strstr (icalcomponent_get_description (master (first)),
                            "Wrap up all outstanding deliverables for this quarter and prepare for Q2."));
  html = x_property (master (first), "X-ALT-DESC");
  g_assert_nonnull (html);
  g_assert_nonnull (strstr (html, "Wrap up all outstanding deliverables"));

  g_assert_cmpstr (icalcomponent_get_summary (master (second)), ==, "Food bank delivery");
  g_assert_null (icalcomponent_get_location (master (second)));

  g_assert_cmpstr (icalcomponent_get_summary (master (third)), ==, "Code Blast");
  g_assert_cmpstr (icalcomponent_get_location (master (third)), ==, "The lounge");
  vevent = master (third);
  for (icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_ATTENDEE_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (vevent, ICAL_ATTENDEE_PROPERTY))
    {
      g_autofree char *line = unfolded_line (prop);

      g_assert_nonnull (strstr (line, "ROLE=REQ-PARTICIPANT"));
      g_assert_nonnull (strstr (line, "PARTSTAT=NEEDS-ACTION"));
      g_assert_nonnull (strstr (line, "X-AGL-EWS-RESPONSETYPE=Unknown"));
      n_attendees++;
    }
  g_assert_cmpint (n_attendees, ==, 3);
  g_assert_cmpstr (icalproperty_get_attendee (icalcomponent_get_first_property (master (third),
                                                                                ICAL_ATTENDEE_PROPERTY)),
                   ==, "mailto:Mack@contoso.com");

  assert_round_trip (first);
  assert_round_trip (second);
  assert_round_trip (third);
}

static void
test_sample_finditem (void)
{
  static const struct
  {
    const char *subject;
    const char *start;
  } expected[] = {
    { "Contoso devs team meeting", ":20130821T193000Z" },
    { "Daily status meeting", ":20130821T200000Z" },
    { "Lunch with sales team", ":20130821T213000Z" },
    { "Tennis at the club", ":20130822T180000Z" },
    { "Online training webcast", ":20130822T210000Z" },
  };
  g_autofree char *path = kit_path ("samples/finditem-calendarview-response-msdoc-ex2013.xml");
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);

  g_assert_cmpuint (items->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < items->len; i++)
    {
      g_autoptr(icalcomponent) vcalendar = map_item (items->pdata[i]);
      g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);

      g_assert_cmpstr (icalcomponent_get_summary (master (vcalendar)), ==, expected[i].subject);
      g_assert_cmpstr (start, ==, expected[i].start);
      assert_round_trip (vcalendar);
    }
}

/* ---- recurrence ---- */

typedef struct
{
  const char *path;
  const char *pattern;
  const char *range;
  const char *rrule;
} RecurrenceCase;

#define NUMBERED "<t:NumberedRecurrence><t:StartDate>2024-01-08</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>"
#define END_DATE "<t:EndDateRecurrence><t:StartDate>2024-01-08</t:StartDate><t:EndDate>2024-12-31</t:EndDate></t:EndDateRecurrence>"
#define NO_END "<t:NoEndRecurrence><t:StartDate>2024-01-08</t:StartDate></t:NoEndRecurrence>"

#define DAILY "<t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence>"
#define WEEKLY "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek><t:FirstDayOfWeek>Sunday</t:FirstDayOfWeek></t:WeeklyRecurrence>"
#define ABS_MONTHLY "<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>8</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>"
#define REL_MONTHLY "<t:RelativeMonthlyRecurrence><t:Interval>3</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"
#define ABS_YEARLY "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>8</t:DayOfMonth><t:Month>January</t:Month></t:AbsoluteYearlyRecurrence>"
#define ABS_MONTHLY_DAY(d, interval) "<t:AbsoluteMonthlyRecurrence><t:Interval>" #interval "</t:Interval><t:DayOfMonth>" #d "</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>"
#define ABS_YEARLY_DAY(d, month) "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>" #d "</t:DayOfMonth><t:Month>" month "</t:Month></t:AbsoluteYearlyRecurrence>"
#define REL_YEARLY "<t:RelativeYearlyRecurrence><t:DaysOfWeek>Monday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex><t:Month>January</t:Month></t:RelativeYearlyRecurrence>"

/* Starts on Monday 8 January 2024 at 09:00 in Berlin; EndDate 31
 * December means the 09:00 (08:00 UTC) occurrence of that day. */
static const RecurrenceCase recurrence_cases[] = {
  { "/ews-calendar/recurrence/daily/numbered", DAILY, NUMBERED, "FREQ=DAILY;COUNT=10;INTERVAL=2" },
  { "/ews-calendar/recurrence/daily/end-date", DAILY, END_DATE, "FREQ=DAILY;UNTIL=20241231T080000Z;INTERVAL=2" },
  { "/ews-calendar/recurrence/daily/no-end", DAILY, NO_END, "FREQ=DAILY;INTERVAL=2" },
  { "/ews-calendar/recurrence/weekly/numbered", WEEKLY, NUMBERED, "FREQ=WEEKLY;COUNT=10;BYDAY=MO,WE;WKST=SU" },
  { "/ews-calendar/recurrence/weekly/end-date", WEEKLY, END_DATE, "FREQ=WEEKLY;UNTIL=20241231T080000Z;BYDAY=MO,WE;WKST=SU" },
  { "/ews-calendar/recurrence/weekly/no-end", WEEKLY, NO_END, "FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU" },
  { "/ews-calendar/recurrence/absolute-monthly/numbered", ABS_MONTHLY, NUMBERED, "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=8" },
  { "/ews-calendar/recurrence/absolute-monthly/end-date", ABS_MONTHLY, END_DATE, "FREQ=MONTHLY;UNTIL=20241231T080000Z;BYMONTHDAY=8" },
  { "/ews-calendar/recurrence/absolute-monthly/no-end", ABS_MONTHLY, NO_END, "FREQ=MONTHLY;BYMONTHDAY=8" },
  /* DayOfMonth 29 to 31 falls on the last day of shorter months: the
   * last of the days 28 to D that the month has. */
  { "/ews-calendar/recurrence/absolute-monthly/day-29", ABS_MONTHLY_DAY (29, 1), NO_END,
    "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1" },
  { "/ews-calendar/recurrence/absolute-monthly/day-30", ABS_MONTHLY_DAY (30, 1), END_DATE,
    "FREQ=MONTHLY;UNTIL=20241231T080000Z;BYMONTHDAY=28,29,30;BYSETPOS=-1" },
  { "/ews-calendar/recurrence/absolute-monthly/day-31", ABS_MONTHLY_DAY (31, 1), NUMBERED,
    "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" },
  { "/ews-calendar/recurrence/absolute-monthly/day-31-every-other", ABS_MONTHLY_DAY (31, 2), NO_END,
    "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" },
  { "/ews-calendar/recurrence/relative-monthly/numbered", REL_MONTHLY, NUMBERED, "FREQ=MONTHLY;COUNT=10;INTERVAL=3;BYDAY=2MO" },
  { "/ews-calendar/recurrence/relative-monthly/end-date", REL_MONTHLY, END_DATE, "FREQ=MONTHLY;UNTIL=20241231T080000Z;INTERVAL=3;BYDAY=2MO" },
  { "/ews-calendar/recurrence/relative-monthly/no-end", REL_MONTHLY, NO_END, "FREQ=MONTHLY;INTERVAL=3;BYDAY=2MO" },
  { "/ews-calendar/recurrence/relative-monthly/last-weekday",
    "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
    NO_END, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1" },
  { "/ews-calendar/recurrence/relative-monthly/first-day",
    "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Day</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
    NUMBERED, "FREQ=MONTHLY;COUNT=10;BYDAY=SU,MO,TU,WE,TH,FR,SA;BYSETPOS=1" },
  { "/ews-calendar/recurrence/relative-monthly/third-weekend-day",
    "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>WeekendDay</t:DaysOfWeek><t:DayOfWeekIndex>Third</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
    END_DATE, "FREQ=MONTHLY;UNTIL=20241231T080000Z;BYDAY=SU,SA;BYSETPOS=3" },
  { "/ews-calendar/recurrence/absolute-yearly/numbered", ABS_YEARLY, NUMBERED, "FREQ=YEARLY;COUNT=10;BYMONTHDAY=8;BYMONTH=1" },
  { "/ews-calendar/recurrence/absolute-yearly/end-date", ABS_YEARLY, END_DATE, "FREQ=YEARLY;UNTIL=20241231T080000Z;BYMONTHDAY=8;BYMONTH=1" },
  { "/ews-calendar/recurrence/absolute-yearly/no-end", ABS_YEARLY, NO_END, "FREQ=YEARLY;BYMONTHDAY=8;BYMONTH=1" },
  { "/ews-calendar/recurrence/absolute-yearly/february-29", ABS_YEARLY_DAY (29, "February"), NO_END,
    "FREQ=YEARLY;BYMONTHDAY=28,29;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/recurrence/absolute-yearly/february-30", ABS_YEARLY_DAY (30, "February"), NUMBERED,
    "FREQ=YEARLY;COUNT=10;BYMONTHDAY=28,29,30;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/recurrence/absolute-yearly/february-31", ABS_YEARLY_DAY (31, "February"), END_DATE,
    "FREQ=YEARLY;UNTIL=20241231T080000Z;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/recurrence/absolute-yearly/april-31", ABS_YEARLY_DAY (31, "April"), NO_END,
    "FREQ=YEARLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYMONTH=4" },
  /* Every January has a 31st: the plain day. */
  { "/ews-calendar/recurrence/absolute-yearly/january-31", ABS_YEARLY_DAY (31, "January"), NO_END,
    "FREQ=YEARLY;BYMONTHDAY=31;BYMONTH=1" },
  { "/ews-calendar/recurrence/relative-yearly/numbered", REL_YEARLY, NUMBERED, "FREQ=YEARLY;COUNT=10;BYDAY=2MO;BYMONTH=1" },
  { "/ews-calendar/recurrence/relative-yearly/end-date", REL_YEARLY, END_DATE, "FREQ=YEARLY;UNTIL=20241231T080000Z;BYDAY=2MO;BYMONTH=1" },
  { "/ews-calendar/recurrence/relative-yearly/no-end", REL_YEARLY, NO_END, "FREQ=YEARLY;BYDAY=2MO;BYMONTH=1" },
  { "/ews-calendar/recurrence/relative-yearly/last-friday",
    "<t:RelativeYearlyRecurrence><t:DaysOfWeek>Friday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex><t:Month>March</t:Month></t:RelativeYearlyRecurrence>",
    NO_END, "FREQ=YEARLY;BYDAY=-1FR;BYMONTH=3" },
};

static void
test_recurrence (gconstpointer data)
{
  const RecurrenceCase *test = data;
  g_autofree char *fields = g_strdup_printf (
    "<t:ItemId Id=\"AAMkRecurring\"/>"
    "<t:Subject>Series</t:Subject>"
    "<t:UID>agendaline-test-series</t:UID>"
    "<t:Start>2024-01-08T08:00:00Z</t:Start>"
    "<t:End>2024-01-08T09:00:00Z</t:End>"
    "<t:IsAllDayEvent>false</t:IsAllDayEvent>"
    "<t:CalendarItemType>RecurringMaster</t:CalendarItemType>"
    "<t:Recurrence>%s%s</t:Recurrence>"
    "<t:StartTimeZoneId>W. Europe Standard Time</t:StartTimeZoneId>"
    "<t:EndTimeZoneId>W. Europe Standard Time</t:EndTimeZoneId>",
    test->pattern, test->range);
  g_autoptr(icalcomponent) vcalendar = map_item_text (fields);
  g_autofree char *rule = rrule_of (master (vcalendar));
  g_autofree char *expected = normalised_rule (test->rrule);
  g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *pattern_name = NULL;
  g_autofree char *original_name = NULL;
  g_autoptr(xmlDoc) original = NULL;
  g_autofree char *original_text = g_strdup_printf ("<t:Recurrence xmlns:t=\"" TYPES_NS "\">%s%s</t:Recurrence>",
                                                    test->pattern, test->range);

  g_assert_cmpstr (rule, ==, expected);
  g_assert_cmpstr (start, ==, ";TZID=Europe/Berlin:20240108T090000");

  /* Written back, the same pattern and range elements. */
  original = read_xml_string (original_text);
  original_name = xpath_string (original, "name(/t:Recurrence/*[1])");
  pattern_name = xpath_string (written, "name(//t:CalendarItem/t:Recurrence/*[1])");
  g_assert_cmpstr (pattern_name, ==, original_name);
  g_free (original_name);
  g_free (pattern_name);
  original_name = xpath_string (original, "name(/t:Recurrence/*[2])");
  pattern_name = xpath_string (written, "name(//t:CalendarItem/t:Recurrence/*[2])");
  g_assert_cmpstr (pattern_name, ==, original_name);
  /* ... holding the same values (interval, days, index, month, dates,
   * count) in the same order. */
  g_free (original_name);
  g_free (pattern_name);
  original_name = xpath_string (original, "normalize-space(/t:Recurrence)");
  pattern_name = xpath_string (written, "normalize-space(//t:CalendarItem/t:Recurrence)");
  g_assert_cmpstr (pattern_name, ==, original_name);

  assert_round_trip (vcalendar);
}

/* ---- time zones ---- */

typedef struct
{
  const char *path;
  const char *windows_id;
  const char *iana;
  const char *local;     /* the same wall clock time either side of the change */
  const char *utc;
} ZoneCase;

static const ZoneCase zone_cases[] = {
  { "/ews-calendar/time-zone/w-europe/before-dst", "W. Europe Standard Time", "Europe/Berlin", "20240329T090000", "2024-03-29T08:00:00Z" },
  { "/ews-calendar/time-zone/w-europe/after-dst", "W. Europe Standard Time", "Europe/Berlin", "20240402T090000", "2024-04-02T07:00:00Z" },
  { "/ews-calendar/time-zone/pacific/before-dst", "Pacific Standard Time", "America/Los_Angeles", "20240308T090000", "2024-03-08T17:00:00Z" },
  { "/ews-calendar/time-zone/pacific/after-dst", "Pacific Standard Time", "America/Los_Angeles", "20240312T090000", "2024-03-12T16:00:00Z" },
  { "/ews-calendar/time-zone/aus-eastern/before-dst-end", "AUS Eastern Standard Time", "Australia/Sydney", "20240405T090000", "2024-04-04T22:00:00Z" },
  { "/ews-calendar/time-zone/aus-eastern/after-dst-end", "AUS Eastern Standard Time", "Australia/Sydney", "20240409T090000", "2024-04-08T23:00:00Z" },
  { "/ews-calendar/time-zone/new-zealand/before-dst", "New Zealand Standard Time", "Pacific/Auckland", "20240927T090000", "2024-09-26T21:00:00Z" },
  { "/ews-calendar/time-zone/new-zealand/after-dst", "New Zealand Standard Time", "Pacific/Auckland", "20241001T090000", "2024-09-30T20:00:00Z" },
  { "/ews-calendar/time-zone/e-south-america/before-dst-2018", "E. South America Standard Time", "America/Sao_Paulo", "20181102T090000", "2018-11-02T12:00:00Z" },
  { "/ews-calendar/time-zone/e-south-america/after-dst-2018", "E. South America Standard Time", "America/Sao_Paulo", "20181106T090000", "2018-11-06T11:00:00Z" },
  { "/ews-calendar/time-zone/india/no-dst", "India Standard Time", "Asia/Kolkata", "20240329T090000", "2024-03-29T03:30:00Z" },
};

static void
test_zone (gconstpointer data)
{
  const ZoneCase *test = data;
  g_autofree char *ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                                           "BEGIN:VEVENT\r\nUID:zone-test\r\nSUMMARY:Zone\r\n"
                                           "DTSTART;TZID=%s:%s\r\nDTEND;TZID=%s:%s\r\n"
                                           "END:VEVENT\r\nEND:VCALENDAR\r\n",
                                           test->iana, test->local, test->iana, test->local);
  g_autoptr(icalcomponent) vcalendar = parse_ical (ical);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *start = xpath_string (written, "//t:CalendarItem/t:Start");
  g_autofree char *zone_id = xpath_string (written, "//t:CalendarItem/t:StartTimeZone/@Id");
  g_autofree char *end_zone_id = xpath_string (written, "//t:CalendarItem/t:EndTimeZone/@Id");
  g_autofree char *fields = g_strdup_printf ("<t:ItemId Id=\"AAMkZone\"/><t:Start>%s</t:Start><t:End>%s</t:End>"
                                             "<t:StartTimeZoneId>%s</t:StartTimeZoneId>",
                                             test->utc, test->utc, test->windows_id);
  g_autoptr(icalcomponent) mapped = map_item_text (fields);
  g_autofree char *expected = g_strdup_printf (";TZID=%s:%s", test->iana, test->local);
  g_autofree char *dtstart = property_text (master (mapped), ICAL_DTSTART_PROPERTY);

  /* VEVENT -> EWS: the UTC instant and the Windows zone. */
  g_assert_cmpstr (start, ==, test->utc);
  g_assert_cmpstr (zone_id, ==, test->windows_id);
  g_assert_cmpstr (end_zone_id, ==, test->windows_id);
  /* EWS -> VEVENT: the wall clock time in the IANA zone, its VTIMEZONE
   * in the calendar. */
  g_assert_cmpstr (dtstart, ==, expected);
  g_assert_nonnull (icalcomponent_get_timezone (mapped, test->iana));
  assert_round_trip (mapped);
}

static icalcomponent *
map_fixture (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);

  g_assert_cmpuint (items->len, >=, 1);
  return map_item (items->pdata[0]);
}

/* A Windows zone CLDR does not know: its VTIMEZONE comes from the item's
 * own TimeZoneDefinition, and goes back under the same Id. */
static void
test_zone_invented_definition (void)
{
  g_autoptr(icalcomponent) vcalendar = map_fixture ("calendar-item-invented-zone.xml");
  g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);
  g_autofree char *end = property_text (master (vcalendar), ICAL_DTEND_PROPERTY);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *written_start = xpath_string (written, "//t:CalendarItem/t:Start");
  g_autofree char *zone_id = xpath_string (written, "//t:CalendarItem/t:StartTimeZone/@Id");

  /* 23:00 UTC on 6 April 2024 is 09:00 on the 7th, six hours after
   * daylight time ended (UTC+10). */
  g_assert_cmpstr (start, ==, ";TZID=Agendaline Test Standard Time:20240407T090000");
  g_assert_cmpstr (end, ==, ";TZID=Agendaline Test Standard Time:20240407T100000");
  g_assert_cmpstr (written_start, ==, "2024-04-06T23:00:00Z");
  g_assert_cmpstr (zone_id, ==, "Agendaline Test Standard Time");
  assert_round_trip (vcalendar);
}

static void
test_zone_legacy (void)
{
  g_autoptr(icalcomponent) vcalendar = map_fixture ("calendar-item-legacy-zone.xml");
  g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);

  g_assert_cmpstr (start, ==, ";TZID=Agendaline Legacy Pacific:20240308T090000");
  g_assert_nonnull (icalcomponent_get_timezone (vcalendar, "Agendaline Legacy Pacific"));

  /* Exchange 2010+ takes no MeetingTimeZone: the rules go back as a
   * TimeZoneDefinition, and read back they give the same times. */
  {
    g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
    g_autoptr(icalcomponent) back = round_trip (vcalendar, AGL_EWS_WRITE_DEFAULT);
    g_autofree char *written_start = xpath_string (written, "//t:CalendarItem/t:Start");
    g_autofree char *bias = xpath_string (written, "//t:StartTimeZone/t:Periods/t:Period[@Id='Dlt']/@Bias");
    g_autofree char *back_start = property_text (master (back), ICAL_DTSTART_PROPERTY);
    g_autofree char *back_end = property_text (master (back), ICAL_DTEND_PROPERTY);

    g_assert_cmpstr (written_start, ==, "2024-03-08T17:00:00Z");
    g_assert_cmpstr (bias, ==, "PT7H0M0S");
    g_assert_cmpint (xpath_count (written, "//t:StartTimeZone//t:RecurringDayTransition"), ==, 2);
    g_assert_cmpstr (back_start, ==, start);
    g_assert_cmpstr (back_end, ==, ";TZID=Agendaline Legacy Pacific:20240308T093000");
  }
}

/* A VTIMEZONE of an invitation (Outlook's "Customized Time Zone") goes to
 * Exchange as its rules, and the times survive the trip. */
static void
test_zone_custom_vtimezone (void)
{
  g_autoptr(icalcomponent) vcalendar = parse_ical (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n"
    "BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:custom-zone\r\nSUMMARY:Invitation\r\n"
    "DTSTART;TZID=Customized Time Zone:20240402T090000\r\n"
    "DTEND;TZID=Customized Time Zone:20240402T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autoptr(icalcomponent) back = round_trip (vcalendar, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *written_start = xpath_string (written, "//t:CalendarItem/t:Start");
  g_autofree char *zone_id = xpath_string (written, "//t:StartTimeZone/@Id");
  g_autofree char *back_start = property_text (master (back), ICAL_DTSTART_PROPERTY);

  g_assert_cmpstr (written_start, ==, "2024-04-02T07:00:00Z");
  g_assert_cmpstr (zone_id, ==, "Customized Time Zone");
  g_assert_cmpstr (back_start, ==, ";TZID=Customized Time Zone:20240402T090000");
}

/* ---- all-day events ---- */

static void
test_all_day (void)
{
  g_autoptr(icalcomponent) vcalendar = map_item_text (
    "<t:ItemId Id=\"AAMkAllDay\"/><t:Subject>Holiday</t:Subject>"
    "<t:Start>2024-05-08T22:00:00Z</t:Start><t:End>2024-05-10T22:00:00Z</t:End>"
    "<t:IsAllDayEvent>true</t:IsAllDayEvent><t:LegacyFreeBusyStatus>OOF</t:LegacyFreeBusyStatus>"
    "<t:StartTimeZoneId>W. Europe Standard Time</t:StartTimeZoneId>"
    "<t:EndTimeZoneId>W. Europe Standard Time</t:EndTimeZoneId>");
  g_autofree char *start = property_text (master (vcalendar), ICAL_DTSTART_PROPERTY);
  g_autofree char *end = property_text (master (vcalendar), ICAL_DTEND_PROPERTY);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *written_start = xpath_string (written, "//t:CalendarItem/t:Start");
  g_autofree char *written_end = xpath_string (written, "//t:CalendarItem/t:End");
  g_autofree char *all_day = xpath_string (written, "//t:CalendarItem/t:IsAllDayEvent");

  /* Two whole days in Berlin: 9 and 10 May. */
  g_assert_cmpstr (start, ==, ";VALUE=DATE:20240509");
  g_assert_cmpstr (end, ==, ";VALUE=DATE:20240511");
  g_assert_cmpstr (written_start, ==, "2024-05-08T22:00:00Z");
  g_assert_cmpstr (written_end, ==, "2024-05-10T22:00:00Z");
  g_assert_cmpstr (all_day, ==, "true");
  assert_round_trip (vcalendar);
}

/* An all-day event made locally has no EWS zone: it means the user's
 * days (TZ=Europe/Berlin in the test environment). */
static void
test_all_day_local (void)
{
  g_autoptr(icalcomponent) vcalendar = parse_ical (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:local-all-day\r\n"
    "SUMMARY:Local holiday\r\nDTSTART;VALUE=DATE:20240101\r\nDTEND;VALUE=DATE:20240102\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n");
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *written_start = xpath_string (written, "//t:CalendarItem/t:Start");
  g_autofree char *zone_id = xpath_string (written, "//t:CalendarItem/t:StartTimeZone/@Id");

  g_assert_cmpstr (written_start, ==, "2023-12-31T23:00:00Z");
  g_assert_cmpstr (zone_id, ==, "W. Europe Standard Time");
}

/* A yearly all-day series (a birthday) with an end date and a deleted
 * year: UNTIL and EXDATE are dates too. */
static void
test_all_day_recurring (void)
{
  g_autoptr(icalcomponent) vcalendar = map_item_text (
    "<t:ItemId Id=\"AAMkBirthday\"/><t:Subject>Birthday</t:Subject>"
    "<t:Start>2024-02-28T23:00:00Z</t:Start><t:End>2024-02-29T23:00:00Z</t:End>"
    "<t:IsAllDayEvent>true</t:IsAllDayEvent><t:LegacyFreeBusyStatus>Free</t:LegacyFreeBusyStatus>"
    "<t:Recurrence><t:AbsoluteYearlyRecurrence><t:DayOfMonth>29</t:DayOfMonth><t:Month>February</t:Month>"
    "</t:AbsoluteYearlyRecurrence><t:EndDateRecurrence><t:StartDate>2024-02-29</t:StartDate>"
    "<t:EndDate>2036-02-29</t:EndDate></t:EndDateRecurrence></t:Recurrence>"
    "<t:DeletedOccurrences><t:DeletedOccurrence><t:Start>2028-02-28T23:00:00Z</t:Start>"
    "</t:DeletedOccurrence></t:DeletedOccurrences>"
    "<t:StartTimeZoneId>W. Europe Standard Time</t:StartTimeZoneId>");
  icalcomponent *vevent = master (vcalendar);
  g_autofree char *start = property_text (vevent, ICAL_DTSTART_PROPERTY);
  g_autofree char *exdate = property_text (vevent, ICAL_EXDATE_PROPERTY);
  g_autofree char *rule = rrule_of (vevent);
  /* 28 February in the years between, as Exchange has it. */
  g_autofree char *expected = normalised_rule ("FREQ=YEARLY;UNTIL=20360229;BYMONTHDAY=28,29;BYSETPOS=-1;BYMONTH=2");
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_SERVER_FIELDS);
  g_autofree char *end_date = xpath_string (written, "//t:EndDateRecurrence/t:EndDate");
  g_autofree char *deleted = xpath_string (written, "//t:DeletedOccurrence/t:Start");

  g_assert_cmpstr (start, ==, ";VALUE=DATE:20240229");
  g_assert_cmpstr (exdate, ==, ";VALUE=DATE:20280229");
  g_assert_cmpstr (rule, ==, expected);
  g_assert_cmpstr (end_date, ==, "2036-02-29");
  g_assert_cmpstr (deleted, ==, "2028-02-28T23:00:00Z");
  assert_round_trip (vcalendar);
}

/* ---- the last day of shorter months ---- */

typedef struct
{
  const char *path;
  int         day_of_month;
  const char *month;       /* NULL: monthly */
  int         year;        /* the first occurrence, 09:00 in Berlin */
  int         first_month;
  guint       n;           /* occurrences checked */
  const char *rrule;
} MonthEndCase;

static const MonthEndCase month_end_cases[] = {
  { "/ews-calendar/month-end/monthly-29", 29, NULL, 2023, 1, 26, "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1" },
  { "/ews-calendar/month-end/monthly-30", 30, NULL, 2024, 1, 26, "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1" },
  { "/ews-calendar/month-end/monthly-31", 31, NULL, 2024, 1, 26, "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1" },
  { "/ews-calendar/month-end/yearly-february-29", 29, "February", 2024, 2, 9,
    "FREQ=YEARLY;BYMONTHDAY=28,29;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/month-end/yearly-february-30", 30, "February", 2024, 2, 9,
    "FREQ=YEARLY;BYMONTHDAY=28,29,30;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/month-end/yearly-february-31", 31, "February", 2025, 2, 9,
    "FREQ=YEARLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYMONTH=2" },
  { "/ews-calendar/month-end/yearly-april-31", 31, "April", 2024, 4, 5,
    "FREQ=YEARLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;BYMONTH=4" },
};

/* The @i-th date of the series as Exchange's documentation has it:
 * DayOfMonth, or the month's last day when the month is shorter. */
static void
exchange_date (const MonthEndCase *test,
               guint               i,
               GDate              *date)
{
  int months = test->month == NULL ? (int) i : 12 * (int) i;
  int year = test->year + (test->first_month - 1 + months) / 12;
  int month = (test->first_month - 1 + months) % 12 + 1;
  int last = g_date_get_days_in_month (month, year);

  g_date_clear (date, 1);
  g_date_set_dmy (date, MIN (test->day_of_month, last), month, year);
}

/* An Exchange series on day 29, 30 or 31 becomes a rule the agenda
 * (libical 3.0) expands to the same dates, and goes back as the same
 * DayOfMonth. */
static void
test_month_end (gconstpointer data)
{
  const MonthEndCase *test = data;
  g_autoptr(GTimeZone) berlin = g_time_zone_new_identifier ("Europe/Berlin");
  g_autoptr(GDateTime) first = NULL, first_utc = NULL, after = NULL;
  g_autofree char *start = NULL, *end = NULL, *pattern = NULL, *fields = NULL;
  g_autofree char *rule = NULL, *expected = NULL, *text = NULL, *written_day = NULL;
  g_autofree char *written_month = NULL, *written_pattern = NULL;
  g_autoptr(icalcomponent) vcalendar = NULL;
  g_autoptr(GPtrArray) occurrences = NULL;
  g_autoptr(xmlDoc) written = NULL;
  g_autoptr(GError) error = NULL;
  GDate date;

  exchange_date (test, 0, &date);
  first = g_date_time_new (berlin, g_date_get_year (&date), g_date_get_month (&date),
                           g_date_get_day (&date), 9, 0, 0);
  first_utc = g_date_time_to_utc (first);
  start = g_date_time_format (first_utc, "%Y-%m-%dT%H:%M:%SZ");
  g_clear_pointer (&first_utc, g_date_time_unref);
  first_utc = g_date_time_add_hours (first, 1);
  end = g_date_time_format (first_utc, "%Y-%m-%dT%H:%M:%SZ");
  if (test->month == NULL)
    pattern = g_strdup_printf ("<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval>"
                               "<t:DayOfMonth>%d</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>",
                               test->day_of_month);
  else
    pattern = g_strdup_printf ("<t:AbsoluteYearlyRecurrence><t:DayOfMonth>%d</t:DayOfMonth>"
                               "<t:Month>%s</t:Month></t:AbsoluteYearlyRecurrence>",
                               test->day_of_month, test->month);
  fields = g_strdup_printf ("<t:ItemId Id=\"AAMkMonthEnd\"/><t:Subject>Month end</t:Subject>"
                            "<t:UID>agendaline-test-month-end</t:UID>"
                            "<t:Start>%s</t:Start><t:End>%s</t:End>"
                            "<t:IsAllDayEvent>false</t:IsAllDayEvent>"
                            "<t:CalendarItemType>RecurringMaster</t:CalendarItemType>"
                            "<t:Recurrence>%s<t:NoEndRecurrence><t:StartDate>%04d-%02d-%02d</t:StartDate>"
                            "</t:NoEndRecurrence></t:Recurrence>"
                            "<t:StartTimeZoneId>W. Europe Standard Time</t:StartTimeZoneId>"
                            "<t:EndTimeZoneId>W. Europe Standard Time</t:EndTimeZoneId>",
                            start, end, pattern, g_date_get_year (&date), g_date_get_month (&date),
                            g_date_get_day (&date));
  vcalendar = map_item_text (fields);
  rule = rrule_of (master (vcalendar));
  expected = normalised_rule (test->rrule);
  g_assert_cmpstr (rule, ==, expected);

  /* The agenda's own expansion gives Exchange's dates, no more, no fewer. */
  exchange_date (test, test->n, &date);
  after = g_date_time_new (berlin, g_date_get_year (&date), g_date_get_month (&date), 1, 0, 0, 0);
  text = icalcomponent_as_ical_string_r (vcalendar);
  occurrences = agl_occurrences_expand (text, g_date_time_to_unix (first), g_date_time_to_unix (after),
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (occurrences->len, ==, test->n);
  for (guint i = 0; i < occurrences->len; i++)
    {
      const AglOccurrence *occurrence = occurrences->pdata[i];
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (occurrence->start);
      g_autoptr(GDateTime) local = g_date_time_to_timezone (utc, berlin);
      g_autofree char *got = g_date_time_format (local, "%Y-%m-%d %H:%M");
      g_autofree char *want = NULL;

      exchange_date (test, i, &date);
      want = g_strdup_printf ("%04d-%02d-%02d 09:00", g_date_get_year (&date), g_date_get_month (&date),
                              g_date_get_day (&date));
      g_assert_cmpstr (got, ==, want);
    }

  /* Written back: the same DayOfMonth (and Month). */
  written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  written_pattern = xpath_string (written, "local-name(//t:CalendarItem/t:Recurrence/*[1])");
  written_day = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[1]/t:DayOfMonth");
  written_month = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[1]/t:Month");
  g_assert_cmpstr (written_pattern, ==, test->month == NULL ? "AbsoluteMonthlyRecurrence"
                                                           : "AbsoluteYearlyRecurrence");
  g_assert_cmpint (atoi (written_day), ==, test->day_of_month);
  g_assert_cmpstr (written_month, ==, test->month != NULL ? test->month : "");
  assert_round_trip (vcalendar);
}

/* The shapes that go to Exchange as DayOfMonth from an iCalendar written
 * elsewhere: the last-day sets in any order, BYMONTHDAY=-1, and a plain
 * day no month of the series lacks. */
typedef struct
{
  const char *path;
  const char *dtstart;
  const char *rrule;
  const char *pattern;
  int         day_of_month;
  int         interval;     /* monthly only */
  const char *month;        /* yearly only */
} DayOfMonthCase;

static const DayOfMonthCase day_of_month_cases[] = {
  { "/ews-calendar/rrule-to-day-of-month/monthly-set-31", "20240131T090000",
    "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", "AbsoluteMonthlyRecurrence", 31, 1, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-set-31-reversed", "20240131T090000",
    "FREQ=MONTHLY;INTERVAL=3;BYSETPOS=-1;BYMONTHDAY=31,30,29,28", "AbsoluteMonthlyRecurrence", 31, 3, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-set-30", "20240130T090000",
    "FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1", "AbsoluteMonthlyRecurrence", 30, 1, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-set-29", "20240129T090000",
    "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1", "AbsoluteMonthlyRecurrence", 29, 1, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-last-day", "20240131T090000",
    "FREQ=MONTHLY;BYMONTHDAY=-1", "AbsoluteMonthlyRecurrence", 31, 1, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-28", "20240128T090000",
    "FREQ=MONTHLY;BYMONTHDAY=28", "AbsoluteMonthlyRecurrence", 28, 1, NULL },
  /* Every twelve months from January, or every six from July: every
   * month the series meets has a 31st. */
  { "/ews-calendar/rrule-to-day-of-month/monthly-31-every-12", "20240131T090000",
    "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31", "AbsoluteMonthlyRecurrence", 31, 12, NULL },
  { "/ews-calendar/rrule-to-day-of-month/monthly-31-every-6-from-july", "20240731T090000",
    "FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=31", "AbsoluteMonthlyRecurrence", 31, 6, NULL },
  { "/ews-calendar/rrule-to-day-of-month/yearly-set-february-29", "20240229T090000",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1", "AbsoluteYearlyRecurrence", 29, 0, "February" },
  { "/ews-calendar/rrule-to-day-of-month/yearly-set-april-31", "20240430T090000",
    "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", "AbsoluteYearlyRecurrence", 31, 0, "April" },
  { "/ews-calendar/rrule-to-day-of-month/yearly-last-day-of-february", "20240229T090000",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", "AbsoluteYearlyRecurrence", 31, 0, "February" },
  { "/ews-calendar/rrule-to-day-of-month/yearly-january-31", "20240131T090000",
    "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=31", "AbsoluteYearlyRecurrence", 31, 0, "January" },
};

static void
test_rrule_to_day_of_month (gconstpointer data)
{
  const DayOfMonthCase *test = data;
  g_autofree char *ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                                           "BEGIN:VEVENT\r\nUID:month-end\r\n"
                                           "DTSTART;TZID=Europe/Berlin:%s\r\n"
                                           "DURATION:PT1H\r\n"
                                           "RRULE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                                           test->dtstart, test->rrule);
  g_autoptr(icalcomponent) vcalendar = parse_ical (ical);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *pattern = xpath_string (written, "local-name(//t:CalendarItem/t:Recurrence/*[1])");
  g_autofree char *day = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[1]/t:DayOfMonth");
  g_autofree char *interval = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[1]/t:Interval");
  g_autofree char *month = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[1]/t:Month");
  g_autofree char *start_date = xpath_string (written, "//t:CalendarItem/t:Recurrence/*[2]/t:StartDate");
  g_autofree char *want_start = g_strdup_printf ("%.4s-%.2s-%.2s", test->dtstart, test->dtstart + 4,
                                                 test->dtstart + 6);

  g_assert_cmpstr (pattern, ==, test->pattern);
  g_assert_cmpint (atoi (day), ==, test->day_of_month);
  if (test->month == NULL)
    g_assert_cmpint (atoi (interval), ==, test->interval);
  g_assert_cmpstr (month, ==, test->month != NULL ? test->month : "");
  g_assert_cmpstr (start_date, ==, want_start);
}

/* A plain day that some month of the series lacks is skipped there by
 * RFC 5545 but would fall on that month's last day in Exchange. */
#define SKIPS(rule, day) "“" rule "”: it has no equivalent for skipping the months that have no day " #day

/* ---- occurrences ---- */

static GPtrArray *
fixture_items (const char *name,
               xmlDoc    **out_doc)
{
  g_autofree char *path = fixture_path (name);

  *out_doc = read_xml_file (path);
  return calendar_items (*out_doc);
}

static icalcomponent *
find_override (icalcomponent *vcalendar)
{
  for (icalcomponent *vevent = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       vevent != NULL; vevent = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    if (icalcomponent_get_first_property (vevent, ICAL_RECURRENCEID_PROPERTY) != NULL)
      return vevent;
  return NULL;
}

static void
test_occurrences_from_master_only (void)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GPtrArray) items = fixture_items ("calendar-recurring-exceptions.xml", &doc);
  g_autoptr(icalcomponent) vcalendar = map_item (items->pdata[0]);
  icalcomponent *override = find_override (vcalendar);
  g_autofree char *exdate = property_text (master (vcalendar), ICAL_EXDATE_PROPERTY);
  g_autofree char *rid = NULL, *start = NULL, *end = NULL, *item_id = NULL;

  g_assert_cmpint (count_components (vcalendar, ICAL_VEVENT_COMPONENT), ==, 2);
  g_assert_cmpstr (exdate, ==, ";TZID=Europe/Berlin:20240307T090000");
  g_assert_nonnull (override);
  rid = property_text (override, ICAL_RECURRENCEID_PROPERTY);
  start = property_text (override, ICAL_DTSTART_PROPERTY);
  end = property_text (override, ICAL_DTEND_PROPERTY);
  item_id = x_property (override, "X-AGL-EWS-ITEMID");
  g_assert_cmpstr (rid, ==, ";TZID=Europe/Berlin:20240306T090000");
  g_assert_cmpstr (start, ==, ";TZID=Europe/Berlin:20240306T110000");
  g_assert_cmpstr (end, ==, ";TZID=Europe/Berlin:20240306T113000");
  g_assert_cmpstr (item_id, ==, "AAMkOccurrence3");
  /* Only the times are known: the rest is the series'. */
  g_assert_cmpstr (icalcomponent_get_uid (override), ==, "agendaline-test-daily-check-in");
  g_assert_cmpstr (icalcomponent_get_summary (override), ==, "Daily check-in");
  g_assert_null (icalcomponent_get_first_property (override, ICAL_RRULE_PROPERTY));
  g_assert_null (icalcomponent_get_first_property (override, ICAL_EXDATE_PROPERTY));
  assert_round_trip (vcalendar);
}

static void
test_occurrences_with_items (void)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GPtrArray) items = fixture_items ("calendar-recurring-exceptions.xml", &doc);
  g_autoptr(GError) error = NULL;
  xmlNode *occurrences[] = { items->pdata[1] };
  g_autoptr(icalcomponent) vcalendar = agl_ews_calendar_item_to_vcalendar (items->pdata[0], occurrences, 1,
                                                                           zones (), &error);
  icalcomponent *override;
  g_autofree char *busy = NULL, *rid = NULL;

  g_assert_no_error (error);
  override = find_override (vcalendar);
  g_assert_nonnull (override);
  rid = property_text (override, ICAL_RECURRENCEID_PROPERTY);
  busy = x_property (override, "X-MICROSOFT-CDO-BUSYSTATUS");
  g_assert_cmpstr (rid, ==, ";TZID=Europe/Berlin:20240306T090000");
  g_assert_cmpstr (icalcomponent_get_summary (override), ==, "Daily check-in (moved, long)");
  g_assert_cmpstr (icalcomponent_get_description (override), ==, "Moved for the review.");
  g_assert_cmpstr (icalcomponent_get_location (override), ==, "Room 2");
  g_assert_cmpstr (busy, ==, "TENTATIVE");
  g_assert_cmpstr (icalcomponent_get_uid (override), ==, "agendaline-test-daily-check-in");

  /* The occurrence itself goes to Exchange as its own CalendarItem. */
  {
    g_autoptr(xmlDoc) written = write_create_item (vcalendar, "20240306T090000", AGL_EWS_WRITE_DEFAULT);
    g_autofree char *subject = xpath_string (written, "//t:CalendarItem/t:Subject");
    g_autofree char *start = xpath_string (written, "//t:CalendarItem/t:Start");

    g_assert_cmpstr (subject, ==, "Daily check-in (moved, long)");
    g_assert_cmpstr (start, ==, "2024-03-06T10:00:00Z");
    g_assert_cmpint (xpath_count (written, "//t:CalendarItem/t:Recurrence"), ==, 0);
    g_assert_cmpint (xpath_count (written, "//t:CalendarItem/t:UID"), ==, 0);
  }
}

/* ---- attendees, sensitivity, free/busy ---- */

static icalproperty *
attendee (icalcomponent *vevent,
          const char    *address)
{
  for (icalproperty *prop = icalcomponent_get_first_property (vevent, ICAL_ATTENDEE_PROPERTY);
       prop != NULL; prop = icalcomponent_get_next_property (vevent, ICAL_ATTENDEE_PROPERTY))
    if (g_strcmp0 (icalproperty_get_attendee (prop), address) == 0)
      return prop;
  g_assert_not_reached ();
}

static void
assert_attendee (icalcomponent *vevent,
                 const char    *address,
                 const char    *expected)
{
  g_autofree char *line = unfolded_line (attendee (vevent, address));

  /* The parameters in the order the mapping adds them. */
  g_assert_cmpstr (line, ==, expected);
}

static void
test_attendees (void)
{
  g_autoptr(icalcomponent) vcalendar = map_fixture ("calendar-attendees.xml");
  icalcomponent *vevent = master (vcalendar);
  g_autofree char *organizer = property_text (vevent, ICAL_ORGANIZER_PROPERTY);
  g_autofree char *mine = x_property (vevent, "X-AGL-EWS-MYRESPONSETYPE");
  g_autofree char *klass = property_text (vevent, ICAL_CLASS_PROPERTY);
  g_autofree char *start = property_text (vevent, ICAL_DTSTART_PROPERTY);

  g_assert_cmpstr (organizer, ==, ";CN=Olga Organiser:mailto:olga@example.org");
  g_assert_cmpstr (mine, ==, "Tentative");
  g_assert_cmpstr (klass, ==, ":PRIVATE");
  g_assert_cmpstr (start, ==, ";TZID=Europe/London:20240603T130000");
  assert_attendee (vevent, "mailto:olga@example.org",
                   "ATTENDEE;CN=Olga Organiser;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;X-AGL-EWS-RESPONSETYPE=Organizer:mailto:olga@example.org");
  assert_attendee (vevent, "mailto:anna@example.org",
                   "ATTENDEE;CN=Anna Accept;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:anna@example.org");
  assert_attendee (vevent, "mailto:tom@example.org",
                   "ATTENDEE;CN=Tom Tentative;ROLE=REQ-PARTICIPANT;PARTSTAT=TENTATIVE:mailto:tom@example.org");
  assert_attendee (vevent, "mailto:dora@example.org",
                   "ATTENDEE;CN=Dora Decline;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED:mailto:dora@example.org");
  assert_attendee (vevent, "mailto:nina@example.org",
                   "ATTENDEE;CN=Nina Noreply;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:nina@example.org");
  assert_attendee (vevent, "mailto:uwe@example.org",
                   "ATTENDEE;CN=Uwe Unknown;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;X-AGL-EWS-RESPONSETYPE=Unknown:mailto:uwe@example.org");
  assert_attendee (vevent, "mailto:otto@example.org",
                   "ATTENDEE;CN=Otto Optional;ROLE=OPT-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:otto@example.org");
  assert_attendee (vevent, "mailto:boardroom@example.org",
                   "ATTENDEE;CN=Board room;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:boardroom@example.org");
  assert_round_trip (vcalendar);

  /* Written for CreateItem: the lists, without the server's answers. */
  {
    g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);

    g_assert_cmpint (xpath_count (written, "//t:RequiredAttendees/t:Attendee"), ==, 6);
    g_assert_cmpint (xpath_count (written, "//t:OptionalAttendees/t:Attendee"), ==, 1);
    g_assert_cmpint (xpath_count (written, "//t:Resources/t:Attendee"), ==, 1);
    g_assert_cmpint (xpath_count (written, "//t:ResponseType"), ==, 0);
    g_assert_cmpint (xpath_count (written, "//t:CalendarItem/t:Organizer"), ==, 0);
  }
}

typedef struct
{
  const char *path;
  const char *ews;
  const char *property;    /* the iCalendar property line(s) expected */
  const char *other;
} ValueCase;

static const ValueCase sensitivity_cases[] = {
  { "/ews-calendar/sensitivity/normal", "Normal", ":PUBLIC", NULL },
  { "/ews-calendar/sensitivity/personal", "Personal", ":X-PERSONAL", NULL },
  { "/ews-calendar/sensitivity/private", "Private", ":PRIVATE", NULL },
  { "/ews-calendar/sensitivity/confidential", "Confidential", ":CONFIDENTIAL", NULL },
};

static void
test_sensitivity (gconstpointer data)
{
  const ValueCase *test = data;
  g_autofree char *fields = g_strdup_printf ("<t:ItemId Id=\"AAMkSens\"/><t:Sensitivity>%s</t:Sensitivity>"
                                             "<t:Start>2024-02-01T10:00:00Z</t:Start><t:End>2024-02-01T11:00:00Z</t:End>",
                                             test->ews);
  g_autoptr(icalcomponent) vcalendar = map_item_text (fields);
  g_autofree char *klass = property_text (master (vcalendar), ICAL_CLASS_PROPERTY);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *back = xpath_string (written, "//t:CalendarItem/t:Sensitivity");

  g_assert_cmpstr (klass, ==, test->property);
  g_assert_cmpstr (back, ==, test->ews);
  assert_round_trip (vcalendar);
}

static const ValueCase busy_cases[] = {
  { "/ews-calendar/busy-status/free", "Free", "FREE", ":TRANSPARENT" },
  { "/ews-calendar/busy-status/tentative", "Tentative", "TENTATIVE", ":OPAQUE" },
  { "/ews-calendar/busy-status/busy", "Busy", "BUSY", ":OPAQUE" },
  { "/ews-calendar/busy-status/oof", "OOF", "OOF", ":OPAQUE" },
  { "/ews-calendar/busy-status/working-elsewhere", "WorkingElsewhere", "WORKINGELSEWHERE", ":OPAQUE" },
  { "/ews-calendar/busy-status/no-data", "NoData", "NODATA", ":OPAQUE" },
};

static void
test_busy_status (gconstpointer data)
{
  const ValueCase *test = data;
  g_autofree char *fields = g_strdup_printf ("<t:ItemId Id=\"AAMkBusy\"/><t:Start>2024-02-01T10:00:00Z</t:Start>"
                                             "<t:End>2024-02-01T11:00:00Z</t:End>"
                                             "<t:LegacyFreeBusyStatus>%s</t:LegacyFreeBusyStatus>",
                                             test->ews);
  g_autoptr(icalcomponent) vcalendar = map_item_text (fields);
  g_autofree char *busy = x_property (master (vcalendar), "X-MICROSOFT-CDO-BUSYSTATUS");
  g_autofree char *transp = property_text (master (vcalendar), ICAL_TRANSP_PROPERTY);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *back = xpath_string (written, "//t:CalendarItem/t:LegacyFreeBusyStatus");

  g_assert_cmpstr (busy, ==, test->property);
  g_assert_cmpstr (transp, ==, test->other);
  g_assert_cmpstr (back, ==, test->ews);
  assert_round_trip (vcalendar);
}

/* An event from elsewhere has only TRANSP. */
static void
test_busy_from_transp (void)
{
  g_autoptr(icalcomponent) vcalendar = parse_ical (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:transp\r\n"
    "DTSTART:20240201T100000Z\r\nDTEND:20240201T110000Z\r\nTRANSP:TRANSPARENT\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n");
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *back = xpath_string (written, "//t:CalendarItem/t:LegacyFreeBusyStatus");
  g_autofree char *zone_id = xpath_string (written, "//t:CalendarItem/t:StartTimeZone/@Id");

  g_assert_cmpstr (back, ==, "Free");
  g_assert_cmpstr (zone_id, ==, "UTC");
}

/* ---- bodies ---- */

static icalcomponent *
batch_sample_item (guint index)
{
  g_autofree char *path = kit_path ("samples/getitem-response-batch-calendar-msdoc-ex2013.xml");
  g_autoptr(xmlDoc) doc = read_xml_file (path);
  g_autoptr(GPtrArray) items = calendar_items (doc);

  g_assert_cmpuint (items->len, >, index);
  return map_item (items->pdata[index]);
}

static void
test_body_html_kept (void)
{
  g_autoptr(icalcomponent) vcalendar = batch_sample_item (0);
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *type = xpath_string (written, "//t:CalendarItem/t:Body/@BodyType");
  g_autofree char *body = xpath_string (written, "//t:CalendarItem/t:Body");

  g_assert_cmpstr (type, ==, "HTML");
  g_assert_nonnull (strstr (body, "&lt;body&gt;"));
}

/* A description edited locally leaves X-ALT-DESC stale: the edit wins. */
static void
test_body_edited_description_wins (void)
{
  g_autoptr(icalcomponent) vcalendar = batch_sample_item (0);
  g_autoptr(xmlDoc) written = NULL;
  g_autofree char *type = NULL, *body = NULL;

  icalcomponent_set_description (master (vcalendar), "Edited here.");
  written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  type = xpath_string (written, "//t:CalendarItem/t:Body/@BodyType");
  body = xpath_string (written, "//t:CalendarItem/t:Body");
  g_assert_cmpstr (type, ==, "Text");
  g_assert_cmpstr (body, ==, "Edited here.");
}

static void
test_body_html_to_text (void)
{
  g_autoptr(icalcomponent) vcalendar = map_item_text (
    "<t:ItemId Id=\"AAMkHtml\"/><t:Body BodyType=\"HTML\">&lt;html&gt;&lt;head&gt;&lt;style&gt;p {}&lt;/style&gt;"
    "&lt;/head&gt;&lt;body&gt;&lt;p&gt;First   line&lt;/p&gt;&lt;p&gt;Second &amp;amp; last&lt;/p&gt;"
    "&lt;/body&gt;&lt;/html&gt;</t:Body><t:Start>2024-02-01T10:00:00Z</t:Start>");
  g_autofree char *alt = x_property (master (vcalendar), "X-ALT-DESC");

  g_assert_cmpstr (icalcomponent_get_description (master (vcalendar)), ==, "First line\nSecond & last");
  g_assert_nonnull (alt);
  g_assert_true (g_str_has_prefix (alt, "<html><head><style>"));
  assert_round_trip (vcalendar);
}

/* ---- the local agenda takes what the mapping makes ---- */

static void
test_agenda_accepts (void)
{
  static const struct
  {
    const char *fixture;
    const char *start;
    gboolean    recurring;
  } cases[] = {
    { "calendar-item-invented-zone.xml", "2024-04-06T23:00:00Z", FALSE },
    { "calendar-recurring-exceptions.xml", "2024-03-04T08:00:00Z", TRUE },
    { "calendar-attendees.xml", "2024-06-03T12:00:00Z", FALSE },
    { "calendar-item-legacy-zone.xml", "2024-03-08T17:00:00Z", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(icalcomponent) vcalendar = map_fixture (cases[i].fixture);
      g_autofree char *text = icalcomponent_as_ical_string_r (vcalendar);
      g_autoptr(GError) error = NULL;
      g_autoptr(AglEvent) event = agl_event_new_from_string (text, &error);
      g_autoptr(GDateTime) start = g_date_time_new_from_iso8601 (cases[i].start, NULL);

      g_assert_no_error (error);
      g_assert_cmpint (agl_event_get_start (event), ==, g_date_time_to_unix (start));
      g_assert_cmpint (agl_event_is_recurring (event), ==, cases[i].recurring);
    }
}

/* ---- the writer ---- */

/* A local appointment becomes a CreateItem that Microsoft's schemas
 * accept, fields in the schema's order, with the local identity. */
static void
test_write_local_event (void)
{
  g_autoptr(icalcomponent) vcalendar = parse_ical (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:local-uid-0001@agendaline\r\nSUMMARY:Dentist\r\nDESCRIPTION:Bring the card.\r\n"
    "LOCATION:Hauptstraße 1\r\nCLASS:CONFIDENTIAL\r\n"
    "DTSTART;TZID=Europe/Berlin:20240610T083000\r\nDTEND;TZID=Europe/Berlin:20240610T090000\r\n"
    "RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=2MO\r\n"
    "ATTENDEE;CN=Anna;ROLE=OPT-PARTICIPANT:mailto:anna@example.org\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n");
  g_autoptr(xmlDoc) written = write_create_item (vcalendar, NULL, AGL_EWS_WRITE_DEFAULT);
  g_autofree char *order = NULL;
  g_autoptr(xmlXPathObject) children = xpath (written, "//t:CalendarItem/*");
  g_autoptr(GString) names = g_string_new (NULL);
  g_autofree char *set_id = xpath_string (written, "//t:ExtendedProperty/t:ExtendedFieldURI/@PropertySetId");
  g_autofree char *value = xpath_string (written, "//t:ExtendedProperty/t:Value");
  g_autofree char *body_type = xpath_string (written, "//t:CalendarItem/t:Body/@BodyType");

  for (int i = 0; i < children->nodesetval->nodeNr; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? " " : "",
                            (const char *) children->nodesetval->nodeTab[i]->name);
  g_assert_cmpstr (names->str, ==,
                   "Subject Sensitivity Body ExtendedProperty UID Start End IsAllDayEvent Location "
                   "OptionalAttendees Recurrence StartTimeZone EndTimeZone");
  g_assert_cmpstr (set_id, ==, TEST_PROPERTY_SET);
  g_assert_cmpstr (value, ==, "local-uid-0001@agendaline");
  g_assert_cmpstr (body_type, ==, "Text");

  /* Read back from an item as GetItem returns it. */
  {
    g_autoptr(GPtrArray) items = calendar_items (written);
    g_autofree char *identity = NULL;
    g_autofree char *other = NULL;
    g_autofree char *upper = g_ascii_strup (TEST_PROPERTY_SET, -1);

    g_assert_cmpuint (items->len, ==, 1);
    identity = agl_ews_calendar_item_get_local_identity (items->pdata[0], upper, "AgendalineLocalId");
    other = agl_ews_calendar_item_get_local_identity (items->pdata[0], upper, "SomethingElse");
    g_assert_cmpstr (identity, ==, "local-uid-0001@agendaline");
    g_assert_null (other);
  }
}

/* An exception fetched alone (CalendarView, GetItem of its id) is an
 * override of its series. */
static void
test_occurrence_alone (void)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GPtrArray) items = fixture_items ("calendar-recurring-exceptions.xml", &doc);
  g_autoptr(icalcomponent) vcalendar = map_item (items->pdata[1]);
  icalcomponent *vevent = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
  g_autofree char *rid = property_text (vevent, ICAL_RECURRENCEID_PROPERTY);

  g_assert_cmpstr (rid, ==, ";TZID=Europe/Berlin:20240306T090000");
  g_assert_cmpstr (icalcomponent_get_uid (vevent), ==, "agendaline-test-daily-check-in");
}

/* ---- updates ---- */

static xmlDoc *
write_update_item (icalcomponent *old_vcalendar,
                   icalcomponent *new_vcalendar,
                   guint         *n_changes)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = start_envelope (buffer);
  g_autoptr(GError) error = NULL;
  gboolean written;
  xmlDoc *doc;

  xmlTextWriterStartElement (writer, BAD_CAST "m:UpdateItem");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "ConflictResolution", BAD_CAST "NeverOverwrite");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "SendMeetingInvitationsOrCancellations",
                               BAD_CAST "SendToNone");
  xmlTextWriterStartElement (writer, BAD_CAST "m:ItemChanges");
  xmlTextWriterStartElement (writer, BAD_CAST "t:ItemChange");
  xmlTextWriterStartElement (writer, BAD_CAST "t:ItemId");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "Id", BAD_CAST "AAMkAttendees");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "ChangeKey", BAD_CAST "DwAAAA==");
  xmlTextWriterEndElement (writer);
  xmlTextWriterStartElement (writer, BAD_CAST "t:Updates");
  written = agl_ews_calendar_item_write_updates (writer, old_vcalendar, new_vcalendar, NULL, zones (),
                                                 &test_identity, n_changes, &error);
  g_assert_no_error (error);
  g_assert_true (written);
  xmlTextWriterEndDocument (writer);
  g_clear_pointer (&writer, xmlFreeTextWriter);

  doc = read_xml_string ((const char *) xmlBufferContent (buffer));
  assert_valid (doc);
  return doc;
}

static void
remove_properties (icalcomponent     *vevent,
                   icalproperty_kind  kind)
{
  icalproperty *prop;

  while ((prop = icalcomponent_get_first_property (vevent, kind)) != NULL)
    {
      icalcomponent_remove_property (vevent, prop);
      icalproperty_free (prop);
    }
}

static void
test_updates_changed_fields (void)
{
  g_autoptr(icalcomponent) old_vcalendar = map_fixture ("calendar-attendees.xml");
  g_autoptr(icalcomponent) new_vcalendar = icalcomponent_new_clone (old_vcalendar);
  icalcomponent *vevent = master (new_vcalendar);
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *subject = NULL, *start = NULL;
  guint n_changes = 0;

  icalcomponent_set_summary (vevent, "Budget review (moved)");
  remove_properties (vevent, ICAL_LOCATION_PROPERTY);
  remove_properties (vevent, ICAL_DTSTART_PROPERTY);
  {
    icalproperty *prop = icalproperty_new_dtstart (icaltime_from_string ("20240603T140000"));

    icalproperty_add_parameter (prop, icalparameter_new_tzid ("Europe/London"));
    icalcomponent_add_property (vevent, prop);
  }

  doc = write_update_item (old_vcalendar, new_vcalendar, &n_changes);
  subject = xpath_string (doc, "//t:SetItemField[t:FieldURI/@FieldURI='item:Subject']/t:CalendarItem/t:Subject");
  start = xpath_string (doc, "//t:SetItemField[t:FieldURI/@FieldURI='calendar:Start']/t:CalendarItem/t:Start");
  g_assert_cmpstr (subject, ==, "Budget review (moved)");
  g_assert_cmpstr (start, ==, "2024-06-03T13:00:00Z");
  g_assert_cmpint (xpath_count (doc, "//t:DeleteItemField[t:FieldURI/@FieldURI='calendar:Location']"), ==, 1);
  g_assert_cmpint (xpath_count (doc, "//t:SetItemField[t:ExtendedFieldURI]/t:CalendarItem/t:ExtendedProperty"), ==, 1);
  /* Subject, Start, Location and the identity; nothing that stayed. */
  g_assert_cmpint (xpath_count (doc, "//t:SetItemField | //t:DeleteItemField"), ==, 4);
  g_assert_cmpuint (n_changes, ==, 4);
}

static void
test_updates_nothing_changed (void)
{
  g_autoptr(icalcomponent) old_vcalendar = map_fixture ("calendar-attendees.xml");
  g_autoptr(icalcomponent) new_vcalendar = icalcomponent_new_clone (old_vcalendar);
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);
  g_autoptr(GError) error = NULL;
  guint n_changes = 99;
  gboolean written;

  written = agl_ews_calendar_item_write_updates (writer, old_vcalendar, new_vcalendar, NULL, zones (),
                                                 &test_identity, &n_changes, &error);
  g_assert_no_error (error);
  g_assert_true (written);
  xmlTextWriterFlush (writer);
  g_assert_cmpuint (n_changes, ==, 0);
  g_assert_cmpint (xmlBufferLength (buffer), ==, 0);
}

static void
test_updates_all_fields (void)
{
  g_autoptr(icalcomponent) vcalendar = map_fixture ("calendar-recurring-exceptions.xml");
  g_autoptr(xmlDoc) doc = NULL;
  guint n_changes = 0;

  doc = write_update_item (NULL, vcalendar, &n_changes);
  g_assert_cmpint (xpath_count (doc, "//t:SetItemField[t:FieldURI/@FieldURI='calendar:Recurrence']"), ==, 1);
  g_assert_cmpint (xpath_count (doc, "//t:SetItemField[t:FieldURI/@FieldURI='calendar:StartTimeZone']"), ==, 1);
  g_assert_cmpint (xpath_count (doc, "//t:DeleteItemField[t:FieldURI/@FieldURI='calendar:RequiredAttendees']"), ==, 1);
  g_assert_cmpint (xpath_count (doc, "//t:FieldURI[@FieldURI='calendar:UID']"), ==, 0);
  g_assert_cmpint (xpath_count (doc, "//t:FieldURI[@FieldURI='calendar:ModifiedOccurrences']"), ==, 0);
  g_assert_cmpuint (n_changes, ==, (guint) xpath_count (doc, "//t:SetItemField | //t:DeleteItemField"));
}

/* ---- refused rules ---- */

typedef struct
{
  const char *path;
  const char *rrule;
  const char *named;
} RefusedCase;

static const RefusedCase refused_cases[] = {
  { "/ews-calendar/unsupported-rrule/hourly", "FREQ=HOURLY;INTERVAL=4", "FREQ=HOURLY" },
  { "/ews-calendar/unsupported-rrule/minutely", "FREQ=MINUTELY", "FREQ=MINUTELY" },
  { "/ews-calendar/unsupported-rrule/byhour", "FREQ=DAILY;BYHOUR=9,17", "BYHOUR" },
  { "/ews-calendar/unsupported-rrule/several-bymonthday", "FREQ=MONTHLY;BYMONTHDAY=1,15", "BYMONTHDAY" },
  { "/ews-calendar/unsupported-rrule/yearly-interval", "FREQ=YEARLY;INTERVAL=2", "INTERVAL" },
  { "/ews-calendar/unsupported-rrule/byweekno", "FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO" },
  { "/ews-calendar/unsupported-rrule/weekly-numbered-day", "FREQ=WEEKLY;BYDAY=1MO", "BYDAY=1MO" },
  { "/ews-calendar/unsupported-rrule/monthly-31-skipping", "FREQ=MONTHLY;BYMONTHDAY=31",
    SKIPS ("FREQ=MONTHLY;BYMONTHDAY=31", 31) },
  { "/ews-calendar/unsupported-rrule/monthly-30-skipping", "FREQ=MONTHLY;BYMONTHDAY=30",
    SKIPS ("FREQ=MONTHLY;BYMONTHDAY=30", 30) },
  { "/ews-calendar/unsupported-rrule/monthly-29-skipping", "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=29",
    SKIPS ("FREQ=MONTHLY;COUNT=12;BYMONTHDAY=29", 29) },
  /* January, March, May, July, September: no 31 September. */
  { "/ews-calendar/unsupported-rrule/monthly-31-every-other-skipping", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=31",
    SKIPS ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=31", 31) },
  { "/ews-calendar/unsupported-rrule/yearly-february-29-skipping", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    SKIPS ("FREQ=YEARLY;BYMONTHDAY=29;BYMONTH=2", 29) },
  { "/ews-calendar/unsupported-rrule/yearly-april-31-never", "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31",
    SKIPS ("FREQ=YEARLY;BYMONTHDAY=31;BYMONTH=4", 31) },
  /* Near misses of the last-day sets. */
  { "/ews-calendar/unsupported-rrule/last-day-set-without-28", "FREQ=MONTHLY;BYMONTHDAY=29,30,31;BYSETPOS=-1",
    "several BYMONTHDAY values" },
  { "/ews-calendar/unsupported-rrule/last-day-set-with-gap", "FREQ=MONTHLY;BYMONTHDAY=28,30,31;BYSETPOS=-1",
    "several BYMONTHDAY values" },
  { "/ews-calendar/unsupported-rrule/last-day-set-first", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=1",
    "several BYMONTHDAY values" },
  { "/ews-calendar/unsupported-rrule/last-day-set-no-setpos", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31",
    "several BYMONTHDAY values" },
  { "/ews-calendar/unsupported-rrule/yearly-last-day-set-without-month", "FREQ=YEARLY;BYMONTHDAY=28,29;BYSETPOS=-1",
    "several BYMONTHDAY values" },
};

static void
test_refused (gconstpointer data)
{
  const RefusedCase *test = data;
  g_autofree char *ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                                           "BEGIN:VEVENT\r\nUID:refused\r\n"
                                           "DTSTART;TZID=Europe/Berlin:20240108T090000\r\n"
                                           "DTEND;TZID=Europe/Berlin:20240108T100000\r\n"
                                           "RRULE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                                           test->rrule);
  g_autoptr(icalcomponent) vcalendar = parse_ical (ical);
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);
  g_autoptr(GError) error = NULL;

  g_assert_false (agl_ews_calendar_item_write (writer, vcalendar, NULL, zones (), NULL,
                                               AGL_EWS_WRITE_DEFAULT, &error));
  g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, test->named));
}

/* Without BYMONTHDAY the day is DTSTART's: a series from 31 January
 * skips the shorter months as well, a yearly one from 29 February the
 * common years. */
static void
test_refused_dtstart_day (void)
{
  static const struct { const char *dtstart; const char *rrule; const char *named; } cases[] = {
    { "20240131T090000", "FREQ=MONTHLY", SKIPS ("FREQ=MONTHLY", 31) },
    { "20240229T090000", "FREQ=YEARLY;COUNT=3", SKIPS ("FREQ=YEARLY;COUNT=3", 29) },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
                                               "BEGIN:VEVENT\r\nUID:refused\r\n"
                                               "DTSTART;TZID=Europe/Berlin:%s\r\nDURATION:PT1H\r\n"
                                               "RRULE:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                                               cases[i].dtstart, cases[i].rrule);
      g_autoptr(icalcomponent) vcalendar = parse_ical (ical);
      g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
      g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);
      g_autoptr(GError) error = NULL;

      g_assert_false (agl_ews_calendar_item_write (writer, vcalendar, NULL, zones (), NULL,
                                                   AGL_EWS_WRITE_DEFAULT, &error));
      g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNSUPPORTED_RECURRENCE);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].named));
    }
}

static void
test_unknown_zone_refused (void)
{
  g_autoptr(icalcomponent) vcalendar = parse_ical (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:zone\r\n"
    "DTSTART;TZID=Mars/Olympus_Mons:20240108T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = xmlNewTextWriterMemory (buffer, 0);
  g_autoptr(GError) error = NULL;

  g_assert_false (agl_ews_calendar_item_write (writer, vcalendar, NULL, zones (), NULL,
                                               AGL_EWS_WRITE_DEFAULT, &error));
  g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_UNKNOWN_TIME_ZONE);
  g_assert_nonnull (strstr (error->message, "Mars/Olympus_Mons"));
}

static void
test_item_without_identity (void)
{
  g_autoptr(xmlDoc) doc = read_xml_string ("<t:CalendarItem xmlns:t=\"" TYPES_NS "\">"
                                           "<t:Start>2024-01-01T10:00:00Z</t:Start></t:CalendarItem>");
  g_autoptr(GError) error = NULL;
  g_autoptr(icalcomponent) vcalendar = agl_ews_calendar_item_to_vcalendar (xmlDocGetRootElement (doc), NULL, 0,
                                                                           zones (), &error);

  g_assert_null (vcalendar);
  g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_ITEM);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ews-calendar/sample/calendaritem-full-ex2007", test_sample_full_ex2007);
  g_test_add_func ("/ews-calendar/sample/recurring-master-ex2013", test_sample_recurring_master);
  g_test_add_func ("/ews-calendar/sample/getitem-batch-ex2013", test_sample_batch);
  g_test_add_func ("/ews-calendar/sample/finditem-calendarview-ex2013", test_sample_finditem);
  for (gsize i = 0; i < G_N_ELEMENTS (recurrence_cases); i++)
    g_test_add_data_func (recurrence_cases[i].path, &recurrence_cases[i], test_recurrence);
  for (gsize i = 0; i < G_N_ELEMENTS (zone_cases); i++)
    g_test_add_data_func (zone_cases[i].path, &zone_cases[i], test_zone);
  g_test_add_func ("/ews-calendar/time-zone/invented-definition", test_zone_invented_definition);
  g_test_add_func ("/ews-calendar/time-zone/legacy-meeting-time-zone", test_zone_legacy);
  g_test_add_func ("/ews-calendar/time-zone/custom-vtimezone", test_zone_custom_vtimezone);
  g_test_add_func ("/ews-calendar/all-day/from-exchange", test_all_day);
  g_test_add_func ("/ews-calendar/all-day/local", test_all_day_local);
  g_test_add_func ("/ews-calendar/all-day/recurring-end-date-deleted", test_all_day_recurring);
  g_test_add_func ("/ews-calendar/occurrences/from-master-only", test_occurrences_from_master_only);
  g_test_add_func ("/ews-calendar/occurrences/with-occurrence-items", test_occurrences_with_items);
  g_test_add_func ("/ews-calendar/occurrences/exception-alone", test_occurrence_alone);
  g_test_add_func ("/ews-calendar/attendees/responses", test_attendees);
  for (gsize i = 0; i < G_N_ELEMENTS (sensitivity_cases); i++)
    g_test_add_data_func (sensitivity_cases[i].path, &sensitivity_cases[i], test_sensitivity);
  for (gsize i = 0; i < G_N_ELEMENTS (busy_cases); i++)
    g_test_add_data_func (busy_cases[i].path, &busy_cases[i], test_busy_status);
  g_test_add_func ("/ews-calendar/busy-status/from-transp", test_busy_from_transp);
  g_test_add_func ("/ews-calendar/body/html-kept", test_body_html_kept);
  g_test_add_func ("/ews-calendar/body/edited-description-wins", test_body_edited_description_wins);
  g_test_add_func ("/ews-calendar/body/html-to-text", test_body_html_to_text);
  g_test_add_func ("/ews-calendar/agenda-accepts-mapped-events", test_agenda_accepts);
  g_test_add_func ("/ews-calendar/write/local-event-create-item", test_write_local_event);
  g_test_add_func ("/ews-calendar/updates/changed-fields", test_updates_changed_fields);
  g_test_add_func ("/ews-calendar/updates/all-fields", test_updates_all_fields);
  g_test_add_func ("/ews-calendar/updates/nothing-changed", test_updates_nothing_changed);
  for (gsize i = 0; i < G_N_ELEMENTS (refused_cases); i++)
    g_test_add_data_func (refused_cases[i].path, &refused_cases[i], test_refused);
  g_test_add_func ("/ews-calendar/unsupported-rrule/dtstart-day-skipping", test_refused_dtstart_day);
  for (gsize i = 0; i < G_N_ELEMENTS (month_end_cases); i++)
    g_test_add_data_func (month_end_cases[i].path, &month_end_cases[i], test_month_end);
  for (gsize i = 0; i < G_N_ELEMENTS (day_of_month_cases); i++)
    g_test_add_data_func (day_of_month_cases[i].path, &day_of_month_cases[i], test_rrule_to_day_of_month);
  g_test_add_func ("/ews-calendar/unknown-time-zone-refused", test_unknown_zone_refused);
  g_test_add_func ("/ews-calendar/item-without-identity", test_item_without_identity);

  return g_test_run ();
}
