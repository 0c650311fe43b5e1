/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The daemon's log (daemon/agl-log.c): the ring of the last lines, their
 * level names and account, the debug filter, and AglLog::line — in the
 * main thread at once, from other threads through the main context, never
 * again for a line its own handler logs.
 *
 * The main thread holds the default main context for the whole run, as the
 * daemon's main loop does.
 */
#include "config.h"

#include <locale.h>

#include "agl-log.h"

#define WAIT_TIMEOUT_SECONDS 10

typedef struct {
  GPtrArray *lines;      /* of AglLogLine, as AglLog::line gave them */
  GThread   *thread;     /* where the last emission ran */
  AglLog    *log;        /* for handlers that log themselves */
} Received;

static void
received_init (Received *received)
{
  received->lines = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_log_line_free);
  received->thread = NULL;
  received->log = NULL;
}

static void
received_clear (Received *received)
{
  g_clear_pointer (&received->lines, g_ptr_array_unref);
}

static void
line_cb (AglLog     *log,
         AglLogLine *line,
         gpointer    user_data)
{
  Received *received = user_data;

  g_ptr_array_add (received->lines, agl_log_line_copy (line));
  received->thread = g_thread_self ();
}

/* Records a line as the installed writer would, without it going on to
 * standard error. */
static void
write_line (AglLog         *log,
            GLogLevelFlags  level,
            const char     *domain,
            const char     *account,
            const char     *message)
{
  GLogField fields[3] = {
    { "MESSAGE", message, -1 },
    { "GLIB_DOMAIN", domain, -1 },
    { AGL_LOG_FIELD_ACCOUNT, account, -1 },
  };

  agl_log_write (log, level, fields, account != NULL ? 3 : 2);
}

static const char *
message_at (GPtrArray *lines,
            guint      index)
{
  return ((AglLogLine *) g_ptr_array_index (lines, index))->message;
}

static void
test_ring_keeps_last (void)
{
  g_autoptr(AglLog) log = agl_log_new (3);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) last_two = NULL;
  g_autoptr(GPtrArray) more = NULL;
  g_autoptr(GPtrArray) empty = NULL;

  empty = agl_log_get_lines (log, 0);
  g_assert_cmpuint (empty->len, ==, 0);

  for (int i = 1; i <= 5; i++)
    {
      g_autofree char *message = g_strdup_printf ("line %d", i);

      write_line (log, G_LOG_LEVEL_MESSAGE, "agendalined", NULL, message);
    }

  all = agl_log_get_lines (log, 0);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (message_at (all, 0), ==, "line 3");
  g_assert_cmpstr (message_at (all, 1), ==, "line 4");
  g_assert_cmpstr (message_at (all, 2), ==, "line 5");

  last_two = agl_log_get_lines (log, 2);
  g_assert_cmpuint (last_two->len, ==, 2);
  g_assert_cmpstr (message_at (last_two, 0), ==, "line 4");
  g_assert_cmpstr (message_at (last_two, 1), ==, "line 5");

  more = agl_log_get_lines (log, 10);
  g_assert_cmpuint (more->len, ==, 3);
  g_assert_cmpstr (message_at (more, 0), ==, "line 3");

  /* Oldest first, in time too. */
  g_assert_cmpint (g_date_time_compare (((AglLogLine *) all->pdata[0])->time,
                                        ((AglLogLine *) all->pdata[2])->time), <=, 0);
}

static void
test_level_names (void)
{
  const struct {
    GLogLevelFlags level;
    const char    *name;
  } levels[] = {
    { G_LOG_LEVEL_ERROR, "error" },
    { G_LOG_LEVEL_CRITICAL, "error" },
    { G_LOG_LEVEL_WARNING, "warning" },
    { G_LOG_LEVEL_MESSAGE, "message" },
    { G_LOG_LEVEL_INFO, "info" },
    { G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL, "warning" },
  };
  g_autoptr(AglLog) log = agl_log_new (G_N_ELEMENTS (levels));
  g_autoptr(GPtrArray) lines = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    write_line (log, levels[i].level, "agendalined", NULL, levels[i].name);

  lines = agl_log_get_lines (log, 0);
  g_assert_cmpuint (lines->len, ==, G_N_ELEMENTS (levels));
  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    g_assert_cmpstr (((AglLogLine *) lines->pdata[i])->level, ==, levels[i].name);
}

static void
test_account_field (void)
{
  g_autoptr(AglLog) log = agl_log_new (10);
  g_autoptr(GPtrArray) lines = NULL;
  AglLogLine *with, *without;

  write_line (log, G_LOG_LEVEL_WARNING, "agendalined", "work", "Exchange is busy");
  write_line (log, G_LOG_LEVEL_MESSAGE, "agendalined", NULL, "Serving");

  lines = agl_log_get_lines (log, 0);
  with = lines->pdata[0];
  without = lines->pdata[1];
  g_assert_cmpstr (with->account, ==, "work");
  g_assert_cmpstr (with->message, ==, "Exchange is busy");
  g_assert_cmpstr (without->account, ==, "");
  g_assert_cmpstr (without->message, ==, "Serving");
}

