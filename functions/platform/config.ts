/**
 * Configuration helpers. Modules read what they need once, at load, so a missing value fails the
 * cold start instead of a request.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`Missing required environment variable ${name}`);
  }
  return value;
}

export function optionalEnv(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function optionalIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) {
    throw new ConfigurationError(`Environment variable ${name} must be an integer, got "${raw}"`);
  }
  return value;
}

/** AWS region for SDK clients; local runs default to us-east-1. */
export const awsRegion = optionalEnv('AWS_REGION', 'us-east-1');
