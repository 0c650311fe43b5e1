/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A real presence server for the SIP tests (tests/test-publish-sip.c,
 * tests/test-publish-sip-daemon.c): Kamailio from Debian, configured by
 * tests/kamailio/kamailio.cfg, started in the foreground on a free UDP port
 * of 127.0.0.1 with its SQLite database in a scratch directory, which the
 * tests read to see the presentities it stored.  See tests/kamailio/README.md.
 *
 * The programs name the configuration's directory in the environment:
 * AGL_TEST_KAMAILIO_CFG_DIR (and AGL_TEST_KAMAILIO_SQL for Kamailio's
 * schema files, /usr/share/kamailio/db_sqlite when unset).  Every wait runs
 * the main loop, with a timeout.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  char        *dir;       /* the scratch directory, Kamailio's working directory */
  char        *db_path;   /* presence.db, in write-ahead-log mode */
  char        *log_path;  /* Kamailio's stdout and stderr */
  guint16      port;
  char        *server;    /* "sip:127.0.0.1:PORT" */
  GSubprocess *process;   /* NULL when Kamailio is not installed */
  gboolean     exited;
} AglKamailioHarness;

gboolean  agl_kamailio_harness_run_until            (gboolean           *done,
                                                     guint               timeout_ms);
guint16   agl_kamailio_harness_pick_free_udp_port   (GSocket           **keep);

gboolean  agl_kamailio_harness_start                (AglKamailioHarness *k,
                                                     const char         *password,
                                                     const char         *define);
void      agl_kamailio_harness_stop                 (AglKamailioHarness *k);
void      agl_kamailio_harness_dump_log             (AglKamailioHarness *k);
guint     agl_kamailio_harness_count_in_log         (AglKamailioHarness *k,
                                                     const char         *needle);
gboolean  agl_kamailio_harness_wait_for_log         (AglKamailioHarness *k,
                                                     const char         *needle,
                                                     guint               count,
                                                     guint               timeout_ms);

guint     agl_kamailio_harness_read_presentity      (AglKamailioHarness *k,
                                                     const char         *user,
                                                     const char         *domain,
                                                     char              **body,
                                                     gint64             *expires);
void      agl_kamailio_harness_delete_presentities  (AglKamailioHarness *k);
char     *agl_kamailio_harness_wait_for_presentity  (AglKamailioHarness *k,
                                                     const char         *user,
                                                     const char         *domain,
                                                     const char         *previous,
                                                     guint               timeout_ms,
                                                     gint64             *seen_at);
gboolean  agl_kamailio_harness_wait_for_expiry      (AglKamailioHarness *k,
                                                     const char         *user,
                                                     const char         *domain,
                                                     gint64              from,
                                                     gint64              to,
                                                     guint               timeout_ms);
gboolean  agl_kamailio_harness_wait_for_withdrawal  (AglKamailioHarness *k,
                                                     const char         *user,
                                                     const char         *domain,
                                                     guint               timeout_ms);

G_END_DECLS
