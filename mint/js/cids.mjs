#!/usr/bin/env node
// Reference CIDs from the npm `ipfs-unixfs-importer`, for mint/tests/cid_importer.rs.
//
//   node mint/js/cids.mjs [--chunk-size BYTES] [--max-children N] PATH...
//
// Prints one JSON array to stdout: for each PATH (file or folder), the importer's root CID and,
// for folders, every entry it yields (files and sub-folders, paths relative to PATH's parent).
// Options are TwinMint's package profile: CIDv1, raw leaves, fixed 1 MiB chunks, balanced
// layout with at most 174 links per node, single-chunk files reduced to their raw leaf, no
// mode/mtime metadata, no wrapping directory. `--chunk-size`/`--max-children` exist only so the
// test can exercise multi-level layouts with small files.

import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { MemoryBlockstore } from 'blockstore-core'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

function usage (msg) {
  process.stderr.write(`cids.mjs: ${msg}\nusage: node cids.mjs [--chunk-size BYTES] [--max-children N] PATH...\n`)
  process.exit(2)
}

let chunkSize = 1048576
let maxChildrenPerNode = 174
const paths = []
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  if (a === '--chunk-size' || a === '--max-children') {
    const v = Number(argv[++i])
    if (!Number.isSafeInteger(v) || v < 1) usage(`${a} needs a positive integer`)
    if (a === '--chunk-size') chunkSize = v
    else maxChildrenPerNode = v
  } else if (a.startsWith('--')) {
    usage(`unknown option ${a}`)
  } else {
    paths.push(a)
  }
}
if (paths.length === 0) usage('no PATH given')

// Import candidates for `fsPath`, named `name` in the import: files with content, and folders
// only when empty (a folder with contents is created by its files' paths; an explicit entry
// after its files would replace them).
async function * candidates (fsPath, name) {
  const st = await lstat(fsPath)
  if (st.isSymbolicLink()) throw new Error(`${fsPath}: symbolic links are not imported`)
  if (st.isFile()) {
    yield { path: name, content: createReadStream(fsPath) }
    return
  }
  if (!st.isDirectory()) throw new Error(`${fsPath}: not a file or folder`)
  const children = (await readdir(fsPath)).sort()
  if (children.length === 0) {
    yield { path: name }
    return
  }
  for (const child of children) {
    yield * candidates(join(fsPath, child), `${name}/${child}`)
  }
}

const options = {
  cidVersion: 1,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  wrapWithDirectory: false,
  chunker: fixedSize({ chunkSize }),
  layout: balanced({ maxChildrenPerNode })
}

const out = []
for (const p of paths) {
  const name = basename(p)
  const entries = []
  for await (const e of importer(candidates(p, name), new MemoryBlockstore(), options)) {
    entries.push({ path: e.path, cid: e.cid.toString(), size: Number(e.size) })
  }
  const root = entries.find(e => e.path === name)
  if (root == null) throw new Error(`${p}: the importer yielded no root entry`)
  out.push({ path: p, cid: root.cid, size: root.size, entries })
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n')
