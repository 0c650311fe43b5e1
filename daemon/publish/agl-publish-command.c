/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-publish-command.h"
#include "agl-publish-config.h"
#include "agl-time.h"

#define DEFAULT_TIMEOUT_SECONDS 10
#define MAX_TIMEOUT_SECONDS     300
/* Between SIGTERM and SIGKILL when the timeout passes. */
#define KILL_GRACE_SECONDS      2
/* How much of the end of its standard error a run keeps. */
#define STDERR_TAIL_BYTES       4096
/* The longest stderr line quoted in a message. */
#define MAX_QUOTED_CHARS        300

struct _AglPublishCommand
{
  AglPublisher   parent_instance;

  GStrv          argv;
  guint          timeout;
};

G_DEFINE_FINAL_TYPE (AglPublishCommand, agl_publish_command, AGL_TYPE_PUBLISHER)

/* One run of the program. */
typedef struct {
  GSubprocess *process;
  GPid         pid;
  GByteArray  *stderr_tail;
  gboolean     exited;
  gboolean     stderr_done;
  gboolean     timed_out;
  gboolean     returned;
  guint        timeout_id;
  guint        kill_id;
  gulong       cancelled_id;
  GCancellable *cancellable;
} Run;

static void
run_free (Run *run)
{
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_handle_id (&run->kill_id, g_source_remove);
  if (run->cancelled_id != 0)
    g_cancellable_disconnect (run->cancellable, run->cancelled_id);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->process);
  g_clear_pointer (&run->stderr_tail, g_byte_array_unref);
  g_free (run);
}

/* The program and what it started run in a process group of their own,
 * so that a timeout stops them all, and none keeps the pipes open. */
static void
child_setup_cb (gpointer user_data)
{
  setpgid (0, 0);
}

static void
kill_group (Run *run,
            int  signal_number)
{
  if (run->pid > 0)
    kill (-run->pid, signal_number);
}

/* The last non-empty line of what the program wrote on stderr, or NULL. */
static char *
last_stderr_line (Run *run)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (run->stderr_tail->len == 0)
    return NULL;
  text = g_utf8_make_valid ((const char *) run->stderr_tail->data, run->stderr_tail->len);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = g_strv_length (lines); i > 0; i--)
    {
      char *line = g_strstrip (lines[i - 1]);

      if (*line == '\0')
        continue;
      if (g_utf8_strlen (line, -1) > MAX_QUOTED_CHARS)
        *g_utf8_offset_to_pointer (line, MAX_QUOTED_CHARS) = '\0';
      /* A control character would garble a log line or a terminal. */
      for (char *c = line; *c != '\0'; c++)
        if ((guchar) *c < 0x20 || *c == 0x7f)
          *c = ' ';
      return g_strdup (line);
    }
  return NULL;
}

/* Once the program has exited and its stderr is closed. */
static void
run_maybe_return (GTask *task)
{
  AglPublishCommand *self = g_task_get_source_object (task);
  Run *run = g_task_get_task_data (task);
  const char *program = self->argv[0];
  g_autofree char *line = NULL;
  g_autofree char *cause = NULL;

  if (!run->exited || !run->stderr_done || run->returned)
    return;
  run->returned = TRUE;
  g_clear_handle_id (&run->timeout_id, g_source_remove);
  g_clear_handle_id (&run->kill_id, g_source_remove);

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The command %s was stopped."), program);
      return;
    }
  if (run->timed_out)
    {
      g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_TIMED_OUT,
                               /* TRANSLATORS: "The command /usr/local/bin/hook timed out after 10 s and was stopped." */
                               _("The command %s timed out after %u s and was stopped."),
                               program, self->timeout);
      return;
    }
  if (g_subprocess_get_if_exited (run->process) && g_subprocess_get_exit_status (run->process) == 0)
    {
      g_task_return_pointer (task, g_strdup ("exit status 0"), g_free);
      return;
    }

  if (g_subprocess_get_if_signaled (run->process))
    /* TRANSLATORS: "The command /usr/local/bin/hook was killed by signal 9" */
    cause = g_strdup_printf (_("The command %s was killed by signal %d"), program,
                             g_subprocess_get_term_sig (run->process));
  else
    /* TRANSLATORS: "The command /usr/local/bin/hook exited with status 3" */
    cause = g_strdup_printf (_("The command %s exited with status %d"), program,
                             g_subprocess_get_exit_status (run->process));
  line = last_stderr_line (run);
  if (line != NULL)
    /* How it ended, then the last line it wrote on its standard error. */
    g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_FAILED, "%s: %s", cause, line);
  else
    g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_FAILED, "%s.", cause);
}

static void
waited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);

  /* Waiting fails only when cancelled, which it is not. */
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  run->exited = TRUE;
  run_maybe_return (task);
}

