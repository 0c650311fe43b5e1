/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The anchors' test appointment, made automatic (`agendalinectl verify`):
 *   1. a clearly named, free appointment tomorrow is created in the
 *      account's local agenda; the leg ends when Exchange has accepted it
 *      (the appointment is linked to its Exchange item);
 *   2. its subject is changed on Exchange, directly through the engine's
 *      backend; the leg ends when the change is in the local agenda (it
 *      came back through notifications and a sync);
 *   3. it is deleted locally; the leg ends when Exchange confirmed the
 *      deletion (the journal entry is cleared).
 * Only the local store is looked at while waiting, every 10 ms; nothing
 * polls the server.
 */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libical/ical.h>

#include "agl-error.h"
#include "agl-event.h"
#include "agl-sync-verify.h"

#define CHECK_INTERVAL_MS 10

#define CHANGED_SUMMARY N_("Agendaline sync check (changed in Exchange)")

typedef struct {
  AglStore              *store;
  AglSyncEngine         *engine;
  AglSyncVerifyProgress  progress;
  gpointer               progress_data;
  AglSyncVerifyResult   *result;
  AglSyncVerifyLeg       leg;
  gint64                 leg_started;
  gint64                 item_id;
  char                  *changed_summary;
  guint                  check_source;
  guint                  timeout_source;
  guint                  timeout_seconds;
  gboolean               sending;
} Verify;

static void
verify_free (Verify *verify)
{
  g_clear_handle_id (&verify->check_source, g_source_remove);
  g_clear_handle_id (&verify->timeout_source, g_source_remove);
  g_clear_object (&verify->store);
  g_clear_object (&verify->engine);
  g_clear_pointer (&verify->result, agl_sync_verify_result_free);
  g_free (verify->changed_summary);
  g_free (verify);
}

/**
 * agl_sync_verify_result_free:
 * @result: (nullable): a result
 */
void
agl_sync_verify_result_free (AglSyncVerifyResult *result)
{
  if (result == NULL)
    return;
  g_free (result->uid);
  g_free (result);
}

/**
 * agl_sync_verify_leg_name:
 * @leg: a leg
 *
 * Returns: its name on the bus: "local-to-exchange", "exchange-to-local"
 *   or "delete"
 */
const char *
agl_sync_verify_leg_name (AglSyncVerifyLeg leg)
{
  static const char * const names[] = { "local-to-exchange", "exchange-to-local", "delete" };

  g_return_val_if_fail ((guint) leg < G_N_ELEMENTS (names), NULL);
  return names[leg];
}

static char *
test_appointment (const char *uid)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) tomorrow = g_date_time_add_days (now, 1);
  g_autoptr(GDateTime) start = g_date_time_new_utc (g_date_time_get_year (tomorrow),
                                                    g_date_time_get_month (tomorrow),
                                                    g_date_time_get_day_of_month (tomorrow),
                                                    12, 0, 0);
  g_autoptr(GDateTime) end = g_date_time_add_minutes (start, 15);
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *dtstart = g_date_time_format (start, "%Y%m%dT%H%M%SZ");
  g_autofree char *dtend = g_date_time_format (end, "%Y%m%dT%H%M%SZ");

  /* Free time, so that it never changes anyone's presence. */
  return g_strdup_printf ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                          "PRODID:-//Agendaline//sync check//EN\r\n"
                          "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\n"
                          "DTSTART:%s\r\nDTEND:%s\r\n"
                          "SUMMARY:%s\r\nDESCRIPTION:%s\r\n"
                          "TRANSP:TRANSPARENT\r\nX-MICROSOFT-CDO-BUSYSTATUS:FREE\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n",
                          uid, stamp, dtstart, dtend, _("Agendaline sync check"),
                          _("Made by “agendalinectl verify” to test the sync; it deletes "
                            "itself."));
}

static char *
with_summary (const char *ical,
              const char *summary)
{
  icalcomponent *root = icalparser_parse_string (ical);
  icalcomponent *vevent;
  char *text;

  if (root == NULL)
    return NULL;
  vevent = icalcomponent_get_first_component (root, ICAL_VEVENT_COMPONENT);
  if (vevent != NULL)
    icalcomponent_set_summary (vevent, summary);
  text = icalcomponent_as_ical_string_r (root);
  icalcomponent_free (root);
  return text;
}

