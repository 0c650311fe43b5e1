/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * SIP presence end to end: the real agendalined on a private bus with an
 * account whose Exchange server cannot be reached (presence works from the
 * local agenda alone), a sip publisher set with `agendalinectl rules set`,
 * and a real Kamailio (tests/agl-kamailio-harness.c) whose SQLite database
 * the test polls to see the presentity it stored.  The current status as
 * soon as the rules are set, the new one within a second of a boundary,
 * the publisher's result in `agendalinectl connections`, a wrong password
 * (retried, the daemon still answering and syncing with the test Exchange
 * server), the password kept out of every reply and of the daemon's
 * database, and the appointment activity of a busy status.
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "agl-kamailio-harness.h"
#include "agl-sync-harness.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)

#define ACCOUNT "work"
/* Nothing listens on the discard port: every connection is refused. */
#define UNREACHABLE_URL "https://127.0.0.1:9/EWS/Exchange.asmx"
#define SIP_USER "alice"
#define SIP_DOMAIN "example.com"
#define SIP_ADDRESS "sip:" SIP_USER "@" SIP_DOMAIN
#define SIP_PASSWORD "Sip-pw-7c1e-never-shown"
#define SUBJECT "Budget review"
/* From rules set to the first PUBLISH stored, at most. */
#define DELIVERY_MS 10000
/* A status change must be stored by Kamailio within this of its boundary. */
#define BOUNDARY_US G_USEC_PER_SEC

typedef struct {
  AglSyncHarness     h;
  AglKamailioHarness k;
  gboolean           running;              /* the daemon and Kamailio run */
  guint              connection_signal_id;
  guint              connection_changes;   /* ConnectionChanged seen */
} Fixture;

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  return memmem (contents, length, needle, strlen (needle)) != NULL;
}

/* ------------------------------------------------------------------ */
/* PIDF                                                                 */

static xmlDoc *
parse_pidf (const char *pidf)
{
  xmlDoc *doc;

  g_assert_nonnull (pidf);
  doc = xmlReadMemory (pidf, strlen (pidf), "pidf.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    g_error ("Kamailio stored a document that is not well-formed:\n%s", pidf);
  return doc;
}

static xmlXPathObject *
pidf_eval (xmlDoc     *doc,
           const char *xpath)
{
  g_autoptr(xmlXPathContext) context = xmlXPathNewContext (doc);
  xmlXPathObject *result;

  xmlXPathRegisterNs (context, BAD_CAST "p", BAD_CAST "urn:ietf:params:xml:ns:pidf");
  xmlXPathRegisterNs (context, BAD_CAST "dm", BAD_CAST "urn:ietf:params:xml:ns:pidf:data-model");
  xmlXPathRegisterNs (context, BAD_CAST "rpid", BAD_CAST "urn:ietf:params:xml:ns:pidf:rpid");
  result = xmlXPathEvalExpression (BAD_CAST xpath, context);
  g_assert_nonnull (result);
  return result;
}

/* The text of the first node @xpath finds, or %NULL for none; "" for an
 * element found without text. */
static char *
pidf_query (xmlDoc     *doc,
            const char *xpath)
{
  g_autoptr(xmlXPathObject) result = pidf_eval (doc, xpath);
  xmlChar *content;
  char *text;

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
  g_autoptr(xmlXPathObject) result = pidf_eval (doc, xpath);

  return result->nodesetval != NULL ? result->nodesetval->nodeNr : 0;
}

#define assert_query(doc, xpath, expected) G_STMT_START { \
    g_autofree char *_got = pidf_query ((doc), (xpath)); \
    g_assert_cmpstr (_got, ==, (expected)); \
  } G_STMT_END

/* Available: open, no activity, no note, no end. */
static void
assert_pidf_available (const char *pidf)
{
  g_autoptr(xmlDoc) doc = parse_pidf (pidf);

  assert_query (doc, "/p:presence/@entity", SIP_ADDRESS);
  assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", "open");
  g_assert_cmpint (pidf_count (doc, "//rpid:activities"), ==, 0);
  g_assert_cmpint (pidf_count (doc, "//p:note | //dm:note"), ==, 0);
}

/* Busy in an appointment (diverted: the line stays open), the subject as
 * the note, until its end. */
