/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-window"

#include <stdio.h>

#include <glib/gi18n.h>

#include "agl-window.h"

/*
 * The main window: the daemon's status, its accounts and a week of the
 * agenda.  Everything shown comes from AglDaemonClient; each view is
 * fetched again whenever the daemon says it changed.
 */

/* One appointment's time in the week shown: a single event, or one
 * occurrence of a recurring series as the daemon expanded it. */
typedef struct {
  GDateTime *start;   /* local */
  GDateTime *end;     /* local, exclusive */
  gboolean   all_day;
  char      *summary;
  char      *account;
} AglOccurrence;

/* An EnableAccount/DisableAccount call in flight. */
typedef struct {
  AglWindow *self;
  GtkSwitch *toggle;
  gboolean   enabled;
} AglToggleCall;

struct _AglWindow
{
  AdwApplicationWindow  parent_instance;

  AglDaemonClient      *client;
  GDateTime            *week_start;     /* local Monday 00:00 */
  gboolean              clock_12h;
  GHashTable           *account_rows;   /* name → AdwActionRow, owned by the list */

  /* A view's newer refresh cancels its older one, so answers cannot land
   * out of order; dispose cancels them all, and the account toggles too. */
  GCancellable         *state_cancellable;
  GCancellable         *accounts_cancellable;
  GCancellable         *agenda_cancellable;
  GCancellable         *cancellable;

  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *view_stack;
  AdwViewStackPage     *accounts_page;
  AdwViewStackPage     *agenda_page;
  GtkStack             *status_stack;
  AdwStatusPage        *unavailable_page;
  GtkLabel             *version_label;
  GtkLabel             *database_label;
  GtkLabel             *schema_label;
  GtkLabel             *secrets_label;
  GtkLabel             *accounts_label;
  GtkLabel             *enabled_label;
  GtkLabel             *items_label;
  GtkStack             *accounts_stack;
  GtkListBox           *accounts_list;
  GtkLabel             *week_label;
  GtkStack             *agenda_stack;
  GtkBox               *agenda_box;
};

enum {
  PROP_0,
  PROP_CLIENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (AglWindow, agl_window, ADW_TYPE_APPLICATION_WINDOW)

static gboolean account_toggle_state_set_cb (GtkSwitch *toggle,
                                             gboolean   state,
                                             gpointer   user_data);

static GCancellable *
restart_cancellable (GCancellable **cancellable)
{
  if (*cancellable != NULL)
    {
      g_cancellable_cancel (*cancellable);
      g_object_unref (*cancellable);
    }
  *cancellable = g_cancellable_new ();
  return *cancellable;
}

static void
show_error (AglWindow    *self,
            const GError *error)
{
  GtkWidget *title;
  AdwToast *toast;

  /* While the daemon is away the status page says so; failed calls would
   * only repeat it. */
  if (agl_daemon_client_get_status (self->client) != AGL_DAEMON_CLIENT_READY)
    return;

  /* The daemon's messages are whole sentences, too long for a toast's own
   * title, which cuts them off. */
  title = gtk_label_new (error->message);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (title), 50);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");

  toast = adw_toast_new ("");
  adw_toast_set_custom_title (toast, title);
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static gboolean
lookup_boolean (GVariant   *dict,
                const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (dict, key, "b", &value);
  return value;
}

static const char *
lookup_string (GVariant   *dict,
               const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

static void
remove_children (GtkWidget *parent)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (parent)) != NULL)
    {
      if (GTK_IS_LIST_BOX (parent))
        gtk_list_box_remove (GTK_LIST_BOX (parent), child);
      else
        gtk_box_remove (GTK_BOX (parent), child);
    }
}

/* Status */

