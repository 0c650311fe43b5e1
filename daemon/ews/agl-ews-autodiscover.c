/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined-ews"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-ews-autodiscover.h"

/* An Autodiscover answer is a few kilobytes. */
#define MAX_RESPONSE_BYTES ((gsize) 1024 * 1024)
#define READ_CHUNK_BYTES 16384

typedef struct {
  char          *email;
  GStrv          explicit_candidates;
  GStrv          candidates;
  guint          index;
  guint          hops;
  char          *url;           /* the URL being asked */
  gboolean       probe;         /* an unauthenticated GET of an http candidate */
  SoupMessage   *message;
  GInputStream  *stream;
  AglEwsParser  *parser;
  GString       *failures;
} AutodiscoverData;

static void
autodiscover_data_free (AutodiscoverData *data)
{
  g_free (data->email);
  g_strfreev (data->explicit_candidates);
  g_strfreev (data->candidates);
  g_free (data->url);
  g_clear_object (&data->message);
  g_clear_object (&data->stream);
  g_clear_pointer (&data->parser, agl_ews_parser_free);
  g_string_free (data->failures, TRUE);
  g_free (data);
}

static void try_candidate (GTask *task);
static void ask (GTask      *task,
                 const char *url,
                 gboolean    probe);

static gboolean
is_https (const char *url)
{
  return url != NULL && g_ascii_strncasecmp (url, "https://", 8) == 0;
}

static void
set_candidates (AutodiscoverData *data)
{
  g_clear_pointer (&data->candidates, g_strfreev);
  data->candidates = data->explicit_candidates != NULL ?
                     g_strdupv (data->explicit_candidates) :
                     agl_ews_autodiscover_candidates (data->email);
  data->index = 0;
}

/* Records why the current URL did not answer and moves to the next
 * candidate; the failures are the final error's text if none answers. */
static void
candidate_failed (GTask      *task,
                  const char *reason)
{
  AutodiscoverData *data = g_task_get_task_data (task);

  g_debug ("Autodiscover at %s: %s", data->url, reason);
  if (data->failures->len > 0)
    g_string_append (data->failures, "; ");
  g_string_append_printf (data->failures, "%s: %s", data->url, reason);
  data->index++;
  try_candidate (task);
}

/* Counts a redirect; %FALSE (with the task returned) past the limit. */
static gboolean
count_hop (GTask *task)
{
  AutodiscoverData *data = g_task_get_task_data (task);

  if (++data->hops > AGL_EWS_AUTODISCOVER_MAX_HOPS)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER,
                               _("Autodiscover for %s stopped after %d redirects (last at %s)."),
                               data->email, AGL_EWS_AUTODISCOVER_MAX_HOPS, data->url);
      g_object_unref (task);
      return FALSE;
    }
  return TRUE;
}

static void
handle_document (GTask  *task,
                 xmlDoc *doc)
{
  AutodiscoverData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(AglEwsAutodiscover) result = agl_ews_response_read_autodiscover (doc, &error);

  if (result == NULL)
    {
      candidate_failed (task, error->message);
      return;
    }
  switch (result->action)
    {
    case AGL_EWS_AUTODISCOVER_SETTINGS:
      g_task_return_pointer (task, g_steal_pointer (&result),
                             (GDestroyNotify) agl_ews_autodiscover_free);
      g_object_unref (task);
      return;

    case AGL_EWS_AUTODISCOVER_REDIRECT_URL:
      if (!is_https (result->redirect))
        {
          g_autofree char *reason =
            g_strdup_printf (_("a redirect to %s was refused: only https is followed"),
                             result->redirect);
          candidate_failed (task, reason);
          return;
        }
      if (count_hop (task))
        ask (task, result->redirect, FALSE);
      return;

    case AGL_EWS_AUTODISCOVER_REDIRECT_ADDR:
      if (!count_hop (task))
        return;
      /* Another address (often the mailbox's primary one): start over
       * from its domain. */
      g_debug ("Autodiscover for %s redirected to %s", data->email, result->redirect);
      g_free (data->email);
      data->email = g_strdup (result->redirect);
      set_candidates (data);
      try_candidate (task);
      return;

    default:
      g_assert_not_reached ();
    }
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  AutodiscoverData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  g_autoptr(xmlDoc) doc = NULL;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
        }
      else
        candidate_failed (task, error->message);
      return;
    }
  if (g_bytes_get_size (chunk) > 0)
    {
      if (!agl_ews_parser_feed (data->parser, g_bytes_get_data (chunk, NULL),
                                g_bytes_get_size (chunk), &error))
        {
          candidate_failed (task, error->message);
          return;
        }
      g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                       g_task_get_cancellable (task), read_cb, task);
      return;
    }
  doc = agl_ews_parser_finish (data->parser, &error);
  g_clear_pointer (&data->parser, agl_ews_parser_free);
  if (doc == NULL)
    {
      candidate_failed (task, error->message);
      return;
    }
  handle_document (task, doc);
}

