/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-status-page"

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-status-page.h"
#include "agl-presence-format.h"

/*
 * The status page: whether the account is online, its presence and phone
 * action now and what produced them (the daemon's "because" list), how the
 * status changes in the next seven days, "Sync Now", and a manual
 * override.  Everything comes from GetStatus, GetSchedule and
 * ListConnections and is fetched again on StatusChanged,
 * ConnectionChanged and AgendaChanged for the account.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

#define SCHEDULE_DAYS 7
/* Bursts of AgendaChanged (a first sync stores thousands of appointments)
 * are answered once per this many milliseconds. */
#define REFRESH_DELAY_MS 400
#define PULSE_INTERVAL_MS 120

struct _AglStatusPage
{
  AglPage          parent_instance;

  /* The proxy whose signals are connected; the client makes a new one
   * when the daemon is reached again. */
  AglDaemon       *proxy;

  GCancellable    *connection_cancellable;
  GCancellable    *status_cancellable;
  GCancellable    *schedule_cancellable;
  GCancellable    *sync_cancellable;
  GCancellable    *override_cancellable;
  guint            refresh_source;
  guint            pulse_source;

  gboolean         enabled;          /* the account syncs */
  gboolean         daemon_syncing;   /* ListConnections says "syncing" */
  gboolean         sync_running;     /* our SyncAccount call is under way */
  gboolean         override_running;
  gboolean         override_active;

  GtkStack        *stack;
  GtkSpinner      *sync_spinner;
  GtkButton       *sync_button;
  AdwActionRow    *connection_row;
  GtkImage        *connection_icon;
  GtkProgressBar  *sync_progress;
  AdwActionRow    *sync_result_row;
  AdwActionRow    *presence_row;
  GtkImage        *presence_icon;
  AdwActionRow    *phone_row;
  GtkImage        *phone_icon;
  AdwActionRow    *text_row;
  AdwActionRow    *until_row;
  GtkLabel        *status_error_label;
  GtkListBox      *why_list;
  GtkBox          *timeline_box;
  AdwComboRow     *override_presence_row;
  AdwComboRow     *override_action_row;
  AdwEntryRow     *override_text_row;
  GtkSpinner      *override_spinner;
  GtkButton       *clear_override_button;
  GtkButton       *set_override_button;
  GtkLabel        *override_message_label;
};

G_DEFINE_FINAL_TYPE (AglStatusPage, agl_status_page, AGL_TYPE_PAGE)

/* The values SetOverride takes, in the order of the combo rows' models. */
static const char * const override_presences[] = {
  "available", "busy", "dnd", "away", "out-of-office",
};
static const char * const override_actions[] = {
  "", "none", "dnd", "forward", "divert",
};

static const char * const presence_classes[] = { "success", "warning", "error" };

static void refresh_status (AglStatusPage *self);

static void
set_css_class (GtkWidget          *widget,
               const char         *css_class,
               const char * const *all,
               gsize               n_all)
{
  for (gsize i = 0; i < n_all; i++)
    gtk_widget_remove_css_class (widget, all[i]);
  if (css_class != NULL)
    gtk_widget_add_css_class (widget, css_class);
}

static void
remove_children (GtkWidget *parent,
                 void     (*remove) (GtkWidget *, GtkWidget *))
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (parent)) != NULL)
    remove (parent, child);
}

static void
list_box_remove (GtkWidget *list,
                 GtkWidget *child)
{
  gtk_list_box_remove (GTK_LIST_BOX (list), child);
}

static void
box_remove (GtkWidget *box,
            GtkWidget *child)
{
  gtk_box_remove (GTK_BOX (box), child);
}

/* Icons beside words only repeat them: screen readers skip them. */
static GtkWidget *
make_icon (const char *icon_name)
{
  return g_object_new (GTK_TYPE_IMAGE,
                       "icon-name", icon_name,
                       "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                       NULL);
}

static JsonNode *
parse_json (const char   *text,
            JsonNodeType  expected,
            GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &local_error);

  if (node == NULL || JSON_NODE_TYPE (node) != expected)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The Agendaline service sent a status that cannot be read: %s"),
                   local_error != NULL ? local_error->message : _("not the expected JSON"));
      return NULL;
    }
  return g_steal_pointer (&node);
}

