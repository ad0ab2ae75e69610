import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

// One cold start: load the bundle (Lambda's Init), then serve one request (the first Invoke).
// Prints one line `BENCH {...}` and exits without waiting for keep-alive sockets.
const [bundle, exportName, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  functionName: 'bench',
  awsRequestId: 'bench-cold-start',
  getRemainingTimeInMillis: () => 30_000,
};

const start = performance.now();
const module = await import(pathToFileURL(bundle).href);
const loaded = performance.now();
const result = await module[exportName](event, context);
const served = performance.now();

const status = result && typeof result === 'object' ? result.statusCode : undefined;
process.stdout.write(
  `\nBENCH ${JSON.stringify({ loadMs: loaded - start, firstMs: served - loaded, status })}\n`,
  () => process.exit(0),
);
