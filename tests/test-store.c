/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "agl-error.h"
#include "agl-event.h"
#include "agl-store.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The uid and gid of "nobody", who cannot write what root created. */
#define NOBODY_ID 65534

/* How long the tests wait for a helper process before failing. */
#define HELPER_TIMEOUT_SECONDS 60

/* 2026-01-05T09:00:00Z, a Monday: the tests' "now" for appointments. */
#define T0 G_GINT64_CONSTANT (1767603600)
#define HOUR G_GINT64_CONSTANT (3600)

/* ------------------------------------------------------------------------ */
/* A fresh temporary directory per test. */

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
remove_tree (const char *path)
{
  GDir *dir;

  /* The read-only tests take write permission away; as a user other than
   * root, nothing could be removed without it. */
  g_chmod (path, 0700);

  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_assert_no_errno (g_remove (child));
        }
      g_dir_close (dir);
    }
  g_assert_no_errno (g_rmdir (path));
}

static void
fixture_set_up (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("agl-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "agenda.db", NULL);
}

static void
fixture_tear_down (Fixture       *fx,
                   gconstpointer  data)
{
  remove_tree (fx->dir);
  g_clear_pointer (&fx->dir, g_free);
  g_clear_pointer (&fx->path, g_free);
}

/* ------------------------------------------------------------------------ */
/* Records and the store. */

static AglAccount *
make_account (const char *name)
{
  AglAccount *account = agl_account_new ();

  account->name = g_strdup (name);
  account->email = g_strdup ("anna@example.com");
  account->user = g_strdup ("anna");
  return account;
}

static char *
make_ical (const char *uid,
           const char *summary)
{
  return g_strdup_printf ("BEGIN:VCALENDAR\r\n"
                          "VERSION:2.0\r\n"
                          "PRODID:-//Agendaline//test-store//EN\r\n"
                          "BEGIN:VEVENT\r\n"
                          "UID:%s\r\n"
                          "DTSTAMP:20260101T000000Z\r\n"
                          "DTSTART:20260105T090000Z\r\n"
                          "SUMMARY:%s\r\n"
                          "END:VEVENT\r\n"
                          "END:VCALENDAR\r\n",
                          uid, summary);
}

static AglItem *
make_item (const char *account,
           const char *uid,
           gint64      start,
           gint64      end)
{
  AglItem *item = agl_item_new ();

  item->account = g_strdup (account);
  item->uid = g_strdup (uid);
  item->summary = g_strdup_printf ("About %s", uid);
  item->start = start;
  item->end = end;
  item->range_end = end;
  item->ical = make_ical (uid, item->summary);
  return item;
}

static AglStore *
open_store (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  AglStore *store;

  store = agl_store_open (fx->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static gint64
add_account (AglStore   *store,
             const char *name)
{
  g_autoptr(AglAccount) account = make_account (name);
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_store_add_account (store, account, &error));
  g_assert_no_error (error);
  g_assert_cmpint (account->id, >, 0);
  return account->id;
}

static gint64
add_item (AglStore   *store,
          const char *account,
          const char *uid,
          gint64      start,
          gint64      end)
{
  g_autoptr(AglItem) item = make_item (account, uid, start, end);
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_no_error (error);
  g_assert_cmpint (item->id, >, 0);
  return item->id;
}

static void
assert_items_equal (const AglItem *a,
                    const AglItem *b)
{
  g_assert_cmpint (a->id, ==, b->id);
  g_assert_cmpstr (a->account, ==, b->account);
  g_assert_cmpstr (a->uid, ==, b->uid);
  g_assert_cmpstr (a->summary, ==, b->summary);
  g_assert_cmpint (a->start, ==, b->start);
  g_assert_cmpint (a->end, ==, b->end);
  g_assert_cmpint (a->range_end, ==, b->range_end);
  g_assert_cmpint (a->all_day, ==, b->all_day);
  g_assert_cmpint (a->recurring, ==, b->recurring);
  g_assert_cmpstr (a->ical, ==, b->ical);
}

static void
assert_ids (GArray       *ids,
            const gint64 *expected,
            guint         n_expected)
{
  g_assert_nonnull (ids);
  g_assert_cmpuint (ids->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (ids, gint64, i), ==, expected[i]);
}

/* The ids of a list of items, in order. */
static void
assert_item_ids (GPtrArray    *items,
                 const gint64 *expected,
                 guint         n_expected)
{
  g_assert_nonnull (items);
  g_assert_cmpuint (items->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (((AglItem *) g_ptr_array_index (items, i))->id, ==, expected[i]);
}

static void
assert_error_names (const GError *error,
                    const char   *name)
{
  g_assert_nonnull (error);
  if (strstr (error->message, name) == NULL)
    g_error ("“%s” does not name “%s”", error->message, name);
}

/* ------------------------------------------------------------------------ */
/* The database behind the store's back. */

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                   ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
exec_raw (sqlite3    *db,
          const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  return sqlite3_column_int64 (stmt, 0);
}

static char *
query_text (sqlite3    *db,
            const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step (stmt) != SQLITE_ROW)
    g_error ("%s: %s", sql, sqlite3_errmsg (db));
  return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
}

static gint64
count_rows (const char *path,
            const char *sql)
{
  g_autoptr(sqlite3) db = open_raw (path);

  return query_int (db, sql);
}

/* Every row of every table and the header fields, as text: what must not
 * change when a write fails or a process dies. */
static char *
dump_db (sqlite3 *db)
{
  g_autoptr(sqlite3_stmt) tables = NULL;
  GString *dump = g_string_new (NULL);

  g_string_append_printf (dump, "application_id %" G_GINT64_FORMAT "\n",
                          query_int (db, "PRAGMA application_id"));
  g_string_append_printf (dump, "user_version %" G_GINT64_FORMAT "\n",
                          query_int (db, "PRAGMA user_version"));

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT name, sql FROM sqlite_master ORDER BY name",
                                       -1, &tables, NULL), ==, SQLITE_OK);
  while (sqlite3_step (tables) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (tables, 0);
      const char *create = (const char *) sqlite3_column_text (tables, 1);
      g_autoptr(sqlite3_stmt) rows = NULL;
      char *sql;

      /* Automatic indexes have no SQL; indexes have no rows of their own. */
      if (create == NULL)
        continue;
      g_string_append_printf (dump, "%s: %s\n", name, create);
      if (!g_str_has_prefix (create, "CREATE TABLE"))
        continue;

      sql = sqlite3_mprintf ("SELECT * FROM \"%w\" ORDER BY rowid", name);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &rows, NULL), ==, SQLITE_OK);
      sqlite3_free (sql);
      while (sqlite3_step (rows) == SQLITE_ROW)
        {
          for (int i = 0; i < sqlite3_column_count (rows); i++)
            {
              if (sqlite3_column_type (rows, i) == SQLITE_NULL)
                g_string_append (dump, " NULL");
              else
                g_string_append_printf (dump, " «%s»", sqlite3_column_text (rows, i));
            }
          g_string_append_c (dump, '\n');
        }
    }
  return g_string_free (dump, FALSE);
}

static char *
dump_store (const char *path)
{
  g_autoptr(sqlite3) db = open_raw (path);

  return dump_db (db);
}

/* The text of a file in tests/fixtures. */
static char *
read_fixture (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fixture = NULL;
  const char *dir = g_getenv ("AGL_TEST_FIXTURES");
  char *text = NULL;

  if (dir != NULL)
    fixture = g_build_filename (dir, name, NULL);
  else
    fixture = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);

  g_file_get_contents (fixture, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
load_fixture (const char *name,
              const char *path)
{
  g_autofree char *sql = read_fixture (name);
  g_autoptr(sqlite3) db = open_raw (path);

  exec_raw (db, sql);
}

/* A file's bytes, or NULL when there is no such file. */
static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize length;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/* The database file and its -wal, byte for byte (-shm is only an index of
 * the -wal that any reader may rebuild). */
typedef struct {
  GBytes *db;
  GBytes *wal;
} Snapshot;

static void
snapshot_take (Snapshot   *snapshot,
               const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  snapshot->db = read_file (path);
  snapshot->wal = read_file (wal);
}

static void
assert_bytes_unchanged (GBytes     *before,
                        const char *path)
{
  g_autoptr(GBytes) after = read_file (path);

  if (before == NULL)
    {
      if (after != NULL)
        g_error ("%s appeared", path);
      return;
    }
  if (after == NULL)
    g_error ("%s disappeared", path);
  if (!g_bytes_equal (before, after))
    g_error ("%s changed", path);
}

static void
snapshot_assert_unchanged (Snapshot   *snapshot,
                           const char *path)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  assert_bytes_unchanged (snapshot->db, path);
  assert_bytes_unchanged (snapshot->wal, wal);
  g_clear_pointer (&snapshot->db, g_bytes_unref);
  g_clear_pointer (&snapshot->wal, g_bytes_unref);
}

/* Opening fails with @code, names the file, and leaves it as it was. */
static void
assert_open_refused (const char *path,
                     int         code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglStore) store = NULL;
  Snapshot snapshot;

  snapshot_take (&snapshot, path);
  store = agl_store_open (path, &error);
  g_assert_error (error, AGL_ERROR, code);
  g_assert_null (store);
  assert_error_names (error, path);
  g_test_message ("Refused as expected: %s", error->message);
  snapshot_assert_unchanged (&snapshot, path);
}

/* ------------------------------------------------------------------------ */
/* Signals. */

typedef struct {
  guint   n_agenda;
  char   *account;
  GArray *created;
  GArray *updated;
  GArray *deleted;
  guint   n_accounts;
  char   *account_name;
  int     account_change;
  /* Set to check, from another connection, that the change is committed
   * when the signal comes. */
  const char *path;
  gint64      visible_items;
} Recorder;

static void
recorder_clear (Recorder *recorder)
{
  g_clear_pointer (&recorder->account, g_free);
  g_clear_pointer (&recorder->created, g_array_unref);
  g_clear_pointer (&recorder->updated, g_array_unref);
  g_clear_pointer (&recorder->deleted, g_array_unref);
  g_clear_pointer (&recorder->account_name, g_free);
  recorder->n_agenda = 0;
  recorder->n_accounts = 0;
}

static void
agenda_changed_cb (AglStore   *store,
                   const char *account,
                   GArray     *created,
                   GArray     *updated,
                   GArray     *deleted,
                   gpointer    user_data)
{
  Recorder *recorder = user_data;

  recorder->n_agenda++;
  g_free (recorder->account);
  recorder->account = g_strdup (account);
  g_clear_pointer (&recorder->created, g_array_unref);
  g_clear_pointer (&recorder->updated, g_array_unref);
  g_clear_pointer (&recorder->deleted, g_array_unref);
  recorder->created = g_array_ref (created);
  recorder->updated = g_array_ref (updated);
  recorder->deleted = g_array_ref (deleted);

  if (recorder->path != NULL)
    recorder->visible_items = count_rows (recorder->path, "SELECT count(*) FROM items");
}

static void
account_changed_cb (AglStore   *store,
                    const char *name,
                    int         change,
                    gpointer    user_data)
{
  Recorder *recorder = user_data;

  recorder->n_accounts++;
  g_free (recorder->account_name);
  recorder->account_name = g_strdup (name);
  recorder->account_change = change;
}

static void
recorder_connect (Recorder *recorder,
                  AglStore *store)
{
  memset (recorder, 0, sizeof *recorder);
  g_signal_connect (store, "agenda-changed", G_CALLBACK (agenda_changed_cb), recorder);
  g_signal_connect (store, "account-changed", G_CALLBACK (account_changed_cb), recorder);
}

/* ------------------------------------------------------------------------ */
/* Running as someone who may not write. */

typedef enum {
  CHILD_REFUSED = 0,
  CHILD_OPENED = 10,
  CHILD_OTHER_ERROR = 11,
  CHILD_CANNOT_DROP = 12,
  CHILD_NO_PATH = 13,
} ChildResult;

/* In a child process: drop root, if we are root, open the store and report
 * the outcome on @report.  Through a pipe rather than the exit status,
 * which valgrind replaces with its own when the child exits with the
 * parent's allocations still live. */
static G_NORETURN void
open_as_unprivileged_child (const char *path,
                            int         code,
                            int         report)
{
  g_autoptr(GError) error = NULL;
  AglStore *store;
  guint8 result;

  if (geteuid () == 0 &&
      (setgroups (0, NULL) != 0 || setgid (NOBODY_ID) != 0 || setuid (NOBODY_ID) != 0 ||
       geteuid () == 0))
    result = CHILD_CANNOT_DROP;
  else if ((store = agl_store_open (path, &error)) != NULL)
    result = CHILD_OPENED;
  else if (!g_error_matches (error, AGL_ERROR, code))
    {
      g_printerr ("# unexpected error: %s (%d)\n", error->message, error->code);
      result = CHILD_OTHER_ERROR;
    }
  else if (strstr (error->message, path) == NULL)
    result = CHILD_NO_PATH;
  else
    {
      g_printerr ("# refused as expected: %s\n", error->message);
      result = CHILD_REFUSED;
    }

  if (write (report, &result, 1) != 1)
    _exit (1);
  _exit (0);
}

/* Permissions do not stop root, and the tests run as root: the open happens
 * in a child process that has become nobody.  As another user, the same
 * permissions stop the user, and a child changes nothing. */
static void
assert_open_refused_unprivileged (const char *path,
                                  int         code)
{
  Snapshot snapshot;
  guint8 result = 0xff;
  int report[2];
  pid_t pid;
  int status;

  snapshot_take (&snapshot, path);

  g_assert_no_errno (pipe (report));
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (report[0]);
      open_as_unprivileged_child (path, code, report[1]);
    }

  close (report[1]);
  g_assert_cmpint (read (report[0], &result, 1), ==, 1);
  close (report[0]);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (result, ==, CHILD_REFUSED);

  snapshot_assert_unchanged (&snapshot, path);
}

/* ------------------------------------------------------------------------ */
/* Where the store lives. */

static void
test_path_default (Fixture       *fx,
                   gconstpointer  data)
{
  g_autofree char *saved = g_strdup (g_getenv (AGL_STORE_PATH_ENV));
  g_autofree char *expected = NULL;
  g_autofree char *path = NULL;
  g_autofree char *folder = NULL;
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  /* G_TEST_OPTION_ISOLATE_DIRS makes the data dir a fresh one per test. */
  g_unsetenv (AGL_STORE_PATH_ENV);
  expected = g_build_filename (g_get_user_data_dir (), "agendaline", "agenda.db", NULL);
  path = agl_store_default_path ();
  g_assert_cmpstr (path, ==, expected);

  folder = g_path_get_dirname (expected);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
  store = agl_store_open (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_store_get_path (store), ==, expected);
  g_assert_no_errno (g_stat (folder, &st));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_clear_object (&store);

  g_setenv (AGL_STORE_PATH_ENV, fx->path, TRUE);
  g_clear_pointer (&path, g_free);
  path = agl_store_default_path ();
  g_assert_cmpstr (path, ==, fx->path);
  store = agl_store_open (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_store_get_path (store), ==, fx->path);

  if (saved != NULL)
    g_setenv (AGL_STORE_PATH_ENV, saved, TRUE);
  else
    g_unsetenv (AGL_STORE_PATH_ENV);
}

static void
test_open_creates_folder (Fixture       *fx,
                          gconstpointer  data)
{
  g_autofree char *folder = g_build_filename (fx->dir, "a", "b", NULL);
  g_autofree char *path = g_build_filename (folder, "agenda.db", NULL);
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  store = agl_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_stat (folder, &st));
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
}

/* A relative path is made absolute: SQLite here is built to read "file:"
 * names as URIs, and messages should say where the file is. */
static void
test_open_relative_path (Fixture       *fx,
                         gconstpointer  data)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (fx->dir, "file:agenda.db", NULL);
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_no_errno (g_chdir (fx->dir));
  store = agl_store_open ("file:agenda.db", &error);
  g_assert_no_errno (g_chdir (cwd));
  g_assert_no_error (error);
  g_assert_cmpstr (agl_store_get_path (store), ==, expected);
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));
}

/* ------------------------------------------------------------------------ */
/* Opening and migrating. */

static void
assert_current_schema (const char *path)
{
  g_autoptr(sqlite3) db = open_raw (path);
  g_autofree char *mode = query_text (db, "PRAGMA journal_mode");
  const char * const tables[] = {
    "accounts", "items", "sync_states", "item_links", "journal", "conflicts", NULL
  };

  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (query_int (db, "PRAGMA application_id"), ==, AGL_STORE_APPLICATION_ID);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, AGL_STORE_SCHEMA_VERSION);
  for (guint i = 0; tables[i] != NULL; i++)
    {
      g_autofree char *sql =
        g_strdup_printf ("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
                         tables[i]);

      if (query_int (db, sql) != 1)
        g_error ("table %s is missing", tables[i]);
    }
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM pragma_integrity_check "
                                  "WHERE integrity_check <> 'ok'"), ==, 0);
}

