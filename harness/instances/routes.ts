// How a challenge maps its HTTP routes (CONTRACT §6) onto service methods, for the module adapter. Each
// challenge declares its table in its own folder; the adapter is generic.

export interface RouteRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body: any;
  rawBody: string;
  headers: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** Path pattern with `:name` segments, e.g. `/seats/:seatId/reservations`. */
  path: string;
  /** The service method it calls. */
  call: string;
  args(req: RouteRequest): unknown[];
  /** Turn the method's result into a response; default `200` with the result as JSON (`null` included). */
  respond?(result: unknown): { status: number; body?: unknown };
}

export interface RouteTable {
  routes: Route[];
  /** HTTP status for each contract error code; codes not listed travel with 409. */
  codeStatus: Record<string, number>;
}

export function matchRoute(table: RouteTable, method: string, pathname: string): { route: Route; params: Record<string, string> } | null {
  const parts = pathname.split('/').filter(Boolean);
  for (const route of table.routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pattern[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) return { route, params };
  }
  return null;
}
