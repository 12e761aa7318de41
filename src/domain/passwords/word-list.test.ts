import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dictionary } from '@zxcvbn-ts/language-common';
import { COMMON_PASSWORDS } from './common-password-list.ts';
import { compactWordList, inWordList } from './word-list.ts';

const words = dictionary['passwords-common'] as string[];
// The lookup this replaced: a Set of the lower-cased list.
const previous = new Set(words.map((word) => word.toLowerCase()));

describe('inWordList over the breached-password list', () => {
  it('finds every word of the list, lower-cased, as the Set it replaced did', () => {
    assert.ok(words.length > 40_000, `the list has ${words.length} words`);
    const missed = [...previous].filter((word) => !inWordList(COMMON_PASSWORDS, word));
    assert.deepEqual(missed, []);
  });

  it('answers like the Set for non-members: neighbours, prefixes, extensions and edge cases', () => {
    const probes = [
      '',
      '\n',
      'password\n123456',
      '\u0000',
      '\uffff',
      'zzzzzzzzzzzzzzzz',
      'correct horse battery staple',
      'PASSWORD', // the list is lower-cased: upper case is never a line
      '🔑🔑🔑🔑🔑🔑🔑🔑',
    ];
    for (const word of [...previous].slice(0, 5000)) {
      probes.push(word.slice(0, -1), `${word}!`, `${word}0`, `!${word}`);
    }
    const differing = probes.filter(
      (probe) => inWordList(COMMON_PASSWORDS, probe) !== previous.has(probe),
    );
    assert.deepEqual(differing, []);
    assert.ok(
      probes.some((probe) => !previous.has(probe)),
      'some probes are non-members',
    );
  });

  it('holds each lower-cased word once, sorted, in one string', () => {
    const lines = COMMON_PASSWORDS.split('\n');
    assert.equal(lines.length, previous.size);
    assert.deepEqual(lines, [...lines].sort());
  });
});

describe('inWordList on small lists', () => {
  it('finds the first, middle and last words and nothing between them', () => {
    const list = compactWordList(['b', 'D', 'f', 'd', 'a']);
    assert.equal(list, 'a\nb\nd\nf');
    for (const word of ['a', 'b', 'd', 'f']) assert.ok(inWordList(list, word), word);
    for (const word of ['', 'A', 'c', 'e', 'g', 'ab', 'a\nb']) {
      assert.equal(inWordList(list, word), false, JSON.stringify(word));
    }
  });

  it('answers false for an empty list and true for a one-word list', () => {
    assert.equal(inWordList('', 'a'), false);
    assert.ok(inWordList('only', 'only'));
    assert.equal(inWordList('only', 'onl'), false);
  });
});
