/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SIP presence publisher (daemon/publish/agl-publish-sip.c): the PIDF
 * document it builds, its settings, and PUBLISH against a real Kamailio
 * (tests/kamailio/) on loopback, whose SQLite database the test reads to
 * see the presentity the server stored.
 */
#include "config.h"

#include <gio/gio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agl-error.h"
#include "agl-kamailio-harness.h"
#include "agl-publish-sip.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)

#define TEST_USER "alice"
#define TEST_DOMAIN "example.com"
#define TEST_ADDRESS "sip:" TEST_USER "@" TEST_DOMAIN
#define TEST_PASSWORD "correct horse"

/* 2026-11-23 09:00:00 and 10:30:00 UTC */
#define TEST_AT G_GINT64_CONSTANT (1795424400)
#define TEST_UNTIL G_GINT64_CONSTANT (1795429800)

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until *@done, for at most @timeout_ms; %FALSE when
 * the time ran out. */
static gboolean
run_until (gboolean *done,
           guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, flag_cb, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return *done;
}

static JsonObject *
config_from_json (const char *json)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = json_from_string (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  return json_object_ref (json_node_get_object (node));
}

/* ------------------------------------------------------------------ */
/* Statuses                                                             */

typedef struct {
  AglStatus         status;
  AglStatusBecause  because;
  AglPublication    publication;
} TestPublication;

static void
test_publication_init (TestPublication *tp,
                       AglPresence      presence,
                       AglPhoneAction   action,
                       const char      *text,
                       gint64           until)
{
  memset (tp, 0, sizeof *tp);
  tp->status.at = TEST_AT;
  tp->status.presence = presence;
  tp->status.action = action;
  tp->status.text = (char *) text;
  tp->status.until = until;
  tp->status.because = g_ptr_array_new ();
  if (presence == AGL_PRESENCE_BUSY)
    {
      tp->because.kind = AGL_BECAUSE_APPOINTMENT;
      tp->because.uid = (char *) "test-uid";
      tp->because.subject = (char *) text;
      tp->because.free_busy = AGL_FREE_BUSY_BUSY;
      g_ptr_array_add (tp->status.because, &tp->because);
    }
  tp->publication.account = "test";
  tp->publication.status = &tp->status;
  tp->publication.json = "{}";
}

static void
test_publication_clear (TestPublication *tp)
{
  g_clear_pointer (&tp->status.because, g_ptr_array_unref);
}

/* ------------------------------------------------------------------ */
/* PIDF                                                                 */

static xmlDoc *
parse_pidf (const char *pidf)
{
  xmlDoc *doc;

  g_assert_nonnull (pidf);
  doc = xmlReadMemory (pidf, strlen (pidf), "pidf.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    g_test_message ("not well-formed:\n%s", pidf);
  g_assert_nonnull (doc);
  return doc;
}

/* The text of the first node @xpath finds, or %NULL for none; "" for an
 * element found without text. */
static char *
pidf_query (xmlDoc     *doc,
            const char *xpath)
{
  g_autoptr(xmlXPathContext) context = xmlXPathNewContext (doc);
  g_autoptr(xmlXPathObject) result = NULL;
  xmlChar *content;
  char *text;

  xmlXPathRegisterNs (context, BAD_CAST "p", BAD_CAST "urn:ietf:params:xml:ns:pidf");
  xmlXPathRegisterNs (context, BAD_CAST "dm", BAD_CAST "urn:ietf:params:xml:ns:pidf:data-model");
  xmlXPathRegisterNs (context, BAD_CAST "rpid", BAD_CAST "urn:ietf:params:xml:ns:pidf:rpid");
  result = xmlXPathEvalExpression (BAD_CAST xpath, context);
  g_assert_nonnull (result);
  if (result->nodesetval == NULL || result->nodesetval->nodeNr == 0)
    return NULL;
  content = xmlNodeGetContent (result->nodesetval->nodeTab[0]);
  text = g_strdup (content != NULL ? (const char *) content : "");
  xmlFree (content);
  return text;
}

static int
pidf_count (xmlDoc     *doc,
            const char *xpath)
{
  g_autoptr(xmlXPathContext) context = xmlXPathNewContext (doc);
  g_autoptr(xmlXPathObject) result = NULL;

  xmlXPathRegisterNs (context, BAD_CAST "p", BAD_CAST "urn:ietf:params:xml:ns:pidf");
  xmlXPathRegisterNs (context, BAD_CAST "dm", BAD_CAST "urn:ietf:params:xml:ns:pidf:data-model");
  xmlXPathRegisterNs (context, BAD_CAST "rpid", BAD_CAST "urn:ietf:params:xml:ns:pidf:rpid");
  result = xmlXPathEvalExpression (BAD_CAST xpath, context);
  g_assert_nonnull (result);
  return result->nodesetval != NULL ? result->nodesetval->nodeNr : 0;
}

#define assert_query(doc, xpath, expected) G_STMT_START { \
    g_autofree char *_got = pidf_query ((doc), (xpath)); \
    g_assert_cmpstr (_got, ==, (expected)); \
  } G_STMT_END

