/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#define G_LOG_DOMAIN "agl-accessible"

#include <adwaita.h>

#include "agl-accessible.h"

/*
 * GTK 4.8 names a button with a text label twice over AT-SPI: once from the
 * label widget it is "labelled by" (with the mnemonic's underscore) and
 * once from its own label ("_Save Save").  A screen reader reads both, and
 * nobody can find the button by its name.  GTK 4.10 computes names anew;
 * until Debian has it, each button with a text label is named once, by
 * that text without its mnemonic underscore.
 */

#define NAMED_KEY "agl-accessible-named"

static char *
strip_mnemonic (const char *text)
{
  GString *stripped = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      /* "__" is a literal underscore; "_x" marks x as the mnemonic. */
      if (*p == '_')
        {
          if (p[1] == '_')
            p++;
          else
            continue;
        }
      g_string_append_c (stripped, *p);
    }
  return g_string_free (stripped, FALSE);
}

/* The first label's text under @widget: a button's own label, or the one
 * in a box beside a spinner or an icon. */
static const char *
first_label_text (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    return gtk_label_get_label (GTK_LABEL (widget));
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *text = first_label_text (child);

      if (text != NULL && *text != '\0')
        return text;
    }
  return NULL;
}

static const char *
button_text (GtkButton *button)
{
  GtkWidget *child = gtk_button_get_child (button);

  if (child == NULL)
    return NULL;
  if (ADW_IS_BUTTON_CONTENT (child))
    return adw_button_content_get_label (ADW_BUTTON_CONTENT (child));
  return first_label_text (child);
}

static void
name_button (GtkButton *button)
{
  const char *text = button_text (button);
  g_autofree char *name = NULL;

  if (text == NULL || *text == '\0')
    return;
  name = strip_mnemonic (text);
  gtk_accessible_reset_relation (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_RELATION_LABELLED_BY);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

/* A new label brings a new "labelled by" relation with it. */
static void
label_changed_cb (GtkButton  *button,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  name_button (button);
}

/**
 * agl_accessible_name_buttons:
 * @root: a widget
 *
 * Gives every button with a text label under @root (itself included) one
 * accessible name, its label's text, now and whenever the label changes.
 * Call it once a template is built; buttons made later need a call of
 * their own.
 */
void
agl_accessible_name_buttons (GtkWidget *root)
{
  g_return_if_fail (GTK_IS_WIDGET (root));

  if (GTK_IS_BUTTON (root) && !GTK_IS_MENU_BUTTON (root))
    {
      name_button (GTK_BUTTON (root));
      if (g_object_get_data (G_OBJECT (root), NAMED_KEY) == NULL)
        {
          g_object_set_data (G_OBJECT (root), NAMED_KEY, GINT_TO_POINTER (TRUE));
          g_signal_connect (root, "notify::label", G_CALLBACK (label_changed_cb), NULL);
        }
    }
  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    agl_accessible_name_buttons (child);
}
