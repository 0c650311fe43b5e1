/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * How fast the agenda store and the iCalendar checks are, and how much
 * memory they take, on a generated agenda of a busy user: N appointments
 * (a tenth of them weekly series) over two years.
 *
 *   meson test -C build-tests --benchmark --verbose
 *   build-tests/tests/bench/bench-store [N]
 *
 * Prints one line per measurement; nothing here asserts a time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "agl-event.h"
#include "agl-store.h"

static char *
make_vevent (guint i)
{
  /* Spread over two years from 2026-01-05, working hours, Oslo time. */
  guint day = (i * 7) % 730;
  guint hour = 8 + (i % 9);
  g_autoptr(GDateTime) base = g_date_time_new_utc (2026, 1, 5, 0, 0, 0);
  g_autoptr(GDateTime) start = g_date_time_add_full (base, 0, 0, day, hour, 0, 0);
  g_autofree char *dtstart = g_date_time_format (start, "%Y%m%dT%H%M%S");

  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:bench-%u@example.com\r\n"
                          "DTSTAMP:20261101T000000Z\r\n"
                          "DTSTART;TZID=Europe/Oslo:%s\r\nDURATION:PT45M\r\n"
                          "SUMMARY:Appointment %u with a customer\r\n"
                          "LOCATION:Room %u\r\n%s"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          i, dtstart, i, i % 40,
                          i % 10 == 0 ? "RRULE:FREQ=WEEKLY;COUNT=20\r\n" : "");
}

static double
seconds_since (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / 1e6;
}

static long
peak_rss_kib (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(AglStore) store = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_item_free);
  g_autoptr(GArray) created = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) updated = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  guint found = 0;
  gint64 t0;
  double elapsed;

  g_setenv ("TZ", "Europe/Oslo", TRUE);
  dir = g_dir_make_tmp ("agl-bench-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "agenda.db", NULL);

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = make_vevent (i);
      g_autoptr(AglEvent) event = agl_event_new_from_string (text, &error);

      g_assert_no_error (error);
      g_ptr_array_add (items, agl_event_to_item (event, NULL));
    }
  elapsed = seconds_since (t0);
  printf ("parse+check %u VEVENTs: %.3f s (%.1f µs each)\n", n, elapsed, elapsed * 1e6 / n);

  store = agl_store_open (path, &error);
  g_assert_no_error (error);

  t0 = g_get_monotonic_time ();
  agl_store_import_items (store, NULL, items, created, updated, NULL, NULL, &error);
  g_assert_no_error (error);
  elapsed = seconds_since (t0);
  printf ("import %u items in one transaction: %.3f s (%.1f µs each)\n", n, elapsed, elapsed * 1e6 / n);

  /* A week view, 100 times at different weeks. */
  t0 = g_get_monotonic_time ();
  for (guint w = 0; w < 100; w++)
    {
      gint64 from = 1767571200 + (gint64) w * 7 * 86400; /* 2026-01-05 */
      g_autoptr(GPtrArray) week = agl_store_list_items (store, NULL, from, from + 7 * 86400, &error);

      g_assert_no_error (error);
      found += week->len;
    }
  elapsed = seconds_since (t0);
  printf ("week query: %.3f ms each (%.1f items a week on average)\n", elapsed * 1e3 / 100, found / 100.0);

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(AglItem) item = agl_store_get_item (store, g_array_index (created, gint64, (i * 37) % n), &error);

      g_assert_no_error (error);
      g_free (item->summary);
      item->summary = g_strdup ("Changed");
      agl_store_update_item (store, item, &error);
      g_assert_no_error (error);
    }
  elapsed = seconds_since (t0);
  printf ("single update (own transaction, synchronous=FULL): %.3f ms each\n", elapsed * 1e3 / 200);

  g_clear_object (&store);
  t0 = g_get_monotonic_time ();
  store = agl_store_open (path, &error);
  g_assert_no_error (error);
  printf ("reopen (integrity quick_check included): %.3f ms\n", seconds_since (t0) * 1e3);

  {
    GStatBuf st;

    g_stat (path, &st);
    printf ("database size: %.1f MiB for %u items\n", st.st_size / 1048576.0, n);
  }
  printf ("peak RSS: %.1f MiB\n", peak_rss_kib () / 1024.0);

  g_clear_object (&store);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
    g_unlink (path);
    g_rmdir (dir);
  }
  return 0;
}