static void
test_pidf_busy_escaped (void)
{
  TestPublication tp;
  g_autofree char *pidf = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  test_publication_init (&tp, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT,
                         "<Budget & \"Q3\"> 'review'", TEST_UNTIL);
  tp.status.reason = (char *) "will return";
  pidf = agl_publish_sip_pidf (&tp.publication, "sip:a&b@example.com");
  g_test_message ("%s", pidf);
  doc = parse_pidf (pidf);

  assert_query (doc, "/p:presence/@entity", "sip:a&b@example.com");
  assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", "open");
  assert_query (doc, "/p:presence/p:tuple/p:note", "<Budget & \"Q3\"> 'review'");
  assert_query (doc, "/p:presence/p:tuple/p:timestamp", "2026-11-23T09:00:00Z");
  assert_query (doc, "/p:presence/dm:person/rpid:activities/@until", "2026-11-23T10:30:00Z");
  assert_query (doc, "/p:presence/dm:person/rpid:activities/*[1][self::rpid:busy]", "");
  assert_query (doc, "/p:presence/dm:person/rpid:activities/rpid:appointment", "");
  assert_query (doc, "/p:presence/dm:person/dm:note", "<Budget & \"Q3\"> 'review'");
  g_assert_cmpint (pidf_count (doc, "//p:tuple/@id"), ==, 1);
  g_assert_cmpint (pidf_count (doc, "//dm:person/@id"), ==, 1);

  test_publication_clear (&tp);
}

