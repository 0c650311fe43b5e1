/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "agl-store.h"
#include "agl-sync-engine.h"

G_BEGIN_DECLS

/**
 * AglSyncVerifyLeg:
 * @AGL_SYNC_VERIFY_LOCAL_TO_EXCHANGE: created here, seen on Exchange
 * @AGL_SYNC_VERIFY_EXCHANGE_TO_LOCAL: changed on Exchange, seen here
 * @AGL_SYNC_VERIFY_DELETE: deleted here, gone on Exchange
 */
typedef enum {
  AGL_SYNC_VERIFY_LOCAL_TO_EXCHANGE,
  AGL_SYNC_VERIFY_EXCHANGE_TO_LOCAL,
  AGL_SYNC_VERIFY_DELETE,
  AGL_SYNC_VERIFY_N_LEGS,
} AglSyncVerifyLeg;

/**
 * AglSyncVerifyResult:
 * @uid: the test appointment's UID
 * @seconds: the time of each leg
 */
typedef struct {
  char   *uid;
  double  seconds[AGL_SYNC_VERIFY_N_LEGS];
} AglSyncVerifyResult;

void agl_sync_verify_result_free (AglSyncVerifyResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglSyncVerifyResult, agl_sync_verify_result_free)

/* Called as each leg completes. */
typedef void (*AglSyncVerifyProgress) (AglSyncVerifyLeg leg,
                                       double           seconds,
                                       gpointer         user_data);

const char          *agl_sync_verify_leg_name (AglSyncVerifyLeg       leg);
void                 agl_sync_verify_async    (AglStore              *store,
                                               AglSyncEngine         *engine,
                                               guint                  timeout_seconds,
                                               AglSyncVerifyProgress  progress,
                                               gpointer               progress_data,
                                               GCancellable          *cancellable,
                                               GAsyncReadyCallback    callback,
                                               gpointer               user_data);
AglSyncVerifyResult *agl_sync_verify_finish   (GAsyncResult          *result,
                                               GError               **error);

G_END_DECLS
