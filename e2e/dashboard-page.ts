/**
 * Shared by the e2e tests: the built dashboard served by a real broker with
 * the sample application, headless Chromium, and the page's parts found by
 * their accessible names. Screenshots go to e2e/screenshots/ as
 * `<name>.tmp.png` (git-ignored), or as the committed `<name>.png` with
 * UPDATE_SCREENSHOTS=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { defaultConfig } from '../server/config';
import { startTestBroker, type TestBroker } from '../server/testing/harness';

export const DASHBOARD = fileURLToPath(new URL('../dist/client/browser', import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL('./screenshots', import.meta.url));
/** The broker guards /api with a bearer token when it knows ADMIN_TOKEN; the page must ask for it. */
export const ADMIN_TOKEN = 'e2e-admin-token';
export const guardsApi = 'ADMIN_TOKEN' in defaultConfig();
export const WAIT = 5000;
export const SUFFIX = process.env['UPDATE_SCREENSHOTS'] === '1' ? '.png' : '.tmp.png';

export type BrokerConfig = Parameters<typeof startTestBroker>[0];

export interface Setup {
  broker: TestBroker;
  brokerDir: string;
  brokerConfig: BrokerConfig;
  browser: Browser;
  page: Page;
  /** Page errors and console errors, except the expected ones. */
  errors: string[];
  close(): Promise<void>;
}

/** A broker serving the built dashboard, and a page in headless Chromium (1440 × 900 unless told). */
export async function setUp(viewport = { width: 1440, height: 900 }): Promise<Setup> {
  assert.ok(existsSync(`${DASHBOARD}/index.html`), `no built dashboard at ${DASHBOARD}: run npx ng build`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const brokerDir = mkdtempSync(join(tmpdir(), 'jmqt-e2e-'));
  const brokerConfig = { DASHBOARD_PATH: DASHBOARD, ...(guardsApi ? { ADMIN_TOKEN } : {}) } as BrokerConfig;
  const broker = await startTestBroker(brokerConfig, undefined, brokerDir);
  const browser = await chromium.launch({
    executablePath: process.env['CHROME_BIN'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport, colorScheme: 'light' });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // Chromium logs every failed request: the 401s before the token is entered and the
    // refused connections while the broker restarts are expected; anything else is not.
    if (message.type() === 'error' && !/status of 401|net::ERR_CONNECTION_REFUSED/.test(message.text())) errors.push(message.text());
  });
  const setup: Setup = {
    broker,
    brokerDir,
    brokerConfig,
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await setup.broker.destroy();
      rmSync(brokerDir, { recursive: true, force: true });
    },
  };
  return setup;
}

/** The page's parts by accessible name, and the steps every test takes. */
export function dashboard(page: () => Page) {
  /** A client panel: region in side-by-side layout, tabpanel otherwise, named by its tab title. */
  const panel = (title: string): Locator => page().locator(`jmqt-client-console[aria-label="${title}"]`);
  const log = (title: string): Locator => panel(title).getByRole('log', { name: 'Log' });
  /** Waits for an exact log line (the newest lines are rendered: the log follows). */
  const logLine = async (title: string, text: string) => {
    await log(title).getByText(`> ${text}`, { exact: true }).first().waitFor({ timeout: WAIT });
  };
  const brokerPanel = (): Locator => page().getByRole('region', { name: 'Broker', exact: true });
  const shot = (name: string) => page().screenshot({ path: `${SCREENSHOTS}/${name}${SUFFIX}` });

  async function connect(title: string, name: string): Promise<void> {
    const client = panel(title);
    await client.getByLabel('Client Name', { exact: true }).fill(name);
    await client.getByRole('button', { name: 'Connect', exact: true }).click();
    await client.getByText(`Connected: Client ID - '${name}', Client Name - '${name}'`).waitFor({ timeout: WAIT });
  }

  async function publish(title: string, channel: string, message: string): Promise<void> {
    const client = panel(title);
    await client.getByLabel('Channel name', { exact: true }).fill(channel);
    await client.getByLabel('Message', { exact: true }).fill(message);
    await client.getByRole('button', { name: 'Send', exact: true }).click();
  }

  /** Opens the page and, when the broker guards its API, gives the broker panel the admin token. */
  async function open(port: number): Promise<void> {
    await page().goto(`http://127.0.0.1:${port}/`);
    await page().getByRole('heading', { name: 'JMQT Dashboard' }).waitFor();
    if (!guardsApi) return;
    const token = brokerPanel().getByLabel('Admin token');
    await token.waitFor({ timeout: WAIT });
    await token.fill(ADMIN_TOKEN);
    await brokerPanel().getByRole('button', { name: 'Save' }).click();
  }

  return { panel, log, logLine, brokerPanel, shot, connect, publish, open };
}
