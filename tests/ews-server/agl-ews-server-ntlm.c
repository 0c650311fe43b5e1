/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "agl-ews-server-ntlm.h"

#define NTLMSSP_NEGOTIATE_UNICODE           0x00000001u
#define NTLMSSP_REQUEST_TARGET              0x00000004u
#define NTLMSSP_NEGOTIATE_NTLM              0x00000200u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN       0x00008000u
#define NTLMSSP_TARGET_TYPE_DOMAIN          0x00010000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO       0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION           0x02000000u
#define NTLMSSP_NEGOTIATE_128               0x20000000u
#define NTLMSSP_NEGOTIATE_56                0x80000000u

/* MD4 (RFC 1320).  GLib's GChecksum has no MD4, and NTLM's NT hash is
 * MD4 of the UTF-16LE password, so the server needs its own. */

#define MD4_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define MD4_G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD4_ROTL(v, s) (((v) << (s)) | ((v) >> (32 - (s))))

static void
md4_block (guint32       state[4],
           const guint8 *block)
{
  static const int r1[4] = { 3, 7, 11, 19 };
  static const int r2[4] = { 3, 5, 9, 13 };
  static const int r3[4] = { 3, 9, 11, 15 };
  static const int order3[16] = { 0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15 };
  guint32 x[16];
  guint32 a = state[0], b = state[1], c = state[2], d = state[3];

  for (int i = 0; i < 16; i++)
    x[i] = (guint32) block[i * 4] | (guint32) block[i * 4 + 1] << 8 |
           (guint32) block[i * 4 + 2] << 16 | (guint32) block[i * 4 + 3] << 24;

  for (int i = 0; i < 16; i++)
    {
      guint32 t = a + MD4_F (b, c, d) + x[i];

      t = MD4_ROTL (t, r1[i % 4]);
      a = d; d = c; c = b; b = t;
    }
  for (int i = 0; i < 16; i++)
    {
      int k = (i % 4) * 4 + i / 4;
      guint32 t = a + MD4_G (b, c, d) + x[k] + 0x5A827999u;

      t = MD4_ROTL (t, r2[i % 4]);
      a = d; d = c; c = b; b = t;
    }
  for (int i = 0; i < 16; i++)
    {
      guint32 t = a + MD4_H (b, c, d) + x[order3[i]] + 0x6ED9EBA1u;

      t = MD4_ROTL (t, r3[i % 4]);
      a = d; d = c; c = b; b = t;
    }

  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

void
agl_ews_md4 (const guint8 *data,
             gsize         len,
             guint8        digest[16])
{
  guint32 state[4] = { 0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u };
  guint8 tail[128] = { 0 };
  gsize full = len - len % 64;
  gsize rest = len % 64;
  gsize tail_len = rest < 56 ? 64 : 128;
  guint64 bits = (guint64) len * 8;

  for (gsize off = 0; off < full; off += 64)
    md4_block (state, data + off);

  if (rest > 0)
    memcpy (tail, data + full, rest);
  tail[rest] = 0x80;
  for (int i = 0; i < 8; i++)
    tail[tail_len - 8 + i] = (guint8) (bits >> (8 * i));
  md4_block (state, tail);
  if (tail_len == 128)
    md4_block (state, tail + 64);

  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      digest[i * 4 + j] = (guint8) (state[i] >> (8 * j));
}

static guint8 *
utf16le (const char *text,
         gsize      *len)
{
  g_autofree gunichar2 *utf16 = NULL;
  glong items = 0;
  guint8 *out;

  utf16 = g_utf8_to_utf16 (text != NULL ? text : "", -1, NULL, &items, NULL);
  if (utf16 == NULL)
    {
      *len = 0;
      return g_new0 (guint8, 1);
    }
  out = g_new (guint8, items * 2 + 1);
  for (glong i = 0; i < items; i++)
    {
      out[i * 2] = utf16[i] & 0xff;
      out[i * 2 + 1] = utf16[i] >> 8;
    }
  *len = items * 2;
  return out;
}

static char *
from_utf16le (const guint8 *data,
              gsize         len)
{
  g_autofree gunichar2 *units = g_new0 (gunichar2, len / 2 + 1);

  for (gsize i = 0; i < len / 2; i++)
    units[i] = (gunichar2) (data[i * 2] | data[i * 2 + 1] << 8);
  return g_utf16_to_utf8 (units, len / 2, NULL, NULL, NULL);
}

void
agl_ews_ntlm_nt_hash (const char *password,
                      guint8      hash[16])
{
  gsize len;
  g_autofree guint8 *buf = utf16le (password, &len);

  agl_ews_md4 (buf, len, hash);
}

void
agl_ews_hmac_md5 (const guint8 *key,
                  gsize         key_len,
                  const guint8 *data,
                  gsize         data_len,
                  guint8        out[16])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_MD5, key, key_len);
  gsize out_len = 16;

  g_hmac_update (hmac, data, data_len);
  g_hmac_get_digest (hmac, out, &out_len);
}

