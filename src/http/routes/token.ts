import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { GatehouseError } from '../../domain/errors.ts';
import type { TokenGrant } from '../../domain/sessions/issue-tokens.ts';
import type { Services } from '../../services.ts';
import { clientInfo } from '../client-info.ts';
import { readRefreshCookie, wantsRefreshCookie, type RefreshCookies } from '../refresh-cookie.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema } from '../schemas.ts';

/** API.md 9: the second step of a password grant for a user with a second factor. */
export const MFA_OTP_GRANT = 'urn:gatehouse:params:oauth:grant-type:mfa-otp';

// API.md 9: the password was right and the user has a second factor.
const MfaRequiredSchema = Type.Object({
  detail: Type.Unknown(),
  code: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
  mfa_token: Type.Optional(
    Type.String({
      description:
        'With `error: mfa_required`: single use, valid 5 minutes; send it with `otp` to grant_type=urn:gatehouse:params:oauth:grant-type:mfa-otp',
    }),
  ),
});
import { missingFields } from '../validation.ts';

// OAuth2PasswordRequestForm's fields (FastAPI), plus the refresh grant of RFC 6749 6.
const TokenForm = Type.Object({
  grant_type: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  scope: Type.Optional(
    Type.String({
      description:
        'Space-separated scopes to grant (`me`, `admin`); empty or absent = all your role allows',
    }),
  ),
  refresh_token: Type.Optional(Type.String()),
  credential: Type.Optional(
    Type.String({
      description:
        'webauthn and mfa-webauthn grants: the passkey assertion (PublicKeyCredential JSON)',
    }),
  ),
  mfa_token: Type.Optional(
    Type.String({
      description: 'mfa-otp and mfa-webauthn grants: the `mfa_token` of the 403 `mfa_required`',
    }),
  ),
  otp: Type.Optional(
    Type.String({ description: 'mfa-otp grant: a 6-digit TOTP code or a recovery code' }),
  ),
  client_id: Type.Optional(Type.String()),
  client_secret: Type.Optional(Type.String()),
});

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(
    Type.String({ description: 'Absent in cookie mode (X-Gatehouse-Refresh-Cookie: 1)' }),
  ),
  scope: Type.String(),
});

type TokenFormBody = Static<typeof TokenForm>;

/**
 * The fields a grant needs, all sent; any missing is the 422 `detail` list of FastAPI's form
 * (API.md 1), with RFC 6749 5.2's `invalid_request`.
 */
function requireFields<K extends keyof TokenFormBody>(
  form: TokenFormBody,
  names: readonly K[],
): Required<Pick<TokenFormBody, K>> {
  const missing = names.filter((name) => form[name] === undefined);
  if (missing.length > 0) throw missingFields('body', missing);
  return form as Required<Pick<TokenFormBody, K>>;
}

function tokenResponse(
  cookies: RefreshCookies,
  request: FastifyRequest,
  reply: FastifyReply,
  grant: TokenGrant,
) {
  const cookieMode = wantsRefreshCookie(request);
  if (cookieMode) cookies.set(request, reply, grant.refreshToken, grant.refreshExpiresIn);
  return {
    access_token: grant.accessToken,
    token_type: 'bearer' as const,
    expires_in: grant.expiresIn,
    ...(cookieMode ? {} : { refresh_token: grant.refreshToken }),
    scope: grant.scope,
  };
}

/** The refresh token of a refresh grant: the form field, or in cookie mode the cookie. */
function presentedRefreshToken(
  cookies: RefreshCookies,
  request: FastifyRequest,
  reply: FastifyReply,
  field: string | undefined,
): string {
  if (field !== undefined) return field;
  const cookie = wantsRefreshCookie(request) ? readRefreshCookie(request) : undefined;
  if (cookie === undefined) throw missingFields('body', ['refresh_token']);
  cookies.assertSameOrigin(request);
  // Whatever happens next, this cookie is spent: success replaces it, failure must not retry it.
  cookies.clear(request, reply);
  return cookie;
}