static void
test_pidf_mapping (void)
{
  static const struct {
    AglPresence     presence;
    AglPhoneAction  action;
    const char     *basic;
    const char     *activity;
  } cases[] = {
    { AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, "open", NULL },
    { AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_NONE, "open", "busy" },
    { AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DND, "closed", "busy" },
    { AGL_PRESENCE_DND, AGL_PHONE_ACTION_DND, "closed", "busy" },
    { AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_FORWARD, "open", "away" },
    { AGL_PRESENCE_OUT_OF_OFFICE, AGL_PHONE_ACTION_DIVERT, "open", "away" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestPublication tp;
      g_autofree char *pidf = NULL;
      g_autoptr(xmlDoc) doc = NULL;
      g_autofree char *xpath = NULL;

      test_publication_init (&tp, cases[i].presence, cases[i].action, NULL, 0);
      pidf = agl_publish_sip_pidf (&tp.publication, TEST_ADDRESS);
      doc = parse_pidf (pidf);

      assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", cases[i].basic);
      /* No text, no end: no note, no until. */
      g_assert_cmpint (pidf_count (doc, "//p:note | //dm:note"), ==, 0);
      g_assert_cmpint (pidf_count (doc, "//rpid:activities/@until"), ==, 0);
      if (cases[i].activity == NULL)
        g_assert_cmpint (pidf_count (doc, "//rpid:activities"), ==, 0);
      else
        {
          xpath = g_strdup_printf ("//rpid:activities/*[1][self::rpid:%s]", cases[i].activity);
          g_assert_cmpint (pidf_count (doc, xpath), ==, 1);
        }
      test_publication_clear (&tp);
    }
}

static void
test_pidf_control_characters (void)
{
  TestPublication tp;
  g_autofree char *pidf = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  /* A subject with a control character and broken UTF-8 still gives a
   * document a server can parse. */
  test_publication_init (&tp, AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_NONE, "Lunch\x01\xff", 0);
  pidf = agl_publish_sip_pidf (&tp.publication, TEST_ADDRESS);
  doc = parse_pidf (pidf);
  g_assert_cmpint (pidf_count (doc, "//p:note"), ==, 1);
  test_publication_clear (&tp);
}

/* ------------------------------------------------------------------ */
/* Settings                                                             */

static void
test_config (void)
{
  static const struct {
    const char *json;
    const char *message;  /* NULL: accepted */
  } cases[] = {
    { "{\"server\": \"sip:127.0.0.1:5060\", \"address\": \"sip:alice@example.com\"}", NULL },
    { "{\"server\": \"sips:pbx.example.com;transport=tls\", \"address\": \"sip:alice@example.com\","
      " \"user\": \"1001\", \"expires\": 600, \"has_password\": true, \"password\": \"x\"}", NULL },
    { "{\"server\": \"sip:[::1]:5070\", \"address\": \"sip:alice@example.com\"}", NULL },
    { "{\"server\": \"sip:pbx\", \"address\": \"alice\"}",
      "publishers.sip.address: “alice” is not a SIP address such as sip:alice@example.com" },
    { "{\"server\": \"sip:pbx\", \"address\": \"sip:example.com\"}",
      "publishers.sip.address: “sip:example.com” is not a SIP address such as sip:alice@example.com" },
    { "{\"server\": \"http://pbx\", \"address\": \"sip:alice@example.com\"}",
      "publishers.sip.server: “http://pbx” is not a SIP URI such as sip:pbx.example.com" },
    { "{\"server\": \"sip:pbx:99999\", \"address\": \"sip:alice@example.com\"}",
      "publishers.sip.server: “sip:pbx:99999” is not a SIP URI such as sip:pbx.example.com" },
    { "{\"server\": 5060, \"address\": \"sip:alice@example.com\"}",
      "publishers.sip.server: must be a text in quotes" },
    { "{\"address\": \"sip:alice@example.com\"}",
      "publishers.sip.server is missing" },
    { "{\"server\": \"sip:pbx\"}",
      "publishers.sip.address is missing" },
    { "{\"server\": \"sip:pbx\", \"address\": \"sip:alice@example.com\", \"expires\": 30}",
      "publishers.sip.expires: 30 is not a number of seconds from 60 to 86400" },
    { "{\"server\": \"sip:pbx\", \"address\": \"sip:alice@example.com\", \"expires\": \"600\"}",
      "publishers.sip.expires: \"600\" is not a number of seconds from 60 to 86400" },
    { "{\"server\": \"sip:pbx\", \"address\": \"sip:alice@example.com\", \"user\": \"a:b\"}",
      "publishers.sip.user: “a:b” is not a user name" },
    { "{\"server\": \"sip:pbx\", \"address\": \"sip:alice@example.com\", \"proxy\": \"sip:x\"}",
      "publishers.sip.proxy: unknown setting" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) config = config_from_json (cases[i].json);
      g_autoptr(GError) error = NULL;
      gboolean ok;

      ok = agl_publish_sip_check_config (config, "publishers.sip", &error);
      if (cases[i].message == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
          g_assert_false (ok);
          if (!g_str_has_prefix (error->message, cases[i].message))
            g_error ("case %u: “%s” does not start with “%s”", i, error->message, cases[i].message);
        }
    }
}

static void
test_describe (void)
{
  g_autoptr(JsonObject) config = config_from_json (
    "{\"server\": \"sip:127.0.0.1:5060\", \"address\": \"sip:alice@example.com\"}");
  g_autoptr(AglPublisher) publisher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;

  publisher = agl_publish_sip_new (config, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_publisher_get_kind (publisher), ==, "sip");
  description = agl_publisher_describe (publisher);
  g_assert_cmpstr (description, ==, "sip:alice@example.com via sip:127.0.0.1:5060");

  /* Nothing sent, nothing to withdraw. */
  g_clear_object (&publisher);
  {
    gboolean gone = FALSE;
    gboolean timed_out = FALSE;
    guint id = g_timeout_add (5000, flag_cb, &timed_out);

    while (agl_publish_sip_count_stacks () > 0 && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    gone = agl_publish_sip_count_stacks () == 0;
    if (!timed_out)
      g_source_remove (id);
    g_assert_true (gone);
  }
}

/* ------------------------------------------------------------------ */
/* Against Kamailio                                                     */

typedef struct {
  AglKamailioHarness k;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  agl_kamailio_harness_start (&fixture->k, TEST_PASSWORD, data);
}

/* Waits (at most ten seconds) until the publishers' SIP stacks are gone. */
static void
wait_for_stacks (void)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (10000, flag_cb, &timed_out);

  while (agl_publish_sip_count_stacks () > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (agl_publish_sip_count_stacks (), ==, 0);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  /* Publishers are gone: let their stacks finish shutting down. */
  wait_for_stacks ();
  agl_kamailio_harness_stop (&fixture->k);
}

typedef struct {
  gboolean  done;
  gboolean  ok;
  char     *detail;
  GError   *error;
  gint64    finished;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->detail, g_free);
  g_clear_error (&result->error);
  result->done = FALSE;
}

static void
delivered_cb (GObject      *object,
              GAsyncResult *async_result,
              gpointer      user_data)
{
  Result *result = user_data;

  result->ok = agl_publisher_deliver_finish (AGL_PUBLISHER (object), async_result,
                                             &result->detail, &result->error);
  result->finished = g_get_monotonic_time ();
  result->done = TRUE;
}

static void
closed_cb (GObject      *object,
           GAsyncResult *async_result,
           gpointer      user_data)
{
  Result *result = user_data;

  result->ok = agl_publisher_close_finish (AGL_PUBLISHER (object), async_result, &result->error);
  result->finished = g_get_monotonic_time ();
  result->done = TRUE;
}

/* Delivers @tp and waits for the answer; returns how long it took, in
 * microseconds. */
static gint64
deliver (AglPublisher    *publisher,
         TestPublication *tp,
         Result          *result,
         guint            timeout_ms)
{
  gint64 started = g_get_monotonic_time ();

  result_clear (result);
  agl_publisher_deliver_async (publisher, &tp->publication, NULL, delivered_cb, result);
  if (!run_until (&result->done, timeout_ms))
    g_error ("no answer to the delivery within %u ms", timeout_ms);
  return result->finished - started;
}

static AglPublisher *
make_publisher (const char *server,
                const char *password)
{
  g_autofree char *json = g_strdup_printf ("{\"server\": \"%s\", \"address\": \"" TEST_ADDRESS "\","
                                           " \"expires\": 600, \"has_password\": true}",
                                           server);
  g_autoptr(JsonObject) config = config_from_json (json);
  g_autoptr(GError) error = NULL;
  AglPublisher *publisher;

  publisher = agl_publish_sip_new (config, password, &error);
  g_assert_no_error (error);
  g_assert_nonnull (publisher);
  return publisher;
}

/* The presentities Kamailio stored for the test user: how many, and the
 * body and expiry of the newest. */
static guint
read_presentity (Fixture  *fixture,
                 char    **body,
                 gint64   *expires)
{
  return agl_kamailio_harness_read_presentity (&fixture->k, TEST_USER, TEST_DOMAIN, body, expires);
}

static guint
count_in_log (Fixture    *fixture,
              const char *needle)
{
  return agl_kamailio_harness_count_in_log (&fixture->k, needle);
}

/* Kamailio answers a withdrawal before it deletes the row: at most two
 * seconds for it to go. */
static gboolean
wait_for_withdrawal (Fixture *fixture)
{
  return agl_kamailio_harness_wait_for_withdrawal (&fixture->k, TEST_USER, TEST_DOMAIN, 2000);
}

static void
test_kamailio_publish (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(AglPublisher) publisher = NULL;
  TestPublication busy;
  TestPublication available;
  Result result = { 0 };
  g_autofree char *body = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  gint64 expires = 0;
  gint64 elapsed;

  if (g_test_failed () || fixture->k.process == NULL)
    return;

  publisher = make_publisher (fixture->k.server, TEST_PASSWORD);

  /* 1. Busy until 10:30: Kamailio challenges, the publisher answers with
   * the digest, Kamailio stores the presentity. */
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  elapsed = deliver (publisher, &busy, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_true (result.ok);
  g_assert_cmpstr (result.detail, ==, "200 OK");
  g_test_message ("first PUBLISH (with the digest challenge) stored in %.1f ms",
                  elapsed / 1000.0);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);

  /* Kamailio answers after it wrote the row. */
  g_assert_cmpuint (read_presentity (fixture, &body, &expires), ==, 1);
  g_test_message ("stored: %s", body);
  doc = parse_pidf (body);
  assert_query (doc, "/p:presence/@entity", TEST_ADDRESS);
  assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", "open");
  assert_query (doc, "/p:presence/p:tuple/p:note", "Budget review");
  assert_query (doc, "/p:presence/dm:person/rpid:activities/@until", "2026-11-23T10:30:00Z");
  g_assert_cmpint (pidf_count (doc, "//rpid:activities/rpid:busy"), ==, 1);
  g_assert_cmpint (expires, >, g_get_real_time () / G_USEC_PER_SEC + 500);
  g_clear_pointer (&doc, xmlFreeDoc);
  g_clear_pointer (&body, g_free);
  /* The challenge was answered: one PUBLISH without, one with. */
  g_assert_cmpuint (count_in_log (fixture, "PUBLISH " TEST_ADDRESS), ==, 2);

  /* 2. Available: the same publication modified (SIP-If-Match), still one
   * row, with the new body. */
  test_publication_init (&available, AGL_PRESENCE_AVAILABLE, AGL_PHONE_ACTION_NONE, NULL, 0);
  elapsed = deliver (publisher, &available, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.detail, ==, "200 OK");
  g_test_message ("second PUBLISH stored in %.1f ms", elapsed / 1000.0);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC);

  g_assert_cmpuint (read_presentity (fixture, &body, NULL), ==, 1);
  doc = parse_pidf (body);
  assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", "open");
  g_assert_cmpint (pidf_count (doc, "//rpid:activities"), ==, 0);
  g_assert_cmpint (pidf_count (doc, "//p:note"), ==, 0);
  g_clear_pointer (&doc, xmlFreeDoc);
  g_clear_pointer (&body, g_free);
  /* A modification: it named the publication's entity tag (the
   * configuration's xlog line shows SIP-If-Match). */
  g_assert_cmpuint (count_in_log (fixture, "if-match a."), ==, 1);

  /* 3. The server forgets the publication (as after a restart): the
   * modification gets 412 Conditional Request Failed, and the publisher
   * publishes afresh. */
  agl_kamailio_harness_delete_presentities (&fixture->k);
  elapsed = deliver (publisher, &busy, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.detail, ==, "200 OK");
  g_test_message ("PUBLISH after the server forgot it stored in %.1f ms", elapsed / 1000.0);
  g_assert_cmpuint (read_presentity (fixture, &body, NULL), ==, 1);
  doc = parse_pidf (body);
  assert_query (doc, "/p:presence/p:tuple/p:note", "Budget review");
  g_clear_pointer (&doc, xmlFreeDoc);
  g_clear_pointer (&body, g_free);
  /* Kamailio's words when it answers 412. */
  g_assert_cmpuint (count_in_log (fixture, "No E-Tag match"), ==, 1);

  /* 4. Close withdraws it (PUBLISH with Expires: 0). */
  result_clear (&result);
  agl_publisher_close_async (publisher, NULL, closed_cb, &result);
  g_assert_true (run_until (&result.done, 5000));
  g_assert_no_error (result.error);
  g_assert_true (result.ok);
  /* Kamailio answers a withdrawal before it deletes the row. */
  g_assert_true (wait_for_withdrawal (fixture));
  g_assert_cmpuint (count_in_log (fixture, "expires 0 body 0 bytes if-match a."), ==, 1);

  result_clear (&result);
  test_publication_clear (&busy);
  test_publication_clear (&available);
}

