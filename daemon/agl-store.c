/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "agl-error.h"
#include "agl-store.h"
#include "agl-store-schema.h"

/*
 * The local agenda: one SQLite database in WAL mode, written by this daemon
 * only.  Every public write is exactly one transaction (BEGIN IMMEDIATE,
 * COMMIT, ROLLBACK on any failure); ids and other results reach the caller
 * and the signals only once COMMIT has succeeded, so nobody ever sees a
 * change that was rolled back.
 *
 * Statements are prepared per call: the agenda is small, the daemon mostly
 * idle, and a statement that lives only as long as its g_autoptr() can
 * never be left active across a COMMIT or ROLLBACK.
 */

/* How long a write waits for another process's transaction before giving up
 * with AGL_ERROR_STORE_LOCKED: our own transactions take milliseconds, and a
 * D-Bus caller should hear why rather than hang. */
#define BUSY_TIMEOUT_MS 2000

struct _AglStore
{
  GObject  parent_instance;

  sqlite3 *db;
  char    *path;
  int      schema_version;
};

G_DEFINE_FINAL_TYPE (AglStore, agl_store, G_TYPE_OBJECT)

enum {
  AGENDA_CHANGED,
  ACCOUNT_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The journal's op column, indexed by AglJournalOp. */
static const char * const journal_ops[] = { "create", "update", "delete" };

#define ACCOUNT_COLUMNS \
  "id, name, email, url, autodiscover, auth, user, domain, server_version, " \
  "ca_file, enabled, created, impersonate, detected_server_version, server_build, " \
  "conflict_policy, poll_interval"

#define ITEM_SELECT \
  "SELECT i.id, a.name, i.uid, i.summary, i.start_time, i.end_time, " \
  "       i.range_end, i.all_day, i.recurring, i.ical " \
  "FROM items AS i LEFT JOIN accounts AS a ON a.id = i.account_id "

/* The id that stands for the local-only agenda where a number is needed
 * (see the items_account_uid index). */
#define LOCAL_ACCOUNT_ID 0

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Callers name the local-only agenda NULL or "" (D-Bus has no NULL). */
static const char *
normalize_account (const char *account)
{
  return account != NULL && *account != '\0' ? account : NULL;
}

static char *
dup_column_text (sqlite3_stmt *stmt,
                 int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static GArray *
id_array_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
set_db_error (AglStore  *self,
              GError   **error,
              int        rc)
{
  agl_store_set_sqlite_error (error, rc, self->db, self->path);
}

static sqlite3_stmt *
prepare (AglStore    *self,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error, rc);
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

/* Binding cannot fail here: texts are bound SQLITE_STATIC (no copy, no
 * allocation) and the parameter numbers are fixed in the SQL beside them. */
static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static gboolean
step_done (AglStore      *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc);
      return FALSE;
    }
  return TRUE;
}

/* Steps a query expected to return at most one row: SQLITE_ROW or
 * SQLITE_DONE, or FALSE with @error set. */
static gboolean
step_row (AglStore      *self,
          sqlite3_stmt  *stmt,
          gboolean      *found,
          GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc);
      return FALSE;
    }
  *found = rc == SQLITE_ROW;
  return TRUE;
}

/* Runs a one-row query whose only parameter, ?1, is @id: the statement,
 * on its row when *@found, or NULL with @error set. */
static sqlite3_stmt *
query_row_by_id (AglStore    *self,
                 const char  *sql,
                 gint64       id,
                 gboolean    *found,
                 GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, sql, error);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (!step_row (self, stmt, found, error))
    return NULL;
  return g_steal_pointer (&stmt);
}

/* Runs a statement that returns no rows and whose only parameter, ?1, is
 * @id. */
static gboolean
exec_with_id (AglStore    *self,
              const char  *sql,
              gint64       id,
              GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  return step_done (self, stmt, error);
}

/* Makes one element of a list from the current row of a query. */
typedef gpointer (*RowReadFunc) (sqlite3_stmt *stmt,
                                 gpointer      user_data);

/* Steps @stmt through all its rows: what @read_row makes of each, in
 * order, freed with @free_func; or NULL with @error set. */
static GPtrArray *
collect_rows (AglStore        *self,
              sqlite3_stmt    *stmt,
              RowReadFunc      read_row,
              gpointer         user_data,
              GDestroyNotify   free_func,
              GError         **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (free_func);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, read_row (stmt, user_data));
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static gboolean
begin_write (AglStore  *self,
             GError   **error)
{
  /* IMMEDIATE takes the write lock now, so a transaction that has read
   * something can never fail later for want of the lock (SQLITE_BUSY on
   * upgrade cannot be retried inside the transaction). */
  return agl_store_exec (self->db, "BEGIN IMMEDIATE", self->path, error);
}

/* Ends the transaction begun by begin_write(): COMMIT when @ok, otherwise
 * (or when COMMIT fails) ROLLBACK.  Returns whether the changes are now
 * committed; only then may the caller touch its results or emit signals. */
static gboolean
end_write (AglStore  *self,
           gboolean   ok,
           GError   **error)
{
  int rc;

  if (ok)
    {
      rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
      if (rc == SQLITE_OK)
        return TRUE;
      set_db_error (self, error, rc);
    }

  /* A failed COMMIT can leave the transaction open; it must not linger and
   * be committed by the next write. */
  if (!sqlite3_get_autocommit (self->db))
    {
      rc = sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        g_warning ("Could not roll back a failed write to %s: %s",
                   self->path, sqlite3_errmsg (self->db));
    }
  return FALSE;
}

static void
emit_agenda_changed (AglStore   *self,
                     const char *account,
                     GArray     *created,
                     GArray     *updated,
                     GArray     *deleted)
{
  g_autoptr(GArray) none = id_array_new ();

  g_signal_emit (self, signals[AGENDA_CHANGED], 0,
                 normalize_account (account),
                 created != NULL ? created : none,
                 updated != NULL ? updated : none,
                 deleted != NULL ? deleted : none);
}

static GArray *
single_id (gint64 id)
{
  GArray *ids = id_array_new ();

  g_array_append_val (ids, id);
  return ids;
}

static void
set_account_not_found_error (GError     **error,
                             const char  *name)
{
  g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
               _("There is no account named “%s”. "
                 "List the accounts to see their names."),
               name);
}

