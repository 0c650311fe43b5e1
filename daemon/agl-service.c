/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-dbus-generated.h"
#include "agl-error.h"
#include "agl-event.h"
#include "agl-ews-autodiscover.h"
#include "agl-ews-backend.h"
#include "agl-ews-error.h"
#include "agl-occurrences.h"
#include "agl-log.h"
#include "agl-presence.h"
#include "agl-publish-config.h"
#include "agl-publish-manager.h"
#include "agl-rules.h"
#include "agl-service.h"
#include "agl-sync-manager.h"
#include "agl-sync-verify.h"
#include "agl-time.h"

/* How long VerifyAccount waits for the whole round trip. */
#define VERIFY_TIMEOUT_SECONDS (5 * 60)

/*
 * The daemon's D-Bus face (data/io.github.agendaline.Daemon.xml).  Every
 * method checks its arguments here, at the boundary, and only then calls
 * into the store; a refused call leaves the store as it was.
 */

struct _AglService
{
  GObject       parent_instance;

  AglStore     *store;
  AglSecrets   *secrets;
  AglDaemon    *skeleton;
  GDateTime    *started;
  AglSyncManager *sync;
  AglPresenceTracker *presence;
  AglPublishManager *publish;
  AglLog       *log;

  /* Account names with a password operation in flight, so that two calls
   * for one name cannot interleave. */
  GHashTable   *busy_accounts;
};

G_DEFINE_FINAL_TYPE (AglService, agl_service, G_TYPE_OBJECT)

/* One account method waiting for the Secret Service. */
typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  AglAccount            *account;
  gboolean               is_new;
} AccountOp;

static void
account_op_free (AccountOp *op)
{
  g_hash_table_remove (op->self->busy_accounts, op->account->name);
  g_object_unref (op->self);
  g_object_unref (op->invocation);
  agl_account_free (op->account);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AccountOp, account_op_free)

static AccountOp *
account_op_new (AglService            *self,
                GDBusMethodInvocation *invocation,
                AglAccount            *account,
                gboolean               is_new)
{
  AccountOp *op = g_new0 (AccountOp, 1);

  op->self = g_object_ref (self);
  op->invocation = g_object_ref (invocation);
  op->account = account;
  op->is_new = is_new;
  g_hash_table_add (self->busy_accounts, g_strdup (account->name));
  return op;
}

static gboolean
return_error (GDBusMethodInvocation *invocation,
              GError                *error)
{
  g_dbus_method_invocation_return_gerror (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
refuse_busy_account (AglService            *self,
                     GDBusMethodInvocation *invocation,
                     const char            *name)
{
  if (!g_hash_table_contains (self->busy_accounts, name))
    return FALSE;
  g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_FAILED,
                                         _("The account “%s” is being changed; try again in a moment."),
                                         name);
  return TRUE;
}

static GVariant *
ids_to_variant (GArray *ids)
{
  if (ids == NULL)
    return g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, NULL, 0, sizeof (gint64));
  return g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, ids->data, ids->len, sizeof (gint64));
}

static GVariant *
account_to_variant (const AglAccount *account,
                    gboolean          has_password)
{
  g_autoptr(GDateTime) created = g_date_time_new_from_unix_utc (account->created);
  g_autofree char *created_text = g_date_time_format_iso8601 (created);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (account->name));
  g_variant_builder_add (&builder, "{sv}", "email", g_variant_new_string (account->email));
  g_variant_builder_add (&builder, "{sv}", "url", g_variant_new_string (account->url ? account->url : ""));
  g_variant_builder_add (&builder, "{sv}", "autodiscover", g_variant_new_boolean (account->autodiscover));
  g_variant_builder_add (&builder, "{sv}", "auth", g_variant_new_string (account->auth));
  g_variant_builder_add (&builder, "{sv}", "user", g_variant_new_string (account->user));
  g_variant_builder_add (&builder, "{sv}", "domain", g_variant_new_string (account->domain ? account->domain : ""));
  g_variant_builder_add (&builder, "{sv}", "server-version", g_variant_new_string (account->server_version));
  g_variant_builder_add (&builder, "{sv}", "ca-file", g_variant_new_string (account->ca_file ? account->ca_file : ""));
  g_variant_builder_add (&builder, "{sv}", "impersonate", g_variant_new_boolean (account->impersonate));
  g_variant_builder_add (&builder, "{sv}", "detected-server-version",
                         g_variant_new_string (account->detected_server_version ? account->detected_server_version : ""));
  g_variant_builder_add (&builder, "{sv}", "server-build",
                         g_variant_new_string (account->server_build ? account->server_build : ""));
  g_variant_builder_add (&builder, "{sv}", "conflict-policy",
                         g_variant_new_string (agl_conflict_policy_to_string (account->conflict_policy)));
  g_variant_builder_add (&builder, "{sv}", "poll-interval", g_variant_new_uint32 (account->poll_interval));
  g_variant_builder_add (&builder, "{sv}", "enabled", g_variant_new_boolean (account->enabled));
  g_variant_builder_add (&builder, "{sv}", "has-password", g_variant_new_boolean (has_password));
  g_variant_builder_add (&builder, "{sv}", "created", g_variant_new_string (created_text ? created_text : ""));
  return g_variant_builder_end (&builder);
}

static GVariant *
item_to_variant (const AglItem *item)
{
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;
  GVariantBuilder builder;

  if (item->all_day)
    {
      start = agl_time_format_date (item->start);
      end = agl_time_format_date (item->end);
    }
  else
    {
      start = agl_time_format_utc (item->start);
      end = agl_time_format_utc (item->end);
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_int64 (item->id));
  g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (item->account ? item->account : ""));
  g_variant_builder_add (&builder, "{sv}", "uid", g_variant_new_string (item->uid));
  g_variant_builder_add (&builder, "{sv}", "summary", g_variant_new_string (item->summary ? item->summary : ""));
  g_variant_builder_add (&builder, "{sv}", "start", g_variant_new_string (start));
  g_variant_builder_add (&builder, "{sv}", "end", g_variant_new_string (end));
  g_variant_builder_add (&builder, "{sv}", "all-day", g_variant_new_boolean (item->all_day));
  g_variant_builder_add (&builder, "{sv}", "recurring", g_variant_new_boolean (item->recurring));
  g_variant_builder_add (&builder, "{sv}", "ical", g_variant_new_string (item->ical));
  return g_variant_builder_end (&builder);
}

/* "" on the bus means "not set" for optional strings. */
static char *
dup_or_null (const char *text)
{
  return (text != NULL && *text != '\0') ? g_strdup (text) : NULL;
}

static gboolean
lookup_setting (GVariant           *settings,
                const char         *key,
                const GVariantType *type,
                GVariant          **out_value,
                GError            **error)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (settings, key, NULL);

  *out_value = NULL;
  if (value == NULL)
    return TRUE;
  if (!g_variant_is_of_type (value, type))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The setting “%s” must be of type “%s”, not “%s”."),
                   key, g_variant_type_peek_string (type), g_variant_get_type_string (value));
      return FALSE;
    }
  *out_value = g_steal_pointer (&value);
  return TRUE;
}

/*
 * Applies the a{sv} @settings to @account.  *@password is set when the
 * caller gave a "password" key ("" = forget it).
 */
static gboolean
apply_settings (AglAccount *account,
                GVariant   *settings,
                char      **password,
                GError    **error)
{
  static const char * const string_keys[] = {
    "email", "url", "auth", "user", "domain", "server-version", "ca-file", "password",
    "conflict-policy", NULL
  };
  static const char * const other_keys[] = {
    "autodiscover", "impersonate", "poll-interval", "confirm", NULL
  };
  g_autoptr(GVariant) url = NULL;
  g_autoptr(GVariant) autodiscover = NULL;
  g_autoptr(GVariant) impersonate = NULL;
  g_autoptr(GVariant) poll_interval = NULL;
  g_autoptr(GVariant) value = NULL;
  GVariantIter iter;
  const char *key;

  *password = NULL;

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    {
      if (!g_strv_contains (string_keys, key) && !g_strv_contains (other_keys, key))
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not an account setting."), key);
          return FALSE;
        }
    }

  for (guint i = 0; string_keys[i] != NULL; i++)
    if (!lookup_setting (settings, string_keys[i], G_VARIANT_TYPE_STRING, &value, error))
      return FALSE;
    else
      g_clear_pointer (&value, g_variant_unref);
  if (!lookup_setting (settings, "autodiscover", G_VARIANT_TYPE_BOOLEAN, &autodiscover, error) ||
      !lookup_setting (settings, "url", G_VARIANT_TYPE_STRING, &url, error) ||
      !lookup_setting (settings, "impersonate", G_VARIANT_TYPE_BOOLEAN, &impersonate, error) ||
      !lookup_setting (settings, "poll-interval", G_VARIANT_TYPE_UINT32, &poll_interval, error) ||
      !lookup_setting (settings, "confirm", G_VARIANT_TYPE_BOOLEAN, &value, error))
    return FALSE;
  g_clear_pointer (&value, g_variant_unref);

  if (g_variant_lookup (settings, "conflict-policy", "&s", &key) &&
      !agl_conflict_policy_from_string (key, &account->conflict_policy, error))
    return FALSE;
  if (poll_interval != NULL)
    account->poll_interval = g_variant_get_uint32 (poll_interval);

