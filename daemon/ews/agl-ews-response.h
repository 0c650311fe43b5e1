/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "agl-ews-error.h"

G_BEGIN_DECLS

/*
 * Typed readers of the responses Agendaline uses.  Each takes a document
 * parsed by AglEwsParser and returns a newly allocated result, or %NULL with
 * an #AGL_EWS_ERROR: a soap:Fault becomes its ResponseCode, a response of
 * the wrong operation or shape %AGL_EWS_ERROR_INVALID_RESPONSE.  A
 * ResponseMessage with ResponseClass="Error" becomes its ResponseCode (per
 * item in the batch operations); ResponseClass="Warning" counts as success
 * and is logged.
 */

typedef enum {
  AGL_EWS_RESPONSE_CLASS_SUCCESS,
  AGL_EWS_RESPONSE_CLASS_WARNING,
  AGL_EWS_RESPONSE_CLASS_ERROR,
} AglEwsResponseClass;

/**
 * AglEwsResponseMessage:
 * @response_class: ResponseClass
 * @code: the ResponseCode; %AGL_EWS_ERROR_INVALID_RESPONSE for a name the
 *   schema does not know (see @code_name)
 * @code_name: the ResponseCode as sent
 * @message_text: (nullable): MessageText
 * @back_off_ms: MessageXml BackOffMilliseconds (ErrorServerBusy), or -1
 * @node: (transfer none): the element, valid as long as the document
 *
 * One m:*ResponseMessage.
 */
typedef struct {
  AglEwsResponseClass response_class;
  AglEwsError         code;
  char               *code_name;
  char               *message_text;
  gint64              back_off_ms;
  xmlNode            *node;
} AglEwsResponseMessage;

void       agl_ews_response_message_free     (AglEwsResponseMessage *message);
GError    *agl_ews_response_message_to_error (const AglEwsResponseMessage *message);
GPtrArray *agl_ews_response_read_messages    (xmlDoc      *doc,
                                              const char  *operation,
                                              GError     **error);

/**
 * AglEwsFolderInfo:
 * @folder_id: FolderId Id
 * @change_key: FolderId ChangeKey
 * @total_count: TotalCount, or -1 when not sent
 */
typedef struct {
  char  *folder_id;
  char  *change_key;
  gint64 total_count;
} AglEwsFolderInfo;

void              agl_ews_folder_info_free        (AglEwsFolderInfo *info);
AglEwsFolderInfo *agl_ews_response_read_get_folder (xmlDoc  *doc,
                                                    GError **error);

typedef enum {
  AGL_EWS_SYNC_CREATE,
  AGL_EWS_SYNC_UPDATE,
  AGL_EWS_SYNC_DELETE,
} AglEwsSyncChangeKind;

/**
 * AglEwsSyncChange:
 * @kind: Create, Update or Delete
 * @item_id: ItemId Id
 * @change_key: (nullable): ItemId ChangeKey
 * @element_name: (nullable): the item's element ("CalendarItem",
 *   "MeetingRequest", "Message" …); %NULL for a Delete
 * @item_class: (nullable): ItemClass when the shape asked for it
 *
 * One change of a SyncFolderItems page.  ReadFlagChange is left out: it does
 * not change an appointment.
 */
typedef struct {
  AglEwsSyncChangeKind kind;
  char                *item_id;
  char                *change_key;
  char                *element_name;
  char                *item_class;
} AglEwsSyncChange;

/**
 * AglEwsSyncResult:
 * @sync_state: the state to store with the changes and send next time
 * @includes_last_item_in_range: %TRUE when no more pages follow
 * @changes: (element-type AglEwsSyncChange): the changes in server order
 */
typedef struct {
  char      *sync_state;
  gboolean   includes_last_item_in_range;
  GPtrArray *changes;
} AglEwsSyncResult;

void              agl_ews_sync_result_free (AglEwsSyncResult *result);
AglEwsSyncResult *agl_ews_response_read_sync_folder_items (xmlDoc  *doc,
                                                           GError **error);

/**
 * AglEwsItemResult:
 * @error: (nullable): this item's failure (e.g. ErrorIrresolvableConflict),
 *   %NULL on success
 * @item_id: (nullable): ItemId Id of the item returned
 * @change_key: (nullable): its new ChangeKey
 * @element_name: (nullable): the item's element, e.g. "CalendarItem"
 * @item: (nullable): GetItem only: a document whose root is a copy of the
 *   item element (namespaces redeclared on it), for the mapping code; owned
 *   by the result until the caller takes it with g_steal_pointer()
 * @conflict_count: UpdateItem ConflictResults Count, or -1
 *
 * The outcome for one item of GetItem, CreateItem, UpdateItem or DeleteItem,
 * in request order.
 */
