/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-connections-page"

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-connections-page.h"
#include "agl-window.h"

/*
 * Connections and log: how the chosen account is linked to Exchange
 * (ListConnections), what the daemon itself is (GetState) and the daemon's
 * live log (GetLog, then LogLine), which the user can select and copy.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

/* The view holds at most this many lines, the newest. */
#define MAX_SHOWN_LINES 2000
/* Lines kept for when the filter changes; the daemon keeps about as many. */
#define MAX_KEPT_LINES 5000

typedef struct {
  char *time;      /* as the daemon sent it, for de-duplication */
  char *account;
  char *text;      /* the line as shown, without its newline */
} AglLogLine;

struct _AglConnectionsPage
{
  AglPage          parent_instance;


  /* The proxy whose LogLine and ConnectionChanged are connected: a
   * restarted daemon gets a new one. */
  AglDaemon       *proxy;

  GCancellable    *connection_cancellable;
  GCancellable    *state_cancellable;
  GCancellable    *log_cancellable;

  /* The last answer, shown again now and then so that "5 minutes ago"
   * stays true between ConnectionChanged signals. */
  GVariant        *connection;
  guint            tick_id;

  GQueue           log_lines;      /* AglLogLine, oldest first */
  /* While GetLog is under way the lines signalled meanwhile wait here;
   * some of them may be in GetLog's answer too. */
  GPtrArray       *pending_lines;  /* GVariant a{sv} */
  gboolean         log_loading;
  guint            shown_lines;
  /* The view stays at the end until the user scrolls up from it. */
  gboolean         follow_log;
  guint            follow_check_id;

  AdwPreferencesGroup *connection_group;
  GtkSpinner          *connection_spinner;
  GtkImage            *status_icon;
  AdwActionRow        *status_row;
  AdwActionRow        *notifications_row;
  AdwActionRow        *subscription_row;
  AdwActionRow        *watermark_row;
  AdwActionRow        *last_sync_row;
  AdwActionRow        *state_age_row;
  AdwActionRow        *items_row;
  AdwActionRow        *pending_row;
  AdwActionRow        *conflicts_row;
  AdwActionRow        *last_error_row;
  AdwActionRow        *server_version_row;
  AdwExpanderRow      *service_row;
  AdwActionRow        *version_row;
  AdwActionRow        *database_row;
  AdwActionRow        *schema_row;
  AdwActionRow        *secrets_row;
  AdwActionRow        *accounts_row;
  AdwActionRow        *all_items_row;
  AdwActionRow        *started_row;
  GtkSwitch           *filter_switch;
  GtkWidget           *copy_button;
  GtkScrolledWindow   *log_scroller;
  GtkTextView         *log_view;
};

G_DEFINE_FINAL_TYPE (AglConnectionsPage, agl_connections_page, AGL_TYPE_PAGE)

static const char *
lookup_string (GVariant   *dict,
               const char *key)
{
  const char *value = NULL;

  if (dict == NULL || !g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

static void
show_error (AglConnectionsPage *self,
            const char         *message)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), AGL_TYPE_WINDOW);
  AglDaemonClient *client = agl_page_get_client (AGL_PAGE (self));

  /* While the daemon is away the window says so; failed calls would only
   * repeat it. */
  if (client == NULL || agl_daemon_client_get_status (client) != AGL_DAEMON_CLIENT_READY)
    return;
  if (window != NULL)
    agl_window_show_error (AGL_WINDOW (window), message);
}

/* libadwaita 1.2 has no AdwActionRow:subtitle-selectable, so the row's own
 * subtitle label is made selectable: values such as a subscription id are
 * there to be copied. */
static GtkWidget *
find_subtitle_label (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_LABEL (child) && gtk_widget_has_css_class (child, "subtitle"))
        return child;
      found = find_subtitle_label (child);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
set_value (AdwActionRow *row,
           const char   *value)
{
  GtkWidget *label;

  adw_action_row_set_subtitle (row, value);
  label = find_subtitle_label (GTK_WIDGET (row));
  if (label != NULL && !gtk_label_get_selectable (GTK_LABEL (label)))
    {
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      /* A long id wraps rather than widening the page. */
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
    }
}

