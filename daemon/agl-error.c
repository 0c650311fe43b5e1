/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <gio/gio.h>

#include "agl-error.h"

static const GDBusErrorEntry agl_error_entries[] = {
  { AGL_ERROR_FAILED,            "io.github.agendaline.Error.Failed" },
  { AGL_ERROR_INVALID_ARGUMENT,  "io.github.agendaline.Error.InvalidArgument" },
  { AGL_ERROR_INVALID_CALENDAR,  "io.github.agendaline.Error.InvalidCalendar" },
  { AGL_ERROR_NOT_FOUND,         "io.github.agendaline.Error.NotFound" },
  { AGL_ERROR_EXISTS,            "io.github.agendaline.Error.Exists" },
  { AGL_ERROR_STORE_LOCKED,      "io.github.agendaline.Error.StoreLocked" },
  { AGL_ERROR_STORE_READ_ONLY,   "io.github.agendaline.Error.StoreReadOnly" },
  { AGL_ERROR_STORE_CORRUPT,     "io.github.agendaline.Error.StoreCorrupt" },
  { AGL_ERROR_STORE_FOREIGN,     "io.github.agendaline.Error.StoreForeign" },
  { AGL_ERROR_STORE_TOO_NEW,     "io.github.agendaline.Error.StoreTooNew" },
  { AGL_ERROR_SECRET,            "io.github.agendaline.Error.Secret" },
  { AGL_ERROR_CONFIRMATION_NEEDED, "io.github.agendaline.Error.ConfirmationNeeded" },
  { AGL_ERROR_REMOTE,            "io.github.agendaline.Error.Remote" },
  { AGL_ERROR_TIMED_OUT,         "io.github.agendaline.Error.TimedOut" },
};

/* Every AglError needs its D-Bus name, or it reaches clients as a generic
 * org.gtk.GDBus.UnmappedGError. */
G_STATIC_ASSERT (G_N_ELEMENTS (agl_error_entries) == AGL_ERROR_N_ERRORS);

GQuark
agl_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("agl-error-quark",
                                      &quark,
                                      agl_error_entries,
                                      G_N_ELEMENTS (agl_error_entries));
  return (GQuark) quark;
}
