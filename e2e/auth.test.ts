/**
 * The dashboard's auth and refusal views against a real broker with the
 * sample application (protocol 9): the Auth data field and the whole
 * authAck, Connect with token (forged, expired, another client's, and a
 * good one), and refusals of sub and of a QoS 0 pub shown by status name,
 * never as OK. Screenshots at 1280 and 390 px wide (set-up: dashboard-page.ts).
 *
 * Needs `npx ng build` first (`npm test` does it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { dashboard, SCREENSHOTS, SUFFIX, WAIT, setUp, type Setup } from './dashboard-page';

describe('dashboard auth data, tokens and refusals against a real broker', () => {
  let setup: Setup;
  let page: Page;
  const { panel, log, logLine, shot, publish, open } = dashboard(() => page);
  const authAck = (title: string) => panel(title).getByRole('region', { name: 'Last authAck' });
  /** The text of one fact (dt → dd) of the authAck view. */
  const fact = async (title: string, term: string) =>
    ((await authAck(title).locator('dl > div').filter({ has: page.locator('dt', { hasText: term }) }).locator('dd').textContent()) ?? '').trim();
  const countLines = (title: string, text: string) => log(title).getByText(`> ${text}`, { exact: true }).count();
  let carolToken = '';

  before(async () => {
    setup = await setUp({ width: 1280, height: 860 });
    page = setup.page;
  });

  after(async () => {
    await setup?.close();
  });

  it('Auth data defaults to {"client_name": …}; invalid JSON disables Connect; a refused auth shows its authAck', async () => {
    await open(setup.broker.ports.webSocket);
    const client = panel('Client 1');
    const auth = client.getByLabel('Auth data', { exact: true });
    assert.equal(await auth.inputValue(), '{"client_name": "webclient"}');
    await client.getByLabel('Client Name', { exact: true }).fill('carol');
    assert.equal(await auth.inputValue(), '{"client_name": "carol"}');

    await auth.fill('{"client_name": ');
    await client.getByText(/^Invalid JSON/).waitFor({ timeout: WAIT });
    assert.equal(await client.getByRole('button', { name: 'Connect', exact: true }).isDisabled(), true);
    assert.equal(await auth.getAttribute('aria-invalid'), 'true');
    await shot('auth-invalid-json-1280');

    // The sample application wants a client_name: 10, with its reason.
    await auth.fill('{"name": "carol"}');
    await client.getByRole('button', { name: 'Connect', exact: true }).click();
    await logLine('Client 1', "JMQT client authentication FAILED. Status INVALID_PACKET (10), Message auth data needs a non-empty 'client_name'");
    await authAck('Client 1').waitFor({ timeout: WAIT });
    assert.equal(await fact('Client 1', 'Status'), 'INVALID_PACKET (10)');
    assert.equal(await fact('Client 1', 'Message'), "auth data needs a non-empty 'client_name'");
    assert.equal(await fact('Client 1', 'Token'), '—');
  });

  it('connects with the auth data given and shows the whole authAck: status by name, client id, token', async () => {
    const client = panel('Client 1');
    await client.getByLabel('Auth data', { exact: true }).fill('{"client_name": "carol", "device": "e2e"}');
    await client.getByRole('button', { name: 'Connect', exact: true }).click();
    await client.getByText("Connected: Client ID - 'carol', Client Name - 'carol'").waitFor({ timeout: WAIT });
    assert.equal(await fact('Client 1', 'Status'), 'OK (1)');
    assert.equal(await fact('Client 1', 'Client ID'), 'carol');
    assert.equal(await fact('Client 1', 'Message'), '—');
    carolToken = await fact('Client 1', 'Token');
    assert.ok(setup.broker.tokens.verify(carolToken, 'carol'), `the broker's token for carol is shown (${carolToken})`);
    await logLine('Client 1', `authAck: Status OK (1), Client ID 'carol', Token '${carolToken}'`);
    await logLine('Client 1', 'JMQT client connect OK.');
    await shot('auth-connected-1280');
  });

  it('refusals of sub and of a QoS 0 pub show the status by name; a QoS 0 pub nobody refused is "sent", not OK', async () => {
    const client = panel('Client 1');
    await client.getByRole('button', { name: '+ New subscription' }).click();
    await client.getByLabel('Channel Name', { exact: true }).fill('update');
    await client.getByRole('button', { name: 'Subscribe', exact: true }).click();
    await logLine('Client 1', 'Subscribe to "update" FAILED. Status NOT_ALLOWED (7).');

    // update is the server's channel (protocol 9.2): the sample application refuses a pub there with 7.
    await client.getByLabel('QoS').selectOption('0');
    await publish('Client 1', 'update', 'I am the server now');
    await logLine('Client 1', 'Publish to "update" FAILED. Status NOT_ALLOWED (7).');
    assert.equal(await countLines('Client 1', 'Publish to "update" OK.'), 0, 'never logged as OK');
    assert.equal(await countLines('Client 1', 'Publish to "update" sent (QoS 0).'), 0, 'the sent line became the refusal');

    await publish('Client 1', 'news', 'hello');
    await logLine('Client 1', 'Publish to "news" sent (QoS 0).');
    await publish('Client 1', '#nobody', 'anyone?');
    await logLine('Client 1', 'Publish to "#nobody" FAILED. Status CLIENT_OFFLINE (8).');
    // Answers leave in order (protocol 5.7): by now a refusal of the news pub would have come.
    assert.equal(await countLines('Client 1', 'Publish to "news" sent (QoS 0).'), 1);
    assert.equal(await countLines('Client 1', 'Publish to "news" OK.'), 0);
    await shot('qos0-refused-1280');
  });

  it('Connect with token: forged, expired and another client\'s tokens are refused with 6 INVALID_TOKEN, by name', async () => {
    await page.getByRole('button', { name: '+ Client' }).click();
    await page.getByRole('tab', { name: 'Client 2' }).waitFor();
    const client = panel('Client 2');
    await client.getByText('Connect with a client ID and token').click();
    const clientId = client.getByLabel('Client ID', { exact: true });
    const token = client.getByLabel('Token', { exact: true });
    const connectWithToken = client.getByRole('button', { name: 'Connect with token', exact: true });
    const refusal = 'JMQT client connect FAILED. Status INVALID_TOKEN (6)';

    // Forged: carol's token body with dave's name, the old signature.
    const [, signature] = carolToken.split('.');
    await clientId.fill('dave');
    await token.fill(`${Buffer.from(`${Math.floor(Date.now() / 1000) + 3600}.dave`).toString('base64url')}.${signature}`);
    await connectWithToken.click();
    await logLine('Client 2', refusal);
    await client.getByText('connAck: Status INVALID_TOKEN (6)', { exact: true }).waitFor({ timeout: WAIT });
    await client.getByRole('status').filter({ hasText: 'Disconnected' }).waitFor({ timeout: WAIT });
    await shot('token-refused-1280');

    // Expired: signed by the broker for dave, two hours ago, valid for one.
    await token.fill(setup.broker.tokens.issue('dave', Date.now() - 2 * 3600_000));
    await connectWithToken.click();
    await log('Client 2').getByText(`> ${refusal}`, { exact: true }).nth(1).waitFor({ timeout: WAIT });

    // Another client's: carol's genuine token does not open dave's session.
    await token.fill(carolToken);
    await connectWithToken.click();
    await log('Client 2').getByText(`> ${refusal}`, { exact: true }).nth(2).waitFor({ timeout: WAIT });
    assert.equal(await countLines('Client 2', refusal), 3);
    assert.equal(await countLines('Client 2', 'JMQT client connect OK.'), 0);

    // A good one opens the session, no auth sent.
    await token.fill(setup.broker.tokens.issue('dave'));
    await connectWithToken.click();
    await client.getByText("Connected: Client ID - 'dave'", { exact: true }).waitFor({ timeout: WAIT });
    await logLine('Client 2', 'JMQT client connect OK.');
    assert.equal(await countLines('Client 2', 'Authenticating JMQT client..'), 0);
    await page.getByRole('tab', { name: 'Client 1' }).click();
    await logLine('Client 1', `Message on channel 'update' from 'server' : {"online":"dave"} (QOS 0, RETAIN 0)`);
    await page.getByRole('tab', { name: 'Client 2' }).click();
  });

  it('lays out at 390 px wide: the connect form, the token form and the authAck', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await panel('Client 2').getByRole('button', { name: 'Disconnect', exact: true }).click();
    const client = panel('Client 2');
    await client.getByRole('button', { name: 'Connect', exact: true }).waitFor({ timeout: WAIT });
    await client.getByLabel('Client Name', { exact: true }).fill('erin');
    await client.getByRole('button', { name: 'Connect', exact: true }).click();
    await client.getByText("Connected: Client ID - 'erin', Client Name - 'erin'").waitFor({ timeout: WAIT });
    await client.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await client.getByRole('button', { name: 'Connect', exact: true }).waitFor({ timeout: WAIT });
    await client.getByText('Connect with a client ID and token').click();
    assert.equal(await client.getByLabel('Client ID', { exact: true }).inputValue(), 'erin', 'prefilled from the last authAck');
    await client.getByLabel('Auth data', { exact: true }).fill('{"client_name": ');
    await client.getByText(/^Invalid JSON/).waitFor({ timeout: WAIT });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling at 390 px (${width})`);
    await page.screenshot({ path: `${SCREENSHOTS}/auth-disconnected-390${SUFFIX}`, fullPage: true });

    await page.getByRole('tab', { name: 'Client 1' }).click();
    await panel('Client 1').getByRole('region', { name: 'Last authAck' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SCREENSHOTS}/auth-connected-390${SUFFIX}`, fullPage: true });
    assert.deepEqual(setup.errors, [], 'no errors in the browser console');
  });
});
