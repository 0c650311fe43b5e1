/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-rules.h"

/*
 * The presence and call-diversion rules of the product issue, sentence by
 * sentence:
 *
 *  1. the governing appointment's free/busy type gives the phone action
 *     (rules->actions), forward_internal is the rules' switch;
 *  2. presence follows the free/busy type; a dnd action makes it dnd;
 *  3. the leftmost trigger word in the subject gives the diversion reason,
 *     else the default reason;
 *  4. keywords in parentheses at the end of the subject change the action
 *     of that appointment and are cut from the text;
 *  5. a meeting counts only when organised or accepted by the user;
 *  6. automatic replies that are on win over the calendar;
 *  7. the strongest free/busy type among the active appointments governs;
 *  8. the caller passes occurrences one by one (all-day ones as local
 *     midnights), so series need nothing here;
 *  9. an override wins over everything until its expiry;
 * 10. until is when the visible status next changes.
 *
 * The decisions the issue leaves open are documented where they are made.
 * Everything is a function of the arguments: the time is passed in.
 */

static const char *const free_busy_names[AGL_FREE_BUSY_N] = {
  "Free", "Tentative", "Busy", "OOF", "WorkingElsewhere",
};

static const char *const action_names[] = {
  "none", "dnd", "forward", "divert", "keep",
};

static const char *const presence_names[] = {
  "available", "busy", "dnd", "away", "out-of-office",
};

static const char *const because_names[] = {
  "appointment", "keyword", "trigger-word", "oof", "override", "rule",
};

typedef enum {
  KEYWORD_DND_ON,
  KEYWORD_DND_OFF,
  KEYWORD_FORWARD_ON,
  KEYWORD_FORWARD_OFF,
  KEYWORD_NO_ACTION,
} KeywordEffect;

/* Case-sensitive, as the products Agendaline replaces read them. */
static const struct {
  const char    *text;
  KeywordEffect  effect;
} keywords[] = {
  { "(DND)", KEYWORD_DND_ON },
  { "(Ruhe)", KEYWORD_DND_ON },
  { "(No DND)", KEYWORD_DND_OFF },
  { "(Keine Ruhe)", KEYWORD_DND_OFF },
  { "(Call forwarding)", KEYWORD_FORWARD_ON },
  { "(Anrufe weiterleiten)", KEYWORD_FORWARD_ON },
  { "(No call forwarding)", KEYWORD_FORWARD_OFF },
  { "(Keine Anrufe weiterleiten)", KEYWORD_FORWARD_OFF },
  { "(No action)", KEYWORD_NO_ACTION },
  { "(Keine Aktion)", KEYWORD_NO_ACTION },
};

#define MAX_KEYWORDS 8

/* An appointment active at the instant evaluated, as the rules read it. */
typedef struct {
  const AglRulesOccurrence *occurrence;
  guint                     index;
  char                     *text;          /* subject without keywords */
  guint                     keywords[MAX_KEYWORDS]; /* into keywords[], subject order */
  guint                     n_keywords;
} Active;

static void
active_clear (Active *active)
{
  g_clear_pointer (&active->text, g_free);
}

/* Names */

const char *
agl_free_busy_to_string (AglFreeBusy free_busy)
{
  g_return_val_if_fail ((guint) free_busy < AGL_FREE_BUSY_N, NULL);
  return free_busy_names[free_busy];
}

gboolean
agl_free_busy_from_string (const char  *text,
                           AglFreeBusy *free_busy)
{
  for (guint i = 0; i < AGL_FREE_BUSY_N; i++)
    if (g_strcmp0 (text, free_busy_names[i]) == 0)
      {
        *free_busy = (AglFreeBusy) i;
        return TRUE;
      }
  return FALSE;
}

const char *
agl_phone_action_to_string (AglPhoneAction action)
{
  g_return_val_if_fail ((guint) action < G_N_ELEMENTS (action_names), NULL);
  return action_names[action];
}

gboolean
agl_phone_action_from_string (const char     *text,
                              AglPhoneAction *action)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_names); i++)
    if (g_strcmp0 (text, action_names[i]) == 0)
      {
        *action = (AglPhoneAction) i;
        return TRUE;
      }
  return FALSE;
}

const char *
agl_presence_to_string (AglPresence presence)
{
  g_return_val_if_fail ((guint) presence < G_N_ELEMENTS (presence_names), NULL);
  return presence_names[presence];
}

gboolean
agl_presence_from_string (const char  *text,
                          AglPresence *presence)
{
  for (guint i = 0; i < G_N_ELEMENTS (presence_names); i++)
    if (g_strcmp0 (text, presence_names[i]) == 0)
      {
        *presence = (AglPresence) i;
        return TRUE;
      }
  return FALSE;
}

const char *
agl_because_kind_to_string (AglBecauseKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (because_names), NULL);
  return because_names[kind];
}

/**
 * agl_free_busy_strength:
 * @free_busy: a free/busy type
 *
 * Returns: the strength of @free_busy among parallel appointments:
 *   OOF > Busy > Tentative > WorkingElsewhere > Free
 */
guint
agl_free_busy_strength (AglFreeBusy free_busy)
{
  switch (free_busy)
    {
    case AGL_FREE_BUSY_FREE:
      return 0;
    case AGL_FREE_BUSY_WORKING_ELSEWHERE:
      return 1;
    case AGL_FREE_BUSY_TENTATIVE:
      return 2;
    case AGL_FREE_BUSY_BUSY:
      return 3;
    case AGL_FREE_BUSY_OOF:
      return 4;
    default:
      return 0;
    }
}

static AglPresence
presence_for (AglFreeBusy free_busy)
{
  switch (free_busy)
    {
    case AGL_FREE_BUSY_BUSY:
      return AGL_PRESENCE_BUSY;
    case AGL_FREE_BUSY_OOF:
      return AGL_PRESENCE_OUT_OF_OFFICE;
    case AGL_FREE_BUSY_FREE:
    case AGL_FREE_BUSY_TENTATIVE:
    case AGL_FREE_BUSY_WORKING_ELSEWHERE:
    default:
      return AGL_PRESENCE_AVAILABLE;
    }
}