/* The row id of the account @name, or 0 when there is none. */
static gboolean
find_account_id (AglStore    *self,
                 const char  *name,
                 gint64      *account_id,
                 GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = prepare (self, "SELECT id FROM accounts WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, name);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  *account_id = found ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* Resolves an account name to its row id, or fails with NOT_FOUND; NULL or
 * "" is the local-only agenda, LOCAL_ACCOUNT_ID. */
static gboolean
lookup_account_id (AglStore    *self,
                   const char  *name,
                   gint64      *account_id,
                   GError     **error)
{
  name = normalize_account (name);
  if (name == NULL)
    {
      *account_id = LOCAL_ACCOUNT_ID;
      return TRUE;
    }

  if (!find_account_id (self, name, account_id, error))
    return FALSE;
  if (*account_id == 0)
    {
      set_account_not_found_error (error, name);
      return FALSE;
    }
  return TRUE;
}

static AglAccount *
account_from_row (sqlite3_stmt *stmt)
{
  AglAccount *account = g_new0 (AglAccount, 1);

  /* Columns as in ACCOUNT_COLUMNS. */
  account->id = sqlite3_column_int64 (stmt, 0);
  account->name = dup_column_text (stmt, 1);
  account->email = dup_column_text (stmt, 2);
  account->url = dup_column_text (stmt, 3);
  account->autodiscover = sqlite3_column_int (stmt, 4) != 0;
  account->auth = dup_column_text (stmt, 5);
  account->user = dup_column_text (stmt, 6);
  account->domain = dup_column_text (stmt, 7);
  account->server_version = dup_column_text (stmt, 8);
  account->ca_file = dup_column_text (stmt, 9);
  account->enabled = sqlite3_column_int (stmt, 10) != 0;
  account->created = sqlite3_column_int64 (stmt, 11);
  account->impersonate = sqlite3_column_int (stmt, 12) != 0;
  account->detected_server_version = dup_column_text (stmt, 13);
  account->server_build = dup_column_text (stmt, 14);
  /* The CHECK constraint keeps the column to known names. */
  if (!agl_conflict_policy_from_string ((const char *) sqlite3_column_text (stmt, 15),
                                        &account->conflict_policy, NULL))
    account->conflict_policy = AGL_CONFLICT_EXCHANGE_WINS;
  account->poll_interval = (guint) sqlite3_column_int (stmt, 16);
  return account;
}

static AglItem *
item_from_row (sqlite3_stmt *stmt)
{
  AglItem *item = agl_item_new ();

  /* Columns as in ITEM_SELECT. */
  item->id = sqlite3_column_int64 (stmt, 0);
  item->account = dup_column_text (stmt, 1);
  item->uid = dup_column_text (stmt, 2);
  item->summary = dup_column_text (stmt, 3);
  item->start = sqlite3_column_int64 (stmt, 4);
  item->end = sqlite3_column_int64 (stmt, 5);
  item->range_end = sqlite3_column_int64 (stmt, 6);
  item->all_day = sqlite3_column_int (stmt, 7) != 0;
  item->recurring = sqlite3_column_int (stmt, 8) != 0;
  item->ical = dup_column_text (stmt, 9);
  return item;
}

static gpointer
read_account_row (sqlite3_stmt *stmt,
                  gpointer      user_data)
{
  return account_from_row (stmt);
}

static gpointer
read_item_row (sqlite3_stmt *stmt,
               gpointer      user_data)
{
  return item_from_row (stmt);
}

static void
set_item_not_found_error (GError **error,
                          gint64   id)
{
  g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
               _("There is no appointment with id %lld. "
                 "It may have been deleted; list the agenda again."),
               (long long) id);
}

/* Runs @sql, a query of one id column keyed by ?1 = @number and
 * ?2 = @text; *@id is the id found, or 0 when there is none. */
static gboolean
query_id (AglStore    *self,
          const char  *sql,
          gint64       number,
          const char  *text,
          gint64      *id,
          GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = prepare (self, sql, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, number);
  bind_text (stmt, 2, text);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  *id = found ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* The id of the item with @uid in one agenda, or 0 when there is none. */
static gboolean
find_item_id (AglStore    *self,
              gint64       account_id,
              const char  *uid,
              gint64      *item_id,
              GError     **error)
{
  /* Written to match the items_account_uid index. */
  return query_id (self, "SELECT id FROM items WHERE coalesce(account_id, 0) = ?1 AND uid = ?2",
                   account_id, uid, item_id, error);
}

/* What update and delete need to know about an existing item. */
static gboolean
load_item_key (AglStore    *self,
               gint64       item_id,
               gint64      *account_id,
               char       **account,
               char       **uid,
               GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = query_row_by_id (self,
                          "SELECT coalesce(i.account_id, 0), a.name, i.uid "
                          "FROM items AS i LEFT JOIN accounts AS a ON a.id = i.account_id "
                          "WHERE i.id = ?1",
                          item_id, &found, error);
  if (stmt == NULL)
    return FALSE;
  if (!found)
    {
      set_item_not_found_error (error, item_id);
      return FALSE;
    }
  *account_id = sqlite3_column_int64 (stmt, 0);
  if (account != NULL)
    *account = dup_column_text (stmt, 1);
  if (uid != NULL)
    *uid = dup_column_text (stmt, 2);
  return TRUE;
}

static gboolean
read_item_link (AglStore    *self,
                gint64       item_id,
                char       **remote_id,
                char       **change_key,
                GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = query_row_by_id (self,
                          "SELECT remote_id, change_key FROM item_links WHERE item_id = ?1",
                          item_id, &found, error);
  if (stmt == NULL)
    return FALSE;
  *remote_id = found ? dup_column_text (stmt, 0) : NULL;
  *change_key = found ? dup_column_text (stmt, 1) : NULL;
  return TRUE;
}

/* Records a local edit of an account's item for the sync engine, with the
 * item's link as it is now (for a delete, nothing else will remember it). */
static gboolean
append_journal (AglStore      *self,
                gint64         account_id,
                gint64         item_id,
                const char    *uid,
                AglJournalOp   op,
                GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *remote_id = NULL;
  g_autofree char *change_key = NULL;

  if (!read_item_link (self, item_id, &remote_id, &change_key, error))
    return FALSE;

  stmt = prepare (self,
                  "INSERT INTO journal "
                  "  (account_id, item_id, uid, op, remote_id, change_key, created) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_int64 (stmt, 2, item_id);
  bind_text (stmt, 3, uid);
  bind_text (stmt, 4, journal_ops[op]);
  bind_text (stmt, 5, remote_id);
  bind_text (stmt, 6, change_key);
  sqlite3_bind_int64 (stmt, 7, now_seconds ());
  return step_done (self, stmt, error);
}

static gboolean
insert_item_row (AglStore       *self,
                 gint64          account_id,
                 const AglItem  *item,
                 gint64         *item_id,
                 GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = now_seconds ();

  stmt = prepare (self,
                  "INSERT INTO items "
                  "  (account_id, uid, ical, summary, start_time, end_time, range_end, "
                  "   all_day, recurring, created, modified) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                  error);
  if (stmt == NULL)
    return FALSE;
  if (account_id != LOCAL_ACCOUNT_ID)
    sqlite3_bind_int64 (stmt, 1, account_id);
  else
    sqlite3_bind_null (stmt, 1);
  bind_text (stmt, 2, item->uid);
  bind_text (stmt, 3, item->ical);
  bind_text (stmt, 4, item->summary != NULL ? item->summary : "");
  sqlite3_bind_int64 (stmt, 5, item->start);
  sqlite3_bind_int64 (stmt, 6, item->end);
  sqlite3_bind_int64 (stmt, 7, item->range_end);
  sqlite3_bind_int (stmt, 8, item->all_day ? 1 : 0);
  sqlite3_bind_int (stmt, 9, item->recurring ? 1 : 0);
  sqlite3_bind_int64 (stmt, 10, now);
  if (!step_done (self, stmt, error))
    return FALSE;
  *item_id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

/* Replaces the content of an item; its account and UID stay. */
static gboolean
update_item_row (AglStore       *self,
                 gint64          item_id,
                 const AglItem  *item,
                 GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare (self,
                  "UPDATE items SET ical = ?2, summary = ?3, start_time = ?4, "
                  "  end_time = ?5, range_end = ?6, all_day = ?7, recurring = ?8, "
                  "  modified = ?9 "
                  "WHERE id = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item_id);
  bind_text (stmt, 2, item->ical);
  bind_text (stmt, 3, item->summary != NULL ? item->summary : "");
  sqlite3_bind_int64 (stmt, 4, item->start);
  sqlite3_bind_int64 (stmt, 5, item->end);
  sqlite3_bind_int64 (stmt, 6, item->range_end);
  sqlite3_bind_int (stmt, 7, item->all_day ? 1 : 0);
  sqlite3_bind_int (stmt, 8, item->recurring ? 1 : 0);
  sqlite3_bind_int64 (stmt, 9, now_seconds ());
  return step_done (self, stmt, error);
}

static void
set_duplicate_uid_error (GError     **error,
                         const char  *account,
                         const char  *uid,
                         gint64       existing_id)
{
  if (account != NULL)
    g_set_error (error, AGL_ERROR, AGL_ERROR_EXISTS,
                 _("The account “%s” already has an appointment with the UID “%s” "
                   "(id %lld). Update that appointment instead, "
                   "or give the new one another UID."),
                 account, uid, (long long) existing_id);
  else
    g_set_error (error, AGL_ERROR, AGL_ERROR_EXISTS,
                 _("The local agenda already has an appointment with the UID “%s” "
                   "(id %lld). Update that appointment instead, "
                   "or give the new one another UID."),
                 uid, (long long) existing_id);
}

static gboolean
check_item_fields (const AglItem  *item,
                   GError        **error)
{
  /* The service fills these from agl-event.c; a caller that does not is a
   * bug, but an import must still fail cleanly rather than crash. */
  if (item->uid == NULL || *item->uid == '\0' || item->ical == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("An appointment without a UID or iCalendar text cannot be stored."));
      return FALSE;
    }
  return TRUE;
}

/* -------------------------------------------------------------------------
 * Transactions behind the public writes: each runs between begin_write()
 * and end_write() and leaves its results in out parameters, which the public
 * function applies only after the COMMIT.
 */

static gboolean
add_account_locked (AglStore          *self,
                    const AglAccount  *account,
                    gint64             created,
                    gint64            *account_id,
                    GError           **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 existing;

  /* Looked up rather than left to the UNIQUE constraint, so the error says
   * which name; the write lock makes the lookup and the insert one step. */
  if (!find_account_id (self, account->name, &existing, error))
    return FALSE;
  if (existing != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_EXISTS,
                   _("An account named “%s” already exists. "
                     "Choose another name, or change that account instead."),
                   account->name);
      return FALSE;
    }

  stmt = prepare (self,
                  "INSERT INTO accounts "
                  "  (name, email, url, autodiscover, auth, user, domain, "
                  "   server_version, ca_file, enabled, created, impersonate, "
                  "   conflict_policy, poll_interval) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                  error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, account->name);
  bind_text (stmt, 2, account->email);
  bind_text (stmt, 3, account->url);
  sqlite3_bind_int (stmt, 4, account->autodiscover ? 1 : 0);
  bind_text (stmt, 5, account->auth);
  bind_text (stmt, 6, account->user);
  bind_text (stmt, 7, account->domain);
  bind_text (stmt, 8, account->server_version);
  bind_text (stmt, 9, account->ca_file);
  sqlite3_bind_int (stmt, 10, account->enabled ? 1 : 0);
  sqlite3_bind_int64 (stmt, 11, created);
  sqlite3_bind_int (stmt, 12, account->impersonate ? 1 : 0);
  bind_text (stmt, 13, agl_conflict_policy_to_string (account->conflict_policy));
  sqlite3_bind_int (stmt, 14, (int) account->poll_interval);
  if (!step_done (self, stmt, error))
    return FALSE;
  *account_id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

static gboolean
update_account_locked (AglStore          *self,
                       const AglAccount  *account,
                       GError           **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;

  if (!lookup_account_id (self, account->name, &account_id, error))
    return FALSE;

  /* What was learnt about the server belongs to that server: another URL
   * or another user may reach another one (the right side of SET reads the
   * row as it was).  The learnt values themselves are not settings and are
   * only written by agl_store_set_account_server(). */
  stmt = prepare (self,
                  "UPDATE accounts SET email = ?2, url = ?3, autodiscover = ?4, "
                  "  auth = ?5, user = ?6, domain = ?7, server_version = ?8, "
                  "  ca_file = ?9, enabled = ?10, impersonate = ?11, "
                  "  conflict_policy = ?12, poll_interval = ?13, "
                  "  detected_server_version = CASE WHEN url IS ?3 AND user IS ?6 "
                  "    THEN detected_server_version END, "
                  "  server_build = CASE WHEN url IS ?3 AND user IS ?6 "
                  "    THEN server_build END "
                  "WHERE id = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, account->email);
  bind_text (stmt, 3, account->url);
  sqlite3_bind_int (stmt, 4, account->autodiscover ? 1 : 0);
  bind_text (stmt, 5, account->auth);
  bind_text (stmt, 6, account->user);
  bind_text (stmt, 7, account->domain);
  bind_text (stmt, 8, account->server_version);
  bind_text (stmt, 9, account->ca_file);
  sqlite3_bind_int (stmt, 10, account->enabled ? 1 : 0);
  sqlite3_bind_int (stmt, 11, account->impersonate ? 1 : 0);
  bind_text (stmt, 12, agl_conflict_policy_to_string (account->conflict_policy));
  sqlite3_bind_int (stmt, 13, (int) account->poll_interval);
  return step_done (self, stmt, error);
}

static gboolean
set_account_server_locked (AglStore          *self,
                           const AglAccount  *account,
                           const char        *detected_server_version,
                           const char        *server_build,
                           gboolean          *changed,
                           GError           **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;

  if (!lookup_account_id (self, account->name, &account_id, error))
    return FALSE;

  /* Only while the account still points at the server that answered: an
   * update of its URL or user while the server was being asked must not
   * be followed by the old server's version. */
  stmt = prepare (self,
                  "UPDATE accounts SET detected_server_version = ?2, server_build = ?3 "
                  "WHERE id = ?1 AND url IS ?4 AND user IS ?5 "
                  "  AND (detected_server_version IS NOT ?2 OR server_build IS NOT ?3)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, detected_server_version);
  bind_text (stmt, 3, server_build);
  bind_text (stmt, 4, account->url);
  bind_text (stmt, 5, account->user);
  if (!step_done (self, stmt, error))
    return FALSE;
  *changed = sqlite3_changes (self->db) > 0;
  return TRUE;
}

static gboolean
remove_account_locked (AglStore    *self,
                       const char  *name,
                       GArray      *deleted,
                       GError     **error)
{
  g_autoptr(sqlite3_stmt) list = NULL;
  gint64 account_id;
  int rc;

  if (!lookup_account_id (self, name, &account_id, error))
    return FALSE;

  /* The cascade deletes the items without telling us which; collect them
   * first for agenda-changed. */
  list = prepare (self, "SELECT id FROM items WHERE account_id = ?1 ORDER BY id", error);
  if (list == NULL)
    return FALSE;
  sqlite3_bind_int64 (list, 1, account_id);
  while ((rc = sqlite3_step (list)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (list, 0);

      g_array_append_val (deleted, id);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error, rc);
      return FALSE;
    }

  /* ON DELETE CASCADE takes the items, their links, the sync states, the
   * journal and the conflicts with it. */
  return exec_with_id (self, "DELETE FROM accounts WHERE id = ?1", account_id, error);
}

static gboolean
add_item_locked (AglStore       *self,
                 const AglItem  *item,
                 gint64         *item_id,
                 GError        **error)
{
  gint64 account_id;
  gint64 existing;

  if (!lookup_account_id (self, item->account, &account_id, error) ||
      !find_item_id (self, account_id, item->uid, &existing, error))
    return FALSE;

  if (existing != 0)
    {
      set_duplicate_uid_error (error, normalize_account (item->account), item->uid, existing);
      return FALSE;
    }

  if (!insert_item_row (self, account_id, item, item_id, error))
    return FALSE;

  if (account_id != LOCAL_ACCOUNT_ID &&
      !append_journal (self, account_id, *item_id, item->uid, AGL_JOURNAL_CREATE, error))
    return FALSE;

  return TRUE;
}

static gboolean
update_item_locked (AglStore       *self,
                    const AglItem  *item,
                    GError        **error)
{
  g_autofree char *account = NULL;
  g_autofree char *uid = NULL;
  gint64 account_id;

  if (!load_item_key (self, item->id, &account_id, &account, &uid, error))
    return FALSE;

  if (g_strcmp0 (account, normalize_account (item->account)) != 0)
    {
      if (account != NULL)
        g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                     _("Appointment %lld belongs to the account “%s” and cannot move. "
                       "Create it in the other agenda and delete this one instead."),
                     (long long) item->id, account);
      else
        g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                     _("Appointment %lld belongs to the local agenda and cannot move. "
                       "Create it in the account and delete this one instead."),
                     (long long) item->id);
      return FALSE;
    }

  if (g_strcmp0 (uid, item->uid) != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The UID of appointment %lld is “%s” and cannot change. "
                     "Create a new appointment for a new UID."),
                   (long long) item->id, uid);
      return FALSE;
    }

  if (!update_item_row (self, item->id, item, error))
    return FALSE;

  if (account_id != LOCAL_ACCOUNT_ID &&
      !append_journal (self, account_id, item->id, uid, AGL_JOURNAL_UPDATE, error))
    return FALSE;

  return TRUE;
}

static gboolean
delete_item_locked (AglStore    *self,
                    gint64       item_id,
                    char       **account,
                    GError     **error)
{
  g_autofree char *uid = NULL;
  gint64 account_id;

  if (!load_item_key (self, item_id, &account_id, account, &uid, error))
    return FALSE;

  /* The journal entry first: it copies the link, which the delete takes
   * with it. */
  if (account_id != LOCAL_ACCOUNT_ID &&
      !append_journal (self, account_id, item_id, uid, AGL_JOURNAL_DELETE, error))
    return FALSE;

  return exec_with_id (self, "DELETE FROM items WHERE id = ?1", item_id, error);
}

static gboolean
import_item_locked (AglStore       *self,
                    gint64          account_id,
                    const char     *account,
                    const AglItem  *item,
                    GHashTable     *seen_uids,
                    gint64         *item_id,
                    gboolean       *created,
                    GError        **error)
{
  gint64 existing;

  if (!check_item_fields (item, error))
    return FALSE;

  /* An item may leave its account unset (it goes where the import goes),
   * but one that names another agenda does not belong in this import. */
  if (normalize_account (item->account) != NULL &&
      g_strcmp0 (normalize_account (item->account), account) != 0)
    {
      gint64 other;

      if (!lookup_account_id (self, item->account, &other, error))
        return FALSE;
      if (account != NULL)
        g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                     _("The appointment “%s” belongs to the account “%s”, not to “%s”. "
                       "Import it into its own account."),
                     item->uid, item->account, account);
      else
        g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                     _("The appointment “%s” belongs to the account “%s”, "
                       "not to the local agenda. Import it into its own account."),
                     item->uid, item->account);
      return FALSE;
    }

  /* Upserting twice would silently keep only the second one. */
  if (!g_hash_table_add (seen_uids, item->uid))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The import holds two appointments with the UID “%s”. "
                     "Remove one of them (or give it another UID) and import again."),
                   item->uid);
      return FALSE;
    }

  if (!find_item_id (self, account_id, item->uid, &existing, error))
    return FALSE;

  if (existing != 0)
    {
      *item_id = existing;
      *created = FALSE;
      if (!update_item_row (self, existing, item, error))
        return FALSE;
    }
  else
    {
      *created = TRUE;
      if (!insert_item_row (self, account_id, item, item_id, error))
        return FALSE;
    }

  if (account_id != LOCAL_ACCOUNT_ID &&
      !append_journal (self, account_id, *item_id, item->uid,
                       *created ? AGL_JOURNAL_CREATE : AGL_JOURNAL_UPDATE, error))
    return FALSE;

  return TRUE;
}

static gboolean
import_items_locked (AglStore              *self,
                     const char            *account,
                     GPtrArray             *items,
                     GArray                *ids,
                     GArray                *created,
                     GArray                *updated,
                     AglStoreProgressFunc   progress,
                     gpointer               user_data,
                     GError               **error)
{
  g_autoptr(GHashTable) seen_uids = g_hash_table_new (g_str_hash, g_str_equal);
  gint64 account_id;

  if (!lookup_account_id (self, account, &account_id, error))
    return FALSE;

  for (guint i = 0; i < items->len; i++)
    {
      const AglItem *item = g_ptr_array_index (items, i);
      gboolean was_created;
      gint64 id;

      if (!import_item_locked (self, account_id, account, item, seen_uids,
                               &id, &was_created, error))
        return FALSE;

      g_array_append_val (ids, id);
      g_array_append_val (was_created ? created : updated, id);

      if (progress != NULL)
        progress (i + 1, items->len, user_data);
    }
  return TRUE;
}

