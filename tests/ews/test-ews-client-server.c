/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "agl-ews-autodiscover.h"
#include "agl-ews-backend.h"
#include "agl-ews-calendar-item.h"
#include "agl-ews-series.h"
#include "agl-ews-operations.h"
#include "agl-ews-streaming.h"
#include "ews-server-harness.h"

/*
 * AglEwsBackend, through the AglRemote API as the sync engine drives it,
 * against the real test Exchange server (tests/ews-server) in this process
 * over HTTPS with the fixture CA and NTLM.  One server serves every test;
 * each test has a mailbox of its own.  Every request the server reads is
 * logged (an emission hook on SoupServer::request-read), so that tests can
 * assert when a retry arrived and that the server's schema validation never
 * refused one.
 */

#define PASSWORD "Test-pass-1"
#define SERVICE "svc@example.org"
#define SERVICE_PASSWORD "Service-pass-1"
/* An EWS minute of the server: the streaming ConnectionTimeout unit. */
#define MINUTE_MS 1500
/* Generous: memcheck runs are some twenty times slower. */
#define WAIT_TIMEOUT_S 180
#define BUSY_BACK_OFF_MS 400

/* What the server saw of one HTTP request. */
typedef struct {
  char     *path;
  char     *operation;      /* first element of the SOAP Body, or NULL */
  char     *version;        /* RequestServerVersion sent, or NULL */
  gint64    read_us;        /* when its body had been read (monotonic) */
  guint     status;         /* 0 until the answer's headers were written */
  gboolean  server_busy;    /* answered ErrorServerBusy */
  gboolean  schema_refused; /* answered ErrorSchemaValidation */
  gboolean  finished;       /* the server is done with it, answered or not */
  guint     connection;     /* serial of the TCP connection it came on */
  gboolean  ntlm_negotiate; /* carried an NTLM NEGOTIATE (type 1) message */
} Request;

/* Called once the server's handler ran for a request of the watched
 * operation, with the status it set (0 while a delayed answer waits);
 * returns %TRUE when it was the one awaited. */
typedef gboolean (*ServedFunc) (guint    status,
                                gpointer user_data);

typedef struct {
  GObject      *server;
  char         *url;
  GPtrArray    *requests;          /* Request, since the start */
  guint         n_mailboxes;
  guint         n_connections;     /* TCP connections the server read from */
  const char   *watched;           /* operation for served_func */
  ServedFunc    served_func;
  gpointer      served_data;
} Harness;

static Harness harness;

typedef struct {
  char         *address;
  char         *user;
  AglRemote    *remote;
  guint         first_request;     /* index in harness.requests */
  GAsyncResult *result;            /* set by done_cb */
  GAsyncResult *last;              /* what wait_result() returned */
} Fixture;

static void
request_free (Request *request)
{
  g_free (request->path);
  g_free (request->operation);
  g_free (request->version);
  g_free (request);
}

/* Request log */

/* A serial for the connection @message came on, numbered in the order the
 * server first read from it (the socket object is new for every accepted
 * connection, so a reused address does not mix two up). */
static guint
connection_serial (SoupServerMessage *message)
{
  GSocket *socket = soup_server_message_get_socket (message);
  guint serial;

  if (socket == NULL)
    return 0;
  serial = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (socket), "test-connection-serial"));
  if (serial == 0)
    {
      serial = ++harness.n_connections;
      g_object_set_data (G_OBJECT (socket), "test-connection-serial", GUINT_TO_POINTER (serial));
    }
  return serial;
}

/* "NTLM " and base64 of "NTLMSSP\0" and type 1: a handshake starting. */
static gboolean
is_ntlm_negotiate (SoupServerMessage *message)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (message),
                                                     "Authorization");
  g_autofree guchar *token = NULL;
  gsize len = 0;

  if (header == NULL || g_ascii_strncasecmp (header, "NTLM ", 5) != 0)
    return FALSE;
  token = g_base64_decode (header + 5, &len);
  return len >= 12 && memcmp (token, "NTLMSSP\0", 8) == 0 && token[8] == 1;
}

static char *
find_operation (const char *body)
{
  const char *p = strstr (body, "Body>");
  const char *end;
  const char *colon;

  if (p == NULL || (p = strchr (p, '<')) == NULL)
    return NULL;
  p++;
  end = p + strcspn (p, " />");
  colon = memchr (p, ':', (gsize) (end - p));
  if (colon != NULL)
    p = colon + 1;
  return g_strndup (p, (gsize) (end - p));
}

static char *
find_version (const char *body)
{
  const char *p = strstr (body, "RequestServerVersion");
  const char *end;

  if (p == NULL || (p = strstr (p, "Version=\"")) == NULL)
    return NULL;
  p += strlen ("Version=\"");
  end = strchr (p, '"');
  return end != NULL ? g_strndup (p, (gsize) (end - p)) : NULL;
}

static gboolean
served_cb (gpointer user_data)
{
  g_autoptr(SoupServerMessage) message = user_data;

  if (harness.served_func != NULL &&
      harness.served_func (soup_server_message_get_status (message), harness.served_data))
    {
      harness.served_func = NULL;
      harness.watched = NULL;
    }
  return G_SOURCE_REMOVE;
}

static void
watch_served (const char *operation,
              ServedFunc  func,
              gpointer    user_data)
{
  harness.watched = operation;
  harness.served_func = func;
  harness.served_data = user_data;
}

/* The answer is complete when its headers go out (a stream's excepted). */
static void
wrote_headers_cb (SoupServerMessage *message,
                  Request           *request)
{
  request->status = soup_server_message_get_status (message);
  if (request->status == SOUP_STATUS_INTERNAL_SERVER_ERROR)
    {
      g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_response_body (message));
      g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));

      request->server_busy = strstr (text, "ErrorServerBusy") != NULL;
      request->schema_refused = strstr (text, "ErrorSchemaValidation") != NULL;
    }
}

static void
finished_cb (SoupServerMessage *message,
             Request           *request)
{
  request->finished = TRUE;
}

static gboolean
request_read_hook (GSignalInvocationHint *hint,
                   guint                  n_params,
                   const GValue          *params,
                   gpointer               user_data)
{
  SoupServerMessage *message = g_value_get_object (&params[1]);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (message));
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  Request *request = g_new0 (Request, 1);

  request->path = g_strdup (g_uri_get_path (soup_server_message_get_uri (message)));
  request->operation = find_operation (text);
  request->version = find_version (text);
  request->read_us = g_get_monotonic_time ();
  request->connection = connection_serial (message);
  request->ntlm_negotiate = is_ntlm_negotiate (message);
  g_ptr_array_add (harness.requests, request);
  g_signal_connect (message, "wrote-headers", G_CALLBACK (wrote_headers_cb), request);
  g_signal_connect (message, "finished", G_CALLBACK (finished_cb), request);

  /* The handler runs right after this signal: look at its work next. */
  if (harness.watched != NULL && g_strcmp0 (request->operation, harness.watched) == 0)
    g_idle_add (served_cb, g_object_ref (message));
  return TRUE;
}

/* The EWS requests of the running test that reached the service (not
 * refused by authentication), in order. */
static GPtrArray *
ews_requests (Fixture    *f,
              const char *operation)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = f->first_request; i < harness.requests->len; i++)
    {
      Request *r = g_ptr_array_index (harness.requests, i);

      if (g_strcmp0 (r->path, "/EWS/Exchange.asmx") == 0 &&
          r->status != SOUP_STATUS_UNAUTHORIZED &&
          (operation == NULL || g_strcmp0 (r->operation, operation) == 0))
        g_ptr_array_add (out, r);
    }
  return out;
}

/* How many TCP connections the requests since harness.requests[@first]
 * came on, and how many NTLM handshakes they started. */
static guint
count_connections (guint  first,
                   guint *out_negotiations)
{
  g_autoptr(GHashTable) connections = g_hash_table_new (NULL, NULL);
  guint negotiations = 0;

  for (guint i = first; i < harness.requests->len; i++)
    {
      Request *r = g_ptr_array_index (harness.requests, i);

      g_hash_table_add (connections, GUINT_TO_POINTER (r->connection));
      negotiations += r->ntlm_negotiate ? 1 : 0;
    }
  if (out_negotiations != NULL)
    *out_negotiations = negotiations;
  return g_hash_table_size (connections);
}

/* Waiting */

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static void
wait_until (gboolean *done)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, timeout_cb, &timed_out);

  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  g_assert_null (f->result);
  f->result = g_object_ref (result);
}

/* Runs the main loop until done_cb; the result stays valid until the next
 * wait. */
static GAsyncResult *
wait_result (Fixture *f)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, timeout_cb, &timed_out);

  g_clear_object (&f->last);
  while (f->result == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
  f->last = g_steal_pointer (&f->result);
  return f->last;
}

/* Fixture */

static AglAccount *
make_account (const char *email,
              const char *user,
              const char *auth,
              const char *url)
{
  AglAccount *account = agl_account_new ();

  account->name = g_strdup ("work");
  account->email = g_strdup (email);
  account->url = g_strdup (url);
  account->autodiscover = url == NULL;
  g_free (account->auth);
  account->auth = g_strdup (auth);
  account->user = g_strdup (user);
  account->domain = g_strdup ("EXAMPLE");
  g_free (account->server_version);
  account->server_version = g_strdup ("auto");
  account->ca_file = g_build_filename (g_getenv ("AGL_EWS_SERVER_FIXTURES"), "ca.pem", NULL);
  return account;
}

