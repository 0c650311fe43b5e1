/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "agl-ews-connection.h"
#include "agl-ews-operations.h"
#include "agl-ews-streaming.h"
#include "ews-test-peer.h"

#define M_NS EWS_TEST_NS_M
#define T_NS EWS_TEST_NS_T

typedef struct {
  EwsTestPeer      *peer;
  AglEwsConnection *connection;
  char             *url;
  gboolean          done;
  AglEwsFolderInfo *folder;
  GError           *error;
  gint64            finished_at;
  guint             handler_state;
  GCancellable     *cancellable;
  GPtrArray        *sockets;        /* GSocket of each request, by the peer */
} Fixture;

/* The retries of the tests: short windows, three attempts. */
static const AglEwsRetryPolicy fast_retry = { 10, 50, 3 };

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->peer = ews_test_peer_new ("127.0.0.1");
  f->url = ews_test_peer_url (f->peer, "/EWS/Exchange.asmx");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->connection);
  g_clear_pointer (&f->peer, ews_test_peer_free);
  g_clear_pointer (&f->folder, agl_ews_folder_info_free);
  g_clear_error (&f->error);
  g_clear_object (&f->cancellable);
  g_clear_pointer (&f->sockets, g_ptr_array_unref);
  g_free (f->url);
}

static void
connect_account (Fixture    *f,
                 const char *auth,
                 gboolean    with_ca,
                 const char *secret)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, auth, with_ca);
  g_autoptr(GError) error = NULL;

  f->connection = agl_ews_connection_new (account, secret, &error);
  g_assert_no_error (error);
  agl_ews_connection_set_retry_policy (f->connection, &fast_retry);
}

static void
folder_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Fixture *f = user_data;

  f->folder = agl_ews_get_calendar_folder_finish (AGL_EWS_CONNECTION (source), result, &f->error);
  f->finished_at = g_get_monotonic_time ();
  f->done = TRUE;
}

static void
get_folder (Fixture *f)
{
  f->done = FALSE;
  agl_ews_get_calendar_folder_async (f->connection, f->cancellable, folder_cb, f);
  ews_test_wait (&f->done);
}

static void
respond_folder (SoupServerMessage *message)
{
  g_autofree char *xml = ews_test_envelope (EWS_TEST_GET_FOLDER_OK);

  ews_test_respond (message, SOUP_STATUS_OK, xml);
}

static void
folder_handler (EwsTestPeer       *peer,
                SoupServerMessage *message,
                EwsTestRequest    *request,
                guint              n,
                gpointer           user_data)
{
  respond_folder (message);
}

/* TLS */

static void
test_tls_ca_file_accepted (Fixture       *f,
                           gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, folder_handler, f);
  connect_account (f, "basic", TRUE, "secret");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->folder->folder_id, ==, "CAL-1");
}

static void
test_tls_unknown_ca_refused (Fixture       *f,
                             gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, folder_handler, f);
  connect_account (f, "basic", FALSE, "secret");
  get_folder (f);
  g_assert_error (f->error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (f->error->message, "not signed by a trusted certificate authority"));
  g_assert_nonnull (strstr (f->error->message, "127.0.0.1"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 0);
}

static void
test_tls_wrong_host_refused (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(EwsTestPeer) other = ews_test_peer_new ("127.0.0.2");

  /* The certificate names localhost, 127.0.0.1 and ::1 only. */
  g_free (f->url);
  f->url = ews_test_peer_url (other, "/EWS/Exchange.asmx");
  ews_test_peer_set_handler (other, folder_handler, f);
  connect_account (f, "basic", TRUE, "secret");
  get_folder (f);
  g_assert_error (f->error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (f->error->message, "not issued for this host name"));
  g_assert_cmpuint (ews_test_peer_n_requests (other), ==, 0);
  g_clear_object (&f->connection);
}

static void
test_ca_file_unreadable (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "basic", FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsConnection) connection = NULL;

  account->ca_file = g_strdup ("/nonexistent/ca.pem");
  connection = agl_ews_connection_new (account, "secret", &error);
  g_assert_null (connection);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/ca.pem"));
}

/* Authentication */

static void
basic_handler (EwsTestPeer       *peer,
               SoupServerMessage *message,
               EwsTestRequest    *request,
               guint              n,
               gpointer           user_data)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *) "anna:secret", 11);
  g_autofree char *expected = g_strconcat ("Basic ", encoded, NULL);

  if (g_strcmp0 (request->authorization, expected) == 0)
    {
      /* Sent again after the 401, with its body. */
      g_assert_nonnull (strstr (request->body, "<m:GetFolder"));
      respond_folder (message);
      return;
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (message),
                                "WWW-Authenticate", "Basic realm=\"example.com\"");
  ews_test_respond (message, SOUP_STATUS_UNAUTHORIZED, NULL);
}

