import { PressroomError } from '../errors.ts';
import { getJson, type ObjectStore, serializeJson } from '../store/object-store.ts';
import { campaignNames, readCampaign, updateCampaign } from './campaign.ts';

/**
 * The sending hold: a stop of all sending, for the whole account, while the provider's
 * reputation figures are at the level where it reviews the account (on AWS, the SES bounce
 * rate at 5 % or the complaint rate at 0.1 %: their alarms put the hold on and take it off).
 *
 * While the hold is on, every campaign being sent is paused with its reason, a campaign whose
 * schedule fires is paused instead of started, a batch still on the queue sends nobody, and a
 * resume is refused. When the figures are back below those levels the hold goes; the paused
 * campaigns stay paused until someone resumes them, having looked at why.
 */

export interface SendingHold {
  /** Why sending is held, as the campaigns' pause reason and the refusals say it. */
  reason: string;
  /** When the hold was put on (UTC ISO). */
  since: string;
  /** What put it on (the alarm's name). */
  by: string;
}

export const sendingHoldKey = 'campaigns/hold.json';

/** A campaign may not start while the hold is on: the reason and what to do. */
export class SendingHeldError extends PressroomError {}

export async function readSendingHold(store: ObjectStore): Promise<SendingHold | undefined> {
  return (await getJson<SendingHold>(store, sendingHoldKey))?.value;
}

/** What pausing a campaign for the hold says, in its record and `campaign status`. */
export function holdPauseReason(hold: SendingHold): string {
  return `sending is held since ${hold.since} (${hold.reason}): nothing is sent until the hold is lifted`;
}

/** The refusal of a start or a resume while the hold is on. */
export function heldError(name: string, hold: SendingHold): SendingHeldError {
  return new SendingHeldError(
    `campaign "${name}" cannot start: ${holdPauseReason(hold)}. The hold goes by itself when the rate is back under the level at which the provider reviews the account; read docs/aws.md ("Reputation"), then resume it.`,
  );
}

/**
 * Puts the hold on and pauses every campaign being sent; returns their names. Putting it on
 * again keeps the first `since` (the alarm may fire again while it lasts).
 */
export async function holdSending(
  store: ObjectStore,
  reason: string,
  by: string,
  now: Date,
): Promise<{ hold: SendingHold; paused: string[] }> {
  const existing = await readSendingHold(store);
  const hold: SendingHold = existing ?? { reason, since: now.toISOString(), by };
  if (!existing) await store.put(sendingHoldKey, serializeJson(hold), { contentType: 'application/json' });
  const paused: string[] = [];
  for (const name of await campaignNames(store)) {
    const record = await readCampaign(store, name).catch(() => undefined);
    if (record?.state !== 'sending') continue;
    const updated = await updateCampaign(
      store,
      name,
      () => record,
      (current) =>
        current.state === 'sending'
          ? { ...current, state: 'paused', pausedReason: holdPauseReason(hold), updatedAt: now.toISOString() }
          : current,
    );
    if (updated.state === 'paused' && updated.pausedReason === holdPauseReason(hold)) paused.push(name);
  }
  return { hold, paused };
}

/** Takes the hold off (the paused campaigns stay paused); returns the hold that was on. */
export async function liftSendingHold(store: ObjectStore): Promise<SendingHold | undefined> {
  const hold = await readSendingHold(store);
  if (hold) await store.delete(sendingHoldKey);
  return hold;
}
