/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-rules-page"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-rules-page.h"
#include "agl-presence-format.h"

/*
 * The rules page: the form for the account's rules (GetRules/SetRules):
 * the phone action per free/busy type, the switches, trigger words and
 * their reasons, the publishers, and the keywords for reference.  Saving
 * sends the whole JSON; members the form does not know are kept as they
 * came, so a newer daemon's settings survive an edit here.  The daemon
 * names the key it refuses ("trigger_words[1].word"), which is shown at
 * the top of the page and marked on its row.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

#define DEFAULT_COMMAND_TIMEOUT 10

struct _AglRulesPage
{
  AglPage              parent_instance;

  AglDaemon           *proxy;

  GCancellable        *load_cancellable;
  GCancellable        *save_cancellable;
  GCancellable        *connection_cancellable;

  /* The rules as the daemon sent them, for the members the form leaves
   * alone; NULL until loaded. */
  JsonObject          *rules;
  char                *rules_text;
  /* The form's JSON right after loading: the form has changes when it
   * differs. */
  char                *baseline;
  gboolean             filling;        /* the form is being filled in */
  gboolean             saving;
  gboolean             has_webhook_secret;
  gboolean             has_sip_password;
  GPtrArray           *trigger_rows;   /* GtkListBoxRow, in list order */
  GPtrArray           *error_widgets;  /* marked with .error */

  GtkStack            *stack;
  AdwStatusPage       *load_error_page;
  GtkRevealer         *error_revealer;
  GtkLabel            *error_label;
  AdwPreferencesPage  *preferences_page;
  AdwComboRow         *action_free_row;
  AdwComboRow         *action_tentative_row;
  AdwComboRow         *action_busy_row;
  AdwComboRow         *action_oof_row;
  AdwComboRow         *action_working_elsewhere_row;
  AdwActionRow        *forward_internal_row;
  GtkSwitch           *forward_internal_switch;
  AdwActionRow        *only_accepted_row;
  GtkSwitch           *only_accepted_switch;
  AdwActionRow        *join_parallel_row;
  GtkSwitch           *join_parallel_switch;
  AdwPreferencesGroup *trigger_group;
  AdwEntryRow         *default_reason_row;
  AdwActionRow        *no_trigger_words_row;
  AdwPreferencesGroup *webhook_group;
  GtkSwitch           *webhook_switch;
  AdwEntryRow         *webhook_url_row;
  AdwEntryRow         *webhook_secret_row;
  AdwActionRow        *webhook_delivery_row;
  AdwPreferencesGroup *command_group;
  GtkSwitch           *command_switch;
  AdwEntryRow         *command_row;
  AdwActionRow        *command_timeout_row;
  GtkSpinButton       *command_timeout_spin;
  AdwActionRow        *command_delivery_row;
  AdwPreferencesGroup *sip_group;
  GtkSwitch           *sip_switch;
  AdwEntryRow         *sip_server_row;
  AdwEntryRow         *sip_address_row;
  AdwEntryRow         *sip_user_row;
  AdwEntryRow         *sip_password_row;
  AdwActionRow        *sip_delivery_row;
  GtkLabel            *state_label;
  GtkSpinner          *save_spinner;
};

G_DEFINE_FINAL_TYPE (AglRulesPage, agl_rules_page, AGL_TYPE_PAGE)

/* The rules' names, in the order of the action model in the .ui. */
static const char * const action_names[] = { "none", "dnd", "forward", "divert" };
/* The free/busy types as daemon/agl-rules.c names them. */
static const char * const free_busy_names[] = { "Free", "Tentative", "Busy", "OOF", "WorkingElsewhere" };

static void form_changed_cb (AglRulesPage *self);

static AdwComboRow *
action_row (AglRulesPage *self,
            guint         free_busy)
{
  AdwComboRow *rows[] = {
    self->action_free_row, self->action_tentative_row, self->action_busy_row,
    self->action_oof_row, self->action_working_elsewhere_row,
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (rows) == G_N_ELEMENTS (free_busy_names));
  return rows[free_busy];
}

static const char *
entry_text (gpointer editable)
{
  return gtk_editable_get_text (GTK_EDITABLE (editable));
}

/* Trigger word rows */

static GtkEditable *
trigger_word_entry (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "word-entry");
}

static GtkEditable *
trigger_reason_entry (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "reason-entry");
}

/* The remove button is named for its word so that a screen reader user
 * knows which one goes. */
static void
name_trigger_row (GtkWidget *row)
{
  GtkWidget *remove = g_object_get_data (G_OBJECT (row), "remove-button");
  const char *word = gtk_editable_get_text (trigger_word_entry (row));
  /* Translators: the accessible name of the button removing a trigger word */
  g_autofree char *label = g_strdup_printf (_("Remove trigger word %s"), word);

  gtk_accessible_update_property (GTK_ACCESSIBLE (remove),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_widget_set_tooltip_text (remove, label);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), *word != '\0' ? word : _("New trigger word"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  *word != '\0' ? word : _("New trigger word"), -1);
}

static void
update_trigger_placeholder (AglRulesPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->no_trigger_words_row), self->trigger_rows->len == 0);
}

static void
trigger_word_changed_cb (GtkEditable  *entry,
                         AglRulesPage *self)
{
  name_trigger_row (g_object_get_data (G_OBJECT (entry), "row"));
  form_changed_cb (self);
}

