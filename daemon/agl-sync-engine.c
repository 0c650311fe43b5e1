/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The sync engine of one account: the local agenda and the account's
 * Exchange calendar kept in step, both ways.
 *
 * One sync ("cycle") is:
 *   1. connect (once): the backend from the service's connector, a
 *      connection test that names the server, and the account's identity
 *      (EWS URL + mailbox).  A store that holds links or a sync state of
 *      another identity is reset first (DESIGN.md invariant 3);
 *   2. pull: SyncFolderItems pages from the stored sync state, the items
 *      read in batches, each page stored with its new sync state in ONE
 *      transaction (invariant 1);
 *   3. push: the journal of local edits, oldest first, as CreateItem /
 *      UpdateItem / DeleteItem with the stored change key; each result is
 *      stored with the clearing of its entry in one transaction.  A create
 *      is sent only after looking for its local identity on the server
 *      (invariant 2), so a create whose answer was lost is linked, never
 *      made twice;
 *   4. conflicts (a stale change key, an item deleted on the other side)
 *      are settled by the account's policy, the losing version kept as a
 *      conflict record.
 * Pull comes before push: a change made in Exchange is seen (and an item
 * with a pending local edit is left alone by the store) before the local
 * edits go out.
 *
 * Three things make a crash at any instant harmless beyond invariant 1:
 *   - a change whose change key is the one stored (the echo of our own
 *     write) is not read again; it only confirms the link;
 *   - a link made by our CreateItem stays "unconfirmed" until a page
 *     reports the item; one still unconfirmed after a complete pull was
 *     deleted in Exchange before we saw it (SyncFolderItems folds a
 *     create and a delete into nothing), and goes here too;
 *   - what is sent for a journal entry is stored before the request goes
 *     out, so a retry whose change key is stale recognises Exchange's
 *     version as its own write (no false conflict).
 *   - after every complete pull, an appointment linked to nothing with no
 *     edit waiting is not in the mailbox (a re-pointed account, or a reset
 *     a crash cut short): it leaves the agenda as a conflict record.
 *
 * Notifications only wake the engine (invariant 4): a streaming
 * subscription, a pull subscription where streaming is refused, polling
 * where neither works.  Wakes during a cycle coalesce into one more cycle.
 * A failure makes the engine "offline" and retries with a growing,
 * jittered delay; any wake retries at once.
 */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-error.h"
#include "agl-event.h"
#include "agl-log.h"
#include "agl-sync-engine.h"
#include "ews/agl-ews-error.h"

/* Changes per SyncFolderItems page, and items per GetItem batch. */
#define PAGE_SIZE        512
#define GET_ITEMS_BATCH  64

/* The streaming connection's lifetime (Exchange allows 1 to 30 minutes);
 * it is re-issued as soon as the server closes it. */
#define WATCH_MINUTES    29

/* GetEvents of a pull subscription, this often (seconds): a change on
 * the server arrives within about this long when streaming is refused.
 * GetEvents is small and cheap for Exchange, as Microsoft's pull samples
 * assume. */
#define PULL_INTERVAL 1

/* Retry delays after a failure: 1 s doubling to 5 min, with jitter. */
#define RETRY_BASE_MS    1000
#define RETRY_CAP_MS     (5 * 60 * 1000)

struct _AglSyncEngine
{
  GObject            parent_instance;

  AglStore          *store;
  AglAccount        *account;
  AglSyncConnector   connector;

  AglRemote         *remote;
  char              *identity;
  char              *server_version;
  gboolean           relinking;      /* a first sync after a reset */

  GCancellable      *cancellable;    /* everything; cancelled by stop */
  gboolean           started;
  gboolean           running;
  gboolean           wake_pending;
  guint              retry_source;
  guint              retry_attempt;

  GPtrArray         *waiters;        /* GTask: want the next cycle */
  GPtrArray         *cycle_waiters;  /* GTask: the running cycle */
  AglSyncReport      report;
  gint64             cycle_started;  /* monotonic µs */
  GArray            *candidates;     /* items left alone by the pull */

  /* Notifications */
  AglSyncNotify      notify;
  gulong             changed_id;
  gulong             watch_state_id;
  guint              watch_source;
  guint              watch_failures;
  gboolean           watching;
  AglRemoteSubscription *pull;
  GCancellable      *watch_cancellable; /* the notifications of this remote */

  AglSyncStatus      status;
  gint64             last_sync;
  char              *last_error;
};

G_DEFINE_FINAL_TYPE (AglSyncEngine, agl_sync_engine, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void run_cycle   (AglSyncEngine *self);
static void start_watch (AglSyncEngine *self);
static void pull_page   (AglSyncEngine *self);
static void push_next   (AglSyncEngine *self);

/* Helpers */

static void
emit_changed (AglSyncEngine *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
set_status (AglSyncEngine *self,
            AglSyncStatus  status)
{
  if (self->status == status)
    return;
  self->status = status;
  emit_changed (self);
}

/* Logs with the account as a structured field, for `agendalinectl log`. */
#define engine_log(self, level, ...) \
  agl_log_account ((level), (self)->account->name, __VA_ARGS__)

typedef enum {
  FAILURE_OTHER,
  FAILURE_CONFLICT,
  FAILURE_NOT_FOUND,
  FAILURE_INVALID_STATE,
} Failure;

/* What a backend error means to the engine.  The EWS codes are the only
 * ones so far; a Graph backend adds its own here. */
static Failure
classify (const GError *error)
{
  if (error == NULL || error->domain != AGL_EWS_ERROR)
    return FAILURE_OTHER;
  switch (error->code)
    {
    case AGL_EWS_ERROR_IRRESOLVABLE_CONFLICT:
      return FAILURE_CONFLICT;
    case AGL_EWS_ERROR_ITEM_NOT_FOUND:
    case AGL_EWS_ERROR_INVALID_ID_MALFORMED:
    case AGL_EWS_ERROR_INVALID_ID_NOT_AN_ITEM_ATTACHMENT_ID:
      return FAILURE_NOT_FOUND;
    case AGL_EWS_ERROR_INVALID_SYNC_STATE_DATA:
      return FAILURE_INVALID_STATE;
    default:
      return FAILURE_OTHER;
    }
}

/**
 * agl_sync_engine_local_identity:
 * @item: a stored appointment
 *
 * The local identity Agendaline stores on the Exchange items it creates
 * (DESIGN.md invariant 2): "ITEM-ID/UID".
 *
 * Returns: (transfer full): the identity
 */
char *
agl_sync_engine_local_identity (const AglItem *item)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "/%s", item->id, item->uid);
}

static AglItem *
item_from_ical (const char  *ical,
                const char  *account,
                GError     **error)
{
  AglEvent *event = agl_event_new_from_string (ical, error);
  AglItem *item;

  if (event == NULL)
    return NULL;
  item = agl_event_to_item (event, account);
  agl_event_free (event);
  return item;
}

/* LAST-MODIFIED of the master (a UTC time as RFC 5545 wants it), Unix
 * time, or 0 when there is none. */
