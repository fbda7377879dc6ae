import { expect } from 'vitest';
import type { HarnessWorld } from './world.ts';

/**
 * A signed-in client of the web admin on the stack as synthesized (tests/harness/admin*.test.ts):
 * requests to the press room's domain through the distribution's /admin/* behaviour, signing in
 * through the harness's Cognito, the CSRF token of a session, and what the publish function did
 * with the bucket's notifications.
 */

export type Answer = {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body?: string;
};

export function adminClient(world: () => HarnessWorld) {
  /** The press room's origin, as the template's output names it. */
  const site = () => world().outputs.PressRoomUrl?.replace(/\/$/, '') as string;

  /** A request to the press room's domain; the function's answer (it must not fail). */
  async function admin(
    path: string,
    request: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> {
    const delivery = await world().siteRequest(`${site()}${path}`, {
      method: request.method ?? 'GET',
      ...(request.headers && { headers: request.headers }),
      ...(request.body !== undefined && { body: request.body }),
    });
    if (!delivery.invocation.ok) throw new Error(delivery.invocation.error.errorMessage);
    return delivery.invocation.result as Answer;
  }

  /** A cookie's `name=value` from an answer's Set-Cookie values. */
  function cookieOf(answer: Answer, name: string): string {
    const found = (answer.cookies ?? []).find((c) => c.startsWith(`${name}=`));
    if (!found) throw new Error(`no ${name} cookie in ${JSON.stringify(answer.cookies)}`);
    return found.split(';')[0] as string;
  }

  /** Signs in as a person would: the sign-in, Cognito's page, the callback. The session cookie. */
  async function signIn(): Promise<string> {
    const start = await admin('/admin/sign-in');
    const back = new URL(world().cognito.signIn(start.headers?.location as string));
    const done = await admin(`${back.pathname}${back.search}`, {
      headers: { cookie: cookieOf(start, 'pressroom_admin_sign_in') },
    });
    // A page that goes on to the admin itself: the callback ends a navigation from Cognito's
    // site, and a browser sends no SameSite=Strict cookie on a redirect chained to it.
    expect(done.statusCode, done.body).toBe(200);
    expect(done.headers?.location).toBeUndefined();
    expect(done.body).toContain('<meta http-equiv="refresh" content="0; url=/admin/releases">');
    expect(done.cookies).toContainEqual(
      expect.stringMatching(
        /^pressroom_admin=.+; Path=\/admin; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/,
      ),
    );
    return cookieOf(done, 'pressroom_admin');
  }

  /** The CSRF token of a session, from a page's form. */
  async function csrfOf(session: string): Promise<string> {
    const page = await admin('/admin/releases', { headers: { cookie: session } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body ?? '')?.[1];
    if (!csrf) throw new Error(`no CSRF token in the page: ${page.statusCode}`);
    return csrf;
  }

  /** A session, its CSRF token, and the headers of a change through the API. */
  async function signedInForChanges() {
    const session = await signIn();
    const csrf = await csrfOf(session);
    const headers = {
      cookie: session,
      origin: site(),
      'content-type': 'application/json',
      'x-csrf-token': csrf,
    };
    return { session, csrf, headers };
  }

  /** A page's form posted as a browser does under a session: its CSRF token and fields. */
  function postForm(path: string, session: string, fields: Record<string, string>): Promise<Answer> {
    return admin(path, {
      method: 'POST',
      headers: { cookie: session, origin: site(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** The bucket's notifications delivered to the publish function: what it did with each object. */
  async function publishOutcomes(): Promise<unknown[]> {
    const deliveries = await world().deliverS3Notifications();
    return deliveries.flatMap((d) => {
      if (!d.invocation.ok) throw new Error(d.invocation.error.errorMessage);
      return d.invocation.result as unknown[];
    });
  }

  return { site, admin, cookieOf, signIn, csrfOf, signedInForChanges, postForm, publishOutcomes };
}
