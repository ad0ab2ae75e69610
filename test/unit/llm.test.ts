import { describe, expect, it } from 'vitest';
import { checkBaseUrl, resolveEffectiveLlmSettings, type StoredLlmSettings } from '#domain/llm';

const orgWithKey: StoredLlmSettings = {
  provider: 'anthropic',
  model: 'claude-opus-4-5',
  apiKeySet: true,
  apiKeyHint: '1234',
};

describe('effective LLM settings', () => {
  it('lends the organization key to a member who keeps its provider and endpoint', () => {
    const effective = resolveEffectiveLlmSettings(orgWithKey, {
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      apiKeySet: false,
    });
    expect(effective.model).toEqual({ value: 'claude-haiku-4-5', source: 'member' });
    expect(effective.apiKey).toEqual({
      value: { set: true, lastFour: '1234' },
      source: 'organization',
    });
  });

  it('never sends the organization key to a base URL a member chose', () => {
    const effective = resolveEffectiveLlmSettings(orgWithKey, {
      provider: 'anthropic',
      model: 'claude-opus-4-5',
      baseUrl: 'https://collector.example.com',
      apiKeySet: false,
    });
    expect(effective.baseUrl).toEqual({ value: 'https://collector.example.com', source: 'member' });
    expect(effective.apiKey).toEqual({ value: { set: false, lastFour: null }, source: 'default' });
  });

  it('never sends the organization key to another provider', () => {
    const effective = resolveEffectiveLlmSettings(orgWithKey, {
      provider: 'openai',
      model: 'gpt-5',
      apiKeySet: false,
    });
    expect(effective.apiKey.value.set).toBe(false);
  });

  it('falls back to the service default when nothing is configured', () => {
    const effective = resolveEffectiveLlmSettings(undefined, undefined);
    expect(effective.provider).toEqual({ value: 'anthropic', source: 'default' });
  });
});

describe('base URL rules', () => {
  it.each([
    ['http://api.example.com/v1', 'baseUrl must use https'],
    ['https://user:pass@api.example.com', 'baseUrl must not carry credentials'],
    ['https://localhost:8443', 'baseUrl must be a public host'],
    [
      'https://169.254.169.254/latest/meta-data',
      'baseUrl must not point at a private or local address',
    ],
    ['https://10.1.2.3/v1', 'baseUrl must not point at a private or local address'],
    ['https://[::1]:8300/', 'baseUrl must not point at a private or local address'],
    ['not a url', 'baseUrl is not a URL'],
  ])('refuses %s', (url, reason) => {
    expect(checkBaseUrl(url)).toBe(reason);
  });

  it('accepts a public HTTPS endpoint', () => {
    expect(checkBaseUrl('https://llm-gateway.example.com/v1')).toBeUndefined();
  });
});