static void
test_migrate_from_missing (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  guint n_accounts = 1, n_items = 1;

  g_assert_false (g_file_test (fx->path, G_FILE_TEST_EXISTS));
  store = open_store (fx);
  g_assert_cmpint (agl_store_get_schema_version (store), ==, AGL_STORE_SCHEMA_VERSION);
  g_assert_cmpstr (agl_store_get_path (store), ==, fx->path);
  g_assert_true (agl_store_count (store, &n_accounts, NULL, &n_items, NULL));
  g_assert_cmpuint (n_accounts, ==, 0);
  g_assert_cmpuint (n_items, ==, 0);
  g_clear_object (&store);

  assert_current_schema (fx->path);
}

static void
test_migrate_from_empty_file (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (fx->path, "", 0, &error);
  g_assert_no_error (error);

  store = open_store (fx);
  g_assert_cmpint (agl_store_get_schema_version (store), ==, AGL_STORE_SCHEMA_VERSION);
  add_account (store, "Work");
  g_clear_object (&store);

  assert_current_schema (fx->path);
}

/* What the v1 fixture holds, and so what both fixtures must still hold. */
static void
assert_fixture_v1_data (AglStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglAccount) work = NULL;
  g_autoptr(AglAccount) lab = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(AglItem) standup = NULL;
  g_autoptr(AglItem) holiday = NULL;
  g_autoptr(AglItem) local = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autofree char *state = NULL;

  accounts = agl_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 2);

  work = agl_store_get_account (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpint (work->id, ==, 1);
  g_assert_cmpstr (work->email, ==, "anna@example.com");
  g_assert_null (work->url);
  g_assert_true (work->autodiscover);
  g_assert_cmpstr (work->auth, ==, "ntlm");
  g_assert_cmpstr (work->user, ==, "anna");
  g_assert_cmpstr (work->domain, ==, "CORP");
  g_assert_cmpstr (work->server_version, ==, "auto");
  g_assert_null (work->ca_file);
  g_assert_true (work->enabled);
  g_assert_cmpint (work->created, ==, 1767225600);

  lab = agl_store_get_account (store, "Lab", &error);
  g_assert_no_error (error);
  g_assert_cmpint (lab->id, ==, 2);
  g_assert_cmpstr (lab->url, ==, "https://mail.lab.example.org/EWS/Exchange.asmx");
  g_assert_false (lab->autodiscover);
  g_assert_cmpstr (lab->auth, ==, "basic");
  g_assert_null (lab->domain);
  g_assert_cmpstr (lab->server_version, ==, "Exchange2013_SP1");
  g_assert_cmpstr (lab->ca_file, ==, "/etc/ssl/certs/lab-ca.pem");
  g_assert_false (lab->enabled);

  items = agl_store_list_items (store, NULL, G_MININT64, G_MAXINT64, &error);
  g_assert_no_error (error);
  assert_item_ids (items, (gint64[]) { 1, 3, 2, 6, 5 }, 5);

  standup = agl_store_get_item (store, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (standup->account, ==, "Work");
  g_assert_cmpstr (standup->uid, ==, "standup-2026@example.com");
  g_assert_cmpstr (standup->summary, ==, "Daily stand-up");
  g_assert_cmpint (standup->start, ==, 1767601800);
  g_assert_cmpint (standup->end, ==, 1767602700);
  g_assert_cmpint (standup->range_end, ==, AGL_ITEM_UNBOUNDED);
  g_assert_true (standup->recurring);
  g_assert_false (standup->all_day);
  g_assert_true (g_str_has_prefix (standup->ical, "BEGIN:VCALENDAR\nVERSION:2.0\n"));
  g_assert_nonnull (strstr (standup->ical, "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n"));

  holiday = agl_store_find_item_by_uid (store, NULL, "holiday-2026@agendaline.local", &error);
  g_assert_no_error (error);
  g_assert_cmpint (holiday->id, ==, 5);
  g_assert_null (holiday->account);
  g_assert_true (holiday->all_day);

  local = agl_store_find_item_by_uid (store, "Lab", "review-q1@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpint (local->id, ==, 6);
  g_assert_cmpstr (local->summary, ==, "Quarterly review – Q1 (lab copy)");

  /* The tables that came with the migrations are empty. */
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 0);
  g_assert_true (agl_store_get_sync_state (store, "Lab",
                                           "https://mail.lab.example.org/EWS/Exchange.asmx "
                                           "anna.berg@lab.example.org",
                                           &state, &error));
  g_assert_no_error (error);
  g_assert_null (state);
}

/* New rows after a migration: ids are not reused (sqlite_sequence came
 * through), the unique UID index works, and edits journal. */
static void
assert_migrated_store_writable (AglStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglItem) duplicate = make_item (NULL, "dentist@agendaline.local", T0, T0 + HOUR);
  g_autoptr(GPtrArray) journal = NULL;
  gint64 id;

  id = add_item (store, "Work", "new-after-migration@example.com", T0, T0 + HOUR);
  g_assert_cmpint (id, ==, 7);
  g_assert_cmpint (add_account (store, "Home"), ==, 4);

  g_assert_false (agl_store_add_item (store, duplicate, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  g_clear_error (&error);

  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 1);
}

/* The v1 columns of every row, to compare before and after a migration. */
#define ACCOUNT_ROWS \
  "SELECT group_concat(quote(id) || quote(name) || quote(email) || quote(url) || " \
  "quote(autodiscover) || quote(auth) || quote(user) || quote(domain) || " \
  "quote(server_version) || quote(ca_file) || quote(enabled) || quote(created), ',') " \
  "FROM accounts"
#define ITEM_ROWS \
  "SELECT group_concat(quote(id) || quote(account_id) || quote(uid) || quote(ical) || " \
  "quote(summary) || quote(start_time) || quote(end_time) || quote(range_end) || " \
  "quote(all_day) || quote(recurring) || quote(created) || quote(modified), ',') " \
  "FROM items"

static void
test_migrate_from_v1 (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *accounts_before = NULL;
  g_autofree char *items_before = NULL;
  g_autofree char *accounts_after = NULL;
  g_autofree char *items_after = NULL;

  load_fixture ("store-schema-v1.sql", fx->path);
  db = open_raw (fx->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 1);
  accounts_before = query_text (db, ACCOUNT_ROWS);
  items_before = query_text (db, ITEM_ROWS);
  g_clear_pointer (&db, sqlite3_close);

  store = open_store (fx);
  g_assert_cmpint (agl_store_get_schema_version (store), ==, AGL_STORE_SCHEMA_VERSION);
  assert_fixture_v1_data (store);

  db = open_raw (fx->path);
  accounts_after = query_text (db, ACCOUNT_ROWS);
  items_after = query_text (db, ITEM_ROWS);
  g_clear_pointer (&db, sqlite3_close);
  g_assert_cmpstr (accounts_after, ==, accounts_before);
  g_assert_cmpstr (items_after, ==, items_before);

  assert_migrated_store_writable (store);
  g_clear_object (&store);
  assert_current_schema (fx->path);
}

static void
test_migrate_from_v2 (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  g_autofree char *remote_id = NULL;
  g_autofree char *change_key = NULL;

  load_fixture ("store-schema-v2.sql", fx->path);
  g_assert_cmpint (count_rows (fx->path, "PRAGMA user_version"), ==, 2);

  store = open_store (fx);
  g_assert_cmpint (agl_store_get_schema_version (store), ==, AGL_STORE_SCHEMA_VERSION);
  assert_fixture_v1_data (store);

  /* One account, two identities: each gets its own state. */
  g_assert_true (agl_store_get_sync_state (store, "Work",
                                           "https://outlook.example.com/EWS/Exchange.asmx anna@example.com",
                                           &state, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (state, ==,
                   "H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/SvVK1+B0oQiAYBMk2JBAEOzBiM3mkuwdaUcjKasqgcplVmVdZhZAzO2dvPfee");
  g_clear_pointer (&state, g_free);
  g_assert_true (agl_store_get_sync_state (store, "Work",
                                           "https://mail-old.example.com/EWS/Exchange.asmx anna@example.com",
                                           &state, &error));
  g_assert_cmpstr (state, ==, "H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/old-server-state");
  g_clear_pointer (&state, g_free);

  g_assert_true (agl_store_get_item_link (store, 1, &remote_id, &change_key, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (remote_id, ==, "AAMkADk0ZTRmNGQ3LWNhNGMtNDRmZS1hZmNjLTdmYTQ4ZGE0ZGU1ZQBGAAAAAAC7");
  g_assert_cmpstr (change_key, ==, "DwAAABYAAAA3z2K3");
  g_clear_pointer (&remote_id, g_free);
  g_clear_pointer (&change_key, g_free);
  g_assert_true (agl_store_get_item_link (store, 2, &remote_id, &change_key, &error));
  g_assert_cmpstr (remote_id, ==, "AAMkADk0ZTRmNGQ3LWNhNGMtNDRmZS1hZmNjLTdmYTQ4ZGE0ZGU1ZQBGAAAAAAC8");
  g_assert_null (change_key);
  g_clear_pointer (&remote_id, g_free);

  assert_migrated_store_writable (store);
  g_clear_object (&store);
  assert_current_schema (fx->path);
}

#define JOURNAL_ROWS \
  "SELECT group_concat(quote(seq) || quote(account_id) || quote(item_id) || quote(uid) || " \
  "quote(op) || quote(remote_id) || quote(change_key) || quote(created), ',') FROM journal"
#define CONFLICT_ROWS \
  "SELECT group_concat(quote(id) || quote(account_id) || quote(item_uid) || quote(ical) || " \
  "quote(created) || quote(reason), ',') FROM conflicts"

/* Version 4 adds columns to accounts: every row of every older table comes
 * through as it was, and the new columns start as "off" and "unknown". */
static void
test_migrate_from_v3 (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  const char * const tables[] = { ACCOUNT_ROWS, ITEM_ROWS, JOURNAL_ROWS, CONFLICT_ROWS };
  char *before[G_N_ELEMENTS (tables)];
  AglJournalEntry *entry;

  load_fixture ("store-schema-v3.sql", fx->path);
  db = open_raw (fx->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    before[i] = query_text (db, tables[i]);
  g_clear_pointer (&db, sqlite3_close);

  store = open_store (fx);
  g_assert_cmpint (agl_store_get_schema_version (store), ==, AGL_STORE_SCHEMA_VERSION);

  db = open_raw (fx->path);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *after = query_text (db, tables[i]);

      g_assert_nonnull (before[i]);
      g_assert_cmpstr (after, ==, before[i]);
      g_free (before[i]);
    }
  g_clear_pointer (&db, sqlite3_close);

  accounts = agl_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 2);
  for (guint i = 0; i < accounts->len; i++)
    {
      AglAccount *account = g_ptr_array_index (accounts, i);

      g_assert_false (account->impersonate);
      g_assert_null (account->detected_server_version);
      g_assert_null (account->server_build);
    }

  /* The journal of the v3 edits is still there for the sync engine, the
   * delete with the link of the item it outlived. */
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 2);
  entry = g_ptr_array_index (journal, 0);
  g_assert_cmpint (entry->op, ==, AGL_JOURNAL_UPDATE);
  g_assert_cmpint (entry->item_id, ==, 2);
  entry = g_ptr_array_index (journal, 1);
  g_assert_cmpint (entry->op, ==, AGL_JOURNAL_DELETE);
  g_assert_cmpstr (entry->uid, ==, "standup-2026@example.com");
  g_assert_cmpstr (entry->remote_id, ==, "AAMkADk0ZTRmNGQ3LWNhNGMtNDRmZS1hZmNjLTdmYTQ4ZGE0ZGU1ZQBGAAAAAAC7");
  g_assert_cmpstr (entry->change_key, ==, "DwAAABYAAAA3z2K3");
  g_clear_pointer (&journal, g_ptr_array_unref);

  /* Ids are not reused, and edits still journal. */
  g_assert_cmpint (add_item (store, "Work", "new-after-migration@example.com", T0, T0 + HOUR), ==, 7);
  g_assert_cmpint (add_account (store, "Home"), ==, 4);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 3);

  g_clear_object (&store);
  assert_current_schema (fx->path);
}

/* A migrated database must be the same as a new one, or later code would
 * meet two schemas. */
static char *
schema_of (const char *path)
{
  g_autoptr(sqlite3) db = open_raw (path);

  return query_text (db,
                     "SELECT group_concat(type || ' ' || name || ' ' || tbl_name || ': ' || sql, '\n') "
                     "FROM (SELECT * FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name)");
}

static void
test_migrate_same_schema (Fixture       *fx,
                          gconstpointer  data)
{
  g_autofree char *fresh_path = g_build_filename (fx->dir, "fresh.db", NULL);
  g_autofree char *v1_path = g_build_filename (fx->dir, "v1.db", NULL);
  g_autofree char *v2_path = g_build_filename (fx->dir, "v2.db", NULL);
  g_autofree char *v3_path = g_build_filename (fx->dir, "v3.db", NULL);
  g_autofree char *fresh = NULL;
  g_autofree char *from_v1 = NULL;
  g_autofree char *from_v2 = NULL;
  g_autofree char *from_v3 = NULL;
  const char * const paths[] = { fresh_path, v1_path, v2_path, v3_path };

  load_fixture ("store-schema-v1.sql", v1_path);
  load_fixture ("store-schema-v2.sql", v2_path);
  load_fixture ("store-schema-v3.sql", v3_path);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(AglStore) store = agl_store_open (paths[i], &error);

      g_assert_no_error (error);
    }

  fresh = schema_of (fresh_path);
  from_v1 = schema_of (v1_path);
  from_v2 = schema_of (v2_path);
  from_v3 = schema_of (v3_path);
  g_assert_cmpstr (from_v1, ==, fresh);
  g_assert_cmpstr (from_v2, ==, fresh);
  g_assert_cmpstr (from_v3, ==, fresh);
}

/* Each step is its own transaction: a step that fails leaves the steps
 * before it done and itself not at all. */
static void
test_migrate_failed_step (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3) db = NULL;

  load_fixture ("store-schema-v1.sql", fx->path);
  /* Something in the way of step 3, which creates "conflicts". */
  db = open_raw (fx->path);
  exec_raw (db, "CREATE TABLE conflicts (x)");
  g_clear_pointer (&db, sqlite3_close);

  store = agl_store_open (fx->path, &error);
  g_assert_null (store);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_FAILED);
  assert_error_names (error, fx->path);

  db = open_raw (fx->path);
  g_assert_cmpint (query_int (db, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sqlite_master "
                                  "WHERE name = 'sync_states'"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sqlite_master "
                                  "WHERE name = 'journal'"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM items"), ==, 5);
}

static void
test_open_reopen_keeps_data (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(AglItem) item = NULL;
  g_autoptr(AglAccount) account = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gint64 id;

  store = open_store (fx);
  add_account (store, "Work");
  id = add_item (store, "Work", "kept@example.com", T0, T0 + HOUR);
  add_item (store, NULL, "local@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_set_item_link (store, id, "R1", "CK1", &error));
  g_clear_object (&store);

  /* Closed cleanly: everything is in the database file itself. */
  {
    g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);

    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }
  before = dump_store (fx->path);

  store = open_store (fx);
  item = agl_store_get_item (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (item->uid, ==, "kept@example.com");
  account = agl_store_get_account (store, "Work", &error);
  g_assert_no_error (error);
  g_clear_object (&store);

  after = dump_store (fx->path);
  g_assert_cmpstr (after, ==, before);
}

static void
test_open_corrupt (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260105);
  g_autofree guint8 *garbage = g_malloc (3 * 4096);

  for (guint i = 0; i < 3 * 4096; i++)
    garbage[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_false (memcmp (garbage, "SQLite format 3", 16) == 0);
  g_file_set_contents (fx->path, (const char *) garbage, 3 * 4096, &error);
  g_assert_no_error (error);

  assert_open_refused (fx->path, AGL_ERROR_STORE_CORRUPT);
}

/* A real store with one damaged page: only PRAGMA quick_check finds it. */
static void
test_open_damaged (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(GError) error = NULL;
  gint64 root_page;
  gint64 page_size;
  FILE *file;

  add_account (store, "Work");
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *uid = g_strdup_printf ("item-%u@example.com", i);

      add_item (store, "Work", uid, T0 + i * HOUR, T0 + (i + 1) * HOUR);
    }
  g_clear_object (&store);

  db = open_raw (fx->path);
  root_page = query_int (db, "SELECT rootpage FROM sqlite_master WHERE name = 'items_range_end'");
  page_size = query_int (db, "PRAGMA page_size");
  g_clear_pointer (&db, sqlite3_close);

  /* Scribble over the b-tree page header of an index. */
  file = fopen (fx->path, "r+b");
  g_assert_nonnull (file);
  g_assert_no_errno (fseek (file, (long) ((root_page - 1) * page_size), SEEK_SET));
  g_assert_cmpuint (fwrite ("\x42\x42\x42\x42\x42\x42\x42\x42", 1, 8, file), ==, 8);
  g_assert_no_errno (fclose (file));

  assert_open_refused (fx->path, AGL_ERROR_STORE_CORRUPT);
}

/* Ours by its application id, but with a schema version no Agendaline
 * writes: no version with tables, or a negative one. */
static void
test_open_bad_version (Fixture       *fx,
                       gconstpointer  data)
{
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *negative = g_build_filename (fx->dir, "negative.db", NULL);
  g_autofree char *sql = NULL;

  db = open_raw (fx->path);
  sql = g_strdup_printf ("PRAGMA application_id = %d; CREATE TABLE accounts (id INTEGER);",
                         AGL_STORE_APPLICATION_ID);
  exec_raw (db, sql);
  g_clear_pointer (&db, sqlite3_close);
  assert_open_refused (fx->path, AGL_ERROR_STORE_CORRUPT);

  db = open_raw (negative);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = -1;",
                         AGL_STORE_APPLICATION_ID);
  exec_raw (db, sql);
  g_clear_pointer (&db, sqlite3_close);
  assert_open_refused (negative, AGL_ERROR_STORE_CORRUPT);
}

