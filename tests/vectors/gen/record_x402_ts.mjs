#!/usr/bin/env node
// Records what the official TypeScript x402 packages (@x402/core + @x402/evm)
// actually put on the wire and decide, so fastx402 can be tested for
// byte-for-byte interoperability without node in CI.
//
// Output: tests/vectors/x402_ts.json. Re-run with:
//
//   cd tests/vectors/gen && npm ci && node record_x402_ts.mjs
//
// Everything runs in-process, with no network at all:
//   * clock:   Date.now() is pinned to CLOCK_MS;
//   * nonces:  globalThis.crypto.getRandomValues() serves only bytes this
//              script queued (sha256 of a per-case label); any other call aborts;
//   * Math.random() returns 0 (only used by the upto facilitator to pick one of
//     its signer addresses; it has exactly one);
//   * keys:    public anvil test keys;
//   * server:  the real x402HTTPResourceServer, driven through a fake HTTPAdapter;
//   * server -> facilitator: the real HTTPFacilitatorClient, whose global fetch()
//     is replaced by an in-process function that hands the JSON body to a real
//     x402Facilitator (and records the exact request bodies);
//   * facilitator -> chain: a viem client whose transport is an in-process
//     function answering only eth_getCode and eth_call ("stubbed chain reads"),
//     plus stubbed writeContract / waitForTransactionReceipt for settlement.
// The script exits non-zero if a digest, signature recovery or determinism
// self-check fails.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, '..', 'x402_ts.json');

// ---------------------------------------------------------------------------
// Determinism: clock, randomness
// ---------------------------------------------------------------------------

const CLOCK_MS = 1763700000000;
const NOW = Math.floor(CLOCK_MS / 1000);
const realDateNow = Date.now;
Date.now = () => CLOCK_MS;
Math.random = () => 0;

const sha256 = (label) => createHash('sha256').update(label, 'utf8').digest();
const bytesHex = (b) => '0x' + Buffer.from(b).toString('hex');

const rngQueue = [];
const rngServed = [];
const cryptoObj = globalThis.crypto;
Object.defineProperty(cryptoObj, 'getRandomValues', {
  configurable: true,
  writable: true,
  value: (arr) => {
    if (rngQueue.length === 0) {
      throw new Error('record_x402_ts: unexpected crypto.getRandomValues() call (would be nondeterministic)');
    }
    const { label, bytes } = rngQueue.shift();
    if (bytes.length !== arr.byteLength) {
      throw new Error(`record_x402_ts: getRandomValues wanted ${arr.byteLength} bytes, queued ${bytes.length} (${label})`);
    }
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(bytes);
    rngServed.push({ label, bytes: bytesHex(bytes) });
    return arr;
  },
});
function queueRandom(label, n = 32) {
  const bytes = sha256(`fastx402-vector-random:${label}`).subarray(0, n);
  rngQueue.push({ label, bytes });
  return bytesHex(bytes);
}
function takeServed() {
  const s = rngServed.splice(0);
  if (rngQueue.length) throw new Error(`record_x402_ts: ${rngQueue.length} queued random values unused`);
  return s;
}

// ---------------------------------------------------------------------------
// Imports (dynamic, after the patches). viem is the copy @x402/evm resolves.
// ---------------------------------------------------------------------------

const VIEM_DIR = join(HERE, 'node_modules', '@x402', 'evm', 'node_modules', 'viem');
const viem = await import(pathToFileURL(join(VIEM_DIR, '_esm', 'index.js')).href);
const viemAccounts = await import(pathToFileURL(join(VIEM_DIR, '_esm', 'accounts', 'index.js')).href);
const { createWalletClient, custom, publicActions, hashTypedData, recoverTypedDataAddress, getAddress,
  decodeFunctionData, encodeAbiParameters, encodeEventTopics, parseAbi, hexToBigInt, numberToHex } = viem;
const { privateKeyToAccount } = viemAccounts;

const { SignTypedDataVersion, TypedDataUtils } = await import('@metamask/eth-sig-util');
const { x402Client, x402HTTPClient } = await import('@x402/core/client');
const { x402ResourceServer, x402HTTPResourceServer, HTTPFacilitatorClient } = await import('@x402/core/server');
const coreHttp = await import('@x402/core/http');
const { x402Facilitator } = await import('@x402/core/facilitator');
const coreUtils = await import('@x402/core/utils');
const coreSchemas = await import('@x402/core/schemas');
const evm = await import('@x402/evm');
const { registerExactEvmScheme: registerExactClient } = await import('@x402/evm/exact/client');
const { registerExactEvmScheme: registerExactServer } = await import('@x402/evm/exact/server');
const { registerExactEvmScheme: registerExactFacilitator } = await import('@x402/evm/exact/facilitator');
const { UptoEvmScheme: UptoClient } = await import('@x402/evm/upto/client');
const { UptoEvmScheme: UptoServer } = await import('@x402/evm/upto/server');
const { UptoEvmScheme: UptoFacilitator } = await import('@x402/evm/upto/facilitator');

const pkgVersion = (rel) => JSON.parse(readFileSync(join(HERE, 'node_modules', rel, 'package.json'), 'utf8')).version;
const LIBRARIES = {
  '@x402/core': pkgVersion('@x402/core'),
  '@x402/evm': pkgVersion('@x402/evm'),
  'viem (as resolved by @x402/evm)': pkgVersion('@x402/evm/node_modules/viem'),
  'ox (as resolved by that viem)': pkgVersion('@x402/evm/node_modules/ox'),
  zod: pkgVersion('zod'),
  '@metamask/eth-sig-util (digest cross-check only)': pkgVersion('@metamask/eth-sig-util'),
};

// ---------------------------------------------------------------------------
// Fixed identities and constants
// ---------------------------------------------------------------------------

const KEYS = {
  payer: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', // anvil #0
  seller: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', // anvil #1
  facilitator: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a', // anvil #2
};
const payerAccount = privateKeyToAccount(KEYS.payer);
const sellerAccount = privateKeyToAccount(KEYS.seller);
const facAccount = privateKeyToAccount(KEYS.facilitator);
const PAYER = payerAccount.address;
const SELLER = sellerAccount.address;
const FACILITATOR = facAccount.address;

const USDC_BASE_SEPOLIA = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const USDC_BASE = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const FACILITATOR_URL = 'http://facilitator.invalid';
const RESOURCE_ORIGIN = 'https://api.example.test';

// Addresses that the stubbed chain reports as contracts (eth_getCode != 0x).
const CONTRACTS = new Set([USDC_BASE_SEPOLIA, USDC_BASE, evm.PERMIT2_ADDRESS, evm.x402ExactPermit2ProxyAddress,
  evm.x402UptoPermit2ProxyAddress].map((a) => a.toLowerCase()));
const STUB_CODE = '0x6080604052';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const jsonSafe = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x)));
const clone = (v) => JSON.parse(JSON.stringify(v));
const b64decode = (s) => Buffer.from(s, 'base64').toString('utf8');

/** Paths of every object in a JSON value with its keys, in order (documents wire key order). */
function keyOrder(value, path = '$', out = {}) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    out[path] = Object.keys(value);
    for (const [k, v] of Object.entries(value)) keyOrder(v, `${path}.${k}`, out);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => keyOrder(v, `${path}[${i}]`, out));
  }
  return out;
}

/** JSON type of every leaf ("string" / "number" / "boolean" / "null"). */
function leafTypes(value, path = '$', out = {}) {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leafTypes(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, out);
  } else {
    out[path] = value === null ? 'null' : typeof value;
  }
  return out;
}

const DOMAIN_FIELD_TYPES = [
  ['name', 'string'], ['version', 'string'], ['chainId', 'uint256'], ['verifyingContract', 'address'], ['salt', 'bytes32'],
];

const failures = [];

/** Digest + domain separator of captured typed data, cross-checked with eth-sig-util. */
function describeTypedData(td, signature, expectedSigner) {
  const domainType = DOMAIN_FIELD_TYPES.filter(([k]) => td.domain[k] !== undefined).map(([name, type]) => ({ name, type }));
  const digest = hashTypedData(td);
  const safe = jsonSafe({ domain: td.domain, types: td.types, primaryType: td.primaryType, message: td.message });
  const esuData = { ...safe, types: { EIP712Domain: domainType, ...safe.types } };
  const esuDigest = bytesHex(TypedDataUtils.eip712Hash(esuData, SignTypedDataVersion.V4));
  const domainSeparator = bytesHex(TypedDataUtils.hashStruct('EIP712Domain', esuData.domain, esuData.types, SignTypedDataVersion.V4));
  if (esuDigest !== digest) failures.push(`digest mismatch viem ${digest} vs eth-sig-util ${esuDigest}`);
  return {
    typed_data: esuData,
    domain_separator: domainSeparator,
    digest,
    signature,
    expected_signer: expectedSigner,
  };
}

async function checkRecovers(td, signature, expected, label) {
  const rec = await recoverTypedDataAddress({ ...td, signature });
  if (getAddress(rec) !== getAddress(expected)) failures.push(`${label}: signature recovers to ${rec}, expected ${expected}`);
}

// ---------------------------------------------------------------------------
// Stubbed chain (facilitator side)
// ---------------------------------------------------------------------------