/* Actions and progress */

static gboolean
pulse_cb (gpointer user_data)
{
  AglStatusPage *self = user_data;

  gtk_progress_bar_pulse (self->sync_progress);
  return G_SOURCE_CONTINUE;
}

/* Long work shows: a pulsing bar while the daemon or our call syncs. */
static void
update_progress (AglStatusPage *self)
{
  gboolean busy = self->daemon_syncing || self->sync_running;

  gtk_widget_set_visible (GTK_WIDGET (self->sync_progress), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->sync_spinner), self->sync_running);
  gtk_spinner_set_spinning (self->sync_spinner, self->sync_running);
  if (busy && self->pulse_source == 0)
    self->pulse_source = g_timeout_add (PULSE_INTERVAL_MS, pulse_cb, self);
  else if (!busy)
    g_clear_handle_id (&self->pulse_source, g_source_remove);
}

static void
update_actions (AglStatusPage *self)
{
  gboolean ready = self->proxy != NULL && agl_page_get_account (AGL_PAGE (self)) != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "status.sync",
                                 ready && self->enabled && !self->sync_running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "status.set-override",
                                 ready && !self->override_running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "status.clear-override",
                                 ready && !self->override_running);
  gtk_widget_set_visible (GTK_WIDGET (self->clear_override_button), self->override_active);
  gtk_widget_set_visible (GTK_WIDGET (self->override_spinner), self->override_running);
  gtk_spinner_set_spinning (self->override_spinner, self->override_running);
  update_progress (self);
}

/* Connection */

static char *
describe_last_sync (const char *last_sync)
{
  g_autoptr(GDateTime) local = agl_format_parse_local (last_sync);
  g_autofree char *when = NULL;

  if (local == NULL)
    return g_strdup (_("Not synced yet"));
  when = agl_format_at (local);
  /* Translators: e.g. "Last synced at 14:02", "Last synced yesterday at 09:00" */
  return g_strdup_printf (_("Last synced %s"), when);
}

static void
show_connection (AglStatusPage *self,
                 GVariant      *entry)
{
  const char *status = "disabled";
  const char *notifications = "";
  const char *last_error = "";
  const char *last_sync = "";
  guint32 items = 0;
  g_autofree char *state = NULL;
  g_autofree char *last = NULL;
  g_autofree char *subtitle = NULL;
  const char *icon = "network-offline-symbolic";
  const char *css_class = NULL;
  static const char * const classes[] = { "success", "warning", "error", "dim-label" };

  g_variant_lookup (entry, "status", "&s", &status);
  g_variant_lookup (entry, "notifications", "&s", &notifications);
  g_variant_lookup (entry, "last-error", "&s", &last_error);
  g_variant_lookup (entry, "last-sync", "&s", &last_sync);
  g_variant_lookup (entry, "items", "u", &items);
  if (!g_variant_lookup (entry, "enabled", "b", &self->enabled))
    self->enabled = g_strcmp0 (status, "disabled") != 0;
  self->daemon_syncing = g_strcmp0 (status, "syncing") == 0;

  if (g_strcmp0 (status, "online") == 0)
    {
      icon = "network-transmit-receive-symbolic";
      css_class = "success";
      if (g_strcmp0 (notifications, "streaming") == 0)
        state = g_strdup (_("Online — streaming notifications"));
      else if (g_strcmp0 (notifications, "pull") == 0)
        state = g_strdup (_("Online — pull notifications"));
      else if (g_strcmp0 (notifications, "polling") == 0)
        state = g_strdup (_("Online — polling for changes"));
      else
        state = g_strdup (_("Online"));
    }
  else if (g_strcmp0 (status, "offline") == 0)
    {
      icon = "network-offline-symbolic";
      css_class = "error";
      if (*last_error != '\0')
        /* Translators: the daemon's sentence saying why the account is offline */
        state = g_strdup_printf (_("Offline — %s"), last_error);
      else
        state = g_strdup (_("Offline"));
    }
  else if (g_strcmp0 (status, "syncing") == 0)
    {
      icon = "emblem-synchronizing-symbolic";
      css_class = "warning";
      state = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "Syncing… %'u appointment so far",
                                            "Syncing… %'u appointments so far", items),
                               items);
    }
  else if (g_strcmp0 (status, "connecting") == 0)
    {
      icon = "network-idle-symbolic";
      state = g_strdup (_("Connecting…"));
    }
  else if (g_strcmp0 (status, "needs-confirmation") == 0)
    {
      icon = "dialog-warning-symbolic";
      css_class = "warning";
      state = g_strdup (_("Waiting: the change of mailbox needs to be confirmed on the Accounts page"));
    }
  else
    {
      css_class = "dim-label";
      state = g_strdup (_("Disabled"));
    }

  last = describe_last_sync (last_sync);
  subtitle = g_strdup_printf ("%s\n%s", state, last);
  adw_action_row_set_subtitle (self->connection_row, subtitle);
  gtk_image_set_from_icon_name (self->connection_icon, icon);
  set_css_class (GTK_WIDGET (self->connection_icon), css_class, classes, G_N_ELEMENTS (classes));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->connection_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle, -1);
  update_actions (self);
}