typedef struct {
  GError *error;
  char   *item_id;
  char   *change_key;
  char   *element_name;
  xmlDoc *item;
  gint64  conflict_count;
} AglEwsItemResult;

void       agl_ews_item_result_free            (AglEwsItemResult *result);
GPtrArray *agl_ews_response_read_get_item      (xmlDoc  *doc,
                                                GError **error);
GPtrArray *agl_ews_response_read_create_item   (xmlDoc  *doc,
                                                GError **error);
GPtrArray *agl_ews_response_read_update_item   (xmlDoc  *doc,
                                                GError **error);
GPtrArray *agl_ews_response_read_delete_item   (xmlDoc  *doc,
                                                GError **error);

/**
 * AglEwsCalendarViewItem:
 * @item_id: ItemId Id (an occurrence's own id)
 * @change_key: (nullable): its ChangeKey
 * @subject: (nullable): Subject
 * @start: (nullable): Start
 * @end: (nullable): End
 * @legacy_free_busy_status: (nullable): Free, Tentative, Busy, OOF,
 *   WorkingElsewhere or NoData, as sent
 * @calendar_item_type: (nullable): Single, Occurrence, Exception or
 *   RecurringMaster
 */
typedef struct {
  char      *item_id;
  char      *change_key;
  char      *subject;
  GDateTime *start;
  GDateTime *end;
  char      *legacy_free_busy_status;
  char      *calendar_item_type;
} AglEwsCalendarViewItem;

/**
 * AglEwsCalendarView:
 * @total_items_in_view: TotalItemsInView, or -1
 * @includes_last_item_in_range: %FALSE when MaxEntriesReturned cut the view
 * @items: (element-type AglEwsCalendarViewItem): the occurrences
 */
typedef struct {
  gint64     total_items_in_view;
  gboolean   includes_last_item_in_range;
  GPtrArray *items;
} AglEwsCalendarView;

void                agl_ews_calendar_view_free (AglEwsCalendarView *view);
AglEwsCalendarView *agl_ews_response_read_find_item_calendar_view (xmlDoc  *doc,
                                                                   GError **error);

GPtrArray          *agl_ews_response_read_find_item (xmlDoc  *doc,
                                                     GError **error);

typedef enum {
  AGL_EWS_OOF_DISABLED,
  AGL_EWS_OOF_ENABLED,
  AGL_EWS_OOF_SCHEDULED,
} AglEwsOofState;

/**
 * AglEwsOofSettings:
 * @state: OofState
 * @external_audience: (nullable): None, Known or All
 * @start: (nullable): Duration StartTime (UTC)
 * @end: (nullable): Duration EndTime (UTC)
 * @internal_reply: (nullable): InternalReply Message
 * @external_reply: (nullable): ExternalReply Message
 */
typedef struct {
  AglEwsOofState state;
  char          *external_audience;
  GDateTime     *start;
  GDateTime     *end;
  char          *internal_reply;
  char          *external_reply;
} AglEwsOofSettings;

void               agl_ews_oof_settings_free (AglEwsOofSettings *settings);
AglEwsOofSettings *agl_ews_response_read_get_user_oof_settings (xmlDoc  *doc,
                                                                GError **error);

/**
 * AglEwsSubscription:
 * @subscription_id: SubscriptionId
 * @watermark: (nullable): Watermark (pull subscriptions)
 */
typedef struct {
  char *subscription_id;
  char *watermark;
} AglEwsSubscription;

void                agl_ews_subscription_free (AglEwsSubscription *subscription);
AglEwsSubscription *agl_ews_response_read_subscribe (xmlDoc  *doc,
                                                     GError **error);

typedef enum {
  AGL_EWS_EVENT_KIND_COPIED,
  AGL_EWS_EVENT_KIND_CREATED,
  AGL_EWS_EVENT_KIND_DELETED,
  AGL_EWS_EVENT_KIND_MODIFIED,
  AGL_EWS_EVENT_KIND_MOVED,
  AGL_EWS_EVENT_KIND_NEW_MAIL,
  AGL_EWS_EVENT_KIND_FREE_BUSY_CHANGED,
  AGL_EWS_EVENT_KIND_STATUS,
} AglEwsEventKind;

