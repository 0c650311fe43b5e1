/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "agl-ews-autodiscover.h"
#include "ews-test-peer.h"

#define SETTINGS_RESPONSE \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">" \
  "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">" \
  "<User><DisplayName>Anna</DisplayName><AutoDiscoverSMTPAddress>anna@example.com</AutoDiscoverSMTPAddress></User>" \
  "<Account><AccountType>email</AccountType><Action>settings</Action>" \
  "<Protocol><Type>EXCH</Type><EwsUrl>https://mail.example.com/EWS/Exchange.asmx</EwsUrl></Protocol>" \
  "</Account></Response></Autodiscover>"

#define REDIRECT_RESPONSE \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">" \
  "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">" \
  "<Account><Action>%s</Action><%s>%s</%s></Account></Response></Autodiscover>"

typedef struct {
  EwsTestPeer        *peer;
  AglEwsConnection   *connection;
  gboolean            done;
  AglEwsAutodiscover *result;
  GError             *error;
  char               *target;   /* where the scripted handler points */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  f->peer = ews_test_peer_new ("127.0.0.1");
  /* Autodiscover runs before the EWS URL is known. */
  account = ews_test_account (NULL, "basic", TRUE);
  f->connection = agl_ews_connection_new (account, "secret", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->connection);
  g_clear_pointer (&f->peer, ews_test_peer_free);
  g_clear_pointer (&f->result, agl_ews_autodiscover_free);
  g_clear_error (&f->error);
  g_free (f->target);
}

static void
autodiscover_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = agl_ews_autodiscover_finish (AGL_EWS_CONNECTION (source), result, &f->error);
  f->done = TRUE;
}

static void
run (Fixture            *f,
     const char * const *candidates)
{
  agl_ews_autodiscover_async (f->connection, "anna@example.com", candidates, NULL,
                              autodiscover_cb, f);
  ews_test_wait (&f->done);
}

static void
test_candidates (void)
{
  g_auto(GStrv) candidates = agl_ews_autodiscover_candidates ("anna@Example.COM");
  g_auto(GStrv) none = agl_ews_autodiscover_candidates ("anna");

  g_assert_nonnull (candidates);
  g_assert_cmpuint (g_strv_length (candidates), ==, 3);
  g_assert_cmpstr (candidates[0], ==, "https://example.com/autodiscover/autodiscover.xml");
  g_assert_cmpstr (candidates[1], ==, "https://autodiscover.example.com/autodiscover/autodiscover.xml");
  g_assert_cmpstr (candidates[2], ==, "http://autodiscover.example.com/autodiscover/autodiscover.xml");
  g_assert_null (none);
}

static void
second_answers_handler (EwsTestPeer       *peer,
                        SoupServerMessage *message,
                        EwsTestRequest    *request,
                        guint              n,
                        gpointer           user_data)
{
  g_assert_cmpstr (request->method, ==, "POST");
  g_assert_nonnull (strstr (request->body, "<EMailAddress>anna@example.com</EMailAddress>"));
  if (g_str_equal (request->path, "/first/autodiscover.xml"))
    ews_test_respond (message, SOUP_STATUS_NOT_FOUND, NULL);
  else
    ews_test_respond (message, SOUP_STATUS_OK, SETTINGS_RESPONSE);
}

static void
test_first_fails_second_answers (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *first = ews_test_peer_url (f->peer, "/first/autodiscover.xml");
  g_autofree char *second = ews_test_peer_url (f->peer, "/second/autodiscover.xml");
  const char * const candidates[] = { first, second, NULL };

  ews_test_peer_set_handler (f->peer, second_answers_handler, f);
  run (f, candidates);
  g_assert_no_error (f->error);
  g_assert_cmpint (f->result->action, ==, AGL_EWS_AUTODISCOVER_SETTINGS);
  g_assert_cmpstr (f->result->ews_url, ==, "https://mail.example.com/EWS/Exchange.asmx");
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
}

static void
redirect_handler (EwsTestPeer       *peer,
                  SoupServerMessage *message,
                  EwsTestRequest    *request,
                  guint              n,
                  gpointer           user_data)
{
  Fixture *f = user_data;

  if (g_str_equal (request->path, "/final/autodiscover.xml"))
    {
      ews_test_respond (message, SOUP_STATUS_OK, SETTINGS_RESPONSE);
      return;
    }
  soup_server_message_set_redirect (message, SOUP_STATUS_FOUND, f->target);
}

static void
test_redirect_to_http_refused (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *start = ews_test_peer_url (f->peer, "/start/autodiscover.xml");
  const char * const candidates[] = { start, NULL };
  g_autoptr(EwsTestPeer) plain = ews_test_peer_new_plain ("127.0.0.1");

  f->target = ews_test_peer_url (plain, "/final/autodiscover.xml");
  ews_test_peer_set_handler (f->peer, redirect_handler, f);
  ews_test_peer_set_handler (plain, redirect_handler, f);
  run (f, candidates);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER);
  g_assert_nonnull (strstr (f->error->message, "only https is followed"));
  g_assert_cmpuint (ews_test_peer_n_requests (plain), ==, 0);
  g_clear_object (&f->connection);
}