#define TAKE_STRING(name, field)                                              \
  G_STMT_START {                                                              \
    g_autoptr(GVariant) v = g_variant_lookup_value (settings, name, NULL);    \
    if (v != NULL)                                                            \
      {                                                                       \
        g_free (account->field);                                              \
        account->field = dup_or_null (g_variant_get_string (v, NULL));        \
      }                                                                       \
  } G_STMT_END

  TAKE_STRING ("email", email);
  TAKE_STRING ("auth", auth);
  TAKE_STRING ("user", user);
  TAKE_STRING ("domain", domain);
  TAKE_STRING ("server-version", server_version);
  TAKE_STRING ("ca-file", ca_file);
#undef TAKE_STRING

  /* An EWS URL and autodiscover exclude each other: giving one turns the
   * other off unless both are given, which validation then refuses. */
  if (url != NULL)
    {
      g_free (account->url);
      account->url = dup_or_null (g_variant_get_string (url, NULL));
      if (autodiscover == NULL)
        account->autodiscover = (account->url == NULL);
    }
  if (autodiscover != NULL)
    {
      account->autodiscover = g_variant_get_boolean (autodiscover);
      if (account->autodiscover && url == NULL)
        g_clear_pointer (&account->url, g_free);
    }

  if (impersonate != NULL)
    account->impersonate = g_variant_get_boolean (impersonate);

  if (g_variant_lookup (settings, "password", "s", password) && strlen (*password) > 4096)
    {
      g_clear_pointer (password, g_free);
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The password is longer than 4096 bytes."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_range_bound (const char *text,
                   gint64      unbounded,
                   gint64     *out,
                   GError    **error)
{
  if (*text == '\0')
    {
      *out = unbounded;
      return TRUE;
    }
  return agl_time_parse_iso8601 (text, out, error);
}

static gboolean
check_account_exists (AglService *self,
                      const char *name,
                      GError    **error)
{
  g_autoptr(AglAccount) account = NULL;

  if (name == NULL)
    return TRUE;
  account = agl_store_get_account (self->store, name, error);
  return account != NULL;
}

/* Signals from the store, forwarded to the bus. */

static void
store_agenda_changed_cb (AglStore   *store,
                         const char *account,
                         GArray     *created,
                         GArray     *updated,
                         GArray     *deleted,
                         AglService *self)
{
  g_info ("Agenda %s changed: %u created, %u updated, %u deleted",
          account ? account : "(local)",
          created ? created->len : 0, updated ? updated->len : 0, deleted ? deleted->len : 0);
  agl_daemon_emit_agenda_changed (self->skeleton, account ? account : "",
                                  ids_to_variant (created), ids_to_variant (updated),
                                  ids_to_variant (deleted));
  agl_daemon_emit_state_changed (self->skeleton);
}

static void
store_account_changed_cb (AglStore   *store,
                          const char *name,
                          int         change,
                          AglService *self)
{
  switch ((AglStoreAccountChange) change)
    {
    case AGL_STORE_ACCOUNT_ADDED:
      g_info ("Account %s added", name);
      agl_daemon_emit_account_added (self->skeleton, name);
      break;
    case AGL_STORE_ACCOUNT_CHANGED:
      g_info ("Account %s changed", name);
      agl_daemon_emit_account_changed (self->skeleton, name);
      break;
    case AGL_STORE_ACCOUNT_REMOVED:
      g_info ("Account %s removed", name);
      agl_daemon_emit_account_removed (self->skeleton, name);
      break;
    default:
      return;
    }
  agl_daemon_emit_state_changed (self->skeleton);
}

/* State */

static gboolean
handle_get_state_cb (AglDaemon             *skeleton,
                     GDBusMethodInvocation *invocation,
                     AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *started = g_date_time_format_iso8601 (self->started);
  guint n_accounts = 0, n_enabled = 0, n_items = 0;
  GVariantBuilder builder;

  if (!agl_store_count (self->store, &n_accounts, &n_enabled, &n_items, &error))
    return return_error (invocation, error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "version", g_variant_new_string (PACKAGE_VERSION));
  g_variant_builder_add (&builder, "{sv}", "database", g_variant_new_string (agl_store_get_path (self->store)));
  g_variant_builder_add (&builder, "{sv}", "schema-version", g_variant_new_int32 (agl_store_get_schema_version (self->store)));
  g_variant_builder_add (&builder, "{sv}", "accounts", g_variant_new_uint32 (n_accounts));
  g_variant_builder_add (&builder, "{sv}", "enabled-accounts", g_variant_new_uint32 (n_enabled));
  g_variant_builder_add (&builder, "{sv}", "items", g_variant_new_uint32 (n_items));
  g_variant_builder_add (&builder, "{sv}", "started", g_variant_new_string (started));
  g_variant_builder_add (&builder, "{sv}", "secret-storage", g_variant_new_string (agl_secrets_get_backend_name (self->secrets)));
  agl_daemon_complete_get_state (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Accounts */

static void
add_account_password_stored_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_secrets_store_finish (op->self->secrets, result, &error))
    {
      return_error (op->invocation, error);
      return;
    }

  if (op->is_new)
    {
      if (!agl_store_add_account (op->self->store, op->account, &error))
        {
          /* Leave no password behind for an account that does not exist. */
          agl_secrets_clear_async (op->self->secrets, op->account->name, NULL, NULL, NULL);
          return_error (op->invocation, error);
          return;
        }
      agl_daemon_complete_add_account (op->self->skeleton, op->invocation);
    }
  else
    {
      if (!agl_store_update_account (op->self->store, op->account, &error))
        {
          return_error (op->invocation, error);
          return;
        }
      agl_daemon_complete_update_account (op->self->skeleton, op->invocation);
    }
}

static void
update_account_password_cleared_cb (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_secrets_clear_finish (op->self->secrets, result, &error) ||
      !agl_store_update_account (op->self->store, op->account, &error))
    {
      return_error (op->invocation, error);
      return;
    }
  agl_daemon_complete_update_account (op->self->skeleton, op->invocation);
}

static gboolean
handle_add_account_cb (AglDaemon             *skeleton,
                       GDBusMethodInvocation *invocation,
                       const char            *name,
                       GVariant              *settings,
                       AglService            *self)
{
  g_autoptr(AglAccount) account = agl_account_new ();
  g_autoptr(AglAccount) existing = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;

  account->name = g_strdup (name);
  if (!agl_account_validate_name (name, &error) ||
      !apply_settings (account, settings, &password, &error))
    return return_error (invocation, error);
  if (account->user == NULL)
    account->user = g_strdup (account->email);
  if (!agl_account_validate (account, &error))
    return return_error (invocation, error);
  if (refuse_busy_account (self, invocation, name))
    return G_DBUS_METHOD_INVOCATION_HANDLED;

  existing = agl_store_get_account (self->store, name, NULL);
  if (existing != NULL)
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_EXISTS,
                                             _("An account named “%s” already exists."), name);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (password == NULL)
    {
      if (!agl_store_add_account (self->store, account, &error))
        return return_error (invocation, error);
      agl_daemon_complete_add_account (skeleton, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (*password == '\0')
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The password is empty."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* The password goes first: an account is never stored half-made. */
  agl_secrets_store_async (self->secrets, name, password, NULL,
                           add_account_password_stored_cb,
                           account_op_new (self, invocation, g_steal_pointer (&account), TRUE));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* A change of mailbox on an account that has synced waits for the user's
 * confirmation: first the new mailbox is counted, and the refusal says
 * what the change would do. */
typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  AglAccount            *old;
  AglAccount            *account;
  AglSyncInfo            info;
} PreviewOp;

static void
preview_op_free (PreviewOp *op)
{
  g_object_unref (op->self);
  g_object_unref (op->invocation);
  agl_account_free (op->old);
  agl_account_free (op->account);
  agl_sync_info_clear (&op->info);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PreviewOp, preview_op_free)

static void
preview_counted_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PreviewOp) op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) message = g_string_new (NULL);
  guint n_remote = 0;

  g_string_append_printf (message, _("The account “%s” would follow the mailbox %s instead of %s. "),
                          op->account->name, op->account->email, op->old->email);
  g_string_append_printf (message,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "Its agenda holds %u appointment from %s: ",
                                       "Its agenda holds %u appointments from %s: ",
                                       op->info.n_linked),
                          op->info.n_linked, op->old->email);
  g_string_append_printf (message, _("those that %s does not also have leave the agenda and are "
                                     "kept as conflict records (they stay in %s). "),
                          op->account->email, op->old->email);
  if (agl_sync_manager_count_remote_finish (AGL_SYNC_MANAGER (source), result, &n_remote, &error))
    g_string_append_printf (message,
                            g_dngettext (GETTEXT_PACKAGE,
                                         "%s has %u appointment, which comes into the agenda. ",
                                         "%s has %u appointments, which come into the agenda. ",
                                         n_remote),
                            op->account->email, n_remote);
  else
    g_string_append_printf (message, _("%s could not be looked at (%s). "),
                            op->account->email, error->message);
  if (op->info.n_pending > 0)
    g_string_append_printf (message,
                            g_dngettext (GETTEXT_PACKAGE,
                                         "%u local change not yet on Exchange goes to %s. ",
                                         "%u local changes not yet on Exchange go to %s. ",
                                         op->info.n_pending),
                            op->info.n_pending, op->account->email);
  g_string_append (message, _("Nothing else is created in or deleted from either mailbox. "
                              "Confirm the change to go ahead."));
  g_dbus_method_invocation_return_error_literal (op->invocation, AGL_ERROR,
                                                 AGL_ERROR_CONFIRMATION_NEEDED, message->str);
}

