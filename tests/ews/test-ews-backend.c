/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "agl-ews-backend.h"
#include "ews-test-peer.h"

/* The peer answers each operation with a real response from the EWS kit. */
typedef struct {
  EwsTestPeer *peer;
  AglRemote   *remote;
  char        *url;
  gboolean     done;
  GAsyncResult *result;
  const char  *get_folder_body;   /* replaces the GetFolder answer when set */
  const char  *sync_body;         /* replaces the SyncFolderItems answer when set */
  const char  *subscribe_body;    /* replaces the Subscribe answer when set */
  gboolean     without_version;
} Fixture;

static char *
kit_sample (const char *name)
{
  const char *kit = g_getenv ("AGL_EWS_KIT");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_nonnull (kit);
  path = g_build_filename (kit, "samples", name, NULL);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

#define M_OPEN(name) "<m:" name " xmlns:m=\"" EWS_TEST_NS_M "\" xmlns:t=\"" EWS_TEST_NS_T "\">" \
  "<m:ResponseMessages><m:" name "Message ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
#define M_CLOSE(name) "</m:" name "Message></m:ResponseMessages></m:" name ">"

/* The kit has no pull-notification traffic: hand-made answers in the
 * schema's shape. */
static const struct {
  const char *operation;
  const char *sample;
} pull_answers[] = {
  { "<m:Subscribe",
    M_OPEN ("SubscribeResponse") "<m:SubscriptionId>SUB-9</m:SubscriptionId>"
    "<m:Watermark>WM-0</m:Watermark>" M_CLOSE ("SubscribeResponse") },
  { "<m:GetEvents",
    M_OPEN ("GetEventsResponse") "<m:Notification><t:SubscriptionId>SUB-9</t:SubscriptionId>"
    "<t:PreviousWatermark>WM-0</t:PreviousWatermark><t:MoreEvents>false</t:MoreEvents>"
    "<t:CreatedEvent><t:Watermark>WM-1</t:Watermark><t:TimeStamp>2026-11-21T10:00:00Z</t:TimeStamp>"
    "<t:ItemId Id=\"I-1\" ChangeKey=\"C\"/><t:ParentFolderId Id=\"CAL-1\" ChangeKey=\"C\"/>"
    "</t:CreatedEvent><t:StatusEvent><t:Watermark>WM-2</t:Watermark></t:StatusEvent>"
    "</m:Notification>" M_CLOSE ("GetEventsResponse") },
  { "<m:Unsubscribe",
    M_OPEN ("UnsubscribeResponse") M_CLOSE ("UnsubscribeResponse") },
};

static void
kit_handler (EwsTestPeer       *peer,
             SoupServerMessage *message,
             EwsTestRequest    *request,
             guint              n,
             gpointer           user_data)
{
  Fixture *f = user_data;
  static const struct {
    const char *operation;
    const char *sample;
  } answers[] = {
    { "<m:SyncFolderItems", "syncfolderitems-response-update-create-delete-msdoc-ex2013.xml" },
    { "<m:GetItem", "getitem-response-calendaritem-full-msdoc-ex2007.xml" },
    { "<m:CreateItem", "createitem-response-calendaritem-msdoc-ex2007.xml" },
    { "<m:DeleteItem", "deleteitem-response-appointment-msdoc-ex2013.xml" },
    { "<m:GetUserOofSettingsRequest", "getuseroofsettings-response-duration-msdoc-ex2007.xml" },
  };

  if (strstr (request->body, "<m:GetFolder") != NULL)
    {
      g_autofree char *xml = NULL;
      const char *body = f->get_folder_body != NULL ? f->get_folder_body : EWS_TEST_GET_FOLDER_OK;

      if (f->without_version)
        xml = g_strconcat ("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                           "<s:Body>", body, "</s:Body></s:Envelope>", NULL);
      else
        xml = ews_test_envelope (body);
      ews_test_respond (message, SOUP_STATUS_OK, xml);
      return;
    }
  if ((f->sync_body != NULL && strstr (request->body, "<m:SyncFolderItems") != NULL) ||
      (f->subscribe_body != NULL && strstr (request->body, "<m:Subscribe") != NULL))
    {
      const char *body = strstr (request->body, "<m:Subscribe") != NULL ? f->subscribe_body
                                                                        : f->sync_body;
      g_autofree char *xml = NULL;

      /* A whole envelope (a SOAP fault) goes as it is. */
      if (g_str_has_prefix (body, "<s:Envelope"))
        {
          ews_test_respond (message, SOUP_STATUS_INTERNAL_SERVER_ERROR, body);
          return;
        }
      xml = ews_test_envelope (body);
      ews_test_respond (message, SOUP_STATUS_OK, xml);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (pull_answers); i++)
    if (strstr (request->body, pull_answers[i].operation) != NULL)
      {
        g_autofree char *xml = ews_test_envelope (pull_answers[i].sample);

        ews_test_respond (message, SOUP_STATUS_OK, xml);
        return;
      }
  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    if (strstr (request->body, answers[i].operation) != NULL)
      {
        g_autofree char *xml = kit_sample (answers[i].sample);

        ews_test_respond (message, SOUP_STATUS_OK, xml);
        return;
      }
  g_error ("Unexpected request: %s", request->body);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(AglEwsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->peer = ews_test_peer_new ("127.0.0.1");
  f->url = ews_test_peer_url (f->peer, "/EWS/Exchange.asmx");
  ews_test_peer_set_handler (f->peer, kit_handler, f);
  account = ews_test_account (f->url, "basic", TRUE);
  connection = agl_ews_connection_new (account, "secret", &error);
  g_assert_no_error (error);
  f->remote = agl_ews_backend_new (connection);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->remote);
  g_clear_object (&f->result);
  g_clear_pointer (&f->peer, ews_test_peer_free);
  g_free (f->url);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
  f->done = TRUE;
}

static GAsyncResult *
wait_result (Fixture *f)
{
  ews_test_wait (&f->done);
  f->done = FALSE;
  return f->result;
}

static void
test_connection_ok (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  agl_remote_test_connection_async (f->remote, NULL, done_cb, f);
  info = agl_remote_test_connection_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->url, ==, f->url);
  g_assert_cmpstr (info->product, ==, "Microsoft Exchange");
  g_assert_cmpstr (info->server_version, ==, "15.1.2507.39");
  g_assert_cmpstr (info->mailbox, ==, "anna@example.com");
  g_assert_cmpstr (info->impersonation, ==, "not used");
  g_assert_cmpstr (info->calendar_folder, ==, "CAL-1");
}

static void
test_connection_impersonation (Fixture       *f,
                               gconstpointer  data)
{
  AglEwsConnection *connection = agl_ews_backend_get_connection (AGL_EWS_BACKEND (f->remote));
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  agl_ews_connection_set_impersonation (connection, "room1@example.com");
  agl_remote_test_connection_async (f->remote, NULL, done_cb, f);
  info = agl_remote_test_connection_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->impersonation, ==, "works");
  g_assert_cmpstr (info->mailbox, ==, "room1@example.com");
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body, "ExchangeImpersonation"));
}

