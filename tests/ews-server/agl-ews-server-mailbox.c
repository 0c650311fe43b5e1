/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <libxml/parser.h>

#include "agl-ews-server-faults.h"
#include "agl-ews-server-mailbox.h"
#include "agl-ews-server-recurrence.h"
#include "agl-ews-server-xml.h"

#define DEFAULT_WINDOWS_ZONES "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml"

/* Fields the server owns: a client sending them on create or update does
 * not get to set them, as on Exchange where they are read-only. */
static const char * const server_fields[] = {
  "ItemId", "ParentFolderId", "DateTimeCreated", "LastModifiedTime", "CalendarItemType",
  "IsRecurring", "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences",
  "DeletedOccurrences", "MyResponseType", "Duration", "HasAttachments", "IsAssociated",
  "ItemClass", "OriginalStart", "RecurrenceId", "AppointmentState", "IsCancelled",
  "DateTimeStamp", "Size", NULL
};

/* Windows zone ids ("W. Europe Standard Time") to IANA zones, from CLDR as
 * the client does; loaded once. */
static GHashTable *
windows_zones (void)
{
  static GHashTable *table;

  if (g_once_init_enter (&table))
    {
      GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      const char *path = g_getenv ("AGL_CLDR_WINDOWS_ZONES");
      g_autoptr(xmlDoc) doc = NULL;

      doc = xmlReadFile (path != NULL ? path : DEFAULT_WINDOWS_ZONES, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
      for (xmlNode *n = doc != NULL ? xmlDocGetRootElement (doc) : NULL; n != NULL; )
        {
          if (n->type == XML_ELEMENT_NODE && xmlStrEqual (n->name, (const xmlChar *) "mapZone"))
            {
              g_autofree char *other = agl_ews_server_xml_attr (n, "other");
              g_autofree char *territory = agl_ews_server_xml_attr (n, "territory");
              g_autofree char *type = agl_ews_server_xml_attr (n, "type");

              if (g_strcmp0 (territory, "001") == 0 && other != NULL && type != NULL)
                {
                  char *space = strchr (type, ' ');

                  if (space != NULL)
                    *space = '\0';
                  g_hash_table_replace (t, g_steal_pointer (&other), g_steal_pointer (&type));
                }
            }
          if (n->children != NULL && n->type == XML_ELEMENT_NODE)
            n = n->children;
          else
            {
              while (n != NULL && n->next == NULL)
                n = n->parent;
              if (n != NULL)
                n = n->next;
            }
        }
      g_once_init_leave (&table, t);
    }
  return table;
}

GTimeZone *
agl_ews_time_zone_from_windows (const char *id)
{
  const char *iana;

  if (id == NULL || *id == '\0' || g_strcmp0 (id, "UTC") == 0)
    return g_time_zone_new_utc ();
  iana = g_hash_table_lookup (windows_zones (), id);
  return g_time_zone_new_identifier (iana != NULL ? iana : id);
}

static char *
random_token (const guint8 *prefix,
              gsize         prefix_len,
              gsize         random_len)
{
  g_autofree guint8 *buf = g_malloc (prefix_len + random_len);

  memcpy (buf, prefix, prefix_len);
  for (gsize i = 0; i < random_len; i++)
    buf[prefix_len + i] = (guint8) g_random_int_range (0, 256);
  return g_base64_encode (buf, prefix_len + random_len);
}

/* Ids look like Exchange's (base64 of a binary entry id starting
 * 00 03 24 00, "AAMkA…") so clients cannot rely on a friendlier shape. */
static const guint8 item_id_prefix[] = { 0x00, 0x03, 0x24, 0x00 };
static const guint8 occurrence_id_prefix[] = { 0x00, 0x03, 0x24, 0x11 };
#define ID_RANDOM_LEN 40

static char *
new_item_id (void)
{
  return random_token (item_id_prefix, sizeof item_id_prefix, ID_RANDOM_LEN);
}

static char *
new_change_key (void)
{
  static const guint8 prefix[] = { 0x0f, 0, 0, 0, 0x16, 0, 0, 0 };

  return random_token (prefix, sizeof prefix, 16);
}

static void
exception_free (gpointer data)
{
  AglEwsException *ex = data;

  g_free (ex->id);
  if (ex->fields != NULL)
    {
      xmlUnlinkNode (ex->fields);
      xmlFreeNode (ex->fields);
    }
  g_free (ex);
}

static void
item_free (gpointer data)
{
  AglEwsItem *item = data;

  g_free (item->id);
  g_free (item->change_key);
  g_ptr_array_unref (item->exceptions);
  g_array_unref (item->deleted_starts);
  g_free (item);
}

AglEwsMailbox *
agl_ews_mailbox_new (const char *address,
                     const char *user,
                     const char *domain,
                     const char *password,
                     const char *display_name)
{
  AglEwsMailbox *self = g_new0 (AglEwsMailbox, 1);
  xmlNode *root;
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, address, -1);
  guint8 folder[36] = { 0x00, 0x01, 0x2e, 0x00 };

  self->address = g_strdup (address);
  self->user = g_strdup (user);
  self->domain = g_strdup (domain);
  self->password = g_strdup (password);
  self->display_name = g_strdup (display_name != NULL ? display_name : address);
  self->may_impersonate = g_ptr_array_new_with_free_func (g_free);
  self->oof_state = g_strdup ("Disabled");
  self->oof_audience = g_strdup ("All");
  self->oof_internal_reply = g_strdup ("");
  self->oof_external_reply = g_strdup ("");

  for (int i = 0; i < 32; i++)
    folder[4 + i] = (guint8) g_ascii_xdigit_value (sum[i]) << 4 | g_ascii_xdigit_value (sum[i + 1]);
  self->folder_id = g_base64_encode (folder, sizeof folder);
  self->folder_change_key = g_strdup ("AgAAABYAAAA=");

  self->store = xmlNewDoc ((const xmlChar *) "1.0");
  root = xmlNewDocNode (self->store, NULL, (const xmlChar *) "Store", NULL);
  xmlDocSetRootElement (self->store, root);
  self->ns = xmlNewNs (root, (const xmlChar *) AGL_EWS_NS_TYPES, (const xmlChar *) "t");
  xmlSetNs (root, self->ns);

  self->items = g_ptr_array_new_with_free_func (item_free);
  self->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->occurrences = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->sync_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
agl_ews_mailbox_free (AglEwsMailbox *self)
{
  if (self == NULL)
    return;
  g_free (self->address);
  g_free (self->user);
  g_free (self->domain);
  g_free (self->password);
  g_free (self->display_name);
  g_ptr_array_unref (self->may_impersonate);
  g_free (self->oof_state);
  g_free (self->oof_audience);
  g_free (self->oof_internal_reply);
  g_free (self->oof_external_reply);
  g_free (self->folder_id);
  g_free (self->folder_change_key);
  g_hash_table_unref (self->by_id);
  g_hash_table_unref (self->occurrences);
  g_hash_table_unref (self->sync_states);
  /* Items hold nodes of the store; free them before the document. */
  g_ptr_array_unref (self->items);
  xmlFreeDoc (self->store);
  g_free (self);
}

gboolean
agl_ews_mailbox_may_impersonate (AglEwsMailbox *self,
                                 const char    *address)
{
  for (guint i = 0; i < self->may_impersonate->len; i++)
    {
      const char *allowed = g_ptr_array_index (self->may_impersonate, i);

      if (g_strcmp0 (allowed, "*") == 0 || g_ascii_strcasecmp (allowed, address) == 0)
        return TRUE;
    }
  return FALSE;
}

guint
agl_ews_mailbox_count_items (AglEwsMailbox *self)
{
  guint n = 0;

  for (guint i = 0; i < self->items->len; i++)
    n += ((AglEwsItem *) g_ptr_array_index (self->items, i))->deleted ? 0 : 1;
  return n;
}

static gboolean
id_is_well_formed (const char   *id,
                   const guint8 *prefix)
{
  g_autofree guint8 *raw = NULL;
  gsize len = 0;

  if (id == NULL || *id == '\0' || strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != strlen (id))
    return FALSE;
  raw = g_base64_decode (id, &len);
  return len == 4 + ID_RANDOM_LEN && memcmp (raw, prefix, 4) == 0;
}

AglEwsItem *
agl_ews_mailbox_lookup (AglEwsMailbox *self,
                        const char    *id,
                        GError       **error)
{
  AglEwsItem *item;

  if (!id_is_well_formed (id, item_id_prefix))
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_ID_MALFORMED);
      return NULL;
    }
  item = g_hash_table_lookup (self->by_id, id);
  if (item == NULL || item->deleted)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_ITEM_NOT_FOUND);
      return NULL;
    }
  return item;
}

