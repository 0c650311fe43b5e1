/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sync scenario matrix, end to end: the real agendalined on a private
 * session bus (GTestDBus), driven as a user drives it (agendalinectl, and
 * D-Bus calls for the cheap listings polled while waiting), against the test
 * Exchange server (tests/ews-server) whose control endpoint acts "as
 * Outlook" and says what the mailbox holds (GET /control/mailbox/ADDR/items).
 *
 * Each case runs in a child process of its own (g_test_trap_subprocess)
 * with a fresh server, daemon and account, so that one failing case does
 * not hide the others; the server and the daemon die with the child.
 *
 * Waiting: the observable state is polled every POLL_MS on the main loop
 * until a deadline (PROPAGATION_DEADLINE_S, for reporting a failure); the
 * issue wants a change to arrive within PROPAGATION_LIMIT_S on the test
 * server, by notifications and without a manual sync, so the time each
 * propagation took is printed as a TAP comment and a case whose changes
 * arrived late fails at its end (after its other checks have run).
 *
 * AGL_TEST_DAEMON, AGL_TEST_CTL and AGL_TEST_EWS_SERVER name the binaries,
 * AGL_EWS_SERVER_FIXTURES the server's certificates, AGL_EWS_KIT the
 * schemas it validates against.
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "agl-sync-harness.h"

#define START_TIMEOUT_SECONDS    30
#define POLL_MS                  50
#define PROPAGATION_DEADLINE_S   10.0
#define PROPAGATION_LIMIT_S      2.0
/* A failing request is retried by the EWS client (6 attempts, growing
 * delays) before the engine goes offline and retries in turn. */
#define FAULT_DEADLINE_S         90.0
#define LARGE_MAILBOX_ITEMS      10000
#define LARGE_SYNC_DEADLINE_S    240.0

#define ACCOUNT  "work"
#define ALICE    "alice@example.org"
#define BOB      "bob@example.org"
#define ALICE_PASSWORD "Agendaline-test-1"
#define BOB_PASSWORD   "Agendaline-test-2"
#define SERVICE_PASSWORD "Agendaline-service-1"
#define TYPES_NS "http://schemas.microsoft.com/exchange/services/2006/types"

typedef struct {
  AglSyncHarness   h;
  GString         *late;        /* propagations slower than the limit */
} Fixture;

/* An appointment of the local agenda, as ListItems gives it. */
typedef struct {
  gint64   id;
  char    *uid;
  char    *summary;
  char    *start;
  char    *end;
  gboolean all_day;
  gboolean recurring;
  char    *ical;
} Appointment;

static void
appointment_free (Appointment *appointment)
{
  g_free (appointment->uid);
  g_free (appointment->summary);
  g_free (appointment->start);
  g_free (appointment->end);
  g_free (appointment->ical);
  g_free (appointment);
}

/* --- the harness -------------------------------------------------------- */

/* A TAP comment the parent's output keeps (g_test_message() is silent in
 * a test subprocess). */
static void note (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
note (const char *format,
      ...)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_print ("# %s\n", lines[i]);
  fflush (stdout);
}

/* Fails the case with @message after showing the daemon's log. */
#define fail_case(f, ...) \
  G_STMT_START { \
    g_autofree char *fail_message_ = g_strdup_printf (__VA_ARGS__); \
    agl_sync_harness_dump_daemon_log (&(f)->h); \
    g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, fail_message_); \
  } G_STMT_END

typedef gboolean (*Condition) (Fixture *f, gconstpointer data);

/* Polls @condition every POLL_MS until it holds or @deadline seconds pass.
 * Returns: the seconds it took, or -1 when the deadline passed. */
static double
poll_until (Fixture       *f,
            Condition      condition,
            gconstpointer  data,
            double         deadline)
{
  gint64 started = g_get_monotonic_time ();

  for (;;)
    {
      double elapsed;

      if (condition (f, data))
        return (g_get_monotonic_time () - started) / 1e6;
      elapsed = (g_get_monotonic_time () - started) / 1e6;
      if (elapsed > deadline)
        return -1;
      agl_sync_harness_run_for (POLL_MS);
    }
}

/* Waits for @condition and fails the case when it does not hold by the
 * deadline; returns the seconds it took. */
static double
await (Fixture       *f,
       const char    *what,
       Condition      condition,
       gconstpointer  data,
       double         deadline)
{
  double elapsed = poll_until (f, condition, data, deadline);

  if (elapsed < 0)
    fail_case (f, "%s: not within %.0f s", what, deadline);
  note ("%s: %.2f s", what, elapsed);
  return elapsed;
}

static void sync_now (Fixture *f);

/* A propagation that notifications must bring within the limit.
 * Late (over the limit) or missing (past the deadline) is recorded, and the
 * case fails at its end; a missing one is then fetched with a manual sync
 * so that the rest of the case still checks what arrives. */
static void
await_propagation (Fixture       *f,
                   const char    *what,
                   Condition      condition,
                   gconstpointer  data)
{
  double elapsed = poll_until (f, condition, data, PROPAGATION_DEADLINE_S);

  if (elapsed < 0)
    {
      note ("%s: not within %.0f s; syncing by hand to go on", what, PROPAGATION_DEADLINE_S);
      g_string_append_printf (f->late, "%s did not arrive within %.0f s; ", what,
                              PROPAGATION_DEADLINE_S);
      sync_now (f);
      if (poll_until (f, condition, data, PROPAGATION_DEADLINE_S) < 0)
        fail_case (f, "%s: not there even after a manual sync (%s)", what, f->late->str);
      return;
    }
  note ("%s: %.2f s", what, elapsed);
  if (elapsed > PROPAGATION_LIMIT_S)
    g_string_append_printf (f->late, "%s took %.2f s (the limit is %.0f s); ", what, elapsed,
                            PROPAGATION_LIMIT_S);
}

/* --- seeds ------------------------------------------------------------- */

static void
append_mailbox (GString    *seed,
                const char *address,
                const char *user,
                const char *password,
                const char *display_name,
                const char *impersonate,
                GString    *items)
{
  g_string_append_printf (seed,
                          "%s{\"address\":\"%s\",\"user\":\"%s\",\"domain\":\"EXAMPLE\","
                          "\"password\":\"%s\",\"display_name\":\"%s\"%s,\"items\":[%s]}",
                          seed->len > strlen ("{\"mailboxes\":[") ? "," : "",
                          address, user, password, display_name,
                          impersonate != NULL ? impersonate : "",
                          items != NULL ? items->str : "");
}

/* A seed item: a single appointment in UTC. */
static void
append_seed_item (GString    *items,
                  const char *subject,
                  const char *start,
                  const char *end)
{
  g_string_append_printf (items,
                          "%s{\"xml\":\"<t:Subject>%s</t:Subject><t:Start>%s</t:Start>"
                          "<t:End>%s</t:End>\"}",
                          items->len > 0 ? "," : "", subject, start, end);
}

/* Alice, Bob and a service account that may act for both, with the given
 * items; written into the case's directory. */
static char *
write_seed (Fixture *f,
            GString *alice_items,
            GString *bob_items)
{
  g_autoptr(GString) seed = g_string_new ("{\"mailboxes\":[");
  g_autofree char *path = g_build_filename (f->h.dir, "seed.json", NULL);
  g_autoptr(GError) error = NULL;

  append_mailbox (seed, ALICE, "alice", ALICE_PASSWORD, "Alice Martin", NULL, alice_items);
  append_mailbox (seed, BOB, "bob", BOB_PASSWORD, "Bob Keller", NULL, bob_items);
  append_mailbox (seed, "svc-agendaline@example.org", "svc-agendaline", SERVICE_PASSWORD,
                  "Agendaline service account", ",\"impersonate\":[\"*\"]", NULL);
  g_string_append (seed, "]}\n");
  g_file_set_contents (path, seed->str, (gssize) seed->len, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

/* --- setup and teardown ---------------------------------------------- */

static void
start_bus (Fixture *f)
{
  /* The server and the daemon die with the case's process, even when an
   * assertion aborts it; no proxy between them and the test. */
  static const char * const child_env[] = {
    "SOUP_NTLM_AUTH_DEBUG=", "GIO_USE_PROXY_RESOLVER=dummy", "no_proxy=*",
    "G_DEBUG=gc-friendly", NULL
  };

  f->late = g_string_new (NULL);
  f->h.timeout_seconds = START_TIMEOUT_SECONDS;
  f->h.death_signal = SIGTERM;
  f->h.child_env = child_env;
  agl_sync_harness_init (&f->h, "agl-sync-XXXXXX");
}

static void
start_with_seed (Fixture *f,
                 GString *alice_items,
                 GString *bob_items)
{
  g_autofree char *seed = write_seed (f, alice_items, bob_items);
  const char *messages = g_getenv ("AGL_TEST_DAEMON_MESSAGES");

  agl_sync_harness_start_server (&f->h, seed);
  /* AGL_TEST_DAEMON_MESSAGES=all shows the EWS traffic when debugging. */
  agl_sync_harness_start_daemon (&f->h, "agendalined.log",
                                 messages != NULL ? messages : "agendalined");
}

/* Empty mailboxes: every appointment a case sees, it made. */
static void
setup (Fixture *f)
{
  start_bus (f);
  start_with_seed (f, NULL, NULL);
}

static void
teardown (Fixture *f)
{
  agl_sync_harness_clear (&f->h, TRUE);
  g_string_free (f->late, TRUE);
}

/* --- acting as the user: agendalinectl ------------------------------- */

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
  if (result->status != 0 || *result->err != '\0')
    g_printerr ("%s -> %d\nstdout: %s\nstderr: %s\n", result->command, result->status,
                result->out, result->err);
  return result;
}

/* Runs a command that must succeed; returns its standard output. */
#define ctl_ok(f, input, ...) ctl_ok_impl (f, run_ctl (f, input, __VA_ARGS__))

static char *
ctl_ok_impl (Fixture      *f,
             AglCtlResult *result_)
{
  g_autoptr(AglCtlResult) result = result_;

  if (result->status != 0)
    fail_case (f, "agendalinectl failed (%d): %s", result->status, result->err);
  return g_steal_pointer (&result->out);
}

static JsonNode *
parse_json (Fixture    *f,
            const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, text, -1, &error))
    fail_case (f, "not JSON (%s): %s", error->message, text);
  return json_node_copy (json_parser_get_root (parser));
}

