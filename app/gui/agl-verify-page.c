/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-verify-page"

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-verify-page.h"
#include "agl-window.h"

/*
 * The verify page runs VerifyAccount, the test-appointment round trip of
 * `agendalinectl verify`, on the chosen account and shows each leg as the
 * daemon's VerifyProgress reports it: a spinner and the seconds counting
 * while a leg waits, a check and the seconds it took when it is done.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 */

/* The daemon gives VerifyAccount 5 minutes; the call waits one more, so
 * that the daemon's TimedOut arrives, with its message, rather than a
 * D-Bus timeout. */
#define VERIFY_TIMEOUT_MSEC (6 * 60 * 1000)

/* The legs of VerifyAccount, in the order they run. */
static const char * const leg_names[] = {
  "local-to-exchange", "exchange-to-local", "delete",
};
#define N_LEGS G_N_ELEMENTS (leg_names)

typedef enum {
  LEG_IDLE,
  LEG_WAITING,
  LEG_DONE,
  LEG_FAILED,
} LegState;

typedef struct {
  AdwActionRow *row;
  GtkStack     *icons;
  GtkLabel     *seconds;
  LegState      state;
} Leg;

struct _AglVerifyPage
{
  AglPage          parent_instance;


  gboolean         enabled;     /* the account is listed and enabled */
  char            *running;     /* the account being verified, or NULL */
  gint64           leg_start;   /* monotonic µs the waiting leg began */
  guint            tick_id;
  GCancellable    *list_cancellable;
  GCancellable    *verify_cancellable;
  AglDaemon       *proxy;       /* whose VerifyProgress is followed */

  Leg              legs[N_LEGS];

  GtkButton       *verify_button;
  GtkSpinner      *verify_spinner;
  GtkLabel        *reason_label;
  AdwActionRow    *leg_row_0;
  AdwActionRow    *leg_row_1;
  AdwActionRow    *leg_row_2;
  AdwActionRow    *result_row;
  GtkImage        *result_icon;
};

G_DEFINE_FINAL_TYPE (AglVerifyPage, agl_verify_page, AGL_TYPE_PAGE)

/* "0.06 s", with the locale's decimal separator (printf follows
 * LC_NUMERIC, which GTK sets from the environment). */
static char *
format_seconds (double seconds)
{
  /* TRANSLATORS: how long a step of the sync check took, in seconds */
  return g_strdup_printf (_("%.2f s"), seconds);
}

static void
set_leg (AglVerifyPage *self,
         guint          i,
         LegState       state,
         const char    *text)
{
  Leg *leg = &self->legs[i];
  static const char * const pages[] = { "idle", "waiting", "done", "failed" };
  g_autofree char *description = NULL;

  leg->state = state;
  gtk_stack_set_visible_child_name (leg->icons, pages[state]);
  gtk_label_set_text (leg->seconds, text != NULL ? text : "");

  switch (state)
    {
    case LEG_WAITING:
      /* TRANSLATORS: a step of the sync check that is still waiting */
      description = text != NULL ? g_strdup_printf (_("Waiting, %s"), text) : g_strdup (_("Waiting"));
      break;
    case LEG_DONE:
      /* TRANSLATORS: a step of the sync check that is done, with its time */
      description = g_strdup_printf (_("Done in %s"), text);
      break;
    case LEG_FAILED:
      description = g_strdup (_("Failed"));
      break;
    case LEG_IDLE:
    default:
      break;
    }
  if (description != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (leg->row),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (leg->row),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

static void
set_result (AglVerifyPage *self,
            const char    *text,
            const char    *icon_name,
            const char    *style)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  adw_action_row_set_subtitle (self->result_row, escaped);
  gtk_image_set_from_icon_name (self->result_icon, icon_name);
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_row), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_icon), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (self->result_icon), "success");
  if (style != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->result_icon), style);
      if (g_str_equal (style, "error"))
        gtk_widget_add_css_class (GTK_WIDGET (self->result_row), "error");
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->result_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