AglEwsItem *
agl_ews_mailbox_lookup_any (AglEwsMailbox *self,
                            const char    *id,
                            gint64        *original_start,
                            GError       **error)
{
  *original_start = 0;
  if (id_is_well_formed (id, occurrence_id_prefix))
    {
      AglEwsItem *master = agl_ews_mailbox_lookup_occurrence (self, id, original_start);

      if (master == NULL)
        agl_ews_set_code_error (error, AGL_EWS_CODE_ITEM_NOT_FOUND);
      return master;
    }
  return agl_ews_mailbox_lookup (self, id, error);
}

static gboolean
parse_time (const char *text,
            GTimeZone  *zone,
            gint64     *out)
{
  g_autoptr(GDateTime) dt = NULL;

  if (text == NULL)
    return FALSE;
  dt = g_date_time_new_from_iso8601 (text, zone);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt);
  return TRUE;
}

gboolean
agl_ews_node_times (const xmlNode *node,
                    gint64        *start,
                    gint64        *end)
{
  g_autofree char *s = agl_ews_server_xml_child_text (node, AGL_EWS_NS_TYPES, "Start");
  g_autofree char *e = agl_ews_server_xml_child_text (node, AGL_EWS_NS_TYPES, "End");
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  return parse_time (s, utc, start) && parse_time (e, utc, end);
}

gboolean
agl_ews_item_times (AglEwsItem *item,
                    gint64     *start,
                    gint64     *end)
{
  return agl_ews_node_times (item->node, start, end);
}

static char *
zone_id_of (const xmlNode *node,
            const char    *element,
            const char    *context_zone)
{
  xmlNode *tz = agl_ews_xml_child (node, AGL_EWS_NS_TYPES, element);
  g_autofree char *id = agl_ews_server_xml_attr (tz, "Id");

  if (id != NULL)
    return g_steal_pointer (&id);
  return g_strdup (context_zone);
}

static gboolean
has_zone_designator (const char *text)
{
  const char *t = strchr (text, 'T');

  return t != NULL && (strchr (t, 'Z') != NULL || strchr (t, '+') != NULL || strchr (t, '-') != NULL);
}

