'use strict';

// gosfu's package surface against mediasoup 3.27.1's: the subpath modules of
// package.json "exports" (".", "./types", "./errors", "./ortc", "./extras"),
// from CommonJS and from ESM (named imports included), their TypeScript
// declarations (tsc --strict with node16 resolution, which honours
// "exports"), the names of mediasoup's `types`, and, when mediasoup 3.27.1's
// package is at hand, the shape of every type against mediasoup's own.
//
// The TypeScript checks are skipped when typescript is not installed,
// except with CI=true (then they fail). The shape comparison needs
// mediasoup's package, which is no dependency of gosfu: without it that one
// check is skipped (also under CI); MEDIASOUP_PACKAGE_DIR may name it.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');

// Every name mediasoup 3.27.1's 'mediasoup/types' exports (node/lib/types.d.ts,
// listed once with the TypeScript compiler API).
const MEDIASOUP_TYPES = [
  'ActiveSpeakerObserver', 'ActiveSpeakerObserverDominantSpeaker', 'ActiveSpeakerObserverEvents',
  'ActiveSpeakerObserverObserver', 'ActiveSpeakerObserverObserverEvents',
  'ActiveSpeakerObserverOptions', 'AppData', 'AudioLevelObserver', 'AudioLevelObserverEvents',
  'AudioLevelObserverObserver', 'AudioLevelObserverObserverEvents', 'AudioLevelObserverOptions',
  'AudioLevelObserverVolume', 'BaseConsumerDump', 'BaseRtpStreamStats', 'BaseTransportDump',
  'BaseTransportStats', 'BitrateByLayer', 'Consumer', 'ConsumerDump', 'ConsumerEvents',
  'ConsumerLayers', 'ConsumerObserver', 'ConsumerObserverEvents', 'ConsumerOptions',
  'ConsumerScore', 'ConsumerStat', 'ConsumerTraceEventData', 'ConsumerTraceEventType',
  'ConsumerType', 'DataConsumer', 'DataConsumerDump', 'DataConsumerEvents', 'DataConsumerObserver',
  'DataConsumerObserverEvents', 'DataConsumerOptions', 'DataConsumerStat', 'DataConsumerType',
  'DataProducer', 'DataProducerDump', 'DataProducerEvents', 'DataProducerObserver',
  'DataProducerObserverEvents', 'DataProducerOptions', 'DataProducerStat', 'DataProducerType',
  'DirectTransport', 'DirectTransportDump', 'DirectTransportEvents', 'DirectTransportObserver',
  'DirectTransportObserverEvents', 'DirectTransportOptions', 'DirectTransportStat',
  'DtlsFingerprint', 'DtlsParameters', 'DtlsRole', 'DtlsState', 'Either', 'FingerprintAlgorithm',
  'IceCandidate', 'IceCandidateTcpType', 'IceCandidateType', 'IceParameters', 'IceRole', 'IceState',
  'IceUserNameFragment', 'Index', 'IpPort', 'LogEventListeners', 'MediaKind', 'NotFoundError',
  'Observer', 'ObserverEvents', 'PipeConsumerDump', 'PipeConsumerOptions', 'PipeToRouterOptions',
  'PipeToRouterResult', 'PipeTransport', 'PipeTransportDump', 'PipeTransportEvents',
  'PipeTransportObserver', 'PipeTransportObserverEvents', 'PipeTransportOptions',
  'PipeTransportPair', 'PipeTransportStat', 'PlainTransport', 'PlainTransportDump',
  'PlainTransportEvents', 'PlainTransportObserver', 'PlainTransportObserverEvents',
  'PlainTransportOptions', 'PlainTransportStat', 'Producer', 'ProducerDump', 'ProducerEvents',
  'ProducerObserver', 'ProducerObserverEvents', 'ProducerOptions', 'ProducerScore', 'ProducerStat',
  'ProducerTraceEventData', 'ProducerTraceEventType', 'ProducerType', 'ProducerVideoOrientation',
  'RecvRtpHeaderExtensions', 'Router', 'RouterDump', 'RouterEvents', 'RouterObserver',
  'RouterObserverEvents', 'RouterOptions', 'RouterRtpCapabilities', 'RouterRtpCodecCapability',
  'RtcpFeedback', 'RtcpParameters', 'RtpCapabilities', 'RtpCodecCapability', 'RtpCodecParameters',
  'RtpEncodingParameters', 'RtpHeaderExtension', 'RtpHeaderExtensionDirection',
  'RtpHeaderExtensionParameters', 'RtpHeaderExtensionUri', 'RtpListenerDump', 'RtpObserver',
  'RtpObserverEvents', 'RtpObserverObserver', 'RtpObserverObserverEvents', 'RtpObserverType',
  'RtpParameters', 'RtpStreamDump', 'RtpStreamParametersDump', 'RtpStreamRecvStats',
  'RtpStreamSendStats', 'RtxStreamDump', 'RtxStreamParameters', 'ScalabilityMode',
  'SctpListenerDump', 'SctpNegotiatedCapabilities', 'SctpParameters', 'SctpState',
  'SctpStreamParameters', 'SimpleConsumerDump', 'SimulcastConsumerDump', 'SrtpCryptoSuite',
  'SrtpParameters', 'SvcConsumerDump', 'Transport', 'TransportEvents', 'TransportListenInfo',
  'TransportListenIp', 'TransportObserver', 'TransportObserverEvents', 'TransportPortRange',
  'TransportProtocol', 'TransportSocketFlags', 'TransportTraceEventData', 'TransportTraceEventType',
  'TransportTuple', 'TransportType', 'UnsupportedError', 'WebRtcServer', 'WebRtcServerDump',
  'WebRtcServerEvents', 'WebRtcServerListenInfo', 'WebRtcServerObserver',
  'WebRtcServerObserverEvents', 'WebRtcServerOptions', 'WebRtcTransport', 'WebRtcTransportDump',
  'WebRtcTransportEvents', 'WebRtcTransportObserver', 'WebRtcTransportObserverEvents',
  'WebRtcTransportOptions', 'WebRtcTransportStat', 'Worker', 'WorkerClosedError', 'WorkerDump',
  'WorkerEvents', 'WorkerLogLevel', 'WorkerLogTag', 'WorkerObserver', 'WorkerObserverEvents',
  'WorkerResourceUsage', 'WorkerSettings', 'WorkerUpdateableSettings',
];

