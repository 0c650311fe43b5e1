/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The SIP presence publisher (daemon/publish/agl-publish-sip.c): the PIDF
 * document it builds, its settings, and PUBLISH against a real Kamailio
 * (tests/kamailio/) on loopback, whose SQLite database the test reads to
 * see the presentity the server stored.
 */
#include "config.h"

#include <signal.h>
#include <sys/prctl.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sqlite3.h>

#include "agl-error.h"
#include "agl-publish-sip.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

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

static guint16
pick_free_udp_port (GSocket **keep)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  if (keep != NULL)
    *keep = g_steal_pointer (&socket);
  return port;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
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
  char        *dir;
  char        *db_path;
  char        *log_path;
  guint16      port;
  char        *server;
  GSubprocess *kamailio;
  gboolean     exited;
  gboolean     withdrawn;
} Fixture;

static void
kamailio_exited_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Fixture *fixture = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  fixture->exited = TRUE;
}

static void
dump_log (Fixture *fixture)
{
  g_autofree char *log = NULL;

  if (fixture->log_path != NULL && g_file_get_contents (fixture->log_path, &log, NULL, NULL))
    g_printerr ("---- kamailio log ----\n%s---- end of kamailio log ----\n", log);
}

static void
create_database (Fixture *fixture)
{
  const char *sql_dir = g_getenv ("AGL_TEST_KAMAILIO_SQL");
  static const char *const files[] = { "standard-create.sql", "presence-create.sql" };
  g_autoptr(sqlite3) db = NULL;

  if (sql_dir == NULL)
    sql_dir = "/usr/share/kamailio/db_sqlite";

  g_assert_cmpint (sqlite3_open (fixture->db_path, &db), ==, SQLITE_OK);
  /* The test reads while Kamailio writes: with a write-ahead log, readers
   * never make Kamailio's writes fail with "database is locked". */
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), ==, SQLITE_OK);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (sql_dir, files[i], NULL);
      g_autofree char *sql = NULL;
      g_autoptr(GError) error = NULL;
      char *message = NULL;

      g_file_get_contents (path, &sql, NULL, &error);
      g_assert_no_error (error);
      if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
        g_error ("%s: %s", path, message);
    }
}

static gboolean
socket_readable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Sends OPTIONS until Kamailio answers: then it takes requests. */
static gboolean
kamailio_answers (Fixture *fixture)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (loopback, fixture->port);
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint16 port;
  g_autofree char *probe = NULL;

  port = pick_free_udp_port (&socket);
  probe = g_strdup_printf ("OPTIONS sip:probe@127.0.0.1:%u SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-probe;rport\r\n"
                           "Max-Forwards: 5\r\n"
                           "From: <sip:probe@127.0.0.1>;tag=probe\r\n"
                           "To: <sip:probe@127.0.0.1>\r\n"
                           "Call-ID: probe@127.0.0.1\r\n"
                           "CSeq: 1 OPTIONS\r\n"
                           "Content-Length: 0\r\n\r\n",
                           fixture->port, port);
  g_socket_set_timeout (socket, 0);

  while (g_get_monotonic_time () < deadline && !fixture->exited)
    {
      char answer[2048];
      gboolean timed_out = FALSE;
      gboolean readable = FALSE;
      g_autoptr(GSource) source = g_socket_create_source (socket, G_IO_IN, NULL);
      guint id;

      g_socket_send_to (socket, to, probe, strlen (probe), NULL, NULL);

      /* Wait for the answer or 100 ms, then ask again: UDP to a port
       * nobody reads yet is simply lost. */
      g_source_set_callback (source, G_SOURCE_FUNC (socket_readable_cb), &readable, NULL);
      g_source_attach (source, NULL);
      id = g_timeout_add (100, flag_cb, &timed_out);
      while (!readable && !timed_out && !fixture->exited)
        g_main_context_iteration (NULL, TRUE);
      g_source_destroy (source);
      if (!timed_out)
        g_source_remove (id);

      if (readable)
        {
          gssize n = g_socket_receive (socket, answer, sizeof answer - 1, NULL, NULL);

          if (n > 0)
            return TRUE;
        }
    }
  return FALSE;
}

