/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-ews-connection.h"
#include "agl-ews-response.h"

/* Reads of a response body: large enough to keep the syscalls few, small
 * enough that the parser sees a big SyncFolderItems page in pieces. */
#define READ_CHUNK_BYTES 65536

/* An error page (503, 502) up to this size is read before the retry, so
 * that the retry can go out on the same connection; a longer one is
 * dropped with its connection. */
#define DRAIN_MAX_BYTES 65536

/* An ordinary request that sends nothing for this long is dead; streaming
 * requests use a session without an I/O timeout (the server is silent
 * between notifications). */
#define IO_TIMEOUT_SECONDS 120

/* What the first request of an account whose version is "auto" asks for:
 * every EWS server answers it, and the answer carries ServerVersionInfo. */
#define AUTO_FIRST_VERSION "Exchange2007_SP1"

typedef enum {
  AUTH_NTLM,
  AUTH_BASIC,
  AUTH_BEARER,
} AuthMethod;

struct _AglEwsConnection
{
  GObject            parent_instance;

  SoupSession       *session;
  SoupSession       *streaming_session;
  GTlsDatabase      *ca_database;

  char              *url;
  char              *mailbox;
  char              *user;          /* DOMAIN\user for NTLM */
  char              *secret;        /* password or bearer token; never logged */
  AuthMethod         auth;

  gboolean           auto_version;
  char              *server_version;    /* RequestServerVersion in use */
  char              *server_build;      /* "15.1.2507.39" once known */

  char              *impersonate;
  char              *time_zone_id;

  AglEwsRetryPolicy  retry;
  gsize              max_response_bytes;
};

enum {
  PROP_0,
  PROP_SERVER_VERSION,
  PROP_SERVER_BUILD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AglEwsConnection, agl_ews_connection, G_TYPE_OBJECT)

static const AglEwsRetryPolicy default_retry = { 500, 60000, 6 };

/* Session set-up */

static SoupSession *
create_session (AglEwsConnection *self,
                guint             io_timeout)
{
  SoupSession *session = soup_session_new_with_options ("timeout", io_timeout,
                                                        "user-agent", "Agendaline/" PACKAGE_VERSION,
                                                        NULL);

  /* Only the method the account names may see the secret: a server that
   * offers Basic next to NTLM must not get the password in clear text from
   * an NTLM account, and a bearer account has no password at all. */
  soup_session_remove_feature_by_type (session, SOUP_TYPE_AUTH_DIGEST);
  if (self->auth != AUTH_BASIC)
    soup_session_remove_feature_by_type (session, SOUP_TYPE_AUTH_BASIC);
  if (self->auth == AUTH_NTLM)
    soup_session_add_feature_by_type (session, SOUP_TYPE_AUTH_NTLM);
  return session;
}

static char *
describe_certificate_errors (GTlsCertificateFlags flags)
{
  GString *text = g_string_new (NULL);
  static const struct {
    GTlsCertificateFlags flag;
    const char          *text;
  } reasons[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, N_("it is not signed by a trusted certificate authority") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, N_("it was not issued for this host name") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("it is not valid yet") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("it has expired") },
    { G_TLS_CERTIFICATE_REVOKED, N_("it has been revoked") },
    { G_TLS_CERTIFICATE_INSECURE, N_("it uses an insecure algorithm") },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, N_("it could not be checked") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      if ((flags & reasons[i].flag) == 0)
        continue;
      if (text->len > 0)
        g_string_append (text, "; ");
      g_string_append (text, _(reasons[i].text));
    }
  if (text->len == 0)
    g_string_append (text, _("it could not be checked"));
  return g_string_free (text, FALSE);
}

/* The account's CA file extends the system's trust, it never replaces a
 * check: libsoup asks here only after the system's verification failed, and
 * the certificate is accepted only if it verifies completely (chain, dates,
 * host name) against the CA file.  Any other failure stays fatal. */
static gboolean
accept_certificate_cb (SoupMessage          *message,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       AglEwsConnection     *self)
{
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GUri *uri = soup_message_get_uri (message);
  GTlsCertificateFlags flags;

  g_object_set_data (G_OBJECT (message), "agl-tls-errors", GUINT_TO_POINTER (errors));
  if (self->ca_database == NULL || (errors & ~G_TLS_CERTIFICATE_UNKNOWN_CA) != 0)
    return FALSE;

  identity = g_network_address_new (g_uri_get_host (uri), (guint16) g_uri_get_port (uri));
  flags = g_tls_database_verify_chain (self->ca_database, certificate,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       identity, NULL, G_TLS_DATABASE_VERIFY_NONE,
                                       NULL, &error);
  if (error != NULL)
    {
      g_debug ("Could not check %s against the account's CA file: %s",
               g_uri_get_host (uri), error->message);
      return FALSE;
    }
  g_object_set_data (G_OBJECT (message), "agl-tls-errors", GUINT_TO_POINTER (flags));
  return flags == 0;
}