static gboolean
mailbox_changes (const AglAccount *old,
                 const AglAccount *account)
{
  return g_ascii_strcasecmp (old->email, account->email) != 0;
}

static gboolean
handle_update_account_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          GVariant              *settings,
                          AglService            *self)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(AglAccount) old = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;
  gboolean confirm = FALSE;

  account = agl_store_get_account (self->store, name, &error);
  if (account == NULL)
    return return_error (invocation, error);
  old = agl_account_copy (account);
  if (!apply_settings (account, settings, &password, &error) ||
      !agl_account_validate (account, &error))
    return return_error (invocation, error);
  if (refuse_busy_account (self, invocation, name))
    return G_DBUS_METHOD_INVOCATION_HANDLED;

  g_variant_lookup (settings, "confirm", "b", &confirm);
  if (!confirm && mailbox_changes (old, account))
    {
      g_auto(AglSyncInfo) info = { 0 };

      if (!agl_store_get_sync_info (self->store, name, "", &info, &error))
        return return_error (invocation, error);
      if (info.n_linked > 0)
        {
          PreviewOp *op = g_new0 (PreviewOp, 1);

          op->self = g_object_ref (self);
          op->invocation = g_object_ref (invocation);
          op->old = g_steal_pointer (&old);
          op->account = g_steal_pointer (&account);
          op->info = info;
          memset (&info, 0, sizeof info);
          agl_sync_manager_count_remote_async (self->sync, op->account, NULL, preview_counted_cb,
                                               op);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
    }

  if (password == NULL)
    {
      if (!agl_store_update_account (self->store, account, &error))
        return return_error (invocation, error);
      agl_daemon_complete_update_account (skeleton, invocation);
    }
  else if (*password == '\0')
    {
      agl_secrets_clear_async (self->secrets, name, NULL, update_account_password_cleared_cb,
                               account_op_new (self, invocation, g_steal_pointer (&account), FALSE));
    }
  else
    {
      agl_secrets_store_async (self->secrets, name, password, NULL, add_account_password_stored_cb,
                               account_op_new (self, invocation, g_steal_pointer (&account), FALSE));
    }
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The publishers' secrets go last; the reply waits for them, so that a
 * client that removed an account knows its secrets are gone. */
static void
remove_account_publisher_secrets_cleared_cb (GObject      *source,
                                             GAsyncResult *result,
                                             gpointer      user_data)
{
  g_autoptr(AccountOp) op = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_secrets_clear_publisher_finish (op->self->secrets, result, &error))
    g_warning ("Account %s removed, but its publishers' secrets could not be forgotten: %s",
               op->account->name, error->message);
  agl_daemon_complete_remove_account (op->self->skeleton, op->invocation);
}

static void
remove_account_password_cleared_cb (GObject      *source,
                                    GAsyncResult *result,
                                    gpointer      user_data)
{
  AccountOp *op = user_data;
  g_autoptr(GError) error = NULL;

  /* The account is gone either way; a password left behind is only
   * worth a warning. */
  if (!agl_secrets_clear_finish (op->self->secrets, result, &error))
    g_warning ("Account %s removed, but its password could not be forgotten: %s",
               op->account->name, error->message);
  agl_secrets_clear_publisher_async (op->self->secrets, op->account->name, NULL, NULL,
                                     remove_account_publisher_secrets_cleared_cb, op);
}

static gboolean
handle_remove_account_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          AglService            *self)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  if (refuse_busy_account (self, invocation, name))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  account = agl_store_get_account (self->store, name, &error);
  if (account == NULL || !agl_store_remove_account (self->store, name, &error))
    return return_error (invocation, error);

  agl_secrets_clear_async (self->secrets, name, NULL, remove_account_password_cleared_cb,
                           account_op_new (self, invocation, g_steal_pointer (&account), FALSE));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
set_account_enabled (AglService            *self,
                     GDBusMethodInvocation *invocation,
                     const char            *name,
                     gboolean               enabled)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  account = agl_store_get_account (self->store, name, &error);
  if (account == NULL)
    return return_error (invocation, error);
  if (account->enabled != enabled)
    {
      account->enabled = enabled;
      if (!agl_store_update_account (self->store, account, &error))
        return return_error (invocation, error);
    }
  g_dbus_method_invocation_return_value (invocation, NULL);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_enable_account_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          AglService            *self)
{
  return set_account_enabled (self, invocation, name, TRUE);
}

static gboolean
handle_disable_account_cb (AglDaemon             *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *name,
                           AglService            *self)
{
  return set_account_enabled (self, invocation, name, FALSE);
}

typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
} ListAccountsOp;

static void
list_accounts_secrets_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  ListAccountsOp *op = user_data;
  g_autoptr(GHashTable) with_password = NULL;
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  with_password = agl_secrets_list_finish (op->self->secrets, result, &error);
  if (with_password == NULL)
    {
      /* Not knowing which accounts have a password is no reason to hide
       * the accounts. */
      g_warning ("Cannot list stored passwords: %s", error->message);
      g_clear_error (&error);
    }

  accounts = agl_store_list_accounts (op->self->store, &error);
  if (accounts == NULL)
    {
      return_error (op->invocation, error);
      goto out;
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < accounts->len; i++)
    {
      const AglAccount *account = g_ptr_array_index (accounts, i);
      gboolean has_password = with_password != NULL &&
                              g_hash_table_contains (with_password, account->name);

      g_variant_builder_add_value (&builder, account_to_variant (account, has_password));
    }
  agl_daemon_complete_list_accounts (op->self->skeleton, op->invocation,
                                     g_variant_builder_end (&builder));

out:
  g_object_unref (op->invocation);
  g_object_unref (op->self);
  g_free (op);
}

static gboolean
handle_list_accounts_cb (AglDaemon             *skeleton,
                         GDBusMethodInvocation *invocation,
                         AglService            *self)
{
  ListAccountsOp *op = g_new0 (ListAccountsOp, 1);

  op->self = g_object_ref (self);
  op->invocation = g_object_ref (invocation);
  agl_secrets_list_async (self->secrets, NULL, list_accounts_secrets_cb, op);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* TestAccount: sign in and read the calendar folder, storing nothing */

typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  AglAccount            *account;
  AglEwsConnection      *connection;
  AglRemote             *remote;
} TestAccountOp;

static void
test_account_op_free (TestAccountOp *op)
{
  g_object_unref (op->self);
  g_object_unref (op->invocation);
  agl_account_free (op->account);
  g_clear_object (&op->connection);
  g_clear_object (&op->remote);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestAccountOp, test_account_op_free)

/* Stores what the test learnt about the server on the account, for the
 * next connection and for clients to show.  A failure to store it does not
 * fail the test: the connection worked, and the next one learns again. */
static void
remember_server (TestAccountOp *op,
                 const char    *server_version,
                 const char    *server_build)
{
  g_autoptr(GError) error = NULL;
  gboolean auto_version = g_strcmp0 (op->account->server_version, "auto") == 0;

  /* A version chosen by the user is not learnt; only the build is. */
  if (!agl_store_set_account_server (op->self->store, op->account,
                                     auto_version ? server_version : NULL, server_build,
                                     &error))
    g_warning ("Could not remember the server of account “%s”: %s",
               op->account->name, error->message);
}

static void
test_account_done_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TestAccountOp) op = user_data;
  g_autoptr(AglRemoteInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  info = agl_remote_test_connection_finish (AGL_REMOTE (source), result, &error);
  if (info == NULL)
    {
      g_message ("Testing account “%s” failed: %s", op->account->name, error->message);
      /* A remembered version the server no longer speaks (it was
       * downgraded, or another server took over the URL) would fail every
       * time: forget it, so that the next attempt learns afresh. */
      if (g_error_matches (error, AGL_EWS_ERROR, AGL_EWS_ERROR_INVALID_SERVER_VERSION) &&
          op->account->detected_server_version != NULL)
        remember_server (op, NULL, NULL);
      return_error (op->invocation, error);
      return;
    }
  remember_server (op, agl_ews_connection_get_server_version (op->connection),
                   agl_ews_connection_get_server_build (op->connection));
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "url", g_variant_new_string (info->url));
  g_variant_builder_add (&builder, "{sv}", "server-version",
                         g_variant_new_string (info->server_version));
  g_variant_builder_add (&builder, "{sv}", "product", g_variant_new_string (info->product));
  g_variant_builder_add (&builder, "{sv}", "mailbox", g_variant_new_string (info->mailbox));
  g_variant_builder_add (&builder, "{sv}", "impersonation",
                         g_variant_new_string (info->impersonation));
  g_variant_builder_add (&builder, "{sv}", "calendar-folder",
                         g_variant_new_string (info->calendar_folder));
  agl_daemon_complete_test_account (op->self->skeleton, op->invocation,
                                    g_variant_builder_end (&builder));
}

