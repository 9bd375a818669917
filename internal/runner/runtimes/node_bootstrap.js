// thaw's Lambda runtime client for Node.js functions.
//
// It plays the role of the AWS Lambda Node.js runtime interface client with
// Node's own modules only: it loads the handler named by _HANDLER
// ("file.export", the file relative to LAMBDA_TASK_ROOT, .js, .cjs or .mjs),
// then asks the Runtime API for events forever, calling the handler (async,
// or with a callback) and posting each result or error. Init errors go to
// /runtime/init/error with the error types the official client uses.
'use strict';

const http = require('node:http');
const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
// Kept before the function loads: SDKs patch http.request (X-Ray's
// captureHTTPsGlobal), and the runtime's own calls must not be traced,
// as the official client's native HTTP calls are not.
const request = http.request;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = '/2018-06-01/runtime';

function call(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path: BASE + p, agent, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorBody(err, type) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: type || e.name || 'Error',
    errorMessage: e.message,
    trace: (e.stack || '').split('\n'),
  };
}

function xrayCause(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = (e.stack || '').split('\n').slice(1).map((l) => {
    const m = /at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/.exec(l.trim());
    return m ? { label: m[1] || 'anonymous', path: m[2], line: Number(m[3]) } : null;
  }).filter(Boolean);
  return { working_directory: process.cwd(), exceptions: [{ type: e.name, message: e.message, stack }], paths: [...new Set(stack.map((f) => f.path))] };
}

async function initError(err, type, message) {
  const body = errorBody(err, type);
  if (message) body.errorMessage = message;
  await call('POST', '/init/error', JSON.stringify(body), { 'Lambda-Runtime-Function-Error-Type': type, 'Content-Type': 'application/json' });
  process.exit(129);
}

async function loadHandler() {
  const spec = process.env._HANDLER || '';
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) return initError(new Error(spec), 'Runtime.MalformedHandlerName', `Bad handler ${spec}`);
  const file = spec.slice(0, dot), name = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  let found = null;
  for (const ext of ['.js', '.cjs', '.mjs']) {
    if (fs.existsSync(path.join(root, file + ext))) { found = path.join(root, file + ext); break; }
  }
  if (!found) return initError(new Error(`Cannot find module '${file}'`), 'Runtime.ImportModuleError', `Error: Cannot find module '${file}'`);
  let mod;
  try {
    mod = found.endsWith('.mjs') ? await import(pathToFileURL(found).href) : require(found);
  } catch (err) {
    const type = err instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    return initError(err, type, `${err.name}: ${err.message}`);
  }
  const handler = mod[name] || (mod.default && mod.default[name]);
  if (typeof handler !== 'function') return initError(new Error(`${spec} is undefined or not exported`), 'Runtime.HandlerNotFound', `${spec} is undefined or not exported`);
  return handler;
}

function context(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    clientContext: headers['lambda-runtime-client-context'] ? JSON.parse(headers['lambda-runtime-client-context']) : undefined,
    identity: headers['lambda-runtime-cognito-identity'] ? JSON.parse(headers['lambda-runtime-cognito-identity']) : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function run(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      err ? reject(err) : resolve(result);
    };
    try {
      const out = handler(event, ctx, callback);
      if (out && typeof out.then === 'function') out.then((r) => callback(null, r), (e) => callback(e || new Error('rejected')));
      else if (handler.length < 3) callback(null, out);
    } catch (err) {
      callback(err);
    }
  });
}

async function main() {
  const handler = await loadHandler();
  for (;;) {
    const { res, body } = await call('GET', '/invocation/next');
    const headers = res.headers;
    const id = headers['lambda-runtime-aws-request-id'];
    const trace = headers['lambda-runtime-trace-id'];
    if (trace) process.env._X_AMZN_TRACE_ID = trace; else delete process.env._X_AMZN_TRACE_ID;
    try {
      const event = body.length ? JSON.parse(body.toString('utf8')) : {};
      const result = await run(handler, event, context(headers));
      const payload = JSON.stringify(result === undefined ? null : result);
      await call('POST', `/invocation/${id}/response`, payload, { 'Content-Type': 'application/json' });
    } catch (err) {
      await call('POST', `/invocation/${id}/error`, JSON.stringify(errorBody(err)), {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-XRay-Error-Cause': JSON.stringify(xrayCause(err)),
      });
    }
  }
}

main().catch((err) => {
  console.error('thaw runtime client:', err);
  process.exit(1);
});
