/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-accounts-page"

#include <glib/gi18n.h>

#include "agl-cancellable.h"
#include "agl-accounts-page.h"
#include "agl-window.h"

/*
 * The accounts page: the list of accounts and, below it, a form for the
 * account chosen in the window (or for a new one).  Every change goes to
 * the daemon through AddAccount/UpdateAccount; the form is refilled from
 * ListAccounts, so what it shows is what the daemon stored.
 *
 * The page's contract with the window (agl-window.c):
 *   "client"   the AglDaemonClient, set once by the window after it is built
 *   "account"  the account chosen in the header bar, or NULL when there is
 *              none; the page follows it
 *
 * A failure is shown under the field it concerns: the D-Bus error name
 * (which the client's stripping would lose) tells which one.
 */

/* Autodiscover and the retries of a busy server can take a while. */
#define TEST_TIMEOUT_MSEC (180 * 1000)

#define ERROR_CONFIRMATION_NEEDED "io.github.agendaline.Error.ConfirmationNeeded"
#define ERROR_INVALID_ARGUMENT    "io.github.agendaline.Error.InvalidArgument"
#define ERROR_EXISTS              "io.github.agendaline.Error.Exists"
#define EWS_ERROR_PREFIX          "io.github.agendaline.EwsError."

typedef enum {
  FIELD_NAME,
  FIELD_EMAIL,
  FIELD_ACTIVE,
  FIELD_AUTODISCOVER,
  FIELD_URL,
  FIELD_VERSION,
  FIELD_AUTH,
  FIELD_USER,
  FIELD_PASSWORD,
  FIELD_DOMAIN,
  FIELD_CA_FILE,
  N_FIELDS
} Field;

/* The setting key each field edits, to find the field an InvalidArgument
 * names; and words of the daemon's sentences for the messages that name
 * the setting in prose rather than by key. */
static const struct {
  const char *key;
  const char *phrase;
} field_keys[N_FIELDS] = {
  [FIELD_NAME]         = { "name",           "account name" },
  [FIELD_EMAIL]        = { "email",          "e-mail address" },
  [FIELD_ACTIVE]       = { "enabled",        NULL },
  [FIELD_AUTODISCOVER] = { "autodiscover",   "autodiscover" },
  [FIELD_URL]          = { "url",            "url" },
  [FIELD_VERSION]      = { "server-version", "server version" },
  [FIELD_AUTH]         = { "auth",           "authentication" },
  [FIELD_USER]         = { "user",           "user name" },
  [FIELD_PASSWORD]     = { "password",       "password" },
  [FIELD_DOMAIN]       = { "domain",         "domain" },
  [FIELD_CA_FILE]      = { "ca-file",        "ca file" },
};

/* The EWS RequestServerVersion values, "auto" first, as the combo row
 * lists them. */
static const struct {
  const char *value;
  const char *label;
} server_versions[] = {
  { "auto",             N_("Automatic") },
  { "Exchange2007_SP1", N_("Exchange 2007 SP1") },
  { "Exchange2010",     N_("Exchange 2010") },
  { "Exchange2010_SP1", N_("Exchange 2010 SP1") },
  { "Exchange2010_SP2", N_("Exchange 2010 SP2") },
  { "Exchange2013",     N_("Exchange 2013") },
  { "Exchange2013_SP1", N_("Exchange 2013 SP1") },
  { "Exchange2016",     N_("Exchange 2016") },
};

static const struct {
  const char *value;
  const char *label;
} auth_methods[] = {
  { "ntlm",   N_("NTLM") },
  { "basic",  N_("Basic") },
  { "oauth2", N_("OAuth2") },
};

struct _AglAccountsPage
{
  AglPage              parent_instance;


  GVariant            *accounts;      /* aa{sv}, the last listing */
  GVariant            *shown;         /* a{sv} the form was filled from */
  char                *ca_file;       /* the form's CA file, or NULL */
  GVariant            *pending;       /* a{sv} waiting for a confirmation */
  gboolean             adding;
  gboolean             filling;       /* the form is being filled: no edits */
  gboolean             dirty;         /* the user changed the form */
  gboolean             busy;          /* a save or test is under way */
  gboolean             test_after_save;

  GCancellable        *list_cancellable;
  GCancellable        *op_cancellable;
  GCancellable        *enable_cancellable;

  GtkWidget           *message_rows[N_FIELDS];
  GtkLabel            *message_labels[N_FIELDS];

  GtkStack            *stack;
  AdwPreferencesPage  *preferences_page;
  AdwPreferencesGroup *list_group;
  GtkListBox          *account_list;
  AdwPreferencesGroup *account_group;
  AdwEntryRow         *name_row;
  AdwEntryRow         *email_row;
  AdwActionRow        *active_row;
  GtkSwitch           *active_switch;
  AdwPreferencesGroup *server_group;
  AdwActionRow        *autodiscover_row;
  GtkSwitch           *autodiscover_switch;
  AdwEntryRow         *url_row;
  AdwComboRow         *version_row;
  AdwPreferencesGroup *signin_group;
  AdwComboRow         *auth_row;
  AdwEntryRow         *user_row;
  AdwEntryRow         *password_row;
  AdwEntryRow         *domain_row;
  AdwPreferencesGroup *security_group;
  AdwActionRow        *ca_row;
  GtkButton           *ca_clear_button;
  AdwPreferencesGroup *test_group;
  AdwActionRow        *result_row;
  GtkImage            *result_icon;
  GtkButton           *test_button;
  GtkSpinner          *test_spinner;
  AdwPreferencesGroup *buttons_group;
  GtkLabel            *save_message;
  GtkButton           *remove_button;
  GtkButton           *cancel_button;
  GtkButton           *save_button;
};

G_DEFINE_FINAL_TYPE (AglAccountsPage, agl_accounts_page, AGL_TYPE_PAGE)

static void refresh_accounts (AglAccountsPage *self);
static void test_account (AglAccountsPage *self);

static AglWindow *
get_window (AglAccountsPage *self)
{
  GtkWidget *window = gtk_widget_get_ancestor (GTK_WIDGET (self), AGL_TYPE_WINDOW);

  return window != NULL ? AGL_WINDOW (window) : NULL;
}

static void
show_toast (AglAccountsPage *self,
            const char      *message)
{
  AglWindow *window = get_window (self);

  if (window != NULL)
    agl_window_show_error (window, message);
}

