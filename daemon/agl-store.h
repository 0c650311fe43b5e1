/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

#include "agl-account.h"
#include "agl-item.h"

G_BEGIN_DECLS

/* The schema version this build writes (PRAGMA user_version). */
#define AGL_STORE_SCHEMA_VERSION 6

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
 * @sent_ical: (nullable): the version last sent to Exchange for this entry
 *   (agl_store_mark_journal_sent()), %NULL before a first attempt
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
  char         *sent_ical;
} AglJournalEntry;

void agl_journal_entry_free (AglJournalEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglJournalEntry, agl_journal_entry_free)

/**
 * AglStoreRemoteKind:
 * @AGL_STORE_REMOTE_UPSERT: the remote item was created or changed
 * @AGL_STORE_REMOTE_DELETE: the remote item was deleted (or left the
 *   synchronised folder)
 * @AGL_STORE_REMOTE_CONFIRM: the page reports the version stored here
 *   already (the echo of our own write): nothing changes, but an
 *   unconfirmed link is confirmed
 *
 * What a change reported by the server did (the store's view of
 * #AglRemoteChangeKind: created and changed are both an upsert here).
 */
typedef enum {
  AGL_STORE_REMOTE_UPSERT,
  AGL_STORE_REMOTE_DELETE,
  AGL_STORE_REMOTE_CONFIRM,
} AglStoreRemoteKind;

/**
 * AglStoreRemoteChange:
 * @kind: upsert or delete
 * @remote_id: the Exchange ItemId, never %NULL or ""
 * @change_key: (nullable): the ChangeKey of the version in @item (upserts)
 * @item: (nullable): the appointment as the server has it, its fields made
 *   by agl-event.c (upserts only; %NULL for a delete).  Its @id is ignored
 *   and its @account must be %NULL or the account the page is applied to.
 *
 * One change of a page of SyncFolderItems, mapped to the local agenda.
 */
typedef struct {
  AglStoreRemoteKind  kind;
  char                *remote_id;
  char                *change_key;
  AglItem             *item;
} AglStoreRemoteChange;

void agl_store_remote_change_free (AglStoreRemoteChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglStoreRemoteChange, agl_store_remote_change_free)

/**
 * AglRemoteChangeSet:
 * @changes: (element-type AglStoreRemoteChange): the changes, in the order the
 *   server reported them; they are applied in that order
 *
 * One page of remote changes for agl_store_apply_remote_changes().  Build
 * it with agl_remote_change_set_new(), agl_remote_change_set_add_upsert()
 * and agl_remote_change_set_add_delete().
 */
typedef struct {
  GPtrArray *changes;
} AglRemoteChangeSet;

AglRemoteChangeSet *agl_remote_change_set_new        (void);
void                agl_remote_change_set_add_upsert (AglRemoteChangeSet *set,
                                                      const AglItem      *item,
                                                      const char         *remote_id,
                                                      const char         *change_key);
void                agl_remote_change_set_add_delete (AglRemoteChangeSet *set,
                                                      const char         *remote_id);
void                agl_remote_change_set_add_confirm (AglRemoteChangeSet *set,
                                                       const char         *remote_id);
void                agl_remote_change_set_free       (AglRemoteChangeSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteChangeSet, agl_remote_change_set_free)

/**
 * AglConflict:
 * @id: the record's id (0 before it is stored); ids are never reused
 * @account: the account whose agenda had the conflict
 * @item_uid: the UID of the appointment
 * @ical: the losing version, a VCALENDAR as #AglItem's @ical holds it
 * @reason: why it lost, for the user (e.g. "changed on both sides,
 *   Exchange wins")
 * @created: Unix time the conflict was settled (set by the store)
 *
 * The version of an appointment that lost a conflict, kept so that the
 * user can see and restore it (`agendalinectl conflicts`).
 */
typedef struct {
  gint64  id;
  char   *account;
  char   *item_uid;
  char   *ical;
  char   *reason;
  gint64  created;
} AglConflict;

AglConflict *agl_conflict_new  (const char *account,
                                const char *item_uid,
                                const char *ical,
                                const char *reason);
void         agl_conflict_free (AglConflict *conflict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglConflict, agl_conflict_free)

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
gboolean    agl_store_get_account_rules   (AglStore          *self,
                                           const char        *name,
                                           char             **rules,
                                           GError           **error);
