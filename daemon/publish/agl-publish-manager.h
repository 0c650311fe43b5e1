/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "agl-presence.h"
#include "agl-secrets.h"
#include "agl-store.h"

G_BEGIN_DECLS

/*
 * The publish manager: for each enabled account, the publishers its rules
 * name ("publishers": webhook, command, sip) and the D-Bus signal, each fed
 * the account's newest status.  One delivery at a time per publisher; a
 * newer status replaces one waiting or being retried; a failure is retried
 * after 1 s, doubling up to 5 min, with jitter, until it is delivered or
 * replaced; a permanent refusal (AGL_PUBLISHER_ERROR_REFUSED) waits for
 * the next status.  Nothing here blocks: everything runs on the main loop,
 * so no publisher can hold up a sync.
 */

#define AGL_TYPE_PUBLISH_MANAGER (agl_publish_manager_get_type ())
G_DECLARE_FINAL_TYPE (AglPublishManager, agl_publish_manager, AGL, PUBLISH_MANAGER, GObject)

AglPublishManager *agl_publish_manager_new            (AglStore           *store,
                                                       AglPresenceTracker *presence,
                                                       AglSecrets         *secrets);
void               agl_publish_manager_start          (AglPublishManager  *self);
void               agl_publish_manager_stop           (AglPublishManager  *self);
void               agl_publish_manager_reload_account (AglPublishManager  *self,
                                                       const char         *name);
GVariant          *agl_publish_manager_get_statuses   (AglPublishManager  *self);
GVariant          *agl_publish_manager_get_publishers (AglPublishManager  *self,
                                                       const char         *name);

gboolean           agl_publish_manager_check_config   (JsonObject         *publishers,
                                                       GError            **error);

G_END_DECLS
