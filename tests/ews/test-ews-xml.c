/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include <gio/gio.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agl-ews-error.h"
#include "agl-ews-response.h"
#include "agl-ews-xml.h"

#define MIB ((gsize) 1024 * 1024)

static char *
fixture_path (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_TEST_FIXTURES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static const char *
kit_dir (void)
{
  const char *kit = g_getenv ("AGL_EWS_KIT");

  /* A missing kit is a failure, never a skip. */
  if (kit == NULL || !g_file_test (kit, G_FILE_TEST_IS_DIR))
    g_error ("AGL_EWS_KIT must name the EWS reference kit (shared/ews); it is “%s”",
             kit != NULL ? kit : "(unset)");
  return kit;
}

static xmlDoc *
parse_in_chunks (const char *data,
                 gsize       len,
                 gsize       chunk,
                 gsize       max_bytes,
                 GError    **error)
{
  g_autoptr(AglEwsParser) parser = agl_ews_parser_new (max_bytes);

  for (gsize off = 0; off < len; off += chunk)
    if (!agl_ews_parser_feed (parser, data + off, MIN (chunk, len - off), error))
      return NULL;
  return agl_ews_parser_finish (parser, error);
}

/* Parsing */

static void
test_parse_chunk_boundaries (void)
{
  const char *xml =
    "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
    "<m:X xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">"
    "caf\xC3\xA9 &amp; &#x263A;</m:X></s:Body></s:Envelope>";

  /* Every chunk size, including 1 byte (which splits the BOM and the
   * UTF-8 sequences), gives the same document. */
  for (gsize chunk = 1; chunk <= strlen (xml); chunk++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(xmlDoc) doc = parse_in_chunks (xml, strlen (xml), chunk, 0, &error);
      xmlNode *body;
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      body = agl_ews_xml_get_body_element (doc, &error);
      g_assert_no_error (error);
      g_assert_true (agl_ews_xml_node_is (body, AGL_EWS_NS_MESSAGES, "X"));
      text = agl_ews_xml_text (body);
      g_assert_cmpstr (text, ==, "caf\xC3\xA9 & \xE2\x98\xBA");
    }
}

static void
test_parse_short_and_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) tiny = agl_ews_xml_parse ("<a/>", 4, 0, &error);
  g_autoptr(xmlDoc) tinier = NULL;
  g_autoptr(xmlDoc) empty = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (tiny);
  /* Fewer bytes than the encoding guess needs: still parsed at finish. */
  tinier = agl_ews_xml_parse ("<a/>", 3, 0, &error);
  g_assert_null (tinier);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  empty = agl_ews_xml_parse ("", 0, 0, &error);
  g_assert_null (empty);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
}

static void
test_parse_cap_is_configurable (void)
{
  g_autofree char *xml = g_strdup_printf ("<a>%0*d</a>", 1000, 0);
  gsize len = strlen (xml);
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) exact = agl_ews_xml_parse (xml, len, len, &error);
  g_autoptr(xmlDoc) over = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (exact);
  over = agl_ews_xml_parse (xml, len, len - 1, &error);
  g_assert_null (over);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_RESPONSE_TOO_LARGE);
  g_assert_true (g_str_has_prefix (error->message, "ResponseTooLarge: "));
}

static void
test_parse_error_is_sticky (void)
{
  g_autoptr(AglEwsParser) parser = agl_ews_parser_new (0);
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  g_assert_false (agl_ews_parser_feed (parser, "<a></b>", 7, &error));
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  g_assert_false (agl_ews_parser_feed (parser, "<c/>", 4, &error));
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);
  doc = agl_ews_parser_finish (parser, &error);
  g_assert_null (doc);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
}

static void
test_namespaces_not_prefixes (void)
{
  /* Same names, other namespace, and the right namespace under a default
   * declaration: only the namespace URI decides. */
  const char *xml =
    "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">"
    "<Header><x:ServerVersionInfo xmlns:x=\"urn:not-ews\" MajorVersion=\"99\"/>"
    "<ServerVersionInfo xmlns=\"http://schemas.microsoft.com/exchange/services/2006/types\""
    " MajorVersion=\"15\" MinorVersion=\"1\" MajorBuildNumber=\"2507\" MinorBuildNumber=\"39\""
    " Version=\"V2017_07_11\"/></Header>"
    "<Body><GetFolderResponse xmlns=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/>"
    "</Body></Envelope>";
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = agl_ews_xml_parse (xml, strlen (xml), 0, &error);
  AglEwsServerVersion v;
  xmlNode *body;

  g_assert_no_error (error);
  g_assert_true (agl_ews_xml_read_server_version (doc, &v));
  g_assert_cmpint (v.major_version, ==, 15);
  g_assert_cmpint (v.minor_version, ==, 1);
  g_assert_cmpint (v.major_build, ==, 2507);
  g_assert_cmpint (v.minor_build, ==, 39);
  g_assert_cmpstr (v.version, ==, "V2017_07_11");
  agl_ews_server_version_clear (&v);
  body = agl_ews_xml_get_body_element (doc, &error);
  g_assert_no_error (error);
  g_assert_true (agl_ews_xml_node_is (body, AGL_EWS_NS_MESSAGES, "GetFolderResponse"));
  g_assert_false (agl_ews_xml_node_is (body, AGL_EWS_NS_TYPES, "GetFolderResponse"));
}