/* Rules */

static void
trigger_word_free (AglTriggerWord *trigger_word)
{
  g_free (trigger_word->word);
  g_free (trigger_word->reason);
  g_free (trigger_word);
}

/**
 * agl_rules_new_default:
 *
 * Returns: (transfer full): the default rules, as documented at #AglRules
 */
AglRules *
agl_rules_new_default (void)
{
  AglRules *rules = g_new0 (AglRules, 1);

  rules->actions[AGL_FREE_BUSY_FREE] = AGL_PHONE_ACTION_NONE;
  rules->actions[AGL_FREE_BUSY_TENTATIVE] = AGL_PHONE_ACTION_NONE;
  rules->actions[AGL_FREE_BUSY_WORKING_ELSEWHERE] = AGL_PHONE_ACTION_NONE;
  rules->actions[AGL_FREE_BUSY_BUSY] = AGL_PHONE_ACTION_DIVERT;
  rules->actions[AGL_FREE_BUSY_OOF] = AGL_PHONE_ACTION_DIVERT;
  rules->forward_internal = TRUE;
  rules->trigger_words = g_ptr_array_new_with_free_func ((GDestroyNotify) trigger_word_free);
  rules->default_reason = g_strdup (AGL_RULES_DEFAULT_REASON);
  rules->only_accepted_meetings = TRUE;
  rules->join_parallel_subjects = FALSE;
  rules->publishers = json_object_new ();
  return rules;
}

/**
 * agl_rules_copy:
 * @rules: rules
 *
 * Returns: (transfer full): a deep copy of @rules
 */
AglRules *
agl_rules_copy (const AglRules *rules)
{
  AglRules *copy = g_new0 (AglRules, 1);
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) node_copy = NULL;
  g_autofree char *text = NULL;

  memcpy (copy->actions, rules->actions, sizeof copy->actions);
  copy->forward_internal = rules->forward_internal;
  copy->trigger_words = g_ptr_array_new_with_free_func ((GDestroyNotify) trigger_word_free);
  for (guint i = 0; i < rules->trigger_words->len; i++)
    {
      const AglTriggerWord *trigger_word = g_ptr_array_index (rules->trigger_words, i);
      AglTriggerWord *word_copy = g_new0 (AglTriggerWord, 1);

      word_copy->word = g_strdup (trigger_word->word);
      word_copy->reason = g_strdup (trigger_word->reason);
      g_ptr_array_add (copy->trigger_words, word_copy);
    }
  copy->default_reason = g_strdup (rules->default_reason);
  copy->only_accepted_meetings = rules->only_accepted_meetings;
  copy->join_parallel_subjects = rules->join_parallel_subjects;

  /* json_node_copy() would share the object: go through text for a copy
   * of its own. */
  json_node_set_object (node, rules->publishers);
  text = json_to_string (node, FALSE);
  node_copy = json_from_string (text, NULL);
  g_assert (node_copy != NULL && JSON_NODE_HOLDS_OBJECT (node_copy));
  copy->publishers = json_object_ref (json_node_get_object (node_copy));
  return copy;
}

void
agl_rules_free (AglRules *rules)
{
  if (rules == NULL)
    return;
  g_clear_pointer (&rules->trigger_words, g_ptr_array_unref);
  g_clear_pointer (&rules->default_reason, g_free);
  g_clear_pointer (&rules->publishers, json_object_unref);
  g_free (rules);
}

static gboolean
is_word_character (gunichar c)
{
  return g_unichar_isalnum (c);
}

static gboolean
has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* @path names the setting in messages: "trigger_words[2].word". */
static gboolean
check_text (const char *path,
            const char *text,
            GError    **error)
{
  if (text == NULL || *text == '\0')
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must not be empty."), path);
      return FALSE;
    }
  if (!g_utf8_validate (text, -1, NULL) || has_control_characters (text))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must be text on one line."), path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_trigger_word (AglRules   *rules,
                  const char *word_path,
                  const char *reason_path,
                  const char *word,
                  const char *reason,
                  GError    **error)
{
  g_autofree char *folded = NULL;
  AglTriggerWord *trigger_word;

  if (!check_text (word_path, word, error) || !check_text (reason_path, reason, error))
    return FALSE;

  /* A word that begins or ends with a space or a sign could never be
   * found whole. */
  if (!is_word_character (g_utf8_get_char (word)) ||
      !is_word_character (g_utf8_get_char (g_utf8_prev_char (word + strlen (word)))))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s”: “%s” must begin and end with a letter or digit."), word_path, word);
      return FALSE;
    }

  folded = g_utf8_casefold (word, -1);
  for (guint i = 0; i < rules->trigger_words->len; i++)
    {
      const AglTriggerWord *other = g_ptr_array_index (rules->trigger_words, i);
      g_autofree char *other_folded = g_utf8_casefold (other->word, -1);

      if (g_strcmp0 (folded, other_folded) == 0)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s”: “%s” is listed twice."), word_path, word);
          return FALSE;
        }
    }

  trigger_word = g_new0 (AglTriggerWord, 1);
  trigger_word->word = g_strdup (word);
  trigger_word->reason = g_strdup (reason);
  g_ptr_array_add (rules->trigger_words, trigger_word);
  return TRUE;
}

/**
 * agl_rules_add_trigger_word:
 * @rules: rules
 * @word: the word, beginning and ending with a letter or digit
 * @reason: the reason code it gives
 * @error: return location for an %AGL_ERROR_INVALID_ARGUMENT error
 *
 * Appends a trigger word, as one more entry of "trigger_words".
 *
 * Returns: %TRUE if it was added
 */
gboolean
agl_rules_add_trigger_word (AglRules   *rules,
                            const char *word,
                            const char *reason,
                            GError    **error)
{
  g_autofree char *word_path = g_strdup_printf ("trigger_words[%u].word",
                                                rules->trigger_words->len);
  g_autofree char *reason_path = g_strdup_printf ("trigger_words[%u].reason",
                                                  rules->trigger_words->len);

  return add_trigger_word (rules, word_path, reason_path, word, reason, error);
}

