import { ApiError } from '@downloads/client';
import { describe, expect, it } from 'vitest';
import { describeError } from '../api';
import { handoverFromUrl, hubFromUrl } from '../page';
import { parseCallbackUrl, parseFileIds } from '../validation';

describe('describeError', () => {
  it('names the file of each validation error', () => {
    const error = new ApiError(400, { title: 'One or more validation errors occurred.', status: 400, errors: { 'file_ids[1]': ['must be between 10000 and 100000000'] } }, null);
    expect(describeError(error, [70000, 5])).toEqual(['One or more validation errors occurred.', 'File 5: must be between 10000 and 100000000']);
  });

  it('describes rate limiting with Retry-After and network failures plainly', () => {
    expect(describeError(new ApiError(429, null, 12))).toEqual(['Too many requests: try again in 12 s.']);
    expect(describeError(new TypeError('Failed to fetch'))).toEqual(['Could not reach the download service.']);
  });

  it("says what a conflict's problem details say", () => {
    expect(describeError(new ApiError(409, { title: 'Conflict', status: 409, detail: 'The job is completed.' }, null))).toEqual(['The job is completed.']);
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

describe('page hooks', () => {
  it('reads the transport test hooks from the query string', () => {
    expect(hubFromUrl('?transport=ServerSentEvents')).toBe('ServerSentEvents');
    expect(hubFromUrl('?transport=longpolling')).toBe('LongPolling');
    expect(hubFromUrl('?hub=off')).toBe('off');
    expect(hubFromUrl('?transport=carrier-pigeon')).toBe('auto');
  });
});

describe('a job handed over by a back end', () => {
  it('reads the job id and token from the fragment only', () => {
    const job = '3f0c2a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6';
    expect(handoverFromUrl(`#job=${job.toUpperCase()}&access_token=jat_x-y`)).toEqual({ jobId: job, accessToken: 'jat_x-y' });
    expect(handoverFromUrl(`#job=${job}`)).toEqual({ jobId: job, accessToken: undefined });
    expect(handoverFromUrl('#job=not-a-job&access_token=jat_x')).toBeNull();
    expect(handoverFromUrl('')).toBeNull();
  });
});
