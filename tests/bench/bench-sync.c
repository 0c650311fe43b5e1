/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * How fast the sync is: the real agendalined on a private session bus
 * (GTestDBus) against the test Exchange server (tests/ews-server) seeded
 * with generated mailboxes.
 *
 *   meson test -C build --benchmark --verbose bench-sync
 *
 * Prints one JSON object on stdout (progress goes to stderr):
 *   "first_sync": per mailbox size (1,000 and 10,000 items), the seconds
 *     from adding the account until the daemon reports the whole calendar
 *     synced, and the daemon's peak RSS (VmHWM) after it;
 *   "latency": on the 1,000-item mailbox, 200 changes each way, the
 *     milliseconds until the change is seen on the other side (median, p99,
 *     max).
 * Nothing here asserts a time.  Arguments: [SIZE…] to measure other sizes
 * (the first one is used for the latencies).
 *
 * AGL_TEST_DAEMON, AGL_TEST_CTL and AGL_TEST_EWS_SERVER name the binaries,
 * AGL_EWS_SERVER_FIXTURES the server's certificates, AGL_EWS_KIT the
 * schemas; tests/bench/meson.build sets them.
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "agl-sync-harness.h"

#define WAIT_SECONDS      600   /* a first sync of a large mailbox */
#define CHANGE_SECONDS    30    /* one change to arrive */
#define CHANGES           200
#define POLL_MS           5
#define ACCOUNT           "work"
#define MAILBOX           "alice@example.org"
#define PASSWORD          "Agendaline-bench-1"

#define NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"

typedef struct {
  AglSyncHarness   h;
  guint            items;

  /* AgendaChanged: the local id waited for, and whether it came. */
  gint64           awaited_id;
  gboolean         arrived;
} Bench;

