import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  Context,
} from 'aws-lambda';
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import type { WebhookRejectionReason, WebhookSender } from '#catalogue/metrics';
import { optionalIntEnv } from '#platform/config';
import {
  AppError,
  BadRequestError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#platform/errors';
import { logger } from '#platform/logger';
import { publishMetrics, recordWebhookRejected } from '#platform/metrics';

// zod/mini loads no locale (every issue would read "Invalid input"): English, as full zod has.
z.config(en());

/**
 * The HTTP edge: every API handler is `httpRoute(schemas, fn)` and every webhook is
 * `signedWebhookRoute(sender, fn)`. Inputs are parsed by zod before `fn` sees them, errors are mapped to
 * status codes in one place (`toErrorResponse`), and 5xx bodies never carry internals. Buffered
 * metrics are written after every invocation.
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

type Schema = z.ZodMiniType;

interface RouteSchemas {
  body?: Schema;
  params?: Schema;
  query?: Schema;
}

type Parsed<S extends RouteSchemas, K extends keyof RouteSchemas> = S[K] extends Schema
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
    logger.resetKeys();
    const caller = readCaller(event);
    // Path, query and body are all checked before answering, so one 422 lists every problem.
    const params = parseWith(schemas.params, () => event.pathParameters ?? {}, 'path');
    const query = parseWith(schemas.query, () => event.queryStringParameters ?? {}, 'query');
    const body = parseWith(schemas.body, () => readJsonBody(event), 'body');
    const failed = [params, query, body].flatMap((part) => (part.error ? [part.error] : []));
    if (failed.length > 0) throw combineValidationErrors(failed);
    const request = {
      caller,
      event,
      body: body.data,
      params: params.data,
      query: query.data,
    } as HttpRequest<S>;
    logger.appendKeys({ userId: caller.userId });
    return toResponse(await fn(request));
  };
  return middy(base).use(metricsPublishing()).use(errorMapping()) as unknown as ApiHandler;
}

export interface WebhookRequest {
  /** The exact bytes the sender signed (decoded when API Gateway base64-encoded them). */
  rawBody: Buffer;
  headers: Record<string, string | undefined>;
  event: APIGatewayProxyEventV2;
}

export interface WebhookOptions {
  /** Larger bodies are refused with 413 before any verification. */
  maxBodyBytes?: number;
  /** Who signs these requests; their 4xx answers are counted as rejections per reason. */
  sender?: WebhookSender;
}

/**
 * Stripe events and the GitHub/GitLab events we subscribe to are kilobytes to tens of kilobytes;
 * API Gateway accepts up to 10 MB, so the limit is enforced here (WEBHOOK_MAX_BODY_BYTES).
 */
export const defaultWebhookMaxBodyBytes = optionalIntEnv('WEBHOOK_MAX_BODY_BYTES', 256 * 1024);

type WebhookFn = (request: WebhookRequest) => Promise<HttpResult>;

/** A webhook signed by `sender`: a `webhookRoute` whose rejections are counted. */
export function signedWebhookRoute(
  sender: WebhookSender,
  fn: WebhookFn,
  options: Omit<WebhookOptions, 'sender'> = {},
): WebhookHandler {
  return webhookRoute(fn, { ...options, sender });
}

/** A route that needs the exact raw body (webhooks, internal IAM routes). */
export function webhookRoute(fn: WebhookFn, options: WebhookOptions = {}): WebhookHandler {
  const { sender } = options;
  const maxBodyBytes = options.maxBodyBytes ?? defaultWebhookMaxBodyBytes;
  const base = async (event: APIGatewayProxyEventV2) => {
    logger.resetKeys();
    try {
      const rawBody = readRawBody(event);
      if (rawBody.length > maxBodyBytes) {
        throw new PayloadTooLargeError(`Webhook body is larger than ${maxBodyBytes} bytes`);
      }
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(event.headers ?? {})) {
        headers[name.toLowerCase()] = value;
      }
      return toResponse(await fn({ rawBody, headers, event }));
    } catch (error) {
      const reason = rejectionReason(error);
      if (sender && reason) {
        recordWebhookRejected(sender, reason);
        logger.warn('Webhook rejected', { sender, reason });
      }
      throw error;
    }
  };
  return middy(base).use(metricsPublishing()).use(errorMapping()) as unknown as WebhookHandler;
}

/** Why a webhook answer is a 4xx, for the `webhookRejected` metric; undefined for 5xx. */
function rejectionReason(error: unknown): WebhookRejectionReason | undefined {
  if (error instanceof PayloadTooLargeError) return 'too_large';
  if (error instanceof UnauthorizedError) return 'signature';
  if (error instanceof AppError && error.code === 'invalid_signature') return 'signature';
  if (error instanceof AppError && error.statusCode < 500) return 'payload';
  if (error instanceof $ZodError) return 'payload';
  return undefined;
}

export function readRawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * The caller, from the claims the JWT authorizer verified. The email is used only when the
 * identity provider says it verified it (`email_verified`, a string in API Gateway's claims):
 * others may add a user by email, so an unverified one could impersonate someone.
 */
function readCaller(event: APIGatewayProxyEventV2WithJWTAuthorizer): Caller {
  const claims = event.requestContext?.authorizer?.jwt?.claims ?? {};
  const sub = claims.sub;
  if (typeof sub !== 'string' || !userIdPattern.test(sub)) throw new UnauthorizedError();
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  const email =
    verified && typeof claims.email === 'string' && claims.email.length <= 320
      ? claims.email.toLowerCase()
      : undefined;
  return { userId: sub, email };
}

/** Subjects we can key by: printable, no separators of our keys, at most 128 characters. */
const userIdPattern = /^[\x21-\x7e]{1,128}$/;

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = readRawBody(event);
  if (raw.length === 0) return undefined;
  return parseJsonBody(raw, event.headers?.['content-type'] ?? event.headers?.['Content-Type']);
}

/** A JSON request body: 415 when it is declared as something else, 400 when it does not parse. */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  if (contentType !== undefined && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError();
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequestError('Request body is not valid JSON', undefined, 'invalid_json');
  }
}

function parseWith(
  schema: Schema | undefined,
  read: () => unknown,
  where: string,
): { data?: unknown; error?: ValidationError } {
  if (!schema) return {};
  const result = schema.safeParse(read());
  return result.success ? { data: result.data } : { error: validationError(result.error, where) };
}

function combineValidationErrors(errors: ValidationError[]): ValidationError {
  const [first] = errors;
  if (errors.length === 1 && first) return first;
  const details = errors.flatMap((error) => error.details as unknown[]);
  return new ValidationError(errors.map((error) => error.message).join('; '), details);
}

export function validationError(error: $ZodError, where: string): ValidationError {
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
  if (error instanceof $ZodError) {
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

function metricsPublishing(): middy.MiddlewareObj {
  return {
    after: async () => publishMetrics(),
    onError: async () => publishMetrics(),
  };
}

function errorMapping(): middy.MiddlewareObj {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error);
    },
  };
}
