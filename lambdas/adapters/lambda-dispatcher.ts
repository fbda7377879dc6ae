import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { DispatchReport } from '../core/campaigns/dispatch.ts';
import type { CampaignDispatcher, CampaignStarter } from '../core/campaigns/remote.ts';
import { BusyError, PressroomError } from '../core/errors.ts';

/** Options of {@link LambdaCampaignDispatcher}. */
export interface LambdaCampaignDispatcherOptions {
  /** `DispatchFunctionName` (or its ARN). */
  functionName: string;
  /** An SDK client to use (tests, another region); a default one is built otherwise. */
  client?: LambdaClient;
}

/** Dispatch could not be invoked, or it ran and failed (embargo, cancelled campaign...). */
export class DispatchFailedError extends PressroomError {
  override name = 'DispatchFailedError';
}

/**
 * Starts a campaign by invoking the stack's dispatch function and waiting for its answer
 * (`RequestResponse`): the answer is the dispatch report. A function error (the handler
 * threw) comes back as a 200 with `FunctionError` set and `{errorType, errorMessage}` as
 * the payload: it is raised with the function's own message. `start` invokes it asynchronously
 * (`Event`) instead: the web admin's function answers within 30 s, dispatch may take minutes.
 */
export class LambdaCampaignDispatcher implements CampaignDispatcher, CampaignStarter {
  readonly client: LambdaClient;

  constructor(private readonly options: LambdaCampaignDispatcherOptions) {
    this.client = options.client ?? new LambdaClient({});
  }

  /** Invokes dispatch with `{"campaign": name}` (and `resendUncertain`), as Scheduler does. */
  private async invoke(
    event: { campaign: string; resendUncertain?: true },
    type: 'RequestResponse' | 'Event',
  ): Promise<InvokeCommandOutput> {
    try {
      return await this.client.send(
        new InvokeCommand({
          FunctionName: this.options.functionName,
          InvocationType: type,
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      );
    } catch (error) {
      throw new DispatchFailedError(
        `cannot invoke the dispatch function ${this.options.functionName}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Hands the campaign to dispatch and returns once Lambda has queued the invocation (202).
   * Lambda retries a failed run twice, then the dispatch dead-letter queue keeps it.
   */
  async start(campaign: string): Promise<void> {
    await this.invoke({ campaign }, 'Event');
  }

  async dispatch(campaign: string, options: { resendUncertain?: boolean } = {}): Promise<DispatchReport> {
    const response = await this.invoke(
      { campaign, ...(options.resendUncertain && { resendUncertain: true as const }) },
      'RequestResponse',
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) {
      let reason = text;
      let type: string | undefined;
      try {
        const payload = JSON.parse(text) as { errorMessage?: string; errorType?: string };
        if (payload.errorMessage) reason = payload.errorMessage;
        type = payload.errorType;
      } catch {
        // Not JSON: the raw payload is the best description there is.
      }
      // Another run holds the campaign: busy (exit 3), not a failure.
      if (type === 'CampaignBusyError') throw new BusyError(reason);
      throw new DispatchFailedError(
        `dispatch of campaign "${campaign}" failed (${response.FunctionError}): ${reason || 'no message'}`,
      );
    }
    try {
      return JSON.parse(text) as DispatchReport;
    } catch (error) {
      throw new DispatchFailedError(
        `the dispatch function answered something that is not a report: ${JSON.stringify(text.slice(0, 200))}`,
        { cause: error },
      );
    }
  }
}