static gboolean
set_item_link_locked (AglStore    *self,
                      gint64       item_id,
                      const char  *remote_id,
                      const char  *change_key,
                      GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;

  if (!load_item_key (self, item_id, &account_id, NULL, NULL, error))
    return FALSE;

  if (account_id == LOCAL_ACCOUNT_ID)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("Appointment %lld is in the local agenda, "
                     "which is not synchronised with Exchange."),
                   (long long) item_id);
      return FALSE;
    }

  if (remote_id == NULL)
    return exec_with_id (self, "DELETE FROM item_links WHERE item_id = ?1", item_id, error);

  {
    g_autoptr(sqlite3_stmt) other = NULL;
    gboolean found;

    other = prepare (self,
                     "SELECT item_id FROM item_links "
                     "WHERE account_id = ?1 AND remote_id = ?2 AND item_id <> ?3",
                     error);
    if (other == NULL)
      return FALSE;
    sqlite3_bind_int64 (other, 1, account_id);
    bind_text (other, 2, remote_id);
    sqlite3_bind_int64 (other, 3, item_id);
    if (!step_row (self, other, &found, error))
      return FALSE;
    if (found)
      {
        g_set_error (error, AGL_ERROR, AGL_ERROR_EXISTS,
                     _("The Exchange item “%s” is already linked to appointment %lld."),
                     remote_id, (long long) sqlite3_column_int64 (other, 0));
        return FALSE;
      }
  }

  stmt = prepare (self,
                  "INSERT INTO item_links (item_id, account_id, remote_id, change_key) "
                  "VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT (item_id) DO UPDATE "
                  "  SET remote_id = excluded.remote_id, change_key = excluded.change_key",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item_id);
  sqlite3_bind_int64 (stmt, 2, account_id);
  bind_text (stmt, 3, remote_id);
  bind_text (stmt, 4, change_key);
  return step_done (self, stmt, error);
}

static gboolean
clear_journal_entry_locked (AglStore  *self,
                            gint64     seq,
                            GError   **error)
{
  if (!exec_with_id (self, "DELETE FROM journal WHERE seq = ?1", seq, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no journal entry %lld; it may have been cleared already."),
                   (long long) seq);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------- */

static void
agl_store_finalize (GObject *object)
{
  AglStore *self = AGL_STORE (object);

  if (self->db != NULL)
    {
      int rc;

      /* Fold the log into the database while nobody waits for it; PASSIVE
       * never blocks on a reader.  Closing the last connection checkpoints
       * again and removes the -wal file. */
      sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      rc = sqlite3_close (self->db);
      if (rc != SQLITE_OK)
        g_warning ("Could not close the agenda database %s: %s",
                   self->path, sqlite3_errstr (rc));
      self->db = NULL;
    }
  g_free (self->path);

  G_OBJECT_CLASS (agl_store_parent_class)->finalize (object);
}

static void
agl_store_class_init (AglStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agl_store_finalize;

  /**
   * AglStore::agenda-changed:
   * @store: the store
   * @account: (nullable): the account whose agenda changed, or %NULL for
   *   the local-only agenda
   * @created: (element-type gint64): ids of appointments added
   * @updated: (element-type gint64): ids of appointments changed
   * @deleted: (element-type gint64): ids of appointments removed
   *
   * Emitted once per committed transaction that changed appointments, after
   * the COMMIT, so that handlers read what is stored.  Never emitted for a
   * write that failed.
   */
  signals[AGENDA_CHANGED] =
    g_signal_new ("agenda-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 4,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * AglStore::account-changed:
   * @store: the store
   * @name: the account
   * @change: an #AglStoreAccountChange, as int
   *
   * Emitted after an account was added, changed or removed, after the
   * COMMIT.
   */
  signals[ACCOUNT_CHANGED] =
    g_signal_new ("account-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_INT);
}

static void
agl_store_init (AglStore *self)
{
}

/* The checks that must all pass before anything is written, the
 * connection's settings, then the migration. */
static gboolean
prepare_connection (sqlite3     *db,
                    const char  *path,
                    int         *version,
                    GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *mode;
  gint64 foreign_keys;
  int rc;

  if (!agl_store_schema_check (db, path, error))
    return FALSE;

  /* Per connection, and a no-op inside a transaction: set before any. */
  if (!agl_store_exec (db, "PRAGMA foreign_keys = ON", path, error) ||
      !agl_store_query_int (db, "PRAGMA foreign_keys", path, &foreign_keys, error))
    return FALSE;
  if (foreign_keys != 1)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("The SQLite library cannot enforce foreign keys, which the agenda "
                     "database “%s” needs. Install a standard build of SQLite."),
                   path);
      return FALSE;
    }

  /* WAL: readers (the D-Bus service answering a query) never wait for the
   * writer, and a commit is one append.  Switching writes the header, so it
   * comes only after the checks above. */
  rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      agl_store_set_sqlite_error (error, rc, db, path);
      return FALSE;
    }
  mode = (const char *) sqlite3_column_text (stmt, 0);
  if (g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("The agenda database “%s” cannot use a write-ahead log (journal mode "
                     "is %s). Keep it on a local disk rather than a network share."),
                   path, mode != NULL ? mode : "?");
      return FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* FULL syncs the log at every commit: a crash or power loss at any
   * instant loses nothing that was committed (NORMAL could lose the last
   * transactions). */
  if (!agl_store_exec (db, "PRAGMA synchronous = FULL", path, error))
    return FALSE;

  return agl_store_schema_migrate (db, path, version, error);
}

/* Opens and prepares the database; on failure the file is as it was. */
static sqlite3 *
open_database (const char  *path,
               int         *version,
               GError     **error)
{
  g_autoptr(sqlite3) db = NULL;
  g_autofree char *wal_path = g_strconcat (path, "-wal", NULL);
  gboolean had_wal;
  int rc;

  had_wal = g_file_test (wal_path, G_FILE_TEST_EXISTS);

  /* The path is absolute (see agl_store_open()), so the URI handling this
   * SQLite may be built with never reads it as "file:" URI. */
  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    {
      agl_store_set_sqlite_error (error, rc, db, path);
      return NULL;
    }

  sqlite3_extended_result_codes (db, 1);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  /* SQLite opens a file it may not write read-only without a word. */
  if (sqlite3_db_readonly (db, "main") != 0)
    {
      agl_store_set_sqlite_error (error, SQLITE_READONLY, NULL, path);
      return NULL;
    }

  /* Closing the last connection normally checkpoints the -wal file into
   * the database and deletes it; a file refused here must be left exactly
   * as it was, with the -wal that some other program (a newer Agendaline)
   * may need. */
  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);

  if (!prepare_connection (db, path, version, error))
    {
      /* A -wal that only our reading created is empty: let the close
       * remove it again. */
      if (!had_wal)
        sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
      return NULL;
    }

  sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
  return g_steal_pointer (&db);
}

/**
 * agl_store_default_path:
 *
 * The database the daemon uses: $AGENDALINE_DB (%AGL_STORE_PATH_ENV) when
 * set, else agendaline/agenda.db in the user data directory
 * ($XDG_DATA_HOME, usually ~/.local/share).
 *
 * Returns: (transfer full): the path
 */
char *
agl_store_default_path (void)
{
  const char *path = g_getenv (AGL_STORE_PATH_ENV);

  if (path != NULL && *path != '\0')
    return g_strdup (path);
  return g_build_filename (g_get_user_data_dir (), "agendaline", "agenda.db", NULL);
}

/**
 * agl_store_open:
 * @path: (nullable): the database file, or %NULL for
 *   agl_store_default_path()
 * @error: return location for an %AGL_ERROR_STORE_* error
 *
 * Opens the agenda, creating the file (and its folder, mode 0700) when
 * missing and migrating an older schema to %AGL_STORE_SCHEMA_VERSION.  A
 * missing or empty file becomes a new store.  A file that is damaged, of
 * another program, of a newer Agendaline, locked by another process or not
 * writable is refused with its own error code, and left as it was.
 *
 * Returns: (transfer full): the store, or %NULL with @error set
 */
AglStore *
agl_store_open (const char  *path,
                GError     **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *absolute = NULL;
  g_autofree char *dir = NULL;
  AglStore *self;
  sqlite3 *db;
  int version = 0;

  g_return_val_if_fail (path == NULL || *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path == NULL)
    path = default_path = agl_store_default_path ();

  absolute = g_canonicalize_filename (path, NULL);
  dir = g_path_get_dirname (absolute);

  /* The agenda is private: a new folder is the user's only. */
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_READ_ONLY,
                   _("The folder “%s” for the agenda database cannot be created (%s). "
                     "Make sure you can write to its parent folder, or set %s to another file."),
                   dir, g_strerror (saved_errno), AGL_STORE_PATH_ENV);
      return NULL;
    }

  db = open_database (absolute, &version, error);
  if (db == NULL)
    return NULL;

  self = g_object_new (AGL_TYPE_STORE, NULL);
  self->db = db;
  self->path = g_steal_pointer (&absolute);
  self->schema_version = version;
  return self;
}

/**
 * agl_store_get_path:
 * @self: a store
 *
 * Returns: the absolute path of the database file
 */
const char *
agl_store_get_path (AglStore *self)
{
  g_return_val_if_fail (AGL_IS_STORE (self), NULL);

  return self->path;
}

/**
 * agl_store_get_schema_version:
 * @self: a store
 *
 * Returns: the schema version of the open database, which is always
 *   %AGL_STORE_SCHEMA_VERSION once agl_store_open() succeeded
 */
int
agl_store_get_schema_version (AglStore *self)
{
  g_return_val_if_fail (AGL_IS_STORE (self), 0);

  return self->schema_version;
}

/**
 * agl_store_add_account:
 * @self: a store
 * @account: settings already checked with agl_account_validate(); its
 *   @id, and @created when 0, are set on success
 * @error: return location for %AGL_ERROR_EXISTS or a store error
 *
 * Adds an account.  Emits #AglStore::account-changed.
 *
 * Returns: whether the account was added
 */
gboolean
agl_store_add_account (AglStore    *self,
                       AglAccount  *account,
                       GError     **error)
{
  gint64 created;
  gint64 id = 0;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL && account->name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  created = account->created != 0 ? account->created : now_seconds ();

  if (!begin_write (self, error))
    return FALSE;
  ok = add_account_locked (self, account, created, &id, error);
  if (!end_write (self, ok, error))
    return FALSE;

  account->id = id;
  account->created = created;
  g_signal_emit (self, signals[ACCOUNT_CHANGED], 0, account->name, AGL_STORE_ACCOUNT_ADDED);
  return TRUE;
}

/**
 * agl_store_update_account:
 * @self: a store
 * @account: the new settings of the account named @account->name (the name
 *   is the key and cannot change; @id and @created are ignored)
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Replaces an account's settings.  Emits #AglStore::account-changed.
 *
 * Returns: whether the account was updated
 */
gboolean
agl_store_update_account (AglStore          *self,
                          const AglAccount  *account,
                          GError           **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL && account->name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = update_account_locked (self, account, error);
  if (!end_write (self, ok, error))
    return FALSE;

  g_signal_emit (self, signals[ACCOUNT_CHANGED], 0, account->name, AGL_STORE_ACCOUNT_CHANGED);
  return TRUE;
}

/**
 * agl_store_set_account_server:
 * @self: a store
 * @account: the account as it was when its server was asked (its name,
 *   URL and user are read)
 * @detected_server_version: (nullable): the RequestServerVersion the server
 *   speaks, or %NULL when the account's version is not "auto"
 * @server_build: (nullable): the build the server reported
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Remembers what a connection learnt about the account's server, so that
 * the next connection asks for that version at once.  Nothing is written
 * when the account's URL or user changed since @account was read: what was
 * learnt belongs to the old server.  Emits #AglStore::account-changed when
 * something changed.
 *
 * Returns: whether the store could be written (%TRUE also when nothing
 *   needed writing)
 */
gboolean
agl_store_set_account_server (AglStore          *self,
                              const AglAccount  *account,
                              const char        *detected_server_version,
                              const char        *server_build,
                              GError           **error)
{
  gboolean changed = FALSE;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL && account->name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = set_account_server_locked (self, account, detected_server_version, server_build,
                                  &changed, error);
  if (!end_write (self, ok, error))
    return FALSE;

  if (changed)
    g_signal_emit (self, signals[ACCOUNT_CHANGED], 0, account->name, AGL_STORE_ACCOUNT_CHANGED);
  return TRUE;
}

/**
 * agl_store_get_account_rules:
 * @self: a store
 * @name: an account name
 * @rules: (out) (transfer full) (nullable): the account's rules as JSON,
 *   %NULL when it has never set any (the defaults apply)
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: whether @rules was set
 */
