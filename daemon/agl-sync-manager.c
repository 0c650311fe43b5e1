/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * One sync engine per enabled account, kept in line with the accounts in
 * the store, and the connector that gives each engine its remote backend
 * (the password from the Secret Service, Autodiscover where the account
 * has no URL, then EWS).
 */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-sync-manager.h"
#include "ews/agl-ews-autodiscover.h"
#include "ews/agl-ews-backend.h"
#include "ews/agl-ews-connection.h"

struct _AglSyncManager
{
  GObject      parent_instance;

  AglStore    *store;
  AglSecrets  *secrets;
  GHashTable  *engines;   /* account name -> AglSyncEngine */
  gboolean     started;
};

G_DEFINE_FINAL_TYPE (AglSyncManager, agl_sync_manager, G_TYPE_OBJECT)

enum {
  SIGNAL_CONNECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The connector */

typedef struct {
  AglAccount       *account;
  AglEwsConnection *connection;
} Connect;

static void
connect_free (Connect *connect)
{
  agl_account_free (connect->account);
  g_clear_object (&connect->connection);
  g_free (connect);
}

static void
autodiscovered_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Connect *connect = g_task_get_task_data (task);
  g_autoptr(AglEwsAutodiscover) found = NULL;
  GError *error = NULL;

  found = agl_ews_autodiscover_finish (connect->connection, result, &error);
  if (found == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  agl_ews_connection_set_url (connect->connection, found->ews_url);
  g_task_return_pointer (task, agl_ews_backend_new (connect->connection), g_object_unref);
}

static void
password_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AglSyncManager *self = g_task_get_source_object (task);
  Connect *connect = g_task_get_task_data (task);
  GError *error = NULL;
  char *password;

  password = agl_secrets_lookup_finish (self->secrets, result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (password == NULL)
    {
      g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_FAILED,
                               _("No password is stored for the account “%s”; set one with "
                                 "“agendalinectl account update %s --password-stdin”."),
                               connect->account->name, connect->account->name);
      return;
    }
  connect->connection = agl_ews_connection_new (connect->account, password, &error);
  explicit_bzero (password, strlen (password));
  g_free (password);
  if (connect->connection == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (connect->account->url == NULL || *connect->account->url == '\0')
    {
      /* Not in the same argument list as g_steal_pointer(): the order in
       * which arguments are evaluated is unspecified. */
      GCancellable *cancellable = g_task_get_cancellable (task);

      agl_ews_autodiscover_async (connect->connection, connect->account->email, NULL,
                                  cancellable, autodiscovered_cb, g_steal_pointer (&task));
      return;
    }
  g_task_return_pointer (task, agl_ews_backend_new (connect->connection), g_object_unref);
}

/**
 * agl_sync_manager_connect_async:
 * @self: a manager
 * @account: the account
 * @cancellable: (nullable): cancels
 * @callback: called with the backend
 * @user_data: for @callback
 *
 * Makes the remote backend of @account: its password from the Secret
 * Service, its EWS URL by Autodiscover when it has none.
 */
void
agl_sync_manager_connect_async (AglSyncManager      *self,
                                const AglAccount    *account,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Connect *connect = g_new0 (Connect, 1);

  connect->account = agl_account_copy (account);
  g_task_set_task_data (task, connect, (GDestroyNotify) connect_free);
  agl_secrets_lookup_async (self->secrets, account->name, cancellable, password_cb, task);
}

/**
 * agl_sync_manager_connect_finish:
 * @self: a manager
 * @result: the result
 * @error: return location
 *
 * Returns: (transfer full): the backend
 */
AglRemote *
agl_sync_manager_connect_finish (AglSyncManager  *self,
                                 GAsyncResult    *result,
                                 GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
engine_connect_async (const AglAccount    *account,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data,
                      gpointer             data)
{
  agl_sync_manager_connect_async (AGL_SYNC_MANAGER (data), account, cancellable, callback,
                                  user_data);
}

static AglRemote *
engine_connect_finish (GAsyncResult  *result,
                       GError       **error,
                       gpointer       data)
{
  return agl_sync_manager_connect_finish (AGL_SYNC_MANAGER (data), result, error);
}

/* Counting a mailbox's appointments (the preview of a re-pointed account) */

typedef struct {
  AglRemote *remote;
  guint      n_items;
} Count;

static void
count_free (Count *count)
{
  g_clear_object (&count->remote);
  g_free (count);
}

static void
count_page_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Count *count = g_task_get_task_data (task);
  g_autoptr(AglRemoteSyncPage) page = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  page = agl_remote_sync_folder_items_finish (AGL_REMOTE (source), result, &error);
  if (page == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < page->changes->len; i++)
    if (((AglRemoteChange *) g_ptr_array_index (page->changes, i))->kind != AGL_REMOTE_CHANGE_DELETE)
      count->n_items++;
  if (page->includes_last)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  agl_remote_sync_folder_items_async (count->remote, page->state, 512, cancellable,
                                      count_page_cb, g_steal_pointer (&task));
}

static void
count_connected_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Count *count = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;

