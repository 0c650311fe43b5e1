/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-ctl.h"

G_BEGIN_DECLS

int agl_ctl_status     (AglCtl *ctl,
                        int     argc,
                        char  **argv);
int agl_ctl_schedule   (AglCtl *ctl,
                        int     argc,
                        char  **argv);
int agl_ctl_override   (AglCtl *ctl,
                        int     argc,
                        char  **argv);
int agl_ctl_rules_show (AglCtl *ctl,
                        int     argc,
                        char  **argv);
int agl_ctl_rules_set  (AglCtl *ctl,
                        int     argc,
                        char  **argv);

G_END_DECLS