gboolean
agl_store_get_account_rules (AglStore    *self,
                             const char  *name,
                             char       **rules,
                             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (rules != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stmt = prepare (self, "SELECT rules FROM accounts WHERE name = ?1", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, name);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  if (!found)
    {
      set_account_not_found_error (error, name);
      return FALSE;
    }
  *rules = dup_column_text (stmt, 0);
  return TRUE;
}

static gboolean
set_account_rules_locked (AglStore    *self,
                          const char  *name,
                          const char  *rules,
                          GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;

  if (!lookup_account_id (self, name, &account_id, error))
    return FALSE;

  stmt = prepare (self, "UPDATE accounts SET rules = ?2 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, rules);
  return step_done (self, stmt, error);
}

/**
 * agl_store_set_account_rules:
 * @self: a store
 * @name: an account name
 * @rules: (nullable): the rules as JSON, already checked by the caller
 *   (agl_rules_from_json()), or %NULL for the defaults
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Stores an account's presence rules in one transaction.  No signal: the
 * rules change neither the agenda nor how the account syncs, and the one
 * who set them (the presence tracker) applies them itself.
 *
 * Returns: whether the rules were stored
 */
gboolean
agl_store_set_account_rules (AglStore    *self,
                             const char  *name,
                             const char  *rules,
                             GError     **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* "" would otherwise mean the local-only agenda, which has no rules. */
  if (normalize_account (name) == NULL)
    {
      set_account_not_found_error (error, name);
      return FALSE;
    }

  if (!begin_write (self, error))
    return FALSE;
  ok = set_account_rules_locked (self, name, rules, error);
  return end_write (self, ok, error);
}

/**
 * agl_store_remove_account:
 * @self: a store
 * @name: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Removes the account with its appointments, their links, its sync states,
 * journal and conflict records.  Emits #AglStore::agenda-changed with the
 * deleted appointments (when there were any), then
 * #AglStore::account-changed.
 *
 * Returns: whether the account was removed
 */
gboolean
agl_store_remove_account (AglStore    *self,
                          const char  *name,
                          GError     **error)
{
  g_autoptr(GArray) deleted = id_array_new ();
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* "" would otherwise mean the local-only agenda, which is no account. */
  if (normalize_account (name) == NULL)
    {
      set_account_not_found_error (error, name);
      return FALSE;
    }

  if (!begin_write (self, error))
    return FALSE;
  ok = remove_account_locked (self, name, deleted, error);
  if (!end_write (self, ok, error))
    return FALSE;

  if (deleted->len > 0)
    emit_agenda_changed (self, name, NULL, NULL, deleted);
  g_signal_emit (self, signals[ACCOUNT_CHANGED], 0, name, AGL_STORE_ACCOUNT_REMOVED);
  return TRUE;
}

/**
 * agl_store_get_account:
 * @self: a store
 * @name: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full): the account, or %NULL with @error set
 */
AglAccount *
agl_store_get_account (AglStore    *self,
                       const char  *name,
                       GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  stmt = prepare (self, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?1", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, name);
  if (!step_row (self, stmt, &found, error))
    return NULL;
  if (!found)
    {
      set_account_not_found_error (error, name);
      return NULL;
    }
  return account_from_row (stmt);
}

/**
 * agl_store_list_accounts:
 * @self: a store
 * @error: return location for a store error
 *
 * Returns: (transfer full) (element-type AglAccount): every account,
 *   sorted by name (ignoring the case of ASCII letters), or %NULL with
 *   @error set
 */
GPtrArray *
agl_store_list_accounts (AglStore  *self,
                         GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* NOCASE first, as people read a list; then exactly, to be stable. */
  stmt = prepare (self,
                  "SELECT " ACCOUNT_COLUMNS " FROM accounts "
                  "ORDER BY name COLLATE NOCASE, name",
                  error);
  if (stmt == NULL)
    return NULL;
  return collect_rows (self, stmt, read_account_row, NULL,
                       (GDestroyNotify) agl_account_free, error);
}

/**
 * agl_store_add_item:
 * @self: a store
 * @item: the appointment, its fields made by agl-event.c; @item->account
 *   names its account (%NULL for the local-only agenda).  @item->id is set
 *   on success.
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such account),
 *   %AGL_ERROR_EXISTS (the UID is in use in that agenda) or a store error
 *
 * Adds an appointment; for an account's agenda, with a journal entry for
 * the sync engine in the same transaction.  Emits #AglStore::agenda-changed.
 *
 * Returns: whether the appointment was added
 */
gboolean
agl_store_add_item (AglStore  *self,
                    AglItem   *item,
                    GError   **error)
{
  gint64 id = 0;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (item != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_item_fields (item, error))
    return FALSE;

  if (!begin_write (self, error))
    return FALSE;
  ok = add_item_locked (self, item, &id, error);
  if (!end_write (self, ok, error))
    return FALSE;

  item->id = id;
  {
    g_autoptr(GArray) created = single_id (id);

    emit_agenda_changed (self, item->account, created, NULL, NULL);
  }
  return TRUE;
}

/**
 * agl_store_update_item:
 * @self: a store
 * @item: the new content of the appointment @item->id; its account and
 *   UID must be the stored ones
 * @error: return location for %AGL_ERROR_NOT_FOUND, %AGL_ERROR_INVALID_ARGUMENT
 *   (another account or UID) or a store error
 *
 * Replaces an appointment; for an account's agenda, with a journal entry.
 * Emits #AglStore::agenda-changed.
 *
 * Returns: whether the appointment was updated
 */
gboolean
agl_store_update_item (AglStore       *self,
                       const AglItem  *item,
                       GError        **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (item != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_item_fields (item, error))
    return FALSE;

  if (!begin_write (self, error))
    return FALSE;
  ok = update_item_locked (self, item, error);
  if (!end_write (self, ok, error))
    return FALSE;

  {
    g_autoptr(GArray) updated = single_id (item->id);

    emit_agenda_changed (self, item->account, NULL, updated, NULL);
  }
  return TRUE;
}

/**
 * agl_store_delete_item:
 * @self: a store
 * @id: an appointment id
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Deletes an appointment and its link; for an account's agenda, with a
 * journal entry that keeps the link for the sync engine.  Emits
 * #AglStore::agenda-changed.
 *
 * Returns: whether the appointment was deleted
 */
gboolean
agl_store_delete_item (AglStore  *self,
                       gint64     id,
                       GError   **error)
{
  g_autofree char *account = NULL;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = delete_item_locked (self, id, &account, error);
  if (!end_write (self, ok, error))
    return FALSE;

  {
    g_autoptr(GArray) deleted = single_id (id);

    emit_agenda_changed (self, account, NULL, NULL, deleted);
  }
  return TRUE;
}

/**
 * agl_store_get_item:
 * @self: a store
 * @id: an appointment id
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full): the appointment, or %NULL with @error set
 */
AglItem *
agl_store_get_item (AglStore  *self,
                    gint64     id,
                    GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  stmt = query_row_by_id (self, ITEM_SELECT "WHERE i.id = ?1", id, &found, error);
  if (stmt == NULL)
    return NULL;
  if (!found)
    {
      set_item_not_found_error (error, id);
      return NULL;
    }
  return item_from_row (stmt);
}

/**
 * agl_store_find_item_by_uid:
 * @self: a store
 * @account: (nullable): the account, or %NULL (or "") for the local-only
 *   agenda
 * @uid: an iCalendar UID
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such account) or a
 *   store error
 *
 * Returns: (transfer full) (nullable): the appointment with @uid in that
 *   agenda; %NULL without an error when there is none
 */
AglItem *
agl_store_find_item_by_uid (AglStore    *self,
                            const char  *account,
                            const char  *uid,
                            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (uid != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lookup_account_id (self, account, &account_id, error))
    return NULL;

  stmt = prepare (self, ITEM_SELECT "WHERE coalesce(i.account_id, 0) = ?1 AND i.uid = ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, uid);
  if (!step_row (self, stmt, &found, error) || !found)
    return NULL;
  return item_from_row (stmt);
}

/**
 * agl_store_list_items:
 * @self: a store
 * @account: (nullable): %NULL for every agenda, "" for the local-only
 *   agenda, or an account name
 * @from: start of the range, Unix time, or %G_MININT64 for unbounded
 * @to: end of the range (exclusive), Unix time, or %G_MAXINT64 for
 *   unbounded
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such account),
 *   %AGL_ERROR_INVALID_ARGUMENT (@from after @to) or a store error
 *
 * Lists the appointments whose time, from the first start to the end of
 * the last occurrence (@range_end), overlaps [@from, @to).  An appointment
 * of no length at instant t counts when @from <= t < @to; an empty range
 * (@from = @to) holds nothing.
 *
 * Returns: (transfer full) (element-type AglItem): the appointments sorted
 *   by start, then id; %NULL with @error set on failure
 */
GPtrArray *
agl_store_list_items (AglStore    *self,
                      const char  *account,
                      gint64       from,
                      gint64       to,
                      GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id = LOCAL_ACCOUNT_ID;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (from > to)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The start of the range is after its end; swap them."));
      return NULL;
    }

  if (account != NULL && !lookup_account_id (self, account, &account_id, error))
    return NULL;

  /* An empty range overlaps nothing, not even an item that spans it. */
  if (from == to)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);

  /* start < to and range_end > from is the overlap; "start >= from" lets
   * in an item of no length at from itself (range_end >= start is a CHECK
   * of the table, so this admits nothing else). */
  stmt = prepare (self,
                  ITEM_SELECT
                  "WHERE i.start_time < ?1 AND (i.range_end > ?2 OR i.start_time >= ?2) "
                  "  AND (?3 OR coalesce(i.account_id, 0) = ?4) "
                  "ORDER BY i.start_time, i.id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, to);
  sqlite3_bind_int64 (stmt, 2, from);
  sqlite3_bind_int (stmt, 3, account == NULL);
  sqlite3_bind_int64 (stmt, 4, account_id);
  return collect_rows (self, stmt, read_item_row, NULL, (GDestroyNotify) agl_item_free, error);
}

/**
 * agl_store_import_items:
 * @self: a store
 * @account: (nullable): the account to import into, or %NULL (or "") for
 *   the local-only agenda
 * @items: (element-type AglItem): the appointments; each item's @account
 *   must be %NULL or @account.  Their @id is set on success.
 * @created_ids: (nullable) (element-type gint64): set to the ids of the
 *   appointments added
 * @updated_ids: (nullable) (element-type gint64): set to the ids of the
 *   appointments that had their UID in the agenda already and were replaced
 * @progress: (nullable): called inside the transaction after each item; it
 *   must not call the store
 * @user_data: closure for @progress
 * @error: return location for %AGL_ERROR_NOT_FOUND, %AGL_ERROR_INVALID_ARGUMENT
 *   (an item of another account, a UID twice) or a store error
 *
 * Adds or replaces (by UID) all @items in one transaction: one item that
 * cannot be stored leaves the store exactly as before.  Emits
 * #AglStore::agenda-changed once.
 *
 * Returns: whether the items were imported
 */
gboolean
agl_store_import_items (AglStore              *self,
                        const char            *account,
                        GPtrArray             *items,
                        GArray                *created_ids,
                        GArray                *updated_ids,
                        AglStoreProgressFunc   progress,
                        gpointer               user_data,
                        GError               **error)
{
  g_autoptr(GArray) ids = id_array_new ();
  g_autoptr(GArray) created = id_array_new ();
  g_autoptr(GArray) updated = id_array_new ();
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (items != NULL, FALSE);
  g_return_val_if_fail (created_ids == NULL ||
                        g_array_get_element_size (created_ids) == sizeof (gint64), FALSE);
  g_return_val_if_fail (updated_ids == NULL ||
                        g_array_get_element_size (updated_ids) == sizeof (gint64), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  account = normalize_account (account);

  if (!begin_write (self, error))
    return FALSE;
  ok = import_items_locked (self, account, items, ids, created, updated,
                            progress, user_data, error);
  if (!end_write (self, ok, error))
    return FALSE;

  for (guint i = 0; i < items->len; i++)
    ((AglItem *) g_ptr_array_index (items, i))->id = g_array_index (ids, gint64, i);
  if (created_ids != NULL)
    {
      g_array_set_size (created_ids, 0);
      g_array_append_vals (created_ids, created->data, created->len);
    }
  if (updated_ids != NULL)
    {
      g_array_set_size (updated_ids, 0);
      g_array_append_vals (updated_ids, updated->data, updated->len);
    }

  if (created->len > 0 || updated->len > 0)
    emit_agenda_changed (self, account, created, updated, NULL);
  return TRUE;
}

/**
 * agl_store_count:
 * @self: a store
 * @n_accounts: (out) (optional): the number of accounts
 * @n_enabled_accounts: (out) (optional): how many of them sync
 * @n_items: (out) (optional): the number of appointments in all agendas
 * @error: return location for a store error
 *
 * Counts for the daemon's state, read in one statement so they agree.
 *
 * Returns: whether the counts were read
 */
gboolean
agl_store_count (AglStore  *self,
                 guint     *n_accounts,
                 guint     *n_enabled_accounts,
                 guint     *n_items,
                 GError   **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stmt = prepare (self,
                  "SELECT (SELECT count(*) FROM accounts), "
                  "       (SELECT count(*) FROM accounts WHERE enabled), "
                  "       (SELECT count(*) FROM items)",
                  error);
  if (stmt == NULL || !step_row (self, stmt, &found, error))
    return FALSE;

  if (n_accounts != NULL)
    *n_accounts = (guint) sqlite3_column_int64 (stmt, 0);
  if (n_enabled_accounts != NULL)
    *n_enabled_accounts = (guint) sqlite3_column_int64 (stmt, 1);
  if (n_items != NULL)
    *n_items = (guint) sqlite3_column_int64 (stmt, 2);
  return TRUE;
}

/**
 * agl_store_get_sync_state:
 * @self: a store
 * @account: an account name
 * @identity: the account's identity as the sync engine computes it (EWS
 *   URL + mailbox)
 * @sync_state: (out) (transfer full) (nullable): the stored SyncState for
 *   exactly this account and identity, or %NULL when there is none (a
 *   first sync, or a new identity, which must start from the beginning)
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Reads where the last sync of the account stopped.  A state stored under
 * another identity of the same account is never returned.
 *
 * Returns: whether the state was read (%TRUE also when there is none)
 */
gboolean
agl_store_get_sync_state (AglStore     *self,
                          const char   *account,
                          const char   *identity,
                          char        **sync_state,
                          GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL && *account != '\0', FALSE);
  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (sync_state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *sync_state = NULL;

  if (!lookup_account_id (self, account, &account_id, error))
    return FALSE;

  stmt = prepare (self,
                  "SELECT state FROM sync_states WHERE account_id = ?1 AND identity = ?2",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, identity);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  if (found)
    *sync_state = dup_column_text (stmt, 0);
  return TRUE;
}

/**
 * agl_store_set_item_link:
 * @self: a store
 * @item_id: an appointment of an account's agenda
 * @remote_id: (nullable): the Exchange ItemId it is linked to, or %NULL to
 *   remove the link
 * @change_key: (nullable): the ChangeKey of the version stored locally
 * @error: return location for %AGL_ERROR_NOT_FOUND, %AGL_ERROR_INVALID_ARGUMENT
 *   (a local-only appointment), %AGL_ERROR_EXISTS (@remote_id is linked to
 *   another appointment of the account) or a store error
 *
 * Records which Exchange item an appointment is, in its own transaction.
 * This neither journals nor emits a signal: it changes no appointment.
 *
 * Returns: whether the link was stored
 */
gboolean
agl_store_set_item_link (AglStore    *self,
                         gint64       item_id,
                         const char  *remote_id,
                         const char  *change_key,
                         GError     **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (remote_id == NULL || *remote_id != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = set_item_link_locked (self, item_id, remote_id, change_key, error);
  return end_write (self, ok, error);
}

/**
 * agl_store_get_item_link:
 * @self: a store
 * @item_id: an appointment id
 * @remote_id: (out) (transfer full) (nullable): its Exchange ItemId, or
 *   %NULL when it is not linked
 * @change_key: (out) (transfer full) (nullable): the ChangeKey, or %NULL
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: whether the link was read (%TRUE also when there is none)
 */
gboolean
agl_store_get_item_link (AglStore    *self,
                         gint64       item_id,
                         char       **remote_id,
                         char       **change_key,
                         GError     **error)
{
  gint64 account_id;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (remote_id != NULL && change_key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *remote_id = NULL;
  *change_key = NULL;

  return load_item_key (self, item_id, &account_id, NULL, NULL, error) &&
         read_item_link (self, item_id, remote_id, change_key, error);
}

/**
 * agl_journal_entry_free:
 * @entry: (nullable): a journal entry
 *
 * Frees an entry of agl_store_list_journal().
 */
void
agl_journal_entry_free (AglJournalEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->account);
  g_free (entry->uid);
  g_free (entry->remote_id);
  g_free (entry->change_key);
  g_free (entry->sent_ical);
  g_free (entry);
}

static AglJournalOp
parse_journal_op (const char *op)
{
  for (guint i = 0; i < G_N_ELEMENTS (journal_ops); i++)
    if (g_strcmp0 (op, journal_ops[i]) == 0)
      return (AglJournalOp) i;
  /* The table's CHECK admits nothing else. */
  g_return_val_if_reached (AGL_JOURNAL_UPDATE);
}

/* @user_data is the account's name, which the query does not return. */
static gpointer
read_journal_row (sqlite3_stmt *stmt,
                  gpointer      user_data)
{
  AglJournalEntry *entry = g_new0 (AglJournalEntry, 1);

  entry->seq = sqlite3_column_int64 (stmt, 0);
  entry->account = g_strdup (user_data);
  entry->item_id = sqlite3_column_int64 (stmt, 1);
  entry->uid = dup_column_text (stmt, 2);
  entry->op = parse_journal_op ((const char *) sqlite3_column_text (stmt, 3));
  entry->remote_id = dup_column_text (stmt, 4);
  entry->change_key = dup_column_text (stmt, 5);
  entry->created = sqlite3_column_int64 (stmt, 6);
  entry->sent_ical = dup_column_text (stmt, 7);
  return entry;
}

/**
 * agl_store_list_journal:
 * @self: a store
 * @account: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Lists the local edits of the account's agenda that Exchange has not seen
 * yet, oldest first.  Entries are appended as edits happen and never merged:
 * an appointment created and then changed has a create and an update entry.
 *
 * Returns: (transfer full) (element-type AglJournalEntry): the entries, or
 *   %NULL with @error set
 */
GPtrArray *
agl_store_list_journal (AglStore    *self,
                        const char  *account,
                        GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (account != NULL && *account != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lookup_account_id (self, account, &account_id, error))
    return NULL;

  stmt = prepare (self,
                  "SELECT seq, item_id, uid, op, remote_id, change_key, created, sent_ical "
                  "FROM journal WHERE account_id = ?1 ORDER BY seq",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  return collect_rows (self, stmt, read_journal_row, (gpointer) account,
                       (GDestroyNotify) agl_journal_entry_free, error);
}

/**
 * agl_store_clear_journal_entry:
 * @self: a store
 * @seq: the entry's @seq
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Removes one journal entry in its own transaction.  The sync engine will
 * rather clear entries in the transaction that records what Exchange
 * answered; this is for entries that need no answer.
 *
 * Returns: whether the entry was removed
 */
gboolean
agl_store_clear_journal_entry (AglStore  *self,
                               gint64     seq,
                               GError   **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = clear_journal_entry_locked (self, seq, error);
  return end_write (self, ok, error);
}

/* -------------------------------------------------------------------------
 * The sync engine's writes.
 */

/**
 * agl_store_remote_change_free:
 * @change: (nullable): a remote change
 */
void
agl_store_remote_change_free (AglStoreRemoteChange *change)
{
  if (change == NULL)
    return;
  g_free (change->remote_id);
  g_free (change->change_key);
  g_clear_pointer (&change->item, agl_item_free);
  g_free (change);
}

/**
 * agl_remote_change_set_new:
 *
 * Returns: (transfer full): an empty page of remote changes
 */
AglRemoteChangeSet *
agl_remote_change_set_new (void)
{
  AglRemoteChangeSet *set = g_new0 (AglRemoteChangeSet, 1);

  set->changes = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_store_remote_change_free);
  return set;
}

static AglStoreRemoteChange *
append_change (AglRemoteChangeSet *set,
               AglStoreRemoteKind  kind,
               const char         *remote_id)
{
  AglStoreRemoteChange *change = g_new0 (AglStoreRemoteChange, 1);

  change->kind = kind;
  change->remote_id = g_strdup (remote_id);
  g_ptr_array_add (set->changes, change);
  return change;
}

/**
 * agl_remote_change_set_add_upsert:
 * @set: a page
 * @item: the appointment as the server has it (copied)
 * @remote_id: its Exchange ItemId
 * @change_key: (nullable): its ChangeKey
 *
 * Appends a created or changed remote item.
 */
void
agl_remote_change_set_add_upsert (AglRemoteChangeSet *set,
                                  const AglItem      *item,
                                  const char         *remote_id,
                                  const char         *change_key)
{
  AglStoreRemoteChange *change;

  g_return_if_fail (set != NULL && item != NULL && remote_id != NULL);

  change = append_change (set, AGL_STORE_REMOTE_UPSERT, remote_id);
  change->change_key = g_strdup (change_key);
  change->item = agl_item_copy (item);
}

/**
 * agl_remote_change_set_add_delete:
 * @set: a page
 * @remote_id: the Exchange ItemId of a deleted remote item
 *
 * Appends a deletion.
 */
void
agl_remote_change_set_add_delete (AglRemoteChangeSet *set,
                                  const char         *remote_id)
{
  g_return_if_fail (set != NULL && remote_id != NULL);

  append_change (set, AGL_STORE_REMOTE_DELETE, remote_id);
}

/**
 * agl_remote_change_set_add_confirm:
 * @set: a page
 * @remote_id: the Exchange ItemId of a change whose version is stored
 *   already
 *
 * Appends a change that alters nothing but confirms the item's link.
 */
void
agl_remote_change_set_add_confirm (AglRemoteChangeSet *set,
                                   const char         *remote_id)
{
  g_return_if_fail (set != NULL && remote_id != NULL);

  append_change (set, AGL_STORE_REMOTE_CONFIRM, remote_id);
}

/**
 * agl_remote_change_set_free:
 * @set: (nullable): a page
 */
void
agl_remote_change_set_free (AglRemoteChangeSet *set)
{
  if (set == NULL)
    return;
  g_clear_pointer (&set->changes, g_ptr_array_unref);
  g_free (set);
}

/**
 * agl_conflict_new:
 * @account: (nullable): the account, or %NULL to take the one of the write
 *   the record goes with
 * @item_uid: the appointment's UID
 * @ical: the losing version
 * @reason: why it lost, for the user
 *
 * Returns: (transfer full): a conflict record, not stored yet
 */
AglConflict *
agl_conflict_new (const char *account,
                  const char *item_uid,
                  const char *ical,
                  const char *reason)
{
  AglConflict *conflict = g_new0 (AglConflict, 1);

  conflict->account = g_strdup (account);
  conflict->item_uid = g_strdup (item_uid);
  conflict->ical = g_strdup (ical);
  conflict->reason = g_strdup (reason);
  return conflict;
}

/**
 * agl_conflict_free:
 * @conflict: (nullable): a conflict record
 */
void
agl_conflict_free (AglConflict *conflict)
{
  if (conflict == NULL)
    return;
  g_free (conflict->account);
  g_free (conflict->item_uid);
  g_free (conflict->ical);
  g_free (conflict->reason);
  g_free (conflict);
}

static gboolean
insert_conflict_locked (AglStore           *self,
                        gint64              account_id,
                        const AglConflict  *conflict,
                        gint64              created,
                        gint64             *id,
                        GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (conflict->item_uid == NULL || *conflict->item_uid == '\0' ||
      conflict->ical == NULL || conflict->reason == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("A conflict record needs the appointment’s UID, its iCalendar text "
                     "and a reason."));
      return FALSE;
    }

  stmt = prepare (self,
                  "INSERT INTO conflicts (account_id, item_uid, ical, created, reason) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, conflict->item_uid);
  bind_text (stmt, 3, conflict->ical);
  sqlite3_bind_int64 (stmt, 4, created);
  bind_text (stmt, 5, conflict->reason);
  if (!step_done (self, stmt, error))
    return FALSE;
  *id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

/* Looks up the account of a synchronised agenda: a name, not "" or NULL. */
static gboolean
lookup_sync_account_id (AglStore    *self,
                        const char  *account,
                        gint64      *account_id,
                        GError     **error)
{
  if (normalize_account (account) == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The local agenda is not synchronised with Exchange; "
                     "name an account."));
      return FALSE;
    }
  return lookup_account_id (self, account, account_id, error);
}

/* Stores the records of @conflicts (element-type AglConflict) for the
 * account @account_id, whose name is @account; their ids go to @ids. */
static gboolean
insert_conflicts_locked (AglStore    *self,
                         gint64       account_id,
                         const char  *account,
                         GPtrArray   *conflicts,
                         gint64       created,
                         GArray      *ids,
                         GError     **error)
{
  if (conflicts == NULL)
    return TRUE;

  for (guint i = 0; i < conflicts->len; i++)
    {
      const AglConflict *conflict = g_ptr_array_index (conflicts, i);
      gint64 id;

      if (conflict->account != NULL && g_strcmp0 (conflict->account, account) != 0)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("The conflict record of “%s” belongs to the account “%s”, "
                         "not to “%s”."),
                       conflict->item_uid != NULL ? conflict->item_uid : "?",
                       conflict->account, account);
          return FALSE;
        }
      if (!insert_conflict_locked (self, account_id, conflict, created, &id, error))
        return FALSE;
      g_array_append_val (ids, id);
    }
  return TRUE;
}

/* After the COMMIT: the records learn their ids. */
static void
set_conflict_ids (GPtrArray   *conflicts,
                  const char  *account,
                  gint64       created,
                  GArray      *ids)
{
  if (conflicts == NULL)
    return;
  for (guint i = 0; i < conflicts->len; i++)
    {
      AglConflict *conflict = g_ptr_array_index (conflicts, i);

      conflict->id = g_array_index (ids, gint64, i);
      conflict->created = created;
      if (conflict->account == NULL)
        conflict->account = g_strdup (account);
    }
}

static gboolean
check_remote_change (const AglStoreRemoteChange  *change,
                     const char             *account,
                     GError                **error)
{
  const AglItem *item = change->item;

  if (change->remote_id == NULL || *change->remote_id == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("A change from Exchange has no item id; the page was not stored."));
      return FALSE;
    }
  if (change->kind != AGL_STORE_REMOTE_UPSERT)
    return TRUE;

  if (item == NULL || item->uid == NULL || *item->uid == '\0' || item->ical == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The Exchange item “%s” has no UID or iCalendar text; "
                     "the page was not stored."),
                   change->remote_id);
      return FALSE;
    }
  if (normalize_account (item->account) != NULL && g_strcmp0 (item->account, account) != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The Exchange item “%s” is given for the account “%s”, "
                     "not “%s”; the page was not stored."),
                   change->remote_id, item->account, account);
      return FALSE;
    }
  if (item->end < item->start || item->range_end < item->start)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The Exchange item “%s” (UID “%s”) ends before it starts; "
                     "the page was not stored."),
                   change->remote_id, item->uid);
      return FALSE;
    }
  return TRUE;
}

