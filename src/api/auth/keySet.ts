import type { KeyObject } from 'node:crypto';

/**
 * The public keys a token issuer signs with, by key id. Implemented in infrastructure (a JWKS
 * endpoint, the in-process development issuer).
 */
export interface KeySet {
  /**
   * The public key with this `kid`, or undefined when the issuer does not publish it. Rejects with
   * `KeySetUnavailable` when the keys cannot be fetched and the kid is not already known. A parsed
   * key, the same object for every request until the set is fetched again: given a PEM string,
   * jsonwebtoken would parse it anew on every verification.
   */
  keyFor(kid: string): Promise<KeyObject | undefined>;
}

/** The issuer's keys could not be fetched: the request cannot be authenticated for now. */
export class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}
