/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gio/gio.h>

#include "agl-account.h"
#include "agl-error.h"

#define NAME_MAX_CHARS 64

static const char * const auth_methods[] = { "ntlm", "basic", "oauth2", NULL };

static const char * const server_versions[] = {
  "auto",
  "Exchange2007_SP1",
  "Exchange2010",
  "Exchange2010_SP1",
  "Exchange2010_SP2",
  "Exchange2013",
  "Exchange2013_SP1",
  "Exchange2016",
  NULL
};

/* Indexed by AglConflictPolicy; also the store's and D-Bus's spelling. */
static const char * const conflict_policies[] = {
  "exchange-wins", "local-wins", "newer-wins", NULL
};

/**
 * agl_conflict_policy_to_string:
 * @policy: a policy
 *
 * Returns: its name: "exchange-wins", "local-wins" or "newer-wins"
 */
const char *
agl_conflict_policy_to_string (AglConflictPolicy policy)
{
  g_return_val_if_fail ((guint) policy < G_N_ELEMENTS (conflict_policies) - 1, NULL);
  return conflict_policies[policy];
}

/**
 * agl_conflict_policy_from_string:
 * @text: a policy's name
 * @policy: (out): the policy
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: whether @text names a policy
 */
gboolean
agl_conflict_policy_from_string (const char         *text,
                                 AglConflictPolicy  *policy,
                                 GError            **error)
{
  for (guint i = 0; conflict_policies[i] != NULL; i++)
    if (g_strcmp0 (text, conflict_policies[i]) == 0)
      {
        *policy = (AglConflictPolicy) i;
        return TRUE;
      }
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a conflict policy; use exchange-wins, local-wins or newer-wins."),
               text != NULL ? text : "");
  return FALSE;
}

static gboolean
has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static gboolean
validate_email (const char *email,
                GError    **error)
{
  const char *at;

  if (email == NULL || *email == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("An e-mail address is required."));
      return FALSE;
    }

  at = strchr (email, '@');
  if (!g_utf8_validate (email, -1, NULL) ||
      has_control_characters (email) ||
      strpbrk (email, " \t<>\"(),;:") != NULL ||
      at == NULL || at == email || at[1] == '\0' ||
      strchr (at + 1, '@') != NULL ||
      strchr (at + 1, '.') == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an e-mail address such as anna@example.com."),
                   g_utf8_validate (email, -1, NULL) ? email : "?");
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_url (const char *url,
              GError    **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a URL: %s"), url, local_error->message);
      return FALSE;
    }

  /* Certificate checking is always on, so only https can be checked. */
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The EWS URL “%s” must start with https://; Agendaline only talks to Exchange over TLS."),
                   url);
      return FALSE;
    }

  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The EWS URL “%s” has no host name."), url);
      return FALSE;
    }

  if (g_uri_get_user (uri) != NULL || g_uri_get_password (uri) != NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The EWS URL must not contain a user name or password; use the account’s user and password settings."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_ca_file (const char *path,
                  GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  GList *certificates;

  if (!g_path_is_absolute (path))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The CA file “%s” must be given as an absolute path."), path);
      return FALSE;
    }

  certificates = g_tls_certificate_list_new_from_file (path, &local_error);
  if (local_error != NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The CA file “%s” cannot be used: %s"), path, local_error->message);
      return FALSE;
    }
  if (certificates == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The CA file “%s” holds no PEM certificate."), path);
      return FALSE;
    }
  g_list_free_full (certificates, g_object_unref);
  return TRUE;
}

/**
 * agl_account_new:
 *
 * Returns: (transfer full): an account with the defaults: autodiscover,
 *   NTLM, server version "auto", enabled.
 */
AglAccount *
agl_account_new (void)
{
  AglAccount *account = g_new0 (AglAccount, 1);

  account->autodiscover = TRUE;
  account->auth = g_strdup ("ntlm");
  account->server_version = g_strdup ("auto");
  account->enabled = TRUE;
  account->conflict_policy = AGL_CONFLICT_EXCHANGE_WINS;
  account->poll_interval = AGL_ACCOUNT_POLL_INTERVAL_DEFAULT;
  return account;
}

/**
 * agl_account_copy:
 * @account: an account
 *
 * Returns: (transfer full): a deep copy of @account.
 */
