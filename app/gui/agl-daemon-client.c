/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-daemon-client"

#include <glib/gi18n.h>

#include "agl-daemon-client.h"
#include "agl-dbus-generated.h"

/*
 * AglDaemonClient is the app's only door to agendalined: it reaches the
 * daemon (starting it through D-Bus activation), tells when it comes and
 * goes, turns the daemon's signals into its own and wraps the calls the app
 * makes as GTask _async/_finish pairs whose errors carry the daemon's own
 * message without the D-Bus error name in front.
 */
struct _AglDaemonClient
{
  GObject                parent_instance;

  AglDaemonClientStatus  status;
  char                  *error_message;

  /* Non-NULL while a connection attempt is under way. */
  GCancellable          *cancellable;
  /* Why D-Bus activation failed in this attempt, if it did. */
  char                  *activation_error;
  GDBusConnection       *connection;
  AglDaemon             *proxy;
};

enum {
  READY,
  UNAVAILABLE,
  STATE_CHANGED,
  ACCOUNTS_CHANGED,
  AGENDA_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (AglDaemonClient, agl_daemon_client, G_TYPE_OBJECT)

static void
set_ready (AglDaemonClient *self)
{
  self->status = AGL_DAEMON_CLIENT_READY;
  g_clear_pointer (&self->error_message, g_free);
  g_signal_emit (self, signals[READY], 0);
}

static void
set_unavailable (AglDaemonClient *self,
                 const char      *message)
{
  /* A handler may retry, which frees what @message points into. */
  g_autofree char *reason = g_strdup (message);

  self->status = AGL_DAEMON_CLIENT_UNAVAILABLE;
  g_free (self->error_message);
  self->error_message = g_strdup (reason);
  g_signal_emit (self, signals[UNAVAILABLE], 0, reason);
}

static void
drop_proxy (AglDaemonClient *self)
{
  if (self->proxy == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
}

static void
fail_attempt (AglDaemonClient *self,
              const char      *message)
{
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->activation_error, g_free);
  set_unavailable (self, message);
}

static void
name_owner_changed_cb (GObject    *object,
                       GParamSpec *pspec,
                       gpointer    user_data)
{
  AglDaemonClient *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  /* A new owner is a (re)started daemon whose state the app has not seen
   * yet, so it counts as ready again. */
  if (owner != NULL)
    set_ready (self);
  else
    set_unavailable (self, _("The Agendaline service stopped."));
}

static void
state_changed_cb (AglDaemon *proxy,
                  gpointer   user_data)
{
  g_signal_emit (user_data, signals[STATE_CHANGED], 0);
}

static void
account_changed_cb (AglDaemon  *proxy,
                    const char *name,
                    gpointer    user_data)
{
  g_signal_emit (user_data, signals[ACCOUNTS_CHANGED], 0, name);
}

static void
agenda_changed_cb (AglDaemon  *proxy,
                   const char *account,
                   GVariant   *created,
                   GVariant   *updated,
                   GVariant   *deleted,
                   gpointer    user_data)
{
  g_signal_emit (user_data, signals[AGENDA_CHANGED], 0, account);
}

static void
proxy_new_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AglDaemonClient *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;
  AglDaemon *proxy;

  proxy = agl_daemon_proxy_new_finish (result, &error);
  if (proxy == NULL)
    {
      /* Cancelled only by dispose: self is gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      fail_attempt (self, error->message);
      return;
    }

  g_clear_object (&self->cancellable);
  self->proxy = proxy;
  g_signal_connect (proxy, "notify::g-name-owner", G_CALLBACK (name_owner_changed_cb), self);
  g_signal_connect (proxy, "state-changed", G_CALLBACK (state_changed_cb), self);
  g_signal_connect (proxy, "account-added", G_CALLBACK (account_changed_cb), self);
  g_signal_connect (proxy, "account-changed", G_CALLBACK (account_changed_cb), self);
  g_signal_connect (proxy, "account-removed", G_CALLBACK (account_changed_cb), self);
  g_signal_connect (proxy, "agenda-changed", G_CALLBACK (agenda_changed_cb), self);

  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));
  if (owner != NULL)
    set_ready (self);
  else if (self->activation_error != NULL)
    set_unavailable (self, self->activation_error);
  else
    set_unavailable (self, _("The Agendaline service started but left the session bus again; "
                             "its log says why."));
  g_clear_pointer (&self->activation_error, g_free);
}

static void
start_service_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglDaemonClient *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  /* The bus refuses to activate a name that no service file provides even
   * while a daemon started by hand owns it, so a failure is only reported
   * if the name turns out to have no owner. */
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_dbus_error_strip_remote_error (error);
      self->activation_error = g_strdup_printf (_("D-Bus could not start it: %s"), error->message);
    }