/* Exchange stores instants and answers in UTC whatever the client sent;
 * a floating time is read in the item's own zone, else the request's
 * TimeZoneContext, as Exchange 2010 SP1 and later do.  A zone id is only
 * looked up when it matters, so an item with UTC times and a zone CLDR
 * does not know is still accepted. */
static gboolean
normalize_time (xmlNode    *node,
                xmlNs      *ns,
                const char *element,
                const char *zone_id,
                gint64     *out,
                GError    **error)
{
  g_autofree char *text = agl_ews_server_xml_child_text (node, AGL_EWS_NS_TYPES, element);
  g_autoptr(GTimeZone) zone = NULL;
  g_autofree char *utc = NULL;

  if (text == NULL)
    return TRUE;
  zone = has_zone_designator (text) ? g_time_zone_new_utc () : agl_ews_time_zone_from_windows (zone_id);
  if (zone == NULL)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_TIME_ZONE);
      return FALSE;
    }
  if (!parse_time (text, zone, out))
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_OPERATION);
      return FALSE;
    }
  utc = agl_ews_format_utc (*out);
  agl_ews_xml_set_child_text (node, ns, element, utc);
  return TRUE;
}

static void
set_default (xmlNode    *node,
             xmlNs      *ns,
             const char *element,
             const char *value)
{
  if (agl_ews_xml_child (node, AGL_EWS_NS_TYPES, element) == NULL)
    agl_ews_xml_set_child_text (node, ns, element, value);
}

static char *
format_duration (gint64 seconds)
{
  GString *out = g_string_new ("P");
  gint64 days = seconds / 86400, rest = seconds % 86400;

  if (days > 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT "D", days);
  if (rest > 0 || days == 0)
    {
      g_string_append_c (out, 'T');
      if (rest / 3600 > 0)
        g_string_append_printf (out, "%" G_GINT64_FORMAT "H", rest / 3600);
      if ((rest % 3600) / 60 > 0)
        g_string_append_printf (out, "%" G_GINT64_FORMAT "M", (rest % 3600) / 60);
      if (rest % 60 > 0 || rest == 0)
        g_string_append_printf (out, "%" G_GINT64_FORMAT "S", rest % 60);
    }
  return g_string_free (out, FALSE);
}

static char *
new_uid (void)
{
  /* Outlook's global object id: the fixed class id, a FILETIME and a
   * random tail, in upper-case hex as Exchange returns it in UID. */
  GString *uid = g_string_new ("040000008200E00074C5B7101A82E00800000000");
  guint64 filetime = ((guint64) g_get_real_time () / 1000000 + 11644473600ull) * 10000000ull;

  for (int i = 0; i < 8; i++)
    g_string_append_printf (uid, "%02X", (guint) (filetime >> (8 * i)) & 0xff);
  g_string_append (uid, "000000000000000010000000");
  for (int i = 0; i < 16; i++)
    g_string_append_printf (uid, "%02X", (guint) g_random_int_range (0, 256));
  return g_string_free (uid, FALSE);
}

/* Validates @node (a CalendarItem in the store) and fills in what Exchange
 * computes itself. */
static gboolean
normalize_item (AglEwsMailbox *self,
                xmlNode       *node,
                const char    *context_zone,
                gboolean       is_new,
                GError       **error)
{
  g_autofree char *start_zone = zone_id_of (node, "StartTimeZone", context_zone);
  g_autofree char *end_zone = zone_id_of (node, "EndTimeZone", start_zone);
  gint64 start = 0, end = 0;
  xmlNode *recurrence;
  xmlNode *organizer;
  xmlNode *mailbox;
  g_autofree char *duration = NULL;
  g_autofree char *now = agl_ews_format_utc (g_get_real_time () / G_USEC_PER_SEC);
  gboolean has_attendees;

  if (!normalize_time (node, self->ns, "Start", start_zone, &start, error) ||
      !normalize_time (node, self->ns, "End", end_zone, &end, error))
    return FALSE;

  if (agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "Start") == NULL)
    {
      /* Exchange starts an item created without times at the next half hour. */
      g_autofree char *s = NULL;

      start = (g_get_real_time () / G_USEC_PER_SEC / 1800 + 1) * 1800;
      s = agl_ews_format_utc (start);
      agl_ews_xml_set_child_text (node, self->ns, "Start", s);
    }
  if (agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "End") == NULL)
    {
      g_autofree char *e = NULL;

      end = start + 1800;
      e = agl_ews_format_utc (end);
      agl_ews_xml_set_child_text (node, self->ns, "End", e);
    }
  if (end < start)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_END_BEFORE_START);
      return FALSE;
    }

  recurrence = agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "Recurrence");
  if (recurrence != NULL)
    {
      g_autoptr(AglEwsRecurrence) r = agl_ews_recurrence_parse (recurrence, error);

      if (r == NULL)
        return FALSE;
    }

  if (is_new)
    {
      g_autofree char *uid = new_uid ();

      agl_ews_xml_set_child_text (node, self->ns, "DateTimeCreated", now);
      set_default (node, self->ns, "UID", uid);
    }
  agl_ews_xml_set_child_text (node, self->ns, "LastModifiedTime", now);
  agl_ews_xml_set_child_text (node, self->ns, "DateTimeStamp", now);
  /* A message class given at creation stays, as on Exchange (an
   * IPM.Schedule.Meeting.Request filed in the calendar, a custom
   * IPM.Appointment.* form). */
  set_default (node, self->ns, "ItemClass", "IPM.Appointment");
  agl_ews_xml_set_child_text (node, self->ns, "CalendarItemType",
                              recurrence != NULL ? "RecurringMaster" : "Single");
  /* As on Exchange, IsRecurring is false on the organizer's master: it is
   * true only on occurrences and exceptions (Microsoft's IsRecurring
   * reference calls this value "incorrect" but documents it). */
  agl_ews_xml_set_child_text (node, self->ns, "IsRecurring", "false");
  agl_ews_xml_set_child_text (node, self->ns, "MyResponseType", "Organizer");
  agl_ews_xml_set_child_text (node, self->ns, "HasAttachments", "false");
  agl_ews_xml_set_child_text (node, self->ns, "IsAssociated", "false");
  agl_ews_xml_set_child_text (node, self->ns, "IsCancelled", "false");
  duration = format_duration (end - start);
  agl_ews_xml_set_child_text (node, self->ns, "Duration", duration);
  set_default (node, self->ns, "Sensitivity", "Normal");
  set_default (node, self->ns, "IsAllDayEvent", "false");
  set_default (node, self->ns, "LegacyFreeBusyStatus", "Busy");
  set_default (node, self->ns, "ReminderIsSet", "true");
  set_default (node, self->ns, "ReminderMinutesBeforeStart", "15");

  has_attendees = agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "RequiredAttendees") != NULL ||
                  agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "OptionalAttendees") != NULL ||
                  agl_ews_xml_child (node, AGL_EWS_NS_TYPES, "Resources") != NULL;
  agl_ews_xml_set_child_text (node, self->ns, "IsMeeting", has_attendees ? "true" : "false");
  agl_ews_xml_set_child_text (node, self->ns, "AppointmentState", has_attendees ? "1" : "0");

  agl_ews_xml_remove_children_named (node, "Organizer");
  organizer = xmlNewChild (node, self->ns, (const xmlChar *) "Organizer", NULL);
  mailbox = xmlNewChild (organizer, self->ns, (const xmlChar *) "Mailbox", NULL);
  agl_ews_xml_set_child_text (mailbox, self->ns, "Name", self->display_name);
  agl_ews_xml_set_child_text (mailbox, self->ns, "EmailAddress", self->address);
  agl_ews_xml_set_child_text (mailbox, self->ns, "RoutingType", "SMTP");
  agl_ews_xml_set_child_text (mailbox, self->ns, "MailboxType", "Mailbox");
  return TRUE;
}