static char *
describe_state_value (GVariant   *state,
                      const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (state, key, NULL);

  if (value == NULL)
    return g_strdup (_("Unknown"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_strdup_printf ("%u", g_variant_get_uint32 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_strdup_printf ("%d", g_variant_get_int32 (value));
  return g_variant_print (value, FALSE);
}

static void
set_state_label (GtkLabel   *label,
                 GVariant   *state,
                 const char *key)
{
  g_autofree char *text = describe_state_value (state, key);

  gtk_label_set_text (label, text);
}

static void
get_state_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AglWindow *self = user_data;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GError) error = NULL;
  const char *secrets;

  state = agl_daemon_client_get_state_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (state == NULL)
    {
      /* Cancelled by a newer refresh or by dispose, when self may be gone. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* Rather the rows as they were than a spinner that never stops;
       * the next change signal asks again. */
      gtk_stack_set_visible_child_name (self->status_stack, "state");
      show_error (self, error);
      return;
    }

  set_state_label (self->version_label, state, "version");
  set_state_label (self->database_label, state, "database");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->database_label),
                               gtk_label_get_text (self->database_label));
  set_state_label (self->schema_label, state, "schema-version");
  set_state_label (self->accounts_label, state, "accounts");
  set_state_label (self->enabled_label, state, "enabled-accounts");
  set_state_label (self->items_label, state, "items");

  secrets = lookup_string (state, "secret-storage");
  if (g_str_equal (secrets, "secret-service"))
    gtk_label_set_text (self->secrets_label, _("Keyring (Secret Service)"));
  else if (g_str_equal (secrets, "file"))
    gtk_label_set_text (self->secrets_label, _("File"));
  else
    set_state_label (self->secrets_label, state, "secret-storage");

  gtk_stack_set_visible_child_name (self->status_stack, "state");
}

static void
refresh_state (AglWindow *self)
{
  agl_daemon_client_get_state_async (self->client,
                                     restart_cancellable (&self->state_cancellable),
                                     get_state_cb, self);
}

/* Accounts */

static void
toggle_call_free (AglToggleCall *toggle)
{
  g_object_unref (toggle->toggle);
  g_free (toggle);
}

/* Shows @enabled without asking the daemon to make it so. */
static void
set_toggle_quietly (AglWindow *self,
                    GtkSwitch *toggle,
                    gboolean   enabled)
{
  g_signal_handlers_block_by_func (toggle, account_toggle_state_set_cb, self);
  gtk_switch_set_active (toggle, enabled);
  gtk_switch_set_state (toggle, enabled);
  g_signal_handlers_unblock_by_func (toggle, account_toggle_state_set_cb, self);
}

static void
set_account_enabled_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  AglToggleCall *toggle = user_data;
  g_autoptr(GError) error = NULL;

  if (agl_daemon_client_set_account_enabled_finish (AGL_DAEMON_CLIENT (object), result, &error))
    gtk_switch_set_state (toggle->toggle, toggle->enabled);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      set_toggle_quietly (toggle->self, toggle->toggle, !toggle->enabled);
      show_error (toggle->self, error);
    }
  toggle_call_free (toggle);
}

static gboolean
account_toggle_state_set_cb (GtkSwitch *toggle,
                             gboolean   state,
                             gpointer   user_data)
{
  AglWindow *self = user_data;
  AglToggleCall *call;

  call = g_new0 (AglToggleCall, 1);
  call->self = self;
  call->toggle = g_object_ref (toggle);
  call->enabled = state;
  agl_daemon_client_set_account_enabled_async (self->client,
                                               g_object_get_data (G_OBJECT (toggle), "agl-account"),
                                               state,
                                               self->cancellable,
                                               set_account_enabled_cb,
                                               call);

  /* The switch moves now but shows the new state only once the daemon has
   * made the change. */
  return TRUE;
}

static void
update_account_row (AglWindow    *self,
                    AdwActionRow *row,
                    GVariant     *account)
{
  const char *url = lookup_string (account, "url");
  g_autofree char *subtitle = NULL;

  subtitle = g_strdup_printf ("%s\n%s", lookup_string (account, "email"),
                              *url != '\0' ? url : _("Automatic server discovery"));
  adw_action_row_set_subtitle (row, subtitle);
  set_toggle_quietly (self, GTK_SWITCH (adw_action_row_get_activatable_widget (row)),
                      lookup_boolean (account, "enabled"));
}

