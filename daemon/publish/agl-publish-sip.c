/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/xmlwriter.h>

/* Sofia's headers test macros they never define. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_uniqueid.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/msg_header.h>
#pragma GCC diagnostic pop

#include "agl-error.h"
#include "agl-publish-sip.h"

/*
 * The SIP stack is sofia-sip's nua on a su_root whose reactor is a
 * GSource on the thread-default main context, with threading switched off:
 * the stack, its sockets, timers and DNS all run on the daemon's main loop
 * and never block it.
 *
 * The publication follows RFC 3903 by hand, on one nua handle with
 * nua_method ("PUBLISH"): the first PUBLISH carries the document; the
 * server's SIP-ETag goes with every later one in SIP-If-Match (a
 * modification with the new document, a refresh without a body before the
 * publication expires, a removal with Expires: 0).  A 412 Conditional
 * Request Failed (the server lost the publication) is answered by
 * publishing afresh, once.  Digest challenges (401, 407) are answered once
 * per request with the realm the server names; a second challenge means a
 * wrong password.  nua caches the credentials, so later requests carry
 * them from the start.
 *
 * Why not nua_publish(), which does the same by itself: in sofia-sip
 * 1.12.11 its answer to a 412 sends the fresh PUBLISH but reports the 412
 * as final and drops the fresh one's answer, leaving the server with a
 * publication whose entity tag nobody knows (and a second one once the
 * caller publishes again).
 *
 * The nua object outlives the publisher: it must be shut down before it
 * can be destroyed, and that finishes on the main loop after the publisher
 * is gone.  The stack therefore lives in a struct of its own, freed from an
 * idle callback once nua says it has shut down.
 */

#define DEFAULT_EXPIRES 3600
#define MIN_EXPIRES 60
#define MAX_EXPIRES 86400

/* Sofia's timer F (64 × T1) gives up on a non-INVITE transaction after 32
 * seconds.  A presence server answers at once or not at all, and a status
 * that arrives half a minute late is stale: give up after 8 seconds (four
 * UDP retransmissions); the publish manager retries with backoff. */
#define TRANSACTION_TIMEOUT_MS 8000

/* How long close waits for the withdrawal, so that shutdown is quick. */
#define CLOSE_TIMEOUT_MS 2000

#define PIDF_NS "urn:ietf:params:xml:ns:pidf"
#define PIDF_DM_NS "urn:ietf:params:xml:ns:pidf:data-model"
#define PIDF_RPID_NS "urn:ietf:params:xml:ns:pidf:rpid"

typedef struct _AglSipStack AglSipStack;

typedef enum {
  REQUEST_NONE,
  /* With the document: the first PUBLISH, or a modification. */
  REQUEST_PUBLISH,
  /* Without a body: the publication's lifetime renewed. */
  REQUEST_REFRESH,
  /* Expires: 0, the publication withdrawn. */
  REQUEST_REMOVE,
} Request;

struct _AglSipStack
{
  su_root_t     *root;
  GSource       *source;
  GMainContext  *context;
  nua_t         *nua;
  /* Not a reference; %NULL once the publisher is disposed. */
  AglPublishSip *owner;
};

struct _AglPublishSip
{
  AglPublisher  parent_instance;

  char         *server;
  char         *address;
  char         *user;
  char         *password;
  guint         expires;

  AglSipStack  *stack;
  nua_handle_t *handle;
  /* The PIDF document of the last delivery. */
  char         *body;
  /* The server's entity tag for our publication; %NULL when it holds
   * none (as far as we know). */
  char         *etag;
  GSource      *refresh_source;
  /* The request without a final answer yet. */
  Request       in_flight;
  /* A request to send once the one in flight is answered. */
  Request       queued;
  /* Credentials went with the request in flight. */
  gboolean      answered_challenge;
  /* The request in flight is the fresh PUBLISH after a 412. */
  gboolean      republished;

  /* The delivery or close waiting for an answer, and whether the request
   * in flight is the one it waits for. */
  GTask        *task;
  gboolean      task_in_flight;
  GSource      *cancel_source;
  GSource      *close_timeout_source;
};

G_DEFINE_FINAL_TYPE (AglPublishSip, agl_publish_sip, AGL_TYPE_PUBLISHER)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)

static guint n_live_stacks;

/* The logs of sofia's layers this publisher uses; the library exports
 * them without declaring them all in its headers. */
extern su_log_t nua_log[];
extern su_log_t nta_log[];
extern su_log_t tport_log[];
extern su_log_t sresolv_log[];

/* ------------------------------------------------------------------ */
/* Settings                                                             */

/* Checks a SIP or SIPS URI in the form a user types it: scheme, optional
 * user part, a host name or address, an optional port, parameters.  The
 * user part, unescaped, goes to @user when asked for. */
