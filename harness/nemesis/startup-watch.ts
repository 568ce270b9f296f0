// Watches what PostgreSQL answers a new connection, up to its first ReadyForQuery, for an ErrorResponse: a server
// that refuses the connection (no free slots, a database starting up or shutting down) says so there. The fault
// proxy runs one per connection whether or not the wire is recorded, so the scenario can tell a refusal by a full
// server (the machine's fault, connection-slots.ts) from the candidate's own errors. Stops at the first
// ReadyForQuery: the rest of the connection costs nothing.

export interface StartupError {
  /** SQLSTATE (field C). */
  code?: string;
  /** Message (field M). */
  message?: string;
}

/** Longest startup message kept in the buffer; a longer one ends the watch (no real startup message is this long). */
const MAX_MESSAGE_BYTES = 64 * 1024;

export interface StartupWatch {
  /** Feed bytes from the server; false once the watch is over (ReadyForQuery, an error, or bytes that are not the protocol). */
  fromServer(chunk: Buffer): boolean;
}

export function createStartupWatch(onError: (e: StartupError) => void, onReady: () => void = () => {}): StartupWatch {
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  return {
    fromServer(chunk) {
      if (done) return false;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 5) {
        const type = buf[0];
        const len = buf.readUInt32BE(1);
        if (len < 4 || len > MAX_MESSAGE_BYTES) return (done = true), false;
        if (buf.length < 1 + len) return true;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 0x5a /* Z: ReadyForQuery */) {
          done = true;
          onReady();
          return false;
        }
        if (type === 0x45 /* E: ErrorResponse */) {
          done = true;
          onError(errorFields(body));
          return false;
        }
      }
      return true;
    },
  };
}

/** The C and M fields of an ErrorResponse body (type byte, NUL-terminated string, …, final NUL). */
export function errorFields(body: Buffer): StartupError {
  const out: StartupError = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const field = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    if (end < 0) break;
    const value = body.toString('utf8', i + 1, end);
    if (field === 'C') out.code = value;
    else if (field === 'M') out.message = value;
    i = end + 1;
  }
  return out;
}