let rpcLog = [];
let writeLog = [];
let pendingReceipt = null;

function describeCall(to, data) {
  const abis = [evm.eip3009ABI, evm.x402ExactPermit2ProxyABI, evm.x402UptoPermit2ProxyABI];
  for (const abi of abis) {
    try {
      const d = decodeFunctionData({ abi, data });
      return { function: d.functionName, args: jsonSafe(d.args) };
    } catch {
      /* try next */
    }
  }
  return { function: null };
}

const transport = custom({
  async request({ method, params }) {
    if (method === 'eth_getCode') {
      const [address, block] = params;
      const result = CONTRACTS.has(address.toLowerCase()) ? STUB_CODE : '0x';
      rpcLog.push({ method, address, block, result });
      return result;
    }
    if (method === 'eth_call') {
      const [{ to, data }, block] = params;
      rpcLog.push({ method, to, block, data, decoded: describeCall(to, data), result: '0x' });
      return '0x';
    }
    rpcLog.push({ method, params: jsonSafe(params), result: 'unsupported by stub' });
    throw new Error(`stubbed chain: unsupported RPC method ${method}`);
  },
});
const facWalletClient = createWalletClient({ account: facAccount, transport }).extend(publicActions);
const facSigner = evm.toFacilitatorEvmSigner({
  ...facWalletClient,
  address: facAccount.address,
  async writeContract(args) {
    const data = viem.encodeFunctionData({ abi: args.abi, functionName: args.functionName, args: args.args });
    writeLog.push({ to: args.address, function: args.functionName, args: jsonSafe(args.args), calldata: data + (args.dataSuffix ? args.dataSuffix.slice(2) : '') });
    if (!pendingReceipt) throw new Error('stubbed chain: no receipt prepared for this write');
    return pendingReceipt.transactionHash;
  },
  async sendTransaction() {
    throw new Error('stubbed chain: sendTransaction not supported');
  },
  async waitForTransactionReceipt({ hash }) {
    if (!pendingReceipt || pendingReceipt.transactionHash !== hash) throw new Error('stubbed chain: unknown tx');
    writeLog.push({ wait_for_receipt: hash, outcome: pendingReceipt.timeout ? 'timeout' : pendingReceipt.status });
    if (pendingReceipt.timeout) throw new Error(`Timed out while waiting for transaction with hash "${hash}" to be confirmed.`);
    return pendingReceipt;
  },
});

const TRANSFER_ABI = parseAbi(['event Transfer(address indexed from, address indexed to, uint256 value)']);
function prepareReceipt(label, token, from, to, value) {
  const transactionHash = bytesHex(sha256(`fastx402-vector-tx:${label}`));
  pendingReceipt = {
    status: 'success',
    transactionHash,
    logs: [{
      address: token,
      topics: encodeEventTopics({ abi: TRANSFER_ABI, eventName: 'Transfer', args: { from, to } }),
      data: encodeAbiParameters([{ type: 'uint256' }], [BigInt(value)]),
      blockNumber: 1n, transactionHash, logIndex: 0, blockHash: '0x' + '11'.repeat(32), transactionIndex: 0, removed: false,
    }],
  };
  return transactionHash;
}

// ---------------------------------------------------------------------------
// Facilitator (real x402Facilitator, in-process) behind a fake fetch()
// ---------------------------------------------------------------------------

const facilitator = new x402Facilitator();
registerExactFacilitator(facilitator, { signer: facSigner, networks: ['eip155:84532', 'eip155:8453'] });
facilitator.register(['eip155:84532', 'eip155:8453'], new UptoFacilitator(facSigner));

let fetchLog = [];
let settleResponseOverride = null; // fake facilitator /settle answer (string), for settlement edge cases
globalThis.fetch = async (url, init = {}) => {
  const u = new URL(String(url));
  if (u.origin !== FACILITATOR_URL) throw new Error(`record_x402_ts: refusing fetch to ${url}`);
  const entry = { method: init.method ?? 'GET', path: u.pathname, request_body: init.body ?? null };
  let status = 200;
  let result;
  try {
    if (u.pathname === '/supported') {
      result = facilitator.getSupported();
    } else if (u.pathname === '/settle' && settleResponseOverride !== null) {
      entry.fake_facilitator_response = true;
      result = JSON.parse(settleResponseOverride);
    } else if (u.pathname === '/verify' || u.pathname === '/settle') {
      const body = JSON.parse(init.body);
      result = await facilitator[u.pathname.slice(1)](body.paymentPayload, body.paymentRequirements);
    } else {
      status = 404;
      result = { error: 'not found' };
    }
  } catch (e) {
    status = 500;
    result = { error: e instanceof Error ? e.message : String(e) };
  }
  entry.status = status;
  entry.response_body = entry.fake_facilitator_response ? settleResponseOverride : JSON.stringify(result);
  fetchLog.push(entry);
  return new Response(entry.response_body, { status, headers: { 'content-type': 'application/json' } });
};

// ---------------------------------------------------------------------------
// Resource server (real x402HTTPResourceServer)
// ---------------------------------------------------------------------------

const ROUTES = {
  'GET /exact/base-sepolia': {
    accepts: { scheme: 'exact', network: 'eip155:84532', payTo: SELLER, price: '$0.01' },
    description: 'Weather report',
    mimeType: 'application/json',
  },
  'GET /exact/base': {
    accepts: { scheme: 'exact', network: 'eip155:8453', payTo: SELLER, price: '$0.01' },
    description: 'Weather report (Base mainnet)',
    mimeType: 'application/json',
  },
  'GET /exact/custom-extra': {
    accepts: {
      scheme: 'exact',
      network: 'eip155:84532',
      payTo: SELLER,
      price: { amount: '12345', asset: USDC_BASE_SEPOLIA, extra: { name: 'USDC', version: '2' } },
      maxTimeoutSeconds: 60,
      extra: { zeta: 'last-but-inserted-first', alpha: 1, nested: { b: [1, 2, { c: null }], a: true }, unicode: 'Caf\u00e9 \u2615 \u6771\u4eac', empty: '' },
    },
    resource: `${RESOURCE_ORIGIN}/exact/custom-extra?q=1&r=/+`,
    description: 'Custom extra: keys beyond name/version',
    mimeType: 'text/plain; charset=utf-8',
  },
  'GET /exact/permit2': {
    accepts: { scheme: 'exact', network: 'eip155:84532', payTo: SELLER, price: '$0.01', extra: { assetTransferMethod: 'permit2' } },
    description: 'Permit2 exact',
    mimeType: 'application/json',
  },
  'GET /upto/base-sepolia': {
    accepts: { scheme: 'upto', network: 'eip155:84532', payTo: SELLER, price: '$0.05' },
    description: 'Metered (upto)',
    mimeType: 'application/json',
  },
};

const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: FACILITATOR_URL }));
registerExactServer(resourceServer);
resourceServer.register('eip155:*', new UptoServer());
const httpServer = new x402HTTPResourceServer(resourceServer, ROUTES);
await httpServer.initialize();
const supportedFetch = fetchLog.splice(0);

function adapterFor(path, headers = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    getHeader: (name) => lower[name.toLowerCase()],
    getMethod: () => 'GET',
    getPath: () => path,
    getUrl: () => `${RESOURCE_ORIGIN}${path}`,
    getAcceptHeader: () => 'application/json',
    getUserAgent: () => 'fastx402-vector-recorder',
  };
}

function summarizeHttpResult(r) {
  if (r.type !== 'payment-error') return { type: r.type };
  const out = { type: r.type, status: r.response.status, headers: r.response.headers, body: r.response.body };
  const pr = r.response.headers['PAYMENT-REQUIRED'];
  if (pr) {
    const decoded = JSON.parse(b64decode(pr));
    out.payment_required = decoded;
    out.error = decoded.error ?? null;
  }
  return out;
}

async function serverRequest(path, headers = {}) {
  const adapter = adapterFor(path, headers);
  const context = { adapter, path, method: 'GET' };
  const r = await httpServer.processHTTPRequest(context);
  return { raw: r, context, summary: summarizeHttpResult(r) };
}

// ---------------------------------------------------------------------------
// Client (real x402Client with the exact + upto EVM schemes)
// ---------------------------------------------------------------------------

let captured = [];
const capturingSigner = {
  address: PAYER,
  async signTypedData(td) {
    const signature = await payerAccount.signTypedData(td);
    captured.push({ td, signature });
    return signature;
  },
};
const client = new x402Client();
registerExactClient(client, { signer: capturingSigner });
client.register('eip155:*', new UptoClient(capturingSigner));
const httpClient = new x402HTTPClient(client);

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

const cases = [];
const resetPerCase = () => {
  rpcLog = [];
  writeLog = [];
  fetchLog = [];
  pendingReceipt = null;
  evm.resetAssetContractCache();
};

const flows = {}; // name -> {paymentRequired, payload, header, requirements, route}