static void
reset_legs (AglVerifyPage *self)
{
  for (guint i = 0; i < N_LEGS; i++)
    set_leg (self, i, LEG_IDLE, NULL);
  set_result (self, _("Not run yet"), "emblem-synchronizing-symbolic", NULL);
}

static void
sync_sensitivity (AglVerifyPage *self)
{
  const char *reason = NULL;
  g_autofree char *text = NULL;

  if (self->running != NULL)
    ;
  else if (agl_page_get_account (AGL_PAGE (self)) == NULL)
    reason = _("Add an account on the Accounts page first.");
  else if (!self->enabled)
    {
      /* TRANSLATORS: %s is an account's name */
      text = g_strdup_printf (_("The account “%s” is inactive; switch it to Active on the "
                                "Accounts page to verify it."),
                              agl_page_get_account (AGL_PAGE (self)));
      reason = text;
    }

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "verify.run",
                                 self->running == NULL && reason == NULL);
  gtk_label_set_text (self->reason_label, reason != NULL ? reason : "");
  gtk_widget_set_visible (GTK_WIDGET (self->reason_label), reason != NULL);
  if (reason != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->verify_button),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, reason, -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->verify_button),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

/* The account's state */

static void
list_accounts_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglVerifyPage *self = user_data;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *entry;

  accounts = agl_daemon_client_list_accounts_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->enabled = FALSE;
  if (accounts != NULL)
    {
      g_variant_iter_init (&iter, accounts);
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *name = NULL;
          gboolean enabled = FALSE;

          if (g_variant_lookup (entry, "name", "&s", &name) &&
              g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0 &&
              g_variant_lookup (entry, "enabled", "b", &enabled))
            self->enabled = enabled;
          g_variant_unref (entry);
        }
    }
  sync_sensitivity (self);
}

static void
refresh_account (AglVerifyPage *self)
{
  AglDaemonClient *client = agl_page_get_client (AGL_PAGE (self));

  if (client == NULL || agl_daemon_client_get_status (client) != AGL_DAEMON_CLIENT_READY)
    return;
  agl_daemon_client_list_accounts_async (client,
                                         agl_cancellable_restart (&self->list_cancellable),
                                         list_accounts_cb, self);
}

/* Running */

static int
waiting_leg (AglVerifyPage *self)
{
  for (guint i = 0; i < N_LEGS; i++)
    if (self->legs[i].state == LEG_WAITING)
      return i;
  return -1;
}

/* The waiting leg counts the seconds, so that a slow server is seen to be
 * slow rather than stuck. */
static gboolean
tick_cb (gpointer user_data)
{
  AglVerifyPage *self = user_data;
  int i = waiting_leg (self);
  g_autofree char *text = NULL;
  gint64 elapsed;

  if (i < 0)
    return G_SOURCE_CONTINUE;
  elapsed = (g_get_monotonic_time () - self->leg_start) / G_USEC_PER_SEC;
  /* TRANSLATORS: seconds a step of the sync check has been waiting */
  text = g_strdup_printf (ngettext ("%d second", "%d seconds", (int) elapsed), (int) elapsed);
  set_leg (self, i, LEG_WAITING, text);
  return G_SOURCE_CONTINUE;
}

static void
leg_done (AglVerifyPage *self,
          guint          i,
          double         seconds)
{
  g_autofree char *text = NULL;

  if (self->legs[i].state == LEG_DONE)
    return;
  text = format_seconds (seconds);
  set_leg (self, i, LEG_DONE, text);
  if (i + 1 < N_LEGS && self->legs[i + 1].state == LEG_IDLE)
    {
      self->leg_start = g_get_monotonic_time ();
      set_leg (self, i + 1, LEG_WAITING, NULL);
    }
}

