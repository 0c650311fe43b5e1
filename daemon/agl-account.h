/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AglAccount:
 * @id: the store's row id (0 before it is stored)
 * @name: the user's name for the account, unique
 * @email: the mailbox's SMTP address
 * @url: the EWS URL (https), or %NULL when @autodiscover is set
 * @autodiscover: find the EWS URL from @email
 * @auth: "ntlm", "basic" or "oauth2"
 * @user: the user name to sign in with
 * @domain: the Windows domain for NTLM, or %NULL
 * @server_version: "auto" or an EWS RequestServerVersion
 * @ca_file: a PEM file of extra trusted CAs, or %NULL
 * @impersonate: sign in as @user (a service account) and act on the
 *   mailbox @email through ExchangeImpersonation
 * @enabled: whether the account syncs
 * @created: when the account was added, Unix time (seconds)
 * @detected_server_version: the RequestServerVersion the server was found
 *   to speak when @server_version is "auto", or %NULL until it is known;
 *   learnt from the server, never set by the user
 * @server_build: the server's build, e.g. "15.1.2507.39", or %NULL until
 *   known; learnt like @detected_server_version
 *
 * One Exchange account's settings, and what was learnt about its server.
 * The password is not here: it lives in the Secret Service (see
 * agl-secrets.h).
 */
typedef struct {
  gint64    id;
  char     *name;
  char     *email;
  char     *url;
  gboolean  autodiscover;
  char     *auth;
  char     *user;
  char     *domain;
  char     *server_version;
  char     *ca_file;
  gboolean  impersonate;
  gboolean  enabled;
  gint64    created;
  char     *detected_server_version;
  char     *server_build;
} AglAccount;

AglAccount *agl_account_new  (void);
AglAccount *agl_account_copy (const AglAccount *account);
void        agl_account_free (AglAccount *account);

gboolean    agl_account_validate_name (const char *name,
                                       GError    **error);
gboolean    agl_account_validate      (const AglAccount *account,
                                       GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglAccount, agl_account_free)

G_END_DECLS