#define IMPERSONATE_DENIED \
  "<m:GetFolderResponse xmlns:m=\"" EWS_TEST_NS_M "\" xmlns:t=\"" EWS_TEST_NS_T "\">" \
  "<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass=\"Error\">" \
  "<m:MessageText>The account does not have permission to impersonate the requested user.</m:MessageText>" \
  "<m:ResponseCode>ErrorImpersonateUserDenied</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>" \
  "</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"

static void
test_connection_impersonation_denied (Fixture       *f,
                                      gconstpointer  data)
{
  AglEwsConnection *connection = agl_ews_backend_get_connection (AGL_EWS_BACKEND (f->remote));
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  f->get_folder_body = IMPERSONATE_DENIED;
  agl_ews_connection_set_impersonation (connection, "room1@example.com");
  agl_remote_test_connection_async (f->remote, NULL, done_cb, f);
  info = agl_remote_test_connection_finish (f->remote, wait_result (f), &error);
  g_assert_null (info);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_IMPERSONATE_USER_DENIED);
  g_assert_nonnull (strstr (error->message, "ErrorImpersonateUserDenied"));
}

static void
test_connection_not_ews (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  f->without_version = TRUE;
  agl_remote_test_connection_async (f->remote, NULL, done_cb, f);
  info = agl_remote_test_connection_finish (f->remote, wait_result (f), &error);
  g_assert_null (info);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_assert_nonnull (strstr (error->message, "not an Exchange EWS endpoint"));
}

