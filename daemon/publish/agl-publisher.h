/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agl-rules.h"

G_BEGIN_DECLS

/*
 * A publisher delivers an account's presence status to one place: a
 * webhook, a command, a SIP presence server.  Each kind is a subclass
 * (agl-publish-webhook.c, agl-publish-command.c, agl-publish-sip.c) made
 * from its part of the rules' "publishers" object; the publish manager
 * (agl-publish-manager.c) owns them, hands each the newest status, retries
 * with backoff and keeps the last delivery result.  A delivery never
 * blocks: everything runs on the main loop.
 */

/**
 * AglPublication:
 * @account: the account's name
 * @status: the status
 * @json: the status as agl_status_to_json() gives it, what the webhook
 *   posts and the command reads on stdin
 *
 * What a publisher delivers.  Valid until the delivery finishes.
 */
typedef struct {
  const char      *account;
  const AglStatus *status;
  const char      *json;
} AglPublication;

/**
 * AglPublisherError:
 * @AGL_PUBLISHER_ERROR_REFUSED: the receiver refused the publication in a
 *   way that sending it again cannot change (HTTP 401, a SIP 403): the
 *   publish manager shows the publisher as "failed" and waits for the next
 *   status instead of retrying
 *
 * deliver_finish() fails with this domain only for a permanent refusal;
 * any other error is taken as passing (a network error, HTTP 503, a
 * command that failed) and retried with backoff.
 */
typedef enum {
  AGL_PUBLISHER_ERROR_REFUSED,
} AglPublisherError;

#define AGL_PUBLISHER_ERROR (agl_publisher_error_quark ())
GQuark agl_publisher_error_quark (void);

#define AGL_TYPE_PUBLISHER (agl_publisher_get_type ())
G_DECLARE_DERIVABLE_TYPE (AglPublisher, agl_publisher, AGL, PUBLISHER, GObject)

/**
 * AglPublisherClass:
 * @kind: "webhook", "command" or "sip": the key in "publishers"
 * @describe: where it publishes, in words a user recognises (the URL,
 *   the program, the SIP address); for `agendalinectl connections`
 * @deliver_async: delivers one publication, once: no retries here
 * @deliver_finish: %TRUE when the receiver took it; @detail (may be
 *   %NULL) gets what the receiver answered ("HTTP 204", "exit status 0",
 *   "200 OK"); on failure @error says why, naming the receiver
 * @close_async: (optional): a last goodbye before the publisher is
 *   dropped (a SIP PUBLISH with Expires: 0); may be %NULL
 */
struct _AglPublisherClass
{
  GObjectClass parent_class;

  const char *kind;

  char     *(*describe)       (AglPublisher          *self);
  void      (*deliver_async)  (AglPublisher          *self,
                               const AglPublication  *publication,
                               GCancellable          *cancellable,
                               GAsyncReadyCallback    callback,
                               gpointer               user_data);
  gboolean  (*deliver_finish) (AglPublisher          *self,
                               GAsyncResult          *result,
                               char                 **detail,
                               GError               **error);
  void      (*close_async)    (AglPublisher          *self,
                               GCancellable          *cancellable,
                               GAsyncReadyCallback    callback,
                               gpointer               user_data);
  gboolean  (*close_finish)   (AglPublisher          *self,
                               GAsyncResult          *result,
                               GError               **error);
};

const char *agl_publisher_get_kind       (AglPublisher          *self);
char       *agl_publisher_describe       (AglPublisher          *self);
void        agl_publisher_deliver_async  (AglPublisher          *self,
                                          const AglPublication  *publication,
                                          GCancellable          *cancellable,
                                          GAsyncReadyCallback    callback,
                                          gpointer               user_data);
gboolean    agl_publisher_deliver_finish (AglPublisher          *self,
                                          GAsyncResult          *result,
                                          char                 **detail,
                                          GError               **error);
void        agl_publisher_close_async    (AglPublisher          *self,
                                          GCancellable          *cancellable,
                                          GAsyncReadyCallback    callback,
                                          gpointer               user_data);
gboolean    agl_publisher_close_finish   (AglPublisher          *self,
                                          GAsyncResult          *result,
                                          GError               **error);

G_END_DECLS
