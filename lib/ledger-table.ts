import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ledgerTable } from '../lambdas/adapters/ledger-table.ts';

/** What a function does with the ledger: `send` claims and records, `read` reads (dispatch). */
export type LedgerAccess = 'send' | 'read';

/**
 * The delivery ledger and campaign counters (lambdas/adapters/dynamodb-ledger.ts): on
 * demand, point-in-time recovery, encrypted with the AWS managed key, items expired by TTL
 * (`expiresAt`), kept on `cdk destroy` like the data bucket.
 */
export class LedgerTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: ledgerTable.partitionKey, type: AttributeType.STRING },
      sortKey: { name: ledgerTable.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ledgerTable.ttlAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Sparse: only the entries that are not final carry its key.
    this.table.addGlobalSecondaryIndex({
      indexName: ledgerTable.unfinishedIndex,
      partitionKey: { name: ledgerTable.partitionKey, type: AttributeType.STRING },
      sortKey: { name: ledgerTable.unfinishedKey, type: AttributeType.STRING },
    });
  }

  /**
   * The actions a function's use needs on the table itself (no index, no scan, no delete):
   * transactions are authorized as their puts and updates.
   */
  grant(grantee: IGrantable, access: LedgerAccess): void {
    const actions =
      access === 'send'
        ? ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']
        : ['dynamodb:BatchGetItem', 'dynamodb:Query'];
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions, resources: [this.table.tableArn] }),
    );
  }
}