static void
test_account_run (TestAccountOp *op)
{
  op->remote = agl_ews_backend_new (op->connection);
  agl_remote_test_connection_async (op->remote, NULL, test_account_done_cb, op);
}

static void
test_account_autodiscovered_cb (GObject      *source,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(TestAccountOp) op = user_data;
  g_autoptr(AglEwsAutodiscover) found = NULL;
  g_autoptr(GError) error = NULL;

  found = agl_ews_autodiscover_finish (op->connection, result, &error);
  if (found == NULL)
    {
      return_error (op->invocation, error);
      return;
    }
  agl_ews_connection_set_url (op->connection, found->ews_url);
  test_account_run (g_steal_pointer (&op));
}

static void
test_account_password_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(TestAccountOp) op = user_data;
  g_autoptr(GError) error = NULL;
  char *password;

  password = agl_secrets_lookup_finish (op->self->secrets, result, &error);
  if (error != NULL)
    {
      return_error (op->invocation, error);
      return;
    }
  if (password == NULL)
    {
      g_dbus_method_invocation_return_error (op->invocation, AGL_ERROR, AGL_ERROR_FAILED,
                                             _("No password is stored for the account “%s”; set one with “agendalinectl account update %s --password-stdin”."),
                                             op->account->name, op->account->name);
      return;
    }
  op->connection = agl_ews_connection_new (op->account, password, &error);
  /* The connection keeps its own copy; this one goes at once. */
  explicit_bzero (password, strlen (password));
  g_free (password);
  if (op->connection == NULL)
    {
      return_error (op->invocation, error);
      return;
    }
  if (op->account->url == NULL || *op->account->url == '\0')
    {
      /* op is read before it is handed on: the order in which arguments
       * are evaluated is unspecified. */
      TestAccountOp *pending = g_steal_pointer (&op);

      agl_ews_autodiscover_async (pending->connection, pending->account->email, NULL, NULL,
                                  test_account_autodiscovered_cb, pending);
      return;
    }
  test_account_run (g_steal_pointer (&op));
}

static gboolean
handle_test_account_cb (AglDaemon             *skeleton,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        AglService            *self)
{
  g_autoptr(AglAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  TestAccountOp *op;

  account = agl_store_get_account (self->store, name, &error);
  if (account == NULL)
    return return_error (invocation, error);

  op = g_new0 (TestAccountOp, 1);
  op->self = g_object_ref (self);
  op->invocation = g_object_ref (invocation);
  op->account = g_steal_pointer (&account);
  agl_secrets_lookup_async (self->secrets, name, NULL, test_account_password_cb, op);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Agenda */

static gboolean
handle_list_items_cb (AglDaemon             *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *from_text,
                      const char            *to_text,
                      const char            *account,
                      AglService            *self)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  const char *account_filter = *account != '\0' ? account : NULL;
  gint64 from, to;
  GVariantBuilder builder;

  if (!parse_range_bound (from_text, G_MININT64, &from, &error) ||
      !parse_range_bound (to_text, G_MAXINT64, &to, &error))
    return return_error (invocation, error);
  if (to < from)
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The end of the range (%s) is before its start (%s)."),
                                             to_text, from_text);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!check_account_exists (self, account_filter, &error))
    return return_error (invocation, error);

  items = agl_store_list_items (self->store, account_filter, from, to, &error);
  if (items == NULL)
    return return_error (invocation, error);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < items->len; i++)
    g_variant_builder_add_value (&builder, item_to_variant (g_ptr_array_index (items, i)));
  agl_daemon_complete_list_items (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Longer ranges are refused: the client gets a year at a time, and one
 * call's work (and reply) stays bounded even with endless series. */
#define OCCURRENCES_MAX_RANGE_DAYS 366

/* One occurrence of one listed appointment, while they are sorted. */
typedef struct {
  const AglItem *item;
  AglOccurrence *occurrence;
} ListedOccurrence;

static int
compare_listed_occurrences (gconstpointer a,
                            gconstpointer b)
{
  const ListedOccurrence *x = a;
  const ListedOccurrence *y = b;

  if (x->occurrence->start != y->occurrence->start)
    return x->occurrence->start < y->occurrence->start ? -1 : 1;
  if (x->item->id != y->item->id)
    return x->item->id < y->item->id ? -1 : 1;
  return (x->occurrence->recurrence_id > y->occurrence->recurrence_id) -
         (x->occurrence->recurrence_id < y->occurrence->recurrence_id);
}

/* As ListItems formats times: dates for all-day, UTC instants otherwise. */
static char *
format_occurrence_time (gint64   time,
                        gboolean all_day)
{
  char *text = all_day ? agl_time_format_date (time) : agl_time_format_utc (time);

  return text != NULL ? text : g_strdup ("");
}

static GVariant *
occurrence_to_variant (const AglItem       *item,
                       const AglOccurrence *occurrence)
{
  g_autofree char *start = format_occurrence_time (occurrence->start, occurrence->all_day);
  g_autofree char *end = format_occurrence_time (occurrence->end, occurrence->all_day);
  g_autofree char *recurrence_id = NULL;
  GVariantBuilder builder;

  recurrence_id = occurrence->recurrence_id != 0
    ? format_occurrence_time (occurrence->recurrence_id, occurrence->all_day)
    : g_strdup ("");

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_int64 (item->id));
  g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (item->account ? item->account : ""));
  g_variant_builder_add (&builder, "{sv}", "uid", g_variant_new_string (item->uid));
  g_variant_builder_add (&builder, "{sv}", "summary", g_variant_new_string (occurrence->summary));
  g_variant_builder_add (&builder, "{sv}", "start", g_variant_new_string (start));
  g_variant_builder_add (&builder, "{sv}", "end", g_variant_new_string (end));
  g_variant_builder_add (&builder, "{sv}", "all-day", g_variant_new_boolean (occurrence->all_day));
  g_variant_builder_add (&builder, "{sv}", "recurrence-id", g_variant_new_string (recurrence_id));
  g_variant_builder_add (&builder, "{sv}", "exception", g_variant_new_boolean (occurrence->exception));
  g_variant_builder_add (&builder, "{sv}", "busy-status", g_variant_new_string (occurrence->busy_status));
  return g_variant_builder_end (&builder);
}

static gboolean
parse_occurrence_range (const char  *from_text,
                        const char  *to_text,
                        gint64      *out_from,
                        gint64      *out_to,
                        GError     **error)
{
  if (*from_text == '\0' || *to_text == '\0')
    {
      g_set_error_literal (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("Give both the start and the end of the range: the occurrences of a repeating appointment can only be listed for a limited time."));
      return FALSE;
    }
  if (!agl_time_parse_iso8601 (from_text, out_from, error) ||
      !agl_time_parse_iso8601 (to_text, out_to, error))
    return FALSE;
  if (*out_to < *out_from)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The end of the range (%s) is before its start (%s)."),
                   to_text, from_text);
      return FALSE;
    }
  if (*out_to - *out_from > (gint64) OCCURRENCES_MAX_RANGE_DAYS * 24 * 60 * 60)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The range from %s to %s is longer than %d days; list the occurrences a year at a time."),
                   from_text, to_text, OCCURRENCES_MAX_RANGE_DAYS);
      return FALSE;
    }
  return TRUE;
}

static gboolean
handle_list_occurrences_cb (AglDaemon             *skeleton,
                            GDBusMethodInvocation *invocation,
                            const char            *from_text,
                            const char            *to_text,
                            const char            *account,
                            AglService            *self)
{
  g_autoptr(GPtrArray) items = NULL;
  /* Owns the occurrences that @listed points to. */
  g_autoptr(GPtrArray) expansions = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GArray) listed = g_array_new (FALSE, FALSE, sizeof (ListedOccurrence));
  g_autoptr(GError) error = NULL;
  const char *account_filter = *account != '\0' ? account : NULL;
  gint64 from, to;
  GVariantBuilder builder;

  if (!parse_occurrence_range (from_text, to_text, &from, &to, &error) ||
      !check_account_exists (self, account_filter, &error))
    return return_error (invocation, error);

  items = agl_store_list_items (self->store, account_filter, from, to, &error);
  if (items == NULL)
    return return_error (invocation, error);

  for (guint i = 0; i < items->len; i++)
    {
      const AglItem *item = g_ptr_array_index (items, i);
      g_autoptr(GError) item_error = NULL;
      GPtrArray *occurrences = agl_occurrences_expand (item->ical, from, to, &item_error);

      /* The store checked the text when it took it; what fails now (a
       * series too dense to expand, a zone libical no longer knows) must
       * not take the rest of the agenda with it. */
      if (occurrences == NULL)
        {
          g_warning ("Leaving appointment %" G_GINT64_FORMAT " (UID %s) out of ListOccurrences: %s",
                     item->id, item->uid, item_error->message);
          continue;
        }
      g_ptr_array_add (expansions, occurrences);
      for (guint j = 0; j < occurrences->len; j++)
        {
          ListedOccurrence entry = { item, g_ptr_array_index (occurrences, j) };

          g_array_append_val (listed, entry);
        }
    }
  g_array_sort (listed, compare_listed_occurrences);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < listed->len; i++)
    {
      const ListedOccurrence *entry = &g_array_index (listed, ListedOccurrence, i);

      g_variant_builder_add_value (&builder, occurrence_to_variant (entry->item, entry->occurrence));
    }
  agl_daemon_complete_list_occurrences (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
check_item_id (gint64   id,
               GError **error)
{
  if (id > 0)
    return TRUE;
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
               _("“%lld” is not an appointment id; ids are positive numbers."), (long long) id);
  return FALSE;
}