AglAccount *
agl_account_copy (const AglAccount *account)
{
  AglAccount *copy = g_new0 (AglAccount, 1);

  *copy = *account;
  copy->name = g_strdup (account->name);
  copy->email = g_strdup (account->email);
  copy->url = g_strdup (account->url);
  copy->auth = g_strdup (account->auth);
  copy->user = g_strdup (account->user);
  copy->domain = g_strdup (account->domain);
  copy->server_version = g_strdup (account->server_version);
  copy->ca_file = g_strdup (account->ca_file);
  copy->detected_server_version = g_strdup (account->detected_server_version);
  copy->server_build = g_strdup (account->server_build);
  return copy;
}

void
agl_account_free (AglAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->name);
  g_free (account->email);
  g_free (account->url);
  g_free (account->auth);
  g_free (account->user);
  g_free (account->domain);
  g_free (account->server_version);
  g_free (account->ca_file);
  g_free (account->detected_server_version);
  g_free (account->server_build);
  g_free (account);
}

/**
 * agl_account_validate_name:
 * @name: a proposed account name
 * @error: return location for an %AGL_ERROR_INVALID_ARGUMENT
 *
 * Account names are what users type on the command line: 1 to 64
 * characters of UTF-8, no control characters, not starting with "-".
 */
gboolean
agl_account_validate_name (const char *name,
                           GError    **error)
{
  if (name == NULL || *name == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("An account name is required."));
      return FALSE;
    }
  if (!g_utf8_validate (name, -1, NULL) || has_control_characters (name))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("An account name must be readable text without control characters."));
      return FALSE;
    }
  if (g_utf8_strlen (name, -1) > NAME_MAX_CHARS)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The account name “%s” is longer than %d characters."),
                   name, NAME_MAX_CHARS);
      return FALSE;
    }
  if (name[0] == '-')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("An account name must not start with “-”."));
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_account_validate:
 * @account: the settings to check
 * @error: return location for an %AGL_ERROR_INVALID_ARGUMENT naming the
 *   offending setting
 *
 * Checks a whole set of settings before it is stored, so that a bad one is
 * refused with a reason and never reaches the database.
 */
gboolean
agl_account_validate (const AglAccount *account,
                      GError          **error)
{
  if (!agl_account_validate_name (account->name, error))
    return FALSE;

  if (!validate_email (account->email, error))
    return FALSE;

  if (account->autodiscover && account->url != NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("Give either an EWS URL or autodiscover, not both."));
      return FALSE;
    }
  if (!account->autodiscover && account->url == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The account needs an EWS URL, or autodiscover to find one."));
      return FALSE;
    }
  if (account->url != NULL && !validate_url (account->url, error))
    return FALSE;

  if (account->auth == NULL || !g_strv_contains (auth_methods, account->auth))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an authentication method; use ntlm, basic or oauth2."),
                   account->auth ? account->auth : "");
      return FALSE;
    }

  if (account->user == NULL || *account->user == '\0' ||
      !g_utf8_validate (account->user, -1, NULL) ||
      has_control_characters (account->user))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The user name must be non-empty text without control characters."));
      return FALSE;
    }

  if (account->domain != NULL)
    {
      if (g_strcmp0 (account->auth, "ntlm") != 0)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("A domain applies only to NTLM authentication."));
          return FALSE;
        }
      if (*account->domain == '\0' || !g_utf8_validate (account->domain, -1, NULL) ||
          has_control_characters (account->domain) || strpbrk (account->domain, "\\/@ ") != NULL)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a Windows domain name."),
                       g_utf8_validate (account->domain, -1, NULL) ? account->domain : "?");
          return FALSE;
        }
    }

  if (account->server_version == NULL ||
      !g_strv_contains (server_versions, account->server_version))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a server version; use auto, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1 or Exchange2016."),
                   account->server_version ? account->server_version : "");
      return FALSE;
    }

  if (account->ca_file != NULL && !validate_ca_file (account->ca_file, error))
    return FALSE;

  if ((guint) account->conflict_policy >= G_N_ELEMENTS (conflict_policies) - 1)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The account’s conflict policy is not one of exchange-wins, local-wins or newer-wins."));
      return FALSE;
    }
  if (account->poll_interval < AGL_ACCOUNT_POLL_INTERVAL_MIN ||
      account->poll_interval > AGL_ACCOUNT_POLL_INTERVAL_MAX)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The poll interval must be between %u and %u seconds, not %u."),
                   AGL_ACCOUNT_POLL_INTERVAL_MIN, AGL_ACCOUNT_POLL_INTERVAL_MAX,
                   account->poll_interval);
      return FALSE;
    }

  return TRUE;
}
