import { requireEnv } from '#platform/config';

/** The single table's name, read once at load. */
export const tableName = requireEnv('TABLE_NAME');
