/**
 * The built dashboard (dist/client/browser, served by the broker at `/`) in
 * headless Chromium against a real broker with the sample application: two
 * client tabs, one publishing and one subscribing, driven through the page's
 * accessible names (set-up and helpers: dashboard-page.ts). Saves screenshots
 * of the main states in e2e/screenshots/: `<name>.tmp.png` (git-ignored) on
 * every run, the committed `<name>.png` with UPDATE_SCREENSHOTS=1.
 *
 * Needs `npx ng build` first (`npm test` does it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { startTestBroker, type TestBroker } from '../server/testing/harness';
import { ADMIN_TOKEN, dashboard, guardsApi, SCREENSHOTS, SUFFIX, WAIT, setUp, type BrokerConfig, type Setup } from './dashboard-page';

describe('dashboard against a real broker', () => {
  let setup: Setup;
  let broker: TestBroker;
  let brokerDir: string;
  let brokerConfig: BrokerConfig;
  let page: Page;
  let errors: string[] = [];
  const { panel, log, logLine, brokerPanel, shot, connect, publish } = dashboard(() => page);

  async function subscribe(title: string, channel: string, persistent: boolean): Promise<void> {
    const client = panel(title);
    await client.getByRole('button', { name: '+ New subscription' }).click();
    await client.getByLabel('Channel Name', { exact: true }).fill(channel);
    await client.getByLabel('Persistent').setChecked(persistent);
    await client.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await logLine(title, `Subscribe to "${channel}" OK.`);
    await chip(title, channel, persistent ? 'persistent' : 'temp').waitFor({ timeout: WAIT });
  }

  const chip = (title: string, channel: string, kind: 'persistent' | 'temp'): Locator =>
    panel(title).getByRole('listitem').filter({ hasText: `${channel} (${kind})` });

  before(async () => {
    setup = await setUp();
    ({ broker, brokerDir, brokerConfig, page, errors } = setup);
  });

  after(async () => {
    if (!setup) return;
    setup.broker = broker; // the last test restarts it
    await setup.close();
  });

  it('loads from the broker and asks for the admin token when the API answers 401', async () => {
    await page.goto(`http://127.0.0.1:${broker.ports.webSocket}/`);
    await page.getByRole('heading', { name: 'JMQT Dashboard' }).waitFor();
    assert.equal(await page.getByLabel('Broker address').inputValue(), `127.0.0.1:${broker.ports.webSocket}`);
    const broker$ = brokerPanel();
    if (guardsApi) {
      const token = broker$.getByLabel('Admin token');
      await token.waitFor({ timeout: WAIT });
      await token.fill(ADMIN_TOKEN);
      await broker$.getByRole('button', { name: 'Save' }).click();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('jmqt.adminToken')), ADMIN_TOKEN);
    }
    await broker$.getByText('Sessions', { exact: true }).waitFor({ timeout: WAIT });
  });

  it('connects a client (auth, conn) and lists its subscriptions from $mySubscriptions', async () => {
    await connect('Client 1', 'alice');
    await logLine('Client 1', 'JMQT client connect OK.');
    await chip('Client 1', '#alice', 'persistent').waitFor();
    await chip('Client 1', 'update', 'persistent').waitFor();
    await panel('Client 1').getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    // The broker panel (refreshed every 2 s) lists the new session with its transport.
    const alice = brokerPanel().getByRole('list', { name: 'Connected clients' }).getByRole('listitem').filter({ hasText: 'alice' });
    await alice.getByText('WS', { exact: true }).waitFor({ timeout: WAIT });
    await shot('connected');
  });

  it('a second tab is an independent connection; both show side by side', async () => {
    await page.getByRole('button', { name: '+ Client' }).click();
    await page.getByRole('tab', { name: 'Client 2' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Client 2' }).getAttribute('aria-selected'), 'true');
    await connect('Client 2', 'bob');
    await page.getByLabel('Side by side').check();
    await panel('Client 1').waitFor();
    await logLine('Client 1', `Message on channel 'update' from 'server' : {"online":"bob"} (QOS 0, RETAIN 0)`);
  });

  it('subscribes persistently and receives a QoS 1 message published with retain', async () => {
    await subscribe('Client 2', 'news', true);
    await publish('Client 1', 'news', 'hello bob');
    await logLine('Client 1', 'Publish to "news" OK.');
    await logLine('Client 2', "Message on channel 'news' from 'alice' : hello bob (QOS 1, RETAIN 0)");
  });

  it('sends P2P to #bob, as text and as validated JSON, and shows a $control answer', async () => {
    await publish('Client 1', '#bob', 'psst');
    await logLine('Client 2', "Message on channel '#bob' from 'alice' : psst (QOS 1, RETAIN 0)");

    const alice = panel('Client 1');
    await alice.getByLabel('JSON', { exact: true }).check();
    await alice.getByLabel('Message', { exact: true }).fill('{"temp": 21.5, ');
    await alice.getByText(/^Invalid JSON/).waitFor();
    await alice.getByLabel('Message', { exact: true }).fill('{"temp": 21.5, "unit": "C"}');
    await alice.getByRole('button', { name: 'Send', exact: true }).click();
    await logLine('Client 2', `Message on channel '#bob' from 'alice' : {"temp":21.5,"unit":"C"} (QOS 1, RETAIN 0)`);
    await alice.getByLabel('JSON', { exact: true }).uncheck();

    await publish('Client 1', '#nobody', 'hello?');
    await logLine('Client 1', 'Publish to "#nobody" FAILED. Status CLIENT_OFFLINE (8).');

    await publish('Client 1', '$mySubscriptions', '{}');
    await log('Client 1').getByText(/^> Publish to "\$mySubscriptions" OK\. Response: \{"channels":\{.*"#alice":"persistent".*\}\}$/).waitFor({ timeout: WAIT });
  });

  it('gets the retained message when subscribing, and unsubscribes with the chip x', async () => {
    await publish('Client 1', 'weather', 'sunny');
    await logLine('Client 1', 'Publish to "weather" OK.');
    await subscribe('Client 2', 'weather', false);
    await logLine('Client 2', "Message on channel 'weather' from 'alice' : sunny (QOS 0, RETAIN 1)");

    // The detail pane pretty-prints the selected message.
    await log('Client 2').getByText(`> Message on channel '#bob' from 'alice' : {"temp":21.5,"unit":"C"} (QOS 1, RETAIN 0)`).click();
    await panel('Client 2').getByRole('complementary', { name: 'Message detail' }).getByText('"unit": "C"').waitFor();
    await page.getByLabel('Side by side').uncheck();
    await page.getByRole('tab', { name: 'Client 2' }).click();
    await shot('subscribed-with-messages');
    await page.getByLabel('Side by side').check();
    await panel('Client 2').getByRole('button', { name: 'Close' }).click();

    await chip('Client 2', 'weather', 'temp').getByRole('button', { name: 'x' }).click();
    await logLine('Client 2', 'Unsubscribe from "weather" OK.');
    await chip('Client 2', 'weather', 'temp').waitFor({ state: 'detached', timeout: WAIT });
    await shot('two-tabs');
  });

  it('disconnecting one client shows offline on update in the other', async () => {
    await panel('Client 2').getByRole('button', { name: 'Disconnect', exact: true }).click();
    await logLine('Client 2', 'JMQT client disconnected.');
    await panel('Client 2').getByRole('button', { name: 'Connect', exact: true }).waitFor();
    await logLine('Client 1', `Message on channel 'update' from 'server' : {"offline":"bob"} (QOS 0, RETAIN 0)`);
  });

  it('QoS 1 messages queued while a client was away arrive after it reconnects; the broker panel shows the queue', async () => {
    const alice = panel('Client 1');
    await alice.getByLabel('Retain', { exact: true }).uncheck();
    await publish('Client 1', 'news', 'while you were away');
    await logLine('Client 1', 'Publish to "news" OK.');
    const aside = brokerPanel();
    await aside.getByRole('list', { name: 'Connected clients' }).getByText('alice', { exact: true }).waitFor({ timeout: WAIT });
    await aside.getByText('Offline queues').waitFor({ timeout: WAIT });
    await aside.getByRole('listitem').filter({ hasText: 'bob' }).getByText('1 queued').waitFor({ timeout: WAIT });
    await aside.getByRole('list', { name: 'Retained messages' }).getByText('weather').waitFor({ timeout: WAIT });
    await aside.screenshot({ path: `${SCREENSHOTS}/broker-panel${SUFFIX}` });

    await connect('Client 2', 'bob');
    await logLine('Client 2', "Message on channel 'news' from 'alice' : while you were away (QOS 1, RETAIN 0)");
    await chip('Client 2', 'news', 'persistent').waitFor();
    await aside.getByRole('list', { name: 'Connected clients' }).getByText('bob', { exact: true }).waitFor({ timeout: WAIT });
    for (let i = 0; i < 50 && (await broker.queuedFor('bob')) > 0; i++) await page.waitForTimeout(20);
    assert.equal(await broker.queuedFor('bob'), 0, 'the dashboard acknowledged the QoS 1 push');
  });

  it('the log keeps its bounds and its DOM small under a burst, and pauses', async () => {
    const burst = 6000;
    const bob = panel('Client 2');
    await bob.getByRole('button', { name: 'Pause' }).click();
    await Promise.all(Array.from({ length: burst }, (_, i) => broker.broker.forcePublish('news', { i }, { qos: 0 })));
    await bob.getByText(/new lines waiting/).waitFor();
    await page.waitForFunction(() => document.querySelector('jmqt-client-console[aria-label="Client 2"] .paused-note')?.textContent?.includes('6000 new lines'), null, { timeout: 10_000 });
    await bob.getByRole('button', { name: 'Resume' }).click();
    await logLine('Client 2', `Message on channel 'news' from 'server' : {"i":${burst - 1}} (QOS 0, RETAIN 0)`);
    assert.match((await bob.locator('.count').textContent()) ?? '', /^\s*5000 lines · \d+ older dropped\s*$/);
    const rendered = await bob.locator('.line').count();
    assert.ok(rendered < 80, `only the visible rows are in the DOM (${rendered})`);
    assert.deepEqual(errors, [], 'no errors in the browser console');
  });

  it('both tabs reconnect by themselves when the broker restarts, and reload their subscriptions', async () => {
    await subscribe('Client 1', 'scratch', false);
    const ports = { SOCKET_PORT: broker.ports.socket, WEBSOCKET_PORT: broker.ports.webSocket };
    await broker.close();
    for (const title of ['Client 1', 'Client 2']) {
      await panel(title).getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor({ timeout: WAIT });
    }
    await brokerPanel().getByText(/Broker API unreachable/).waitFor({ timeout: WAIT });
    broker = await startTestBroker({ ...brokerConfig, ...ports }, undefined, brokerDir);
    for (const title of ['Client 1', 'Client 2']) {
      await logLine(title, 'JMQT client reconnected.');
      await panel(title).getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: WAIT });
    }
    // The SDK renewed the temporary subscription; the chips come from $mySubscriptions again.
    await chip('Client 1', 'scratch', 'temp').waitFor({ timeout: WAIT });
    await chip('Client 2', 'news', 'persistent').waitFor({ timeout: WAIT });
    await brokerPanel().getByRole('list', { name: 'Connected clients' }).getByText('alice', { exact: true }).waitFor({ timeout: WAIT });
    assert.deepEqual(errors, [], 'no errors in the browser console');
  });
});
