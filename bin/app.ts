/**
 * The CDK app: one `Identity-<code>` stack per region (us → us-west-2, au → ap-southeast-2,
 * eu → eu-west-1). Synthesizes offline without AWS credentials; `cdk.json` holds the context
 * (see lib/context.ts for every key an operator may set). Every region needs a hosted zone for its
 * tenants' domain, unless `--context domain=none` says on purpose that it has none.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addRegionStacks } from '../lib/app.js';
import { ContextError } from '../lib/context.js';

const app = new App();
try {
  addRegionStacks(app);
} catch (err) {
  // A setting to fix, said in one sentence; anything else is a bug and keeps its stack trace.
  if (!(err instanceof ContextError)) throw err;
  console.error(`Cannot synthesize: ${err.message}`);
  process.exit(1);
}
// AWS Solutions checks run on every synth: an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
