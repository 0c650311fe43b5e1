/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-ctl.h"

G_BEGIN_DECLS

int agl_ctl_account_add     (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_list    (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_update  (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_remove  (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_enable  (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_disable (AglCtl *ctl,
                             int     argc,
                             char  **argv);
int agl_ctl_account_test    (AglCtl *ctl,
                             int     argc,
                             char  **argv);

G_END_DECLS