  count->remote = agl_sync_manager_connect_finish (AGL_SYNC_MANAGER (source), result, &error);
  if (count->remote == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  cancellable = g_task_get_cancellable (task);
  agl_remote_sync_folder_items_async (count->remote, NULL, 512, cancellable,
                                      count_page_cb, g_steal_pointer (&task));
}

/**
 * agl_sync_manager_count_remote_async:
 * @self: a manager
 * @account: an account's settings (perhaps not stored yet)
 * @cancellable: (nullable): cancels
 * @callback: called with the count
 * @user_data: for @callback
 *
 * Counts the appointments in the calendar @account reaches, without
 * storing anything (a SyncFolderItems from the start, ids only).
 */
void
agl_sync_manager_count_remote_async (AglSyncManager      *self,
                                     const AglAccount    *account,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_task_data (task, g_new0 (Count, 1), (GDestroyNotify) count_free);
  agl_sync_manager_connect_async (self, account, cancellable, count_connected_cb, task);
}

/**
 * agl_sync_manager_count_remote_finish:
 * @self: a manager
 * @result: the result
 * @n_items: (out): the appointments counted
 * @error: return location
 *
 * Returns: whether the mailbox could be counted
 */
gboolean
agl_sync_manager_count_remote_finish (AglSyncManager  *self,
                                      GAsyncResult    *result,
                                      guint           *n_items,
                                      GError         **error)
{
  GTask *task = G_TASK (result);

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (task, error))
    return FALSE;
  *n_items = ((Count *) g_task_get_task_data (task))->n_items;
  return TRUE;
}

/* Engines */

static void
engine_changed_cb (AglSyncEngine  *engine,
                   AglSyncManager *self)
{
  g_signal_emit (self, signals[SIGNAL_CONNECTION_CHANGED], 0,
                 agl_sync_engine_get_account (engine)->name);
}

static void
remove_engine (AglSyncManager *self,
               const char     *name)
{
  AglSyncEngine *engine = g_hash_table_lookup (self->engines, name);

  if (engine == NULL)
    return;
  g_signal_handlers_disconnect_by_data (engine, self);
  agl_sync_engine_stop (engine);
  g_hash_table_remove (self->engines, name);
}

/* Whether two versions of an account sync the same way. */
static gboolean
same_settings (const AglAccount *a,
               const AglAccount *b)
{
  return g_strcmp0 (a->email, b->email) == 0 &&
         g_strcmp0 (a->url, b->url) == 0 &&
         a->autodiscover == b->autodiscover &&
         g_strcmp0 (a->auth, b->auth) == 0 &&
         g_strcmp0 (a->user, b->user) == 0 &&
         g_strcmp0 (a->domain, b->domain) == 0 &&
         g_strcmp0 (a->server_version, b->server_version) == 0 &&
         g_strcmp0 (a->ca_file, b->ca_file) == 0 &&
         a->impersonate == b->impersonate &&
         a->conflict_policy == b->conflict_policy &&
         a->poll_interval == b->poll_interval;
}

static void
add_engine (AglSyncManager   *self,
            const AglAccount *account)
{
  AglSyncConnector connector = { engine_connect_async, engine_connect_finish, self };
  AglSyncEngine *engine = agl_sync_engine_new (self->store, account, &connector);

  g_hash_table_replace (self->engines, g_strdup (account->name), engine);
  g_signal_connect (engine, "changed", G_CALLBACK (engine_changed_cb), self);
  agl_sync_engine_start (engine);
  g_signal_emit (self, signals[SIGNAL_CONNECTION_CHANGED], 0, account->name);
}

/**
 * agl_sync_manager_reload:
 * @self: a manager
 * @name: an account name
 *
 * The account was added, changed or removed: its engine follows (a new
 * engine when its settings or password changed, none when it is disabled
 * or gone).
 */
void
agl_sync_manager_reload (AglSyncManager *self,
                         const char     *name)
{
  g_autoptr(AglAccount) account = NULL;
  AglSyncEngine *engine;

  g_return_if_fail (AGL_IS_SYNC_MANAGER (self));

  if (!self->started)
    return;
  account = agl_store_get_account (self->store, name, NULL);
  engine = g_hash_table_lookup (self->engines, name);
  if (account == NULL || !account->enabled)
    {
      remove_engine (self, name);
      g_signal_emit (self, signals[SIGNAL_CONNECTION_CHANGED], 0, name);
      return;
    }
  if (engine != NULL && same_settings (agl_sync_engine_get_account (engine), account))
    return;
  remove_engine (self, name);
  add_engine (self, account);
}

