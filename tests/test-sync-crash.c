/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The crash test: the real agendalined, on a private session bus
 * (GTestDBus), syncs an account on the test Exchange server
 * (tests/ews-server) while changes are made on both sides, and is killed
 * with SIGKILL at many points of a two-way sync.  After a restart on the
 * same database and a final sync, both sides must hold the same
 * appointments: every UID exactly once on each side, every edit's final
 * subject on both sides, nothing deleted coming back.
 *
 * The test keeps a model of what must be there.  Each appointment is
 * edited (and deleted) from one side only for its whole life, whichever
 * side created it: an edit that waits in the journal across a kill would
 * otherwise meet an edit from the other side in a later round, and the
 * account's policy would settle a real conflict.  So no conflict record may
 * appear either.
 *
 * A round: Outlook's changes (edits, a delete, creates) through the
 * server's control endpoint while the daemon is down; the daemon started
 * on the same database; the local changes over D-Bus as soon as it serves
 * (it is connecting and syncing meanwhile); SyncAccount; SIGKILL after a
 * delay that moves through 0-100 ms from round to round, so that kills land
 * while connecting, pulling a page, reading items, looking for a lost
 * create, creating (also between Exchange's answer and the stored link),
 * updating, deleting, and after the cycle.
 *
 * Exchange's side is read with FindItem over EWS as the seed's user, as a
 * client would.  Each round starts the daemon with a log of its own
 * (G_MESSAGES_DEBUG names every EWS request as it is sent), so the request
 * in flight when the kill landed is the last one the log names; the spread
 * is printed at the end.
 *
 * AGL_TEST_DAEMON, AGL_TEST_CTL and AGL_TEST_EWS_SERVER name the binaries,
 * AGL_EWS_SERVER_FIXTURES the server's certificates, AGL_EWS_KIT the
 * schemas it validates against.  Every wait is on the main loop for the
 * event itself, with a timeout; the only timed wait is the delay before
 * each kill, which is the point of the test.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "agl-sync-harness.h"

#define WAIT_TIMEOUT_SECONDS 60
#define ROUNDS               50
#define KILL_DELAY_MAX_MS    100
#define CREATES_PER_SIDE     3
#define EDITS_PER_SIDE       4
#define ACCOUNT              "work"
#define MAILBOX              "alice@example.org"
#define PASSWORD             "Agendaline-crash-1"

#define NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

/* One logical appointment and what it must end as. */
typedef struct {
  guint     key;
  char     *uid;          /* NULL until known (Exchange names its own) */
  char     *remote_id;    /* Exchange's ItemId, once seen there */
  gint64    start;        /* Unix time; never changes */
  char     *subject;      /* the last subject written, on either side */
  gboolean  deleted;
  gboolean  edit_local;   /* the only side that edits or deletes it */
  gboolean  created_local;
} Appt;

typedef struct {
  AglSyncHarness   h;
  guint            daemon_starts;
  GPtrArray       *appts;      /* Appt */
  GHashTable      *phases;     /* phase -> count (GUINT_TO_POINTER) */
} Fixture;

/* What one side holds of an appointment. */
typedef struct {
  gint64  id;            /* local id; 0 on Exchange's side */
  char   *remote_id;     /* Exchange's ItemId; NULL locally */
  char   *uid;
  char   *subject;
  gint64  start;
} Seen;

static void
seen_free (Seen *seen)
{
  g_free (seen->remote_id);
  g_free (seen->uid);
  g_free (seen->subject);
  g_free (seen);
}

static void
appt_free (Appt *appt)
{
  g_free (appt->uid);
  g_free (appt->remote_id);
  g_free (appt->subject);
  g_free (appt);
}

/* What the daemon logged, as TAP comments. */
static void
dump_daemon_log (Fixture *f)
{
  g_autofree char *log = NULL;

  if (f->h.daemon_log != NULL && g_file_get_contents (f->h.daemon_log, &log, NULL, NULL))
    g_test_message ("%s:\n%s", f->h.daemon_log, log);
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* A mailbox of its own with an empty calendar. */
static char *
write_seed (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->h.dir, "seed.json", NULL);
  g_autoptr(GError) error = NULL;
  const char *seed =
    "{ \"mailboxes\": [ { \"address\": \"" MAILBOX "\", \"user\": \"alice\", "
    "\"domain\": \"EXAMPLE\", \"password\": \"" PASSWORD "\", "
    "\"display_name\": \"Alice Martin\", \"items\": [] } ] }\n";

  g_file_set_contents (path, seed, -1, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static void
start_server (Fixture *f)
{
  g_autofree char *seed = write_seed (f);

  agl_sync_harness_start_server (&f->h, seed);
}

/* Each start logs to a file of its own, so that the kill's phase can be
 * read from the log it cut short. */
static void
start_daemon (Fixture *f)
{
  g_autofree char *log_name = g_strdup_printf ("agendalined-%02u.log", f->daemon_starts++);

  /* Every EWS request is named as it is sent; the sync's own lines too. */
  agl_sync_harness_start_daemon (&f->h, log_name, "agendalined agendalined-ews");
}

static void
process_exited_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static gboolean
not_flag (gboolean *flag)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);

  while (*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !*flag;
}

/* SIGKILL, then wait until it is gone and its bus name with it, so that
 * the next daemon gets the name. */
static void
kill_daemon (Fixture *f)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (f->h.daemon, NULL, process_exited_cb, &exited);
  g_subprocess_send_signal (f->h.daemon, SIGKILL);
  if (!agl_sync_harness_wait_for_flag (&exited, WAIT_TIMEOUT_SECONDS))
    g_error ("agendalined did not die of SIGKILL within %d s", WAIT_TIMEOUT_SECONDS);
  if (!g_subprocess_get_if_signaled (f->h.daemon) ||
      g_subprocess_get_term_sig (f->h.daemon) != SIGKILL)
    {
      dump_daemon_log (f);
      g_error ("agendalined ended on its own before the kill");
    }
  g_clear_object (&f->h.daemon);
  if (!not_flag (&f->h.daemon_serving))
    g_error ("the daemon's bus name outlived it by %d s", WAIT_TIMEOUT_SECONDS);
}

static int
run_ctl (Fixture     *f,
         const char  *input,
         char       **out,
         ...) G_GNUC_NULL_TERMINATED;

/* agendalinectl ARGS…; its exit status, its stdout in @out. */
static int
run_ctl (Fixture     *f,
         const char  *input,
         char       **out,
         ...)
{
  g_autoptr(AglCtlResult) result = NULL;
  va_list ap;

  va_start (ap, out);
  result = agl_sync_harness_run_ctl_valist (&f->h, input, ap);
  va_end (ap);
  if (result->status != 0)
    {
      g_test_message ("%s -> %d\nstdout: %s\nstderr: %s", result->command, result->status,
                      result->out, result->err);
      dump_daemon_log (f);
    }
  if (out != NULL)
    *out = g_steal_pointer (&result->out);
  return result->status;
}

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
    {
      dump_daemon_log (f);
      g_error ("%s: %s", method, error->message);
    }
  return reply;
}

