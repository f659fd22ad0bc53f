import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import type { JsonWebKeySet } from './jwksKeySet.js';

export const DEV_ISSUER = 'shop-dev-issuer';
export const DEV_AUDIENCE = 'shop-api';
export const DEV_KEY_FILE = 'dev-issuer-key.pem';
const DEFAULT_LIFETIME_SECONDS = 3600;

export interface DevTokenClaims {
  sub: string;
  roles: readonly string[];
  expiresInSeconds?: number;
}

export interface IssuedToken {
  token: string;
  /** Seconds until the token expires. */
  expiresIn: number;
}

/** RFC 7638: the SHA-256 of the key's required members, in lexicographic order, base64url. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  if (jwk.kty !== 'RSA' || !jwk.e || !jwk.n) throw new Error('only RSA public keys have a thumbprint here');
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The development token issuer: an RSA key kept in the data directory (created on first use, 0600,
 * reused by every later process, the server and `npm run token` alike) that signs RS256 tokens
 * with the same claims a Keycloak realm would issue.
 */
export class DevIssuer {
  readonly kid: string;
  private readonly publicJwk: JsonWebKey;

  private constructor(private readonly privateKey: KeyObject) {
    const { n, e } = createPublicKey(privateKey).export({ format: 'jwk' });
    if (!n || !e) throw new Error('the development issuer key is not an RSA key');
    this.publicJwk = { kty: 'RSA', n, e };
    this.kid = jwkThumbprint(this.publicJwk);
  }

  /** The issuer whose key lives in `dataDir`, creating the key when there is none yet. */
  static async open(dataDir: string): Promise<DevIssuer> {
    const file = path.join(dataDir, DEV_KEY_FILE);
    const existing = await readKey(file);
    if (existing) return new DevIssuer(existing);
    await mkdir(dataDir, { recursive: true });
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    // Written aside then linked: two processes starting together end up with one key, never half a file.
    const scratch = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(scratch, pem, { mode: 0o600 });
    await chmod(scratch, 0o600);
    try {
      await link(scratch, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(scratch, { force: true });
    }
    const stored = await readKey(file);
    if (!stored) throw new Error(`the development issuer key ${file} vanished`);
    return new DevIssuer(stored);
  }

  sign({ sub, roles, expiresInSeconds = DEFAULT_LIFETIME_SECONDS }: DevTokenClaims): IssuedToken {
    const token = jwt.sign({ realm_access: { roles: [...roles] } }, this.privateKey, {
      algorithm: 'RS256',
      keyid: this.kid,
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      subject: sub,
      expiresIn: expiresInSeconds,
    });
    return { token, expiresIn: expiresInSeconds };
  }

  /** The public key set, as `GET /.well-known/jwks.json` publishes it. */
  jwks(): JsonWebKeySet {
    return { keys: [{ ...this.publicJwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }
}

async function readKey(file: string): Promise<KeyObject | undefined> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${file} does not hold an RSA private key`);
  return key;
}