static GtkWidget *
field_widget (AglAccountsPage *self,
              Field            field)
{
  switch (field)
    {
    case FIELD_NAME:         return GTK_WIDGET (self->name_row);
    case FIELD_EMAIL:        return GTK_WIDGET (self->email_row);
    case FIELD_ACTIVE:       return GTK_WIDGET (self->active_row);
    case FIELD_AUTODISCOVER: return GTK_WIDGET (self->autodiscover_row);
    case FIELD_URL:          return GTK_WIDGET (self->url_row);
    case FIELD_VERSION:      return GTK_WIDGET (self->version_row);
    case FIELD_AUTH:         return GTK_WIDGET (self->auth_row);
    case FIELD_USER:         return GTK_WIDGET (self->user_row);
    case FIELD_PASSWORD:     return GTK_WIDGET (self->password_row);
    case FIELD_DOMAIN:       return GTK_WIDGET (self->domain_row);
    case FIELD_CA_FILE:      return GTK_WIDGET (self->ca_row);
    case N_FIELDS:
    default:
      g_assert_not_reached ();
    }
}

/* Field messages: a row right under the field, in the same boxed list, so
 * that the sentence is read where the field is.  An error also marks the
 * field itself and becomes its accessible description. */

static gboolean
field_has_error (AglAccountsPage *self,
                 Field            field)
{
  return gtk_widget_has_css_class (field_widget (self, field), "error");
}

static void
set_field_message (AglAccountsPage *self,
                   Field            field,
                   const char      *message,
                   gboolean         is_error)
{
  GtkWidget *widget = field_widget (self, field);
  GtkLabel *label = self->message_labels[field];
  gboolean has_message = message != NULL && *message != '\0';

  gtk_label_set_text (label, has_message ? message : "");
  gtk_widget_set_visible (self->message_rows[field], has_message);
  if (is_error && has_message)
    {
      gtk_widget_add_css_class (widget, "error");
      gtk_widget_remove_css_class (GTK_WIDGET (label), "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (label), "error");
    }
  else
    {
      gtk_widget_remove_css_class (widget, "error");
      gtk_widget_remove_css_class (GTK_WIDGET (label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (label), "dim-label");
    }

  if (has_message)
    gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (widget),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

static void
mark_field (AglAccountsPage *self,
            Field            field,
            const char      *message)
{
  GtkWidget *widget = field_widget (self, field);

  gtk_widget_add_css_class (widget, "error");
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                  -1);
}

/* The password's hint says whether one is stored; it comes back when an
 * error under the password is cleared. */
static void
show_password_hint (AglAccountsPage *self)
{
  gboolean has_password = FALSE;

  if (!self->adding && self->shown != NULL)
    g_variant_lookup (self->shown, "has-password", "b", &has_password);
  set_field_message (self, FIELD_PASSWORD,
                     has_password ? _("Stored — leave empty to keep it") : NULL,
                     FALSE);
}

static void
clear_field_error (AglAccountsPage *self,
                   Field            field)
{
  if (!field_has_error (self, field))
    return;
  if (field == FIELD_PASSWORD)
    show_password_hint (self);
  else
    set_field_message (self, field, NULL, FALSE);
}

static void
clear_all_errors (AglAccountsPage *self)
{
  for (Field field = 0; field < N_FIELDS; field++)
    clear_field_error (self, field);
  gtk_widget_set_visible (GTK_WIDGET (self->save_message), FALSE);
}

static void
show_save_message (AglAccountsPage *self,
                   const char      *message)
{
  gtk_label_set_text (self->save_message, message);
  gtk_widget_set_visible (GTK_WIDGET (self->save_message), TRUE);
}

/* Adds a message row under each field, built here rather than in the
 * template because the eleven are alike. */
static void
create_message_rows (AglAccountsPage *self)
{
  for (Field field = 0; field < N_FIELDS; field++)
    {
      GtkWidget *widget = field_widget (self, field);
      GtkWidget *list = gtk_widget_get_parent (widget);
      GtkWidget *row = adw_preferences_row_new ();
      GtkWidget *label = gtk_label_new (NULL);

      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_set_margin_top (label, 6);
      gtk_widget_set_margin_bottom (label, 6);
      gtk_widget_add_css_class (label, "caption");
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
      gtk_widget_set_focusable (row, FALSE);
      gtk_widget_set_visible (row, FALSE);
      gtk_list_box_insert (GTK_LIST_BOX (list), row,
                           gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (widget)) + 1);
      self->message_rows[field] = row;
      self->message_labels[field] = GTK_LABEL (label);
    }
}

/* Reading the form */

static const char *
chosen_server_version (AglAccountsPage *self)
{
  guint i = adw_combo_row_get_selected (self->version_row);

  return i < G_N_ELEMENTS (server_versions) ? server_versions[i].value : "auto";
}

static const char *
chosen_auth (AglAccountsPage *self)
{
  guint i = adw_combo_row_get_selected (self->auth_row);

  return i < G_N_ELEMENTS (auth_methods) ? auth_methods[i].value : "ntlm";
}

static const char *
entry_text (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static char *
lookup_string (GVariant   *dict,
               const char *key)
{
  const char *value = NULL;

  if (dict == NULL || !g_variant_lookup (dict, key, "&s", &value))
    return g_strdup ("");
  return g_strdup (value);
}

static gboolean
lookup_boolean (GVariant   *dict,
                const char *key)
{
  gboolean value = FALSE;

  if (dict != NULL)
    g_variant_lookup (dict, key, "b", &value);
  return value;
}

static void
add_string_if_changed (GVariantBuilder *builder,
                       GVariant        *shown,
                       const char      *key,
                       const char      *value)
{
  g_autofree char *old = lookup_string (shown, key);

  if (shown == NULL || g_strcmp0 (old, value) != 0)
    g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (value));
}

/* The settings the form holds: for a new account all of them, for an
 * existing one only those that differ from what the daemon listed, so
 * that an update changes nothing the user did not touch.  Returns NULL
 * when nothing changed. */
static GVariant *
collect_settings (AglAccountsPage *self)
{
  GVariant *shown = self->adding ? NULL : self->shown;
  GVariantBuilder builder;
  gboolean autodiscover = gtk_switch_get_active (self->autodiscover_switch);
  gboolean ntlm = g_str_equal (chosen_auth (self), "ntlm");
  g_autofree char *email = g_strstrip (g_strdup (entry_text (self->email_row)));
  g_autofree char *url = g_strstrip (g_strdup (entry_text (self->url_row)));
  g_autofree char *user = g_strstrip (g_strdup (entry_text (self->user_row)));
  g_autofree char *domain = g_strstrip (g_strdup (entry_text (self->domain_row)));
  const char *password = entry_text (self->password_row);
  GVariant *settings;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);

  add_string_if_changed (&builder, shown, "email", email);
  if (autodiscover)
    {
      if (shown == NULL || !lookup_boolean (shown, "autodiscover"))
        g_variant_builder_add (&builder, "{sv}", "autodiscover", g_variant_new_boolean (TRUE));
    }
  else
    {
      g_autofree char *old_url = lookup_string (shown, "url");

      /* Giving a URL turns autodiscover off. */
      if (shown == NULL || lookup_boolean (shown, "autodiscover") || g_strcmp0 (old_url, url) != 0)
        g_variant_builder_add (&builder, "{sv}", "url", g_variant_new_string (url));
    }
  add_string_if_changed (&builder, shown, "server-version", chosen_server_version (self));
  add_string_if_changed (&builder, shown, "auth", chosen_auth (self));
  /* The daemon signs in as the e-mail address without a user name. */
  if (shown != NULL || *user != '\0')
    add_string_if_changed (&builder, shown, "user", user);
  /* A domain only goes with NTLM; leaving NTLM forgets it. */
  if (shown != NULL || (ntlm && *domain != '\0'))
    add_string_if_changed (&builder, shown, "domain", ntlm ? domain : "");
  if (shown != NULL || self->ca_file != NULL)
    add_string_if_changed (&builder, shown, "ca-file", self->ca_file ? self->ca_file : "");
  /* Empty means "keep the stored one": the form never holds it. */
  if (*password != '\0')
    g_variant_builder_add (&builder, "{sv}", "password", g_variant_new_string (password));

  settings = g_variant_ref_sink (g_variant_builder_end (&builder));
  if (shown != NULL && g_variant_n_children (settings) == 0)
    g_clear_pointer (&settings, g_variant_unref);
  return settings;
}