static gboolean
parse_sip_uri (const char  *text,
               char       **user)
{
  const char *rest;
  const char *at;
  const char *end;
  const char *host;
  const char *host_end;
  const char *p;

  if (g_ascii_strncasecmp (text, "sip:", 4) == 0)
    rest = text + 4;
  else if (g_ascii_strncasecmp (text, "sips:", 5) == 0)
    rest = text + 5;
  else
    return FALSE;

  for (p = text; *p != '\0'; p++)
    if (g_ascii_isspace (*p) || g_ascii_iscntrl (*p) || strchr ("<>\"", *p) != NULL)
      return FALSE;

  end = rest + strcspn (rest, ";?");
  at = memchr (rest, '@', end - rest);
  host = at != NULL ? at + 1 : rest;

  if (*host == '[')
    {
      host_end = memchr (host, ']', end - host);
      if (host_end == NULL || host_end == host + 1)
        return FALSE;
      host_end++;
    }
  else
    {
      host_end = host;
      while (host_end < end && (g_ascii_isalnum (*host_end) || *host_end == '-' || *host_end == '.'))
        host_end++;
      if (host_end == host)
        return FALSE;
    }

  if (host_end < end)
    {
      guint64 port;
      g_autofree char *digits = NULL;

      if (*host_end != ':')
        return FALSE;
      digits = g_strndup (host_end + 1, end - host_end - 1);
      if (!g_ascii_string_to_unsigned (digits, 10, 1, 65535, &port, NULL))
        return FALSE;
    }

  if (user != NULL)
    {
      g_autofree char *escaped = NULL;

      *user = NULL;
      if (at == NULL || at == rest)
        return FALSE;
      /* A password in the URI ("alice:secret@…") is not the user name. */
      escaped = g_strndup (rest, strcspn (rest, ":@"));
      *user = g_uri_unescape_string (escaped, NULL);
      if (*user == NULL || **user == '\0')
        {
          g_clear_pointer (user, g_free);
          return FALSE;
        }
    }

  return TRUE;
}

static const char *
get_string (JsonNode    *node,
            const char  *path,
            const char  *key,
            GError     **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.%s: must be a text in quotes"), path, key);
      return NULL;
    }
  return json_node_get_string (node);
}

/* ------------------------------------------------------------------ */
/* The PIDF document                                                    */

/* The text as XML 1.0 can carry it: valid UTF-8, no control characters
 * other than tab and line breaks. */
static char *
sanitize_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  char *p;

  for (p = valid; *p != '\0'; p++)
    if ((guchar) *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
      *p = ' ';
  return g_steal_pointer (&valid);
}

