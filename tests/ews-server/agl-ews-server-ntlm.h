/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The server side of NTLM over HTTP (MS-NLMP), NTLMv2 only. */

#define AGL_EWS_NTLM_CHALLENGE_LEN 8

typedef struct
{
  char   *user;
  char   *domain;
  char   *workstation;
  GBytes *nt_response;
  guint32 flags;
} AglEwsNtlmAuthenticate;

void      agl_ews_md4 (const guint8 *data,
                       gsize         len,
                       guint8        digest[16]);
void      agl_ews_ntlm_nt_hash (const char *password,
                                guint8      hash[16]);
void      agl_ews_hmac_md5 (const guint8 *key,
                            gsize         key_len,
                            const guint8 *data,
                            gsize         data_len,
                            guint8        out[16]);
void      agl_ews_ntlm_ntowf_v2 (const char *password,
                                 const char *user,
                                 const char *domain,
                                 guint8      out[16]);

int       agl_ews_ntlm_message_type (const guint8 *msg,
                                     gsize         len);
GBytes   *agl_ews_ntlm_build_challenge (const guint8  challenge[AGL_EWS_NTLM_CHALLENGE_LEN],
                                        const char   *netbios_domain,
                                        const char   *netbios_computer,
                                        const char   *dns_domain);
AglEwsNtlmAuthenticate *agl_ews_ntlm_parse_authenticate (const guint8 *msg,
                                                         gsize         len);
void      agl_ews_ntlm_authenticate_free (AglEwsNtlmAuthenticate *auth);
gboolean  agl_ews_ntlm_verify (const AglEwsNtlmAuthenticate *auth,
                               const guint8                  challenge[AGL_EWS_NTLM_CHALLENGE_LEN],
                               const char                   *password,
                               const char                   *target_name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AglEwsNtlmAuthenticate, agl_ews_ntlm_authenticate_free)

G_END_DECLS
