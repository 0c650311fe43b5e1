/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "agl-ews-server.h"
#include "agl-ews-server-ntlm.h"
#include "agl-ews-server-recurrence.h"
#include "agl-ews-server-xml.h"

#define EWS_PATH "/EWS/Exchange.asmx"
#define AUTODISCOVER_PATH "/autodiscover/autodiscover.xml"
#define CONTROL_PREFIX "/control/"
/* IIS's maxAllowedContentLength for /EWS is far larger; a test server
 * gains nothing from buffering more than this. */
#define MAX_REQUEST_BYTES (8 * 1024 * 1024)
#define MAX_CALENDAR_VIEW_SECONDS ((gint64) 732 * 86400)
#define MAX_PULL_EVENTS 50
#define NTLM_STATE_KEY "agl-ews-ntlm-state"
/* The calendar's parent (the mailbox root) as folder events name it. */
#define ROOT_FOLDER_ID "AQMkADAwATM0MDAAMS0xMgAAAC4AAAMAAAA="

struct _AglEwsServer
{
  GObject           parent_instance;

  SoupServer       *soup;
  char             *kit_dir;
  gboolean          tls;
  guint             port;
  xmlSchema        *schema;
  GPtrArray        *versions;        /* ExchangeVersionType values, oldest first */
  GPtrArray        *item_fields;     /* ItemType + CalendarItemType elements, schema order */
  guint             n_item_type_fields; /* the first ones, ItemType's */
  GHashTable       *mailboxes;       /* lower-case address -> AglEwsMailbox */
  GHashTable       *subscriptions;   /* id -> Subscription */
  GPtrArray        *streams;         /* open GetStreamingEvents responses */
  AglEwsFaultQueue *faults;
  gboolean          control_enabled;
  gboolean          streaming_enabled;

  guint             major, minor, major_build, minor_build;
  char             *version;
  char             *ntlm_domain;
  guint             minute_ms;
  guint             keepalive_ms;
};

G_DEFINE_FINAL_TYPE (AglEwsServer, agl_ews_server, G_TYPE_OBJECT)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlParserCtxt, xmlFreeParserCtxt)

typedef struct
{
  guint8  challenge[AGL_EWS_NTLM_CHALLENGE_LEN];
  gboolean challenged;
  char   *account;    /* address of the mailbox this connection logged on as */
} NtlmState;

typedef struct _Stream Stream;

typedef struct
{
  char          *kind;
  gint64         time;
  gboolean       folder;
  char          *item_id;
  char          *change_key;
  char          *watermark;
} Event;

typedef struct
{
  char          *id;
  AglEwsMailbox *mailbox;
  char          *owner;
  gboolean       streaming;
  gboolean       created, modified, deleted, free_busy;
  GPtrArray     *events;       /* Event */
  GHashTable    *watermarks;   /* token -> GUINT_TO_POINTER (events seen + 1) */
  char          *start_watermark;
  guint          timeout_minutes;
  gint64         last_poll;
  Stream        *stream;
  guint          streamed;     /* events already written to a stream */
} Subscription;

struct _Stream
{
  AglEwsServer      *server;
  SoupServerMessage *msg;
  GPtrArray         *subscription_ids;
  guint              keepalive_id;
  guint              timeout_id;
  gboolean           done;
};

typedef struct
{
  AglEwsServer      *server;
  SoupServerMessage *msg;
  AglEwsMailbox     *account;
  AglEwsMailbox     *mailbox;
  xmlDoc            *doc;
  xmlNode           *op;
  char              *context_zone;
} Request;

typedef struct
{
  char      *base;
  GPtrArray *fields;      /* element names */
  GPtrArray *extended;    /* ExtendedFieldURI nodes of the request */
} Shape;

static void shape_clear (Shape *shape);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Shape, shape_clear)

static void stream_finish (Stream *stream, AglEwsCode error_code);

/* stream_finish()'s "no error": ConnectionStatus Closed. */
#define STREAM_CLOSED ((AglEwsCode) -1)

/* --- small helpers ---------------------------------------------------- */

static void
event_free (gpointer data)
{
  Event *e = data;

  g_free (e->kind);
  g_free (e->item_id);
  g_free (e->change_key);
  g_free (e->watermark);
  g_free (e);
}

static void
subscription_free (gpointer data)
{
  Subscription *s = data;

  if (s->stream != NULL)
    stream_finish (s->stream, STREAM_CLOSED);
  g_free (s->id);
  g_free (s->owner);
  g_free (s->start_watermark);
  g_ptr_array_unref (s->events);
  g_hash_table_unref (s->watermarks);
  g_free (s);
}

static void
shape_clear (Shape *shape)
{
  g_clear_pointer (&shape->base, g_free);
  g_clear_pointer (&shape->fields, g_ptr_array_unref);
  g_clear_pointer (&shape->extended, g_ptr_array_unref);
}

static char *
random_base64 (gsize n)
{
  g_autofree guint8 *buf = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    buf[i] = (guint8) g_random_int_range (0, 256);
  return g_base64_encode (buf, n);
}

static int
version_index (AglEwsServer *self,
               const char   *version)
{
  for (guint i = 0; i < self->versions->len; i++)
    if (g_strcmp0 (g_ptr_array_index (self->versions, i), version) == 0)
      return (int) i;
  return -1;
}

/* --- schema ----------------------------------------------------------- */

static xmlNode *
find_named_type (xmlNode    *schema_root,
                 const char *kind,
                 const char *name)
{
  for (xmlNode *n = agl_ews_xml_first_element (schema_root); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autofree char *attr = agl_ews_server_xml_attr (n, "name");

      if (xmlStrEqual (n->name, (const xmlChar *) kind) && g_strcmp0 (attr, name) == 0)
        return n;
    }
  return NULL;
}

static void
collect_sequence (xmlNode   *node,
                  GPtrArray *names)
{
  for (xmlNode *n = agl_ews_xml_first_element (node); n != NULL; n = agl_ews_xml_next_element (n))
    {
      if (xmlStrEqual (n->name, (const xmlChar *) "element"))
        {
          char *name = agl_ews_server_xml_attr (n, "name");

          if (name != NULL)
            g_ptr_array_add (names, name);
        }
      else if (xmlStrEqual (n->name, (const xmlChar *) "sequence") ||
               xmlStrEqual (n->name, (const xmlChar *) "complexContent") ||
               xmlStrEqual (n->name, (const xmlChar *) "extension"))
        collect_sequence (n, names);
    }
}

/* Responses list an item's fields in schema order, read from the kit's
 * types.xsd so they follow the schema the requests are checked against. */
static gboolean
load_schema_facts (AglEwsServer *self,
                   const char   *kit_dir,
                   GError      **error)
{
  g_autofree char *types_path = g_build_filename (kit_dir, "schemas", "types.xsd", NULL);
  g_autoptr(xmlDoc) types = xmlReadFile (types_path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
  xmlNode *root, *t;

  if (types == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Cannot read %s; set AGL_EWS_KIT to the EWS reference kit.", types_path);
      return FALSE;
    }
  root = xmlDocGetRootElement (types);

  t = find_named_type (root, "simpleType", "ExchangeVersionType");
  for (xmlNode *r = agl_ews_xml_first_element (t); r != NULL; r = agl_ews_xml_next_element (r))
    for (xmlNode *e = agl_ews_xml_first_element (r); e != NULL; e = agl_ews_xml_next_element (e))
      {
        char *value = agl_ews_server_xml_attr (e, "value");

        if (value != NULL)
          g_ptr_array_add (self->versions, value);
      }

  collect_sequence (find_named_type (root, "complexType", "ItemType"), self->item_fields);
  self->n_item_type_fields = self->item_fields->len;
  collect_sequence (find_named_type (root, "complexType", "CalendarItemType"), self->item_fields);
  if (self->versions->len == 0 || self->item_fields->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s does not declare ExchangeVersionType and CalendarItemType.", types_path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_schema (AglEwsServer *self,
             const char   *kit_dir,
             GError      **error)
{
  g_autofree char *path = g_build_filename (kit_dir, "schemas", "ews-envelope.xsd", NULL);
  xmlSchemaParserCtxt *ctxt = xmlSchemaNewParserCtxt (path);

  self->schema = ctxt != NULL ? xmlSchemaParse (ctxt) : NULL;
  g_clear_pointer (&ctxt, xmlSchemaFreeParserCtxt);
  if (self->schema == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Cannot compile the EWS schemas at %s.", path);
      return FALSE;
    }
  return load_schema_facts (self, kit_dir, error);
}

typedef struct
{
  const char *data;
  gsize       len;
  char       *violation;
  int         line;
  int         column;
} Validation;

/* libxml2 keeps no column for tree nodes; Exchange reports where the
 * offending element's name, or the offending attribute's name, starts on
 * its line (1-based), so find it in the request text. */
static int
column_of_node (const Validation *v,
                const xmlNode    *node,
                int               line,
                const char       *message)
{
  const char *p = v->data, *end = v->data + v->len, *eol, *hit, *attr;
  g_autofree char *needle = NULL;

  for (int l = 1; l < line && p < end; l++)
    {
      p = memchr (p, '\n', end - p);
      if (p == NULL)
        return 1;
      p++;
    }
  eol = memchr (p, '\n', end - p);
  if (eol == NULL)
    eol = end;
  if (node == NULL || node->type != XML_ELEMENT_NODE)
    return 1;
  needle = node->ns != NULL && node->ns->prefix != NULL
           ? g_strdup_printf ("<%s:%s", node->ns->prefix, node->name)
           : g_strdup_printf ("<%s", node->name);
  hit = g_strstr_len (p, eol - p, needle);
  if (hit == NULL)
    return 1;

  attr = message != NULL ? strstr (message, "attribute '") : NULL;
  if (attr != NULL)
    {
      const char *name = attr + strlen ("attribute '");
      const char *close = strchr (name, '\'');
      const char *tag_end = memchr (hit, '>', eol - hit);
      g_autofree char *attr_needle = close != NULL ? g_strdup_printf (" %.*s=", (int) (close - name), name) : NULL;
      const char *at = attr_needle != NULL
                       ? g_strstr_len (hit, (tag_end != NULL ? tag_end : eol) - hit, attr_needle) : NULL;

      if (at != NULL)
        return (int) (at - p) + 2;
    }
  return (int) (hit - p) + 2;
}

static void
validation_error_cb (void     *user_data,
                     xmlError *error)
{
  Validation *v = user_data;

  if (v->violation != NULL)
    return;
  v->violation = g_strstrip (g_strdup (error->message != NULL ? error->message : "Invalid XML."));
  v->line = error->line;
  v->column = error->int2 > 0 ? error->int2
                              : column_of_node (v, error->node, error->line, error->message);
}

/* Parses and checks the body against the kit's schemas: no network, no
 * entity expansion, no DTD at all (Exchange's .NET reader prohibits
 * them).  On failure @v holds the line, position and violation Exchange
 * reports in MessageXml. */
static xmlDoc *
validate_body (AglEwsServer *self,
               Validation   *v)
{
  g_autoptr(xmlParserCtxt) parser = xmlNewParserCtxt ();
  g_autoptr(xmlDoc) doc = NULL;
  xmlSchemaValidCtxt *ctxt;
  int ret;

  xmlSetStructuredErrorFunc (v, validation_error_cb);
  doc = xmlCtxtReadMemory (parser, v->data, (int) v->len, "request.xml", NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlSetStructuredErrorFunc (NULL, NULL);
  if (doc == NULL)
    {
      if (v->violation == NULL)
        {
          v->violation = g_strdup ("Root element is missing.");
          v->line = v->column = 1;
        }
      return NULL;
    }
  if (doc->intSubset != NULL)
    {
      g_free (v->violation);
      v->violation = g_strdup ("For security reasons DTD is prohibited in this XML document. "
                               "To enable DTD processing set the DtdProcessing property on "
                               "XmlReaderSettings to Parse and pass the settings into "
                               "XmlReader.Create method.");
      {
        const char *at = g_strstr_len (v->data, v->len, "<!DOCTYPE");
        const char *line_start = v->data;

        v->line = 1;
        for (const char *p = v->data; at != NULL && p < at; p++)
          if (*p == '\n')
            {
              v->line++;
              line_start = p + 1;
            }
        v->column = at != NULL ? (int) (at - line_start) + 1 : 1;
      }
      return NULL;
    }
  g_clear_pointer (&v->violation, g_free);

  ctxt = xmlSchemaNewValidCtxt (self->schema);
  xmlSchemaSetValidStructuredErrors (ctxt, validation_error_cb, v);
  ret = xmlSchemaValidateDoc (ctxt, doc);
  xmlSchemaFreeValidCtxt (ctxt);
  if (ret != 0)
    {
      if (v->violation == NULL)
        {
          v->violation = g_strdup ("The request failed schema validation.");
          v->line = v->column = 1;
        }
      return NULL;
    }
  return g_steal_pointer (&doc);
}

/* --- responses -------------------------------------------------------- */

static void
set_xml_response (SoupServerMessage *msg,
                  guint              status,
                  GString           *xml)
{
  gsize len = xml->len;

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/xml; charset=utf-8", SOUP_MEMORY_TAKE,
                                    g_string_free (xml, FALSE), len);
}

static void
append_server_version (AglEwsServer *self,
                       GString      *out)
{
  g_string_append_printf (out,
                          "<s:Header><h:ServerVersionInfo MajorVersion=\"%u\" MinorVersion=\"%u\" "
                          "MajorBuildNumber=\"%u\" MinorBuildNumber=\"%u\" Version=\"%s\" "
                          "xmlns:h=\"" AGL_EWS_NS_TYPES "\" xmlns=\"" AGL_EWS_NS_TYPES "\" "
                          "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/></s:Header>",
                          self->major, self->minor, self->major_build, self->minor_build,
                          self->version);
}

static GString *
begin_response (AglEwsServer *self,
                const char   *operation,
                gboolean      declaration)
{
  GString *out = g_string_new (declaration ? "<?xml version=\"1.0\" encoding=\"utf-8\"?>" : "");

  g_string_append (out, "<s:Envelope xmlns:s=\"" AGL_EWS_NS_SOAP "\">");
  append_server_version (self, out);
  g_string_append_printf (out,
                          "<s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                          "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
                          "<m:%sResponse xmlns:m=\"" AGL_EWS_NS_MESSAGES "\" "
                          "xmlns:t=\"" AGL_EWS_NS_TYPES "\"><m:ResponseMessages>",
                          operation);
  return out;
}

static void
end_response (GString    *out,
              const char *operation)
{
  g_string_append_printf (out, "</m:ResponseMessages></m:%sResponse></s:Body></s:Envelope>", operation);
}

static void
append_error_message (GString    *out,
                      const char *element,
                      AglEwsCode  code,
                      const char *empty_container)
{
  g_string_append_printf (out, "<m:%s ResponseClass=\"Error\"><m:MessageText>", element);
  agl_ews_xml_escape (out, agl_ews_code_message (code));
  g_string_append_printf (out, "</m:MessageText><m:ResponseCode>%s</m:ResponseCode>"
                          "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>",
                          agl_ews_code_name (code));
  if (empty_container != NULL)
    g_string_append_printf (out, "<m:%s/>", empty_container);
  g_string_append_printf (out, "</m:%s>", element);
}

static void
append_error_from (GString    *out,
                   const char *element,
                   GError     *error,
                   const char *empty_container)
{
  AglEwsCode code = error->domain == AGL_EWS_CODE_ERROR ? (AglEwsCode) error->code
                                                        : AGL_EWS_CODE_INVALID_OPERATION;

  append_error_message (out, element, code, empty_container);
}

/* The SOAP fault of an HTTP 500, in the exact shape of the Exchange 2010
 * SP2 capture (no header, detail in the errors namespace, MessageXml in
 * types). */
static void
respond_fault (SoupServerMessage *msg,
               AglEwsCode         code,
               const char        *violation,
               int                line,
               int                column,
               guint              back_off_ms)
{
  GString *out = g_string_new ("<?xml version=\"1.0\" encoding=\"utf-8\"?>");

  g_string_append (out, "<s:Envelope xmlns:s=\"" AGL_EWS_NS_SOAP "\"><s:Body><s:Fault>"
                        "<faultcode xmlns:a=\"" AGL_EWS_NS_TYPES "\">a:");
  g_string_append (out, agl_ews_code_name (code));
  g_string_append (out, "</faultcode><faultstring xml:lang=\"en-US\">");
  if (code == AGL_EWS_CODE_SCHEMA_VALIDATION)
    {
      g_string_append (out, "The request failed schema validation: ");
      agl_ews_xml_escape (out, violation);
    }
  else
    agl_ews_xml_escape (out, agl_ews_code_message (code));
  g_string_append_printf (out, "</faultstring><detail>"
                          "<e:ResponseCode xmlns:e=\"" AGL_EWS_NS_ERRORS "\">%s</e:ResponseCode>"
                          "<e:Message xmlns:e=\"" AGL_EWS_NS_ERRORS "\">",
                          agl_ews_code_name (code));
  agl_ews_xml_escape (out, agl_ews_code_message (code));
  g_string_append (out, "</e:Message>");
  if (code == AGL_EWS_CODE_SCHEMA_VALIDATION)
    {
      g_string_append_printf (out, "<t:MessageXml xmlns:t=\"" AGL_EWS_NS_TYPES "\">"
                              "<t:LineNumber>%d</t:LineNumber><t:LinePosition>%d</t:LinePosition>"
                              "<t:Violation>", line, column);
      agl_ews_xml_escape (out, violation);
      g_string_append (out, "</t:Violation></t:MessageXml>");
    }
  else if (code == AGL_EWS_CODE_SERVER_BUSY)
    g_string_append_printf (out, "<t:MessageXml xmlns:t=\"" AGL_EWS_NS_TYPES "\">"
                            "<t:Value Name=\"BackOffMilliseconds\">%u</t:Value></t:MessageXml>",
                            back_off_ms);
  g_string_append (out, "</detail></s:Fault></s:Body></s:Envelope>");
  set_xml_response (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, out);
}

static void
respond_text (SoupServerMessage *msg,
              guint              status,
              const char        *content_type,
              const char        *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, text, strlen (text));
}

/* --- authentication --------------------------------------------------- */

static void
ntlm_state_free (gpointer data)
{
  NtlmState *state = data;

  g_free (state->account);
  g_free (state);
}

static NtlmState *
connection_state (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  NtlmState *state;

  if (socket == NULL)
    return NULL;
  state = g_object_get_data (G_OBJECT (socket), NTLM_STATE_KEY);
  if (state == NULL)
    {
      state = g_new0 (NtlmState, 1);
      g_object_set_data_full (G_OBJECT (socket), NTLM_STATE_KEY, state, ntlm_state_free);
    }
  return state;
}

static AglEwsMailbox *
find_account (AglEwsServer *self,
              const char   *domain,
              const char   *user)
{
  GHashTableIter iter;
  gpointer value;
  AglEwsMailbox *mailbox = agl_ews_server_get_mailbox (self, user);

  /* A UPN or e-mail address logs on without a domain. */
  if (mailbox != NULL && (domain == NULL || *domain == '\0'))
    return mailbox;

  g_hash_table_iter_init (&iter, self->mailboxes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AglEwsMailbox *m = value;

      if (g_ascii_strcasecmp (m->user, user) != 0)
        continue;
      if (domain == NULL || *domain == '\0' || g_ascii_strcasecmp (m->domain, domain) == 0)
        return m;
    }
  return NULL;
}

static void
respond_unauthorized (SoupServerMessage *msg,
                      const char        *ntlm_challenge)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *host = g_uri_get_host (soup_server_message_get_uri (msg));
  g_autofree char *basic = g_strdup_printf ("Basic realm=\"%s\"", host != NULL ? host : "localhost");

  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
  if (ntlm_challenge != NULL)
    soup_message_headers_append (headers, "WWW-Authenticate", ntlm_challenge);
  else
    {
      soup_message_headers_append (headers, "WWW-Authenticate", "NTLM");
      soup_message_headers_append (headers, "WWW-Authenticate", basic);
    }
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, "", 0);
}