static char *
format_utc (gint64 when)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (when);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static gint64
parse_utc (const char *text)
{
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) dt = text != NULL ? g_date_time_new_from_iso8601 (text, utc) : NULL;

  return dt != NULL ? g_date_time_to_unix (dt) : -1;
}

/* Outlook creates an appointment; Exchange names its ItemId and UID. */
static char *
remote_create (Fixture    *f,
               const char *subject,
               gint64      start)
{
  g_autofree char *from = format_utc (start);
  g_autofree char *to = format_utc (start + 1800);
  g_autofree char *body = g_markup_printf_escaped ("<t:CalendarItem xmlns:t=\"" NS_TYPES "\">"
                                                   "<t:Subject>%s</t:Subject><t:Start>%s</t:Start>"
                                                   "<t:End>%s</t:End></t:CalendarItem>",
                                                   subject, from, to);
  g_autofree char *reply = NULL;
  guint status;

  reply = agl_sync_harness_http (&f->h, "POST", "/control/mailbox/" MAILBOX "/items", body, &status);
  g_assert_cmpuint (status, ==, SOUP_STATUS_CREATED);
  return g_strstrip (g_steal_pointer (&reply));
}

static void
remote_edit (Fixture    *f,
             const char *remote_id,
             const char *subject)
{
  g_autofree char *escaped = g_uri_escape_string (remote_id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/control/mailbox/" MAILBOX "/items/%s", escaped);
  g_autofree char *body = g_markup_printf_escaped ("<t:CalendarItem xmlns:t=\"" NS_TYPES "\">"
                                                   "<t:Subject>%s</t:Subject></t:CalendarItem>",
                                                   subject);
  g_autofree char *reply = agl_sync_harness_http (&f->h, "POST", path, body, &(guint) { 0 });

  g_assert_cmpstr (reply, ==, "OK\n");
}

static void
remote_delete (Fixture    *f,
               const char *remote_id)
{
  g_autofree char *escaped = g_uri_escape_string (remote_id, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/control/mailbox/" MAILBOX "/items/%s", escaped);
  g_autofree char *reply = agl_sync_harness_http (&f->h, "DELETE", path, NULL, &(guint) { 0 });

  g_assert_cmpstr (reply, ==, "OK\n");
}

static char *
child_text (xmlNode    *node,
            const char *name)
{
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, name) == 0)
      {
        xmlChar *content = xmlNodeGetContent (c);
        char *text = g_strdup ((const char *) content);

        xmlFree (content);
        return text;
      }
  return NULL;
}

