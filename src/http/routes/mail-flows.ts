import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Config } from '../../config/config.ts';
import { normalizeEmail } from '../../domain/email-address.ts';
import type { Services } from '../../services.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { perAddressRateLimit } from '../rate-limit.ts';
import { ErrorSchema, NoContent } from '../schemas.ts';

const Accepted = Type.Object({ detail: Type.String() });

// API.md 8: the one answer of POST /password-reset, whatever the address.
export const RESET_REQUESTED = 'If the address is registered, a reset link has been sent';

const TokenBody = Type.Object({
  token: Type.String({ description: 'The token from the link in the message' }),
});
const ResetRequestBody = Type.Object({
  email: Type.String({ maxLength: 320, examples: ['alice@example.com'] }),
});
const ResetConfirmBody = Type.Object({
  token: Type.String({ description: 'The token from the reset link' }),
  new_password: Type.String({ description: '8 to 128 characters; common passwords are refused' }),
});
const EmailChangeBody = Type.Object({
  new_email: Type.String({ examples: ['alice@new.example.com'] }),
  current_password: Type.String(),
});

/** Email verification, password reset and email change (API.md 8). */
export function mailFlowRoutes(services: Services, config: Config): FastifyPluginAsyncTypebox {
  return async (app) => {
    const guarded = guard(services, 'account:manage');
    const secured = { tags: ['email'], security: securityFor('account:manage') };
    const json = { preValidation: requireContentType('json') };
    const perAddress = perAddressRateLimit(app, config.mailFlows.resetRateLimitAddress, (r) =>
      normalizeEmail((r.body as { email: string }).email),
    );

    app.post(
      '/users/me/verify-email',
      {
        ...guarded,
        schema: {
          operationId: 'requestEmailVerification',
          ...secured,
          summary: 'Send a new verification link to your address',
          description: 'Voids earlier links. An address already verified gets no message.',
          response: { 202: Accepted, 401: ErrorSchema, 403: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (request, reply) => {
        services.requireMailDelivery();
        await services.requestEmailVerification(principalOf(request).user.id, clientInfo(request));
        return reply.code(202).send({ detail: 'Verification link sent' });
      },
    );

    app.post(
      '/verify-email',
      {
        ...json,
        schema: {
          operationId: 'verifyEmail',
          security: [],
          tags: ['email'],
          summary: 'Follow a verification or email-change link',
          description:
            'The token of a verification link marks the address verified; the token of an ' +
            'email-change link moves the account to the new address (and marks it verified), ' +
            'unless another account has taken it meanwhile (400 "Email already registered"). ' +
            'Tokens are single use.',
          body: TokenBody,
          response: { 204: NoContent, 400: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        await services.confirmEmailToken(request.body.token, clientInfo(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/password-reset',
      {
        ...json,
        ...(perAddress ? { preHandler: perAddress } : {}),
        schema: {
          operationId: 'requestPasswordReset',
          security: [],
          tags: ['email'],
          summary: 'Send a password-reset link',
          description:
            'The same 202, body and timing whether or not the address is registered. Rate ' +
            'limited per client IP and per address (429).',
          body: ResetRequestBody,
          response: { 202: Accepted, 422: ErrorSchema, 429: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (request, reply) => {
        services.requireMailDelivery();
        await services.requestPasswordReset(request.body.email, clientInfo(request));
        return reply.code(202).send({ detail: RESET_REQUESTED });
      },
    );

    app.post(
      '/password-reset/confirm',
      {
        ...json,
        schema: {
          operationId: 'confirmPasswordReset',
          security: [],
          tags: ['email'],
          summary: 'Set a new password with a reset link; ends every session',
          body: ResetConfirmBody,
          response: { 204: NoContent, 400: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) => {
        await services.confirmPasswordReset(
          request.body.token,
          request.body.new_password,
          clientInfo(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/users/me/email',
      {
        ...guarded,
        ...json,
        schema: {
          operationId: 'requestEmailChange',
          ...secured,
          summary: 'Change your address: a confirmation link goes to the new one',
          description:
            'The address changes when the link is followed (POST /verify-email); the old ' +
            'address is told of the request.',
          body: EmailChangeBody,
          response: {
            202: Accepted,
            400: ErrorSchema,
            401: ErrorSchema,
            403: ErrorSchema,
            422: ErrorSchema,
            503: ErrorSchema,
          },
        },
      },
      async (request, reply) => {
        services.requireMailDelivery();
        await services.requestEmailChange({
          userId: principalOf(request).user.id,
          newEmail: request.body.new_email,
          currentPassword: request.body.current_password,
          client: clientInfo(request),
        });
        return reply.code(202).send({ detail: 'Confirmation link sent to the new address' });
      },
    );
  };
}
