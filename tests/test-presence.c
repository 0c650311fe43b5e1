/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Presence on the bus, end to end: the real agendalined on a private bus
 * with an account whose server cannot be reached (presence works from the
 * local agenda alone; unknown out-of-office settings count as off).
 * GetStatus, GetSchedule, GetRules/SetRules, SetOverride/ClearOverride and
 * StatusChanged at a boundary, to the second.
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agl-sync-harness.h"

#define ACCOUNT "work"
/* Nothing listens on the discard port: every connection is refused. */
#define UNREACHABLE_URL "https://127.0.0.1:9/EWS/Exchange.asmx"

/* 2027-03-01T00:00:00Z, a Monday well ahead. */
#define DAY0 G_GINT64_CONSTANT (1803859200)
#define HOUR 3600

typedef struct {
  AglSyncHarness h;
  guint          signal_id;
  GPtrArray     *signals; /* SignalSeen */
} Fixture;

typedef struct {
  gint64      received; /* g_get_real_time() on arrival */
  JsonObject *status;
} SignalSeen;

static void
signal_seen_free (SignalSeen *seen)
{
  json_object_unref (seen->status);
  g_free (seen);
}

static void
status_changed_cb (GDBusConnection *connection,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *parameters,
                   gpointer         user_data)
{
  Fixture *f = user_data;
  const char *name, *json;
  SignalSeen *seen = g_new0 (SignalSeen, 1);

  seen->received = g_get_real_time ();
  g_variant_get (parameters, "(&s&s)", &name, &json);
  g_assert_cmpstr (name, ==, ACCOUNT);
  seen->status = agl_sync_harness_parse_object (json);
  g_ptr_array_add (f->signals, seen);
}

static GVariant *
call (Fixture            *f,
      const char         *method,
      GVariant           *parameters,
      const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = agl_sync_harness_call_daemon (&f->h, method, parameters, reply_type, &error);

  if (error != NULL)
    agl_sync_harness_dump_daemon_log (&f->h);
  g_assert_no_error (error);
  return reply;
}

/* Calls @method expecting the daemon's error @code; returns its message. */
static char *
call_fails (Fixture    *f,
            const char *method,
            GVariant   *parameters,
            const char *code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = agl_sync_harness_call_daemon (&f->h, method, parameters, NULL, &error);
  g_autofree char *remote = NULL;
  g_autofree char *expected = g_strconcat ("io.github.agendaline.Error.", code, NULL);

  g_assert_null (reply);
  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (remote, expected) != 0)
    g_error ("%s: expected %s, got %s: %s", method, expected, remote, error->message);
  g_dbus_error_strip_remote_error (error);
  return g_strdup (error->message);
}

/* A Busy appointment in the account's agenda, through CreateItem. */
static gint64
create_appointment (Fixture    *f,
                    const char *uid,
                    const char *subject,
                    gint64      start,
                    gint64      end)
{
  g_autofree char *dtstart = agl_sync_harness_ical_time (start);
  g_autofree char *dtend = agl_sync_harness_ical_time (end);
  g_autofree char *ical = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 id;

  ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//presence test//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n"
                          "TRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, dtstart, dtend, subject);
  reply = call (f, "CreateItem", g_variant_new ("(ss)", ACCOUNT, ical), G_VARIANT_TYPE ("(x)"));
  g_variant_get (reply, "(x)", &id);
  return id;
}

static JsonObject *
get_status (Fixture    *f,
            const char *at)
{
  g_autoptr(GVariant) reply =
    call (f, "GetStatus", g_variant_new ("(ss)", ACCOUNT, at), G_VARIANT_TYPE ("(s)"));
  const char *json;

  g_variant_get (reply, "(&s)", &json);
  g_test_message ("GetStatus %s: %s", at, json);
  return agl_sync_harness_parse_object (json);
}

static const char *
status_action (JsonObject *status)
{
  return json_object_get_string_member (json_object_get_object_member (status, "phone"), "action");
}

