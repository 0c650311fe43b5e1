/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-publisher.h"

G_BEGIN_DECLS

/*
 * A webhook: each status is POSTed as JSON (exactly what StatusChanged
 * carries) to a URL, signed so that the receiver can tell it comes from
 * this daemon.  Settings, the "publishers.webhook" object of the rules:
 *   "url"      an http or https URL (required)
 *   "ca_file"  (optional) a PEM bundle of the CA that signed the
 *              receiver's certificate, for a private CA; the certificate
 *              is always checked
 *   "timeout"  (optional) seconds, 1 to 120; 10 when absent
 * The signing secret is not part of the settings: it is kept with the
 * account's secrets and passed to agl_publish_webhook_new().
 *
 * Each request carries:
 *   Content-Type: application/json; charset=utf-8
 *   X-Agendaline-Signature: sha256=HEX, the lowercase HMAC-SHA256 of the
 *     body with the secret as key
 *   X-Agendaline-Account: the account's name
 *   User-Agent: Agendaline/VERSION
 * A 2xx answer is a delivery; 4xx other than 408 and 429 a refusal
 * (AGL_PUBLISHER_ERROR_REFUSED); anything else a failure to retry.
 */

#define AGL_TYPE_PUBLISH_WEBHOOK (agl_publish_webhook_get_type ())
G_DECLARE_FINAL_TYPE (AglPublishWebhook, agl_publish_webhook, AGL, PUBLISH_WEBHOOK, AglPublisher)

gboolean      agl_publish_webhook_check_config (JsonObject  *config,
                                                const char  *path,
                                                GError     **error);
AglPublisher *agl_publish_webhook_new          (JsonObject  *config,
                                                const char  *secret,
                                                GError     **error);
char         *agl_publish_webhook_sign         (const char  *secret,
                                                const char  *body,
                                                gsize        length);

G_END_DECLS