static gboolean
get_string (JsonNode    *node,
            const char  *path,
            const char **out,
            GError     **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must be a string."), path);
      return FALSE;
    }
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_boolean (JsonNode   *node,
             const char *path,
             gboolean   *out,
             GError    **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must be true or false."), path);
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

static JsonObject *
get_object (JsonNode   *node,
            const char *path,
            GError    **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must be an object."), path);
      return NULL;
    }
  return json_node_get_object (node);
}

static gboolean
read_actions (AglRules *rules,
              JsonNode *node,
              GError  **error)
{
  JsonObject *object = get_object (node, "actions", error);
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  if (object == NULL)
    return FALSE;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &member, &value))
    {
      g_autofree char *path = g_strdup_printf ("actions.%s", member);
      AglFreeBusy free_busy;
      AglPhoneAction action;
      const char *text;

      if (!agl_free_busy_from_string (member, &free_busy))
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a free/busy type; use Free, Tentative, Busy, OOF or WorkingElsewhere."),
                       path);
          return FALSE;
        }
      if (!get_string (value, path, &text, error))
        return FALSE;
      if (!agl_phone_action_from_string (text, &action) || action == AGL_PHONE_ACTION_KEEP)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s”: “%s” is not an action; use none, dnd, forward or divert."),
                       path, text);
          return FALSE;
        }
      rules->actions[free_busy] = action;
    }
  return TRUE;
}

static gboolean
read_trigger_words (AglRules *rules,
                    JsonNode *node,
                    GError  **error)
{
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("“%s” must be a list."), "trigger_words");
      return FALSE;
    }
  array = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree char *path = g_strdup_printf ("trigger_words[%u]", i);
      g_autofree char *word_path = g_strdup_printf ("%s.word", path);
      g_autofree char *reason_path = g_strdup_printf ("%s.reason", path);
      JsonObject *entry = get_object (json_array_get_element (array, i), path, error);
      const char *word = NULL;
      const char *reason = NULL;
      JsonObjectIter iter;
      const char *member;
      JsonNode *value;

      if (entry == NULL)
        return FALSE;

      json_object_iter_init (&iter, entry);
      while (json_object_iter_next (&iter, &member, &value))
        {
          if (g_strcmp0 (member, "word") == 0)
            {
              if (!get_string (value, word_path, &word, error))
                return FALSE;
            }
          else if (g_strcmp0 (member, "reason") == 0)
            {
              if (!get_string (value, reason_path, &reason, error))
                return FALSE;
            }
          else
            {
              g_autofree char *member_path = g_strdup_printf ("%s.%s", path, member);

              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("“%s” is not a trigger word setting; use word and reason."),
                           member_path);
              return FALSE;
            }
        }

      if (word == NULL || reason == NULL)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s” is missing."), word == NULL ? word_path : reason_path);
          return FALSE;
        }
      if (!add_trigger_word (rules, word_path, reason_path, word, reason, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * agl_rules_from_json:
 * @json: the rules as a JSON object
 * @error: return location for an %AGL_ERROR_INVALID_ARGUMENT error
 *
 * Reads rules as "agendalinectl rules set" takes them.  A setting left
 * out keeps its default; an unknown one, a value of the wrong type or an
 * unknown action is refused with a message naming the setting
 * ("actions.Busy", "trigger_words[1].word").  "publishers" is kept as
 * given, checked only to be an object.
 *
 * Returns: (transfer full): the rules, or %NULL
 */
AglRules *
agl_rules_from_json (const char *json,
                     GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(AglRules) rules = agl_rules_new_default ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The rules are not JSON: %s"), local_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The rules must be a JSON object, such as {\"actions\": {\"Busy\": \"divert\"}}."));
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  json_object_iter_init (&iter, root);
  while (json_object_iter_next (&iter, &member, &value))
    {
      gboolean ok;

      if (g_strcmp0 (member, "actions") == 0)
        ok = read_actions (rules, value, error);
      else if (g_strcmp0 (member, "forward_internal") == 0)
        ok = get_boolean (value, member, &rules->forward_internal, error);
      else if (g_strcmp0 (member, "trigger_words") == 0)
        ok = read_trigger_words (rules, value, error);
      else if (g_strcmp0 (member, "default_reason") == 0)
        {
          const char *reason = NULL;

          ok = get_string (value, member, &reason, error) && check_text (member, reason, error);
          if (ok)
            {
              g_free (rules->default_reason);
              rules->default_reason = g_strdup (reason);
            }
        }
      else if (g_strcmp0 (member, "only_accepted_meetings") == 0)
        ok = get_boolean (value, member, &rules->only_accepted_meetings, error);
      else if (g_strcmp0 (member, "join_parallel_subjects") == 0)
        ok = get_boolean (value, member, &rules->join_parallel_subjects, error);
      else if (g_strcmp0 (member, "publishers") == 0)
        {
          JsonObject *publishers = get_object (value, member, error);

          ok = publishers != NULL;
          if (ok)
            {
              g_autoptr(JsonNode) copy = json_node_copy (value);

              g_clear_pointer (&rules->publishers, json_object_unref);
              rules->publishers = json_object_ref (json_node_get_object (copy));
            }
        }
      else
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a rules setting; use actions, forward_internal, trigger_words, default_reason, only_accepted_meetings, join_parallel_subjects or publishers."),
                       member);
          ok = FALSE;
        }
      if (!ok)
        return NULL;
    }

  return g_steal_pointer (&rules);
}

/**
 * agl_rules_to_json:
 * @rules: rules
 *
 * Returns: (transfer full): @rules as a JSON object with every setting,
 *   which agl_rules_from_json() reads back to the same rules
 */