static void
test_debug_filter (void)
{
  g_autoptr(AglLog) log = agl_log_new (10);
  g_autoptr(GPtrArray) quiet = NULL;
  g_autoptr(GPtrArray) domain = NULL;
  g_autoptr(GPtrArray) verbose = NULL;

  /* As the daemon runs by default: no G_MESSAGES_DEBUG, no --verbose. */
  g_log_set_debug_enabled (FALSE);
  write_line (log, G_LOG_LEVEL_DEBUG, "agendalined", NULL, "hidden");
  write_line (log, G_LOG_LEVEL_INFO, "agendalined", NULL, "info is kept");
  quiet = agl_log_get_lines (log, 0);
  g_assert_cmpuint (quiet->len, ==, 1);
  g_assert_cmpstr (message_at (quiet, 0), ==, "info is kept");

  /* G_MESSAGES_DEBUG naming the domain. */
  g_setenv ("G_MESSAGES_DEBUG", "agendalined", TRUE);
  write_line (log, G_LOG_LEVEL_DEBUG, "agendalined", NULL, "shown for the domain");
  write_line (log, G_LOG_LEVEL_DEBUG, "other", NULL, "not for another domain");
  g_unsetenv ("G_MESSAGES_DEBUG");
  domain = agl_log_get_lines (log, 0);
  g_assert_cmpuint (domain->len, ==, 2);
  g_assert_cmpstr (message_at (domain, 1), ==, "shown for the domain");
  g_assert_cmpstr (((AglLogLine *) domain->pdata[1])->level, ==, "debug");

  /* agendalined --verbose */
  g_log_set_debug_enabled (TRUE);
  write_line (log, G_LOG_LEVEL_DEBUG, "other", NULL, "verbose");
  g_log_set_debug_enabled (FALSE);
  verbose = agl_log_get_lines (log, 0);
  g_assert_cmpuint (verbose->len, ==, 3);
  g_assert_cmpstr (message_at (verbose, 2), ==, "verbose");
}

static void
test_line_signal (void)
{
  g_autoptr(AglLog) log = agl_log_new (1);
  Received received;
  AglLogLine *line;

  received_init (&received);
  g_signal_connect (log, "line", G_CALLBACK (line_cb), &received);

  write_line (log, G_LOG_LEVEL_WARNING, "agendalined", "work", "first");
  write_line (log, G_LOG_LEVEL_MESSAGE, "agendalined", NULL, "second");

  /* In the main thread, at once: no main loop iteration needed. */
  g_assert_cmpuint (received.lines->len, ==, 2);
  g_assert_true (received.thread == g_thread_self ());
  line = received.lines->pdata[0];
  g_assert_cmpstr (line->level, ==, "warning");
  g_assert_cmpstr (line->account, ==, "work");
  g_assert_cmpstr (line->message, ==, "first");
  g_assert_nonnull (line->time);
  /* Announced even when the ring has already dropped it. */
  g_assert_cmpstr (message_at (received.lines, 1), ==, "second");

  g_signal_handlers_disconnect_by_data (log, &received);
  received_clear (&received);
}