/* Filling the form */

static void
set_busy (AglAccountsPage *self,
          gboolean         busy,
          gboolean         testing)
{
  self->busy = busy;
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->test_button),
                               GTK_ACCESSIBLE_STATE_BUSY, busy && testing, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->test_spinner), busy && testing);
  gtk_spinner_set_spinning (self->test_spinner, busy && testing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "accounts.save", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "accounts.test", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "accounts.remove", !busy && !self->adding);
}

static void
sync_sensitivity (AglAccountsPage *self)
{
  gboolean autodiscover = gtk_switch_get_active (self->autodiscover_switch);
  gboolean ntlm = g_str_equal (chosen_auth (self), "ntlm");

  gtk_widget_set_sensitive (GTK_WIDGET (self->url_row), !autodiscover);
  gtk_widget_set_sensitive (GTK_WIDGET (self->domain_row), ntlm);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "accounts.clear-ca-file",
                                 self->ca_file != NULL);
}

static void
show_ca_file (AglAccountsPage *self)
{
  if (self->ca_file != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (self->ca_file, -1);

      adw_action_row_set_subtitle (self->ca_row, escaped);
    }
  else
    adw_action_row_set_subtitle (self->ca_row,
                                 _("None: only the system’s trusted certificates are used"));
  sync_sensitivity (self);
}

static void
set_result (AglAccountsPage *self,
            const char      *text,
            const char      *icon_name,
            const char      *style)
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
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text,
                                  -1);
}

static void
show_known_server (AglAccountsPage *self)
{
  g_autofree char *build = lookup_string (self->shown, "server-build");

  if (*build != '\0')
    {
      g_autofree char *text = g_strdup_printf (_("Microsoft Exchange %s, found by the last test or sync"),
                                               build);
      set_result (self, text, "network-server-symbolic", NULL);
    }
  else
    set_result (self, _("Not tested yet"), "network-server-symbolic", NULL);
}

static void
show_version_subtitle (AglAccountsPage *self)
{
  g_autofree char *detected = lookup_string (self->shown, "detected-server-version");
  g_autofree char *subtitle = NULL;

  if (!self->adding && *detected != '\0' && adw_combo_row_get_selected (self->version_row) == 0)
    for (guint i = 1; i < G_N_ELEMENTS (server_versions); i++)
      if (g_str_equal (server_versions[i].value, detected))
        /* TRANSLATORS: the Exchange version found for "Automatic", e.g. "Exchange 2016" */
        subtitle = g_strdup_printf (_("The server speaks %s"), _(server_versions[i].label));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->version_row), subtitle ? subtitle : "");
}

static void
select_value (AdwComboRow *row,
              const char  *value,
              const char  *const *values,
              guint        n_values)
{
  for (guint i = 0; i < n_values; i++)
    if (g_strcmp0 (values[i], value) == 0)
      {
        adw_combo_row_set_selected (row, i);
        return;
      }
  adw_combo_row_set_selected (row, 0);
}

/* Fills the form from @account, an a{sv} of the listing, or empties it
 * for a new account when @account is NULL. */
