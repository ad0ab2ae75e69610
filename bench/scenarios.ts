import { eventRules } from '#catalogue/events';
import { resolverFunction, routes } from '#catalogue/routes';
import { githubHeaders, issueCommentPayload } from '#local/payloads/github';
import { gitlabHeaders, gitlabIssueNotePayload } from '#local/payloads/gitlab';
import { checkoutSessionEvent, signStripePayload } from '#local/payloads/stripe';
import { apiEvent, webhookEvent } from '#test/support/api-event';
import {
  type BenchFixtures,
  benchUsers,
  claimAcme,
  createOrganizationAs,
  creditPurchasePaidEnvelope,
  eventBridgeEnvelope,
  freshId,
  linkGithub,
  llmChoice,
  putLlmOverride,
  releaseAcme,
  seedMembers,
  signIn,
  usageDetail,
  usageSqsEvent,
} from './fixtures.ts';

/**
 * One request per function of the catalogues (every route, the direct resolver, every rule's
 * consumer), used three times: as the first request of a cold start, for the warm routes, and
 * to count round trips. `prepare` builds the event (and any state it needs) before each call,
 * so destructive requests (delete, remove, claim) always have something to act on.
 *
 * `minimum` is the fewest AWS calls the key design (functions/data/keys.ts) allows for that
 * request, with the reason: DynamoDB calls, sequential rounds of all AWS calls (calls that can
 * run side by side count once) and PutEvents calls.
 */
export interface Minimum {
  dynamo: number;
  rounds: number;
  events: number;
  why: string;
}

export interface Scenario {
  id: string;
  kind: 'route' | 'direct' | 'consumer';
  entry: string;
  exportName: string;
  minimum: Minimum;
  /** What this request does, when it is not the plain happy path. */
  note?: string;
  prepare: (fx: BenchFixtures) => Promise<unknown>;
}

const { owner, admin, member, creator } = benchUsers;
type User = { userId: string; email?: string };

function route(
  method: string,
  routePath: string,
  params: Record<string, string>,
  user: User,
  extra: { body?: unknown; query?: Record<string, string> } = {},
) {
  let path = routePath;
  for (const [name, value] of Object.entries(params)) path = path.replace(`{${name}}`, value);
  return apiEvent({ method, path, routePath, params, ...user, ...extra });
}

const orgRoute =
  (method: string, suffix: string, user: User, extra = {}) =>
  (fx: BenchFixtures) =>
    Promise.resolve(
      route(method, `/api/organizations/{orgId}${suffix}`, { orgId: fx.orgId }, user, extra),
    );

const m = (dynamo: number, rounds: number, events: number, why: string): Minimum => ({
  dynamo,
  rounds,
  events,
  why,
});

const resolveInput = {
  provider: 'github',
  repository: 'acme-corp/app',
  requesterLogin: 'octo-owner',
};

/** acme-corp claimed by the bench org (claim/unclaim scenarios release it). */
async function ensureAcmeClaimed(fx: BenchFixtures) {
  await claimAcme(fx.orgId);
}

type Request = Omit<Scenario, 'id' | 'kind' | 'entry' | 'exportName'>;

