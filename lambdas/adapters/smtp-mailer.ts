import type { ConnectionOptions } from 'node:tls';
import nodemailer, { type Transporter } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import {
  type Mailer,
  type OutgoingMessage,
  PermanentSendError,
  SendingHaltedError,
  type SendResult,
  ThrottledError,
} from '../core/campaigns/mailer.ts';
import { redactEmailAddresses } from '../core/redact.ts';

/**
 * Sending through an SMTP server, for users without AWS: any provider (host, port, TLS,
 * authentication; DKIM is the provider's). 4xx replies are temporary (421 and 450-452 mean
 * "slow down"), 5xx replies to a recipient are refusals of that address. What stops every
 * message (the server unreachable, TLS or authentication failing, a quota used up) is
 * SendingHaltedError: the campaign pauses, naming the server and the fix, and nobody is
 * counted as failed.
 */
export interface SmtpMailerOptions {
  /** smtp://user:pass@host:587 or smtps://host:465 (nodemailer's URL form), instead of host... */
  url?: string;
  host?: string;
  /** Default 465 with `secure`, 587 otherwise. */
  port?: number;
  /** TLS from the first byte (port 465). */
  secure?: boolean;
  /** Plain connection upgraded with STARTTLS, refusing a server that does not offer it. */
  requireTls?: boolean;
  user?: string;
  password?: string;
  /** Connections kept open at once. */
  pool?: number;
  /** TLS settings (a private CA, the name the certificate was issued for). */
  tls?: ConnectionOptions;
  /** How long to wait for the connection and the greeting. Default 30 s. */
  timeoutMs?: number;
}

/** The server as people are shown it: `host:port`, never the password in a URL. */
export function smtpServer(options: SmtpMailerOptions): string {
  if (options.url) {
    const url = new URL(options.url);
    return `${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`;
  }
  return `${options.host ?? 'localhost'}:${options.port ?? (options.secure ? 465 : 587)}`;
}

/** nodemailer's connection options for these settings. */
function connectionOptions(options: SmtpMailerOptions) {
  const timeouts = {
    connectionTimeout: options.timeoutMs ?? 30_000,
    greetingTimeout: options.timeoutMs ?? 30_000,
  };
  if (options.url) return { url: options.url, ...timeouts, ...(options.tls && { tls: options.tls }) };
  return {
    host: options.host,
    port: options.port ?? (options.secure ? 465 : 587),
    secure: options.secure === true,
    requireTLS: options.requireTls === true,
    ...(options.user !== undefined && { auth: { user: options.user, pass: options.password ?? '' } }),
    ...(options.tls && { tls: options.tls }),
    ...timeouts,
  };
}

export class SmtpMailer implements Mailer {
  readonly name = 'smtp';
  readonly idempotent = false;
  readonly delivers = true;
  readonly server: string;
  private readonly transport: Transporter;

  constructor(options: SmtpMailerOptions) {
    this.server = smtpServer(options);
    this.transport = nodemailer.createTransport({
      ...connectionOptions(options),
      pool: true,
      maxConnections: options.pool ?? 4,
    } as never);
  }

  async send(message: OutgoingMessage): Promise<SendResult> {
    try {
      const info = await this.transport.sendMail({
        envelope: { from: message.from, to: [message.to] },
        raw: Buffer.from(message.raw),
      });
      // The relay's last reply (250 ...): it took the message, which is all SMTP tells.
      const reply =
        typeof info.response === 'string' ? redactEmailAddresses(info.response).slice(0, 200) : '';
      return {
        providerMessageId: String(info.messageId ?? message.messageId),
        ...(reply && { reply }),
      };
    } catch (error) {
      throw classifySmtpError(error, this.server);
    }
  }

  close(): void {
    this.transport.close();
  }
}

interface NodemailerError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  command?: string;
  message: string;
  library?: string;
}

const unreachable = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * What an SMTP error means for the campaign: the server refuses everything
 * (SendingHaltedError, with the fix), asks to wait (ThrottledError), refuses this address
 * (PermanentSendError), or a transient error (passed on: retried, then left for a resume).
 */
