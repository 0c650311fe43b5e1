/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-ctl.h"

G_BEGIN_DECLS

int agl_ctl_sync              (AglCtl *ctl,
                               int     argc,
                               char  **argv);
int agl_ctl_connections       (AglCtl *ctl,
                               int     argc,
                               char  **argv);
int agl_ctl_log               (AglCtl *ctl,
                               int     argc,
                               char  **argv);
int agl_ctl_verify            (AglCtl *ctl,
                               int     argc,
                               char  **argv);
int agl_ctl_conflicts_list    (AglCtl *ctl,
                               int     argc,
                               char  **argv);
int agl_ctl_conflicts_restore (AglCtl *ctl,
                               int     argc,
                               char  **argv);

G_END_DECLS
