import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateJsonSchema } from './json-schema';

const PROFILE = {
  type: 'object',
  required: ['username', 'followers'],
  additionalProperties: false,
  properties: {
    username: { type: 'string', minLength: 1, maxLength: 30 },
    followers: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    kind: { enum: ['personal', 'business'] },
  },
};

describe('validateJsonSchema', () => {
  it('accepts a document that matches', () => {
    assert.deepEqual(
      validateJsonSchema(PROFILE, { username: 'alice', followers: 3, tags: ['a'], kind: 'personal' }),
      [],
    );
  });

  it('names each violation by JSON pointer', () => {
    const errors = validateJsonSchema(PROFILE, {
      username: '',
      followers: -1.5,
      tags: ['a', 1, 'c'],
      extra: 1,
    });
    assert.deepEqual(
      errors.map((e) => e.path),
      ['/username', '/followers', '/tags', '/tags/1', '/extra'],
    );
    assert.deepEqual(validateJsonSchema(PROFILE, []), [{ path: '/', message: 'must be object' }]);
    assert.deepEqual(validateJsonSchema(PROFILE, { followers: 1 }), [
      { path: '/username', message: 'is required' },
    ]);
  });
});
