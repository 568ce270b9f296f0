// node:http plumbing for the mock services: one listening server per (service, instance) on 127.0.0.1, body reading,
// JSON answers, connection resets, and a close that never hangs (held and keep-alive sockets are destroyed).
//
// Plain node:http, not msw: the faults that matter live below the Response (a reset before executing, a socket dropped
// after executing, a response held while the socket stays open), which msw's `getResponse` cannot express.

import { abortSocket } from '../infra/abort-socket.ts';
import http from 'node:http';
import type net from 'node:net';

export interface Host {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:0; every socket has an error listener (a reset must never crash the harness). */
export async function startHost(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Host> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  // A held response may stay open for as long as a scenario runs.
  server.requestTimeout = 0;
  // Idle keep-alive sockets outlive the clients' own idle timeouts (undici 4 s, Node's agent 5 s), so the client
  // always closes first: a server closing an idle socket as the client reuses it would be a reset nobody scheduled.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export const MAX_BODY_BYTES = 1_000_000;

/** The raw body; `too-large` past MAX_BODY_BYTES, `aborted` when the client went away before sending all of it. */
export function readBody(req: http.IncomingMessage): Promise<string | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve('aborted'));
    req.on('aborted', () => resolve('aborted'));
  });
}

/** Answer with JSON; false (and nothing sent) when the client is already gone. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): boolean {
  if (res.headersSent || res.destroyed || !res.socket || res.socket.destroyed) return false;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
  return true;
}

/** Reset the connection (RST): the client sees ECONNRESET and no response. */
export function resetConnection(res: http.ServerResponse): void {
  const socket = res.socket;
  if (!socket || socket.destroyed) return;
  abortSocket(socket);
}
