// Pays one URL with the official TypeScript client (@x402/fetch + @x402/evm, npm 2.27.0) and
// prints {status, body, paymentResponse} as JSON. Used by tests/test_server.py.
//   node pay_with_x402_fetch.mjs URL PRIVATE_KEY NETWORK ASSET   (ASSET: the token it may pay with)
import { wrapFetchWithPaymentFromConfig } from "@x402/fetch";
import { ExactEvmScheme } from "@x402/evm";
import { privateKeyToAccount } from "viem/accounts";

const [url, key, network, asset] = process.argv.slice(2);
const account = privateKeyToAccount(key);
const pay = wrapFetchWithPaymentFromConfig(fetch, {
  schemes: [{ network, client: new ExactEvmScheme(account) }],
  spendControls: { allowedAssets: [{ network, asset }] },
});
const response = await pay(url, { method: "GET", signal: AbortSignal.timeout(30_000) });
console.log(
  JSON.stringify({
    status: response.status,
    body: await response.text(),
    paymentResponse: response.headers.get("payment-response"),
  }),
);
