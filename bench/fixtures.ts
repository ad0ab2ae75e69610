import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { gitAliasPk, gitAliasSk, gitOrgClaimSk, gitOrgPk, orgClaimSk, orgPk } from '#data/keys';
import { newMembershipItem } from '#data/organizations';
import { tableName } from '#data/table';
import type { Role } from '#domain/permissions';
import { loadHandler } from '#local/lambda';
import { documentClient } from '#platform/aws-clients';
import { apiEvent, invoke, lambdaContext } from '#test/support/api-event';

/**
 * The bench's data, written through the real handlers where a handler exists for it (creating
 * the organization, adding members, LLM settings, linking GitHub, buying credits) and with
 * BatchWrite for bulk members. Import only after the bench environment is applied.
 */
export const benchUsers = {
  owner: { userId: 'u_bench_owner', email: 'owner@bench.example' },
  admin: { userId: 'u_bench_admin', email: 'admin@bench.example' },
  member: { userId: 'u_bench_member', email: 'member@bench.example' },
  creator: { userId: 'u_bench_creator', email: 'creator@bench.example' },
};

export interface BenchFixtures {
  /** Owner, admin, member and `usageMembers`; org LLM default, member override, credits. */
  orgId: string;
  /** The main org's extra members, who report usage in the per-route scenarios. */
  usageMembers: string[];
  /** 10,000 members (section 5 and the financial page of 100). */
  bigOrgId: string;
  bigOrgOwner: string;
  /** Members of the big organization (10,000 at full scale). */
  bigOrgSize: number;
}

