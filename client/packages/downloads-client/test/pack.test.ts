// The packed tarball, installed into a scratch project as a user would, type-checks (both entry points, Node's
// ESM resolution) and loads in Node.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = new URL('..', import.meta.url).pathname;
const tsc = join(packageDir, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');

const usage = `
import { ApiError, DownloadsClient, type JobEvent, type StatusDocument } from '@downloads/client';
import { DownloadsProvider, useDownload, useDownloads, type UseDownload } from '@downloads/client/react';

const client = new DownloadsClient({ baseUrl: 'http://localhost:3000', apiKey: 'key' });
export async function main(): Promise<string> {
  const job = await client.initiate([70000, 70007]);
  const status: StatusDocument = await client.status(job.job_id);
  for await (const event of client.follow(job.job_id)) {
    const e: JobEvent = event;
    if (e.type === 'completed') break;
  }
  const unsubscribe = client.subscribe(job.job_id, (state) => state.percent);
  unsubscribe();
  const result = await client.result(job.job_id);
  return result.ended ? result.download_urls.join() : String(result.progress.percent + status.seq);
}
export function hook(): UseDownload['status'] {
  return useDownload([70000]).status;
}
export const parts = [DownloadsProvider, useDownloads, ApiError];
`;

describe('the packed tarball', () => {
  let scratch = '';

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'downloads-client-'));
    await run('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: packageDir, timeout: 120_000 });
    const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    await writeFile(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `./${tarball}`, 'react@19.3.1', '@types/react@19.3.3'],
      { cwd: scratch, timeout: 180_000 },
    );
  }, 300_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('holds only the built files and the README', async () => {
    const { stdout } = await run('tar', ['-tzf', join(scratch, (await readdir(scratch)).find((f) => f.endsWith('.tgz'))!)]);
    const files = stdout.trim().split('\n');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/dist/react.d.ts');
    expect(files).toContain('package/README.md');
    expect(files.filter((f) => f.includes('/test/') || f.includes('/src/'))).toEqual([]);
  });

  it('type-checks in a strict project with Node ESM resolution', async () => {
    await writeFile(join(scratch, 'usage.ts'), usage);
    await writeFile(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [] },
        files: ['usage.ts'],
      }),
    );
    const checked = await run('node', [tsc, '-p', 'tsconfig.json'], { cwd: scratch, timeout: 120_000 }).catch((e: { stdout: string }) => e);
    expect('stdout' in checked ? checked.stdout : '').toBe('');
  }, 120_000);

  it('loads in Node as ESM', async () => {
    const { stdout } = await run('node', ['--input-type=module', '-e', "const m = await import('@downloads/client'); console.log(typeof m.DownloadsClient);"], { cwd: scratch });
    expect(stdout.trim()).toBe('function');
  });
});