static char *
format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (unix_time);

  if (time == NULL)
    return NULL;
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean
governed_by_appointment (const AglStatus *status)
{
  if (status->because == NULL)
    return FALSE;
  for (guint i = 0; i < status->because->len; i++)
    {
      const AglStatusBecause *because = g_ptr_array_index (status->because, i);

      if (because->kind == AGL_BECAUSE_APPOINTMENT)
        return TRUE;
    }
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Tasks                                                                */

static void
clear_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* A timeout on the main context the SIP stack runs on. */
static GSource *
add_timeout (AglPublishSip *self,
             guint          milliseconds,
             GSourceFunc    callback)
{
  GSource *source;

  if (milliseconds % 1000 == 0)
    source = g_timeout_source_new_seconds (milliseconds / 1000);
  else
    source = g_timeout_source_new (milliseconds);
  g_source_set_callback (source, callback, self, NULL);
  g_source_attach (source, self->stack->context);
  return source;
}

static GTask *
take_task (AglPublishSip *self)
{
  clear_source (&self->cancel_source);
  clear_source (&self->close_timeout_source);
  self->task_in_flight = FALSE;
  return g_steal_pointer (&self->task);
}

static void
return_error (AglPublishSip *self,
              GError        *error)
{
  g_autoptr(GTask) task = self->task_in_flight ? take_task (self) : NULL;

  if (task == NULL)
    {
      /* A refresh: nobody waits for it.  The next delivery publishes
       * again. */
      g_message ("SIP presence for %s: %s", self->address, error->message);
      g_error_free (error);
      return;
    }
  g_task_return_error (task, error);
}

static void
return_closed (AglPublishSip *self,
               GError        *error)
{
  g_autoptr(GTask) task = self->task_in_flight ? take_task (self) : NULL;

  if (task == NULL)
    g_clear_error (&error);
  else if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
return_detail (AglPublishSip *self,
               int            status,
               const char    *phrase)
{
  g_autoptr(GTask) task = self->task_in_flight ? take_task (self) : NULL;

  if (task != NULL)
    g_task_return_pointer (task, g_strdup_printf ("%d %s", status, phrase), g_free);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  AglPublishSip *self = user_data;
  g_autoptr(GTask) task = take_task (self);

  /* The request goes on; its answer only updates the entity tag. */
  if (task != NULL)
    g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

static void
watch_cancellable (AglPublishSip *self,
                   GCancellable  *cancellable)
{
  if (cancellable == NULL)
    return;
  self->cancel_source = g_cancellable_source_new (cancellable);
  g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (cancelled_cb), self, NULL);
  g_source_attach (self->cancel_source, self->stack->context);
}

/* ------------------------------------------------------------------ */
/* SIP                                                                  */

static gboolean refresh_cb (gpointer user_data);

static void
send_request (AglPublishSip *self,
              Request        request)
{
  g_autofree char *expires = NULL;
  gboolean with_body = request == REQUEST_PUBLISH;

  g_assert (self->in_flight == REQUEST_NONE);

  expires = g_strdup_printf ("%u", request == REQUEST_REMOVE ? 0 : self->expires);
  clear_source (&self->refresh_source);
  if (self->handle == NULL)
    self->handle = nua_handle (self->stack->nua, NULL,
                               SIPTAG_TO_STR (self->address),
                               TAG_END ());
  self->in_flight = request;
  self->task_in_flight = self->task != NULL;
  self->answered_challenge = FALSE;
  nua_method (self->handle,
              NUTAG_METHOD ("PUBLISH"),
              SIPTAG_EVENT_STR ("presence"),
              SIPTAG_EXPIRES_STR (expires),
              TAG_IF (self->etag != NULL, SIPTAG_IF_MATCH_STR (self->etag)),
              TAG_IF (with_body, SIPTAG_CONTENT_TYPE_STR ("application/pidf+xml")),
              TAG_IF (with_body, SIPTAG_PAYLOAD_STR (self->body)),
              TAG_END ());
}

/* Sends @request now, or once the request in flight is answered. */
static void
send_or_queue (AglPublishSip *self,
               Request        request)
{
  if (self->in_flight == REQUEST_NONE)
    send_request (self, request);
  else
    self->queued = request;
}

/* Renews the publication a minute before it expires (half-way through a
 * short one), so that a retransmission or two still fit. */
static void
schedule_refresh (AglPublishSip *self,
                  guint          expires)
{
  guint seconds = expires > 120 ? expires - 60 : MAX (expires / 2, 1);

  clear_source (&self->refresh_source);
  self->refresh_source = add_timeout (self, seconds * 1000, refresh_cb);
}

static gboolean
refresh_cb (gpointer user_data)
{
  AglPublishSip *self = user_data;

  g_clear_pointer (&self->refresh_source, g_source_unref);
  if (self->etag != NULL && self->queued == REQUEST_NONE)
    send_or_queue (self, REQUEST_REFRESH);
  return G_SOURCE_REMOVE;
}

/* Sends credentials for the challenge in @sip, once per request.  %FALSE
 * when there is nothing to answer with. */
static gboolean
answer_challenge (AglPublishSip *self,
                  int            status,
                  sip_t const   *sip)
{
  msg_auth_t const *challenge = NULL;
  const char *realm;
  g_autofree char *credentials = NULL;

  if (self->answered_challenge || self->password == NULL || sip == NULL)
    return FALSE;

  challenge = status == 407 ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;
  if (challenge == NULL)
    challenge = sip->sip_proxy_authenticate ? sip->sip_proxy_authenticate : sip->sip_www_authenticate;
  if (challenge == NULL || challenge->au_scheme == NULL)
    return FALSE;

  realm = msg_params_find (challenge->au_params, "realm=");
  if (realm == NULL)
    return FALSE;

  /* nua wants "scheme:"realm":user:password", the realm quoted. */
  if (realm[0] == '"')
    credentials = g_strdup_printf ("%s:%s:%s:%s", challenge->au_scheme, realm,
                                   self->user, self->password);
  else
    credentials = g_strdup_printf ("%s:\"%s\":%s:%s", challenge->au_scheme, realm,
                                   self->user, self->password);

  self->answered_challenge = TRUE;
  nua_authenticate (self->handle, NUTAG_AUTH (credentials), TAG_END ());
  return TRUE;
}

static GError *
error_for_status (AglPublishSip *self,
                  int            status,
                  const char    *phrase,
                  sip_t const   *sip)
{
  if (status == 401 || status == 407)
    {
      if (self->password == NULL)
        return g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                            _("The presence server %s asks for the password of %s, and none is "
                              "set: set the SIP password of the account."),
                            self->server, self->user);
      return g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                          _("The presence server %s refused the password for %s: check the "
                            "SIP user name and password."),
                          self->server, self->user);
    }

  /* Mostly the transaction layer's own verdict: no answer in time. */
  if (status == 408)
    return g_error_new (AGL_ERROR, AGL_ERROR_TIMED_OUT,
                        _("The presence server %s did not answer within %d seconds: check "
                          "that it runs and that the address is right."),
                        self->server, TRANSACTION_TIMEOUT_MS / 1000);

  /* 503 is also what the transport says when nothing listens (an ICMP
   * port unreachable), 478 when the name does not resolve. */
  if (status == 478 || (status >= 500 && status < 700))
    return g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                        _("The presence server %s could not be reached or is unavailable "
                          "(%d %s): check that it runs and that the address is right."),
                        self->server, status, phrase);

  /* nua's own codes: nothing was sent or understood. */
  if (status >= 900)
    return g_error_new (AGL_ERROR, AGL_ERROR_FAILED,
                        _("Could not publish the presence of %s to %s: %d %s."),
                        self->address, self->server, status, phrase);

  return g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                      _("The presence server %s refused the presence of %s: %d %s."),
                      self->server, self->address, status, phrase);
}

