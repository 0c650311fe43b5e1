// SPDX-License-Identifier: GPL-3.0-or-later
//
// Drives agl-ews-server with ews-javascript-api (a port of Microsoft's EWS
// Managed API) over NTLM, as a client nobody here wrote: a paged sync to
// completion, create, update, an update with a stale change key refused,
// OOF settings, a streaming notification, delete.  Needs the demo seed.
// Prints TAP (1..7) and exits non-zero on the first step that fails.
//
// `meson test ews-javascript-api` runs it (through run-smoke.py, which starts
// the server); the packages come from the README's test command.  By hand:
//
//   npm ci --prefix tests/ews-server/ewsjs --no-audit --no-fund
//   NODE_EXTRA_CA_CERTS=tests/ews-server/fixtures/ca.pem \
//     node tests/ews-server/ewsjs/ewsjs-smoke.js https://127.0.0.1:PORT/EWS/Exchange.asmx
'use strict';

const ews = require('ews-javascript-api');
const { XhrApi } = require('@ewsjs/xhr');

const url = process.argv[2];
const user = 'EXAMPLE\\alice';
const password = 'Agendaline-demo-1';
// Every step normally takes well under a second; a step that hangs fails.
const stepSeconds = 20;

if (!url) {
  console.log('Bail out! usage: node ewsjs-smoke.js https://127.0.0.1:PORT/EWS/Exchange.asmx');
  process.exit(2);
}

class Unexpected extends Error {}

function expect (condition, what) {
  if (!condition)
    throw new Unexpected(what);
}

function describe (e) {
  if (e instanceof Unexpected)
    return e.message;
  // ews-javascript-api's ServiceResponseException and friends.
  if (e && e.ErrorCode > 0 && ews.ServiceError[e.ErrorCode])
    return ews.ServiceError[e.ErrorCode] + ': ' + (e.Message || e.message || '');
  return String((e && (e.stack || e.message || e.Message)) || e);
}

// Runs one TAP test point; the first that fails ends the run (exit 1).
let number = 0;
async function step (name, body) {
  number++;
  let timer;
  const deadline = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no result within ' + stepSeconds + ' s')),
      stepSeconds * 1000);
  });
  try {
    await Promise.race([body(), deadline]);
  } catch (e) {
    console.log('not ok ' + number + ' - ' + name);
    for (const line of describe(e).split('\n'))
      console.log('# ' + line);
    process.exit(1);
  } finally {
    clearTimeout(timer);
  }
  console.log('ok ' + number + ' - ' + name);
}

async function main () {
  console.log('1..7');
  ews.ConfigurationApi.ConfigureXHR(new XhrApi({ rejectUnauthorized: true })
    .useNtlmAuthentication(user, password));
  const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2013);
  service.Credentials = new ews.WebCredentials(user, password);
  service.Url = new ews.Uri(url);
  const calendar = new ews.FolderId(ews.WellKnownFolderName.Calendar);

  await step('sync to completion: 7 items in 3 pages of 3', async () => {
    let state = null, more = true, items = 0, pages = 0;
    while (more && pages < 10) {
      const changes = await service.SyncFolderItems(calendar, ews.PropertySet.FirstClassProperties,
        null, 3, ews.SyncFolderItemsScope.NormalItems, state);
      items += changes.Count;
      state = changes.SyncState;
      more = changes.MoreChangesAvailable;
      pages++;
    }
    expect(items === 7 && pages === 3 && !more,
      'got ' + items + ' items in ' + pages + ' pages' + (more ? ', more available' : ''));
  });

  const appointment = new ews.Appointment(service);
  await step('create', async () => {
    appointment.Subject = 'From ews-javascript-api';
    appointment.Start = ews.DateTime.Now.AddHours(2);
    appointment.End = appointment.Start.AddHours(1);
    await appointment.Save(calendar, ews.SendInvitationsMode.SendToNone);
    expect(appointment.Id && appointment.Id.UniqueId.length > 40,
      'no ItemId came back: ' + (appointment.Id && appointment.Id.UniqueId));
  });

  let stale = null;
  await step('update', async () => {
    stale = await ews.Appointment.Bind(service, appointment.Id);
    appointment.Subject = 'Updated';
    await appointment.Update(ews.ConflictResolutionMode.AlwaysOverwrite,
      ews.SendInvitationsOrCancellationsMode.SendToNone);
    const fresh = await ews.Appointment.Bind(service, appointment.Id);
    expect(fresh.Subject === 'Updated', 'subject read back: ' + fresh.Subject);
    expect(fresh.Id.ChangeKey !== stale.Id.ChangeKey, 'the change key did not change');
  });

  await step('an update with a stale change key refused (ErrorIrresolvableConflict)', async () => {
    stale.Subject = 'Stale';
    let refused = 'no error';
    try {
      await stale.Update(ews.ConflictResolutionMode.NeverOverwrite,
        ews.SendInvitationsOrCancellationsMode.SendToNone);
    } catch (e) {
      refused = describe(e);
    }
    expect(refused.startsWith('ErrorIrresolvableConflict:'), 'got ' + refused);
  });

  await step('OOF settings read (Scheduled)', async () => {
    const oof = await service.GetUserOofSettings('alice@example.org');
    expect(ews.OofState[oof.State] === 'Scheduled', 'state ' + ews.OofState[oof.State]);
  });

  await step('streaming notification received', async () => {
    const subscription = await service.SubscribeToStreamingNotifications([calendar],
      ews.EventType.Created, ews.EventType.Modified, ews.EventType.Deleted);
    const connection = new ews.StreamingSubscriptionConnection(service, 1);
    connection.AddSubscription(subscription);
    const created = new Promise((resolve, reject) => {
      connection.OnNotificationEvent.push((sender, args) => {
        if (args.Events.some((e) => e.EventType === ews.EventType.Created))
          resolve();
      });
      connection.OnSubscriptionError.push((sender, args) => {
        reject(args.Exception || new Error('subscription error'));
      });
    });
    connection.Open();
    try {
      // Whether the stream is already open or not, Exchange queues the event
      // for the subscription and delivers it on the stream.
      const trigger = new ews.Appointment(service);
      trigger.Subject = 'Trigger';
      trigger.Start = ews.DateTime.Now.AddHours(5);
      trigger.End = trigger.Start.AddHours(1);
      await trigger.Save(calendar, ews.SendInvitationsMode.SendToNone);
      await created;
    } finally {
      if (connection.IsOpen)
        connection.Close();
    }
  });

  await step('delete', async () => {
    await appointment.Delete(ews.DeleteMode.MoveToDeletedItems, ews.SendCancellationsMode.SendToNone);
    let gone = 'no error';
    try {
      await ews.Appointment.Bind(service, appointment.Id);
    } catch (e) {
      gone = describe(e);
    }
    expect(gone.startsWith('ErrorItemNotFound:'), 'binding the deleted item: ' + gone);
  });
}

main().then(() => process.exit(0), (e) => {
  console.log('Bail out! ' + describe(e).split('\n')[0]);
  process.exit(1);
});
