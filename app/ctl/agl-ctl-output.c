/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "agl-ctl-output.h"

struct _AglCtlTable {
  guint      n_columns;
  GPtrArray *rows;      /* of GStrv, the header first */
};

/* The columns a text takes in a terminal: East Asian wide characters take
 * two, combining marks none, so that tables stay aligned for every
 * language. */
static int
text_width (const char *text)
{
  int width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

static char *
json_key_from_dbus_key (const char *key)
{
  /* D-Bus keys are "has-password"; JSON consumers (jq, JavaScript) want
   * names they can write as identifiers. */
  return g_strdelimit (g_strdup (key), "-", '_');
}

/**
 * agl_ctl_json_take_object:
 * @object: (transfer full): an object
 *
 * json_node_init_object() takes a reference of its own; this takes the
 * caller's, so that a new object can be wrapped without leaking it.
 *
 * Returns: (transfer full): a node holding @object
 */
JsonNode *
agl_ctl_json_take_object (JsonObject *object)
{
  JsonNode *node = json_node_init (json_node_alloc (), JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

/**
 * agl_ctl_json_take_array:
 * @array: (transfer full): an array
 *
 * Returns: (transfer full): a node holding @array
 */
JsonNode *
agl_ctl_json_take_array (JsonArray *array)
{
  JsonNode *node = json_node_init (json_node_alloc (), JSON_NODE_ARRAY);

  json_node_take_array (node, array);
  return node;
}

/**
 * agl_ctl_json_from_variant:
 * @value: any value the daemon sent
 *
 * Converts a GVariant into JSON: dictionaries with string keys become
 * objects (with "-" in keys turned into "_"), other containers arrays,
 * numbers numbers.
 *
 * Returns: (transfer full): the JSON node
 */
JsonNode *
agl_ctl_json_from_variant (GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      return json_node_init_boolean (json_node_alloc (), g_variant_get_boolean (value));
    case G_VARIANT_CLASS_BYTE:
      return json_node_init_int (json_node_alloc (), g_variant_get_byte (value));
    case G_VARIANT_CLASS_INT16:
      return json_node_init_int (json_node_alloc (), g_variant_get_int16 (value));
    case G_VARIANT_CLASS_UINT16:
      return json_node_init_int (json_node_alloc (), g_variant_get_uint16 (value));
    case G_VARIANT_CLASS_INT32:
      return json_node_init_int (json_node_alloc (), g_variant_get_int32 (value));
    case G_VARIANT_CLASS_UINT32:
      return json_node_init_int (json_node_alloc (), g_variant_get_uint32 (value));
    case G_VARIANT_CLASS_INT64:
      return json_node_init_int (json_node_alloc (), g_variant_get_int64 (value));
    case G_VARIANT_CLASS_UINT64:
      return json_node_init_int (json_node_alloc (), (gint64) MIN (g_variant_get_uint64 (value),
                                                                   (guint64) G_MAXINT64));
    case G_VARIANT_CLASS_HANDLE:
      return json_node_init_int (json_node_alloc (), g_variant_get_handle (value));
    case G_VARIANT_CLASS_DOUBLE:
      return json_node_init_double (json_node_alloc (), g_variant_get_double (value));
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return json_node_init_string (json_node_alloc (), g_variant_get_string (value, NULL));
    case G_VARIANT_CLASS_VARIANT:
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (value);
        return agl_ctl_json_from_variant (inner);
      }
    case G_VARIANT_CLASS_MAYBE:
      {
        g_autoptr(GVariant) inner = g_variant_get_maybe (value);
        if (inner == NULL)
          return json_node_init_null (json_node_alloc ());
        return agl_ctl_json_from_variant (inner);
      }
    case G_VARIANT_CLASS_ARRAY:
      if (g_variant_type_is_dict_entry (g_variant_type_element (type)) &&
          g_variant_type_equal (g_variant_type_key (g_variant_type_element (type)),
                                G_VARIANT_TYPE_STRING))
        return agl_ctl_json_from_vardict (value);
      G_GNUC_FALLTHROUGH;
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    default:
      {
        JsonArray *array = json_array_new ();
        GVariantIter iter;
        GVariant *child;

        g_variant_iter_init (&iter, value);
        while ((child = g_variant_iter_next_value (&iter)) != NULL)
          {
            json_array_add_element (array, agl_ctl_json_from_variant (child));
            g_variant_unref (child);
          }
        return agl_ctl_json_take_array (array);
      }
    }
}

/**
 * agl_ctl_json_from_vardict:
 * @dict: a dictionary with string keys, such as a{sv}
 *
 * Returns: (transfer full): a JSON object with the same members, "-" in
 *   keys replaced by "_"
 */
JsonNode *
agl_ctl_json_from_vardict (GVariant *dict)
{
  JsonObject *object = json_object_new ();
  GVariantIter iter;
  GVariant *entry;

  g_variant_iter_init (&iter, dict);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);
      g_autofree char *name = json_key_from_dbus_key (g_variant_get_string (key, NULL));

      json_object_set_member (object, name, agl_ctl_json_from_variant (value));
      g_variant_unref (entry);
    }
  return agl_ctl_json_take_object (object);
}

