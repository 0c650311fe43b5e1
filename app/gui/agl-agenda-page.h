/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-page.h"

G_BEGIN_DECLS

#define AGL_TYPE_AGENDA_PAGE (agl_agenda_page_get_type ())

G_DECLARE_FINAL_TYPE (AglAgendaPage, agl_agenda_page, AGL, AGENDA_PAGE, AglPage)

G_END_DECLS
