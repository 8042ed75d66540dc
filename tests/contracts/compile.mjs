// Compiles TestUSDC.sol, Multicall3.sol, WalletFactory.sol and RevertingWallet.sol offline with
// solc-js (npm `solc`, pinned in package.json) and writes one artifact per contract to build/<Contract>.json:
// {contractName, abi, bytecode, deployedBytecode, compiler, settings}. Run by `make chain-tools`
// and, when an artifact is missing or stale, by tests/chain.py. Exit status 1 on any compiler error.
//
//   node tests/contracts/compile.mjs

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const solc = require("solc");

const EXPECTED_SOLC = "0.8.37";
const SOURCES = ["TestUSDC.sol", "Multicall3.sol", "WalletFactory.sol", "RevertingWallet.sol"];
// Cancun: supported by anvil and by every chain x402 settles on; pinned so that a solc upgrade
// cannot silently change the opcodes the tests run. The optimizer is off: it doubles compile time
// and gas does not matter on a test chain.
const settings = {
  evmVersion: "cancun",
  optimizer: { enabled: false, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

const version = solc.version();
if (!version.startsWith(EXPECTED_SOLC + "+")) {
  console.error(`compile.mjs: expected solc ${EXPECTED_SOLC}, found ${version}; run npm ci`);
  process.exit(1);
}

const input = {
  language: "Solidity",
  sources: Object.fromEntries(
    SOURCES.map((file) => [file, { content: readFileSync(join(here, file), "utf8") }]),
  ),
  settings,
};

// No import callback: the sources are self-contained, nothing is read from the network or disk.
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const diagnostics = output.errors ?? [];
for (const d of diagnostics) {
  console.error(d.formattedMessage ?? d.message);
}
if (diagnostics.some((d) => d.severity === "error")) {
  process.exit(1);
}

const buildDir = join(here, "build");
mkdirSync(buildDir, { recursive: true });
const written = [];
for (const file of SOURCES) {
  for (const [contractName, contract] of Object.entries(output.contracts[file] ?? {})) {
    const artifact = {
      contractName,
      sourceName: file,
      abi: contract.abi,
      bytecode: "0x" + contract.evm.bytecode.object,
      deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
      compiler: { name: "solc-js", version },
      settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer },
    };
    const target = join(buildDir, `${contractName}.json`);
    // Write then rename: a concurrent reader never sees a half-written artifact.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(artifact, null, 2) + "\n");
    renameSync(tmp, target);
    written.push(contractName);
  }
}
const expected = ["TestUSDC", "MockERC1271Wallet", "Multicall3", "WalletFactory", "RevertingWallet"];
const missing = expected.filter((c) => !written.includes(c));
if (missing.length) {
  console.error(`compile.mjs: not produced: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`compiled ${written.join(", ")} with solc ${version} -> ${buildDir}`);