/* Alice's account, NTLM as EXAMPLE\alice, trusting the test CA. */
static void
add_account (Fixture    *f,
             const char *policy)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autofree char *out = NULL;

  out = ctl_ok (f, ALICE_PASSWORD "\n", "account", "add", ACCOUNT, "--email", ALICE,
                "--url", f->h.url, "--auth", "ntlm", "--user", "alice", "--domain", "EXAMPLE",
                "--ca-file", ca, "--conflict-policy", policy != NULL ? policy : "exchange-wins",
                "--password-stdin", NULL);
}

/* The service account acting on @mailbox through impersonation, so that
 * only "email" changes when the account is re-pointed. */
static void
add_service_account (Fixture    *f,
                     const char *mailbox)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autofree char *out = NULL;

  out = ctl_ok (f, SERVICE_PASSWORD "\n", "account", "add", ACCOUNT, "--email", mailbox,
                "--url", f->h.url, "--auth", "ntlm", "--user", "svc-agendaline",
                "--domain", "EXAMPLE", "--impersonate", "--ca-file", ca, "--password-stdin",
                NULL);
}

static char *
vcalendar (const char *vevents)
{
  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//tests//EN\r\n"
                          "%sEND:VCALENDAR\r\n", vevents);
}

/* A VEVENT; @start and @end are DTSTART/DTEND lines' values with their
 * parameters ("…Z", ";VALUE=DATE:…", ";TZID=…:…"); @extra more lines. */
static char *
vevent (const char *uid,
        const char *summary,
        const char *start,
        const char *end,
        const char *extra)
{
  return g_strdup_printf ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261120T080000Z\r\n"
                          "DTSTART%s%s\r\nDTEND%s%s\r\nSUMMARY:%s\r\n%sEND:VEVENT\r\n",
                          uid, start[0] == ';' ? "" : ":", start, end[0] == ';' ? "" : ":", end,
                          summary, extra != NULL ? extra : "");
}

static char *
simple_ical (const char *uid,
             const char *summary,
             const char *start,
             const char *end)
{
  g_autofree char *event = vevent (uid, summary, start, end, NULL);

  return vcalendar (event);
}

/* Adds @ical to the account's agenda; returns the appointment's id. */
static gint64
agenda_add (Fixture    *f,
            const char *ical)
{
  g_autofree char *out = ctl_ok (f, ical, "agenda", "add", "--account", ACCOUNT, "--json", "-",
                                 NULL);
  g_autoptr(JsonNode) root = parse_json (f, out);

  return json_object_get_int_member (json_node_get_object (root), "id");
}

static void
agenda_update (Fixture    *f,
               gint64      id,
               const char *ical)
{
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree char *out = ctl_ok (f, ical, "agenda", "update", id_text, "-", NULL);
}

static void
agenda_remove (Fixture *f,
               gint64   id)
{
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  g_autofree char *out = ctl_ok (f, NULL, "agenda", "remove", id_text, NULL);
}

static void
set_account_enabled (Fixture  *f,
                     gboolean  enabled)
{
  g_autofree char *out = ctl_ok (f, NULL, "account", enabled ? "enable" : "disable", ACCOUNT,
                                 NULL);
}

/* `sync NAME --wait`: only where a case says so, or to go on after a
 * propagation that did not come (it is then already a failure). */
static void
sync_now (Fixture *f)
{
  g_autoptr(AglCtlResult) result = run_ctl (f, NULL, "sync", ACCOUNT, "--wait", NULL);

  note ("manual sync: exit %d: %s%s", result->status, result->out, result->err);
}

/* `connections NAME --json` */
static JsonNode *
connection_json (Fixture *f)
{
  g_autofree char *out = ctl_ok (f, NULL, "connections", ACCOUNT, "--json", NULL);

  return parse_json (f, out);
}

/* `conflicts NAME --json` */
static JsonArray *
list_conflicts (Fixture *f)
{
  g_autofree char *out = ctl_ok (f, NULL, "conflicts", ACCOUNT, "--json", NULL);
  g_autoptr(JsonNode) root = parse_json (f, out);

  return json_array_ref (json_node_get_array (root));
}

/* --- acting as Outlook: the server's control endpoint ------------------ */

static char *
control (Fixture    *f,
         const char *method,
         const char *path,
         const char *body,
         guint       expected_status)
{
  g_autofree char *control_path = g_strconcat ("/control/", path, NULL);
  g_autofree char *text = NULL;
  guint status;

  text = agl_sync_harness_http (&f->h, method, control_path, body, &status);
  if (status != expected_status)
    fail_case (f, "%s %s: HTTP %u, not %u: %s", method, path, status, expected_status, text);
  return g_steal_pointer (&text);
}

static char *
calendar_item_xml (const char *fields)
{
  return g_strdup_printf ("<t:CalendarItem xmlns:t=\"" TYPES_NS "\">%s</t:CalendarItem>", fields);
}

/* Creates an item in @mailbox's calendar "in Outlook"; returns its ItemId. */
static char *
exchange_create (Fixture    *f,
                 const char *mailbox,
                 const char *fields)
{
  g_autofree char *path = g_strdup_printf ("mailbox/%s/items", mailbox);
  g_autofree char *body = calendar_item_xml (fields);
  g_autofree char *id = control (f, "POST", path, body, SOUP_STATUS_CREATED);

  return g_strdup (g_strstrip (id));
}

static char *
exchange_create_simple (Fixture    *f,
                        const char *subject,
                        const char *start,
                        const char *end)
{
  g_autofree char *fields = g_strdup_printf ("<t:Subject>%s</t:Subject><t:Start>%s</t:Start>"
                                             "<t:End>%s</t:End>", subject, start, end);

  return exchange_create (f, ALICE, fields);
}

/* "mailbox/ADDR/items/ID[/occurrences/N]": ItemIds are base64, so a
 * "/" in one is percent-encoded. */
static char *
item_path (const char *item_id,
           guint       occurrence)
{
  g_autofree char *escaped = g_uri_escape_string (item_id, NULL, FALSE);

  if (occurrence > 0)
    return g_strdup_printf ("mailbox/%s/items/%s/occurrences/%u", ALICE, escaped, occurrence);
  return g_strdup_printf ("mailbox/%s/items/%s", ALICE, escaped);
}

/* Edits the fields of an item (@occurrence 0) or of its occurrence N. */
static void
exchange_edit (Fixture    *f,
               const char *item_id,
               guint       occurrence,
               const char *fields)
{
  g_autofree char *path = item_path (item_id, occurrence);
  g_autofree char *body = calendar_item_xml (fields);
  g_autofree char *reply = control (f, "POST", path, body, SOUP_STATUS_OK);
}

static void
exchange_delete (Fixture    *f,
                 const char *item_id,
                 guint       occurrence)
{
  g_autofree char *path = item_path (item_id, occurrence);
  g_autofree char *reply = control (f, "DELETE", path, NULL, SOUP_STATUS_OK);
}

/* What @mailbox's calendar holds (GET /control/mailbox/ADDR/items). */
static JsonArray *
exchange_items (Fixture    *f,
                const char *mailbox)
{
  g_autofree char *path = g_strdup_printf ("mailbox/%s/items", mailbox);
  g_autofree char *text = control (f, "GET", path, NULL, SOUP_STATUS_OK);
  g_autoptr(JsonNode) root = parse_json (f, text);

  return json_array_ref (json_node_get_array (root));
}

static JsonObject *
find_exchange_item (JsonArray  *items,
                    const char *member,
                    const char *value)
{
  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonObject *item = json_array_get_object_element (items, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (item, member, NULL), value) == 0)
        return item;
    }
  return NULL;
}

static guint
count_exchange_items (JsonArray  *items,
                      const char *member,
                      const char *value)
{
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (items); i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (json_array_get_object_element (items, i),
                                                               member, NULL), value) == 0)
      n++;
  return n;
}

/* --- what the daemon holds: D-Bus, cheap enough to poll -------------- */

static GVariant *
call_daemon (Fixture            *f,
             const char         *method,
             GVariant           *parameters,
             const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = agl_sync_harness_call_daemon (&f->h, method, parameters, reply_type, &error);
  if (reply == NULL)
    fail_case (f, "%s failed: %s", method, error->message);
  return reply;
}

static char *
dict_string (GVariant   *dict,
             const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_STRING);

  return value != NULL ? g_variant_dup_string (value, NULL) : NULL;
}

