/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-page"

#include "agl-page.h"

/*
 * The base of the window's pages: it holds what every page gets from the
 * window (agl-window.c) and tells the page through AglPageClass:
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

typedef struct
{
  AglDaemonClient *client;
  char            *account;
} AglPagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (AglPage, agl_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
client_ready_cb (AglPage *self)
{
  AglPageClass *klass = AGL_PAGE_GET_CLASS (self);

  if (klass->client_ready != NULL)
    klass->client_ready (self);
}

static void
set_client (AglPage         *self,
            AglDaemonClient *client)
{
  AglPagePrivate *priv = agl_page_get_instance_private (self);
  AglPageClass *klass = AGL_PAGE_GET_CLASS (self);

  if (priv->client == client)
    return;
  /* The pages connect to the client once and never look for another. */
  g_return_if_fail (priv->client == NULL);

  priv->client = g_object_ref (client);
  g_signal_connect_object (client, "ready", G_CALLBACK (client_ready_cb), self,
                           G_CONNECT_SWAPPED);
  if (klass->client_changed != NULL)
    klass->client_changed (self);
  if (agl_daemon_client_get_status (client) == AGL_DAEMON_CLIENT_READY)
    client_ready_cb (self);
}

static void
set_account (AglPage    *self,
             const char *account)
{
  AglPagePrivate *priv = agl_page_get_instance_private (self);
  AglPageClass *klass = AGL_PAGE_GET_CLASS (self);

  if (g_strcmp0 (priv->account, account) == 0)
    return;
  g_free (priv->account);
  priv->account = g_strdup (account);
  if (klass->account_changed != NULL)
    klass->account_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT]);
}

/* GObject */

static void
agl_page_dispose (GObject *object)
{
  AglPage *self = AGL_PAGE (object);
  AglPagePrivate *priv = agl_page_get_instance_private (self);

  /* The page's handlers on the client have the page as their data. */
  if (priv->client != NULL)
    g_signal_handlers_disconnect_by_data (priv->client, self);
  g_clear_object (&priv->client);
  g_clear_pointer (&priv->account, g_free);

  /* The template's root is AdwBin's child too: GTK 4.8's
   * gtk_widget_dispose_template() unparents it, which AdwBin 1.2 does not
   * notice and unparents it again; taking it out first avoids that.  The
   * template is the page's own, and pages are final types. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), G_OBJECT_TYPE (self));

  G_OBJECT_CLASS (agl_page_parent_class)->dispose (object);
}

static void
agl_page_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  AglPage *self = AGL_PAGE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, agl_page_get_client (self));
      break;

    case PROP_ACCOUNT:
      g_value_set_string (value, agl_page_get_account (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_page_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  AglPage *self = AGL_PAGE (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      set_client (self, g_value_get_object (value));
      break;

    case PROP_ACCOUNT:
      set_account (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_page_class_init (AglPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_page_dispose;
  object_class->get_property = agl_page_get_property;
  object_class->set_property = agl_page_set_property;

  /**
   * AglPage:client:
   *
   * The connection to the daemon; set once by the window.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, AGL_TYPE_DAEMON_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * AglPage:account:
   *
   * The account the page shows, or %NULL when there is none.
   */
  properties[PROP_ACCOUNT] =
    g_param_spec_string ("account", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
agl_page_init (AglPage *self)
{
}

/**
 * agl_page_get_client:
 * @self: a page
 *
 * Returns: (transfer none) (nullable): the daemon client, or %NULL until
 *   the window has set it
 */
AglDaemonClient *
agl_page_get_client (AglPage *self)
{
  AglPagePrivate *priv;

  g_return_val_if_fail (AGL_IS_PAGE (self), NULL);

  priv = agl_page_get_instance_private (self);
  return priv->client;
}

/**
 * agl_page_get_account:
 * @self: a page
 *
 * Returns: (nullable): the account the page shows, or %NULL
 */
const char *
agl_page_get_account (AglPage *self)
{
  AglPagePrivate *priv;

  g_return_val_if_fail (AGL_IS_PAGE (self), NULL);

  priv = agl_page_get_instance_private (self);
  return priv->account;
}

/**
 * agl_page_set_account_quietly:
 * @self: a page
 * @account: (nullable): the account the page now shows
 *
 * Stores @account without calling AglPageClass.account_changed and
 * without notifying "account": for a page that has already made itself
 * show @account (the accounts page after adding one) and then asks the
 * window to choose it, whose binding then finds nothing to change.
 */
void
agl_page_set_account_quietly (AglPage    *self,
                              const char *account)
{
  AglPagePrivate *priv;

  g_return_if_fail (AGL_IS_PAGE (self));

  priv = agl_page_get_instance_private (self);
  if (priv->account != account)
    {
      g_free (priv->account);
      priv->account = g_strdup (account);
    }
}