static AglRemote *
make_remote (const char *email,
             const char *user,
             const char *auth,
             const char *password)
{
  g_autoptr(AglAccount) account = make_account (email, user, auth, harness.url);
  g_autoptr(AglEwsConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  /* Short windows keep the suite fast; ErrorServerBusy ignores them. */
  static const AglEwsRetryPolicy policy = { 20, 200, 4 };

  connection = agl_ews_connection_new (account, password, &error);
  g_assert_no_error (error);
  agl_ews_connection_set_retry_policy (connection, &policy);
  return agl_ews_backend_new (connection);
}

static AglEwsConnection *
connection_of (Fixture *f)
{
  return agl_ews_backend_get_connection (AGL_EWS_BACKEND (f->remote));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  guint n = ++harness.n_mailboxes;

  f->user = g_strdup_printf ("user%u", n);
  f->address = g_strdup_printf ("user%u@example.org", n);
  ews_harness_add_mailbox (harness.server, f->address, f->user, PASSWORD);
  ews_harness_allow_impersonation (harness.server, SERVICE, f->address);
  f->remote = make_remote (f->address, f->user, "ntlm", PASSWORD);
  f->first_request = harness.requests->len;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* The server's schema validation accepted every request the client sent. */
  for (guint i = f->first_request; i < harness.requests->len; i++)
    {
      Request *r = g_ptr_array_index (harness.requests, i);

      if (r->schema_refused)
        g_error ("The server refused a %s request with ErrorSchemaValidation", r->operation);
    }
  g_clear_object (&f->remote);
  g_clear_object (&f->result);
  g_clear_object (&f->last);
  /* Let the closed connections run their last callbacks. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_free (f->address);
  g_free (f->user);
}

/* Items */

static char *
single_item_xml (const char *subject,
                 guint       day,
                 guint       hour)
{
  return g_strdup_printf ("<t:Subject>%s</t:Subject>"
                          "<t:Start>2026-12-%02uT%02u:00:00Z</t:Start>"
                          "<t:End>2026-12-%02uT%02u:30:00Z</t:End>"
                          "<t:Location>Room %u</t:Location>",
                          subject, day, hour, day, hour, day);
}

/* A daily stand-up, five times from Monday 7 December 2026 08:00 UTC. */
#define SERIES_XML \
  "<t:Subject>Stand-up</t:Subject>" \
  "<t:Start>2026-12-07T08:00:00Z</t:Start><t:End>2026-12-07T08:15:00Z</t:End>" \
  "<t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>" \
  "<t:NumberedRecurrence><t:StartDate>2026-12-07</t:StartDate>" \
  "<t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>"

static char *
server_create (Fixture    *f,
               const char *fields_xml)
{
  g_autoptr(GError) error = NULL;
  char *id = ews_harness_create_item (harness.server, f->address, fields_xml, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static char *
vcalendar (const char *uid,
           const char *summary,
           const char *start,
           const char *end)
{
  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//tests//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nLOCATION:Room 1\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, start, end, summary);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    g_error ("“%s” not found in:\n%s", needle, haystack != NULL ? haystack : "(null)");
}

/* AglRemote calls, each run to completion */

static AglRemoteSyncPage *
sync_page (Fixture     *f,
           const char  *state,
           guint        max_changes,
           GError     **error)
{
  agl_remote_sync_folder_items_async (f->remote, state, max_changes, NULL, done_cb, f);
  return agl_remote_sync_folder_items_finish (f->remote, wait_result (f), error);
}

/* Syncs to completion from @state; returns every change, and the last
 * state in @out_state. */
static GPtrArray *
sync_all (Fixture     *f,
          const char  *state,
          guint        max_changes,
          guint       *out_pages,
          char       **out_state)
{
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_remote_change_free);
  g_autofree char *current = g_strdup (state);
  guint pages = 0;
  gboolean last = FALSE;

  while (!last)
    {
      g_autoptr(AglRemoteSyncPage) page = NULL;
      g_autoptr(GError) error = NULL;

      page = sync_page (f, current, max_changes, &error);
      g_assert_no_error (error);
      g_assert_nonnull (page->state);
      g_assert_cmpstr (page->state, !=, current);
      g_assert_cmpuint (page->changes->len, <=, max_changes);
      /* Only the last page may be short. */
      if (!page->includes_last)
        g_assert_cmpuint (page->changes->len, ==, max_changes);
      for (guint i = 0; i < page->changes->len; i++)
        g_ptr_array_add (changes, g_steal_pointer (&page->changes->pdata[i]));
      g_ptr_array_set_size (page->changes, 0);
      g_free (current);
      current = g_steal_pointer (&page->state);
      last = page->includes_last;
      pages++;
      g_assert_cmpuint (pages, <, 100);
    }
  if (out_pages != NULL)
    *out_pages = pages;
  if (out_state != NULL)
    *out_state = g_steal_pointer (&current);
  return changes;
}

static AglRemoteChange *
find_change (GPtrArray  *changes,
             const char *id)
{
  AglRemoteChange *found = NULL;

  for (guint i = 0; i < changes->len; i++)
    {
      AglRemoteChange *c = g_ptr_array_index (changes, i);

      if (g_strcmp0 (c->id, id) == 0)
        {
          /* Exchange collapses the changes of an item into one. */
          g_assert_null (found);
          found = c;
        }
    }
  return found;
}

static GPtrArray *
get_items (Fixture            *f,
           const char * const *ids)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  agl_remote_get_items_async (f->remote, ids, NULL, done_cb, f);
  items = agl_remote_get_items_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, g_strv_length ((char **) ids));
  for (guint i = 0; i < items->len; i++)
    g_assert_cmpstr (((AglRemoteItem *) g_ptr_array_index (items, i))->id, ==, ids[i]);
  return items;
}

static AglRemoteItem *
get_item (Fixture    *f,
          const char *id)
{
  const char *ids[] = { id, NULL };
  g_autoptr(GPtrArray) items = get_items (f, ids);

  return g_steal_pointer (&items->pdata[0]);
}

static AglRemoteItem *
create_item (Fixture     *f,
             const char  *ical,
             const char  *local_identity,
             GError     **error)
{
  agl_remote_create_item_async (f->remote, ical, local_identity, AGL_REMOTE_SEND_NONE, NULL,
                                done_cb, f);
  return agl_remote_create_item_finish (f->remote, wait_result (f), error);
}

static AglRemoteItem *
update_item (Fixture            *f,
             const AglRemoteItem *item,
             const char         *change_key,
             const char         *old_ical,
             const char         *new_ical,
             GError            **error)
{
  agl_remote_update_item_async (f->remote, item->id, change_key, old_ical, new_ical,
                                AGL_REMOTE_CONFLICT_NEVER_OVERWRITE, AGL_REMOTE_SEND_NONE,
                                NULL, done_cb, f);
  return agl_remote_update_item_finish (f->remote, wait_result (f), error);
}

static AglRemoteFolder *
get_folder (Fixture  *f,
            GError  **error)
{
  agl_remote_get_calendar_folder_async (f->remote, NULL, done_cb, f);
  return agl_remote_get_calendar_folder_finish (f->remote, wait_result (f), error);
}

static AglRemoteInfo *
test_connection (Fixture   *f,
                 AglRemote *remote,
                 GError   **error)
{
  agl_remote_test_connection_async (remote, NULL, done_cb, f);
  return agl_remote_test_connection_finish (remote, wait_result (f), error);
}

/* Tests: operations */

static void
test_connection_auto_version (Fixture       *f,
                              gconstpointer  data)
{
  AglEwsConnection *connection = connection_of (f);
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autofree char *folder_id = ews_harness_get_folder_id (harness.server, f->address, NULL);

  g_assert_null (agl_ews_connection_get_server_version (connection));
  info = test_connection (f, f->remote, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->url, ==, harness.url);
  g_assert_cmpstr (info->product, ==, "Microsoft Exchange");
  g_assert_cmpstr (info->server_version, ==, "15.1.2507.39");
  g_assert_cmpstr (info->mailbox, ==, f->address);
  g_assert_cmpstr (info->impersonation, ==, "not used");
  g_assert_cmpstr (info->calendar_folder, ==, folder_id);

  /* "auto" asked as Exchange 2007 SP1 first, then learnt and remembered. */
  g_assert_cmpstr (agl_ews_connection_get_server_version (connection), ==, "Exchange2016");
  g_assert_cmpstr (agl_ews_connection_get_server_build (connection), ==, "15.1.2507.39");
  g_clear_pointer (&info, agl_remote_info_free);
  info = test_connection (f, f->remote, &error);
  g_assert_no_error (error);
  requests = ews_requests (f, NULL);
  g_assert_cmpuint (requests->len, >=, 2);
  g_assert_cmpstr (((Request *) requests->pdata[0])->version, ==, "Exchange2007_SP1");
  g_assert_cmpuint (((Request *) requests->pdata[0])->status, ==, SOUP_STATUS_OK);
  g_assert_cmpstr (((Request *) requests->pdata[requests->len - 1])->version, ==, "Exchange2016");
}

static void
test_calendar_folder (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *change_key = NULL;
  g_autofree char *folder_id = ews_harness_get_folder_id (harness.server, f->address, &change_key);

  folder = get_folder (f, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (folder->id, ==, folder_id);
  g_assert_cmpstr (folder->change_key, ==, change_key);
}

static void
test_sync_paged (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  guint pages = 0;
  guint negotiations = 0;

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Meeting %u", i);
      g_autofree char *xml = single_item_xml (subject, 1 + i % 28, 8 + i % 9);

      g_ptr_array_add (ids, server_create (f, xml));
    }
  g_ptr_array_add (ids, server_create (f, SERIES_XML));

  changes = sync_all (f, NULL, 7, &pages, &state);
  /* 31 items, 7 a page: 7 + 7 + 7 + 7 + 3. */
  g_assert_cmpuint (pages, ==, 5);
  g_assert_cmpuint (changes->len, ==, ids->len);
  for (guint i = 0; i < ids->len; i++)
    {
      AglRemoteChange *change = find_change (changes, g_ptr_array_index (ids, i));

      g_assert_nonnull (change);
      g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_CREATE);
      g_assert_nonnull (change->change_key);
    }

  /* The state handed back is in step: nothing more. */
  page = sync_page (f, state, 7, &error);
  g_assert_no_error (error);
  g_assert_true (page->includes_last);
  g_assert_cmpuint (page->changes->len, ==, 0);
  requests = ews_requests (f, "SyncFolderItems");
  g_assert_cmpuint (requests->len, ==, 6);
  /* Every page on the one kept-alive connection, signed on to once. */
  g_assert_cmpuint (count_connections (f->first_request, &negotiations), ==, 1);
  g_assert_cmpuint (negotiations, ==, 1);
}

static void
test_sync_incremental (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *a_xml = single_item_xml ("Budget review", 2, 10);
  g_autofree char *b_xml = single_item_xml ("Dentist", 3, 14);
  g_autofree char *c_xml = single_item_xml ("Booked in Outlook", 4, 9);
  g_autofree char *a = server_create (f, a_xml);
  g_autofree char *b = server_create (f, b_xml);
  g_autofree char *series = server_create (f, SERIES_XML);
  g_autofree char *c = NULL;
  g_autofree char *state = NULL;
  g_autofree char *state2 = NULL;
  g_autofree char *series_key = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteChange *change;
  AglRemoteItem *item;

  changes = sync_all (f, NULL, 2, NULL, &state);
  g_assert_cmpuint (changes->len, ==, 3);
  series_key = g_strdup (find_change (changes, series)->change_key);
  g_clear_pointer (&changes, g_ptr_array_unref);

  /* What a user does in Outlook meanwhile. */
  c = server_create (f, c_xml);
  ews_harness_update_item (harness.server, f->address, a, 0,
                           "<t:Subject>Budget review (moved)</t:Subject>", &error);
  g_assert_no_error (error);
  ews_harness_delete_item (harness.server, f->address, b, 0, &error);
  g_assert_no_error (error);
  ews_harness_delete_item (harness.server, f->address, series, 2, &error);
  g_assert_no_error (error);
  ews_harness_update_item (harness.server, f->address, series, 3,
                           "<t:Subject>Stand-up with the board</t:Subject>"
                           "<t:Start>2026-12-09T11:00:00Z</t:Start><t:End>2026-12-09T11:30:00Z</t:End>",
                           &error);
  g_assert_no_error (error);

  changes = sync_all (f, state, 2, NULL, &state2);
  /* One change per item, the series' occurrence edits as an update of it. */
  g_assert_cmpuint (changes->len, ==, 4);
  change = find_change (changes, c);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_CREATE);
  change = find_change (changes, a);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_UPDATE);
  change = find_change (changes, b);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_DELETE);
  change = find_change (changes, series);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_UPDATE);
  g_assert_cmpstr (change->change_key, !=, series_key);

  /* The items read in one batch, as VCALENDARs. */
  {
    const char *ids[] = { c, a, series, b, NULL };

    items = get_items (f, ids);
  }
  item = g_ptr_array_index (items, 0);
  g_assert_no_error (item->error);
  assert_contains (item->ical, "SUMMARY:Booked in Outlook");
  assert_contains (item->ical, "DTSTART:20261204T090000Z");
  assert_contains (item->ical, "LOCATION:Room 4");
  g_assert_null (item->local_identity);
  item = g_ptr_array_index (items, 1);
  g_assert_no_error (item->error);
  assert_contains (item->ical, "SUMMARY:Budget review (moved)");
  item = g_ptr_array_index (items, 2);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->change_key, ==, find_change (changes, series)->change_key);
  assert_contains (item->ical, "RRULE:FREQ=DAILY;COUNT=5");
  assert_contains (item->ical, "EXDATE");
  assert_contains (item->ical, "20261208T080000Z");
  assert_contains (item->ical, "RECURRENCE-ID");
  assert_contains (item->ical, "20261209T080000Z");
  assert_contains (item->ical, "20261209T110000Z");
  assert_contains (item->ical, "SUMMARY:Stand-up with the board");
  /* The deleted item: its own error, the others unaffected. */
  item = g_ptr_array_index (items, 3);
  g_assert_error (item->error, AGL_EWS_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND);
  g_assert_null (item->ical);
}

