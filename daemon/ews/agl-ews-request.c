/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-ews-request.h"
#include "agl-ews-xml.h"

/* The versions an account may request (agl-account.c accepts the same, plus
 * "auto", which the connection resolves before writing a request). */
static const char * const server_versions[] = {
  "Exchange2007_SP1",
  "Exchange2010",
  "Exchange2010_SP1",
  "Exchange2010_SP2",
  "Exchange2013",
  "Exchange2013_SP1",
  "Exchange2016",
  NULL
};

/* Indexes into server_versions[], for the features newer servers added. */
enum {
  VERSION_EXCHANGE2007_SP1,
  VERSION_EXCHANGE2010,
  VERSION_EXCHANGE2010_SP1,
  VERSION_EXCHANGE2010_SP2,
  VERSION_EXCHANGE2013,
  VERSION_EXCHANGE2013_SP1,
  VERSION_EXCHANGE2016,
};

G_STATIC_ASSERT (G_N_ELEMENTS (server_versions) == VERSION_EXCHANGE2016 + 2);

static const char * const send_mode_names[] = {
  [AGL_EWS_SEND_TO_NONE] = "SendToNone",
  [AGL_EWS_SEND_ONLY_TO_ALL] = "SendOnlyToAll",
  [AGL_EWS_SEND_TO_ALL_AND_SAVE_COPY] = "SendToAllAndSaveCopy",
  [AGL_EWS_SEND_ONLY_TO_CHANGED] = "SendOnlyToChanged",
  [AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY] = "SendToChangedAndSaveCopy",
};

static const char * const conflict_names[] = {
  [AGL_EWS_CONFLICT_NEVER_OVERWRITE] = "NeverOverwrite",
  [AGL_EWS_CONFLICT_AUTO_RESOLVE] = "AutoResolve",
  [AGL_EWS_CONFLICT_ALWAYS_OVERWRITE] = "AlwaysOverwrite",
};

static const char * const delete_type_names[] = {
  [AGL_EWS_DELETE_HARD] = "HardDelete",
  [AGL_EWS_DELETE_SOFT] = "SoftDelete",
  [AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS] = "MoveToDeletedItems",
};

static const char * const affected_tasks_names[] = {
  [AGL_EWS_AFFECTED_TASKS_UNSET] = NULL,
  [AGL_EWS_AFFECTED_TASKS_ALL] = "AllOccurrences",
  [AGL_EWS_AFFECTED_TASKS_SPECIFIED] = "SpecifiedOccurrenceOnly",
};

static const struct {
  AglEwsEventTypes flag;
  const char      *name;
} event_type_names[] = {
  { AGL_EWS_EVENT_COPIED, "CopiedEvent" },
  { AGL_EWS_EVENT_CREATED, "CreatedEvent" },
  { AGL_EWS_EVENT_DELETED, "DeletedEvent" },
  { AGL_EWS_EVENT_MODIFIED, "ModifiedEvent" },
  { AGL_EWS_EVENT_MOVED, "MovedEvent" },
};

/* What the mapping code needs of a calendar item; StartTimeZone and
 * EndTimeZone exist from Exchange 2010 on, Exchange 2007 has TimeZone. */
static const char * const calendar_fields[] = {
  "item:ItemClass",
  "item:Subject",
  "item:Body",
  "item:Sensitivity",
  "item:LastModifiedTime",
  "calendar:UID",
  "calendar:Start",
  "calendar:End",
  "calendar:IsAllDayEvent",
  "calendar:LegacyFreeBusyStatus",
  "calendar:Location",
  "calendar:IsCancelled",
  "calendar:CalendarItemType",
  "calendar:MyResponseType",
  "calendar:Organizer",
  "calendar:RequiredAttendees",
  "calendar:OptionalAttendees",
  "calendar:Recurrence",
  "calendar:ModifiedOccurrences",
  "calendar:DeletedOccurrences",
  NULL
};

static const char * const calendar_fields_2010[] = {
  "calendar:StartTimeZone",
  "calendar:EndTimeZone",
  NULL
};

static const char * const calendar_fields_2007[] = {
  "calendar:TimeZone",
  NULL
};

static const char * const calendar_view_fields[] = {
  "item:Subject",
  "calendar:Start",
  "calendar:End",
  "calendar:LegacyFreeBusyStatus",
  "calendar:CalendarItemType",
  NULL
};

typedef struct {
  xmlBufferPtr     buffer;
  xmlTextWriterPtr w;
  gboolean         failed;
} Writer;

static void
writer_clear (Writer *wr)
{
  if (wr->w != NULL)
    xmlFreeTextWriter (wr->w);
  if (wr->buffer != NULL)
    xmlBufferFree (wr->buffer);
  memset (wr, 0, sizeof *wr);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Writer, writer_clear)

static void
check_rc (Writer *wr,
          int     rc)
{
  if (rc < 0)
    wr->failed = TRUE;
}

