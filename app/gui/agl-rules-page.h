/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_RULES_PAGE (agl_rules_page_get_type ())

G_DECLARE_FINAL_TYPE (AglRulesPage, agl_rules_page, AGL, RULES_PAGE, AglPage)

G_END_DECLS