static void
test_auth_basic (Fixture       *f,
                 gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, basic_handler, f);
  connect_account (f, "basic", TRUE, "secret");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->folder->folder_id, ==, "CAL-1");
}

/* Connection reuse */

static void
socket_handler (EwsTestPeer       *peer,
                SoupServerMessage *message,
                EwsTestRequest    *request,
                guint              n,
                gpointer           user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->sockets, g_object_ref (soup_server_message_get_socket (message)));
  respond_folder (message);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* POSTs go out on the kept-alive connection; one the server closed while
 * it was idle (IIS after its connection timeout) is not written to: the
 * request goes out once, on a new connection, without an error. */
static void
test_keep_alive (Fixture       *f,
                 gconstpointer  data)
{
  gboolean waited = FALSE;

  f->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  ews_test_peer_set_handler (f->peer, socket_handler, f);
  connect_account (f, "oauth2", TRUE, "token");
  for (guint i = 0; i < 3; i++)
    {
      get_folder (f);
      g_assert_no_error (f->error);
      g_clear_pointer (&f->folder, agl_ews_folder_info_free);
    }
  g_assert_cmpuint (f->sockets->len, ==, 3);
  g_assert_true (f->sockets->pdata[1] == f->sockets->pdata[0]);
  g_assert_true (f->sockets->pdata[2] == f->sockets->pdata[0]);

  /* The server ends the idle connection; its FIN arrives before the next
   * request is sent. */
  g_assert_true (g_socket_shutdown (f->sockets->pdata[0], FALSE, TRUE, NULL));
  g_timeout_add (100, set_flag_cb, &waited);
  ews_test_wait (&waited);

  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (f->sockets->len, ==, 4);
  g_assert_true (f->sockets->pdata[3] != f->sockets->pdata[0]);
}

static void
test_auth_basic_refused (Fixture       *f,
                         gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, basic_handler, f);
  connect_account (f, "basic", TRUE, "wrong");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (f->error->message, "“anna”"));
  /* The password is never part of a message. */
  g_assert_null (strstr (f->error->message, "wrong"));
  /* Once without, once with the refused credentials; never again. */
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
}

static guint32
read32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* A field of an NTLM message, OEM or UTF-16LE, as UTF-8. */
static char *
ntlm_string (const guint8 *msg,
             gsize         len,
             gsize         at,
             gboolean      unicode)
{
  guint16 field_len = msg[at] | (msg[at + 1] << 8);
  guint32 offset = read32 (msg + at + 4);

  g_assert_cmpuint ((gsize) offset + field_len, <=, len);
  if (unicode)
    return g_utf16_to_utf8 ((const gunichar2 *) (msg + offset), field_len / 2, NULL, NULL, NULL);
  return g_strndup ((const char *) msg + offset, field_len);
}

typedef struct {
  guint  types_seen[8];
  char  *domain;
  char  *user;
} NtlmSeen;

static void
ntlm_handler (EwsTestPeer       *peer,
              SoupServerMessage *message,
              EwsTestRequest    *request,
              guint              n,
              gpointer           user_data)
{
  NtlmSeen *seen = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (message);
  g_autofree guint8 *msg = NULL;
  gsize len = 0;
  guint32 type;
  gboolean unicode;

  if (request->authorization == NULL || !g_str_has_prefix (request->authorization, "NTLM "))
    {
      soup_message_headers_replace (headers, "WWW-Authenticate", "NTLM");
      ews_test_respond (message, SOUP_STATUS_UNAUTHORIZED, NULL);
      return;
    }
  msg = g_base64_decode (request->authorization + 5, &len);
  g_assert_cmpuint (len, >=, 12);
  g_assert_cmpmem (msg, 8, "NTLMSSP\0", 8);
  type = read32 (msg + 8);
  g_assert_cmpuint (type, >=, 1);
  g_assert_cmpuint (type, <=, 3);
  seen->types_seen[type & 7]++;

  if (type == 1)
    {
      /* A Type 2 challenge: no target name, NTLM, Unicode, always sign. */
      guint8 challenge[48] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2, 0, 0, 0,
                               0, 0, 0, 0, 48, 0, 0, 0,
                               0x01, 0x82, 0x00, 0x00,
                               1, 2, 3, 4, 5, 6, 7, 8 };
      g_autofree char *encoded = NULL;
      g_autofree char *value = NULL;

      challenge[40] = 0;
      challenge[44] = 48;
      encoded = g_base64_encode (challenge, sizeof challenge);
      value = g_strconcat ("NTLM ", encoded, NULL);
      soup_message_headers_replace (headers, "WWW-Authenticate", value);
      ews_test_respond (message, SOUP_STATUS_UNAUTHORIZED, NULL);
      return;
    }
  g_assert_cmpuint (type, ==, 3);
  g_assert_cmpuint (len, >=, 52);
  /* The flags of a Type 3 message say whether its strings are Unicode. */
  unicode = len >= 64 && (read32 (msg + 60) & 1) != 0;
  seen->domain = ntlm_string (msg, len, 28, unicode);
  seen->user = ntlm_string (msg, len, 36, unicode);
  /* The request sent again after the handshake carries its body again. */
  g_assert_nonnull (strstr (request->body, "<m:GetFolder"));
  respond_folder (message);
}

