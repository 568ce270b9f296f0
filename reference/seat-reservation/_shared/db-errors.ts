// Shared by the seat-reservation references (not a reference itself): which database errors are transient, and of
// those, which lost the connection (so the outcome of what was in flight is unknown).

// Serialization failure, deadlock, statement timeout: the statement or transaction was rolled back, definitely.
const ROLLED_BACK = new Set(['40001', '40P01', '57014']);
// The connection died: whatever was in flight (a COMMIT included) may or may not have taken effect.
const CONNECTION_LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const NETWORK_MESSAGE =
  /connection terminated|connection error|not queryable|query read timeout|timeout exceeded when trying to connect|socket hang up|server closed the connection|connection ended/i;

export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_LOST_SQLSTATES.has(e?.code ?? '') || NETWORK_CODES.has(e?.code ?? '') || NETWORK_MESSAGE.test(e?.message ?? '');
}

export function isTransient(err: unknown): boolean {
  return ROLLED_BACK.has((err as { code?: string })?.code ?? '') || isConnectionLoss(err);
}
