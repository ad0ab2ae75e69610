import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RouteDefinition } from '#catalogue/routes';
import { type RunningHttpServer, startHttpServer } from '#local/http-server';
import { localAudience, localIssuer, mintToken, verifyToken } from '#local/jwt';

/**
 * The local API Gateway against handlers of the test's own (local-fixture-handlers.ts), so the
 * exact payload v2 event it builds can be asserted.
 */
const fixtures = 'test/integration/local-fixture-handlers.ts';

function route(
  id: string,
  method: RouteDefinition['method'],
  path: string,
  auth: RouteDefinition['auth'],
  handler = 'echo',
): RouteDefinition {
  return { id, method, path, entry: fixtures, handler, auth, action: null, access: {} };
}

const testRoutes: RouteDefinition[] = [
  route('echoMember', 'GET', '/api/organizations/{orgId}/members/{userId}', 'jwt'),
  route('echoFinancial', 'GET', '/api/organizations/{orgId}/members/financial', 'jwt'),
  route('echoBody', 'POST', '/api/things', 'jwt'),
  route('echoWebhook', 'POST', '/webhooks/stripe', 'webhook'),
  route('echoInternal', 'POST', '/internal/resolve', 'iam'),
  route('explode', 'GET', '/api/explode', 'jwt', 'explode'),
  { ...route('missing', 'GET', '/api/missing', 'webhook'), entry: 'functions/api/nope.ts' },
];

let server: RunningHttpServer;
let token: string;

beforeAll(async () => {
  server = await startHttpServer({ port: 0, routes: testRoutes, maxBodyBytes: 1024 });
  token = await mintToken('user-http-1', 'http1@example.com');
});

afterAll(async () => {
  await server.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: parse(text) };
}

function parse(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

describe('local JWT issuer', () => {
  it('mints tokens whose claims the verifier accepts', async () => {
    const claims = await verifyToken(token);

    expect(claims).toMatchObject({
      iss: localIssuer,
      aud: localAudience,
      sub: 'user-http-1',
      email: 'http1@example.com',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * 60 * 60);
  });
});

describe('local HTTP API: authorization', () => {
  it('answers 401 Unauthorized on a JWT route without a token', async () => {
    const response = await call('/api/organizations/org_abcdef/members/financial');

    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: 'Unauthorized' });
  });

  it('answers 401 to an expired token', async () => {
    const expired = await mintToken('user-http-1', 'http1@example.com', { expiresIn: -60 });

    const response = await call('/api/organizations/org_abcdef/members/financial', {
      headers: bearer(expired),
    });

    expect(response.status).toBe(401);
  });

  it('answers 401 to a token for another audience or issuer', async () => {
    const otherAudience = await mintToken('u', 'u@example.com', { audience: 'someone-else' });
    const otherIssuer = await mintToken('u', 'u@example.com', { issuer: 'https://evil.example' });

    const statuses = await Promise.all(
      [otherAudience, otherIssuer].map(
        async (t) => (await call('/api/things', { method: 'POST', headers: bearer(t) })).status,
      ),
    );

    expect(statuses).toEqual([401, 401]);
  });

  it('answers 401 to a token signed with a key the issuer does not hold', async () => {
    const { generateKeyPair } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ email: 'x@example.com' })
      .setProtectedHeader({ alg: 'ES256', kid: 'local-1' })
      .setIssuer(localIssuer)
      .setAudience(localAudience)
      .setSubject('user-http-1')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);

    const response = await call('/api/things', { method: 'POST', headers: bearer(forged) });

    expect(response.status).toBe(401);
    expect(response.body).toEqual({ message: 'Unauthorized' });
  });

  it('accepts an internal (IAM) route without a JWT and marks the caller as simulated IAM', async () => {
    const response = await call('/internal/resolve', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"provider":"github"}',
    });

    expect(response.status).toBe(200);
    expect(response.body.requestContext.authorizer.iam.accountId).toBe('000000000000');
    expect(response.body.body).toBe('{"provider":"github"}');
  });
});

