/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-ctl.h"

G_BEGIN_DECLS

int agl_ctl_state   (AglCtl *ctl,
                     int     argc,
                     char  **argv);
int agl_ctl_monitor (AglCtl *ctl,
                     int     argc,
                     char  **argv);
int agl_ctl_version (AglCtl *ctl,
                     int     argc,
                     char  **argv);

G_END_DECLS