static gint64
last_modified (const char *ical)
{
  icalcomponent *root = ical != NULL ? icalparser_parse_string (ical) : NULL;
  icalcomponent *vevent;
  icalproperty *prop = NULL;
  gint64 when = 0;

  if (root == NULL)
    return 0;
  vevent = icalcomponent_isa (root) == ICAL_VEVENT_COMPONENT
           ? root : icalcomponent_get_first_component (root, ICAL_VEVENT_COMPONENT);
  if (vevent != NULL)
    prop = icalcomponent_get_first_property (vevent, ICAL_LASTMODIFIED_PROPERTY);
  if (prop != NULL)
    when = icaltime_as_timet_with_zone (icalproperty_get_lastmodified (prop),
                                        icaltimezone_get_utc_timezone ());
  icalcomponent_free (root);
  return when;
}

/* @ical with every VEVENT's UID set to @uid. */
static char *
replace_uid (const char *ical,
             const char *uid)
{
  icalcomponent *root = icalparser_parse_string (ical);
  char *text;

  if (root == NULL)
    return NULL;
  if (icalcomponent_isa (root) == ICAL_VEVENT_COMPONENT)
    icalcomponent_set_uid (root, uid);
  for (icalcomponent *c = icalcomponent_get_first_component (root, ICAL_VEVENT_COMPONENT);
       c != NULL; c = icalcomponent_get_next_component (root, ICAL_VEVENT_COMPONENT))
    icalcomponent_set_uid (c, uid);
  text = icalcomponent_as_ical_string_r (root);
  icalcomponent_free (root);
  return text;
}

/* Forgets the backend and everything watching it; the next cycle
 * connects afresh. */
static void
drop_remote (AglSyncEngine *self)
{
  if (self->watch_cancellable != NULL)
    g_cancellable_cancel (self->watch_cancellable);
  g_clear_object (&self->watch_cancellable);
  g_clear_handle_id (&self->watch_source, g_source_remove);
  if (self->remote != NULL && self->changed_id != 0)
    g_clear_signal_handler (&self->changed_id, self->remote);
  self->changed_id = 0;
  if (self->remote != NULL && self->watch_state_id != 0)
    g_clear_signal_handler (&self->watch_state_id, self->remote);
  self->watch_state_id = 0;
  if (self->remote != NULL && self->pull != NULL)
    agl_remote_unsubscribe_async (self->remote, self->pull->id, NULL, NULL, NULL);
  g_clear_pointer (&self->pull, agl_remote_subscription_free);
  self->watching = FALSE;
  self->notify = AGL_SYNC_NOTIFY_NONE;
  g_clear_object (&self->remote);
}

/* The cycle's end */

static void
return_waiters (AglSyncEngine *self,
                const GError  *error)
{
  g_autoptr(GPtrArray) waiters = g_steal_pointer (&self->cycle_waiters);

  self->cycle_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_pointer (task, g_memdup2 (&self->report, sizeof self->report), g_free);
    }
}

static gboolean
retry_cb (gpointer user_data)
{
  AglSyncEngine *self = user_data;

  self->retry_source = 0;
  run_cycle (self);
  return G_SOURCE_REMOVE;
}

static void
finish_cycle (AglSyncEngine *self,
              GError        *error)
{
  g_autoptr(AglSyncEngine) cycle_ref = self;  /* taken by run_cycle() */
  g_autoptr(GError) owned = error;

  self->running = FALSE;
  g_clear_pointer (&self->candidates, g_array_unref);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      return_waiters (self, error);
      return;
    }

  if (error != NULL)
    {
      guint window;
      guint delay;

      engine_log (self, G_LOG_LEVEL_WARNING, _("Sync failed: %s"), error->message);
      g_free (self->last_error);
      self->last_error = g_strdup (error->message);
      self->status = AGL_SYNC_STATUS_OFFLINE;
      /* Reconnect next time: the server or its sign-in may have changed. */
      if (error->domain != AGL_ERROR)
        drop_remote (self);
      return_waiters (self, error);

      window = MIN ((guint64) RETRY_CAP_MS, (guint64) RETRY_BASE_MS << MIN (self->retry_attempt, 20u));
      delay = window / 2 + g_random_int_range (0, (gint32) (window / 2 + 1));
      self->retry_attempt++;
      g_clear_handle_id (&self->retry_source, g_source_remove);
      if (!self->wake_pending && self->started)
        self->retry_source = g_timeout_add (delay, retry_cb, self);
      emit_changed (self);
    }
  else
    {
      self->report.seconds = (g_get_monotonic_time () - self->cycle_started) / 1e6;
      self->last_sync = g_get_real_time () / G_USEC_PER_SEC;
      g_clear_pointer (&self->last_error, g_free);
      self->retry_attempt = 0;
      self->status = AGL_SYNC_STATUS_ONLINE;
      if (self->report.received > 0 || self->report.sent > 0 || self->report.conflicts > 0)
        engine_log (self, G_LOG_LEVEL_INFO,
                    _("Synced in %.2f s: %u received, %u sent, %u conflicts"),
                    self->report.seconds, self->report.received, self->report.sent,
                    self->report.conflicts);
      return_waiters (self, NULL);
      emit_changed (self);
      if (!self->watching && self->started)
        start_watch (self);
    }

  if (self->wake_pending && self->started)
    {
      g_clear_handle_id (&self->retry_source, g_source_remove);
      run_cycle (self);
    }
}

/* Step 3: push the journal */

typedef struct {
  AglSyncEngine   *self;
  AglJournalEntry *entry;
  AglItem         *item;       /* the appointment now, NULL after a delete */
  char            *identity;   /* its local identity */
  GPtrArray       *found;      /* AglRemoteItem found by identity */
  AglRemoteItem   *remote;     /* Exchange's version, for a conflict */
  char            *remote_ical;
} Push;

static void
push_free (Push *push)
{
  agl_journal_entry_free (push->entry);
  g_clear_pointer (&push->item, agl_item_free);
  g_free (push->identity);
  g_clear_pointer (&push->found, g_ptr_array_unref);
  g_clear_pointer (&push->remote, agl_remote_item_free);
  g_free (push->remote_ical);
  g_free (push);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Push, push_free)

static void
push_done (Push   *push,
           GError *error)
{
  AglSyncEngine *self = push->self;

  push_free (push);
  if (error != NULL)
    {
      finish_cycle (self, error);
      return;
    }
  self->report.sent++;
  push_next (self);
}

static GPtrArray *
one_conflict (const char *account,
              const char *uid,
              const char *ical,
              const char *reason)
{
  GPtrArray *conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_conflict_free);

  g_ptr_array_add (conflicts, agl_conflict_new (account, uid, ical, reason));
  return conflicts;
}

static void
complete_entry_full (Push        *push,
                     const char  *remote_id,
                     const char  *change_key,
                     const char  *base_ical,
                     gboolean     created,
                     GPtrArray   *conflicts)
{
  GError *error = NULL;

  agl_store_complete_journal_entry (push->self->store, push->entry->seq, push->entry->item_id,
                                    remote_id, change_key, base_ical, created, conflicts, &error);
  push_done (push, error);
}

static void
complete_entry (Push        *push,
                const char  *remote_id,
                const char  *change_key,
                const char  *base_ical,
                GPtrArray   *conflicts)
{
  complete_entry_full (push, remote_id, change_key, base_ical, FALSE, conflicts);
}

static void create_remote (Push *push);
static void deleted_cb    (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);
static void updated_cb    (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data);