static void
test_auth_ntlm (Fixture       *f,
                gconstpointer  data)
{
  NtlmSeen seen = { { 0 }, NULL, NULL };

  ews_test_peer_set_handler (f->peer, ntlm_handler, &seen);
  connect_account (f, "ntlm", TRUE, "secret");
  g_assert_cmpstr (agl_ews_connection_get_user (f->connection), ==, "EXAMPLE\\anna");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (seen.types_seen[1], ==, 1);
  g_assert_cmpuint (seen.types_seen[3], ==, 1);
  g_assert_cmpstr (seen.domain, ==, "EXAMPLE");
  g_assert_cmpstr (seen.user, ==, "anna");
  g_free (seen.domain);
  g_free (seen.user);
}

static void
bearer_handler (EwsTestPeer       *peer,
                SoupServerMessage *message,
                EwsTestRequest    *request,
                guint              n,
                gpointer           user_data)
{
  if (g_strcmp0 (request->authorization, "Bearer tok-123") == 0)
    respond_folder (message);
  else
    ews_test_respond (message, SOUP_STATUS_UNAUTHORIZED, NULL);
}

static void
test_auth_bearer (Fixture       *f,
                  gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, bearer_handler, f);
  connect_account (f, "oauth2", TRUE, "tok-123");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

/* Headers and version */

static void
test_headers (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "oauth2", TRUE);
  g_autoptr(GError) error = NULL;
  EwsTestRequest *request;

  g_free (account->server_version);
  account->server_version = g_strdup ("Exchange2013");
  f->connection = agl_ews_connection_new (account, "tok", &error);
  g_assert_no_error (error);
  agl_ews_connection_set_impersonation (f->connection, "room1@example.com");
  agl_ews_connection_set_time_zone_id (f->connection, "W. Europe Standard Time");
  ews_test_peer_set_handler (f->peer, folder_handler, f);
  get_folder (f);
  g_assert_no_error (f->error);

  request = ews_test_peer_request (f->peer, 1);
  g_assert_cmpstr (request->method, ==, "POST");
  g_assert_cmpstr (request->path, ==, "/EWS/Exchange.asmx");
  /* The impersonated mailbox is the one Exchange must route to. */
  g_assert_cmpstr (request->anchor_mailbox, ==, "room1@example.com");
  g_assert_nonnull (strstr (request->body, "RequestServerVersion Version=\"Exchange2013\""));
  g_assert_nonnull (strstr (request->body, "<t:PrimarySmtpAddress>room1@example.com</t:PrimarySmtpAddress>"));
  g_assert_nonnull (strstr (request->body, "TimeZoneDefinition Id=\"W. Europe Standard Time\""));
  /* A fixed version is not replaced by what the server says. */
  g_assert_cmpstr (agl_ews_connection_get_server_version (f->connection), ==, "Exchange2013");
  g_assert_cmpstr (agl_ews_connection_get_server_build (f->connection), ==, "15.1.2507.39");
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_server_version_learnt (Fixture       *f,
                            gconstpointer  data)
{
  guint notified = 0;

  ews_test_peer_set_handler (f->peer, folder_handler, f);
  connect_account (f, "oauth2", TRUE, "tok");
  g_signal_connect (f->connection, "notify::server-version", G_CALLBACK (count_notify_cb),
                    &notified);
  g_assert_null (agl_ews_connection_get_server_version (f->connection));
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpstr (agl_ews_connection_get_server_version (f->connection), ==, "Exchange2016");
  g_assert_cmpstr (agl_ews_connection_get_server_build (f->connection), ==, "15.1.2507.39");
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body, "Version=\"Exchange2007_SP1\""));

  g_clear_pointer (&f->folder, agl_ews_folder_info_free);
  get_folder (f);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 2)->body, "Version=\"Exchange2016\""));
  g_assert_cmpuint (notified, ==, 1);
}

