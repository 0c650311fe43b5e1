/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

#define AGL_EWS_NS_SOAP     "http://schemas.xmlsoap.org/soap/envelope/"
#define AGL_EWS_NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"
#define AGL_EWS_NS_MESSAGES "http://schemas.microsoft.com/exchange/services/2006/messages"
#define AGL_EWS_NS_ERRORS   "http://schemas.microsoft.com/exchange/services/2006/errors"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

gboolean  agl_ews_xml_is      (const xmlNode *node,
                               const char    *ns,
                               const char    *name);
xmlNode  *agl_ews_xml_child   (const xmlNode *parent,
                               const char    *ns,
                               const char    *name);
xmlNode  *agl_ews_xml_first_element (const xmlNode *parent);
xmlNode  *agl_ews_xml_next_element  (const xmlNode *node);
char     *agl_ews_server_xml_text    (const xmlNode *node);
char     *agl_ews_server_xml_child_text (const xmlNode *parent,
                                         const char    *ns,
                                         const char    *name);
char     *agl_ews_server_xml_attr    (const xmlNode *node,
                                      const char    *name);
void      agl_ews_xml_escape  (GString       *out,
                               const char    *text);
void      agl_ews_xml_write_node (GString       *out,
                                  const xmlNode *node);
xmlNode  *agl_ews_xml_set_child_text (xmlNode    *parent,
                                      xmlNs      *ns,
                                      const char *name,
                                      const char *text);
void      agl_ews_xml_remove_children_named (xmlNode    *parent,
                                             const char *name);
char     *agl_ews_format_utc  (gint64 unix_time);

G_END_DECLS