static void
append_occurrence_info (AglEwsMailbox *self,
                        xmlNode       *parent,
                        const char    *element,
                        const char    *id,
                        gint64         start,
                        gint64         end,
                        gint64         original_start)
{
  xmlNode *info = xmlNewChild (parent, self->ns, (const xmlChar *) element, NULL);
  xmlNode *item_id = xmlNewChild (info, self->ns, (const xmlChar *) "ItemId", NULL);
  g_autofree char *s = agl_ews_format_utc (start);
  g_autofree char *e = agl_ews_format_utc (end);
  g_autofree char *o = agl_ews_format_utc (original_start);

  xmlSetProp (item_id, (const xmlChar *) "Id", (const xmlChar *) id);
  agl_ews_xml_set_child_text (info, self->ns, "Start", s);
  agl_ews_xml_set_child_text (info, self->ns, "End", e);
  agl_ews_xml_set_child_text (info, self->ns, "OriginalStart", o);
}

static gboolean
start_is_deleted (AglEwsItem *master,
                  gint64      start)
{
  for (guint i = 0; i < master->deleted_starts->len; i++)
    if (g_array_index (master->deleted_starts, gint64, i) == start)
      return TRUE;
  return FALSE;
}

static AglEwsException *
find_exception (AglEwsItem *master,
                gint64      original_start)
{
  for (guint i = 0; i < master->exceptions->len; i++)
    {
      AglEwsException *ex = g_ptr_array_index (master->exceptions, i);

      if (ex->original_start == original_start)
        return ex;
    }
  return NULL;
}

static GArray *
expand_all (AglEwsItem *master,
            gint64      until,
            guint       max_count)
{
  xmlNode *recurrence = agl_ews_xml_child (master->node, AGL_EWS_NS_TYPES, "Recurrence");
  g_autoptr(AglEwsRecurrence) r = NULL;
  g_autofree char *zone_id = NULL;
  g_autoptr(GTimeZone) zone = NULL;
  g_autoptr(GDateTime) first = NULL;
  gint64 start, end;

  if (recurrence == NULL || !agl_ews_item_times (master, &start, &end))
    return g_array_new (FALSE, FALSE, sizeof (gint64));
  r = agl_ews_recurrence_parse (recurrence, NULL);
  if (r == NULL)
    return g_array_new (FALSE, FALSE, sizeof (gint64));
  zone_id = zone_id_of (master->node, "StartTimeZone", NULL);
  zone = agl_ews_time_zone_from_windows (zone_id);
  if (zone == NULL)
    zone = g_time_zone_new_utc ();
  {
    g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (start);

    first = g_date_time_to_timezone (utc, zone);
  }
  return agl_ews_recurrence_expand (r, first, until, max_count);
}

/* Occurrence starts of @master up to @until, deleted ones left out. */
GArray *
agl_ews_mailbox_expand (AglEwsMailbox *self,
                        AglEwsItem    *master,
                        gint64         until)
{
  GArray *all = expand_all (master, until, 5000);
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < all->len; i++)
    {
      gint64 s = g_array_index (all, gint64, i);

      if (!start_is_deleted (master, s))
        g_array_append_val (kept, s);
    }
  g_array_unref (all);
  return kept;
}

