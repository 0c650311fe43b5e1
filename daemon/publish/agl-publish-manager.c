/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-log.h"
#include "agl-publish-command.h"
#include "agl-publish-config.h"
#include "agl-publish-manager.h"
#include "agl-publish-sip.h"
#include "agl-publish-webhook.h"
#include "agl-time.h"

/* Retries: 1 s, doubling, at most 5 min, each ±10 %. */
#define RETRY_FIRST_MS  1000
#define RETRY_MAX_MS    (5 * 60 * 1000)

/* The kinds that have a secret, in the order they are looked up. */
static const char * const secret_kinds[] = { "webhook", "sip" };

struct _AglPublishManager
{
  GObject             parent_instance;

  AglStore           *store;
  AglPresenceTracker *presence;
  AglSecrets         *secrets;
  GHashTable         *accounts;  /* name -> Account */
  gboolean            started;
};

G_DEFINE_FINAL_TYPE (AglPublishManager, agl_publish_manager, G_TYPE_OBJECT)

enum {
  SIGNAL_STATUSES_CHANGED,
  SIGNAL_PUBLISHERS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One publisher of one account, with its queue and its last result.
 * Reference-counted: a delivery in flight holds it after it is dropped. */
typedef struct {
  gatomicrefcount     ref_count;
  AglPublishManager  *manager;     /* not owned; NULL once dropped */
  char               *account;
  char               *kind;
  AglPublisher       *publisher;   /* NULL for "dbus", or when it could not be made */
  char               *config_key;  /* its settings and a hash of its secret */
  char               *target;

  char               *pending_json; /* the newest status not delivered yet */
  AglStatus          *pending_status;
  gboolean            fresh;       /* the pending status has had no attempt */
  char               *flight_json; /* the status being delivered */
  AglStatus          *flight_status;
  gboolean            in_flight;
  GCancellable       *cancellable;
  guint               retry_id;
  guint               failures;    /* in a row, for the backoff */

  const char         *state;       /* "pending", "delivered", "retrying", "failed" */
  gint64              last_attempt;
  gint64              last_success;
  guint               attempts;
  char               *message;
} Slot;

typedef struct {
  AglPublishManager *manager;
  char              *name;
  char              *status_json;
  GPtrArray         *slots;       /* Slot, "dbus" first */
  GCancellable      *reload;      /* the secrets' lookup of the reload under way */
} Account;

/* A reload of an account's publishers, while its secrets are looked up. */
typedef struct {
  AglPublishManager *manager;
  char              *name;
  GCancellable      *cancellable;
  JsonObject        *publishers;
  char              *secrets[G_N_ELEMENTS (secret_kinds)];
  guint              next;
} Reload;

static void       slot_deliver     (Slot       *slot);
static AglStatus *status_from_json (const char *json);

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static Slot *
slot_ref (Slot *slot)
{
  g_atomic_ref_count_inc (&slot->ref_count);
  return slot;
}

static void
slot_unref (Slot *slot)
{
  if (!g_atomic_ref_count_dec (&slot->ref_count))
    return;
  g_clear_handle_id (&slot->retry_id, g_source_remove);
  g_clear_object (&slot->cancellable);
  g_clear_object (&slot->publisher);
  g_free (slot->account);
  g_free (slot->kind);
  g_free (slot->config_key);
  g_free (slot->target);
  g_free (slot->pending_json);
  g_clear_pointer (&slot->pending_status, agl_status_free);
  g_free (slot->flight_json);
  g_clear_pointer (&slot->flight_status, agl_status_free);
  g_free (slot->message);
  g_free (slot);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Slot, slot_unref)

static Slot *
slot_new (AglPublishManager *manager,
          const char        *account,
          const char        *kind,
          AglPublisher      *publisher,
          const char        *config_key)
{
  Slot *slot = g_new0 (Slot, 1);

  g_atomic_ref_count_init (&slot->ref_count);
  slot->manager = manager;
  slot->account = g_strdup (account);
  slot->kind = g_strdup (kind);
  slot->publisher = publisher;
  slot->config_key = g_strdup (config_key);
  slot->cancellable = g_cancellable_new ();
  slot->state = "pending";
  if (publisher != NULL)
    slot->target = agl_publisher_describe (publisher);
  else if (g_strcmp0 (kind, "dbus") == 0)
    slot->target = g_strdup ("io.github.agendaline.Daemon.StatusChanged");
  else
    slot->target = g_strdup ("");
  return slot;
}

static void
closed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(AglPublisher) publisher = user_data;
  g_autoptr(GError) error = NULL;