static void
list_connections_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GVariant) connections = NULL;
  g_autoptr(GError) error = NULL;
  AglStatusPage *self;
  GVariantIter iter;
  GVariant *entry;

  if (!agl_daemon_call_list_connections_finish (AGL_DAEMON (object), &connections, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      adw_action_row_set_subtitle (self->connection_row, error->message);
      return;
    }
  self = user_data;

  g_variant_iter_init (&iter, connections);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *name = NULL;

      if (g_variant_lookup (entry, "name", "&s", &name) &&
          g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
        {
          show_connection (self, entry);
          g_variant_unref (entry);
          return;
        }
      g_variant_unref (entry);
    }
  /* Just added, or removed while the answer was on its way. */
  adw_action_row_set_subtitle (self->connection_row, _("Not known to the Agendaline service"));
}

static void
refresh_connection (AglStatusPage *self)
{
  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  agl_daemon_call_list_connections (self->proxy, G_DBUS_CALL_FLAGS_NONE, -1,
                                    agl_cancellable_restart (&self->connection_cancellable),
                                    list_connections_cb, self);
}

/* Status */

static char *
describe_until (const char *presence,
                const char *until)
{
  g_autoptr(GDateTime) local = agl_format_parse_local (until);
  g_autofree char *when = NULL;
  gboolean away = g_strcmp0 (presence, "available") != 0;

  if (local == NULL)
    return g_strdup (_("No change ahead"));
  when = agl_format_at (local);
  /* Translators: when the status changes, e.g. "Back at 14:30", "Back
   * tomorrow at 09:00" / "Next change at 14:30", "Next change Monday at 09:00" */
  return g_strdup_printf (away ? _("Back %s") : _("Next change %s"), when);
}

static GtkWidget *
make_because_row (JsonObject *because,
                  const char *until)
{
  g_autofree char *title = agl_format_because (because, until);
  const char *kind = agl_json_get_string (because, "kind");
  const char *detail = agl_json_get_string (because, "detail");
  GtkWidget *row = adw_action_row_new ();
  const char *icon = "dialog-information-symbolic";

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  /* The daemon's own sentence adds to what the title says about an
   * appointment or an override. */
  if (detail != NULL && g_strcmp0 (detail, title) != 0 && g_strcmp0 (kind, "override") != 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), detail);

  if (g_strcmp0 (kind, "appointment") == 0)
    icon = "x-office-calendar-symbolic";
  else if (g_strcmp0 (kind, "keyword") == 0 || g_strcmp0 (kind, "trigger-word") == 0)
    icon = "edit-find-symbolic";
  else if (g_strcmp0 (kind, "oof") == 0)
    icon = "mail-send-symbolic";
  else if (g_strcmp0 (kind, "override") == 0)
    icon = "document-edit-symbolic";
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), make_icon (icon));
  return row;
}

