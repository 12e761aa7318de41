import { Type } from 'typebox';

/** Response and error shapes shared by routes (OpenAPI documents them; responses are serialised through them). */
export const PublicUserSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
  disabled: Type.Boolean(),
  email_verified: Type.Boolean(),
  mfa_enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
});

export const ErrorSchema = Type.Object({
  detail: Type.Unknown(),
  code: Type.Optional(Type.String()),
  // RFC 6749 5.2 fields of /token errors.
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
});