static gboolean
authenticate_cb (SoupMessage      *message,
                 SoupAuth         *auth,
                 gboolean          retrying,
                 AglEwsConnection *self)
{
  const char *scheme = soup_auth_get_scheme_name (auth);
  gboolean matches;

  /* A retry means the server refused these credentials: sending them again
   * would only count towards the account's lock-out. */
  if (retrying || self->secret == NULL || soup_auth_is_for_proxy (auth))
    return FALSE;
  matches = (self->auth == AUTH_NTLM && g_ascii_strcasecmp (scheme, "NTLM") == 0) ||
            (self->auth == AUTH_BASIC && g_ascii_strcasecmp (scheme, "Basic") == 0);
  if (!matches)
    return FALSE;
  soup_auth_authenticate (auth, self->user, self->secret);
  return TRUE;
}

/* libsoup 3.2 sends a restarted message (the second and third leg of NTLM,
 * a retry with credentials after a 401) with an empty body unless the body
 * is set again; evolution-data-server's ESoupSession does the same. */
static void
message_restarted_cb (SoupMessage *message,
                      GBytes      *request)
{
  soup_message_set_request_body_from_bytes (message, "text/xml; charset=utf-8", request);
}

static void
release_request (gpointer  request,
                 GClosure *closure)
{
  g_bytes_unref (request);
}

/* Errors */

static gboolean
io_error_is_transient (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE);
}

static gboolean
http_status_is_transient (guint status)
{
  return status == SOUP_STATUS_BAD_GATEWAY ||
         status == SOUP_STATUS_SERVICE_UNAVAILABLE ||
         status == SOUP_STATUS_GATEWAY_TIMEOUT ||
         status == SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

/* A transport failure as a sentence naming the host and the cause; the
 * original domain and code are kept so callers can tell DNS from TLS. */
static GError *
explain_transport_error (SoupMessage  *message,
                         const GError *error)
{
  GUri *uri = soup_message_get_uri (message);
  const char *host = g_uri_get_host (uri);

  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    {
      GTlsCertificateFlags flags =
        GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (message), "agl-tls-errors"));
      g_autofree char *reasons = NULL;

      if (flags == 0)
        flags = soup_message_get_tls_peer_certificate_errors (message);
      reasons = describe_certificate_errors (flags);
      return g_error_new (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                          _("The TLS certificate of %s is not accepted: %s."), host, reasons);
    }
  if (error->domain == G_RESOLVER_ERROR)
    return g_error_new (error->domain, error->code,
                        _("The host name %s could not be resolved: %s"), host, error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_error_new (error->domain, error->code,
                        _("%s refused the connection on port %d."), host, g_uri_get_port (uri));
  return g_error_new (error->domain, error->code, _("Could not reach %s: %s"), host,
                      error->message);
}

static void
set_unauthorized (GError          **error,
                  AglEwsConnection *self)
{
  g_set_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_UNAUTHORIZED,
               self->auth == AUTH_BEARER ?
               _("The server refused the access token for %s (HTTP 401).") :
               _("The server refused the user name “%s” or its password (HTTP 401)."),
               self->auth == AUTH_BEARER ? self->mailbox : self->user);
}

/* Opening a request: send it, map transport failures and 401 */

typedef struct {
  SoupMessage *message;
  gboolean     long_lived;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_clear_object (&data->message);
  g_free (data);
}

static void
open_sent_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglEwsConnection *self = g_task_get_source_object (task);
  OpenData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = NULL;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (stream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, explain_transport_error (data->message, error));
      return;
    }
  if (soup_message_get_status (data->message) == SOUP_STATUS_UNAUTHORIZED)
    {
      GError *unauthorized = NULL;

      set_unauthorized (&unauthorized, self);
      g_task_return_error (task, unauthorized);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&stream), g_object_unref);
}

/**
 * agl_ews_connection_open_async:
 * @self: a connection
 * @message: a message from agl_ews_connection_new_message()
 * @long_lived: %TRUE for a request that may stay silent for minutes
 *   (GetStreamingEvents); it then has no I/O timeout
 * @cancellable: (nullable): cancels the request
 * @callback: called when the response headers have arrived
 * @user_data: for @callback
 *
 * Sends @message once, without retrying.  Use agl_ews_connection_send_async()
 * for ordinary requests; this is for callers that read the body themselves.
 */
void
agl_ews_connection_open_async (AglEwsConnection    *self,
                               SoupMessage         *message,
                               gboolean             long_lived,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *data;
  SoupSession *session;

  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_return_if_fail (SOUP_IS_MESSAGE (message));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_ews_connection_open_async);
  data = g_new0 (OpenData, 1);
  data->message = g_object_ref (message);
  data->long_lived = long_lived;
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);

  if (long_lived)
    {
      if (self->streaming_session == NULL)
        self->streaming_session = create_session (self, 0);
      session = self->streaming_session;
    }
  else
    session = self->session;

  soup_session_send_async (session, message, G_PRIORITY_DEFAULT, cancellable,
                           open_sent_cb, g_steal_pointer (&task));
}