/* "5 minutes", "2 hours", "3 days" */
static char *
describe_duration (gint64 seconds)
{
  if (seconds < 60)
    return g_strdup_printf (ngettext ("%d second", "%d seconds", (gulong) seconds), (int) seconds);
  if (seconds < 3600)
    return g_strdup_printf (ngettext ("%d minute", "%d minutes", (gulong) (seconds / 60)),
                            (int) (seconds / 60));
  if (seconds < 86400)
    return g_strdup_printf (ngettext ("%d hour", "%d hours", (gulong) (seconds / 3600)),
                            (int) (seconds / 3600));
  return g_strdup_printf (ngettext ("%d day", "%d days", (gulong) (seconds / 86400)),
                          (int) (seconds / 86400));
}

/* The local date and time of an ISO 8601 instant, in the user's locale. */
static char *
describe_instant (const char *iso8601)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  utc = g_date_time_new_from_iso8601 (iso8601, NULL);
  if (utc == NULL)
    return g_strdup (iso8601);
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%c");
}

/* Connection */

static char *
describe_status (const char *status)
{
  if (g_str_equal (status, "disabled"))
    return g_strdup (_("Disabled"));
  if (g_str_equal (status, "connecting"))
    return g_strdup (_("Connecting"));
  if (g_str_equal (status, "syncing"))
    return g_strdup (_("Syncing"));
  if (g_str_equal (status, "online"))
    return g_strdup (_("Online"));
  if (g_str_equal (status, "offline"))
    return g_strdup (_("Offline (the last attempt failed; retrying)"));
  if (g_str_equal (status, "needs-confirmation"))
    return g_strdup (_("Waiting for a confirmation of the new mailbox (Accounts page)"));
  /* A newer daemon's status, as it says it. */
  return g_strdup (status);
}

static const char *
status_icon_name (const char *status)
{
  if (g_str_equal (status, "online"))
    return "network-transmit-receive-symbolic";
  if (g_str_equal (status, "offline") || g_str_equal (status, "needs-confirmation"))
    return "network-error-symbolic";
  if (g_str_equal (status, "disabled"))
    return "network-offline-symbolic";
  return "network-idle-symbolic";
}

static char *
describe_notifications (const char *notifications)
{
  if (g_str_equal (notifications, "streaming"))
    return g_strdup (_("Streaming (Exchange pushes changes)"));
  if (g_str_equal (notifications, "pull"))
    return g_strdup (_("Pull (the service asks for changes)"));
  if (g_str_equal (notifications, "polling"))
    return g_strdup (_("Polling (the server sends none)"));
  if (*notifications == '\0')
    return g_strdup (_("None"));
  return g_strdup (notifications);
}

static char *
describe_last_sync (const char *last_sync)
{
  g_autoptr(GDateTime) then = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *local = NULL;
  g_autofree char *age = NULL;

  if (*last_sync == '\0')
    return g_strdup (_("Never"));
  then = g_date_time_new_from_iso8601 (last_sync, NULL);
  if (then == NULL)
    return g_strdup (last_sync);
  now = g_date_time_new_now_utc ();
  local = describe_instant (last_sync);
  age = describe_duration (MAX (0, g_date_time_difference (now, then) / G_TIME_SPAN_SECOND));
  /* Translators: the last sync: "Sun 22 Nov 2026 10:00:05 (42 seconds ago)" */
  return g_strdup_printf (_("%s (%s ago)"), local, age);
}