/* The "because" line of @kind, or NULL. */
static JsonObject *
find_because (JsonObject *status,
              const char *kind)
{
  JsonArray *because = json_object_get_array_member (status, "because");

  for (guint i = 0; i < json_array_get_length (because); i++)
    {
      JsonObject *line = json_array_get_object_element (because, i);

      if (g_strcmp0 (json_object_get_string_member (line, "kind"), kind) == 0)
        return line;
    }
  return NULL;
}

static void
add_account (Fixture    *f,
             GVariant   *settings)
{
  g_autoptr(GVariant) reply =
    call (f, "AddAccount", g_variant_new ("(s@a{sv})", ACCOUNT, settings), NULL);
}

static void
start_daemon (Fixture *f)
{
  /* The daemon warns that no Secret Service runs on the test bus. */
  static const char * const child_env[] = { "G_DEBUG=gc-friendly", NULL };

  f->h.timeout_seconds = 30;
  f->h.child_env = child_env;
  f->h.death_signal = SIGTERM;
  agl_sync_harness_init (&f->h, "agl-presence-XXXXXX");
  agl_sync_harness_start_daemon (&f->h, "agendalined.log", "all");
  f->signals = g_ptr_array_new_with_free_func ((GDestroyNotify) signal_seen_free);
  f->signal_id = g_dbus_connection_signal_subscribe (f->h.connection, NULL, AGL_BUS_NAME,
                                                     "StatusChanged", AGL_OBJECT_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE,
                                                     status_changed_cb, f, NULL);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  GVariantBuilder settings;

  start_daemon (f);
  g_variant_builder_init (&settings, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&settings, "{sv}", "email", g_variant_new_string ("alice@example.test"));
  g_variant_builder_add (&settings, "{sv}", "url", g_variant_new_string (UNREACHABLE_URL));
  g_variant_builder_add (&settings, "{sv}", "password", g_variant_new_string ("secret"));
  add_account (f, g_variant_builder_end (&settings));
}

/* The test Exchange server with one mailbox whose automatic replies are
 * on, its reply in HTML as Exchange keeps it. */
static void
fixture_set_up_oof (Fixture       *f,
                    gconstpointer  data)
{
  static const char seed_json[] =
    "{\"mailboxes\": [{\"address\": \"alice@example.org\", \"user\": \"alice\", "
    "\"domain\": \"EXAMPLE\", \"password\": \"Agendaline-test-1\", \"display_name\": \"Alice\", "
    "\"oof\": {\"state\": \"Enabled\", \"audience\": \"All\", "
    "\"internal_reply\": \"<html><body><p>On holiday &amp; back\\non Monday.</p></body></html>\", "
    "\"external_reply\": \"Away.\"}, \"items\": []}]}";
  g_autofree char *seed = NULL;
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autoptr(GError) error = NULL;
  GVariantBuilder settings;

  start_daemon (f);
  seed = g_build_filename (f->h.dir, "seed.json", NULL);
  g_file_set_contents (seed, seed_json, -1, &error);
  g_assert_no_error (error);
  agl_sync_harness_start_server (&f->h, seed);

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
  if (g_test_failed ())
    agl_sync_harness_dump_daemon_log (&f->h);
  g_dbus_connection_signal_unsubscribe (f->h.connection, f->signal_id);
  g_clear_pointer (&f->signals, g_ptr_array_unref);
  agl_sync_harness_clear (&f->h, !g_test_failed ());
}

/* Inside a Busy appointment: busy, diverted until its end, because of it;
 * after it: available. */
