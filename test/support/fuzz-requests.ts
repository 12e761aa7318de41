import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { mutate, type Rng } from './fuzz-rng.ts';
import { FORM } from './client.ts';

// The request generator of test/http/fuzz.test.ts: valid requests of the contract mutated in one
// aspect, random requests, and raw mutated bytes, all drawn from a seeded Rng.

export const REQUEST_TIMEOUT_MS = 10_000;
// Every fuzzed password carries this marker, so a response that echoes one is caught.
export const MARKER = 'Fz9-secret';

const PATHS = [
  '/users/',
  '/users',
  '/token',
  '/token/',
  '/users/me/',
  '/users/me',
  '/users/me/sessions',
  '/users/me/sessions/00000000-0000-0000-0000-000000000000',
  '/users/me/password',
  '/logout',
  '/logout/all',
  '/logout/others',
  '/revoke',
  '/introspect',
  '/clients',
  '/clients/1',
  '/users/1',
  '/users/-1',
  '/users/99999999999999999999',
  '/audit',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/docs',
  '/docs/static/index.html',
  '/',
  '/assets/x.js',
  '//users//',
  '/users/%2e%2e/token',
  '/users/%zz',
  '/users/%00',
  '/users/%c0%af',
  '/..%2f..%2fetc/passwd',
  '/users/?limit=0&cursor=%ff',
  '/audit?since=not-a-date&until=2030-13-45&limit=1e9',
  '/users/me/sessions/' + 'a'.repeat(300),
  '/token?access_token=x',
  '/%F0%9F%92%A9',
];
const METHODS = [
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'PROPFIND',
  'FOO',
];
const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded;;;',
  'application/merge-patch+json',
  '*/*',
  '',
  'application/json, text/html',
];

export interface Ctx {
  /** The run's seed, part of generated emails so runs never collide. */
  seed: number;
  rng: Rng;
  id: number;
  token: string;
  refreshToken: string;
  emails: readonly string[];
}

function email(c: Ctx): string {
  if (c.emails.length > 0 && c.rng.chance(0.2)) {
    const known = c.rng.pick(c.emails);
    return c.rng.pick([known, known.toUpperCase(), ` ${known} `]);
  }
  return c.rng.pick([
    `fuzz-${c.seed}-${c.id}@example.com`,
    `Fuzz.${c.id}+x@Example.COM`,
    c.rng.text(40),
    'a@b',
    '',
  ]);
}

function password(c: Ctx): string {
  return c.rng.pick([
    `${MARKER}-${c.id}-long enough`,
    `${MARKER} ${c.id} horse battery`,
    `${MARKER}`,
    `${MARKER}-${'x'.repeat(200)}`,
    'password',
  ]);
}

function randomJson(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 4 : 7);
  switch (kind) {
    case 0:
      return rng.text(20);
    case 1:
      return rng.pick([0, -1, 1e308, 3.14, Number.MAX_SAFE_INTEGER + 2]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return rng.pick(['__proto__', 'constructor', '', '\u0000']);
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = [
        'email',
        'password',
        'role',
        'disabled',
        'current_password',
        'new_password',
        rng.text(8),
      ];
      return Object.fromEntries(
        Array.from({ length: rng.int(5) }, () => [rng.pick(keys), randomJson(rng, depth + 1)]),
      );
    }
  }
}

function body(c: Ctx): Buffer {
  const { rng } = c;
  const registration = JSON.stringify({ email: email(c), password: password(c) });
  const form = new URLSearchParams();
  for (let i = rng.int(5); i >= 0; i--) {
    const key = rng.pick([
      'username',
      'password',
      'grant_type',
      'refresh_token',
      'scope',
      'client_id',
      rng.text(6),
    ]);
    const value = rng.pick([
      email(c),
      password(c),
      'password',
      'refresh_token',
      c.refreshToken,
      rng.text(30),
    ]);
    form.append(key, value);
  }
  const n = 1 + rng.int(6000);
  const choices: (() => Buffer | string)[] = [
    () => registration,
    () => registration,
    () => mutate(rng, Buffer.from(registration)),
    () => JSON.stringify(randomJson(rng)),
    () =>
      `{"__proto__":{"role":"admin"},"constructor":{"prototype":{"x":1}},"email":"${email(c)}","password":"${password(c)}"}`,
    () => '['.repeat(n) + ']'.repeat(n),
    () => '{"a":'.repeat(n / 6) + '1' + '}'.repeat(n / 6),
    () => form.toString(),
    () => mutate(rng, Buffer.from(form.toString())),
    () => `username=${'%'.repeat(rng.int(5))}${rng.text(20)}&password=%E0%A4%A&password=x`,
    () => JSON.stringify({ current_password: password(c), new_password: password(c) }),
    () => 'x'.repeat(16_384 + rng.int(5000)),
    () => rng.bytes(rng.int(200)),
    () => gzipSync(registration),
    () => '',
  ];
  const chosen = rng.pick(choices)();
  return typeof chosen === 'string' ? Buffer.from(chosen) : chosen;
}