static void
fill_form (AglAccountsPage *self,
           GVariant        *account)
{
  const char *versions[G_N_ELEMENTS (server_versions)];
  const char *auths[G_N_ELEMENTS (auth_methods)];
  g_autofree char *name = lookup_string (account, "name");
  g_autofree char *email = lookup_string (account, "email");
  g_autofree char *url = lookup_string (account, "url");
  g_autofree char *user = lookup_string (account, "user");
  g_autofree char *domain = lookup_string (account, "domain");
  g_autofree char *ca_file = lookup_string (account, "ca-file");
  g_autofree char *version = lookup_string (account, "server-version");
  g_autofree char *auth = lookup_string (account, "auth");
  g_autofree char *title = NULL;
  g_autofree char *old_name = lookup_string (self->shown, "name");
  /* A refill of the account already shown (after a save, or when a test
   * taught the daemon the server's version) keeps what the last test and
   * save said about it. */
  gboolean same = account != NULL && self->shown != NULL && g_str_equal (old_name, name);

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    versions[i] = server_versions[i].value;
  for (guint i = 0; i < G_N_ELEMENTS (auths); i++)
    auths[i] = auth_methods[i].value;

  self->filling = TRUE;

  g_clear_pointer (&self->shown, g_variant_unref);
  if (account != NULL)
    self->shown = g_variant_ref (account);

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->email_row), email);
  gtk_switch_set_active (self->autodiscover_switch,
                         account == NULL || lookup_boolean (account, "autodiscover"));
  gtk_editable_set_text (GTK_EDITABLE (self->url_row), url);
  select_value (self->version_row, version, versions, G_N_ELEMENTS (versions));
  select_value (self->auth_row, auth, auths, G_N_ELEMENTS (auths));
  gtk_editable_set_text (GTK_EDITABLE (self->user_row), user);
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->domain_row), domain);
  gtk_switch_set_active (self->active_switch, account == NULL || lookup_boolean (account, "enabled"));
  g_free (self->ca_file);
  self->ca_file = *ca_file != '\0' ? g_steal_pointer (&ca_file) : NULL;

  if (self->adding)
    title = g_strdup (_("New Account"));
  else
    /* TRANSLATORS: the title of the account form; %s is the account's name */
    title = g_strdup_printf (_("Account “%s”"), name);
  adw_preferences_group_set_title (self->account_group, title);

  gtk_widget_set_visible (GTK_WIDGET (self->name_row), self->adding);
  gtk_widget_set_visible (GTK_WIDGET (self->active_row), !self->adding);
  gtk_widget_set_visible (GTK_WIDGET (self->remove_button), !self->adding);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), self->adding);
  gtk_button_set_label (self->save_button, self->adding ? _("_Add") : _("_Save"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->save_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->adding ? _("Add") : _("Save"),
                                  -1);

  if (!same)
    {
      for (Field field = 0; field < N_FIELDS; field++)
        set_field_message (self, field, NULL, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->save_message), FALSE);
    }
  if (!field_has_error (self, FIELD_PASSWORD))
    show_password_hint (self);
  show_ca_file (self);
  show_version_subtitle (self);
  /* A test under way says what it found when it is done. */
  if (!same && !self->busy)
    {
      if (self->adding)
        set_result (self, _("Not tested yet"), "network-server-symbolic", NULL);
      else
        show_known_server (self);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "accounts.remove",
                                 !self->busy && !self->adding);
  sync_sensitivity (self);

  self->dirty = FALSE;
  self->filling = FALSE;
}

static GVariant *
find_account (AglAccountsPage *self,
              const char      *name)
{
  GVariantIter iter;
  GVariant *entry;

  if (self->accounts == NULL || name == NULL)
    return NULL;
  g_variant_iter_init (&iter, self->accounts);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *entry_name = NULL;

      if (g_variant_lookup (entry, "name", "&s", &entry_name) && g_str_equal (entry_name, name))
        return entry;
      g_variant_unref (entry);
    }
  return NULL;
}

/* Shows the listing and the form that goes with the chosen account; the
 * form is only refilled when the user has nothing unsaved in it. */
static void
show_accounts (AglAccountsPage *self,
               gboolean         refill)
{
  guint n = self->accounts != NULL ? g_variant_n_children (self->accounts) : 0;
  g_autoptr(GVariant) chosen = NULL;

  chosen = find_account (self, agl_page_get_account (AGL_PAGE (self)));

  /* The stack's pages stay in the accessibility tree, which GTK 4.8 does
   * not keep up to date for groups hidden and shown again; so it is the
   * stack that changes, never the groups' visibility.  "No accounts" is
   * only said once the daemon said so, and the form waits for the
   * window's choice. */
  if (self->adding)
    gtk_stack_set_visible_child_name (self->stack, "accounts");
  else if (self->accounts == NULL)
    gtk_stack_set_visible_child_name (self->stack, "loading");
  else if (n == 0)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else if (chosen == NULL)
    gtk_stack_set_visible_child_name (self->stack, "loading");
  else
    gtk_stack_set_visible_child_name (self->stack, "accounts");

  if (self->adding || chosen == NULL)
    return;

  if (refill || !self->dirty)
    fill_form (self, chosen);
  else
    {
      /* Keep the user's edits, but learn what the daemon stored. */
      g_clear_pointer (&self->shown, g_variant_unref);
      self->shown = g_variant_ref (chosen);
      self->filling = TRUE;
      gtk_switch_set_active (self->active_switch, lookup_boolean (chosen, "enabled"));
      self->filling = FALSE;
    }
}

/* The list */

static void
account_row_activated_cb (AglAccountsPage *self,
                          GtkListBoxRow   *row)
{
  const char *name = g_object_get_data (G_OBJECT (row), "account-name");
  AglWindow *window = get_window (self);

  if (self->adding)
    self->adding = FALSE;
  if (window != NULL)
    agl_window_choose_account (window, name);
  /* Already chosen: the window says nothing, so the form is shown here. */
  show_accounts (self, FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->email_row));
}

static GtkWidget *
create_account_row (AglAccountsPage *self,
                    GVariant        *account)
{
  g_autofree char *name = lookup_string (account, "name");
  g_autofree char *email = lookup_string (account, "email");
  g_autofree char *build = lookup_string (account, "server-build");
  g_autofree char *subtitle = NULL;
  gboolean enabled = lookup_boolean (account, "enabled");
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *state = gtk_label_new (enabled ? _("Active") : _("Inactive"));

  if (*build != '\0')
    /* TRANSLATORS: an account's e-mail address and its server's build */
    subtitle = g_strdup_printf (_("%s · Exchange %s"), email, build);
  else
    subtitle = g_strdup (email);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_add_css_class (state, "dim-label");
  if (!enabled)
    gtk_widget_add_css_class (state, "caption");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), state);
  if (g_strcmp0 (name, agl_page_get_account (AGL_PAGE (self))) == 0 && !self->adding)
    {
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");

      gtk_widget_set_tooltip_text (check, _("Shown below"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (check),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Chosen"), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), check);
    }
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "account-name", g_steal_pointer (&name), g_free);
  return row;
}

static void
fill_list (AglAccountsPage *self)
{
  GtkListBoxRow *row;
  GVariantIter iter;
  GVariant *entry;

  /* Rows only: the list's placeholder is a child too. */
  while ((row = gtk_list_box_get_row_at_index (self->account_list, 0)) != NULL)
    gtk_list_box_remove (self->account_list, GTK_WIDGET (row));
  if (self->accounts == NULL)
    return;

  g_variant_iter_init (&iter, self->accounts);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      gtk_list_box_append (self->account_list, create_account_row (self, entry));
      g_variant_unref (entry);
    }
}

static void
list_accounts_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  AglAccountsPage *self = user_data;
  g_autoptr(GVariant) accounts = NULL;
  g_autoptr(GError) error = NULL;

  accounts = agl_daemon_client_list_accounts_finish (AGL_DAEMON_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (accounts == NULL)
    {
      show_toast (self, error->message);
      return;
    }

  g_clear_pointer (&self->accounts, g_variant_unref);
  self->accounts = g_steal_pointer (&accounts);
  fill_list (self);
  show_accounts (self, FALSE);
}

