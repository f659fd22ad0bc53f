import net from 'node:net';
import { expect } from 'chai';
import { startTestShop, type TestShop } from '../support/shop.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a connection received into its responses, each read by its Content-Length. */
function responses(raw: string): RawResponse[] {
  const parsed: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    expect(headEnd, `a response head in ${JSON.stringify(rest)}`).to.be.greaterThan(0);
    const [statusLine = '', ...headerLines] = rest.slice(0, headEnd).split('\r\n');
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.slice(headEnd + 4, headEnd + 4 + length);
    parsed.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.slice(headEnd + 4 + length);
  }
  return parsed;
}

describe('Requests the HTTP parser refuses', () => {
  let shop: TestShop;
  let port: number;

  before(async () => {
    shop = await startTestShop();
    port = Number(new URL(shop.base).port);
  });

  after(async () => {
    await shop.stop();
  });

  /** Sends `request` as it is on a new connection and answers all it received until the server closed it. */
  function exchange(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(port, '127.0.0.1', () => socket.write(request, 'latin1'));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }

  function expectProblemResponse(response: RawResponse | undefined, status: number): void {
    expect(response?.status).to.equal(status);
    expect(response?.headers['content-type']).to.equal('application/problem+json');
    expect(response?.headers.connection).to.equal('close');
    const problem = JSON.parse(response?.body ?? '') as Record<string, unknown>;
    expect(problem).to.include({ type: 'about:blank', status });
    expect(problem.title).to.be.a('string');
    expect(problem.detail).to.be.a('string');
  }

  it('answers a control character in a header with a 400 problem, and closes the connection', async () => {
    const received = responses(
      await exchange('GET /health/live HTTP/1.1\r\nHost: shop\r\nX-Note: a\u0001b\r\n\r\n'),
    );
    expect(received).to.have.length(1);
    expectProblemResponse(received[0], 400);
  });

  it('answers headers over 16 kB with a 431 problem', async () => {
    const received = responses(
      await exchange(`GET /health/live HTTP/1.1\r\nHost: shop\r\nX-Padding: ${'a'.repeat(17_000)}\r\n\r\n`),
    );
    expect(received).to.have.length(1);
    expectProblemResponse(received[0], 431);
  });

  it('answers a malformed request line with a 400 problem', async () => {
    const received = responses(await exchange('THIS IS NOT HTTP\r\n\r\n'));
    expect(received).to.have.length(1);
    expectProblemResponse(received[0], 400);
  });

  it('finishes the answer to a good request before the problem with the bad one after it', async () => {
    const received = responses(
      await exchange(
        'GET /health/live HTTP/1.1\r\nHost: shop\r\n\r\nGET /health/live HTTP/1.1\r\nHost: sh op\u0000\r\n\r\n',
      ),
    );
    expect(received.map((response) => response.status)).to.deep.equal([200, 400]);
    expect(JSON.parse(received[0]?.body ?? '')).to.deep.equal({ status: 'up' });
    expectProblemResponse(received[1], 400);
  });
});
