/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AGL_TYPE_REMOTE (agl_remote_get_type ())

G_DECLARE_DERIVABLE_TYPE (AglRemote, agl_remote, AGL, REMOTE, GObject)

#define AGL_REMOTE_ERROR (agl_remote_error_quark ())

/**
 * AglRemoteError:
 * @AGL_REMOTE_ERROR_NOT_SUPPORTED: the server refuses this kind of request
 *   (e.g. streaming subscriptions switched off): use another way
 *
 * Errors of the interface itself; a backend's own failures keep their
 * domain (AGL_EWS_ERROR …).
 */
typedef enum {
  AGL_REMOTE_ERROR_NOT_SUPPORTED,
} AglRemoteError;

GQuark agl_remote_error_quark (void);

/*
 * The remote side of one account, whatever protocol reaches it: EWS now,
 * Microsoft Graph later.  The sync engine uses only this interface.  Items
 * cross it as iCalendar text (a VCALENDAR with the VEVENT, its
 * RECURRENCE-ID overrides and the VTIMEZONEs they use); ids, change keys and
 * sync states are opaque strings of the backend (an EWS ItemId/ChangeKey/
 * SyncState, a Graph id/@odata.etag/deltaLink).
 */

typedef enum {
  AGL_REMOTE_CHANGE_CREATE,
  AGL_REMOTE_CHANGE_UPDATE,
  AGL_REMOTE_CHANGE_DELETE,
} AglRemoteChangeKind;

/**
 * AglRemoteChange:
 * @kind: created, changed or deleted on the server
 * @id: the item's remote id
 * @change_key: (nullable): its version (not for a delete)
 *
 * One change of a sync page.  The item itself is read with get_items.
 */
typedef struct {
  AglRemoteChangeKind kind;
  char               *id;
  char               *change_key;
} AglRemoteChange;

/**
 * AglRemoteSyncPage:
 * @state: the sync state after this page; store it in the transaction that
 *   stores the page's changes (DESIGN.md invariant 1)
 * @includes_last: %TRUE when the folder is in step, no page follows
 * @changes: (element-type AglRemoteChange): the changes, in server order
 */
typedef struct {
  char      *state;
  gboolean   includes_last;
  GPtrArray *changes;
} AglRemoteSyncPage;

/**
 * AglRemoteItem:
 * @error: (nullable): this item's failure (not found, stale change key …);
 *   the other fields are then %NULL except @id
 * @id: the remote id
 * @change_key: (nullable): its current version
 * @ical: (nullable): the VCALENDAR text (get_items only)
 * @local_identity: (nullable): the local identity Agendaline stored on the
 *   item when it created it (DESIGN.md invariant 2), else %NULL
 *
 * One item read, created or changed.
 */
typedef struct {
  GError *error;
  char   *id;
  char   *change_key;
  char   *ical;
  char   *local_identity;
} AglRemoteItem;

/**
 * AglRemoteFolder:
 * @id: the calendar folder's id
 * @change_key: (nullable): its version
 */
typedef struct {
  char *id;
  char *change_key;
} AglRemoteFolder;

/**
 * AglRemoteInfo:
 * @url: the endpoint used
 * @product: e.g. "Microsoft Exchange"
 * @server_version: the server's build, e.g. "15.1.2507.39"
 * @mailbox: the mailbox reached
 * @impersonation: "not used", "works", or the error
 * @calendar_folder: the calendar folder's id
 *
 * What a connection test found.
 */
typedef struct {
  char *url;
  char *product;
  char *server_version;
  char *mailbox;
  char *impersonation;
  char *calendar_folder;
} AglRemoteInfo;

/**
 * AglRemoteOccurrence:
 * @id: the occurrence's id
 * @summary: (nullable): its subject
 * @start: its start
 * @end: its end
 * @free_busy: (nullable): Free, Tentative, Busy, OOF, WorkingElsewhere
 *
 * One occurrence of a calendar view.
 */
typedef struct {
  char      *id;
  char      *summary;
  GDateTime *start;
  GDateTime *end;
  char      *free_busy;
} AglRemoteOccurrence;

