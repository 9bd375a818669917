// Records one "checkout" segment with nested subsegments, annotations and metadata using
// aws-xray-sdk-core, sends it over UDP to AWS_XRAY_DAEMON_ADDRESS, and prints the ids as JSON.
// The test runs it with NODE_PATH pointing at e2etest/node/node_modules.
'use strict';

const AWSXRay = require('aws-xray-sdk-core');

AWSXRay.setContextMissingStrategy('LOG_ERROR');
// A socket that is closed after each send keeps the process alive until the datagram is out;
// the default socket is unref'd and could lose it at exit.
require('aws-xray-sdk-core/dist/lib/segment_emitter').disableReusableSocket();

const segment = new AWSXRay.Segment('checkout');
segment.addAnnotation('customer_tier', 'gold');
segment.addAnnotation('cart_items', 3);
segment.addAnnotation('express', true);
segment.addMetadata('cart', { items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }], total: 41.5 }, 'shop');
segment.addMetadata('build', 'e2e');
segment.setUser('customer-42');
segment.addIncomingRequestData(new AWSXRay.middleware.IncomingRequestData({
  method: 'POST',
  url: '/checkout',
  headers: { host: 'shop.example.com', 'user-agent': 'e2etest' },
  connection: { remoteAddress: '10.1.2.3', encrypted: false },
}));

const validate = segment.addNewSubsegment('validate_cart');
const price = validate.addNewSubsegment('price_lookup');
price.addAnnotation('sku_count', 2);
price.addMetadata('prices', { 'A-1': 12.25, 'B-7': 17 });
const cache = price.addNewSubsegment('price_cache');
cache.addAnnotation('cache_hit', false);
cache.close();
price.close();
validate.close();

const charge = segment.addNewSubsegment('charge_card');
charge.addAnnotation('gateway', 'acme');
charge.addError(new Error('card declined'));
charge.close();

segment.http.close({ statusCode: 402 });
segment.close();

const ids = {};
for (const s of [segment, validate, price, cache, charge]) {
  ids[s.name] = s.id;
}
console.log(JSON.stringify({ trace_id: segment.trace_id, ids }));