static void
start (Writer     *wr,
       const char *prefix,
       const char *name)
{
  check_rc (wr, xmlTextWriterStartElementNS (wr->w, BAD_CAST prefix, BAD_CAST name, NULL));
}

static void
end (Writer *wr)
{
  check_rc (wr, xmlTextWriterEndElement (wr->w));
}

static void
attr (Writer     *wr,
      const char *name,
      const char *value)
{
  check_rc (wr, xmlTextWriterWriteAttribute (wr->w, BAD_CAST name, BAD_CAST value));
}

static void
text_element (Writer     *wr,
              const char *prefix,
              const char *name,
              const char *text)
{
  check_rc (wr, xmlTextWriterWriteElementNS (wr->w, BAD_CAST prefix, BAD_CAST name, NULL,
                                             BAD_CAST text));
}

static void
uint_element (Writer     *wr,
              const char *prefix,
              const char *name,
              guint       value)
{
  char text[16];

  g_snprintf (text, sizeof text, "%u", value);
  text_element (wr, prefix, name, text);
}

static gboolean
invalid (GError    **error,
         const char *message)
{
  g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

/* Text that becomes XML content must be UTF-8 without the control
 * characters XML 1.0 forbids; the writer escapes markup but would copy
 * those bytes and produce a request the server cannot parse. */
static gboolean
check_text (const char *text,
            const char *what,
            GError    **error)
{
  g_autofree char *message = NULL;

  if (text == NULL || *text == '\0')
    {
      message = g_strdup_printf (_("The %s is missing."), what);
      return invalid (error, message);
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      message = g_strdup_printf (_("The %s is not valid UTF-8."), what);
      return invalid (error, message);
    }
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF)
        {
          message = g_strdup_printf (_("The %s contains a control character."), what);
          return invalid (error, message);
        }
    }
  return TRUE;
}

static gboolean
check_optional_text (const char *text,
                     const char *what,
                     GError    **error)
{
  return text == NULL || check_text (text, what, error);
}

/**
 * agl_ews_request_server_version_is_valid:
 * @version: (nullable): a RequestServerVersion value
 *
 * Returns: %TRUE for Exchange2007_SP1 … Exchange2016
 */
gboolean
agl_ews_request_server_version_is_valid (const char *version)
{
  return version != NULL && g_strv_contains (server_versions, version);
}

/**
 * agl_ews_request_version_for_server:
 * @server: the ServerVersionInfo a server sent
 *
 * The newest RequestServerVersion Agendaline can ask of this server, for
 * accounts whose version is "auto": Exchange 2007 SP1 is 8.1, Exchange 2010
 * 14.0 (SP1 14.1, SP2 and SP3 14.2 and 14.3), Exchange 2013 15.0 (SP1 from
 * build 15.0.847), Exchange 2016 15.1, and Exchange 2019 and Exchange Server
 * SE (15.2) answer requests for Exchange2016.
 *
 * Returns: (nullable): a value for #AglEwsRequestHeaders.server_version, or
 *   %NULL for a server older than Exchange 2007 SP1
 */
const char *
agl_ews_request_version_for_server (const AglEwsServerVersion *server)
{
  int major = server->major_version;
  int minor = server->minor_version;

  if (major > 15 || (major == 15 && minor >= 1))
    return server_versions[VERSION_EXCHANGE2016];
  if (major == 15)
    return server_versions[server->major_build >= 847 ? VERSION_EXCHANGE2013_SP1
                                                      : VERSION_EXCHANGE2013];
  if (major == 14)
    return server_versions[minor >= 2 ? VERSION_EXCHANGE2010_SP2 :
                           minor == 1 ? VERSION_EXCHANGE2010_SP1 : VERSION_EXCHANGE2010];
  if (major == 8 && minor >= 1)
    return server_versions[VERSION_EXCHANGE2007_SP1];
  return NULL;
}

/* How new the requested version is; servers without the header answer as
 * their own version, so no header means no limit. */
static int
version_rank (const AglEwsRequestHeaders *headers)
{
  if (headers == NULL || headers->server_version == NULL)
    return G_N_ELEMENTS (server_versions);
  for (guint i = 0; server_versions[i] != NULL; i++)
    if (g_str_equal (server_versions[i], headers->server_version))
      return (int) i;
  return -1;
}

static gboolean
check_version_at_least (const AglEwsRequestHeaders *headers,
                        int                         needed,
                        const char                 *feature,
                        GError                    **error)
{
  g_autofree char *message = NULL;

  if (version_rank (headers) >= needed)
    return TRUE;
  message = g_strdup_printf (_("%s needs %s or later; the account requests %s."), feature,
                             server_versions[needed], headers->server_version);
  return invalid (error, message);
}