void
agl_ews_ntlm_ntowf_v2 (const char *password,
                       const char *user,
                       const char *domain,
                       guint8      out[16])
{
  guint8 nt_hash[16];
  g_autofree char *upper = g_utf8_strup (user, -1);
  g_autofree char *joined = g_strconcat (upper, domain != NULL ? domain : "", NULL);
  gsize len;
  g_autofree guint8 *buf = utf16le (joined, &len);

  agl_ews_ntlm_nt_hash (password, nt_hash);
  agl_ews_hmac_md5 (nt_hash, sizeof nt_hash, buf, len, out);
}

static guint16
read16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
read32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static void
put16 (GByteArray *out,
       guint16     v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (out, b, 2);
}

static void
put32 (GByteArray *out,
       guint32     v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (out, b, 4);
}

int
agl_ews_ntlm_message_type (const guint8 *msg,
                           gsize         len)
{
  if (len < 12 || memcmp (msg, "NTLMSSP\0", 8) != 0)
    return -1;
  return (int) read32 (msg + 8);
}

static void
add_av_pair (GByteArray *info,
             guint16     id,
             const char *text)
{
  gsize len;
  g_autofree guint8 *value = utf16le (text, &len);

  put16 (info, id);
  put16 (info, (guint16) len);
  g_byte_array_append (info, value, len);
}

