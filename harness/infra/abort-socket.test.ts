// abortSocket: a reset where libuv can send one, never a leaked handle (a TCP socket we already ended cannot be
// reset: Node would drop it without closing it, and the process could then never exit).

import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { abortSocket } from './abort-socket.ts';

const stillActive = (socket: net.Socket) => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().includes(socket);

async function pair(): Promise<{ server: net.Server; client: net.Socket; peer: Promise<net.Socket> }> {
  let accept!: (s: net.Socket) => void;
  const peer = new Promise<net.Socket>((r) => (accept = r));
  const server = net.createServer((s) => {
    s.on('error', () => {});
    accept(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  client.on('error', () => {});
  await new Promise((r) => client.once('connect', r));
  return { server, client, peer };
}

describe('abortSocket', () => {
  it('resets a connected TCP socket: the peer sees ECONNRESET', async () => {
    const { server, client, peer } = await pair();
    const p = await peer;
    const seen = new Promise<string>((r) => p.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    abortSocket(client);
    expect(await seen).toBe('ECONNRESET');
    server.close();
  });

  it('closes (never leaks) a TCP socket whose write side was already ended', async () => {
    const { server, client, peer } = await pair();
    const p = await peer;
    client.end('bye'); // the shutdown is still pending when the reset is asked for
    abortSocket(client);
    p.destroy();
    // Give the peer's FIN time to arrive: the shutdown is then under way when the reset is asked for.
    await new Promise((r) => setTimeout(r, 200));
    expect(client.destroyed).toBe(true);
    expect(stillActive(client)).toBe(false);
    server.close();
  });
});
