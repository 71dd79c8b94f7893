import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkReturnUrl } from '../access-requests/return-url';
import { corsZoneOf } from './cors';

describe('CORS zones', () => {
  it('sorts paths into access-request, app, owner and none', () => {
    assert.equal(corsZoneOf('/v1/access-requests'), 'access-request');
    assert.equal(corsZoneOf('/v1/access-requests/arq_x/key'), 'access-request');
    assert.equal(corsZoneOf('/v1/operations/op_1/events'), 'app');
    assert.equal(corsZoneOf('/v1/whoami'), 'app');
    assert.equal(corsZoneOf('/v1/grants'), 'app');
    assert.equal(corsZoneOf('/v1/files'), 'app');
    assert.equal(corsZoneOf('/mcp'), 'app');
    assert.equal(corsZoneOf('/v1/servers/srv_1/mcp'), 'app');
    assert.equal(corsZoneOf('/v1/servers/srv_1/access-requests'), 'owner');
    assert.equal(corsZoneOf('/v1/servers/srv_1/files'), 'owner');
    assert.equal(corsZoneOf('/v1/filesystem'), 'owner');
    assert.equal(corsZoneOf('/health/live'), 'none');
  });
});

describe('return URLs', () => {
  it('take https anywhere, http to localhost outside production only, never credentials', () => {
    assert.equal(checkReturnUrl('https://app.example.com/cb', true, 'f'), 'https://app.example.com/cb');
    assert.equal(checkReturnUrl('http://localhost:3000/cb', false, 'f'), 'http://localhost:3000/cb');
    assert.throws(() => checkReturnUrl('http://localhost:3000/cb', true, 'f'), /https/);
    assert.throws(() => checkReturnUrl('http://example.com/cb', false, 'f'), /https/);
    assert.throws(() => checkReturnUrl('https://u:p@example.com/', true, 'f'), /credentials/);
    assert.throws(() => checkReturnUrl('not a url', false, 'f'), /absolute URL/);
    assert.throws(() => checkReturnUrl('javascript:alert(1)', false, 'f'), /https/);
  });
});
