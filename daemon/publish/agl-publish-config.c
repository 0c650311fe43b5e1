/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "agl-error.h"
#include "agl-publish-command.h"
#include "agl-publish-config.h"
#include "agl-publish-sip.h"
#include "agl-publish-webhook.h"

/* The longest secret taken, as for account passwords. */
#define MAX_SECRET_BYTES 4096

static const struct {
  const char *kind;
  const char *member;      /* the secret, input only */
  const char *has_member;  /* what GetRules shows instead */
  gboolean    required;
} secret_kinds[AGL_PUBLISH_N_SECRETS] = {
  { "webhook", "secret", "has_secret", TRUE },
  { "sip", "password", "has_password", FALSE },
};

/**
 * agl_publish_config_secret_member:
 * @kind: a publisher kind
 *
 * Returns: (nullable): the member that holds @kind's secret ("secret",
 *   "password"), or %NULL for a kind without one
 */
const char *
agl_publish_config_secret_member (const char *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (secret_kinds); i++)
    if (g_strcmp0 (secret_kinds[i].kind, kind) == 0)
      return secret_kinds[i].member;
  return NULL;
}

static const char *
secret_has_member (const char *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (secret_kinds); i++)
    if (g_strcmp0 (secret_kinds[i].kind, kind) == 0)
      return secret_kinds[i].has_member;
  return NULL;
}

/* A copy of @config without its secret and the has_ flag. */
static JsonObject *
copy_without_secret (const char *kind,
                     JsonObject *config)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) copy = NULL;
  JsonObject *object;
  const char *member = agl_publish_config_secret_member (kind);
  const char *has_member = secret_has_member (kind);

  json_node_set_object (node, config);
  copy = json_node_copy (node);
  object = json_node_get_object (copy);
  if (member != NULL)
    {
      json_object_remove_member (object, member);
      json_object_remove_member (object, has_member);
    }
  return json_object_ref (object);
}

/**
 * agl_publish_config_check:
 * @publishers: the "publishers" object of the rules
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the key
 *
 * Checks every publisher's settings with its kind's check_config(); the
 * secrets may be there or not.  An unknown kind is refused.
 *
 * Returns: whether every publisher's settings are good
 */
gboolean
agl_publish_config_check (JsonObject  *publishers,
                          GError     **error)
{
  JsonObjectIter iter;
  const char *kind;
  JsonNode *value;

  g_return_val_if_fail (publishers != NULL, FALSE);

  json_object_iter_init (&iter, publishers);
  while (json_object_iter_next (&iter, &kind, &value))
    {
      g_autofree char *path = g_strconcat ("publishers.", kind, NULL);
      g_autoptr(JsonObject) config = NULL;
      gboolean ok;

      if (g_strcmp0 (kind, "webhook") != 0 && g_strcmp0 (kind, "command") != 0 &&
          g_strcmp0 (kind, "sip") != 0)
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s is not a publisher; use webhook, command or sip."), path);
          return FALSE;
        }
      if (!JSON_NODE_HOLDS_OBJECT (value))
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s must be an object with the publisher’s settings."), path);
          return FALSE;
        }
      config = copy_without_secret (kind, json_node_get_object (value));
      if (g_strcmp0 (kind, "webhook") == 0)
        ok = agl_publish_webhook_check_config (config, path, error);
      else if (g_strcmp0 (kind, "command") == 0)
        ok = agl_publish_command_check_config (config, path, error);
      else
        ok = agl_publish_sip_check_config (config, path, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static JsonNode *
parse_object (const char  *json,
              GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The rules are not JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("The rules must be a JSON object, such as {\"actions\": {\"Busy\": \"divert\"}}."));
      return NULL;
    }
  return json_node_copy (root);
}