typedef enum {
  AGL_REMOTE_OOF_DISABLED,
  AGL_REMOTE_OOF_ENABLED,
  AGL_REMOTE_OOF_SCHEDULED,
} AglRemoteOofState;

/**
 * AglRemoteOof:
 * @state: off, on, or on between @start and @end
 * @start: (nullable): the scheduled start (UTC)
 * @end: (nullable): the scheduled end (UTC)
 * @internal_reply: (nullable): the reply to colleagues
 * @external_reply: (nullable): the reply to others
 */
typedef struct {
  AglRemoteOofState state;
  GDateTime        *start;
  GDateTime        *end;
  char             *internal_reply;
  char             *external_reply;
} AglRemoteOof;

/**
 * AglRemoteSubscription:
 * @id: the subscription's id
 * @watermark: (nullable): where the events resume
 */
typedef struct {
  char *id;
  char *watermark;
} AglRemoteSubscription;

/**
 * AglRemoteEvents:
 * @watermark: (nullable): the newest watermark; pass it next time
 * @n_events: how many change events arrived (hints: the caller syncs)
 * @more: %TRUE when more events wait on the server
 */
typedef struct {
  char     *watermark;
  guint     n_events;
  gboolean  more;
} AglRemoteEvents;

typedef enum {
  AGL_REMOTE_SEND_NONE,
  AGL_REMOTE_SEND_TO_ALL,
} AglRemoteSendMode;

typedef enum {
  AGL_REMOTE_CONFLICT_NEVER_OVERWRITE,
  AGL_REMOTE_CONFLICT_AUTO_RESOLVE,
  AGL_REMOTE_CONFLICT_ALWAYS_OVERWRITE,
} AglRemoteConflict;

/**
 * AglRemoteClass:
 * @test_connection_async: reach the server, sign in, read the calendar
 *   folder; finish returns an #AglRemoteInfo
 * @get_calendar_folder_async: finish returns an #AglRemoteFolder
 * @sync_folder_items_async: one page of changes after @state (%NULL: from
 *   the start), at most @max_changes; finish returns an #AglRemoteSyncPage
 * @get_items_async: read items in one batch; finish returns a #GPtrArray of
 *   #AglRemoteItem in request order, each with its own error
 * @create_item_async: create the VCALENDAR @ical carrying @local_identity;
 *   finish returns the new #AglRemoteItem (id and change key)
 * @update_item_async: change item @id from @old_ical to @new_ical, based on
 *   @change_key, with @conflict; finish returns the #AglRemoteItem with its
 *   new change key, or an error (a stale change key with NEVER_OVERWRITE is
 *   a conflict error)
 * @delete_item_async: delete item @id at @change_key; finish returns a
 *   boolean
 * @find_calendar_view_async: the occurrences in [@start, @end); finish
 *   returns a #GPtrArray of #AglRemoteOccurrence
 * @get_oof_settings_async: finish returns an #AglRemoteOof
 * @subscribe_async: subscribe to calendar changes after @watermark (%NULL:
 *   from now); finish returns an #AglRemoteSubscription
 * @get_events_async: the events since the subscription's watermark; finish
 *   returns an #AglRemoteEvents
 * @unsubscribe_async: end a subscription; finish returns a boolean
 * @find_by_local_identity_async: the items of the calendar folder whose
 *   Agendaline extended property holds @local_identity (DESIGN.md
 *   invariant 2: a create is retried only after this found nothing);
 *   finish returns a #GPtrArray of #AglRemoteItem with @id, @change_key and
 *   @local_identity set (@ical %NULL), empty when there is none
 * @watch_async: keep a push channel of change hints open (EWS: a streaming
 *   subscription read with GetStreamingEvents for @minutes minutes).  While
 *   it is open, every notification about items emits #AglRemote::changed,
 *   and agl_remote_get_subscription_id() / agl_remote_get_watermark() tell
 *   where it stands.  Finish returns %TRUE when the server closed the
 *   channel normally at its timeout (call again at once: the subscription
 *   continues, nothing is lost), or an error: a dropped connection (call
 *   again after a backoff), or %AGL_REMOTE_ERROR_NOT_SUPPORTED when the
 *   server refuses push subscriptions (use subscribe/get_events instead).
 *   A subscription that expired on the server is replaced by a new one by
 *   the backend itself, with one #AglRemote::changed emission since events
 *   may have been missed.
 * @same_content: whether the server would hold the two VCALENDARs alike
 *   (an update from one to the other would change nothing it keeps); not
 *   asynchronous: no request is made.  %FALSE when unsure.
 *
 * The vfuncs, all asynchronous with a finish each; a backend implements
 * every pair.  Errors are the backend's domain (AGL_EWS_ERROR …) with a
 * sentence naming the cause.
 */