char *
agl_rules_to_json (const AglRules *rules)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  JsonNode *publishers;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "actions");
  json_builder_begin_object (builder);
  for (guint i = 0; i < AGL_FREE_BUSY_N; i++)
    {
      json_builder_set_member_name (builder, free_busy_names[i]);
      json_builder_add_string_value (builder, agl_phone_action_to_string (rules->actions[i]));
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "forward_internal");
  json_builder_add_boolean_value (builder, rules->forward_internal);
  json_builder_set_member_name (builder, "trigger_words");
  json_builder_begin_array (builder);
  for (guint i = 0; i < rules->trigger_words->len; i++)
    {
      const AglTriggerWord *trigger_word = g_ptr_array_index (rules->trigger_words, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "word");
      json_builder_add_string_value (builder, trigger_word->word);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, trigger_word->reason);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "default_reason");
  json_builder_add_string_value (builder, rules->default_reason);
  json_builder_set_member_name (builder, "only_accepted_meetings");
  json_builder_add_boolean_value (builder, rules->only_accepted_meetings);
  json_builder_set_member_name (builder, "join_parallel_subjects");
  json_builder_add_boolean_value (builder, rules->join_parallel_subjects);
  json_builder_set_member_name (builder, "publishers");
  publishers = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (publishers, rules->publishers);
  json_builder_add_value (builder, publishers);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* Subjects */

/* Cuts the keywords off the end of @subject, the last one first; @active
 * gets them in the order they were written, so that the last one written
 * has the last word. */
static void
read_keywords (const char *subject,
               Active     *active)
{
  g_autofree char *text = g_strdup (subject != NULL ? subject : "");
  guint found[MAX_KEYWORDS];
  guint n_found = 0;

  g_strchomp (text);
  while (n_found < MAX_KEYWORDS)
    {
      gsize length = strlen (text);
      gboolean matched = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (keywords); i++)
        {
          gsize keyword_length = strlen (keywords[i].text);

          if (length >= keyword_length &&
              strcmp (text + length - keyword_length, keywords[i].text) == 0)
            {
              text[length - keyword_length] = '\0';
              g_strchomp (text);
              found[n_found++] = i;
              matched = TRUE;
              break;
            }
        }
      if (!matched)
        break;
    }

  active->n_keywords = n_found;
  for (guint i = 0; i < n_found; i++)
    active->keywords[i] = found[n_found - 1 - i];
  active->text = g_steal_pointer (&text);
}

static gboolean
has_keyword (const Active  *active,
             KeywordEffect  effect)
{
  for (guint i = 0; i < active->n_keywords; i++)
    if (keywords[active->keywords[i]].effect == effect)
      return TRUE;
  return FALSE;
}

/* The trigger word whose whole-word match begins leftmost in @text, in
 * any case; on the same spot, the one listed first. */
static const AglTriggerWord *
find_trigger_word (const AglRules *rules,
                   const char     *text)
{
  g_autofree char *folded_text = NULL;
  const AglTriggerWord *best = NULL;
  const char *best_at = NULL;

  if (text == NULL || *text == '\0' || rules->trigger_words->len == 0)
    return NULL;

  folded_text = g_utf8_casefold (text, -1);
  for (guint i = 0; i < rules->trigger_words->len; i++)
    {
      const AglTriggerWord *trigger_word = g_ptr_array_index (rules->trigger_words, i);
      g_autofree char *folded_word = g_utf8_casefold (trigger_word->word, -1);
      gsize word_length = strlen (folded_word);

      for (const char *hit = strstr (folded_text, folded_word);
           hit != NULL && (best_at == NULL || hit < best_at);
           hit = strstr (g_utf8_next_char (hit), folded_word))
        {
          const char *after = hit + word_length;
          gboolean whole_before = hit == folded_text ||
            !is_word_character (g_utf8_get_char (g_utf8_prev_char (hit)));
          gboolean whole_after = *after == '\0' || !is_word_character (g_utf8_get_char (after));

          if (whole_before && whole_after)
            {
              best = trigger_word;
              best_at = hit;
              break;
            }
        }
    }
  return best;
}

/* Status */

static void
because_free (AglStatusBecause *because)
{
  g_free (because->uid);
  g_free (because->subject);
  g_free (because->detail);
  g_free (because);
}

static AglStatus *
status_new (gint64 at)
{
  AglStatus *status = g_new0 (AglStatus, 1);

  status->at = at;
  status->because = g_ptr_array_new_with_free_func ((GDestroyNotify) because_free);
  return status;
}

void
agl_status_free (AglStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->reason);
  g_free (status->text);
  g_clear_pointer (&status->because, g_ptr_array_unref);
  g_free (status);
}

/* Takes @detail. */
static void
add_because (AglStatus                *status,
             AglBecauseKind            kind,
             const AglRulesOccurrence *occurrence,
             char                     *detail)
{
  AglStatusBecause *because = g_new0 (AglStatusBecause, 1);

  because->kind = kind;
  because->free_busy = -1;
  because->detail = detail;
  if (occurrence != NULL)
    {
      because->uid = g_strdup (occurrence->uid);
      /* The explanation is published with the status: a private
       * appointment's subject stays private there too. */
      because->subject = occurrence->is_private
        ? g_strdup (_("Private appointment"))
        : g_strdup (occurrence->subject);
      because->free_busy = (int) occurrence->free_busy;
    }
  g_ptr_array_add (status->because, because);
}

static void
add_because_action (AglStatus  *status,
                    AglFreeBusy free_busy,
                    AglPhoneAction action)
{
  add_because (status, AGL_BECAUSE_RULE, NULL,
               /* TRANSLATORS: "The action for Busy appointments is divert (actions.Busy)."
                * The free/busy type and the action are names from the rules file;
                * keep them as they are. */
               g_strdup_printf (_("The action for %s appointments is %s (actions.%s)."),
                                free_busy_names[free_busy], action_names[action],
                                free_busy_names[free_busy]));
}

/* The reason of a diversion: the first trigger word in @text, else the
 * default.  Only a diversion has one: it is what callers are told, and
 * none, dnd and forward tell callers nothing. */
