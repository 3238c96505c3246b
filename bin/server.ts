/**
 * `npm start`: the whole product on one port, every region, with an embedded Amazon DynamoDB Local.
 *   PORT (default 3000), DATA_DIR (default .data), DYNAMODB_IN_MEMORY=1 or `npm start -- --in-memory`.
 */
import { JavaMissingError } from '../local/dynamodb-local.js';
import { startLocal } from '../local/start.js';
import { seedDemoTenant } from '../local/seed.js';
import { CALLBACK_PATH, serveDemoCallback } from '../local/callback-page.js';

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.DATA_DIR ?? '.data';
const inMemory =
  process.argv.includes('--in-memory') || ['1', 'true'].includes(process.env.DYNAMODB_IN_MEMORY ?? '');

try {
  const server = await startLocal({ port, dataDir, inMemory, host: process.env.HOST });
  const callbackUri = `http://localhost:${server.port}${CALLBACK_PATH}`;
  const demo = await seedDemoTenant(dataDir, callbackUri);
  const origin = server.origin('demo', 'us');
  serveDemoCallback({ origin, tenantId: demo.tenant.id, redirectUri: callbackUri });
  const basic = Buffer.from(`${demo.secret}:`).toString('base64');
  console.log(`
Identity platform running locally on http://localhost:${server.port} (regions us, au, eu)
  DynamoDB Local: ${server.dynamodbEndpoint} (${inMemory ? 'in memory' : `data in ${dataDir}/dynamodb`})
  Signing keys:   SIGNER=${process.env.SIGNER}, sealed by SECRET_BOX=${process.env.SECRET_BOX || 'local'} (local key in ${dataDir}/signing-keys, NOT FOR PRODUCTION)

Demo tenant (slug demo, region us)
  tenant id:  ${demo.tenant.id}
  secret:     ${demo.secret}
  discovery:  ${origin}/oidc/.well-known/openid-configuration
  callback:   ${callbackUri} (registered for the built-in client: shows the code and a curl to redeem it)

Try it:
  curl -s -X POST '${origin}/init-auth' \\
    -H 'Authorization: Basic ${basic}' \\
    -H 'Content-Type: application/json' \\
    -d '{"userId":"123456","action":"signIn"}'

Create another tenant (--silent keeps npm's own lines out of the JSON, for jq):
  npm run --silent admin -- create-tenant --slug acme --region eu | jq .

Node and Python clients do not resolve *.localhost (browsers and curl do): add
"127.0.0.1 demo.us.localhost" to /etc/hosts, or use curl --resolve demo.us.localhost:${server.port}:127.0.0.1
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