async function clientPayloadCase({ name, route, notes, randomLabels, transfer, settle = true, settlementOverrides }) {
  resetPerCase();
  // 1. unpaid request -> 402 with PAYMENT-REQUIRED
  const unpaid = await serverRequest(route);
  const prHeader = unpaid.raw.response.headers['PAYMENT-REQUIRED'];
  const getHeader402 = (n) => unpaid.raw.response.headers[Object.keys(unpaid.raw.response.headers).find((k) => k.toLowerCase() === n.toLowerCase())];
  const paymentRequired = httpClient.getPaymentRequiredResponse(getHeader402, unpaid.raw.response.body);

  // 2. client creates the payload
  const randoms = randomLabels.map((l) => queueRandom(`${name}:${l}`));
  captured = [];
  const payload = await httpClient.createPaymentPayload(paymentRequired);
  const served = takeServed();
  const headers = httpClient.encodePaymentSignatureHeader(payload);
  const [headerName] = Object.keys(headers);
  const header = headers[headerName];
  const payloadJson = b64decode(header);
  if (payloadJson !== JSON.stringify(payload)) failures.push(`${name}: header is not base64(JSON.stringify(payload))`);
  const sigs = captured.splice(0);
  if (sigs.length !== 1) failures.push(`${name}: expected exactly one signature, got ${sigs.length}`);
  const eip712 = describeTypedData(sigs[0].td, sigs[0].signature, PAYER);
  await checkRecovers(sigs[0].td, sigs[0].signature, PAYER, name);
  const requirements = paymentRequired.accepts[0];

  // 3. paid request -> server matches + verifies through the facilitator
  const facilitatorCalls = [];
  fetchLog = [];
  rpcLog = [];
  const paid = await serverRequest(route, { [headerName]: header });
  facilitatorCalls.push(...fetchLog.splice(0));
  const verifyChainReads = rpcLog.splice(0);

  // 4. settlement (stubbed chain writes)
  let settlement = null;
  if (settle && paid.raw.type === 'payment-verified') {
    const amount = settlementOverrides?.amount ?? transfer.value;
    const tx = prepareReceipt(name, transfer.token, PAYER, transfer.to, amount);
    const transportContext = { request: paid.context, ...(settlementOverrides ? { responseHeaders: { 'Settlement-Overrides': JSON.stringify(settlementOverrides) } } : {}) };
    const s = await httpServer.processSettlement(paid.raw.paymentPayload, paid.raw.paymentRequirements, paid.raw.declaredExtensions, transportContext);
    const prh = s.headers?.['PAYMENT-RESPONSE'];
    settlement = {
      ...(settlementOverrides ? { settlement_overrides_response_header: JSON.stringify(settlementOverrides) } : {}),
      success: s.success,
      headers: s.headers,
      payment_response_header: prh ?? null,
      payment_response: prh ? JSON.parse(b64decode(prh)) : null,
      payment_response_json: prh ? b64decode(prh) : null,
      facilitator_http: fetchLog.splice(0),
      chain_reads: rpcLog.splice(0),
      chain_writes: writeLog.splice(0),
      stub_transaction_hash: tx,
    };
  }

  flows[name] = { paymentRequired, payload, header, requirements, route, headerName };
  cases.push({
    name,
    kind: 'client_payload',
    notes,
    produced_by: 'x402HTTPResourceServer.processHTTPRequest (402) -> x402HTTPClient.getPaymentRequiredResponse -> x402Client.createPaymentPayload -> x402HTTPClient.encodePaymentSignatureHeader; then processHTTPRequest with the header (verify via HTTPFacilitatorClient -> in-process x402Facilitator, stubbed chain reads) and processSettlement (stubbed chain writes).',
    input: {
      route: { pattern: `GET ${route}`, config: ROUTES[`GET ${route}`] },
      unpaid_response: { status: unpaid.raw.response.status, headers: unpaid.raw.response.headers, body: unpaid.raw.response.body },
      payment_required_header: prHeader,
      payment_required_json: b64decode(prHeader),
      payment_required: paymentRequired,
      random_bytes_supplied: served,
    },
    output: {
      header_name: headerName,
      payment_payload: payload,
      payment_payload_json: payloadJson,
      key_order: keyOrder(JSON.parse(payloadJson)),
      leaf_types: leafTypes(JSON.parse(payloadJson)),
      in_memory_keys_not_on_wire: Object.keys(payload).filter((k) => payload[k] === undefined),
      accepted_equals_offered_json: JSON.stringify(payload.accepted) === JSON.stringify(requirements),
      eip712,
      server_after_payment: paid.summary,
      facilitator_http: facilitatorCalls,
      chain_reads: verifyChainReads,
      settlement,
    },
    header,
    digest: eip712.digest,
  });
}

await clientPayloadCase({
  name: 'v2_exact_eip3009_base_sepolia',
  route: '/exact/base-sepolia',
  randomLabels: ['eip3009-nonce'],
  transfer: { token: USDC_BASE_SEPOLIA, to: SELLER, value: '10000' },
  notes: 'Default exact scheme (EIP-3009 transferWithAuthorization), price "$0.01" -> amount "10000" of Base Sepolia USDC, extra {name:"USDC",version:"2"} from the TS default-asset table. validAfter is "0", validBefore = now + maxTimeoutSeconds (300), nonce = 0x-hex of 32 getRandomValues bytes.',
});
await clientPayloadCase({
  name: 'v2_exact_eip3009_base_mainnet',
  route: '/exact/base',
  randomLabels: ['eip3009-nonce'],
  transfer: { token: USDC_BASE, to: SELLER, value: '10000' },
  notes: 'Same as base_sepolia on eip155:8453 (USDC 0x8335..., EIP-712 name "USD Coin").',
});
await clientPayloadCase({
  name: 'v2_exact_eip3009_custom_extra',
  route: '/exact/custom-extra',
  randomLabels: ['eip3009-nonce'],
  transfer: { token: USDC_BASE_SEPOLIA, to: SELLER, value: '12345' },
  notes: 'AssetAmount price with explicit extra {name,version}, merged with route extra containing extra keys (non-string values, nested object/array/null, non-ASCII, empty string) and maxTimeoutSeconds 60. Shows extra key order (price.extra first, then route extra), non-ASCII in base64(UTF-8 JSON), and that accepted is echoed as-is. Only name and version enter the EIP-712 domain.',
});
await clientPayloadCase({
  name: 'v2_exact_permit2_base_sepolia',
  route: '/exact/permit2',
  randomLabels: ['permit2-nonce'],
  transfer: { token: USDC_BASE_SEPOLIA, to: SELLER, value: '10000' },
  notes: 'exact with extra.assetTransferMethod "permit2": PermitWitnessTransferFrom signed against the canonical Permit2 contract (domain without version), spender = x402 exact Permit2 proxy, witness {to, validAfter:"0"}, nonce = decimal string of the uint256 from 32 getRandomValues bytes, deadline = now + maxTimeoutSeconds. Payload key order is {signature, permit2Authorization} (signature FIRST, unlike EIP-3009).',
});
await clientPayloadCase({
  name: 'v2_upto_permit2_base_sepolia',
  route: '/upto/base-sepolia',
  randomLabels: ['permit2-nonce'],
  transfer: { token: USDC_BASE_SEPOLIA, to: SELLER, value: '50000' },
  settlementOverrides: { amount: '4000' },
  notes: 'upto scheme (Permit2 only): price "$0.05" -> max amount "50000"; server adds extra.assetTransferMethod "permit2" and extra.facilitatorAddress (EIP-55) from the facilitator /supported kind extra. Witness {to, facilitator, validAfter}; spender = x402 upto proxy. Settled for a partial amount via the Settlement-Overrides response header {"amount":"4000"}.',
});

// ---------------------------------------------------------------------------
// v1 client payload (X-PAYMENT)
// ---------------------------------------------------------------------------
{
  resetPerCase();
  const name = 'v1_exact_eip3009_base_sepolia';
  const v1Required = {
    x402Version: 1,
    error: 'X-PAYMENT header is required',
    accepts: [{
      scheme: 'exact',
      network: 'base-sepolia',
      maxAmountRequired: '10000',
      resource: `${RESOURCE_ORIGIN}/v1/weather`,
      description: 'Weather report (v1)',
      mimeType: 'application/json',
      payTo: SELLER,
      maxTimeoutSeconds: 300,
      asset: USDC_BASE_SEPOLIA,
      extra: { name: 'USDC', version: '2' },
    }],
  };
  const pr = httpClient.getPaymentRequiredResponse(() => undefined, clone(v1Required));
  queueRandom(`${name}:eip3009-nonce`);
  captured = [];
  const payload = await httpClient.createPaymentPayload(pr);
  const served = takeServed();
  const headers = httpClient.encodePaymentSignatureHeader(payload);
  const [headerName] = Object.keys(headers);
  const sig = captured.splice(0)[0];
  const eip712 = describeTypedData(sig.td, sig.signature, PAYER);
  await checkRecovers(sig.td, sig.signature, PAYER, name);
  const facVerify = jsonSafe(await facilitator.verify(payload, v1Required.accepts[0]));
  const chainReads = rpcLog.splice(0);
  // The TS resource server is v2-only: it reads PAYMENT-SIGNATURE only and emits v2 PAYMENT-REQUIRED.
  const serverWithXPayment = await serverRequest('/exact/base-sepolia', { 'X-PAYMENT': headers[headerName] });
  flows[name] = { payload, requirements: v1Required.accepts[0], header: headers[headerName], headerName };
  cases.push({
    name,
    kind: 'client_payload',
    notes: 'v1 is still supported by the TS CLIENT (ExactEvmSchemeV1 registered for v1 network names by registerExactEvmScheme) and FACILITATOR (registerV1 for the same names): payload {x402Version:1, scheme, network, payload:{authorization, signature}} sent as X-PAYMENT. The v1 client still uses validAfter = now - 600. The TS RESOURCE SERVER (x402HTTPResourceServer) is v2-only: it ignores X-PAYMENT and answers a v2 402 (see output.server_with_x_payment). The v1 PaymentRequired here is hand-written (no TS encoder emits v1 402 bodies); x402HTTPClient.getPaymentRequiredResponse accepts it from the JSON body.',
    produced_by: 'x402HTTPClient.getPaymentRequiredResponse(noHeaders, v1Body) -> x402Client.createPaymentPayload -> x402HTTPClient.encodePaymentSignatureHeader; verify via x402Facilitator.verify directly (stubbed chain reads).',
    input: { payment_required_body: v1Required, random_bytes_supplied: served },
    output: {
      header_name: headerName,
      payment_payload: payload,
      payment_payload_json: b64decode(headers[headerName]),
      key_order: keyOrder(JSON.parse(b64decode(headers[headerName]))),
      leaf_types: leafTypes(JSON.parse(b64decode(headers[headerName]))),
      eip712,
      facilitator_verify: facVerify,
      chain_reads: chainReads,
      server_with_x_payment: { type: serverWithXPayment.summary.type, status: serverWithXPayment.summary.status, error: serverWithXPayment.summary.error },
      v1_resource_server: 'unsupported',
    },
    header: headers[headerName],
    digest: eip712.digest,
  });
}