GBytes *
agl_ews_ntlm_build_challenge (const guint8  challenge[AGL_EWS_NTLM_CHALLENGE_LEN],
                              const char   *netbios_domain,
                              const char   *netbios_computer,
                              const char   *dns_domain)
{
  g_autoptr(GByteArray) info = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *target = NULL;
  g_autofree char *dns_computer = g_strdup_printf ("%s.%s", netbios_computer, dns_domain);
  gsize target_len;
  guint32 flags;
  guint8 zeros[8] = { 0 };
  /* Windows Server 2016 (10.0.14393), as IIS in front of Exchange 2016 announces. */
  static const guint8 version[8] = { 10, 0, 0x39, 0x38, 0, 0, 0, 15 };
  const guint32 payload = 56;
  guint64 filetime = ((guint64) g_get_real_time () / 1000000 + 11644473600ull) * 10000000ull;
  guint8 ts[8];

  add_av_pair (info, 2, netbios_domain);
  add_av_pair (info, 1, netbios_computer);
  add_av_pair (info, 4, dns_domain);
  add_av_pair (info, 3, dns_computer);
  for (int i = 0; i < 8; i++)
    ts[i] = (guint8) (filetime >> (8 * i));
  put16 (info, 7);
  put16 (info, 8);
  g_byte_array_append (info, ts, 8);
  put16 (info, 0);
  put16 (info, 0);

  target = utf16le (netbios_domain, &target_len);

  /* NTLMv2 is what libsoup and the EWS Managed API answer with when the
   * challenge carries target information; servers that still allow the
   * NTLMv1 fallback are the misconfiguration Exchange admins remove. */
  flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_NTLM |
          NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_TARGET_TYPE_DOMAIN |
          NTLMSSP_NEGOTIATE_EXTENDED_SECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO |
          NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_56;

  g_byte_array_append (out, (const guint8 *) "NTLMSSP\0", 8);
  put32 (out, 2);
  put16 (out, (guint16) target_len);
  put16 (out, (guint16) target_len);
  put32 (out, payload);
  put32 (out, flags);
  g_byte_array_append (out, challenge, AGL_EWS_NTLM_CHALLENGE_LEN);
  g_byte_array_append (out, zeros, 8);
  put16 (out, (guint16) info->len);
  put16 (out, (guint16) info->len);
  put32 (out, payload + (guint32) target_len);
  g_byte_array_append (out, version, 8);
  g_assert (out->len == payload);
  g_byte_array_append (out, target, target_len);
  g_byte_array_append (out, info->data, info->len);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static gboolean
read_field (const guint8 *msg,
            gsize         len,
            gsize         at,
            const guint8 **data,
            gsize        *data_len)
{
  guint16 flen;
  guint32 off;

  if (at + 8 > len)
    return FALSE;
  flen = read16 (msg + at);
  off = read32 (msg + at + 4);
  if ((gsize) off > len || (gsize) flen > len - off)
    return FALSE;
  *data = msg + off;
  *data_len = flen;
  return TRUE;
}

void
agl_ews_ntlm_authenticate_free (AglEwsNtlmAuthenticate *auth)
{
  if (auth == NULL)
    return;
  g_free (auth->user);
  g_free (auth->domain);
  g_free (auth->workstation);
  g_clear_pointer (&auth->nt_response, g_bytes_unref);
  g_free (auth);
}

AglEwsNtlmAuthenticate *
agl_ews_ntlm_parse_authenticate (const guint8 *msg,
                                 gsize         len)
{
  g_autoptr(AglEwsNtlmAuthenticate) auth = NULL;
  const guint8 *nt, *dom, *usr, *wks;
  gsize nt_len, dom_len, usr_len, wks_len;
  gboolean unicode;

  if (agl_ews_ntlm_message_type (msg, len) != 3 || len < 64)
    return NULL;
  if (!read_field (msg, len, 20, &nt, &nt_len) ||
      !read_field (msg, len, 28, &dom, &dom_len) ||
      !read_field (msg, len, 36, &usr, &usr_len) ||
      !read_field (msg, len, 44, &wks, &wks_len))
    return NULL;

  auth = g_new0 (AglEwsNtlmAuthenticate, 1);
  auth->flags = read32 (msg + 60);
  unicode = (auth->flags & NTLMSSP_NEGOTIATE_UNICODE) != 0;
  if (unicode)
    {
      auth->user = from_utf16le (usr, usr_len);
      auth->domain = from_utf16le (dom, dom_len);
      auth->workstation = from_utf16le (wks, wks_len);
    }
  else
    {
      auth->user = g_strndup ((const char *) usr, usr_len);
      auth->domain = g_strndup ((const char *) dom, dom_len);
      auth->workstation = g_strndup ((const char *) wks, wks_len);
    }
  if (auth->user == NULL || auth->domain == NULL || auth->workstation == NULL)
    return NULL;
  auth->nt_response = g_bytes_new (nt, nt_len);
  return g_steal_pointer (&auth);
}

static gboolean
verify_with_domain (const AglEwsNtlmAuthenticate *auth,
                    const guint8                  challenge[AGL_EWS_NTLM_CHALLENGE_LEN],
                    const char                   *password,
                    const char                   *domain)
{
  gsize nt_len;
  const guint8 *nt = g_bytes_get_data (auth->nt_response, &nt_len);
  guint8 ntowf[16], proof[16];
  g_autofree guint8 *buf = NULL;
  guint8 diff = 0;

  agl_ews_ntlm_ntowf_v2 (password, auth->user, domain, ntowf);
  buf = g_malloc (AGL_EWS_NTLM_CHALLENGE_LEN + nt_len - 16);
  memcpy (buf, challenge, AGL_EWS_NTLM_CHALLENGE_LEN);
  memcpy (buf + AGL_EWS_NTLM_CHALLENGE_LEN, nt + 16, nt_len - 16);
  agl_ews_hmac_md5 (ntowf, sizeof ntowf, buf, AGL_EWS_NTLM_CHALLENGE_LEN + nt_len - 16, proof);

  for (int i = 0; i < 16; i++)
    diff |= proof[i] ^ nt[i];
  return diff == 0;
}

/* @target_name is the domain the challenge announced: Windows computes
 * NTOWFv2 with the domain it sends in the Authenticate message, some
 * clients (node's ntlm-client) with the challenge's target name, and
 * domain controllers accept both. */
gboolean
agl_ews_ntlm_verify (const AglEwsNtlmAuthenticate *auth,
                     const guint8                  challenge[AGL_EWS_NTLM_CHALLENGE_LEN],
                     const char                   *password,
                     const char                   *target_name)
{
  /* A 24-byte answer is NTLMv1 (DES based); refused, as on an Exchange
   * whose LmCompatibilityLevel is 5. An empty user is an anonymous logon. */
  if (g_bytes_get_size (auth->nt_response) <= 24 || *auth->user == '\0')
    return FALSE;

  return verify_with_domain (auth, challenge, password, auth->domain) ||
         (target_name != NULL && g_strcmp0 (target_name, auth->domain) != 0 &&
          verify_with_domain (auth, challenge, password, target_name));
}