  if (!agl_publisher_close_finish (publisher, result, &error))
    g_debug ("A %s publisher did not close cleanly: %s", agl_publisher_get_kind (publisher),
             error->message);
}

/* Drops @slot: no more deliveries or retries; the publisher says goodbye. */
static void
slot_drop (Slot *slot)
{
  slot->manager = NULL;
  g_cancellable_cancel (slot->cancellable);
  g_clear_handle_id (&slot->retry_id, g_source_remove);
  if (slot->publisher != NULL)
    agl_publisher_close_async (slot->publisher, NULL, closed_cb, g_object_ref (slot->publisher));
  slot_unref (slot);
}

static void
emit_publishers_changed (Slot *slot)
{
  if (slot->manager != NULL)
    g_signal_emit (slot->manager, signals[SIGNAL_PUBLISHERS_CHANGED], 0, slot->account);
}

static void
slot_set_message (Slot       *slot,
                  const char *message)
{
  g_free (slot->message);
  slot->message = g_strdup (message != NULL ? message : "");
}

static gboolean
retry_cb (gpointer user_data)
{
  Slot *slot = user_data;

  slot->retry_id = 0;
  if (!slot->in_flight && slot->pending_json != NULL)
    slot_deliver (slot);
  return G_SOURCE_REMOVE;
}

static void
slot_schedule_retry (Slot *slot)
{
  guint delay = RETRY_FIRST_MS;

  for (guint i = 1; i < slot->failures && delay < RETRY_MAX_MS; i++)
    delay *= 2;
  delay = MIN (delay, RETRY_MAX_MS);
  /* Jitter, so that many accounts failing together do not retry in step. */
  delay = (guint) (delay * g_random_double_range (0.9, 1.1));
  g_clear_handle_id (&slot->retry_id, g_source_remove);
  slot->retry_id = g_timeout_add (delay, retry_cb, slot);
}

static void
delivered_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Slot) slot = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *detail = NULL;
  gboolean ok;

  ok = agl_publisher_deliver_finish (AGL_PUBLISHER (source), result, &detail, &error);
  slot->in_flight = FALSE;
  if (slot->manager == NULL)
    return;

  if (ok)
    {
      if (slot->failures > 0)
        agl_log_account (G_LOG_LEVEL_MESSAGE, slot->account,
                         _("Publishing to the %s %s works again."), slot->kind, slot->target);
      slot->state = "delivered";
      slot->last_success = now_seconds ();
      slot->failures = 0;
      slot_set_message (slot, detail);
      g_clear_pointer (&slot->flight_json, g_free);
      g_clear_pointer (&slot->flight_status, agl_status_free);
    }
  else
    {
      gboolean permanent = g_error_matches (error, AGL_PUBLISHER_ERROR,
                                            AGL_PUBLISHER_ERROR_REFUSED);

      slot->failures++;
      slot_set_message (slot, error->message);
      agl_log_account (G_LOG_LEVEL_WARNING, slot->account,
                       /* TRANSLATORS: "Publishing the status to the webhook failed (attempt 2): …" */
                       _("Publishing the status to the %s failed (attempt %u): %s"), slot->kind,
                       slot->attempts, error->message);
      if (slot->pending_json == NULL && !permanent)
        {
          /* Nothing newer: this one again, later. */
          slot->pending_json = g_steal_pointer (&slot->flight_json);
          slot->pending_status = g_steal_pointer (&slot->flight_status);
        }
      g_clear_pointer (&slot->flight_json, g_free);
      g_clear_pointer (&slot->flight_status, agl_status_free);
      slot->state = permanent && slot->pending_json == NULL ? "failed" : "retrying";
    }

  if (slot->pending_json != NULL)
    {
      if (slot->fresh)
        {
          /* A newer status came during the delivery: send it at once. */
          slot->state = "pending";
          slot_deliver (slot);
        }
      else
        slot_schedule_retry (slot);
    }
  emit_publishers_changed (slot);
}