/* IIS in front of Exchange: Basic per request, NTLM per connection (a
 * connection that completed the handshake stays logged on). */
static AglEwsMailbox *
authenticate (AglEwsServer      *self,
              SoupServerMessage *msg)
{
  const char *header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                     "Authorization");
  NtlmState *state = connection_state (msg);

  if (header != NULL && g_ascii_strncasecmp (header, "Basic ", 6) == 0)
    {
      gsize len = 0;
      g_autofree char *decoded = (char *) g_base64_decode (header + 6, &len);
      g_autofree char *text = g_strndup (decoded, len);
      char *colon = strchr (text, ':');
      char *backslash;
      const char *domain = NULL, *user = text;
      AglEwsMailbox *account;

      if (colon != NULL)
        {
          *colon = '\0';
          backslash = strchr (text, '\\');
          if (backslash != NULL)
            {
              *backslash = '\0';
              domain = text;
              user = backslash + 1;
            }
          account = find_account (self, domain, user);
          if (account != NULL && g_strcmp0 (account->password, colon + 1) == 0)
            return account;
        }
      respond_unauthorized (msg, NULL);
      return NULL;
    }

  if (header != NULL && g_ascii_strncasecmp (header, "NTLM ", 5) == 0 && state != NULL)
    {
      gsize len = 0;
      g_autofree guint8 *token = g_base64_decode (header + 5, &len);
      int type = agl_ews_ntlm_message_type (token, len);

      if (type == 1)
        {
          g_autoptr(GBytes) challenge = NULL;
          g_autofree char *encoded = NULL;
          g_autofree char *value = NULL;

          for (int i = 0; i < AGL_EWS_NTLM_CHALLENGE_LEN; i++)
            state->challenge[i] = (guint8) g_random_int_range (0, 256);
          state->challenged = TRUE;
          g_clear_pointer (&state->account, g_free);
          challenge = agl_ews_ntlm_build_challenge (state->challenge, self->ntlm_domain,
                                                    "EXCH01", "example.org");
          encoded = g_base64_encode (g_bytes_get_data (challenge, NULL), g_bytes_get_size (challenge));
          value = g_strconcat ("NTLM ", encoded, NULL);
          respond_unauthorized (msg, value);
          return NULL;
        }
      if (type == 3 && state->challenged)
        {
          g_autoptr(AglEwsNtlmAuthenticate) auth = agl_ews_ntlm_parse_authenticate (token, len);
          AglEwsMailbox *account = auth != NULL ? find_account (self, auth->domain, auth->user) : NULL;

          state->challenged = FALSE;
          if (account != NULL && agl_ews_ntlm_verify (auth, state->challenge, account->password,
                                                                   self->ntlm_domain))
            {
              g_free (state->account);
              state->account = g_strdup (account->address);
              return account;
            }
        }
      respond_unauthorized (msg, NULL);
      return NULL;
    }

  if (header == NULL && state != NULL && state->account != NULL)
    return agl_ews_server_get_mailbox (self, state->account);

  respond_unauthorized (msg, NULL);
  return NULL;
}

/* --- items ------------------------------------------------------------ */

static void
parse_shape (const xmlNode *shape_node,
             Shape         *shape)
{
  xmlNode *additional = agl_ews_xml_child (shape_node, AGL_EWS_NS_TYPES, "AdditionalProperties");

  shape->base = agl_ews_server_xml_child_text (shape_node, AGL_EWS_NS_TYPES, "BaseShape");
  if (shape->base == NULL)
    shape->base = g_strdup ("IdOnly");
  shape->fields = g_ptr_array_new_with_free_func (g_free);
  shape->extended = g_ptr_array_new ();
  for (xmlNode *n = agl_ews_xml_first_element (additional); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autofree char *uri = agl_ews_server_xml_attr (n, "FieldURI");

      if (agl_ews_xml_is (n, AGL_EWS_NS_TYPES, "ExtendedFieldURI"))
        g_ptr_array_add (shape->extended, n);
      else if (uri != NULL && strchr (uri, ':') != NULL)
        g_ptr_array_add (shape->fields, g_strdup (strchr (uri, ':') + 1));
    }
}

static gboolean
shape_includes (const Shape *shape,
                const char  *field)
{
  static const char * const default_fields[] = {
    "ItemId", "Subject", "HasAttachments", "IsAssociated", "Start", "End",
    "LegacyFreeBusyStatus", "Location", "CalendarItemType", "Organizer", NULL
  };

  if (g_strcmp0 (field, "ItemId") == 0)
    return TRUE;
  for (guint i = 0; i < shape->fields->len; i++)
    if (g_strcmp0 (g_ptr_array_index (shape->fields, i), field) == 0)
      return TRUE;
  if (g_strcmp0 (field, "ExtendedProperty") == 0)
    return FALSE;
  if (g_strcmp0 (shape->base, "AllProperties") == 0)
    return TRUE;
  if (g_strcmp0 (shape->base, "Default") == 0)
    return g_strv_contains (default_fields, field);
  return FALSE;
}

static gboolean
class_is (const char *item_class,
          const char *prefix)
{
  gsize len = strlen (prefix);

  /* Message classes compare without regard to case; a class is also
   * its own subclasses (IPM.Appointment.Custom). */
  return g_ascii_strncasecmp (item_class, prefix, len) == 0 &&
         (item_class[len] == '\0' || item_class[len] == '.');
}

/* The element an item is written as, from its message class, as Exchange
 * chooses among the item elements of ArrayOfRealItemsType. */
static const char *
item_element (const xmlNode *node)
{
  g_autofree char *item_class = agl_ews_server_xml_child_text (node, AGL_EWS_NS_TYPES, "ItemClass");

  if (item_class == NULL || class_is (item_class, "IPM.Appointment"))
    return "CalendarItem";
  if (class_is (item_class, "IPM.Schedule.Meeting.Request"))
    return "MeetingRequest";
  if (class_is (item_class, "IPM.Schedule.Meeting.Canceled"))
    return "MeetingCancellation";
  if (class_is (item_class, "IPM.Schedule.Meeting.Resp"))
    return "MeetingResponse";
  if (class_is (item_class, "IPM.Schedule.Meeting"))
    return "MeetingMessage";
  if (class_is (item_class, "IPM.Note"))
    return "Message";
  return "Item";
}

static gboolean
is_appointment (const xmlNode *node)
{
  return g_strcmp0 (item_element (node), "CalendarItem") == 0;
}

static void
write_item (AglEwsServer  *self,
            GString       *out,
            AglEwsMailbox *mailbox,
            xmlNode       *node,
            const char    *id,
            const char    *change_key,
            const Shape   *shape)
{
  const char *element = item_element (node);
  /* Other elements than CalendarItem get the ItemType fields only: the
   * calendar's fields sit in other places of their types. */
  guint n_fields = g_strcmp0 (element, "CalendarItem") == 0 ? self->item_fields->len
                                                            : self->n_item_type_fields;

  g_string_append_printf (out, "<t:%s>", element);
  for (guint i = 0; i < n_fields; i++)
    {
      const char *field = g_ptr_array_index (self->item_fields, i);

      if (g_strcmp0 (field, "ItemId") == 0)
        {
          g_string_append (out, "<t:ItemId Id=\"");
          agl_ews_xml_escape (out, id);
          g_string_append (out, "\" ChangeKey=\"");
          agl_ews_xml_escape (out, change_key);
          g_string_append (out, "\"/>");
          continue;
        }
      if (g_strcmp0 (field, "ParentFolderId") == 0)
        {
          if (shape_includes (shape, field))
            g_string_append_printf (out, "<t:ParentFolderId Id=\"%s\" ChangeKey=\"%s\"/>",
                                    mailbox->folder_id, "AQAAAA==");
          continue;
        }
      if (g_strcmp0 (field, "ExtendedProperty") == 0)
        {
          for (xmlNode *c = agl_ews_xml_first_element (node); c != NULL; c = agl_ews_xml_next_element (c))
            if (agl_ews_xml_is (c, AGL_EWS_NS_TYPES, "ExtendedProperty"))
              for (guint k = 0; k < shape->extended->len; k++)
                if (agl_ews_extended_matches (c, g_ptr_array_index (shape->extended, k)))
                  {
                    agl_ews_xml_write_node (out, c);
                    break;
                  }
          continue;
        }
      if (!shape_includes (shape, field))
        continue;
      for (xmlNode *c = agl_ews_xml_first_element (node); c != NULL; c = agl_ews_xml_next_element (c))
        if (g_strcmp0 ((const char *) c->name, field) == 0)
          agl_ews_xml_write_node (out, c);
    }
  g_string_append_printf (out, "</t:%s>", element);
}

static void
write_stored_item (Request     *req,
                   GString     *out,
                   AglEwsItem  *item,
                   const Shape *shape)
{
  write_item (req->server, out, req->mailbox, item->node, item->id, item->change_key, shape);
}

