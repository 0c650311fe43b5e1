/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "agl-kamailio-harness.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* How long Kamailio has to answer its first OPTIONS, and to exit. */
#define START_SECONDS  10
#define STOP_MS        5000
/* Kamailio tells nobody when it stored a publication: the tests look at
 * its database (and its log) this often.  Short, because the daemon test
 * measures delays to the boundary with it. */
#define POLL_MS        10
#define LOG_POLL_MS    20

typedef struct {
  AglKamailioHarness *k;
  const char         *needle;
  guint               count;
  gboolean            found;
} LogWait;

typedef struct {
  AglKamailioHarness *k;
  const char         *user;
  const char         *domain;
  const char         *previous;
  char               *body;
  gint64              seen_at;
  gboolean            found;
} PresentityWait;

typedef struct {
  AglKamailioHarness *k;
  const char         *user;
  const char         *domain;
  gint64              from;
  gint64              to;
  gboolean            found;
} ExpiryWait;

typedef struct {
  AglKamailioHarness *k;
  const char         *user;
  const char         *domain;
  gboolean            gone;
} WithdrawalWait;

static gboolean
flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
kamailio_exited_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  AglKamailioHarness *k = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  k->exited = TRUE;
}

static gboolean
socket_readable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Kamailio goes when the test does, even when an assertion aborts it
 * before the teardown. */
