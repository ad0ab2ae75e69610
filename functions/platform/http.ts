import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  Context,
} from 'aws-lambda';
import { ZodError, type ZodType, type z } from 'zod';
import { AppError, BadRequestError, UnauthorizedError, ValidationError } from '#platform/errors';
import { logger } from '#platform/logger';

/**
 * The HTTP edge: every API handler is `httpRoute(schemas, fn)` and every webhook is
 * `webhookRoute(fn)`. Inputs are parsed by zod before `fn` sees them, errors are mapped to
 * status codes in one place (`toErrorResponse`), and 5xx bodies never carry internals.
 */
export interface Caller {
  userId: string;
  email: string | undefined;
}

export interface HttpResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteSchemas {
  body?: ZodType;
  params?: ZodType;
  query?: ZodType;
}

type Parsed<S extends RouteSchemas, K extends keyof RouteSchemas> = S[K] extends ZodType
  ? z.output<S[K]>
  : undefined;

export interface HttpRequest<S extends RouteSchemas> {
  caller: Caller;
  body: Parsed<S, 'body'>;
  params: Parsed<S, 'params'>;
  query: Parsed<S, 'query'>;
  event: APIGatewayProxyEventV2WithJWTAuthorizer;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export type WebhookHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export function json(statusCode: number, body?: unknown): HttpResult {
  return { statusCode, body };
}

export function httpRoute<S extends RouteSchemas>(
  schemas: S,
  fn: (request: HttpRequest<S>) => Promise<HttpResult>,
): ApiHandler {
  const base = async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
    const caller = readCaller(event);
    const request = {
      caller,
      event,
      body: parseWith(schemas.body, () => readJsonBody(event), 'body'),
      params: parseWith(schemas.params, () => event.pathParameters ?? {}, 'path'),
      query: parseWith(schemas.query, () => event.queryStringParameters ?? {}, 'query'),
    } as HttpRequest<S>;
    logger.appendKeys({ userId: caller.userId });
    return toResponse(await fn(request));
  };
  return middy(base).use(errorMapping()) as unknown as ApiHandler;
}

export interface WebhookRequest {
  /** The exact bytes the sender signed (decoded when API Gateway base64-encoded them). */
  rawBody: Buffer;
  headers: Record<string, string | undefined>;
  event: APIGatewayProxyEventV2;
}

export function webhookRoute(fn: (request: WebhookRequest) => Promise<HttpResult>): WebhookHandler {
  const base = async (event: APIGatewayProxyEventV2) => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    return toResponse(await fn({ rawBody: readRawBody(event), headers, event }));
  };
  return middy(base).use(errorMapping()) as unknown as WebhookHandler;
}

export function readRawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

function readCaller(event: APIGatewayProxyEventV2WithJWTAuthorizer): Caller {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') throw new UnauthorizedError();
  const email = typeof claims.email === 'string' ? claims.email.toLowerCase() : undefined;
  return { userId: sub, email };
}

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = readRawBody(event);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequestError('Request body is not valid JSON', undefined, 'invalid_json');
  }
}

function parseWith(schema: ZodType | undefined, read: () => unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(read());
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

export function validationError(error: ZodError, where: string): ValidationError {
  const details = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = details[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid input';
  return new ValidationError(`Invalid request ${where} (${summary})`, details);
}

function toResponse(result: HttpResult): APIGatewayProxyResultV2 {
  return {
    statusCode: result.statusCode,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: result.body === undefined ? '' : JSON.stringify(result.body),
  };
}

export function toErrorResponse(error: unknown): APIGatewayProxyResultV2 {
  if (error instanceof AppError && error.statusCode < 500) {
    const body: Record<string, unknown> = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return toResponse({ statusCode: error.statusCode, body: { error: body } });
  }
  if (error instanceof ZodError) {
    const mapped = validationError(error, 'input');
    return toErrorResponse(mapped);
  }
  if (error instanceof AppError) {
    logger.warn('Request failed upstream', { code: error.code, errorMessage: error.message });
    return toResponse({
      statusCode: error.statusCode,
      body: { error: { code: error.code, message: genericMessage(error.statusCode) } },
    });
  }
  logger.error('Unhandled error', error as Error);
  return toResponse({
    statusCode: 500,
    body: { error: { code: 'internal_error', message: 'Internal error' } },
  });
}

function genericMessage(status: number): string {
  if (status === 502) return 'An upstream service failed; please retry later';
  if (status === 503) return 'Temporarily unavailable, please retry';
  return 'Internal error';
}

function errorMapping(): middy.MiddlewareObj {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error);
    },
  };
}
