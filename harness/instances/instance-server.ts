// The HTTP side of a module instance (instance-main.ts): serves the challenge's routes (CONTRACT §6) by calling
// the candidate's service, answers a contract error with its status and anything else as an indeterminate 500,
// and counts the requests in flight for the harness (`/__gauntlet/stats`). It knows nothing of the control pipe:
// the caller says how an error is described and whom to tell once it listens.

import http from 'node:http';
import { matchRoute, type Route, type RouteTable } from './routes.ts';

type Service = Record<string, any>;

export interface ServeOptions {
  /** Contained: the Unix socket to listen on; otherwise 127.0.0.1:`port`. */
  listenPath: string;
  port: number;
  /** An error in words (the first line goes into a 500's body). */
  describe(err: unknown): string;
  /** Called once listening, with the port and the service's methods. */
  ready(port: number, capabilities: string[]): void;
}

/** Requests being handled now, and the most at once since the harness last reset it. */
interface Load {
  inFlight: number;
  maxInFlight: number;
}

interface Serving {
  service: Service;
  table: RouteTable;
  load: Load;
  describe(err: unknown): string;
}

export function serve(service: Service, table: RouteTable, o: ServeOptions): http.Server {
  const s: Serving = { service, table, load: { inFlight: 0, maxInFlight: 0 }, describe: o.describe };
  const server = http.createServer((req, res) => {
    countInFlight(s.load, res);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(s, req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 0;
  const listening = () => {
    const addr = server.address();
    o.ready(typeof addr === 'object' && addr ? addr.port : o.port, capabilitiesOf(service));
  };
  if (o.listenPath) server.listen(o.listenPath, listening);
  else server.listen(o.port, '127.0.0.1', listening);
  return server;
}

/** A request counts from its arrival until its response finished or its connection closed, whichever is first. */
function countInFlight(load: Load, res: http.ServerResponse): void {
  load.inFlight++;
  if (load.inFlight > load.maxInFlight) load.maxInFlight = load.inFlight;
  let counted = true;
  const done = () => {
    if (counted) load.inFlight--;
    counted = false;
  };
  res.on('finish', done);
  res.on('close', done);
}

async function handle(s: Serving, req: http.IncomingMessage, res: http.ServerResponse, rawBody: string): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://instance');
  if (url.pathname === '/__gauntlet/stats') return stats(s.load, req, res);
  const match = matchRoute(s.table, req.method ?? 'GET', url.pathname);
  if (!match) return reply(res, 404, { code: 'NO_SUCH_ROUTE', error: `no route ${req.method} ${url.pathname}` });
  const fn = s.service[match.route.call];
  if (typeof fn !== 'function') return reply(res, 501, { code: 'NOT_IMPLEMENTED', error: `the service has no ${match.route.call}() method` });
  const body = parseJson(rawBody);
  const headers = headersOf(req);
  try {
    const args = match.route.args({ params: match.params, query: Object.fromEntries(url.searchParams), body, rawBody, headers });
    const result = await fn.apply(s.service, args);
    return replyResult(res, match.route, result);
  } catch (err) {
    return replyError(s, res, err);
  }
}

/** The harness's view of the load (this request itself not counted); a POST also resets the maximum. */
function stats(load: Load, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.method === 'POST') load.maxInFlight = load.inFlight - 1;
  return reply(res, 200, { inFlight: load.inFlight - 1, maxInFlight: load.maxInFlight });
}

/** The body as JSON; undefined when there is none or it is not JSON (the route decides what that means). */
function parseJson(rawBody: string): unknown {
  if (!rawBody) return undefined;
  try {
    return JSON.parse(rawBody);
  } catch {
    return undefined;
  }
}

function headersOf(req: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
  return headers;
}

function replyResult(res: http.ServerResponse, route: Route, result: unknown): void {
  if (route.respond) {
    const r = route.respond(result);
    return reply(res, r.status, r.body);
  }
  return reply(res, 200, result === undefined ? null : result);
}

/** A contract error travels with its status (409 when the table names none); any other rejection is indeterminate (CONTRACT §3). */
function replyError(s: Serving, res: http.ServerResponse, err: unknown): void {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code === 'GAUNTLET_NO_REDIS') return reply(res, 503, { code, error: (err as Error).message });
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) && code in s.table.codeStatus) {
    return reply(res, s.table.codeStatus[code] ?? 409, { code, error: (err as Error).message });
  }
  // Any other rejection is indeterminate (CONTRACT §3): it may or may not have taken effect.
  return reply(res, 500, { error: s.describe(err).split('\n')[0], ...(typeof code === 'string' ? { rawCode: code } : {}) });
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Own methods and those of the service's class chain (not Object.prototype's). */
function capabilitiesOf(service: Service): string[] {
  const names = new Set<string>();
  for (let o: object | null = service; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) for (const k of Object.getOwnPropertyNames(o)) names.add(k);
  return [...names].filter((k) => k !== 'constructor' && typeof service[k] === 'function');
}
