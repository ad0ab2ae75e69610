import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricsCatalogue } from '#catalogue/metrics';
import { defaultWebhookMaxBodyBytes, json, signedWebhookRoute, webhookRoute } from '#platform/http';
import { invoke, webhookEvent } from '#test/support/api-event';
import { emittedMetrics } from '#test/support/metrics';
import { handler as githubWebhook } from '#webhooks/github';
import { handler as stripeWebhook } from '#webhooks/stripe';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('webhook body size limit', () => {
  it('answers 413 for a body one byte over the limit without calling the handler', async () => {
    const fn = vi.fn(async () => json(200, { ok: true }));
    const route = webhookRoute(fn, { maxBodyBytes: 1024 });

    const response = await invoke(
      route,
      webhookEvent({ path: '/webhooks/test', body: 'x'.repeat(1025), headers: {} }),
    );

    expect(response.statusCode).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
    expect(fn).not.toHaveBeenCalled();
  });

  it('accepts a body of exactly the limit', async () => {
    const fn = vi.fn(async () => json(200, { ok: true }));
    const route = webhookRoute(fn, { maxBodyBytes: 1024 });

    const response = await invoke(
      route,
      webhookEvent({ path: '/webhooks/test', body: 'x'.repeat(1024), headers: {} }),
    );

    expect(response.statusCode).toBe(200);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('measures the decoded bytes of a base64-encoded body', async () => {
    const fn = vi.fn(async () => json(200, { ok: true }));
    const route = webhookRoute(fn, { maxBodyBytes: 1024 });

    const response = await invoke(
      route,
      webhookEvent({ path: '/webhooks/test', body: 'x'.repeat(1025), headers: {}, base64: true }),
    );

    expect(response.statusCode).toBe(413);
  });

  it('refuses a Stripe delivery over 256 KB before checking its signature', async () => {
    expect(defaultWebhookMaxBodyBytes).toBe(256 * 1024);

    const response = await invoke(
      stripeWebhook,
      webhookEvent({
        path: '/webhooks/stripe',
        body: JSON.stringify({ padding: 'x'.repeat(256 * 1024) }),
        headers: { 'stripe-signature': 't=1,v1=not-a-signature' },
      }),
    );

    expect(response.statusCode).toBe(413);
  });
});

describe('webhook rejection metric', () => {
  it('counts a GitHub delivery with a wrong signature as webhookRejected, reason signature', async () => {
    let status = 0;
    const emitted = await emittedMetrics(async () => {
      const response = await invoke(
        githubWebhook,
        webhookEvent({
          path: '/webhooks/github',
          body: JSON.stringify({ action: 'created' }),
          headers: {
            'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
            'x-github-event': 'issue_comment',
            'x-github-delivery': 'delivery-1',
          },
        }),
      );
      status = response.statusCode;
    });

    expect(status).toBe(401);
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({
      service: metricsCatalogue.serviceName,
      sender: 'github',
      reason: 'signature',
      webhookRejected: 1,
    });
    expect(JSON.stringify(emitted[0])).toContain(`"Namespace":"${metricsCatalogue.namespace}"`);
  });

  it('counts an oversized delivery with reason too_large', async () => {
    const route = signedWebhookRoute('gitlab', async () => json(200), { maxBodyBytes: 10 });

    const emitted = await emittedMetrics(() =>
      invoke(
        route,
        webhookEvent({ path: '/webhooks/gitlab', body: '{"a":"too long"}', headers: {} }),
      ),
    );

    expect(emitted).toEqual([
      expect.objectContaining({ sender: 'gitlab', reason: 'too_large', webhookRejected: 1 }),
    ]);
  });

  it('counts nothing for a route that names no sender', async () => {
    const route = webhookRoute(async () => json(200), { maxBodyBytes: 10 });

    const emitted = await emittedMetrics(() =>
      invoke(
        route,
        webhookEvent({ path: '/internal/resolve', body: '{"a":"too long"}', headers: {} }),
      ),
    );

    expect(emitted).toEqual([]);
  });
});
