/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-store.h"
#include "agl-store-schema.h"

/*
 * The schema of the agenda database, one step per version.
 *
 * PRAGMA user_version says which steps a database has had.  A step is never
 * edited once it has shipped: databases written by that version exist, and
 * tests/fixtures/store-schema-v*.sql freeze them.  A change to the schema is
 * a new step that brings the previous version forward, and
 * AGL_STORE_SCHEMA_VERSION moves up with it.
 *
 * Every step runs in one transaction with the user_version bump, so a crash
 * or a failure leaves the database at the previous version, never half way.
 * Steps only add tables, indexes and columns (ALTER TABLE ... ADD COLUMN
 * with a default, which SQLite does without rewriting the table); one that
 * has to rebuild a table must
 * switch foreign keys off around it (see "Making Other Kinds Of Table Schema
 * Changes" in the SQLite documentation), which cannot happen inside the
 * transaction and so needs its own code here.
 */

/* Version 1: the accounts and their appointments. */
static const char schema_v1[] =
  /* One Exchange account.  The settings are checked by
   * agl_account_validate() before they get here, so the table only guards
   * the key.  There is no password column, and there must never be one:
   * passwords live in the Secret Service. */
  "CREATE TABLE accounts (\n"
  "  -- AUTOINCREMENT: an id is never reused, so whatever remembers one\n"
  "  -- (a client, a log line) never meets another account under it.\n"
  "  id             INTEGER PRIMARY KEY AUTOINCREMENT,\n"
  "  -- The user's name for the account: the key every client uses.\n"
  "  name           TEXT    NOT NULL UNIQUE CHECK (name <> ''),\n"
  "  email          TEXT,\n"
  "  url            TEXT,     -- NULL while autodiscover finds it\n"
  "  autodiscover   INTEGER NOT NULL CHECK (autodiscover IN (0, 1)),\n"
  "  auth           TEXT,     -- ntlm, basic or oauth2\n"
  "  user           TEXT,\n"
  "  domain         TEXT,     -- NTLM only\n"
  "  server_version TEXT,\n"
  "  ca_file        TEXT,\n"
  "  enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),\n"
  "  created        INTEGER NOT NULL  -- Unix time, seconds\n"
  ");\n"

  /* One appointment: a VEVENT with its RECURRENCE-ID exceptions. */
  "CREATE TABLE items (\n"
  "  -- AUTOINCREMENT: clients and the journal hold item ids; a deleted\n"
  "  -- appointment's id must never come back as another appointment.\n"
  "  id          INTEGER PRIMARY KEY AUTOINCREMENT,\n"
  "  -- NULL for the local-only agenda.  Removing an account removes its\n"
  "  -- agenda with it.\n"
  "  account_id  INTEGER REFERENCES accounts (id) ON DELETE CASCADE,\n"
  "  uid         TEXT    NOT NULL CHECK (uid <> ''),\n"
  "  -- The iCalendar text is the truth.  summary and the times below are\n"
  "  -- copies of it (made by agl-event.c) so that queries can use indexes.\n"
  "  ical        TEXT    NOT NULL,\n"
  "  summary     TEXT    NOT NULL DEFAULT '',\n"
  "  -- Unix times, seconds, UTC; \"end\" is an SQL keyword, hence _time.\n"
  "  start_time  INTEGER NOT NULL,\n"
  "  end_time    INTEGER NOT NULL CHECK (end_time >= start_time),\n"
  "  -- The end of the last occurrence: end_time for a single event,\n"
  "  -- 253402300799 (9999-12-31) for a series without an end.\n"
  "  range_end   INTEGER NOT NULL CHECK (range_end >= start_time),\n"
  "  all_day     INTEGER NOT NULL CHECK (all_day IN (0, 1)),\n"
  "  recurring   INTEGER NOT NULL CHECK (recurring IN (0, 1)),\n"
  "  created     INTEGER NOT NULL,\n"
  "  modified    INTEGER NOT NULL\n"
  ");\n"

  /* A UID is unique within one agenda.  UNIQUE (account_id, uid) would not
   * do: NULLs are distinct in a UNIQUE constraint, so the local-only agenda
   * could hold one UID twice.  Account ids start at 1, so 0 is free to stand
   * for the local-only agenda. */
  "CREATE UNIQUE INDEX items_account_uid ON items (coalesce(account_id, 0), uid);\n"
  /* Finding an appointment by UID across all agendas (imports, links). */
  "CREATE INDEX items_uid ON items (uid);\n"
  /* Listing one account's agenda, and the ON DELETE CASCADE from accounts,
   * which would scan the whole table without it. */
  "CREATE INDEX items_account ON items (account_id);\n"
  /* Range queries: an item overlaps [from, to) when start_time < to and
   * range_end > from; either bound can be the selective one. */
  "CREATE INDEX items_start ON items (start_time, range_end);\n"
  "CREATE INDEX items_range_end ON items (range_end);\n";