/**
 * agl_ctl_json_string_or_null:
 * @text: (nullable): a text
 *
 * The daemon says "no value" with an empty string or by leaving a key
 * out; JSON says it with null.
 *
 * Returns: (transfer full): a string node, or a null node for %NULL or ""
 */
JsonNode *
agl_ctl_json_string_or_null (const char *text)
{
  if (text == NULL || *text == '\0')
    return json_node_init_null (json_node_alloc ());
  return json_node_init_string (json_node_alloc (), text);
}

/**
 * agl_ctl_json_set_string:
 * @object: a JSON object
 * @member: the member to set
 * @dict: an a{sv} from the daemon
 * @key: the key of @dict
 * @empty_is_null: write "" as null, for settings where "" means "none"
 *
 * Sets @member to the string under @key, or to null when it is missing:
 * listings write a fixed set of members, whatever the daemon sent.
 */
void
agl_ctl_json_set_string (JsonObject *object,
                         const char *member,
                         GVariant   *dict,
                         const char *key,
                         gboolean    empty_is_null)
{
  g_autofree char *value = agl_ctl_dup_string (dict, key);

  if (empty_is_null || value == NULL)
    json_object_set_member (object, member, agl_ctl_json_string_or_null (value));
  else
    json_object_set_string_member (object, member, value);
}

/**
 * agl_ctl_json_set_integer:
 * @object: a JSON object
 * @member: the member to set
 * @dict: an a{sv} from the daemon
 * @key: the key of @dict
 *
 * Sets @member to the integer under @key, or to null when it is missing.
 */
void
agl_ctl_json_set_integer (JsonObject *object,
                          const char *member,
                          GVariant   *dict,
                          const char *key)
{
  gint64 value = 0;

  if (agl_ctl_get_integer (dict, key, &value))
    json_object_set_int_member (object, member, value);
  else
    json_object_set_null_member (object, member);
}

/**
 * agl_ctl_print_json:
 * @node: what to print
 * @pretty: indent (for people reading a listing) or keep to one line (for
 *   streams of objects, one per line)
 *
 * Writes @node to standard output as UTF-8, whatever the locale: JSON is
 * for programs, which must get every character.
 */
void
agl_ctl_print_json (JsonNode *node,
                    gboolean  pretty)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, pretty);
  text = json_generator_to_data (generator, NULL);
  fputs (text, stdout);
  fputc ('\n', stdout);
}

/**
 * agl_ctl_json_array_from_list:
 * @list: an array the daemon sent, such as aa{sv}
 * @element_json: makes the JSON of each element
 *
 * Returns: (transfer full): a JSON array of @list's elements, in order
 */
JsonNode *
agl_ctl_json_array_from_list (GVariant       *list,
                              AglCtlJsonFunc  element_json)
{
  JsonArray *array = json_array_new ();
  GVariantIter iter;
  GVariant *element;

  g_variant_iter_init (&iter, list);
  while ((element = g_variant_iter_next_value (&iter)) != NULL)
    {
      json_array_add_element (array, element_json (element));
      g_variant_unref (element);
    }
  return agl_ctl_json_take_array (array);
}

/**
 * agl_ctl_dup_string:
 * @dict: an a{sv} from the daemon
 * @key: the key
 *
 * Returns: (transfer full) (nullable): the string under @key, or %NULL when
 *   it is missing or not a string
 */
char *
agl_ctl_dup_string (GVariant   *dict,
                    const char *key)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_STRING);

  return value != NULL ? g_variant_dup_string (value, NULL) : NULL;
}