static void
request_answered (AglPublishSip *self,
                  int            status,
                  const char    *phrase,
                  sip_t const   *sip)
{
  Request request = self->in_flight;

  /* Provisional, or nua retrying by itself ("Request Authorized by
   * Cache", "Re-Negotiating Expiration"). */
  if (status < 200 || request == REQUEST_NONE)
    return;

  if ((status == 401 || status == 407) && answer_challenge (self, status, sip))
    return;

  self->in_flight = REQUEST_NONE;
  self->answered_challenge = FALSE;

  /* nua keeps a challenged request waiting for credentials, and the next
   * request on the handle behind it: start the next one on a new handle.
   * Nothing is lost, the entity tag is ours. */
  if (status == 401 || status == 407)
    g_clear_pointer (&self->handle, nua_handle_destroy);

  if (status < 300)
    {
      g_clear_pointer (&self->etag, g_free);
      if (request != REQUEST_REMOVE && sip != NULL && sip->sip_etag != NULL
          && sip->sip_etag->g_string != NULL)
        {
          guint expires = self->expires;

          self->etag = g_strdup (sip->sip_etag->g_string);
          /* The server may shorten the lifetime. */
          if (sip->sip_expires != NULL && sip->sip_expires->ex_delta > 0)
            expires = sip->sip_expires->ex_delta;
          schedule_refresh (self, expires);
        }
      if (request == REQUEST_REMOVE)
        return_closed (self, NULL);
      else if (request == REQUEST_PUBLISH)
        return_detail (self, status, phrase);
    }
  else if (status == 412 && request != REQUEST_REMOVE)
    {
      /* The server lost our publication (a restart, or it expired). */
      g_clear_pointer (&self->etag, g_free);
      if (!self->republished && self->body != NULL && self->queued == REQUEST_NONE)
        {
          self->republished = TRUE;
          send_request (self, REQUEST_PUBLISH);
          return;
        }
      return_error (self, error_for_status (self, status, phrase, sip));
    }
  else if (request == REQUEST_REMOVE)
    {
      /* Whatever the answer, the publication is no longer ours to keep. */
      g_clear_pointer (&self->etag, g_free);
      return_closed (self, error_for_status (self, status, phrase, sip));
    }
  else
    {
      /* A failed refresh leaves the publication to expire; try again in
       * a minute, while it may still be alive. */
      if (request == REQUEST_REFRESH && self->etag != NULL)
        schedule_refresh (self, 120);
      return_error (self, error_for_status (self, status, phrase, sip));
    }

  if (self->queued != REQUEST_NONE && self->in_flight == REQUEST_NONE)
    {
      Request queued = self->queued;

      self->queued = REQUEST_NONE;
      self->republished = FALSE;
      /* Nothing left to refresh or remove. */
      if (queued == REQUEST_PUBLISH || self->etag != NULL)
        send_request (self, queued);
      else if (queued == REQUEST_REMOVE)
        {
          self->task_in_flight = TRUE;
          return_closed (self, NULL);
        }
    }
}

static gboolean
stack_free_cb (gpointer user_data)
{
  AglSipStack *stack = user_data;

  if (stack->nua != NULL)
    nua_destroy (stack->nua);
  if (stack->root != NULL)
    su_root_destroy (stack->root);
  if (stack->source != NULL)
    {
      g_source_destroy (stack->source);
      g_source_unref (stack->source);
    }
  g_main_context_unref (stack->context);
  g_free (stack);
  n_live_stacks--;
  return G_SOURCE_REMOVE;
}

/* Frees the stack from the main loop: never from inside a nua callback. */
static void
stack_free_later (AglSipStack *stack)
{
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, stack_free_cb, stack, NULL);
  g_source_attach (idle, stack->context);
}

