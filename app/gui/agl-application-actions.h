/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-application.h"

G_BEGIN_DECLS

void _agl_application_actions_init (AglApplication *self);

G_END_DECLS