static GPtrArray *
list_agenda (Fixture *f)
{
  g_autoptr(GVariant) reply = call_daemon (f, "ListItems", g_variant_new ("(sss)", "", "", ACCOUNT),
                                           G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariant) items = g_variant_get_child_value (reply, 0);
  GPtrArray *agenda = g_ptr_array_new_with_free_func ((GDestroyNotify) appointment_free);
  GVariantIter iter;
  GVariant *dict;

  g_variant_iter_init (&iter, items);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      Appointment *appointment = g_new0 (Appointment, 1);

      g_variant_lookup (dict, "id", "x", &appointment->id);
      appointment->uid = dict_string (dict, "uid");
      appointment->summary = dict_string (dict, "summary");
      appointment->start = dict_string (dict, "start");
      appointment->end = dict_string (dict, "end");
      appointment->ical = dict_string (dict, "ical");
      g_variant_lookup (dict, "all-day", "b", &appointment->all_day);
      g_variant_lookup (dict, "recurring", "b", &appointment->recurring);
      g_ptr_array_add (agenda, appointment);
      g_variant_unref (dict);
    }
  return agenda;
}

static Appointment *
find_appointment (GPtrArray  *agenda,
                  const char *summary)
{
  for (guint i = 0; i < agenda->len; i++)
    {
      Appointment *appointment = g_ptr_array_index (agenda, i);

      if (g_strcmp0 (appointment->summary, summary) == 0)
        return appointment;
    }
  return NULL;
}

static guint
count_appointments (GPtrArray  *agenda,
                    const char *summary)
{
  guint n = 0;

  for (guint i = 0; i < agenda->len; i++)
    n += g_strcmp0 (((Appointment *) g_ptr_array_index (agenda, i))->summary, summary) == 0;
  return n;
}

/* The account's entry of ListConnections. */
static GVariant *
get_connection (Fixture *f)
{
  g_autoptr(GVariant) reply = call_daemon (f, "ListConnections", NULL,
                                           G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);
  GVariantIter iter;
  GVariant *dict;

  g_variant_iter_init (&iter, list);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autofree char *name = dict_string (dict, "name");

      if (g_strcmp0 (name, ACCOUNT) == 0)
        return dict;
      g_variant_unref (dict);
    }
  fail_case (f, "ListConnections has no account %s", ACCOUNT);
  return NULL;
}

static guint
connection_count (GVariant   *connection,
                  const char *key)
{
  guint32 value = 0;

  g_variant_lookup (connection, key, "u", &value);
  return value;
}

/* --- conditions -------------------------------------------------------- */

/* Synced, nothing pending, and a notification channel open (streaming or
 * pull, with its subscription): a change made now is one the daemon must
 * hear of. */
static gboolean
settled (Fixture       *f,
         gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *status = dict_string (connection, "status");
  g_autofree char *notifications = dict_string (connection, "notifications");
  g_autofree char *subscription = dict_string (connection, "subscription-id");
  g_autofree char *last_sync = dict_string (connection, "last-sync");

  return g_strcmp0 (status, "online") == 0 && connection_count (connection, "pending") == 0 &&
         g_strcmp0 (last_sync, "") != 0 && last_sync != NULL &&
         (g_strcmp0 (notifications, "streaming") == 0 || g_strcmp0 (notifications, "pull") == 0) &&
         subscription != NULL && *subscription != '\0';
}

static void
wait_settled (Fixture *f)
{
  await (f, "synced and listening for notifications", settled, NULL, PROPAGATION_DEADLINE_S);
}

static gboolean
status_is (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *status = dict_string (connection, "status");

  return g_strcmp0 (status, data) == 0;
}

typedef struct {
  const char *summary;
  guint       count;
} SummaryCount;

static gboolean
agenda_has (Fixture       *f,
            gconstpointer  data)
{
  const SummaryCount *want = data;
  g_autoptr(GPtrArray) agenda = list_agenda (f);

  return count_appointments (agenda, want->summary) == want->count;
}

static gboolean
exchange_has (Fixture       *f,
              gconstpointer  data)
{
  const SummaryCount *want = data;
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);

  return count_exchange_items (items, "subject", want->summary) == want->count;
}

static gboolean
agenda_size_is (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = list_agenda (f);

  return agenda->len == GPOINTER_TO_UINT (data);
}

static gboolean
exchange_size_is (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);

  return json_array_get_length (items) == GPOINTER_TO_UINT (data);
}

/* Waits for one appointment called @summary here (a propagation). */
static void
await_here (Fixture    *f,
            const char *what,
            const char *summary)
{
  SummaryCount want = { summary, 1 };

  await_propagation (f, what, agenda_has, &want);
}

static void
await_on_exchange (Fixture    *f,
                   const char *what,
                   const char *summary)
{
  SummaryCount want = { summary, 1 };

  await_propagation (f, what, exchange_has, &want);
}

/* An appointment that was in the mailbox before the account was added:
 * the first sync brings it, no notification is involved. */
static void
await_first_sync (Fixture    *f,
                  const char *summary)
{
  SummaryCount want = { summary, 1 };
  g_autofree char *what = g_strdup_printf ("“%s”, in the mailbox before, here after the first sync",
                                           summary);

  await (f, what, agenda_has, &want, PROPAGATION_DEADLINE_S);
  wait_settled (f);
}

/* The same appointments on both sides: as many, each Exchange item here
 * with its UID and subject, no UID twice on either side. */
static gboolean
converged (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = list_agenda (f);
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);

  if (agenda->len != json_array_get_length (items))
    return FALSE;
  for (guint i = 0; i < agenda->len; i++)
    {
      Appointment *appointment = g_ptr_array_index (agenda, i);
      JsonObject *item = find_exchange_item (items, "uid", appointment->uid);

      if (!g_hash_table_add (uids, appointment->uid) || item == NULL ||
          count_exchange_items (items, "uid", appointment->uid) != 1 ||
          g_strcmp0 (json_object_get_string_member (item, "subject"), appointment->summary) != 0)
        return FALSE;
    }
  return TRUE;
}

static void
assert_converged (Fixture *f)
{
  if (!converged (f, NULL))
    fail_case (f, "the agenda and Exchange differ");
}

/* The case's end: every propagation on time. */
static void
assert_on_time (Fixture *f)
{
  if (f->late->len > 0)
    fail_case (f, "changes must arrive within %.0f s by notifications: %s", PROPAGATION_LIMIT_S,
               f->late->str);
}

/* --- one way: single appointments -------------------------------------- */