static gboolean
handle_get_item_cb (AglDaemon             *skeleton,
                    GDBusMethodInvocation *invocation,
                    gint64                 id,
                    AglService            *self)
{
  g_autoptr(AglItem) item = NULL;
  g_autoptr(GError) error = NULL;

  if (!check_item_id (id, &error))
    return return_error (invocation, error);
  item = agl_store_get_item (self->store, id, &error);
  if (item == NULL)
    return return_error (invocation, error);
  agl_daemon_complete_get_item (skeleton, invocation, item_to_variant (item));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_create_item_cb (AglDaemon             *skeleton,
                       GDBusMethodInvocation *invocation,
                       const char            *account,
                       const char            *ical,
                       AglService            *self)
{
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglItem) item = NULL;
  g_autoptr(GError) error = NULL;
  const char *account_name = *account != '\0' ? account : NULL;

  if (!check_account_exists (self, account_name, &error))
    return return_error (invocation, error);
  event = agl_event_new_from_string (ical, &error);
  if (event == NULL)
    return return_error (invocation, error);

  item = agl_event_to_item (event, account_name);
  if (!agl_store_add_item (self->store, item, &error))
    return return_error (invocation, error);
  agl_sync_manager_wake (self->sync, account_name);
  agl_daemon_complete_create_item (skeleton, invocation, item->id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_update_item_cb (AglDaemon             *skeleton,
                       GDBusMethodInvocation *invocation,
                       gint64                 id,
                       const char            *ical,
                       AglService            *self)
{
  g_autoptr(AglItem) existing = NULL;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglItem) item = NULL;
  g_autoptr(GError) error = NULL;

  if (!check_item_id (id, &error))
    return return_error (invocation, error);
  existing = agl_store_get_item (self->store, id, &error);
  if (existing == NULL)
    return return_error (invocation, error);

  event = agl_event_new_from_string_with_uid (ical, existing->uid, &error);
  if (event == NULL)
    return return_error (invocation, error);
  if (g_strcmp0 (agl_event_get_uid (event), existing->uid) != 0)
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_CALENDAR,
                                             _("Appointment %lld has the UID “%s”; the new text has “%s”. "
                                               "The UID of an appointment cannot change: add it as a new appointment instead."),
                                             (long long) id, existing->uid, agl_event_get_uid (event));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  item = agl_event_to_item (event, existing->account);
  item->id = id;
  if (!agl_store_update_item (self->store, item, &error))
    return return_error (invocation, error);
  agl_sync_manager_wake (self->sync, item->account);
  agl_daemon_complete_update_item (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_delete_item_cb (AglDaemon             *skeleton,
                       GDBusMethodInvocation *invocation,
                       gint64                 id,
                       AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglItem) item = NULL;

  if (!check_item_id (id, &error) ||
      (item = agl_store_get_item (self->store, id, &error)) == NULL ||
      !agl_store_delete_item (self->store, id, &error))
    return return_error (invocation, error);
  agl_sync_manager_wake (self->sync, item->account);
  agl_daemon_complete_delete_item (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_import_calendar_cb (AglDaemon             *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *account,
                           const char            *ics,
                           AglService            *self)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) updated = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  const char *account_name = *account != '\0' ? account : NULL;

  if (!check_account_exists (self, account_name, &error))
    return return_error (invocation, error);
  events = agl_event_list_from_ics (ics, &error);
  if (events == NULL)
    return return_error (invocation, error);

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (items, agl_event_to_item (g_ptr_array_index (events, i), account_name));

  if (!agl_store_import_items (self->store, account_name, items, created, updated,
                               NULL, NULL, &error))
    return return_error (invocation, error);

  g_info ("Imported %u appointments into %s", items->len, account_name ? account_name : "(local)");
  agl_sync_manager_wake (self->sync, account_name);
  agl_daemon_complete_import_calendar (skeleton, invocation,
                                       ids_to_variant (created), ids_to_variant (updated));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_export_calendar_cb (AglDaemon             *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *account,
                           AglService            *self)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GPtrArray) icals = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *ics = NULL;
  const char *account_filter = *account != '\0' ? account : NULL;

  if (!check_account_exists (self, account_filter, &error))
    return return_error (invocation, error);
  items = agl_store_list_items (self->store, account_filter, G_MININT64, G_MAXINT64, &error);
  if (items == NULL)
    return return_error (invocation, error);

  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (icals, ((AglItem *) g_ptr_array_index (items, i))->ical);
  ics = agl_event_export (icals, &error);
  if (ics == NULL)
    return return_error (invocation, error);
  agl_daemon_complete_export_calendar (skeleton, invocation, ics);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Sync */

static AglSyncEngine *
lookup_engine (AglService  *self,
               const char  *name,
               GError     **error)
{
  g_autoptr(AglAccount) account = agl_store_get_account (self->store, name, error);
  AglSyncEngine *engine;

  if (account == NULL)
    return NULL;
  engine = agl_sync_manager_get_engine (self->sync, name);
  if (engine == NULL)
    g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                 account->enabled ? _("The account “%s” is not syncing yet; try again in a moment.")
                                  : _("The account “%s” is disabled; enable it to sync."),
                 name);
  return engine;
}

/* A failure of the server crosses the bus as Remote, with its message. */
static GError *
remote_error (GError *error)
{
  GError *remote;

  if (error->domain == AGL_ERROR)
    return error;
  remote = g_error_new_literal (AGL_ERROR, AGL_ERROR_REMOTE, error->message);
  g_error_free (error);
  return remote;
}

typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  char                  *name;
} SyncOp;

static void
sync_op_free (SyncOp *op)
{
  g_object_unref (op->self);
  g_object_unref (op->invocation);
  g_free (op->name);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncOp, sync_op_free)

static SyncOp *
sync_op_new (AglService            *self,
             GDBusMethodInvocation *invocation,
             const char            *name)
{
  SyncOp *op = g_new0 (SyncOp, 1);

  op->self = g_object_ref (self);
  op->invocation = g_object_ref (invocation);
  op->name = g_strdup (name);
  return op;
}

static guint
count_items (AglService *self,
             const char *name)
{
  g_auto(AglSyncInfo) info = { 0 };

  if (!agl_store_get_sync_info (self->store, name, "", &info, NULL))
    return 0;
  return info.n_items;
}

static void
synced_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(SyncOp) op = user_data;
  GError *error = NULL;
  AglSyncReport report;
  GVariantBuilder builder;

  if (!agl_sync_engine_sync_finish (AGL_SYNC_ENGINE (source), result, &report, &error))
    {
      g_dbus_method_invocation_take_error (g_steal_pointer (&op->invocation), remote_error (error));
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "received", g_variant_new_uint32 (report.received));
  g_variant_builder_add (&builder, "{sv}", "sent", g_variant_new_uint32 (report.sent));
  g_variant_builder_add (&builder, "{sv}", "conflicts", g_variant_new_uint32 (report.conflicts));
  g_variant_builder_add (&builder, "{sv}", "items",
                         g_variant_new_uint32 (count_items (op->self, op->name)));
  g_variant_builder_add (&builder, "{sv}", "seconds", g_variant_new_double (report.seconds));
  agl_daemon_complete_sync_account (op->self->skeleton, op->invocation,
                                    g_variant_builder_end (&builder));
}

