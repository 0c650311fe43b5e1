/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "agl-ctl-account.h"
#include "agl-ctl-output.h"

/* The options of "account add" and "account update"; each is NULL or FALSE
 * when not given, so that only the given ones are sent. */
typedef struct {
  char     *email;
  char     *url;
  gboolean  autodiscover;
  char     *auth;
  char     *user;
  char     *domain;
  gboolean  password_stdin;
  char     *server_version;
  char     *ca_file;
  gboolean  impersonate;
  gboolean  no_impersonate;
  char     *conflict_policy;
  char     *poll_interval;
  gboolean  confirm;
} AccountOptions;

static const char * const conflict_policies[] = {
  "exchange-wins", "local-wins", "newer-wins", NULL
};

/* The daemon's bounds of "poll-interval", in seconds. */
#define POLL_INTERVAL_MIN 10
#define POLL_INTERVAL_MAX 86400

/* The D-Bus name of AGL_ERROR_CONFIRMATION_NEEDED (daemon/agl-error.c);
 * agendalinectl does not link the daemon's error domain. */
#define CONFIRMATION_NEEDED_ERROR "io.github.agendaline.Error.ConfirmationNeeded"

static void
account_options_clear (AccountOptions *options)
{
  g_clear_pointer (&options->email, g_free);
  g_clear_pointer (&options->url, g_free);
  g_clear_pointer (&options->auth, g_free);
  g_clear_pointer (&options->user, g_free);
  g_clear_pointer (&options->domain, g_free);
  g_clear_pointer (&options->server_version, g_free);
  g_clear_pointer (&options->ca_file, g_free);
  g_clear_pointer (&options->conflict_policy, g_free);
  g_clear_pointer (&options->poll_interval, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (AccountOptions, account_options_clear)

static void
add_account_entries (GOptionContext *context,
                     AccountOptions *options,
                     gboolean        update)
{
  const GOptionEntry entries[] = {
    { "email", 0, 0, G_OPTION_ARG_STRING, &options->email,
      N_("The mailbox’s e-mail address"), N_("ADDRESS") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &options->url,
      N_("The EWS URL (https://…/EWS/Exchange.asmx); turns autodiscover off"), N_("URL") },
    { "autodiscover", 0, 0, G_OPTION_ARG_NONE, &options->autodiscover,
      N_("Find the EWS URL from the e-mail address"), NULL },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &options->auth,
      N_("How to sign in: ntlm, basic or oauth2"), N_("METHOD") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &options->user,
      N_("The user name to sign in with (default: the e-mail address)"), N_("USER") },
    { "domain", 0, 0, G_OPTION_ARG_STRING, &options->domain,
      N_("The Windows domain for NTLM"), N_("DOMAIN") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &options->password_stdin,
      N_("Read the password from the first line of standard input"), NULL },
    { "server-version", 0, 0, G_OPTION_ARG_STRING, &options->server_version,
      N_("auto, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, "
         "Exchange2013, Exchange2013_SP1 or Exchange2016"), N_("VERSION") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options->ca_file,
      N_("A PEM file of extra trusted CA certificates"), N_("FILE") },
    { "impersonate", 0, 0, G_OPTION_ARG_NONE, &options->impersonate,
      N_("Sign in as --user, a service account, and act on the mailbox of --email through Exchange impersonation"), NULL },
    { "no-impersonate", 0, 0, G_OPTION_ARG_NONE, &options->no_impersonate,
      N_("Sign in as the mailbox’s own user (the default)"), NULL },
    { "conflict-policy", 0, 0, G_OPTION_ARG_STRING, &options->conflict_policy,
      N_("Who wins when an appointment changed on both sides: exchange-wins (the default), "
         "local-wins or newer-wins; the loser is kept as a conflict"), N_("POLICY") },
    { "poll-interval", 0, 0, G_OPTION_ARG_STRING, &options->poll_interval,
      N_("Seconds between syncs when the server sends no notifications (10 to 86400, default 60)"),
      N_("SECONDS") },
    G_OPTION_ENTRY_NULL
  };
  const GOptionEntry update_entries[] = {
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &options->confirm,
      N_("Go ahead with a change of mailbox that the daemon asked to confirm"), NULL },
    G_OPTION_ENTRY_NULL
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (update)
    g_option_context_add_main_entries (context, update_entries, GETTEXT_PACKAGE);
}

/* Reads the password as "echo secret | agendalinectl … --password-stdin"
 * or "… < file" passes it: never from the command line, where every user
 * of the machine could read it in ps(1).  At a terminal the typing is not
 * echoed. */
static char *
read_password (GError **error)
{
  char *line = NULL;
  size_t size = 0;
  ssize_t length;
  int saved_errno;
  struct termios saved, quiet;
  gboolean restore = FALSE;
  char *password;

  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      g_printerr ("%s", _("Password: "));
      restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }

  length = getline (&line, &size, stdin);
  saved_errno = errno;

  if (restore)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      g_printerr ("\n");
    }

  if (length < 0 && ferror (stdin))
    {
      free (line);
      g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                   _("cannot read the password from standard input: %s"),
                   g_strerror (saved_errno));
      return NULL;
    }

  if (length > 0 && line[length - 1] == '\n')
    line[--length] = '\0';
  if (length > 0 && line[length - 1] == '\r')
    line[--length] = '\0';

  if (length <= 0 || !g_utf8_validate (line, length, NULL))
    {
      if (line != NULL)
        explicit_bzero (line, size);
      free (line);
      g_set_error_literal (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                           length <= 0 ? _("no password on standard input")
                                       : _("the password on standard input is not UTF-8 text"));
      return NULL;
    }

  password = g_strndup (line, length);
  explicit_bzero (line, size);
  free (line);
  return password;
}