static void
account_changed_cb (AglStore       *store,
                    const char     *name,
                    int             change,
                    AglSyncManager *self)
{
  agl_sync_manager_reload (self, name);
}

/**
 * agl_sync_manager_start:
 * @self: a manager
 *
 * Starts an engine for every enabled account.
 */
void
agl_sync_manager_start (AglSyncManager *self)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_SYNC_MANAGER (self));

  if (self->started)
    return;
  self->started = TRUE;
  accounts = agl_store_list_accounts (self->store, &error);
  if (accounts == NULL)
    {
      g_warning ("The accounts could not be read, nothing syncs: %s", error->message);
      return;
    }
  for (guint i = 0; i < accounts->len; i++)
    {
      AglAccount *account = g_ptr_array_index (accounts, i);

      if (account->enabled)
        add_engine (self, account);
    }
}

/**
 * agl_sync_manager_stop:
 * @self: a manager
 *
 * Stops every engine.
 */
void
agl_sync_manager_stop (AglSyncManager *self)
{
  GHashTableIter iter;
  gpointer engine;

  g_return_if_fail (AGL_IS_SYNC_MANAGER (self));

  self->started = FALSE;
  g_hash_table_iter_init (&iter, self->engines);
  while (g_hash_table_iter_next (&iter, NULL, &engine))
    {
      g_signal_handlers_disconnect_by_data (engine, self);
      agl_sync_engine_stop (engine);
      g_hash_table_iter_remove (&iter);
    }
}

/**
 * agl_sync_manager_get_engine:
 * @self: a manager
 * @name: an account name
 *
 * Returns: (transfer none) (nullable): the account's engine, %NULL when
 *   the account is disabled or unknown
 */
AglSyncEngine *
agl_sync_manager_get_engine (AglSyncManager *self,
                             const char     *name)
{
  g_return_val_if_fail (AGL_IS_SYNC_MANAGER (self), NULL);
  return name != NULL ? g_hash_table_lookup (self->engines, name) : NULL;
}

/**
 * agl_sync_manager_wake:
 * @self: a manager
 * @name: (nullable): the account whose agenda was edited here (%NULL: the
 *   local-only agenda, nothing to sync)
 */
void
agl_sync_manager_wake (AglSyncManager *self,
                       const char     *name)
{
  AglSyncEngine *engine = agl_sync_manager_get_engine (self, name);

  if (engine != NULL)
    agl_sync_engine_wake (engine);
}

/* GObject */

static void
agl_sync_manager_dispose (GObject *object)
{
  AglSyncManager *self = AGL_SYNC_MANAGER (object);

  if (self->engines != NULL)
    agl_sync_manager_stop (self);
  if (self->store != NULL)
    g_signal_handlers_disconnect_by_data (self->store, self);
  g_clear_object (&self->store);
  g_clear_object (&self->secrets);
  G_OBJECT_CLASS (agl_sync_manager_parent_class)->dispose (object);
}

static void
agl_sync_manager_finalize (GObject *object)
{
  AglSyncManager *self = AGL_SYNC_MANAGER (object);

  g_clear_pointer (&self->engines, g_hash_table_unref);
  G_OBJECT_CLASS (agl_sync_manager_parent_class)->finalize (object);
}

static void
agl_sync_manager_class_init (AglSyncManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_sync_manager_dispose;
  object_class->finalize = agl_sync_manager_finalize;

  /**
   * AglSyncManager::connection-changed:
   * @name: the account
   *
   * The account's connection (agl_sync_engine_get_connection()) changed,
   * or its engine came or went.
   */
  signals[SIGNAL_CONNECTION_CHANGED] =
    g_signal_new ("connection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
agl_sync_manager_init (AglSyncManager *self)
{
  self->engines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/**
 * agl_sync_manager_new:
 * @store: the store
 * @secrets: where the passwords are
 *
 * Returns: (transfer full): a manager; agl_sync_manager_start() it
 */
AglSyncManager *
agl_sync_manager_new (AglStore   *store,
                      AglSecrets *secrets)
{
  AglSyncManager *self = g_object_new (AGL_TYPE_SYNC_MANAGER, NULL);

  self->store = g_object_ref (store);
  self->secrets = g_object_ref (secrets);
  g_signal_connect (store, "account-changed", G_CALLBACK (account_changed_cb), self);
  return self;
}
