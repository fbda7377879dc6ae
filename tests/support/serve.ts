/**
 * `pressroom serve` as a child process on 127.0.0.1, stopped by the test that starts it, and
 * HTTP requests to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type IncomingHttpHeaders, request } from 'node:http';
import { pressroomBin } from './cli.ts';

/** The environment of a local run on the data folder `data`, its links naming `publicUrl`, mail to the outbox. */
export function outboxEnv(settings: { data: string; secret: string; publicUrl: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PRESSROOM_DATA_DIR: settings.data,
    PRESSROOM_SECRET: settings.secret,
    PRESSROOM_PUBLIC_URL: settings.publicUrl,
    PRESSROOM_SITE_URL: `${settings.publicUrl}/`,
    PRESSROOM_MAILER: 'outbox',
  };
}

/** `pressroom serve` running as a child process on 127.0.0.1. */
export interface Server {
  process: ChildProcess;
  /** The URL it printed, e.g. `http://127.0.0.1:41234/`. */
  url: URL;
  /** What it printed on stdout so far. */
  stdout: () => string;
  /** What it printed on stdout and stderr so far, in the order it came. */
  output: () => string;
}

/**
 * Starts `pressroom serve --port 0 --host 127.0.0.1 ...args` and waits for the URL it prints;
 * fails with everything it printed when it exits first or prints no URL within 30 s.
 */
export async function startServer(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<Server> {
  const child = spawn(
    process.execPath,
    [pressroomBin, 'serve', '--port', '0', '--host', '127.0.0.1', ...args],
    {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output}`));
    });
  });
  return { process: child, url: new URL(url), stdout: () => stdout, output: () => output };
}

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Sends `signal` to the server (when it still runs) and resolves with how it ended. When it
 * has not ended within `ms`, kills it (SIGKILL) and fails. Nothing to do when it never started.
 */
export async function stopServer(
  server: Server | undefined,
  signal: NodeJS.Signals,
  ms = 10_000,
): Promise<Exit | undefined> {
  const child = server?.process;
  if (!child) return undefined;
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, sig) => resolve({ code, signal: sig })),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  child.kill(signal);
  const first = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  child.kill('SIGKILL');
  await exited;
  throw new Error(`serve did not stop within ${ms / 1000} s of ${signal}`);
}

/** What a server answered. */
export interface Reply {
  status: number;
  /** The Content-Type header ('' without one). */
  type: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTP request to `origin` with `rawPath` sent exactly as written (fetch would normalise
 * `..` and escapes away); a body gets its Content-Length.
 */
export function rawRequest(
  origin: URL,
  rawPath: string,
  /** The body: text, or bytes (a file in another encoding). */
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { method = 'GET', body, headers } = options;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: origin.hostname,
        port: origin.port,
        method,
        path: rawPath,
        headers: {
          ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A request to the local server for the path of `link` (a path, or a URL under `publicUrl`),
 * sent with the Host header the link names (what a proxy in front of the server passes on).
 * With `raw`, the path goes exactly as the link writes it (a token must arrive untouched);
 * without, as the URL parser normalises it.
 */
export function requestLink(
  server: Server | undefined,
  link: string,
  publicUrl: string,
  options: { method?: string; body?: string; headers?: Record<string, string>; raw?: boolean } = {},
): Promise<Reply> {
  if (!server) throw new Error('the server did not start: see the error of beforeAll');
  const target = new URL(link, publicUrl);
  const rawPath = link.startsWith('/') ? link : link.slice(target.origin.length);
  return rawRequest(server.url, options.raw ? rawPath : target.pathname + target.search, {
    method: options.method,
    body: options.body,
    headers: { host: target.host, ...options.headers },
  });
}
