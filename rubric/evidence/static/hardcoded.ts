// Values the contract says to take from the context, written in the code: credentials (string literals bound to
// a credential name, passed to a client, used to sign or compared against), database URLs and localhost service
// URLs. Header names and identifiers that merely sit under a credential-like key are not credentials.

import type TS from 'typescript';
import type { SourceRef } from '../types.ts';
import { type Scan, bindingOrigin, constValue, lastName, ref, unwrap, walk, wordsOf } from './program.ts';

export type Hardcoded = SourceRef & { kind: 'credential' | 'database-url' | 'service-url' };

// A URL read as `process.env.DATABASE_URL ?? 'postgres://…'` is still hard-coded: the contract hands the
// connection to the code in ctx (ctx.pg, ctx.redis, ctx.services), so the fallback is what the code really uses.
const DATABASE_URL = /\b(postgres|postgresql|redis|rediss|mysql|mongodb(\+srv)?):\/\//i;
const SERVICE_URL = /\bhttps?:\/\/(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]):\d+/i;
/** Secrets recognisable by their own shape, wherever they sit. */
const SECRET_SHAPE = /^(whsec_|sk_(live|test)_|rk_(live|test)_|pk_live_|ghp_|github_pat_|xox[abp]-|AKIA[0-9A-Z]{16}$)/;
/** A header name or identifier (`gauntlet-signature`, `x-api-key`): what a key names, not a secret. */
const IDENTIFIER_LIKE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
/** …unless it says it is one (`dev-secret`, `super-secret-password`); `x-…` stays a header name. */
const SAYS_SECRET = /(^|-)(secret|password|passwd|pwd|pass)(-|$)/;
/** The name of a header or scheme rather than a value. */
const FIELD_NAME = /^(authorization|token|bearer|basic|password|secret)$/i;
const CREDENTIAL_NOUNS = new Set(['password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'token', 'apikey', 'authorization', 'credentials', 'credential']);
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'signing', 'hmac', 'webhook', 'auth', 'client', 'encryption']);

/** Does a name say it holds a credential? Its last word decides: `dbPassword` yes, `secretHeader` no. */
export function isCredentialName(name: string): boolean {
  const words = wordsOf(name);
  const last = words[words.length - 1];
  if (!last) return false;
  if (CREDENTIAL_NOUNS.has(last)) return !(last === 'pass' && words.length > 1 && words[words.length - 2] !== 'db');
  return last === 'key' && words.length > 1 && KEY_QUALIFIERS.has(words[words.length - 2]);
}

/** A literal that could be a secret: not empty, not a header name or identifier. */
function secretLiteral(scan: Scan, e: TS.Expression | undefined, usedAsSecret = false, depth = 0): TS.StringLiteralLike | null {
  const { ts } = scan;
  if (!e || depth > 4) return null;
  e = unwrap(ts, e);
  // Used to sign or compared against a credential, even `dev-key-1` is the secret itself, not a header name.
  if (ts.isStringLiteralLike(e)) return (usedAsSecret ? !!e.text.trim() : isSecretText(e.text)) ? e : null;
  // `process.env.X ?? 'fallback'`, `opts.password || 'x'`: the fallback is written in the code.
  if (ts.isBinaryExpression(e) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(e.operatorToken.kind)) return secretLiteral(scan, e.right, usedAsSecret, depth + 1);
  if (ts.isConditionalExpression(e)) return secretLiteral(scan, e.whenTrue, usedAsSecret, depth + 1) ?? secretLiteral(scan, e.whenFalse, usedAsSecret, depth + 1);
  const value = constValue(scan, e);
  return value ? secretLiteral(scan, value, usedAsSecret, depth + 1) : null;
}

function isSecretText(text: string): boolean {
  if (!text.trim() || (FIELD_NAME.test(text) && text !== 'password')) return false;
  return !IDENTIFIER_LIKE.test(text) || (!text.startsWith('x-') && SAYS_SECRET.test(text));
}

export function findHardcoded(scan: Scan, sf: TS.SourceFile): Hardcoded[] {
  const { ts } = scan;
  const out: Hardcoded[] = [];
  const credential = (lit: TS.Node | null) => lit && out.push({ ...ref(scan, lit), kind: 'credential' });
  walk(ts, sf, (node) => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node)) {
      if (DATABASE_URL.test(node.text)) out.push({ ...ref(scan, node), kind: 'database-url' });
      else if (SERVICE_URL.test(node.text)) out.push({ ...ref(scan, node), kind: 'service-url' });
      else if (SECRET_SHAPE.test(node.text)) credential(node);
    }
    // const DB_PASSWORD = 's3cret'; { password: 'x' }; { password: pw }; `const { password = 'x' } = opts`; (password = 'x') => …
    if ((ts.isVariableDeclaration(node) || ts.isPropertyAssignment(node) || ts.isParameter(node)) && node.initializer && !ts.isObjectBindingPattern(node.name) && !ts.isArrayBindingPattern(node.name)) {
      const name = ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) ? node.name.text : '';
      if (isCredentialName(name)) credential(secretLiteral(scan, node.initializer));
    }
    if (ts.isBindingElement(node) && node.initializer) {
      const key = bindingOrigin(scan, node).path.at(-1) ?? '';
      if (isCredentialName(key) || isCredentialName(node.name.getText())) credential(secretLiteral(scan, node.initializer));
    }
    // createHmac('sha256', 'whsec_…'), jwt.sign(payload, 'secret'), new Pool('…') handled by the URL rule.
    if (ts.isCallExpression(node)) {
      const name = lastName(ts, node.expression);
      if (name === 'createHmac' || name === 'createCipheriv' || name === 'createDecipheriv') credential(secretLiteral(scan, node.arguments[1], true));
      if ((name === 'sign' || name === 'verify') && /jwt|jsonwebtoken/i.test(node.expression.getText())) credential(secretLiteral(scan, node.arguments[1], true));
    }
    // apiKey === 'abc123', headers['x-api-key'] !== 'k3y'.
    if (ts.isBinaryExpression(node) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(node.operatorToken.kind)) {
      for (const [side, other] of [[node.left, node.right], [node.right, node.left]]) {
        const name = lastName(ts, side);
        if (name && isCredentialName(name) && !isTypeCheck(ts, side)) credential(secretLiteral(scan, other, true));
      }
    }
  });
  return out;
}

/** `typeof token === 'string'` compares a type name, not a secret. */
const isTypeCheck = (ts: Scan['ts'], e: TS.Expression) => ts.isTypeOfExpression(unwrap(ts, e));