// The values require('mediasoup') has (node/lib/index.d.ts).
const MEDIASOUP_INDEX = [
  'createWorker', 'errors', 'extras', 'getSupportedRtpCapabilities', 'observer', 'ortc',
  'parseScalabilityMode', 'setLogEventListeners', 'version', 'workerBin',
];
const MEDIASOUP_ERRORS = ['NotFoundError', 'UnsupportedError', 'WorkerClosedError'];
const MEDIASOUP_EXTRAS = ['EnhancedEventEmitter', 'enhancedOnce'];
// mediasoup's ORTC helpers. gosfu's ORTC logic is in Go (gosfu/ortc); its
// engine answers them without a worker, except the one that has no
// counterpart.
const MEDIASOUP_ORTC = [
  'canConsume', 'generateRouterRtpCapabilities', 'getConsumableRtpParameters',
  'getConsumerRtpParameters', 'getPipeConsumerRtpParameters', 'getProducerRtpParametersMapping',
  'serializeRtpMapping', 'validateAndNormalizeRtpCapabilities', 'validateAndNormalizeRtpParameters',
  'validateAndNormalizeSctpStreamParameters',
];
const ORTC_ABSENT = {
  serializeRtpMapping: 'flatbuffers encoding of mediasoup\'s worker channel: nothing to encode in-process',
};

// What gosfu's types still lack against mediasoup's, each declared here as an
// augmentation so that the shape comparison checks everything else (a gap
// missing in one type fails every type that reaches it). isGap() says
// whether the runtime still lacks it: when it does not, drop the entry and
// declare the member in types.d.ts.
const KNOWN_GAPS = [];

const SUBPATHS = ['.', './types', './errors', './ortc', './extras'];
const specifier = (subpath) => (subpath === '.' ? 'gosfu' : `gosfu/${subpath.slice(2)}`);