static void
set_reason (AglStatus      *status,
            const AglRules *rules,
            const char     *text,
            const AglRulesOccurrence *occurrence)
{
  const AglTriggerWord *trigger_word;

  if (status->action != AGL_PHONE_ACTION_DIVERT)
    return;

  trigger_word = find_trigger_word (rules, text);
  if (trigger_word != NULL)
    {
      status->reason = g_strdup (trigger_word->reason);
      add_because (status, AGL_BECAUSE_TRIGGER_WORD, occurrence,
                   g_strdup_printf (_("The trigger word “%s” gives the reason “%s”."),
                                    trigger_word->word, trigger_word->reason));
    }
  else
    {
      status->reason = g_strdup (rules->default_reason);
      add_because (status, AGL_BECAUSE_RULE, NULL,
                   g_strdup_printf (_("No trigger word: the default reason “%s”."),
                                    rules->default_reason));
    }
}

static char *
nonempty (const char *text)
{
  return text != NULL && *text != '\0' ? g_strdup (text) : NULL;
}

static const char *
shown_text (const Active *active)
{
  return active->occurrence->is_private ? _("Private appointment") : active->text;
}

/* The governing one: the strongest free/busy type; among equals the one
 * that began last (the user went into it most recently: a call inside a
 * workshop), then the one that ends first, then the first given. */
static gboolean
governs_over (const Active *a,
              const Active *b)
{
  guint strength_a = agl_free_busy_strength (a->occurrence->free_busy);
  guint strength_b = agl_free_busy_strength (b->occurrence->free_busy);

  if (strength_a != strength_b)
    return strength_a > strength_b;
  if (a->occurrence->start != b->occurrence->start)
    return a->occurrence->start > b->occurrence->start;
  if (a->occurrence->end != b->occurrence->end)
    return a->occurrence->end < b->occurrence->end;
  return a->index < b->index;
}

static gint
compare_by_start (gconstpointer a,
                  gconstpointer b)
{
  const Active *active_a = a;
  const Active *active_b = b;

  if (active_a->occurrence->start != active_b->occurrence->start)
    return active_a->occurrence->start < active_b->occurrence->start ? -1 : 1;
  return active_a->index < active_b->index ? -1 : active_a->index > active_b->index;
}

static const char *
keyword_effect_description (KeywordEffect effect)
{
  switch (effect)
    {
    case KEYWORD_DND_ON:
      return _("do not disturb on");
    case KEYWORD_DND_OFF:
      return _("do not disturb off");
    case KEYWORD_FORWARD_ON:
      return _("call forwarding on");
    case KEYWORD_FORWARD_OFF:
      return _("call forwarding and diversion off");
    case KEYWORD_NO_ACTION:
    default:
      return _("this appointment changes nothing");
    }
}

static void
add_because_keywords (AglStatus    *status,
                      const Active *active)
{
  for (guint i = 0; i < active->n_keywords; i++)
    {
      guint keyword = active->keywords[i];

      add_because (status, AGL_BECAUSE_KEYWORD, active->occurrence,
                   /* TRANSLATORS: "(DND) at the end of the subject: do not disturb on." */
                   g_strdup_printf (_("%s at the end of the subject: %s."), keywords[keyword].text,
                                    keyword_effect_description (keywords[keyword].effect)));
    }
}

/* Rules 1-5 and 7: the status from the appointments active at @now. */
static AglStatus *
evaluate_calendar (const AglRules           *rules,
                   const AglRulesOccurrence *occurrences,
                   guint                     n_occurrences,
                   gint64                    now)
{
  g_autoptr(AglStatus) status = status_new (now);
  g_autoptr(GArray) counting = g_array_new (FALSE, TRUE, sizeof (Active));
  g_autoptr(AglStatus) ignored = status_new (now);
  const Active *governing = NULL;
  g_autofree char *joined = NULL;
  AglPhoneAction action;

  g_array_set_clear_func (counting, (GDestroyNotify) active_clear);

  for (guint i = 0; i < n_occurrences; i++)
    {
      const AglRulesOccurrence *occurrence = &occurrences[i];
      Active active = { occurrence, i, NULL, { 0 }, 0 };

      if (!(occurrence->start <= now && now < occurrence->end))
        continue;

      read_keywords (occurrence->subject, &active);
      if (has_keyword (&active, KEYWORD_NO_ACTION))
        {
          add_because_keywords (ignored, &active);
          active_clear (&active);
          continue;
        }

      /* Declining always means "not there", whatever the switch says: the
       * switch is about invitations the user has not answered yes to. */
      if (occurrence->is_meeting && occurrence->response == AGL_RESPONSE_DECLINED)
        {
          add_because (ignored, AGL_BECAUSE_RULE, occurrence,
                       g_strdup (_("A declined invitation changes nothing.")));
          active_clear (&active);
          continue;
        }
      if (occurrence->is_meeting && rules->only_accepted_meetings &&
          occurrence->response != AGL_RESPONSE_ORGANIZER &&
          occurrence->response != AGL_RESPONSE_ACCEPTED)
        {
          add_because (ignored, AGL_BECAUSE_RULE, occurrence,
                       g_strdup (_("An invitation you have not accepted changes nothing (only_accepted_meetings).")));
          active_clear (&active);
          continue;
        }

      g_array_append_val (counting, active);
    }

  if (counting->len == 0)
    {
      status->presence = AGL_PRESENCE_AVAILABLE;
      status->action = AGL_PHONE_ACTION_NONE;
      status->forward_internal = rules->forward_internal;
      add_because (status, AGL_BECAUSE_RULE, NULL, g_strdup (_("No appointment is active.")));
    }
  else
    {
      g_array_sort (counting, compare_by_start);
      for (guint i = 0; i < counting->len; i++)
        {
          const Active *active = &g_array_index (counting, Active, i);

          if (governing == NULL || governs_over (active, governing))
            governing = active;
        }

      action = rules->actions[governing->occurrence->free_busy];
      for (guint i = 0; i < governing->n_keywords; i++)
        switch (keywords[governing->keywords[i]].effect)
          {
          case KEYWORD_DND_ON:
            action = AGL_PHONE_ACTION_DND;
            break;
          case KEYWORD_DND_OFF:
            if (action == AGL_PHONE_ACTION_DND)
              action = AGL_PHONE_ACTION_NONE;
            break;
          case KEYWORD_FORWARD_ON:
            action = AGL_PHONE_ACTION_FORWARD;
            break;
          case KEYWORD_FORWARD_OFF:
            /* A diversion sends calls elsewhere as forwarding does: "no call
             * forwarding" means the phone rings. */
            if (action == AGL_PHONE_ACTION_FORWARD || action == AGL_PHONE_ACTION_DIVERT)
              action = AGL_PHONE_ACTION_NONE;
            break;
          case KEYWORD_NO_ACTION:
          default:
            break;
          }

      status->action = action;
      status->forward_internal = rules->forward_internal;
      status->presence = action == AGL_PHONE_ACTION_DND
        ? AGL_PRESENCE_DND
        : presence_for (governing->occurrence->free_busy);

      if (rules->join_parallel_subjects && counting->len > 1)
        {
          g_autoptr(GPtrArray) texts = g_ptr_array_new ();

          /* The governing subject first, then the others as they began. */
          if (*shown_text (governing) != '\0')
            g_ptr_array_add (texts, (gpointer) shown_text (governing));
          for (guint i = 0; i < counting->len; i++)
            {
              const Active *active = &g_array_index (counting, Active, i);
              const char *text = shown_text (active);
              gboolean seen = FALSE;

              for (guint j = 0; j < texts->len; j++)
                seen = seen || strcmp (g_ptr_array_index (texts, j), text) == 0;
              if (active != governing && *text != '\0' && !seen)
                g_ptr_array_add (texts, (gpointer) text);
            }
          g_ptr_array_add (texts, NULL);
          joined = g_strjoinv (", ", (char **) texts->pdata);
          status->text = nonempty (joined);
        }
      else
        status->text = nonempty (shown_text (governing));

      add_because (status, AGL_BECAUSE_APPOINTMENT, governing->occurrence,
                   counting->len > 1
                   ? g_strdup (_("It governs: the strongest free/busy type of the active appointments, and the latest to begin among equals."))
                   : NULL);
      add_because_keywords (status, governing);
      add_because_action (status, governing->occurrence->free_busy,
                          rules->actions[governing->occurrence->free_busy]);
      if (action == AGL_PHONE_ACTION_DND)
        add_because (status, AGL_BECAUSE_RULE, NULL,
                     g_strdup (_("Do not disturb makes the presence dnd.")));
      set_reason (status, rules, governing->text, governing->occurrence);
      if (rules->join_parallel_subjects && counting->len > 1)
        add_because (status, AGL_BECAUSE_RULE, NULL,
                     g_strdup (_("The text joins the subjects of all active appointments (join_parallel_subjects).")));

      for (guint i = 0; i < counting->len; i++)
        {
          const Active *active = &g_array_index (counting, Active, i);

          if (active != governing)
            add_because (status, AGL_BECAUSE_APPOINTMENT, active->occurrence,
                         g_strdup (_("Also active, but another appointment governs.")));
        }
    }

  for (guint i = 0; i < ignored->because->len; i++)
    g_ptr_array_add (status->because, g_steal_pointer (&ignored->because->pdata[i]));
  g_ptr_array_set_free_func (ignored->because, NULL);

  return g_steal_pointer (&status);
}