static void
test_get_items_batches (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) requests = NULL;
  const guint batch = 10;

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Batch item %u", i);
      g_autofree char *xml = single_item_xml (subject, 1 + i % 28, 9);

      g_ptr_array_add (ids, server_create (f, xml));
    }

  for (guint first = 0; first < ids->len; first += batch)
    {
      g_autoptr(GPtrArray) items = NULL;
      const char *chunk[11] = { NULL };

      for (guint i = 0; i < batch; i++)
        chunk[i] = g_ptr_array_index (ids, first + i);
      items = get_items (f, chunk);
      for (guint i = 0; i < batch; i++)
        {
          AglRemoteItem *item = g_ptr_array_index (items, i);
          g_autofree char *summary = g_strdup_printf ("SUMMARY:Batch item %u\r\n", first + i);

          g_assert_no_error (item->error);
          g_assert_nonnull (item->change_key);
          assert_contains (item->ical, "BEGIN:VCALENDAR");
          assert_contains (item->ical, "BEGIN:VEVENT");
          assert_contains (item->ical, summary);
        }
    }
  /* One GetItem per batch. */
  requests = ews_requests (f, "GetItem");
  g_assert_cmpuint (requests->len, ==, 3);
}

static void
test_create_local_identity (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-42@agendaline", "Planned in Agendaline",
                                     "20261203T090000Z", "20261203T100000Z");
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteChange *change;

  created = create_item (f, ical, "local-42", &error);
  g_assert_no_error (error);
  g_assert_nonnull (created->id);
  g_assert_nonnull (created->change_key);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);

  /* Found again by its local identity, as after a lost CreateItem answer. */
  changes = sync_all (f, NULL, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  change = find_change (changes, created->id);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_CREATE);
  item = get_item (f, change->id);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->local_identity, ==, "local-42");
  g_assert_cmpstr (item->change_key, ==, created->change_key);
  assert_contains (item->ical, "SUMMARY:Planned in Agendaline");
  assert_contains (item->ical, "DTSTART:20261203T090000Z");
  assert_contains (item->ical, "DTEND:20261203T100000Z");
  assert_contains (item->ical, "LOCATION:Room 1");
}

static void
test_update_change_key (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *v1 = vcalendar ("local-7", "Draft", "20261203T090000Z", "20261203T100000Z");
  g_autofree char *v2 = vcalendar ("local-7", "Final", "20261203T090000Z", "20261203T110000Z");
  g_autofree char *v3 = vcalendar ("local-7", "Overwritten", "20261203T090000Z", "20261203T110000Z");
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) updated = NULL;
  g_autoptr(AglRemoteItem) stale = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;

  created = create_item (f, v1, "local-7", &error);
  g_assert_no_error (error);

  updated = update_item (f, created, created->change_key, v1, v2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (updated->id, ==, created->id);
  g_assert_nonnull (updated->change_key);
  g_assert_cmpstr (updated->change_key, !=, created->change_key);
  item = get_item (f, created->id);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  assert_contains (item->ical, "SUMMARY:Final");
  assert_contains (item->ical, "DTEND:20261203T110000Z");
  g_clear_pointer (&item, agl_remote_item_free);

  /* Based on the version before: Exchange refuses under NeverOverwrite. */
  stale = update_item (f, created, created->change_key, v2, v3, &error);
  g_assert_null (stale);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_IRRESOLVABLE_CONFLICT);
  g_assert_cmpstr (agl_ews_error_code_name (error->code), ==, "ErrorIrresolvableConflict");
  assert_contains (error->message, "ErrorIrresolvableConflict");
  item = get_item (f, created->id);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  assert_contains (item->ical, "SUMMARY:Final");
}

static void
test_delete (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-9", "Cancelled", "20261204T090000Z", "20261204T100000Z");
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  AglRemoteChange *change;

  created = create_item (f, ical, "local-9", &error);
  g_assert_no_error (error);
  g_ptr_array_unref (sync_all (f, NULL, 10, NULL, &state));

  agl_remote_delete_item_async (f->remote, created->id, created->change_key, AGL_REMOTE_SEND_NONE,
                                NULL, done_cb, f);
  g_assert_true (agl_remote_delete_item_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 0);

  item = get_item (f, created->id);
  g_assert_error (item->error, AGL_EWS_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND);
  changes = sync_all (f, state, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  change = find_change (changes, created->id);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_DELETE);
}

/* Series with exceptions: a weekly review on Mondays 09:00 UTC, five times
 * from 7 December 2026.  Exchange counts InstanceIndex over the pattern:
 * 14 December is 2, 21 December 3, 28 December 4, 4 January 5. */

#define SERIES_OVERRIDE_14 \
  "BEGIN:VEVENT\r\nUID:local-series\r\nDTSTAMP:20261101T000000Z\r\n" \
  "RECURRENCE-ID:20261214T090000Z\r\n" \
  "DTSTART:20261215T100000Z\r\nDTEND:20261215T110000Z\r\n" \
  "SUMMARY:Moved review\r\nLOCATION:Room 1\r\nEND:VEVENT\r\n"
#define SERIES_OVERRIDE_28 \
  "BEGIN:VEVENT\r\nUID:local-series\r\nDTSTAMP:20261101T000000Z\r\n" \
  "RECURRENCE-ID:20261228T090000Z\r\n" \
  "DTSTART:20261228T090000Z\r\nDTEND:20261228T100000Z\r\n" \
  "SUMMARY:Year-end review\r\nLOCATION:Room 1\r\nEND:VEVENT\r\n"

/* The series with @exdates (EXDATE lines) and @overrides (VEVENTs). */
static char *
series_vcalendar (const char *exdates,
                  const char *overrides)
{
  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//tests//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:local-series\r\nDTSTAMP:20261101T000000Z\r\n"
                          "DTSTART:20261207T090000Z\r\nDTEND:20261207T100000Z\r\n"
                          "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5\r\n%s"
                          "SUMMARY:Weekly review\r\nLOCATION:Room 1\r\nEND:VEVENT\r\n"
                          "%sEND:VCALENDAR\r\n",
                          exdates, overrides);
}

/* The override of @ical at @rid ("20261214T090000Z"), as text, or NULL. */
static char *
override_text (const char *ical,
               const char *rid)
{
  g_autofree char *needle = g_strdup_printf ("RECURRENCE-ID:%s", rid);
  const char *at = ical != NULL ? strstr (ical, needle) : NULL;
  const char *begin, *end;

  if (at == NULL)
    {
      /* Written with a TZID parameter: match the value alone. */
      g_free (needle);
      needle = g_strdup_printf (":%s", rid);
      for (at = ical != NULL ? strstr (ical, "RECURRENCE-ID") : NULL; at != NULL;
           at = strstr (at + 1, "RECURRENCE-ID"))
        if (strncmp (at + strcspn (at, ":"), needle, strlen (needle)) == 0)
          break;
    }
  if (at == NULL)
    return NULL;
  begin = g_strrstr_len (ical, at - ical, "BEGIN:VEVENT");
  end = strstr (at, "END:VEVENT");
  g_assert_nonnull (begin);
  g_assert_nonnull (end);
  return g_strndup (begin, (gsize) (end - begin));
}

static void
assert_exdate (const char *ical,
               const char *when)
{
  for (const char *at = strstr (ical, "EXDATE"); at != NULL; at = strstr (at + 1, "EXDATE"))
    {
      const char *eol = strstr (at, "\r\n");

      if (eol != NULL && g_strstr_len (at, eol - at, when) != NULL)
        return;
    }
  g_error ("No EXDATE at %s in:\n%s", when, ical);
}

static void
test_series_create_exceptions (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *ical = series_vcalendar ("EXDATE:20261221T090000Z\r\n", SERIES_OVERRIDE_14);
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) updates = NULL;
  g_autoptr(GPtrArray) deletes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *moved = NULL;

  created = create_item (f, ical, "local-series", &error);
  g_assert_no_error (error);
  g_assert_nonnull (created->id);
  /* One item on the server: the override is an exception of it. */
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);
  updates = ews_requests (f, "UpdateItem");
  deletes = ews_requests (f, "DeleteItem");
  g_assert_cmpuint (updates->len, ==, 1);
  g_assert_cmpuint (deletes->len, ==, 1);

  changes = sync_all (f, NULL, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_cmpint (find_change (changes, created->id)->kind, ==, AGL_REMOTE_CHANGE_CREATE);

  item = get_item (f, created->id);
  g_assert_no_error (item->error);
  /* The key after the occurrence changes, not the CreateItem's. */
  g_assert_cmpstr (item->change_key, ==, created->change_key);
  g_assert_cmpstr (item->local_identity, ==, "local-series");
  assert_contains (item->ical, "RRULE:FREQ=WEEKLY");
  assert_contains (item->ical, "SUMMARY:Weekly review");
  assert_exdate (item->ical, "20261221T090000Z");
  moved = override_text (item->ical, "20261214T090000Z");
  if (moved == NULL)
    g_error ("No override at 20261214T090000Z in:\n%s", item->ical);
  assert_contains (moved, "SUMMARY:Moved review");
  assert_contains (moved, "20261215T100000Z");
  assert_contains (moved, "20261215T110000Z");
  /* Nothing else became an exception or was deleted. */
  g_assert_null (override_text (item->ical, "20261207T090000Z"));
  g_assert_null (override_text (item->ical, "20261228T090000Z"));
  g_assert_null (strstr (item->ical, "20261228T090000Z"));
}

