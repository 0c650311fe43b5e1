/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <libxml/tree.h>

#include "agl-account.h"
#include "agl-ews-request.h"
#include "agl-ews-xml.h"

G_BEGIN_DECLS

#define AGL_TYPE_EWS_CONNECTION (agl_ews_connection_get_type ())

G_DECLARE_FINAL_TYPE (AglEwsConnection, agl_ews_connection, AGL, EWS_CONNECTION, GObject)

/**
 * AglEwsRetryPolicy:
 * @base_ms: the first backoff window, in milliseconds
 * @cap_ms: the largest backoff window
 * @max_attempts: how many times one request is sent at most (1: no retry)
 *
 * How transient failures are retried: attempt n waits a uniformly random
 * time in [0, min(@cap_ms, @base_ms * 2^(n-1))] ("full jitter"), except
 * after ErrorServerBusy, which waits exactly the BackOffMilliseconds the
 * server asked for.
 */
typedef struct {
  guint base_ms;
  guint cap_ms;
  guint max_attempts;
} AglEwsRetryPolicy;

AglEwsConnection *agl_ews_connection_new            (const AglAccount *account,
                                                     const char       *secret,
                                                     GError          **error);

const char       *agl_ews_connection_get_url        (AglEwsConnection *self);
void              agl_ews_connection_set_url        (AglEwsConnection *self,
                                                     const char       *url);
const char       *agl_ews_connection_get_user       (AglEwsConnection *self);
const char       *agl_ews_connection_get_mailbox    (AglEwsConnection *self);
const char       *agl_ews_connection_get_server_version (AglEwsConnection *self);
const char       *agl_ews_connection_get_server_build   (AglEwsConnection *self);
void              agl_ews_connection_set_impersonation  (AglEwsConnection *self,
                                                         const char       *smtp_address);
const char       *agl_ews_connection_get_impersonation  (AglEwsConnection *self);
void              agl_ews_connection_set_time_zone_id   (AglEwsConnection *self,
                                                         const char       *windows_zone_id);
void              agl_ews_connection_set_retry_policy   (AglEwsConnection        *self,
                                                         const AglEwsRetryPolicy *policy);
void              agl_ews_connection_set_max_response_bytes (AglEwsConnection *self,
                                                             gsize             max_bytes);
void              agl_ews_connection_get_headers    (AglEwsConnection     *self,
                                                     AglEwsRequestHeaders *out_headers);

void              agl_ews_connection_send_async     (AglEwsConnection    *self,
                                                     const char          *operation,
                                                     GBytes              *request,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
xmlDoc           *agl_ews_connection_send_finish    (AglEwsConnection    *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

SoupMessage      *agl_ews_connection_new_message    (AglEwsConnection    *self,
                                                     const char          *method,
                                                     const char          *url,
                                                     GBytes              *request);
void              agl_ews_connection_open_async     (AglEwsConnection    *self,
                                                     SoupMessage         *message,
                                                     gboolean             long_lived,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
GInputStream     *agl_ews_connection_open_finish    (AglEwsConnection    *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