static void
show_connection (AglConnectionsPage *self,
                 GVariant           *connection)
{
  const char *status = lookup_string (connection, "status");
  const char *last_error = lookup_string (connection, "last-error");
  const char *server_version = lookup_string (connection, "server-version");
  g_autofree char *status_text = NULL;
  g_autofree char *notifications = NULL;
  g_autofree char *last_sync = NULL;
  g_autofree char *age_text = NULL;
  g_autofree char *number = NULL;
  gint64 age = -1;
  guint32 count = 0;

  status_text = describe_status (status);
  set_value (self->status_row, status_text);
  gtk_image_set_from_icon_name (self->status_icon, status_icon_name (status));

  notifications = describe_notifications (lookup_string (connection, "notifications"));
  set_value (self->notifications_row, notifications);

  set_value (self->subscription_row, *lookup_string (connection, "subscription-id") != '\0'
                                     ? lookup_string (connection, "subscription-id") : _("None"));
  set_value (self->watermark_row, *lookup_string (connection, "watermark") != '\0'
                                  ? lookup_string (connection, "watermark") : _("None"));

  last_sync = describe_last_sync (lookup_string (connection, "last-sync"));
  set_value (self->last_sync_row, last_sync);

  if (g_variant_lookup (connection, "sync-state-age", "x", &age) && age >= 0)
    {
      g_autofree char *duration = describe_duration (age);

      /* Translators: how old the stored sync state is: "stored 5 minutes ago" */
      age_text = g_strdup_printf (_("Stored %s ago"), duration);
    }
  else
    age_text = g_strdup (_("None (the next sync starts afresh)"));
  set_value (self->state_age_row, age_text);

  g_variant_lookup (connection, "items", "u", &count);
  number = g_strdup_printf ("%u", count);
  set_value (self->items_row, number);
  g_clear_pointer (&number, g_free);

  count = 0;
  g_variant_lookup (connection, "pending", "u", &count);
  number = g_strdup_printf ("%u", count);
  set_value (self->pending_row, number);
  g_clear_pointer (&number, g_free);

  count = 0;
  g_variant_lookup (connection, "conflicts", "u", &count);
  number = g_strdup_printf ("%u", count);
  set_value (self->conflicts_row, number);

  set_value (self->last_error_row, *last_error != '\0' ? last_error : _("None"));
  if (*last_error != '\0')
    gtk_widget_add_css_class (GTK_WIDGET (self->last_error_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->last_error_row), "error");

  set_value (self->server_version_row, *server_version != '\0' ? server_version
                                                               : _("Not known yet"));
}

static void
show_no_connection (AglConnectionsPage *self)
{
  gboolean have_account = agl_page_get_account (AGL_PAGE (self)) != NULL;
  const char *none = have_account ? _("Unknown") : _("No account chosen");
  AdwActionRow *rows[] = {
    self->status_row, self->notifications_row, self->subscription_row,
    self->watermark_row, self->last_sync_row, self->state_age_row, self->items_row,
    self->pending_row, self->conflicts_row, self->last_error_row, self->server_version_row,
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    set_value (rows[i], none);
  gtk_widget_remove_css_class (GTK_WIDGET (self->last_error_row), "error");
  gtk_image_set_from_icon_name (self->status_icon, "network-idle-symbolic");
}

static void
list_connections_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  AglConnectionsPage *self = user_data;
  g_autoptr(GVariant) connections = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *connection;

  if (!agl_daemon_call_list_connections_finish (AGL_DAEMON (object), &connections, result, &error))
    {
      /* Cancelled by a newer refresh or by dispose, when self may be gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_spinner_stop (self->connection_spinner);
      agl_daemon_client_strip_error (error);
      show_error (self, error->message);
      return;
    }

  gtk_spinner_stop (self->connection_spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->connection_spinner), FALSE);

  g_variant_iter_init (&iter, connections);
  while ((connection = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = connection;

      if (g_strcmp0 (lookup_string (connection, "name"),
                     agl_page_get_account (AGL_PAGE (self))) == 0)
        {
          g_clear_pointer (&self->connection, g_variant_unref);
          self->connection = g_variant_ref (connection);
          show_connection (self, connection);
          return;
        }
    }
  g_clear_pointer (&self->connection, g_variant_unref);
  show_no_connection (self);
}

static gboolean
tick_cb (gpointer user_data)
{
  AglConnectionsPage *self = user_data;

  if (self->connection != NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    show_connection (self, self->connection);
  return G_SOURCE_CONTINUE;
}

static void
refresh_connection (AglConnectionsPage *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (proxy == NULL)
    return;
  if (agl_page_get_account (AGL_PAGE (self)) == NULL)
    {
      g_cancellable_cancel (self->connection_cancellable);
      g_clear_pointer (&self->connection, g_variant_unref);
      show_no_connection (self);
      return;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->connection_spinner), TRUE);
  gtk_spinner_start (self->connection_spinner);
  agl_daemon_call_list_connections (proxy, G_DBUS_CALL_FLAGS_NONE, -1,
                                    agl_cancellable_restart (&self->connection_cancellable),
                                    list_connections_cb, self);
}

static void
connection_changed_cb (AglDaemon  *proxy,
                       const char *name,
                       gpointer    user_data)
{
  AglConnectionsPage *self = user_data;

  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
    refresh_connection (self);
}

/* Service */

static void
get_state_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AglConnectionsPage *self = user_data;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *schema = NULL;
  g_autofree char *accounts = NULL;
  g_autofree char *items = NULL;
  g_autofree char *started = NULL;
  const char *secrets;
  const char *database;
  gint32 schema_version = 0;
  guint32 n_accounts = 0, n_enabled = 0, n_items = 0;

  state = agl_daemon_client_get_state_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (state == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }

  set_value (self->version_row, lookup_string (state, "version"));
  adw_expander_row_set_subtitle (self->service_row, lookup_string (state, "version"));

  database = lookup_string (state, "database");
  set_value (self->database_row, database);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->database_row), database);

  if (g_variant_lookup (state, "schema-version", "i", &schema_version))
    schema = g_strdup_printf ("%d", schema_version);
  set_value (self->schema_row, schema != NULL ? schema : _("Unknown"));

  secrets = lookup_string (state, "secret-storage");
  if (g_str_equal (secrets, "secret-service"))
    set_value (self->secrets_row, _("Keyring (Secret Service)"));
  else if (g_str_equal (secrets, "file"))
    set_value (self->secrets_row, _("File"));
  else
    set_value (self->secrets_row, *secrets != '\0' ? secrets : _("Unknown"));

  g_variant_lookup (state, "accounts", "u", &n_accounts);
  g_variant_lookup (state, "enabled-accounts", "u", &n_enabled);
  /* Translators: "3 accounts, 2 active" */
  accounts = g_strdup_printf (ngettext ("%u account, %u active", "%u accounts, %u active", n_accounts),
                              n_accounts, n_enabled);
  set_value (self->accounts_row, accounts);

  g_variant_lookup (state, "items", "u", &n_items);
  items = g_strdup_printf ("%u", n_items);
  set_value (self->all_items_row, items);

  started = describe_instant (lookup_string (state, "started"));
  set_value (self->started_row, *started != '\0' ? started : _("Unknown"));
}

