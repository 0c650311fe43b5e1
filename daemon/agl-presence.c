/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <glib-unix.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-presence.h"
#include "agl-rules-input.h"

/*
 * The presence tracker keeps, for each enabled account, what the rules
 * engine needs besides the time: the rules (from the store), the
 * out-of-office settings (from the account's server), the override (in
 * memory: a restart ends it, as the next appointment would) and the
 * appointments (from the store, read afresh at each evaluation so that
 * nothing here can go stale).
 *
 * Each account has ONE timer, armed at the next boundary the rules engine
 * names; there is no polling.  The status is worked out again when the
 * timer fires and after every change of what it depends on, and
 * ::status-changed is emitted only when it differs.
 *
 * Out-of-office settings are read with the account's remote backend once
 * the sync engine has connected (each new connection) and every hour;
 * until they are known they count as off.  A failed read is logged and
 * tried again at the next of those occasions.
 */

#define DAY (24 * 3600)
/* The appointments read for the current status: the day before (an
 * appointment that began yesterday may still run) to a month ahead (the
 * rules' "until" and the next boundary). */
#define WINDOW_BEFORE DAY
#define WINDOW_AFTER (32 * DAY)
/* No boundary within the window: look again before the window runs out. */
#define MAX_TIMER_SECONDS (30 * DAY)
#define OOF_REFRESH_SECONDS 3600

typedef struct {
  AglPresenceTracker *tracker; /* unowned: it owns us */
  char               *name;
  AglRules           *rules;

  gboolean            oof_known;
  AglRulesOof         oof;
  char               *oof_reply;
  GCancellable       *oof_cancellable;
  AglRemote          *oof_remote; /* weak: the backend last asked */
  guint               oof_timer_id;

  gboolean            has_override;
  AglRulesOverride    override;
  char               *override_text;

  AglStatus          *status;
  guint               timer_id;
  int                 timer_fd; /* -1 without one */
  gint64              timer_at;
} Account;

struct _AglPresenceTracker
{
  GObject         parent_instance;

  AglStore       *store;
  AglSyncManager *sync;
  GTimeZone      *zone;
  GHashTable     *accounts; /* name -> Account */
  gboolean        started;
};

G_DEFINE_FINAL_TYPE (AglPresenceTracker, agl_presence_tracker, G_TYPE_OBJECT)

enum {
  SIGNAL_STATUS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void account_update (Account *account);
static void account_disarm (Account *account);

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
account_free (Account *account)
{
  account_disarm (account);
  g_clear_handle_id (&account->oof_timer_id, g_source_remove);
  if (account->oof_cancellable != NULL)
    g_cancellable_cancel (account->oof_cancellable);
  g_clear_object (&account->oof_cancellable);
  g_clear_weak_pointer (&account->oof_remote);
  g_clear_pointer (&account->rules, agl_rules_free);
  g_clear_pointer (&account->status, agl_status_free);
  g_free (account->oof_reply);
  g_free (account->override_text);
  g_free (account->name);
  g_free (account);
}

static gboolean
check_account (AglPresenceTracker *self,
               const char         *name,
               GError            **error)
{
  g_autoptr(AglAccount) account = NULL;

  if (name == NULL || *name == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_NOT_FOUND,
                   _("There is no account named “%s”. "
                     "List the accounts to see their names."),
                   name != NULL ? name : "");
      return FALSE;
    }
  account = agl_store_get_account (self->store, name, error);
  return account != NULL;
}

/* The account's rules as stored, or the defaults.  Stored rules were
 * checked when they were set; text that no longer parses (a database
 * edited by hand) falls back to the defaults with a warning rather than
 * leaving the account without a status. */
static AglRules *
load_rules (AglPresenceTracker *self,
            const char         *name,
            GError            **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) parse_error = NULL;
  AglRules *rules;

  if (!agl_store_get_account_rules (self->store, name, &json, error))
    return NULL;
  if (json == NULL)
    return agl_rules_new_default ();
  rules = agl_rules_from_json (json, &parse_error);
  if (rules == NULL)
    {
      g_warning ("The stored presence rules of %s are not valid (%s); using the defaults",
                 name, parse_error->message);
      return agl_rules_new_default ();
    }
  return rules;
}