static void
show_status (AglStatusPage *self,
             JsonObject    *status)
{
  const char *presence = agl_json_get_string (status, "presence");
  const char *text = agl_json_get_string (status, "text");
  const char *until = agl_json_get_string (status, "until");
  JsonObject *phone = agl_json_get_object (status, "phone");
  const char *action = agl_json_get_string (phone, "action");
  JsonArray *because = agl_json_get_array (status, "because");
  g_autofree char *presence_text = NULL;
  g_autofree char *phone_text = agl_format_phone (phone);
  g_autofree char *until_text = describe_until (presence, until);
  g_autoptr(GDateTime) until_local = agl_format_parse_local (until);
  gboolean override_active = FALSE;

  if (text != NULL)
    /* Translators: the presence and the status text, e.g. "Busy — Budget review" */
    presence_text = g_strdup_printf (_("%s — %s"), agl_format_presence (presence), text);
  else
    presence_text = g_strdup (agl_format_presence (presence));
  adw_action_row_set_subtitle (self->presence_row, presence_text);
  gtk_image_set_from_icon_name (self->presence_icon, agl_format_presence_icon (presence));
  set_css_class (GTK_WIDGET (self->presence_icon), agl_format_presence_css_class (presence),
                 presence_classes, G_N_ELEMENTS (presence_classes));

  if (until_local != NULL && g_strcmp0 (action, "none") != 0)
    {
      g_autofree char *when = agl_format_when (until_local);
      g_autofree char *with_until =
        /* Translators: the phone action and when it ends, e.g. "Diverted: meeting, until 14:30" */
        g_strdup_printf (_("%s, until %s"), phone_text, when);

      adw_action_row_set_subtitle (self->phone_row, with_until);
    }
  else
    adw_action_row_set_subtitle (self->phone_row, phone_text);
  set_css_class (GTK_WIDGET (self->phone_icon),
                 g_strcmp0 (action, "none") == 0 || action == NULL ? "success"
                 : g_strcmp0 (action, "dnd") == 0 ? "error" : "warning",
                 presence_classes, G_N_ELEMENTS (presence_classes));

  adw_action_row_set_subtitle (self->text_row, text != NULL ? text : _("None"));
  adw_action_row_set_subtitle (self->until_row, until_text);

  remove_children (GTK_WIDGET (self->why_list), list_box_remove);
  for (guint i = 0; because != NULL && i < json_array_get_length (because); i++)
    {
      JsonNode *element = json_array_get_element (because, i);
      JsonObject *entry;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      entry = json_node_get_object (element);
      if (g_strcmp0 (agl_json_get_string (entry, "kind"), "override") == 0)
        override_active = TRUE;
      gtk_list_box_append (self->why_list, make_because_row (entry, until));
    }
  if (gtk_widget_get_first_child (GTK_WIDGET (self->why_list)) == NULL)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _("Nothing on the calendar: the rules’ defaults apply"));
      gtk_list_box_append (self->why_list, row);
    }

  self->override_active = override_active;
  gtk_widget_set_visible (GTK_WIDGET (self->status_error_label), FALSE);
  update_actions (self);
}

static void
show_status_error (AglStatusPage *self,
                   const char    *message)
{
  gtk_label_set_text (self->status_error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->status_error_label), TRUE);
}

static void
show_status_text (AglStatusPage *self,
                  const char    *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = parse_json (text, JSON_NODE_OBJECT, &error);

  if (node == NULL)
    {
      show_status_error (self, error->message);
      return;
    }
  show_status (self, json_node_get_object (node));
}

static void
get_status_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  AglStatusPage *self;

  if (!agl_daemon_call_get_status_finish (AGL_DAEMON (object), &text, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      show_status_error (self, error->message);
      return;
    }
  self = user_data;
  show_status_text (self, text);
}

