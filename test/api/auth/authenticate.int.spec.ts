import type { Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type KeyObject, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Router } from 'express';
import { createApp } from '../../../src/api/app.js';
import { type Authentication, authentication, callerOf } from '../../../src/api/auth/authenticate.js';
import type { KeySet } from '../../../src/api/auth/keySet.js';
import { JwksKeySet } from '../../../src/infrastructure/identity/jwksKeySet.js';
import {
  forgeToken,
  hmacSha256,
  newSigningKey,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TestIdentityProvider,
} from '../../support/identityProvider.js';
import { silentLogger } from '../../support/testDatabase.js';
import { waitFor } from '../../support/waitFor.js';

interface RunningApp {
  get(path: string, token?: string, scheme?: string): Promise<Response>;
  close(): void;
}

/** A key set that counts the questions put to it: one for each token verified. */
class CountingKeySet implements KeySet {
  questions = 0;
  constructor(private readonly keys: KeySet) {}
  keyFor(kid: string): Promise<KeyObject | undefined> {
    this.questions += 1;
    return this.keys.keyFor(kid);
  }
}

/**
 * An app with one route any authenticated caller may use, one that requires admin and a public one
 * that shows whether a caller is on the request; `rateLimited` puts the rate limiter, which
 * verifies tokens too, in front of them.
 */
