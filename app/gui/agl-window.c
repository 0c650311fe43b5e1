/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-window"

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-accessible.h"
#include "agl-window.h"
#include "agl-accounts-page.h"
#include "agl-agenda-page.h"
#include "agl-connections-page.h"
#include "agl-rules-page.h"
#include "agl-status-page.h"
#include "agl-verify-page.h"

/*
 * The main window: the account chooser in the header bar and one page per
 * concern (accounts, status, rules, connections, agenda, verify).  The
 * window only reaches the daemon to list the accounts for the chooser;
 * each page talks to the daemon itself through the shared AglDaemonClient
 * and follows the window's "account".
 */

struct _AglWindow
{
  AdwApplicationWindow  parent_instance;

  AglDaemonClient      *client;
  char                 *account;        /* the chosen account, or NULL */
  GtkStringList        *account_names;  /* the chooser's model */
  gboolean              updating_names; /* the model is being replaced */
  gboolean              listed;         /* the accounts were listed once */
  GCancellable         *accounts_cancellable;

  AdwToastOverlay      *toast_overlay;
  GtkDropDown          *account_dropdown;
  GtkStack             *main_stack;
  AdwStatusPage        *unavailable_page;
  AdwViewStack         *view_stack;
  GtkWidget            *accounts_page;
  GtkWidget            *status_page;
  GtkWidget            *rules_page;
  GtkWidget            *connections_page;
  GtkWidget            *agenda_page;
  GtkWidget            *verify_page;
};

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AglWindow, agl_window, ADW_TYPE_APPLICATION_WINDOW)

static void
set_account (AglWindow  *self,
             const char *account)
{
  if (g_strcmp0 (self->account, account) == 0)
    return;
  g_free (self->account);
  self->account = g_strdup (account);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT]);
}

/* The chooser's model is replaced with the names the daemon lists; the
 * chosen account stays chosen while it exists. */
static void
show_account_names (AglWindow *self,
                    GVariant  *accounts)
{
  g_autofree char *keep = g_strdup (self->account);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->account_names));
  guint chosen = GTK_INVALID_LIST_POSITION;
  GVariantIter iter;
  GVariant *entry;

  g_variant_iter_init (&iter, accounts);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *name = NULL;

      if (g_variant_lookup (entry, "name", "&s", &name))
        {
          if (g_strcmp0 (name, keep) == 0)
            chosen = names->len;
          g_ptr_array_add (names, (gpointer) name);
        }
      g_variant_unref (entry);
    }
  if (chosen == GTK_INVALID_LIST_POSITION && names->len > 0)
    chosen = 0;
  g_ptr_array_add (names, NULL);

  self->updating_names = TRUE;
  gtk_string_list_splice (self->account_names, 0, n_old, (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->account_dropdown, chosen);
  self->updating_names = FALSE;

  gtk_widget_set_visible (GTK_WIDGET (self->account_dropdown), names->len > 1);
  set_account (self, chosen == GTK_INVALID_LIST_POSITION
                     ? NULL
                     : gtk_string_list_get_string (self->account_names, chosen));
  /* Without an account there is nothing else to show yet; with one, the
   * window opens on what the user comes for, the status. */
  if (self->account == NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, "accounts");
  else if (!self->listed)
    adw_view_stack_set_visible_child_name (self->view_stack, "status");
  self->listed = TRUE;
}

static void
list_accounts_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglWindow *self = user_data;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;

  accounts = agl_daemon_client_list_accounts_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (accounts == NULL)
    {
      agl_window_show_error (self, error->message);
      return;
    }
  show_account_names (self, accounts);
}

static void
refresh_accounts (AglWindow *self)
{
  agl_daemon_client_list_accounts_async (self->client,
                                         agl_cancellable_restart (&self->accounts_cancellable),
                                         list_accounts_cb, self);
}

static void
sync_status (AglWindow *self)
{
  AglDaemonClientStatus status = agl_daemon_client_get_status (self->client);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "daemon.retry",
                                 status == AGL_DAEMON_CLIENT_UNAVAILABLE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->account_dropdown),
                            status == AGL_DAEMON_CLIENT_READY);

  switch (status)
    {
    case AGL_DAEMON_CLIENT_CONNECTING:
      gtk_stack_set_visible_child_name (self->main_stack, "connecting");
      break;

    case AGL_DAEMON_CLIENT_UNAVAILABLE:
      {
        g_autofree char *reason = NULL;

        reason = g_markup_escape_text (agl_daemon_client_get_error_message (self->client), -1);
        adw_status_page_set_description (self->unavailable_page, reason);
        gtk_stack_set_visible_child_name (self->main_stack, "unavailable");
      }
      break;

    case AGL_DAEMON_CLIENT_READY:
      gtk_stack_set_visible_child_name (self->main_stack, "ready");
      refresh_accounts (self);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
client_status_cb (AglWindow *self)
{
  sync_status (self);
}

static void
client_accounts_changed_cb (AglWindow  *self,
                            const char *name)
{
  refresh_accounts (self);
}

static void
account_selected_cb (AglWindow *self)
{
  guint position = gtk_drop_down_get_selected (self->account_dropdown);

  if (self->updating_names || position == GTK_INVALID_LIST_POSITION)
    return;
  set_account (self, gtk_string_list_get_string (self->account_names, position));
}

/* Actions */

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  AglWindow *self = AGL_WINDOW (widget);

  agl_daemon_client_connect (self->client);
  sync_status (self);
}

static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  AglWindow *self = AGL_WINDOW (widget);

  agl_window_show_page (self, g_variant_get_string (parameter, NULL));
}

/* GObject */