static void
slot_deliver (Slot *slot)
{
  AglPublication publication;

  g_clear_handle_id (&slot->retry_id, g_source_remove);
  if (slot->fresh)
    slot->attempts = 0;
  slot->fresh = FALSE;
  slot->flight_json = g_steal_pointer (&slot->pending_json);
  slot->flight_status = g_steal_pointer (&slot->pending_status);
  slot->in_flight = TRUE;
  slot->attempts++;
  slot->last_attempt = now_seconds ();

  publication.account = slot->account;
  publication.status = slot->flight_status;
  publication.json = slot->flight_json;
  agl_publisher_deliver_async (slot->publisher, &publication, slot->cancellable, delivered_cb,
                               slot_ref (slot));
}

/* Hands @slot the newest status; it replaces any older one not delivered. */
static void
slot_feed (Slot       *slot,
           const char *json)
{
  if (g_strcmp0 (slot->kind, "dbus") == 0)
    {
      /* The service emits StatusChanged and updates Statuses itself;
       * this only keeps the result that `connections` shows. */
      slot->state = "delivered";
      slot->attempts = 1;
      slot->last_attempt = slot->last_success = now_seconds ();
      slot_set_message (slot, "StatusChanged");
      return;
    }
  if (slot->publisher == NULL)
    return;

  g_free (slot->pending_json);
  slot->pending_json = g_strdup (json);
  g_clear_pointer (&slot->pending_status, agl_status_free);
  /* A copy of its own, valid as long as the delivery. */
  slot->pending_status = status_from_json (json);
  slot->fresh = TRUE;
  slot->failures = 0;
  if (!slot->in_flight)
    {
      slot->state = "pending";
      slot_deliver (slot);
    }
}

static void
because_free (AglStatusBecause *because)
{
  g_free (because->uid);
  g_free (because->subject);
  g_free (because->detail);
  g_free (because);
}

static const char *
get_string_or_null (JsonObject *object,
                    const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The "because" lines of @root (agl_status_to_json_node()'s). */
static void
read_because (JsonObject *root,
              AglStatus  *status)
{
  JsonNode *node = json_object_get_member (root, "because");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      JsonObject *line;
      const char *kind, *free_busy;
      AglStatusBecause *because;
      AglFreeBusy value;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      line = json_node_get_object (element);
      kind = get_string_or_null (line, "kind");
      because = g_new0 (AglStatusBecause, 1);
      because->kind = AGL_BECAUSE_RULE;
      for (int k = AGL_BECAUSE_APPOINTMENT; k <= AGL_BECAUSE_RULE; k++)
        if (g_strcmp0 (kind, agl_because_kind_to_string ((AglBecauseKind) k)) == 0)
          because->kind = (AglBecauseKind) k;
      because->uid = g_strdup (get_string_or_null (line, "uid"));
      because->subject = g_strdup (get_string_or_null (line, "subject"));
      free_busy = get_string_or_null (line, "free_busy");
      because->free_busy = free_busy != NULL && agl_free_busy_from_string (free_busy, &value)
                           ? (int) value : -1;
      because->detail = g_strdup (get_string_or_null (line, "detail"));
      g_ptr_array_add (status->because, because);
    }
}

/* The status as the presence tracker gives it, back into an AglStatus for
 * the publishers that need its fields (the command's environment, the
 * SIP activities). */
static AglStatus *
status_from_json (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(AglStatus) status = g_new0 (AglStatus, 1);
  JsonObject *root, *phone;
  JsonNode *phone_node;
  const char *text;

  status->because = g_ptr_array_new_with_free_func ((GDestroyNotify) because_free);
  if (!json_parser_load_from_data (parser, json, -1, NULL) || json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  phone_node = json_object_get_member (root, "phone");
  if (phone_node == NULL || !JSON_NODE_HOLDS_OBJECT (phone_node))
    return NULL;
  phone = json_node_get_object (phone_node);
  if (
      !agl_presence_from_string (json_object_get_string_member_with_default (root, "presence", ""),
                                 &status->presence) ||
      !agl_phone_action_from_string (json_object_get_string_member_with_default (phone, "action", ""),
                                     &status->action))
    return NULL;
  status->forward_internal = json_object_get_boolean_member_with_default (phone, "forward_internal",
                                                                          FALSE);
  status->reason = g_strdup (get_string_or_null (phone, "reason"));
  status->text = g_strdup (get_string_or_null (root, "text"));
  text = get_string_or_null (root, "at");
  if (text == NULL || !agl_time_parse_iso8601 (text, &status->at, NULL))
    status->at = now_seconds ();
  text = get_string_or_null (root, "until");
  if (text == NULL || !agl_time_parse_iso8601 (text, &status->until, NULL))
    status->until = 0;
  read_because (root, status);
  return g_steal_pointer (&status);
}

static void
account_free (Account *account)
{
  if (account->reload != NULL)
    g_cancellable_cancel (account->reload);
  g_clear_object (&account->reload);
  g_clear_pointer (&account->slots, g_ptr_array_unref);
  g_free (account->status_json);
  g_free (account->name);
  g_free (account);
}

static Account *
ensure_account (AglPublishManager *self,
                const char        *name)
{
  Account *account = g_hash_table_lookup (self->accounts, name);

  if (account != NULL)
    return account;
  account = g_new0 (Account, 1);
  account->manager = self;
  account->name = g_strdup (name);
  account->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_drop);
  g_ptr_array_add (account->slots, slot_new (self, name, "dbus", NULL, ""));
  g_hash_table_insert (self->accounts, account->name, account);
  return account;
}

static void
account_set_status (Account    *account,
                    const char *json)
{
  g_autoptr(AglStatus) status = status_from_json (json);

  if (status == NULL)
    {
      g_warning ("The status of %s cannot be read back; it is not published: %s", account->name,
                 json);
      return;
    }
  g_free (account->status_json);
  account->status_json = g_strdup (json);
  for (guint i = 0; i < account->slots->len; i++)
    slot_feed (g_ptr_array_index (account->slots, i), account->status_json);
  g_signal_emit (account->manager, signals[SIGNAL_STATUSES_CHANGED], 0);
  g_signal_emit (account->manager, signals[SIGNAL_PUBLISHERS_CHANGED], 0, account->name);
}

/* What tells a publisher's settings apart: its settings as JSON and a
 * hash of its secret (never the secret itself). */
static char *
make_config_key (JsonObject *config,
                 const char *secret)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *text = NULL;
  g_autofree char *hash = NULL;

  json_node_set_object (node, config);
  text = json_to_string (node, FALSE);
  hash = secret != NULL ? g_compute_checksum_for_string (G_CHECKSUM_SHA256, secret, -1)
                        : g_strdup ("-");
  return g_strconcat (text, "\n", hash, NULL);
}

