import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_KEY_FILE,
  DevIssuer,
} from '../../src/infrastructure/identity/devIssuer.js';

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run -s token -- <args>`, as the README shows it, in a clean environment of its own. */
function runTokenCommand(args: string[], env: Record<string, string>): Promise<CommandResult> {
  const {
    TEST_DATABASE_URL: _test,
    DATABASE_URL: _database,
    OIDC_ISSUER: _issuer,
    ...inherited
  } = process.env;
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '-s', 'token', '--', ...args],
      { env: { ...inherited, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('npm run token', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-token-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a token the server accepts: signed with the key in DATA_DIR, with the sub and roles asked for', async () => {
    const result = await runTokenCommand(['--sub', 'shopper', '--roles', 'customer,admin,customer'], {
      DATA_DIR: dataDir,
    });

    expect(result.code, result.stderr).to.equal(0);
    const issuer = await DevIssuer.open(dataDir);
    const [jwk] = issuer.jwks().keys;
    const claims = jwt.verify(result.stdout.trim(), createPublicKey({ key: jwk as never, format: 'jwk' }), {
      algorithms: ['RS256'],
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
    }) as jwt.JwtPayload;
    expect(claims.sub).to.equal('shopper');
    expect(claims.realm_access).to.deep.equal({ roles: ['customer', 'admin'] });
    expect(jwt.decode(result.stdout.trim(), { complete: true })?.header.kid).to.equal(issuer.kid);
  });

  it('creates the signing key readable by its owner only, and signs with the same key next time', async () => {
    const first = await runTokenCommand(['--sub', 'shopper'], { DATA_DIR: dataDir });
    const second = await runTokenCommand(['--sub', 'other-shopper'], { DATA_DIR: dataDir });

    expect([first.code, second.code]).to.deep.equal([0, 0]);
    expect((await stat(path.join(dataDir, DEV_KEY_FILE))).mode & 0o777).to.equal(0o600);
    const kidOf = (token: string): unknown => jwt.decode(token.trim(), { complete: true })?.header.kid;
    expect(kidOf(second.stdout)).to.equal(kidOf(first.stdout));
  });

  const refusals: { name: string; args: string[]; says: RegExp }[] = [
    { name: 'no --sub', args: ['--roles', 'customer'], says: /--sub is required/ },
    { name: 'an empty --sub', args: ['--sub', ''], says: /--sub is required: 1 to 200 of/ },
    { name: 'a --sub of 201 characters', args: ['--sub', 'x'.repeat(201)], says: /1 to 200 of/ },
    { name: 'a --sub with a space', args: ['--sub', 'test shopper'], says: /1 to 200 of/ },
    {
      name: 'an unknown role',
      args: ['--sub', 'shopper', '--roles', 'customer,root'],
      says: /unknown role root/,
    },
    { name: 'an unknown option', args: ['--sub', 'shopper', '--admin'], says: /Unknown option '--admin'/ },
    { name: 'a stray argument', args: ['--sub', 'shopper', 'admin'], says: /Unexpected argument 'admin'/ },
    { name: '--sub without a value', args: ['--sub'], says: /argument missing/ },
  ];
  for (const { name, args, says } of refusals) {
    it(`refuses ${name} with exit code 2 and the usage, printing no token and creating no key`, async () => {
      const result = await runTokenCommand(args, { DATA_DIR: dataDir });

      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(says);
      expect(result.stderr).to.include('usage: npm run -s token -- --sub <user id>');
      expect(result.stdout).to.equal('');
      expect(await readdir(dataDir)).to.deep.equal([]);
    });
  }

  it('refuses to sign when the server would only accept an external provider (OIDC_ISSUER set)', async () => {
    const result = await runTokenCommand(['--sub', 'shopper'], {
      DATA_DIR: dataDir,
      OIDC_ISSUER: 'https://id.example.test/realms/shop',
      OIDC_AUDIENCE: 'shop-api',
      OIDC_JWKS_URI: 'https://id.example.test/realms/shop/protocol/openid-connect/certs',
    });

    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('OIDC_ISSUER is set');
    expect(result.stdout).to.equal('');
    expect(await readdir(dataDir)).to.deep.equal([]);
  });

  it('refuses an invalid configuration, naming the variable at fault', async () => {
    const result = await runTokenCommand(['--sub', 'shopper'], {
      DATA_DIR: dataDir,
      OIDC_ISSUER: 'https://id.example.test/realms/shop',
    });

    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('OIDC_ISSUER');
    expect(result.stderr).to.include('go together');
    expect(result.stdout).to.equal('');
  });
});