/* The occurrences of @name's appointments overlapping [@from, @to). */
static gboolean
read_occurrences (AglPresenceTracker *self,
                  const char         *name,
                  gint64              from,
                  gint64              to,
                  GPtrArray         **list,
                  GArray            **array,
                  GError            **error)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(AglAccount) account = NULL;

  /* The account's address finds the user among the participants of a
   * meeting that was invited to here rather than synced from Exchange. */
  account = agl_store_get_account (self->store, name, error);
  if (account == NULL)
    return FALSE;
  items = agl_store_list_items (self->store, name, from, to, error);
  if (items == NULL)
    return FALSE;
  *list = agl_rules_input_from_items (items, account->email, from, to, self->zone, error);
  if (*list == NULL)
    return FALSE;
  *array = agl_rules_input_to_array (*list);
  return TRUE;
}

static const AglRulesOof *
account_oof (const Account *account)
{
  return account != NULL && account->oof_known ? &account->oof : NULL;
}

static const AglRulesOverride *
account_override (const Account *account)
{
  return account != NULL && account->has_override ? &account->override : NULL;
}

static void
account_clear_override (Account *account)
{
  account->has_override = FALSE;
  g_clear_pointer (&account->override_text, g_free);
  memset (&account->override, 0, sizeof account->override);
}

/* The boundary timer is a timerfd on the wall clock (CLOCK_REALTIME,
 * absolute): unlike a GLib timeout, which runs on the monotonic clock and
 * stops while the machine sleeps, it fires at the boundary's wall-clock
 * instant, and at once on waking when the boundary passed during a
 * suspend.  TFD_TIMER_CANCEL_ON_SET also wakes it when the clock is set
 * (NTP step, the user changing the time), so the status is worked out
 * again for the new time instead of waiting for a boundary that has
 * moved.  Where timerfd is missing, a GLib timeout does the job, without
 * those two guarantees. */
static gboolean
timer_fired_cb (gpointer data)
{
  Account *account = data;

  account->timer_id = 0;
  /* A timeout on the monotonic clock can come early on the wall clock:
   * wait for the rest rather than evaluate before the boundary. */
  if (g_get_real_time () < account->timer_at * G_USEC_PER_SEC)
    {
      gint64 wait = account->timer_at * G_USEC_PER_SEC - g_get_real_time ();

      account->timer_id = g_timeout_add ((guint) ((wait + 999) / 1000), timer_fired_cb, account);
      return G_SOURCE_REMOVE;
    }
  account_update (account);
  return G_SOURCE_REMOVE;
}

static gboolean
timer_fd_cb (int          fd,
             GIOCondition condition,
             gpointer     data)
{
  Account *account = data;
  guint64 expirations;

  /* ECANCELED: the clock was set; EAGAIN: nothing to read (spurious).
   * Either way the status is worked out again for the time it is now. */
  if (read (fd, &expirations, sizeof expirations) < 0 && errno == EAGAIN)
    return G_SOURCE_CONTINUE;
  account->timer_id = 0;
  account_update (account);
  return G_SOURCE_REMOVE;
}

static void
account_disarm (Account *account)
{
  g_clear_handle_id (&account->timer_id, g_source_remove);
  if (account->timer_fd >= 0)
    {
      close (account->timer_fd);
      account->timer_fd = -1;
    }
}