gboolean    agl_store_set_account_rules   (AglStore          *self,
                                           const char        *name,
                                           const char        *rules,
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
gboolean    agl_store_mark_journal_sent   (AglStore          *self,
                                           gint64             seq,
                                           const char        *sent_ical,
                                           GError           **error);
gboolean    agl_store_clear_journal_entry (AglStore          *self,
                                           gint64             seq,
                                           GError           **error);

/* The sync engine's writes (issue 4).
 *
 * - agl_store_apply_remote_changes() stores a page of SyncFolderItems: the
 *   items, their links and the new sync state in ONE transaction
 *   (invariant 1).  It writes no journal entries and never overwrites an
 *   appointment with a pending local edit: it reports it instead.
 * - agl_store_complete_journal_entry() records what Exchange answered to a
 *   journal entry and clears the entry, in one transaction.
 * - Conflict records are added with the winning write (the @conflicts
 *   parameter of the two above) or on their own.
 * - A new account identity (invariant 3): agl_store_reset_sync_state(),
 *   then the engine re-links each remote item by
 *     1. Agendaline's local identity, read from the extended property;
 *     2. the UID (agl_store_apply_remote_changes() does this itself);
 *     3. start + end + subject (agl_store_find_item_by_times_and_summary()).
 *
 * The local identity that invariant 2 puts into the extended property is
 * "ITEM-ID/UID", the store's item id (never reused: AUTOINCREMENT) and the
 * item's UID.  Looking it up needs no function of its own: the engine
 * splits it, calls agl_store_get_item() and accepts the item only when it
 * is in the same account and has that UID.  That is why there is no
 * agl_store_find_item_by_local_identity().
 */
gboolean    agl_store_apply_remote_changes (AglStore                 *self,
                                            const char               *account,
                                            const char               *identity,
                                            const AglRemoteChangeSet *changes,
                                            const char               *new_sync_state,
                                            GPtrArray                *conflicts,
                                            GArray                   *conflict_candidates,
                                            AglStoreProgressFunc      progress,
                                            gpointer                  user_data,
                                            GError                  **error);
gboolean    agl_store_complete_journal_entry (AglStore           *self,
                                              gint64              seq,
                                              gint64              item_id,
                                              const char         *remote_id,
                                              const char         *change_key,
                                              const char         *base_ical,
                                              gboolean            created,
                                              GPtrArray          *conflicts,
                                              GError            **error);
gboolean    agl_store_reset_sync_state    (AglStore          *self,
                                           const char        *account,
                                           GError           **error);
AglItem    *agl_store_find_item_by_times_and_summary (AglStore    *self,
                                                      const char  *account,
                                                      gint64       start,
                                                      gint64       end,
                                                      const char  *summary,
                                                      GError     **error);

/**
 * AglSyncInfo:
 * @state: (nullable): the sync state of the identity asked about
 * @state_modified: when @state was stored (Unix time), 0 without one
 * @other_identity: the account has sync states or links that belong to
 *   another identity (the account was re-pointed: DESIGN.md invariant 3)
 * @n_items: the account's appointments
 * @n_linked: those linked to an Exchange item
 * @n_pending: journal entries waiting to go to Exchange
 * @n_conflicts: conflict records of the account
 *
 * Where an account's sync stands, read in one go.
 */
typedef struct {
  char     *state;
  gint64    state_modified;
  gboolean  other_identity;
  guint     n_items;
  guint     n_linked;
  guint     n_pending;
  guint     n_conflicts;
} AglSyncInfo;

void agl_sync_info_clear (AglSyncInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AglSyncInfo, agl_sync_info_clear)

/**
 * AglStoreSettle:
 * @AGL_STORE_SETTLE_TAKE_REMOTE: the appointment becomes the version from
 *   Exchange (added again when it was deleted here)
 * @AGL_STORE_SETTLE_DROP_LOCAL: the appointment goes (Exchange deleted it)
 *
 * How agl_store_settle_journal_entry() ends a conflict that Exchange won.
 */
typedef enum {
  AGL_STORE_SETTLE_TAKE_REMOTE,
  AGL_STORE_SETTLE_DROP_LOCAL,
} AglStoreSettle;

gboolean    agl_store_settle_journal_entry (AglStore         *self,
                                            gint64            seq,
                                            AglStoreSettle    outcome,
                                            const AglItem    *remote_item,
                                            const char       *remote_id,
                                            const char       *change_key,
                                            GPtrArray        *conflicts,
                                            gint64           *item_id,
                                            GError          **error);
gboolean    agl_store_retire_unlinked     (AglStore          *self,
                                           const char        *account,
                                           GArray            *item_ids,
                                           const char        *reason,
                                           guint             *n_retired,
                                           GError           **error);
GArray     *agl_store_list_linked_items   (AglStore          *self,
                                           const char        *account,
                                           GError           **error);

gboolean    agl_store_get_sync_info       (AglStore          *self,
                                           const char        *account,
                                           const char        *identity,
                                           AglSyncInfo       *info,
                                           GError           **error);
GPtrArray  *agl_store_list_unconfirmed    (AglStore          *self,
                                           const char        *account,
                                           GError           **error);
GHashTable *agl_store_get_change_keys     (AglStore          *self,
                                           const char        *account,
                                           GError           **error);
gboolean    agl_store_get_item_base       (AglStore          *self,
                                           gint64             item_id,
                                           char             **base_ical,
                                           GError           **error);

/* Conflict records. */
gboolean     agl_store_add_conflict       (AglStore          *self,
                                           const char        *account,
                                           const char        *item_uid,
                                           const char        *ical,
                                           const char        *reason,
                                           gint64            *id,
                                           GError           **error);
GPtrArray   *agl_store_list_conflicts     (AglStore          *self,
                                           const char        *account,
                                           GError           **error);
AglConflict *agl_store_take_conflict      (AglStore          *self,
                                           gint64             id,
                                           GError           **error);
gboolean     agl_store_restore_conflict   (AglStore          *self,
                                           gint64             id,
                                           AglItem          **item,
                                           GError           **error);

G_END_DECLS
