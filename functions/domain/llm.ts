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

/** Which field makes a provider/model/base URL choice unacceptable and why, or undefined. */
export function checkLlmChoice(choice: {
  provider: string;
  model: string;
  baseUrl?: string | null;
}): { field: 'provider' | 'model' | 'baseUrl'; message: string } | undefined {
  const provider = llmProviders.find((p) => p.id === choice.provider);
  if (!provider) {
    return {
      field: 'provider',
      message: `Unknown provider "${choice.provider}"; see GET /api/llm/providers`,
    };
  }
  if (provider.models.length > 0 && !provider.models.includes(choice.model)) {
    const models = provider.models.join(', ');
    return {
      field: 'model',
      message: `Provider ${provider.id} has no model "${choice.model}"; choose one of: ${models}`,
    };
  }
  if (provider.requiresBaseUrl && !choice.baseUrl) {
    return { field: 'baseUrl', message: `Provider ${provider.id} needs a baseUrl` };
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
 * most specific level that sets them. The organization's API key is used only while the member
 * uses the organization's provider *and* its endpoint (they set no base URL of their own): a key
 * is never sent to another provider or to a URL a member chose.
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
  const sameProvider = base.source === 'member' && organization?.provider === provider;

  const baseUrl = pick(
    base.settings?.baseUrl,
    base.source,
    sameProvider ? organization?.baseUrl : undefined,
  );
  const usesOrgEndpoint = sameProvider && !member?.baseUrl;
  const keyFrom = base.settings?.apiKeySet
    ? { settings: base.settings, source: base.source }
    : usesOrgEndpoint && organization?.apiKeySet
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

/**
 * Why a base URL is not acceptable, or undefined. The conversation runtime sends API keys to
 * it, so only public HTTPS endpoints: no credentials in the URL, no IP literals of private,
 * loopback or link-local (cloud metadata) ranges, no localhost.
 */
export function checkBaseUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'baseUrl is not a URL';
  }
  if (url.protocol !== 'https:') return 'baseUrl must use https';
  if (url.username || url.password) return 'baseUrl must not carry credentials';
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) {
    return 'baseUrl must be a public host';
  }
  if (isPrivateAddress(host)) return 'baseUrl must not point at a private or local address';
  return undefined;
}

function isPrivateAddress(host: string): boolean {
  const v4 = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (host.includes(':')) {
    // IPv6 literal: loopback, unspecified, unique-local, link-local, IPv4-mapped.
    return (
      host === '::1' ||
      host === '::' ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host) ||
      host.startsWith('::ffff:')
    );
  }
  return false;
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
