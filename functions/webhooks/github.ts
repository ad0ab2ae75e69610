import { Webhooks } from '@octokit/webhooks';
import * as z from 'zod/mini';
import { mentionsAgent } from '#domain/git-claims';
import { optionalEnv } from '#platform/config';
import { BadRequestError, UnauthorizedError } from '#platform/errors';
import { event, type OutgoingEvent, publishEvents } from '#platform/events';
import { json, signedWebhookRoute, validationError } from '#platform/http';
import { logger } from '#platform/logger';
import { loadSecret } from '#platform/secrets';

/**
 * POST /webhooks/github. The signature (x-hub-signature-256) is checked on the exact bytes
 * GitHub sent before anything is parsed; a bad one is 401 and publishes nothing. Comments that
 * mention the agent become ResolverRequested; organization renames, deletions, app
 * uninstalls and membership changes become the git events that keep claims current. The answer
 * is 2xx only once the events are on the bus, so GitHub redelivers otherwise.
 */
const webhooks = new Webhooks({ secret: await loadSecret('GITHUB_WEBHOOK_SECRET') });
const agentMention = optionalEnv('AGENT_MENTION', '@openhands-agent');
const maxCommentChars = 65_536;

const whole = z.number().check(z.int());
const nonEmpty = z.string().check(z.minLength(1));

const account = z.object({ id: whole, login: nonEmpty });
const commenter = z.extend(account, { type: z.optional(z.string()) });
const repository = z.object({ full_name: z.string().check(z.minLength(3)), owner: account });
const comment = z.object({
  body: z.nullable(z.string()),
  html_url: z.optional(z.string()),
  user: commenter,
});

const issueComment = z.object({
  action: z.string(),
  issue: z.object({ number: whole }),
  comment,
  repository,
});
const reviewComment = z.object({
  action: z.string(),
  pull_request: z.object({ number: whole }),
  comment,
  repository,
});
const organizationEvent = z.object({
  action: z.string(),
  organization: account,
  changes: z.optional(z.object({ login: z.object({ from: nonEmpty }) })),
  membership: z.optional(z.object({ user: z.optional(z.nullable(account)) })),
  invitation: z.optional(z.object({ login: z.optional(z.nullable(z.string())) })),
});
const installationEvent = z.object({
  action: z.string(),
  installation: z.object({ account: z.nullable(account) }),
});
const teamMembershipEvent = z.object({
  action: z.string(),
  organization: account,
  member: z.optional(z.nullable(account)),
});
const collaboratorEvent = z.object({
  action: z.string(),
  repository,
  member: z.optional(z.nullable(account)),
});

export const handler = signedWebhookRoute('github', async ({ rawBody, headers }) => {
  const signature = headers['x-hub-signature-256'];
  if (!signature) throw new UnauthorizedError('Missing x-hub-signature-256 signature');
  const text = rawBody.toString('utf8');
  // The library signs a string; bytes that are not UTF-8 would not survive the round trip.
  if (rawBody.length === 0 || !Buffer.from(text, 'utf8').equals(rawBody)) {
    throw new BadRequestError('Webhook body must be non-empty UTF-8 JSON');
  }
  if (!(await webhooks.verify(text, signature))) {
    throw new UnauthorizedError('Invalid webhook signature');
  }

  const name = headers['x-github-event'];
  const delivery = headers['x-github-delivery'];
  if (!name || !delivery) {
    throw new BadRequestError('Missing x-github-event or x-github-delivery header');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new BadRequestError('Webhook body is not valid JSON', undefined, 'invalid_json');
  }

  const events = toEvents(name, `github-${delivery}`, payload);
  logger.info('GitHub webhook received', { githubEvent: name, delivery, events: events.length });
  if (events.length > 0) await publishEvents(events);
  return json(200, { received: true, published: events.map((e) => e.detailType) });
});

function toEvents(name: string, eventId: string, payload: unknown): OutgoingEvent[] {
  switch (name) {
    case 'issue_comment': {
      const p = parse(issueComment, payload);
      return resolverRequest(eventId, p.action, p.comment, p.repository, p.issue.number);
    }
    case 'pull_request_review_comment': {
      const p = parse(reviewComment, payload);
      return resolverRequest(eventId, p.action, p.comment, p.repository, p.pull_request.number);
    }
    case 'organization':
      return organizationEvents(eventId, parse(organizationEvent, payload));
    case 'installation': {
      const p = parse(installationEvent, payload);
      const owner = p.installation.account;
      if (p.action !== 'deleted' || !owner) return [];
      return [
        event('GitAppUninstalled', {
          eventId,
          provider: 'github',
          gitOrgId: String(owner.id),
          login: owner.login,
        }),
      ];
    }
    case 'membership': {
      const p = parse(teamMembershipEvent, payload);
      return [membershipChanged(eventId, p.organization, p.member?.login, `team_${p.action}`)];
    }
    case 'member': {
      const p = parse(collaboratorEvent, payload);
      const owner = p.repository.owner;
      return [membershipChanged(eventId, owner, p.member?.login, `collaborator_${p.action}`)];
    }
    default:
      // `ping` and every event the service does not act on: acknowledged, nothing published.
      return [];
  }
}

function resolverRequest(
  eventId: string,
  action: string,
  body: z.infer<typeof comment>,
  repo: z.infer<typeof repository>,
  number: number,
): OutgoingEvent[] {
  // Bots (the agent itself included) never trigger work, so its own replies cannot loop.
  if (action !== 'created' || body.user.type === 'Bot') return [];
  if (!mentionsAgent(body.body, agentMention)) return [];
  return [
    event('ResolverRequested', {
      eventId,
      provider: 'github',
      repository: repo.full_name,
      requesterLogin: body.user.login,
      requesterId: String(body.user.id),
      issueNumber: number,
      commentUrl: body.html_url,
      commentBody: (body.body ?? '').slice(0, maxCommentChars),
    }),
  ];
}

function organizationEvents(eventId: string, p: z.infer<typeof organizationEvent>) {
  const gitOrgId = String(p.organization.id);
  if (p.action === 'renamed') {
    if (!p.changes) throw new BadRequestError('organization.renamed without changes.login.from');
    return [
      event('GitOrganizationRenamed', {
        eventId,
        provider: 'github',
        gitOrgId,
        oldLogin: p.changes.login.from,
        newLogin: p.organization.login,
      }),
    ];
  }
  if (p.action === 'deleted') {
    return [
      event('GitOrganizationDeleted', {
        eventId,
        provider: 'github',
        gitOrgId,
        login: p.organization.login,
      }),
    ];
  }
  if (p.action.startsWith('member_')) {
    const member = p.membership?.user?.login ?? p.invitation?.login ?? undefined;
    return [membershipChanged(eventId, p.organization, member, p.action)];
  }
  return [];
}

function membershipChanged(
  eventId: string,
  org: z.infer<typeof account>,
  memberLogin: string | undefined,
  action: string,
): OutgoingEvent {
  return event('GitMembershipChanged', {
    eventId,
    provider: 'github',
    gitOrgId: String(org.id),
    login: org.login,
    memberLogin,
    action,
  });
}

function parse<T extends z.ZodMiniType>(schema: T, payload: unknown): z.output<T> {
  const result = schema.safeParse(payload);
  if (!result.success) throw validationError(result.error, 'payload');
  return result.data;
}
