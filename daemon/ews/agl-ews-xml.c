/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "agl-ews-xml.h"

/* libxml2 wants at least four bytes before it guesses the encoding (BOM or
 * "<?xm"); the first bytes are held back until then. */
#define HEAD_BYTES 4
/* xmlParseChunk takes an int length. */
#define MAX_CHUNK ((gsize) 1024 * 1024)
/* A tree costs far more than its text when nodes are dense (an element with
 * two attributes in 30 bytes takes about a kilobyte), so the byte cap alone
 * would let 32 MiB of XML take 350 MiB.  The parser also stops after
 * max_bytes / NODE_BUDGET_DIVISOR nodes (elements, attributes, text runs,
 * comments): 131072 for the default cap, which keeps the tree within about
 * 40 MiB and is still fifty times what a 512-change SyncFolderItems page or
 * a 100-item GetItem batch needs. */
#define NODE_BUDGET_DIVISOR 256
#define MIN_NODE_BUDGET 4096

struct _AglEwsParser {
  xmlParserCtxtPtr ctxt;
  gsize            max_bytes;
  gsize            fed;
  gsize            max_nodes;
  gsize            nodes;
  guint8           head[HEAD_BYTES];
  gsize            head_len;
  GError          *error;        /* the first failure; every later call repeats it */
  char            *xml_error;    /* libxml2's first diagnostic, for the message */
  int              xml_error_line;
  gboolean         too_many_nodes;
  gboolean         doctype_seen;
  gboolean         finished;

  /* libxml2's own tree builders, called after counting. */
  startElementNsSAX2Func       start_element_ns;
  charactersSAXFunc            characters;
  ignorableWhitespaceSAXFunc   ignorable_whitespace;
  cdataBlockSAXFunc            cdata_block;
  commentSAXFunc               comment;
  processingInstructionSAXFunc processing_instruction;
};

static void
record_structured_error_cb (void       *user_data,
                            xmlErrorPtr xml_error)
{
  xmlParserCtxtPtr ctxt = user_data;
  AglEwsParser *self = ctxt != NULL ? ctxt->_private : NULL;

  if (self == NULL || self->xml_error != NULL || xml_error == NULL)
    return;
  if (xml_error->level < XML_ERR_ERROR)
    return;
  self->xml_error = g_strstrip (g_strdup (xml_error->message != NULL ? xml_error->message : "?"));
  self->xml_error_line = xml_error->line;
}

/* Used while libxml2 runs on behalf of this parser, for the few diagnostics
 * it raises without a parser context: they go nowhere instead of stderr. */
static void
ignore_structured_error_cb (void       *user_data,
                            xmlErrorPtr xml_error)
{
}

/* Exchange never sends a DOCTYPE.  Refusing it at the first sign means no
 * entity declaration (billion laughs, external entities) is ever read. */
static void
internal_subset_cb (void          *user_data,
                    const xmlChar *name,
                    const xmlChar *external_id,
                    const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = user_data;
  AglEwsParser *self = ctxt->_private;

  self->doctype_seen = TRUE;
  xmlStopParser (ctxt);
}

static void
entity_decl_cb (void          *user_data,
                const xmlChar *name,
                int            type,
                const xmlChar *public_id,
                const xmlChar *system_id,
                xmlChar       *content)
{
  xmlParserCtxtPtr ctxt = user_data;
  AglEwsParser *self = ctxt->_private;

  self->doctype_seen = TRUE;
  xmlStopParser (ctxt);
}

static xmlParserInputPtr
resolve_entity_cb (void          *user_data,
                   const xmlChar *public_id,
                   const xmlChar *system_id)
{
  /* Nothing outside the response is ever read. */
  return NULL;
}

/* Counts nodes about to be built; past the budget the parse stops. */
static gboolean
count_nodes (xmlParserCtxtPtr ctxt,
             gsize            n)
{
  AglEwsParser *self = ctxt->_private;

  self->nodes += n;
  if (self->nodes <= self->max_nodes)
    return TRUE;
  if (!self->too_many_nodes)
    {
      self->too_many_nodes = TRUE;
      xmlStopParser (ctxt);
    }
  return FALSE;
}