static void
test_open_foreign (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *numbered = g_build_filename (fx->dir, "numbered.db", NULL);
  g_autofree char *claimed = g_build_filename (fx->dir, "claimed.db", NULL);

  /* Another program's tables. */
  db = open_raw (fx->path);
  exec_raw (db, "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT);"
                "INSERT INTO contacts (name) VALUES ('Anna');");
  g_clear_pointer (&db, sqlite3_close);
  assert_open_refused (fx->path, AGL_ERROR_STORE_FOREIGN);

  /* Another program's version numbering, no tables yet. */
  db = open_raw (numbered);
  exec_raw (db, "PRAGMA user_version = 1");
  g_clear_pointer (&db, sqlite3_close);
  assert_open_refused (numbered, AGL_ERROR_STORE_FOREIGN);

  /* Claimed by another application id. */
  db = open_raw (claimed);
  exec_raw (db, "PRAGMA application_id = 1886352244");
  g_clear_pointer (&db, sqlite3_close);
  assert_open_refused (claimed, AGL_ERROR_STORE_FOREIGN);
}

static void
test_open_too_new (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  g_autofree char *sql = NULL;

  add_account (store, "Work");
  g_clear_object (&store);

  /* A newer Agendaline that died with its last transaction still in the
   * -wal file: that must stay there for the newer version to find. */
  db = open_raw (fx->path);
  g_assert_cmpint (sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL),
                   ==, SQLITE_OK);
  sql = g_strdup_printf ("PRAGMA user_version = %d;"
                         "CREATE TABLE added_by_v%d (x);"
                         "UPDATE accounts SET enabled = 0;",
                         AGL_STORE_SCHEMA_VERSION + 1, AGL_STORE_SCHEMA_VERSION + 1);
  exec_raw (db, sql);
  g_clear_pointer (&db, sqlite3_close);
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));

  assert_open_refused (fx->path, AGL_ERROR_STORE_TOO_NEW);
}

static void
test_open_locked (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(GTimer) timer = NULL;

  add_account (store, "Work");
  g_clear_object (&store);

  /* Another process, as far as SQLite's locks go: a second connection. */
  db = open_raw (fx->path);
  exec_raw (db, "BEGIN EXCLUSIVE");

  timer = g_timer_new ();
  assert_open_refused (fx->path, AGL_ERROR_STORE_LOCKED);
  /* It waited for the other writer before giving up. */
  g_assert_cmpfloat (g_timer_elapsed (timer, NULL), >=, 1.9);

  exec_raw (db, "ROLLBACK");
  g_clear_pointer (&db, sqlite3_close);

  store = open_store (fx);
}

/* The store's writes, as opposed to its open, also give up with LOCKED and
 * change nothing. */
static void
test_item_locked (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item (NULL, "late@example.com", T0, T0 + HOUR);
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3) db = NULL;
  Recorder recorder;

  recorder_connect (&recorder, store);
  db = open_raw (fx->path);
  exec_raw (db, "BEGIN EXCLUSIVE");

  g_assert_false (agl_store_add_item (store, item, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_STORE_LOCKED);
  assert_error_names (error, fx->path);
  g_assert_cmpint (item->id, ==, 0);
  g_assert_cmpuint (recorder.n_agenda, ==, 0);

  exec_raw (db, "ROLLBACK");
  g_clear_pointer (&db, sqlite3_close);

  g_clear_error (&error);
  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  recorder_clear (&recorder);
}

static void
test_open_read_only (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);

  add_account (store, "Work");
  g_clear_object (&store);

  /* A file the user may read but not write, in a folder they may enter. */
  g_assert_no_errno (g_chmod (fx->path, 0444));
  g_assert_no_errno (g_chmod (fx->dir, 0755));
  assert_open_refused_unprivileged (fx->path, AGL_ERROR_STORE_READ_ONLY);
}

/* The file is writable but its folder is not: a WAL database needs to create
 * -wal and -shm beside it. */
static void
test_open_read_only_folder (Fixture       *fx,
                            gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);

  add_account (store, "Work");
  g_clear_object (&store);

  g_assert_no_errno (g_chmod (fx->path, 0666));
  g_assert_no_errno (g_chmod (fx->dir, 0555));
  assert_open_refused_unprivileged (fx->path, AGL_ERROR_STORE_READ_ONLY);
}

/* A new store in a folder the user cannot write. */
static void
test_open_read_only_new (Fixture       *fx,
                         gconstpointer  data)
{
  g_assert_no_errno (g_chmod (fx->dir, 0555));
  assert_open_refused_unprivileged (fx->path, AGL_ERROR_STORE_READ_ONLY);
  g_assert_false (g_file_test (fx->path, G_FILE_TEST_EXISTS));
}

/* ------------------------------------------------------------------------ */
/* Accounts. */

