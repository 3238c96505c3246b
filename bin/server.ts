/**
 * `npm start`: the whole product on one port, every region, with an embedded Amazon DynamoDB Local.
 *   PORT (default 3000), DATA_DIR (default .data), DYNAMODB_IN_MEMORY=1 or `npm start -- --in-memory`.
 */
import { JavaMissingError } from '../local/dynamodb-local.js';
import { startLocal } from '../local/start.js';
import { seedDemoTenant } from '../local/seed.js';

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.DATA_DIR ?? '.data';
const inMemory =
  process.argv.includes('--in-memory') || ['1', 'true'].includes(process.env.DYNAMODB_IN_MEMORY ?? '');

try {
  const server = await startLocal({ port, dataDir, inMemory, host: process.env.HOST });
  const demo = await seedDemoTenant(dataDir);
  const origin = server.origin('demo', 'us');
  const basic = Buffer.from(`${demo.secret}:`).toString('base64');
  console.log(`
Identity platform running locally on http://localhost:${server.port} (regions us, au, eu)
  DynamoDB Local: ${server.dynamodbEndpoint} (${inMemory ? 'in memory' : `data in ${dataDir}/dynamodb`})
  Signing keys:   SIGNER=${process.env.SIGNER}, sealed by SECRET_BOX=${process.env.SECRET_BOX || 'local'} (local key in ${dataDir}/signing-keys, NOT FOR PRODUCTION)

Demo tenant (slug demo, region us)
  tenant id:  ${demo.tenant.id}
  secret:     ${demo.secret}
  discovery:  ${origin}/oidc/.well-known/openid-configuration

Try it:
  curl -s -X POST '${origin}/init-auth' \\
    -H 'Authorization: Basic ${basic}' \\
    -H 'Content-Type: application/json' \\
    -d '{"userId":"123456","action":"signIn"}'

Create another tenant: npm run admin -- create-tenant --slug acme --region eu
`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  if (err instanceof JavaMissingError) {
    console.error(err.message);
    process.exit(1);
  }
  console.error('npm start failed:', err instanceof Error ? err.message : err);
  process.exit(1);
}
