import type { App } from 'aws-cdk-lib';
import { eventRules } from '#catalogue/events';
import { resolverFunction, routes } from '#catalogue/routes';
import type { FunctionPackaging } from '#lib/constructs/service-function';
import { assertEntriesExist } from '#lib/entries';
import { readServiceSettings } from '#lib/settings';
import { ApiStack } from '#lib/stacks/api-stack';
import { EventsStack } from '#lib/stacks/events-stack';
import { MonitoringStack } from '#lib/stacks/monitoring-stack';
import { StorageStack } from '#lib/stacks/storage-stack';

export interface ServiceOptions {
  /** `placeholder` only in tests; see FunctionPackaging. */
  packaging?: FunctionPackaging;
  /** Where catalogue entries are resolved; defaults to this repository. */
  sourceRoot?: string;
}

export interface ServiceStacks {
  storage: StorageStack;
  events: EventsStack;
  api: ApiStack;
  monitoring: MonitoringStack;
}

/**
 * The whole service in one app: storage, events, API and monitoring, wired through typed props.
 * Stacks are environment-agnostic, so `cdk synth` needs no account, region or credentials.
 */
export function buildService(app: App, options: ServiceOptions = {}): ServiceStacks {
  const settings = readServiceSettings(app.node);
  assertEntriesExist(
    [
      ...routes.map((route) => route.entry),
      resolverFunction.entry,
      ...eventRules.map((rule) => rule.consumer.entry),
    ],
    options.sourceRoot,
  );

  const prefix = `Organizations-${settings.stage}`;
  const functionOptions = { packaging: options.packaging, sourceRoot: options.sourceRoot };
  const tags = { service: 'organizations', stage: settings.stage };

  const storage = new StorageStack(app, `${prefix}-Storage`, { settings, tags });
  const events = new EventsStack(app, `${prefix}-Events`, {
    settings,
    tags,
    table: storage.table,
    ...functionOptions,
  });
  const api = new ApiStack(app, `${prefix}-Api`, {
    settings,
    tags,
    table: storage.table,
    bus: events.bus,
    ...functionOptions,
  });
  const monitoring = new MonitoringStack(app, `${prefix}-Monitoring`, {
    settings,
    tags,
    httpApi: api.httpApi,
    deadLetterQueues: events.deadLetterQueues,
    consumers: events.consumers,
  });
  return { storage, events, api, monitoring };
}
