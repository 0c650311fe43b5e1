/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "agl-ctl.h"
#include "agl-ctl-account.h"
#include "agl-ctl-agenda.h"
#include "agl-ctl-presence.h"
#include "agl-ctl-state.h"
#include "agl-ctl-sync.h"

/* A command is "GROUP NAME" (account add) or a lone NAME (state). */
typedef struct {
  const char        *group;
  const char        *name;
  AglCtlCommandFunc  func;
  const char        *summary;
} Command;

/* A group with a @default_command also runs as a lone command: "conflicts
 * work" is "conflicts list work" unless "work" names one of its commands. */
typedef struct {
  const char *name;
  const char *summary;
  const char *default_command;
} Group;

static const Group groups[] = {
  { "account",   N_("Manage Exchange accounts"), NULL },
  { "agenda",    N_("Manage the appointments of the local agenda"), NULL },
  { "conflicts", N_("List and restore the versions that lost a sync conflict"), "list" },
  { "rules",     N_("Show and set the rules for presence and phone status"), "show" },
};

static const Command commands[] = {
  { "account", "add",     agl_ctl_account_add,     N_("Add an Exchange account") },
  { "account", "list",    agl_ctl_account_list,    N_("List the accounts") },
  { "account", "update",  agl_ctl_account_update,  N_("Change an account’s settings") },
  { "account", "remove",  agl_ctl_account_remove,  N_("Remove an account and its appointments") },
  { "account", "enable",  agl_ctl_account_enable,  N_("Start syncing an account") },
  { "account", "disable", agl_ctl_account_disable, N_("Stop syncing an account") },
  { "account", "test",    agl_ctl_account_test,    N_("Connect to an account’s server and show its version") },
  { "agenda",  "list",    agl_ctl_agenda_list,     N_("List appointments") },
  { "agenda",  "occurrences", agl_ctl_agenda_occurrences, N_("List every occurrence of the appointments in a range") },
  { "agenda",  "add",     agl_ctl_agenda_add,      N_("Add an appointment from iCalendar text") },
  { "agenda",  "update",  agl_ctl_agenda_update,   N_("Replace an appointment with new iCalendar text") },
  { "agenda",  "remove",  agl_ctl_agenda_remove,   N_("Remove an appointment") },
  { "agenda",  "import",  agl_ctl_agenda_import,   N_("Import an iCalendar file") },
  { "agenda",  "export",  agl_ctl_agenda_export,   N_("Export appointments as an iCalendar file") },
  { "conflicts", "list",  agl_ctl_conflicts_list,  N_("List the versions that lost a conflict (the default)") },
  { "conflicts", "restore", agl_ctl_conflicts_restore, N_("Bring a losing version back as the appointment") },
  { "rules",   "show",    agl_ctl_rules_show,      N_("Show an account’s rules (the default)") },
  { "rules",   "set",     agl_ctl_rules_set,       N_("Replace an account’s rules with a JSON file") },
  { NULL,      "status",  agl_ctl_status,          N_("Explain the presence and phone status, now or at any instant") },
  { NULL,      "schedule", agl_ctl_schedule,       N_("List the status changes of the coming days") },
  { NULL,      "override", agl_ctl_override,       N_("Set the status by hand, or clear it") },
  { NULL,      "sync",    agl_ctl_sync,            N_("Sync an account now") },
  { NULL,      "connections", agl_ctl_connections, N_("Show how each account is connected to Exchange and where its presence goes") },
  { NULL,      "verify",  agl_ctl_verify,          N_("Check that changes reach Exchange and come back") },
  { NULL,      "log",     agl_ctl_log,             N_("Show the daemon’s log") },
  { NULL,      "state",   agl_ctl_state,           N_("Show the daemon’s state") },
  { NULL,      "monitor", agl_ctl_monitor,         N_("Watch the daemon’s state and changes as they happen") },
  { NULL,      "version", agl_ctl_version,         N_("Show the versions of agendalinectl and the daemon") },
};

G_DEFINE_QUARK (agl-ctl-error-quark, agl_ctl_error)

static const Group *
find_group (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (groups); i++)
    if (strcmp (groups[i].name, name) == 0)
      return &groups[i];
  return NULL;
}

