import { randomBytes } from 'node:crypto';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { recordCheckoutSession } from '#data/credits';
import { memberSk, orgMetaSk, orgPk, userPk } from '#data/keys';
import { tableName } from '#data/table';
import type { Role } from '#domain/permissions';
import { signStripePayload, stripeId } from '#local/payloads/stripe';
import { documentClient } from '#platform/aws-clients';
import { webhookEvent } from '#test/support/api-event';

/**
 * Shared set-up for the credit and usage tests: organizations and members written straight to
 * DynamoDB Local (the shape the members API writes), EventBridge PutEvents captured, and captured
 * entries turned into what the consumers receive.
 */
export const freshId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

export interface SeedMember {
  userId: string;
  role: Role;
  email: string;
}

export async function seedOrganization(members: SeedMember[]): Promise<string> {
  const orgId = freshId('org');
  const now = new Date().toISOString();
  const items: Record<string, unknown>[] = [
    {
      pk: orgPk(orgId),
      sk: orgMetaSk,
      entity: 'Organization',
      orgId,
      name: 'Test organization',
      ownerCount: members.filter((m) => m.role === 'owner').length,
      createdAt: now,
    },
    ...members.map((member) => ({
      pk: orgPk(orgId),
      sk: memberSk(member.userId),
      entity: 'Membership',
      orgId,
      userId: member.userId,
      role: member.role,
      email: member.email,
      emailLower: member.email.toLowerCase(),
      joinedAt: now,
      lifetimeSpentMicros: 0,
      spentByMonth: {},
      gsi1pk: userPk(member.userId),
      gsi1sk: orgPk(orgId),
    })),
  ];
  for (let start = 0; start < items.length; start += 25) {
    let request: Record<string, unknown>[] | undefined = items
      .slice(start, start + 25)
      .map((Item) => ({ PutRequest: { Item } }));
    while (request && request.length > 0) {
      const result = await documentClient.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: request as never } }),
      );
      request = result.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
    }
  }
  return orgId;
}

/** A typical organization: an owner, an admin and a member. */
export async function seedTeam() {
  const owner = { userId: freshId('user'), role: 'owner' as const, email: 'Owner@Example.com' };
  const admin = { userId: freshId('user'), role: 'admin' as const, email: 'admin@example.com' };
  const member = { userId: freshId('user'), role: 'member' as const, email: 'member@example.com' };
  const orgId = await seedOrganization([owner, admin, member]);
  return { orgId, owner, admin, member };
}

/** Captures PutEvents calls; every entry is accepted unless the test overrides the mock. */
export function captureEvents() {
  const published: PutEventsRequestEntry[] = [];
  const eventBridge = mockClient(EventBridgeClient);
  eventBridge.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
    published.push(...input.Entries);
    return {
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({ EventId: freshId('ev') })),
    };
  });
  return { published, eventBridge };
}

export function toEventBridgeEvent(
  entry: PutEventsRequestEntry,
): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: freshId('eb'),
    'detail-type': String(entry.DetailType),
    source: String(entry.Source),
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(String(entry.Detail)),
  };
}

/** An SQS batch whose bodies are EventBridge envelopes, as the usage queue delivers them. */
export function sqsBatch(events: EventBridgeEvent<string, unknown>[]): SQSEvent {
  return {
    Records: events.map((envelope, index) => ({
      messageId: `msg-${index}-${freshId('m')}`,
      receiptHandle: 'handle',
      body: JSON.stringify(envelope),
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:usage',
      awsRegion: 'us-east-1',
    })),
  };
}

export function usageEnvelope(detail: {
  usageId: string;
  orgId: string;
  userId: string;
  costMicros: number;
  occurredAt?: string;
}): EventBridgeEvent<string, unknown> {
  return toEventBridgeEvent({
    Source: 'usage',
    DetailType: 'UsageRecorded',
    Detail: JSON.stringify({
      ...detail,
      occurredAt: detail.occurredAt ?? new Date().toISOString(),
    }),
  });
}

/** A signed Stripe webhook request for `payload` (exact bytes), optionally base64-encoded. */
export function stripeWebhookRequest(
  payload: object,
  options: { base64?: boolean; secret?: string } = {},
) {
  const body = JSON.stringify(payload, null, 2);
  const secret = options.secret ?? String(process.env.STRIPE_WEBHOOK_SECRET);
  return webhookEvent({
    path: '/webhooks/stripe',
    body,
    base64: options.base64,
    headers: { 'stripe-signature': signStripePayload(body, secret) },
  });
}

/**
 * Records an open Checkout Session for the organization, as POST .../credits/checkout does: only
 * recorded sessions are credited. Returns its id.
 */
export async function recordCheckout(
  orgId: string,
  options: { sessionId?: string; amountUsd?: number } = {},
): Promise<string> {
  const sessionId = options.sessionId ?? stripeId('cs_test', 58);
  await recordCheckoutSession({
    orgId,
    sessionId,
    amountUsd: options.amountUsd ?? 50,
    status: 'open',
    createdBy: 'user_test',
    createdAt: new Date().toISOString(),
    url: null,
  });
  return sessionId;
}