static void
stderr_read_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Run *run = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result,
                                                              NULL);
  gsize size;

  if (bytes == NULL || (size = g_bytes_get_size (bytes)) == 0)
    {
      run->stderr_done = TRUE;
      run_maybe_return (task);
      return;
    }
  g_byte_array_append (run->stderr_tail, g_bytes_get_data (bytes, NULL), size);
  if (run->stderr_tail->len > STDERR_TAIL_BYTES)
    g_byte_array_remove_range (run->stderr_tail, 0, run->stderr_tail->len - STDERR_TAIL_BYTES);
  g_input_stream_read_bytes_async (G_INPUT_STREAM (source), STDERR_TAIL_BYTES, G_PRIORITY_DEFAULT,
                                   NULL, stderr_read_cb, g_steal_pointer (&task));
}

static void
stdin_written_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GBytes) json = user_data;

  /* A program that does not read its input may have closed it: that is
   * its business, its exit status says whether it worked. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_output_stream_close (G_OUTPUT_STREAM (source), NULL, NULL);
}

static gboolean
kill_cb (gpointer user_data)
{
  Run *run = user_data;

  run->kill_id = 0;
  kill_group (run, SIGKILL);
  return G_SOURCE_REMOVE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  Run *run = user_data;

  run->timeout_id = 0;
  run->timed_out = TRUE;
  kill_group (run, SIGTERM);
  run->kill_id = g_timeout_add_seconds (KILL_GRACE_SECONDS, kill_cb, run);
  return G_SOURCE_REMOVE;
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  kill_group (user_data, SIGKILL);
}

static void
set_status_env (GSubprocessLauncher  *launcher,
                const AglPublication *publication)
{
  const AglStatus *status = publication->status;
  g_autofree char *at = agl_time_format_utc (status->at);
  g_autofree char *until = status->until != 0 ? agl_time_format_utc (status->until) : g_strdup ("");

  g_subprocess_launcher_setenv (launcher, "AGL_ACCOUNT", publication->account, TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_AT", at, TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_PRESENCE", agl_presence_to_string (status->presence),
                                TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_ACTION", agl_phone_action_to_string (status->action),
                                TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_FORWARD_INTERNAL",
                                status->forward_internal ? "true" : "false", TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_REASON", status->reason ? status->reason : "", TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_TEXT", status->text ? status->text : "", TRUE);
  g_subprocess_launcher_setenv (launcher, "AGL_UNTIL", until, TRUE);
}

static void
agl_publish_command_deliver_async (AglPublisher         *publisher,
                                   const AglPublication *publication,
                                   GCancellable         *cancellable,
                                   GAsyncReadyCallback   callback,
                                   gpointer              user_data)
{
  AglPublishCommand *self = AGL_PUBLISH_COMMAND (publisher);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *json;
  const char *identifier;
  Run *run;

  g_task_set_source_tag (task, agl_publish_command_deliver_async);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  set_status_env (launcher, publication);
  g_subprocess_launcher_set_child_setup (launcher, child_setup_cb, NULL, NULL);
  g_subprocess_launcher_set_cwd (launcher, "/");

  run = g_new0 (Run, 1);
  run->stderr_tail = g_byte_array_new ();
  run->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  g_task_set_task_data (task, run, (GDestroyNotify) run_free);

  run->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) self->argv, &error);
  if (run->process == NULL)
    {
      g_task_return_new_error (task, AGL_ERROR, AGL_ERROR_FAILED,
                               /* TRANSLATORS: the first %s is a program, the second why it could not run */
                               _("Cannot run the command %s: %s"), self->argv[0], error->message);
      return;
    }
  identifier = g_subprocess_get_identifier (run->process);
  run->pid = identifier != NULL ? (GPid) g_ascii_strtoll (identifier, NULL, 10) : 0;

  json = g_bytes_new (publication->json, strlen (publication->json));
  g_output_stream_write_all_async (g_subprocess_get_stdin_pipe (run->process),
                                   g_bytes_get_data (json, NULL), g_bytes_get_size (json),
                                   G_PRIORITY_DEFAULT, NULL, stdin_written_cb, json);
  g_input_stream_read_bytes_async (g_subprocess_get_stderr_pipe (run->process), STDERR_TAIL_BYTES,
                                   G_PRIORITY_DEFAULT, NULL, stderr_read_cb, g_object_ref (task));
  g_subprocess_wait_async (run->process, NULL, waited_cb, g_object_ref (task));
  run->timeout_id = g_timeout_add_seconds (self->timeout, timeout_cb, run);
  run->cancelled_id = g_cancellable_connect (run->cancellable, G_CALLBACK (cancelled_cb), run, NULL);
}

static gboolean
agl_publish_command_deliver_finish (AglPublisher  *publisher,
                                    GAsyncResult  *result,
                                    char         **detail,
                                    GError       **error)
{
  char *answer;

  g_return_val_if_fail (g_task_is_valid (result, publisher), FALSE);

  answer = g_task_propagate_pointer (G_TASK (result), error);
  if (answer == NULL)
    return FALSE;
  if (detail != NULL)
    *detail = answer;
  else
    g_free (answer);
  return TRUE;
}