static void
collect_calendar_items (xmlNode   *node,
                        GPtrArray *seen)
{
  for (xmlNode *n = node; n != NULL; n = n->next)
    {
      if (n->type != XML_ELEMENT_NODE)
        continue;
      if (strcmp ((const char *) n->name, "CalendarItem") == 0)
        {
          Seen *item = g_new0 (Seen, 1);
          g_autofree char *start = child_text (n, "Start");

          for (xmlNode *c = n->children; c != NULL; c = c->next)
            if (c->type == XML_ELEMENT_NODE && strcmp ((const char *) c->name, "ItemId") == 0)
              {
                xmlChar *id = xmlGetProp (c, (const xmlChar *) "Id");

                item->remote_id = g_strdup ((const char *) id);
                xmlFree (id);
              }
          item->uid = child_text (n, "UID");
          item->subject = child_text (n, "Subject");
          item->start = parse_utc (start);
          g_ptr_array_add (seen, item);
          continue;
        }
      collect_calendar_items (n->children, seen);
    }
}

/* Every item of the calendar on Exchange, read as a client would. */
static GPtrArray *
list_remote (Fixture *f)
{
  const char *request =
    "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
    "<t:AdditionalProperties><t:FieldURI FieldURI=\"item:Subject\"/>"
    "<t:FieldURI FieldURI=\"calendar:Start\"/><t:FieldURI FieldURI=\"calendar:UID\"/>"
    "</t:AdditionalProperties></m:ItemShape>"
    "<m:ParentFolderIds><t:DistinguishedFolderId Id=\"calendar\"/></m:ParentFolderIds>"
    "</m:FindItem>";
  g_autofree char *reply = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  GPtrArray *seen = g_ptr_array_new_with_free_func ((GDestroyNotify) seen_free);
  guint status;

  reply = agl_sync_harness_ews_call (&f->h, request, &status);
  if (status != SOUP_STATUS_OK || strstr (reply, "ResponseClass=\"Success\"") == NULL)
    g_error ("FindItem failed (%u): %s", status, reply);
  doc = xmlReadMemory (reply, strlen (reply), NULL, NULL, XML_PARSE_NONET);
  g_assert_nonnull (doc);
  collect_calendar_items (xmlDocGetRootElement (doc), seen);
  return seen;
}