/**
 * agl_ews_connection_open_finish:
 * @self: a connection
 * @result: the result
 * @error: return location: an #AGL_EWS_ERROR_UNAUTHORIZED naming the user,
 *   a #G_TLS_ERROR naming the certificate problem, a #G_RESOLVER_ERROR or
 *   #G_IO_ERROR naming the host
 *
 * Returns: (transfer full) (nullable): the body, for any status but 401;
 *   the caller checks soup_message_get_status()
 */
GInputStream *
agl_ews_connection_open_finish (AglEwsConnection *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Giving connections back */

static void
body_released_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_input_stream_close_finish (G_INPUT_STREAM (source), result, &error))
    g_debug ("Dropped an HTTP connection: %s", error->message);
}

/* Drops @stream, a response body the caller is done with, closing it
 * asynchronously: dropping only the reference would close it whenever the
 * last one goes (with a blocking close on the main loop), which can be
 * after the next request was sent.  A connection whose body was not read
 * to its end is not reused by libsoup. */
static void
release_body (GInputStream **stream)
{
  if (*stream == NULL)
    return;
  if (!g_input_stream_is_closed (*stream) && !g_input_stream_has_pending (*stream))
    g_input_stream_close_async (*stream, G_PRIORITY_DEFAULT, NULL, body_released_cb, NULL);
  g_clear_object (stream);
}

/* Sending a request with retries */

typedef struct {
  char          *operation;
  GBytes        *request;
  gboolean       create;        /* not safe to send twice */
  guint          attempt;
  SoupMessage   *message;
  GInputStream  *stream;
  AglEwsParser  *parser;
  guint          wait_id;
  gulong         cancelled_id;
  GError        *drain_error;   /* to retry on once the error page is read */
  gboolean       drain_ambiguous;
  gsize          drained;
} SendData;

static void
send_data_free (SendData *data)
{
  g_assert (data->wait_id == 0);
  g_free (data->operation);
  g_bytes_unref (data->request);
  release_body (&data->stream);
  g_clear_object (&data->message);
  g_clear_pointer (&data->parser, agl_ews_parser_free);
  g_clear_error (&data->drain_error);
  g_free (data);
}

static void send_attempt (GTask *task);

static void
finish_wait (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  if (data->cancelled_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), data->cancelled_id);
      data->cancelled_id = 0;
    }
}

static gboolean
wait_elapsed_cb (gpointer user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);

  data->wait_id = 0;
  finish_wait (task);
  send_attempt (task);
  return G_SOURCE_REMOVE;
}

static gboolean
wait_cancelled_idle_cb (gpointer user_data)
{
  g_autoptr(GTask) task = user_data;

  finish_wait (task);
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

/* g_cancellable_disconnect() must not run inside this handler; the idle
 * callback does it. */
static void
wait_cancelled_cb (GCancellable *cancellable,
                   GTask        *task)
{
  SendData *data = g_task_get_task_data (task);

  if (data->wait_id == 0)
    return;
  g_source_remove (data->wait_id);
  data->wait_id = 0;
  g_idle_add (wait_cancelled_idle_cb, task);
}

static guint
backoff_delay_ms (AglEwsConnection *self,
                  guint             attempt)
{
  guint64 window = self->retry.base_ms;

  for (guint i = 1; i < attempt && window < self->retry.cap_ms; i++)
    window *= 2;
  window = MIN (window, self->retry.cap_ms);
  /* Full jitter: clients that failed together must not retry together. */
  return (guint) g_random_int_range (0, (gint32) window + 1);
}

/* Takes @error.  @back_off_ms is the server's own demand (ErrorServerBusy),
 * or -1.  @ambiguous: the server may have carried the request out before
 * the failure (a timeout, a dropped connection, a gateway error). */
static void
retry_or_fail (GTask    *task,
               GError   *error,
               gint64    back_off_ms,
               gboolean  ambiguous)
{
  AglEwsConnection *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  guint delay;

  release_body (&data->stream);
  g_clear_object (&data->message);
  g_clear_pointer (&data->parser, agl_ews_parser_free);

  /* Sending a CreateItem again after it may have succeeded would create
   * the item twice: the caller looks for it by its local identity first
   * (DESIGN.md invariant 2). */
  if (ambiguous && data->create)
    {
      g_prefix_error (&error, _("%s may have been carried out before it failed, so it was not sent again: "),
                      data->operation);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (data->attempt >= self->retry.max_attempts)
    {
      if (self->retry.max_attempts > 1)
        g_prefix_error (&error,
                        g_dngettext (GETTEXT_PACKAGE,
                                     "%s failed after %u attempt: ",
                                     "%s failed after %u attempts: ",
                                     data->attempt),
                        data->operation, data->attempt);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  delay = back_off_ms >= 0 ? (guint) MIN (back_off_ms, (gint64) G_MAXUINT) :
          backoff_delay_ms (self, data->attempt);
  g_debug ("EWS %s attempt %u failed (%s); next attempt in %u ms",
           data->operation, data->attempt, error->message, delay);
  g_error_free (error);

  data->wait_id = g_timeout_add (delay, wait_elapsed_cb, task);
  if (cancellable != NULL)
    data->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (wait_cancelled_cb),
                                                task, NULL);
}

static void
learn_server_version (AglEwsConnection *self,
                      xmlDoc           *doc)
{
  AglEwsServerVersion info;
  g_autofree char *build = NULL;

  if (!agl_ews_xml_read_server_version (doc, &info))
    return;
  build = g_strdup_printf ("%d.%d.%d.%d", info.major_version, info.minor_version,
                           info.major_build, info.minor_build);
  if (g_strcmp0 (build, self->server_build) != 0)
    {
      g_free (self->server_build);
      self->server_build = g_steal_pointer (&build);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_BUILD]);
    }
  if (self->auto_version)
    {
      const char *version = agl_ews_request_version_for_server (&info);

      if (version != NULL && g_strcmp0 (version, self->server_version) != 0)
        {
          g_debug ("Server %s speaks %s", self->server_build, version);
          g_free (self->server_version);
          self->server_version = g_strdup (version);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_VERSION]);
        }
    }
  agl_ews_server_version_clear (&info);
}

