/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "ews-test-peer.h"

struct _EwsTestPeer
{
  SoupServer     *server;
  GUri           *uri;
  EwsTestHandler  handler;
  gpointer        user_data;
  GPtrArray      *requests;
};

static void
request_free (EwsTestRequest *request)
{
  g_free (request->method);
  g_free (request->path);
  g_free (request->authorization);
  g_free (request->anchor_mailbox);
  g_free (request->body);
  g_free (request);
}

static void
handle_cb (SoupServer        *server,
           SoupServerMessage *message,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  EwsTestPeer *peer = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);
  SoupMessageBody *body = soup_server_message_get_request_body (message);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  EwsTestRequest *request = g_new0 (EwsTestRequest, 1);

  request->time = g_get_monotonic_time ();
  request->method = g_strdup (soup_server_message_get_method (message));
  request->path = g_strdup (path);
  request->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  request->anchor_mailbox = g_strdup (soup_message_headers_get_one (headers, "X-AnchorMailbox"));
  request->body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_ptr_array_add (peer->requests, request);

  g_assert_nonnull (peer->handler);
  peer->handler (peer, message, request, peer->requests->len, peer->user_data);
}

/**
 * ews_test_fixture:
 * @name: a file of tests/ews-server/fixtures
 *
 * Returns: (transfer full): its path
 */
char *
ews_test_fixture (const char *name)
{
  const char *dir = g_getenv ("AGL_EWS_CERT_FIXTURES");

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static EwsTestPeer *
peer_new (const char *address,
          gboolean    https)
{
  EwsTestPeer *peer = g_new0 (EwsTestPeer, 1);
  g_autofree char *cert_path = ews_test_fixture ("server.pem");
  g_autofree char *key_path = ews_test_fixture ("server-key.pem");
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;
  GSList *listeners;

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  peer->server = soup_server_new ("tls-certificate", certificate, NULL);
  peer->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  soup_server_add_handler (peer->server, NULL, handle_cb, peer, NULL);
  socket_address = g_inet_socket_address_new_from_string (address, 0);
  soup_server_listen (peer->server, socket_address, https ? SOUP_SERVER_LISTEN_HTTPS : 0, &error);
  g_assert_no_error (error);
  /* The listener's own address: soup_server_get_uris() leaks one in
   * libsoup 3.2, which valgrind runs would report. */
  listeners = soup_server_get_listeners (peer->server);
  g_assert_nonnull (listeners);
  local = g_socket_get_local_address (listeners->data, &error);
  g_assert_no_error (error);
  g_slist_free (listeners);
  peer->uri = g_uri_build (G_URI_FLAGS_NONE, https ? "https" : "http", NULL, address,
                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)),
                           "/", NULL, NULL);
  return peer;
}

/**
 * ews_test_peer_new:
 * @address: the loopback address to listen on, e.g. "127.0.0.1"
 *
 * Returns: (transfer full): a listening HTTPS peer
 */
EwsTestPeer *
ews_test_peer_new (const char *address)
{
  return peer_new (address, TRUE);
}

/**
 * ews_test_peer_new_plain:
 * @address: the loopback address to listen on
 *
 * Returns: (transfer full): a listening plain HTTP peer
 */
EwsTestPeer *
ews_test_peer_new_plain (const char *address)
{
  return peer_new (address, FALSE);
}

/**
 * ews_test_peer_free:
 * @peer: a peer
 */
void
ews_test_peer_free (EwsTestPeer *peer)
{
  /* Let the server see the client's closed connections first, or their
   * sockets outlive it. */
  ews_test_drain ();
  soup_server_disconnect (peer->server);
  g_object_unref (peer->server);
  ews_test_drain ();
  g_uri_unref (peer->uri);
  g_ptr_array_unref (peer->requests);
  g_free (peer);
}

/**
 * ews_test_peer_set_handler:
 * @peer: a peer
 * @handler: answers each request
 * @user_data: for @handler
 */
