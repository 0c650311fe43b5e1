/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* JSON: what scripts read. */
JsonNode *agl_ctl_json_take_object  (JsonObject *object);
JsonNode *agl_ctl_json_take_array   (JsonArray  *array);
JsonNode *agl_ctl_json_from_variant (GVariant   *value);
JsonNode *agl_ctl_json_from_vardict (GVariant   *dict);
JsonNode *agl_ctl_json_string_or_null (const char *text);
void      agl_ctl_json_set_string   (JsonObject *object,
                                     const char *member,
                                     GVariant   *dict,
                                     const char *key,
                                     gboolean    empty_is_null);
void      agl_ctl_json_set_integer  (JsonObject *object,
                                     const char *member,
                                     GVariant   *dict,
                                     const char *key);
void      agl_ctl_print_json        (JsonNode   *node,
                                     gboolean    pretty);

/**
 * AglCtlJsonFunc:
 * @element: one element of a list the daemon sent, such as an a{sv}
 *
 * Returns: (transfer full): the JSON of @element
 */
typedef JsonNode *(*AglCtlJsonFunc) (GVariant *element);

JsonNode *agl_ctl_json_array_from_list (GVariant       *list,
                                        AglCtlJsonFunc  element_json);

/* Reading the daemon's a{sv} dictionaries without trusting their types. */
char     *agl_ctl_dup_string        (GVariant   *dict,
                                     const char *key);
gboolean  agl_ctl_get_boolean       (GVariant   *dict,
                                     const char *key,
                                     gboolean    default_value);
gboolean  agl_ctl_get_integer       (GVariant   *dict,
                                     const char *key,
                                     gint64     *out_value);
gboolean  agl_ctl_get_double        (GVariant   *dict,
                                     const char *key,
                                     double     *out_value);

/* Text: what people read. */
char     *agl_ctl_format_time       (const char *iso8601);
char     *agl_ctl_format_duration   (gint64      seconds);
char     *agl_ctl_sanitize          (const char *text);
void      agl_ctl_print_fields      (const char * const *fields);

/**
 * AglCtlTable:
 *
 * Rows of text printed in aligned columns under a header.
 */
typedef struct _AglCtlTable AglCtlTable;

AglCtlTable *agl_ctl_table_new     (guint        n_columns,
                                    ...);
void         agl_ctl_table_add_row (AglCtlTable *table,
                                    ...);
guint        agl_ctl_table_get_n_rows (AglCtlTable *table);

/**
 * AglCtlRowFunc:
 * @table: the table
 * @element: one element of a list the daemon sent, such as an a{sv}
 *
 * Adds the row that shows @element.
 */
typedef void (*AglCtlRowFunc) (AglCtlTable *table,
                               GVariant    *element);

void         agl_ctl_table_add_rows (AglCtlTable   *table,
                                     GVariant      *list,
                                     AglCtlRowFunc  add_row);
void         agl_ctl_table_print   (AglCtlTable *table);
void         agl_ctl_table_free    (AglCtlTable *table);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglCtlTable, agl_ctl_table_free)

G_END_DECLS
