/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "agl-error.h"
#include "agl-secrets.h"

/*
 * Account passwords.  They live in the Secret Service; where none runs on
 * the session bus (a headless machine), in a key file only the user can
 * read, with a warning in the log (DESIGN.md, invariant 6).  Never in the
 * database, the log or a D-Bus reply.
 */

#define SECRETS_BUS_NAME "org.freedesktop.secrets"
#define FILE_GROUP "Passwords"
/* The publishers' secrets, keyed "ACCOUNT/PUBLISHER" (both escaped). */
#define FILE_PUBLISHER_GROUP "Publishers"

struct _AglSecrets
{
  GObject            parent_instance;

  AglSecretsBackend  backend;
  char              *fallback_path;
};

G_DEFINE_FINAL_TYPE (AglSecrets, agl_secrets, G_TYPE_OBJECT)

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.agendaline.Account", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

/* A schema of its own, so that the account lookups (which match the
 * schema's name) never return a publisher's secret. */
static const SecretSchema *
get_publisher_schema (void)
{
  static const SecretSchema schema = {
    "io.github.agendaline.Publisher", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "publisher", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

static gboolean
secret_service_present (GDBusConnection *bus)
{
  g_autoptr(GVariant) has_owner = NULL;
  g_autoptr(GVariant) activatable = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree const char **names = NULL;
  gboolean owned = FALSE;

  if (bus == NULL)
    return FALSE;

  /* Called once at start-up, before the daemon serves anything. */
  has_owner = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameHasOwner",
                                           g_variant_new ("(s)", SECRETS_BUS_NAME),
                                           G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
                                           5000, NULL, &error);
  if (has_owner == NULL)
    {
      g_warning ("Cannot ask the session bus for the Secret Service: %s", error->message);
      return FALSE;
    }
  g_variant_get (has_owner, "(b)", &owned);
  if (owned)
    return TRUE;

  activatable = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "ListActivatableNames",
                                             NULL, G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                                             5000, NULL, &error);
  if (activatable == NULL)
    return FALSE;
  g_variant_get (activatable, "(^a&s)", &names);
  return g_strv_contains (names, SECRETS_BUS_NAME);
}

static char *
file_key (const char *account)
{
  /* Key file keys may not hold "=", "[" or newlines; account names may. */
  return g_uri_escape_string (account, NULL, FALSE);
}

static GKeyFile *
file_load (AglSecrets *self,
           GError    **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  if (!g_key_file_load_from_file (key_file, self->fallback_path, G_KEY_FILE_NONE, &local_error) &&
      !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_SECRET,
                   _("Cannot read the password file “%s”: %s"),
                   self->fallback_path, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&key_file);
}