static void
test_create_here_reaches_exchange (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *ical = simple_ical ("created-here@agendaline.test", "Created here",
                                       "20261201T090000Z", "20261201T100000Z");
  g_autoptr(JsonArray) items = NULL;
  g_autofree char *identity = NULL;
  JsonObject *item;
  JsonObject *properties;
  gint64 id;

  add_account (f, NULL);
  wait_settled (f);
  id = agenda_add (f, ical);
  await_on_exchange (f, "created here → Exchange", "Created here");
  wait_settled (f);

  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  item = json_array_get_object_element (items, 0);
  g_assert_cmpstr (json_object_get_string_member (item, "uid"), ==, "created-here@agendaline.test");
  g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-12-01T09:00:00Z");
  g_assert_cmpstr (json_object_get_string_member (item, "end"), ==, "2026-12-01T10:00:00Z");
  properties = json_object_get_object_member (item, "extended_properties");
  identity = g_strdup_printf ("%" G_GINT64_FORMAT "/created-here@agendaline.test", id);
  g_assert_cmpstr (json_object_get_string_member_with_default (properties, "AgendalineLocalId",
                                                               NULL), ==, identity);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_create_in_exchange_arrives_here (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autofree char *item_id = NULL;
  Appointment *appointment;

  add_account (f, NULL);
  wait_settled (f);
  item_id = exchange_create_simple (f, "Booked in Outlook", "2026-12-02T08:00:00Z",
                                    "2026-12-02T09:00:00Z");
  await_here (f, "created in Exchange → here", "Booked in Outlook");

  agenda = list_agenda (f);
  g_assert_cmpuint (agenda->len, ==, 1);
  appointment = g_ptr_array_index (agenda, 0);
  g_assert_cmpstr (appointment->start, ==, "2026-12-02T08:00:00Z");
  g_assert_cmpstr (appointment->end, ==, "2026-12-02T09:00:00Z");
  items = exchange_items (f, ALICE);
  g_assert_cmpstr (appointment->uid, ==,
                   json_object_get_string_member (json_array_get_object_element (items, 0), "uid"));
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

typedef struct {
  const char *subject;
  const char *start;
} SubjectAt;

static gboolean
exchange_item_is (Fixture       *f,
                  gconstpointer  data)
{
  const SubjectAt *want = data;
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);
  JsonObject *item = find_exchange_item (items, "subject", want->subject);

  return json_array_get_length (items) == 1 && item != NULL &&
         g_strcmp0 (json_object_get_string_member (item, "start"), want->start) == 0;
}

static gboolean
appointment_is (Fixture       *f,
                gconstpointer  data)
{
  const SubjectAt *want = data;
  g_autoptr(GPtrArray) agenda = list_agenda (f);
  Appointment *appointment = find_appointment (agenda, want->subject);

  return agenda->len == 1 && appointment != NULL && g_strcmp0 (appointment->start, want->start) == 0;
}

static void
test_update_here_reaches_exchange (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *ical = simple_ical ("updated-here@agendaline.test", "Planning",
                                       "20261203T090000Z", "20261203T100000Z");
  g_autofree char *changed = simple_ical ("updated-here@agendaline.test", "Planning (moved)",
                                          "20261203T130000Z", "20261203T140000Z");
  SubjectAt want = { "Planning (moved)", "2026-12-03T13:00:00Z" };
  gint64 id;

  add_account (f, NULL);
  wait_settled (f);
  id = agenda_add (f, ical);
  await_on_exchange (f, "created here → Exchange", "Planning");
  wait_settled (f);

  agenda_update (f, id, changed);
  await_propagation (f, "updated here → Exchange", exchange_item_is, &want);
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_update_in_exchange_arrives_here (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  SubjectAt want = { "Review (moved in Outlook)", "2026-12-04T15:00:00Z" };
  gint64 id;

  item_id = exchange_create_simple (f, "Review", "2026-12-04T10:00:00Z", "2026-12-04T11:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "Review");
  agenda = list_agenda (f);
  id = ((Appointment *) g_ptr_array_index (agenda, 0))->id;

  exchange_edit (f, item_id, 0, "<t:Subject>Review (moved in Outlook)</t:Subject>"
                                "<t:Start>2026-12-04T15:00:00Z</t:Start>"
                                "<t:End>2026-12-04T16:00:00Z</t:End>");
  await_propagation (f, "updated in Exchange → here", appointment_is, &want);
  g_clear_pointer (&agenda, g_ptr_array_unref);
  agenda = list_agenda (f);
  g_assert_cmpint (((Appointment *) g_ptr_array_index (agenda, 0))->id, ==, id);
  g_assert_cmpstr (((Appointment *) g_ptr_array_index (agenda, 0))->end, ==, "2026-12-04T16:00:00Z");
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_delete_here_removes_from_exchange (Fixture       *f,
                                       gconstpointer  data)
{
  g_autofree char *ical = simple_ical ("deleted-here@agendaline.test", "Cancelled here",
                                       "20261205T090000Z", "20261205T100000Z");
  gint64 id;

  add_account (f, NULL);
  wait_settled (f);
  id = agenda_add (f, ical);
  await_on_exchange (f, "created here → Exchange", "Cancelled here");
  wait_settled (f);

  agenda_remove (f, id);
  await_propagation (f, "deleted here → gone from Exchange", exchange_size_is, GUINT_TO_POINTER (0));
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

/* Deleted soon after it reached Exchange, before the daemon heard of
 * Exchange's echo of its own create (here with pull notifications, as on
 * a server without streaming, where that is the normal case): the echo
 * is no change made in Exchange, and the delete must go through. */
static void
test_delete_soon_after_create (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *streaming = control (f, "POST", "streaming?enabled=false", NULL, SOUP_STATUS_OK);
  g_autofree char *ical = simple_ical ("slip@agendaline.test", "Made by mistake",
                                       "20261205T110000Z", "20261205T120000Z");
  g_autoptr(JsonArray) conflicts = NULL;
  SummaryCount there = { "Made by mistake", 1 };
  gint64 id;

  add_account (f, NULL);
  wait_settled (f);
  id = agenda_add (f, ical);
  await (f, "created here → Exchange", exchange_has, &there, PROPAGATION_DEADLINE_S);
  agenda_remove (f, id);
  await_propagation (f, "deleted here soon after → gone from Exchange", exchange_size_is,
                     GUINT_TO_POINTER (0));
  wait_settled (f);
  g_assert_true (agenda_size_is (f, GUINT_TO_POINTER (0)));
  conflicts = list_conflicts (f);
  g_assert_cmpuint (json_array_get_length (conflicts), ==, 0);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_delete_in_exchange_removes_here (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *item_id = NULL;

  item_id = exchange_create_simple (f, "Cancelled in Outlook", "2026-12-06T09:00:00Z",
                                    "2026-12-06T10:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "Cancelled in Outlook");

  exchange_delete (f, item_id, 0);
  await_propagation (f, "deleted in Exchange → gone here", agenda_size_is, GUINT_TO_POINTER (0));
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_moved_out_of_calendar_removes_here (Fixture       *f,
                                        gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autofree char *path = NULL;
  g_autofree char *item = NULL;
  g_autofree char *reply = NULL;

  item_id = exchange_create_simple (f, "Filed away", "2026-12-07T09:00:00Z", "2026-12-07T10:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "Filed away");

  item = item_path (item_id, 0);
  path = g_strconcat (item, "/move?to=deleteditems", NULL);
  reply = control (f, "POST", path, NULL, SOUP_STATUS_OK);
  await_propagation (f, "moved out of the calendar in Exchange → gone here", agenda_size_is,
                     GUINT_TO_POINTER (0));
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

/* --- both sides at once ------------------------------------------------- */

typedef struct {
  const char *policy;
  gboolean    local_wins;
  gboolean    local_newer;    /* the local edit made after Exchange's */
} Policy;

static const Policy exchange_wins = { "exchange-wins", FALSE, TRUE };
static const Policy local_wins = { "local-wins", TRUE, FALSE };
static const Policy newer_wins_here = { "newer-wins", TRUE, TRUE };
static const Policy newer_wins_exchange = { "newer-wins", FALSE, FALSE };

/* Both sides show @data as the one appointment. */
static gboolean
both_sides_show (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = list_agenda (f);
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);

  return agenda->len == 1 && json_array_get_length (items) == 1 &&
         find_appointment (agenda, data) != NULL && find_exchange_item (items, "subject", data) != NULL;
}

/* The wall clock's next second: the two edits of a "newer wins" case must
 * not share the second both sides record modifications in. */
static gboolean
next_second_begun (Fixture       *f,
                   gconstpointer  data)
{
  return g_get_real_time () / G_USEC_PER_SEC > *(const gint64 *) data;
}

static void
wait_next_second (Fixture *f)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  poll_until (f, next_second_begun, &now, 2.0);
}

/* "Both at once", deterministically: while the account is disabled no
 * sync runs, so both sides can be changed before the next one. */
static void
disable_account (Fixture *f)
{
  set_account_enabled (f, FALSE);
  await (f, "account disabled", status_is, "disabled", PROPAGATION_DEADLINE_S);
}

static void
test_changed_on_both_sides (Fixture       *f,
                            gconstpointer  data)
{
  const Policy *policy = data;
  g_autofree char *item_id = NULL;
  g_autofree char *local_ical = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  g_autoptr(JsonArray) after = NULL;
  g_autofree char *conflict_id = NULL;
  g_autofree char *restored = NULL;
  const char *here = "Budget review (changed here)";
  const char *there = "Budget review (changed in Outlook)";
  const char *winner = policy->local_wins ? here : there;
  const char *loser = policy->local_wins ? there : here;
  JsonObject *conflict;
  Appointment *appointment;
  gint64 id;

  item_id = exchange_create_simple (f, "Budget review", "2026-12-08T09:00:00Z",
                                    "2026-12-08T10:00:00Z");
  add_account (f, policy->policy);
  await_first_sync (f, "Budget review");
  agenda = list_agenda (f);
  appointment = g_ptr_array_index (agenda, 0);
  id = appointment->id;
  local_ical = simple_ical (appointment->uid, here, "20261208T090000Z", "20261208T100000Z");

  disable_account (f);
  if (policy->local_newer)
    {
      exchange_edit (f, item_id, 0, "<t:Subject>Budget review (changed in Outlook)</t:Subject>");
      wait_next_second (f);
      agenda_update (f, id, local_ical);
    }
  else
    {
      agenda_update (f, id, local_ical);
      wait_next_second (f);
      exchange_edit (f, item_id, 0, "<t:Subject>Budget review (changed in Outlook)</t:Subject>");
    }
  set_account_enabled (f, TRUE);
  await_propagation (f, "the winner on both sides", both_sides_show, winner);
  wait_settled (f);

  conflicts = list_conflicts (f);
  if (json_array_get_length (conflicts) != 1)
    fail_case (f, "%u conflict records, not 1", json_array_get_length (conflicts));
  conflict = json_array_get_object_element (conflicts, 0);
  g_assert_cmpstr (json_object_get_string_member (conflict, "summary"), ==, loser);
  g_assert_cmpstr (json_object_get_string_member (conflict, "reason"), !=, "");
  note ("reason: %s", json_object_get_string_member (conflict, "reason"));

  conflict_id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (conflict, "id"));
  restored = ctl_ok (f, NULL, "conflicts", "restore", conflict_id, NULL);
  await_propagation (f, "the restored version on both sides", both_sides_show, loser);
  wait_settled (f);
  after = list_conflicts (f);
  g_assert_cmpuint (json_array_get_length (after), ==, 0);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_deleted_in_exchange_while_changed_here (Fixture       *f,
                                            gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autofree char *local_ical = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  g_autofree char *conflict_id = NULL;
  g_autofree char *restored = NULL;
  JsonObject *conflict;
  Appointment *appointment;

  item_id = exchange_create_simple (f, "Offsite prep", "2026-12-09T09:00:00Z",
                                    "2026-12-09T10:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "Offsite prep");
  agenda = list_agenda (f);
  appointment = g_ptr_array_index (agenda, 0);
  local_ical = simple_ical (appointment->uid, "Offsite prep (agenda added here)",
                            "20261209T090000Z", "20261209T100000Z");

  disable_account (f);
  exchange_delete (f, item_id, 0);
  agenda_update (f, appointment->id, local_ical);
  set_account_enabled (f, TRUE);

  /* Exchange wins: the deletion stands on both sides, the edit is kept. */
  await_propagation (f, "the deletion on both sides", converged, NULL);
  g_clear_pointer (&agenda, g_ptr_array_unref);
  agenda = list_agenda (f);
  g_assert_cmpuint (agenda->len, ==, 0);
  wait_settled (f);
  conflicts = list_conflicts (f);
  if (json_array_get_length (conflicts) != 1)
    fail_case (f, "%u conflict records, not 1", json_array_get_length (conflicts));
  conflict = json_array_get_object_element (conflicts, 0);
  g_assert_cmpstr (json_object_get_string_member (conflict, "summary"), ==,
                   "Offsite prep (agenda added here)");
  g_assert_cmpstr (json_object_get_string_member (conflict, "reason"), !=, "");

  conflict_id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (conflict, "id"));
  restored = ctl_ok (f, NULL, "conflicts", "restore", conflict_id, NULL);
  await_propagation (f, "the restored version on both sides", both_sides_show,
                     "Offsite prep (agenda added here)");
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

static void
test_deleted_here_while_changed_in_exchange (Fixture       *f,
                                            gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autoptr(GPtrArray) agenda = NULL;

  item_id = exchange_create_simple (f, "Vendor call", "2026-12-10T09:00:00Z",
                                    "2026-12-10T10:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "Vendor call");
  agenda = list_agenda (f);

  disable_account (f);
  agenda_remove (f, ((Appointment *) g_ptr_array_index (agenda, 0))->id);
  exchange_edit (f, item_id, 0, "<t:Subject>Vendor call (new dial-in)</t:Subject>");
  set_account_enabled (f, TRUE);

  /* Exchange wins: its change comes back here; nothing is deleted there. */
  await_propagation (f, "Exchange's change on both sides", both_sides_show,
                     "Vendor call (new dial-in)");
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

/* --- recurring series --------------------------------------------------- */

static const char weekly_series_fields[] =
  "<t:Subject>Weekly sync</t:Subject>"
  "<t:Start>2026-12-07T10:00:00</t:Start><t:End>2026-12-07T11:00:00</t:End>"
  "<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval>"
  "<t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>"
  "<t:NumberedRecurrence><t:StartDate>2026-12-07</t:StartDate>"
  "<t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>"
  "<t:StartTimeZone Id=\"W. Europe Standard Time\"/><t:EndTimeZone Id=\"W. Europe Standard Time\"/>";

/* A weekly series made here: Mondays 10:00 UTC from 2026-12-07, six
 * times. */
static char *
weekly_series_vevent (const char *extra)
{
  g_autofree char *rule = g_strdup_printf ("RRULE:FREQ=WEEKLY;COUNT=6\r\n%s",
                                           extra != NULL ? extra : "");

  return vevent ("weekly-series@agendaline.test", "Weekly review", "20261207T100000Z",
                 "20261207T110000Z", rule);
}

static const char moved_occurrence[] =
  "BEGIN:VEVENT\r\nUID:weekly-series@agendaline.test\r\nDTSTAMP:20261120T080000Z\r\n"
  "RECURRENCE-ID:20261214T100000Z\r\nDTSTART:20261214T140000Z\r\nDTEND:20261214T150000Z\r\n"
  "SUMMARY:Weekly review (afternoon)\r\nEND:VEVENT\r\n";

typedef struct {
  guint n_exceptions;
  guint n_deleted;
} SeriesShape;

static gboolean
exchange_series_is (Fixture       *f,
                    gconstpointer  data)
{
  const SeriesShape *want = data;
  g_autoptr(JsonArray) items = exchange_items (f, ALICE);
  JsonObject *item;

  if (json_array_get_length (items) != 1)
    return FALSE;
  item = json_array_get_object_element (items, 0);
  return json_object_get_boolean_member (item, "is_recurring") &&
         json_object_get_int_member (item, "n_exceptions") == want->n_exceptions &&
         json_object_get_int_member (item, "n_deleted_occurrences") == want->n_deleted;
}

static void
test_series_from_here_is_one_item (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *master = weekly_series_vevent ("EXDATE:20261221T100000Z\r\n");
  g_autofree char *events = g_strconcat (master, moved_occurrence, NULL);
  g_autofree char *ical = vcalendar (events);
  g_autoptr(JsonArray) items = NULL;
  SeriesShape want = { 1, 1 };
  JsonObject *item;
  JsonObject *exception;

  add_account (f, NULL);
  wait_settled (f);
  agenda_add (f, ical);
  await_propagation (f, "series with a moved and a deleted occurrence → Exchange",
                     exchange_series_is, &want);
  wait_settled (f);

  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  item = json_array_get_object_element (items, 0);
  g_assert_cmpstr (json_object_get_string_member (item, "uid"), ==, "weekly-series@agendaline.test");
  g_assert_cmpstr (json_object_get_string_member (item, "subject"), ==, "Weekly review");
  exception = json_array_get_object_element (json_object_get_array_member (item, "exceptions"), 0);
  g_assert_cmpstr (json_object_get_string_member (exception, "original_start"), ==,
                   "2026-12-14T10:00:00Z");
  g_assert_cmpstr (json_object_get_string_member (exception, "subject"), ==,
                   "Weekly review (afternoon)");
  assert_on_time (f);
}

typedef struct {
  gint64      id;
  const char *text;
} IcalHas;

/* One appointment here, the same one, whose text holds @text. */
static gboolean
appointment_ical_has (Fixture       *f,
                      gconstpointer  data)
{
  const IcalHas *want = data;
  g_autoptr(GPtrArray) agenda = list_agenda (f);
  Appointment *appointment;

  if (agenda->len != 1)
    return FALSE;
  appointment = g_ptr_array_index (agenda, 0);
  return appointment->id == want->id && strstr (appointment->ical, want->text) != NULL;
}

static gint64
await_exchange_series_here (Fixture *f)
{
  g_autoptr(GPtrArray) agenda = NULL;
  Appointment *appointment;

  await_first_sync (f, "Weekly sync");
  agenda = list_agenda (f);
  g_assert_cmpuint (agenda->len, ==, 1);
  appointment = g_ptr_array_index (agenda, 0);
  g_assert_true (appointment->recurring);
  g_assert_nonnull (strstr (appointment->ical, "RRULE:"));
  return appointment->id;
}

static void
test_occurrence_edited_in_exchange_is_override (Fixture       *f,
                                               gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  g_autofree char *agenda_json = NULL;
  g_autoptr(JsonNode) root = NULL;
  IcalHas want = { 0, "SUMMARY:Weekly sync (in the afternoon)" };
  Appointment *appointment;

  item_id = exchange_create (f, ALICE, weekly_series_fields);
  add_account (f, NULL);
  want.id = await_exchange_series_here (f);

  exchange_edit (f, item_id, 2, "<t:Subject>Weekly sync (in the afternoon)</t:Subject>"
                                "<t:Start>2026-12-14T14:00:00Z</t:Start>"
                                "<t:End>2026-12-14T15:00:00Z</t:End>");
  await_propagation (f, "occurrence edited in Exchange → override here", appointment_ical_has,
                     &want);
  agenda = list_agenda (f);
  appointment = g_ptr_array_index (agenda, 0);
  g_assert_nonnull (strstr (appointment->ical, "RECURRENCE-ID"));
  g_assert_nonnull (strstr (appointment->ical, "20261214T"));

  /* As the user sees it: still one appointment, the same id. */
  agenda_json = ctl_ok (f, NULL, "agenda", "list", "--account", ACCOUNT, "--json", NULL);
  root = parse_json (f, agenda_json);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (root), 0),
                                               "id"), ==, want.id);
  assert_on_time (f);
}

static void
test_occurrence_deleted_in_exchange_is_exdate (Fixture       *f,
                                              gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  IcalHas want = { 0, "EXDATE" };

  item_id = exchange_create (f, ALICE, weekly_series_fields);
  add_account (f, NULL);
  want.id = await_exchange_series_here (f);

  exchange_delete (f, item_id, 3);
  await_propagation (f, "occurrence deleted in Exchange → EXDATE here", appointment_ical_has,
                     &want);
  /* The third Monday, 2026-12-21 10:00 in Berlin, 09:00 UTC. */
  {
    g_autoptr(GPtrArray) agenda = list_agenda (f);
    const char *ical = ((Appointment *) g_ptr_array_index (agenda, 0))->ical;

    if (strstr (ical, "20261221T090000Z") == NULL && strstr (ical, "20261221T100000") == NULL)
      fail_case (f, "the EXDATE is not the third occurrence:\n%s", ical);
  }
  assert_on_time (f);
}

static void
test_occurrence_edited_here_is_exception (Fixture       *f,
                                         gconstpointer  data)
{
  g_autofree char *master = weekly_series_vevent (NULL);
  g_autofree char *ical = vcalendar (master);
  g_autofree char *events = g_strconcat (master, moved_occurrence, NULL);
  g_autofree char *edited = vcalendar (events);
  g_autoptr(JsonArray) items = NULL;
  SeriesShape plain = { 0, 0 };
  SeriesShape one_exception = { 1, 0 };
  JsonObject *exception;
  gint64 id;

  add_account (f, NULL);
  wait_settled (f);
  id = agenda_add (f, ical);
  await_propagation (f, "series created here → Exchange", exchange_series_is, &plain);
  wait_settled (f);

  agenda_update (f, id, edited);
  await_propagation (f, "occurrence edited here → exception in Exchange", exchange_series_is,
                     &one_exception);
  wait_settled (f);
  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  exception = json_array_get_object_element (
    json_object_get_array_member (json_array_get_object_element (items, 0), "exceptions"), 0);
  g_assert_cmpstr (json_object_get_string_member (exception, "subject"), ==,
                   "Weekly review (afternoon)");
  assert_on_time (f);
}

/* --- all-day events and time zones -------------------------------------- */

static void
test_all_day_both_ways (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *ical = simple_ical ("all-day@agendaline.test", "Offsite here",
                                       ";VALUE=DATE:20261210", ";VALUE=DATE:20261211");
  g_autofree char *item_id = NULL;
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  Appointment *mine;
  Appointment *theirs;

  item_id = exchange_create (f, ALICE, "<t:Subject>Holiday in Outlook</t:Subject>"
                                       "<t:Start>2026-12-15T00:00:00</t:Start>"
                                       "<t:End>2026-12-16T00:00:00</t:End>"
                                       "<t:IsAllDayEvent>true</t:IsAllDayEvent>"
                                       "<t:StartTimeZone Id=\"W. Europe Standard Time\"/>"
                                       "<t:EndTimeZone Id=\"W. Europe Standard Time\"/>");
  add_account (f, NULL);
  await_first_sync (f, "Holiday in Outlook");
  agenda_add (f, ical);
  await_on_exchange (f, "all-day event here → Exchange", "Offsite here");
  items = exchange_items (f, ALICE);
  g_assert_true (json_object_get_boolean_member (find_exchange_item (items, "subject",
                                                                     "Offsite here"),
                                                 "is_all_day"));
  wait_settled (f);

  agenda = list_agenda (f);
  mine = find_appointment (agenda, "Offsite here");
  theirs = find_appointment (agenda, "Holiday in Outlook");
  g_assert_nonnull (mine);
  g_assert_nonnull (theirs);
  g_assert_true (mine->all_day);
  g_assert_cmpstr (mine->start, ==, "2026-12-10");
  g_assert_cmpstr (mine->end, ==, "2026-12-11");
  g_assert_true (theirs->all_day);
  g_assert_cmpstr (theirs->start, ==, "2026-12-15");
  g_assert_cmpstr (theirs->end, ==, "2026-12-16");
  g_assert_cmpuint (agenda->len, ==, 2);
  assert_on_time (f);
}

static const char new_york_vtimezone[] =
  "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
  "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
  "DTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n"
  "BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
  "DTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n"
  "END:VTIMEZONE\r\n";

static void
test_new_york_round_trip (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *event = vevent ("new-york@agendaline.test", "Call with New York",
                                   ";TZID=America/New_York:20261201T090000",
                                   ";TZID=America/New_York:20261201T100000", NULL);
  g_autofree char *events = g_strconcat (new_york_vtimezone, event, NULL);
  g_autofree char *ical = vcalendar (events);
  g_autoptr(JsonArray) items = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  JsonObject *item;
  Appointment *appointment;
  IcalHas back = { 0, "LOCATION:Zoom" };

  add_account (f, NULL);
  wait_settled (f);
  back.id = agenda_add (f, ical);
  await_on_exchange (f, "America/New_York event here → Exchange", "Call with New York");
  items = exchange_items (f, ALICE);
  item = json_array_get_object_element (items, 0);
  /* 09:00 EST is 14:00 UTC. */
  g_assert_cmpstr (json_object_get_string_member (item, "start"), ==, "2026-12-01T14:00:00Z");
  g_assert_cmpstr (json_object_get_string_member (item, "end"), ==, "2026-12-01T15:00:00Z");
  wait_settled (f);

  /* Changed in Outlook, it comes back (fetched with a manual sync: the
   * times are what is checked here): its times as they were. */
  exchange_edit (f, json_object_get_string_member (item, "id"), 0, "<t:Location>Zoom</t:Location>");
  sync_now (f);
  await (f, "the event changed in Exchange, back here", appointment_ical_has, &back,
         PROPAGATION_DEADLINE_S);
  agenda = list_agenda (f);
  appointment = g_ptr_array_index (agenda, 0);
  g_assert_cmpstr (appointment->start, ==, "2026-12-01T14:00:00Z");
  g_assert_cmpstr (appointment->end, ==, "2026-12-01T15:00:00Z");
  if (strstr (appointment->ical, "DTSTART;TZID=America/New_York:20261201T090000") == NULL)
    fail_case (f, "the start is no longer 09:00 in America/New_York:\n%s", appointment->ical);
  assert_on_time (f);
}

static void
test_windows_zone_from_exchange (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *item_id = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  Appointment *appointment;
  const char *dtstart;

  item_id = exchange_create (f, ALICE, "<t:Subject>Zürich stand-up</t:Subject>"
                                       "<t:Start>2026-12-02T09:00:00</t:Start>"
                                       "<t:End>2026-12-02T09:30:00</t:End>"
                                       "<t:StartTimeZone Id=\"W. Europe Standard Time\"/>"
                                       "<t:EndTimeZone Id=\"W. Europe Standard Time\"/>");
  add_account (f, NULL);
  await_first_sync (f, "Zürich stand-up");
  agenda = list_agenda (f);
  appointment = g_ptr_array_index (agenda, 0);
  /* 09:00 CET is 08:00 UTC, and it stays 09:00 in its zone. */
  g_assert_cmpstr (appointment->start, ==, "2026-12-02T08:00:00Z");
  g_assert_cmpstr (appointment->end, ==, "2026-12-02T08:30:00Z");
  dtstart = strstr (appointment->ical, "DTSTART;TZID=");
  if (dtstart == NULL || strstr (dtstart, ":20261202T090000") == NULL)
    fail_case (f, "no DTSTART at 09:00 in a named zone:\n%s", appointment->ical);
  assert_on_time (f);
}

/* --- a large first sync ------------------------------------------------ */

static gboolean
connection_items_are (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *status = dict_string (connection, "status");

  return connection_count (connection, "items") == GPOINTER_TO_UINT (data) &&
         g_strcmp0 (status, "online") == 0;
}

static void
setup_large_mailbox (Fixture *f)
{
  g_autoptr(GString) items = g_string_new (NULL);
  g_autoptr(GDateTime) base = g_date_time_new_utc (2026, 1, 5, 8, 0, 0);

  start_bus (f);
  for (guint i = 0; i < LARGE_MAILBOX_ITEMS; i++)
    {
      /* Eight one-hour slots a day. */
      g_autoptr(GDateTime) start = g_date_time_add_hours (base, (gint) ((i / 8) * 24 + i % 8));
      g_autoptr(GDateTime) end = g_date_time_add_hours (start, 1);
      g_autofree char *subject = g_strdup_printf ("Bulk %05u", i);
      g_autofree char *s = g_date_time_format (start, "%Y-%m-%dT%H:%M:%SZ");
      g_autofree char *e = g_date_time_format (end, "%Y-%m-%dT%H:%M:%SZ");

      append_seed_item (items, subject, s, e);
    }
  start_with_seed (f, items, NULL);
}

static void
test_first_sync_of_10000_items (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) summaries = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonNode) connection = NULL;
  g_autoptr(JsonArray) items = NULL;
  double seconds;

  add_account (f, NULL);
  seconds = await (f, "first sync of 10,000 items", connection_items_are,
                   GUINT_TO_POINTER (LARGE_MAILBOX_ITEMS), LARGE_SYNC_DEADLINE_S);
  note ("the first sync of %u items took %.1f s", LARGE_MAILBOX_ITEMS, seconds);

  agenda = list_agenda (f);
  g_assert_cmpuint (agenda->len, ==, LARGE_MAILBOX_ITEMS);
  for (guint i = 0; i < agenda->len; i++)
    {
      Appointment *appointment = g_ptr_array_index (agenda, i);

      if (!g_hash_table_add (uids, appointment->uid))
        fail_case (f, "UID %s twice", appointment->uid);
      if (!g_hash_table_add (summaries, appointment->summary))
        fail_case (f, "“%s” twice", appointment->summary);
    }
  connection = connection_json (f);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (connection), "items"), ==,
                   LARGE_MAILBOX_ITEMS);
  /* Nothing went the other way. */
  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, LARGE_MAILBOX_ITEMS);
}

/* --- re-pointing the account ------------------------------------------- */

static void
setup_two_mailboxes (Fixture *f)
{
  g_autoptr(GString) alice = g_string_new (NULL);
  g_autoptr(GString) bob = g_string_new (NULL);

  start_bus (f);
  append_seed_item (alice, "Alice one", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z");
  append_seed_item (alice, "Alice two", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z");
  append_seed_item (alice, "Alice three", "2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z");
  append_seed_item (bob, "Bob one", "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z");
  append_seed_item (bob, "Bob two", "2026-12-04T11:00:00Z", "2026-12-04T12:00:00Z");
  start_with_seed (f, alice, bob);
}

static char *
account_email (Fixture *f)
{
  g_autofree char *out = ctl_ok (f, NULL, "account", "list", "--json", NULL);
  g_autoptr(JsonNode) root = parse_json (f, out);
  JsonArray *accounts = json_node_get_array (root);

  g_assert_cmpuint (json_array_get_length (accounts), ==, 1);
  return g_strdup (json_object_get_string_member (json_array_get_object_element (accounts, 0),
                                                  "email"));
}

/* The agenda holds exactly Bob's two appointments. */
static gboolean
agenda_is_bobs (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) agenda = list_agenda (f);

  return agenda->len == 2 && find_appointment (agenda, "Bob one") != NULL &&
         find_appointment (agenda, "Bob two") != NULL;
}

static void
test_repoint_to_other_mailbox (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(AglCtlResult) refused = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  g_autoptr(JsonArray) alices = NULL;
  g_autoptr(JsonArray) bobs = NULL;
  g_autoptr(GHashTable) retired = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *email = NULL;
  g_autofree char *out = NULL;

  add_service_account (f, ALICE);
  wait_settled (f);
  await (f, "Alice's three appointments here", agenda_size_is, GUINT_TO_POINTER (3),
         PROPAGATION_DEADLINE_S);

  /* Without --confirm: refused, says what would happen, changes nothing. */
  refused = run_ctl (f, NULL, "account", "update", ACCOUNT, "--email", BOB, NULL);
  note ("without --confirm: exit %d: %s", refused->status, refused->err);
  g_assert_cmpint (refused->status, ==, 1);
  g_assert_nonnull (strstr (refused->err, "--confirm"));
  /* 3 of Alice's to remove, 2 of Bob's to add. */
  g_assert_nonnull (strstr (refused->err, "3"));
  g_assert_nonnull (strstr (refused->err, "2"));
  email = account_email (f);
  g_assert_cmpstr (email, ==, ALICE);
  g_assert_true (agenda_size_is (f, GUINT_TO_POINTER (3)));

  out = ctl_ok (f, NULL, "account", "update", ACCOUNT, "--email", BOB, "--confirm", NULL);
  await_propagation (f, "re-pointed: Bob's appointments here, none of Alice's", agenda_is_bobs,
                     NULL);
  wait_settled (f);
  g_assert_true (agenda_is_bobs (f, NULL));

  /* Alice's are conflict records, and still in her mailbox. */
  conflicts = list_conflicts (f);
  for (guint i = 0; i < json_array_get_length (conflicts); i++)
    {
      JsonObject *conflict = json_array_get_object_element (conflicts, i);

      g_hash_table_add (retired, (gpointer) json_object_get_string_member (conflict, "summary"));
      g_assert_cmpstr (json_object_get_string_member (conflict, "reason"), !=, "");
    }
  g_assert_cmpuint (g_hash_table_size (retired), ==, 3);
  g_assert_true (g_hash_table_contains (retired, "Alice one"));
  g_assert_true (g_hash_table_contains (retired, "Alice two"));
  g_assert_true (g_hash_table_contains (retired, "Alice three"));
  alices = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (alices), ==, 3);
  /* Nothing of Alice's was made in Bob's mailbox. */
  bobs = exchange_items (f, BOB);
  g_assert_cmpuint (json_array_get_length (bobs), ==, 2);
  assert_on_time (f);
}

static GArray *
agenda_ids (Fixture *f)
{
  g_autoptr(GPtrArray) agenda = list_agenda (f);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < agenda->len; i++)
    g_array_append_val (ids, ((Appointment *) g_ptr_array_index (agenda, i))->id);
  return ids;
}

/* The same mailbox under another form of its URL: everything re-linked,
 * nothing twice, no conflict. */
static void
repoint_to_same_mailbox (Fixture    *f,
                         const char *url,
                         GArray     *ids_before)
{
  g_autofree char *out = NULL;
  g_autofree char *synced = NULL;
  g_autoptr(GArray) ids_after = NULL;
  g_autoptr(JsonArray) conflicts = NULL;
  g_autoptr(JsonArray) items = NULL;

  note ("re-pointing to %s", url);
  out = ctl_ok (f, NULL, "account", "update", ACCOUNT, "--url", url, NULL);
  synced = ctl_ok (f, NULL, "sync", ACCOUNT, "--wait", NULL);
  note ("%s", synced);
  wait_settled (f);

  ids_after = agenda_ids (f);
  g_assert_cmpuint (ids_after->len, ==, ids_before->len);
  for (guint i = 0; i < ids_before->len; i++)
    g_assert_cmpint (g_array_index (ids_after, gint64, i), ==, g_array_index (ids_before, gint64, i));
  conflicts = list_conflicts (f);
  g_assert_cmpuint (json_array_get_length (conflicts), ==, 0);
  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, ids_before->len);
  assert_converged (f);
}

static void
test_repoint_to_same_mailbox_other_url (Fixture       *f,
                                       gconstpointer  data)
{
  g_autofree char *ical = simple_ical ("made-here@agendaline.test", "Made here",
                                       "20261205T090000Z", "20261205T100000Z");
  g_autofree char *by_name = g_strdup_printf ("https://localhost:%u/EWS/Exchange.asmx", f->h.port);
  g_autofree char *lower_case = g_strdup_printf ("https://127.0.0.1:%u/ews/exchange.asmx",
                                                  f->h.port);
  g_autoptr(GArray) ids = NULL;

  add_account (f, NULL);
  wait_settled (f);
  await (f, "Alice's three appointments here", agenda_size_is, GUINT_TO_POINTER (3),
         PROPAGATION_DEADLINE_S);
  agenda_add (f, ical);
  await_on_exchange (f, "created here → Exchange", "Made here");
  wait_settled (f);
  ids = agenda_ids (f);
  g_assert_cmpuint (ids->len, ==, 4);

  repoint_to_same_mailbox (f, by_name, ids);
  repoint_to_same_mailbox (f, lower_case, ids);
  assert_on_time (f);
}

/* --- faults ------------------------------------------------------------ */

typedef struct {
  const char *kind;
  guint       parameter;
  gboolean    fails;      /* the sync fails while it lasts */
} Fault;

static const Fault faults[] = {
  { "http-500",       0,    TRUE },
  { "http-503",       0,    TRUE },
  { "server-busy",    100,  TRUE },
  { "cut-connection", 0,    TRUE },
  { "truncated-xml",  0,    TRUE },
  { "delay",          1500, FALSE },
};

static gboolean
offline_with_error (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *status = dict_string (connection, "status");
  g_autofree char *last_error = dict_string (connection, "last-error");

  return g_strcmp0 (status, "offline") == 0 && last_error != NULL && *last_error != '\0';
}

static gboolean
converged_online (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *status = dict_string (connection, "status");
  g_autofree char *last_error = dict_string (connection, "last-error");
  g_autoptr(GPtrArray) agenda = list_agenda (f);

  return g_strcmp0 (status, "online") == 0 && (last_error == NULL || *last_error == '\0') &&
         connection_count (connection, "pending") == 0 && agenda->len == 2 &&
         converged (f, NULL);
}

static void
test_fault_passes_and_sync_converges (Fixture       *f,
                                      gconstpointer  data)
{
  const Fault *fault = data;
  /* A failing fault lasts until it is dropped; a delay, for three
   * requests. */
  g_autofree char *path = g_strdup_printf ("faults?kind=%s&count=%u&parameter=%u", fault->kind,
                                           fault->fails ? 1000 : 3, fault->parameter);
  g_autofree char *here = g_strdup_printf ("Made here during %s", fault->kind);
  g_autofree char *there = g_strdup_printf ("Made in Outlook during %s", fault->kind);
  g_autofree char *uid = g_strdup_printf ("fault-%s@agendaline.test", fault->kind);
  g_autofree char *ical = simple_ical (uid, here, "20261211T090000Z", "20261211T100000Z");
  g_autofree char *item_id = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(JsonNode) during = NULL;
  g_autoptr(JsonNode) after = NULL;
  JsonObject *object;

  add_account (f, NULL);
  wait_settled (f);

  reply = control (f, "POST", path, NULL, SOUP_STATUS_OK);
  item_id = exchange_create_simple (f, there, "2026-12-11T13:00:00Z", "2026-12-11T14:00:00Z");
  agenda_add (f, ical);

  if (fault->fails)
    {
      await (f, "offline with the last error while the fault lasts", offline_with_error, NULL,
             FAULT_DEADLINE_S);
      during = connection_json (f);
      object = json_node_get_object (during);
      g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "offline");
      note ("last error: %s", json_object_get_string_member_with_default (object, "last_error", "(null)"));
      g_clear_pointer (&reply, g_free);
      reply = control (f, "DELETE", "faults", NULL, SOUP_STATUS_OK);
    }
  await (f, "converged and online after the fault", converged_online, NULL, FAULT_DEADLINE_S);
  after = connection_json (f);
  object = json_node_get_object (after);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "online");
  g_assert_true (json_object_get_null_member (object, "last_error"));
  g_assert_cmpint (json_object_get_int_member (object, "items"), ==, 2);
}