/* Timeline */

static GtkWidget *
make_change_row (JsonObject *status,
                 GDateTime  *at)
{
  const char *presence = agl_json_get_string (status, "presence");
  const char *text = agl_json_get_string (status, "text");
  g_autofree char *clock = agl_format_clock (at);
  g_autofree char *phone = agl_format_phone (agl_json_get_object (status, "phone"));
  g_autofree char *title = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = make_icon (agl_format_presence_icon (presence));

  /* Translators: a change in the status timeline, e.g. "14:30 — Busy" */
  title = g_strdup_printf (_("%s — %s"), clock, agl_format_presence (presence));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  if (text != NULL)
    {
      /* Translators: the phone action and the status text in the timeline,
       * e.g. "Diverted: meeting · Budget review" */
      g_autofree char *subtitle = g_strdup_printf (_("%s · %s"), phone, text);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
    }
  else
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), phone);

  gtk_widget_add_css_class (icon, agl_format_presence_css_class (presence));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  return row;
}

static void
show_schedule (AglStatusPage *self,
               JsonArray     *schedule)
{
  GtkWidget *list = NULL;
  int last_day = -1;
  int last_year = -1;

  remove_children (GTK_WIDGET (self->timeline_box), box_remove);

  /* The first element is the status now, which the page already shows;
   * the timeline is the changes after it. */
  for (guint i = 1; i < json_array_get_length (schedule); i++)
    {
      JsonNode *element = json_array_get_element (schedule, i);
      JsonObject *status;
      g_autoptr(GDateTime) at = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      status = json_node_get_object (element);
      at = agl_format_parse_local (agl_json_get_string (status, "at"));
      if (at == NULL)
        continue;

      if (g_date_time_get_day_of_year (at) != last_day || g_date_time_get_year (at) != last_year)
        {
          g_autofree char *day = agl_format_day (at);
          GtkWidget *heading = gtk_label_new (day);

          gtk_label_set_xalign (GTK_LABEL (heading), 0);
          gtk_widget_add_css_class (heading, "caption-heading");
          gtk_widget_set_margin_top (heading, 6);
          gtk_box_append (self->timeline_box, heading);

          list = gtk_list_box_new ();
          gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
          gtk_widget_add_css_class (list, "boxed-list");
          gtk_accessible_update_relation (GTK_ACCESSIBLE (list),
                                          GTK_ACCESSIBLE_RELATION_LABELLED_BY, heading, NULL,
                                          -1);
          gtk_box_append (self->timeline_box, list);
          last_day = g_date_time_get_day_of_year (at);
          last_year = g_date_time_get_year (at);
        }
      gtk_list_box_append (GTK_LIST_BOX (list), make_change_row (status, at));
    }

  if (list == NULL)
    {
      GtkWidget *empty = gtk_label_new (_("No changes in the next 7 days"));

      gtk_label_set_xalign (GTK_LABEL (empty), 0);
      gtk_label_set_wrap (GTK_LABEL (empty), TRUE);
      gtk_widget_add_css_class (empty, "dim-label");
      gtk_box_append (self->timeline_box, empty);
    }
}

static void
show_schedule_error (AglStatusPage *self,
                     const char    *message)
{
  GtkWidget *label = gtk_label_new (message);

  remove_children (GTK_WIDGET (self->timeline_box), box_remove);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "error");
  gtk_box_append (self->timeline_box, label);
}

static void
get_schedule_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  AglStatusPage *self;

  if (!agl_daemon_call_get_schedule_finish (AGL_DAEMON (object), &text, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      show_schedule_error (self, error->message);
      return;
    }
  self = user_data;
  node = parse_json (text, JSON_NODE_ARRAY, &error);
  if (node == NULL)
    show_schedule_error (self, error->message);
  else
    show_schedule (self, json_node_get_array (node));
}

static void
refresh_schedule (AglStatusPage *self)
{
  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  agl_daemon_call_get_schedule (self->proxy, agl_page_get_account (AGL_PAGE (self)), "",
                                SCHEDULE_DAYS,
                                G_DBUS_CALL_FLAGS_NONE, -1,
                                agl_cancellable_restart (&self->schedule_cancellable),
                                get_schedule_cb, self);
}