static const Command *
find_command (const char *group,
              const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_strcmp0 (commands[i].group, group) == 0 &&
        strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static char *
command_path (const Command *command)
{
  if (command->group != NULL)
    return g_strdup_printf ("%s %s", command->group, command->name);
  return g_strdup (command->name);
}

/* The command list for --help: every command of @group, or every command
 * at all when @group is NULL. */
static char *
describe_commands (const char *group)
{
  g_autoptr(GString) text = g_string_new (_("Commands:"));
  int width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *path = command_path (&commands[i]);
      const char *shown = group != NULL ? commands[i].name : path;

      if (group == NULL || g_strcmp0 (commands[i].group, group) == 0)
        width = MAX (width, (int) strlen (shown));
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *path = command_path (&commands[i]);
      const char *shown = group != NULL ? commands[i].name : path;

      if (group != NULL && g_strcmp0 (commands[i].group, group) != 0)
        continue;
      g_string_append_printf (text, "\n  %-*s  %s", width, shown, _(commands[i].summary));
    }

  if (group == NULL)
    g_string_append_printf (text, "\n\n%s",
                            _("Every command has --help; every listing has --json.\n"
                              "Example: agendalinectl agenda list --from 2026-11-23 --to 2026-11-24"));
  else
    g_string_append_printf (text, "\n\n%s", _("Each command has --help."));

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
run_command (AglCtl        *ctl,
             const Command *command,
             int            argc,
             char         **argv)
{
  g_autofree char *path = command_path (command);
  g_autofree char *prgname = g_strdup_printf ("%s %s", AGL_CTL_PROGRAM, path);

  /* GOptionContext starts its usage line with the program name, so make it
   * name the command ("Usage: agendalinectl account add …"), as gio(1)
   * does for its subcommands. */
  g_set_prgname (prgname);
  ctl->command = path;
  return command->func (ctl, argc, argv);
}

static int
run_group (AglCtl      *ctl,
           const Group *group,
           int          argc,
           char       **argv)
{
  g_autofree char *prgname = g_strdup_printf ("%s %s", AGL_CTL_PROGRAM, group->name);
  g_autofree char *description = describe_commands (group->name);
  g_autoptr(GOptionContext) context = NULL;
  const Command *command;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json, N_("Print JSON instead of text"), NULL },
    G_OPTION_ENTRY_NULL
  };

  g_set_prgname (prgname);
  ctl->command = group->name;

  context = agl_ctl_option_context_new (ctl,
                                        group->default_command != NULL
                                        ? _("[COMMAND] [ARGUMENT…]") : _("COMMAND [ARGUMENT…]"),
                                        _(group->summary), description, entries);
  /* Stop at the command's name: everything after it is the command's. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!agl_ctl_parse_options (ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;

  if (argc >= 2)
    command = find_command (group->name, argv[1]);
  else
    command = NULL;
  if (command != NULL)
    return run_command (ctl, command, argc - 1, argv + 1);

  /* Not a command of the group: the default command's argument, with the
   * group's name as its argv[0]. */
  if (group->default_command != NULL)
    return run_command (ctl, find_command (group->name, group->default_command), argc, argv);

  if (argc < 2)
    return agl_ctl_usage_error (ctl, _("Missing the command"));
  return agl_ctl_usage_error (ctl, _("Unknown command “%s”"), argv[1]);
}

/* Ids (of appointments, of conflict records) are whole numbers from 1. */
static gboolean
parse_positive (const char *text,
                gint64     *out_id)
{
  return g_ascii_string_to_signed (text, 10, 1, G_MAXINT64, out_id, NULL);
}

static void
collapse_to_one_line (char *text)
{
  g_strstrip (text);
  for (char *p = text; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}

static char *
describe_source (const char *path)
{
  g_autofree char *display_name = NULL;

  if (strcmp (path, "-") == 0)
    return g_strdup (_("standard input"));
  display_name = g_filename_display_name (path);
  return g_strdup_printf ("“%s”", display_name);
}

static void
set_read_error (GError     **error,
                const char  *source,
                int          errno_value)
{
  g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
               _("cannot read %s: %s"), source, g_strerror (errno_value));
}

/* Appends all that @fd holds to @data, up to AGL_CTL_MAX_INPUT_SIZE. */
static gboolean
read_all (int          fd,
          GByteArray  *data,
          const char  *source,
          GError     **error)
{
  for (;;)
    {
      guint8 buffer[64 * 1024];
      ssize_t n = read (fd, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_read_error (error, source, errno);
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      if (data->len + (gsize) n > AGL_CTL_MAX_INPUT_SIZE)
        {
          g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                       _("%s is larger than %d MiB; is it the right file?"), source,
                       AGL_CTL_MAX_INPUT_SIZE / (1024 * 1024));
          return FALSE;
        }
      g_byte_array_append (data, buffer, (guint) n);
    }
}