let ts = null;
try {
  ts = require(require.resolve('typescript', { paths: [root] }));
} catch (error) {
  if (process.env.CI === 'true') throw new Error('typescript is not installed (npm install)');
}

// A scratch app whose node_modules/gosfu is this repository, so that 'gosfu'
// and its subpaths resolve through package.json "exports" as in an install.
function makeApp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-surface-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'gosfu'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'),
    JSON.stringify({ name: 'surface-app', private: true, type: 'commonjs' }));
  return dir;
}

function run(args, cwd) {
  const res = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  assert.equal(res.error, undefined, res.error && res.error.message);
  return { status: res.status, stdout: res.stdout, output: `${res.stdout}${res.stderr}`.trim() };
}

function tsc(dir, files) {
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
      skipLibCheck: false,
    },
    files,
  }));
  return run([require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', dir, '--pretty', 'false'], dir);
}

// Exported names of one of the package's declaration files, and which of
// them are values (one program for all of them).
let declarations = null;
function declaredExports(file) {
  if (!declarations) {
    declarations = ts.createProgram(SUBPATHS.map((s) => path.join(root, pkg.exports[s].types)), {
      noEmit: true, types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')],
    });
  }
  const program = declarations;
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file));
  const all = [];
  const values = [];
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    all.push(symbol.name);
    if (target.flags & ts.SymbolFlags.Value) values.push(symbol.name);
  }
  return { all: all.sort(), values: values.sort() };
}

