/**
 * LLM configuration rules: the catalogue of providers and models, and how a member's effective
 * settings are resolved from their personal override, the organization default and the
 * service default, field by field.
 */
export interface LlmProvider {
  id: string;
  name: string;
  models: string[];
  /** Providers reached through an OpenAI-compatible endpoint need a base URL and take any model. */
  requiresBaseUrl: boolean;
}

export const llmProviders: LlmProvider[] = [
  {
    id: 'anthropic',
    name: 'Anthropic',
    models: ['claude-opus-4-5', 'claude-sonnet-4-5', 'claude-haiku-4-5'],
    requiresBaseUrl: false,
  },
  {
    id: 'openai',
    name: 'OpenAI',
    models: ['gpt-5', 'gpt-5-mini', 'o4-mini'],
    requiresBaseUrl: false,
  },
  {
    id: 'google',
    name: 'Google Gemini',
    models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    requiresBaseUrl: false,
  },
  {
    id: 'mistral',
    name: 'Mistral',
    models: ['devstral-medium', 'mistral-large'],
    requiresBaseUrl: false,
  },
  {
    id: 'openai-compatible',
    name: 'OpenAI-compatible endpoint',
    models: [],
    requiresBaseUrl: true,
  },
];

export const serviceDefaultLlm = { provider: 'anthropic', model: 'claude-sonnet-4-5' } as const;

/** Why a provider/model/base URL combination is not acceptable, or undefined when it is. */
export function checkLlmChoice(choice: {
  provider: string;
  model: string;
  baseUrl?: string | null;
}): string | undefined {
  const provider = llmProviders.find((p) => p.id === choice.provider);
  if (!provider) {
    return `Unknown provider "${choice.provider}"; see GET /api/llm/providers`;
  }
  if (provider.models.length > 0 && !provider.models.includes(choice.model)) {
    return `Provider ${provider.id} has no model "${choice.model}"; choose one of: ${provider.models.join(', ')}`;
  }
  if (provider.requiresBaseUrl && !choice.baseUrl) {
    return `Provider ${provider.id} needs a baseUrl`;
  }
  return undefined;
}

export interface StoredLlmSettings {
  provider: string;
  model: string;
  baseUrl?: string;
  apiKeyHint?: string;
  apiKeySet: boolean;
}

export type LlmSource = 'member' | 'organization' | 'default';

export interface EffectiveField<T> {
  value: T;
  source: LlmSource;
}

export interface EffectiveLlmSettings {
  provider: EffectiveField<string>;
  model: EffectiveField<string>;
  baseUrl: EffectiveField<string | null>;
  apiKey: EffectiveField<{ set: boolean; lastFour: string | null }>;
}

/**
 * Resolves what a member's conversations use. The provider and model come as a pair from the
 * most specific level that sets them. A base URL or API key is inherited from the organization
 * only while the member uses the organization's provider: a key for one provider is never sent
 * to another.
 */
export function resolveEffectiveLlmSettings(
  organization: StoredLlmSettings | undefined,
  member: StoredLlmSettings | undefined,
): EffectiveLlmSettings {
  const base: { settings: StoredLlmSettings | undefined; source: LlmSource } = member
    ? { settings: member, source: 'member' }
    : organization
      ? { settings: organization, source: 'organization' }
      : { settings: undefined, source: 'default' };

  const provider = base.settings?.provider ?? serviceDefaultLlm.provider;
  const model = base.settings?.model ?? serviceDefaultLlm.model;
  const inheritsOrg = base.source === 'member' && organization?.provider === provider;

  const baseUrl = pick(
    base.settings?.baseUrl,
    base.source,
    inheritsOrg ? organization?.baseUrl : undefined,
  );
  const keyFrom = base.settings?.apiKeySet
    ? { settings: base.settings, source: base.source }
    : inheritsOrg && organization?.apiKeySet
      ? { settings: organization, source: 'organization' as const }
      : undefined;

  return {
    provider: { value: provider, source: base.source },
    model: { value: model, source: base.source },
    baseUrl,
    apiKey: keyFrom
      ? {
          value: { set: true, lastFour: keyFrom.settings.apiKeyHint || null },
          source: keyFrom.source,
        }
      : { value: { set: false, lastFour: null }, source: 'default' },
  };
}

function pick(
  own: string | undefined,
  ownSource: LlmSource,
  inherited: string | undefined,
): EffectiveField<string | null> {
  if (own) return { value: own, source: ownSource };
  if (inherited) return { value: inherited, source: 'organization' };
  return { value: null, source: 'default' };
}