static void
write_occurrence (Request     *req,
                  GString     *out,
                  AglEwsItem  *master,
                  gint64       original_start,
                  const Shape *shape)
{
  xmlNode *node = agl_ews_mailbox_occurrence_node (req->mailbox, master, original_start);

  write_item (req->server, out, req->mailbox, node,
              agl_ews_mailbox_occurrence_id (req->mailbox, master, original_start),
              master->change_key, shape);
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

static gboolean
folder_is_calendar (Request       *req,
                    const xmlNode *folder)
{
  g_autofree char *id = agl_ews_server_xml_attr (folder, "Id");

  if (agl_ews_xml_is (folder, AGL_EWS_NS_TYPES, "DistinguishedFolderId"))
    {
      xmlNode *mbx = agl_ews_xml_child (folder, AGL_EWS_NS_TYPES, "Mailbox");
      g_autofree char *address = agl_ews_server_xml_child_text (mbx, AGL_EWS_NS_TYPES, "EmailAddress");

      if (address != NULL && g_ascii_strcasecmp (address, req->mailbox->address) != 0)
        return FALSE;
      return g_strcmp0 (id, "calendar") == 0;
    }
  return g_strcmp0 (id, req->mailbox->folder_id) == 0;
}

/* --- operations ------------------------------------------------------- */

static GString *
op_get_folder (Request *req)
{
  xmlNode *ids = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "FolderIds");
  xmlNode *shape_node = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "FolderShape");
  g_autofree char *base = agl_ews_server_xml_child_text (shape_node, AGL_EWS_NS_TYPES, "BaseShape");
  GString *out = begin_response (req->server, "GetFolder", TRUE);

  for (xmlNode *f = agl_ews_xml_first_element (ids); f != NULL; f = agl_ews_xml_next_element (f))
    {
      if (!folder_is_calendar (req, f))
        {
          append_error_message (out, "GetFolderResponseMessage", AGL_EWS_CODE_FOLDER_NOT_FOUND, "Folders");
          continue;
        }
      g_string_append_printf (out, "<m:GetFolderResponseMessage ResponseClass=\"Success\">"
                              "<m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:CalendarFolder>"
                              "<t:FolderId Id=\"%s\" ChangeKey=\"%s\"/>",
                              req->mailbox->folder_id, req->mailbox->folder_change_key);
      if (g_strcmp0 (base, "IdOnly") != 0)
        g_string_append_printf (out, "<t:FolderClass>IPF.Appointment</t:FolderClass>"
                                "<t:DisplayName>Calendar</t:DisplayName>"
                                "<t:TotalCount>%u</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>",
                                agl_ews_mailbox_count_items (req->mailbox));
      g_string_append (out, "</t:CalendarFolder></m:Folders></m:GetFolderResponseMessage>");
    }
  end_response (out, "GetFolder");
  return out;
}

static GString *
op_sync_folder_items (Request *req)
{
  xmlNode *folder = agl_ews_xml_first_element (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "SyncFolderId"));
  g_autofree char *state = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "SyncState");
  g_autofree char *max_text = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "MaxChangesReturned");
  g_auto(Shape) shape = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autofree char *new_state = NULL;
  g_autoptr(GHashTable) ignore = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean last = FALSE;
  GString *out = begin_response (req->server, "SyncFolderItems", TRUE);

  parse_shape (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemShape"), &shape);
  if (!folder_is_calendar (req, folder))
    {
      append_error_message (out, "SyncFolderItemsResponseMessage", AGL_EWS_CODE_FOLDER_NOT_FOUND, NULL);
      end_response (out, "SyncFolderItems");
      return out;
    }
  for (xmlNode *n = agl_ews_xml_first_element (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "Ignore"));
       n != NULL; n = agl_ews_xml_next_element (n))
    g_hash_table_add (ignore, agl_ews_server_xml_attr (n, "Id"));
  changes = agl_ews_mailbox_sync (req->mailbox, state, ignore,
                                  (guint) g_ascii_strtoull (max_text, NULL, 10),
                                  &new_state, &last, &error);
  if (changes == NULL)
    {
      append_error_from (out, "SyncFolderItemsResponseMessage", error, NULL);
      end_response (out, "SyncFolderItems");
      return out;
    }

  g_string_append_printf (out, "<m:SyncFolderItemsResponseMessage ResponseClass=\"Success\">"
                          "<m:ResponseCode>NoError</m:ResponseCode><m:SyncState>%s</m:SyncState>"
                          "<m:IncludesLastItemInRange>%s</m:IncludesLastItemInRange><m:Changes>",
                          new_state, last ? "true" : "false");
  for (guint i = 0; i < changes->len; i++)
    {
      AglEwsSyncChange *change = g_ptr_array_index (changes, i);

      switch (change->change)
        {
        case AGL_EWS_CHANGE_DELETED:
          g_string_append_printf (out, "<t:Delete><t:ItemId Id=\"%s\" ChangeKey=\"%s\"/></t:Delete>",
                                  change->item->id, change->item->change_key);
          break;
        case AGL_EWS_CHANGE_CREATED:
        case AGL_EWS_CHANGE_MODIFIED:
          {
            const char *tag = change->change == AGL_EWS_CHANGE_CREATED ? "Create" : "Update";

            g_string_append_printf (out, "<t:%s>", tag);
            write_stored_item (req, out, change->item, &shape);
            g_string_append_printf (out, "</t:%s>", tag);
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_string_append (out, "</m:Changes></m:SyncFolderItemsResponseMessage>");
  end_response (out, "SyncFolderItems");
  return out;
}

/* Resolves ItemId, OccurrenceItemId or RecurringMasterItemId to the
 * stored master and, for an occurrence, its original start. */
static AglEwsItem *
resolve_item_id (Request       *req,
                 const xmlNode *id_node,
                 gint64        *occurrence,
                 char         **change_key,
                 GError       **error)
{
  *occurrence = 0;
  if (change_key != NULL)
    *change_key = agl_ews_server_xml_attr (id_node, "ChangeKey");

  if (agl_ews_xml_is (id_node, AGL_EWS_NS_TYPES, "OccurrenceItemId"))
    {
      g_autofree char *master_id = agl_ews_server_xml_attr (id_node, "RecurringMasterId");
      g_autofree char *index = agl_ews_server_xml_attr (id_node, "InstanceIndex");
      AglEwsItem *master = agl_ews_mailbox_lookup (req->mailbox, master_id, error);

      if (master == NULL ||
          !agl_ews_mailbox_occurrence_start (req->mailbox, master,
                                             (guint) g_ascii_strtoull (index, NULL, 10),
                                             occurrence, error))
        return NULL;
      return master;
    }
  if (agl_ews_xml_is (id_node, AGL_EWS_NS_TYPES, "RecurringMasterItemId"))
    {
      g_autofree char *occurrence_id = agl_ews_server_xml_attr (id_node, "OccurrenceId");
      gint64 ignored;
      AglEwsItem *item = agl_ews_mailbox_lookup_any (req->mailbox, occurrence_id, &ignored, error);

      if (item != NULL && agl_ews_xml_child (item->node, AGL_EWS_NS_TYPES, "Recurrence") == NULL)
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_ITEM_NOT_FOUND);
          return NULL;
        }
      return item;
    }
  {
    g_autofree char *id = agl_ews_server_xml_attr (id_node, "Id");

    return agl_ews_mailbox_lookup_any (req->mailbox, id, occurrence, error);
  }
}

static GString *
op_get_item (Request *req)
{
  xmlNode *ids = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemIds");
  g_auto(Shape) shape = { 0 };
  GString *out = begin_response (req->server, "GetItem", TRUE);

  parse_shape (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemShape"), &shape);
  for (xmlNode *n = agl_ews_xml_first_element (ids); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autoptr(GError) error = NULL;
      gint64 occurrence;
      AglEwsItem *item = resolve_item_id (req, n, &occurrence, NULL, &error);

      if (item == NULL)
        {
          append_error_from (out, "GetItemResponseMessage", error, "Items");
          continue;
        }
      g_string_append (out, "<m:GetItemResponseMessage ResponseClass=\"Success\">"
                            "<m:ResponseCode>NoError</m:ResponseCode><m:Items>");
      if (occurrence != 0)
        write_occurrence (req, out, item, occurrence, &shape);
      else
        write_stored_item (req, out, item, &shape);
      g_string_append (out, "</m:Items></m:GetItemResponseMessage>");
    }
  end_response (out, "GetItem");
  return out;
}

static GString *
op_create_item (Request *req)
{
  xmlNode *folder = agl_ews_xml_first_element (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "SavedItemFolderId"));
  xmlNode *items = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "Items");
  g_autofree char *invitations = agl_ews_server_xml_attr (req->op, "SendMeetingInvitations");
  GString *out = begin_response (req->server, "CreateItem", TRUE);

  for (xmlNode *n = agl_ews_xml_first_element (items); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autoptr(GError) error = NULL;
      AglEwsItem *item;

      if (folder != NULL && !folder_is_calendar (req, folder))
        {
          append_error_message (out, "CreateItemResponseMessage", AGL_EWS_CODE_FOLDER_NOT_FOUND, "Items");
          continue;
        }
      if (!agl_ews_xml_is (n, AGL_EWS_NS_TYPES, "CalendarItem"))
        {
          append_error_message (out, "CreateItemResponseMessage", AGL_EWS_CODE_OBJECT_TYPE_CHANGED, "Items");
          continue;
        }
      if (invitations == NULL)
        {
          append_error_message (out, "CreateItemResponseMessage",
                                AGL_EWS_CODE_SEND_INVITATIONS_REQUIRED, "Items");
          continue;
        }
      item = agl_ews_mailbox_create_item (req->mailbox, n, req->context_zone, &error);
      if (item == NULL)
        {
          append_error_from (out, "CreateItemResponseMessage", error, "Items");
          continue;
        }
      g_string_append_printf (out, "<m:CreateItemResponseMessage ResponseClass=\"Success\">"
                              "<m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem>"
                              "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/></t:CalendarItem></m:Items>"
                              "</m:CreateItemResponseMessage>", item->id, item->change_key);
    }
  end_response (out, "CreateItem");
  return out;
}

static gboolean
apply_updates (Request       *req,
               xmlNode       *work,
               const xmlNode *updates,
               GError       **error)
{
  for (xmlNode *u = agl_ews_xml_first_element (updates); u != NULL; u = agl_ews_xml_next_element (u))
    {
      xmlNode *path = agl_ews_xml_first_element (u);
      xmlNode *value = path != NULL ? agl_ews_xml_next_element (path) : NULL;
      g_autofree char *uri = agl_ews_server_xml_attr (path, "FieldURI");
      const char *field = uri != NULL && strchr (uri, ':') != NULL ? strchr (uri, ':') + 1 : NULL;
      gboolean extended = agl_ews_xml_is (path, AGL_EWS_NS_TYPES, "ExtendedFieldURI");

      if (value != NULL && !agl_ews_xml_is (value, AGL_EWS_NS_TYPES, "CalendarItem"))
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_OBJECT_TYPE_CHANGED);
          return FALSE;
        }
      if (!agl_ews_mailbox_apply_field (req->mailbox, work, (const char *) u->name, field,
                                        extended ? path : NULL, value, error))
        return FALSE;
    }
  return TRUE;
}

static GString *
op_update_item (Request *req)
{
  xmlNode *changes = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemChanges");
  g_autofree char *resolution = agl_ews_server_xml_attr (req->op, "ConflictResolution");
  g_autofree char *invitations = agl_ews_server_xml_attr (req->op, "SendMeetingInvitationsOrCancellations");
  GString *out = begin_response (req->server, "UpdateItem", TRUE);

  for (xmlNode *c = agl_ews_xml_first_element (changes); c != NULL; c = agl_ews_xml_next_element (c))
    {
      xmlNode *id_node = agl_ews_xml_first_element (c);
      xmlNode *updates = agl_ews_xml_child (c, AGL_EWS_NS_TYPES, "Updates");
      g_autoptr(GError) error = NULL;
      g_autofree char *change_key = NULL;
      gint64 occurrence;
      AglEwsItem *item;
      xmlNode *work;
      const char *result_id, *result_key;

      if (invitations == NULL)
        {
          append_error_message (out, "UpdateItemResponseMessage",
                                AGL_EWS_CODE_SEND_INVITATIONS_OR_CANCELLATIONS_REQUIRED, "Items");
          continue;
        }
      item = resolve_item_id (req, id_node, &occurrence, &change_key, &error);
      if (item == NULL)
        {
          append_error_from (out, "UpdateItemResponseMessage", error, "Items");
          continue;
        }
      /* NeverOverwrite refuses a stale change key; AutoResolve and
       * AlwaysOverwrite apply the change over the newer version. */
      if (g_strcmp0 (resolution, "NeverOverwrite") == 0 && occurrence == 0 &&
          change_key != NULL && g_strcmp0 (change_key, item->change_key) != 0)
        {
          append_error_message (out, "UpdateItemResponseMessage", AGL_EWS_CODE_IRRESOLVABLE_CONFLICT, "Items");
          continue;
        }

      if (occurrence != 0)
        {
          work = agl_ews_mailbox_occurrence_node (req->mailbox, item, occurrence);
          if (!apply_updates (req, work, updates, &error))
            {
              xmlUnlinkNode (work);
              xmlFreeNode (work);
              append_error_from (out, "UpdateItemResponseMessage", error, "Items");
              continue;
            }
          /* update_occurrence takes @work over, on failure too. */
          if (!agl_ews_mailbox_update_occurrence (req->mailbox, item, occurrence, work,
                                                  req->context_zone, &error))
            {
              append_error_from (out, "UpdateItemResponseMessage", error, "Items");
              continue;
            }
          result_id = agl_ews_mailbox_occurrence_id (req->mailbox, item, occurrence);
        }
      else
        {
          work = agl_ews_mailbox_begin_update (req->mailbox, item);
          if (!apply_updates (req, work, updates, &error))
            {
              xmlUnlinkNode (work);
              xmlFreeNode (work);
              append_error_from (out, "UpdateItemResponseMessage", error, "Items");
              continue;
            }
          if (!agl_ews_mailbox_commit_update (req->mailbox, item, work, req->context_zone, &error))
            {
              append_error_from (out, "UpdateItemResponseMessage", error, "Items");
              continue;
            }
          result_id = item->id;
        }
      result_key = item->change_key;
      g_string_append_printf (out, "<m:UpdateItemResponseMessage ResponseClass=\"Success\">"
                              "<m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem>"
                              "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/></t:CalendarItem></m:Items>"
                              "<m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>"
                              "</m:UpdateItemResponseMessage>", result_id, result_key);
    }
  end_response (out, "UpdateItem");
  return out;
}

