/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-daemon-client.h"

G_BEGIN_DECLS

#define AGL_TYPE_APPLICATION (agl_application_get_type ())

G_DECLARE_FINAL_TYPE (AglApplication, agl_application, AGL, APPLICATION, AdwApplication)

AglApplication  *agl_application_new        (void);
AglDaemonClient *agl_application_get_client (AglApplication *self);

G_END_DECLS
