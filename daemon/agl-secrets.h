/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define AGL_TYPE_SECRETS (agl_secrets_get_type ())
G_DECLARE_FINAL_TYPE (AglSecrets, agl_secrets, AGL, SECRETS, GObject)

/**
 * AglSecretsBackend:
 * @AGL_SECRETS_BACKEND_SERVICE: the Secret Service (GNOME Keyring, KWallet, ...)
 * @AGL_SECRETS_BACKEND_FILE: a file only the user can read, for machines
 *   without a Secret Service
 */
typedef enum {
  AGL_SECRETS_BACKEND_SERVICE,
  AGL_SECRETS_BACKEND_FILE,
} AglSecretsBackend;

AglSecrets        *agl_secrets_new                (GDBusConnection      *session_bus,
                                                   const char           *fallback_path);
AglSecretsBackend  agl_secrets_get_backend        (AglSecrets           *self);
const char        *agl_secrets_get_backend_name   (AglSecrets           *self);

void               agl_secrets_store_async        (AglSecrets           *self,
                                                   const char           *account,
                                                   const char           *password,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean           agl_secrets_store_finish       (AglSecrets           *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

void               agl_secrets_lookup_async       (AglSecrets           *self,
                                                   const char           *account,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
char              *agl_secrets_lookup_finish      (AglSecrets           *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

void               agl_secrets_clear_async        (AglSecrets           *self,
                                                   const char           *account,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean           agl_secrets_clear_finish       (AglSecrets           *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

void               agl_secrets_list_async         (AglSecrets           *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GHashTable        *agl_secrets_list_finish        (AglSecrets           *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* The secrets of an account's publishers (the webhook's signing key, the
 * SIP password), apart from its password: a lookup by account never
 * returns them. */
void               agl_secrets_store_publisher_async  (AglSecrets          *self,
                                                       const char          *account,
                                                       const char          *publisher,
                                                       const char          *secret,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           agl_secrets_store_publisher_finish (AglSecrets          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
void               agl_secrets_lookup_publisher_async (AglSecrets          *self,
                                                       const char          *account,
                                                       const char          *publisher,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
char              *agl_secrets_lookup_publisher_finish (AglSecrets         *self,
                                                        GAsyncResult       *result,
                                                        GError            **error);
void               agl_secrets_clear_publisher_async  (AglSecrets          *self,
                                                       const char          *account,
                                                       const char          *publisher,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           agl_secrets_clear_publisher_finish (AglSecrets          *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

G_END_DECLS
