/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-publisher.h"

G_BEGIN_DECLS

/*
 * SIP presence: PUBLISH (RFC 3903) of a PIDF document (RFC 3863) with RPID
 * activities (RFC 4480) for the account's presentity, with digest
 * authentication, refreshed before it expires.  Settings, the
 * "publishers.sip" object of the rules:
 *   "server"   the SIP URI the PUBLISH goes to (the presence server or an
 *              outbound proxy), e.g. "sip:pbx.example.com;transport=tcp"
 *   "address"  the presentity, e.g. "sip:alice@example.com"
 *   "user"     (optional) the digest user name; the user part of
 *              "address" when absent
 *   "expires"  (optional) seconds, 60 to 86400; 3600 when absent
 * The digest password is not part of the settings: it is kept with the
 * account's secrets and passed to agl_publish_sip_new().
 */

#define AGL_TYPE_PUBLISH_SIP (agl_publish_sip_get_type ())
G_DECLARE_FINAL_TYPE (AglPublishSip, agl_publish_sip, AGL, PUBLISH_SIP, AglPublisher)

gboolean      agl_publish_sip_check_config (JsonObject           *config,
                                            const char           *path,
                                            GError              **error);
AglPublisher *agl_publish_sip_new          (JsonObject           *config,
                                            const char           *password,
                                            GError              **error);
void          agl_publish_sip_prepare_library (void);
char         *agl_publish_sip_pidf         (const AglPublication *publication,
                                            const char           *entity);

/* For tests. */
guint         agl_publish_sip_count_stacks (void);

G_END_DECLS
