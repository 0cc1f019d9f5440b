import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriableAdminError, retryRetriable, waitForTopicLeaders } from './kafkaAdmin.ts';

const kafkaError = (type: string) => Object.assign(new Error(type), { type });

describe('isRetriableAdminError', () => {
  it('retries what clears as metadata propagates, also inside aggregates and causes', () => {
    expect(isRetriableAdminError(kafkaError('UNKNOWN_TOPIC_OR_PARTITION'))).toBe(true);
    expect(isRetriableAdminError(kafkaError('LEADER_NOT_AVAILABLE'))).toBe(true);
    expect(isRetriableAdminError(kafkaError('NOT_LEADER_OR_FOLLOWER'))).toBe(true);
    expect(isRetriableAdminError({ errors: [kafkaError('LEADER_NOT_AVAILABLE'), kafkaError('NOT_CONTROLLER')] })).toBe(true);
    expect(isRetriableAdminError(new Error('retries exhausted', { cause: kafkaError('UNKNOWN_TOPIC_OR_PARTITION') }))).toBe(true);
  });
  it('does not retry configuration mistakes', () => {
    expect(isRetriableAdminError(kafkaError('INVALID_REPLICATION_FACTOR'))).toBe(false);
    expect(isRetriableAdminError({ errors: [kafkaError('LEADER_NOT_AVAILABLE'), kafkaError('POLICY_VIOLATION')] })).toBe(false);
    expect(isRetriableAdminError(new Error('plain'))).toBe(false);
    expect(isRetriableAdminError(undefined)).toBe(false);
  });
});

describe('retryRetriable', () => {
  it('returns once the error clears', async () => {
    let calls = 0;
    const v = await retryRetriable(
      't',
      async () => {
        if (++calls < 3) throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION');
        return 'ok';
      },
      { timeoutMs: 5_000, initialDelayMs: 1 },
    );
    expect(v).toBe('ok');
    expect(calls).toBe(3);
  });
  it('throws a non-retriable error at once', async () => {
    let calls = 0;
    await expect(
      retryRetriable('t', async () => {
        calls++;
        throw kafkaError('TOPIC_AUTHORIZATION_FAILED');
      }),
    ).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls).toBe(1);
  });
  it('gives up after the bound, naming what it was doing', async () => {
    await expect(
      retryRetriable(
        'creating x',
        async () => {
          throw kafkaError('LEADER_NOT_AVAILABLE');
        },
        { timeoutMs: 50, initialDelayMs: 5 },
      ),
    ).rejects.toThrow(/creating x: still failing after 50 ms: LEADER_NOT_AVAILABLE/);
  });
});

describe('waitForTopicLeaders', () => {
  function adminAnswering(answers: Array<() => Awaited<ReturnType<Admin['fetchTopicMetadata']>>>): Admin {
    let i = 0;
    return {
      fetchTopicMetadata: async () => answers[Math.min(i++, answers.length - 1)]!(),
    } as unknown as Admin;
  }
  const partition = (partitionId: number, leader: number) => ({ partitionId, leader, partitionErrorCode: 0, replicas: [], isr: [], offlineReplicas: [] });

  it('waits through unknown-topic answers and leaderless partitions', async () => {
    const admin = adminAnswering([
      () => {
        throw kafkaError('UNKNOWN_TOPIC_OR_PARTITION');
      },
      () => ({ topics: [{ name: 'a', partitions: [partition(0, -1), partition(1, 1)] }] }),
      () => ({ topics: [{ name: 'a', partitions: [partition(0, 1), partition(1, 1)] }] }),
    ]);
    await waitForTopicLeaders(admin, ['a'], { timeoutMs: 5_000, initialDelayMs: 1 });
  });
  it('names the topics still without a leader when the bound is hit', async () => {
    const admin = adminAnswering([
      () => ({
        topics: [
          { name: 'a', partitions: [partition(0, 1)] },
          { name: 'b', partitions: [partition(0, -1), partition(1, -1)] },
        ],
      }),
    ]);
    await expect(waitForTopicLeaders(admin, ['a', 'b'], { timeoutMs: 30, initialDelayMs: 5 })).rejects.toThrow(
      /topics without a leader after 30 ms: b \(no leader for partition\(s\) 0, 1\)$/,
    );
  });
});
