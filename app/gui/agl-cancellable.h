/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GCancellable *agl_cancellable_restart (GCancellable **cancellable);
void          agl_cancellable_drop    (GCancellable **cancellable);
gboolean      agl_error_is_cancelled  (const GError  *error);

G_END_DECLS
