import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '@hearth/ids';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type RunningGateway, startGateway } from './support/apps';
import { bearer, signIn, type SignedIn } from './support/siwe';

/**
 * Tenant isolation, route by route: every route of the OpenAPI document that takes a path parameter is
 * called with tenant B's credentials on tenant A's ids and must answer 404 problem+json carrying nothing of
 * A. A route whose parameter this test does not know fails it ("add it to the map"), so a new route cannot
 * slip by; every route not listed as public must refuse anonymous callers.
 */

/** Routes anyone may call (no credentials). Everything else must answer 401 without them. */
const PUBLIC_ROUTES = new Set([
  'GET /health/live',
  'GET /health/ready',
  'GET /v1/auth/nonce',
  'POST /v1/auth/siwe',
  'GET /v1/operations/catalog',
  // An app files an access request before it has any credential: its wallet's signature is the proof.
  'POST /v1/access-requests/typed-data',
  'POST /v1/access-requests',
]);
/**
 * Routes whose unguessable path id is the credential (an access request's id, known to the app that filed it):
 * an id never issued must be a 404 carrying nothing.
 */
const CAPABILITY_ROUTES = new Set([
  'GET /v1/access-requests/{requestId}',
  'POST /v1/access-requests/{requestId}/key/typed-data',
  'POST /v1/access-requests/{requestId}/key',
]);
/** Public and outside the OpenAPI document. */
const PUBLIC_UNDOCUMENTED = ['/docs', '/docs-json', '/metrics'];

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface OpenApiOperation {
  security?: Array<Record<string, string[]>>;
}
type OpenApiDoc = { paths: Record<string, Partial<Record<(typeof METHODS)[number], OpenApiOperation>>> };

interface TenantA {
  user: SignedIn;
  keyId: string;
  apiKey: string;
  serverAddress: string;
  publicKey: string;
  operationId: string;
  fileId: string;
}

/**
 * Path parameter → A's id for it. `id` is the server except under resources that use `id` for themselves.
 * fileId/operationId/grantId are plausible ids until those features exist: point them at A's real ones
 * when they do.
 */
function paramValue(a: TenantA, path: string, name: string): string | undefined {
  switch (name) {
    case 'id':
      if (path.startsWith('/v1/operations/')) return a.operationId;
      if (path.startsWith('/v1/files/')) return a.fileId;
      return a.user.serverId;
    case 'serverId':
      return a.user.serverId;
    case 'keyId':
      return a.keyId;
    case 'fileId':
      return a.fileId;
    case 'operationId':
      return a.operationId;
    case 'grantId':
      return '1';
    case 'requestId':
      return newId('arq');
    case 'webhookId':
      return newId('whk');
    case 'scope':
      return 'instagram.profile';
    case 'address':
      return a.user.address;
    default:
      return undefined;
  }
}

