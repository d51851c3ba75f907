import { describe, expect, it } from 'vitest';
import { loadTrackedJobs, parseTrackedJobs, saveTrackedJobs, STORAGE_KEY } from '../persistence';
import { JOB_A, JOB_B, MemoryStorage } from './fakes';

describe('tracked jobs in localStorage', () => {
  it('round-trips entries under downloads.jobs, newest first', () => {
    const storage = new MemoryStorage();
    saveTrackedJobs(storage, [
      { job_id: JOB_A, status_url: `/v1/download/status/${JOB_A}`, added_at: 1 },
      { job_id: JOB_B, status_url: `/v1/download/status/${JOB_B}`, added_at: 2 },
    ]);
    expect(storage.getItem(STORAGE_KEY)).not.toBeNull();
    expect(loadTrackedJobs(storage).map((e) => e.job_id)).toEqual([JOB_B, JOB_A]);
    saveTrackedJobs(storage, []);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it('keeps a job\'s access token with it', () => {
    const storage = new MemoryStorage();
    saveTrackedJobs(storage, [{ job_id: JOB_A, status_url: `/v1/download/status/${JOB_A}?access_token=jat_x`, added_at: 1, access_token: 'jat_x' }]);
    expect(loadTrackedJobs(storage)).toEqual([
      { job_id: JOB_A, status_url: `/v1/download/status/${JOB_A}?access_token=jat_x`, added_at: 1, access_token: 'jat_x' },
    ]);
  });

  it('tolerates corrupt values, plain id lists, duplicates and bad ids', () => {
    expect(parseTrackedJobs('{not json')).toEqual([]);
    expect(parseTrackedJobs('{"a":1}')).toEqual([]);
    expect(parseTrackedJobs(null)).toEqual([]);
    const parsed = parseTrackedJobs(
      JSON.stringify([JOB_A.toUpperCase(), { job_id: JOB_A }, 'not-a-uuid', 42, null, { job_id: JOB_B, status_url: `https://h.example/v1/download/status/${JOB_B}`, added_at: 7 }]),
    );
    expect(parsed).toEqual([
      { job_id: JOB_A, status_url: `/v1/download/status/${JOB_A}`, added_at: 0 },
      { job_id: JOB_B, status_url: `/v1/download/status/${JOB_B}`, added_at: 7 },
    ]);
  });

  it('survives a storage that throws (private mode, quota)', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('quota');
      },
      removeItem: () => undefined,
    };
    expect(loadTrackedJobs(broken)).toEqual([]);
    expect(() => saveTrackedJobs(broken, [{ job_id: JOB_A, status_url: '/x', added_at: 0 }])).not.toThrow();
  });
});
