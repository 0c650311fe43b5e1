/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "agl-ews-error.h"

#define AGL_EWS_ERROR_DBUS_PREFIX "io.github.agendaline.EwsError."

#define DBUS_ENTRY_(sym, name) { AGL_EWS_ERROR_##sym, AGL_EWS_ERROR_DBUS_PREFIX name },

static const GDBusErrorEntry agl_ews_error_entries[] = {
  AGL_EWS_RESPONSE_CODES (DBUS_ENTRY_)
  { AGL_EWS_ERROR_SOAP_FAULT,         AGL_EWS_ERROR_DBUS_PREFIX "SoapFault" },
  { AGL_EWS_ERROR_HTTP_STATUS,        AGL_EWS_ERROR_DBUS_PREFIX "HttpStatus" },
  { AGL_EWS_ERROR_INVALID_RESPONSE,   AGL_EWS_ERROR_DBUS_PREFIX "InvalidResponse" },
  { AGL_EWS_ERROR_RESPONSE_TOO_LARGE, AGL_EWS_ERROR_DBUS_PREFIX "ResponseTooLarge" },
  { AGL_EWS_ERROR_UNAUTHORIZED,       AGL_EWS_ERROR_DBUS_PREFIX "Unauthorized" },
  { AGL_EWS_ERROR_AUTODISCOVER,       AGL_EWS_ERROR_DBUS_PREFIX "Autodiscover" },
};

/* Every code needs its D-Bus name, or it reaches clients as a generic
 * org.gtk.GDBus.UnmappedGError; and the generated list must be complete. */
G_STATIC_ASSERT (G_N_ELEMENTS (agl_ews_error_entries) == AGL_EWS_ERROR_N_ERRORS);
G_STATIC_ASSERT (AGL_EWS_ERROR_SOAP_FAULT == AGL_EWS_RESPONSE_CODE_COUNT);

/* Codes after which the same request may succeed later: the server (or a
 * proxy or mailbox database behind it) was busy or briefly unreachable. */
static const AglEwsError transient_codes[] = {
  AGL_EWS_ERROR_SERVER_BUSY,
  AGL_EWS_ERROR_TIMEOUT_EXPIRED,
  AGL_EWS_ERROR_INTERNAL_SERVER_TRANSIENT_ERROR,
  AGL_EWS_ERROR_MAILBOX_STORE_UNAVAILABLE,
  AGL_EWS_ERROR_CONNECTION_FAILED,
  AGL_EWS_ERROR_MAILBOX_MOVE_IN_PROGRESS,
  AGL_EWS_ERROR_MAILBOX_FAILOVER,
  AGL_EWS_ERROR_TOO_MANY_OBJECTS_OPENED,
  AGL_EWS_ERROR_EXCEEDED_CONNECTION_COUNT,
  AGL_EWS_ERROR_PROXY_CALL_FAILED,
  AGL_EWS_ERROR_BATCH_PROCESSING_STOPPED,
};

/**
 * agl_ews_error_quark:
 *
 * Registers the domain with GDBus on first use, so the errors keep their
 * code when they cross the bus.
 *
 * Returns: the #AGL_EWS_ERROR domain
 */
GQuark
agl_ews_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("agl-ews-error-quark",
                                      &quark,
                                      agl_ews_error_entries,
                                      G_N_ELEMENTS (agl_ews_error_entries));
  return (GQuark) quark;
}

/**
 * agl_ews_error_code_name:
 * @code: an #AglEwsError
 *
 * Returns: (transfer none) (nullable): the code's EWS name, e.g.
 *   "ErrorItemNotFound" or "SoapFault"; %NULL for a value outside the enum
 */
const char *
agl_ews_error_code_name (AglEwsError code)
{
  if ((guint) code >= AGL_EWS_ERROR_N_ERRORS)
    return NULL;
  /* The table is in enum order (static assert above). */
  return agl_ews_error_entries[code].dbus_error_name + strlen (AGL_EWS_ERROR_DBUS_PREFIX);
}

static gpointer
build_name_table (gpointer data)
{
  GHashTable *table = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < G_N_ELEMENTS (agl_ews_error_entries); i++)
    g_hash_table_insert (table,
                         (gpointer) agl_ews_error_code_name (agl_ews_error_entries[i].error_code),
                         GUINT_TO_POINTER (agl_ews_error_entries[i].error_code));
  return table;
}

/**
 * agl_ews_error_code_from_name:
 * @name: an EWS ResponseCode such as "ErrorServerBusy", or a transport code name
 * @out_code: (out) (optional): the matching code
 *
 * Returns: %TRUE if @name is known; the match is exact (EWS names are
 *   case-sensitive on the wire)
 */
gboolean
agl_ews_error_code_from_name (const char  *name,
                              AglEwsError *out_code)
{
  static GOnce once = G_ONCE_INIT;
  GHashTable *table;
  gpointer value;

  if (name == NULL)
    return FALSE;
  table = g_once (&once, build_name_table, NULL);
  if (!g_hash_table_lookup_extended (table, name, NULL, &value))
    return FALSE;
  if (out_code != NULL)
    *out_code = GPOINTER_TO_UINT (value);
  return TRUE;
}

/**
 * agl_ews_error_code_is_transient:
 * @code: an #AglEwsError
 *
 * Returns: %TRUE when retrying the same request later may succeed
 */
gboolean
agl_ews_error_code_is_transient (AglEwsError code)
{
  for (guint i = 0; i < G_N_ELEMENTS (transient_codes); i++)
    if (transient_codes[i] == code)
      return TRUE;
  return FALSE;
}

/**
 * agl_ews_error_is_transient:
 * @error: (nullable): any error
 *
 * Returns: %TRUE for an #AGL_EWS_ERROR whose code is transient
 */
gboolean
agl_ews_error_is_transient (const GError *error)
{
  return error != NULL && error->domain == AGL_EWS_ERROR &&
         agl_ews_error_code_is_transient (error->code);
}

/**
 * agl_ews_error_set:
 * @error: (out) (optional): where to store the error
 * @code: the EWS code
 * @message_text: (nullable): the server's MessageText
 *
 * Sets an #AGL_EWS_ERROR whose message starts with the code's name, so logs
 * and bug reports can be matched against Microsoft's documentation:
 * "ErrorItemNotFound: The specified object was not found in the store."
 * The server's text is kept as sent (it is in the server's language).
 */
void
agl_ews_error_set (GError     **error,
                   AglEwsError  code,
                   const char  *message_text)
{
  const char *name = agl_ews_error_code_name (code);

  if (name == NULL)
    name = "?";
  if (message_text != NULL && *message_text != '\0')
    g_set_error (error, AGL_EWS_ERROR, code, "%s: %s", name, message_text);
  else
    g_set_error_literal (error, AGL_EWS_ERROR, code, name);
}