static void
test_series_update_exceptions (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *v1 = series_vcalendar ("EXDATE:20261221T090000Z\r\n", SERIES_OVERRIDE_14);
  g_autofree char *v2 = series_vcalendar ("EXDATE:20261221T090000Z\r\nEXDATE:20270104T090000Z\r\n",
                                          SERIES_OVERRIDE_14 SERIES_OVERRIDE_28);
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) updated = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *year_end = NULL;
  AglRemoteChange *change;

  created = create_item (f, v1, "local-series", &error);
  g_assert_no_error (error);
  g_ptr_array_unref (sync_all (f, NULL, 10, NULL, &state));

  /* An occurrence edited and another deleted in the local agenda. */
  updated = update_item (f, created, created->change_key, v1, v2, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (updated->id, ==, created->id);
  g_assert_cmpstr (updated->change_key, !=, created->change_key);

  /* Exchange has a new exception and a deleted occurrence of the same
   * item, not a new item. */
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);
  changes = sync_all (f, state, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  change = find_change (changes, created->id);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_UPDATE);
  g_assert_cmpstr (change->change_key, ==, updated->change_key);

  item = get_item (f, created->id);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  assert_exdate (item->ical, "20261221T090000Z");
  assert_exdate (item->ical, "20270104T090000Z");
  year_end = override_text (item->ical, "20261228T090000Z");
  if (year_end == NULL)
    g_error ("No override at 20261228T090000Z in:\n%s", item->ical);
  assert_contains (year_end, "SUMMARY:Year-end review");
  moved = override_text (item->ical, "20261214T090000Z");
  g_assert_nonnull (moved);
  assert_contains (moved, "SUMMARY:Moved review");
}

static void
test_series_update_unchanged_master (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *v1 = series_vcalendar ("", "");
  g_autofree char *v2 = series_vcalendar ("", SERIES_OVERRIDE_28);
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) updated = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) updates = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *year_end = NULL;

  created = create_item (f, v1, "local-series", &error);
  g_assert_no_error (error);
  /* A plain series: nothing after the CreateItem. */
  updates = ews_requests (f, "UpdateItem");
  g_assert_cmpuint (updates->len, ==, 0);
  g_clear_pointer (&updates, g_ptr_array_unref);

  /* Only an occurrence changed: one UpdateItem, on the occurrence. */
  updated = update_item (f, created, created->change_key, v1, v2, &error);
  g_assert_no_error (error);
  updates = ews_requests (f, "UpdateItem");
  g_assert_cmpuint (updates->len, ==, 1);
  item = get_item (f, created->id);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  g_assert_cmpstr (updated->change_key, !=, created->change_key);
  year_end = override_text (item->ical, "20261228T090000Z");
  g_assert_nonnull (year_end);
  assert_contains (year_end, "SUMMARY:Year-end review");
  assert_contains (item->ical, "SUMMARY:Weekly review");
}

/* No base known: the master is written whole and every exception of the
 * new version applied; an occurrence already deleted stays deleted. */
static void
test_series_update_without_base (Fixture       *f,
                                 gconstpointer  data)
{
  g_autofree char *v1 = series_vcalendar ("EXDATE:20261221T090000Z\r\n", SERIES_OVERRIDE_14);
  g_autofree char *v2 = series_vcalendar ("EXDATE:20261221T090000Z\r\nEXDATE:20270104T090000Z\r\n",
                                          SERIES_OVERRIDE_28);
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) updated = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *year_end = NULL;
  g_autofree char *moved = NULL;

  created = create_item (f, v1, "local-series", &error);
  g_assert_no_error (error);
  agl_remote_update_item_async (f->remote, created->id, created->change_key, NULL, v2,
                                AGL_REMOTE_CONFLICT_NEVER_OVERWRITE, AGL_REMOTE_SEND_NONE,
                                NULL, done_cb, f);
  updated = agl_remote_update_item_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);

  item = get_item (f, created->id);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  assert_exdate (item->ical, "20261221T090000Z");
  assert_exdate (item->ical, "20270104T090000Z");
  year_end = override_text (item->ical, "20261228T090000Z");
  g_assert_nonnull (year_end);
  assert_contains (year_end, "SUMMARY:Year-end review");
  /* Nothing the new version does not name is undone. */
  moved = override_text (item->ical, "20261214T090000Z");
  g_assert_nonnull (moved);
  assert_contains (moved, "SUMMARY:Moved review");
}

static void
test_series_update_override_dropped (Fixture       *f,
                                     gconstpointer  data)
{
  g_autofree char *v1 = series_vcalendar ("", SERIES_OVERRIDE_14);
  g_autofree char *v2 = series_vcalendar ("", "");
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) updated = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *occurrence = NULL;

  created = create_item (f, v1, "local-series", &error);
  g_assert_no_error (error);
  updated = update_item (f, created, created->change_key, v1, v2, &error);
  g_assert_no_error (error);

  /* EWS keeps the exception; its fields are the series' again. */
  item = get_item (f, created->id);
  g_assert_cmpstr (item->change_key, ==, updated->change_key);
  g_assert_null (strstr (item->ical, "Moved review"));
  g_assert_null (strstr (item->ical, "20261215T100000Z"));
  occurrence = override_text (item->ical, "20261214T090000Z");
  if (occurrence != NULL)
    {
      assert_contains (occurrence, "SUMMARY:Weekly review");
      assert_contains (occurrence, "20261214T100000Z");
    }
}

static void
test_series_refused (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *v1 = series_vcalendar ("EXDATE:20261221T090000Z\r\n", "");
  g_autofree char *restored = series_vcalendar ("", "");
  /* 16 December is a Wednesday: no occurrence of the pattern. */
  g_autofree char *stray = series_vcalendar ("EXDATE:20261216T090000Z\r\n", "");
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;

  item = create_item (f, stray, "local-stray", &error);
  g_assert_null (item);
  g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT);
  assert_contains (error->message, "20261216T090000Z");
  g_clear_error (&error);
  requests = ews_requests (f, "CreateItem");
  g_assert_cmpuint (requests->len, ==, 0);
  g_clear_pointer (&requests, g_ptr_array_unref);

  created = create_item (f, v1, "local-series", &error);
  g_assert_no_error (error);
  /* Restoring a deleted occurrence: refused before anything is sent. */
  item = update_item (f, created, created->change_key, v1, restored, &error);
  g_assert_null (item);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_CALENDAR_OCCURRENCE_IS_DELETED_FROM_RECURRENCE);
  assert_contains (error->message, "20261221T090000Z");
  requests = ews_requests (f, "UpdateItem");
  g_assert_cmpuint (requests->len, ==, 0);
}

/* InstanceIndex without a server: Exchange's counting over the pattern in
 * the zone of DTSTART. */
#define BERLIN_MASTER \
  "BEGIN:VEVENT\r\nUID:berlin\r\nDTSTAMP:20261101T000000Z\r\n" \
  "DTSTART;TZID=Europe/Berlin:20260302T090000\r\nDTEND;TZID=Europe/Berlin:20260302T100000\r\n" \
  "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEXDATE;TZID=Europe/Berlin:20260309T090000\r\n" \
  "SUMMARY:Berlin\r\nEND:VEVENT\r\n"

static guint
index_of (AglWindowsZones  *zones,
          const char       *master,
          const char       *line,
          GError          **error)
{
  g_autofree char *text = g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                                           "PRODID:-//Agendaline//tests//EN\r\n%s"
                                           "BEGIN:VEVENT\r\nUID:berlin\r\n%s\r\n"
                                           "DTSTAMP:20261101T000000Z\r\nEND:VEVENT\r\n"
                                           "END:VCALENDAR\r\n", master, line);
  icalcomponent *vcalendar = icalcomponent_new_from_string (text);
  icalproperty *rid = NULL;
  guint index;

  g_assert_nonnull (vcalendar);
  for (icalcomponent *c = icalcomponent_get_first_component (vcalendar, ICAL_VEVENT_COMPONENT);
       c != NULL && rid == NULL; c = icalcomponent_get_next_component (vcalendar, ICAL_VEVENT_COMPONENT))
    rid = icalcomponent_get_first_property (c, ICAL_RECURRENCEID_PROPERTY);
  g_assert_nonnull (rid);
  index = agl_ews_series_instance_index (vcalendar, zones, rid, error);
  icalcomponent_free (vcalendar);
  return index;
}

static void
test_series_instance_index (void)
{
  static const struct {
    const char *line;
    guint       index;
  } cases[] = {
    { "RECURRENCE-ID;TZID=Europe/Berlin:20260302T090000", 1 },
    /* The deleted occurrence of 9 March still counts. */
    { "RECURRENCE-ID;TZID=Europe/Berlin:20260316T090000", 3 },
    /* After the switch to summer time on 29 March: 09:00 is 07:00Z. */
    { "RECURRENCE-ID;TZID=Europe/Berlin:20260330T090000", 5 },
    { "RECURRENCE-ID:20260330T070000Z", 5 },
    { "RECURRENCE-ID:20260323T080000Z", 4 },
    { "RECURRENCE-ID:20260330T080000Z", 0 },
    { "RECURRENCE-ID;TZID=Europe/Berlin:20260331T090000", 0 },
  };
  /* Wednesday 4 March is no Monday: Exchange's pattern never gives it. */
  static const char *off_pattern =
    "BEGIN:VEVENT\r\nUID:berlin\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20260304T090000Z\r\nDTEND:20260304T100000Z\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Off\r\nEND:VEVENT\r\n";
  /* The 5th is no 10th: the first occurrence is 10 March. */
  static const char *off_monthly =
    "BEGIN:VEVENT\r\nUID:berlin\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20260305T090000Z\r\nDTEND:20260305T100000Z\r\n"
    "RRULE:FREQ=MONTHLY;BYMONTHDAY=10\r\nSUMMARY:Off\r\nEND:VEVENT\r\n";
  g_autoptr(GError) error = NULL;
  AglWindowsZones *zones = agl_windows_zones_get_default (&error);

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint index = index_of (zones, BERLIN_MASTER, cases[i].line, &error);

      g_test_message ("%s: %u", cases[i].line, index);
      g_assert_cmpuint (index, ==, cases[i].index);
      if (cases[i].index == 0)
        {
          g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT);
          assert_contains (error->message, "is not an occurrence");
          g_clear_error (&error);
        }
      else
        g_assert_no_error (error);
    }
  g_assert_cmpuint (index_of (zones, off_pattern, "RECURRENCE-ID:20260309T090000Z", &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (index_of (zones, off_pattern, "RECURRENCE-ID:20260304T090000Z", &error), ==, 0);
  g_assert_error (error, AGL_EWS_CALENDAR_ERROR, AGL_EWS_CALENDAR_ERROR_INVALID_EVENT);
  g_clear_error (&error);
  g_assert_cmpuint (index_of (zones, off_monthly, "RECURRENCE-ID:20260410T090000Z", &error), ==, 2);
  g_assert_no_error (error);
}

/* The same series in Europe/Berlin across the switch to summer time (28
 * March 2027): the server expands the pattern in StartTimeZone, and the
 * client's InstanceIndex must name the same occurrences. */
static void
test_series_create_berlin (Fixture       *f,
                           gconstpointer  data)
{
  static const char *ical =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendaline//tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:local-berlin\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART;TZID=Europe/Berlin:20270315T090000\r\nDTEND;TZID=Europe/Berlin:20270315T100000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4\r\nEXDATE;TZID=Europe/Berlin:20270329T090000\r\n"
    "SUMMARY:Berlin review\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:local-berlin\r\nDTSTAMP:20261101T000000Z\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20270405T090000\r\n"
    "DTSTART;TZID=Europe/Berlin:20270405T140000\r\nDTEND;TZID=Europe/Berlin:20270405T150000\r\n"
    "SUMMARY:Spring review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *spring = NULL;

  created = create_item (f, ical, "local-berlin", &error);
  g_assert_no_error (error);
  item = get_item (f, created->id);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->change_key, ==, created->change_key);
  g_test_message ("%s", item->ical);
  /* 09:00 in Berlin is 07:00Z once summer time began. */
  spring = override_text (item->ical, "20270405T090000");
  if (spring == NULL)
    spring = override_text (item->ical, "20270405T070000Z");
  if (spring == NULL)
    g_error ("No override on 5 April in:\n%s", item->ical);
  assert_contains (spring, "SUMMARY:Spring review");
  if (strstr (item->ical, "20270329T090000") == NULL)
    assert_exdate (item->ical, "20270329T070000Z");
  else
    assert_exdate (item->ical, "20270329T090000");
}