static void
start_element_ns_cb (void           *user_data,
                     const xmlChar  *localname,
                     const xmlChar  *prefix,
                     const xmlChar  *uri,
                     int             nb_namespaces,
                     const xmlChar **namespaces,
                     int             nb_attributes,
                     int             nb_defaulted,
                     const xmlChar **attributes)
{
  xmlParserCtxtPtr ctxt = user_data;
  AglEwsParser *self = ctxt->_private;

  /* An attribute is a node plus its value's text node. */
  if (count_nodes (ctxt, 1 + 2 * (gsize) MAX (nb_attributes, 0) + (gsize) MAX (nb_namespaces, 0)))
    self->start_element_ns (user_data, localname, prefix, uri, nb_namespaces, namespaces,
                            nb_attributes, nb_defaulted, attributes);
}

/* Text arrives in runs of a few hundred bytes; runs that extend the text
 * node just built cost no new node. */
static gboolean
continues_text (xmlParserCtxtPtr ctxt)
{
  return ctxt->node != NULL && ctxt->node->last != NULL &&
         ctxt->node->last->type == XML_TEXT_NODE;
}

static void
characters_cb (void          *user_data,
               const xmlChar *ch,
               int            len)
{
  xmlParserCtxtPtr ctxt = user_data;

  if (count_nodes (ctxt, continues_text (ctxt) ? 0 : 1))
    ((AglEwsParser *) ctxt->_private)->characters (user_data, ch, len);
}

static void
ignorable_whitespace_cb (void          *user_data,
                         const xmlChar *ch,
                         int            len)
{
  xmlParserCtxtPtr ctxt = user_data;

  if (count_nodes (ctxt, continues_text (ctxt) ? 0 : 1))
    ((AglEwsParser *) ctxt->_private)->ignorable_whitespace (user_data, ch, len);
}

static void
cdata_block_cb (void          *user_data,
                const xmlChar *value,
                int            len)
{
  xmlParserCtxtPtr ctxt = user_data;

  if (count_nodes (ctxt, 1))
    ((AglEwsParser *) ctxt->_private)->cdata_block (user_data, value, len);
}

static void
comment_cb (void          *user_data,
            const xmlChar *value)
{
  xmlParserCtxtPtr ctxt = user_data;

  if (count_nodes (ctxt, 1))
    ((AglEwsParser *) ctxt->_private)->comment (user_data, value);
}

static void
processing_instruction_cb (void          *user_data,
                           const xmlChar *target,
                           const xmlChar *data)
{
  xmlParserCtxtPtr ctxt = user_data;

  if (count_nodes (ctxt, 1))
    ((AglEwsParser *) ctxt->_private)->processing_instruction (user_data, target, data);
}

static void
drop_context (AglEwsParser *self)
{
  if (self->ctxt == NULL)
    return;
  if (self->ctxt->myDoc != NULL)
    {
      xmlFreeDoc (self->ctxt->myDoc);
      self->ctxt->myDoc = NULL;
    }
  xmlFreeParserCtxt (self->ctxt);
  self->ctxt = NULL;
}

static gboolean
fail (AglEwsParser *self,
      AglEwsError   code,
      const char   *message,
      GError      **error)
{
  if (self->error == NULL)
    agl_ews_error_set (&self->error, code, message);
  /* Free the partial tree at once: memory is released as soon as the
   * response is known to be bad, not when the caller frees the parser. */
  drop_context (self);
  if (error != NULL)
    *error = g_error_copy (self->error);
  return FALSE;
}

static gboolean
fail_malformed (AglEwsParser *self,
                GError      **error)
{
  g_autofree char *message = NULL;

  if (self->too_many_nodes)
    {
      message = g_strdup_printf (_("The server’s response has more than %zu XML nodes "
                                   "and was not read."), self->max_nodes);
      return fail (self, AGL_EWS_ERROR_RESPONSE_TOO_LARGE, message, error);
    }
  if (self->doctype_seen)
    message = g_strdup (_("The server’s response contains a document type declaration; "
                          "Exchange never sends one, so the response is refused."));
  else if (self->xml_error != NULL)
    message = g_strdup_printf (_("The server’s response is not well-formed XML "
                                 "(line %d: %s)."),
                               self->xml_error_line, self->xml_error);
  else
    message = g_strdup (_("The server’s response is not well-formed XML."));
  return fail (self, AGL_EWS_ERROR_INVALID_RESPONSE, message, error);
}

