import { DynamoLedger } from '../adapters/dynamodb-ledger.ts';
import type { Ledger } from '../core/campaigns/ledger.ts';

// Apart from runtime.ts: only the functions that use the ledger load the DynamoDB client.
const ledgers = new Map<string, DynamoLedger>();

/**
 * The delivery ledger: the DynamoDB table when the stack names one (PRESSROOM_LEDGER_TABLE),
 * else undefined (the core then keeps it in the data bucket). One per container.
 */
export function dataLedger(table: string | undefined): { ledger?: Ledger } {
  if (table === undefined) return {};
  let ledger = ledgers.get(table);
  if (!ledger) {
    ledger = new DynamoLedger({ table });
    ledgers.set(table, ledger);
  }
  return { ledger };
}