static void
test_kamailio_wrong_password (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(AglPublisher) publisher = NULL;
  TestPublication busy;
  Result result = { 0 };

  if (g_test_failed () || fixture->k.process == NULL)
    return;

  publisher = make_publisher (fixture->k.server, "wrong");
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_false (result.ok);
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_REMOTE);
  g_test_message ("%s", result.error->message);
  g_assert_nonnull (strstr (result.error->message, "refused the password for " TEST_USER));
  g_assert_nonnull (strstr (result.error->message, fixture->k.server));
  /* One try without credentials, one with: no loop. */
  g_assert_cmpuint (count_in_log (fixture, "PUBLISH " TEST_ADDRESS), ==, 2);
  g_assert_cmpuint (read_presentity (fixture, NULL, NULL), ==, 0);

  /* The manager's retry gets the same answer, and no more requests. */
  deliver (publisher, &busy, &result, 5000);
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_REMOTE);
  g_assert_nonnull (strstr (result.error->message, "refused the password for " TEST_USER));
  g_assert_cmpuint (count_in_log (fixture, "PUBLISH " TEST_ADDRESS), ==, 4);

  /* No password at all. */
  g_clear_object (&publisher);
  publisher = make_publisher (fixture->k.server, NULL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_false (result.ok);
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_REMOTE);
  g_assert_nonnull (strstr (result.error->message, "none is set"));
  deliver (publisher, &busy, &result, 5000);
  g_assert_nonnull (strstr (result.error->message, "none is set"));

  result_clear (&result);
  test_publication_clear (&busy);
}