static void
refresh_state (AglConnectionsPage *self)
{
  agl_daemon_client_get_state_async (agl_page_get_client (AGL_PAGE (self)),
                                     agl_cancellable_restart (&self->state_cancellable),
                                     get_state_cb, self);
}

/* Log */

static void
log_line_free (AglLogLine *line)
{
  g_free (line->time);
  g_free (line->account);
  g_free (line->text);
  g_free (line);
}

static char *
describe_level (const char *level)
{
  if (g_str_equal (level, "error"))
    return g_strdup (C_("log level", "error"));
  if (g_str_equal (level, "warning"))
    return g_strdup (C_("log level", "warning"));
  if (g_str_equal (level, "message"))
    return g_strdup (C_("log level", "message"));
  if (g_str_equal (level, "info"))
    return g_strdup (C_("log level", "info"));
  if (g_str_equal (level, "debug"))
    return g_strdup (C_("log level", "debug"));
  return g_strdup (level);
}

/* "2026-11-23 10:00:05.123  warning  [Work] message", in local time, as
 * "agendalinectl log" prints it. */
static AglLogLine *
log_line_new (GVariant *line)
{
  const char *time = lookup_string (line, "time");
  const char *account = lookup_string (line, "account");
  g_autofree char *level = describe_level (lookup_string (line, "level"));
  g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601 (time, NULL);
  g_autofree char *when = NULL;
  g_autofree char *message = g_strdup (lookup_string (line, "message"));
  AglLogLine *log_line;

  if (utc != NULL)
    {
      g_autoptr(GDateTime) local = g_date_time_to_local (utc);
      g_autofree char *seconds = g_date_time_format (local, "%Y-%m-%d %H:%M:%S");

      when = g_strdup_printf ("%s.%03d", seconds, g_date_time_get_microsecond (local) / 1000);
    }
  else
    when = g_strdup (time);

  /* One entry, one line of the view. */
  g_strdelimit (message, "\r\n", ' ');

  log_line = g_new0 (AglLogLine, 1);
  log_line->time = g_strdup (time);
  log_line->account = g_strdup (account);
  if (*account != '\0')
    log_line->text = g_strdup_printf ("%s  %-7s  [%s] %s", when, level, account, message);
  else
    log_line->text = g_strdup_printf ("%s  %-7s  %s", when, level, message);
  return log_line;
}