static gboolean
check_headers (const AglEwsRequestHeaders *headers,
               GError                    **error)
{
  if (headers == NULL)
    return TRUE;
  if (headers->server_version != NULL &&
      !agl_ews_request_server_version_is_valid (headers->server_version))
    {
      g_autofree char *message =
        g_strdup_printf (_("“%s” is not an Exchange version Agendaline can request; use one of "
                           "Exchange2007_SP1 to Exchange2016."),
                         g_utf8_validate (headers->server_version, -1, NULL) ?
                         headers->server_version : "?");
      return invalid (error, message);
    }
  if (headers->time_zone_id != NULL &&
      !check_version_at_least (headers, VERSION_EXCHANGE2010, "TimeZoneContext", error))
    return FALSE;
  return check_optional_text (headers->impersonate_smtp, _("impersonated address"), error) &&
         check_optional_text (headers->time_zone_id, _("time zone"), error);
}

static gboolean
check_item_ids (const AglEwsItemIdRef *ids,
                guint                  n_ids,
                GError               **error)
{
  if (ids == NULL || n_ids == 0)
    return invalid (error, _("At least one item is needed."));
  for (guint i = 0; i < n_ids; i++)
    {
      if (!check_text (ids[i].id, _("item id"), error) ||
          !check_optional_text (ids[i].change_key, _("change key"), error))
        return FALSE;
      if ((guint) ids[i].kind > AGL_EWS_RECURRING_MASTER_ITEM_ID)
        return invalid (error, _("The kind of item id is unknown."));
      if (ids[i].kind == AGL_EWS_OCCURRENCE_ITEM_ID && ids[i].instance_index < 1)
        return invalid (error, _("An occurrence’s index starts at 1."));
    }
  return TRUE;
}

static gboolean
check_field_uris (const char * const *field_uris,
                  GError            **error)
{
  for (guint i = 0; field_uris != NULL && field_uris[i] != NULL; i++)
    if (!check_text (field_uris[i], _("field"), error))
      return FALSE;
  return TRUE;
}

static void
begin (Writer                     *wr,
       const AglEwsRequestHeaders *headers)
{
  wr->buffer = xmlBufferCreate ();
  wr->w = xmlNewTextWriterMemory (wr->buffer, 0);
  if (wr->buffer == NULL || wr->w == NULL)
    {
      wr->failed = TRUE;
      return;
    }
  /* Indented: requests appear in debug logs, and Exchange ignores the
   * white space between elements. */
  xmlTextWriterSetIndent (wr->w, 1);
  xmlTextWriterSetIndentString (wr->w, BAD_CAST "  ");
  check_rc (wr, xmlTextWriterStartDocument (wr->w, NULL, "utf-8", NULL));
  check_rc (wr, xmlTextWriterStartElementNS (wr->w, BAD_CAST "soap", BAD_CAST "Envelope",
                                             BAD_CAST AGL_EWS_NS_SOAP));
  attr (wr, "xmlns:t", AGL_EWS_NS_TYPES);
  attr (wr, "xmlns:m", AGL_EWS_NS_MESSAGES);

  if (headers != NULL &&
      (headers->server_version != NULL || headers->impersonate_smtp != NULL ||
       headers->time_zone_id != NULL))
    {
      start (wr, "soap", "Header");
      if (headers->server_version != NULL)
        {
          start (wr, "t", "RequestServerVersion");
          attr (wr, "Version", headers->server_version);
          end (wr);
        }
      if (headers->impersonate_smtp != NULL)
        {
          start (wr, "t", "ExchangeImpersonation");
          start (wr, "t", "ConnectingSID");
          text_element (wr, "t", "PrimarySmtpAddress", headers->impersonate_smtp);
          end (wr);
          end (wr);
        }
      if (headers->time_zone_id != NULL)
        {
          start (wr, "t", "TimeZoneContext");
          start (wr, "t", "TimeZoneDefinition");
          attr (wr, "Id", headers->time_zone_id);
          end (wr);
          end (wr);
        }
      end (wr);
    }
  start (wr, "soap", "Body");
}

static GBytes *
finish (Writer  *wr,
        GError **error)
{
  GBytes *bytes;

  if (!wr->failed)
    check_rc (wr, xmlTextWriterEndDocument (wr->w));
  if (!wr->failed)
    check_rc (wr, xmlTextWriterFlush (wr->w));
  if (wr->failed)
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_FAILED,
                           _("The request could not be written."));
      return NULL;
    }
  bytes = g_bytes_new (xmlBufferContent (wr->buffer), xmlBufferLength (wr->buffer));
  return bytes;
}

static void
write_distinguished_calendar (Writer     *wr,
                              const char *mailbox)
{
  start (wr, "t", "DistinguishedFolderId");
  attr (wr, "Id", "calendar");
  if (mailbox != NULL)
    {
      start (wr, "t", "Mailbox");
      text_element (wr, "t", "EmailAddress", mailbox);
      end (wr);
    }
  end (wr);
}