static void
test_kamailio_refresh (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(AglPublisher) publisher = NULL;
  TestPublication busy;
  Result result = { 0 };
  g_autofree char *body = NULL;
  gint64 expires = 0;
  gint64 refreshed_expires = 0;

  if (g_test_failed () || fixture->k.process == NULL)
    return;

  /* The server grants 4 seconds of the 600 asked for: the publisher
   * renews the publication after 2, with no body and SIP-If-Match. */
  publisher = make_publisher (fixture->k.server, TEST_PASSWORD);
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_cmpuint (read_presentity (fixture, NULL, &expires), ==, 1);
  g_assert_cmpint (expires, <=, g_get_real_time () / G_USEC_PER_SEC + 4);

  /* The configuration's xlog line of a refresh. */
  g_assert_true (agl_kamailio_harness_wait_for_log (&fixture->k,
                                                    "expires 600 body 0 bytes if-match a.", 1,
                                                    6000));
  /* Kamailio logs the request before it stores the new expiry. */
  g_assert_true (agl_kamailio_harness_wait_for_expiry (&fixture->k, TEST_USER, TEST_DOMAIN,
                                                       expires + 1, G_MAXINT64, 2000));

  /* Still the one publication, with the document of the delivery. */
  g_assert_cmpuint (read_presentity (fixture, &body, &refreshed_expires), ==, 1);
  g_assert_nonnull (strstr (body, "Budget review"));
  g_assert_cmpint (refreshed_expires, >, expires);

  result_clear (&result);
  agl_publisher_close_async (publisher, NULL, closed_cb, &result);
  g_assert_true (run_until (&result.done, 5000));
  g_assert_no_error (result.error);
  g_assert_true (wait_for_withdrawal (fixture));

  result_clear (&result);
  test_publication_clear (&busy);
}