static void
account_arm (Account *account,
             gint64   boundary,
             gint64   now)
{
  struct itimerspec spec = { 0 };
  gint64 wait;

  account_disarm (account);
  if (boundary == 0 || boundary > now + MAX_TIMER_SECONDS)
    boundary = now + MAX_TIMER_SECONDS;
  account->timer_at = boundary;

  account->timer_fd = timerfd_create (CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  spec.it_value.tv_sec = (time_t) boundary;
  if (account->timer_fd >= 0 &&
      timerfd_settime (account->timer_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
                       &spec, NULL) == 0)
    {
      account->timer_id = g_unix_fd_add (account->timer_fd, G_IO_IN, timer_fd_cb, account);
      return;
    }
  if (account->timer_fd >= 0)
    {
      close (account->timer_fd);
      account->timer_fd = -1;
    }
  wait = MAX (boundary * G_USEC_PER_SEC - g_get_real_time (), 0);
  account->timer_id = g_timeout_add ((guint) ((wait + 999) / 1000), timer_fired_cb, account);
}

/* Works out the account's status now, tells the world when it changed,
 * and arms the timer at the next boundary. */
static void
account_update (Account *account)
{
  AglPresenceTracker *self = account->tracker;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GArray) array = NULL;
  g_autoptr(GError) error = NULL;
  AglStatus *status;
  gint64 now = now_seconds ();
  gint64 boundary;

  if (!read_occurrences (self, account->name, now - WINDOW_BEFORE, now + WINDOW_AFTER,
                         &list, &array, &error))
    {
      /* The store failing is not a reason to change the status; try again
       * in a minute rather than never. */
      g_warning ("Cannot read the agenda of %s for its presence: %s", account->name, error->message);
      account_arm (account, now + 60, now);
      return;
    }

  if (account->has_override)
    {
      if (account->override.expires != 0 && now >= account->override.expires)
        account_clear_override (account);
      else
        /* The agenda may have changed since the override was set: it ends
         * at the next start or end of an appointment as the agenda is
         * now.  With an unchanged agenda this is the expiry it had. */
        account->override.expires =
          agl_rules_override_expiry ((const AglRulesOccurrence *) array->data, array->len, now);
    }

  status = agl_rules_evaluate (account->rules, (const AglRulesOccurrence *) array->data, array->len,
                               account_oof (account), account_override (account), now);
  if (account->status != NULL && !agl_status_equal (account->status, status))
    {
      g_autofree char *json = agl_status_to_json (status, account->name, status->at);

      g_info ("Presence of %s changed: %s", account->name, json);
      g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0, account->name, json);
    }
  g_clear_pointer (&account->status, agl_status_free);
  account->status = status;

  boundary = agl_rules_next_boundary ((const AglRulesOccurrence *) array->data, array->len,
                                      account_oof (account), account_override (account), now);
  account_arm (account, boundary, now);
}

typedef struct {
  AglPresenceTracker *self;
  char               *name;
  GCancellable       *cancellable;
} OofRead;

static void
oof_read_free (OofRead *read)
{
  g_object_unref (read->self);
  g_free (read->name);
  g_object_unref (read->cancellable);
  g_free (read);
}

static gint64
unix_or_zero (GDateTime *datetime)
{
  return datetime != NULL ? g_date_time_to_unix (datetime) : 0;
}

/* Exchange keeps the automatic reply as HTML; a greeting needs one line
 * of text.  Tags go (a <br> or </p> becomes a space), the five XML
 * entities and &nbsp; are decoded, and runs of white space collapse. */