static GString *
op_delete_item (Request *req)
{
  xmlNode *ids = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemIds");
  g_autofree char *cancellations = agl_ews_server_xml_attr (req->op, "SendMeetingCancellations");
  GString *out = begin_response (req->server, "DeleteItem", TRUE);

  for (xmlNode *n = agl_ews_xml_first_element (ids); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autoptr(GError) error = NULL;
      gint64 occurrence;
      AglEwsItem *item;

      if (cancellations == NULL)
        {
          append_error_message (out, "DeleteItemResponseMessage", AGL_EWS_CODE_SEND_CANCELLATIONS_REQUIRED, NULL);
          continue;
        }
      item = resolve_item_id (req, n, &occurrence, NULL, &error);
      if (item == NULL)
        {
          append_error_from (out, "DeleteItemResponseMessage", error, NULL);
          continue;
        }
      /* Deleting one occurrence is a change of the series, not a delete. */
      if (occurrence != 0)
        agl_ews_mailbox_delete_occurrence (req->mailbox, item, occurrence);
      else
        agl_ews_mailbox_delete_item (req->mailbox, item);
      g_string_append (out, "<m:DeleteItemResponseMessage ResponseClass=\"Success\">"
                            "<m:ResponseCode>NoError</m:ResponseCode></m:DeleteItemResponseMessage>");
    }
  end_response (out, "DeleteItem");
  return out;
}

typedef struct
{
  AglEwsItem *item;
  gint64      original_start;   /* 0 for a single item */
  gint64      start;
} ViewEntry;

static int
compare_view_entries (gconstpointer a,
                      gconstpointer b)
{
  const ViewEntry *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

/* The value a search expression's path names on @node: the child
 * element of a FieldURI (item:Subject, calendar:UID, item:ItemClass …) or
 * the Value of the ExtendedProperty an ExtendedFieldURI names. */
static char *
path_value (const xmlNode *node,
            const xmlNode *path)
{
  g_autofree char *uri = agl_ews_server_xml_attr (path, "FieldURI");

  if (agl_ews_xml_is (path, AGL_EWS_NS_TYPES, "ExtendedFieldURI"))
    {
      for (xmlNode *c = agl_ews_xml_first_element (node); c != NULL; c = agl_ews_xml_next_element (c))
        if (agl_ews_xml_is (c, AGL_EWS_NS_TYPES, "ExtendedProperty") &&
            agl_ews_extended_matches (c, path))
          return agl_ews_server_xml_child_text (c, AGL_EWS_NS_TYPES, "Value");
      return NULL;
    }
  if (agl_ews_xml_is (path, AGL_EWS_NS_TYPES, "FieldURI") && uri != NULL && strchr (uri, ':') != NULL)
    return agl_ews_server_xml_child_text (node, AGL_EWS_NS_TYPES, strchr (uri, ':') + 1);
  return NULL;
}

/* Whether @node passes the search expression @expr.  IsEqualTo and
 * IsNotEqualTo against a Constant compare strings as Exchange does,
 * without regard to case, and are false where the property is missing (a
 * MAPI property restriction); And, Or and Not combine them.  Anything else
 * sets @unsupported. */
static gboolean
restriction_matches (const xmlNode *node,
                     const xmlNode *expr,
                     gboolean      *unsupported)
{
  if (agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "IsEqualTo") ||
      agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "IsNotEqualTo"))
    {
      xmlNode *path = agl_ews_xml_first_element ((xmlNode *) expr);
      xmlNode *operand = agl_ews_xml_child (expr, AGL_EWS_NS_TYPES, "FieldURIOrConstant");
      xmlNode *constant = agl_ews_xml_child (operand, AGL_EWS_NS_TYPES, "Constant");
      g_autofree char *wanted = agl_ews_server_xml_attr (constant, "Value");
      g_autofree char *value = NULL;
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;

      if (constant == NULL || wanted == NULL)
        {
          *unsupported = TRUE;
          return FALSE;
        }
      value = path_value (node, path);
      if (value == NULL)
        return FALSE;
      a = g_utf8_casefold (value, -1);
      b = g_utf8_casefold (wanted, -1);
      return (g_strcmp0 (a, b) == 0) == agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "IsEqualTo");
    }
  if (agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "Not"))
    return !restriction_matches (node, agl_ews_xml_first_element ((xmlNode *) expr), unsupported);
  if (agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "And") || agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "Or"))
    {
      gboolean is_and = agl_ews_xml_is (expr, AGL_EWS_NS_TYPES, "And");

      for (xmlNode *e = agl_ews_xml_first_element ((xmlNode *) expr); e != NULL; e = agl_ews_xml_next_element (e))
        if (restriction_matches (node, e, unsupported) != is_and)
          return !is_and;
      return is_and;
    }
  *unsupported = TRUE;
  return FALSE;
}

static GString *
op_find_item (Request *req)
{
  xmlNode *view = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "CalendarView");
  xmlNode *folders = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ParentFolderIds");
  xmlNode *restriction = agl_ews_xml_first_element (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES,
                                                                       "Restriction"));
  gboolean unsupported = FALSE;
  g_autofree char *start_text = agl_ews_server_xml_attr (view, "StartDate");
  g_autofree char *end_text = agl_ews_server_xml_attr (view, "EndDate");
  g_autofree char *max_text = agl_ews_server_xml_attr (view, "MaxEntriesReturned");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr(GDateTime) from = NULL;
  g_autoptr(GDateTime) to = NULL;
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (ViewEntry));
  g_auto(Shape) shape = { 0 };
  guint max = max_text != NULL ? (guint) g_ascii_strtoull (max_text, NULL, 10) : G_MAXUINT;
  gint64 lo = G_MININT64, hi = G_MAXINT64;
  guint shown;
  GString *out = begin_response (req->server, "FindItem", TRUE);

  parse_shape (agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "ItemShape"), &shape);
  if (!folder_is_calendar (req, agl_ews_xml_first_element (folders)))
    {
      append_error_message (out, "FindItemResponseMessage", AGL_EWS_CODE_FOLDER_NOT_FOUND, NULL);
      end_response (out, "FindItem");
      return out;
    }
  if (view != NULL)
    {
      from = g_date_time_new_from_iso8601 (start_text, utc);
      to = g_date_time_new_from_iso8601 (end_text, utc);
      /* xs:dateTime admits forms GLib does not ("24:00:00"). */
      if (from == NULL || to == NULL)
        {
          append_error_message (out, "FindItemResponseMessage", AGL_EWS_CODE_INVALID_OPERATION, NULL);
          end_response (out, "FindItem");
          return out;
        }
      lo = g_date_time_to_unix (from);
      hi = g_date_time_to_unix (to);
      if (hi - lo > MAX_CALENDAR_VIEW_SECONDS)
        {
          append_error_message (out, "FindItemResponseMessage", AGL_EWS_CODE_CALENDAR_VIEW_RANGE_TOO_BIG, NULL);
          end_response (out, "FindItem");
          return out;
        }
    }

  for (guint i = 0; i < req->mailbox->items->len; i++)
    {
      AglEwsItem *item = g_ptr_array_index (req->mailbox->items, i);
      gint64 start, end;

      if (item->deleted || !agl_ews_item_times (item, &start, &end))
        continue;
      /* A calendar view holds appointments only. */
      if (view != NULL && !is_appointment (item->node))
        continue;
      if (restriction != NULL && !restriction_matches (item->node, restriction, &unsupported))
        {
          if (unsupported)
            {
              append_error_message (out, "FindItemResponseMessage",
                                    AGL_EWS_CODE_UNSUPPORTED_QUERY_FILTER, NULL);
              end_response (out, "FindItem");
              return out;
            }
          continue;
        }
      if (view != NULL && agl_ews_xml_child (item->node, AGL_EWS_NS_TYPES, "Recurrence") != NULL)
        {
          /* A calendar view shows occurrences, never the master. */
          g_autoptr(GArray) starts = agl_ews_mailbox_expand (req->mailbox, item, hi);

          for (guint k = 0; k < starts->len; k++)
            {
              gint64 original = g_array_index (starts, gint64, k);
              xmlNode *node = agl_ews_mailbox_occurrence_node (req->mailbox, item, original);
              gint64 s = original, e = original + (end - start);

              agl_ews_node_times (node, &s, &e);
              xmlUnlinkNode (node);
              xmlFreeNode (node);
              if (e > lo && s < hi)
                g_array_append_val (entries, ((ViewEntry) { item, original, s }));
            }
          continue;
        }
      if (view == NULL || (end > lo && start < hi) || (start == end && start >= lo && start < hi))
        g_array_append_val (entries, ((ViewEntry) { item, 0, start }));
    }
  g_array_sort (entries, compare_view_entries);

  shown = MIN (entries->len, max);
  g_string_append (out, "<m:FindItemResponseMessage ResponseClass=\"Success\">"
                       "<m:ResponseCode>NoError</m:ResponseCode><m:RootFolder ");
  /* Without a view Exchange pages by index and says where the page ends. */
  if (view == NULL)
    g_string_append_printf (out, "IndexedPagingOffset=\"%u\" ", shown);
  g_string_append_printf (out, "TotalItemsInView=\"%u\" IncludesLastItemInRange=\"%s\"><t:Items>",
                          entries->len, shown == entries->len ? "true" : "false");
  for (guint i = 0; i < shown; i++)
    {
      ViewEntry *e = &g_array_index (entries, ViewEntry, i);

      if (e->original_start != 0)
        write_occurrence (req, out, e->item, e->original_start, &shape);
      else
        write_stored_item (req, out, e->item, &shape);
    }
  g_string_append (out, "</t:Items></m:RootFolder></m:FindItemResponseMessage>");
  end_response (out, "FindItem");
  return out;
}

static char *
format_oof_time (gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t);

  /* Exchange writes the Duration bounds in UTC without a zone suffix. */
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
}

static GString *
op_get_user_oof_settings (Request *req)
{
  xmlNode *mbx = agl_ews_xml_child (req->op, AGL_EWS_NS_TYPES, "Mailbox");
  g_autofree char *address = agl_ews_server_xml_child_text (mbx, AGL_EWS_NS_TYPES, "Address");
  AglEwsMailbox *target = agl_ews_server_get_mailbox (req->server, address);
  GString *out = g_string_new ("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
  g_autofree char *start = NULL;
  g_autofree char *end = NULL;

  g_string_append (out, "<s:Envelope xmlns:s=\"" AGL_EWS_NS_SOAP "\">");
  append_server_version (req->server, out);
  g_string_append (out, "<s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                        "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
                        "<GetUserOofSettingsResponse xmlns=\"" AGL_EWS_NS_MESSAGES "\">");
  if (target == NULL || target != req->mailbox)
    {
      AglEwsCode code = target == NULL ? AGL_EWS_CODE_MAIL_RECIPIENT_NOT_FOUND : AGL_EWS_CODE_ACCESS_DENIED;

      g_string_append (out, "<ResponseMessage ResponseClass=\"Error\"><MessageText>");
      agl_ews_xml_escape (out, agl_ews_code_message (code));
      g_string_append_printf (out, "</MessageText><ResponseCode>%s</ResponseCode>"
                              "<DescriptiveLinkKey>0</DescriptiveLinkKey></ResponseMessage>"
                              "</GetUserOofSettingsResponse></s:Body></s:Envelope>",
                              agl_ews_code_name (code));
      return out;
    }

  start = format_oof_time (target->oof_start);
  end = format_oof_time (target->oof_end);
  g_string_append_printf (out, "<ResponseMessage ResponseClass=\"Success\"><ResponseCode>NoError</ResponseCode>"
                          "</ResponseMessage><OofSettings xmlns=\"" AGL_EWS_NS_TYPES "\">"
                          "<OofState>%s</OofState><ExternalAudience>%s</ExternalAudience>"
                          "<Duration><StartTime>%s</StartTime><EndTime>%s</EndTime></Duration>"
                          "<InternalReply><Message>",
                          target->oof_state, target->oof_audience, start, end);
  agl_ews_xml_escape (out, target->oof_internal_reply);
  g_string_append (out, "</Message></InternalReply><ExternalReply><Message>");
  agl_ews_xml_escape (out, target->oof_external_reply);
  g_string_append (out, "</Message></ExternalReply></OofSettings><AllowExternalOof>All</AllowExternalOof>"
                        "</GetUserOofSettingsResponse></s:Body></s:Envelope>");
  return out;
}

static GString *
op_resolve_names (Request *req)
{
  g_autofree char *entry = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "UnresolvedEntry");
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  GString *out = begin_response (req->server, "ResolveNames", TRUE);
  const char *needle = entry != NULL && g_str_has_prefix (entry, "SMTP:") ? entry + 5 : entry;
  g_autofree char *lower = g_utf8_strdown (needle != NULL ? needle : "", -1);

  g_hash_table_iter_init (&iter, req->server->mailboxes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      AglEwsMailbox *m = value;
      g_autofree char *name = g_utf8_strdown (m->display_name, -1);

      if (g_str_has_prefix (m->address, lower) || g_str_has_prefix (name, lower) ||
          g_ascii_strcasecmp (m->user, lower) == 0)
        g_ptr_array_add (found, m);
    }
  if (found->len == 0)
    {
      g_string_append (out, "<m:ResolveNamesResponseMessage ResponseClass=\"Error\"><m:MessageText>"
                            "No results were found.</m:MessageText><m:ResponseCode>ErrorNameResolutionNoResults"
                            "</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
                            "</m:ResolveNamesResponseMessage>");
      end_response (out, "ResolveNames");
      return out;
    }
  /* Several matches are a warning on Exchange, with all of them listed. */
  g_string_append_printf (out, "<m:ResolveNamesResponseMessage ResponseClass=\"%s\">",
                          found->len > 1 ? "Warning" : "Success");
  if (found->len > 1)
    g_string_append (out, "<m:MessageText>Multiple results were found.</m:MessageText>"
                          "<m:ResponseCode>ErrorNameResolutionMultipleResults</m:ResponseCode>"
                          "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>");
  else
    g_string_append (out, "<m:ResponseCode>NoError</m:ResponseCode>");
  g_string_append_printf (out, "<m:ResolutionSet TotalItemsInView=\"%u\" IncludesLastItemInRange=\"true\">",
                          found->len);
  for (guint i = 0; i < found->len; i++)
    {
      AglEwsMailbox *m = g_ptr_array_index (found, i);

      g_string_append (out, "<t:Resolution><t:Mailbox><t:Name>");
      agl_ews_xml_escape (out, m->display_name);
      g_string_append (out, "</t:Name><t:EmailAddress>");
      agl_ews_xml_escape (out, m->address);
      g_string_append (out, "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType>"
                            "<t:MailboxType>Mailbox</t:MailboxType></t:Mailbox></t:Resolution>");
    }
  g_string_append (out, "</m:ResolutionSet></m:ResolveNamesResponseMessage>");
  end_response (out, "ResolveNames");
  return out;
}

/* --- subscriptions ---------------------------------------------------- */

static char *
add_watermark (Subscription *s)
{
  char *token = random_base64 (24);

  g_hash_table_insert (s->watermarks, g_strdup (token), GUINT_TO_POINTER (s->events->len + 1));
  return token;
}

