/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "agl-log.h"

/*
 * The daemon's log: every record goes on to the journal (or standard
 * error) as GLib would write it, and the last lines are also kept here, for
 * GetLog, and announced with AglLog::line, for LogLine.  Records come from
 * any thread (GTask workers, libsoup); the ring is behind a mutex and the
 * signal is emitted only in the main context.
 */

struct _AglLog {
  GObject  parent_instance;

  GMutex   mutex;     /* guards lines */
  GQueue   lines;     /* of AglLogLine, oldest first */
  guint    capacity;
};

enum {
  SIGNAL_LINE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Set on a thread while it emits AglLog::line: a handler that logs (the
 * D-Bus signal could not be sent …) gets its line kept and written, but
 * not announced again, which could go on for ever. */
static GPrivate emitting;

G_DEFINE_BOXED_TYPE (AglLogLine, agl_log_line, agl_log_line_copy, agl_log_line_free)

G_DEFINE_FINAL_TYPE (AglLog, agl_log, G_TYPE_OBJECT)

/* A line on its way to the main context. */
typedef struct {
  AglLog     *log;
  AglLogLine *line;
} Emission;

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  g_object_unref (emission->log);
  agl_log_line_free (emission->line);
  g_free (emission);
}

static const char *
level_name (GLogLevelFlags log_level)
{
  switch (log_level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR:
    case G_LOG_LEVEL_CRITICAL:
      return "error";
    case G_LOG_LEVEL_WARNING:
      return "warning";
    case G_LOG_LEVEL_MESSAGE:
      return "message";
    case G_LOG_LEVEL_INFO:
      return "info";
    case G_LOG_LEVEL_DEBUG:
    default:
      return "debug";
    }
}

/* A field's value as text: length -1 is a NUL-terminated string, anything
 * else bytes that may not be; either way the line must be UTF-8 for the
 * bus. */
static char *
dup_field (const GLogField *fields,
           gsize            n_fields,
           const char      *key)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, key) != 0 || fields[i].value == NULL)
        continue;
      return g_utf8_make_valid (fields[i].value, fields[i].length);
    }
  return NULL;
}

static void
emit_line (AglLog           *self,
           const AglLogLine *line)
{
  if (g_private_get (&emitting) != NULL)
    return;

  g_private_set (&emitting, GINT_TO_POINTER (TRUE));
  g_signal_emit (self, signals[SIGNAL_LINE], 0, line);
  g_private_set (&emitting, NULL);
}

static gboolean
emit_line_cb (gpointer user_data)
{
  Emission *emission = user_data;

  emit_line (emission->log, emission->line);
  return G_SOURCE_REMOVE;
}

/* At once in the thread that runs the main context, or from any other
 * thread by way of an idle source in it (never by acquiring the context
 * here, as g_main_context_invoke() would while the main loop is not
 * running: handlers may rely on running in the main thread); takes
 * @line. */
static void
announce_line (AglLog     *self,
               AglLogLine *line)
{
  g_autoptr(GSource) source = NULL;
  Emission *emission = g_new0 (Emission, 1);

  emission->log = g_object_ref (self);
  emission->line = line;

  if (g_main_context_is_owner (g_main_context_default ()))
    {
      emit_line (emission->log, emission->line);
      emission_free (emission);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_line_cb, emission, emission_free);
  g_source_set_static_name (source, "[agendalined] AglLog::line");
  g_source_attach (source, g_main_context_default ());
}

static GLogWriterOutput
log_writer_cb (GLogLevelFlags   log_level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  agl_log_write (user_data, log_level, fields, n_fields);
  return g_log_writer_default (log_level, fields, n_fields, NULL);
}

static void
agl_log_finalize (GObject *object)
{
  AglLog *self = AGL_LOG (object);

  g_queue_clear_full (&self->lines, (GDestroyNotify) agl_log_line_free);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (agl_log_parent_class)->finalize (object);
}