static void
test_account_add_get (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = agl_account_new ();
  g_autoptr(AglAccount) dated = make_account ("Dated");
  g_autoptr(AglAccount) got = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;

  account->name = g_strdup ("Work");
  account->email = g_strdup ("anna@example.com");
  account->url = g_strdup ("https://mail.example.com/EWS/Exchange.asmx");
  account->autodiscover = FALSE;
  account->auth = (g_free (account->auth), g_strdup ("basic"));
  account->user = g_strdup ("anna@example.com");
  account->server_version = (g_free (account->server_version), g_strdup ("Exchange2016"));
  account->ca_file = g_strdup ("/etc/ssl/extra.pem");
  account->enabled = FALSE;

  g_assert_true (agl_store_add_account (store, account, &error));
  g_assert_no_error (error);
  g_assert_cmpint (account->id, >, 0);
  g_assert_cmpint (account->created, >=, before);
  g_assert_cmpint (account->created, <=, g_get_real_time () / G_USEC_PER_SEC);

  got = agl_store_get_account (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpint (got->id, ==, account->id);
  g_assert_cmpstr (got->name, ==, "Work");
  g_assert_cmpstr (got->email, ==, account->email);
  g_assert_cmpstr (got->url, ==, account->url);
  g_assert_false (got->autodiscover);
  g_assert_cmpstr (got->auth, ==, "basic");
  g_assert_cmpstr (got->user, ==, account->user);
  g_assert_null (got->domain);
  g_assert_cmpstr (got->server_version, ==, "Exchange2016");
  g_assert_cmpstr (got->ca_file, ==, "/etc/ssl/extra.pem");
  g_assert_false (got->enabled);
  g_assert_cmpint (got->created, ==, account->created);

  /* A given creation time is kept. */
  dated->created = 1234567890;
  g_assert_true (agl_store_add_account (store, dated, &error));
  g_assert_cmpint (dated->created, ==, 1234567890);
  g_clear_pointer (&got, agl_account_free);
  got = agl_store_get_account (store, "Dated", &error);
  g_assert_cmpint (got->created, ==, 1234567890);
  g_assert_cmpint (got->id, >, account->id);
}

static void
test_account_duplicate_name (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) again = make_account ("Work");
  g_autoptr(GError) error = NULL;
  guint n_accounts;

  add_account (store, "Work");
  again->email = (g_free (again->email), g_strdup ("other@example.com"));
  g_assert_false (agl_store_add_account (store, again, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  assert_error_names (error, "Work");
  g_assert_cmpint (again->id, ==, 0);
  g_assert_cmpint (again->created, ==, 0);

  g_assert_true (agl_store_count (store, &n_accounts, NULL, NULL, NULL));
  g_assert_cmpuint (n_accounts, ==, 1);
}

static void
test_account_unknown_name (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) nope = make_account ("Nope");
  g_autoptr(AglAccount) got = NULL;
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");

  g_assert_false (agl_store_update_account (store, nope, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_clear_error (&error);

  g_assert_false (agl_store_remove_account (store, "Nope", &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_clear_error (&error);

  /* "" is the local-only agenda elsewhere, but never an account. */
  g_assert_false (agl_store_remove_account (store, "", &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  got = agl_store_get_account (store, "Nope", &error);
  g_assert_null (got);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
}

static void
test_account_update (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = make_account ("Work");
  g_autoptr(AglAccount) got = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;
  gint64 created;

  g_assert_true (agl_store_add_account (store, account, &error));
  id = account->id;
  created = account->created;

  account->enabled = FALSE;
  account->autodiscover = FALSE;
  account->url = g_strdup ("https://ews.example.com/EWS/Exchange.asmx");
  account->domain = g_strdup ("EXAMPLE");
  account->id = 0;
  account->created = 1;
  g_assert_true (agl_store_update_account (store, account, &error));
  g_assert_no_error (error);

  got = agl_store_get_account (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpint (got->id, ==, id);
  g_assert_cmpint (got->created, ==, created);
  g_assert_false (got->enabled);
  g_assert_false (got->autodiscover);
  g_assert_cmpstr (got->url, ==, "https://ews.example.com/EWS/Exchange.asmx");
  g_assert_cmpstr (got->domain, ==, "EXAMPLE");
}

static void
test_account_impersonate_round_trip (Fixture       *fx,
                                     gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = make_account ("Alice");
  g_autoptr(AglAccount) got = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (account->impersonate);
  account->impersonate = TRUE;
  g_assert_true (agl_store_add_account (store, account, &error));
  got = agl_store_get_account (store, "Alice", &error);
  g_assert_no_error (error);
  g_assert_true (got->impersonate);
  g_clear_pointer (&got, agl_account_free);

  account->impersonate = FALSE;
  g_assert_true (agl_store_update_account (store, account, &error));
  got = agl_store_get_account (store, "Alice", &error);
  g_assert_no_error (error);
  g_assert_false (got->impersonate);
}

static void
assert_server (AglStore   *store,
               const char *name,
               const char *version,
               const char *build)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglAccount) got = agl_store_get_account (store, name, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (got->detected_server_version, ==, version);
  g_assert_cmpstr (got->server_build, ==, build);
}

static void
count_account_changed_cb (AglStore   *store,
                          const char *name,
                          int         change,
                          gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* What was learnt about a server is kept across setting changes that do
 * not move the account to another server, and forgotten by those that do. */
static void
test_account_server_remembered (Fixture       *fx,
                                gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = make_account ("Work");
  g_autoptr(AglAccount) copy = NULL;
  g_autoptr(AglAccount) stale = NULL;
  g_autoptr(AglAccount) nope = make_account ("Nope");
  g_autoptr(GError) error = NULL;
  guint changes = 0;

  account->autodiscover = FALSE;
  account->url = g_strdup ("https://ews.example.com/EWS/Exchange.asmx");
  g_assert_true (agl_store_add_account (store, account, &error));
  assert_server (store, "Work", NULL, NULL);

  g_signal_connect (store, "account-changed", G_CALLBACK (count_account_changed_cb), &changes);
  g_assert_true (agl_store_set_account_server (store, account, "Exchange2016", "15.1.2507.39",
                                               &error));
  g_assert_no_error (error);
  assert_server (store, "Work", "Exchange2016", "15.1.2507.39");
  g_assert_cmpuint (changes, ==, 1);
  /* The same again changes nothing, and says nothing. */
  g_assert_true (agl_store_set_account_server (store, account, "Exchange2016", "15.1.2507.39",
                                               &error));
  g_assert_cmpuint (changes, ==, 1);

  /* A copy carries them; an update of other settings keeps them. */
  copy = agl_store_get_account (store, "Work", &error);
  g_assert_no_error (error);
  {
    g_autoptr(AglAccount) duplicate = agl_account_copy (copy);

    g_assert_cmpstr (duplicate->detected_server_version, ==, "Exchange2016");
    g_assert_cmpstr (duplicate->server_build, ==, "15.1.2507.39");
  }
  account->enabled = FALSE;
  account->domain = g_strdup ("EXAMPLE");
  account->server_version = (g_free (account->server_version), g_strdup ("Exchange2013"));
  g_assert_true (agl_store_update_account (store, account, &error));
  assert_server (store, "Work", "Exchange2016", "15.1.2507.39");

  /* Another URL: another server. */
  stale = agl_account_copy (account);
  g_free (account->url);
  account->url = g_strdup ("https://ews2.example.com/EWS/Exchange.asmx");
  g_assert_true (agl_store_update_account (store, account, &error));
  assert_server (store, "Work", NULL, NULL);

  /* A test that began before the change does not bring the old server
   * back. */
  g_assert_true (agl_store_set_account_server (store, stale, "Exchange2016", "15.1.2507.39",
                                               &error));
  g_assert_no_error (error);
  assert_server (store, "Work", NULL, NULL);

  /* Another user: perhaps another server behind the same URL. */
  g_assert_true (agl_store_set_account_server (store, account, "Exchange2013_SP1", "15.0.1497.2",
                                               &error));
  assert_server (store, "Work", "Exchange2013_SP1", "15.0.1497.2");
  g_free (account->user);
  account->user = g_strdup ("svc-agendaline");
  g_assert_true (agl_store_update_account (store, account, &error));
  assert_server (store, "Work", NULL, NULL);

  /* Autodiscover accounts (no URL) remember too. */
  g_free (account->url);
  account->url = NULL;
  account->autodiscover = TRUE;
  g_assert_true (agl_store_update_account (store, account, &error));
  g_assert_true (agl_store_set_account_server (store, account, NULL, "15.1.2507.39", &error));
  assert_server (store, "Work", NULL, "15.1.2507.39");

  g_assert_false (agl_store_set_account_server (store, nope, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
}

static void
test_account_list_sorted (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  const char * const names[] = { "lab", "Work", "Home", "archive" };
  const char * const sorted[] = { "archive", "Home", "lab", "Work" };

  accounts = agl_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, 0);
  g_clear_pointer (&accounts, g_ptr_array_unref);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    add_account (store, names[i]);

  accounts = agl_store_list_accounts (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accounts->len, ==, G_N_ELEMENTS (sorted));
  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    g_assert_cmpstr (((AglAccount *) g_ptr_array_index (accounts, i))->name, ==, sorted[i]);
}

/* Values go in as bound parameters, never as SQL. */
static void
test_account_quoted_name (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) got = NULL;
  g_autoptr(GError) error = NULL;
  const char *name = "O'Brien\"; DROP TABLE items; --";

  add_account (store, name);
  add_item (store, name, "x'); DELETE FROM items; --", T0, T0 + HOUR);
  got = agl_store_get_account (store, name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->name, ==, name);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 1);
}

static void
test_account_no_password (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);

  g_assert_cmpint (count_rows (fx->path,
                               "SELECT count(*) FROM sqlite_master AS t, pragma_table_info(t.name) AS c "
                               "WHERE t.type = 'table' AND (c.name LIKE '%pass%' OR c.name LIKE '%secret%')"),
                   ==, 0);
  g_assert_cmpint (count_rows (fx->path,
                               "SELECT count(*) FROM pragma_table_info('accounts')"), ==, 18);
}

static void
test_account_remove_cascades (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglItem) gone = NULL;
  g_autoptr(AglItem) kept = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(sqlite3) db = NULL;
  gint64 work, lab, work_item, lab_item, local_item;
  g_autofree char *sql = NULL;

  work = add_account (store, "Work");
  lab = add_account (store, "Lab");
  work_item = add_item (store, "Work", "a@example.com", T0, T0 + HOUR);
  add_item (store, "Work", "b@example.com", T0, T0 + HOUR);
  lab_item = add_item (store, "Lab", "a@example.com", T0, T0 + HOUR);
  local_item = add_item (store, NULL, "a@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_set_item_link (store, work_item, "R-work", "CK", &error));
  g_assert_true (agl_store_set_item_link (store, lab_item, "R-lab", "CK", &error));
  g_assert_no_error (error);

  /* Sync states and conflicts are the sync engine's to write. */
  db = open_raw (fx->path);
  sql = g_strdup_printf ("INSERT INTO sync_states VALUES (%" G_GINT64_FORMAT ", 'id', 'S-work', 0),"
                         "                               (%" G_GINT64_FORMAT ", 'id', 'S-lab', 0);"
                         "INSERT INTO conflicts (account_id, item_uid, ical, created, reason)"
                         "  VALUES (%" G_GINT64_FORMAT ", 'a@example.com', 'BEGIN:VCALENDAR', 0, 'both changed'),"
                         "         (%" G_GINT64_FORMAT ", 'a@example.com', 'BEGIN:VCALENDAR', 0, 'both changed');",
                         work, lab, work, lab);
  exec_raw (db, sql);

  g_assert_true (agl_store_remove_account (store, "Work", &error));
  g_assert_no_error (error);

  gone = agl_store_get_item (store, work_item, &error);
  g_assert_null (gone);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_null (journal);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_cmpint (query_int (db, "SELECT count(*) FROM items"), ==, 2);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM item_links"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM sync_states"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM conflicts"), ==, 1);
  g_assert_cmpint (query_int (db, "SELECT count(*) FROM journal"), ==, 1);
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("SELECT count(*) FROM journal WHERE account_id = %" G_GINT64_FORMAT, lab);
  g_assert_cmpint (query_int (db, sql), ==, 1);

  kept = agl_store_get_item (store, local_item, &error);
  g_assert_no_error (error);
  g_assert_null (kept->account);
}

/* ------------------------------------------------------------------------ */
/* Items. */

static void
test_item_add_get (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "standup@example.com", T0, T0 + 900);
  g_autoptr(AglItem) got = NULL;
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");
  item->summary = (g_free (item->summary), g_strdup ("Stand-up ☕"));
  item->range_end = AGL_ITEM_UNBOUNDED;
  item->recurring = TRUE;

  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_no_error (error);
  g_assert_cmpint (item->id, >, 0);

  got = agl_store_get_item (store, item->id, &error);
  g_assert_no_error (error);
  assert_items_equal (got, item);
}

static void
test_item_duplicate_uid (Fixture       *fx,
                         gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) again = make_item ("Work", "dup@example.com", T0 + HOUR, T0 + 2 * HOUR);
  g_autoptr(GError) error = NULL;
  g_autofree char *id_text = NULL;
  gint64 id;

  add_account (store, "Work");
  id = add_item (store, "Work", "dup@example.com", T0, T0 + HOUR);

  g_assert_false (agl_store_add_item (store, again, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  assert_error_names (error, "dup@example.com");
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  assert_error_names (error, id_text);
  g_assert_cmpint (again->id, ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 1);
}

/* One UID may be in several agendas: the same meeting in two mailboxes. */
static void
test_item_same_uid_other_account (Fixture       *fx,
                                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  gint64 work, lab, local;

  add_account (store, "Work");
  add_account (store, "Lab");
  work = add_item (store, "Work", "shared@example.com", T0, T0 + HOUR);
  lab = add_item (store, "Lab", "shared@example.com", T0, T0 + HOUR);
  local = add_item (store, NULL, "shared@example.com", T0, T0 + HOUR);
  g_assert_cmpint (work, !=, lab);
  g_assert_cmpint (lab, !=, local);
}

static void
test_item_local_only (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) again = make_item (NULL, "mine@example.com", T0, T0 + HOUR);
  g_autoptr(AglItem) empty_name = make_item ("", "mine@example.com", T0, T0 + HOUR);
  g_autoptr(AglItem) got = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = add_item (store, NULL, "mine@example.com", T0, T0 + HOUR);
  got = agl_store_get_item (store, id, &error);
  g_assert_no_error (error);
  g_assert_null (got->account);

  /* NULLs are distinct in a UNIQUE constraint; the local agenda's UIDs
   * must be unique all the same. */
  g_assert_false (agl_store_add_item (store, again, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  assert_error_names (error, "mine@example.com");
  g_clear_error (&error);

  /* "" names the local-only agenda too. */
  g_assert_false (agl_store_add_item (store, empty_name, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 1);
}

static void
test_item_unknown_account (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Nope", "x@example.com", T0, T0 + HOUR);
  g_autoptr(GError) error = NULL;

  g_assert_false (agl_store_add_item (store, item, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_assert_cmpint (item->id, ==, 0);
}

static void
test_item_update (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "move@example.com", T0, T0 + HOUR);
  g_autoptr(AglItem) got = NULL;
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");
  g_assert_true (agl_store_add_item (store, item, &error));

  item->start = T0 + 24 * HOUR;
  item->end = item->start + 2 * HOUR;
  item->range_end = item->end;
  item->all_day = TRUE;
  item->summary = (g_free (item->summary), g_strdup ("Moved"));
  item->ical = (g_free (item->ical), make_ical (item->uid, "Moved"));
  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_no_error (error);

  got = agl_store_get_item (store, item->id, &error);
  g_assert_no_error (error);
  assert_items_equal (got, item);
}

static void
test_item_update_refused (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "fixed@example.com", T0, T0 + HOUR);
  g_autoptr(AglItem) changed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  add_account (store, "Work");
  add_account (store, "Lab");
  g_assert_true (agl_store_add_item (store, item, &error));
  before = dump_store (fx->path);

  changed = agl_item_copy (item);
  changed->id = item->id + 1000;
  g_assert_false (agl_store_update_item (store, changed, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  changed->id = item->id;
  changed->account = (g_free (changed->account), g_strdup ("Lab"));
  g_assert_false (agl_store_update_item (store, changed, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  assert_error_names (error, "Work");
  g_clear_error (&error);

  g_clear_pointer (&changed->account, g_free);
  g_assert_false (agl_store_update_item (store, changed, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  changed->account = g_strdup ("Work");
  changed->uid = (g_free (changed->uid), g_strdup ("other@example.com"));
  g_assert_false (agl_store_update_item (store, changed, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  assert_error_names (error, "fixed@example.com");
  g_clear_error (&error);

  after = dump_store (fx->path);
  g_assert_cmpstr (after, ==, before);
}

static void
test_item_delete (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) got = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id, other;

  id = add_item (store, NULL, "bye@example.com", T0, T0 + HOUR);
  other = add_item (store, NULL, "stay@example.com", T0, T0 + HOUR);

  g_assert_true (agl_store_delete_item (store, id, &error));
  g_assert_no_error (error);
  got = agl_store_get_item (store, id, &error);
  g_assert_null (got);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (agl_store_delete_item (store, id, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  got = agl_store_get_item (store, other, &error);
  g_assert_no_error (error);
}

/* Ids are never reused: clients and the journal hold them. */
static void
test_item_ids_not_reused (Fixture       *fx,
                          gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GError) error = NULL;
  gint64 a, b, c;

  a = add_item (store, NULL, "a@example.com", T0, T0 + HOUR);
  b = add_item (store, NULL, "b@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_delete_item (store, b, &error));
  g_clear_object (&store);

  store = open_store (fx);
  c = add_item (store, NULL, "b@example.com", T0, T0 + HOUR);
  g_assert_cmpint (a, <, b);
  g_assert_cmpint (c, >, b);
}

static void
test_item_find_by_uid (Fixture       *fx,
                       gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) found = NULL;
  g_autoptr(GError) error = NULL;
  gint64 work, local;

  add_account (store, "Work");
  add_account (store, "Lab");
  work = add_item (store, "Work", "meet@example.com", T0, T0 + HOUR);
  local = add_item (store, NULL, "meet@example.com", T0, T0 + HOUR);

  found = agl_store_find_item_by_uid (store, "Work", "meet@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->id, ==, work);
  g_clear_pointer (&found, agl_item_free);

  found = agl_store_find_item_by_uid (store, NULL, "meet@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->id, ==, local);
  g_clear_pointer (&found, agl_item_free);

  found = agl_store_find_item_by_uid (store, "", "meet@example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->id, ==, local);
  g_clear_pointer (&found, agl_item_free);

  /* None: NULL and no error. */
  found = agl_store_find_item_by_uid (store, "Lab", "meet@example.com", &error);
  g_assert_no_error (error);
  g_assert_null (found);
  found = agl_store_find_item_by_uid (store, "Work", "other@example.com", &error);
  g_assert_no_error (error);
  g_assert_null (found);

  found = agl_store_find_item_by_uid (store, "Nope", "meet@example.com", &error);
  g_assert_null (found);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
}

/* ------------------------------------------------------------------------ */
/* Range queries. */

typedef struct {
  gint64 a, b, c, d, e, f, g;
} RangeItems;

/*
 *   d  recurring      [50, 60), last occurrence ends 1000
 *   a  single         [100, 200)
 *   g  single         [100, 150), same start as a, added later
 *   b  single         [200, 300)
 *   c  no length      at 300
 *   e  recurring      [500, 510), no end
 *   f  all day        far in the future
 */
static void
add_range_items (AglStore   *store,
                 RangeItems *ids)
{
  g_autoptr(AglItem) d = make_item ("Work", "d", 50, 60);
  g_autoptr(AglItem) e = make_item (NULL, "e", 500, 510);
  g_autoptr(AglItem) f = make_item (NULL, "f", G_GINT64_CONSTANT (10000000000),
                                    G_GINT64_CONSTANT (10000000000) + 86400);
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");
  d->range_end = 1000;
  d->recurring = TRUE;
  e->range_end = AGL_ITEM_UNBOUNDED;
  e->recurring = TRUE;
  f->all_day = TRUE;

  g_assert_true (agl_store_add_item (store, d, &error));
  ids->a = add_item (store, NULL, "a", 100, 200);
  ids->b = add_item (store, "Work", "b", 200, 300);
  ids->c = add_item (store, NULL, "c", 300, 300);
  g_assert_true (agl_store_add_item (store, e, &error));
  g_assert_true (agl_store_add_item (store, f, &error));
  g_assert_no_error (error);
  ids->g = add_item (store, NULL, "g", 100, 150);
  ids->d = d->id;
  ids->e = e->id;
  ids->f = f->id;
}

static GPtrArray *
list_items (AglStore   *store,
            const char *account,
            gint64      from,
            gint64      to)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  items = agl_store_list_items (store, account, from, to, &error);
  g_assert_no_error (error);
  g_assert_nonnull (items);
  return items;
}

static void
test_range_overlap (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = NULL;
  RangeItems r;

  add_range_items (store, &r);

  /* Sorted by start, then id (a before g). */
  items = list_items (store, NULL, 120, 250);
  assert_item_ids (items, (gint64[]) { r.d, r.a, r.g, r.b }, 4);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* The end is exclusive, and so is an item's end: a ends where the range
   * starts, c is where it ends. */
  items = list_items (store, NULL, 200, 300);
  assert_item_ids (items, (gint64[]) { r.d, r.b }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 60, 100);
  assert_item_ids (items, (gint64[]) { r.d }, 1);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 1001, 1002);
  assert_item_ids (items, (gint64[]) { r.e }, 1);
}

static void
test_range_unbounded (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = NULL;
  RangeItems r;

  add_range_items (store, &r);

  items = list_items (store, NULL, G_MININT64, G_MAXINT64);
  assert_item_ids (items, (gint64[]) { r.d, r.a, r.g, r.b, r.c, r.e, r.f }, 7);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 2000, G_MAXINT64);
  assert_item_ids (items, (gint64[]) { r.e, r.f }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, G_MININT64, 100);
  assert_item_ids (items, (gint64[]) { r.d }, 1);
}

static void
test_range_zero_length (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = NULL;
  RangeItems r;

  add_range_items (store, &r);

  /* from <= t < to */
  items = list_items (store, NULL, 300, 301);
  assert_item_ids (items, (gint64[]) { r.d, r.c }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 299, 300);
  assert_item_ids (items, (gint64[]) { r.d, r.b }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 301, 400);
  assert_item_ids (items, (gint64[]) { r.d }, 1);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* An empty range holds nothing, not even an instant. */
  items = list_items (store, NULL, 300, 300);
  assert_item_ids (items, NULL, 0);
}

static void
test_range_recurring (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = NULL;
  RangeItems r;

  add_range_items (store, &r);

  /* d's first occurrence is long over, its last ends at 1000. */
  items = list_items (store, NULL, 999, 1000);
  assert_item_ids (items, (gint64[]) { r.d, r.e }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 1000, 1001);
  assert_item_ids (items, (gint64[]) { r.e }, 1);
  g_clear_pointer (&items, g_ptr_array_unref);

  /* e has no end: it is in every range after its start. */
  items = list_items (store, NULL, G_GINT64_CONSTANT (200000000000),
                      G_GINT64_CONSTANT (200000000001));
  assert_item_ids (items, (gint64[]) { r.e }, 1);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, NULL, 400, 500);
  assert_item_ids (items, (gint64[]) { r.d }, 1);
}

static void
test_range_account (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  RangeItems r;

  add_range_items (store, &r);
  add_account (store, "Empty");

  items = list_items (store, "Work", G_MININT64, G_MAXINT64);
  assert_item_ids (items, (gint64[]) { r.d, r.b }, 2);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, "", G_MININT64, G_MAXINT64);
  assert_item_ids (items, (gint64[]) { r.a, r.g, r.c, r.e, r.f }, 5);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = list_items (store, "Empty", G_MININT64, G_MAXINT64);
  assert_item_ids (items, NULL, 0);
  g_clear_pointer (&items, g_ptr_array_unref);

  items = agl_store_list_items (store, "Nope", G_MININT64, G_MAXINT64, &error);
  g_assert_null (items);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_clear_error (&error);

  items = agl_store_list_items (store, NULL, 10, 5, &error);
  g_assert_null (items);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------ */
/* Import. */

static GPtrArray *
make_batch (const char         *account,
            const char * const *uids)
{
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);

  for (guint i = 0; uids[i] != NULL; i++)
    g_ptr_array_add (items, make_item (account, uids[i], T0 + i * HOUR, T0 + (i + 1) * HOUR));
  return items;
}

static void
test_import_upsert (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  const char * const uids[] = { "new-1", "old", "new-2", NULL };
  g_autoptr(GPtrArray) items = make_batch ("Work", uids);
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) updated = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(AglItem) old = NULL;
  g_autoptr(GError) error = NULL;
  AglItem *first, *second, *third;
  Recorder recorder;
  gint64 old_id;

  add_account (store, "Work");
  old_id = add_item (store, "Work", "old", T0, T0 + HOUR);
  /* The same UID elsewhere is another appointment. */
  add_item (store, NULL, "new-1", T0, T0 + HOUR);
  recorder_connect (&recorder, store);

  /* Items may leave their account unset: they go where the import goes. */
  first = g_ptr_array_index (items, 0);
  g_clear_pointer (&first->account, g_free);
  second = g_ptr_array_index (items, 1);
  second->summary = (g_free (second->summary), g_strdup ("Replaced"));
  third = g_ptr_array_index (items, 2);

  g_assert_true (agl_store_import_items (store, "Work", items, created, updated,
                                         NULL, NULL, &error));
  g_assert_no_error (error);
  assert_ids (created, (gint64[]) { first->id, third->id }, 2);
  assert_ids (updated, (gint64[]) { old_id }, 1);
  g_assert_cmpint (second->id, ==, old_id);
  g_assert_cmpint (first->id, >, old_id);

  old = agl_store_get_item (store, old_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (old->summary, ==, "Replaced");
  g_assert_cmpint (old->start, ==, T0 + HOUR);

  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  g_assert_cmpstr (recorder.account, ==, "Work");
  assert_ids (recorder.created, (gint64[]) { first->id, third->id }, 2);
  assert_ids (recorder.updated, (gint64[]) { old_id }, 1);
  assert_ids (recorder.deleted, NULL, 0);
  recorder_clear (&recorder);

  /* The same import again only updates. */
  g_assert_true (agl_store_import_items (store, "Work", items, created, updated,
                                         NULL, NULL, &error));
  assert_ids (created, NULL, 0);
  g_assert_cmpuint (updated->len, ==, 3);
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 4);
  recorder_clear (&recorder);
}

/* One bad item anywhere in the batch leaves the store exactly as it was:
 * no rows, no journal, no ids, no signal. */
static void
assert_import_refused (Fixture    *fx,
                       AglStore   *store,
                       const char *account,
                       GPtrArray  *items,
                       int         code,
                       const char *named)
{
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) updated = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  g_autofree char *before = dump_store (fx->path);
  g_autofree char *after = NULL;
  Recorder recorder;

  recorder_connect (&recorder, store);
  g_assert_false (agl_store_import_items (store, account, items, created, updated,
                                          NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, code);
  assert_error_names (error, named);
  g_test_message ("Refused as expected: %s", error->message);

  after = dump_store (fx->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (created->len, ==, 0);
  g_assert_cmpuint (updated->len, ==, 0);
  for (guint i = 0; i < items->len; i++)
    g_assert_cmpint (((AglItem *) g_ptr_array_index (items, i))->id, ==, 0);
  g_assert_cmpuint (recorder.n_agenda, ==, 0);
  g_signal_handlers_disconnect_by_data (store, &recorder);
  recorder_clear (&recorder);
}

static void
test_import_duplicate_in_batch (Fixture       *fx,
                                gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  const char * const uids[] = { "one", "two", "old", "two", "three", NULL };
  g_autoptr(GPtrArray) items = make_batch ("Work", uids);

  add_account (store, "Work");
  add_item (store, "Work", "old", T0, T0 + HOUR);
  assert_import_refused (fx, store, "Work", items, AGL_ERROR_INVALID_ARGUMENT, "two");
}

static void
test_import_unknown_account_in_batch (Fixture       *fx,
                                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  const char * const uids[] = { "one", "two", "three", "four", NULL };
  g_autoptr(GPtrArray) items = make_batch ("Work", uids);
  AglItem *third = NULL;

  add_account (store, "Work");
  add_account (store, "Lab");
  add_item (store, "Work", "three", T0, T0 + HOUR);

  third = g_ptr_array_index (items, 2);
  third->account = (g_free (third->account), g_strdup ("Nope"));
  assert_import_refused (fx, store, "Work", items, AGL_ERROR_NOT_FOUND, "Nope");

  /* An existing account that is not the import's is refused as well. */
  third->account = (g_free (third->account), g_strdup ("Lab"));
  assert_import_refused (fx, store, "Work", items, AGL_ERROR_INVALID_ARGUMENT, "Lab");

  /* And so is an import into no such account, before anything. */
  g_clear_pointer (&third->account, g_free);
  assert_import_refused (fx, store, "Nope", items, AGL_ERROR_NOT_FOUND, "Nope");
}

typedef struct {
  const char *path;
  gint64      items_before;
  guint       calls;
  guint       last_done;
  guint       total;
} ProgressCheck;

static void
progress_cb (guint    done,
             guint    total,
             gpointer user_data)
{
  ProgressCheck *check = user_data;

  check->calls++;
  g_assert_cmpuint (done, ==, check->last_done + 1);
  check->last_done = done;
  check->total = total;

  /* Inside the transaction: another connection still sees the store as it
   * was before the import. */
  g_assert_cmpint (count_rows (check->path, "SELECT count(*) FROM items"), ==, check->items_before);
}

static void
test_import_progress (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  const char * const uids[] = { "one", "two", "three", "four", "five", NULL };
  g_autoptr(GPtrArray) items = make_batch (NULL, uids);
  g_autoptr(GError) error = NULL;
  ProgressCheck check = { fx->path, 1, 0, 0, 0 };

  add_item (store, NULL, "before", T0, T0 + HOUR);
  g_assert_true (agl_store_import_items (store, NULL, items, NULL, NULL,
                                         progress_cb, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (check.calls, ==, 5);
  g_assert_cmpuint (check.last_done, ==, 5);
  g_assert_cmpuint (check.total, ==, 5);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 6);
}

static void
test_import_empty (Fixture       *fx,
                   gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  Recorder recorder;

  recorder_connect (&recorder, store);
  g_assert_true (agl_store_import_items (store, "", items, created, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (created->len, ==, 0);
  /* Nothing changed, so nothing to tell. */
  g_assert_cmpuint (recorder.n_agenda, ==, 0);
  recorder_clear (&recorder);
}

/* ------------------------------------------------------------------------ */
/* Journal and sync bookkeeping. */

static void
assert_journal_entry (AglJournalEntry *entry,
                      AglJournalOp     op,
                      gint64           item_id,
                      const char      *uid,
                      const char      *remote_id,
                      const char      *change_key)
{
  g_assert_cmpint (entry->op, ==, op);
  g_assert_cmpint (entry->item_id, ==, item_id);
  g_assert_cmpstr (entry->uid, ==, uid);
  g_assert_cmpstr (entry->remote_id, ==, remote_id);
  g_assert_cmpstr (entry->change_key, ==, change_key);
  g_assert_cmpint (entry->created, >, 0);
}

static void
test_journal_account_edits (Fixture       *fx,
                            gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "sync-me@example.com", T0, T0 + HOUR);
  const char * const uids[] = { "sync-me@example.com", "imported@example.com", NULL };
  g_autoptr(GPtrArray) batch = make_batch ("Work", uids);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  AglJournalEntry *entry;
  gint64 id;

  add_account (store, "Work");
  g_assert_true (agl_store_add_item (store, item, &error));
  id = item->id;
  g_assert_true (agl_store_set_item_link (store, id, "R1", "CK1", &error));
  item->summary = (g_free (item->summary), g_strdup ("Changed"));
  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_true (agl_store_import_items (store, "Work", batch, NULL, NULL, NULL, NULL, &error));
  g_assert_true (agl_store_delete_item (store, id, &error));
  g_assert_no_error (error);

  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 5);
  assert_journal_entry (g_ptr_array_index (journal, 0), AGL_JOURNAL_CREATE, id,
                        "sync-me@example.com", NULL, NULL);
  assert_journal_entry (g_ptr_array_index (journal, 1), AGL_JOURNAL_UPDATE, id,
                        "sync-me@example.com", "R1", "CK1");
  assert_journal_entry (g_ptr_array_index (journal, 2), AGL_JOURNAL_UPDATE, id,
                        "sync-me@example.com", "R1", "CK1");
  assert_journal_entry (g_ptr_array_index (journal, 3), AGL_JOURNAL_CREATE,
                        ((AglItem *) g_ptr_array_index (batch, 1))->id,
                        "imported@example.com", NULL, NULL);
  /* The link is gone with the item; the delete entry still has it. */
  assert_journal_entry (g_ptr_array_index (journal, 4), AGL_JOURNAL_DELETE, id,
                        "sync-me@example.com", "R1", "CK1");
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links"), ==, 0);

  for (guint i = 0; i < journal->len; i++)
    {
      entry = g_ptr_array_index (journal, i);
      g_assert_cmpstr (entry->account, ==, "Work");
      if (i > 0)
        {
          AglJournalEntry *previous = g_ptr_array_index (journal, i - 1);

          g_assert_cmpint (entry->seq, >, previous->seq);
        }
    }
}

static void
test_journal_local_only (Fixture       *fx,
                         gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item (NULL, "private@example.com", T0, T0 + HOUR);
  const char * const uids[] = { "private@example.com", "imported@example.com", NULL };
  g_autoptr(GPtrArray) batch = make_batch (NULL, uids);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");
  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_true (agl_store_import_items (store, NULL, batch, NULL, NULL, NULL, NULL, &error));
  g_assert_true (agl_store_delete_item (store, item->id, &error));
  g_assert_no_error (error);

  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 0);
}

static void
test_journal_clear (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  gint64 first_seq;

  add_account (store, "Work");
  add_item (store, "Work", "a@example.com", T0, T0 + HOUR);
  add_item (store, "Work", "b@example.com", T0, T0 + HOUR);

  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 2);
  first_seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  g_clear_pointer (&journal, g_ptr_array_unref);

  g_assert_true (agl_store_clear_journal_entry (store, first_seq, &error));
  g_assert_no_error (error);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 1);
  g_assert_cmpstr (((AglJournalEntry *) g_ptr_array_index (journal, 0))->uid, ==, "b@example.com");
  g_clear_pointer (&journal, g_ptr_array_unref);

  g_assert_false (agl_store_clear_journal_entry (store, first_seq, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  journal = agl_store_list_journal (store, "Nope", &error);
  g_assert_null (journal);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
}

static void
test_sync_state_per_identity (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(sqlite3) db = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  char *state = NULL;
  gint64 work, lab;

  work = add_account (store, "Work");
  lab = add_account (store, "Lab");
  g_assert_true (agl_store_get_sync_state (store, "Work", "https://a/EWS anna@a", &state, &error));
  g_assert_no_error (error);
  g_assert_null (state);

  db = open_raw (fx->path);
  sql = g_strdup_printf ("INSERT INTO sync_states VALUES"
                         " (%" G_GINT64_FORMAT ", 'https://a/EWS anna@a', 'S-a', 1),"
                         " (%" G_GINT64_FORMAT ", 'https://b/EWS anna@a', 'S-b', 2),"
                         " (%" G_GINT64_FORMAT ", 'https://a/EWS anna@a', 'S-lab', 3)",
                         work, work, lab);
  exec_raw (db, sql);

  g_assert_true (agl_store_get_sync_state (store, "Work", "https://a/EWS anna@a", &state, &error));
  g_assert_cmpstr (state, ==, "S-a");
  g_clear_pointer (&state, g_free);
  g_assert_true (agl_store_get_sync_state (store, "Work", "https://b/EWS anna@a", &state, &error));
  g_assert_cmpstr (state, ==, "S-b");
  g_clear_pointer (&state, g_free);
  g_assert_true (agl_store_get_sync_state (store, "Lab", "https://a/EWS anna@a", &state, &error));
  g_assert_cmpstr (state, ==, "S-lab");
  g_clear_pointer (&state, g_free);
  g_assert_no_error (error);

  /* A new identity has no state, whatever the account had before. */
  g_assert_true (agl_store_get_sync_state (store, "Work", "https://c/EWS anna@a", &state, &error));
  g_assert_no_error (error);
  g_assert_null (state);
  g_assert_true (agl_store_get_sync_state (store, "Lab", "https://b/EWS anna@a", &state, &error));
  g_assert_null (state);

  g_assert_false (agl_store_get_sync_state (store, "Nope", "https://a/EWS anna@a", &state, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_assert_null (state);
}

static void
test_sync_item_link (Fixture       *fx,
                     gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GError) error = NULL;
  char *remote_id = NULL;
  char *change_key = NULL;
  gint64 a, b, lab, local;
  Recorder recorder;

  add_account (store, "Work");
  add_account (store, "Lab");
  a = add_item (store, "Work", "a@example.com", T0, T0 + HOUR);
  b = add_item (store, "Work", "b@example.com", T0, T0 + HOUR);
  lab = add_item (store, "Lab", "a@example.com", T0, T0 + HOUR);
  local = add_item (store, NULL, "a@example.com", T0, T0 + HOUR);
  recorder_connect (&recorder, store);

  g_assert_true (agl_store_get_item_link (store, a, &remote_id, &change_key, &error));
  g_assert_no_error (error);
  g_assert_null (remote_id);
  g_assert_null (change_key);

  g_assert_true (agl_store_set_item_link (store, a, "R-a", "CK1", &error));
  g_assert_no_error (error);
  g_assert_true (agl_store_get_item_link (store, a, &remote_id, &change_key, &error));
  g_assert_cmpstr (remote_id, ==, "R-a");
  g_assert_cmpstr (change_key, ==, "CK1");
  g_clear_pointer (&remote_id, g_free);
  g_clear_pointer (&change_key, g_free);

  /* A new change key for the same item. */
  g_assert_true (agl_store_set_item_link (store, a, "R-a", "CK2", &error));
  g_assert_true (agl_store_get_item_link (store, a, &remote_id, &change_key, &error));
  g_assert_cmpstr (change_key, ==, "CK2");
  g_clear_pointer (&remote_id, g_free);
  g_clear_pointer (&change_key, g_free);

  /* One remote item per account is one local item... */
  g_assert_false (agl_store_set_item_link (store, b, "R-a", "CK1", &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_EXISTS);
  assert_error_names (error, "R-a");
  g_clear_error (&error);
  /* ...but another account may have an item of that id. */
  g_assert_true (agl_store_set_item_link (store, lab, "R-a", NULL, &error));
  g_assert_no_error (error);

  g_assert_false (agl_store_set_item_link (store, local, "R-x", NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (agl_store_set_item_link (store, 9999, "R-x", NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (agl_store_get_item_link (store, 9999, &remote_id, &change_key, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* NULL unlinks. */
  g_assert_true (agl_store_set_item_link (store, a, NULL, NULL, &error));
  g_assert_true (agl_store_get_item_link (store, a, &remote_id, &change_key, &error));
  g_assert_no_error (error);
  g_assert_null (remote_id);

  /* Bookkeeping is no change of the agenda. */
  g_assert_cmpuint (recorder.n_agenda, ==, 0);
  recorder_clear (&recorder);
}

/* ------------------------------------------------------------------------ */
/* Signals and counts. */

static void
test_signals_agenda_changed (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "signal@example.com", T0, T0 + HOUR);
  g_autoptr(GError) error = NULL;
  Recorder recorder;
  gint64 local, other;

  add_account (store, "Work");
  recorder_connect (&recorder, store);
  recorder.path = fx->path;

  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  g_assert_cmpstr (recorder.account, ==, "Work");
  assert_ids (recorder.created, &item->id, 1);
  assert_ids (recorder.updated, NULL, 0);
  assert_ids (recorder.deleted, NULL, 0);
  /* Emitted after COMMIT: another connection sees the item already. */
  g_assert_cmpint (recorder.visible_items, ==, 1);

  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_cmpuint (recorder.n_agenda, ==, 2);
  assert_ids (recorder.created, NULL, 0);
  assert_ids (recorder.updated, &item->id, 1);

  local = add_item (store, NULL, "local@example.com", T0, T0 + HOUR);
  g_assert_cmpuint (recorder.n_agenda, ==, 3);
  g_assert_null (recorder.account);
  assert_ids (recorder.created, &local, 1);
  g_assert_cmpint (recorder.visible_items, ==, 2);

  g_assert_true (agl_store_delete_item (store, local, &error));
  g_assert_cmpuint (recorder.n_agenda, ==, 4);
  g_assert_null (recorder.account);
  assert_ids (recorder.deleted, &local, 1);
  g_assert_cmpint (recorder.visible_items, ==, 1);

  /* Removing an account is one transaction: its items go in one signal. */
  other = add_item (store, "Work", "other@example.com", T0, T0 + HOUR);
  recorder_clear (&recorder);
  g_assert_true (agl_store_remove_account (store, "Work", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  g_assert_cmpstr (recorder.account, ==, "Work");
  assert_ids (recorder.deleted, (gint64[]) { item->id, other }, 2);
  g_assert_cmpint (recorder.visible_items, ==, 0);
  g_assert_cmpuint (recorder.n_accounts, ==, 1);
  g_assert_cmpint (recorder.account_change, ==, AGL_STORE_ACCOUNT_REMOVED);
  recorder_clear (&recorder);
}

static void
test_signals_not_on_failure (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) dup = make_item (NULL, "dup@example.com", T0, T0 + HOUR);
  g_autoptr(AglAccount) account = make_account ("Work");
  g_autoptr(GError) error = NULL;
  Recorder recorder;
  gint64 id;

  add_account (store, "Work");
  id = add_item (store, NULL, "dup@example.com", T0, T0 + HOUR);
  recorder_connect (&recorder, store);

  g_assert_false (agl_store_add_item (store, dup, &error));
  g_clear_error (&error);
  dup->id = id + 100;
  g_assert_false (agl_store_update_item (store, dup, &error));
  g_clear_error (&error);
  g_assert_false (agl_store_delete_item (store, id + 100, &error));
  g_clear_error (&error);
  g_assert_false (agl_store_add_account (store, account, &error));
  g_clear_error (&error);
  g_assert_false (agl_store_remove_account (store, "Nope", &error));
  g_clear_error (&error);

  g_assert_cmpuint (recorder.n_agenda, ==, 0);
  g_assert_cmpuint (recorder.n_accounts, ==, 0);
  recorder_clear (&recorder);
}

static void
test_signals_account_changed (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = make_account ("Work");
  g_autoptr(GError) error = NULL;
  Recorder recorder;

  recorder_connect (&recorder, store);

  g_assert_true (agl_store_add_account (store, account, &error));
  g_assert_cmpuint (recorder.n_accounts, ==, 1);
  g_assert_cmpstr (recorder.account_name, ==, "Work");
  g_assert_cmpint (recorder.account_change, ==, AGL_STORE_ACCOUNT_ADDED);

  account->enabled = FALSE;
  g_assert_true (agl_store_update_account (store, account, &error));
  g_assert_cmpuint (recorder.n_accounts, ==, 2);
  g_assert_cmpint (recorder.account_change, ==, AGL_STORE_ACCOUNT_CHANGED);

  g_assert_true (agl_store_remove_account (store, "Work", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recorder.n_accounts, ==, 3);
  g_assert_cmpint (recorder.account_change, ==, AGL_STORE_ACCOUNT_REMOVED);
  /* It had no appointments, so no agenda changed. */
  g_assert_cmpuint (recorder.n_agenda, ==, 0);
  recorder_clear (&recorder);
}

static void
test_count (Fixture       *fx,
            gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) disabled = make_account ("Off");
  g_autoptr(GError) error = NULL;
  guint n_accounts = 0, n_enabled = 0, n_items = 0;

  add_account (store, "Work");
  disabled->enabled = FALSE;
  g_assert_true (agl_store_add_account (store, disabled, &error));
  add_item (store, "Work", "a@example.com", T0, T0 + HOUR);
  add_item (store, "Off", "a@example.com", T0, T0 + HOUR);
  add_item (store, NULL, "a@example.com", T0, T0 + HOUR);

  g_assert_true (agl_store_count (store, &n_accounts, &n_enabled, &n_items, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_accounts, ==, 2);
  g_assert_cmpuint (n_enabled, ==, 1);
  g_assert_cmpuint (n_items, ==, 3);
  g_assert_true (agl_store_count (store, NULL, NULL, NULL, &error));
}

/* ------------------------------------------------------------------------ */
/* iCalendar through the store: what agl-event.c makes of a file is what
 * comes back out, and the text stays readable by it. */

static GPtrArray *
roundtrip_events (void)
{
  g_autofree char *ics = read_fixture ("store-roundtrip.ics");
  g_autoptr(GError) error = NULL;
  GPtrArray *events;

  events = agl_event_list_from_ics (ics, &error);
  g_assert_no_error (error);
  g_assert_nonnull (events);
  g_assert_cmpuint (events->len, ==, 5);
  return events;
}

/* The stored text reads back as the same appointment, and normalising it
 * again changes nothing. */
static void
assert_ical_stable (const AglItem *stored)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglItem) again = NULL;
  g_autofree char *text = NULL;

  event = agl_event_new_from_string (stored->ical, &error);
  g_assert_no_error (error);
  text = agl_event_to_string (event);
  g_assert_cmpstr (text, ==, stored->ical);

  again = agl_event_to_item (event, stored->account);
  again->id = stored->id;
  assert_items_equal (again, stored);
}

static void
test_ical_round_trip (Fixture       *fx,
                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) events = roundtrip_events ();
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(AglItem) local = NULL;
  g_autoptr(GError) error = NULL;
  gboolean saw_exception = FALSE;

  add_account (store, "Work");
  for (guint i = 0; i < events->len; i++)
    {
      g_ptr_array_add (items, agl_event_to_item (g_ptr_array_index (events, i), "Work"));
      g_ptr_array_add (expected, agl_event_to_item (g_ptr_array_index (events, i), "Work"));
    }
  g_assert_true (agl_store_import_items (store, "Work", items, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  /* The same appointment in the local-only agenda, added on its own. */
  local = agl_event_to_item (g_ptr_array_index (events, 0), NULL);
  g_assert_true (agl_store_add_item (store, local, &error));
  g_assert_no_error (error);

  /* Through the file, not a cache. */
  g_clear_object (&store);
  store = open_store (fx);

  for (guint i = 0; i < expected->len; i++)
    {
      AglItem *want = g_ptr_array_index (expected, i);
      g_autoptr(AglItem) got = NULL;

      want->id = ((AglItem *) g_ptr_array_index (items, i))->id;
      got = agl_store_find_item_by_uid (store, "Work", want->uid, &error);
      g_assert_no_error (error);
      g_assert_nonnull (got);
      assert_items_equal (got, want);
      assert_ical_stable (got);

      if (strstr (got->ical, "RECURRENCE-ID") != NULL)
        saw_exception = TRUE;
    }
  /* The exception travelled with its series. */
  g_assert_true (saw_exception);

  {
    g_autoptr(AglItem) got = agl_store_get_item (store, local->id, &error);

    g_assert_no_error (error);
    g_assert_null (got->account);
    g_assert_cmpstr (got->ical, ==, ((AglItem *) g_ptr_array_index (expected, 0))->ical);
    assert_ical_stable (got);
  }
}

static gboolean
items_contain (GPtrArray *items,
               gint64     id)
{
  for (guint i = 0; i < items->len; i++)
    if (((AglItem *) g_ptr_array_index (items, i))->id == id)
      return TRUE;
  return FALSE;
}

/* Whether the store lists @item in [from, to). */
static gboolean
listed_in (AglStore      *store,
           const AglItem *item,
           gint64         from,
           gint64         to)
{
  g_autoptr(GPtrArray) items = list_items (store, NULL, from, to);

  return items_contain (items, item->id);
}

/* Range queries on the times agl-event.c computes: the end of a series
 * with COUNT and an EXDATE, a series without end, all day, an event
 * without DTEND. */
static void
test_ical_range (Fixture       *fx,
                 gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) events = roundtrip_events ();
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(GError) error = NULL;
  guint n_zero_length = 0;
  guint n_unbounded = 0;

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (items, agl_event_to_item (g_ptr_array_index (events, i), NULL));
  g_assert_true (agl_store_import_items (store, NULL, items, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < items->len; i++)
    {
      AglItem *item = g_ptr_array_index (items, i);

      g_test_message ("%s: %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                      ", last ends %" G_GINT64_FORMAT,
                      item->uid, item->start, item->end, item->range_end);

      /* Nothing before the first start. */
      g_assert_false (listed_in (store, item, item->start - 86400, item->start));
      g_assert_true (listed_in (store, item, item->start, item->start + 1));

      if (item->range_end == AGL_ITEM_UNBOUNDED)
        {
          n_unbounded++;
          /* 2100-01-01 */
          g_assert_true (listed_in (store, item, G_GINT64_CONSTANT (4102444800),
                                    G_GINT64_CONSTANT (4102444801)));
          g_assert_true (listed_in (store, item, AGL_ITEM_UNBOUNDED - 1, G_MAXINT64));
        }
      else if (item->range_end == item->start)
        {
          n_zero_length++;
          g_assert_false (listed_in (store, item, item->start + 1, item->start + 86400));
        }
      else
        {
          g_assert_true (listed_in (store, item, item->range_end - 1, item->range_end));
          g_assert_false (listed_in (store, item, item->range_end, item->range_end + 86400));
        }
    }
  g_assert_cmpuint (n_unbounded, ==, 1);
  g_assert_cmpuint (n_zero_length, ==, 1);
}

static void
test_ical_update (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) events = roundtrip_events ();
  g_autoptr(AglItem) item = NULL;
  g_autoptr(AglItem) changed = NULL;
  g_autoptr(AglItem) got = NULL;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) parts = NULL;

  add_account (store, "Work");
  item = agl_event_to_item (g_ptr_array_index (events, 3), "Work");
  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_no_error (error);

  /* A client edits the text: a new SUMMARY, the same UID. */
  parts = g_strsplit (item->ical, "SUMMARY:", 2);
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  text = g_strconcat (parts[0], "SUMMARY:Renamed\r\nX-OLD-SUMMARY:", parts[1], NULL);
  event = agl_event_new_from_string (text, &error);
  g_assert_no_error (error);
  changed = agl_event_to_item (event, "Work");
  changed->id = item->id;
  g_assert_true (agl_store_update_item (store, changed, &error));
  g_assert_no_error (error);

  got = agl_store_get_item (store, item->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->summary, ==, "Renamed");
  assert_items_equal (got, changed);
  assert_ical_stable (got);

  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 2);
  g_assert_cmpint (((AglJournalEntry *) g_ptr_array_index (journal, 1))->op,
                   ==, AGL_JOURNAL_UPDATE);
}

/* What ExportCalendar does: the stored texts make one calendar that reads
 * back as the same appointments. */
static void
test_ical_export (Fixture       *fx,
                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) events = roundtrip_events ();
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GPtrArray) icals = g_ptr_array_new ();
  g_autoptr(GPtrArray) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *exported = NULL;

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (items, agl_event_to_item (g_ptr_array_index (events, i), NULL));
  g_assert_true (agl_store_import_items (store, NULL, items, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  stored = list_items (store, NULL, G_MININT64, G_MAXINT64);
  g_assert_cmpuint (stored->len, ==, events->len);
  for (guint i = 0; i < stored->len; i++)
    g_ptr_array_add (icals, ((AglItem *) g_ptr_array_index (stored, i))->ical);

  exported = agl_event_export (icals, &error);
  g_assert_no_error (error);
  back = agl_event_list_from_ics (exported, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, stored->len);
  for (guint i = 0; i < back->len; i++)
    {
      g_autoptr(AglItem) item = agl_event_to_item (g_ptr_array_index (back, i), NULL);
      g_autoptr(AglItem) original = agl_store_find_item_by_uid (store, NULL, item->uid, &error);

      g_assert_no_error (error);
      g_assert_nonnull (original);
      g_assert_cmpstr (item->summary, ==, original->summary);
      g_assert_cmpint (item->start, ==, original->start);
      g_assert_cmpint (item->end, ==, original->end);
      g_assert_cmpint (item->range_end, ==, original->range_end);
      g_assert_cmpint (item->all_day, ==, original->all_day);
      g_assert_cmpint (item->recurring, ==, original->recurring);
    }
}

/* ------------------------------------------------------------------------ */
/* A crash in the middle of a write. */

typedef struct {
  char     *line;
  gboolean  line_done;
  gboolean  exited;
  gboolean  timed_out;
} HelperWait;

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HelperWait *wait = user_data;
  g_autoptr(GError) error = NULL;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                          result, NULL, &error);
  g_assert_no_error (error);
  wait->line_done = TRUE;
}

static void
helper_exited_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  HelperWait *wait = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  wait->exited = TRUE;
}

static gboolean
helper_timeout_cb (gpointer user_data)
{
  HelperWait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_crash_sigkill (Fixture       *fx,
                    gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *helper_path = g_test_build_filename (G_TEST_BUILT, "store-writer-helper", NULL);
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *integrity = NULL;
  HelperWait wait = { NULL, FALSE, FALSE, FALSE };
  GStatBuf st;
  guint timeout_id;
  guint n_items = 0;

  add_account (store, "Work");
  add_item (store, "Work", "before-1@example.com", T0, T0 + HOUR);
  add_item (store, "Work", "helper-3@agendaline.test", T0, T0 + HOUR);
  add_item (store, NULL, "before-2@example.com", T0, T0 + HOUR);
  g_clear_object (&store);
  before = dump_store (fx->path);

  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             helper_path, fx->path, "Work", "4000", NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (helper));

  timeout_id = g_timeout_add_seconds (HELPER_TIMEOUT_SECONDS, helper_timeout_cb, &wait);
  g_data_input_stream_read_line_async (output, G_PRIORITY_DEFAULT, NULL, line_read_cb, &wait);
  while (!wait.line_done && !wait.timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wait.timed_out);
  g_assert_cmpstr (wait.line, ==, "mid-transaction");

  /* Half the import did not fit in the page cache: uncommitted pages are
   * on disk in the -wal file when the process dies. */
  g_assert_no_errno (g_stat (wal, &st));
  g_assert_cmpint (st.st_size, >, 0);

  g_subprocess_send_signal (helper, SIGKILL);
  g_subprocess_wait_async (helper, NULL, helper_exited_cb, &wait);
  while (!wait.exited && !wait.timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wait.timed_out);
  g_source_remove (timeout_id);
  g_assert_true (g_subprocess_get_if_signaled (helper));
  g_assert_cmpint (g_subprocess_get_term_sig (helper), ==, SIGKILL);

  /* The store is as it was before the import... */
  store = open_store (fx);
  g_assert_true (agl_store_count (store, NULL, NULL, &n_items, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_items, ==, 3);

  db = open_raw (fx->path);
  integrity = query_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
  after = dump_db (db);
  g_assert_cmpstr (after, ==, before);
  g_clear_pointer (&db, sqlite3_close);

  /* ...and takes new writes. */
  add_item (store, "Work", "after@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_count (store, NULL, NULL, &n_items, &error));
  g_assert_cmpuint (n_items, ==, 4);

  g_free (wait.line);
}

/* ------------------------------------------------------------------------ */
/* The sync engine's writes. */

#define IDENTITY_A "https://a/EWS anna@example.com"
#define IDENTITY_B "https://b/EWS anna@example.com"

/* A remote item as the engine maps it: no id, no account. */
static AglItem *
make_remote_item (const char *uid,
                  const char *summary)
{
  AglItem *item = make_item (NULL, uid, T0, T0 + HOUR);

  g_free (item->summary);
  item->summary = g_strdup (summary);
  g_free (item->ical);
  item->ical = make_ical (uid, summary);
  return item;
}

static void
page_add (AglRemoteChangeSet *page,
          const char         *uid,
          const char         *summary,
          const char         *remote_id,
          const char         *change_key)
{
  g_autoptr(AglItem) item = make_remote_item (uid, summary);

  agl_remote_change_set_add_upsert (page, item, remote_id, change_key);
}

static char *
get_state (AglStore   *store,
           const char *account,
           const char *identity)
{
  g_autoptr(GError) error = NULL;
  char *state = NULL;

  g_assert_true (agl_store_get_sync_state (store, account, identity, &state, &error));
  g_assert_no_error (error);
  return state;
}

static void
assert_link (AglStore   *store,
             gint64      item_id,
             const char *remote_id,
             const char *change_key)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *r = NULL;
  g_autofree char *c = NULL;

  g_assert_true (agl_store_get_item_link (store, item_id, &r, &c, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (r, ==, remote_id);
  g_assert_cmpstr (c, ==, change_key);
}

static AglItem *
find_uid (AglStore   *store,
          const char *account,
          const char *uid)
{
  g_autoptr(GError) error = NULL;
  AglItem *item = agl_store_find_item_by_uid (store, account, uid, &error);

  g_assert_no_error (error);
  return item;
}

static void
apply_ok (AglStore           *store,
          const char         *account,
          const char         *identity,
          AglRemoteChangeSet *page,
          const char         *state,
          GArray             *candidates)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_store_apply_remote_changes (store, account, identity, page, state,
                                                 NULL, candidates, NULL, NULL, &error));
  g_assert_no_error (error);
}

/* Page 1: R-a and R-b created on Exchange, stored with state S1. */
static void
apply_first_page (AglStore *store)
{
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();

  page_add (page, "a@example.com", "A", "R-a", "CK-a1");
  page_add (page, "b@example.com", "B", "R-b", "CK-b1");
  apply_ok (store, "Work", IDENTITY_A, page, "S1", NULL);
}

static void
test_remote_apply_page (Fixture       *fx,
                        gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(AglItem) a = NULL;
  g_autoptr(AglItem) b = NULL;
  g_autoptr(AglItem) c = NULL;
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *state = NULL;
  gint64 a_id, b_id;
  Recorder recorder;

  add_account (store, "Work");
  recorder_connect (&recorder, store);
  recorder.path = fx->path;

  apply_first_page (store);
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  g_assert_cmpstr (recorder.account, ==, "Work");
  g_assert_cmpuint (recorder.created->len, ==, 2);
  /* The signal came after the COMMIT. */
  g_assert_cmpint (recorder.visible_items, ==, 2);
  a = find_uid (store, "Work", "a@example.com");
  b = find_uid (store, "Work", "b@example.com");
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  a_id = a->id;
  b_id = b->id;
  assert_ids (recorder.created, (gint64[]) { a_id, b_id }, 2);
  g_assert_cmpstr (a->summary, ==, "A");
  assert_link (store, a_id, "R-a", "CK-a1");
  assert_link (store, b_id, "R-b", "CK-b1");
  state = get_state (store, "Work", IDENTITY_A);
  g_assert_cmpstr (state, ==, "S1");
  g_clear_pointer (&state, g_free);
  g_clear_pointer (&a, agl_item_free);

  /* Page 2: R-a changed, R-b deleted, R-c created, and state S2. */
  page_add (page, "a@example.com", "A changed", "R-a", "CK-a2");
  agl_remote_change_set_add_delete (page, "R-b");
  page_add (page, "c@example.com", "C", "R-c", "CK-c1");
  agl_remote_change_set_add_delete (page, "R-unknown");
  apply_ok (store, "Work", IDENTITY_A, page, "S2", candidates);

  g_assert_cmpuint (candidates->len, ==, 0);
  g_assert_cmpuint (recorder.n_agenda, ==, 2);
  c = find_uid (store, "Work", "c@example.com");
  g_assert_nonnull (c);
  assert_ids (recorder.created, (gint64[]) { c->id }, 1);
  assert_ids (recorder.updated, (gint64[]) { a_id }, 1);
  assert_ids (recorder.deleted, (gint64[]) { b_id }, 1);

  a = agl_store_get_item (store, a_id, NULL);
  g_assert_cmpstr (a->summary, ==, "A changed");
  g_assert_true (strstr (a->ical, "SUMMARY:A changed") != NULL);
  assert_link (store, a_id, "R-a", "CK-a2");
  assert_link (store, c->id, "R-c", "CK-c1");
  g_assert_null (find_uid (store, "Work", "b@example.com"));
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links WHERE remote_id = 'R-b'"),
                   ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 2);
  state = get_state (store, "Work", IDENTITY_A);
  g_assert_cmpstr (state, ==, "S2");
  g_clear_pointer (&state, g_free);
  /* The state belongs to its identity only. */
  state = get_state (store, "Work", IDENTITY_B);
  g_assert_null (state);

  recorder_clear (&recorder);
}

static void
test_remote_apply_no_journal (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;

  add_account (store, "Work");
  apply_first_page (store);
  page_add (page, "a@example.com", "A changed", "R-a", "CK-a2");
  agl_remote_change_set_add_delete (page, "R-b");
  apply_ok (store, "Work", IDENTITY_A, page, "S2", NULL);

  /* Changes from Exchange are not local edits to send back. */
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (journal->len, ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);
}

static void
test_remote_apply_failure_rolls_back (Fixture       *fx,
                                      gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(AglItem) bad = make_remote_item ("bad@example.com", "Bad");
  g_autoptr(GPtrArray) conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_conflict_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *state = NULL;
  Recorder recorder;

  add_account (store, "Work");
  apply_first_page (store);
  before = dump_store (fx->path);
  recorder_connect (&recorder, store);

  /* Good changes first, so the bad one fails with them written in the
   * transaction: an update, a delete, a create, then an item ending before
   * it starts (which the items table's CHECK would refuse, too). */
  page_add (page, "a@example.com", "A changed", "R-a", "CK-a2");
  agl_remote_change_set_add_delete (page, "R-b");
  page_add (page, "c@example.com", "C", "R-c", "CK-c1");
  bad->end = bad->start - HOUR;
  bad->range_end = bad->end;
  agl_remote_change_set_add_upsert (page, bad, "R-bad", "CK-bad");
  g_ptr_array_add (conflicts, agl_conflict_new (NULL, "a@example.com", "BEGIN:VCALENDAR", "test"));

  g_assert_false (agl_store_apply_remote_changes (store, "Work", IDENTITY_A, page, "S2",
                                                  conflicts, NULL, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  assert_error_names (error, "R-bad");
  g_test_message ("Refused as expected: %s", error->message);
  g_clear_error (&error);

  /* Items, links, conflicts AND the old sync state are as they were. */
  after = dump_store (fx->path);
  g_assert_cmpstr (after, ==, before);
  state = get_state (store, "Work", IDENTITY_A);
  g_assert_cmpstr (state, ==, "S1");
  g_assert_cmpint (((AglConflict *) g_ptr_array_index (conflicts, 0))->id, ==, 0);
  g_assert_cmpuint (recorder.n_agenda, ==, 0);

  /* An unknown account and the local agenda are refused the same way. */
  g_assert_false (agl_store_apply_remote_changes (store, "Nope", IDENTITY_A, page, "S2",
                                                  NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "Nope");
  g_clear_error (&error);
  g_assert_false (agl_store_apply_remote_changes (store, "", IDENTITY_A, page, "S2",
                                                  NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_free (after);
  after = dump_store (fx->path);
  g_assert_cmpstr (after, ==, before);
  recorder_clear (&recorder);
}

static void
test_remote_relink_by_uid (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(AglItem) item = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;

  add_account (store, "Work");
  id = add_item (store, "Work", "mine@example.com", T0, T0 + HOUR);
  /* Sent, but the answer was lost: no link, no pending entry. */
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_true (agl_store_clear_journal_entry (store,
                                                ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq,
                                                &error));
  g_assert_no_error (error);

  page_add (page, "mine@example.com", "Mine, from Exchange", "R-mine", "CK1");
  apply_ok (store, "Work", IDENTITY_A, page, "S1", NULL);

  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 1);
  item = find_uid (store, "Work", "mine@example.com");
  g_assert_cmpint (item->id, ==, id);
  g_assert_cmpstr (item->summary, ==, "Mine, from Exchange");
  assert_link (store, id, "R-mine", "CK1");

  /* The same UID under a new ItemId (moved and back): re-linked again. */
  agl_remote_change_set_free (g_steal_pointer (&page));
  page = agl_remote_change_set_new ();
  page_add (page, "mine@example.com", "Mine", "R-mine-2", "CK2");
  apply_ok (store, "Work", IDENTITY_A, page, "S2", NULL);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 1);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links"), ==, 1);
  assert_link (store, id, "R-mine-2", "CK2");
}

static void
test_remote_pending_local_edit (Fixture       *fx,
                                gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(AglItem) a = NULL;
  g_autoptr(AglItem) after = NULL;
  g_autoptr(AglItem) b = NULL;
  g_autoptr(AglItem) d = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  gint64 b_id;

  add_account (store, "Work");
  apply_first_page (store);
  a = find_uid (store, "Work", "a@example.com");
  b = find_uid (store, "Work", "b@example.com");
  b_id = b->id;

  /* Local edits not sent yet: A changed, B deleted, D created. */
  g_free (a->summary);
  a->summary = g_strdup ("A, edited here");
  g_assert_true (agl_store_update_item (store, a, &error));
  g_assert_true (agl_store_delete_item (store, b_id, &error));
  g_assert_no_error (error);
  d = make_item ("Work", "d@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_add_item (store, d, &error));
  g_assert_no_error (error);

  /* Exchange changed all three meanwhile, and deleted A in a later step. */
  page_add (page, "a@example.com", "A, edited there", "R-a", "CK-a2");
  page_add (page, "b@example.com", "B, edited there", "R-b", "CK-b2");
  page_add (page, "d@example.com", "D there", "R-d", "CK-d1");
  agl_remote_change_set_add_delete (page, "R-a");
  page_add (page, "e@example.com", "E", "R-e", "CK-e1");
  apply_ok (store, "Work", IDENTITY_A, page, "S2", candidates);

  assert_ids (candidates, (gint64[]) { a->id, b_id, d->id }, 3);
  /* Untouched: the local versions, the old links; B not brought back. */
  after = agl_store_get_item (store, a->id, &error);
  g_assert_no_error (error);
  assert_items_equal (after, a);
  assert_link (store, a->id, "R-a", "CK-a1");
  g_assert_null (find_uid (store, "Work", "b@example.com"));
  g_clear_pointer (&after, agl_item_free);
  after = agl_store_get_item (store, d->id, &error);
  assert_items_equal (after, d);
  assert_link (store, d->id, NULL, NULL);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 3);
  /* The rest of the page and the state are stored. */
  g_clear_pointer (&after, agl_item_free);
  after = find_uid (store, "Work", "e@example.com");
  g_assert_nonnull (after);
  state = get_state (store, "Work", IDENTITY_A);
  g_assert_cmpstr (state, ==, "S2");
}

static void
test_complete_journal_entry (Fixture       *fx,
                             gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "mine@example.com", T0, T0 + HOUR);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  gint64 create_seq, update_seq, delete_seq;
  Recorder recorder;

  add_account (store, "Work");
  g_assert_true (agl_store_add_item (store, item, &error));
  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_no_error (error);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 2);
  create_seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  update_seq = ((AglJournalEntry *) g_ptr_array_index (journal, 1))->seq;
  g_clear_pointer (&journal, g_ptr_array_unref);
  recorder_connect (&recorder, store);

  /* Refused: another item, a create without ItemId, an unknown entry. */
  g_assert_false (agl_store_complete_journal_entry (store, create_seq, item->id + 1,
                                                    "R1", "CK1", NULL, FALSE, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (agl_store_complete_journal_entry (store, create_seq, item->id,
                                                    NULL, NULL, NULL, FALSE, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (agl_store_complete_journal_entry (store, 9999, item->id,
                                                    "R1", "CK1", NULL, FALSE, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  assert_error_names (error, "9999");
  g_clear_error (&error);
  assert_link (store, item->id, NULL, NULL);

  /* CreateItem answered: the link, and the pending update learns it. */
  g_assert_true (agl_store_complete_journal_entry (store, create_seq, item->id,
                                                   "R1", "CK1", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  assert_link (store, item->id, "R1", "CK1");
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 1);
  assert_journal_entry (g_ptr_array_index (journal, 0), AGL_JOURNAL_UPDATE, item->id,
                        "mine@example.com", "R1", "CK1");
  g_clear_pointer (&journal, g_ptr_array_unref);

  /* UpdateItem answered: the new change key. */
  g_assert_true (agl_store_complete_journal_entry (store, update_seq, item->id,
                                                   "R1", "CK2", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  assert_link (store, item->id, "R1", "CK2");
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);

  /* DeleteItem answered: no link left. */
  g_assert_true (agl_store_delete_item (store, item->id, &error));
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 1);
  delete_seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  assert_journal_entry (g_ptr_array_index (journal, 0), AGL_JOURNAL_DELETE, item->id,
                        "mine@example.com", "R1", "CK2");
  g_assert_true (agl_store_complete_journal_entry (store, delete_seq, item->id,
                                                   NULL, NULL, NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links"), ==, 0);

  /* Bookkeeping only: the delete's own signal, nothing more. */
  g_assert_cmpuint (recorder.n_agenda, ==, 1);
  recorder_clear (&recorder);
}

static void
test_complete_after_local_delete (Fixture       *fx,
                                  gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id, create_seq;

  add_account (store, "Work");
  id = add_item (store, "Work", "gone@example.com", T0, T0 + HOUR);
  g_assert_true (agl_store_delete_item (store, id, &error));
  journal = agl_store_list_journal (store, "Work", &error);
  create_seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  g_clear_pointer (&journal, g_ptr_array_unref);

  /* The create reached Exchange; the delete must know what to delete. */
  g_assert_true (agl_store_complete_journal_entry (store, create_seq, id,
                                                   "R-gone", "CK1", NULL, FALSE, NULL, &error));
  g_assert_no_error (error);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 1);
  assert_journal_entry (g_ptr_array_index (journal, 0), AGL_JOURNAL_DELETE, id,
                        "gone@example.com", "R-gone", "CK1");
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links"), ==, 0);
}

static void
assert_conflict (AglConflict *conflict,
                 const char  *account,
                 const char  *uid,
                 const char  *ical,
                 const char  *reason)
{
  g_assert_cmpint (conflict->id, >, 0);
  g_assert_cmpstr (conflict->account, ==, account);
  g_assert_cmpstr (conflict->item_uid, ==, uid);
  g_assert_cmpstr (conflict->ical, ==, ical);
  g_assert_cmpstr (conflict->reason, ==, reason);
  g_assert_cmpint (conflict->created, >, 0);
}

static void
test_conflicts (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(GPtrArray) with_page = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_conflict_free);
  g_autoptr(GPtrArray) with_entry = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_conflict_free);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(AglConflict) taken = NULL;
  g_autoptr(GError) error = NULL;
  gint64 first = 0, id;

  add_account (store, "Work");
  add_account (store, "Lab");

  g_assert_true (agl_store_add_conflict (store, "Work", "a@example.com", "ICAL-A",
                                         "Changed on both sides", &first, &error));
  g_assert_no_error (error);
  g_assert_cmpint (first, >, 0);

  /* With a page: stored in its transaction. */
  page_add (page, "b@example.com", "B", "R-b", "CK-b1");
  g_ptr_array_add (with_page, agl_conflict_new (NULL, "b@example.com", "ICAL-B", "Exchange wins"));
  g_assert_true (agl_store_apply_remote_changes (store, "Lab", IDENTITY_A, page, "S1",
                                                 with_page, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_conflict (g_ptr_array_index (with_page, 0), "Lab", "b@example.com", "ICAL-B",
                   "Exchange wins");

  /* With a journal entry. */
  id = add_item (store, "Work", "c@example.com", T0, T0 + HOUR);
  journal = agl_store_list_journal (store, "Work", &error);
  g_ptr_array_add (with_entry, agl_conflict_new ("Work", "c@example.com", "ICAL-C", "Local wins"));
  g_assert_true (agl_store_complete_journal_entry (store,
                                                   ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq,
                                                   id, "R-c", "CK-c1", NULL, FALSE, with_entry, &error));
  g_assert_no_error (error);
  assert_conflict (g_ptr_array_index (with_entry, 0), "Work", "c@example.com", "ICAL-C",
                   "Local wins");

  list = agl_store_list_conflicts (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  assert_conflict (g_ptr_array_index (list, 0), "Work", "a@example.com", "ICAL-A",
                   "Changed on both sides");
  g_assert_cmpint (((AglConflict *) g_ptr_array_index (list, 0))->id, ==, first);
  assert_conflict (g_ptr_array_index (list, 1), "Lab", "b@example.com", "ICAL-B",
                   "Exchange wins");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((AglConflict *) g_ptr_array_index (list, 1))->item_uid, ==, "c@example.com");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Taken for restoring: returned and gone. */
  taken = agl_store_take_conflict (store, first, &error);
  g_assert_no_error (error);
  assert_conflict (taken, "Work", "a@example.com", "ICAL-A", "Changed on both sides");
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_clear_pointer (&taken, agl_conflict_free);
  taken = agl_store_take_conflict (store, first, &error);
  g_assert_null (taken);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Refused: unknown account, missing text, another account's record. */
  g_assert_false (agl_store_add_conflict (store, "Nope", "x", "ICAL", "r", NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (agl_store_add_conflict (store, "Work", "x", NULL, "r", NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  list = agl_store_list_conflicts (store, "Nope", &error);
  g_assert_null (list);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  agl_remote_change_set_free (g_steal_pointer (&page));
  page = agl_remote_change_set_new ();
  g_ptr_array_set_size (with_page, 0);
  g_ptr_array_add (with_page, agl_conflict_new ("Work", "d@example.com", "ICAL-D", "r"));
  g_assert_false (agl_store_apply_remote_changes (store, "Lab", IDENTITY_A, page, "S2",
                                                  with_page, NULL, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM conflicts"), ==, 2);
}

static void
test_reset_sync_state (Fixture       *fx,
                       gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(AglRemoteChangeSet) lab_page = agl_remote_change_set_new ();
  g_autoptr(AglItem) a = NULL;
  g_autoptr(AglItem) found = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  gint64 work, local_id;
  Recorder recorder;

  work = add_account (store, "Work");
  add_account (store, "Lab");
  apply_first_page (store);
  page_add (lab_page, "a@example.com", "A", "R-a", "CK-lab");
  apply_ok (store, "Lab", IDENTITY_A, lab_page, "S-lab", NULL);
  a = find_uid (store, "Work", "a@example.com");
  g_assert_true (agl_store_update_item (store, a, &error));
  g_assert_no_error (error);
  local_id = add_item (store, "Work", "local@example.com", T0 + 2 * HOUR, T0 + 3 * HOUR);
  recorder_connect (&recorder, store);

  g_assert_true (agl_store_reset_sync_state (store, "Work", &error));
  g_assert_no_error (error);

  /* Items kept; the account's states and links gone, the other's kept. */
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 4);
  state = get_state (store, "Work", IDENTITY_A);
  g_assert_null (state);
  state = get_state (store, "Lab", IDENTITY_A);
  g_assert_cmpstr (state, ==, "S-lab");
  g_clear_pointer (&state, g_free);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM item_links WHERE account_id = %"
                                            G_GINT64_FORMAT, work);

    g_assert_cmpint (count_rows (fx->path, sql), ==, 0);
  }
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM item_links"), ==, 1);
  /* Pending edits stay, without the old mailbox's ids. */
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 2);
  assert_journal_entry (g_ptr_array_index (journal, 0), AGL_JOURNAL_UPDATE, a->id,
                        "a@example.com", NULL, NULL);
  g_assert_cmpuint (recorder.n_agenda, ==, 0);

  /* Re-link by start + end + subject: only unlinked items of the account. */
  found = agl_store_find_item_by_times_and_summary (store, "Work", T0 + 2 * HOUR,
                                                    T0 + 3 * HOUR, "About local@example.com",
                                                    &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  g_assert_cmpint (found->id, ==, local_id);
  g_clear_pointer (&found, agl_item_free);
  found = agl_store_find_item_by_times_and_summary (store, "Work", T0 + 2 * HOUR,
                                                    T0 + 3 * HOUR, "Other", &error);
  g_assert_no_error (error);
  g_assert_null (found);
  found = agl_store_find_item_by_times_and_summary (store, "Lab", T0, T0 + HOUR, "A", &error);
  g_assert_no_error (error);
  g_assert_null (found);
  found = agl_store_find_item_by_times_and_summary (store, "Nope", T0, T0 + HOUR, "A", &error);
  g_assert_null (found);
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The new identity's first page re-links B by UID, no duplicate. */
  page_add (page, "b@example.com", "B", "R2-b", "CK2-b");
  apply_ok (store, "Work", IDENTITY_B, page, "S-new", NULL);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 4);
  found = find_uid (store, "Work", "b@example.com");
  assert_link (store, found->id, "R2-b", "CK2-b");

  g_assert_false (agl_store_reset_sync_state (store, "Nope", &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  recorder_clear (&recorder);
}

static void
test_crash_sigkill_mid_apply (Fixture       *fx,
                              gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *helper_path = g_test_build_filename (G_TEST_BUILT, "store-writer-helper", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *integrity = NULL;
  g_autofree char *state = NULL;
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  HelperWait wait = { NULL, FALSE, FALSE, FALSE };
  GStatBuf st;
  guint timeout_id;

  add_account (store, "Work");
  {
    g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();

    /* The helper's identity, with a state and a linked item it updates. */
    page_add (page, "helper-3@agendaline.test", "Before", "helper-R3", "CK-before");
    page_add (page, "before@example.com", "Before", "R-before", "CK-before");
    apply_ok (store, "Work", "https://helper/EWS anna@example.com", page, "S-before", NULL);
  }
  g_clear_object (&store);
  before = dump_store (fx->path);

  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             helper_path, "--apply", fx->path, "Work", "4000", NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (helper));

  timeout_id = g_timeout_add_seconds (HELPER_TIMEOUT_SECONDS, helper_timeout_cb, &wait);
  g_data_input_stream_read_line_async (output, G_PRIORITY_DEFAULT, NULL, line_read_cb, &wait);
  while (!wait.line_done && !wait.timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wait.timed_out);
  g_assert_cmpstr (wait.line, ==, "mid-transaction");

  /* Uncommitted pages of the page are on disk in the -wal file. */
  g_assert_no_errno (g_stat (wal, &st));
  g_assert_cmpint (st.st_size, >, 0);

  g_subprocess_send_signal (helper, SIGKILL);
  g_subprocess_wait_async (helper, NULL, helper_exited_cb, &wait);
  while (!wait.exited && !wait.timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wait.timed_out);
  g_source_remove (timeout_id);
  g_assert_true (g_subprocess_get_if_signaled (helper));
  g_assert_cmpint (g_subprocess_get_term_sig (helper), ==, SIGKILL);

  /* Items, links and the sync key are those of before the page. */
  store = open_store (fx);
  state = get_state (store, "Work", "https://helper/EWS anna@example.com");
  g_assert_cmpstr (state, ==, "S-before");
  db = open_raw (fx->path);
  integrity = query_text (db, "PRAGMA integrity_check");
  g_assert_cmpstr (integrity, ==, "ok");
  after = dump_db (db);
  g_assert_cmpstr (after, ==, before);

  g_free (wait.line);
}

/* ------------------------------------------------------------------------ */

/* The sync engine's reads and the writes that end a conflict (schema 5). */

static void
test_sync_info (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(AglItem) remote = make_item (NULL, "remote@example.com", 1000, 2000);
  g_autoptr(GError) error = NULL;
  g_auto(AglSyncInfo) info = { 0 };
  g_autofree char *base = NULL;
  gint64 local_id;

  add_account (store, "Work");
  local_id = add_item (store, "Work", "local@example.com", 100, 200);
  g_assert_true (agl_store_get_sync_info (store, "Work", "url-a alice", &info, &error));
  g_assert_no_error (error);
  g_assert_null (info.state);
  g_assert_false (info.other_identity);
  g_assert_cmpuint (info.n_items, ==, 1);
  g_assert_cmpuint (info.n_linked, ==, 0);
  g_assert_cmpuint (info.n_pending, ==, 1);
  agl_sync_info_clear (&info);

  agl_remote_change_set_add_upsert (page, remote, "R1", "CK1");
  g_assert_true (agl_store_apply_remote_changes (store, "Work", "url-a alice", page, "S1",
                                                 NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (agl_store_get_sync_info (store, "Work", "url-a alice", &info, &error));
  g_assert_cmpstr (info.state, ==, "S1");
  g_assert_cmpint (info.state_modified, >, 0);
  g_assert_false (info.other_identity);
  g_assert_cmpuint (info.n_items, ==, 2);
  g_assert_cmpuint (info.n_linked, ==, 1);
  agl_sync_info_clear (&info);

  /* Another identity sees the first one's state and links as foreign. */
  g_assert_true (agl_store_get_sync_info (store, "Work", "url-b alice", &info, &error));
  g_assert_null (info.state);
  g_assert_true (info.other_identity);
  agl_sync_info_clear (&info);

  /* The link keeps Exchange's version as the base of the next edit. */
  {
    g_autoptr(AglItem) stored = agl_store_find_item_by_uid (store, "Work", "remote@example.com",
                                                            &error);
    g_assert_true (agl_store_get_item_base (store, stored->id, &base, &error));
    g_assert_cmpstr (base, ==, remote->ical);
    g_clear_pointer (&base, g_free);
  }
  g_assert_true (agl_store_get_item_base (store, local_id, &base, &error));
  g_assert_null (base);

  g_assert_false (agl_store_get_sync_info (store, NULL, "x", &info, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
}

static void
test_settle_journal_entry (Fixture       *fx,
                           gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglItem) item = make_item ("Work", "both@example.com", 1000, 2000);
  g_autoptr(AglItem) theirs = make_item ("Work", "both@example.com", 3000, 4000);
  g_autoptr(AglItem) stored = NULL;
  g_autoptr(GPtrArray) conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_conflict_free);
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  Recorder recorder = { 0 };
  gint64 seq, settled = 0;

  add_account (store, "Work");
  g_assert_true (agl_store_add_item (store, item, &error));
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_true (agl_store_complete_journal_entry (store,
                                                   ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq,
                                                   item->id, "R1", "CK1", item->ical, FALSE, NULL, &error));
  g_clear_pointer (&journal, g_ptr_array_unref);
  /* Two local edits wait when Exchange's version wins. */
  g_assert_true (agl_store_update_item (store, item, &error));
  g_assert_true (agl_store_update_item (store, item, &error));
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 2);
  seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  recorder_connect (&recorder, store);

  g_free (theirs->summary);
  theirs->summary = g_strdup ("Theirs");
  g_ptr_array_add (conflicts, agl_conflict_new (NULL, item->uid, item->ical, "both changed"));
  g_assert_true (agl_store_settle_journal_entry (store, seq, AGL_STORE_SETTLE_TAKE_REMOTE, theirs,
                                                 "R1", "CK9", conflicts, &settled, &error));
  g_assert_no_error (error);
  g_assert_cmpint (settled, ==, item->id);
  stored = agl_store_get_item (store, item->id, &error);
  g_assert_cmpstr (stored->summary, ==, "Theirs");
  g_assert_cmpint (stored->start, ==, 3000);
  assert_link (store, item->id, "R1", "CK9");
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((AglConflict *) g_ptr_array_index (list, 0))->ical, ==, item->ical);
  g_assert_cmpuint (recorder.n_agenda, ==, 1);

  /* Deleted in Exchange: the appointment goes, its entries too. */
  g_assert_true (agl_store_update_item (store, item, &error));
  g_clear_pointer (&journal, g_ptr_array_unref);
  journal = agl_store_list_journal (store, "Work", &error);
  seq = ((AglJournalEntry *) g_ptr_array_index (journal, 0))->seq;
  g_assert_true (agl_store_settle_journal_entry (store, seq, AGL_STORE_SETTLE_DROP_LOCAL, NULL,
                                                 NULL, NULL, NULL, &settled, &error));
  g_assert_no_error (error);
  g_assert_cmpint (settled, ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM items"), ==, 0);
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);

  /* An entry that is gone, and TAKE_REMOTE without a version. */
  g_assert_false (agl_store_settle_journal_entry (store, seq, AGL_STORE_SETTLE_DROP_LOCAL, NULL,
                                                  NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  recorder_clear (&recorder);
}

static gboolean
has_item (AglStore   *store,
          const char *account,
          const char *uid)
{
  g_autoptr(AglItem) item = agl_store_find_item_by_uid (store, account, uid, NULL);

  return item != NULL;
}

static void
test_retire_and_restore (Fixture       *fx,
                         gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();
  g_autoptr(AglItem) old_a = make_item (NULL, "a@example.com", 1000, 2000);
  g_autoptr(AglItem) old_b = make_item (NULL, "b@example.com", 3000, 4000);
  g_autoptr(AglItem) restored = NULL;
  g_autoptr(GArray) linked = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) journal = NULL;
  g_autoptr(GError) error = NULL;
  guint retired = 0;
  gint64 conflict_id;

  add_account (store, "Work");
  agl_remote_change_set_add_upsert (page, old_a, "RA", "CK");
  agl_remote_change_set_add_upsert (page, old_b, "RB", "CK");
  g_assert_true (agl_store_apply_remote_changes (store, "Work", "url alice", page, "S1",
                                                 NULL, NULL, NULL, NULL, &error));
  linked = agl_store_list_linked_items (store, "Work", &error);
  g_assert_cmpuint (linked->len, ==, 2);

  /* Re-pointed: only b is in the new mailbox. */
  g_assert_true (agl_store_reset_sync_state (store, "Work", &error));
  g_clear_pointer (&page, agl_remote_change_set_free);
  page = agl_remote_change_set_new ();
  agl_remote_change_set_add_upsert (page, old_b, "NEW-B", "CK");
  g_assert_true (agl_store_apply_remote_changes (store, "Work", "url bob", page, "S2",
                                                 NULL, NULL, NULL, NULL, &error));
  g_assert_true (agl_store_retire_unlinked (store, "Work", linked, "not in the new mailbox",
                                            &retired, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (retired, ==, 1);
  g_assert_false (has_item (store, "Work", "a@example.com"));
  g_assert_true (has_item (store, "Work", "b@example.com"));
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((AglConflict *) g_ptr_array_index (list, 0))->item_uid, ==, "a@example.com");
  conflict_id = ((AglConflict *) g_ptr_array_index (list, 0))->id;
  g_assert_cmpint (count_rows (fx->path, "SELECT count(*) FROM journal"), ==, 0);

  /* With no list: every appointment linked to nothing with no edit
   * waiting (a reset a crash cut short); b is linked, so it stays. */
  {
    g_autoptr(AglRemoteChangeSet) orphan_page = agl_remote_change_set_new ();
    g_autoptr(AglItem) orphan = make_item (NULL, "orphan@example.com", 5000, 6000);

    agl_remote_change_set_add_upsert (orphan_page, orphan, "R-ORPHAN", "CK");
    g_assert_true (agl_store_apply_remote_changes (store, "Work", "url bob", orphan_page, "S3",
                                                   NULL, NULL, NULL, NULL, &error));
    g_autoptr(AglItem) stored = NULL;

    stored = agl_store_find_item_by_uid (store, "Work", "orphan@example.com", &error);
    g_assert_true (agl_store_set_item_link (store, stored->id, NULL, NULL, &error));
    g_assert_true (agl_store_retire_unlinked (store, "Work", NULL, "gone", &retired, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (retired, ==, 1);
    g_assert_false (has_item (store, "Work", "orphan@example.com"));
    g_assert_true (has_item (store, "Work", "b@example.com"));
    g_clear_pointer (&list, g_ptr_array_unref);
    list = agl_store_list_conflicts (store, "Work", &error);
    g_assert_cmpuint (list->len, ==, 2);
    conflict_id = ((AglConflict *) g_ptr_array_index (list, 0))->id;
    g_assert_cmpstr (((AglConflict *) g_ptr_array_index (list, 0))->item_uid, ==, "a@example.com");
  }

  /* Restored: back in the agenda, journaled to go to Exchange, record gone. */
  restored = make_item ("Work", "a@example.com", 1000, 2000);
  g_assert_true (agl_store_restore_conflict (store, conflict_id, &restored, &error));
  g_assert_no_error (error);
  g_assert_cmpint (restored->id, >, 0);
  journal = agl_store_list_journal (store, "Work", &error);
  g_assert_cmpuint (journal->len, ==, 1);
  g_assert_cmpint (((AglJournalEntry *) g_ptr_array_index (journal, 0))->op, ==, AGL_JOURNAL_CREATE);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 1);

  /* A record that is gone, and a version of another appointment. */
  g_assert_false (agl_store_restore_conflict (store, conflict_id, &restored, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (agl_store_add_conflict (store, "Work", "c@example.com", "ICAL", "r",
                                         &conflict_id, &error));
  g_assert_false (agl_store_restore_conflict (store, conflict_id, &restored, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = agl_store_list_conflicts (store, "Work", &error);
  g_assert_cmpuint (list->len, ==, 2);
}

static void
test_account_sync_settings (Fixture       *fx,
                            gconstpointer  data)
{
  g_autoptr(AglStore) store = open_store (fx);
  g_autoptr(AglAccount) account = make_account ("Work");
  g_autoptr(AglAccount) read = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (account->conflict_policy, ==, AGL_CONFLICT_EXCHANGE_WINS);
  g_assert_cmpuint (account->poll_interval, ==, AGL_ACCOUNT_POLL_INTERVAL_DEFAULT);
  account->conflict_policy = AGL_CONFLICT_NEWER_WINS;
  account->poll_interval = 300;
  g_assert_true (agl_store_add_account (store, account, &error));
  read = agl_store_get_account (store, "Work", &error);
  g_assert_cmpint (read->conflict_policy, ==, AGL_CONFLICT_NEWER_WINS);
  g_assert_cmpuint (read->poll_interval, ==, 300);

  read->poll_interval = 5;
  g_assert_false (agl_account_validate (read, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (agl_conflict_policy_from_string ("mine-wins", &read->conflict_policy, &error));
  g_assert_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "mine-wins"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/store/path/default", test_path_default);
  ADD ("/store/open/creates-folder", test_open_creates_folder);
  ADD ("/store/open/relative-path", test_open_relative_path);
  ADD ("/store/migrate/from-missing", test_migrate_from_missing);
  ADD ("/store/migrate/from-empty-file", test_migrate_from_empty_file);
  ADD ("/store/migrate/from-v1", test_migrate_from_v1);
  ADD ("/store/migrate/from-v2", test_migrate_from_v2);
  ADD ("/store/migrate/from-v3", test_migrate_from_v3);
  ADD ("/store/migrate/same-schema", test_migrate_same_schema);
  ADD ("/store/migrate/failed-step", test_migrate_failed_step);
  ADD ("/store/open/reopen-keeps-data", test_open_reopen_keeps_data);
  ADD ("/store/open/corrupt", test_open_corrupt);
  ADD ("/store/open/damaged", test_open_damaged);
  ADD ("/store/open/foreign", test_open_foreign);
  ADD ("/store/open/bad-version", test_open_bad_version);
  ADD ("/store/open/too-new", test_open_too_new);
  /* These fork: before any test starts a thread (GSubprocess does). */
  ADD ("/store/open/read-only", test_open_read_only);
  ADD ("/store/open/read-only-folder", test_open_read_only_folder);
  ADD ("/store/open/read-only-new", test_open_read_only_new);
  ADD ("/store/open/locked", test_open_locked);

  ADD ("/store/account/add-get", test_account_add_get);
  ADD ("/store/account/duplicate-name", test_account_duplicate_name);
  ADD ("/store/account/unknown-name", test_account_unknown_name);
  ADD ("/store/account/update", test_account_update);
  ADD ("/store/account/impersonate-round-trip", test_account_impersonate_round_trip);
  ADD ("/store/account/server-remembered", test_account_server_remembered);
  ADD ("/store/account/list-sorted", test_account_list_sorted);
  ADD ("/store/account/quoted-name", test_account_quoted_name);
  ADD ("/store/account/no-password", test_account_no_password);
  ADD ("/store/account/remove-cascades", test_account_remove_cascades);

  ADD ("/store/item/add-get", test_item_add_get);
  ADD ("/store/item/duplicate-uid", test_item_duplicate_uid);
  ADD ("/store/item/same-uid-other-account", test_item_same_uid_other_account);
  ADD ("/store/item/local-only", test_item_local_only);
  ADD ("/store/item/unknown-account", test_item_unknown_account);
  ADD ("/store/item/update", test_item_update);
  ADD ("/store/item/update-refused", test_item_update_refused);
  ADD ("/store/item/delete", test_item_delete);
  ADD ("/store/item/ids-not-reused", test_item_ids_not_reused);
  ADD ("/store/item/find-by-uid", test_item_find_by_uid);
  ADD ("/store/item/locked", test_item_locked);

  ADD ("/store/range/overlap", test_range_overlap);
  ADD ("/store/range/unbounded", test_range_unbounded);
  ADD ("/store/range/zero-length", test_range_zero_length);
  ADD ("/store/range/recurring", test_range_recurring);
  ADD ("/store/range/account", test_range_account);

  ADD ("/store/import/upsert", test_import_upsert);
  ADD ("/store/import/duplicate-uid-in-batch", test_import_duplicate_in_batch);
  ADD ("/store/import/unknown-account-in-batch", test_import_unknown_account_in_batch);
  ADD ("/store/import/progress", test_import_progress);
  ADD ("/store/import/empty", test_import_empty);

  ADD ("/store/journal/account-edits", test_journal_account_edits);
  ADD ("/store/journal/local-only", test_journal_local_only);
  ADD ("/store/journal/clear", test_journal_clear);
  ADD ("/store/sync/state-per-identity", test_sync_state_per_identity);
  ADD ("/store/sync/item-link", test_sync_item_link);

  ADD ("/store/signals/agenda-changed", test_signals_agenda_changed);
  ADD ("/store/signals/not-on-failure", test_signals_not_on_failure);
  ADD ("/store/signals/account-changed", test_signals_account_changed);
  ADD ("/store/count", test_count);

  ADD ("/store/ical/round-trip", test_ical_round_trip);
  ADD ("/store/ical/range", test_ical_range);
  ADD ("/store/ical/update", test_ical_update);
  ADD ("/store/ical/export", test_ical_export);

  ADD ("/store/remote/apply-page", test_remote_apply_page);
  ADD ("/store/remote/no-journal", test_remote_apply_no_journal);
  ADD ("/store/remote/failure-rolls-back", test_remote_apply_failure_rolls_back);
  ADD ("/store/remote/relink-by-uid", test_remote_relink_by_uid);
  ADD ("/store/remote/pending-local-edit", test_remote_pending_local_edit);
  ADD ("/store/remote/complete-journal-entry", test_complete_journal_entry);
  ADD ("/store/remote/complete-after-local-delete", test_complete_after_local_delete);
  ADD ("/store/remote/conflicts", test_conflicts);
  ADD ("/store/remote/reset-sync-state", test_reset_sync_state);
  ADD ("/store/remote/sync-info", test_sync_info);
  ADD ("/store/remote/settle-journal-entry", test_settle_journal_entry);
  ADD ("/store/remote/retire-and-restore", test_retire_and_restore);
  ADD ("/store/account/sync-settings", test_account_sync_settings);

  ADD ("/store/crash/sigkill-mid-import", test_crash_sigkill);
  ADD ("/store/crash/sigkill-mid-apply", test_crash_sigkill_mid_apply);

#undef ADD

  return g_test_run ();
}