static char *
reply_to_text (const char *reply)
{
  static const struct { const char *entity; const char *text; } entities[] = {
    { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
    { "&#39;", "'" }, { "&apos;", "'" }, { "&nbsp;", " " },
  };
  g_autoptr(GString) text = NULL;
  gboolean space = TRUE;

  if (reply == NULL)
    return NULL;
  text = g_string_new (NULL);
  for (const char *p = reply; *p != '\0';)
    {
      const char *piece = NULL;
      gsize skip = 1;

      if (*p == '<')
        {
          const char *close = strchr (p, '>');

          if (close == NULL)
            break;
          piece = " ";
          skip = (gsize) (close - p) + 1;
        }
      else if (*p == '&')
        {
          for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
            if (g_ascii_strncasecmp (p, entities[i].entity, strlen (entities[i].entity)) == 0)
              {
                piece = entities[i].text;
                skip = strlen (entities[i].entity);
                break;
              }
        }

      if (piece == NULL)
        {
          if (g_ascii_isspace (*p))
            piece = " ";
          else
            {
              g_string_append_c (text, *p);
              space = FALSE;
              p++;
              continue;
            }
        }
      if (*piece == ' ' && piece[1] == '\0')
        {
          if (!space)
            g_string_append_c (text, ' ');
          space = TRUE;
        }
      else
        {
          g_string_append (text, piece);
          space = FALSE;
        }
      p += skip;
    }
  while (text->len > 0 && text->str[text->len - 1] == ' ')
    g_string_truncate (text, text->len - 1);
  if (text->len == 0 || !g_utf8_validate (text->str, -1, NULL))
    return NULL;
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
oof_read_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  OofRead *read = user_data;
  g_autoptr(AglRemoteOof) remote_oof = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reply = NULL;
  Account *account;
  AglRulesOof oof = { 0 };

  remote_oof = agl_remote_get_oof_settings_finish (AGL_REMOTE (source), result, &error);
  account = g_hash_table_lookup (read->self->accounts, read->name);
  if (account == NULL || account->oof_cancellable != read->cancellable)
    {
      oof_read_free (read);
      return;
    }
  g_clear_object (&account->oof_cancellable);

  if (remote_oof == NULL)
    {
      g_message ("Cannot read the out-of-office settings of %s (tried again within the hour): %s",
                 account->name, error->message);
      oof_read_free (read);
      return;
    }

  switch (remote_oof->state)
    {
    case AGL_REMOTE_OOF_ENABLED:
      oof.state = AGL_OOF_ENABLED;
      break;
    case AGL_REMOTE_OOF_SCHEDULED:
      oof.state = AGL_OOF_SCHEDULED;
      oof.start = unix_or_zero (remote_oof->start);
      oof.end = unix_or_zero (remote_oof->end);
      break;
    case AGL_REMOTE_OOF_DISABLED:
    default:
      oof.state = AGL_OOF_DISABLED;
      break;
    }

  reply = reply_to_text (remote_oof->internal_reply);
  if (!account->oof_known || oof.state != account->oof.state || oof.start != account->oof.start ||
      oof.end != account->oof.end || g_strcmp0 (reply, account->oof_reply) != 0)
    {
      if (oof.state == AGL_OOF_SCHEDULED)
        {
          g_autoptr(GDateTime) start = g_date_time_new_from_unix_utc (oof.start);
          g_autoptr(GDateTime) end = g_date_time_new_from_unix_utc (oof.end);
          g_autofree char *from = start != NULL ? g_date_time_format_iso8601 (start) : NULL;
          g_autofree char *to = end != NULL ? g_date_time_format_iso8601 (end) : NULL;

          g_info ("Automatic replies of %s are scheduled from %s to %s", account->name,
                  from != NULL ? from : "?", to != NULL ? to : "?");
        }
      else
        g_info ("Automatic replies of %s are %s", account->name,
                oof.state == AGL_OOF_ENABLED ? "on" : "off");
      g_free (account->oof_reply);
      account->oof_reply = g_steal_pointer (&reply);
      account->oof = oof;
      account->oof.internal_reply = account->oof_reply;
      account->oof_known = TRUE;
      account_update (account);
    }
  oof_read_free (read);
}

/* Reads the OOF settings with the account's backend, when it has one. */
static void
account_read_oof (Account *account)
{
  AglPresenceTracker *self = account->tracker;
  AglSyncEngine *engine = agl_sync_manager_get_engine (self->sync, account->name);
  AglRemote *remote = engine != NULL ? agl_sync_engine_get_remote (engine) : NULL;
  OofRead *read;

  if (remote == NULL || account->oof_cancellable != NULL)
    return;

  g_set_weak_pointer (&account->oof_remote, remote);
  account->oof_cancellable = g_cancellable_new ();
  read = g_new0 (OofRead, 1);
  read->self = g_object_ref (self);
  read->name = g_strdup (account->name);
  read->cancellable = g_object_ref (account->oof_cancellable);
  agl_remote_get_oof_settings_async (remote, account->oof_cancellable, oof_read_cb, read);
}

static gboolean
oof_refresh_cb (gpointer data)
{
  account_read_oof (data);
  return G_SOURCE_CONTINUE;
}

static void
track_account (AglPresenceTracker *self,
               const char         *name)
{
  g_autoptr(GError) error = NULL;
  Account *account;
  AglRules *rules;

  if (g_hash_table_contains (self->accounts, name))
    return;
  rules = load_rules (self, name, &error);
  if (rules == NULL)
    {
      g_warning ("Cannot read the presence rules of %s: %s", name, error->message);
      return;
    }

  account = g_new0 (Account, 1);
  account->tracker = self;
  account->timer_fd = -1;
  account->name = g_strdup (name);
  account->rules = rules;
  g_hash_table_insert (self->accounts, account->name, account);
  account->oof_timer_id = g_timeout_add_seconds (OOF_REFRESH_SECONDS, oof_refresh_cb, account);
  account_update (account);
  account_read_oof (account);
}

static void
agenda_changed_cb (AglStore           *store,
                   const char         *name,
                   GArray             *created,
                   GArray             *updated,
                   GArray             *deleted,
                   AglPresenceTracker *self)
{
  Account *account = name != NULL ? g_hash_table_lookup (self->accounts, name) : NULL;

  if (account != NULL)
    account_update (account);
}

static void
account_changed_cb (AglStore           *store,
                    const char         *name,
                    int                 change,
                    AglPresenceTracker *self)
{
  g_autoptr(AglAccount) account = NULL;
  Account *tracked = g_hash_table_lookup (self->accounts, name);

  if (change == AGL_STORE_ACCOUNT_REMOVED)
    {
      g_hash_table_remove (self->accounts, name);
      return;
    }

  account = agl_store_get_account (store, name, NULL);
  if (account == NULL || !account->enabled)
    g_hash_table_remove (self->accounts, name);
  else if (tracked == NULL)
    track_account (self, name);
  else
    account_update (tracked);
}

/* The engine connected (a new backend) or finished a sync: the first
 * success with a backend not asked yet reads the OOF settings. */
static void
connection_changed_cb (AglSyncManager     *sync,
                       const char         *name,
                       AglPresenceTracker *self)
{
  g_auto(AglSyncConnection) connection = { 0 };
  Account *account = g_hash_table_lookup (self->accounts, name);
  AglSyncEngine *engine;
  AglRemote *remote;

  if (account == NULL || (engine = agl_sync_manager_get_engine (sync, name)) == NULL)
    return;
  remote = agl_sync_engine_get_remote (engine);
  agl_sync_engine_get_connection (engine, &connection);
  if (connection.status == AGL_SYNC_STATUS_ONLINE && remote != NULL && remote != account->oof_remote)
    account_read_oof (account);
}

static void
agl_presence_tracker_dispose (GObject *object)
{
  AglPresenceTracker *self = AGL_PRESENCE_TRACKER (object);

  agl_presence_tracker_stop (self);
  g_clear_object (&self->sync);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (agl_presence_tracker_parent_class)->dispose (object);
}

static void
agl_presence_tracker_finalize (GObject *object)
{
  AglPresenceTracker *self = AGL_PRESENCE_TRACKER (object);

  g_clear_pointer (&self->accounts, g_hash_table_unref);
  g_clear_pointer (&self->zone, g_time_zone_unref);
  G_OBJECT_CLASS (agl_presence_tracker_parent_class)->finalize (object);
}

static void
agl_presence_tracker_class_init (AglPresenceTrackerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = agl_presence_tracker_dispose;
  object_class->finalize = agl_presence_tracker_finalize;

  /**
   * AglPresenceTracker::status-changed:
   * @name: the account
   * @status: its new status as JSON (agl_status_to_json())
   *
   * The account's current status changed.
   */
  signals[SIGNAL_STATUS_CHANGED] =
    g_signal_new ("status-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
agl_presence_tracker_init (AglPresenceTracker *self)
{
  self->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) account_free);
  self->zone = g_time_zone_new_local ();
}

/**
 * agl_presence_tracker_new:
 * @store: the agenda store
 * @sync: the sync manager, whose engines' backends read the OOF settings
 *
 * Returns: (transfer full): a tracker, idle until
 *   agl_presence_tracker_start()
 */
AglPresenceTracker *
agl_presence_tracker_new (AglStore       *store,
                          AglSyncManager *sync)
{
  AglPresenceTracker *self;

  g_return_val_if_fail (AGL_IS_STORE (store), NULL);
  g_return_val_if_fail (AGL_IS_SYNC_MANAGER (sync), NULL);

  self = g_object_new (AGL_TYPE_PRESENCE_TRACKER, NULL);
  self->store = g_object_ref (store);
  self->sync = g_object_ref (sync);
  return self;
}

/**
 * agl_presence_tracker_start:
 * @self: a tracker
 *
 * Starts following the enabled accounts.
 */
void
agl_presence_tracker_start (AglPresenceTracker *self)
{
  g_autoptr(GPtrArray) accounts = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (AGL_IS_PRESENCE_TRACKER (self));

  if (self->started)
    return;
  self->started = TRUE;
  g_signal_connect (self->store, "agenda-changed", G_CALLBACK (agenda_changed_cb), self);
  g_signal_connect (self->store, "account-changed", G_CALLBACK (account_changed_cb), self);
  g_signal_connect (self->sync, "connection-changed", G_CALLBACK (connection_changed_cb), self);

  accounts = agl_store_list_accounts (self->store, &error);
  if (accounts == NULL)
    {
      g_warning ("Cannot list the accounts for their presence: %s", error->message);
      return;
    }
  for (guint i = 0; i < accounts->len; i++)
    {
      const AglAccount *account = g_ptr_array_index (accounts, i);

      if (account->enabled)
        track_account (self, account->name);
    }
}

/**
 * agl_presence_tracker_stop:
 * @self: a tracker
 *
 * Stops every timer and forgets the overrides.
 */
void
agl_presence_tracker_stop (AglPresenceTracker *self)
{
  g_return_if_fail (AGL_IS_PRESENCE_TRACKER (self));

  if (!self->started)
    return;
  self->started = FALSE;
  g_signal_handlers_disconnect_by_data (self->store, self);
  g_signal_handlers_disconnect_by_data (self->sync, self);
  g_hash_table_remove_all (self->accounts);
}

/**
 * agl_presence_tracker_get_status:
 * @self: a tracker
 * @name: an account
 * @now: %TRUE for the current instant (then @at is ignored)
 * @at: an instant, Unix time
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * The status at an instant, from the same rules, appointments, OOF
 * settings and override as the current one.
 *
 * Returns: (transfer full): the status as JSON, or %NULL with @error set
 */
char *
agl_presence_tracker_get_status (AglPresenceTracker *self,
                                 const char         *name,
                                 gboolean            now,
                                 gint64              at,
                                 GError            **error)
{
  g_autoptr(AglRules) loaded = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GArray) array = NULL;
  g_autoptr(AglStatus) status = NULL;
  Account *account;
  const AglRules *rules;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_account (self, name, error))
    return NULL;
  if (now)
    at = now_seconds ();

  account = g_hash_table_lookup (self->accounts, name);
  if (account != NULL)
    rules = account->rules;
  else if ((rules = loaded = load_rules (self, name, error)) == NULL)
    return NULL;

  if (!read_occurrences (self, name, at - WINDOW_BEFORE, at + WINDOW_AFTER, &list, &array, error))
    return NULL;
  status = agl_rules_evaluate (rules, (const AglRulesOccurrence *) array->data, array->len,
                               account_oof (account), account_override (account), at);
  return agl_status_to_json (status, name, at);
}

