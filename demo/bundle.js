'use strict';

// The demo's bundles, so that an installed gosfu runs the demo with none of
// its devDependencies (esbuild, mediasoup-client, ws):
//
//   node demo/bundle.js   (npm's "prepack": npm pack and npm publish run it)
//
// writes
//   demo/dist/app.js       the page script with mediasoup-client, as
//                          demo/server.js bundles it at start-up in the
//                          repository (the same options, pageOptions(), but
//                          no source map);
//   demo/dist/server.js    demo/server.js for Node with ws inlined. Its own
//                          relative requires stay files of the package: gosfu
//                          itself ('..', the package the bundle sits in) and
//                          this file ('./bundle', never called from there);
//                          ws's optional native add-ons stay optional;
//   demo/dist/THIRD-PARTY-LICENSES.txt  the licenses of what the bundles
//                          include.
// demo/run.js (`npx gosfu-demo`) picks demo/server.js or demo/dist/server.js.

const fs = require('node:fs');
const path = require('node:path');

const DEMO_DIR = __dirname;
const ROOT = path.dirname(DEMO_DIR);
const DIST_DIR = path.join(DEMO_DIR, 'dist');

/** esbuild's options for the page script (demo/public/app.js). */
function pageOptions() {
  return {
    entryPoints: [path.join(DEMO_DIR, 'public', 'app.js')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'inline',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  };
}

/** Bundles the page script in memory; resolves with its bytes. */
async function buildPage() {
  const esbuild = require('esbuild');
  const result = await esbuild.build({ ...pageOptions(), outfile: 'app.js', write: false });
  return Buffer.from(result.outputFiles[0].contents);
}

/**
 * demo/server.js's relative requires resolve, from demo/dist/, to the same
 * files of the package, outside the bundle.
 */
const serverRequiresOutside = {
  name: 'server-requires-outside',
  setup(build) {
    const entry = path.join(DEMO_DIR, 'server.js');
    build.onResolve({ filter: /^\.\.?(\/|$)/ }, (args) => {
      if (args.importer !== entry) return undefined;
      const target = path.resolve(DEMO_DIR, args.path);
      return { path: path.relative(DIST_DIR, target).split(path.sep).join('/'), external: true };
    });
  },
};

/** The packages under node_modules/ that an esbuild metafile's inputs come from. */
function bundledPackages(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = input.split('/');
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) continue;
    const width = parts[at + 1].startsWith('@') ? 2 : 1;
    dirs.add(parts.slice(0, at + 1 + width).join('/'));
  }
  return [...dirs].sort();
}

function licensesText(packageDirs) {
  const sections = packageDirs.map((dir) => {
    const abs = path.join(ROOT, dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(abs, 'package.json'), 'utf8'));
    const file = fs.readdirSync(abs).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? fs.readFileSync(path.join(abs, file), 'utf8').trim() : `(no license file; package.json says: ${pkg.license})`;
    return `${pkg.name}@${pkg.version} (${pkg.license})\n\n${text}\n`;
  });
  return `The demo's bundles (demo/dist/app.js, demo/dist/server.js) include these packages.\n\n${
    sections.join(`\n${'-'.repeat(72)}\n\n`)}`;
}

async function main() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch (error) {
    throw new Error('esbuild is not installed: the demo bundles need the devDependencies (npm install in the repository)');
  }
  fs.rmSync(DIST_DIR, { recursive: true, force: true });
  fs.mkdirSync(DIST_DIR, { recursive: true });
  const common = { absWorkingDir: ROOT, metafile: true, logLevel: 'warning' };
  // Without the inline source map: it would add 250 kB to the npm tarball
  // (gzipped) for debugging, which the repository's start-up bundle serves.
  const page = await esbuild.build({
    ...pageOptions(), ...common, sourcemap: false, outfile: path.join(DIST_DIR, 'app.js'),
  });
  const server = await esbuild.build({
    ...common,
    entryPoints: [path.join(DEMO_DIR, 'server.js')],
    outfile: path.join(DIST_DIR, 'server.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ws loads these native speed-ups when they are installed.
    external: ['bufferutil', 'utf-8-validate'],
    plugins: [serverRequiresOutside],
    banner: { js: '// Made by demo/bundle.js from demo/server.js (with ws): edit that file, not this one.' },
  });
  const packages = [...new Set([...bundledPackages(page.metafile), ...bundledPackages(server.metafile)])].sort();
  fs.writeFileSync(path.join(DIST_DIR, 'THIRD-PARTY-LICENSES.txt'), licensesText(packages));
  for (const f of ['app.js', 'server.js']) {
    const size = fs.statSync(path.join(DIST_DIR, f)).size;
    console.error(`gosfu demo bundle: demo/dist/${f}: ${size} bytes`);
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(`gosfu demo bundle: ${error.message}`);
    process.exit(1);
  });
}

module.exports = { pageOptions, buildPage };