  /* Method calls may still auto-start the daemon should it exit later. */
  agl_daemon_proxy_new (self->connection,
                        G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION |
                        G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                        AGL_BUS_NAME,
                        AGL_OBJECT_PATH,
                        self->cancellable,
                        proxy_new_cb,
                        self);
}

static void
bus_get_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  AglDaemonClient *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = NULL;

  connection = g_bus_get_finish (result, &error);
  if (connection == NULL)
    {
      g_autofree char *message = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      message = g_strdup_printf (_("The session bus cannot be reached: %s"), error->message);
      fail_attempt (self, message);
      return;
    }

  g_set_object (&self->connection, connection);

  /* Activate explicitly rather than through GDBusProxy, which swallows the
   * bus's reason when activation fails, and that reason is what the user
   * needs to see. */
  g_dbus_connection_call (connection,
                          "org.freedesktop.DBus",
                          "/org/freedesktop/DBus",
                          "org.freedesktop.DBus",
                          "StartServiceByName",
                          g_variant_new ("(su)", AGL_BUS_NAME, 0),
                          G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE,
                          -1,
                          self->cancellable,
                          start_service_cb,
                          self);
}

static gboolean
check_proxy (AglDaemonClient *self,
             GTask           *task)
{
  if (self->proxy != NULL)
    return TRUE;

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           _("The Agendaline service is not running."));
  return FALSE;
}

/*
 * GetState, ListAccounts, ListItems and ListOccurrences each answer with one
 * variant, and the last two take the same arguments, so a call differs from
 * another only by the generated functions that make and finish it.  The
 * task's data is the DaemonMethod it runs.
 */
typedef void     (*RangeCallFunc)   (AglDaemon            *proxy,
                                     const char           *from,
                                     const char           *to,
                                     const char           *account,
                                     GDBusCallFlags        call_flags,
                                     int                   timeout_msec,
                                     GCancellable         *cancellable,
                                     GAsyncReadyCallback   callback,
                                     gpointer              user_data);
typedef gboolean (*VariantFinishFunc) (AglDaemon          *proxy,
                                       GVariant          **out_reply,
                                       GAsyncResult       *result,
                                       GError            **error);

typedef struct
{
  /* NULL for the methods that take no arguments. */
  RangeCallFunc      call_range;
  VariantFinishFunc  finish;
} DaemonMethod;

static const DaemonMethod get_state_method = {
  NULL, agl_daemon_call_get_state_finish
};
static const DaemonMethod list_accounts_method = {
  NULL, agl_daemon_call_list_accounts_finish
};
static const DaemonMethod list_items_method = {
  agl_daemon_call_list_items, agl_daemon_call_list_items_finish
};
static const DaemonMethod list_occurrences_method = {
  agl_daemon_call_list_occurrences, agl_daemon_call_list_occurrences_finish
};

/* The daemon's messages are sentences for the user; the D-Bus error name
 * glued in front of them is not. */
