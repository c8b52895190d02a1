// An independent OpenID Connect provider for the sign-in tests: npm `oauth2-mock-server` on a
// loopback port (discovery, JWKS, authorize with PKCE, token, end_session), made to check the
// client secret at the token endpoint, to put a chosen person's claims in the ID token, and to
// tamper with the ID token on request so the console's checks can be tried one by one.
//
// Usage: MOCK_CLIENT_ID=… MOCK_CLIENT_SECRET=… [MOCK_TOKENS_FILE=…] node oidc-mock.mjs
// Prints one JSON line {"issuer", "control_url"} and runs until stdin closes.
// POST {control_url}/person {"claims": {...}, "tamper": "…"} sets who signs in next and how the
// ID token is spoiled: none | alg-none | hs256 | bad-signature | unknown-kid | rotated-key |
// wrong-audience | wrong-issuer | expired | future-iat | wrong-nonce | wrong-at-hash.
// GET {control_url}/stats answers what the provider saw.
import { createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import http from 'node:http';

import { Events, OAuth2Server } from 'oauth2-mock-server';

const clientId = process.env.MOCK_CLIENT_ID;
const clientSecret = process.env.MOCK_CLIENT_SECRET;
const tokensFile = process.env.MOCK_TOKENS_FILE;
if (!clientId || !clientSecret) {
  console.error('set MOCK_CLIENT_ID and MOCK_CLIENT_SECRET');
  process.exit(2);
}

let person = { claims: { email: 'ana@example.com', groups: ['a55-console-viewers'] }, tamper: 'none' };
const stats = { authorize: [], exchanges: 0, rejected: 0, jwks: 0 };
const formDecode = (text) => decodeURIComponent(text.replace(/\+/g, ' '));
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
// A key that is published only once the provider "rotates", and one that is never published.
let rotated = null;
const secretKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

function signRs256(header, payload, key) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}

function spoil(idToken) {
  const [rawHeader, rawPayload] = idToken.split('.');
  const header = JSON.parse(Buffer.from(rawHeader, 'base64url').toString('utf8'));
  const payload = { ...JSON.parse(Buffer.from(rawPayload, 'base64url').toString('utf8')), ...person.claims };
  const now = Math.floor(Date.now() / 1000);
  switch (person.tamper) {
    case 'wrong-audience': payload.aud = 'another-client'; break;
    case 'wrong-issuer': payload.iss = 'https://idp.evil.example'; break;
    case 'expired': payload.iat = now - 7200; payload.exp = now - 3600; break;
    case 'future-iat': payload.iat = now + 3600; payload.exp = now + 7200; break;
    case 'wrong-nonce': payload.nonce = 'not-the-nonce'; break;
    case 'wrong-at-hash': payload.at_hash = 'AAAAAAAAAAAAAAAAAAAAAA'; break;
    default: break;
  }
  switch (person.tamper) {
    case 'alg-none':
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    case 'hs256': {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', clientSecret).update(input).digest('base64url')}`;
    }
    case 'unknown-kid':
      return signRs256({ alg: 'RS256', typ: 'JWT', kid: 'never-published' }, payload, secretKey);
    case 'rotated-key':
      return signRs256({ alg: 'RS256', typ: 'JWT', kid: rotated.kid }, payload, rotated.key);
    default: {
      const jwk = server.issuer.keys.toJSON(true).find((k) => k.kid === header.kid);
      const token = signRs256({ alg: 'RS256', typ: 'JWT', kid: header.kid }, payload, createPrivateKey({ key: jwk, format: 'jwk' }));
      if (person.tamper !== 'bad-signature') return token;
      const [h, p, s] = token.split('.');
      return `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    }
  }
}

server.service.on(Events.BeforeAuthorizeRedirect, (_redirect, req) => {
  stats.authorize.push(req.query);
});
server.service.on(Events.BeforeResponse, (response, req) => {
  if (req.body.grant_type !== 'authorization_code') return;
  const authorization = req.headers.authorization ?? '';
  let id;
  let secret;
  if (authorization.startsWith('Basic ')) {
    const pair = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    id = formDecode(pair.slice(0, colon));
    secret = formDecode(pair.slice(colon + 1));
  } else {
    id = req.body.client_id;
    secret = req.body.client_secret;
  }
  if (id !== clientId || secret !== clientSecret) {
    stats.rejected += 1;
    response.statusCode = 401;
    response.body = { error: 'invalid_client' };
    return;
  }
  stats.exchanges += 1;
  response.body.id_token = spoil(response.body.id_token);
  if (tokensFile) {
    appendFileSync(tokensFile, `${response.body.access_token}\n${response.body.id_token}\n`);
  }
});
await server.start(0, '127.0.0.1');
const issuer = `http://127.0.0.1:${server.address().port}`;
server.issuer.url = issuer;

const control = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', async () => {
    if (req.method === 'POST' && req.url === '/person') {
      person = { tamper: 'none', ...JSON.parse(body) };
      if (person.tamper === 'rotated-key' && !rotated) {
        const jwk = await server.issuer.keys.generate('RS256');
        const full = server.issuer.keys.toJSON(true).find((k) => k.kid === jwk.kid);
        rotated = { kid: jwk.kid, key: createPrivateKey({ key: full, format: 'jwk' }) };
      }
      res.writeHead(204).end();
    } else if (req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    } else {
      res.writeHead(404).end();
    }
  });
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));

console.log(JSON.stringify({ issuer, control_url: `http://127.0.0.1:${control.address().port}` }));

process.stdin.resume();
process.stdin.on('end', async () => {
  control.close();
  await server.stop();
  process.exit(0);
});