static void
refresh_accounts (AglAccountsPage *self)
{
  AglDaemonClient *client = agl_page_get_client (AGL_PAGE (self));

  if (client == NULL || agl_daemon_client_get_status (client) != AGL_DAEMON_CLIENT_READY)
    return;
  agl_daemon_client_list_accounts_async (client,
                                         agl_cancellable_restart (&self->list_cancellable),
                                         list_accounts_cb, self);
}

/* Errors */

static gboolean
remote_name_has (const char *remote,
                 const char *part)
{
  return remote != NULL && strstr (remote, part) != NULL;
}

/* The field an InvalidArgument's sentence is about: the daemon quotes the
 * setting's key (“url”) or the offending value, or names the setting in
 * words. */
static Field
field_for_invalid_argument (AglAccountsPage *self,
                            const char      *message)
{
  static const Field phrase_order[] = {
    FIELD_NAME, FIELD_EMAIL, FIELD_URL, FIELD_CA_FILE, FIELD_VERSION, FIELD_DOMAIN,
    FIELD_USER, FIELD_PASSWORD, FIELD_AUTH, FIELD_AUTODISCOVER,
  };
  g_autofree char *lower = g_utf8_strdown (message, -1);
  AdwEntryRow *entries[] = { self->email_row, self->url_row, self->user_row, self->domain_row };
  Field entry_fields[] = { FIELD_EMAIL, FIELD_URL, FIELD_USER, FIELD_DOMAIN };

  for (Field field = 0; field < N_FIELDS; field++)
    {
      g_autofree char *quoted = g_strdup_printf ("“%s”", field_keys[field].key);

      if (strstr (message, quoted) != NULL)
        return field;
    }
  if (self->ca_file != NULL && strstr (message, self->ca_file) != NULL)
    return FIELD_CA_FILE;
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      const char *text = entry_text (entries[i]);
      g_autofree char *quoted = g_strdup_printf ("“%s”", text);

      if (*text != '\0' && strstr (message, quoted) != NULL)
        return entry_fields[i];
    }
  /* In this order because sentences name more than one setting: "A
   * domain applies only to NTLM authentication", "The EWS URL must not
   * contain a user name or password". */
  for (guint i = 0; i < G_N_ELEMENTS (phrase_order); i++)
    if (strstr (lower, field_keys[phrase_order[i]].phrase) != NULL)
      return phrase_order[i];
  return N_FIELDS;
}

/* Shows @error (not yet stripped) under the fields it concerns.  A test's
 * failure is also said in the test's result row; a save's that concerns no
 * field goes under the buttons. */
static void
show_error (AglAccountsPage *self,
            GError          *error,
            gboolean         from_test)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  gboolean autodiscover = gtk_switch_get_active (self->autodiscover_switch);
  Field fields[2] = { N_FIELDS, N_FIELDS };
  g_autofree char *lower = NULL;
  GtkWidget *focus = NULL;

  g_dbus_error_strip_remote_error (error);
  lower = remote != NULL ? g_ascii_strdown (remote, -1) : g_strdup ("");

  if (remote != NULL && g_str_has_prefix (remote, EWS_ERROR_PREFIX))
    {
      const char *code = remote + strlen (EWS_ERROR_PREFIX);

      if (g_str_has_suffix (code, "Unauthorized"))
        fields[0] = FIELD_PASSWORD, fields[1] = FIELD_USER;
      else if (g_str_has_suffix (code, "Autodiscover"))
        fields[0] = FIELD_EMAIL, fields[1] = FIELD_AUTODISCOVER;
      else if (g_str_has_suffix (code, "NonExistentMailbox"))
        fields[0] = FIELD_EMAIL;
      else if (g_str_has_suffix (code, "InvalidServerVersion"))
        fields[0] = FIELD_VERSION;
      else if (g_str_has_suffix (code, "ImpersonateUserDenied"))
        fields[0] = FIELD_USER;
      else if (g_str_has_suffix (code, "HttpStatus") || g_str_has_suffix (code, "InvalidResponse") ||
               g_str_has_suffix (code, "SoapFault"))
        fields[0] = autodiscover ? FIELD_EMAIL : FIELD_URL;
    }
  else if (remote_name_has (lower, "tls"))
    fields[0] = FIELD_CA_FILE;
  else if (remote_name_has (lower, "resolver") || remote_name_has (lower, "g_2dio_2derror"))
    fields[0] = autodiscover ? FIELD_EMAIL : FIELD_URL;
  else if (g_strcmp0 (remote, ERROR_INVALID_ARGUMENT) == 0)
    fields[0] = field_for_invalid_argument (self, error->message);
  else if (g_strcmp0 (remote, ERROR_EXISTS) == 0)
    fields[0] = FIELD_NAME;

  /* A field the form hides cannot show it. */
  if (fields[0] == FIELD_NAME && !self->adding)
    fields[0] = N_FIELDS;
  if (fields[0] == FIELD_URL && autodiscover)
    fields[0] = FIELD_AUTODISCOVER;

  /* The sentence is shown once, under the first field; a second one
   * (the user name of a refused password) is only marked. */
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (fields[i] != N_FIELDS)
      {
        if (i == 0)
          set_field_message (self, fields[i], error->message, TRUE);
        else
          mark_field (self, fields[i], error->message);
        if (focus == NULL)
          focus = field_widget (self, fields[i]);
      }

  if (from_test)
    set_result (self, error->message, "dialog-error-symbolic", "error");
  else if (fields[0] == N_FIELDS)
    show_save_message (self, error->message);

  if (focus != NULL && gtk_widget_get_sensitive (focus))
    gtk_widget_grab_focus (focus);
}

/* Saving */

static void save_settings (AglAccountsPage *self,
                           GVariant        *settings);

static void
confirm_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     AglAccountsPage  *self)
{
  g_autoptr(GVariant) pending = g_steal_pointer (&self->pending);
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (pending == NULL || g_strcmp0 (response, "change") != 0)
    {
      self->test_after_save = FALSE;
      return;
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, pending);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&builder, "{sv}", key, value);
      g_variant_unref (value);
    }
  g_variant_builder_add (&builder, "{sv}", "confirm", g_variant_new_boolean (TRUE));
  save_settings (self, g_variant_builder_end (&builder));
}

