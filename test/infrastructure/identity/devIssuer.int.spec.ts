import { createPublicKey } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_KEY_FILE,
  DevIssuer,
  jwkThumbprint,
} from '../../../src/infrastructure/identity/devIssuer.js';

describe('Development issuer', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-dev-issuer-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('on first start', () => {
    it('creates its key in the data directory, readable by the owner only', async () => {
      const issuer = await DevIssuer.open(path.join(dataDir, 'nested'));
      const file = await stat(path.join(dataDir, 'nested', DEV_KEY_FILE));
      expect(file.mode & 0o777).to.equal(0o600);
      expect(issuer.kid).to.equal(jwkThumbprint(issuer.jwks().keys[0] ?? {}));
    });

    it('publishes the public key only', async () => {
      const [key] = (await DevIssuer.open(dataDir)).jwks().keys;
      expect(key).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(key).to.have.keys(['kty', 'n', 'e', 'kid', 'alg', 'use']);
    });
  });

  describe('when started again on the same directory', () => {
    it('reuses the key: tokens of one instance verify against the keys of the other', async () => {
      const [first, second] = await Promise.all([DevIssuer.open(dataDir), DevIssuer.open(dataDir)]);
      const third = await DevIssuer.open(dataDir);
      expect(second.kid).to.equal(first.kid);
      expect(third.kid).to.equal(first.kid);

      const { token, expiresIn } = first.sign({ sub: 'shopper', roles: ['customer'] });
      expect(expiresIn).to.equal(3600);
      const published = third.jwks().keys[0] ?? {};
      const claims = jwt.verify(token, createPublicKey({ key: published, format: 'jwk' }), {
        algorithms: ['RS256'],
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
      }) as jwt.JwtPayload;
      expect(claims).to.include({ sub: 'shopper' });
      expect(claims.realm_access).to.deep.equal({ roles: ['customer'] });
      expect(jwt.decode(token, { complete: true })?.header).to.include({ alg: 'RS256', kid: first.kid });
    });

    it('uses another key in another directory', async () => {
      const other = await mkdtemp(path.join(os.tmpdir(), 'shop-dev-issuer-'));
      try {
        expect((await DevIssuer.open(other)).kid).not.to.equal((await DevIssuer.open(dataDir)).kid);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    });
  });
});