/* --- notifications ----------------------------------------------------- */

static gboolean
notifications_are (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GVariant) connection = get_connection (f);
  g_autofree char *notifications = dict_string (connection, "notifications");

  return g_strcmp0 (notifications, data) == 0 && settled (f, NULL);
}

static void
test_pull_when_streaming_disabled (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *reply = control (f, "POST", "streaming?enabled=false", NULL, SOUP_STATUS_OK);
  g_autofree char *item_id = NULL;
  g_autofree char *ical = simple_ical ("pull@agendaline.test", "Made here with pull",
                                       "20261212T090000Z", "20261212T100000Z");
  g_autoptr(JsonNode) connection = NULL;

  add_account (f, NULL);
  await (f, "notifications fall back to pull", notifications_are, "pull", PROPAGATION_DEADLINE_S);
  connection = connection_json (f);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (connection), "notifications"),
                   ==, "pull");

  item_id = exchange_create_simple (f, "Made in Outlook with pull", "2026-12-12T13:00:00Z",
                                    "2026-12-12T14:00:00Z");
  await_here (f, "created in Exchange → here (pull)", "Made in Outlook with pull");
  agenda_add (f, ical);
  await_on_exchange (f, "created here → Exchange (pull)", "Made here with pull");
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

typedef struct {
  Fixture  *f;
  gboolean  shown;  /* a ConnectionChanged after which the id was listed */
} SubscriptionSeen;