static void
verify_progress_cb (AglDaemon     *proxy,
                    const char    *name,
                    const char    *leg,
                    double         seconds,
                    AglVerifyPage *self)
{
  if (g_strcmp0 (name, self->running) != 0)
    return;
  for (guint i = 0; i < N_LEGS; i++)
    if (g_str_equal (leg, leg_names[i]))
      leg_done (self, i, seconds);
}

static void
stop_running (AglVerifyPage *self)
{
  g_clear_pointer (&self->running, g_free);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  gtk_spinner_set_spinning (self->verify_spinner, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->verify_spinner), FALSE);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->verify_button),
                               GTK_ACCESSIBLE_STATE_BUSY, FALSE, -1);
  sync_sensitivity (self);
}

static void
verify_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  AglVerifyPage *self = user_data;
  g_autoptr(GVariant) answer = NULL;
  g_autoptr(GError) error = NULL;
  double total = 0.0;

  if (!agl_daemon_call_verify_account_finish (AGL_DAEMON (object), &answer, result, &error))
    {
      int i;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      i = waiting_leg (self);
      if (i >= 0)
        set_leg (self, i, LEG_FAILED, NULL);
      stop_running (self);
      g_dbus_error_strip_remote_error (error);
      set_result (self, error->message, "dialog-error-symbolic", "error");
      return;
    }

  /* The answer has every leg; a signal that did not arrive is no reason
   * to leave one out. */
  for (guint i = 0; i < N_LEGS; i++)
    {
      double seconds = 0.0;

      if (g_variant_lookup (answer, leg_names[i], "d", &seconds))
        {
          leg_done (self, i, seconds);
          total += seconds;
        }
    }
  stop_running (self);

  {
    g_autofree char *seconds = NULL;
    g_autofree char *text = NULL;

    seconds = format_seconds (total);
    /* TRANSLATORS: the result of the sync check; %s is e.g. "0.15 s" */
    text = g_strdup_printf (_("Sync works both ways: %s in all"), seconds);
    set_result (self, text, "emblem-ok-symbolic", "success");
  }
}

static void
run_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  AglVerifyPage *self = AGL_VERIFY_PAGE (widget);
  AglDaemon *proxy;

  if (self->running != NULL || agl_page_get_account (AGL_PAGE (self)) == NULL ||
      agl_page_get_client (AGL_PAGE (self)) == NULL)
    return;
  proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));
  if (proxy == NULL)
    {
      set_result (self, _("The Agendaline service is not running."), "dialog-error-symbolic",
                  "error");
      return;
    }

  reset_legs (self);
  self->running = g_strdup (agl_page_get_account (AGL_PAGE (self)));
  self->proxy = g_object_ref (proxy);
  g_signal_connect (proxy, "verify-progress", G_CALLBACK (verify_progress_cb), self);
  self->leg_start = g_get_monotonic_time ();
  set_leg (self, 0, LEG_WAITING, NULL);
  self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  set_result (self, _("Checking; this can take a few minutes…"), "emblem-synchronizing-symbolic",
              NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->verify_spinner), TRUE);
  gtk_spinner_set_spinning (self->verify_spinner, TRUE);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->verify_button),
                               GTK_ACCESSIBLE_STATE_BUSY, TRUE, -1);
  sync_sensitivity (self);

  agl_daemon_call_verify_account (proxy, self->running, G_DBUS_CALL_FLAGS_NONE,
                                  VERIFY_TIMEOUT_MSEC,
                                  agl_cancellable_restart (&self->verify_cancellable),
                                  verify_done_cb, self);
}

/* The client */

static void
agl_verify_page_client_ready (AglPage *page)
{
  refresh_account (AGL_VERIFY_PAGE (page));
}

static void
client_accounts_changed_cb (AglVerifyPage *self,
                            const char    *name)
{
  refresh_account (self);
}