/* Decides what a parsed response means for the transport: a transient
 * fault or an all-failed transient batch is retried; anything else goes to
 * the caller, whose typed reader maps per-item codes. */
static void
handle_document (GTask  *task,
                 xmlDoc *doc_in)
{
  g_autoptr(xmlDoc) doc = doc_in;
  AglEwsConnection *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  xmlNode *body;
  AglEwsResponseMessage *first;
  GError *message_error;

  learn_server_version (self, doc);

  body = agl_ews_xml_get_body_element (doc, &error);
  if (body == NULL)
    {
      if (agl_ews_error_is_transient (error))
        {
          /* Exchange 2013 and later send ErrorServerBusy as a fault. */
          xmlNode *fault = agl_ews_xml_child_path (xmlDocGetRootElement (doc), AGL_EWS_NS_SOAP,
                                                   "Body", AGL_EWS_NS_SOAP, "Fault", NULL);
          gint64 back_off_ms = -1;

          if (g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_SERVER_BUSY))
            back_off_ms = agl_ews_xml_read_back_off_ms (fault);
          retry_or_fail (task, g_steal_pointer (&error), back_off_ms, FALSE);
          return;
        }
      /* An error page that happens to be well-formed XML (IIS's and
       * ASP.NET's often are) is the web server's failure all the same. */
      if (soup_message_get_status (data->message) != SOUP_STATUS_OK &&
          g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE))
        {
          GError *status_error = g_error_new (AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS,
                                              _("The server answered HTTP %u %s."),
                                              soup_message_get_status (data->message),
                                              soup_message_get_reason_phrase (data->message));

          retry_or_fail (task, status_error, -1, TRUE);
          return;
        }
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }

  messages = agl_ews_response_read_messages (doc, data->operation, NULL);
  if (messages != NULL)
    {
      gboolean all_failed = TRUE;

      for (guint i = 0; i < messages->len; i++)
        {
          AglEwsResponseMessage *m = g_ptr_array_index (messages, i);

          if (m->response_class != AGL_EWS_RESPONSE_CLASS_ERROR)
            all_failed = FALSE;
        }
      first = g_ptr_array_index (messages, 0);
      /* Only when nothing was done is the whole request safe to send again
       * (a half-done CreateItem batch would create duplicates). */
      if (all_failed && agl_ews_error_code_is_transient (first->code))
        {
          message_error = agl_ews_response_message_to_error (first);
          retry_or_fail (task, message_error,
                         first->code == AGL_EWS_ERROR_SERVER_BUSY ? first->back_off_ms : -1,
                         FALSE);
          return;
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&doc), (GDestroyNotify) xmlFreeDoc);
  g_object_unref (task);
}

/* The body was read to its end and its stream closed: parse it. */
static void
finish_body (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  guint status = soup_message_get_status (data->message);
  xmlDoc *doc;

  doc = agl_ews_parser_finish (data->parser, &error);
  if (doc == NULL)
    {
      /* HTTP 500 is a SOAP fault when it has a SOAP body; without one it is
       * the web server's own failure, which passes. */
      if (status != SOUP_STATUS_OK)
        {
          GError *status_error = g_error_new (AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS,
                                              _("The server answered HTTP %u %s."), status,
                                              soup_message_get_reason_phrase (data->message));
          retry_or_fail (task, status_error, -1, TRUE);
        }
      else
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
        }
      return;
    }
  handle_document (task, doc);
}

