// A service of your own whose API is protected by Gatehouse access tokens, with the Node SDK
// (README "Protect your API: the Node SDK"). It knows only Gatehouse's public URL and the
// audience; keys come from Gatehouse's published metadata, and rotate without a restart.
//
//   GATEHOUSE_ISSUER=http://127.0.0.1:8000 node examples/resource-server-fastify/server.mjs
//
// Settings (environment): GATEHOUSE_ISSUER (Gatehouse's GATEHOUSE_PUBLIC_URL), GATEHOUSE_AUDIENCE
// (its GATEHOUSE_JWT_AUDIENCE, default "gatehouse"), PORT (default 3000), and, to see logouts
// at once through introspection, GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET of an API
// client (`npx gatehouse clients create --name notes`).
import Fastify from 'fastify';
import { createVerifier, fastifyAuth } from 'gatehouse/resource-server';

const env = process.env;
const verifier = createVerifier({
  issuer: env.GATEHOUSE_ISSUER ?? 'http://127.0.0.1:8000',
  audience: env.GATEHOUSE_AUDIENCE ?? 'gatehouse',
  introspect: env.GATEHOUSE_CLIENT_ID
    ? {
        clientId: env.GATEHOUSE_CLIENT_ID,
        clientSecret: env.GATEHOUSE_CLIENT_SECRET ?? '',
        cacheSeconds: Number(env.GATEHOUSE_INTROSPECT_CACHE_SECONDS ?? 0),
      }
    : undefined,
});

const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'info' } });
// Every route below needs a valid Gatehouse access token; its claims are request.auth.
await app.register(fastifyAuth, { verifier, realm: 'notes' });

const notes = new Map(); // user id → their notes (a real service has a database)

app.get('/notes', async (request) => ({
  user: request.auth.sub,
  notes: notes.get(request.auth.sub) ?? [],
}));

app.post('/notes', async (request, reply) => {
  const text = typeof request.body?.text === 'string' ? request.body.text.slice(0, 500) : '';
  if (!text) return reply.code(422).send({ detail: 'text: a non-empty string is required' });
  const mine = notes.get(request.auth.sub) ?? [];
  mine.push(text);
  notes.set(request.auth.sub, mine);
  return reply.code(201).send({ notes: mine });
});

// Only tokens with the admin scope (Gatehouse admins' tokens carry it): others get 403.
app.get('/stats', { preHandler: app.requireScope('admin') }, async () => ({
  users: notes.size,
  notes: [...notes.values()].reduce((sum, list) => sum + list.length, 0),
}));

const address = await app.listen({ host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 3000) });
console.log(
  `notes service on ${address}, trusting tokens of ${env.GATEHOUSE_ISSUER ?? 'http://127.0.0.1:8000'}`,
);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());