static void
nua_event_cb (nua_event_t   event,
              int           status,
              char const   *phrase,
              nua_t        *nua,
              nua_magic_t  *magic,
              nua_handle_t *nh,
              nua_hmagic_t *hmagic,
              sip_t const  *sip,
              tagi_t        tags[])
{
  AglSipStack *stack = (AglSipStack *) magic;
  g_autoptr(AglPublishSip) self = NULL;

  if (event == nua_r_shutdown)
    {
      if (status >= 200 && stack->owner == NULL)
        stack_free_later (stack);
      return;
    }

  /* Answers after the publisher went are nobody's business. */
  if (stack->owner == NULL || nh == NULL || nh != stack->owner->handle)
    return;

  /* Returning a task may drop the caller's last reference. */
  self = g_object_ref (stack->owner);

  if (event == nua_r_method)
    {
      g_debug ("SIP presence for %s: PUBLISH answered %d %s", self->address, status, phrase);
      request_answered (self, status, phrase, sip);
    }
}

/* Sofia writes to stderr by default: into the daemon's log instead. */
static void
sofia_log_cb (void       *stream,
              char const *format,
              va_list     args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_strchomp (message);
  if (*message != '\0')
    g_debug ("sofia-sip: %s", message);
}

static void
set_up_sofia (void)
{
  static su_log_t *const logs[] = { su_log_default, nua_log, nta_log, tport_log, sresolv_log };

  su_init ();
  for (guint i = 0; i < G_N_ELEMENTS (logs); i++)
    su_log_redirect (logs[i], sofia_log_cb, NULL);
}

static AglSipStack *
stack_new (AglPublishSip  *owner,
           GError        **error)
{
  g_autofree char *user_agent = g_strdup_printf ("Agendaline/%s", PACKAGE_VERSION);
  AglSipStack *stack = g_new0 (AglSipStack, 1);
  static gsize initialised;

  if (g_once_init_enter (&initialised))
    {
      set_up_sofia ();
      g_once_init_leave (&initialised, 1);
    }

  n_live_stacks++;
  stack->owner = owner;
  stack->context = g_main_context_ref_thread_default ();
  stack->root = su_glib_root_create ((su_root_magic_t *) stack);
  if (stack->root != NULL)
    {
      /* The stack on this thread's main loop, not on a thread of its own. */
      su_root_threading (stack->root, 0);
      stack->source = g_source_ref (su_glib_root_gsource (stack->root));
      g_source_attach (stack->source, stack->context);

      stack->nua = nua_create (stack->root, nua_event_cb, (nua_magic_t *) stack,
                               /* Any free port, so as not to take a local
                                * softphone's 5060. */
                               NUTAG_URL ("sip:*:0"),
                               TAG_IF (g_ascii_strncasecmp (owner->server, "sips:", 5) == 0,
                                       NUTAG_SIPS_URL ("sips:*:0")),
                               NUTAG_PROXY (owner->server),
                               SIPTAG_FROM_STR (owner->address),
                               NUTAG_USER_AGENT (user_agent),
                               NUTAG_MEDIA_ENABLE (0),
                               NTATAG_SIP_T1X64 (TRANSACTION_TIMEOUT_MS),
                               TAG_END ());
    }

  if (stack->nua == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_FAILED,
                   _("Could not start SIP to publish presence to %s: no local SIP port "
                     "could be opened."),
                   owner->server);
      stack->owner = NULL;
      stack_free_cb (stack);
      return NULL;
    }

  return stack;
}

/* ------------------------------------------------------------------ */
/* Callbacks and class                                                  */

static gboolean
close_timed_out_cb (gpointer user_data)
{
  AglPublishSip *self = user_data;
  g_autoptr(GTask) task = NULL;

  g_clear_pointer (&self->close_timeout_source, g_source_unref);
  task = take_task (self);
  g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_TIMED_OUT,
                           _("The presence server %s did not confirm the withdrawal of %s "
                             "in time."),
                           self->server, self->address);
  return G_SOURCE_REMOVE;
}

static char *
agl_publish_sip_describe (AglPublisher *publisher)
{
  AglPublishSip *self = AGL_PUBLISH_SIP (publisher);

  return g_strdup_printf ("%s via %s", self->address, self->server);
}

static void
agl_publish_sip_deliver_async (AglPublisher         *publisher,
                               const AglPublication *publication,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data)
{
  AglPublishSip *self = AGL_PUBLISH_SIP (publisher);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, agl_publish_sip_deliver_async);

  if (g_task_return_error_if_cancelled (task))
    return;

  /* One delivery at a time; the manager hands over the newest status
   * once this one is answered. */
  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("The previous publication to %s has not been answered yet."),
                               self->server);
      return;
    }

  g_free (self->body);
  self->body = agl_publish_sip_pidf (publication, self->address);
  self->republished = FALSE;
  self->task = g_steal_pointer (&task);
  watch_cancellable (self, cancellable);
  /* Behind a refresh, or the answer to a cancelled delivery. */
  send_or_queue (self, REQUEST_PUBLISH);
}

static gboolean
agl_publish_sip_deliver_finish (AglPublisher  *publisher,
                                GAsyncResult  *result,
                                char         **detail,
                                GError       **error)
{
  g_autofree char *answer = NULL;

  g_return_val_if_fail (g_task_is_valid (result, publisher), FALSE);

  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (detail != NULL)
    *detail = g_steal_pointer (&answer);
  return TRUE;
}