static gboolean
line_is_shown (AglConnectionsPage *self,
               const AglLogLine   *line)
{
  const char *account = agl_page_get_account (AGL_PAGE (self));

  if (!gtk_switch_get_active (self->filter_switch) || account == NULL)
    return TRUE;
  /* Lines of no account concern them all. */
  return *line->account == '\0' || g_str_equal (line->account, account);
}

static gboolean
log_is_at_end (AglConnectionsPage *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->log_scroller);

  return gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment)
         >= gtk_adjustment_get_upper (adjustment) - 4;
}

static void
scroll_log_to_end (AglConnectionsPage *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->log_scroller);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);

  /* Scrolled before it has a size, GTK 4.8's text view keeps an offset
   * its adjustment no longer shows; it is scrolled once it has one. */
  if (gtk_adjustment_get_page_size (adjustment) <= 0)
    return;
  gtk_text_view_scroll_to_mark (self->log_view, gtk_text_buffer_get_mark (buffer, "agl-end"),
                                0, TRUE, 0, 1);
}

/* The text view lays its lines out bit by bit, so the end moves for a
 * while after text is added: the view follows it while it should. */
static void
log_adjustment_changed_cb (GtkAdjustment      *adjustment,
                           AglConnectionsPage *self)
{
  if (self->follow_log)
    scroll_log_to_end (self);
}

static gboolean
check_follow_cb (gpointer user_data)
{
  AglConnectionsPage *self = user_data;

  self->follow_check_id = 0;
  self->follow_log = log_is_at_end (self);
  return G_SOURCE_REMOVE;
}

/* After the user scrolled, by wheel, keys or scroll bar: the view follows
 * new lines again once they are back at the end.  Only the user's moves
 * count; the text view moves itself too while it lays lines out. */
static void
user_scrolled (AglConnectionsPage *self)
{
  g_clear_handle_id (&self->follow_check_id, g_source_remove);
  self->follow_check_id = g_timeout_add (100, check_follow_cb, self);
}

static gboolean
log_scroll_cb (GtkEventControllerScroll *controller,
               double                    dx,
               double                    dy,
               AglConnectionsPage       *self)
{
  if (dy < 0)
    self->follow_log = FALSE;
  user_scrolled (self);
  return FALSE;
}

static gboolean
log_key_pressed_cb (GtkEventControllerKey *controller,
                    guint                  keyval,
                    guint                  keycode,
                    GdkModifierType        state,
                    AglConnectionsPage    *self)
{
  self->follow_log = FALSE;
  user_scrolled (self);
  return FALSE;
}

static void
scrollbar_pressed_cb (AglConnectionsPage *self)
{
  self->follow_log = FALSE;
}

static void
scrollbar_released_cb (AglConnectionsPage *self)
{
  user_scrolled (self);
}

/* Drops the oldest shown lines beyond the cap. */
static void
trim_log_view (AglConnectionsPage *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter start, cut;
  guint excess;

  if (self->shown_lines <= MAX_SHOWN_LINES)
    return;
  excess = self->shown_lines - MAX_SHOWN_LINES;
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_get_iter_at_line (buffer, &cut, (int) excess);
  gtk_text_buffer_delete (buffer, &start, &cut);
  self->shown_lines = MAX_SHOWN_LINES;
}

static void
append_to_view (AglConnectionsPage *self,
                const AglLogLine   *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;

  /* The view follows new lines unless the user scrolled up to read
   * (log_adjustment_changed_cb). */
  gtk_text_buffer_get_end_iter (buffer, &end);
  if (self->shown_lines > 0)
    gtk_text_buffer_insert (buffer, &end, "\n", 1);
  gtk_text_buffer_insert (buffer, &end, line->text, -1);
  self->shown_lines++;
  trim_log_view (self);
  if (self->follow_log)
    scroll_log_to_end (self);
}

/* Shows the kept lines again, for a new filter or account. */
static void
rebuild_log_view (AglConnectionsPage *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  g_autofree char *text = NULL;

  for (GList *l = g_queue_peek_tail_link (&self->log_lines);
       l != NULL && shown->len < MAX_SHOWN_LINES;
       l = l->prev)
    if (line_is_shown (self, l->data))
      g_ptr_array_add (shown, ((AglLogLine *) l->data)->text);

  /* Newest first above; the view wants the oldest first. */
  for (guint i = 0; i < shown->len / 2; i++)
    {
      gpointer swap = shown->pdata[i];

      shown->pdata[i] = shown->pdata[shown->len - 1 - i];
      shown->pdata[shown->len - 1 - i] = swap;
    }
  g_ptr_array_add (shown, NULL);
  text = g_strjoinv ("\n", (char **) shown->pdata);
  gtk_text_buffer_set_text (buffer, text, -1);
  self->shown_lines = shown->len - 1;
  self->follow_log = TRUE;
  scroll_log_to_end (self);
}

