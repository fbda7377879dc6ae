import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext } from '../lib/config.ts';
import { PressroomStack } from '../lib/pressroom-stack.ts';

/** The CDK app (`npx cdk synth`, `npx cdk deploy`): one pressroom stack, checked by cdk-nag. */
const app = new App();
try {
  const config = configFromContext(app.node);
  new PressroomStack(app, config.stackName, {
    config,
    description:
      'pressroom: press releases and newsletters (S3, Lambda, SQS, SES, EventBridge Scheduler, CloudFront)',
  });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
