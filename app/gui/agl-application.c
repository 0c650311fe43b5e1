/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-application"

#include "agl-application.h"
#include "agl-application-actions.h"
#include "agl-window.h"

struct _AglApplication
{
  AdwApplication   parent_instance;

  /* One connection to the daemon, shared by every window. */
  AglDaemonClient *client;
};

G_DEFINE_FINAL_TYPE (AglApplication, agl_application, ADW_TYPE_APPLICATION)

static void
agl_application_startup (GApplication *application)
{
  AglApplication *self = AGL_APPLICATION (application);

  G_APPLICATION_CLASS (agl_application_parent_class)->startup (application);

  _agl_application_actions_init (self);

  /* Connect before the first window exists so that the daemon is being
   * started while GTK builds it. */
  self->client = agl_daemon_client_new ();
  agl_daemon_client_connect (self->client);
}

static void
agl_application_activate (GApplication *application)
{
  AglApplication *self = AGL_APPLICATION (application);
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (agl_window_new (self));

  gtk_window_present (window);
}

static void
agl_application_shutdown (GApplication *application)
{
  AglApplication *self = AGL_APPLICATION (application);

  g_clear_object (&self->client);

  G_APPLICATION_CLASS (agl_application_parent_class)->shutdown (application);
}

static void
agl_application_class_init (AglApplicationClass *klass)
{
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  application_class->startup = agl_application_startup;
  application_class->activate = agl_application_activate;
  application_class->shutdown = agl_application_shutdown;
}

static void
agl_application_init (AglApplication *self)
{
}

/**
 * agl_application_new:
 *
 * Returns: (transfer full): the Agendaline application.
 */
AglApplication *
agl_application_new (void)
{
  return g_object_new (AGL_TYPE_APPLICATION,
                       "application-id", AGL_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

/**
 * agl_application_get_client:
 * @self: the application
 *
 * Returns: (transfer none): the client windows reach the daemon through.
 */
AglDaemonClient *
agl_application_get_client (AglApplication *self)
{
  g_return_val_if_fail (AGL_IS_APPLICATION (self), NULL);

  return self->client;
}