async function startApp(keys: KeySet, { rateLimited = false } = {}): Promise<RunningApp> {
  const auth: Authentication = authentication({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys });
  const router = Router();
  router.get('/api/v1/me', ...auth.authenticated, (request, response) => {
    response.json(callerOf(request));
  });
  router.get('/api/v1/admin', ...auth.requireRole('admin'), (request, response) => {
    response.json({ admin: callerOf(request).userId });
  });
  router.get('/api/v1/public', (request, response) => {
    response.json({ caller: request.caller ?? null });
  });
  const app = createApp({
    logger: silentLogger,
    readinessChecks: [],
    metrics: { contentType: 'text/plain', render: () => Promise.resolve('') },
    routers: [router],
    ...(rateLimited ? { rateLimit: { requestsPerMinute: 1_000, authenticate: auth.authenticated } } : {}),
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  return {
    get: (path, token, scheme = 'Bearer') =>
      fetch(
        `${base}${path}`,
        token === undefined ? {} : { headers: { authorization: `${scheme} ${token}` } },
      ),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function expectInvalidToken(response: Response): Promise<string> {
  expect(response.status).to.equal(401);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  const challenge = response.headers.get('www-authenticate') ?? '';
  const match = /^Bearer realm="shop", error="invalid_token", error_description="([^"\\]+)"$/.exec(challenge);
  expect(match, challenge).not.to.equal(null);
  const problem = (await response.json()) as { status: number; detail: string };
  expect(problem.status).to.equal(401);
  expect(problem.detail).to.equal(match?.[1]);
  // Our words, not the library's ("jwt malformed", "jwt issuer invalid. expected: ...").
  expect(problem.detail).not.to.match(/jwt|expected/i);
  return problem.detail;
}

describe('Bearer authentication', () => {
  let provider: TestIdentityProvider;
  let app: RunningApp;

  before(async () => {
    provider = await TestIdentityProvider.start();
    app = await startApp(new JwksKeySet({ jwksUri: provider.jwksUri, cooldownMs: 200, maxWaitMs: 2_000 }));
  });

  after(async () => {
    app.close();
    await provider.stop();
  });

  describe('with a valid token', () => {
    it('puts the caller on the request: sub as user id, realm_access.roles as roles', async () => {
      const sub = randomUUID();
      const response = await app.get('/me', provider.sign({ sub, roles: ['customer', 'auditor'] }));
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ userId: sub, roles: ['customer', 'auditor'] });
    });

    it('accepts a token that expired less than 5 s ago (clock tolerance)', async () => {
      const response = await app.get('/me', provider.sign({ expiresIn: -3 }));
      expect(response.status).to.equal(200);
    });

    it('accepts a token that becomes valid less than 5 s from now (clock tolerance)', async () => {
      const response = await app.get('/me', provider.sign({ notBefore: 3 }));
      expect(response.status).to.equal(200);
    });
  });

  describe('without a usable token', () => {
    it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
      const response = await app.get('/me');
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="shop"');
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });

    it('answers a credential of another scheme like no token', async () => {
      const response = await app.get('/me', Buffer.from('shopper:secret').toString('base64'), 'Basic');
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="shop"');
    });

    it('refuses a garbage token', async () => {
      expect(await expectInvalidToken(await app.get('/me', 'not-a-token'))).to.equal(
        'the token is malformed',
      );
    });

    it('refuses an unsigned token (alg none)', async () => {
      const token = forgeToken(
        { alg: 'none', typ: 'JWT', kid: provider.key.kid },
        { sub: 'intruder', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 },
      );
      await expectInvalidToken(await app.get('/me', token));
    });

    it('refuses HS256 signed with the public key as HMAC secret (algorithm confusion)', async () => {
      const publicPem = provider.key.publicKey.export({ format: 'pem', type: 'spki' });
      const token = forgeToken(
        { alg: 'HS256', typ: 'JWT', kid: provider.key.kid },
        {
          sub: 'intruder',
          realm_access: { roles: ['admin'] },
          iss: TEST_ISSUER,
          aud: TEST_AUDIENCE,
          exp: Math.floor(Date.now() / 1000) + 60,
        },
        hmacSha256(publicPem),
      );
      await expectInvalidToken(await app.get('/admin', token));
    });

    it('refuses HS256 signed with a guessed secret', async () => {
      const token = forgeToken(
        { alg: 'HS256', typ: 'JWT', kid: provider.key.kid },
        { sub: 'intruder', iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 },
        hmacSha256('secret'),
      );
      await expectInvalidToken(await app.get('/me', token));
    });

    it('refuses a token whose payload was altered after signing', async () => {
      const [header, payload, signature] = provider.sign({ roles: ['customer'] }).split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const altered = Buffer.from(JSON.stringify({ ...claims, realm_access: { roles: ['admin'] } })).toString(
        'base64url',
      );
      const detail = await expectInvalidToken(await app.get('/admin', `${header}.${altered}.${signature}`));
      expect(detail).to.equal('the token signature does not verify');
    });

    it('refuses a token signed by a key the issuer does not publish under that kid', async () => {
      const token = provider.sign({ key: newSigningKey(provider.key.kid) });
      await expectInvalidToken(await app.get('/me', token));
    });

    it('refuses a token expired beyond the clock tolerance', async () => {
      const detail = await expectInvalidToken(await app.get('/me', provider.sign({ expiresIn: -10 })));
      expect(detail).to.equal('the token has expired');
    });

    it('refuses a token from another issuer', async () => {
      const token = provider.sign({ issuer: 'https://evil.example/realms/shop' });
      expect(await expectInvalidToken(await app.get('/me', token))).to.equal(
        'the token is from another issuer',
      );
    });

    it('refuses a token for another audience', async () => {
      const token = provider.sign({ audience: 'another-api' });
      expect(await expectInvalidToken(await app.get('/me', token))).to.equal(
        'the token is for another audience',
      );
    });

    it('refuses a verified token whose subject could not name a customer’s streams', async () => {
      for (const sub of ['test shopper', 'a'.repeat(201), 'shopper\u0000']) {
        const detail = await expectInvalidToken(await app.get('/me', provider.sign({ sub })));
        expect(detail, sub).to.match(/^the token's subject must be 1 to 200 of/);
      }
    });

    it('refuses a token without a kid', async () => {
      const token = forgeToken({ alg: 'RS256', typ: 'JWT' }, { sub: 'intruder' }, () => 'c2ln');
      await expectInvalidToken(await app.get('/me', token));
    });
  });

  describe('with roles', () => {
    it('answers 403 to a customer on an admin route', async () => {
      const response = await app.get('/admin', provider.sign({ roles: ['customer'] }));
      expect(response.status).to.equal(403);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });

    it('lets an admin through', async () => {
      const response = await app.get('/admin', provider.sign({ sub: 'root', roles: ['admin'] }));
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ admin: 'root' });
    });

    it('answers 401, not 403, to an admin route without a token', async () => {
      expect((await app.get('/admin')).status).to.equal(401);
    });
  });
});

