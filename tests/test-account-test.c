/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * End to end: "agendalinectl account test" through the real agendalined on
 * a private session bus (GTestDBus) against the test Exchange server
 * (tests/ews-server, its demo mailboxes, NTLM, TLS with the test CA).
 *
 * AGL_TEST_DAEMON, AGL_TEST_CTL and AGL_TEST_EWS_SERVER name the binaries,
 * AGL_EWS_SERVER_FIXTURES the server's certificates and seed, AGL_EWS_KIT
 * the schemas it validates against.  Every wait is on the main loop for the
 * event itself, with a timeout.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "agl-sync-harness.h"

#define WAIT_TIMEOUT_SECONDS 30

typedef struct {
  AglSyncHarness h;
} Fixture;

/* What the daemon logged, as TAP comments. */
static void
dump_daemon_log (Fixture *f)
{
  g_autofree char *log = NULL;

  if (g_file_get_contents (f->h.daemon_log, &log, NULL, NULL))
    g_test_message ("agendalined:\n%s", log);
}

static AglCtlResult *
run_ctl (Fixture    *f,
         const char *input,
         ...) G_GNUC_NULL_TERMINATED;

static AglCtlResult *
run_ctl (Fixture    *f,
         const char *input,
         ...)
{
  AglCtlResult *result;
  va_list ap;

  va_start (ap, input);
  result = agl_sync_harness_run_ctl_valist (&f->h, input, ap);
  va_end (ap);
  g_test_message ("%s -> %d\nstdout: %s\nstderr: %s", result->command, result->status,
                  result->out, result->err);
  if (result->status != 0)
    dump_daemon_log (f);
  return result;
}

/* Alice of the demo seed, NTLM as EXAMPLE\alice, trusting the test CA. */
static void
add_alice (Fixture    *f,
           const char *password)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autofree char *input = g_strconcat (password, "\n", NULL);
  g_autoptr(AglCtlResult) result = NULL;

  result = run_ctl (f, input, "account", "add", "work", "--email", "alice@example.org",
                    "--url", f->h.url, "--auth", "ntlm", "--user", "alice", "--domain", "EXAMPLE",
                    "--ca-file", ca, "--password-stdin", NULL);
  g_assert_cmpint (result->status, ==, 0);
}

/* An account of the demo seed's service account (NTLM as
 * EXAMPLE\svc-agendaline) acting on @mailbox through impersonation. */
static void
add_service_account (Fixture    *f,
                     const char *name,
                     const char *mailbox)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autoptr(AglCtlResult) result = NULL;

  result = run_ctl (f, "Agendaline-service-1\n", "account", "add", name, "--email", mailbox,
                    "--url", f->h.url, "--auth", "ntlm", "--user", "svc-agendaline",
                    "--domain", "EXAMPLE", "--impersonate", "--ca-file", ca, "--password-stdin",
                    NULL);
  g_assert_cmpint (result->status, ==, 0);
}

static JsonObject *
list_account (Fixture    *f,
              JsonParser *parser,
              const char *name)
{
  g_autoptr(AglCtlResult) result = run_ctl (f, NULL, "account", "list", "--json", NULL);
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  g_assert_cmpint (result->status, ==, 0);
  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *object = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (object, "name"), name) == 0)
        return object;
    }
  g_error ("account list has no account %s", name);
  return NULL;
}

/* The RequestServerVersion of each request the daemon sent since @offset
 * bytes into its log, in order. */
static GStrv
requested_versions (Fixture *f,
                    gsize    offset)
{
  g_autofree char *log = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (f->h.daemon_log, &log, &length, NULL));
  g_assert_cmpuint (offset, <=, length);
  lines = g_strsplit (log + offset, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *sending = strstr (lines[i], "Sending GetFolder as ");
      g_auto(GStrv) words = NULL;

      if (sending == NULL)
        continue;
      words = g_strsplit (sending + strlen ("Sending GetFolder as "), " ", 2);
      g_strv_builder_add (builder, words[0]);
    }
  return g_strv_builder_end (builder);
}