static gboolean
oof_is_on (const AglRulesOof *oof,
           gint64             now)
{
  if (oof == NULL)
    return FALSE;
  return oof->state == AGL_OOF_ENABLED ||
    (oof->state == AGL_OOF_SCHEDULED && oof->start <= now && now < oof->end);
}

/* Rule 6.  The presence stays out-of-office even with a dnd action: the
 * rule names it, and "away for days" says more than "do not disturb". */
static AglStatus *
evaluate_oof (const AglRules    *rules,
              const AglRulesOof *oof,
              gint64             now)
{
  AglStatus *status = status_new (now);

  status->presence = AGL_PRESENCE_OUT_OF_OFFICE;
  status->action = rules->actions[AGL_FREE_BUSY_OOF];
  status->forward_internal = rules->forward_internal;
  status->text = nonempty (oof->internal_reply);
  add_because (status, AGL_BECAUSE_OOF, NULL,
               g_strdup (oof->state == AGL_OOF_ENABLED
                         ? _("Automatic replies are on.")
                         : _("Automatic replies are scheduled, and this is within the schedule.")));
  add_because_action (status, AGL_FREE_BUSY_OOF, status->action);
  set_reason (status, rules, oof->internal_reply, NULL);
  return status;
}

static gboolean
override_is_on (const AglRulesOverride *override,
                gint64                  now)
{
  return override != NULL && override->set_at <= now &&
    (override->expires == 0 || now < override->expires);
}

/* Everything but until. */
static AglStatus *
evaluate_core (const AglRules           *rules,
               const AglRulesOccurrence *occurrences,
               guint                     n_occurrences,
               const AglRulesOof        *oof,
               const AglRulesOverride   *override,
               gint64                    now)
{
  g_autoptr(AglStatus) below = NULL;
  AglStatus *status;

  if (oof_is_on (oof, now))
    below = evaluate_oof (rules, oof, now);
  else
    below = evaluate_calendar (rules, occurrences, n_occurrences, now);

  if (!override_is_on (override, now))
    return g_steal_pointer (&below);

  /* Rule 9: the user's own setting wins over everything, presence
   * included (a dnd action does not change the presence they chose). */
  status = status_new (now);
  status->presence = override->presence;
  status->forward_internal = rules->forward_internal;
  status->text = nonempty (override->text);
  add_because (status, AGL_BECAUSE_OVERRIDE, NULL,
               g_strdup (override->expires != 0
                         ? _("Set by hand until the next start or end of an appointment.")
                         : _("Set by hand until it is cleared.")));
  if (override->action == AGL_PHONE_ACTION_KEEP)
    {
      status->action = below->action;
      status->reason = g_strdup (below->reason);
      for (guint i = 0; i < below->because->len; i++)
        g_ptr_array_add (status->because, g_steal_pointer (&below->because->pdata[i]));
      g_ptr_array_set_free_func (below->because, NULL);
    }
  else
    {
      status->action = override->action;
      set_reason (status, rules, override->text, NULL);
    }
  return status;
}

static gboolean
visible_equal (const AglStatus *a,
               const AglStatus *b)
{
  return a->presence == b->presence && a->action == b->action &&
    a->forward_internal == b->forward_internal &&
    g_strcmp0 (a->reason, b->reason) == 0 && g_strcmp0 (a->text, b->text) == 0;
}