static void
agl_window_constructed (GObject *object)
{
  AglWindow *self = AGL_WINDOW (object);
  GtkWidget *pages[] = {
    self->accounts_page, self->status_page, self->rules_page,
    self->connections_page, self->agenda_page, self->verify_page,
  };

  G_OBJECT_CLASS (agl_window_parent_class)->constructed (object);

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_object_set (pages[i], "client", self->client, NULL);
      g_object_bind_property (self, "account", pages[i], "account", G_BINDING_SYNC_CREATE);
    }

  g_signal_connect_swapped (self->client, "ready", G_CALLBACK (client_status_cb), self);
  g_signal_connect_swapped (self->client, "unavailable", G_CALLBACK (client_status_cb), self);
  g_signal_connect_swapped (self->client, "accounts-changed",
                            G_CALLBACK (client_accounts_changed_cb), self);
  sync_status (self);
}

static void
agl_window_dispose (GObject *object)
{
  AglWindow *self = AGL_WINDOW (object);

  g_cancellable_cancel (self->accounts_cancellable);
  g_clear_object (&self->accounts_cancellable);
  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_object (&self->account_names);
  g_clear_pointer (&self->account, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), AGL_TYPE_WINDOW);

  G_OBJECT_CLASS (agl_window_parent_class)->dispose (object);
}

static void
agl_window_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  AglWindow *self = AGL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_string (value, self->account);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_window_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  AglWindow *self = AGL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_window_class_init (AglWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const struct {
    guint       key;
    const char *page;
  } page_keys[] = {
    { GDK_KEY_1, "accounts" }, { GDK_KEY_2, "status" }, { GDK_KEY_3, "rules" },
    { GDK_KEY_4, "connections" }, { GDK_KEY_5, "agenda" }, { GDK_KEY_6, "verify" },
  };

  object_class->constructed = agl_window_constructed;
  object_class->dispose = agl_window_dispose;
  object_class->get_property = agl_window_get_property;
  object_class->set_property = agl_window_set_property;

  /**
   * AglWindow:client:
   *
   * The connection to the daemon everything shown comes from.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         AGL_TYPE_DAEMON_CLIENT,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * AglWindow:account:
   *
   * The account chosen in the header bar, which the pages show; %NULL
   * while there is none.
   */
  properties[PROP_ACCOUNT] =
    g_param_spec_string ("account", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (AGL_TYPE_ACCOUNTS_PAGE);
  g_type_ensure (AGL_TYPE_STATUS_PAGE);
  g_type_ensure (AGL_TYPE_RULES_PAGE);
  g_type_ensure (AGL_TYPE_CONNECTIONS_PAGE);
  g_type_ensure (AGL_TYPE_AGENDA_PAGE);
  g_type_ensure (AGL_TYPE_VERIFY_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, AglWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, account_dropdown);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, unavailable_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, accounts_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, status_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, rules_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, connections_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, agenda_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, verify_page);

  gtk_widget_class_install_action (widget_class, "daemon.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  for (guint i = 0; i < G_N_ELEMENTS (page_keys); i++)
    gtk_widget_class_add_binding_action (widget_class, page_keys[i].key, GDK_ALT_MASK,
                                         "win.show-page", "s", page_keys[i].page);
}

static void
agl_window_init (AglWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  agl_accessible_name_buttons (GTK_WIDGET (self));

  self->account_names = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->account_dropdown, G_LIST_MODEL (self->account_names));
  g_signal_connect_swapped (self->account_dropdown, "notify::selected",
                            G_CALLBACK (account_selected_cb), self);
}

/**
 * agl_window_new:
 * @application: the application, whose daemon client the window shows
 *
 * Returns: (transfer full): a new main window.
 */
AglWindow *
agl_window_new (AglApplication *application)
{
  g_return_val_if_fail (AGL_IS_APPLICATION (application), NULL);

  return g_object_new (AGL_TYPE_WINDOW,
                       "application", application,
                       "client", agl_application_get_client (application),
                       NULL);
}

/**
 * agl_window_show_page:
 * @self: the window
 * @name: "accounts", "status", "rules", "connections", "agenda" or "verify"
 *
 * Brings a page to the front.
 */
void
agl_window_show_page (AglWindow  *self,
                      const char *name)
{
  g_return_if_fail (AGL_IS_WINDOW (self));

  if (adw_view_stack_get_child_by_name (self->view_stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, name);
}

/**
 * agl_window_choose_account:
 * @self: the window
 * @name: an account's name
 *
 * Makes @name the account the pages show, as if chosen in the header bar.
 */
void
agl_window_choose_account (AglWindow  *self,
                           const char *name)
{
  guint n;

  g_return_if_fail (AGL_IS_WINDOW (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->account_names));
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->account_names, i), name) == 0)
      {
        gtk_drop_down_set_selected (self->account_dropdown, i);
        return;
      }
  /* Not listed yet (just added): choose it once the list comes. */
  set_account (self, name);
}

/**
 * agl_window_show_error:
 * @self: the window
 * @message: a sentence from the daemon or the app
 *
 * Shows @message as a toast, for errors that belong to no field.
 */
void
agl_window_show_error (AglWindow  *self,
                       const char *message)
{
  GtkWidget *title;
  AdwToast *toast;

  g_return_if_fail (AGL_IS_WINDOW (self));

  /* While the daemon is away the status page says so; failed calls would
   * only repeat it. */
  if (agl_daemon_client_get_status (self->client) != AGL_DAEMON_CLIENT_READY)
    return;

  /* The daemon's messages are whole sentences, too long for a toast's own
   * title, which cuts them off. */
  title = gtk_label_new (message);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (title), 50);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");

  toast = adw_toast_new ("");
  adw_toast_set_custom_title (toast, title);
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}
