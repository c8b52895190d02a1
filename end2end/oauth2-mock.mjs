// An independent OAuth2 server for the Rust integration tests: npm `oauth2-mock-server` on a loopback
// port, made to check client credentials (client_secret_basic or client_secret_post, RFC 6749 §2.3.1),
// plus a tiny API that accepts only tokens whose RS256 signature verifies against the mock's keys.
//
// Usage: MOCK_CLIENT_ID=… MOCK_CLIENT_SECRET=… node oauth2-mock.mjs
// Prints one JSON line {"token_url", "api_base", "stats_url"} and runs until stdin closes.
import { createPublicKey, verify } from 'node:crypto';
import http from 'node:http';

import { Events, OAuth2Server } from 'oauth2-mock-server';

const clientId = process.env.MOCK_CLIENT_ID;
const clientSecret = process.env.MOCK_CLIENT_SECRET;
if (!clientId || !clientSecret) {
  console.error('set MOCK_CLIENT_ID and MOCK_CLIENT_SECRET');
  process.exit(2);
}

const stats = { token_requests: 0, basic: 0, post: 0, rejected: 0, api_requests: 0, api_verified: 0 };
// application/x-www-form-urlencoded decoding: '+' is a space, then percent-decoding.
const formDecode = (text) => decodeURIComponent(text.replace(/\+/g, ' '));

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on(Events.BeforeResponse, (response, req) => {
  stats.token_requests += 1;
  let id;
  let secret;
  let method;
  const authorization = req.headers.authorization ?? '';
  if (authorization.startsWith('Basic ')) {
    const pair = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    id = formDecode(pair.slice(0, colon));
    secret = formDecode(pair.slice(colon + 1));
    method = 'basic';
  } else {
    id = req.body.client_id;
    secret = req.body.client_secret;
    method = 'post';
  }
  if (id !== clientId || secret !== clientSecret || req.body.grant_type !== 'client_credentials') {
    stats.rejected += 1;
    response.statusCode = 401;
    response.body = { error: 'invalid_client' };
    return;
  }
  stats[method] += 1;
});
server.service.on(Events.BeforeTokenSigning, (token) => {
  token.payload.client_id = clientId;
  token.payload.token_use = 'access';
});
await server.start(0, '127.0.0.1');
const tokenPort = server.address().port;

function verified(authorization) {
  const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '');
  if (!match) return null;
  const [, header, payload, signature] = match;
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  const jwk = server.issuer.keys.toJSON().find((key) => key.kid === kid);
  if (!jwk || alg !== 'RS256') return null;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const ok = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  return ok && claims.exp > Date.now() / 1000 ? claims : null;
}

const api = http.createServer((req, res) => {
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
    return;
  }
  stats.api_requests += 1;
  const claims = verified(req.headers.authorization);
  if (!claims) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
    return;
  }
  stats.api_verified += 1;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [], client_id: claims.client_id }));
});
await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
const apiPort = api.address().port;

console.log(JSON.stringify({
  token_url: `http://127.0.0.1:${tokenPort}/token`,
  api_base: `http://127.0.0.1:${apiPort}/api/v1/`,
  stats_url: `http://127.0.0.1:${apiPort}/stats`,
}));

// The test owns this process: when it closes stdin (or dies), stop.
process.stdin.resume();
process.stdin.on('end', async () => {
  api.close();
  await server.stop();
  process.exit(0);
});