export const freshId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`;

export const llmChoice = { provider: 'anthropic', model: 'claude-sonnet-4-5' };

export async function callRoute(
  entry: string,
  exportName: string,
  event: unknown,
): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  const handler = await loadHandler(entry, exportName);
  return invoke(handler as Parameters<typeof invoke>[0], event);
}

export async function createOrganizationAs(
  user: { userId: string; email: string },
  name = 'Bench organization',
): Promise<string> {
  const response = await callRoute(
    'functions/api/organizations.ts',
    'createOrganization',
    apiEvent({ method: 'POST', path: '/api/organizations', body: { name }, ...user }),
  );
  if (response.statusCode !== 201) throw new Error(`createOrganization: ${response.statusCode}`);
  return String(response.body.orgId);
}

/** A user who has signed in: the service records profiles when a caller with an email calls. */
export async function signIn(user: { userId: string; email: string }): Promise<void> {
  const response = await callRoute(
    'functions/api/organizations.ts',
    'listMyOrganizations',
    apiEvent({ method: 'GET', path: '/api/organizations', ...user }),
  );
  if (response.statusCode !== 200) throw new Error(`listMyOrganizations: ${response.statusCode}`);
}

export async function addMemberAs(
  actor: { userId: string },
  orgId: string,
  member: { userId: string; email: string; role: Role },
): Promise<void> {
  const response = await callRoute(
    'functions/api/members.ts',
    'addMember',
    apiEvent({
      method: 'POST',
      path: `/api/organizations/${orgId}/members`,
      routePath: '/api/organizations/{orgId}/members',
      params: { orgId },
      body: member,
      userId: actor.userId,
    }),
  );
  if (response.statusCode !== 201) {
    throw new Error(`addMember: ${response.statusCode} ${JSON.stringify(response.body)}`);
  }
}

/** Members written 25 at a time, 8 requests in flight, in the members API's item shape. */
export async function seedMembers(orgId: string, userIds: string[], role: Role = 'member') {
  const now = new Date().toISOString();
  const items = userIds.map((userId) =>
    newMembershipItem({ orgId, userId, email: `${userId}@bench.example`, role, now }),
  );
  const batches: Array<Record<string, unknown>[]> = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] as Record<string, unknown>[];
      let request: Record<string, unknown>[] | undefined = batch.map((Item) => ({
        PutRequest: { Item },
      }));
      while (request?.length) {
        const result = await documentClient.send(
          new BatchWriteCommand({ RequestItems: { [tableName]: request as never } }),
        );
        request = result.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Credits through the real consumer, as a paid Checkout would. */
export async function grantCredits(orgId: string, amountMicros: number): Promise<void> {
  const handler = await loadHandler('functions/consumers/credit-ledger.ts', 'handler');
  await handler(await creditPurchasePaidEnvelope(orgId, amountMicros), lambdaContext);
}

/**
 * A `CreditPurchasePaid` for a checkout session recorded first, as the checkout route does:
 * the ledger credits only sessions the organization created.
 */
export async function creditPurchasePaidEnvelope(orgId: string, amountMicros: number) {
  const session = freshId('cs_bench');
  const { recordCheckoutSession } = await import('#data/credits');
  await recordCheckoutSession({
    orgId,
    sessionId: session,
    amountUsd: amountMicros / 1_000_000,
    status: 'open',
    createdBy: 'bench',
    createdAt: new Date().toISOString(),
    url: null,
  });
  return eventBridgeEnvelope('payments', 'CreditPurchasePaid', {
    eventId: freshId('evt'),
    orgId,
    checkoutSessionId: session,
    amountMicros,
    currency: 'usd',
    amountMinor: amountMicros / 10_000,
    stripeEventId: freshId('evt'),
    occurredAt: new Date().toISOString(),
  });
}

export function eventBridgeEnvelope(source: string, detailType: string, detail: unknown) {
  return {
    version: '0',
    id: freshId('eb'),
    'detail-type': detailType,
    source,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** An SQS batch event as the UsageCharging queue delivers it to the usage consumer. */
export function usageSqsEvent(details: Array<Record<string, unknown>>) {
  return {
    Records: details.map((detail) => {
      const messageId = freshId('msg');
      return {
        messageId,
        receiptHandle: messageId,
        body: JSON.stringify(eventBridgeEnvelope('usage', 'UsageRecorded', detail)),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'events.amazonaws.com',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:usage-charging',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

export function usageDetail(orgId: string, userId: string, costMicros: number) {
  return {
    usageId: freshId('use'),
    orgId,
    userId,
    costMicros,
    model: llmChoice.model,
    occurredAt: new Date().toISOString(),
  };
}

/** Removes the claim on GitHub's `acme-corp` (id 5001 in the stand-in) whoever holds it. */
export async function releaseAcme(): Promise<void> {
  const key = { pk: gitOrgPk('github', '5001'), sk: gitOrgClaimSk };
  const { Item } = await documentClient.send(new GetCommand({ TableName: tableName, Key: key }));
  const deletes = [key, { pk: gitAliasPk('github', 'acme-corp'), sk: gitAliasSk }];
  if (Item) deletes.push({ pk: orgPk(String(Item.orgId)), sk: orgClaimSk(String(Item.claimId)) });
  for (const Key of deletes) {
    await documentClient.send(new DeleteCommand({ TableName: tableName, Key }));
  }
}

/** `acme-corp` claimed by `orgId` through the claims API; returns the claim id. */
export async function claimAcme(orgId: string): Promise<string> {
  await releaseAcme();
  const response = await callRoute(
    'functions/api/git-claims.ts',
    'claimGitOrganization',
    apiEvent({
      method: 'POST',
      path: `/api/organizations/${orgId}/git-claims`,
      routePath: '/api/organizations/{orgId}/git-claims',
      params: { orgId },
      body: { provider: 'github', gitOrganization: 'acme-corp' },
      userId: benchUsers.owner.userId,
    }),
  );
  if (response.statusCode !== 201) {
    throw new Error(
      `claimGitOrganization: ${response.statusCode} ${JSON.stringify(response.body)}`,
    );
  }
  return String(response.body.claimId);
}

export async function linkGithub(userId: string, token: string): Promise<void> {
  const response = await callRoute(
    'functions/api/git-accounts.ts',
    'linkGitAccount',
    apiEvent({
      method: 'PUT',
      path: '/api/users/me/git-accounts/github',
      routePath: '/api/users/me/git-accounts/{provider}',
      params: { provider: 'github' },
      body: { token },
      userId,
    }),
  );
  if (response.statusCode !== 200) throw new Error(`linkGitAccount: ${response.statusCode}`);
}

export async function putLlmOverride(orgId: string, userId: string): Promise<void> {
  const response = await callRoute(
    'functions/api/llm-settings.ts',
    'putMyLlmOverride',
    apiEvent({
      method: 'PUT',
      path: `/api/organizations/${orgId}/members/me/llm-settings`,
      routePath: '/api/organizations/{orgId}/members/me/llm-settings',
      params: { orgId },
      body: { provider: 'openai', model: 'gpt-5' },
      userId,
    }),
  );
  if (response.statusCode !== 200) throw new Error(`putMyLlmOverride: ${response.statusCode}`);
}

/**
 * The shared data set. Steps whose handler module does not exist yet are skipped; the sections
 * that need them then report "not measured".
 */
export async function seedFixtures(
  exists: (entry: string) => boolean,
  bigOrgSize: number,
): Promise<BenchFixtures> {
  const { owner, admin, member } = benchUsers;
  const orgId = await createOrganizationAs(owner);
  await signIn(admin);
  await signIn(member);
  await addMemberAs(owner, orgId, { ...admin, role: 'admin' });
  await addMemberAs(owner, orgId, { ...member, role: 'member' });
  const usageMembers = Array.from({ length: 20 }, (_, i) => `u_bench_usage_${i}`);
  await seedMembers(orgId, usageMembers);

  if (exists('functions/api/llm-settings.ts')) {
    const response = await callRoute(
      'functions/api/llm-settings.ts',
      'putOrgLlmSettings',
      apiEvent({
        method: 'PUT',
        path: `/api/organizations/${orgId}/llm-settings`,
        routePath: '/api/organizations/{orgId}/llm-settings',
        params: { orgId },
        body: { ...llmChoice, apiKey: 'sk-bench-org-key-1234' },
        userId: admin.userId,
      }),
    );
    if (response.statusCode !== 200) throw new Error(`putOrgLlmSettings: ${response.statusCode}`);
    await putLlmOverride(orgId, member.userId);
  }
  if (exists('functions/consumers/credit-ledger.ts')) await grantCredits(orgId, 1_000_000_000_000);
  if (exists('functions/api/git-accounts.ts')) await linkGithub(owner.userId, 'ghp_demo_owner');

  const bigOrgOwner = 'u_bench_big_owner';
  const bigOrgId = await createOrganizationAs(
    { userId: bigOrgOwner, email: 'big@bench.example' },
    'Bench 10k',
  );
  const bigMembers = Array.from(
    { length: bigOrgSize - 1 },
    (_, i) => `u_big_${String(i).padStart(5, '0')}`,
  );
  await seedMembers(bigOrgId, bigMembers);
  if (exists('functions/consumers/credit-ledger.ts')) {
    await grantCredits(bigOrgId, 1_000_000_000);
  }
  return { orgId, usageMembers, bigOrgId, bigOrgOwner, bigOrgSize };
}