static gboolean
handle_sync_account_cb (AglDaemon             *skeleton,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        gboolean               wait,
                        AglService            *self)
{
  g_autoptr(GError) error = NULL;
  AglSyncEngine *engine = lookup_engine (self, name, &error);

  if (engine == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  if (!wait)
    {
      agl_sync_engine_wake (engine);
      agl_daemon_complete_sync_account (skeleton, invocation,
                                        g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  agl_sync_engine_sync_async (engine, NULL, synced_cb, sync_op_new (self, invocation, name));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static const char *
status_name (AglSyncStatus status)
{
  static const char * const names[] = { "connecting", "syncing", "online", "offline" };

  return names[status];
}

static const char *
notify_name (AglSyncNotify notify)
{
  static const char * const names[] = { "", "streaming", "pull", "polling" };

  return names[notify];
}

static GVariant *
connection_to_variant (AglService       *self,
                       const AglAccount *account)
{
  AglSyncEngine *engine = agl_sync_manager_get_engine (self->sync, account->name);
  g_auto(AglSyncConnection) connection = { 0 };
  g_auto(AglSyncInfo) info = { 0 };
  g_autofree char *last_sync = NULL;
  const char *identity = engine != NULL ? agl_sync_engine_get_identity (engine) : NULL;
  GVariantBuilder builder;

  if (engine != NULL)
    agl_sync_engine_get_connection (engine, &connection);
  if (!agl_store_get_sync_info (self->store, account->name, identity != NULL ? identity : "",
                                &info, NULL))
    memset (&info, 0, sizeof info);
  if (connection.last_sync > 0)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (connection.last_sync);

      last_sync = g_date_time_format_iso8601 (when);
    }

#define S(text) g_variant_new_string ((text) != NULL ? (text) : "")
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "name", S (account->name));
  g_variant_builder_add (&builder, "{sv}", "enabled", g_variant_new_boolean (account->enabled));
  g_variant_builder_add (&builder, "{sv}", "status",
                         S (engine == NULL ? "disabled" : status_name (connection.status)));
  g_variant_builder_add (&builder, "{sv}", "notifications",
                         S (engine == NULL ? "" : notify_name (connection.notify)));
  g_variant_builder_add (&builder, "{sv}", "subscription-id", S (connection.subscription_id));
  g_variant_builder_add (&builder, "{sv}", "watermark", S (connection.watermark));
  g_variant_builder_add (&builder, "{sv}", "last-sync", S (last_sync));
  g_variant_builder_add (&builder, "{sv}", "sync-state-age",
                         g_variant_new_int64 (info.state != NULL
                                              ? MAX (0, g_get_real_time () / G_USEC_PER_SEC
                                                        - info.state_modified)
                                              : -1));
  g_variant_builder_add (&builder, "{sv}", "items", g_variant_new_uint32 (info.n_items));
  g_variant_builder_add (&builder, "{sv}", "pending", g_variant_new_uint32 (info.n_pending));
  g_variant_builder_add (&builder, "{sv}", "conflicts", g_variant_new_uint32 (info.n_conflicts));
  g_variant_builder_add (&builder, "{sv}", "last-error", S (connection.last_error));
  g_variant_builder_add (&builder, "{sv}", "server-version",
                         S (connection.server_version != NULL ? connection.server_version
                                                              : account->server_build));
  g_variant_builder_add (&builder, "{sv}", "publishers",
                         agl_publish_manager_get_publishers (self->publish, account->name));
#undef S
  return g_variant_builder_end (&builder);
}

static gboolean
handle_list_connections_cb (AglDaemon             *skeleton,
                            GDBusMethodInvocation *invocation,
                            AglService            *self)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  accounts = agl_store_list_accounts (self->store, &error);
  if (accounts == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < accounts->len; i++)
    g_variant_builder_add_value (&builder,
                                 connection_to_variant (self, g_ptr_array_index (accounts, i)));
  agl_daemon_complete_list_connections (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
connection_changed_cb (AglSyncManager *sync,
                       const char     *name,
                       AglService     *self)
{
  agl_daemon_emit_connection_changed (self->skeleton, name);
}

static GVariant *
conflict_to_variant (const AglConflict *conflict)
{
  g_autoptr(AglEvent) event = agl_event_new_from_string (conflict->ical, NULL);
  g_autoptr(GDateTime) created = g_date_time_new_from_unix_utc (conflict->created);
  g_autofree char *created_text = g_date_time_format_iso8601 (created);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_int64 (conflict->id));
  g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (conflict->account));
  g_variant_builder_add (&builder, "{sv}", "uid", g_variant_new_string (conflict->item_uid));
  g_variant_builder_add (&builder, "{sv}", "summary",
                         g_variant_new_string (event != NULL ? agl_event_get_summary (event) : ""));
  g_variant_builder_add (&builder, "{sv}", "reason", g_variant_new_string (conflict->reason));
  g_variant_builder_add (&builder, "{sv}", "created",
                         g_variant_new_string (created_text != NULL ? created_text : ""));
  g_variant_builder_add (&builder, "{sv}", "ical", g_variant_new_string (conflict->ical));
  return g_variant_builder_end (&builder);
}

static gboolean
handle_list_conflicts_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *account,
                          AglService            *self)
{
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder builder;

  if (*account != '\0' && !check_account_exists (self, account, &error))
    return return_error (invocation, g_steal_pointer (&error));
  conflicts = agl_store_list_conflicts (self->store, *account != '\0' ? account : NULL, &error);
  if (conflicts == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  /* Newest first. */
  for (guint i = conflicts->len; i > 0; i--)
    g_variant_builder_add_value (&builder, conflict_to_variant (g_ptr_array_index (conflicts, i - 1)));
  agl_daemon_complete_list_conflicts (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_restore_conflict_cb (AglDaemon             *skeleton,
                            GDBusMethodInvocation *invocation,
                            gint64                 id,
                            AglService            *self)
{
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglItem) item = NULL;
  g_autoptr(GError) error = NULL;
  const AglConflict *conflict = NULL;

  conflicts = agl_store_list_conflicts (self->store, NULL, &error);
  if (conflicts == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  for (guint i = 0; i < conflicts->len && conflict == NULL; i++)
    if (((AglConflict *) g_ptr_array_index (conflicts, i))->id == id)
      conflict = g_ptr_array_index (conflicts, i);
  if (conflict == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                                             _("There is no conflict record %lld. It may have "
                                               "been restored already; list the conflicts "
                                               "again."), (long long) id);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  event = agl_event_new_from_string (conflict->ical, &error);
  if (event == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  item = agl_event_to_item (event, conflict->account);
  if (!agl_store_restore_conflict (self->store, id, &item, &error))
    return return_error (invocation, g_steal_pointer (&error));
  agl_sync_manager_wake (self->sync, item->account);
  agl_daemon_complete_restore_conflict (skeleton, invocation, item->id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_log_cb (AglDaemon             *skeleton,
                   GDBusMethodInvocation *invocation,
                   guint                  max,
                   AglService            *self)
{
  g_autoptr(GPtrArray) lines = NULL;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  if (self->log != NULL)
    {
      lines = agl_log_get_lines (self->log, max);
      for (guint i = 0; i < lines->len; i++)
        g_variant_builder_add_value (&builder,
                                     agl_log_line_to_variant (g_ptr_array_index (lines, i)));
    }
  agl_daemon_complete_get_log (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
log_line_cb (AglLog           *log,
             const AglLogLine *line,
             AglService       *self)
{
  agl_daemon_emit_log_line (self->skeleton, agl_log_line_to_variant (line));
}

static void
verify_progress_cb (AglSyncVerifyLeg leg,
                    double           seconds,
                    gpointer         user_data)
{
  SyncOp *op = user_data;

  agl_daemon_emit_verify_progress (op->self->skeleton, op->name, agl_sync_verify_leg_name (leg),
                                   seconds);
}

static void
verified_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SyncOp) op = user_data;
  g_autoptr(AglSyncVerifyResult) verified = NULL;
  GError *error = NULL;
  GVariantBuilder builder;

  verified = agl_sync_verify_finish (result, &error);
  if (verified == NULL)
    {
      g_dbus_method_invocation_take_error (g_steal_pointer (&op->invocation), remote_error (error));
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "uid", g_variant_new_string (verified->uid));
  for (guint leg = 0; leg < AGL_SYNC_VERIFY_N_LEGS; leg++)
    g_variant_builder_add (&builder, "{sv}", agl_sync_verify_leg_name (leg),
                           g_variant_new_double (verified->seconds[leg]));
  agl_daemon_complete_verify_account (op->self->skeleton, op->invocation,
                                      g_variant_builder_end (&builder));
}

static gboolean
handle_verify_account_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          AglService            *self)
{
  g_autoptr(GError) error = NULL;
  AglSyncEngine *engine = lookup_engine (self, name, &error);
  SyncOp *op;

  if (engine == NULL)
    return return_error (invocation, g_steal_pointer (&error));
  op = sync_op_new (self, invocation, name);
  agl_sync_verify_async (self->store, engine, VERIFY_TIMEOUT_SECONDS, verify_progress_cb, op,
                         NULL, verified_cb, op);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Presence */

/* An instant argument: "" for now, else ISO 8601; the error names the
 * argument. */
static gboolean
parse_instant_arg (const char  *argument,
                   const char  *text,
                   gboolean    *now,
                   gint64      *at,
                   GError     **error)
{
  g_autoptr(GError) parse_error = NULL;

  *now = *text == '\0';
  *at = 0;
  if (*now)
    return TRUE;
  if (!agl_time_parse_iso8601 (text, at, &parse_error))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   /* TRANSLATORS: the first %s is an argument's name ("at"), the second the reason */
                   _("The argument “%s” is not valid: %s"), argument, parse_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
handle_get_status_cb (AglDaemon             *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *name,
                      const char            *at_text,
                      AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  gboolean now;
  gint64 at;

  if (!parse_instant_arg ("at", at_text, &now, &at, &error) ||
      (status = agl_presence_tracker_get_status (self->presence, name, now, at, &error)) == NULL)
    return return_error (invocation, error);
  agl_daemon_complete_get_status (skeleton, invocation, status);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_schedule_cb (AglDaemon             *skeleton,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        const char            *from_text,
                        guint                  days,
                        AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *schedule = NULL;
  gboolean now;
  gint64 from;

  if (days < 1 || days > 31)
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The argument “days” must be from 1 to 31, not %u."),
                                             days);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!parse_instant_arg ("from", from_text, &now, &from, &error) ||
      (schedule = agl_presence_tracker_get_schedule (self->presence, name, now, from, days,
                                                     &error)) == NULL)
    return return_error (invocation, error);
  agl_daemon_complete_get_schedule (skeleton, invocation, schedule);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* GetRules: the stored rules, with whether each publisher's secret is
 * stored in place of the secret. */
typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  char                  *name;
  char                  *rules;
  gboolean               has[AGL_PUBLISH_N_SECRETS];
  guint                  next;
} GetRulesOp;

static const char * const secret_kinds[AGL_PUBLISH_N_SECRETS] = { "webhook", "sip" };

static void
get_rules_op_free (GetRulesOp *op)
{
  g_object_unref (op->self);
  g_clear_object (&op->invocation);
  g_free (op->name);
  g_free (op->rules);
  g_free (op);
}

static void get_rules_next (GetRulesOp *op);

static void
get_rules_secret_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GetRulesOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = agl_secrets_lookup_publisher_finish (AGL_SECRETS (source), result,
                                                                 &error);

  /* Only what is shown depends on it: a keyring that cannot be read
   * is no reason to hide the rules. */
  if (error != NULL)
    g_warning ("Cannot tell whether the %s publisher of %s has a secret: %s",
               secret_kinds[op->next], op->name, error->message);
  op->has[op->next++] = secret != NULL;
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  get_rules_next (op);
}

static void
get_rules_next (GetRulesOp *op)
{
  g_autofree char *shown = NULL;

  if (op->next < AGL_PUBLISH_N_SECRETS)
    {
      agl_secrets_lookup_publisher_async (op->self->secrets, op->name, secret_kinds[op->next], NULL,
                                          get_rules_secret_cb, op);
      return;
    }
  shown = agl_publish_config_mark_secrets (op->rules, op->has[0], op->has[1]);
  agl_daemon_complete_get_rules (op->self->skeleton, g_steal_pointer (&op->invocation), shown);
  get_rules_op_free (op);
}

static gboolean
handle_get_rules_cb (AglDaemon             *skeleton,
                     GDBusMethodInvocation *invocation,
                     const char            *name,
                     AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rules = agl_presence_tracker_get_rules (self->presence, name, &error);
  GetRulesOp *op;

  if (rules == NULL)
    return return_error (invocation, error);
  op = g_new0 (GetRulesOp, 1);
  op->self = g_object_ref (self);
  /* The reply, when it is sent, takes the handler's reference. */
  op->invocation = invocation;
  op->name = g_strdup (name);
  op->rules = g_steal_pointer (&rules);
  get_rules_next (op);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/*
 * SetRules: the publishers' secrets go to the Secret Service first, then
 * the rules without them to the store.  The secrets stored before are
 * read first, to tell whether a webhook has one and to put them back
 * should a later step fail: a refused SetRules changes nothing.
 */
typedef struct {
  AglService            *self;
  GDBusMethodInvocation *invocation;
  char                  *name;
  char                  *rules;     /* without secrets */
  AglPublishSecret       secrets[AGL_PUBLISH_N_SECRETS];
  char                  *old[AGL_PUBLISH_N_SECRETS];
  gboolean               applied[AGL_PUBLISH_N_SECRETS];
  guint                  next;
} SetRulesOp;

static void
wipe_free (char *secret)
{
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  g_free (secret);
}

static void
set_rules_op_free (SetRulesOp *op)
{
  g_hash_table_remove (op->self->busy_accounts, op->name);
  g_object_unref (op->self);
  g_clear_object (&op->invocation);
  g_free (op->name);
  g_free (op->rules);
  agl_publish_secrets_clear (op->secrets);
  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    wipe_free (op->old[i]);
  g_free (op);
}

static void
restored_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autofree char *name = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_async_result_is_tagged (result, agl_secrets_store_publisher_async))
    ok = agl_secrets_store_publisher_finish (AGL_SECRETS (source), result, &error);
  else
    ok = agl_secrets_clear_publisher_finish (AGL_SECRETS (source), result, &error);
  if (!ok)
    g_warning ("The rules of %s were refused, but a publisher's secret could not be put back: %s",
               name, error->message);
}

/* Puts back the secrets changed so far, and fails with @error. */
static void
set_rules_fail (SetRulesOp *op,
                GError     *error)
{
  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    {
      if (!op->applied[i])
        continue;
      if (op->old[i] != NULL)
        agl_secrets_store_publisher_async (op->self->secrets, op->name, op->secrets[i].kind,
                                           op->old[i], NULL, restored_cb, g_strdup (op->name));
      else
        agl_secrets_clear_publisher_async (op->self->secrets, op->name, op->secrets[i].kind, NULL,
                                           restored_cb, g_strdup (op->name));
    }
  g_dbus_method_invocation_take_error (g_steal_pointer (&op->invocation), error);
  set_rules_op_free (op);
}

static void set_rules_apply_next (SetRulesOp *op);

static void
set_rules_secret_changed_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  SetRulesOp *op = user_data;
  GError *error = NULL;
  gboolean ok;

  if (op->secrets[op->next].change == AGL_PUBLISH_SECRET_SET)
    ok = agl_secrets_store_publisher_finish (AGL_SECRETS (source), result, &error);
  else
    ok = agl_secrets_clear_publisher_finish (AGL_SECRETS (source), result, &error);
  if (!ok)
    {
      set_rules_fail (op, error);
      return;
    }
  op->applied[op->next++] = TRUE;
  set_rules_apply_next (op);
}

static void
set_rules_apply_next (SetRulesOp *op)
{
  GError *error = NULL;

  for (; op->next < AGL_PUBLISH_N_SECRETS; op->next++)
    {
      const AglPublishSecret *secret = &op->secrets[op->next];

      if (secret->change == AGL_PUBLISH_SECRET_SET && g_strcmp0 (secret->value, op->old[op->next]) != 0)
        {
          agl_secrets_store_publisher_async (op->self->secrets, op->name, secret->kind,
                                             secret->value, NULL, set_rules_secret_changed_cb, op);
          return;
        }
      if (secret->change == AGL_PUBLISH_SECRET_REMOVE && op->old[op->next] != NULL)
        {
          agl_secrets_clear_publisher_async (op->self->secrets, op->name, secret->kind, NULL,
                                             set_rules_secret_changed_cb, op);
          return;
        }
    }

  if (!agl_presence_tracker_set_rules (op->self->presence, op->name, op->rules, &error))
    {
      set_rules_fail (op, error);
      return;
    }
  agl_publish_manager_reload_account (op->self->publish, op->name);
  agl_daemon_complete_set_rules (op->self->skeleton, g_steal_pointer (&op->invocation));
  set_rules_op_free (op);
}

static void set_rules_lookup_next (SetRulesOp *op);

static void
set_rules_old_secret_cb (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  SetRulesOp *op = user_data;
  GError *error = NULL;

  op->old[op->next] = agl_secrets_lookup_publisher_finish (AGL_SECRETS (source), result, &error);
  if (error != NULL)
    {
      set_rules_fail (op, error);
      return;
    }
  op->next++;
  set_rules_lookup_next (op);
}

static void
set_rules_lookup_next (SetRulesOp *op)
{
  if (op->next < AGL_PUBLISH_N_SECRETS)
    {
      agl_secrets_lookup_publisher_async (op->self->secrets, op->name, op->secrets[op->next].kind,
                                          NULL, set_rules_old_secret_cb, op);
      return;
    }

  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    {
      const AglPublishSecret *secret = &op->secrets[i];

      if (secret->configured && secret->required &&
          (secret->change == AGL_PUBLISH_SECRET_REMOVE ||
           (secret->change == AGL_PUBLISH_SECRET_KEEP && op->old[i] == NULL)))
        {
          /* Only the webhook needs one. */
          set_rules_fail (op, g_error_new (AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                           _("publishers.webhook.secret: a webhook needs a secret to sign its requests.")));
          return;
        }
    }
  op->next = 0;
  set_rules_apply_next (op);
}

static gboolean
handle_set_rules_cb (AglDaemon             *skeleton,
                     GDBusMethodInvocation *invocation,
                     const char            *name,
                     const char            *rules,
                     AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglRules) parsed = NULL;
  SetRulesOp *op;

  if (refuse_busy_account (self, invocation, name))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  /* Everything that can be checked at once is, before any secret moves:
   * the account, the rules, then the publishers' settings. */
  if (!check_account_exists (self, name, &error) ||
      (parsed = agl_rules_from_json (rules, &error)) == NULL)
    return return_error (invocation, error);

  op = g_new0 (SetRulesOp, 1);
  op->rules = agl_publish_config_take_secrets (rules, op->secrets, &error);
  if (op->rules == NULL)
    {
      g_free (op);
      return return_error (invocation, error);
    }
  op->self = g_object_ref (self);
  op->invocation = invocation;
  op->name = g_strdup (name);
  g_hash_table_add (self->busy_accounts, g_strdup (name));
  set_rules_lookup_next (op);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_override_cb (AglDaemon             *skeleton,
                        GDBusMethodInvocation *invocation,
                        const char            *name,
                        const char            *presence_text,
                        const char            *action_text,
                        const char            *text,
                        AglService            *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *until_text = NULL;
  AglPresence presence;
  AglPhoneAction action = AGL_PHONE_ACTION_KEEP;
  gint64 until = 0;

  if (!agl_presence_from_string (presence_text, &presence))
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The argument “presence” is “%s”; use available, busy, dnd, away or out-of-office."),
                                             presence_text);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  /* "keep" is the engine's name for "", never one a caller gives. */
  if (*action_text != '\0' &&
      (!agl_phone_action_from_string (action_text, &action) || action == AGL_PHONE_ACTION_KEEP))
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The argument “action” is “%s”; use none, dnd, forward, divert, or nothing to keep the calendar’s."),
                                             action_text);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (strlen (text) > 4096 || strchr (text, '\n') != NULL || !g_utf8_validate (text, -1, NULL))
    {
      g_dbus_method_invocation_return_error (invocation, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                                             _("The argument “text” must be one line of at most 4096 bytes."));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  if (!agl_presence_tracker_set_override (self->presence, name, presence, action, text, &until,
                                          &error))
    return return_error (invocation, error);
  until_text = until != 0 ? agl_time_format_utc (until) : g_strdup ("");
  agl_daemon_complete_set_override (skeleton, invocation, until_text);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_clear_override_cb (AglDaemon             *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *name,
                          AglService            *self)
{
  g_autoptr(GError) error = NULL;

  if (!agl_presence_tracker_clear_override (self->presence, name, &error))
    return return_error (invocation, error);
  agl_daemon_complete_clear_override (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
status_changed_cb (AglPresenceTracker *presence,
                   const char         *name,
                   const char         *status,
                   AglService         *self)
{
  agl_daemon_emit_status_changed (self->skeleton, name, status);
}

/* Statuses follows the publish manager, which knows every enabled
 * account's status from the start, not only its changes. */
static void
statuses_changed_cb (AglPublishManager *publish,
                     AglService        *self)
{
  agl_daemon_set_statuses (self->skeleton, agl_publish_manager_get_statuses (publish));
}

static void
publishers_changed_cb (AglPublishManager *publish,
                       const char        *name,
                       AglService        *self)
{
  agl_daemon_emit_connection_changed (self->skeleton, name);
}

static void
agl_service_dispose (GObject *object)
{
  AglService *self = AGL_SERVICE (object);

  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  if (self->skeleton != NULL)
    {
      agl_service_unexport (self);
      g_signal_handlers_disconnect_by_data (self->skeleton, self);
    }
  if (self->publish != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->publish, self);
      agl_publish_manager_stop (self->publish);
    }
  if (self->presence != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->presence, self);
      agl_presence_tracker_stop (self->presence);
    }
  if (self->sync != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->sync, self);
      agl_sync_manager_stop (self->sync);
    }
  if (self->log != NULL)
    g_signal_handlers_disconnect_by_data (self->log, self);
  g_clear_object (&self->publish);
  g_clear_object (&self->presence);
  g_clear_object (&self->sync);
  g_clear_object (&self->log);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->store);
  g_clear_object (&self->secrets);

  G_OBJECT_CLASS (agl_service_parent_class)->dispose (object);
}

static void
agl_service_finalize (GObject *object)
{
  AglService *self = AGL_SERVICE (object);

  g_clear_pointer (&self->started, g_date_time_unref);
  g_clear_pointer (&self->busy_accounts, g_hash_table_unref);
  G_OBJECT_CLASS (agl_service_parent_class)->finalize (object);
}

static void
agl_service_class_init (AglServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_service_dispose;
  object_class->finalize = agl_service_finalize;
}

static void
agl_service_init (AglService *self)
{
  self->started = g_date_time_new_now_utc ();
  self->busy_accounts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->skeleton = agl_daemon_skeleton_new ();
  agl_daemon_set_version (self->skeleton, PACKAGE_VERSION);
  agl_daemon_set_statuses (self->skeleton, g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0));

#define CONNECT(signal, handler) \
  g_signal_connect (self->skeleton, signal, G_CALLBACK (handler), self)
  CONNECT ("handle-get-state", handle_get_state_cb);
  CONNECT ("handle-add-account", handle_add_account_cb);
  CONNECT ("handle-update-account", handle_update_account_cb);
  CONNECT ("handle-remove-account", handle_remove_account_cb);
  CONNECT ("handle-enable-account", handle_enable_account_cb);
  CONNECT ("handle-disable-account", handle_disable_account_cb);
  CONNECT ("handle-list-accounts", handle_list_accounts_cb);
  CONNECT ("handle-test-account", handle_test_account_cb);
  CONNECT ("handle-list-items", handle_list_items_cb);
  CONNECT ("handle-list-occurrences", handle_list_occurrences_cb);
  CONNECT ("handle-get-item", handle_get_item_cb);
  CONNECT ("handle-create-item", handle_create_item_cb);
  CONNECT ("handle-update-item", handle_update_item_cb);
  CONNECT ("handle-delete-item", handle_delete_item_cb);
  CONNECT ("handle-import-calendar", handle_import_calendar_cb);
  CONNECT ("handle-export-calendar", handle_export_calendar_cb);
  CONNECT ("handle-sync-account", handle_sync_account_cb);
  CONNECT ("handle-list-connections", handle_list_connections_cb);
  CONNECT ("handle-list-conflicts", handle_list_conflicts_cb);
  CONNECT ("handle-restore-conflict", handle_restore_conflict_cb);
  CONNECT ("handle-get-log", handle_get_log_cb);
  CONNECT ("handle-verify-account", handle_verify_account_cb);
  CONNECT ("handle-get-status", handle_get_status_cb);
  CONNECT ("handle-get-schedule", handle_get_schedule_cb);
  CONNECT ("handle-get-rules", handle_get_rules_cb);
  CONNECT ("handle-set-rules", handle_set_rules_cb);
  CONNECT ("handle-set-override", handle_set_override_cb);
  CONNECT ("handle-clear-override", handle_clear_override_cb);
#undef CONNECT
}