static AglPublisher *
make_publisher (const char  *kind,
                JsonObject  *config,
                const char  *secret,
                GError     **error)
{
  if (g_strcmp0 (kind, "webhook") == 0)
    return agl_publish_webhook_new (config, secret, error);
  if (g_strcmp0 (kind, "command") == 0)
    return agl_publish_command_new (config, error);
  if (g_strcmp0 (kind, "sip") == 0)
    return agl_publish_sip_new (config, secret, error);
  g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
               _("publishers.%s is not a publisher; use webhook, command or sip."), kind);
  return NULL;
}

static Slot *
find_slot (Account    *account,
           const char *kind,
           guint      *index)
{
  for (guint i = 0; i < account->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (account->slots, i);

      if (g_strcmp0 (slot->kind, kind) == 0)
        {
          *index = i;
          return slot;
        }
    }
  return NULL;
}

/* Makes the account's publishers what @reload read: unchanged ones stay
 * as they are, with their results; changed ones are made anew and get the
 * current status. */
static void
reload_apply (Reload *reload)
{
  static const char * const kinds[] = { AGL_PUBLISH_KINDS };
  Account *account = g_hash_table_lookup (reload->manager->accounts, reload->name);
  gboolean changed = FALSE;

  if (account == NULL)
    return;

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      JsonNode *node = reload->publishers != NULL
                       ? json_object_get_member (reload->publishers, kinds[k]) : NULL;
      const char *secret = NULL;
      g_autofree char *key = NULL;
      g_autoptr(GError) error = NULL;
      AglPublisher *publisher;
      Slot *slot;
      guint index = 0;

      for (guint s = 0; s < G_N_ELEMENTS (secret_kinds); s++)
        if (g_strcmp0 (secret_kinds[s], kinds[k]) == 0)
          secret = reload->secrets[s];

      slot = find_slot (account, kinds[k], &index);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        {
          if (slot != NULL)
            {
              g_ptr_array_remove_index (account->slots, index);
              changed = TRUE;
            }
          continue;
        }
      key = make_config_key (json_node_get_object (node), secret);
      if (slot != NULL && g_strcmp0 (slot->config_key, key) == 0)
        continue;
      if (slot != NULL)
        g_ptr_array_remove_index (account->slots, index);
      changed = TRUE;

      publisher = make_publisher (kinds[k], json_node_get_object (node), secret, &error);
      slot = slot_new (reload->manager, account->name, kinds[k], publisher, key);
      g_ptr_array_add (account->slots, slot);
      if (publisher == NULL)
        {
          /* Stored settings that no longer make a publisher (a CA file
           * gone, a program removed): shown, never retried. */
          slot->state = "failed";
          slot_set_message (slot, error->message);
          agl_log_account (G_LOG_LEVEL_WARNING, account->name,
                           _("The %s publisher cannot be set up: %s"), kinds[k], error->message);
          continue;
        }
      if (account->status_json != NULL)
        slot_feed (slot, account->status_json);
    }
  if (changed)
    g_signal_emit (reload->manager, signals[SIGNAL_PUBLISHERS_CHANGED], 0, account->name);
}