static void
test_redirect_loop_stops (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *start = ews_test_peer_url (f->peer, "/loop/autodiscover.xml");
  const char * const candidates[] = { start, NULL };

  f->target = g_strdup (start);
  ews_test_peer_set_handler (f->peer, redirect_handler, f);
  run (f, candidates);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER);
  g_assert_nonnull (strstr (f->error->message, "10 redirects"));
  /* The first request and the ten redirects followed. */
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, AGL_EWS_AUTODISCOVER_MAX_HOPS + 1);
}

static void
test_http_redirect_method (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(EwsTestPeer) plain = ews_test_peer_new_plain ("127.0.0.1");
  g_autofree char *probe = ews_test_peer_url (plain, "/autodiscover/autodiscover.xml");
  const char * const candidates[] = { probe, NULL };
  EwsTestRequest *request;

  f->target = ews_test_peer_url (f->peer, "/final/autodiscover.xml");
  ews_test_peer_set_handler (f->peer, redirect_handler, f);
  ews_test_peer_set_handler (plain, redirect_handler, f);
  run (f, candidates);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->result->ews_url, ==, "https://mail.example.com/EWS/Exchange.asmx");

  /* Over plain http only a bare GET: no credentials, no address. */
  g_assert_cmpuint (ews_test_peer_n_requests (plain), ==, 1);
  request = ews_test_peer_request (plain, 1);
  g_assert_cmpstr (request->method, ==, "GET");
  g_assert_null (request->authorization);
  g_assert_null (request->anchor_mailbox);
  g_assert_cmpstr (request->body, ==, "");
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
  g_assert_cmpstr (ews_test_peer_request (f->peer, 1)->method, ==, "POST");
  g_clear_object (&f->connection);
}

static void
redirect_element_handler (EwsTestPeer       *peer,
                          SoupServerMessage *message,
                          EwsTestRequest    *request,
                          guint              n,
                          gpointer           user_data)
{
  Fixture *f = user_data;
  g_autofree char *xml = NULL;

  if (strstr (request->body, "anna.berg@example.org") != NULL ||
      g_str_equal (request->path, "/final/autodiscover.xml"))
    {
      ews_test_respond (message, SOUP_STATUS_OK, SETTINGS_RESPONSE);
      return;
    }
  if (strchr (f->target, '@') == NULL)
    xml = g_strdup_printf (REDIRECT_RESPONSE, "redirectUrl", "RedirectUrl", f->target, "RedirectUrl");
  else
    xml = g_strdup_printf (REDIRECT_RESPONSE, "redirectAddr", "RedirectAddr", f->target, "RedirectAddr");
  ews_test_respond (message, SOUP_STATUS_OK, xml);
}

static void
test_redirect_addr (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *start = ews_test_peer_url (f->peer, "/start/autodiscover.xml");
  const char * const candidates[] = { start, NULL };

  f->target = g_strdup ("anna.berg@example.org");
  ews_test_peer_set_handler (f->peer, redirect_element_handler, f);
  run (f, candidates);
  g_assert_no_error (f->error);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
  g_assert_nonnull (strstr (ews_test_peer_request (f->peer, 2)->body,
                            "<EMailAddress>anna.berg@example.org</EMailAddress>"));
}

static void
test_redirect_url (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *start = ews_test_peer_url (f->peer, "/start/autodiscover.xml");
  const char * const candidates[] = { start, NULL };

  f->target = ews_test_peer_url (f->peer, "/final/autodiscover.xml");
  ews_test_peer_set_handler (f->peer, redirect_element_handler, f);
  run (f, candidates);
  g_assert_no_error (f->error);
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 2);
  g_assert_cmpstr (ews_test_peer_request (f->peer, 2)->path, ==, "/final/autodiscover.xml");
}

static void
test_redirect_url_http_refused (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *start = ews_test_peer_url (f->peer, "/start/autodiscover.xml");
  const char * const candidates[] = { start, NULL };

  f->target = g_strdup ("http://mail.example.com/autodiscover/autodiscover.xml");
  ews_test_peer_set_handler (f->peer, redirect_element_handler, f);
  run (f, candidates);
  g_assert_error (f->error, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER);
  g_assert_nonnull (strstr (f->error->message, "only https is followed"));
  g_assert_cmpuint (ews_test_peer_n_requests (f->peer), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/ews/autodiscover/candidates", test_candidates);
  ADD ("/ews/autodiscover/first-fails-second-answers", test_first_fails_second_answers);
  ADD ("/ews/autodiscover/redirect-to-http-refused", test_redirect_to_http_refused);
  ADD ("/ews/autodiscover/redirect-loop-stops-at-hop-limit", test_redirect_loop_stops);
  ADD ("/ews/autodiscover/http-redirect-method", test_http_redirect_method);
  ADD ("/ews/autodiscover/redirect-addr", test_redirect_addr);
  ADD ("/ews/autodiscover/redirect-url", test_redirect_url);
  ADD ("/ews/autodiscover/redirect-url-to-http-refused", test_redirect_url_http_refused);

  return g_test_run ();
}