/**
 * agl_presence_tracker_get_schedule:
 * @self: a tracker
 * @name: an account
 * @now: %TRUE to start at the current instant (then @from is ignored)
 * @from: the first instant, Unix time
 * @days: how many days ahead
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full): a JSON array of statuses: the one at @from,
 *   then one at each change before @from + @days, or %NULL with @error set
 */
char *
agl_presence_tracker_get_schedule (AglPresenceTracker *self,
                                   const char         *name,
                                   gboolean            now,
                                   gint64              from,
                                   guint               days,
                                   GError            **error)
{
  g_autoptr(AglRules) loaded = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GArray) array = NULL;
  g_autoptr(GPtrArray) statuses = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *json_array;
  Account *account;
  const AglRules *rules;
  gint64 to;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_account (self, name, error))
    return NULL;
  if (now)
    from = now_seconds ();
  to = from + (gint64) days * DAY;

  account = g_hash_table_lookup (self->accounts, name);
  if (account != NULL)
    rules = account->rules;
  else if ((rules = loaded = load_rules (self, name, error)) == NULL)
    return NULL;

  if (!read_occurrences (self, name, from - WINDOW_BEFORE, to + WINDOW_AFTER, &list, &array, error))
    return NULL;
  statuses = agl_rules_schedule (rules, (const AglRulesOccurrence *) array->data, array->len,
                                 account_oof (account), account_override (account), from, to);

  json_array = json_array_sized_new (statuses->len);
  for (guint i = 0; i < statuses->len; i++)
    {
      const AglStatus *status = g_ptr_array_index (statuses, i);

      json_array_add_element (json_array, agl_status_to_json_node (status, name, status->at));
    }
  root = json_node_init_array (json_node_alloc (), json_array);
  json_array_unref (json_array);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