/* @n single appointments over a year from 2027-01-04, working hours. */
static char *
write_seed (Bench *b,
            guint  n)
{
  g_autofree char *path = g_build_filename (b->h.dir, "seed.json", NULL);
  g_autoptr(GString) seed = g_string_new ("{ \"mailboxes\": [ { \"address\": \"" MAILBOX "\", "
                                          "\"user\": \"alice\", \"domain\": \"EXAMPLE\", "
                                          "\"password\": \"" PASSWORD "\", "
                                          "\"display_name\": \"Alice Martin\", \"items\": [\n");
  g_autoptr(GDateTime) base = g_date_time_new_utc (2027, 1, 4, 0, 0, 0);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GDateTime) start = g_date_time_add_full (base, 0, 0, (i / 8) % 365,
                                                         8 + i % 8, (i / 2920) * 5, 0);
      g_autoptr(GDateTime) end = g_date_time_add_minutes (start, 45);
      g_autofree char *s = g_date_time_format (start, "%Y-%m-%dT%H:%M:%SZ");
      g_autofree char *e = g_date_time_format (end, "%Y-%m-%dT%H:%M:%SZ");

      g_string_append_printf (seed, "%s{ \"xml\": \"<t:Subject>Bench item %u</t:Subject>"
                              "<t:Body BodyType=\\\"Text\\\">Generated for the sync benchmark."
                              "</t:Body><t:Start>%s</t:Start><t:End>%s</t:End>"
                              "<t:Location>Room %u</t:Location>\" }\n",
                              i > 0 ? "," : "", i, s, e, i % 40);
    }
  g_string_append (seed, "] } ] }\n");
  g_file_set_contents (path, seed->str, seed->len, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static void
start_server (Bench *b,
              guint  n)
{
  g_autofree char *seed = write_seed (b, n);

  agl_sync_harness_start_server (&b->h, seed);
}

static GVariant *
call_daemon (Bench              *b,
             const char         *method,
             GVariant           *parameters,
             const GVariantType *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = agl_sync_harness_call_daemon (&b->h, method, parameters, reply_type, &error);
  if (reply == NULL)
    g_error ("%s: %s", method, error->message);
  return reply;
}

static void
add_account (Bench *b)
{
  g_autoptr(GSubprocessLauncher) launcher =
    agl_sync_harness_new_launcher (&b->h, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                          G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  g_autoptr(GSubprocess) ctl = NULL;
  g_autoptr(GError) error = NULL;

  ctl = g_subprocess_launcher_spawn (launcher, &error, agl_sync_harness_env ("AGL_TEST_CTL"),
                                     "account", "add", ACCOUNT, "--email", MAILBOX,
                                     "--url", b->h.url, "--auth", "ntlm", "--user", "alice",
                                     "--domain", "EXAMPLE", "--ca-file", ca, "--password-stdin",
                                     NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (ctl, PASSWORD "\n", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (ctl))
    g_error ("agendalinectl account add failed");
}

/* The account's entry in ListConnections. */
static GVariant *
connection_state (Bench *b)
{
  g_autoptr(GVariant) reply = call_daemon (b, "ListConnections", NULL,
                                           G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      GVariant *entry = g_variant_get_child_value (list, i);
      const char *name = NULL;

      if (g_variant_lookup (entry, "name", "&s", &name) && g_str_equal (name, ACCOUNT))
        return entry;
      g_variant_unref (entry);
    }
  g_error ("ListConnections has no account %s", ACCOUNT);
  return NULL;
}

/* Synced through and nothing waiting to go out. */
static gboolean
is_settled (Bench *b,
            guint  items)
{
  g_autoptr(GVariant) entry = connection_state (b);
  const char *status = "", *last_sync = "";
  guint32 count = 0, pending = 1;

  g_variant_lookup (entry, "status", "&s", &status);
  g_variant_lookup (entry, "last-sync", "&s", &last_sync);
  g_variant_lookup (entry, "items", "u", &count);
  g_variant_lookup (entry, "pending", "u", &pending);
  return g_str_equal (status, "online") && *last_sync != '\0' && pending == 0 &&
         (items == 0 || count == items);
}

/* Polls ListConnections every @interval_ms until settled.  A D-Bus call
 * of a few hundred µs that the daemon answers between its requests: next
 * to a first sync it costs nothing measurable. */
static gboolean
wait_settled (Bench *b,
              guint  items,
              guint  interval_ms,
              guint  seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!is_settled (b, items))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      agl_sync_harness_run_for (interval_ms);
    }
  return TRUE;
}

static guint64
peak_rss_kib (GSubprocess *process)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", g_subprocess_get_identifier (process));
  g_autofree char *status = NULL;
  const char *hwm;

  if (!g_file_get_contents (path, &status, NULL, NULL) || (hwm = strstr (status, "VmHWM:")) == NULL)
    return 0;
  return g_ascii_strtoull (hwm + strlen ("VmHWM:"), NULL, 10);
}

/* HTTP on the server; an answer other than a success stops the benchmark. */
static char *
http (Bench      *b,
      const char *method,
      const char *path,
      const char *body)
{
  guint status;
  char *text = agl_sync_harness_http (&b->h, method, path, body, &status);

  if (status >= 300)
    g_error ("%s %s: HTTP %u", method, path, status);
  return text;
}

static char *
ews_call (Bench      *b,
          const char *body)
{
  guint status;
  char *text = agl_sync_harness_ews_call (&b->h, body, &status);

  if (status >= 300)
    g_error ("POST /EWS/Exchange.asmx: HTTP %u", status);
  return text;
}

/* The text of the first <t:NAME> after @from, or NULL. */
static char *
element_text (const char  *from,
              const char  *name,
              const char **after)
{
  g_autofree char *open = g_strdup_printf ("<t:%s>", name);
  g_autofree char *close = g_strdup_printf ("</t:%s>", name);
  const char *start = strstr (from, open);
  const char *end;

  if (start == NULL || (end = strstr (start, close)) == NULL)
    return NULL;
  start += strlen (open);
  if (after != NULL)
    *after = end + strlen (close);
  return g_strndup (start, end - start);
}

