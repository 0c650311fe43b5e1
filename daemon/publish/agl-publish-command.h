/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "agl-publisher.h"

G_BEGIN_DECLS

/*
 * A command hook: each status runs a program (no shell) with the status
 * as JSON on its standard input and in environment variables, besides the
 * daemon's own:
 *   AGL_ACCOUNT           the account's name
 *   AGL_AT                the instant of the status, ISO 8601 UTC
 *   AGL_PRESENCE          available, busy, dnd, away or out-of-office
 *   AGL_ACTION            the phone action: none, dnd, forward or divert
 *   AGL_FORWARD_INTERNAL  true or false
 *   AGL_REASON            the diversion reason code, or empty
 *   AGL_TEXT              the status text, or empty
 *   AGL_UNTIL             when the status is next expected to change,
 *                         ISO 8601 UTC, or empty
 * Settings, the "publishers.command" object of the rules:
 *   "argv"     the program (an absolute path) and its arguments (required)
 *   "timeout"  (optional) seconds, 1 to 300; 10 when absent
 * The program runs in "/" with its standard output discarded, in a process
 * group of its own.  Exit status 0 is a delivery.  Another status, a signal or the timeout
 * (SIGTERM to the program's process group, SIGKILL 2 s later) is a
 * failure whose message names the program and the cause, with the last
 * line the program wrote on its standard error.
 */

#define AGL_TYPE_PUBLISH_COMMAND (agl_publish_command_get_type ())
G_DECLARE_FINAL_TYPE (AglPublishCommand, agl_publish_command, AGL, PUBLISH_COMMAND, AglPublisher)

gboolean      agl_publish_command_check_config (JsonObject  *config,
                                                const char  *path,
                                                GError     **error);
AglPublisher *agl_publish_command_new          (JsonObject  *config,
                                                GError     **error);

G_END_DECLS
