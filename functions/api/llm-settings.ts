import * as z from 'zod/mini';
import { memberLlmSk, orgLlmSk } from '#data/keys';
import {
  deleteMemberLlmOverride,
  type LlmSettingsWrite,
  putMemberLlmOverride,
  putOrgLlmSettings,
  toStoredLlmSettings,
} from '#data/llm-settings';
import { getMembershipWith } from '#data/memberships';
import {
  checkBaseUrl,
  checkLlmChoice,
  llmProviders,
  resolveEffectiveLlmSettings,
} from '#domain/llm';
import { authorize, roles } from '#domain/permissions';
import { encryptSecret, secretHint } from '#platform/encryption';
import { NotFoundError, ValidationError } from '#platform/errors';
import { httpRoute, json } from '#platform/http';
import { orgParams, safeText } from '#platform/schemas';

/**
 * LLM settings: the organization default (admins edit), each member's personal override, and
 * the effective settings a member's conversations use. API keys are write-only: stored
 * encrypted, shown as `apiKeySet` and at most the last four characters.
 */
const settingsBody = z.strictObject({
  provider: safeText(1, 64),
  model: safeText(1, 128),
  baseUrl: z.optional(
    z.nullable(
      z.string().check(
        z.maxLength(2048),
        z.refine((url: string) => checkBaseUrl(url) === undefined, {
          error: (issue) => checkBaseUrl(String(issue.input)) ?? 'invalid baseUrl',
        }),
      ),
    ),
  ),
  /** Absent: keep the stored key (if the provider is unchanged); null: clear it. */
  apiKey: z.optional(z.nullable(z.string().check(z.minLength(1), z.maxLength(4096)))),
});

type SettingsBody = z.infer<typeof settingsBody>;

export const listLlmProviders = /* @__PURE__ */ httpRoute({}, async () =>
  json(200, { providers: llmProviders }),
);

export const getOrgLlmSettings = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [orgLlmSk]);
    authorize(membership, 'org.view');

    return json(200, presentSettings(items.get(orgLlmSk)));
  },
);

export const putOrgLlmSettingsRoute = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: settingsBody },
  async ({ caller, params, body }) => {
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [orgLlmSk]);
    authorize(membership, 'llm.org.edit');

    const write = await settingsToWrite(
      body,
      items.get(orgLlmSk),
      `${params.orgId}#org`,
      caller.userId,
    );
    const editors = roles.filter((role) => role !== 'member');
    await putOrgLlmSettings(params.orgId, write, editors);
    return json(200, presentSettings(write));
  },
);
export { putOrgLlmSettingsRoute as putOrgLlmSettings };

export const getMyLlmOverride = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const sk = memberLlmSk(caller.userId);
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [sk]);
    authorize(membership, 'llm.self');

    const item = items.get(sk);
    if (!item) throw new NotFoundError('You have no personal LLM override', 'no_override');
    return json(200, presentSettings(item));
  },
);

export const putMyLlmOverride = /* @__PURE__ */ httpRoute(
  { params: orgParams, body: settingsBody },
  async ({ caller, params, body }) => {
    const sk = memberLlmSk(caller.userId);
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [sk]);
    authorize(membership, 'llm.self');

    const context = `${params.orgId}#member#${caller.userId}`;
    const write = await settingsToWrite(body, items.get(sk), context, caller.userId);
    await putMemberLlmOverride(params.orgId, caller.userId, write);
    return json(200, presentSettings(write));
  },
);

export const deleteMyLlmOverride = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const { membership } = await getMembershipWith(params.orgId, caller.userId, []);
    authorize(membership, 'llm.self');

    await deleteMemberLlmOverride(params.orgId, caller.userId);
    return json(204);
  },
);

export const getEffectiveLlmSettings = /* @__PURE__ */ httpRoute(
  { params: orgParams },
  async ({ caller, params }) => {
    const sk = memberLlmSk(caller.userId);
    const { membership, items } = await getMembershipWith(params.orgId, caller.userId, [
      orgLlmSk,
      sk,
    ]);
    authorize(membership, 'llm.self');

    const effective = resolveEffectiveLlmSettings(
      toStoredLlmSettings(items.get(orgLlmSk)),
      toStoredLlmSettings(items.get(sk)),
    );
    return json(200, effective);
  },
);

async function settingsToWrite(
  body: SettingsBody,
  existing: Record<string, unknown> | undefined,
  encryptionContext: string,
  userId: string,
): Promise<LlmSettingsWrite> {
  const problem = checkLlmChoice(body);
  if (problem) {
    const details = [{ path: `body.${problem.field}`, message: problem.message }];
    throw new ValidationError(problem.message, details);
  }

  const write: LlmSettingsWrite = { provider: body.provider, model: body.model, updatedBy: userId };
  if (body.baseUrl) write.baseUrl = body.baseUrl;

  if (typeof body.apiKey === 'string') {
    write.apiKeyCiphertext = await encryptSecret(body.apiKey, encryptionContext);
    write.apiKeyHint = secretHint(body.apiKey);
  } else if (body.apiKey === undefined && existing?.provider === body.provider) {
    // Keys are write-only, so a client cannot send the stored one back: keep it.
    if (typeof existing.apiKeyCiphertext === 'string') {
      write.apiKeyCiphertext = existing.apiKeyCiphertext;
      write.apiKeyHint = typeof existing.apiKeyHint === 'string' ? existing.apiKeyHint : '';
    }
  }
  return write;
}

function presentSettings(item: Record<string, unknown> | LlmSettingsWrite | undefined) {
  if (!item) return { configured: false };
  const stored = toStoredLlmSettings(item as Record<string, unknown>);
  return {
    configured: true,
    provider: stored?.provider,
    model: stored?.model,
    baseUrl: stored?.baseUrl ?? null,
    apiKeySet: stored?.apiKeySet ?? false,
    apiKeyLastFour: stored?.apiKeySet ? stored.apiKeyHint || null : null,
  };
}
