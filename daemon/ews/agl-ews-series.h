/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <libical/ical.h>

#include "agl-ews-connection.h"
#include "agl-ews-request.h"
#include "agl-windows-zones.h"

G_BEGIN_DECLS

/*
 * The exceptions of a recurring series on Exchange.  A VCALENDAR carries
 * them as RECURRENCE-ID overrides and EXDATEs; Exchange keeps them as
 * changed and deleted occurrences of the master, reached with an
 * OccurrenceItemId (the master's id and the occurrence's InstanceIndex)
 * once the master exists.  A plan is what has to happen to the occurrences
 * to go from one VCALENDAR to another; it is made before anything is sent,
 * so that an event Exchange cannot take is refused whole.
 */

typedef struct _AglEwsSeriesPlan AglEwsSeriesPlan;

/**
 * AglEwsSeriesResult:
 * @change_key: (nullable): the master's ChangeKey after the occurrence
 *   steps (changing an occurrence changes the master's), %NULL when it
 *   could not be read back
 * @error: (nullable): the occurrence steps that failed, each named with
 *   its RECURRENCE-ID; the other steps were made
 */
typedef struct {
  char   *change_key;
  GError *error;
} AglEwsSeriesResult;

guint              agl_ews_series_instance_index   (icalcomponent      *vcalendar,
                                                    AglWindowsZones    *zones,
                                                    icalproperty       *occurrence,
                                                    GError            **error);

AglEwsSeriesPlan  *agl_ews_series_plan_new         (icalcomponent      *old_vcalendar,
                                                    icalcomponent      *new_vcalendar,
                                                    AglWindowsZones    *zones,
                                                    GError            **error);
void               agl_ews_series_plan_free        (AglEwsSeriesPlan   *plan);
gboolean           agl_ews_series_plan_is_empty    (AglEwsSeriesPlan   *plan);
guint              agl_ews_series_plan_get_n_updates (AglEwsSeriesPlan *plan);
guint              agl_ews_series_plan_get_n_deletes (AglEwsSeriesPlan *plan);
guint              agl_ews_series_plan_get_index   (AglEwsSeriesPlan   *plan,
                                                    gboolean            deletes,
                                                    guint               i);

void               agl_ews_series_apply_async      (AglEwsConnection   *connection,
                                                    const char         *master_id,
                                                    AglEwsSeriesPlan   *plan,
                                                    AglEwsSendMode      send_updates,
                                                    AglEwsSendMode      send_cancellations,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
AglEwsSeriesResult *agl_ews_series_apply_finish    (AglEwsConnection   *connection,
                                                    GAsyncResult       *result,
                                                    GError            **error);
void               agl_ews_series_result_free      (AglEwsSeriesResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsSeriesPlan, agl_ews_series_plan_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsSeriesResult, agl_ews_series_result_free)

G_END_DECLS
