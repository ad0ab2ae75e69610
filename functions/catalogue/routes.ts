import type { Action } from '#domain/permissions';

/**
 * Every HTTP route of the service. The CDK API stack and the local HTTP server are both built
 * from this list, so a route exists in one place. Handlers live at `entry` and export `handler`
 * under the name given here.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteAccess {
  /** Table access; absent when the function never touches the table. */
  table?: 'read' | 'readwrite';
  /** Publishes to the service's event bus. */
  publishes?: boolean;
  /** Calls Stripe with the secret key. */
  stripe?: boolean;
  /** Verifies webhook signatures with this sender's secret. */
  webhookSecret?: 'stripe' | 'github' | 'gitlab';
  /** Encrypts or decrypts stored API keys / Git tokens. */
  encryption?: boolean;
  /** Calls the GitHub / GitLab APIs. */
  gitProviders?: boolean;
}

export interface RouteDefinition {
  id: string;
  method: HttpMethod;
  /** API Gateway path syntax: `/api/organizations/{orgId}`. */
  path: string;
  entry: string;
  handler: string;
  /** `jwt`: user routes; `webhook`: signed by the sender; `iam`: internal callers. */
  auth: 'jwt' | 'webhook' | 'iam';
  /**
   * The permission the route needs inside an organization (DESIGN §2); `null` for routes any
   * authenticated user may call or that are not organization-scoped.
   */
  action: Action | null;
  access: RouteAccess;
}

const orgs = 'functions/api/organizations.ts';
const members = 'functions/api/members.ts';
const llm = 'functions/api/llm-settings.ts';
const credits = 'functions/api/credits.ts';
const usage = 'functions/api/usage.ts';
const gitAccounts = 'functions/api/git-accounts.ts';
const gitClaims = 'functions/api/git-claims.ts';