static void
test_sync_page (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteChange *change;

  agl_remote_sync_folder_items_async (f->remote, "OLD-STATE", 100, NULL, done_cb, f);
  page = agl_remote_sync_folder_items_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (page->state, ==, "H4sIAAAAAAAEAO29B2AcSZY==");
  g_assert_true (page->includes_last);
  /* Microsoft's sample is of a mail folder: its Update and two Creates
   * are IPM.Note messages, no events, and the ReadFlagChange is left out;
   * the Delete stays (it names no class). */
  g_assert_cmpuint (page->changes->len, ==, 1);
  change = g_ptr_array_index (page->changes, 0);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_DELETE);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body,
                            "<m:SyncState>OLD-STATE</m:SyncState>"));
}

/* A calendar folder's page in the schema's shape (IdOnly + item:ItemClass,
 * as the backend asks): appointments of any IPM.Appointment class pass,
 * meeting messages filed there do not. */
#define CALENDAR_SYNC_PAGE \
  M_OPEN ("SyncFolderItemsResponse") "<m:SyncState>S-2</m:SyncState>" \
  "<m:IncludesLastItemInRange>true</m:IncludesLastItemInRange><m:Changes>" \
  "<t:Update><t:CalendarItem><t:ItemId Id=\"A-1\" ChangeKey=\"K-1\"/>" \
  "<t:ItemClass>IPM.Appointment</t:ItemClass></t:CalendarItem></t:Update>" \
  "<t:Create><t:MeetingRequest><t:ItemId Id=\"M-1\" ChangeKey=\"K-2\"/>" \
  "<t:ItemClass>IPM.Schedule.Meeting.Request</t:ItemClass></t:MeetingRequest></t:Create>" \
  "<t:Create><t:CalendarItem><t:ItemId Id=\"A-2\" ChangeKey=\"K-3\"/>" \
  "<t:ItemClass>ipm.appointment.Custom</t:ItemClass></t:CalendarItem></t:Create>" \
  "<t:Update><t:MeetingCancellation><t:ItemId Id=\"M-2\" ChangeKey=\"K-4\"/>" \
  "<t:ItemClass>IPM.Schedule.Meeting.Canceled</t:ItemClass></t:MeetingCancellation></t:Update>" \
  "<t:Create><t:Item><t:ItemId Id=\"F-1\" ChangeKey=\"K-5\"/>" \
  "<t:ItemClass>IPM.Appointmentish</t:ItemClass></t:Item></t:Create>" \
  "<t:Delete><t:ItemId Id=\"M-3\" ChangeKey=\"K-6\"/></t:Delete>" \
  "</m:Changes>" M_CLOSE ("SyncFolderItemsResponse")

static void
test_sync_appointments_only (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(GError) error = NULL;
  static const struct {
    AglRemoteChangeKind kind;
    const char *id;
  } expected[] = {
    { AGL_REMOTE_CHANGE_UPDATE, "A-1" },
    { AGL_REMOTE_CHANGE_CREATE, "A-2" },
    { AGL_REMOTE_CHANGE_DELETE, "M-3" },
  };

  f->sync_body = CALENDAR_SYNC_PAGE;
  agl_remote_sync_folder_items_async (f->remote, "S-1", 100, NULL, done_cb, f);
  page = agl_remote_sync_folder_items_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (page->state, ==, "S-2");
  g_assert_cmpuint (page->changes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      AglRemoteChange *change = g_ptr_array_index (page->changes, i);

      g_assert_cmpint (change->kind, ==, expected[i].kind);
      g_assert_cmpstr (change->id, ==, expected[i].id);
    }
  /* The class is asked for, or the filter would have nothing to go on. */
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body,
                            "<t:FieldURI FieldURI=\"item:ItemClass\"/>"));
}

/* How servers without streaming notifications answer a
 * StreamingSubscriptionRequest: each must read as NOT_SUPPORTED. */