static void
free_password (char *password)
{
  if (password == NULL)
    return;
  explicit_bzero (password, strlen (password));
  g_free (password);
}

/* The daemon runs in its own working directory and checks the file itself,
 * so a relative path means nothing to it: make it absolute here, against
 * the directory the user typed it in. */
static char *
ca_file_for_daemon (const char  *ca_file,
                    GError     **error)
{
  g_autofree char *absolute = NULL;
  g_autoptr(GError) local_error = NULL;
  char *utf8;

  if (*ca_file == '\0')
    return g_strdup ("");

  absolute = g_canonicalize_filename (ca_file, NULL);
  utf8 = g_filename_to_utf8 (absolute, -1, NULL, NULL, &local_error);
  if (utf8 == NULL)
    g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                 _("The CA file name cannot be sent to the daemon: %s"), local_error->message);
  return utf8;
}

/* Builds the a{sv} of the options given.  --url and --autodiscover are sent
 * as the pair of keys that says both halves of the choice, so that the
 * daemon switches between them on update instead of refusing both set. */
static gboolean
build_settings (AglCtl          *ctl,
                AccountOptions  *options,
                gboolean         update,
                GVariant       **out_settings,
                int             *out_status)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GError) error = NULL;
  guint64 poll_interval = 0;
  gboolean any = FALSE;

  if (options->url != NULL && options->autodiscover)
    {
      *out_status = agl_ctl_usage_error (ctl, _("Give either --url or --autodiscover, not both"));
      return FALSE;
    }
  if (options->impersonate && options->no_impersonate)
    {
      *out_status = agl_ctl_usage_error (ctl, _("Give either --impersonate or --no-impersonate, not both"));
      return FALSE;
    }
  /* Checked here too, so that a typo is a usage error naming the option
   * and the choices, before any password is read. */
  if (options->conflict_policy != NULL &&
      !g_strv_contains (conflict_policies, options->conflict_policy))
    {
      *out_status = agl_ctl_usage_error (ctl, _("Unknown conflict policy “%s”: use exchange-wins, local-wins or newer-wins"),
                                         options->conflict_policy);
      return FALSE;
    }
  if (options->poll_interval != NULL &&
      !g_ascii_string_to_unsigned (options->poll_interval, 10, POLL_INTERVAL_MIN,
                                   POLL_INTERVAL_MAX, &poll_interval, NULL))
    {
      *out_status = agl_ctl_usage_error (ctl, _("“%s” is not a poll interval: give a whole number of seconds from %d to %d"),
                                         options->poll_interval, POLL_INTERVAL_MIN, POLL_INTERVAL_MAX);
      return FALSE;
    }

  if (options->email != NULL)
    {
      g_variant_dict_insert (&dict, "email", "s", options->email);
      any = TRUE;
    }
  if (options->url != NULL)
    {
      g_variant_dict_insert (&dict, "url", "s", options->url);
      g_variant_dict_insert (&dict, "autodiscover", "b", FALSE);
      any = TRUE;
    }
  if (options->autodiscover)
    {
      g_variant_dict_insert (&dict, "autodiscover", "b", TRUE);
      if (update)
        g_variant_dict_insert (&dict, "url", "s", "");
      any = TRUE;
    }
  if (options->auth != NULL)
    {
      g_variant_dict_insert (&dict, "auth", "s", options->auth);
      any = TRUE;
    }
  if (options->user != NULL)
    {
      g_variant_dict_insert (&dict, "user", "s", options->user);
      any = TRUE;
    }
  if (options->domain != NULL)
    {
      g_variant_dict_insert (&dict, "domain", "s", options->domain);
      any = TRUE;
    }
  if (options->server_version != NULL)
    {
      g_variant_dict_insert (&dict, "server-version", "s", options->server_version);
      any = TRUE;
    }
  if (options->ca_file != NULL)
    {
      g_autofree char *ca_file = ca_file_for_daemon (options->ca_file, &error);

      if (ca_file == NULL)
        {
          *out_status = agl_ctl_fail (ctl, error);
          return FALSE;
        }
      g_variant_dict_insert (&dict, "ca-file", "s", ca_file);
      any = TRUE;
    }

  if (options->impersonate || options->no_impersonate)
    {
      g_variant_dict_insert (&dict, "impersonate", "b", options->impersonate);
      any = TRUE;
    }
  if (options->conflict_policy != NULL)
    {
      g_variant_dict_insert (&dict, "conflict-policy", "s", options->conflict_policy);
      any = TRUE;
    }
  if (options->poll_interval != NULL)
    {
      g_variant_dict_insert (&dict, "poll-interval", "u", (guint32) poll_interval);
      any = TRUE;
    }
  /* Not a change of its own: it goes with the change it confirms. */
  if (options->confirm)
    g_variant_dict_insert (&dict, "confirm", "b", TRUE);

  if (update && !any && !options->password_stdin)
    {
      *out_status = agl_ctl_usage_error (ctl, _("Nothing to change: give at least one option"));
      return FALSE;
    }

  /* Last, so that a usage error never leaves the user typing a password
   * for nothing. */
  if (options->password_stdin)
    {
      char *password = read_password (&error);

      if (password == NULL)
        {
          *out_status = agl_ctl_fail (ctl, error);
          return FALSE;
        }
      g_variant_dict_insert (&dict, "password", "s", password);
      free_password (password);
    }

  *out_settings = g_variant_ref_sink (g_variant_dict_end (&dict));
  return TRUE;
}

