/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "agl-rules.h"

G_BEGIN_DECLS

/*
 * From an account's stored appointments to the occurrences the presence
 * rules (agl-rules.h) take: a pure function of (items, range, zone).
 */

void       agl_rules_input_occurrence_free (AglRulesOccurrence *occurrence);

GPtrArray *agl_rules_input_from_items      (GPtrArray          *items,
                                            const char         *user_address,
                                            gint64              from,
                                            gint64              to,
                                            GTimeZone          *zone,
                                            GError            **error);

GArray    *agl_rules_input_to_array        (GPtrArray          *occurrences);

G_END_DECLS
