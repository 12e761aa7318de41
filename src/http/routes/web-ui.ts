import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_ROOT } from '../../package-root.ts';

const DIST = join(PACKAGE_ROOT, 'web/dist');

// Strict CSP for the UI, so an injected script has nowhere to run or send to: no inline
// script or style, no request outside the origin.
const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** What the page is told about this server's settings, so the UI needs no extra request. */
export interface WebUiSettings {
  /** GATEHOUSE_PASSWORD_MIN_LENGTH (API.md 1): the sign-up and password forms show it. */
  readonly passwordMinLength: number;
}

/**
 * The settings as `<meta>` tags in the page's head: plain markup, no inline script, so the
 * strict CSP stays as it is. Numbers only, so nothing in them needs escaping.
 */
function settingsMeta(settings: WebUiSettings): string {
  return `<meta name="gatehouse-password-min-length" content="${Math.trunc(settings.passwordMinLength)}" />`;
}

function loadAssets(
  settings: WebUiSettings,
): { index: Buffer; assets: Map<string, Asset> } | undefined {
  if (!existsSync(join(DIST, 'index.html'))) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(join(DIST, 'assets'))) {
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)];
    if (type) assets.set(name, { body: readFileSync(join(DIST, 'assets', name)), type });
  }
  const html = readFileSync(join(DIST, 'index.html'), 'utf8').replace(
    '</head>',
    `  ${settingsMeta(settings)}\n  </head>`,
  );
  return { index: Buffer.from(html), assets };
}

/**
 * The web UI at `/`: a small bundle built by scripts/build-web.mjs, held in memory.
 * Assets have content-hashed names, so they are cached for a year; index.html is revalidated.
 */
export function webUiRoutes(settings: WebUiSettings) {
  return async (app: FastifyInstance) => {
    const built = loadAssets(settings);
    app.get('/', { schema: { hide: true } }, async (_request, reply) => {
      if (!built) {
        return reply
          .code(503)
          .send({ detail: 'The web UI is not built; run `npm run build:web` (npm ci does it)' });
      }
      return reply
        .header('content-security-policy', UI_CSP)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .send(built.index);
    });
    app.get<{ Params: { name: string } }>(
      '/assets/:name',
      { schema: { hide: true } },
      async (request, reply) => {
        const asset = built?.assets.get(request.params.name);
        if (!asset) return reply.code(404).send({ detail: 'Not Found' });
        return reply
          .header('content-security-policy', UI_CSP)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .type(asset.type)
          .send(asset.body);
      },
    );
  };
}