/* The version an earlier connection learnt is asked for from the first
 * request on; the build is still learnt from this server's answer. */
static void
test_server_version_remembered (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "oauth2", TRUE);
  g_autoptr(GError) error = NULL;

  account->detected_server_version = g_strdup ("Exchange2013_SP1");
  account->server_build = g_strdup ("15.0.1497.2");
  f->connection = agl_ews_connection_new (account, "tok", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_ews_connection_get_server_version (f->connection), ==, "Exchange2013_SP1");
  g_assert_null (agl_ews_connection_get_server_build (f->connection));

  ews_test_peer_set_handler (f->peer, folder_handler, f);
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body,
                            "Version=\"Exchange2013_SP1\""));
  g_assert_cmpstr (agl_ews_connection_get_server_version (f->connection), ==, "Exchange2016");
  g_assert_cmpstr (agl_ews_connection_get_server_build (f->connection), ==, "15.1.2507.39");
}

/* A remembered value that is not a version (a damaged row) is ignored. */
static void
test_server_version_remembered_invalid (Fixture       *f,
                                        gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "oauth2", TRUE);
  g_autoptr(GError) error = NULL;

  account->detected_server_version = g_strdup ("Exchange2003");
  f->connection = agl_ews_connection_new (account, "tok", &error);
  g_assert_no_error (error);
  g_assert_null (agl_ews_connection_get_server_version (f->connection));
}

/* An account set to impersonate acts on its e-mail address, and routes
 * there with X-AnchorMailbox, while signing in as its user. */
static void
test_account_impersonates (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(AglAccount) account = ews_test_account (f->url, "oauth2", TRUE);
  g_autoptr(GError) error = NULL;
  EwsTestRequest *request;

  account->impersonate = TRUE;
  f->connection = agl_ews_connection_new (account, "tok", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (agl_ews_connection_get_impersonation (f->connection), ==, account->email);
  ews_test_peer_set_handler (f->peer, folder_handler, f);
  get_folder (f);
  g_assert_no_error (f->error);

  request = ews_test_peer_request (f->peer, 1);
  g_assert_cmpstr (request->anchor_mailbox, ==, account->email);
  g_assert_nonnull (strstr (request->body, "<t:ExchangeImpersonation>"));
  {
    g_autofree char *address = g_strdup_printf ("<t:PrimarySmtpAddress>%s</t:PrimarySmtpAddress>",
                                                account->email);

    g_assert_nonnull (strstr (request->body, address));
  }
}

/* Retries */

#define SERVER_BUSY_MESSAGE \
  "<m:GetFolderResponse xmlns:m=\"" M_NS "\" xmlns:t=\"" T_NS "\">" \
  "<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass=\"Error\">" \
  "<m:MessageText>The server cannot service this request right now. Try again later.</m:MessageText>" \
  "<m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>" \
  "<m:MessageXml><t:Value Name=\"BackOffMilliseconds\">@BACKOFF@</t:Value></m:MessageXml>" \
  "</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"

#define SERVER_BUSY_FAULT \
  "<s:Fault><faultcode xmlns:a=\"" T_NS "\">a:ErrorServerBusy</faultcode>" \
  "<faultstring xml:lang=\"en-US\">The server cannot service this request right now. Try again later.</faultstring>" \
  "<detail><e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorServerBusy</e:ResponseCode>" \
  "<e:Message xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">The server cannot service this request right now. Try again later.</e:Message>" \
  "<t:MessageXml xmlns:t=\"" T_NS "\"><t:Value Name=\"BackOffMilliseconds\">@BACKOFF@</t:Value></t:MessageXml>" \
  "</detail></s:Fault>"

typedef struct {
  const char *template;
  guint       status;
  guint       back_off_ms;
  guint       failures;   /* how many requests fail before one succeeds */
} BusyScript;

static void
busy_handler (EwsTestPeer       *peer,
              SoupServerMessage *message,
              EwsTestRequest    *request,
              guint              n,
              gpointer           user_data)
{
  const BusyScript *script = user_data;
  g_autoptr(GString) template = NULL;
  g_autofree char *body = NULL;
  g_autofree char *xml = NULL;

  if (n > script->failures)
    {
      respond_folder (message);
      return;
    }
  if (script->template == NULL)
    {
      ews_test_respond (message, script->status, NULL);
      return;
    }
  body = g_strdup_printf ("%u", script->back_off_ms);
  template = g_string_new (script->template);
  g_string_replace (template, "@BACKOFF@", body, 0);
  xml = ews_test_envelope (template->str);
  ews_test_respond (message, script->status, xml);
}

static void
check_server_busy (Fixture          *f,
                   const BusyScript *script)
{
  gint64 waited;

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
  /* A lower bound only: the retry must never come early. */
  waited = ews_test_peer_request (f->peer, 2)->time - ews_test_peer_request (f->peer, 1)->time;
  g_assert_cmpint (waited, >=, (gint64) script->back_off_ms * 1000);
}

static void
test_retry_server_busy (Fixture       *f,
                        gconstpointer  data)
{
  /* 300 ms is longer than the whole backoff window of fast_retry (50 ms):
   * only honouring BackOffMilliseconds passes. */
  const BusyScript script = { SERVER_BUSY_MESSAGE, SOUP_STATUS_OK, 300, 1 };

  check_server_busy (f, &script);
}

static void
test_retry_server_busy_fault (Fixture       *f,
                              gconstpointer  data)
{
  const BusyScript script = { SERVER_BUSY_FAULT, SOUP_STATUS_INTERNAL_SERVER_ERROR, 300, 1 };

  check_server_busy (f, &script);
}

static void
test_retry_503_then_success (Fixture       *f,
                             gconstpointer  data)
{
  const BusyScript script = { NULL, SOUP_STATUS_SERVICE_UNAVAILABLE, 0, 2 };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->folder->folder_id, ==, "CAL-1");
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 3);
}