static int
add_or_update (AglCtl   *ctl,
               int       argc,
               char    **argv,
               gboolean  update)
{
  g_auto(AccountOptions) options = { NULL, };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) settings = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  int status = AGL_CTL_EXIT_SUCCESS;
  gboolean ok;

  if (update)
    context = agl_ctl_option_context_new (ctl, _("NAME"),
                                          _("Change the settings of the account NAME; the options not given stay as they are."),
                                          _("Examples:\n"
                                            "  agendalinectl account update work --url https://mail.example.com/EWS/Exchange.asmx\n"
                                            "  agendalinectl account update work --autodiscover\n"
                                            "  agendalinectl account update alice --no-impersonate --user alice\n"
                                            "  agendalinectl account update work --conflict-policy newer-wins --poll-interval 300\n"
                                            "  agendalinectl account update work --email team@example.com --confirm\n"
                                            "  secret-tool lookup … | agendalinectl account update work --password-stdin"),
                                          NULL);
  else
    context = agl_ctl_option_context_new (ctl, _("NAME"),
                                          _("Add an Exchange account called NAME.  Without --url, the EWS URL is found by autodiscover."),
                                          _("Examples:\n"
                                            "  agendalinectl account add work --email anna@example.com\n"
                                            "  agendalinectl account add work --email anna@example.com \\\n"
                                            "      --url https://mail.example.com/EWS/Exchange.asmx --auth basic --password-stdin < pass.txt\n"
                                            "  agendalinectl account add alice --email alice@example.com --impersonate \\\n"
                                            "      --user svc-agendaline --domain EXAMPLE --password-stdin < service-pass.txt"),
                                          NULL);
  add_account_entries (context, &options, update);

  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1, _("Missing the account name")))
    return AGL_CTL_EXIT_USAGE;
  if (!update && options.email == NULL)
    return agl_ctl_usage_error (ctl, _("Missing --email: the account’s e-mail address"));

  if (!build_settings (ctl, &options, update, &settings, &status))
    return status;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);

  if (update)
    ok = agl_daemon_call_update_account_sync (daemon, argv[1], settings,
                                              G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  else
    ok = agl_daemon_call_add_account_sync (daemon, argv[1], settings,
                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (!ok && update && g_dbus_error_is_remote_error (error))
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      /* The daemon's message says what the change would do; unless it
       * already says so, add how to go ahead. */
      if (g_strcmp0 (remote, CONFIRMATION_NEEDED_ERROR) == 0 &&
          strstr (error->message, "--confirm") == NULL)
        {
          g_autoptr(GError) hinted = NULL;

          /* TRANSLATORS: the daemon's message (what the change would do),
           * then how to go ahead */
          hinted = g_error_new (AGL_CTL_ERROR, AGL_CTL_ERROR_CONFIRMATION,
                                _("%s Run the same command again with --confirm to go ahead."),
                                error->message);
          return agl_ctl_fail (ctl, hinted);
        }
    }
  if (!ok)
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_account_add:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "add NAME --email ADDRESS [OPTION…]"
 *
 * Adds an account with the settings given.
 *
 * Returns: the exit status
 */
int
agl_ctl_account_add (AglCtl *ctl,
                     int     argc,
                     char  **argv)
{
  return add_or_update (ctl, argc, argv, FALSE);
}

/**
 * agl_ctl_account_update:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "update NAME [OPTION…]"
 *
 * Changes the settings given and leaves the others.
 *
 * Returns: the exit status
 */
int
agl_ctl_account_update (AglCtl *ctl,
                        int     argc,
                        char  **argv)
{
  return add_or_update (ctl, argc, argv, TRUE);
}

static JsonNode *
account_json (GVariant *account)
{
  JsonObject *object = json_object_new ();

  /* A fixed set of members, whatever else the daemon sends: scripts can
   * rely on them, and nothing secret can slip through. */
  agl_ctl_json_set_string (object, "name", account, "name", FALSE);
  agl_ctl_json_set_string (object, "email", account, "email", FALSE);
  agl_ctl_json_set_string (object, "url", account, "url", TRUE);
  json_object_set_boolean_member (object, "autodiscover",
                                  agl_ctl_get_boolean (account, "autodiscover", FALSE));
  agl_ctl_json_set_string (object, "auth", account, "auth", FALSE);
  agl_ctl_json_set_string (object, "user", account, "user", FALSE);
  agl_ctl_json_set_string (object, "domain", account, "domain", TRUE);
  agl_ctl_json_set_string (object, "server_version", account, "server-version", FALSE);
  agl_ctl_json_set_string (object, "ca_file", account, "ca-file", TRUE);
  json_object_set_boolean_member (object, "impersonate",
                                  agl_ctl_get_boolean (account, "impersonate", FALSE));
  agl_ctl_json_set_string (object, "detected_server_version", account, "detected-server-version", TRUE);
  agl_ctl_json_set_string (object, "server_build", account, "server-build", TRUE);
  json_object_set_boolean_member (object, "enabled",
                                  agl_ctl_get_boolean (account, "enabled", FALSE));
  json_object_set_boolean_member (object, "has_password",
                                  agl_ctl_get_boolean (account, "has-password", FALSE));
  agl_ctl_json_set_string (object, "created", account, "created", FALSE);
  /* null from a daemon that predates them */
  agl_ctl_json_set_string (object, "conflict_policy", account, "conflict-policy", TRUE);
  agl_ctl_json_set_integer (object, "poll_interval", account, "poll-interval");

  return agl_ctl_json_take_object (object);
}

static void
add_account_row (AglCtlTable *table,
                 GVariant    *account)
{
  g_autofree char *name = agl_ctl_dup_string (account, "name");
  g_autofree char *email = agl_ctl_dup_string (account, "email");
  g_autofree char *url = agl_ctl_dup_string (account, "url");
  g_autofree char *auth = agl_ctl_dup_string (account, "auth");
  g_autofree char *user = agl_ctl_dup_string (account, "user");
  g_autofree char *detected = agl_ctl_dup_string (account, "detected-server-version");
  g_autofree char *build = agl_ctl_dup_string (account, "server-build");
  g_autofree char *exchange = NULL;
  g_autofree char *policy = agl_ctl_dup_string (account, "conflict-policy");
  g_autofree char *poll = NULL;
  gint64 poll_interval = 0;
  const char *server;

  if (agl_ctl_get_boolean (account, "autodiscover", FALSE) || url == NULL || *url == '\0')
    server = _("autodiscover");
  else
    server = url;

  /* What the last test learnt; "-" until then. */
  if (build != NULL && *build != '\0' && detected != NULL && *detected != '\0')
    exchange = g_strdup_printf ("%s (%s)", build, detected);
  else if (build != NULL && *build != '\0')
    exchange = g_strdup (build);
  else
    exchange = g_strdup ("-");

  /* "-" from a daemon that does not send them. */
  if (agl_ctl_get_integer (account, "poll-interval", &poll_interval))
    /* TRANSLATORS: seconds, as in "agendalinectl connections" */
    poll = g_strdup_printf (_("%d s"), (int) poll_interval);
  else
    poll = g_strdup ("-");

  agl_ctl_table_add_row (table, name, email, user, auth, server, exchange,
                         policy != NULL && *policy != '\0' ? policy : "-", poll,
                         agl_ctl_get_boolean (account, "enabled", FALSE) ? _("yes") : _("no"),
                         agl_ctl_get_boolean (account, "has-password", FALSE) ? _("stored") : _("none"));
}

/**
 * agl_ctl_account_list:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "list [--json]"
 *
 * Lists the accounts as a table or a JSON array; never a password.
 *
 * Returns: the exit status
 */
int
agl_ctl_account_list (AglCtl *ctl,
                      int     argc,
                      char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  GVariantIter iter;
  GVariant *account;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON array"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, NULL, _("List the accounts, sorted by name."),
                                        _("Examples:\n"
                                          "  agendalinectl account list\n"
                                          "  agendalinectl account list --json | jq -r '.[].name'"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 0, 0, NULL))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  if (!agl_daemon_call_list_accounts_sync (daemon, G_DBUS_CALL_FLAGS_NONE, -1,
                                           &accounts, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = NULL;
      JsonArray *array = json_array_new ();

      g_variant_iter_init (&iter, accounts);
      while ((account = g_variant_iter_next_value (&iter)) != NULL)
        {
          json_array_add_element (array, account_json (account));
          g_variant_unref (account);
        }
      root = agl_ctl_json_take_array (array);
      agl_ctl_print_json (root, TRUE);
    }
  else
    {
      /* TRANSLATORS: column headers of "agendalinectl account list" */
      g_autoptr(AglCtlTable) table = agl_ctl_table_new (10, _("NAME"), _("E-MAIL"), _("USER"),
                                                        _("AUTH"), _("SERVER"), _("EXCHANGE"),
                                                        _("ON CONFLICT"), _("POLL"),
                                                        _("ENABLED"), _("PASSWORD"));

      g_variant_iter_init (&iter, accounts);
      while ((account = g_variant_iter_next_value (&iter)) != NULL)
        {
          add_account_row (table, account);
          g_variant_unref (account);
        }

      if (agl_ctl_table_get_n_rows (table) == 0)
        g_print ("%s\n", _("No accounts."));
      else
        agl_ctl_table_print (table);
    }
  return AGL_CTL_EXIT_SUCCESS;
}

typedef enum {
  SIMPLE_REMOVE,
  SIMPLE_ENABLE,
  SIMPLE_DISABLE,
} SimpleAction;

/* remove, enable and disable: one account name, one call, no output. */
static int
run_simple (AglCtl       *ctl,
            int           argc,
            char        **argv,
            SimpleAction  action)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;
  gboolean ok = FALSE;

  switch (action)
    {
    case SIMPLE_REMOVE:
      context = agl_ctl_option_context_new (ctl, _("NAME"),
                                            _("Remove the account NAME with its appointments, its sync state and its stored password."),
                                            _("Example:\n  agendalinectl account remove work"),
                                            NULL);
      break;
    case SIMPLE_ENABLE:
      context = agl_ctl_option_context_new (ctl, _("NAME"),
                                            _("Start syncing the account NAME."),
                                            _("Example:\n  agendalinectl account enable work"),
                                            NULL);
      break;
    case SIMPLE_DISABLE:
      context = agl_ctl_option_context_new (ctl, _("NAME"),
                                            _("Stop syncing the account NAME; its appointments stay in the agenda."),
                                            _("Example:\n  agendalinectl account disable work"),
                                            NULL);
      break;
    default:
      g_assert_not_reached ();
    }

  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1, _("Missing the account name")))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);

  switch (action)
    {
    case SIMPLE_REMOVE:
      ok = agl_daemon_call_remove_account_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, -1,
                                                NULL, &error);
      break;
    case SIMPLE_ENABLE:
      ok = agl_daemon_call_enable_account_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, -1,
                                                NULL, &error);
      break;
    case SIMPLE_DISABLE:
      ok = agl_daemon_call_disable_account_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, -1,
                                                 NULL, &error);
      break;
    default:
      g_assert_not_reached ();
    }

  if (!ok)
    return agl_ctl_fail (ctl, error);
  return AGL_CTL_EXIT_SUCCESS;
}