void
ews_test_peer_set_handler (EwsTestPeer   *peer,
                           EwsTestHandler handler,
                           gpointer       user_data)
{
  peer->handler = handler;
  peer->user_data = user_data;
}

/**
 * ews_test_peer_url:
 * @peer: a peer
 * @path: an absolute path
 *
 * Returns: (transfer full): the URL of @path on @peer
 */
char *
ews_test_peer_url (EwsTestPeer *peer,
                   const char  *path)
{
  return g_strdup_printf ("%s://%s:%d%s", g_uri_get_scheme (peer->uri), g_uri_get_host (peer->uri),
                          g_uri_get_port (peer->uri), path);
}

/**
 * ews_test_peer_n_requests:
 * @peer: a peer
 *
 * Returns: how many requests reached the handler
 */
guint
ews_test_peer_n_requests (EwsTestPeer *peer)
{
  return peer->requests->len;
}

/**
 * ews_test_peer_request:
 * @peer: a peer
 * @n: from 1
 *
 * Returns: (transfer none): the @n-th request
 */
EwsTestRequest *
ews_test_peer_request (EwsTestPeer *peer,
                       guint        n)
{
  g_assert_cmpuint (n, >=, 1);
  g_assert_cmpuint (n, <=, peer->requests->len);
  return g_ptr_array_index (peer->requests, n - 1);
}

/**
 * ews_test_account:
 * @url: the EWS URL
 * @auth: "ntlm", "basic" or "oauth2"
 * @with_ca: whether the account trusts the test CA file
 *
 * Returns: (transfer full): anna@example.com's account
 */
AglAccount *
ews_test_account (const char *url,
                  const char *auth,
                  gboolean    with_ca)
{
  AglAccount *account = agl_account_new ();

  account->name = g_strdup ("work");
  account->email = g_strdup ("anna@example.com");
  account->url = g_strdup (url);
  account->autodiscover = url == NULL;
  g_free (account->auth);
  account->auth = g_strdup (auth);
  account->user = g_strdup ("anna");
  account->domain = g_strdup ("EXAMPLE");
  account->ca_file = with_ca ? ews_test_fixture ("ca.pem") : NULL;
  return account;
}

/**
 * ews_test_respond:
 * @message: the request
 * @status: the HTTP status
 * @xml: (nullable): the body
 */
void
ews_test_respond (SoupServerMessage *message,
                  guint              status,
                  const char        *xml)
{
  soup_server_message_set_status (message, status, NULL);
  if (xml != NULL)
    soup_server_message_set_response (message, "text/xml; charset=utf-8", SOUP_MEMORY_COPY,
                                      xml, strlen (xml));
}

/**
 * ews_test_envelope:
 * @body: the element inside soap:Body
 *
 * Returns: (transfer full): a response envelope from Exchange 2016 CU
 *   (ServerVersionInfo 15.1.2507.39)
 */
char *
ews_test_envelope (const char *body)
{
  return g_strconcat ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                      "<s:Header><h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"1\""
                      " MajorBuildNumber=\"2507\" MinorBuildNumber=\"39\" Version=\"V2017_07_11\""
                      " xmlns:h=\"" EWS_TEST_NS_T "\"/></s:Header><s:Body>",
                      body, "</s:Body></s:Envelope>", NULL);
}

/**
 * ews_test_drain:
 *
 * Dispatches whatever is ready on the main context, without blocking.
 */
void
ews_test_drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
wait_timeout_cb (gpointer user_data)
{
  g_error ("Timed out waiting for the client");
  return G_SOURCE_REMOVE;
}

/**
 * ews_test_wait:
 * @done: set by a callback
 *
 * Runs the main loop until *@done, failing the test after 30 s.
 */
void
ews_test_wait (gboolean *done)
{
  guint timeout_id = g_timeout_add_seconds (30, wait_timeout_cb, NULL);

  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout_id);
}
