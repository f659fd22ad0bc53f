import type { AuthenticationOptions } from '../../api/auth/authenticate.js';
import type { Config } from '../config.js';
import { DEV_AUDIENCE, DEV_ISSUER, DevIssuer } from './devIssuer.js';
import { JwksKeySet } from './jwksKeySet.js';

export interface Identity extends AuthenticationOptions {
  /** Present when no identity provider is configured: serve its routes. */
  devIssuer?: DevIssuer;
}

type IdentityConfig = Pick<
  Config,
  'NODE_ENV' | 'DATA_DIR' | 'OIDC_ISSUER' | 'OIDC_AUDIENCE' | 'OIDC_JWKS_URI'
>;

/**
 * Who issues the tokens the API accepts: the configured identity provider, or else the development
 * issuer, whose tokens go through the same JWKS key set and verification.
 */
export async function createIdentity(config: IdentityConfig): Promise<Identity> {
  if (config.OIDC_ISSUER && config.OIDC_AUDIENCE && config.OIDC_JWKS_URI) {
    return {
      issuer: config.OIDC_ISSUER,
      audience: config.OIDC_AUDIENCE,
      keys: new JwksKeySet({ jwksUri: config.OIDC_JWKS_URI }),
    };
  }
  if (config.NODE_ENV === 'production') {
    throw new Error('the development token issuer is refused when NODE_ENV=production: set OIDC_*');
  }
  const devIssuer = await DevIssuer.open(config.DATA_DIR);
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    keys: new JwksKeySet({ fetcher: async () => devIssuer.jwks() }),
    devIssuer,
  };
}
