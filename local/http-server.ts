import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { routes as catalogueRoutes, type RouteDefinition } from '#catalogue/routes';
import { authorizerClaims, UnauthorizedError, verifyToken } from '#local/jwt';
import { lambdaContext, loadHandler } from '#local/lambda';

/**
 * The local API Gateway: matches requests against the route catalogue, turns them into HTTP API
 * payload v2 events (verifying JWTs as the JWT authorizer would) and calls the same handlers
 * Lambda runs. Routes with `auth: 'iam'` are accepted without a signature: IAM is simulated.
 */
export interface HttpServerOptions {
  port?: number;
  host?: string;
  routes?: RouteDefinition[];
  /** Larger bodies get 413. */
  maxBodyBytes?: number;
  /** Like API Gateway's integration timeout: a slower handler gets 503. */
  timeoutMs?: number;
  /** Called with one line per request (method, path, status, duration). */
  log?: (line: string) => void;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close: () => Promise<void>;
}

interface CompiledRoute {
  route: RouteDefinition;
  pattern: RegExp;
  paramNames: string[];
}

const jsonHeaders = { 'content-type': 'application/json' };

export async function startHttpServer(options: HttpServerOptions = {}): Promise<RunningHttpServer> {
  const compiled = (options.routes ?? catalogueRoutes).map(compileRoute);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;

  const server = createServer((request, response) => {
    const started = Date.now();
    if (options.log) {
      const log = options.log;
      response.once('finish', () => {
        const took = Date.now() - started;
        log(`${request.method} ${request.url} -> ${response.statusCode} (${took} ms)`);
      });
    }
    serve(request, response, compiled, maxBodyBytes, timeoutMs).catch((error) => {
      console.error('local api: request failed', error);
      if (!response.headersSent) send(response, 500, { message: 'Internal Server Error' });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  compiled: CompiledRoute[],
  maxBodyBytes: number,
  timeoutMs: number,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = (request.method ?? 'GET').toUpperCase();
  const match = matchRoute(compiled, method, url.pathname);
  if (!match) {
    await drain(request);
    return send(response, 404, { message: 'Not Found' });
  }

  const body = await readBody(request, maxBodyBytes);
  if (body === 'too-large') {
    return send(response, 413, { message: 'Request Entity Too Large' });
  }

  const { route, pathParameters } = match;
  let authorizer: Record<string, unknown> | undefined;
  if (route.auth === 'jwt') {
    const claims = await bearerClaims(request.headers.authorization);
    if (!claims) return send(response, 401, { message: 'Unauthorized' });
    authorizer = { jwt: { claims, scopes: null }, principalId: '', integrationLatency: 0 };
  } else if (route.auth === 'iam') {
    authorizer = { iam: simulatedIamCaller };
  }

  const event = buildEvent({ request, url, route, pathParameters, body, authorizer });
  const result = await invokeWithTimeout(route, event, timeoutMs);
  writeResult(response, result);
}

function compileRoute(route: RouteDefinition): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(segment);
      if (!param?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(param[1]);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), paramNames };
}

/**
 * API Gateway prefers the most specific route: literal segments beat `{param}`, so
 * `/members/financial` wins over `/members/{userId}` whatever the catalogue order.
 */
function matchRoute(
  compiled: CompiledRoute[],
  method: string,
  pathname: string,
): { route: RouteDefinition; pathParameters: Record<string, string> } | undefined {
  const candidates = compiled
    .filter((c) => c.route.method === method && c.pattern.test(pathname))
    .sort((a, b) => a.paramNames.length - b.paramNames.length);
  const best = candidates[0];
  if (!best) return undefined;
  const values = best.pattern.exec(pathname)?.slice(1) ?? [];
  const pathParameters: Record<string, string> = {};
  best.paramNames.forEach((name, index) => {
    pathParameters[name] = safeDecode(values[index] ?? '');
  });
  return { route: best.route, pathParameters };
}

async function bearerClaims(header: string | undefined) {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  if (!token) return undefined;
  try {
    return authorizerClaims(await verifyToken(token));
  } catch (error) {
    if (error instanceof UnauthorizedError) return undefined;
    throw error;
  }
}

const simulatedIamCaller = {
  accessKey: 'LOCALACCESSKEY',
  accountId: '000000000000',
  callerId: 'LOCALCALLER',
  principalOrgId: null,
  userArn: 'arn:aws:iam::000000000000:user/local-resolver',
  userId: 'LOCALCALLER',
};

interface EventInput {
  request: IncomingMessage;
  url: URL;
  route: RouteDefinition;
  pathParameters: Record<string, string>;
  body: Buffer;
  authorizer: Record<string, unknown> | undefined;
}

/** An API Gateway HTTP API payload format 2.0 event. */
function buildEvent(input: EventInput): APIGatewayProxyEventV2 {
  const { request, url, route, pathParameters, body, authorizer } = input;
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (!value) continue;
    if (name === 'cookie') cookies = value.flatMap((v) => v.split(/;\s*/)).filter(Boolean);
    else headers[name] = value.join(',');
  }

  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }

  const routeKey = `${route.method} ${route.path}`;
  const now = new Date();
  const asText = body.length > 0 && isTextContent(headers['content-type']) && isUtf8(body);
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: asText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !asText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      ...(authorizer ? { authorizer } : {}),
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method: route.method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  } as APIGatewayProxyEventV2;
}

/**
 * API Gateway passes JSON, XML, JavaScript and text/* bodies as text and base64-encodes the rest
 * (form posts included), so signature checks must work on decoded bytes.
 */
function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    /^application\/([\w.-]+\+)?(json|xml)$/.test(type) ||
    type === 'application/javascript'
  );
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes);
}

async function invokeWithTimeout(
  route: RouteDefinition,
  event: APIGatewayProxyEventV2,
  timeoutMs: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const handler = await loadHandler(route.entry, route.handler);
    const context: Context = lambdaContext(route.id, event.requestContext.requestId, timeoutMs);
    const outcome = await Promise.race([handler(event, context), timeout]);
    if (outcome === 'timeout') {
      console.error(`local api: ${route.id} timed out after ${timeoutMs} ms`);
      return jsonResult(503, { message: 'Service Unavailable' });
    }
    return normaliseResult(outcome);
  } catch (error) {
    // What API Gateway answers when the function throws or cannot be loaded.
    console.error(`local api: ${route.id} failed`, error);
    return jsonResult(500, { message: 'Internal Server Error' });
  } finally {
    clearTimeout(timer);
  }
}

/** Payload v2 lets a function return a bare value: it becomes a 200 JSON body. */
function normaliseResult(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    return result as APIGatewayProxyStructuredResultV2;
  }
  if (typeof result === 'string') return { statusCode: 200, headers: jsonHeaders, body: result };
  return jsonResult(200, result ?? null);
}

function writeResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

function jsonResult(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: jsonHeaders, body: JSON.stringify(body) };
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  writeResult(response, jsonResult(statusCode, body));
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) {
    await drain(request);
    return 'too-large';
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) tooLarge = true;
    else chunks.push(chunk as Buffer);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // discard: the answer does not depend on the body
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
