import { RequestValidationError } from './validation.ts';

/**
 * Opaque pagination cursors: base64url JSON naming the list and the keyset position, so a
 * client can only hand back what it was given, and a cursor of one list is refused by another.
 */
export function encodeCursor(list: string, position: number): string {
  return Buffer.from(JSON.stringify({ l: list, p: position })).toString('base64url');
}

/** The position in a cursor of `list`; anything else is a 422 on `query.cursor`. */
export function decodeCursor(list: string, cursor: string): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const { l, p } = (decoded ?? {}) as { l?: unknown; p?: unknown };
  if (l !== list || typeof p !== 'number' || !Number.isSafeInteger(p) || p < 1) {
    throw new RequestValidationError([
      { loc: ['query', 'cursor'], msg: 'Invalid cursor', type: 'value_error' },
    ]);
  }
  return p;
}