static void
refresh_status (AglStatusPage *self)
{
  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  agl_daemon_call_get_status (self->proxy, agl_page_get_account (AGL_PAGE (self)), "",
                              G_DBUS_CALL_FLAGS_NONE, -1,
                              agl_cancellable_restart (&self->status_cancellable),
                              get_status_cb, self);
  refresh_schedule (self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  AglStatusPage *self = user_data;

  self->refresh_source = 0;
  refresh_status (self);
  refresh_connection (self);
  return G_SOURCE_REMOVE;
}

static void
queue_refresh (AglStatusPage *self)
{
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

static void
refresh_all (AglStatusPage *self)
{
  gboolean have_account = agl_page_get_account (AGL_PAGE (self)) != NULL;

  gtk_stack_set_visible_child_name (self->stack, have_account ? "status" : "no-account");
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (!have_account)
    return;
  refresh_connection (self);
  refresh_status (self);
}

/* Daemon signals */

static void
status_changed_cb (AglDaemon  *proxy,
                   const char *name,
                   const char *status,
                   gpointer    user_data)
{
  AglStatusPage *self = user_data;

  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) != 0)
    return;
  /* The signal carries the new status; an older GetStatus still on its
   * way must not overwrite it. */
  agl_cancellable_drop (&self->status_cancellable);
  show_status_text (self, status);
  refresh_schedule (self);
}

static void
connection_changed_cb (AglDaemon  *proxy,
                       const char *name,
                       gpointer    user_data)
{
  AglStatusPage *self = user_data;

  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
    refresh_connection (self);
}

static void
agenda_changed_cb (AglStatusPage *self,
                   const char    *account)
{
  if (g_strcmp0 (account, agl_page_get_account (AGL_PAGE (self))) == 0)
    queue_refresh (self);
}

static void
disconnect_proxy (AglStatusPage *self)
{
  if (self->proxy == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
}

static void
agl_status_page_client_ready (AglPage *page)
{
  AglStatusPage *self = AGL_STATUS_PAGE (page);
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (page));

  if (proxy != self->proxy)
    {
      disconnect_proxy (self);
      if (proxy != NULL)
        {
          self->proxy = g_object_ref (proxy);
          g_signal_connect (proxy, "status-changed", G_CALLBACK (status_changed_cb), self);
          g_signal_connect (proxy, "connection-changed", G_CALLBACK (connection_changed_cb), self);
        }
    }
  update_actions (self);
  gtk_widget_activate_action (GTK_WIDGET (self), "status.set-override", NULL);
}

/* Sync Now */

static void
show_sync_result (AglStatusPage *self,
                  const char    *title,
                  const char    *message,
                  gboolean       failed)
{
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->sync_result_row), title);
  adw_action_row_set_subtitle (self->sync_result_row, message);
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->sync_result_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->sync_result_row), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->sync_result_row), TRUE);
}

static void
sync_account_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  AglStatusPage *self;

  if (!agl_daemon_call_sync_account_finish (AGL_DAEMON (object), &reply, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      self->sync_running = FALSE;
      agl_daemon_client_strip_error (error);
      show_sync_result (self, _("Sync failed"), error->message, TRUE);
    }
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      g_autofree char *clock = agl_format_clock (now);
      g_autofree char *title = NULL;
      g_autofree char *received = NULL;
      g_autofree char *sent = NULL;
      g_autofree char *details = NULL;
      guint32 n_received = 0, n_sent = 0, n_conflicts = 0;

      self = user_data;
      self->sync_running = FALSE;
      g_variant_lookup (reply, "received", "u", &n_received);
      g_variant_lookup (reply, "sent", "u", &n_sent);
      g_variant_lookup (reply, "conflicts", "u", &n_conflicts);
      /* Translators: the result of Sync Now, e.g. "Synced at 14:02" */
      title = g_strdup_printf (_("Synced at %s"), clock);
      received = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "%u change received from Exchange",
                                               "%u changes received from Exchange", n_received),
                                  n_received);
      sent = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%u local change sent", "%u local changes sent",
                                           n_sent),
                              n_sent);
      if (n_conflicts > 0)
        {
          g_autofree char *conflicts =
            g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u conflict settled", "%u conflicts settled",
                                          n_conflicts),
                             n_conflicts);

          /* Translators: three parts of a sync's result, joined */
          details = g_strdup_printf (_("%s, %s, %s"), received, sent, conflicts);
        }
      else
        /* Translators: two parts of a sync's result, joined */
        details = g_strdup_printf (_("%s, %s"), received, sent);
      show_sync_result (self, title, details, FALSE);
    }
  update_actions (self);
  refresh_connection (self);
}

