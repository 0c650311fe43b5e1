/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-ews-connection.h"
#include "agl-ews-response.h"

G_BEGIN_DECLS

/* Redirects of every kind (HTTP, RedirectUrl, RedirectAddr) followed at most. */
#define AGL_EWS_AUTODISCOVER_MAX_HOPS 10

GStrv               agl_ews_autodiscover_candidates (const char          *email);
void                agl_ews_autodiscover_async      (AglEwsConnection    *connection,
                                                     const char          *email,
                                                     const char * const  *candidates,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
AglEwsAutodiscover *agl_ews_autodiscover_finish     (AglEwsConnection    *connection,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
