import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toDate, toDateOrNull, toDbTime, toDbTimeOrNull, toStoredText } from './db-time.ts';

const ISO = '2026-03-04T05:06:07.089Z';

describe('db-time', () => {
  it('reads SQLite text and a Postgres Date as the same instant', () => {
    assert.equal(toDate(ISO).getTime(), Date.parse(ISO));
    const date = new Date(ISO);
    assert.equal(toDate(date), date);
  });

  it('reads null as null and a time as its Date', () => {
    assert.equal(toDateOrNull(null), null);
    assert.equal(toDateOrNull(ISO)?.getTime(), Date.parse(ISO));
  });

  it('writes a time as ISO 8601 UTC text, and null as null', () => {
    assert.equal(toDbTime(new Date(ISO)), ISO);
    assert.equal(toDbTimeOrNull(new Date(ISO)), ISO);
    assert.equal(toDbTimeOrNull(null), null);
  });

  it('gives a stored time back in the text it was written as, from either store', () => {
    assert.equal(toStoredText(ISO), ISO);
    assert.equal(toStoredText(new Date(ISO)), ISO);
  });
});