export const routes: RouteDefinition[] = [
  // organizations
  r('createOrganization', 'POST', '/api/organizations', orgs, null, { table: 'readwrite' }),
  r('listMyOrganizations', 'GET', '/api/organizations', orgs, null, { table: 'readwrite' }),
  r('getOrganization', 'GET', '/api/organizations/{orgId}', orgs, 'org.view', { table: 'read' }),
  r('renameOrganization', 'PATCH', '/api/organizations/{orgId}', orgs, 'org.rename', {
    table: 'readwrite',
  }),
  r('deleteOrganization', 'DELETE', '/api/organizations/{orgId}', orgs, 'org.delete', {
    table: 'readwrite',
  }),

  // members
  r('listMembers', 'GET', '/api/organizations/{orgId}/members', members, 'org.view', {
    table: 'read',
  }),
  r('addMember', 'POST', '/api/organizations/{orgId}/members', members, 'members.manage', {
    table: 'readwrite',
  }),
  r(
    'changeMemberRole',
    'PATCH',
    '/api/organizations/{orgId}/members/{userId}',
    members,
    'members.manage',
    { table: 'readwrite' },
  ),
  // Removing others needs members.manage; removing yourself (leaving) needs org.leave.
  r('removeMember', 'DELETE', '/api/organizations/{orgId}/members/{userId}', members, 'org.leave', {
    table: 'readwrite',
  }),

  // LLM settings
  r('listLlmProviders', 'GET', '/api/llm/providers', llm, null, { table: 'read' }),
  r('getOrgLlmSettings', 'GET', '/api/organizations/{orgId}/llm-settings', llm, 'org.view', {
    table: 'read',
  }),
  r('putOrgLlmSettings', 'PUT', '/api/organizations/{orgId}/llm-settings', llm, 'llm.org.edit', {
    table: 'readwrite',
    encryption: true,
  }),
  r(
    'getMyLlmOverride',
    'GET',
    '/api/organizations/{orgId}/members/me/llm-settings',
    llm,
    'llm.self',
    { table: 'read' },
  ),
  r(
    'putMyLlmOverride',
    'PUT',
    '/api/organizations/{orgId}/members/me/llm-settings',
    llm,
    'llm.self',
    { table: 'readwrite', encryption: true },
  ),
  r(
    'deleteMyLlmOverride',
    'DELETE',
    '/api/organizations/{orgId}/members/me/llm-settings',
    llm,
    'llm.self',
    { table: 'readwrite' },
  ),
  r(
    'getEffectiveLlmSettings',
    'GET',
    '/api/organizations/{orgId}/llm-settings/effective',
    llm,
    'llm.self',
    { table: 'read' },
  ),

  // credits and usage
  r('getCreditBalance', 'GET', '/api/organizations/{orgId}/credits', credits, 'org.view', {
    table: 'read',
  }),
  r(
    'createCheckout',
    'POST',
    '/api/organizations/{orgId}/credits/checkout',
    credits,
    'credits.buy',
    { table: 'readwrite', stripe: true },
  ),
  r(
    'listCreditTransactions',
    'GET',
    '/api/organizations/{orgId}/credits/transactions',
    credits,
    'credits.ledger.read',
    { table: 'read' },
  ),
  r(
    'getMembersFinancial',
    'GET',
    '/api/organizations/{orgId}/members/financial',
    usage,
    'financial.read',
    { table: 'read' },
  ),

  // Git accounts and claims
  r('linkGitAccount', 'PUT', '/api/users/me/git-accounts/{provider}', gitAccounts, null, {
    table: 'readwrite',
    encryption: true,
    gitProviders: true,
  }),
  r('unlinkGitAccount', 'DELETE', '/api/users/me/git-accounts/{provider}', gitAccounts, null, {
    table: 'readwrite',
  }),
  r(
    'listGitOrganizations',
    'GET',
    '/api/organizations/{orgId}/git-organizations',
    gitClaims,
    'claims.manage',
    { table: 'read', encryption: true, gitProviders: true },
  ),
  r('listGitClaims', 'GET', '/api/organizations/{orgId}/git-claims', gitClaims, 'org.view', {
    table: 'read',
  }),
  r(
    'claimGitOrganization',
    'POST',
    '/api/organizations/{orgId}/git-claims',
    gitClaims,
    'claims.manage',
    { table: 'readwrite', publishes: true, encryption: true, gitProviders: true },
  ),
  r(
    'unclaimGitOrganization',
    'DELETE',
    '/api/organizations/{orgId}/git-claims/{claimId}',
    gitClaims,
    'claims.manage',
    { table: 'readwrite', publishes: true },
  ),

  // webhooks
  // Reads the table to map a refunded/disputed PaymentIntent back to its organization, and asks
  // Stripe whose payment it is when the purchase is not credited yet.
  webhook('stripeWebhook', '/webhooks/stripe', 'functions/webhooks/stripe.ts', 'stripe', {
    table: 'read',
    stripe: true,
  }),
  webhook('githubWebhook', '/webhooks/github', 'functions/webhooks/github.ts', 'github'),
  webhook('gitlabWebhook', '/webhooks/gitlab', 'functions/webhooks/gitlab.ts', 'gitlab'),

  // internal, for resolver Lambdas
  {
    id: 'resolveRepository',
    method: 'POST',
    path: '/internal/resolve',
    entry: 'functions/api/resolve.ts',
    handler: 'resolveRepositoryRoute',
    auth: 'iam',
    action: null,
    access: { table: 'read' },
  },
];

/** The directly invokable resolver function (resolver Lambdas call it with lambda:InvokeFunction). */
export const resolverFunction = {
  id: 'resolveRepositoryDirect',
  entry: 'functions/api/resolve.ts',
  handler: 'resolveRepositoryDirect',
  access: { table: 'read' } satisfies RouteAccess,
};

function r(
  id: string,
  method: HttpMethod,
  path: string,
  entry: string,
  action: Action | null,
  access: RouteAccess,
): RouteDefinition {
  return { id, method, path, entry, handler: id, auth: 'jwt', action, access };
}

function webhook(
  id: string,
  path: string,
  entry: string,
  sender: 'stripe' | 'github' | 'gitlab',
  access: RouteAccess = {},
): RouteDefinition {
  return {
    id,
    method: 'POST',
    path,
    entry,
    handler: 'handler',
    auth: 'webhook',
    action: null,
    access: { publishes: true, webhookSecret: sender, ...access },
  };
}
