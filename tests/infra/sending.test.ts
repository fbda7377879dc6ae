import { afterAll, describe, expect, it } from 'vitest';
import { maxSendRate } from '../../lib/config.ts';
import { recipientsPerMessage, sendingPlan } from '../../lib/sending-plan.ts';
import { logicalId, realSender, removeOutdirs, synth } from './stack.ts';

afterAll(removeOutdirs);

describe('the sending plan derived from the SES rate', () => {
  it.each([
    // sendRate, workers, workerRate, batchSize, timeout (s)
    [1, 2, 0.5, 1, 260],
    [14, 2, 7, 10, 204],
    [250, 25, 10, 10, 160],
    [5000, 100, 50, 10, 80],
  ])(
    'at %d messages/s: %d workers of %d/s, batches of %d messages, timeout %d s',
    (rate, workers, workerRate, batchSize, timeout) => {
      expect(sendingPlan(rate)).toMatchObject({
        workers,
        workerRate,
        batchSize,
        timeoutSeconds: timeout,
        visibilityTimeoutSeconds: 6 * timeout,
        recipientsPerMessage,
      });
    },
  );

  it('never exceeds the rate, always finishes a batch in time, and stays in Lambda and SQS limits', () => {
    const rates = [
      1,
      1.5,
      2,
      3,
      7,
      9.9,
      10,
      11,
      14,
      19,
      20,
      21,
      40,
      99,
      101,
      333,
      999,
      1000,
      1001,
      4321,
      maxSendRate,
    ];
    for (const rate of rates) {
      const plan = sendingPlan(rate);
      expect(plan.workers, `workers at ${rate}/s`).toBe(Math.min(100, Math.max(2, Math.ceil(rate / 10))));
      expect(plan.workers * plan.workerRate, `total rate at ${rate}/s`).toBeCloseTo(rate, 9);
      expect(plan.batchSize).toBeGreaterThanOrEqual(1);
      expect(plan.batchSize).toBeLessThanOrEqual(10);
      const sendingSeconds = (plan.batchSize * plan.recipientsPerMessage) / plan.workerRate;
      // Twice the time the batch takes at the worker rate, plus a minute, fits in the timeout.
      expect(2 * sendingSeconds + 60, `batch time at ${rate}/s`).toBeLessThanOrEqual(plan.timeoutSeconds);
      expect(plan.timeoutSeconds).toBeLessThanOrEqual(900);
      expect(plan.visibilityTimeoutSeconds).toBeLessThanOrEqual(43_200);
    }
  });
});

describe('the stack applies the plan', () => {
  it.each([1, 14, 250])(
    'at sendRate %d: no reserved concurrency, maxConcurrency, batch size, timeouts and worker rate',
    (rate) => {
      const plan = sendingPlan(rate);
      const t = synth({ ...realSender, sendRate: String(rate) }, { nag: false }).template;
      const send = logicalId(t, 'AWS::Lambda::Function', 'SendFunction');
      const queue = logicalId(t, 'AWS::SQS::Queue', 'SendingQueue');
      const f = t.findResources('AWS::Lambda::Function')[send]?.Properties;
      // A new account has 10 concurrent executions in all: reserving any fails the deploy.
      expect(f.ReservedConcurrentExecutions).toBeUndefined();
      expect(f.Timeout).toBe(plan.timeoutSeconds);
      expect(f.Environment.Variables.PRESSROOM_WORKER_RATE).toBe(String(plan.workerRate));
      // The account's rate is spread into the worker rate; send reads that one only.
      expect(f.Environment.Variables.PRESSROOM_SEND_RATE).toBeUndefined();
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: send },
        BatchSize: plan.batchSize,
        ScalingConfig: { MaximumConcurrency: plan.workers },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(t.findResources('AWS::SQS::Queue')[queue]?.Properties.VisibilityTimeout).toBe(
        plan.visibilityTimeoutSeconds,
      );
    },
  );

  it('reserves concurrency for send when reservedSendConcurrency asks for it, and only for send', () => {
    const t = synth({ ...realSender, sendRate: '14', reservedSendConcurrency: '5' }, { nag: false }).template;
    const functions = t.findResources('AWS::Lambda::Function');
    const send = logicalId(t, 'AWS::Lambda::Function', 'SendFunction');
    expect(functions[send]?.Properties.ReservedConcurrentExecutions).toBe(5);
    const reserved = Object.entries(functions)
      .filter(([, f]) => f.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id]) => id);
    expect(reserved).toEqual([send]);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
  });
});