static void
test_retry_500_without_soap (Fixture       *f,
                             gconstpointer  data)
{
  const BusyScript script = { NULL, SOUP_STATUS_INTERNAL_SERVER_ERROR, 0, 1 };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
}

static void
test_retry_max_attempts (Fixture       *f,
                         gconstpointer  data)
{
  const BusyScript script = { NULL, SOUP_STATUS_BAD_GATEWAY, 0, G_MAXUINT };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS);
  g_assert_nonnull (strstr (f->error->message, "GetFolder failed after 3 attempts"));
  g_assert_nonnull (strstr (f->error->message, "502"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 3);
}

#define ACCESS_DENIED_MESSAGE \
  "<m:GetFolderResponse xmlns:m=\"" M_NS "\" xmlns:t=\"" T_NS "\">" \
  "<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass=\"Error\">" \
  "<m:MessageText>Access is denied.</m:MessageText>" \
  "<m:ResponseCode>ErrorAccessDenied</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>" \
  "</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"

static void
test_retry_not_transient (Fixture       *f,
                          gconstpointer  data)
{
  const BusyScript script = { ACCESS_DENIED_MESSAGE, SOUP_STATUS_OK, 0, G_MAXUINT };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_ACCESS_DENIED);
  g_assert_nonnull (strstr (f->error->message, "ErrorAccessDenied"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

static void
test_http_404_not_ews (Fixture       *f,
                       gconstpointer  data)
{
  const BusyScript script = { NULL, SOUP_STATUS_NOT_FOUND, 0, G_MAXUINT };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS);
  g_assert_nonnull (strstr (f->error->message, "not an EWS endpoint"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

#define SCHEMA_FAULT \
  "<s:Fault><faultcode xmlns:a=\"" T_NS "\">a:ErrorSchemaValidation</faultcode>" \
  "<faultstring xml:lang=\"en-US\">The request failed schema validation.</faultstring>" \
  "<detail><e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">ErrorSchemaValidation</e:ResponseCode>" \
  "</detail></s:Fault>"

static void
test_retry_fault_not_transient (Fixture       *f,
                                gconstpointer  data)
{
  /* HTTP 500 with a SOAP fault is the server's answer, not a failure to
   * answer: ErrorSchemaValidation will not go away by asking again. */
  const BusyScript script = { SCHEMA_FAULT, SOUP_STATUS_INTERNAL_SERVER_ERROR, 0, G_MAXUINT };

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_SCHEMA_VALIDATION);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

/* The first answer stops in the middle of its body and the connection
 * closes, as when a proxy or load balancer drops it. */
static void
cut_handler (EwsTestPeer       *peer,
             SoupServerMessage *message,
             EwsTestRequest    *request,
             guint              n,
             gpointer           user_data)
{
  static const char partial[] = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                "Content-Length: 4000\r\n\r\n<?xml version=\"1.0\"?><s:Envel";
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;

  if (n > 1)
    {
      respond_folder (message);
      return;
    }
  stream = soup_server_message_steal_connection (message);
  g_output_stream_write_all (g_io_stream_get_output_stream (stream), partial, strlen (partial),
                             NULL, NULL, &error);
  g_assert_no_error (error);
  g_io_stream_close (stream, NULL, NULL);
}

static void
test_retry_connection_cut (Fixture       *f,
                           gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, cut_handler, f);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->folder->folder_id, ==, "CAL-1");
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
}

static void
write_item (xmlTextWriterPtr writer,
            gpointer         user_data)
{
  xmlTextWriterStartElement (writer, BAD_CAST "t:CalendarItem");
  xmlTextWriterWriteElement (writer, BAD_CAST "t:Subject", BAD_CAST "Review");
  xmlTextWriterEndElement (writer);
}

static void
items_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Fixture *f = user_data;
  g_autoptr(GPtrArray) items = NULL;

  items = agl_ews_items_finish (AGL_EWS_CONNECTION (source), result, &f->error);
  f->done = TRUE;
}

static void
test_retry_create_not_resent (Fixture       *f,
                              gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, cut_handler, f);
  connect_account (f, "oauth2", TRUE, "tok");
  agl_ews_create_items_async (f->connection, AGL_EWS_SEND_TO_NONE, write_item, NULL, NULL,
                              items_cb, f);
  ews_test_wait (&f->done);
  g_assert_nonnull (f->error);
  g_assert_nonnull (strstr (f->error->message, "CreateItem may have been carried out"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 1)->body, "<m:CreateItem"));
}

