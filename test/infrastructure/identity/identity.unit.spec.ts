import { expect } from 'chai';
import { loadConfig } from '../../../src/infrastructure/config.js';
import { jwkThumbprint } from '../../../src/infrastructure/identity/devIssuer.js';
import { createIdentity } from '../../../src/infrastructure/identity/identity.js';
import { JwksKeySet } from '../../../src/infrastructure/identity/jwksKeySet.js';

describe('Identity', () => {
  describe('with an identity provider configured', () => {
    it('checks its issuer and audience against its JWKS, without a development issuer', async () => {
      const identity = await createIdentity(
        loadConfig({
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://shop@db:5432/shop',
          OIDC_ISSUER: 'https://id.example.com/realms/shop',
          OIDC_AUDIENCE: 'shop-api',
          OIDC_JWKS_URI: 'https://id.example.com/realms/shop/protocol/openid-connect/certs',
        }),
      );
      expect(identity).to.include({ issuer: 'https://id.example.com/realms/shop', audience: 'shop-api' });
      expect(identity.keys).to.be.instanceOf(JwksKeySet);
      expect(identity.devIssuer).to.equal(undefined);
    });
  });

  describe('without one, under NODE_ENV=production', () => {
    it('refuses the development issuer', async () => {
      const config = { ...loadConfig({}), NODE_ENV: 'production' as const };
      let refused: unknown;
      await createIdentity(config).catch((error: unknown) => (refused = error));
      expect(String(refused)).to.match(/development token issuer is refused/);
    });
  });
});

describe('JWK thumbprint', () => {
  it('matches the example of RFC 7638, section 3.1', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' })).to.equal(
      'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
    );
  });
});