static void
remove_trigger_clicked_cb (GtkButton    *button,
                           AglRulesPage *self)
{
  GtkWidget *row = g_object_get_data (G_OBJECT (button), "row");
  guint index;

  if (!g_ptr_array_find (self->trigger_rows, row, &index))
    return;
  g_ptr_array_remove_index (self->trigger_rows, index);
  g_ptr_array_remove (self->error_widgets, trigger_word_entry (row));
  g_ptr_array_remove (self->error_widgets, trigger_reason_entry (row));
  g_ptr_array_remove (self->error_widgets, row);
  adw_preferences_group_remove (self->trigger_group, row);
  update_trigger_placeholder (self);

  /* Focus stays in the list: on the next row's word, else the add button. */
  if (index < self->trigger_rows->len)
    gtk_widget_grab_focus (GTK_WIDGET (trigger_word_entry (g_ptr_array_index (self->trigger_rows, index))));
  else if (self->trigger_rows->len > 0)
    gtk_widget_grab_focus (GTK_WIDGET (trigger_word_entry (g_ptr_array_index (self->trigger_rows, index - 1))));
  form_changed_cb (self);
}

static GtkWidget *
add_trigger_row (AglRulesPage *self,
                 const char   *word,
                 const char   *reason)
{
  /* An AdwPreferencesRow, as the group puts only those in its boxed list. */
  GtkWidget *row = adw_preferences_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *word_entry = gtk_entry_new ();
  GtkWidget *reason_entry = gtk_entry_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);

  gtk_editable_set_text (GTK_EDITABLE (word_entry), word != NULL ? word : "");
  gtk_entry_set_placeholder_text (GTK_ENTRY (word_entry), _("Word in the subject"));
  /* Narrow minimums: the row must fit a phone-sized window. */
  gtk_editable_set_width_chars (GTK_EDITABLE (word_entry), 6);
  gtk_widget_set_hexpand (word_entry, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (word_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Trigger word"), -1);

  gtk_editable_set_text (GTK_EDITABLE (reason_entry), reason != NULL ? reason : "");
  gtk_entry_set_placeholder_text (GTK_ENTRY (reason_entry), _("Reason callers are told"));
  gtk_editable_set_width_chars (GTK_EDITABLE (reason_entry), 6);
  gtk_widget_set_hexpand (reason_entry, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (reason_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Reason"), -1);

  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");

  gtk_box_append (GTK_BOX (box), word_entry);
  gtk_box_append (GTK_BOX (box), reason_entry);
  gtk_box_append (GTK_BOX (box), remove);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);

  g_object_set_data (G_OBJECT (row), "word-entry", word_entry);
  g_object_set_data (G_OBJECT (row), "reason-entry", reason_entry);
  g_object_set_data (G_OBJECT (row), "remove-button", remove);
  g_object_set_data (G_OBJECT (word_entry), "row", row);
  g_object_set_data (G_OBJECT (remove), "row", row);
  name_trigger_row (row);

  g_signal_connect (word_entry, "changed", G_CALLBACK (trigger_word_changed_cb), self);
  g_signal_connect_swapped (reason_entry, "changed", G_CALLBACK (form_changed_cb), self);
  g_signal_connect (remove, "clicked", G_CALLBACK (remove_trigger_clicked_cb), self);

  adw_preferences_group_add (self->trigger_group, row);
  g_ptr_array_add (self->trigger_rows, row);
  update_trigger_placeholder (self);
  return row;
}

static void
clear_trigger_rows (AglRulesPage *self)
{
  for (guint i = 0; i < self->trigger_rows->len; i++)
    adw_preferences_group_remove (self->trigger_group, g_ptr_array_index (self->trigger_rows, i));
  g_ptr_array_set_size (self->trigger_rows, 0);
  update_trigger_placeholder (self);
}

/* Errors */

static void
clear_error (AglRulesPage *self)
{
  for (guint i = 0; i < self->error_widgets->len; i++)
    gtk_widget_remove_css_class (g_ptr_array_index (self->error_widgets, i), "error");
  g_ptr_array_set_size (self->error_widgets, 0);
  /* Hidden, not only folded away: a stale alert must not stay in the
   * accessibility tree. */
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->error_revealer), FALSE);
}

/* The widget that edits the rules' @key ("actions.Busy",
 * "trigger_words[1].word", "publishers.webhook.url"), or NULL. */