/**
 * agl_ctl_account_remove:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "remove NAME"
 *
 * Returns: the exit status
 */
int
agl_ctl_account_remove (AglCtl *ctl,
                        int     argc,
                        char  **argv)
{
  return run_simple (ctl, argc, argv, SIMPLE_REMOVE);
}

/**
 * agl_ctl_account_enable:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "enable NAME"
 *
 * Returns: the exit status
 */
int
agl_ctl_account_enable (AglCtl *ctl,
                        int     argc,
                        char  **argv)
{
  return run_simple (ctl, argc, argv, SIMPLE_ENABLE);
}

/**
 * agl_ctl_account_disable:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "disable NAME"
 *
 * Returns: the exit status
 */
int
agl_ctl_account_disable (AglCtl *ctl,
                         int     argc,
                         char  **argv)
{
  return run_simple (ctl, argc, argv, SIMPLE_DISABLE);
}

/* The a{sv} of TestAccount as JSON: a fixed set of members. */
static JsonNode *
test_result_json (GVariant *result)
{
  JsonObject *object = json_object_new ();

  agl_ctl_json_set_string (object, "url", result, "url", FALSE);
  agl_ctl_json_set_string (object, "server_version", result, "server-version", FALSE);
  agl_ctl_json_set_string (object, "product", result, "product", FALSE);
  agl_ctl_json_set_string (object, "mailbox", result, "mailbox", FALSE);
  agl_ctl_json_set_string (object, "impersonation", result, "impersonation", FALSE);
  agl_ctl_json_set_string (object, "calendar_folder", result, "calendar-folder", FALSE);
  return agl_ctl_json_take_object (object);
}