/* Exchange won: the appointment becomes its version, or goes. */
static void
settle_for_exchange (Push           *push,
                     AglStoreSettle  outcome,
                     const char     *reason)
{
  AglSyncEngine *self = push->self;
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autoptr(AglItem) remote_item = NULL;
  GError *error = NULL;

  if (push->item != NULL)
    conflicts = one_conflict (self->account->name, push->item->uid, push->item->ical, reason);
  if (outcome == AGL_STORE_SETTLE_TAKE_REMOTE)
    {
      remote_item = item_from_ical (push->remote->ical, self->account->name, &error);
      if (remote_item == NULL)
        {
          g_prefix_error (&error, _("Exchange’s version of “%s” cannot be read: "),
                          push->entry->uid);
          push_done (push, error);
          return;
        }
    }
  if (agl_store_settle_journal_entry (self->store, push->entry->seq, outcome, remote_item,
                                      push->remote != NULL ? push->remote->id : NULL,
                                      push->remote != NULL ? push->remote->change_key : NULL,
                                      conflicts, NULL, &error))
    {
      self->report.conflicts++;
      engine_log (self, G_LOG_LEVEL_MESSAGE, _("Conflict on “%s”: %s"),
                  push->item != NULL ? push->item->summary : push->entry->uid, reason);
    }
  push_done (push, error);
}

static void
local_wins_updated_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  g_autoptr(AglRemoteItem) written = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  GError *error = NULL;
  const char *reason;

  written = agl_remote_update_item_finish (AGL_REMOTE (source), result, &error);
  if (written == NULL)
    {
      /* Changed again meanwhile: the next cycle settles it afresh. */
      push_done (g_steal_pointer (&push), error);
      return;
    }
  reason = _("Changed both here and in Exchange; the version from here was kept.");
  conflicts = one_conflict (push->self->account->name, push->item->uid, push->remote->ical,
                            reason);
  push->self->report.conflicts++;
  engine_log (push->self, G_LOG_LEVEL_MESSAGE, _("Conflict on “%s”: %s"), push->item->summary,
              reason);
  {
    Push *owned = g_steal_pointer (&push);

    complete_entry (owned, written->id, written->change_key, owned->item->ical,
                    conflicts);
  }
}

static gboolean
local_wins (Push *push)
{
  switch (push->self->account->conflict_policy)
    {
    case AGL_CONFLICT_LOCAL_WINS:
      return TRUE;
    case AGL_CONFLICT_NEWER_WINS:
      /* The later edit wins; a tie, or an unknown time, goes to Exchange. */
      return push->entry->created > last_modified (push->remote->ical);
    case AGL_CONFLICT_EXCHANGE_WINS:
    default:
      return FALSE;
    }
}

static void
conflict_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  g_autoptr(GPtrArray) items = NULL;
  AglRemoteItem *remote;
  GError *error = NULL;

  items = agl_remote_get_items_finish (AGL_REMOTE (source), result, &error);
  if (items == NULL)
    {
      push_done (g_steal_pointer (&push), error);
      return;
    }
  remote = items->len > 0 ? g_ptr_array_index (items, 0) : NULL;
  if (remote == NULL || classify (remote->error) == FAILURE_NOT_FOUND)
    {
      /* Deleted in Exchange while changed here. */
      if (push->self->account->conflict_policy == AGL_CONFLICT_LOCAL_WINS)
        {
          create_remote (g_steal_pointer (&push));
          return;
        }
      settle_for_exchange (g_steal_pointer (&push), AGL_STORE_SETTLE_DROP_LOCAL,
                           _("Deleted in Exchange while changed here; the version from here "
                             "was kept as this record."));
      return;
    }
  if (remote->error != NULL || remote->ical == NULL)
    {
      error = remote->error != NULL ? g_error_copy (remote->error)
                                    : g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                                                   _("Exchange sent no content for “%s”."),
                                                   push->entry->uid);
      push_done (g_steal_pointer (&push), error);
      return;
    }
  g_clear_pointer (&push->remote, agl_remote_item_free);
  push->remote = g_ptr_array_steal_index (items, 0);

  /* Not a conflict after all: Exchange has our own write, whose answer
   * was lost (a crash), or nothing changed there since our link. */
  if (push->item != NULL && push->entry->sent_ical != NULL &&
      g_strcmp0 (push->entry->sent_ical, push->item->ical) != 0 &&
      agl_remote_same_content (push->self->remote, push->remote->ical, push->entry->sent_ical))
    {
      Push *owned = g_steal_pointer (&push);

      /* An earlier version of ours is there; send the newer one on it. */
      agl_remote_update_item_async (owned->self->remote, owned->remote->id,
                                    owned->remote->change_key, owned->remote->ical,
                                    owned->item->ical, AGL_REMOTE_CONFLICT_NEVER_OVERWRITE,
                                    AGL_REMOTE_SEND_NONE, owned->self->cancellable, updated_cb,
                                    owned);
      return;
    }
  if (push->item != NULL &&
      agl_remote_same_content (push->self->remote, push->remote->ical, push->item->ical))
    {
      {
        Push *owned = g_steal_pointer (&push);

        complete_entry (owned, owned->remote->id, owned->remote->change_key,
                        owned->remote->ical, NULL);
      }
      return;
    }
  if (push->item == NULL &&
      ((push->entry->change_key != NULL &&
        g_strcmp0 (push->remote->change_key, push->entry->change_key) == 0) ||
       (push->entry->sent_ical != NULL &&
        agl_remote_same_content (push->self->remote, push->remote->ical,
                                 push->entry->sent_ical))))
    {
      {
        Push *owned = g_steal_pointer (&push);

        agl_remote_delete_item_async (owned->self->remote, owned->remote->id,
                                      owned->remote->change_key, AGL_REMOTE_SEND_NONE,
                                      owned->self->cancellable, deleted_cb, owned);
      }
      return;
    }

  if (push->item == NULL)
    {
      /* Deleted here while changed in Exchange. */
      if (local_wins (push))
        {
          agl_remote_delete_item_async (push->self->remote, push->remote->id, NULL,
                                        AGL_REMOTE_SEND_NONE, push->self->cancellable,
                                        (GAsyncReadyCallback) NULL, NULL);
          complete_entry (g_steal_pointer (&push), NULL, NULL, NULL, NULL);
          return;
        }
      settle_for_exchange (g_steal_pointer (&push), AGL_STORE_SETTLE_TAKE_REMOTE,
                           _("Deleted here while changed in Exchange; Exchange’s version "
                             "was brought back."));
      return;
    }

  if (local_wins (push))
    {
      agl_remote_update_item_async (push->self->remote, push->remote->id,
                                    push->remote->change_key, push->remote->ical,
                                    push->item->ical, AGL_REMOTE_CONFLICT_NEVER_OVERWRITE,
                                    AGL_REMOTE_SEND_NONE, push->self->cancellable,
                                    local_wins_updated_cb, push);
      g_steal_pointer (&push);
      return;
    }
  settle_for_exchange (g_steal_pointer (&push), AGL_STORE_SETTLE_TAKE_REMOTE,
                       _("Changed both here and in Exchange; Exchange’s version was kept."));
}

static void
read_for_conflict (Push       *push,
                   const char *remote_id)
{
  const char *ids[] = { remote_id, NULL };

  agl_remote_get_items_async (push->self->remote, ids, push->self->cancellable,
                              conflict_read_cb, push);
}