describe('package surface (mediasoup 3.27.1\'s)', function () {
  let app;

  before(() => {
    app = makeApp();
  });

  after(() => {
    if (app) fs.rmSync(app, { recursive: true, force: true });
  });

  it('package.json exports mediasoup\'s subpaths, each {types, default}, and the files are packed', () => {
    assert.deepEqual(Object.keys(pkg.exports), [...SUBPATHS, './package.json']);
    for (const subpath of SUBPATHS) {
      const target = pkg.exports[subpath];
      assert.deepEqual(Object.keys(target), ['types', 'default'], subpath);
      for (const file of Object.values(target)) {
        assert.ok(fs.existsSync(path.join(root, file)), `${subpath}: ${file} does not exist`);
      }
    }
    const npmCli = process.env.npm_execpath && fs.existsSync(process.env.npm_execpath)
      ? [process.execPath, [process.env.npm_execpath]]
      : ['npm', []];
    const res = spawnSync(npmCli[0], [...npmCli[1], 'pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root, encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const packed = new Set(JSON.parse(res.stdout)[0].files.map((f) => f.path));
    for (const subpath of SUBPATHS) {
      for (const file of Object.values(pkg.exports[subpath])) {
        assert.ok(packed.has(file.slice(2)), `npm pack leaves out ${file} ("files" in package.json)`);
      }
    }
  });

  it('require() of every subpath gives mediasoup\'s names; paths outside "exports" do not resolve', () => {
    const script = `
      const out = {};
      for (const s of ${JSON.stringify(SUBPATHS.map(specifier))}) out[s] = Object.keys(require(s));
      try { require('gosfu/lib/Router'); out.deep = 'resolved'; } catch (e) { out.deep = e.code; }
      out.version = require('gosfu/package.json').version;
      console.log(JSON.stringify(out));
    `;
    const res = run(['-e', script], app);
    assert.equal(res.status, 0, res.output);
    const keys = JSON.parse(res.stdout);
    const missing = (have, want) => want.filter((name) => !have.includes(name));
    assert.deepEqual(missing(keys.gosfu, MEDIASOUP_INDEX), [], 'require(\'gosfu\') lacks mediasoup\'s names');
    assert.deepEqual(missing(keys['gosfu/errors'], MEDIASOUP_ERRORS), []);
    assert.deepEqual(missing(keys['gosfu/extras'], MEDIASOUP_EXTRAS), []);
    for (const name of MEDIASOUP_ORTC) {
      assert.equal(keys['gosfu/ortc'].includes(name), !ORTC_ABSENT[name],
        ORTC_ABSENT[name] ? `ortc.${name} exists now: remove it from ORTC_ABSENT` : `ortc.${name} is missing`);
    }
    assert.equal(keys.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.equal(keys.version, pkg.version);

    const gosfu = require('..');
    assert.strictEqual(gosfu.errors, require('../errors'));
    assert.strictEqual(gosfu.ortc, require('../ortc'));
    assert.strictEqual(gosfu.extras, require('../extras'));
    assert.strictEqual(gosfu.types, require('../types'));
    assert.strictEqual(gosfu.errors.WorkerClosedError, gosfu.types.WorkerClosedError);
    assert.ok(fs.existsSync(gosfu.workerBin), `workerBin ${gosfu.workerBin} does not exist`);
    assert.equal(path.basename(gosfu.workerBin), 'libgosfu.so');
    for (const name of MEDIASOUP_ERRORS) {
      const ErrorClass = gosfu.errors[name];
      assert.equal(typeof ErrorClass, 'function', `errors.${name} is not a class`);
      const error = new ErrorClass('message');
      assert.ok(error instanceof Error);
      assert.equal(error.name, name);
      assert.equal(error.message, 'message');
    }
  });

  it('a closed Worker rejects requests with WorkerClosedError, as mediasoup\'s', async () => {
    const { createWorker, errors: { WorkerClosedError } } = require('..');
    assert.equal(typeof WorkerClosedError, 'function', 'errors.WorkerClosedError is not a class');
    const worker = await createWorker();
    worker.close();
    await assert.rejects(worker.createRouter(), WorkerClosedError);
    await assert.rejects(worker.dump(), WorkerClosedError);
  });

  it('ESM: named imports of every name of every subpath, the same values as require()', () => {
    const imports = [];
    const checks = [];
    SUBPATHS.forEach((subpath, i) => {
      const spec = specifier(subpath);
      const names = Object.keys(require(path.join(root, pkg.exports[subpath].default)));
      assert.ok(names.length > 0, spec);
      imports.push(`import * as ns${i} from '${spec}';`);
      imports.push(`import { ${names.map((n) => `${n} as v${i}_${n}`).join(', ')} } from '${spec}';`);
      for (const name of names) {
        checks.push(`if (v${i}_${name} !== require('${spec}').${name}) bad.push('${spec}: ${name}');`);
      }
      // Node 26 adds a 'module.exports' name beside 'default'.
      checks.push(`out['${spec}'] = Object.keys(ns${i})`
        + ".filter((k) => k !== 'default' && k !== 'module.exports').sort();");
    });
    const script = [
      ...imports,
      "import gosfu from 'gosfu';",
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'const bad = []; const out = {};',
      ...checks,
      "if (gosfu !== require('gosfu')) bad.push('default import');",
      "let deep = 'resolved';",
      "try { await import('gosfu/lib/Router.js'); } catch (e) { deep = e.code; }",
      'console.log(JSON.stringify({ bad, out, deep }));',
    ].join('\n');
    const res = run(['--input-type=module', '-e', script], app);
    assert.equal(res.status, 0, res.output);
    const { bad, out, deep } = JSON.parse(res.stdout);
    assert.deepEqual(bad, [], 'ESM and CommonJS give different values');
    for (const subpath of SUBPATHS) {
      const spec = specifier(subpath);
      const cjs = Object.keys(require(path.join(root, pkg.exports[subpath].default))).sort();
      assert.deepEqual(out[spec], cjs, `${spec}: ESM namespace differs from module.exports`);
    }
    assert.equal(deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  describe('TypeScript', function () {
    before(function () {
      if (!ts) {
        console.log('      typescript is not installed: skipping (npm install to run it)');
        this.skip();
      }
    });

    it('gosfu/types exports every name of mediasoup 3.27.1\'s types', () => {
      const { all } = declaredExports(path.join(root, pkg.exports['./types'].types));
      const missing = MEDIASOUP_TYPES.filter((name) => !all.includes(name));
      assert.deepEqual(missing, [], `types.d.ts lacks ${missing.length} of mediasoup's names`);
    });

    it('each declaration file declares exactly the values its module has at runtime', () => {
      for (const subpath of SUBPATHS) {
        const { values } = declaredExports(path.join(root, pkg.exports[subpath].types));
        const runtime = Object.keys(require(path.join(root, pkg.exports[subpath].default))).sort();
        assert.deepEqual(values, runtime, `${subpath}: declared values vs module.exports`);
      }
    });

    it('a sample using the subpaths compiles under tsc --strict, as CommonJS and as ESM', () => {
      const sample = fs.readFileSync(path.join(__dirname, 'types', 'package-surface.ts'), 'utf8');
      fs.writeFileSync(path.join(app, 'sample.ts'), sample);
      fs.writeFileSync(path.join(app, 'sample.mts'), sample);
      // And one that must fail: a module "exports" does not list.
      fs.writeFileSync(path.join(app, 'deep.ts'), "import { Router } from 'gosfu/lib/Router';\nexport { Router };\n");
      const { status, output } = tsc(app, ['sample.ts', 'sample.mts', 'deep.ts']);
      assert.notEqual(status, 0, 'tsc resolved gosfu/lib/Router');
      const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
      assert.equal(errors.length, 1, `tsc errors:\n${output}`);
      assert.match(errors[0], /^deep\.ts\(1,\d+\): error TS2307: Cannot find module 'gosfu\/lib\/Router'/);
    });

    it('every type has the shape of mediasoup 3.27.1\'s (assignable both ways)', function () {
      const msDir = mediasoupPackageDir();
      if (!msDir) {
        console.log('      mediasoup 3.27.1\'s package is not at hand (it is no dependency of gosfu): skipping.'
          + ' To run it: cd /tmp/ms && npm pack mediasoup@3.27.1 && tar xzf mediasoup-3.27.1.tgz,'
          + ' or set MEDIASOUP_PACKAGE_DIR');
        this.skip();
      }
      for (const gap of KNOWN_GAPS) {
        assert.ok(gap.isGap(), `${gap.what} exists now: remove it from KNOWN_GAPS and declare it`);
      }
      const generic = { Either: '<{ a: 1 }, { b: 2 }>' };
      const lines = [
        `import type * as M from '${path.join(msDir, 'node', 'lib', 'types')}';`,
        "import type * as G from 'gosfu/types';",
        "import type { AppData, RouterRtpCodecCapability } from 'gosfu/types';",
        "declare module 'gosfu/types' {",
        ...KNOWN_GAPS.map((gap) => `  ${gap.augmentation}`),
        '}',
      ];
      for (const name of MEDIASOUP_TYPES) {
        const args = generic[name] || '';
        lines.push(`export function toGosfu_${name}(x: M.${name}${args}): G.${name}${args} { return x; }`);
        lines.push(`export function toMediasoup_${name}(x: G.${name}${args}): M.${name}${args} { return x; }`);
      }
      fs.writeFileSync(path.join(app, 'shapes.ts'), `${lines.join('\n')}\n`);
      const { status, output } = tsc(app, ['shapes.ts']);
      const differing = [...new Set(output.split('\n')
        .map((line) => /^shapes\.ts\((\d+),/.exec(line))
        .filter(Boolean)
        .map((m) => /function (\w+)/.exec(lines[Number(m[1]) - 1])[1]))];
      assert.deepEqual(differing, [], `types whose shape differs from mediasoup's:\n${output}`);
      assert.equal(status, 0, output);
    });
  });
});

function mediasoupPackageDir() {
  const candidates = [process.env.MEDIASOUP_PACKAGE_DIR, '/tmp/ms/package'];
  try {
    candidates.unshift(path.dirname(require.resolve('mediasoup/package.json', { paths: [root] })));
  } catch (error) {
    // Not installed: the usual case.
  }
  for (const dir of candidates) {
    if (!dir) continue;
    try {
      const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (version === '3.27.1' && fs.existsSync(path.join(dir, 'node', 'lib', 'types.d.ts'))) return dir;
    } catch (error) {
      // Not there.
    }
  }
  return null;
}
