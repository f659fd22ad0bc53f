import { LRUCache } from 'lru-cache';

/** How many verified tokens are kept, the least recently used given up first. */
const TOKENS_KEPT = 10_000;

/**
 * How long a verification is trusted at most, however long the token lives: a signing key the
 * identity provider withdraws stops opening requests within this time.
 */
const TRUSTED_FOR_MS = 60_000;

interface Kept<Verified> {
  verified: Verified;
  until: number;
}

/**
 * Tokens whose signature, issuer and audience were verified, by the exact Authorization header
 * they came in: a client sends the same token with request after request, and checking an RS256
 * signature costs more than the rest of a small request. A token is answered from here until it
 * expires (with the verifier's clock tolerance) or for TRUSTED_FOR_MS, whichever is sooner; only
 * tokens that passed are kept.
 */
export class VerifiedTokens<Verified> {
  private readonly kept = new LRUCache<string, Kept<Verified>>({ max: TOKENS_KEPT });

  constructor(
    private readonly toleranceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(authorization: string): Verified | undefined {
    const entry = this.kept.get(authorization);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.until) {
      this.kept.delete(authorization);
      return undefined;
    }
    return entry.verified;
  }

  /** `expiresAt`: the token's `exp`, in seconds since the epoch. */
  keep(authorization: string, verified: Verified, expiresAt: number): void {
    const now = this.now();
    const until = Math.min(expiresAt * 1000 + this.toleranceMs, now + TRUSTED_FOR_MS);
    if (until <= now) return;
    this.kept.set(authorization, { verified, until });
  }
}