/**
 * agl_service_new:
 * @store: the agenda store
 * @secrets: where passwords go
 *
 * Returns: (transfer full): the D-Bus service over @store, not yet exported.
 */
AglService *
agl_service_new (AglStore   *store,
                 AglSecrets *secrets)
{
  AglService *self = g_object_new (AGL_TYPE_SERVICE, NULL);

  self->store = g_object_ref (store);
  self->secrets = g_object_ref (secrets);
  self->sync = agl_sync_manager_new (store, secrets);
  g_signal_connect (self->sync, "connection-changed", G_CALLBACK (connection_changed_cb), self);
  self->presence = agl_presence_tracker_new (store, self->sync);
  g_signal_connect (self->presence, "status-changed", G_CALLBACK (status_changed_cb), self);
  self->publish = agl_publish_manager_new (store, self->presence, secrets);
  g_signal_connect (self->publish, "statuses-changed", G_CALLBACK (statuses_changed_cb), self);
  g_signal_connect (self->publish, "publishers-changed", G_CALLBACK (publishers_changed_cb), self);
  g_signal_connect (store, "agenda-changed", G_CALLBACK (store_agenda_changed_cb), self);
  g_signal_connect (store, "account-changed", G_CALLBACK (store_account_changed_cb), self);
  return self;
}