/* Cancels as soon as the connection announces its backoff wait: the one
 * moment the test can know the wait is pending, without a sleep. */
static Fixture *cancel_when_waiting;

static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (cancel_when_waiting != NULL && g_str_equal (fields[i].key, "MESSAGE") &&
        fields[i].length < 0 && strstr (fields[i].value, "next attempt in") != NULL)
      g_cancellable_cancel (cancel_when_waiting->cancellable);
  /* Debug output (GIO's socket client is chatty) stays out of the TAP log. */
  if (log_level & G_LOG_LEVEL_DEBUG)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
test_retry_cancel_during_wait (Fixture       *f,
                               gconstpointer  data)
{
  /* The server asks for a minute; the test must not take it. */
  const BusyScript script = { SERVER_BUSY_MESSAGE, SOUP_STATUS_OK, 60000, 1 };
  gint64 started;

  ews_test_peer_set_handler (f->peer, busy_handler, (gpointer) &script);
  connect_account (f, "oauth2", TRUE, "tok");
  f->cancellable = g_cancellable_new ();
  cancel_when_waiting = f;
  started = g_get_monotonic_time ();
  get_folder (f);
  cancel_when_waiting = NULL;
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
  g_assert_cmpint (f->finished_at - started, <, 30 * G_USEC_PER_SEC);
}

/* Bodies */

static void
truncated_handler (EwsTestPeer       *peer,
                   SoupServerMessage *message,
                   EwsTestRequest    *request,
                   guint              n,
                   gpointer           user_data)
{
  g_autofree char *xml = ews_test_envelope (EWS_TEST_GET_FOLDER_OK);

  xml[strlen (xml) / 2] = '\0';
  ews_test_respond (message, SOUP_STATUS_OK, xml);
}

