import { createHmac, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export const TEST_ISSUER = 'https://id.test.example/realms/shop';
export const TEST_AUDIENCE = 'shop-api';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function newSigningKey(kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey };
}

export interface TokenOptions {
  sub?: string;
  roles?: string[];
  key?: SigningKey;
  /** Overrides the key's kid in the header. */
  kid?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  notBefore?: number;
}

/** An identity provider for tests: a JWKS served on port 0 whose keys the test rotates, counting fetches. */
export class TestIdentityProvider {
  fetches = 0;
  jwksUri = '';
  readonly key = newSigningKey();
  private published: SigningKey[] = [this.key];
  private readonly server: Server = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    this.fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.jwks()));
  });

  private constructor() {}

  static async start(): Promise<TestIdentityProvider> {
    const provider = new TestIdentityProvider();
    provider.server.listen(0, '127.0.0.1');
    await once(provider.server, 'listening');
    const { port } = provider.server.address() as AddressInfo;
    provider.jwksUri = `http://127.0.0.1:${port}/jwks.json`;
    return provider;
  }

  /** Publishes only `keys` from now on. */
  publish(...keys: SigningKey[]): void {
    this.published = keys;
  }

  jwks(): { keys: object[] } {
    return {
      keys: this.published.map(({ kid, publicKey }) => ({
        ...publicKey.export({ format: 'jwk' }),
        kid,
        alg: 'RS256',
        use: 'sig',
      })),
    };
  }

  sign(options: TokenOptions = {}): string {
    const key = options.key ?? this.key;
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign(
      {
        sub: options.sub ?? 'shopper',
        realm_access: { roles: options.roles ?? ['customer'] },
        exp: now + (options.expiresIn ?? 300),
        ...(options.notBefore === undefined ? {} : { nbf: now + options.notBefore }),
      },
      key.privateKey,
      {
        algorithm: 'RS256',
        keyid: options.kid ?? key.kid,
        issuer: options.issuer ?? TEST_ISSUER,
        audience: options.audience ?? TEST_AUDIENCE,
      },
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token built by hand, as an attacker would: any header, any payload, any signature. */
export function forgeToken(
  header: object,
  payload: object,
  signature: (signingInput: string) => string = () => '',
): string {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  return `${signingInput}.${signature(signingInput)}`;
}

export const hmacSha256 =
  (secret: string | Buffer) =>
  (signingInput: string): string =>
    createHmac('sha256', secret).update(signingInput).digest('base64url');