static void
created_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  g_autoptr(AglRemoteItem) created = NULL;
  GError *error = NULL;

  created = agl_remote_create_item_finish (AGL_REMOTE (source), result, &error);
  if (created == NULL)
    {
      g_prefix_error (&error, _("“%s” could not be created in Exchange: "), push->item->summary);
      push_done (g_steal_pointer (&push), error);
      return;
    }
  {
    Push *owned = g_steal_pointer (&push);

    complete_entry_full (owned, created->id, created->change_key,
                         owned->item->ical, TRUE, NULL);
  }
}

static void
create_remote (Push *push)
{
  agl_remote_create_item_async (push->self->remote, push->item->ical, push->identity,
                                AGL_REMOTE_SEND_NONE, push->self->cancellable, created_cb, push);
}

static void
updated_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  g_autoptr(AglRemoteItem) written = NULL;
  GError *error = NULL;

  written = agl_remote_update_item_finish (AGL_REMOTE (source), result, &error);
  if (written == NULL)
    {
      switch (classify (error))
        {
        case FAILURE_CONFLICT:
        case FAILURE_NOT_FOUND:
          g_clear_error (&error);
          {
            Push *owned = g_steal_pointer (&push);

            read_for_conflict (owned, owned->entry->remote_id);
          }
          return;
        default:
          g_prefix_error (&error, _("“%s” could not be changed in Exchange: "),
                          push->item->summary);
          push_done (g_steal_pointer (&push), error);
          return;
        }
    }
  {
    Push *owned = g_steal_pointer (&push);

    complete_entry (owned, written->id != NULL ? written->id : owned->entry->remote_id,
                    written->change_key, owned->item->ical, NULL);
  }
}

static void
update_remote (Push       *push,
               const char *remote_id,
               const char *change_key)
{
  g_autofree char *base = NULL;
  GError *error = NULL;

  if (!agl_store_get_item_base (push->self->store, push->entry->item_id, &base, &error) ||
      !agl_store_mark_journal_sent (push->self->store, push->entry->seq, push->item->ical, &error))
    {
      push_done (push, error);
      return;
    }
  agl_remote_update_item_async (push->self->remote, remote_id, change_key, base,
                                push->item->ical, AGL_REMOTE_CONFLICT_NEVER_OVERWRITE,
                                AGL_REMOTE_SEND_NONE, push->self->cancellable, updated_cb, push);
}

static void
deleted_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  GError *error = NULL;

  if (!agl_remote_delete_item_finish (AGL_REMOTE (source), result, &error) &&
      classify (error) != FAILURE_NOT_FOUND)
    {
      g_prefix_error (&error, _("“%s” could not be deleted in Exchange: "), push->entry->uid);
      push_done (g_steal_pointer (&push), error);
      return;
    }
  g_clear_error (&error);
  complete_entry (g_steal_pointer (&push), NULL, NULL, NULL, NULL);
}

static void
found_deleted_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  GError *error = NULL;

  if (!agl_remote_delete_item_finish (AGL_REMOTE (source), result, &error) &&
      classify (error) != FAILURE_NOT_FOUND)
    {
      push_done (g_steal_pointer (&push), error);
      return;
    }
  g_clear_error (&error);
  g_ptr_array_remove_index (push->found, 0);
  if (push->found->len == 0)
    {
      complete_entry (g_steal_pointer (&push), NULL, NULL, NULL, NULL);
      return;
    }
  agl_remote_delete_item_async (push->self->remote,
                                ((AglRemoteItem *) g_ptr_array_index (push->found, 0))->id, NULL,
                                AGL_REMOTE_SEND_NONE, push->self->cancellable, found_deleted_cb,
                                push);
  g_steal_pointer (&push);
}

static void
found_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(Push) push = user_data;
  AglSyncEngine *self = push->self;
  GError *error = NULL;
  AglRemoteItem *first;

  push->found = agl_remote_find_by_local_identity_finish (AGL_REMOTE (source), result, &error);
  if (push->found == NULL)
    {
      push_done (g_steal_pointer (&push), error);
      return;
    }

  if (push->entry->op == AGL_JOURNAL_DELETE || push->item == NULL)
    {
      /* Deleted before its create was confirmed: delete what arrived. */
      if (push->found->len == 0)
        {
          complete_entry (g_steal_pointer (&push), NULL, NULL, NULL, NULL);
          return;
        }
      {
        Push *owned = g_steal_pointer (&push);

        agl_remote_delete_item_async (self->remote,
                                      ((AglRemoteItem *) g_ptr_array_index (owned->found, 0))->id,
                                      NULL, AGL_REMOTE_SEND_NONE, self->cancellable,
                                      found_deleted_cb, owned);
      }
      return;
    }

  if (push->found->len == 0)
    {
      create_remote (g_steal_pointer (&push));
      return;
    }

  /* The create went through before; its answer was lost. */
  first = g_ptr_array_index (push->found, 0);
  engine_log (self, G_LOG_LEVEL_INFO,
              _("“%s” was already in Exchange (a create whose answer was lost); linked it"),
              push->item->summary);
  for (guint i = 1; i < push->found->len; i++)
    {
      AglRemoteItem *extra = g_ptr_array_index (push->found, i);

      engine_log (self, G_LOG_LEVEL_WARNING, _("Removing a second copy of “%s” from Exchange"),
                  push->item->summary);
      agl_remote_delete_item_async (self->remote, extra->id, NULL, AGL_REMOTE_SEND_NONE,
                                    self->cancellable, NULL, NULL);
    }
  if (push->entry->op == AGL_JOURNAL_CREATE)
    {
      g_autofree char *id = g_strdup (first->id);
      g_autofree char *change_key = g_strdup (first->change_key);
      Push *owned = g_steal_pointer (&push);

      complete_entry (owned, id, change_key, owned->item->ical, NULL);
      return;
    }
  {
    g_autofree char *id = g_strdup (first->id);
    g_autofree char *change_key = g_strdup (first->change_key);

    /* An update of an item whose link was lost: send every field. */
    {
      Push *owned = g_steal_pointer (&push);

      agl_remote_update_item_async (self->remote, id, change_key, NULL, owned->item->ical,
                                    AGL_REMOTE_CONFLICT_NEVER_OVERWRITE, AGL_REMOTE_SEND_NONE,
                                    self->cancellable, updated_cb, owned);
    }
  }
}

static gboolean
is_candidate (AglSyncEngine *self,
              gint64         item_id)
{
  for (guint i = 0; self->candidates != NULL && i < self->candidates->len; i++)
    if (g_array_index (self->candidates, gint64, i) == item_id)
      return TRUE;
  return FALSE;
}

