import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the provider stand-ins share: listening on loopback (a free port unless one is given)
 * and answering JSON.
 */
export async function listenOnLoopback(
  server: Server,
  port = 0,
): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

/** A stand-in whose `answer` is synchronous; whatever it throws becomes a 500 with `errorBody`. */
export function standInServer(
  answer: (request: IncomingMessage, response: ServerResponse) => void,
  errorBody: unknown,
): Server {
  return createServer((request, response) => {
    try {
      answer(request, response);
    } catch {
      sendJson(response, 500, errorBody);
    }
  });
}