static void
connection_changed_cb (GDBusConnection *connection,
                       const char      *sender,
                       const char      *path,
                       const char      *interface,
                       const char      *signal,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  SubscriptionSeen *seen = user_data;
  g_autoptr(GVariant) listed = get_connection (seen->f);
  g_autofree char *subscription = dict_string (listed, "subscription-id");

  if (subscription != NULL && *subscription != '\0')
    seen->shown = TRUE;
}

/* A client that reads the connection only when ConnectionChanged says so
 * (the app's Connections page) learns the streaming subscription's id: it
 * is established after the sync, so its arrival is a change of its own. */
static void
test_subscription_signalled (Fixture       *f,
                             gconstpointer  data)
{
  SubscriptionSeen seen = { f, FALSE };
  guint id;

  id = g_dbus_connection_signal_subscribe (f->h.connection, NULL, "io.github.agendaline.Daemon",
                                           "ConnectionChanged", NULL, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, connection_changed_cb,
                                           &seen, NULL);
  add_account (f, NULL);
  wait_settled (f);
  if (!agl_sync_harness_wait_for_flag (&seen.shown, (guint) PROPAGATION_DEADLINE_S))
    fail_case (f, "no ConnectionChanged came with the subscription id listed");
  g_dbus_connection_signal_unsubscribe (f->h.connection, id);
}

