import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { repoRoot } from '#local/config';

/**
 * Loads and calls handlers the way the Lambda runtime does: the module is imported on first use
 * (after the local environment is in process.env, since configuration is read at module load)
 * and its named export is called with (event, context).
 */
// biome-ignore lint/suspicious/noExplicitAny: handlers take any Lambda event shape
export type LambdaHandler = (event: any, context: Context) => Promise<unknown>;

export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

/** `entry` is relative to the repository root, as in the route and rule catalogues. */
export async function loadHandler(entry: string, exportName: string): Promise<LambdaHandler> {
  const file = path.resolve(repoRoot, entry);
  if (!existsSync(file)) throw new HandlerNotFoundError(`${entry} does not exist yet`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw new HandlerNotFoundError(`${entry} does not export a function named ${exportName}`);
  }
  return handler as LambdaHandler;
}

export function handlerExists(entry: string): boolean {
  return existsSync(path.resolve(repoRoot, entry));
}

export function lambdaContext(functionName: string, requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const fail = () => {
    throw new Error('callback-style handlers are not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}