/** API.md 9: the passwordless passkey grant (RFC 6749 4.5 extension grant). */
export const WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:webauthn';
/** API.md 9: the second step of a password grant answered `mfa_required`, with a passkey. */
export const MFA_WEBAUTHN_GRANT = 'urn:gatehouse:params:oauth:grant-type:mfa-webauthn';

/** POST /token: the OAuth2 token endpoint, password and refresh_token grants (API.md 1, 2). */
export function tokenRoutes(
  services: Services,
  cookies: RefreshCookies,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/token',
      {
        // API.md 1 / RFC 6749 5.2: every error here carries `error` and `error_description`.
        config: { oauthErrors: true },
        preValidation: requireContentType('form'),
        schema: {
          operationId: 'issueToken',
          security: [],
          summary: 'OAuth2 token endpoint: password, refresh_token and mfa-otp grants',
          description:
            'Form fields of FastAPI\'s OAuth2PasswordRequestForm. `grant_type=refresh_token` with `refresh_token` rotates the refresh token. A user with a second factor gets 403 `{"error":"mfa_required","mfa_token"}` from the password grant; then `grant_type=urn:gatehouse:params:oauth:grant-type:mfa-otp` with `mfa_token` and `otp` (a TOTP code or a recovery code) gives the token response. `mfa_token`: single use, 5 minutes, at most 5 codes; a wrong code is 400 `invalid_grant`. With a passkey: `grant_type=urn:gatehouse:params:oauth:grant-type:mfa-webauthn` with `mfa_token` and `credential` (an assertion over the options of POST /webauthn/mfa/options). `grant_type=urn:gatehouse:params:oauth:grant-type:webauthn` with `credential` (an assertion over the options of POST /webauthn/authentication/options) signs in without a password; a refused assertion is 400 `invalid_grant`.',
          tags: ['auth'],
          consumes: ['application/x-www-form-urlencoded'],
          body: TokenForm,
          response: {
            200: TokenResponse,
            400: ErrorSchema,
            401: ErrorSchema,
            403: MfaRequiredSchema,
            413: ErrorSchema,
            422: ErrorSchema,
            429: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        const form = request.body;
        // RFC 6749 5.1: token responses must not be cached.
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        const grantType = form.grant_type ?? 'password';
        if (grantType === 'password') {
          const { username, password } = requireFields(form, ['username', 'password']);
          return tokenResponse(
            cookies,
            request,
            reply,
            await services.passwordGrant({
              username,
              password,
              scope: form.scope,
              client: clientInfo(request),
            }),
          );
        }
        if (grantType === MFA_OTP_GRANT) {
          const { mfa_token: mfaToken, otp } = requireFields(form, ['mfa_token', 'otp']);
          // API.md 9: in cookie mode the refresh cookie is set here, after the second factor,
          // never by the password grant's 403.
          return tokenResponse(
            cookies,
            request,
            reply,
            await services.mfaOtpGrant({
              mfaToken,
              otp,
              client: clientInfo(request),
            }),
          );
        }
        if (grantType === 'refresh_token') {
          const refreshToken = presentedRefreshToken(cookies, request, reply, form.refresh_token);
          return tokenResponse(
            cookies,
            request,
            reply,
            await services.rotateRefreshToken(refreshToken, clientInfo(request)),
          );
        }
        if (grantType === MFA_WEBAUTHN_GRANT) {
          const { mfa_token: mfaToken, credential } = requireFields(form, [
            'mfa_token',
            'credential',
          ]);
          return tokenResponse(
            cookies,
            request,
            reply,
            await services.mfaPasskeyGrant({
              mfaToken,
              credential,
              client: clientInfo(request),
            }),
          );
        }
        if (grantType === WEBAUTHN_GRANT) {
          const { credential } = requireFields(form, ['credential']);
          return tokenResponse(
            cookies,
            request,
            reply,
            await services.passkeyGrant({
              credential,
              scope: form.scope,
              client: clientInfo(request),
            }),
          );
        }
        throw new GatehouseError(
          'unsupported_grant_type',
          `Unsupported grant_type: ${grantType.slice(0, 40)}`,
        );
      },
    );
  };
}