/* Version 2: what the sync engine needs to remember about Exchange. */
static const char schema_v2[] =
  /* Where SyncFolderItems stopped.  Keyed by the account's identity (EWS
   * URL + mailbox, computed by the sync engine) as well as the account: a
   * state belongs to one mailbox on one server, and replaying it against
   * another would skip or invent changes.  A new identity therefore finds
   * no state and starts from the beginning. */
  "CREATE TABLE sync_states (\n"
  "  account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
  "  identity    TEXT    NOT NULL,\n"
  "  state       TEXT    NOT NULL,  -- the opaque EWS SyncState\n"
  "  modified    INTEGER NOT NULL,\n"
  "  PRIMARY KEY (account_id, identity)\n"
  ");\n"

  /* The Exchange item an appointment is linked to.  A separate table rather
   * than columns of items, because local-only items never have one and an
   * appointment exists before its first upload.  account_id repeats the
   * item's account so that a remote id is unique per account and the sync
   * engine can look an item up by the ItemId a server sends. */
  "CREATE TABLE item_links (\n"
  "  item_id     INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,\n"
  "  account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
  "  remote_id   TEXT    NOT NULL CHECK (remote_id <> ''),\n"
  "  -- The ChangeKey of the version we have: UpdateItem and DeleteItem\n"
  "  -- send it, so a change made on the server meanwhile is a conflict\n"
  "  -- instead of being overwritten.\n"
  "  change_key  TEXT,\n"
  "  UNIQUE (account_id, remote_id)\n"
  ");\n";

/* Version 3: local edits on their way to Exchange, and conflicts. */
static const char schema_v3[] =
  /* Local edits of an account's agenda that Exchange has not seen yet, in
   * order; written in the transaction of the edit itself, so an edit is
   * never stored without its entry.  The sync engine sends them and clears
   * each one in the transaction that records the result.  Local-only items
   * have no entries. */
  "CREATE TABLE journal (\n"
  "  -- AUTOINCREMENT: seq is the order of the edits, and clearing an entry\n"
  "  -- by seq must never hit a newer entry that reused the number.\n"
  "  seq         INTEGER PRIMARY KEY AUTOINCREMENT,\n"
  "  account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
  "  -- No foreign key: a delete entry outlives its item.\n"
  "  item_id     INTEGER NOT NULL,\n"
  "  uid         TEXT    NOT NULL,\n"
  "  op          TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),\n"
  "  -- The link at the time of the edit: after a delete, nothing else\n"
  "  -- remembers which Exchange item to delete.\n"
  "  remote_id   TEXT,\n"
  "  change_key  TEXT,\n"
  "  created     INTEGER NOT NULL\n"
  ");\n"
  "CREATE INDEX journal_account ON journal (account_id, seq);\n"

  /* What a conflict lost.  When the server and the local agenda both
   * changed an appointment, the account's policy picks one; the other
   * version is kept here, never silently dropped, so the user can see and
   * restore it. */
  "CREATE TABLE conflicts (\n"
  "  id          INTEGER PRIMARY KEY AUTOINCREMENT,\n"
  "  account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,\n"
  "  item_uid    TEXT    NOT NULL,\n"
  "  -- The losing version as a VCALENDAR, as items.ical holds it.\n"
  "  ical        TEXT    NOT NULL,\n"
  "  created     INTEGER NOT NULL,  -- when the conflict was resolved\n"
  "  reason      TEXT    NOT NULL   -- for the user, e.g. both changed\n"
  ");\n"
  "CREATE INDEX conflicts_account ON conflicts (account_id, item_uid);\n";

