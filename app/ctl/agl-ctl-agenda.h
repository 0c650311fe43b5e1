/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-ctl.h"

G_BEGIN_DECLS

int agl_ctl_agenda_list   (AglCtl *ctl,
                           int     argc,
                           char  **argv);
int agl_ctl_agenda_occurrences (AglCtl *ctl,
                                int     argc,
                                char  **argv);
int agl_ctl_agenda_add    (AglCtl *ctl,
                           int     argc,
                           char  **argv);
int agl_ctl_agenda_update (AglCtl *ctl,
                           int     argc,
                           char  **argv);
int agl_ctl_agenda_remove (AglCtl *ctl,
                           int     argc,
                           char  **argv);
int agl_ctl_agenda_import (AglCtl *ctl,
                           int     argc,
                           char  **argv);
int agl_ctl_agenda_export (AglCtl *ctl,
                           int     argc,
                           char  **argv);

G_END_DECLS