static void
push_entry (AglSyncEngine   *self,
            AglJournalEntry *entry)
{
  Push *push = g_new0 (Push, 1);
  g_autoptr(GError) error = NULL;

  push->self = self;
  push->entry = entry;
  push->item = agl_store_get_item (self->store, entry->item_id, &error);
  if (push->item == NULL && !g_error_matches (error, AGL_ERROR, AGL_ERROR_NOT_FOUND))
    {
      push_done (push, g_steal_pointer (&error));
      return;
    }
  g_clear_error (&error);
  if (push->item != NULL)
    push->identity = agl_sync_engine_local_identity (push->item);
  else
    push->identity = g_strdup_printf ("%" G_GINT64_FORMAT "/%s", entry->item_id, entry->uid);

  if (entry->op != AGL_JOURNAL_DELETE && push->item == NULL)
    {
      /* Deleted here since; its delete entry follows and does the rest
       * (it looks for the local identity when there is no link yet). */
      if (entry->remote_id != NULL)
        {
          complete_entry (push, entry->remote_id, entry->change_key, NULL, NULL);
        }
      else
        {
          GError *clear_error = NULL;

          agl_store_clear_journal_entry (self->store, entry->seq, &clear_error);
          push_done (push, clear_error);
        }
      return;
    }

  if (entry->remote_id == NULL)
    {
      /* Never linked (or the link belonged to another identity): look for
       * the local identity before creating anything (invariant 2). */
      agl_remote_find_by_local_identity_async (self->remote, push->identity, self->cancellable,
                                               found_cb, push);
      return;
    }

  switch (entry->op)
    {
    case AGL_JOURNAL_CREATE:
    case AGL_JOURNAL_UPDATE:
      update_remote (push, entry->remote_id, entry->change_key);
      break;
    case AGL_JOURNAL_DELETE:
      if (is_candidate (self, entry->item_id) &&
          self->account->conflict_policy != AGL_CONFLICT_LOCAL_WINS)
        {
          /* Changed in Exchange since: let the policy look at it. */
          read_for_conflict (push, entry->remote_id);
          return;
        }
      agl_remote_delete_item_async (self->remote, entry->remote_id, entry->change_key,
                                    AGL_REMOTE_SEND_NONE, self->cancellable, deleted_cb, push);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
push_next (AglSyncEngine *self)
{
  g_autoptr(GPtrArray) journal = NULL;
  GError *error = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    {
      finish_cycle (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               _("The sync was stopped.")));
      return;
    }
  journal = agl_store_list_journal (self->store, self->account->name, &error);
  if (journal == NULL)
    {
      finish_cycle (self, error);
      return;
    }
  if (journal->len == 0)
    {
      finish_cycle (self, NULL);
      return;
    }
  set_status (self, AGL_SYNC_STATUS_SYNCING);
  push_entry (self, g_ptr_array_steal_index (journal, 0));
}

/* Step 2: pull */

typedef struct {
  AglSyncEngine     *self;
  AglRemoteSyncPage *page;
  GPtrArray         *ids;      /* of created and changed items */
  GHashTable        *items;    /* id -> AglRemoteItem */
  GHashTable        *unchanged; /* ids whose version is stored here */
  guint              next;     /* next batch starts here */
} Pull;

static void
pull_free (Pull *pull)
{
  g_clear_pointer (&pull->page, agl_remote_sync_page_free);
  g_clear_pointer (&pull->ids, g_ptr_array_unref);
  g_clear_pointer (&pull->items, g_hash_table_unref);
  g_clear_pointer (&pull->unchanged, g_hash_table_unref);
  g_free (pull);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pull, pull_free)

/* A first sync of a new identity: a remote item that has no link and whose
 * UID is not in the account may still be one of ours under another UID;
 * start + end + subject finds it, and the remote item takes its UID, so
 * the store links it instead of adding a copy. */
static void
relink_by_times (AglSyncEngine *self,
                 AglItem       *item)
{
  g_autoptr(AglItem) by_uid = NULL;
  g_autoptr(AglItem) match = NULL;
  g_autoptr(AglItem) relinked = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ical = NULL;

  by_uid = agl_store_find_item_by_uid (self->store, self->account->name, item->uid, NULL);
  if (by_uid != NULL)
    return;
  match = agl_store_find_item_by_times_and_summary (self->store, self->account->name,
                                                    item->start, item->end,
                                                    item->summary != NULL ? item->summary : "",
                                                    &error);
  if (match == NULL)
    return;

  ical = replace_uid (item->ical, match->uid);
  relinked = ical != NULL ? item_from_ical (ical, self->account->name, NULL) : NULL;
  if (relinked == NULL)
    return;
  g_free (item->uid);
  item->uid = g_strdup (relinked->uid);
  g_free (item->ical);
  item->ical = g_steal_pointer (&relinked->ical);
}

static void
store_page (Pull *pull)
{
  AglSyncEngine *self = pull->self;
  g_autoptr(AglRemoteChangeSet) set = agl_remote_change_set_new ();
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean fresh = self->relinking;
  GError *error = NULL;

  for (guint i = 0; i < pull->page->changes->len; i++)
    {
      AglRemoteChange *change = g_ptr_array_index (pull->page->changes, i);
      AglRemoteItem *remote;
      g_autoptr(AglItem) item = NULL;
      g_autoptr(GError) item_error = NULL;

      if (change->kind == AGL_REMOTE_CHANGE_DELETE)
        {
          agl_remote_change_set_add_delete (set, change->id);
          continue;
        }
      if (g_hash_table_contains (pull->unchanged, change->id))
        {
          agl_remote_change_set_add_confirm (set, change->id);
          continue;
        }
      remote = g_hash_table_lookup (pull->items, change->id);
      if (remote == NULL || classify (remote->error) == FAILURE_NOT_FOUND)
        {
          /* Gone since the page was read: as good as deleted. */
          agl_remote_change_set_add_delete (set, change->id);
          continue;
        }
      if (remote->error != NULL || remote->ical == NULL)
        {
          engine_log (self, G_LOG_LEVEL_WARNING, _("Skipped an Exchange item that cannot be read: %s"),
                      remote->error != NULL ? remote->error->message : _("no content"));
          continue;
        }
      item = item_from_ical (remote->ical, self->account->name, &item_error);
      if (item == NULL)
        {
          engine_log (self, G_LOG_LEVEL_WARNING, _("Skipped an Exchange item: %s"),
                      item_error->message);
          continue;
        }
      if (fresh)
        relink_by_times (self, item);
      agl_remote_change_set_add_upsert (set, item, change->id,
                                        remote->change_key != NULL ? remote->change_key
                                                                   : change->change_key);
    }

  if (!agl_store_apply_remote_changes (self->store, self->account->name, self->identity, set,
                                       pull->page->state, NULL, candidates, NULL, NULL, &error))
    {
      g_prefix_error (&error, _("The changes from Exchange could not be stored: "));
      pull_free (pull);
      finish_cycle (self, error);
      return;
    }
  for (guint i = 0; i < set->changes->len; i++)
    if (((AglStoreRemoteChange *) g_ptr_array_index (set->changes, i))->kind != AGL_STORE_REMOTE_CONFIRM)
      self->report.received++;
  if (self->candidates == NULL)
    self->candidates = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_vals (self->candidates, candidates->data, candidates->len);
  if (set->changes->len > 0)
    emit_changed (self);

  if (!pull->page->includes_last)
    {
      pull_free (pull);
      pull_page (self);
      return;
    }

  /* Created here, yet not reported by a complete sync from a state older
   * than the create: deleted in Exchange meanwhile (SyncFolderItems folds
   * a create and a delete into nothing). */
  {
    g_autoptr(GPtrArray) unconfirmed = agl_store_list_unconfirmed (self->store,
                                                                   self->account->name, &error);
    g_autoptr(AglRemoteChangeSet) gone = agl_remote_change_set_new ();

    if (unconfirmed == NULL)
      {
        pull_free (pull);
        finish_cycle (self, error);
        return;
      }
    for (guint i = 0; i < unconfirmed->len; i++)
      agl_remote_change_set_add_delete (gone, g_ptr_array_index (unconfirmed, i));
    if (unconfirmed->len > 0)
      {
        engine_log (self, G_LOG_LEVEL_INFO,
                    g_dngettext (GETTEXT_PACKAGE,
                                 "%u appointment created here was deleted in Exchange before "
                                 "the next sync saw it",
                                 "%u appointments created here were deleted in Exchange before "
                                 "the next sync saw them", unconfirmed->len),
                    unconfirmed->len);
        if (!agl_store_apply_remote_changes (self->store, self->account->name, self->identity,
                                             gone, pull->page->state, NULL, NULL, NULL, NULL,
                                             &error))
          {
            pull_free (pull);
            finish_cycle (self, error);
            return;
          }
        self->report.received += unconfirmed->len;
      }
  }
  pull_free (pull);

  /* In step now: an appointment linked to nothing with no edit waiting
   * is not in the mailbox (the account was re-pointed, or a reset was cut
   * short by a crash).  It leaves the agenda as a conflict record. */
  {
    guint retired = 0;

    if (!agl_store_retire_unlinked (self->store, self->account->name, NULL,
                                    _("Not in the account’s mailbox; kept here so that it "
                                      "can be restored."),
                                    &retired, &error))
      {
        finish_cycle (self, error);
        return;
      }
    if (retired > 0)
      engine_log (self, G_LOG_LEVEL_MESSAGE,
                  g_dngettext (GETTEXT_PACKAGE,
                               "%u appointment is not in the mailbox and left the agenda (see "
                               "agendalinectl conflicts)",
                               "%u appointments are not in the mailbox and left the agenda (see "
                               "agendalinectl conflicts)", retired),
                  retired);
    self->relinking = FALSE;
  }
  push_next (self);
}

static void get_next_batch (Pull *pull);

static void
items_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Pull *pull = user_data;
  g_autoptr(GPtrArray) items = NULL;
  GError *error = NULL;

  items = agl_remote_get_items_finish (AGL_REMOTE (source), result, &error);
  if (items == NULL)
    {
      AglSyncEngine *self = pull->self;

      pull_free (pull);
      finish_cycle (self, error);
      return;
    }
  for (guint i = 0; i < items->len; i++)
    {
      AglRemoteItem *item = g_ptr_array_index (items, i);

      if (item->id != NULL)
        g_hash_table_replace (pull->items, g_strdup (item->id), item);
    }
  g_ptr_array_set_free_func (items, NULL);
  get_next_batch (pull);
}