static void
refresh_master_fields (AglEwsMailbox *self,
                       AglEwsItem    *master)
{
  g_autoptr(GArray) starts = NULL;
  gint64 start, end;
  xmlNode *list;

  for (const char **f = (const char *[]) { "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences",
                                          "DeletedOccurrences", NULL }; *f != NULL; f++)
    agl_ews_xml_remove_children_named (master->node, *f);

  if (agl_ews_xml_child (master->node, AGL_EWS_NS_TYPES, "Recurrence") == NULL ||
      !agl_ews_item_times (master, &start, &end))
    return;

  starts = expand_all (master, G_MAXINT64, 5000);
  if (starts->len > 0)
    {
      gint64 first = g_array_index (starts, gint64, 0);
      gint64 last = g_array_index (starts, gint64, starts->len - 1);

      append_occurrence_info (self, master->node, "FirstOccurrence",
                              agl_ews_mailbox_occurrence_id (self, master, first),
                              first, first + (end - start), first);
      {
        xmlNode *rec = agl_ews_xml_child (master->node, AGL_EWS_NS_TYPES, "Recurrence");
        g_autoptr(AglEwsRecurrence) r = agl_ews_recurrence_parse (rec, NULL);

        if (r != NULL && agl_ews_recurrence_is_bounded (r))
          append_occurrence_info (self, master->node, "LastOccurrence",
                                  agl_ews_mailbox_occurrence_id (self, master, last),
                                  last, last + (end - start), last);
      }
    }

  if (master->exceptions->len > 0)
    {
      list = xmlNewChild (master->node, self->ns, (const xmlChar *) "ModifiedOccurrences", NULL);
      for (guint i = 0; i < master->exceptions->len; i++)
        {
          AglEwsException *ex = g_ptr_array_index (master->exceptions, i);
          gint64 s = ex->original_start, e = ex->original_start + (end - start);

          agl_ews_node_times (ex->fields, &s, &e);
          append_occurrence_info (self, list, "Occurrence", ex->id, s, e, ex->original_start);
        }
    }
  if (master->deleted_starts->len > 0)
    {
      list = xmlNewChild (master->node, self->ns, (const xmlChar *) "DeletedOccurrences", NULL);
      for (guint i = 0; i < master->deleted_starts->len; i++)
        {
          xmlNode *d = xmlNewChild (list, self->ns, (const xmlChar *) "DeletedOccurrence", NULL);
          g_autofree char *s = agl_ews_format_utc (g_array_index (master->deleted_starts, gint64, i));

          agl_ews_xml_set_child_text (d, self->ns, "Start", s);
        }
    }
}

static void
touch (AglEwsMailbox *self,
       AglEwsItem    *item,
       AglEwsChange   change)
{
  g_free (item->change_key);
  item->change_key = new_change_key ();
  item->changed_seq = ++self->seq;
  g_free (self->folder_change_key);
  self->folder_change_key = new_change_key ();
  if (self->changed_func != NULL)
    self->changed_func (self, change, item, self->changed_data);
}

static xmlNode *
copy_into_store (AglEwsMailbox *self,
                 const xmlNode *node)
{
  xmlNode *copy = xmlDocCopyNode ((xmlNode *) node, self->store, 1);

  xmlAddChild (xmlDocGetRootElement (self->store), copy);
  for (const char * const *f = server_fields; *f != NULL; f++)
    agl_ews_xml_remove_children_named (copy, *f);
  return copy;
}

