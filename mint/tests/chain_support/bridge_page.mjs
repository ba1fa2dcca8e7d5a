// Runs the browser-wallet bridge page's script in Node with a fake EIP-1193 wallet, as a browser
// would: the test serves the page, this harness clicks "Send", answers the wallet requests and
// lets the script post the hash back to the real bridge server.
//
//   node bridge_page.mjs BASE_URL PAGE_FILE FROM HASH [reject]
// Prints {"calls": [...], "sent": {...}, "status": "..."} as JSON.

import { readFileSync } from "node:fs";

const [base, pageFile, account, hash, mode] = process.argv.slice(2);
const page = readFileSync(pageFile, "utf8");
const txJson = page.match(/<script id="tx" type="application\/json">([\s\S]*?)<\/script>/)[1];
const script = page.match(/<script>\s*("use strict";[\s\S]*?)<\/script>/)[1];

const calls = [];
let sent = null;
let click = null;
const status = { textContent: "", className: "" };
const button = {
  disabled: false,
  addEventListener(event, handler) {
    if (event === "click") click = handler;
  },
};
globalThis.document = {
  getElementById(id) {
    if (id === "tx") return { textContent: txJson };
    if (id === "send") return button;
    if (id === "status") return status;
    throw new Error(`unexpected element ${id}`);
  },
};
globalThis.window = {
  ethereum: {
    async request({ method, params }) {
      calls.push(method);
      switch (method) {
        case "eth_requestAccounts":
          return [account];
        case "eth_chainId":
          return "0x1"; // a different chain: the page must ask to switch
        case "wallet_switchEthereumChain":
          return null;
        case "eth_sendTransaction":
          sent = params[0];
          if (mode === "reject") throw new Error("User rejected the request.");
          return hash;
        default:
          throw new Error(`unexpected wallet method ${method}`);
      }
    },
  },
};
// The page posts to relative paths; resolve them against the bridge.
const realFetch = globalThis.fetch;
globalThis.fetch = (path, options) => realFetch(new URL(path, base), options);

(0, eval)(script);
if (!click) throw new Error("the page registered no click handler");
await click();
console.log(JSON.stringify({ calls, sent, status: status.textContent }));
