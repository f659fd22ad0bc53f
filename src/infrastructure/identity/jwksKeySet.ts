import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { JwksClient } from 'jwks-rsa';
import { type KeySet, KeySetUnavailable } from '../../api/auth/keySet.js';

export interface JsonWebKeySet {
  keys: JsonWebKey[];
}

/** Where the keys come from: an issuer's JWKS URL, or a reader that needs no HTTP (the development issuer). */
export type JwksSource = { jwksUri: string } | { fetcher: () => Promise<JsonWebKeySet> };

export type JwksKeySetOptions = JwksSource & {
  /**
   * Least time between two fetches, however many unknown kids arrive. Default 2 s: no more than the
   * default wait, so a token signed with a newly rotated key is never refused, only held up to 2 s.
   */
  cooldownMs?: number;
  /** How long a request with an unknown kid may wait for the cooldown to let the next fetch start. Default 2 s. */
  maxWaitMs?: number;
  /** Fetch timeout. Default 5 s. */
  timeoutMs?: number;
};

interface Fetch {
  startedAt: number;
  failure?: unknown;
}

interface Refresh {
  startsAt: number;
  done: Promise<Fetch>;
}

/**
 * Every signing key of a JWKS, cached by kid. An unknown kid refreshes the whole set: concurrent
 * misses share one fetch, and fetches are at least `cooldownMs` apart. A miss that the cooldown
 * holds back waits (up to `maxWaitMs`) for the fetch due when the cooldown ends, which is then
 * scheduled whether anyone still waits or not: a key rotated in right after a flood of random kids
 * is unknown at most until that fetch.
 */
export class JwksKeySet implements KeySet {
  private readonly client: JwksClient;
  private readonly cooldownMs: number;
  private readonly maxWaitMs: number;
  private keys = new Map<string, KeyObject>();
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  private pending: Refresh | undefined;

  constructor(options: JwksKeySetOptions) {
    this.cooldownMs = options.cooldownMs ?? 2_000;
    this.maxWaitMs = options.maxWaitMs ?? 2_000;
    const common = { cache: false, rateLimit: false, timeout: options.timeoutMs ?? 5_000 };
    this.client =
      'fetcher' in options
        ? new JwksClient({ ...common, fetcher: options.fetcher })
        : new JwksClient({ ...common, jwksUri: options.jwksUri });
  }

  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known !== undefined) return known;
    const askedAt = performance.now();
    const deadline = askedAt + this.maxWaitMs;
    for (;;) {
      const refresh = this.refresh();
      // Held back by the cooldown beyond what this request may wait: it stays scheduled for the next.
      if (refresh.startsAt > deadline && refresh.startsAt > performance.now()) return undefined;
      const fetched = await refresh.done;
      const key = this.keys.get(kid);
      if (key !== undefined) return key;
      // A fetch that started before the question may predate the key: wait for the next one.
      if (fetched.startedAt < askedAt) continue;
      if (fetched.failure !== undefined) {
        throw new KeySetUnavailable('the JWKS could not be fetched', { cause: fetched.failure });
      }
      return undefined;
    }
  }

  /** The fetch under way, or the one due when the cooldown ends; `done` never rejects. */
  private refresh(): Refresh {
    if (this.pending) return this.pending;
    const startsAt = Math.max(performance.now(), this.lastFetchStartedAt + this.cooldownMs);
    const done = (async (): Promise<Fetch> => {
      const delay = startsAt - performance.now();
      if (delay > 0) await sleep(delay);
      const startedAt = performance.now();
      this.lastFetchStartedAt = startedAt;
      try {
        this.keys = await this.fetchKeys();
        return { startedAt };
      } catch (failure) {
        return { startedAt, failure };
      } finally {
        this.pending = undefined;
      }
    })();
    this.pending = { startsAt, done };
    return this.pending;
  }

  /** Parsed here, once a fetch, so that no verification parses a PEM. */
  private async fetchKeys(): Promise<Map<string, KeyObject>> {
    const keys = new Map<string, KeyObject>();
    for (const signingKey of await this.client.getSigningKeys()) {
      const key = createPublicKey(signingKey.getPublicKey());
      // Only RSA keys can verify RS256, the one algorithm accepted.
      if (signingKey.kid && key.asymmetricKeyType === 'rsa') keys.set(signingKey.kid, key);
    }
    return keys;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