static void
opened_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  AutodiscoverData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  guint status;

  data->stream = agl_ews_connection_open_finish (AGL_EWS_CONNECTION (source), result, &error);
  if (data->stream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
        }
      else
        candidate_failed (task, error->message);
      return;
    }

  status = soup_message_get_status (data->message);
  if (SOUP_STATUS_IS_REDIRECTION (status))
    {
      const char *location =
        soup_message_headers_get_one (soup_message_get_response_headers (data->message),
                                      "Location");
      g_autoptr(GUri) target = NULL;
      g_autofree char *target_url = NULL;

      if (location != NULL)
        target = g_uri_parse_relative (soup_message_get_uri (data->message), location,
                                       SOUP_HTTP_URI_FLAGS, NULL);
      if (target == NULL)
        {
          candidate_failed (task, _("a redirect without a usable Location"));
          return;
        }
      target_url = g_uri_to_string (target);
      /* Credentials and the address go only to https servers. */
      if (!is_https (target_url))
        {
          g_autofree char *reason =
            g_strdup_printf (_("a redirect to %s was refused: only https is followed"),
                             target_url);
          candidate_failed (task, reason);
          return;
        }
      if (count_hop (task))
        ask (task, target_url, FALSE);
      return;
    }
  if (data->probe)
    {
      /* The http candidate is only a pointer to an https one. */
      candidate_failed (task, _("no redirect to https"));
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      g_autofree char *reason = g_strdup_printf (_("HTTP %u %s"), status,
                                                 soup_message_get_reason_phrase (data->message));
      candidate_failed (task, reason);
      return;
    }
  data->parser = agl_ews_parser_new (MAX_RESPONSE_BYTES);
  g_input_stream_read_bytes_async (data->stream, READ_CHUNK_BYTES, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), read_cb, task);
}

static void
ask (GTask      *task,
     const char *url,
     gboolean    probe)
{
  AglEwsConnection *connection = g_task_get_source_object (task);
  AutodiscoverData *data = g_task_get_task_data (task);

  g_clear_object (&data->message);
  g_clear_object (&data->stream);
  g_free (data->url);
  data->url = g_strdup (url);
  data->probe = probe;

  if (probe)
    {
      /* Plain http: no credentials, no address, nothing but the GET. */
      data->message = soup_message_new (SOUP_METHOD_GET, url);
      if (data->message != NULL)
        soup_message_add_flags (data->message, SOUP_MESSAGE_NO_REDIRECT);
    }
  else
    {
      g_autoptr(GBytes) request = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);

      request = agl_ews_request_autodiscover (data->email, &error);
      if (request == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          g_object_unref (task);
          return;
        }
      if (uri != NULL)
        data->message = agl_ews_connection_new_message (connection, SOUP_METHOD_POST, url, request);
    }
  if (data->message == NULL)
    {
      candidate_failed (task, _("not a valid URL"));
      return;
    }
  agl_ews_connection_open_async (connection, data->message, FALSE, g_task_get_cancellable (task),
                                 opened_cb, task);
}