/* Hostile input: each fails with a named error */

static void
assert_fixture_refused (const char *name,
                        AglEwsError expected,
                        const char *message_part)
{
  g_autofree char *path = fixture_path (name);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  doc = parse_in_chunks (contents, len, 64, 0, &error);
  if (doc != NULL)
    {
      /* Well-formed but not SOAP: refused when the envelope is read. */
      g_assert_null (agl_ews_xml_get_body_element (doc, &error));
    }
  g_assert_error (error, AGL_EWS_ERROR, (gint) expected);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("%s: “%s” does not mention “%s”", name, error->message, message_part);
  /* Nothing of the local file ever reaches a message. */
  g_assert_null (strstr (error->message, "root:"));
}

static void
test_hostile_malformed (void)
{
  assert_fixture_refused ("hostile-malformed.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "not well-formed");
  assert_fixture_refused ("hostile-truncated.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "not well-formed");
  assert_fixture_refused ("hostile-undefined-entity.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "xxe");
  assert_fixture_refused ("hostile-html-error-page.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "SOAP");
}

static void
test_hostile_external_entity (void)
{
  assert_fixture_refused ("hostile-xxe.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "document type declaration");
  assert_fixture_refused ("hostile-parameter-entity.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "document type declaration");
  assert_fixture_refused ("hostile-external-dtd.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "document type declaration");
}

static void
test_hostile_billion_laughs (void)
{
  gint64 start = g_get_monotonic_time ();

  assert_fixture_refused ("hostile-billion-laughs.xml", AGL_EWS_ERROR_INVALID_RESPONSE,
                          "document type declaration");
  /* Refused at the DOCTYPE, before any expansion. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* libxml2 prints nothing: its diagnostics go into the GError. */
static void
test_hostile_silent (void)
{
  if (g_test_subprocess ())
    {
      test_hostile_malformed ();
      test_hostile_external_entity ();
      test_hostile_billion_laughs ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
}

static long
max_rss_kib (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

typedef enum {
  BODY_DENSE_ELEMENTS,
  BODY_LONG_TEXTS,
  BODY_ONE_HUGE_TEXT,
} BodyShape;

/* Feeds a 200 MB GetItem response, generated 64 KiB at a time and never
 * stored, until the parser refuses it; returns that error. */
static GError *
feed_200_mb (BodyShape shape,
             gsize    *out_fed)
{
  const char *head =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
    "<m:GetItemResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\""
    " xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages>"
    "<m:GetItemResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
    "<m:Items><t:CalendarItem><t:Subject>";
  g_autofree char *unit = NULL;
  g_autofree char *chunk = g_malloc (64 * 1024);
  g_autoptr(AglEwsParser) parser = agl_ews_parser_new (0);
  GError *error = NULL;
  gsize unit_len;
  gsize unit_off = 0;
  gsize fed = 0;

  switch (shape)
    {
    case BODY_DENSE_ELEMENTS:
      unit = g_strdup ("</t:Subject></t:CalendarItem><t:CalendarItem>"
                       "<t:ItemId Id=\"AAMkADkzNjJj\" ChangeKey=\"DwAAA\"/><t:Subject>x");
      break;
    case BODY_LONG_TEXTS:
      {
        g_autofree char *text = g_strnfill (2000, 'x');

        unit = g_strconcat (text, "</t:Subject><t:Subject>", NULL);
      }
      break;
    case BODY_ONE_HUGE_TEXT:
    default:
      unit = g_strdup ("lorem ipsum dolor sit amet ");
      break;
    }
  unit_len = strlen (unit);

  g_assert_true (agl_ews_parser_feed (parser, head, strlen (head), NULL));
  while (fed < 200 * MIB)
    {
      for (gsize i = 0; i < 64 * 1024; i++)
        {
          chunk[i] = unit[unit_off];
          unit_off = (unit_off + 1) % unit_len;
        }
      if (!agl_ews_parser_feed (parser, chunk, 64 * 1024, &error))
        break;
      fed += 64 * 1024;
    }
  if (error == NULL)
    g_assert_null (agl_ews_parser_finish (parser, &error));
  *out_fed = fed;
  return error;
}

static void
run_200_mb (BodyShape   shape,
            AglEwsError expected)
{
  long before;
  long increase_kib;
  gsize fed = 0;
  g_autoptr(GError) error = NULL;

  /* A fresh process, so ru_maxrss measures this parse alone. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  before = max_rss_kib ();
  error = feed_200_mb (shape, &fed);
  increase_kib = max_rss_kib () - before;
  g_test_message ("fed %zu MiB, peak RSS +%ld KiB: %s", fed / MIB, increase_kib, error->message);
  g_assert_error (error, AGL_EWS_ERROR, (gint) expected);
  g_assert_cmpint (fed, <=, AGL_EWS_XML_DEFAULT_MAX_BYTES);
  g_assert_cmpint (increase_kib, <, 64 * 1024);
}

static void
test_hostile_200_mb_dense_elements (void)
{
  run_200_mb (BODY_DENSE_ELEMENTS, AGL_EWS_ERROR_RESPONSE_TOO_LARGE);
}

static void
test_hostile_200_mb_long_texts (void)
{
  run_200_mb (BODY_LONG_TEXTS, AGL_EWS_ERROR_RESPONSE_TOO_LARGE);
}

static void
test_hostile_200_mb_one_text (void)
{
  /* libxml2's own 10 MB limit on one text node stops this one first. */
  run_200_mb (BODY_ONE_HUGE_TEXT, AGL_EWS_ERROR_INVALID_RESPONSE);
}

/* The ResponseCode table */

static GPtrArray *
schema_response_codes (void)
{
  g_autofree char *path = g_build_filename (kit_dir (), "schemas", "messages.xsd", NULL);
  g_autoptr(xmlDoc) doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
  xmlXPathContextPtr xpath;
  xmlXPathObjectPtr result;
  GPtrArray *codes = g_ptr_array_new_with_free_func (g_free);

  g_assert_nonnull (doc);
  xpath = xmlXPathNewContext (doc);
  xmlXPathRegisterNs (xpath, BAD_CAST "xs", BAD_CAST "http://www.w3.org/2001/XMLSchema");
  result = xmlXPathEvalExpression (
    BAD_CAST "//xs:simpleType[@name='ResponseCodeType']/xs:restriction/xs:enumeration/@value",
    xpath);
  g_assert_nonnull (result);
  g_assert_nonnull (result->nodesetval);
  for (int i = 0; i < result->nodesetval->nodeNr; i++)
    {
      xmlChar *value = xmlNodeGetContent (result->nodesetval->nodeTab[i]);

      g_ptr_array_add (codes, g_strdup ((const char *) value));
      xmlFree (value);
    }
  xmlXPathFreeObject (result);
  xmlXPathFreeContext (xpath);
  return codes;
}

static void
test_codes_every_schema_value (void)
{
  g_autoptr(GPtrArray) codes = schema_response_codes ();
  g_autofree gboolean *seen = g_new0 (gboolean, AGL_EWS_ERROR_N_ERRORS);

  g_assert_cmpuint (codes->len, ==, AGL_EWS_RESPONSE_CODE_COUNT);
  g_assert_cmpuint (codes->len, >, 400);
  for (guint i = 0; i < codes->len; i++)
    {
      const char *name = g_ptr_array_index (codes, i);
      AglEwsError code;

      g_assert_true (agl_ews_error_code_from_name (name, &code));
      g_assert_cmpint (code, <, AGL_EWS_RESPONSE_CODE_COUNT);
      g_assert_false (seen[code]);
      seen[code] = TRUE;
      g_assert_cmpstr (agl_ews_error_code_name (code), ==, name);
    }
  g_assert_cmpstr (agl_ews_error_code_name (AGL_EWS_ERROR_ITEM_NOT_FOUND), ==,
                   "ErrorItemNotFound");
  g_assert_cmpstr (agl_ews_error_code_name (AGL_EWS_ERROR_NO_ERROR), ==, "NoError");
}

static void
test_codes_transport_names (void)
{
  static const struct {
    AglEwsError code;
    const char *name;
  } own[] = {
    { AGL_EWS_ERROR_SOAP_FAULT, "SoapFault" },
    { AGL_EWS_ERROR_HTTP_STATUS, "HttpStatus" },
    { AGL_EWS_ERROR_INVALID_RESPONSE, "InvalidResponse" },
    { AGL_EWS_ERROR_RESPONSE_TOO_LARGE, "ResponseTooLarge" },
    { AGL_EWS_ERROR_UNAUTHORIZED, "Unauthorized" },
    { AGL_EWS_ERROR_AUTODISCOVER, "Autodiscover" },
  };
  AglEwsError code;

  for (guint i = 0; i < G_N_ELEMENTS (own); i++)
    {
      g_assert_cmpstr (agl_ews_error_code_name (own[i].code), ==, own[i].name);
      g_assert_true (agl_ews_error_code_from_name (own[i].name, &code));
      g_assert_cmpint (code, ==, own[i].code);
    }
  g_assert_false (agl_ews_error_code_from_name ("errorItemNotFound", NULL));
  g_assert_false (agl_ews_error_code_from_name ("", NULL));
  g_assert_false (agl_ews_error_code_from_name (NULL, NULL));
  g_assert_null (agl_ews_error_code_name (AGL_EWS_ERROR_N_ERRORS));
}

static void
test_codes_cross_dbus (void)
{
  for (guint code = 0; code < AGL_EWS_ERROR_N_ERRORS; code++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) back = NULL;
      g_autofree char *dbus_name = NULL;
      g_autofree char *expected = NULL;

      agl_ews_error_set (&error, code, "text");
      dbus_name = g_dbus_error_encode_gerror (error);
      expected = g_strconcat ("io.github.agendaline.EwsError.", agl_ews_error_code_name (code),
                              NULL);
      g_assert_cmpstr (dbus_name, ==, expected);
      back = g_dbus_error_new_for_dbus_error (dbus_name, "text");
      g_assert_error (back, AGL_EWS_ERROR, (gint) code);
    }
}

static void
test_codes_transient (void)
{
  g_autoptr(GError) busy = NULL;
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, AGL_EWS_ERROR_SERVER_BUSY, "x");

  g_assert_true (agl_ews_error_code_is_transient (AGL_EWS_ERROR_SERVER_BUSY));
  g_assert_true (agl_ews_error_code_is_transient (AGL_EWS_ERROR_TIMEOUT_EXPIRED));
  g_assert_true (agl_ews_error_code_is_transient (AGL_EWS_ERROR_INTERNAL_SERVER_TRANSIENT_ERROR));
  g_assert_true (agl_ews_error_code_is_transient (AGL_EWS_ERROR_MAILBOX_STORE_UNAVAILABLE));
  g_assert_true (agl_ews_error_code_is_transient (AGL_EWS_ERROR_CONNECTION_FAILED));
  g_assert_false (agl_ews_error_code_is_transient (AGL_EWS_ERROR_ITEM_NOT_FOUND));
  g_assert_false (agl_ews_error_code_is_transient (AGL_EWS_ERROR_IRRESOLVABLE_CONFLICT));
  g_assert_false (agl_ews_error_code_is_transient (AGL_EWS_ERROR_SCHEMA_VALIDATION));
  agl_ews_error_set (&busy, AGL_EWS_ERROR_SERVER_BUSY, NULL);
  g_assert_cmpstr (busy->message, ==, "ErrorServerBusy");
  g_assert_true (agl_ews_error_is_transient (busy));
  g_assert_false (agl_ews_error_is_transient (other));
  g_assert_false (agl_ews_error_is_transient (NULL));
}

/* ErrorServerBusy with BackOffMilliseconds, in a ResponseMessage and in a
 * SOAP fault (hand-made from Microsoft's throttling documentation). */
static void
test_server_busy_back_off (void)
{
  const char *in_message =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
    "<m:SyncFolderItemsResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\""
    " xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages>"
    "<m:SyncFolderItemsResponseMessage ResponseClass=\"Error\">"
    "<m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText>"
    "<m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
    "<m:MessageXml><t:Value Name=\"Policy\">MaxConcurrency</t:Value>"
    "<t:Value Name=\"BackOffMilliseconds\">297749</t:Value></m:MessageXml>"
    "</m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse>"
    "</s:Body></s:Envelope>";
  const char *in_fault =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
    "<faultcode xmlns:a=\"http://schemas.microsoft.com/exchange/services/2006/types\">a:ErrorServerBusy</faultcode>"
    "<faultstring xml:lang=\"en-US\">The server cannot service this request right now. Try again later.</faultstring>"
    "<detail><e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorServerBusy</e:ResponseCode>"
    "<e:Message xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">The server cannot service this request right now. Try again later.</e:Message>"
    "<t:MessageXml xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">"
    "<t:Value Name=\"BackOffMilliseconds\">30000</t:Value></t:MessageXml></detail>"
    "</s:Fault></s:Body></s:Envelope>";
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = agl_ews_xml_parse (in_message, strlen (in_message), 0, &error);
  g_autoptr(xmlDoc) fault_doc = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(AglEwsSyncResult) sync = NULL;
  AglEwsResponseMessage *m;
  xmlNode *fault;

  g_assert_no_error (error);
  messages = agl_ews_response_read_messages (doc, "SyncFolderItems", &error);
  g_assert_no_error (error);
  m = g_ptr_array_index (messages, 0);
  g_assert_cmpint (m->code, ==, AGL_EWS_ERROR_SERVER_BUSY);
  g_assert_cmpint (m->back_off_ms, ==, 297749);
  sync = agl_ews_response_read_sync_folder_items (doc, &error);
  g_assert_null (sync);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SERVER_BUSY);
  g_assert_cmpstr (error->message, ==, "ErrorServerBusy: The server cannot service this request "
                                       "right now. Try again later.");
  g_assert_true (agl_ews_error_is_transient (error));
  g_clear_error (&error);

  fault_doc = agl_ews_xml_parse (in_fault, strlen (in_fault), 0, &error);
  g_assert_no_error (error);
  g_assert_null (agl_ews_xml_get_body_element (fault_doc, &error));
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SERVER_BUSY);
  fault = agl_ews_xml_child_path (xmlDocGetRootElement (fault_doc), AGL_EWS_NS_SOAP, "Body",
                                  AGL_EWS_NS_SOAP, "Fault", NULL);
  g_assert_cmpint (agl_ews_xml_read_back_off_ms (fault), ==, 30000);
  g_assert_cmpint (agl_ews_xml_read_back_off_ms (NULL), ==, -1);
}

static void
test_fault_without_known_code (void)
{
  const char *xml =
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
    "<faultcode>s:Client</faultcode><faultstring>Bad request</faultstring>"
    "</s:Fault></s:Body></s:Envelope>";
  g_autoptr(GError) error = NULL;
  g_autoptr(xmlDoc) doc = agl_ews_xml_parse (xml, strlen (xml), 0, &error);

  g_assert_no_error (error);
  g_assert_null (agl_ews_xml_get_body_element (doc, &error));
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SOAP_FAULT);
  g_assert_cmpstr (error->message, ==, "SoapFault: s:Client: Bad request");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ews/xml/parse/chunk-boundaries", test_parse_chunk_boundaries);
  g_test_add_func ("/ews/xml/parse/short-and-empty", test_parse_short_and_empty);
  g_test_add_func ("/ews/xml/parse/cap-is-configurable", test_parse_cap_is_configurable);
  g_test_add_func ("/ews/xml/parse/error-is-sticky", test_parse_error_is_sticky);
  g_test_add_func ("/ews/xml/namespaces-not-prefixes", test_namespaces_not_prefixes);
  g_test_add_func ("/ews/xml/hostile/malformed", test_hostile_malformed);
  g_test_add_func ("/ews/xml/hostile/external-entity", test_hostile_external_entity);
  g_test_add_func ("/ews/xml/hostile/billion-laughs", test_hostile_billion_laughs);
  g_test_add_func ("/ews/xml/hostile/nothing-on-stderr", test_hostile_silent);
  g_test_add_func ("/ews/xml/hostile/200-mb-dense-elements", test_hostile_200_mb_dense_elements);
  g_test_add_func ("/ews/xml/hostile/200-mb-long-texts", test_hostile_200_mb_long_texts);
  g_test_add_func ("/ews/xml/hostile/200-mb-one-text", test_hostile_200_mb_one_text);
  g_test_add_func ("/ews/xml/codes/every-schema-value", test_codes_every_schema_value);
  g_test_add_func ("/ews/xml/codes/transport-names", test_codes_transport_names);
  g_test_add_func ("/ews/xml/codes/cross-dbus", test_codes_cross_dbus);
  g_test_add_func ("/ews/xml/codes/transient", test_codes_transient);
  g_test_add_func ("/ews/xml/server-busy-back-off", test_server_busy_back_off);
  g_test_add_func ("/ews/xml/fault-without-known-code", test_fault_without_known_code);

  return g_test_run ();
}
