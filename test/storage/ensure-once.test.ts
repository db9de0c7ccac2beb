import { describe, expect, it } from 'vitest';
import { ensureOnce } from '../../shared/storage/ensure-once';

describe('ensureOnce', () => {
  it('creates once for all callers, at the same time or later', async () => {
    let calls = 0;
    const ensure = ensureOnce(async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    await Promise.all([ensure(), ensure(), ensure()]);
    await ensure();
    expect(calls).toBe(1);
  });

  it('forgets a failed creation, so the next call tries again', async () => {
    let calls = 0;
    const ensure = ensureOnce(async () => {
      calls++;
      if (calls === 1) throw new Error('network blip');
    });
    await expect(ensure()).rejects.toThrow('network blip');
    await expect(ensure()).resolves.toBeUndefined();
    await ensure();
    expect(calls).toBe(2);
  });
});