static void
test_kamailio_cancel (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(AglPublisher) publisher = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  TestPublication busy;
  TestPublication away;
  Result result = { 0 };
  g_autofree char *body = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  if (g_test_failed () || fixture->k.process == NULL)
    return;

  /* Cancelled before the main loop runs: the delivery says so at once;
   * the PUBLISH still goes. */
  publisher = make_publisher (fixture->k.server, TEST_PASSWORD);
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  agl_publisher_deliver_async (publisher, &busy.publication, cancellable, delivered_cb, &result);
  g_cancellable_cancel (cancellable);
  g_assert_true (run_until (&result.done, 5000));
  g_assert_error (result.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The next delivery goes after the first one's answer, as a
   * modification of the publication it made. */
  test_publication_init (&away, AGL_PRESENCE_AWAY, AGL_PHONE_ACTION_NONE, "Lunch", 0);
  deliver (publisher, &away, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_cmpstr (result.detail, ==, "200 OK");
  g_assert_cmpuint (read_presentity (fixture, &body, NULL), ==, 1);
  doc = parse_pidf (body);
  assert_query (doc, "/p:presence/p:tuple/p:note", "Lunch");
  g_assert_cmpint (pidf_count (doc, "//rpid:activities/rpid:away"), ==, 1);

  result_clear (&result);
  test_publication_clear (&busy);
  test_publication_clear (&away);
}

/* ------------------------------------------------------------------ */
/* Without a server                                                     */

static void
test_nothing_listening (void)
{
  g_autoptr(AglPublisher) publisher = NULL;
  g_autofree char *server =
    g_strdup_printf ("sip:127.0.0.1:%u", agl_kamailio_harness_pick_free_udp_port (NULL));
  TestPublication busy;
  Result result = { 0 };
  gint64 elapsed;

  publisher = make_publisher (server, TEST_PASSWORD);
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  elapsed = deliver (publisher, &busy, &result, 15000);
  g_assert_false (result.ok);
  g_assert_nonnull (result.error);
  g_test_message ("after %.1f s: %s", elapsed / (double) G_USEC_PER_SEC, result.error->message);
  g_assert_true (g_error_matches (result.error, AGL_ERROR, AGL_ERROR_REMOTE)
                 || g_error_matches (result.error, AGL_ERROR, AGL_ERROR_TIMED_OUT));
  g_assert_nonnull (strstr (result.error->message, server));

  result_clear (&result);
  test_publication_clear (&busy);
  g_clear_object (&publisher);
  wait_for_stacks ();
}

static void
test_no_answer (void)
{
  g_autoptr(AglPublisher) publisher = NULL;
  g_autoptr(GSocket) silent = NULL;
  g_autofree char *server = NULL;
  TestPublication busy;
  Result result = { 0 };
  gint64 elapsed;

  /* A socket that takes the datagrams and never answers. */
  server = g_strdup_printf ("sip:127.0.0.1:%u", agl_kamailio_harness_pick_free_udp_port (&silent));
  publisher = make_publisher (server, TEST_PASSWORD);
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  elapsed = deliver (publisher, &busy, &result, 15000);
  g_test_message ("after %.1f s: %s", elapsed / (double) G_USEC_PER_SEC,
                  result.error != NULL ? result.error->message : "no error");
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (result.error->message, server));
  g_assert_cmpint (elapsed, <, 12 * G_USEC_PER_SEC);

  result_clear (&result);
  test_publication_clear (&busy);
  g_clear_object (&publisher);
  wait_for_stacks ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/publish-sip/pidf/busy-escaped", test_pidf_busy_escaped);
  g_test_add_func ("/publish-sip/pidf/mapping", test_pidf_mapping);
  g_test_add_func ("/publish-sip/pidf/control-characters", test_pidf_control_characters);
  g_test_add_func ("/publish-sip/config", test_config);
  g_test_add_func ("/publish-sip/describe", test_describe);
  g_test_add ("/publish-sip/kamailio/publish-modify-close", Fixture, NULL,
              fixture_set_up, test_kamailio_publish, fixture_tear_down);
  g_test_add ("/publish-sip/kamailio/wrong-password", Fixture, NULL,
              fixture_set_up, test_kamailio_wrong_password, fixture_tear_down);
  g_test_add ("/publish-sip/kamailio/cancel", Fixture, NULL,
              fixture_set_up, test_kamailio_cancel, fixture_tear_down);
  g_test_add ("/publish-sip/kamailio/refresh", Fixture, "MAX_EXPIRES=4",
              fixture_set_up, test_kamailio_refresh, fixture_tear_down);
  g_test_add_func ("/publish-sip/unreachable/nothing-listening", test_nothing_listening);
  g_test_add_func ("/publish-sip/unreachable/no-answer", test_no_answer);

  return g_test_run ();
}