const requests: Record<string, Request> = {
  createOrganization: {
    minimum: m(1, 1, 0, 'one transaction: META + owner membership'),
    prepare: async () =>
      apiEvent({ method: 'POST', path: '/api/organizations', body: { name: 'Bench' }, ...creator }),
  },
  listMyOrganizations: {
    minimum: m(2, 2, 0, 'GSI query of my memberships, then BatchGet of their META (names)'),
    prepare: async () => apiEvent({ method: 'GET', path: '/api/organizations', ...owner }),
  },
  getOrganization: {
    minimum: m(1, 1, 0, 'BatchGet membership + META (same partition)'),
    prepare: orgRoute('GET', '', member),
  },
  renameOrganization: {
    minimum: m(2, 2, 0, 'read the caller role, then one conditional update'),
    prepare: orgRoute('PATCH', '', owner, { body: { name: 'Bench renamed' } }),
  },
  deleteOrganization: {
    minimum: m(3, 3, 0, 'read role; Query the partition; one transaction deleting it'),
    note: 'a fresh one-owner organization',
    prepare: async () => {
      const orgId = await createOrganizationAs(creator, 'Bench throwaway');
      return route('DELETE', '/api/organizations/{orgId}', { orgId }, creator);
    },
  },
  listMembers: {
    minimum: m(2, 1, 0, 'membership GetItem || page Query (caller not always on the page)'),
    prepare: orgRoute('GET', '/members', member),
  },
  addMember: {
    minimum: m(3, 2, 0, 'actor role || user profile (two partitions); one transaction'),
    note: 'by userId, a user who has signed in',
    prepare: async (fx) => {
      const userId = freshId('u_added');
      await signIn({ userId, email: `${userId}@bench.example` });
      return orgRoute('POST', '/members', admin, { body: { userId, role: 'member' } })(fx);
    },
  },
  changeMemberRole: {
    minimum: m(2, 2, 0, 'BatchGet actor + target (same partition); one transaction'),
    note: 'member -> admin, by an admin',
    prepare: async (fx) => {
      const userId = freshId('u_promoted');
      await seedMembers(fx.orgId, [userId]);
      const params = { orgId: fx.orgId, userId };
      return route('PATCH', '/api/organizations/{orgId}/members/{userId}', params, admin, {
        body: { role: 'admin' },
      });
    },
  },
  removeMember: {
    minimum: m(2, 2, 0, 'BatchGet actor + target (same partition); one transaction'),
    note: 'a member, by an admin',
    prepare: async (fx) => {
      const userId = freshId('u_removed');
      await seedMembers(fx.orgId, [userId]);
      const params = { orgId: fx.orgId, userId };
      return route('DELETE', '/api/organizations/{orgId}/members/{userId}', params, admin);
    },
  },
  listLlmProviders: {
    minimum: m(0, 0, 0, 'static catalogue'),
    prepare: async () => apiEvent({ method: 'GET', path: '/api/llm/providers', ...member }),
  },
  getOrgLlmSettings: {
    minimum: m(1, 1, 0, 'BatchGet membership + LLM#ORG'),
    prepare: orgRoute('GET', '/llm-settings', member),
  },
  putOrgLlmSettings: {
    minimum: m(2, 2, 0, 'BatchGet role + current settings (kept key); one conditional write'),
    prepare: orgRoute('PUT', '/llm-settings', admin, { body: llmChoice }),
  },
  getMyLlmOverride: {
    minimum: m(1, 1, 0, 'BatchGet membership + LLM#MEMBER'),
    prepare: orgRoute('GET', '/members/me/llm-settings', member),
  },
  putMyLlmOverride: {
    minimum: m(2, 2, 0, 'BatchGet membership + current override; one conditional write'),
    prepare: orgRoute('PUT', '/members/me/llm-settings', member, {
      body: { provider: 'openai', model: 'gpt-5' },
    }),
  },
  deleteMyLlmOverride: {
    minimum: m(2, 2, 0, 'read membership; one delete'),
    prepare: async (fx) => {
      await putLlmOverride(fx.orgId, admin.userId);
      return orgRoute('DELETE', '/members/me/llm-settings', admin)(fx);
    },
  },
  getEffectiveLlmSettings: {
    minimum: m(1, 1, 0, 'BatchGet membership + LLM#ORG + LLM#MEMBER'),
    prepare: orgRoute('GET', '/llm-settings/effective', member),
  },
  getCreditBalance: {
    minimum: m(1, 1, 0, 'BatchGet membership + BALANCE'),
    prepare: orgRoute('GET', '/credits', member),
  },
  createCheckout: {
    minimum: m(2, 2, 0, 'BatchGet membership + META (customer id); Put CHECKOUT (+ Stripe)'),
    prepare: orgRoute('POST', '/credits/checkout', admin, { body: { amountUsd: 50 } }),
  },
  listCreditTransactions: {
    minimum: m(2, 1, 0, 'membership GetItem || ledger Query'),
    prepare: orgRoute('GET', '/credits/transactions', admin),
  },
  getMembersFinancial: {
    minimum: m(2, 1, 0, 'BatchGet membership + BALANCE || members Query'),
    note: 'page of 100 of 10,000 members',
    prepare: async (fx) =>
      route(
        'GET',
        '/api/organizations/{orgId}/members/financial',
        { orgId: fx.bigOrgId },
        { userId: fx.bigOrgOwner },
        { query: { limit: '100' } },
      ),
  },
  linkGitAccount: {
    minimum: m(1, 1, 0, 'one Put of GITACCOUNT (its login GSI is on the item) + GitHub'),
    prepare: async () =>
      route('PUT', '/api/users/me/git-accounts/{provider}', { provider: 'github' }, member, {
        body: { token: 'ghp_demo_member' },
      }),
  },
  unlinkGitAccount: {
    minimum: m(1, 1, 0, 'one Delete'),
    prepare: async () => {
      await linkGithub(admin.userId, 'ghp_demo_rival');
      return route(
        'DELETE',
        '/api/users/me/git-accounts/{provider}',
        { provider: 'github' },
        admin,
      );
    },
  },
  listGitOrganizations: {
    minimum: m(3, 2, 0, 'membership || linked account; BatchGet claims of the Git orgs'),
    prepare: orgRoute('GET', '/git-organizations', owner),
  },
  listGitClaims: {
    minimum: m(2, 1, 0, 'membership GetItem || claims Query'),
    prepare: orgRoute('GET', '/git-claims', member),
  },
  claimGitOrganization: {
    minimum: m(3, 3, 1, 'membership || linked account; one transaction; then one PutEvents'),
    prepare: async (fx) => {
      await releaseAcme();
      return orgRoute('POST', '/git-claims', owner, {
        body: { provider: 'github', gitOrganization: 'acme-corp' },
      })(fx);
    },
  },
  unclaimGitOrganization: {
    minimum: m(2, 3, 1, 'BatchGet membership + CLAIM#; one transaction; then one PutEvents'),
    prepare: async (fx) => {
      const claimId = await claimAcme(fx.orgId);
      const params = { orgId: fx.orgId, claimId };
      return route('DELETE', '/api/organizations/{orgId}/git-claims/{claimId}', params, owner);
    },
  },
  stripeWebhook: {
    minimum: m(0, 1, 1, 'verify the signature; one PutEvents'),
    note: 'checkout.session.completed, paid',
    prepare: async (fx) => {
      const body = JSON.stringify(
        checkoutSessionEvent('checkout.session.completed', {
          orgId: fx.orgId,
          amountSubtotal: 5000,
          paymentStatus: 'paid',
          status: 'complete',
        }),
      );
      const secret = process.env.STRIPE_WEBHOOK_SECRET ?? '';
      return webhookEvent({
        path: '/webhooks/stripe',
        body,
        headers: {
          'content-type': 'application/json',
          'stripe-signature': signStripePayload(body, secret),
        },
      });
    },
  },
  githubWebhook: {
    minimum: m(0, 1, 1, 'verify the signature; one PutEvents (ResolverRequested)'),
    note: 'issue_comment mentioning the agent',
    prepare: async () => {
      const body = JSON.stringify(
        issueCommentPayload({
          owner: { login: 'acme-corp', id: 5001 },
          commenter: { login: 'octo-owner', id: 1001 },
          body: `${process.env.AGENT_MENTION ?? '@openhands-agent'} please fix this`,
        }),
      );
      const secret = process.env.GITHUB_WEBHOOK_SECRET ?? '';
      return webhookEvent({
        path: '/webhooks/github',
        body,
        headers: githubHeaders('issue_comment', body, secret),
      });
    },
  },
  gitlabWebhook: {
    minimum: m(0, 1, 1, 'check the token; one PutEvents (ResolverRequested)'),
    note: 'issue note mentioning the agent',
    prepare: async () => {
      const body = JSON.stringify(
        gitlabIssueNotePayload({
          projectPath: 'bench-group/app',
          author: { id: 7001, username: 'lab-owner' },
          note: `${process.env.AGENT_MENTION ?? '@openhands-agent'} please fix this`,
        }),
      );
      return webhookEvent({
        path: '/webhooks/gitlab',
        body,
        headers: gitlabHeaders('Note Hook', process.env.GITLAB_WEBHOOK_TOKEN ?? ''),
      });
    },
  },
  resolveRepository: {
    minimum: m(4, 3, 0, 'alias -> claim by id -> BatchGet member + BALANCE; login GSI alongside'),
    note: 'claimed repository, member requester',
    prepare: async (fx) => {
      await ensureAcmeClaimed(fx);
      return webhookEvent({
        path: '/internal/resolve',
        body: JSON.stringify(resolveInput),
        headers: { 'content-type': 'application/json' },
      });
    },
  },
};