static void
return_error (GTask  *task,
              GError *error)
{
  Verify *verify = g_task_get_task_data (task);

  g_clear_handle_id (&verify->check_source, g_source_remove);
  g_clear_handle_id (&verify->timeout_source, g_source_remove);
  /* Leave nothing behind: deleting it here deletes it on Exchange. */
  if (verify->item_id != 0)
    agl_store_delete_item (verify->store, verify->item_id, NULL);
  agl_sync_engine_wake (verify->engine);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
leg_done (GTask *task)
{
  Verify *verify = g_task_get_task_data (task);
  double seconds = (g_get_monotonic_time () - verify->leg_started) / 1e6;

  verify->result->seconds[verify->leg] = seconds;
  if (verify->progress != NULL)
    verify->progress (verify->leg, seconds, verify->progress_data);
  verify->leg++;
  verify->leg_started = g_get_monotonic_time ();
}

static void changed_on_exchange_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
change_on_exchange (GTask *task)
{
  Verify *verify = g_task_get_task_data (task);
  AglRemote *remote = agl_sync_engine_get_remote (verify->engine);
  g_autoptr(AglItem) item = NULL;
  g_autofree char *remote_id = NULL;
  g_autofree char *change_key = NULL;
  g_autofree char *changed = NULL;
  GError *error = NULL;

  item = agl_store_get_item (verify->store, verify->item_id, &error);
  if (item == NULL ||
      !agl_store_get_item_link (verify->store, verify->item_id, &remote_id, &change_key, &error))
    {
      return_error (task, error);
      return;
    }
  if (remote == NULL)
    {
      return_error (task, g_error_new (AGL_ERROR, AGL_ERROR_REMOTE,
                                       _("The account is not connected to Exchange.")));
      return;
    }
  changed = with_summary (item->ical, verify->changed_summary);
  verify->sending = TRUE;
  agl_remote_update_item_async (remote, remote_id, change_key, item->ical, changed,
                                AGL_REMOTE_CONFLICT_ALWAYS_OVERWRITE, AGL_REMOTE_SEND_NONE,
                                g_task_get_cancellable (task), changed_on_exchange_cb, task);
}

static void
changed_on_exchange_cb (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GTask *task = user_data;
  Verify *verify = g_task_get_task_data (task);
  g_autoptr(AglRemoteItem) written = NULL;
  GError *error = NULL;

  verify->sending = FALSE;
  written = agl_remote_update_item_finish (AGL_REMOTE (source), result, &error);
  if (written == NULL)
    {
      g_prefix_error (&error, _("The test appointment could not be changed in Exchange: "));
      return_error (task, error);
    }
}

static gboolean
has_pending_edit (Verify *verify)
{
  g_autoptr(GPtrArray) journal = NULL;

  journal = agl_store_list_journal (verify->store,
                                    agl_sync_engine_get_account (verify->engine)->name, NULL);
  for (guint i = 0; journal != NULL && i < journal->len; i++)
    if (((AglJournalEntry *) g_ptr_array_index (journal, i))->item_id == verify->item_id)
      return TRUE;
  return journal == NULL;
}

static gboolean
check_cb (gpointer user_data)
{
  GTask *task = user_data;
  Verify *verify = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (verify->sending)
    return G_SOURCE_CONTINUE;

  switch (verify->leg)
    {
    case AGL_SYNC_VERIFY_LOCAL_TO_EXCHANGE:
      {
        g_autofree char *remote_id = NULL;
        g_autofree char *change_key = NULL;

        if (!agl_store_get_item_link (verify->store, verify->item_id, &remote_id, &change_key,
                                      &error) || remote_id == NULL || has_pending_edit (verify))
          return G_SOURCE_CONTINUE;
        leg_done (task);
        change_on_exchange (task);
        return G_SOURCE_CONTINUE;
      }
    case AGL_SYNC_VERIFY_EXCHANGE_TO_LOCAL:
      {
        g_autoptr(AglItem) item = agl_store_get_item (verify->store, verify->item_id, NULL);

        if (item == NULL || g_strcmp0 (item->summary, verify->changed_summary) != 0)
          return G_SOURCE_CONTINUE;
        leg_done (task);
        if (!agl_store_delete_item (verify->store, verify->item_id, &error))
          {
            verify->check_source = 0;
            return_error (task, g_steal_pointer (&error));
            return G_SOURCE_REMOVE;
          }
        agl_sync_engine_wake (verify->engine);
        return G_SOURCE_CONTINUE;
      }
    case AGL_SYNC_VERIFY_DELETE:
      if (has_pending_edit (verify))
        return G_SOURCE_CONTINUE;
      leg_done (task);
      verify->item_id = 0;
      verify->check_source = 0;
      g_clear_handle_id (&verify->timeout_source, g_source_remove);
      g_task_return_pointer (task, g_steal_pointer (&verify->result),
                             (GDestroyNotify) agl_sync_verify_result_free);
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    case AGL_SYNC_VERIFY_N_LEGS:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Verify *verify = g_task_get_task_data (task);
  static const char * const legs[] = {
    N_("The test appointment did not reach Exchange"),
    N_("The change made in Exchange did not reach the local agenda"),
    N_("Exchange did not confirm the deletion"),
  };

  verify->timeout_source = 0;
  return_error (task, g_error_new (AGL_ERROR, AGL_ERROR_TIMED_OUT,
                                   _("%s within %u seconds. See “agendalinectl connections” "
                                     "and “agendalinectl log”."),
                                   _(legs[MIN (verify->leg, G_N_ELEMENTS (legs) - 1)]),
                                   verify->timeout_seconds));
  return G_SOURCE_REMOVE;
}

/**
 * agl_sync_verify_async:
 * @store: the store
 * @engine: the account's running engine
 * @timeout_seconds: give up after this long
 * @progress: (nullable): called after each leg
 * @progress_data: for @progress
 * @cancellable: (nullable): cancels
 * @callback: called when done
 * @user_data: for @callback
 *
 * Runs the three legs of the test appointment (see the top of this file).
 * On failure or timeout the appointment is deleted wherever it got to.
 */
void
agl_sync_verify_async (AglStore              *store,
                       AglSyncEngine         *engine,
                       guint                  timeout_seconds,
                       AglSyncVerifyProgress  progress,
                       gpointer               progress_data,
                       GCancellable          *cancellable,
                       GAsyncReadyCallback    callback,
                       gpointer               user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Verify *verify = g_new0 (Verify, 1);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *ical = NULL;
  g_autoptr(AglEvent) event = NULL;
  g_autoptr(AglItem) item = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, agl_sync_verify_async);
  g_task_set_task_data (task, verify, (GDestroyNotify) verify_free);
  verify->store = g_object_ref (store);
  verify->engine = g_object_ref (engine);
  verify->progress = progress;
  verify->progress_data = progress_data;
  verify->result = g_new0 (AglSyncVerifyResult, 1);
  verify->result->uid = g_strdup_printf ("agendaline-verify-%s", uuid);
  verify->changed_summary = g_strdup (_(CHANGED_SUMMARY));
  verify->leg = AGL_SYNC_VERIFY_LOCAL_TO_EXCHANGE;
  verify->leg_started = g_get_monotonic_time ();
  verify->timeout_seconds = timeout_seconds;

  ical = test_appointment (verify->result->uid);
  event = agl_event_new_from_string (ical, &error);
  if (event != NULL)
    item = agl_event_to_item (event, agl_sync_engine_get_account (engine)->name);
  if (item == NULL || !agl_store_add_item (store, item, &error))
    {
      return_error (task, error);
      return;
    }
  verify->item_id = item->id;
  agl_sync_engine_wake (engine);
  verify->check_source = g_timeout_add (CHECK_INTERVAL_MS, check_cb, task);
  verify->timeout_source = g_timeout_add_seconds (timeout_seconds, timeout_cb, task);
}

/**
 * agl_sync_verify_finish:
 * @result: the result
 * @error: return location for %AGL_ERROR_TIMED_OUT, a store or a remote
 *   error
 *
 * Returns: (transfer full): the legs' times
 */
AglSyncVerifyResult *
agl_sync_verify_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