static void
test_body_truncated (Fixture       *f,
                     gconstpointer  data)
{
  ews_test_peer_set_handler (f->peer, truncated_handler, f);
  connect_account (f, "oauth2", TRUE, "tok");
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_assert_null (f->folder);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

static void
big_handler (EwsTestPeer       *peer,
             SoupServerMessage *message,
             EwsTestRequest    *request,
             guint              n,
             gpointer           user_data)
{
  gboolean chunked = GPOINTER_TO_INT (user_data);
  g_autoptr(GString) body = g_string_new (EWS_TEST_GET_FOLDER_OK);
  g_autofree char *xml = NULL;

  /* Valid XML, only too long: a comment of 64 KiB. */
  g_string_append (body, "<!--");
  for (guint i = 0; i < 65536 / 16; i++)
    g_string_append (body, "0123456789abcdef");
  g_string_append (body, "-->");
  xml = ews_test_envelope (body->str);
  if (chunked)
    soup_message_headers_set_encoding (soup_server_message_get_response_headers (message),
                                       SOUP_ENCODING_CHUNKED);
  ews_test_respond (message, SOUP_STATUS_OK, xml);
}

static void
check_over_cap (Fixture  *f,
                gboolean  chunked)
{
  ews_test_peer_set_handler (f->peer, big_handler, GINT_TO_POINTER (chunked));
  connect_account (f, "oauth2", TRUE, "tok");
  agl_ews_connection_set_max_response_bytes (f->connection, 16384);
  get_folder (f);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_RESPONSE_TOO_LARGE);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

static void
test_body_over_cap (Fixture       *f,
                    gconstpointer  data)
{
  check_over_cap (f, FALSE);
}

static void
test_body_over_cap_chunked (Fixture       *f,
                            gconstpointer  data)
{
  check_over_cap (f, TRUE);
}

/* Streaming */

#define STREAMING_NOTIFICATION \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<soap11:Envelope xmlns:soap11=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap11:Body>" \
  "<m:GetStreamingEventsResponse xmlns:m=\"" M_NS "\" xmlns:t=\"" T_NS "\">" \
  "<m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">" \
  "<m:ResponseCode>NoError</m:ResponseCode><m:Notifications><m:Notification>" \
  "<t:SubscriptionId>SUB-1</t:SubscriptionId><t:ModifiedEvent>" \
  "<t:TimeStamp>2026-11-21T10:00:00Z</t:TimeStamp><t:ItemId Id=\"ITEM-%u\" ChangeKey=\"CK\"/>" \
  "<t:ParentFolderId Id=\"CAL-1\" ChangeKey=\"CK\"/></t:ModifiedEvent>" \
  "</m:Notification></m:Notifications><m:ConnectionStatus>OK</m:ConnectionStatus>" \
  "</m:GetStreamingEventsResponseMessage></m:ResponseMessages>" \
  "</m:GetStreamingEventsResponse></soap11:Body></soap11:Envelope>\r\n"

#define STREAMING_CLOSED \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<soap11:Envelope xmlns:soap11=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap11:Body>" \
  "<m:GetStreamingEventsResponse xmlns:m=\"" M_NS "\" xmlns:t=\"" T_NS "\">" \
  "<m:ResponseMessages><m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">" \
  "<m:ResponseCode>NoError</m:ResponseCode><m:ConnectionStatus>Closed</m:ConnectionStatus>" \
  "</m:GetStreamingEventsResponseMessage></m:ResponseMessages>" \
  "</m:GetStreamingEventsResponse></soap11:Body></soap11:Envelope>\r\n"

typedef struct {
  SoupServerMessage *message;
  GPtrArray         *ids;
  gboolean           done;
  GError            *error;
  guint              requests_at_second;
  EwsTestPeer       *peer;
} StreamingState;

static void
append_chunk (SoupServerMessage *message,
              const char        *text)
{
  soup_message_body_append (soup_server_message_get_response_body (message), SOUP_MEMORY_COPY,
                            text, strlen (text));
  soup_server_message_unpause (message);
}

static void
streaming_handler (EwsTestPeer       *peer,
                   SoupServerMessage *message,
                   EwsTestRequest    *request,
                   guint              n,
                   gpointer           user_data)
{
  StreamingState *state = user_data;
  g_autofree char *first = g_strdup_printf (STREAMING_NOTIFICATION, 1u);

  g_assert_nonnull (strstr (request->body, "GetStreamingEvents"));
  state->message = message;
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (message),
                                         "text/xml; charset=utf-8", NULL);
  soup_message_headers_set_encoding (soup_server_message_get_response_headers (message),
                                     SOUP_ENCODING_CHUNKED);
  soup_server_message_pause (message);
  append_chunk (message, first);
}

/* The next chunk goes out only once the client has delivered the previous
 * one: the notifications must arrive while the response is still open. */
static void
notification_cb (AglEwsStreaming    *streaming,
                 AglEwsNotification *notification,
                 StreamingState     *state)
{
  AglEwsEvent *event;

  g_assert_cmpstr (notification->subscription_id, ==, "SUB-1");
  g_assert_cmpuint (notification->events->len, ==, 1);
  event = g_ptr_array_index (notification->events, 0);
  g_assert_cmpint (event->kind, ==, AGL_EWS_EVENT_KIND_MODIFIED);
  g_ptr_array_add (state->ids, g_strdup (event->id));
  g_assert_false (state->done);

  if (state->ids->len == 1)
    {
      g_autofree char *second = g_strdup_printf (STREAMING_NOTIFICATION, 2u);
      gsize half = strlen (second) / 2;
      g_autofree char *head = g_strndup (second, half);

      /* Split inside the envelope, so that the client must join pieces. */
      append_chunk (state->message, head);
      append_chunk (state->message, second + half);
    }
  else
    {
      append_chunk (state->message, STREAMING_CLOSED);
      soup_message_body_complete (soup_server_message_get_response_body (state->message));
      soup_server_message_unpause (state->message);
    }
}

