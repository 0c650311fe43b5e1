/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "agl-error.h"
#include "agl-publish-config.h"
#include "agl-publish-webhook.h"

#define DEFAULT_TIMEOUT_SECONDS 10
#define MAX_TIMEOUT_SECONDS     120

struct _AglPublishWebhook
{
  AglPublisher  parent_instance;

  SoupSession  *session;
  GUri         *uri;
  char         *shown_uri;  /* without a password, for messages and `connections` */
  char         *secret;
};

G_DEFINE_FINAL_TYPE (AglPublishWebhook, agl_publish_webhook, AGL_TYPE_PUBLISHER)

/* What one POST needs once it is sent. */
typedef struct {
  SoupMessage *message;
} Post;

static void
post_free (Post *post)
{
  g_clear_object (&post->message);
  g_free (post);
}

static gboolean
is_permanent_refusal (guint status)
{
  /* A request timeout or a rate limit passes; other client errors
   * (unauthorised, not found, bad request) do not by themselves. */
  return status >= 400 && status < 500 && status != SOUP_STATUS_REQUEST_TIMEOUT &&
         status != 429 /* Too Many Requests */;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglPublishWebhook *self = g_task_get_source_object (task);
  Post *post = g_task_get_task_data (task);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  const char *reason;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_REMOTE,
                                 /* TRANSLATORS: the first %s is a URL, the second the network error */
                                 _("Cannot reach the webhook %s: %s"), self->shown_uri,
                                 error->message);
      return;
    }

  status = soup_message_get_status (post->message);
  reason = soup_message_get_reason_phrase (post->message);
  if (reason == NULL || *reason == '\0')
    reason = soup_status_get_phrase (status);
  if (status >= 200 && status < 300)
    {
      g_task_return_pointer (task, g_strdup_printf ("HTTP %u %s", status, reason ? reason : ""),
                             g_free);
      return;
    }
  g_task_return_new_error (task,
                           is_permanent_refusal (status) ? AGL_PUBLISHER_ERROR : AGL_ERROR,
                           is_permanent_refusal (status) ? AGL_PUBLISHER_ERROR_REFUSED
                                                         : AGL_ERROR_REMOTE,
                           /* TRANSLATORS: "The webhook https://… answered HTTP 500 Internal Server Error." */
                           _("The webhook %s answered HTTP %u %s."), self->shown_uri, status,
                           reason ? reason : "");
}

static void
agl_publish_webhook_deliver_async (AglPublisher         *publisher,
                                   const AglPublication *publication,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data)
{
  AglPublishWebhook *self = AGL_PUBLISH_WEBHOOK (publisher);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  gsize length = strlen (publication->json);
  g_autoptr(GBytes) body = g_bytes_new (publication->json, length);
  g_autofree char *signature = agl_publish_webhook_sign (self->secret, publication->json, length);
  g_autofree char *signature_header = g_strconcat ("sha256=", signature, NULL);
  Post *post = g_new0 (Post, 1);
  SoupMessageHeaders *headers;

  g_task_set_source_tag (task, agl_publish_webhook_deliver_async);
  g_task_set_task_data (task, post, (GDestroyNotify) post_free);

  post->message = soup_message_new_from_uri (SOUP_METHOD_POST, self->uri);
  soup_message_set_request_body_from_bytes (post->message, "application/json; charset=utf-8",
                                            body);
  headers = soup_message_get_request_headers (post->message);
  soup_message_headers_replace (headers, "X-Agendaline-Signature", signature_header);
  soup_message_headers_replace (headers, "X-Agendaline-Account", publication->account);
  soup_session_send_and_read_async (self->session, post->message, G_PRIORITY_DEFAULT,
                                    cancellable, sent_cb, g_steal_pointer (&task));
}

static gboolean
agl_publish_webhook_deliver_finish (AglPublisher  *publisher,
                                    GAsyncResult  *result,
                                    char         **detail,
                                    GError       **error)
{
  char *answer;

  g_return_val_if_fail (g_task_is_valid (result, publisher), FALSE);

  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (detail != NULL)
    *detail = answer;
  else
    g_free (answer);
  return TRUE;
}

static char *
agl_publish_webhook_describe (AglPublisher *publisher)
{
  return g_strdup (AGL_PUBLISH_WEBHOOK (publisher)->shown_uri);
}

static void
agl_publish_webhook_dispose (GObject *object)
{
  AglPublishWebhook *self = AGL_PUBLISH_WEBHOOK (object);

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (agl_publish_webhook_parent_class)->dispose (object);
}

static void
agl_publish_webhook_finalize (GObject *object)
{
  AglPublishWebhook *self = AGL_PUBLISH_WEBHOOK (object);

  g_clear_pointer (&self->uri, g_uri_unref);
  g_free (self->shown_uri);
  if (self->secret != NULL)
    memset (self->secret, 0, strlen (self->secret));
  g_free (self->secret);
  G_OBJECT_CLASS (agl_publish_webhook_parent_class)->finalize (object);
}

static void
agl_publish_webhook_class_init (AglPublishWebhookClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AglPublisherClass *publisher_class = AGL_PUBLISHER_CLASS (klass);

  object_class->dispose = agl_publish_webhook_dispose;
  object_class->finalize = agl_publish_webhook_finalize;
  publisher_class->kind = "webhook";
  publisher_class->describe = agl_publish_webhook_describe;
  publisher_class->deliver_async = agl_publish_webhook_deliver_async;
  publisher_class->deliver_finish = agl_publish_webhook_deliver_finish;
}