static void
keep_line (AglConnectionsPage *self,
           GVariant           *variant,
           gboolean            show)
{
  AglLogLine *line = log_line_new (variant);

  g_queue_push_tail (&self->log_lines, line);
  if (show && line_is_shown (self, line))
    append_to_view (self, line);
  while (self->log_lines.length > MAX_KEPT_LINES)
    log_line_free (g_queue_pop_head (&self->log_lines));
}

static char *
log_line_key (GVariant *line)
{
  return g_strjoin ("\x1f", lookup_string (line, "time"), lookup_string (line, "level"),
                    lookup_string (line, "account"), lookup_string (line, "message"), NULL);
}

static void
get_log_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  AglConnectionsPage *self = user_data;
  g_autoptr(GVariant) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) listed = NULL;
  GVariantIter iter;
  GVariant *line;

  if (!agl_daemon_call_get_log_finish (AGL_DAEMON (object), &lines, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self->log_loading = FALSE;
      agl_daemon_client_strip_error (error);
      show_error (self, error->message);
      return;
    }

  self->log_loading = FALSE;
  g_queue_clear_full (&self->log_lines, (GDestroyNotify) log_line_free);
  listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_variant_iter_init (&iter, lines);
  while ((line = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_hash_table_add (listed, log_line_key (line));
      keep_line (self, line, FALSE);
      g_variant_unref (line);
    }

  /* The lines signalled while GetLog was under way, less those it
   * already listed. */
  for (guint i = 0; i < self->pending_lines->len; i++)
    {
      GVariant *pending = g_ptr_array_index (self->pending_lines, i);
      g_autofree char *key = log_line_key (pending);

      if (!g_hash_table_contains (listed, key))
        keep_line (self, pending, FALSE);
    }
  g_ptr_array_set_size (self->pending_lines, 0);

  rebuild_log_view (self);
}

static void
refresh_log (AglConnectionsPage *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (proxy == NULL)
    return;
  self->log_loading = TRUE;
  g_ptr_array_set_size (self->pending_lines, 0);
  agl_daemon_call_get_log (proxy, 0, G_DBUS_CALL_FLAGS_NONE, -1,
                           agl_cancellable_restart (&self->log_cancellable),
                           get_log_cb, self);
}

static void
log_line_cb (AglDaemon *proxy,
             GVariant  *line,
             gpointer   user_data)
{
  AglConnectionsPage *self = user_data;

  if (self->log_loading)
    g_ptr_array_add (self->pending_lines, g_variant_ref (line));
  else
    keep_line (self, line, TRUE);
}

static void
filter_changed_cb (AglConnectionsPage *self)
{
  rebuild_log_view (self);
}

static void
copy_log_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  AglConnectionsPage *self = AGL_CONNECTIONS_PAGE (widget);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  g_autofree char *text = NULL;
  GtkWidget *overlay;
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);

  overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (_("Log copied")));
}

/* The daemon comes and goes */

static void
connect_proxy (AglConnectionsPage *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (proxy == self->proxy)
    return;
  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_set_object (&self->proxy, proxy);
  if (proxy != NULL)
    {
      g_signal_connect (proxy, "log-line", G_CALLBACK (log_line_cb), self);
      g_signal_connect (proxy, "connection-changed", G_CALLBACK (connection_changed_cb), self);
    }
}

static void
refresh_all (AglConnectionsPage *self)
{
  AglDaemonClient *client = agl_page_get_client (AGL_PAGE (self));

  if (client == NULL || agl_daemon_client_get_status (client) != AGL_DAEMON_CLIENT_READY)
    return;
  connect_proxy (self);
  refresh_connection (self);
  refresh_state (self);
  refresh_log (self);
}

static void
agl_connections_page_client_ready (AglPage *page)
{
  refresh_all (AGL_CONNECTIONS_PAGE (page));
}

static void
client_state_changed_cb (AglConnectionsPage *self)
{
  refresh_state (self);
}

