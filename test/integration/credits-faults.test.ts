import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler as creditLedger } from '#consumers/credit-ledger';
import { handler as usageConsumer } from '#consumers/usage';
import { getCreditBalance, grantPurchasedCredits } from '#data/credits';
import { getMembership } from '#data/memberships';
import { transactWithRetry } from '#data/transact';
import { checkoutSessionEvent, stripeId } from '#local/payloads/stripe';
import { reconcileOrganization } from '#local/reconcile';
import { documentClient } from '#platform/aws-clients';
import {
  freshId,
  recordCheckout,
  seedTeam,
  sqsBatch,
  stripeWebhookRequest,
  toEventBridgeEvent,
  usageEnvelope,
} from '#test/integration/money-setup';
import { invoke } from '#test/support/api-event';
import { handler as stripeWebhook } from '#webhooks/stripe';

const purchaseDetail = (orgId: string) => ({
  eventId: freshId('ev'),
  orgId,
  checkoutSessionId: stripeId('cs_test', 58),
  amountMicros: 10_000_000,
  currency: 'usd',
  amountMinor: 1000,
  stripeEventId: freshId('evt'),
  occurredAt: new Date().toISOString(),
});

/** A cancellation whose message says the opposite of its reasons: only reasons may decide. */
function cancelled(codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled [ConditionalCheckFailed]',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('webhook publishing faults', () => {
  let eventBridge: AwsClientStub<EventBridgeClient>;
  beforeEach(() => {
    eventBridge = mockClient(EventBridgeClient);
  });
  afterEach(() => eventBridge.restore());

  const paidEvent = () =>
    checkoutSessionEvent('checkout.session.completed', {
      orgId: 'org_faults_webhook',
      amountSubtotal: 5000,
    });

  it('retries only the entries PutEvents rejected, then answers 200', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ok' }] });

    const response = await invoke(stripeWebhook, stripeWebhookRequest(paidEvent()));

    expect(response.statusCode).toBe(200);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((entry) => entry.DetailType)).toEqual([
      'CreditPurchasePaid',
    ]);
  });

  it('answers a generic 503 when PutEvents keeps rejecting, so Stripe retries', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
    });

    const response = await invoke(stripeWebhook, stripeWebhookRequest(paidEvent()));

    expect(response.statusCode).toBe(503);
    expect(response.body.error).toEqual({
      code: 'unavailable',
      message: 'Temporarily unavailable, please retry',
    });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });
});

describe('transaction faults', () => {
  let dynamo: AwsClientStub<DynamoDBDocumentClient>;
  beforeEach(() => {
    dynamo = mockClient(DynamoDBDocumentClient);
    dynamo.on(GetCommand).resolves({});
  });
  afterEach(() => dynamo.restore());

  it('retries a transaction cancelled by a conflict, whatever its message says', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(['None', 'TransactionConflict', 'None', 'None']))
      .resolves({});

    const result = await grantPurchasedCredits(purchaseDetail('org_faults_conflict'));

    expect(result).toBe('applied');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('retries a throttled transaction', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    dynamo.on(TransactWriteCommand).rejectsOnce(throttled).resolves({});

    expect(await transactWithRetry([])).toEqual({ ok: true });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('reports a failed marker condition as a duplicate without retrying', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(cancelled(['ConditionalCheckFailed', 'None', 'None', 'None']));

    const result = await grantPurchasedCredits(purchaseDetail('org_faults_duplicate'));

    expect(result).toBe('duplicate');
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('does not retry a cancellation it cannot fix (a validation error)', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled(['None', 'ValidationError']));

    await expect(transactWithRetry([])).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});

describe('crash after write', () => {
  /** Makes the next TransactWrite succeed in DynamoDB and then fail, as a crash would. */
  function crashAfterNextTransaction() {
    let armed = true;
    const name = `crash-${freshId('mw')}`;
    documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (armed && context.commandName === 'TransactWriteItemsCommand') {
          armed = false;
          throw new Error('Lambda crashed after the write');
        }
        return result;
      },
      { step: 'initialize', name },
    );
    return () => documentClient.middlewareStack.remove(name);
  }

  it('a credit-ledger retry after a crash does not credit twice', async () => {
    const { orgId } = await seedTeam();
    const detail = purchaseDetail(orgId);
    await recordCheckout(orgId, { sessionId: detail.checkoutSessionId, amountUsd: 10 });
    const incoming = toEventBridgeEvent({
      Source: 'payments',
      DetailType: 'CreditPurchasePaid',
      Detail: JSON.stringify(detail),
    });
    const restore = crashAfterNextTransaction();
    try {
      await expect(creditLedger(incoming)).rejects.toThrow('crashed');
    } finally {
      restore();
    }

    expect(await creditLedger(incoming)).toEqual({ result: 'duplicate' });
    expect((await getCreditBalance(orgId)).balanceMicros).toBe(10_000_000);
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  });

  it('a usage batch redelivered after a crash charges nothing twice', async () => {
    const { orgId, member } = await seedTeam();
    const batch = sqsBatch([
      usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 250 }),
      usageEnvelope({ usageId: freshId('u'), orgId, userId: member.userId, costMicros: 750 }),
    ]);
    const restore = crashAfterNextTransaction();
    let failed: string[];
    try {
      failed = (await usageConsumer(batch)).batchItemFailures.map((f) => f.itemIdentifier);
    } finally {
      restore();
    }
    expect(failed).toEqual(batch.Records.map((record) => record.messageId));

    const retried = await usageConsumer(batch);

    expect(retried.batchItemFailures).toEqual([]);
    expect((await getCreditBalance(orgId)).spentMicros).toBe(1_000);
    expect((await getMembership(orgId, member.userId))?.lifetimeSpentMicros).toBe(1_000);
    expect((await reconcileOrganization(orgId)).differences).toEqual([]);
  });
});

describe('poison events', () => {
  it('the credit ledger rejects a detail that fails its schema, so it ends in the DLQ', async () => {
    const poison = toEventBridgeEvent({
      Source: 'payments',
      DetailType: 'CreditPurchasePaid',
      Detail: JSON.stringify({ ...purchaseDetail('org_faults_poison'), amountMicros: 1.5 }),
    });

    await expect(creditLedger(poison)).rejects.toThrow();
    expect((await getCreditBalance('org_faults_poison')).balanceMicros).toBe(0);
  });
});