static void
assert_pidf_busy (const char *pidf,
                  gint64      at,
                  gint64      until)
{
  g_autoptr(xmlDoc) doc = parse_pidf (pidf);
  g_autofree char *until_text = agl_sync_harness_iso (until);

  assert_query (doc, "/p:presence/@entity", SIP_ADDRESS);
  assert_query (doc, "/p:presence/p:tuple/p:status/p:basic", "open");
  assert_query (doc, "/p:presence/p:tuple/p:note", SUBJECT);
  assert_query (doc, "/p:presence/dm:person/dm:note", SUBJECT);
  assert_query (doc, "/p:presence/dm:person/rpid:activities/*[1][self::rpid:busy]", "");
  assert_query (doc, "/p:presence/dm:person/rpid:activities/@until", until_text);
  if (at > 0)
    {
      g_autofree char *at_text = agl_sync_harness_iso (at);

      assert_query (doc, "/p:presence/p:tuple/p:timestamp", at_text);
    }
}

/* ------------------------------------------------------------------ */
/* The daemon                                                           */

static void
connection_changed_cb (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  ((Fixture *) user_data)->connection_changes++;
}

static GVariant *
call (Fixture            *f,
      const char         *method,
      GVariant           *parameters,
      const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = agl_sync_harness_call_daemon (&f->h, method, parameters, reply_type, &error);

  g_assert_no_error (error);
  return reply;
}

/* agendalinectl ARGS… must succeed; returns what it printed. */
static char *
ctl (Fixture    *f,
     const char *input,
     ...)
{
  g_autoptr(AglCtlResult) result = NULL;
  va_list ap;

  va_start (ap, input);
  result = agl_sync_harness_run_ctl_valist (&f->h, input, ap);
  va_end (ap);
  if (result->status != 0)
    g_error ("%s: exit status %d: %s", result->command, result->status, result->err);
  return g_steal_pointer (&result->out);
}

/* `agendalinectl rules set ACCOUNT FILE` with a sip publisher for
 * Kamailio; @password NULL leaves it out; @extra goes into its object. */
static void
set_sip_rules (Fixture    *f,
               const char *password,
               const char *extra)
{
  g_autofree char *path = g_build_filename (f->h.dir, "sip-rules.json", NULL);
  g_autofree char *password_member = password != NULL
                                     ? g_strdup_printf (", \"password\": \"%s\"", password)
                                     : g_strdup ("");
  g_autofree char *rules = NULL;
  g_autoptr(GError) error = NULL;

  rules = g_strdup_printf ("{\"publishers\": {\"sip\": {\"server\": \"%s\","
                           " \"address\": \"" SIP_ADDRESS "\", \"user\": \"" SIP_USER "\"%s%s}}}",
                           f->k.server, password_member, extra != NULL ? extra : "");
  g_file_set_contents (path, rules, -1, &error);
  g_assert_no_error (error);
  g_free (ctl (f, NULL, "rules", "set", ACCOUNT, path, NULL));
}

/* A Busy appointment in the account's agenda, with `agendalinectl agenda
 * add`. */
static void
add_appointment (Fixture    *f,
                 const char *uid,
                 gint64      start,
                 gint64      end)
{
  g_autofree char *dtstart = agl_sync_harness_ical_time (start);
  g_autofree char *dtend = agl_sync_harness_ical_time (end);
  g_autofree char *ical = NULL;

  ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//SIP test//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:" SUBJECT "\r\n"
                          "TRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, dtstart, dtend);
  g_free (ctl (f, ical, "agenda", "add", "--account", ACCOUNT, "-", NULL));
}

static JsonObject *
get_status (Fixture *f)
{
  g_autoptr(GVariant) reply =
    call (f, "GetStatus", g_variant_new ("(ss)", ACCOUNT, ""), G_VARIANT_TYPE ("(s)"));
  const char *json;

  g_variant_get (reply, "(&s)", &json);
  return agl_sync_harness_parse_object (json);
}

