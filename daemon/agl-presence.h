/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-rules.h"
#include "agl-store.h"
#include "agl-sync-manager.h"

G_BEGIN_DECLS

/*
 * The presence tracker: for each enabled account, the rules, the
 * out-of-office settings, the override and the current status, with one
 * timer armed at the next boundary.  The clock is read here and passed
 * to the rules engine (agl-rules.h), which never reads it.
 */

#define AGL_TYPE_PRESENCE_TRACKER (agl_presence_tracker_get_type ())
G_DECLARE_FINAL_TYPE (AglPresenceTracker, agl_presence_tracker, AGL, PRESENCE_TRACKER, GObject)

AglPresenceTracker *agl_presence_tracker_new       (AglStore           *store,
                                                    AglSyncManager     *sync);
void                agl_presence_tracker_start     (AglPresenceTracker *self);
void                agl_presence_tracker_stop      (AglPresenceTracker *self);

char     *agl_presence_tracker_get_status          (AglPresenceTracker *self,
                                                    const char         *name,
                                                    gboolean            now,
                                                    gint64              at,
                                                    GError            **error);
char     *agl_presence_tracker_get_schedule        (AglPresenceTracker *self,
                                                    const char         *name,
                                                    gboolean            now,
                                                    gint64              from,
                                                    guint               days,
                                                    GError            **error);
char     *agl_presence_tracker_get_rules           (AglPresenceTracker *self,
                                                    const char         *name,
                                                    GError            **error);
gboolean  agl_presence_tracker_set_rules           (AglPresenceTracker *self,
                                                    const char         *name,
                                                    const char         *json,
                                                    GError            **error);
gboolean  agl_presence_tracker_set_override        (AglPresenceTracker *self,
                                                    const char         *name,
                                                    AglPresence         presence,
                                                    AglPhoneAction      action,
                                                    const char         *text,
                                                    gint64             *until,
                                                    GError            **error);
gboolean  agl_presence_tracker_clear_override      (AglPresenceTracker *self,
                                                    const char         *name,
                                                    GError            **error);

G_END_DECLS