static void
reload_free (Reload *reload)
{
  for (guint i = 0; i < G_N_ELEMENTS (reload->secrets); i++)
    {
      if (reload->secrets[i] != NULL)
        memset (reload->secrets[i], 0, strlen (reload->secrets[i]));
      g_free (reload->secrets[i]);
    }
  g_clear_pointer (&reload->publishers, json_object_unref);
  g_clear_object (&reload->cancellable);
  g_object_unref (reload->manager);
  g_free (reload->name);
  g_free (reload);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reload, reload_free)

static void reload_next_secret (Reload *reload);

static void
secret_looked_up_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Reload *reload = user_data;
  g_autoptr(GError) error = NULL;
  char *secret = agl_secrets_lookup_publisher_finish (AGL_SECRETS (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_cancellable_is_cancelled (reload->cancellable))
    {
      g_free (secret);
      reload_free (reload);
      return;
    }
  if (error != NULL)
    agl_log_account (G_LOG_LEVEL_WARNING, reload->name,
                     _("Cannot read the secret of the %s publisher: %s"),
                     secret_kinds[reload->next], error->message);
  reload->secrets[reload->next++] = secret;
  reload_next_secret (reload);
}

static void
reload_next_secret (Reload *reload)
{
  while (reload->next < G_N_ELEMENTS (secret_kinds))
    {
      const char *kind = secret_kinds[reload->next];

      if (reload->publishers != NULL && json_object_has_member (reload->publishers, kind))
        {
          agl_secrets_lookup_publisher_async (reload->manager->secrets, reload->name, kind,
                                              reload->cancellable, secret_looked_up_cb, reload);
          return;
        }
      reload->next++;
    }
  reload_apply (reload);
  reload_free (reload);
}