static void
sync_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AglStatusPage *self = AGL_STATUS_PAGE (widget);

  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL || self->sync_running)
    return;
  self->sync_running = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->sync_result_row), FALSE);
  update_actions (self);
  /* wait = TRUE answers when the sync is complete, which for a large
   * mailbox takes longer than D-Bus's default 25 s. */
  agl_daemon_call_sync_account (self->proxy, agl_page_get_account (AGL_PAGE (self)), TRUE,
                                G_DBUS_CALL_FLAGS_NONE,
                                G_MAXINT, agl_cancellable_restart (&self->sync_cancellable),
                                sync_account_cb, self);
}

/* Override */

static void
show_override_message (AglStatusPage *self,
                       const char    *message,
                       gboolean       failed)
{
  gtk_label_set_text (self->override_message_label, message);
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (self->override_message_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->override_message_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->override_message_label), TRUE);
}

static void
set_override_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autofree char *until = NULL;
  g_autoptr(GError) error = NULL;
  AglStatusPage *self;

  if (!agl_daemon_call_set_override_finish (AGL_DAEMON (object), &until, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      show_override_message (self, error->message, TRUE);
    }
  else
    {
      g_autoptr(GDateTime) local = agl_format_parse_local (until);

      self = user_data;
      if (local == NULL)
        show_override_message (self, _("Override set: it holds until you clear it."), FALSE);
      else
        {
          g_autofree char *when = agl_format_when (local);
          g_autofree char *message =
            /* Translators: e.g. "Override set: it holds until 14:30, when the next appointment starts or ends." */
            g_strdup_printf (_("Override set: it holds until %s, when the next appointment starts or ends."),
                             when);

          show_override_message (self, message, FALSE);
        }
      self->override_active = TRUE;
    }
  self->override_running = FALSE;
  update_actions (self);
  refresh_status (self);
}

static void
clear_override_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  AglStatusPage *self;

  if (!agl_daemon_call_clear_override_finish (AGL_DAEMON (object), result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      show_override_message (self, error->message, TRUE);
    }
  else
    {
      self = user_data;
      /* The button goes away; the focus must not go with it. */
      if (gtk_widget_has_focus (GTK_WIDGET (self->clear_override_button)))
        gtk_widget_grab_focus (GTK_WIDGET (self->set_override_button));
      self->override_active = FALSE;
      show_override_message (self, _("Override cleared: the calendar rules apply again."), FALSE);
    }
  self->override_running = FALSE;
  update_actions (self);
  refresh_status (self);
}

static void
set_override_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  AglStatusPage *self = AGL_STATUS_PAGE (widget);
  guint presence = adw_combo_row_get_selected (self->override_presence_row);
  guint action = adw_combo_row_get_selected (self->override_action_row);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->override_text_row));

  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL ||
      self->override_running)
    return;
  if (presence >= G_N_ELEMENTS (override_presences))
    presence = 1;
  if (action >= G_N_ELEMENTS (override_actions))
    action = 0;

  self->override_running = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->override_message_label), FALSE);
  update_actions (self);
  agl_daemon_call_set_override (self->proxy, agl_page_get_account (AGL_PAGE (self)),
                                override_presences[presence],
                                override_actions[action], text, G_DBUS_CALL_FLAGS_NONE, -1,
                                agl_cancellable_restart (&self->override_cancellable),
                                set_override_cb, self);
}