static gint
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Every instant where anything could change, later than @after, sorted,
 * each once. */
static GArray *
collect_boundaries (const AglRulesOccurrence *occurrences,
                    guint                     n_occurrences,
                    const AglRulesOof        *oof,
                    const AglRulesOverride   *override,
                    gint64                    after)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (gint64));
  GArray *unique = g_array_new (FALSE, FALSE, sizeof (gint64));

#define ADD(t) G_STMT_START {                 \
    gint64 t_ = (t);                          \
    if (t_ > after)                           \
      g_array_append_val (all, t_);           \
  } G_STMT_END
  for (guint i = 0; i < n_occurrences; i++)
    {
      ADD (occurrences[i].start);
      ADD (occurrences[i].end);
    }
  if (oof != NULL && oof->state == AGL_OOF_SCHEDULED)
    {
      ADD (oof->start);
      ADD (oof->end);
    }
  if (override != NULL)
    {
      ADD (override->set_at);
      if (override->expires != 0)
        ADD (override->expires);
    }
#undef ADD

  g_array_sort (all, compare_gint64);
  for (guint i = 0; i < all->len; i++)
    if (unique->len == 0 ||
        g_array_index (unique, gint64, unique->len - 1) != g_array_index (all, gint64, i))
      g_array_append_val (unique, g_array_index (all, gint64, i));
  g_array_unref (all);
  return unique;
}

/* The occurrences come from our own code, never straight from a peer:
 * a type out of range is a programming error. */
static gboolean
occurrences_valid (const AglRulesOccurrence *occurrences,
                   guint                     n_occurrences)
{
  if (occurrences == NULL)
    return n_occurrences == 0;
  for (guint i = 0; i < n_occurrences; i++)
    if ((guint) occurrences[i].free_busy >= AGL_FREE_BUSY_N)
      return FALSE;
  return TRUE;
}

/**
 * agl_rules_evaluate:
 * @rules: the account's rules
 * @occurrences: (array length=n_occurrences): the occurrences around @now
 *   (those later than @now make until right)
 * @n_occurrences: their number
 * @oof: (nullable): the mailbox's automatic-reply settings
 * @override: (nullable): the user's manual override
 * @now: the instant to evaluate at
 *
 * The status at @now, rule by rule as the issue says, with its
 * explanation.  An appointment is active when start <= @now < end.
 * Precedence: the override, then automatic replies, then the calendar.
 *
 * The reason of a diversion comes from the trigger words in the text the
 * status stems from: the governing subject (a private one included: the
 * reason code is what the user chose callers to hear), the internal
 * automatic reply, or the override's text; else the default reason.
 * Other actions have no reason.
 *
 * Returns: (transfer full): the status; its @at is @now
 */
AglStatus *
agl_rules_evaluate (const AglRules           *rules,
                    const AglRulesOccurrence *occurrences,
                    guint                     n_occurrences,
                    const AglRulesOof        *oof,
                    const AglRulesOverride   *override,
                    gint64                    now)
{
  AglStatus *status;
  g_autoptr(GArray) boundaries = NULL;

  g_return_val_if_fail (rules != NULL, NULL);
  g_return_val_if_fail (occurrences_valid (occurrences, n_occurrences), NULL);
  g_return_val_if_fail (override == NULL || override->action <= AGL_PHONE_ACTION_KEEP, NULL);

  status = evaluate_core (rules, occurrences, n_occurrences, oof, override, now);
  boundaries = collect_boundaries (occurrences, n_occurrences, oof, override, now);
  for (guint i = 0; i < boundaries->len; i++)
    {
      gint64 t = g_array_index (boundaries, gint64, i);
      g_autoptr(AglStatus) later = evaluate_core (rules, occurrences, n_occurrences, oof,
                                                  override, t);

      if (!visible_equal (status, later))
        {
          status->until = t;
          break;
        }
    }
  return status;
}

/**
 * agl_rules_override_expiry:
 * @occurrences: (array length=n_occurrences): the occurrences
 * @n_occurrences: their number
 * @set_at: when the override was set
 *
 * Rule 9: an override holds until the next start or end of an
 * appointment.  Every occurrence counts, including ones the rules ignore:
 * the user sees them begin or end in their calendar.
 *
 * Returns: the first start or end later than @set_at, or 0 when there is
 *   none (the override holds until cleared)
 */
gint64
agl_rules_override_expiry (const AglRulesOccurrence *occurrences,
                           guint                     n_occurrences,
                           gint64                    set_at)
{
  gint64 expiry = 0;

  for (guint i = 0; i < n_occurrences; i++)
    {
      gint64 edges[2] = { occurrences[i].start, occurrences[i].end };

      for (guint j = 0; j < 2; j++)
        if (edges[j] > set_at && (expiry == 0 || edges[j] < expiry))
          expiry = edges[j];
    }
  return expiry;
}

/**
 * agl_rules_next_boundary:
 * @occurrences: (array length=n_occurrences): the occurrences
 * @n_occurrences: their number
 * @oof: (nullable): the automatic-reply settings
 * @override: (nullable): the override
 * @after: an instant
 *
 * Where a scheduler arms its one timer.
 *
 * Returns: the first instant later than @after where the status could
 *   change (an occurrence's start or end, an edge of the OOF schedule, an
 *   override's start or expiry), or 0 when there is none
 */
gint64
agl_rules_next_boundary (const AglRulesOccurrence *occurrences,
                         guint                     n_occurrences,
                         const AglRulesOof        *oof,
                         const AglRulesOverride   *override,
                         gint64                    after)
{
  g_autoptr(GArray) boundaries = collect_boundaries (occurrences, n_occurrences, oof, override,
                                                     after);

  return boundaries->len > 0 ? g_array_index (boundaries, gint64, 0) : 0;
}

