import { commandLineArguments, parsedOrUsage, UsageError } from './commandLine.js';
import { ROLES } from '../src/api/auth/authenticate.js';
import { InvalidConfiguration, loadConfig } from '../src/infrastructure/config.js';
import { DevIssuer } from '../src/infrastructure/identity/devIssuer.js';
import { USER_ID, USER_ID_RULE } from '../src/domain/shared/userId.js';

const USAGE = `usage: npm run -s token -- --sub <user id> [--roles ${ROLES.join(',')}]
Prints a development token signed with the key in DATA_DIR, as POST /dev/token answers it.`;

function parse(): { sub: string; roles: string[] } {
  const { values } = commandLineArguments({
    options: { sub: { type: 'string' }, roles: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const sub = values.sub;
  if (sub === undefined || !USER_ID.test(sub)) throw new UsageError(`--sub is required: ${USER_ID_RULE}`);
  const roles = (values.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role !== '');
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) {
    throw new UsageError(`unknown role ${unknown.join(', ')}: choose among ${ROLES.join(', ')}`);
  }
  return { sub, roles: [...new Set(roles)] };
}

async function main(): Promise<number> {
  const claims = parsedOrUsage(parse, USAGE);
  if (!claims) return 2;
  const config = loadConfig();
  if (config.OIDC_ISSUER) {
    process.stderr.write(
      'OIDC_ISSUER is set: the server accepts only that provider, not development tokens\n',
    );
    return 1;
  }
  const issuer = await DevIssuer.open(config.DATA_DIR);
  process.stdout.write(`${issuer.sign(claims).token}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      error instanceof InvalidConfiguration
        ? `${error.message}\n`
        : `no token: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
