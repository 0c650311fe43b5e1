/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-daemon-client.h"

G_BEGIN_DECLS

#define AGL_TYPE_VERIFY_PAGE (agl_verify_page_get_type ())

G_DECLARE_FINAL_TYPE (AglVerifyPage, agl_verify_page, AGL, VERIFY_PAGE, AdwBin)

G_END_DECLS
