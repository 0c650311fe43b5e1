/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The EWS response codes this server answers with; each carries the
 * MessageText Exchange sends for it (from the captured traffic where we
 * have it, otherwise from Microsoft's responsecode reference). */
typedef enum
{
  AGL_EWS_CODE_ITEM_NOT_FOUND,
  AGL_EWS_CODE_FOLDER_NOT_FOUND,
  AGL_EWS_CODE_INVALID_ID_MALFORMED,
  AGL_EWS_CODE_IRRESOLVABLE_CONFLICT,
  AGL_EWS_CODE_INVALID_SYNC_STATE_DATA,
  AGL_EWS_CODE_END_BEFORE_START,
  AGL_EWS_CODE_INVALID_RECURRENCE,
  AGL_EWS_CODE_OCCURRENCE_INDEX_OUT_OF_RANGE,
  AGL_EWS_CODE_OCCURRENCE_DELETED,
  AGL_EWS_CODE_INCORRECT_UPDATE_PROPERTY_COUNT,
  AGL_EWS_CODE_INVALID_PROPERTY_DELETE,
  AGL_EWS_CODE_TIME_ZONE,
  AGL_EWS_CODE_SEND_INVITATIONS_REQUIRED,
  AGL_EWS_CODE_SEND_INVITATIONS_OR_CANCELLATIONS_REQUIRED,
  AGL_EWS_CODE_SEND_CANCELLATIONS_REQUIRED,
  AGL_EWS_CODE_SUBSCRIPTION_NOT_FOUND,
  AGL_EWS_CODE_SUBSCRIPTION_ACCESS_DENIED,
  AGL_EWS_CODE_INVALID_WATERMARK,
  AGL_EWS_CODE_EXPIRED_SUBSCRIPTION,
  AGL_EWS_CODE_ACCESS_DENIED,
  AGL_EWS_CODE_MAIL_RECIPIENT_NOT_FOUND,
  AGL_EWS_CODE_CALENDAR_VIEW_RANGE_TOO_BIG,
  AGL_EWS_CODE_INVALID_OPERATION,
  AGL_EWS_CODE_OBJECT_TYPE_CHANGED,
  AGL_EWS_CODE_NEW_EVENT_STREAM_CONNECTION_OPENED,
  AGL_EWS_CODE_INVALID_SUBSCRIPTION_REQUEST,
  AGL_EWS_CODE_UNSUPPORTED_QUERY_FILTER,
  /* SOAP faults (HTTP 500), not per-item response messages. */
  AGL_EWS_CODE_SCHEMA_VALIDATION,
  AGL_EWS_CODE_INVALID_SERVER_VERSION,
  AGL_EWS_CODE_IMPERSONATE_USER_DENIED,
  AGL_EWS_CODE_NON_EXISTENT_MAILBOX,
  AGL_EWS_CODE_SERVER_BUSY,
} AglEwsCode;

#define AGL_EWS_CODE_ERROR (agl_ews_code_error_quark ())
GQuark      agl_ews_code_error_quark (void);

const char *agl_ews_code_name        (AglEwsCode code);
const char *agl_ews_code_message     (AglEwsCode code);
void        agl_ews_set_code_error   (GError   **error,
                                      AglEwsCode code);

/* Faults injected on the next requests (tests and the control endpoint). */
typedef enum
{
  AGL_EWS_FAULT_NONE,
  AGL_EWS_FAULT_HTTP_500,
  AGL_EWS_FAULT_HTTP_503,
  AGL_EWS_FAULT_SERVER_BUSY,
  AGL_EWS_FAULT_CUT_CONNECTION,
  AGL_EWS_FAULT_TRUNCATED_XML,
  AGL_EWS_FAULT_DELAY,
} AglEwsFault;

typedef struct _AglEwsFaultQueue AglEwsFaultQueue;

AglEwsFaultQueue *agl_ews_fault_queue_new   (void);
void              agl_ews_fault_queue_free  (AglEwsFaultQueue *queue);
void              agl_ews_fault_queue_push  (AglEwsFaultQueue *queue,
                                             AglEwsFault       fault,
                                             guint             count,
                                             guint             parameter);
AglEwsFault       agl_ews_fault_queue_take  (AglEwsFaultQueue *queue,
                                             guint            *parameter);
void              agl_ews_fault_queue_clear (AglEwsFaultQueue *queue);
gboolean          agl_ews_fault_from_string (const char       *name,
                                             AglEwsFault      *fault);

G_END_DECLS