function headers(c: Ctx, payload: Buffer): Record<string, string> {
  const { rng } = c;
  const h: Record<string, string> = {};
  if (rng.chance(0.85)) h['content-type'] = rng.pick(CONTENT_TYPES);
  if (rng.chance(0.5)) {
    h.authorization = rng.pick([
      `Bearer ${c.token}`,
      `bearer ${c.token}`,
      `Bearer ${c.token.slice(0, -3)}abc`,
      `Basic ${c.token}`,
      `Bearer ${mutate(rng, Buffer.from(c.token))
        .toString('latin1')
        .replace(/[\r\n\0]/g, '')}`,
      'Bearer',
      'Bearer ',
      `Bearer ${'a'.repeat(9000)}`,
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.',
      rng.text(50),
    ]);
  }
  if (rng.chance(0.15)) h['x-gatehouse-refresh-cookie'] = rng.pick(['1', '0', 'yes']);
  if (rng.chance(0.15))
    h.cookie = `gatehouse_refresh=${rng.pick([c.refreshToken, rng.text(40), ''])}; other=1`;
  if (rng.chance(0.2))
    h['x-forwarded-for'] = rng.pick([
      '',
      ',,,',
      'not-an-ip',
      '::1, 10.0.0.1',
      '999.1.1.1',
      `${rng.int(256)}.0.0.1`,
    ]);
  if (rng.chance(0.1))
    h['content-encoding'] = rng.pick(['gzip', 'deflate', 'br', 'identity', 'x-unknown']);
  if (rng.chance(0.1)) h.origin = rng.pick(['https://evil.example', 'null', 'http://127.0.0.1']);
  if (rng.chance(0.1)) h['user-agent'] = 'U'.repeat(rng.int(4000));
  if (rng.chance(0.1)) h[`x-${rng.text(10, 'abcdefghij')}`] = rng.text(100, 'abc123 ;,=é');
  // Framed one way or the other: unframed bytes after a GET would be a second (garbage) request
  // on the connection, which the server rightly answers 400, confusing node:http's client.
  if (rng.chance(0.9)) h['content-length'] = String(payload.length);
  else h['transfer-encoding'] = 'chunked';
  return h;
}

/** Long values as their start and length, so a failure message stays readable. */
function shorten(value: string): string {
  return value.length > 120 ? `${value.slice(0, 80)}...(${value.length} chars)` : value;
}

export interface Outcome {
  statuses: number[];
  body: string;
  description: string;
}

