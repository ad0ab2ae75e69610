import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured JSON logger for every function. Never log tokens, API keys or whole payloads:
 * append identifiers (orgId, userId, eventId) instead.
 */
export const logger = new Logger({
  serviceName: 'organizations',
  logLevel: (process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
});