static void
agl_log_class_init (AglLogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = agl_log_finalize;

  /**
   * AglLog::line:
   * @self: the log
   * @line: the line just logged, valid only during the emission
   *
   * A line was added; emitted in the thread that runs the default main
   * context, whatever thread logged it (at once when that is the thread
   * that logged it, else from an idle source).
   */
  signals[SIGNAL_LINE] =
    g_signal_new ("line",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  AGL_TYPE_LOG_LINE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
agl_log_init (AglLog *self)
{
  g_mutex_init (&self->mutex);
  g_queue_init (&self->lines);
}

/**
 * agl_log_line_copy:
 * @line: a line
 *
 * Returns: (transfer full): a copy of @line
 */
AglLogLine *
agl_log_line_copy (const AglLogLine *line)
{
  AglLogLine *copy = g_new0 (AglLogLine, 1);

  copy->time = g_date_time_ref (line->time);
  copy->level = g_strdup (line->level);
  copy->account = g_strdup (line->account);
  copy->message = g_strdup (line->message);
  return copy;
}

/**
 * agl_log_line_free:
 * @line: (nullable): a line
 */
void
agl_log_line_free (AglLogLine *line)
{
  if (line == NULL)
    return;
  g_date_time_unref (line->time);
  g_free (line->level);
  g_free (line->account);
  g_free (line->message);
  g_free (line);
}

/**
 * agl_log_line_format_time:
 * @line: a line
 *
 * Returns: (transfer full): its time as GetLog gives it: ISO 8601 in UTC
 *   with milliseconds, "2026-11-23T09:00:00.042Z"
 */
char *
agl_log_line_format_time (const AglLogLine *line)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (line->time);
  g_autofree char *seconds = g_date_time_format (utc, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", seconds, g_date_time_get_microsecond (utc) / 1000);
}

/**
 * agl_log_line_to_variant:
 * @line: a line
 *
 * Returns: (transfer floating): the a{sv} of GetLog and LogLine: "time",
 *   "level", "account", "message"
 */
GVariant *
agl_log_line_to_variant (const AglLogLine *line)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *time = agl_log_line_format_time (line);

  g_variant_builder_add (&builder, "{sv}", "time", g_variant_new_string (time));
  g_variant_builder_add (&builder, "{sv}", "level", g_variant_new_string (line->level));
  g_variant_builder_add (&builder, "{sv}", "account", g_variant_new_string (line->account));
  g_variant_builder_add (&builder, "{sv}", "message", g_variant_new_string (line->message));
  return g_variant_builder_end (&builder);
}

/**
 * agl_log_new:
 * @capacity: how many lines to keep, at least 1
 *
 * Returns: (transfer full): a log that keeps the last @capacity lines
 */
AglLog *
agl_log_new (guint capacity)
{
  AglLog *self;

  g_return_val_if_fail (capacity > 0, NULL);

  self = g_object_new (AGL_TYPE_LOG, NULL);
  self->capacity = capacity;
  return self;
}

/**
 * agl_log_install:
 * @self: a log
 *
 * Makes @self the process's log writer: every record is kept by
 * agl_log_write(), then written by g_log_writer_default() as it would have
 * been.  GLib allows one writer per process; @self is kept alive for good.
 */
void
agl_log_install (AglLog *self)
{
  g_return_if_fail (AGL_IS_LOG (self));

  g_log_set_writer_func (log_writer_cb, g_object_ref (self), g_object_unref);
}

/**
 * agl_log_write:
 * @self: a log
 * @log_level: the record's level
 * @fields: (array length=n_fields): the record's fields
 * @n_fields: the number of @fields
 *
 * Keeps the record as a line (a debug record only when the default writer
 * would show it: G_MESSAGES_DEBUG, --verbose) and announces it with
 * AglLog::line.  The installed writer calls this for every record; tests
 * call it directly, without the record going on to standard error.
 * Thread-safe.
 */
void
agl_log_write (AglLog          *self,
               GLogLevelFlags   log_level,
               const GLogField *fields,
               gsize            n_fields)
{
  g_autofree char *domain = NULL;
  g_autofree char *account = NULL;
  AglLogLine *announced = NULL;
  AglLogLine *line;

  g_return_if_fail (AGL_IS_LOG (self));

  domain = dup_field (fields, n_fields, "GLIB_DOMAIN");
  if ((log_level & G_LOG_LEVEL_MASK) == G_LOG_LEVEL_DEBUG &&
      g_log_writer_default_would_drop (log_level, domain))
    return;

  account = dup_field (fields, n_fields, AGL_LOG_FIELD_ACCOUNT);
  line = g_new0 (AglLogLine, 1);
  line->time = g_date_time_new_now_utc ();
  line->level = g_strdup (level_name (log_level));
  line->account = account != NULL ? g_steal_pointer (&account) : g_strdup ("");
  line->message = dup_field (fields, n_fields, "MESSAGE");
  if (line->message == NULL)
    line->message = g_strdup ("");

  /* Announced from a copy: once in the ring, the line is the ring's and
   * another thread may push it out. */
  if (g_private_get (&emitting) == NULL)
    announced = agl_log_line_copy (line);

  g_mutex_lock (&self->mutex);
  g_queue_push_tail (&self->lines, line);
  while (self->lines.length > self->capacity)
    agl_log_line_free (g_queue_pop_head (&self->lines));
  g_mutex_unlock (&self->mutex);

  if (announced != NULL)
    announce_line (self, announced);
}

/**
 * agl_log_get_lines:
 * @self: a log
 * @max: at most this many lines, the newest; 0 for all that are kept
 *
 * Returns: (transfer full) (element-type AglLogLine): copies of the lines,
 *   oldest first
 */
GPtrArray *
agl_log_get_lines (AglLog *self,
                   guint   max)
{
  GPtrArray *lines;
  guint skip;

  g_return_val_if_fail (AGL_IS_LOG (self), NULL);

  g_mutex_lock (&self->mutex);
  skip = max == 0 || max >= self->lines.length ? 0 : self->lines.length - max;
  lines = g_ptr_array_new_full (self->lines.length - skip, (GDestroyNotify) agl_log_line_free);
  for (GList *l = g_queue_peek_nth_link (&self->lines, skip); l != NULL; l = l->next)
    g_ptr_array_add (lines, agl_log_line_copy (l->data));
  g_mutex_unlock (&self->mutex);

  return lines;
}

/**
 * agl_log_account_full:
 * @domain: (nullable): the log domain
 * @log_level: the level
 * @file: the source file, for the journal's CODE_FILE
 * @line: the source line, as text
 * @func: the function
 * @account: (nullable): the account the message is about
 * @format: printf() format of the message
 *
 * Use agl_log_account(), which fills in the domain and the code location.
 */
void
agl_log_account_full (const char     *domain,
                      GLogLevelFlags  log_level,
                      const char     *file,
                      const char     *line,
                      const char     *func,
                      const char     *account,
                      const char     *format,
                      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  /* Every value but MESSAGE's is taken as it is, not as a format. */
  g_log_structured (domain, log_level,
                    "CODE_FILE", file,
                    "CODE_LINE", line,
                    "CODE_FUNC", func,
                    AGL_LOG_FIELD_ACCOUNT, account != NULL ? account : "",
                    "MESSAGE", "%s", message);
}
