/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <libsoup/soup.h>

#include "agl-account.h"

G_BEGIN_DECLS

/*
 * A small scripted HTTPS peer for the EWS client tests: a SoupServer with
 * the test CA's localhost certificate (tests/ews-server/fixtures), whose
 * handler the test writes, and which records every request.
 */

typedef struct _EwsTestPeer EwsTestPeer;

/**
 * EwsTestRequest:
 * @method: GET or POST
 * @path: the request path
 * @authorization: (nullable): the Authorization header
 * @anchor_mailbox: (nullable): the X-AnchorMailbox header
 * @body: the request body as text
 * @time: when the handler saw it, g_get_monotonic_time()
 */
typedef struct {
  char   *method;
  char   *path;
  char   *authorization;
  char   *anchor_mailbox;
  char   *body;
  gint64  time;
} EwsTestRequest;

typedef void (*EwsTestHandler) (EwsTestPeer       *peer,
                                SoupServerMessage *message,
                                EwsTestRequest    *request,
                                guint              n,
                                gpointer           user_data);

EwsTestPeer    *ews_test_peer_new        (const char     *address);
EwsTestPeer    *ews_test_peer_new_plain  (const char     *address);
void            ews_test_peer_free       (EwsTestPeer    *peer);
void            ews_test_peer_set_handler (EwsTestPeer   *peer,
                                           EwsTestHandler handler,
                                           gpointer       user_data);
char           *ews_test_peer_url        (EwsTestPeer    *peer,
                                          const char     *path);
guint           ews_test_peer_n_requests (EwsTestPeer    *peer);
EwsTestRequest *ews_test_peer_request    (EwsTestPeer    *peer,
                                          guint           n);

char           *ews_test_fixture         (const char     *name);
AglAccount     *ews_test_account         (const char     *url,
                                          const char     *auth,
                                          gboolean        with_ca);
void            ews_test_respond         (SoupServerMessage *message,
                                          guint              status,
                                          const char        *xml);
char           *ews_test_envelope        (const char        *body);
void            ews_test_wait            (gboolean          *done);
void            ews_test_drain           (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EwsTestPeer, ews_test_peer_free)

#define EWS_TEST_NS_M "http://schemas.microsoft.com/exchange/services/2006/messages"
#define EWS_TEST_NS_T "http://schemas.microsoft.com/exchange/services/2006/types"

/* A GetFolder answer for the calendar, as Exchange 2016 (15.1.2507.39) sends it. */
#define EWS_TEST_GET_FOLDER_OK \
  "<m:GetFolderResponse xmlns:m=\"" EWS_TEST_NS_M "\" xmlns:t=\"" EWS_TEST_NS_T "\">" \
  "<m:ResponseMessages><m:GetFolderResponseMessage ResponseClass=\"Success\">" \
  "<m:ResponseCode>NoError</m:ResponseCode><m:Folders><t:CalendarFolder>" \
  "<t:FolderId Id=\"CAL-1\" ChangeKey=\"CK-1\"/></t:CalendarFolder></m:Folders>" \
  "</m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse>"

G_END_DECLS