export function classifySmtpError(error: unknown, server: string): Error {
  const e = error as NodemailerError;
  const text = (e.message ?? String(error)).split('\n')[0] ?? '';
  const halt = (what: string, fix: string) =>
    new SendingHaltedError(`the SMTP server ${server} ${what}: ${fix}`, { cause: error });
  const code = e.responseCode;
  if (e.code === 'EDNS')
    return halt(
      `cannot be found (${e.originalCode ?? 'DNS'}: ${text})`,
      'check PRESSROOM_SMTP_HOST (or the host in PRESSROOM_SMTP_URL)',
    );
  if ((e.code === 'ESOCKET' || e.code === 'ECONNECTION') && unreachable.has(e.originalCode ?? ''))
    return halt(
      `cannot be reached (${e.originalCode})`,
      'check the host and port (PRESSROOM_SMTP_HOST, PRESSROOM_SMTP_PORT), that the server runs, and that no firewall is in the way',
    );
  if (e.code === 'ETIMEDOUT')
    return halt(
      `did not answer in time (${text})`,
      'check the port; a server on port 465 speaks TLS from the first byte (PRESSROOM_SMTP_SECURE=tls), one on 587 or 25 expects STARTTLS (PRESSROOM_SMTP_SECURE=starttls)',
    );
  if (isTlsFailure(e)) {
    const wrongMode = /wrong version number|packet length too long|unknown protocol/i.test(text);
    return halt(
      `failed the TLS handshake (${e.originalCode ?? e.code}: ${e.library ? (e.message.match(/:([^:]+):[^:]*$/)?.[1] ?? text) : text})`,
      wrongMode
        ? 'it does not speak TLS from the first byte on this port: use PRESSROOM_SMTP_SECURE=starttls (port 587), or port 465 with PRESSROOM_SMTP_SECURE=tls'
        : "its certificate is not trusted for this host name: fix the server's certificate, or connect with the name it was issued for",
    );
  }
  if (e.code === 'ETLS')
    return halt(
      `refused STARTTLS (${text})`,
      'the server offers no encryption on this port: use its TLS port (465, PRESSROOM_SMTP_SECURE=tls) or another server; PRESSROOM_SMTP_SECURE=none sends in clear (a relay on this machine only)',
    );
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || code === 535 || code === 534)
    return halt(
      `refused the login (${text})`,
      'check PRESSROOM_SMTP_USER and PRESSROOM_SMTP_PASSWORD (many providers want an app password or an SMTP key, not the account password)',
    );
  if (code === 530)
    return halt(`requires a login (${text})`, 'set PRESSROOM_SMTP_USER and PRESSROOM_SMTP_PASSWORD');
  if (e.code === 'ECONNECTION' && /maximum number of retries/i.test(text))
    return halt(
      `closes every connection (${text})`,
      'check that this is an SMTP server and that it accepts this machine (some block unknown addresses)',
    );
  if (code === 454 && /quota/i.test(text))
    return halt(
      `says the daily sending quota is used up (${text})`,
      'sending resumes once the provider allows it: resume the campaign later (`pressroom campaign resume <name>`), or ask the provider for a higher quota',
    );
  // 554 not about a mailbox, 552 message too big: the server refuses us or this message for
  // every recipient, not this address.
  if (
    (code === 554 && !/recipient|mailbox|user|address/i.test(text)) ||
    (code === 552 && /size|too (big|large|long)/i.test(text))
  )
    return halt(`refuses to send (${code}: ${text})`, "read the server's message and fix what it says");
  if (code !== undefined && code >= 500)
    return new PermanentSendError(`smtp-${code}`, `the SMTP server refused: ${text}`, { cause: error });
  if (code === 421 || code === 450 || code === 451 || code === 452 || code === 454)
    return new ThrottledError(`the SMTP server asks to wait: ${text}`, { cause: error });
  return error instanceof Error ? error : new Error(text);
}

function isTlsFailure(e: NodemailerError): boolean {
  const original = e.originalCode ?? '';
  return (
    e.library === 'SSL routines' ||
    /^ERR_SSL_|^ERR_TLS_|^CERT_|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)_/.test(original)
  );
}

/** What `pressroom mailer check` found on an SMTP server: nothing is sent. */
export interface SmtpCheck {
  server: string;
  /** `TLSv1.3 (from the first byte)`, `TLSv1.3 (STARTTLS)`, or `none`. */
  tls: string;
  /** `accepted for USER`, or `none configured`. */
  login: string;
}

/**
 * Connects, secures the connection (TLS or STARTTLS, as configured), logs in, and quits:
 * no message is sent. A failure is SendingHaltedError naming the server and the fix.
 */
export async function checkSmtp(options: SmtpMailerOptions): Promise<SmtpCheck> {
  const server = smtpServer(options);
  const settings = connectionOptions(options) as Record<string, unknown>;
  const fromUrl = options.url ? new URL(options.url) : undefined;
  const connection = new SMTPConnection({
    ...(fromUrl
      ? {
          host: fromUrl.hostname,
          port: Number(fromUrl.port) || (fromUrl.protocol === 'smtps:' ? 465 : 587),
          secure: fromUrl.protocol === 'smtps:',
        }
      : settings),
    ...(options.tls && { tls: options.tls }),
    connectionTimeout: options.timeoutMs ?? 30_000,
    greetingTimeout: options.timeoutMs ?? 30_000,
  } as never);
  const user = fromUrl ? decodeURIComponent(fromUrl.username) : options.user;
  const pass = fromUrl ? decodeURIComponent(fromUrl.password) : (options.password ?? '');
  const step = <T>(run: (done: (error: Error | null, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => {
      run((error, value) => (error ? reject(error) : resolve(value)));
    });
  const failed = new Promise<never>((_, reject) => connection.once('error', reject));
  failed.catch(() => {});
  try {
    await Promise.race([step((done) => connection.connect(() => done(null))), failed]);
    const socket = (connection as unknown as { _socket?: { getProtocol?: () => string | null } })._socket;
    const protocol = socket?.getProtocol?.() ?? null;
    const secureFromStart = fromUrl ? fromUrl.protocol === 'smtps:' : options.secure === true;
    const tls = protocol ? `${protocol} (${secureFromStart ? 'from the first byte' : 'STARTTLS'})` : 'none';
    let login = 'none configured';
    if (user) {
      await Promise.race([
        step((done) => connection.login({ user, pass }, (error) => done(error ?? null))),
        failed,
      ]);
      login = `accepted for ${user}`;
    }
    return { server, tls, login };
  } catch (error) {
    throw classifySmtpError(error, server);
  } finally {
    connection.quit();
    connection.close();
  }
}
