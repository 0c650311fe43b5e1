/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-daemon-client.h"

G_BEGIN_DECLS

#define AGL_TYPE_APPOINTMENT_EDITOR (agl_appointment_editor_get_type ())

G_DECLARE_FINAL_TYPE (AglAppointmentEditor, agl_appointment_editor, AGL, APPOINTMENT_EDITOR, AdwWindow)

AglAppointmentEditor *agl_appointment_editor_new_create (GtkWindow       *parent,
                                                         AglDaemonClient *client,
                                                         const char      *account,
                                                         GDateTime       *start);
AglAppointmentEditor *agl_appointment_editor_new_edit   (GtkWindow       *parent,
                                                         AglDaemonClient *client,
                                                         gint64           id,
                                                         gboolean         from_occurrence);

G_END_DECLS
