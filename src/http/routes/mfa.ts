import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { answerAdminUserAction } from '../admin-user-action.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema, IdParams, NoContent } from '../schemas.ts';

const PasswordBody = Type.Object({ current_password: Type.String({ maxLength: 1024 }) });
const CodeBody = Type.Object({
  code: Type.String({ maxLength: 64, description: 'The 6-digit code the app shows now' }),
});
const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), {
    description: '10 single-use codes, shown this once (stored hashed)',
  }),
});
const Enrolment = Type.Object({
  secret: Type.String({ description: 'Base32 secret, for manual entry' }),
  otpauth_uri: Type.String(),
  qr_svg: Type.String({ description: 'The otpauth URI as a QR code, an SVG document' }),
});
const Status = Type.Object({
  mfa_enabled: Type.Boolean(),
  totp: Type.Union([Type.Literal('enabled'), Type.Literal('pending'), Type.Literal('disabled')]),
  recovery_codes_left: Type.Integer(),
});

/** The signed-in user's own second factors (API.md 9). */
export function mfaRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const guarded = guard(services, 'account:manage');
    const secured = { tags: ['mfa'], security: securityFor('account:manage') };
    const errors = {
      400: ErrorSchema,
      401: ErrorSchema,
      403: ErrorSchema,
      404: ErrorSchema,
      409: ErrorSchema,
      422: ErrorSchema,
      429: ErrorSchema,
    };
    const json = { ...guarded, preValidation: requireContentType('json') };

    app.get(
      '/users/me/mfa',
      {
        ...guarded,
        schema: {
          operationId: 'getMfaStatus',
          ...secured,
          summary: 'Your second factors',
          response: { 200: Status, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (request) => {
        const status = await services.mfaStatus(principalOf(request).user.id);
        return {
          mfa_enabled: status.mfaEnabled,
          totp: status.totp,
          recovery_codes_left: status.recoveryCodesLeft,
        };
      },
    );

    app.post(
      '/users/me/mfa/totp',
      {
        ...json,
        schema: {
          operationId: 'startTotpEnrolment',
          ...secured,
          summary: 'Start TOTP enrolment (RFC 6238)',
          description:
            'Needs the current password. Returns a new secret, its otpauth URI and a QR code (SVG). Nothing changes for sign-in until POST /users/me/mfa/totp/confirm succeeds; starting again replaces a pending secret. 409 when TOTP is already on.',
          body: PasswordBody,
          response: { 200: Enrolment, ...errors },
        },
      },
      async (request) => {
        const started = await services.startTotpEnrolment({
          userId: principalOf(request).user.id,
          currentPassword: request.body.current_password,
          client: clientInfo(request),
        });
        return {
          secret: started.secret,
          otpauth_uri: started.otpauthUri,
          // Rendered here, server-side: the secret never goes to a third-party QR service.
          // qrcode loads on the first enrolment, not at start (issue 21: peak RSS).
          qr_svg: await (
            await import('qrcode')
          ).default.toString(started.otpauthUri, { type: 'svg', margin: 2 }),
        };
      },
    );

    app.post(
      '/users/me/mfa/totp/confirm',
      {
        ...json,
        schema: {
          operationId: 'confirmTotpEnrolment',
          ...secured,
          summary: 'Turn TOTP on with a first correct code; returns 10 recovery codes',
          description:
            'Wrong code: 400 `invalid_mfa_code`. No enrolment in progress: 409. From now on the password grant answers 403 `mfa_required`.',
          body: CodeBody,
          response: { 200: RecoveryCodes, ...errors },
        },
      },
      async (request) => ({
        recovery_codes: await services.confirmTotpEnrolment({
          userId: principalOf(request).user.id,
          code: request.body.code,
          client: clientInfo(request),
        }),
      }),
    );

    app.delete(
      '/users/me/mfa/totp',
      {
        ...json,
        schema: {
          operationId: 'disableTotp',
          ...secured,
          summary: 'Turn TOTP off (current password); the recovery codes go too',
          body: PasswordBody,
          response: { 204: NoContent, ...errors },
        },
      },
      async (request, reply) => {
        await services.disableTotp({
          userId: principalOf(request).user.id,
          currentPassword: request.body.current_password,
          client: clientInfo(request),
        });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/users/me/mfa/recovery-codes',
      {
        ...json,
        schema: {
          operationId: 'regenerateRecoveryCodes',
          ...secured,
          summary: 'Replace your recovery codes with 10 new ones (current password)',
          body: PasswordBody,
          response: { 200: RecoveryCodes, ...errors },
        },
      },
      async (request) => ({
        recovery_codes: await services.regenerateRecoveryCodes({
          userId: principalOf(request).user.id,
          currentPassword: request.body.current_password,
          client: clientInfo(request),
        }),
      }),
    );
  };
}

/** DELETE /users/{id}/mfa: an admin resets a user's second factors (API.md 9). */
export function adminMfaRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.delete(
      '/users/:id/mfa',
      {
        ...guard(services, 'users:manage'),
        schema: {
          operationId: 'resetUserMfa',
          tags: ['admin'],
          security: securityFor('users:manage'),
          summary: "Reset a user's second factors (audited)",
          description:
            'Deletes the TOTP factor, recovery codes, passkeys and pending mfa_tokens; the user signs in with the password alone until they enrol again.',
          params: IdParams,
          response: {
            204: NoContent,
            401: ErrorSchema,
            403: ErrorSchema,
            404: ErrorSchema,
            422: ErrorSchema,
          },
        },
      },
      answerAdminUserAction(services.resetUserMfa),
    );
  };
}
