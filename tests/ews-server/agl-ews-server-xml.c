/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "agl-ews-server-xml.h"

gboolean
agl_ews_xml_is (const xmlNode *node,
                const char    *ns,
                const char    *name)
{
  return node != NULL && node->type == XML_ELEMENT_NODE &&
         node->ns != NULL && g_strcmp0 ((const char *) node->ns->href, ns) == 0 &&
         g_strcmp0 ((const char *) node->name, name) == 0;
}

xmlNode *
agl_ews_xml_first_element (const xmlNode *parent)
{
  if (parent == NULL)
    return NULL;
  for (xmlNode *n = parent->children; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      return n;
  return NULL;
}

xmlNode *
agl_ews_xml_next_element (const xmlNode *node)
{
  for (xmlNode *n = node->next; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      return n;
  return NULL;
}

xmlNode *
agl_ews_xml_child (const xmlNode *parent,
                   const char    *ns,
                   const char    *name)
{
  for (xmlNode *n = agl_ews_xml_first_element (parent); n != NULL; n = agl_ews_xml_next_element (n))
    if (agl_ews_xml_is (n, ns, name))
      return n;
  return NULL;
}

char *
agl_ews_server_xml_text (const xmlNode *node)
{
  xmlChar *content;
  char *text;

  if (node == NULL)
    return NULL;
  content = xmlNodeGetContent (node);
  text = g_strstrip (g_strdup ((const char *) content));
  xmlFree (content);
  return text;
}

char *
agl_ews_server_xml_child_text (const xmlNode *parent,
                               const char    *ns,
                               const char    *name)
{
  return agl_ews_server_xml_text (agl_ews_xml_child (parent, ns, name));
}

char *
agl_ews_server_xml_attr (const xmlNode *node,
                         const char    *name)
{
  xmlChar *value;
  char *copy;

  if (node == NULL)
    return NULL;
  value = xmlGetNoNsProp (node, (const xmlChar *) name);
  copy = g_strdup ((const char *) value);
  xmlFree (value);
  return copy;
}

void
agl_ews_xml_escape (GString    *out,
                    const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    {
      switch (*p)
        {
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '&': g_string_append (out, "&amp;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        case '\r': g_string_append (out, "&#xD;"); break;
        default: g_string_append_c (out, *p); break;
        }
    }
}

/* Items are stored as the subtrees clients sent, whatever prefixes they
 * used; writing them back with the fixed "t:" prefix the response
 * envelope declares keeps every response in the shape Exchange sends. */
void
agl_ews_xml_write_node (GString       *out,
                        const xmlNode *node)
{
  const char *prefix;

  if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE)
    {
      agl_ews_xml_escape (out, (const char *) node->content);
      return;
    }
  if (node->type != XML_ELEMENT_NODE)
    return;

  if (node->ns != NULL && g_strcmp0 ((const char *) node->ns->href, AGL_EWS_NS_TYPES) == 0)
    prefix = "t:";
  else if (node->ns != NULL && g_strcmp0 ((const char *) node->ns->href, AGL_EWS_NS_MESSAGES) == 0)
    prefix = "m:";
  else
    return;

  g_string_append_printf (out, "<%s%s", prefix, (const char *) node->name);
  for (xmlAttr *a = node->properties; a != NULL; a = a->next)
    {
      xmlChar *value = xmlNodeListGetString (node->doc, a->children, 1);

      if (a->ns != NULL && g_strcmp0 ((const char *) a->ns->prefix, "xml") == 0)
        g_string_append (out, " xml:");
      else if (a->ns == NULL)
        g_string_append_c (out, ' ');
      else
        {
          xmlFree (value);
          continue;
        }
      g_string_append_printf (out, "%s=\"", (const char *) a->name);
      agl_ews_xml_escape (out, (const char *) value);
      g_string_append_c (out, '"');
      xmlFree (value);
    }
  if (node->children == NULL)
    {
      g_string_append (out, "/>");
      return;
    }
  g_string_append_c (out, '>');
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    agl_ews_xml_write_node (out, c);
  g_string_append_printf (out, "</%s%s>", prefix, (const char *) node->name);
}

void
agl_ews_xml_remove_children_named (xmlNode    *parent,
                                   const char *name)
{
  xmlNode *n = parent->children;

  while (n != NULL)
    {
      xmlNode *next = n->next;

      if (n->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) n->name, name) == 0)
        {
          xmlUnlinkNode (n);
          xmlFreeNode (n);
        }
      n = next;
    }
}

xmlNode *
agl_ews_xml_set_child_text (xmlNode    *parent,
                            xmlNs      *ns,
                            const char *name,
                            const char *text)
{
  xmlNode *child;

  agl_ews_xml_remove_children_named (parent, name);
  child = xmlNewChild (parent, ns, (const xmlChar *) name, NULL);
  /* xmlNodeAddContent takes the text literally; xmlNewChild's content
   * argument would interpret entity references in it. */
  if (text != NULL)
    xmlNodeAddContent (child, (const xmlChar *) text);
  return child;
}

char *
agl_ews_format_utc (gint64 unix_time)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}