static void
drop_node (xmlNode *node)
{
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

AglEwsItem *
agl_ews_mailbox_create_item (AglEwsMailbox *self,
                             const xmlNode *calendar_item,
                             const char    *context_zone,
                             GError       **error)
{
  xmlNode *node = copy_into_store (self, calendar_item);
  AglEwsItem *item;

  if (!normalize_item (self, node, context_zone, TRUE, error))
    {
      drop_node (node);
      return NULL;
    }

  item = g_new0 (AglEwsItem, 1);
  item->id = new_item_id ();
  item->node = node;
  item->exceptions = g_ptr_array_new_with_free_func (exception_free);
  item->deleted_starts = g_array_new (FALSE, FALSE, sizeof (gint64));
  item->created_seq = self->seq + 1;
  g_ptr_array_add (self->items, item);
  g_hash_table_insert (self->by_id, item->id, item);
  refresh_master_fields (self, item);
  touch (self, item, AGL_EWS_CHANGE_CREATED);
  return item;
}

xmlNode *
agl_ews_mailbox_begin_update (AglEwsMailbox *self,
                              AglEwsItem    *item)
{
  xmlNode *work = xmlDocCopyNode (item->node, self->store, 1);

  xmlAddChild (xmlDocGetRootElement (self->store), work);
  return work;
}

/* Whether the ExtendedProperty @property is the one @uri (an
 * ExtendedFieldURI) names; PropertyType is not part of the identity. */
gboolean
agl_ews_extended_matches (const xmlNode *property,
                          const xmlNode *uri)
{
  xmlNode *have = agl_ews_xml_child (property, AGL_EWS_NS_TYPES, "ExtendedFieldURI");
  static const char * const keys[] = {
    "DistinguishedPropertySetId", "PropertySetId", "PropertyTag", "PropertyName", "PropertyId", NULL
  };

  if (have == NULL)
    return FALSE;
  for (const char * const *k = keys; *k != NULL; k++)
    {
      g_autofree char *a = agl_ews_server_xml_attr (have, *k);
      g_autofree char *b = agl_ews_server_xml_attr (uri, *k);

      if (g_ascii_strcasecmp (a != NULL ? a : "", b != NULL ? b : "") != 0)
        return FALSE;
    }
  return TRUE;
}

static void
remove_extended (xmlNode       *work,
                 const xmlNode *uri)
{
  xmlNode *n = agl_ews_xml_first_element (work);

  while (n != NULL)
    {
      xmlNode *next = agl_ews_xml_next_element (n);

      if (agl_ews_xml_is (n, AGL_EWS_NS_TYPES, "ExtendedProperty") && agl_ews_extended_matches (n, uri))
        drop_node (n);
      n = next;
    }
}

/* One SetItemField / AppendToItemField / DeleteItemField on @work. */
gboolean
agl_ews_mailbox_apply_field (AglEwsMailbox *self,
                             xmlNode       *work,
                             const char    *action,
                             const char    *field_name,
                             const xmlNode *extended_uri,
                             const xmlNode *value_item,
                             GError       **error)
{
  static const char * const undeletable[] = { "Start", "End", "UID", "Subject", NULL };
  g_autoptr(GPtrArray) values = g_ptr_array_new ();

  if (field_name != NULL)
    for (const char * const *f = server_fields; *f != NULL; f++)
      if (g_strcmp0 (*f, field_name) == 0)
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_OPERATION);
          return FALSE;
        }

  if (g_strcmp0 (action, "DeleteItemField") == 0)
    {
      if (extended_uri != NULL)
        remove_extended (work, extended_uri);
      else if (g_strv_contains (undeletable, field_name) &&
               g_strcmp0 (field_name, "Subject") != 0)
        {
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_PROPERTY_DELETE);
          return FALSE;
        }
      else
        agl_ews_xml_remove_children_named (work, field_name);
      return TRUE;
    }

  /* The item in the change must hold exactly the one field named. */
  for (xmlNode *n = agl_ews_xml_first_element (value_item); n != NULL; n = agl_ews_xml_next_element (n))
    {
      if (extended_uri != NULL)
        {
          if (agl_ews_xml_is (n, AGL_EWS_NS_TYPES, "ExtendedProperty") && agl_ews_extended_matches (n, extended_uri))
            g_ptr_array_add (values, n);
        }
      else if (g_strcmp0 ((const char *) n->name, field_name) == 0)
        g_ptr_array_add (values, n);
    }
  if (values->len != 1 || agl_ews_xml_first_element (value_item) == NULL ||
      agl_ews_xml_next_element (agl_ews_xml_first_element (value_item)) != NULL)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_INCORRECT_UPDATE_PROPERTY_COUNT);
      return FALSE;
    }

  if (g_strcmp0 (action, "AppendToItemField") == 0)
    {
      xmlNode *existing = agl_ews_xml_child (work, AGL_EWS_NS_TYPES, field_name);

      if (existing == NULL)
        xmlAddChild (work, xmlDocCopyNode (g_ptr_array_index (values, 0), self->store, 1));
      else if (g_strcmp0 (field_name, "Body") == 0)
        {
          g_autofree char *more = agl_ews_server_xml_text (g_ptr_array_index (values, 0));

          xmlNodeAddContent (existing, (const xmlChar *) more);
        }
      else
        {
          /* Attendee lists and the like: the new entries go at the end. */
          for (xmlNode *c = agl_ews_xml_first_element (g_ptr_array_index (values, 0)); c != NULL;
               c = agl_ews_xml_next_element (c))
            xmlAddChild (existing, xmlDocCopyNode (c, self->store, 1));
        }
      return TRUE;
    }

  if (extended_uri != NULL)
    remove_extended (work, extended_uri);
  else
    agl_ews_xml_remove_children_named (work, field_name);
  xmlAddChild (work, xmlDocCopyNode (g_ptr_array_index (values, 0), self->store, 1));
  return TRUE;
}

gboolean
agl_ews_mailbox_commit_update (AglEwsMailbox *self,
                               AglEwsItem    *item,
                               xmlNode       *work,
                               const char    *context_zone,
                               GError       **error)
{
  if (!normalize_item (self, work, context_zone, FALSE, error))
    {
      drop_node (work);
      return FALSE;
    }
  drop_node (item->node);
  item->node = work;
  /* A changed pattern invalidates the old exceptions, as in Outlook. */
  if (agl_ews_xml_child (work, AGL_EWS_NS_TYPES, "Recurrence") == NULL)
    {
      g_ptr_array_set_size (item->exceptions, 0);
      g_array_set_size (item->deleted_starts, 0);
    }
  refresh_master_fields (self, item);
  touch (self, item, AGL_EWS_CHANGE_MODIFIED);
  return TRUE;
}

/* The message class of an item just created, for items that are not
 * appointments (a meeting request filed in the calendar): clients cannot
 * set it, the server or a transport agent does. */
void
agl_ews_mailbox_set_item_class (AglEwsMailbox *self,
                                AglEwsItem    *item,
                                const char    *item_class)
{
  agl_ews_xml_set_child_text (item->node, self->ns, "ItemClass", item_class);
}

void
agl_ews_mailbox_delete_item (AglEwsMailbox *self,
                             AglEwsItem    *item)
{
  item->deleted = TRUE;
  touch (self, item, AGL_EWS_CHANGE_DELETED);
}

