// URL helpers shared by the PostgreSQL and Redis code: redaction for messages and reports, and building a
// connection URL for another user, password or database on the same server.

/** The URL with its password replaced by `***`, for messages and reports. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]*):[^@/]*@/, '://$1:***@');
  }
}

/** The same server (and query options) with other credentials and/or another path (database name or index). */
export function withUrlParts(url: string, parts: { user?: string; password?: string; host?: string; path?: string }): string {
  const u = new URL(url);
  if (parts.host !== undefined) u.hostname = parts.host;
  if (parts.user !== undefined) u.username = encodeURIComponent(parts.user);
  if (parts.password !== undefined) u.password = encodeURIComponent(parts.password);
  if (parts.path !== undefined) u.pathname = `/${encodeURIComponent(parts.path)}`;
  return u.toString();
}
