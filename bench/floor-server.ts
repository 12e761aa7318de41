// Baseline (a), "the floor": the least a JWT-checking /users/me/ can do in Node — node:http,
// a signature check with node:crypto, a fixed JSON user. Run as its own process by the bench.
// HS256 with FLOOR_SECRET; EdDSA (Ed25519) when FLOOR_PUBLIC_KEY (SPKI PEM) is set.
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.FLOOR_SECRET ?? 'floor-secret-floor-secret-floor-secret';
const publicKey = process.env.FLOOR_PUBLIC_KEY
  ? createPublicKey(process.env.FLOOR_PUBLIC_KEY)
  : undefined;
const user = JSON.stringify({ id: 1, email: 'bench@example.com', role: 'user' });

function signatureValid(input: string, signature: string): boolean {
  const given = Buffer.from(signature, 'base64url');
  if (publicKey) return verify(null, Buffer.from(input), publicKey, given);
  const expected = createHmac('sha256', secret).update(input).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function valid(token: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  if (!signatureValid(`${header}.${payload}`, signature)) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp?: number };
  return typeof claims.exp === 'number' && claims.exp > Date.now() / 1000;
}

const server = createServer((request, response) => {
  const auth = request.headers.authorization ?? '';
  const ok = auth.startsWith('Bearer ') && valid(auth.slice(7));
  response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  response.end(ok ? user : '{"detail":"Could not validate credentials"}');
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