static void
get_next_batch (Pull *pull)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();

  if (pull->next >= pull->ids->len)
    {
      store_page (pull);
      return;
    }
  for (guint i = pull->next; i < pull->ids->len && batch->len < GET_ITEMS_BATCH; i++)
    g_ptr_array_add (batch, g_ptr_array_index (pull->ids, i));
  pull->next += batch->len;
  g_ptr_array_add (batch, NULL);
  agl_remote_get_items_async (pull->self->remote, (const char * const *) batch->pdata,
                              pull->self->cancellable, items_read_cb, pull);
}

static void
page_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AglSyncEngine *self = user_data;
  g_autoptr(Pull) pull = g_new0 (Pull, 1);
  g_autoptr(GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) known = NULL;
  GError *error = NULL;

  pull->self = self;
  pull->page = agl_remote_sync_folder_items_finish (AGL_REMOTE (source), result, &error);
  if (pull->page == NULL)
    {
      if (classify (error) == FAILURE_INVALID_STATE && !self->relinking)
        {
          /* The server no longer knows the state (a restored mailbox):
           * start afresh and re-link, as for a new identity. */
          engine_log (self, G_LOG_LEVEL_WARNING, _("Exchange refused the stored sync state; "
                                                    "syncing the whole calendar again"));
          g_clear_error (&error);
          self->relinking = TRUE;
          if (agl_store_reset_sync_state (self->store, self->account->name, &error))
            {
              pull_page (self);
              return;
            }
        }
      finish_cycle (self, error);
      return;
    }

  known = agl_store_get_change_keys (self->store, self->account->name, &error);
  if (known == NULL)
    {
      finish_cycle (self, error);
      return;
    }
  pull->ids = g_ptr_array_new ();
  pull->unchanged = g_hash_table_new (g_str_hash, g_str_equal);
  pull->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) agl_remote_item_free);
  for (guint i = 0; i < pull->page->changes->len; i++)
    {
      AglRemoteChange *change = g_ptr_array_index (pull->page->changes, i);

      if (change->kind == AGL_REMOTE_CHANGE_DELETE)
        continue;
      /* The version stored here already: the echo of our own write. */
      if (change->change_key != NULL &&
          g_strcmp0 (g_hash_table_lookup (known, change->id), change->change_key) == 0)
        {
          g_hash_table_add (pull->unchanged, change->id);
          continue;
        }
      if (g_hash_table_add (wanted, change->id))
        g_ptr_array_add (pull->ids, change->id);
    }
  get_next_batch (g_steal_pointer (&pull));
}

static void
pull_page (AglSyncEngine *self)
{
  g_auto(AglSyncInfo) info = { 0 };
  GError *error = NULL;

  if (!agl_store_get_sync_info (self->store, self->account->name, self->identity, &info, &error))
    {
      finish_cycle (self, error);
      return;
    }
  agl_remote_sync_folder_items_async (self->remote, info.state, PAGE_SIZE, self->cancellable,
                                      page_cb, self);
}

/* Step 1: connect */

static void
begin_sync (AglSyncEngine *self)
{
  g_auto(AglSyncInfo) info = { 0 };
  GError *error = NULL;

  if (!agl_store_get_sync_info (self->store, self->account->name, self->identity, &info, &error))
    {
      finish_cycle (self, error);
      return;
    }
  if (info.other_identity && !self->relinking)
    {
      /* Re-pointed (DESIGN.md invariant 3): forget the old mailbox's ids
       * and states, keep the appointments to re-link them. */
      engine_log (self, G_LOG_LEVEL_MESSAGE,
                  _("The account now reaches another server or mailbox; starting a fresh "
                    "sync and re-linking its appointments"));
      self->relinking = TRUE;
      if (!agl_store_reset_sync_state (self->store, self->account->name, &error))
        {
          finish_cycle (self, error);
          return;
        }
    }
  set_status (self, AGL_SYNC_STATUS_SYNCING);
  pull_page (self);
}

static void
tested_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AglSyncEngine *self = user_data;
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autofree char *mailbox = NULL;
  GError *error = NULL;

  info = agl_remote_test_connection_finish (AGL_REMOTE (source), result, &error);
  if (info == NULL)
    {
      finish_cycle (self, error);
      return;
    }
  mailbox = g_utf8_strdown (self->account->email, -1);
  g_free (self->identity);
  self->identity = g_strdup_printf ("%s %s", info->url != NULL ? info->url : "", mailbox);
  g_free (self->server_version);
  self->server_version = g_strdup (info->server_version);
  engine_log (self, G_LOG_LEVEL_INFO, _("Connected to %s (%s)"),
              info->url != NULL ? info->url : "?",
              info->server_version != NULL ? info->server_version : "?");
  begin_sync (self);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AglSyncEngine *self = user_data;
  GError *error = NULL;
  AglRemote *remote;

  remote = self->connector.connect_finish (result, &error, self->connector.data);
  if (remote == NULL)
    {
      finish_cycle (self, error);
      return;
    }
  g_set_object (&self->remote, remote);
  g_object_unref (remote);
  agl_remote_test_connection_async (self->remote, self->cancellable, tested_cb, self);
}