/* Version 4: impersonation, and what an "auto" account learnt about its
 * server. */
static const char schema_v4[] =
  /* Sign in as the account's user (a service account) and act on the
   * mailbox "email" through ExchangeImpersonation.  Off for every account
   * that existed before: they sign in as their own mailbox. */
  "ALTER TABLE accounts ADD COLUMN\n"
  "  impersonate INTEGER NOT NULL DEFAULT 0 CHECK (impersonate IN (0, 1));\n"
  /* The RequestServerVersion the server was found to speak, and its build
   * ("15.1.2507.39"), so that the next connection of an "auto" account asks
   * for that version at once instead of starting from the oldest.  NULL
   * until known.  They belong to one server: changing the account's URL or
   * user clears them (agl-store.c). */
  "ALTER TABLE accounts ADD COLUMN detected_server_version TEXT;\n"
  "ALTER TABLE accounts ADD COLUMN server_build TEXT;\n";

/* Version 5: how the sync engine settles conflicts, and how often it polls
 * a server that offers no notifications. */
static const char schema_v5[] =
  "ALTER TABLE accounts ADD COLUMN conflict_policy TEXT NOT NULL DEFAULT 'exchange-wins'\n"
  "  CHECK (conflict_policy IN ('exchange-wins', 'local-wins', 'newer-wins'));\n"
  "ALTER TABLE accounts ADD COLUMN poll_interval INTEGER NOT NULL DEFAULT 60\n"
  "  CHECK (poll_interval BETWEEN 10 AND 86400);\n"
  /* The appointment as Exchange last had it (the version the link's change
   * key names): a local edit is sent as the fields that differ from it,
   * so a field changed only on Exchange is not overwritten.  NULL when
   * unknown (links written before version 5): then every field is sent. */
  "ALTER TABLE item_links ADD COLUMN base_ical TEXT;\n"
  /* 1 for an item Agendaline has just created whose creation no sync
   * page has reported yet.  SyncFolderItems from a state older than the
   * create folds a create and a delete made meanwhile into nothing: an
   * unconfirmed link still there after a complete sync is a deleted item. */
  "ALTER TABLE item_links ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0\n"
  "  CHECK (unconfirmed IN (0, 1));\n"
  /* What the engine last sent to Exchange for a journal entry, written
   * before the request goes out: when the answer is lost (a crash), the
   * retry's "conflict" with that very version is recognised as ours. */
  "ALTER TABLE journal ADD COLUMN sent_ical TEXT;\n";

/* Version 6: each account's presence and call-diversion rules as JSON
 * (agl_rules_to_json()); NULL for the defaults, so a change of the
 * defaults reaches every account that never set its own. */
static const char schema_v6[] =
  "ALTER TABLE accounts ADD COLUMN rules TEXT;\n";

typedef struct {
  int         version;
  const char *sql;
} SchemaStep;

