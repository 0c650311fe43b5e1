/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-dbus-generated.h"

G_BEGIN_DECLS

/* The name messages start with; fixed, whatever argv[0] was. */
#define AGL_CTL_PROGRAM "agendalinectl"

/* Exit statuses: 1 when the work failed, 2 when the command line was wrong
 * (as GNU tools do), so that scripts can tell the two apart. */
#define AGL_CTL_EXIT_SUCCESS 0
#define AGL_CTL_EXIT_FAILURE 1
#define AGL_CTL_EXIT_USAGE   2

#define AGL_CTL_ERROR (agl_ctl_error_quark ())

/**
 * AglCtlError:
 * @AGL_CTL_ERROR_UNREACHABLE: the daemon could not be reached
 * @AGL_CTL_ERROR_INPUT: a file or standard input could not be used
 * @AGL_CTL_ERROR_CONFIRMATION: the daemon wants the change confirmed
 * @AGL_CTL_ERROR_NOT_FOUND: no account of the name given
 *
 * Errors agendalinectl finds itself, before or instead of the daemon.
 */
typedef enum {
  AGL_CTL_ERROR_UNREACHABLE,
  AGL_CTL_ERROR_INPUT,
  AGL_CTL_ERROR_CONFIRMATION,
  AGL_CTL_ERROR_NOT_FOUND,
} AglCtlError;

/* The largest text (iCalendar, rules) agendalinectl reads and sends: far
 * above any real calendar, well below what would exhaust the daemon's
 * memory. */
#define AGL_CTL_MAX_INPUT_SIZE (64 * 1024 * 1024)

/* ImportCalendar may parse and store thousands of appointments. */
#define AGL_CTL_IMPORT_TIMEOUT_MSEC (60 * 1000)

/**
 * AglCtl:
 * @command: the command being run, e.g. "account add", or %NULL before one
 *   is known; it names the command in usage errors
 * @json: print JSON instead of text (set by --json wherever it is given)
 * @daemon: the proxy, connected on first use by agl_ctl_get_daemon()
 *
 * What one run of agendalinectl shares between its commands.
 */
typedef struct {
  const char *command;
  gboolean    json;
  AglDaemon  *daemon;
} AglCtl;

/**
 * AglCtlCommandFunc:
 * @ctl: the run
 * @argc: the number of arguments in @argv
 * @argv: the command's arguments; argv[0] is the command's own name
 *
 * Runs one command.
 *
 * Returns: the exit status
 */
typedef int (*AglCtlCommandFunc) (AglCtl *ctl,
                                  int     argc,
                                  char  **argv);

GQuark          agl_ctl_error_quark        (void);
int             agl_ctl_run                (int                 argc,
                                            char              **argv);

GOptionContext *agl_ctl_option_context_new (AglCtl             *ctl,
                                            const char         *parameter_string,
                                            const char         *summary,
                                            const char         *examples,
                                            const GOptionEntry *entries);
gboolean        agl_ctl_parse_options      (AglCtl             *ctl,
                                            GOptionContext     *context,
                                            int                *argc,
                                            char             ***argv);
gboolean        agl_ctl_expect_arguments   (AglCtl             *ctl,
                                            int                 argc,
                                            char              **argv,
                                            int                 min_args,
                                            int                 max_args,
                                            const char         *missing);
int             agl_ctl_usage_error        (AglCtl             *ctl,
                                            const char         *format,
                                            ...) G_GNUC_PRINTF (2, 3);
int             agl_ctl_fail               (AglCtl             *ctl,
                                            const GError       *error);
AglDaemon      *agl_ctl_start_command      (AglCtl             *ctl,
                                            GOptionContext     *context,
                                            int                *argc,
                                            char             ***argv,
                                            int                 min_args,
                                            int                 max_args,
                                            const char         *missing,
                                            int                *out_status);
char           *agl_ctl_read_text          (const char         *path,
                                            GError            **error);
gboolean        agl_ctl_error_is_unreachable (const GError     *error);
AglDaemon      *agl_ctl_get_daemon         (AglCtl             *ctl,
                                            GError            **error);
gboolean        agl_ctl_parse_id           (AglCtl             *ctl,
                                            const char         *text,
                                            gint64             *out_id);
gboolean        agl_ctl_parse_conflict_id  (AglCtl             *ctl,
                                            const char         *text,
                                            gint64             *out_id);
void            agl_ctl_run_until_signal   (GMainLoop          *loop);

G_END_DECLS
