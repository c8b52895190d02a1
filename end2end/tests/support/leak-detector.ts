// Finds credentials in byte sequences: access tokens (whole, signature, signature fragments), client
// secrets in the encodings they travel in, and anything shaped like a JWT. Reports say where a hit
// is (artifact, byte offset, line) and which canary matched, never the canary itself.

/// A byte sequence that must not appear anywhere.
export interface Canary {
  label: string;
  bytes: Buffer;
}

/// Something the browser received (or a log line source), searched as raw bytes.
export interface Artifact {
  where: string;
  bytes: Buffer;
  /// Report 1-based line numbers (logs).
  lines?: boolean;
}

export interface Hit {
  where: string;
  canary: string;
  offset: number;
  line?: number;
  /// Surroundings of the hit with the match and any long token-like run masked.
  context: string;
}

export const JWT_PATTERN = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g;
const FRAGMENT_LENGTH = 8;

/// The token, its signature (after the last '.') and 8-character fragments covering the signature.
export function tokenCanaries(tokens: string[], name: string): Canary[] {
  const canaries: Canary[] = [];
  tokens.forEach((token, index) => {
    const label = `${name} #${index + 1}`;
    canaries.push({ label: `${label} (whole token)`, bytes: Buffer.from(token) });
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (signature.length >= FRAGMENT_LENGTH) {
      canaries.push({ label: `${label} (signature)`, bytes: Buffer.from(signature) });
      const starts = new Set<number>();
      for (let at = 0; at + FRAGMENT_LENGTH <= signature.length; at += FRAGMENT_LENGTH) starts.add(at);
      starts.add(signature.length - FRAGMENT_LENGTH);
      starts.add(Math.floor((signature.length - FRAGMENT_LENGTH) / 2));
      for (const at of [...starts].sort((a, b) => a - b)) {
        canaries.push({
          label: `${label} (signature chars ${at}..${at + FRAGMENT_LENGTH})`,
          bytes: Buffer.from(signature.slice(at, at + FRAGMENT_LENGTH)),
        });
      }
    }
  });
  return canaries;
}

/// application/x-www-form-urlencoded, as RFC 6749 §2.3.1 uses for client credentials.
export const formEncode = (text: string) => new URLSearchParams({ x: text }).toString().slice(2);

/// A client secret raw, URL-encoded, form-encoded, JSON-escaped, and inside HTTP Basic credentials.
export function secretCanaries(clientId: string, secret: string, name: string): Canary[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const forms: [string, string][] = [
    ['raw', secret],
    ['URL-encoded', encodeURIComponent(secret)],
    ['form-encoded', formEncode(secret)],
    ['JSON-escaped', json],
    ['JSON-escaped with \\/', json.replaceAll('/', '\\/')],
    ['base64', Buffer.from(secret).toString('base64')],
  ];
  for (const [what, pair] of [
    ['id:secret', `${clientId}:${secret}`],
    ['urlencode(id):urlencode(secret)', `${formEncode(clientId)}:${formEncode(secret)}`],
    ['encodeURIComponent(id):encodeURIComponent(secret)', `${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`],
  ]) {
    const b64 = Buffer.from(pair).toString('base64');
    forms.push([`base64(${what})`, b64]);
    forms.push([`base64(${what}) unpadded`, b64.replace(/=+$/, '')]);
    forms.push([`base64url(${what})`, Buffer.from(pair).toString('base64url')]);
  }
  const seen = new Map<string, string[]>();
  for (const [what, text] of forms) seen.set(text, [...(seen.get(text) ?? []), what]);
  return [...seen].map(([text, whats]) => ({ label: `${name} (${whats.join(' = ')})`, bytes: Buffer.from(text) }));
}

/// Every occurrence of every canary, and every JWT-shaped string, in every artifact.
export function findLeaks(artifacts: Artifact[], canaries: Canary[]): Hit[] {
  const hits: Hit[] = [];
  for (const artifact of artifacts) {
    const { bytes } = artifact;
    const report = (canary: string, offset: number, length: number) =>
      hits.push({
        where: artifact.where,
        canary,
        offset,
        line: artifact.lines ? lineOf(bytes, offset) : undefined,
        context: maskedContext(bytes, offset, length),
      });
    for (const canary of canaries) {
      if (canary.bytes.length === 0) throw new Error(`empty canary ${canary.label}`);
      for (let at = bytes.indexOf(canary.bytes); at !== -1; at = bytes.indexOf(canary.bytes, at + 1)) {
        report(canary.label, at, canary.bytes.length);
      }
    }
    // latin1 maps each byte to one character, so string offsets are byte offsets, even in WASM.
    const text = bytes.toString('latin1');
    for (const match of text.matchAll(JWT_PATTERN)) {
      report('JWT-shaped string', match.index!, match[0].length);
    }
  }
  return hits;
}

function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(10); at !== -1 && at < offset; at = bytes.indexOf(10, at + 1)) line++;
  return line;
}

/// 40 bytes either side, the match itself replaced by its length, long base64-like runs shortened.
function maskedContext(bytes: Buffer, offset: number, length: number): string {
  const printable = (from: number, to: number) =>
    bytes
      .subarray(Math.max(0, from), Math.min(bytes.length, to))
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '·')
      .replace(/[A-Za-z0-9_\-+/=%.]{12,}/g, (run) => `…[${run.length} chars]`);
  return `${printable(offset - 40, offset)}«${length} bytes»${printable(offset + length, offset + length + 40)}`;
}

/// One line per place (artifact, log line) naming what was found there, with the first hit's context.
export function describeHits(hits: Hit[], limit = 40): string {
  const places = new Map<string, Hit[]>();
  for (const hit of hits) {
    const where = hit.line === undefined ? hit.where : `${hit.where}:${hit.line}`;
    places.set(where, [...(places.get(where) ?? []), hit]);
  }
  const lines = [...places].slice(0, limit).map(([where, found]) => {
    // "sandbox access token #1 (signature chars 8..16)" → owner "sandbox access token #1", form "signature chars 8..16".
    const owners = new Map<string, Set<string>>();
    const fragments = new Map<string, number>();
    for (const { canary } of found) {
      const open = canary.indexOf(' (');
      const owner = open === -1 ? canary : canary.slice(0, open);
      const form = open === -1 ? '' : canary.slice(open + 2, -1);
      const forms = owners.get(owner) ?? new Set<string>();
      owners.set(owner, forms);
      if (form.startsWith('signature chars')) fragments.set(owner, (fragments.get(owner) ?? 0) + 1);
      else if (form) forms.add(form);
    }
    const what = [...owners]
      .map(([owner, forms]) => {
        const parts = [...forms].filter(Boolean);
        if (fragments.get(owner)) parts.push(`${fragments.get(owner)} signature fragment(s)`);
        return parts.length ? `${owner} (${parts.join('; ')})` : owner;
      })
      .join(', ');
    const first = found.reduce((a, b) => (b.offset < a.offset ? b : a));
    return `  - ${where}: ${what}; first at byte ${first.offset}: ${first.context}`;
  });
  if (places.size > limit) lines.push(`  … and ${places.size - limit} more places`);
  return `${hits.length} leak(s) found in ${places.size} place(s):\n${lines.join('\n')}`;
}
