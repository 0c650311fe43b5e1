/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-application.h"

G_BEGIN_DECLS

#define AGL_TYPE_WINDOW (agl_window_get_type ())

G_DECLARE_FINAL_TYPE (AglWindow, agl_window, AGL, WINDOW, AdwApplicationWindow)

AglWindow *agl_window_new            (AglApplication *application);
void       agl_window_show_page      (AglWindow      *self,
                                      const char     *name);
void       agl_window_choose_account (AglWindow      *self,
                                      const char     *name);
void       agl_window_show_error     (AglWindow      *self,
                                      const char     *message);

G_END_DECLS
