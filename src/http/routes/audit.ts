import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AUDIT_EVENT_TYPES, type AuditEntry } from '../../domain/audit/audit-log.ts';
import type { Services } from '../../services.ts';
import { guard, securityFor } from '../authorize.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { ErrorSchema } from '../schemas.ts';
import { RequestValidationError } from '../validation.ts';

const AuditQuery = Type.Object({
  user_id: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      description: 'Entries where this user is the subject or the actor',
    }),
  ),
  user_email: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 254,
      description:
        'Entries where the account with this email (any letter case) is the subject or the actor, or that recorded this email; an unknown email gives an empty list',
    }),
  ),
  type: Type.Optional(
    Type.Enum([...AUDIT_EVENT_TYPES], { description: 'One of GET /audit/types' }),
  ),
  since: Type.Optional(
    Type.String({ maxLength: 64, description: 'ISO 8601 time; entries at or after it' }),
  ),
  until: Type.Optional(
    Type.String({ maxLength: 64, description: 'ISO 8601 time; entries before it' }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'next_cursor of the last page' }),
  ),
});

const AuditItem = Type.Object({
  id: Type.Integer(),
  type: Type.String({ description: AUDIT_EVENT_TYPES.join(', ') }),
  created_at: Type.String({ format: 'date-time' }),
  actor_id: Type.Union([
    Type.Integer({ description: 'Who acted; null when unknown or the CLI' }),
    Type.Null(),
  ]),
  subject_id: Type.Union([Type.Integer({ description: 'The account concerned' }), Type.Null()]),
  email: Type.Union([
    Type.String({ description: "The subject's email, or the email tried" }),
    Type.Null(),
  ]),
  actor_email: Type.Union([
    Type.String({ description: "The actor account's email now; null if none or deleted" }),
    Type.Null(),
  ]),
  subject_email: Type.Union([
    Type.String({ description: "The subject account's email now; null if none or deleted" }),
    Type.Null(),
  ]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

const AuditTypes = Type.Object({
  items: Type.Array(Type.String(), { description: 'Every value `type` accepts' }),
});

const AuditPage = Type.Object({
  items: Type.Array(AuditItem),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

// ISO 8601 / RFC 3339 date or date-time; a time without an offset is taken as UTC.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

function isValidIsoTime(match: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second] = match.map((part) => Number(part ?? 0));
  // Date.parse rolls 2024-02-30 over to March; a calendar day must exist as written.
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  return (
    date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59
  );
}

function parseTime(name: 'since' | 'until', value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const match = ISO_8601.exec(value);
  let time = NaN;
  if (match && isValidIsoTime(match)) {
    const utc = match[4] !== undefined && match[7] === undefined ? `${value}Z` : value;
    time = Date.parse(utc.replace(' ', 'T'));
  }
  if (Number.isNaN(time)) {
    throw new RequestValidationError([
      {
        loc: ['query', name],
        msg: 'Input should be an ISO 8601 date or time, e.g. 2024-05-01T12:00:00Z',
        type: 'datetime_parsing',
      },
    ]);
  }
  return new Date(time);
}

function toItem(entry: AuditEntry) {
  return {
    id: entry.id,
    type: entry.type,
    created_at: entry.createdAt.toISOString(),
    actor_id: entry.actorId,
    subject_id: entry.subjectId,
    email: entry.email,
    actor_email: entry.actorEmail,
    subject_email: entry.subjectEmail,
    ip: entry.ip,
    user_agent: entry.userAgent,
    details: entry.details,
  };
}

const AUDIT_CURSOR = 'audit';

/** GET /audit: the audit log for admins, newest first (API.md 3); GET /audit/types. */
export function auditRoutes(services: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The one list of event types (domain/audit/audit-log.ts), so clients such as the web UI's
    // filter never keep a hand copy that drifts from what `type` accepts.
    app.get(
      '/audit/types',
      {
        ...guard(services, 'audit:read'),
        schema: {
          operationId: 'listAuditEventTypes',
          tags: ['admin'],
          security: securityFor('audit:read'),
          summary: 'The event types the audit log records, for the `type` filter',
          response: { 200: AuditTypes, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async () => ({ items: [...AUDIT_EVENT_TYPES] }),
    );

    app.get(
      '/audit',
      {
        ...guard(services, 'audit:read'),
        schema: {
          operationId: 'listAuditEntries',
          tags: ['admin'],
          security: securityFor('audit:read'),
          summary: 'The audit log, newest first, a page at a time',
          querystring: AuditQuery,
          response: {
            200: AuditPage,
            401: ErrorSchema,
            403: ErrorSchema,
            422: ErrorSchema,
          },
        },
      },
      async (request) => {
        const { user_id: userId, user_email: userEmail, type, limit = 50, cursor } = request.query;
        const page = await services.listAuditEvents(
          {
            userId,
            userEmail,
            type,
            since: parseTime('since', request.query.since),
            until: parseTime('until', request.query.until),
          },
          {
            limit,
            beforeId: cursor === undefined ? undefined : decodeCursor(AUDIT_CURSOR, cursor),
          },
        );
        return {
          items: page.items.map(toItem),
          next_cursor:
            page.nextBeforeId === undefined ? null : encodeCursor(AUDIT_CURSOR, page.nextBeforeId),
        };
      },
    );
  };
}
