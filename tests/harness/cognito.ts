import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { listenLocally } from '../support/listen.ts';
import { REGION, type TemplateValues } from './template.ts';

/**
 * A small Cognito of the template's user pool, on 127.0.0.1, for what the admin function asks
 * of it over HTTPS (not the SDK): the pool's keys (`/<pool id>/.well-known/jwks.json` on
 * `cognito-idp.<region>.amazonaws.com`) and the token endpoint of its sign-in domain
 * (`/oauth2/token` on `<prefix>.auth.<region>.amazoncognito.com`), which exchanges a code for
 * tokens as Cognito does: once, for the redirect_uri and the PKCE challenge of the authorize
 * request it was given for. The containers reach it through their fetch (lambda-runtime.mjs
 * sends these hosts here). Its RSA keys are made when it starts: a harness of its own per test file.
 *
 * `signIn` stands for a person at the sign-in page: it checks the authorize URL the function
 * sent the browser to against the template's app client (its id, callback URLs, flow) and
 * gives the redirect back with a code. `token` makes tokens for the tests to send as Bearer:
 * right, or signed by another key, expired, or for another client.
 */
export interface CognitoFake {
  endpoint: string;
  /** The hosts it answers for, each to its endpoint. */
  internet: Record<string, string>;
  userPoolId: string;
  clientId: string;
  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  domainUrl: string;
  issuer: string;
  signIn(authorizeUrl: string, user?: Partial<CognitoUser>): string;
  token(options?: TokenOptions): string;
  /** Requests it answered, by path (a test counts token exchanges). */
  requests: { host: string; path: string; status: number }[];
  close(): Promise<void>;
}

export interface CognitoUser {
  sub: string;
  email: string;
}

export interface TokenOptions {
  use?: 'id' | 'access';
  user?: Partial<CognitoUser>;
  /** Seconds from now to its expiry (negative: expired). */
  expiresIn?: number;
  clientId?: string;
  /** Signed by a key the pool does not publish. */
  forged?: boolean;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function signJwt(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const data = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64(payload)}`;
  return `${data}.${sign('sha256', Buffer.from(data), key).toString('base64url')}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCognitoFake(values: TemplateValues): Promise<CognitoFake | undefined> {
  const [poolId] = values.ofType('AWS::Cognito::UserPool');
  const [clientLogicalId] = values.ofType('AWS::Cognito::UserPoolClient');
  const [domainId] = values.ofType('AWS::Cognito::UserPoolDomain');
  if (!poolId || !clientLogicalId || !domainId) return undefined;
  const userPoolId = values.ref(poolId);
  const clientId = values.ref(clientLogicalId);
  const client = values.resolve(values.resource(clientLogicalId).Properties) as {
    CallbackURLs: string[];
    AllowedOAuthFlows: string[];
    GenerateSecret?: boolean;
    AllowedOAuthScopes: string[];
  };
  const domainHost = `${values.ref(domainId)}.auth.${REGION}.amazoncognito.com`;
  const idpHost = `cognito-idp.${REGION}.amazonaws.com`;
  const issuer = `https://${idpHost}/${userPoolId}`;
  const kid = randomBytes(8).toString('hex');
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const codes = new Map<
    string,
    { redirectUri: string; challenge: string; user: CognitoUser; scope: string }
  >();
  const requests: CognitoFake['requests'] = [];
  const defaultUser: CognitoUser = { sub: randomUUID(), email: 'attachee.presse@villes-internet.net' };

  const token = (options: TokenOptions = {}): string => {
    const now = Math.floor(Date.now() / 1000);
    const user = { ...defaultUser, ...options.user };
    const use = options.use ?? 'id';
    const common = {
      sub: user.sub,
      iss: issuer,
      token_use: use,
      auth_time: now,
      iat: now,
      exp: now + (options.expiresIn ?? 3600),
      jti: randomUUID(),
      origin_jti: randomUUID(),
    };
    const payload =
      use === 'id'
        ? {
            ...common,
            aud: options.clientId ?? clientId,
            email: user.email,
            email_verified: true,
            'cognito:username': user.sub,
          }
        : { ...common, client_id: options.clientId ?? clientId, scope: 'openid email', username: user.sub };
    return options.forged ? signJwt(payload, other.privateKey, kid) : signJwt(payload, keys.privateKey, kid);
  };

  const server = createServer(async (req, res) => {
    const host = String(req.headers['x-harness-host'] ?? req.headers.host);
    const url = new URL(req.url ?? '/', `https://${host}`);
    const answer = (status: number, body: unknown) => {
      requests.push({ host, path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (host === idpHost && req.method === 'GET' && url.pathname === `/${userPoolId}/.well-known/jwks.json`) {
      const jwk = keys.publicKey.export({ format: 'jwk' });
      return answer(200, { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
    }
    if (host === domainHost && req.method === 'POST' && url.pathname === '/oauth2/token') {
      const form = new URLSearchParams(await bodyOf(req));
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (form.get('grant_type') !== 'authorization_code')
        return answer(400, { error: 'unsupported_grant_type' });
      if (form.get('client_id') !== clientId) return answer(400, { error: 'invalid_client' });
      if (!code || code.redirectUri !== form.get('redirect_uri'))
        return answer(400, { error: 'invalid_grant' });
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge)
        return answer(400, { error: 'invalid_grant' });
      return answer(200, {
        id_token: token({ use: 'id', user: code.user }),
        access_token: token({ use: 'access', user: code.user }),
        refresh_token: randomBytes(32).toString('base64url'),
        expires_in: 3600,
        token_type: 'Bearer',
      });
    }
    return answer(404, {
      error: `the harness's Cognito does not answer ${req.method} ${host}${url.pathname}`,
    });
  });
  const listening = await listenLocally(server);

  return {
    endpoint: listening.endpoint,
    internet: { [domainHost]: listening.endpoint, [idpHost]: listening.endpoint },
    userPoolId,
    clientId,
    domainUrl: `https://${domainHost}`,
    issuer,
    requests,
    token,
    signIn(authorizeUrl, user = {}) {
      const url = new URL(authorizeUrl);
      const q = (name: string) => url.searchParams.get(name) ?? '';
      const refuse = (why: string) => {
        throw new Error(`Cognito's sign-in page refuses ${authorizeUrl}: ${why}`);
      };
      if (url.origin !== `https://${domainHost}` || url.pathname !== '/oauth2/authorize')
        refuse(`it is not the authorize endpoint of ${domainHost}`);
      if (q('client_id') !== clientId) refuse('unknown client_id');
      if (q('response_type') !== 'code' || !client.AllowedOAuthFlows.includes('code'))
        refuse('the client does not allow the code flow');
      if (!client.CallbackURLs.includes(q('redirect_uri')))
        refuse(`redirect_uri is not a callback URL of the client`);
      if (q('code_challenge_method') !== 'S256' || !q('code_challenge')) refuse('no S256 PKCE challenge');
      const scopes = q('scope').split(' ');
      if (!scopes.every((s) => client.AllowedOAuthScopes.includes(s)))
        refuse(`scope ${q('scope')} not allowed`);
      const code = randomUUID();
      codes.set(code, {
        redirectUri: q('redirect_uri'),
        challenge: q('code_challenge'),
        user: { ...defaultUser, ...user },
        scope: q('scope'),
      });
      const back = new URL(q('redirect_uri'));
      back.search = new URLSearchParams({ code, state: q('state') }).toString();
      return back.toString();
    },
    close: () => listening.close(),
  };
}