static AdwActionRow *
create_account_row (AglWindow  *self,
                    const char *name)
{
  AdwActionRow *row;
  GtkWidget *toggle;

  row = ADW_ACTION_ROW (adw_action_row_new ());
  /* Names and addresses are the user's text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);

  toggle = gtk_switch_new ();
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (toggle), "agl-account", g_strdup (name), g_free);
  gtk_accessible_update_property (GTK_ACCESSIBLE (toggle),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Active"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, name,
                                  -1);
  g_signal_connect (toggle, "state-set", G_CALLBACK (account_toggle_state_set_cb), self);
  adw_action_row_add_suffix (row, toggle);
  adw_action_row_set_activatable_widget (row, toggle);

  return row;
}

static void
list_accounts_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglWindow *self = user_data;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) listed = NULL;
  GHashTableIter iter;
  gpointer name, row;
  gsize n_accounts;

  accounts = agl_daemon_client_list_accounts_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (accounts == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      return;
    }

  /* Rows are updated in place rather than rebuilt so that keyboard focus
   * stays on a switch the daemon just confirmed. */
  n_accounts = g_variant_n_children (accounts);
  listed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (gsize i = 0; i < n_accounts; i++)
    {
      g_autoptr(GVariant) account = g_variant_get_child_value (accounts, i);
      g_hash_table_add (listed, g_strdup (lookup_string (account, "name")));
    }

  g_hash_table_iter_init (&iter, self->account_rows);
  while (g_hash_table_iter_next (&iter, &name, &row))
    if (!g_hash_table_contains (listed, name))
      {
        gtk_list_box_remove (self->accounts_list, row);
        g_hash_table_iter_remove (&iter);
      }

  /* Both lists are sorted by name, so a new row goes at its index. */
  for (gsize i = 0; i < n_accounts; i++)
    {
      g_autoptr(GVariant) account = g_variant_get_child_value (accounts, i);
      const char *account_name = lookup_string (account, "name");
      AdwActionRow *account_row = g_hash_table_lookup (self->account_rows, account_name);

      if (account_row == NULL)
        {
          account_row = create_account_row (self, account_name);
          gtk_list_box_insert (self->accounts_list, GTK_WIDGET (account_row), i);
          g_hash_table_insert (self->account_rows, g_strdup (account_name), account_row);
        }
      update_account_row (self, account_row, account);
    }

  gtk_stack_set_visible_child_name (self->accounts_stack, n_accounts > 0 ? "list" : "empty");
}

static void
refresh_accounts (AglWindow *self)
{
  agl_daemon_client_list_accounts_async (self->client,
                                         restart_cancellable (&self->accounts_cancellable),
                                         list_accounts_cb, self);
}

/* Agenda: occurrences */

static void
occurrence_free (AglOccurrence *occurrence)
{
  g_date_time_unref (occurrence->start);
  g_date_time_unref (occurrence->end);
  g_free (occurrence->summary);
  g_free (occurrence->account);
  g_free (occurrence);
}

/* Takes @start and @end. */
static void
add_occurrence (GPtrArray  *occurrences,
                GDateTime  *start,
                GDateTime  *end,
                gboolean    all_day,
                const char *summary,
                const char *account)
{
  AglOccurrence *occurrence;

  if (start == NULL)
    {
      g_clear_pointer (&end, g_date_time_unref);
      return;
    }

  /* An end that cannot be read counts as none: an all-day event then
   * lasts its day and a timed one no time (RFC 5545, 3.6.1). */
  if (end == NULL || g_date_time_compare (end, start) < 0)
    {
      g_clear_pointer (&end, g_date_time_unref);
      end = all_day ? g_date_time_add_days (start, 1) : g_date_time_ref (start);
    }

  occurrence = g_new0 (AglOccurrence, 1);
  occurrence->start = start;
  occurrence->end = end;
  occurrence->all_day = all_day;
  occurrence->summary = g_strdup (summary != NULL ? summary : "");
  occurrence->account = g_strdup (account);
  g_ptr_array_add (occurrences, occurrence);
}

static GDateTime *
parse_item_time (const char *text,
                 gboolean    all_day)
{
  g_autoptr(GDateTime) instant = NULL;
  int year, month, day;

  /* A date names a day wherever the user is, not an instant. */
  if (all_day)
    {
      if (sscanf (text, "%4d-%2d-%2d", &year, &month, &day) != 3)
        return NULL;
      return g_date_time_new_local (year, month, day, 0, 0, 0);
    }

  instant = g_date_time_new_from_iso8601 (text, NULL);
  return instant != NULL ? g_date_time_to_local (instant) : NULL;
}

static int
compare_occurrences (gconstpointer a,
                     gconstpointer b)
{
  const AglOccurrence *occurrence_a = *(AglOccurrence **) a;
  const AglOccurrence *occurrence_b = *(AglOccurrence **) b;
  int order = g_date_time_compare (occurrence_a->start, occurrence_b->start);

  if (order != 0)
    return order;
  if (occurrence_a->all_day != occurrence_b->all_day)
    return occurrence_a->all_day ? -1 : 1;
  return g_utf8_collate (occurrence_a->summary, occurrence_b->summary);
}

