/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

typedef struct _AglEwsRecurrence AglEwsRecurrence;

AglEwsRecurrence *agl_ews_recurrence_parse  (const xmlNode *recurrence,
                                             GError       **error);
void              agl_ews_recurrence_free   (AglEwsRecurrence *recurrence);
GArray           *agl_ews_recurrence_expand (const AglEwsRecurrence *recurrence,
                                             GDateTime              *first_start,
                                             gint64                  until,
                                             guint                   max_count);
gboolean          agl_ews_recurrence_is_bounded (const AglEwsRecurrence *recurrence);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsRecurrence, agl_ews_recurrence_free)

G_END_DECLS