static void
run_cycle (AglSyncEngine *self)
{
  if (!self->started)
    return;
  if (self->running)
    {
      self->wake_pending = TRUE;
      return;
    }
  g_clear_handle_id (&self->retry_source, g_source_remove);
  /* The cycle's callbacks hold the engine: the manager may drop it (the
   * account changed) while a request is out. */
  g_object_ref (self);
  self->running = TRUE;
  self->wake_pending = FALSE;
  memset (&self->report, 0, sizeof self->report);
  self->cycle_started = g_get_monotonic_time ();
  g_ptr_array_extend_and_steal (self->cycle_waiters, g_steal_pointer (&self->waiters));
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);

  if (self->remote == NULL || self->identity == NULL)
    {
      g_clear_pointer (&self->identity, g_free);
      set_status (self, AGL_SYNC_STATUS_CONNECTING);
      self->connector.connect_async (self->account, self->cancellable, connected_cb, self,
                                     self->connector.data);
      return;
    }
  begin_sync (self);
}

/* Notifications */

static void
remote_changed_cb (AglRemote *remote,
                   gpointer   user_data)
{
  AglSyncEngine *self = user_data;

  emit_changed (self);
  agl_sync_engine_wake (self);
}

static gboolean watch_again_cb (gpointer user_data);

static void
schedule_watch (AglSyncEngine *self,
                guint          seconds)
{
  g_clear_handle_id (&self->watch_source, g_source_remove);
  if (self->started)
    self->watch_source = g_timeout_add_seconds (seconds, watch_again_cb, self);
}

static void pull_events (AglSyncEngine *self);

static void
events_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(AglSyncEngine) self = user_data;
  g_autoptr(AglRemoteEvents) events = NULL;
  g_autoptr(GError) error = NULL;

  events = agl_remote_get_events_finish (AGL_REMOTE (source), result, &error);
  /* Cancelled, or about a backend dropped since. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      AGL_REMOTE (source) != self->remote)
    return;
  if (events == NULL)
    {
      /* Expired or unreachable: subscribe again later, and sync now in
       * case something was missed. */
      engine_log (self, G_LOG_LEVEL_INFO, _("Pull subscription lost: %s"), error->message);
      g_clear_pointer (&self->pull, agl_remote_subscription_free);
      agl_sync_engine_wake (self);
      schedule_watch (self, PULL_INTERVAL);
      return;
    }
  if (events->n_events > 0)
    agl_sync_engine_wake (self);
  if (events->more)
    pull_events (self);
  else
    schedule_watch (self, PULL_INTERVAL);
}

static void
pull_events (AglSyncEngine *self)
{
  agl_remote_get_events_async (self->remote, self->pull, self->watch_cancellable, events_cb,
                               g_object_ref (self));
}

static void
subscribed_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(AglSyncEngine) self = user_data;
  g_autoptr(GError) error = NULL;

  g_autoptr(AglRemoteSubscription) subscription = NULL;

  subscription = agl_remote_subscribe_finish (AGL_REMOTE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      AGL_REMOTE (source) != self->remote)
    return;
  g_clear_pointer (&self->pull, agl_remote_subscription_free);
  self->pull = g_steal_pointer (&subscription);
  if (self->pull == NULL)
    {
      engine_log (self, G_LOG_LEVEL_MESSAGE,
                  _("The server offers no notifications (%s); polling every %u s"),
                  error->message, self->account->poll_interval);
      self->notify = AGL_SYNC_NOTIFY_POLLING;
      emit_changed (self);
      schedule_watch (self, self->account->poll_interval);
      return;
    }
  self->notify = AGL_SYNC_NOTIFY_PULL;
  emit_changed (self);
  schedule_watch (self, PULL_INTERVAL);
}

static void
watch_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(AglSyncEngine) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean closed = agl_remote_watch_finish (AGL_REMOTE (source), result, &error);

  /* About a backend dropped since: its successor has its own watch. */
  if (AGL_REMOTE (source) != self->remote)
    return;
  if (closed)
    {
      /* Closed at its timeout: re-issue at once, nothing was lost. */
      self->watch_failures = 0;
      if (self->started && self->remote != NULL)
        agl_remote_watch_async (self->remote, WATCH_MINUTES, self->watch_cancellable, watch_cb,
                                g_object_ref (self));
      else
        self->watching = FALSE;
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      self->watching = FALSE;
      return;
    }
  if (g_error_matches (error, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED))
    {
      engine_log (self, G_LOG_LEVEL_MESSAGE,
                  _("The server refuses streaming notifications; using a pull subscription"));
      agl_remote_subscribe_async (self->remote, NULL, self->watch_cancellable, subscribed_cb,
                                    g_object_ref (self));
      return;
    }

  /* Dropped: re-issue after a backoff, and sync once since events may
   * have been missed while no connection was open. */
  self->watch_failures++;
  engine_log (self, G_LOG_LEVEL_INFO, _("Notification connection dropped: %s"), error->message);
  emit_changed (self);
  agl_sync_engine_wake (self);
  /* The first retry at once (a subscription lost twice in one call, a
   * server restart), then doubling. */
  schedule_watch (self, self->watch_failures <= 1 ? 0
                                                 : MIN (1u << MIN (self->watch_failures, 6u), 60u));
}

