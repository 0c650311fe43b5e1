/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_BEGIN_DECLS

typedef enum
{
  AGL_EWS_CHANGE_CREATED,
  AGL_EWS_CHANGE_MODIFIED,
  AGL_EWS_CHANGE_DELETED,
} AglEwsChange;

/* A modified occurrence of a series: the fields the user changed, kept
 * inside the master as Exchange keeps exceptions as attachments of it. */
typedef struct
{
  char    *id;
  gint64   original_start;
  xmlNode *fields;
} AglEwsException;

typedef struct
{
  char      *id;
  char      *change_key;
  xmlNode   *node;             /* the t:CalendarItem, server-filled fields included */
  gint64     created_seq;
  gint64     changed_seq;
  gboolean   deleted;
  GPtrArray *exceptions;       /* AglEwsException */
  GArray    *deleted_starts;   /* gint64 original starts of deleted occurrences */
} AglEwsItem;

typedef struct
{
  AglEwsChange change;
  AglEwsItem  *item;
} AglEwsSyncChange;

typedef struct _AglEwsMailbox AglEwsMailbox;

typedef void (*AglEwsMailboxChangedFunc) (AglEwsMailbox *mailbox,
                                          AglEwsChange   change,
                                          AglEwsItem    *item,
                                          gpointer       user_data);

struct _AglEwsMailbox
{
  char       *address;
  char       *user;
  char       *domain;
  char       *password;
  char       *display_name;
  GPtrArray  *may_impersonate;   /* addresses, or "*" for ApplicationImpersonation on all */

  char       *oof_state;         /* Disabled, Enabled, Scheduled */
  char       *oof_audience;      /* None, Known, All */
  gint64      oof_start;
  gint64      oof_end;
  char       *oof_internal_reply;
  char       *oof_external_reply;

  char       *folder_id;
  char       *folder_change_key;

  /*< private >*/
  xmlDoc     *store;
  xmlNs      *ns;
  GPtrArray  *items;
  GHashTable *by_id;
  GHashTable *occurrences;
  GHashTable *sync_states;
  gint64      seq;
  AglEwsMailboxChangedFunc changed_func;
  gpointer    changed_data;
};

GTimeZone     *agl_ews_time_zone_from_windows (const char *id);

AglEwsMailbox *agl_ews_mailbox_new         (const char    *address,
                                            const char    *user,
                                            const char    *domain,
                                            const char    *password,
                                            const char    *display_name);
void           agl_ews_mailbox_free        (AglEwsMailbox *self);
gboolean       agl_ews_mailbox_may_impersonate (AglEwsMailbox *self,
                                                const char    *address);
guint          agl_ews_mailbox_count_items (AglEwsMailbox *self);

AglEwsItem    *agl_ews_mailbox_lookup      (AglEwsMailbox *self,
                                            const char    *id,
                                            GError       **error);
AglEwsItem    *agl_ews_mailbox_create_item (AglEwsMailbox *self,
                                            const xmlNode *calendar_item,
                                            const char    *context_zone,
                                            GError       **error);
xmlNode       *agl_ews_mailbox_begin_update (AglEwsMailbox *self,
                                             AglEwsItem    *item);
gboolean       agl_ews_mailbox_apply_field (AglEwsMailbox *self,
                                            xmlNode       *work,
                                            const char    *action,
                                            const char    *field_name,
                                            const xmlNode *extended_uri,
                                            const xmlNode *value_item,
                                            GError       **error);
gboolean       agl_ews_mailbox_commit_update (AglEwsMailbox *self,
                                              AglEwsItem    *item,
                                              xmlNode       *work,
                                              const char    *context_zone,
                                              GError       **error);
void           agl_ews_mailbox_delete_item (AglEwsMailbox *self,
                                            AglEwsItem    *item);
void           agl_ews_mailbox_set_item_class (AglEwsMailbox *self,
                                               AglEwsItem    *item,
                                               const char    *item_class);

gboolean       agl_ews_mailbox_occurrence_start (AglEwsMailbox *self,
                                                 AglEwsItem    *master,
                                                 guint          index,
                                                 gint64        *start,
                                                 GError       **error);
const char    *agl_ews_mailbox_occurrence_id (AglEwsMailbox *self,
                                              AglEwsItem    *master,
                                              gint64         original_start);
AglEwsItem    *agl_ews_mailbox_lookup_occurrence (AglEwsMailbox *self,
                                                  const char    *id,
                                                  gint64        *original_start);
AglEwsItem    *agl_ews_mailbox_lookup_any (AglEwsMailbox *self,
                                           const char    *id,
                                           gint64        *original_start,
                                           GError       **error);
xmlNode       *agl_ews_mailbox_occurrence_node (AglEwsMailbox *self,
                                                AglEwsItem    *master,
                                                gint64         original_start);
void           agl_ews_mailbox_delete_occurrence (AglEwsMailbox *self,
                                                  AglEwsItem    *master,
                                                  gint64         original_start);
gboolean       agl_ews_mailbox_update_occurrence (AglEwsMailbox *self,
                                                  AglEwsItem    *master,
                                                  gint64         original_start,
                                                  xmlNode       *work,
                                                  const char    *context_zone,
                                                  GError       **error);
GArray        *agl_ews_mailbox_expand       (AglEwsMailbox *self,
                                             AglEwsItem    *master,
                                             gint64         until);
gboolean       agl_ews_extended_matches     (const xmlNode *property,
                                             const xmlNode *uri);
gboolean       agl_ews_item_times           (AglEwsItem    *item,
                                             gint64        *start,
                                             gint64        *end);
gboolean       agl_ews_node_times           (const xmlNode *node,
                                             gint64        *start,
                                             gint64        *end);

char          *agl_ews_mailbox_new_sync_state (AglEwsMailbox *self,
                                               gint64         position);
GPtrArray     *agl_ews_mailbox_sync        (AglEwsMailbox *self,
                                            const char    *sync_state,
                                            GHashTable    *ignore,
                                            guint          max_changes,
                                            char         **new_sync_state,
                                            gboolean      *includes_last,
                                            GError       **error);

G_END_DECLS