static gpointer
write_in_thread (gpointer data)
{
  write_line (data, G_LOG_LEVEL_MESSAGE, "agendalined", "home", "from a worker");
  return NULL;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_line_signal_from_thread (void)
{
  g_autoptr(AglLog) log = agl_log_new (10);
  g_autoptr(GPtrArray) lines = NULL;
  gboolean timed_out = FALSE;
  Received received;
  GThread *worker;
  guint timeout_id;

  received_init (&received);
  g_signal_connect (log, "line", G_CALLBACK (line_cb), &received);

  worker = g_thread_new ("log-writer", write_in_thread, log);
  g_thread_join (worker);

  /* Kept at once, announced only by the main context. */
  lines = agl_log_get_lines (log, 0);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_cmpuint (received.lines->len, ==, 0);

  timeout_id = g_timeout_add_seconds (WAIT_TIMEOUT_SECONDS, timeout_cb, &timed_out);
  while (received.lines->len == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout_id);

  g_assert_cmpuint (received.lines->len, ==, 1);
  g_assert_true (received.thread == g_thread_self ());
  g_assert_cmpstr (message_at (received.lines, 0), ==, "from a worker");
  g_assert_cmpstr (((AglLogLine *) received.lines->pdata[0])->account, ==, "home");

  g_signal_handlers_disconnect_by_data (log, &received);
  received_clear (&received);
}

static void
logging_line_cb (AglLog     *log,
                 AglLogLine *line,
                 gpointer    user_data)
{
  Received *received = user_data;

  line_cb (log, line, user_data);
  /* As a handler whose D-Bus signal could not be sent would. */
  write_line (received->log, G_LOG_LEVEL_WARNING, "agendalined", NULL, "could not forward");
}

static void
test_line_signal_no_recursion (void)
{
  g_autoptr(AglLog) log = agl_log_new (10);
  g_autoptr(GPtrArray) lines = NULL;
  Received received;

  received_init (&received);
  received.log = log;
  g_signal_connect (log, "line", G_CALLBACK (logging_line_cb), &received);

  write_line (log, G_LOG_LEVEL_MESSAGE, "agendalined", NULL, "sync done");

  /* The handler's own line is kept but not announced again. */
  g_assert_cmpuint (received.lines->len, ==, 1);
  g_assert_cmpstr (message_at (received.lines, 0), ==, "sync done");
  lines = agl_log_get_lines (log, 0);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_cmpstr (message_at (lines, 1), ==, "could not forward");

  /* The next line is announced as usual. */
  write_line (log, G_LOG_LEVEL_MESSAGE, "agendalined", NULL, "next");
  g_assert_cmpuint (received.lines->len, ==, 2);

  g_signal_handlers_disconnect_by_data (log, &received);
  received_clear (&received);
}

static void
test_line_variant (void)
{
  g_autoptr(AglLog) log = agl_log_new (1);
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GDateTime) parsed = NULL;
  const char *time = NULL;
  const char *text = NULL;

  write_line (log, G_LOG_LEVEL_INFO, "agendalined", "work", "Synced");
  lines = agl_log_get_lines (log, 0);
  variant = g_variant_ref_sink (agl_log_line_to_variant (lines->pdata[0]));

  g_assert_true (g_variant_is_of_type (variant, G_VARIANT_TYPE_VARDICT));
  g_assert_true (g_variant_lookup (variant, "time", "&s", &time));
  /* "2026-11-23T09:00:00.042Z": UTC with milliseconds */
  g_assert_true (g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$",
                                       time, 0, 0));
  parsed = g_date_time_new_from_iso8601 (time, NULL);
  g_assert_nonnull (parsed);
  g_assert_true (g_variant_lookup (variant, "level", "&s", &text));
  g_assert_cmpstr (text, ==, "info");
  g_assert_true (g_variant_lookup (variant, "account", "&s", &text));
  g_assert_cmpstr (text, ==, "work");
  g_assert_true (g_variant_lookup (variant, "message", "&s", &text));
  g_assert_cmpstr (text, ==, "Synced");
}

/* Last: GLib takes one writer per process, for good. */
static void
test_installed_writer (void)
{
  g_autoptr(AglLog) log = agl_log_new (10);
  g_autoptr(GPtrArray) lines = NULL;
  Received received;
  AglLogLine *line;

  received_init (&received);
  g_signal_connect (log, "line", G_CALLBACK (line_cb), &received);
  agl_log_install (log);

  agl_log_account (G_LOG_LEVEL_MESSAGE, "work", "Synced %d appointments", 3);
  g_message ("Serving %s", "io.github.agendaline.Daemon");

  lines = agl_log_get_lines (log, 0);
  g_assert_cmpuint (lines->len, ==, 2);
  line = lines->pdata[0];
  g_assert_cmpstr (line->level, ==, "message");
  g_assert_cmpstr (line->account, ==, "work");
  g_assert_cmpstr (line->message, ==, "Synced 3 appointments");
  line = lines->pdata[1];
  g_assert_cmpstr (line->account, ==, "");
  g_assert_cmpstr (line->message, ==, "Serving io.github.agendaline.Daemon");

  g_assert_cmpuint (received.lines->len, ==, 2);

  g_signal_handlers_disconnect_by_data (log, &received);
  received_clear (&received);
}

int
main (int    argc,
      char **argv)
{
  int status;

  setlocale (LC_ALL, "");
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_init (&argc, &argv, NULL);

  /* As the daemon's main loop does, all the time it runs. */
  g_assert_true (g_main_context_acquire (g_main_context_default ()));

  g_test_add_func ("/log/ring/keeps-last-lines", test_ring_keeps_last);
  g_test_add_func ("/log/line/level-names", test_level_names);
  g_test_add_func ("/log/line/account-field", test_account_field);
  g_test_add_func ("/log/line/variant", test_line_variant);
  g_test_add_func ("/log/filter/debug", test_debug_filter);
  g_test_add_func ("/log/signal/main-thread", test_line_signal);
  g_test_add_func ("/log/signal/other-thread", test_line_signal_from_thread);
  g_test_add_func ("/log/signal/no-recursion", test_line_signal_no_recursion);
  g_test_add_func ("/log/writer/installed", test_installed_writer);

  status = g_test_run ();
  g_main_context_release (g_main_context_default ());
  return status;
}