static gsize
daemon_log_length (Fixture *f)
{
  g_autofree char *log = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (f->h.daemon_log, &log, &length, NULL));
  return length;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  static const char * const child_env[] = { "SOUP_NTLM_AUTH_DEBUG=", "G_DEBUG=gc-friendly", NULL };
  g_autofree char *seed = agl_sync_harness_server_fixture ("demo-seed.json");

  f->h.timeout_seconds = WAIT_TIMEOUT_SECONDS;
  f->h.child_env = child_env;
  agl_sync_harness_init (&f->h, "agl-account-test-XXXXXX");
  agl_sync_harness_start_server (&f->h, seed);
  /* The EWS client logs the RequestServerVersion of every request it
   * sends; the test server keeps no log of its own. */
  agl_sync_harness_start_daemon (&f->h, "agendalined.log", "agendalined-ews");
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  agl_sync_harness_clear (&f->h, TRUE);
}

static void
test_connected (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AglCtlResult) result = NULL;
  g_autofree char *expected = NULL;

  add_alice (f, "Agendaline-demo-1");
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 0);
  expected = g_strdup_printf ("Connected to Microsoft Exchange (v15.1.2507.39) at %s as "
                              "alice@example.org; impersonation not used.\n", f->h.url);
  g_assert_cmpstr (result->out, ==, expected);
  g_assert_cmpstr (result->err, ==, "");
}

static void
test_json (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(AglCtlResult) result = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  add_alice (f, "Agendaline-demo-1");
  result = run_ctl (f, NULL, "account", "test", "work", "--json", NULL);
  g_assert_cmpint (result->status, ==, 0);
  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "url"), ==, f->h.url);
  g_assert_cmpstr (json_object_get_string_member (object, "server_version"), ==, "15.1.2507.39");
  g_assert_cmpstr (json_object_get_string_member (object, "product"), ==, "Microsoft Exchange");
  g_assert_cmpstr (json_object_get_string_member (object, "mailbox"), ==, "alice@example.org");
  g_assert_cmpstr (json_object_get_string_member (object, "impersonation"), ==, "not used");
  g_assert_cmpstr (json_object_get_string_member (object, "calendar_folder"), !=, "");
}

static void
test_wrong_password (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(AglCtlResult) result = NULL;

  add_alice (f, "not-the-password");
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_nonnull (strstr (result->err, "EXAMPLE\\alice"));
  g_assert_nonnull (strstr (result->err, "401"));
  g_assert_null (strstr (result->err, "not-the-password"));
}

static void
test_untrusted_certificate (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(AglCtlResult) update = NULL;
  g_autoptr(AglCtlResult) result = NULL;

  add_alice (f, "Agendaline-demo-1");
  update = run_ctl (f, NULL, "account", "update", "work", "--ca-file", "", NULL);
  g_assert_cmpint (update->status, ==, 0);
  result = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (result->status, ==, 1);
  g_assert_nonnull (strstr (result->err, "TLS certificate"));
  g_assert_nonnull (strstr (result->err, "not signed by a trusted certificate authority"));
}

static void
test_impersonation_works (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AglCtlResult) result = NULL;
  g_autoptr(AglCtlResult) json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  JsonObject *object;

  add_service_account (f, "alice-via-service", "alice@example.org");
  result = run_ctl (f, NULL, "account", "test", "alice-via-service", NULL);
  g_assert_cmpint (result->status, ==, 0);
  expected = g_strdup_printf ("Connected to Microsoft Exchange (v15.1.2507.39) at %s as "
                              "alice@example.org; impersonation works.\n", f->h.url);
  g_assert_cmpstr (result->out, ==, expected);
  g_assert_cmpstr (result->err, ==, "");

  json = run_ctl (f, NULL, "account", "test", "alice-via-service", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  json_parser_load_from_data (parser, json->out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "mailbox"), ==, "alice@example.org");
  g_assert_cmpstr (json_object_get_string_member (object, "impersonation"), ==, "works");
}

/* The server's refusal is the whole answer, in one line that names the
 * EWS code, and it is not mistaken for "works". */
static void
assert_impersonation_refused (Fixture    *f,
                              const char *name,
                              const char *code)
{
  g_autoptr(AglCtlResult) result = run_ctl (f, NULL, "account", "test", name, NULL);

  g_assert_cmpint (result->status, ==, 1);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "agendalinectl: "));
  g_assert_nonnull (strstr (result->err, code));
  /* One line: its only newline ends it. */
  g_assert_true (strchr (result->err, '\n') == result->err + strlen (result->err) - 1);
  g_assert_null (strstr (result->err, "Agendaline-service-1"));
}