/* The account's publisher of @kind in ListConnections, or NULL. */
static GVariant *
find_publisher (Fixture    *f,
                const char *kind)
{
  g_autoptr(GVariant) reply = call (f, "ListConnections", NULL, G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariant) connections = g_variant_get_child_value (reply, 0);
  GVariantIter iter;
  GVariant *connection;

  g_variant_iter_init (&iter, connections);
  while ((connection = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = connection;
      g_autoptr(GVariant) publishers = NULL;
      const char *name;
      GVariantIter publisher_iter;
      GVariant *publisher;

      if (!g_variant_lookup (connection, "name", "&s", &name) || g_strcmp0 (name, ACCOUNT) != 0)
        continue;
      publishers = g_variant_lookup_value (connection, "publishers", G_VARIANT_TYPE ("aa{sv}"));
      g_assert_nonnull (publishers);
      g_variant_iter_init (&publisher_iter, publishers);
      while ((publisher = g_variant_iter_next_value (&publisher_iter)) != NULL)
        {
          const char *publisher_kind;

          if (g_variant_lookup (publisher, "kind", "&s", &publisher_kind) &&
              g_strcmp0 (publisher_kind, kind) == 0)
            return publisher;
          g_variant_unref (publisher);
        }
    }
  return NULL;
}

static gboolean
publisher_in_state (const char *publisher_state,
                    guint       attempts,
                    const char *state,
                    guint       min_attempts)
{
  if (state == NULL)
    return (g_strcmp0 (publisher_state, "retrying") == 0 && attempts >= min_attempts)
           || g_strcmp0 (publisher_state, "failed") == 0;
  return g_strcmp0 (publisher_state, state) == 0 && attempts >= min_attempts;
}

/* Runs the main loop until the sip publisher is in @state with at least
 * @min_attempts attempts; @state NULL: failing, that is "retrying" after
 * @min_attempts attempts or "failed" for good.  Looks again at each
 * ConnectionChanged. */
static void
wait_for_sip_publisher (Fixture    *f,
                        const char *state,
                        guint       min_attempts,
                        guint       seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);
  guint seen = G_MAXUINT;

  for (;;)
    {
      if (seen != f->connection_changes)
        {
          g_autoptr(GVariant) publisher = NULL;
          const char *publisher_state = NULL;
          guint attempts = 0;

          seen = f->connection_changes;
          publisher = find_publisher (f, "sip");
          if (publisher != NULL && g_variant_lookup (publisher, "state", "&s", &publisher_state) &&
              g_variant_lookup (publisher, "attempts", "u", &attempts) &&
              publisher_in_state (publisher_state, attempts, state, min_attempts))
            {
              g_source_remove (id);
              return;
            }
        }
      if (timed_out)
        g_error ("the sip publisher was not %s after %u attempts within %u s",
                 state != NULL ? state : "failing", min_attempts, seconds);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* `agendalinectl connections ACCOUNT --json`: the sip publisher. */
static JsonObject *
ctl_sip_publisher (Fixture *f)
{
  g_autofree char *out = ctl (f, NULL, "connections", ACCOUNT, "--json", NULL);
  g_autoptr(JsonObject) connection = agl_sync_harness_parse_object (out);
  JsonArray *publishers = json_object_get_array_member (connection, "publishers");

  g_test_message ("connections --json: %s", out);
  for (guint i = 0; i < json_array_get_length (publishers); i++)
    {
      JsonObject *publisher = json_array_get_object_element (publishers, i);

      if (g_strcmp0 (json_object_get_string_member (publisher, "kind"), "sip") == 0)
        return json_object_ref (publisher);
    }
  g_error ("no sip publisher in: %s", out);
}

/* The newest presentity once its body is other than @previous (NULL: once
 * there is one), polled every 10 ms; the test fails after @timeout_ms. */
static char *
wait_for_presentity (Fixture    *f,
                     const char *previous,
                     guint       timeout_ms,
                     gint64     *seen_at)
{
  char *body = agl_kamailio_harness_wait_for_presentity (&f->k, SIP_USER, SIP_DOMAIN, previous,
                                                         timeout_ms, seen_at);

  if (body == NULL)
    g_error ("Kamailio stored no new presentity for " SIP_ADDRESS " within %u ms", timeout_ms);
  return body;
}

static gboolean
pidf_is_busy (const char *pidf)
{
  g_autoptr(xmlDoc) doc = parse_pidf (pidf);

  return pidf_count (doc, "//rpid:activities/rpid:busy") == 1;
}

/* Waits for the boundary at @boundary (Unix seconds) to reach Kamailio:
 * the first presentity after @previous that is busy (@busy) or not,
 * stored within a second of the boundary and not before.  The status may
 * be published again before the boundary (a new appointment gives the
 * current status an end): those documents are skipped. */
static char *
wait_for_boundary (Fixture    *f,
                   const char *previous,
                   gint64      boundary,
                   gboolean    busy,
                   const char *what)
{
  g_autofree char *last = g_strdup (previous);
  gint64 seen_at = 0;
  gint64 delay;
  guint timeout_ms = (boundary + 5 - g_get_real_time () / G_USEC_PER_SEC) * 1000;
  char *body;

  for (;;)
    {
      body = wait_for_presentity (f, last, timeout_ms, &seen_at);
      if (pidf_is_busy (body) == busy)
        break;
      g_test_message ("%s: %.1f ms before the boundary, Kamailio stored the same presence again:"
                      " %s", what, (boundary * G_USEC_PER_SEC - seen_at) / 1000.0, body);
      g_assert_cmpint (seen_at, <, boundary * G_USEC_PER_SEC);
      g_free (last);
      last = body;
    }
  delay = seen_at - boundary * G_USEC_PER_SEC;
  g_test_message ("%s: Kamailio stored the new presentity %.1f ms after the boundary", what,
                  delay / 1000.0);
  g_assert_cmpint (delay, >=, 0);
  g_assert_cmpint (delay, <, BOUNDARY_US);
  return body;
}

/* Kamailio, then the daemon on the private bus; FALSE when the test is
 * skipped (no Kamailio). */
static gboolean
start (Fixture *f)
{
  /* The daemon warns that no Secret Service runs on the test bus. */
  static const char * const child_env[] = { "G_DEBUG=gc-friendly", NULL };

  if (!agl_kamailio_harness_start (&f->k, SIP_PASSWORD, NULL))
    return FALSE;

  f->h.timeout_seconds = 30;
  f->h.child_env = child_env;
  f->h.death_signal = SIGTERM;
  agl_sync_harness_init (&f->h, "agl-publish-sip-XXXXXX");
  agl_sync_harness_start_daemon (&f->h, "agendalined.log", "all");
  f->connection_signal_id =
    g_dbus_connection_signal_subscribe (f->h.connection, NULL, AGL_BUS_NAME, "ConnectionChanged",
                                        AGL_OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        connection_changed_cb, f, NULL);
  f->running = TRUE;
  return TRUE;
}

static void
add_account (Fixture  *f,
             GVariant *settings)
{
  g_autoptr(GVariant) reply =
    call (f, "AddAccount", g_variant_new ("(s@a{sv})", ACCOUNT, settings), NULL);
}

/* An account whose server cannot be reached: the local agenda alone. */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  GVariantBuilder settings;

  if (!start (f))
    return;
  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "email", g_variant_new_string ("alice@example.test"));
  g_variant_builder_add (&settings, "{sv}", "url", g_variant_new_string (UNREACHABLE_URL));
  g_variant_builder_add (&settings, "{sv}", "password", g_variant_new_string ("account-password"));
  add_account (f, g_variant_builder_end (&settings));
}

