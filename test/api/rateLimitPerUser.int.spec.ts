import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { expectProblem, startTestShop, type TestShop } from '../support/shop.js';

const BUDGET = 5;

/** The token with another `sub` written into its payload: the signature no longer verifies. */
function withForgedSubject(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: `forged-${randomUUID()}` })).toString(
    'base64url',
  );
  return [header, forged, signature].join('.');
}

describe('Rate limits per caller', () => {
  let shop: TestShop;

  beforeEach(async () => {
    // A shop for each test: each starts with every budget unspent, whatever the others used.
    shop = await startTestShop({ RATE_LIMIT_PER_MINUTE: String(BUDGET) });
  });

  afterEach(async () => {
    await shop.stop();
  });

  const shopper = (): Promise<string> => shop.tokenFor(`shopper-${randomUUID()}`, ['customer']);
  const readCart = (token?: string): Promise<Response> =>
    shop.call('/api/v1/cart', token === undefined ? {} : { token });

  it('never limits 25 shoppers behind one address together, each well under its budget', async () => {
    const tokens = await Promise.all(Array.from({ length: 25 }, shopper));
    const statuses = await Promise.all(
      tokens.flatMap((token) =>
        Array.from({ length: BUDGET - 2 }, async () => (await readCart(token)).status),
      ),
    );
    expect(statuses).to.have.length(25 * (BUDGET - 2));
    expect(new Set(statuses)).to.deep.equal(new Set([200]));
  });

  it('limits one shopper past its budget, and no one else', async () => {
    const [greedy, other] = await Promise.all([shopper(), shopper()]);
    for (let request = 0; request < BUDGET; request += 1)
      expect((await readCart(greedy)).status).to.equal(200);
    const limited = await readCart(greedy);
    await expectProblem(limited, 429);
    expect(Number(limited.headers.get('retry-after'))).to.be.within(1, 60);
    expect(limited.headers.get('cache-control'), 'a 429 for the cart is not stored either').to.equal(
      'no-store',
    );
    expect((await readCart(other)).status).to.equal(200);
    expect((await readCart()).status, 'an anonymous call draws on the address’s own budget').to.equal(401);
  });

  it('counts calls with a token that does not verify against the address, like calls without one', async () => {
    const valid = await shopper();
    for (let request = 0; request < BUDGET - 1; request += 1) {
      // Each forged token names a subject never seen before: were it trusted, each would get a fresh budget.
      await expectProblem(await readCart(withForgedSubject(valid)), 401);
    }
    await expectProblem(await readCart(), 401);
    await expectProblem(await readCart(withForgedSubject(valid)), 429);
    await expectProblem(await readCart(`${valid}x`), 429);
    await expectProblem(await readCart(), 429);
    expect((await readCart(valid)).status, 'the verified shopper behind that address').to.equal(200);
  });
});