static void
variant_reply_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  const DaemonMethod *method = g_task_get_task_data (task);
  GVariant *reply = NULL;
  GError *error = NULL;

  if (!method->finish (AGL_DAEMON (object), &reply, result, &error))
    {
      g_dbus_error_strip_remote_error (error);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
set_account_enabled_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gboolean ok;

  if (GPOINTER_TO_INT (g_task_get_task_data (task)))
    ok = agl_daemon_call_enable_account_finish (AGL_DAEMON (object), result, &error);
  else
    ok = agl_daemon_call_disable_account_finish (AGL_DAEMON (object), result, &error);

  if (!ok)
    {
      g_dbus_error_strip_remote_error (error);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static char *
format_instant (GDateTime *time)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);

  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

/* Asks the daemon for @method's answer between @from and @to for all
 * accounts; takes @task, which the answer returns. */
static void
call_in_range (AglDaemonClient    *self,
               GTask              *task_in,
               const DaemonMethod *method,
               GDateTime          *from,
               GDateTime          *to,
               GCancellable       *cancellable)
{
  g_autoptr(GTask) task = task_in;
  g_autofree char *from_text = NULL;
  g_autofree char *to_text = NULL;

  g_task_set_task_data (task, (gpointer) method, NULL);
  if (!check_proxy (self, task))
    return;

  from_text = format_instant (from);
  to_text = format_instant (to);
  method->call_range (self->proxy, from_text, to_text, "",
                      G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                      variant_reply_cb, g_steal_pointer (&task));
}

static void
agl_daemon_client_dispose (GObject *object)
{
  AglDaemonClient *self = AGL_DAEMON_CLIENT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  drop_proxy (self);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (agl_daemon_client_parent_class)->dispose (object);
}

static void
agl_daemon_client_finalize (GObject *object)
{
  AglDaemonClient *self = AGL_DAEMON_CLIENT (object);

  g_free (self->error_message);
  g_free (self->activation_error);

  G_OBJECT_CLASS (agl_daemon_client_parent_class)->finalize (object);
}

static void
agl_daemon_client_class_init (AglDaemonClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_daemon_client_dispose;
  object_class->finalize = agl_daemon_client_finalize;

  /**
   * AglDaemonClient::ready:
   *
   * The daemon answers: after a connection attempt, or when it came back
   * on the bus.  Anything shown from it should be fetched again.
   */
  signals[READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * AglDaemonClient::unavailable:
   * @reason: a sentence saying why, for the user
   *
   * A connection attempt failed, or the daemon left the bus.
   */
  signals[UNAVAILABLE] =
    g_signal_new ("unavailable", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * AglDaemonClient::state-changed:
   *
   * The daemon's StateChanged: GetState would answer differently.
   */
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * AglDaemonClient::accounts-changed:
   * @name: the account added, changed or removed
   */
  signals[ACCOUNTS_CHANGED] =
    g_signal_new ("accounts-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * AglDaemonClient::agenda-changed:
   * @account: the account whose appointments changed, "" for the local agenda
   */
  signals[AGENDA_CHANGED] =
    g_signal_new ("agenda-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
agl_daemon_client_init (AglDaemonClient *self)
{
  self->status = AGL_DAEMON_CLIENT_CONNECTING;
}

/**
 * agl_daemon_client_new:
 *
 * Returns: (transfer full): a client that has not tried to connect yet;
 *   call agl_daemon_client_connect().
 */
AglDaemonClient *
agl_daemon_client_new (void)
{
  return g_object_new (AGL_TYPE_DAEMON_CLIENT, NULL);
}

/**
 * agl_daemon_client_connect:
 * @self: a client
 *
 * Reaches the daemon on the session bus, starting it by D-Bus activation if
 * needed, without blocking.  The outcome is ::ready or ::unavailable.  Does
 * nothing while an attempt is under way; otherwise starts afresh, which is
 * how the user retries.
 */
void
agl_daemon_client_connect (AglDaemonClient *self)
{
  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));

  if (self->cancellable != NULL)
    return;

  drop_proxy (self);
  self->status = AGL_DAEMON_CLIENT_CONNECTING;
  g_clear_pointer (&self->error_message, g_free);
  g_clear_pointer (&self->activation_error, g_free);
  self->cancellable = g_cancellable_new ();
  g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, bus_get_cb, self);
}

/**
 * agl_daemon_client_get_status:
 * @self: a client
 *
 * Returns: whether the daemon can be called now.
 */
AglDaemonClientStatus
agl_daemon_client_get_status (AglDaemonClient *self)
{
  g_return_val_if_fail (AGL_IS_DAEMON_CLIENT (self), AGL_DAEMON_CLIENT_UNAVAILABLE);

  return self->status;
}

/**
 * agl_daemon_client_get_error_message:
 * @self: a client
 *
 * Returns: (nullable): why the daemon is unavailable, or %NULL when it is
 *   not.
 */
const char *
agl_daemon_client_get_error_message (AglDaemonClient *self)
{
  g_return_val_if_fail (AGL_IS_DAEMON_CLIENT (self), NULL);

  return self->error_message;
}

/**
 * agl_daemon_client_get_state_async:
 * @self: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the daemon's GetState answer
 * @user_data: for @callback
 */
void
agl_daemon_client_get_state_async (AglDaemonClient     *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_daemon_client_get_state_async);
  g_task_set_task_data (task, (gpointer) &get_state_method, NULL);
  if (check_proxy (self, task))
    agl_daemon_call_get_state (self->proxy, G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                               variant_reply_cb, g_steal_pointer (&task));
}

/**
 * agl_daemon_client_get_state_finish:
 * @self: a client
 * @result: the result given to the callback
 * @error: return location for an error whose message is the daemon's
 *
 * Returns: (transfer full): the state as a{sv}, see the D-Bus contract, or
 *   %NULL on error.
 */
GVariant *
agl_daemon_client_get_state_finish (AglDaemonClient  *self,
                                    GAsyncResult     *result,
                                    GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_daemon_client_list_accounts_async:
 * @self: a client
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the daemon's ListAccounts answer
 * @user_data: for @callback
 */
void
agl_daemon_client_list_accounts_async (AglDaemonClient     *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_daemon_client_list_accounts_async);
  g_task_set_task_data (task, (gpointer) &list_accounts_method, NULL);
  if (check_proxy (self, task))
    agl_daemon_call_list_accounts (self->proxy, G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                                   variant_reply_cb, g_steal_pointer (&task));
}

/**
 * agl_daemon_client_list_accounts_finish:
 * @self: a client
 * @result: the result given to the callback
 * @error: return location for an error whose message is the daemon's
 *
 * Returns: (transfer full): the accounts as aa{sv} sorted by name, or %NULL
 *   on error.
 */
GVariant *
agl_daemon_client_list_accounts_finish (AglDaemonClient  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_daemon_client_list_items_async:
 * @self: a client
 * @from: the start of the range
 * @to: the end of the range, exclusive
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the daemon's ListItems answer for all accounts
 * @user_data: for @callback
 */
void
agl_daemon_client_list_items_async (AglDaemonClient     *self,
                                    GDateTime           *from,
                                    GDateTime           *to,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));
  g_return_if_fail (from != NULL && to != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_daemon_client_list_items_async);
  call_in_range (self, g_steal_pointer (&task), &list_items_method, from, to, cancellable);
}

/**
 * agl_daemon_client_list_items_finish:
 * @self: a client
 * @result: the result given to the callback
 * @error: return location for an error whose message is the daemon's
 *
 * Returns: (transfer full): the appointments as aa{sv} sorted by start, or
 *   %NULL on error.
 */
GVariant *
agl_daemon_client_list_items_finish (AglDaemonClient  *self,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_daemon_client_list_occurrences_async:
 * @self: a client
 * @from: the start of the range
 * @to: the end of the range, exclusive; at most 366 days after @from
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the daemon's ListOccurrences answer for all
 *   accounts
 * @user_data: for @callback
 *
 * The daemon expands repeating appointments, so that the app never reads
 * iCalendar itself.
 */
void
agl_daemon_client_list_occurrences_async (AglDaemonClient     *self,
                                          GDateTime           *from,
                                          GDateTime           *to,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));
  g_return_if_fail (from != NULL && to != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_daemon_client_list_occurrences_async);
  call_in_range (self, g_steal_pointer (&task), &list_occurrences_method, from, to, cancellable);
}

