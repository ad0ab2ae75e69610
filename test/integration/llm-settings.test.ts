import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import * as llm from '#api/llm-settings';
import * as members from '#api/members';
import * as orgs from '#api/organizations';
import { documentClient } from '#platform/aws-clients';
import { apiEvent, invoke } from '#test/support/api-event';
import { signedInUser } from '#test/support/users';

type User = Awaited<ReturnType<typeof signedInUser>>;

async function orgWith(roles: Record<string, 'admin' | 'member'>) {
  const owner = await signedInUser('owner');
  const created = await invoke(
    orgs.createOrganization,
    apiEvent({ method: 'POST', path: '', body: { name: 'LLM Org' }, ...owner }),
  );
  const orgId = created.body.orgId as string;
  const users: Record<string, User> = { owner };
  for (const [label, role] of Object.entries(roles)) {
    const user = await signedInUser(label);
    users[label] = user;
    await invoke(
      members.addMember,
      apiEvent({ method: 'POST', path: '', params: { orgId }, body: { ...user, role }, ...owner }),
    );
  }
  return { orgId, users };
}

const put = (handler: typeof llm.putOrgLlmSettings, user: User, orgId: string, body: unknown) =>
  invoke(handler, apiEvent({ method: 'PUT', path: '', params: { orgId }, body, ...user }));
const effective = (user: User, orgId: string) =>
  invoke(
    llm.getEffectiveLlmSettings,
    apiEvent({ method: 'GET', path: '', params: { orgId }, ...user }),
  );

describe('LLM settings', () => {
  it('resolves effective settings per member and names where each field came from', async () => {
    const { orgId, users } = await orgWith({ admin: 'admin', alice: 'member', bob: 'member' });
    const { admin, alice, bob } = users as Record<string, User>;

    const orgPut = await put(llm.putOrgLlmSettings, admin as User, orgId, {
      provider: 'anthropic',
      model: 'claude-opus-4-5',
      apiKey: 'sk-ant-org-key-1234',
    });
    expect(orgPut.statusCode).toBe(200);
    expect(orgPut.body).toEqual({
      configured: true,
      provider: 'anthropic',
      model: 'claude-opus-4-5',
      baseUrl: null,
      apiKeySet: true,
      apiKeyLastFour: '1234',
    });

    const override = await put(llm.putMyLlmOverride, alice as User, orgId, {
      provider: 'openai',
      model: 'gpt-5',
    });
    expect(override.statusCode).toBe(200);

    const forAlice = await effective(alice as User, orgId);
    expect(forAlice.body).toEqual({
      provider: { value: 'openai', source: 'member' },
      model: { value: 'gpt-5', source: 'member' },
      baseUrl: { value: null, source: 'default' },
      // The org's Anthropic key is never handed to another provider.
      apiKey: { value: { set: false, lastFour: null }, source: 'default' },
    });
    const forBob = await effective(bob as User, orgId);
    expect(forBob.body).toEqual({
      provider: { value: 'anthropic', source: 'organization' },
      model: { value: 'claude-opus-4-5', source: 'organization' },
      baseUrl: { value: null, source: 'default' },
      apiKey: { value: { set: true, lastFour: '1234' }, source: 'organization' },
    });
  });

  it('refuses org settings changes from members (403) and unknown models (422)', async () => {
    const { orgId, users } = await orgWith({ admin: 'admin', alice: 'member' });
    const denied = await put(llm.putOrgLlmSettings, users.alice as User, orgId, {
      provider: 'openai',
      model: 'gpt-5',
    });
    expect(denied.statusCode).toBe(403);

    const unknownModel = await put(llm.putOrgLlmSettings, users.admin as User, orgId, {
      provider: 'openai',
      model: 'gpt-1',
    });
    expect(unknownModel.statusCode).toBe(422);
    expect(unknownModel.body.error.details[0].path).toBe('body.model');
    const unknownProvider = await put(llm.putOrgLlmSettings, users.admin as User, orgId, {
      provider: 'nope',
      model: 'x',
    });
    expect(unknownProvider.statusCode).toBe(422);
    expect(unknownProvider.body.error.details[0].path).toBe('body.provider');
    const stored = await invoke(
      llm.getOrgLlmSettings,
      apiEvent({ method: 'GET', path: '', params: { orgId }, ...(users.alice as User) }),
    );
    expect(stored.body).toEqual({ configured: false });
  });

  it('stores API keys encrypted and never returns them', async () => {
    const { orgId, users } = await orgWith({ admin: 'admin' });
    const secret = 'sk-very-secret-value-9876';
    const res = await put(llm.putOrgLlmSettings, users.admin as User, orgId, {
      provider: 'openai',
      model: 'gpt-5',
      apiKey: secret,
    });
    expect(JSON.stringify(res.body)).not.toContain(secret);

    const { Item } = await documentClient.send(
      new GetCommand({
        TableName: process.env.TABLE_NAME,
        Key: { pk: `ORG#${orgId}`, sk: 'LLM#ORG' },
      }),
    );
    expect(JSON.stringify(Item)).not.toContain(secret);
    expect(Item?.apiKeyHint).toBe('9876');

    // Re-saving without apiKey keeps the stored key (keys are write-only).
    const again = await put(llm.putOrgLlmSettings, users.admin as User, orgId, {
      provider: 'openai',
      model: 'gpt-5-mini',
    });
    expect(again.body.apiKeySet).toBe(true);
  });

  it('clears a personal override so the organization default applies again', async () => {
    const { orgId, users } = await orgWith({ alice: 'member' });
    const alice = users.alice as User;
    await put(llm.putMyLlmOverride, alice, orgId, { provider: 'google', model: 'gemini-2.5-pro' });
    const del = await invoke(
      llm.deleteMyLlmOverride,
      apiEvent({ method: 'DELETE', path: '', params: { orgId }, ...alice }),
    );
    expect(del.statusCode).toBe(204);
    const res = await effective(alice, orgId);
    expect(res.body.provider).toEqual({ value: 'anthropic', source: 'default' });
  });
});