// ---------------------------------------------------------------------------
// Verification outcomes (tampered copies of the Base Sepolia payment)
// ---------------------------------------------------------------------------

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
function highSTwin(sig) {
  const h = sig.slice(2);
  const r = h.slice(0, 64);
  const s = BigInt('0x' + h.slice(64, 128));
  const v = parseInt(h.slice(128, 130), 16);
  const s2 = (SECP256K1_N - s).toString(16).padStart(64, '0');
  const v2 = v === 27 ? 28 : v === 28 ? 27 : v ^ 1;
  return `0x${r}${s2}${v2.toString(16).padStart(2, '0')}`;
}
function withV(sig, v) {
  return sig.slice(0, 130) + v.toString(16).padStart(2, '0');
}

async function signTwa(requirements, auth, key = payerAccount) {
  const td = {
    domain: { name: requirements.extra.name, version: requirements.extra.version, chainId: Number(requirements.network.split(':')[1]), verifyingContract: getAddress(requirements.asset) },
    types: evm.authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: {
      from: getAddress(auth.from), to: getAddress(auth.to), value: BigInt(auth.value),
      validAfter: BigInt(auth.validAfter), validBefore: BigInt(auth.validBefore), nonce: auth.nonce,
    },
  };
  return { signature: await key.signTypedData(td), td };
}

const base = flows.v2_exact_eip3009_base_sepolia;
const R = base.requirements;
const P = base.payload;
const sig0 = P.payload.signature;
const auth0 = P.payload.authorization;

const TX_FAKE = '0x' + 'cd'.repeat(32);
const verifyCases = [];
function vc(name, notes, build) {
  verifyCases.push({ name, notes, build });
}

