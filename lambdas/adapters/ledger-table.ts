/**
 * The DynamoDB ledger table's layout, shared by the adapter (dynamodb-ledger.ts) and the
 * stack (lib/ledger-table.ts) so that the two cannot disagree.
 */
export const ledgerTable = {
  /** Partition key: the campaign's name. */
  partitionKey: 'campaign',
  /** Sort key: the contact id, or a counter item's `#counts#NN`. */
  sortKey: 'recipient',
  /** The sparse index of the entries that are not final, and its sort key. */
  unfinishedIndex: 'unfinished',
  unfinishedKey: 'unfinished',
  /** Epoch seconds after which DynamoDB's TTL deletes an item. */
  ttlAttribute: 'expiresAt',
} as const;