static void
test_calendar_view (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *single_xml = single_item_xml ("Planning", 10, 13);
  g_autofree char *outside_xml = single_item_xml ("Next week", 15, 9);
  g_autofree char *series = server_create (f, SERIES_XML);
  g_autofree char *single = server_create (f, single_xml);
  g_autofree char *outside = server_create (f, outside_xml);
  g_autoptr(GDateTime) start = g_date_time_new_utc (2026, 12, 7, 0, 0, 0);
  g_autoptr(GDateTime) end = g_date_time_new_utc (2026, 12, 12, 0, 0, 0);
  g_autoptr(GPtrArray) view = NULL;
  g_autoptr(GError) error = NULL;
  guint standups = 0, planning = 0;
  gboolean moved = FALSE;

  ews_harness_delete_item (harness.server, f->address, series, 2, &error);
  g_assert_no_error (error);
  ews_harness_update_item (harness.server, f->address, series, 3,
                           "<t:Start>2026-12-09T11:00:00Z</t:Start><t:End>2026-12-09T11:30:00Z</t:End>",
                           &error);
  g_assert_no_error (error);

  agl_remote_find_calendar_view_async (f->remote, start, end, NULL, done_cb, f);
  view = agl_remote_find_calendar_view_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  /* Four stand-ups (one deleted), the planning; not next week's. */
  g_assert_cmpuint (view->len, ==, 5);
  for (guint i = 0; i < view->len; i++)
    {
      AglRemoteOccurrence *o = g_ptr_array_index (view, i);

      g_assert_nonnull (o->id);
      g_assert_cmpint (g_date_time_compare (o->start, start), >=, 0);
      g_assert_cmpint (g_date_time_compare (o->end, end), <=, 0);
      g_assert_cmpint (g_date_time_compare (o->start, o->end), <, 0);
      g_assert_cmpstr (o->free_busy, ==, "Busy");
      if (g_strcmp0 (o->summary, "Stand-up") == 0)
        {
          standups++;
          g_assert_cmpint (g_date_time_get_day_of_month (o->start), !=, 8);
          if (g_date_time_get_day_of_month (o->start) == 9)
            {
              g_assert_cmpint (g_date_time_get_hour (o->start), ==, 11);
              moved = TRUE;
            }
          else
            g_assert_cmpint (g_date_time_get_hour (o->start), ==, 8);
        }
      else if (g_strcmp0 (o->summary, "Planning") == 0)
        {
          planning++;
          g_assert_cmpstr (o->id, ==, single);
        }
      else
        g_error ("Unexpected occurrence “%s”", o->summary);
    }
  g_assert_cmpuint (standups, ==, 4);
  g_assert_cmpuint (planning, ==, 1);
  g_assert_true (moved);
  g_assert_nonnull (outside);
}

static void
test_oof_settings (Fixture       *f,
                   gconstpointer  data)
{
  static const struct {
    const char        *server_state;
    AglRemoteOofState  state;
  } cases[] = {
    { "Disabled", AGL_REMOTE_OOF_DISABLED },
    { "Enabled", AGL_REMOTE_OOF_ENABLED },
    { "Scheduled", AGL_REMOTE_OOF_SCHEDULED },
  };
  g_autoptr(GDateTime) from = g_date_time_new_utc (2026, 12, 21, 7, 0, 0);
  g_autoptr(GDateTime) until = g_date_time_new_utc (2027, 1, 4, 17, 0, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(AglRemoteOof) oof = NULL;
      g_autoptr(GError) error = NULL;

      ews_harness_set_oof (harness.server, f->address, cases[i].server_state,
                           g_date_time_to_unix (from), g_date_time_to_unix (until),
                           "Back on 4 January.", "I am away until 4 January.");
      agl_remote_get_oof_settings_async (f->remote, NULL, done_cb, f);
      oof = agl_remote_get_oof_settings_finish (f->remote, wait_result (f), &error);
      g_assert_no_error (error);
      g_assert_cmpint (oof->state, ==, cases[i].state);
      assert_contains (oof->internal_reply, "Back on 4 January.");
      assert_contains (oof->external_reply, "I am away until 4 January.");
      if (cases[i].state == AGL_REMOTE_OOF_SCHEDULED)
        {
          g_assert_nonnull (oof->start);
          g_assert_nonnull (oof->end);
          g_assert_true (g_date_time_equal (oof->start, from));
          g_assert_true (g_date_time_equal (oof->end, until));
        }
    }
}

static void
test_pull_notifications (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AglRemoteSubscription) subscription = NULL;
  g_autoptr(AglRemoteEvents) events = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_watermark = NULL;
  g_autofree char *xml = single_item_xml ("Booked while subscribed", 5, 9);
  g_autofree char *id = NULL;

  agl_remote_subscribe_async (f->remote, NULL, NULL, done_cb, f);
  subscription = agl_remote_subscribe_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_nonnull (subscription->id);
  g_assert_nonnull (subscription->watermark);
  first_watermark = g_strdup (subscription->watermark);

  id = server_create (f, xml);
  agl_remote_get_events_async (f->remote, subscription, NULL, done_cb, f);
  events = agl_remote_get_events_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->n_events, >=, 1);
  g_assert_false (events->more);
  g_assert_nonnull (events->watermark);
  g_assert_cmpstr (events->watermark, !=, first_watermark);
  g_assert_cmpstr (subscription->watermark, ==, events->watermark);
  g_clear_pointer (&events, agl_remote_events_free);

  /* Nothing new: a status event only. */
  agl_remote_get_events_async (f->remote, subscription, NULL, done_cb, f);
  events = agl_remote_get_events_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->n_events, ==, 0);
  g_clear_pointer (&events, agl_remote_events_free);

  agl_remote_unsubscribe_async (f->remote, subscription->id, NULL, done_cb, f);
  g_assert_true (agl_remote_unsubscribe_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);

  agl_remote_get_events_async (f->remote, subscription, NULL, done_cb, f);
  events = agl_remote_get_events_finish (f->remote, wait_result (f), &error);
  g_assert_null (events);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SUBSCRIPTION_NOT_FOUND);
}

typedef struct {
  Fixture   *f;
  char      *created;
  gboolean   created_seen;
  gint64     opened_us;
  gboolean   finished;
  guint      n_notifications;
} Streaming;

/* When the stream is open on the server (200; 401 is an NTLM leg), the
 * user books something. */
static gboolean
streaming_served (guint    status,
                  gpointer user_data)
{
  Streaming *s = user_data;
  g_autofree char *xml = single_item_xml ("Booked while streaming", 6, 9);

  if (status != SOUP_STATUS_OK)
    return FALSE;
  s->opened_us = g_get_monotonic_time ();
  s->created = server_create (s->f, xml);
  return TRUE;
}

static void
notification_cb (AglEwsStreaming    *streaming,
                 AglEwsNotification *notification,
                 Streaming          *s)
{
  /* Delivered while the connection stays open. */
  g_assert_false (s->finished);
  s->n_notifications++;
  for (guint i = 0; i < notification->events->len; i++)
    {
      AglEwsEvent *event = g_ptr_array_index (notification->events, i);

      if (event->kind == AGL_EWS_EVENT_KIND_CREATED && g_strcmp0 (event->id, s->created) == 0)
        s->created_seen = TRUE;
    }
}

static void
streamed_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Streaming *s = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (agl_ews_streaming_run_finish (AGL_EWS_STREAMING (source), result, &error));
  g_assert_no_error (error);
  s->finished = TRUE;
}

static void
test_streaming_notifications (Fixture       *f,
                              gconstpointer  data)
{
  AglEwsConnection *connection = connection_of (f);
  g_autoptr(AglEwsSubscription) subscription = NULL;
  g_autoptr(AglEwsStreaming) streaming = agl_ews_streaming_new (connection);
  g_autoptr(GError) error = NULL;
  Streaming s = { f, NULL, FALSE, 0, FALSE, 0 };
  const char *ids[2] = { NULL, NULL };
  g_autoptr(AglRemoteFolder) folder = NULL;

  /* As the engine starts: the first answer tells an "auto" account the
   * server's version, and streaming needs Exchange 2010 SP1 or later. */
  folder = get_folder (f, &error);
  g_assert_no_error (error);

  agl_ews_subscribe_async (connection, TRUE, NULL, 0, NULL, done_cb, f);
  subscription = agl_ews_subscribe_finish (connection, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_nonnull (subscription->subscription_id);

  watch_served ("GetStreamingEvents", streaming_served, &s);
  g_signal_connect (streaming, "notification", G_CALLBACK (notification_cb), &s);
  ids[0] = subscription->subscription_id;
  agl_ews_streaming_run_async (streaming, ids, 1, NULL, streamed_cb, &s);

  wait_until (&s.created_seen);
  g_assert_false (s.finished);
  wait_until (&s.finished);
  /* Closed by the server after its ConnectionTimeout of one EWS minute. */
  g_assert_cmpint (g_get_monotonic_time () - s.opened_us, >=, (MINUTE_MS - 100) * 1000);
  g_assert_cmpuint (s.n_notifications, >=, 1);
  g_assert_null (harness.served_func);

  agl_ews_unsubscribe_async (connection, subscription->subscription_id, NULL, done_cb, f);
  g_assert_true (agl_ews_unsubscribe_finish (connection, wait_result (f), &error));
  g_assert_no_error (error);
  g_free (s.created);
}

static void
test_autodiscover (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(AglAccount) account = make_account (f->address, f->user, "ntlm", NULL);
  g_autoptr(AglEwsConnection) connection = NULL;
  g_autoptr(AglRemote) remote = NULL;
  g_autoptr(AglEwsAutodiscover) found = NULL;
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *endpoint = ews_harness_get_autodiscover_url (harness.server);
  g_autofree char *display_name = g_strdup_printf ("Test user %s", f->user);
  const char *candidates[] = { endpoint, NULL };

  connection = agl_ews_connection_new (account, PASSWORD, &error);
  g_assert_no_error (error);
  g_assert_null (agl_ews_connection_get_url (connection));

  agl_ews_autodiscover_async (connection, f->address, candidates, NULL, done_cb, f);
  found = agl_ews_autodiscover_finish (connection, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->action, ==, AGL_EWS_AUTODISCOVER_SETTINGS);
  g_assert_cmpstr (found->ews_url, ==, harness.url);
  g_assert_cmpstr (found->display_name, ==, display_name);
  g_assert_cmpstr (found->smtp_address, ==, f->address);

  /* The URL found is the one that works. */
  agl_ews_connection_set_url (connection, found->ews_url);
  remote = agl_ews_backend_new (connection);
  info = test_connection (f, remote, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->url, ==, harness.url);
  g_clear_pointer (&info, agl_remote_info_free);
  g_clear_pointer (&found, agl_ews_autodiscover_free);

  /* An address the server does not know. */
  agl_ews_autodiscover_async (connection, "nobody@example.org", candidates, NULL, done_cb, f);
  found = agl_ews_autodiscover_finish (connection, wait_result (f), &error);
  g_assert_null (found);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER);
}