static void
test_status_busy_appointment (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(JsonObject) inside = NULL;
  g_autoptr(JsonObject) outside = NULL;
  g_autofree char *at = agl_sync_harness_iso (DAY0 + 9 * HOUR + 1800);
  g_autofree char *after = agl_sync_harness_iso (DAY0 + 10 * HOUR + 1800);
  g_autofree char *end = agl_sync_harness_iso (DAY0 + 10 * HOUR);
  JsonObject *because;

  create_appointment (f, "review@presence.test", "Project review", DAY0 + 9 * HOUR, DAY0 + 10 * HOUR);

  inside = get_status (f, at);
  g_assert_cmpstr (json_object_get_string_member (inside, "account"), ==, ACCOUNT);
  g_assert_cmpstr (json_object_get_string_member (inside, "at"), ==, at);
  g_assert_cmpstr (json_object_get_string_member (inside, "presence"), ==, "busy");
  g_assert_cmpstr (status_action (inside), ==, "divert");
  g_assert_cmpstr (json_object_get_string_member (inside, "until"), ==, end);
  because = find_because (inside, "appointment");
  g_assert_nonnull (because);
  g_assert_cmpstr (json_object_get_string_member (because, "uid"), ==, "review@presence.test");
  g_assert_cmpstr (json_object_get_string_member (because, "subject"), ==, "Project review");
  g_assert_cmpstr (json_object_get_string_member (because, "free_busy"), ==, "Busy");

  outside = get_status (f, after);
  g_assert_cmpstr (json_object_get_string_member (outside, "presence"), ==, "available");
  g_assert_cmpstr (status_action (outside), ==, "none");
  g_assert_null (find_because (outside, "appointment"));
}

static void
test_status_bad_arguments (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *bad_at = call_fails (f, "GetStatus", g_variant_new ("(ss)", ACCOUNT, "yesterday"),
                                        "InvalidArgument");
  g_autofree char *unknown = call_fails (f, "GetStatus", g_variant_new ("(ss)", "nobody", ""),
                                         "NotFound");

  g_assert_nonnull (strstr (bad_at, "“at”"));
  g_assert_nonnull (strstr (unknown, "nobody"));
}

/* A day with two appointments: the status at the start of the day, then
 * exactly the four changes. */
static void
test_schedule_two_appointments (Fixture       *f,
                                gconstpointer  data)
{
  static const struct {
    gint64      at;
    const char *presence;
    const char *action;
  } expected[] = {
    { DAY0, "available", "none" },
    { DAY0 + 9 * HOUR, "busy", "divert" },
    { DAY0 + 10 * HOUR, "available", "none" },
    { DAY0 + 13 * HOUR, "busy", "divert" },
    { DAY0 + 14 * HOUR, "available", "none" },
  };
  g_autofree char *from = agl_sync_harness_iso (DAY0);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *zero = NULL, *many = NULL, *bad_from = NULL;
  const char *json;
  JsonArray *schedule;

  create_appointment (f, "review@presence.test", "Project review", DAY0 + 9 * HOUR, DAY0 + 10 * HOUR);
  create_appointment (f, "lunch@presence.test", "Customer lunch", DAY0 + 13 * HOUR, DAY0 + 14 * HOUR);

  reply = call (f, "GetSchedule", g_variant_new ("(ssu)", ACCOUNT, from, 1), G_VARIANT_TYPE ("(s)"));
  g_variant_get (reply, "(&s)", &json);
  g_test_message ("GetSchedule: %s", json);
  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  schedule = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (schedule), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      JsonObject *status = json_array_get_object_element (schedule, i);
      g_autofree char *at = agl_sync_harness_iso (expected[i].at);

      g_assert_cmpstr (json_object_get_string_member (status, "at"), ==, at);
      g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, expected[i].presence);
      g_assert_cmpstr (status_action (status), ==, expected[i].action);
    }

  zero = call_fails (f, "GetSchedule", g_variant_new ("(ssu)", ACCOUNT, from, 0), "InvalidArgument");
  many = call_fails (f, "GetSchedule", g_variant_new ("(ssu)", ACCOUNT, from, 32), "InvalidArgument");
  bad_from = call_fails (f, "GetSchedule", g_variant_new ("(ssu)", ACCOUNT, "13:00 tomorrow", 1),
                         "InvalidArgument");
  g_assert_nonnull (strstr (zero, "“days”"));
  g_assert_nonnull (strstr (many, "“days”"));
  g_assert_nonnull (strstr (bad_from, "“from”"));
}

static char *
get_rules (Fixture *f)
{
  g_autoptr(GVariant) reply =
    call (f, "GetRules", g_variant_new ("(s)", ACCOUNT), G_VARIANT_TYPE ("(s)"));
  char *json;

  g_variant_get (reply, "(s)", &json);
  return json;
}

/* Bad rules are refused naming the key, and the old rules stay; good ones
 * apply at once. */
