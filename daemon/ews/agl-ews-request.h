/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/xmlwriter.h>

#include "agl-ews-xml.h"

G_BEGIN_DECLS

/* Agendaline's own MAPI property set: every item Agendaline creates carries
 * its local identity in the named property AGL_EWS_PROPERTY_LOCAL_ID of this
 * set (DESIGN.md invariant 2).  The GUID was generated once with uuidgen for
 * this purpose and must never change: items already on servers carry it. */
#define AGL_EWS_PROPERTY_SET_ID "86dc477f-65a3-4bc8-99a6-47a3f13320bd"
#define AGL_EWS_PROPERTY_LOCAL_ID "AgendalineLocalId"

/**
 * AglEwsRequestHeaders:
 * @server_version: (nullable): RequestServerVersion, one of Exchange2007_SP1,
 *   Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013,
 *   Exchange2013_SP1, Exchange2016; %NULL for none
 * @impersonate_smtp: (nullable): ExchangeImpersonation of this
 *   PrimarySmtpAddress (service accounts); %NULL for none
 * @time_zone_id: (nullable): TimeZoneContext TimeZoneDefinition Id, a
 *   Windows zone such as "W. Europe Standard Time"; %NULL for none
 *
 * The SOAP headers of a request.  A %NULL headers pointer means none.
 */
typedef struct {
  const char *server_version;
  const char *impersonate_smtp;
  const char *time_zone_id;
} AglEwsRequestHeaders;

/**
 * AglEwsWriteFunc:
 * @writer: the writer, positioned where the caller's elements go
 * @user_data: the caller's data
 *
 * Writes part of a request (the t:CalendarItem of a CreateItem, the
 * contents of t:Updates) with prefixes t: (types) and m: (messages), which
 * the envelope declares.
 */
typedef void (*AglEwsWriteFunc) (xmlTextWriterPtr writer,
                                 gpointer         user_data);

typedef enum {
  AGL_EWS_ITEM_ID,
  AGL_EWS_OCCURRENCE_ITEM_ID,
  AGL_EWS_RECURRING_MASTER_ITEM_ID,
} AglEwsItemIdKind;

/**
 * AglEwsItemIdRef:
 * @kind: which id element to write
 * @id: ItemId Id; for OccurrenceItemId the RecurringMasterId; for
 *   RecurringMasterItemId the OccurrenceId
 * @change_key: (nullable): the ChangeKey (not used by OccurrenceItemId)
 * @instance_index: OccurrenceItemId InstanceIndex, from 1
 *
 * One item to read, change or delete.
 */
typedef struct {
  AglEwsItemIdKind kind;
  const char      *id;
  const char      *change_key;
  guint            instance_index;
} AglEwsItemIdRef;

/**
 * AglEwsItemChange:
 * @id: the item (with the ChangeKey the change is based on) or occurrence
 * @write_updates: writes the children of t:Updates (SetItemField …)
 * @user_data: for @write_updates
 *
 * One t:ItemChange of an UpdateItem batch.
 */
typedef struct {
  AglEwsItemIdRef id;
  AglEwsWriteFunc write_updates;
  gpointer        user_data;
} AglEwsItemChange;

typedef enum {
  AGL_EWS_SEND_TO_NONE,
  AGL_EWS_SEND_ONLY_TO_ALL,
  AGL_EWS_SEND_TO_ALL_AND_SAVE_COPY,
  AGL_EWS_SEND_ONLY_TO_CHANGED,            /* UpdateItem only */
  AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY,   /* UpdateItem only */
} AglEwsSendMode;

typedef enum {
  AGL_EWS_CONFLICT_NEVER_OVERWRITE,
  AGL_EWS_CONFLICT_AUTO_RESOLVE,
  AGL_EWS_CONFLICT_ALWAYS_OVERWRITE,
} AglEwsConflictResolution;

typedef enum {
  AGL_EWS_DELETE_HARD,
  AGL_EWS_DELETE_SOFT,
  AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS,
} AglEwsDeleteType;

typedef enum {
  AGL_EWS_AFFECTED_TASKS_UNSET,       /* not written; only tasks need it */
  AGL_EWS_AFFECTED_TASKS_ALL,
  AGL_EWS_AFFECTED_TASKS_SPECIFIED,
} AglEwsAffectedTaskOccurrences;

