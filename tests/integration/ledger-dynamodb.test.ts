import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/dynamodb-ledger.ts';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-store.ts';
import {
  type CampaignRecord,
  newCampaignRecord,
  updateCampaign,
} from '../../lambdas/core/campaigns/campaign.ts';
import { campaignStatus } from '../../lambdas/core/campaigns/status.ts';
import { claimed, ledgerContract } from '../contract/ledger.contract.ts';
import { createTable, ledgerTableInput, type RunningDynalite, startDynalite } from '../support/dynalite.ts';

let dynalite: RunningDynalite;
let tables = 0;
beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(async () => {
  await dynalite?.stop();
});

/** A DynamoDB ledger on a table of its own. */
async function tableLedger() {
  const client = dynalite.client();
  const table = `pressroom-ledger-${++tables}`;
  await createTable(client, ledgerTableInput(table));
  return { client, ledger: new DynamoLedger({ table, client }) };
}

// dynalite behind a front that does TransactWriteItems (tests/support/dynalite.ts).
ledgerContract('DynamoDB (dynalite)', async () => ({ ledger: (await tableLedger()).ledger }));

describe('DynamoDB ledger', () => {
  /** A campaign of `size` recipients, all sent but `uncertain`, and the reads its status makes. */
  async function statusReads(size: number, uncertain = 0) {
    const { client, ledger } = await tableLedger();
    const name = 'etude-grande';
    // Written as claims of their outcome (one transaction each, as fast as dynalite goes):
    // counters and entries move together all the same.
    for (let i = 0; i < size; i += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, size - i) }, (_, j) =>
          ledger.claim(name, claimed(i + j, i + j >= uncertain ? { status: 'sent' } : {})),
        ),
      );
    const store = new MemoryObjectStore({ signingSecret: 's', publicUrl: 'http://localhost' });
    const definition = { name, audience: { list: 'presse' } } as unknown as CampaignRecord['definition'];
    await updateCampaign(
      store,
      name,
      () => ({ ...newCampaignRecord(definition, '', '2026-01-16T07:00:00Z'), audienceSize: size }),
      (r) => r,
    );
    const reads: string[] = [];
    const send = client.send.bind(client);
    client.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
      reads.push(command.constructor.name);
      return (send as (...a: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.send;
    const status = await campaignStatus(store, name, new Date('2026-01-16T08:00:00Z'), ledger);
    return { status, reads };
  }

  it('status reads the same few items for 10 recipients and for 2,000: the counters, not the entries', async () => {
    const small = await statusReads(10);
    const large = await statusReads(2000);
    expect(small.status).toMatchObject({ audience: 10, sent: 10, uncertain: 0, remaining: 0 });
    expect(large.status).toMatchObject({ audience: 2000, sent: 2000, uncertain: 0, remaining: 0 });
    expect(large.reads).toEqual(small.reads);
    expect(large.reads).toEqual(['BatchGetItemCommand']);
  }, 120_000);

  it('names the uncertain recipients from the index of unfinished entries only', async () => {
    const { status, reads } = await statusReads(30, 3);
    expect(status).toMatchObject({ sent: 27, uncertain: 3 });
    expect(status.uncertainRecipients.map((r) => r.email).sort()).toEqual(
      [0, 1, 2].map((i) => claimed(i).email).sort(),
    );
    expect(reads).toEqual(['BatchGetItemCommand', 'QueryCommand']);
  });
});