/* Every appointment of the account in the local agenda. */
static GPtrArray *
list_local (Fixture *f)
{
  g_autoptr(GVariant) reply = call_daemon (f, "ListItems",
                                           g_variant_new ("(sss)", "", "", ACCOUNT),
                                           G_VARIANT_TYPE ("(aa{sv})"));
  g_autoptr(GVariantIter) iter = NULL;
  GPtrArray *seen = g_ptr_array_new_with_free_func ((GDestroyNotify) seen_free);
  GVariant *dict;

  g_variant_get (reply, "(aa{sv})", &iter);
  while (g_variant_iter_next (iter, "@a{sv}", &dict))
    {
      Seen *item = g_new0 (Seen, 1);
      const char *start = NULL;

      g_variant_lookup (dict, "id", "x", &item->id);
      g_variant_lookup (dict, "uid", "s", &item->uid);
      g_variant_lookup (dict, "summary", "s", &item->subject);
      g_variant_lookup (dict, "start", "&s", &start);
      item->start = parse_utc (start);
      g_ptr_array_add (seen, item);
      g_variant_unref (dict);
    }
  return seen;
}

static Seen *
find_seen (GPtrArray  *seen,
           const char *uid,
           const char *remote_id)
{
  for (guint i = 0; i < seen->len; i++)
    {
      Seen *item = g_ptr_array_index (seen, i);

      if ((uid != NULL && g_strcmp0 (item->uid, uid) == 0) ||
          (remote_id != NULL && g_strcmp0 (item->remote_id, remote_id) == 0))
        return item;
    }
  return NULL;
}

static char *
vevent (const char *uid,
        const char *subject,
        gint64      start)
{
  g_autoptr(GDateTime) from = g_date_time_new_from_unix_utc (start);
  g_autoptr(GDateTime) to = g_date_time_new_from_unix_utc (start + 1800);
  g_autofree char *dtstart = g_date_time_format (from, "%Y%m%dT%H%M%SZ");
  g_autofree char *dtend = g_date_time_format (to, "%Y%m%dT%H%M%SZ");

  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//crash test//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, dtstart, dtend, subject);
}

static void
add_account (Fixture *f)
{
  g_autofree char *ca = agl_sync_harness_server_fixture ("ca.pem");
  int status;

  status = run_ctl (f, PASSWORD "\n", NULL, "account", "add", ACCOUNT, "--email", MAILBOX,
                    "--url", f->h.url, "--auth", "ntlm", "--user", "alice", "--domain", "EXAMPLE",
                    "--ca-file", ca, "--password-stdin", NULL);
  g_assert_cmpint (status, ==, 0);
}

/* Milliseconds since local midnight of a log line's "HH:MM:SS.mmm: " just
 * before @at, or -1. */
static gint64
line_time (const char *line,
           const char *at)
{
  guint h, m, sec, ms;

  if (at - line < 14 || sscanf (at - 14, "%2u:%2u:%2u.%3u: ", &h, &m, &sec, &ms) != 4)
    return -1;
  return ((h * 60 + m) * 60 + sec) * (gint64) 1000 + ms;
}

/* What the daemon was doing when it died at @killed_at (ms since local
 * midnight, as its log writes times): the EWS request in flight (the last
 * one its log names, sent less than IDLE_MS before), "watching" once it
 * waits for notifications, "idle after X" when its last request was
 * answered long before, "starting" before any request. */
#define IDLE_MS 25
static char *
killed_in (Fixture *f,
           gint64   killed_at)
{
  static const char * const known[] = {
    "GetFolder", "SyncFolderItems", "GetItem", "FindItem", "CreateItem", "UpdateItem",
    "DeleteItem", "GetStreamingEvents", "Subscribe", "GetEvents", "ResolveNames", NULL
  };
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  const char *phase = NULL;
  gint64 sent_at = -1;

  if (!g_file_get_contents (f->h.daemon_log, &log, NULL, NULL))
    return g_strdup ("no log");
  lines = g_strsplit (log, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *sending = strstr (lines[i], "Sending ");

      if (sending == NULL)
        continue;
      for (guint k = 0; known[k] != NULL; k++)
        if (g_str_has_prefix (sending + 8, known[k]) && sending[8 + strlen (known[k])] == ' ')
          {
            phase = known[k];
            sent_at = line_time (lines[i], sending);
            break;
          }
    }
  if (phase == NULL)
    return g_strdup ("starting");
  if (g_str_equal (phase, "GetStreamingEvents") || g_str_equal (phase, "Subscribe") ||
      g_str_equal (phase, "GetEvents"))
    return g_strdup ("watching");
  if (sent_at >= 0 && killed_at - sent_at > IDLE_MS)
    return g_strdup_printf ("idle after %s", phase);
  return g_strdup (phase);
}