gboolean
agl_ews_mailbox_occurrence_start (AglEwsMailbox *self,
                                  AglEwsItem    *master,
                                  guint          index,
                                  gint64        *start,
                                  GError       **error)
{
  g_autoptr(GArray) starts = NULL;

  if (agl_ews_xml_child (master->node, AGL_EWS_NS_TYPES, "Recurrence") == NULL || index == 0)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_OCCURRENCE_INDEX_OUT_OF_RANGE);
      return FALSE;
    }
  starts = expand_all (master, G_MAXINT64, index);
  if (starts->len < index)
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_OCCURRENCE_INDEX_OUT_OF_RANGE);
      return FALSE;
    }
  *start = g_array_index (starts, gint64, index - 1);
  if (start_is_deleted (master, *start))
    {
      agl_ews_set_code_error (error, AGL_EWS_CODE_OCCURRENCE_DELETED);
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  AglEwsItem *master;
  gint64      original_start;
} OccurrenceRef;

/* Stable per (series, original start), like Exchange's occurrence ids
 * which encode the master id and the instance's date. */
const char *
agl_ews_mailbox_occurrence_id (AglEwsMailbox *self,
                               AglEwsItem    *master,
                               gint64         original_start)
{
  g_autofree char *key = g_strdup_printf ("%s/%" G_GINT64_FORMAT, master->id, original_start);
  guint8 raw[4 + ID_RANDOM_LEN];
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  char *id;
  gpointer existing;
  OccurrenceRef *ref;

  g_checksum_update (sum, (const guchar *) key, -1);
  g_checksum_get_digest (sum, digest, &digest_len);
  memcpy (raw, occurrence_id_prefix, 4);
  memcpy (raw + 4, digest, 32);
  memcpy (raw + 36, digest, ID_RANDOM_LEN - 32);
  id = g_base64_encode (raw, sizeof raw);

  if (!g_hash_table_lookup_extended (self->occurrences, id, &existing, NULL))
    {
      ref = g_new0 (OccurrenceRef, 1);
      ref->master = master;
      ref->original_start = original_start;
      g_hash_table_insert (self->occurrences, id, ref);
      return id;
    }
  g_free (id);
  return existing;
}

AglEwsItem *
agl_ews_mailbox_lookup_occurrence (AglEwsMailbox *self,
                                   const char    *id,
                                   gint64        *original_start)
{
  OccurrenceRef *ref = g_hash_table_lookup (self->occurrences, id);

  if (ref == NULL || ref->master->deleted || start_is_deleted (ref->master, ref->original_start))
    return NULL;
  *original_start = ref->original_start;
  return ref->master;
}

/* A detached CalendarItem for one occurrence: the master's fields minus
 * the series ones, the exception's changes on top, as GetItem of an
 * occurrence id answers on Exchange.  The caller frees it with
 * xmlFreeNode after unlinking. */
xmlNode *
agl_ews_mailbox_occurrence_node (AglEwsMailbox *self,
                                 AglEwsItem    *master,
                                 gint64         original_start)
{
  static const char * const series_only[] = {
    "Recurrence", "FirstOccurrence", "LastOccurrence", "ModifiedOccurrences", "DeletedOccurrences", NULL
  };
  xmlNode *node = xmlDocCopyNode (master->node, self->store, 1);
  AglEwsException *ex = find_exception (master, original_start);
  gint64 start, end;
  g_autofree char *s = NULL;
  g_autofree char *e = NULL;
  g_autofree char *o = agl_ews_format_utc (original_start);

  xmlAddChild (xmlDocGetRootElement (self->store), node);
  agl_ews_item_times (master, &start, &end);
  for (const char * const *f = series_only; *f != NULL; f++)
    agl_ews_xml_remove_children_named (node, *f);

  s = agl_ews_format_utc (original_start);
  e = agl_ews_format_utc (original_start + (end - start));
  agl_ews_xml_set_child_text (node, self->ns, "Start", s);
  agl_ews_xml_set_child_text (node, self->ns, "End", e);
  if (ex != NULL)
    for (xmlNode *c = agl_ews_xml_first_element (ex->fields); c != NULL; c = agl_ews_xml_next_element (c))
      {
        agl_ews_xml_remove_children_named (node, (const char *) c->name);
        xmlAddChild (node, xmlDocCopyNode (c, self->store, 1));
      }
  agl_ews_xml_set_child_text (node, self->ns, "CalendarItemType", ex != NULL ? "Exception" : "Occurrence");
  agl_ews_xml_set_child_text (node, self->ns, "IsRecurring", "true");
  agl_ews_xml_set_child_text (node, self->ns, "OriginalStart", o);
  agl_ews_xml_set_child_text (node, self->ns, "RecurrenceId", o);
  return node;
}

void
agl_ews_mailbox_delete_occurrence (AglEwsMailbox *self,
                                   AglEwsItem    *master,
                                   gint64         original_start)
{
  for (guint i = 0; i < master->exceptions->len; i++)
    if (((AglEwsException *) g_ptr_array_index (master->exceptions, i))->original_start == original_start)
      {
        g_ptr_array_remove_index (master->exceptions, i);
        break;
      }
  if (!start_is_deleted (master, original_start))
    g_array_append_val (master->deleted_starts, original_start);
  refresh_master_fields (self, master);
  touch (self, master, AGL_EWS_CHANGE_MODIFIED);
}

/* @work is an occurrence node from agl_ews_mailbox_occurrence_node()
 * with the client's changes applied; what differs from the series is
 * kept as the exception, and the master changes (new change key), which
 * is what a syncing client sees on Exchange. */