/**
 * agl_daemon_client_list_occurrences_finish:
 * @self: a client
 * @result: the result given to the callback
 * @error: return location for an error whose message is the daemon's
 *
 * Returns: (transfer full): the occurrences as aa{sv} sorted by start, or
 *   %NULL on error.
 */
GVariant *
agl_daemon_client_list_occurrences_finish (AglDaemonClient  *self,
                                           GAsyncResult     *result,
                                           GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * agl_daemon_client_set_account_enabled_async:
 * @self: a client
 * @name: an account
 * @enabled: %TRUE to EnableAccount, %FALSE to DisableAccount
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the daemon answered
 * @user_data: for @callback
 */
void
agl_daemon_client_set_account_enabled_async (AglDaemonClient     *self,
                                             const char          *name,
                                             gboolean             enabled,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (AGL_IS_DAEMON_CLIENT (self));
  g_return_if_fail (name != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, agl_daemon_client_set_account_enabled_async);
  g_task_set_task_data (task, GINT_TO_POINTER (enabled ? TRUE : FALSE), NULL);
  if (!check_proxy (self, task))
    return;

  if (enabled)
    agl_daemon_call_enable_account (self->proxy, name, G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                                    set_account_enabled_cb, g_steal_pointer (&task));
  else
    agl_daemon_call_disable_account (self->proxy, name, G_DBUS_CALL_FLAGS_NONE, -1, cancellable,
                                     set_account_enabled_cb, g_steal_pointer (&task));
}

/**
 * agl_daemon_client_set_account_enabled_finish:
 * @self: a client
 * @result: the result given to the callback
 * @error: return location for an error whose message is the daemon's
 *
 * Returns: %TRUE when the daemon made the change.
 */
gboolean
agl_daemon_client_set_account_enabled_finish (AglDaemonClient  *self,
                                              GAsyncResult     *result,
                                              GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * agl_daemon_client_get_proxy:
 * @self: a client
 *
 * The generated proxy of the daemon's interface, for the calls and
 * signals the client does not wrap (pages call it directly).  Errors of
 * its calls start with the D-Bus error name: pass them through
 * agl_daemon_client_strip_error() before showing them.
 *
 * Returns: (transfer none) (nullable): the proxy while the client is
 *   %AGL_DAEMON_CLIENT_READY, else %NULL
 */
AglDaemon *
agl_daemon_client_get_proxy (AglDaemonClient *self)
{
  g_return_val_if_fail (AGL_IS_DAEMON_CLIENT (self), NULL);

  return self->status == AGL_DAEMON_CLIENT_READY ? self->proxy : NULL;
}

/**
 * agl_daemon_client_strip_error:
 * @error: an error from a call to the daemon
 *
 * Leaves only the daemon's own sentence in @error's message, which the
 * app can show as it is.
 */
void
agl_daemon_client_strip_error (GError *error)
{
  g_return_if_fail (error != NULL);

  if (g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
}