/**
 * agl_ctl_option_context_new:
 * @ctl: the run
 * @parameter_string: the arguments after the options, e.g. "NAME"
 * @summary: what the command does, one sentence
 * @examples: (nullable): text shown after the options in --help
 * @entries: (nullable): the command's options
 *
 * Every command's options are parsed by a GOptionContext made here, so that
 * all of them have the same --help layout and translations.
 *
 * Returns: (transfer full): a new option context
 */
GOptionContext *
agl_ctl_option_context_new (AglCtl             *ctl,
                            const char         *parameter_string,
                            const char         *summary,
                            const char         *examples,
                            const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameter_string);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  if (examples != NULL)
    g_option_context_set_description (context, examples);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return context;
}

/**
 * agl_ctl_parse_options:
 * @ctl: the run
 * @context: the command's options
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments; the options are removed
 *
 * Parses the options and reports a bad one as a usage error.
 *
 * Returns: %FALSE after printing the usage error
 */
gboolean
agl_ctl_parse_options (AglCtl           *ctl,
                       GOptionContext   *context,
                       int              *argc,
                       char           ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      agl_ctl_usage_error (ctl, "%s", error->message);
      return FALSE;
    }

  /* GOptionContext leaves a "--" in place when an argument after it starts
   * with "-" ("agenda remove -- -3"); the options are over, so the
   * separator is no argument.  A strict POSIX context (the global and group
   * levels) stops at the command, and the "--" is the command's. */
  if (g_option_context_get_strict_posix (context))
    return TRUE;
  for (int i = 1; i < *argc; i++)
    if (strcmp ((*argv)[i], "--") == 0)
      {
        memmove (&(*argv)[i], &(*argv)[i + 1], (*argc - i - 1) * sizeof (char *));
        (*argc)--;
        (*argv)[*argc] = NULL;
        break;
      }
  return TRUE;
}

/**
 * agl_ctl_expect_arguments:
 * @ctl: the run
 * @argc: the argument count, argv[0] included
 * @argv: the arguments left after the options
 * @min_args: how many arguments the command needs
 * @max_args: how many it takes at most
 * @missing: the usage error when there are fewer than @min_args
 *
 * Returns: %FALSE after printing a usage error for a missing or an extra
 *   argument
 */