interface Parts {
  method: string;
  path: string;
  headers: Record<string, string>;
  payload: Buffer;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A valid request of the contract, to mutate in one aspect (or none): grammar-based fuzzing. */
function validRequest(c: Ctx): Parts {
  const { rng } = c;
  const bearer = { authorization: `Bearer ${c.token}` };
  const form = (fields: Record<string, string>) =>
    Buffer.from(new URLSearchParams(fields).toString());
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const register = (): Parts => ({
    method: 'POST',
    path: rng.pick(['/users/', '/users']),
    headers: { ...JSON_HEADERS },
    payload: json({ email: email(c), password: password(c) }),
  });
  const templates: (() => Parts)[] = [
    register,
    () => ({
      method: 'POST',
      path: '/token',
      headers: { ...FORM },
      payload: form({ username: email(c), password: password(c) }),
    }),
    () => ({
      method: 'POST',
      path: '/token',
      headers: { ...FORM },
      payload: form({ grant_type: 'refresh_token', refresh_token: c.refreshToken }),
    }),
    () => ({
      method: 'GET',
      path: rng.pick(['/users/me/', '/users/me/sessions', '/users/', '/audit']),
      headers: bearer,
      payload: Buffer.alloc(0),
    }),
    () => ({
      method: 'POST',
      path: '/revoke',
      headers: { ...FORM },
      // Garbage only: revoking the context's own tokens would end the session other templates use.
      payload: form({
        token: rng.text(rng.int(200)),
        token_type_hint: rng.pick(['access_token', 'refresh_token', rng.text(10)]),
      }),
    }),
    () => ({
      method: 'POST',
      path: '/introspect',
      headers: {
        ...FORM,
        authorization: `Basic ${Buffer.from(`${rng.text(20)}:${rng.text(40)}`).toString('base64')}`,
      },
      payload: form({ token: c.token }),
    }),
    () => ({
      method: 'PUT',
      path: '/users/me/password',
      headers: { ...JSON_HEADERS, ...bearer },
      payload: json({ current_password: password(c), new_password: password(c) }),
    }),
  ];
  // Registrations weigh more: they are what the final count of users checks.
  const parts = (rng.chance(0.3) ? register : rng.pick(templates))();
  switch (rng.int(6)) {
    case 0:
      return { ...parts, payload: mutate(rng, parts.payload) };
    case 1:
      return { ...parts, headers: { ...parts.headers, 'content-type': rng.pick(CONTENT_TYPES) } };
    case 2:
      return { ...parts, method: rng.pick(METHODS) };
    case 3:
      return { ...parts, headers: { ...headers(c, parts.payload), ...parts.headers } };
    default:
      return parts;
  }
}

function randomRequest(c: Ctx): Parts {
  const { rng } = c;
  const method = rng.pick(METHODS);
  let path = rng.pick(PATHS);
  if (rng.chance(0.2))
    path = `${path}${rng.pick(['?', '&', '#', ';'])}${encodeURIComponent(rng.text(30))}`;
  if (rng.chance(0.05)) path = `/${'x/'.repeat(rng.int(3000))}`;
  const payload =
    method === 'GET' || method === 'HEAD' ? Buffer.alloc(rng.chance(0.1) ? 10 : 0) : body(c);
  return { method, path, headers: headers(c, payload), payload };
}

/** One request through node:http. Resolves with its status and body. */
export function sendHttp(base: URL, c: Ctx): Promise<Outcome> {
  const {
    method,
    path,
    headers: h,
    payload,
  } = c.rng.chance(0.4) ? validRequest(c) : randomRequest(c);
  if (h['content-length'] === undefined && h['transfer-encoding'] === undefined) {
    h['content-length'] = String(payload.length);
  }
  const description = `${method} ${shorten(path)} ${JSON.stringify(h, (_key, value: unknown) => (typeof value === 'string' ? shorten(value) : value))} body=${JSON.stringify(shorten(payload.toString('latin1')))}`;
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = httpRequest({
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: h,
        agent: false,
      });
    } catch {
      // node:http refused to send it (a character it won't put on the wire): the raw socket
      // cases cover such bytes.
      resolve({ statuses: [], body: '', description });
      return;
    }
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms (hang)`)),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          statuses: [res.statusCode ?? 0],
          body: Buffer.concat(chunks).toString(),
          description,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // Headers past Node's 16 KiB limit get Fastify's 431 from the socket, body included even
      // for HEAD, which node:http's client can't parse. The raw cases check that path's status.
      if (method === 'HEAD' && error.code === 'HPE_INVALID_CONSTANT') {
        resolve({ statuses: [], body: '', description });
      } else {
        reject(new Error(`${error.message}: ${description}`));
      }
    });
    // A declared length longer than the body would (rightly) leave the server waiting.
    req.end(
      h['content-length'] === undefined || Number(h['content-length']) === payload.length
        ? payload
        : undefined,
    );
  });
}

/** One request as raw, mutated bytes on a socket: the HTTP parser's share of the fuzzing. */
export function sendRaw(base: URL, c: Ctx): Promise<Outcome> {
  const { rng } = c;
  const target = rng.pick(['/token', '/users/me/', '/users/', '/healthz']);
  const payload =
    target === '/users/'
      ? `{"email":"raw-${c.id}@example.com"}`
      : `username=a%40b.co&password=${MARKER}`;
  const lines = [
    `${rng.pick(['POST', 'GET', 'G\u0000T', 'POST /x'])} ${target} ${rng.pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', ''])}`,
    `Host: ${base.host}`,
    `Content-Type: ${target === '/users/' ? 'application/json' : 'application/x-www-form-urlencoded'}`,
    rng.pick([
      `Content-Length: ${payload.length}`,
      'Transfer-Encoding: chunked',
      `Content-Length: ${payload.length}\r\nContent-Length: 3`,
      `Content-Length: -1`,
      `Transfer-Encoding: chunked\r\nContent-Length: ${payload.length}`,
    ]),
    rng.pick([
      'Connection: close',
      'Expect: 100-continue',
      ' folded: header',
      `X-Big: ${'b'.repeat(rng.int(20_000))}`,
      `Authorization: Bearer ${c.token}`,
    ]),
  ];
  const chunked = lines[3]?.startsWith('Transfer-Encoding');
  const framed = chunked
    ? `${rng.pick([payload.length.toString(16), 'zz', '-1', 'fffffffffffffff'])}\r\n${payload}\r\n0\r\n\r\n`
    : payload;
  const raw = mutate(rng, Buffer.from(`${lines.join('\r\n')}\r\n\r\n${framed}`));
  const description = `raw ${JSON.stringify(raw.toString('latin1').slice(0, 400))}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${REQUEST_TIMEOUT_MS} ms (hang): ${description}`));
    }, REQUEST_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset after the server gave up on the bytes is fine
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ statuses, body: text, description });
    });
    socket.end(raw);
  });
}