/**
 * AglEwsEvent:
 * @kind: the event element
 * @watermark: (nullable): Watermark
 * @timestamp: (nullable): TimeStamp
 * @is_folder: %TRUE when the event is about a folder (FolderId)
 * @id: (nullable): ItemId or FolderId Id
 * @change_key: (nullable): its ChangeKey
 * @parent_folder_id: (nullable): ParentFolderId Id
 * @old_id: (nullable): OldItemId or OldFolderId Id (moves and copies)
 * @old_parent_folder_id: (nullable): OldParentFolderId Id
 *
 * A notification event: a hint to sync, never the data itself.
 */
typedef struct {
  AglEwsEventKind kind;
  char           *watermark;
  GDateTime      *timestamp;
  gboolean        is_folder;
  char           *id;
  char           *change_key;
  char           *parent_folder_id;
  char           *old_id;
  char           *old_parent_folder_id;
} AglEwsEvent;

/**
 * AglEwsNotification:
 * @subscription_id: SubscriptionId
 * @previous_watermark: (nullable): PreviousWatermark
 * @more_events: MoreEvents (pull)
 * @events: (element-type AglEwsEvent): the events in order
 */
typedef struct {
  char      *subscription_id;
  char      *previous_watermark;
  gboolean   more_events;
  GPtrArray *events;
} AglEwsNotification;

typedef enum {
  AGL_EWS_CONNECTION_STATUS_NONE,
  AGL_EWS_CONNECTION_STATUS_OK,
  AGL_EWS_CONNECTION_STATUS_CLOSED,
} AglEwsConnectionStatus;

/**
 * AglEwsStreamingEvents:
 * @connection_status: ConnectionStatus, NONE when the envelope has none
 * @notifications: (element-type AglEwsNotification): the notifications
 * @error_subscription_ids: (nullable): ErrorSubscriptionIds of a failed
 *   subscription
 *
 * One GetStreamingEvents envelope (a streaming connection sends several).
 */
typedef struct {
  AglEwsConnectionStatus connection_status;
  GPtrArray             *notifications;
  GStrv                  error_subscription_ids;
} AglEwsStreamingEvents;

void                   agl_ews_notification_free     (AglEwsNotification *notification);
void                   agl_ews_streaming_events_free (AglEwsStreamingEvents *events);
AglEwsStreamingEvents *agl_ews_response_read_get_streaming_events (xmlDoc  *doc,
                                                                   GError **error);
AglEwsNotification    *agl_ews_response_read_get_events (xmlDoc  *doc,
                                                         GError **error);
gboolean               agl_ews_response_read_unsubscribe (xmlDoc  *doc,
                                                          GError **error);

typedef enum {
  AGL_EWS_AUTODISCOVER_SETTINGS,
  AGL_EWS_AUTODISCOVER_REDIRECT_ADDR,
  AGL_EWS_AUTODISCOVER_REDIRECT_URL,
} AglEwsAutodiscoverAction;

/**
 * AglEwsAutodiscover:
 * @action: settings, or a redirect to follow
 * @ews_url: (nullable): EwsUrl of the EXCH protocol, else of EXPR
 * @redirect: (nullable): RedirectAddr or RedirectUrl
 * @display_name: (nullable): User DisplayName
 * @smtp_address: (nullable): User AutoDiscoverSMTPAddress
 */
typedef struct {
  AglEwsAutodiscoverAction action;
  char                    *ews_url;
  char                    *redirect;
  char                    *display_name;
  char                    *smtp_address;
} AglEwsAutodiscover;

void                agl_ews_autodiscover_free (AglEwsAutodiscover *autodiscover);
AglEwsAutodiscover *agl_ews_response_read_autodiscover (xmlDoc  *doc,
                                                        GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsResponseMessage, agl_ews_response_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsFolderInfo, agl_ews_folder_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsSyncResult, agl_ews_sync_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsItemResult, agl_ews_item_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsCalendarView, agl_ews_calendar_view_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsOofSettings, agl_ews_oof_settings_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsSubscription, agl_ews_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsNotification, agl_ews_notification_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsStreamingEvents, agl_ews_streaming_events_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsAutodiscover, agl_ews_autodiscover_free)

G_END_DECLS