gboolean
agl_ctl_expect_arguments (AglCtl      *ctl,
                          int          argc,
                          char       **argv,
                          int          min_args,
                          int          max_args,
                          const char  *missing)
{
  if (argc - 1 < min_args)
    {
      agl_ctl_usage_error (ctl, "%s", missing);
      return FALSE;
    }
  if (argc - 1 > max_args)
    {
      agl_ctl_usage_error (ctl, _("Unexpected argument “%s”"), argv[max_args + 1]);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_ctl_usage_error:
 * @ctl: the run
 * @format: printf() format of what is wrong with the command line
 *
 * Prints the problem and where to find help on standard error.
 *
 * Returns: %AGL_CTL_EXIT_USAGE
 */
int
agl_ctl_usage_error (AglCtl     *ctl,
                     const char *format,
                     ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  collapse_to_one_line (message);

  if (ctl->command != NULL)
    {
      g_printerr ("%s %s: %s\n", AGL_CTL_PROGRAM, ctl->command, message);
      g_printerr (_("Try “%s %s --help”.\n"), AGL_CTL_PROGRAM, ctl->command);
    }
  else
    {
      g_printerr ("%s: %s\n", AGL_CTL_PROGRAM, message);
      g_printerr (_("Try “%s --help”.\n"), AGL_CTL_PROGRAM);
    }
  return AGL_CTL_EXIT_USAGE;
}

/**
 * agl_ctl_error_is_unreachable:
 * @error: an error from connecting to or calling the daemon
 *
 * Returns: whether @error means that the daemon is not there (not running,
 *   gone while answering, not answering) rather than that it refused
 */
gboolean
agl_ctl_error_is_unreachable (const GError *error)
{
  return g_error_matches (error, AGL_CTL_ERROR, AGL_CTL_ERROR_UNREACHABLE) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/**
 * agl_ctl_fail:
 * @ctl: the run
 * @error: why the command failed
 *
 * Prints @error as one line on standard error: the daemon's own message
 * (without the D-Bus error name, which means nothing to a user), or why
 * the daemon could not be reached.
 *
 * Returns: %AGL_CTL_EXIT_FAILURE
 */
int
agl_ctl_fail (AglCtl       *ctl,
              const GError *error)
{
  g_autoptr(GError) copy = g_error_copy (error);
  g_autofree char *message = NULL;

  g_dbus_error_strip_remote_error (copy);
  if (agl_ctl_error_is_unreachable (error))
    message = g_strdup_printf (_("cannot reach the Agendaline daemon: %s"), copy->message);
  else
    message = g_strdup (copy->message);
  collapse_to_one_line (message);

  g_printerr ("%s: %s\n", AGL_CTL_PROGRAM, message);
  return AGL_CTL_EXIT_FAILURE;
}

/**
 * agl_ctl_get_daemon:
 * @ctl: the run
 * @error: return location for an %AGL_CTL_ERROR_UNREACHABLE
 *
 * Connects to the daemon on first use.  The proxy is made without
 * %G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START, so that the bus starts an
 * installed daemon that is not running yet.
 *
 * Returns: (transfer none): the daemon's proxy, or %NULL
 */
AglDaemon *
agl_ctl_get_daemon (AglCtl  *ctl,
                    GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(AglDaemon) daemon = NULL;
  g_autofree char *owner = NULL;

  if (ctl->daemon != NULL)
    return ctl->daemon;

  daemon = agl_daemon_proxy_new_for_bus_sync (G_BUS_TYPE_SESSION,
                                              G_DBUS_PROXY_FLAGS_NONE,
                                              AGL_BUS_NAME,
                                              AGL_OBJECT_PATH,
                                              NULL,
                                              &local_error);
  if (daemon == NULL)
    {
      g_dbus_error_strip_remote_error (local_error);
      g_set_error_literal (error, AGL_CTL_ERROR, AGL_CTL_ERROR_UNREACHABLE,
                           local_error->message);
      return NULL;
    }

  /* The proxy has already asked the bus to start the daemon; with no owner
   * now it is neither running nor activatable, and every call would fail
   * with a less helpful "name not provided by any .service files". */
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (daemon));
  if (owner == NULL)
    {
      g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_UNREACHABLE,
                   _("it is not running, and the session bus cannot start it (no %s service is installed)"),
                   AGL_BUS_NAME);
      return NULL;
    }

  ctl->daemon = g_steal_pointer (&daemon);
  return ctl->daemon;
}

/**
 * agl_ctl_start_command:
 * @ctl: the run
 * @context: the command's options
 * @argc: (inout): the argument count
 * @argv: (inout): the arguments
 * @min_args: how many arguments the command needs
 * @max_args: how many it takes at most
 * @missing: the usage error when there are fewer than @min_args
 * @out_status: (out): the exit status when the command is over
 *
 * The start most commands share: their options, their arguments, then the
 * daemon.
 *
 * Returns: (transfer none) (nullable): the daemon, or %NULL with
 *   *@out_status set after printing why
 */
AglDaemon *
agl_ctl_start_command (AglCtl          *ctl,
                       GOptionContext  *context,
                       int             *argc,
                       char          ***argv,
                       int              min_args,
                       int              max_args,
                       const char      *missing,
                       int             *out_status)
{
  g_autoptr(GError) error = NULL;
  AglDaemon *daemon;

  *out_status = AGL_CTL_EXIT_USAGE;
  if (!agl_ctl_parse_options (ctl, context, argc, argv) ||
      !agl_ctl_expect_arguments (ctl, *argc, *argv, min_args, max_args, missing))
    return NULL;

  daemon = agl_ctl_get_daemon (ctl, &error);
  if (daemon == NULL)
    *out_status = agl_ctl_fail (ctl, error);
  return daemon;
}


/**
 * agl_ctl_read_text:
 * @path: a file name, or "-" for standard input
 * @error: return location for an %AGL_CTL_ERROR_INPUT naming @path
 *
 * The daemon never opens a client's paths (it may run elsewhere, as another
 * user, in a sandbox), so the CLI reads the text (iCalendar, rules) and
 * sends it.  It is checked here for what D-Bus cannot carry (NUL, invalid
 * UTF-8) and capped, so that a wrong file name (a disk image, /dev/zero)
 * fails at once instead of filling memory.
 *
 * Returns: (transfer full): the text, or %NULL
 */
char *
agl_ctl_read_text (const char  *path,
                   GError     **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autofree char *source = describe_source (path);
  gboolean from_stdin = strcmp (path, "-") == 0;
  gboolean ok;
  int fd;

  fd = from_stdin ? STDIN_FILENO : g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      set_read_error (error, source, errno);
      return NULL;
    }
  ok = read_all (fd, data, source, error);
  if (!from_stdin)
    close (fd);
  if (!ok)
    return NULL;

  /* An empty input is the daemon's to refuse, with its own message. */
  if (data->len > 0 && memchr (data->data, '\0', data->len) != NULL)
    {
      g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                   _("%s is not text: it holds NUL bytes"), source);
      return NULL;
    }
  if (data->len > 0 && !g_utf8_validate ((const char *) data->data, data->len, NULL))
    {
      g_set_error (error, AGL_CTL_ERROR, AGL_CTL_ERROR_INPUT,
                   _("%s is not UTF-8 text"), source);
      return NULL;
    }

  g_byte_array_append (data, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
}


