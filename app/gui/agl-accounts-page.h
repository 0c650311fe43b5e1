/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_ACCOUNTS_PAGE (agl_accounts_page_get_type ())

G_DECLARE_FINAL_TYPE (AglAccountsPage, agl_accounts_page, AGL, ACCOUNTS_PAGE, AglPage)

G_END_DECLS
