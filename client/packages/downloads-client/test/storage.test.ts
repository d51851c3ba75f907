import { describe, expect, it } from 'vitest';
import { loadStoredJobs, parseStoredJobs, saveStoredJobs } from '../src/storage';
import { JOB_A, JOB_B, MemoryStorage } from './fakes';

const KEY = 'downloads.jobs';

describe('tracked jobs in storage', () => {
  it('round-trips entries under the key, newest first', () => {
    const storage = new MemoryStorage();
    saveStoredJobs(storage, KEY, [
      { job_id: JOB_A, added_at: 1 },
      { job_id: JOB_B, added_at: 2 },
    ]);
    expect(storage.getItem(KEY)).not.toBeNull();
    expect(loadStoredJobs(storage, KEY).map((e) => e.job_id)).toEqual([JOB_B, JOB_A]);
    saveStoredJobs(storage, KEY, []);
    expect(storage.getItem(KEY)).toBeNull();
  });

  it("keeps a job's access token with it", () => {
    const storage = new MemoryStorage();
    saveStoredJobs(storage, KEY, [{ job_id: JOB_A, added_at: 1, access_token: 'jat_x' }]);
    expect(loadStoredJobs(storage, KEY)).toEqual([{ job_id: JOB_A, added_at: 1, access_token: 'jat_x' }]);
  });

  it('tolerates corrupt values, plain id lists, duplicates, bad ids and the older entries with a status_url', () => {
    expect(parseStoredJobs('{not json')).toEqual([]);
    expect(parseStoredJobs('{"a":1}')).toEqual([]);
    expect(parseStoredJobs(null)).toEqual([]);
    const parsed = parseStoredJobs(
      JSON.stringify([JOB_A.toUpperCase(), { job_id: JOB_A }, 'not-a-uuid', 42, null, { job_id: JOB_B, status_url: `https://h.example/v1/download/status/${JOB_B}`, added_at: 7 }]),
    );
    expect(parsed).toEqual([
      { job_id: JOB_A, added_at: 0 },
      { job_id: JOB_B, added_at: 7 },
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
    expect(loadStoredJobs(broken, KEY)).toEqual([]);
    expect(() => saveStoredJobs(broken, KEY, [{ job_id: JOB_A, added_at: 0 }])).not.toThrow();
  });
});
