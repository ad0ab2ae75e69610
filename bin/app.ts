import { App } from 'aws-cdk-lib';
import { buildService } from '#lib/service';

buildService(new App());
