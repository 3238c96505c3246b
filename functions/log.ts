import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One structured logger for every function (Powertools: JSON lines that CloudWatch Logs Insights
 * can query). Request logs carry method, host, path, status and duration, never query strings,
 * bodies or headers, where codes, tokens and secrets travel.
 */
export const logger = new Logger({
  serviceName: 'identity',
  logLevel: (process.env.LOG_LEVEL as 'INFO' | 'DEBUG' | 'WARN' | 'ERROR' | 'SILENT' | undefined) ?? 'INFO',
});
