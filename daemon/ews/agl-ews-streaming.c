/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-ews-streaming.h"

#define READ_CHUNK_BYTES 16384

/* One envelope of a streaming response is small (notifications carry ids,
 * never items); more than this without an envelope's end is not EWS. */
#define MAX_ENVELOPE_BYTES ((gsize) 4 * 1024 * 1024)

struct _AglEwsStreaming
{
  GObject           parent_instance;

  AglEwsConnection *connection;
};

enum {
  SIGNAL_NOTIFICATION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (AglEwsStreaming, agl_ews_streaming, G_TYPE_OBJECT)

typedef struct {
  SoupMessage  *message;
  GInputStream *stream;
  GByteArray   *pending;
  gsize         scanned;   /* bytes of @pending known to hold no end tag */
  gboolean      closed;
} RunData;

static void
run_data_free (RunData *data)
{
  g_clear_object (&data->message);
  g_clear_object (&data->stream);
  g_byte_array_unref (data->pending);
  g_free (data);
}

/* The end of the first complete envelope in @data: the byte after an end
 * tag "</Envelope>" with any prefix ("</s:Envelope>", "</soap:Envelope>").
 * Servers start each envelope with its own XML declaration, so envelopes
 * cannot be parsed as one document. */
static gsize
find_envelope_end (const guint8 *data,
                   gsize         len,
                   gsize         from)
{
  static const char name[] = "Envelope>";
  const gsize name_len = sizeof name - 1;

  for (gsize i = from; i + 2 + name_len <= len; i++)
    {
      gsize j;

      if (data[i] != '<' || data[i + 1] != '/')
        continue;
      j = i + 2;
      while (j < len && (g_ascii_isalnum (data[j]) || data[j] == '_' || data[j] == '-' ||
                         data[j] == '.'))
        j++;
      if (j < len && data[j] == ':')
        j++;
      else
        j = i + 2;
      if (j + name_len <= len && memcmp (data + j, name, name_len) == 0)
        return j + name_len;
    }
  return 0;
}

/* Parses and delivers every complete envelope in the buffer. */
static gboolean
deliver_envelopes (AglEwsStreaming *self,
                   RunData         *data,
                   GError         **error)
{
  gsize end;

  while ((end = find_envelope_end (data->pending->data, data->pending->len, data->scanned)) > 0)
    {
      g_autoptr(xmlDoc) doc = NULL;
      g_autoptr(AglEwsStreamingEvents) events = NULL;
      gsize start = 0;

      while (start < end && g_ascii_isspace (data->pending->data[start]))
        start++;
      doc = agl_ews_xml_parse (data->pending->data + start, end - start, MAX_ENVELOPE_BYTES,
                               error);
      g_byte_array_remove_range (data->pending, 0, end);
      data->scanned = 0;
      if (doc == NULL)
        return FALSE;
      events = agl_ews_response_read_get_streaming_events (doc, error);
      if (events == NULL)
        return FALSE;
      if (events->error_subscription_ids != NULL)
        {
          g_autofree char *ids = g_strjoinv (", ", events->error_subscription_ids);

          g_set_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SUBSCRIPTION,
                       _("The server ended the subscriptions %s."), ids);
          return FALSE;
        }
      for (guint i = 0; i < events->notifications->len; i++)
        g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0,
                       g_ptr_array_index (events->notifications, i));
      if (events->connection_status == AGL_EWS_CONNECTION_STATUS_CLOSED)
        {
          data->closed = TRUE;
          return TRUE;
        }
    }
  /* An end tag may be split across reads: rescan the last bytes, whose
   * length bounds any prefix a server writes. */
  data->scanned = data->pending->len > 64 ? data->pending->len - 64 : 0;
  if (data->pending->len > MAX_ENVELOPE_BYTES)
    {
      g_autofree char *limit = g_format_size (MAX_ENVELOPE_BYTES);

      g_set_error (error, AGL_EWS_ERROR, AGL_EWS_ERROR_RESPONSE_TOO_LARGE,
                   _("The server sent more than %s of notifications without the end of an envelope."),
                   limit);
      return FALSE;
    }
  return TRUE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglEwsStreaming *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  GCancellable *cancellable;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      gboolean blank = TRUE;

      /* Whatever is left after the last envelope must be whitespace. */
      for (guint i = 0; i < data->pending->len && blank; i++)
        blank = g_ascii_isspace (data->pending->data[i]);
      if (!blank)
        {
          g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                                   _("The notification stream ended inside an envelope."));
          return;
        }
      /* The server may end the response without ConnectionStatus Closed
       * (a proxy timeout); the caller reconnects either way. */
      g_task_return_boolean (task, TRUE);
      return;
    }

  g_byte_array_append (data->pending, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  if (!deliver_envelopes (self, data, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (data->closed)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   cancellable, read_cb, g_steal_pointer (&task));
}

static void
opened_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;
  guint status;

  data->stream = agl_ews_connection_open_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (data->stream == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  status = soup_message_get_status (data->message);
  if (status != SOUP_STATUS_OK && status != SOUP_STATUS_INTERNAL_SERVER_ERROR)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_HTTP_STATUS,
                               _("The server answered HTTP %u %s to GetStreamingEvents."),
                               status, soup_message_get_reason_phrase (data->message));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   cancellable, read_cb, g_steal_pointer (&task));
}