static void
agl_verify_page_client_changed (AglPage *page)
{
  g_signal_connect_object (agl_page_get_client (page), "accounts-changed",
                           G_CALLBACK (client_accounts_changed_cb), page, G_CONNECT_SWAPPED);
}

static void
agl_verify_page_account_changed (AglPage *page)
{
  AglVerifyPage *self = AGL_VERIFY_PAGE (page);

  /* The daemon goes on with a check under way; its answer is about
   * another account than the one shown. */
  if (self->running != NULL)
    {
      g_cancellable_cancel (self->verify_cancellable);
      stop_running (self);
    }
  self->enabled = FALSE;
  reset_legs (self);
  sync_sensitivity (self);
  refresh_account (self);
}

/* GObject */

static void
agl_verify_page_dispose (GObject *object)
{
  AglVerifyPage *self = AGL_VERIFY_PAGE (object);

  g_cancellable_cancel (self->list_cancellable);
  g_cancellable_cancel (self->verify_cancellable);
  g_clear_object (&self->list_cancellable);
  g_clear_object (&self->verify_cancellable);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->running, g_free);

  G_OBJECT_CLASS (agl_verify_page_parent_class)->dispose (object);
}

static void
agl_verify_page_class_init (AglVerifyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_verify_page_dispose;
  page_class->client_changed = agl_verify_page_client_changed;
  page_class->client_ready = agl_verify_page_client_ready;
  page_class->account_changed = agl_verify_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-verify-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, verify_button);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, verify_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, reason_label);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, leg_row_0);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, leg_row_1);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, leg_row_2);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, result_row);
  gtk_widget_class_bind_template_child (widget_class, AglVerifyPage, result_icon);

  gtk_widget_class_install_action (widget_class, "verify.run", NULL, run_action);
}

/* Each leg row ends in its seconds and an icon for its state; built here
 * because the three are alike. */
static void
create_leg_suffixes (AglVerifyPage *self)
{
  AdwActionRow *rows[N_LEGS] = { self->leg_row_0, self->leg_row_1, self->leg_row_2 };

  for (guint i = 0; i < N_LEGS; i++)
    {
      Leg *leg = &self->legs[i];
      GtkWidget *icons = gtk_stack_new ();
      /* The row's description says the state in words; the icons, of
       * which the stack keeps all in the accessibility tree, say
       * nothing. */
      GtkWidget *spinner = g_object_new (GTK_TYPE_SPINNER,
                                         "spinning", TRUE,
                                         "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                         NULL);
      GtkWidget *done = g_object_new (GTK_TYPE_IMAGE,
                                      "icon-name", "emblem-ok-symbolic",
                                      "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                      NULL);
      GtkWidget *failed = g_object_new (GTK_TYPE_IMAGE,
                                        "icon-name", "dialog-error-symbolic",
                                        "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                        NULL);
      GtkWidget *seconds = gtk_label_new (NULL);

      gtk_widget_add_css_class (done, "success");
      gtk_widget_add_css_class (failed, "error");
      gtk_stack_add_named (GTK_STACK (icons), gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0), "idle");
      gtk_stack_add_named (GTK_STACK (icons), spinner, "waiting");
      gtk_stack_add_named (GTK_STACK (icons), done, "done");
      gtk_stack_add_named (GTK_STACK (icons), failed, "failed");
      gtk_widget_set_size_request (icons, 16, 16);
      gtk_widget_set_valign (icons, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (seconds, "numeric");
      gtk_widget_add_css_class (seconds, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (seconds), 1);
      gtk_label_set_width_chars (GTK_LABEL (seconds), 10);

      adw_action_row_add_suffix (rows[i], seconds);
      adw_action_row_add_suffix (rows[i], icons);
      leg->row = rows[i];
      leg->icons = GTK_STACK (icons);
      leg->seconds = GTK_LABEL (seconds);
    }
}

static void
agl_verify_page_init (AglVerifyPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  create_leg_suffixes (self);
  reset_legs (self);
  sync_sensitivity (self);
}
