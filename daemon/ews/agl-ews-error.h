/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "agl-ews-response-codes.h"

G_BEGIN_DECLS

#define AGL_EWS_ERROR (agl_ews_error_quark ())

#define AGL_EWS_ERROR_ENUM_ENTRY_(sym, name) AGL_EWS_ERROR_##sym,

/**
 * AglEwsError:
 *
 * Every ResponseCodeType value of the EWS schema, in schema order
 * (AGL_EWS_ERROR_NO_ERROR, AGL_EWS_ERROR_ITEM_NOT_FOUND for
 * "ErrorItemNotFound", ...; see agl-ews-response-codes.h), followed by the
 * failures Agendaline detects itself before an EWS ResponseCode exists:
 *
 * @AGL_EWS_ERROR_SOAP_FAULT: a SOAP fault without a known ResponseCode
 * @AGL_EWS_ERROR_HTTP_STATUS: an HTTP status other than 200 without a SOAP body
 * @AGL_EWS_ERROR_INVALID_RESPONSE: malformed XML, a DOCTYPE, or XML that is
 *   not the expected EWS response
 * @AGL_EWS_ERROR_RESPONSE_TOO_LARGE: the response passed the size cap
 * @AGL_EWS_ERROR_UNAUTHORIZED: the server refused the credentials (HTTP 401)
 * @AGL_EWS_ERROR_AUTODISCOVER: Autodiscover answered with an Error element
 *
 * The errors cross the bus as io.github.agendaline.EwsError.<Name>, where
 * Name is the schema's own name ("ErrorItemNotFound") or the transport
 * code's name ("SoapFault").
 */
typedef enum {
  AGL_EWS_RESPONSE_CODES (AGL_EWS_ERROR_ENUM_ENTRY_)
  AGL_EWS_ERROR_SOAP_FAULT,
  AGL_EWS_ERROR_HTTP_STATUS,
  AGL_EWS_ERROR_INVALID_RESPONSE,
  AGL_EWS_ERROR_RESPONSE_TOO_LARGE,
  AGL_EWS_ERROR_UNAUTHORIZED,
  AGL_EWS_ERROR_AUTODISCOVER,
} AglEwsError;

#define AGL_EWS_ERROR_N_ERRORS (AGL_EWS_ERROR_AUTODISCOVER + 1)

GQuark      agl_ews_error_quark           (void);

const char *agl_ews_error_code_name       (AglEwsError code);
gboolean    agl_ews_error_code_from_name  (const char  *name,
                                           AglEwsError *out_code);
gboolean    agl_ews_error_code_is_transient (AglEwsError code);
gboolean    agl_ews_error_is_transient    (const GError *error);
void        agl_ews_error_set             (GError     **error,
                                           AglEwsError  code,
                                           const char  *message_text);

G_END_DECLS