/* Now in the log's terms. */
static gint64
now_of_day (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  return ((g_date_time_get_hour (now) * 60 + g_date_time_get_minute (now)) * 60 +
          g_date_time_get_second (now)) * (gint64) 1000 + g_date_time_get_microsecond (now) / 1000;
}

/* How many times the log says a create whose answer was lost was linked:
 * the kill landed between Exchange's answer and the stored link. */
static guint
count_in_logs (Fixture    *f,
               const char *needle)
{
  guint count = 0;

  for (guint i = 0; i < f->daemon_starts; i++)
    {
      g_autofree char *name = g_strdup_printf ("agendalined-%02u.log", i);
      g_autofree char *path = g_build_filename (f->h.dir, name, NULL);
      g_autofree char *log = NULL;

      if (!g_file_get_contents (path, &log, NULL, NULL))
        continue;
      for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
        count++;
    }
  return count;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  static const char * const child_env[] = { "G_DEBUG=gc-friendly", NULL };

  /* The server and the daemon go with the test when it aborts, so that
   * nothing holds meson's pipes open; a restarted daemon finds the
   * account's password in its fallback file beside the database. */
  f->h.timeout_seconds = WAIT_TIMEOUT_SECONDS;
  f->h.death_signal = SIGKILL;
  f->h.child_env = child_env;
  f->h.ews_login = "EXAMPLE\\alice:" PASSWORD;
  agl_sync_harness_init (&f->h, "agl-sync-crash-XXXXXX");
  f->appts = g_ptr_array_new_with_free_func ((GDestroyNotify) appt_free);
  f->phases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  start_server (f);
  start_daemon (f);
  add_account (f);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  /* Kept for a look when the test failed. */
  if (g_test_failed ())
    g_test_message ("scratch directory kept: %s", f->h.dir);
  agl_sync_harness_clear (&f->h, !g_test_failed ());
  g_ptr_array_unref (f->appts);
  g_hash_table_unref (f->phases);
}

/* The model learns the names each side gave: Exchange's UID of what
 * Outlook created, Exchange's ItemId of what was created here. */
static void
learn_names (Fixture   *f,
             GPtrArray *remote)
{
  for (guint i = 0; i < f->appts->len; i++)
    {
      Appt *appt = g_ptr_array_index (f->appts, i);
      Seen *seen;

      if (appt->uid == NULL && appt->remote_id != NULL &&
          (seen = find_seen (remote, NULL, appt->remote_id)) != NULL)
        appt->uid = g_strdup (seen->uid);
      if (appt->remote_id == NULL && appt->uid != NULL &&
          (seen = find_seen (remote, appt->uid, NULL)) != NULL)
        appt->remote_id = g_strdup (seen->remote_id);
    }
}

static Appt *
new_appt (Fixture *f,
          guint    round,
          gboolean created_local)
{
  Appt *appt = g_new0 (Appt, 1);

  appt->key = f->appts->len;
  appt->start = 1798790400 /* 2027-01-01T00:00:00Z */ + (gint64) appt->key * 3600;
  appt->created_local = created_local;
  /* Half of what each side creates is edited from the other side. */
  appt->edit_local = (appt->key / 2) % 2 == 0;
  appt->subject = g_strdup_printf ("Appointment %u, new in round %u", appt->key, round);
  g_ptr_array_add (f->appts, appt);
  return appt;
}

/* Picks up to @n appointments edited from @local's side and held there
 * now (by @present), never one already picked this round. */