/* Tests: faults */

/* The request that followed @r among the service's requests. */
static Request *
request_after (GPtrArray *requests,
               Request   *r)
{
  guint i;

  g_assert_true (g_ptr_array_find (requests, r, &i));
  g_assert_cmpuint (i + 1, <, requests->len);
  return g_ptr_array_index (requests, i + 1);
}

static void
test_fault_http_500 (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-500", "Not twice", "20261203T090000Z", "20261203T100000Z");
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;

  /* Retried, then success. */
  ews_harness_inject_fault (harness.server, "http-500", 1, 0);
  folder = get_folder (f, &error);
  g_assert_no_error (error);
  requests = ews_requests (f, "GetFolder");
  g_assert_cmpuint (requests->len, ==, 2);
  g_assert_cmpuint (((Request *) requests->pdata[0])->status, ==, 500);
  g_assert_cmpuint (((Request *) requests->pdata[1])->status, ==, 200);
  g_clear_pointer (&folder, agl_remote_folder_free);
  g_clear_pointer (&requests, g_ptr_array_unref);

  /* Up to the policy's four attempts, then the error names the status. */
  ews_harness_inject_fault (harness.server, "http-500", 4, 0);
  folder = get_folder (f, &error);
  g_assert_null (folder);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS);
  assert_contains (error->message, "500");
  assert_contains (error->message, "4 attempts");
  g_clear_error (&error);

  /* A 500 may follow a CreateItem carried out: not sent again. */
  f->first_request = harness.requests->len;
  ews_harness_inject_fault (harness.server, "http-500", 1, 0);
  created = create_item (f, ical, "local-500", &error);
  g_assert_null (created);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS);
  requests = ews_requests (f, "CreateItem");
  g_assert_cmpuint (requests->len, ==, 1);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 0);
}

static void
test_fault_http_503 (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-503", "Once", "20261203T090000Z", "20261203T100000Z");
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;

  ews_harness_inject_fault (harness.server, "http-503", 2, 0);
  page = sync_page (f, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_true (page->includes_last);
  requests = ews_requests (f, "SyncFolderItems");
  g_assert_cmpuint (requests->len, ==, 3);
  g_assert_cmpuint (((Request *) requests->pdata[0])->status, ==, 503);
  g_assert_cmpuint (((Request *) requests->pdata[1])->status, ==, 503);
  g_assert_cmpuint (((Request *) requests->pdata[2])->status, ==, 200);
  g_clear_pointer (&requests, g_ptr_array_unref);

  /* 503: the server did nothing, so even a CreateItem is sent again. */
  ews_harness_inject_fault (harness.server, "http-503", 1, 0);
  created = create_item (f, ical, "local-503", &error);
  g_assert_no_error (error);
  requests = ews_requests (f, "CreateItem");
  g_assert_cmpuint (requests->len, ==, 2);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);
}

/* Every request after an ErrorServerBusy waited its BackOffMilliseconds. */
static void
assert_backoff_honoured (Fixture *f,
                         guint    n_busy)
{
  g_autoptr(GPtrArray) requests = ews_requests (f, NULL);
  guint busy = 0;

  for (guint i = 0; i < requests->len; i++)
    {
      Request *r = g_ptr_array_index (requests, i);
      Request *next;

      if (!r->server_busy)
        continue;
      busy++;
      next = request_after (requests, r);
      g_test_message ("%s retried %" G_GINT64_FORMAT " ms after ErrorServerBusy",
                      r->operation, (next->read_us - r->read_us) / 1000);
      /* The lower bound only: never earlier than the server asked. */
      g_assert_cmpint (next->read_us - r->read_us, >=, (gint64) BUSY_BACK_OFF_MS * 1000);
      g_assert_cmpstr (next->operation, ==, r->operation);
    }
  g_assert_cmpuint (busy, ==, n_busy);
}

static void
test_fault_server_busy (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-busy", "Busy server", "20261203T090000Z", "20261203T100000Z");
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(GError) error = NULL;

  /* Open the connection first, so the retry's timing is the client's. */
  folder = get_folder (f, &error);
  g_assert_no_error (error);
  g_clear_pointer (&folder, agl_remote_folder_free);

  ews_harness_inject_fault (harness.server, "server-busy", 2, BUSY_BACK_OFF_MS);
  folder = get_folder (f, &error);
  g_assert_no_error (error);
  assert_backoff_honoured (f, 2);

  /* ErrorServerBusy says nothing was done: a CreateItem is sent again. */
  ews_harness_inject_fault (harness.server, "server-busy", 1, BUSY_BACK_OFF_MS);
  created = create_item (f, ical, "local-busy", &error);
  g_assert_no_error (error);
  assert_backoff_honoured (f, 3);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 1);
}

static void
test_fault_cut_connection (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *ical = vcalendar ("local-cut", "Cut short", "20261203T090000Z", "20261203T100000Z");
  g_autofree char *xml = single_item_xml ("Existing", 2, 9);
  g_autofree char *id = server_create (f, xml);
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(AglRemoteItem) created = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;
  const char *ids[3] = { NULL, NULL, NULL };
  g_autoptr(GPtrArray) items = NULL;
  guint found = 0;

  /* A read is sent again. */
  ews_harness_inject_fault (harness.server, "cut-connection", 1, 0);
  page = sync_page (f, NULL, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->changes->len, ==, 1);
  requests = ews_requests (f, "SyncFolderItems");
  g_assert_cmpuint (requests->len, ==, 2);
  g_clear_pointer (&requests, g_ptr_array_unref);

  /* A CreateItem cut after the server did it is not: the caller finds the
   * item by its local identity instead of creating it twice. */
  ews_harness_inject_fault (harness.server, "cut-connection", 1, 0);
  created = create_item (f, ical, "local-cut", &error);
  g_assert_null (created);
  g_assert_nonnull (error);
  assert_contains (error->message, "CreateItem");
  requests = ews_requests (f, "CreateItem");
  g_assert_cmpuint (requests->len, ==, 1);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 2);

  changes = sync_all (f, NULL, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 2);
  ids[0] = ((AglRemoteChange *) changes->pdata[0])->id;
  ids[1] = ((AglRemoteChange *) changes->pdata[1])->id;
  items = get_items (f, ids);
  for (guint i = 0; i < items->len; i++)
    {
      AglRemoteItem *item = g_ptr_array_index (items, i);

      g_assert_no_error (item->error);
      if (g_strcmp0 (item->local_identity, "local-cut") == 0)
        {
          found++;
          g_assert_cmpstr (item->id, !=, id);
          assert_contains (item->ical, "SUMMARY:Cut short");
        }
    }
  g_assert_cmpuint (found, ==, 1);
}

static void
test_fault_truncated_xml (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(GError) error = NULL;

  /* HTTP 200 and half a document: a clean error, never a half-read answer. */
  ews_harness_inject_fault (harness.server, "truncated-xml", 1, 0);
  folder = get_folder (f, &error);
  g_assert_null (folder);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE);
  g_clear_error (&error);

  /* The connection is still usable. */
  folder = get_folder (f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (folder->id);
}

/* Cancels once the server holds the request back (status still 0). */
static gboolean
delayed_served (guint    status,
                gpointer user_data)
{
  if (status != 0)
    return FALSE;
  g_cancellable_cancel (user_data);
  return TRUE;
}

static void
test_fault_delay (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) requests = NULL;
  g_autoptr(GError) error = NULL;
  gint64 started;
  Request *delayed;

  /* A slow answer within the client's I/O timeout (fixed, 120 s) arrives. */
  ews_harness_inject_fault (harness.server, "delay", 1, 500);
  started = g_get_monotonic_time ();
  folder = get_folder (f, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 500 * 1000);
  g_clear_pointer (&folder, agl_remote_folder_free);

  /* A slower one is given up by cancelling, promptly. */
  ews_harness_inject_fault (harness.server, "delay", 1, 3000);
  f->first_request = harness.requests->len;
  watch_served ("GetFolder", delayed_served, cancellable);
  agl_remote_get_calendar_folder_async (f->remote, cancellable, done_cb, f);
  folder = agl_remote_get_calendar_folder_finish (f->remote, wait_result (f), &error);
  g_assert_null (folder);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  requests = ews_requests (f, "GetFolder");
  g_assert_cmpuint (requests->len, ==, 1);
  delayed = g_ptr_array_index (requests, 0);
  /* Given up before the server answered. */
  g_assert_cmpuint (delayed->status, ==, 0);
  /* Let the server give its late answer to the closed connection. */
  wait_until (&delayed->finished);
}

/* Tests: authentication, impersonation, sync states */

static void
test_auth_basic (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(AglRemote) remote = make_remote (f->address, f->user, "basic", PASSWORD);
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  info = test_connection (f, remote, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->server_version, ==, "15.1.2507.39");
  g_assert_cmpstr (info->mailbox, ==, f->address);
}

static void
test_auth_wrong_password (Fixture       *f,
                          gconstpointer  data)
{
  static const char *methods[] = { "ntlm", "basic" };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(AglRemote) remote = make_remote (f->address, f->user, methods[i], "not-the-password");
      g_autoptr(AglRemoteInfo) info = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *user = g_strdup_printf ("EXAMPLE\\%s", f->user);

      info = test_connection (f, remote, &error);
      g_assert_null (info);
      g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_UNAUTHORIZED);
      /* NTLM signs in as DOMAIN\user; Basic as the account's user name. */
      assert_contains (error->message, i == 0 ? user : f->user);
      assert_contains (error->message, "401");
    }
}

static void
test_impersonation (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(AglRemote) remote = make_remote (SERVICE, "svc", "ntlm", SERVICE_PASSWORD);
  AglEwsConnection *connection = agl_ews_backend_get_connection (AGL_EWS_BACKEND (remote));
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *folder_id = ews_harness_get_folder_id (harness.server, f->address, NULL);

  agl_ews_connection_set_impersonation (connection, f->address);
  info = test_connection (f, remote, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->impersonation, ==, "works");
  g_assert_cmpstr (info->mailbox, ==, f->address);
  g_assert_cmpstr (info->calendar_folder, ==, folder_id);
}