/**
 * agl_ctl_get_boolean:
 * @dict: an a{sv} from the daemon
 * @key: the key
 * @default_value: what a missing key means
 *
 * Returns: the boolean under @key, or @default_value
 */
gboolean
agl_ctl_get_boolean (GVariant   *dict,
                     const char *key,
                     gboolean    default_value)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_BOOLEAN);

  return value != NULL ? g_variant_get_boolean (value) : default_value;
}

/**
 * agl_ctl_get_integer:
 * @dict: an a{sv} from the daemon
 * @key: the key
 * @out_value: (out): the number
 *
 * Accepts any integer type, so that a count sent as "u" and an id sent as
 * "x" read alike.
 *
 * Returns: %FALSE when @key is missing or not an integer
 */
gboolean
agl_ctl_get_integer (GVariant   *dict,
                     const char *key,
                     gint64     *out_value)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return FALSE;

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BYTE:
      *out_value = g_variant_get_byte (value);
      return TRUE;
    case G_VARIANT_CLASS_INT16:
      *out_value = g_variant_get_int16 (value);
      return TRUE;
    case G_VARIANT_CLASS_UINT16:
      *out_value = g_variant_get_uint16 (value);
      return TRUE;
    case G_VARIANT_CLASS_INT32:
      *out_value = g_variant_get_int32 (value);
      return TRUE;
    case G_VARIANT_CLASS_UINT32:
      *out_value = g_variant_get_uint32 (value);
      return TRUE;
    case G_VARIANT_CLASS_INT64:
      *out_value = g_variant_get_int64 (value);
      return TRUE;
    case G_VARIANT_CLASS_UINT64:
      *out_value = (gint64) MIN (g_variant_get_uint64 (value), (guint64) G_MAXINT64);
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * agl_ctl_get_double:
 * @dict: an a{sv} from the daemon
 * @key: the key
 * @out_value: (out): the number
 *
 * Returns: %FALSE when @key is missing or not a double
 */
gboolean
agl_ctl_get_double (GVariant   *dict,
                    const char *key,
                    double     *out_value)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, key, G_VARIANT_TYPE_DOUBLE);

  if (value == NULL)
    return FALSE;
  *out_value = g_variant_get_double (value);
  return TRUE;
}

/**
 * agl_ctl_format_duration:
 * @seconds: a length of time, e.g. since the last sync
 *
 * Returns: (transfer full): "42 s", "7 min", "3 h" or "2 d": exact while
 *   seconds matter, rounded down after that
 */
char *
agl_ctl_format_duration (gint64 seconds)
{
  seconds = MAX (seconds, 0);
  if (seconds < 120)
    /* TRANSLATORS: seconds, as in "agendalinectl connections" */
    return g_strdup_printf (_("%d s"), (int) seconds);
  if (seconds < 2 * 3600)
    /* TRANSLATORS: minutes */
    return g_strdup_printf (_("%d min"), (int) (seconds / 60));
  if (seconds < 2 * 86400)
    /* TRANSLATORS: hours */
    return g_strdup_printf (_("%d h"), (int) (seconds / 3600));
  /* TRANSLATORS: days */
  return g_strdup_printf (_("%d d"), (int) MIN (seconds / 86400, G_MAXINT));
}

/**
 * agl_ctl_format_time:
 * @iso8601: a time as the daemon gives it: a UTC instant or a date
 *
 * People read their appointments in their own time zone; dates (all-day
 * events) have none and stay as they are.
 *
 * Returns: (transfer full): "2026-11-23 10:00" in local time, the date, or
 *   @iso8601 itself when it is neither
 */
char *
agl_ctl_format_time (const char *iso8601)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (iso8601 == NULL)
    return g_strdup ("");

  utc = g_date_time_new_from_iso8601 (iso8601, NULL);
  if (utc == NULL)
    return agl_ctl_sanitize (iso8601);

  local = g_date_time_to_local (utc);
  if (g_date_time_get_second (local) != 0)
    return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
  return g_date_time_format (local, "%Y-%m-%d %H:%M");
}

/**
 * agl_ctl_sanitize:
 * @text: (nullable): text from the daemon, e.g. a SUMMARY
 *
 * A SUMMARY may hold line breaks, tabs or escape sequences; printed as
 * they are they would break a table or drive the terminal.
 *
 * Returns: (transfer full): @text as valid UTF-8 with every control
 *   character replaced by a space
 */
