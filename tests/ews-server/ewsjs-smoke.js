// SPDX-License-Identifier: GPL-3.0-or-later
//
// Drives agl-ews-server with ews-javascript-api (a port of Microsoft's EWS
// Managed API) over NTLM, as a client nobody here wrote: a paged sync to
// completion, create, update, an update with a stale change key refused,
// OOF settings, a streaming notification, delete.  Needs the demo seed.
//
//   npm install --prefix DIR ews-javascript-api@0.15.3 @ewsjs/xhr@3.1.3
//   NODE_PATH=DIR/node_modules NODE_EXTRA_CA_CERTS=tests/ews-server/fixtures/ca.pem \
//     node tests/ews-server/ewsjs-smoke.js https://127.0.0.1:PORT/EWS/Exchange.asmx
'use strict';

const ews = require('ews-javascript-api');
const { XhrApi } = require('@ewsjs/xhr');

const url = process.argv[2];
const user = 'EXAMPLE\\alice';
const password = 'Agendaline-demo-1';

function check (condition, what) {
  if (!condition)
    throw new Error('check failed: ' + what);
  console.log('ok - ' + what);
}

async function main () {
  ews.ConfigurationApi.ConfigureXHR(new XhrApi({ rejectUnauthorized: true })
    .useNtlmAuthentication(user, password));
  const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013);
  service.Credentials = new ews.WebCredentials(user, password);
  service.Url = new ews.Uri(url);
  const calendar = new ews.FolderId(ews.WellKnownFolderName.Calendar);

  let state = null, more = true, items = 0, pages = 0;
  while (more) {
    const changes = await service.SyncFolderItems(calendar, ews.PropertySet.FirstClassProperties,
      null, 3, ews.SyncFolderItemsScope.NormalItems, state);
    items += changes.Count;
    state = changes.SyncState;
    more = changes.MoreChangesAvailable;
    pages++;
  }
  check(items === 7 && pages === 3, 'sync to completion: 7 items in 3 pages of 3');

  const appointment = new ews.Appointment(service);
  appointment.Subject = 'From ews-javascript-api';
  appointment.Start = ews.DateTime.Now.AddHours(2);
  appointment.End = appointment.Start.AddHours(1);
  await appointment.Save(calendar, ews.SendInvitationsMode.SendToNone);
  check(appointment.Id.UniqueId.length > 40, 'create');

  const stale = await ews.Appointment.Bind(service, appointment.Id);
  appointment.Subject = 'Updated';
  await appointment.Update(ews.ConflictResolutionMode.AlwaysOverwrite,
    ews.SendInvitationsOrCancellationsMode.SendToNone);
  const fresh = await ews.Appointment.Bind(service, appointment.Id);
  check(fresh.Subject === 'Updated' && fresh.Id.ChangeKey !== stale.Id.ChangeKey, 'update');

  stale.Subject = 'Stale';
  let refused = null;
  try {
    await stale.Update(ews.ConflictResolutionMode.NeverOverwrite,
      ews.SendInvitationsOrCancellationsMode.SendToNone);
  } catch (e) {
    refused = ews.ServiceError[e.ErrorCode];
  }
  check(refused === 'ErrorIrresolvableConflict', 'stale change key refused');

  const oof = await service.GetUserOofSettings('alice@example.org');
  check(ews.OofState[oof.State] === 'Scheduled', 'OOF settings read');

  const subscription = await service.SubscribeToStreamingNotifications([calendar],
    ews.EventType.Created, ews.EventType.Modified, ews.EventType.Deleted);
  const connection = new ews.StreamingSubscriptionConnection(service, 1);
  connection.AddSubscription(subscription);
  const created = new Promise((resolve) => {
    connection.OnNotificationEvent.push((sender, args) => {
      if (args.Events.some((e) => e.EventType === ews.EventType.Created))
        resolve();
    });
  });
  connection.Open();
  // Whether the stream is already open or not, Exchange queues the event
  // for the subscription and delivers it on the stream.
  const trigger = new ews.Appointment(service);
  trigger.Subject = 'Trigger';
  trigger.Start = ews.DateTime.Now.AddHours(5);
  trigger.End = trigger.Start.AddHours(1);
  await trigger.Save(calendar, ews.SendInvitationsMode.SendToNone);
  await created;
  connection.Close();
  check(true, 'streaming notification received');

  await appointment.Delete(ews.DeleteMode.MoveToDeletedItems, ews.SendCancellationsMode.SendToNone);
  let gone = null;
  try {
    await ews.Appointment.Bind(service, appointment.Id);
  } catch (e) {
    gone = ews.ServiceError[e.ErrorCode];
  }
  check(gone === 'ErrorItemNotFound', 'delete');
}

setTimeout(() => { console.log('not ok - timed out'); process.exit(1); }, 60000).unref();
main().then(() => process.exit(0), (e) => {
  console.log('not ok - ' + (e && (e.message || e.toString())));
  process.exit(1);
});