static void
agl_publish_sip_close_async (AglPublisher        *publisher,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  AglPublishSip *self = AGL_PUBLISH_SIP (publisher);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GTask) delivery = NULL;

  g_task_set_source_tag (task, agl_publish_sip_close_async);

  delivery = take_task (self);
  if (delivery != NULL)
    g_task_return_new_error (delivery, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The publisher for %s was closed."), self->address);

  clear_source (&self->refresh_source);
  if (self->etag == NULL && self->in_flight == REQUEST_NONE)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  self->task = g_steal_pointer (&task);
  watch_cancellable (self, cancellable);
  self->close_timeout_source = add_timeout (self, CLOSE_TIMEOUT_MS, close_timed_out_cb);
  send_or_queue (self, REQUEST_REMOVE);
}

static gboolean
agl_publish_sip_close_finish (AglPublisher  *publisher,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, publisher), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
agl_publish_sip_dispose (GObject *object)
{
  AglPublishSip *self = AGL_PUBLISH_SIP (object);

  /* A pending task holds a reference: none is left here.  Without
   * close_async(), a publication is left to expire. */
  clear_source (&self->refresh_source);
  g_clear_pointer (&self->handle, nua_handle_destroy);
  if (self->stack != NULL)
    {
      self->stack->owner = NULL;
      nua_shutdown (self->stack->nua);
      self->stack = NULL;
    }

  G_OBJECT_CLASS (agl_publish_sip_parent_class)->dispose (object);
}

static void
agl_publish_sip_finalize (GObject *object)
{
  AglPublishSip *self = AGL_PUBLISH_SIP (object);

  g_free (self->server);
  g_free (self->address);
  g_free (self->user);
  if (self->password != NULL)
    explicit_bzero (self->password, strlen (self->password));
  g_free (self->password);
  g_free (self->body);
  g_free (self->etag);

  G_OBJECT_CLASS (agl_publish_sip_parent_class)->finalize (object);
}

static void
agl_publish_sip_class_init (AglPublishSipClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AglPublisherClass *publisher_class = AGL_PUBLISHER_CLASS (klass);

  object_class->dispose = agl_publish_sip_dispose;
  object_class->finalize = agl_publish_sip_finalize;

  publisher_class->kind = "sip";
  publisher_class->describe = agl_publish_sip_describe;
  publisher_class->deliver_async = agl_publish_sip_deliver_async;
  publisher_class->deliver_finish = agl_publish_sip_deliver_finish;
  publisher_class->close_async = agl_publish_sip_close_async;
  publisher_class->close_finish = agl_publish_sip_close_finish;
}

static void
agl_publish_sip_init (AglPublishSip *self)
{
  self->expires = DEFAULT_EXPIRES;
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */

/**
 * agl_publish_sip_check_config:
 * @config: the "publishers.sip" object of the rules
 * @path: where @config sits, for messages ("publishers.sip")
 * @error: return location for an error
 *
 * Checks the SIP publisher's settings (see agl-publish-sip.h) without
 * touching the network.  "has_password" and "password" are accepted and
 * ignored: the password is kept with the account's secrets.
 *
 * Returns: %TRUE when agl_publish_sip_new() will take @config
 */
gboolean
agl_publish_sip_check_config (JsonObject  *config,
                              const char  *path,
                              GError     **error)
{
  g_autoptr(GList) members = NULL;
  gboolean has_server = FALSE;
  gboolean has_address = FALSE;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  members = json_object_get_members (config);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *node = json_object_get_member (config, key);

      if (g_str_equal (key, "server"))
        {
          const char *server = get_string (node, path, key, error);

          if (server == NULL)
            return FALSE;
          if (!parse_sip_uri (server, NULL))
            {
              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("%s.server: “%s” is not a SIP URI such as sip:pbx.example.com"),
                           path, server);
              return FALSE;
            }
          has_server = TRUE;
        }
      else if (g_str_equal (key, "address"))
        {
          const char *address = get_string (node, path, key, error);
          g_autofree char *user = NULL;

          if (address == NULL)
            return FALSE;
          if (!parse_sip_uri (address, &user))
            {
              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("%s.address: “%s” is not a SIP address such as sip:alice@example.com"),
                           path, address);
              return FALSE;
            }
          has_address = TRUE;
        }
      else if (g_str_equal (key, "user"))
        {
          const char *user = get_string (node, path, key, error);

          if (user == NULL)
            return FALSE;
          /* nua's credentials are colon-separated. */
          if (*user == '\0' || strchr (user, ':') != NULL || !g_utf8_validate (user, -1, NULL))
            {
              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("%s.user: “%s” is not a user name: give the SIP user name, "
                             "without colons, or leave it out to use the user part of "
                             "the address"),
                           path, user);
              return FALSE;
            }
        }
      else if (g_str_equal (key, "expires"))
        {
          gint64 expires;

          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64
              || (expires = json_node_get_int (node)) < MIN_EXPIRES || expires > MAX_EXPIRES)
            {
              g_autofree char *text = json_to_string (node, FALSE);

              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("%s.expires: %s is not a number of seconds from %d to %d"),
                           path, text, MIN_EXPIRES, MAX_EXPIRES);
              return FALSE;
            }
        }
      else if (g_str_equal (key, "has_password") || g_str_equal (key, "password"))
        {
          /* The password's marker, and the password on its way to the
           * account's secrets. */
        }
      else
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s.%s: unknown setting; the SIP publisher takes “server”, “address”, "
                         "“user” and “expires”"),
                       path, key);
          return FALSE;
        }
    }

  if (!has_server)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.server is missing: give the presence server’s SIP URI, such as "
                     "sip:pbx.example.com"),
                   path);
      return FALSE;
    }
  if (!has_address)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.address is missing: give the SIP address whose presence is "
                     "published, such as sip:alice@example.com"),
                   path);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_publish_sip_new:
 * @config: the "publishers.sip" object of the rules
 * @password: (nullable): the digest password
 * @error: return location for an error
 *
 * Makes a SIP presence publisher.  Its SIP stack runs on the
 * thread-default main context, which must be the one deliveries are
 * made from.  Nothing is sent before the first delivery.
 *
 * Returns: (transfer full): the publisher, or %NULL when @config is not
 *   acceptable or no local SIP port could be opened
 */