static const char *const refusals[] = {
  /* Exchange 2007 SP1 does not know the element: a schema fault. */
  "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
  "<faultcode xmlns:a=\"http://schemas.microsoft.com/exchange/services/2006/types\">a:ErrorSchemaValidation</faultcode>"
  "<faultstring xml:lang=\"en-US\">The request failed schema validation: The element 'Subscribe' in namespace "
  "'http://schemas.microsoft.com/exchange/services/2006/messages' has invalid child element "
  "'StreamingSubscriptionRequest'.</faultstring><detail>"
  "<e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorSchemaValidation</e:ResponseCode>"
  "</detail></s:Fault></s:Body></s:Envelope>",
  "<m:SubscribeResponse xmlns:m=\"" EWS_TEST_NS_M "\"><m:ResponseMessages>"
  "<m:SubscribeResponseMessage ResponseClass=\"Error\"><m:MessageText>The subscription request is invalid.</m:MessageText>"
  "<m:ResponseCode>ErrorInvalidSubscriptionRequest</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
  "</m:SubscribeResponseMessage></m:ResponseMessages></m:SubscribeResponse>",
  "<m:SubscribeResponse xmlns:m=\"" EWS_TEST_NS_M "\"><m:ResponseMessages>"
  "<m:SubscribeResponseMessage ResponseClass=\"Error\"><m:MessageText>The request is invalid.</m:MessageText>"
  "<m:ResponseCode>ErrorInvalidRequest</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
  "</m:SubscribeResponseMessage></m:ResponseMessages></m:SubscribeResponse>",
};

static void
test_watch_not_supported (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint refusal = GPOINTER_TO_UINT (data);

  f->subscribe_body = refusals[refusal];
  agl_remote_watch_async (f->remote, 1, NULL, done_cb, f);
  g_assert_false (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_error (error, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED);
  g_assert_null (agl_remote_get_subscription_id (f->remote));
  /* A GetFolder told the server's version, then the server refused. */
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body, "<m:GetFolder"));
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 2)->body,
                            "<m:StreamingSubscriptionRequest"));
}

/* An account pinned to Exchange 2007 SP1 cannot ask for streaming: no
 * Subscribe is sent at all. */
static void
test_watch_not_supported_pinned_2007 (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "basic", TRUE);
  g_autoptr(AglEwsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  g_free (account->server_version);
  account->server_version = g_strdup ("Exchange2007_SP1");
  connection = agl_ews_connection_new (account, "secret", &error);
  g_assert_no_error (error);
  g_clear_object (&f->remote);
  f->remote = agl_ews_backend_new (connection);

  agl_remote_watch_async (f->remote, 1, NULL, done_cb, f);
  g_assert_false (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_error (error, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body, "<m:GetFolder"));
}

static void
test_get_items (Fixture       *f,
                gconstpointer  data)
{
  const char * const ids[] = { "ASUAdT", NULL };
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteItem *item;

  agl_remote_get_items_async (f->remote, ids, NULL, done_cb, f);
  items = agl_remote_get_items_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 1);
  item = g_ptr_array_index (items, 0);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->id, ==, "ASUAdT");
  g_assert_cmpstr (item->change_key, ==, "otlIqB==");
  g_assert_nonnull (strstr (item->ical, "BEGIN:VEVENT"));
  /* 2006-06-16T00:30:00Z in the item's own zone (Pacific, from its TimeZone). */
  g_assert_nonnull (strstr (item->ical, "DTSTART;TZID=America/Los_Angeles:20060615T173000"));
  g_assert_null (item->local_identity);
}

#define NEW_EVENT \
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//Test//EN\r\n" \
  "BEGIN:VEVENT\r\nUID:local-uid-1\r\nDTSTAMP:20261121T100000Z\r\n" \
  "DTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Review\r\n" \
  "END:VEVENT\r\nEND:VCALENDAR\r\n"

static void
test_create_item (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  const char *body;

  agl_remote_create_item_async (f->remote, NEW_EVENT, "local-uid-1", AGL_REMOTE_SEND_NONE,
                                NULL, done_cb, f);
  item = agl_remote_create_item_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (item->id, ==, "AAAlAFV");
  g_assert_cmpstr (item->change_key, ==, "DwAAABYA");
  body = ews_test_peer_request (f->peer, 1)->body;
  g_assert_nonnull (strstr (body, "SendMeetingInvitations=\"SendToNone\""));
  g_assert_nonnull (strstr (body, "local-uid-1"));
  g_assert_nonnull (strstr (body, AGL_EWS_PROPERTY_SET_ID));
}