describe('Bearer authentication across key rotations', () => {
  let provider: TestIdentityProvider;
  const apps: RunningApp[] = [];

  beforeEach(async () => {
    provider = await TestIdentityProvider.start();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) app.close();
    await provider.stop();
  });

  async function appWith(options: { cooldownMs: number; maxWaitMs: number }): Promise<RunningApp> {
    const app = await startApp(new JwksKeySet({ jwksUri: provider.jwksUri, ...options }));
    apps.push(app);
    return app;
  }

  describe('when the issuer rotates its key', () => {
    it('accepts tokens signed with the new key and refuses the retired one', async () => {
      const app = await appWith({ cooldownMs: 200, maxWaitMs: 2_000 });
      expect((await app.get('/me', provider.sign())).status).to.equal(200);

      const rotated = newSigningKey();
      provider.publish(rotated);
      expect((await app.get('/me', provider.sign({ key: rotated }))).status).to.equal(200);
      await expectInvalidToken(await app.get('/me', provider.sign()));
    });

    it('refuses a token it verified before once its key is retired, though it still lives', async () => {
      const app = await appWith({ cooldownMs: 200, maxWaitMs: 2_000 });
      const token = provider.sign();
      expect((await app.get('/me', token)).status).to.equal(200);
      expect((await app.get('/me', token)).status, 'the same token again').to.equal(200);

      const rotated = newSigningKey();
      provider.publish(rotated);
      expect((await app.get('/me', provider.sign({ key: rotated }))).status).to.equal(200);
      await expectInvalidToken(await app.get('/me', token));
    });
  });

  describe('under a flood of tokens with unknown kids', () => {
    it('fetches the JWKS at most twice, then accepts a key rotated in right after, first try', async () => {
      const app = await appWith({ cooldownMs: 200, maxWaitMs: 2_000 });
      expect((await app.get('/me', provider.sign())).status).to.equal(200);
      const beforeFlood = provider.fetches;

      const flood = await Promise.all(
        Array.from({ length: 20 }, () => app.get('/me', provider.sign({ kid: randomUUID() }))),
      );
      expect(flood.map((response) => response.status)).to.deep.equal(Array(20).fill(401));
      expect(provider.fetches - beforeFlood).to.be.at.most(2);

      const rotated = newSigningKey();
      provider.publish(provider.key, rotated);
      const afterFlood = provider.fetches;
      expect((await app.get('/me', provider.sign({ key: rotated }))).status).to.equal(200);
      expect(provider.fetches - afterFlood).to.equal(1);
    });

    it('with a long cooldown, answers 20 unknown kids in a row without fetching again', async () => {
      const app = await appWith({ cooldownMs: 10_000, maxWaitMs: 20 });
      expect((await app.get('/me', provider.sign())).status).to.equal(200);
      const beforeFlood = provider.fetches;

      for (let i = 0; i < 20; i += 1) {
        await expectInvalidToken(await app.get('/me', provider.sign({ kid: randomUUID() })));
      }
      expect(provider.fetches).to.equal(beforeFlood);
    });

    it('when a request cannot wait, still picks up a rotated key once the cooldown ends', async () => {
      const app = await appWith({ cooldownMs: 300, maxWaitMs: 0 });
      expect((await app.get('/me', provider.sign())).status).to.equal(200);
      const rotated = newSigningKey();
      provider.publish(provider.key, rotated);
      const token = provider.sign({ key: rotated });

      let status = (await app.get('/me', token)).status;
      await waitFor(
        async () => {
          status = (await app.get('/me', token)).status;
          return status === 200;
        },
        3_000,
        () => `still ${status} after ${provider.fetches} JWKS fetches`,
      );
      expect(provider.fetches).to.be.at.most(3);
    });
  });

  describe('when the JWKS cannot be fetched', () => {
    it('answers 503 with Retry-After instead of a misleading 401', async () => {
      await provider.stop();
      const app = await appWith({ cooldownMs: 200, maxWaitMs: 2_000 });
      const response = await app.get('/me', provider.sign());
      expect(response.status).to.equal(503);
      expect(response.headers.get('retry-after')).to.equal('5');
      provider = await TestIdentityProvider.start();
    });
  });
});

