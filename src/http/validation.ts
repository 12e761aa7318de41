import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

/** One entry of FastAPI's 422 `detail` list (API.md conventions). */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** A request that fails validation; http/errors.ts answers it with 422 and the issue list. */
export class RequestValidationError extends Error {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.loc.join('.')}: ${i.msg}`).join('; '));
    this.name = 'RequestValidationError';
    this.issues = issues;
  }
}

export function missingFields(part: 'body' | 'query', names: string[]): RequestValidationError {
  return new RequestValidationError(
    names.map((name) => ({ loc: [part, name], msg: 'Field required', type: 'missing' })),
  );
}

const PART_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

const TYPE_NAMES: Record<string, string> = {
  string: 'a valid string',
  integer: 'a valid integer',
  number: 'a valid number',
  boolean: 'a valid boolean',
  array: 'a valid list',
  null: 'None',
};

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg));
}

/** Ajv's errors in FastAPI's (pydantic's) words, so clients of the tutorial parse them alike. */
export function toValidationIssues(
  context: string,
  errors: readonly ErrorObject[],
): ValidationIssue[] {
  const part = PART_NAMES[context] ?? context;
  return errors.map((error) => {
    const path = pointerToPath(error.instancePath);
    const loc = [part, ...path];
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'required':
        return {
          loc: [...loc, String(params.missingProperty)],
          msg: 'Field required',
          type: 'missing',
        };
      case 'type': {
        const expected = String(params.type);
        if (expected === 'object') {
          return {
            loc,
            msg: 'Input should be a valid dictionary or object to extract fields from',
            type: path.length === 0 ? 'model_attributes_type' : 'dict_type',
          };
        }
        const name = TYPE_NAMES[expected] ?? `of type ${expected}`;
        return {
          loc,
          msg: `Input should be ${name}`,
          type: `${expected === 'integer' ? 'int' : expected}_type`,
        };
      }
      case 'maxLength':
        return {
          loc,
          msg: `String should have at most ${String(params.limit)} characters`,
          type: 'string_too_long',
        };
      case 'minLength':
        return {
          loc,
          msg: `String should have at least ${String(params.limit)} characters`,
          type: 'string_too_short',
        };
      case 'minimum':
        return {
          loc,
          msg: `Input should be greater than or equal to ${String(params.limit)}`,
          type: 'greater_than_equal',
        };
      case 'maximum':
        return {
          loc,
          msg: `Input should be less than or equal to ${String(params.limit)}`,
          type: 'less_than_equal',
        };
      case 'additionalProperties':
        // pydantic's `extra="forbid"` wording, for bodies that refuse unknown fields.
        return {
          loc: [...loc, String(params.additionalProperty)],
          msg: 'Extra inputs are not permitted',
          type: 'extra_forbidden',
        };
      case 'enum':
      case 'const': {
        const allowed = (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue];
        return {
          loc,
          msg: `Input should be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}`,
          type: 'literal_error',
        };
      }
      default:
        return { loc, msg: error.message ?? 'Invalid value', type: error.keyword };
    }
  });
}

// Bodies are validated strictly, as pydantic does: `{"email": 123}` is a 422, not the string "123".
// Query strings and path parameters arrive as text, so there numbers and booleans are coerced.
const common = {
  allErrors: true,
  strict: false,
  useDefaults: true,
  removeAdditional: false,
} as const;
const strictAjv = new Ajv({ ...common, coerceTypes: false });
const coercingAjv = new Ajv({ ...common, coerceTypes: 'array' });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema as object) as ValidateFunction;