static void
write_event (GString      *out,
             AglEwsMailbox *mailbox,
             const Event  *e,
             gboolean      with_watermark)
{
  g_autofree char *ts = agl_ews_format_utc (e->time);

  g_string_append_printf (out, "<t:%s>", e->kind);
  if (with_watermark)
    g_string_append_printf (out, "<t:Watermark>%s</t:Watermark>", e->watermark);
  g_string_append_printf (out, "<t:TimeStamp>%s</t:TimeStamp>", ts);
  if (e->folder)
    g_string_append_printf (out, "<t:FolderId Id=\"%s\" ChangeKey=\"%s\"/>"
                            "<t:ParentFolderId Id=\"%s\" ChangeKey=\"AQAAAA==\"/></t:%s>",
                            mailbox->folder_id, e->change_key, ROOT_FOLDER_ID, e->kind);
  else
    g_string_append_printf (out, "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>"
                            "<t:ParentFolderId Id=\"%s\" ChangeKey=\"AQAAAA==\"/></t:%s>",
                            e->item_id, e->change_key, mailbox->folder_id, e->kind);
}

static void
stream_write (Stream  *stream,
              GString *envelope)
{
  SoupMessageBody *body = soup_server_message_get_response_body (stream->msg);
  gsize len = envelope->len;

  soup_message_body_append (body, SOUP_MEMORY_TAKE, g_string_free (envelope, FALSE), len);
  soup_server_message_unpause (stream->msg);
}

/* Streamed envelopes are written differently from ordinary responses:
 * Exchange 2016 puts the envelope in the default namespace and prefixes
 * Header and Body "soap11" (as in Exchange 2016 CU traffic kept in the
 * Viewpoint project's specs), and clients such as ews-javascript-api and
 * Evolution cut the stream at "<Envelope" / "</Envelope>". */
static GString *
stream_envelope (AglEwsServer *self)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out,
                          "<Envelope xmlns=\"" AGL_EWS_NS_SOAP "\">"
                          "<soap11:Header xmlns:soap11=\"" AGL_EWS_NS_SOAP "\">"
                          "<ServerVersionInfo xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                          "xmlns=\"" AGL_EWS_NS_TYPES "\" MajorVersion=\"%u\" MinorVersion=\"%u\" "
                          "MajorBuildNumber=\"%u\" MinorBuildNumber=\"%u\" Version=\"%s\"/>"
                          "</soap11:Header><soap11:Body xmlns:soap11=\"" AGL_EWS_NS_SOAP "\">"
                          "<m:GetStreamingEventsResponse xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                          "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                          "xmlns:t=\"" AGL_EWS_NS_TYPES "\" xmlns:m=\"" AGL_EWS_NS_MESSAGES "\">"
                          "<m:ResponseMessages>",
                          self->major, self->minor, self->major_build, self->minor_build, self->version);
  return out;
}

static void
stream_envelope_end (GString *out)
{
  g_string_append (out, "</m:ResponseMessages></m:GetStreamingEventsResponse></soap11:Body></Envelope>");
}

static void
stream_send_status (Stream     *stream,
                    const char *status)
{
  GString *out = stream_envelope (stream->server);

  g_string_append_printf (out, "<m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">"
                          "<m:ResponseCode>NoError</m:ResponseCode>"
                          "<m:ConnectionStatus>%s</m:ConnectionStatus>"
                          "</m:GetStreamingEventsResponseMessage>", status);
  stream_envelope_end (out);
  stream_write (stream, out);
}

static void
stream_send_events (Stream       *stream,
                    Subscription *s,
                    guint         from)
{
  GString *out;

  if (from >= s->events->len)
    return;
  s->streamed = s->events->len;
  out = stream_envelope (stream->server);
  /* The m:Notification form real servers send (see the kit's notes). */
  g_string_append_printf (out, "<m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">"
                          "<m:ResponseCode>NoError</m:ResponseCode><m:Notifications><m:Notification>"
                          "<t:SubscriptionId>%s</t:SubscriptionId>", s->id);
  for (guint i = from; i < s->events->len; i++)
    write_event (out, s->mailbox, g_ptr_array_index (s->events, i), FALSE);
  g_string_append (out, "</m:Notification></m:Notifications></m:GetStreamingEventsResponseMessage>");
  stream_envelope_end (out);
  stream_write (stream, out);
}

static void
stream_detach (Stream *stream)
{
  /* During dispose the table is already gone and is freeing us. */
  for (guint i = 0; stream->server->subscriptions != NULL && i < stream->subscription_ids->len; i++)
    {
      Subscription *s = g_hash_table_lookup (stream->server->subscriptions,
                                             g_ptr_array_index (stream->subscription_ids, i));

      if (s != NULL && s->stream == stream)
        s->stream = NULL;
    }
  g_clear_handle_id (&stream->keepalive_id, g_source_remove);
  g_clear_handle_id (&stream->timeout_id, g_source_remove);
}

static void
stream_free (Stream *stream)
{
  g_ptr_array_remove_fast (stream->server->streams, stream);
  stream_detach (stream);
  g_ptr_array_unref (stream->subscription_ids);
  g_object_unref (stream->msg);
  g_free (stream);
}

/* Ends the response with ConnectionStatus Closed (or an error, for a
 * connection another GetStreamingEvents replaced). */
static void
stream_finish (Stream     *stream,
               AglEwsCode  error_code)
{
  if (stream->done)
    return;
  stream->done = TRUE;
  stream_detach (stream);
  if (error_code == STREAM_CLOSED)
    stream_send_status (stream, "Closed");
  else
    {
      GString *out = stream_envelope (stream->server);

      append_error_message (out, "GetStreamingEventsResponseMessage", error_code, NULL);
      stream_envelope_end (out);
      stream_write (stream, out);
    }
  soup_message_body_complete (soup_server_message_get_response_body (stream->msg));
  soup_server_message_unpause (stream->msg);
}

static gboolean
stream_keepalive_cb (gpointer user_data)
{
  stream_send_status (user_data, "OK");
  return G_SOURCE_CONTINUE;
}

static gboolean
stream_timeout_cb (gpointer user_data)
{
  Stream *stream = user_data;

  stream->timeout_id = 0;
  stream_finish (stream, STREAM_CLOSED);
  return G_SOURCE_REMOVE;
}

static void
stream_finished_cb (SoupServerMessage *msg,
                    gpointer           user_data)
{
  Stream *stream = user_data;

  g_signal_handlers_disconnect_by_data (msg, stream);
  stream_free (stream);
}

static void
append_event (Subscription *s,
              const char   *kind,
              const char   *item_id,
              const char   *change_key)
{
  Event *e = g_new0 (Event, 1);

  e->kind = g_strdup (kind);
  e->time = g_get_real_time () / G_USEC_PER_SEC;
  e->folder = item_id == NULL;
  e->item_id = g_strdup (item_id);
  e->change_key = g_strdup (change_key);
  g_ptr_array_add (s->events, e);
  e->watermark = add_watermark (s);
}

static void
mailbox_changed_cb (AglEwsMailbox *mailbox,
                    AglEwsChange   change,
                    AglEwsItem    *item,
                    gpointer       user_data)
{
  AglEwsServer *self = user_data;
  GHashTableIter iter;
  gpointer value;
  const char *kind = change == AGL_EWS_CHANGE_CREATED ? "CreatedEvent" :
                     change == AGL_EWS_CHANGE_DELETED ? "DeletedEvent" : "ModifiedEvent";

  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Subscription *s = value;
      guint from = s->events->len;
      gboolean wanted = (change == AGL_EWS_CHANGE_CREATED && s->created) ||
                        (change == AGL_EWS_CHANGE_MODIFIED && s->modified) ||
                        (change == AGL_EWS_CHANGE_DELETED && s->deleted);

      if (s->mailbox != mailbox)
        continue;
      if (wanted)
        append_event (s, kind, item->id, item->change_key);
      /* A calendar item that appears or changes moves free/busy too. */
      if (s->free_busy && change != AGL_EWS_CHANGE_DELETED)
        append_event (s, "FreeBusyChangedEvent", item->id, item->change_key);
      /* Exchange follows item events with one for their folder, whose
       * counts and change key changed too. */
      if (s->modified)
        append_event (s, "ModifiedEvent", NULL, mailbox->folder_change_key);
      if (s->stream != NULL && s->events->len > from)
        stream_send_events (s->stream, s, from);
    }
}

static GString *
op_subscribe (Request *req)
{
  xmlNode *request = agl_ews_xml_first_element (req->op);
  xmlNode *folders = agl_ews_xml_child (request, AGL_EWS_NS_TYPES, "FolderIds");
  xmlNode *types = agl_ews_xml_child (request, AGL_EWS_NS_TYPES, "EventTypes");
  g_autofree char *timeout = agl_ews_server_xml_child_text (request, AGL_EWS_NS_TYPES, "Timeout");
  g_autofree char *all = agl_ews_server_xml_attr (request, "SubscribeToAllFolders");
  GString *out = begin_response (req->server, "Subscribe", TRUE);
  Subscription *s;

  /* Streaming switched off (the control endpoint): the request is refused
   * as a whole, and clients fall back to pull subscriptions. */
  if (!req->server->streaming_enabled &&
      agl_ews_xml_is (request, AGL_EWS_NS_MESSAGES, "StreamingSubscriptionRequest"))
    {
      append_error_message (out, "SubscribeResponseMessage",
                            AGL_EWS_CODE_INVALID_SUBSCRIPTION_REQUEST, NULL);
      end_response (out, "Subscribe");
      return out;
    }

  if (g_strcmp0 (all, "true") != 0)
    for (xmlNode *f = agl_ews_xml_first_element (folders); f != NULL; f = agl_ews_xml_next_element (f))
      if (!folder_is_calendar (req, f))
        {
          append_error_message (out, "SubscribeResponseMessage", AGL_EWS_CODE_FOLDER_NOT_FOUND, NULL);
          end_response (out, "Subscribe");
          return out;
        }

  s = g_new0 (Subscription, 1);
  s->id = random_base64 (48);
  s->mailbox = req->mailbox;
  s->owner = g_strdup (req->account->address);
  s->streaming = agl_ews_xml_is (request, AGL_EWS_NS_MESSAGES, "StreamingSubscriptionRequest");
  s->events = g_ptr_array_new_with_free_func (event_free);
  s->watermarks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->timeout_minutes = timeout != NULL ? (guint) g_ascii_strtoull (timeout, NULL, 10) : 30;
  s->last_poll = g_get_monotonic_time ();
  for (xmlNode *t = agl_ews_xml_first_element (types); t != NULL; t = agl_ews_xml_next_element (t))
    {
      g_autofree char *type = agl_ews_server_xml_text (t);

      s->created |= g_strcmp0 (type, "CreatedEvent") == 0;
      s->modified |= g_strcmp0 (type, "ModifiedEvent") == 0;
      s->deleted |= g_strcmp0 (type, "DeletedEvent") == 0;
      s->free_busy |= g_strcmp0 (type, "FreeBusyChangedEvent") == 0;
    }
  s->start_watermark = add_watermark (s);
  g_hash_table_insert (req->server->subscriptions, s->id, s);

  g_string_append_printf (out, "<m:SubscribeResponseMessage ResponseClass=\"Success\">"
                          "<m:ResponseCode>NoError</m:ResponseCode>"
                          "<m:SubscriptionId>%s</m:SubscriptionId>", s->id);
  if (!s->streaming)
    g_string_append_printf (out, "<m:Watermark>%s</m:Watermark>", s->start_watermark);
  g_string_append (out, "</m:SubscribeResponseMessage>");
  end_response (out, "Subscribe");
  return out;
}

static Subscription *
lookup_subscription (Request    *req,
                     const char *id,
                     AglEwsCode *code)
{
  Subscription *s = g_hash_table_lookup (req->server->subscriptions, id != NULL ? id : "");

  if (s == NULL)
    {
      *code = AGL_EWS_CODE_SUBSCRIPTION_NOT_FOUND;
      return NULL;
    }
  if (g_ascii_strcasecmp (s->owner, req->account->address) != 0)
    {
      *code = AGL_EWS_CODE_SUBSCRIPTION_ACCESS_DENIED;
      return NULL;
    }
  return s;
}

static GString *
op_get_events (Request *req)
{
  g_autofree char *id = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "SubscriptionId");
  g_autofree char *watermark = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "Watermark");
  GString *out = begin_response (req->server, "GetEvents", TRUE);
  AglEwsCode code;
  Subscription *s = lookup_subscription (req, id, &code);
  gpointer seen_plus_one;
  guint seen, last;
  gint64 now = g_get_monotonic_time ();

  if (s != NULL && s->streaming)
    {
      s = NULL;
      code = AGL_EWS_CODE_INVALID_OPERATION;
    }
  if (s != NULL &&
      now - s->last_poll > (gint64) s->timeout_minutes * req->server->minute_ms * 1000)
    {
      g_hash_table_remove (req->server->subscriptions, id);
      s = NULL;
      code = AGL_EWS_CODE_EXPIRED_SUBSCRIPTION;
    }
  if (s != NULL && !g_hash_table_lookup_extended (s->watermarks, watermark, NULL, &seen_plus_one))
    {
      s = NULL;
      code = AGL_EWS_CODE_INVALID_WATERMARK;
    }
  if (s == NULL)
    {
      append_error_message (out, "GetEventsResponseMessage", code, NULL);
      end_response (out, "GetEvents");
      return out;
    }

  s->last_poll = now;
  seen = GPOINTER_TO_UINT (seen_plus_one) - 1;
  last = MIN (s->events->len, seen + MAX_PULL_EVENTS);
  g_string_append_printf (out, "<m:GetEventsResponseMessage ResponseClass=\"Success\">"
                          "<m:ResponseCode>NoError</m:ResponseCode><m:Notification>"
                          "<t:SubscriptionId>%s</t:SubscriptionId>"
                          "<t:PreviousWatermark>%s</t:PreviousWatermark>"
                          "<t:MoreEvents>%s</t:MoreEvents>",
                          s->id, watermark, last < s->events->len ? "true" : "false");
  if (seen >= s->events->len)
    {
      /* Nothing new: a StatusEvent carries the watermark to poll with next. */
      g_autofree char *next = add_watermark (s);

      g_string_append_printf (out, "<t:StatusEvent><t:Watermark>%s</t:Watermark></t:StatusEvent>", next);
    }
  for (guint i = seen; i < last; i++)
    write_event (out, s->mailbox, g_ptr_array_index (s->events, i), TRUE);
  g_string_append (out, "</m:Notification></m:GetEventsResponseMessage>");
  end_response (out, "GetEvents");
  return out;
}