static void
try_candidate (GTask *task)
{
  AutodiscoverData *data = g_task_get_task_data (task);
  const char *url;

  if (data->candidates == NULL || data->candidates[data->index] == NULL)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER,
                               _("Autodiscover found no EWS URL for %s (%s)."),
                               data->email, data->failures->str);
      g_object_unref (task);
      return;
    }
  url = data->candidates[data->index];
  ask (task, url, !is_https (url));
}

/**
 * agl_ews_autodiscover_candidates:
 * @email: an e-mail address
 *
 * The URLs POX Autodiscover tries, in order: https on the address's domain,
 * https on autodiscover.DOMAIN, and the HTTP redirect method on
 * http://autodiscover.DOMAIN (only its redirect to https is followed).
 *
 * Returns: (transfer full) (nullable): the candidates, %NULL for an address
 *   without a domain
 */
GStrv
agl_ews_autodiscover_candidates (const char *email)
{
  const char *at = email != NULL ? strrchr (email, '@') : NULL;
  g_autofree char *domain = NULL;
  GStrv candidates;

  if (at == NULL || at[1] == '\0' || strpbrk (at + 1, "/?#:@ ") != NULL)
    return NULL;
  domain = g_ascii_strdown (at + 1, -1);
  candidates = g_new0 (char *, 4);
  candidates[0] = g_strdup_printf ("https://%s/autodiscover/autodiscover.xml", domain);
  candidates[1] = g_strdup_printf ("https://autodiscover.%s/autodiscover/autodiscover.xml", domain);
  candidates[2] = g_strdup_printf ("http://autodiscover.%s/autodiscover/autodiscover.xml", domain);
  return candidates;
}

/**
 * agl_ews_autodiscover_async:
 * @connection: a connection with the account's credentials and CA file
 * @email: the address to look up
 * @candidates: (nullable) (array zero-terminated=1): the URLs to try instead
 *   of agl_ews_autodiscover_candidates(); an http one is used only for the
 *   redirect method
 * @cancellable: (nullable): cancels the search
 * @callback: called when done
 * @user_data: for @callback
 *
 * POX Autodiscover.  Redirects (HTTP, RedirectUrl) are followed only to
 * https URLs, and at most %AGL_EWS_AUTODISCOVER_MAX_HOPS of them together
 * with RedirectAddr.
 */
void
agl_ews_autodiscover_async (AglEwsConnection    *connection,
                            const char          *email,
                            const char * const  *candidates,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  AutodiscoverData *data;

  g_return_if_fail (AGL_IS_EWS_CONNECTION (connection));
  g_return_if_fail (email != NULL);

  task = g_task_new (connection, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_ews_autodiscover_async);
  data = g_new0 (AutodiscoverData, 1);
  data->email = g_strdup (email);
  data->explicit_candidates = g_strdupv ((char **) candidates);
  data->failures = g_string_new (NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) autodiscover_data_free);

  set_candidates (data);
  if (data->candidates == NULL)
    {
      g_task_return_new_error (task, AGL_EWS_ERROR, AGL_EWS_ERROR_AUTODISCOVER,
                               _("“%s” has no domain to look up."), email);
      g_object_unref (task);
      return;
    }
  try_candidate (task);
}

/**
 * agl_ews_autodiscover_finish:
 * @connection: a connection
 * @result: the result
 * @error: return location (%AGL_EWS_ERROR_AUTODISCOVER naming every URL
 *   tried and why it failed)
 *
 * Returns: (transfer full) (nullable): the settings, with ews_url set
 */
AglEwsAutodiscover *
agl_ews_autodiscover_finish (AglEwsConnection *connection,
                             GAsyncResult     *result,
                             GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, connection), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
