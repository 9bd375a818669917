// An orders function traced by the X-Ray SDK for Node.js (aws-xray-sdk-core):
// every outgoing HTTP call becomes a subsegment (captureHTTPsGlobal), and
// pricing the order is a subsegment of its own. INIT_SLEEP_MS stands for
// slow init code.
'use strict';

const AWSXRay = require('aws-xray-sdk-core');
const http = require('node:http');

AWSXRay.captureHTTPsGlobal(http);

// Slow init code, run while the module loads (a blocking wait).
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env.INIT_SLEEP_MS || 0));

function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

exports.handler = async (event) => {
  const total = await new Promise((resolve) => {
    AWSXRay.captureAsyncFunc('price_order', (sub) => {
      setTimeout(() => {
        sub.addAnnotation('items', 3);
        sub.close();
        resolve(42);
      }, 20);
    });
  });
  const profile = await get(process.env.PROFILE_URL);
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ orderId: event.pathParameters ? event.pathParameters.id : 'none', total, profile: JSON.parse(profile.body) }),
  };
};