static GString *
op_unsubscribe (Request *req)
{
  g_autofree char *id = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "SubscriptionId");
  GString *out = begin_response (req->server, "Unsubscribe", TRUE);
  AglEwsCode code;

  if (lookup_subscription (req, id, &code) == NULL)
    append_error_message (out, "UnsubscribeResponseMessage", code, NULL);
  else
    {
      g_hash_table_remove (req->server->subscriptions, id);
      g_string_append (out, "<m:UnsubscribeResponseMessage ResponseClass=\"Success\">"
                            "<m:ResponseCode>NoError</m:ResponseCode></m:UnsubscribeResponseMessage>");
    }
  end_response (out, "Unsubscribe");
  return out;
}

/* Returns NULL when the response is streamed. */
static GString *
op_get_streaming_events (Request *req)
{
  xmlNode *ids = agl_ews_xml_child (req->op, AGL_EWS_NS_MESSAGES, "SubscriptionIds");
  g_autofree char *timeout = agl_ews_server_xml_child_text (req->op, AGL_EWS_NS_MESSAGES, "ConnectionTimeout");
  g_autoptr(GPtrArray) subs = g_ptr_array_new ();
  Stream *stream;

  for (xmlNode *n = agl_ews_xml_first_element (ids); n != NULL; n = agl_ews_xml_next_element (n))
    {
      g_autofree char *id = agl_ews_server_xml_text (n);
      AglEwsCode code;
      Subscription *s = lookup_subscription (req, id, &code);

      if (s == NULL || !s->streaming)
        {
          GString *out = begin_response (req->server, "GetStreamingEvents", TRUE);

          append_error_message (out, "GetStreamingEventsResponseMessage",
                                s == NULL ? code : AGL_EWS_CODE_INVALID_OPERATION, NULL);
          end_response (out, "GetStreamingEvents");
          return out;
        }
      g_ptr_array_add (subs, s);
    }

  stream = g_new0 (Stream, 1);
  stream->server = req->server;
  stream->msg = g_object_ref (req->msg);
  stream->subscription_ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (req->server->streams, stream);
  for (guint i = 0; i < subs->len; i++)
    {
      Subscription *s = g_ptr_array_index (subs, i);

      /* One stream per subscription, as on Exchange: the older connection
       * is told it was replaced and ends. */
      if (s->stream != NULL)
        stream_finish (s->stream, AGL_EWS_CODE_NEW_EVENT_STREAM_CONNECTION_OPENED);
      s->stream = stream;
      g_ptr_array_add (stream->subscription_ids, g_strdup (s->id));
    }

  soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (soup_server_message_get_response_headers (req->msg),
                                     SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (req->msg),
                                         "text/xml; charset=utf-8", NULL);
  g_signal_connect (req->msg, "finished", G_CALLBACK (stream_finished_cb), stream);

  /* Exchange opens the stream with a ConnectionStatus OK envelope, then
   * delivers what happened while no connection was open. */
  stream_send_status (stream, "OK");
  for (guint i = 0; i < subs->len; i++)
    {
      Subscription *s = g_ptr_array_index (subs, i);

      stream_send_events (stream, s, s->streamed);
    }
  stream->keepalive_id = g_timeout_add (req->server->keepalive_ms, stream_keepalive_cb, stream);
  stream->timeout_id = g_timeout_add ((guint) g_ascii_strtoull (timeout, NULL, 10) * req->server->minute_ms,
                                      stream_timeout_cb, stream);
  return NULL;
}

/* --- dispatch --------------------------------------------------------- */

static const struct
{
  const char *name;
  GString *(*handler) (Request *req);
} operations[] = {
  { "GetFolder", op_get_folder },
  { "SyncFolderItems", op_sync_folder_items },
  { "GetItem", op_get_item },
  { "CreateItem", op_create_item },
  { "UpdateItem", op_update_item },
  { "DeleteItem", op_delete_item },
  { "FindItem", op_find_item },
  { "GetUserOofSettingsRequest", op_get_user_oof_settings },
  { "ResolveNames", op_resolve_names },
  { "Subscribe", op_subscribe },
  { "GetEvents", op_get_events },
  { "Unsubscribe", op_unsubscribe },
  { "GetStreamingEvents", op_get_streaming_events },
};

static void
truncate_response (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr(GBytes) all = soup_message_body_flatten (body);
  gsize len = g_bytes_get_size (all);

  soup_message_body_truncate (body);
  soup_message_body_append (body, SOUP_MEMORY_COPY, g_bytes_get_data (all, NULL), len / 2);
}

/* Takes the connection over, writes the status line, headers announcing
 * the whole answer and half of its body, then closes: the client sees a
 * body that stops mid-way, as when a load balancer drops a connection. */
static void
cut_response (SoupServerMessage *msg)
{
  g_autoptr(GBytes) all = soup_message_body_flatten (soup_server_message_get_response_body (msg));
  g_autoptr(GIOStream) io = soup_server_message_steal_connection (msg);
  g_autofree char *head = NULL;
  GOutputStream *out;

  if (io == NULL)
    return;
  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                          "Server: Microsoft-IIS/10.0\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                          g_bytes_get_size (all));
  out = g_io_stream_get_output_stream (io);
  /* A few kilobytes on a local socket: writing them synchronously does not
   * hold the main loop in any way a test could notice. */
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, g_bytes_get_data (all, NULL), g_bytes_get_size (all) / 2, NULL, NULL, NULL);
  g_output_stream_flush (out, NULL, NULL);
  g_io_stream_close (io, NULL, NULL);
}

static void
request_clear (Request *req)
{
  g_clear_pointer (&req->doc, xmlFreeDoc);
  g_clear_pointer (&req->context_zone, g_free);
}

static void
process_ews (AglEwsServer      *self,
             SoupServerMessage *msg,
             AglEwsMailbox     *account,
             AglEwsFault        after)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  const char *data = g_bytes_get_data (body, NULL);
  gsize len = g_bytes_get_size (body);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Validation v = { data, len, NULL, 0, 0 };
  Request req = { self, msg, account, account, NULL, NULL, NULL };
  xmlNode *root, *header, *soap_body, *version_node, *impersonation, *tz;
  g_autofree char *version = NULL;
  GString *out = NULL;
  gboolean handled = FALSE;

  if (len > MAX_REQUEST_BYTES)
    {
      respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/html",
                    "HTTP Error 404.13 - Not Found: the request exceeds the request content length.");
      return;
    }
  req.doc = validate_body (self, &v);
  if (req.doc == NULL)
    {
      respond_fault (msg, AGL_EWS_CODE_SCHEMA_VALIDATION, v.violation, v.line, v.column, 0);
      g_free (v.violation);
      return;
    }
  root = req.doc != NULL ? xmlDocGetRootElement (req.doc) : NULL;
  soap_body = agl_ews_xml_child (root, AGL_EWS_NS_SOAP, "Body");
  req.op = agl_ews_xml_first_element (soap_body);
  if (!agl_ews_xml_is (root, AGL_EWS_NS_SOAP, "Envelope") || req.op == NULL)
    {
      /* The kit's wrapper also accepts a bare body or header element; a
       * request to the service must be a SOAP envelope. */
      respond_fault (msg, AGL_EWS_CODE_SCHEMA_VALIDATION,
                     "The element is not expected. Expected: 'Envelope' in namespace '"
                     AGL_EWS_NS_SOAP "'.", 1, 1, 0);
      request_clear (&req);
      return;
    }

  header = agl_ews_xml_child (root, AGL_EWS_NS_SOAP, "Header");
  version_node = agl_ews_xml_child (header, AGL_EWS_NS_TYPES, "RequestServerVersion");
  version = agl_ews_server_xml_attr (version_node, "Version");
  if (version != NULL && version_index (self, version) > version_index (self, self->version))
    {
      respond_fault (msg, AGL_EWS_CODE_INVALID_SERVER_VERSION, NULL, 0, 0, 0);
      request_clear (&req);
      return;
    }

  impersonation = agl_ews_xml_child (header, AGL_EWS_NS_TYPES, "ExchangeImpersonation");
  if (impersonation != NULL)
    {
      xmlNode *sid = agl_ews_xml_child (impersonation, AGL_EWS_NS_TYPES, "ConnectingSID");
      xmlNode *id = agl_ews_xml_first_element (sid);
      g_autofree char *address = agl_ews_server_xml_text (id);
      AglEwsMailbox *target = NULL;

      if (id != NULL && !xmlStrEqual (id->name, (const xmlChar *) "SID"))
        target = agl_ews_server_get_mailbox (self, address);
      if (target == NULL)
        {
          respond_fault (msg, AGL_EWS_CODE_NON_EXISTENT_MAILBOX, NULL, 0, 0, 0);
          request_clear (&req);
          return;
        }
      if (!agl_ews_mailbox_may_impersonate (account, target->address))
        {
          respond_fault (msg, AGL_EWS_CODE_IMPERSONATE_USER_DENIED, NULL, 0, 0, 0);
          request_clear (&req);
          return;
        }
      req.mailbox = target;
    }

  tz = agl_ews_xml_child (agl_ews_xml_child (header, AGL_EWS_NS_TYPES, "TimeZoneContext"),
                          AGL_EWS_NS_TYPES, "TimeZoneDefinition");
  req.context_zone = agl_ews_server_xml_attr (tz, "Id");

  if (g_strcmp0 (soup_message_headers_get_one (headers, "X-PreferServerAffinity"), "true") == 0)
    soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                                 "X-BackEndOverrideCookie=EXCH01.example.org~1941962757; path=/EWS; secure; HttpOnly");

  for (gsize i = 0; i < G_N_ELEMENTS (operations); i++)
    if (agl_ews_xml_is (req.op, AGL_EWS_NS_MESSAGES, operations[i].name))
      {
        out = operations[i].handler (&req);
        handled = TRUE;
        break;
      }

  if (!handled)
    {
      /* Valid EWS, but outside what this calendar-only server implements. */
      respond_fault (msg, AGL_EWS_CODE_INVALID_OPERATION, NULL, 0, 0, 0);
      request_clear (&req);
      return;
    }
  if (out != NULL)
    {
      set_xml_response (msg, SOUP_STATUS_OK, out);
      if (after == AGL_EWS_FAULT_TRUNCATED_XML)
        truncate_response (msg);
      else if (after == AGL_EWS_FAULT_CUT_CONNECTION)
        cut_response (msg);
    }
  request_clear (&req);
}

typedef struct
{
  AglEwsServer      *server;
  SoupServerMessage *msg;
  char              *account;
} Delayed;

static gboolean
delayed_cb (gpointer user_data)
{
  Delayed *d = user_data;
  AglEwsMailbox *account = agl_ews_server_get_mailbox (d->server, d->account);

  process_ews (d->server, d->msg, account, AGL_EWS_FAULT_NONE);
  soup_server_message_unpause (d->msg);
  g_object_unref (d->msg);
  g_object_unref (d->server);
  g_free (d->account);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
handle_ews (AglEwsServer      *self,
            SoupServerMessage *msg)
{
  AglEwsMailbox *account;
  AglEwsFault fault;
  guint parameter = 0;

  /* IIS authenticates before the service sees the method: clients such
   * as ews-javascript-api run the NTLM handshake with a GET. */
  account = authenticate (self, msg);
  if (account == NULL)
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_POST)
    {
      soup_message_headers_append (soup_server_message_get_response_headers (msg), "Allow", "POST");
      respond_text (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/html", "Method not allowed.");
      return;
    }

  /* Injected faults hit authenticated requests, so an NTLM handshake in
   * progress is never what breaks. */
  fault = agl_ews_fault_queue_take (self->faults, &parameter);
  switch (fault)
    {
    case AGL_EWS_FAULT_HTTP_500:
      respond_text (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/html",
                    "<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/EWS' Application.</h1></body></html>");
      return;
    case AGL_EWS_FAULT_HTTP_503:
      respond_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/html",
                    "<html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><hr><p>HTTP Error 503. The service is unavailable.</p></body></html>");
      return;
    case AGL_EWS_FAULT_SERVER_BUSY:
      respond_fault (msg, AGL_EWS_CODE_SERVER_BUSY, NULL, 0, 0, parameter);
      return;
    case AGL_EWS_FAULT_DELAY:
      {
        Delayed *d = g_new0 (Delayed, 1);

        d->server = g_object_ref (self);
        d->msg = g_object_ref (msg);
        d->account = g_strdup (account->address);
        soup_server_message_pause (msg);
        g_timeout_add (parameter, delayed_cb, d);
      }
      return;
    case AGL_EWS_FAULT_NONE:
    case AGL_EWS_FAULT_CUT_CONNECTION:
    case AGL_EWS_FAULT_TRUNCATED_XML:
    default:
      process_ews (self, msg, account, fault);
      return;
    }
}

