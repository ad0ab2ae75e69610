import Stripe from 'stripe';
import { optionalEnv } from '#platform/config';
import { loadSecret } from '#platform/secrets';

/**
 * The Stripe API client for handlers that call Stripe. `STRIPE_API_BASE` (e.g.
 * http://127.0.0.1:4020) points it at the local stand-in; unset, it talks to the real Stripe.
 * Created lazily so modules that only verify webhooks never need the secret key.
 */
let client: Promise<Stripe> | undefined;

export function stripeClient(): Promise<Stripe> {
  client ??= createClient();
  return client;
}

async function createClient(): Promise<Stripe> {
  const base = optionalEnv('STRIPE_API_BASE', '');
  const config: Stripe.StripeConfig = { maxNetworkRetries: 2, timeout: 10_000 };
  if (base) {
    const url = new URL(base);
    config.host = url.hostname;
    config.port = url.port || (url.protocol === 'https:' ? 443 : 80);
    config.protocol = url.protocol === 'https:' ? 'https' : 'http';
  }
  return new Stripe(await loadSecret('STRIPE_SECRET_KEY'), config);
}