static void
body_closed_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* The whole body is in the parser: a failure here only costs the
   * connection, which libsoup then does not reuse. */
  if (!g_input_stream_close_finish (G_INPUT_STREAM (source), result, &error))
    g_debug ("EWS %s: closing the response failed: %s", data->operation, error->message);
  g_clear_object (&data->stream);
  finish_body (task);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(GError) error = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
        }
      else if (io_error_is_transient (error))
        retry_or_fail (task, explain_transport_error (data->message, error), -1, TRUE);
      else
        {
          g_task_return_error (task, explain_transport_error (data->message, error));
          g_object_unref (task);
        }
      return;
    }

  if (g_bytes_get_size (chunk) > 0)
    {
      if (!agl_ews_parser_feed (data->parser, g_bytes_get_data (chunk, NULL),
                                g_bytes_get_size (chunk), &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
          return;
        }
      g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                       g_task_get_cancellable (task), read_cb, task);
      return;
    }

  /* End of the body: finish the message (close its stream) before the
   * caller hears of the response, so that the connection is idle in the
   * session's pool when the caller (a paged sync) sends the next request.
   * Not cancellable: the body is complete, and a cancelled close would
   * throw the connection away. */
  g_input_stream_close_async (data->stream, G_PRIORITY_DEFAULT, NULL, body_closed_cb, task);
}

/* Reading a transient error page to its end, then retrying */

static void
drain_done (GTask *task)
{
  SendData *data = g_task_get_task_data (task);

  data->drained = 0;
  retry_or_fail (task, g_steal_pointer (&data->drain_error), -1, data->drain_ambiguous);
}

static void
drain_closed_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_input_stream_close_finish (G_INPUT_STREAM (source), result, &error))
    g_debug ("EWS %s: closing an error page failed: %s", data->operation, error->message);
  g_clear_object (&data->stream);
  drain_done (task);
}

static void
drain_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(GError) error = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  if (chunk == NULL)
    {
      /* The status is what counts; the connection just is not reused. */
      g_clear_object (&data->stream);
      drain_done (task);
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      g_input_stream_close_async (data->stream, G_PRIORITY_DEFAULT, NULL, drain_closed_cb, task);
      return;
    }
  data->drained += g_bytes_get_size (chunk);
  if (data->drained > DRAIN_MAX_BYTES)
    {
      drain_done (task);
      return;
    }
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), drain_cb, task);
}

/* Retries with @error after reading the body of a transient HTTP error:
 * short as it is, leaving it unread would cost the connection, and the
 * retry (with NTLM) a new handshake. */
static void
drain_then_retry (GTask    *task,
                  GError   *error,
                  gboolean  ambiguous)
{
  SendData *data = g_task_get_task_data (task);
  goffset length = soup_message_headers_get_content_length (soup_message_get_response_headers (data->message));

  if (length > DRAIN_MAX_BYTES)
    {
      retry_or_fail (task, error, -1, ambiguous);
      return;
    }
  data->drain_error = error;
  data->drain_ambiguous = ambiguous;
  data->drained = 0;
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), drain_cb, task);
}

static void
send_opened_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  AglEwsConnection *self = AGL_EWS_CONNECTION (source);
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  SoupMessageHeaders *headers;
  guint status;
  goffset length;

  data->stream = agl_ews_connection_open_finish (self, result, &error);
  if (data->stream == NULL)
    {
      if (io_error_is_transient (error))
        retry_or_fail (task, g_steal_pointer (&error), -1, TRUE);
      else
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
        }
      return;
    }

  status = soup_message_get_status (data->message);
  if (status != SOUP_STATUS_OK && status != SOUP_STATUS_INTERNAL_SERVER_ERROR)
    {
      GError *status_error;

      if (http_status_is_transient (status))
        {
          status_error = g_error_new (AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS,
                                      _("The server answered HTTP %u %s."), status,
                                      soup_message_get_reason_phrase (data->message));
          /* 503: the server turned the request away without doing it. */
          drain_then_retry (task, status_error, status != SOUP_STATUS_SERVICE_UNAVAILABLE);
          return;
        }
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS,
                               _("%s answered HTTP %u %s: it is not an EWS endpoint."),
                               self->url, status,
                               soup_message_get_reason_phrase (data->message));
      g_object_unref (task);
      return;
    }

  /* Refuse an announced oversize body before reading any of it. */
  headers = soup_message_get_response_headers (data->message);
  length = soup_message_headers_get_content_length (headers);
  if (length > 0 && (guint64) length > self->max_response_bytes)
    {
      g_autofree char *size = g_format_size ((guint64) length);
      g_autofree char *limit = g_format_size (self->max_response_bytes);

      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_RESPONSE_TOO_LARGE,
                               _("The server’s response of %s is larger than the limit of %s."),
                               size, limit);
      g_object_unref (task);
      return;
    }

  data->parser = agl_ews_parser_new (self->max_response_bytes);
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), read_cb, task);
}