/* One appointment on both sides. */
typedef struct {
  char   *remote_id;
  char   *uid;
  gint64  local_id;
  char   *dtstart;
  char   *dtend;
} Target;

static void
target_clear (Target *t)
{
  g_free (t->remote_id);
  g_free (t->uid);
  g_free (t->dtstart);
  g_free (t->dtend);
}

static char *
ical_time (const char *iso)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (iso, utc);

  g_assert_nonnull (dt);
  return g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
}

/* @n appointments known on both sides: Exchange's ItemIds and UIDs by
 * FindItem, the local ids by ListItems. */
static GArray *
pick_targets (Bench *b,
              guint  n)
{
  g_autofree char *reply = NULL;
  g_autoptr(GVariant) local = NULL;
  g_autoptr(GHashTable) by_uid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_variant_unref);
  GArray *targets = g_array_new (FALSE, TRUE, sizeof (Target));
  g_autoptr(GVariantIter) iter = NULL;
  GVariant *dict;
  const char *p;

  g_array_set_clear_func (targets, (GDestroyNotify) target_clear);
  local = call_daemon (b, "ListItems", g_variant_new ("(sss)", "", "", ACCOUNT),
                       G_VARIANT_TYPE ("(aa{sv})"));
  g_variant_get (local, "(aa{sv})", &iter);
  while (g_variant_iter_next (iter, "@a{sv}", &dict))
    {
      const char *uid = NULL;

      g_variant_lookup (dict, "uid", "&s", &uid);
      g_hash_table_replace (by_uid, g_strdup (uid), dict);
    }

  reply = ews_call (b, "<m:FindItem Traversal=\"Shallow\"><m:ItemShape>"
                       "<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
                       "<t:FieldURI FieldURI=\"calendar:UID\"/></t:AdditionalProperties>"
                       "</m:ItemShape><m:ParentFolderIds>"
                       "<t:DistinguishedFolderId Id=\"calendar\"/></m:ParentFolderIds>"
                       "</m:FindItem>");
  p = reply;
  while (targets->len < n && (p = strstr (p, "<t:ItemId Id=\"")) != NULL)
    {
      Target t = { 0 };
      GVariant *item;
      const char *start = NULL, *end = NULL;

      p += strlen ("<t:ItemId Id=\"");
      t.remote_id = g_strndup (p, strchr (p, '"') - p);
      t.uid = element_text (p, "UID", &p);
      item = t.uid != NULL ? g_hash_table_lookup (by_uid, t.uid) : NULL;
      if (item == NULL)
        {
          target_clear (&t);
          continue;
        }
      g_variant_lookup (item, "id", "x", &t.local_id);
      g_variant_lookup (item, "start", "&s", &start);
      g_variant_lookup (item, "end", "&s", &end);
      t.dtstart = ical_time (start);
      t.dtend = ical_time (end);
      g_array_append_val (targets, t);
    }
  if (targets->len < n)
    g_error ("only %u of the %u appointments are on both sides", targets->len, n);
  return targets;
}