static GPtrArray *
pick (Fixture    *f,
      gboolean    local,
      GPtrArray  *present,
      guint       n)
{
  GPtrArray *picked = g_ptr_array_new ();
  guint len = f->appts->len;
  guint first = len > 0 ? (guint) g_test_rand_int_range (0, (gint32) len) : 0;

  for (guint i = 0; i < len && picked->len < n; i++)
    {
      Appt *appt = g_ptr_array_index (f->appts, (first + i * 7) % len);

      if (appt->deleted || appt->edit_local != local || g_ptr_array_find (picked, appt, NULL))
        continue;
      if (local ? appt->uid == NULL || find_seen (present, appt->uid, NULL) == NULL
                : appt->remote_id == NULL || find_seen (present, NULL, appt->remote_id) == NULL)
        continue;
      g_ptr_array_add (picked, appt);
    }
  return picked;
}

/* Outlook's part of a round, made while the daemon is down: it learns of
 * them as it starts, as after a night switched off. */
static void
make_remote_changes (Fixture *f,
                     guint    round)
{
  g_autoptr(GPtrArray) remote = list_remote (f);
  g_autoptr(GPtrArray) picked = NULL;

  learn_names (f, remote);
  picked = pick (f, FALSE, remote, EDITS_PER_SIDE + 1);
  for (guint i = 0; i < picked->len; i++)
    {
      Appt *appt = g_ptr_array_index (picked, i);

      if (i == 0 && picked->len > EDITS_PER_SIDE)
        {
          remote_delete (f, appt->remote_id);
          appt->deleted = TRUE;
          g_test_message ("round %u: appointment %u (%s) deleted in Outlook", round, appt->key,
                          appt->uid);
          continue;
        }
      g_free (appt->subject);
      appt->subject = g_strdup_printf ("Appointment %u, round %u, Outlook", appt->key, round);
      remote_edit (f, appt->remote_id, appt->subject);
      g_test_message ("round %u: appointment %u (%s) edited in Outlook", round, appt->key,
                      appt->uid);
    }
  for (guint k = 0; k < CREATES_PER_SIDE; k++)
    {
      Appt *appt = new_appt (f, round, FALSE);

      appt->remote_id = remote_create (f, appt->subject, appt->start);
    }
}

/* The local part, made as soon as the daemon serves, while it connects
 * and syncs. */
static void
make_local_changes (Fixture *f,
                    guint    round)
{
  g_autoptr(GPtrArray) local = list_local (f);
  g_autoptr(GPtrArray) picked = pick (f, TRUE, local, EDITS_PER_SIDE + 1);

  for (guint k = 0; k < CREATES_PER_SIDE; k++)
    {
      Appt *appt = new_appt (f, round, TRUE);
      g_autofree char *ical = NULL;
      g_autoptr(GVariant) reply = NULL;
      gint64 id;

      appt->uid = g_strdup_printf ("crash-%u@agendaline.test", appt->key);
      ical = vevent (appt->uid, appt->subject, appt->start);
      reply = call_daemon (f, "CreateItem", g_variant_new ("(ss)", ACCOUNT, ical),
                           G_VARIANT_TYPE ("(x)"));
      g_variant_get (reply, "(x)", &id);
      g_test_message ("round %u: appointment %u (%s, local id %" G_GINT64_FORMAT ") created here",
                      round, appt->key, appt->uid, id);
    }
  for (guint i = 0; i < picked->len; i++)
    {
      Appt *appt = g_ptr_array_index (picked, i);
      Seen *seen = find_seen (local, appt->uid, NULL);
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *ical = NULL;

      if (i == 0 && picked->len > EDITS_PER_SIDE)
        {
          reply = call_daemon (f, "DeleteItem", g_variant_new ("(x)", seen->id), NULL);
          appt->deleted = TRUE;
          g_test_message ("round %u: appointment %u (%s, local id %" G_GINT64_FORMAT ") deleted "
                          "here", round, appt->key, appt->uid, seen->id);
          continue;
        }
      g_free (appt->subject);
      appt->subject = g_strdup_printf ("Appointment %u, round %u, here", appt->key, round);
      ical = vevent (appt->uid, appt->subject, appt->start);
      reply = call_daemon (f, "UpdateItem", g_variant_new ("(xs)", seen->id, ical), NULL);
      g_test_message ("round %u: appointment %u (%s, local id %" G_GINT64_FORMAT ") edited here",
                      round, appt->key, appt->uid, seen->id);
    }
}

