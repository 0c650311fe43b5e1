/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "agl-cancellable.h"

/*
 * Each view of the app fetches from the daemon with a cancellable of its
 * own: a newer fetch cancels the older one, so answers cannot land out of
 * order, and dispose cancels whatever is still on its way.
 */

/**
 * agl_cancellable_restart:
 * @cancellable: where a view keeps its fetch's cancellable
 *
 * Cancels the fetch under way, if any, and starts a new cancellable.
 *
 * Returns: (transfer none): the new cancellable, owned by @cancellable
 */
GCancellable *
agl_cancellable_restart (GCancellable **cancellable)
{
  g_return_val_if_fail (cancellable != NULL, NULL);

  agl_cancellable_drop (cancellable);
  *cancellable = g_cancellable_new ();
  return *cancellable;
}

/**
 * agl_cancellable_drop:
 * @cancellable: where a view keeps its fetch's cancellable
 *
 * Cancels the fetch under way, if any, and forgets its cancellable.
 */
void
agl_cancellable_drop (GCancellable **cancellable)
{
  g_return_if_fail (cancellable != NULL);

  if (*cancellable != NULL)
    g_cancellable_cancel (*cancellable);
  g_clear_object (cancellable);
}

/**
 * agl_error_is_cancelled:
 * @error: (nullable): an error from a fetch
 *
 * Returns: whether the fetch was cancelled (nothing to show)
 */
gboolean
agl_error_is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}