const direct: Record<string, Request> = {
  resolveRepositoryDirect: {
    ...(requests.resolveRepository as Request),
    prepare: async (fx) => {
      await ensureAcmeClaimed(fx);
      return resolveInput;
    },
  },
};

const consumers: Record<string, Request> = {
  CreditLedger: {
    minimum: m(1, 1, 0, 'one transaction: marker + ledger entry + BALANCE + session'),
    note: 'CreditPurchasePaid',
    prepare: async (fx) => creditPurchasePaidEnvelope(fx.orgId, 50_000_000),
  },
  UsageCharging: {
    minimum: m(1, 1, 0, 'one transaction: 10 markers + BALANCE + ledger + member updates'),
    note: 'SQS batch of 10 from 10 members',
    prepare: async (fx) =>
      usageSqsEvent(
        fx.usageMembers.slice(0, 10).map((userId) => usageDetail(fx.orgId, userId, 1234)),
      ),
  },
  GitClaimMaintenance: {
    minimum: m(1, 1, 0, 'Get the claim by Git org id; unclaimed, so nothing to write'),
    note: 'GitOrganizationRenamed of an unclaimed org',
    prepare: async () =>
      eventBridgeEnvelope('git', 'GitOrganizationRenamed', {
        eventId: freshId('evt'),
        provider: 'github',
        gitOrgId: '987654',
        oldLogin: 'old-unclaimed',
        newLogin: 'new-unclaimed',
      }),
  },
  ResolverRouting: {
    minimum: m(4, 4, 1, 'as resolveRepository, then one PutEvents (ResolverRouted)'),
    note: 'claimed repository, member requester',
    prepare: async (fx) => {
      await ensureAcmeClaimed(fx);
      return eventBridgeEnvelope('git', 'ResolverRequested', {
        eventId: freshId('evt'),
        ...resolveInput,
        requesterId: '1001',
      });
    },
  },
};