static void
write_field_uris (Writer             *wr,
                  const char * const *field_uris)
{
  for (guint i = 0; field_uris != NULL && field_uris[i] != NULL; i++)
    {
      start (wr, "t", "FieldURI");
      attr (wr, "FieldURI", field_uris[i]);
      end (wr);
    }
}

static void
write_item_id (Writer                *wr,
               const AglEwsItemIdRef *id)
{
  switch (id->kind)
    {
    case AGL_EWS_ITEM_ID:
      start (wr, "t", "ItemId");
      attr (wr, "Id", id->id);
      if (id->change_key != NULL)
        attr (wr, "ChangeKey", id->change_key);
      end (wr);
      break;

    case AGL_EWS_OCCURRENCE_ITEM_ID:
      {
        char index[16];

        g_snprintf (index, sizeof index, "%u", id->instance_index);
        start (wr, "t", "OccurrenceItemId");
        attr (wr, "RecurringMasterId", id->id);
        if (id->change_key != NULL)
          attr (wr, "ChangeKey", id->change_key);
        attr (wr, "InstanceIndex", index);
        end (wr);
      }
      break;

    case AGL_EWS_RECURRING_MASTER_ITEM_ID:
      start (wr, "t", "RecurringMasterItemId");
      attr (wr, "OccurrenceId", id->id);
      if (id->change_key != NULL)
        attr (wr, "ChangeKey", id->change_key);
      end (wr);
      break;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
is_exchange2007 (const AglEwsRequestHeaders *headers)
{
  return version_rank (headers) == VERSION_EXCHANGE2007_SP1;
}

/**
 * agl_ews_request_get_folder:
 * @headers: (nullable): the SOAP headers
 * @mailbox: (nullable): another mailbox's address (delegate access), or %NULL
 *   for the account's own
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * GetFolder of the distinguished calendar folder (its FolderId, ChangeKey
 * and TotalCount come with the Default shape).
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_get_folder (const AglEwsRequestHeaders *headers,
                            const char                 *mailbox,
                            GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_optional_text (mailbox, _("mailbox"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "GetFolder");
  start (&wr, "m", "FolderShape");
  text_element (&wr, "t", "BaseShape", "Default");
  end (&wr);
  start (&wr, "m", "FolderIds");
  write_distinguished_calendar (&wr, mailbox);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_sync_folder_items:
 * @headers: (nullable): the SOAP headers
 * @sync_state: (nullable): the state from the previous page, %NULL at first
 * @max_changes: MaxChangesReturned, 1 to 512
 * @field_uris: (nullable) (array zero-terminated=1): FieldURIs to add to the
 *   IdOnly shape, e.g. "item:ItemClass"
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * SyncFolderItems of the calendar folder, NormalItems scope.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_sync_folder_items (const AglEwsRequestHeaders *headers,
                                   const char                 *sync_state,
                                   guint                       max_changes,
                                   const char * const         *field_uris,
                                   GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (max_changes < 1 || max_changes > 512)
    {
      g_autofree char *message =
        g_strdup_printf (_("MaxChangesReturned must be between 1 and 512, not %u."), max_changes);
      invalid (error, message);
      return NULL;
    }
  if (!check_headers (headers, error) ||
      !check_optional_text (sync_state, _("sync state"), error) ||
      !check_field_uris (field_uris, error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "SyncFolderItems");
  start (&wr, "m", "ItemShape");
  text_element (&wr, "t", "BaseShape", "IdOnly");
  if (field_uris != NULL && field_uris[0] != NULL)
    {
      start (&wr, "t", "AdditionalProperties");
      write_field_uris (&wr, field_uris);
      end (&wr);
    }
  end (&wr);
  start (&wr, "m", "SyncFolderId");
  write_distinguished_calendar (&wr, NULL);
  end (&wr);
  if (sync_state != NULL)
    text_element (&wr, "m", "SyncState", sync_state);
  uint_element (&wr, "m", "MaxChangesReturned", max_changes);
  text_element (&wr, "m", "SyncScope", "NormalItems");
  end (&wr);
  return finish (&wr, error);
}

static void
write_local_identity_uri (Writer *wr)
{
  start (wr, "t", "ExtendedFieldURI");
  attr (wr, "PropertySetId", AGL_EWS_PROPERTY_SET_ID);
  attr (wr, "PropertyName", AGL_EWS_PROPERTY_LOCAL_ID);
  attr (wr, "PropertyType", "String");
  end (wr);
}

/**
 * agl_ews_request_get_item:
 * @headers: (nullable): the SOAP headers
 * @ids: (array length=n_ids): the items, occurrences or masters to read
 * @n_ids: their number, at least 1
 * @field_uris: (nullable) (array zero-terminated=1): the FieldURIs to read,
 *   or %NULL for every calendar field the mapping uses
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * GetItem in one batch, text bodies, always with Agendaline's own extended
 * property (AGL_EWS_PROPERTY_SET_ID / AGL_EWS_PROPERTY_LOCAL_ID) so items
 * Agendaline created are recognised.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_get_item (const AglEwsRequestHeaders *headers,
                          const AglEwsItemIdRef      *ids,
                          guint                       n_ids,
                          const char * const         *field_uris,
                          GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_item_ids (ids, n_ids, error) ||
      !check_field_uris (field_uris, error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "GetItem");
  start (&wr, "m", "ItemShape");
  text_element (&wr, "t", "BaseShape", "IdOnly");
  text_element (&wr, "t", "BodyType", "Text");
  start (&wr, "t", "AdditionalProperties");
  if (field_uris != NULL)
    write_field_uris (&wr, field_uris);
  else
    {
      write_field_uris (&wr, calendar_fields);
      write_field_uris (&wr, is_exchange2007 (headers) ? calendar_fields_2007
                                                       : calendar_fields_2010);
    }
  write_local_identity_uri (&wr);
  end (&wr);
  end (&wr);
  start (&wr, "m", "ItemIds");
  for (guint i = 0; i < n_ids; i++)
    write_item_id (&wr, &ids[i]);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

static gboolean
check_send_mode (AglEwsSendMode mode,
                 gboolean       for_update,
                 GError       **error)
{
  AglEwsSendMode last = for_update ? AGL_EWS_SEND_TO_CHANGED_AND_SAVE_COPY
                                   : AGL_EWS_SEND_TO_ALL_AND_SAVE_COPY;

  if ((guint) mode > (guint) last)
    return invalid (error, _("That way of sending meeting messages does not exist for this "
                             "operation."));
  return TRUE;
}

/**
 * agl_ews_request_create_item:
 * @headers: (nullable): the SOAP headers
 * @send_invitations: SendMeetingInvitations (always written: the server's
 *   default would send invitations nobody asked for)
 * @write_items: writes one or more t:CalendarItem elements into m:Items
 * @user_data: for @write_items
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * CreateItem saved in the distinguished calendar folder.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_create_item (const AglEwsRequestHeaders *headers,
                             AglEwsSendMode              send_invitations,
                             AglEwsWriteFunc             write_items,
                             gpointer                    user_data,
                             GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (write_items == NULL)
    {
      invalid (error, _("Nothing to create."));
      return NULL;
    }
  if (!check_headers (headers, error) ||
      !check_send_mode (send_invitations, FALSE, error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "CreateItem");
  attr (&wr, "SendMeetingInvitations", send_mode_names[send_invitations]);
  start (&wr, "m", "SavedItemFolderId");
  write_distinguished_calendar (&wr, NULL);
  end (&wr);
  start (&wr, "m", "Items");
  if (!wr.failed)
    write_items (wr.w, user_data);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_update_items:
 * @headers: (nullable): the SOAP headers
 * @conflict_resolution: ConflictResolution, always written
 * @send_invitations: SendMeetingInvitationsOrCancellations, always written
 * @changes: (array length=n_changes): the items and their updates
 * @n_changes: their number, at least 1
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * UpdateItem of several items in one request; the response has one
 * message per change, in this order.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_update_items (const AglEwsRequestHeaders *headers,
                              AglEwsConflictResolution    conflict_resolution,
                              AglEwsSendMode              send_invitations,
                              const AglEwsItemChange     *changes,
                              guint                       n_changes,
                              GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if ((guint) conflict_resolution > AGL_EWS_CONFLICT_ALWAYS_OVERWRITE)
    {
      invalid (error, _("The conflict resolution is unknown."));
      return NULL;
    }
  if (changes == NULL || n_changes == 0)
    {
      invalid (error, _("Nothing to update."));
      return NULL;
    }
  if (!check_headers (headers, error) ||
      !check_send_mode (send_invitations, TRUE, error))
    return NULL;
  for (guint i = 0; i < n_changes; i++)
    {
      if (changes[i].write_updates == NULL)
        {
          invalid (error, _("Nothing to update."));
          return NULL;
        }
      if (!check_item_ids (&changes[i].id, 1, error))
        return NULL;
    }

  begin (&wr, headers);
  start (&wr, "m", "UpdateItem");
  attr (&wr, "ConflictResolution", conflict_names[conflict_resolution]);
  attr (&wr, "SendMeetingInvitationsOrCancellations", send_mode_names[send_invitations]);
  start (&wr, "m", "ItemChanges");
  for (guint i = 0; i < n_changes; i++)
    {
      start (&wr, "t", "ItemChange");
      write_item_id (&wr, &changes[i].id);
      start (&wr, "t", "Updates");
      if (!wr.failed)
        changes[i].write_updates (wr.w, changes[i].user_data);
      end (&wr);
      end (&wr);
    }
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_update_item:
 * @headers: (nullable): the SOAP headers
 * @conflict_resolution: ConflictResolution, always written
 * @send_invitations: SendMeetingInvitationsOrCancellations, always written
 * @id: the item (with the ChangeKey the change is based on) or occurrence
 * @write_updates: writes the children of t:Updates (SetItemField …)
 * @user_data: for @write_updates
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * UpdateItem of one item; see agl_ews_request_update_items().
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_update_item (const AglEwsRequestHeaders *headers,
                             AglEwsConflictResolution    conflict_resolution,
                             AglEwsSendMode              send_invitations,
                             const AglEwsItemIdRef      *id,
                             AglEwsWriteFunc             write_updates,
                             gpointer                    user_data,
                             GError                    **error)
{
  AglEwsItemChange change = { { 0 }, write_updates, user_data };

  if (id == NULL)
    {
      invalid (error, _("At least one item is needed."));
      return NULL;
    }
  change.id = *id;
  return agl_ews_request_update_items (headers, conflict_resolution, send_invitations,
                                       &change, 1, error);
}

/**
 * agl_ews_request_delete_item:
 * @headers: (nullable): the SOAP headers
 * @delete_type: DeleteType
 * @send_cancellations: SendMeetingCancellations, always written (SendToNone,
 *   SendOnlyToAll or SendToAllAndSaveCopy)
 * @affected_tasks: AffectedTaskOccurrences, or %AGL_EWS_AFFECTED_TASKS_UNSET
 * @ids: (array length=n_ids): items (with ChangeKey) or occurrences
 * @n_ids: their number, at least 1
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * DeleteItem in one batch.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_delete_item (const AglEwsRequestHeaders   *headers,
                             AglEwsDeleteType              delete_type,
                             AglEwsSendMode                send_cancellations,
                             AglEwsAffectedTaskOccurrences affected_tasks,
                             const AglEwsItemIdRef        *ids,
                             guint                         n_ids,
                             GError                      **error)
{
  g_auto(Writer) wr = { 0 };

  if ((guint) delete_type > AGL_EWS_DELETE_MOVE_TO_DELETED_ITEMS ||
      (guint) affected_tasks > AGL_EWS_AFFECTED_TASKS_SPECIFIED)
    {
      invalid (error, _("The kind of deletion is unknown."));
      return NULL;
    }
  if (!check_headers (headers, error) ||
      !check_send_mode (send_cancellations, FALSE, error) ||
      !check_item_ids (ids, n_ids, error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "DeleteItem");
  attr (&wr, "DeleteType", delete_type_names[delete_type]);
  attr (&wr, "SendMeetingCancellations", send_mode_names[send_cancellations]);
  if (affected_tasks_names[affected_tasks] != NULL)
    attr (&wr, "AffectedTaskOccurrences", affected_tasks_names[affected_tasks]);
  start (&wr, "m", "ItemIds");
  for (guint i = 0; i < n_ids; i++)
    write_item_id (&wr, &ids[i]);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_find_item_calendar_view:
 * @headers: (nullable): the SOAP headers
 * @start_time: the view's start
 * @end_time: the view's end, after @start_time
 * @max_entries: MaxEntriesReturned, or 0 to let the server decide
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * FindItem with a CalendarView of the calendar folder: the server expands
 * recurrences into occurrences.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_find_item_calendar_view (const AglEwsRequestHeaders *headers,
                                         GDateTime                  *start_time,
                                         GDateTime                  *end_time,
                                         guint                       max_entries,
                                         GError                    **error)
{
  g_auto(Writer) wr = { 0 };
  g_autofree char *start_text = NULL;
  g_autofree char *end_text = NULL;
  g_autoptr(GDateTime) start_utc = NULL;
  g_autoptr(GDateTime) end_utc = NULL;

  if (start_time == NULL || end_time == NULL || g_date_time_compare (start_time, end_time) >= 0)
    {
      invalid (error, _("A calendar view needs a start before its end."));
      return NULL;
    }
  if (max_entries > G_MAXINT32)
    {
      invalid (error, _("MaxEntriesReturned is too large."));
      return NULL;
    }
  if (!check_headers (headers, error))
    return NULL;

  start_utc = g_date_time_to_utc (start_time);
  end_utc = g_date_time_to_utc (end_time);
  start_text = g_date_time_format (start_utc, "%Y-%m-%dT%H:%M:%SZ");
  end_text = g_date_time_format (end_utc, "%Y-%m-%dT%H:%M:%SZ");

  begin (&wr, headers);
  start (&wr, "m", "FindItem");
  attr (&wr, "Traversal", "Shallow");
  start (&wr, "m", "ItemShape");
  text_element (&wr, "t", "BaseShape", "IdOnly");
  start (&wr, "t", "AdditionalProperties");
  write_field_uris (&wr, calendar_view_fields);
  end (&wr);
  end (&wr);
  start (&wr, "m", "CalendarView");
  if (max_entries > 0)
    {
      char text[16];

      g_snprintf (text, sizeof text, "%u", max_entries);
      attr (&wr, "MaxEntriesReturned", text);
    }
  attr (&wr, "StartDate", start_text);
  attr (&wr, "EndDate", end_text);
  end (&wr);
  start (&wr, "m", "ParentFolderIds");
  write_distinguished_calendar (&wr, NULL);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_find_item_by_local_identity:
 * @headers: (nullable): the SOAP headers
 * @local_identity: the value of Agendaline's extended property to look for
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * FindItem (Shallow) of the calendar folder restricted to the items whose
 * Agendaline property (AGL_EWS_PROPERTY_SET_ID / AGL_EWS_PROPERTY_LOCAL_ID)
 * equals @local_identity, IdOnly plus that property.  No CalendarView: a
 * series is found as its master.  Exchange compares strings without regard
 * to case, so the caller compares the values returned again.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_find_item_by_local_identity (const AglEwsRequestHeaders *headers,
                                             const char                 *local_identity,
                                             GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_text (local_identity, _("local identity"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "FindItem");
  attr (&wr, "Traversal", "Shallow");
  start (&wr, "m", "ItemShape");
  text_element (&wr, "t", "BaseShape", "IdOnly");
  start (&wr, "t", "AdditionalProperties");
  write_local_identity_uri (&wr);
  end (&wr);
  end (&wr);
  start (&wr, "m", "Restriction");
  start (&wr, "t", "IsEqualTo");
  write_local_identity_uri (&wr);
  start (&wr, "t", "FieldURIOrConstant");
  start (&wr, "t", "Constant");
  attr (&wr, "Value", local_identity);
  end (&wr);
  end (&wr);
  end (&wr);
  end (&wr);
  start (&wr, "m", "ParentFolderIds");
  write_distinguished_calendar (&wr, NULL);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_get_user_oof_settings:
 * @headers: (nullable): the SOAP headers
 * @address: the mailbox's SMTP address
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): the GetUserOofSettings envelope
 */
GBytes *
agl_ews_request_get_user_oof_settings (const AglEwsRequestHeaders *headers,
                                       const char                 *address,
                                       GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_text (address, _("mailbox address"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "GetUserOofSettingsRequest");
  start (&wr, "t", "Mailbox");
  text_element (&wr, "t", "Address", address);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

static gboolean
check_event_types (AglEwsEventTypes event_types,
                   GError         **error)
{
  if (event_types == 0 || (event_types & ~AGL_EWS_EVENT_ALL) != 0)
    return invalid (error, _("A subscription needs at least one known event type."));
  return TRUE;
}

static void
write_subscription_body (Writer          *wr,
                         AglEwsEventTypes event_types)
{
  start (wr, "t", "FolderIds");
  write_distinguished_calendar (wr, NULL);
  end (wr);
  start (wr, "t", "EventTypes");
  for (guint i = 0; i < G_N_ELEMENTS (event_type_names); i++)
    if (event_types & event_type_names[i].flag)
      text_element (wr, "t", "EventType", event_type_names[i].name);
  end (wr);
}

/**
 * agl_ews_request_subscribe_streaming:
 * @headers: (nullable): the SOAP headers
 * @event_types: the events wanted (#AglEwsEventTypes), at least one
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Subscribe with a StreamingSubscriptionRequest on the calendar folder.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_subscribe_streaming (const AglEwsRequestHeaders *headers,
                                     AglEwsEventTypes            event_types,
                                     GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) || !check_event_types (event_types, error) ||
      !check_version_at_least (headers, VERSION_EXCHANGE2010_SP1, _("Streaming notification"),
                               error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "Subscribe");
  start (&wr, "m", "StreamingSubscriptionRequest");
  write_subscription_body (&wr, event_types);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_subscribe_pull:
 * @headers: (nullable): the SOAP headers
 * @event_types: the events wanted, at least one
 * @watermark: (nullable): resume after this watermark
 * @timeout_minutes: how long the server keeps the subscription without a
 *   GetEvents, 1 to 1440
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Subscribe with a PullSubscriptionRequest on the calendar folder.
 *
 * Returns: (transfer full) (nullable): the request envelope
 */
GBytes *
agl_ews_request_subscribe_pull (const AglEwsRequestHeaders *headers,
                                AglEwsEventTypes            event_types,
                                const char                 *watermark,
                                guint                       timeout_minutes,
                                GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (timeout_minutes < 1 || timeout_minutes > 1440)
    {
      g_autofree char *message =
        g_strdup_printf (_("A pull subscription’s timeout must be between 1 and 1440 minutes, "
                           "not %u."), timeout_minutes);
      invalid (error, message);
      return NULL;
    }
  if (!check_headers (headers, error) || !check_event_types (event_types, error) ||
      !check_optional_text (watermark, _("watermark"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "Subscribe");
  start (&wr, "m", "PullSubscriptionRequest");
  write_subscription_body (&wr, event_types);
  if (watermark != NULL)
    text_element (&wr, "t", "Watermark", watermark);
  uint_element (&wr, "t", "Timeout", timeout_minutes);
  end (&wr);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_get_streaming_events:
 * @headers: (nullable): the SOAP headers
 * @subscription_ids: (array zero-terminated=1): at least one SubscriptionId
 * @connection_timeout: ConnectionTimeout in minutes, 1 to 30
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): the GetStreamingEvents envelope
 */
GBytes *
agl_ews_request_get_streaming_events (const AglEwsRequestHeaders *headers,
                                      const char * const         *subscription_ids,
                                      guint                       connection_timeout,
                                      GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (connection_timeout < 1 || connection_timeout > 30)
    {
      g_autofree char *message =
        g_strdup_printf (_("ConnectionTimeout must be between 1 and 30 minutes, not %u."),
                         connection_timeout);
      invalid (error, message);
      return NULL;
    }
  if (!check_headers (headers, error) ||
      !check_version_at_least (headers, VERSION_EXCHANGE2010_SP1, "GetStreamingEvents", error))
    return NULL;
  if (subscription_ids == NULL || subscription_ids[0] == NULL)
    {
      invalid (error, _("At least one subscription is needed."));
      return NULL;
    }
  for (guint i = 0; subscription_ids[i] != NULL; i++)
    if (!check_text (subscription_ids[i], _("subscription id"), error))
      return NULL;

  begin (&wr, headers);
  start (&wr, "m", "GetStreamingEvents");
  start (&wr, "m", "SubscriptionIds");
  for (guint i = 0; subscription_ids[i] != NULL; i++)
    text_element (&wr, "t", "SubscriptionId", subscription_ids[i]);
  end (&wr);
  uint_element (&wr, "m", "ConnectionTimeout", connection_timeout);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_get_events:
 * @headers: (nullable): the SOAP headers
 * @subscription_id: a pull subscription's id
 * @watermark: the last watermark received
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): the GetEvents envelope
 */
GBytes *
agl_ews_request_get_events (const AglEwsRequestHeaders *headers,
                            const char                 *subscription_id,
                            const char                 *watermark,
                            GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_text (subscription_id, _("subscription id"), error) ||
      !check_text (watermark, _("watermark"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "GetEvents");
  text_element (&wr, "m", "SubscriptionId", subscription_id);
  text_element (&wr, "m", "Watermark", watermark);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_unsubscribe:
 * @headers: (nullable): the SOAP headers
 * @subscription_id: the subscription to end
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full) (nullable): the Unsubscribe envelope
 */
GBytes *
agl_ews_request_unsubscribe (const AglEwsRequestHeaders *headers,
                             const char                 *subscription_id,
                             GError                    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_headers (headers, error) ||
      !check_text (subscription_id, _("subscription id"), error))
    return NULL;

  begin (&wr, headers);
  start (&wr, "m", "Unsubscribe");
  text_element (&wr, "m", "SubscriptionId", subscription_id);
  end (&wr);
  return finish (&wr, error);
}

/**
 * agl_ews_request_autodiscover:
 * @email_address: the user's address
 * @error: return location for an #AGL_ERROR_INVALID_ARGUMENT
 *
 * The POX (plain old XML) Autodiscover request, asking for the Outlook
 * response schema that carries EwsUrl.
 *
 * Returns: (transfer full) (nullable): the request document
 */
GBytes *
agl_ews_request_autodiscover (const char *email_address,
                              GError    **error)
{
  g_auto(Writer) wr = { 0 };

  if (!check_text (email_address, _("e-mail address"), error))
    return NULL;

  wr.buffer = xmlBufferCreate ();
  wr.w = wr.buffer != NULL ? xmlNewTextWriterMemory (wr.buffer, 0) : NULL;
  if (wr.w == NULL)
    wr.failed = TRUE;
  else
    {
      xmlTextWriterSetIndent (wr.w, 1);
      xmlTextWriterSetIndentString (wr.w, BAD_CAST "  ");
      check_rc (&wr, xmlTextWriterStartDocument (wr.w, NULL, "utf-8", NULL));
      check_rc (&wr, xmlTextWriterStartElementNS (wr.w, NULL, BAD_CAST "Autodiscover",
                                                  BAD_CAST AGL_EWS_NS_AUTODISCOVER_REQUEST));
      check_rc (&wr, xmlTextWriterStartElement (wr.w, BAD_CAST "Request"));
      check_rc (&wr, xmlTextWriterWriteElement (wr.w, BAD_CAST "EMailAddress",
                                                BAD_CAST email_address));
      check_rc (&wr, xmlTextWriterWriteElement (wr.w, BAD_CAST "AcceptableResponseSchema",
                                                BAD_CAST AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE));
    }
  return finish (&wr, error);
}
