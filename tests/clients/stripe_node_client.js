// Create one PaymentIntent with stripe-node (the official `stripe` npm package), as its README shows it:
//
//   STRIPE_BASE_URL=http://127.0.0.1:8080 STRIPE_API_KEY=sk_test_… node stripe_node_client.js --payment-method pm_card_visa --ref order-42
//
// The package is found in STRIPE_NODE_MODULES (a node_modules folder), else in .ci/node/node_modules (.ci/run
// installs it there). Retries: `maxNetworkRetries` from STRIPE_MAX_NETWORK_RETRIES, else 2 — what the README's
// example sets ("Retry a request twice before giving up") and stripe-node's own default on Node
// (cjs/platform/PlatformFunctions.js:52-53); the delays are the package's own, untouched.
// Exit 0 with the PaymentIntent's id; 1 with Stripe's error (its type, status and code).
'use strict';

const path = require('path');

const modules = process.env.STRIPE_NODE_MODULES || path.join(__dirname, '..', '..', '.ci', 'node', 'node_modules');
const Stripe = require(path.join(modules, 'stripe'));

function arg(name) {
  const at = process.argv.indexOf(name);
  if (at < 0 || at + 1 >= process.argv.length) {
    console.error(`usage: node stripe_node_client.js --payment-method PM --ref REF (missing ${name})`);
    process.exit(2);
  }
  return process.argv[at + 1];
}

async function main() {
  const base = new URL(process.env.STRIPE_BASE_URL);
  const retries = process.env.STRIPE_MAX_NETWORK_RETRIES;
  const stripe = new Stripe(process.env.STRIPE_API_KEY, {
    host: base.hostname,
    port: base.port,
    protocol: base.protocol.replace(':', ''),
    ...(retries === undefined ? {maxNetworkRetries: 2} : {maxNetworkRetries: Number(retries)}),
    telemetry: false,
  });
  try {
    const intent = await stripe.paymentIntents.create({
      amount: 2000,
      currency: 'usd',
      payment_method: arg('--payment-method'),
      metadata: {order: arg('--ref')},
    });
    console.log(intent.id);
    return 0;
  } catch (err) {
    console.error(`payment failed: ${err.type} ${err.statusCode} ${err.code}: ${err.message}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