static void
send_attempt (GTask *task)
{
  AglEwsConnection *self = g_task_get_source_object (task);
  SendData *data = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  data->attempt++;
  data->message = agl_ews_connection_new_message (self, SOUP_METHOD_POST, self->url, data->request);
  agl_ews_connection_open_async (self, data->message, FALSE, g_task_get_cancellable (task),
                                 send_opened_cb, task);
}

/* GObject */

static void
agl_ews_connection_finalize (GObject *object)
{
  AglEwsConnection *self = AGL_EWS_CONNECTION (object);

  g_clear_object (&self->session);
  g_clear_object (&self->streaming_session);
  g_clear_object (&self->ca_database);
  g_free (self->url);
  g_free (self->mailbox);
  g_free (self->user);
  if (self->secret != NULL)
    explicit_bzero (self->secret, strlen (self->secret));
  g_free (self->secret);
  g_free (self->server_version);
  g_free (self->server_build);
  g_free (self->impersonate);
  g_free (self->time_zone_id);

  G_OBJECT_CLASS (agl_ews_connection_parent_class)->finalize (object);
}

static void
agl_ews_connection_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  AglEwsConnection *self = AGL_EWS_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_SERVER_VERSION:
      g_value_set_string (value, self->server_version);
      break;
    case PROP_SERVER_BUILD:
      g_value_set_string (value, self->server_build);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_ews_connection_class_init (AglEwsConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agl_ews_connection_finalize;
  object_class->get_property = agl_ews_connection_get_property;

  /**
   * AglEwsConnection:server-version:
   *
   * The RequestServerVersion sent: the account's, or for an account set to
   * "auto" the newest the server's ServerVersionInfo allows (%NULL until a
   * response arrived).  Notified when learnt, so it can be stored.
   */
  properties[PROP_SERVER_VERSION] =
    g_param_spec_string ("server-version", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * AglEwsConnection:server-build:
   *
   * The server's version from ServerVersionInfo, e.g. "15.1.2507.39".
   */
  properties[PROP_SERVER_BUILD] =
    g_param_spec_string ("server-build", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agl_ews_connection_init (AglEwsConnection *self)
{
  self->retry = default_retry;
  self->max_response_bytes = AGL_EWS_XML_DEFAULT_MAX_BYTES;
}

/* Public API */

/**
 * agl_ews_connection_new:
 * @account: the account (its URL may be %NULL until Autodiscover found it)
 * @secret: (nullable): the password (NTLM, Basic) or the OAuth2 access
 *   token; kept in memory only and wiped when the connection goes
 * @error: return location: the CA file could not be read
 *
 * Creates the account's HTTP session.  Certificates are always checked;
 * the account's CA file adds trust anchors beside the system's.  An account
 * with @impersonate set signs in as its user and impersonates its e-mail
 * address; an "auto" account starts from its remembered server version.
 *
 * Returns: (transfer full) (nullable): the connection
 */
AglEwsConnection *
agl_ews_connection_new (const AglAccount *account,
                        const char       *secret,
                        GError          **error)
{
  g_autoptr(AglEwsConnection) self = NULL;

  g_return_val_if_fail (account != NULL, NULL);

  self = g_object_new (AGL_TYPE_EWS_CONNECTION, NULL);
  if (g_strcmp0 (account->auth, "basic") == 0)
    self->auth = AUTH_BASIC;
  else if (g_strcmp0 (account->auth, "oauth2") == 0)
    self->auth = AUTH_BEARER;
  else
    self->auth = AUTH_NTLM;

  if (account->ca_file != NULL && *account->ca_file != '\0')
    {
      g_autoptr(GError) local_error = NULL;

      self->ca_database = g_tls_file_database_new (account->ca_file, &local_error);
      if (self->ca_database == NULL)
        {
          g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                       _("The CA file “%s” of account “%s” could not be read: %s"),
                       account->ca_file, account->name != NULL ? account->name : "",
                       local_error->message);
          return NULL;
        }
    }

  self->url = g_strdup (account->url);
  self->mailbox = g_strdup (account->email);
  if (self->auth == AUTH_NTLM && account->domain != NULL && *account->domain != '\0')
    self->user = g_strdup_printf ("%s\\%s", account->domain, account->user);
  else
    self->user = g_strdup (account->user != NULL ? account->user : account->email);
  self->secret = g_strdup (secret);
  self->auto_version = account->server_version == NULL ||
                       g_strcmp0 (account->server_version, "auto") == 0;
  if (!self->auto_version)
    self->server_version = g_strdup (account->server_version);
  else if (agl_ews_request_server_version_is_valid (account->detected_server_version))
    /* What an earlier connection learnt: the first request already asks
     * for it, so features of newer servers work from the start.  The build
     * stays unknown until this server answers, which is how a URL that is
     * not Exchange is still told apart. */
    self->server_version = g_strdup (account->detected_server_version);

  /* A service account acts on the mailbox; X-AnchorMailbox follows
   * agl_ews_connection_get_mailbox(), i.e. the impersonated mailbox, as
   * Exchange requires for routing impersonated requests. */
  if (account->impersonate && account->email != NULL && *account->email != '\0')
    self->impersonate = g_strdup (account->email);

  self->session = create_session (self, IO_TIMEOUT_SECONDS);
  return g_steal_pointer (&self);
}

/**
 * agl_ews_connection_get_url:
 * @self: a connection
 *
 * Returns: (nullable): the EWS URL
 */
const char *
agl_ews_connection_get_url (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->url;
}

/**
 * agl_ews_connection_set_url:
 * @self: a connection
 * @url: the EWS URL, e.g. found by Autodiscover
 */
void
agl_ews_connection_set_url (AglEwsConnection *self,
                            const char       *url)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_free (self->url);
  self->url = g_strdup (url);
}

/**
 * agl_ews_connection_get_user:
 * @self: a connection
 *
 * Returns: the user name sent, DOMAIN\user for NTLM
 */
const char *
agl_ews_connection_get_user (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->user;
}

/**
 * agl_ews_connection_get_mailbox:
 * @self: a connection
 *
 * Returns: the mailbox worked on: the impersonated one, else the account's
 */
const char *
agl_ews_connection_get_mailbox (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->impersonate != NULL ? self->impersonate : self->mailbox;
}

/**
 * agl_ews_connection_get_server_version:
 * @self: a connection
 *
 * Returns: (nullable): the #AglEwsConnection:server-version
 */
const char *
agl_ews_connection_get_server_version (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->server_version;
}

/**
 * agl_ews_connection_get_server_build:
 * @self: a connection
 *
 * Returns: (nullable): the #AglEwsConnection:server-build
 */
const char *
agl_ews_connection_get_server_build (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->server_build;
}

/**
 * agl_ews_connection_set_impersonation:
 * @self: a connection
 * @smtp_address: (nullable): the mailbox a service account acts for, or
 *   %NULL to act as the signed-in user
 */
void
agl_ews_connection_set_impersonation (AglEwsConnection *self,
                                      const char       *smtp_address)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_free (self->impersonate);
  self->impersonate = g_strdup (smtp_address);
}