char *
agl_ctl_sanitize (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *clean = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (clean, ' ');
      else
        g_string_append_unichar (clean, c);
    }
  return g_string_free (clean, FALSE);
}

/**
 * agl_ctl_print_fields:
 * @fields: (array zero-terminated=1): label, value, label, value, …
 *
 * Prints one "label:  value" line per pair with the values aligned, for
 * blocks such as the daemon's state.
 */
void
agl_ctl_print_fields (const char * const *fields)
{
  g_autoptr(GString) text = g_string_new (NULL);
  int width = 0;

  for (gsize i = 0; fields[i] != NULL && fields[i + 1] != NULL; i += 2)
    width = MAX (width, text_width (fields[i]) + 1);

  for (gsize i = 0; fields[i] != NULL && fields[i + 1] != NULL; i += 2)
    {
      g_autofree char *value = agl_ctl_sanitize (fields[i + 1]);

      g_string_append_printf (text, "%s:", fields[i]);
      for (int pad = text_width (fields[i]) + 1; pad < width + 2; pad++)
        g_string_append_c (text, ' ');
      g_string_append_printf (text, "%s\n", value);
    }
  g_print ("%s", text->str);
}

/**
 * agl_ctl_table_new:
 * @n_columns: the number of columns
 * @...: @n_columns column headers
 *
 * Returns: (transfer full): a table with a header row
 */
AglCtlTable *
agl_ctl_table_new (guint n_columns,
                   ...)
{
  AglCtlTable *table = g_new0 (AglCtlTable, 1);
  GStrv header = g_new0 (char *, n_columns + 1);
  va_list args;

  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  va_start (args, n_columns);
  for (guint i = 0; i < n_columns; i++)
    header[i] = agl_ctl_sanitize (va_arg (args, const char *));
  va_end (args);

  g_ptr_array_add (table->rows, header);
  return table;
}

/**
 * agl_ctl_table_add_row:
 * @table: a table
 * @...: as many cells as the table has columns; %NULL cells print empty
 *
 * Adds a row; the cells are copied and cleaned of control characters.
 */
void
agl_ctl_table_add_row (AglCtlTable *table,
                       ...)
{
  GStrv row = g_new0 (char *, table->n_columns + 1);
  va_list args;

  va_start (args, table);
  for (guint i = 0; i < table->n_columns; i++)
    row[i] = agl_ctl_sanitize (va_arg (args, const char *));
  va_end (args);

  g_ptr_array_add (table->rows, row);
}

/**
 * agl_ctl_table_add_rows:
 * @table: a table
 * @list: an array the daemon sent, such as aa{sv}
 * @add_row: adds the row of each element
 *
 * Adds a row for each element of @list, in order.
 */
void
agl_ctl_table_add_rows (AglCtlTable   *table,
                        GVariant      *list,
                        AglCtlRowFunc  add_row)
{
  GVariantIter iter;
  GVariant *element;

  g_variant_iter_init (&iter, list);
  while ((element = g_variant_iter_next_value (&iter)) != NULL)
    {
      add_row (table, element);
      g_variant_unref (element);
    }
}

/**
 * agl_ctl_table_get_n_rows:
 * @table: a table
 *
 * Returns: the number of rows, the header not counted
 */
guint
agl_ctl_table_get_n_rows (AglCtlTable *table)
{
  return table->rows->len - 1;
}

/**
 * agl_ctl_table_print:
 * @table: a table
 *
 * Prints the header and the rows with the columns aligned; the last column
 * is not padded, so that long summaries do not leave trailing spaces.
 */
void
agl_ctl_table_print (AglCtlTable *table)
{
  g_autofree int *widths = g_new0 (int, table->n_columns);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], text_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        {
          g_string_append (text, row[c]);
          if (c + 1 < table->n_columns)
            {
              for (int pad = text_width (row[c]); pad < widths[c] + 2; pad++)
                g_string_append_c (text, ' ');
            }
        }
      /* An empty last cell would leave the padding of the one before. */
      while (text->len > 0 && text->str[text->len - 1] == ' ')
        g_string_truncate (text, text->len - 1);
      g_string_append_c (text, '\n');
    }

  g_print ("%s", text->str);
}

/**
 * agl_ctl_table_free:
 * @table: (nullable): a table
 */
void
agl_ctl_table_free (AglCtlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}