struct _AglRemoteClass
{
  GObjectClass parent_class;

  void                   (*test_connection_async)     (AglRemote           *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteInfo         *(*test_connection_finish)    (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*get_calendar_folder_async) (AglRemote           *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteFolder       *(*get_calendar_folder_finish) (AglRemote          *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);

  void                   (*sync_folder_items_async)   (AglRemote           *self,
                                                       const char          *state,
                                                       guint                max_changes,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteSyncPage     *(*sync_folder_items_finish)  (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*get_items_async)           (AglRemote           *self,
                                                       const char * const  *ids,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  GPtrArray             *(*get_items_finish)          (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*create_item_async)         (AglRemote           *self,
                                                       const char          *ical,
                                                       const char          *local_identity,
                                                       AglRemoteSendMode    send,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteItem         *(*create_item_finish)        (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*update_item_async)         (AglRemote           *self,
                                                       const char          *id,
                                                       const char          *change_key,
                                                       const char          *old_ical,
                                                       const char          *new_ical,
                                                       AglRemoteConflict    conflict,
                                                       AglRemoteSendMode    send,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteItem         *(*update_item_finish)        (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*delete_item_async)         (AglRemote           *self,
                                                       const char          *id,
                                                       const char          *change_key,
                                                       AglRemoteSendMode    send,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  gboolean               (*delete_item_finish)        (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*find_calendar_view_async)  (AglRemote           *self,
                                                       GDateTime           *start,
                                                       GDateTime           *end,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  GPtrArray             *(*find_calendar_view_finish) (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*get_oof_settings_async)    (AglRemote           *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteOof          *(*get_oof_settings_finish)   (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*subscribe_async)           (AglRemote           *self,
                                                       const char          *watermark,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  AglRemoteSubscription *(*subscribe_finish)          (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*get_events_async)          (AglRemote             *self,
                                                       AglRemoteSubscription *subscription,
                                                       GCancellable          *cancellable,
                                                       GAsyncReadyCallback    callback,
                                                       gpointer               user_data);
  AglRemoteEvents       *(*get_events_finish)         (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*unsubscribe_async)         (AglRemote           *self,
                                                       const char          *subscription_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  gboolean               (*unsubscribe_finish)        (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  void                   (*find_by_local_identity_async)  (AglRemote           *self,
                                                           const char          *local_identity,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
  GPtrArray             *(*find_by_local_identity_finish) (AglRemote           *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

  void                   (*watch_async)               (AglRemote           *self,
                                                       guint                minutes,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
  gboolean               (*watch_finish)              (AglRemote           *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

  gboolean               (*same_content)              (AglRemote           *self,
                                                       const char          *ical,
                                                       const char          *other_ical);

  gpointer padding[3];
};

void agl_remote_change_free       (AglRemoteChange       *change);
void agl_remote_sync_page_free    (AglRemoteSyncPage     *page);
void agl_remote_item_free         (AglRemoteItem         *item);
void agl_remote_folder_free       (AglRemoteFolder       *folder);
void agl_remote_info_free         (AglRemoteInfo         *info);
void agl_remote_occurrence_free   (AglRemoteOccurrence   *occurrence);
void agl_remote_oof_free          (AglRemoteOof          *oof);
void agl_remote_subscription_free (AglRemoteSubscription *subscription);
void agl_remote_events_free       (AglRemoteEvents       *events);

void                   agl_remote_test_connection_async      (AglRemote           *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteInfo         *agl_remote_test_connection_finish     (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_get_calendar_folder_async  (AglRemote           *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteFolder       *agl_remote_get_calendar_folder_finish (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_sync_folder_items_async    (AglRemote           *self,
                                                              const char          *state,
                                                              guint                max_changes,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteSyncPage     *agl_remote_sync_folder_items_finish   (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_get_items_async            (AglRemote           *self,
                                                              const char * const  *ids,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
GPtrArray             *agl_remote_get_items_finish           (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_create_item_async          (AglRemote           *self,
                                                              const char          *ical,
                                                              const char          *local_identity,
                                                              AglRemoteSendMode    send,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteItem         *agl_remote_create_item_finish         (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_update_item_async          (AglRemote           *self,
                                                              const char          *id,
                                                              const char          *change_key,
                                                              const char          *old_ical,
                                                              const char          *new_ical,
                                                              AglRemoteConflict    conflict,
                                                              AglRemoteSendMode    send,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteItem         *agl_remote_update_item_finish         (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_delete_item_async          (AglRemote           *self,
                                                              const char          *id,
                                                              const char          *change_key,
                                                              AglRemoteSendMode    send,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean               agl_remote_delete_item_finish         (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_find_calendar_view_async   (AglRemote           *self,
                                                              GDateTime           *start,
                                                              GDateTime           *end,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
GPtrArray             *agl_remote_find_calendar_view_finish  (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_get_oof_settings_async     (AglRemote           *self,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteOof          *agl_remote_get_oof_settings_finish    (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_subscribe_async            (AglRemote           *self,
                                                              const char          *watermark,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
AglRemoteSubscription *agl_remote_subscribe_finish           (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_get_events_async           (AglRemote             *self,
                                                              AglRemoteSubscription *subscription,
                                                              GCancellable          *cancellable,
                                                              GAsyncReadyCallback    callback,
                                                              gpointer               user_data);
AglRemoteEvents       *agl_remote_get_events_finish          (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);
void                   agl_remote_unsubscribe_async          (AglRemote           *self,
                                                              const char          *subscription_id,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean               agl_remote_unsubscribe_finish         (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

void                   agl_remote_find_by_local_identity_async  (AglRemote           *self,
                                                                 const char          *local_identity,
                                                                 GCancellable        *cancellable,
                                                                 GAsyncReadyCallback  callback,
                                                                 gpointer             user_data);
GPtrArray             *agl_remote_find_by_local_identity_finish (AglRemote           *self,
                                                                 GAsyncResult        *result,
                                                                 GError             **error);
void                   agl_remote_watch_async                (AglRemote           *self,
                                                              guint                minutes,
                                                              GCancellable        *cancellable,
                                                              GAsyncReadyCallback  callback,
                                                              gpointer             user_data);
gboolean               agl_remote_watch_finish               (AglRemote           *self,
                                                              GAsyncResult        *result,
                                                              GError             **error);

gboolean               agl_remote_same_content               (AglRemote           *self,
                                                              const char          *ical,
                                                              const char          *other_ical);

/* Where the push channel stands (for `agendalinectl connections`); %NULL
 * while none is open.  Backends report it with agl_remote_set_watch_state()
 * and their hints with agl_remote_emit_changed(). */
const char            *agl_remote_get_subscription_id        (AglRemote           *self);
const char            *agl_remote_get_watermark              (AglRemote           *self);
void                   agl_remote_set_watch_state            (AglRemote           *self,
                                                              const char          *subscription_id,
                                                              const char          *watermark);
void                   agl_remote_emit_changed               (AglRemote           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteChange, agl_remote_change_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteSyncPage, agl_remote_sync_page_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteItem, agl_remote_item_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteFolder, agl_remote_folder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteInfo, agl_remote_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteOccurrence, agl_remote_occurrence_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteOof, agl_remote_oof_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteSubscription, agl_remote_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglRemoteEvents, agl_remote_events_free)

G_END_DECLS
