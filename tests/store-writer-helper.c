/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

/*
 * store-writer-helper DB-PATH ACCOUNT N
 *
 * Opens the store at DB-PATH and imports N appointments into ACCOUNT ("" for
 * the local-only agenda) in one transaction.  Half way, inside that
 * transaction, it prints "mid-transaction" and stops for good, so that
 * test-store can kill it with SIGKILL at a known instant and check that the
 * store comes back as it was before the import.
 *
 * store-writer-helper --apply DB-PATH ACCOUNT N
 *
 * The same for the sync engine's write: applies a page of N remote upserts
 * (remote ids "helper-R<i>") with the sync state "S-helper" for the identity
 * HELPER_IDENTITY, and stops half way through that transaction.
 */

#include <stdio.h>
#include <unistd.h>

#include "agl-store.h"

/* Each item carries this much text, so that half of the import is more than
 * SQLite's page cache holds: the uncommitted pages then really are in the
 * -wal file when the process dies, not only in memory. */
#define PADDING_BYTES 1024

#define HELPER_IDENTITY "https://helper/EWS anna@example.com"

static void
progress_cb (guint    done,
             guint    total,
             gpointer user_data)
{
  if (done != total / 2)
    return;

  fputs ("mid-transaction\n", stdout);
  fflush (stdout);
  /* Stay inside the transaction until the test kills us. */
  for (;;)
    pause ();
}

static AglItem *
make_item (const char *account,
           guint       index)
{
  g_autofree char *padding = g_strnfill (PADDING_BYTES, 'x');
  AglItem *item = agl_item_new ();

  item->account = g_strdup (account);
  item->uid = g_strdup_printf ("helper-%u@agendaline.test", index);
  item->summary = g_strdup_printf ("Imported %u", index);
  /* One hour each, one a day from 2026-01-01T09:00Z. */
  item->start = G_GINT64_CONSTANT (1767258000) + (gint64) index * 86400;
  item->end = item->start + 3600;
  item->range_end = item->end;
  item->ical = g_strdup_printf ("BEGIN:VCALENDAR\r\n"
                                "VERSION:2.0\r\n"
                                "PRODID:-//Agendaline//store-writer-helper//EN\r\n"
                                "BEGIN:VEVENT\r\n"
                                "UID:%s\r\n"
                                "DTSTAMP:20260101T000000Z\r\n"
                                "DTSTART:%s\r\n"
                                "SUMMARY:%s\r\n"
                                "DESCRIPTION:%s\r\n"
                                "END:VEVENT\r\n"
                                "END:VCALENDAR\r\n",
                                item->uid, "20260101T090000Z", item->summary, padding);
  return item;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GPtrArray) items = NULL;
  const char *account;
  gboolean apply = FALSE;
  guint64 n;

  if (argc > 1 && g_strcmp0 (argv[1], "--apply") == 0)
    {
      apply = TRUE;
      argv++;
      argc--;
    }

  if (argc != 4 ||
      !g_ascii_string_to_unsigned (argv[3], 10, 2, G_MAXUINT, &n, &error))
    {
      g_printerr ("Usage: %s [--apply] DB-PATH ACCOUNT N (N >= 2)%s%s\n", argv[0],
                  error != NULL ? ": " : "", error != NULL ? error->message : "");
      return 2;
    }
  account = *argv[2] != '\0' ? argv[2] : NULL;

  store = agl_store_open (argv[1], &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, make_item (account, i));

  if (apply)
    {
      g_autoptr(AglRemoteChangeSet) page = agl_remote_change_set_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autofree char *remote_id = g_strdup_printf ("helper-R%u", i);

          agl_remote_change_set_add_upsert (page, g_ptr_array_index (items, i),
                                            remote_id, "CK-helper");
        }
      if (!agl_store_apply_remote_changes (store, account, HELPER_IDENTITY, page,
                                           "S-helper", NULL, NULL,
                                           progress_cb, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  else if (!agl_store_import_items (store, account, items, NULL, NULL,
                                    progress_cb, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  /* Not reached: progress_cb() never returns half way. */
  puts ("committed");
  return 0;
}
