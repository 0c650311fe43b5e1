/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * The "publishers" object of the rules: what each kind's settings may
 * hold, and the secrets in it.  A secret (the webhook's "secret", the SIP
 * "password") is given with the rules but never stored with them: the
 * service takes it out with agl_publish_config_take_secrets(), keeps it in
 * the Secret Service, and GetRules shows "has_secret"/"has_password"
 * instead (agl_publish_config_mark_secrets()).
 */

/* The kinds, in the order publishers are listed. */
#define AGL_PUBLISH_KINDS "webhook", "command", "sip"

/**
 * AglPublishSecretChange:
 * @AGL_PUBLISH_SECRET_KEEP: the rules did not give one: the stored one stays
 * @AGL_PUBLISH_SECRET_SET: a new one, in @value
 * @AGL_PUBLISH_SECRET_REMOVE: given as null, or the publisher is gone
 */
typedef enum {
  AGL_PUBLISH_SECRET_KEEP,
  AGL_PUBLISH_SECRET_SET,
  AGL_PUBLISH_SECRET_REMOVE,
} AglPublishSecretChange;

/**
 * AglPublishSecret:
 * @kind: "webhook" or "sip"
 * @change: what the rules ask for
 * @value: the new secret for %AGL_PUBLISH_SECRET_SET
 * @configured: the rules have a publisher of @kind
 * @required: the publisher cannot work without one (the webhook)
 */
typedef struct {
  const char             *kind;
  AglPublishSecretChange  change;
  char                   *value;
  gboolean                configured;
  gboolean                required;
} AglPublishSecret;

#define AGL_PUBLISH_N_SECRETS 2

const char *agl_publish_config_secret_member (const char *kind);
gboolean    agl_publish_config_check         (JsonObject        *publishers,
                                              GError           **error);
char       *agl_publish_config_take_secrets  (const char        *rules,
                                              AglPublishSecret   secrets[AGL_PUBLISH_N_SECRETS],
                                              GError           **error);
void        agl_publish_secrets_clear        (AglPublishSecret   secrets[AGL_PUBLISH_N_SECRETS]);
char       *agl_publish_config_mark_secrets  (const char        *rules,
                                              gboolean           has_webhook_secret,
                                              gboolean           has_sip_password);

/* For each kind's check_config(): errors name "PATH.MEMBER". */
gboolean    agl_publish_config_check_members (JsonObject         *config,
                                              const char         *path,
                                              const char * const *allowed,
                                              GError            **error);
gboolean    agl_publish_config_get_string    (JsonObject         *config,
                                              const char         *path,
                                              const char         *member,
                                              gboolean            required,
                                              const char        **value,
                                              GError            **error);
gboolean    agl_publish_config_get_seconds   (JsonObject         *config,
                                              const char         *path,
                                              const char         *member,
                                              guint               min,
                                              guint               max,
                                              guint               default_value,
                                              guint              *value,
                                              GError            **error);

G_END_DECLS