describe('local HTTP API: the payload v2 event', () => {
  it('hands the handler verified claims, path and query parameters and lower-cased headers', async () => {
    const response = await call(
      '/api/organizations/org_abc123/members/user%20two?limit=5&tag=a&tag=b',
      { headers: { ...bearer(token), 'X-Custom-Header': 'Value' } },
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('x-echo')).toBe('yes');
    const event = response.body;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('GET /api/organizations/{orgId}/members/{userId}');
    expect(event.rawPath).toBe('/api/organizations/org_abc123/members/user%20two');
    expect(event.rawQueryString).toBe('limit=5&tag=a&tag=b');
    expect(event.queryStringParameters).toEqual({ limit: '5', tag: 'a,b' });
    expect(event.pathParameters).toEqual({ orgId: 'org_abc123', userId: 'user two' });
    expect(event.headers['x-custom-header']).toBe('Value');
    expect(event.requestContext.http.method).toBe('GET');
    expect(event.requestContext.routeKey).toBe(event.routeKey);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.authorizer.jwt.claims).toMatchObject({
      sub: 'user-http-1',
      email: 'http1@example.com',
      iss: localIssuer,
      aud: localAudience,
    });
    expect(typeof event.requestContext.authorizer.jwt.claims.exp).toBe('string');
  });

  it('prefers the literal route segment over a path parameter', async () => {
    const response = await call('/api/organizations/org_abc123/members/financial', {
      headers: bearer(token),
    });

    expect(response.body.routeKey).toBe('GET /api/organizations/{orgId}/members/financial');
    expect(response.body.pathParameters).toEqual({ orgId: 'org_abc123' });
  });

  it('passes a JSON body as text', async () => {
    const response = await call('/api/things', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json; charset=utf-8' },
      body: '{"name":"Ünïcode"}',
    });

    expect(response.body.isBase64Encoded).toBe(false);
    expect(response.body.body).toBe('{"name":"Ünïcode"}');
  });

  it('base64-encodes a form-encoded or binary webhook body and keeps its exact bytes', async () => {
    const form = Buffer.from('payload=%7B%22a%22%3A1%7D&x=%20');
    const binary = Buffer.concat([randomBytes(64), Buffer.from([0xff, 0xfe, 0x00])]);

    const formEvent = (
      await call('/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      })
    ).body;
    const binaryEvent = (
      await call('/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: binary,
      })
    ).body;

    expect(formEvent.isBase64Encoded).toBe(true);
    expect(Buffer.from(formEvent.body, 'base64').equals(form)).toBe(true);
    expect(binaryEvent.isBase64Encoded).toBe(true);
    expect(Buffer.from(binaryEvent.body, 'base64').equals(binary)).toBe(true);
    expect(formEvent.requestContext.authorizer).toBeUndefined();
  });
});

describe('local HTTP API: errors as API Gateway answers them', () => {
  it('answers 404 Not Found for an unknown path or a method the path does not have', async () => {
    const unknown = await call('/api/nothing-here', { headers: bearer(token) });
    const wrongMethod = await call('/api/things', { headers: bearer(token) });

    expect([unknown.status, wrongMethod.status]).toEqual([404, 404]);
    expect(unknown.body).toEqual({ message: 'Not Found' });
  });

  it('answers 413 to a body over the size limit without calling the handler', async () => {
    const response = await call('/webhooks/stripe', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1025),
    });

    expect(response.status).toBe(413);
    expect(response.body).toEqual({ message: 'Request Entity Too Large' });
  });

  it('answers a generic 500 when the handler throws or its module does not exist', async () => {
    // The server logs the failure for the developer; the caller sees nothing of it.
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const thrown = await call('/api/explode', { headers: bearer(token) });
    const missing = await call('/api/missing');
    expect(logged).toHaveBeenCalledTimes(2);
    logged.mockRestore();

    expect(thrown.status).toBe(500);
    expect(thrown.text).toBe('{"message":"Internal Server Error"}');
    expect(missing.status).toBe(500);
    expect(missing.text).toBe('{"message":"Internal Server Error"}');
  });
});