static void
ask_confirmation (AglAccountsPage *self,
                  GVariant        *settings,
                  const char      *message)
{
  GtkWidget *dialog;

  g_clear_pointer (&self->pending, g_variant_unref);
  self->pending = g_variant_ref (settings);

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                   _("Change the Mailbox?"), message);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "change", _("C_hange Mailbox"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "change",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef struct {
  AglAccountsPage *self;
  GVariant        *settings;
  char            *name;
  gboolean         adding;
} SaveOp;

static void
save_op_free (SaveOp *op)
{
  g_variant_unref (op->settings);
  g_free (op->name);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SaveOp, save_op_free)

static void
save_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SaveOp) op = user_data;
  g_autoptr(GError) error = NULL;
  AglAccountsPage *self;
  gboolean ok;

  if (op->adding)
    ok = agl_daemon_call_add_account_finish (AGL_DAEMON (object), result, &error);
  else
    ok = agl_daemon_call_update_account_finish (AGL_DAEMON (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = op->self;
  set_busy (self, FALSE, FALSE);

  if (!ok)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      if (g_strcmp0 (remote, ERROR_CONFIRMATION_NEEDED) == 0)
        {
          g_dbus_error_strip_remote_error (error);
          ask_confirmation (self, op->settings, error->message);
          return;
        }
      self->test_after_save = FALSE;
      show_error (self, error, FALSE);
      return;
    }

  if (op->adding)
    {
      AglWindow *window = get_window (self);

      self->adding = FALSE;
      agl_page_set_account_quietly (AGL_PAGE (self), op->name);
      if (window != NULL)
        agl_window_choose_account (window, op->name);
    }

  /* What the daemon stored is what the form shows from now on. */
  self->filling = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  self->filling = FALSE;
  self->dirty = FALSE;
  clear_all_errors (self);

  if (self->test_after_save)
    {
      self->test_after_save = FALSE;
      test_account (self);
    }
  refresh_accounts (self);
}

/* Sends @settings (floating or not) as AddAccount or UpdateAccount. */
static void
save_settings (AglAccountsPage *self,
               GVariant        *settings)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));
  SaveOp *op;

  g_variant_ref_sink (settings);
  if (proxy == NULL)
    {
      g_variant_unref (settings);
      show_save_message (self, _("The Agendaline service is not running."));
      return;
    }

  op = g_new0 (SaveOp, 1);
  op->self = self;
  op->settings = settings;
  op->adding = self->adding;
  if (self->adding)
    op->name = g_strstrip (g_strdup (entry_text (self->name_row)));
  else
    op->name = g_strdup (agl_page_get_account (AGL_PAGE (self)));

  set_busy (self, TRUE, self->test_after_save);
  if (op->adding)
    agl_daemon_call_add_account (proxy, op->name, op->settings, G_DBUS_CALL_FLAGS_NONE, -1,
                                 agl_cancellable_restart (&self->op_cancellable),
                                 save_done_cb, op);
  else
    agl_daemon_call_update_account (proxy, op->name, op->settings, G_DBUS_CALL_FLAGS_NONE, -1,
                                    agl_cancellable_restart (&self->op_cancellable),
                                    save_done_cb, op);
}

/* Saves the form; returns FALSE when there was nothing to save. */
static gboolean
save_form (AglAccountsPage *self)
{
  g_autoptr(GVariant) settings = NULL;

  clear_all_errors (self);
  if (self->adding && *entry_text (self->name_row) == '\0')
    {
      set_field_message (self, FIELD_NAME,
                         _("Give the account a name, such as “work”; it cannot be changed later."),
                         TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
      self->test_after_save = FALSE;
      return TRUE;
    }

  settings = collect_settings (self);
  if (settings == NULL)
    return FALSE;
  save_settings (self, settings);
  return TRUE;
}

/* Testing */

static void
test_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AglAccountsPage *self = user_data;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *product = NULL;
  g_autofree char *version = NULL;
  g_autofree char *mailbox = NULL;
  g_autofree char *url = NULL;
  g_autofree char *impersonation = NULL;
  g_autofree char *text = NULL;

  if (!agl_daemon_call_test_account_finish (AGL_DAEMON (object), &info, result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, FALSE, FALSE);
      show_error (self, error, TRUE);
      return;
    }

  set_busy (self, FALSE, FALSE);
  product = lookup_string (info, "product");
  version = lookup_string (info, "server-version");
  mailbox = lookup_string (info, "mailbox");
  url = lookup_string (info, "url");
  impersonation = lookup_string (info, "impersonation");

  if (g_strcmp0 (impersonation, "works") == 0)
    /* TRANSLATORS: product, version, mailbox, EWS URL */
    text = g_strdup_printf (_("Connected to %s %s\nMailbox %s, impersonation works\n%s"),
                            product, version, mailbox, url);
  else if (gtk_switch_get_active (self->autodiscover_switch))
    text = g_strdup_printf (_("Connected to %s %s\nMailbox %s\nFound by autodiscover: %s"),
                            product, version, mailbox, url);
  else
    text = g_strdup_printf (_("Connected to %s %s\nMailbox %s\n%s"),
                            product, version, mailbox, url);
  set_result (self, text, "emblem-ok-symbolic", "success");
}

static void
test_account (AglAccountsPage *self)
{
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (proxy == NULL || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  set_busy (self, TRUE, TRUE);
  set_result (self, _("Testing the connection…"), "network-server-symbolic", NULL);
  agl_daemon_call_test_account (proxy, agl_page_get_account (AGL_PAGE (self)),
                                G_DBUS_CALL_FLAGS_NONE, TEST_TIMEOUT_MSEC,
                                agl_cancellable_restart (&self->op_cancellable),
                                test_done_cb, self);
}

/* Removing */

static void
remove_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  AglAccountsPage *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_daemon_call_remove_account_finish (AGL_DAEMON (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_busy (self, FALSE, FALSE);
      g_dbus_error_strip_remote_error (error);
      show_save_message (self, error->message);
      return;
    }
  set_busy (self, FALSE, FALSE);
  refresh_accounts (self);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    AglAccountsPage  *self)
{
  const char *name = g_object_get_data (G_OBJECT (dialog), "account-name");
  AglDaemon *proxy = agl_daemon_client_get_proxy (agl_page_get_client (AGL_PAGE (self)));

  if (g_strcmp0 (response, "remove") != 0 || proxy == NULL)
    return;
  set_busy (self, TRUE, FALSE);
  agl_daemon_call_remove_account (proxy, name, G_DBUS_CALL_FLAGS_NONE, -1,
                                  agl_cancellable_restart (&self->op_cancellable),
                                  remove_done_cb, self);
}

/* Actions */

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);

  if (self->busy)
    g_cancellable_cancel (self->op_cancellable);
  self->busy = FALSE;
  self->adding = TRUE;
  fill_list (self);
  fill_form (self, NULL);
  show_accounts (self, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->name_row));
}