/* The item linked to @remote_id in the account, or 0. */
static gboolean
find_linked_item (AglStore    *self,
                  gint64       account_id,
                  const char  *remote_id,
                  gint64      *item_id,
                  GError     **error)
{
  return query_id (self, "SELECT item_id FROM item_links WHERE account_id = ?1 AND remote_id = ?2",
                   account_id, remote_id, item_id, error);
}

/* Whether a local edit of the account waits to go to Exchange for the item
 * @item_id (0: none), or a local delete for @remote_id or @uid: such an
 * item must not be overwritten nor brought back by a remote change.  The
 * item concerned goes to @pending_item (the deleted item's old id for a
 * delete). */
static gboolean
find_pending_edit (AglStore    *self,
                   gint64       account_id,
                   gint64       item_id,
                   const char  *remote_id,
                   const char  *uid,
                   gint64      *pending_item,
                   GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = prepare (self,
                  "SELECT item_id FROM journal WHERE account_id = ?1 AND "
                  "  (item_id = ?2 OR "
                  "   (op = 'delete' AND (remote_id = ?3 OR uid = ?4))) "
                  "ORDER BY seq LIMIT 1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_int64 (stmt, 2, item_id);
  bind_text (stmt, 3, remote_id);
  bind_text (stmt, 4, uid);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  *pending_item = found ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* Links @item_id to @remote_id, replacing its previous link. */
static gboolean
write_link (AglStore    *self,
            gint64       account_id,
            gint64       item_id,
            const char  *remote_id,
            const char  *change_key,
            const char  *base_ical,
            gboolean     unconfirmed,
            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare (self,
                  "INSERT INTO item_links "
                  "  (item_id, account_id, remote_id, change_key, base_ical, unconfirmed) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                  "ON CONFLICT (item_id) DO UPDATE "
                  "  SET remote_id = excluded.remote_id, change_key = excluded.change_key, "
                  "      base_ical = excluded.base_ical, unconfirmed = excluded.unconfirmed",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, item_id);
  sqlite3_bind_int64 (stmt, 2, account_id);
  bind_text (stmt, 3, remote_id);
  bind_text (stmt, 4, change_key);
  bind_text (stmt, 5, base_ical);
  sqlite3_bind_int (stmt, 6, unconfirmed ? 1 : 0);
  return step_done (self, stmt, error);
}

static void
append_unique_id (GArray *ids,
                  gint64  id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      return;
  g_array_append_val (ids, id);
}

typedef struct {
  GArray *created;
  GArray *updated;
  GArray *deleted;
  GArray *candidates;
} RemoteResult;

static gboolean confirm_link_locked (AglStore    *self,
                                     gint64       account_id,
                                     const char  *remote_id,
                                     GError     **error);

static gboolean
apply_upsert_locked (AglStore               *self,
                     gint64                  account_id,
                     const AglStoreRemoteChange  *change,
                     RemoteResult           *result,
                     GError                **error)
{
  const AglItem *item = change->item;
  gint64 item_id;
  gint64 pending;

  /* By link first, then by UID: an appointment created here whose link
   * was lost, or a remote item of a new identity, is re-linked, never
   * stored twice. */
  if (!find_linked_item (self, account_id, change->remote_id, &item_id, error))
    return FALSE;
  if (item_id == 0 && !find_item_id (self, account_id, item->uid, &item_id, error))
    return FALSE;

  if (!find_pending_edit (self, account_id, item_id, change->remote_id, item->uid,
                          &pending, error))
    return FALSE;
  if (pending != 0)
    {
      append_unique_id (result->candidates, pending);
      /* Reported, so it exists: its link is confirmed all the same. */
      return confirm_link_locked (self, account_id, change->remote_id, error);
    }

  if (item_id != 0)
    {
      if (!update_item_row (self, item_id, item, error))
        return FALSE;
      append_unique_id (result->updated, item_id);
    }
  else
    {
      if (!insert_item_row (self, account_id, item, &item_id, error))
        return FALSE;
      g_array_append_val (result->created, item_id);
    }

  return write_link (self, account_id, item_id, change->remote_id, change->change_key,
                     item->ical, FALSE, error);
}

static gboolean
apply_delete_locked (AglStore               *self,
                     gint64                  account_id,
                     const AglStoreRemoteChange  *change,
                     RemoteResult           *result,
                     GError                **error)
{
  gint64 item_id;
  gint64 pending;

  if (!find_linked_item (self, account_id, change->remote_id, &item_id, error))
    return FALSE;
  /* Never linked here, or deleted here already: nothing to do. */
  if (item_id == 0)
    return TRUE;

  if (!find_pending_edit (self, account_id, item_id, NULL, NULL, &pending, error))
    return FALSE;
  if (pending != 0)
    {
      append_unique_id (result->candidates, item_id);
      return TRUE;
    }

  /* The link goes with the item (ON DELETE CASCADE). */
  if (!exec_with_id (self, "DELETE FROM items WHERE id = ?1", item_id, error))
    return FALSE;
  g_array_append_val (result->deleted, item_id);
  return TRUE;
}

static gboolean
confirm_link_locked (AglStore    *self,
                     gint64       account_id,
                     const char  *remote_id,
                     GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare (self,
                  "UPDATE item_links SET unconfirmed = 0 "
                  "WHERE account_id = ?1 AND remote_id = ?2 AND unconfirmed",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, remote_id);
  return step_done (self, stmt, error);
}

static gboolean
write_sync_state (AglStore    *self,
                  gint64       account_id,
                  const char  *identity,
                  const char  *state,
                  GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = prepare (self,
                  "INSERT INTO sync_states (account_id, identity, state, modified) "
                  "VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT (account_id, identity) DO UPDATE "
                  "  SET state = excluded.state, modified = excluded.modified",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, identity);
  bind_text (stmt, 3, state);
  sqlite3_bind_int64 (stmt, 4, now_seconds ());
  return step_done (self, stmt, error);
}

static gboolean
apply_remote_changes_locked (AglStore                  *self,
                             const char                *account,
                             const char                *identity,
                             const AglRemoteChangeSet  *changes,
                             const char                *new_sync_state,
                             GPtrArray                 *conflicts,
                             gint64                     created,
                             GArray                    *conflict_ids,
                             RemoteResult              *result,
                             AglStoreProgressFunc       progress,
                             gpointer                   user_data,
                             GError                   **error)
{
  gint64 account_id;
  guint n = changes->changes->len;

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const AglStoreRemoteChange *change = g_ptr_array_index (changes->changes, i);
      gboolean ok;

      if (!check_remote_change (change, account, error))
        return FALSE;

      if (change->kind == AGL_STORE_REMOTE_DELETE)
        ok = apply_delete_locked (self, account_id, change, result, error);
      else if (change->kind == AGL_STORE_REMOTE_CONFIRM)
        ok = confirm_link_locked (self, account_id, change->remote_id, error);
      else
        ok = apply_upsert_locked (self, account_id, change, result, error);
      if (!ok)
        {
          g_prefix_error (error, _("The Exchange item “%s” could not be stored: "),
                          change->remote_id);
          return FALSE;
        }

      if (progress != NULL)
        progress (i + 1, n, user_data);
    }

  return insert_conflicts_locked (self, account_id, account, conflicts, created,
                                  conflict_ids, error) &&
         write_sync_state (self, account_id, identity, new_sync_state, error);
}

/**
 * agl_store_apply_remote_changes:
 * @self: a store
 * @account: the account whose agenda the page belongs to
 * @identity: the account's identity (EWS URL + mailbox), as for
 *   agl_store_get_sync_state()
 * @changes: one page of changes from the server, in its order
 * @new_sync_state: the SyncState that covers exactly these changes
 * @conflicts: (nullable) (element-type AglConflict): losing versions to
 *   record in the same transaction (their @account must be %NULL or
 *   @account); their @id and @created are set on success
 * @conflict_candidates: (nullable) (element-type gint64): set to the ids of
 *   the appointments that were left alone because a local edit of them
 *   waits in the journal (for a local delete, the deleted item's id)
 * @progress: (nullable): called inside the transaction after each change;
 *   it must not call the store
 * @user_data: closure for @progress
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such account),
 *   %AGL_ERROR_INVALID_ARGUMENT (a change that cannot be stored, named by
 *   its ItemId) or a store error
 *
 * Stores a page of SyncFolderItems in ONE transaction, together with
 * @new_sync_state for (@account, @identity) (DESIGN.md, invariant 1): when
 * any change cannot be stored, nothing is, and the previous sync state
 * stays.
 *
 * An upsert updates the appointment linked to its ItemId, else the one with
 * its UID in the account (and links it: a re-link, never a duplicate), else
 * adds one; the link gets the new ChangeKey.  A delete removes the linked
 * appointment and its link; an unknown ItemId is no error.
 *
 * Remote changes are not local edits: they add no journal entry.  An
 * appointment with a pending journal entry (or a pending local delete of
 * the same ItemId or UID) is neither changed, deleted, brought back nor
 * re-linked; its id goes to @conflict_candidates for the engine's conflict
 * policy.
 *
 * Emits #AglStore::agenda-changed once, after the COMMIT, when an
 * appointment was added, changed or deleted.
 *
 * Returns: whether the page and the sync state were stored
 */
gboolean
agl_store_apply_remote_changes (AglStore                  *self,
                                const char                *account,
                                const char                *identity,
                                const AglRemoteChangeSet  *changes,
                                const char                *new_sync_state,
                                GPtrArray                 *conflicts,
                                GArray                    *conflict_candidates,
                                AglStoreProgressFunc       progress,
                                gpointer                   user_data,
                                GError                   **error)
{
  g_autoptr(GArray) created = id_array_new ();
  g_autoptr(GArray) updated = id_array_new ();
  g_autoptr(GArray) deleted = id_array_new ();
  g_autoptr(GArray) candidates = id_array_new ();
  g_autoptr(GArray) conflict_ids = id_array_new ();
  RemoteResult result = { created, updated, deleted, candidates };
  gint64 now = now_seconds ();
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (changes != NULL && changes->changes != NULL, FALSE);
  g_return_val_if_fail (new_sync_state != NULL, FALSE);
  g_return_val_if_fail (conflict_candidates == NULL ||
                        g_array_get_element_size (conflict_candidates) == sizeof (gint64),
                        FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = apply_remote_changes_locked (self, account, identity, changes, new_sync_state,
                                    conflicts, now, conflict_ids, &result,
                                    progress, user_data, error);
  if (!end_write (self, ok, error))
    return FALSE;

  set_conflict_ids (conflicts, account, now, conflict_ids);
  if (conflict_candidates != NULL)
    {
      g_array_set_size (conflict_candidates, 0);
      g_array_append_vals (conflict_candidates, candidates->data, candidates->len);
    }

  if (created->len > 0 || updated->len > 0 || deleted->len > 0)
    emit_agenda_changed (self, account, created, updated, deleted);
  return TRUE;
}

static gboolean
complete_journal_entry_locked (AglStore    *self,
                               gint64       seq,
                               gint64       item_id,
                               const char  *remote_id,
                               const char  *change_key,
                               const char  *base_ical,
                               gboolean     just_created,
                               GPtrArray   *conflicts,
                               gint64       created,
                               GArray      *conflict_ids,
                               char       **account,
                               GError     **error)
{
  g_autoptr(sqlite3_stmt) entry = NULL;
  g_autofree char *op_text = NULL;
  g_autofree char *old_remote_id = NULL;
  gint64 account_id;
  gint64 entry_item;
  gboolean found;
  gboolean exists;
  AglJournalOp op;

  entry = query_row_by_id (self,
                           "SELECT j.account_id, a.name, j.item_id, j.op, j.remote_id "
                           "FROM journal AS j JOIN accounts AS a ON a.id = j.account_id "
                           "WHERE j.seq = ?1",
                           seq, &found, error);
  if (entry == NULL)
    return FALSE;
  if (!found)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no journal entry %lld; it may have been cleared already."),
                   (long long) seq);
      return FALSE;
    }
  account_id = sqlite3_column_int64 (entry, 0);
  *account = dup_column_text (entry, 1);
  entry_item = sqlite3_column_int64 (entry, 2);
  op_text = dup_column_text (entry, 3);
  old_remote_id = dup_column_text (entry, 4);
  g_clear_pointer (&entry, sqlite3_finalize);
  op = parse_journal_op (op_text);

  if (entry_item != item_id)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("Journal entry %lld is about appointment %lld, not %lld."),
                   (long long) seq, (long long) entry_item, (long long) item_id);
      return FALSE;
    }

  if (op == AGL_JOURNAL_DELETE)
    {
      /* The item, and with it its link, went with the local delete; a link
       * written since (a re-link) is the remote item's last trace here. */
      if (old_remote_id != NULL || remote_id != NULL)
        {
          g_autoptr(sqlite3_stmt) unlink = NULL;

          unlink = prepare (self,
                            "DELETE FROM item_links "
                            "WHERE account_id = ?1 AND (item_id = ?2 OR remote_id IN (?3, ?4))",
                            error);
          if (unlink == NULL)
            return FALSE;
          sqlite3_bind_int64 (unlink, 1, account_id);
          sqlite3_bind_int64 (unlink, 2, item_id);
          bind_text (unlink, 3, old_remote_id);
          bind_text (unlink, 4, remote_id);
          if (!step_done (self, unlink, error))
            return FALSE;
        }
    }
  else
    {
      g_autoptr(sqlite3_stmt) later = NULL;
      gint64 other;

      if (remote_id == NULL || *remote_id == '\0')
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("Journal entry %lld (a create or update) cannot be completed "
                         "without the Exchange item id."),
                       (long long) seq);
          return FALSE;
        }

      if (!find_linked_item (self, account_id, remote_id, &other, error))
        return FALSE;
      if (other != 0 && other != item_id)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_EXISTS,
                       _("The Exchange item “%s” is already linked to appointment %lld."),
                       remote_id, (long long) other);
          return FALSE;
        }

      /* The appointment may have been deleted here meanwhile: then there
       * is nothing to link, but its pending delete must know which
       * Exchange item to delete. */
      {
        g_autoptr(sqlite3_stmt) item = query_row_by_id (self,
                                                        "SELECT 1 FROM items WHERE id = ?1",
                                                        item_id, &exists, error);
        if (item == NULL)
          return FALSE;
      }
      if (exists && !write_link (self, account_id, item_id, remote_id, change_key, base_ical,
                                 just_created, error))
        return FALSE;

      /* Later entries of the same appointment copied the link as it was
       * at their edit (none, or the old change key); they go out with
       * this one.  They also learn what this one sent, so that a later
       * delete recognises that version on Exchange as ours. */
      later = prepare (self,
                       "UPDATE journal SET remote_id = ?3, change_key = ?4, "
                       "  sent_ical = coalesce (sent_ical, "
                       "    (SELECT sent_ical FROM journal WHERE seq = ?2)) "
                       "WHERE item_id = ?1 AND seq > ?2",
                       error);
      if (later == NULL)
        return FALSE;
      sqlite3_bind_int64 (later, 1, item_id);
      sqlite3_bind_int64 (later, 2, seq);
      bind_text (later, 3, remote_id);
      bind_text (later, 4, change_key);
      if (!step_done (self, later, error))
        return FALSE;
    }

  return insert_conflicts_locked (self, account_id, *account, conflicts, created,
                                  conflict_ids, error) &&
         clear_journal_entry_locked (self, seq, error);
}

