import { timingSafeEqual } from 'node:crypto';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import type { PublicRequest } from '../core/public/http.ts';
import { siteRequestHeaders } from '../core/public/site-headers.ts';

/**
 * What the functions behind the press room's domain (public, admin) share: a Function URL
 * event read as the core's request, and where it came from (CloudFront, with its origin
 * secret, or the Function URL called directly).
 */

/**
 * Where a request came from: through CloudFront (its origin secret beside them), the host the
 * visitor asked for and the visitor's address, which CloudFront adds; otherwise (the function
 * URL called directly, as links mailed before the press room's domain do) the function URL's
 * host and the caller's address. The headers are believed only with the secret.
 */
export function requestOrigin(
  event: LambdaFunctionURLEvent,
  originSecret: string | undefined,
): { host: string; sourceIp: string; viaSite: boolean } {
  const header = (name: string) => event.headers?.[name] ?? undefined;
  const given = header(siteRequestHeaders.origin);
  const direct = {
    host: event.requestContext.domainName,
    sourceIp: event.requestContext.http.sourceIp,
    viaSite: false,
  };
  if (originSecret === undefined || given === undefined) return direct;
  const [a, b] = [Buffer.from(given), Buffer.from(originSecret)];
  if (a.length !== b.length || !timingSafeEqual(a, b)) return direct;
  const host = header(siteRequestHeaders.host)?.toLowerCase();
  const viewer = header(siteRequestHeaders.viewer);
  return {
    host: host && /^[a-z0-9.-]+$/.test(host) ? host : direct.host,
    sourceIp: viewer || direct.sourceIp,
    viaSite: true,
  };
}

/** A Function URL event (payload 2.0) → the endpoint's request. */
export function publicRequestOf(event: LambdaFunctionURLEvent): PublicRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  // Function URLs put cookies apart; the endpoint uses none.
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  // What CloudFront adds is for requestOrigin, not for the endpoint.
  for (const name of Object.values(siteRequestHeaders)) delete headers[name];
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query,
    headers,
    ...(event.body !== undefined && { body: event.body }),
    isBase64Encoded: event.isBase64Encoded,
    sourceIp: event.requestContext.http.sourceIp,
  };
}
