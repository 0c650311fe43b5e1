/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * What the end-to-end sync programs (tests/test-sync.c,
 * tests/test-sync-crash.c, tests/bench/bench-sync.c) share: a scratch
 * directory and a private session bus (GTestDBus), the test Exchange server
 * (agl-ews-server) started on a seed, agendalined started on that bus,
 * agendalinectl run as a user runs it, and HTTPS on the server trusting the
 * test CA.  Every wait runs the main loop for the event itself, with a
 * timeout.
 *
 * The programs name the binaries and fixtures in the environment:
 * AGL_TEST_DAEMON, AGL_TEST_CTL, AGL_TEST_EWS_SERVER, AGL_EWS_SERVER_FIXTURES
 * and AGL_EWS_KIT.
 */
#pragma once

#include <stdarg.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  /* Set by the program before agl_sync_harness_init(). */
  guint               timeout_seconds; /* a start, a stop, an HTTP answer */
  int                 death_signal;    /* what the children get when the program dies; 0 none */
  const char * const *child_env;       /* "NAME=VALUE" set, "NAME" unset, in every child */
  const char         *ews_login;       /* "DOMAIN\\user:password", Basic on /EWS/ */

  GTestDBus       *bus;
  GDBusConnection *connection;
  guint            watch_id;
  gboolean         daemon_serving;     /* agendalined owns its name on the bus */
  char            *dir;                /* the scratch directory, also the children's cwd */
  GSubprocess     *server;
  char            *url;                /* the server's EWS URL */
  char            *base;               /* https://127.0.0.1:PORT */
  guint            port;
  SoupSession     *session;            /* trusts the test CA */
  GSubprocess     *daemon;
  char            *daemon_log;
} AglSyncHarness;

/* What one agendalinectl run did. */
typedef struct {
  int   status;   /* the exit status; -1 when it did not exit */
  char *out;
  char *err;
  char *command;  /* "$ agendalinectl ARGS…", for messages */
} AglCtlResult;

void                 agl_ctl_result_free              (AglCtlResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglCtlResult, agl_ctl_result_free)

const char          *agl_sync_harness_env             (const char *name);
char                *agl_sync_harness_server_fixture  (const char *name);
gboolean             agl_sync_harness_wait_for_flag   (gboolean   *flag,
                                                       guint       seconds);
void                 agl_sync_harness_run_for         (guint       ms);
void                 agl_sync_harness_remove_dir      (const char *path);

void                 agl_sync_harness_init            (AglSyncHarness   *h,
                                                       const char       *dir_template);
void                 agl_sync_harness_clear           (AglSyncHarness   *h,
                                                       gboolean          remove_dir);
GSubprocessLauncher *agl_sync_harness_new_launcher    (AglSyncHarness   *h,
                                                       GSubprocessFlags  flags);
void                 agl_sync_harness_start_server    (AglSyncHarness   *h,
                                                       const char       *seed);
void                 agl_sync_harness_start_daemon    (AglSyncHarness   *h,
                                                       const char       *log_name,
                                                       const char       *messages_debug);
void                 agl_sync_harness_stop_process    (AglSyncHarness   *h,
                                                       GSubprocess      *process);
void                 agl_sync_harness_dump_daemon_log (AglSyncHarness   *h);

AglCtlResult        *agl_sync_harness_run_ctl_valist  (AglSyncHarness   *h,
                                                       const char       *input,
                                                       va_list           args);
AglCtlResult        *agl_sync_harness_run_ctl         (AglSyncHarness   *h,
                                                       const char       *input,
                                                       ...) G_GNUC_NULL_TERMINATED;

GVariant            *agl_sync_harness_call_daemon     (AglSyncHarness     *h,
                                                       const char         *method,
                                                       GVariant           *parameters,
                                                       const GVariantType *reply_type,
                                                       GError            **error);

char                *agl_sync_harness_http            (AglSyncHarness *h,
                                                       const char     *method,
                                                       const char     *path,
                                                       const char     *body,
                                                       guint          *status);
char                *agl_sync_harness_ews_call        (AglSyncHarness *h,
                                                       const char     *body,
                                                       guint          *status);

/* Instants as the CLI and the D-Bus API write them (2027-03-01T09:00:00Z)
 * and as iCalendar does (20270301T090000Z); JSON text the test expects to
 * be an object (asserted). */
char                *agl_sync_harness_iso             (gint64      t);
char                *agl_sync_harness_ical_time       (gint64      t);
JsonObject          *agl_sync_harness_parse_object    (const char *json);

G_END_DECLS