static void
test_create_item_invalid (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;

  agl_remote_create_item_async (f->remote, "not iCalendar", "local-uid-1", AGL_REMOTE_SEND_NONE,
                                NULL, done_cb, f);
  item = agl_remote_create_item_finish (f->remote, wait_result (f), &error);
  g_assert_null (item);
  g_assert_nonnull (error);
  /* Refused before anything was sent. */
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 0);
}

static void
test_delete_item (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gboolean deleted;
  const char *body;

  agl_remote_delete_item_async (f->remote, "AAAlAFV", "DwAAABYA", AGL_REMOTE_SEND_TO_ALL, NULL,
                                done_cb, f);
  deleted = agl_remote_delete_item_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_true (deleted);
  body = ews_test_peer_request (f->peer, 1)->body;
  g_assert_nonnull (strstr (body, "SendMeetingCancellations=\"SendToAllAndSaveCopy\""));
  g_assert_nonnull (strstr (body, "ChangeKey=\"DwAAABYA\""));
}

static void
test_oof_settings (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(AglRemoteOof) oof = NULL;
  g_autoptr(GError) error = NULL;

  agl_remote_get_oof_settings_async (f->remote, NULL, done_cb, f);
  oof = agl_remote_get_oof_settings_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpint (oof->state, ==, AGL_REMOTE_OOF_DISABLED);
  g_assert_nonnull (oof->start);
  g_assert_nonnull (oof->end);
}

static void
test_pull_notifications (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AglRemoteSubscription) subscription = NULL;
  g_autoptr(AglRemoteEvents) events = NULL;
  g_autoptr(GError) error = NULL;

  agl_remote_subscribe_async (f->remote, NULL, NULL, done_cb, f);
  subscription = agl_remote_subscribe_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (subscription->id, ==, "SUB-9");
  g_assert_cmpstr (subscription->watermark, ==, "WM-0");
  g_clear_object (&f->result);

  agl_remote_get_events_async (f->remote, subscription, NULL, done_cb, f);
  events = agl_remote_get_events_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  /* The StatusEvent only keeps the subscription alive. */
  g_assert_cmpuint (events->n_events, ==, 1);
  g_assert_false (events->more);
  g_assert_cmpstr (events->watermark, ==, "WM-2");
  g_assert_cmpstr (subscription->watermark, ==, "WM-2");
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 2)->body, "WM-0"));
  g_clear_object (&f->result);

  agl_remote_unsubscribe_async (f->remote, subscription->id, NULL, done_cb, f);
  g_assert_true (agl_remote_unsubscribe_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/ews/backend/test-connection/ok", test_connection_ok);
  ADD ("/ews/backend/test-connection/impersonation-works", test_connection_impersonation);
  ADD ("/ews/backend/test-connection/impersonation-denied", test_connection_impersonation_denied);
  ADD ("/ews/backend/test-connection/not-ews", test_connection_not_ews);
  ADD ("/ews/backend/sync-page", test_sync_page);
  ADD ("/ews/backend/sync-appointments-only", test_sync_appointments_only);
  g_test_add ("/ews/backend/watch/not-supported/schema-fault", Fixture, GUINT_TO_POINTER (0),
              fixture_set_up, test_watch_not_supported, fixture_tear_down);
  g_test_add ("/ews/backend/watch/not-supported/invalid-subscription-request", Fixture,
              GUINT_TO_POINTER (1), fixture_set_up, test_watch_not_supported, fixture_tear_down);
  g_test_add ("/ews/backend/watch/not-supported/invalid-request", Fixture, GUINT_TO_POINTER (2),
              fixture_set_up, test_watch_not_supported, fixture_tear_down);
  ADD ("/ews/backend/watch/not-supported/pinned-exchange2007", test_watch_not_supported_pinned_2007);
  ADD ("/ews/backend/get-items", test_get_items);
  ADD ("/ews/backend/create-item", test_create_item);
  ADD ("/ews/backend/create-item-invalid-not-sent", test_create_item_invalid);
  ADD ("/ews/backend/delete-item", test_delete_item);
  ADD ("/ews/backend/oof-settings", test_oof_settings);
  ADD ("/ews/backend/pull-notifications", test_pull_notifications);

  return g_test_run ();
}