static void
test_impersonation_denied (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autoptr(AglCtlResult) add = NULL;

  /* Alice may not act for Bob: only the service account has the right. */
  add = run_ctl (f, "Agendaline-demo-1\n", "account", "add", "bob-via-alice",
                 "--email", "bob@example.org", "--url", f->h.url, "--auth", "ntlm",
                 "--user", "alice", "--domain", "EXAMPLE", "--impersonate", "--ca-file", ca,
                 "--password-stdin", NULL);
  g_assert_cmpint (add->status, ==, 0);
  assert_impersonation_refused (f, "bob-via-alice", "ErrorImpersonateUserDenied");

  add_service_account (f, "nobody-via-service", "nobody@example.org");
  assert_impersonation_refused (f, "nobody-via-service", "ErrorNonExistentMailbox");
}

/* "auto" learns the server's version from the first answer; the account
 * remembers it, and the next connection asks for it at once. */
static void
test_server_version_remembered (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(AglCtlResult) first = NULL;
  g_autoptr(AglCtlResult) second = NULL;
  g_autoptr(AglCtlResult) update = NULL;
  g_autoptr(AglCtlResult) table = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) versions = NULL;
  JsonObject *object;
  gsize offset;

  add_alice (f, "Agendaline-demo-1");
  object = list_account (f, parser, "work");
  g_assert_true (json_object_get_null_member (object, "server_build"));
  g_assert_true (json_object_get_null_member (object, "detected_server_version"));

  offset = daemon_log_length (f);
  first = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (first->status, ==, 0);
  versions = requested_versions (f, offset);
  g_assert_cmpuint (g_strv_length (versions), >=, 1);
  g_assert_cmpstr (versions[0], ==, "Exchange2007_SP1");
  g_clear_pointer (&versions, g_strfreev);

  object = list_account (f, parser, "work");
  g_assert_cmpstr (json_object_get_string_member (object, "server_build"), ==, "15.1.2507.39");
  g_assert_cmpstr (json_object_get_string_member (object, "detected_server_version"), ==,
                   "Exchange2016");
  g_assert_cmpstr (json_object_get_string_member (object, "server_version"), ==, "auto");
  table = run_ctl (f, NULL, "account", "list", NULL);
  g_assert_cmpint (table->status, ==, 0);
  g_assert_nonnull (strstr (table->out, "15.1.2507.39 (Exchange2016)"));

  offset = daemon_log_length (f);
  second = run_ctl (f, NULL, "account", "test", "work", NULL);
  g_assert_cmpint (second->status, ==, 0);
  versions = requested_versions (f, offset);
  g_assert_cmpuint (g_strv_length (versions), >=, 1);
  for (guint i = 0; versions[i] != NULL; i++)
    g_assert_cmpstr (versions[i], ==, "Exchange2016");
  g_clear_pointer (&versions, g_strfreev);

  /* Another user may sign in to another server: forgotten. */
  update = run_ctl (f, NULL, "account", "update", "work", "--user", "Alice", NULL);
  g_assert_cmpint (update->status, ==, 0);
  object = list_account (f, parser, "work");
  g_assert_true (json_object_get_null_member (object, "server_build"));
  g_assert_true (json_object_get_null_member (object, "detected_server_version"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/account-test/connected", Fixture, NULL, setup, test_connected, teardown);
  g_test_add ("/account-test/json", Fixture, NULL, setup, test_json, teardown);
  g_test_add ("/account-test/wrong-password-names-user", Fixture, NULL, setup,
              test_wrong_password, teardown);
  g_test_add ("/account-test/untrusted-certificate", Fixture, NULL, setup,
              test_untrusted_certificate, teardown);
  g_test_add ("/account-test/impersonation-works", Fixture, NULL, setup,
              test_impersonation_works, teardown);
  g_test_add ("/account-test/impersonation-denied-one-line", Fixture, NULL, setup,
              test_impersonation_denied, teardown);
  g_test_add ("/account-test/server-version-remembered", Fixture, NULL, setup,
              test_server_version_remembered, teardown);

  return g_test_run ();
}