static GPtrArray *
collect_occurrences (GVariant *listed)
{
  GPtrArray *occurrences = g_ptr_array_new_with_free_func ((GDestroyNotify) occurrence_free);
  gsize n_listed = g_variant_n_children (listed);

  for (gsize i = 0; i < n_listed; i++)
    {
      g_autoptr(GVariant) occurrence = g_variant_get_child_value (listed, i);
      gboolean all_day = lookup_boolean (occurrence, "all-day");

      add_occurrence (occurrences,
                      parse_item_time (lookup_string (occurrence, "start"), all_day),
                      parse_item_time (lookup_string (occurrence, "end"), all_day),
                      all_day,
                      lookup_string (occurrence, "summary"),
                      lookup_string (occurrence, "account"));
    }

  /* The daemon sorts by start only; within a start, all-day first and
   * then by summary, so that the order does not change between refreshes. */
  g_ptr_array_sort (occurrences, compare_occurrences);
  return occurrences;
}

/* Agenda: the week */

static char *
format_clock (AglWindow *self,
              GDateTime *time)
{
  if (self->clock_12h)
    /* Translators: a time of day on the 12-hour clock, see g_date_time_format() */
    return g_date_time_format (time, _("%-l:%M %p"));
  /* Translators: a time of day on the 24-hour clock, see g_date_time_format() */
  return g_date_time_format (time, _("%H:%M"));
}

static char *
describe_time (AglWindow           *self,
               const AglOccurrence *occurrence,
               GDateTime           *day_start,
               GDateTime           *day_end)
{
  gboolean from_before = g_date_time_compare (occurrence->start, day_start) < 0;
  gboolean until_after = g_date_time_compare (occurrence->end, day_end) >= 0;
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  if (occurrence->all_day || (from_before && until_after))
    return g_strdup (_("All day"));

  start = format_clock (self, occurrence->start);
  end = format_clock (self, occurrence->end);
  if (from_before)
    /* Translators: an appointment that began on an earlier day */
    return g_strdup_printf (_("Until %s"), end);
  if (until_after)
    /* Translators: an appointment that goes on past midnight */
    return g_strdup_printf (_("From %s"), start);
  if (g_date_time_equal (occurrence->start, occurrence->end))
    return g_steal_pointer (&start);
  /* Translators: a range of times or days, e.g. “09:00 – 10:30” */
  return g_strdup_printf (_("%s – %s"), start, end);
}

static gboolean
occurs_on (const AglOccurrence *occurrence,
           GDateTime           *day_start,
           GDateTime           *day_end)
{
  /* An appointment of no length is on the day of its start. */
  if (g_date_time_equal (occurrence->start, occurrence->end))
    return g_date_time_compare (occurrence->start, day_start) >= 0 &&
           g_date_time_compare (occurrence->start, day_end) < 0;

  return g_date_time_compare (occurrence->start, day_end) < 0 &&
         g_date_time_compare (occurrence->end, day_start) > 0;
}

static GtkWidget *
create_occurrence_row (AglWindow           *self,
                       const AglOccurrence *occurrence,
                       GDateTime           *day_start,
                       GDateTime           *day_end)
{
  g_autofree char *time = describe_time (self, occurrence, day_start, day_end);
  GtkWidget *row;
  GtkWidget *label;

  row = adw_action_row_new ();
  /* Summaries and account names are the user's text, not markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 *occurrence->summary != '\0' ? occurrence->summary
                                                              : _("Untitled appointment"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               *occurrence->account != '\0' ? occurrence->account
                                                            : _("Local agenda"));

  label = gtk_label_new (time);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_width_chars (GTK_LABEL (label), 13);
  gtk_widget_add_css_class (label, "numeric");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), label);

  return row;
}

static void
show_week (AglWindow *self,
           GPtrArray *occurrences)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  gboolean any = FALSE;

  remove_children (GTK_WIDGET (self->agenda_box));

  for (int day = 0; day < 7; day++)
    {
      g_autoptr(GDateTime) day_start = g_date_time_add_days (self->week_start, day);
      g_autoptr(GDateTime) day_end = g_date_time_add_days (self->week_start, day + 1);
      GtkWidget *group = NULL;

      for (guint i = 0; i < occurrences->len; i++)
        {
          const AglOccurrence *occurrence = g_ptr_array_index (occurrences, i);

          if (!occurs_on (occurrence, day_start, day_end))
            continue;

          if (group == NULL)
            {
              /* Translators: a day's heading in the agenda, see g_date_time_format() */
              g_autofree char *title = g_date_time_format (day_start, _("%A %-d %B"));
              g_autofree char *escaped = g_markup_escape_text (title, -1);

              group = adw_preferences_group_new ();
              adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), escaped);
              if (g_date_time_compare (now, day_start) >= 0 &&
                  g_date_time_compare (now, day_end) < 0)
                adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), _("Today"));
              gtk_box_append (self->agenda_box, group);
              any = TRUE;
            }
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                     create_occurrence_row (self, occurrence, day_start, day_end));
        }
    }

  gtk_stack_set_visible_child_name (self->agenda_stack, any ? "list" : "empty");
}

