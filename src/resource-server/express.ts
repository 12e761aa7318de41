import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ResourceServerError } from './errors.ts';
import { bearerToken, checkScopes, missingToken, refusal, type AuthOptions } from './http.ts';
import type { AccessTokenClaims, Verifier } from './verifier.ts';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified token's claims (set by expressAuth); null for an anonymous request. */
    auth?: AccessTokenClaims | null;
  }
}

export interface ExpressAuthOptions extends AuthOptions {
  verifier: Verifier;
}

export interface ExpressAuth extends RequestHandler {
  /** Middleware that answers 403 unless `req.auth` carries every one of `scopes`. */
  requireScope(...scopes: string[]): RequestHandler;
}

function refuse(res: Response, error: ResourceServerError, realm: string, scope?: string): void {
  const answer = refusal(error, realm, scope);
  res.status(answer.status).set(answer.headers).json(answer.body);
}

/** requireScope for Express, with the realm of its challenge. */
export function expressRequireScope(realm: string, scopes: string[]): RequestHandler {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope');
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      checkScopes(req.auth, scopes);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) return next(error);
      return refuse(res, error, realm, scopes.join(' '));
    }
    next();
  };
}

/**
 * Express middleware: authenticates the request from `Authorization: Bearer` and sets
 * `req.auth`; refuses with 401 + RFC 6750 `WWW-Authenticate`, or 503 when Gatehouse cannot be
 * reached to check the token.
 *
 *   const auth = expressAuth({ verifier });
 *   app.use(auth);
 *   app.get('/admin', auth.requireScope('admin'), handler);
 */
export function expressAuth(options: ExpressAuthOptions): ExpressAuth {
  const { verifier } = options;
  if (!verifier || typeof verifier.verify !== 'function') {
    throw new TypeError('expressAuth needs { verifier: createVerifier(...) }');
  }
  const realm = options.realm ?? 'gatehouse';
  const required = options.required ?? true;
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    req.auth = null;
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      if (required) return refuse(res, missingToken(), realm);
      return next();
    }
    verifier.verify(token).then(
      (claims) => {
        req.auth = claims;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof ResourceServerError)) return next(error);
        refuse(res, error, realm);
      },
    );
  };
  return Object.assign(middleware, {
    requireScope: (...scopes: string[]) => expressRequireScope(realm, scopes),
  });
}
