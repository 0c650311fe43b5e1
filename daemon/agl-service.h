/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-secrets.h"
#include "agl-log.h"
#include "agl-store.h"

G_BEGIN_DECLS

#define AGL_TYPE_SERVICE (agl_service_get_type ())
G_DECLARE_FINAL_TYPE (AglService, agl_service, AGL, SERVICE, GObject)

AglService *agl_service_new      (AglStore         *store,
                                  AglSecrets       *secrets);
gboolean    agl_service_export   (AglService       *self,
                                  GDBusConnection  *connection,
                                  const char       *object_path,
                                  GError          **error);
void        agl_service_unexport (AglService       *self);
void        agl_service_set_log  (AglService       *self,
                                  AglLog           *log);
void        agl_service_start_sync (AglService     *self);

G_END_DECLS
