// HTTP-mode reference for seat-reservation in plain Node (no framework, no gauntlet adapter): the routes of
// CONTRACT §6 on $PORT, one conditional UPDATE per call (the strategy of ../conditional-update.ts), retrying
// transient database errors with capped, jittered backoff. Shows what a submission in any language must do.
import http from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, query_timeout: 3000, connectionTimeoutMillis: 4000 });
pool.on('error', () => {});
pool.on('connect', (c) => c.on('error', () => {}));

const COLS = 'seat_id, user_id, status, claimed_at, expires_at';
const FREE = '(user_id IS NULL OR user_id = $2 OR expires_at <= clock_timestamp())';
const SQL = {
  reserve: `UPDATE seats SET claimed_at = CASE WHEN user_id = $2 AND status = 'reserved' THEN claimed_at ELSE clock_timestamp() END,
    user_id = $2, status = 'reserved', expires_at = NULL WHERE seat_id = $1 AND ${FREE} RETURNING ${COLS}`,
  hold: `UPDATE seats SET claimed_at = clock_timestamp(),
    expires_at = CASE WHEN user_id = $2 AND status = 'reserved' THEN NULL ELSE clock_timestamp() + $3 * interval '1 millisecond' END,
    status = CASE WHEN user_id = $2 AND status = 'reserved' THEN 'reserved' ELSE 'held' END, user_id = $2
    WHERE seat_id = $1 AND ${FREE} RETURNING ${COLS}`,
  confirm: `UPDATE seats SET status = 'reserved', expires_at = NULL
    WHERE seat_id = $1 AND user_id = $2 AND (status = 'reserved' OR expires_at > clock_timestamp()) RETURNING ${COLS}`,
  release: `UPDATE seats SET user_id = NULL, status = NULL, claimed_at = NULL, expires_at = NULL WHERE seat_id = $1 AND ${FREE} RETURNING seat_id`,
  read: `SELECT ${COLS}, user_id IS NOT NULL AND (status = 'reserved' OR expires_at > clock_timestamp()) AS live FROM seats WHERE seat_id = $1`,
  exists: 'SELECT 1 FROM seats WHERE seat_id = $1',
};

// Structured log: one JSON object per line on stdout (HTTP mode's equivalent of ctx.log; the harness collects it).
const log = (message, fields) => process.stdout.write(JSON.stringify({ time: new Date().toISOString(), instance: process.env.GAUNTLET_INSTANCE, message, ...fields }) + '\n');

const STATUS = { SEAT_TAKEN: 409, SEAT_NOT_FOUND: 404, HOLD_EXPIRED: 410 };
class Refusal extends Error {
  constructor(code) { super(code); this.code = code; }
}
const transient = (e) => ['40001', '40P01', '57P01', '57014', '08006', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes(e.code) || /terminated|timeout|connection/i.test(e.message);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function retry(fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Refusal || !transient(e) || attempt >= 25) throw e;
      await sleep(Math.random() * Math.min(250, 10 * 2 ** attempt));
    }
  }
}

const claim = (row) => ({ seatId: row.seat_id, userId: row.user_id, timestamp: row.claimed_at, ...(row.status === 'held' ? { hold: true, expiresAt: row.expires_at } : {}) });
async function change(sql, params, refusal) {
  const r = await pool.query(sql, params);
  if (r.rows[0]) return r.rows[0];
  throw new Refusal((await pool.query(SQL.exists, [params[0]])).rowCount ? refusal : 'SEAT_NOT_FOUND');
}

const routes = [
  ['POST', /^\/seats\/([^/]+)\/reservations$/, (seat, b) => change(SQL.reserve, [seat, b.userId], 'SEAT_TAKEN').then(claim)],
  ['POST', /^\/seats\/([^/]+)\/holds$/, (seat, b) => change(SQL.hold, [seat, b.userId, b.ttlMs], 'SEAT_TAKEN').then(claim)],
  ['POST', /^\/seats\/([^/]+)\/holds\/confirm$/, (seat, b) => change(SQL.confirm, [seat, b.userId], 'HOLD_EXPIRED').then(claim)],
  ['DELETE', /^\/seats\/([^/]+)\/reservation$/, (seat, b) => change(SQL.release, [seat, b.userId], 'SEAT_TAKEN').then(() => null)],
  ['GET', /^\/seats\/([^/]+)\/reservation$/, async (seat) => {
    const row = (await pool.query(SQL.read, [seat])).rows[0];
    if (!row) throw new Refusal('SEAT_NOT_FOUND');
    return row.live ? claim(row) : null;
  }],
];

const server = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => (raw += c));
  req.on('end', async () => {
    const send = (status, body) => {
      const text = JSON.stringify(body ?? null);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    const url = new URL(req.url, 'http://x');
    for (const [method, pattern, handle] of routes) {
      const m = req.method === method && pattern.exec(url.pathname);
      if (!m) continue;
      const seatId = decodeURIComponent(m[1]);
      try {
        const out = await retry(() => handle(seatId, raw ? JSON.parse(raw) : {}));
        if (method !== 'GET') log('granted', { route: pattern.source, seatId, userId: out?.userId });
        return send(200, out);
      } catch (e) {
        if (e instanceof Refusal) {
          log('refused', { route: pattern.source, seatId, code: e.code });
          return send(STATUS[e.code], { code: e.code });
        }
        log('failed', { route: pattern.source, seatId, error: e.message, sqlstate: e.code });
        return send(500, { error: e.message });
      }
    }
    send(404, { code: 'NO_SUCH_ROUTE' });
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