/**
 * agl_ctl_account_test:
 * @ctl: the run
 * @argc: the argument count
 * @argv: "test NAME [--json]"
 *
 * Connects with the account's settings and stored password and says what
 * the server is, or in one line why it could not be reached.
 *
 * Returns: the exit status
 */
int
agl_ctl_account_test (AglCtl *ctl,
                      int     argc,
                      char  **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *product = NULL;
  g_autofree char *version = NULL;
  g_autofree char *url = NULL;
  g_autofree char *mailbox = NULL;
  g_autofree char *impersonation = NULL;
  AglDaemon *daemon;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print a JSON object"), NULL },
    G_OPTION_ENTRY_NULL
  };

  context = agl_ctl_option_context_new (ctl, _("NAME"),
                                        _("Connect to the account NAME’s server and show its version, the EWS URL and the mailbox."),
                                        _("Examples:\n"
                                          "  agendalinectl account test work\n"
                                          "  agendalinectl account test work --json | jq -r .server_version"),
                                        entries);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_expect_arguments (ctl, argc, argv, 1, 1, _("Missing the account name")))
    return AGL_CTL_EXIT_USAGE;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    return agl_ctl_fail (ctl, error);
  /* Autodiscover and the retries of a busy server can take a while. */
  if (!agl_daemon_call_test_account_sync (daemon, argv[1], G_DBUS_CALL_FLAGS_NONE, 180 * 1000,
                                          &result, NULL, &error))
    return agl_ctl_fail (ctl, error);

  if (ctl->json)
    {
      g_autoptr(JsonNode) root = test_result_json (result);

      agl_ctl_print_json (root, TRUE);
      return AGL_CTL_EXIT_SUCCESS;
    }

  product = agl_ctl_dup_string (result, "product");
  version = agl_ctl_dup_string (result, "server-version");
  url = agl_ctl_dup_string (result, "url");
  mailbox = agl_ctl_dup_string (result, "mailbox");
  impersonation = agl_ctl_dup_string (result, "impersonation");
  if (g_strcmp0 (impersonation, "not used") == 0)
    /* TRANSLATORS: product, version, EWS URL, mailbox */
    g_print (_("Connected to %s (v%s) at %s as %s; impersonation not used.\n"),
             product, version, url, mailbox);
  else if (g_strcmp0 (impersonation, "works") == 0)
    g_print (_("Connected to %s (v%s) at %s as %s; impersonation works.\n"),
             product, version, url, mailbox);
  else
    g_print (_("Connected to %s (v%s) at %s as %s; impersonation failed: %s\n"),
             product, version, url, mailbox, impersonation);
  return AGL_CTL_EXIT_SUCCESS;
}
