/**
 * Imported first by `bench/flow.ts`, so these are set before any other module reads them: request
 * logs would drown the table (handlers read LOG_LEVEL when they load), and the AWS SDK's Node 20
 * notice is noise here.
 */
process.env.LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