static void
test_impersonation_denied (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(AglRemote) remote = make_remote (SERVICE, "svc", "ntlm", SERVICE_PASSWORD);
  AglEwsConnection *connection = agl_ews_backend_get_connection (AGL_EWS_BACKEND (remote));
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(AglRemoteFolder) folder = NULL;
  g_autoptr(GError) error = NULL;

  /* bob exists, and the service account has no right on him. */
  agl_ews_connection_set_impersonation (connection, "bob@example.org");
  info = test_connection (f, remote, &error);
  g_assert_null (info);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_IMPERSONATE_USER_DENIED);
  assert_contains (error->message, "ErrorImpersonateUserDenied");
  g_clear_error (&error);

  agl_ews_connection_set_impersonation (connection, "nobody@example.org");
  info = test_connection (f, remote, &error);
  g_assert_null (info);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_NON_EXISTENT_MAILBOX);
  assert_contains (error->message, "ErrorNonExistentMailbox");
  g_clear_error (&error);

  /* The same for every operation, not only the connection test. */
  agl_remote_get_calendar_folder_async (remote, NULL, done_cb, f);
  folder = agl_remote_get_calendar_folder_finish (remote, wait_result (f), &error);
  g_assert_null (folder);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_NON_EXISTENT_MAILBOX);
}

static void
test_sync_invalid_state (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(AglRemote) other = make_remote (SERVICE, "svc", "ntlm", SERVICE_PASSWORD);
  g_autoptr(AglRemoteSyncPage) page = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  g_autofree char *corrupted = NULL;

  g_ptr_array_unref (sync_all (f, NULL, 10, NULL, &state));

  /* A state damaged in storage. */
  corrupted = g_strdup (state);
  corrupted[strlen (corrupted) / 2] = corrupted[strlen (corrupted) / 2] == 'A' ? 'B' : 'A';
  page = sync_page (f, corrupted, 10, &error);
  g_assert_null (page);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SYNC_STATE_DATA);
  assert_contains (error->message, "ErrorInvalidSyncStateData");
  g_clear_error (&error);

  page = sync_page (f, "not a sync state", 10, &error);
  g_assert_null (page);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SYNC_STATE_DATA);
  g_clear_error (&error);

  /* Another mailbox's state. */
  agl_remote_sync_folder_items_async (other, state, 10, NULL, done_cb, f);
  page = agl_remote_sync_folder_items_finish (other, wait_result (f), &error);
  g_assert_null (page);
  g_assert_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SYNC_STATE_DATA);
  g_clear_error (&error);

  /* The good state still works. */
  page = sync_page (f, state, 10, &error);
  g_assert_no_error (error);
  g_assert_true (page->includes_last);
}

/* Tests: connection reuse */

#define KEEP_ALIVE_REQUESTS 10

/* Sends KEEP_ALIVE_REQUESTS GetFolder requests one after the other through
 * @remote and checks that they shared one kept-alive TCP connection (as
 * with IIS: a paged sync must not pay a TLS and NTLM handshake per page). */
static void
assert_requests_share_connection (Fixture    *f,
                                  AglRemote  *remote,
                                  const char *auth)
{
  g_autoptr(GPtrArray) requests = NULL;
  guint first = harness.requests->len;
  guint negotiations = 0;
  guint unauthorized = 0;
  guint connections;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < KEEP_ALIVE_REQUESTS; i++)
    {
      g_autoptr(AglRemoteFolder) folder = NULL;
      g_autoptr(GError) error = NULL;

      agl_remote_get_calendar_folder_async (remote, NULL, done_cb, f);
      folder = agl_remote_get_calendar_folder_finish (remote, wait_result (f), &error);
      g_assert_no_error (error);
      g_assert_nonnull (folder);
    }

  for (guint i = first; i < harness.requests->len; i++)
    {
      Request *r = g_ptr_array_index (harness.requests, i);

      unauthorized += r->status == SOUP_STATUS_UNAUTHORIZED ? 1 : 0;
    }
  connections = count_connections (first, &negotiations);
  g_test_message ("%s: %u requests (%u answered 401) on %u TCP connection(s) in %.1f ms",
                  auth, harness.requests->len - first, unauthorized, connections,
                  (double) (g_get_monotonic_time () - start) / 1000.0);

  requests = ews_requests (f, "GetFolder");
  g_assert_cmpuint (requests->len, ==, KEEP_ALIVE_REQUESTS);
  g_assert_cmpuint (connections, ==, 1);
  if (g_str_equal (auth, "ntlm"))
    {
      /* One handshake: NEGOTIATE, CHALLENGE (401), AUTHENTICATE. */
      g_assert_cmpuint (negotiations, ==, 1);
      g_assert_cmpuint (unauthorized, <=, 2);
    }
  else
    {
      /* Basic: one 401 to learn the realm, then credentials up front. */
      g_assert_cmpuint (negotiations, ==, 0);
      g_assert_cmpuint (unauthorized, <=, 1);
    }
}

static void
test_keep_alive_ntlm (Fixture       *f,
                      gconstpointer  data)
{
  assert_requests_share_connection (f, f->remote, "ntlm");
}

/* Retries after IIS's error pages (503, a 500 without SOAP) and a busy
 * fault go out on the same connection, still without a new handshake. */
static void
test_keep_alive_after_errors (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GPtrArray) requests = NULL;
  guint negotiations = 0;
  static const char *faults[] = { "http-503", "http-500", "server-busy" };

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autoptr(AglRemoteFolder) folder = NULL;
      g_autoptr(GError) error = NULL;

      ews_harness_inject_fault (harness.server, faults[i], 1, 10);
      folder = get_folder (f, &error);
      g_assert_no_error (error);
    }
  requests = ews_requests (f, "GetFolder");
  g_assert_cmpuint (requests->len, ==, 2 * G_N_ELEMENTS (faults));
  g_assert_cmpuint (count_connections (f->first_request, &negotiations), ==, 1);
  g_assert_cmpuint (negotiations, ==, 1);
}

static void
test_keep_alive_basic (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(AglRemote) remote = make_remote (f->address, f->user, "basic", PASSWORD);

  assert_requests_share_connection (f, remote, "basic");
}

/* Tests: finding an item by its local identity, what sync leaves out */

static GPtrArray *
find_by_identity (Fixture    *f,
                  const char *local_identity)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *items;

  agl_remote_find_by_local_identity_async (f->remote, local_identity, NULL, done_cb, f);
  items = agl_remote_find_by_local_identity_finish (f->remote, wait_result (f), &error);
  g_assert_no_error (error);
  g_assert_nonnull (items);
  return items;
}

static void
test_find_by_local_identity (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *ical_a = vcalendar ("uid-a", "Made here", "20261207T090000Z", "20261207T100000Z");
  g_autofree char *ical_b = vcalendar ("uid-b", "Made here too", "20261208T090000Z", "20261208T100000Z");
  g_autofree char *outlook = single_item_xml ("Made in Outlook", 9, 9);
  g_autofree char *outlook_id = NULL;
  g_autoptr(AglRemoteItem) a = NULL;
  g_autoptr(AglRemoteItem) b = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteItem *item;

  a = create_item (f, ical_a, "local-find-a", &error);
  g_assert_no_error (error);
  b = create_item (f, ical_b, "local-find-b", &error);
  g_assert_no_error (error);
  outlook_id = server_create (f, outlook);

  found = find_by_identity (f, "local-find-a");
  g_assert_cmpuint (found->len, ==, 1);
  item = g_ptr_array_index (found, 0);
  g_assert_no_error (item->error);
  g_assert_cmpstr (item->id, ==, a->id);
  g_assert_cmpstr (item->change_key, ==, a->change_key);
  g_assert_cmpstr (item->local_identity, ==, "local-find-a");
  g_assert_null (item->ical);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* Another identity, and one differing only in case (Exchange's
   * IsEqualTo ignores case, identities do not): nothing. */
  found = find_by_identity (f, "local-find-c");
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = find_by_identity (f, "LOCAL-FIND-A");
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);

  /* Gone from the calendar, not found any more. */
  g_assert_true (ews_harness_move_item (harness.server, f->address, b->id, "deleteditems", &error));
  g_assert_no_error (error);
  found = find_by_identity (f, "local-find-b");
  g_assert_cmpuint (found->len, ==, 0);
}