/* steps[n] brings a database from version n to version n + 1. */
static const SchemaStep steps[] = {
  { 1, schema_v1 },
  { 2, schema_v2 },
  { 3, schema_v3 },
  { 4, schema_v4 },
  { 5, schema_v5 },
  { 6, schema_v6 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (steps) == AGL_STORE_SCHEMA_VERSION);

/**
 * agl_store_set_sqlite_error:
 * @error: return location for the error
 * @rc: the SQLite (extended) result code
 * @db: the connection that failed, for its message, or %NULL
 * @path: the database file, for the message
 *
 * Turns a SQLite failure into the AglError a user can act on: locked, read
 * only and damaged files have their own codes and advice.
 */
void
agl_store_set_sqlite_error (GError     **error,
                            int          rc,
                            sqlite3     *db,
                            const char  *path)
{
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_LOCKED,
                   _("The agenda database “%s” is locked by another program. Quit the "
                     "other Agendaline daemon, or the program using the file, and try again."),
                   path);
      break;

    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      /* CANTOPEN after the database itself is open means the -wal or -shm
       * file beside it could not be created: the folder is not writable. */
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_READ_ONLY,
                   _("The agenda database “%s” cannot be written (%s). "
                     "Make sure you can write to the file and to its folder."),
                   path, detail);
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_CORRUPT,
                   _("The agenda database “%s” is damaged or is not a database (%s). "
                     "Restore it from a backup, or move it away to start a new agenda."),
                   path, detail);
      break;

    case SQLITE_FULL:
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("The agenda database “%s” cannot grow: the disk is full. "
                     "Free some space and try again."),
                   path);
      break;

    case SQLITE_IOERR:
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("The agenda database “%s” could not be read or written (%s). "
                     "Check the disk and try again."),
                   path, detail);
      break;

    default:
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("The agenda database “%s” failed (%s). "
                     "Please report this as a bug."),
                   path, detail);
      break;
    }
}

/**
 * agl_store_exec:
 * @db: a connection
 * @sql: statements without parameters
 * @path: the database file, for messages
 * @error: return location for the error
 *
 * Runs fixed SQL (pragmas, transactions, schema steps).  Anything with a
 * value from outside goes through a prepared statement with bound
 * parameters instead.
 */
gboolean
agl_store_exec (sqlite3     *db,
                const char  *sql,
                const char  *path,
                GError     **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      agl_store_set_sqlite_error (error, rc, db, path);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_store_query_int:
 * @db: a connection
 * @sql: a statement without parameters returning one integer
 * @path: the database file, for messages
 * @value: (out): the integer
 * @error: return location for the error
 *
 * Reads one number, such as a pragma or a count.
 */
gboolean
agl_store_query_int (sqlite3     *db,
                     const char  *sql,
                     const char  *path,
                     gint64      *value,
                     GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      agl_store_set_sqlite_error (error, rc, db, path);
      return FALSE;
    }
  *value = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static void
set_too_new_error (GError     **error,
                   const char  *path,
                   gint64       version)
{
  g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_TOO_NEW,
               _("The agenda database “%s” was written by a newer Agendaline "
                 "(schema version %lld, this one knows up to %d). Install the newer "
                 "Agendaline again, or move the file away to start a new agenda."),
               path, (long long) version, AGL_STORE_SCHEMA_VERSION);
}

static gboolean
quick_check (sqlite3     *db,
             const char  *path,
             GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *result;
  int rc;

  /* quick_check rather than integrity_check: it finds damaged pages and
   * records in time proportional to the file, without checking that every
   * index matches its table, which would make each start slow. */
  rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check(1)", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      agl_store_set_sqlite_error (error, rc, db, path);
      return FALSE;
    }

  result = (const char *) sqlite3_column_text (stmt, 0);
  if (g_strcmp0 (result, "ok") != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_CORRUPT,
                   _("The agenda database “%s” is damaged (%s). "
                     "Restore it from a backup, or move it away to start a new agenda."),
                   path, result != NULL ? result : "?");
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_store_schema_check:
 * @db: a connection to the file, nothing written yet
 * @path: the file, for messages
 * @error: return location for %AGL_ERROR_STORE_FOREIGN,
 *   %AGL_ERROR_STORE_TOO_NEW, %AGL_ERROR_STORE_CORRUPT or a SQLite error
 *
 * Decides, by reading only, whether the file can become or already is an
 * Agendaline database of a version this build can migrate.  An empty file
 * (no tables, no version, no application id) passes: it becomes a new
 * store.
 */