static gboolean
watch_again_cb (gpointer user_data)
{
  AglSyncEngine *self = user_data;

  self->watch_source = 0;
  if (!self->started || self->remote == NULL)
    {
      self->watching = FALSE;
      return G_SOURCE_REMOVE;
    }
  switch (self->notify)
    {
    case AGL_SYNC_NOTIFY_POLLING:
      agl_sync_engine_wake (self);
      schedule_watch (self, self->account->poll_interval);
      break;
    case AGL_SYNC_NOTIFY_PULL:
      if (self->pull != NULL)
        pull_events (self);
      else
        agl_remote_subscribe_async (self->remote, NULL, self->watch_cancellable, subscribed_cb,
                                    g_object_ref (self));
      break;
    case AGL_SYNC_NOTIFY_NONE:
    case AGL_SYNC_NOTIFY_STREAMING:
    default:
      agl_remote_watch_async (self->remote, WATCH_MINUTES, self->watch_cancellable, watch_cb,
                                g_object_ref (self));
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
start_watch (AglSyncEngine *self)
{
  if (self->watch_cancellable == NULL)
    self->watch_cancellable = g_cancellable_new ();
  self->watching = TRUE;
  self->notify = AGL_SYNC_NOTIFY_STREAMING;
  if (self->changed_id == 0)
    self->changed_id = g_signal_connect (self->remote, "changed",
                                         G_CALLBACK (remote_changed_cb), self);
  /* The subscription id and watermark are shown with the connection. */
  if (self->watch_state_id == 0)
    self->watch_state_id = g_signal_connect_swapped (self->remote, "watch-state-changed",
                                                     G_CALLBACK (emit_changed), self);
  agl_remote_watch_async (self->remote, WATCH_MINUTES, self->watch_cancellable, watch_cb,
                                g_object_ref (self));
  emit_changed (self);
}

/* GObject */

static void
agl_sync_engine_dispose (GObject *object)
{
  AglSyncEngine *self = AGL_SYNC_ENGINE (object);

  agl_sync_engine_stop (self);
  G_OBJECT_CLASS (agl_sync_engine_parent_class)->dispose (object);
}

static void
agl_sync_engine_finalize (GObject *object)
{
  AglSyncEngine *self = AGL_SYNC_ENGINE (object);

  g_clear_object (&self->store);
  agl_account_free (self->account);
  g_free (self->identity);
  g_free (self->server_version);
  g_clear_object (&self->cancellable);
  g_ptr_array_unref (self->waiters);
  g_ptr_array_unref (self->cycle_waiters);
  g_clear_pointer (&self->candidates, g_array_unref);
  g_free (self->last_error);
  G_OBJECT_CLASS (agl_sync_engine_parent_class)->finalize (object);
}

static void
agl_sync_engine_class_init (AglSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_sync_engine_dispose;
  object_class->finalize = agl_sync_engine_finalize;

  /**
   * AglSyncEngine::changed:
   *
   * Something agl_sync_engine_get_connection() reports changed.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
agl_sync_engine_init (AglSyncEngine *self)
{
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->cycle_waiters = g_ptr_array_new_with_free_func (g_object_unref);
  self->status = AGL_SYNC_STATUS_CONNECTING;
}

/**
 * agl_sync_engine_new:
 * @store: the store
 * @account: the account (copied)
 * @connector: how to reach its server (copied)
 *
 * Returns: (transfer full): a stopped engine; agl_sync_engine_start() it
 */
AglSyncEngine *
agl_sync_engine_new (AglStore               *store,
                     const AglAccount       *account,
                     const AglSyncConnector *connector)
{
  AglSyncEngine *self;

  g_return_val_if_fail (AGL_IS_STORE (store), NULL);
  g_return_val_if_fail (account != NULL && connector != NULL, NULL);

  self = g_object_new (AGL_TYPE_SYNC_ENGINE, NULL);
  self->store = g_object_ref (store);
  self->account = agl_account_copy (account);
  self->connector = *connector;
  return self;
}

/**
 * agl_sync_engine_get_account:
 * @self: an engine
 *
 * Returns: (transfer none): the account it syncs
 */
const AglAccount *
agl_sync_engine_get_account (AglSyncEngine *self)
{
  g_return_val_if_fail (AGL_IS_SYNC_ENGINE (self), NULL);
  return self->account;
}

/**
 * agl_sync_engine_start:
 * @self: an engine
 *
 * Connects and syncs, then keeps in step until stopped.
 */
void
agl_sync_engine_start (AglSyncEngine *self)
{
  g_return_if_fail (AGL_IS_SYNC_ENGINE (self));

  if (self->started)
    return;
  self->started = TRUE;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  run_cycle (self);
}

/**
 * agl_sync_engine_stop:
 * @self: an engine
 *
 * Cancels what runs (a cycle's current request; what was stored stays
 * stored) and the notifications.  Waiting callers get
 * %G_IO_ERROR_CANCELLED.
 */
void
agl_sync_engine_stop (AglSyncEngine *self)
{
  g_return_if_fail (AGL_IS_SYNC_ENGINE (self));

  self->started = FALSE;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->watch_source, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  drop_remote (self);
  for (guint i = 0; self->waiters != NULL && i < self->waiters->len; i++)
    g_task_return_new_error (g_ptr_array_index (self->waiters, i), G_IO_ERROR,
                             G_IO_ERROR_CANCELLED, _("The account’s sync was stopped."));
  if (self->waiters != NULL)
    g_ptr_array_set_size (self->waiters, 0);
}

/**
 * agl_sync_engine_wake:
 * @self: an engine
 *
 * Something changed (a local edit, a notification): sync now, or right
 * after the running sync.
 */
void
agl_sync_engine_wake (AglSyncEngine *self)
{
  g_return_if_fail (AGL_IS_SYNC_ENGINE (self));
  run_cycle (self);
}

/**
 * agl_sync_engine_sync_async:
 * @self: a started engine
 * @cancellable: (nullable): stops waiting (the sync goes on)
 * @callback: called when a sync that started after this call has finished
 * @user_data: for @callback
 */
void
agl_sync_engine_sync_async (AglSyncEngine       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (AGL_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_sync_engine_sync_async);
  if (!self->started)
    {
      g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                               _("The account “%s” is disabled; enable it to sync."),
                               self->account->name);
      g_object_unref (task);
      return;
    }
  g_ptr_array_add (self->waiters, task);
  if (self->running)
    self->wake_pending = TRUE;
  else
    run_cycle (self);
}

/**
 * agl_sync_engine_sync_finish:
 * @self: an engine
 * @result: the result
 * @report: (out) (optional): what the sync did
 * @error: return location
 *
 * Returns: whether the sync succeeded
 */
gboolean
agl_sync_engine_sync_finish (AglSyncEngine  *self,
                             GAsyncResult   *result,
                             AglSyncReport  *report,
                             GError        **error)
{
  g_autofree AglSyncReport *done = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  done = g_task_propagate_pointer (G_TASK (result), error);
  if (done == NULL)
    return FALSE;
  if (report != NULL)
    *report = *done;
  return TRUE;
}

/**
 * agl_sync_connection_clear:
 * @connection: filled by agl_sync_engine_get_connection()
 */
void
agl_sync_connection_clear (AglSyncConnection *connection)
{
  g_clear_pointer (&connection->subscription_id, g_free);
  g_clear_pointer (&connection->watermark, g_free);
  g_clear_pointer (&connection->last_error, g_free);
  g_clear_pointer (&connection->server_version, g_free);
}

/**
 * agl_sync_engine_get_connection:
 * @self: an engine
 * @connection: (out caller-allocates): where the engine stands
 */
void
agl_sync_engine_get_connection (AglSyncEngine     *self,
                                AglSyncConnection *connection)
{
  g_return_if_fail (AGL_IS_SYNC_ENGINE (self));

  memset (connection, 0, sizeof *connection);
  connection->status = self->status;
  connection->notify = self->watching || self->watch_source != 0 || self->pull != NULL
                       ? self->notify : AGL_SYNC_NOTIFY_NONE;
  if (self->notify == AGL_SYNC_NOTIFY_STREAMING && self->remote != NULL)
    {
      connection->subscription_id = g_strdup (agl_remote_get_subscription_id (self->remote));
      connection->watermark = g_strdup (agl_remote_get_watermark (self->remote));
    }
  else if (self->notify == AGL_SYNC_NOTIFY_PULL && self->pull != NULL)
    {
      connection->subscription_id = g_strdup (self->pull->id);
      connection->watermark = g_strdup (self->pull->watermark);
    }
  connection->last_sync = self->last_sync;
  connection->last_error = g_strdup (self->last_error);
  connection->server_version = g_strdup (self->server_version);
}

/**
 * agl_sync_engine_get_remote:
 * @self: an engine
 *
 * Returns: (transfer none) (nullable): the backend once connected
 */
AglRemote *
agl_sync_engine_get_remote (AglSyncEngine *self)
{
  g_return_val_if_fail (AGL_IS_SYNC_ENGINE (self), NULL);
  return self->remote;
}

/**
 * agl_sync_engine_get_identity:
 * @self: an engine
 *
 * Returns: (nullable): the account's identity (EWS URL + mailbox) once
 *   connected
 */
const char *
agl_sync_engine_get_identity (AglSyncEngine *self)
{
  g_return_val_if_fail (AGL_IS_SYNC_ENGINE (self), NULL);
  return self->identity;
}