/**
 * agl_store_complete_journal_entry:
 * @self: a store
 * @seq: the journal entry Exchange has accepted
 * @item_id: its appointment (the entry's @item_id, checked)
 * @remote_id: (nullable): for a create or update, the ItemId Exchange
 *   answered; for a delete, %NULL (or the ItemId that was deleted)
 * @change_key: (nullable): the ChangeKey Exchange answered
 * @base_ical: (nullable): the appointment as Exchange now has it (what was
 *   sent), kept with the link so that the next edit sends only what
 *   differs from it
 * @created: the entry's CreateItem made @remote_id just now: the link is
 *   unconfirmed until a sync page reports the item (see
 *   agl_store_list_unconfirmed())
 * @conflicts: (nullable) (element-type AglConflict): losing versions to
 *   record in the same transaction (their @account must be %NULL or the
 *   entry's account); their @id and @created are set on success
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such entry),
 *   %AGL_ERROR_INVALID_ARGUMENT, %AGL_ERROR_EXISTS (@remote_id is linked to
 *   another appointment) or a store error
 *
 * Records the result of sending a journal entry, in one transaction: for a
 * create or update, the link (@remote_id, @change_key) of the appointment,
 * which later pending entries of the same appointment take over too; for a
 * delete, the removal of the link.  The entry is deleted.  When the
 * appointment was deleted locally meanwhile, only its pending entries learn
 * the link.  No signal: no appointment changed.
 *
 * Returns: whether the entry was completed
 */