static xmlNode *
find_descendant (xmlNode    *node,
                 const char *name)
{
  for (xmlNode *c = agl_ews_xml_first_element (node); c != NULL; c = agl_ews_xml_next_element (c))
    {
      xmlNode *found;

      if (xmlStrEqual (c->name, (const xmlChar *) name))
        return c;
      found = find_descendant (c, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
handle_autodiscover (AglEwsServer      *self,
                     SoupServerMessage *msg)
{
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *address = NULL;
  g_autofree char *url = NULL;
  AglEwsMailbox *mailbox;
  GString *out;

  if (authenticate (self, msg) == NULL)
    return;
  if (g_bytes_get_size (body) < MAX_REQUEST_BYTES)
    doc = xmlReadMemory (g_bytes_get_data (body, NULL), (int) g_bytes_get_size (body), "autodiscover.xml",
                         NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  address = agl_ews_server_xml_text (find_descendant (doc != NULL ? xmlDocGetRootElement (doc) : NULL,
                                                       "EMailAddress"));

  mailbox = agl_ews_server_get_mailbox (self, address);
  out = g_string_new ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">");
  if (mailbox == NULL)
    {
      g_string_append (out, "<Response><Error Time=\"00:00:00.0000000\" Id=\"1\"><ErrorCode>500</ErrorCode>"
                            "<Message>The e-mail address cannot be found.</Message><DebugData /></Error>"
                            "</Response></Autodiscover>");
      set_xml_response (msg, SOUP_STATUS_OK, out);
      return;
    }
  url = agl_ews_server_get_url (self);
  g_string_append (out, "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">"
                        "<User><DisplayName>");
  agl_ews_xml_escape (out, mailbox->display_name);
  g_string_append (out, "</DisplayName><AutoDiscoverSMTPAddress>");
  agl_ews_xml_escape (out, mailbox->address);
  g_string_append_printf (out, "</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType>"
                          "<Action>settings</Action><MicrosoftOnline>False</MicrosoftOnline>"
                          "<Protocol><Type>EXCH</Type><Server>EXCH01.example.org</Server>"
                          "<ServerVersion>73C18A1B</ServerVersion>"
                          "<ASUrl>%s</ASUrl><EwsUrl>%s</EwsUrl><EmwsUrl>%s</EmwsUrl><OOFUrl>%s</OOFUrl>"
                          "</Protocol><Protocol><Type>EXPR</Type><Server>127.0.0.1</Server><SSL>On</SSL>"
                          "<AuthPackage>Ntlm</AuthPackage><EwsUrl>%s</EwsUrl></Protocol></Account></Response>"
                          "</Autodiscover>", url, url, url, url, url);
  set_xml_response (msg, SOUP_STATUS_OK, out);
}

/* --- control endpoint ------------------------------------------------- */

static gboolean
peer_is_loopback (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return G_IS_INET_SOCKET_ADDRESS (remote) &&
         g_inet_address_get_is_loopback (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* A JSON string, escaped as RFC 8259 wants. */
static void
append_json_string (GString    *out,
                    const char *text)
{
  if (text == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

static void
append_json_member (GString    *out,
                    const char *name,
                    const char *value)
{
  append_json_string (out, name);
  g_string_append_c (out, ':');
  append_json_string (out, value);
}

/* The named (or tagged) extended properties of @node as one object:
 * PropertyName (or PropertyTag, PropertyId) -> Value. */
static void
append_extended_properties (GString       *out,
                            const xmlNode *node)
{
  gboolean first = TRUE;

  g_string_append (out, "\"extended_properties\":{");
  for (xmlNode *n = agl_ews_xml_first_element (node); n != NULL; n = agl_ews_xml_next_element (n))
    {
      xmlNode *uri = agl_ews_xml_child (n, AGL_EWS_NS_TYPES, "ExtendedFieldURI");
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (!agl_ews_xml_is (n, AGL_EWS_NS_TYPES, "ExtendedProperty") || uri == NULL)
        continue;
      name = agl_ews_server_xml_attr (uri, "PropertyName");
      if (name == NULL)
        name = agl_ews_server_xml_attr (uri, "PropertyTag");
      if (name == NULL)
        name = agl_ews_server_xml_attr (uri, "PropertyId");
      value = agl_ews_server_xml_child_text (n, AGL_EWS_NS_TYPES, "Value");
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      append_json_member (out, name != NULL ? name : "", value);
    }
  g_string_append_c (out, '}');
}

/* GET /control/mailbox/ADDR/items: what the calendar holds, for tests that
 * check what reached "Exchange" without a SyncFolderItems of their own.
 * Times are UTC as stored; exceptions list their original start and the
 * fields they change among Subject, Start and End. */
static char *
list_items_json (AglEwsMailbox *mailbox)
{
  g_autoptr(GString) out = g_string_new ("[");
  gboolean first = TRUE;

  for (guint i = 0; i < mailbox->items->len; i++)
    {
      AglEwsItem *item = g_ptr_array_index (mailbox->items, i);
      static const char * const fields[][2] = {
        { "subject", "Subject" }, { "start", "Start" }, { "end", "End" }, { "uid", "UID" },
        { "item_class", "ItemClass" }, { "location", "Location" },
      };
      xmlNode *zone;
      g_autofree char *zone_id = NULL;
      g_autofree char *all_day = NULL;

      if (item->deleted)
        continue;
      if (!first)
        g_string_append_c (out, ',');
      first = FALSE;
      g_string_append_c (out, '{');
      append_json_member (out, "id", item->id);
      for (gsize f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          g_autofree char *value = agl_ews_server_xml_child_text (item->node, AGL_EWS_NS_TYPES,
                                                                   fields[f][1]);

          g_string_append_c (out, ',');
          append_json_member (out, fields[f][0], value);
        }
      zone = agl_ews_xml_child (item->node, AGL_EWS_NS_TYPES, "StartTimeZone");
      zone_id = agl_ews_server_xml_attr (zone, "Id");
      g_string_append_c (out, ',');
      append_json_member (out, "start_time_zone", zone_id);
      all_day = agl_ews_server_xml_child_text (item->node, AGL_EWS_NS_TYPES, "IsAllDayEvent");
      g_string_append_printf (out, ",\"is_all_day\":%s", g_strcmp0 (all_day, "true") == 0 ? "true" : "false");
      g_string_append_printf (out, ",\"is_recurring\":%s,\"n_exceptions\":%u,"
                              "\"n_deleted_occurrences\":%u,",
                              agl_ews_xml_child (item->node, AGL_EWS_NS_TYPES, "Recurrence") != NULL
                              ? "true" : "false",
                              item->exceptions->len, item->deleted_starts->len);
      append_extended_properties (out, item->node);
      g_string_append (out, ",\"exceptions\":[");
      for (guint e = 0; e < item->exceptions->len; e++)
        {
          AglEwsException *exception = g_ptr_array_index (item->exceptions, e);
          g_autofree char *original = agl_ews_format_utc (exception->original_start);
          g_autofree char *subject = agl_ews_server_xml_child_text (exception->fields,
                                                                     AGL_EWS_NS_TYPES, "Subject");
          g_autofree char *start = agl_ews_server_xml_child_text (exception->fields,
                                                                   AGL_EWS_NS_TYPES, "Start");
          g_autofree char *end = agl_ews_server_xml_child_text (exception->fields,
                                                                 AGL_EWS_NS_TYPES, "End");

          g_string_append (out, e > 0 ? ",{" : "{");
          append_json_member (out, "original_start", original);
          g_string_append_c (out, ',');
          append_json_member (out, "subject", subject);
          g_string_append_c (out, ',');
          append_json_member (out, "start", start);
          g_string_append_c (out, ',');
          append_json_member (out, "end", end);
          g_string_append_c (out, '}');
        }
      g_string_append (out, "]}");
    }
  g_string_append (out, "]\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* GET    /control/mailbox/ADDR/items                     list (JSON, see list_items_json)
 * POST   /control/mailbox/ADDR/items[?class=CLASS]       create (body: t:CalendarItem)
 * POST   /control/mailbox/ADDR/items/ID                  edit the given fields
 * POST   /control/mailbox/ADDR/items/ID/occurrences/N    edit occurrence N
 * POST   /control/mailbox/ADDR/items/ID/move?to=FOLDER   move out of the calendar
 * DELETE /control/mailbox/ADDR/items/ID[/occurrences/N]  delete
 * POST   /control/faults?kind=server-busy&count=1&parameter=5000
 * DELETE /control/faults                                 drop the faults still queued
 * POST   /control/streaming?enabled=false                refuse streaming subscriptions
 * POST   /control/subscriptions/expire                   forget every subscription */
static void
handle_control (AglEwsServer      *self,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query)
{
  g_auto(GStrv) parts = g_strsplit (path + strlen (CONTROL_PREFIX), "/", -1);
  guint n = g_strv_length (parts);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_autoptr(GError) error = NULL;

  if (!self->control_enabled || !peer_is_loopback (msg))
    {
      respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
      return;
    }

  if (n == 1 && g_strcmp0 (parts[0], "faults") == 0 && method == SOUP_METHOD_POST)
    {
      const char *kind = query != NULL ? g_hash_table_lookup (query, "kind") : NULL;
      const char *count = query != NULL ? g_hash_table_lookup (query, "count") : NULL;
      const char *parameter = query != NULL ? g_hash_table_lookup (query, "parameter") : NULL;
      AglEwsFault fault;

      if (!agl_ews_fault_from_string (kind, &fault))
        {
          respond_text (msg, SOUP_STATUS_BAD_REQUEST, "text/plain",
                        "kind must be http-500, http-503, server-busy, cut-connection, truncated-xml or delay.\n");
          return;
        }
      agl_ews_server_inject_fault (self, fault, count != NULL ? (guint) g_ascii_strtoull (count, NULL, 10) : 1,
                                   parameter != NULL ? (guint) g_ascii_strtoull (parameter, NULL, 10) : 0);
      respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
      return;
    }

  if (n == 1 && g_strcmp0 (parts[0], "faults") == 0 && method == SOUP_METHOD_DELETE)
    {
      /* The fault passes: what is still queued is dropped. */
      agl_ews_fault_queue_clear (self->faults);
      respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
      return;
    }

  if (n == 1 && g_strcmp0 (parts[0], "streaming") == 0 && method == SOUP_METHOD_POST)
    {
      const char *enabled = query != NULL ? g_hash_table_lookup (query, "enabled") : NULL;

      if (g_strcmp0 (enabled, "true") != 0 && g_strcmp0 (enabled, "false") != 0)
        {
          respond_text (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", "enabled must be true or false.\n");
          return;
        }
      agl_ews_server_set_streaming_enabled (self, g_strcmp0 (enabled, "true") == 0);
      respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
      return;
    }

  if (n == 2 && g_strcmp0 (parts[0], "subscriptions") == 0 && g_strcmp0 (parts[1], "expire") == 0 &&
      method == SOUP_METHOD_POST)
    {
      g_autofree char *reply = g_strdup_printf ("%u\n", agl_ews_server_expire_subscriptions (self));

      respond_text (msg, SOUP_STATUS_OK, "text/plain", reply);
      return;
    }

  if (n >= 3 && g_strcmp0 (parts[0], "mailbox") == 0 && g_strcmp0 (parts[2], "items") == 0)
    {
      g_autofree char *address = g_uri_unescape_string (parts[1], NULL);
      g_autofree char *item_id = NULL;
      gboolean occurrence = FALSE;
      gboolean move = FALSE;
      guint index = 0;

      /* ItemIds are base64 and may hold "/" (SoupServer decodes a "%2F"
       * before we see the path): the id is everything between "items/"
       * and a known tail, "move" or "occurrences/N". */
      if (n >= 4)
        {
          guint id_end = n;
          char *saved;

          if (n >= 6 && g_strcmp0 (parts[n - 2], "occurrences") == 0)
            {
              index = (guint) g_ascii_strtoull (parts[n - 1], NULL, 10);
              occurrence = TRUE;
              id_end = n - 2;
            }
          else if (n >= 5 && g_strcmp0 (parts[n - 1], "move") == 0)
            {
              move = TRUE;
              id_end = n - 1;
            }
          saved = parts[id_end];
          parts[id_end] = NULL;
          item_id = g_strjoinv ("/", parts + 3);
          parts[id_end] = saved;
        }

      if (n == 3 && method == SOUP_METHOD_GET)
        {
          AglEwsMailbox *mailbox = agl_ews_server_get_mailbox (self, address);
          g_autofree char *listing = mailbox != NULL ? list_items_json (mailbox) : NULL;

          if (listing != NULL)
            {
              respond_text (msg, SOUP_STATUS_OK, "application/json", listing);
              return;
            }
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "There is no mailbox “%s”.", address);
        }
      else if (n == 3 && method == SOUP_METHOD_POST)
        {
          const char *item_class = query != NULL ? g_hash_table_lookup (query, "class") : NULL;
          g_autofree char *id = agl_ews_server_create_item_of_class (self, address, item_class, text,
                                                                     &error);

          if (id != NULL)
            {
              g_autofree char *reply = g_strdup_printf ("%s\n", id);

              respond_text (msg, SOUP_STATUS_CREATED, "text/plain", reply);
              return;
            }
        }
      else if (item_id != NULL && !move && (!occurrence || index > 0) && method == SOUP_METHOD_POST)
        {
          if (agl_ews_server_update_item_xml (self, address, item_id, index, text, &error))
            {
              respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
              return;
            }
        }
      else if (item_id != NULL && move && method == SOUP_METHOD_POST)
        {
          const char *to = query != NULL ? g_hash_table_lookup (query, "to") : NULL;

          if (agl_ews_server_move_item (self, address, item_id, to != NULL ? to : "deleteditems",
                                        &error))
            {
              respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
              return;
            }
        }
      else if (item_id != NULL && !move && (!occurrence || index > 0) && method == SOUP_METHOD_DELETE)
        {
          if (agl_ews_server_delete_item (self, address, item_id, index, &error))
            {
              respond_text (msg, SOUP_STATUS_OK, "text/plain", "OK\n");
              return;
            }
        }
      if (error != NULL)
        {
          g_autofree char *reply = g_strdup_printf ("%s\n", error->message);

          respond_text (msg, SOUP_STATUS_BAD_REQUEST, "text/plain", reply);
          return;
        }
    }
  respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/plain", "Not found.\n");
}

/* Exchange publishes its WSDL and schemas beside the service (clients such
 * as Evolution read Services.wsdl); these are the kit's copies. */
static void
handle_schema_file (AglEwsServer      *self,
                    SoupServerMessage *msg,
                    const char        *name)
{
  g_autofree char *path = g_build_filename (self->kit_dir, "schemas", name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (authenticate (self, msg) == NULL)
    return;
  if (soup_server_message_get_method (msg) != SOUP_METHOD_GET ||
      !g_file_get_contents (path, &contents, &len, NULL))
    {
      respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/html", "<html><body>404 Not Found</body></html>");
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/xml", SOUP_MEMORY_TAKE, g_steal_pointer (&contents), len);
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  AglEwsServer *self = user_data;

  if (g_ascii_strcasecmp (path, EWS_PATH) == 0)
    handle_ews (self, msg);
  else if (g_ascii_strcasecmp (path, AUTODISCOVER_PATH) == 0)
    handle_autodiscover (self, msg);
  else if (g_ascii_strcasecmp (path, "/EWS/Services.wsdl") == 0)
    handle_schema_file (self, msg, "services.wsdl");
  else if (g_ascii_strcasecmp (path, "/EWS/messages.xsd") == 0)
    handle_schema_file (self, msg, "messages.xsd");
  else if (g_ascii_strcasecmp (path, "/EWS/types.xsd") == 0)
    handle_schema_file (self, msg, "types.xsd");
  else if (g_str_has_prefix (path, CONTROL_PREFIX))
    handle_control (self, msg, path, query);
  else
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/html", "<html><body>404 Not Found</body></html>");
}

static void
got_headers_cb (SoupServerMessage *msg,
                gpointer           user_data)
{
  goffset length = soup_message_headers_get_content_length (soup_server_message_get_request_headers (msg));

  /* Refused before the body is read, as IIS's request filtering does. */
  if (length > MAX_REQUEST_BYTES)
    respond_text (msg, SOUP_STATUS_NOT_FOUND, "text/html",
                  "HTTP Error 404.13 - Not Found: the request exceeds the request content length.");
}

static void
request_started_cb (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  g_signal_connect (msg, "got-headers", G_CALLBACK (got_headers_cb), NULL);
}

/* --- GObject ---------------------------------------------------------- */

static void
agl_ews_server_dispose (GObject *object)
{
  AglEwsServer *self = AGL_EWS_SERVER (object);

  g_clear_pointer (&self->subscriptions, g_hash_table_unref);
  if (self->soup != NULL)
    {
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }
  /* Their messages will not report "finished" once the server is gone. */
  while (self->streams->len > 0)
    {
      Stream *stream = g_ptr_array_index (self->streams, 0);

      g_signal_handlers_disconnect_by_data (stream->msg, stream);
      stream_free (stream);
    }
  G_OBJECT_CLASS (agl_ews_server_parent_class)->dispose (object);
}

static void
agl_ews_server_finalize (GObject *object)
{
  AglEwsServer *self = AGL_EWS_SERVER (object);

  g_clear_pointer (&self->schema, xmlSchemaFree);
  g_ptr_array_unref (self->versions);
  g_ptr_array_unref (self->item_fields);
  g_hash_table_unref (self->mailboxes);
  g_ptr_array_unref (self->streams);
  agl_ews_fault_queue_free (self->faults);
  g_free (self->version);
  g_free (self->ntlm_domain);
  g_free (self->kit_dir);
  G_OBJECT_CLASS (agl_ews_server_parent_class)->finalize (object);
}

static void
agl_ews_server_class_init (AglEwsServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_ews_server_dispose;
  object_class->finalize = agl_ews_server_finalize;
}

static void
agl_ews_server_init (AglEwsServer *self)
{
  self->versions = g_ptr_array_new_with_free_func (g_free);
  self->item_fields = g_ptr_array_new_with_free_func (g_free);
  self->mailboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) agl_ews_mailbox_free);
  self->subscriptions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, subscription_free);
  self->streams = g_ptr_array_new ();
  self->faults = agl_ews_fault_queue_new ();
  self->streaming_enabled = TRUE;
  /* Exchange 2016 CU23 (build 15.1.2507), as the issue expects "account test" to print. */
  self->major = 15;
  self->minor = 1;
  self->major_build = 2507;
  self->minor_build = 39;
  self->version = g_strdup ("V2017_07_11");
  self->ntlm_domain = g_strdup ("EXAMPLE");
  self->minute_ms = 60 * 1000;
  self->keepalive_ms = 15 * 1000;
}

/* --- public API ------------------------------------------------------- */

/**
 * agl_ews_server_new:
 * @kit_dir: the EWS reference kit (holds schemas/ews-envelope.xsd)
 * @error: return location for an error
 *
 * Loads and compiles the schemas once; the server does not listen yet.
 */
AglEwsServer *
agl_ews_server_new (const char *kit_dir,
                    GError    **error)
{
  g_autoptr(AglEwsServer) self = g_object_new (AGL_TYPE_EWS_SERVER, NULL);

  if (!load_schema (self, kit_dir, error))
    return NULL;
  self->kit_dir = g_strdup (kit_dir);
  return g_steal_pointer (&self);
}

/**
 * agl_ews_server_listen:
 * @certificate: (nullable): the TLS certificate, or %NULL for plain HTTP
 * @port: the port, 0 for any free one
 *
 * Starts answering on 127.0.0.1.
 */
gboolean
agl_ews_server_listen (AglEwsServer    *self,
                       GTlsCertificate *certificate,
                       guint            port,
                       GError         **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;

  self->soup = soup_server_new ("server-header", "Microsoft-IIS/10.0",
                                "tls-certificate", certificate, NULL);
  soup_server_add_handler (self->soup, NULL, server_cb, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), self);
  self->tls = certificate != NULL;

  /* A socket of our own: soup_server_listen_local() in libsoup 3.2 leaks
   * the address it looks up, which memcheck runs would report. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return FALSE;
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, (guint16) port);
  g_socket_set_listen_backlog (socket, 32);
  if (!g_socket_bind (socket, address, TRUE, error) ||
      !g_socket_listen (socket, error) ||
      !soup_server_listen_socket (self->soup, socket, self->tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error))
    return FALSE;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return TRUE;
}

guint
agl_ews_server_get_port (AglEwsServer *self)
{
  return self->port;
}

/**
 * agl_ews_server_get_url:
 *
 * Returns: the EWS endpoint URL, as Autodiscover gives it.
 */
char *
agl_ews_server_get_url (AglEwsServer *self)
{
  return g_strdup_printf ("%s://127.0.0.1:%u" EWS_PATH, self->tls ? "https" : "http", self->port);
}

void
agl_ews_server_set_version (AglEwsServer *self,
                            guint         major,
                            guint         minor,
                            guint         major_build,
                            guint         minor_build,
                            const char   *version)
{
  self->major = major;
  self->minor = minor;
  self->major_build = major_build;
  self->minor_build = minor_build;
  g_free (self->version);
  self->version = g_strdup (version);
}

/**
 * agl_ews_server_set_minute_length:
 *
 * How long one of Exchange's minutes lasts (ConnectionTimeout of streams,
 * Timeout of pull subscriptions), so tests need not wait real minutes.
 */
void
agl_ews_server_set_minute_length (AglEwsServer *self,
                                  guint         milliseconds)
{
  self->minute_ms = MAX (milliseconds, 1);
}

void
agl_ews_server_set_keepalive_interval (AglEwsServer *self,
                                       guint         milliseconds)
{
  self->keepalive_ms = MAX (milliseconds, 1);
}

/**
 * agl_ews_server_set_ntlm_domain:
 *
 * The NetBIOS domain the NTLM challenge announces (default EXAMPLE).
 */
void
agl_ews_server_set_ntlm_domain (AglEwsServer *self,
                                const char   *domain)
{
  g_free (self->ntlm_domain);
  self->ntlm_domain = g_strdup (domain);
}

void
agl_ews_server_set_control_enabled (AglEwsServer *self,
                                    gboolean      enabled)
{
  self->control_enabled = enabled;
}

AglEwsMailbox *
agl_ews_server_add_mailbox (AglEwsServer *self,
                            const char   *address,
                            const char   *user,
                            const char   *domain,
                            const char   *password,
                            const char   *display_name)
{
  AglEwsMailbox *mailbox = agl_ews_mailbox_new (address, user, domain, password, display_name);

  mailbox->changed_func = mailbox_changed_cb;
  mailbox->changed_data = self;
  g_hash_table_replace (self->mailboxes, g_ascii_strdown (address, -1), mailbox);
  return mailbox;
}

AglEwsMailbox *
agl_ews_server_get_mailbox (AglEwsServer *self,
                            const char   *address)
{
  g_autofree char *key = NULL;

  if (address == NULL)
    return NULL;
  key = g_ascii_strdown (address, -1);
  return g_hash_table_lookup (self->mailboxes, key);
}

/**
 * agl_ews_server_inject_fault:
 * @count: how many of the next EWS requests get it
 * @parameter: BackOffMilliseconds for %AGL_EWS_FAULT_SERVER_BUSY, the
 *   delay in milliseconds for %AGL_EWS_FAULT_DELAY
 */
void
agl_ews_server_inject_fault (AglEwsServer *self,
                             AglEwsFault   fault,
                             guint         count,
                             guint         parameter)
{
  agl_ews_fault_queue_push (self->faults, fault, count, parameter);
}

static xmlDoc *
parse_item_xml (const char *xml,
                GError    **error)
{
  xmlDoc *doc = xmlReadMemory (xml, (int) strlen (xml), "item.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

  if (doc == NULL || !agl_ews_xml_is (xmlDocGetRootElement (doc), AGL_EWS_NS_TYPES, "CalendarItem"))
    {
      g_clear_pointer (&doc, xmlFreeDoc);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "Expected a t:CalendarItem element in the namespace " AGL_EWS_NS_TYPES ".");
    }
  return doc;
}

static AglEwsMailbox *
require_mailbox (AglEwsServer *self,
                 const char   *address,
                 GError      **error)
{
  AglEwsMailbox *mailbox = agl_ews_server_get_mailbox (self, address);

  if (mailbox == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "There is no mailbox “%s”.", address);
  return mailbox;
}

/**
 * agl_ews_server_create_item_xml:
 * @calendar_item_xml: a t:CalendarItem element, as in a CreateItem
 *
 * Creates an item as if the user had made it in Outlook.
 *
 * Returns: the new ItemId
 */
char *
agl_ews_server_create_item_xml (AglEwsServer *self,
                                const char   *address,
                                const char   *calendar_item_xml,
                                GError      **error)
{
  return agl_ews_server_create_item_of_class (self, address, NULL, calendar_item_xml, error);
}

/**
 * agl_ews_server_create_item_of_class:
 * @item_class: (nullable): the message class, e.g.
 *   "IPM.Schedule.Meeting.Request"; %NULL for an appointment
 * @calendar_item_xml: the item's fields in a t:CalendarItem element
 *
 * Files an item of another class in the calendar folder, as a transport
 * agent or a careless user does: it is reported (SyncFolderItems, FindItem,
 * GetItem) as the element its class maps to (t:MeetingRequest …) with the
 * ItemType fields only, and calendar views leave it out.
 *
 * Returns: the new ItemId
 */
char *
agl_ews_server_create_item_of_class (AglEwsServer *self,
                                     const char   *address,
                                     const char   *item_class,
                                     const char   *calendar_item_xml,
                                     GError      **error)
{
  AglEwsMailbox *mailbox = require_mailbox (self, address, error);
  g_autoptr(xmlDoc) doc = NULL;
  AglEwsItem *item;

  if (mailbox == NULL || (doc = parse_item_xml (calendar_item_xml, error)) == NULL)
    return NULL;
  if (item_class != NULL && (*item_class == '\0' || !g_str_is_ascii (item_class)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a message class.", item_class);
      return NULL;
    }
  item = agl_ews_mailbox_create_item (mailbox, xmlDocGetRootElement (doc), NULL, error);
  if (item != NULL && item_class != NULL)
    agl_ews_mailbox_set_item_class (mailbox, item, item_class);
  return item != NULL ? g_strdup (item->id) : NULL;
}

/**
 * agl_ews_server_update_item_xml:
 * @occurrence_index: 0 for the item itself, else the 1-based occurrence
 * @calendar_item_xml: a t:CalendarItem holding the fields to set
 *
 * Edits an item (or one occurrence of a series) as if in Outlook.
 */
gboolean
agl_ews_server_update_item_xml (AglEwsServer *self,
                                const char   *address,
                                const char   *item_id,
                                guint         occurrence_index,
                                const char   *calendar_item_xml,
                                GError      **error)
{
  AglEwsMailbox *mailbox = require_mailbox (self, address, error);
  g_autoptr(xmlDoc) doc = NULL;
  AglEwsItem *item;
  xmlNode *work;
  gint64 occurrence = 0;

  if (mailbox == NULL || (doc = parse_item_xml (calendar_item_xml, error)) == NULL)
    return FALSE;
  item = agl_ews_mailbox_lookup (mailbox, item_id, error);
  if (item == NULL)
    return FALSE;
  if (occurrence_index > 0 &&
      !agl_ews_mailbox_occurrence_start (mailbox, item, occurrence_index, &occurrence, error))
    return FALSE;

  work = occurrence != 0 ? agl_ews_mailbox_occurrence_node (mailbox, item, occurrence)
                         : agl_ews_mailbox_begin_update (mailbox, item);
  for (xmlNode *f = agl_ews_xml_first_element (xmlDocGetRootElement (doc)); f != NULL;
       f = agl_ews_xml_next_element (f))
    {
      agl_ews_xml_remove_children_named (work, (const char *) f->name);
      xmlAddChild (work, xmlDocCopyNode (f, mailbox->store, 1));
    }
  if (occurrence != 0)
    return agl_ews_mailbox_update_occurrence (mailbox, item, occurrence, work, NULL, error);
  return agl_ews_mailbox_commit_update (mailbox, item, work, NULL, error);
}

gboolean
agl_ews_server_delete_item (AglEwsServer *self,
                            const char   *address,
                            const char   *item_id,
                            guint         occurrence_index,
                            GError      **error)
{
  AglEwsMailbox *mailbox = require_mailbox (self, address, error);
  AglEwsItem *item = mailbox != NULL ? agl_ews_mailbox_lookup (mailbox, item_id, error) : NULL;
  gint64 occurrence;

  if (item == NULL)
    return FALSE;
  if (occurrence_index == 0)
    {
      agl_ews_mailbox_delete_item (mailbox, item);
      return TRUE;
    }
  if (!agl_ews_mailbox_occurrence_start (mailbox, item, occurrence_index, &occurrence, error))
    return FALSE;
  agl_ews_mailbox_delete_occurrence (mailbox, item, occurrence);
  return TRUE;
}

/**
 * agl_ews_server_move_item:
 * @folder: the distinguished id of the folder it goes to ("deleteditems",
 *   "inbox" …); not "calendar"
 *
 * Moves an item out of the calendar folder as if in Outlook.  As on
 * Exchange, the calendar's SyncFolderItems then reports a Delete of it;
 * subscriptions see a DeletedEvent (this server generates no MovedEvent).
 */
gboolean
agl_ews_server_move_item (AglEwsServer *self,
                          const char   *address,
                          const char   *item_id,
                          const char   *folder,
                          GError      **error)
{
  static const char * const folders[] = {
    "deleteditems", "inbox", "drafts", "outbox", "sentitems", "junkemail", "notes", "tasks",
    "contacts", "msgfolderroot", "archivemsgfolderroot", NULL
  };
  AglEwsMailbox *mailbox = require_mailbox (self, address, error);
  AglEwsItem *item = mailbox != NULL ? agl_ews_mailbox_lookup (mailbox, item_id, error) : NULL;

  if (item == NULL)
    return FALSE;
  if (folder == NULL || !g_strv_contains (folders, folder))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a distinguished folder other than the calendar.",
                   folder != NULL ? folder : "");
      return FALSE;
    }
  agl_ews_mailbox_delete_item (mailbox, item);
  return TRUE;
}

/**
 * agl_ews_server_set_streaming_enabled:
 * @enabled: %FALSE to refuse StreamingSubscriptionRequest
 *
 * While disabled, Subscribe with a StreamingSubscriptionRequest answers
 * ErrorInvalidSubscriptionRequest (pull subscriptions still work), as a
 * server without streaming notifications refuses it.
 */
void
agl_ews_server_set_streaming_enabled (AglEwsServer *self,
                                      gboolean      enabled)
{
  self->streaming_enabled = enabled;
}

/**
 * agl_ews_server_expire_subscriptions:
 *
 * Forgets every subscription, as a mailbox move or a restarted server
 * does: an open streaming connection ends with ErrorSubscriptionNotFound,
 * and the next GetStreamingEvents, GetEvents or Unsubscribe of any of them
 * gets ErrorSubscriptionNotFound.
 *
 * Returns: how many subscriptions ended
 */
guint
agl_ews_server_expire_subscriptions (AglEwsServer *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = g_hash_table_size (self->subscriptions);

  g_hash_table_iter_init (&iter, self->subscriptions);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Subscription *s = value;

      if (s->stream != NULL)
        stream_finish (s->stream, AGL_EWS_CODE_SUBSCRIPTION_NOT_FOUND);
    }
  g_hash_table_remove_all (self->subscriptions);
  return n;
}
