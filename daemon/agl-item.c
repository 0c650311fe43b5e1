/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "agl-item.h"

/**
 * agl_item_new:
 *
 * Returns: (transfer full): an empty item, to be filled in.
 */
AglItem *
agl_item_new (void)
{
  return g_new0 (AglItem, 1);
}

/**
 * agl_item_copy:
 * @item: an item
 *
 * Returns: (transfer full): a deep copy of @item.
 */
AglItem *
agl_item_copy (const AglItem *item)
{
  AglItem *copy = g_new0 (AglItem, 1);

  *copy = *item;
  copy->account = g_strdup (item->account);
  copy->uid = g_strdup (item->uid);
  copy->summary = g_strdup (item->summary);
  copy->ical = g_strdup (item->ical);
  return copy;
}

void
agl_item_free (AglItem *item)
{
  if (item == NULL)
    return;
  g_free (item->account);
  g_free (item->uid);
  g_free (item->summary);
  g_free (item->ical);
  g_free (item);
}