static GtkWidget *
widget_for_key (AglRulesPage *self,
                const char   *key)
{
  guint index;

  if (g_str_has_prefix (key, "actions."))
    {
      for (guint i = 0; i < G_N_ELEMENTS (free_busy_names); i++)
        if (g_str_equal (key + strlen ("actions."), free_busy_names[i]))
          return GTK_WIDGET (action_row (self, i));
      return NULL;
    }
  if (g_str_equal (key, "forward_internal"))
    return GTK_WIDGET (self->forward_internal_row);
  if (g_str_equal (key, "only_accepted_meetings"))
    return GTK_WIDGET (self->only_accepted_row);
  if (g_str_equal (key, "join_parallel_subjects"))
    return GTK_WIDGET (self->join_parallel_row);
  if (g_str_equal (key, "default_reason"))
    return GTK_WIDGET (self->default_reason_row);
  if (sscanf (key, "trigger_words[%u]", &index) == 1)
    {
      GtkWidget *row;

      if (index >= self->trigger_rows->len)
        return NULL;
      row = g_ptr_array_index (self->trigger_rows, index);
      if (g_str_has_suffix (key, "].word"))
        return GTK_WIDGET (trigger_word_entry (row));
      if (g_str_has_suffix (key, "].reason"))
        return GTK_WIDGET (trigger_reason_entry (row));
      return row;
    }
  if (g_str_has_prefix (key, "publishers.webhook"))
    {
      if (g_str_has_prefix (key, "publishers.webhook.url"))
        return GTK_WIDGET (self->webhook_url_row);
      if (g_str_has_prefix (key, "publishers.webhook.secret"))
        return GTK_WIDGET (self->webhook_secret_row);
      return GTK_WIDGET (self->webhook_url_row);
    }
  if (g_str_has_prefix (key, "publishers.command"))
    {
      if (g_str_has_prefix (key, "publishers.command.timeout"))
        return GTK_WIDGET (self->command_timeout_row);
      return GTK_WIDGET (self->command_row);
    }
  if (g_str_has_prefix (key, "publishers.sip"))
    {
      if (g_str_has_prefix (key, "publishers.sip.address"))
        return GTK_WIDGET (self->sip_address_row);
      if (g_str_has_prefix (key, "publishers.sip.user"))
        return GTK_WIDGET (self->sip_user_row);
      if (g_str_has_prefix (key, "publishers.sip.password"))
        return GTK_WIDGET (self->sip_password_row);
      return GTK_WIDGET (self->sip_server_row);
    }
  return NULL;
}

/* The message at the top, and the row of the key it names marked. */
static void
show_error (AglRulesPage *self,
            const char   *message,
            const char   *key)
{
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *found = NULL;
  GtkWidget *widget = NULL;

  g_autofree char *text = NULL;

  clear_error (self);
  /* Translators: the daemon's reason follows, naming the setting */
  text = g_strdup_printf (_("The rules were not saved: %s"), message);
  gtk_label_set_text (self->error_label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->error_revealer), TRUE);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);

  if (key == NULL)
    {
      /* The daemon's messages name the key as a path of the rules' JSON. */
      regex = g_regex_new ("(actions\\.[A-Za-z]+|forward_internal|only_accepted_meetings|"
                           "join_parallel_subjects|default_reason|trigger_words\\[[0-9]+\\]"
                           "(\\.[a-z_]+)?|publishers\\.[a-z]+(\\.[a-z_]+)?)",
                           G_REGEX_OPTIMIZE, 0, NULL);
      if (g_regex_match (regex, message, 0, &match))
        key = found = g_match_info_fetch (match, 0);
    }
  if (key != NULL)
    widget = widget_for_key (self, key);
  if (widget != NULL)
    {
      gtk_widget_add_css_class (widget, "error");
      g_ptr_array_add (self->error_widgets, widget);
    }
}

/* The form to JSON */

static void
set_string_member (JsonObject *object,
                   const char *member,
                   const char *value,
                   gboolean    optional)
{
  if (optional && (value == NULL || *value == '\0'))
    json_object_remove_member (object, member);
  else
    json_object_set_string_member (object, member, value != NULL ? value : "");
}

/* The publisher's object to send: what came from the daemon, with the
 * form's values over it.  The daemon marks a stored secret with
 * "has_…"; that marker is the daemon's and is not sent back. */
static JsonObject *
publisher_object (AglRulesPage *self,
                  JsonObject   *publishers,
                  const char   *kind)
{
  JsonObject *old = agl_json_get_object (publishers, kind);
  JsonObject *object = json_object_new ();

  if (old != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, old);
      while (json_object_iter_next (&iter, &member, &value))
        if (!g_str_equal (member, "has_secret") && !g_str_equal (member, "has_password"))
          json_object_set_member (object, member, json_node_copy (value));
    }
  return object;
}

/* Returns the rules as the form says, or NULL with @error and @key set
 * when the form holds something that cannot be sent. */