static void
agl_publish_webhook_init (AglPublishWebhook *self)
{
}

/* The URL of @config, checked: http or https with a host. */
static GUri *
parse_url (JsonObject  *config,
           const char  *path,
           GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *url = NULL;
  const char *scheme;

  if (!agl_publish_config_get_string (config, path, "url", TRUE, &url, error))
    return NULL;
  uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   /* TRANSLATORS: "publishers.webhook.url: “ftp://x” is not an http or https URL." */
                   _("%s.url: “%s” is not an http or https URL."), path, url);
      return NULL;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.url: “%s” names no server."), path, url);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

static GTlsDatabase *
load_ca_file (const char  *path,
              const char  *ca_file,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  GTlsDatabase *database;

  if (!g_path_is_absolute (ca_file))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.ca_file: “%s” is not an absolute path."), path, ca_file);
      return NULL;
    }
  database = g_tls_file_database_new (ca_file, &local_error);
  if (database == NULL)
    g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                 _("%s.ca_file: cannot read the CA certificates in “%s”: %s"), path, ca_file,
                 local_error->message);
  return database;
}

/* Checks @config; gives what agl_publish_webhook_new() needs. */
static gboolean
read_config (JsonObject    *config,
             const char    *path,
             GUri         **uri,
             GTlsDatabase **database,
             guint         *timeout,
             GError       **error)
{
  static const char * const allowed[] = { "url", "secret", "ca_file", "timeout", NULL };
  g_autoptr(GUri) parsed = NULL;
  g_autoptr(GTlsDatabase) ca = NULL;
  const char *ca_file = NULL;
  JsonNode *secret;

  if (!agl_publish_config_check_members (config, path, allowed, error) ||
      (parsed = parse_url (config, path, error)) == NULL ||
      !agl_publish_config_get_string (config, path, "ca_file", FALSE, &ca_file, error) ||
      !agl_publish_config_get_seconds (config, path, "timeout", 1, MAX_TIMEOUT_SECONDS,
                                       DEFAULT_TIMEOUT_SECONDS, timeout, error))
    return FALSE;
  /* The secret itself is taken out before the settings are stored; here
   * it may only be a string, or null to forget it. */
  secret = json_object_get_member (config, "secret");
  if (secret != NULL && !JSON_NODE_HOLDS_NULL (secret) &&
      (!JSON_NODE_HOLDS_VALUE (secret) || json_node_get_value_type (secret) != G_TYPE_STRING))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.secret must be a string, or null to remove the stored one."), path);
      return FALSE;
    }
  if (ca_file != NULL && (ca = load_ca_file (path, ca_file, error)) == NULL)
    return FALSE;

  *uri = g_steal_pointer (&parsed);
  if (database != NULL)
    *database = g_steal_pointer (&ca);
  return TRUE;
}

/**
 * agl_publish_webhook_check_config:
 * @config: the "publishers.webhook" object
 * @path: where @config is, for messages ("publishers.webhook")
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the key
 *
 * Checks a webhook's settings without making one.
 *
 * Returns: whether they are good
 */
gboolean
agl_publish_webhook_check_config (JsonObject  *config,
                                  const char  *path,
                                  GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  guint timeout;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  return read_config (config, path, &uri, NULL, &timeout, error);
}

/**
 * agl_publish_webhook_new:
 * @config: the "publishers.webhook" object
 * @secret: the key its requests are signed with
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full): a webhook publisher, or %NULL
 */
AglPublisher *
agl_publish_webhook_new (JsonObject  *config,
                         const char  *secret,
                         GError     **error)
{
  g_autoptr(AglPublishWebhook) self = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autofree char *user_agent = g_strconcat ("Agendaline/", PACKAGE_VERSION, NULL);
  g_autoptr(GUri) uri = NULL;
  guint timeout;

  g_return_val_if_fail (config != NULL, NULL);

  if (!read_config (config, "publishers.webhook", &uri, &database, &timeout, error))
    return NULL;
  if (secret == NULL || *secret == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("publishers.webhook.secret: a webhook needs a secret to sign its requests."));
      return NULL;
    }

  self = g_object_new (AGL_TYPE_PUBLISH_WEBHOOK, NULL);
  self->uri = g_steal_pointer (&uri);
  self->shown_uri = g_uri_to_string_partial (self->uri, G_URI_HIDE_PASSWORD);
  self->secret = g_strdup (secret);
  /* TLS is always checked: a private CA is added, never the checks
   * turned off. */
  self->session = g_object_new (SOUP_TYPE_SESSION,
                                "timeout", timeout,
                                "idle-timeout", 60,
                                "user-agent", user_agent,
                                "max-conns-per-host", 1,
                                NULL);
  if (database != NULL)
    soup_session_set_tls_database (self->session, database);
  return AGL_PUBLISHER (g_steal_pointer (&self));
}

/**
 * agl_publish_webhook_sign:
 * @secret: the key
 * @body: the request body
 * @length: its length
 *
 * Returns: (transfer full): the lowercase hex HMAC-SHA256 of @body with
 *   @secret, as X-Agendaline-Signature carries it after "sha256="
 */
char *
agl_publish_webhook_sign (const char *secret,
                          const char *body,
                          gsize       length)
{
  g_return_val_if_fail (secret != NULL, NULL);

  return g_compute_hmac_for_data (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret),
                                  (const guchar *) body, length);
}
