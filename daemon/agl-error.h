/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AGL_ERROR (agl_error_quark ())

/**
 * AglError:
 * @AGL_ERROR_FAILED: anything not covered below
 * @AGL_ERROR_INVALID_ARGUMENT: a method argument or setting is not acceptable
 * @AGL_ERROR_INVALID_CALENDAR: iCalendar text that is not a usable appointment
 * @AGL_ERROR_NOT_FOUND: no account or appointment of that name or id
 * @AGL_ERROR_EXISTS: an account name or appointment UID already in use
 * @AGL_ERROR_STORE_LOCKED: another process holds the database locked
 * @AGL_ERROR_STORE_READ_ONLY: the database cannot be written
 * @AGL_ERROR_STORE_CORRUPT: the database file is damaged
 * @AGL_ERROR_STORE_FOREIGN: the file is not an Agendaline database
 * @AGL_ERROR_STORE_TOO_NEW: the database was written by a newer Agendaline
 * @AGL_ERROR_SECRET: the password could not be stored or read
 * @AGL_ERROR_CONFIRMATION_NEEDED: the change needs the user's confirmation
 *   (the message says what it would do)
 * @AGL_ERROR_REMOTE: Exchange could not be reached or refused the request
 * @AGL_ERROR_TIMED_OUT: an operation did not finish in its time
 *
 * The daemon's errors.  They cross the bus as io.github.agendaline.Error.*
 * (see data/io.github.agendaline.Daemon.xml); their messages are sentences a
 * user can act on.
 */
typedef enum {
  AGL_ERROR_FAILED,
  AGL_ERROR_INVALID_ARGUMENT,
  AGL_ERROR_INVALID_CALENDAR,
  AGL_ERROR_NOT_FOUND,
  AGL_ERROR_EXISTS,
  AGL_ERROR_STORE_LOCKED,
  AGL_ERROR_STORE_READ_ONLY,
  AGL_ERROR_STORE_CORRUPT,
  AGL_ERROR_STORE_FOREIGN,
  AGL_ERROR_STORE_TOO_NEW,
  AGL_ERROR_SECRET,
  AGL_ERROR_CONFIRMATION_NEEDED,
  AGL_ERROR_REMOTE,
  AGL_ERROR_TIMED_OUT,
} AglError;

#define AGL_ERROR_N_ERRORS (AGL_ERROR_TIMED_OUT + 1)

GQuark agl_error_quark (void);

G_END_DECLS