static void
note_phase (Fixture    *f,
            const char *phase)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (f->phases, phase));

  g_hash_table_replace (f->phases, g_strdup (phase), GUINT_TO_POINTER (count + 1));
}

/* Compares the model with one side; every difference goes to @problems. */
static void
check_side (Fixture    *f,
            GPtrArray  *seen,
            const char *side,
            GString    *problems)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < seen->len; i++)
    {
      Seen *item = g_ptr_array_index (seen, i);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, item->uid));

      g_hash_table_replace (counts, item->uid, GUINT_TO_POINTER (count + 1));
    }

  for (guint i = 0; i < f->appts->len; i++)
    {
      Appt *appt = g_ptr_array_index (f->appts, i);
      guint count = appt->uid != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (counts, appt->uid)) : 0;
      Seen *item = appt->uid != NULL ? find_seen (seen, appt->uid, NULL) : NULL;

      if (appt->uid == NULL)
        {
          /* Created in Outlook and never listed with a UID: it was deleted
           * there in the same round, or lost. */
          if (!appt->deleted)
            g_string_append_printf (problems, "appointment %u (“%s”, created in Outlook) was "
                                    "never seen on Exchange\n", appt->key, appt->subject);
          continue;
        }
      g_hash_table_remove (counts, appt->uid);
      if (appt->deleted)
        {
          if (count > 0)
            g_string_append_printf (problems, "%s: appointment %u (%s, deleted %s) is there %u "
                                    "times as “%s”\n", side, appt->key, appt->uid,
                                    appt->edit_local ? "here" : "in Outlook", count, item->subject);
          continue;
        }
      if (count != 1)
        {
          g_string_append_printf (problems, "%s: appointment %u (%s, “%s”) is there %u times\n",
                                  side, appt->key, appt->uid, appt->subject, count);
          continue;
        }
      if (g_strcmp0 (item->subject, appt->subject) != 0)
        g_string_append_printf (problems, "%s: appointment %u (%s) is “%s”, the last edit (%s) "
                                "made it “%s”\n", side, appt->key, appt->uid, item->subject,
                                appt->edit_local ? "here" : "in Outlook", appt->subject);
      if (item->start != appt->start)
        g_string_append_printf (problems, "%s: appointment %u (%s) starts at %" G_GINT64_FORMAT
                                ", not %" G_GINT64_FORMAT "\n", side, appt->key, appt->uid,
                                item->start, appt->start);
    }

  /* What is left was never made by the test. */
  {
    GHashTableIter iter;
    gpointer uid, count;

    g_hash_table_iter_init (&iter, counts);
    while (g_hash_table_iter_next (&iter, &uid, &count))
      g_string_append_printf (problems, "%s: %s is there %u times and was never made\n", side,
                              (const char *) uid, GPOINTER_TO_UINT (count));
  }
}