static void
test_expired_subscriptions (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *expired = NULL;
  g_autofree char *again = NULL;

  add_account (f, NULL);
  wait_settled (f);

  expired = control (f, "POST", "subscriptions/expire", NULL, SOUP_STATUS_OK);
  note ("subscriptions expired: %s", g_strstrip (expired));
  first = exchange_create_simple (f, "Right after the expiry", "2026-12-13T09:00:00Z",
                                  "2026-12-13T10:00:00Z");
  await_here (f, "created in Exchange right after the expiry → here", "Right after the expiry");
  wait_settled (f);

  /* Once more, now that the daemon subscribed anew. */
  again = control (f, "POST", "subscriptions/expire", NULL, SOUP_STATUS_OK);
  second = exchange_create_simple (f, "Right after the second expiry", "2026-12-13T11:00:00Z",
                                   "2026-12-13T12:00:00Z");
  await_here (f, "created in Exchange right after the second expiry → here",
              "Right after the second expiry");
  wait_settled (f);
  assert_converged (f);
  assert_on_time (f);
}

/* --- what is not an appointment -------------------------------------- */

static void
test_meeting_request_ignored (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *path = g_strdup_printf ("mailbox/%s/items?class=IPM.Schedule.Meeting.Request",
                                           ALICE);
  g_autofree char *body = calendar_item_xml ("<t:Subject>Invitation: design review</t:Subject>"
                                             "<t:Start>2026-12-14T09:00:00Z</t:Start>"
                                             "<t:End>2026-12-14T10:00:00Z</t:End>");
  g_autofree char *request_id = NULL;
  g_autofree char *item_id = NULL;
  g_autofree char *synced = NULL;
  g_autoptr(GPtrArray) agenda = NULL;
  g_autoptr(JsonArray) items = NULL;

  request_id = control (f, "POST", path, body, SOUP_STATUS_CREATED);
  items = exchange_items (f, ALICE);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0),
                                                  "item_class"), ==,
                   "IPM.Schedule.Meeting.Request");
  item_id = exchange_create_simple (f, "A real appointment", "2026-12-14T11:00:00Z",
                                    "2026-12-14T12:00:00Z");
  add_account (f, NULL);
  await_first_sync (f, "A real appointment");
  synced = ctl_ok (f, NULL, "sync", ACCOUNT, "--wait", NULL);
  wait_settled (f);

  agenda = list_agenda (f);
  g_assert_null (find_appointment (agenda, "Invitation: design review"));
  g_assert_cmpuint (agenda->len, ==, 1);
  /* Nor did anything go back to Exchange. */
  g_clear_pointer (&items, json_array_unref);
  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, 2);
  assert_on_time (f);
}