/**
 * agl_rules_schedule:
 * @rules: the rules
 * @occurrences: (array length=n_occurrences): the occurrences
 * @n_occurrences: their number
 * @oof: (nullable): the automatic-reply settings
 * @override: (nullable): the override
 * @from: the start of the range
 * @to: its end (exclusive)
 *
 * Every status of [@from, @to): the one at @from, then one at each
 * boundary where the status (anything but its @at) changes.  Each is what
 * agl_rules_evaluate() gives at its @at.
 *
 * Returns: (transfer full) (element-type AglStatus): the statuses in time
 *   order
 */
GPtrArray *
agl_rules_schedule (const AglRules           *rules,
                    const AglRulesOccurrence *occurrences,
                    guint                     n_occurrences,
                    const AglRulesOof        *oof,
                    const AglRulesOverride   *override,
                    gint64                    from,
                    gint64                    to)
{
  g_autoptr(GPtrArray) schedule = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_status_free);
  g_autoptr(GPtrArray) cores = g_ptr_array_new_with_free_func ((GDestroyNotify) agl_status_free);
  g_autoptr(GArray) instants = collect_boundaries (occurrences, n_occurrences, oof, override, from);
  g_autofree gint64 *until = NULL;
  guint n;

  g_return_val_if_fail (rules != NULL, NULL);
  g_return_val_if_fail (occurrences_valid (occurrences, n_occurrences), NULL);
  g_return_val_if_fail (override == NULL || override->action <= AGL_PHONE_ACTION_KEEP, NULL);

  /* Each status once, boundaries past @to included for the last until;
   * then until from the back, as agl_rules_evaluate() finds it. */
  g_array_prepend_val (instants, from);
  n = instants->len;
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (cores, evaluate_core (rules, occurrences, n_occurrences, oof, override,
                                           g_array_index (instants, gint64, i)));
  until = g_new0 (gint64, n);
  for (guint i = n - 1; i-- > 0;)
    until[i] = visible_equal (g_ptr_array_index (cores, i), g_ptr_array_index (cores, i + 1))
      ? until[i + 1]
      : g_array_index (instants, gint64, i + 1);

  for (guint i = 0; i < n && g_array_index (instants, gint64, i) < to; i++)
    {
      AglStatus *status = g_ptr_array_index (cores, i);

      status->until = until[i];
      if (schedule->len == 0 ||
          !agl_status_equal (g_ptr_array_index (schedule, schedule->len - 1), status))
        g_ptr_array_add (schedule, g_steal_pointer (&cores->pdata[i]));
    }
  return g_steal_pointer (&schedule);
}

/**
 * agl_status_equal:
 * @a: a status
 * @b: another
 *
 * Whether publishing @b after @a would tell anybody anything new: the
 * presence, the phone action, forward_internal, the reason, the text and
 * until are compared.  @at is not, nor the explanation: a declined
 * invitation beginning, or the next occurrence of the same series taking
 * over, changes why but not what, and a phone system told the same
 * diversion again would only redo it.
 *
 * Returns: %TRUE if they are the same status
 */
gboolean
agl_status_equal (const AglStatus *a,
                  const AglStatus *b)
{
  return visible_equal (a, b) && a->until == b->until;
}

static void
add_time (JsonBuilder *builder,
          gint64       t)
{
  g_autoptr(GDateTime) datetime = NULL;
  g_autofree char *text = NULL;

  if (t == 0 || (datetime = g_date_time_new_from_unix_utc (t)) == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  text = g_date_time_format (datetime, "%Y-%m-%dT%H:%M:%SZ");
  json_builder_add_string_value (builder, text);
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *text)
{
  if (text != NULL)
    json_builder_add_string_value (builder, text);
  else
    json_builder_add_null_value (builder);
}

/**
 * agl_status_to_json_node:
 * @status: a status
 * @account: (nullable): the account's name
 * @at: the instant to give as "at"
 *
 * Returns: (transfer full): @status as agl_status_to_json() gives it
 */
JsonNode *
agl_status_to_json_node (const AglStatus *status,
                         const char      *account,
                         gint64           at)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "account");
  add_string_or_null (builder, account);
  json_builder_set_member_name (builder, "at");
  add_time (builder, at);
  json_builder_set_member_name (builder, "presence");
  json_builder_add_string_value (builder, agl_presence_to_string (status->presence));
  json_builder_set_member_name (builder, "phone");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, agl_phone_action_to_string (status->action));
  json_builder_set_member_name (builder, "forward_internal");
  json_builder_add_boolean_value (builder, status->forward_internal);
  json_builder_set_member_name (builder, "reason");
  add_string_or_null (builder, status->reason);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "text");
  add_string_or_null (builder, status->text);
  json_builder_set_member_name (builder, "until");
  add_time (builder, status->until);
  json_builder_set_member_name (builder, "because");
  json_builder_begin_array (builder);
  for (guint i = 0; i < status->because->len; i++)
    {
      const AglStatusBecause *because = g_ptr_array_index (status->because, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, agl_because_kind_to_string (because->kind));
      json_builder_set_member_name (builder, "uid");
      add_string_or_null (builder, because->uid);
      json_builder_set_member_name (builder, "subject");
      add_string_or_null (builder, because->subject);
      json_builder_set_member_name (builder, "free_busy");
      add_string_or_null (builder, because->free_busy >= 0
                          ? agl_free_busy_to_string ((AglFreeBusy) because->free_busy)
                          : NULL);
      json_builder_set_member_name (builder, "detail");
      add_string_or_null (builder, because->detail);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * agl_status_to_json:
 * @status: a status
 * @account: (nullable): the account's name
 * @at: the instant to give as "at" (usually @status's own)
 *
 * The status as the issue shapes it: {"account", "at", "presence",
 * "phone": {"action", "forward_internal", "reason"}, "text", "until",
 * "because": [{"kind", "uid", "subject", "free_busy", "detail"}]}, times
 * as ISO 8601 UTC ("2026-11-23T13:30:00Z"), null where there is none.
 *
 * Returns: (transfer full): compact JSON text
 */
char *
agl_status_to_json (const AglStatus *status,
                    const char      *account,
                    gint64           at)
{
  g_autoptr(JsonNode) root = agl_status_to_json_node (status, account, at);

  return json_to_string (root, FALSE);
}
