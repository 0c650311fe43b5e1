/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_CONNECTIONS_PAGE (agl_connections_page_get_type ())

G_DECLARE_FINAL_TYPE (AglConnectionsPage, agl_connections_page, AGL, CONNECTIONS_PAGE, AglPage)

G_END_DECLS