static gboolean
create_context (AglEwsParser *self,
                GError      **error)
{
  xmlParserCtxtPtr ctxt;

  ctxt = xmlCreatePushParserCtxt (NULL, NULL, (const char *) self->head, (int) self->head_len,
                                  "ews-response.xml");
  if (ctxt == NULL)
    return fail (self, AGL_EWS_ERROR_INVALID_RESPONSE,
                 _("The XML parser could not be created."), error);

  /* Never XML_PARSE_NOENT (entity substitution) nor XML_PARSE_DTDLOAD;
   * NONET as a second guard.  Blanks are kept: MessageText and bodies are
   * read as sent. */
  xmlCtxtUseOptions (ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  ctxt->_private = self;
  ctxt->sax->serror = record_structured_error_cb;
  ctxt->sax->internalSubset = internal_subset_cb;
  ctxt->sax->externalSubset = internal_subset_cb;
  ctxt->sax->entityDecl = entity_decl_cb;
  ctxt->sax->resolveEntity = resolve_entity_cb;

  /* SAX2 is what xmlCreatePushParserCtxt installs; the asserts keep the
   * counting honest should that ever change. */
  g_assert (ctxt->sax->startElementNs != NULL && ctxt->sax->characters != NULL);
  self->start_element_ns = ctxt->sax->startElementNs;
  self->characters = ctxt->sax->characters;
  self->ignorable_whitespace = ctxt->sax->ignorableWhitespace;
  self->cdata_block = ctxt->sax->cdataBlock;
  self->comment = ctxt->sax->comment;
  self->processing_instruction = ctxt->sax->processingInstruction;
  ctxt->sax->startElementNs = start_element_ns_cb;
  ctxt->sax->characters = characters_cb;
  if (self->ignorable_whitespace != NULL)
    ctxt->sax->ignorableWhitespace = ignorable_whitespace_cb;
  if (self->cdata_block != NULL)
    ctxt->sax->cdataBlock = cdata_block_cb;
  if (self->comment != NULL)
    ctxt->sax->comment = comment_cb;
  if (self->processing_instruction != NULL)
    ctxt->sax->processingInstruction = processing_instruction_cb;
  self->ctxt = ctxt;
  return TRUE;
}

static gboolean
parse_chunk (AglEwsParser *self,
             const guint8 *data,
             gsize         len,
             gboolean      terminate,
             GError      **error)
{
  xmlStructuredErrorFunc saved_handler = xmlStructuredError;
  void *saved_context = xmlStructuredErrorContext;
  gboolean ok = TRUE;

  xmlSetStructuredErrorFunc (NULL, ignore_structured_error_cb);
  do
    {
      gsize n = MIN (len, MAX_CHUNK);
      int rc;

      rc = xmlParseChunk (self->ctxt, (const char *) data, (int) n,
                          terminate && n == len ? 1 : 0);
      if (rc != 0 || self->doctype_seen || self->too_many_nodes || !self->ctxt->wellFormed)
        {
          ok = FALSE;
          break;
        }
      if (n == len)
        break;
      data += n;
      len -= n;
    }
  while (TRUE);
  xmlSetStructuredErrorFunc (saved_context, saved_handler);

  if (!ok)
    return fail_malformed (self, error);
  return TRUE;
}

/**
 * agl_ews_parser_new:
 * @max_bytes: the most bytes accepted, or 0 for %AGL_EWS_XML_DEFAULT_MAX_BYTES;
 *   the tree is also limited to @max_bytes / 256 nodes (at least 4096), so
 *   memory stays bounded however dense the XML
 *
 * Returns: (transfer full): a parser for one response; feed it the HTTP body
 *   as it arrives and call agl_ews_parser_finish() at its end
 */
AglEwsParser *
agl_ews_parser_new (gsize max_bytes)
{
  AglEwsParser *self = g_new0 (AglEwsParser, 1);

  self->max_bytes = max_bytes > 0 ? max_bytes : AGL_EWS_XML_DEFAULT_MAX_BYTES;
  self->max_nodes = MAX (self->max_bytes / NODE_BUDGET_DIVISOR, MIN_NODE_BUDGET);
  return self;
}

/**
 * agl_ews_parser_feed:
 * @parser: an #AglEwsParser
 * @data: (array length=len): the next bytes of the response
 * @len: their number
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Parses the bytes as far as they go.  Past the size cap the parse stops
 * with %AGL_EWS_ERROR_RESPONSE_TOO_LARGE and the partial tree is freed;
 * malformed XML or a DOCTYPE fails with %AGL_EWS_ERROR_INVALID_RESPONSE.
 * After a failure every call fails the same way.
 *
 * Returns: %FALSE once the response is known to be unusable
 */
gboolean
agl_ews_parser_feed (AglEwsParser *parser,
                     const void   *data,
                     gsize         len,
                     GError      **error)
{
  const guint8 *p = data;

  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (!parser->finished, FALSE);

  if (parser->error != NULL)
    {
      g_propagate_error (error, g_error_copy (parser->error));
      return FALSE;
    }
  if (len > parser->max_bytes - parser->fed)
    {
      g_autofree char *size = g_format_size_full (parser->max_bytes, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *message =
        g_strdup_printf (_("The server’s response is larger than %s and was not read."), size);
      return fail (parser, AGL_EWS_ERROR_RESPONSE_TOO_LARGE, message, error);
    }
  parser->fed += len;

  if (parser->ctxt == NULL)
    {
      gsize take = MIN (HEAD_BYTES - parser->head_len, len);

      memcpy (parser->head + parser->head_len, p, take);
      parser->head_len += take;
      p += take;
      len -= take;
      if (parser->head_len < HEAD_BYTES)
        return TRUE;
      if (!create_context (parser, error))
        return FALSE;
    }
  if (len == 0)
    return TRUE;
  return parse_chunk (parser, p, len, FALSE, error);
}

/**
 * agl_ews_parser_finish:
 * @parser: an #AglEwsParser
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Ends the response: the document must be complete and well-formed.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL with @error set
 */
xmlDoc *
agl_ews_parser_finish (AglEwsParser *parser,
                       GError      **error)
{
  xmlDoc *doc;

  g_return_val_if_fail (parser != NULL, NULL);
  g_return_val_if_fail (!parser->finished, NULL);

  parser->finished = TRUE;
  if (parser->error != NULL)
    {
      g_propagate_error (error, g_error_copy (parser->error));
      return NULL;
    }
  if (parser->fed == 0)
    {
      fail (parser, AGL_EWS_ERROR_INVALID_RESPONSE, _("The server’s response is empty."), error);
      return NULL;
    }
  if (parser->ctxt == NULL && !create_context (parser, error))
    return NULL;
  if (!parse_chunk (parser, NULL, 0, TRUE, error))
    return NULL;
  if (parser->ctxt->myDoc == NULL || xmlDocGetRootElement (parser->ctxt->myDoc) == NULL)
    {
      fail_malformed (parser, error);
      return NULL;
    }

  doc = parser->ctxt->myDoc;
  parser->ctxt->myDoc = NULL;
  drop_context (parser);
  return doc;
}

/**
 * agl_ews_parser_get_bytes_fed:
 * @parser: an #AglEwsParser
 *
 * Returns: the bytes accepted so far (counted against the cap)
 */
gsize
agl_ews_parser_get_bytes_fed (AglEwsParser *parser)
{
  g_return_val_if_fail (parser != NULL, 0);
  return parser->fed;
}

/**
 * agl_ews_parser_free:
 * @parser: (nullable) (transfer full): an #AglEwsParser
 *
 * Frees the parser and any partial document.
 */
void
agl_ews_parser_free (AglEwsParser *parser)
{
  if (parser == NULL)
    return;
  drop_context (parser);
  g_clear_error (&parser->error);
  g_free (parser->xml_error);
  g_free (parser);
}

/**
 * agl_ews_xml_parse:
 * @data: (array length=len): a whole response
 * @len: its length
 * @max_bytes: the cap, or 0 for the default
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Parses a response held in memory with the same rules as #AglEwsParser.
 *
 * Returns: (transfer full) (nullable): the document
 */
xmlDoc *
agl_ews_xml_parse (const void *data,
                   gsize       len,
                   gsize       max_bytes,
                   GError    **error)
{
  g_autoptr(AglEwsParser) parser = agl_ews_parser_new (max_bytes);

  if (!agl_ews_parser_feed (parser, data, len, error))
    return NULL;
  return agl_ews_parser_finish (parser, error);
}

/* Reading helpers */

/**
 * agl_ews_xml_node_is:
 * @node: (nullable): a node
 * @ns_uri: (nullable): the namespace URI, or %NULL for any namespace
 * @name: (nullable): the local name, or %NULL for any element
 *
 * Matches by namespace URI and local name, never by prefix: servers choose
 * prefixes freely (t:, h:, a default namespace).
 *
 * Returns: %TRUE if @node is such an element
 */
gboolean
agl_ews_xml_node_is (const xmlNode *node,
                     const char    *ns_uri,
                     const char    *name)
{
  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return FALSE;
  if (name != NULL && g_strcmp0 ((const char *) node->name, name) != 0)
    return FALSE;
  if (ns_uri != NULL &&
      (node->ns == NULL || g_strcmp0 ((const char *) node->ns->href, ns_uri) != 0))
    return FALSE;
  return TRUE;
}

/**
 * agl_ews_xml_next_sibling:
 * @node: (nullable): a node
 * @ns_uri: (nullable): namespace URI, %NULL for any
 * @name: (nullable): local name, %NULL for any
 *
 * Returns: (transfer none) (nullable): the next matching element after @node
 */
xmlNode *
agl_ews_xml_next_sibling (const xmlNode *node,
                          const char    *ns_uri,
                          const char    *name)
{
  if (node == NULL)
    return NULL;
  for (xmlNode *n = node->next; n != NULL; n = n->next)
    if (agl_ews_xml_node_is (n, ns_uri, name))
      return n;
  return NULL;
}

/**
 * agl_ews_xml_first_child:
 * @parent: (nullable): an element
 * @ns_uri: (nullable): namespace URI, %NULL for any
 * @name: (nullable): local name, %NULL for any element
 *
 * Returns: (transfer none) (nullable): the first matching child element
 */
xmlNode *
agl_ews_xml_first_child (const xmlNode *parent,
                         const char    *ns_uri,
                         const char    *name)
{
  if (parent == NULL)
    return NULL;
  for (xmlNode *n = parent->children; n != NULL; n = n->next)
    if (agl_ews_xml_node_is (n, ns_uri, name))
      return n;
  return NULL;
}

/**
 * agl_ews_xml_child_path:
 * @parent: (nullable): an element
 * @ns_uri: the namespace of the first step
 * @...: its local name, then (namespace, name) pairs, ending with %NULL
 *
 * Follows first matching children: child_path (msg, M, "RootFolder", T,
 * "Items", NULL).
 *
 * Returns: (transfer none) (nullable): the element at the end of the path
 */
xmlNode *
agl_ews_xml_child_path (const xmlNode *parent,
                        const char    *ns_uri,
                        ...)
{
  const xmlNode *node = parent;
  const char *ns = ns_uri;
  va_list args;

  va_start (args, ns_uri);
  while (node != NULL && ns != NULL)
    {
      const char *name = va_arg (args, const char *);

      node = agl_ews_xml_first_child (node, ns, name);
      ns = va_arg (args, const char *);
    }
  va_end (args);
  return (xmlNode *) node;
}

/**
 * agl_ews_xml_text:
 * @node: (nullable): an element
 *
 * Returns: (transfer full) (nullable): its text content, as sent
 */
char *
agl_ews_xml_text (const xmlNode *node)
{
  xmlChar *content;
  char *text;

  if (node == NULL)
    return NULL;
  content = xmlNodeGetContent (node);
  if (content == NULL)
    return g_strdup ("");
  text = g_strdup ((const char *) content);
  xmlFree (content);
  return text;
}

/**
 * agl_ews_xml_child_text:
 * @parent: (nullable): an element
 * @ns_uri: (nullable): the child's namespace URI
 * @name: the child's local name
 *
 * Returns: (transfer full) (nullable): the first such child's text, or %NULL
 *   when there is no such child
 */
char *
agl_ews_xml_child_text (const xmlNode *parent,
                        const char    *ns_uri,
                        const char    *name)
{
  return agl_ews_xml_text (agl_ews_xml_first_child (parent, ns_uri, name));
}

/**
 * agl_ews_xml_attr:
 * @node: (nullable): an element
 * @name: an attribute name without namespace (as EWS uses them)
 *
 * Returns: (transfer full) (nullable): the attribute's value
 */
char *
agl_ews_xml_attr (const xmlNode *node,
                  const char    *name)
{
  xmlChar *value;
  char *text;

  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return NULL;
  value = xmlGetNoNsProp (node, (const xmlChar *) name);
  if (value == NULL)
    return NULL;
  text = g_strdup ((const char *) value);
  xmlFree (value);
  return text;
}

/**
 * agl_ews_xml_parse_boolean:
 * @text: (nullable): an xs:boolean as sent
 * @out_value: (out): the value
 *
 * Returns: %TRUE if @text is "true", "false", "1" or "0" (surrounding
 *   white space allowed, as XML Schema collapses it)
 */
gboolean
agl_ews_xml_parse_boolean (const char *text,
                           gboolean   *out_value)
{
  g_autofree char *copy = NULL;

  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  if (g_str_equal (copy, "true") || g_str_equal (copy, "1"))
    *out_value = TRUE;
  else if (g_str_equal (copy, "false") || g_str_equal (copy, "0"))
    *out_value = FALSE;
  else
    return FALSE;
  return TRUE;
}

/**
 * agl_ews_xml_parse_int:
 * @text: (nullable): a decimal integer as sent
 * @min: the smallest acceptable value
 * @max: the largest acceptable value
 * @out_value: (out): the value
 *
 * Returns: %TRUE if @text is an integer in [@min, @max]
 */
gboolean
agl_ews_xml_parse_int (const char *text,
                       gint64      min,
                       gint64      max,
                       gint64     *out_value)
{
  g_autofree char *copy = NULL;

  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  return g_ascii_string_to_signed (copy, 10, min, max, out_value, NULL);
}

static xmlNode *
find_message_xml (const xmlNode *node)
{
  xmlNode *found;

  found = agl_ews_xml_first_child (node, AGL_EWS_NS_MESSAGES, "MessageXml");
  if (found == NULL)
    found = agl_ews_xml_first_child (node, AGL_EWS_NS_TYPES, "MessageXml");
  if (found == NULL && agl_ews_xml_node_is (node, AGL_EWS_NS_SOAP, "Fault"))
    {
      /* <detail> is unqualified in SOAP 1.1 faults. */
      for (xmlNode *n = node->children; n != NULL && found == NULL; n = n->next)
        if (agl_ews_xml_node_is (n, NULL, "detail"))
          found = agl_ews_xml_first_child (n, AGL_EWS_NS_TYPES, "MessageXml");
    }
  return found;
}

/**
 * agl_ews_xml_read_back_off_ms:
 * @response_message: (nullable): a ResponseMessage element (or a soap:Fault)
 *
 * ErrorServerBusy carries how long the client must wait in
 * MessageXml/Value[@Name="BackOffMilliseconds"].
 *
 * Returns: the milliseconds to wait, or -1 when the message gives none
 */
gint64
agl_ews_xml_read_back_off_ms (const xmlNode *response_message)
{
  xmlNode *message_xml = find_message_xml (response_message);

  for (xmlNode *value = agl_ews_xml_first_child (message_xml, AGL_EWS_NS_TYPES, "Value");
       value != NULL;
       value = agl_ews_xml_next_sibling (value, AGL_EWS_NS_TYPES, "Value"))
    {
      g_autofree char *name = agl_ews_xml_attr (value, "Name");
      g_autofree char *text = NULL;
      gint64 ms;

      if (g_strcmp0 (name, "BackOffMilliseconds") != 0)
        continue;
      text = agl_ews_xml_text (value);
      if (agl_ews_xml_parse_int (text, 0, G_MAXINT32, &ms))
        return ms;
    }
  return -1;
}

/* SOAP envelope */

static xmlNode *
envelope_child (xmlDoc     *doc,
                const char *name)
{
  xmlNode *root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;

  if (!agl_ews_xml_node_is (root, AGL_EWS_NS_SOAP, "Envelope"))
    return NULL;
  return agl_ews_xml_first_child (root, AGL_EWS_NS_SOAP, name);
}

/**
 * agl_ews_server_version_clear:
 * @version: an #AglEwsServerVersion
 *
 * Frees the strings of @version and zeroes it.
 */
void
agl_ews_server_version_clear (AglEwsServerVersion *version)
{
  g_clear_pointer (&version->version, g_free);
  memset (version, 0, sizeof *version);
}

static int
read_int_attr (const xmlNode *node,
               const char    *name)
{
  g_autofree char *text = agl_ews_xml_attr (node, name);
  gint64 value;

  if (!agl_ews_xml_parse_int (text, 0, G_MAXINT32, &value))
    return 0;
  return (int) value;
}

/**
 * agl_ews_xml_read_server_version:
 * @doc: a parsed response
 * @out_version: (out caller-allocates): filled in when found; clear it with
 *   agl_ews_server_version_clear()
 *
 * Reads the ServerVersionInfo SOAP header, which Exchange sends with every
 * response (the client learns the version to request from it).
 *
 * Returns: %TRUE if the header is present with a MajorVersion
 */
gboolean
agl_ews_xml_read_server_version (xmlDoc              *doc,
                                 AglEwsServerVersion *out_version)
{
  xmlNode *info = agl_ews_xml_first_child (envelope_child (doc, "Header"),
                                           AGL_EWS_NS_TYPES, "ServerVersionInfo");

  memset (out_version, 0, sizeof *out_version);
  if (info == NULL)
    return FALSE;
  out_version->major_version = read_int_attr (info, "MajorVersion");
  out_version->minor_version = read_int_attr (info, "MinorVersion");
  out_version->major_build = read_int_attr (info, "MajorBuildNumber");
  out_version->minor_build = read_int_attr (info, "MinorBuildNumber");
  out_version->version = agl_ews_xml_attr (info, "Version");
  return out_version->major_version > 0;
}

/**
 * agl_ews_fault_clear:
 * @fault: an #AglEwsFault
 *
 * Frees the strings of @fault and zeroes it.
 */
void
agl_ews_fault_clear (AglEwsFault *fault)
{
  g_free (fault->faultcode);
  g_free (fault->faultstring);
  g_free (fault->response_code);
  g_free (fault->message);
  g_free (fault->violation);
  memset (fault, 0, sizeof *fault);
}

/**
 * agl_ews_fault_read:
 * @fault_node: a soap:Fault element
 * @out_fault: (out caller-allocates): its contents; clear with agl_ews_fault_clear()
 *
 * Reads a fault as Exchange writes it: faultcode/faultstring unqualified,
 * detail with e:ResponseCode, e:Message and t:MessageXml (LineNumber,
 * LinePosition, Violation for ErrorSchemaValidation).
 */
void
agl_ews_fault_read (xmlNode     *fault_node,
                    AglEwsFault *out_fault)
{
  xmlNode *detail;
  xmlNode *message_xml;
  gint64 value;

  memset (out_fault, 0, sizeof *out_fault);
  out_fault->faultcode = agl_ews_xml_child_text (fault_node, NULL, "faultcode");
  out_fault->faultstring = agl_ews_xml_child_text (fault_node, NULL, "faultstring");
  detail = agl_ews_xml_first_child (fault_node, NULL, "detail");
  out_fault->response_code = agl_ews_xml_child_text (detail, AGL_EWS_NS_ERRORS, "ResponseCode");
  out_fault->message = agl_ews_xml_child_text (detail, AGL_EWS_NS_ERRORS, "Message");
  message_xml = agl_ews_xml_first_child (detail, AGL_EWS_NS_TYPES, "MessageXml");
  if (message_xml != NULL)
    {
      g_autofree char *line = agl_ews_xml_child_text (message_xml, AGL_EWS_NS_TYPES, "LineNumber");
      g_autofree char *pos = agl_ews_xml_child_text (message_xml, AGL_EWS_NS_TYPES, "LinePosition");

      if (agl_ews_xml_parse_int (line, 0, G_MAXINT32, &value))
        out_fault->line_number = (int) value;
      if (agl_ews_xml_parse_int (pos, 0, G_MAXINT32, &value))
        out_fault->line_position = (int) value;
      out_fault->violation = agl_ews_xml_child_text (message_xml, AGL_EWS_NS_TYPES, "Violation");
    }
  if (out_fault->response_code != NULL)
    g_strstrip (out_fault->response_code);
}

/**
 * agl_ews_fault_set_error:
 * @fault: a fault read with agl_ews_fault_read()
 * @error: return location
 *
 * Sets the fault's ResponseCode as an #AGL_EWS_ERROR (from detail, else from
 * the local part of faultcode), or %AGL_EWS_ERROR_SOAP_FAULT for a fault
 * that names no known code.  The message keeps the server's text and, for a
 * schema violation, where in the request it was.
 */
void
agl_ews_fault_set_error (const AglEwsFault *fault,
                         GError           **error)
{
  AglEwsError code = AGL_EWS_ERROR_SOAP_FAULT;
  const char *text;
  g_autofree char *message = NULL;

  if (!agl_ews_error_code_from_name (fault->response_code, &code) &&
      fault->faultcode != NULL)
    {
      const char *colon = strrchr (fault->faultcode, ':');

      if (!agl_ews_error_code_from_name (colon != NULL ? colon + 1 : fault->faultcode, &code))
        code = AGL_EWS_ERROR_SOAP_FAULT;
    }
  if (code == AGL_EWS_ERROR_NO_ERROR)
    code = AGL_EWS_ERROR_SOAP_FAULT;

  text = fault->faultstring != NULL && *fault->faultstring != '\0' ? fault->faultstring
                                                                    : fault->message;
  if (code == AGL_EWS_ERROR_SOAP_FAULT && fault->faultcode != NULL)
    message = g_strdup_printf ("%s: %s", fault->faultcode, text != NULL ? text : "");
  else if (fault->line_number > 0)
    message = g_strdup_printf ("%s (line %d, position %d)", text != NULL ? text : "",
                               fault->line_number, fault->line_position);
  else
    message = g_strdup (text);
  agl_ews_error_set (error, code, message);
}

/**
 * agl_ews_xml_get_body_element:
 * @doc: a parsed response
 * @error: return location for an #AGL_EWS_ERROR
 *
 * Finds the one element inside soap:Body.  A soap:Fault there becomes the
 * error (its ResponseCode, e.g. ErrorSchemaValidation).
 *
 * Returns: (transfer none) (nullable): the response element, e.g.
 *   m:GetFolderResponse
 */
xmlNode *
agl_ews_xml_get_body_element (xmlDoc  *doc,
                              GError **error)
{
  xmlNode *body = envelope_child (doc, "Body");
  xmlNode *element = agl_ews_xml_first_child (body, NULL, NULL);

  if (element == NULL)
    {
      agl_ews_error_set (error, AGL_EWS_ERROR_INVALID_RESPONSE,
                         _("The server’s answer is not a SOAP response with a body."));
      return NULL;
    }
  if (agl_ews_xml_node_is (element, AGL_EWS_NS_SOAP, "Fault"))
    {
      AglEwsFault fault;

      agl_ews_fault_read (element, &fault);
      agl_ews_fault_set_error (&fault, error);
      agl_ews_fault_clear (&fault);
      return NULL;
    }
  return element;
}
