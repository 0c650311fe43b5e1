/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * AglConflictPolicy:
 * @AGL_CONFLICT_EXCHANGE_WINS: the version on Exchange wins (default)
 * @AGL_CONFLICT_LOCAL_WINS: the local version wins
 * @AGL_CONFLICT_NEWER_WINS: the version modified last wins; a tie goes to
 *   Exchange
 *
 * How an appointment changed on both sides since the last sync is settled.
 * The losing version is kept as a conflict record either way.
 */
typedef enum {
  AGL_CONFLICT_EXCHANGE_WINS,
  AGL_CONFLICT_LOCAL_WINS,
  AGL_CONFLICT_NEWER_WINS,
} AglConflictPolicy;

/* Seconds between polls when the server offers no notifications. */
#define AGL_ACCOUNT_POLL_INTERVAL_DEFAULT 60
#define AGL_ACCOUNT_POLL_INTERVAL_MIN     10
#define AGL_ACCOUNT_POLL_INTERVAL_MAX     86400

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
 * @conflict_policy: how conflicts are settled
 * @poll_interval: seconds between polls without notifications
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
  AglConflictPolicy conflict_policy;
  guint     poll_interval;
} AglAccount;

AglAccount *agl_account_new  (void);
AglAccount *agl_account_copy (const AglAccount *account);
void        agl_account_free (AglAccount *account);

gboolean    agl_account_validate_name (const char *name,
                                       GError    **error);
gboolean    agl_account_validate      (const AglAccount *account,
                                       GError          **error);

const char *agl_conflict_policy_to_string   (AglConflictPolicy  policy);
gboolean    agl_conflict_policy_from_string (const char        *text,
                                             AglConflictPolicy *policy,
                                             GError           **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglAccount, agl_account_free)

G_END_DECLS