describe('tenant isolation across every route', () => {
  let gw: RunningGateway;
  let a: TenantA;
  let b: { user: SignedIn; apiKey: string };

  async function createKey(user: SignedIn): Promise<{ id: string; key: string }> {
    const res = await fetch(`${gw.url}/v1/servers/${user.serverId}/api-keys`, {
      method: 'POST',
      headers: { ...bearer(user.token), 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'isolation',
        appAddress: privateKeyToAccount(generatePrivateKey()).address,
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { id: string; key: string };
  }

  before(async () => {
    gw = await startGateway();
    const [userA, userB] = await Promise.all([signIn(gw.url), signIn(gw.url)]);
    const keyA = await createKey(userA);
    const keyB = await createKey(userB);
    const server = (await (
      await fetch(`${gw.url}/v1/servers/${userA.serverId}`, { headers: bearer(userA.token) })
    ).json()) as { address: string; publicKey: string };
    a = {
      user: userA,
      keyId: keyA.id,
      apiKey: keyA.key,
      serverAddress: server.address,
      publicKey: server.publicKey,
      operationId: newId('op'),
      fileId: newId('fil'),
    };
    b = { user: userB, apiKey: keyB.key };
  });
  after(async () => {
    await gw.close();
  });

  it("answers 404 to tenant B on every one of tenant A's resources", async () => {
    const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as OpenApiDoc;
    const failures: string[] = [];
    const secrets = [
      a.user.serverId,
      a.keyId,
      a.apiKey,
      a.user.token,
      a.user.address,
      a.user.address.toLowerCase(),
      a.serverAddress,
      a.serverAddress.toLowerCase(),
      a.publicKey,
    ];
    let walked = 0;

    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const route = `${method.toUpperCase()} ${path}`;
        const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        if (PUBLIC_ROUTES.has(route)) {
          if (params.length)
            failures.push(`${route}: a public route with a path parameter needs a tenant check`);
          continue;
        }
        const concrete = path.replace(/\{([^}]+)\}/g, (_, name: string) =>
          encodeURIComponent(paramValue(a, path, name) ?? newId('srv')),
        );
        const body = ['post', 'put', 'patch'].includes(method) ? '{}' : undefined;
        const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
        if (CAPABILITY_ROUTES.has(route)) {
          const res = await fetch(`${gw.url}${concrete}`, { method: method.toUpperCase(), headers, body });
          // A body refused before the id is looked up (400) also tells nothing; a found id would be a 200.
          if (res.status !== 404 && res.status !== 400)
            failures.push(`${route}: answers ${res.status} for an id never issued (want 404)`);
          continue;
        }

        const anon = await fetch(`${gw.url}${concrete}`, { method: method.toUpperCase(), headers, body });
        if (anon.status !== 401)
          failures.push(`${route}: answers ${anon.status} without credentials (want 401)`);
        if (!params.length) continue;

        const unknown = params.filter((p) => paramValue(a, path, p) === undefined);
        if (unknown.length) {
          failures.push(
            `${route}: path parameter(s) ${unknown.join(', ')} unknown to this test: add it to the map`,
          );
          continue;
        }
        const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
        if (!schemes.length) {
          failures.push(`${route}: declares no security scheme (@ApiBearerAuth('session' | 'apiKey'))`);
          continue;
        }
        for (const scheme of schemes) {
          const credential = scheme === 'session' ? b.user.token : scheme === 'apiKey' ? b.apiKey : undefined;
          if (!credential) {
            failures.push(`${route}: unknown security scheme ${scheme}`);
            continue;
          }
          walked++;
          const res = await fetch(`${gw.url}${concrete}`, {
            method: method.toUpperCase(),
            headers: { ...headers, ...bearer(credential) },
            body,
          });
          const text = await res.text();
          const where = `${route} as tenant B (${scheme})`;
          if (res.status !== 404) {
            failures.push(`${where}: answered ${res.status} (want 404): ${text.slice(0, 200)}`);
            continue;
          }
          if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
            failures.push(`${where}: 404 is not problem+json`);
            continue;
          }
          const problem = JSON.parse(text) as Record<string, unknown>;
          // `instance` echoes the caller's own request path; everything else must carry nothing of A.
          delete problem.instance;
          const leaked = secrets.filter((s) => JSON.stringify(problem).includes(s));
          if (leaked.length) failures.push(`${where}: the body carries A's ${leaked.join(', ')}`);
          for (const [name, value] of res.headers) {
            if (secrets.some((s) => value.includes(s)))
              failures.push(`${where}: header ${name} carries A's data`);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(walked >= 5, `walked only ${walked} tenant routes`);

    // Nothing of A was changed by B's attempts (DELETE, rotate, …).
    const server = await fetch(`${gw.url}/v1/servers/${a.user.serverId}`, { headers: bearer(a.user.token) });
    assert.equal(server.status, 200);
    const me = await fetch(`${gw.url}/v1/whoami`, { headers: bearer(a.apiKey) });
    assert.equal(me.status, 200);
  });

  it('serves the undocumented public routes without credentials', async () => {
    for (const path of PUBLIC_UNDOCUMENTED) {
      assert.equal((await fetch(`${gw.url}${path}`)).status, 200, path);
    }
  });

  it("gives an API key nothing of another tenant's server", async () => {
    const res = await fetch(`${gw.url}/v1/whoami`, { headers: bearer(b.apiKey) });
    assert.equal(res.status, 200);
    const me = (await res.json()) as { serverId: string };
    assert.equal(me.serverId, b.user.serverId);
    // A's server routes do not take API keys at all.
    const onA = await fetch(`${gw.url}/v1/servers/${a.user.serverId}`, { headers: bearer(b.apiKey) });
    assert.equal(onA.status, 401);
  });
});
