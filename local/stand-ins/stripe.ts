import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, sendJson } from '#local/stand-ins/serve';

/**
 * A local stand-in for the parts of Stripe's API the service calls: POST /v1/customers,
 * POST /v1/checkout/sessions, GET /v1/checkout/sessions/:id and GET /v1/payment_intents/:id.
 * Requests are form-encoded as
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
  /** PaymentIntents by id: made by `paySession` or `registerPaymentIntent`. */
  paymentIntents: Map<string, Record<string, unknown>>;
  /**
   * What paying on the hosted page does: the session becomes complete and paid, with a succeeded
   * PaymentIntent carrying the session's `payment_intent_data.metadata`. Returns the intent.
   */
  paySession: (sessionId: string) => Record<string, unknown>;
  /** A succeeded PaymentIntent made outside any session (another product on the account). */
  registerPaymentIntent: (
    id: string,
    options?: { metadata?: Record<string, string>; amount?: number; currency?: string },
  ) => Record<string, unknown>;
  /** While on, every request is answered 500 `api_error`, as during a Stripe outage. */
  setOutage: (on: boolean) => void;
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
  const paymentIntents = new Map<string, Record<string, unknown>>();
  /** `payment_intent_data.metadata` of each session, for the intent made when it is paid. */
  const intentMetadata = new Map<string, FormObject>();
  let outage = false;
  const idempotent = new Map<string, { request: string; status: number; body: unknown }>();
  let posts = 0;
  let baseUrl = '';

  const server = createServer((request, response) => {
    readBody(request)
      .then((raw) => {
        if (!authorised(request)) {
          return send(response, 401, stripeError('invalid_request_error', 'Invalid API Key'));
        }
        if (outage) return send(response, 500, stripeError('api_error', 'Stand-in outage'));
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
          const intentMatch = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
          if (intentMatch?.[1]) {
            const id = decodeURIComponent(intentMatch[1]);
            const intent = paymentIntents.get(id);
            if (intent) return send(response, 200, intent);
            return send(response, 404, noSuch('payment_intent', id));
          }
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
    intentMetadata.set(id, asObject(asObject(form.payment_intent_data).metadata));
    return [200, session];
  }

  function createPaymentIntent(fields: {
    id?: string;
    amount: number;
    currency: string;
    customer?: unknown;
    metadata: FormObject;
  }): Record<string, unknown> {
    const id = fields.id ?? `pi_${randomId(24)}`;
    const intent = {
      id,
      object: 'payment_intent',
      amount: fields.amount,
      amount_capturable: 0,
      amount_received: fields.amount,
      capture_method: 'automatic_async',
      client_secret: `${id}_secret_${randomId(24)}`,
      confirmation_method: 'automatic',
      created: nowSeconds(),
      currency: fields.currency,
      customer: fields.customer ?? null,
      description: null,
      last_payment_error: null,
      latest_charge: `ch_${randomId(24)}`,
      livemode: false,
      metadata: fields.metadata,
      payment_method: `pm_${randomId(24)}`,
      payment_method_types: ['card'],
      receipt_email: null,
      status: 'succeeded',
    } as Record<string, unknown>;
    paymentIntents.set(id, intent);
    return intent;
  }

  function paySession(sessionId: string): Record<string, unknown> {
    const session = sessions.get(sessionId);
    if (!session) throw new Error(`Stripe stand-in: no session ${sessionId}`);
    const intent = createPaymentIntent({
      amount: Number(session.amount_total),
      currency: String(session.currency),
      customer: session.customer,
      metadata: intentMetadata.get(sessionId) ?? {},
    });
    Object.assign(session, {
      payment_intent: intent.id,
      payment_status: 'paid',
      status: 'complete',
    });
    return intent;
  }

  function registerPaymentIntent(
    id: string,
    options: { metadata?: Record<string, string>; amount?: number; currency?: string } = {},
  ): Record<string, unknown> {
    return createPaymentIntent({
      id,
      amount: options.amount ?? 5000,
      currency: options.currency ?? 'usd',
      metadata: options.metadata ?? {},
    });
  }

  const { origin, close } = await listenOnLoopback(server, options.port);
  baseUrl = origin;
  return {
    url: baseUrl,
    sessions,
    customers,
    paymentIntents,
    paySession,
    registerPaymentIntent,
    setOutage: (on) => {
      outage = on;
    },
    requestCount: () => posts,
    close,
  };
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

/** Stripe's answer for an id it does not know (HTTP 404). */
function noSuch(resource: string, id: string) {
  return {
    error: {
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'intent',
      message: `No such ${resource}: '${id}'`,
    },
  };
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
