// gatehouse/resource-server: verify Gatehouse access tokens in another Node service from
// Gatehouse's published metadata alone (README "Protect your API: the Node SDK").
// At run time this needs jose and Node's built-ins only; Fastify and Express are types.
export { createVerifier } from './verifier.ts';
export type {
  AccessTokenClaims,
  AsymmetricAlgorithm,
  Verifier,
  VerifierOptions,
} from './verifier.ts';
export type { AuthorizationServerMetadata } from './discovery.ts';
export type { IntrospectionOptions } from './introspection.ts';
export { ResourceServerError, type ResourceServerErrorCode } from './errors.ts';
export type { AuthOptions } from './http.ts';
export { fastifyAuth, fastifyRequireScope, type FastifyAuthOptions } from './fastify.ts';
export {
  expressAuth,
  expressRequireScope,
  type ExpressAuth,
  type ExpressAuthOptions,
} from './express.ts';