/* Kamailio goes when the test does, even when an assertion aborts it
 * before the teardown. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kamailio = g_find_program_in_path ("kamailio");
  g_autofree char *run_dir = NULL;
  g_autofree char *pid_file = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *db_url = NULL;
  g_autofree char *cfg = NULL;
  const char *cfg_dir = g_getenv ("AGL_TEST_KAMAILIO_CFG_DIR");

  if (kamailio == NULL && g_file_test ("/usr/sbin/kamailio", G_FILE_TEST_IS_EXECUTABLE))
    kamailio = g_strdup ("/usr/sbin/kamailio");
  if (kamailio == NULL)
    {
      g_test_skip ("kamailio is not installed");
      return;
    }
  g_assert_nonnull (cfg_dir);
  cfg = g_build_filename (cfg_dir, "kamailio.cfg", NULL);

  fixture->dir = g_dir_make_tmp ("agl-kamailio-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->db_path = g_build_filename (fixture->dir, "presence.db", NULL);
  fixture->log_path = g_build_filename (fixture->dir, "kamailio.log", NULL);
  run_dir = g_build_filename (fixture->dir, "run", NULL);
  pid_file = g_build_filename (run_dir, "kamailio.pid", NULL);
  g_assert_cmpint (g_mkdir (run_dir, 0700), ==, 0);
  create_database (fixture);

  fixture->port = pick_free_udp_port (NULL);
  fixture->server = g_strdup_printf ("sip:127.0.0.1:%u", fixture->port);
  listen = g_strdup_printf ("udp:127.0.0.1:%u", fixture->port);
  /* "sqlite:///" then the path, which starts with another slash. */
  db_url = g_strdup_printf ("DBURL=\"sqlite:///%s\"", fixture->db_path);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, fixture->log_path);
  fixture->kamailio = g_subprocess_launcher_spawn (launcher, &error,
                                                   kamailio,
                                                   "-f", cfg,
                                                   "-DD", "-E",
                                                   "-l", listen,
                                                   "-A", db_url,
                                                   "-A", "AUTH_PASSWORD=\"" TEST_PASSWORD "\"",
                                                   "-Y", run_dir,
                                                   "-P", pid_file,
                                                   "-w", fixture->dir,
                                                   "-m", "32",
                                                   "-M", "4",
                                                   data != NULL ? "-A" : NULL,
                                                   data,
                                                   NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (fixture->kamailio, NULL, kamailio_exited_cb, fixture);

  if (!kamailio_answers (fixture))
    {
      dump_log (fixture);
      g_error ("kamailio did not start on %s", listen);
    }
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  gboolean timed_out = FALSE;
  guint id;

  /* Publishers are gone: let their stacks finish shutting down. */
  id = g_timeout_add (10000, flag_cb, &timed_out);
  while (agl_publish_sip_count_stacks () > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (agl_publish_sip_count_stacks (), ==, 0);

  if (fixture->kamailio != NULL)
    {
      if (!fixture->exited)
        {
          g_subprocess_send_signal (fixture->kamailio, SIGTERM);
          if (!run_until (&fixture->exited, 5000))
            {
              g_subprocess_force_exit (fixture->kamailio);
              run_until (&fixture->exited, 5000);
            }
        }
      if (g_test_failed ())
        dump_log (fixture);
      g_clear_object (&fixture->kamailio);
    }

  if (fixture->dir != NULL)
    remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->db_path);
  g_free (fixture->log_path);
  g_free (fixture->server);
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
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(sqlite3_stmt) statement = NULL;
  guint n = 0;

  g_assert_cmpint (sqlite3_open_v2 (fixture->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT body, expires FROM presentity"
                                       " WHERE username = ? AND domain = ? AND event = 'presence'"
                                       " ORDER BY received_time DESC, id DESC",
                                       -1, &statement, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (statement, 1, TEST_USER, -1, SQLITE_STATIC);
  sqlite3_bind_text (statement, 2, TEST_DOMAIN, -1, SQLITE_STATIC);
  if (body != NULL)
    *body = NULL;
  while (sqlite3_step (statement) == SQLITE_ROW)
    {
      if (n == 0 && body != NULL)
        *body = g_strndup ((const char *) sqlite3_column_blob (statement, 0),
                           sqlite3_column_bytes (statement, 0));
      if (n == 0 && expires != NULL)
        *expires = sqlite3_column_int64 (statement, 1);
      n++;
    }
  return n;
}

static void
delete_presentities (Fixture *fixture)
{
  g_autoptr(sqlite3) db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (fixture->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, "DELETE FROM presentity", NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s", message);
}

static guint
count_in_log (Fixture    *fixture,
              const char *needle)
{
  g_autofree char *log = NULL;
  guint n = 0;

  if (!g_file_get_contents (fixture->log_path, &log, NULL, NULL))
    return 0;
  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static gboolean
withdrawn (Fixture *fixture)
{
  gint64 expires = 0;

  return read_presentity (fixture, NULL, &expires) == 0
         || expires <= g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
check_withdrawn_cb (gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->withdrawn = withdrawn (fixture);
  return fixture->withdrawn ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Looks at the database every 20 ms until the presentity is gone or
 * expired, for at most two seconds. */
static gboolean
wait_for_withdrawal (Fixture *fixture)
{
  guint id;

  fixture->withdrawn = withdrawn (fixture);
  if (fixture->withdrawn)
    return TRUE;
  id = g_timeout_add (20, check_withdrawn_cb, fixture);
  if (!run_until (&fixture->withdrawn, 2000))
    {
      g_source_remove (id);
      return FALSE;
    }
  return TRUE;
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

  if (g_test_failed () || fixture->kamailio == NULL)
    return;

  publisher = make_publisher (fixture->server, TEST_PASSWORD);

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
  delete_presentities (fixture);
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

  if (g_test_failed () || fixture->kamailio == NULL)
    return;

  publisher = make_publisher (fixture->server, "wrong");
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_false (result.ok);
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_REMOTE);
  g_test_message ("%s", result.error->message);
  g_assert_nonnull (strstr (result.error->message, "refused the password for " TEST_USER));
  g_assert_nonnull (strstr (result.error->message, fixture->server));
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
  publisher = make_publisher (fixture->server, NULL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_false (result.ok);
  g_assert_error (result.error, AGL_ERROR, AGL_ERROR_REMOTE);
  g_assert_nonnull (strstr (result.error->message, "none is set"));
  deliver (publisher, &busy, &result, 5000);
  g_assert_nonnull (strstr (result.error->message, "none is set"));

  result_clear (&result);
  test_publication_clear (&busy);
}

typedef struct {
  Fixture    *fixture;
  const char *needle;
  guint       count;
  gboolean    found;
} LogWait;

static gboolean
check_log_cb (gpointer user_data)
{
  LogWait *wait = user_data;

  wait->found = count_in_log (wait->fixture, wait->needle) >= wait->count;
  return wait->found ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* Looks at Kamailio's log every 20 ms until @needle is in it @count times. */
static gboolean
wait_for_log (Fixture    *fixture,
              const char *needle,
              guint       count,
              guint       timeout_ms)
{
  LogWait wait = { fixture, needle, count, FALSE };
  guint id = g_timeout_add (20, check_log_cb, &wait);

  if (!run_until (&wait.found, timeout_ms))
    {
      g_source_remove (id);
      return FALSE;
    }
  return TRUE;
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

  if (g_test_failed () || fixture->kamailio == NULL)
    return;

  /* The server grants 4 seconds of the 600 asked for: the publisher
   * renews the publication after 2, with no body and SIP-If-Match. */
  publisher = make_publisher (fixture->server, TEST_PASSWORD);
  test_publication_init (&busy, AGL_PRESENCE_BUSY, AGL_PHONE_ACTION_DIVERT, "Budget review", TEST_UNTIL);
  deliver (publisher, &busy, &result, 5000);
  g_assert_no_error (result.error);
  g_assert_cmpuint (read_presentity (fixture, NULL, &expires), ==, 1);
  g_assert_cmpint (expires, <=, g_get_real_time () / G_USEC_PER_SEC + 4);

  /* The configuration's xlog line of a refresh. */
  g_assert_true (wait_for_log (fixture, "expires 600 body 0 bytes if-match a.", 1, 6000));

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

  if (g_test_failed () || fixture->kamailio == NULL)
    return;

  /* Cancelled before the main loop runs: the delivery says so at once;
   * the PUBLISH still goes. */
  publisher = make_publisher (fixture->server, TEST_PASSWORD);
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
test_nothing_listening (void)
{
  g_autoptr(AglPublisher) publisher = NULL;
  g_autofree char *server = g_strdup_printf ("sip:127.0.0.1:%u", pick_free_udp_port (NULL));
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
  server = g_strdup_printf ("sip:127.0.0.1:%u", pick_free_udp_port (&silent));
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