/* The "publishers" object of the account's rules as stored, or NULL. */
static JsonObject *
read_publishers (AglPublishManager *self,
                 const char        *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rules = agl_presence_tracker_get_rules (self->presence, name, &error);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *publishers;

  if (rules == NULL)
    {
      g_warning ("Cannot read the rules of %s for its publishers: %s", name, error->message);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, rules, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  publishers = json_object_get_object_member (json_node_get_object (root), "publishers");
  return publishers != NULL ? json_object_ref (publishers) : NULL;
}

static void
account_reload (AglPublishManager *self,
                Account           *account)
{
  Reload *reload = g_new0 (Reload, 1);

  /* A newer reload replaces one still looking up secrets. */
  if (account->reload != NULL)
    g_cancellable_cancel (account->reload);
  g_clear_object (&account->reload);
  account->reload = g_cancellable_new ();

  reload->manager = g_object_ref (self);
  reload->name = g_strdup (account->name);
  reload->cancellable = g_object_ref (account->reload);
  reload->publishers = read_publishers (self, account->name);
  reload_next_secret (reload);
}

/* Follows the account @name: its publishers and, when not known yet, its
 * current status. */
static void
follow_account (AglPublishManager *self,
                const char        *name)
{
  Account *account = ensure_account (self, name);

  if (account->status_json == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *status = agl_presence_tracker_get_status (self->presence, name, TRUE, 0,
                                                                 &error);

      if (status != NULL)
        account_set_status (account, status);
      else
        g_warning ("Cannot work out the status of %s to publish it: %s", name, error->message);
    }
  account_reload (self, account);
}

static void
drop_account (AglPublishManager *self,
              const char        *name)
{
  if (g_hash_table_remove (self->accounts, name))
    {
      g_signal_emit (self, signals[SIGNAL_STATUSES_CHANGED], 0);
      g_signal_emit (self, signals[SIGNAL_PUBLISHERS_CHANGED], 0, name);
    }
}

static void
status_changed_cb (AglPresenceTracker *presence,
                   const char         *name,
                   const char         *json,
                   AglPublishManager  *self)
{
  Account *account = g_hash_table_lookup (self->accounts, name);

  if (account != NULL)
    account_set_status (account, json);
}

static void
account_changed_cb (AglStore          *store,
                    const char        *name,
                    int                change,
                    AglPublishManager *self)
{
  g_autoptr(AglAccount) account = NULL;

  if (change != AGL_STORE_ACCOUNT_REMOVED)
    account = agl_store_get_account (store, name, NULL);
  if (account == NULL || !account->enabled)
    drop_account (self, name);
  else
    follow_account (self, name);
}

static void
agl_publish_manager_dispose (GObject *object)
{
  AglPublishManager *self = AGL_PUBLISH_MANAGER (object);

  agl_publish_manager_stop (self);
  g_clear_object (&self->presence);
  g_clear_object (&self->store);
  g_clear_object (&self->secrets);
  G_OBJECT_CLASS (agl_publish_manager_parent_class)->dispose (object);
}

static void
agl_publish_manager_finalize (GObject *object)
{
  AglPublishManager *self = AGL_PUBLISH_MANAGER (object);

  g_clear_pointer (&self->accounts, g_hash_table_unref);
  G_OBJECT_CLASS (agl_publish_manager_parent_class)->finalize (object);
}

static void
agl_publish_manager_class_init (AglPublishManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  agl_publish_sip_prepare_library ();

  object_class->dispose = agl_publish_manager_dispose;
  object_class->finalize = agl_publish_manager_finalize;

  /**
   * AglPublishManager::statuses-changed:
   *
   * The current status of an account changed, or an account came or
   * went: agl_publish_manager_get_statuses() gives something new.
   */
  signals[SIGNAL_STATUSES_CHANGED] =
    g_signal_new ("statuses-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * AglPublishManager::publishers-changed:
   * @name: the account
   *
   * The account's publishers, or the result of one, changed.
   */
  signals[SIGNAL_PUBLISHERS_CHANGED] =
    g_signal_new ("publishers-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
agl_publish_manager_init (AglPublishManager *self)
{
  self->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) account_free);
}

/**
 * agl_publish_manager_new:
 * @store: the agenda store, for the accounts
 * @presence: the presence tracker, for the statuses and the rules
 * @secrets: where the publishers' secrets are
 *
 * Returns: (transfer full): a manager, idle until
 *   agl_publish_manager_start()
 */
AglPublishManager *
agl_publish_manager_new (AglStore           *store,
                         AglPresenceTracker *presence,
                         AglSecrets         *secrets)
{
  AglPublishManager *self;

  g_return_val_if_fail (AGL_IS_STORE (store), NULL);
  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (presence), NULL);
  g_return_val_if_fail (AGL_IS_SECRETS (secrets), NULL);

  self = g_object_new (AGL_TYPE_PUBLISH_MANAGER, NULL);
  self->store = g_object_ref (store);
  self->presence = g_object_ref (presence);
  self->secrets = g_object_ref (secrets);
  return self;
}

/**
 * agl_publish_manager_start:
 * @self: a manager
 *
 * Publishes the current status of every enabled account, then every
 * change; call after agl_presence_tracker_start().
 */
void
agl_publish_manager_start (AglPublishManager *self)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_PUBLISH_MANAGER (self));

  if (self->started)
    return;
  self->started = TRUE;
  g_signal_connect (self->presence, "status-changed", G_CALLBACK (status_changed_cb), self);
  g_signal_connect (self->store, "account-changed", G_CALLBACK (account_changed_cb), self);

  accounts = agl_store_list_accounts (self->store, &error);
  if (accounts == NULL)
    {
      g_warning ("Cannot list the accounts to publish their presence: %s", error->message);
      return;
    }
  for (guint i = 0; i < accounts->len; i++)
    {
      const AglAccount *account = g_ptr_array_index (accounts, i);

      if (account->enabled)
        follow_account (self, account->name);
    }
}

