import { PressroomError } from '../errors.ts';

/**
 * Whether mail from `sender` can be sent through the SES identity `identity`: the address
 * itself, its domain, or a parent domain (SES lets a verified domain's subdomains send).
 */
export function identityCovers(identity: string, sender: string): boolean {
  const address = sender.toLowerCase();
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const name = identity.toLowerCase();
  return name === address || name === domain || (!name.includes('@') && domain.endsWith(`.${name}`));
}

/**
 * Refuses, before anything is written or dispatched, a campaign whose sender the stack may
 * not send from: its functions may send from the stack's SES identity only, and AWS would
 * refuse every message (AccessDenied), pausing the campaign. `where` says where the identity
 * was read (`SenderIdentity in cdk-outputs.json`, the admin function's settings).
 */
export function checkSenderIdentity(identity: string, campaign: string, from: string, where: string): void {
  if (identityCovers(identity, from)) return;
  throw new PressroomError(
    `campaign "${campaign}" is sent from ${from}, but the stack sends only from its SES identity ${identity} (${where}): AWS would refuse every message. Use a sender on ${identity} in the campaign's from (or its list's in pressroom.yaml), or deploy a stack for that domain (npx cdk deploy -c sender=...)`,
  );
}
