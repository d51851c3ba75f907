// @vitest-environment happy-dom
// The React hooks against the real service, rendered in happy-dom.
import { act, renderHook, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { DownloadsClient } from '../src';
import { useDownload, useDownloads } from '../src/react';
import { existingFiles, serviceUrl } from './service';

const timings = { pollIntervalMs: 200, gapHoldMs: 300, reconnectDelaysMs: [200, 500] };
const until = { timeout: 30_000, interval: 50 };

function newClient(): DownloadsClient {
  return new DownloadsClient({ baseUrl: serviceUrl(), timings });
}

describe('useDownload', () => {
  it('starts a job and follows it live to its download links', async () => {
    const client = newClient();
    const files = existingFiles(3);
    const { result } = renderHook(() => useDownload(files, { client }));
    expect(result.current.status).toBe('idle');

    await act(() => result.current.start());
    expect(result.current.jobId).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor(() => expect(result.current.status).toBe('completed'), until);
    expect(result.current.progress).toMatchObject({ completed: 3, failed: 0, total: 3, percent: 100 });
    expect(result.current.results.map((r) => r.file_id)).toEqual(files);
    expect(result.current.results.every((r) => r.download_url)).toBe(true);
    expect(result.current.transport).toBe('WebSockets');
  });

  it('cancels the running job', async () => {
    const client = newClient();
    const { result } = renderHook(() => useDownload(existingFiles(20), { client }));
    await act(() => result.current.start());
    await act(() => result.current.cancel());
    await waitFor(() => expect(result.current.status).toBe('cancelled'), until);
    expect(result.current.error).toBeNull();
    expect(result.current.results.some((r) => r.status === 'skipped')).toBe(true);
  });

  it('shows a refused start as its error', async () => {
    const client = newClient();
    const { result } = renderHook(() => useDownload([1], { client }));
    await act(() => result.current.start().catch(() => undefined));
    expect(result.current.error?.message).toBeTruthy();
    expect(result.current.status).toBe('idle');
  });
});

describe('useDownloads', () => {
  it('follows many jobs and picks them up again after a reload, from localStorage', async () => {
    localStorage.clear();
    const client = newClient();
    const first = renderHook(() => useDownloads({ client }));
    let jobIds: string[] = [];
    await act(async () => {
      const answers = await Promise.all([first.result.current.start(existingFiles(2)), first.result.current.start(existingFiles(30))]);
      jobIds = answers.map((a) => a.job_id);
    });
    await waitFor(() => expect(first.result.current.jobs).toHaveLength(2), until);
    first.unmount();

    // A reload: a new client and hook, with nothing but what localStorage kept.
    const reloaded = newClient();
    const second = renderHook(() => useDownloads({ client: reloaded }));
    await waitFor(() => expect(second.result.current.jobs.map((j) => j.jobId).sort()).toEqual([...jobIds].sort()), until);
    await waitFor(() => expect(second.result.current.jobs.every((j) => j.status === 'completed')).toBe(true), until);
    expect(second.result.current.jobs.map((j) => j.results.length).sort((a, b) => a - b)).toEqual([2, 30]);

    act(() => second.result.current.dismiss(jobIds[0]));
    await waitFor(() => expect(second.result.current.jobs.map((j) => j.jobId)).toEqual([jobIds[1]]), until);
    expect(localStorage.getItem('downloads-client.jobs')).not.toContain(jobIds[0]);
    second.unmount();
  });

  it('adopts a job a back end started and keeps it, with its access token, after a reload', async () => {
    localStorage.clear();
    const answer = await newClient().initiate(existingFiles(3));
    const page = newClient();
    const first = renderHook(() => useDownloads({ client: page }));

    act(() => first.result.current.adopt(answer.job_id, answer.access_token));

    await waitFor(() => expect(first.result.current.jobs.map((j) => j.jobId)).toEqual([answer.job_id]), until);
    expect(localStorage.getItem('downloads-client.jobs')).toContain(answer.access_token);
    first.unmount();
    // A reload: a new client and hook, with nothing but what localStorage kept.
    const reloaded = newClient();
    const second = renderHook(() => useDownloads({ client: reloaded }));
    await waitFor(() => expect(second.result.current.jobs[0]?.status).toBe('completed'), until);
    expect(second.result.current.jobs[0].results).toHaveLength(3);
    second.unmount();
  });
});