static void
clear_override_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  AglStatusPage *self = AGL_STATUS_PAGE (widget);

  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL ||
      self->override_running)
    return;
  self->override_running = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->override_message_label), FALSE);
  update_actions (self);
  agl_daemon_call_clear_override (self->proxy, agl_page_get_account (AGL_PAGE (self)),
                                  G_DBUS_CALL_FLAGS_NONE, -1,
                                  agl_cancellable_restart (&self->override_cancellable),
                                  clear_override_cb, self);
}

static void
override_text_activated_cb (AglStatusPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "status.set-override", NULL);
}

/* AglPage */

static void
agl_status_page_client_changed (AglPage *page)
{
  g_signal_connect_swapped (agl_page_get_client (page), "agenda-changed",
                            G_CALLBACK (agenda_changed_cb), page);
}

static void
agl_status_page_account_changed (AglPage *page)
{
  AglStatusPage *self = AGL_STATUS_PAGE (page);

  /* Answers about the previous account must not land on this one. */
  agl_cancellable_drop (&self->connection_cancellable);
  agl_cancellable_drop (&self->status_cancellable);
  agl_cancellable_drop (&self->schedule_cancellable);
  agl_cancellable_drop (&self->sync_cancellable);
  agl_cancellable_drop (&self->override_cancellable);
  self->sync_running = FALSE;
  self->override_running = FALSE;
  self->override_active = FALSE;
  self->daemon_syncing = FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self->sync_result_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->override_message_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->status_error_label), FALSE);
  /* Nothing of the previous account may show while this one loads. */
  adw_action_row_set_subtitle (self->connection_row, _("Loading…"));
  adw_action_row_set_subtitle (self->presence_row, "");
  adw_action_row_set_subtitle (self->phone_row, "");
  adw_action_row_set_subtitle (self->text_row, "");
  adw_action_row_set_subtitle (self->until_row, "");
  remove_children (GTK_WIDGET (self->why_list), list_box_remove);
  remove_children (GTK_WIDGET (self->timeline_box), box_remove);
  update_actions (self);
  refresh_all (self);
}

/* GObject */

static void
agl_status_page_dispose (GObject *object)
{
  AglStatusPage *self = (AglStatusPage *) object;

  agl_cancellable_drop (&self->connection_cancellable);
  agl_cancellable_drop (&self->status_cancellable);
  agl_cancellable_drop (&self->schedule_cancellable);
  agl_cancellable_drop (&self->sync_cancellable);
  agl_cancellable_drop (&self->override_cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->pulse_source, g_source_remove);
  disconnect_proxy (self);
  G_OBJECT_CLASS (agl_status_page_parent_class)->dispose (object);
}

static void
agl_status_page_class_init (AglStatusPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_status_page_dispose;
  page_class->client_changed = agl_status_page_client_changed;
  page_class->client_ready = agl_status_page_client_ready;
  page_class->account_changed = agl_status_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/agendaline/Agendaline/agl-status-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, stack);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, sync_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, sync_button);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, connection_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, connection_icon);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, sync_progress);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, sync_result_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, presence_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, presence_icon);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, phone_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, phone_icon);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, text_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, until_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, status_error_label);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, why_list);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, timeline_box);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, override_presence_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, override_action_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, override_text_row);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, override_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, clear_override_button);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, set_override_button);
  gtk_widget_class_bind_template_child (widget_class, AglStatusPage, override_message_label);
  gtk_widget_class_bind_template_callback (widget_class, override_text_activated_cb);

  gtk_widget_class_install_action (widget_class, "status.sync", NULL, sync_action);
  gtk_widget_class_install_action (widget_class, "status.set-override", NULL, set_override_action);
  gtk_widget_class_install_action (widget_class, "status.clear-override", NULL, clear_override_action);
}

static void
agl_status_page_init (AglStatusPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_actions (self);
}