typedef enum {
  AGL_EWS_EVENT_CREATED  = 1 << 0,
  AGL_EWS_EVENT_DELETED  = 1 << 1,
  AGL_EWS_EVENT_MODIFIED = 1 << 2,
  AGL_EWS_EVENT_MOVED    = 1 << 3,
  AGL_EWS_EVENT_COPIED   = 1 << 4,
} AglEwsEventTypes;

#define AGL_EWS_EVENT_ALL (AGL_EWS_EVENT_CREATED | AGL_EWS_EVENT_DELETED | \
                           AGL_EWS_EVENT_MODIFIED | AGL_EWS_EVENT_MOVED | \
                           AGL_EWS_EVENT_COPIED)

gboolean    agl_ews_request_server_version_is_valid (const char *version);
const char *agl_ews_request_version_for_server      (const AglEwsServerVersion *server);

GBytes *agl_ews_request_get_folder        (const AglEwsRequestHeaders *headers,
                                           const char                 *mailbox,
                                           GError                    **error);
GBytes *agl_ews_request_sync_folder_items (const AglEwsRequestHeaders *headers,
                                           const char                 *sync_state,
                                           guint                       max_changes,
                                           const char * const         *field_uris,
                                           GError                    **error);
GBytes *agl_ews_request_get_item          (const AglEwsRequestHeaders *headers,
                                           const AglEwsItemIdRef      *ids,
                                           guint                       n_ids,
                                           const char * const         *field_uris,
                                           GError                    **error);
GBytes *agl_ews_request_create_item       (const AglEwsRequestHeaders *headers,
                                           AglEwsSendMode              send_invitations,
                                           AglEwsWriteFunc             write_items,
                                           gpointer                    user_data,
                                           GError                    **error);
GBytes *agl_ews_request_update_item       (const AglEwsRequestHeaders *headers,
                                           AglEwsConflictResolution    conflict_resolution,
                                           AglEwsSendMode              send_invitations,
                                           const AglEwsItemIdRef      *id,
                                           AglEwsWriteFunc             write_updates,
                                           gpointer                    user_data,
                                           GError                    **error);
GBytes *agl_ews_request_update_items      (const AglEwsRequestHeaders *headers,
                                           AglEwsConflictResolution    conflict_resolution,
                                           AglEwsSendMode              send_invitations,
                                           const AglEwsItemChange     *changes,
                                           guint                       n_changes,
                                           GError                    **error);
GBytes *agl_ews_request_delete_item       (const AglEwsRequestHeaders *headers,
                                           AglEwsDeleteType            delete_type,
                                           AglEwsSendMode              send_cancellations,
                                           AglEwsAffectedTaskOccurrences affected_tasks,
                                           const AglEwsItemIdRef      *ids,
                                           guint                       n_ids,
                                           GError                    **error);
GBytes *agl_ews_request_find_item_calendar_view (const AglEwsRequestHeaders *headers,
                                                 GDateTime                  *start_time,
                                                 GDateTime                  *end_time,
                                                 guint                       max_entries,
                                                 GError                    **error);
GBytes *agl_ews_request_find_item_by_local_identity (const AglEwsRequestHeaders *headers,
                                                     const char                 *local_identity,
                                                     GError                    **error);
GBytes *agl_ews_request_get_user_oof_settings (const AglEwsRequestHeaders *headers,
                                               const char                 *address,
                                               GError                    **error);
GBytes *agl_ews_request_subscribe_streaming (const AglEwsRequestHeaders *headers,
                                             AglEwsEventTypes            event_types,
                                             GError                    **error);
GBytes *agl_ews_request_subscribe_pull    (const AglEwsRequestHeaders *headers,
                                           AglEwsEventTypes            event_types,
                                           const char                 *watermark,
                                           guint                       timeout_minutes,
                                           GError                    **error);
GBytes *agl_ews_request_get_streaming_events (const AglEwsRequestHeaders *headers,
                                              const char * const         *subscription_ids,
                                              guint                       connection_timeout,
                                              GError                    **error);
GBytes *agl_ews_request_get_events        (const AglEwsRequestHeaders *headers,
                                           const char                 *subscription_id,
                                           const char                 *watermark,
                                           GError                    **error);
GBytes *agl_ews_request_unsubscribe       (const AglEwsRequestHeaders *headers,
                                           const char                 *subscription_id,
                                           GError                    **error);
GBytes *agl_ews_request_autodiscover      (const char                 *email_address,
                                           GError                    **error);

G_END_DECLS
