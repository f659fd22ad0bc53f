import { expect } from 'chai';
import {
  developmentIssuerExposure,
  InvalidConfiguration,
  loadConfig,
} from '../../src/infrastructure/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfiguration) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('Configuration', () => {
  describe('when nothing is set', () => {
    it('runs the embedded default on port 3000 with the documented defaults', () => {
      const config = loadConfig({});
      expect(config).to.include({
        PORT: 3000,
        DATA_DIR: './.data',
        EVENT_STORE: 'postgres',
        ORDER_TIMEOUT_MS: 1_800_000,
        PAYMENT_RETRY_DELAY_MS: 500,
        CART_TTL_MS: 2_592_000_000,
        LOG_LEVEL: 'info',
        NODE_ENV: 'development',
      });
      expect(config.DATABASE_URL).to.equal(undefined);
    });
  });

  describe('HOST, the address the shop listens on', () => {
    const oidc = {
      OIDC_ISSUER: 'https://id.example.com/realms/shop',
      OIDC_AUDIENCE: 'shop-api',
      OIDC_JWKS_URI: 'https://id.example.com/realms/shop/certs',
    };

    it('is 127.0.0.1 with the development issuer, which hands admin tokens to whoever asks', () => {
      const config = loadConfig({});
      expect(config.HOST).to.equal('127.0.0.1');
      expect(developmentIssuerExposure(config)).to.equal(undefined);
    });

    it('is every interface, 0.0.0.0, with an identity provider', () => {
      const config = loadConfig(oidc);
      expect(config.HOST).to.equal('0.0.0.0');
      expect(developmentIssuerExposure(config)).to.equal(undefined);
    });

    for (const host of ['localhost', '127.0.0.2', '::1']) {
      it(`takes ${host}, a loopback address, with the development issuer and no warning`, () => {
        const config = loadConfig({ HOST: host });
        expect(config.HOST).to.equal(host);
        expect(developmentIssuerExposure(config)).to.equal(undefined);
      });
    }

    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'shop.internal']) {
      it(`takes ${host} with the development issuer, with a warning that anyone reaching it can mint admin tokens`, () => {
        const config = loadConfig({ HOST: host });
        expect(config.HOST).to.equal(host);
        const warning = developmentIssuerExposure(config) ?? '';
        expect(warning.startsWith(`HOST=${host} `), warning).to.equal(true);
        expect(warning).to.include('can mint admin tokens').and.to.include('OIDC_ISSUER');
      });
    }

    it('takes any address with an identity provider, without a warning', () => {
      const config = loadConfig({ ...oidc, HOST: '192.0.2.10' });
      expect(config.HOST).to.equal('192.0.2.10');
      expect(developmentIssuerExposure(config)).to.equal(undefined);
    });

    for (const host of ['not a host', '1.2.3.999', 'http://0.0.0.0', '0.0.0.0:3000']) {
      it(`refuses ${JSON.stringify(host)}, naming HOST and the value`, () => {
        const [problem] = problems({ HOST: host });
        expect(problem).to.match(/^HOST: must be an IP address or a host name/);
        expect(problem).to.include(JSON.stringify(host));
      });
    }
  });

  describe('when values are set', () => {
    it('reads them, splitting the Kafka broker list', () => {
      const config = loadConfig({
        PORT: '8080',
        DATABASE_URL: 'postgres://shop@db:5432/shop',
        KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      });
      expect(config.PORT).to.equal(8080);
      expect(config.KAFKA_BROKERS).to.deep.equal(['kafka-1:9092', 'kafka-2:9092']);
    });

    it('treats an empty value as unset', () => {
      expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).to.equal(undefined);
    });
  });

  describe('when values are invalid', () => {
    it('names every variable at fault, with the value it got', () => {
      const found = problems({
        PORT: '99999',
        EVENT_STORE: 'mysql',
        KAFKA_BROKERS: 'localhost',
        LOG_LEVEL: 'loud',
      });
      expect(found.map((problem) => problem.split(':')[0])).to.have.members([
        'PORT',
        'EVENT_STORE',
        'KAFKA_BROKERS',
        'LOG_LEVEL',
      ]);
      expect(found.find((problem) => problem.startsWith('PORT'))).to.include('"99999"');
    });

    it('refuses a DATABASE_URL that is not a PostgreSQL URL', () => {
      expect(problems({ DATABASE_URL: 'mysql://db/shop' })[0]).to.match(/^DATABASE_URL/);
    });

    it('requires the EventStoreDB connection string with EVENT_STORE=eventstoredb', () => {
      expect(problems({ EVENT_STORE: 'eventstoredb' })[0]).to.match(/^EVENTSTORE_CONNECTION_STRING/);
    });

    it('requires the three OIDC settings together', () => {
      expect(problems({ OIDC_ISSUER: 'https://id.example.com/realms/shop' })[0]).to.match(/^OIDC_ISSUER/);
    });

    it('refuses production without an identity provider or a database', () => {
      const found = problems({ NODE_ENV: 'production' });
      expect(found.some((problem) => problem.startsWith('OIDC_ISSUER'))).to.equal(true);
      expect(found.some((problem) => problem.startsWith('DATABASE_URL'))).to.equal(true);
    });
  });
});