static void
agenda_changed_cb (GDBusConnection *connection,
                   const char      *sender,
                   const char      *path,
                   const char      *interface,
                   const char      *signal,
                   GVariant        *parameters,
                   gpointer         user_data)
{
  Bench *b = user_data;
  g_autoptr(GVariant) updated = g_variant_get_child_value (parameters, 2);
  gsize n;
  const gint64 *ids = g_variant_get_fixed_array (updated, &n, sizeof (gint64));

  for (gsize i = 0; i < n; i++)
    if (ids[i] == b->awaited_id)
      b->arrived = TRUE;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
print_stats (const char *name,
             GArray     *ms,
             gboolean    last)
{
  double *v = (double *) ms->data;
  guint n = ms->len;
  guint p99 = (guint) ceil (0.99 * n) - 1;

  g_array_sort (ms, compare_doubles);
  printf ("    \"%s\": { \"changes\": %u, \"median_ms\": %.1f, \"p99_ms\": %.1f, "
          "\"max_ms\": %.1f }%s\n", name, n,
          n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[MIN (p99, n - 1)], v[n - 1],
          last ? "" : ",");
}

/* Exchange → here: a subject changed "in Outlook" (the control endpoint)
 * until AgendaChanged names the appointment as updated; the signal is
 * the daemon's own word that the change is stored, and costs the daemon
 * nothing extra. */
static double
exchange_to_local (Bench  *b,
                   Target *t,
                   guint   i)
{
  g_autofree char *escaped = g_uri_escape_string (t->remote_id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/control/mailbox/" MAILBOX "/items/%s", escaped);
  g_autofree char *body = g_strdup_printf ("<t:CalendarItem xmlns:t=\"" NS_TYPES "\">"
                                           "<t:Subject>Changed in Outlook %u</t:Subject>"
                                           "</t:CalendarItem>", i);
  g_autofree char *reply = NULL;
  gint64 t0;

  b->awaited_id = t->local_id;
  b->arrived = FALSE;
  t0 = g_get_monotonic_time ();
  reply = http (b, "POST", path, body);
  if (!agl_sync_harness_wait_for_flag (&b->arrived, CHANGE_SECONDS))
    g_error ("a change in Exchange did not arrive within %d s", CHANGE_SECONDS);
  return (g_get_monotonic_time () - t0) / 1000.0;
}

/* Here → Exchange: UpdateItem over D-Bus, then GetItem of that one item
 * (IdOnly + Subject, a request of a few hundred bytes) every 5 ms until
 * Exchange has the new subject.  The polls share the single-threaded
 * server with the daemon, so a push can wait for at most one of them
 * (well under a millisecond); a listing of the whole calendar at that
 * rate would cost far more. */
static double
local_to_exchange (Bench  *b,
                   Target *t,
                   guint   i)
{
  g_autofree char *subject = g_strdup_printf ("Changed here %u", i);
  g_autofree char *ical = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                           "PRODID:-//Agendaline//bench//EN\r\nBEGIN:VEVENT\r\n"
                                           "UID:%s\r\nDTSTAMP:20270101T000000Z\r\n"
                                           "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n"
                                           "END:VEVENT\r\nEND:VCALENDAR\r\n",
                                           t->uid, t->dtstart, t->dtend, subject);
  g_autofree char *request = g_strdup_printf ("<m:GetItem><m:ItemShape>"
                                              "<t:BaseShape>IdOnly</t:BaseShape>"
                                              "<t:AdditionalProperties>"
                                              "<t:FieldURI FieldURI=\"item:Subject\"/>"
                                              "</t:AdditionalProperties></m:ItemShape>"
                                              "<m:ItemIds><t:ItemId Id=\"%s\"/></m:ItemIds>"
                                              "</m:GetItem>", t->remote_id);
  g_autofree char *wanted = g_strdup_printf ("<t:Subject>%s</t:Subject>", subject);
  g_autoptr(GVariant) reply = NULL;
  gint64 t0 = g_get_monotonic_time ();
  gint64 deadline = t0 + CHANGE_SECONDS * G_USEC_PER_SEC;

  reply = call_daemon (b, "UpdateItem", g_variant_new ("(xs)", t->local_id, ical), NULL);
  for (;;)
    {
      g_autofree char *answer = ews_call (b, request);

      if (strstr (answer, wanted) != NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("a change made here did not reach Exchange within %d s", CHANGE_SECONDS);
      agl_sync_harness_run_for (POLL_MS);
    }
  return (g_get_monotonic_time () - t0) / 1000.0;
}

/* One mailbox of @n items: its first sync appended to @first_sync (a JSON
 * object), and when @in_ms is not NULL the latencies of CHANGES changes
 * each way. */
static void
bench_mailbox (guint     n,
               GString  *first_sync,
               GArray  **in_ms,
               GArray  **out_ms)
{
  /* The children die with the benchmark and log only what they log by
   * default. */
  static const char * const child_env[] = { "G_MESSAGES_DEBUG", NULL };
  Bench bench = { 0 }, *b = &bench;
  gint64 t0;
  double seconds;
  guint subscription;

  b->h.timeout_seconds = 120;
  b->h.death_signal = SIGKILL;
  b->h.child_env = child_env;
  b->h.ews_login = "EXAMPLE\\alice:" PASSWORD;
  agl_sync_harness_init (&b->h, "agl-bench-sync-XXXXXX");
  subscription = g_dbus_connection_signal_subscribe (b->h.connection, AGL_BUS_NAME, AGL_BUS_NAME,
                                                     "AgendaChanged", AGL_OBJECT_PATH, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, agenda_changed_cb,
                                                     b, NULL);
  g_printerr ("%u items: starting the server\n", n);
  start_server (b, n);
  agl_sync_harness_start_daemon (&b->h, "agendalined.log", NULL);

  /* From the account's creation (the daemon starts its first sync at
   * once; agendalinectl's start-up, a few ms, is included) to the whole
   * calendar stored, polled every 20 ms. */
  t0 = g_get_monotonic_time ();
  add_account (b);
  if (!wait_settled (b, n, 20, WAIT_SECONDS))
    g_error ("the first sync of %u items did not finish within %d s", n, WAIT_SECONDS);
  seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_printerr ("%u items: first sync %.2f s\n", n, seconds);
  g_string_append_printf (first_sync, "%s    { \"items\": %u, \"first_sync_seconds\": %.3f, "
                          "\"daemon_peak_rss_kib\": %" G_GUINT64_FORMAT " }",
                          first_sync->len > 0 ? ",\n" : "", n, seconds, peak_rss_kib (b->h.daemon));

  if (in_ms != NULL)
    {
      g_autoptr(GArray) targets = pick_targets (b, CHANGES);

      *in_ms = g_array_new (FALSE, FALSE, sizeof (double));
      *out_ms = g_array_new (FALSE, FALSE, sizeof (double));
      /* Alternate directions, each from a quiet daemon (synced, nothing
       * pending) and 20 ms later, so that one change seldom waits for the
       * cycle that pulls the echo of the previous one. */
      for (guint i = 0; i < CHANGES; i++)
        {
          double ms;

          wait_settled (b, 0, POLL_MS, CHANGE_SECONDS);
          agl_sync_harness_run_for (20);
          ms = exchange_to_local (b, &g_array_index (targets, Target, i), i);
          g_array_append_val (*in_ms, ms);
          wait_settled (b, 0, POLL_MS, CHANGE_SECONDS);
          agl_sync_harness_run_for (20);
          ms = local_to_exchange (b, &g_array_index (targets, Target, (i + CHANGES / 2) % CHANGES),
                                  i);
          g_array_append_val (*out_ms, ms);
        }
      g_printerr ("%u items: %u changes each way measured\n", n, CHANGES);
    }

  g_dbus_connection_signal_unsubscribe (b->h.connection, subscription);
  agl_sync_harness_clear (&b->h, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GString) first_sync = g_string_new (NULL);
  g_autoptr(GArray) in_ms = NULL;
  g_autoptr(GArray) out_ms = NULL;
  guint default_sizes[] = { 1000, 10000 };
  guint n_sizes = argc > 1 ? (guint) argc - 1 : G_N_ELEMENTS (default_sizes);

  for (guint i = 0; i < n_sizes; i++)
    {
      guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[i + 1], NULL, 10) : default_sizes[i];

      if (n < CHANGES)
        g_error ("a mailbox needs at least %d items", CHANGES);
      bench_mailbox (n, first_sync, i == 0 ? &in_ms : NULL, i == 0 ? &out_ms : NULL);
    }

  printf ("{\n  \"first_sync\": [\n%s\n  ],\n", first_sync->str);
  printf ("  \"latency\": {\n    \"mailbox_items\": %s,\n", argc > 1 ? argv[1] : "1000");
  print_stats ("exchange_to_local", in_ms, FALSE);
  print_stats ("local_to_exchange", out_ms, TRUE);
  printf ("  }\n}\n");
  return 0;
}