static void
streaming_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  StreamingState *state = user_data;

  agl_ews_streaming_run_finish (AGL_EWS_STREAMING (source), result, &state->error);
  state->done = TRUE;
}

static void
test_streaming_notifications (Fixture       *f,
                              gconstpointer  data)
{
  StreamingState state = { NULL, g_ptr_array_new_with_free_func (g_free), FALSE, NULL, 0, f->peer };
  g_autoptr(AglEwsStreaming) streaming = NULL;
  const char * const ids[] = { "SUB-1", NULL };

  g_autoptr(AglAccount) account = ews_test_account (f->url, "oauth2", TRUE);
  g_autoptr(GError) error = NULL;

  /* Streaming needs Exchange 2010 SP1; the version is normally learnt by
   * the Subscribe before. */
  g_free (account->server_version);
  account->server_version = g_strdup ("Exchange2013");
  f->connection = agl_ews_connection_new (account, "tok", &error);
  g_assert_no_error (error);
  ews_test_peer_set_handler (f->peer, streaming_handler, &state);
  streaming = agl_ews_streaming_new (f->connection);
  g_signal_connect (streaming, "notification", G_CALLBACK (notification_cb), &state);
  agl_ews_streaming_run_async (streaming, ids, 30, NULL, streaming_done_cb, &state);
  ews_test_wait (&state.done);
  g_assert_no_error (state.error);
  g_assert_cmpuint (state.ids->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (state.ids, 0), ==, "ITEM-1");
  g_assert_cmpstr (g_ptr_array_index (state.ids, 1), ==, "ITEM-2");
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
  g_ptr_array_unref (state.ids);
}

int
main (int   argc,
      char *argv[])
{
  /* libsoup would first try Samba's ntlm_auth helper for single sign-on. */
  g_setenv ("SOUP_NTLM_AUTH_DEBUG", "", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/ews/connection/tls/ca-file-accepted", test_tls_ca_file_accepted);
  ADD ("/ews/connection/tls/unknown-ca-refused", test_tls_unknown_ca_refused);
  ADD ("/ews/connection/tls/wrong-host-refused", test_tls_wrong_host_refused);
  ADD ("/ews/connection/tls/ca-file-unreadable", test_ca_file_unreadable);
  ADD ("/ews/connection/auth/basic", test_auth_basic);
  ADD ("/ews/connection/keep-alive", test_keep_alive);
  ADD ("/ews/connection/auth/basic-refused-names-user", test_auth_basic_refused);
  ADD ("/ews/connection/auth/ntlm-type1-type3", test_auth_ntlm);
  ADD ("/ews/connection/auth/bearer", test_auth_bearer);
  ADD ("/ews/connection/headers/anchor-version-impersonation-tz", test_headers);
  ADD ("/ews/connection/server-version/learnt", test_server_version_learnt);
  ADD ("/ews/connection/server-version/remembered", test_server_version_remembered);
  ADD ("/ews/connection/server-version/remembered-invalid", test_server_version_remembered_invalid);
  ADD ("/ews/connection/headers/account-impersonates", test_account_impersonates);
  ADD ("/ews/connection/retry/server-busy-waits-back-off", test_retry_server_busy);
  ADD ("/ews/connection/retry/server-busy-fault-waits-back-off", test_retry_server_busy_fault);
  ADD ("/ews/connection/retry/503-then-success", test_retry_503_then_success);
  ADD ("/ews/connection/retry/500-without-soap", test_retry_500_without_soap);
  ADD ("/ews/connection/retry/max-attempts", test_retry_max_attempts);
  ADD ("/ews/connection/retry/not-transient", test_retry_not_transient);
  ADD ("/ews/connection/retry/fault-not-transient", test_retry_fault_not_transient);
  ADD ("/ews/connection/retry/connection-cut", test_retry_connection_cut);
  ADD ("/ews/connection/retry/create-not-sent-twice-after-cut", test_retry_create_not_resent);
  ADD ("/ews/connection/retry/cancel-during-wait", test_retry_cancel_during_wait);
  ADD ("/ews/connection/http/404-not-ews", test_http_404_not_ews);
  ADD ("/ews/connection/body/truncated", test_body_truncated);
  ADD ("/ews/connection/body/over-cap", test_body_over_cap);
  ADD ("/ews/connection/body/over-cap-chunked", test_body_over_cap_chunked);
  ADD ("/ews/streaming/notifications-while-open", test_streaming_notifications);

  return g_test_run ();
}
