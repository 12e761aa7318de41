import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Passkey } from '../../domain/passkeys/passkey.ts';
import { MAX_PASSKEY_NAME_LENGTH } from '../../domain/passkeys/passkey.ts';
import type { Services } from '../../services.ts';
import { principalOf } from '../authenticate.ts';
import { guard, securityFor } from '../authorize.ts';
import { clientInfo } from '../client-info.ts';
import { requireContentType } from '../content-type.ts';
import { ErrorSchema, NoContent } from '../schemas.ts';

const PasskeyItem = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  backed_up: Type.Boolean({ description: 'The BS flag last seen: the passkey is backed up' }),
  device_type: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')], {
    description: '`multiDevice`: a synced passkey (BE flag)',
  }),
  transports: Type.Array(Type.String()),
});

const CredentialField = Type.Unknown({
  description:
    'The PublicKeyCredential as JSON (what @simplewebauthn/browser returns), an object or its JSON text',
});

const NameField = Type.String({ maxLength: MAX_PASSKEY_NAME_LENGTH });

const Options = Type.Object({
  options: Type.Unknown({
    description: 'PublicKeyCredential{Creation,Request}OptionsJSON for navigator.credentials',
  }),
});

function toItem(p: Passkey) {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt.toISOString(),
    last_used_at: p.lastUsedAt?.toISOString() ?? null,
    backed_up: p.backedUp,
    device_type: p.deviceType,
    transports: p.transports,
  };
}

/** Passkeys (API.md 9): the user's own (Bearer, `me` scope) and the passwordless options. */
export function passkeyRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const guarded = guard(services, 'account:manage');
    const secured = { tags: ['passkeys'], security: securityFor('account:manage') };
    const errors = { 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema };

    app.post(
      '/users/me/passkeys/registration/options',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'startPasskeyRegistration',
          ...secured,
          summary: 'Start adding a passkey (proves the current password)',
          description:
            'Returns creation options (discoverable credential, user verification required) with a single-use challenge valid 5 minutes. The current password is required: an access token alone must not let its holder add a way in. Wrong password: 400 `Incorrect password`; failures are throttled like logins (429).',
          body: Type.Object({ current_password: Type.String() }),
          response: { 200: Options, 400: ErrorSchema, 429: ErrorSchema, ...errors },
        },
      },
      async (request) => ({
        options: await services.passkeyRegistrationOptions({
          userId: principalOf(request).user.id,
          currentPassword: request.body.current_password,
        }),
      }),
    );

    app.post(
      '/users/me/passkeys',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'finishPasskeyRegistration',
          ...secured,
          summary: 'Finish adding a passkey: verify the attestation and store it',
          description:
            'Checks the challenge (single use, from the options above), the origin and RP ID of GATEHOUSE_PUBLIC_URL and the user-verified flag. Failure: 400 with code `invalid_passkey`.',
          body: Type.Object({ credential: CredentialField, name: Type.Optional(NameField) }),
          response: { 201: PasskeyItem, 400: ErrorSchema, 404: ErrorSchema, ...errors },
        },
      },
      async (request, reply) => {
        const passkey = await services.registerPasskey({
          userId: principalOf(request).user.id,
          credential: request.body.credential,
          name: request.body.name,
          client: clientInfo(request),
        });
        return reply.code(201).send(toItem(passkey));
      },
    );

    app.get(
      '/users/me/passkeys',
      {
        ...guarded,
        schema: {
          operationId: 'listPasskeys',
          ...secured,
          summary: 'Your passkeys',
          response: { 200: Type.Object({ items: Type.Array(PasskeyItem) }), ...errors },
        },
      },
      async (request) => ({
        items: (await services.listPasskeys(principalOf(request).user.id)).map(toItem),
      }),
    );

    app.patch(
      '/users/me/passkeys/:id',
      {
        ...guarded,
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'renamePasskey',
          ...secured,
          summary: "Rename one of your passkeys (another user's id is 404)",
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({ name: NameField }),
          response: { 200: PasskeyItem, 404: ErrorSchema, ...errors },
        },
      },
      async (request) =>
        toItem(
          await services.renamePasskey({
            userId: principalOf(request).user.id,
            id: request.params.id,
            name: request.body.name,
          }),
        ),
    );

    app.delete(
      '/users/me/passkeys/:id',
      {
        ...guarded,
        schema: {
          operationId: 'deletePasskey',
          ...secured,
          summary: "Delete one of your passkeys (another user's id is 404)",
          params: Type.Object({ id: Type.String() }),
          response: { 204: NoContent, 404: ErrorSchema, ...errors },
        },
      },
      async (request, reply) => {
        await services.deletePasskey({
          userId: principalOf(request).user.id,
          id: request.params.id,
          client: clientInfo(request),
        });
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/webauthn/authentication/options',
      {
        schema: {
          operationId: 'startPasskeySignIn',
          security: [],
          tags: ['auth'],
          summary: 'Start a passwordless sign-in with a passkey',
          description:
            'No authentication. Request options with a single-use challenge (5 minutes), empty allowCredentials (discoverable credentials) and userVerification `required`. Pass the assertion to POST /token with `grant_type=urn:gatehouse:params:oauth:grant-type:webauthn` and `credential`. Rate limited like /token.',
          response: { 200: Options, 429: ErrorSchema },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return { options: await services.passkeyAuthenticationOptions() };
      },
    );

    app.post(
      '/webauthn/mfa/options',
      {
        preValidation: requireContentType('json'),
        schema: {
          operationId: 'startPasskeyMfa',
          security: [],
          tags: ['auth'],
          summary: 'Second step of a password grant with a passkey: request options',
          description:
            "For a 403 `mfa_required` of POST /token: options whose challenge (single use, 5 minutes) is bound to that user, listing their passkeys. Send the assertion to POST /token with `grant_type=urn:gatehouse:params:oauth:grant-type:mfa-webauthn`, `mfa_token` and `credential`. Each call counts as one of the token's attempts; a dead token is 400 `invalid_grant`.",
          body: Type.Object({ mfa_token: Type.String() }),
          response: { 200: Options, 400: ErrorSchema, 422: ErrorSchema, 429: ErrorSchema },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return { options: await services.passkeyAuthenticationOptions(request.body.mfa_token) };
      },
    );
  };
}