gboolean
agl_store_complete_journal_entry (AglStore    *self,
                                  gint64       seq,
                                  gint64       item_id,
                                  const char  *remote_id,
                                  const char  *change_key,
                                  const char  *base_ical,
                                  gboolean     created,
                                  GPtrArray   *conflicts,
                                  GError     **error)
{
  g_autoptr(GArray) conflict_ids = id_array_new ();
  g_autofree char *account = NULL;
  gint64 now = now_seconds ();
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = complete_journal_entry_locked (self, seq, item_id, remote_id, change_key, base_ical,
                                      created, conflicts, now, conflict_ids, &account, error);
  if (!end_write (self, ok, error))
    return FALSE;

  set_conflict_ids (conflicts, account, now, conflict_ids);
  return TRUE;
}

static gboolean
reset_sync_state_locked (AglStore    *self,
                         const char  *account,
                         GError     **error)
{
  gint64 account_id;

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return FALSE;

  /* The items stay, to be re-linked; the journal stays, to be sent, but
   * without the old mailbox's ItemIds and change keys. */
  return exec_with_id (self, "DELETE FROM sync_states WHERE account_id = ?1",
                       account_id, error) &&
         exec_with_id (self, "DELETE FROM item_links WHERE account_id = ?1",
                       account_id, error) &&
         exec_with_id (self,
                       "UPDATE journal SET remote_id = NULL, change_key = NULL "
                       "WHERE account_id = ?1",
                       account_id, error);
}

/**
 * agl_store_reset_sync_state:
 * @self: a store
 * @account: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND,
 *   %AGL_ERROR_INVALID_ARGUMENT (the local agenda) or a store error
 *
 * Forgets everything the account knew about its Exchange mailbox, in one
 * transaction, for a new identity (DESIGN.md, invariant 3): the sync
 * states of every identity, the links of its appointments, and the ItemIds
 * and change keys its pending journal entries copied.  The appointments and
 * the journal entries themselves stay: the engine re-links them by local
 * identity, UID, then start + end + subject.  No signal: no appointment
 * changed.
 *
 * Returns: whether the state was reset
 */
gboolean
agl_store_reset_sync_state (AglStore    *self,
                            const char  *account,
                            GError     **error)
{
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = reset_sync_state_locked (self, account, error);
  return end_write (self, ok, error);
}

/**
 * agl_store_find_item_by_times_and_summary:
 * @self: a store
 * @account: an account name
 * @start: the first start, Unix time
 * @end: the end of the first occurrence, Unix time
 * @summary: the subject ("" for none)
 * @error: return location for %AGL_ERROR_NOT_FOUND (no such account),
 *   %AGL_ERROR_INVALID_ARGUMENT (the local agenda) or a store error
 *
 * The last step of re-linking after a new identity: an appointment of the
 * account with exactly this start, end and summary that is linked to no
 * Exchange item yet.  When several match, the oldest (lowest id).
 *
 * Returns: (transfer full) (nullable): the appointment; %NULL without an
 *   error when there is none
 */
AglItem *
agl_store_find_item_by_times_and_summary (AglStore    *self,
                                          const char  *account,
                                          gint64       start,
                                          gint64       end,
                                          const char  *summary,
                                          GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (summary != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return NULL;

  stmt = prepare (self,
                  ITEM_SELECT
                  "WHERE i.account_id = ?1 AND i.start_time = ?2 AND i.end_time = ?3 "
                  "  AND i.summary = ?4 "
                  "  AND NOT EXISTS (SELECT 1 FROM item_links AS l WHERE l.item_id = i.id) "
                  "ORDER BY i.id LIMIT 1",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  sqlite3_bind_int64 (stmt, 2, start);
  sqlite3_bind_int64 (stmt, 3, end);
  bind_text (stmt, 4, summary);
  if (!step_row (self, stmt, &found, error) || !found)
    return NULL;
  return item_from_row (stmt);
}

/**
 * agl_store_add_conflict:
 * @self: a store
 * @account: the account whose agenda had the conflict
 * @item_uid: the appointment's UID
 * @ical: the losing version
 * @reason: why it lost, for the user
 * @id: (out) (optional): the new record's id
 * @error: return location for %AGL_ERROR_NOT_FOUND,
 *   %AGL_ERROR_INVALID_ARGUMENT or a store error
 *
 * Keeps the losing version of a conflict, in its own transaction.  When the
 * winning version is written by agl_store_apply_remote_changes() or
 * agl_store_complete_journal_entry(), pass the record to them instead, so
 * both are one transaction.
 *
 * Returns: whether the record was stored
 */
gboolean
agl_store_add_conflict (AglStore    *self,
                        const char  *account,
                        const char  *item_uid,
                        const char  *ical,
                        const char  *reason,
                        gint64      *id,
                        GError     **error)
{
  g_autoptr(AglConflict) conflict = agl_conflict_new (account, item_uid, ical, reason);
  gint64 account_id;
  gint64 new_id = 0;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (account != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = lookup_sync_account_id (self, account, &account_id, error) &&
       insert_conflict_locked (self, account_id, conflict, now_seconds (), &new_id, error);
  if (!end_write (self, ok, error))
    return FALSE;

  if (id != NULL)
    *id = new_id;
  return TRUE;
}

#define CONFLICT_SELECT \
  "SELECT c.id, a.name, c.item_uid, c.ical, c.reason, c.created " \
  "FROM conflicts AS c JOIN accounts AS a ON a.id = c.account_id "

static gpointer
read_conflict_row (sqlite3_stmt *stmt,
                   gpointer      user_data)
{
  AglConflict *conflict = g_new0 (AglConflict, 1);

  /* Columns as in CONFLICT_SELECT. */
  conflict->id = sqlite3_column_int64 (stmt, 0);
  conflict->account = dup_column_text (stmt, 1);
  conflict->item_uid = dup_column_text (stmt, 2);
  conflict->ical = dup_column_text (stmt, 3);
  conflict->reason = dup_column_text (stmt, 4);
  conflict->created = sqlite3_column_int64 (stmt, 5);
  return conflict;
}

/**
 * agl_store_list_conflicts:
 * @self: a store
 * @account: (nullable): an account name, or %NULL for every account
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full) (element-type AglConflict): the conflict
 *   records, oldest first (by id), or %NULL with @error set
 */
GPtrArray *
agl_store_list_conflicts (AglStore    *self,
                          const char  *account,
                          GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id = 0;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (account != NULL && !lookup_sync_account_id (self, account, &account_id, error))
    return NULL;

  stmt = prepare (self,
                  CONFLICT_SELECT "WHERE ?1 OR c.account_id = ?2 ORDER BY c.id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int (stmt, 1, account == NULL);
  sqlite3_bind_int64 (stmt, 2, account_id);
  return collect_rows (self, stmt, read_conflict_row, NULL,
                       (GDestroyNotify) agl_conflict_free, error);
}

static gboolean
take_conflict_locked (AglStore      *self,
                      gint64         id,
                      AglConflict  **conflict,
                      GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  stmt = query_row_by_id (self, CONFLICT_SELECT "WHERE c.id = ?1", id, &found, error);
  if (stmt == NULL)
    return FALSE;
  if (!found)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no conflict record %lld. "
                     "It may have been restored already; list the conflicts again."),
                   (long long) id);
      return FALSE;
    }
  *conflict = read_conflict_row (stmt, NULL);
  g_clear_pointer (&stmt, sqlite3_finalize);
  return exec_with_id (self, "DELETE FROM conflicts WHERE id = ?1", id, error);
}

/**
 * agl_store_take_conflict:
 * @self: a store
 * @id: a conflict record's id
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Removes a conflict record and returns it, in one transaction, for
 * restoring the version it kept.  The caller writes that version back
 * (e.g. with agl_store_update_item(), which journals it); should that
 * fail, it adds the record again with agl_store_add_conflict().
 *
 * Returns: (transfer full): the record, or %NULL with @error set
 */
AglConflict *
agl_store_take_conflict (AglStore  *self,
                         gint64     id,
                         GError   **error)
{
  g_autoptr(AglConflict) conflict = NULL;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!begin_write (self, error))
    return NULL;
  ok = take_conflict_locked (self, id, &conflict, error);
  if (!end_write (self, ok, error))
    return NULL;
  return g_steal_pointer (&conflict);
}

/**
 * agl_sync_info_clear:
 * @info: sync info read by agl_store_get_sync_info()
 */
void
agl_sync_info_clear (AglSyncInfo *info)
{
  g_clear_pointer (&info->state, g_free);
}

/**
 * agl_store_get_sync_info:
 * @self: a store
 * @account: an account name
 * @identity: the account's identity (EWS URL + mailbox)
 * @info: (out caller-allocates): where the sync stands; clear it with
 *   agl_sync_info_clear()
 * @error: return location for %AGL_ERROR_NOT_FOUND,
 *   %AGL_ERROR_INVALID_ARGUMENT (the local agenda) or a store error
 *
 * Reads the sync state of (@account, @identity), whether anything of
 * another identity is left, and the account's counts, in one read.
 *
 * Returns: whether @info was filled
 */
gboolean
agl_store_get_sync_info (AglStore     *self,
                         const char   *account,
                         const char   *identity,
                         AglSyncInfo  *info,
                         GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (info, 0, sizeof *info);
  if (!lookup_sync_account_id (self, account, &account_id, error))
    return FALSE;

  /* Links without a state of this identity are another identity's too:
   * a state is written with the first page, links only with it or after. */
  stmt = prepare (self,
                  "SELECT s.state, s.modified, "
                  "  EXISTS (SELECT 1 FROM sync_states "
                  "          WHERE account_id = ?1 AND identity <> ?2) "
                  "  OR (s.state IS NULL AND "
                  "      EXISTS (SELECT 1 FROM item_links WHERE account_id = ?1)), "
                  "  (SELECT count(*) FROM items WHERE account_id = ?1), "
                  "  (SELECT count(*) FROM item_links WHERE account_id = ?1), "
                  "  (SELECT count(*) FROM journal WHERE account_id = ?1), "
                  "  (SELECT count(*) FROM conflicts WHERE account_id = ?1) "
                  "FROM (SELECT 1) LEFT JOIN sync_states AS s "
                  "  ON s.account_id = ?1 AND s.identity = ?2",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, account_id);
  bind_text (stmt, 2, identity);
  if (!step_row (self, stmt, &found, error))
    return FALSE;
  info->state = dup_column_text (stmt, 0);
  info->state_modified = sqlite3_column_int64 (stmt, 1);
  info->other_identity = sqlite3_column_int (stmt, 2) != 0;
  info->n_items = (guint) sqlite3_column_int64 (stmt, 3);
  info->n_linked = (guint) sqlite3_column_int64 (stmt, 4);
  info->n_pending = (guint) sqlite3_column_int64 (stmt, 5);
  info->n_conflicts = (guint) sqlite3_column_int64 (stmt, 6);
  return TRUE;
}

/**
 * agl_store_get_item_base:
 * @self: a store
 * @item_id: an appointment id
 * @base_ical: (out) (transfer full) (nullable): the appointment as Exchange
 *   last had it, or %NULL when it is not linked or that is unknown
 * @error: return location for a store error
 *
 * Returns: whether it was read (%TRUE also when there is none)
 */
gboolean
agl_store_get_item_base (AglStore    *self,
                         gint64       item_id,
                         char       **base_ical,
                         GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (base_ical != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *base_ical = NULL;
  stmt = query_row_by_id (self, "SELECT base_ical FROM item_links WHERE item_id = ?1",
                          item_id, &found, error);
  if (stmt == NULL)
    return FALSE;
  if (found)
    *base_ical = dup_column_text (stmt, 0);
  return TRUE;
}

static gboolean
settle_journal_entry_locked (AglStore        *self,
                             gint64           seq,
                             AglStoreSettle   outcome,
                             const AglItem   *remote_item,
                             const char      *remote_id,
                             const char      *change_key,
                             GPtrArray       *conflicts,
                             gint64           created,
                             GArray          *conflict_ids,
                             gint64          *item_id,
                             char           **account,
                             RemoteResult    *result,
                             GError         **error)
{
  g_autoptr(sqlite3_stmt) entry = NULL;
  g_autoptr(sqlite3_stmt) drop = NULL;
  gint64 account_id;
  gint64 entry_item;
  gboolean found;
  gboolean exists;

  entry = query_row_by_id (self,
                           "SELECT j.account_id, a.name, j.item_id, "
                           "  EXISTS (SELECT 1 FROM items WHERE id = j.item_id) "
                           "FROM journal AS j JOIN accounts AS a ON a.id = j.account_id "
                           "WHERE j.seq = ?1",
                           seq, &found, error);
  if (entry == NULL)
    return FALSE;
  if (!found)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no journal entry %lld; it may have been cleared already."),
                   (long long) seq);
      return FALSE;
    }
  account_id = sqlite3_column_int64 (entry, 0);
  *account = dup_column_text (entry, 1);
  entry_item = sqlite3_column_int64 (entry, 2);
  exists = sqlite3_column_int (entry, 3) != 0;
  g_clear_pointer (&entry, sqlite3_finalize);
  *item_id = exists ? entry_item : 0;

  /* Every pending edit of the appointment lost, not just this one. */
  drop = prepare (self, "DELETE FROM journal WHERE account_id = ?1 AND item_id = ?2", error);
  if (drop == NULL)
    return FALSE;
  sqlite3_bind_int64 (drop, 1, account_id);
  sqlite3_bind_int64 (drop, 2, entry_item);
  if (!step_done (self, drop, error))
    return FALSE;

  if (outcome == AGL_STORE_SETTLE_DROP_LOCAL)
    {
      if (exists)
        {
          if (!exec_with_id (self, "DELETE FROM items WHERE id = ?1", entry_item, error))
            return FALSE;
          g_array_append_val (result->deleted, entry_item);
        }
      *item_id = 0;
    }
  else
    {
      gint64 other = 0;

      if (remote_item == NULL || remote_id == NULL || *remote_id == '\0')
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("Journal entry %lld cannot take Exchange’s version without it."),
                       (long long) seq);
          return FALSE;
        }
      if (!find_linked_item (self, account_id, remote_id, &other, error))
        return FALSE;
      if (!exists && other == 0 && !find_item_id (self, account_id, remote_item->uid, &other, error))
        return FALSE;
      if (exists)
        {
          if (!update_item_row (self, entry_item, remote_item, error))
            return FALSE;
          g_array_append_val (result->updated, entry_item);
        }
      else if (other != 0)
        {
          /* Brought back already (by UID or link): update that one. */
          if (!update_item_row (self, other, remote_item, error))
            return FALSE;
          g_array_append_val (result->updated, other);
          entry_item = other;
        }
      else
        {
          if (!insert_item_row (self, account_id, remote_item, &entry_item, error))
            return FALSE;
          g_array_append_val (result->created, entry_item);
        }
      if (!write_link (self, account_id, entry_item, remote_id, change_key, remote_item->ical,
                       FALSE, error))
        return FALSE;
      *item_id = entry_item;
    }

  return insert_conflicts_locked (self, account_id, *account, conflicts, created,
                                  conflict_ids, error);
}

