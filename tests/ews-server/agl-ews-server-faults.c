/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "agl-ews-server-faults.h"

static const struct
{
  const char *name;
  const char *message;
} codes[] = {
  [AGL_EWS_CODE_ITEM_NOT_FOUND] = { "ErrorItemNotFound", "The specified object was not found in the store." },
  [AGL_EWS_CODE_FOLDER_NOT_FOUND] = { "ErrorFolderNotFound", "The specified folder could not be found in the store." },
  [AGL_EWS_CODE_INVALID_ID_MALFORMED] = { "ErrorInvalidIdMalformed", "Id is malformed." },
  [AGL_EWS_CODE_IRRESOLVABLE_CONFLICT] = { "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item." },
  [AGL_EWS_CODE_INVALID_SYNC_STATE_DATA] = { "ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid." },
  [AGL_EWS_CODE_END_BEFORE_START] = { "ErrorCalendarEndDateIsEarlierThanStartDate", "The end date is earlier than the start date." },
  [AGL_EWS_CODE_INVALID_RECURRENCE] = { "ErrorCalendarInvalidRecurrence", "The recurrence pattern is invalid." },
  [AGL_EWS_CODE_OCCURRENCE_INDEX_OUT_OF_RANGE] = { "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range." },
  [AGL_EWS_CODE_OCCURRENCE_DELETED] = { "ErrorCalendarOccurrenceIsDeletedFromRecurrence", "Occurrence with this index was previously deleted from the recurrence." },
  [AGL_EWS_CODE_INCORRECT_UPDATE_PROPERTY_COUNT] = { "ErrorIncorrectUpdatePropertyCount", "An object within a change description must contain one and only one property to modify." },
  [AGL_EWS_CODE_INVALID_PROPERTY_DELETE] = { "ErrorInvalidPropertyDelete", "The property cannot be deleted." },
  [AGL_EWS_CODE_TIME_ZONE] = { "ErrorTimeZone", "The time zone isn't valid." },
  [AGL_EWS_CODE_SEND_INVITATIONS_REQUIRED] = { "ErrorSendMeetingInvitationsRequired", "The SendMeetingInvitations attribute is required for calendar items." },
  [AGL_EWS_CODE_SEND_INVITATIONS_OR_CANCELLATIONS_REQUIRED] = { "ErrorSendMeetingInvitationsOrCancellationsRequired", "The SendMeetingInvitationsOrCancellations attribute is required for calendar items." },
  [AGL_EWS_CODE_SEND_CANCELLATIONS_REQUIRED] = { "ErrorSendMeetingCancellationsRequired", "The SendMeetingCancellations attribute is required for calendar items." },
  [AGL_EWS_CODE_SUBSCRIPTION_NOT_FOUND] = { "ErrorSubscriptionNotFound", "The specified subscription was not found." },
  [AGL_EWS_CODE_SUBSCRIPTION_ACCESS_DENIED] = { "ErrorSubscriptionAccessDenied", "The subscription can only be used by the account that created it." },
  [AGL_EWS_CODE_INVALID_WATERMARK] = { "ErrorInvalidWatermark", "The watermark used for creating this subscription was not found." },
  [AGL_EWS_CODE_EXPIRED_SUBSCRIPTION] = { "ErrorExpiredSubscription", "The subscription has expired." },
  [AGL_EWS_CODE_ACCESS_DENIED] = { "ErrorAccessDenied", "Access is denied. Check credentials and try again." },
  [AGL_EWS_CODE_MAIL_RECIPIENT_NOT_FOUND] = { "ErrorMailRecipientNotFound", "The e-mail address cannot be found." },
  [AGL_EWS_CODE_CALENDAR_VIEW_RANGE_TOO_BIG] = { "ErrorCalendarViewRangeTooBig", "The calendar view range is too big." },
  [AGL_EWS_CODE_INVALID_OPERATION] = { "ErrorInvalidOperation", "The operation isn't valid." },
  [AGL_EWS_CODE_OBJECT_TYPE_CHANGED] = { "ErrorObjectTypeChanged", "The object type can't be changed." },
  [AGL_EWS_CODE_NEW_EVENT_STREAM_CONNECTION_OPENED] = { "ErrorNewEventStreamConnectionOpened", "A new event stream connection was opened for this subscription." },
  [AGL_EWS_CODE_INVALID_SUBSCRIPTION_REQUEST] = { "ErrorInvalidSubscriptionRequest", "The subscription request is invalid." },
  [AGL_EWS_CODE_UNSUPPORTED_QUERY_FILTER] = { "ErrorUnsupportedQueryFilter", "The restriction contains a query filter that isn't supported." },
  [AGL_EWS_CODE_SCHEMA_VALIDATION] = { "ErrorSchemaValidation", "The request failed schema validation." },
  [AGL_EWS_CODE_INVALID_SERVER_VERSION] = { "ErrorInvalidServerVersion", "The specified server version is invalid." },
  [AGL_EWS_CODE_IMPERSONATE_USER_DENIED] = { "ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user." },
  [AGL_EWS_CODE_NON_EXISTENT_MAILBOX] = { "ErrorNonExistentMailbox", "The SMTP address has no mailbox associated with it." },
  [AGL_EWS_CODE_SERVER_BUSY] = { "ErrorServerBusy", "The server cannot service this request right now. Try again later." },
};

