import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { configuredPorts, localSecrets, localSettings } from '#local/config';
import { mintToken } from '#local/jwt';
import { githubHeaders, issueCommentPayload } from '#local/payloads/github';
import { checkoutCompletedEvent, signStripePayload } from '#local/payloads/stripe';
import { githubSeed } from '#local/stand-ins/github';

/**
 * `npm run demo`: walks the whole journey against a running local stack (`npm start`), printing
 * each step and checking each result. Exits 0 only when every check holds. The e2e test runs
 * the same `runJourney` against a stack it starts itself.
 */
export interface JourneyOptions {
  apiUrl: string;
  eventBusUrl: string;
  log?: (line: string) => void;
}

export interface JourneyResult {
  passed: number;
  failed: string[];
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below.
type Body = any;

interface Actor {
  label: string;
  userId: string;
  email: string;
  token: string;
}

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const result: JourneyResult = { passed: 0, failed: [] };
  const run = randomUUID().slice(0, 8);

  const check = (what: string, ok: boolean, detail?: unknown) => {
    if (ok) {
      result.passed++;
      log(`  ✔ ${what}`);
    } else {
      result.failed.push(what);
      log(`  ✘ ${what}${detail === undefined ? '' : `: ${JSON.stringify(detail)}`}`);
    }
    return ok;
  };
  const step = (title: string) => log(`\n▸ ${title}`);

