/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_VERIFY_PAGE (agl_verify_page_get_type ())

G_DECLARE_FINAL_TYPE (AglVerifyPage, agl_verify_page, AGL, VERIFY_PAGE, AglPage)

G_END_DECLS