vc('valid', 'Untouched payment.', () => ({}));
vc('value_changed_after_signing', 'authorization.value 10000 -> 10001 without re-signing (signature no longer matches).', (p) => {
  p.payload.authorization.value = '10001';
});
vc('value_mismatch_resigned', 'Payer signs value 10001 (accepted still says amount 10000): signature valid, value != amount.', async (p) => {
  p.payload.authorization.value = '10001';
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('value_lower_resigned', 'Payer signs value 9999 (< amount): TS requires exact equality.', async (p) => {
  p.payload.authorization.value = '9999';
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('to_changed_after_signing', 'authorization.to -> payer address without re-signing.', (p) => {
  p.payload.authorization.to = PAYER;
});
vc('to_mismatch_resigned', 'Payer signs to = a different address: signature valid, to != payTo.', async (p) => {
  p.payload.authorization.to = FACILITATOR;
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('to_lowercase_not_resigned', 'authorization.to lower-cased (same address, not EIP-55). Digest unchanged because viem hashes the address value.', (p) => {
  p.payload.authorization.to = p.payload.authorization.to.toLowerCase();
});
vc('valid_before_in_past_resigned', `validBefore = now - 1 (${NOW - 1}), re-signed.`, async (p) => {
  p.payload.authorization.validBefore = String(NOW - 1);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_before_now_plus_5_resigned', `validBefore = now + 5 (${NOW + 5}): below the TS margin of now + 6, re-signed.`, async (p) => {
  p.payload.authorization.validBefore = String(NOW + 5);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_before_now_plus_6_resigned', `validBefore = now + 6 (${NOW + 6}): exactly at the TS margin, re-signed.`, async (p) => {
  p.payload.authorization.validBefore = String(NOW + 6);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_before_ten_years_resigned', 'validBefore = now + 10 years, re-signed (TS has no upper bound).', async (p) => {
  p.payload.authorization.validBefore = String(NOW + 10 * 365 * 86400);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_after_in_future_resigned', `validAfter = now + 1 (${NOW + 1}), re-signed.`, async (p) => {
  p.payload.authorization.validAfter = String(NOW + 1);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_after_now_resigned', `validAfter = now (${NOW}), re-signed (TS accepts validAfter <= now).`, async (p) => {
  p.payload.authorization.validAfter = String(NOW);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('valid_after_now_minus_600_resigned', `validAfter = now - 600 (${NOW - 600}) as older clients send, re-signed.`, async (p) => {
  p.payload.authorization.validAfter = String(NOW - 600);
  p.payload.signature = (await signTwa(R, p.payload.authorization)).signature;
});
vc('wrong_network_in_accepted', 'accepted.network eip155:8453 (requirements stay eip155:84532).', (p) => {
  p.accepted.network = 'eip155:8453';
});
vc('wrong_scheme_in_accepted', 'accepted.scheme "upto" (requirements stay exact).', (p) => {
  p.accepted.scheme = 'upto';
});
vc('signature_high_s_twin', 'Signature replaced by its high-s twin (s -> n - s, v 27<->28). Same signer recovers.', (p) => {
  p.payload.signature = highSTwin(p.payload.signature);
});
vc('signature_v_0_or_1', 'Signature v byte 27/28 replaced by 0/1 (yParity form).', (p) => {
  const v = parseInt(p.payload.signature.slice(130), 16);
  p.payload.signature = withV(p.payload.signature, v - 27);
});
vc('signature_v_29', 'Signature v byte replaced by 29 (invalid).', (p) => {
  p.payload.signature = withV(p.payload.signature, 29);
});
vc('signature_64_bytes', 'Signature truncated to 64 bytes (r||s, no v).', (p) => {
  p.payload.signature = p.payload.signature.slice(0, 130);
});
vc('signature_uppercase_hex', 'Signature hex digits upper-cased (0x prefix kept).', (p) => {
  p.payload.signature = '0x' + p.payload.signature.slice(2).toUpperCase();
});
vc('signature_by_other_key', 'Same authorization signed by the seller key (from stays the payer).', async (p) => {
  p.payload.signature = (await signTwa(R, p.payload.authorization, sellerAccount)).signature;
});
vc('accepted_extra_modified_name', 'accepted.extra.name "USDC" -> "USD Coin" (payload otherwise intact).', (p) => {
  p.accepted.extra.name = 'USD Coin';
});
vc('accepted_extra_added_key', 'accepted.extra gains {"foo":"bar"}.', (p) => {
  p.accepted.extra.foo = 'bar';
});
vc('accepted_max_timeout_changed', 'accepted.maxTimeoutSeconds 300 -> 301.', (p) => {
  p.accepted.maxTimeoutSeconds = 301;
});
vc('requirements_missing_extra_name', 'Requirements AND accepted lack extra.name. Facilitator-level: requirements without name. Server-level: the route still offers name, so the payment simply does not match.', (p, r) => {
  delete p.accepted.extra.name;
  delete r.extra.name;
});
vc('value_leading_zero_not_resigned', 'authorization.value "010000" (same integer under BigInt).', (p) => {
  p.payload.authorization.value = '010000';
});
vc('value_with_spaces_not_resigned', 'authorization.value " 10000 " (BigInt trims whitespace).', (p) => {
  p.payload.authorization.value = ' 10000 ';
});
vc('value_hex_not_resigned', 'authorization.value "0x2710" (= 10000 under BigInt).', (p) => {
  p.payload.authorization.value = '0x2710';
});
vc('value_json_number_not_resigned', 'authorization.value as JSON number 10000 instead of a string.', (p) => {
  p.payload.authorization.value = 10000;
});
vc('value_underscore_not_resigned', 'authorization.value "10_000" (BigInt throws SyntaxError).', (p) => {
  p.payload.authorization.value = '10_000';
});
vc('nonce_uppercase_hex', 'authorization.nonce hex digits upper-cased.', (p) => {
  p.payload.authorization.nonce = '0x' + p.payload.authorization.nonce.slice(2).toUpperCase();
});
vc('from_lowercase', 'authorization.from lower-cased.', (p) => {
  p.payload.authorization.from = p.payload.authorization.from.toLowerCase();
});
vc('x402_version_1_in_v2_payload', 'x402Version set to 1 on the v2 payload.', (p) => {
  p.x402Version = 1;
});

async function runVerifyCase({ name, notes, build }) {
  resetPerCase();
  const p = clone(P);
  const r = clone(R);
  await build(p, r);
  let facilitatorResult;
  const t0 = rpcLog.length;
  try {
    const res = await facilitator.verify(p, r);
    facilitatorResult = { returned: JSON.parse(JSON.stringify(res)), json: JSON.stringify(res) };
  } catch (e) {
    facilitatorResult = { threw: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  const chainReads = rpcLog.splice(t0);
  // Server-level: the same payload sent as PAYMENT-SIGNATURE to the route that offered R.
  // (requirements_missing_extra_name cannot be expressed at server level: the route offers name.)
  const header = coreHttp.encodePaymentSignatureHeader(p);
  fetchLog = [];
  const srv = await serverRequest(base.route, { 'PAYMENT-SIGNATURE': header });
  const server = { type: srv.summary.type, status: srv.summary.status ?? null, error: srv.summary.error ?? null, facilitator_called: fetchLog.some((f) => f.path === '/verify') };
  const verifyCall = fetchLog.find((f) => f.path === '/verify');
  if (verifyCall) server.facilitator_verify_response_body = verifyCall.response_body;
  fetchLog = [];
  rpcLog = [];
  cases.push({
    name: `verify_eip3009_${name}`,
    kind: 'verify',
    notes,
    produced_by: 'x402Facilitator.verify(payload, requirements) with @x402/evm ExactEvmScheme (facilitator), viem signer over a stubbed chain (eth_getCode: code only at token/Permit2/proxy addresses; eth_call: always succeeds with 0x) -> output.facilitator; and x402HTTPResourceServer.processHTTPRequest with PAYMENT-SIGNATURE = base64(JSON(payload)) on the route that offered the requirements -> output.server.',
    input: { payment_payload: p, payment_requirements: r, header },
    output: { facilitator: facilitatorResult, chain_reads: chainReads, server },
  });
}
for (const c of verifyCases) await runVerifyCase(c);

// Permit2 / upto / v1 verification: valid + a couple of tampers
async function genericVerify(name, flowName, notes, mutate) {
  resetPerCase();
  const f = flows[flowName];
  const p = clone(f.payload);
  const r = clone(f.requirements);
  await mutate(p, r);
  let facilitatorResult;
  try {
    const res = await facilitator.verify(p, r);
    facilitatorResult = { returned: JSON.parse(JSON.stringify(res)), json: JSON.stringify(res) };
  } catch (e) {
    facilitatorResult = { threw: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  cases.push({
    name,
    kind: 'verify',
    notes,
    produced_by: 'x402Facilitator.verify(payload, requirements), stubbed chain reads (see provenance).',
    input: { payment_payload: p, payment_requirements: r },
    output: { facilitator: facilitatorResult, chain_reads: rpcLog.splice(0) },
  });
}
await genericVerify('verify_permit2_valid', 'v2_exact_permit2_base_sepolia', 'Untouched exact/Permit2 payment.', () => {});
await genericVerify('verify_permit2_amount_changed', 'v2_exact_permit2_base_sepolia', 'permit2Authorization.permitted.amount 10000 -> 10001, not re-signed.', (p) => {
  p.payload.permit2Authorization.permitted.amount = '10001';
});
await genericVerify('verify_permit2_wrong_spender', 'v2_exact_permit2_base_sepolia', 'spender = the upto proxy instead of the exact proxy, not re-signed.', (p) => {
  p.payload.permit2Authorization.spender = evm.x402UptoPermit2ProxyAddress;
});
await genericVerify('verify_permit2_high_s_twin', 'v2_exact_permit2_base_sepolia', 'Permit2 signature replaced by its high-s twin.', (p) => {
  p.payload.signature = highSTwin(p.payload.signature);
});
await genericVerify('verify_upto_valid', 'v2_upto_permit2_base_sepolia', 'Untouched upto payment (verified against the maximum).', () => {});
await genericVerify('verify_upto_wrong_facilitator', 'v2_upto_permit2_base_sepolia', 'witness.facilitator = seller (not a facilitator signer), not re-signed.', (p) => {
  p.payload.permit2Authorization.witness.facilitator = SELLER;
});
await genericVerify('verify_v1_valid', 'v1_exact_eip3009_base_sepolia', 'Untouched v1 payment (validAfter = now - 600).', () => {});
await genericVerify('verify_v1_value_mismatch', 'v1_exact_eip3009_base_sepolia', 'v1 requirements maxAmountRequired 10000 -> 10001.', (p, r) => {
  r.maxAmountRequired = '10001';
});

// ---------------------------------------------------------------------------
// Settlement outcomes as seen by the TS resource server (PAYMENT-RESPONSE)
// ---------------------------------------------------------------------------

async function settlementCase(name, notes, { receipt, facilitatorAnswer }) {
  resetPerCase();
  const paid = await serverRequest(base.route, { 'PAYMENT-SIGNATURE': base.header });
  if (paid.raw.type !== 'payment-verified') failures.push(`${name}: base payment not verified`);
  fetchLog = [];
  rpcLog = [];
  prepareReceipt(`settle:${name}`, USDC_BASE_SEPOLIA, PAYER, SELLER, '10000');
  if (receipt) receipt(pendingReceipt);
  settleResponseOverride = facilitatorAnswer ?? null;
  let s;
  try {
    s = await httpServer.processSettlement(paid.raw.paymentPayload, paid.raw.paymentRequirements, paid.raw.declaredExtensions, { request: paid.context });
  } finally {
    settleResponseOverride = null;
  }
  const prh = s.headers?.['PAYMENT-RESPONSE'];
  cases.push({
    name,
    kind: 'settlement',
    notes,
    produced_by: 'x402HTTPResourceServer.processSettlement after a verified Base Sepolia EIP-3009 payment (the header of v2_exact_eip3009_base_sepolia); facilitator = in-process x402Facilitator over stubbed chain writes, or a fake /settle answer where output.facilitator_http[].fake_facilitator_response is true.',
    input: { payment_signature_header: base.header, facilitator_answer: facilitatorAnswer ?? null },
    output: {
      success: s.success,
      error_reason: s.errorReason ?? null,
      error_message: s.errorMessage ?? null,
      headers: s.headers ?? null,
      payment_response: prh ? JSON.parse(b64decode(prh)) : null,
      payment_response_json: prh ? b64decode(prh) : null,
      failure_response: s.response ? { status: s.response.status, headers: s.response.headers, body: s.response.body } : null,
      facilitator_http: fetchLog.splice(0),
      chain_writes: writeLog.splice(0),
    },
    header: prh ?? null,
  });
}
await settlementCase('settle_receipt_reverted', 'The transferWithAuthorization transaction is mined but reverted (receipt status "reverted").', {
  receipt: (r) => { r.status = 'reverted'; },
});
await settlementCase('settle_transfer_event_mismatch', 'Receipt succeeds but its Transfer log carries value 9999 instead of 10000.', {
  receipt: (r) => { r.logs[0].data = encodeAbiParameters([{ type: 'uint256' }], [9999n]); },
});
await settlementCase('settle_receipt_timeout', 'waitForTransactionReceipt throws a timeout: facilitator answers settlement_pending with the broadcast hash; the TS resource server retries /settle exactly once (the facilitator then waits on the cached hash again and times out again).', {
  receipt: (r) => { r.timeout = true; },
});
await settlementCase('settle_fake_success_empty_transaction', 'Fake facilitator answers {"success":true,"transaction":"","network":"eip155:84532"} (no tx hash, no payer): what the TS server does with it.', {
  facilitatorAnswer: '{"success":true,"transaction":"","network":"eip155:84532"}',
});
await settlementCase('settle_fake_success_wrong_network_and_payer', 'Fake facilitator answers success with a tx hash but network eip155:1 and payer = seller: the TS server does not cross-check.', {
  facilitatorAnswer: JSON.stringify({ success: true, transaction: TX_FAKE, network: 'eip155:1', payer: SELLER }),
});
await settlementCase('settle_fake_success_key_order_and_unknown_fields', 'Fake facilitator answers success with keys in an unusual order plus unknown fields: shows that PAYMENT-RESPONSE is re-serialized in the zod settleResponseSchema key order (success, errorReason, errorMessage, payer, transaction, network, amount, extensions, extra) with unknown keys stripped.', {
  facilitatorAnswer: JSON.stringify({ foo: 'bar', amount: '10000', network: 'eip155:84532', transaction: TX_FAKE, payer: PAYER, success: true, extra: { k: 1 }, extensionResponses: { x: 1 } }),
});

// ---------------------------------------------------------------------------
// Server-side matching of `accepted` (x402ResourceServer.findMatchingRequirements)
// ---------------------------------------------------------------------------

const matchVariants = [
  ['identical', 'accepted exactly as offered.', (a) => a],
  ['keys_reordered', 'Same keys and values, reversed key order (top level and extra).', (a) => {
    const extra = Object.fromEntries(Object.entries(a.extra).reverse());
    return Object.fromEntries(Object.entries({ ...a, extra }).reverse());
  }],
  ['extra_added_key', 'extra gains {"foo":"bar"}.', (a) => ({ ...a, extra: { ...a.extra, foo: 'bar' } })],
  ['extra_name_changed', 'extra.name "USDC" -> "USD Coin".', (a) => ({ ...a, extra: { ...a.extra, name: 'USD Coin' } })],
  ['extra_version_removed', 'extra without version.', (a) => {
    const { version, ...extra } = a.extra;
    return { ...a, extra };
  }],
  ['extra_removed', 'no extra key at all.', (a) => {
    const { extra, ...rest } = a;
    return rest;
  }],
  ['extra_empty_object', 'extra = {}.', (a) => ({ ...a, extra: {} })],
  ['max_timeout_changed', 'maxTimeoutSeconds 300 -> 301.', (a) => ({ ...a, maxTimeoutSeconds: 301 })],
  ['max_timeout_as_string', 'maxTimeoutSeconds as the string "300".', (a) => ({ ...a, maxTimeoutSeconds: '300' })],
  ['max_timeout_as_float', 'maxTimeoutSeconds 300.0 (same JS number).', (a) => ({ ...a, maxTimeoutSeconds: 300.0 })],
  ['amount_as_number', 'amount as JSON number 10000.', (a) => ({ ...a, amount: 10000 })],
  ['amount_leading_zero', 'amount "010000".', (a) => ({ ...a, amount: '010000' })],
  ['pay_to_lowercase', 'payTo lower-cased.', (a) => ({ ...a, payTo: a.payTo.toLowerCase() })],
  ['asset_lowercase', 'asset lower-cased.', (a) => ({ ...a, asset: a.asset.toLowerCase() })],
  ['network_changed', 'network eip155:8453.', (a) => ({ ...a, network: 'eip155:8453' })],
  ['top_level_added_key', 'extra top-level key "description".', (a) => ({ ...a, description: 'x' })],
  ['extra_null_added', 'extra gains {"foo":null}.', (a) => ({ ...a, extra: { ...a.extra, foo: null } })],
];
for (const [name, notes, f] of matchVariants) {
  const accepted = f(clone(R));
  const payload = { ...clone(P), accepted };
  const match = resourceServer.findMatchingRequirements([clone(R)], payload);
  cases.push({
    name: `match_accepted_${name}`,
    kind: 'match',
    notes,
    produced_by: 'x402ResourceServer.findMatchingRequirements([offered], {x402Version:2, accepted, ...}) (core fields compared with deepEqual after key sorting; extra compared as "offered extra is a subset of accepted extra").',
    input: { offered: R, accepted },
    output: { matched: match !== undefined },
  });
}

// ---------------------------------------------------------------------------
// Header encodings (core helpers) for fixed objects
// ---------------------------------------------------------------------------

const TX = '0x' + 'ab'.repeat(32);
const encodingInputs = [
  ['payment_response_success', 'encodePaymentResponseHeader', {
    success: true, transaction: TX, network: 'eip155:84532', payer: PAYER,
  }],
  ['payment_response_success_with_amount', 'encodePaymentResponseHeader', {
    success: true, transaction: TX, network: 'eip155:84532', payer: PAYER, amount: '4000',
  }],
  ['payment_response_failure', 'encodePaymentResponseHeader', {
    success: false, errorReason: 'invalid_exact_evm_nonce_already_used', errorMessage: 'nonce already used', transaction: '', network: 'eip155:84532', payer: PAYER,
  }],
  ['payment_response_drops_extension_responses', 'encodePaymentResponseHeader', {
    success: true, transaction: TX, network: 'eip155:84532', payer: PAYER, extensionResponses: { foo: { status: 'ok' } }, extensions: { bar: 1 },
  }],
  ['payment_response_undefined_fields_omitted', 'encodePaymentResponseHeader', {
    success: true, errorReason: undefined, transaction: TX, network: 'eip155:84532', payer: PAYER, amount: undefined,
  }],
  ['payment_required_fixed', 'encodePaymentRequiredHeader', {
    x402Version: 2,
    error: 'Payment required',
    resource: { url: `${RESOURCE_ORIGIN}/exact/base-sepolia`, description: 'Weather report', mimeType: 'application/json' },
    accepts: [{ scheme: 'exact', network: 'eip155:84532', amount: '10000', asset: USDC_BASE_SEPOLIA, payTo: SELLER, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } }],
  }],
  ['payment_required_error_undefined', 'encodePaymentRequiredHeader', {
    x402Version: 2,
    error: undefined,
    resource: { url: `${RESOURCE_ORIGIN}/exact/base-sepolia`, description: '', mimeType: '' },
    accepts: [{ scheme: 'exact', network: 'eip155:84532', amount: '10000', asset: USDC_BASE_SEPOLIA, payTo: SELLER, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } }],
  }],
  ['payment_required_escapes_and_unicode', 'encodePaymentRequiredHeader', {
    x402Version: 2,
    error: 'quote " backslash \\ slash / tab \t newline \n nul \u0000 del \u007f',
    resource: { url: `${RESOURCE_ORIGIN}/a?b=c&d=</script>`, description: 'Caf\u00e9 \u2615 \u6771\u4eac \u{1F600} line-sep \u2028 para-sep \u2029', mimeType: 'text/html' },
    accepts: [{ scheme: 'exact', network: 'eip155:84532', amount: '1', asset: USDC_BASE_SEPOLIA, payTo: SELLER, maxTimeoutSeconds: 1.5e2, extra: { name: 'USDC', version: '2', big: 1e21, small: 1e-7, neg0: -0 } }],
  }],
  ['payment_signature_fixed', 'encodePaymentSignatureHeader', {
    x402Version: 2,
    payload: {
      authorization: { from: PAYER, to: SELLER, value: '10000', validAfter: '0', validBefore: String(NOW + 300), nonce: '0x' + '00'.repeat(31) + '01' },
      signature: '0x' + '11'.repeat(65),
    },
    resource: { url: `${RESOURCE_ORIGIN}/exact/base-sepolia`, description: 'Weather report', mimeType: 'application/json' },
    accepted: { scheme: 'exact', network: 'eip155:84532', amount: '10000', asset: USDC_BASE_SEPOLIA, payTo: SELLER, maxTimeoutSeconds: 300, extra: { name: 'USDC', version: '2' } },
  }],
];
// Padding coverage: payment responses whose JSON length is 0, 1, 2 mod 3.
for (let pad = 0; pad < 3; pad++) {
  for (let n = 0; n < 6; n++) {
    const obj = { success: true, transaction: TX, network: 'eip155:84532', payer: PAYER, amount: '4'.repeat(n + 1) };
    if (JSON.stringify(obj).length % 3 === pad) {
      encodingInputs.push([`payment_response_len_mod3_${pad}`, 'encodePaymentResponseHeader', obj]);
      break;
    }
  }
}
const ENCODING_NOTES = {
  payment_response_drops_extension_responses: 'encodePaymentResponseHeader deletes extensionResponses (buyer-facing copy) but keeps every other key, including extensions.',
  payment_response_undefined_fields_omitted: 'Keys whose value is undefined disappear (listed in input.undefined_keys).',
  payment_required_error_undefined: 'error: undefined is omitted entirely (not null).',
  payment_required_escapes_and_unicode: 'Shows JSON.stringify escaping (only " \\ and U+0000..U+001F are escaped, \\b\\f\\n\\r\\t short forms; "/", DEL, U+2028/2029 and all non-ASCII are raw UTF-8) and ECMAScript number formatting in extra (1.5e2 -> 150, 1e21 -> 1e+21, 1e-7 -> 1e-7, -0 -> 0): a non-JS encoder reproduces this only by echoing the raw JSON text. input.object_js already shows the JS-normalized numbers.',
};
for (const [name, fn, obj] of encodingInputs) {
  const header = coreHttp[fn](obj);
  const json = b64decode(header);
  cases.push({
    name: `encode_${name}`,
    kind: 'encoding',
    notes: `${fn}(input): btoa over the UTF-8 bytes of JSON.stringify(input) (standard alphabet, '=' padding, no line breaks).${ENCODING_NOTES[name] ? ' ' + ENCODING_NOTES[name] : ''}`,
    produced_by: `@x402/core/http ${fn}`,
    input: { object_js: jsonSafe(obj), note_on_input: 'undefined-valued keys, if any, are listed in undefined_keys (JSON cannot carry them)', undefined_keys: Object.entries(obj).filter(([, v]) => v === undefined).map(([k]) => k) },
    output: { json, json_utf8_length: Buffer.byteLength(json, 'utf8'), padding: (header.match(/=*$/) ?? [''])[0].length, alphabet_has_plus: header.includes('+'), alphabet_has_slash: header.includes('/') },
    header,
  });
}

// Client-side x402HTTPClient.encodePaymentSignatureHeader (v2 vs v1 header names)
{
  const v2 = httpClient.encodePaymentSignatureHeader(encodingInputs.find((e) => e[0] === 'payment_signature_fixed')[2]);
  cases.push({
    name: 'encode_http_client_header_names',
    kind: 'encoding',
    notes: 'x402HTTPClient.encodePaymentSignatureHeader returns {"PAYMENT-SIGNATURE": ...} for x402Version 2 and {"X-PAYMENT": ...} for 1 (same base64(JSON) encoding).',
    produced_by: '@x402/core/client x402HTTPClient.encodePaymentSignatureHeader',
    input: { x402Versions: [2, 1] },
    output: { v2_header_names: Object.keys(v2), v1_header_names: Object.keys(httpClient.encodePaymentSignatureHeader({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: {} })) },
  });
}

// ---------------------------------------------------------------------------
// Header decoding leniency (decodePaymentSignatureHeader)
// ---------------------------------------------------------------------------
{
  const good = base.header;
  const stripped = good.replace(/=+$/, '');
  if (stripped === good) failures.push('decode probes: canonical header has no padding');
  const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
  // A small payload whose base64 has '+', '/' and padding, to probe the alphabet.
  let alpha = null;
  for (let i = 0; i < 5000 && !alpha; i++) {
    const j = JSON.stringify({ x402Version: 2, probe: '\u00fb\u00ff?>~'.repeat(1 + (i % 4)) + i });
    const h = b64(j);
    if (h.includes('+') && h.includes('/') && h.endsWith('=')) alpha = { json: j, header: h };
  }
  if (!alpha) failures.push('decode probes: no alphabet probe found');
  const probes = [
    ['canonical', good],
    ['padding_stripped', stripped],
    ['alphabet_probe_standard', alpha.header],
    ['alphabet_probe_urlsafe', alpha.header.replace(/\+/g, '-').replace(/\//g, '_')],
    ['alphabet_probe_urlsafe_unpadded', alpha.header.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['extra_padding', good + '='],
    ['triple_padding', stripped + '==='],
    ['leading_space', ' ' + good],
    ['trailing_newline', good + '\n'],
    ['embedded_space', good.slice(0, 8) + ' ' + good.slice(8)],
    ['padding_in_middle', good.slice(0, 8) + '=' + good.slice(8)],
    ['empty', ''],
    ['json_not_base64', JSON.stringify(P)],
    ['duplicate_key_last_wins', b64('{"x402Version":2,"x402Version":1}')],
    ['json_with_bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"x402Version":2}')]).toString('base64')],
    ['json_leading_whitespace', b64(' \n{"x402Version":2}')],
    ['invalid_utf8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString('base64')],
    ['json_array', b64('[1,2]')],
    ['json_number', b64('2')],
    ['deep_nesting_1000', b64('['.repeat(1000) + ']'.repeat(1000))],
  ];
  for (const [name, value] of probes) {
    let out;
    try {
      const decoded = coreHttp.decodePaymentSignatureHeader(value);
      out = { ok: true, decoded };
      if (name === 'deep_nesting_1000') out.decoded = '(1000-deep nested arrays)';
      if (['canonical', 'padding_stripped', 'extra_padding', 'leading_space', 'trailing_newline', 'embedded_space'].includes(name)) {
        out.decoded_equals_canonical = JSON.stringify(decoded) === JSON.stringify(P);
        delete out.decoded;
      }
    } catch (e) {
      out = { ok: false, error: `${e.name}: ${e.message}` };
    }
    cases.push({
      name: `decode_signature_header_${name}`,
      kind: 'decoding',
      notes: 'decodePaymentSignatureHeader: regex /^[A-Za-z0-9+/]*={0,2}$/ then atob (WHATWG forgiving-base64) then TextDecoder (non-fatal, U+FFFD) then JSON.parse. Used by x402HTTPResourceServer.extractPayment (a throw there is logged and treated as "no payment").',
      produced_by: '@x402/core/http decodePaymentSignatureHeader',
      input: { header: value.length > 200 ? value.slice(0, 40) + `...(${value.length} chars)` : value, header_sha256: bytesHex(sha256(value)) },
      output: out,
    });
  }
}

// ---------------------------------------------------------------------------
// Client spend controls (defaults of x402Client)
// ---------------------------------------------------------------------------
{
  const mk = (amount, asset = USDC_BASE_SEPOLIA, extra = { name: 'USDC', version: '2' }) => ({
    x402Version: 2,
    resource: { url: `${RESOURCE_ORIGIN}/x`, description: '', mimeType: '' },
    accepts: [{ scheme: 'exact', network: 'eip155:84532', amount, asset, payTo: SELLER, maxTimeoutSeconds: 300, extra }],
  });
  const probes = [
    ['default_cap_1_usd_at_limit', mk('1000000'), 'Exactly $1 of a default asset.'],
    ['default_cap_1_usd_over_limit', mk('1000001'), '$1.000001 of a default asset.'],
    ['non_default_asset', mk('1', '0x1111111111111111111111111111111111111111', { name: 'Token', version: '1' }), 'An asset not in the TS default-asset table.'],
  ];
  for (const [name, pr, notes] of probes) {
    let out;
    queueRandom(`spend:${name}`);
    try {
      captured = [];
      const p = await client.createPaymentPayload(pr);
      out = { created: true, amount: p.accepted.amount };
    } catch (e) {
      out = { created: false, error: e.message };
    }
    rngQueue.splice(0);
    rngServed.splice(0);
    captured = [];
    cases.push({
      name: `client_spend_controls_${name}`,
      kind: 'client_policy',
      notes: `${notes} new x402Client() defaults: spendControls {} -> maxAmountPerPayment "$1" on default assets; only default-table assets allowed unless spendControls.allowedAssets lists them.`,
      produced_by: '@x402/core/client x402Client.createPaymentPayload with default spend controls',
      input: { payment_required: pr },
      output: out,
    });
  }
}

// ---------------------------------------------------------------------------
// Self-checks of the headline wire facts (so a regenerated file cannot silently
// contradict provenance.wire_facts)
// ---------------------------------------------------------------------------
{
  const get = (n) => cases.find((c) => c.name === n);
  const eq = (a, b, what) => { if (JSON.stringify(a) !== JSON.stringify(b)) failures.push(`wire fact "${what}": got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`); };
  const b64re = /^[A-Za-z0-9+/]*={0,2}$/;
  for (const c of cases.filter((c) => c.kind === 'client_payload')) {
    if (!b64re.test(c.header) || c.header.length % 4 !== 0) failures.push(`${c.name}: header not padded standard base64`);
    if (c.output.accepted_equals_offered_json === false) failures.push(`${c.name}: accepted differs from offered`);
  }
  const e = get('v2_exact_eip3009_base_sepolia');
  eq(e.output.key_order['$'], ['x402Version', 'payload', 'resource', 'accepted'], 'v2 payload key order');
  eq(e.output.key_order['$.payload'], ['authorization', 'signature'], 'eip3009 payload key order');
  eq(e.output.key_order['$.payload.authorization'], ['from', 'to', 'value', 'validAfter', 'validBefore', 'nonce'], 'authorization key order');
  eq(e.output.payment_payload.payload.authorization.validAfter, '0', 'v2 validAfter');
  eq(e.output.payment_payload.payload.authorization.validBefore, String(NOW + 300), 'v2 validBefore');
  eq(Object.keys(e.output.settlement.payment_response), ['success', 'payer', 'transaction', 'network'], 'PAYMENT-RESPONSE key order');
  eq(Object.keys(JSON.parse(e.input.payment_required_json)), ['x402Version', 'error', 'resource', 'accepts'], 'PaymentRequired key order');
  eq(Object.keys(JSON.parse(e.input.payment_required_json).accepts[0]), ['scheme', 'network', 'amount', 'asset', 'payTo', 'maxTimeoutSeconds', 'extra'], 'requirements key order');
  eq(get('v2_exact_permit2_base_sepolia').output.key_order['$.payload'], ['signature', 'permit2Authorization'], 'permit2 payload key order');
  eq(get('v1_exact_eip3009_base_sepolia').output.payment_payload.payload.authorization.validAfter, String(NOW - 600), 'v1 validAfter');
  eq(get('v1_exact_eip3009_base_sepolia').output.key_order['$'], ['x402Version', 'scheme', 'network', 'payload'], 'v1 payload key order');
  eq(get('verify_eip3009_signature_high_s_twin').output.facilitator.returned.isValid, true, 'high-s accepted off-chain');
  eq(get('match_accepted_extra_added_key').output.matched, true, 'extra superset matches');
}

// ---------------------------------------------------------------------------
// Assemble
// ---------------------------------------------------------------------------

const kinds = {};
for (const c of cases) kinds[c.kind] = (kinds[c.kind] ?? 0) + 1;

const summary = [
  `Recorded in-process from the official TypeScript packages @x402/core ${LIBRARIES['@x402/core']} and @x402/evm ${LIBRARIES['@x402/evm']} (viem ${LIBRARIES['viem (as resolved by @x402/evm)']}) under node ${process.version}, with Date.now pinned to ${CLOCK_MS} ms (${NOW} s),`,
  'crypto.getRandomValues serving only sha256-derived bytes (recorded per case), Math.random = 0, and public anvil keys.',
  'client_payload cases run the real x402HTTPResourceServer (402 + PAYMENT-REQUIRED), x402HTTPClient/x402Client (PAYMENT-SIGNATURE or X-PAYMENT), the real HTTPFacilitatorClient talking through a replaced fetch() to a real in-process x402Facilitator,',
  'and settlement; every facilitator result that needed the chain used STUBBED chain reads (eth_getCode: code only at the token/Permit2/proxy addresses, eth_call: always succeeds) and stubbed writes/receipts,',
  'so isValid:true there means "passed every off-chain check and the (stubbed) simulation", not "would settle on chain".',
  'Headers are standard padded base64 (btoa) of UTF-8 JSON.stringify output; key order is JS insertion order, recorded per object in key_order.',
  'verify cases record the facilitator result and what the resource server answers for the same tampered header; match cases record findMatchingRequirements on modified `accepted`; decoding cases record how lenient the TS header decoder is; encoding cases give byte-exact header strings for fixed objects.',
].join(' ');

const output = {
  provenance: {
    summary,
    generator: 'tests/vectors/gen/record_x402_ts.mjs',
    regenerate: 'cd tests/vectors/gen && npm ci && node record_x402_ts.mjs',
    recorded: '2026-11-21',
    node: process.version,
    libraries: LIBRARIES,
    npm_overrides: 'package.json pins viem 2.57.1 for @x402/evm only (overrides), because the registry mirror here lacks ox 0.14.67 required by the newest viem; @x402/evm declares viem ^2.48.11. The top-level viem 2.31.0 pin (used by record_noncanonical.mjs) is unchanged and is not used here.',
    determinism: {
      clock: `Date.now() === ${CLOCK_MS}`,
      random: 'globalThis.crypto.getRandomValues replaced: serves only queued bytes = sha256("fastx402-vector-random:" + label)[0..n]; any other call aborts the run. Each case lists the bytes it consumed in input.random_bytes_supplied.',
      math_random: 'Math.random() === 0 (used only by the upto facilitator to pick among its signer addresses; there is one).',
      signatures: 'viem local-account signing is RFC 6979 deterministic (no extra entropy).',
    },
    stubs: {
      chain_reads: 'with stubbed chain reads: viem custom transport answering eth_getCode (0x6080604052 for USDC Base Sepolia, USDC Base, Permit2, the exact and upto Permit2 proxies; 0x for everything else, i.e. the payer is an EOA) and eth_call (always "0x" = success, which is what the EIP-3009/Permit2 simulations need). Every RPC made is listed per case in chain_reads.',
      chain_writes: 'with stubbed chain writes: writeContract records the call and returns sha256("fastx402-vector-tx:" + case); waitForTransactionReceipt returns status "success" with one ERC-20 Transfer(from=payer, to=payTo, value=settled amount) log.',
      facilitator_transport: `HTTPFacilitatorClient({url:"${FACILITATOR_URL}"}) with globalThis.fetch replaced by an in-process router to x402Facilitator.getSupported/verify/settle; responses are JSON.stringify(result) with HTTP 200 (also for isValid:false / success:false). If x402Facilitator throws, this fake HTTP layer answers 500 {"error": message}; the resource server's resulting error string ("Facilitator verify failed (500): ...") therefore reflects this fake, not a real facilitator server. In settlement cases marked fake_facilitator_response the /settle answer is a fixed string instead of the facilitator's. request_body is the exact string the TS server sends.`,
      http_adapter: `Fake HTTPAdapter: method GET, URL ${RESOURCE_ORIGIN}<path>, Accept application/json, User-Agent fastx402-vector-recorder.`,
    },
    wire_facts: [
      'Base64: btoa over UTF-8 bytes => standard alphabet (+ /), "=" padded, no line breaks. Decoders first require /^[A-Za-z0-9+/]*={0,2}$/ (so URL-safe - _, whitespace, 3+ "=" are rejected) but then accept missing padding (atob is forgiving).',
      'JSON: JSON.stringify compact (no spaces), keys in JS insertion order, undefined-valued keys omitted, "/" and U+2028/U+2029 and DEL not escaped, non-ASCII raw UTF-8, numbers in JS shortest form (1e21 -> 1e+21, 150.0 -> 150, -0 -> 0).',
      'v2 PaymentPayload key order: x402Version, payload, [extensions], resource, accepted. extensions is omitted when the 402 declared none. resource is copied from the 402.',
      'accepted is the very object parsed from the PAYMENT-REQUIRED header (the selected accepts[i]) re-serialized by JSON.stringify: same keys, same order, same values; byte-identical to the server JSON only if the server also emitted JS-canonical JSON.',
      'Requirements key order (TS server): scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra. PaymentRequired: x402Version, error, resource{url, description, mimeType}, accepts, [extensions]. error is "Payment required" on the first 402, then the invalidReason / "No matching payment requirements" on rejected payments. Unpaid 402 body is {} with Content-Type application/json and Cache-Control no-store.',
      'EIP-3009 payload key order: {authorization:{from,to,value,validAfter,validBefore,nonce}, signature}; all strings; from = signer address and to = getAddress(payTo) in EIP-55; value copies amount verbatim; validAfter "0" (v2) / now-600 (v1 client); validBefore = now + maxTimeoutSeconds; nonce = lower-case 0x + 64 hex from 32 random bytes; signature 0x + 130 lower-case hex, v = 27/28.',
      'Permit2 (exact and upto) payload key order: {signature, permit2Authorization:{from, permitted:{token, amount}, spender, nonce, deadline, witness:{to, [facilitator,] validAfter}}}; nonce is the DECIMAL string of a random uint256; deadline = now + maxTimeoutSeconds; validAfter "0".',
      'x402Version and maxTimeoutSeconds are JSON numbers; every amount/timestamp/nonce is a string.',
      'PAYMENT-RESPONSE emitted by the TS resource server is the facilitator answer re-parsed by zod (settleResponseSchema) and so re-ordered to success, errorReason, errorMessage, payer, transaction, network, amount, extensions, extra, with unknown keys dropped; the facilitator itself answers success, transaction, network, payer[, amount].',
      'Facilitator reason strings (EIP-3009, v2): invalid_exact_evm_scheme, invalid_exact_evm_missing_eip712_domain, invalid_exact_evm_network_mismatch, invalid_exact_evm_signature, invalid_exact_evm_recipient_mismatch, invalid_exact_evm_payload_authorization_valid_before, invalid_exact_evm_payload_authorization_valid_after, invalid_exact_evm_payload_authorization_value_mismatch (v1: invalid_exact_evm_authorization_value). Check order: scheme, extra name/version, network, signature (before recipient/time/value), recipient, validBefore < now+6, validAfter > now, value != amount, asset has code, simulation.',
      'TS facilitator accepts off-chain: high-s twins, v = 0/1, upper-case hex, lower-case addresses, value "010000" / " 10000 " / "0x2710" / JSON number (BigInt coercion), validBefore ten years out. It throws on "10_000".',
      'findMatchingRequirements: core fields deep-equal ignoring key order (strict types: "300" != 300, "010000" != "10000", case-sensitive addresses); extra: every offered key must be present and deep-equal, extra keys added by the client are accepted.',
    ],
    supported_response: supportedFetch.map((f) => ({ path: f.path, response_body: f.response_body })),
    case_kinds: {
      client_payload: 'A full TS round trip: input.payment_required_header is what the TS server emits; header is what the TS client sends; output.eip712 is exactly what it signed; output.server_after_payment/settlement is what the TS server then does.',
      verify: 'A tampered copy of a recorded payment: output.facilitator is x402Facilitator.verify (returned = result after a JSON round trip, json = JSON.stringify of it: undefined-valued keys vanish); output.server is x402HTTPResourceServer.processHTTPRequest for the same header (error = the `error` field of the PAYMENT-REQUIRED it answers with).',
      match: 'x402ResourceServer.findMatchingRequirements([offered], payload with a modified accepted).',
      encoding: 'Core header encoders on fixed objects: header is byte-exact.',
      decoding: 'decodePaymentSignatureHeader on malformed inputs.',
      settlement: 'x402HTTPResourceServer.processSettlement outcomes (stubbed chain or fake facilitator answers): PAYMENT-RESPONSE header and failure response.',
      client_policy: 'x402Client default spend controls.',
    },
    counts: kinds,
  },
  keys: {
    payer: { private_key: KEYS.payer, address: PAYER, note: 'anvil account #0' },
    seller: { private_key: KEYS.seller, address: SELLER, note: 'anvil account #1 (payTo)' },
    facilitator: { private_key: KEYS.facilitator, address: FACILITATOR, note: 'anvil account #2 (facilitator signer; upto extra.facilitatorAddress)' },
  },
  clock_ms: CLOCK_MS,
  clock_s: NOW,
  constants: {
    permit2: evm.PERMIT2_ADDRESS,
    exact_permit2_proxy: evm.x402ExactPermit2ProxyAddress,
    upto_permit2_proxy: evm.x402UptoPermit2ProxyAddress,
    usdc_base_sepolia: USDC_BASE_SEPOLIA,
    usdc_base: USDC_BASE,
    default_assets: jsonSafe(evm.DEFAULT_ASSETS),
    base64_regex_used_by_decoders: String(coreUtils.Base64EncodedRegex),
  },
  cases,
};

const text = JSON.stringify(output, null, 2) + '\n';

if (failures.length) {
  console.error('FAILURES:\n  ' + failures.join('\n  '));
  process.exit(1);
}
writeFileSync(OUT, text);
console.log(`wrote ${OUT}: ${cases.length} cases ${JSON.stringify(kinds)}`);