static void
cancel_add_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);

  self->adding = FALSE;
  self->dirty = FALSE;
  fill_list (self);
  show_accounts (self, TRUE);
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);

  if (self->busy)
    return;
  /* A new account is tested at once: whether it works is the first thing
   * to know about it. */
  self->test_after_save = self->adding;
  save_form (self);
}

static void
test_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);

  if (self->busy)
    return;
  /* The test is of what the form shows, so pending edits go first. */
  self->test_after_save = TRUE;
  if (!save_form (self))
    {
      self->test_after_save = FALSE;
      test_account (self);
    }
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);
  g_autofree char *heading = NULL;
  GtkWidget *dialog;

  if (agl_page_get_account (AGL_PAGE (self)) == NULL || self->adding)
    return;

  heading = g_strdup_printf (_("Remove Account “%s”?"), agl_page_get_account (AGL_PAGE (self)));
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (widget)), heading,
                                   _("Its appointments in the local agenda, its sync state "
                                     "and its stored password are deleted. Exchange keeps "
                                     "its appointments."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "account-name",
                          g_strdup (agl_page_get_account (AGL_PAGE (self))), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
ca_file_chosen_cb (GtkNativeDialog *dialog,
                   int              response,
                   AglAccountsPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL && g_strcmp0 (path, self->ca_file) != 0)
        {
          g_free (self->ca_file);
          self->ca_file = g_steal_pointer (&path);
          self->dirty = TRUE;
          clear_field_error (self, FIELD_CA_FILE);
          show_ca_file (self);
        }
    }
  g_object_unref (dialog);
}

static void
choose_ca_file_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);
  g_autoptr(GtkFileFilter) pem = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();
  GtkFileChooserNative *dialog;

  gtk_file_filter_set_name (pem, _("PEM Certificates"));
  gtk_file_filter_add_mime_type (pem, "application/x-pem-file");
  gtk_file_filter_add_mime_type (pem, "application/x-x509-ca-cert");
  gtk_file_filter_add_pattern (pem, "*.pem");
  gtk_file_filter_add_pattern (pem, "*.crt");
  gtk_file_filter_add_pattern (pem, "*.cer");
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");

  dialog = gtk_file_chooser_native_new (_("Choose CA File"),
                                        GTK_WINDOW (gtk_widget_get_root (widget)),
                                        GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Choose"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), pem);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), all);
  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (dialog), pem);
  if (self->ca_file != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (self->ca_file);

      gtk_file_chooser_set_file (GTK_FILE_CHOOSER (dialog), file, NULL);
    }
  g_signal_connect_object (dialog, "response", G_CALLBACK (ca_file_chosen_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
clear_ca_file_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (widget);

  g_clear_pointer (&self->ca_file, g_free);
  self->dirty = TRUE;
  clear_field_error (self, FIELD_CA_FILE);
  show_ca_file (self);
}

/* Edits */

static void
field_changed (AglAccountsPage *self,
               Field            field)
{
  if (self->filling)
    return;
  self->dirty = TRUE;
  clear_field_error (self, field);
  gtk_widget_set_visible (GTK_WIDGET (self->save_message), FALSE);
  sync_sensitivity (self);
}

static void name_changed_cb (AglAccountsPage *self) { field_changed (self, FIELD_NAME); }
static void email_changed_cb (AglAccountsPage *self) { field_changed (self, FIELD_EMAIL); }
static void url_changed_cb (AglAccountsPage *self) { field_changed (self, FIELD_URL); }
static void user_changed_cb (AglAccountsPage *self) { field_changed (self, FIELD_USER); }
static void domain_changed_cb (AglAccountsPage *self) { field_changed (self, FIELD_DOMAIN); }

static void
password_changed_cb (AglAccountsPage *self)
{
  field_changed (self, FIELD_PASSWORD);
  /* A refused password is usually the user name's fault as much. */
  if (!self->filling)
    clear_field_error (self, FIELD_USER);
}

static void
autodiscover_changed_cb (AglAccountsPage *self)
{
  field_changed (self, FIELD_AUTODISCOVER);
  if (!self->filling)
    clear_field_error (self, FIELD_URL);
}

static void
version_changed_cb (AglAccountsPage *self)
{
  field_changed (self, FIELD_VERSION);
  show_version_subtitle (self);
}

static void
auth_changed_cb (AglAccountsPage *self)
{
  field_changed (self, FIELD_AUTH);
  if (!self->filling)
    clear_field_error (self, FIELD_DOMAIN);
}

static void
enabled_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  AglAccountsPage *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_daemon_client_set_account_enabled_finish (AGL_DAEMON_CLIENT (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_field_message (self, FIELD_ACTIVE, error->message, TRUE);
    }
  refresh_accounts (self);
}

static void
active_changed_cb (AglAccountsPage *self)
{
  if (self->filling || self->adding || agl_page_get_account (AGL_PAGE (self)) == NULL)
    return;
  clear_field_error (self, FIELD_ACTIVE);
  agl_daemon_client_set_account_enabled_async (agl_page_get_client (AGL_PAGE (self)),
                                               agl_page_get_account (AGL_PAGE (self)),
                                               gtk_switch_get_active (self->active_switch),
                                               agl_cancellable_restart (&self->enable_cancellable),
                                               enabled_done_cb, self);
}

static void
entry_activated_cb (AglAccountsPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "accounts.save", NULL);
}

static void
agl_accounts_page_client_ready (AglPage *page)
{
  refresh_accounts (AGL_ACCOUNTS_PAGE (page));
}

static void
client_accounts_changed_cb (AglAccountsPage *self,
                            const char      *name)
{
  refresh_accounts (self);
}

static void
agl_accounts_page_client_changed (AglPage *page)
{
  g_signal_connect_object (agl_page_get_client (page), "accounts-changed",
                           G_CALLBACK (client_accounts_changed_cb), page, G_CONNECT_SWAPPED);
}

