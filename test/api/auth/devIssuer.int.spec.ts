import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Router } from 'express';
import { createApp } from '../../../src/api/app.js';
import { authentication, callerOf } from '../../../src/api/auth/authenticate.js';
import { devIssuerRoutes } from '../../../src/api/auth/devIssuer.routes.js';
import { loadConfig } from '../../../src/infrastructure/config.js';
import { createIdentity } from '../../../src/infrastructure/identity/identity.js';
import { silentLogger } from '../../support/testDatabase.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s token -- ...args` with the given data directory and no identity provider. */
function tokenCli(dataDir: string, args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'development' };
  delete env.OIDC_ISSUER;
  delete env.OIDC_AUDIENCE;
  delete env.OIDC_JWKS_URI;
  return new Promise((resolve) => {
    execFile('npm', ['run', '-s', 'token', '--', ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr });
    });
  });
}

describe('Development issuer over HTTP', () => {
  let dataDir: string;
  let server: Server;
  let base: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-dev-token-'));
    const identity = await createIdentity(loadConfig({ DATA_DIR: dataDir }));
    if (!identity.devIssuer) throw new Error('expected the development issuer without OIDC settings');
    const auth = authentication(identity);
    const protectedRoutes = Router();
    protectedRoutes.get('/me', ...auth.authenticated, (request, response) => {
      response.json(callerOf(request));
    });
    protectedRoutes.get('/admin', ...auth.requireRole('admin'), (_request, response) => {
      response.json({ ok: true });
    });
    const app = createApp({
      logger: silentLogger,
      readinessChecks: [],
      metrics: { contentType: 'text/plain', render: () => Promise.resolve('') },
      routers: [devIssuerRoutes(identity.devIssuer), protectedRoutes],
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const requestToken = (body: unknown): Promise<Response> =>
    fetch(`${base}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const me = (token: string, route = '/me'): Promise<Response> =>
    fetch(`${base}${route}`, { headers: { authorization: `Bearer ${token}` } });

  describe('POST /dev/token', () => {
    it('issues a bearer token the API accepts, with the roles asked for', async () => {
      const sub = randomUUID();
      const response = await requestToken({ sub, roles: ['customer', 'admin'] });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).to.have.keys(['access_token', 'token_type', 'expires_in']);
      expect(body).to.include({ token_type: 'Bearer', expires_in: 3600 });

      const caller = await me(String(body.access_token));
      expect(caller.status).to.equal(200);
      expect(await caller.json()).to.deep.equal({ userId: sub, roles: ['customer', 'admin'] });
      expect((await me(String(body.access_token), '/admin')).status).to.equal(200);
    });

    it('answers 400 naming each invalid field', async () => {
      const response = await requestToken({ sub: '', roles: ['root'] });
      expect(response.status).to.equal(400);
      const problem = (await response.json()) as { errors: { field: string }[] };
      expect(problem.errors.map((error) => error.field)).to.have.members(['sub', 'roles']);
    });

    it('answers 400 to a missing role list, an over-long sub and unknown fields', async () => {
      expect((await requestToken({ sub: 'shopper' })).status).to.equal(400);
      expect((await requestToken({ sub: 'a'.repeat(201), roles: [] })).status).to.equal(400);
    });

    it('answers 400 to a sub that could not name a customer’s streams', async () => {
      for (const sub of ['test shopper', 'shopper/../root', '-shopper', 'shöpper']) {
        const response = await requestToken({ sub, roles: ['customer'] });
        expect(response.status, sub).to.equal(400);
        const problem = (await response.json()) as { errors: { field: string }[] };
        expect(problem.errors.map((error) => error.field)).to.deep.equal(['sub']);
      }
      expect((await requestToken({ sub: 'shopper', roles: [], exp: 9_999_999_999 })).status).to.equal(400);
    });
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes the public key the tokens name', async () => {
      const { access_token } = (await (await requestToken({ sub: 'other-shopper', roles: [] })).json()) as {
        access_token: string;
      };
      const header = JSON.parse(Buffer.from(access_token.split('.')[0] ?? '', 'base64url').toString()) as {
        kid: string;
      };
      const response = await fetch(`${base}/.well-known/jwks.json`);
      expect(response.status).to.equal(200);
      const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
      expect(keys.map((key) => key.kid)).to.deep.equal([header.kid]);
      expect(keys[0]).not.to.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi');
    });
  });

  describe('npm run -s token', () => {
    it('prints only a token, signed with the same key, that the API accepts', async () => {
      const run = await tokenCli(dataDir, ['--sub', 'shopper-3', '--roles', 'customer,admin']);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
      const caller = await me(run.stdout.trim());
      expect(caller.status).to.equal(200);
      expect(await caller.json()).to.deep.equal({ userId: 'shopper-3', roles: ['customer', 'admin'] });
    });

    it('exits 2 with a message on stderr when --sub is missing', async () => {
      const run = await tokenCli(dataDir, ['--roles', 'customer']);
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(/--sub is required/);
    });

    it('exits 2 on an unknown role or option', async () => {
      expect((await tokenCli(dataDir, ['--sub', 'shopper-4', '--roles', 'root'])).code).to.equal(2);
      expect((await tokenCli(dataDir, ['--sub', 'shopper-4', '--admin'])).code).to.equal(2);
    });
  });
});