/* --- verify ------------------------------------------------------------ */

static void
test_verify_three_legs (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(AglCtlResult) result = NULL;
  g_autoptr(JsonArray) items = NULL;

  add_account (f, NULL);
  wait_settled (f);
  result = run_ctl (f, NULL, "verify", ACCOUNT, NULL);
  note ("%s", result->out);
  if (result->status != 0)
    fail_case (f, "verify failed (%d): %s", result->status, result->err);
  g_assert_nonnull (strstr (result->out, "Local → Exchange: "));
  g_assert_nonnull (strstr (result->out, "Exchange → local: "));
  g_assert_nonnull (strstr (result->out, "Deleted on both sides: "));
  g_assert_nonnull (strstr (result->out, "syncs both ways"));

  /* The check leaves nothing behind. */
  wait_settled (f);
  items = exchange_items (f, ALICE);
  g_assert_cmpuint (json_array_get_length (items), ==, 0);
  g_assert_true (agenda_size_is (f, GUINT_TO_POINTER (0)));
}

/* --- the cases --------------------------------------------------------- */

typedef void (*CaseSetup) (Fixture *f);
typedef void (*CaseFunc) (Fixture *f, gconstpointer data);

typedef struct {
  const char    *path;
  CaseSetup      setup;
  CaseFunc       func;
  gconstpointer  data;
  guint          timeout_seconds;
} Case;

/* In the test's own process: the case in a child process of its own. */
static void
run_case (gconstpointer user_data)
{
  const Case *c = user_data;

  if (g_test_subprocess ())
    {
      Fixture f = { 0, };

      c->setup (&f);
      c->func (&f, c->data);
      teardown (&f);
      return;
    }
  g_test_trap_subprocess (NULL, (guint64) c->timeout_seconds * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
add_case (const char    *path,
          CaseSetup      case_setup,
          CaseFunc       func,
          gconstpointer  data,
          guint          timeout_seconds)
{
  Case *c = g_new0 (Case, 1);

  c->path = path;
  c->setup = case_setup;
  c->func = func;
  c->data = data;
  c->timeout_seconds = timeout_seconds;
  g_test_add_data_func_full (path, c, run_case, g_free);
}

int
main (int   argc,
      char *argv[])
{
  /* The TAP comments name the directions with arrows. */
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  /* The parent reports each child's failure and goes on with the next. */
  if (!g_test_subprocess ())
    g_test_set_nonfatal_assertions ();

  add_case ("/sync/one-way/create-here-reaches-exchange", setup,
            test_create_here_reaches_exchange, NULL, 120);
  add_case ("/sync/one-way/create-in-exchange-arrives-here", setup,
            test_create_in_exchange_arrives_here, NULL, 120);
  add_case ("/sync/one-way/update-here-reaches-exchange", setup,
            test_update_here_reaches_exchange, NULL, 120);
  add_case ("/sync/one-way/update-in-exchange-arrives-here", setup,
            test_update_in_exchange_arrives_here, NULL, 120);
  add_case ("/sync/one-way/delete-here-removes-from-exchange", setup,
            test_delete_here_removes_from_exchange, NULL, 120);
  add_case ("/sync/one-way/delete-soon-after-create", setup,
            test_delete_soon_after_create, NULL, 120);
  add_case ("/sync/one-way/delete-in-exchange-removes-here", setup,
            test_delete_in_exchange_removes_here, NULL, 120);
  add_case ("/sync/one-way/moved-out-of-calendar-removes-here", setup,
            test_moved_out_of_calendar_removes_here, NULL, 120);

  add_case ("/sync/both-sides/changed-both-exchange-wins", setup, test_changed_on_both_sides,
            &exchange_wins, 120);
  add_case ("/sync/both-sides/changed-both-local-wins", setup, test_changed_on_both_sides,
            &local_wins, 120);
  add_case ("/sync/both-sides/changed-both-newer-wins-here", setup, test_changed_on_both_sides,
            &newer_wins_here, 120);
  add_case ("/sync/both-sides/changed-both-newer-wins-exchange", setup,
            test_changed_on_both_sides, &newer_wins_exchange, 120);
  add_case ("/sync/both-sides/deleted-in-exchange-while-changed-here", setup,
            test_deleted_in_exchange_while_changed_here, NULL, 120);
  add_case ("/sync/both-sides/deleted-here-while-changed-in-exchange", setup,
            test_deleted_here_while_changed_in_exchange, NULL, 120);

  add_case ("/sync/recurring/series-from-here-is-one-item", setup,
            test_series_from_here_is_one_item, NULL, 120);
  add_case ("/sync/recurring/occurrence-edited-in-exchange-is-override", setup,
            test_occurrence_edited_in_exchange_is_override, NULL, 120);
  add_case ("/sync/recurring/occurrence-deleted-in-exchange-is-exdate", setup,
            test_occurrence_deleted_in_exchange_is_exdate, NULL, 120);
  add_case ("/sync/recurring/occurrence-edited-here-is-exception", setup,
            test_occurrence_edited_here_is_exception, NULL, 120);

  add_case ("/sync/time/all-day-both-ways", setup, test_all_day_both_ways, NULL, 120);
  add_case ("/sync/time/new-york-round-trip", setup, test_new_york_round_trip, NULL, 120);
  add_case ("/sync/time/windows-zone-from-exchange", setup,
            test_windows_zone_from_exchange, NULL, 120);

  add_case ("/sync/first-sync/10000-items", setup_large_mailbox,
            test_first_sync_of_10000_items, NULL, 300);

  add_case ("/sync/repoint/other-mailbox-needs-confirmation", setup_two_mailboxes,
            test_repoint_to_other_mailbox, NULL, 120);
  add_case ("/sync/repoint/same-mailbox-other-url", setup_two_mailboxes,
            test_repoint_to_same_mailbox_other_url, NULL, 120);

  for (gsize i = 0; i < G_N_ELEMENTS (faults); i++)
    add_case (g_strdup_printf ("/sync/faults/%s", faults[i].kind), setup,
              test_fault_passes_and_sync_converges, &faults[i], 200);

  add_case ("/sync/notifications/pull-when-streaming-disabled", setup,
            test_pull_when_streaming_disabled, NULL, 120);
  add_case ("/sync/notifications/subscription-signalled", setup,
            test_subscription_signalled, NULL, 60);
  add_case ("/sync/notifications/subscriptions-expired", setup,
            test_expired_subscriptions, NULL, 120);

  add_case ("/sync/meeting-request-ignored", setup, test_meeting_request_ignored, NULL, 120);
  /* The daemon gives up on a leg after 5 minutes. */
  add_case ("/sync/verify-three-legs", setup, test_verify_three_legs, NULL, 420);

  return g_test_run ();
}