/**
 * agl_presence_tracker_get_rules:
 * @self: a tracker
 * @name: an account
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Returns: (transfer full): the account's rules as JSON (every key, the
 *   defaults filled in), or %NULL with @error set
 */
char *
agl_presence_tracker_get_rules (AglPresenceTracker *self,
                                const char         *name,
                                GError            **error)
{
  g_autoptr(AglRules) rules = NULL;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_account (self, name, error) || (rules = load_rules (self, name, error)) == NULL)
    return NULL;
  return agl_rules_to_json (rules);
}

/**
 * agl_presence_tracker_set_rules:
 * @self: a tracker
 * @name: an account
 * @json: the rules as JSON; keys left out take their defaults
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the
 *   offending key, %AGL_ERROR_NOT_FOUND or a store error
 *
 * Checks and stores an account's rules and applies them at once.  Rules
 * that do not parse change nothing.
 *
 * Returns: whether the rules were stored
 */
gboolean
agl_presence_tracker_set_rules (AglPresenceTracker *self,
                                const char         *name,
                                const char         *json,
                                GError            **error)
{
  g_autoptr(AglRules) rules = NULL;
  g_autofree char *normalized = NULL;
  Account *account;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), FALSE);
  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_account (self, name, error) || (rules = agl_rules_from_json (json, error)) == NULL)
    return FALSE;
  /* Stored as the rules engine writes them: every key, so that what
   * GetRules gives back is what applies. */
  normalized = agl_rules_to_json (rules);
  if (!agl_store_set_account_rules (self->store, name, normalized, error))
    return FALSE;

  account = g_hash_table_lookup (self->accounts, name);
  if (account != NULL)
    {
      agl_rules_free (account->rules);
      account->rules = g_steal_pointer (&rules);
      account_update (account);
    }
  return TRUE;
}