/* An account on the test Exchange server (one empty mailbox), so that a
 * sync has something to do. */
static void
fixture_set_up_ews (Fixture       *f,
                    gconstpointer  data)
{
  static const char seed_json[] =
    "{\"mailboxes\": [{\"address\": \"alice@example.org\", \"user\": \"alice\", "
    "\"domain\": \"EXAMPLE\", \"password\": \"Agendaline-test-1\", \"display_name\": \"Alice\", "
    "\"items\": []}]}";
  g_autofree char *seed = NULL;
  g_autofree char *ca = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder settings;

  if (!start (f))
    return;
  seed = g_build_filename (f->h.dir, "seed.json", NULL);
  g_file_set_contents (seed, seed_json, -1, &error);
  g_assert_no_error (error);
  agl_sync_harness_start_server (&f->h, seed);

  ca = agl_sync_harness_server_fixture ("ca.pem");
  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "email", g_variant_new_string ("alice@example.org"));
  g_variant_builder_add (&settings, "{sv}", "url", g_variant_new_string (f->h.url));
  g_variant_builder_add (&settings, "{sv}", "auth", g_variant_new_string ("ntlm"));
  g_variant_builder_add (&settings, "{sv}", "user", g_variant_new_string ("alice"));
  g_variant_builder_add (&settings, "{sv}", "domain", g_variant_new_string ("EXAMPLE"));
  g_variant_builder_add (&settings, "{sv}", "ca-file", g_variant_new_string (ca));
  g_variant_builder_add (&settings, "{sv}", "password", g_variant_new_string ("Agendaline-test-1"));
  add_account (f, g_variant_builder_end (&settings));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->running)
    {
      if (g_test_failed ())
        agl_sync_harness_dump_daemon_log (&f->h);
      g_dbus_connection_signal_unsubscribe (f->h.connection, f->connection_signal_id);
      /* The daemon first, so that it withdraws its publication from a
       * Kamailio still there. */
      agl_sync_harness_clear (&f->h, !g_test_failed ());
    }
  agl_kamailio_harness_stop (&f->k);
}