static char *
build_rules (AglRulesPage  *self,
             gboolean       with_secrets,
             char         **key,
             GError       **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  JsonObject *rules;
  JsonObject *actions;
  JsonArray *trigger_words;
  JsonObject *publishers;
  JsonObject *old_publishers = agl_json_get_object (self->rules, "publishers");

  root = json_node_new (JSON_NODE_OBJECT);
  rules = json_object_new ();
  json_node_take_object (root, rules);

  /* Members the form does not know, as they came. */
  if (self->rules != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, self->rules);
      while (json_object_iter_next (&iter, &member, &value))
        json_object_set_member (rules, member, json_node_copy (value));
    }

  actions = json_object_new ();
  {
    JsonObject *old_actions = agl_json_get_object (self->rules, "actions");

    /* A free/busy type a newer daemon knows keeps its action. */
    if (old_actions != NULL)
      {
        JsonObjectIter iter;
        const char *member;
        JsonNode *value;

        json_object_iter_init (&iter, old_actions);
        while (json_object_iter_next (&iter, &member, &value))
          json_object_set_member (actions, member, json_node_copy (value));
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (free_busy_names); i++)
    {
      guint selected = adw_combo_row_get_selected (action_row (self, i));

      if (selected < G_N_ELEMENTS (action_names))
        json_object_set_string_member (actions, free_busy_names[i], action_names[selected]);
    }
  json_object_set_object_member (rules, "actions", actions);

  json_object_set_boolean_member (rules, "forward_internal",
                                  gtk_switch_get_active (self->forward_internal_switch));
  json_object_set_boolean_member (rules, "only_accepted_meetings",
                                  gtk_switch_get_active (self->only_accepted_switch));
  json_object_set_boolean_member (rules, "join_parallel_subjects",
                                  gtk_switch_get_active (self->join_parallel_switch));
  json_object_set_string_member (rules, "default_reason", entry_text (self->default_reason_row));

  trigger_words = json_array_new ();
  for (guint i = 0; i < self->trigger_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->trigger_rows, i);
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "word", gtk_editable_get_text (trigger_word_entry (row)));
      json_object_set_string_member (entry, "reason", gtk_editable_get_text (trigger_reason_entry (row)));
      json_array_add_object_element (trigger_words, entry);
    }
  json_object_set_array_member (rules, "trigger_words", trigger_words);

  publishers = json_object_new ();
  /* Kinds this page does not know ("dbus", a newer daemon's) stay. */
  if (old_publishers != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      json_object_iter_init (&iter, old_publishers);
      while (json_object_iter_next (&iter, &member, &value))
        if (!g_str_equal (member, "webhook") && !g_str_equal (member, "command") &&
            !g_str_equal (member, "sip"))
          json_object_set_member (publishers, member, json_node_copy (value));
    }

  if (gtk_switch_get_active (self->webhook_switch))
    {
      JsonObject *webhook = publisher_object (self, old_publishers, "webhook");
      const char *secret = entry_text (self->webhook_secret_row);

      set_string_member (webhook, "url", entry_text (self->webhook_url_row), FALSE);
      /* Write-only: sent only when typed, else the stored one stays. */
      if (with_secrets && *secret != '\0')
        json_object_set_string_member (webhook, "secret", secret);
      else
        json_object_remove_member (webhook, "secret");
      json_object_set_object_member (publishers, "webhook", webhook);
    }

  if (gtk_switch_get_active (self->command_switch))
    {
      JsonObject *command = publisher_object (self, old_publishers, "command");
      const char *text = entry_text (self->command_row);
      g_auto(GStrv) argv = NULL;
      g_autoptr(GError) local_error = NULL;
      JsonArray *array = json_array_new ();

      if (*text != '\0' && !g_shell_parse_argv (text, NULL, &argv, &local_error))
        {
          json_array_unref (array);
          json_object_unref (command);
          json_object_unref (publishers);
          if (key != NULL)
            *key = g_strdup ("publishers.command.argv");
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       /* Translators: the command cannot be split into a program and its arguments */
                       _("The command cannot be read: %s"), local_error->message);
          return NULL;
        }
      for (guint i = 0; argv != NULL && argv[i] != NULL; i++)
        json_array_add_string_element (array, argv[i]);
      json_object_set_array_member (command, "argv", array);
      json_object_set_int_member (command, "timeout",
                                  gtk_spin_button_get_value_as_int (self->command_timeout_spin));
      json_object_set_object_member (publishers, "command", command);
    }

  if (gtk_switch_get_active (self->sip_switch))
    {
      JsonObject *sip = publisher_object (self, old_publishers, "sip");
      const char *password = entry_text (self->sip_password_row);

      set_string_member (sip, "server", entry_text (self->sip_server_row), FALSE);
      set_string_member (sip, "address", entry_text (self->sip_address_row), FALSE);
      set_string_member (sip, "user", entry_text (self->sip_user_row), TRUE);
      if (with_secrets && *password != '\0')
        json_object_set_string_member (sip, "password", password);
      else
        json_object_remove_member (sip, "password");
      json_object_set_object_member (publishers, "sip", sip);
    }
  json_object_set_object_member (rules, "publishers", publishers);

  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static gboolean
has_changes (AglRulesPage *self)
{
  g_autofree char *now = NULL;

  if (self->baseline == NULL)
    return FALSE;
  /* A typed secret is a change though the JSON compared leaves it out. */
  if (gtk_switch_get_active (self->webhook_switch) && *entry_text (self->webhook_secret_row) != '\0')
    return TRUE;
  if (gtk_switch_get_active (self->sip_switch) && *entry_text (self->sip_password_row) != '\0')
    return TRUE;
  now = build_rules (self, FALSE, NULL, NULL);
  return now == NULL || g_strcmp0 (now, self->baseline) != 0;
}

static void
update_state (AglRulesPage *self)
{
  gboolean loaded = self->baseline != NULL;
  gboolean changed = loaded && has_changes (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.save", changed && !self->saving);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.revert", changed && !self->saving);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "rules.add-trigger-word", loaded && !self->saving);
  gtk_widget_set_visible (GTK_WIDGET (self->save_spinner), self->saving);
  gtk_spinner_set_spinning (self->save_spinner, self->saving);

  if (self->saving)
    gtk_label_set_text (self->state_label, _("Saving…"));
  else if (changed)
    gtk_label_set_text (self->state_label, _("Unsaved changes"));
  else
    gtk_label_set_text (self->state_label, loaded ? _("Saved") : "");

  /* A publisher's settings only count while it is on. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->webhook_url_row), gtk_switch_get_active (self->webhook_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->webhook_secret_row), gtk_switch_get_active (self->webhook_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->command_row), gtk_switch_get_active (self->command_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->command_timeout_row), gtk_switch_get_active (self->command_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->sip_server_row), gtk_switch_get_active (self->sip_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->sip_address_row), gtk_switch_get_active (self->sip_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->sip_user_row), gtk_switch_get_active (self->sip_switch));
  gtk_widget_set_sensitive (GTK_WIDGET (self->sip_password_row), gtk_switch_get_active (self->sip_switch));
}

static void
form_changed_cb (AglRulesPage *self)
{
  if (self->filling)
    return;
  update_state (self);
}

/* JSON to the form */

