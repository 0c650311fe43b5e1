/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "agl-daemon-client.h"

G_BEGIN_DECLS

#define AGL_TYPE_PAGE (agl_page_get_type ())

G_DECLARE_DERIVABLE_TYPE (AglPage, agl_page, AGL, PAGE, AdwBin)

/**
 * AglPageClass:
 * @parent_class: the parent class
 * @client_changed: the "client" was set; a page connects here to the
 *   client's signals other than "ready", with itself as the data (AglPage
 *   disconnects them all at dispose).  Called before @client_ready.
 * @client_ready: the daemon is reachable: once when the client is set if
 *   it is ready already, and on each of the client's "ready" signals.
 * @account_changed: the "account" changed; called after the new value is
 *   stored and before the property is notified.
 *
 * What a page of the window does when the window gives it the daemon
 * client or chooses an account.  Every member may be %NULL.
 *
 * A page is a final type with its own template whose root is the
 * AdwBin's child: AglPage's dispose drops that child and then disposes
 * the template of the page's type.
 */
struct _AglPageClass
{
  AdwBinClass parent_class;

  void (*client_changed)  (AglPage *self);
  void (*client_ready)    (AglPage *self);
  void (*account_changed) (AglPage *self);
};

AglDaemonClient *agl_page_get_client  (AglPage *self);
const char      *agl_page_get_account (AglPage *self);

void             agl_page_set_account_quietly (AglPage    *self,
                                               const char *account);

G_END_DECLS