/**
 * agl_ews_connection_get_impersonation:
 * @self: a connection
 *
 * Returns: (nullable): the impersonated mailbox
 */
const char *
agl_ews_connection_get_impersonation (AglEwsConnection *self)
{
  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  return self->impersonate;
}

/**
 * agl_ews_connection_set_time_zone_id:
 * @self: a connection
 * @windows_zone_id: (nullable): the TimeZoneContext to send, a Windows zone
 *   id; %NULL for none (times are then UTC)
 */
void
agl_ews_connection_set_time_zone_id (AglEwsConnection *self,
                                     const char       *windows_zone_id)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_free (self->time_zone_id);
  self->time_zone_id = g_strdup (windows_zone_id);
}

/**
 * agl_ews_connection_set_retry_policy:
 * @self: a connection
 * @policy: the new policy; @max_attempts must be at least 1
 */
void
agl_ews_connection_set_retry_policy (AglEwsConnection        *self,
                                     const AglEwsRetryPolicy *policy)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_return_if_fail (policy != NULL && policy->max_attempts >= 1);
  self->retry = *policy;
}

/**
 * agl_ews_connection_set_max_response_bytes:
 * @self: a connection
 * @max_bytes: the largest response body accepted
 */
void
agl_ews_connection_set_max_response_bytes (AglEwsConnection *self,
                                           gsize             max_bytes)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  self->max_response_bytes = max_bytes;
}

/**
 * agl_ews_connection_get_headers:
 * @self: a connection
 * @out_headers: (out caller-allocates): the SOAP headers for the next
 *   request; the strings belong to @self
 *
 * An account set to "auto" asks for the version an earlier connection
 * learnt (#AglAccount.detected_server_version), else for Exchange2007_SP1,
 * until a response told the server's version.
 */
void
agl_ews_connection_get_headers (AglEwsConnection     *self,
                                AglEwsRequestHeaders *out_headers)
{
  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  out_headers->server_version = self->server_version != NULL ? self->server_version
                                                             : AUTO_FIRST_VERSION;
  out_headers->impersonate_smtp = self->impersonate;
  out_headers->time_zone_id = self->time_zone_id;
}

