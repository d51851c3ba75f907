// The REST calls as sent on the wire (a recording fetch): bodies, headers, access tokens, the one retry of initiate.
import { describe, expect, it } from 'vitest';
import { ApiError, DownloadsClient } from '../src';

const JOB = '3f0c2a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6';

interface Call {
  url: string;
  init?: RequestInit;
}

function recording(answer: (call: Call, index: number) => Response | Promise<Response>): { client: DownloadsClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = new DownloadsClient({
    baseUrl: '',
    fetch: async (url, init) => {
      calls.push({ url, init });
      return answer({ url, init }, calls.length - 1);
    },
  });
  return { client, calls };
}

const accepted = (body: object) => new Response(JSON.stringify(body), { status: 202, headers: { 'Content-Type': 'application/json' } });

describe('REST on the wire', () => {
  it('posts snake_case JSON to initiate with an idempotency key, and does not repeat a refused one', async () => {
    const problem = { title: 'One or more validation errors occurred.', status: 400, errors: { 'file_ids[1]': ['must be between 10000 and 100000000'] } };
    const { client, calls } = recording(() => new Response(JSON.stringify(problem), { status: 400, headers: { 'Content-Type': 'application/problem+json' } }));
    const error = await client.initiate([70000, 5], { callbackUrl: 'https://client.example/hook' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).problem?.errors).toEqual(problem.errors);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('/v1/download/initiate');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ file_ids: [70000, 5], callback_url: 'https://client.example/hook' });
    const headers = new Headers(calls[0].init?.headers);
    expect(headers.get('Content-Type')).toBe('application/json');
    expect(headers.get('Idempotency-Key')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('sends initiate once more after a network failure, with the same idempotency key', async () => {
    const { client, calls } = recording((_call, index) => {
      if (index === 0) throw new TypeError('Failed to fetch');
      return accepted({ job_id: JOB, status: 'queued', total_files: 1 });
    });
    await expect(client.initiate([70000])).resolves.toMatchObject({ job_id: JOB });
    const keys = calls.map((c) => new Headers(c.init?.headers).get('Idempotency-Key'));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("sends a job's access token with cancel, pause and resume, in the query", async () => {
    const { client, calls } = recording(() => accepted({}));
    await client.cancel(JOB, { accessToken: 'jat_a-b_c' });
    await client.pause(JOB, { accessToken: 'jat_a-b_c' });
    await client.resume(JOB);
    expect(calls.map((c) => [c.init?.method, c.url])).toEqual([
      ['DELETE', `/v1/download/${JOB}?access_token=jat_a-b_c`],
      ['POST', `/v1/download/${JOB}/pause?access_token=jat_a-b_c`],
      ['POST', `/v1/download/${JOB}/resume`],
    ]);
  });

  it('retries the failed files of a job without a body, or the listed ones', async () => {
    const { client, calls } = recording(() => accepted({ job_id: JOB, status: 'queued', total_files: 1, retry_of: 'j' }));
    const answer = await client.retry(JOB);
    await client.retry(JOB, [70001]);
    expect(answer.retry_of).toBe('j');
    expect(calls.map((c) => [c.url, c.init?.method, c.init?.body])).toEqual([
      [`/v1/download/${JOB}/retry`, 'POST', undefined],
      [`/v1/download/${JOB}/retry`, 'POST', '{"file_ids":[70001]}'],
    ]);
  });
});
