/**
 * What the web admin's tests share: a copy of the examples workspace served by `pressroom
 * serve` (a child process on 127.0.0.1) with the admin token, commands run there before it
 * starts, a signed-in session through the sign-in form (as a browser gets one), and, in a
 * browser, a context that reaches the server only, with axe served as a script of the admin's
 * own origin (its policy allows `script-src 'self'` only and nothing inline: no bypass).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { expect } from 'vitest';
import { axeSource } from './axe.ts';
import { launchChromium, requireChromium, screenshotsDir } from './browser.ts';
import { exampleWorkspace, expectExit, type Run, runPressroom } from './cli.ts';
import { outboxEnv, type Reply, rawRequest, type Server, startServer, stopServer } from './serve.ts';

/** The address the examples' links name; `pressroom serve` answers them on this machine. */
export const adminPublicUrl = 'http://localhost:3000';

/** Where admin pages load axe from in a browser test: answered by the test, never by the server. */
export const axeUnderTest = '/admin/assets/axe-under-test.js';

/** An admin test's workspace and server. */
export interface AdminSettings {
  /** The temporary folder's prefix, `pressroom-admin-…-`. */
  prefix: string;
  secret: string;
  /** PRESSROOM_ADMIN_TOKEN; without, serve makes one and prints it ({@link AdminUnderTest.token}). */
  token?: string;
  /** More variables of the runs and the server (PRESSROOM_TIME_ZONE, …). */
  env?: NodeJS.ProcessEnv;
}

/**
 * The examples copied into a temporary folder (`work`, the workspace its `examples/`), served by
 * `pressroom serve`, and, when a test asks, a browser. Made by the test file; `serve()` in
 * beforeAll, `stop()` in afterAll stops what started and removes the folder.
 */
export class AdminUnderTest {
  work = '';
  workspace = '';
  server: Server | undefined;
  browser: Browser | undefined;
  context: BrowserContext | undefined;
  /** The admin token: the one given, or the one serve printed. */
  token: string;
  /** What the browser's pages wrote to the console (errors and warnings) and their errors. */
  readonly problems: string[] = [];

  constructor(private readonly settings: AdminSettings) {
    this.token = settings.token ?? '';
  }

  /** The environment of a local run on the workspace: its store, the outbox, the admin token. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...outboxEnv({
        data: path.join(this.workspace, '.pressroom'),
        secret: this.settings.secret,
        publicUrl: adminPublicUrl,
      }),
      ...(this.settings.token !== undefined && { PRESSROOM_ADMIN_TOKEN: this.settings.token }),
      ...this.settings.env,
      ...extra,
    };
  }

  /** The server's origin, `http://127.0.0.1:<port>`. */
  get origin(): string {
    if (!this.server) throw new Error('the server did not start: see the error of beforeAll');
    return this.server.url.origin;
  }

  /** Copies the examples (nothing served yet); the test may then prepare the workspace. */
  async copy(): Promise<string> {
    this.work = await exampleWorkspace(this.settings.prefix);
    this.workspace = path.join(this.work, 'examples');
    return this.workspace;
  }

  /** `pressroom …args` in the workspace, which must exit 0. */
  async pressroom(...args: string[]): Promise<Run> {
    const run = await runPressroom(args, { cwd: this.workspace, env: this.env() });
    expectExit(run, 0);
    return run;
  }