/* ------------------------------------------------------------------ */
/* Tests                                                                */

/* The current status reaches Kamailio once the rules are set; an
 * appointment starting two to three seconds ahead changes it at its start
 * and at its end, each stored within a second; `connections` shows the
 * publisher delivered. */
static void
test_current_then_boundaries (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(JsonObject) status = NULL;
  g_autoptr(JsonObject) shown = NULL;
  g_autofree char *available = NULL;
  g_autofree char *busy = NULL;
  g_autofree char *after = NULL;
  g_autofree char *target = NULL;
  gint64 start, end;

  if (!f->running)
    return;

  status = get_status (f);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "available");

  /* (a) the current status, as soon as the rules are set. */
  set_sip_rules (f, SIP_PASSWORD, NULL);
  available = wait_for_presentity (f, NULL, DELIVERY_MS, NULL);
  g_test_message ("stored after rules set: %s", available);
  assert_pidf_available (available);

  /* (c) delivered at the first attempt, the server's answer shown. */
  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);
  shown = ctl_sip_publisher (f);
  target = g_strdup_printf (SIP_ADDRESS " via %s", f->k.server);
  g_assert_cmpstr (json_object_get_string_member (shown, "state"), ==, "delivered");
  g_assert_cmpstr (json_object_get_string_member (shown, "target"), ==, target);
  g_assert_cmpstr (json_object_get_string_member (shown, "message"), ==, "200 OK");
  g_assert_cmpint (json_object_get_int_member (shown, "attempts"), ==, 1);
  g_assert_false (json_object_get_null_member (shown, "last_success"));

  /* (b) an appointment two to three seconds ahead. */
  start = g_get_real_time () / G_USEC_PER_SEC + 3;
  end = start + 3;
  add_appointment (f, "soon@sip.test", start, end);
  busy = wait_for_boundary (f, available, start, TRUE, "start of the appointment");
  g_test_message ("stored at the start: %s", busy);
  assert_pidf_busy (busy, start, end);

  after = wait_for_boundary (f, busy, end, FALSE, "end of the appointment");
  assert_pidf_available (after);

  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);
  g_clear_pointer (&shown, json_object_unref);
  shown = ctl_sip_publisher (f);
  g_assert_cmpstr (json_object_get_string_member (shown, "state"), ==, "delivered");
  g_assert_cmpstr (json_object_get_string_member (shown, "message"), ==, "200 OK");
  /* One publication all along, modified in place. */
  g_assert_cmpuint (agl_kamailio_harness_read_presentity (&f->k, SIP_USER, SIP_DOMAIN, NULL, NULL),
                    ==, 1);
}

/* Rules set during an appointment: the first document Kamailio stores is
 * already busy, with the subject and the end. */
static void
test_busy_when_rules_set (Fixture       *f,
                          gconstpointer  data)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(JsonObject) status = NULL;
  g_autofree char *busy = NULL;

  if (!f->running)
    return;

  add_appointment (f, "now@sip.test", now - 60, now + 3600);
  status = get_status (f);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "busy");

  set_sip_rules (f, SIP_PASSWORD, NULL);
  busy = wait_for_presentity (f, NULL, DELIVERY_MS, NULL);
  g_test_message ("stored after rules set: %s", busy);
  assert_pidf_busy (busy, 0, now + 3600);
  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);
}

/* A busy status that an appointment governs says so with the appointment
 * activity after busy, as agl_publish_sip_pidf() documents. */