static void
set_text_if_changed (GtkEditable *editable,
                     const char  *text)
{
  if (g_strcmp0 (gtk_editable_get_text (editable), text != NULL ? text : "") != 0)
    gtk_editable_set_text (editable, text != NULL ? text : "");
}

static void
describe_secret (AdwPreferencesGroup *group,
                 const char          *base,
                 gboolean             configured,
                 gboolean             stored,
                 const char          *stored_text,
                 const char          *missing_text)
{
  g_autofree char *description = NULL;

  if (configured)
    description = g_strdup_printf ("%s\n%s", base, stored ? stored_text : missing_text);
  adw_preferences_group_set_description (group, description != NULL ? description : base);
}

static void
fill_form (AglRulesPage *self)
{
  JsonObject *actions = agl_json_get_object (self->rules, "actions");
  JsonArray *trigger_words = agl_json_get_array (self->rules, "trigger_words");
  JsonObject *publishers = agl_json_get_object (self->rules, "publishers");
  JsonObject *webhook = agl_json_get_object (publishers, "webhook");
  JsonObject *command = agl_json_get_object (publishers, "command");
  JsonObject *sip = agl_json_get_object (publishers, "sip");
  const char *default_reason = agl_json_get_string (self->rules, "default_reason");
  JsonArray *argv = agl_json_get_array (command, "argv");

  self->filling = TRUE;
  clear_error (self);

  for (guint i = 0; i < G_N_ELEMENTS (free_busy_names); i++)
    {
      const char *action = agl_json_get_string (actions, free_busy_names[i]);
      guint selected = 0;

      for (guint j = 0; j < G_N_ELEMENTS (action_names); j++)
        if (g_strcmp0 (action, action_names[j]) == 0)
          selected = j;
      adw_combo_row_set_selected (action_row (self, i), selected);
    }
  gtk_switch_set_active (self->forward_internal_switch, agl_json_get_boolean (self->rules, "forward_internal"));
  gtk_switch_set_active (self->only_accepted_switch, agl_json_get_boolean (self->rules, "only_accepted_meetings"));
  gtk_switch_set_active (self->join_parallel_switch, agl_json_get_boolean (self->rules, "join_parallel_subjects"));
  set_text_if_changed (GTK_EDITABLE (self->default_reason_row), default_reason != NULL ? default_reason : "");

  /* The rows stay when their number does (after a save, say), so that
   * the focus stays where it is. */
  if (trigger_words == NULL || json_array_get_length (trigger_words) != self->trigger_rows->len)
    clear_trigger_rows (self);
  for (guint i = 0; trigger_words != NULL && i < json_array_get_length (trigger_words); i++)
    {
      JsonNode *element = json_array_get_element (trigger_words, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
      const char *word = agl_json_get_string (entry, "word");
      const char *reason = agl_json_get_string (entry, "reason");
      GtkWidget *row;

      if (i >= self->trigger_rows->len)
        {
          add_trigger_row (self, word, reason);
          continue;
        }
      row = g_ptr_array_index (self->trigger_rows, i);
      set_text_if_changed (trigger_word_entry (row), word);
      set_text_if_changed (trigger_reason_entry (row), reason);
    }

  gtk_switch_set_active (self->webhook_switch, webhook != NULL);
  set_text_if_changed (GTK_EDITABLE (self->webhook_url_row), agl_json_get_string (webhook, "url"));
  set_text_if_changed (GTK_EDITABLE (self->webhook_secret_row), "");
  self->has_webhook_secret = agl_json_get_boolean (webhook, "has_secret");
  describe_secret (self->webhook_group,
                   _("Each status is sent as JSON in an HTTPS POST signed with the secret"),
                   webhook != NULL, self->has_webhook_secret,
                   _("A secret is stored: leave the field empty to keep it."),
                   _("No secret is stored yet: the webhook needs one."));

  gtk_switch_set_active (self->command_switch, command != NULL);
  {
    g_autoptr(GString) text = g_string_new (NULL);

    /* Quoted so that splitting it again gives the same arguments. */
    for (guint i = 0; argv != NULL && i < json_array_get_length (argv); i++)
      {
        const char *argument = json_array_get_string_element (argv, i);
        g_autofree char *quoted = NULL;

        if (argument == NULL)
          continue;
        if (text->len > 0)
          g_string_append_c (text, ' ');
        if (*argument != '\0' && strpbrk (argument, " \t\n'\"\\$`*?[]{}()<>|&;#~") == NULL)
          g_string_append (text, argument);
        else
          {
            quoted = g_shell_quote (argument);
            g_string_append (text, quoted);
          }
      }
    set_text_if_changed (GTK_EDITABLE (self->command_row), text->str);
  }
  if (command != NULL && json_object_has_member (command, "timeout"))
    gtk_spin_button_set_value (self->command_timeout_spin,
                               (double) json_object_get_int_member_with_default (command, "timeout",
                                                                                 DEFAULT_COMMAND_TIMEOUT));
  else
    gtk_spin_button_set_value (self->command_timeout_spin, DEFAULT_COMMAND_TIMEOUT);

  gtk_switch_set_active (self->sip_switch, sip != NULL);
  set_text_if_changed (GTK_EDITABLE (self->sip_server_row), agl_json_get_string (sip, "server"));
  set_text_if_changed (GTK_EDITABLE (self->sip_address_row), agl_json_get_string (sip, "address"));
  set_text_if_changed (GTK_EDITABLE (self->sip_user_row), agl_json_get_string (sip, "user"));
  set_text_if_changed (GTK_EDITABLE (self->sip_password_row), "");
  self->has_sip_password = agl_json_get_boolean (sip, "has_password");
  describe_secret (self->sip_group,
                   _("Each status is published to a SIP presence server (PUBLISH with PIDF)"),
                   sip != NULL, self->has_sip_password,
                   _("A password is stored: leave the field empty to keep it."),
                   _("No password is stored: the server is asked without one."));

  self->filling = FALSE;
  g_free (self->baseline);
  self->baseline = build_rules (self, FALSE, NULL, NULL);
  update_state (self);
}

/* Loading */

static void
show_rules_text (AglRulesPage *self,
                 const char   *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &error);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *message =
        g_strdup_printf (_("The Agendaline service sent rules that cannot be read: %s"),
                         error != NULL ? error->message : _("not a JSON object"));

      adw_status_page_set_description (self->load_error_page, message);
      gtk_stack_set_visible_child_name (self->stack, "load-error");
      return;
    }
  g_clear_pointer (&self->rules, json_object_unref);
  self->rules = json_object_ref (json_node_get_object (node));
  g_free (self->rules_text);
  self->rules_text = g_strdup (text);
  fill_form (self);
  gtk_stack_set_visible_child_name (self->stack, "rules");
}