static void
agl_ews_streaming_finalize (GObject *object)
{
  AglEwsStreaming *self = AGL_EWS_STREAMING (object);

  g_clear_object (&self->connection);
  G_OBJECT_CLASS (agl_ews_streaming_parent_class)->finalize (object);
}

static void
agl_ews_streaming_class_init (AglEwsStreamingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agl_ews_streaming_finalize;

  /**
   * AglEwsStreaming::notification:
   * @self: the streaming connection
   * @notification: (type gpointer): an #AglEwsNotification, valid during
   *   the emission
   *
   * A notification arrived while the connection stays open.  It is a hint
   * to sync, never the data itself.
   */
  signals[SIGNAL_NOTIFICATION] =
    g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
agl_ews_streaming_init (AglEwsStreaming *self)
{
}

/**
 * agl_ews_streaming_new:
 * @connection: the account's connection
 *
 * Returns: (transfer full): a GetStreamingEvents reader
 */
AglEwsStreaming *
agl_ews_streaming_new (AglEwsConnection *connection)
{
  AglEwsStreaming *self;

  g_return_val_if_fail (AGL_IS_EWS_CONNECTION (connection), NULL);
  self = g_object_new (AGL_TYPE_EWS_STREAMING, NULL);
  self->connection = g_object_ref (connection);
  return self;
}

/**
 * agl_ews_streaming_run_async:
 * @self: a streaming reader
 * @subscription_ids: the streaming subscriptions
 * @connection_timeout: ConnectionTimeout in minutes, 1 to 30
 * @cancellable: (nullable): ends the connection
 * @callback: called when the connection has ended
 * @user_data: for @callback
 *
 * Sends GetStreamingEvents and keeps reading: each envelope is parsed as
 * soon as it is complete and its notifications emitted as
 * #AglEwsStreaming::notification.  The call completes when the server says
 * ConnectionStatus Closed or ends the response.
 */
void
agl_ews_streaming_run_async (AglEwsStreaming     *self,
                             const char * const  *subscription_ids,
                             guint                connection_timeout,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GError) error = NULL;
  AglEwsRequestHeaders headers;
  RunData *data;

  g_return_if_fail (AGL_IS_EWS_STREAMING (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_ews_streaming_run_async);
  data = g_new0 (RunData, 1);
  data->pending = g_byte_array_new ();
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  agl_ews_connection_get_headers (self->connection, &headers);
  request = agl_ews_request_get_streaming_events (&headers, subscription_ids, connection_timeout,
                                                  &error);
  if (request == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (agl_ews_connection_get_url (self->connection) == NULL)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_RESPONSE,
                               _("The account has no EWS URL yet."));
      return;
    }
  data->message = agl_ews_connection_new_message (self->connection, SOUP_METHOD_POST,
                                                  agl_ews_connection_get_url (self->connection),
                                                  request);
  agl_ews_connection_open_async (self->connection, data->message, TRUE, cancellable, opened_cb,
                                 g_steal_pointer (&task));
}

/**
 * agl_ews_streaming_run_finish:
 * @self: a streaming reader
 * @result: the result
 * @error: return location
 *
 * Returns: %TRUE when the connection ended normally
 */
gboolean
agl_ews_streaming_run_finish (AglEwsStreaming *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