/**
 * agl_publish_manager_stop:
 * @self: a manager
 *
 * Drops every publisher, cancelling their deliveries.
 */
void
agl_publish_manager_stop (AglPublishManager *self)
{
  g_return_if_fail (AGL_IS_PUBLISH_MANAGER (self));

  if (!self->started)
    return;
  self->started = FALSE;
  g_signal_handlers_disconnect_by_data (self->presence, self);
  g_signal_handlers_disconnect_by_data (self->store, self);
  g_hash_table_remove_all (self->accounts);
}

/**
 * agl_publish_manager_reload_account:
 * @self: a manager
 * @name: an account
 *
 * Reads the account's publishers again, after its rules or its
 * publishers' secrets changed.
 */
void
agl_publish_manager_reload_account (AglPublishManager *self,
                                    const char        *name)
{
  Account *account;

  g_return_if_fail (AGL_IS_PUBLISH_MANAGER (self));

  account = g_hash_table_lookup (self->accounts, name);
  if (account != NULL)
    account_reload (self, account);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/**
 * agl_publish_manager_get_statuses:
 * @self: a manager
 *
 * Returns: (transfer floating): a{ss}, each enabled account's name and
 *   its current status as JSON
 */
GVariant *
agl_publish_manager_get_statuses (AglPublishManager *self)
{
  g_autofree const char **names = NULL;
  GVariantBuilder builder;
  guint n_names = 0;

  g_return_val_if_fail (AGL_IS_PUBLISH_MANAGER (self), NULL);

  names = (const char **) g_hash_table_get_keys_as_array (self->accounts, &n_names);
  qsort (names, n_names, sizeof (char *), compare_names);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; i < n_names; i++)
    {
      Account *account = g_hash_table_lookup (self->accounts, names[i]);

      if (account->status_json != NULL)
        g_variant_builder_add (&builder, "{ss}", account->name, account->status_json);
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
format_instant (gint64 when)
{
  g_autofree char *text = when > 0 ? agl_time_format_utc (when) : g_strdup ("");

  return g_variant_new_string (text);
}

/**
 * agl_publish_manager_get_publishers:
 * @self: a manager
 * @name: an account
 *
 * Returns: (transfer floating): aa{sv}, the account's publishers ("dbus"
 *   first, then as the rules list them) with their last results: "kind",
 *   "target", "state", "last-attempt", "last-success", "attempts",
 *   "message"; empty for an account that is not followed
 */
GVariant *
agl_publish_manager_get_publishers (AglPublishManager *self,
                                    const char        *name)
{
  Account *account;
  GVariantBuilder builder;

  g_return_val_if_fail (AGL_IS_PUBLISH_MANAGER (self), NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  account = g_hash_table_lookup (self->accounts, name);
  for (guint i = 0; account != NULL && i < account->slots->len; i++)
    {
      Slot *slot = g_ptr_array_index (account->slots, i);

      g_variant_builder_open (&builder, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&builder, "{sv}", "kind", g_variant_new_string (slot->kind));
      g_variant_builder_add (&builder, "{sv}", "target", g_variant_new_string (slot->target));
      g_variant_builder_add (&builder, "{sv}", "state", g_variant_new_string (slot->state));
      g_variant_builder_add (&builder, "{sv}", "last-attempt", format_instant (slot->last_attempt));
      g_variant_builder_add (&builder, "{sv}", "last-success", format_instant (slot->last_success));
      g_variant_builder_add (&builder, "{sv}", "attempts", g_variant_new_uint32 (slot->attempts));
      g_variant_builder_add (&builder, "{sv}", "message",
                             g_variant_new_string (slot->message != NULL ? slot->message : ""));
      g_variant_builder_close (&builder);
    }
  return g_variant_builder_end (&builder);
}

/**
 * agl_publish_manager_check_config:
 * @publishers: the "publishers" object of rules
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the key
 *   ("publishers.webhook.url")
 *
 * Checks every publisher's settings as SetRules takes them.
 *
 * Returns: whether they are all good
 */
gboolean
agl_publish_manager_check_config (JsonObject  *publishers,
                                  GError     **error)
{
  return agl_publish_config_check (publishers, error);
}