static void
client_accounts_changed_cb (AglConnectionsPage *self,
                            const char         *name)
{
  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
    refresh_connection (self);
}

static void
agl_connections_page_client_changed (AglPage *page)
{
  AglDaemonClient *client = agl_page_get_client (page);

  g_signal_connect_swapped (client, "state-changed", G_CALLBACK (client_state_changed_cb), page);
  g_signal_connect_swapped (client, "accounts-changed",
                            G_CALLBACK (client_accounts_changed_cb), page);
}

static void
agl_connections_page_account_changed (AglPage *page)
{
  AglConnectionsPage *self = AGL_CONNECTIONS_PAGE (page);
  AglDaemonClient *client = agl_page_get_client (page);

  g_clear_pointer (&self->connection, g_variant_unref);
  adw_preferences_group_set_description (self->connection_group, agl_page_get_account (page));
  if (client != NULL && agl_daemon_client_get_status (client) == AGL_DAEMON_CLIENT_READY)
    refresh_connection (self);
  else
    show_no_connection (self);
  rebuild_log_view (self);
}

/* GObject */

static void
agl_connections_page_dispose (GObject *object)
{
  AglConnectionsPage *self = (AglConnectionsPage *) object;

  g_cancellable_cancel (self->connection_cancellable);
  g_cancellable_cancel (self->state_cancellable);
  g_cancellable_cancel (self->log_cancellable);
  g_clear_object (&self->connection_cancellable);
  g_clear_object (&self->state_cancellable);
  g_clear_object (&self->log_cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->follow_check_id, g_source_remove);
  g_clear_pointer (&self->connection, g_variant_unref);

  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  g_queue_clear_full (&self->log_lines, (GDestroyNotify) log_line_free);
  g_clear_pointer (&self->pending_lines, g_ptr_array_unref);

  G_OBJECT_CLASS (agl_connections_page_parent_class)->dispose (object);
}

static void
agl_connections_page_class_init (AglConnectionsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_connections_page_dispose;
  page_class->client_changed = agl_connections_page_client_changed;
  page_class->client_ready = agl_connections_page_client_ready;
  page_class->account_changed = agl_connections_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-connections-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, connection_group);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, connection_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, notifications_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, subscription_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, watermark_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, last_sync_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, state_age_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, items_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, pending_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, conflicts_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, last_error_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, server_version_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, service_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, version_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, database_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, schema_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, secrets_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, accounts_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, all_items_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, started_row);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, filter_switch);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, copy_button);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, log_scroller);
  gtk_widget_class_bind_template_child (widget_class, AglConnectionsPage, log_view);

  gtk_widget_class_install_action (widget_class, "connections.copy-log", NULL, copy_log_action);
}

static void
agl_connections_page_init (AglConnectionsPage *self)
{
  GtkAdjustment *adjustment;
  GtkEventController *controller;
  GtkGesture *gesture;
  GtkTextBuffer *buffer;
  GtkTextIter end;

  gtk_widget_init_template (GTK_WIDGET (self));

  g_queue_init (&self->log_lines);
  self->pending_lines = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  buffer = gtk_text_view_get_buffer (self->log_view);
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_create_mark (buffer, "agl-end", &end, FALSE);

  self->follow_log = TRUE;
  adjustment = gtk_scrolled_window_get_vadjustment (self->log_scroller);
  g_signal_connect_object (adjustment, "changed",
                           G_CALLBACK (log_adjustment_changed_cb), self, 0);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect (controller, "scroll", G_CALLBACK (log_scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->log_scroller), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (log_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->log_view), controller);

  gesture = gtk_gesture_click_new ();
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (gesture), GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (gesture, "pressed", G_CALLBACK (scrollbar_pressed_cb), self);
  g_signal_connect_swapped (gesture, "released", G_CALLBACK (scrollbar_released_cb), self);
  g_signal_connect_swapped (gesture, "stopped", G_CALLBACK (scrollbar_released_cb), self);
  gtk_widget_add_controller (gtk_scrolled_window_get_vscrollbar (self->log_scroller),
                             GTK_EVENT_CONTROLLER (gesture));

  g_signal_connect_swapped (self->filter_switch, "notify::active",
                            G_CALLBACK (filter_changed_cb), self);
  show_no_connection (self);
  self->tick_id = g_timeout_add_seconds (30, tick_cb, self);
}