static void
get_rules_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  AglRulesPage *self;

  if (!agl_daemon_call_get_rules_finish (AGL_DAEMON (object), &text, result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      agl_daemon_client_strip_error (error);
      adw_status_page_set_description (self->load_error_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "load-error");
      return;
    }
  self = user_data;
  /* A refresh that finds the same rules leaves the form (and the focus
   * in it) alone. */
  if (self->baseline != NULL && g_strcmp0 (text, self->rules_text) == 0)
    return;
  show_rules_text (self, text);
}

static void
load_rules (AglRulesPage *self,
            gboolean      show_loading)
{
  if (agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  if (show_loading)
    gtk_stack_set_visible_child_name (self->stack, "loading");
  if (self->proxy == NULL)
    return;
  agl_daemon_call_get_rules (self->proxy, agl_page_get_account (AGL_PAGE (self)),
                             G_DBUS_CALL_FLAGS_NONE, -1,
                             agl_cancellable_restart (&self->load_cancellable), get_rules_cb, self);
}

/* Last delivery per publisher */

static char *
describe_delivery (GVariant *entry)
{
  const char *state = "";
  const char *message = "";
  const char *last_attempt = "";
  const char *last_success = "";
  guint32 attempts = 0;
  g_autoptr(GDateTime) attempt = NULL;
  g_autoptr(GDateTime) success = NULL;
  g_autofree char *when = NULL;

  g_variant_lookup (entry, "state", "&s", &state);
  g_variant_lookup (entry, "message", "&s", &message);
  g_variant_lookup (entry, "last-attempt", "&s", &last_attempt);
  g_variant_lookup (entry, "last-success", "&s", &last_success);
  g_variant_lookup (entry, "attempts", "u", &attempts);
  attempt = agl_format_parse_local (last_attempt);
  success = agl_format_parse_local (last_success);

  if (g_str_equal (state, "delivered"))
    {
      GDateTime *at = success != NULL ? success : attempt;

      if (at == NULL)
        return g_strdup (*message != '\0' ? message : _("Delivered"));
      when = agl_format_at (at);
      if (*message != '\0')
        /* Translators: e.g. "Delivered at 14:02: HTTP 204", "Delivered yesterday at 14:02: HTTP 204" */
        return g_strdup_printf (_("Delivered %s: %s"), when, message);
      /* Translators: e.g. "Delivered at 14:02" */
      return g_strdup_printf (_("Delivered %s"), when);
    }
  if (g_str_equal (state, "retrying"))
    {
      g_autofree char *count =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u attempt", "%u attempts", attempts),
                         attempts);

      /* Translators: e.g. "Retrying: connection refused (3 attempts)" */
      return g_strdup_printf (_("Retrying: %s (%s)"), *message != '\0' ? message : _("no answer"), count);
    }
  if (g_str_equal (state, "failed"))
    {
      if (attempt == NULL)
        /* Translators: a delivery that failed, and why */
        return g_strdup_printf (_("Failed: %s"), *message != '\0' ? message : _("no reason given"));
      when = agl_format_at (attempt);
      /* Translators: e.g. "Failed at 14:02: HTTP 403", "Failed yesterday at 14:02: HTTP 403" */
      return g_strdup_printf (_("Failed %s: %s"), when, *message != '\0' ? message : _("no reason given"));
    }
  if (g_str_equal (state, "pending"))
    return g_strdup (_("Waiting to deliver the first status"));
  return g_strdup (*message != '\0' ? message : state);
}