static void
test_appointment_activity (Fixture       *f,
                           gconstpointer  data)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *busy = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  if (!f->running)
    return;

  add_appointment (f, "now@sip.test", now - 60, now + 3600);
  set_sip_rules (f, SIP_PASSWORD, NULL);
  busy = wait_for_presentity (f, NULL, DELIVERY_MS, NULL);
  doc = parse_pidf (busy);
  assert_query (doc, "/p:presence/dm:person/rpid:activities/*[1][self::rpid:busy]", "");
  if (pidf_count (doc, "//rpid:activities/rpid:appointment") != 1)
    {
      g_test_message ("stored: %s", busy);
      g_test_fail_printf ("no <rpid:appointment/> in the busy status of an appointment");
    }
}

/* A password Kamailio refuses: retrying with backoff, the message about
 * the password, nothing stored, and the daemon answers at once meanwhile;
 * the right password then gets the status through. */
static void
test_wrong_password_retrying (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(JsonObject) shown = NULL;
  g_autoptr(JsonObject) status = NULL;
  g_autoptr(AglCtlResult) sync = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *body = NULL;
  const char *state;
  const char *message;
  gint64 started, elapsed;
  guint attempts, requests;

  if (!f->running)
    return;

  set_sip_rules (f, "wrong-password", NULL);
  /* Failed for good, or retrying: the first attempt and the first retry,
   * a second later. */
  wait_for_sip_publisher (f, NULL, 2, 15);
  shown = ctl_sip_publisher (f);
  state = json_object_get_string_member (shown, "state");
  g_assert_true (g_strcmp0 (state, "retrying") == 0 || g_strcmp0 (state, "failed") == 0);
  message = json_object_get_string_member (shown, "message");
  g_test_message ("message: %s", message);
  g_assert_nonnull (strstr (message, "refused the password for " SIP_USER));
  g_assert_nonnull (strstr (message, f->k.server));
  g_assert_true (json_object_get_null_member (shown, "last_success"));
  g_assert_cmpuint (agl_kamailio_harness_read_presentity (&f->k, SIP_USER, SIP_DOMAIN, NULL, NULL),
                    ==, 0);
  /* Each attempt: one PUBLISH, challenged, and one with the digest,
   * refused; no loop. */
  attempts = json_object_get_int_member (shown, "attempts");
  requests = agl_kamailio_harness_count_in_log (&f->k, "PUBLISH " SIP_ADDRESS);
  g_test_message ("%s after %u attempts, %u PUBLISH requests", state, attempts, requests);
  g_assert_cmpuint (requests, <=, 2 * (attempts + 1));

  /* (d) nothing blocked: GetStatus and a sync answer at once. */
  started = g_get_monotonic_time ();
  status = get_status (f);
  elapsed = g_get_monotonic_time () - started;
  g_test_message ("GetStatus answered in %.1f ms", elapsed / 1000.0);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC / 2);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "available");

  started = g_get_monotonic_time ();
  reply = call (f, "SyncAccount", g_variant_new ("(sb)", ACCOUNT, FALSE),
                G_VARIANT_TYPE ("(a{sv})"));
  elapsed = g_get_monotonic_time () - started;
  g_test_message ("SyncAccount answered in %.1f ms", elapsed / 1000.0);
  g_assert_cmpint (elapsed, <, G_USEC_PER_SEC / 2);

  /* A complete sync with the Exchange server, while the publisher keeps
   * retrying. */
  started = g_get_monotonic_time ();
  sync = agl_sync_harness_run_ctl (&f->h, NULL, "sync", ACCOUNT, "--wait", "--json", NULL);
  elapsed = g_get_monotonic_time () - started;
  g_test_message ("sync --wait: exit status %d in %.1f ms: %s%s", sync->status, elapsed / 1000.0,
                  sync->out, sync->err);
  g_assert_cmpint (sync->status, ==, 0);
  g_assert_cmpint (elapsed, <, 10 * G_USEC_PER_SEC);

  /* The right password: delivered. */
  set_sip_rules (f, SIP_PASSWORD, NULL);
  body = wait_for_presentity (f, NULL, DELIVERY_MS, NULL);
  assert_pidf_available (body);
  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);
  g_clear_pointer (&shown, json_object_unref);
  shown = ctl_sip_publisher (f);
  g_assert_cmpstr (json_object_get_string_member (shown, "message"), ==, "200 OK");
}

/* (e) The password is not in `rules --json`, the other replies, nor the
 * daemon's database; what `rules --json` printed, edited, goes back and
 * the password stays (Kamailio takes the new publication). */