/**
 * agl_ews_connection_new_message:
 * @self: a connection
 * @method: SOUP_METHOD_POST or SOUP_METHOD_GET
 * @url: where to send it
 * @request: (nullable): the XML body
 *
 * Builds a message with the account's authentication, X-AnchorMailbox (so
 * that Exchange routes every request of the mailbox to the same back end)
 * and the CA file check.  Redirects are not followed: an EWS endpoint does
 * not redirect, and Autodiscover checks each hop itself.
 *
 * Returns: (transfer full): the message
 */
SoupMessage *
agl_ews_connection_new_message (AglEwsConnection *self,
                                const char       *method,
                                const char       *url,
                                GBytes           *request)
{
  SoupMessage *message;
  SoupMessageHeaders *headers;
  const char *mailbox;

  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);

  message = soup_message_new (method, url);
  g_return_val_if_fail (message != NULL, NULL);
  /* IDEMPOTENT: libsoup sends a POST without it on a new connection every
   * time, never on an idle kept-alive one, and with NTLM that costs a TLS
   * handshake and an NTLM handshake per request.  The flag only lets the
   * message use an idle connection: libsoup still never sends a POST again
   * by itself when a kept-alive connection turns out closed (it restarts
   * only methods that are idempotent by name), so a CreateItem is never
   * duplicated; the failure reaches send_opened_cb() as a dropped
   * connection, retried or not like any other. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT | SOUP_MESSAGE_IDEMPOTENT);
  headers = soup_message_get_request_headers (message);
  if (request != NULL)
    {
      soup_message_set_request_body_from_bytes (message, "text/xml; charset=utf-8", request);
      g_signal_connect_data (message, "restarted", G_CALLBACK (message_restarted_cb),
                             g_bytes_ref (request), release_request, 0);
    }
  soup_message_headers_replace (headers, "Accept", "text/xml");
  mailbox = agl_ews_connection_get_mailbox (self);
  if (mailbox != NULL)
    soup_message_headers_replace (headers, "X-AnchorMailbox", mailbox);
  if (self->auth == AUTH_BEARER && self->secret != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", self->secret, NULL);

      soup_message_headers_replace (headers, "Authorization", value);
    }
  g_signal_connect_object (message, "authenticate", G_CALLBACK (authenticate_cb), self, 0);
  g_signal_connect_object (message, "accept-certificate", G_CALLBACK (accept_certificate_cb),
                           self, 0);
  return message;
}

/**
 * agl_ews_connection_send_async:
 * @self: a connection
 * @operation: the EWS operation, e.g. "GetFolder" (for messages and logs)
 * @request: the envelope, from agl-ews-request.h
 * @cancellable: (nullable): cancels the request, also during a backoff wait
 * @callback: called with the parsed response
 * @user_data: for @callback
 *
 * Sends @request and parses the response incrementally under the size cap.
 * ErrorServerBusy is sent again after exactly the BackOffMilliseconds the
 * server named; HTTP 500 without a SOAP body, 502, 503, 504, dropped
 * connections, timeouts and transient EWS codes are sent again after a
 * backoff with full jitter, up to the retry policy's attempts.  A
 * CreateItem is sent again only when the server said it did nothing
 * (ErrorServerBusy, 503, a transient code for every item): after a failure
 * that may have followed its success the error goes to the caller.
 */
void
agl_ews_connection_send_async (AglEwsConnection    *self,
                               const char          *operation,
                               GBytes              *request,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  SendData *data;

  g_return_if_fail (AGL_IS_EWS_CONNECTION (self));
  g_return_if_fail (operation != NULL && request != NULL);

  /* The version is the one the envelope was just built with (see
   * agl_ews_connection_get_headers()); logged so that what an "auto"
   * account asks for can be followed with G_MESSAGES_DEBUG. */
  g_debug ("Sending %s as %s%s%s", operation,
           self->server_version != NULL ? self->server_version : AUTO_FIRST_VERSION,
           self->impersonate != NULL ? " impersonating " : "",
           self->impersonate != NULL ? self->impersonate : "");

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_ews_connection_send_async);
  data = g_new0 (SendData, 1);
  data->operation = g_strdup (operation);
  data->request = g_bytes_ref (request);
  data->create = g_str_equal (operation, "CreateItem");
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  if (self->url == NULL)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                               _("The account has no EWS URL yet."));
      g_object_unref (task);
      return;
    }
  send_attempt (task);
}

/**
 * agl_ews_connection_send_finish:
 * @self: a connection
 * @result: the result
 * @error: return location for an #AGL_EWS_ERROR (a SOAP fault's code, HTTP,
 *   401, too large, malformed) or a transport error naming its cause
 *
 * Returns: (transfer full) (nullable): the response, for a typed reader of
 *   agl-ews-response.h (per-item ResponseCodes are left to it)
 */
xmlDoc *
agl_ews_connection_send_finish (AglEwsConnection *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
