/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "agendalined"

#include "config.h"

#include "agl-publisher.h"

G_DEFINE_ABSTRACT_TYPE (AglPublisher, agl_publisher, G_TYPE_OBJECT)

G_DEFINE_QUARK (agl-publisher-error-quark, agl_publisher_error)

static void
agl_publisher_class_init (AglPublisherClass *klass)
{
}

static void
agl_publisher_init (AglPublisher *self)
{
}

const char *
agl_publisher_get_kind (AglPublisher *self)
{
  g_return_val_if_fail (AGL_IS_PUBLISHER (self), NULL);

  return AGL_PUBLISHER_GET_CLASS (self)->kind;
}

char *
agl_publisher_describe (AglPublisher *self)
{
  g_return_val_if_fail (AGL_IS_PUBLISHER (self), NULL);

  return AGL_PUBLISHER_GET_CLASS (self)->describe (self);
}

void
agl_publisher_deliver_async (AglPublisher         *self,
                             const AglPublication *publication,
                             GCancellable         *cancellable,
                             GAsyncReadyCallback   callback,
                             gpointer              user_data)
{
  g_return_if_fail (AGL_IS_PUBLISHER (self));
  g_return_if_fail (publication != NULL);

  AGL_PUBLISHER_GET_CLASS (self)->deliver_async (self, publication, cancellable, callback, user_data);
}

gboolean
agl_publisher_deliver_finish (AglPublisher  *self,
                              GAsyncResult  *result,
                              char         **detail,
                              GError       **error)
{
  g_return_val_if_fail (AGL_IS_PUBLISHER (self), FALSE);

  if (detail != NULL)
    *detail = NULL;
  return AGL_PUBLISHER_GET_CLASS (self)->deliver_finish (self, result, detail, error);
}

static void
close_nothing (AglPublisher        *self,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, agl_publisher_close_async);
  g_task_return_boolean (task, TRUE);
}

void
agl_publisher_close_async (AglPublisher        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  AglPublisherClass *klass;

  g_return_if_fail (AGL_IS_PUBLISHER (self));

  klass = AGL_PUBLISHER_GET_CLASS (self);
  if (klass->close_async == NULL)
    close_nothing (self, callback, user_data);
  else
    klass->close_async (self, cancellable, callback, user_data);
}

gboolean
agl_publisher_close_finish (AglPublisher  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (AGL_IS_PUBLISHER (self), FALSE);

  if (g_async_result_is_tagged (result, agl_publisher_close_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return AGL_PUBLISHER_GET_CLASS (self)->close_finish (self, result, error);
}