AglPublisher *
agl_publish_sip_new (JsonObject  *config,
                     const char  *password,
                     GError     **error)
{
  g_autoptr(AglPublishSip) self = NULL;

  g_return_val_if_fail (config != NULL, NULL);

  if (!agl_publish_sip_check_config (config, "publishers.sip", error))
    return NULL;

  self = g_object_new (AGL_TYPE_PUBLISH_SIP, NULL);
  self->server = g_strdup (json_object_get_string_member (config, "server"));
  self->address = g_strdup (json_object_get_string_member (config, "address"));
  if (json_object_has_member (config, "user"))
    self->user = g_strdup (json_object_get_string_member (config, "user"));
  else
    parse_sip_uri (self->address, &self->user);
  if (json_object_has_member (config, "expires"))
    self->expires = json_object_get_int_member (config, "expires");
  if (password != NULL && *password != '\0')
    self->password = g_strdup (password);

  self->stack = stack_new (self, error);
  if (self->stack == NULL)
    return NULL;

  return AGL_PUBLISHER (g_steal_pointer (&self));
}

/**
 * agl_publish_sip_pidf:
 * @publication: the status to publish
 * @entity: the presentity's SIP address
 *
 * The PIDF document (RFC 3863) with RPID (RFC 4480) that publishes
 * @publication's status for @entity.  One tuple (the phone) gives the
 * basic status; one person gives the activity, and until when it lasts.
 *
 * | presence      | basic  | activity                                   |
 * |---------------|--------|--------------------------------------------|
 * | available     | open   | none                                       |
 * | busy          | open   | busy, then appointment when an appointment |
 * |               |        | governs the status                         |
 * | dnd           | closed | busy                                       |
 * | away          | open   | away                                       |
 * | out-of-office | open   | away                                       |
 *
 * RFC 3863 defines "closed" as unable or unwilling to take communication,
 * which is what do-not-disturb does to calls; so is any status whose phone
 * action is dnd.  A diverted or forwarded phone still takes calls, so it
 * stays "open".  RFC 4480 has no do-not-disturb activity: "busy" is the
 * closest, and the one PBXs and softphones read.  Out of office is "away"
 * rather than "vacation": Exchange's automatic replies also cover business
 * trips and sick leave, and the note says which.  When the status has an
 * end, <rpid:activities until="…"> says it (RFC 4480, 3.2).  The note is
 * the status text, or the diversion reason when there is no text.  The
 * timestamp is the instant the status was worked out for.
 *
 * Returns: (transfer full): the document, UTF-8
 */
