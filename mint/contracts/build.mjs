#!/usr/bin/env node
// Compile the TwinMint contracts offline with the pinned solc-js (wasm) and OpenZeppelin from
// node_modules, and write one artifact per contract to artifacts/<Name>.json: the ABI, creation
// and runtime bytecode, and the exact compiler settings, formatted deterministically so the
// committed artifacts can be compared byte for byte.
//
//   node build.mjs           rebuild artifacts/
//   node build.mjs --check   rebuild in memory; exit 1 naming every artifact that differs
//
// The Rust client embeds artifacts/TwinMintNFR.json through alloy's `sol!`, and
// mint/tests/chain_artifacts.rs runs `--check`, so sources and artifacts cannot drift apart.

import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// Pinned: the artifact records these, and --check fails if another solc sneaks in.
const SOLC_VERSION = "0.8.37";
const CONTRACTS = ["TwinMintNFR"];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  // Source unit names are repository-relative, so the metadata hash (and the bytecode) does
  // not depend on where the checkout lives.
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

function loadSolc() {
  let solc;
  try {
    solc = require("solc");
  } catch {
    fail(`solc is not installed: run \`npm ci --prefix ${relative(process.cwd(), here) || "."}\` first`);
  }
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    fail(`expected solc ${SOLC_VERSION}, found ${version}: run \`npm ci\` in ${here}`);
  }
  return solc;
}

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(2);
}

/** Every .sol under src/, keyed by its source unit name `src/...` (forward slashes). */
function sources() {
  const out = {};
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".sol")) {
        out[relative(here, path).split(sep).join("/")] = { content: readFileSync(path, "utf8") };
      }
    }
  };
  walk(join(here, "src"));
  return out;
}

/** Resolve `@openzeppelin/...` imports from node_modules (never from the network). */
function findImport(path) {
  const candidates = [join(here, "node_modules", path), join(here, path)];
  for (const file of candidates) {
    if (existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `import not found: ${path} (run \`npm ci\` in ${here})` };
}

function compile() {
  const solc = loadSolc();
  const input = { language: "Solidity", sources: sources(), settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) {
    if (e.severity !== "error") console.error(e.formattedMessage);
  }
  if (errors.length) {
    for (const e of errors) console.error(e.formattedMessage);
    fail(`${errors.length} compiler error(s)`);
  }
  const artifacts = {};
  for (const name of CONTRACTS) {
    const unit = Object.keys(output.contracts).find((file) => output.contracts[file][name]);
    if (!unit) fail(`contract ${name} not found in src/`);
    const c = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      sourceName: unit,
      compiler: { solc: solc.version(), settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion } },
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    };
    artifacts[name] = `${JSON.stringify(artifact, null, 2)}\n`;
  }
  return artifacts;
}

const check = process.argv.includes("--check");
const artifacts = compile();
const dir = join(here, "artifacts");
let stale = [];
for (const [name, text] of Object.entries(artifacts)) {
  const file = join(dir, `${name}.json`);
  if (check) {
    const committed = existsSync(file) ? readFileSync(file, "utf8") : null;
    if (committed !== text) stale.push(relative(process.cwd(), file) || file);
  } else {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${relative(process.cwd(), file)} (${text.length} bytes)`);
  }
}
if (stale.length) {
  console.error(
    `build.mjs --check: compiled artifacts differ from the committed ones: ${stale.join(", ")}\n` +
      "rebuild them with `node mint/contracts/build.mjs` and commit the result",
  );
  process.exit(1);
}
if (check) console.log(`artifacts up to date (${Object.keys(artifacts).join(", ")}, solc ${SOLC_VERSION})`);
