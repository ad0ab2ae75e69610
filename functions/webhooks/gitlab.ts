import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { mentionsAgent } from '#domain/git-claims';
import { optionalEnv } from '#platform/config';
import { BadRequestError, UnauthorizedError } from '#platform/errors';
import { event, type OutgoingEvent, publishEvents } from '#platform/events';
import { json, signedWebhookRoute, validationError } from '#platform/http';
import { logger } from '#platform/logger';
import { loadSecret } from '#platform/secrets';

/**
 * POST /webhooks/gitlab, for project/group webhooks and instance system hooks. GitLab sends the
 * shared secret in X-Gitlab-Token; it is compared in constant time before anything is parsed.
 * Notes mentioning the agent become ResolverRequested; group renames and removals (system hooks,
 * subgroup events) and member events become the git events that keep claims current. Events are
 * told apart by `object_kind` / `event_name`, since every system hook has the same header.
 */
const expectedTokenDigest = digest(await loadSecret('GITLAB_WEBHOOK_TOKEN'));
const agentMention = optionalEnv('AGENT_MENTION', '@openhands-agent');
const maxCommentChars = 65_536;

const whole = z.number().check(z.int());
const nonEmpty = z.string().check(z.minLength(1));

const note = z.object({
  object_kind: z.literal('note'),
  user: z.object({ id: whole, username: nonEmpty }),
  project: z.object({ path_with_namespace: z.string().check(z.minLength(3)) }),
  object_attributes: z.object({
    note: z.nullable(z.string()),
    action: z.optional(z.string()),
    system: z.optional(z.boolean()),
    url: z.optional(z.string()),
  }),
  issue: z.optional(z.object({ iid: whole })),
  merge_request: z.optional(z.object({ iid: whole })),
});
const groupRename = z.object({
  group_id: whole,
  full_path: nonEmpty,
  old_full_path: nonEmpty,
});
const groupGone = z.object({
  group_id: whole,
  full_path: z.optional(nonEmpty),
  path: z.optional(nonEmpty),
});
const memberEvent = z.object({
  event_name: z.string(),
  group_id: whole,
  group_path: z.optional(nonEmpty),
  user_username: z.optional(nonEmpty),
});
const envelope = z.object({
  object_kind: z.optional(z.string()),
  event_name: z.optional(z.string()),
});

export const handler = signedWebhookRoute('gitlab', async ({ rawBody, headers }) => {
  const token = headers['x-gitlab-token'];
  if (!token || !timingSafeEqual(digest(token), expectedTokenDigest)) {
    throw new UnauthorizedError('Invalid X-Gitlab-Token');
  }

  let payload: unknown;
  try {
    payload = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new BadRequestError('Webhook body is not valid JSON', undefined, 'invalid_json');
  }
  // GitLab's per-delivery ids when present (retries keep them); else the body itself.
  const deliveryId =
    headers['idempotency-key'] ??
    headers['x-gitlab-event-uuid'] ??
    createHash('sha256').update(rawBody).digest('hex');

  const events = toEvents(`gitlab-${deliveryId}`, payload);
  logger.info('GitLab webhook received', {
    gitlabEvent: headers['x-gitlab-event'],
    deliveryId,
    events: events.length,
  });
  if (events.length > 0) await publishEvents(events);
  return json(200, { received: true, published: events.map((e) => e.detailType) });
});

function toEvents(eventId: string, payload: unknown): OutgoingEvent[] {
  const kind = parse(envelope, payload);
  if (kind.object_kind === 'note') return resolverRequest(eventId, parse(note, payload));

  switch (kind.event_name) {
    case 'group_rename': {
      const p = parse(groupRename, payload);
      return [
        event('GitOrganizationRenamed', {
          eventId,
          provider: 'gitlab',
          gitOrgId: String(p.group_id),
          oldLogin: p.old_full_path,
          newLogin: p.full_path,
        }),
      ];
    }
    case 'group_destroy':
    case 'subgroup_destroy': {
      const p = parse(groupGone, payload);
      return [
        event('GitOrganizationDeleted', {
          eventId,
          provider: 'gitlab',
          gitOrgId: String(p.group_id),
          login: p.full_path ?? p.path,
        }),
      ];
    }
    case 'user_add_to_group':
    case 'user_update_for_group':
    case 'user_remove_from_group': {
      const p = parse(memberEvent, payload);
      return [
        event('GitMembershipChanged', {
          eventId,
          provider: 'gitlab',
          gitOrgId: String(p.group_id),
          login: p.group_path,
          memberLogin: p.user_username,
          action: p.event_name,
        }),
      ];
    }
    default:
      return [];
  }
}

function resolverRequest(eventId: string, p: z.infer<typeof note>): OutgoingEvent[] {
  const attributes = p.object_attributes;
  // Older GitLab versions send no action; edits ('update') and system notes never trigger work.
  if ((attributes.action ?? 'create') !== 'create' || attributes.system) return [];
  if (!mentionsAgent(attributes.note, agentMention)) return [];
  return [
    event('ResolverRequested', {
      eventId,
      provider: 'gitlab',
      repository: p.project.path_with_namespace,
      requesterLogin: p.user.username,
      requesterId: String(p.user.id),
      issueNumber: p.issue?.iid ?? p.merge_request?.iid,
      commentUrl: attributes.url,
      commentBody: (attributes.note ?? '').slice(0, maxCommentChars),
    }),
  ];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function parse<T extends z.ZodMiniType>(schema: T, payload: unknown): z.output<T> {
  const result = schema.safeParse(payload);
  if (!result.success) throw validationError(result.error, 'payload');
  return result.data;
}