char *
agl_publish_sip_pidf (const AglPublication *publication,
                      const char           *entity)
{
  const AglStatus *status;
  g_autoptr(xmlBuffer) buffer = NULL;
  g_autoptr(xmlTextWriter) writer = NULL;
  g_autofree char *note = NULL;
  g_autofree char *timestamp = NULL;
  const char *activity = NULL;
  gboolean closed;

  g_return_val_if_fail (publication != NULL, NULL);
  g_return_val_if_fail (publication->status != NULL, NULL);
  g_return_val_if_fail (entity != NULL, NULL);

  status = publication->status;
  closed = status->presence == AGL_PRESENCE_DND || status->action == AGL_PHONE_ACTION_DND;
  switch (status->presence)
    {
    case AGL_PRESENCE_AVAILABLE:
      break;
    case AGL_PRESENCE_BUSY:
    case AGL_PRESENCE_DND:
      activity = "busy";
      break;
    case AGL_PRESENCE_AWAY:
    case AGL_PRESENCE_OUT_OF_OFFICE:
      activity = "away";
      break;
    default:
      g_assert_not_reached ();
    }

  if (status->text != NULL && *status->text != '\0')
    note = sanitize_text (status->text);
  else if (status->reason != NULL && *status->reason != '\0')
    note = sanitize_text (status->reason);
  timestamp = format_time (status->at);

  buffer = xmlBufferCreate ();
  writer = xmlNewTextWriterMemory (buffer, 0);
  xmlTextWriterSetIndent (writer, 1);
  xmlTextWriterSetIndentString (writer, BAD_CAST "  ");

  xmlTextWriterStartDocument (writer, "1.0", "UTF-8", NULL);
  xmlTextWriterStartElement (writer, BAD_CAST "presence");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns", BAD_CAST PIDF_NS);
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:dm", BAD_CAST PIDF_DM_NS);
  xmlTextWriterWriteAttribute (writer, BAD_CAST "xmlns:rpid", BAD_CAST PIDF_RPID_NS);
  {
    g_autofree char *clean_entity = sanitize_text (entity);

    xmlTextWriterWriteAttribute (writer, BAD_CAST "entity", BAD_CAST clean_entity);
  }

  /* The phone: whether it takes calls. */
  xmlTextWriterStartElement (writer, BAD_CAST "tuple");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "id", BAD_CAST "agendaline-phone");
  xmlTextWriterStartElement (writer, BAD_CAST "status");
  xmlTextWriterWriteElement (writer, BAD_CAST "basic", BAD_CAST (closed ? "closed" : "open"));
  xmlTextWriterEndElement (writer);
  if (note != NULL)
    xmlTextWriterWriteElement (writer, BAD_CAST "note", BAD_CAST note);
  if (timestamp != NULL)
    xmlTextWriterWriteElement (writer, BAD_CAST "timestamp", BAD_CAST timestamp);
  xmlTextWriterEndElement (writer);

  /* The person: what they are doing, and until when. */
  xmlTextWriterStartElement (writer, BAD_CAST "dm:person");
  xmlTextWriterWriteAttribute (writer, BAD_CAST "id", BAD_CAST "agendaline-person");
  if (activity != NULL)
    {
      g_autofree char *element = g_strconcat ("rpid:", activity, NULL);

      xmlTextWriterStartElement (writer, BAD_CAST "rpid:activities");
      if (status->until > 0)
        {
          g_autofree char *until = format_time (status->until);

          if (until != NULL)
            xmlTextWriterWriteAttribute (writer, BAD_CAST "until", BAD_CAST until);
        }
      xmlTextWriterStartElement (writer, BAD_CAST element);
      xmlTextWriterEndElement (writer);
      if (status->presence == AGL_PRESENCE_BUSY && governed_by_appointment (status))
        {
          xmlTextWriterStartElement (writer, BAD_CAST "rpid:appointment");
          xmlTextWriterEndElement (writer);
        }
      xmlTextWriterEndElement (writer);
    }
  if (note != NULL)
    xmlTextWriterWriteElement (writer, BAD_CAST "dm:note", BAD_CAST note);
  if (timestamp != NULL)
    xmlTextWriterWriteElement (writer, BAD_CAST "dm:timestamp", BAD_CAST timestamp);
  xmlTextWriterEndElement (writer);

  xmlTextWriterEndElement (writer);
  xmlTextWriterEndDocument (writer);
  /* Flushes into the buffer. */
  g_clear_pointer (&writer, xmlFreeTextWriter);

  return g_strdup ((const char *) xmlBufferContent (buffer));
}

/**
 * agl_publish_sip_count_stacks:
 *
 * For tests: how many SIP stacks are alive, those of disposed publishers
 * still shutting down included.  A test runs the main loop until this is
 * 0 so that nothing is left for leak checkers.
 *
 * Returns: the number of stacks
 */
guint
agl_publish_sip_count_stacks (void)
{
  return n_live_stacks;
}

/**
 * agl_publish_sip_prepare_library:
 *
 * Works around a bug of libsofia-sip-ua 1.12.11 that aborts a process
 * linking it on its way out; call it once in every such process before
 * it exits (the publish manager does, from its class_init).
 *
 * The library's destructor deletes the thread-local key of its random
 * number state as if it had been created (done_once starts at 1), which
 * is key 0 when it was not: GLib's first GPrivate, and the process then
 * aborts in pthread_setspecific().  Drawing one number creates that key,
 * so the destructor deletes its own.
 */
void
agl_publish_sip_prepare_library (void)
{
  (void) su_randint (0, 1);
}
