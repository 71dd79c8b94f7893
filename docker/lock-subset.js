#!/usr/bin/env node
/*
 * Writes a package.json and package-lock.json holding only the named packages and what they depend on, with the
 * exact versions, tarballs and integrity hashes of the repository's lockfile, so an image installs a few
 * packages (the compiler, the dev chain) with `npm ci` instead of every dev dependency, still pinned.
 *
 *   node docker/lock-subset.js <out-dir> <package>...
 *   node docker/lock-subset.js <out-dir> --production     (every entry of package.json's dependencies)
 */
'use strict';
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const [outDir, ...args] = process.argv.slice(2);
const repo = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const roots = args[0] === '--production' ? Object.keys(pkg.dependencies ?? {}) : args;
if (!outDir || roots.length === 0) {
  process.stderr.write('usage: lock-subset.js <out-dir> <package>... | --production\n');
  process.exit(2);
}
const lock = JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8'));
const packages = lock.packages;

/** Node's resolution: the nearest node_modules/<name> from `from` upwards. */
function resolveFrom(from, name) {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) return undefined;
    const up = dir.lastIndexOf('/node_modules/');
    dir = up === -1 ? '' : dir.slice(0, up);
  }
}

const wanted = new Set();
const queue = roots.map((name) => {
  const at = resolveFrom('', name);
  if (!at) throw new Error(`${name} is not in package-lock.json`);
  return at;
});
while (queue.length) {
  const at = queue.pop();
  if (wanted.has(at)) continue;
  wanted.add(at);
  const entry = packages[at];
  const optionalPeers = entry.peerDependenciesMeta ?? {};
  const deps = {
    ...entry.dependencies,
    ...entry.optionalDependencies,
    ...Object.fromEntries(
      Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !optionalPeers[n]?.optional),
    ),
  };
  for (const name of Object.keys(deps)) {
    const dep = resolveFrom(at, name);
    if (dep) queue.push(dep);
    else if (!(entry.optionalDependencies ?? {})[name])
      throw new Error(`${at} needs ${name}, which package-lock.json does not hold`);
  }
}

const spec = (name) =>
  pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] ?? packages[`node_modules/${name}`].version;
const dependencies = Object.fromEntries(roots.map((name) => [name, spec(name)]));
const subsetPkg = { name: `${pkg.name}-subset`, version: pkg.version, private: true, dependencies };
const subsetPackages = { '': { name: subsetPkg.name, version: subsetPkg.version, dependencies } };
for (const at of [...wanted].sort()) {
  // Every package is a production dependency of the subset; optional ones (other platforms' binaries) stay so.
  const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = packages[at];
  subsetPackages[at] = entry;
}
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(subsetPkg, null, 2)}\n`);
writeFileSync(
  path.join(outDir, 'package-lock.json'),
  `${JSON.stringify({ name: subsetPkg.name, version: subsetPkg.version, lockfileVersion: 3, requires: true, packages: subsetPackages }, null, 2)}\n`,
);
process.stdout.write(`${wanted.size} packages for ${roots.join(', ')}\n`);