static void
test_password_never_shown (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *shown = NULL;
  g_autofree char *text = NULL;
  g_autofree char *connections = NULL;
  g_autofree char *log = NULL;
  g_autofree char *edited = NULL;
  g_autofree char *body = NULL;
  g_autofree char *db = NULL;
  g_autofree char *db_wal = NULL;
  g_autofree char *passwords = NULL;
  g_autoptr(JsonObject) object = NULL;
  gint64 now;
  JsonObject *sip;

  if (!f->running)
    return;

  db = g_build_filename (f->h.dir, "agenda.db", NULL);
  db_wal = g_build_filename (f->h.dir, "agenda.db-wal", NULL);
  passwords = g_build_filename (f->h.dir, "passwords", NULL);

  set_sip_rules (f, SIP_PASSWORD, NULL);
  body = wait_for_presentity (f, NULL, DELIVERY_MS, NULL);
  assert_pidf_available (body);
  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);

  shown = ctl (f, NULL, "rules", ACCOUNT, "--json", NULL);
  g_test_message ("rules --json: %s", shown);
  g_assert_null (strstr (shown, SIP_PASSWORD));
  object = agl_sync_harness_parse_object (shown);
  sip = json_object_get_object_member (json_object_get_object_member (object, "publishers"), "sip");
  g_assert_nonnull (sip);
  g_assert_true (json_object_get_boolean_member (sip, "has_password"));
  g_assert_false (json_object_has_member (sip, "password"));
  g_assert_cmpstr (json_object_get_string_member (sip, "server"), ==, f->k.server);

  text = ctl (f, NULL, "rules", ACCOUNT, NULL);
  connections = ctl (f, NULL, "connections", "--json", NULL);
  log = ctl (f, NULL, "log", NULL);
  g_assert_null (strstr (text, SIP_PASSWORD));
  g_assert_null (strstr (connections, SIP_PASSWORD));
  g_assert_null (strstr (log, SIP_PASSWORD));
  /* Nor in the daemon's own output, every debug message included. */
  g_assert_false (file_contains (f->h.daemon_log, SIP_PASSWORD));
  g_assert_true (g_file_test (db, G_FILE_TEST_EXISTS));
  g_assert_false (file_contains (db, SIP_PASSWORD));
  g_assert_false (file_contains (db_wal, SIP_PASSWORD));
  /* It lives in the fallback file of the test bus (no Secret Service). */
  g_assert_true (file_contains (passwords, SIP_PASSWORD));

  /* Back with a new expiry: a new publisher, with the stored password. */
  {
    g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);

    json_object_set_int_member (sip, "expires", 900);
    json_node_set_object (root, object);
    edited = json_to_string (root, TRUE);
  }
  g_free (ctl (f, edited, "rules", "set", ACCOUNT, "-", NULL));
  /* The old publication (an hour, the default) withdrawn, the new one for
   * 900 s stored: Kamailio took the stored password. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  if (!agl_kamailio_harness_wait_for_expiry (&f->k, SIP_USER, SIP_DOMAIN, now + 890, now + 910,
                                             DELIVERY_MS))
    g_error ("Kamailio stored no publication for 900 s within %d ms", DELIVERY_MS);
  g_assert_cmpuint (agl_kamailio_harness_count_in_log (&f->k, "expires 900 body"), ==, 2);
  wait_for_sip_publisher (f, "delivered", 1, DELIVERY_MS / 1000);
  g_assert_false (file_contains (db, SIP_PASSWORD));
  g_assert_false (file_contains (db_wal, SIP_PASSWORD));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/publish-sip-daemon/status/current-then-boundaries-within-a-second",
       test_current_then_boundaries);
  ADD ("/publish-sip-daemon/status/busy-when-rules-set", test_busy_when_rules_set);
  g_test_add ("/publish-sip-daemon/wrong-password/retrying-daemon-answers", Fixture, NULL,
              fixture_set_up_ews, test_wrong_password_retrying, fixture_tear_down);
  ADD ("/publish-sip-daemon/password/never-shown-nor-stored", test_password_never_shown);
  /* Last: a failure here stops the program (no --keep-going). */
  ADD ("/publish-sip-daemon/pidf/appointment-activity", test_appointment_activity);
#undef ADD

  return g_test_run ();
}