static void
test_rules_refused_then_set (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *before = get_rules (f);
  g_autofree char *after_bad = NULL;
  g_autofree char *message = NULL;
  g_autofree char *at = agl_sync_harness_iso (DAY0 + 9 * HOUR + 1800);
  g_autoptr(JsonObject) rules = NULL;
  g_autoptr(JsonObject) status = NULL;
  g_autoptr(GVariant) reply = NULL;

  create_appointment (f, "review@presence.test", "Project review", DAY0 + 9 * HOUR, DAY0 + 10 * HOUR);

  rules = agl_sync_harness_parse_object (before);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (rules, "actions"), "Busy"),
                   ==, "divert");

  message = call_fails (f, "SetRules",
                        g_variant_new ("(ss)", ACCOUNT, "{\"actions\": {\"Busy\": \"dnd\"}, \"forward_internal\": \"yes\"}"),
                        "InvalidArgument");
  g_test_message ("SetRules refused: %s", message);
  g_assert_nonnull (strstr (message, "forward_internal"));
  after_bad = get_rules (f);
  g_assert_cmpstr (after_bad, ==, before);
  g_clear_pointer (&status, json_object_unref);
  status = get_status (f, at);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "busy");

  reply = call (f, "SetRules", g_variant_new ("(ss)", ACCOUNT, "{\"actions\": {\"Busy\": \"dnd\"}}"), NULL);
  g_clear_pointer (&status, json_object_unref);
  status = get_status (f, at);
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "dnd");
  g_assert_cmpstr (status_action (status), ==, "dnd");
  g_clear_pointer (&rules, json_object_unref);
  {
    g_autofree char *now = get_rules (f);

    rules = agl_sync_harness_parse_object (now);
  }
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (rules, "actions"), "Busy"),
                   ==, "dnd");
  g_free (call_fails (f, "SetRules", g_variant_new ("(ss)", "nobody", "{}"), "NotFound"));
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits for a StatusChanged with @presence after the first @from signals;
 * returns its index. */
static guint
wait_for_presence (Fixture    *f,
                   guint       from,
                   const char *presence,
                   guint       seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timeout_cb, &timed_out);

  for (;;)
    {
      for (guint i = from; i < f->signals->len; i++)
        {
          SignalSeen *seen = g_ptr_array_index (f->signals, i);

          if (g_strcmp0 (json_object_get_string_member (seen->status, "presence"), presence) == 0)
            {
              g_source_remove (id);
              return i;
            }
        }
      if (timed_out)
        g_error ("no StatusChanged with presence %s within %u s", presence, seconds);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* An override holds until the next start of an appointment, which
 * SetOverride returns; ClearOverride ends it at once. */
static void
test_override (Fixture       *f,
               gconstpointer  data)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 start = now + 2 * HOUR;
  g_autofree char *start_text = agl_sync_harness_iso (start);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(JsonObject) status = NULL;
  g_autofree char *bad_presence = NULL, *bad_action = NULL;
  const char *until;
  JsonObject *override;

  create_appointment (f, "later@presence.test", "Later", start, start + HOUR);

  status = get_status (f, "");
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "available");

  reply = call (f, "SetOverride", g_variant_new ("(ssss)", ACCOUNT, "away", "forward", "At the dentist"),
                G_VARIANT_TYPE ("(s)"));
  g_variant_get (reply, "(&s)", &until);
  g_assert_cmpstr (until, ==, start_text);

  g_clear_pointer (&status, json_object_unref);
  status = get_status (f, "");
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "away");
  g_assert_cmpstr (status_action (status), ==, "forward");
  g_assert_cmpstr (json_object_get_string_member (status, "text"), ==, "At the dentist");
  g_assert_cmpstr (json_object_get_string_member (status, "until"), ==, start_text);
  override = find_because (status, "override");
  g_assert_nonnull (override);

  /* After the boundary the calendar rules apply again. */
  {
    g_autofree char *inside = agl_sync_harness_iso (start + 60);
    g_autoptr(JsonObject) later = get_status (f, inside);

    g_assert_cmpstr (json_object_get_string_member (later, "presence"), ==, "busy");
  }

  /* The current status changed: the bus hears of it. */
  wait_for_presence (f, 0, "away", 5);

  reply = (g_variant_unref (reply), call (f, "ClearOverride", g_variant_new ("(s)", ACCOUNT), NULL));
  g_clear_pointer (&status, json_object_unref);
  status = get_status (f, "");
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "available");
  g_assert_null (find_because (status, "override"));

  bad_presence = call_fails (f, "SetOverride", g_variant_new ("(ssss)", ACCOUNT, "asleep", "", ""),
                             "InvalidArgument");
  bad_action = call_fails (f, "SetOverride", g_variant_new ("(ssss)", ACCOUNT, "busy", "keep", ""),
                           "InvalidArgument");
  g_assert_nonnull (strstr (bad_presence, "“presence”"));
  g_assert_nonnull (strstr (bad_action, "“action”"));
  g_free (call_fails (f, "ClearOverride", g_variant_new ("(s)", "nobody"), "NotFound"));
}

