/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "agl-account.h"
#include "agl-item.h"

G_BEGIN_DECLS

/* The schema version this build writes (PRAGMA user_version). */
#define AGL_STORE_SCHEMA_VERSION 4

/* PRAGMA application_id of an Agendaline database: "AGL1". */
#define AGL_STORE_APPLICATION_ID 0x41474C31

/* Environment variable that overrides the database path (tests, demos). */
#define AGL_STORE_PATH_ENV "AGENDALINE_DB"

typedef enum {
  AGL_STORE_ACCOUNT_ADDED,
  AGL_STORE_ACCOUNT_CHANGED,
  AGL_STORE_ACCOUNT_REMOVED,
} AglStoreAccountChange;

/**
 * AglJournalOp:
 *
 * What a local edit did, for the sync engine to send to Exchange.
 */
typedef enum {
  AGL_JOURNAL_CREATE,
  AGL_JOURNAL_UPDATE,
  AGL_JOURNAL_DELETE,
} AglJournalOp;

/**
 * AglJournalEntry:
 * @seq: journal order
 * @account: the account
 * @item_id: the local item (still valid for create and update)
 * @uid: the item's UID
 * @op: create, update or delete
 * @remote_id: the linked remote item at the time of the edit, or %NULL
 * @change_key: its change key at the time of the edit, or %NULL
 * @created: Unix time of the edit
 *
 * A local edit of an account's agenda that Exchange has not seen yet.
 */
typedef struct {
  gint64        seq;
  char         *account;
  gint64        item_id;
  char         *uid;
  AglJournalOp  op;
  char         *remote_id;
  char         *change_key;
  gint64        created;
} AglJournalEntry;

void agl_journal_entry_free (AglJournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglJournalEntry, agl_journal_entry_free)

/**
 * AglStoreProgressFunc:
 * @done: items written so far
 * @total: items to write
 * @user_data: closure
 *
 * Called inside a long write's transaction after each item.
 */
typedef void (*AglStoreProgressFunc) (guint    done,
                                      guint    total,
                                      gpointer user_data);

#define AGL_TYPE_STORE (agl_store_get_type ())
G_DECLARE_FINAL_TYPE (AglStore, agl_store, AGL, STORE, GObject)

char       *agl_store_default_path        (void);

AglStore   *agl_store_open                (const char  *path,
                                           GError     **error);
const char *agl_store_get_path            (AglStore    *self);
int         agl_store_get_schema_version  (AglStore    *self);

/* Accounts */
gboolean    agl_store_add_account         (AglStore          *self,
                                           AglAccount        *account,
                                           GError           **error);
gboolean    agl_store_update_account      (AglStore          *self,
                                           const AglAccount  *account,
                                           GError           **error);
gboolean    agl_store_remove_account      (AglStore          *self,
                                           const char        *name,
                                           GError           **error);
AglAccount *agl_store_get_account         (AglStore          *self,
                                           const char        *name,
                                           GError           **error);
GPtrArray  *agl_store_list_accounts       (AglStore          *self,
                                           GError           **error);
gboolean    agl_store_set_account_server  (AglStore          *self,
                                           const AglAccount  *account,
                                           const char        *detected_server_version,
                                           const char        *server_build,
                                           GError           **error);

/* Items */
gboolean    agl_store_add_item            (AglStore          *self,
                                           AglItem           *item,
                                           GError           **error);
gboolean    agl_store_update_item         (AglStore          *self,
                                           const AglItem     *item,
                                           GError           **error);
gboolean    agl_store_delete_item         (AglStore          *self,
                                           gint64             id,
                                           GError           **error);
AglItem    *agl_store_get_item            (AglStore          *self,
                                           gint64             id,
                                           GError           **error);
AglItem    *agl_store_find_item_by_uid    (AglStore          *self,
                                           const char        *account,
                                           const char        *uid,
                                           GError           **error);
GPtrArray  *agl_store_list_items          (AglStore          *self,
                                           const char        *account,
                                           gint64             from,
                                           gint64             to,
                                           GError           **error);
gboolean    agl_store_import_items        (AglStore            *self,
                                           const char          *account,
                                           GPtrArray           *items,
                                           GArray              *created_ids,
                                           GArray              *updated_ids,
                                           AglStoreProgressFunc progress,
                                           gpointer             user_data,
                                           GError             **error);
gboolean    agl_store_count               (AglStore          *self,
                                           guint             *n_accounts,
                                           guint             *n_enabled_accounts,
                                           guint             *n_items,
                                           GError           **error);

/* Sync bookkeeping, for the sync engine.
 *
 * The tables behind these (schema versions 2 and 3) are shaped for the sync
 * engine's own write, which stores the changes of a SyncFolderItems page,
 * their links and the new sync state in one transaction (DESIGN.md,
 * invariant 1).  That is why there is no separate setter for the sync
 * state: a state must never be stored apart from the changes it covers.
 *
 * - sync_states: one SyncState per account AND identity (EWS URL +
 *   mailbox); a state of another identity is never returned.
 * - item_links: the Exchange ItemId and ChangeKey of an account's
 *   appointment; gone with the appointment.
 * - journal: local edits of accounts' agendas, appended by add/update/
 *   delete/import in the edit's own transaction (local-only items have
 *   none).
 * - conflicts: the losing version of a conflict, for the user.
 */
gboolean    agl_store_get_sync_state      (AglStore          *self,
                                           const char        *account,
                                           const char        *identity,
                                           char             **sync_state,
                                           GError           **error);
gboolean    agl_store_set_item_link       (AglStore          *self,
                                           gint64             item_id,
                                           const char        *remote_id,
                                           const char        *change_key,
                                           GError           **error);
gboolean    agl_store_get_item_link       (AglStore          *self,
                                           gint64             item_id,
                                           char             **remote_id,
                                           char             **change_key,
                                           GError           **error);
GPtrArray  *agl_store_list_journal        (AglStore          *self,
                                           const char        *account,
                                           GError           **error);
gboolean    agl_store_clear_journal_entry (AglStore          *self,
                                           gint64             seq,
                                           GError           **error);

G_END_DECLS