static gboolean
file_save (AglSecrets *self,
           GKeyFile   *key_file,
           GError    **error)
{
  g_autofree char *data = NULL;
  g_autofree char *dir = g_path_get_dirname (self->fallback_path);
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;

  data = g_key_file_to_data (key_file, &length, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      !g_file_set_contents_full (self->fallback_path, data, length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_SECRET,
                   _("Cannot write the password file “%s”: %s"),
                   self->fallback_path,
                   local_error ? local_error->message : g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
file_store (AglSecrets *self,
            const char *account,
            const char *password,
            GError    **error)
{
  g_autoptr(GKeyFile) key_file = file_load (self, error);
  g_autofree char *key = file_key (account);

  if (key_file == NULL)
    return FALSE;
  g_key_file_set_string (key_file, FILE_GROUP, key, password);
  return file_save (self, key_file, error);
}

static char *
file_publisher_key (const char *account,
                    const char *publisher)
{
  g_autofree char *account_key = file_key (account);
  g_autofree char *publisher_key = file_key (publisher);

  /* "/" is escaped in both parts, so the key reads back one way only. */
  return g_strconcat (account_key, "/", publisher_key, NULL);
}

static gboolean
file_clear (AglSecrets *self,
            const char *account,
            GError    **error)
{
  g_autoptr(GKeyFile) key_file = file_load (self, error);
  g_autofree char *key = file_key (account);

  if (key_file == NULL)
    return FALSE;
  if (!g_key_file_has_key (key_file, FILE_GROUP, key, NULL))
    return TRUE;
  g_key_file_remove_key (key_file, FILE_GROUP, key, NULL);
  return file_save (self, key_file, error);
}

static void
set_secret_error (GTask  *task,
                  GError *error)
{
  g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_SECRET,
                           _("The Secret Service refused the password: %s"),
                           error->message);
}

/* Store and clear answer TRUE or the error of the backend that did the
 * work, as only the Secret Service's errors need saying where they came
 * from.  Takes @error; %NULL means the work was done. */
static void
return_done (GTask    *task,
             gboolean  from_service,
             GError   *error)
{
  g_autoptr(GError) owned = error;

  if (owned == NULL)
    g_task_return_boolean (task, TRUE);
  else if (from_service)
    set_secret_error (task, owned);
  else
    g_task_return_error (task, g_steal_pointer (&owned));
}

static void
service_store_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  secret_password_store_finish (result, &error);
  return_done (task, TRUE, g_steal_pointer (&error));
}

static void
service_lookup_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *password;

  password = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    {
      set_secret_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_strdup (password), g_free);
  secret_password_free (password);
}

static void
service_clear_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* FALSE without an error only means there was nothing to clear. */
  secret_password_clear_finish (result, &error);
  return_done (task, TRUE, g_steal_pointer (&error));
}

static void
service_search_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GList *found;

  found = secret_password_search_finish (result, &error);
  if (error != NULL)
    {
      set_secret_error (task, error);
      return;
    }
  for (GList *l = found; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_retrievable_get_attributes (l->data);
      const char *account = g_hash_table_lookup (attributes, "account");

      if (account != NULL)
        g_hash_table_add (accounts, g_strdup (account));
    }
  g_list_free_full (found, g_object_unref);
  g_task_return_pointer (task, g_steal_pointer (&accounts), (GDestroyNotify) g_hash_table_unref);
}

static void
agl_secrets_finalize (GObject *object)
{
  AglSecrets *self = AGL_SECRETS (object);

  g_free (self->fallback_path);
  G_OBJECT_CLASS (agl_secrets_parent_class)->finalize (object);
}

static void
agl_secrets_class_init (AglSecretsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = agl_secrets_finalize;
}

static void
agl_secrets_init (AglSecrets *self)
{
}

/**
 * agl_secrets_new:
 * @session_bus: (nullable): the session bus, to look for a Secret Service
 * @fallback_path: the key file to use when there is none
 *
 * Chooses where passwords go, once: the Secret Service when one runs on (or
 * can be activated on) @session_bus, otherwise @fallback_path, created with
 * mode 0600.
 *
 * Returns: (transfer full): a new #AglSecrets
 */
AglSecrets *
agl_secrets_new (GDBusConnection *session_bus,
                 const char      *fallback_path)
{
  AglSecrets *self = g_object_new (AGL_TYPE_SECRETS, NULL);

  self->fallback_path = g_strdup (fallback_path);
  if (secret_service_present (session_bus))
    {
      self->backend = AGL_SECRETS_BACKEND_SERVICE;
    }
  else
    {
      self->backend = AGL_SECRETS_BACKEND_FILE;
      g_warning ("No Secret Service on the session bus: account passwords are kept in %s, "
                 "readable only by this user", fallback_path);
    }
  return self;
}

/**
 * agl_secrets_get_backend:
 *
 * Returns: where passwords are kept.
 */
AglSecretsBackend
agl_secrets_get_backend (AglSecrets *self)
{
  g_return_val_if_fail (AGL_IS_SECRETS (self), AGL_SECRETS_BACKEND_FILE);
  return self->backend;
}