/* StatusChanged comes within a second of the start and of the end of an
 * appointment, never before. */
static void
test_signal_at_boundaries (Fixture       *f,
                           gconstpointer  data)
{
  gint64 start = g_get_real_time () / G_USEC_PER_SEC + 3;
  gint64 end = start + 2;
  g_autofree char *start_text = agl_sync_harness_iso (start);
  g_autofree char *end_text = agl_sync_harness_iso (end);
  SignalSeen *busy, *available;
  guint i;

  create_appointment (f, "soon@presence.test", "Stand-up", start, end);

  i = wait_for_presence (f, 0, "busy", 10);
  busy = g_ptr_array_index (f->signals, i);
  g_test_message ("busy at %" G_GINT64_FORMAT " µs after the start", busy->received - start * G_USEC_PER_SEC);
  g_assert_cmpint (busy->received, >=, start * G_USEC_PER_SEC);
  g_assert_cmpint (busy->received, <, (start + 1) * G_USEC_PER_SEC);
  g_assert_cmpstr (json_object_get_string_member (busy->status, "at"), ==, start_text);
  g_assert_cmpstr (json_object_get_string_member (busy->status, "until"), ==, end_text);

  i = wait_for_presence (f, i + 1, "available", 10);
  available = g_ptr_array_index (f->signals, i);
  g_test_message ("available at %" G_GINT64_FORMAT " µs after the end",
                  available->received - end * G_USEC_PER_SEC);
  g_assert_cmpint (available->received, >=, end * G_USEC_PER_SEC);
  g_assert_cmpint (available->received, <, (end + 1) * G_USEC_PER_SEC);
  g_assert_cmpstr (json_object_get_string_member (available->status, "at"), ==, end_text);
}

/* Once the account has synced, its automatic replies are read: while on,
 * presence is out-of-office and the internal reply, as text, is the
 * status text. */
static void
test_oof_from_server (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(JsonObject) status = NULL;
  guint i;

  i = wait_for_presence (f, 0, "out-of-office", 30);
  g_assert_cmpstr (json_object_get_string_member (((SignalSeen *) g_ptr_array_index (f->signals, i))->status,
                                                  "text"), ==, "On holiday & back on Monday.");
  status = get_status (f, "");
  g_assert_cmpstr (json_object_get_string_member (status, "presence"), ==, "out-of-office");
  g_assert_cmpstr (status_action (status), ==, "divert");
  g_assert_cmpstr (json_object_get_string_member (status, "text"), ==, "On holiday & back on Monday.");
  g_assert_nonnull (find_because (status, "oof"));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/presence/status/busy-appointment", test_status_busy_appointment);
  ADD ("/presence/status/bad-arguments", test_status_bad_arguments);
  ADD ("/presence/schedule/two-appointments", test_schedule_two_appointments);
  ADD ("/presence/rules/refused-old-stay-then-set", test_rules_refused_then_set);
  ADD ("/presence/override/until-next-boundary-and-clear", test_override);
  ADD ("/presence/signal/within-a-second-of-boundaries", test_signal_at_boundaries);
  g_test_add ("/presence/oof/read-from-server", Fixture, NULL, fixture_set_up_oof,
              test_oof_from_server, fixture_tear_down);
#undef ADD

  return g_test_run ();
}
