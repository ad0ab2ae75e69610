import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJourney } from '#local/demo';
import { type LocalStack, startLocalStack } from '#local/start';

/**
 * The demo journey of `npm run demo`, end to end: the local stack (HTTP server, event bus,
 * stand-ins, DynamoDB Local) started in-process, and every check of the journey must hold.
 */
describe('the whole journey on the local stack', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ freePorts: true });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs every step of the demo with every check holding', async () => {
    const lines: string[] = [];
    const result = await runJourney({
      apiUrl: stack.urls.api,
      eventBusUrl: stack.urls.eventBus,
      log: (line) => lines.push(line),
    });

    expect(result.failed, lines.join('\n')).toEqual([]);
    expect(result.passed).toBeGreaterThanOrEqual(35);
  });

  it('runs again on the same stack, because the demo cleans up after itself', async () => {
    const lines: string[] = [];
    const result = await runJourney({
      apiUrl: stack.urls.api,
      eventBusUrl: stack.urls.eventBus,
      log: (line) => lines.push(line),
    });

    expect(result.failed, lines.join('\n')).toEqual([]);
  });
});
