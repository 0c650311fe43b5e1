/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "agl-ctl.h"

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* AGENDALINE_LOCALEDIR: the translations of a build tree that is not
   * installed (the tests run the programs in other languages with it). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("AGENDALINE_LOCALEDIR") != NULL
                                  ? g_getenv ("AGENDALINE_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  return agl_ctl_run (argc, argv);
}
