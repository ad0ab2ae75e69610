import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

/**
 * Builds API Gateway HTTP API (payload v2) events as the JWT authorizer delivers them, so tests
 * call the real handlers exactly as Lambda would.
 */
export interface ApiEventInput {
  method: string;
  path: string;
  /** The route key path, e.g. `/api/organizations/{orgId}`; defaults to `path`. */
  routePath?: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Send this exact string as the body (for malformed JSON). */
  rawBody?: string;
  base64?: boolean;
  userId?: string;
  email?: string;
  /** The IdP's `email_verified` claim; true unless a test says otherwise. */
  emailVerified?: boolean;
  headers?: Record<string, string>;
}

export function apiEvent(input: ApiEventInput): APIGatewayProxyEventV2WithJWTAuthorizer {
  const text = input.rawBody ?? (input.body === undefined ? undefined : JSON.stringify(input.body));
  const claims: Record<string, string> = {};
  if (input.userId) claims.sub = input.userId;
  if (input.email) {
    claims.email = input.email;
    claims.email_verified = String(input.emailVerified ?? true);
  }
  const query = input.query ?? {};
  return {
    version: '2.0',
    routeKey: `${input.method} ${input.routePath ?? input.path}`,
    rawPath: input.path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { 'content-type': 'application/json', ...input.headers },
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: input.params,
    body:
      text === undefined ? undefined : input.base64 ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: Boolean(input.base64),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: `${input.method} ${input.routePath ?? input.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: { claims, scopes: [] },
      },
    },
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

/** A webhook request: no authorizer, the exact body bytes, optional base64 encoding. */
export function webhookEvent(input: {
  path: string;
  body: string | Buffer;
  headers: Record<string, string>;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const bytes = Buffer.isBuffer(input.body) ? input.body : Buffer.from(input.body, 'utf8');
  return {
    version: '2.0',
    routeKey: `POST ${input.path}`,
    rawPath: input.path,
    rawQueryString: '',
    headers: input.headers,
    body: input.base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: Boolean(input.base64),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: 'POST',
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'vitest',
      },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: `POST ${input.path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  } as APIGatewayProxyEventV2;
}

export const lambdaContext = {
  functionName: 'test',
  awsRequestId: 'test-request',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

export interface ParsedResponse {
  statusCode: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on response fields directly.
  body: any;
}

/** Invokes a handler and parses its JSON body. */
export async function invoke(
  // biome-ignore lint/suspicious/noExplicitAny: accepts every handler's event type.
  handler: (event: any, context: Context) => Promise<APIGatewayProxyResultV2>,
  event: unknown,
): Promise<ParsedResponse> {
  const result = (await handler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  const text = typeof result.body === 'string' ? result.body : '';
  return { statusCode: result.statusCode ?? 200, body: text ? JSON.parse(text) : undefined };
}
