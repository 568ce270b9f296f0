// The floor under the release skew on this machine: one tight loop of one-byte writes, one per open loopback
// connection, to a server that does nothing. A burst's skew cannot be smaller than this.

import net from 'node:net';
import { median } from './support.ts';

/** Median over `reps` loops of `connections` one-byte writes, in ms (each write is a syscall that runs the receiver's TCP path). */
export async function writeFloorMs(connections: number, reps = 5): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((c) => {
    c.on('data', () => {});
    c.on('error', () => {});
  });
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    for (let i = 0; i < connections; i++) {
      sockets.push(
        await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.setNoDelay(true);
          s.once('error', reject);
        }),
      );
    }
    const byte = Buffer.from('x');
    const loops: number[] = [];
    for (let r = 0; r < reps; r++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = process.hrtime.bigint();
      for (const s of sockets) s.write(byte);
      loops.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(loops);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