static void
die_with_parent_cb (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
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

/* presence.db from Kamailio's own schema files. */
static void
create_database (AglKamailioHarness *k)
{
  const char *sql_dir = g_getenv ("AGL_TEST_KAMAILIO_SQL");
  static const char *const files[] = { "standard-create.sql", "presence-create.sql" };
  g_autoptr(sqlite3) db = NULL;

  if (sql_dir == NULL)
    sql_dir = "/usr/share/kamailio/db_sqlite";

  g_assert_cmpint (sqlite3_open (k->db_path, &db), ==, SQLITE_OK);
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

/* Sends OPTIONS every 100 ms until Kamailio answers: then it takes
 * requests.  UDP to a port nobody reads yet is simply lost. */
static gboolean
wait_until_answering (AglKamailioHarness *k)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new (loopback, k->port);
  gint64 deadline = g_get_monotonic_time () + START_SECONDS * G_USEC_PER_SEC;
  g_autofree char *probe = NULL;
  guint16 port;

  port = agl_kamailio_harness_pick_free_udp_port (&socket);
  probe = g_strdup_printf ("OPTIONS sip:probe@127.0.0.1:%u SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-probe;rport\r\n"
                           "Max-Forwards: 5\r\n"
                           "From: <sip:probe@127.0.0.1>;tag=probe\r\n"
                           "To: <sip:probe@127.0.0.1>\r\n"
                           "Call-ID: probe@127.0.0.1\r\n"
                           "CSeq: 1 OPTIONS\r\n"
                           "Content-Length: 0\r\n\r\n",
                           k->port, port);
  g_socket_set_timeout (socket, 0);

  while (g_get_monotonic_time () < deadline && !k->exited)
    {
      char answer[2048];
      gboolean timed_out = FALSE;
      gboolean readable = FALSE;
      g_autoptr(GSource) source = g_socket_create_source (socket, G_IO_IN, NULL);
      guint id;

      g_socket_send_to (socket, to, probe, strlen (probe), NULL, NULL);

      g_source_set_callback (source, G_SOURCE_FUNC (socket_readable_cb), &readable, NULL);
      g_source_attach (source, NULL);
      id = g_timeout_add (100, flag_cb, &timed_out);
      while (!readable && !timed_out && !k->exited)
        g_main_context_iteration (NULL, TRUE);
      g_source_destroy (source);
      if (!timed_out)
        g_source_remove (id);

      if (readable && g_socket_receive (socket, answer, sizeof answer - 1, NULL, NULL) > 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
check_log_cb (gpointer user_data)
{
  LogWait *wait = user_data;

  wait->found = agl_kamailio_harness_count_in_log (wait->k, wait->needle) >= wait->count;
  return wait->found ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
check_presentity_cb (gpointer user_data)
{
  PresentityWait *wait = user_data;
  g_autofree char *body = NULL;

  if (agl_kamailio_harness_read_presentity (wait->k, wait->user, wait->domain, &body, NULL) == 0 ||
      g_strcmp0 (body, wait->previous) == 0)
    return G_SOURCE_CONTINUE;
  wait->seen_at = g_get_real_time ();
  wait->body = g_steal_pointer (&body);
  wait->found = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
check_expiry_cb (gpointer user_data)
{
  ExpiryWait *wait = user_data;
  gint64 expires = 0;

  wait->found = agl_kamailio_harness_read_presentity (wait->k, wait->user, wait->domain,
                                                      NULL, &expires) > 0
                && expires >= wait->from && expires <= wait->to;
  return wait->found ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean
withdrawn (WithdrawalWait *wait)
{
  gint64 expires = 0;

  return agl_kamailio_harness_read_presentity (wait->k, wait->user, wait->domain,
                                               NULL, &expires) == 0
         || expires <= g_get_real_time () / G_USEC_PER_SEC;
}

static gboolean
check_withdrawn_cb (gpointer user_data)
{
  WithdrawalWait *wait = user_data;

  wait->gone = withdrawn (wait);
  return wait->gone ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/**
 * agl_kamailio_harness_run_until:
 * @done: what the main loop waits for
 * @timeout_ms: for at most this long
 *
 * Runs the main loop until *@done.
 *
 * Returns: *@done; %FALSE when the time ran out
 */
gboolean
agl_kamailio_harness_run_until (gboolean *done,
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

/**
 * agl_kamailio_harness_pick_free_udp_port:
 * @keep: (out) (optional): the socket bound to the port, to keep it taken
 *
 * Returns: a UDP port of 127.0.0.1 that was free
 */
guint16
agl_kamailio_harness_pick_free_udp_port (GSocket **keep)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         &error);
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

/**
 * agl_kamailio_harness_start:
 * @k: a zeroed harness
 * @password: the one digest password of every user
 * @define: (nullable): one more "NAME=VALUE" for the configuration
 *   ("MAX_EXPIRES=4")
 *
 * Creates the database in a scratch directory, starts Kamailio on a free
 * port and waits until it answers OPTIONS.  Without a kamailio program
 * the test is skipped.
 *
 * Returns: whether Kamailio runs; %FALSE when the test was skipped
 */
gboolean
agl_kamailio_harness_start (AglKamailioHarness *k,
                            const char         *password,
                            const char         *define)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kamailio = g_find_program_in_path ("kamailio");
  g_autofree char *run_dir = NULL;
  g_autofree char *pid_file = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *db_url = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *cfg = NULL;
  const char *cfg_dir = g_getenv ("AGL_TEST_KAMAILIO_CFG_DIR");

  g_return_val_if_fail (password != NULL && strchr (password, '"') == NULL, FALSE);

  if (kamailio == NULL && g_file_test ("/usr/sbin/kamailio", G_FILE_TEST_IS_EXECUTABLE))
    kamailio = g_strdup ("/usr/sbin/kamailio");
  if (kamailio == NULL)
    {
      g_test_skip ("kamailio is not installed");
      return FALSE;
    }
  if (cfg_dir == NULL)
    g_error ("AGL_TEST_KAMAILIO_CFG_DIR is not set; run this with “meson test”");
  cfg = g_build_filename (cfg_dir, "kamailio.cfg", NULL);

  k->dir = g_dir_make_tmp ("agl-kamailio-XXXXXX", &error);
  g_assert_no_error (error);
  k->db_path = g_build_filename (k->dir, "presence.db", NULL);
  k->log_path = g_build_filename (k->dir, "kamailio.log", NULL);
  run_dir = g_build_filename (k->dir, "run", NULL);
  pid_file = g_build_filename (run_dir, "kamailio.pid", NULL);
  g_assert_cmpint (g_mkdir (run_dir, 0700), ==, 0);
  create_database (k);

  k->port = agl_kamailio_harness_pick_free_udp_port (NULL);
  k->server = g_strdup_printf ("sip:127.0.0.1:%u", k->port);
  listen = g_strdup_printf ("udp:127.0.0.1:%u", k->port);
  /* "sqlite:///" then the path, which starts with another slash. */
  db_url = g_strdup_printf ("DBURL=\"sqlite:///%s\"", k->db_path);
  auth = g_strdup_printf ("AUTH_PASSWORD=\"%s\"", password);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent_cb, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, k->log_path);
  k->exited = FALSE;
  k->process = g_subprocess_launcher_spawn (launcher, &error,
                                            kamailio,
                                            "-f", cfg,
                                            "-DD", "-E",
                                            "-l", listen,
                                            "-A", db_url,
                                            "-A", auth,
                                            "-Y", run_dir,
                                            "-P", pid_file,
                                            "-w", k->dir,
                                            "-m", "32",
                                            "-M", "4",
                                            define != NULL ? "-A" : NULL,
                                            define,
                                            NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (k->process, NULL, kamailio_exited_cb, k);

  if (!wait_until_answering (k))
    {
      agl_kamailio_harness_dump_log (k);
      g_error ("kamailio did not start on %s", listen);
    }
  return TRUE;
}

/**
 * agl_kamailio_harness_stop:
 * @k: a harness, started or not
 *
 * SIGTERM to Kamailio (SIGKILL after five seconds), its log on stderr when
 * the test failed, and the scratch directory removed; frees what @k holds.
 */
void
agl_kamailio_harness_stop (AglKamailioHarness *k)
{
  if (k->process != NULL)
    {
      if (!k->exited)
        {
          g_subprocess_send_signal (k->process, SIGTERM);
          if (!agl_kamailio_harness_run_until (&k->exited, STOP_MS))
            {
              g_subprocess_force_exit (k->process);
              agl_kamailio_harness_run_until (&k->exited, STOP_MS);
            }
        }
      if (g_test_failed ())
        agl_kamailio_harness_dump_log (k);
      g_clear_object (&k->process);
    }

  if (k->dir != NULL)
    remove_tree (k->dir);
  g_clear_pointer (&k->dir, g_free);
  g_clear_pointer (&k->db_path, g_free);
  g_clear_pointer (&k->log_path, g_free);
  g_clear_pointer (&k->server, g_free);
}

/* Kamailio's log on stderr (g_test_message() is silent in a test
 * subprocess), for a failure. */
void
agl_kamailio_harness_dump_log (AglKamailioHarness *k)
{
  g_autofree char *log = NULL;

  if (k->log_path != NULL && g_file_get_contents (k->log_path, &log, NULL, NULL))
    g_printerr ("---- kamailio log ----\n%s---- end of kamailio log ----\n", log);
}

/* Returns: how many times @needle is in Kamailio's log so far; the
 * configuration's xlog line per request shows what came. */
guint
agl_kamailio_harness_count_in_log (AglKamailioHarness *k,
                                   const char         *needle)
{
  g_autofree char *log = NULL;
  guint n = 0;

  if (!g_file_get_contents (k->log_path, &log, NULL, NULL))
    return 0;
  for (const char *p = strstr (log, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/**
 * agl_kamailio_harness_wait_for_log:
 *
 * Looks at Kamailio's log every 20 ms until @needle is in it @count times.
 *
 * Returns: %FALSE when @timeout_ms passed first
 */
gboolean
agl_kamailio_harness_wait_for_log (AglKamailioHarness *k,
                                   const char         *needle,
                                   guint               count,
                                   guint               timeout_ms)
{
  LogWait wait = { k, needle, count, FALSE };
  guint id;

  check_log_cb (&wait);
  if (wait.found)
    return TRUE;
  id = g_timeout_add (LOG_POLL_MS, check_log_cb, &wait);
  if (!agl_kamailio_harness_run_until (&wait.found, timeout_ms))
    {
      g_source_remove (id);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_kamailio_harness_read_presentity:
 * @user: the user part of the presentity's address
 * @domain: its domain
 * @body: (out) (optional) (nullable): the PIDF document of the newest
 * @expires: (out) (optional): when the newest expires, in Unix seconds
 *
 * Reads the "presence" presentities Kamailio stored for @user@@domain.
 *
 * Returns: how many there are
 */
guint
agl_kamailio_harness_read_presentity (AglKamailioHarness  *k,
                                      const char          *user,
                                      const char          *domain,
                                      char               **body,
                                      gint64              *expires)
{
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(sqlite3_stmt) statement = NULL;
  guint n = 0;

  g_assert_cmpint (sqlite3_open_v2 (k->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT body, expires FROM presentity"
                                       " WHERE username = ? AND domain = ? AND event = 'presence'"
                                       " ORDER BY received_time DESC, id DESC",
                                       -1, &statement, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (statement, 1, user, -1, SQLITE_STATIC);
  sqlite3_bind_text (statement, 2, domain, -1, SQLITE_STATIC);
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

/* Makes Kamailio forget every publication, as a restart would. */
void
agl_kamailio_harness_delete_presentities (AglKamailioHarness *k)
{
  g_autoptr(sqlite3) db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (k->db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  if (sqlite3_exec (db, "DELETE FROM presentity", NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s", message);
}

/**
 * agl_kamailio_harness_wait_for_presentity:
 * @previous: (nullable): the body to see change; %NULL for any
 * @seen_at: (out) (optional): g_get_real_time() when the new body was seen
 *
 * Looks at the database every 10 ms (and at once) until the newest
 * presentity of @user@@domain has a body other than @previous.  The
 * polling is the point: Kamailio tells nobody when it stores a
 * publication.
 *
 * Returns: (nullable): the new body, or %NULL when @timeout_ms passed
 */
char *
agl_kamailio_harness_wait_for_presentity (AglKamailioHarness *k,
                                          const char         *user,
                                          const char         *domain,
                                          const char         *previous,
                                          guint               timeout_ms,
                                          gint64             *seen_at)
{
  PresentityWait wait = { k, user, domain, previous, NULL, 0, FALSE };
  guint id = 0;

  check_presentity_cb (&wait);
  if (!wait.found)
    {
      id = g_timeout_add (POLL_MS, check_presentity_cb, &wait);
      if (!agl_kamailio_harness_run_until (&wait.found, timeout_ms))
        g_source_remove (id);
    }
  if (seen_at != NULL)
    *seen_at = wait.seen_at;
  return wait.body;
}

/**
 * agl_kamailio_harness_wait_for_expiry:
 * @from: Unix seconds
 * @to: Unix seconds
 *
 * Looks at the database every 10 ms until the newest presentity of
 * @user@@domain expires from @from to @to: a refresh or a new publication
 * is in Kamailio's log as soon as it comes, in the database a little
 * later.
 *
 * Returns: %FALSE when @timeout_ms passed first
 */
gboolean
agl_kamailio_harness_wait_for_expiry (AglKamailioHarness *k,
                                      const char         *user,
                                      const char         *domain,
                                      gint64              from,
                                      gint64              to,
                                      guint               timeout_ms)
{
  ExpiryWait wait = { k, user, domain, from, to, FALSE };
  guint id;

  check_expiry_cb (&wait);
  if (wait.found)
    return TRUE;
  id = g_timeout_add (POLL_MS, check_expiry_cb, &wait);
  if (!agl_kamailio_harness_run_until (&wait.found, timeout_ms))
    {
      g_source_remove (id);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_kamailio_harness_wait_for_withdrawal:
 *
 * Looks at the database every 20 ms until the presentity of @user@@domain
 * is gone or expired: Kamailio answers a withdrawal before it deletes the
 * row.
 *
 * Returns: %FALSE when @timeout_ms passed first
 */
gboolean
agl_kamailio_harness_wait_for_withdrawal (AglKamailioHarness *k,
                                          const char         *user,
                                          const char         *domain,
                                          guint               timeout_ms)
{
  WithdrawalWait wait = { k, user, domain, FALSE };
  guint id;

  if (withdrawn (&wait))
    return TRUE;
  id = g_timeout_add (LOG_POLL_MS, check_withdrawn_cb, &wait);
  if (!agl_kamailio_harness_run_until (&wait.gone, timeout_ms))
    {
      g_source_remove (id);
      return FALSE;
    }
  return TRUE;
}