/**
 * agl_service_export:
 * @connection: the session bus
 * @object_path: where to export the interface
 *
 * Makes the service reachable on @connection.
 */
gboolean
agl_service_export (AglService      *self,
                    GDBusConnection *connection,
                    const char      *object_path,
                    GError         **error)
{
  g_return_val_if_fail (AGL_IS_SERVICE (self), FALSE);

  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                           connection, object_path, error);
}

/**
 * agl_service_unexport:
 *
 * Takes the service off the bus.
 */
void
agl_service_unexport (AglService *self)
{
  g_return_if_fail (AGL_IS_SERVICE (self));

  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
}

/**
 * agl_service_set_log:
 * @self: a service
 * @log: the daemon's log
 *
 * Serves @log as GetLog and LogLine.
 */
void
agl_service_set_log (AglService *self,
                     AglLog     *log)
{
  g_return_if_fail (AGL_IS_SERVICE (self));

  if (self->log != NULL)
    g_signal_handlers_disconnect_by_data (self->log, self);
  g_set_object (&self->log, log);
  if (log != NULL)
    g_signal_connect (log, "line", G_CALLBACK (log_line_cb), self);
}

/**
 * agl_service_start_sync:
 * @self: a service
 *
 * Starts syncing the enabled accounts, following their presence and
 * publishing it; called once the daemon owns its bus name, so that a
 * second instance never syncs the same store nor publishes twice.
 */
void
agl_service_start_sync (AglService *self)
{
  g_return_if_fail (AGL_IS_SERVICE (self));
  agl_sync_manager_start (self->sync);
  agl_presence_tracker_start (self->presence);
  agl_publish_manager_start (self->publish);
}
