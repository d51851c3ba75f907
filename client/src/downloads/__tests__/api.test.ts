import { describe, expect, it } from 'vitest';
import { ApiError, createApi, describeError, toLocalUrl } from '../api';
import { parseCallbackUrl, parseFileIds } from '../validation';

describe('api', () => {
  it('posts snake_case JSON to initiate and turns problem+json into an ApiError', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const api = createApi(async (url, init) => {
      calls.push({ url, init });
      return new Response(
        JSON.stringify({ title: 'One or more validation errors occurred.', status: 400, errors: { 'file_ids[1]': ['must be between 10000 and 100000000'] } }),
        { status: 400, headers: { 'Content-Type': 'application/problem+json' } },
      );
    });
    const error = await api.initiate([70000, 5], 'https://client.example/hook').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(calls).toHaveLength(1); // an answer is not retried
    expect(calls[0].url).toBe('/v1/download/initiate');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ file_ids: [70000, 5], callback_url: 'https://client.example/hook' });
    const headers = new Headers(calls[0].init?.headers);
    expect(headers.get('Content-Type')).toBe('application/json');
    expect(headers.get('Idempotency-Key')).toMatch(/^[0-9a-f]{32}$/);
    expect(describeError(error, [70000, 5])).toEqual(['One or more validation errors occurred.', 'File 5: must be between 10000 and 100000000']);
  });

  it('sends a job\'s access token with cancel, pause and resume', async () => {
    const urls: string[] = [];
    const api = createApi(async (url) => {
      urls.push(url);
      return new Response(JSON.stringify({}), { status: 202 });
    });
    const id = '3f0c2a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6';
    await api.cancel(id, 'jat_a-b_c');
    await api.pause(id, 'jat_a-b_c');
    await api.resume(id);
    expect(urls).toEqual([`/v1/download/${id}?access_token=jat_a-b_c`, `/v1/download/${id}/pause?access_token=jat_a-b_c`, `/v1/download/${id}/resume`]);
  });

  it('retries initiate once after a network failure with the same idempotency key', async () => {
    const keys: (string | null)[] = [];
    const api = createApi(async (_url, init) => {
      keys.push(new Headers(init?.headers).get('Idempotency-Key'));
      if (keys.length === 1) throw new TypeError('Failed to fetch');
      return new Response(JSON.stringify({ job_id: 'x', status: 'queued', total_files: 1, status_url: '/s' }), { status: 202 });
    });
    await expect(api.initiate([70000])).resolves.toMatchObject({ job_id: 'x' });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it('describes rate limiting with Retry-After and network failures plainly', async () => {
    const api = createApi(async () => new Response('', { status: 429, headers: { 'Retry-After': '12' } }));
    const error = await api.pause('3f0c2a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6').catch((e: unknown) => e);
    expect(describeError(error)).toEqual(['Too many requests: try again in 12 s.']);
    expect(describeError(new TypeError('Failed to fetch'))).toEqual(['Could not reach the download service.']);
  });

  it('retries the failed files of a job with an empty body, or the listed ones', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const api = createApi(async (url, init) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ job_id: 'n', status: 'queued', total_files: 1, status_url: '/s', retry_of: 'j' }), { status: 202 });
    });
    const answer = await api.retry('j');
    await api.retry('j', [70001]);
    expect(answer.retry_of).toBe('j');
    expect(calls.map((c) => [c.url, c.init?.method, c.init?.body])).toEqual([
      ['/v1/download/j/retry', 'POST', '{}'],
      ['/v1/download/j/retry', 'POST', '{"file_ids":[70001]}'],
    ]);
  });

  it('uses service URLs on the page origin', () => {
    expect(toLocalUrl('http://localhost:3000/v1/download/status/abc?x=1')).toBe('/v1/download/status/abc?x=1');
    expect(toLocalUrl('/v1/download/status/abc')).toBe('/v1/download/status/abc');
  });
});

describe('form validation', () => {
  it('parses comma and space separated ids and rejects bad ones', () => {
    expect(parseFileIds('70000, 70007 70014,70001')).toEqual({ ok: true, value: [70000, 70007, 70014, 70001] });
    expect(parseFileIds('  ')).toMatchObject({ ok: false });
    expect(parseFileIds('70000, abc')).toEqual({ ok: false, error: '"abc" is not a whole number.' });
    expect(parseFileIds('9999')).toMatchObject({ ok: false, error: expect.stringContaining('between 10000 and 100000000') });
    expect(parseFileIds('100000001')).toMatchObject({ ok: false });
    expect(parseFileIds('70000 70000')).toMatchObject({ ok: false, error: expect.stringContaining('twice') });
    expect(parseFileIds(Array.from({ length: 1001 }, (_, i) => 10000 + i).join(','))).toMatchObject({ ok: false });
  });

  it('accepts only absolute http(s) callback URLs', () => {
    expect(parseCallbackUrl('')).toEqual({ ok: true, value: undefined });
    expect(parseCallbackUrl('https://client.example/hook')).toEqual({ ok: true, value: 'https://client.example/hook' });
    expect(parseCallbackUrl('ftp://x/y')).toMatchObject({ ok: false });
    expect(parseCallbackUrl('/relative')).toMatchObject({ ok: false });
  });
});
