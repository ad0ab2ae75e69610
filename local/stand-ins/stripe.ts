import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, sendJson } from '#local/stand-ins/serve';

/**
 * A local stand-in for the parts of Stripe's API the service calls: POST /v1/customers,
 * POST /v1/checkout/sessions and GET /v1/checkout/sessions/:id. Requests are form-encoded as
 * Stripe's API expects (`metadata[orgId]=...`, `line_items[0][price_data][unit_amount]=...`),
 * answers use Stripe's documented object shapes and error envelope, and an `Idempotency-Key`
 * replays the first response (a different request under the same key is an idempotency error,
 * as in Stripe). Handlers reach it through `STRIPE_API_BASE`.
 */
export interface StripeStandIn {
  url: string;
  close: () => Promise<void>;
  /** Sessions created so far, by id (tests and the demo read amounts from here). */
  sessions: Map<string, Record<string, unknown>>;
  customers: Map<string, Record<string, unknown>>;
  /** How many POSTs reached the stand-in (idempotent replays included). */
  requestCount: () => number;
}

type FormValue = string | FormObject | FormValue[];
interface FormObject {
  [key: string]: FormValue;
}

export async function startStripeStandIn(options: { port?: number } = {}): Promise<StripeStandIn> {
  const sessions = new Map<string, Record<string, unknown>>();
  const customers = new Map<string, Record<string, unknown>>();
  const idempotent = new Map<string, { request: string; status: number; body: unknown }>();
  let posts = 0;
  let baseUrl = '';

  const server = createServer((request, response) => {
    readBody(request)
      .then((raw) => {
        if (!authorised(request)) {
          return send(response, 401, stripeError('invalid_request_error', 'Invalid API Key'));
        }
        const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
        if (request.method === 'POST') {
          posts++;
          const key = header(request, 'idempotency-key');
          const requestId = `${path} ${raw}`;
          const previous = key ? idempotent.get(key) : undefined;
          if (previous) {
            if (previous.request !== requestId) {
              return send(
                response,
                400,
                stripeError(
                  'idempotency_error',
                  'Keys for idempotent requests can only be used with the same parameters ' +
                    'they were first used with.',
                ),
              );
            }
            return send(response, previous.status, previous.body, {
              'idempotent-replayed': 'true',
            });
          }
          const [status, body] = routePost(path, decodeForm(raw));
          if (key) idempotent.set(key, { request: requestId, status, body });
          return send(response, status, body);
        }
        if (request.method === 'GET') {
          const match = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path);
          const session = match?.[1] ? sessions.get(decodeURIComponent(match[1])) : undefined;
          if (session) return send(response, 200, session);
        }
        return send(response, 404, notFound(path));
      })
      .catch(() => send(response, 500, stripeError('api_error', 'Stand-in failure')));
  });

  function routePost(path: string, form: FormObject): [number, unknown] {
    if (path === '/v1/customers') return [200, createCustomer(form)];
    if (path === '/v1/checkout/sessions') return createSession(form);
    return [404, notFound(path)];
  }

  function createCustomer(form: FormObject): Record<string, unknown> {
    const customer = {
      id: `cus_${randomId(14)}`,
      object: 'customer',
      address: null,
      balance: 0,
      created: nowSeconds(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: str(form.description),
      email: str(form.email),
      invoice_prefix: randomId(8).toUpperCase(),
      livemode: false,
      metadata: asObject(form.metadata),
      name: str(form.name),
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    customers.set(customer.id, customer);
    return customer;
  }

  function createSession(form: FormObject): [number, unknown] {
    const lineItems = Array.isArray(form.line_items) ? form.line_items : [];
    if (form.mode !== 'payment' || lineItems.length === 0) {
      return [400, stripeError('invalid_request_error', 'mode=payment and line_items required')];
    }
    let subtotal = 0;
    let currency: string | undefined;
    for (const item of lineItems) {
      const line = asObject(item);
      const price = asObject(line.price_data);
      const unitAmount = Number(price.unit_amount);
      const quantity = Number(line.quantity ?? '1');
      if (!Number.isSafeInteger(unitAmount) || !Number.isSafeInteger(quantity)) {
        return [400, stripeError('invalid_request_error', 'Invalid integer: unit_amount')];
      }
      subtotal += unitAmount * quantity;
      currency = String(price.currency ?? '').toLowerCase();
    }
    const customer = str(form.customer);
    if (customer && !customers.has(customer)) {
      return [400, stripeError('invalid_request_error', `No such customer: '${customer}'`)];
    }
    const id = `cs_test_${randomId(58)}`;
    const session = {
      id,
      object: 'checkout.session',
      amount_subtotal: subtotal,
      amount_total: subtotal,
      automatic_tax: { enabled: false, liability: null, status: null },
      cancel_url: str(form.cancel_url),
      client_reference_id: str(form.client_reference_id),
      created: nowSeconds(),
      currency: currency ?? null,
      customer,
      customer_details: null,
      customer_email: str(form.customer_email),
      expires_at: nowSeconds() + 24 * 3600,
      livemode: false,
      locale: null,
      metadata: asObject(form.metadata),
      mode: 'payment',
      payment_intent: null,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      success_url: str(form.success_url),
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      url: `${baseUrl}/c/pay/${id}`,
    } as Record<string, unknown>;
    sessions.set(id, session);
    return [200, session];
  }

  const { origin, close } = await listenOnLoopback(server, options.port);
  baseUrl = origin;
  return { url: baseUrl, sessions, customers, requestCount: () => posts, close };
}

function authorised(request: IncomingMessage): boolean {
  const authorization = header(request, 'authorization') ?? '';
  return /^Bearer sk_(test|live)_\S+$/.test(authorization);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Decodes Stripe's bracketed form encoding into nested objects and arrays. */
export function decodeForm(raw: string): FormObject {
  const root: FormObject = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const path = name.replace(/\]/g, '').split('[');
    let node: FormObject = root;
    path.forEach((segment, index) => {
      if (index === path.length - 1) {
        node[segment] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(path[index + 1] ?? '');
      node[segment] ??= nextIsIndex ? [] : {};
      node = node[segment] as unknown as FormObject;
    });
  }
  return root;
}

function asObject(value: FormValue | undefined): FormObject {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function str(value: FormValue | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function stripeError(type: string, message: string) {
  return { error: { type, message } };
}

function notFound(path: string) {
  return stripeError('invalid_request_error', `Unrecognized request URL (${path}).`);
}

/** Stripe answers every request with a request id. */
function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, body, { 'request-id': `req_${randomId(14)}`, ...headers });
}

function randomId(length: number): string {
  return randomBytes(length).toString('base64url').replace(/[-_]/g, 'x').slice(0, length);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