static char *
agl_publish_command_describe (AglPublisher *publisher)
{
  AglPublishCommand *self = AGL_PUBLISH_COMMAND (publisher);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; self->argv[i] != NULL; i++)
    {
      g_autofree char *quoted = NULL;

      if (i > 0)
        g_string_append_c (text, ' ');
      /* Quoted only where a reader needs it to tell the words apart. */
      if (*self->argv[i] != '\0' && strpbrk (self->argv[i], " \t\n'\"\\$`") == NULL)
        g_string_append (text, self->argv[i]);
      else
        {
          quoted = g_shell_quote (self->argv[i]);
          g_string_append (text, quoted);
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
agl_publish_command_finalize (GObject *object)
{
  AglPublishCommand *self = AGL_PUBLISH_COMMAND (object);

  g_strfreev (self->argv);
  G_OBJECT_CLASS (agl_publish_command_parent_class)->finalize (object);
}

static void
agl_publish_command_class_init (AglPublishCommandClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  AglPublisherClass *publisher_class = AGL_PUBLISHER_CLASS (klass);

  object_class->finalize = agl_publish_command_finalize;
  publisher_class->kind = "command";
  publisher_class->describe = agl_publish_command_describe;
  publisher_class->deliver_async = agl_publish_command_deliver_async;
  publisher_class->deliver_finish = agl_publish_command_deliver_finish;
}

static void
agl_publish_command_init (AglPublishCommand *self)
{
}

static GStrv
read_argv (JsonObject  *config,
           const char  *path,
           GError     **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonNode *node = json_object_get_member (config, "argv");
  JsonArray *array;
  const char *program;

  if (node == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.argv is missing: give the program and its arguments, such as [\"/usr/local/bin/presence-hook\", \"--quiet\"]."),
                   path);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) == 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.argv must be a non-empty array of strings: the program and its arguments."),
                   path);
      return NULL;
    }
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *word;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s.argv[%u] must be a string."), path, i);
          return NULL;
        }
      word = json_node_get_string (element);
      if (strlen (word) > 4096 || !g_utf8_validate (word, -1, NULL))
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s.argv[%u] is longer than 4096 bytes."), path, i);
          return NULL;
        }
      g_strv_builder_add (builder, word);
    }

  program = json_array_get_string_element (array, 0);
  /* No shell and no search of PATH: the daemon runs exactly the program
   * the rules name. */
  if (!g_path_is_absolute (program))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.argv[0]: “%s” is not an absolute path; give the program’s full path, such as /usr/local/bin/presence-hook."),
                   path, program);
      return NULL;
    }
  if (!g_file_test (program, G_FILE_TEST_IS_REGULAR) ||
      !g_file_test (program, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.argv[0]: “%s” is not an executable program."), path, program);
      return NULL;
    }
  return g_strv_builder_end (builder);
}

static gboolean
read_config (JsonObject  *config,
             const char  *path,
             GStrv       *argv,
             guint       *timeout,
             GError     **error)
{
  static const char * const allowed[] = { "argv", "timeout", NULL };
  g_auto(GStrv) words = NULL;

  if (!agl_publish_config_check_members (config, path, allowed, error) ||
      (words = read_argv (config, path, error)) == NULL ||
      !agl_publish_config_get_seconds (config, path, "timeout", 1, MAX_TIMEOUT_SECONDS,
                                       DEFAULT_TIMEOUT_SECONDS, timeout, error))
    return FALSE;
  if (argv != NULL)
    *argv = g_steal_pointer (&words);
  return TRUE;
}

/**
 * agl_publish_command_check_config:
 * @config: the "publishers.command" object
 * @path: where @config is, for messages ("publishers.command")
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the key
 *
 * Checks a command hook's settings without making one.
 *
 * Returns: whether they are good
 */
gboolean
agl_publish_command_check_config (JsonObject  *config,
                                  const char  *path,
                                  GError     **error)
{
  guint timeout;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  return read_config (config, path, NULL, &timeout, error);
}

/**
 * agl_publish_command_new:
 * @config: the "publishers.command" object
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: (transfer full): a command hook, or %NULL
 */
AglPublisher *
agl_publish_command_new (JsonObject  *config,
                         GError     **error)
{
  g_auto(GStrv) argv = NULL;
  AglPublishCommand *self;
  guint timeout;

  g_return_val_if_fail (config != NULL, NULL);

  if (!read_config (config, "publishers.command", &argv, &timeout, error))
    return NULL;
  self = g_object_new (AGL_TYPE_PUBLISH_COMMAND, NULL);
  self->argv = g_steal_pointer (&argv);
  self->timeout = timeout;
  return AGL_PUBLISHER (self);
}
