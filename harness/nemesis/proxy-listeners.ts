// Pieces of the fault proxy that are about sockets rather than faults: binding a listener on a TCP address or
// a Unix socket path (mode 0666, stale file replaced, removed on close), and refusing SSL/GSS encryption
// itself so the PostgreSQL traffic stays in the clear (and decodable) through the proxy.

import fs from 'node:fs';
import net from 'node:net';
import { GSSENC_REQUEST, SSL_REQUEST } from '../wire/pg-wire.ts';

/** An extra listener of the proxy: TCP (127.0.0.1 and a free port by default) or a Unix socket path. */
export type ListenOptions = { tag: string; host?: string; port?: number } | { tag: string; path: string };

export interface ProxyListener {
  readonly tag: string;
  readonly host?: string;
  readonly port?: number;
  readonly path?: string;
  /** Stop listening and reset this listener's connections; removes a Unix socket file. Idempotent. */
  close(): Promise<void>;
}

export interface BoundAddress {
  host?: string;
  port?: number;
  path?: string;
}

function listenOnce(server: net.Server, args: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Whether something accepts connections on the Unix socket at `path`. */
function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    const timer = setTimeout(() => done(true), 1000); // no answer: assume someone owns it
    const done = (alive: boolean) => {
      clearTimeout(timer);
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => done(true));
    probe.on('error', () => done(false));
  });
}

/** Start `server` listening; a Unix socket left behind by a dead process is replaced, a live one is not. */
export async function bindServer(server: net.Server, o: { host?: string; port?: number } | { path: string }): Promise<BoundAddress> {
  if ('path' in o) {
    try {
      await listenOnce(server, { path: o.path });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (await socketAlive(o.path))) throw err;
      fs.rmSync(o.path, { force: true });
      await listenOnce(server, { path: o.path });
    }
    fs.chmodSync(o.path, 0o666); // the instances may run as another OS user
    return { path: o.path };
  }
  await listenOnce(server, { host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  const address = server.address() as net.AddressInfo;
  return { host: address.address, port: address.port };
}

/** Stop listening (its connections must be gone already, or this waits for them) and remove a socket file. */
export function closeServer(server: net.Server, path?: string): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => {
      if (path) fs.rmSync(path, { force: true });
      resolve();
    });
  });
}

/**
 * Watches the first bytes a client sends. An SSLRequest or GSSENCRequest is not forwarded: the proxy answers
 * it with 'N' (no encryption), as a server without SSL would, and the client goes on with its StartupMessage
 * in the clear. Anything else (a StartupMessage, a CancelRequest, garbage) ends the watch and is forwarded
 * untouched, including the bytes held back while deciding.
 */
export class SslRefusal {
  active = true;
  private pending: Buffer | null = null;

  /** The bytes to forward now (null for none) and how many requests to answer with 'N'. */
  filter(chunk: Buffer): { forward: Buffer | null; refusals: number } {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let refusals = 0;
    for (;;) {
      if (buf.length >= 4 && buf.readInt32BE(0) !== 8) break; // not an 8-byte request
      if (buf.length < 8) {
        if (buf.length > 0) this.pending = buf; // wait for the rest of the request
        return { forward: null, refusals };
      }
      const code = buf.readInt32BE(4);
      if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) break;
      refusals++;
      buf = buf.subarray(8);
    }
    this.active = false;
    return { forward: buf.length > 0 ? buf : null, refusals };
  }

  /** Bytes held back when the client stopped mid-request: forward them before passing the end on. */
  flush(): Buffer | null {
    const pending = this.pending;
    this.pending = null;
    this.active = false;
    return pending;
  }
}