static void
show_delivery (AdwActionRow *row,
               GVariant     *entry)
{
  g_autofree char *text = NULL;
  const char *state = "";

  gtk_widget_set_visible (GTK_WIDGET (row), entry != NULL);
  if (entry == NULL)
    return;
  g_variant_lookup (entry, "state", "&s", &state);
  text = describe_delivery (entry);
  adw_action_row_set_subtitle (row, text);
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (row), "warning");
  if (g_str_equal (state, "failed"))
    gtk_widget_add_css_class (GTK_WIDGET (row), "error");
  else if (g_str_equal (state, "retrying"))
    gtk_widget_add_css_class (GTK_WIDGET (row), "warning");
}

static void
list_connections_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GVariant) connections = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) account = NULL;
  g_autoptr(GVariant) publishers = NULL;
  g_autoptr(GVariant) webhook = NULL;
  g_autoptr(GVariant) command = NULL;
  g_autoptr(GVariant) sip = NULL;
  AglRulesPage *self;
  GVariantIter iter;
  GVariant *entry;

  if (!agl_daemon_call_list_connections_finish (AGL_DAEMON (object), &connections, result, &error))
    {
      /* The delivery results are extra; the form works without them. */
      if (!agl_error_is_cancelled (error))
        g_debug ("ListConnections failed: %s", error->message);
      return;
    }
  self = user_data;

  g_variant_iter_init (&iter, connections);
  while (account == NULL && (entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *name = NULL;

      if (g_variant_lookup (entry, "name", "&s", &name) &&
          g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
        account = g_variant_ref (entry);
      g_variant_unref (entry);
    }

  /* An older daemon has no "publishers": nothing is shown then. */
  if (account != NULL)
    publishers = g_variant_lookup_value (account, "publishers", G_VARIANT_TYPE ("aa{sv}"));
  if (publishers != NULL)
    {
      g_variant_iter_init (&iter, publishers);
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *kind = NULL;

          g_variant_lookup (entry, "kind", "&s", &kind);
          if (g_strcmp0 (kind, "webhook") == 0 && webhook == NULL)
            webhook = g_variant_ref (entry);
          else if (g_strcmp0 (kind, "command") == 0 && command == NULL)
            command = g_variant_ref (entry);
          else if (g_strcmp0 (kind, "sip") == 0 && sip == NULL)
            sip = g_variant_ref (entry);
          g_variant_unref (entry);
        }
    }
  show_delivery (self->webhook_delivery_row, webhook);
  show_delivery (self->command_delivery_row, command);
  show_delivery (self->sip_delivery_row, sip);
}

static void
refresh_deliveries (AglRulesPage *self)
{
  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  agl_daemon_call_list_connections (self->proxy, G_DBUS_CALL_FLAGS_NONE, -1,
                                    agl_cancellable_restart (&self->connection_cancellable),
                                    list_connections_cb, self);
}

/* Saving */

static void
set_rules_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  AglRulesPage *self;

  if (!agl_daemon_call_set_rules_finish (AGL_DAEMON (object), result, &error))
    {
      if (agl_error_is_cancelled (error))
        return;
      self = user_data;
      self->saving = FALSE;
      agl_daemon_client_strip_error (error);
      show_error (self, error->message, NULL);
      update_state (self);
      return;
    }
  self = user_data;
  self->saving = FALSE;
  /* What the daemon keeps (a stored secret shows as has_secret) is what
   * the form shows from now on. */
  g_clear_pointer (&self->rules_text, g_free);
  load_rules (self, FALSE);
  update_state (self);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AglRulesPage *self = AGL_RULES_PAGE (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *json = NULL;

  if (self->proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL || self->saving)
    return;
  clear_error (self);
  json = build_rules (self, TRUE, &key, &error);
  if (json == NULL)
    {
      show_error (self, error->message, key);
      return;
    }

  self->saving = TRUE;
  update_state (self);
  agl_daemon_call_set_rules (self->proxy, agl_page_get_account (AGL_PAGE (self)), json,
                             G_DBUS_CALL_FLAGS_NONE, -1,
                             agl_cancellable_restart (&self->save_cancellable), set_rules_cb, self);
}

static void
revert_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AglRulesPage *self = AGL_RULES_PAGE (widget);

  if (self->rules != NULL)
    fill_form (self);
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  load_rules (AGL_RULES_PAGE (widget), TRUE);
}

static void
add_trigger_word_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  AglRulesPage *self = AGL_RULES_PAGE (widget);
  GtkWidget *row = add_trigger_row (self, "", "");

  gtk_widget_grab_focus (GTK_WIDGET (trigger_word_entry (row)));
  form_changed_cb (self);
}

/* Daemon signals */

static void
status_changed_cb (AglDaemon  *proxy,
                   const char *name,
                   const char *status,
                   gpointer    user_data)
{
  AglRulesPage *self = user_data;

  /* There is no RulesChanged; a change of the rules (by agendalinectl,
   * say) changes the status, so the rules are read again then unless
   * the user is editing them. */
  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0 &&
      !self->saving && !has_changes (self))
    load_rules (self, FALSE);
}