static void
test_sync_meeting_request_ignored (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *appointment = single_item_xml ("Appointment", 10, 9);
  g_autofree char *request = single_item_xml ("Invitation", 10, 11);
  g_autofree char *appointment_id = server_create (f, appointment);
  g_autofree char *request_id = NULL;
  g_autoptr(AglEwsSyncResult) raw = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  AglEwsSyncChange *raw_request = NULL;

  request_id = ews_harness_create_item_of_class (harness.server, f->address,
                                                 "IPM.Schedule.Meeting.Request", request, &error);
  g_assert_no_error (error);

  /* The server does report it, as Exchange does: a t:MeetingRequest. */
  agl_ews_sync_folder_items_async (connection_of (f), NULL, 100, NULL, done_cb, f);
  raw = agl_ews_sync_folder_items_finish (connection_of (f), wait_result (f), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < raw->changes->len; i++)
    {
      AglEwsSyncChange *c = g_ptr_array_index (raw->changes, i);

      if (g_strcmp0 (c->item_id, request_id) == 0)
        raw_request = c;
    }
  g_assert_nonnull (raw_request);
  g_assert_cmpint (raw_request->kind, ==, AGL_EWS_SYNC_CREATE);
  g_assert_cmpstr (raw_request->element_name, ==, "MeetingRequest");
  g_assert_cmpstr (raw_request->item_class, ==, "IPM.Schedule.Meeting.Request");

  /* The backend passes the appointment only. */
  changes = sync_all (f, NULL, 1, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_nonnull (find_change (changes, appointment_id));
  g_assert_null (find_change (changes, request_id));
}

static void
test_sync_move_out_is_delete (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *xml = single_item_xml ("Moved away", 11, 9);
  g_autofree char *id = server_create (f, xml);
  g_autofree char *state = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(AglRemoteItem) item = NULL;
  g_autoptr(GError) error = NULL;
  AglRemoteChange *change;

  g_ptr_array_unref (sync_all (f, NULL, 10, NULL, &state));
  g_assert_true (ews_harness_move_item (harness.server, f->address, id, "deleteditems", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ews_harness_count_items (harness.server, f->address), ==, 0);

  changes = sync_all (f, state, 10, NULL, NULL);
  g_assert_cmpuint (changes->len, ==, 1);
  change = find_change (changes, id);
  g_assert_nonnull (change);
  g_assert_cmpint (change->kind, ==, AGL_REMOTE_CHANGE_DELETE);
  item = get_item (f, id);
  g_assert_error (item->error, AGL_EWS_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND);
}

/* Tests: watch (streaming notifications through AglRemote) */

typedef struct {
  guint    n_changed;
  gint64   changed_us;      /* when the last emission came */
  gboolean stream_opened;   /* a GetStreamingEvents was answered */
} Watch;

static void
changed_cb (AglRemote *remote,
            Watch     *w)
{
  w->n_changed++;
  w->changed_us = g_get_monotonic_time ();
}

/* Runs the main loop until @w counted @n emissions, with the usual
 * timeout. */
static void
wait_changed (Watch *w,
              guint  n)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, timeout_cb, &timed_out);

  while (w->n_changed < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static gboolean
stream_opened_served (guint    status,
                      gpointer user_data)
{
  Watch *w = user_data;

  w->stream_opened = TRUE;
  return TRUE;
}

static void
watch_start (Fixture *f,
             Watch   *w,
             guint    minutes,
             GCancellable *cancellable)
{
  w->stream_opened = FALSE;
  watch_served ("GetStreamingEvents", stream_opened_served, w);
  agl_remote_watch_async (f->remote, minutes, cancellable, done_cb, f);
  wait_until (&w->stream_opened);
}

static void
test_watch_changed (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *xml = single_item_xml ("Booked while watched", 14, 9);
  g_autofree char *id = NULL;
  g_autofree char *subscription = NULL;
  g_autoptr(GError) error = NULL;
  Watch w = { 0, 0, FALSE };
  gint64 started_us = g_get_monotonic_time ();
  gint64 changed_at;

  g_signal_connect (f->remote, "changed", G_CALLBACK (changed_cb), &w);
  g_assert_null (agl_remote_get_subscription_id (f->remote));
  watch_start (f, &w, 1, NULL);
  subscription = g_strdup (agl_remote_get_subscription_id (f->remote));
  g_assert_nonnull (subscription);
  /* The stream's opening status envelope is no change. */
  g_assert_cmpuint (w.n_changed, ==, 0);

  changed_at = g_get_monotonic_time ();
  id = server_create (f, xml);
  wait_changed (&w, 1);
  g_assert_cmpint (w.changed_us - changed_at, <, 2 * G_USEC_PER_SEC);
  /* One notification (the item's CreatedEvent and the folder's
   * ModifiedEvent) is one hint. */
  g_assert_cmpuint (w.n_changed, ==, 1);

  /* The server closes the stream after one EWS minute: a normal end, and
   * the subscription goes on for the next call. */
  g_assert_true (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started_us, >=, (MINUTE_MS - 100) * 1000);
  g_assert_cmpuint (w.n_changed, ==, 1);
  g_assert_cmpstr (agl_remote_get_subscription_id (f->remote), ==, subscription);

  /* Unsubscribing the watched subscription forgets it. */
  agl_remote_unsubscribe_async (f->remote, agl_remote_get_subscription_id (f->remote), NULL,
                                done_cb, f);
  g_assert_true (agl_remote_unsubscribe_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_null (agl_remote_get_subscription_id (f->remote));
  g_signal_handlers_disconnect_by_data (f->remote, &w);
}

/* Expired while no stream was open: the next GetStreamingEvents gets
 * ErrorSubscriptionNotFound. */
static void
test_watch_resubscribes_after_expiry (Fixture       *f,
                                      gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) streams = NULL;
  Watch w = { 0, 0, FALSE };

  g_signal_connect (f->remote, "changed", G_CALLBACK (changed_cb), &w);
  watch_start (f, &w, 1, NULL);
  first = g_strdup (agl_remote_get_subscription_id (f->remote));
  g_assert_true (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (w.n_changed, ==, 0);

  g_assert_cmpuint (ews_harness_expire_subscriptions (harness.server), >=, 1);
  watch_start (f, &w, 1, NULL);
  g_assert_true (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  /* A new subscription, and one hint for what may have been missed. */
  g_assert_nonnull (agl_remote_get_subscription_id (f->remote));
  g_assert_cmpstr (agl_remote_get_subscription_id (f->remote), !=, first);
  g_assert_cmpuint (w.n_changed, ==, 1);
  streams = ews_requests (f, "GetStreamingEvents");
  g_assert_cmpuint (streams->len, ==, 3);
  g_clear_pointer (&streams, g_ptr_array_unref);
  streams = ews_requests (f, "Subscribe");
  g_assert_cmpuint (streams->len, ==, 2);
  g_signal_handlers_disconnect_by_data (f->remote, &w);
}

/* Expired while the stream was open: the server ends it with
 * ErrorSubscriptionNotFound, the backend subscribes anew and goes on
 * watching in the same call. */
static void
test_watch_resubscribes_while_open (Fixture       *f,
                                    gconstpointer  data)
{
  g_autofree char *xml = single_item_xml ("Booked after renewal", 15, 9);
  g_autofree char *first = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GError) error = NULL;
  Watch w = { 0, 0, FALSE };

  g_signal_connect (f->remote, "changed", G_CALLBACK (changed_cb), &w);
  watch_start (f, &w, 3, NULL);
  first = g_strdup (agl_remote_get_subscription_id (f->remote));

  w.stream_opened = FALSE;
  watch_served ("GetStreamingEvents", stream_opened_served, &w);
  g_assert_cmpuint (ews_harness_expire_subscriptions (harness.server), >=, 1);
  wait_until (&w.stream_opened);
  g_assert_cmpstr (agl_remote_get_subscription_id (f->remote), !=, first);
  g_assert_cmpuint (w.n_changed, ==, 1);

  /* The new stream delivers. */
  id = server_create (f, xml);
  wait_changed (&w, 2);
  g_assert_true (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (w.n_changed, ==, 2);
  g_signal_handlers_disconnect_by_data (f->remote, &w);
}

static void
test_watch_not_supported (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(AglRemoteSubscription) pull = NULL;
  g_autoptr(GError) error = NULL;
  gboolean watched;

  ews_harness_set_streaming_enabled (harness.server, FALSE);
  agl_remote_watch_async (f->remote, 1, NULL, done_cb, f);
  watched = agl_remote_watch_finish (f->remote, wait_result (f), &error);
  ews_harness_set_streaming_enabled (harness.server, TRUE);
  g_assert_false (watched);
  g_assert_error (error, AGL_REMOTE_ERROR, AGL_REMOTE_ERROR_NOT_SUPPORTED);
  g_assert_null (agl_remote_get_subscription_id (f->remote));
  g_clear_error (&error);

  /* Pull subscriptions, the fallback, still work. */
  ews_harness_set_streaming_enabled (harness.server, FALSE);
  agl_remote_subscribe_async (f->remote, NULL, NULL, done_cb, f);
  pull = agl_remote_subscribe_finish (f->remote, wait_result (f), &error);
  ews_harness_set_streaming_enabled (harness.server, TRUE);
  g_assert_no_error (error);
  g_assert_nonnull (pull->id);
}

static void
test_watch_cancel (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) streams = NULL;
  g_autoptr(GError) error = NULL;
  Watch w = { 0, 0, FALSE };
  gint64 cancelled_us;

  /* Thirty EWS minutes: only the cancellation can end it in time. */
  watch_start (f, &w, 30, cancellable);
  cancelled_us = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_assert_false (agl_remote_watch_finish (f->remote, wait_result (f), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_us, <, MINUTE_MS * 1000);
  /* The server saw the connection go. */
  streams = ews_requests (f, "GetStreamingEvents");
  g_assert_cmpuint (streams->len, ==, 1);
  wait_until (&((Request *) g_ptr_array_index (streams, 0))->finished);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  guint read_signal;
  gulong read_hook;
  int status;

  g_test_init (&argc, &argv, NULL);

  harness.requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  harness.server = ews_harness_server_new (g_getenv ("AGL_EWS_KIT"),
                                           g_getenv ("AGL_EWS_SERVER_FIXTURES"),
                                           MINUTE_MS, MINUTE_MS / 4, &error);
  g_assert_no_error (error);
  harness.url = ews_harness_get_url (harness.server);
  ews_harness_add_mailbox (harness.server, SERVICE, "svc", SERVICE_PASSWORD);
  ews_harness_add_mailbox (harness.server, "bob@example.org", "bob", PASSWORD);

  read_signal = g_signal_lookup ("request-read", SOUP_TYPE_SERVER);
  read_hook = g_signal_add_emission_hook (read_signal, 0, request_read_hook, NULL, NULL);

#define ADD(path, func) \
  g_test_add ("/ews-client-server/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("connection/auto-version", test_connection_auto_version);
  ADD ("calendar-folder", test_calendar_folder);
  ADD ("sync/paged-to-completion", test_sync_paged);
  ADD ("sync/incremental-outlook-edits", test_sync_incremental);
  ADD ("sync/invalid-state", test_sync_invalid_state);
  ADD ("get-items/batches", test_get_items_batches);
  ADD ("create/local-identity", test_create_local_identity);
  ADD ("update/change-key-and-stale-conflict", test_update_change_key);
  ADD ("delete", test_delete);
  ADD ("series/create-with-exception-and-exdate", test_series_create_exceptions);
  ADD ("series/update-adds-exception-and-deleted-occurrence", test_series_update_exceptions);
  ADD ("series/update-occurrence-only", test_series_update_unchanged_master);
  ADD ("series/update-override-dropped", test_series_update_override_dropped);
  ADD ("series/update-without-base", test_series_update_without_base);
  ADD ("series/refused-before-sending", test_series_refused);
  ADD ("series/create-europe-berlin-across-dst", test_series_create_berlin);
  ADD ("calendar-view", test_calendar_view);
  ADD ("oof/disabled-enabled-scheduled", test_oof_settings);
  ADD ("notifications/pull", test_pull_notifications);
  ADD ("notifications/streaming", test_streaming_notifications);
  ADD ("find/local-identity", test_find_by_local_identity);
  ADD ("sync/meeting-request-ignored", test_sync_meeting_request_ignored);
  ADD ("sync/move-out-is-delete", test_sync_move_out_is_delete);
  ADD ("watch/changed-and-timeout", test_watch_changed);
  ADD ("watch/resubscribes-after-expiry", test_watch_resubscribes_after_expiry);
  ADD ("watch/resubscribes-while-open", test_watch_resubscribes_while_open);
  ADD ("watch/not-supported-without-streaming", test_watch_not_supported);
  ADD ("watch/cancel", test_watch_cancel);
  ADD ("autodiscover/pox", test_autodiscover);
  ADD ("fault/http-500", test_fault_http_500);
  ADD ("fault/http-503", test_fault_http_503);
  ADD ("fault/server-busy-backoff", test_fault_server_busy);
  ADD ("fault/cut-connection", test_fault_cut_connection);
  ADD ("fault/truncated-xml", test_fault_truncated_xml);
  ADD ("fault/delay", test_fault_delay);
  ADD ("auth/basic", test_auth_basic);
  ADD ("auth/wrong-password", test_auth_wrong_password);
  ADD ("keep-alive/ntlm", test_keep_alive_ntlm);
  ADD ("keep-alive/basic", test_keep_alive_basic);
  ADD ("keep-alive/after-errors", test_keep_alive_after_errors);
  ADD ("impersonation/works", test_impersonation);
  ADD ("impersonation/denied-and-non-existent", test_impersonation_denied);

#undef ADD

  g_test_add_func ("/ews-client-server/series/instance-index", test_series_instance_index);

  status = g_test_run ();

  g_signal_remove_emission_hook (read_signal, read_hook);
  g_clear_object (&harness.server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (harness.requests);
  g_free (harness.url);
  return status;
}
