/**
 * The CDK app: one `Identity-<code>` stack per region (us → us-west-2, au → ap-southeast-2,
 * eu → eu-west-1). Synthesizes offline without AWS credentials; `cdk.json` holds the context
 * (see lib/context.ts for every key an operator may set).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addRegionStacks } from '../lib/app.js';

const app = new App();
addRegionStacks(app);
// AWS Solutions checks run on every synth: an unacknowledged finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
