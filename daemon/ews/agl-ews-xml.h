/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "agl-ews-error.h"

G_BEGIN_DECLS

#define AGL_EWS_NS_SOAP     "http://schemas.xmlsoap.org/soap/envelope/"
#define AGL_EWS_NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"
#define AGL_EWS_NS_MESSAGES "http://schemas.microsoft.com/exchange/services/2006/messages"
#define AGL_EWS_NS_ERRORS   "http://schemas.microsoft.com/exchange/services/2006/errors"
#define AGL_EWS_NS_AUTODISCOVER_REQUEST \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define AGL_EWS_NS_AUTODISCOVER_RESPONSE \
  "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define AGL_EWS_NS_AUTODISCOVER_OUTLOOK_RESPONSE \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

/* The largest response accepted unless the caller chooses otherwise.  A
 * parsed tree costs several times its XML size, so this also bounds memory. */
#define AGL_EWS_XML_DEFAULT_MAX_BYTES ((gsize) 32 * 1024 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

/**
 * AglEwsParser:
 *
 * An incremental, safe parser for one server response: no network access,
 * no DTD, no entities (a document with a DOCTYPE is refused), a hard cap on
 * the bytes fed, and libxml2's diagnostics kept in the #GError instead of
 * printed on stderr.
 */
typedef struct _AglEwsParser AglEwsParser;

AglEwsParser *agl_ews_parser_new    (gsize         max_bytes);
gboolean      agl_ews_parser_feed   (AglEwsParser *parser,
                                     const void   *data,
                                     gsize         len,
                                     GError      **error);
xmlDoc       *agl_ews_parser_finish (AglEwsParser *parser,
                                     GError      **error);
gsize         agl_ews_parser_get_bytes_fed (AglEwsParser *parser);
void          agl_ews_parser_free   (AglEwsParser *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsParser, agl_ews_parser_free)

xmlDoc       *agl_ews_xml_parse     (const void   *data,
                                     gsize         len,
                                     gsize         max_bytes,
                                     GError      **error);

/**
 * AglEwsServerVersion:
 * @major_version: MajorVersion, e.g. 15
 * @minor_version: MinorVersion, e.g. 1
 * @major_build: MajorBuildNumber, e.g. 2507
 * @minor_build: MinorBuildNumber, e.g. 39
 * @version: (nullable): the Version attribute ("Exchange2010_SP2", "V2_6");
 *   Exchange 2007 does not send it
 *
 * The ServerVersionInfo SOAP header of a response.
 */
typedef struct {
  int   major_version;
  int   minor_version;
  int   major_build;
  int   minor_build;
  char *version;
} AglEwsServerVersion;

void      agl_ews_server_version_clear (AglEwsServerVersion *version);

/**
 * AglEwsFault:
 * @faultcode: the faultcode text ("a:ErrorSchemaValidation")
 * @faultstring: the faultstring text
 * @response_code: (nullable): detail/ResponseCode, e.g. "ErrorSchemaValidation"
 * @message: (nullable): detail/Message
 * @line_number: MessageXml/LineNumber of a schema violation, or 0
 * @line_position: MessageXml/LinePosition, or 0
 * @violation: (nullable): MessageXml/Violation
 *
 * A soap:Fault as Exchange sends it with HTTP 500.
 */
typedef struct {
  char *faultcode;
  char *faultstring;
  char *response_code;
  char *message;
  int   line_number;
  int   line_position;
  char *violation;
} AglEwsFault;

void      agl_ews_fault_clear           (AglEwsFault *fault);
void      agl_ews_fault_read            (xmlNode     *fault_node,
                                         AglEwsFault *out_fault);
void      agl_ews_fault_set_error       (const AglEwsFault *fault,
                                         GError     **error);

gboolean  agl_ews_xml_read_server_version (xmlDoc              *doc,
                                           AglEwsServerVersion *out_version);
xmlNode  *agl_ews_xml_get_body_element  (xmlDoc      *doc,
                                         GError     **error);

gboolean  agl_ews_xml_node_is           (const xmlNode *node,
                                         const char    *ns_uri,
                                         const char    *name);
xmlNode  *agl_ews_xml_first_child       (const xmlNode *parent,
                                         const char    *ns_uri,
                                         const char    *name);
xmlNode  *agl_ews_xml_next_sibling      (const xmlNode *node,
                                         const char    *ns_uri,
                                         const char    *name);
xmlNode  *agl_ews_xml_child_path        (const xmlNode *parent,
                                         const char    *ns_uri,
                                         ...) G_GNUC_NULL_TERMINATED;
char     *agl_ews_xml_text              (const xmlNode *node);
char     *agl_ews_xml_child_text        (const xmlNode *parent,
                                         const char    *ns_uri,
                                         const char    *name);
char     *agl_ews_xml_attr              (const xmlNode *node,
                                         const char    *name);
gboolean  agl_ews_xml_parse_boolean     (const char    *text,
                                         gboolean      *out_value);
gboolean  agl_ews_xml_parse_int         (const char    *text,
                                         gint64         min,
                                         gint64         max,
                                         gint64        *out_value);
gint64    agl_ews_xml_read_back_off_ms  (const xmlNode *response_message);

G_END_DECLS