G_STATIC_ASSERT (G_N_ELEMENTS (codes) == AGL_EWS_CODE_SERVER_BUSY + 1);

G_DEFINE_QUARK (agl-ews-code-error-quark, agl_ews_code_error)

const char *
agl_ews_code_name (AglEwsCode code)
{
  return codes[code].name;
}

const char *
agl_ews_code_message (AglEwsCode code)
{
  return codes[code].message;
}

void
agl_ews_set_code_error (GError   **error,
                        AglEwsCode code)
{
  g_set_error_literal (error, AGL_EWS_CODE_ERROR, code, codes[code].message);
}

typedef struct
{
  AglEwsFault fault;
  guint       remaining;
  guint       parameter;
} FaultEntry;

struct _AglEwsFaultQueue
{
  GQueue entries;
};

AglEwsFaultQueue *
agl_ews_fault_queue_new (void)
{
  AglEwsFaultQueue *queue = g_new0 (AglEwsFaultQueue, 1);

  g_queue_init (&queue->entries);
  return queue;
}

void
agl_ews_fault_queue_clear (AglEwsFaultQueue *queue)
{
  g_queue_clear_full (&queue->entries, g_free);
}

void
agl_ews_fault_queue_free (AglEwsFaultQueue *queue)
{
  agl_ews_fault_queue_clear (queue);
  g_free (queue);
}

void
agl_ews_fault_queue_push (AglEwsFaultQueue *queue,
                          AglEwsFault       fault,
                          guint             count,
                          guint             parameter)
{
  FaultEntry *entry;

  if (fault == AGL_EWS_FAULT_NONE || count == 0)
    return;
  entry = g_new0 (FaultEntry, 1);
  entry->fault = fault;
  entry->remaining = count;
  entry->parameter = parameter;
  g_queue_push_tail (&queue->entries, entry);
}

AglEwsFault
agl_ews_fault_queue_take (AglEwsFaultQueue *queue,
                          guint            *parameter)
{
  FaultEntry *entry = g_queue_peek_head (&queue->entries);
  AglEwsFault fault;

  if (entry == NULL)
    return AGL_EWS_FAULT_NONE;
  fault = entry->fault;
  *parameter = entry->parameter;
  if (--entry->remaining == 0)
    g_free (g_queue_pop_head (&queue->entries));
  return fault;
}

gboolean
agl_ews_fault_from_string (const char  *name,
                           AglEwsFault *fault)
{
  static const struct { const char *name; AglEwsFault fault; } names[] = {
    { "http-500", AGL_EWS_FAULT_HTTP_500 },
    { "http-503", AGL_EWS_FAULT_HTTP_503 },
    { "server-busy", AGL_EWS_FAULT_SERVER_BUSY },
    { "cut-connection", AGL_EWS_FAULT_CUT_CONNECTION },
    { "truncated-xml", AGL_EWS_FAULT_TRUNCATED_XML },
    { "delay", AGL_EWS_FAULT_DELAY },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i].name) == 0)
      {
        *fault = names[i].fault;
        return TRUE;
      }
  return FALSE;
}
