// Close a socket abruptly: a TCP reset (RST) where one can be sent, a plain close otherwise. libuv refuses to
// reset a TCP socket whose write side we already ended (a shutdown is pending), and Node then never closes that
// handle: a leaked handle that keeps the process from exiting (and spins at exit). Unix sockets have no RST.

import type net from 'node:net';

export function abortSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  const canReset = typeof socket.resetAndDestroy === 'function' && !!socket.remoteAddress && !socket.connecting && !socket.writableEnded;
  if (canReset) {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // not a TCP handle after all
    }
  }
  socket.destroy();
}
