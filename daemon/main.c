/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "agl-secrets.h"
#include "agl-service.h"
#include "agl-store.h"

/*
 * agendalined: one per user session, on the session bus.  Opens the store
 * first (a bad database is reported before anything is served), exports the
 * service, then owns the bus name.
 */

/* Lines of the log kept for GetLog. */
#define LOG_CAPACITY 2000

typedef struct {
  GMainLoop  *loop;
  AglService *service;
  gboolean    name_acquired;
  int        exit_status;
} Daemon;

static void
name_acquired_cb (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Daemon *daemon = user_data;

  daemon->name_acquired = TRUE;
  g_message ("Serving %s", name);
  agl_service_start_sync (daemon->service);
}

static void
name_lost_cb (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Daemon *daemon = user_data;

  if (connection == NULL)
    {
      g_printerr (_("agendalined: lost the connection to the session bus\n"));
      daemon->exit_status = EXIT_FAILURE;
    }
  else if (daemon->name_acquired)
    {
      /* Another instance started with --replace: hand over quietly. */
      g_message ("Replaced by another agendalined; exiting");
      daemon->exit_status = EXIT_SUCCESS;
    }
  else
    {
      g_printerr (_("agendalined: another agendalined already serves %s on this bus; "
                    "stop it first or start this one with --replace\n"), name);
      daemon->exit_status = EXIT_FAILURE;
    }
  g_main_loop_quit (daemon->loop);
}

static gboolean
quit_signal_cb (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("Stopping on signal");
  daemon->exit_status = EXIT_SUCCESS;
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(AglStore) store = NULL;
  g_autoptr(AglSecrets) secrets = NULL;
  g_autoptr(AglService) service = NULL;
  g_autoptr(AglLog) log = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *db_dir = NULL;
  g_autofree char *secrets_path = NULL;
  g_autofree char *summary = NULL;
  gboolean replace = FALSE;
  gboolean verbose = FALSE;
  gboolean show_version = FALSE;
  Daemon daemon = { 0 };
  guint owner_id;
  const GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace,
      N_("Replace a running agendalined"), NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_("Use this agenda database instead of the default"), N_("FILE") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log debugging messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &show_version,
      N_("Print the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  /* AGENDALINE_LOCALEDIR: the translations of a build tree that is not
   * installed (the tests run the programs in other languages with it). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("AGENDALINE_LOCALEDIR") != NULL
                                  ? g_getenv ("AGENDALINE_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  summary = g_strdup_printf (_("The Agendaline service: keeps the local agenda and its Exchange "
                               "accounts in step and serves them on the session bus as %s."),
                             AGL_BUS_NAME);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("agendalined: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr (_("agendalined: unexpected argument “%s”\n"), argv[1]);
      return 2;
    }
  if (show_version)
    {
      g_print ("agendalined %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);
  log = agl_log_new (LOG_CAPACITY);
  agl_log_install (log);

  if (db_path == NULL)
    db_path = agl_store_default_path ();

  store = agl_store_open (db_path, &error);
  if (store == NULL)
    {
      g_printerr ("agendalined: %s\n", error->message);
      return EXIT_FAILURE;
    }

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (bus == NULL)
    {
      g_printerr (_("agendalined: cannot connect to the session bus: %s\n"), error->message);
      return EXIT_FAILURE;
    }
  /* The bus going away ends the session; name_lost_cb reports it. */
  g_dbus_connection_set_exit_on_close (bus, FALSE);

  db_dir = g_path_get_dirname (agl_store_get_path (store));
  secrets_path = g_build_filename (db_dir, "passwords", NULL);
  secrets = agl_secrets_new (bus, secrets_path);

  service = agl_service_new (store, secrets);
  agl_service_set_log (service, log);
  if (!agl_service_export (service, bus, AGL_OBJECT_PATH, &error))
    {
      g_printerr (_("agendalined: cannot export the service: %s\n"), error->message);
      return EXIT_FAILURE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  daemon.loop = loop;
  daemon.service = service;
  daemon.exit_status = EXIT_SUCCESS;

  owner_id = g_bus_own_name_on_connection (bus, AGL_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                           (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                           name_acquired_cb, name_lost_cb,
                                           &daemon, NULL);

  g_unix_signal_add (SIGTERM, quit_signal_cb, &daemon);
  g_unix_signal_add (SIGINT, quit_signal_cb, &daemon);

  g_main_loop_run (loop);

  g_bus_unown_name (owner_id);
  agl_service_unexport (service);
  g_dbus_connection_flush_sync (bus, NULL, NULL);
  g_clear_object (&service);
  g_clear_object (&store);

  return daemon.exit_status;
}