static void
agl_accounts_page_account_changed (AglPage *page)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (page);

  /* Another account's test or save says nothing about this one. */
  if (self->busy)
    {
      g_cancellable_cancel (self->op_cancellable);
      set_busy (self, FALSE, FALSE);
    }
  self->adding = FALSE;
  self->dirty = FALSE;
  fill_list (self);
  show_accounts (self, TRUE);
}

/* GObject */

static void
agl_accounts_page_dispose (GObject *object)
{
  AglAccountsPage *self = AGL_ACCOUNTS_PAGE (object);

  g_cancellable_cancel (self->list_cancellable);
  g_cancellable_cancel (self->op_cancellable);
  g_clear_object (&self->list_cancellable);
  g_clear_object (&self->op_cancellable);
  g_cancellable_cancel (self->enable_cancellable);
  g_clear_object (&self->enable_cancellable);
  g_clear_pointer (&self->accounts, g_variant_unref);
  g_clear_pointer (&self->shown, g_variant_unref);
  g_clear_pointer (&self->pending, g_variant_unref);
  g_clear_pointer (&self->ca_file, g_free);

  G_OBJECT_CLASS (agl_accounts_page_parent_class)->dispose (object);
}

static void
agl_accounts_page_class_init (AglAccountsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  AglPageClass *page_class = AGL_PAGE_CLASS (klass);

  object_class->dispose = agl_accounts_page_dispose;
  page_class->client_changed = agl_accounts_page_client_changed;
  page_class->client_ready = agl_accounts_page_client_ready;
  page_class->account_changed = agl_accounts_page_account_changed;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/agendaline/Agendaline/agl-accounts-page.ui");
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, preferences_page);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, list_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, account_list);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, account_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, email_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, active_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, active_switch);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, server_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, autodiscover_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, autodiscover_switch);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, url_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, version_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, signin_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, auth_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, user_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, domain_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, security_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, ca_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, ca_clear_button);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, test_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, result_row);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, result_icon);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, test_button);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, test_spinner);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, buttons_group);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, save_message);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, remove_button);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, AglAccountsPage, save_button);

  gtk_widget_class_install_action (widget_class, "accounts.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "accounts.cancel-add", NULL, cancel_add_action);
  gtk_widget_class_install_action (widget_class, "accounts.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "accounts.test", NULL, test_action);
  gtk_widget_class_install_action (widget_class, "accounts.remove", NULL, remove_action);
  gtk_widget_class_install_action (widget_class, "accounts.choose-ca-file", NULL,
                                   choose_ca_file_action);
  gtk_widget_class_install_action (widget_class, "accounts.clear-ca-file", NULL,
                                   clear_ca_file_action);
}

static GListModel *
create_label_model (const char *const *labels,
                    guint              n_labels)
{
  GtkStringList *list = gtk_string_list_new (NULL);

  for (guint i = 0; i < n_labels; i++)
    gtk_string_list_append (list, _(labels[i]));
  return G_LIST_MODEL (list);
}

/* The entry rows' text widgets carry the field's name too, for screen
 * readers that announce the focused text rather than its row. */
static void
name_entry_text (AdwEntryRow *row,
                 const char  *name)
{
  GtkEditable *delegate = gtk_editable_get_delegate (GTK_EDITABLE (row));

  if (delegate != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (delegate),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static void
agl_accounts_page_init (AglAccountsPage *self)
{
  const char *version_labels[G_N_ELEMENTS (server_versions)];
  const char *auth_labels[G_N_ELEMENTS (auth_methods)];
  g_autoptr(GListModel) versions = NULL;
  g_autoptr(GListModel) auths = NULL;
  AdwEntryRow *entries[6];

  gtk_widget_init_template (GTK_WIDGET (self));

  entries[0] = self->name_row;
  entries[1] = self->email_row;
  entries[2] = self->url_row;
  entries[3] = self->user_row;
  entries[4] = self->password_row;
  entries[5] = self->domain_row;

  for (guint i = 0; i < G_N_ELEMENTS (server_versions); i++)
    version_labels[i] = server_versions[i].label;
  for (guint i = 0; i < G_N_ELEMENTS (auth_methods); i++)
    auth_labels[i] = auth_methods[i].label;
  versions = create_label_model (version_labels, G_N_ELEMENTS (version_labels));
  auths = create_label_model (auth_labels, G_N_ELEMENTS (auth_labels));
  adw_combo_row_set_model (self->version_row, versions);
  adw_combo_row_set_model (self->auth_row, auths);

  name_entry_text (self->name_row, _("Account name"));
  name_entry_text (self->email_row, _("E-mail address"));
  name_entry_text (self->url_row, _("EWS URL"));
  name_entry_text (self->user_row, _("User name"));
  name_entry_text (self->password_row, _("Password"));
  name_entry_text (self->domain_row, _("Domain"));

  create_message_rows (self);

  {
    GtkWidget *placeholder = gtk_label_new (_("No accounts yet"));

    gtk_widget_add_css_class (placeholder, "dim-label");
    gtk_widget_set_margin_top (placeholder, 12);
    gtk_widget_set_margin_bottom (placeholder, 12);
    gtk_list_box_set_placeholder (self->account_list, placeholder);
  }

  g_signal_connect_swapped (self->account_list, "row-activated",
                            G_CALLBACK (account_row_activated_cb), self);
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (name_changed_cb), self);
  g_signal_connect_swapped (self->email_row, "changed", G_CALLBACK (email_changed_cb), self);
  g_signal_connect_swapped (self->url_row, "changed", G_CALLBACK (url_changed_cb), self);
  g_signal_connect_swapped (self->user_row, "changed", G_CALLBACK (user_changed_cb), self);
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (password_changed_cb), self);
  g_signal_connect_swapped (self->domain_row, "changed", G_CALLBACK (domain_changed_cb), self);
  g_signal_connect_swapped (self->autodiscover_switch, "notify::active",
                            G_CALLBACK (autodiscover_changed_cb), self);
  g_signal_connect_swapped (self->version_row, "notify::selected",
                            G_CALLBACK (version_changed_cb), self);
  g_signal_connect_swapped (self->auth_row, "notify::selected",
                            G_CALLBACK (auth_changed_cb), self);
  g_signal_connect_swapped (self->active_switch, "notify::active",
                            G_CALLBACK (active_changed_cb), self);
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    g_signal_connect_swapped (entries[i], "entry-activated",
                              G_CALLBACK (entry_activated_cb), self);

  self->list_cancellable = g_cancellable_new ();
  fill_form (self, NULL);
  gtk_stack_set_visible_child_name (self->stack, "loading");
}
