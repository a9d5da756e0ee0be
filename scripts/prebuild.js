'use strict';

// Release build: the prebuilt engine for each Linux architecture, then the
// npm tarball that carries them.
//
//   node scripts/prebuild.js [--arch x64,arm64] [--dest DIR] [--check] [--pack]
//
// For each architecture it writes prebuilds/linux-<arch>/ (under DIR, by
// default the package): libgosfu.so (the
// Go engine, c-shared, stripped) and gosfu.napi.glibc.node (the N-API shim,
// which finds libgosfu.so beside it through its rpath). N-API's stable ABI
// makes one shim serve every Node version; node-gyp-build's naming lets
// lib/native.js and scripts/install.js pick the file. A foreign architecture
// is cross-compiled (Debian: gcc-aarch64-linux-gnu for arm64, which cgo
// uses as its C compiler). --check loads each build (a foreign one under
// qemu-user with a Node of that architecture when both are at hand) and
// runs a router with media; --pack runs npm pack and prints the tarball's
// name and size.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { checkGo, goBinary } = require('./go-check');

const root = path.join(__dirname, '..');

// Node's arch names, Go's, and the GNU triplet of the cross toolchain.
const ARCHES = {
  x64: { goarch: 'amd64', triplet: 'x86_64-linux-gnu', qemu: 'qemu-x86_64-static' },
  arm64: { goarch: 'arm64', triplet: 'aarch64-linux-gnu', qemu: 'qemu-aarch64-static' },
};

function fail(msg) {
  console.error(`gosfu prebuild: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (res.error) fail(`cannot run ${cmd}: ${res.error.message}`);
  if (res.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${res.status}`);
  return res;
}

function which(cmd) {
  const res = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : null;
}

/** The C compiler and strip of arch: the host's own, or the cross ones. */
function toolchain(arch) {
  if (arch === process.arch) return { cc: process.env.CC || 'cc', strip: 'strip' };
  const { triplet } = ARCHES[arch];
  const cc = `${triplet}-gcc`;
  if (!which(cc)) fail(`no ${cc} for the ${arch} build (Debian: apt-get install gcc-${triplet})`);
  return { cc, strip: `${triplet}-strip` };
}

function nodeIncludeDir() {
  const dir = path.resolve(process.execPath, '..', '..', 'include', 'node');
  if (!fs.existsSync(path.join(dir, 'node_api.h'))) fail(`Node headers not found under ${dir}`);
  return dir;
}

function build(arch, dest) {
  const { goarch } = ARCHES[arch];
  const { cc, strip } = toolchain(arch);
  const out = path.join(dest, 'prebuilds', `linux-${arch}`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const lib = path.join(out, 'libgosfu.so');
  console.log(`gosfu prebuild: linux-${arch}: Go engine`);
  run(goBinary(), ['build', '-buildmode=c-shared', '-trimpath', '-ldflags=-s -w', '-o', lib, './capi'], {
    env: { ...process.env, CGO_ENABLED: '1', GOOS: 'linux', GOARCH: goarch, CC: cc },
  });
  console.log(`gosfu prebuild: linux-${arch}: N-API shim`);
  const addon = path.join(out, 'gosfu.napi.glibc.node');
  run(cc, ['-shared', '-fPIC', '-O2', '-std=c11', '-Wall', '-Wextra', '-Wno-unused-parameter',
    '-I', nodeIncludeDir(), '-I', path.join(root, 'capi'), '-I', out,
    path.join(root, 'src', 'addon.c'), '-o', addon,
    '-L', out, '-lgosfu', '-Wl,-rpath,$ORIGIN', '-lpthread']);
  run(strip, ['--strip-unneeded', addon]);
  fs.rmSync(path.join(out, 'libgosfu.h'));
  for (const f of [lib, addon]) console.log(`  ${path.relative(root, f)}: ${fs.statSync(f).size} bytes`);
  return out;
}

// A worker, a router and RTP sent through a PlainTransport to a consumer on
// another: the build runs the engine, not only loads. Run as
// node -e SMOKE <path of the gosfu package>.
const SMOKE = `
const dgram = require('dgram');
const gosfu = require(process.argv[1]);
(async () => {
  const worker = await gosfu.createWorker();
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  const recv = dgram.createSocket('udp4');
  await new Promise((r) => recv.bind(0, '127.0.0.1', r));
  const inT = await router.createPlainTransport({ listenIp: '127.0.0.1', comedia: true, rtcpMux: true });
  const outT = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
  await outT.connect({ ip: '127.0.0.1', port: recv.address().port });
  const producer = await inT.produce({ kind: 'audio', rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] } });
  await outT.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  const got = new Promise((resolve) => recv.once('message', resolve));
  const send = dgram.createSocket('udp4');
  const timer = setInterval(() => {
    const pkt = Buffer.alloc(32);
    pkt[0] = 0x80; pkt[1] = 100; pkt.writeUInt32BE(1111, 8);
    send.send(pkt, inT.tuple.localPort, '127.0.0.1');
  }, 20);
  const msg = await got;
  clearInterval(timer);
  worker.close(); recv.close(); send.close();
  console.log('media through the ' + process.arch + ' engine: ' + msg.length + ' bytes');
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** A Node binary for arch: this one, or npm's node-linux-<arch> package. */
function nodeFor(arch) {
  if (arch === process.arch) return process.execPath;
  if (arch === 'arm64' && process.env.GOSFU_ARM64_NODE) return process.env.GOSFU_ARM64_NODE;
  const dir = path.join(os.tmpdir(), `gosfu-node-linux-${arch}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const major = process.versions.node.split('.')[0];
  const res = spawnSync('npm', ['pack', '--silent', `node-linux-${arch}@${major}`], { cwd: dir, encoding: 'utf8' });
  const tgz = res.status === 0 && res.stdout.trim().split('\n').pop();
  if (!tgz || spawnSync('tar', ['xzf', tgz], { cwd: dir }).status !== 0) return null;
  return fs.existsSync(bin) ? bin : null;
}