static char *
to_text (JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* The publishers object of @root, or NULL when there is none (or it is not
 * an object, which the rules parser refuses). */
static JsonObject *
get_publishers (JsonNode *root)
{
  JsonNode *node = json_object_get_member (json_node_get_object (root), "publishers");

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/**
 * agl_publish_secrets_clear:
 * @secrets: what agl_publish_config_take_secrets() filled in
 *
 * Wipes and frees the secrets' values.
 */
void
agl_publish_secrets_clear (AglPublishSecret secrets[AGL_PUBLISH_N_SECRETS])
{
  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    {
      if (secrets[i].value != NULL)
        memset (secrets[i].value, 0, strlen (secrets[i].value));
      g_clear_pointer (&secrets[i].value, g_free);
    }
}

/**
 * agl_publish_config_take_secrets:
 * @rules: rules as JSON, already checked by agl_rules_from_json()
 * @secrets: (out caller-allocates): what the rules ask for each kind's
 *   secret; clear with agl_publish_secrets_clear()
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT naming the key
 *
 * Takes the secrets out of @rules and checks the publishers' settings.
 * A secret left out keeps the stored one; null removes it; so does
 * leaving out its publisher.  "has_secret" and "has_password", which
 * GetRules adds, are dropped.
 *
 * Returns: (transfer full): the rules without secrets, to store, or %NULL
 */
char *
agl_publish_config_take_secrets (const char        *rules,
                                 AglPublishSecret   secrets[AGL_PUBLISH_N_SECRETS],
                                 GError           **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *publishers;

  g_return_val_if_fail (rules != NULL, NULL);

  memset (secrets, 0, sizeof (AglPublishSecret) * AGL_PUBLISH_N_SECRETS);
  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    {
      secrets[i].kind = secret_kinds[i].kind;
      secrets[i].required = secret_kinds[i].required;
      secrets[i].change = AGL_PUBLISH_SECRET_REMOVE;
    }

  root = parse_object (rules, error);
  if (root == NULL)
    return NULL;
  publishers = get_publishers (root);

  for (guint i = 0; publishers != NULL && i < AGL_PUBLISH_N_SECRETS; i++)
    {
      JsonNode *node = json_object_get_member (publishers, secrets[i].kind);
      g_autofree char *path = NULL;
      JsonObject *config;
      JsonNode *secret;

      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        continue;
      config = json_node_get_object (node);
      secrets[i].configured = TRUE;
      path = g_strconcat ("publishers.", secrets[i].kind, ".", secret_kinds[i].member, NULL);
      secret = json_object_get_member (config, secret_kinds[i].member);
      if (secret == NULL)
        secrets[i].change = AGL_PUBLISH_SECRET_KEEP;
      else if (JSON_NODE_HOLDS_NULL (secret))
        secrets[i].change = AGL_PUBLISH_SECRET_REMOVE;
      else if (JSON_NODE_HOLDS_VALUE (secret) && json_node_get_value_type (secret) == G_TYPE_STRING)
        {
          const char *value = json_node_get_string (secret);

          if (*value == '\0' || strlen (value) > MAX_SECRET_BYTES)
            {
              g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                           _("%s must be 1 to 4096 bytes long; use null to remove the stored one."),
                           path);
              agl_publish_secrets_clear (secrets);
              return NULL;
            }
          secrets[i].change = AGL_PUBLISH_SECRET_SET;
          secrets[i].value = g_strdup (value);
        }
      else
        {
          g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                       _("%s must be a string, or null to remove the stored one."), path);
          agl_publish_secrets_clear (secrets);
          return NULL;
        }
      json_object_remove_member (config, secret_kinds[i].member);
      json_object_remove_member (config, secret_kinds[i].has_member);
    }

  if (publishers != NULL && !agl_publish_config_check (publishers, error))
    {
      agl_publish_secrets_clear (secrets);
      return NULL;
    }
  return to_text (root);
}

/**
 * agl_publish_config_mark_secrets:
 * @rules: rules as JSON, as stored (without secrets)
 * @has_webhook_secret: whether the webhook's secret is stored
 * @has_sip_password: whether the SIP password is stored
 *
 * Adds "has_secret" to the webhook's settings and "has_password" to the
 * SIP publisher's, for GetRules.
 *
 * Returns: (transfer full): the rules to show
 */