/**
 * agl_presence_tracker_set_override:
 * @self: a tracker
 * @name: an enabled account
 * @presence: the presence to show
 * @action: the phone action, or %AGL_PHONE_ACTION_KEEP for the calendar's
 * @text: (nullable): the status text
 * @until: (out): when the override ends (the next start or end of an
 *   appointment), 0 when it holds until cleared
 * @error: return location for an error
 *
 * Sets a manual status that holds until the next appointment starts or
 * ends.
 *
 * Returns: whether the override was set
 */
gboolean
agl_presence_tracker_set_override (AglPresenceTracker *self,
                                   const char         *name,
                                   AglPresence         presence,
                                   AglPhoneAction      action,
                                   const char         *text,
                                   gint64             *until,
                                   GError            **error)
{
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GArray) array = NULL;
  Account *account;
  gint64 now;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), FALSE);
  g_return_val_if_fail (until != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_account (self, name, error))
    return FALSE;
  account = g_hash_table_lookup (self->accounts, name);
  if (account == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The account “%s” is disabled; enable it to set its status."), name);
      return FALSE;
    }

  now = now_seconds ();
  if (!read_occurrences (self, name, now - WINDOW_BEFORE, now + WINDOW_AFTER, &list, &array, error))
    return FALSE;

  account_clear_override (account);
  account->has_override = TRUE;
  account->override_text = g_strdup (text != NULL && *text != '\0' ? text : NULL);
  account->override.presence = presence;
  account->override.action = action;
  account->override.text = account->override_text;
  account->override.set_at = now;
  account->override.expires =
    agl_rules_override_expiry ((const AglRulesOccurrence *) array->data, array->len, now);
  *until = account->override.expires;
  account_update (account);
  return TRUE;
}

/**
 * agl_presence_tracker_clear_override:
 * @self: a tracker
 * @name: an account
 * @error: return location for %AGL_ERROR_NOT_FOUND or a store error
 *
 * Ends the account's override, if it has one: the calendar rules apply
 * again at once.
 *
 * Returns: whether @name is an account
 */
gboolean
agl_presence_tracker_clear_override (AglPresenceTracker *self,
                                     const char         *name,
                                     GError            **error)
{
  Account *account;

  g_return_val_if_fail (AGL_IS_PRESENCE_TRACKER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_account (self, name, error))
    return FALSE;
  account = g_hash_table_lookup (self->accounts, name);
  if (account != NULL && account->has_override)
    {
      account_clear_override (account);
      account_update (account);
    }
  return TRUE;
}