describe('Bearer authentication behind the rate limiter', () => {
  let provider: TestIdentityProvider;
  let keys: CountingKeySet;
  let limited: RunningApp;
  let alone: RunningApp;

  before(async () => {
    provider = await TestIdentityProvider.start();
    const options = { jwksUri: provider.jwksUri, cooldownMs: 200, maxWaitMs: 2_000 };
    keys = new CountingKeySet(new JwksKeySet(options));
    limited = await startApp(keys, { rateLimited: true });
    alone = await startApp(new JwksKeySet(options));
  });

  after(async () => {
    limited.close();
    alone.close();
    await provider.stop();
  });

  /** How often the key set was asked during `request`: twice would mean the limiter and the route each verified. */
  async function verifications(
    request: () => Promise<Response>,
  ): Promise<{ response: Response; count: number }> {
    const before = keys.questions;
    const response = await request();
    return { response, count: keys.questions - before };
  }

  describe('with a valid token', () => {
    it('verifies it once, and the route gets the caller and its roles from it', async () => {
      const sub = randomUUID();
      const token = provider.sign({ sub, roles: ['customer', 'auditor'] });
      for (let request = 0; request < 3; request += 1) {
        const { response, count } = await verifications(() => limited.get('/me', token));
        expect(response.status).to.equal(200);
        expect(await response.json()).to.deep.equal({ userId: sub, roles: ['customer', 'auditor'] });
        expect(count, 'verifications of one request').to.equal(1);
      }
    });

    it('verifies it once on a route that requires a role, and grants the role the token names', async () => {
      const customer = await verifications(() =>
        limited.get('/admin', provider.sign({ roles: ['customer'] })),
      );
      expect(customer.response.status).to.equal(403);
      expect(customer.count).to.equal(1);
      const admin = await verifications(() =>
        limited.get('/admin', provider.sign({ sub: 'root', roles: ['admin'] })),
      );
      expect(await admin.response.json()).to.deep.equal({ admin: 'root' });
      expect(admin.count).to.equal(1);
    });

    it('still keeps the caller off a public route, though the limiter verified the token', async () => {
      const response = await limited.get('/public', provider.sign());
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ caller: null });
    });
  });

  describe('with a token that does not verify', () => {
    const refused: Record<string, () => string> = {
      'a payload altered after signing': () => {
        const [header, payload, signature] = provider.sign().split('.');
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
        const altered = Buffer.from(JSON.stringify({ ...claims, realm_access: { roles: ['admin'] } }));
        return `${header}.${altered.toString('base64url')}.${signature}`;
      },
      'an expired token': () => provider.sign({ expiresIn: -10 }),
      'an unknown kid': () => provider.sign({ kid: randomUUID() }),
      'a subject that names no customer': () => provider.sign({ sub: 'test shopper' }),
      garbage: () => 'not-a-token',
    };

    for (const [what, token] of Object.entries(refused)) {
      it(`refuses ${what} as the route alone does, verifying it once`, async () => {
        const value = token();
        const { response, count } = await verifications(() => limited.get('/admin', value));
        const expected = await alone.get('/admin', value);
        expect(response.status).to.equal(expected.status);
        expect(response.headers.get('www-authenticate')).to.equal(expected.headers.get('www-authenticate'));
        expect(await expectInvalidToken(response)).to.equal(await expectInvalidToken(expected));
        expect(count, 'verifications of one request').to.be.at.most(1);
      });
    }

    it('answers a credential of another scheme like no token', async () => {
      const response = await limited.get('/me', Buffer.from('shopper:secret').toString('base64'), 'Basic');
      expect(response.status).to.equal(401);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="shop"');
    });
  });

  describe('when the JWKS cannot be fetched', () => {
    it('answers 503 with Retry-After, having asked for the key once', async () => {
      const down = await TestIdentityProvider.start();
      await down.stop();
      const unavailable = new CountingKeySet(
        new JwksKeySet({ jwksUri: down.jwksUri, cooldownMs: 0, maxWaitMs: 0 }),
      );
      const app = await startApp(unavailable, { rateLimited: true });
      try {
        const response = await app.get('/me', down.sign());
        expect(response.status).to.equal(503);
        expect(response.headers.get('retry-after')).to.equal('5');
        expect(unavailable.questions).to.equal(1);
      } finally {
        app.close();
      }
    });
  });
});