function check(arch, dest) {
  const out = path.join(dest, 'prebuilds', `linux-${arch}`);
  const addon = path.join(out, 'gosfu.napi.glibc.node');
  if (arch !== process.arch) {
    // The shim must at least export N-API's entry point.
    const nm = spawnSync(`${ARCHES[arch].triplet}-nm`, ['-D', '--defined-only', addon], { encoding: 'utf8' });
    if (nm.status !== 0 || !/\bnapi_register_module_v1\b/.test(nm.stdout)) fail(`${addon} does not export napi_register_module_v1`);
    const lib = spawnSync(`${ARCHES[arch].triplet}-nm`, ['-D', '--defined-only', path.join(out, 'libgosfu.so')], { encoding: 'utf8' });
    if (lib.status !== 0 || !/\bgosfu_engine_create\b/.test(lib.stdout)) fail(`libgosfu.so (${arch}) exports no engine entry points`);
    console.log(`gosfu prebuild: linux-${arch}: symbols present`);
  }
  const qemu = arch === process.arch ? null : which(ARCHES[arch].qemu);
  const node = arch === process.arch || qemu ? nodeFor(arch) : null;
  if (!node) {
    console.log(`gosfu prebuild: linux-${arch}: not run (needs ${ARCHES[arch].qemu} and node-linux-${arch})`);
    return;
  }
  const cmd = qemu ? [qemu, ['-L', `/usr/${ARCHES[arch].triplet}`, node]] : [node, []];
  // node-gyp-build: only the prebuilds/ under dest, not a build/ of the
  // source tree.
  const env = { ...process.env, PREBUILDS_ONLY: '1', GOSFU_PREBUILD: dest };
  run(cmd[0], [...cmd[1], '-e', SMOKE, root], { env });
}

function main() {
  const argv = process.argv.slice(2);
  const archArg = argv.includes('--arch') ? argv[argv.indexOf('--arch') + 1] : 'x64,arm64';
  const arches = archArg.split(',').filter(Boolean);
  for (const a of arches) if (!ARCHES[a]) fail(`unknown arch ${a} (x64, arm64)`);
  if (process.platform !== 'linux') fail('prebuilds are made on Linux');
  const problem = checkGo();
  if (problem) fail(problem);
  const dest = argv.includes('--dest') ? path.resolve(argv[argv.indexOf('--dest') + 1]) : root;
  for (const arch of arches) {
    build(arch, dest);
    if (argv.includes('--check')) check(arch, dest);
  }
  if (argv.includes('--pack')) {
    const res = spawnSync('npm', ['pack', '--silent'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (res.status !== 0) fail('npm pack failed');
    const tgz = res.stdout.trim().split('\n').pop();
    console.log(`gosfu prebuild: ${tgz}: ${fs.statSync(path.join(root, tgz)).size} bytes`);
  }
}

if (require.main === module) main();

module.exports = { SMOKE };
