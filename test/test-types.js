'use strict';

// index.d.ts type-checks with `tsc --strict` against test/types/app.ts, a
// program that uses the API the way a mediasoup TypeScript application does.
// Skipped when typescript is not installed, except with CI=true (then it fails).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.join(__dirname, '..');
const project = path.join(__dirname, 'types');

let tscBin = null;
try {
  tscBin = require.resolve('typescript/bin/tsc', { paths: [root] });
} catch (error) {
  if (process.env.CI === 'true') throw new Error('typescript is not installed (npm install)');
}

function tsc(projectDir) {
  const res = spawnSync(process.execPath, [tscBin, '-p', projectDir, '--pretty', 'false'], {
    cwd: root, encoding: 'utf8',
  });
  assert.equal(res.error, undefined, res.error && res.error.message);
  return { status: res.status, output: `${res.stdout}${res.stderr}`.trim() };
}

describe('TypeScript declarations', function () {
  before(function () {
    if (!tscBin) {
      console.log('      typescript is not installed: skipping (npm install to run it)');
      this.skip();
    }
  });

  it('index.d.ts and test/types/app.ts compile under tsc --strict', () => {
    const { status, output } = tsc(project);
    assert.equal(status, 0, `tsc -p test/types failed:\n${output}`);
  });

  it('a misuse of the API is a type error (the check can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gosfu-types-'));
    try {
      fs.writeFileSync(path.join(dir, 'bad.ts'), [
        "import * as mediasoup from 'gosfu';",
        'export async function bad(): Promise<void> {',
        "  const worker = await mediasoup.createWorker({ logLevel: 'verbose' });",
        '  worker.close();',
        '}',
        '',
      ].join('\n'));
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        extends: path.join(project, 'tsconfig.json'),
        compilerOptions: {
          baseUrl: dir,
          paths: { gosfu: [path.join(root, 'index.d.ts')] },
          typeRoots: [path.join(root, 'node_modules', '@types')],
        },
        files: [path.join(dir, 'bad.ts')],
      }));
      const { status, output } = tsc(dir);
      assert.notEqual(status, 0, 'tsc accepted an invalid logLevel');
      assert.match(output, /bad\.ts\(3,\d+\): error TS2322: .*'"verbose"'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
