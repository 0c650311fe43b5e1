/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-remote.h"
#include "agl-ews-connection.h"

G_BEGIN_DECLS

#define AGL_TYPE_EWS_BACKEND (agl_ews_backend_get_type ())

G_DECLARE_FINAL_TYPE (AglEwsBackend, agl_ews_backend, AGL, EWS_BACKEND, AglRemote)

AglRemote        *agl_ews_backend_new            (AglEwsConnection *connection);
AglEwsConnection *agl_ews_backend_get_connection (AglEwsBackend    *self);

G_END_DECLS