  const call = async (actor: Actor | undefined, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (actor) headers.authorization = `Bearer ${actor.token}`;
    const response = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Body };
  };

  const bus = async (path: string) => {
    const response = await fetch(`${options.eventBusUrl}${path}`);
    return (await response.json()) as Body;
  };
  const waitForBus = () => bus('/_local/idle?timeoutMs=15000');

  const actor = async (label: string): Promise<Actor> => {
    const userId = `demo-${label}-${run}`;
    const email = `${label}.${run}@demo.example`;
    return { label, userId, email, token: await mintToken(userId, email) };
  };

  step('Users sign in: an owner, an admin, a member and a rival owner');
  const owner = await actor('owner');
  const admin = await actor('admin');
  const member = await actor('member');
  const rival = await actor('rival');
  for (const user of [owner, admin, member, rival]) {
    const res = await call(user, 'GET', '/api/organizations');
    check(`${user.label} signs in (GET /api/organizations → 200)`, res.status === 200, res);
  }

  step('The owner creates an organization and adds an admin and a member');
  const created = await call(owner, 'POST', '/api/organizations', { name: `Acme ${run}` });
  check('organization created (201), caller is owner', created.status === 201, created);
  const orgId = created.body?.orgId as string;
  const org = `/api/organizations/${orgId}`;
  const addAdmin = await call(owner, 'POST', `${org}/members`, {
    email: admin.email,
    role: 'admin',
  });
  check('admin added by email (201)', addAdmin.status === 201, addAdmin);
  const addMember = await call(owner, 'POST', `${org}/members`, { email: member.email });
  check('member added by email (201)', addMember.status === 201, addMember);
  const list = await call(member, 'GET', `${org}/members`);
  check(
    'the member sees three members with their roles',
    list.status === 200 &&
      JSON.stringify(list.body.members.map((m: Body) => m.role).sort()) ===
        JSON.stringify(['admin', 'member', 'owner']),
    list.body,
  );

  step('LLM settings: org default, a personal override, effective settings per member');
  const providers = await call(member, 'GET', '/api/llm/providers');
  const anthropic = providers.body?.providers?.find((p: Body) => p.id === 'anthropic');
  const openai = providers.body?.providers?.find((p: Body) => p.id === 'openai');
  check('providers catalogue lists Anthropic and OpenAI models', Boolean(anthropic && openai));
  const orgModel = anthropic?.models?.[0];
  const memberModel = openai?.models?.[0];
  const putOrg = await call(admin, 'PUT', `${org}/llm-settings`, {
    provider: 'anthropic',
    model: orgModel,
    apiKey: 'sk-ant-demo-org-key-4242',
  });
  check(
    'admin sets the org default; the key is write-only (last four shown)',
    putOrg.status === 200 && putOrg.body.apiKeyLastFour === '4242' && !('apiKey' in putOrg.body),
    putOrg,
  );
  const override = await call(member, 'PUT', `${org}/members/me/llm-settings`, {
    provider: 'openai',
    model: memberModel,
  });
  check('member sets a personal override', override.status === 200, override);
  const effMember = await call(member, 'GET', `${org}/llm-settings/effective`);
  const effAdmin = await call(admin, 'GET', `${org}/llm-settings/effective`);
  check(
    `member's effective model is ${memberModel} from their override`,
    effMember.body?.model?.value === memberModel && effMember.body?.model?.source === 'member',
    effMember.body,
  );
  check(
    `admin's effective model is ${orgModel} from the organization`,
    effAdmin.body?.model?.value === orgModel && effAdmin.body?.model?.source === 'organization',
    effAdmin.body,
  );
  const denied = await call(member, 'PUT', `${org}/llm-settings`, {
    provider: 'openai',
    model: memberModel,
  });
  check('a member cannot change the org default (403)', denied.status === 403, denied);

  step('Credits: a $50 Stripe Checkout, paid, delivered twice');
  const checkout = await call(admin, 'POST', `${org}/credits/checkout`, { amountUsd: 50 });
  check('admin starts a $50 checkout and gets its URL', checkout.status === 201, checkout);
  const sessionId = checkout.body?.sessionId as string;
  const { event: paidEvent, source } = checkoutCompletedEvent({
    id: sessionId,
    orgId,
    amountSubtotal: 5000,
  });
  log(
    `    (checkout.session.completed built from ${
      source === 'stripe-fixture' ? "Stripe's published example" : 'our builder (no fixtures)'
    })`,
  );
  const paidBody = JSON.stringify(paidEvent);
  const deliver = () =>
    fetch(`${options.apiUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signStripePayload(paidBody, localSecrets.stripeWebhookSecret),
      },
      body: paidBody,
    });
  check('signed webhook accepted (200)', (await deliver()).status === 200);
  await waitForBus();
  const balance1 = await call(member, 'GET', `${org}/credits`);
  check('balance shows 50 credits', balance1.body?.balanceUsd === '50.00', balance1.body);
  check('same event again is acknowledged', (await deliver()).status === 200);
  await waitForBus();
  const balance2 = await call(member, 'GET', `${org}/credits`);
  check('…and changes nothing', balance2.body?.balanceMicros === 50_000_000, balance2.body);

  step('Usage: two members spend; members/financial adds up');
  const events = new EventBridgeClient({
    endpoint: options.eventBusUrl,
    region: localSettings.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const usage = [
    { user: admin, costMicros: 1_250_000 },
    { user: member, costMicros: 3_500_000 },
  ];
  const put = await events.send(
    new PutEventsCommand({
      Entries: usage.map(({ user, costMicros }) => ({
        EventBusName: localSettings.eventBusName,
        Source: 'usage',
        DetailType: 'UsageRecorded',
        Detail: JSON.stringify({
          usageId: `usage-${randomUUID()}`,
          orgId,
          userId: user.userId,
          costMicros,
          model: orgModel,
          occurredAt: new Date().toISOString(),
        }),
      })),
    }),
  );
  events.destroy();
  check('UsageRecorded events published', put.FailedEntryCount === 0, put);
  await waitForBus();
  const financial = await call(admin, 'GET', `${org}/members/financial`);
  const spendOf = (user: Actor) =>
    financial.body?.members?.find((m: Body) => m.userId === user.userId)?.lifetimeSpentMicros;
  check(
    'members/financial shows each member’s spend',
    financial.status === 200 && spendOf(admin) === 1_250_000 && spendOf(member) === 3_500_000,
    financial.body,
  );
  const balance3 = await call(admin, 'GET', `${org}/credits`);
  check(
    'balance fell by exactly their sum (50.00 - 4.75 = 45.25)',
    balance3.body?.balanceMicros === 50_000_000 - 4_750_000 &&
      balance3.body?.balanceUsd === '45.25',
    balance3.body,
  );
  const memberFinancial = await call(member, 'GET', `${org}/members/financial`);
  check('a member cannot read members/financial (403)', memberFinancial.status === 403);

  step('Git: link GitHub, list Git organizations, claim');
  const [claimable, plainMember] = ['acme-corp', 'widgets-inc'];
  const link = await call(owner, 'PUT', '/api/users/me/git-accounts/github', {
    token: 'ghp_demo_owner',
  });
  check(
    'owner links a GitHub account; the token is never returned',
    link.status === 200 && !JSON.stringify(link.body).includes('ghp_demo_owner'),
    link,
  );
  const gitOrgs = await call(owner, 'GET', `${org}/git-organizations`);
  const logins = (gitOrgs.body?.gitOrganizations ?? []).map((o: Body) => o.login);
  check(`lists ${claimable} as claimable`, logins.includes(claimable), gitOrgs.body);
  const claim = await call(owner, 'POST', `${org}/git-claims`, {
    provider: 'github',
    gitOrganization: claimable,
  });
  check(
    `claims ${claimable}, where the owner is an active admin (201)`,
    claim.status === 201,
    claim,
  );
  const notAdmin = await call(owner, 'POST', `${org}/git-claims`, {
    provider: 'github',
    gitOrganization: plainMember,
  });
  check(`claiming ${plainMember}, where they are a plain member, is 403`, notAdmin.status === 403);

  const rivalOrg = await call(rival, 'POST', '/api/organizations', { name: `Rival ${run}` });
  await call(rival, 'PUT', '/api/users/me/git-accounts/github', { token: 'ghp_demo_rival' });
  const rivalClaim = await call(
    rival,
    'POST',
    `/api/organizations/${rivalOrg.body?.orgId}/git-claims`,
    {
      provider: 'github',
      gitOrganization: claimable,
    },
  );
  check(
    `another organization claiming ${claimable} gets 409`,
    rivalClaim.status === 409,
    rivalClaim,
  );

  step('Resolver: a GitHub comment mentioning the agent is routed to the claiming org');
  const commenter = githubSeed.tokens.ghp_demo_member;
  const acme = githubSeed.orgs.find((o) => o.login === claimable);
  const memberLink = await call(member, 'PUT', '/api/users/me/git-accounts/github', {
    token: 'ghp_demo_member',
  });
  check('the member links their GitHub account', memberLink.status === 200, memberLink);
  const comment = issueCommentPayload({
    owner: { login: claimable, id: acme?.id ?? 0 },
    repositoryName: 'rocket',
    commenter: { login: commenter?.login ?? '', id: commenter?.id ?? 0 },
    body: `${localSettings.agentMention} please fix this bug`,
  });
  const commentBody = JSON.stringify(comment);
  const delivery = randomUUID();
  const hook = await fetch(`${options.apiUrl}/webhooks/github`, {
    method: 'POST',
    headers: githubHeaders(
      'issue_comment',
      commentBody,
      localSecrets.githubWebhookSecret,
      delivery,
    ),
    body: commentBody,
  });
  check('signed issue_comment webhook accepted', hook.status >= 200 && hook.status < 300);
  await waitForBus();
  const routed = await bus('/_local/events?detail-type=ResolverRouted');
  const ours = (routed.events ?? []).find(
    (e: Body) =>
      e.event?.detail?.repository === `${claimable}/rocket` && e.event?.detail?.orgId === orgId,
  );
  check('ResolverRouted names the claiming organization', Boolean(ours), routed.events?.slice(-3));
  const resolved = await call(undefined, 'POST', '/internal/resolve', {
    provider: 'github',
    repository: `${claimable}/rocket`,
    requesterLogin: commenter?.login,
  });
  check(
    'the internal resolve call answers the same organization',
    resolved.body?.status === 'routed' && resolved.body?.orgId === orgId,
    resolved.body,
  );

  step('Clean up: unclaim and delete the demo organizations, so the demo can run again');
  const claimId = claim.body?.claimId as string | undefined;
  const unclaim = await call(owner, 'DELETE', `${org}/git-claims/${claimId}`);
  check(`the owner unclaims ${claimable} (204)`, unclaim.status === 204, unclaim);
  const deleted = await call(owner, 'DELETE', org);
  check('the owner deletes the organization (204)', deleted.status === 204, deleted);
  const rivalDeleted = await call(rival, 'DELETE', `/api/organizations/${rivalOrg.body?.orgId}`);
  check('the rival deletes theirs (204)', rivalDeleted.status === 204, rivalDeleted);

  log(`\n${result.passed} passed, ${result.failed.length} failed`);
  return result;
}

async function main() {
  // The AWS SDK warns on Node 20 that future versions need Node 22: harmless here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const ports = configuredPorts();
  const apiUrl = process.env.DEMO_API_URL ?? `http://127.0.0.1:${ports.api}`;
  const eventBusUrl = process.env.DEMO_EVENT_BUS_URL ?? `http://127.0.0.1:${ports.eventBus}`;
  for (const url of [`${apiUrl}/api/llm/providers`, `${eventBusUrl}/_local/idle`]) {
    try {
      await fetch(url);
    } catch {
      console.error(`No service at ${new URL(url).origin}: start it first with \`npm start\`.`);
      process.exit(1);
    }
  }
  console.log(`Demo against ${apiUrl} (event bus ${eventBusUrl})`);
  const result = await runJourney({ apiUrl, eventBusUrl });
  process.exit(result.failed.length === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