static void
list_occurrences_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  AglWindow *self = user_data;
  g_autoptr(GVariant) listed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) occurrences = NULL;

  listed = agl_daemon_client_list_occurrences_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (listed == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* What is listed belongs to another week or an older agenda. */
      remove_children (GTK_WIDGET (self->agenda_box));
      gtk_stack_set_visible_child_name (self->agenda_stack, "list");
      show_error (self, error);
      return;
    }

  occurrences = collect_occurrences (listed);
  show_week (self, occurrences);
}

static void
refresh_agenda (AglWindow *self)
{
  g_autoptr(GDateTime) week_end = g_date_time_add_weeks (self->week_start, 1);

  agl_daemon_client_list_occurrences_async (self->client, self->week_start, week_end,
                                            restart_cancellable (&self->agenda_cancellable),
                                            list_occurrences_cb, self);
}

static GDateTime *
this_week_start (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) today = NULL;

  today = g_date_time_new_local (g_date_time_get_year (now),
                                 g_date_time_get_month (now),
                                 g_date_time_get_day_of_month (now),
                                 0, 0, 0);
  return g_date_time_add_days (today, 1 - g_date_time_get_day_of_week (today));
}

/* Takes @week_start. */
static void
set_week (AglWindow *self,
          GDateTime *week_start)
{
  g_autoptr(GDateTime) current = this_week_start ();
  g_autoptr(GDateTime) sunday = g_date_time_add_days (week_start, 6);
  g_autofree char *first = NULL;
  g_autofree char *last = NULL;
  g_autofree char *label = NULL;

  g_clear_pointer (&self->week_start, g_date_time_unref);
  self->week_start = week_start;

  /* Translators: the first day of the week shown, see g_date_time_format() */
  first = g_date_time_format (week_start, _("%-d %B"));
  /* Translators: the last day of the week shown, see g_date_time_format() */
  last = g_date_time_format (sunday, _("%-d %B %Y"));
  label = g_strdup_printf (_("%s – %s"), first, last);
  gtk_label_set_text (self->week_label, label);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "agenda.this-week",
                                 !g_date_time_equal (current, week_start));
}

/* Takes @week_start. */
static void
go_to_week (AglWindow *self,
            GDateTime *week_start)
{
  set_week (self, week_start);
  if (agl_daemon_client_get_status (self->client) == AGL_DAEMON_CLIENT_READY)
    refresh_agenda (self);
}

/* The daemon comes and goes */

static void
sync_status (AglWindow *self)
{
  AglDaemonClientStatus status = agl_daemon_client_get_status (self->client);
  gboolean ready = status == AGL_DAEMON_CLIENT_READY;

  adw_view_stack_page_set_visible (self->accounts_page, ready);
  adw_view_stack_page_set_visible (self->agenda_page, ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "daemon.retry",
                                 status == AGL_DAEMON_CLIENT_UNAVAILABLE);

  switch (status)
    {
    case AGL_DAEMON_CLIENT_CONNECTING:
      gtk_stack_set_visible_child_name (self->status_stack, "connecting");
      break;

    case AGL_DAEMON_CLIENT_UNAVAILABLE:
      {
        g_autofree char *reason = NULL;

        reason = g_markup_escape_text (agl_daemon_client_get_error_message (self->client), -1);
        adw_status_page_set_description (self->unavailable_page, reason);
        gtk_stack_set_visible_child_name (self->status_stack, "unavailable");
        adw_view_stack_set_visible_child_name (self->view_stack, "status");
      }
      break;

    case AGL_DAEMON_CLIENT_READY:
      /* The status view switches from the spinner once GetState answers. */
      refresh_state (self);
      refresh_accounts (self);
      refresh_agenda (self);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
client_ready_cb (AglWindow *self)
{
  sync_status (self);
}

static void
client_unavailable_cb (AglWindow  *self,
                       const char *reason)
{
  sync_status (self);
}

static void
client_state_changed_cb (AglWindow *self)
{
  refresh_state (self);
}

static void
client_accounts_changed_cb (AglWindow  *self,
                            const char *name)
{
  refresh_state (self);
  refresh_accounts (self);
}

static void
client_agenda_changed_cb (AglWindow  *self,
                          const char *account)
{
  refresh_state (self);
  refresh_agenda (self);
}

/* Actions */

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  AglWindow *self = AGL_WINDOW (widget);

  agl_daemon_client_connect (self->client);
  sync_status (self);
}

static void
previous_week_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  AglWindow *self = AGL_WINDOW (widget);

  go_to_week (self, g_date_time_add_weeks (self->week_start, -1));
}