/**
 * agl_store_settle_journal_entry:
 * @self: a store
 * @seq: the journal entry whose edit lost a conflict
 * @outcome: what the appointment becomes
 * @remote_item: (nullable): Exchange's version, for
 *   %AGL_STORE_SETTLE_TAKE_REMOTE
 * @remote_id: (nullable): its ItemId, for %AGL_STORE_SETTLE_TAKE_REMOTE
 * @change_key: (nullable): its ChangeKey
 * @conflicts: (nullable) (element-type AglConflict): the losing local
 *   versions, recorded in the same transaction
 * @item_id: (out) (optional): the appointment's id afterwards (0 when it
 *   was dropped)
 * @error: return location for %AGL_ERROR_NOT_FOUND, %AGL_ERROR_INVALID_ARGUMENT
 *   or a store error
 *
 * Ends a conflict that Exchange won, in one transaction: every pending
 * journal entry of the appointment is cleared, the appointment becomes
 * Exchange's version (linked to it, with it as the base of the next edit)
 * or is deleted, and the losing versions become conflict records.
 * Emits #AglStore::agenda-changed after the COMMIT.
 *
 * Returns: whether the conflict was settled
 */
gboolean
agl_store_settle_journal_entry (AglStore        *self,
                                gint64           seq,
                                AglStoreSettle   outcome,
                                const AglItem   *remote_item,
                                const char      *remote_id,
                                const char      *change_key,
                                GPtrArray       *conflicts,
                                gint64          *item_id,
                                GError         **error)
{
  g_autoptr(GArray) created = id_array_new ();
  g_autoptr(GArray) updated = id_array_new ();
  g_autoptr(GArray) deleted = id_array_new ();
  g_autoptr(GArray) conflict_ids = id_array_new ();
  g_autofree char *account = NULL;
  RemoteResult result = { created, updated, deleted, NULL };
  gint64 now = now_seconds ();
  gint64 settled = 0;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = settle_journal_entry_locked (self, seq, outcome, remote_item, remote_id, change_key,
                                    conflicts, now, conflict_ids, &settled, &account,
                                    &result, error);
  if (!end_write (self, ok, error))
    return FALSE;

  set_conflict_ids (conflicts, account, now, conflict_ids);
  if (item_id != NULL)
    *item_id = settled;
  if (created->len > 0 || updated->len > 0 || deleted->len > 0)
    emit_agenda_changed (self, account, created, updated, deleted);
  return TRUE;
}

/**
 * agl_store_list_linked_items:
 * @self: a store
 * @account: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full) (element-type gint64): the ids of the account's
 *   appointments linked to an Exchange item
 */
GArray *
agl_store_list_linked_items (AglStore    *self,
                             const char  *account,
                             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) ids = id_array_new ();
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return NULL;
  stmt = prepare (self, "SELECT item_id FROM item_links WHERE account_id = ?1 ORDER BY item_id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  for (;;)
    {
      gint64 id;

      if (!step_row (self, stmt, &found, error))
        return NULL;
      if (!found)
        break;
      id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}

static gboolean
retire_unlinked_locked (AglStore     *self,
                        const char   *account,
                        GArray       *item_ids,
                        const char   *reason,
                        gint64        now,
                        GArray       *deleted,
                        GError      **error)
{
  gint64 account_id;

  g_autoptr(GArray) orphans = NULL;

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return FALSE;

  if (item_ids == NULL)
    {
      g_autoptr(sqlite3_stmt) stmt = NULL;
      gboolean found;

      orphans = id_array_new ();
      stmt = prepare (self,
                      "SELECT i.id FROM items AS i WHERE i.account_id = ?1 "
                      "  AND NOT EXISTS (SELECT 1 FROM item_links WHERE item_id = i.id) "
                      "  AND NOT EXISTS (SELECT 1 FROM journal WHERE item_id = i.id)",
                      error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, account_id);
      for (;;)
        {
          gint64 id;

          if (!step_row (self, stmt, &found, error))
            return FALSE;
          if (!found)
            break;
          id = sqlite3_column_int64 (stmt, 0);
          g_array_append_val (orphans, id);
        }
      item_ids = orphans;
    }

  for (guint i = 0; i < item_ids->len; i++)
    {
      gint64 id = g_array_index (item_ids, gint64, i);
      g_autoptr(sqlite3_stmt) stmt = NULL;
      gboolean found;

      /* Still in the account, linked to nothing, no edit waiting. */
      stmt = query_row_by_id (self,
                              "SELECT i.uid, i.ical FROM items AS i "
                              "WHERE i.id = ?1 "
                              "  AND NOT EXISTS (SELECT 1 FROM item_links WHERE item_id = i.id) "
                              "  AND NOT EXISTS (SELECT 1 FROM journal WHERE item_id = i.id)",
                              id, &found, error);
      if (stmt == NULL)
        return FALSE;
      if (!found)
        continue;
      {
        AglConflict conflict = { 0, NULL, (char *) sqlite3_column_text (stmt, 0),
                                 (char *) sqlite3_column_text (stmt, 1), (char *) reason, now };
        gint64 conflict_id;

        if (!insert_conflict_locked (self, account_id, &conflict, now, &conflict_id, error))
          return FALSE;
      }
      g_clear_pointer (&stmt, sqlite3_finalize);
      if (!exec_with_id (self, "DELETE FROM items WHERE id = ?1 AND account_id IS NOT NULL",
                         id, error))
        return FALSE;
      g_array_append_val (deleted, id);
    }
  return TRUE;
}

/**
 * agl_store_retire_unlinked:
 * @self: a store
 * @account: an account name
 * @item_ids: (element-type gint64) (nullable): appointments that were
 *   linked under the account's previous identity; %NULL: every appointment
 *   of the account
 * @reason: the conflict records' reason, for the user
 * @n_retired: (out) (optional): how many were retired
 * @error: return location for a store error
 *
 * After a complete sync: each of @item_ids that is still in the account
 * but linked to nothing (the mailbox does not have it: after a new
 * identity, or a reset the engine did not live to finish) and has no
 * pending edit leaves the agenda and becomes a conflict record, so that
 * nothing is lost and nothing is pushed into a mailbox it never belonged
 * to.  One transaction; emits
 * #AglStore::agenda-changed.
 *
 * Returns: whether it worked
 */
gboolean
agl_store_retire_unlinked (AglStore     *self,
                           const char   *account,
                           GArray       *item_ids,
                           const char   *reason,
                           guint        *n_retired,
                           GError      **error)
{
  g_autoptr(GArray) deleted = id_array_new ();
  gint64 now = now_seconds ();
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  ok = retire_unlinked_locked (self, account, item_ids, reason, now, deleted, error);
  if (!end_write (self, ok, error))
    return FALSE;
  if (n_retired != NULL)
    *n_retired = deleted->len;
  if (deleted->len > 0)
    emit_agenda_changed (self, account, NULL, NULL, deleted);
  return TRUE;
}

static gboolean
restore_conflict_locked (AglStore      *self,
                         gint64         id,
                         AglItem       *restored,
                         gboolean      *created,
                         GError       **error)
{
  g_autoptr(AglConflict) conflict = NULL;
  gint64 account_id;
  gint64 existing;

  if (!take_conflict_locked (self, id, &conflict, error))
    return FALSE;
  if (g_strcmp0 (conflict->item_uid, restored->uid) != 0 ||
      g_strcmp0 (conflict->account, restored->account) != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("Conflict record %lld is about “%s”, not the appointment given."),
                   (long long) id, conflict->item_uid);
      return FALSE;
    }
  if (!lookup_account_id (self, conflict->account, &account_id, error) ||
      !find_item_id (self, account_id, restored->uid, &existing, error))
    return FALSE;

  *created = existing == 0;
  if (existing != 0)
    {
      restored->id = existing;
      return update_item_row (self, existing, restored, error) &&
             append_journal (self, account_id, existing, restored->uid, AGL_JOURNAL_UPDATE, error);
    }
  return insert_item_row (self, account_id, restored, &restored->id, error) &&
         append_journal (self, account_id, restored->id, restored->uid, AGL_JOURNAL_CREATE, error);
}

/**
 * agl_store_restore_conflict:
 * @self: a store
 * @id: a conflict record
 * @item: (inout): the record's version made into an appointment by the
 *   caller (agl-event.c: the store does not parse iCalendar); its @id is
 *   set.  Its @uid must be the record's.
 * @error: return location for %AGL_ERROR_NOT_FOUND,
 *   %AGL_ERROR_INVALID_ARGUMENT or a store error
 *
 * Brings a losing version back, in one transaction: it replaces the
 * appointment with its UID in the record's account (or is added when
 * there is none), with a journal entry so that it syncs like any local
 * edit, and the record is removed.  Emits #AglStore::agenda-changed.
 *
 * Returns: whether it was restored
 */
gboolean
agl_store_restore_conflict (AglStore  *self,
                            gint64     id,
                            AglItem  **item,
                            GError   **error)
{
  gboolean created = FALSE;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (item != NULL && *item != NULL, FALSE);

  if (!check_item_fields (*item, error))
    return FALSE;
  if (!begin_write (self, error))
    return FALSE;
  ok = restore_conflict_locked (self, id, *item, &created, error);
  if (!end_write (self, ok, error))
    return FALSE;
  {
    g_autoptr(GArray) ids = single_id ((*item)->id);

    emit_agenda_changed (self, (*item)->account, created ? ids : NULL, created ? NULL : ids, NULL);
  }
  return TRUE;
}

/**
 * agl_store_get_change_keys:
 * @self: a store
 * @account: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * The change key of every linked appointment of the account, so that the
 * engine need not read again an item whose version it has (the echo of
 * its own write).
 *
 * Returns: (transfer full) (element-type utf8 utf8): remote id -> change
 *   key (links without a change key are left out)
 */
GHashTable *
agl_store_get_change_keys (AglStore    *self,
                           const char  *account,
                           GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return NULL;
  stmt = prepare (self,
                  "SELECT remote_id, change_key FROM item_links "
                  "WHERE account_id = ?1 AND change_key IS NOT NULL",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  for (;;)
    {
      if (!step_row (self, stmt, &found, error))
        return NULL;
      if (!found)
        break;
      g_hash_table_replace (keys, dup_column_text (stmt, 0), dup_column_text (stmt, 1));
    }
  return g_steal_pointer (&keys);
}

/**
 * agl_store_list_unconfirmed:
 * @self: a store
 * @account: an account name
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * The Exchange items Agendaline created whose creation no sync page has
 * reported yet.  After a complete sync from a state older than their
 * creation, the ones left were deleted (or moved away) in Exchange.
 *
 * Returns: (transfer full) (element-type utf8): their ItemIds
 */
GPtrArray *
agl_store_list_unconfirmed (AglStore    *self,
                            const char  *account,
                            GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  gint64 account_id;
  gboolean found;

  g_return_val_if_fail (AGL_IS_STORE (self), NULL);

  if (!lookup_sync_account_id (self, account, &account_id, error))
    return NULL;
  stmt = prepare (self,
                  "SELECT remote_id FROM item_links WHERE account_id = ?1 AND unconfirmed "
                  "ORDER BY item_id",
                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, account_id);
  for (;;)
    {
      if (!step_row (self, stmt, &found, error))
        return NULL;
      if (!found)
        break;
      g_ptr_array_add (ids, dup_column_text (stmt, 0));
    }
  return g_steal_pointer (&ids);
}

/**
 * agl_store_mark_journal_sent:
 * @self: a store
 * @seq: a journal entry
 * @sent_ical: the version about to be sent to Exchange for it
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Records, before the request goes out, what the engine sends for a
 * journal entry: should the answer be lost, the retry recognises that
 * version on Exchange as its own instead of a conflict.  No signal.
 *
 * Returns: whether it was recorded
 */
gboolean
agl_store_mark_journal_sent (AglStore    *self,
                             gint64       seq,
                             const char  *sent_ical,
                             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean ok;

  g_return_val_if_fail (AGL_IS_STORE (self), FALSE);
  g_return_val_if_fail (sent_ical != NULL, FALSE);

  if (!begin_write (self, error))
    return FALSE;
  stmt = prepare (self, "UPDATE journal SET sent_ical = ?2 WHERE seq = ?1", error);
  ok = stmt != NULL;
  if (ok)
    {
      sqlite3_bind_int64 (stmt, 1, seq);
      bind_text (stmt, 2, sent_ical);
      ok = step_done (self, stmt, error);
    }
  if (ok && sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no journal entry %lld; it may have been cleared already."),
                   (long long) seq);
      ok = FALSE;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  return end_write (self, ok, error);
}