static void
connection_changed_cb (AglDaemon  *proxy,
                       const char *name,
                       gpointer    user_data)
{
  AglRulesPage *self = user_data;

  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0)
    refresh_deliveries (self);
}

static void
disconnect_proxy (AglRulesPage *self)
{
  if (self->proxy == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
}

static void
refresh_all (AglRulesPage *self)
{
  if (agl_page_get_account (AGL_PAGE (self)) == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "no-account");
      return;
    }
  load_rules (self, self->baseline == NULL);
  refresh_deliveries (self);
}

static void
agl_rules_page_client_ready (AglPage *page)
{
  AglRulesPage *self = AGL_RULES_PAGE (page);
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
  refresh_all (self);
}

/* AglPage */

static void
agl_rules_page_account_changed (AglPage *page)
{
  AglRulesPage *self = AGL_RULES_PAGE (page);

  /* Another account's rules: edits of the previous one are dropped. */
  agl_cancellable_drop (&self->load_cancellable);
  agl_cancellable_drop (&self->save_cancellable);
  agl_cancellable_drop (&self->connection_cancellable);
  self->saving = FALSE;
  g_clear_pointer (&self->rules, json_object_unref);
  g_clear_pointer (&self->rules_text, g_free);
  g_clear_pointer (&self->baseline, g_free);
  show_delivery (self->webhook_delivery_row, NULL);
  show_delivery (self->command_delivery_row, NULL);
  show_delivery (self->sip_delivery_row, NULL);
  update_state (self);
  refresh_all (self);
}

/* GObject */

static void
agl_rules_page_dispose (GObject *object)
{
  AglRulesPage *self = (AglRulesPage *) object;

  agl_cancellable_drop (&self->load_cancellable);
  agl_cancellable_drop (&self->save_cancellable);
  agl_cancellable_drop (&self->connection_cancellable);
  disconnect_proxy (self);
  g_clear_pointer (&self->rules, json_object_unref);
  g_clear_pointer (&self->rules_text, g_free);
  g_clear_pointer (&self->baseline, g_free);
  g_clear_pointer (&self->trigger_rows, g_ptr_array_unref);
  g_clear_pointer (&self->error_widgets, g_ptr_array_unref);
  G_OBJECT_CLASS (agl_rules_page_parent_class)->dispose (object);
}

static void
agl_rules_page_class_init (AglRulesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_rules_page_dispose;
  page_class->client_ready = agl_rules_page_client_ready;
  page_class->account_changed = agl_rules_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/agendaline/Agendaline/agl-rules-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, stack);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, load_error_page);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, preferences_page);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, action_free_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, action_tentative_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, action_busy_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, action_oof_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, action_working_elsewhere_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, forward_internal_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, forward_internal_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, only_accepted_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, only_accepted_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, join_parallel_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, join_parallel_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, trigger_group);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, default_reason_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, no_trigger_words_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, webhook_group);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, webhook_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, webhook_url_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, webhook_secret_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, webhook_delivery_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_group);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_timeout_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, command_delivery_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_group);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_switch);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_server_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_address_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_user_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_password_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, sip_delivery_row);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, AglRulesPage, save_spinner);

  gtk_widget_class_install_action (widget_class, "rules.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "rules.revert", NULL, revert_action);
  gtk_widget_class_install_action (widget_class, "rules.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "rules.add-trigger-word", NULL, add_trigger_word_action);
  /* Ctrl+S saves, as in every editor. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "rules.save", NULL);
}

static void
agl_rules_page_init (AglRulesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->trigger_rows = g_ptr_array_new ();
  self->error_widgets = g_ptr_array_new ();

  {
    GtkWidget *editables[] = {
      GTK_WIDGET (self->default_reason_row), GTK_WIDGET (self->webhook_url_row),
      GTK_WIDGET (self->webhook_secret_row), GTK_WIDGET (self->command_row),
      GTK_WIDGET (self->sip_server_row), GTK_WIDGET (self->sip_address_row),
      GTK_WIDGET (self->sip_user_row), GTK_WIDGET (self->sip_password_row),
    };
    GtkSwitch *switches[] = {
      self->forward_internal_switch, self->only_accepted_switch, self->join_parallel_switch,
      self->webhook_switch, self->command_switch, self->sip_switch,
    };

    /* Every control reports its changes to one place. */
    for (guint i = 0; i < G_N_ELEMENTS (free_busy_names); i++)
      g_signal_connect_swapped (action_row (self, i), "notify::selected",
                                G_CALLBACK (form_changed_cb), self);
    for (guint i = 0; i < G_N_ELEMENTS (editables); i++)
      g_signal_connect_swapped (editables[i], "changed", G_CALLBACK (form_changed_cb), self);
    for (guint i = 0; i < G_N_ELEMENTS (switches); i++)
      g_signal_connect_swapped (switches[i], "notify::active", G_CALLBACK (form_changed_cb), self);
    g_signal_connect_swapped (self->command_timeout_spin, "value-changed",
                              G_CALLBACK (form_changed_cb), self);
  }

  gtk_stack_set_visible_child_name (self->stack, "no-account");
  update_state (self);
}
