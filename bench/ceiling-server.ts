// Baseline (c), "the ceiling" (issue 21): the least an instantly revocable /users/me/ can do
// on Fastify — one route, no plugins, the floor's HS256 check and one prepared SQLite read of
// the token's active session joined with its user (the read Gatehouse makes on every request).
// Its own SQLite file (CEILING_DB), seeded with CEILING_USERS users, one session each; the
// session id of user n is `s<n>`. Run as its own process by the bench.
// CEILING_READ takes the read apart (bench/ceiling-parts.ts): `file` (the default, the ceiling
// itself), `exclusive` (the same file with SQLite's exclusive locking mode: no lock syscalls per
// read, but no other process could open the file, so Gatehouse can't use it), `memory` (an
// in-memory database: no file at all), `none` (no read: Fastify and the HS256 check alone).
import { createHmac, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const secret = process.env.FLOOR_SECRET ?? 'floor-secret-floor-secret-floor-secret';
const users = Number(process.env.CEILING_USERS ?? 1000);
const read = process.env.CEILING_READ ?? 'file';
const db = new Database(read === 'memory' ? ':memory:' : (process.env.CEILING_DB ?? ':memory:'));
db.pragma('journal_mode = WAL');
if (read === 'exclusive') db.pragma('locking_mode = EXCLUSIVE');
db.exec(`
  create table if not exists users (id integer primary key, email text not null, role text not null,
    created_at text not null, disabled_at text, email_verified integer not null default 0);
  create table if not exists sessions (id text primary key, user_id integer not null references users(id),
    last_used_at text not null, expires_at text not null, revoked_at text, scope text not null);
`);
const now = new Date().toISOString();
const later = new Date(Date.now() + 86_400_000).toISOString();
const addUser = db.prepare('insert or ignore into users values (?, ?, ?, ?, null, 1)');
const addSession = db.prepare('insert or ignore into sessions values (?, ?, ?, ?, null, ?)');
db.transaction(() => {
  for (let i = 1; i <= users; i++) {
    addUser.run(i, `bench${i}@example.com`, 'user', now);
    addSession.run(`s${i}`, i, now, later, 'me');
  }
})();
const findActive = db.prepare(`
  select users.id, users.email, users.role, users.created_at, users.email_verified,
         sessions.last_used_at, sessions.scope
  from sessions inner join users on users.id = sessions.user_id
  where sessions.id = ? and sessions.user_id = ? and sessions.revoked_at is null
    and sessions.expires_at > ? and users.disabled_at is null`);

const noRead: Row = {
  id: 1,
  email: 'bench1@example.com',
  role: 'user',
  created_at: now,
  email_verified: 1,
};

interface Row {
  id: number;
  email: string;
  role: string;
  created_at: string;
  email_verified: number;
}

function claimsOf(token: string): { sub?: string; sid?: string; exp?: number } | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const given = Buffer.from(signature, 'base64url');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
    sub?: string;
    sid?: string;
    exp?: number;
  };
  return typeof claims.exp === 'number' && claims.exp > Date.now() / 1000 ? claims : undefined;
}

const app = Fastify({ logger: false });
const unauthorized = { detail: 'Could not validate credentials' };
app.get('/users/me/', (request, reply) => {
  const auth = request.headers.authorization ?? '';
  const claims = auth.startsWith('Bearer ') ? claimsOf(auth.slice(7)) : undefined;
  const row =
    claims &&
    (read === 'none'
      ? noRead
      : (findActive.get(claims.sid, Number(claims.sub), new Date().toISOString()) as
          Row | undefined));
  if (!row) return reply.code(401).send(unauthorized);
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    created_at: row.created_at,
    email_verified: row.email_verified === 1,
  };
});
app.get('/', () => ({ ok: true }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