/**
 * agl_secrets_get_backend_name:
 *
 * Returns: "secret-service" or "file", as in the daemon's state.
 */
const char *
agl_secrets_get_backend_name (AglSecrets *self)
{
  return agl_secrets_get_backend (self) == AGL_SECRETS_BACKEND_SERVICE ? "secret-service" : "file";
}

/**
 * agl_secrets_store_async:
 * @account: the account name
 * @password: the password, replacing any stored one
 *
 * Stores @account's password.
 */
void
agl_secrets_store_async (AglSecrets          *self,
                         const char          *account,
                         const char          *password,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL && password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_store_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      g_autofree char *label = g_strdup_printf (_("Agendaline account “%s”"), account);

      secret_password_store (get_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                             cancellable, service_store_cb, g_steal_pointer (&task),
                             "account", account, NULL);
      return;
    }

  file_store (self, account, password, &error);
  return_done (task, FALSE, g_steal_pointer (&error));
}

gboolean
agl_secrets_store_finish (AglSecrets   *self,
                          GAsyncResult *result,
                          GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * agl_secrets_lookup_async:
 * @account: the account name
 *
 * Looks up @account's password; the result is %NULL without an error when
 * none is stored.
 */
void
agl_secrets_lookup_async (AglSecrets          *self,
                          const char          *account,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_lookup_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      secret_password_lookup (get_schema (), cancellable, service_lookup_cb,
                              g_steal_pointer (&task), "account", account, NULL);
      return;
    }

  key_file = file_load (self, &error);
  if (key_file == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  key = file_key (account);
  g_task_return_pointer (task, g_key_file_get_string (key_file, FILE_GROUP, key, NULL), g_free);
}

char *
agl_secrets_lookup_finish (AglSecrets   *self,
                           GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_secrets_clear_async:
 * @account: the account name
 *
 * Forgets @account's password; succeeds when there was none.
 */
void
agl_secrets_clear_async (AglSecrets          *self,
                         const char          *account,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_clear_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      secret_password_clear (get_schema (), cancellable, service_clear_cb,
                             g_steal_pointer (&task), "account", account, NULL);
      return;
    }

  file_clear (self, account, &error);
  return_done (task, FALSE, g_steal_pointer (&error));
}

gboolean
agl_secrets_clear_finish (AglSecrets   *self,
                          GAsyncResult *result,
                          GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * agl_secrets_list_async:
 *
 * Finds which accounts have a password stored, without reading any.
 */
void
agl_secrets_list_async (AglSecrets          *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GHashTable) accounts = NULL;
  g_auto(GStrv) keys = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_list_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      secret_password_search (get_schema (), SECRET_SEARCH_ALL, cancellable,
                              service_search_cb, g_steal_pointer (&task), NULL);
      return;
    }

  key_file = file_load (self, &error);
  if (key_file == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  keys = g_key_file_get_keys (key_file, FILE_GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    g_hash_table_add (accounts, g_uri_unescape_string (keys[i], NULL));
  g_task_return_pointer (task, g_steal_pointer (&accounts), (GDestroyNotify) g_hash_table_unref);
}

/**
 * agl_secrets_list_finish:
 *
 * Returns: (transfer full): a set of account names that have a password.
 */
GHashTable *
agl_secrets_list_finish (AglSecrets   *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_secrets_store_publisher_async:
 * @account: the account name
 * @publisher: the publisher's kind ("webhook", "sip")
 * @secret: the secret, replacing any stored one
 *
 * Stores the secret of one of @account's publishers.
 */
void
agl_secrets_store_publisher_async (AglSecrets          *self,
                                   const char          *account,
                                   const char          *publisher,
                                   const char          *secret,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL && publisher != NULL && secret != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_store_publisher_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      /* TRANSLATORS: the label of a secret in the keyring: "Agendaline account “work”, webhook" */
      g_autofree char *label = g_strdup_printf (_("Agendaline account “%s”, %s"), account, publisher);

      secret_password_store (get_publisher_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                             cancellable, service_store_cb, g_steal_pointer (&task),
                             "account", account, "publisher", publisher, NULL);
      return;
    }

  key_file = file_load (self, &error);
  if (key_file != NULL)
    {
      key = file_publisher_key (account, publisher);
      g_key_file_set_string (key_file, FILE_PUBLISHER_GROUP, key, secret);
      file_save (self, key_file, &error);
    }
  return_done (task, FALSE, g_steal_pointer (&error));
}

gboolean
agl_secrets_store_publisher_finish (AglSecrets   *self,
                                    GAsyncResult *result,
                                    GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * agl_secrets_lookup_publisher_async:
 * @account: the account name
 * @publisher: the publisher's kind
 *
 * Looks up the secret of one of @account's publishers; the result is
 * %NULL without an error when none is stored.
 */
void
agl_secrets_lookup_publisher_async (AglSecrets          *self,
                                    const char          *account,
                                    const char          *publisher,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL && publisher != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_lookup_publisher_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      secret_password_lookup (get_publisher_schema (), cancellable, service_lookup_cb,
                              g_steal_pointer (&task), "account", account,
                              "publisher", publisher, NULL);
      return;
    }

  key_file = file_load (self, &error);
  if (key_file == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  key = file_publisher_key (account, publisher);
  g_task_return_pointer (task, g_key_file_get_string (key_file, FILE_PUBLISHER_GROUP, key, NULL),
                         g_free);
}

char *
agl_secrets_lookup_publisher_finish (AglSecrets   *self,
                                     GAsyncResult *result,
                                     GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Removes @publisher's key of @account, or with %NULL every key of it. */
static gboolean
file_clear_publisher (AglSecrets *self,
                      const char *account,
                      const char *publisher,
                      GError    **error)
{
  g_autoptr(GKeyFile) key_file = file_load (self, error);
  g_autofree char *account_key = file_key (account);
  g_autofree char *prefix = g_strconcat (account_key, "/", NULL);
  g_auto(GStrv) keys = NULL;
  gboolean changed = FALSE;

  if (key_file == NULL)
    return FALSE;
  keys = g_key_file_get_keys (key_file, FILE_PUBLISHER_GROUP, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *publisher_key = publisher != NULL ? file_key (publisher) : NULL;

      if (!g_str_has_prefix (keys[i], prefix) ||
          (publisher_key != NULL && strcmp (keys[i] + strlen (prefix), publisher_key) != 0))
        continue;
      g_key_file_remove_key (key_file, FILE_PUBLISHER_GROUP, keys[i], NULL);
      changed = TRUE;
    }
  return !changed || file_save (self, key_file, error);
}

/**
 * agl_secrets_clear_publisher_async:
 * @account: the account name
 * @publisher: (nullable): the publisher's kind, or %NULL for all of them
 *
 * Forgets the secret of one of @account's publishers, or of all of them;
 * succeeds when there was none.
 */
void
agl_secrets_clear_publisher_async (AglSecrets          *self,
                                   const char          *account,
                                   const char          *publisher,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_SECRETS (self));
  g_return_if_fail (account != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_secrets_clear_publisher_async);

  if (self->backend == AGL_SECRETS_BACKEND_SERVICE)
    {
      if (publisher != NULL)
        secret_password_clear (get_publisher_schema (), cancellable, service_clear_cb,
                               g_steal_pointer (&task), "account", account,
                               "publisher", publisher, NULL);
      else
        secret_password_clear (get_publisher_schema (), cancellable, service_clear_cb,
                               g_steal_pointer (&task), "account", account, NULL);
      return;
    }

  file_clear_publisher (self, account, publisher, &error);
  return_done (task, FALSE, g_steal_pointer (&error));
}

gboolean
agl_secrets_clear_publisher_finish (AglSecrets   *self,
                                    GAsyncResult *result,
                                    GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