/**
 * agl_ctl_parse_id:
 * @ctl: the run
 * @text: a command-line argument
 * @out_id: (out): the appointment id
 *
 * Appointment ids are positive integers; anything else ("abc", "0", "1x")
 * is a usage error naming the argument rather than a call that can only
 * fail.
 *
 * Returns: %FALSE after printing a usage error
 */
gboolean
agl_ctl_parse_id (AglCtl     *ctl,
                  const char *text,
                  gint64     *out_id)
{
  if (parse_positive (text, out_id))
    return TRUE;
  agl_ctl_usage_error (ctl, _("“%s” is not an appointment id; ids are whole numbers from 1 up"),
                       text);
  return FALSE;
}

/**
 * agl_ctl_parse_conflict_id:
 * @ctl: the run
 * @text: a command-line argument
 * @out_id: (out): the conflict record's id
 *
 * As agl_ctl_parse_id(), for the ids of conflict records.
 *
 * Returns: %FALSE after printing a usage error
 */
gboolean
agl_ctl_parse_conflict_id (AglCtl     *ctl,
                           const char *text,
                           gint64     *out_id)
{
  if (parse_positive (text, out_id))
    return TRUE;
  agl_ctl_usage_error (ctl, _("“%s” is not a conflict id; ids are whole numbers from 1 up"),
                       text);
  return FALSE;
}

static gboolean
quit_loop_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/**
 * agl_ctl_run_until_signal:
 * @loop: the main loop of a command that waits for the daemon
 *
 * Runs @loop until it is quit or until SIGINT or SIGTERM, which end a
 * command that follows the daemon (monitor, log --follow) normally: the
 * user asked it to stop.
 */
void
agl_ctl_run_until_signal (GMainLoop *loop)
{
  guint sigint_id = g_unix_signal_add (SIGINT, quit_loop_cb, loop);
  guint sigterm_id = g_unix_signal_add (SIGTERM, quit_loop_cb, loop);

  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
}

/**
 * agl_ctl_run:
 * @argc: as main() got it
 * @argv: as main() got it
 *
 * Runs agendalinectl: parses the global options, finds the command and runs
 * it.
 *
 * Returns: the exit status: 0 on success, 1 when the work failed, 2 for a
 *   wrong command line
 */
int
agl_ctl_run (int    argc,
             char **argv)
{
  AglCtl ctl = { NULL, FALSE, NULL };
  g_autoptr(GOptionContext) context = NULL;
  g_autofree char *description = describe_commands (NULL);
  gboolean show_version = FALSE;
  const Command *command;
  const Group *group;
  int status;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &ctl.json, N_("Print JSON instead of text"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &show_version, N_("Show the version of agendalinectl"), NULL },
    G_OPTION_ENTRY_NULL
  };

  g_set_prgname (AGL_CTL_PROGRAM);

  context = agl_ctl_option_context_new (&ctl, _("COMMAND [ARGUMENT…]"),
                                        _("Control the Agendaline daemon: accounts, appointments, state."),
                                        description, entries);
  /* Global options come before the command; what follows it is parsed by
   * the command itself. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!agl_ctl_parse_options (&ctl, context, &argc, &argv))
    return AGL_CTL_EXIT_USAGE;

  if (show_version)
    {
      g_print ("%s %s\n", AGL_CTL_PROGRAM, PACKAGE_VERSION);
      return AGL_CTL_EXIT_SUCCESS;
    }

  if (argc < 2)
    return agl_ctl_usage_error (&ctl, _("Missing the command"));

  group = find_group (argv[1]);
  command = find_command (NULL, argv[1]);
  if (group != NULL)
    status = run_group (&ctl, group, argc - 1, argv + 1);
  else if (command != NULL)
    status = run_command (&ctl, command, argc - 1, argv + 1);
  else
    status = agl_ctl_usage_error (&ctl, _("Unknown command “%s”"), argv[1]);

  g_clear_object (&ctl.daemon);

  /* A full disk or a closed pipe must not pass for success. */
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      g_printerr (_("%s: cannot write to standard output: %s\n"), AGL_CTL_PROGRAM,
                  g_strerror (errno));
      return AGL_CTL_EXIT_FAILURE;
    }
  return status;
}