gboolean
agl_store_schema_check (sqlite3     *db,
                        const char  *path,
                        GError     **error)
{
  gint64 application_id;
  gint64 version;
  gint64 n_objects;

  /* The first read is where a file of garbage shows up, as SQLITE_NOTADB. */
  if (!agl_store_query_int (db, "PRAGMA application_id", path, &application_id, error) ||
      !agl_store_query_int (db, "PRAGMA user_version", path, &version, error) ||
      !agl_store_query_int (db, "SELECT count(*) FROM sqlite_master", path, &n_objects, error))
    return FALSE;

  /* Another program's database, with its tables or its own version
   * numbering, or claimed by another application id: never take it over. */
  if (application_id != AGL_STORE_APPLICATION_ID &&
      (application_id != 0 || n_objects > 0 || version != 0))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_FOREIGN,
                   _("“%s” is a database of another program, not an Agendaline agenda. "
                     "Move it away, or set %s to another file."),
                   path, AGL_STORE_PATH_ENV);
      return FALSE;
    }

  if (version > AGL_STORE_SCHEMA_VERSION)
    {
      set_too_new_error (error, path, version);
      return FALSE;
    }

  /* Every step sets the version in the transaction that creates the
   * tables, so ours with tables but no version (or a negative one) has
   * been tampered with. */
  if (version < 0 || (version == 0 && n_objects > 0))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_STORE_CORRUPT,
                   _("The agenda database “%s” is damaged (its schema version is missing "
                     "or impossible). Restore it from a backup, or move it away to start a "
                     "new agenda."),
                   path);
      return FALSE;
    }

  return quick_check (db, path, error);
}

static void
rollback_quietly (sqlite3 *db)
{
  /* The error being reported is the one that made us roll back. */
  if (!sqlite3_get_autocommit (db))
    sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

/**
 * agl_store_schema_migrate:
 * @db: a connection that passed agl_store_schema_check()
 * @path: the file, for messages
 * @version: (out): the schema version now, %AGL_STORE_SCHEMA_VERSION
 * @error: return location for the error
 *
 * Brings the schema forward one step per transaction.  Even when there is
 * nothing to do it takes the write lock once, so that a database another
 * process holds, or one that cannot be written, is refused at open rather
 * than at the first edit.
 */
gboolean
agl_store_schema_migrate (sqlite3     *db,
                          const char  *path,
                          int         *version,
                          GError     **error)
{
  for (;;)
    {
      g_autofree char *set_version = NULL;
      const SchemaStep *step;
      gint64 current;

      if (!agl_store_exec (db, "BEGIN IMMEDIATE", path, error))
        return FALSE;

      /* Read again under the write lock: another process may have
       * migrated the file since it was checked. */
      if (!agl_store_query_int (db, "PRAGMA user_version", path, &current, error))
        goto fail;

      if (current > AGL_STORE_SCHEMA_VERSION)
        {
          set_too_new_error (error, path, current);
          goto fail;
        }
      if (current < 0)
        {
          agl_store_set_sqlite_error (error, SQLITE_CORRUPT, NULL, path);
          goto fail;
        }

      if (current == AGL_STORE_SCHEMA_VERSION)
        {
          if (!agl_store_exec (db, "COMMIT", path, error))
            goto fail;
          *version = (int) current;
          return TRUE;
        }

      step = &steps[current];
      g_assert (step->version == current + 1);

      /* Both pragmas are part of the database header, which is written in
       * the transaction like any page. */
      set_version = g_strdup_printf ("PRAGMA user_version = %d;\n"
                                     "PRAGMA application_id = %d;\n",
                                     step->version, AGL_STORE_APPLICATION_ID);
      if (!agl_store_exec (db, step->sql, path, error) ||
          !agl_store_exec (db, set_version, path, error) ||
          !agl_store_exec (db, "COMMIT", path, error))
        goto fail;

      g_debug ("Migrated %s to schema version %d", path, step->version);
    }

fail:
  rollback_quietly (db);
  return FALSE;
}