static void
next_week_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  AglWindow *self = AGL_WINDOW (widget);

  go_to_week (self, g_date_time_add_weeks (self->week_start, 1));
}

static void
this_week_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  go_to_week (AGL_WINDOW (widget), this_week_start ());
}

/* GObject */

static gboolean
read_clock_12h (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *format = NULL;

  /* GNOME's clock setting, where there is one; 24-hour otherwise. */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "org.gnome.desktop.interface", TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, "clock-format"))
    return FALSE;

  settings = g_settings_new_full (schema, NULL, NULL);
  format = g_settings_get_string (settings, "clock-format");
  return g_str_equal (format, "12h");
}

static void
agl_window_constructed (GObject *object)
{
  AglWindow *self = AGL_WINDOW (object);

  G_OBJECT_CLASS (agl_window_parent_class)->constructed (object);

  g_signal_connect_swapped (self->client, "ready",
                            G_CALLBACK (client_ready_cb), self);
  g_signal_connect_swapped (self->client, "unavailable",
                            G_CALLBACK (client_unavailable_cb), self);
  g_signal_connect_swapped (self->client, "state-changed",
                            G_CALLBACK (client_state_changed_cb), self);
  g_signal_connect_swapped (self->client, "accounts-changed",
                            G_CALLBACK (client_accounts_changed_cb), self);
  g_signal_connect_swapped (self->client, "agenda-changed",
                            G_CALLBACK (client_agenda_changed_cb), self);

  set_week (self, this_week_start ());
  sync_status (self);
}

static void
agl_window_dispose (GObject *object)
{
  AglWindow *self = AGL_WINDOW (object);

  g_cancellable_cancel (self->state_cancellable);
  g_cancellable_cancel (self->accounts_cancellable);
  g_cancellable_cancel (self->agenda_cancellable);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->state_cancellable);
  g_clear_object (&self->accounts_cancellable);
  g_clear_object (&self->agenda_cancellable);
  g_clear_object (&self->cancellable);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  g_clear_pointer (&self->account_rows, g_hash_table_unref);
  g_clear_pointer (&self->week_start, g_date_time_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), AGL_TYPE_WINDOW);

  G_OBJECT_CLASS (agl_window_parent_class)->dispose (object);
}

static void
agl_window_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  AglWindow *self = AGL_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
agl_window_class_init (AglWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = agl_window_constructed;
  object_class->dispose = agl_window_dispose;
  object_class->set_property = agl_window_set_property;

  /**
   * AglWindow:client:
   *
   * The connection to the daemon everything shown comes from.
   */
  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL,
                         AGL_TYPE_DAEMON_CLIENT,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, AglWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, accounts_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, agenda_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, status_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, unavailable_page);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, version_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, database_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, schema_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, secrets_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, accounts_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, enabled_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, items_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, accounts_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, week_label);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, agenda_stack);
  gtk_widget_class_bind_template_child (widget_class, AglWindow, agenda_box);

  gtk_widget_class_install_action (widget_class, "daemon.retry", NULL,
                                   retry_action);
  gtk_widget_class_install_action (widget_class, "agenda.previous-week", NULL,
                                   previous_week_action);
  gtk_widget_class_install_action (widget_class, "agenda.next-week", NULL,
                                   next_week_action);
  gtk_widget_class_install_action (widget_class, "agenda.this-week", NULL,
                                   this_week_action);
}

static void
agl_window_init (AglWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->account_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  self->clock_12h = read_clock_12h ();
}

/**
 * agl_window_new:
 * @application: the application, whose daemon client the window shows
 *
 * Returns: (transfer full): a new main window.
 */
AglWindow *
agl_window_new (AglApplication *application)
{
  g_return_val_if_fail (AGL_IS_APPLICATION (application), NULL);

  return g_object_new (AGL_TYPE_WINDOW,
                       "application", application,
                       "client", agl_application_get_client (application),
                       NULL);
}