char *
agl_publish_config_mark_secrets (const char *rules,
                                 gboolean    has_webhook_secret,
                                 gboolean    has_sip_password)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *publishers;
  const gboolean has[AGL_PUBLISH_N_SECRETS] = { has_webhook_secret, has_sip_password };

  g_return_val_if_fail (rules != NULL, NULL);

  root = parse_object (rules, NULL);
  if (root == NULL || (publishers = get_publishers (root)) == NULL)
    return g_strdup (rules);
  for (guint i = 0; i < AGL_PUBLISH_N_SECRETS; i++)
    {
      JsonNode *node = json_object_get_member (publishers, secret_kinds[i].kind);

      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *config = json_node_get_object (node);

          /* Never shown, even should one have been stored by mistake. */
          json_object_remove_member (config, secret_kinds[i].member);
          json_object_set_boolean_member (config, secret_kinds[i].has_member, has[i]);
        }
    }
  return to_text (root);
}

/**
 * agl_publish_config_check_members:
 * @config: a publisher's settings
 * @path: where they are ("publishers.webhook")
 * @allowed: the members it may have
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: whether @config has no member outside @allowed
 */
gboolean
agl_publish_config_check_members (JsonObject         *config,
                                  const char         *path,
                                  const char * const *allowed,
                                  GError            **error)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  json_object_iter_init (&iter, config);
  while (json_object_iter_next (&iter, &member, &value))
    {
      g_autofree char *list = NULL;

      if (g_strv_contains (allowed, member))
        continue;
      list = g_strjoinv (", ", (char **) allowed);
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   /* TRANSLATORS: "publishers.webhook.colour is not a setting of this publisher; use url, secret, ca_file, timeout." */
                   _("%s.%s is not a setting of this publisher; use %s."), path, member, list);
      return FALSE;
    }
  return TRUE;
}

/**
 * agl_publish_config_get_string:
 * @config: a publisher's settings
 * @path: where they are
 * @member: the member
 * @required: whether it must be there
 * @value: (out) (transfer none): its value, %NULL when absent
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: whether the member is a string, or absent and not @required
 */
gboolean
agl_publish_config_get_string (JsonObject  *config,
                               const char  *path,
                               const char  *member,
                               gboolean     required,
                               const char **value,
                               GError     **error)
{
  JsonNode *node = json_object_get_member (config, member);

  *value = NULL;
  if (node == NULL && !required)
    return TRUE;
  if (node == NULL)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.%s is missing."), path, member);
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
      strlen (json_node_get_string (node)) > 4096)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.%s must be a string of at most 4096 bytes."), path, member);
      return FALSE;
    }
  *value = json_node_get_string (node);
  return TRUE;
}

/**
 * agl_publish_config_get_seconds:
 * @config: a publisher's settings
 * @path: where they are
 * @member: the member
 * @min: the least value taken
 * @max: the greatest value taken
 * @default_value: the value when the member is absent
 * @value: (out): the value
 * @error: return location for %AGL_ERROR_INVALID_ARGUMENT
 *
 * Returns: whether the member is absent or a whole number in range
 */
gboolean
agl_publish_config_get_seconds (JsonObject  *config,
                                const char  *path,
                                const char  *member,
                                guint        min,
                                guint        max,
                                guint        default_value,
                                guint       *value,
                                GError     **error)
{
  JsonNode *node = json_object_get_member (config, member);
  gint64 seconds;

  *value = default_value;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64 ||
      (seconds = json_node_get_int (node)) < min || seconds > max)
    {
      g_set_error (error, AGL_ERROR, AGL_ERROR_INVALID_ARGUMENT,
                   _("%s.%s must be a whole number of seconds from %u to %u."), path, member,
                   min, max);
      return FALSE;
    }
  *value = (guint) seconds;
  return TRUE;
}
