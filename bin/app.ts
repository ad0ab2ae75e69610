import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildService } from '#lib/service';

const app = new App();
buildService(app);
// `cdk synth` and `cdk deploy` stop on any AwsSolutions finding that is not acknowledged.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