  /** Publishes example releases (`examples/publications/…` files) without their PDFs. */
  async publish(...files: string[]): Promise<void> {
    for (const file of files) await this.pressroom('publish', file.replace(/^examples\//, ''), '--no-pdf');
  }

  /** Imports the example journalists (contacts/journalistes.csv) into the press list, `presse`. */
  async importPressList(): Promise<void> {
    await this.pressroom('contacts', 'import', 'contacts/journalistes.csv', '--list', 'presse');
  }

  /** The audience of the example campaign (campaigns/etude-2021-presse.yaml) as `send --dry-run` counts it. */
  async exampleCampaignAudience(): Promise<number> {
    const dry = await this.pressroom('send', 'campaigns/etude-2021-presse.yaml', '--dry-run', '--json');
    return (JSON.parse(dry.stdout) as { audience: number }).audience;
  }

  /**
   * Starts `pressroom serve` in the workspace (copied first unless it was); without a token
   * given, waits for the line that prints the one it made.
   */
  async serve(): Promise<Server> {
    if (!this.work) await this.copy();
    this.server = await startServer([], { cwd: this.workspace, env: this.env() });
    if (this.settings.token === undefined) {
      // The admin's line comes after the address the server is waited for by.
      const printed = /admin: \S+ with the token (\S+) \(made for this run/;
      for (let waited = 0; !printed.test(this.server.stdout()) && waited < 10_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      this.token = printed.exec(this.server.stdout())?.[1] ?? '';
    }
    return this.server;
  }

  /** A request to the server, its path sent exactly as written. */
  request(rawPath: string, options: Parameters<typeof rawRequest>[2] = {}): Promise<Reply> {
    if (!this.server) throw new Error('the server did not start: see the error of beforeAll');
    return rawRequest(this.server.url, rawPath, options);
  }

  /** Signs in through the form ({@link adminSession}) with the token: the session's cookie pair. */
  session(): Promise<string> {
    if (!this.server) throw new Error('the server did not start: see the error of beforeAll');
    return adminSession(this.server.url, this.token);
  }

  /**
   * Launches the browser (failing loudly when there is none) with a context in `locale` that
   * reaches the server only and gets axe there; makes the screenshots' folder.
   */
  async openBrowser(locale = 'fr-FR'): Promise<BrowserContext> {
    await requireChromium();
    const axe = await axeSource();
    const origin = this.origin;
    this.browser = await launchChromium();
    const context = await this.browser.newContext({ locale });
    this.context = context;
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url === origin + axeUnderTest)
        return route.fulfill({ status: 200, contentType: 'text/javascript', body: axe });
      if (url.startsWith(origin)) return route.continue();
      return route.abort('blockedbyclient');
    });
    await mkdir(screenshotsDir, { recursive: true });
    return context;
  }

  /** A new page of the context, `width` × 900, whose console errors and warnings go to `problems`. */
  async newPage(width: number): Promise<Page> {
    if (!this.context) throw new Error('the browser did not start: see the error of beforeAll');
    const page = await this.context.newPage();
    await page.setViewportSize({ width, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.problems.push(`${page.url()}: ${e.message}`));
    return page;
  }

  /** Starts the server, then the browser with a context in `locale` ({@link openBrowser}). */
  async serveToBrowser(locale = 'fr-FR'): Promise<void> {
    await this.serve();
    await this.openBrowser(locale);
  }

  /** axe's violations on a page of this server ({@link adminViolations}). */
  violations(page: Page, options: { frames?: boolean } = {}): Promise<string[]> {
    return adminViolations(page, this.origin, options);
  }

  /** Closes the browser, stops the server, removes the folder: what started, nothing else. */
  async stop(): Promise<void> {
    await this.browser?.close();
    await stopServer(this.server, 'SIGTERM');
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }
}

/**
 * The session's cookie pair (`pressroom_admin=…`) after signing in through the form with
 * `token`; fails unless the form is there and the sign-in leads to the releases.
 */
export async function adminSession(origin: URL, token: string): Promise<string> {
  const cookiesOf = (reply: Reply) => (reply.headers['set-cookie'] ?? []).map((c) => c.split(';')[0] ?? '');
  const form = await rawRequest(origin, '/admin/sign-in');
  if (form.status !== 200) throw new Error(`the sign-in form answered ${form.status}: ${form.body}`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
  const signedIn = await rawRequest(origin, '/admin/sign-in', {
    method: 'POST',
    headers: {
      cookie: cookiesOf(form)[0] ?? '',
      'content-type': 'application/x-www-form-urlencoded',
      origin: origin.origin,
    },
    body: new URLSearchParams({ csrf, token }).toString(),
  });
  const session = cookiesOf(signedIn).find((c) => c.startsWith('pressroom_admin='));
  if (signedIn.status !== 303 || signedIn.headers.location !== '/admin/releases' || !session)
    throw new Error(
      `signing in failed: ${signedIn.status} to ${signedIn.headers.location} ${JSON.stringify(signedIn.headers['set-cookie'])} ${signedIn.body}`,
    );
  return session;
}

/**
 * axe's violations on an admin page of `origin`, one line each: every rule it runs by default,
 * every impact. Not into the page's frames unless `frames`: the previews are sandboxed (axe
 * cannot talk to them), and the email has its own axe test (email-a11y-browser.test.ts).
 */
export async function adminViolations(
  page: Page,
  origin: string,
  options: { frames?: boolean } = {},
): Promise<string[]> {
  await page.addScriptTag({ url: origin + axeUnderTest });
  const result = await page.evaluate<{
    violations: { id: string; help: string; nodes: { target: string[] }[] }[];
  }>(`axe.run(document, { iframes: ${options.frames === true}, resultTypes: ['violations'] })`);
  return result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
}

/** How far the page reaches past the window's width, in pixels (0: nothing overflows). */
export const overflow = (page: Page): Promise<number> =>
  page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');

/** The id of the element that has the focus. */
export const focusedId = (page: Page): Promise<string | undefined> =>
  page.evaluate<string | undefined>('document.activeElement?.id');

/**
 * The id of what has the focus once the page's `autofocus` was applied: the browser applies it
 * at its next rendering after the load, not at the load itself. Waits up to `ms` for `id`, then
 * answers what has the focus (the caller's assertion says what it was).
 */
export async function autofocusedId(page: Page, id: string, ms = 5_000): Promise<string | undefined> {
  await page
    .waitForFunction(`document.activeElement?.id === ${JSON.stringify(id)}`, undefined, { timeout: ms })
    .catch(() => {});
  return focusedId(page);
}

/**
 * The email in the phone frame (`#email-phone`) of a release's or an issue's page, scrolled
 * into view and loaded; the window it draws in is 375 px wide.
 */
export async function phoneFrame(page: Page): Promise<Frame> {
  const phone = page.locator('#email-phone');
  await phone.scrollIntoViewIfNeeded();
  const frame = await (await phone.elementHandle())?.contentFrame();
  if (!frame) throw new Error('the phone frame has no document');
  await frame.waitForLoadState('load');
  return frame;
}

/** The email in the phone frame fits it: the frame is 375 px wide, and nothing reaches past it. */
export async function expectFitsPhone(frame: Frame): Promise<void> {
  expect(await frame.evaluate<number>('window.innerWidth')).toBe(375);
  expect(await frame.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
}

/** Presses Tab until the element `id` has the focus; fails after `max` presses, naming where the focus is. */
export async function tabTo(page: Page, id: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focusedId(page)) === id) return;
    await page.keyboard.press('Tab');
  }
  if ((await focusedId(page)) !== id)
    throw new Error(`Tab never reached #${id} (focus on #${await focusedId(page)})`);
}

/** The query of a page's language switch (`/admin/language?lang=…&back=…`), as a browser follows it. */
export function languageSwitch(body: string): Record<string, string> {
  const href = /<a href="(\/admin\/language\?[^"]*)"/.exec(body)?.[1];
  if (href === undefined) throw new Error('the page has no language switch');
  return Object.fromEntries(new URL(href.replaceAll('&amp;', '&'), 'http://admin.test').searchParams);
}
