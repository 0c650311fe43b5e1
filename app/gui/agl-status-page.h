/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_STATUS_PAGE (agl_status_page_get_type ())

G_DECLARE_FINAL_TYPE (AglStatusPage, agl_status_page, AGL, STATUS_PAGE, AglPage)

G_END_DECLS