gboolean
agl_ews_mailbox_update_occurrence (AglEwsMailbox *self,
                                   AglEwsItem    *master,
                                   gint64         original_start,
                                   xmlNode       *work,
                                   const char    *context_zone,
                                   GError       **error)
{
  static const char * const kept[] = {
    "Subject", "Body", "Location", "Start", "End", "LegacyFreeBusyStatus", "Sensitivity",
    "IsAllDayEvent", "ReminderIsSet", "ReminderMinutesBeforeStart", "Categories",
    "Importance", "RequiredAttendees", "OptionalAttendees", "Resources", "ExtendedProperty", NULL
  };
  g_autofree char *start_zone = zone_id_of (master->node, "StartTimeZone", context_zone);
  AglEwsException *ex;
  xmlNode *fields;
  gint64 start = 0, end = 0;

  if (!normalize_time (work, self->ns, "Start", start_zone, &start, error) ||
      !normalize_time (work, self->ns, "End", start_zone, &end, error))
    {
      drop_node (work);
      return FALSE;
    }
  if (!agl_ews_node_times (work, &start, &end) || end < start)
    {
      drop_node (work);
      agl_ews_set_code_error (error, AGL_EWS_CODE_END_BEFORE_START);
      return FALSE;
    }

  fields = xmlNewDocNode (self->store, self->ns, (const xmlChar *) "CalendarItem", NULL);
  xmlAddChild (xmlDocGetRootElement (self->store), fields);
  for (xmlNode *c = agl_ews_xml_first_element (work); c != NULL; c = agl_ews_xml_next_element (c))
    if (g_strv_contains (kept, (const char *) c->name))
      xmlAddChild (fields, xmlDocCopyNode (c, self->store, 1));
  drop_node (work);

  ex = find_exception (master, original_start);
  if (ex == NULL)
    {
      ex = g_new0 (AglEwsException, 1);
      ex->original_start = original_start;
      ex->id = g_strdup (agl_ews_mailbox_occurrence_id (self, master, original_start));
      g_ptr_array_add (master->exceptions, ex);
    }
  else
    drop_node (ex->fields);
  ex->fields = fields;

  refresh_master_fields (self, master);
  touch (self, master, AGL_EWS_CHANGE_MODIFIED);
  return TRUE;
}

char *
agl_ews_mailbox_new_sync_state (AglEwsMailbox *self,
                                gint64         position)
{
  /* Opaque like Exchange's (which are gzip'ed blobs, "H4sI…"): random bytes
   * behind the gzip magic, mapped here to a change-log position, so a
   * client can neither read nor forge a position. */
  static const guint8 gzip_magic[] = { 0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0x00 };
  char *token = random_token (gzip_magic, sizeof gzip_magic, 24);
  gint64 *pos = g_new (gint64, 1);

  *pos = position;
  g_hash_table_insert (self->sync_states, g_strdup (token), pos);
  return token;
}

static int
compare_changed_seq (gconstpointer a,
                     gconstpointer b)
{
  const AglEwsItem *x = *(AglEwsItem * const *) a;
  const AglEwsItem *y = *(AglEwsItem * const *) b;

  return x->changed_seq < y->changed_seq ? -1 : x->changed_seq > y->changed_seq;
}

/* Changes since @sync_state, collapsed per item as Exchange reports them:
 * an item created and deleted within the window is not mentioned, one
 * created and then changed is a Create.  @ignore holds item ids the
 * client listed in Ignore. */
GPtrArray *
agl_ews_mailbox_sync (AglEwsMailbox *self,
                      const char    *sync_state,
                      GHashTable    *ignore,
                      guint          max_changes,
                      char         **new_sync_state,
                      gboolean      *includes_last,
                      GError       **error)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  GPtrArray *changes = g_ptr_array_new_with_free_func (g_free);
  gint64 position = 0, reached;
  guint i;

  if (sync_state != NULL && *sync_state != '\0')
    {
      gint64 *pos = g_hash_table_lookup (self->sync_states, sync_state);

      if (pos == NULL)
        {
          g_ptr_array_unref (changes);
          agl_ews_set_code_error (error, AGL_EWS_CODE_INVALID_SYNC_STATE_DATA);
          return NULL;
        }
      position = *pos;
    }

  for (i = 0; i < self->items->len; i++)
    {
      AglEwsItem *item = g_ptr_array_index (self->items, i);

      if (item->changed_seq > position)
        g_ptr_array_add (candidates, item);
    }
  g_ptr_array_sort (candidates, compare_changed_seq);

  reached = position;
  for (i = 0; i < candidates->len && changes->len < max_changes; i++)
    {
      AglEwsItem *item = g_ptr_array_index (candidates, i);
      AglEwsSyncChange *change;
      gboolean known = item->created_seq <= position;

      reached = item->changed_seq;
      /* Ignored items move the state on without being reported. */
      if ((item->deleted && !known) ||
          (ignore != NULL && g_hash_table_contains (ignore, item->id)))
        continue;
      change = g_new0 (AglEwsSyncChange, 1);
      change->item = item;
      change->change = item->deleted ? AGL_EWS_CHANGE_DELETED :
                       known ? AGL_EWS_CHANGE_MODIFIED : AGL_EWS_CHANGE_CREATED;
      g_ptr_array_add (changes, change);
    }
  /* Trailing skipped tombstones are part of this page too. */
  for (; i < candidates->len; i++)
    {
      AglEwsItem *item = g_ptr_array_index (candidates, i);

      if (!(item->deleted && item->created_seq > position))
        break;
      reached = item->changed_seq;
    }

  *includes_last = i >= candidates->len;
  *new_sync_state = agl_ews_mailbox_new_sync_state (self, reached);
  return changes;
}
