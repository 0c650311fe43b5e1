/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-ews-connection.h"
#include "agl-ews-response.h"

G_BEGIN_DECLS

#define AGL_TYPE_EWS_STREAMING (agl_ews_streaming_get_type ())

G_DECLARE_FINAL_TYPE (AglEwsStreaming, agl_ews_streaming, AGL, EWS_STREAMING, GObject)

AglEwsStreaming *agl_ews_streaming_new        (AglEwsConnection    *connection);
void             agl_ews_streaming_run_async  (AglEwsStreaming     *self,
                                               const char * const  *subscription_ids,
                                               guint                connection_timeout,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean         agl_ews_streaming_run_finish (AglEwsStreaming     *self,
                                               GAsyncResult        *result,
                                               GError             **error);

G_END_DECLS