export interface Unmeasured {
  id: string;
  reason: string;
}

/** Every function of the catalogues, with the ones that cannot be measured yet and why. */
export function catalogueScenarios(exists: (entry: string) => boolean): {
  scenarios: Scenario[];
  unmeasured: Unmeasured[];
} {
  const functions: Array<Omit<Scenario, keyof Request> & { request?: Request }> = [
    ...routes.map((r) => ({
      id: r.id,
      kind: 'route' as const,
      entry: r.entry,
      exportName: r.handler,
      request: requests[r.id],
    })),
    {
      id: resolverFunction.id,
      kind: 'direct' as const,
      entry: resolverFunction.entry,
      exportName: resolverFunction.handler,
      request: direct[resolverFunction.id],
    },
    ...eventRules.map((rule) => ({
      id: rule.name,
      kind: 'consumer' as const,
      entry: rule.consumer.entry,
      exportName: rule.consumer.handler,
      request: consumers[rule.name],
    })),
  ];
  const scenarios: Scenario[] = [];
  const unmeasured: Unmeasured[] = [];
  for (const { request, ...fn } of functions) {
    if (!exists(fn.entry)) unmeasured.push({ id: fn.id, reason: `${fn.entry} does not exist yet` });
    else if (!request) unmeasured.push({ id: fn.id, reason: 'no bench request written for it' });
    else scenarios.push({ ...fn, ...request });
  }
  return { scenarios, unmeasured };
}