static void
test_kill_during_sync (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(GPtrArray) local = NULL;
  g_autoptr(GPtrArray) remote = NULL;
  g_autoptr(GVariant) conflicts = NULL;
  g_autoptr(GVariant) connections = NULL;
  g_autoptr(GList) phases = NULL;
  g_autofree char *sync_out = NULL;
  gint64 started = g_get_monotonic_time ();
  guint kills = 0;

  for (guint round = 0; round < ROUNDS; round++)
    {
      /* Spread over the whole range, a different slot each round, so that
       * kills land while connecting, pulling, reading items and pushing. */
      guint slot = KILL_DELAY_MAX_MS / ROUNDS;
      guint delay = ((round * 7) % ROUNDS) * slot + g_test_rand_int_range (0, slot + 1);
      g_autoptr(GVariant) reply = NULL;
      g_autofree char *phase = NULL;
      gint64 killed_at;

      if (round > 0)
        {
          make_remote_changes (f, round);
          start_daemon (f);
        }
      make_local_changes (f, round);
      reply = call_daemon (f, "SyncAccount", g_variant_new ("(sb)", ACCOUNT, FALSE),
                           G_VARIANT_TYPE ("(a{sv})"));
      agl_sync_harness_run_for (delay);
      killed_at = now_of_day ();
      kill_daemon (f);
      kills++;
      phase = killed_in (f, killed_at);
      note_phase (f, phase);
      g_test_message ("round %u: %u appointments made so far; killed after %u ms in %s",
                      round, f->appts->len, delay, phase);
    }

  /* Settle: a sync that ran to its end, then one more so that what the
   * first one pushed has come back as Exchange reports it. */
  start_daemon (f);
  if (run_ctl (f, NULL, &sync_out, "sync", ACCOUNT, "--wait", NULL) != 0 ||
      run_ctl (f, NULL, NULL, "sync", ACCOUNT, "--wait", NULL) != 0)
    g_string_append (problems, "the settling sync failed\n");
  g_test_message ("settling sync: %s", sync_out);

  local = list_local (f);
  remote = list_remote (f);
  learn_names (f, remote);
  check_side (f, local, "local agenda", problems);
  check_side (f, remote, "Exchange", problems);

  conflicts = call_daemon (f, "ListConflicts", g_variant_new ("(s)", ACCOUNT),
                           G_VARIANT_TYPE ("(aa{sv})"));
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (conflicts, 0);

    for (gsize i = 0; i < g_variant_n_children (list); i++)
      {
        g_autoptr(GVariant) record = g_variant_get_child_value (list, i);
        const char *uid = "", *summary = "", *reason = "";

        g_variant_lookup (record, "uid", "&s", &uid);
        g_variant_lookup (record, "summary", "&s", &summary);
        g_variant_lookup (record, "reason", "&s", &reason);
        g_string_append_printf (problems, "conflict record (no appointment was edited on both "
                                "sides): %s “%s”: %s\n", uid, summary, reason);
      }
  }

  connections = call_daemon (f, "ListConnections", NULL, G_VARIANT_TYPE ("(aa{sv})"));
  {
    g_autoptr(GVariant) list = g_variant_get_child_value (connections, 0);

    for (gsize i = 0; i < g_variant_n_children (list); i++)
      {
        g_autoptr(GVariant) entry = g_variant_get_child_value (list, i);
        guint32 pending = 0;

        g_variant_lookup (entry, "pending", "u", &pending);
        if (pending != 0)
          g_string_append_printf (problems, "%u local changes still pending after the settling "
                                  "sync\n", pending);
      }
  }

  {
    guint live = 0;

    for (guint i = 0; i < f->appts->len; i++)
      live += !((Appt *) g_ptr_array_index (f->appts, i))->deleted;
    g_test_message ("%u kills in %.1f s; %u appointments made, %u left; local agenda %u, "
                    "Exchange %u", kills, (g_get_monotonic_time () - started) / 1e6,
                    f->appts->len, live, local->len, remote->len);
  }
  phases = g_hash_table_get_keys (f->phases);
  phases = g_list_sort (phases, (GCompareFunc) g_strcmp0);
  for (GList *l = phases; l != NULL; l = l->next)
    g_test_message ("killed in %-16s %u", (const char *) l->data,
                    GPOINTER_TO_UINT (g_hash_table_lookup (f->phases, l->data)));
  g_test_message ("creates whose answer was lost, linked after the restart: %u",
                  count_in_logs (f, "a create whose answer was lost"));

  if (problems->len > 0)
    {
      dump_daemon_log (f);
      g_test_message ("after %u kills the two sides disagree:\n%s", kills, problems->str);
      g_test_fail ();
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sync-crash/kill-during-two-way-sync", Fixture, NULL, setup,
              test_kill_during_sync, teardown);

  return g_test_run ();
}
