/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The structured log field that names the account a line is about. */
#define AGL_LOG_FIELD_ACCOUNT "AGL_ACCOUNT"

/**
 * AglLogLine:
 * @time: when it was logged (UTC, with microseconds)
 * @level: "error", "warning", "message", "info" or "debug"
 * @account: the account it is about, or "" when none
 * @message: the message
 *
 * One line of the daemon's log, as GetLog and LogLine carry it.
 */
typedef struct {
  GDateTime *time;
  char      *level;
  char      *account;
  char      *message;
} AglLogLine;

#define AGL_TYPE_LOG_LINE (agl_log_line_get_type ())

GType       agl_log_line_get_type     (void) G_GNUC_CONST;
AglLogLine *agl_log_line_copy         (const AglLogLine *line);
void        agl_log_line_free         (AglLogLine       *line);
char       *agl_log_line_format_time  (const AglLogLine *line);
GVariant   *agl_log_line_to_variant   (const AglLogLine *line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglLogLine, agl_log_line_free)

#define AGL_TYPE_LOG (agl_log_get_type ())

G_DECLARE_FINAL_TYPE (AglLog, agl_log, AGL, LOG, GObject)

AglLog     *agl_log_new               (guint             capacity);
void        agl_log_install           (AglLog           *self);
void        agl_log_write             (AglLog           *self,
                                       GLogLevelFlags    log_level,
                                       const GLogField  *fields,
                                       gsize             n_fields);
GPtrArray  *agl_log_get_lines         (AglLog           *self,
                                       guint             max);

void        agl_log_account_full      (const char       *domain,
                                       GLogLevelFlags    log_level,
                                       const char       *file,
                                       const char       *line,
                                       const char       *func,
                                       const char       *account,
                                       const char       *format,
                                       ...) G_GNUC_PRINTF (7, 8);

/**
 * agl_log_account:
 * @level: a #GLogLevelFlags, e.g. %G_LOG_LEVEL_MESSAGE
 * @account: (nullable): the account's name
 * @...: a printf() format and its arguments
 *
 * Logs like g_message() and friends, in the caller's G_LOG_DOMAIN, with the
 * AGL_ACCOUNT field that `agendalinectl log` shows in brackets.
 */
#define agl_log_account(level, account, ...) \
  agl_log_account_full (G_LOG_DOMAIN, (level), __FILE__, G_STRINGIFY (__LINE__), G_STRFUNC, \
                        (account), __VA_ARGS__)

G_END_DECLS
